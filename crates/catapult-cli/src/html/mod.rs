//! The board as one self-contained HTML page: a grid of applications by environments, in
//! promotion order, each cell coloured by how far behind the latest release it is, a release
//! held at a gate marked in the cell of the environment it waits to reach, a legend for every
//! colour, what the promotion rules say (a freeze, a hold, a release awaiting approval), each
//! cell's delivery metrics and what promoting to it would ship ([`questions`]), and the latest
//! changelog lines at hand in a `<details>`. On a narrow screen each
//! application becomes a card of its cells, each labelled with its environment. Styles are
//! inline, nothing is fetched from the network, no script is needed to read it, and it prints.
//! The template is maud's, checked at compile time and escaped by default, so a record's text
//! can never become markup.

use catapult_core::ops::board::{Board, Project};
use catapult_core::ops::contains::Contains;
use catapult_core::ops::metrics::{AppMetrics, Metrics, Window};
use catapult_core::ops::promotion::Shipment;
use catapult_core::ops::rules::standing::Standing;
use catapult_core::record::{AppName, EnvironmentName, StoredRecord, format_timestamp};
use jiff::Timestamp;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::output::age;

mod questions;

use questions::{anchor, metrics_lines, shipments};

/// How many changelog lines a cell shows.
const CHANGELOG_LINES: usize = 12;

