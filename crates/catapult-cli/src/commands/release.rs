//! `catapult release` (`release.new`): cut release latest+1 from a commit of the repository,
//! through the same operation as the resource's `put`.

use std::path::Path;

use catapult_core::ops::MANUAL;
use catapult_core::ops::release::{ReleasePlan, cut_release};
use catapult_core::record::{checked_author, is_image_digest};
use catapult_core::store::RecordStore;

use super::{Context, preview_then_write};
use crate::args::ReleaseArgs;
use crate::error::{Failure, Result};

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
        (None, None) => None,
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
        tickets: Default::default(),
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
