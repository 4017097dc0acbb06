//! The registry's own HTTP API (the OCI distribution spec), spoken with the HTTP stack the S3
//! client already has (aws-smithy-http-client's hyper and rustls, with the same trust store):
//! a manifest `HEAD` on the tag, whose `Docker-Content-Digest` is the image's digest, answering a
//! 401's Basic or Bearer challenge once with what Docker's configuration holds. Every request is
//! bounded in time, and the whole lookup too.

use std::time::Duration;

use aws_smithy_http_client::Connector;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::{HttpConnector, HttpConnectorSettings};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::challenge::{Challenge, parse_challenges};
use super::docker_config::{DockerConfig, FoundCredentials, RegistryCredentials};
use super::error::RegistryError;
use super::reference::ImageReference;

/// The manifest types asked for, each named: a registry answers 404 to a tag whose manifest is
/// of a type the request does not accept (the distribution registry does, for OCI ones). An
/// index (a multi-platform image) is asked for as is, so its own digest is the answer, as
/// `docker pull` reports it.
pub const MANIFEST_TYPES: &str = "application/vnd.oci.image.manifest.v1+json, \
     application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.docker.distribution.manifest.list.v2+json";

/// How long to wait for a connection, and for each answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole lookup may take, challenge and token included.
pub const LOOKUP_DEADLINE: Duration = Duration::from_secs(30);
/// The most of a body read: a token, a manifest.
const MAX_BODY_BYTES: usize = 4 << 20;
/// How many redirects are followed.
const MAX_REDIRECTS: usize = 5;
/// The client's name in requests.
const USER_AGENT: &str = concat!("catapult/", env!("CARGO_PKG_VERSION"));

/// A client of registries.
#[derive(Debug)]
pub struct RegistryClient {
    connector: Connector,
}

/// What a request got back.
struct Answer {
    status: u16,
    response: HttpResponse,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.response.headers().get(name)
    }
}

/// A token endpoint's answer.
#[derive(Deserialize)]
struct TokenAnswer {
    token: Option<String>,
    access_token: Option<String>,
}

