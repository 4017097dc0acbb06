//! `catapult deploy` (`deploy.start`): deploy a release (the latest by default) to an
//! environment, with the same rules as the resource's `put`: the rollback rule and the gate of
//! the environment's configuration; and, when the configuration declares its environments, only
//! to one of them, unless `--new-environment` says it is meant.

use catapult_core::ops::MANUAL;
use catapult_core::ops::deploy::{DeployPlan, ReleaseChoice, deploy as deploy_release};
use catapult_core::store::RecordStore;

use super::{Context, environment_name, preview_then_write};
use crate::args::DeployArgs;
use crate::error::{Failure, Result};

/// `catapult deploy`.
pub async fn deploy<S: RecordStore>(context: &Context<S>, args: &DeployArgs) -> Result<()> {
    let app = context.app(&args.name)?;
    let name = if args.new_environment {
        environment_name("ENV", &args.environment)?
    } else {
        context.declared(
            "ENV",
            &args.environment,
            "deployed",
            " To deploy to a new environment on purpose, add --new-environment",
        )?
    };
    let environment = context
        .layout()
        .environment(&app, &name)
        .map_err(Failure::new)?;
    let plan = DeployPlan {
        release: match args.version {
            Some(version) => ReleaseChoice::Number {
                version,
                commit: None,
            },
            None => ReleaseChoice::Latest,
        },
        checkout: context.checkout().ok(),
        allow_rollback: args.rollback,
        action_type: MANUAL,
        build: None,
        override_freeze: args.override_freeze,
    };
    preview_then_write(
        context,
        (&args.name, Some(&args.environment)),
        (args.dry_run, args.yes),
        |preview| {
            format!(
                "Deploy release {} of {} to {}?",
                preview.record.version, app.name, args.environment
            )
        },
        |mode| deploy_release(&context.store, &app, &environment, &plan, mode),
    )
    .await
}
