//! The files the command line keeps in the XDG cache directory (`$XDG_CACHE_HOME/catapult`, or
//! `~/.cache/catapult`): the board's records, keyed by store, bucket, key and ETag (a record
//! version never changes, so an entry never goes stale, it is only superseded); the whole
//! histories `tickets` and `metrics` read, as summaries, a file per store and key
//! (`histories-v1/<store>/<key>.json`, names hashed), read when a command asks for that key;
//! and the MFA session. A cache that cannot be read or written is ignored with a
//! warning, never an error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use catapult_core::ops::board::RecordCache;
use catapult_core::ops::summary::{CachedHistory, HistoryCache};
use catapult_core::record::{Record, StoredRecord};
use catapult_core::store::{BucketName, Location};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The board cache's file name; the version changes with its shape or its meaning (v1 could
/// hold a record under the ETag of an invalid version on top of it, so it is not read).
const RECORDS_FILE: &str = "records-v2.json";

/// The cache directory, if the environment names a home for it.
pub fn directory() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|home| !home.is_empty())
                .map(|home| PathBuf::from(home).join(".cache"))
        })?;
    Some(base.join("catapult"))
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Entries {
    /// By `store`, `bucket` and `key`, each on its own line.
    entries: BTreeMap<String, Entry>,
    /// `store` and `bucket`, each on its own line, of the buckets shown to keep versions.
    #[serde(default)]
    versioned: BTreeSet<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    etag: String,
    version_id: String,
    last_modified: Option<String>,
    record: serde_json::Value,
}

/// The directory of the histories, one file per key; the version changes with their shape or
/// meaning.
const HISTORIES_DIR: &str = "histories-v1";

/// The board's records on disk, for one store, and the directory of its histories.
#[derive(Debug)]
pub struct FileCache {
    path: Option<PathBuf>,
    store: String,
    entries: Entries,
    changed: bool,
    histories: Option<PathBuf>,
}

/// One key's history on disk: where it is from, and what was read.
#[derive(Debug, Serialize, Deserialize)]
struct HistoryFile {
    store: String,
    bucket: String,
    key: String,
    #[serde(flatten)]
    history: CachedHistory,
}

/// A stable 64-bit FNV-1a hash, for file names that must not change between builds.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Reads a JSON file of the cache: what it holds, or the default when it is absent or cannot
/// be read (said in a warning).
fn read_json<T: Default + serde::de::DeserializeOwned>(path: &Path) -> T {
    match std::fs::File::open(path) {
        Ok(file) => serde_json::from_reader(std::io::BufReader::new(file)).unwrap_or_else(|err| {
            tracing::warn!("ignoring the cache {}: {err}", path.display());
            T::default()
        }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => T::default(),
        Err(err) => {
            tracing::warn!("ignoring the cache {}: {err}", path.display());
            T::default()
        }
    }
}

/// Writes a JSON file of the cache beside and renames it, so that a reader never sees half a
/// file; a failure is a warning.
fn write_json(path: &Path, value: &impl Serialize) {
    let written = (|| -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let bytes = serde_json::to_vec(value).map_err(std::io::Error::other)?;
        let temporary = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&temporary, bytes)?;
        std::fs::rename(&temporary, path)
    })();
    if let Err(err) = written {
        tracing::warn!("cannot write the cache {}: {err}", path.display());
    }
}

impl FileCache {
    /// The cache of `store` in `directory` (none: a cache that remembers nothing).
    pub fn open(directory: Option<&Path>, store: &str) -> Self {
        let path = directory.map(|dir| dir.join(RECORDS_FILE));
        let entries = path.as_deref().map(read_json).unwrap_or_default();
        FileCache {
            path,
            store: store.to_owned(),
            entries,
            changed: false,
            histories: directory.map(|dir| {
                dir.join(HISTORIES_DIR)
                    .join(format!("{:016x}", fnv1a(store)))
            }),
        }
    }

    fn key(&self, at: &Location) -> String {
        format!("{}\n{}\n{}", self.store, at.bucket, at.key)
    }

    /// Writes the cache back if it changed; a failure is a warning.
    pub fn save(&self) {
        if let Some(path) = self.path.as_ref().filter(|_| self.changed) {
            write_json(path, &self.entries);
        }
    }

    /// The file of `at`'s history.
    fn history_path(&self, at: &Location) -> Option<PathBuf> {
        let dir = self.histories.as_ref()?;
        let name = fnv1a(&format!("{}\n{}", at.bucket, at.key));
        Some(dir.join(format!("{name:016x}.json")))
    }
}

impl HistoryCache for FileCache {
    fn history(&mut self, at: &Location) -> Option<CachedHistory> {
        let path = self.history_path(at)?;
        let file: Option<HistoryFile> = read_json(&path);
        // Two keys (or stores) whose names hash alike: the file is the other's.
        file.filter(|file| {
            file.store == self.store
                && file.bucket == at.bucket.as_str()
                && file.key == at.key.as_str()
        })
        .map(|file| file.history)
    }

