//! Figures for the changelog of a release that spans 10,000 commits (the product's target: under
//! 100 ms). It makes the repository itself, with libgit2, packs its objects as a clone holds
//! them (git reads 50,000 loose objects ten times slower), then times `Checkout::changelog` over
//! the whole range, with and without a path filter, and prints the median and the extremes. The
//! path filter runs side by side with git's own `git log --format=%H first..last -- PATH` on the
//! same repository (the target: within 1.5x), one run of each in turn so that both see the same
//! load, and both must list the same commits. Run: `cargo bench -p catapult-core --bench
//! changelog` (`git` on PATH for the comparison; without it, that line says so).

#![allow(clippy::print_stdout, missing_docs)] // a benchmark prints its figures

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use catapult_core::git::{Checkout, Commit};
use git2::{Repository, Signature, Time};

const COMMITS: usize = 10_000;
const RUNS: usize = 15;

fn main() {
    // As the executable sets libgit2 up.
    catapult_core::git::set_up_for_one_pass();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let started = Instant::now();
    let (first, last) = make_history(dir.path(), COMMITS);
    pack(dir.path());
    println!(
        "made a repository of {COMMITS} commits, packed as a clone is, in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let head = Checkout::open(dir.path())
        .expect("the repository opens")
        .resolve(&last)
        .expect("the last commit resolves");
    report("changelog of 10,000 commits", RUNS, || {
        changelog(dir.path(), &first, &head, &[])
    });
    report(
        "changelog of 10,000 commits, changelog_paths: [services/api]",
        RUNS,
        || changelog(dir.path(), &first, &head, &["services/api".to_owned()]),
    );
    beside_git_log(dir.path(), &first, &head, "services/api");
}

/// The path-filtered changelog and `git log --format=%H first..last -- path`, one run of each in
/// turn, with the ratio of each pair; the two must list the same commits, newest first.
fn beside_git_log(repo: &Path, first: &str, head: &Commit, path: &str) {
    let what = format!("changelog_paths: [{path}] beside git log -- {path}");
    let git_log = || {
        Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(["log", "--format=%H"])
            .arg(format!("{first}..{}", head.sha))
            .args(["--", path])
            .output()
    };
    match git_log() {
        Ok(output) if output.status.success() => {
            let listed: Vec<String> = String::from_utf8_lossy(&output.stdout)
                .lines()
                .map(str::to_owned)
                .collect();
            let ours = Checkout::open(repo)
                .expect("the repository opens")
                .changelog(Some(first), head, &[path.to_owned()])
                .expect("the changelog computes")
                .commits;
            assert_eq!(ours, listed, "the changelog and git log list other commits");
        }
        Ok(output) => {
            println!("{what}: not measured, git log failed: {}", output.status);
            return;
        }
        Err(e) => {
            println!("{what}: not measured, no git to run: {e}");
            return;
        }
    }
    let (mut ours, mut git, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let started = Instant::now();
        std::hint::black_box(changelog(repo, first, head, &[path.to_owned()]));
        let mine = started.elapsed();
        let started = Instant::now();
        let output = git_log().expect("git log runs");
        let theirs = started.elapsed();
        assert!(output.status.success(), "git log failed: {}", output.status);
        ratios.push(mine.as_secs_f64() / theirs.as_secs_f64());
        ours.push(mine);
        git.push(theirs);
    }
    ours.sort();
    git.sort();
    ratios.sort_by(f64::total_cmp);
    let ms = |time: Duration| time.as_secs_f64() * 1000.0;
    println!(
        "{what}: median {:.1} ms against git's {:.1} ms, ratio {:.2}x (pairs: {:.2}x to {:.2}x) over {RUNS} runs of each in turn",
        ms(ours[RUNS / 2]),
        ms(git[RUNS / 2]),
        ratios[RUNS / 2],
        ratios[0],
        ratios[RUNS - 1]
    );
}

/// The changelog as one `out` computes it: the checkout opened afresh (so libgit2 holds nothing
/// from an earlier run), then the range walked.
fn changelog(repo: &Path, previous: &str, new: &Commit, paths: &[String]) -> usize {
    let changelog = Checkout::open(repo)
        .expect("the repository opens")
        .changelog(Some(previous), new, paths)
        .expect("the changelog computes");
    changelog.commits.len()
}

fn report(what: &str, runs: usize, mut run: impl FnMut() -> usize) {
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    let mut commits = 0;
    for _ in 0..runs {
        let started = Instant::now();
        commits = std::hint::black_box(run());
        times.push(started.elapsed());
    }
    times.sort();
    let ms = |time: Duration| time.as_secs_f64() * 1000.0;
    println!(
        "{what}: {commits} commits listed; median {:.1} ms, fastest {:.1} ms, slowest {:.1} ms over {runs} runs",
        ms(times[runs / 2]),
        ms(times[0]),
        ms(times[runs - 1])
    );
}

/// A linear history of `count` commits after a root, alternating between two directories, and
/// the shas of the root and the last commit.
fn make_history(path: &Path, count: usize) -> (String, String) {
    let repo = Repository::init(path).expect("git init");
    let mut parent = None;
    let mut first = String::new();
    for n in 0..=count {
        let directory = if n % 2 == 0 {
            "services/api"
        } else {
            "services/web"
        };
        let blob = repo
            .blob(format!("change {n}\n").as_bytes())
            .expect("a blob");
        let mut index = repo.index().expect("the index");
        index
            .add(&git2::IndexEntry {
                ctime: git2::IndexTime::new(0, 0),
                mtime: git2::IndexTime::new(0, 0),
                dev: 0,
                ino: 0,
                mode: 0o100644,
                uid: 0,
                gid: 0,
                file_size: 0,
                id: blob,
                flags: 0,
                flags_extended: 0,
                path: format!("{directory}/file").into_bytes(),
            })
            .expect("staged");
        let tree = repo
            .find_tree(index.write_tree().expect("a tree"))
            .expect("the tree");
        let when = Time::new(1_700_000_000 + n as i64 * 60, 0);
        let author =
            Signature::new("Bench Author", "bench@example.com", &when).expect("a signature");
        let parents: Vec<git2::Commit> = parent
            .iter()
            .map(|id| repo.find_commit(*id).unwrap())
            .collect();
        let parent_refs: Vec<&git2::Commit> = parents.iter().collect();
        let id = repo
            .commit(
                Some("HEAD"),
                &author,
                &author,
                &format!("Change number {n}"),
                &tree,
                &parent_refs,
            )
            .expect("a commit");
        if n == 0 {
            first = id.to_string();
        }
        parent = Some(id);
    }
    (first, parent.expect("commits were made").to_string())
}

/// Puts every object of the repository at `path` into one pack, as `git clone` leaves them, and
/// removes the loose ones.
fn pack(path: &Path) {
    let repo = Repository::open(path).expect("the repository opens");
    let mut walk = repo.revwalk().expect("a walk");
    walk.push_head().expect("HEAD");
    let mut builder = repo.packbuilder().expect("a pack builder");
    builder.insert_walk(&mut walk).expect("the objects packed");
    let objects = repo.path().join("objects");
    builder
        .write(&objects.join("pack"), 0o444)
        .expect("the pack written");
    for entry in std::fs::read_dir(&objects).expect("the objects directory") {
        let entry = entry.expect("an entry");
        let name = entry.file_name();
        if name.len() == 2
            && name
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_hexdigit())
        {
            std::fs::remove_dir_all(entry.path()).expect("loose objects removed");
        }
    }
}
