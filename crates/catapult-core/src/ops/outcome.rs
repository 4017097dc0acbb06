//! What release and deploy share: what an operation did ([`Outcome`]), whether it writes or only
//! shows ([`Mode`]), appending a decision to a log or showing it for a dry run
//! ([`write_or_show`]), and the one value computed per previous record across retries
//! ([`Memo`]), so that a changelog is not computed again when a retry sees the same head.

use crate::error::Result;
use crate::log::{Appended, Decision, Head, RecordLog};
use crate::record::{Record, StoredRecord};
use crate::store::RecordStore;

use super::rules::Verdict;

/// `action_type` of records a pipeline wrote.
pub const AUTOMATED: &str = "automated";
/// `action_type` of records a person wrote with the command line.
pub const MANUAL: &str = "manual";

/// What an operation did, or would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The record written, found, or that would be written.
    pub record: Record,
    /// Its S3 version id; `None` for a dry run's record, which is not written.
    pub version_id: Option<String>,
    /// Whether this call wrote it.
    pub written: bool,
    /// Deploys: what each rule of the environment said (a dry run reports them all).
    pub rules: Vec<Verdict>,
}

impl Outcome {
    /// What was found and kept: `stored`, not written by this call.
    pub fn found(stored: &StoredRecord) -> Self {
        Outcome {
            record: stored.record.clone(),
            version_id: Some(stored.version_id.clone()),
            written: false,
            rules: Vec::new(),
        }
    }

    /// What an append did.
    pub fn from_append(appended: Appended<Outcome>) -> Self {
        match appended {
            Appended::Kept(outcome) => outcome,
            Appended::Written(stored) => Outcome {
                record: stored.record,
                version_id: Some(stored.version_id),
                written: true,
                rules: Vec::new(),
            },
        }
    }
}

/// Whether to write, or only show what would be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Write the record.
    Write,
    /// Compute the record and write nothing.
    DryRun,
}

/// Appends what `decide` makes of the head of `log`, or, for a dry run, shows it without
/// writing.
pub async fn write_or_show<S: RecordStore>(
    log: &RecordLog<'_, S>,
    mode: Mode,
    mut decide: impl AsyncFnMut(&Head) -> Result<Decision<Outcome>>,
) -> Result<Outcome> {
    if mode == Mode::Write {
        return Ok(Outcome::from_append(log.append(decide).await?));
    }
    let head = log.head().await?;
    Ok(match decide(&head).await? {
        Decision::Keep(outcome) => outcome,
        Decision::Write(record) => Outcome {
            record,
            version_id: None,
            written: false,
            rules: Vec::new(),
        },
    })
}

/// One value computed per key, kept across retries that see the same previous record.
pub struct Memo<K, V> {
    entry: Option<(K, V)>,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo { entry: None }
    }
}

impl<K: PartialEq, V> Memo<K, V> {
    /// The value for `key`: the one kept when `key` is the key it was computed for, else
    /// `compute`'s, kept in its place.
    pub fn get_or_try(&mut self, key: K, compute: impl FnOnce() -> Result<V>) -> Result<&V> {
        if self.entry.as_ref().is_none_or(|(held, _)| *held != key) {
            self.entry = Some((key, compute()?));
        }
        Ok(&self.entry.as_ref().expect("filled above").1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_once_per_key() {
        let mut memo = Memo::default();
        let mut calls = 0;
        for key in [1, 1, 2, 2, 1] {
            memo.get_or_try(key, || {
                calls += 1;
                Ok(key * 10)
            })
            .unwrap();
        }
        assert_eq!(calls, 3);
    }
}
