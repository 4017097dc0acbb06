//! The board: every application's latest release and, per environment, the release it runs now
//! and how many releases behind the latest that is. Reading it is cheap because a record version
//! never changes: one listing per bucket (ListObjectsV2) gives each key's current ETag, a
//! [`RecordCache`] keyed by bucket, key and ETag answers what it has seen, and only the rest is
//! read, concurrently. Computing the rows from the records is a pure function, tested here;
//! which applications and environments are the rows and columns is [`columns`]'s.

use std::collections::{BTreeMap, HashMap};

use futures_util::StreamExt;

use crate::error::Result;
use crate::log::{Judgement, RecordLog, prove_versioned, record_of};
use crate::record::{AppName, EnvironmentName, Layout, Record, StoredRecord};
use crate::store::{BucketName, Location, RecordStore, StoreErrorKind};

mod columns;

pub use columns::{environments_in, projects_in, usual_stage, waiting_for};

/// How many records are read at once when the cache does not have them.
pub const CONCURRENT_READS: usize = 32;

/// Records already read, by where they live and the ETag of the version read, and the buckets
/// already shown to keep versions. A record is remembered only under its own version's ETag
/// (never under the ETag of an invalid version on top of it, which may recur), so an ETag that
/// recurs never answers for another record. An implementation that cannot read or write its
/// storage forgets quietly: a cache is never a reason to fail.
pub trait RecordCache {
    /// The record `at` held when its current version had `etag`.
    fn get(&self, at: &Location, etag: &str) -> Option<StoredRecord>;
    /// Remembers that `at`'s version with `etag` is `record`.
    fn put(&mut self, at: &Location, etag: &str, record: &StoredRecord);
    /// Whether `bucket` was shown to keep versions.
    fn versioned(&self, bucket: &BucketName) -> bool;
    /// Remembers that `bucket` was shown to keep versions.
    fn remember_versioned(&mut self, bucket: &BucketName);
}

/// A cache that remembers nothing.
#[derive(Debug, Default)]
pub struct NoCache;

impl RecordCache for NoCache {
    fn get(&self, _: &Location, _: &str) -> Option<StoredRecord> {
        None
    }
    fn put(&mut self, _: &Location, _: &str, _: &StoredRecord) {}
    fn versioned(&self, _: &BucketName) -> bool {
        false
    }
    fn remember_versioned(&mut self, _: &BucketName) {}
}

/// One application on the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// Its name.
    pub name: AppName,
    /// Its latest valid release, if any.
    pub latest: Option<StoredRecord>,
    /// Per environment, in the board's order, the deploy it runs now.
    pub deploys: Vec<(EnvironmentName, Option<StoredRecord>)>,
    /// What the environments the board's gates name, but that are not among its columns, run
    /// now: read to tell a release held at a gate (`status --env production` still knows
    /// whether staging has the latest release), never shown.
    pub gate_deploys: Vec<(EnvironmentName, Option<StoredRecord>)>,
}

/// Whether a row is an application's latest release or one environment's current deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// The latest release.
    Release,
    /// The deploy an environment runs now.
    Deploy,
}

/// One line of the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row<'a> {
    /// The application.
    pub name: &'a AppName,
    /// Release or deploy.
    pub kind: RowKind,
    /// The environment of a deploy row.
    pub environment: Option<&'a EnvironmentName>,
    /// The record; `None` for an environment the application was never deployed to.
    pub record: Option<&'a StoredRecord>,
    /// How many releases the deploy is behind the latest; 0 for the release row; `None` when
    /// either is missing.
    pub behind: Option<u64>,
}

/// How many releases `deployed` is behind `latest`: the difference of their numbers, 0 for a
/// deploy at or past the latest (histories the older tool wrote may number backwards).
pub fn behind(latest: &Record, deployed: &Record) -> u64 {
    latest.version.saturating_sub(deployed.version)
}

