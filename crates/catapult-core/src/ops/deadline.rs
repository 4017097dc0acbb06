//! The bound on a whole step: every request included, a step ends within [`STEP_DEADLINE`], so
//! that a store that accepts connections and never answers fails it in bounded time, with an
//! error naming the store; and a store that kept answering, too slowly for a long walk, is told
//! apart from it by what it answered.
//!
//! A Concourse step has its whole deadline. A person's read at a terminal ([`while_answering`])
//! may go on as long as the store keeps answering (a first read of a year of histories takes
//! minutes, and the person sees it and can stop it); it fails only when the store falls silent
//! for as long as the deadline.

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

/// Runs `step`, which is `doing` something, against `store` for as long as the store keeps
/// answering: it fails only when no answer comes for [`STEP_DEADLINE`], saying what the step was
/// doing and how far it got, or that the store did not answer at all.
pub async fn while_answering<S: RecordStore, T>(
    store: &Tallied<S>,
    doing: &str,
    step: impl Future<Output = Result<T>>,
) -> Result<T> {
    until_silent(STEP_DEADLINE, store, doing, step).await
}

/// How often [`until_silent`] looks whether the store answered.
const SILENCE_CHECK: Duration = Duration::from_secs(1);

async fn until_silent<S: RecordStore, T>(
    silence: Duration,
    store: &Tallied<S>,
    doing: &str,
    step: impl Future<Output = Result<T>>,
) -> Result<T> {
    let mut step = std::pin::pin!(step);
    let mut answered = store.progress().answered;
    let mut last_answer = tokio::time::Instant::now();
    loop {
        match tokio::time::timeout(SILENCE_CHECK, &mut step).await {
            Ok(result) => return result,
            Err(_) => {
                let now_answered = store.progress().answered;
                if now_answered != answered {
                    answered = now_answered;
                    last_answer = tokio::time::Instant::now();
                } else if last_answer.elapsed() >= silence {
                    let progress = store.progress();
                    return Err(if progress.answered == 0 {
                        Error::Deadline {
                            store: store.name().to_owned(),
                            seconds: silence.as_secs(),
                        }
                    } else {
                        Error::FellSilent {
                            doing: doing.to_owned(),
                            store: store.name().to_owned(),
                            seconds: silence.as_secs(),
                            progress,
                        }
                    });
                }
            }
        }
    }
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
    async fn a_read_at_a_terminal_goes_on_while_the_store_answers() {
        // Every read takes a second: 500 of them, 8 at a time, outlast a whole step's deadline
        // but no silence.
        let slow = Fault::every(
            Operation::GetVersion,
            1,
            FaultKind::Slow(Duration::from_secs(1)),
        );
        let store = store(vec![slow], 500);
        let app = at("releases", "app");
        let started = tokio::time::Instant::now();
        let records = while_answering(
            &store,
            "reading the history of s3://releases/app",
            RecordLog::new(&store, &app).records(None),
        )
        .await
        .unwrap();
        assert_eq!(records.len(), 500);
        assert!(started.elapsed() > STEP_DEADLINE, "{:?}", started.elapsed());
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_at_a_terminal_ends_when_the_store_falls_silent() {
        // The 30th read never comes back: the read ends a deadline after the last answer.
        let never = Fault::on(
            Operation::GetVersion,
            30,
            FaultKind::Slow(Duration::from_secs(3600)),
        );
        let store = store(vec![never], 200);
        let app = at("releases", "app");
        let started = tokio::time::Instant::now();
        let error = while_answering(
            &store,
            "reading the history of s3://releases/app",
            RecordLog::new(&store, &app).records(None),
        )
        .await
        .unwrap_err()
        .to_string();
        let progress = store.progress();
        assert_eq!(
            error,
            format!(
                "no answer from the in-memory store for 55 s while reading the history of s3://releases/app, after {} requests answered ({} versions listed, {} records read): gave up (is the endpoint still up?)",
                progress.answered, progress.versions_listed, progress.bodies_read
            )
        );
        let elapsed = started.elapsed();
        assert!(
            elapsed >= STEP_DEADLINE && elapsed < STEP_DEADLINE + Duration::from_secs(3),
            "{elapsed:?}"
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
