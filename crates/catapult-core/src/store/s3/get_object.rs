//! GetObject, with a VersionId or without (the current version): a record's body, refused past
//! the largest a record may be before it is read whole, and read chunk by chunk so that a body
//! without a length cannot grow past it either.

use super::{S3Store, WRITE_ID_METADATA, error_chain, timestamp};
use crate::store::{
    Location, MAX_RECORD_BYTES, Operation, StoreError, StoreErrorKind, StoredObject,
};

impl S3Store {
    /// One version of `at`, or its current version when `version_id` is `None`.
    pub(super) async fn get_object(
        &self,
        at: &Location,
        version_id: Option<&str>,
    ) -> Result<StoredObject, StoreError> {
        tracing::debug!(
            bucket = at.bucket.as_str(),
            key = at.key.as_str(),
            version_id,
            "S3 GetObject"
        );
        let operation = match version_id {
            Some(_) => Operation::GetVersion,
            None => Operation::GetCurrent,
        };
        let output = self
            .client
            .get_object()
            .bucket(at.bucket.as_str())
            .key(at.key.as_str())
            .set_version_id(version_id.map(str::to_owned))
            .send()
            .await
            .map_err(|err| self.sdk_error(operation, at, err))?;
        let too_large = |size| self.error(operation, at, StoreErrorKind::TooLarge { size });
        if let Some(length) = output.content_length().and_then(|n| u64::try_from(n).ok()) {
            if length > MAX_RECORD_BYTES {
                return Err(too_large(length));
            }
        }
        let etag = output.e_tag().map(str::to_owned);
        // S3 gives an object encrypted with SSE-KMS or SSE-C an ETag that is not its MD5.
        let etag_is_md5 = output.sse_customer_algorithm().is_none()
            && !output
                .server_side_encryption()
                .is_some_and(|encryption| encryption.as_str().starts_with("aws:kms"));
        let last_modified = timestamp(output.last_modified());
        let write_id = output
            .metadata()
            .and_then(|metadata| metadata.get(WRITE_ID_METADATA))
            .cloned();
        // The answer's own version id, never the one asked for: a store that ignores
        // `versionId` (and answers with its current version) must not pass for one that keeps
        // versions.
        let found_version_id = output.version_id().map(str::to_owned);
        // Read chunk by chunk, so that a body without a length cannot grow past the limit.
        let mut body = Vec::new();
        let mut stream = output.body;
        loop {
            match stream.try_next().await {
                Ok(Some(chunk)) => {
                    body.extend_from_slice(&chunk);
                    if body.len() as u64 > MAX_RECORD_BYTES {
                        return Err(too_large(body.len() as u64));
                    }
                }
                Ok(None) => break,
                Err(err) => {
                    return Err(self.error(
                        operation,
                        at,
                        StoreErrorKind::Transient(format!(
                            "the body was cut short: {}",
                            error_chain(&err)
                        )),
                    ));
                }
            }
        }
        Ok(StoredObject {
            version_id: found_version_id,
            etag,
            last_modified,
            write_id,
            etag_is_md5,
            body,
        })
    }
}
