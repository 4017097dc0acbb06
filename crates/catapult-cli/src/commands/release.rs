//! `catapult release` (`release.new`): cut release latest+1 from a commit of the repository,
//! through the same operation as the resource's `put`. The image's digest is given, or looked up
//! in the registry as the older tool did (the tag `ref-<full commit sha>` of
//! `<docker_repository>/<docker_image_prefix><name>`), before the store is touched.

use std::path::Path;

use catapult_core::ops::MANUAL;
use catapult_core::ops::release::{ReleasePlan, cut_release};
use catapult_core::record::{checked_author, is_image_digest};
use catapult_core::registry::{DockerConfig, ImageReference, RegistryClient, RegistryError};
use catapult_core::store::RecordStore;

use super::{Context, preview_then_write};
use crate::args::ReleaseArgs;
use crate::config::{ImageRepository, docker_config_dir};
use crate::error::{Failure, Result};

/// The tag the older tool's pipelines push each commit's image under: `ref-<full commit sha>`.
pub fn image_tag(commit_sha: &str) -> String {
    format!("ref-{commit_sha}")
}

/// `catapult release`.
pub async fn release<S: RecordStore>(context: &Context<S>, args: &ReleaseArgs) -> Result<()> {
    let app = context.app(&args.name)?;
    let checkout = context.checkout()?;
    let commit = checkout
        .resolve(&args.commit)
        .map_err(catapult_core::Error::from)?;
    let image = match (&args.image, &args.image_file) {
        (Some(image), _) => Some(image.trim().to_owned()),
        (None, Some(path)) => Some(read_digest(path)?),
        (None, None) if args.no_image => None,
        (None, None) => match (&context.config.images, &args.image_name) {
            (Some(images), image_name) => Some(
                look_up_image(
                    images,
                    &args.name,
                    image_name.as_deref(),
                    &commit.sha,
                    context,
                )
                .await?,
            ),
            (None, Some(_)) => {
                return Err(Failure::new(
                    "--image-name: there is no registry to look the image up in: set [release] docker_repository in .catapult.toml (or CATAPULT_CONFIG_DOCKER_REPOSITORY)",
                ));
            }
            (None, None) => None,
        },
    };
    if let Some(image) = image.as_ref().filter(|image| !is_image_digest(image)) {
        return Err(Failure::new(format!(
            "--image: {image:?} is not an image digest (sha256: and 64 lowercase hex digits)"
        )));
    }
    let author = match &args.author {
        Some(author) => checked_author("--author", author),
        None => {
            let email = checkout
                .configured_email()
                .unwrap_or_else(|| commit.author_email.clone());
            checked_author("git's user.email", &email)
        }
    }
    .map_err(Failure::new)?;
    let plan = ReleasePlan {
        checkout,
        commit,
        image,
        author,
        changelog_paths: args.paths.clone(),
        allow_rollback: args.rollback,
        force: args.force,
        action_type: MANUAL,
        build: None,
        tickets: context.config.tickets.clone(),
    };
    preview_then_write(
        context,
        (&args.name, None),
        (args.dry_run, args.yes),
        |preview| format!("Write release {} of {}?", preview.record.version, app.name),
        |mode| cut_release(&context.store, &app, &plan, mode),
    )
    .await
}

/// The digest of the image the older tool would have pulled for `name` at `commit_sha`:
/// `<docker_repository>/<image_name or docker_image_prefix + name>:ref-<commit_sha>`, from the
/// registry's API with the credentials of Docker's configuration.
async fn look_up_image<S: RecordStore>(
    images: &ImageRepository,
    name: &str,
    image_name: Option<&str>,
    commit_sha: &str,
    context: &Context<S>,
) -> Result<String> {
    let image = match image_name {
        Some(image_name) => image_name.to_owned(),
        None => format!("{}{name}", images.prefix),
    };
    let text = format!(
        "{}/{image}:{}",
        images.repository.trim_end_matches('/'),
        image_tag(commit_sha)
    );
    let reference = ImageReference::parse(&text).map_err(|err| match err {
        RegistryError::InvalidReference { .. } => Failure::new(format!(
            "[release] docker_repository {:?}{} does not make an image reference: {err}",
            images.repository,
            image_name
                .map(|name| format!(" with --image-name {name:?}"))
                .unwrap_or_default()
        )),
        other => other.into(),
    })?;
    let client = RegistryClient::new(&context.config.registry_ca_certs)?;
    let env = |name: &str| std::env::var(name).ok();
    let docker = docker_config_dir(&env).map(DockerConfig::in_directory);
    tracing::info!("looking up the digest of {reference}");
    let digest = client.manifest_digest(&reference, docker.as_ref()).await?;
    Ok(digest)
}

/// The digest in the file `--image-file` names.
fn read_digest(path: &Path) -> Result<String> {
    let text = std::fs::read(path)
        .ok()
        .filter(|bytes| bytes.len() <= 4096)
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| {
            Failure::new(format!(
                "--image-file: cannot read a digest from {}",
                path.display()
            ))
        })?;
    Ok(text.trim().to_owned())
}
