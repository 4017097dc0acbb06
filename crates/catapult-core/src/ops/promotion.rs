//! What promoting one environment's release to another would ship: the releases (and so the
//! commits) between the release the target runs and the one the source runs, or that the two are
//! the same, or that the target is ahead. `catapult diff` shows it in a terminal; the board can
//! show it beside each environment.

use super::lineage::Lineage;
use super::summary::{BoardHistories, HistoryCache, HistoryKind, Summary};
use crate::error::Result;
use crate::log::{Judgement, RecordLog};
use crate::record::{App, EnvironmentName, Layout, StoredRecord};
use crate::store::{Location, RecordStore};

/// How the target of a promotion stands to its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromotionStatus {
    /// The target runs an older release, or none: promoting ships the releases between.
    Ships,
    /// Both run the same release: nothing to ship.
    Same,
    /// The target runs a newer release: promoting would roll it back.
    Ahead,
}

impl PromotionStatus {
    /// How the target of a promotion from release `from` stands, running release `to` (or none).
    pub fn of(from: u64, to: Option<u64>) -> Self {
        match to {
            Some(to) if to == from => PromotionStatus::Same,
            Some(to) if to > from => PromotionStatus::Ahead,
            _ => PromotionStatus::Ships,
        }
    }

    /// `ships`, `same` or `ahead`, as JSON says it.
    pub fn as_str(self) -> &'static str {
        match self {
            PromotionStatus::Ships => "ships",
            PromotionStatus::Same => "same",
            PromotionStatus::Ahead => "ahead",
        }
    }
}

/// A promotion, as read from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promotion {
    /// The deploy the source environment runs now.
    pub from: StoredRecord,
    /// The deploy the target environment runs now, if any.
    pub to: Option<StoredRecord>,
    /// How the target stands.
    pub status: PromotionStatus,
    /// The releases promoting would ship, newest first; empty unless it ships.
    pub releases: Vec<StoredRecord>,
}

impl Promotion {
    /// Every commit the releases it ships hold, newest first.
    pub fn commits(&self) -> impl Iterator<Item = &str> {
        self.releases
            .iter()
            .flat_map(|stored| stored.record.commits.iter().map(String::as_str))
    }
}

/// What promoting the release `from` runs (its deploy records at that place) to `to` would ship;
/// `None` when `from` has never been deployed to, so nothing can be promoted.
pub async fn promotion<S: RecordStore>(
    store: &S,
    app: &App,
    from: &Location,
    to: &Location,
) -> Result<Option<Promotion>> {
    let Some(source) = current(store, from).await? else {
        return Ok(None);
    };
    let target = current(store, to).await?;
    let status = PromotionStatus::of(
        source.record.version,
        target.as_ref().map(|stored| stored.record.version),
    );
    let releases = match status {
        PromotionStatus::Ships => {
            let after = target.as_ref().map_or(0, |stored| stored.record.version);
            releases_between(store, app, after, source.record.version).await?
        }
        PromotionStatus::Same | PromotionStatus::Ahead => Vec::new(),
    };
    Ok(Some(Promotion {
        from: source,
        to: target,
        status,
        releases,
    }))
}

/// The newest valid record at `at`.
async fn current<S: RecordStore>(store: &S, at: &Location) -> Result<Option<StoredRecord>> {
    Ok(RecordLog::new(store, at)
        .records(Some(1))
        .await?
        .into_iter()
        .next())
}

/// The releases of `app` numbered in `(after, up_to]`, newest first: what deploying release
/// `up_to` where release `after` runs would ship.
pub async fn releases_between<S: RecordStore>(
    store: &S,
    app: &App,
    after: u64,
    up_to: u64,
) -> Result<Vec<StoredRecord>> {
    let mut releases: Vec<StoredRecord> = Vec::new();
    RecordLog::new(store, &app.releases)
        .find(None, |stored| {
            let version = stored.record.version;
            if version <= after {
                return Judgement::GiveUp;
            }
            // The newest record with a number is the one (older histories may repeat numbers).
            if version <= up_to && !releases.iter().any(|seen| seen.record.version == version) {
                releases.push(stored.clone());
            }
            Judgement::Continue
        })
        .await?;
    Ok(releases)
}

/// What promoting an environment's upstream to it would ship, on the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipment {
    /// The application's row on the board.
    pub row: usize,
    /// The environment's column.
    pub column: usize,
    /// The upstream environment.
    pub from: EnvironmentName,
    /// The release it runs.
    pub promoted: u64,
    /// The release the environment runs, if any.
    pub runs: Option<u64>,
    /// The releases it would ship, newest first; `None` when the history cannot tell.
    pub releases: Option<Vec<Summary>>,
}

impl Shipment {
    /// Every ticket of the releases it ships, sorted, each once.
    pub fn tickets(&self) -> Vec<&str> {
        let mut tickets: Vec<&str> = self
            .releases
            .iter()
            .flatten()
            .flat_map(|release| release.tickets.iter().flatten().map(String::as_str))
            .collect();
        tickets.sort_unstable();
        tickets.dedup();
        tickets
    }
}

/// What promoting each environment's upstream to it would ship, per application and column
/// of the board whose upstream (the first environment of its gate that is a column, else the
/// column before it) runs a newer release: from each application's release history, read
/// only where some column ships.
pub async fn board_shipments<S: RecordStore, C: HistoryCache>(
    layout: &Layout,
    histories: &mut BoardHistories<'_, S, C>,
) -> Result<Vec<Shipment>> {
    let board = histories.board();
    let mut all = Vec::new();
    for (row, project) in board.projects.iter().enumerate() {
        let app = layout.app(&project.name);
        let mut history: Option<Vec<Summary>> = None;
        for (column, (_, deployed)) in project.deploys.iter().enumerate() {
            let gate_column = board.gates.get(column).and_then(|gate| {
                gate.iter()
                    .find_map(|upstream| board.environments.iter().position(|c| c == upstream))
            });
            let Some(upstream) = gate_column.or(column.checked_sub(1)) else {
                continue;
            };
            let Some((from, Some(upstream_deploy))) = project.deploys.get(upstream) else {
                continue;
            };
            let runs = deployed.as_ref().map(|stored| stored.record.version);
            let promoted = upstream_deploy.record.version;
            if runs.is_some_and(|runs| runs >= promoted) {
                continue;
            }
            if history.is_none() {
                history = Some(histories.read(&app.releases, HistoryKind::Releases).await?);
            }
            let lineage = Lineage::of(history.as_deref().unwrap_or_default());
            all.push(Shipment {
                row,
                column,
                from: from.clone(),
                promoted,
                runs,
                releases: lineage
                    .between(runs, promoted)
                    .map(|ships| ships.into_iter().cloned().collect()),
            });
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_behind_ships_the_same_is_nothing_and_ahead_would_roll_back() {
        assert_eq!(PromotionStatus::of(3, None), PromotionStatus::Ships);
        assert_eq!(PromotionStatus::of(3, Some(2)), PromotionStatus::Ships);
        assert_eq!(PromotionStatus::of(3, Some(3)), PromotionStatus::Same);
        assert_eq!(PromotionStatus::of(3, Some(4)), PromotionStatus::Ahead);
    }
}
