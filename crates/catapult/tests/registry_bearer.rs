//! The Bearer flow end to end: Debian's `docker-registry` with its token authentication (it
//! checks tokens, and leaves issuing them to a token server of one's own), and a token server
//! here that issues them as Docker's does: a JWT signed with ES256 by a key whose certificate the
//! registry trusts, for the scope asked, to a client that gives the right Basic credentials or
//! refresh token. `catapult release` must answer the registry's Bearer challenge with a token
//! from that realm, for that service and scope, with the credentials of Docker's `config.json`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use catapult_test::cli::{Bucket, RecordOut, Workspace, failure, success};
use catapult_test::registry::{push, unique_repository};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{SignatureScheme, sign::SigningKey};

const SERVICE: &str = "catapult-test-registry";
const ISSUER: &str = "catapult-test-token-server";
const USER: &str = "bearer-user";
const PASSWORD: &str = "bearer-pass-8c1d";
const REFRESH_TOKEN: &str = "refresh-6f2e-not-a-password";

/// Base64 of `bytes`, the standard alphabet with padding, or URL-safe without (JWS's).
fn base64(bytes: &[u8], url: bool) -> String {
    let alphabet: &[u8] = if url {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut text = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                text.push(alphabet[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else if !url {
                text.push('=');
            }
        }
    }
    text
}

/// An ECDSA signature in DER (`SEQUENCE { INTEGER r, INTEGER s }`) as JWS wants it: r and s,
/// 32 bytes each.
fn der_to_fixed(der: &[u8]) -> Vec<u8> {
    assert_eq!(der[0], 0x30, "a DER sequence");
    let mut at = 2;
    let mut fixed = Vec::new();
    for _ in 0..2 {
        assert_eq!(der[at], 0x02, "a DER integer");
        let len = der[at + 1] as usize;
        let mut value = &der[at + 2..at + 2 + len];
        while value.len() > 32 && value[0] == 0 {
            value = &value[1..];
        }
        fixed.extend(std::iter::repeat_n(0u8, 32 - value.len()));
        fixed.extend_from_slice(value);
        at += 2 + len;
    }
    fixed
}

/// What signs tokens: a key, and its self-signed certificate (the registry's root bundle).
struct Issuer {
    signer: Arc<dyn SigningKey>,
    certificate_der: Vec<u8>,
    certificate_pem: String,
}

impl Issuer {
    fn new() -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["catapult-token-issuer".to_owned()]).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
        ];
        let certificate = params.self_signed(&key).unwrap();
        let signer = rustls::crypto::ring::sign::any_ecdsa_type(&PrivateKeyDer::Pkcs8(
            PrivatePkcs8KeyDer::from(key.serialize_der()),
        ))
        .unwrap();
        Issuer {
            signer,
            certificate_der: certificate.der().to_vec(),
            certificate_pem: certificate.pem(),
        }
    }

    /// A JWT granting `actions` on repository `name`, as the distribution registry reads one.
    fn token(&self, subject: &str, name: &str, actions: &[&str]) -> String {
        let header = serde_json::json!({
            "typ": "JWT",
            "alg": "ES256",
            "x5c": [base64(&self.certificate_der, false)],
        });
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let claims = serde_json::json!({
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": format!("{now}-{}", std::process::id()),
            "access": [{"type": "repository", "name": name, "actions": actions}],
        });
        let signing_input = format!(
            "{}.{}",
            base64(header.to_string().as_bytes(), true),
            base64(claims.to_string().as_bytes(), true)
        );
        let signer = self
            .signer
            .choose_scheme(&[SignatureScheme::ECDSA_NISTP256_SHA256])
            .expect("an ES256 signer");
        let signature = der_to_fixed(&signer.sign(signing_input.as_bytes()).unwrap());
        format!("{signing_input}.{}", base64(&signature, true))
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'%' if at + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[at + 1..at + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                at += 3;
            }
            b'+' => {
                out.push(b' ');
                at += 1;
            }
            byte => {
                out.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

fn form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (percent_decode(name), percent_decode(value)))
        .collect()
}

/// Answers one token request: a token for the scope asked, to Basic credentials of USER or the
/// refresh token (OAuth2's grant), else 401.
fn serve_token(issuer: &Issuer, stream: TcpStream, asked: &std::sync::Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.trim_end().split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let query = target
        .split_once('?')
        .map(|(_, query)| query)
        .unwrap_or_default();
    let mut params = form(query);
    let mut authorized = header("authorization")
        == Some(format!(
            "Basic {}",
            base64(format!("{USER}:{PASSWORD}").as_bytes(), false)
        ));
    if method == "POST" {
        let length: usize = header("content-length")
            .and_then(|length| length.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        params.extend(form(&String::from_utf8_lossy(&body)));
        let param = |name: &str| {
            params
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, v)| v.as_str())
        };
        authorized = param("grant_type") == Some("refresh_token")
            && param("refresh_token") == Some(REFRESH_TOKEN);
    }
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, v)| v.clone())
    };
    asked.lock().unwrap().push(format!(
        "{method} service={} scope={} authorized={authorized}",
        param("service").unwrap_or_default(),
        param("scope").unwrap_or_default()
    ));
    let mut stream = stream;
    if !authorized || param("service").as_deref() != Some(SERVICE) {
        let _ = stream.write_all(
            b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
        );
        return;
    }
    // repository:<name>:<actions>
    let scope = param("scope").unwrap_or_default();
    let mut fields = scope.splitn(3, ':');
    let (_, name, actions) = (
        fields.next(),
        fields.next().unwrap_or_default(),
        fields.next().unwrap_or_default(),
    );
    let actions: Vec<&str> = actions.split(',').filter(|a| !a.is_empty()).collect();
    let token = issuer.token(USER, name, &actions);
    let body =
        serde_json::json!({"token": token, "access_token": token, "expires_in": 300}).to_string();
    let _ = stream.write_all(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
}

