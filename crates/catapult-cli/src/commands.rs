//! Each command: flags made into the core's typed inputs, one core operation, and its answer
//! printed. Nothing here numbers, places or validates records: the core does, exactly as it
//! does for the Concourse resource.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use catapult_core::board::{self, Project, RowKind};
use catapult_core::deploy::{DeployPlan, ReleaseChoice, chosen_release, deploy};
use catapult_core::git::Checkout;
use catapult_core::history::{self, Contains};
use catapult_core::log::{Judgement, RecordLog};
use catapult_core::params::{checked_author, is_image_digest};
use catapult_core::record::{Record, StoredRecord};
use catapult_core::release::{MANUAL, Mode, Outcome, ReleasePlan, cut_release};
use catapult_core::resource::{App, Layout};
use catapult_core::store::s3::S3Store;
use catapult_core::store::within_deadline;
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::cache::FileCache;
use crate::cli::{DeployArgs, ReleaseArgs, StatusArgs};
use crate::config::{Config, check_name};
use crate::error::{Failure, Result};
use crate::html;
use crate::output::{Cell, Printer, Style, age, behind_style, record_json, stored_json};

/// What every command that reads the store works with.
pub struct Context {
    /// How to print.
    pub printer: Printer,
    /// The configuration.
    pub config: Config,
    /// The store.
    pub store: S3Store,
    /// The store's name, for messages.
    pub store_name: String,
    /// The git repository's root, if the command runs in one.
    pub root: Option<PathBuf>,
    /// The cache directory.
    pub cache_dir: Option<PathBuf>,
}

impl Context {
    fn layout(&self) -> &Layout {
        &self.config.layout
    }

    fn app(&self, name: &str) -> Result<App> {
        check_name("NAME", name)?;
        Ok(self.layout().app(name))
    }

    fn checkout(&self) -> Result<Checkout> {
        let root = self.root.as_ref().ok_or_else(|| {
            Failure::new(
                "not in a git repository: run catapult inside one, or name it with --repository or CATAPULT_GIT_REPO",
            )
        })?;
        Ok(Checkout::open(root)?)
    }

    async fn deadline<T>(&self, step: impl Future<Output = catapult_core::Result<T>>) -> Result<T> {
        Ok(within_deadline(&self.store_name, step).await?)
    }
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

fn note(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{text}");
}

/// `catapult release`.
pub async fn release(context: &Context, args: &ReleaseArgs) -> Result<()> {
    let app = context.app(&args.name)?;
    let checkout = context.checkout()?;
    let commit = checkout.resolve(&args.commit)?;
    let image = match (&args.image, &args.image_file) {
        (Some(image), _) => Some(image.trim().to_owned()),
        (None, Some(path)) => Some(read_digest(path)?),
        (None, None) => None,
    };
    if let Some(image) = image.as_ref().filter(|image| !is_image_digest(image)) {
        return Err(Failure::new(format!(
            "--image: {image:?} is not an image digest (sha256: and 64 lowercase hex digits)"
        )));
    }
    let author = match &args.author {
        Some(author) => checked_author("--author", author)?,
        None => {
            let email = checkout
                .configured_email()
                .unwrap_or_else(|| commit.author_email.clone());
            checked_author("git's user.email", &email)?
        }
    };
    let plan = ReleasePlan {
        checkout,
        commit,
        image,
        author,
        changelog_paths: args.paths.clone(),
        allow_rollback: args.rollback,
        force: args.force,
        action_type: MANUAL,
        build: None,
    };
    let preview = context
        .deadline(cut_release(&context.store, &app, &plan, Mode::DryRun))
        .await?;
    let outcome = if preview.version_id.is_some() || args.dry_run {
        preview
    } else if should_ask(args.yes, args.dry_run) {
        print_outcome(context, &app.name, &preview, None)?;
        let question = format!("Write release {} of {}?", preview.record.version, app.name);
        if !confirm(&question)? {
            return Err(Failure::new("nothing written: not confirmed"));
        }
        context
            .deadline(cut_release(&context.store, &app, &plan, Mode::Write))
            .await?
    } else {
        context
            .deadline(cut_release(&context.store, &app, &plan, Mode::Write))
            .await?
    };
    report(context, &app.name, &outcome, None, args.dry_run)
}

fn read_digest(path: &Path) -> Result<String> {
    let text = std::fs::read(path)
        .ok()
        .filter(|bytes| bytes.len() <= 4096)
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| {
            Failure::new(format!(
                "--image-file: cannot read a digest from {}",
                path.display()
            ))
        })?;
    Ok(text.trim().to_owned())
}

