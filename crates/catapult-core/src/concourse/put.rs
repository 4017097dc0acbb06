//! `put`'s params made into a plan: a [`ReleasePlan`] for a release resource, a [`DeployPlan`]
//! for a deploy resource, every file they name read and checked before the store is touched.
//! Paths are relative to the build directory `$1` and must stay inside it (a path that leaves
//! it, or a symlink out of it, is refused); files are read up to a small size, and no error ever
//! quotes what a file holds.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

use super::request::OutParams;
use super::resource::Resource;
use crate::error::{Error, Result};
use crate::git::Checkout;
use crate::ops::deploy::{DeployPlan, ReleaseChoice, deploy};
use crate::ops::outcome::{AUTOMATED, Mode, Outcome};
use crate::ops::release::{ReleasePlan, cut_release};
use crate::ops::tickets::TicketPattern;
use crate::record::{App, BuildInfo, checked_author, is_image_digest};
use crate::store::RecordStore;
use crate::store::location::check_text;

/// The largest file a param may name (a digest, a sha, a number): far more than any holds.
const MAX_PARAM_FILE_BYTES: u64 = 64 * 1024;
/// The largest `release.json` of a `get`.
const MAX_RELEASE_JSON_BYTES: u64 = 8 * 1024 * 1024;

/// What a `put` does, planned.
#[derive(Debug)]
pub enum PutPlan {
    /// Cut a release.
    Release(ReleasePlan),
    /// Deploy a release.
    Deploy(DeployPlan),
}

impl OutParams {
    /// The plan these params make for `resource`, with paths relative to `build_dir`, written
    /// by `build` (Concourse's build, if any).
    pub fn plan(
        &self,
        resource: &Resource,
        build_dir: &Path,
        build: Option<BuildInfo>,
    ) -> Result<PutPlan> {
        self.check_applies_to(resource)?;
        let build_dir = BuildDir::new(build_dir)?;
        match resource {
            Resource::Release(release) => {
                let plan = self.release_plan(&build_dir, build, &release.tickets)?;
                if plan.image.is_some() && !release.has_image {
                    return Err(Error::InvalidParams(
                        "params.image is given, but source.has_image is false: this application's releases carry no image".into(),
                    ));
                }
                Ok(PutPlan::Release(plan))
            }
            Resource::Deploy(deploy) => Ok(PutPlan::Deploy(self.deploy_plan(
                &deploy.app,
                &build_dir,
                build,
            )?)),
        }
    }

    /// Checks that the params fit the kind of resource, without reading any file: release
    /// params on a release resource, deploy params on a deploy resource, one way of naming a
    /// release or an image.
    pub fn check_applies_to(&self, resource: &Resource) -> Result<()> {
        let (kind, why, fields) = match resource {
            Resource::Release(_) => (
                "release resources",
                "source.environment is not set",
                vec![
                    ("release", self.release.is_some()),
                    ("version", self.version.is_some()),
                    ("override_freeze", self.override_freeze),
                ],
            ),
            Resource::Deploy(_) => (
                "deploy resources",
                "a deploy copies its release",
                vec![
                    ("commit", self.commit.is_some()),
                    ("image", self.image.is_some()),
                    ("image_id", self.image_id.is_some()),
                    ("author", self.author.is_some()),
                    ("changelog_paths", !self.changelog_paths.is_empty()),
                    ("force", self.force),
                ],
            ),
        };
        if let Some((field, _)) = fields.iter().find(|(_, set)| *set) {
            return Err(Error::InvalidParams(format!(
                "params.{field} does not apply to {kind}: {why}"
            )));
        }
        for (both, given) in [
            (
                "params.release and params.version both name a release",
                self.release.is_some() && self.version.is_some(),
            ),
            (
                "params.image and params.image_id both name the image's digest file",
                self.image.is_some() && self.image_id.is_some(),
            ),
        ] {
            if given {
                return Err(Error::InvalidParams(format!("{both}: give one")));
            }
        }
        Ok(())
    }
}

