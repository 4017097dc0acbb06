//! The git adapter: the user's checkout, read through libgit2 and nothing else (no `git`
//! binary, no network, no writes). Which commit is being released ([`Checkout::resolve`]),
//! whether it descends from the previous release's commit ([`relation`]: a rollback when it does
//! not), and the changelog between the two ([`changelog`]). A previous commit that the checkout
//! does not hold (a shallow clone) is not a failure: the changelog then says why it is
//! unavailable, and the caller warns. Errors are this module's own [`GitError`], naming the path
//! and the revision at fault.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use git2::{ErrorCode, Oid, Repository, Sort};

pub mod changelog;
pub mod facts;
mod pathspec;
pub mod relation;

pub use changelog::{Changelog, render_changelog};
pub use relation::Relation;

/// What can go wrong reading a checkout.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// A git operation on the checkout failed: not a repository, an unknown commit, a broken
    /// history. The message names the path and the commit asked for.
    #[error("{message}")]
    Repository {
        /// What failed, naming the checkout's path and the ref or sha at fault.
        message: String,
        /// What libgit2 said, when it said anything.
        #[source]
        source: Option<git2::Error>,
    },
    /// A `changelog_paths` entry that is not a path inside the repository.
    #[error("{0}")]
    InvalidPath(String),
}

/// The git adapter's results.
pub type Result<T, E = GitError> = std::result::Result<T, E>;

/// How many hex digits a full SHA-1 commit id has.
const FULL_SHA: usize = 40;
/// How many hex digits of a sha a short sha shows.
const SHORT_SHA: usize = 7;

/// Sets libgit2 up, for the whole process, to read a checkout once and end, as a step or a
/// command does: the executable calls this first. A changelog over 10,000 commits reads 10,000
/// commits and, with `changelog_paths`, 20,000 trees, each once or twice.
///
/// - No object cache. libgit2 keeps every object it reads, up to 256 MB, in case it is read
///   again: over such a range that held 3.5 MB of `out`'s peak memory, 8 MB with the paths' trees
///   (22 MB in all, against 15.5 MB without). Without it, an object read twice is inflated twice.
/// - No hash check of each object read. libgit2 hashes every object it reads to compare with its
///   id, which took a quarter of the walk's time; git itself does not on reads (`git fsck` does).
pub fn set_up_for_one_pass() {
    git2::opts::enable_caching(false);
    git2::opts::strict_hash_verification(false);
}

/// A commit of the checkout, as a record needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The full sha, 40 lowercase hex digits.
    pub sha: String,
    /// The author's name (invalid UTF-8 replaced).
    pub author_name: String,
    /// The author's email (invalid UTF-8 replaced): the record's default `author`.
    pub author_email: String,
}

/// The user's git checkout (`params.repository`), opened once.
pub struct Checkout {
    repo: Repository,
    path: PathBuf,
}