/// `catapult deploy`.
pub async fn deploy_release(context: &Context, args: &DeployArgs) -> Result<()> {
    let app = context.app(&args.name)?;
    check_name("ENV", &args.environment)?;
    let environment = context.layout().environment(&app, &args.environment);
    let plan = DeployPlan {
        release: match args.version {
            Some(version) => ReleaseChoice::Number {
                version,
                commit: None,
            },
            None => ReleaseChoice::Latest,
        },
        checkout: context.checkout().ok(),
        allow_rollback: args.rollback,
        action_type: MANUAL,
        build: None,
    };
    let run = |mode| deploy(&context.store, &app, &environment, &plan, mode);
    let preview = context.deadline(run(Mode::DryRun)).await?;
    let outcome = if preview.version_id.is_some() || args.dry_run {
        preview
    } else if should_ask(args.yes, args.dry_run) {
        print_outcome(context, &app.name, &preview, Some(&args.environment))?;
        let question = format!(
            "Deploy release {} of {} to {}?",
            preview.record.version, app.name, args.environment
        );
        if !confirm(&question)? {
            return Err(Failure::new("nothing written: not confirmed"));
        }
        context.deadline(run(Mode::Write)).await?
    } else {
        context.deadline(run(Mode::Write)).await?
    };
    report(
        context,
        &app.name,
        &outcome,
        Some(&args.environment),
        args.dry_run,
    )
}

fn report(
    context: &Context,
    name: &str,
    outcome: &Outcome,
    environment: Option<&str>,
    dry_run: bool,
) -> Result<()> {
    if dry_run && outcome.version_id.is_none() {
        note("dry run: nothing written");
    } else if !outcome.written {
        note("nothing written: the record shown is already there");
    }
    print_outcome(context, name, outcome, environment)
}

fn print_outcome(
    context: &Context,
    name: &str,
    outcome: &Outcome,
    environment: Option<&str>,
) -> Result<()> {
    let value = record_json(
        name,
        outcome.version_id.as_deref(),
        &outcome.record,
        environment,
    );
    if context.printer.json {
        return context.printer.json(&value);
    }
    print_record(
        context,
        name,
        &outcome.record,
        outcome.version_id.as_deref(),
        environment,
    )
}

fn print_record(
    context: &Context,
    name: &str,
    record: &Record,
    version_id: Option<&str>,
    environment: Option<&str>,
) -> Result<()> {
    let now = Timestamp::now();
    let mut pairs = vec![("name", Cell::new(name, Style::Bold))];
    if let Some(environment) = record.environment.as_deref().or(environment) {
        pairs.push(("environment", Cell::new(environment, Style::Blue)));
    }
    pairs.extend([
        (
            "version",
            Cell::new(record.version.to_string(), Style::Bold),
        ),
        ("commit", Cell::plain(&record.commit)),
        (
            "image",
            Cell::plain(record.image.as_deref().unwrap_or("none")),
        ),
        ("author", Cell::plain(record.author_or_unknown())),
        (
            "timestamp",
            Cell::plain(format!(
                "{} ({} ago)",
                record.timestamp,
                age(&record.timestamp, now)
            )),
        ),
        (
            "rollback",
            Cell::new(
                if record.rollback { "yes" } else { "no" },
                if record.rollback {
                    Style::Red
                } else {
                    Style::Plain
                },
            ),
        ),
        (
            "action_type",
            Cell::plain(record.action_type.as_deref().unwrap_or("")),
        ),
        (
            "version_id",
            Cell::new(version_id.unwrap_or("(not written)"), Style::Dim),
        ),
        ("changelog", Cell::plain(&record.changelog)),
    ]);
    context.printer.fields(&pairs)
}

