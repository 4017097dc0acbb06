//! The S3 seam: a small trait with one method per S3 operation the steps need, and its one
//! implementation over the AWS SDK. This is the only module that touches `aws_*`; the steps are
//! generic over [`RecordStore`], and the store is tested against a real S3 server.

use std::fmt;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::provider_config::ProviderConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{
    Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
    SharedCredentialsProvider,
};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::BucketVersioningStatus;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use jiff::Timestamp;

use crate::error::{Error, Result, S3Cause};
use crate::protocol::Connection;

/// A bucket and an object key: where one history of records lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    /// The bucket.
    pub bucket: String,
    /// The object key.
    pub key: String,
}

impl Location {
    /// The object `key` in `bucket`.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Location {
            bucket: bucket.into(),
            key: key.into(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// One object version of exactly the listed key (never a delete marker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedVersion {
    /// The S3 VersionId; `"null"` for an object written before versioning was enabled.
    pub version_id: String,
    /// Whether S3 marks it as the key's current version.
    pub is_latest: bool,
    /// When it was written.
    pub last_modified: Option<Timestamp>,
    /// Its ETag, for a conditional write over it when it is the current version.
    pub etag: Option<String>,
}

/// The S3 version id of objects written while versioning was off.
pub const NULL_VERSION_ID: &str = "null";

/// One page of a key's versions, in the store's list order.
#[derive(Debug, Clone, Default)]
pub struct VersionPage {
    /// The versions of the key on this page, delete markers and other keys left out.
    pub versions: Vec<ListedVersion>,
    /// Whether this page holds the key's current entry and it is a delete marker.
    pub delete_marker_is_latest: bool,
    /// Where the next page starts, while the key may have more versions.
    pub next: Option<PageCursor>,
}

/// Where a listing goes on: the markers S3 returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageCursor {
    /// S3's NextKeyMarker.
    pub key_marker: String,
    /// S3's NextVersionIdMarker.
    pub version_id_marker: String,
}

/// An object version's body and what S3 says of it.
#[derive(Debug, Clone)]
pub struct StoredObject {
    /// Its S3 VersionId.
    pub version_id: String,
    /// Its ETag, for a conditional write over it.
    pub etag: Option<String>,
    /// When it was written.
    pub last_modified: Option<Timestamp>,
    /// The body.
    pub body: Vec<u8>,
}

/// The precondition of a write, so that two writers can never both take the same place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteCondition {
    /// The key must not exist (`If-None-Match: *`).
    Absent,
    /// The key's current version must have this ETag (`If-Match`).
    Matches(String),
}

/// What a conditional write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    /// Written, as this S3 VersionId.
    Written {
        /// The new version's id.
        version_id: String,
    },
    /// The condition no longer held: another writer came first. Nothing was written.
    ConditionFailed,
}

/// The S3 operations the steps use. `async fn` without `Send` bounds: the binaries run one
/// step on one thread.
#[allow(async_fn_in_trait)]
pub trait RecordStore {
    /// One page of at most `max_keys` entries of `at`'s versions (ListObjectVersions on the
    /// key as prefix), starting `after` a previous page.
    async fn list_versions(
        &self,
        at: &Location,
        max_keys: i32,
        after: Option<&PageCursor>,
    ) -> Result<VersionPage>;

    /// Exactly one version (GetObject with VersionId), or `None` when it does not exist.
    async fn get_version(&self, at: &Location, version_id: &str) -> Result<Option<StoredObject>>;

    /// The current version (GetObject), or `None` when the key has none.
    async fn get_latest(&self, at: &Location) -> Result<Option<StoredObject>>;

    /// Writes a new version if `condition` holds (PutObject with If-None-Match or If-Match).
    async fn put(
        &self,
        at: &Location,
        body: Vec<u8>,
        condition: &WriteCondition,
    ) -> Result<PutOutcome>;

    /// Whether the bucket keeps versions (GetBucketVersioning).
    async fn versioning_enabled(&self, bucket: &str) -> Result<bool>;
}

/// How long to wait for a connection, for one attempt, and for a whole operation with its
/// retries: an unreachable endpoint fails in bounded time.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(90);
const MAX_ATTEMPTS: u32 = 3;

/// The store over a real S3 (or S3-compatible) endpoint.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
}

