//! A credential that no log can show: the one type every adapter keeps a secret in (an S3
//! secret key or session token, a registry's password or token), its `Debug` redacted, its
//! value handed out only where it is sent.

use std::fmt;

/// A credential. Its `Debug` never shows it, so no log can.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_never_debug_printed() {
        let secret = Secret::new("s3cret");
        assert_eq!(format!("{secret:?}"), "<redacted>");
        assert_eq!(secret.expose(), "s3cret");
    }
}
