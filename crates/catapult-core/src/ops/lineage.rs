//! What a release holds, told from the release history alone: its own changelog range, and
//! everything the release it builds on holds. A release builds on the record before it in the
//! history (ranges are cut from the previous release's commit, whatever its number: the older
//! tool could write numbers that go down, or the same number twice); a rollback builds on the
//! newest earlier release of the commit it went back to, or, for a commit inside an earlier
//! release's range, on that part of the range and what that release builds on. So what a
//! rollback dropped and a later release brings back is in that later release's range again. A
//! rollback to a commit no release holds builds on something the history cannot name: what it
//! holds is unknown.

use std::collections::{HashMap, HashSet};

use super::summary::Summary;

/// What a release builds on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parent {
    /// Nothing: the first release.
    Nothing,
    /// The release at this index of [`Lineage::releases`].
    Release(usize),
    /// The commits of the release at `release` from position `from` of its `commits` (the
    /// commit gone back to and those below it in that range), and what that release builds on.
    Within {
        /// The release's index.
        release: usize,
        /// The position, in its `commits`, of the commit gone back to.
        from: usize,
    },
    /// Something the history cannot name.
    Unknown,
}

/// One step of a walk down what a release holds: a release's whole range, or part of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The release's index.
    pub release: usize,
    /// Where its part of the range starts in its `commits` (0: the whole range).
    pub from: usize,
}

/// An application's releases in the order of its history, oldest first, every record kept,
/// with what each builds on.
#[derive(Debug)]
pub struct Lineage<'a> {
    releases: Vec<&'a Summary>,
    parents: Vec<Parent>,
    /// Each number's newest record: the one a number names.
    by_number: HashMap<u64, usize>,
}

impl<'a> Lineage<'a> {
    /// The lineage of `history`, an application's release history newest first as a history
    /// lists it.
    pub fn of(history: &'a [Summary]) -> Self {
        let releases: Vec<&Summary> = history.iter().rev().collect();
        let mut parents = Vec::with_capacity(releases.len());
        let mut last_of_commit: HashMap<&str, usize> = HashMap::new();
        for (index, release) in releases.iter().enumerate() {
            let parent = if index == 0 {
                Parent::Nothing
            } else if release.rollback {
                match last_of_commit.get(release.commit.as_str()) {
                    Some(&earlier) => Parent::Release(earlier),
                    None => releases[..index]
                        .iter()
                        .enumerate()
                        .rev()
                        .find_map(|(earlier, summary)| {
                            let from = summary.commits.iter().position(|c| *c == release.commit)?;
                            Some(Parent::Within {
                                release: earlier,
                                from,
                            })
                        })
                        .unwrap_or(Parent::Unknown),
                }
            } else {
                Parent::Release(index - 1)
            };
            parents.push(parent);
            last_of_commit.insert(release.commit.as_str(), index);
        }
        let by_number = releases
            .iter()
            .enumerate()
            .map(|(index, release)| (release.version, index))
            .collect();
        Lineage {
            releases,
            parents,
            by_number,
        }
    }

    /// The releases, oldest first.
    pub fn releases(&self) -> &[&'a Summary] {
        &self.releases
    }

    /// What the release at `index` builds on.
    pub fn parent(&self, index: usize) -> Parent {
        self.parents[index]
    }

    /// The index of release `version` (its newest record), if the history holds it.
    pub fn index_of(&self, version: u64) -> Option<usize> {
        self.by_number.get(&version).copied()
    }

    /// The index of the release a deploy of `version` at `commit` deployed: the newest record
    /// with both (a number the older tool wrote twice names two commits), else the number's
    /// newest record.
    pub fn index_of_deployed(&self, version: u64, commit: &str) -> Option<usize> {
        self.releases
            .iter()
            .rposition(|release| release.version == version && release.commit == commit)
            .or_else(|| self.index_of(version))
    }

