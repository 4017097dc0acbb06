//! The bound on a whole step: every request included, a step ends within [`STEP_DEADLINE`], so
//! that a store that accepts connections and never answers fails it in bounded time, with an
//! error naming the store.

use std::future::Future;
use std::time::Duration;

use crate::error::{Error, Result};

/// The longest a whole step may take, every request included.
pub const STEP_DEADLINE: Duration = Duration::from_secs(55);

/// Runs `step` against `store` (its name, for the error) within [`STEP_DEADLINE`].
pub async fn within_deadline<T>(store: &str, step: impl Future<Output = Result<T>>) -> Result<T> {
    match tokio::time::timeout(STEP_DEADLINE, step).await {
        Ok(result) => result,
        Err(_) => Err(Error::Deadline {
            store: store.to_owned(),
            seconds: STEP_DEADLINE.as_secs(),
        }),
    }
}
