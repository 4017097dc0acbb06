//! The bound on a whole step: every request included, a step ends within [`STEP_DEADLINE`], so
//! that a store that accepts connections and never answers fails it in bounded time, with an
//! error naming the store; and a store that kept answering, too slowly for a long walk, is told
//! apart from it by what it answered.

use std::future::Future;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::store::RecordStore;
use crate::store::tally::Tallied;

/// The longest a whole step may take, every request included.
pub const STEP_DEADLINE: Duration = Duration::from_secs(55);

/// Runs `step` against `store` within [`STEP_DEADLINE`]. When it runs out, the error says what
/// the step was `doing` and how far it got, or that the store did not answer at all.
pub async fn within_deadline<S: RecordStore, T>(
    store: &Tallied<S>,
    doing: &str,
    step: impl Future<Output = Result<T>>,
) -> Result<T> {
    within(STEP_DEADLINE, store, doing, step).await
}

async fn within<S: RecordStore, T>(
    deadline: Duration,
    store: &Tallied<S>,
    doing: &str,
    step: impl Future<Output = Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(deadline, step).await {
        Ok(result) => result,
        Err(_) => {
            let progress = store.progress();
            Err(if progress.answered == 0 {
                Error::Deadline {
                    store: store.name().to_owned(),
                    seconds: deadline.as_secs(),
                }
            } else {
                Error::DeadlineExceeded {
                    doing: doing.to_owned(),
                    store: store.name().to_owned(),
                    seconds: deadline.as_secs(),
                    progress,
                }
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{Judgement, RecordLog};
    use crate::record::Record;
    use crate::record::fixtures::at;
    use crate::store::faults::{Fault, FaultKind, FaultyStore};
    use crate::store::memory::MemoryStore;
    use crate::store::{Operation, Versioning};

    fn store(faults: Vec<Fault>, versions: u64) -> Tallied<FaultyStore<MemoryStore>> {
        let memory = MemoryStore::default();
        memory.create_bucket("releases", Versioning::Enabled);
        for version in 1..=versions {
            let record = Record {
                version,
                commit: format!("{version:0>40}"),
                author: Some("a@b".into()),
                ..Record::default()
            };
            memory.put_unconditionally(&at("releases", "app"), &record.to_json());
        }
        Tallied::new(FaultyStore::new(memory, faults))
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_store_that_runs_out_the_deadline_is_told_from_a_dead_one() {
        // Every read takes a second: a lookup of release 1 over 10,000 versions cannot finish.
        let slow = Fault::every(
            Operation::GetVersion,
            1,
            FaultKind::Slow(Duration::from_secs(1)),
        );
        let store = store(vec![slow], 10_000);
        let app = at("releases", "app");
        let log = RecordLog::new(&store, &app);
        let lookup = log.find(None, |stored| {
            if stored.record.version == 1 {
                Judgement::Found
            } else {
                Judgement::Continue
            }
        });
        let error = within_deadline(&store, "looking for release 1 in s3://releases/app", lookup)
            .await
            .unwrap_err()
            .to_string();
        let progress = store.progress();
        assert!(progress.bodies_read > 100, "{progress:?}");
        assert_eq!(
            error,
            format!(
                "the step ran out of its 55 s deadline while looking for release 1 in s3://releases/app: the in-memory store kept answering ({} requests answered, {} versions listed, {} records read), but not fast enough to finish",
                progress.answered, progress.versions_listed, progress.bodies_read
            )
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_store_that_never_answers_is_said_not_to_have_answered() {
        let never = Fault::every(
            Operation::ListVersions,
            1,
            FaultKind::Slow(Duration::from_secs(3600)),
        );
        let store = store(vec![never], 3);
        let app = at("releases", "app");
        let error = within_deadline(&store, "checking", RecordLog::new(&store, &app).head())
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "no answer from the in-memory store within 55 s: gave up (is the endpoint right, and up?)"
        );
    }
}