impl RegistryClient {
    /// A client that trusts the system's certificates and `ca_certs` (PEM).
    pub fn new(ca_certs: &[String]) -> Result<Self, RegistryError> {
        let mut trust_store = TrustStore::default();
        for (index, pem) in ca_certs.iter().enumerate() {
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                return Err(RegistryError::Tls(format!(
                    "ca_certs[{index}] is not a PEM certificate (-----BEGIN CERTIFICATE-----)"
                )));
            }
            trust_store = trust_store.with_pem_certificate(pem.as_bytes());
        }
        let tls_context = TlsContext::builder()
            .with_trust_store(trust_store)
            .build()
            .map_err(|err| RegistryError::Tls(err.to_string()))?;
        let connector = Connector::builder()
            .connector_settings(
                HttpConnectorSettings::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .read_timeout(READ_TIMEOUT)
                    .build(),
            )
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .tls_context(tls_context)
            .build();
        Ok(RegistryClient { connector })
    }

    /// The digest of the manifest `reference`'s tag names (`sha256:…`), asking for credentials
    /// in `docker` when the registry wants some; within [`LOOKUP_DEADLINE`].
    pub async fn manifest_digest(
        &self,
        reference: &ImageReference,
        docker: Option<&DockerConfig>,
    ) -> Result<String, RegistryError> {
        tokio::time::timeout(LOOKUP_DEADLINE, self.lookup(reference, docker))
            .await
            .unwrap_or_else(|_| {
                Err(RegistryError::NoAnswer {
                    reference: reference.to_string(),
                    seconds: LOOKUP_DEADLINE.as_secs(),
                })
            })
    }

    async fn lookup(
        &self,
        reference: &ImageReference,
        docker: Option<&DockerConfig>,
    ) -> Result<String, RegistryError> {
        let url = reference.manifest_url();
        let mut authorization: Option<String> = None;
        let mut credentials: Option<FoundCredentials> = None;
        let mut challenged = false;
        loop {
            let answer = self
                .send(reference, "HEAD", &url, authorization.as_deref(), None)
                .await?;
            match answer.status {
                200 => {
                    let digest = answer.header("docker-content-digest").map(str::trim);
                    return match digest {
                        Some(digest) if is_sha256_digest(digest) => Ok(digest.to_owned()),
                        _ => {
                            self.digest_of_body(reference, &url, authorization.as_deref())
                                .await
                        }
                    };
                }
                401 if !challenged => {
                    challenged = true;
                    let challenges = parse_challenges(
                        &answer
                            .response
                            .headers()
                            .get_all("www-authenticate")
                            .collect::<Vec<_>>()
                            .join(", "),
                    );
                    if let Some(docker) = docker {
                        credentials = docker.credentials_for(reference).await?;
                    }
                    authorization = Some(
                        self.answer_challenge(reference, &challenges, credentials.as_ref())
                            .await?,
                    );
                }
                401 | 403 => {
                    return Err(refused(reference, credentials.as_ref(), answer.status));
                }
                404 => {
                    return Err(RegistryError::NotFound {
                        reference: reference.to_string(),
                    });
                }
                status => {
                    return Err(RegistryError::Unexpected {
                        reference: reference.to_string(),
                        answer: format!("HTTP {status} to a manifest HEAD ({url})"),
                    });
                }
            }
        }
    }

    /// The digest of the manifest's own bytes, for a registry that does not say it: a GET, and
    /// SHA-256 over what it returns.
    async fn digest_of_body(
        &self,
        reference: &ImageReference,
        url: &str,
        authorization: Option<&str>,
    ) -> Result<String, RegistryError> {
        let answer = self
            .send(reference, "GET", url, authorization, None)
            .await?;
        if answer.status != 200 {
            return Err(RegistryError::Unexpected {
                reference: reference.to_string(),
                answer: format!(
                    "HTTP {} to a manifest GET, after a HEAD without a sha256 Docker-Content-Digest",
                    answer.status
                ),
            });
        }
        let body = read_body(reference, url, answer.response).await?;
        Ok(format!("sha256:{}", hex(&Sha256::digest(&body))))
    }

    /// The `Authorization` header that answers `challenges` with `credentials`: Bearer (a token
    /// from the realm) when the registry offers it, else Basic.
    async fn answer_challenge(
        &self,
        reference: &ImageReference,
        challenges: &[Challenge],
        credentials: Option<&FoundCredentials>,
    ) -> Result<String, RegistryError> {
        let bearer = challenges.iter().find_map(|challenge| match challenge {
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => Some((realm, service, scope)),
            _ => None,
        });
        if let Some((realm, service, scope)) = bearer {
            let scope = scope
                .clone()
                .unwrap_or_else(|| format!("repository:{}:pull", reference.repository()));
            let token = self
                .token(reference, realm, service.as_deref(), &scope, credentials)
                .await?;
            return Ok(format!("Bearer {token}"));
        }
        if challenges.contains(&Challenge::Basic) {
            return match credentials.map(|found| &found.credentials) {
                Some(RegistryCredentials::Basic { username, password }) => {
                    Ok(basic_header(username, password.expose()))
                }
                Some(RegistryCredentials::IdentityToken(_)) | None => {
                    Err(RegistryError::NoCredentials {
                        reference: reference.to_string(),
                        registry: reference.registry().to_owned(),
                    })
                }
            };
        }
        let offered: Vec<String> = challenges
            .iter()
            .map(|challenge| match challenge {
                Challenge::Other(scheme) => scheme.clone(),
                Challenge::Basic => "Basic".into(),
                Challenge::Bearer { .. } => "Bearer".into(),
            })
            .collect();
        Err(RegistryError::Unexpected {
            reference: reference.to_string(),
            answer: format!(
                "401 Unauthorized with no challenge catapult can answer (WWW-Authenticate: {})",
                if offered.is_empty() {
                    "none".to_owned()
                } else {
                    offered.join(", ")
                }
            ),
        })
    }

    /// A token from `realm` for `service` and `scope`: asked for with Basic credentials (or
    /// anonymously), or exchanged for an identity token (OAuth2's refresh-token grant).
    async fn token(
        &self,
        reference: &ImageReference,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        credentials: Option<&FoundCredentials>,
    ) -> Result<String, RegistryError> {
        let failed = |reason: String| RegistryError::Token {
            reference: reference.to_string(),
            realm: realm.to_owned(),
            reason,
        };
        if !(realm.starts_with("https://") || realm.starts_with("http://")) {
            return Err(failed("the realm is not an http(s) URL".into()));
        }
        let mut query = vec![("scope", scope)];
        if let Some(service) = service {
            query.insert(0, ("service", service));
        }
        let answer = match credentials.map(|found| &found.credentials) {
            Some(RegistryCredentials::IdentityToken(token)) => {
                let mut form = vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token.expose()),
                    ("client_id", "catapult"),
                ];
                form.extend(query.iter().copied());
                self.send(
                    reference,
                    "POST",
                    realm,
                    None,
                    Some(("application/x-www-form-urlencoded", encode_form(&form))),
                )
                .await?
            }
            basic => {
                let separator = if realm.contains('?') { '&' } else { '?' };
                let url = format!("{realm}{separator}{}", encode_form(&query));
                let authorization = match basic {
                    Some(RegistryCredentials::Basic { username, password }) => {
                        Some(basic_header(username, password.expose()))
                    }
                    _ => None,
                };
                self.send(reference, "GET", &url, authorization.as_deref(), None)
                    .await?
            }
        };
        match answer.status {
            200 => {}
            401 | 403 => return Err(refused(reference, credentials, answer.status)),
            status => return Err(failed(format!("HTTP {status}"))),
        }
        let body = read_body(reference, realm, answer.response).await?;
        let token: TokenAnswer = serde_json::from_slice(&body)
            .map_err(|_| failed("its answer is not a token's JSON".into()))?;
        token
            .token
            .or(token.access_token)
            .filter(|token| !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| failed("its answer holds no usable token".into()))
    }

    /// Sends one request, following redirects (and dropping `authorization` when one leaves the
    /// host).
    async fn send(
        &self,
        reference: &ImageReference,
        method: &str,
        url: &str,
        authorization: Option<&str>,
        body: Option<(&str, String)>,
    ) -> Result<Answer, RegistryError> {
        let mut url = url.to_owned();
        let mut authorization = authorization.map(str::to_owned);
        for _ in 0..=MAX_REDIRECTS {
            let request = build_request(method, &url, authorization.as_deref(), body.as_ref())
                .map_err(|cause| RegistryError::Unreachable {
                    reference: reference.to_string(),
                    url: url.clone(),
                    cause,
                })?;
            let response =
                self.connector
                    .call(request)
                    .await
                    .map_err(|err| RegistryError::Unreachable {
                        reference: reference.to_string(),
                        url: url.clone(),
                        cause: connector_cause(&err),
                    })?;
            let status = response.status().as_u16();
            let location = response.headers().get("location").map(str::to_owned);
            match (status, location) {
                (301 | 302 | 303 | 307 | 308, Some(location)) if method != "POST" => {
                    let next = resolve_location(&url, &location).ok_or_else(|| {
                        RegistryError::Unexpected {
                            reference: reference.to_string(),
                            answer: format!("a redirect to {location:?}, which is not a URL"),
                        }
                    })?;
                    if origin(&next) != origin(&url) {
                        authorization = None;
                    }
                    url = next;
                }
                _ => return Ok(Answer { status, response }),
            }
        }
        Err(RegistryError::Unexpected {
            reference: reference.to_string(),
            answer: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }
}

/// One request, its headers set.
fn build_request(
    method: &str,
    url: &str,
    authorization: Option<&str>,
    body: Option<&(&str, String)>,
) -> Result<HttpRequest, String> {
    let mut request = HttpRequest::new(match body {
        Some((_, text)) => SdkBody::from(text.clone()),
        None => SdkBody::empty(),
    });
    request
        .set_method(method)
        .map_err(|err| format!("method {method}: {err}"))?;
    request
        .set_uri(url)
        .map_err(|err| format!("not a URL: {err}"))?;
    let headers = request.headers_mut();
    headers.insert("accept", MANIFEST_TYPES);
    headers.insert("user-agent", USER_AGENT);
    if let Some((content_type, text)) = body {
        headers.insert("content-type", content_type.to_string());
        headers.insert("content-length", text.len().to_string());
    }
    if let Some(authorization) = authorization {
        headers
            .try_insert("authorization", authorization.to_owned())
            .map_err(|_| "a credential holds characters a header cannot".to_owned())?;
    }
    Ok(request)
}

/// A body, read whole up to [`MAX_BODY_BYTES`].
async fn read_body(
    reference: &ImageReference,
    url: &str,
    response: HttpResponse,
) -> Result<Vec<u8>, RegistryError> {
    let mut stream = ByteStream::new(response.into_body());
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| RegistryError::Unreachable {
            reference: reference.to_string(),
            url: url.to_owned(),
            cause: format!("the answer was cut short: {err}"),
        })?;
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BODY_BYTES {
            return Err(RegistryError::Unexpected {
                reference: reference.to_string(),
                answer: format!("more than {MAX_BODY_BYTES} bytes to {url}"),
            });
        }
    }
    Ok(body)
}