    /// The newest record, the one the history's latest release is.
    pub fn latest(&self) -> Option<&'a Summary> {
        self.releases.last().copied()
    }

    /// The steps down what the release at `index` holds, its own range first, and whether
    /// the history names everything it builds on (`false`: the walk ended at something it
    /// cannot name). Each step builds on the one after it, at a lower index.
    pub fn walk(&self, index: usize) -> (Vec<Step>, bool) {
        self.walk_until(index, |_| false)
    }

    /// The same walk, ended (as a whole one) before the first whole range `stop` says was
    /// taken already.
    pub fn walk_until(&self, index: usize, stop: impl Fn(usize) -> bool) -> (Vec<Step>, bool) {
        let mut steps = Vec::new();
        let mut next = Some(Step {
            release: index,
            from: 0,
        });
        while let Some(step) = next {
            if step.from == 0 && stop(step.release) {
                break;
            }
            steps.push(step);
            next = match self.parents[step.release] {
                Parent::Nothing => None,
                Parent::Release(parent) => Some(Step {
                    release: parent,
                    from: 0,
                }),
                Parent::Within { release, from } => Some(Step { release, from }),
                Parent::Unknown => return (steps, false),
            };
        }
        (steps, true)
    }

    /// The commits of `step`, newest first.
    pub fn commits(&self, step: Step) -> &'a [String] {
        let commits = &self.releases[step.release].commits;
        commits.get(step.from..).unwrap_or_default()
    }

    /// The releases whose ranges release `promoted` holds and release `runs` (none: nothing)
    /// does not, newest first: what deploying `promoted` where `runs` runs would ship. `None`
    /// when the history cannot tell (a release it does not hold, a rollback to a commit no
    /// release holds, or to one inside a release's range, which ships part of it).
    pub fn between(&self, runs: Option<u64>, promoted: u64) -> Option<Vec<&'a Summary>> {
        let held: HashSet<usize> = match runs {
            Some(runs) => {
                let (steps, whole) = self.walk(self.index_of(runs)?);
                if !whole || steps.iter().any(|step| step.from > 0) {
                    return None;
                }
                steps.iter().map(|step| step.release).collect()
            }
            None => HashSet::new(),
        };
        let (steps, whole) = self.walk(self.index_of(promoted)?);
        let mut ships = Vec::new();
        for step in steps {
            if held.contains(&step.release) {
                return Some(ships);
            }
            if step.from > 0 {
                return None;
            }
            ships.push(self.releases[step.release]);
        }
        whole.then_some(ships)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(version: u64, commit: &str, rollback: bool) -> Summary {
        Summary {
            version_id: format!("v{version}"),
            version,
            commit: commit.into(),
            time: None,
            rollback,
            commits: Vec::new(),
            commit_times: None,
            tickets: None,
            changelog: String::new(),
        }
    }

    #[test]
    fn every_record_builds_on_the_one_before_and_a_rollback_on_the_release_of_its_commit() {
        let mut history = vec![
            release(6, "y", true),
            release(5, "z", true),
            release(4, "a", true),
            release(3, "c", false),
            release(2, "b2", false),
            release(2, "b", false),
            release(1, "a", false),
        ];
        // Release 2's second record (the older tool's race) holds x and b2.
        history[4].commits = vec!["b2".into(), "x".into()];
        let lineage = Lineage::of(&history);
        let numbers: Vec<u64> = lineage.releases().iter().map(|r| r.version).collect();
        assert_eq!(numbers, [1, 2, 2, 3, 4, 5, 6]);
        assert_eq!(lineage.parent(0), Parent::Nothing);
        // Each record builds on the one before it, the second 2 on the first.
        assert_eq!(lineage.parent(2), Parent::Release(1));
        assert_eq!(lineage.parent(3), Parent::Release(2));
        // Release 4 goes back to commit a, whose newest release is 1.
        assert_eq!(lineage.parent(4), Parent::Release(0));
        // Release 5 goes back to a commit no release was cut from nor holds.
        assert_eq!(lineage.parent(5), Parent::Unknown);
        // A number names its newest record.
        assert_eq!(lineage.index_of(2), Some(2));
        assert_eq!(lineage.index_of(9), None);
        assert_eq!(lineage.latest().map(|r| r.version), Some(6));
        // Release 6 goes back to y, inside no range either; with y inside release 3's range,
        // it builds on the part of that range from y down.
        history[3].commits = vec!["c".into(), "y".into(), "w".into()];
        let lineage = Lineage::of(&history);
        assert_eq!(
            lineage.parent(6),
            Parent::Within {
                release: 3,
                from: 1
            }
        );
        let (steps, whole) = lineage.walk(6);
        assert!(whole);
        let walked: Vec<(usize, usize)> = steps.iter().map(|s| (s.release, s.from)).collect();
        assert_eq!(walked, [(6, 0), (3, 1), (2, 0), (1, 0), (0, 0)]);
        assert_eq!(lineage.commits(steps[1]), ["y".to_owned(), "w".to_owned()]);
    }

    #[test]
    fn numbers_that_go_down_are_records_like_any_other() {
        // 5, 7, then 3 on top, as the older tool's --version could write them.
        let history = [
            release(3, "c", false),
            release(7, "b", false),
            release(5, "a", false),
        ];
        let lineage = Lineage::of(&history);
        assert_eq!(lineage.index_of(3), Some(2));
        assert_eq!(lineage.parent(2), Parent::Release(1));
        assert_eq!(lineage.latest().map(|r| r.version), Some(3));
        let versions = |ships: Option<Vec<&Summary>>| {
            ships.map(|ships| ships.iter().map(|r| r.version).collect::<Vec<_>>())
        };
        assert_eq!(versions(lineage.between(Some(5), 3)), Some(vec![3, 7]));
    }

    #[test]
    fn a_promotion_ships_what_the_promoted_release_holds_and_the_target_does_not() {
        let history = [
            release(6, "f", false),
            release(5, "a", true),
            release(4, "d", false),
            release(3, "c", false),
            release(2, "b", false),
            release(1, "a", false),
        ];
        let lineage = Lineage::of(&history);
        let versions = |ships: Option<Vec<&Summary>>| {
            ships.map(|ships| ships.iter().map(|r| r.version).collect::<Vec<_>>())
        };
        assert_eq!(versions(lineage.between(Some(2), 4)), Some(vec![4, 3]));
        assert_eq!(versions(lineage.between(None, 2)), Some(vec![2, 1]));
        assert_eq!(versions(lineage.between(Some(4), 4)), Some(vec![]));
        // Release 6 builds on the rollback to release 1's commit: from 4, it ships 6 and 5.
        assert_eq!(versions(lineage.between(Some(4), 6)), Some(vec![6, 5]));
        // Promoting 2 where 4 runs ships nothing new (it would roll back).
        assert_eq!(versions(lineage.between(Some(4), 2)), Some(vec![]));
        assert_eq!(versions(lineage.between(Some(9), 2)), None);
    }
}
