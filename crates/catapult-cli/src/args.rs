//! The command line's grammar, in clap's derive API: every argument's doc comment is its help,
//! every command has examples in its long help, and the older tool's command names stay valid
//! as visible aliases, so that old habits and scripts keep working.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Cut releases, deploy them, and see what is deployed where.
#[derive(Debug, Parser)]
#[command(
    name = "catapult",
    version,
    about = "Cut releases, deploy them, and see what is deployed where.",
    long_about = "Cut releases, deploy them, and see what is deployed where.\n\n\
        Each release, and each deploy of a release to an environment, is one version of one \
        JSON object in a versioned S3 bucket, exactly as the catapult Concourse resource writes \
        them. The buckets come from .catapult.toml at the root of the git repository.\n\n\
        Tables on a terminal, JSON when stdout is not a terminal (or with --json).",
    after_long_help = "Examples:\n  \
        catapult release api                 cut a release of api from HEAD\n  \
        catapult deploy api staging          deploy api's latest release to staging\n  \
        catapult current api production      what production runs now\n  \
        catapult status --contains HEAD      is my commit in each environment?\n  \
        catapult status --html board.html    the board as one page\n  \
        catapult completions zsh > _catapult"
)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: Global,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes, listed under their own heading.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Print JSON, even on a terminal.
    #[arg(long, global = true)]
    pub json: bool,

    /// When to colour the output: auto (a terminal, unless NO_COLOR is set), always, never.
    #[arg(
        long,
        global = true,
        value_name = "WHEN",
        default_value = "auto",
        hide_possible_values = true
    )]
    pub color: ColorChoice,

    /// The configuration file (default: .catapult.toml at the git repository's root).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The git repository (default: the one the current directory is in, or
    /// $CATAPULT_GIT_REPO).
    #[arg(long, global = true, value_name = "DIR")]
    pub repository: Option<PathBuf>,

    /// The AWS profile to use (default: $AWS_PROFILE, or $CATAPULT_AWS_PROFILE).
    #[arg(long, global = true, value_name = "PROFILE")]
    pub profile: Option<String>,

    /// The ARN of an MFA device: asks for a code once and keeps the session until it expires
    /// (default: $CATAPULT_AWS_MFA_DEVICE).
    #[arg(long, global = true, value_name = "ARN")]
    pub mfa_device: Option<String>,

    /// Print debug logs on stderr.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

