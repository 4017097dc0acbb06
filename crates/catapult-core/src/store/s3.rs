//! The record store over a real S3 or S3-compatible endpoint, through the AWS SDK: the only
//! module that touches `aws_*` (STS included, for a session opened with an MFA code). Every
//! failure is mapped once, here, into a typed [`StoreErrorKind`], so that the record log acts on
//! what a store meant (no such bucket, a precondition that failed, a write whose outcome is
//! unknown) and never on HTTP details.

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
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use jiff::Timestamp;

use super::{
    ListedKey, ListedVersion, Location, MAX_RECORD_BYTES, NULL_VERSION_ID, Operation, PageCursor,
    RecordStore, StoreError, StoreErrorKind, StoredObject, VersionPage, Versioning, WriteCondition,
};

/// How to reach a store: what `source` (or the command line's configuration) says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The region to sign for.
    pub region: String,
    /// A custom endpoint, or `None` for AWS.
    pub endpoint: Option<String>,
    /// Whether to address buckets in the path.
    pub path_style: bool,
    /// Static credentials, or `None` for the default chain.
    pub credentials: Option<StaticCredentials>,
    /// A role to assume.
    pub role_arn: Option<String>,
    /// PEM certificates to trust besides the system's.
    pub ca_certs: Vec<String>,
    /// A named profile of the shared AWS configuration, for the default chain.
    pub profile: Option<String>,
}

/// Credentials given explicitly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticCredentials {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Secret,
    /// The session token of temporary credentials.
    pub session_token: Option<Secret>,
}

/// A credential. Its `Debug` never shows it, so no log can.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    /// The secret itself, for the one place that hands it to the SDK.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How long to wait for a connection, for one attempt, and for one operation with its retries.
/// With the deadline of a whole step ([`STEP_DEADLINE`]), a store that accepts connections and
/// never answers fails a step in bounded time.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(25);
const MAX_ATTEMPTS: u32 = 3;

/// The longest a whole step may take, every request included.
pub const STEP_DEADLINE: Duration = Duration::from_secs(55);

/// The user metadata a write id is stored in (`x-amz-meta-catapult-write-id`).
const WRITE_ID_METADATA: &str = "catapult-write-id";

/// The store over a real S3 (or S3-compatible) endpoint.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    name: String,
    custom_endpoint: bool,
}

/// A `Connection` that cannot be used: a certificate that is not PEM.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConnectError(String);

impl S3Store {
    /// A client for `connection`. With static credentials nothing is probed; without them the
    /// default AWS chain is used (with `profile`), and `role_arn` is assumed over either.
    pub async fn connect(connection: &Connection) -> Result<Self, ConnectError> {
        let mut trust_store = TrustStore::default();
        for (index, pem) in connection.ca_certs.iter().enumerate() {
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                return Err(ConnectError(format!(
                    "ca_certs[{index}] is not a PEM certificate (-----BEGIN CERTIFICATE-----)"
                )));
            }
            trust_store = trust_store.with_pem_certificate(pem.as_bytes());
        }
        let tls_context = TlsContext::builder()
            .with_trust_store(trust_store)
            .build()
            .map_err(|err| ConnectError(format!("cannot set up TLS: {err}")))?;
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .tls_context(tls_context)
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
            None => {
                let mut chain = DefaultCredentialsChain::builder()
                    .region(region.clone())
                    .configure(
                        ProviderConfig::default()
                            .with_http_client(http_client.clone())
                            .with_region(Some(region.clone())),
                    );
                if let Some(profile) = &connection.profile {
                    chain = chain.profile_name(profile);
                }
                SharedCredentialsProvider::new(chain.build().await)
            }
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
        Ok(S3Store {
            client: Client::from_conf(config.build()),
            name: store_name(connection),
            custom_endpoint: connection.endpoint.is_some(),
        })
    }
}

/// Temporary credentials of a session opened with an MFA code, and when they expire.
#[derive(Debug, Clone)]
pub struct MfaSession {
    /// The session's credentials.
    pub credentials: StaticCredentials,
    /// When they stop working.
    pub expires: Timestamp,
}

