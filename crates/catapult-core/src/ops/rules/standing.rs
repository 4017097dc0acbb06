//! What the rules say on the board, for people to see before they deploy: which environments
//! are frozen (a window of the configuration, or a freeze set by hand), which are held after a
//! rollback, and which latest releases wait for an approval they do not have yet. Read with the
//! same functions the deploy's checks use, and only where a rule applies and its key exists (as
//! the board's listing of the release bucket tells): a board without freezes, holds or
//! approvals costs no request more.

use jiff::Timestamp;

use super::{approval, freeze, hold};
use crate::error::Result;
use crate::ops::board::Board;
use crate::record::Layout;
use crate::store::RecordStore;

/// What the rules say of one application in one environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CellStanding {
    /// The release the environment is held at after a rollback, when a hold is in force.
    pub held_at: Option<u64>,
    /// The latest release, when the environment requires an approval it does not have.
    pub awaiting_approval: Option<u64>,
}

/// What the rules say on a board.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    /// Per column, what freezes the environment now, if anything.
    pub frozen: Vec<Option<String>>,
    /// Per application, per column.
    pub cells: Vec<Vec<CellStanding>>,
}

/// What the rules say on `board`, at `now` (the store's).
pub async fn standing<S: RecordStore>(
    store: &S,
    layout: &Layout,
    board: &Board,
    now: Timestamp,
) -> Result<Standing> {
    let mut frozen = Vec::with_capacity(board.environments.len());
    for environment in &board.environments {
        let windows = layout
            .environment_layout(environment)
            .map(|declared| declared.freeze.clone())
            .unwrap_or_default();
        let set_by_hand = layout
            .freezes(environment)
            .ok()
            .filter(|at| board.etag(at).is_some());
        frozen.push(match set_by_hand {
            Some(at) => freeze::frozen_at(store, &at, &windows, now).await?,
            None => freeze::frozen_at_windows(&windows, now),
        });
    }
    let mut cells = Vec::with_capacity(board.projects.len());
    for project in &board.projects {
        let app = layout.app(&project.name);
        let mut row = Vec::with_capacity(project.deploys.len());
        for (environment, deployed) in &project.deploys {
            let mut cell = CellStanding::default();
            if let Some(held_at) = deployed.as_ref().and_then(|d| d.record.held_at) {
                // Without a clearing key, nothing cleared it.
                let cleared_somewhere = app
                    .holds(environment)
                    .is_ok_and(|at| board.etag(&at).is_some());
                cell.held_at = if cleared_somewhere {
                    hold::in_force(store, &app, environment, deployed.as_ref())
                        .await?
                        .map(|hold| hold.at)
                } else {
                    Some(held_at)
                };
            }
            let requires = layout
                .environment_layout(environment)
                .is_some_and(|declared| declared.require_approval);
            let newer = project.latest.as_ref().filter(|latest| {
                deployed
                    .as_ref()
                    .is_none_or(|deployed| deployed.record.version < latest.record.version)
            });
            if let (true, Some(latest)) = (requires, newer) {
                let any_approval = app
                    .approvals(environment)
                    .is_ok_and(|at| board.etag(&at).is_some());
                let mut checks = super::Checks::default();
                if any_approval {
                    approval::check(store, &app, environment, latest, &mut checks).await?;
                }
                if checks.approved_by.is_none() {
                    cell.awaiting_approval = Some(latest.record.version);
                }
            }
            row.push(cell);
        }
        cells.push(row);
    }
    Ok(Standing { frozen, cells })
}
