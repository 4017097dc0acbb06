//! A store that breaks on purpose: it wraps any [`RecordStore`] and injects a chosen fault on
//! chosen calls (the nth call of an operation, or every nth), and counts every call, so that a
//! test can say "the answer to the second PutObject is lost after the write landed", "the body of
//! the first GetObject is cut short", "the store answers a version it just listed with a 404", or
//! "every answer takes two seconds", and then assert what the record log did and how many
//! requests it made. Each call yields to other tasks first, as a network round trip would, so
//! that concurrent callers interleave.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;

use super::{
    BucketName, ListedKey, Location, Operation, PageCursor, RecordStore, StoreError,
    StoreErrorKind, StoredObject, VersionPage, Versioning, WriteCondition,
};

/// What happens to a call that a [`Fault`] hits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// The request fails before it reaches the store: nothing is done.
    FailBefore(StoreErrorKind),
    /// The store does what was asked, and then the answer is lost: the caller gets this error
    /// (a reset or a 5xx after the write landed, or the 412 that an SDK retry of a landed write
    /// meets).
    LoseAnswer(StoreErrorKind),
    /// The store does what was asked, and its answer arrives altered on the way.
    Alter(Alteration),
    /// The store answers, after this long (a busy store, or a slow network).
    Slow(Duration),
}

/// How an answer is altered on its way back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alteration {
    /// A body cut to half its length, as a proxy that rewrote its Content-Length would pass it.
    CutShort,
    /// A body of the right length with its bytes garbled.
    Garble,
    /// A PutObject or GetObject answer without its `x-amz-version-id`.
    StripVersionId,
}

/// An answer a fault can alter; what does not apply to an answer leaves it as it is.
trait Alterable {
    fn altered(self, _alteration: Alteration) -> Self
    where
        Self: Sized,
    {
        self
    }
}

impl Alterable for StoredObject {
    fn altered(mut self, alteration: Alteration) -> Self {
        match alteration {
            Alteration::CutShort => self.body.truncate(self.body.len() / 2),
            Alteration::Garble => self.body.iter_mut().for_each(|byte| *byte ^= 0x5a),
            Alteration::StripVersionId => self.version_id = None,
        }
        self
    }
}

impl Alterable for Option<String> {
    fn altered(self, alteration: Alteration) -> Self {
        match alteration {
            Alteration::StripVersionId => None,
            _ => self,
        }
    }
}

impl Alterable for VersionPage {}
impl Alterable for Versioning {}
impl Alterable for Vec<ListedKey> {}
impl Alterable for () {}

/// A fault on calls of one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The operation it hits.
    pub operation: Operation,
    /// Which calls of it: the `nth` (1-based), or with `every`, each nth.
    pub nth: u32,
    /// Hit every `nth` call rather than the `nth` alone.
    pub every: bool,
    /// What it does.
    pub kind: FaultKind,
}

impl Fault {
    /// A fault on the `nth` call of `operation` only.
    pub fn on(operation: Operation, nth: u32, kind: FaultKind) -> Self {
        Fault {
            operation,
            nth,
            every: false,
            kind,
        }
    }

    /// A fault on every `nth` call of `operation`.
    pub fn every(operation: Operation, nth: u32, kind: FaultKind) -> Self {
        Fault {
            operation,
            nth,
            every: true,
            kind,
        }
    }

    fn hits(&self, operation: Operation, call: u32) -> bool {
        self.operation == operation
            && if self.every {
                self.nth > 0 && call % self.nth == 0
            } else {
                call == self.nth
            }
    }
}

/// `inner`, with faults injected and calls counted.
#[derive(Debug)]
pub struct FaultyStore<S> {
    inner: S,
    faults: Vec<Fault>,
    calls: Mutex<HashMap<Operation, u32>>,
}

impl<S: RecordStore> FaultyStore<S> {
    /// `inner` with `faults`.
    pub fn new(inner: S, faults: Vec<Fault>) -> Self {
        FaultyStore {
            inner,
            faults,
            calls: Mutex::new(HashMap::new()),
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// How many calls of `operation` were made, faulty ones included.
    pub fn calls(&self, operation: Operation) -> u32 {
        self.lock().get(&operation).copied().unwrap_or(0)
    }

    /// How many calls were made in all.
    pub fn total_calls(&self) -> u32 {
        self.lock().values().sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Operation, u32>> {
        self.calls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a call of `operation` and returns the fault that hits it, if any.
    fn fault(&self, operation: Operation) -> Option<FaultKind> {
        let call = {
            let mut calls = self.lock();
            let count = calls.entry(operation).or_insert(0);
            *count += 1;
            *count
        };
        self.faults
            .iter()
            .find(|fault| fault.hits(operation, call))
            .map(|fault| fault.kind.clone())
    }

    /// Runs `call` under the fault for `operation`.
    async fn faulty<T: Alterable>(
        &self,
        operation: Operation,
        (bucket, key): (&BucketName, &str),
        call: impl AsyncFnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let error = |kind| StoreError::on_bucket(operation, bucket, key, self.inner.name(), kind);
        // Let other tasks run between calls, as a network would, so that concurrent callers
        // interleave.
        tokio::task::yield_now().await;
        match self.fault(operation) {
            None => call().await,
            Some(FaultKind::FailBefore(kind)) => Err(error(kind)),
            Some(FaultKind::LoseAnswer(kind)) => {
                let _ = call().await;
                Err(error(kind))
            }
            Some(FaultKind::Alter(alteration)) => {
                call().await.map(|answer| answer.altered(alteration))
            }
            Some(FaultKind::Slow(delay)) => {
                tokio::time::sleep(delay).await;
                call().await
            }
        }
    }
}

impl<S: RecordStore> RecordStore for FaultyStore<S> {
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
        self.faulty(Operation::ListVersions, (&at.bucket, &at.key), async || {
            self.inner.list_versions(at, max_keys, after).await
        })
        .await
    }

    async fn get_version(
        &self,
        at: &Location,
        version_id: &str,
    ) -> Result<StoredObject, StoreError> {
        self.faulty(Operation::GetVersion, (&at.bucket, &at.key), async || {
            self.inner.get_version(at, version_id).await
        })
        .await
    }

    async fn put(
        &self,
        at: &Location,
        body: Vec<u8>,
        condition: &WriteCondition,
        write_id: &str,
    ) -> Result<Option<String>, StoreError> {
        self.faulty(Operation::Put, (&at.bucket, &at.key), async || {
            self.inner.put(at, body, condition, write_id).await
        })
        .await
    }

    async fn versioning(&self, bucket: &BucketName) -> Result<Versioning, StoreError> {
        self.faulty(Operation::GetVersioning, (bucket, ""), async || {
            self.inner.versioning(bucket).await
        })
        .await
    }

    async fn list_keys(
        &self,
        bucket: &BucketName,
        prefix: &str,
    ) -> Result<Vec<ListedKey>, StoreError> {
        self.faulty(Operation::ListKeys, (bucket, prefix), async || {
            self.inner.list_keys(bucket, prefix).await
        })
        .await
    }

    async fn get_current(&self, at: &Location) -> Result<StoredObject, StoreError> {
        self.faulty(Operation::GetCurrent, (&at.bucket, &at.key), async || {
            self.inner.get_current(at).await
        })
        .await
    }

    async fn delete_version(&self, at: &Location, version_id: &str) -> Result<(), StoreError> {
        self.faulty(
            Operation::DeleteVersion,
            (&at.bucket, &at.key),
            async || self.inner.delete_version(at, version_id).await,
        )
        .await
    }
}