/// Why a request got no answer, in a phrase.
fn connector_cause(err: &aws_smithy_runtime_api::client::result::ConnectorError) -> String {
    if err.is_timeout() {
        return format!(
            "no answer within {} s (is the registry up?)",
            READ_TIMEOUT.as_secs()
        );
    }
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = next {
        let text = current.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        next = current.source();
    }
    let mut cause = parts.join(": ");
    if cause.contains("certificate") || cause.contains("tls") || cause.contains("TLS") {
        cause.push_str(
            " (a registry behind a private CA? trust its certificate with ca_certs; a plain-HTTP registry? write it with http://)",
        );
    }
    cause
}

/// The 401 or 403 of a registry (or its token endpoint) that had `credentials`, or none.
fn refused(
    reference: &ImageReference,
    credentials: Option<&FoundCredentials>,
    status: u16,
) -> RegistryError {
    match credentials {
        None if status == 401 => RegistryError::NoCredentials {
            reference: reference.to_string(),
            registry: reference.registry().to_owned(),
        },
        _ => RegistryError::Refused {
            reference: reference.to_string(),
            registry: reference.registry().to_owned(),
            how: match credentials {
                Some(found) => format!("with the credentials from {}", found.from),
                None => "without credentials".to_owned(),
            },
            status: match status {
                401 => "401 Unauthorized".to_owned(),
                403 => "403 Forbidden".to_owned(),
                other => format!("HTTP {other}"),
            },
        },
    }
}

