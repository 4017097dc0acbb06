//! ListObjectsV2: every key of a bucket under a prefix with its current ETag, every page, for the
//! board, which learns from one listing what changed since it last looked.

use super::{S3Store, Target};
use crate::store::{BucketName, ListedKey, Operation, StoreError, StoreErrorKind};

impl S3Store {
    pub(super) async fn list_objects(
        &self,
        bucket: &BucketName,
        prefix: &str,
    ) -> Result<Vec<ListedKey>, StoreError> {
        let at = Target::Bucket(bucket, prefix);
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            tracing::debug!(bucket = bucket.as_str(), prefix, "S3 ListObjectsV2");
            let output = self
                .client
                .list_objects_v2()
                .bucket(bucket.as_str())
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|err| self.sdk_error(Operation::ListKeys, at, err))?;
            keys.extend(output.contents().iter().filter_map(|object| {
                Some(ListedKey {
                    key: object.key()?.to_owned(),
                    etag: object.e_tag().unwrap_or_default().to_owned(),
                })
            }));
            match output.next_continuation_token() {
                Some(next) if output.is_truncated() == Some(true) && !next.is_empty() => {
                    token = Some(next.to_owned());
                }
                _ if output.is_truncated() == Some(true) => {
                    return Err(self.error(
                        Operation::ListKeys,
                        at,
                        StoreErrorKind::Failed(
                            "the listing is truncated but gives no continuation token".into(),
                        ),
                    ));
                }
                _ => return Ok(keys),
            }
        }
    }
}
