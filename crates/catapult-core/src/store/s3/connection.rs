//! How to reach a store, and the one place that builds a client for it: the region, the
//! endpoint and its addressing, credentials (static, the default AWS chain with a profile, an
//! assumed role, an MFA session), a private CA, and the timeouts that bound every request.
//! Credentials are held as [`Secret`]s, whose `Debug` shows nothing.

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
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use jiff::Timestamp;

use super::{S3Store, StoreClock, error_chain};
use crate::store::location::check_text;

pub use crate::secret::Secret;

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

/// How long to wait for a connection, for one attempt, and for one operation with its retries.
/// With the deadline of a whole step (the operations' own), a store that accepts connections and
/// never answers fails a step in bounded time.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(25);
const MAX_ATTEMPTS: u32 = 3;

/// The region when nothing names one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Checks a region: S3 regions are lowercase letters, digits and dashes.
pub fn check_region(field: &str, region: &str) -> Result<(), String> {
    check_text(field, region, 64)?;
    if !region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(format!(
            "{field} {region:?} is not a region (lowercase letters, digits and dashes, like eu-west-1)"
        ));
    }
    Ok(())
}

/// Checks an endpoint URL.
pub fn check_endpoint(field: &str, endpoint: &str) -> Result<(), String> {
    check_text(field, endpoint, 2048)?;
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        || endpoint.contains(char::is_whitespace)
    {
        return Err(format!(
            "{field} {endpoint:?} is not a URL: it must start with https:// or http://"
        ));
    }
    Ok(())
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

        // STS over the same credentials, for who they are (GetCallerIdentity): one attempt, as
        // an S3-compatible store may not answer it at all.
        let mut sts = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(region.clone())
            .http_client(http_client.clone())
            .credentials_provider(credentials.clone())
            .timeout_config(timeouts.clone())
            .retry_config(RetryConfig::standard().with_max_attempts(1));
        if let Some(endpoint) = &connection.endpoint {
            sts = sts.endpoint_url(endpoint);
        }
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
        let clock = StoreClock::default();
        config = config.interceptor(clock.clone());
        Ok(S3Store {
            client: Client::from_conf(config.build()),
            sts: aws_sdk_sts::Client::from_conf(sts.build()),
            name: store_name(connection),
            custom_endpoint: connection.endpoint.is_some(),
            clock,
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