/// When to colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Cut a release: the next number, from a commit of the git repository.
    #[command(
        visible_alias = "release.new",
        long_about = "Cut release latest+1 of NAME from a commit of the git repository (default \
            HEAD), exactly as the Concourse resource's put does: the changelog since the \
            latest release, the rollback rule (a commit that does not descend from the latest \
            release's is refused unless --rollback), and a conditional write that never \
            duplicates a number. The record is shown and, on a terminal, confirmed before it is \
            written, unless --yes. Its author is --author, or git's user.email.\n\n\
            The image's digest is --image or --image-file; without either (and without \
            --no-image), when .catapult.toml has [release] docker_repository, it is looked up \
            in the registry, as the older tool did: the tag ref-<full commit sha> of \
            <docker_repository>/<docker_image_prefix><NAME> (or of --image-name), with the \
            credentials of Docker's config.json.",
        after_long_help = "Examples:\n  \
            catapult release api                 the image's digest from the registry\n  \
            catapult release api --commit v2.3.0 --image sha256:6ac4…97bd --yes\n  \
            catapult release api --image-name api-server\n  \
            catapult release api --no-image --paths services/api --dry-run\n  \
            catapult release api --commit HEAD~3 --rollback"
    )]
    Release(ReleaseArgs),

    /// Deploy a release (default: the latest) to an environment.
    #[command(
        visible_alias = "deploy.start",
        long_about = "Deploy release --version (default: the latest) of NAME to ENV, with the \
            rollback rule (an older release than the one ENV runs is refused unless --rollback) \
            and the promotion gate of ENV's require_deployed_to. The record is shown and, on a \
            terminal, confirmed before it is written, unless --yes. When .catapult.toml \
            declares environments ([deploy.<env>]), ENV must be one of them, unless \
            --new-environment.",
        after_long_help = "Examples:\n  \
            catapult deploy api staging\n  \
            catapult deploy api qa --new-environment\n  \
            catapult deploy api production --version 12 --yes\n  \
            catapult deploy api production --version 11 --rollback"
    )]
    Deploy(DeployArgs),

    /// Show the latest release, or what an environment runs now.
    #[command(
        visible_aliases = ["release.current", "deploy.current"],
        after_long_help = "Examples:\n  \
            catapult current api\n  \
            catapult current api production --json"
    )]
    Current {
        /// The application.
        #[arg(value_name = "NAME")]
        name: String,
        /// An environment: show the deploy it runs now instead.
        #[arg(value_name = "ENV")]
        environment: Option<String>,
    },

    /// Show one release, or the newest deploy of it to an environment.
    #[command(
        visible_alias = "release.get",
        after_long_help = "Examples:\n  \
            catapult show api 12\n  \
            catapult show api 12 production"
    )]
    Show {
        /// The application.
        #[arg(value_name = "NAME")]
        name: String,
        /// The release number.
        #[arg(value_name = "VERSION")]
        version: u64,
        /// An environment: show the newest deploy of that release there instead.
        #[arg(value_name = "ENV")]
        environment: Option<String>,
    },

    /// List every release, or every deploy to an environment, newest first.
    #[command(
        visible_aliases = ["release.ls", "deploy.ls"],
        after_long_help = "Examples:\n  \
            catapult history api --last 10\n  \
            catapult history api production\n  \
            catapult history api production --contains 42182bb"
    )]
    History {
        /// The application.
        #[arg(value_name = "NAME")]
        name: String,
        /// An environment: list its deploys instead.
        #[arg(value_name = "ENV")]
        environment: Option<String>,
        /// Only the newest N.
        #[arg(long, value_name = "N")]
        last: Option<usize>,
        /// Tell whether each includes this commit (any git revision): Y, N, or ? when neither
        /// the repository nor the record can tell.
        #[arg(long, value_name = "REV")]
        contains: Option<String>,
    },

    /// Find the first release that includes a commit.
    #[command(
        visible_alias = "release.find",
        after_long_help = "Examples:\n  \
            catapult find api 42182bb\n  \
            catapult find api origin/fix-login"
    )]
    Find {
        /// The application.
        #[arg(value_name = "NAME")]
        name: String,
        /// The commit: a sha, a branch, a tag, any git revision.
        #[arg(value_name = "REV")]
        revision: String,
    },

    /// Show the commits between two releases.
    #[command(
        visible_alias = "release.log",
        after_long_help = "Examples:\n  \
            catapult log api v3..v7       the commits of releases 4 to 7\n  \
            catapult log api v7..HEAD     what the next release would ship"
    )]
    Log {
        /// The application.
        #[arg(value_name = "NAME")]
        name: String,
        /// FROM..TO, each a release (v3) or a git revision.
        #[arg(value_name = "FROM..TO")]
        range: String,
    },

    /// What promoting one environment's release to another would ship.
    #[command(after_long_help = "Examples:\n  \
            catapult diff api staging production")]
    Diff {
        /// The application.
        #[arg(value_name = "NAME")]
        name: String,
        /// The environment whose release would be promoted.
        #[arg(value_name = "ENV_FROM")]
        from: String,
        /// The environment it would be deployed to.
        #[arg(value_name = "ENV_TO")]
        to: String,
    },

    /// The board: every application's latest release and what each environment runs.
    #[command(
        visible_alias = "projects.ls",
        long_about = "The board: every application's latest release and, per environment, the \
            release it runs now, how many releases behind the latest it is, its age and \
            author. Applications are the keys of the release bucket. Records already read are \
            kept in a cache ($XDG_CACHE_HOME/catapult), so a board with nothing new costs one \
            listing per bucket.",
        after_long_help = "Examples:\n  \
            catapult status\n  \
            catapult status --env production --only '^api'\n  \
            catapult status --contains HEAD\n  \
            catapult status --html board.html"
    )]
    Status(StatusArgs),

    /// Which releases, and which environments, hold a commit that mentions a ticket.
    #[command(
        visible_alias = "tickets.find",
        long_about = "Which releases of each application hold a commit whose message (subject \
            or body) mentions TICKET, and whether what each environment runs now holds it. \
            Each release records the tickets its commits mention, so the answer comes from the \
            bucket alone; a release written before tickets were kept is read from the git \
            repository when the command runs in one, and is otherwise ?. Tickets are found \
            with .catapult.toml's [tickets] pattern (default: ABC-123, sc-123 and ch123).",
        after_long_help = "Examples:\n  \
            catapult tickets OPS-142\n  \
            catapult tickets sc-981 api web --json"
    )]
    Tickets(TicketsArgs),

    /// Delivery metrics (DORA's four keys) per application and environment.
    #[command(
        long_about = "DORA's four keys per application and environment over a window (default \
            the last 30 days, ending at the store's time), from the bucket alone: deploys per \
            day, the median lead time for changes (deploy time less commit time, over the \
            commits each deploy brought for the first time), the change failure rate (the \
            share of deploys the next deploy rolled back) and the median failed deployment \
            recovery time (from a deploy to the rollback that followed it). A figure without \
            the data it needs is n/a, never a guess; the README gives the definitions.",
        after_long_help = "Examples:\n  \
            catapult metrics\n  \
            catapult metrics api --env production --since 90d --json"
    )]
    Metrics(MetricsArgs),

    /// Approve a release for an environment that requires approval.
    #[command(
        long_about = "Approve release VERSION of NAME for ENV, whose configuration says \
            require_approval: true. The approval is a record on its own key \
            (approvals/<env>/<name>), written exactly once, naming the approver (--approver, or \
            git's user.email) and the AWS identity of the credentials that wrote it. No one \
            approves their own release.",
        after_long_help = "Examples:\n  \
            catapult approve api 12 production\n  \
            catapult approve api 12 production --reason \"checked the dashboards\""
    )]
    Approve(ApproveArgs),

    /// Freeze an environment: deploys there are refused until a time.
    #[command(
        long_about = "Freeze ENV for every application until --until (a time, or a duration \
            from now), with a reason. Deploys there are refused while it holds, unless they \
            override it (--override-freeze, override_freeze: true), which their record keeps.",
        after_long_help = "Examples:\n  \
            catapult freeze production --until 2h --reason \"incident 4211\"\n  \
            catapult freeze production --until 2026-12-28T09:00:00Z --reason \"year-end close\""
    )]
    Freeze(FreezeArgs),

    /// Lift a freeze set with `catapult freeze`.
    #[command(after_long_help = "Examples:\n  \
            catapult unfreeze production")]
    Unfreeze(UnfreezeArgs),

    /// Show, or clear, the hold a rollback put on an environment.
    #[command(
        long_about = "After a rollback deploy to ENV, automated deploys of a release newer than \
            the one rolled back to are refused there, so that a pipeline does not deploy again \
            what a person just rolled back. A deploy by hand lifts the hold; so does \
            --clear, which records who cleared it.",
        after_long_help = "Examples:\n  \
            catapult release-hold api production\n  \
            catapult release-hold api production --clear --reason \"fixed in 13\""
    )]
    ReleaseHold(HoldArgs),

    /// Print a shell completion script.
    #[command(after_long_help = "Examples:\n  \
            catapult completions bash > /etc/bash_completion.d/catapult\n  \
            catapult completions zsh > ~/.zfunc/_catapult\n  \
            catapult completions fish > ~/.config/fish/completions/catapult.fish")]
    Completions {
        /// The shell.
        #[arg(value_name = "SHELL")]
        shell: Shell,
    },
}

