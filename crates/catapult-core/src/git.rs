//! The git work of `out`: which commit is being released, whether it descends from the previous
//! release's commit (a rollback when it does not), and the changelog between the two. It reads
//! the checkout the pipeline gave as `params.repository` through libgit2 and nothing else: no
//! `git` binary, no network, no writes.
//!
//! A release's changelog is the commits in `(previous, new]`, exactly as `git log previous..new`
//! lists them, newest first, cut to 50 lines (see [`render_changelog`]). A previous commit that
//! the checkout does not hold (a shallow clone) is not a failure: the changelog then says why it
//! is unavailable, and the caller warns.
//!
//! Dates are the author's date in the author's own UTC offset, as recorded in the commit (what
//! `git log --date=short` shows), not in the machine's time zone: the result does not depend on
//! where the build runs, and no time zone database is needed.

use std::collections::HashSet;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use git2::{ErrorCode, Oid, Repository, Sort, Tree};

use crate::error::{Error, Result};

/// A changelog longer than this many lines is cut.
const MAX_LINES: usize = 50;
/// How many of the newest lines a cut changelog keeps.
const KEEP_HEAD: usize = 47;
/// How many of the oldest lines a cut changelog keeps.
const KEEP_TAIL: usize = 2;
/// How many hex digits of a sha a changelog line shows.
const SHORT_SHA: usize = 7;
/// How many hex digits a full SHA-1 commit id has.
const FULL_SHA: usize = 40;

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

/// How a new commit stands to the previous release's commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relation {
    /// The new commit is the previous one.
    Same,
    /// The new commit descends from the previous one: a release going forward.
    Descendant,
    /// The previous commit is not an ancestor of the new one: a rollback (or a release from a
    /// branch that diverged).
    NotDescendant,
    /// The checkout cannot tell: the previous commit is not in it (a shallow clone), its history
    /// stops before reaching it, or the previous sha is malformed.
    PreviousMissing {
        /// Why, in a phrase fit for a warning: "the previous release's commit 1234567 is not in
        /// this checkout (a shallow clone?)".
        reason: String,
    },
}

/// The changelog of a release: the commits since the previous release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changelog {
    /// One line per commit, newest first, cut as [`render_changelog`] says; empty for an empty
    /// range; `<changelog unavailable: …>` when the range cannot be known.
    pub text: String,
    /// The full sha of every commit in the range (after the path filter), newest first, never
    /// cut. Empty when the changelog is unavailable.
    pub commits: Vec<String>,
    /// Why the changelog is unavailable (the previous release's commit is not in the checkout),
    /// for the caller to warn about; `None` when it is complete.
    pub unavailable: Option<String>,
}

impl Changelog {
    fn unavailable(reason: String) -> Self {
        Changelog {
            text: format!("<changelog unavailable: {reason}>"),
            commits: Vec::new(),
            unavailable: Some(reason),
        }
    }
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