/// A registry with token authentication, stopped when dropped.
struct TokenRegistry {
    child: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl Drop for TokenRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_registry(realm: &str, certificate_pem: &str) -> TokenRegistry {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    std::fs::write(dir.path().join("token.crt"), certificate_pem).unwrap();
    let config = format!(
        "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {root}/storage\n  maintenance:\n    uploadpurging:\n      enabled: false\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: catapult-bearer-{port}\nauth:\n  token:\n    realm: {realm}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {root}/token.crt\n",
        root = dir.path().display(),
    );
    let config_path = dir.path().join("config.yml");
    std::fs::write(&config_path, config).unwrap();
    let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
    let child = Command::new("docker-registry")
        .arg("serve")
        .arg(&config_path)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("docker-registry runs: ci/test installs Debian's docker-registry");
    let address = format!("127.0.0.1:{port}");
    let registry = TokenRegistry {
        child,
        address,
        _dir: dir,
    };
    // Up when GET /v2/ answers with its challenge.
    for _ in 0..100 {
        if let Ok(mut stream) = TcpStream::connect(&registry.address) {
            let _ = stream.write_all(
                format!(
                    "GET /v2/ HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                    registry.address
                )
                .as_bytes(),
            );
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.1 401") && answer.contains("Bearer realm=") {
                return registry;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let log =
        std::fs::read_to_string(registry._dir.path().join("registry.log")).unwrap_or_default();
    panic!("the token registry did not start:\n{log}");
}

fn write_config(home: &Path, json: serde_json::Value) {
    let docker = home.join(".docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(docker.join("config.json"), json.to_string()).unwrap();
}

#[test]
fn a_bearer_challenge_is_answered_with_a_token_from_its_realm() {
    let issuer = Arc::new(Issuer::new());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let realm = format!("http://{}/token", listener.local_addr().unwrap());
    let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
    {
        let issuer = Arc::clone(&issuer);
        let asked = Arc::clone(&asked);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                serve_token(&issuer, stream, &asked);
            }
        });
    }
    let registry = start_registry(&realm, &issuer.certificate_pem);

    let releases = Bucket::named("rel");
    let repository = unique_repository("bearer");
    let mut w = Workspace::new(&format!(
        "[release]\ns3_bucket = \"{}\"\ndocker_repository = \"{}/{repository}\"\n",
        releases.name, registry.address
    ));
    let sha = w.commit("Behind a token server");
    let pushed = push(
        &registry.address,
        Some((USER, PASSWORD)),
        &format!("{repository}/api"),
        &format!("ref-{sha}"),
        false,
    );
    asked.lock().unwrap().clear();

    // No credentials: the token server refuses, and the line says what to do.
    let error = failure(&w.catapult(&["release", "api", "--dry-run"]));
    assert!(
        error.contains(&format!("{}/{repository}/api:ref-{sha}", registry.address))
            && error.contains("docker login"),
        "{error}"
    );

    // Basic credentials to the token endpoint, for the service and scope of the challenge.
    write_config(
        &w.home(),
        serde_json::json!({"auths": {&registry.address: {"auth": base64(format!("{USER}:{PASSWORD}").as_bytes(), false)}}}),
    );
    let output = w.catapult(&["release", "api", "--yes"]);
    let record: RecordOut = success(&output);
    assert_eq!(record.image.as_deref(), Some(pushed.digest.as_str()));
    let scope = format!("repository:{repository}/api:pull");
    assert!(
        asked.lock().unwrap().contains(&format!(
            "GET service={SERVICE} scope={scope} authorized=true"
        )),
        "{:?}",
        asked.lock().unwrap()
    );
    for printed in [&output.stdout, &output.stderr] {
        assert!(!String::from_utf8_lossy(printed).contains(PASSWORD));
    }

    // An identity token (what `docker login` keeps for an OAuth2 registry): exchanged at the
    // realm with OAuth2's refresh-token grant.
    w.commit("Again");
    let sha = w.git(&["rev-parse", "HEAD"]);
    let again = push(
        &registry.address,
        Some((USER, PASSWORD)),
        &format!("{repository}/api"),
        &format!("ref-{sha}"),
        false,
    );
    write_config(
        &w.home(),
        serde_json::json!({"auths": {&registry.address: {"identitytoken": REFRESH_TOKEN}}}),
    );
    let record: RecordOut = success(&w.catapult(&["release", "api", "--dry-run"]));
    assert_eq!(record.image.as_deref(), Some(again.digest.as_str()));
    assert!(
        asked
            .lock()
            .unwrap()
            .iter()
            .any(|line| line.starts_with("POST ") && line.ends_with("authorized=true")),
        "{:?}",
        asked.lock().unwrap()
    );

    // A wrong password: the token endpoint refuses, naming where the credentials came from.
    write_config(
        &w.home(),
        serde_json::json!({"auths": {&registry.address: {"username": USER, "password": "wrong"}}}),
    );
    let error = failure(&w.catapult(&["release", "api", "--dry-run"]));
    assert!(
        error.contains("refused") && error.contains(&format!("auths[\"{}\"]", registry.address)),
        "{error}"
    );
}
