//! Waiting and trying again: a read that met a transient fault is tried again a bounded number of
//! times; racing writers wait a random while below a cap that doubles, so that they spread out
//! instead of colliding again; and each write attempt gets a random id of its own.

use std::time::Duration;

use jiff::Timestamp;

use super::MAX_WRITE_ATTEMPTS;
use crate::store::{Location, StoreError};

/// How many times a version is read before the step gives up on it.
pub(super) const READ_ATTEMPTS: u32 = 5;

/// The waits between attempts: random below a cap that doubles from the base to the largest.
const BACKOFF_BASE: Duration = Duration::from_millis(20);
const BACKOFF_LARGEST: Duration = Duration::from_secs(1);

/// Runs a read, trying it again after a transient fault, a bounded number of times.
pub(super) async fn retry_transient<T>(
    mut read: impl AsyncFnMut() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut attempt = 1;
    loop {
        match read().await {
            Err(err) if err.is_transient() && attempt < READ_ATTEMPTS => {
                tracing::warn!("{err}; trying again (attempt {attempt} of {READ_ATTEMPTS})");
                tokio::time::sleep(random_below(backoff_cap(attempt))).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// Waits before reading version `version_id` of `at` again for attempt `attempt`, saying why.
pub(super) async fn wait_before_reading_again(
    at: &Location,
    version_id: &str,
    why: &str,
    attempt: u32,
) {
    tracing::warn!(
        "reading version {version_id:?} of {at} again (attempt {attempt} of {READ_ATTEMPTS}): {why}"
    );
    tokio::time::sleep(random_below(backoff_cap(attempt))).await;
}

/// A new random write id: 128 bits, in hex.
pub(super) fn new_write_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No system randomness: the clock and the process id are unique enough per attempt.
        let nanos = Timestamp::now().as_nanosecond();
        bytes = (nanos ^ (i128::from(std::process::id()) << 96)).to_le_bytes();
    }
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Waits a random while below a cap that doubles with each attempt, so that racing writers
/// spread out instead of colliding again.
pub(super) async fn wait_before_retry(at: &Location, attempt: u32) {
    let wait = random_below(backoff_cap(attempt));
    tracing::info!(
        "writing to {at} again in {} ms (attempt {} of {MAX_WRITE_ATTEMPTS})",
        wait.as_millis(),
        attempt + 1
    );
    tokio::time::sleep(wait).await;
}

/// A random wait below `cap`, so that callers that met the same fault do not stay in step.
fn random_below(cap: Duration) -> Duration {
    let mut random = [0u8; 8];
    let _ = getrandom::fill(&mut random);
    let cap = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX).max(1);
    Duration::from_millis(u64::from_le_bytes(random) % cap)
}

/// The longest wait after `attempt`: the base, doubled per attempt, up to the largest.
pub(super) fn backoff_cap(attempt: u32) -> Duration {
    (BACKOFF_BASE * 2u32.pow(attempt.min(6))).min(BACKOFF_LARGEST)
}
