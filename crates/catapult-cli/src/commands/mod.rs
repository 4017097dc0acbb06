//! The commands, a file each: flags made into the core's typed inputs, one core operation, and
//! a view of its answer that the output layer prints as a table or as JSON. Nothing here
//! numbers, places or validates records: the core does, exactly as it does for the Concourse
//! resource. Every command is generic over the store: [`crate::main`] builds the S3 one.

use std::future::Future;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use catapult_core::git::Checkout;
use catapult_core::ops::board::{Board, read_board};
use catapult_core::ops::summary::BoardHistories;
use catapult_core::ops::tickets::{TicketInApp, TicketQuery, find_ticket, same_ticket};
use catapult_core::ops::{Mode, Outcome, while_answering, within_deadline};
use catapult_core::record::{
    App, AppName, EnvironmentName, EnvironmentPlace, Layout, checked_author,
};
use catapult_core::store::tally::Tallied;
use catapult_core::store::{Location, RecordStore};

use crate::args::Command;
use crate::cache::FileCache;
use crate::config::Config;
use crate::error::{Failure, Result};
use crate::output::{Printer, RecordView, clean};

mod approve;
mod current;
mod deploy;
mod diff;
mod find;
mod freeze;
mod history;
mod hold;
mod log;
mod metrics;
mod release;
mod show;
mod status;
mod tickets;

/// What every command that reads the store works with.
pub struct Context<S> {
    /// How to print.
    pub printer: Printer,
    /// The configuration.
    pub config: Config,
    /// The store, counting what it answers.
    pub store: Tallied<S>,
    /// The store's name, for messages.
    pub store_name: String,
    /// The git repository's root, if the command runs in one.
    pub root: Option<PathBuf>,
    /// The cache directory.
    pub cache_dir: Option<PathBuf>,
}

/// Runs `command` in `context`.
pub async fn run<S: RecordStore>(context: &Context<S>, command: &Command) -> Result<()> {
    match command {
        Command::Release(args) => release::release(context, args).await,
        Command::Deploy(args) => deploy::deploy(context, args).await,
        Command::Current { name, environment } => {
            current::current(context, name, environment.as_deref()).await
        }
        Command::Show {
            name,
            version,
            environment,
        } => show::show(context, name, *version, environment.as_deref()).await,
        Command::History {
            name,
            environment,
            last,
            contains,
        } => {
            history::history(
                context,
                name,
                environment.as_deref(),
                *last,
                contains.as_deref(),
            )
            .await
        }
        Command::Find { name, revision } => find::find(context, name, revision).await,
        Command::Log { name, range } => log::log(context, name, range).await,
        Command::Diff { name, from, to } => diff::diff(context, name, from, to).await,
        Command::Status(args) => status::status(context, args).await,
        Command::Tickets(args) => tickets::tickets(context, args).await,
        Command::Metrics(args) => metrics::metrics(context, args).await,
        Command::Approve(args) => approve::approve(context, args).await,
        Command::Freeze(args) => freeze::freeze(context, args).await,
        Command::Unfreeze(args) => freeze::unfreeze(context, args).await,
        Command::ReleaseHold(args) => hold::release_hold(context, args).await,
        Command::Completions { .. } => Ok(()),
    }
}

impl<S: RecordStore> Context<S> {
    fn layout(&self) -> &Layout {
        &self.config.layout
    }

    /// The application `name` names, at the configuration's layout.
    fn app(&self, name: &str) -> Result<App> {
        let name = AppName::parse("NAME", name).map_err(Failure::new)?;
        Ok(self.layout().app(&name))
    }

    /// Where `app`'s deploys to `environment` live.
    fn place(&self, app: &App, environment: &str) -> Result<EnvironmentPlace> {
        let environment = environment_name("ENV", environment)?;
        self.layout().place(app, &environment).map_err(Failure::new)
    }

    /// Where `app`'s records of `environment` (its releases when `None`) live.
    fn log_location(&self, app: &App, environment: Option<&str>) -> Result<Location> {
        Ok(match environment {
            None => app.releases.clone(),
            Some(environment) => self.place(app, environment)?.deploys,
        })
    }

    fn checkout(&self) -> Result<Checkout> {
        let root = self.root.as_ref().ok_or_else(|| {
            Failure::new(
                "not in a git repository: run catapult inside one, or name it with --repository or CATAPULT_GIT_REPO",
            )
        })?;
        Ok(Checkout::open(root).map_err(catapult_core::Error::from)?)
    }

    /// The full sha of `revision` in the checkout, and the checkout.
    fn resolve_revision(&self, revision: &str) -> Result<(Checkout, String)> {
        let checkout = self.checkout()?;
        let sha = checkout
            .resolve(revision)
            .map_err(catapult_core::Error::from)?
            .sha;
        Ok((checkout, sha))
    }

