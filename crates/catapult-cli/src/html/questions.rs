//! The board page's answers to the questions asked of the whole history: each cell's delivery
//! metrics with the trend of its deploys as an inline SVG, and the section of what promoting
//! each environment's upstream would ship, which the cells link to.

use catapult_core::ops::board::Board;
use catapult_core::ops::metrics::{Metrics, TREND_BARS, Window};
use catapult_core::ops::promotion::Shipment;
use catapult_core::ops::rules::gate::friendly_seconds;
use maud::{Markup, html};

use super::{Page, window_days};

/// How many releases a promotion's section lists; the rest are counted.
const SHIPPED_RELEASES_SHOWN: usize = 20;

/// The anchor of a shipment's section.
pub(super) fn anchor(shipment: &Shipment) -> String {
    format!("ship-{}-{}", shipment.row, shipment.column)
}

/// The section of what each promotion would ship, each with its anchor.
pub(super) fn shipments(board: &Board, page: &Page<'_>) -> Markup {
    html! {
        @if !page.shipments.is_empty() {
            h2 { "What promotion would ship" }
            @for shipment in page.shipments {
                @let project = &board.projects[shipment.row];
                @let environment = &board.environments[shipment.column];
                section.ship id=(anchor(shipment)) {
                    h3 {
                        (project.name.as_str()) ": " (shipment.from.as_str()) " v" (shipment.promoted)
                        " → " (environment.as_str())
                        @match shipment.runs { Some(runs) => { " v" (runs) }, None => { " (never deployed)" } }
                    }
                    @match &shipment.releases {
                        None => { p { "The release history cannot tell which commits: a release it does not hold, or a rollback to a commit inside or outside the releases' ranges." } }
                        Some(releases) => {
                            @let tickets = shipment.tickets();
                            p {
                                (releases.len()) @if releases.len() == 1 { " release, " } @else { " releases, " }
                                @let commits = releases.iter().map(|release| release.commits.len()).sum::<usize>();
                                (commits) @if commits == 1 { " commit" } @else { " commits" }
                                @if !tickets.is_empty() {
                                    ", tickets: "
                                    @for (index, ticket) in tickets.iter().enumerate() {
                                        @if index > 0 { ", " }
                                        code { (ticket) }
                                    }
                                }
                                @let unknown = releases.iter().filter(|release| release.tickets.is_none()).count();
                                @if unknown > 0 {
                                    ", tickets unknown for " (unknown) @if unknown == 1 { " release" } @else { " releases" }
                                    " (written before tickets were kept)"
                                }
                            }
                            @for release in releases.iter().take(SHIPPED_RELEASES_SHOWN) {
                                div.shipped {
                                    strong { "v" (release.version) }
                                    @if release.rollback { " " span.rollback { "rollback" } }
                                    @match &release.tickets {
                                        Some(tickets) if !tickets.is_empty() => { " · " (tickets.join(", ")) }
                                        Some(_) => {}
                                        None => { " · tickets ?" }
                                    }
                                    @if !release.changelog.is_empty() {
                                        pre { (release.changelog) }
                                    }
                                }
                            }
                            @if releases.len() > SHIPPED_RELEASES_SHOWN {
                                p { "… and " (releases.len() - SHIPPED_RELEASES_SHOWN) " older releases (catapult diff shows them all)" }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A cell's delivery metrics, in a line, and the trend of its deploys as bars.
pub(super) fn metrics_lines(metrics: &Metrics, page: &Page<'_>) -> Markup {
    let duration = friendly_seconds;
    let or_na = |figure: Option<String>| figure.unwrap_or_else(|| "n/a".to_owned());
    let frequency = or_na(
        metrics
            .deployment_frequency_per_day
            .map(|rate| format!("{rate:.2}/day")),
    );
    let lead = or_na(metrics.lead_time_median_seconds.map(duration));
    let failure = or_na(
        metrics
            .change_failure_rate
            .map(|rate| format!("{:.0}%", rate * 100.0)),
    );
    let recovery = or_na(metrics.recovery_time_median_seconds.map(duration));
    html! {
        div.metrics title="deploys per day · median lead time for changes · change failure rate · median recovery time" {
            (frequency) " · lead " (lead) " · fail " (failure) " · recover " (recovery)
            @if metrics.skipped > 0 { " · " (metrics.skipped) " skipped" }
        }
        (trend(&metrics.trend, page.window))
    }
}

/// The deploys of each stretch of the window as bars, oldest on the left.
fn trend(counts: &[usize], window: Window) -> Markup {
    const WIDTH: usize = 96;
    const HEIGHT: usize = 18;
    let bar = WIDTH / TREND_BARS.max(1);
    let highest = counts.iter().copied().max().unwrap_or(0).max(1);
    let days = window_days(window) as f64 / TREND_BARS as f64;
    let said: Vec<String> = counts.iter().map(usize::to_string).collect();
    let title = format!(
        "deploys per {days:.1} days, oldest first: {}",
        said.join(", ")
    );
    html! {
        svg.trend width=(WIDTH) height=(HEIGHT) viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(title) {
            title { (title) }
            line x1="0" y1=(HEIGHT - 1) x2=(WIDTH) y2=(HEIGHT - 1) stroke="#d1d9e0" stroke-width="1" {}
            @for (index, count) in counts.iter().enumerate() {
                @let height = if *count == 0 { 0 } else { (count * (HEIGHT - 2)).div_ceil(highest).max(2) };
                @if height > 0 {
                    rect x=(index * bar + 1) y=(HEIGHT - 1 - height) width=(bar - 2) height=(height) fill="#0969da" {}
                }
            }
        }
    }
}
