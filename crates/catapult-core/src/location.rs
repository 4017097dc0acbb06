//! Where a history of records lives: a bucket and an object key. Every other module names
//! places with it, so it depends on nothing.

use std::fmt;

/// A bucket and an object key: where one history of records lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// The bucket.
    pub bucket: String,
    /// The object key.
    pub key: String,
}

impl Location {
    /// The object `key` in `bucket`.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Location {
            bucket: bucket.into(),
            key: key.into(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}