    /// The checkout, when the command runs in a git repository that can be opened; `None`
    /// otherwise, for the commands that only use one when at hand.
    fn checkout_if_any(&self) -> Option<Checkout> {
        self.root
            .as_ref()
            .and_then(|root| Checkout::open(root).ok())
    }

    /// `given` (as `field`), an environment the configuration declares (any, when it declares
    /// none); the error says what was not `done`, the closest declared name, and `otherwise`.
    fn declared(
        &self,
        field: &str,
        given: &str,
        done: &str,
        otherwise: &str,
    ) -> Result<EnvironmentName> {
        let name = environment_name(field, given)?;
        self.layout().check_declared(&name).map_err(|undeclared| {
            let declared: Vec<&str> = undeclared.declared.iter().map(|env| env.as_str()).collect();
            let guess = undeclared
                .closest
                .map(|closest| format!(" Did you mean {:?}?", closest.as_str()))
                .unwrap_or_default();
            Failure::new(format!(
                "environment {:?} is not declared in {} (its environments: {}), so nothing was {done}.{guess}{otherwise}",
                undeclared.name.as_str(),
                self.config.source,
                declared.join(", "),
            ))
        })?;
        Ok(name)
    }

    /// `given`, the environment a command's ENV names, declared.
    fn declared_environment(&self, given: &str, done: &str) -> Result<EnvironmentName> {
        self.declared("ENV", given, done, "")
    }

    /// Who acts: `given` (the flag `flag`), else git's `user.email`, checked as a release's
    /// author is.
    fn person(&self, flag: &str, given: Option<&str>) -> Result<String> {
        match given {
            Some(given) => checked_author(flag, given).map_err(Failure::new),
            None => {
                let email = self
                    .checkout_if_any()
                    .and_then(|checkout| checkout.configured_email())
                    .ok_or_else(|| {
                        Failure::new(format!(
                            "who are you? give {flag} EMAIL, or set git's user.email"
                        ))
                    })?;
                checked_author("git's user.email", &email).map_err(Failure::new)
            }
        }
    }

    /// `ticket` checked as one the configuration's pattern finds: a typo must not answer
    /// "nowhere".
    fn ticket(&self, ticket: &str) -> Result<String> {
        let ticket = ticket.trim();
        let pattern = &self.config.tickets;
        // As typed, or in capitals (ops-142 for OPS-142): ticket keys are compared without case.
        for form in [ticket.to_owned(), ticket.to_ascii_uppercase()] {
            let found = pattern.find([form.as_str()]);
            if found.tickets.len() == 1 && same_ticket(&found.tickets[0], ticket) {
                return Ok(found.tickets[0].clone());
            }
        }
        Err(Failure::new(format!(
            "TICKET {:?} is not a ticket the ticket pattern {:?} finds in commit messages (tickets look like ABC-123, sc-123 or ch123 by default; .catapult.toml's [tickets] pattern sets another)",
            clean(ticket),
            pattern.as_str()
        )))
    }

    /// Where `environment`'s ad-hoc freezes live.
    fn freezes(&self, environment: &EnvironmentName) -> Result<Location> {
        self.layout().freezes(environment).map_err(Failure::new)
    }

    /// The board of `names` (every application when empty) and `environments` (the layout's
    /// when empty), through `cache`.
    async fn board_of(
        &self,
        names: &[AppName],
        environments: &[String],
        cache: &mut FileCache,
        doing: &str,
    ) -> Result<Board> {
        let asked: Vec<EnvironmentName> = environments
            .iter()
            .map(|environment| self.declared("--env", environment, "read", ""))
            .collect::<Result<_>>()?;
        let keep = |name: &str| names.is_empty() || names.iter().any(|wanted| wanted == name);
        let board = self
            .deadline(
                doing,
                read_board(
                    &self.store,
                    self.layout(),
                    (!asked.is_empty()).then_some(asked.as_slice()),
                    false,
                    keep,
                    cache,
                ),
            )
            .await?;
        if let Some(missing) = names
            .iter()
            .find(|name| !board.projects.iter().any(|project| project.name == **name))
        {
            return Err(Failure::new(format!(
                "no application {missing} in s3://{}: it has no release records",
                self.layout().releases_bucket
            )));
        }
        Ok(board)
    }

    /// Where `ticket` is in each application of `board`, and whether a checkout answered for
    /// the records that do not keep their tickets.
    async fn find_ticket(
        &self,
        ticket: &str,
        board: &Board,
        cache: &mut FileCache,
    ) -> Result<(Vec<TicketInApp>, bool)> {
        let checkout = self.checkout_if_any();
        let query = TicketQuery {
            wanted: ticket,
            checkout: checkout.as_ref(),
            pattern: &self.config.tickets,
        };
        let found = self
            .deadline(
                &format!("reading the release histories for {ticket}"),
                find_ticket(
                    self.layout(),
                    &mut BoardHistories::new(&self.store, board, cache),
                    query,
                ),
            )
            .await?;
        Ok((found, checkout.is_some()))
    }

