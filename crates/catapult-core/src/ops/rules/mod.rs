//! The rules a deploy meets before it is written, each kept here once so that `out` and
//! `catapult deploy` meet the same ones: the promotion gate and its soak time ([`gate`]), an
//! approval by someone other than the release's author ([`approval`]), freeze windows and
//! ad-hoc freezes ([`freeze`]), and rollbacks that stick ([`hold`]). Each gives a [`Verdict`];
//! a deploy is refused at the first rule that fails, with one line naming the rule and what
//! would satisfy it, and a dry run reports every verdict; the board shows what they say now
//! ([`standing`]). The rules that read time read the
//! store's: S3's LastModified of each record, and the `Date` of its latest answer.

use jiff::Timestamp;

use crate::error::Error;
use crate::store::RecordStore;

pub mod approval;
pub mod freeze;
pub mod gate;
pub mod hold;
pub mod standing;

/// What one rule said of a deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The rule: `require_deployed_to`, `require_approval`, `freeze`, `hold`.
    pub rule: &'static str,
    /// Whether the deploy meets it.
    pub passed: bool,
    /// Why, in a phrase: what satisfied it, or the refusal's line.
    pub said: String,
}

/// The verdicts of the rules a deploy was checked against, and what the record keeps of them.
#[derive(Debug, Default)]
pub struct Checks {
    /// Every verdict, in the order the rules were asked.
    pub verdicts: Vec<Verdict>,
    /// The first refusal, as the error a deploy fails with.
    pub refusal: Option<Error>,
    /// Who approved the release, when an approval was required and found.
    pub approved_by: Option<String>,
    /// The freeze window or freeze a deploy overrode, described.
    pub overrode_freeze: Option<String>,
}

impl Checks {
    /// Adds `rule`'s verdict: a pass saying why, or a refusal.
    pub fn add(&mut self, rule: &'static str, verdict: Result<String, Error>) {
        match verdict {
            Ok(said) => self.verdicts.push(Verdict {
                rule,
                passed: true,
                said,
            }),
            Err(refusal) => {
                self.verdicts.push(Verdict {
                    rule,
                    passed: false,
                    said: refusal.to_string(),
                });
                self.refusal.get_or_insert(refusal);
            }
        }
    }

    /// Adds the verdicts and the refusal of `other`, asked after these.
    pub fn extend(&mut self, other: Checks) {
        self.verdicts.extend(other.verdicts);
        if let Some(refusal) = other.refusal {
            self.refusal.get_or_insert(refusal);
        }
        self.approved_by = self.approved_by.take().or(other.approved_by);
        self.overrode_freeze = self.overrode_freeze.take().or(other.overrode_freeze);
    }
}

/// The time now, as the store says it (the `Date` of its latest answer), or the machine's when
/// it has not said.
pub fn store_now<S: RecordStore>(store: &S) -> Timestamp {
    store.clock().unwrap_or_else(Timestamp::now)
}

#[cfg(test)]
mod tests;
