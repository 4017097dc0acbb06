//! Questions people ask of a history: does this release (or deploy) include my commit, which
//! release first shipped it, and which releases a promotion would ship. The checkout answers
//! where it holds the commits; the records' own `commits` lists answer where it does not; and
//! where neither can tell, the answer says so rather than guess.

use crate::error::Result;
use crate::git::Checkout;
use crate::log::{Judgement, RecordLog};
use crate::record::App;
use crate::record::{Record, StoredRecord};
use crate::store::RecordStore;

/// Whether a record includes a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contains {
    /// It does.
    Yes,
    /// It does not.
    No,
    /// Neither the checkout nor the record can tell.
    Unknown,
}

impl Contains {
    /// `Y`, `N` or `?`, as the board and `history --contains` show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Contains::Yes => "Y",
            Contains::No => "N",
            Contains::Unknown => "?",
        }
    }
}

/// Whether `record` includes the commit `wanted` (a full sha): its own commit or one of its
/// `commits` does, or the checkout knows its commit descends from `wanted`.
pub fn contains(checkout: Option<&Checkout>, record: &Record, wanted: &str) -> Contains {
    if record.commit == wanted || record.commits.iter().any(|sha| sha == wanted) {
        return Contains::Yes;
    }
    match checkout.and_then(|checkout| checkout.includes(&record.commit, wanted)) {
        Some(true) => Contains::Yes,
        Some(false) => Contains::No,
        None => Contains::Unknown,
    }
}

/// The first release of `app` that includes `wanted`: the release whose changelog lists it, or
/// else the oldest of the newest releases that include it. `None` when the latest release does
/// not include it (nothing has shipped it yet) or no release can be shown to.
pub async fn first_release_containing<S: RecordStore>(
    store: &S,
    app: &App,
    checkout: Option<&Checkout>,
    wanted: &str,
) -> Result<Option<StoredRecord>> {
    let mut candidate: Option<StoredRecord> = None;
    let found = RecordLog::new(store, &app.releases)
        .find(None, |stored| {
            let record = &stored.record;
            if record.commit == wanted || record.commits.iter().any(|sha| sha == wanted) {
                return Judgement::Found;
            }
            match contains(checkout, record, wanted) {
                Contains::Yes => {
                    candidate = Some(stored.clone());
                    Judgement::Continue
                }
                Contains::No => Judgement::GiveUp,
                Contains::Unknown if candidate.is_some() => Judgement::GiveUp,
                Contains::Unknown => Judgement::Continue,
            }
        })
        .await?;
    Ok(found.or(candidate))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::fixtures::{self, at};
    use crate::store::Versioning;
    use crate::store::memory::MemoryStore;

    fn sha(n: u64) -> String {
        format!("{n:040x}")
    }

    fn release(store: &MemoryStore, version: u64, commits: &[u64]) {
        let commits: Vec<String> = commits.iter().map(|n| sha(*n)).collect();
        let body = serde_json::json!({
            "version": version, "commit": commits[0], "author": "a@b", "commits": commits,
        });
        store.put_unconditionally(&at("releases", "api"), body.to_string().as_bytes());
    }

    fn app() -> App {
        fixtures::app("api", "releases")
    }

    #[tokio::test]
    async fn finds_the_release_whose_changelog_lists_a_commit() {
        let store = MemoryStore::default();
        store.create_bucket("releases", Versioning::Enabled);
        release(&store, 1, &[2, 1]);
        release(&store, 2, &[4, 3]);
        release(&store, 3, &[6, 5]);
        let found = first_release_containing(&store, &app(), None, &sha(3))
            .await
            .unwrap();
        assert_eq!(found.unwrap().record.version, 2);
        let none = first_release_containing(&store, &app(), None, &sha(9))
            .await
            .unwrap();
        assert_eq!(none, None);
        let between = crate::ops::promotion::releases_between(&store, &app(), 1, 3)
            .await
            .unwrap();
        let versions: Vec<_> = between.iter().map(|r| r.record.version).collect();
        assert_eq!(versions, [3, 2]);
    }

    #[test]
    fn a_record_without_a_checkout_tells_only_what_it_lists() {
        let record = Record::parse(
            format!(
                r#"{{"version": 1, "commit": "{}", "author": "a", "commits": ["{}"]}}"#,
                sha(2),
                sha(1)
            )
            .as_bytes(),
            None,
        )
        .unwrap();
        assert_eq!(contains(None, &record, &sha(1)), Contains::Yes);
        assert_eq!(contains(None, &record, &sha(2)), Contains::Yes);
        assert_eq!(contains(None, &record, &sha(3)), Contains::Unknown);
    }
}
