//! The changelog of a release: the commits in `(previous, new]`, exactly as `git log
//! previous..new` lists them, newest first, one line each (`<short sha>  <YYYY-MM-DD>  <author
//! name>  <subject>`), cut to 50 lines; with `changelog_paths`, only the commits that touch
//! them. Dates are the author's date in the author's own UTC offset, as recorded in the commit
//! (what `git log --date=short` shows), so the result does not depend on where the build runs.

use std::collections::HashSet;
use std::fmt::Write as _;

use git2::Oid;

use super::pathspec::PathFilter;
use super::{Checkout, Commit, Result, git_error, shallow_reason, short_sha};

/// A changelog longer than this many lines is cut.
const MAX_LINES: usize = 50;
/// How many of the newest lines a cut changelog keeps.
const KEEP_HEAD: usize = 47;
/// How many of the oldest lines a cut changelog keeps.
const KEEP_TAIL: usize = 2;

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

impl Checkout {
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
    /// [`GitError::InvalidPath`](super::GitError::InvalidPath).
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
        let mut paths = if filter.is_empty() {
            None
        } else {
            Some(filter.walk(&self.repo).map_err(walk_error)?)
        };
        let mut oids = Vec::new();
        for oid in &mut walk {
            let oid = oid.map_err(walk_error)?;
            if shallow_roots.contains(&oid) {
                let previous = previous.unwrap_or_default();
                return Ok(Changelog::unavailable(shallow_reason(previous)));
            }
            let counts = match &mut paths {
                None => true,
                Some(paths) => paths.touches(oid).map_err(walk_error)?,
            };
            if counts {
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

    /// Appends the changelog line of commit `oid` (full sha `sha`) to `out`.
    fn write_line(&self, oid: Oid, sha: &str, out: &mut String) -> Result<(), git2::Error> {
        let commit = self.repo.find_commit(oid)?;
        let author = commit.author();
        let when = author.when();
        let name = one_line(author.name_bytes());
        let subject = one_line(commit.summary_bytes().unwrap_or_default());
        let short = short_sha(sha);
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
