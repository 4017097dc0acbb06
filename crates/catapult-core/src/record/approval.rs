//! An approval: a person's word that a release may be deployed to an environment whose
//! `require_approval` asks for one, kept as one version of the environment's approvals key
//! (`approvals/<env>/<name>`), written by the record log's exactly-once conditional append. IAM
//! on that key decides who may approve; the record also keeps the AWS identity that wrote it.
//! An approval is trusted only as catapult writes it: its write id in its body and in the
//! object's metadata alike.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::Entry;

/// The key of `name`'s approvals for `environment`, in the release bucket.
pub fn approvals_key(environment: &str, name: &str) -> String {
    format!("{APPROVALS_PREFIX}{environment}/{name}")
}

/// The prefix of every approvals key.
pub const APPROVALS_PREFIX: &str = "approvals/";

/// One approval.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The release approved.
    pub version: u64,
    /// Its commit, so that an approval names one release even in a history whose numbers repeat.
    pub commit: String,
    /// The environment it may be deployed to.
    pub environment: String,
    /// Who approved: an email address, as a release's author is named.
    pub approver: String,
    /// Why, if they said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When, RFC 3339.
    pub timestamp: String,
    /// The AWS identity whose credentials wrote it (STS GetCallerIdentity's ARN), where they
    /// could ask.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_identity: Option<String>,
    /// The id of the write that stored it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_id: Option<String>,
}

impl Approval {
    /// Whether it approves release `version` at `commit`.
    pub fn approves(&self, version: u64, commit: &str, environment: &str) -> bool {
        self.version == version && self.commit == commit && self.environment == environment
    }

    /// Whether the approver is `person` (an email address, compared without case).
    pub fn is_by(&self, person: &str) -> bool {
        self.approver.eq_ignore_ascii_case(person)
    }
}

impl Entry for Approval {
    fn parse(body: &[u8], _: Option<Timestamp>) -> Result<Self, String> {
        let approval: Approval =
            serde_json::from_slice(body).map_err(|err| format!("not an approval: {err}"))?;
        if approval.version == 0 || approval.approver.trim().is_empty() {
            return Err("it names no release or no approver".into());
        }
        Ok(approval)
    }

    fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("an approval always serializes")
    }

    fn set_write_id(&mut self, write_id: String) {
        self.write_id = Some(write_id);
    }

    fn release_number(&self) -> u64 {
        self.version
    }

    fn check_written_by_catapult(&self, metadata_write_id: Option<&str>) -> Result<(), String> {
        match (self.write_id.as_deref(), metadata_write_id) {
            (Some(body), Some(metadata)) if body == metadata => Ok(()),
            _ => Err(
                "it was not written by catapult (its write id and its object's metadata differ): an approval is trusted only as catapult writes it".into(),
            ),
        }
    }
}
