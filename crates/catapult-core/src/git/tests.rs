//! The git work over repositories made in temporary directories, commit by commit.

use super::changelog::render_changelog;
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

fn git_message(error: GitError) -> String {
    match error {
        GitError::Repository { message, .. } => message,
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
            matches!(&error, GitError::InvalidPath(m) if m.contains(&format!("{bad:?}"))),
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
            reason:
                "the previous release's commit 0123456 is not in this checkout (a shallow clone?)"
                    .into()
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
    let reason = "the previous release's commit 0123456 is not in this checkout (a shallow clone?)";
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
