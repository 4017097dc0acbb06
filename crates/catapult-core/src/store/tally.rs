//! A store that counts what it answered: requests answered, versions listed, bodies read. A step
//! that runs out of its deadline says from these how far it got, so that a busy store that kept
//! answering (a walk over 10,000 versions) is never called a store that did not answer.

use std::sync::atomic::{AtomicU64, Ordering};

use jiff::Timestamp;

use super::{
    BucketName, ListedKey, Location, PageCursor, RecordStore, StoreError, StoreErrorKind,
    StoredObject, VersionPage, Versioning, WriteCondition,
};

/// What a store answered so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Requests the store answered, errors that are answers (a 404, a 412) included.
    pub answered: u64,
    /// Versions its listings named.
    pub versions_listed: u64,
    /// Object bodies it returned.
    pub bodies_read: u64,
}

/// `inner`, counting what it answers. Each request's future is boxed on the way, so that the
/// futures of whole steps, which nest the SDK's, stay shallow enough to lay out.
#[derive(Debug)]
pub struct Tallied<S> {
    inner: S,
    answered: AtomicU64,
    versions_listed: AtomicU64,
    bodies_read: AtomicU64,
}

impl<S: RecordStore> Tallied<S> {
    /// `inner`, with nothing counted yet.
    pub fn new(inner: S) -> Self {
        Tallied {
            inner,
            answered: AtomicU64::new(0),
            versions_listed: AtomicU64::new(0),
            bodies_read: AtomicU64::new(0),
        }
    }

    /// The store counted.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// What the store answered so far.
    pub fn progress(&self) -> Progress {
        Progress {
            answered: self.answered.load(Ordering::Relaxed),
            versions_listed: self.versions_listed.load(Ordering::Relaxed),
            bodies_read: self.bodies_read.load(Ordering::Relaxed),
        }
    }

    /// Counts `result` as answered, unless it is no answer at all.
    fn count<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        let answered = match &result {
            Ok(_) => true,
            Err(err) => !matches!(
                err.kind,
                StoreErrorKind::Unavailable(_) | StoreErrorKind::Transient(_)
            ),
        };
        if answered {
            self.answered.fetch_add(1, Ordering::Relaxed);
        }
        result
    }
}

impl<S: RecordStore> RecordStore for Tallied<S> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn verifies_writes(&self) -> bool {
        self.inner.verifies_writes()
    }

    fn clock(&self) -> Option<Timestamp> {
        self.inner.clock()
    }

    async fn caller_identity(&self) -> Option<String> {
        Box::pin(self.inner.caller_identity()).await
    }

    async fn list_versions(
        &self,
        at: &Location,
        max_keys: i32,
        after: Option<&PageCursor>,
    ) -> Result<VersionPage, StoreError> {
        let page = self.count(Box::pin(self.inner.list_versions(at, max_keys, after)).await)?;
        self.versions_listed
            .fetch_add(page.versions.len() as u64, Ordering::Relaxed);
        Ok(page)
    }

    async fn get_version(
        &self,
        at: &Location,
        version_id: &str,
    ) -> Result<StoredObject, StoreError> {
        let object = self.count(Box::pin(self.inner.get_version(at, version_id)).await)?;
        self.bodies_read.fetch_add(1, Ordering::Relaxed);
        Ok(object)
    }

    async fn put(
        &self,
        at: &Location,
        body: Vec<u8>,
        condition: &WriteCondition,
        write_id: &str,
    ) -> Result<Option<String>, StoreError> {
        self.count(Box::pin(self.inner.put(at, body, condition, write_id)).await)
    }

    async fn versioning(&self, bucket: &BucketName) -> Result<Versioning, StoreError> {
        self.count(Box::pin(self.inner.versioning(bucket)).await)
    }

    async fn list_keys(
        &self,
        bucket: &BucketName,
        prefix: &str,
    ) -> Result<Vec<ListedKey>, StoreError> {
        self.count(Box::pin(self.inner.list_keys(bucket, prefix)).await)
    }

    async fn get_current(&self, at: &Location) -> Result<StoredObject, StoreError> {
        let object = self.count(Box::pin(self.inner.get_current(at)).await)?;
        self.bodies_read.fetch_add(1, Ordering::Relaxed);
        Ok(object)
    }

    async fn delete_version(&self, at: &Location, version_id: &str) -> Result<(), StoreError> {
        self.count(Box::pin(self.inner.delete_version(at, version_id)).await)
    }
}
