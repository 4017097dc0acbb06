//! A bucket of each test's own on the local server, and the test's view of it: what another
//! tool writes there, and what the store holds after a step. On a store without object
//! versioning (Garage), a bucket can be made and read, but not versioned: a test that asks for
//! a versioned bucket there fails saying so.

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use serde_json::{Value, json};

use crate::server::{
    access_key_id, block_on, client, endpoint, keeps_versions, region, secret_access_key, store,
    unique_name,
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

    /// Turns versioning on. A store without object versioning cannot: the test fails, naming
    /// the store, for it needs a history that such a store cannot keep.
    pub fn enable_versioning(&self) {
        assert!(
            keeps_versions(),
            "the store under test ({}) has no object versioning (PutBucketVersioning answers 501 \
             Not Implemented), and this test needs a versioned bucket: it cannot run there \
             (ci/conformance runs only the tests of `unversioned` on it)",
            store()
        );
        self.set_versioning(BucketVersioningStatus::Enabled);
    }

    /// Suspends versioning: later writes replace the key's `null` version.
    pub fn suspend_versioning(&self) {
        self.set_versioning(BucketVersioningStatus::Suspended);
    }

    fn set_versioning(&self, status: BucketVersioningStatus) {
        block_on(
            self.client
                .put_bucket_versioning()
                .bucket(&self.name)
                .versioning_configuration(
                    VersioningConfiguration::builder()
                        .status(status.clone())
                        .build(),
                )
                .send(),
        )
        .unwrap_or_else(|err| panic!("set versioning {status:?}: {err:?}"));
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

    /// The body of one version of `key`, as stored.
    pub fn body(&self, key: &str, version_id: &str) -> Vec<u8> {
        block_on(async {
            let object = self
                .client
                .get_object()
                .bucket(&self.name)
                .key(key)
                .version_id(version_id)
                .send()
                .await
                .expect("get version");
            object.body.collect().await.expect("read body").to_vec()
        })
    }

    /// Every key's current object (ListObjectsV2, then GetObject without a version id), in key
    /// order: what any store, one without object versioning included, holds now.
    pub fn objects(&self) -> Vec<Object> {
        let mut objects = Vec::new();
        let mut token = None;
        loop {
            let page = block_on(
                self.client
                    .list_objects_v2()
                    .bucket(&self.name)
                    .set_continuation_token(token.take())
                    .send(),
            )
            .expect("list objects");
            for listed in page.contents() {
                let key = listed.key().expect("a listed key").to_owned();
                let (etag, body) = block_on(async {
                    let object = self
                        .client
                        .get_object()
                        .bucket(&self.name)
                        .key(&key)
                        .send()
                        .await
                        .expect("get object");
                    let etag = object.e_tag().unwrap_or_default().to_owned();
                    let body = object.body.collect().await.expect("read body").into_bytes();
                    (etag, body.to_vec())
                });
                objects.push(Object { key, etag, body });
            }
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_owned()),
                _ => return objects,
            }
        }
    }

    /// Everything the bucket holds, as exactly as the store can tell: every key's current
    /// object, and on a store that keeps versions every version and delete marker of every key
    /// (key, version id, ETag). Equal before and after a step: the step wrote nothing.
    pub fn contents(&self) -> Contents {
        let versions = keeps_versions().then(|| {
            let listing = block_on(
                self.client
                    .list_object_versions()
                    .bucket(&self.name)
                    .max_keys(1000)
                    .send(),
            )
            .expect("list versions");
            assert_ne!(
                listing.is_truncated(),
                Some(true),
                "more than a page to compare"
            );
            let mut entries: Vec<(String, String, String)> = listing
                .versions()
                .iter()
                .map(|version| {
                    (
                        version.key().unwrap_or_default().to_owned(),
                        version.version_id().unwrap_or_default().to_owned(),
                        version.e_tag().unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            entries.extend(listing.delete_markers().iter().map(|marker| {
                (
                    marker.key().unwrap_or_default().to_owned(),
                    marker.version_id().unwrap_or_default().to_owned(),
                    "(delete marker)".to_owned(),
                )
            }));
            entries.sort();
            entries
        });
        Contents {
            objects: self.objects(),
            versions,
        }
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

/// One key's current object.
#[derive(Clone, PartialEq, Eq)]
pub struct Object {
    pub key: String,
    pub etag: String,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Object")
            .field("key", &self.key)
            .field("etag", &self.etag)
            .field("body", &String::from_utf8_lossy(&self.body))
            .finish()
    }
}

/// What a bucket holds: see [`Bucket::contents`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contents {
    pub objects: Vec<Object>,
    /// (key, version id, ETag) of every version and delete marker, in that order; `None` on a
    /// store that keeps no versions.
    pub versions: Option<Vec<(String, String, String)>>,
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