/// `Basic base64(user:password)`.
fn basic_header(username: &str, password: &str) -> String {
    format!(
        "Basic {}",
        aws_smithy_types::base64::encode(format!("{username}:{password}"))
    )
}

/// Whether `text` is `sha256:` and 64 lowercase hex digits.
fn is_sha256_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// `application/x-www-form-urlencoded`, which is also how a query is written.
fn encode_form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// `scheme://host[:port]` of an absolute URL.
fn origin(url: &str) -> Option<&str> {
    let after_scheme = url.find("://")? + 3;
    let end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |index| after_scheme + index);
    Some(&url[..end])
}

/// Where a `Location` header sends a request to `base`: an absolute URL, or a path on the same
/// origin.
fn resolve_location(base: &str, location: &str) -> Option<String> {
    if location.starts_with("https://") || location.starts_with("http://") {
        return Some(location.to_owned());
    }
    if location.starts_with("//") {
        let scheme = &base[..base.find("://")?];
        return Some(format!("{scheme}:{location}"));
    }
    if location.starts_with('/') {
        return Some(format!("{}{location}", origin(base)?));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_for_every_manifest_type_by_name() {
        for media_type in [
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
        ] {
            assert!(MANIFEST_TYPES.contains(media_type), "{media_type}");
        }
        assert!(!MANIFEST_TYPES.contains('*'));
    }

    #[test]
    fn builds_token_queries_and_basic_headers() {
        assert_eq!(
            encode_form(&[
                ("service", "registry.docker.io"),
                ("scope", "repository:acme/app:pull")
            ]),
            "service=registry.docker.io&scope=repository%3Aacme%2Fapp%3Apull"
        );
        assert_eq!(basic_header("u", "p"), "Basic dTpw");
    }

    #[test]
    fn follows_redirects_on_the_same_origin_or_elsewhere() {
        let base = "https://r.example.com:5000/v2/app/manifests/t";
        assert_eq!(origin(base), Some("https://r.example.com:5000"));
        assert_eq!(
            resolve_location(base, "/v2/app/manifests/sha256:x").as_deref(),
            Some("https://r.example.com:5000/v2/app/manifests/sha256:x")
        );
        assert_eq!(
            resolve_location(base, "https://cdn.example.com/m").as_deref(),
            Some("https://cdn.example.com/m")
        );
        assert_eq!(
            resolve_location(base, "//cdn.example.com/m").as_deref(),
            Some("https://cdn.example.com/m")
        );
        assert_eq!(resolve_location(base, "relative"), None);
    }

    #[test]
    fn a_digest_is_sha256_and_64_hex_digits() {
        assert!(is_sha256_digest(&format!("sha256:{}", "a".repeat(64))));
        assert!(!is_sha256_digest(&format!("sha512:{}", "a".repeat(128))));
        assert!(!is_sha256_digest(&format!("sha256:{}", "A".repeat(64))));
        assert_eq!(
            format!("sha256:{}", hex(&Sha256::digest(b""))),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn a_refusal_says_whether_credentials_were_given() {
        let reference = ImageReference::parse("r.example.com/app:t").unwrap();
        assert!(matches!(
            refused(&reference, None, 401),
            RegistryError::NoCredentials { .. }
        ));
        let found = FoundCredentials {
            credentials: RegistryCredentials::Basic {
                username: "u".into(),
                password: super::super::docker_config::Secret::new("s3cret"),
            },
            from: "auths[\"r.example.com\"] in config.json".into(),
        };
        let message = refused(&reference, Some(&found), 401).to_string();
        assert!(
            message.contains("auths[\"r.example.com\"]") && message.contains("401"),
            "{message}"
        );
        assert!(!message.contains("s3cret"), "{message}");
        let message = refused(&reference, None, 403).to_string();
        assert!(
            message.contains("without credentials") && message.contains("403"),
            "{message}"
        );
    }
}
