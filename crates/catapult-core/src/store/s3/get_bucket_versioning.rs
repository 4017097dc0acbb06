//! GetBucketVersioning, read leniently: some stores (moto 5.2 among them) answer with a root
//! element S3 never sends, which the SDK refuses although the `<Status>` inside is the same.

use aws_sdk_s3::types::BucketVersioningStatus;

use super::{S3Store, Target};
use crate::store::{BucketName, Operation, StoreError, Versioning};

impl S3Store {
    pub(super) async fn get_bucket_versioning(
        &self,
        bucket: &BucketName,
    ) -> Result<Versioning, StoreError> {
        tracing::debug!(bucket = bucket.as_str(), "S3 GetBucketVersioning");
        let at = Target::Bucket(bucket, "");
        match self
            .client
            .get_bucket_versioning()
            .bucket(bucket.as_str())
            .send()
            .await
        {
            Ok(output) => Ok(match output.status() {
                Some(BucketVersioningStatus::Enabled) => Versioning::Enabled,
                Some(BucketVersioningStatus::Suspended) => Versioning::Suspended,
                _ => Versioning::Off,
            }),
            Err(err) => {
                // A successful answer the SDK could not parse, whichever way it classed it.
                let lenient = err
                    .raw_response()
                    .filter(|raw| raw.status().is_success())
                    .and_then(|raw| raw.body().bytes())
                    .and_then(versioning_in_body);
                match lenient {
                    Some(state) => {
                        tracing::debug!(
                            bucket = bucket.as_str(),
                            ?state,
                            "read GetBucketVersioning's nonstandard answer leniently"
                        );
                        Ok(state)
                    }
                    None => Err(self.sdk_error(Operation::GetVersioning, at, err)),
                }
            }
        }
    }
}

/// The versioning state in a successful GetBucketVersioning body, read leniently: some stores
/// (moto 5.2 among them, with `<GetBucketVersioningResponse>`) answer with a root element S3
/// never sends, which the SDK refuses, though the `<Status>` inside it is the same.
fn versioning_in_body(body: &[u8]) -> Option<Versioning> {
    let text = std::str::from_utf8(body).ok()?.trim_start();
    if !text.starts_with('<') || text.contains("<Error>") {
        return None;
    }
    let status = text
        .split_once("<Status>")
        .and_then(|(_, rest)| rest.split_once("</Status>"))
        .map(|(status, _)| status.trim());
    Some(match status {
        Some("Enabled") => Versioning::Enabled,
        Some("Suspended") => Versioning::Suspended,
        _ => Versioning::Off,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_versioning_answer_under_any_root_element() {
        // What moto 5.2 answers, never enabled and enabled.
        let moto_5_2_off = br#"<?xml version="1.0" encoding="utf-8"?>
<GetBucketVersioningResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>"#;
        assert_eq!(versioning_in_body(moto_5_2_off), Some(Versioning::Off));
        let moto_5_2_on = br#"<?xml version="1.0" encoding="utf-8"?>
<GetBucketVersioningResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></GetBucketVersioningResponse>"#;
        assert_eq!(versioning_in_body(moto_5_2_on), Some(Versioning::Enabled));
        let suspended =
            b"<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>";
        assert_eq!(versioning_in_body(suspended), Some(Versioning::Suspended));
        let never = b"<VersioningConfiguration/>";
        assert_eq!(versioning_in_body(never), Some(Versioning::Off));
        assert_eq!(versioning_in_body(b"<Error><Code>x</Code></Error>"), None);
        assert_eq!(versioning_in_body(b"\xff\xfe"), None);
    }
}
