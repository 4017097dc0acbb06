//! DeleteObject with a VersionId: a version removed for good, only to take back a write the
//! record log must not leave behind.

use super::S3Store;
use crate::store::{Location, Operation, StoreError};

impl S3Store {
    pub(super) async fn delete_object_version(
        &self,
        at: &Location,
        version_id: &str,
    ) -> Result<(), StoreError> {
        tracing::debug!(
            bucket = at.bucket.as_str(),
            key = at.key.as_str(),
            version_id,
            "S3 DeleteObject"
        );
        self.client
            .delete_object()
            .bucket(at.bucket.as_str())
            .key(at.key.as_str())
            .version_id(version_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|err| self.sdk_error(Operation::DeleteVersion, at, err))
    }
}
