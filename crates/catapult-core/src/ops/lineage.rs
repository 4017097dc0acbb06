//! What a release holds, told from the release history alone: its own changelog range, and
//! everything the release it builds on holds. A release builds on the release before it; a
//! rollback builds on the newest earlier release of the commit it went back to. Ranges are cut
//! from the previous release's commit, so what a rollback dropped and a later release brings
//! back is in that later release's range again. A rollback to a commit no release was cut from
//! builds on something the history cannot name: what it holds is unknown.

use std::collections::{HashMap, HashSet};

use super::summary::Summary;

/// What a release builds on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parent {
    /// Nothing: the first release.
    Nothing,
    /// The release at this index of [`Lineage::releases`].
    Release(usize),
    /// Something the history cannot name.
    Unknown,
}

/// An application's releases, oldest first and each number once, with what each builds on.
#[derive(Debug)]
pub struct Lineage<'a> {
    releases: Vec<&'a Summary>,
    parents: Vec<Parent>,
    by_number: HashMap<u64, usize>,
}

impl<'a> Lineage<'a> {
    /// The lineage of `history`, an application's release history newest first as a history
    /// lists it. A second copy of a release (a broken store's duplicate) is the same release,
    /// and a number below one already seen (the older tool could write one) is left out.
    pub fn of(history: &'a [Summary]) -> Self {
        let mut releases: Vec<&Summary> = Vec::with_capacity(history.len());
        for release in history.iter().rev() {
            if releases
                .last()
                .is_none_or(|last| last.version < release.version)
            {
                releases.push(release);
            }
        }
        let mut parents = Vec::with_capacity(releases.len());
        let mut last_of_commit: HashMap<&str, usize> = HashMap::new();
        for (index, release) in releases.iter().enumerate() {
            let parent = if index == 0 {
                Parent::Nothing
            } else if release.rollback {
                last_of_commit
                    .get(release.commit.as_str())
                    .map_or(Parent::Unknown, |&earlier| Parent::Release(earlier))
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

    /// The index of release `version`, if the history holds it.
    pub fn index_of(&self, version: u64) -> Option<usize> {
        self.by_number.get(&version).copied()
    }

    /// The releases whose ranges release `promoted` holds and release `runs` (none: nothing)
    /// does not, newest first: what deploying `promoted` where `runs` runs would ship. `None`
    /// when the history cannot tell (a release it does not hold, a rollback to a commit no
    /// release was cut from).
    pub fn between(&self, runs: Option<u64>, promoted: u64) -> Option<Vec<&'a Summary>> {
        let mut held = HashSet::new();
        if let Some(runs) = runs {
            let mut next = Some(self.index_of(runs)?);
            while let Some(index) = next {
                held.insert(index);
                next = self.next_up(index)?;
            }
        }
        let mut ships = Vec::new();
        let mut next = Some(self.index_of(promoted)?);
        while let Some(index) = next.filter(|index| !held.contains(index)) {
            ships.push(self.releases[index]);
            next = self.next_up(index)?;
        }
        Some(ships)
    }

    /// The release the one at `index` builds on: `Some(None)` for none, `None` when unknown.
    fn next_up(&self, index: usize) -> Option<Option<usize>> {
        match self.parent(index) {
            Parent::Nothing => Some(None),
            Parent::Release(parent) => Some(Some(parent)),
            Parent::Unknown => None,
        }
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
    fn a_rollback_builds_on_the_newest_release_of_its_commit() {
        let history = [
            release(5, "z", true),
            release(4, "a", true),
            release(3, "c", false),
            release(2, "a", false),
            release(2, "a", false),
            release(1, "a", false),
        ];
        let lineage = Lineage::of(&history);
        let numbers: Vec<u64> = lineage.releases().iter().map(|r| r.version).collect();
        assert_eq!(numbers, [1, 2, 3, 4, 5]);
        assert_eq!(lineage.parent(0), Parent::Nothing);
        assert_eq!(lineage.parent(2), Parent::Release(1));
        // Release 4 goes back to commit a, whose newest release is 2.
        assert_eq!(lineage.parent(3), Parent::Release(1));
        assert_eq!(lineage.parent(4), Parent::Unknown);
        assert_eq!(lineage.index_of(3), Some(2));
        assert_eq!(lineage.index_of(9), None);
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