/// The shells completions are written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// Bash.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
}

/// `catapult release`.
#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// The application.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The commit to release: a sha, a branch, a tag, any git revision.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub commit: String,
    /// The image's digest (default: looked up in the registry, when .catapult.toml has
    /// [release] docker_repository).
    #[arg(
        long,
        visible_alias = "image-id",
        value_name = "sha256:DIGEST",
        conflicts_with_all = ["image_file", "no_image", "image_name"]
    )]
    pub image: Option<String>,
    /// A file holding the image's digest.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["no_image", "image_name"])]
    pub image_file: Option<PathBuf>,
    /// A release without an image ("image": null): no lookup in the registry.
    #[arg(long, visible_alias = "no-has-image")]
    pub no_image: bool,
    /// The older tool's default, accepted: the release has an image.
    #[arg(long, hide = true, conflicts_with = "no_image")]
    pub has_image: bool,
    /// The image's name in docker_repository, in place of docker_image_prefix + NAME: its
    /// digest is looked up at <docker_repository>/<IMAGE>:ref-<commit sha>.
    #[arg(long, value_name = "IMAGE", conflicts_with = "no_image")]
    pub image_name: Option<String>,
    /// Who releases (default: git's user.email, else the commit's author).
    #[arg(long, value_name = "EMAIL")]
    pub author: Option<String>,
    /// Only commits touching these paths make the changelog.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub paths: Vec<String>,
    /// Release the latest release's commit again.
    #[arg(long)]
    pub force: bool,
    /// Allow a commit that does not descend from the latest release's.
    #[arg(long)]
    pub rollback: bool,
    /// Show the record that would be written, and write nothing.
    #[arg(long, visible_alias = "dry")]
    pub dry_run: bool,
    /// Write without asking.
    #[arg(short, long)]
    pub yes: bool,
}

