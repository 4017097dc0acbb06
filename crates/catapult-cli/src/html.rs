//! The board as one self-contained HTML page: a grid of applications by environments, each cell
//! coloured by how far behind the latest release it is, with the latest changelog lines at hand
//! in a `<details>`. Styles are inline, nothing is fetched from the network, no script is needed
//! to read it, and it prints. The template is maud's, checked at compile time and escaped by
//! default, so a record's text can never become markup.

use catapult_core::ops::board::{Project, RowKind};
use catapult_core::ops::contains::Contains;
use catapult_core::record::{EnvironmentName, StoredRecord};
use jiff::Timestamp;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::output::age;

/// How many changelog lines a cell shows.
const CHANGELOG_LINES: usize = 12;

const STYLE: &str = r#"
:root { color-scheme: light; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 24px; color: #1f2328; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; }
p.meta { color: #59636e; margin: 0 0 16px; }
table { border-collapse: separate; border-spacing: 6px; }
th { text-align: left; font-weight: 600; padding: 4px 8px; color: #59636e; }
th.app { font-size: 15px; color: #1f2328; white-space: nowrap; }
td { vertical-align: top; padding: 8px 10px; border-radius: 6px; min-width: 150px; border: 1px solid transparent; }
td .version { font-size: 18px; font-weight: 700; }
td .behind { font-weight: 600; }
td .who, td .when { color: #3d444d; font-size: 12px; }
td code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; }
td.release { background: #eef4ff; border-color: #c6d8fb; }
td.current { background: #dafbe1; border-color: #a6e3b4; }
td.behind1 { background: #fff8c5; border-color: #eed888; }
td.behind3 { background: #ffe2c2; border-color: #f5b87a; }
td.behind6 { background: #ffd6d6; border-color: #f09a9a; }
td.none { background: #f6f8fa; border-color: #e1e4e8; color: #8c959f; }
.rollback { color: #b3261e; font-weight: 700; }
.contains-Y { color: #116329; font-weight: 700; }
.contains-N { color: #b3261e; font-weight: 700; }
details { margin-top: 4px; }
summary { cursor: pointer; font-size: 12px; color: #3d444d; }
pre { font: 11px/1.35 ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; margin: 4px 0 0; white-space: pre-wrap; max-width: 420px; }
.legend span { display: inline-block; padding: 2px 8px; border-radius: 4px; margin-right: 6px; font-size: 12px; }
@media print { body { margin: 0; } details { display: none; } td { break-inside: avoid; } }
"#;

/// Whether a record includes the commit asked about.
pub type ContainsFn<'a> = &'a dyn Fn(&StoredRecord) -> Contains;

/// What the page needs besides the projects.
pub struct Page<'a> {
    /// The environments, in column order.
    pub environments: &'a [EnvironmentName],
    /// The bucket the releases come from, for the heading.
    pub source: &'a str,
    /// When the board was read.
    pub now: Timestamp,
    /// With `--contains`: the revision asked about, and each cell's answer.
    pub contains: Option<(&'a str, ContainsFn<'a>)>,
}

/// The whole page.
pub fn render(projects: &[Project], page: &Page<'_>) -> String {
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
                }
                p.legend {
                    span style="background:#dafbe1" { "runs the latest release" }
                    span style="background:#fff8c5" { "1–2 behind" }
                    span style="background:#ffe2c2" { "3–5 behind" }
                    span style="background:#ffd6d6" { "6 or more behind" }
                    span style="background:#f6f8fa" { "never deployed" }
                }
                table {
                    thead {
                        tr {
                            th { "application" }
                            th { "latest release" }
                            @for environment in page.environments {
                                th { (environment.as_str()) }
                            }
                        }
                    }
                    tbody {
                        @for project in projects {
                            tr {
                                th.app scope="row" { (project.name.as_str()) }
                                @for row in project.rows() {
                                    @let class = match row.kind {
                                        RowKind::Release => "release",
                                        RowKind::Deploy => class_of(row.record.is_some(), row.behind),
                                    };
                                    @let behind = match row.kind {
                                        RowKind::Release => None,
                                        RowKind::Deploy => row.behind,
                                    };
                                    (cell(row.record, behind, class, page))
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    markup.into_string()
}

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

fn cell(
    record: Option<&StoredRecord>,
    behind: Option<u64>,
    class: &str,
    page: &Page<'_>,
) -> Markup {
    let Some(stored) = record else {
        return html! { td.none { "never deployed" } };
    };
    let record = &stored.record;
    let lines: Vec<&str> = record.changelog.lines().take(CHANGELOG_LINES).collect();
    let more = record.changelog.lines().count().saturating_sub(lines.len());
    html! {
        td class=(class) {
            div {
                span.version { "v" (record.version) }
                @if let Some(behind) = behind {
                    " "
                    span.behind {
                        @if behind == 0 { "latest" } @else { (behind) " behind" }
                    }
                }
                @if record.rollback {
                    " " span.rollback title="a rollback" { "rollback" }
                }
                @if let Some((_, contains)) = page.contains {
                    @let answer = contains(stored).as_str();
                    " " span class=(format!("contains-{answer}")) { (answer) }
                }
            }
            div.when { (age(&record.timestamp, page.now)) " ago · " code { (record.short_commit()) } }
            div.who { (record.author_or_unknown()) @if let Some(action) = &record.action_type { " · " (action) } }
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
}
