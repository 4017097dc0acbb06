//! STS GetCallerIdentity over the store's own credentials: who they are, for an approval to
//! keep beside the approver's name. An S3-compatible store may not answer STS at all, and an
//! identity is never a reason to fail: any error is `None`, said in the debug log.

use super::{S3Store, error_chain};

impl S3Store {
    pub(super) async fn get_caller_identity(&self) -> Option<String> {
        tracing::debug!("STS GetCallerIdentity");
        match self.sts.get_caller_identity().send().await {
            Ok(output) => output.arn().map(str::to_owned),
            Err(err) => {
                tracing::debug!(
                    "STS GetCallerIdentity failed, the approval names no AWS identity: {}",
                    error_chain(&err)
                );
                None
            }
        }
    }
}