fn print_stored(
    context: &Context,
    name: &str,
    stored: &StoredRecord,
    environment: Option<&str>,
) -> Result<()> {
    if context.printer.json {
        return context
            .printer
            .json(&stored_json(name, stored, environment));
    }
    print_record(
        context,
        name,
        &stored.record,
        Some(&stored.version_id),
        environment,
    )
}

/// Where `name`'s records of `environment` (releases when `None`) live.
fn log_location(
    context: &Context,
    app: &App,
    environment: Option<&str>,
) -> Result<catapult_core::location::Location> {
    Ok(match environment {
        None => app.releases.clone(),
        Some(environment) => {
            check_name("ENV", environment)?;
            context.layout().place(app, environment).deploys
        }
    })
}

/// `catapult current`.
pub async fn current(context: &Context, name: &str, environment: Option<&str>) -> Result<()> {
    let app = context.app(name)?;
    let at = log_location(context, &app, environment)?;
    let latest = context
        .deadline(RecordLog::new(&context.store, &at).records(Some(1)))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            Failure::new(match environment {
                None => format!("{name} has no release yet ({at})"),
                Some(environment) => {
                    format!("{name} has never been deployed to {environment} ({at})")
                }
            })
        })?;
    print_stored(context, name, &latest, environment)
}

/// `catapult show`.
pub async fn show(
    context: &Context,
    name: &str,
    version: u64,
    environment: Option<&str>,
) -> Result<()> {
    let app = context.app(name)?;
    let found = match environment {
        None => {
            context
                .deadline(chosen_release(
                    &context.store,
                    &app,
                    &ReleaseChoice::Number {
                        version,
                        commit: None,
                    },
                ))
                .await?
        }
        Some(environment) => {
            let at = log_location(context, &app, Some(environment))?;
            context
                .deadline(RecordLog::new(&context.store, &at).find(None, |stored| {
                    if stored.record.version == version {
                        Judgement::Found
                    } else {
                        Judgement::Continue
                    }
                }))
                .await?
                .ok_or_else(|| {
                    Failure::new(format!(
                        "release {version} of {name} has never been deployed to {environment} ({at})"
                    ))
                })?
        }
    };
    print_stored(context, name, &found, environment)
}

/// The full sha of `revision` in the checkout.
fn resolve_revision(context: &Context, revision: &str) -> Result<(Checkout, String)> {
    let checkout = context.checkout()?;
    let sha = checkout.resolve(revision)?.sha;
    Ok((checkout, sha))
}

/// `catapult history`.
pub async fn history(
    context: &Context,
    name: &str,
    environment: Option<&str>,
    last: Option<usize>,
    contains: Option<&str>,
) -> Result<()> {
    let app = context.app(name)?;
    let at = log_location(context, &app, environment)?;
    let wanted = contains
        .map(|revision| resolve_revision(context, revision))
        .transpose()?;
    if last == Some(0) {
        return Err(Failure::new("--last: give 1 or more"));
    }
    let records = context
        .deadline(RecordLog::new(&context.store, &at).records(last))
        .await?;
    let answers: Vec<Option<Contains>> = records
        .iter()
        .map(|stored| {
            wanted
                .as_ref()
                .map(|(checkout, sha)| history::contains(Some(checkout), &stored.record, sha))
        })
        .collect();
    if context.printer.json {
        let values: Vec<Value> = records
            .iter()
            .zip(&answers)
            .map(|(stored, answer)| {
                let mut value = stored_json(name, stored, environment);
                if let (Some(answer), Value::Object(object)) = (answer, &mut value) {
                    object.insert("contains".into(), Value::from(answer.as_str()));
                }
                value
            })
            .collect();
        return context.printer.json(&Value::Array(values));
    }
    let now = Timestamp::now();
    let mut header = vec![
        "VERSION", "COMMIT", "TIME", "AGE", "AUTHOR", "ROLLBACK", "ACTION",
    ];
    if wanted.is_some() {
        header.push("CONTAINS");
    }
    let rows: Vec<Vec<Cell>> = records
        .iter()
        .zip(&answers)
        .map(|(stored, answer)| {
            let record = &stored.record;
            let mut row = vec![
                Cell::new(record.version.to_string(), Style::Bold),
                Cell::plain(record.short_commit()),
                Cell::plain(&record.timestamp),
                Cell::plain(age(&record.timestamp, now)),
                Cell::plain(record.author_or_unknown()),
                rollback_cell(record.rollback),
                Cell::plain(record.action_type.as_deref().unwrap_or("")),
            ];
            if let Some(answer) = answer {
                row.push(contains_cell(*answer));
            }
            row
        })
        .collect();
    context.printer.table(&header, &rows)
}