    /// Runs `step`, a read that is `doing` something, for as long as the store keeps answering:
    /// a first read of long histories may take minutes, and ends only when the store falls
    /// silent for the step's deadline.
    async fn deadline<T>(
        &self,
        doing: &str,
        step: impl Future<Output = catapult_core::Result<T>>,
    ) -> Result<T> {
        Ok(while_answering(&self.store, doing, step).await?)
    }

    /// Runs `step`, a write that is `doing` something, within the step's whole deadline, as a
    /// Concourse step runs: its retries are bounded in time.
    async fn write_deadline<T>(
        &self,
        doing: &str,
        step: impl Future<Output = catapult_core::Result<T>>,
    ) -> Result<T> {
        Ok(within_deadline(&self.store, doing, step).await?)
    }
}

/// The application names given, checked.
fn app_names(names: &[String]) -> Result<Vec<AppName>> {
    names
        .iter()
        .map(|name| AppName::parse("NAME", name).map_err(Failure::new))
        .collect()
}

/// A reason given as `flag`: one line of at most 500 characters, terminal-safe; empty is none.
fn reason(flag: &str, given: Option<&str>) -> Result<Option<String>> {
    let Some(given) = given.map(str::trim).filter(|given| !given.is_empty()) else {
        return Ok(None);
    };
    catapult_core::store::location::check_text(flag, given, 500).map_err(Failure::new)?;
    if given.contains(['\n', '\r']) {
        return Err(Failure::new(format!("{flag}: give the reason on one line")));
    }
    Ok(Some(given.to_owned()))
}

/// An environment's name given as `field`, checked as the resource checks its `environment`.
fn environment_name(field: &str, name: &str) -> Result<EnvironmentName> {
    EnvironmentName::parse(field, name).map_err(Failure::new)
}

/// Whether to ask before writing: on a terminal, unless told not to.
fn should_ask(yes: bool, dry_run: bool) -> bool {
    !yes && !dry_run && std::io::stdin().is_terminal()
}

/// Asks `question` on the terminal; true for yes.
fn confirm(question: &str) -> Result<bool> {
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "{question} [y/N] ");
    let _ = stderr.flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|err| Failure::new(format!("cannot read the answer: {err}")))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}

/// A line for the person on stderr: what a command did, or why it printed nothing.
fn note(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{text}");
}

/// What `release` and `deploy` share: compute the record (a dry run), show it and ask on a
/// terminal, write it, and print what was done. `run` carries the operation out in a mode;
/// `question` asks about the record it would write.
async fn preview_then_write<S, F>(
    context: &Context<S>,
    view: (&str, Option<&str>),
    (dry_run, yes): (bool, bool),
    question: impl Fn(&Outcome) -> String,
    run: impl Fn(Mode) -> F,
) -> Result<()>
where
    S: RecordStore,
    F: Future<Output = catapult_core::Result<Outcome>>,
{
    let (name, environment) = view;
    fn show<'a>(
        name: &'a str,
        environment: Option<&'a str>,
        outcome: &'a Outcome,
    ) -> RecordView<'a> {
        RecordView {
            name,
            record: &outcome.record,
            version_id: outcome.version_id.as_deref(),
            environment,
            contains: None,
        }
    }
    let doing = match environment {
        Some(environment) => format!("deploying {name} to {environment:?}"),
        None => format!("cutting a release of {name}"),
    };
    let preview = context.deadline(&doing, run(Mode::DryRun)).await?;
    if dry_run {
        for verdict in &preview.rules {
            let mark = if verdict.passed { "passes" } else { "refuses" };
            note(&format!(
                "rule {}: {mark}: {}",
                verdict.rule,
                clean(&verdict.said)
            ));
        }
        if let Some(refused) = preview.rules.iter().find(|verdict| !verdict.passed) {
            return Err(Failure::new(format!(
                "dry run: nothing written, and a deploy would be refused: {}",
                refused.said
            )));
        }
    }
    let outcome = if preview.version_id.is_some() || dry_run {
        preview
    } else {
        if should_ask(yes, dry_run) {
            context.printer.show(&show(name, environment, &preview))?;
            if !confirm(&question(&preview))? {
                return Err(Failure::new("nothing written: not confirmed"));
            }
        }
        context.write_deadline(&doing, run(Mode::Write)).await?
    };
    if dry_run && outcome.version_id.is_none() {
        note("dry run: nothing written");
    } else if !outcome.written {
        note("nothing written: the record shown is already there");
    }
    context.printer.show(&show(name, environment, &outcome))
}
