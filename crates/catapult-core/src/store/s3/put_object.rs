//! PutObject, conditional (`If-None-Match: *` or `If-Match`), stored with the write's id in its
//! user metadata: the only write the record log makes.

use aws_sdk_s3::primitives::ByteStream;

use super::{S3Store, WRITE_ID_METADATA};
use crate::store::{Location, NULL_VERSION_ID, Operation, StoreError, WriteCondition};

impl S3Store {
    pub(super) async fn put_object(
        &self,
        at: &Location,
        body: Vec<u8>,
        condition: &WriteCondition,
        write_id: &str,
    ) -> Result<Option<String>, StoreError> {
        tracing::debug!(
            bucket = at.bucket.as_str(),
            key = at.key.as_str(),
            %condition,
            write_id,
            "S3 PutObject"
        );
        let request = self
            .client
            .put_object()
            .bucket(at.bucket.as_str())
            .key(at.key.as_str())
            .content_type("application/json")
            .metadata(WRITE_ID_METADATA, write_id)
            .body(ByteStream::from(body));
        let request = match condition {
            WriteCondition::Absent => request.if_none_match("*"),
            WriteCondition::Matches(etag) => request.if_match(etag),
        };
        let output = request
            .send()
            .await
            .map_err(|err| self.sdk_error(Operation::Put, at, err))?;
        Ok(output
            .version_id()
            .filter(|version_id| !version_id.is_empty() && *version_id != NULL_VERSION_ID)
            .map(str::to_owned))
    }
}