fn rollback_cell(rollback: bool) -> Cell {
    if rollback {
        Cell::new("yes", Style::Red)
    } else {
        Cell::new("no", Style::Dim)
    }
}

fn contains_cell(answer: Contains) -> Cell {
    let style = match answer {
        Contains::Yes => Style::Green,
        Contains::No => Style::Red,
        Contains::Unknown => Style::Yellow,
    };
    Cell::new(answer.as_str(), style)
}

/// `catapult find`.
pub async fn find(context: &Context, name: &str, revision: &str) -> Result<()> {
    let app = context.app(name)?;
    let (checkout, sha) = resolve_revision(context, revision)?;
    let found = context
        .deadline(history::first_release_containing(
            &context.store,
            &app,
            Some(&checkout),
            &sha,
        ))
        .await?
        .ok_or_else(|| {
            Failure::new(format!(
                "no release of {name} includes commit {} ({revision}) yet",
                &sha[..sha.len().min(7)]
            ))
        })?;
    print_stored(context, name, &found, None)
}

/// `catapult log`.
pub async fn log(context: &Context, name: &str, range: &str) -> Result<()> {
    let app = context.app(name)?;
    let (from, to) = range.split_once("..").ok_or_else(|| {
        Failure::new(format!(
            "{range:?} is not a range: write FROM..TO, each a release (v3) or a git revision"
        ))
    })?;
    if from.is_empty() || to.is_empty() {
        return Err(Failure::new(format!("{range:?}: give both ends, FROM..TO")));
    }
    let checkout = context.checkout()?;
    let from_sha = endpoint_sha(context, &app, &checkout, from).await?;
    let to_sha = endpoint_sha(context, &app, &checkout, to).await?;
    let to_commit = checkout.resolve(&to_sha)?;
    let changelog = checkout.changelog(Some(&from_sha), &to_commit, &[])?;
    if let Some(reason) = &changelog.unavailable {
        return Err(Failure::new(format!(
            "cannot list the commits of {range}: {reason}"
        )));
    }
    if context.printer.json {
        return context.printer.json(&json!({
            "name": name,
            "from": from_sha,
            "to": to_sha,
            "commits": changelog.commits,
            "changelog": changelog.text,
        }));
    }
    if changelog.text.is_empty() {
        note(&format!("no commits in {range}"));
        return Ok(());
    }
    context
        .printer
        .line(&crate::output::clean_lines(&changelog.text))
}

/// The commit a `log` range end names: `vN` is release N's, anything else a git revision.
async fn endpoint_sha(
    context: &Context,
    app: &App,
    checkout: &Checkout,
    end: &str,
) -> Result<String> {
    let number = end
        .strip_prefix('v')
        .and_then(|digits| digits.parse::<u64>().ok());
    match number {
        Some(version) => Ok(context
            .deadline(chosen_release(
                &context.store,
                app,
                &ReleaseChoice::Number {
                    version,
                    commit: None,
                },
            ))
            .await?
            .record
            .commit),
        None => Ok(checkout.resolve(end)?.sha),
    }
}