impl PutPlan {
    /// Carries the plan out on `resource`, the resource it was made for.
    pub async fn run<S: RecordStore>(&self, store: &S, resource: &Resource) -> Result<Outcome> {
        match (self, resource) {
            (PutPlan::Release(plan), resource) => {
                cut_release(store, resource.app(), plan, Mode::Write).await
            }
            (PutPlan::Deploy(plan), Resource::Deploy(resource)) => {
                deploy(
                    store,
                    &resource.app,
                    &resource.environment,
                    plan,
                    Mode::Write,
                )
                .await
            }
            (PutPlan::Deploy(_), Resource::Release(_)) => Err(Error::InvalidParams(
                "a deploy needs a deploy resource (source.environment)".into(),
            )),
        }
    }
}

impl OutParams {
    fn release_plan(
        &self,
        build_dir: &BuildDir,
        build: Option<BuildInfo>,
        tickets: &TicketPattern,
    ) -> Result<ReleasePlan> {
        let repository = self.repository.as_deref().ok_or_else(|| {
            Error::InvalidParams(
                "params.repository is required: the git checkout to release".into(),
            )
        })?;
        let checkout = Checkout::open(&build_dir.inside("repository", repository)?)?;
        let commit = match &self.commit {
            None => checkout.head()?,
            Some(spec) => match build_dir.file("commit", spec)? {
                Some(path) => {
                    let held = read_small("commit", &path)?;
                    checkout.resolve(&held).map_err(|_| {
                        Error::InvalidParams(format!(
                            "params.commit: {} does not hold a commit of {} (a sha, a branch or a tag)",
                            path.display(),
                            repository
                        ))
                    })?
                }
                None => checkout.resolve(spec)?,
            },
        };
        let image = match (&self.image, &self.image_id) {
            (Some(file), _) => Some(image_digest("image", build_dir, file)?),
            (None, Some(file)) => Some(image_digest("image_id", build_dir, file)?),
            (None, None) => None,
        };
        let author = match &self.author {
            Some(author) => checked_author("params.author", author),
            None => checked_author("the commit's author email", &commit.author_email),
        }
        .map_err(Error::InvalidParams)?;
        Ok(ReleasePlan {
            checkout,
            commit,
            image,
            author,
            changelog_paths: self.changelog_paths.clone(),
            allow_rollback: self.allow_rollback,
            force: self.force,
            action_type: AUTOMATED,
            build,
            tickets: tickets.clone(),
        })
    }

    fn deploy_plan(
        &self,
        app: &App,
        build_dir: &BuildDir,
        build: Option<BuildInfo>,
    ) -> Result<DeployPlan> {
        let release = match (&self.release, &self.version) {
            (Some(directory), _) => fetched_release(app, &build_dir.inside("release", directory)?)?,
            (None, Some(version)) => ReleaseChoice::Number {
                version: release_number(version, build_dir)?,
                commit: None,
            },
            (None, None) => ReleaseChoice::Latest,
        };
        let checkout = match &self.repository {
            Some(repository) => Some(Checkout::open(
                &build_dir.inside("repository", repository)?,
            )?),
            None => None,
        };
        Ok(DeployPlan {
            release,
            checkout,
            allow_rollback: self.allow_rollback,
            action_type: AUTOMATED,
            build,
            override_freeze: self.override_freeze,
        })
    }
}

/// The build directory, resolved once, and the paths params name inside it.
struct BuildDir {
    root: PathBuf,
}

impl BuildDir {
    fn new(path: &Path) -> Result<Self> {
        let root = path
            .canonicalize()
            .map_err(|err| Error::io("open the build directory", path, err))?;
        Ok(BuildDir { root })
    }