impl Project {
    /// The project's rows: its release, then one per environment.
    pub fn rows(&self) -> Vec<Row<'_>> {
        let mut rows = vec![Row {
            name: &self.name,
            kind: RowKind::Release,
            environment: None,
            record: self.latest.as_ref(),
            behind: self.latest.as_ref().map(|_| 0),
        }];
        for (environment, deployed) in &self.deploys {
            rows.push(Row {
                name: &self.name,
                kind: RowKind::Deploy,
                environment: Some(environment),
                record: deployed.as_ref(),
                behind: match (&self.latest, deployed) {
                    (Some(latest), Some(deployed)) => {
                        Some(behind(&latest.record, &deployed.record))
                    }
                    _ => None,
                },
            });
        }
        rows
    }
}

/// What a board read cost, for people who want to know.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BoardCost {
    /// ListObjectsV2 requests.
    pub listings: usize,
    /// Records the cache answered.
    pub cached: usize,
    /// Records read from the store.
    pub read: usize,
    /// Buckets shown to keep versions (once per bucket, then remembered).
    pub versioning_checks: usize,
}

/// The board as read: its applications, its environments (columns), and what it cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    /// The applications, sorted by name.
    pub projects: Vec<Project>,
    /// The environments, in column order.
    pub environments: Vec<EnvironmentName>,
    /// Each column's promotion gate (its `require_deployed_to`), in column order; empty for an
    /// environment the layout does not declare.
    pub gates: Vec<Vec<EnvironmentName>>,
    /// What reading it cost.
    pub cost: BoardCost,
    /// The ETag of each key the listings named, by bucket and key: what a history read asks
    /// its cache with.
    listed: HashMap<(BucketName, String), String>,
}

impl Board {
    /// The ETag of the current version of `at`, as the board's listing told it; `None` for a
    /// key that does not exist.
    pub fn etag(&self, at: &Location) -> Option<&str> {
        self.listed
            .get(&(at.bucket.clone(), at.key.to_string()))
            .map(String::as_str)
    }
}

impl Board {
    /// The environments `project`'s latest release waits for before it can be deployed to the
    /// environment of column `column` (see [`waiting_for`]).
    pub fn waiting_for(&self, project: &Project, column: usize) -> Vec<&EnvironmentName> {
        match (self.environments.get(column), self.gates.get(column)) {
            (Some(environment), Some(gate)) => waiting_for(project, environment, gate),
            _ => Vec::new(),
        }
    }
}

