//! Names made from literals, for tests: each one checked as a front-end would check it.

use super::{App, AppName, EnvironmentName};
use crate::store::{BucketName, Location, ObjectKey};

/// A bucket's name.
pub fn bucket(name: &str) -> BucketName {
    BucketName::parse("bucket", name).unwrap()
}

/// An object key.
pub fn key(key: &str) -> ObjectKey {
    ObjectKey::parse("key", key).unwrap()
}

/// The object `key` in `bucket`.
pub fn at(bucket: &str, key: &str) -> Location {
    Location::parse(bucket, key).unwrap()
}

/// An environment's name.
pub fn env(name: &str) -> EnvironmentName {
    EnvironmentName::parse("environment", name).unwrap()
}

/// An application's name.
pub fn name(name: &str) -> AppName {
    AppName::parse("name", name).unwrap()
}

/// The application `app`, its releases at key `app` in `bucket`.
pub fn app(app: &str, bucket: &str) -> App {
    App::in_bucket(name(app), self::bucket(bucket))
}
