//! `changelog_paths`: which commits of a changelog's range change something at or under the
//! paths given, each commit compared with its first parent (on a linear history, the commits
//! `git log -- PATH` lists).
//!
//! A range of 10,000 commits asks this 10,000 times, so it is a walk that keeps only what the
//! answer needs. It reads raw objects from the object database and looks at the few tree entries
//! along each path, never a whole diff, and never libgit2's parsed commits and trees, which stay
//! in libgit2's object cache for the life of the process (tens of megabytes over such a range).
//! Each commit is read once: what a commit holds at the paths is worked out when its child asks
//! and kept until the walk reaches it (the next step, in a linear history). Along each path, a
//! tree whose id equals the one seen at the same depth in the previous lookup is not read again.
//!
//! Parents are the commit's own, except where the repository grafts them, as libgit2 does: a
//! commit listed in `info/grafts` has the parents listed there, one in `shallow` (a shallow
//! clone's boundary) none.

use std::collections::HashMap;

use git2::{Odb, Oid, Repository};

use super::{GitError, Result, parse_full_sha};

/// The mode bits that tell an entry's type, and the types (git's and libgit2's `GIT_FILEMODE_*`).
const TYPE_MASK: u32 = 0o170000;
const TREE: u32 = 0o040000;
const BLOB: u32 = 0o100644;
const BLOB_EXECUTABLE: u32 = 0o100755;
const LINK: u32 = 0o120000;
const COMMIT: u32 = 0o160000;

/// The length of a SHA-1 object id, in bytes and in hex digits.
const OID_BYTES: usize = 20;
const OID_HEX: usize = 40;

/// The paths of `changelog_paths`, normalised: relative to the repository's root, `/`-separated,
/// no `.` or empty components, no trailing `/`. The root itself is the empty path.
pub(super) struct PathFilter {
    paths: Vec<String>,
}

