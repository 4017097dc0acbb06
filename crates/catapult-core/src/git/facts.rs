//! What a release keeps of each commit it brings besides its sha: when it was committed (for
//! lead time) and what its message says (for the tickets it mentions). Read from the checkout,
//! one commit object each, for the commits a changelog names.

use git2::Oid;
use jiff::Timestamp;

use super::{Checkout, Result, git_error, parse_full_sha};

/// One commit's time and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitFacts {
    /// When it was committed: its committer's time (when it landed where it is), which a
    /// rebase or a merge moves, unlike its author's.
    pub committed: Timestamp,
    /// Its whole message, subject and body (invalid UTF-8 replaced).
    pub message: String,
}

impl Checkout {
    /// The facts of each commit of `shas` (full shas of this checkout), in their order.
    pub fn commit_facts(&self, shas: &[String]) -> Result<Vec<CommitFacts>> {
        shas.iter()
            .map(|sha| {
                let oid = parse_full_sha(sha).unwrap_or(Oid::ZERO_SHA1);
                let commit = self
                    .repo
                    .find_commit(oid)
                    .map_err(|err| git_error(format!("cannot read commit {sha}"), err))?;
                let seconds = commit.committer().when().seconds();
                Ok(CommitFacts {
                    committed: Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH),
                    message: String::from_utf8_lossy(commit.message_bytes()).into_owned(),
                })
            })
            .collect()
    }
}
