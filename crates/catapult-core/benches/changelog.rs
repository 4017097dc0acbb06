//! Figures for the changelog of a release that spans 10,000 commits (the product's target: under
//! 100 ms). It makes the repository itself, with libgit2, then times `Checkout::changelog` over
//! the whole range, with and without a path filter, and prints the median and the extremes.
//! Run: `cargo bench -p catapult-core --bench changelog`.

#![allow(clippy::print_stdout, missing_docs)] // a benchmark prints its figures

use std::time::{Duration, Instant};

use catapult_core::git::{Checkout, Commit};
use git2::{Repository, Signature, Time};

const COMMITS: usize = 10_000;
const RUNS: usize = 15;

fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let started = Instant::now();
    let (first, last) = make_history(dir.path(), COMMITS);
    println!(
        "made a repository of {COMMITS} commits in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let checkout = Checkout::open(dir.path()).expect("the repository opens");
    let head = checkout.resolve(&last).expect("the last commit resolves");
    report("changelog of 10,000 commits", RUNS, || {
        changelog(&checkout, &first, &head, &[])
    });
    report(
        "changelog of 10,000 commits, changelog_paths: [services/api]",
        RUNS,
        || changelog(&checkout, &first, &head, &["services/api".to_owned()]),
    );
}

fn changelog(checkout: &Checkout, previous: &str, new: &Commit, paths: &[String]) -> usize {
    let changelog = checkout
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
fn make_history(path: &std::path::Path, count: usize) -> (String, String) {
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
