//! `ca_certs`: a store behind a private CA works when its certificate is given, and TLS
//! verification stays on without it. The store is the local S3 server behind a loopback TLS
//! proxy whose certificate is signed by a CA this test makes.

use catapult_test::resource as common;

use std::sync::Arc;

use common::{Bucket, Build, StepOutput, Version, check, failure, put, success};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};

/// A TLS proxy on a loopback port in front of the local S3 server, with a certificate for
/// 127.0.0.1 signed by a new CA. Returns its https endpoint and the CA's PEM.
fn tls_proxy() -> (String, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server_cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();

    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![CertificateDer::from(server_cert.der().to_vec())],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let upstream = common::endpoint().trim_start_matches("http://").to_owned();

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut client) = acceptor.accept(client).await else {
                        return;
                    };
                    let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
            }
        });
    });
    (format!("https://{address}"), ca.pem())
}

fn over_tls(bucket: &Bucket, endpoint: &str, extra: Value) -> Value {
    let mut source = bucket.source("app", extra);
    source["endpoint"] = json!(endpoint);
    source
}

#[test]
fn a_store_behind_a_private_ca_works_with_its_certificate_and_fails_without() {
    let (endpoint, ca_pem) = tls_proxy();
    let bucket = Bucket::versioned();

    // Verification is on: without the CA, the connection is refused, naming the store.
    let error = failure(&check(&over_tls(&bucket, &endpoint, json!({})), None));
    assert!(
        error.starts_with(&format!(
            "error: S3 ListObjectVersions on s3://{}/app (the S3 store at {endpoint}) failed: ",
            bucket.name
        )),
        "{error}"
    );
    assert!(error.contains("certificate"), "{error}");

    // With it, every step works.
    let source = over_tls(&bucket, &endpoint, json!({"ca_certs": [ca_pem]}));
    let versions: Vec<Version> = success(&check(&source, None));
    assert!(versions.is_empty());
    let mut build = Build::new();
    build.commit("Start");
    let output: StepOutput = success(&put(&source, json!({"repository": "repo"}), build.path()));
    assert_eq!(output.version.version, "1");
    let versions: Vec<Version> = success(&check(&source, None));
    assert_eq!(versions, [output.version]);
}

#[test]
fn a_ca_cert_that_is_not_pem_is_an_error_naming_it() {
    let bucket = Bucket::versioned();
    let source = bucket.source("app", json!({"ca_certs": ["not a certificate"]}));
    assert_eq!(
        failure(&check(&source, None)),
        "error: invalid source: source.ca_certs[0] is not a PEM certificate (-----BEGIN CERTIFICATE-----)"
    );
}