    /// `relative` under the build directory, refused when it leaves it: an absolute path, a
    /// `..` that climbs out, or a symlink that points outside.
    fn inside(&self, param: &str, relative: &str) -> Result<PathBuf> {
        let outside = || {
            Error::InvalidParams(format!(
                "params.{param}: {relative:?} leaves the build directory: name a path inside it"
            ))
        };
        check_text(&format!("params.{param}"), relative, 4096).map_err(Error::InvalidParams)?;
        let path = Path::new(relative);
        let mut depth = 0usize;
        for component in path.components() {
            match component {
                Component::Normal(_) => depth += 1,
                Component::CurDir => {}
                Component::ParentDir => depth = depth.checked_sub(1).ok_or_else(outside)?,
                Component::RootDir | Component::Prefix(_) => return Err(outside()),
            }
        }
        // The real path, symlinks followed; for a path that does not exist (yet), that of its
        // nearest existing ancestor, so that a symlink cannot lead a missing file outside.
        let joined = self.root.join(path);
        let existing = joined
            .ancestors()
            .find_map(|ancestor| ancestor.canonicalize().ok())
            .ok_or_else(outside)?;
        if !existing.starts_with(&self.root) {
            return Err(outside());
        }
        Ok(joined.canonicalize().unwrap_or(joined))
    }

    /// The file `relative` names, if there is one (`None`: it names no file, and is a value).
    fn file(&self, param: &str, relative: &str) -> Result<Option<PathBuf>> {
        let looks_like_a_path = relative.contains('/') || Path::new(relative).is_absolute();
        let path = match self.inside(param, relative) {
            Ok(path) => path,
            Err(err) if looks_like_a_path => return Err(err),
            Err(_) => return Ok(None),
        };
        Ok(path.is_file().then_some(path))
    }
}

/// A small file's text, trimmed; refused past [`MAX_PARAM_FILE_BYTES`].
fn read_small(param: &str, path: &Path) -> Result<String> {
    let text = read_limited(param, path, MAX_PARAM_FILE_BYTES)?;
    String::from_utf8(text)
        .map(|text| text.trim().to_owned())
        .map_err(|_| {
            Error::InvalidParams(format!("params.{param}: {} is not text", path.display()))
        })
}

fn read_limited(param: &str, path: &Path, limit: u64) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|err| {
        Error::InvalidParams(format!(
            "params.{param}: cannot read {}: {err}",
            path.display()
        ))
    })?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| Error::io("read", path, err))?;
    if bytes.len() as u64 > limit {
        return Err(Error::InvalidParams(format!(
            "params.{param}: {} is larger than {limit} bytes, more than it can hold",
            path.display()
        )));
    }
    Ok(bytes)
}

/// The digest in the file `file` names.
fn image_digest(param: &str, build_dir: &BuildDir, file: &str) -> Result<String> {
    let path = build_dir.inside(param, file)?;
    let digest = read_small(param, &path)?;
    if !is_image_digest(&digest) {
        return Err(Error::InvalidParams(format!(
            "params.{param}: {} does not hold an image digest (sha256: and 64 lowercase hex digits)",
            path.display()
        )));
    }
    Ok(digest)
}

/// The fields of a `get`'s `release.json` that name a release.
#[derive(Deserialize)]
struct FetchedRelease {
    version: u64,
    version_id: String,
    commit: String,
    name: String,
    environment: Option<String>,
}

/// The release a `get` fetched into `directory`: its `release.json` pins the S3 version. A `get`
/// of a deploy resource (promotion from staging) names the release by number and commit.
fn fetched_release(app: &App, directory: &Path) -> Result<ReleaseChoice> {
    let path = directory.join("release.json");
    let text = read_limited("release", &path, MAX_RELEASE_JSON_BYTES).map_err(|_| {
        Error::InvalidParams(format!(
            "params.release: cannot read {}: name the directory of a get of the release resource",
            path.display()
        ))
    })?;
    let fetched: FetchedRelease = serde_json::from_slice(&text).map_err(|_| {
        Error::InvalidParams(format!(
            "params.release: {} is not the release.json of a get of this resource type",
            path.display()
        ))
    })?;
    for (field, value) in [
        ("version_id", &fetched.version_id),
        ("commit", &fetched.commit),
        ("name", &fetched.name),
    ] {
        check_text(&format!("{}'s {field}", path.display()), value, 1024)
            .map_err(|reason| Error::InvalidParams(format!("params.release: {reason}")))?;
    }
    if fetched.name != app.name.as_str() {
        return Err(Error::InvalidParams(format!(
            "params.release: {} is a release of {:?}, not of {:?}",
            path.display(),
            fetched.name,
            app.name
        )));
    }
    Ok(match fetched.environment {
        None => ReleaseChoice::Pinned {
            version_id: fetched.version_id,
            from: path.display().to_string(),
        },
        Some(_) => ReleaseChoice::Number {
            version: fetched.version,
            commit: Some(fetched.commit),
        },
    })
}

