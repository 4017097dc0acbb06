//! The names and values people give: an application's and an environment's name, each a type
//! that can only hold a usable name (not blank, within S3's limit for keys, since each becomes
//! part of one, no control characters), checked once where it is made from `source`, a flag or a
//! configuration file, and taken as is everywhere else; and the checks of a record's author and
//! image digest, which `put` and `catapult release` share.

use std::fmt;
use std::ops::Deref;

use crate::store::location::{MAX_KEY_BYTES, check_text, checked_name};

checked_name!(
    /// An application's name: the key of its release records by default.
    AppName,
    MAX_KEY_BYTES
);

checked_name!(
    /// An environment's name: `staging`, `production`.
    EnvironmentName,
    MAX_KEY_BYTES
);

/// An author as a record may hold it: not blank, no control characters (a NUL would make a
/// record no `get` can write out).
pub fn checked_author(field: &str, author: &str) -> Result<String, String> {
    let author = author.trim();
    check_text(field, author, MAX_KEY_BYTES)?;
    Ok(author.to_owned())
}

/// Whether `text` is an OCI digest of the kind images have: `sha256:` and 64 lowercase hex
/// digits.
pub fn is_image_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_sha256_digests() {
        let hex = "6ac40dec2b3af61e868954d641491d95a3fb74ad239d7584025b930d1f9997bd";
        assert!(is_image_digest(&format!("sha256:{hex}")));
        assert!(!is_image_digest(hex));
        assert!(!is_image_digest(&format!("sha256:{}", &hex[1..])));
        assert!(!is_image_digest(&format!("sha256:{}", hex.to_uppercase())));
        assert!(!is_image_digest(&format!("sha512:{hex}")));
        assert!(!is_image_digest(&format!("sha256:{hex}0")));
        assert!(!is_image_digest("registry.example.com/app:latest"));
    }

    #[test]
    fn refuses_an_author_with_control_characters() {
        assert_eq!(checked_author("params.author", " a@b \n").unwrap(), "a@b");
        for author in ["a\0b", "a\u{1b}[31mb", "  ", "a\nb"] {
            assert!(
                checked_author("params.author", author).is_err(),
                "{author:?}"
            );
        }
    }
}
