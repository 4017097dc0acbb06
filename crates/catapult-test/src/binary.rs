//! The one executable, under each name it answers to: `check`, `in` and `out` (the resource's
//! steps, as the image links them) and `catapult`. The test binary finds it beside itself, where
//! cargo builds it (`target/<profile>/catapult`), unless `CATAPULT_TEST_BINARY` names another;
//! the links live in a directory of each test process's own, made once.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The executable itself.
pub fn executable() -> PathBuf {
    if let Some(path) = std::env::var_os("CATAPULT_TEST_BINARY").filter(|path| !path.is_empty()) {
        return PathBuf::from(path);
    }
    // target/<profile>/deps/<test>-<hash> → target/<profile>/catapult
    let test = std::env::current_exe().expect("the test knows its own path");
    let profile_dir = test
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from target/<profile>/deps");
    let path = profile_dir.join(format!("catapult{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is not built: run the tests with cargo test, which builds it",
        path.display()
    );
    path
}

/// The executable under `name` (`check`, `in`, `out` or `catapult`): a link to it, so that it
/// acts as that name says, as it does in the image.
pub fn path(name: &str) -> PathBuf {
    static LINKS: OnceLock<tempfile::TempDir> = OnceLock::new();
    let links = LINKS.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("catapult-bin")
            .tempdir()
            .expect("a directory for the links");
        let executable = executable();
        for name in ["check", "in", "out", "catapult"] {
            std::os::unix::fs::symlink(&executable, dir.path().join(name))
                .expect("a link to the executable");
        }
        dir
    });
    links.path().join(name)
}

/// A command running the executable as `name`.
pub fn command(name: &str) -> assert_cmd::Command {
    assert_cmd::Command::new(path(name))
}
