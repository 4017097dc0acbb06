//! Git repositories made with the `git` command, commit by commit, as a pipeline's git resource
//! or a person's clone would hold them: a fixed identity, fixed dates where they matter, and no
//! user or system configuration.

use std::path::{Path, PathBuf};

/// `git` in `repo` with `args`, a fixed identity, `home` as its home and no user or system
/// configuration.
pub fn git_command(repo: &Path, home: &Path, args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new("git");
    command
        .args(args)
        .current_dir(repo)
        .env("GIT_AUTHOR_NAME", "Dev Name")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "Dev Name")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", home);
    command
}

/// Runs a git command, asserting that it succeeded; its trimmed stdout.
pub fn run_git(mut command: std::process::Command, args: &[&str]) -> String {
    let output = command.output().expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// A build directory holding a git repository at `repo/`, made with the `git` command as a
/// pipeline's git resource would leave it.
pub struct Build {
    pub dir: tempfile::TempDir,
    commits: u32,
}

impl Default for Build {
    fn default() -> Self {
        Self::new()
    }
}

impl Build {
    pub fn new() -> Self {
        let build = Build {
            dir: tempfile::tempdir().unwrap(),
            commits: 0,
        };
        std::fs::create_dir(build.repo()).unwrap();
        build.git(&["init", "--quiet", "--initial-branch=main"]);
        build
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    fn git_command(&self, args: &[&str]) -> std::process::Command {
        git_command(&self.repo(), self.dir.path(), args)
    }

    /// Runs git in the repository, returning its trimmed stdout.
    pub fn git(&self, args: &[&str]) -> String {
        run_git(self.git_command(args), args)
    }

    /// Commits a change to `file` with `subject`, on 2026-11-<day>, and returns its full sha.
    pub fn commit_file(&mut self, file: &str, subject: &str) -> String {
        self.commits += 1;
        let path = self.repo().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("{subject}\n")).unwrap();
        self.git(&["add", "--all"]);
        let date = format!("2026-11-{:02}T12:00:00Z", 1 + self.commits % 28);
        let args = ["commit", "--quiet", "-m", subject];
        let mut command = self.git_command(&args);
        command
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date);
        run_git(command, &args);
        self.git(&["rev-parse", "HEAD"])
    }

    pub fn commit(&mut self, subject: &str) -> String {
        let file = format!("file-{}", self.commits);
        self.commit_file(&file, subject)
    }

    /// Writes `contents` to `name` in the build directory.
    pub fn write(&self, name: &str, contents: &str) {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
}
