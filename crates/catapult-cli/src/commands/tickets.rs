//! `catapult tickets` (`tickets.find`, the older tool's name): which releases of which
//! applications hold a commit that mentions a ticket, and whether what each environment runs
//! now holds it. Answered from the bucket alone (each release keeps the tickets its commits
//! mention); a release written before tickets were kept is read from the git repository when
//! the command runs in one, and is otherwise `?`.

use catapult_core::ops::contains::Contains;
use catapult_core::ops::tickets::TicketInApp;
use catapult_core::store::RecordStore;
use serde::Serialize;
use serde_json::{Value, json};

use super::{Context, note};
use crate::args::TicketsArgs;
use crate::cache::FileCache;
use crate::error::Result;
use crate::output::{Cell, Printer, Style, View, contains_style};

/// `catapult tickets`.
pub async fn tickets<S: RecordStore>(context: &Context<S>, args: &TicketsArgs) -> Result<()> {
    let ticket = context.ticket(&args.ticket)?;
    let names = super::app_names(&args.names)?;
    let mut cache = FileCache::open(context.cache_dir.as_deref(), &context.store_name);
    let board = context
        .board_of(&names, &args.env, &mut cache, "reading the board")
        .await?;
    let (found, with_checkout) = context.find_ticket(&ticket, &board, &mut cache).await?;
    cache.save();
    let shown: Vec<&TicketInApp> = found
        .iter()
        .filter(|app| !names.is_empty() || app.is_relevant())
        .collect();
    if shown.is_empty() {
        note(&format!(
            "no release of {} mentions {ticket}",
            if names.is_empty() {
                "any application"
            } else {
                "these applications"
            }
        ));
    }
    if shown.iter().any(|app| app.releases.any_unknown()) {
        note(&format!(
            "?: releases written before tickets were kept{}",
            if with_checkout {
                ", whose commits this repository does not hold"
            } else {
                "; run inside the repository to read their commits from git"
            }
        ));
    }
    context.printer.show(&TicketsView {
        ticket: &ticket,
        found: shown,
    })
}

/// Where a ticket is, per application.
struct TicketsView<'a> {
    ticket: &'a str,
    found: Vec<&'a TicketInApp>,
}

/// Release numbers as ranges: `3-5, 8`.
fn ranges(numbers: &[u64]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut index = 0;
    while index < numbers.len() {
        let start = numbers[index];
        let mut end = start;
        while index + 1 < numbers.len() && Some(numbers[index + 1]) == end.checked_add(1) {
            index += 1;
            end = numbers[index];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        index += 1;
    }
    parts.join(", ")
}

impl Serialize for TicketsView<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        let apps: Vec<Value> = self
            .found
            .iter()
            .map(|app| {
                let unknown: Vec<u64> = app
                    .releases
                    .releases
                    .iter()
                    .filter(|(_, holds)| *holds == Contains::Unknown)
                    .map(|(number, _)| *number)
                    .collect();
                let latest = app.releases.latest;
                json!({
                    "name": app.name.as_str(),
                    "ticket": self.ticket,
                    "first_release": app.releases.first,
                    "releases": app.releases.holding().collect::<Vec<_>>(),
                    "unknown_releases": unknown,
                    "latest": latest.map(|(version, holds)| json!({
                        "version": version,
                        "contains": holds.as_str(),
                    })),
                    "environments": app.environments.iter().map(|(environment, runs)| json!({
                        "environment": environment.as_str(),
                        "version": runs.map(|(version, _)| version),
                        "contains": runs.map(|(_, holds)| holds.as_str()),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        apps.serialize(serializer)
    }
}

impl View for TicketsView<'_> {
    fn render(&self, printer: &Printer) -> Result<()> {
        let Some(first) = self.found.first() else {
            return Ok(());
        };
        let environments: Vec<&str> = first
            .environments
            .iter()
            .map(|(environment, _)| environment.as_str())
            .collect();
        let mut header = vec!["NAME", "RELEASES", "FIRST", "LATEST"];
        header.extend(environments.iter().copied());
        let answer = |runs: Option<(u64, Contains)>| match runs {
            None => Cell::new("never deployed", Style::Dim),
            Some((version, holds)) => Cell::new(
                format!("{version} {}", holds.as_str()),
                contains_style(holds),
            ),
        };
        let rows: Vec<Vec<Cell>> = self
            .found
            .iter()
            .map(|app| {
                let holding: Vec<u64> = app.releases.holding().collect();
                let mut cells = vec![
                    Cell::new(app.name.as_str(), Style::Cyan),
                    Cell::plain(if holding.is_empty() {
                        "none".to_owned()
                    } else {
                        ranges(&holding)
                    }),
                    Cell::plain(
                        app.releases
                            .first
                            .map(|first| first.to_string())
                            .unwrap_or_default(),
                    ),
                    answer(app.releases.latest),
                ];
                cells.extend(app.environments.iter().map(|(_, runs)| answer(*runs)));
                cells
            })
            .collect();
        printer.table(&header, &rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_numbers_read_as_ranges() {
        assert_eq!(ranges(&[]), "");
        assert_eq!(ranges(&[3]), "3");
        assert_eq!(ranges(&[3, 4, 5, 8, 10, 11]), "3-5, 8, 10-11");
    }
}