/// `catapult deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The application.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The environment.
    #[arg(value_name = "ENV")]
    pub environment: String,
    /// The release number (default: the latest release).
    #[arg(long, value_name = "N")]
    pub version: Option<u64>,
    /// Allow an older release than the one the environment runs.
    #[arg(long)]
    pub rollback: bool,
    /// Deploy even though the environment is frozen; the deploy records that it did.
    #[arg(long)]
    pub override_freeze: bool,
    /// Deploy to an environment the configuration does not declare, on purpose.
    #[arg(long)]
    pub new_environment: bool,
    /// Show the record that would be written, and write nothing.
    #[arg(long, visible_alias = "dry")]
    pub dry_run: bool,
    /// Write without asking.
    #[arg(short, long)]
    pub yes: bool,
}

/// `catapult status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only these environments (comma separated).
    #[arg(long, value_name = "ENV,…", value_delimiter = ',')]
    pub env: Vec<String>,
    /// Only the applications whose name matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub only: Option<String>,
    /// Only the releases, no deploys.
    #[arg(long)]
    pub releases_only: bool,
    /// Tell whether each release and deploy includes this commit (any git revision).
    #[arg(long, value_name = "REV", conflicts_with = "ticket")]
    pub contains: Option<String>,
    /// Tell whether each release and deploy holds a commit that mentions this ticket.
    #[arg(long, value_name = "TICKET")]
    pub ticket: Option<String>,
    /// Write the board as one self-contained HTML page to FILE instead.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// `catapult tickets`.
#[derive(Debug, Args)]
pub struct TicketsArgs {
    /// The ticket, as the commit messages write it (OPS-142).
    #[arg(value_name = "TICKET")]
    pub ticket: String,
    /// Only these applications (default: every one; only those that hold it are shown).
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Only these environments (comma separated).
    #[arg(long, value_name = "ENV,…", value_delimiter = ',')]
    pub env: Vec<String>,
}

