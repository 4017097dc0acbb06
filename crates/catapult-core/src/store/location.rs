//! Where a history of records lives, and the names that make up the place: a bucket and an
//! object key. Each name is a type that can only hold a usable value (not blank, within S3's
//! limits, no control characters), checked once where it is made from what a person wrote, so
//! that nothing downstream checks it again and no request is ever built from a name S3 would
//! choke on.

use std::fmt;
use std::ops::Deref;

/// The longest object key S3 takes, in bytes; names and version ids are held to it too.
pub const MAX_KEY_BYTES: usize = 1024;
/// The longest bucket name accepted: S3's own are 63 bytes; S3-compatible stores allow more.
pub const MAX_BUCKET_BYTES: usize = 255;

/// Checks a name-like text: not blank, at most `max_bytes` long, no control characters. The
/// error names `field` and says what is wrong, without repeating the value.
pub fn check_text(field: &str, value: &str, max_bytes: usize) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{field} must not be empty"));
    }
    if value.len() > max_bytes {
        return Err(format!(
            "{field} is {} bytes long, more than the {max_bytes} it may be",
            value.len()
        ));
    }
    if value.chars().any(char::is_control) {
        let what = if value.trim_end() != value {
            "ends in a newline or another control character (pasted with it?)"
        } else {
            "holds a control character"
        };
        return Err(format!("{field} {what}"));
    }
    Ok(())
}

/// Declares a string newtype that can only be made through a check, reads as a `&str`, and
/// prints as what it holds.
macro_rules! checked_name {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        /// As the text it holds, quoted: `"production"`.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl $name {
            /// `value`, checked; the error names `field` (`source.bucket`, `[release] s3_bucket`).
            pub fn parse(field: &str, value: &str) -> Result<Self, String> {
                check_text(field, value, $max)?;
                Ok($name(value.to_owned()))
            }

            /// A value another checked name already holds, under the same rules (an
            /// application's name as its key).
            #[allow(dead_code)]
            pub(crate) fn from_checked(value: String) -> Self {
                $name(value)
            }

            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$name> for String {
            fn from(name: $name) -> String {
                name.0
            }
        }

        impl From<&$name> for String {
            fn from(name: &$name) -> String {
                name.0.clone()
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}
pub(crate) use checked_name;

checked_name!(
    /// A bucket's name.
    BucketName,
    MAX_BUCKET_BYTES
);

checked_name!(
    /// An object key.
    ObjectKey,
    MAX_KEY_BYTES
);

/// A bucket and an object key: where one history of records lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// The bucket.
    pub bucket: BucketName,
    /// The object key.
    pub key: ObjectKey,
}

impl Location {
    /// The object `key` in `bucket`.
    pub fn new(bucket: BucketName, key: ObjectKey) -> Self {
        Location { bucket, key }
    }

    /// The object `key` in `bucket`, both checked; the error names which is wrong.
    pub fn parse(bucket: &str, key: &str) -> Result<Self, String> {
        Ok(Location {
            bucket: BucketName::parse("the bucket", bucket)?,
            key: ObjectKey::parse("the key", key)?,
        })
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_checked_once_where_it_is_made() {
        assert_eq!(
            BucketName::parse("source.bucket", "releases").unwrap(),
            "releases"
        );
        for (value, expected) in [
            (" ", "source.bucket must not be empty"),
            ("a\n", "source.bucket ends in a newline"),
            ("a\u{1b}b", "source.bucket holds a control character"),
        ] {
            let error = BucketName::parse("source.bucket", value).unwrap_err();
            assert!(error.starts_with(expected), "{error}");
        }
        let long = "k".repeat(MAX_KEY_BYTES + 1);
        assert!(ObjectKey::parse("source.key", &long).is_err());
        assert!(ObjectKey::parse("source.key", &long[1..]).is_ok());
        assert_eq!(Location::parse("b", "k").unwrap().to_string(), "s3://b/k");
    }
}
