//! Rollbacks that stick. A rollback deploy to an environment holds it at the release rolled
//! back to: deploy records carry the hold forward (`held_at`) for as long as it lasts, and an
//! automated deploy of a newer release is refused until a person deploys by hand or clears the
//! hold (`catapult release-hold NAME ENV --clear`), which writes a clearing on the environment's
//! holds key (`holds/<env>/<name>`) naming the deploy whose hold it lifts.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::Entry;

/// The key of `name`'s hold clearings for `environment`, in the release bucket.
pub fn holds_key(environment: &str, name: &str) -> String {
    format!("{HOLDS_PREFIX}{environment}/{name}")
}

/// The prefix of every holds key.
pub const HOLDS_PREFIX: &str = "holds/";

/// A hold lifted by a person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldCleared {
    /// The environment.
    pub environment: String,
    /// The release it was held at.
    pub held_at: u64,
    /// The S3 version id of the deploy record that carried the hold when it was cleared.
    pub deploy_version_id: String,
    /// Who cleared it.
    pub by: String,
    /// Why, if they said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When, RFC 3339.
    pub timestamp: String,
    /// The id of the write that stored it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_id: Option<String>,
}

impl Entry for HoldCleared {
    fn parse(body: &[u8], _: Option<Timestamp>) -> Result<Self, String> {
        serde_json::from_slice(body).map_err(|err| format!("not a hold clearing: {err}"))
    }

    fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("a hold clearing always serializes")
    }

    fn set_write_id(&mut self, write_id: String) {
        self.write_id = Some(write_id);
    }

    fn release_number(&self) -> u64 {
        self.held_at
    }
}