/// Reads the board of `layout`: one listing per bucket, then every current record the cache
/// does not hold, [`CONCURRENT_READS`] at a time. `environments` are the columns (`None`: see
/// [`environments_in`]); `keep` filters the applications by name.
pub async fn read_board<S: RecordStore>(
    store: &S,
    layout: &Layout,
    environments: Option<&[EnvironmentName]>,
    releases_only: bool,
    keep: impl Fn(&str) -> bool,
    cache: &mut impl RecordCache,
) -> Result<Board> {
    let mut cost = BoardCost::default();
    let buckets = layout.buckets();
    let listings: Vec<_> = futures_util::stream::iter(buckets.iter().copied())
        .map(|bucket| async move { (bucket, store.list_keys(bucket, "").await) })
        .buffered(CONCURRENT_READS)
        .collect()
        .await;
    let mut etags: HashMap<(BucketName, String), String> = HashMap::new();
    let mut release_keys = Vec::new();
    for (bucket, listing) in listings {
        cost.listings += 1;
        let listing = listing?;
        // A bucket not yet shown to keep versions is shown so once, by one of its keys: a store
        // without versions must never have its objects shown as records.
        let probe = listing
            .iter()
            .find_map(|listed| Location::parse(bucket, &listed.key).ok());
        if let Some(probe) = probe.filter(|_| !cache.versioned(bucket)) {
            prove_versioned(store, &probe).await?;
            cost.versioning_checks += 1;
            cache.remember_versioned(bucket);
        }
        for listed in &listing {
            etags.insert((bucket.clone(), listed.key.clone()), listed.etag.clone());
        }
        if *bucket == layout.releases_bucket {
            release_keys = listing;
        }
    }
    let environments: Vec<EnvironmentName> = match environments {
        Some(environments) => environments.to_vec(),
        None => environments_in(layout, &release_keys),
    };
    let environments = if releases_only {
        Vec::new()
    } else {
        environments
    };
    let names: Vec<AppName> = projects_in(layout, &release_keys)
        .into_iter()
        .filter(|name| keep(name))
        .collect();
    let gates: Vec<Vec<EnvironmentName>> = environments
        .iter()
        .map(|environment| {
            layout
                .environment_layout(environment)
                .map(|declared| {
                    declared
                        .require_deployed_to
                        .iter()
                        .map(|gate| gate.environment.clone())
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect();
    // The columns, then the gates' environments that are not columns (read, not shown).
    let mut read_environments = environments.clone();
    for gate in gates.iter().flatten() {
        if !read_environments.contains(gate) {
            read_environments.push(gate.clone());
        }
    }

    // Where each record of the board lives, in board order.
    let mut wanted: Vec<(usize, Option<usize>, Location)> = Vec::new();
    for (index, name) in names.iter().enumerate() {
        let app = layout.app(name);
        wanted.push((index, None, app.releases.clone()));
        if !releases_only {
            for (env_index, environment) in read_environments.iter().enumerate() {
                // A name too long to make a key of has no deploys to read.
                if let Ok(place) = layout.place(&app, environment) {
                    wanted.push((index, Some(env_index), place.deploys));
                }
            }
        }
    }
    let mut found: BTreeMap<(usize, Option<usize>), StoredRecord> = BTreeMap::new();
    let mut to_read = Vec::new();
    for (index, env_index, at) in wanted {
        let Some(etag) = etags.get(&(at.bucket.clone(), at.key.to_string())) else {
            continue;
        };
        match cache.get(&at, etag) {
            Some(record) => {
                cost.cached += 1;
                found.insert((index, env_index), record);
            }
            None => to_read.push((index, env_index, at)),
        }
    }
    cost.read = to_read.len();
    let read: Vec<_> = futures_util::stream::iter(to_read)
        .map(|(index, env_index, at)| async move {
            let record = current_record(store, &at).await;
            (index, env_index, at, record)
        })
        .buffer_unordered(CONCURRENT_READS)
        .collect()
        .await;
    for (index, env_index, at, record) in read {
        if let Some(current) = record? {
            // Cached under the ETag of the version it is, and only when it is the current
            // version itself.
            if let Some(own_etag) = &current.own_etag {
                cache.put(&at, own_etag, &current.record);
            }
            found.insert((index, env_index), current.record);
        }
    }

    let columns = environments.len();
    let projects: Vec<Project> = names
        .into_iter()
        .enumerate()
        .map(|(index, name)| {
            let mut deploys: Vec<(EnvironmentName, Option<StoredRecord>)> = read_environments
                .iter()
                .enumerate()
                .map(|(env_index, environment)| {
                    (environment.clone(), found.remove(&(index, Some(env_index))))
                })
                .collect();
            let gate_deploys = deploys.split_off(columns.min(deploys.len()));
            Project {
                latest: found.remove(&(index, None)),
                deploys,
                gate_deploys,
                name,
            }
        })
        .collect();
    Ok(Board {
        projects,
        environments,
        gates,
        cost,
        listed: etags,
    })
}

/// The newest valid record of a key, and its own ETag when it is the key's current version.
struct Current {
    record: StoredRecord,
    /// The ETag the record is stored under, when the record is the current version: `None` for
    /// a record found beneath an invalid current version, which is not cached.
    own_etag: Option<String>,
}

/// The newest valid record at `at`, reading the current version alone (one request) and
/// walking the history only when that version is not a valid record; `None` when the key has
/// no record.
async fn current_record<S: RecordStore>(store: &S, at: &Location) -> Result<Option<Current>> {
    let object = match store.get_current(at).await {
        Ok(object) => object,
        Err(err) if err.kind == StoreErrorKind::NoSuchVersion => return Ok(None),
        Err(err) => return Err(err.into()),
    };
    match record_of(&object, at) {
        Ok(record) => Ok(Some(Current {
            record,
            own_etag: object.etag,
        })),
        Err(err) => {
            tracing::warn!("skipping {err}");
            let latest = RecordLog::new(store, at)
                .find(None, |_| Judgement::Found)
                .await?;
            Ok(latest.map(|record| Current {
                record,
                own_etag: None,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::EnvironmentLayout;
    use crate::record::fixtures::{at, bucket, env};
    use crate::record::layout::GateSpec;
    use crate::store::ListedKey;
    use crate::store::Operation;
    use crate::store::Versioning;
    use crate::store::faults::FaultyStore;
    use crate::store::memory::MemoryStore;

    fn body(version: u64) -> Vec<u8> {
        format!(r#"{{"version": {version}, "commit": "c{version}", "author": "a@b"}}"#).into_bytes()
    }

    #[derive(Default)]
    struct MapCache(
        HashMap<(Location, String), StoredRecord>,
        std::collections::HashSet<BucketName>,
    );

    impl RecordCache for MapCache {
        fn get(&self, at: &Location, etag: &str) -> Option<StoredRecord> {
            self.0.get(&(at.clone(), etag.to_owned())).cloned()
        }
        fn put(&mut self, at: &Location, etag: &str, record: &StoredRecord) {
            self.0.insert((at.clone(), etag.to_owned()), record.clone());
        }
        fn versioned(&self, bucket: &BucketName) -> bool {
            self.1.contains(bucket)
        }
        fn remember_versioned(&mut self, bucket: &BucketName) {
            self.1.insert(bucket.clone());
        }
    }

    fn layout() -> Layout {
        Layout {
            releases_bucket: bucket("releases"),
            environments: vec![
                EnvironmentLayout {
                    name: env("staging"),
                    deploy_bucket: None,
                    deploy_key: None,
                    require_deployed_to: vec![],
                    require_approval: false,
                    freeze: vec![],
                },
                EnvironmentLayout {
                    name: env("production"),
                    deploy_bucket: Some(bucket("prod")),
                    deploy_key: None,
                    require_deployed_to: vec![],
                    require_approval: false,
                    freeze: vec![],
                },
            ],
        }
    }

    #[test]
    fn a_deploy_is_behind_by_the_difference_of_numbers_and_never_negative() {
        let record = |version| Record::parse(&body(version), None).unwrap();
        assert_eq!(behind(&record(7), &record(4)), 3);
        assert_eq!(behind(&record(7), &record(7)), 0);
        assert_eq!(behind(&record(3), &record(5)), 0);
    }

    #[tokio::test]
    async fn reads_each_record_once_then_only_lists() {
        let memory = MemoryStore::default();
        memory.create_bucket("releases", Versioning::Enabled);
        memory.create_bucket("prod", Versioning::Enabled);
        for version in 1..=5 {
            memory.put_unconditionally(&at("releases", "api"), &body(version));
        }
        memory.put_unconditionally(&at("releases", "web"), &body(1));
        memory.put_unconditionally(&at("releases", "deploys/staging/api"), &body(4));
        memory.put_unconditionally(&at("prod", "api"), &body(2));
        memory.put_unconditionally(&at("releases", "web"), b"not a record");
        let store = FaultyStore::new(memory, vec![]);
        let environments = vec![env("staging"), env("production")];
        let mut cache = MapCache::default();

        let Board { projects, cost, .. } = read_board(
            &store,
            &layout(),
            Some(&environments),
            false,
            |_| true,
            &mut cache,
        )
        .await
        .unwrap();
        assert_eq!(
            cost,
            BoardCost {
                listings: 2,
                cached: 0,
                read: 4,
                versioning_checks: 2
            }
        );
        let names: Vec<_> = projects
            .iter()
            .map(|project| project.name.as_str())
            .collect();
        assert_eq!(names, ["api", "web"]);
        let behind: Vec<_> = projects[0].rows().iter().map(|row| row.behind).collect();
        assert_eq!(behind, [Some(0), Some(1), Some(3)]);
        // web's current version is not a record: the valid one beneath it stands.
        assert_eq!(projects[1].latest.as_ref().unwrap().record.version, 1);
        assert_eq!(projects[1].rows()[1].behind, None);

        let gets = store.calls(Operation::GetCurrent);
        let Board {
            projects: again,
            cost,
            ..
        } = read_board(
            &store,
            &layout(),
            Some(&environments),
            false,
            |_| true,
            &mut cache,
        )
        .await
        .unwrap();
        assert_eq!(again, projects);
        // web's record lies beneath an invalid current version: it is read again, never
        // remembered under the invalid version's ETag.
        assert_eq!(
            cost,
            BoardCost {
                listings: 2,
                cached: 3,
                read: 1,
                versioning_checks: 0
            }
        );
        assert_eq!(store.calls(Operation::GetCurrent), gets + 1);

        store
            .inner()
            .put_unconditionally(&at("prod", "api"), &body(5));
        let Board {
            projects: fresh,
            cost,
            ..
        } = read_board(
            &store,
            &layout(),
            Some(&environments),
            false,
            |name| name == "api",
            &mut cache,
        )
        .await
        .unwrap();
        assert_eq!(
            cost,
            BoardCost {
                listings: 2,
                cached: 2,
                read: 1,
                versioning_checks: 0
            }
        );
        assert_eq!(fresh.len(), 1);
        assert_eq!(fresh[0].rows()[2].behind, Some(0));
    }

    #[tokio::test]
    async fn an_etag_that_recurs_never_brings_back_a_superseded_record() {
        let memory = MemoryStore::default();
        memory.create_bucket("releases", Versioning::Enabled);
        let api = at("releases", "api");
        memory.put_unconditionally(&api, &body(1));
        // An empty object put on top, by hand: the board shows release 1 beneath it.
        memory.put_unconditionally(&api, b"");
        let store = FaultyStore::new(memory, vec![]);
        let mut cache = MapCache::default();
        let layout = Layout {
            releases_bucket: bucket("releases"),
            environments: vec![],
        };
        let read = async |cache: &mut MapCache| {
            read_board(&store, &layout, None, true, |_| true, cache)
                .await
                .unwrap()
                .projects[0]
                .latest
                .as_ref()
                .unwrap()
                .record
                .version
        };
        assert_eq!(read(&mut cache).await, 1);
        // Releases 2 and 3, then the same empty object on top again: the same ETag as before.
        store.inner().put_unconditionally(&api, &body(2));
        store.inner().put_unconditionally(&api, &body(3));
        assert_eq!(read(&mut cache).await, 3);
        store.inner().put_unconditionally(&api, b"");
        assert_eq!(read(&mut cache).await, 3);
    }

    fn stored(version: u64) -> StoredRecord {
        StoredRecord {
            version_id: format!("v{version}"),
            last_modified: None,
            record: Record::parse(&body(version), None).unwrap(),
        }
    }

    #[test]
    fn a_release_held_at_a_gate_is_waiting_for_the_gates_environments() {
        let project = |staging: Option<u64>, production: Option<u64>| Project {
            name: crate::record::fixtures::name("api"),
            latest: Some(stored(7)),
            deploys: vec![
                (env("staging"), staging.map(stored)),
                (env("production"), production.map(stored)),
            ],
            gate_deploys: vec![],
        };
        let gate = [env("staging")];
        // Staging runs 6, production 5: 7 waits for staging before production.
        let held = project(Some(6), Some(5));
        assert_eq!(
            waiting_for(&held, &env("production"), &gate),
            [&env("staging")]
        );
        // Never deployed to staging: waiting too.
        assert_eq!(
            waiting_for(&project(None, None), &env("production"), &gate),
            [&env("staging")]
        );
        // Staging runs 7: ready to promote, not held; production runs 7: nothing to wait for.
        assert!(waiting_for(&project(Some(7), Some(5)), &env("production"), &gate).is_empty());
        assert!(waiting_for(&project(Some(6), Some(7)), &env("production"), &gate).is_empty());
        // No gate, or a gate environment that is not a column of the board: nothing to tell.
        assert!(waiting_for(&held, &env("production"), &[]).is_empty());
        assert!(waiting_for(&held, &env("production"), &[env("qa")]).is_empty());
        // The gate's environment read but not a column (`status --env production`).
        let mut production_only = held.clone();
        production_only.gate_deploys = production_only.deploys.drain(..1).collect();
        assert_eq!(
            waiting_for(&production_only, &env("production"), &gate),
            [&env("staging")]
        );
        // No release at all: nothing waits.
        let mut empty = held.clone();
        empty.latest = None;
        assert!(waiting_for(&empty, &env("production"), &gate).is_empty());
    }

    #[tokio::test]
    async fn a_board_of_one_environment_still_reads_its_gate() {
        let memory = MemoryStore::default();
        memory.create_bucket("releases", Versioning::Enabled);
        memory.create_bucket("prod", Versioning::Enabled);
        for version in 1..=3 {
            memory.put_unconditionally(&at("releases", "api"), &body(version));
        }
        memory.put_unconditionally(&at("releases", "deploys/staging/api"), &body(2));
        memory.put_unconditionally(&at("prod", "api"), &body(1));
        let mut layout = layout();
        layout.environments[1].require_deployed_to = vec![GateSpec {
            environment: env("staging"),
            soak: None,
        }];
        let only = [env("production")];
        let board = read_board(&memory, &layout, Some(&only), false, |_| true, &mut NoCache)
            .await
            .unwrap();
        assert_eq!(board.environments, only);
        let api = &board.projects[0];
        assert_eq!(api.deploys.len(), 1);
        assert_eq!(api.gate_deploys[0].0, env("staging"));
        assert_eq!(board.waiting_for(api, 0), [&env("staging")]);
        assert_eq!(board.cost.read, 3);
        // Releases alone: no deploy is read.
        let board = read_board(&memory, &layout, Some(&only), true, |_| true, &mut NoCache)
            .await
            .unwrap();
        assert!(board.projects[0].deploys.is_empty() && board.projects[0].gate_deploys.is_empty());
        assert_eq!(board.cost.read, 1);
    }

    #[test]
    fn environments_nobody_declared_follow_the_usual_stages() {
        let listed = |key: &str| ListedKey {
            key: key.into(),
            etag: "e".into(),
        };
        let keys = [
            listed("deploys/production/api"),
            listed("deploys/eu-west/api"),
            listed("deploys/staging/api"),
            listed("deploys/dev/api"),
            listed("deploys/prod-eu/api"),
            listed("deploys/qa/api"),
        ];
        let open = Layout {
            releases_bucket: bucket("releases"),
            environments: vec![],
        };
        assert_eq!(
            environments_in(&open, &keys),
            ["dev", "qa", "staging", "prod-eu", "production", "eu-west"]
        );
        assert_eq!(usual_stage("Production_EU"), 4);
        assert_eq!(usual_stage("blue"), 5);
    }

    #[test]
    fn declared_environments_come_in_promotion_order() {
        let mut layout = layout();
        // The file says production first; its gate puts staging before it.
        layout.environments.reverse();
        layout.environments[0].require_deployed_to = vec![GateSpec {
            environment: env("staging"),
            soak: None,
        }];
        assert_eq!(environments_in(&layout, &[]), ["staging", "production"]);
    }

    #[test]
    fn environments_are_the_layouts_then_those_found_at_the_default_layout() {
        let listed = |key: &str| ListedKey {
            key: key.into(),
            etag: "e".into(),
        };
        let keys = [
            listed("api"),
            listed("deploys/qa/api"),
            listed("deploys/staging/api"),
            listed("deploys/broken"),
        ];
        assert_eq!(
            environments_in(&layout(), &keys),
            ["staging", "production", "qa"]
        );
    }
}