/// Opens a session with STS GetSessionToken for the MFA device `device` (its ARN or serial) and
/// the code it shows, over the default credential chain of `connection` (its profile and
/// region), for `duration_seconds`.
pub async fn mfa_session(
    connection: &Connection,
    device: &str,
    code: &str,
    duration_seconds: i32,
) -> Result<MfaSession, ConnectError> {
    let region = Region::new(connection.region.clone());
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(region)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        );
    if let Some(profile) = &connection.profile {
        loader = loader.profile_name(profile);
    }
    let config = loader.load().await;
    let output = aws_sdk_sts::Client::new(&config)
        .get_session_token()
        .serial_number(device)
        .token_code(code)
        .duration_seconds(duration_seconds)
        .send()
        .await
        .map_err(|err| {
            let reason = match (err.code(), err.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                _ => error_chain(&err),
            };
            ConnectError(format!(
                "STS GetSessionToken with MFA device {device:?} failed: {reason}"
            ))
        })?;
    let issued = output
        .credentials()
        .ok_or_else(|| ConnectError("STS GetSessionToken returned no credentials".into()))?;
    let expires = Timestamp::new(
        issued.expiration().secs(),
        issued.expiration().subsec_nanos() as i32,
    )
    .map_err(|err| ConnectError(format!("STS returned an expiry out of range: {err}")))?;
    Ok(MfaSession {
        credentials: StaticCredentials {
            access_key_id: issued.access_key_id().to_owned(),
            secret_access_key: Secret::new(issued.secret_access_key()),
            session_token: Some(Secret::new(issued.session_token())),
        },
        expires,
    })
}

/// The region the shared AWS configuration gives `profile` (or the default profile), if any:
/// where a person's tools find it when nothing else names one.
pub async fn profile_region(profile: Option<&str>) -> Option<String> {
    use aws_config::meta::region::ProvideRegion;
    let mut provider = aws_config::profile::ProfileFileRegionProvider::builder();
    if let Some(profile) = profile {
        provider = provider.profile_name(profile);
    }
    provider
        .build()
        .region()
        .await
        .map(|region| region.to_string())
}

/// How errors name a store: its endpoint, or AWS S3 and the region.
pub fn store_name(connection: &Connection) -> String {
    match &connection.endpoint {
        Some(endpoint) => format!("the S3 store at {endpoint}"),
        None => format!("AWS S3 in {}", connection.region),
    }
}