impl fmt::Debug for Checkout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checkout")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Checkout {
    /// Opens the git checkout at `path`: the directory itself, not a subdirectory of a checkout.
    /// The error names the path.
    pub fn open(path: &Path) -> Result<Checkout> {
        match Repository::open(path) {
            Ok(repo) => Ok(Checkout {
                repo,
                path: path.to_path_buf(),
            }),
            Err(e) => {
                let message = match e.code() {
                    ErrorCode::NotFound => format!(
                        "params.repository: {} is not a git repository",
                        path.display()
                    ),
                    ErrorCode::Owner => format!(
                        "params.repository: {} is owned by another user, so git refuses to open it",
                        path.display()
                    ),
                    _ => format!(
                        "params.repository: cannot open the git repository {}",
                        path.display()
                    ),
                };
                Err(git_error(message, e))
            }
        }
    }

    /// Resolves `spec` to a commit: a branch, a tag (annotated or not), a full or abbreviated
    /// sha, or any other revision git accepts (`HEAD~2`, `origin/main`). The error names the
    /// spec and the checkout's path.
    pub fn resolve(&self, spec: &str) -> Result<Commit> {
        let object = self.repo.revparse_single(spec).map_err(|e| {
            let message = match e.code() {
                ErrorCode::NotFound | ErrorCode::InvalidSpec => {
                    format!("unknown commit {spec:?} in {}", self.path.display())
                }
                ErrorCode::Ambiguous => format!(
                    "ambiguous commit {spec:?} in {}: more than one object starts with it",
                    self.path.display()
                ),
                _ => format!("cannot resolve {spec:?} in {}", self.path.display()),
            };
            git_error(message, e)
        })?;
        let commit = object.peel_to_commit().map_err(|e| {
            let kind = object.kind().map_or("object", |kind| kind.str());
            git_error(
                format!(
                    "{spec:?} in {} names a {kind}, not a commit",
                    self.path.display()
                ),
                e,
            )
        })?;
        Ok(to_commit(&commit))
    }

    /// The commit HEAD points to. An empty repository (an unborn branch) is an error naming the
    /// path.
    pub fn head(&self) -> Result<Commit> {
        let head = self.repo.head().map_err(|e| {
            let message = match e.code() {
                ErrorCode::UnbornBranch | ErrorCode::NotFound => {
                    format!("{} has no commits: HEAD is unborn", self.path.display())
                }
                _ => format!("cannot read HEAD of {}", self.path.display()),
            };
            git_error(message, e)
        })?;
        let commit = head.peel_to_commit().map_err(|e| {
            git_error(
                format!("HEAD of {} is not a commit", self.path.display()),
                e,
            )
        })?;
        Ok(to_commit(&commit))
    }

    /// The email address git's configuration gives for this checkout (`user.email`: the
    /// repository's own, then the user's and the system's), if any.
    pub fn configured_email(&self) -> Option<String> {
        self.repo
            .config()
            .ok()?
            .get_string("user.email")
            .ok()
            .filter(|email| !email.trim().is_empty())
    }

    /// The checkout's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A walk over `(previous, new]`, newest first.
    fn walk(&self, previous: Option<Oid>, new: Oid) -> Result<git2::Revwalk<'_>, git2::Error> {
        let mut walk = self.repo.revwalk()?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)?;
        walk.push(new)?;
        if let Some(previous) = previous {
            walk.hide(previous)?;
        }
        Ok(walk)
    }

    /// The previous release's commit, or why the checkout does not hold it.
    fn find_previous(&self, previous: &str) -> Result<Oid, String> {
        let oid = parse_full_sha(previous).ok_or_else(|| {
            format!("the previous release's commit {previous:?} is not a full commit sha")
        })?;
        match self.repo.find_commit(oid) {
            Ok(_) => Ok(oid),
            Err(e) if e.code() == ErrorCode::NotFound => Err(format!(
                "the previous release's commit {} is not in this checkout (a shallow clone?)",
                short_sha(previous)
            )),
            Err(e) => Err(format!(
                "the previous release's commit {} cannot be read from this checkout: {}",
                short_sha(previous),
                e.message()
            )),
        }
    }

    /// The id of `commit`, which must be in the checkout.
    fn commit_oid(&self, commit: &Commit) -> Result<Oid> {
        let unknown = |source| GitError::Repository {
            message: format!("unknown commit {:?} in {}", commit.sha, self.path.display()),
            source,
        };
        let oid = parse_full_sha(&commit.sha).ok_or_else(|| unknown(None))?;
        self.repo.find_commit(oid).map_err(|e| unknown(Some(e)))?;
        Ok(oid)
    }

    /// The commits a shallow clone holds without their parents (`.git/shallow`); empty for a
    /// complete clone.
    fn shallow_roots(&self) -> HashSet<Oid> {
        if !self.repo.is_shallow() {
            return HashSet::new();
        }
        // libgit2 reads the same file to cut the history at these commits.
        std::fs::read_to_string(self.repo.path().join("shallow"))
            .map(|text| {
                text.lines()
                    .filter_map(|line| parse_full_sha(line.trim()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The commit's fields a record needs.
fn to_commit(commit: &git2::Commit<'_>) -> Commit {
    let author = commit.author();
    Commit {
        sha: commit.id().to_string(),
        author_name: String::from_utf8_lossy(author.name_bytes()).into_owned(),
        author_email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
    }
}

/// `sha` as a commit id, when it is a full SHA-1 sha (40 hex digits). Abbreviations are refused:
/// libgit2 would read them as the sha padded with zeros.
fn parse_full_sha(sha: &str) -> Option<Oid> {
    if sha.len() == FULL_SHA && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        Oid::from_str(sha).ok()
    } else {
        None
    }
}

/// The first 7 characters of a sha, as git shows it: the one short form every message, table
/// and changelog line uses.
pub fn short_sha(sha: &str) -> &str {
    sha.get(..SHORT_SHA).unwrap_or(sha)
}

/// Why a shallow clone cannot give the range from `previous`.
fn shallow_reason(previous: &str) -> String {
    format!(
        "this shallow clone's history stops before the previous release's commit {}",
        short_sha(previous)
    )
}

/// A git error with the message naming what failed.
fn git_error(message: String, source: git2::Error) -> GitError {
    GitError::Repository {
        message,
        source: Some(source),
    }
}

#[cfg(test)]
mod tests;