impl PathFilter {
    /// The paths as given; a path that leaves the repository is [`GitError::InvalidPath`].
    pub(super) fn new(paths: &[String]) -> Result<Self> {
        let paths = paths
            .iter()
            .map(|raw| {
                let invalid = || {
                    GitError::InvalidPath(format!(
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

    /// No paths: every commit of the range counts.
    pub(super) fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// A walk that tells which commits of `repo` touch these paths.
    pub(super) fn walk<'r>(&self, repo: &'r Repository) -> Result<PathWalk<'r>, git2::Error> {
        Ok(PathWalk {
            odb: repo.odb()?,
            grafts: grafts(repo),
            paths: self
                .paths
                .iter()
                .map(|path| Path {
                    components: path
                        .split('/')
                        .filter(|c| !c.is_empty())
                        .map(|c| c.as_bytes().to_vec())
                        .collect(),
                    last: Vec::new(),
                })
                .collect(),
            ahead: HashMap::new(),
        })
    }
}

/// What a tree holds at a path: the entry's id and its mode, normalised as libgit2's
/// `git_tree_entry_filemode` does, so that a change of content or of mode (`chmod +x`) shows;
/// `None` when nothing is there.
type Entry = Option<(Oid, u32)>;

/// One path, split into its components, with the lookup it made last.
struct Path {
    components: Vec<Vec<u8>>,
    /// The trees the last lookup went through, from the root down, and what it found: a tree
    /// equal to `last[depth].0` holds `last[depth].1` at the rest of the path.
    last: Vec<(Oid, Entry)>,
}

/// A commit as the walk needs it: its tree, its first parent, and what it holds at each path
/// once known.
struct Seen {
    tree: Oid,
    first_parent: Option<Oid>,
    entries: Option<Vec<Entry>>,
}

/// The state of one walk over a range, newest first (see the module's comment).
pub(super) struct PathWalk<'r> {
    odb: Odb<'r>,
    grafts: HashMap<Oid, Vec<Oid>>,
    paths: Vec<Path>,
    /// Parents read for a child and not yet reached by the walk.
    ahead: HashMap<Oid, Seen>,
}

impl PathWalk<'_> {
    /// Whether the commit `oid` changes anything at or under the paths, compared with its first
    /// parent (with nothing, for a root commit: it counts when one of the paths exists in it).
    pub(super) fn touches(&mut self, oid: Oid) -> Result<bool, git2::Error> {
        let commit = match self.ahead.remove(&oid) {
            Some(seen) => seen,
            None => self.read_commit(oid)?,
        };
        let now = match commit.entries {
            Some(entries) => entries,
            None => self.entries(commit.tree)?,
        };
        let Some(parent_oid) = commit.first_parent else {
            return Ok(now.iter().any(Option::is_some));
        };
        let mut parent = match self.ahead.remove(&parent_oid) {
            Some(seen) => seen,
            None => self.read_commit(parent_oid)?,
        };
        let before = match parent.entries.take() {
            Some(entries) => entries,
            // The same tree holds the same entries.
            None if parent.tree == commit.tree => now.clone(),
            None => self.entries(parent.tree)?,
        };
        let touches = now != before;
        parent.entries = Some(before);
        self.ahead.insert(parent_oid, parent);
        Ok(touches)
    }

    /// The tree and first parent of the commit `oid`, from its raw object, grafts applied.
    fn read_commit(&self, oid: Oid) -> Result<Seen, git2::Error> {
        let object = self.odb.read(oid)?;
        if object.kind() != git2::ObjectType::Commit {
            return Err(malformed("commit", oid, "not a commit"));
        }
        let data = object.data();
        let mut lines = data.split(|&b| b == b'\n');
        let tree = lines
            .next()
            .and_then(|line| line.strip_prefix(b"tree "))
            .and_then(hex_oid)
            .ok_or_else(|| malformed("commit", oid, "no tree line first"))?;
        let first_parent = match self.grafts.get(&oid) {
            Some(parents) => parents.first().copied(),
            None => match lines.next().and_then(|line| line.strip_prefix(b"parent ")) {
                Some(hex) => {
                    Some(hex_oid(hex).ok_or_else(|| malformed("commit", oid, "a bad parent"))?)
                }
                None => None,
            },
        };
        Ok(Seen {
            tree,
            first_parent,
            entries: None,
        })
    }

    /// What the root tree `tree` holds at each path.
    fn entries(&mut self, tree: Oid) -> Result<Vec<Entry>, git2::Error> {
        let mut entries = Vec::with_capacity(self.paths.len());
        for index in 0..self.paths.len() {
            entries.push(self.entry(tree, index)?);
        }
        Ok(entries)
    }

    /// What the root tree `root` holds at path number `index`, as libgit2's
    /// `git_tree_entry_bypath` finds it: each component but the last must be a tree.
    fn entry(&mut self, root: Oid, index: usize) -> Result<Entry, git2::Error> {
        let path = &mut self.paths[index];
        if path.components.is_empty() {
            return Ok(Some((root, TREE)));
        }
        let mut trees = Vec::with_capacity(path.components.len());
        let mut tree = root;
        let mut found = None;
        for (depth, component) in path.components.iter().enumerate() {
            if let Some(&(seen, entry)) = path.last.get(depth)
                && seen == tree
            {
                // The same tree as the last lookup's at this depth: the same rest of the path.
                trees.extend_from_slice(&path.last[depth..]);
                return Ok(entry);
            }
            let entry = find_entry(&self.odb, tree, component)?;
            trees.push((tree, None));
            match entry {
                Some((oid, mode)) if depth + 1 < path.components.len() => {
                    if mode & TYPE_MASK != TREE {
                        break;
                    }
                    tree = oid;
                }
                Some((oid, mode)) => {
                    found = Some((oid, normalise(mode)));
                    break;
                }
                None => break,
            }
        }
        for step in &mut trees {
            step.1 = found;
        }
        path.last = trees;
        Ok(found)
    }
}

/// The entry named `name` in the tree `tree`: its id and raw mode.
fn find_entry(odb: &Odb<'_>, tree: Oid, name: &[u8]) -> Result<Option<(Oid, u32)>, git2::Error> {
    let object = odb.read(tree)?;
    if object.kind() != git2::ObjectType::Tree {
        return Err(malformed("tree", tree, "not a tree"));
    }
    // Entries: `<octal mode> <name>\0<20-byte id>`, one after the other.
    let mut rest = object.data();
    while !rest.is_empty() {
        let space = rest
            .iter()
            .position(|&b| b == b' ')
            .ok_or_else(|| malformed("tree", tree, "an entry without a mode"))?;
        let nul = rest[space..]
            .iter()
            .position(|&b| b == 0)
            .map(|at| space + at)
            .ok_or_else(|| malformed("tree", tree, "an entry without a name"))?;
        let id = rest
            .get(nul + 1..nul + 1 + OID_BYTES)
            .ok_or_else(|| malformed("tree", tree, "an entry cut short"))?;
        if &rest[space + 1..nul] == name {
            let mode = std::str::from_utf8(&rest[..space])
                .ok()
                .and_then(|mode| u32::from_str_radix(mode, 8).ok())
                .ok_or_else(|| malformed("tree", tree, "a bad mode"))?;
            return Ok(Some((Oid::from_bytes(id)?, mode)));
        }
        rest = &rest[nul + 1 + OID_BYTES..];
    }
    Ok(None)
}

/// A mode as libgit2's `git_tree_entry_filemode` gives it: a tree, an executable or plain
/// blob, a link or a submodule's commit.
fn normalise(mode: u32) -> u32 {
    match mode & TYPE_MASK {
        TREE => TREE,
        _ if mode & 0o100 != 0 => BLOB_EXECUTABLE,
        COMMIT => COMMIT,
        LINK => LINK,
        _ => BLOB,
    }
}

/// A hex object id, as a commit's header writes it.
fn hex_oid(hex: &[u8]) -> Option<Oid> {
    if hex.len() == OID_HEX {
        parse_full_sha(std::str::from_utf8(hex).ok()?)
    } else {
        None
    }
}

fn malformed(kind: &str, oid: Oid, what: &str) -> git2::Error {
    git2::Error::from_str(&format!("the {kind} object {oid} is malformed: {what}"))
}

/// The repository's grafts, as libgit2 applies them when it parses a commit: each commit listed
/// in `info/grafts` (`<commit> <parent>...` a line) takes the parents listed, and each listed in
/// `shallow` (one commit a line) has none; `info/grafts` wins where both list a commit. Files
/// that are absent give nothing.
fn grafts(repo: &Repository) -> HashMap<Oid, Vec<Oid>> {
    let mut grafts = HashMap::new();
    let read = |path: std::path::PathBuf| std::fs::read_to_string(path).unwrap_or_default();
    for line in read(repo.path().join("shallow")).lines() {
        if let Some(oid) = parse_full_sha(line.trim()) {
            grafts.insert(oid, Vec::new());
        }
    }
    for line in read(repo.commondir().join("info").join("grafts")).lines() {
        let mut shas = line.split(' ');
        if let Some(oid) = shas.next().and_then(parse_full_sha) {
            grafts.insert(oid, shas.filter_map(parse_full_sha).collect());
        }
    }
    grafts
}

#[cfg(test)]
mod tests {
    //! The walk against the way the changelog used to decide, which is the definition: libgit2's
    //! parsed commits (grafts applied), their trees, and `Tree::get_path` on each commit and
    //! its first parent. Histories drawn at random (branches, merges, extra roots, grafts, a
    //! shallow boundary; files, executables, links, submodules and directories replacing one
    //! another), and every path filter over them, give the same commits in the same order.

    use std::collections::BTreeMap;

    use git2::{ErrorCode, ObjectType, Repository, Signature, Sort, Time};
    use proptest::prelude::*;

    use super::super::Checkout;
    use super::*;

    /// The paths a history's files are drawn from: files and directories that replace one
    /// another (`a` is a file in one commit, a directory in the next).
    const NAMES: &[&str] = &["a", "a/b", "a/b/c", "a/x", "d", "d/e", "l"];
    /// The path filters tried over each history.
    const FILTERS: &[&[&str]] = &[
        &["a"],
        &["a/b"],
        &["a/b/c"],
        &["a/b/c/deeper"],
        &["a/x", "d"],
        &["d/e"],
        &["l"],
        &["."],
        &["absent"],
        &["a/b", "l", "absent"],
    ];
    const MODES: &[u32] = &[0o100644, 0o100755, 0o100664, 0o120000, 0o160000];

    /// The files of a commit: path -> (content, raw mode).
    type Files = BTreeMap<String, (u8, u32)>;

    /// Writes `files` as raw tree objects (so that modes libgit2 would not write, as 100664 from
    /// old git, appear too) and returns the root tree's id.
    fn write_tree(repo: &Repository, files: &Files, prefix: &str) -> Oid {
        let odb = repo.odb().unwrap();
        // name -> (mode, id), in git's order: a directory sorts as if its name ended in '/'.
        let mut entries: Vec<(Vec<u8>, u32, Oid)> = Vec::new();
        let mut directories: Vec<String> = Vec::new();
        for (path, &(content, mode)) in files.range(prefix.to_owned()..) {
            let Some(rest) = path.strip_prefix(prefix) else {
                break;
            };
            match rest.split_once('/') {
                Some((directory, _)) => {
                    if directories.last().map(String::as_str) != Some(directory) {
                        directories.push(directory.to_owned());
                    }
                }
                None => {
                    let id = if mode == 0o160000 {
                        Oid::hash_object(ObjectType::Commit, &[content]).unwrap()
                    } else {
                        odb.write(ObjectType::Blob, &[content]).unwrap()
                    };
                    entries.push((rest.as_bytes().to_vec(), mode, id));
                }
            }
        }
        for directory in directories {
            let id = write_tree(repo, files, &format!("{prefix}{directory}/"));
            entries.push((directory.into_bytes(), 0o40000, id));
        }
        let key = |(name, mode, _): &(Vec<u8>, u32, Oid)| {
            let mut key = name.clone();
            if *mode == 0o40000 {
                key.push(b'/');
            }
            key
        };
        entries.sort_by_key(key);
        let mut data = Vec::new();
        for (name, mode, id) in entries {
            data.extend_from_slice(format!("{mode:o} ").as_bytes());
            data.extend_from_slice(&name);
            data.push(0);
            data.extend_from_slice(id.as_bytes());
        }
        odb.write(ObjectType::Tree, &data).unwrap()
    }

    /// Writes `path` into `files`, removing whatever stood in its way (a file where a directory
    /// must be, a directory where the file goes).
    fn put(files: &mut Files, path: &str, content: u8, mode: u32) {
        files.retain(|other, _| {
            !(path.starts_with(&format!("{other}/")) || other.starts_with(&format!("{path}/")))
        });
        files.insert(path.to_owned(), (content, mode));
    }

    /// One step of a random history: which commit to build on, what to change, whether to merge.
    type Step = (usize, usize, u8, usize, u8);

    /// Makes a history from `steps` and returns every commit, oldest first, and the head (a
    /// commit that merges every tip, so that the walk from it sees them all).
    fn history(repo: &Repository, steps: &[Step]) -> (Vec<Oid>, Oid) {
        let mut commits: Vec<(Oid, Files)> = Vec::new();
        let mut tips: Vec<Oid> = Vec::new();
        for (n, &(base, name, content, mode, kind)) in steps.iter().enumerate() {
            let base = (!commits.is_empty()).then(|| base % commits.len());
            let mut files = base.map(|b| commits[b].1.clone()).unwrap_or_default();
            let mut parents: Vec<Oid> = base.map(|b| commits[b].0).into_iter().collect();
            match kind % 8 {
                // A new root, now and then.
                0 if n > 0 => {
                    parents.clear();
                    files.clear();
                }
                // Removing a path.
                1 => {
                    let name = NAMES[name % NAMES.len()];
                    files.retain(|p, _| p != name && !p.starts_with(&format!("{name}/")));
                }
                // A merge with another commit, which may bring its side's files.
                2 | 3 if commits.len() > 1 => {
                    let other = (name + content as usize) % commits.len();
                    parents.push(commits[other].0);
                    if kind % 8 == 3 {
                        files = commits[other].1.clone();
                    }
                }
                // A commit that changes nothing.
                4 => {}
                _ => put(
                    &mut files,
                    NAMES[name % NAMES.len()],
                    content % 4,
                    MODES[mode % MODES.len()],
                ),
            }
            let tree = repo.find_tree(write_tree(repo, &files, "")).unwrap();
            let time = Time::new(1_700_000_000 + n as i64 * 60, 0);
            let author = Signature::new("A", "a@example.com", &time).unwrap();
            let parent_commits: Vec<git2::Commit<'_>> = parents
                .iter()
                .map(|p| repo.find_commit(*p).unwrap())
                .collect();
            let parent_refs: Vec<&git2::Commit<'_>> = parent_commits.iter().collect();
            let oid = repo
                .commit(None, &author, &author, &format!("{n}"), &tree, &parent_refs)
                .unwrap();
            tips.retain(|tip| !parents.contains(tip));
            tips.push(oid);
            commits.push((oid, files));
        }
        let head = if tips.len() == 1 {
            tips[0]
        } else {
            let tree = repo.find_commit(tips[0]).unwrap().tree().unwrap();
            let time = Time::new(1_800_000_000, 0);
            let author = Signature::new("A", "a@example.com", &time).unwrap();
            let parents: Vec<git2::Commit<'_>> =
                tips.iter().map(|p| repo.find_commit(*p).unwrap()).collect();
            let parent_refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
            repo.commit(None, &author, &author, "tips", &tree, &parent_refs)
                .unwrap()
        };
        (commits.into_iter().map(|(oid, _)| oid).collect(), head)
    }

    /// The definition: the commits of the walk `(previous, head]` that change something at a
    /// path, each compared with its first parent through libgit2's parsed objects.
    fn reference(
        repo: &Repository,
        previous: Option<Oid>,
        head: Oid,
        paths: &[String],
    ) -> Vec<Oid> {
        let filter = PathFilter::new(paths).unwrap();
        let mut walk = repo.revwalk().unwrap();
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME).unwrap();
        walk.push(head).unwrap();
        if let Some(previous) = previous {
            walk.hide(previous).unwrap();
        }
        let entry = |tree: &git2::Tree<'_>, path: &str| -> Option<(Oid, i32)> {
            if path.is_empty() {
                return Some((tree.id(), 0o040000));
            }
            match tree.get_path(std::path::Path::new(path)) {
                Ok(entry) => Some((entry.id(), entry.filemode())),
                Err(e) if e.code() == ErrorCode::NotFound => None,
                Err(e) => panic!("{e}"),
            }
        };
        walk.map(Result::unwrap)
            .filter(|&oid| {
                let commit = repo.find_commit(oid).unwrap();
                let tree = commit.tree().unwrap();
                let parent_tree = commit
                    .parent_ids()
                    .next()
                    .map(|p| repo.find_commit(p).unwrap().tree().unwrap());
                filter.paths.iter().any(|path| {
                    entry(&tree, path) != parent_tree.as_ref().and_then(|t| entry(t, path))
                })
            })
            .collect()
    }