impl S3Store {
    /// A client for `connection`. With static credentials nothing is probed; without them the
    /// default AWS chain is used, and `role_arn` is assumed over either.
    pub async fn connect(connection: &Connection) -> Self {
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let region = Region::new(connection.region.clone());
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .operation_timeout(OPERATION_TIMEOUT)
            .build();
        let retries = RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS);

        let base_credentials = match &connection.credentials {
            Some(keys) => SharedCredentialsProvider::new(Credentials::new(
                &keys.access_key_id,
                keys.secret_access_key.expose(),
                keys.session_token
                    .as_ref()
                    .map(|token| token.expose().to_owned()),
                None,
                "catapult-source",
            )),
            None => SharedCredentialsProvider::new(
                DefaultCredentialsChain::builder()
                    .region(region.clone())
                    .configure(
                        ProviderConfig::default()
                            .with_http_client(http_client.clone())
                            .with_region(Some(region.clone())),
                    )
                    .build()
                    .await,
            ),
        };
        let credentials = match &connection.role_arn {
            Some(role_arn) => {
                let sts_config = aws_config::defaults(BehaviorVersion::latest())
                    .region(region.clone())
                    .http_client(http_client.clone())
                    .timeout_config(timeouts.clone())
                    .retry_config(retries.clone())
                    .credentials_provider(base_credentials)
                    .load()
                    .await;
                SharedCredentialsProvider::new(
                    AssumeRoleProvider::builder(role_arn)
                        .session_name("catapult")
                        .configure(&sts_config)
                        .build()
                        .await,
                )
            }
            None => base_credentials,
        };

        let mut config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(region)
            .http_client(http_client)
            .credentials_provider(credentials)
            .timeout_config(timeouts)
            .retry_config(retries)
            .force_path_style(connection.path_style)
            // S3-compatible stores do not all take the newer default checksums.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if let Some(endpoint) = &connection.endpoint {
            config = config.endpoint_url(endpoint);
        }
        S3Store {
            client: Client::from_conf(config.build()),
        }
    }
}

fn timestamp(time: Option<&aws_smithy_types::DateTime>) -> Option<Timestamp> {
    time.and_then(|time| Timestamp::new(time.secs(), time.subsec_nanos() as i32).ok())
}

/// The failure of `operation` on `at`, with what S3 said: its code and message when it
/// answered, the whole chain of causes when it could not be reached.
fn s3_error<E>(operation: &'static str, at: &Location, err: SdkError<E>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = err.message().filter(|message| !message.trim().is_empty());
    let cause = match (&err, err.code(), message) {
        (SdkError::ServiceError(_), Some(code), Some(message)) => format!("{code}: {message}"),
        (SdkError::ServiceError(service), Some(code), None) => {
            format!("{code} (HTTP {})", service.raw().status().as_u16())
        }
        (SdkError::ServiceError(service), None, _) => {
            format!("HTTP {}", service.raw().status().as_u16())
        }
        _ => error_chain(&err),
    };
    Error::S3 {
        operation,
        location: at.clone(),
        source: S3Cause(cause),
    }
}

/// An error and its causes in one line, `outer: inner: innermost`, each said once.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(current) = next {
        let text = current.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        next = current.source();
    }
    parts.join(": ")
}

fn http_status<E>(err: &SdkError<E>) -> Option<u16> {
    err.raw_response()
        .map(|response| response.status().as_u16())
}

/// Whether a GetObject failure means "no such object or version".
fn is_not_found<E: ProvideErrorMetadata>(err: &SdkError<E>) -> bool {
    matches!(
        err.code(),
        Some("NoSuchKey" | "NoSuchVersion" | "InvalidArgument")
    ) || http_status(err) == Some(404)
}