fn timestamp(time: Option<&aws_smithy_types::DateTime>) -> Option<Timestamp> {
    time.and_then(|time| Timestamp::new(time.secs(), time.subsec_nanos() as i32).ok())
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

/// What a failed request means, from the SDK's error: the one place HTTP statuses and S3 error
/// codes are read.
fn error_kind<E>(err: &SdkError<E>) -> StoreErrorKind
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = err
        .raw_response()
        .map(|response| response.status().as_u16());
    let code = err.code();
    let message = err
        .message()
        .filter(|message| !message.trim().is_empty())
        .map(str::to_owned);
    match (code, status) {
        (Some("NoSuchBucket"), _) => StoreErrorKind::NoSuchBucket,
        (Some("NoSuchKey" | "NoSuchVersion"), _) => StoreErrorKind::NoSuchVersion,
        (Some("PreconditionFailed" | "ConditionalRequestConflict"), _) | (_, Some(412 | 409)) => {
            StoreErrorKind::PreconditionFailed
        }
        (Some("NotImplemented"), _) | (_, Some(501)) => StoreErrorKind::NotImplemented,
        (Some("AccessDenied" | "AllAccessDisabled"), _) | (_, Some(403)) => {
            StoreErrorKind::AccessDenied
        }
        (_, Some(status)) if status >= 500 => StoreErrorKind::Unavailable(match (code, message) {
            (Some(code), Some(message)) => format!("{code}: {message} (HTTP {status})"),
            _ => format!("HTTP {status}"),
        }),
        (Some(code), _) => StoreErrorKind::Failed(match (message, status) {
            (Some(message), _) => format!("{code}: {message}"),
            (None, Some(status)) => format!("{code} (HTTP {status})"),
            (None, None) => code.to_owned(),
        }),
        (None, Some(status)) if matches!(err, SdkError::ServiceError(_)) => {
            StoreErrorKind::Failed(format!("HTTP {status}"))
        }
        // No answer, or one that could not be read: a timeout, a reset, a body cut short.
        _ => {
            let mut cause = error_chain(err);
            if cause.contains("invalid peer certificate") {
                cause.push_str(
                    " (a store behind a private CA? give its certificate in source.ca_certs)",
                );
            }
            StoreErrorKind::Unavailable(cause)
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

impl S3Store {
    fn error(&self, operation: Operation, at: &Location, kind: StoreErrorKind) -> StoreError {
        StoreError {
            operation,
            location: at.clone(),
            store: self.name.clone(),
            kind,
        }
    }

    fn sdk_error<E>(&self, operation: Operation, at: &Location, err: SdkError<E>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let mut kind = error_kind(&err);
        // Reading an object that is not there answers 404 without a code on some stores; a
        // bucket operation's 404 is the bucket's.
        if let (StoreErrorKind::Failed(_), Some(404)) = (
            &kind,
            err.raw_response()
                .map(|response| response.status().as_u16()),
        ) {
            kind = match operation {
                Operation::GetVersion | Operation::GetCurrent | Operation::DeleteVersion => {
                    StoreErrorKind::NoSuchVersion
                }
                _ => StoreErrorKind::NoSuchBucket,
            };
        }
        self.error(operation, at, kind)
    }
    /// One version of `at`, or its current version when `version_id` is `None`.
    async fn get_object(
        &self,
        at: &Location,
        version_id: Option<&str>,
    ) -> Result<StoredObject, StoreError> {
        tracing::debug!(bucket = at.bucket, key = at.key, version_id, "S3 GetObject");
        let operation = match version_id {
            Some(_) => Operation::GetVersion,
            None => Operation::GetCurrent,
        };
        let output = self
            .client
            .get_object()
            .bucket(&at.bucket)
            .key(&at.key)
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
        let last_modified = timestamp(output.last_modified());
        let write_id = output
            .metadata()
            .and_then(|metadata| metadata.get(WRITE_ID_METADATA))
            .cloned();
        let found_version_id = output
            .version_id()
            .or(version_id)
            .unwrap_or(NULL_VERSION_ID)
            .to_owned();
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
            body,
        })
    }
}

impl RecordStore for S3Store {
    fn name(&self) -> &str {
        &self.name
    }

    fn verifies_writes(&self) -> bool {
        self.custom_endpoint
    }

    async fn list_versions(
        &self,
        at: &Location,
        max_keys: i32,
        after: Option<&PageCursor>,
    ) -> Result<VersionPage, StoreError> {
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
            .map_err(|err| self.sdk_error(Operation::ListVersions, at, err))?;

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
        let next = match (output.next_key_marker(), output.next_version_id_marker()) {
            (Some(key_marker), Some(version_id_marker)) if !key_marker.is_empty() => {
                Some(PageCursor {
                    key_marker: key_marker.to_owned(),
                    version_id_marker: version_id_marker.to_owned(),
                })
            }
            _ => None,
        };
        // The last entry of the page, versions and delete markers alike, by list position:
        // S3 interleaves them by key then time, so the later of the two lists' last entries in
        // key order, then by time, is the page's last.
        let last_version = output.versions().last().map(|version| {
            (
                version.key().unwrap_or_default(),
                version.version_id().unwrap_or(NULL_VERSION_ID),
                version.last_modified(),
            )
        });
        let last_marker = output.delete_markers().last().map(|marker| {
            (
                marker.key().unwrap_or_default(),
                marker.version_id().unwrap_or(NULL_VERSION_ID),
                marker.last_modified(),
            )
        });
        let last_entry = match (last_version, last_marker) {
            (Some(version), Some(marker)) => {
                // Later in list order: a greater key, or the same key and an older time.
                let marker_later = marker.0 > version.0
                    || (marker.0 == version.0
                        && timestamp(marker.2).unwrap_or_default()
                            < timestamp(version.2).unwrap_or_default());
                Some(if marker_later { marker } else { version })
            }
            (one, other) => one.or(other),
        }
        .map(|(key, version_id, _)| PageCursor {
            key_marker: key.to_owned(),
            version_id_marker: version_id.to_owned(),
        });
        Ok(VersionPage {
            versions,
            delete_marker_is_latest,
            is_truncated: output.is_truncated().unwrap_or(false),
            next,
            last_entry,
        })
    }

    async fn get_version(
        &self,
        at: &Location,
        version_id: &str,
    ) -> Result<StoredObject, StoreError> {
        self.get_object(at, Some(version_id)).await
    }

    async fn get_current(&self, at: &Location) -> Result<StoredObject, StoreError> {
        self.get_object(at, None).await
    }

    async fn list_keys(&self, bucket: &str, prefix: &str) -> Result<Vec<ListedKey>, StoreError> {
        let at = Location::new(bucket, prefix);
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            tracing::debug!(bucket, prefix, "S3 ListObjectsV2");
            let output = self
                .client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|err| self.sdk_error(Operation::ListKeys, &at, err))?;
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
                        &at,
                        StoreErrorKind::Failed(
                            "the listing is truncated but gives no continuation token".into(),
                        ),
                    ));
                }
                _ => return Ok(keys),
            }
        }
    }

    async fn put(
        &self,
        at: &Location,
        body: Vec<u8>,
        condition: &WriteCondition,
        write_id: &str,
    ) -> Result<Option<String>, StoreError> {
        tracing::debug!(
            bucket = at.bucket,
            key = at.key,
            %condition,
            write_id,
            "S3 PutObject"
        );
        let request = self
            .client
            .put_object()
            .bucket(&at.bucket)
            .key(&at.key)
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

    async fn versioning(&self, bucket: &str) -> Result<Versioning, StoreError> {
        tracing::debug!(bucket, "S3 GetBucketVersioning");
        let at = Location::new(bucket, "");
        match self
            .client
            .get_bucket_versioning()
            .bucket(bucket)
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
                            bucket,
                            ?state,
                            "read GetBucketVersioning's nonstandard answer leniently"
                        );
                        Ok(state)
                    }
                    None => Err(self.sdk_error(Operation::GetVersioning, &at, err)),
                }
            }
        }
    }

    async fn delete_version(&self, at: &Location, version_id: &str) -> Result<(), StoreError> {
        tracing::debug!(
            bucket = at.bucket,
            key = at.key,
            version_id,
            "S3 DeleteObject"
        );
        self.client
            .delete_object()
            .bucket(&at.bucket)
            .key(&at.key)
            .version_id(version_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|err| self.sdk_error(Operation::DeleteVersion, at, err))
    }
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

    /// A store at an address where nothing listens, trying each request once.
    fn unreachable_store() -> S3Store {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:1")
            .force_path_style(true)
            .credentials_provider(Credentials::new("k", "s", None, None, "tests"))
            .retry_config(RetryConfig::disabled())
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        S3Store {
            client: Client::from_conf(config),
            name: "the S3 store at http://127.0.0.1:1".into(),
            custom_endpoint: true,
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Whatever names pass validation, building a request never panics (the SDK panics on
        /// a URI past its limit, or a header it cannot send): each call ends in a store error.
        #[test]
        fn any_accepted_name_makes_a_request_that_ends_in_an_error(
            bucket in "[a-z0-9.-]{1,63}",
            key in "\\PC{1,300}",
            version_id in "\\PC{1,300}",
            write_id in "[0-9a-f]{32}",
        ) {
            proptest::prop_assume!(crate::protocol::check_text("key", &key, 1024).is_ok());
            proptest::prop_assume!(crate::protocol::check_text("id", &version_id, 1024).is_ok());
            let store = unreachable_store();
            let at = Location::new(&bucket, &key);
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let cursor = PageCursor { key_marker: key.clone(), version_id_marker: version_id.clone() };
                assert!(store.list_versions(&at, 16, Some(&cursor)).await.is_err());
                assert!(store.get_version(&at, &version_id).await.is_err());
                let condition = WriteCondition::Matches(format!("\"{version_id}\""));
                assert!(store.put(&at, b"{}".to_vec(), &condition, &write_id).await.is_err());
                assert!(store.versioning(&bucket).await.is_err());
            });
        }
    }

    #[test]
    fn names_a_custom_store_by_its_endpoint() {
        let mut connection = Connection {
            region: "eu-west-1".into(),
            endpoint: None,
            path_style: false,
            credentials: None,
            role_arn: None,
            ca_certs: Vec::new(),
            profile: None,
        };
        assert_eq!(store_name(&connection), "AWS S3 in eu-west-1");
        connection.endpoint = Some("http://127.0.0.1:9000".into());
        assert_eq!(
            store_name(&connection),
            "the S3 store at http://127.0.0.1:9000"
        );
    }
}
