//! How a new commit stands to the previous release's: the same, a descendant, not a descendant
//! (a rollback), or something the checkout cannot tell (a shallow clone that stops before the
//! previous commit). A shallow history never passes for a rollback: it is told apart from one.

use git2::Oid;

use super::{Checkout, Commit, parse_full_sha, shallow_reason, short_sha};

/// How a new commit stands to the previous release's commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relation {
    /// The new commit is the previous one.
    Same,
    /// The new commit descends from the previous one: a release going forward.
    Descendant,
    /// The previous commit is not an ancestor of the new one: a rollback (or a release from a
    /// branch that diverged).
    NotDescendant,
    /// The checkout cannot tell: the previous commit is not in it (a shallow clone), its history
    /// stops before reaching it, or the previous sha is malformed.
    PreviousMissing {
        /// Why, in a phrase fit for a warning: "the previous release's commit 1234567 is not in
        /// this checkout (a shallow clone?)".
        reason: String,
    },
}

impl Checkout {
    /// How `new` stands to `previous`, the previous release's commit (a full sha). This never
    /// fails: whatever keeps the checkout from telling (`previous` absent or malformed, a
    /// shallow history that stops before it, a broken object) is
    /// [`Relation::PreviousMissing`] with the reason.
    pub fn relation(&self, previous: &str, new: &Commit) -> Relation {
        let missing = |reason| Relation::PreviousMissing { reason };
        let previous_oid = match self.find_previous(previous) {
            Ok(oid) => oid,
            Err(reason) => return missing(reason),
        };
        let new_oid = match self.commit_oid(new) {
            Ok(oid) => oid,
            Err(e) => return missing(e.to_string()),
        };
        if previous_oid == new_oid {
            return Relation::Same;
        }
        match self.repo.graph_descendant_of(new_oid, previous_oid) {
            Ok(true) => Relation::Descendant,
            // A shallow history that stops before `previous` cannot tell a rollback from a
            // history it does not hold.
            Ok(false) => match self.range_hits_shallow_boundary(previous_oid, new_oid) {
                Ok(false) => Relation::NotDescendant,
                Ok(true) => missing(shallow_reason(previous)),
                Err(e) => missing(cannot_relate_reason(previous, &new.sha, &e)),
            },
            Err(e) => missing(cannot_relate_reason(previous, &new.sha, &e)),
        }
    }

    /// Whether the commit `sha` includes the commit `wanted` (is it, or descends from it); `None`
    /// when the checkout cannot tell (either is not in it, or is not a full sha).
    pub fn includes(&self, sha: &str, wanted: &str) -> Option<bool> {
        let commit = parse_full_sha(sha)?;
        let wanted = parse_full_sha(wanted)?;
        self.repo.find_commit(commit).ok()?;
        self.repo.find_commit(wanted).ok()?;
        if commit == wanted {
            return Some(true);
        }
        self.repo.graph_descendant_of(commit, wanted).ok()
    }

    /// Whether the walk over `(previous, new]` reaches a commit whose parents this shallow
    /// clone lacks, so that the range may be missing commits.
    fn range_hits_shallow_boundary(&self, previous: Oid, new: Oid) -> Result<bool, git2::Error> {
        let roots = self.shallow_roots();
        if roots.is_empty() {
            return Ok(false);
        }
        for oid in self.walk(Some(previous), new)? {
            if roots.contains(&oid?) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Why the checkout cannot tell how `new` relates to `previous`.
fn cannot_relate_reason(previous: &str, new: &str, e: &git2::Error) -> String {
    format!(
        "cannot tell whether {} descends from the previous release's commit {}: {}",
        short_sha(new),
        short_sha(previous),
        e.message()
    )
}