    /// How `new` stands to `previous`, the previous release's commit (a full sha). This never
    /// fails: whatever keeps the checkout from telling (`previous` absent or malformed, a
    /// shallow history that stops before it, a broken object) is
    /// [`Relation::PreviousMissing`] with the reason.
    pub fn relation(&self, previous: &str, new: &Commit) -> Relation {
        let missing = |reason| Relation::PreviousMissing { reason };
        let previous_oid = match self.find_previous(previous) {
            Ok(oid) => oid,
            Err(reason) => return missing(reason),
        };
        let new_oid = match self.commit_oid(new) {
            Ok(oid) => oid,
            Err(e) => return missing(e.to_string()),
        };
        if previous_oid == new_oid {
            return Relation::Same;
        }
        match self.repo.graph_descendant_of(new_oid, previous_oid) {
            Ok(true) => Relation::Descendant,
            // A shallow history that stops before `previous` cannot tell a rollback from a
            // history it does not hold.
            Ok(false) => match self.range_hits_shallow_boundary(previous_oid, new_oid) {
                Ok(false) => Relation::NotDescendant,
                Ok(true) => missing(shallow_reason(previous)),
                Err(e) => missing(cannot_relate_reason(previous, &new.sha, &e)),
            },
            Err(e) => missing(cannot_relate_reason(previous, &new.sha, &e)),
        }
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

    /// Whether the commit `sha` includes the commit `wanted` (is it, or descends from it); `None`
    /// when the checkout cannot tell (either is not in it, or is not a full sha).
    pub fn includes(&self, sha: &str, wanted: &str) -> Option<bool> {
        let commit = parse_full_sha(sha)?;
        let wanted = parse_full_sha(wanted)?;
        self.repo.find_commit(commit).ok()?;
        self.repo.find_commit(wanted).ok()?;
        if commit == wanted {
            return Some(true);
        }
        self.repo.graph_descendant_of(commit, wanted).ok()
    }

    /// The changelog of the commits in `(previous, new]`: exactly those reachable from `new`
    /// and not from `previous` (`git log previous..new`), merge commits included, newest first
    /// (topological order, then commit time). `previous: None` (no previous release) takes all
    /// the ancestors of `new`.
    ///
    /// A non-empty `paths` (`changelog_paths`, relative to the repository's root) keeps only the
    /// commits that change something at or under one of them, comparing each commit's tree
    /// with its first parent's (a root commit counts when it adds one). A path is a file or a
    /// directory, matched whole (`services/api` matches `services/api/main.rs`, not
    /// `services/api2`); there are no globs. A path that leaves the repository is
    /// [`Error::InvalidParams`].
    ///
    /// When `previous` is not in the checkout, or is malformed, or the checkout is a shallow
    /// clone that stops before it, this does not fail: the changelog is unavailable, with the
    /// reason in its text and in `unavailable`, and no commits.
    pub fn changelog(
        &self,
        previous: Option<&str>,
        new: &Commit,
        paths: &[String],
    ) -> Result<Changelog> {
        let filter = PathFilter::new(paths)?;
        let new_oid = self.commit_oid(new)?;
        let previous_oid = match previous.map(|p| self.find_previous(p)) {
            None => None,
            Some(Ok(oid)) => Some(oid),
            Some(Err(reason)) => return Ok(Changelog::unavailable(reason)),
        };
        let shallow_roots = match previous_oid {
            Some(_) => self.shallow_roots(),
            None => HashSet::new(),
        };

        let walk_error = |e| {
            git_error(
                format!(
                    "cannot walk the history of {} from {}",
                    self.path.display(),
                    new.sha
                ),
                e,
            )
        };
        let mut walk = self.walk(previous_oid, new_oid).map_err(walk_error)?;
        let mut oids = Vec::new();
        for oid in &mut walk {
            let oid = oid.map_err(walk_error)?;
            if shallow_roots.contains(&oid) {
                let previous = previous.unwrap_or_default();
                return Ok(Changelog::unavailable(shallow_reason(previous)));
            }
            if filter.is_empty() || self.touches(oid, &filter).map_err(walk_error)? {
                oids.push(oid);
            }
        }

        let commits: Vec<String> = oids.iter().map(Oid::to_string).collect();
        let text = render_cut(commits.len(), |i, out| {
            self.write_line(oids[i], &commits[i], out)
                .map_err(|e| git_error(format!("cannot read commit {}", commits[i]), e))
        })?;
        Ok(Changelog {
            text,
            commits,
            unavailable: None,
        })
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
                short(previous)
            )),
            Err(e) => Err(format!(
                "the previous release's commit {} cannot be read from this checkout: {}",
                short(previous),
                e.message()
            )),
        }
    }

    /// The id of `commit`, which must be in the checkout.
    fn commit_oid(&self, commit: &Commit) -> Result<Oid> {
        let unknown = |source| Error::Git {
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

    /// Whether the walk over `(previous, new]` reaches a commit whose parents this shallow
    /// clone lacks, so that the range may be missing commits.
    fn range_hits_shallow_boundary(&self, previous: Oid, new: Oid) -> Result<bool, git2::Error> {
        let roots = self.shallow_roots();
        if roots.is_empty() {
            return Ok(false);
        }
        for oid in self.walk(Some(previous), new)? {
            if roots.contains(&oid?) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether the commit `oid` changes anything the filter names, compared with its first
    /// parent (with nothing, for a root commit).
    fn touches(&self, oid: Oid, filter: &PathFilter) -> Result<bool, git2::Error> {
        let commit = self.repo.find_commit(oid)?;
        let tree = commit.tree()?;
        let parent_tree = match commit.parent_ids().next() {
            Some(parent) => {
                let parent = self.repo.find_commit(parent)?;
                if parent.tree_id() == tree.id() {
                    return Ok(false);
                }
                Some(parent.tree()?)
            }
            None => None,
        };
        for path in &filter.paths {
            let now = entry(&tree, path)?;
            let before = match &parent_tree {
                Some(parent_tree) => entry(parent_tree, path)?,
                None => None,
            };
            if now != before {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Appends the changelog line of commit `oid` (full sha `sha`) to `out`.
    fn write_line(&self, oid: Oid, sha: &str, out: &mut String) -> Result<(), git2::Error> {
        let commit = self.repo.find_commit(oid)?;
        let author = commit.author();
        let when = author.when();
        let name = one_line(author.name_bytes());
        let subject = one_line(commit.summary_bytes().unwrap_or_default());
        let short = sha.get(..SHORT_SHA).unwrap_or(sha);
        out.push_str(short);
        out.push_str("  ");
        write_date(when, out);
        let _ = write!(out, "  {name}  {subject}");
        Ok(())
    }
}

/// Renders changelog lines, newest first, into the changelog text: the lines joined by "\n"
/// with no trailing newline; past 50 lines, the first 47, then `[N commits omitted]`, then the
/// last 2 (50 lines in all). No lines give an empty string.
pub fn render_changelog(lines: &[String]) -> String {
    let rendered: Result<String, std::convert::Infallible> = render_cut(lines.len(), |i, out| {
        out.push_str(&lines[i]);
        Ok(())
    });
    match rendered {
        Ok(text) => text,
        Err(never) => match never {},
    }
}

/// The cut of [`render_changelog`] over `total` lines, asking `line` to append only the lines
/// kept (a changelog of 10,000 commits reads 49 of them).
fn render_cut<E>(
    total: usize,
    mut line: impl FnMut(usize, &mut String) -> Result<(), E>,
) -> Result<String, E> {
    let mut out = String::new();
    let mut push = |i: usize, out: &mut String| {
        if !out.is_empty() {
            out.push('\n');
        }
        line(i, out)
    };
    if total <= MAX_LINES {
        for i in 0..total {
            push(i, &mut out)?;
        }
    } else {
        for i in 0..KEEP_HEAD {
            push(i, &mut out)?;
        }
        let omitted = total - KEEP_HEAD - KEEP_TAIL;
        let _ = write!(out, "\n[{omitted} commits omitted]");
        for i in total - KEEP_TAIL..total {
            push(i, &mut out)?;
        }
    }
    Ok(out)
}

/// The paths of `changelog_paths`, normalised: relative to the repository's root, `/`-separated,
/// no `.` or empty components, no trailing `/`. The root itself is the empty path.
struct PathFilter {
    paths: Vec<String>,
}

impl PathFilter {
    fn new(paths: &[String]) -> Result<Self> {
        let paths = paths
            .iter()
            .map(|raw| {
                let invalid = || {
                    Error::InvalidParams(format!(
                        "changelog_paths: {raw:?} is not a path inside the repository, relative to its root"
                    ))
                };
                if raw.starts_with('/') {
                    return Err(invalid());
                }
                let mut path = String::with_capacity(raw.len());
                for component in raw.split('/') {
                    match component {
                        "" | "." => {}
                        ".." => return Err(invalid()),
                        _ => {
                            if !path.is_empty() {
                                path.push('/');
                            }
                            path.push_str(component);
                        }
                    }
                }
                Ok(path)
            })
            .collect::<Result<_>>()?;
        Ok(PathFilter { paths })
    }

    fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }
}

/// What `tree` holds at `path` (the empty path is the tree itself): its id and file mode, so
/// that a change of content or of mode (`chmod +x`) shows.
fn entry(tree: &Tree<'_>, path: &str) -> Result<Option<(Oid, i32)>, git2::Error> {
    if path.is_empty() {
        return Ok(Some((tree.id(), 0o040000)));
    }
    match tree.get_path(Path::new(path)) {
        Ok(entry) => Ok(Some((entry.id(), entry.filemode()))),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e),
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

/// The first 7 characters of a sha, for messages.
fn short(sha: &str) -> &str {
    sha.get(..SHORT_SHA).unwrap_or(sha)
}

/// Why a shallow clone cannot give the range from `previous`.
fn shallow_reason(previous: &str) -> String {
    format!(
        "this shallow clone's history stops before the previous release's commit {}",
        short(previous)
    )
}

/// Why the checkout cannot tell how `new` relates to `previous`.
fn cannot_relate_reason(previous: &str, new: &str, e: &git2::Error) -> String {
    format!(
        "cannot tell whether {} descends from the previous release's commit {}: {}",
        short(new),
        short(previous),
        e.message()
    )
}

/// Text from a commit as one line: invalid UTF-8 replaced, control characters (a stray `\r`, a
/// terminal escape) made spaces.
fn one_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.chars().any(char::is_control) {
        text.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect()
    } else {
        text.into_owned()
    }
}

/// Appends `when` as `YYYY-MM-DD` in its own UTC offset (UTC when the offset is out of range,
/// `????-??-??` when the time itself is).
fn write_date(when: git2::Time, out: &mut String) {
    let Ok(timestamp) = jiff::Timestamp::from_second(when.seconds()) else {
        out.push_str("????-??-??");
        return;
    };
    let offset = when
        .offset_minutes()
        .checked_mul(60)
        .and_then(|seconds| jiff::tz::Offset::from_seconds(seconds).ok())
        .unwrap_or(jiff::tz::Offset::UTC);
    let date = offset.to_datetime(timestamp).date();
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}",
        date.year(),
        date.month(),
        date.day()
    );
}

/// A git error with the message naming what failed.
fn git_error(message: String, source: git2::Error) -> Error {
    Error::Git {
        message,
        source: Some(source),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use git2::{Index, IndexEntry, IndexTime, Signature, Time};

    /// 2023-11-14T22:13:20Z.
    const EPOCH: i64 = 1_700_000_000;

    /// A repository in a temporary directory, with commits at fixed times one hour apart.
    struct TestRepo {
        dir: tempfile::TempDir,
        repo: Repository,
        clock: i64,
    }

    impl TestRepo {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let repo = Repository::init(dir.path()).unwrap();
            TestRepo {
                dir,
                repo,
                clock: EPOCH,
            }
        }

        fn path(&self) -> &Path {
            self.dir.path()
        }

        fn checkout(&self) -> Checkout {
            Checkout::open(self.path()).unwrap()
        }

        /// A commit by Ada Lovelace on `parents`, its tree the first parent's with `changes`
        /// (path, content) written.
        fn commit(&mut self, message: &str, parents: &[Oid], changes: &[(&str, &str)]) -> Oid {
            self.clock += 3600;
            let time = Time::new(self.clock, 0);
            self.commit_with("Ada Lovelace", time, time, message, parents, changes)
        }

        fn commit_with(
            &self,
            author: &str,
            author_time: Time,
            committer_time: Time,
            message: &str,
            parents: &[Oid],
            changes: &[(&str, &str)],
        ) -> Oid {
            let parents: Vec<git2::Commit<'_>> = parents
                .iter()
                .map(|p| self.repo.find_commit(*p).unwrap())
                .collect();
            let mut index = Index::new().unwrap();
            if let Some(first) = parents.first() {
                index.read_tree(&first.tree().unwrap()).unwrap();
            }
            for (path, content) in changes {
                let entry = IndexEntry {
                    ctime: IndexTime::new(0, 0),
                    mtime: IndexTime::new(0, 0),
                    dev: 0,
                    ino: 0,
                    mode: 0o100644,
                    uid: 0,
                    gid: 0,
                    file_size: content.len() as u32,
                    id: self.repo.blob(content.as_bytes()).unwrap(),
                    flags: 0,
                    flags_extended: 0,
                    path: path.as_bytes().to_vec(),
                };
                index.add(&entry).unwrap();
            }
            let tree = self
                .repo
                .find_tree(index.write_tree_to(&self.repo).unwrap())
                .unwrap();
            let email = format!("{}@example.com", author.split(' ').next().unwrap());
            let author = Signature::new(author, &email.to_lowercase(), &author_time).unwrap();
            let committer = Signature::new("CI Bot", "ci@example.com", &committer_time).unwrap();
            let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
            self.repo
                .commit(None, &author, &committer, message, &tree, &parents)
                .unwrap()
        }

        /// A linear history of `n` commits touching `file`, oldest first.
        fn linear(&mut self, n: usize) -> Vec<Oid> {
            let mut parent = None;
            (0..n)
                .map(|i| {
                    let content = format!("{i}");
                    let parents: Vec<Oid> = parent.into_iter().collect();
                    let oid = self.commit(
                        &format!("Commit {i}"),
                        &parents,
                        &[("file", content.as_str())],
                    );
                    parent = Some(oid);
                    oid
                })
                .collect()
        }

        /// Points branch `name` at `oid`, and HEAD at the branch.
        fn branch_head(&self, name: &str, oid: Oid) {
            let reference = format!("refs/heads/{name}");
            self.repo.reference(&reference, oid, true, "test").unwrap();
            self.repo.set_head(&reference).unwrap();
        }

        fn commit_of(&self, oid: Oid) -> Commit {
            self.checkout().resolve(&oid.to_string()).unwrap()
        }
    }

    fn shas(oids: &[Oid]) -> Vec<String> {
        oids.iter().map(Oid::to_string).collect()
    }

    fn git_message(error: Error) -> String {
        match error {
            Error::Git { message, .. } => message,
            other => panic!("not a git error: {other:?}"),
        }
    }

    #[test]
    fn resolves_head_branches_tags_and_shas() {
        let mut t = TestRepo::new();
        let oids = t.linear(3);
        let tip = oids[2];
        t.branch_head("main", tip);
        let tip_object = t.repo.find_object(tip, None).unwrap();
        t.repo.tag_lightweight("v1", &tip_object, false).unwrap();
        let sig = Signature::new("Tagger", "t@example.com", &Time::new(EPOCH, 0)).unwrap();
        let first = t.repo.find_object(oids[0], None).unwrap();
        t.repo.tag("v0", &first, &sig, "annotated", false).unwrap();
        let checkout = t.checkout();

        let head = checkout.head().unwrap();
        assert_eq!(
            head,
            Commit {
                sha: tip.to_string(),
                author_name: "Ada Lovelace".into(),
                author_email: "ada@example.com".into(),
            }
        );
        let full = tip.to_string();
        for spec in ["HEAD", "main", "refs/heads/main", "v1", &full, &full[..7]] {
            assert_eq!(checkout.resolve(spec).unwrap().sha, full, "{spec}");
        }
        assert_eq!(checkout.resolve("v0").unwrap().sha, oids[0].to_string());
        assert_eq!(checkout.resolve("HEAD~1").unwrap().sha, oids[1].to_string());
    }

    #[test]
    fn unknown_spec_error_names_spec_and_path() {
        let mut t = TestRepo::new();
        let oids = t.linear(1);
        t.branch_head("main", oids[0]);
        let checkout = t.checkout();
        let path = t.path().display();

        let message = git_message(checkout.resolve("v9").unwrap_err());
        assert_eq!(message, format!("unknown commit \"v9\" in {path}"));
        let message = git_message(checkout.resolve("").unwrap_err());
        assert_eq!(message, format!("unknown commit \"\" in {path}"));
        let tree = format!("{}^{{tree}}", oids[0]);
        let message = git_message(checkout.resolve(&tree).unwrap_err());
        assert_eq!(
            message,
            format!("{tree:?} in {path} names a tree, not a commit")
        );
    }

    #[test]
    fn open_error_names_path() {
        let dir = tempfile::tempdir().unwrap();
        let message = git_message(Checkout::open(dir.path()).unwrap_err());
        assert_eq!(
            message,
            format!(
                "params.repository: {} is not a git repository",
                dir.path().display()
            )
        );
        let absent = dir.path().join("absent");
        let message = git_message(Checkout::open(&absent).unwrap_err());
        assert_eq!(
            message,
            format!(
                "params.repository: {} is not a git repository",
                absent.display()
            )
        );
    }

    #[test]
    fn head_of_empty_repository_is_an_error() {
        let t = TestRepo::new();
        let message = git_message(t.checkout().head().unwrap_err());
        assert_eq!(
            message,
            format!("{} has no commits: HEAD is unborn", t.path().display())
        );
    }

    #[test]
    fn changelog_range_is_exactly_previous_exclusive_new_inclusive() {
        // a - b ---- c - P - d ------- m - n    main (P: the previous release, n: the new one)
        //      |\   /     \           /|
        //      | x1        s1 ---- s2 |        x1: merged at c, before P: out of the range
        //       \                     /         s1, s2: from P, merged at m: in it
        //        y1 -----------------          y1: from b, merged at m, after P: in it
        let mut t = TestRepo::new();
        let a = t.commit("a", &[], &[("file", "a")]);
        let b = t.commit("b", &[a], &[("file", "b")]);
        let x1 = t.commit("x1", &[b], &[("x", "1")]);
        let c = t.commit("c", &[b, x1], &[("x", "1")]);
        let previous = t.commit("P", &[c], &[("file", "P")]);
        let y1 = t.commit("y1", &[b], &[("y", "1")]);
        let d = t.commit("d", &[previous], &[("file", "d")]);
        let s1 = t.commit("s1", &[previous], &[("s", "1")]);
        let s2 = t.commit("s2", &[s1], &[("s", "2")]);
        let m = t.commit("m", &[d, s2, y1], &[("s", "2"), ("y", "1")]);
        let new = t.commit("n", &[m], &[("file", "n")]);
        t.branch_head("main", new);
        let checkout = t.checkout();

        let changelog = checkout
            .changelog(Some(&previous.to_string()), &t.commit_of(new), &[])
            .unwrap();
        assert_eq!(changelog.commits, shas(&[new, m, s2, s1, d, y1]));
        assert_eq!(changelog.unavailable, None);
        let subjects: Vec<&str> = changelog
            .text
            .lines()
            .map(|line| line.rsplit("  ").next().unwrap())
            .collect();
        assert_eq!(subjects, ["n", "m", "s2", "s1", "d", "y1"]);

        // No previous release: every ancestor.
        let changelog = checkout.changelog(None, &t.commit_of(new), &[]).unwrap();
        assert_eq!(
            changelog.commits,
            shas(&[new, m, s2, s1, d, y1, previous, c, x1, b, a])
        );
    }

    #[test]
    fn changelog_is_newest_first_even_when_times_disagree() {
        let mut t = TestRepo::new();
        let oids = t.linear(3);
        // A child dated before its parent still comes first.
        let skewed = t.commit_with(
            "Ada Lovelace",
            Time::new(EPOCH - 86_400, 0),
            Time::new(EPOCH - 86_400, 0),
            "skewed",
            &[oids[2]],
            &[("file", "skewed")],
        );
        let changelog = t
            .checkout()
            .changelog(Some(&oids[0].to_string()), &t.commit_of(skewed), &[])
            .unwrap();
        assert_eq!(changelog.commits, shas(&[skewed, oids[2], oids[1]]));
    }

    #[test]
    fn changelog_line_format_is_exact() {
        let t = TestRepo::new();
        // 2023-11-14T22:13:20Z is already the 15th at +02:00; the committer's date differs.
        let oid = t.commit_with(
            "Grace Hopper",
            Time::new(EPOCH, 120),
            Time::new(EPOCH + 5 * 86_400, 0),
            "Fix the thing\n\nA body that is not shown.\n",
            &[],
            &[("file", "x")],
        );
        // 2023-11-14T02:13:20Z is still the 13th at -05:00.
        let west = t.commit_with(
            "Grace Hopper",
            Time::new(EPOCH - 20 * 3600, -5 * 60),
            Time::new(EPOCH, 0),
            "Subject with a\r carriage return",
            &[oid],
            &[("file", "y")],
        );
        let changelog = t
            .checkout()
            .changelog(None, &t.commit_of(west), &[])
            .unwrap();
        let sha = oid.to_string();
        let west_sha = west.to_string();
        assert_eq!(
            changelog.text,
            format!(
                "{}  2023-11-13  Grace Hopper  Subject with a  carriage return\n{}  2023-11-15  Grace Hopper  Fix the thing",
                &west_sha[..7],
                &sha[..7]
            )
        );
    }

    #[test]
    fn empty_range_gives_empty_changelog() {
        let mut t = TestRepo::new();
        let oids = t.linear(3);
        let checkout = t.checkout();
        let empty = Changelog {
            text: String::new(),
            commits: Vec::new(),
            unavailable: None,
        };
        let same = checkout
            .changelog(Some(&oids[2].to_string()), &t.commit_of(oids[2]), &[])
            .unwrap();
        assert_eq!(same, empty);
        // A rollback: the new commit is an ancestor of the previous one.
        let rollback = checkout
            .changelog(Some(&oids[2].to_string()), &t.commit_of(oids[0]), &[])
            .unwrap();
        assert_eq!(rollback, empty);
    }

    fn numbered(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("line {i}")).collect()
    }

    #[test]
    fn render_changelog_keeps_up_to_50_lines() {
        assert_eq!(render_changelog(&[]), "");
        assert_eq!(render_changelog(&numbered(1)), "line 1");
        let fifty = numbered(50);
        assert_eq!(render_changelog(&fifty), fifty.join("\n"));
    }

    #[test]
    fn render_changelog_cuts_past_50_lines() {
        for (n, omitted) in [(51, 2), (120, 71)] {
            let lines = numbered(n);
            let text = render_changelog(&lines);
            let got: Vec<&str> = text.lines().collect();
            let mut want: Vec<String> = lines[..47].to_vec();
            want.push(format!("[{omitted} commits omitted]"));
            want.extend_from_slice(&lines[n - 2..]);
            assert_eq!(got, want, "{n} lines");
            assert_eq!(got.len(), 50);
            assert!(!text.ends_with('\n'));
        }
    }

    #[test]
    fn changelog_text_is_cut_but_commits_are_not() {
        let mut t = TestRepo::new();
        let oids = t.linear(121);
        let changelog = t
            .checkout()
            .changelog(Some(&oids[0].to_string()), &t.commit_of(oids[120]), &[])
            .unwrap();
        assert_eq!(changelog.commits.len(), 120);
        let mut newest_first = oids[1..].to_vec();
        newest_first.reverse();
        assert_eq!(changelog.commits, shas(&newest_first));
        let lines: Vec<&str> = changelog.text.lines().collect();
        assert_eq!(lines.len(), 50);
        assert!(lines[0].ends_with("  Commit 120"));
        assert!(lines[46].ends_with("  Commit 74"));
        assert_eq!(lines[47], "[71 commits omitted]");
        assert!(lines[48].ends_with("  Commit 2"));
        assert!(lines[49].ends_with("  Commit 1"));
    }

    #[test]
    fn changelog_paths_keep_commits_touching_them() {
        let mut t = TestRepo::new();
        let root = t.commit("root", &[], &[("services/api/main.rs", "1")]);
        let web = t.commit("web", &[root], &[("services/web/index.html", "1")]);
        let api = t.commit("api", &[web], &[("services/api/lib.rs", "1")]);
        let readme = t.commit("readme", &[api], &[("README.md", "1")]);
        let api2 = t.commit("api2", &[readme], &[("services/api2/x", "1")]);
        let side = t.commit("side", &[api2], &[("services/api/side.rs", "1")]);
        let docs = t.commit("docs", &[api2], &[("docs/x", "1")]);
        // The merge brings the side branch's api change onto the first parent's tree.
        let merge = t.commit("merge", &[docs, side], &[("services/api/side.rs", "1")]);
        let checkout = t.checkout();
        let new = t.commit_of(merge);
        let paths = |ps: &[&str]| -> Vec<String> { ps.iter().map(|p| p.to_string()).collect() };

        let all = checkout.changelog(None, &new, &[]).unwrap();
        assert_eq!(all.commits.len(), 8);

        let api_only = checkout
            .changelog(None, &new, &paths(&["services/api"]))
            .unwrap();
        assert_eq!(api_only.commits, shas(&[merge, side, api, root]));
        assert_eq!(api_only.text.lines().count(), 4);

        for spelling in [
            ["./services/api/", "README.md"],
            ["services//api", "./README.md"],
        ] {
            let changelog = checkout.changelog(None, &new, &paths(&spelling)).unwrap();
            assert_eq!(
                changelog.commits,
                shas(&[merge, side, readme, api, root]),
                "{spelling:?}"
            );
        }

        let file = checkout
            .changelog(None, &new, &paths(&["services/web/index.html"]))
            .unwrap();
        assert_eq!(file.commits, shas(&[web]));

        let since = checkout
            .changelog(Some(&api.to_string()), &new, &paths(&["services/api"]))
            .unwrap();
        assert_eq!(since.commits, shas(&[merge, side]));

        let nothing = checkout.changelog(None, &new, &paths(&["absent"])).unwrap();
        assert_eq!((nothing.text.as_str(), nothing.commits.len()), ("", 0));

        let root_path = checkout.changelog(None, &new, &paths(&["."])).unwrap();
        assert_eq!(root_path.commits, all.commits);

        for bad in ["../elsewhere", "/etc", "services/../../x"] {
            let error = checkout.changelog(None, &new, &paths(&[bad])).unwrap_err();
            assert!(
                matches!(&error, Error::InvalidParams(m) if m.contains(&format!("{bad:?}"))),
                "{error:?}"
            );
        }
    }

    #[test]
    fn relation_tells_same_descendant_and_not_descendant() {
        let mut t = TestRepo::new();
        let oids = t.linear(3);
        let branch = t.commit("branch", &[oids[1]], &[("other", "1")]);
        let checkout = t.checkout();
        let sha = |i: usize| oids[i].to_string();

        assert_eq!(
            checkout.relation(&sha(2), &t.commit_of(oids[2])),
            Relation::Same
        );
        assert_eq!(
            checkout.relation(&sha(0), &t.commit_of(oids[2])),
            Relation::Descendant
        );
        assert_eq!(
            checkout.relation(&sha(2), &t.commit_of(oids[0])),
            Relation::NotDescendant
        );
        assert_eq!(
            checkout.relation(&sha(2), &t.commit_of(branch)),
            Relation::NotDescendant
        );
    }

    #[test]
    fn includes_tells_whether_a_commit_holds_another_or_cannot_tell() {
        let mut repo = TestRepo::new();
        let commits = shas(&repo.linear(3));
        let checkout = repo.checkout();
        assert_eq!(checkout.includes(&commits[2], &commits[0]), Some(true));
        assert_eq!(checkout.includes(&commits[1], &commits[1]), Some(true));
        assert_eq!(checkout.includes(&commits[0], &commits[2]), Some(false));
        let absent = "0123456789012345678901234567890123456789";
        assert_eq!(checkout.includes(absent, &commits[0]), None);
        assert_eq!(checkout.includes(&commits[0], "abc"), None);
    }

    #[test]
    fn relation_reports_a_missing_or_malformed_previous() {
        let mut t = TestRepo::new();
        let oids = t.linear(2);
        let checkout = t.checkout();
        let new = t.commit_of(oids[1]);

        assert_eq!(
            checkout.relation("0123456789abcdef0123456789abcdef01234567", &new),
            Relation::PreviousMissing {
                reason: "the previous release's commit 0123456 is not in this checkout (a shallow clone?)".into()
            }
        );
        for malformed in ["", "xyz", &oids[0].to_string()[..7]] {
            assert_eq!(
                checkout.relation(malformed, &new),
                Relation::PreviousMissing {
                    reason: format!(
                        "the previous release's commit {malformed:?} is not a full commit sha"
                    )
                }
            );
        }
    }

    #[test]
    fn changelog_is_unavailable_when_previous_is_absent() {
        let mut t = TestRepo::new();
        let oids = t.linear(3);
        let changelog = t
            .checkout()
            .changelog(
                Some("0123456789abcdef0123456789abcdef01234567"),
                &t.commit_of(oids[2]),
                &[],
            )
            .unwrap();
        let reason =
            "the previous release's commit 0123456 is not in this checkout (a shallow clone?)";
        assert_eq!(
            changelog,
            Changelog {
                text: format!("<changelog unavailable: {reason}>"),
                commits: Vec::new(),
                unavailable: Some(reason.into()),
            }
        );
    }

    #[test]
    fn shallow_history_that_stops_before_previous_is_missing_not_a_rollback() {
        // a - b - c - d, cloned with depth 2 (c is a shallow root), yet b is in the object
        // database (as when another ref brought it in).
        let mut t = TestRepo::new();
        let oids = t.linear(4);
        t.branch_head("main", oids[3]);
        std::fs::write(t.repo.path().join("shallow"), format!("{}\n", oids[2])).unwrap();
        let checkout = t.checkout();
        let sha = |i: usize| oids[i].to_string();
        let reason = format!(
            "this shallow clone's history stops before the previous release's commit {}",
            &sha(1)[..7]
        );

        assert_eq!(
            checkout.relation(&sha(1), &t.commit_of(oids[3])),
            Relation::PreviousMissing {
                reason: reason.clone()
            }
        );
        let changelog = checkout
            .changelog(Some(&sha(1)), &t.commit_of(oids[3]), &[])
            .unwrap();
        assert_eq!(changelog.unavailable, Some(reason));
        assert!(changelog.commits.is_empty());

        // Within the history the clone holds, everything is known.
        assert_eq!(
            checkout.relation(&sha(2), &t.commit_of(oids[3])),
            Relation::Descendant
        );
        assert_eq!(
            checkout.relation(&sha(3), &t.commit_of(oids[2])),
            Relation::NotDescendant
        );
        let changelog = checkout
            .changelog(Some(&sha(2)), &t.commit_of(oids[3]), &[])
            .unwrap();
        assert_eq!(changelog.commits, shas(&oids[3..]));
    }
}
