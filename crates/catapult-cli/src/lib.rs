//! `catapult`, the command line over catapult's core, for people who release and deploy by hand
//! and ask what is deployed where. [`main`] parses the flags ([`args`]), reads the configuration
//! ([`config`]), opens the store (the one place the command line builds it), runs one command
//! ([`commands`], a file each) on a single-threaded runtime, and on failure prints one
//! `error: …` line on stderr and exits 1.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use catapult_core::record::text::FormatEscaping;
use catapult_core::store::s3::{S3Store, check_region, profile_region, store_name};
use catapult_core::store::tally::Tallied;
use clap::{CommandFactory, Parser};

mod args;
mod cache;
mod commands;
mod config;
mod credentials;
mod error;
mod html;
mod output;

use args::{Cli, Command, Shell};
use error::{Failure, Result};

/// Runs `catapult` with the process's arguments, and returns its exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // Help and the version go to stdout with success; a usage error exits 1.
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    init_logging(cli.global.verbose, cli.global.color);
    match run(cli) {
        Ok(()) | Err(Failure::BrokenPipe) => ExitCode::SUCCESS,
        Err(err) => {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "error: {}", err.one_line());
            ExitCode::FAILURE
        }
    }
}

/// Logs on stderr: catapult's own at info (debug with `--verbose`), without the level for
/// info, coloured as `--color` says for stderr; the AWS SDK's at warnings only, and its credential
/// providers' not even those unless `--verbose`: each provider of the chain that finds nothing
/// warns with a dump of its error, and the one line `main` prints says it better.
fn init_logging(verbose: bool, color: args::ColorChoice) {
    use tracing::Level;
    use tracing_subscriber::Layer;
    use tracing_subscriber::filter::{Targets, filter_fn};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let ours = if verbose { Level::DEBUG } else { Level::INFO };
    let credential_providers = if verbose { Level::WARN } else { Level::ERROR };
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    let ansi = match color {
        args::ColorChoice::Always => true,
        args::ColorChoice::Never => false,
        args::ColorChoice::Auto => {
            !no_color && std::io::IsTerminal::is_terminal(&std::io::stderr())
        }
    };
    // What a step did, as plain lines; warnings and errors with their level.
    let news = tracing_subscriber::fmt::layer()
        .with_writer(|| FormatEscaping(std::io::stderr()))
        .with_ansi(ansi)
        .without_time()
        .with_target(false)
        .with_level(verbose)
        .with_filter(filter_fn(|meta| *meta.level() >= Level::INFO));
    let problems = tracing_subscriber::fmt::layer()
        .with_writer(|| FormatEscaping(std::io::stderr()))
        .with_ansi(ansi)
        .without_time()
        .with_target(false)
        .with_filter(filter_fn(|meta| *meta.level() < Level::INFO));
    let _ = tracing_subscriber::registry()
        .with(news)
        .with(problems)
        .with(
            Targets::new()
                .with_target("catapult_core", ours)
                .with_target("catapult", ours)
                .with_target("aws_config::meta::credentials", credential_providers)
                .with_target("aws_config::imds", credential_providers)
                .with_target("aws_config::default_provider", credential_providers)
                .with_default(Level::WARN),
        )
        .try_init();
}

/// The root of the git repository `start` is in, if any.
fn repository_root(start: &Path) -> Option<PathBuf> {
    let start = start.canonicalize().ok()?;
    start
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf)
}

fn run(cli: Cli) -> Result<()> {
    let global = &cli.global;
    if let Command::Completions { shell } = &cli.command {
        let shell = match shell {
            Shell::Bash => clap_complete::Shell::Bash,
            Shell::Zsh => clap_complete::Shell::Zsh,
            Shell::Fish => clap_complete::Shell::Fish,
        };
        clap_complete::generate(
            shell,
            &mut Cli::command(),
            "catapult",
            &mut std::io::stdout(),
        );
        return Ok(());
    }
    let printer = output::Printer::new(global.json, global.color)?;
    let start = global
        .repository
        .clone()
        .or_else(|| std::env::var_os("CATAPULT_GIT_REPO").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."));
    let root = repository_root(&start);
    if global.repository.is_some() && root.is_none() {
        return Err(Failure::new(format!(
            "--repository: {} is not in a git repository",
            start.display()
        )));
    }
    let env = |name: &str| std::env::var(name).ok();
    let config = config::load(global.config.as_deref(), root.as_deref(), &env)?;
    let cache_dir = cache::directory();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| Failure::new(format!("cannot start the async runtime: {err}")))?;
    runtime.block_on(async {
        let mut connection = config.connection.clone();
        let profile = credentials::profile(global.profile.as_deref());
        if !config.region_named {
            if let Some(region) = profile_region(profile.as_deref()).await {
                check_region("the profile's region", &region).map_err(Failure::new)?;
                connection.region = region;
            }
        }
        credentials::apply(
            &mut connection,
            profile.clone(),
            global.mfa_device.clone(),
            cache_dir.as_deref(),
        )
        .await?;
        // The one place the command line builds the store it works against.
        let store = S3Store::connect(&connection)
            .await
            .map_err(|err| Failure::new(format!("{}: {err}", config.source)))?;
        let context = commands::Context {
            printer,
            store_name: store_name(&connection),
            config,
            store: Tallied::new(store),
            root,
            cache_dir,
        };
        commands::run(&context, &cli.command)
            .await
            .map_err(|failure| credentials::explain(failure, profile.as_deref()))
    })
}