/// `catapult metrics`.
#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Only these applications (default: every one).
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Only these environments (comma separated).
    #[arg(long, value_name = "ENV,…", value_delimiter = ',')]
    pub env: Vec<String>,
    /// The window, up to now: 30d, 12h, 1h30m (default: 30d).
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
}

/// `catapult approve`.
#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The application.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The release number.
    #[arg(value_name = "VERSION")]
    pub version: u64,
    /// The environment it is approved for.
    #[arg(value_name = "ENV")]
    pub environment: String,
    /// Why.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Who approves (default: git's user.email).
    #[arg(long, value_name = "EMAIL")]
    pub approver: Option<String>,
}

/// `catapult freeze`.
#[derive(Debug, Args)]
pub struct FreezeArgs {
    /// The environment.
    #[arg(value_name = "ENV")]
    pub environment: String,
    /// Until when: a time (2026-12-28T09:00:00Z) or a duration from now (2h, 1d).
    #[arg(long, value_name = "TIME")]
    pub until: String,
    /// Why: every refused deploy says it.
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Who freezes (default: git's user.email).
    #[arg(long, value_name = "EMAIL")]
    pub by: Option<String>,
}

/// `catapult unfreeze`.
#[derive(Debug, Args)]
pub struct UnfreezeArgs {
    /// The environment.
    #[arg(value_name = "ENV")]
    pub environment: String,
    /// Who lifts the freeze (default: git's user.email).
    #[arg(long, value_name = "EMAIL")]
    pub by: Option<String>,
}

/// `catapult release-hold`.
#[derive(Debug, Args)]
pub struct HoldArgs {
    /// The application.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The environment.
    #[arg(value_name = "ENV")]
    pub environment: String,
    /// Clear the hold, so that automated deploys go ahead again.
    #[arg(long)]
    pub clear: bool,
    /// Why it is cleared.
    #[arg(long, value_name = "TEXT", requires = "clear")]
    pub reason: Option<String>,
    /// Who clears it (default: git's user.email).
    #[arg(long, value_name = "EMAIL", requires = "clear")]
    pub by: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_grammar_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn old_command_names_still_parse() {
        for args in [
            vec!["catapult", "release.new", "api"],
            vec!["catapult", "release.current", "api"],
            vec!["catapult", "release.get", "api", "3"],
            vec!["catapult", "release.ls", "api"],
            vec!["catapult", "release.find", "api", "HEAD"],
            vec!["catapult", "release.log", "api", "v1..v2"],
            vec!["catapult", "deploy.start", "api", "staging"],
            vec!["catapult", "deploy.current", "api", "staging"],
            vec!["catapult", "deploy.ls", "api", "staging"],
            vec!["catapult", "projects.ls"],
            vec!["catapult", "tickets.find", "OPS-1"],
            // The older tool's flags of release.new and deploy.start.
            vec!["catapult", "release.new", "api", "--no-has-image", "--dry"],
            vec![
                "catapult",
                "release.new",
                "api",
                "--image-id",
                "sha256:x",
                "--yes",
            ],
            vec![
                "catapult",
                "release.new",
                "api",
                "--has-image",
                "--image-name",
                "x",
            ],
            vec!["catapult", "deploy.start", "api", "staging", "--dry"],
        ] {
            Cli::try_parse_from(&args).unwrap();
        }
    }

    #[test]
    fn one_way_to_give_the_image() {
        for args in [
            vec!["catapult", "release", "api", "--image", "x", "--no-image"],
            vec![
                "catapult",
                "release",
                "api",
                "--image-id",
                "x",
                "--image-file",
                "f",
            ],
            vec![
                "catapult",
                "release",
                "api",
                "--image-file",
                "f",
                "--image-name",
                "x",
            ],
            vec![
                "catapult",
                "release",
                "api",
                "--no-has-image",
                "--image-name",
                "x",
            ],
            vec!["catapult", "release", "api", "--no-image", "--has-image"],
        ] {
            let err = Cli::try_parse_from(&args).unwrap_err();
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::ArgumentConflict,
                "{args:?}"
            );
        }
    }
}