impl RecordStore for S3Store {
    async fn list_versions(
        &self,
        at: &Location,
        max_keys: i32,
        after: Option<&PageCursor>,
    ) -> Result<VersionPage> {
        tracing::debug!(
            bucket = at.bucket,
            key = at.key,
            max_keys,
            "S3 ListObjectVersions"
        );
        let mut request = self
            .client
            .list_object_versions()
            .bucket(&at.bucket)
            .prefix(&at.key)
            .max_keys(max_keys);
        if let Some(cursor) = after {
            request = request
                .key_marker(&cursor.key_marker)
                .version_id_marker(&cursor.version_id_marker);
        }
        let output = request
            .send()
            .await
            .map_err(|err| s3_error("ListObjectVersions", at, err))?;

        let versions = output
            .versions()
            .iter()
            .filter(|version| version.key() == Some(at.key.as_str()))
            .map(|version| ListedVersion {
                version_id: version.version_id().unwrap_or(NULL_VERSION_ID).to_owned(),
                is_latest: version.is_latest().unwrap_or(false),
                last_modified: timestamp(version.last_modified()),
                etag: version.e_tag().map(str::to_owned),
            })
            .collect();
        let delete_marker_is_latest = output.delete_markers().iter().any(|marker| {
            marker.key() == Some(at.key.as_str()) && marker.is_latest() == Some(true)
        });
        // Keys sort after their own prefix, so once the listing has moved past `at.key`, the
        // key has no more versions and the rest are other keys'.
        let next = match (
            output.is_truncated(),
            output.next_key_marker(),
            output.next_version_id_marker(),
        ) {
            (Some(true), Some(key_marker), Some(version_id_marker)) if key_marker == at.key => {
                Some(PageCursor {
                    key_marker: key_marker.to_owned(),
                    version_id_marker: version_id_marker.to_owned(),
                })
            }
            _ => None,
        };
        Ok(VersionPage {
            versions,
            delete_marker_is_latest,
            next,
        })
    }

    async fn get_version(&self, at: &Location, version_id: &str) -> Result<Option<StoredObject>> {
        tracing::debug!(bucket = at.bucket, key = at.key, version_id, "S3 GetObject");
        self.get_object(at, Some(version_id)).await
    }

    async fn get_latest(&self, at: &Location) -> Result<Option<StoredObject>> {
        tracing::debug!(bucket = at.bucket, key = at.key, "S3 GetObject (latest)");
        self.get_object(at, None).await
    }

    async fn put(
        &self,
        at: &Location,
        body: Vec<u8>,
        condition: &WriteCondition,
    ) -> Result<PutOutcome> {
        tracing::debug!(bucket = at.bucket, key = at.key, ?condition, "S3 PutObject");
        let request = self
            .client
            .put_object()
            .bucket(&at.bucket)
            .key(&at.key)
            .content_type("application/json")
            .body(ByteStream::from(body));
        let request = match condition {
            WriteCondition::Absent => request.if_none_match("*"),
            WriteCondition::Matches(etag) => request.if_match(etag),
        };
        match request.send().await {
            Ok(output) => match output.version_id() {
                Some(version_id) if version_id != NULL_VERSION_ID => Ok(PutOutcome::Written {
                    version_id: version_id.to_owned(),
                }),
                _ => Err(Error::BucketNotVersioned {
                    bucket: at.bucket.clone(),
                }),
            },
            // 412: the condition failed; 409: a concurrent conditional write is in flight.
            Err(err) if matches!(http_status(&err), Some(412 | 409)) => {
                Ok(PutOutcome::ConditionFailed)
            }
            Err(err) => Err(s3_error("PutObject", at, err)),
        }
    }

    async fn versioning_enabled(&self, bucket: &str) -> Result<bool> {
        tracing::debug!(bucket, "S3 GetBucketVersioning");
        let output = self
            .client
            .get_bucket_versioning()
            .bucket(bucket)
            .send()
            .await
            .map_err(|err| s3_error("GetBucketVersioning", &Location::new(bucket, ""), err))?;
        Ok(output.status() == Some(&BucketVersioningStatus::Enabled))
    }
}

impl S3Store {
    async fn get_object(
        &self,
        at: &Location,
        version_id: Option<&str>,
    ) -> Result<Option<StoredObject>> {
        let output = match self
            .client
            .get_object()
            .bucket(&at.bucket)
            .key(&at.key)
            .set_version_id(version_id.map(str::to_owned))
            .send()
            .await
        {
            Ok(output) => output,
            Err(err) if is_not_found(&err) => return Ok(None),
            Err(err) => return Err(s3_error("GetObject", at, err)),
        };
        let found_version_id = output
            .version_id()
            .or(version_id)
            .unwrap_or(NULL_VERSION_ID)
            .to_owned();
        let etag = output.e_tag().map(str::to_owned);
        let last_modified = timestamp(output.last_modified());
        let body = output
            .body
            .collect()
            .await
            .map_err(|err| Error::S3 {
                operation: "GetObject",
                location: at.clone(),
                source: S3Cause(format!("reading the body: {err}")),
            })?
            .into_bytes()
            .to_vec();
        Ok(Some(StoredObject {
            version_id: found_version_id,
            etag,
            last_modified,
            body,
        }))
    }
}