    fn remember_history(&mut self, at: &Location, history: &CachedHistory) {
        if let Some(path) = self.history_path(at) {
            write_json(
                &path,
                &HistoryFileRef {
                    store: &self.store,
                    bucket: at.bucket.as_str(),
                    key: at.key.as_str(),
                    history,
                },
            );
        }
    }
}

/// A [`HistoryFile`] to write, borrowed.
#[derive(Serialize)]
struct HistoryFileRef<'a> {
    store: &'a str,
    bucket: &'a str,
    key: &'a str,
    #[serde(flatten)]
    history: &'a CachedHistory,
}

impl RecordCache for FileCache {
    fn versioned(&self, bucket: &BucketName) -> bool {
        self.entries
            .versioned
            .contains(&format!("{}\n{bucket}", self.store))
    }

    fn remember_versioned(&mut self, bucket: &BucketName) {
        self.entries
            .versioned
            .insert(format!("{}\n{bucket}", self.store));
        self.changed = true;
    }

    fn get(&self, at: &Location, etag: &str) -> Option<StoredRecord> {
        let entry = self.entries.entries.get(&self.key(at))?;
        if entry.etag != etag {
            return None;
        }
        let last_modified = entry
            .last_modified
            .as_deref()
            .and_then(|text| text.parse::<Timestamp>().ok());
        let body = serde_json::to_vec(&entry.record).ok()?;
        let record = Record::parse(&body, last_modified).ok()?;
        Some(StoredRecord {
            version_id: entry.version_id.clone(),
            last_modified,
            record,
        })
    }

    fn put(&mut self, at: &Location, etag: &str, record: &StoredRecord) {
        let Ok(value) = serde_json::to_value(&record.record) else {
            return;
        };
        let key = self.key(at);
        self.entries.entries.insert(
            key,
            Entry {
                etag: etag.to_owned(),
                version_id: record.version_id.clone(),
                last_modified: record.last_modified.map(|time| time.to_string()),
                record: value,
            },
        );
        self.changed = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_a_record_by_its_etag_across_runs() {
        let dir = tempfile::tempdir().unwrap();
        let at = Location::parse("releases", "api").unwrap();
        let record =
            Record::parse(br#"{"version": 3, "commit": "abc", "author": null}"#, None).unwrap();
        let stored = StoredRecord {
            version_id: "v3".into(),
            last_modified: Some("2026-11-21T10:00:00Z".parse().unwrap()),
            record,
        };
        let mut cache = FileCache::open(Some(dir.path()), "store");
        cache.put(&at, "\"e3\"", &stored);
        cache.save();
        let cache = FileCache::open(Some(dir.path()), "store");
        assert_eq!(cache.get(&at, "\"e3\""), Some(stored));
        assert_eq!(cache.get(&at, "\"e4\""), None);
        assert_eq!(
            FileCache::open(Some(dir.path()), "other").get(&at, "\"e3\""),
            None
        );
    }

    #[test]
    fn remembers_each_history_in_a_file_of_its_own_across_runs() {
        use catapult_core::ops::summary::Summary;
        let dir = tempfile::tempdir().unwrap();
        let api = Location::parse("releases", "api").unwrap();
        let web = Location::parse("releases", "web").unwrap();
        let history = CachedHistory {
            etag: "\"e1\"".into(),
            summaries: vec![Summary {
                version_id: "v1".into(),
                version: 1,
                commit: "c".repeat(40),
                time: Some(1_790_000_000),
                rollback: false,
                commits: vec!["c".repeat(40)],
                commit_times: Some(vec![1_789_999_000]),
                tickets: Some(vec!["OPS-1".into()]),
                changelog: "ccccccc  2026-09-21  Dev  OPS-1: a change".into(),
            }],
        };
        FileCache::open(Some(dir.path()), "store").remember_history(&api, &history);
        let mut cache = FileCache::open(Some(dir.path()), "store");
        assert_eq!(cache.history(&api), Some(history.clone()));
        assert_eq!(cache.history(&web), None);
        assert_eq!(
            FileCache::open(Some(dir.path()), "other").history(&api),
            None
        );
        // A file that names another key (two names hashing alike) answers nothing.
        let path = cache.history_path(&api).unwrap();
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("\"api\"", "\"apj\"");
        std::fs::write(&path, text).unwrap();
        assert_eq!(cache.history(&api), None);
        std::fs::write(&path, "{not json").unwrap();
        assert_eq!(cache.history(&api), None);
    }

    #[test]
    fn a_corrupt_cache_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(RECORDS_FILE), "not json").unwrap();
        let cache = FileCache::open(Some(dir.path()), "store");
        assert_eq!(cache.get(&Location::parse("b", "k").unwrap(), "e"), None);
    }
}
