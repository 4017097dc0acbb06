//! The local S3 server the test scripts start: its endpoint comes from `CATAPULT_TEST_ENDPOINT`
//! (which `ci/test` and `ci/conformance` export), its keys, region and name from
//! `CATAPULT_TEST_ACCESS_KEY_ID`, `CATAPULT_TEST_SECRET_ACCESS_KEY`, `CATAPULT_TEST_REGION` and
//! `CATAPULT_TEST_STORE` (moto's by default).

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};

/// The local S3 server's URL. Panics, so the test fails, when it is not running.
pub fn endpoint() -> String {
    std::env::var("CATAPULT_TEST_ENDPOINT").expect(
        "CATAPULT_TEST_ENDPOINT is not set: run the tests through ci/test, which starts the local S3 server",
    )
}

/// The local server's access key id.
pub fn access_key_id() -> String {
    std::env::var("CATAPULT_TEST_ACCESS_KEY_ID").unwrap_or_else(|_| "testing".into())
}

/// The local server's secret access key.
pub fn secret_access_key() -> String {
    std::env::var("CATAPULT_TEST_SECRET_ACCESS_KEY").unwrap_or_else(|_| "testing".into())
}

/// The region to sign for.
pub fn region() -> String {
    std::env::var("CATAPULT_TEST_REGION").unwrap_or_else(|_| "us-east-1".into())
}

/// Which store the server is: `moto`, `localstack`, `ceph-rgw` or `garage`.
pub fn store() -> String {
    std::env::var("CATAPULT_TEST_STORE").unwrap_or_else(|_| "moto".into())
}

/// Whether the store under test keeps object versions at all. Garage keeps one version of each
/// key (PutBucketVersioning and ListObjectVersions answer 501): only the tests that need no
/// versioned bucket run on it.
pub fn keeps_versions() -> bool {
    store() != "garage"
}

pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// A client of the local server, as another tool would write to it.
pub fn client() -> Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region()))
        .endpoint_url(endpoint())
        .force_path_style(true)
        .credentials_provider(Credentials::new(
            access_key_id(),
            secret_access_key(),
            None,
            None,
            "tests",
        ))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    Client::from_conf(config)
}

/// A name no other test (or earlier run against the same server) uses.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