/// `catapult diff`.
pub async fn diff(context: &Context, name: &str, from: &str, to: &str) -> Result<()> {
    let app = context.app(name)?;
    let from_at = log_location(context, &app, Some(from))?;
    let to_at = log_location(context, &app, Some(to))?;
    let current = |at| async move {
        context
            .deadline(RecordLog::new(&context.store, at).records(Some(1)))
            .await
            .map(|records| records.into_iter().next())
    };
    let source = current(&from_at).await?.ok_or_else(|| {
        Failure::new(format!(
            "{name} has never been deployed to {from} ({from_at}): nothing to promote"
        ))
    })?;
    let target = current(&to_at).await?;
    let source_version = source.record.version;
    let target_version = target.as_ref().map(|stored| stored.record.version);
    let status = match target_version {
        Some(version) if version == source_version => "same",
        Some(version) if version > source_version => "ahead",
        _ => "ships",
    };
    let releases = if status == "ships" {
        context
            .deadline(history::releases_between(
                &context.store,
                &app,
                target_version.unwrap_or(0),
                source_version,
            ))
            .await?
    } else {
        Vec::new()
    };
    let commits: Vec<&str> = releases
        .iter()
        .flat_map(|stored| stored.record.commits.iter().map(String::as_str))
        .collect();
    if context.printer.json {
        let side = |environment: &str, stored: Option<&StoredRecord>| {
            json!({
                "environment": environment,
                "version": stored.map(|stored| stored.record.version),
                "commit": stored.map(|stored| stored.record.commit.clone()),
            })
        };
        return context.printer.json(&json!({
            "name": name,
            "from": side(from, Some(&source)),
            "to": side(to, target.as_ref()),
            "status": status,
            "releases": releases.iter().map(|stored| stored_json(name, stored, None)).collect::<Vec<_>>(),
            "commits": commits,
        }));
    }
    let printer = &context.printer;
    match status {
        "same" => printer.line(&format!(
            "{to} already runs release {source_version} of {name}, as {from} does: nothing to ship"
        )),
        "ahead" => printer.line(&format!(
            "{to} is ahead: it runs release {} of {name}, {from} runs release {source_version}; promoting would roll back",
            target_version.unwrap_or_default()
        )),
        _ => {
            printer.line(&format!(
                "promoting {from}'s release {source_version} of {name} to {to} ({}) would ship {} release{}:",
                match target_version {
                    Some(version) => format!("at release {version}"),
                    None => "never deployed".into(),
                },
                releases.len(),
                if releases.len() == 1 { "" } else { "s" }
            ))?;
            for stored in &releases {
                let record = &stored.record;
                printer.line(&format!(
                    "\n{} {}  {}  {}",
                    printer.paint(&format!("release {}", record.version), Style::Bold),
                    crate::output::clean(record.short_commit()),
                    crate::output::clean(record.author_or_unknown()),
                    crate::output::clean(&record.timestamp)
                ))?;
                for line in record.changelog.lines() {
                    printer.line(&format!("  {}", crate::output::clean(line)))?;
                }
            }
            Ok(())
        }
    }
}

