//! A bucket of each test's own on the local server, and the test's view of it: what another
//! tool writes there, and what the store holds after a step.

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use serde_json::{Value, json};

use crate::server::{
    access_key_id, block_on, client, endpoint, region, secret_access_key, unique_name,
};

/// One test's bucket on the local server, and the test's view of it.
pub struct Bucket {
    pub name: String,
    client: Client,
}

impl Bucket {
    /// A new bucket with versioning on.
    pub fn versioned() -> Self {
        let bucket = Self::unversioned();
        bucket.enable_versioning();
        bucket
    }

    /// A new versioned bucket whose name starts with `prefix`.
    pub fn named(prefix: &str) -> Self {
        let bucket = Self::unversioned_named(prefix);
        bucket.enable_versioning();
        bucket
    }

    /// A new bucket with versioning never turned on.
    pub fn unversioned() -> Self {
        Self::unversioned_named("t")
    }

    fn unversioned_named(prefix: &str) -> Self {
        let name = unique_name(prefix);
        let client = client();
        block_on(client.create_bucket().bucket(&name).send()).expect("create bucket");
        Bucket { name, client }
    }

    pub fn enable_versioning(&self) {
        block_on(
            self.client
                .put_bucket_versioning()
                .bucket(&self.name)
                .versioning_configuration(
                    VersioningConfiguration::builder()
                        .status(BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send(),
        )
        .expect("enable versioning");
    }

    /// Writes `body` at `key` and returns its version id.
    pub fn put(&self, key: &str, body: impl AsRef<[u8]>) -> String {
        let output = block_on(
            self.client
                .put_object()
                .bucket(&self.name)
                .key(key)
                .body(ByteStream::from(body.as_ref().to_vec()))
                .send(),
        )
        .expect("put object");
        output.version_id().unwrap_or("null").to_owned()
    }

    /// Writes a valid record of release `version` at `key`, returning its version id.
    pub fn put_record(&self, key: &str, version: u64) -> String {
        self.put(key, record(version, None).to_string())
    }

    /// Puts a delete marker on `key`.
    pub fn delete(&self, key: &str) {
        block_on(
            self.client
                .delete_object()
                .bucket(&self.name)
                .key(key)
                .send(),
        )
        .expect("delete object");
    }

    /// Deletes one version for good.
    pub fn delete_version(&self, key: &str, version_id: &str) {
        block_on(
            self.client
                .delete_object()
                .bucket(&self.name)
                .key(key)
                .version_id(version_id)
                .send(),
        )
        .expect("delete version");
    }

    /// Every (version id, body) of `key`, newest first: what S3 holds, to compare before and
    /// after a step.
    pub fn history(&self, key: &str) -> Vec<(String, Value)> {
        let listing = block_on(
            self.client
                .list_object_versions()
                .bucket(&self.name)
                .prefix(key)
                .send(),
        )
        .expect("list versions");
        listing
            .versions()
            .iter()
            .filter(|version| version.key() == Some(key))
            .map(|version| {
                let id = version.version_id().unwrap().to_owned();
                let body = block_on(async {
                    let object = self
                        .client
                        .get_object()
                        .bucket(&self.name)
                        .key(key)
                        .version_id(&id)
                        .send()
                        .await
                        .expect("get version");
                    object.body.collect().await.expect("read body").into_bytes()
                });
                let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                (id, value)
            })
            .collect()
    }

    /// `source` for a resource over this bucket, with `extra` fields merged in.
    pub fn source(&self, name: &str, extra: Value) -> Value {
        let mut source = json!({
            "bucket": self.name,
            "name": name,
            "endpoint": endpoint(),
            "path_style": true,
            "region": region(),
            "access_key_id": access_key_id(),
            "secret_access_key": secret_access_key(),
        });
        for (field, value) in extra.as_object().expect("extra is an object") {
            source[field] = value.clone();
        }
        source
    }

    /// How many versions `key` has.
    pub fn version_count(&self, key: &str) -> usize {
        let listing = block_on(
            self.client
                .list_object_versions()
                .bucket(&self.name)
                .prefix(key)
                .send(),
        )
        .expect("list versions");
        listing
            .versions()
            .iter()
            .filter(|version| version.key() == Some(key))
            .count()
    }
}

/// A full record body of release `version`.
pub fn record(version: u64, environment: Option<&str>) -> Value {
    let commit = format!("{version:0>40}");
    let mut record = json!({
        "version": version,
        "commit": commit,
        "image": format!("sha256:{}", "ab".repeat(32)),
        "author": "dev@example.com",
        "changelog": format!("{}  2026-11-20  Dev Name  Change {version}", &commit[..7]),
        "commits": [commit],
        "timestamp": "2026-11-21T10:00:00Z",
        "rollback": false,
        "action_type": "automated",
    });
    if let Some(environment) = environment {
        record["environment"] = json!(environment);
    }
    record
}