const STYLE: &str = r#"
:root { color-scheme: light; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 24px; color: #1f2328; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; }
p.meta { color: #59636e; margin: 0 0 12px; }
table { border-collapse: separate; border-spacing: 6px; }
th { text-align: left; font-weight: 600; padding: 4px 8px; color: #59636e; }
th.app { font-size: 15px; color: #1f2328; white-space: nowrap; }
td { vertical-align: top; padding: 8px 10px; border-radius: 6px; min-width: 150px; border: 1px solid transparent; }
td .version { font-size: 18px; font-weight: 700; }
td .behind { font-weight: 600; }
td .who, td .when { color: #3d444d; font-size: 12px; }
td code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; }
.release { background: #eef4ff; border-color: #c6d8fb; }
.current { background: #dafbe1; border-color: #a6e3b4; }
.behind1 { background: #fff8c5; border-color: #eed888; }
.behind3 { background: #ffe2c2; border-color: #f5b87a; }
.behind6 { background: #ffd6d6; border-color: #f09a9a; }
.none { background: #f6f8fa; border-color: #e1e4e8; color: #8c959f; }
.held { display: inline-block; margin: 4px 0 2px; padding: 1px 6px; border: 1px dashed #8250df; border-radius: 4px; background: #fbefff; color: #6639ba; font-size: 12px; font-weight: 600; }
.rollback { color: #b3261e; font-weight: 700; }
.hold, .approval, .frozen { display: inline-block; margin: 4px 0 2px; padding: 1px 6px; border-radius: 4px; font-size: 12px; font-weight: 600; }
.hold { border: 1px solid #cf222e; background: #ffebe9; color: #a40e26; }
.approval { border: 1px solid #9a6700; background: #fff8c5; color: #7d4e00; }
.frozen { border: 1px solid #0969da; background: #ddf4ff; color: #0550ae; }
p.frozen-note { margin: 0 0 8px; font-size: 13px; }
ul.legend li.hold, ul.legend li.approval, ul.legend li.frozen { margin: 0; font-weight: 400; }
div.metrics { margin-top: 6px; font-size: 11px; color: #3d444d; }
svg.trend { display: block; margin-top: 2px; }
div.promote { margin-top: 4px; font-size: 12px; }
div.promote a { color: #0550ae; }
h2 { font-size: 17px; margin: 24px 0 8px; }
section.ship { margin: 0 0 16px; padding: 8px 12px; border: 1px solid #d1d9e0; border-radius: 6px; max-width: 760px; }
section.ship:target { border-color: #0969da; box-shadow: 0 0 0 2px #ddf4ff; }
section.ship h3 { font-size: 15px; margin: 0 0 4px; }
section.ship p { margin: 0 0 6px; color: #3d444d; }
section.ship pre { max-width: none; }
div.shipped { margin: 6px 0; }
.contains-Y { color: #116329; font-weight: 700; }
.contains-N { color: #b3261e; font-weight: 700; }
.contains-\? { color: #9a6700; font-weight: 700; }
details { margin-top: 4px; }
summary { cursor: pointer; font-size: 12px; color: #3d444d; }
pre { font: 11px/1.35 ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; margin: 4px 0 0; white-space: pre-wrap; overflow-wrap: anywhere; max-width: 420px; }
ul.legend { list-style: none; padding: 0; margin: 0 0 16px; display: flex; flex-wrap: wrap; gap: 6px; font-size: 12px; }
ul.legend li { padding: 2px 8px; border-radius: 4px; border: 1px solid transparent; }
ul.legend li.text { border-color: #e1e4e8; }
ul.legend li.held { margin: 0; font-weight: 400; }
@media (max-width: 640px) {
  body { margin: 12px; }
  table, tbody, tr, th, td { display: block; }
  table { border-spacing: 0; }
  thead { display: none; }
  tr { margin: 0 0 18px; }
  th.app { padding: 0 0 6px; font-size: 16px; }
  td { min-width: 0; margin: 0 0 6px; }
  td::before { content: attr(data-label); display: block; font-size: 12px; font-weight: 600; color: #59636e; margin-bottom: 2px; }
  td.none::before { color: #8c959f; }
  pre { max-width: none; }
}
@media print { body { margin: 0; } details { display: none; } td { break-inside: avoid; } }
"#;

/// Whether an application's record includes the commit (or ticket) asked about.
pub type ContainsFn<'a> = &'a dyn Fn(&AppName, &StoredRecord) -> Contains;

/// What the page needs besides the board.
pub struct Page<'a> {
    /// The bucket the releases come from, for the heading.
    pub source: &'a str,
    /// When the board was read (the store's time).
    pub now: Timestamp,
    /// With `--contains` or `--ticket`: what was asked about, and each cell's answer.
    pub contains: Option<(&'a str, ContainsFn<'a>)>,
    /// What the rules say of each cell.
    pub standing: &'a Standing,
    /// Each application's metrics per environment, in board order.
    pub metrics: &'a [AppMetrics],
    /// The window of the metrics.
    pub window: Window,
    /// What each promotion would ship.
    pub shipments: &'a [Shipment],
}

impl Page<'_> {
    fn metrics_of(&self, name: &AppName, environment: &EnvironmentName) -> Option<&Metrics> {
        self.metrics
            .iter()
            .find(|app| app.name == *name && app.environment == *environment)
            .map(|app| &app.metrics)
    }

    fn shipment(&self, row: usize, column: usize) -> Option<&Shipment> {
        self.shipments
            .iter()
            .find(|shipment| shipment.row == row && shipment.column == column)
    }
}

/// The whole page.
pub fn render(board: &Board, page: &Page<'_>) -> String {
    let projects = &board.projects;
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "catapult board" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "What is deployed where" }
                p.meta {
                    (projects.len()) @if projects.len() == 1 { " application" } @else { " applications" } " from " code { (page.source) }
                    ", read " (page.now.strftime("%Y-%m-%d %H:%M UTC").to_string())
                    @if let Some((revision, _)) = page.contains {
                        ". Y or N: whether each includes " code { (revision) }
                    }
                    ". Delivery metrics over the " (window_days(page.window)) " days to " (format_timestamp(page.window.until)) "."
                }
                @for (column, environment) in board.environments.iter().enumerate() {
                    @if let Some(Some(frozen)) = page.standing.frozen.get(column) {
                        p.frozen-note { span.frozen { "frozen" } " " (environment.as_str()) ": " (frozen) }
                    }
                }
                (legend(page))
                table {
                    thead {
                        tr {
                            th { "application" }
                            th { "latest release" }
                            @for (column, environment) in board.environments.iter().enumerate() {
                                th {
                                    (environment.as_str())
                                    @if let Some(Some(frozen)) = page.standing.frozen.get(column) {
                                        br; span.frozen title=(frozen) { "frozen" }
                                    }
                                }
                            }
                        }
                    }
                    tbody {
                        @for (row, project) in projects.iter().enumerate() {
                            tr {
                                th.app scope="row" { (project.name.as_str()) }
                                (release_cell(project, page))
                                @for (column, (environment, deployed)) in project.deploys.iter().enumerate() {
                                    (deploy_cell(project, (row, column), environment, deployed.as_ref(), &board.waiting_for(project, column), page))
                                }
                            }
                        }
                    }
                }
                (shipments(board, page))
            }
        }
    };
    markup.into_string()
}

/// How many days the window spans.
fn window_days(window: Window) -> i64 {
    window.until.duration_since(window.since).as_hours() / 24
}

/// One entry per colour the page can use, each in that colour.
fn legend(page: &Page<'_>) -> Markup {
    html! {
        ul.legend {
            li.release { "latest release" }
            li.current { "runs the latest release" }
            li.behind1 { "1–2 releases behind" }
            li.behind3 { "3–5 behind" }
            li.behind6 { "6 or more behind" }
            li.none { "never deployed" }
            li.held { "vN waiting for …: held at this environment's gate (require_deployed_to)" }
            li.hold { "held at vN: a rollback holds automated deploys back" }
            li.approval { "vN awaits approval (require_approval)" }
            li.frozen { "frozen: deploys refused (freeze)" }
            li.text { "metrics: deploys per day · median lead time · change failure rate · median recovery, and deploys over the window as bars" }
            li.text { span.rollback { "rollback" } ": deployed to go back" }
            @if page.contains.is_some() {
                li.text { span.contains-Y { "Y" } " includes it, " span.contains-N { "N" } " does not, " span."contains-?" { "?" } " cannot tell" }
            }
        }
    }
}

/// The style of a deploy `behind` releases behind the latest.
fn class_of(present: bool, behind: Option<u64>) -> &'static str {
    match (present, behind) {
        (false, _) => "none",
        (true, Some(0)) => "current",
        (true, Some(1..=2)) => "behind1",
        (true, Some(3..=5)) => "behind3",
        (true, Some(_)) => "behind6",
        (true, None) => "none",
    }
}

fn release_cell(project: &Project, page: &Page<'_>) -> Markup {
    match &project.latest {
        Some(stored) => html! {
            td.release data-label="latest release" {
                (record_lines(&project.name, stored, None, None, page))
            }
        },
        None => html! {
            td.none data-label="latest release" { "no valid release" }
        },
    }
}

fn deploy_cell(
    project: &Project,
    (row, column): (usize, usize),
    environment: &EnvironmentName,
    deployed: Option<&StoredRecord>,
    waiting_for: &[&EnvironmentName],
    page: &Page<'_>,
) -> Markup {
    let standing = page
        .standing
        .cells
        .get(row)
        .and_then(|cells| cells.get(column))
        .cloned()
        .unwrap_or_default();
    let extra = html! {
        @if let Some(held_at) = standing.held_at {
            div { span.hold title="a rollback holds this environment: automated deploys of newer releases are refused until a person deploys by hand or clears the hold" { "held at v" (held_at) } }
        }
        @if let Some(version) = standing.awaiting_approval {
            div { span.approval title="this environment requires an approval by someone other than the release's author: catapult approve" { "v" (version) " awaits approval" } }
        }
        @if let Some(shipment) = page.shipment(row, column) {
            div.promote {
                a href=(format!("#{}", anchor(shipment))) {
                    "promoting " (shipment.from.as_str()) " ships "
                    @match &shipment.releases {
                        Some(releases) => { (releases.len()) @if releases.len() == 1 { " release" } @else { " releases" } }
                        None => { "?" }
                    }
                }
            }
        }
        @if let Some(metrics) = page.metrics_of(&project.name, environment).filter(|_| deployed.is_some()) {
            (metrics_lines(metrics, page))
        }
    };
    let behind = match (&project.latest, deployed) {
        (Some(latest), Some(deployed)) => Some(
            latest
                .record
                .version
                .saturating_sub(deployed.record.version),
        ),
        _ => None,
    };
    let held = (!waiting_for.is_empty())
        .then_some(project.latest.as_ref())
        .flatten()
        .map(|latest| {
            let names: Vec<&str> = waiting_for.iter().map(|name| name.as_str()).collect();
            format!(
                "v{} waiting for {}",
                latest.record.version,
                names.join(", ")
            )
        });
    let held = held.map(|held| {
        html! {
            div { span.held title="the latest release has not reached the environments this one's require_deployed_to names" { (held) } }
        }
    });
    html! {
        td class=(class_of(deployed.is_some(), behind)) data-label=(environment.as_str()) {
            @match deployed {
                Some(stored) => { (record_lines(&project.name, stored, Some(behind), held, page)) }
                None => { "never deployed" @if let Some(held) = held { (held) } }
            }
            (extra)
        }
    }
}

/// A record's lines: its number (and how far behind, for a deploy), its age, commit and author,
/// `note` (a release held at the gate), and its changelog folded.
fn record_lines(
    name: &AppName,
    stored: &StoredRecord,
    behind: Option<Option<u64>>,
    note: Option<Markup>,
    page: &Page<'_>,
) -> Markup {
    let record = &stored.record;
    let lines: Vec<&str> = record.changelog.lines().take(CHANGELOG_LINES).collect();
    let more = record.changelog.lines().count().saturating_sub(lines.len());
    html! {
        div {
            span.version { "v" (record.version) }
            @if let Some(Some(behind)) = behind {
                " "
                span.behind {
                    @if behind == 0 { "latest" } @else { (behind) " behind" }
                }
            }
            @if record.rollback {
                " " span.rollback title="a rollback" { "rollback" }
            }
            @if let Some((_, contains)) = page.contains {
                @let answer = contains(name, stored).as_str();
                " " span class=(format!("contains-{answer}")) { (answer) }
            }
        }
        div.when { (age(&record.timestamp, page.now)) " ago · " code { (record.short_commit()) } }
        div.who { (record.author_or_unknown()) @if let Some(action) = &record.action_type { " · " (action) } }
        @if let Some(note) = note { (note) }
        @if !lines.is_empty() {
            details {
                summary { "changelog" }
                pre {
                    @for line in &lines { (line) "\n" }
                    @if more > 0 { "… " (more) " more" }
                }
            }
        }
    }
}