/// `catapult status`.
pub async fn status(context: &Context, args: &StatusArgs) -> Result<()> {
    let layout = context.layout();
    for environment in &args.env {
        check_name("--env", environment)?;
    }
    let only = args
        .only
        .as_deref()
        .map(|pattern| {
            regex_lite::Regex::new(pattern).map_err(|err| {
                Failure::new(format!(
                    "--only: {pattern:?} is not a regular expression: {err}"
                ))
            })
        })
        .transpose()?;
    let wanted = args
        .contains
        .as_deref()
        .map(|revision| resolve_revision(context, revision))
        .transpose()?;
    let mut cache = FileCache::open(context.cache_dir.as_deref(), &context.store_name);
    let keep = |name: &str| only.as_ref().is_none_or(|only| only.is_match(name));
    let started = std::time::Instant::now();
    let asked = (!args.env.is_empty()).then_some(args.env.as_slice());
    let board::Board {
        projects,
        environments,
        cost,
    } = context
        .deadline(board::read_board(
            &context.store,
            layout,
            asked,
            args.releases_only,
            keep,
            &mut cache,
        ))
        .await?;
    cache.save();
    tracing::debug!(
        listings = cost.listings,
        cached = cost.cached,
        read = cost.read,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "read the board"
    );
    let contains = |stored: &StoredRecord| match &wanted {
        Some((checkout, sha)) => history::contains(Some(checkout), &stored.record, sha),
        None => Contains::Unknown,
    };
    if let Some(path) = &args.html {
        let page = html::Page {
            environments: &environments,
            source: &format!("s3://{}", layout.releases_bucket),
            now: Timestamp::now(),
            contains: args
                .contains
                .as_deref()
                .map(|revision| (revision, &contains as html::ContainsFn<'_>)),
        };
        let text = html::render(&projects, &page);
        std::fs::write(path, text)
            .map_err(|err| Failure::new(format!("cannot write {}: {err}", path.display())))?;
        note(&format!(
            "wrote the board of {} application{} to {}",
            projects.len(),
            if projects.len() == 1 { "" } else { "s" },
            path.display()
        ));
        return Ok(());
    }
    if context.printer.json {
        let rows: Vec<Value> = projects
            .iter()
            .flat_map(Project::rows)
            .map(|row| {
                let record = row.record.map(|stored| &stored.record);
                let mut value = json!({
                    "name": row.name,
                    "type": match row.kind { RowKind::Release => "release", RowKind::Deploy => "deploy" },
                    "environment": row.environment,
                    "version": record.map(|record| record.version),
                    "behind": row.behind,
                    "commit": record.map(|record| record.commit.clone()),
                    "author": record.map(|record| record.author_or_unknown().to_owned()),
                    "timestamp": record.map(|record| record.timestamp.clone()),
                    "action_type": record.and_then(|record| record.action_type.clone()),
                    "rollback": record.map(|record| record.rollback),
                });
                if let (Some(_), Value::Object(object)) = (&wanted, &mut value) {
                    object.insert(
                        "contains".into(),
                        row.record.map_or(Value::Null, |stored| Value::from(contains(stored).as_str())),
                    );
                }
                value
            })
            .collect();
        return context.printer.json(&Value::Array(rows));
    }
    let now = Timestamp::now();
    let mut header = vec![
        "NAME", "ENV", "VERSION", "BEHIND", "COMMIT", "AGE", "AUTHOR", "ROLLBACK", "ACTION",
    ];
    if wanted.is_some() {
        header.push("CONTAINS");
    }
    let mut rows = Vec::new();
    for project in &projects {
        for row in project.rows() {
            let (name_style, environment) = match row.kind {
                RowKind::Release => (Style::Cyan, Cell::new("(release)", Style::Cyan)),
                RowKind::Deploy => (
                    Style::Blue,
                    Cell::new(row.environment.unwrap_or_default(), Style::Blue),
                ),
            };
            let mut cells = vec![Cell::new(row.name, name_style), environment];
            match row.record {
                Some(stored) => {
                    let record = &stored.record;
                    cells.extend([
                        Cell::new(record.version.to_string(), Style::Bold),
                        Cell::new(
                            row.behind
                                .map(|behind| behind.to_string())
                                .unwrap_or_default(),
                            behind_style(row.behind),
                        ),
                        Cell::plain(record.short_commit()),
                        Cell::plain(age(&record.timestamp, now)),
                        Cell::plain(record.author_or_unknown()),
                        rollback_cell(record.rollback),
                        Cell::plain(record.action_type.as_deref().unwrap_or("")),
                    ]);
                    if wanted.is_some() {
                        cells.push(contains_cell(contains(stored)));
                    }
                }
                None => {
                    cells.push(Cell::new("never deployed", Style::Dim));
                }
            }
            rows.push(cells);
        }
    }
    if rows.is_empty() {
        note(&format!(
            "no applications in s3://{}",
            layout.releases_bucket
        ));
        return Ok(());
    }
    context.printer.table(&header, &rows)
}