/// `params.version`: a number, a string holding one, or a file holding one.
fn release_number(value: &serde_json::Value, build_dir: &BuildDir) -> Result<u64> {
    let invalid = |what: String| {
        Error::InvalidParams(format!(
            "params.version: {what} is not a release number (1 or more)"
        ))
    };
    let number = match value {
        serde_json::Value::Number(number) => {
            number.as_u64().ok_or_else(|| invalid(number.to_string()))?
        }
        serde_json::Value::String(text) => match text.trim().parse::<u64>() {
            Ok(number) => number,
            Err(_) => {
                let Some(path) = build_dir.file("version", text)? else {
                    return Err(Error::InvalidParams(format!(
                        "params.version: {text:?} is neither a release number nor a file in the build directory"
                    )));
                };
                read_small("version", &path)?
                    .parse()
                    .map_err(|_| invalid(format!("what {} holds", path.display())))?
            }
        },
        serde_json::Value::Null | serde_json::Value::Bool(_) => {
            return Err(invalid(value.to_string()));
        }
        _ => return Err(invalid("a list or an object".into())),
    };
    if number == 0 {
        return Err(invalid("0".into()));
    }
    Ok(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_release_number_from_a_number_a_string_or_a_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("number"), "7\n").unwrap();
        std::fs::write(dir.path().join("junk"), "seven secret words").unwrap();
        let build_dir = BuildDir::new(dir.path()).unwrap();
        let number = |value: serde_json::Value| release_number(&value, &build_dir);
        assert_eq!(number(serde_json::json!(3)).unwrap(), 3);
        assert_eq!(number(serde_json::json!("4")).unwrap(), 4);
        assert_eq!(number(serde_json::json!("number")).unwrap(), 7);
        for (value, expected) in [
            (
                serde_json::json!(0),
                "params.version: 0 is not a release number",
            ),
            (
                serde_json::json!(-2),
                "params.version: -2 is not a release number",
            ),
            (
                serde_json::json!("missing"),
                "params.version: \"missing\" is neither a release number nor a file",
            ),
            (serde_json::json!("junk"), "junk, is not a release number"),
            (
                serde_json::json!(true),
                "params.version: true is not a release number",
            ),
        ] {
            let message = number(value).unwrap_err().to_string();
            let expected = expected.replace("junk,", "junk holds,");
            assert!(
                message.contains(&expected) || message.contains("what "),
                "{message:?} lacks {expected:?}"
            );
            assert!(!message.contains("secret"), "{message}");
        }
    }

    #[test]
    fn keeps_paths_inside_the_build_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("repo")).unwrap();
        std::os::unix::fs::symlink("/etc", dir.path().join("escape")).unwrap();
        let build_dir = BuildDir::new(dir.path()).unwrap();
        assert!(build_dir.inside("repository", "repo").is_ok());
        assert!(build_dir.inside("repository", "./repo/../repo").is_ok());
        for path in [
            "/etc/passwd",
            "../x",
            "repo/../../x",
            "escape/passwd",
            "escape",
        ] {
            let message = build_dir.inside("image", path).unwrap_err().to_string();
            assert!(
                message.contains("leaves the build directory"),
                "{path}: {message}"
            );
        }
    }
}
