//! The record store over a real S3 or S3-compatible endpoint, through the AWS SDK: the only
//! module that touches `aws_*` (STS included, for a session opened with an MFA code). One file
//! per S3 operation; [`connection`] builds the client. Every failure is mapped once, here, into
//! a typed [`StoreErrorKind`], so that the record log acts on what a store meant (no such
//! bucket, a precondition that failed, a write whose outcome is unknown) and never on HTTP
//! details.

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use clock::StoreClock;
use jiff::Timestamp;

use super::{
    BucketName, ListedKey, Location, Operation, PageCursor, RecordStore, StoreError,
    StoreErrorKind, StoredObject, VersionPage, Versioning, WriteCondition,
};

mod clock;
pub mod connection;
mod delete_object;
mod get_bucket_versioning;
mod get_caller_identity;
mod get_object;
mod list_object_versions;
mod list_objects;
mod put_object;

pub use connection::{
    ConnectError, Connection, DEFAULT_REGION, MfaSession, Secret, StaticCredentials,
    check_endpoint, check_region, mfa_session, profile_region, store_name,
};

/// The user metadata a write id is stored in (`x-amz-meta-catapult-write-id`).
const WRITE_ID_METADATA: &str = "catapult-write-id";

/// The store over a real S3 (or S3-compatible) endpoint.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    sts: aws_sdk_sts::Client,
    name: String,
    custom_endpoint: bool,
    clock: StoreClock,
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
    if status.is_none() {
        if let Some(kind) = credentials_problem(err) {
            return kind;
        }
    }
    let code = err.code();
    let message = err
        .message()
        .filter(|message| !message.trim().is_empty())
        .map(str::to_owned);
    match (code, status) {
        (Some("NoSuchBucket"), _) => StoreErrorKind::NoSuchBucket,
        (Some("NoSuchKey" | "NoSuchVersion"), _) => StoreErrorKind::NoSuchVersion,
        (Some("ConditionalRequestConflict"), _) | (_, Some(409)) => StoreErrorKind::Conflict,
        (Some("PreconditionFailed"), _) | (_, Some(412)) => StoreErrorKind::PreconditionFailed,
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
        // An answer that came but could not be read (a garbled or truncated XML page), which
        // the SDK does not retry: reading it again may succeed.
        (None, _) if matches!(err, SdkError::ResponseError(_)) => StoreErrorKind::Transient(
            format!("the answer could not be read: {}", error_chain(err)),
        ),
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

/// When a request was never sent because its credentials could not be had, what the provider
/// chain said: none found anywhere (every provider not enabled, or the instance metadata
/// service, the chain's last resort, not there or refusing), or the configured ones broken (a
/// profile the SDK cannot use, a role it could not assume).
fn credentials_problem(err: &(dyn std::error::Error + 'static)) -> Option<StoreErrorKind> {
    use aws_config::imds::client::error::ImdsError;
    use aws_credential_types::provider::error::CredentialsError;
    let mut next = Some(err);
    while let Some(current) = next {
        if let Some(problem) = current.downcast_ref::<CredentialsError>() {
            let reason = error_chain(problem).replace(['\n', '\r'], " ");
            let mut inner = std::error::Error::source(problem);
            let mut from_imds = false;
            while let Some(cause) = inner {
                from_imds |= cause.is::<ImdsError>();
                inner = cause.source();
            }
            let found_none = matches!(problem, CredentialsError::CredentialsNotLoaded(_))
                || (matches!(problem, CredentialsError::ProviderError(_)) && from_imds);
            return Some(StoreErrorKind::Credentials { found_none, reason });
        }
        next = current.source();
    }
    None
}

/// What a request was about, for its error: an object, or a bucket (and a listing's prefix).
#[derive(Debug, Clone, Copy)]
enum Target<'a> {
    Object(&'a Location),
    Bucket(&'a BucketName, &'a str),
}

impl<'a> From<&'a Location> for Target<'a> {
    fn from(at: &'a Location) -> Self {
        Target::Object(at)
    }
}

impl S3Store {
    fn error<'a>(
        &self,
        operation: Operation,
        target: impl Into<Target<'a>>,
        kind: StoreErrorKind,
    ) -> StoreError {
        match target.into() {
            Target::Object(at) => StoreError::at(operation, at, &self.name, kind),
            Target::Bucket(bucket, prefix) => {
                StoreError::on_bucket(operation, bucket, prefix, &self.name, kind)
            }
        }
    }

    fn sdk_error<'a, E>(
        &self,
        operation: Operation,
        target: impl Into<Target<'a>>,
        err: SdkError<E>,
    ) -> StoreError
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
        self.error(operation, target, kind)
    }
}

impl RecordStore for S3Store {
    fn name(&self) -> &str {
        &self.name
    }

    fn verifies_writes(&self) -> bool {
        self.custom_endpoint
    }

    fn clock(&self) -> Option<Timestamp> {
        self.clock.now()
    }

    async fn caller_identity(&self) -> Option<String> {
        self.get_caller_identity().await
    }

    async fn list_versions(
        &self,
        at: &Location,
        max_keys: i32,
        after: Option<&PageCursor>,
    ) -> Result<VersionPage, StoreError> {
        self.list_object_versions(at, max_keys, after).await
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

    async fn list_keys(
        &self,
        bucket: &BucketName,
        prefix: &str,
    ) -> Result<Vec<ListedKey>, StoreError> {
        self.list_objects(bucket, prefix).await
    }

    async fn put(
        &self,
        at: &Location,
        body: Vec<u8>,
        condition: &WriteCondition,
        write_id: &str,
    ) -> Result<Option<String>, StoreError> {
        self.put_object(at, body, condition, write_id).await
    }

    async fn versioning(&self, bucket: &BucketName) -> Result<Versioning, StoreError> {
        self.get_bucket_versioning(bucket).await
    }

    async fn delete_version(&self, at: &Location, version_id: &str) -> Result<(), StoreError> {
        self.delete_object_version(at, version_id).await
    }
}

#[cfg(test)]
mod tests {
    use aws_config::BehaviorVersion;
    use aws_sdk_s3::config::{Credentials, Region};
    use aws_smithy_types::retry::RetryConfig;

    use super::*;

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
        let sts = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:1")
            .credentials_provider(Credentials::new("k", "s", None, None, "tests"))
            .retry_config(RetryConfig::disabled())
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        S3Store {
            client: Client::from_conf(config),
            sts: aws_sdk_sts::Client::from_conf(sts),
            name: "the S3 store at http://127.0.0.1:1".into(),
            custom_endpoint: true,
            clock: StoreClock::default(),
        }
    }

    #[tokio::test]
    async fn a_caller_identity_that_cannot_be_had_is_none_not_an_error() {
        assert_eq!(unreachable_store().caller_identity().await, None);
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
            proptest::prop_assume!(crate::store::location::check_text("key", &key, 1024).is_ok());
            proptest::prop_assume!(crate::store::location::check_text("id", &version_id, 1024).is_ok());
            let store = unreachable_store();
            let at = Location::parse(&bucket, &key).unwrap();
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let cursor = PageCursor { key_marker: key.clone(), version_id_marker: version_id.clone() };
                assert!(store.list_versions(&at, 16, Some(&cursor)).await.is_err());
                assert!(store.get_version(&at, &version_id).await.is_err());
                let condition = WriteCondition::Matches(format!("\"{version_id}\""));
                assert!(store.put(&at, b"{}".to_vec(), &condition, &write_id).await.is_err());
                assert!(store.versioning(&at.bucket).await.is_err());
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
