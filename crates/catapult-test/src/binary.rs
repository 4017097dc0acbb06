//! The one executable, under each name it answers to: `check`, `in` and `out` (the resource's
//! steps, as the image links them) and `catapult`. The test binary finds it beside itself, where
//! cargo builds it (`target/<profile>/catapult`), unless `CATAPULT_TEST_BINARY` names another;
//! the links live in one directory per executable under the system's temporary directory, made
//! once and shared by every test process (each link replaced atomically), so that no run leaves
//! a directory behind.

use std::hash::{DefaultHasher, Hash, Hasher};
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
    static LINKS: OnceLock<PathBuf> = OnceLock::new();
    LINKS.get_or_init(|| links(&executable())).join(name)
}

/// The directory of links to `executable`, one per executable: made if missing, each link made
/// under a name of this process's own and renamed into place, so that test processes starting
/// together never see a half-made link.
fn links(executable: &Path) -> PathBuf {
    let mut hasher = DefaultHasher::new();
    executable.hash(&mut hasher);
    let dir = std::env::temp_dir().join(format!("catapult-links-{:016x}", hasher.finish()));
    std::fs::create_dir_all(&dir).expect("a directory for the links");
    for name in ["check", "in", "out", "catapult"] {
        let link = dir.join(name);
        if std::fs::read_link(&link).is_ok_and(|target| target == executable) {
            continue;
        }
        let made = dir.join(format!(".{name}.{}", std::process::id()));
        let _ = std::fs::remove_file(&made);
        std::os::unix::fs::symlink(executable, &made).expect("a link to the executable");
        std::fs::rename(&made, &link).expect("the link in place");
    }
    dir
}

/// A command running the executable as `name`.
pub fn command(name: &str) -> assert_cmd::Command {
    assert_cmd::Command::new(path(name))
}