    /// A mode change counts as libgit2 normalises modes: 100644 to 100664 (group-writable, from
    /// old git) is no change, to 100755 is one.
    #[test]
    fn modes_count_as_libgit2_normalises_them() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        // Each on the one before: file `a`, the same content, another mode.
        let mode = |base: usize, mode: u32| -> Step {
            (
                base,
                0,
                1,
                MODES.iter().position(|&m| m == mode).unwrap(),
                5,
            )
        };
        let steps = [
            mode(0, 0o100644),
            mode(0, 0o100664),
            mode(1, 0o100755),
            mode(2, 0o100664),
        ];
        let (commits, head) = history(&repo, &steps);
        let checkout = Checkout::open(dir.path()).unwrap();
        let new = checkout.resolve(&head.to_string()).unwrap();
        let changelog = checkout.changelog(None, &new, &["a".to_owned()]).unwrap();
        let expected: Vec<String> = [commits[3], commits[2], commits[0]]
            .iter()
            .map(Oid::to_string)
            .collect();
        assert_eq!(changelog.commits, expected);
        assert_eq!(
            reference(&repo, None, head, &["a".to_owned()]),
            [commits[3], commits[2], commits[0]]
        );
    }

    fn step() -> impl Strategy<Value = Step> {
        (0usize..64, 0usize..64, any::<u8>(), 0usize..8, any::<u8>())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Whatever the history and the grafts, the walk keeps exactly the commits the
        /// definition keeps, in the walk's order.
        #[test]
        fn the_walk_keeps_what_the_definition_keeps(
            steps in prop::collection::vec(step(), 1..24),
            shallow in prop::option::of(0usize..64),
            graft in prop::option::of((0usize..64, 0usize..64)),
            previous in prop::option::of(0usize..64),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let repo = Repository::init(dir.path()).unwrap();
            let (commits, head) = history(&repo, &steps);
            let at = |i: usize| commits[i % commits.len()];
            if let Some(graft) = graft {
                let line = format!("{} {}\n", at(graft.0), at(graft.1));
                std::fs::create_dir_all(repo.path().join("info")).unwrap();
                std::fs::write(repo.path().join("info/grafts"), line).unwrap();
            }
            if let Some(shallow) = shallow {
                std::fs::write(repo.path().join("shallow"), format!("{}\n", at(shallow))).unwrap();
            }
            // Opened after the grafts are written: libgit2 reads them when it opens.
            let repo = Repository::open(dir.path()).unwrap();
            let checkout = Checkout::open(dir.path()).unwrap();
            let new = checkout.resolve(&head.to_string()).unwrap();
            // No previous release: a shallow boundary stops nothing, and the grafts decide.
            let previous = previous.map(at).filter(|_| shallow.is_none());
            let previous_sha = previous.map(|p| p.to_string());
            for filter in FILTERS {
                let paths: Vec<String> = filter.iter().map(|p| p.to_string()).collect();
                let expected: Vec<String> = reference(&repo, previous, head, &paths)
                    .iter()
                    .map(Oid::to_string)
                    .collect();
                let changelog = checkout
                    .changelog(previous_sha.as_deref(), &new, &paths)
                    .unwrap();
                prop_assert_eq!(&changelog.commits, &expected, "paths {:?}", filter);
            }
        }
    }
}
