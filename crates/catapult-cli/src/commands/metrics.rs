//! `catapult metrics`: DORA's four keys per application and environment over a window (default
//! the last 30 days), from the bucket alone: deployment frequency, lead time for changes,
//! change failure rate and failed deployment recovery time, as `ops::metrics` defines them. A
//! figure without the data it needs is `n/a` (`null` in JSON), never a guess.

use catapult_core::ops::metrics::{AppMetrics, Window, delivery_metrics};
use catapult_core::ops::rules::{gate::friendly_seconds, store_now};
use catapult_core::ops::summary::BoardHistories;
use catapult_core::record::layout::parse_duration;
use catapult_core::store::RecordStore;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::{Value, json};

use super::Context;
use crate::args::MetricsArgs;
use crate::cache::FileCache;
use crate::error::{Failure, Result};
use crate::output::{Cell, Printer, Style, View};

/// The window when `--since` is not given.
const DEFAULT_WINDOW_DAYS: i64 = 30;

/// `catapult metrics`.
pub async fn metrics<S: RecordStore>(context: &Context<S>, args: &MetricsArgs) -> Result<()> {
    let length = match &args.since {
        Some(since) => parse_duration("--since", since).map_err(Failure::new)?,
        None => SignedDuration::from_hours(DEFAULT_WINDOW_DAYS * 24),
    };
    let names = super::app_names(&args.names)?;
    let mut cache = FileCache::open(context.cache_dir.as_deref(), &context.store_name);
    let board = context
        .board_of(&names, &args.env, &mut cache, "reading the board")
        .await?;
    // The window ends at the store's time, as the rules read it, not this machine's.
    let window = Window::last(length, store_now(&context.store));
    let all = context
        .deadline(
            "reading the histories",
            delivery_metrics(
                context.layout(),
                &mut BoardHistories::new(&context.store, &board, &mut cache),
                window,
            ),
        )
        .await?;
    cache.save();
    context.printer.show(&MetricsView { window, all: &all })
}

/// The metrics, a row per application and environment.
struct MetricsView<'a> {
    window: Window,
    all: &'a [AppMetrics],
}

/// A timestamp to the second, as records write them.
fn second(time: Timestamp) -> String {
    catapult_core::record::format_timestamp(time)
}

impl Serialize for MetricsView<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        let rows: Vec<Value> = self
            .all
            .iter()
            .map(|app| {
                let figures = &app.metrics;
                json!({
                    "name": app.name.as_str(),
                    "environment": app.environment.as_str(),
                    "deploys": figures.deploys,
                    "deployment_frequency_per_day": figures.deployment_frequency_per_day,
                    "lead_time_median_seconds": figures.lead_time_median_seconds,
                    "change_failure_rate": figures.change_failure_rate,
                    "recovery_time_median_seconds": figures.recovery_time_median_seconds,
                    "since": second(self.window.since),
                    "until": second(self.window.until),
                    "skipped": figures.skipped,
                })
            })
            .collect();
        rows.serialize(serializer)
    }
}

/// A figure, or `n/a`.
fn figure<T>(value: Option<T>, show: impl Fn(T) -> String) -> Cell {
    match value {
        Some(value) => Cell::plain(show(value)),
        None => Cell::new("n/a", Style::Dim),
    }
}

impl View for MetricsView<'_> {
    fn render(&self, printer: &Printer) -> Result<()> {
        if self.all.is_empty() {
            super::note("no applications");
            return Ok(());
        }
        let header = [
            "NAME",
            "ENV",
            "DEPLOYS",
            "PER DAY",
            "LEAD TIME",
            "FAILURE RATE",
            "RECOVERY",
            "SKIPPED",
        ];
        let rows: Vec<Vec<Cell>> = self
            .all
            .iter()
            .map(|app| {
                let figures = &app.metrics;
                vec![
                    Cell::new(app.name.as_str(), Style::Cyan),
                    Cell::new(app.environment.as_str(), Style::Blue),
                    Cell::new(figures.deploys.to_string(), Style::Bold),
                    figure(figures.deployment_frequency_per_day, |rate| {
                        format!("{rate:.2}")
                    }),
                    figure(figures.lead_time_median_seconds, friendly_seconds),
                    figure(figures.change_failure_rate, |rate| {
                        format!("{:.0}%", rate * 100.0)
                    }),
                    figure(figures.recovery_time_median_seconds, friendly_seconds),
                    Cell::new(
                        figures.skipped.to_string(),
                        if figures.skipped > 0 {
                            Style::Yellow
                        } else {
                            Style::Dim
                        },
                    ),
                ]
            })
            .collect();
        super::note(&format!(
            "from {} to {} (the store's time)",
            second(self.window.since),
            second(self.window.until)
        ));
        printer.table(&header, &rows)
    }
}
