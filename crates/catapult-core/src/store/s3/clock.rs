//! The store's own time: the `Date` header of each answer it gives, kept as its latest, so that
//! the rules that depend on time (a soak time, a freeze window) ask the store what time it is
//! rather than trust the machine's clock alone.

use std::sync::{Arc, Mutex};

use aws_sdk_s3::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::BoxError;
use jiff::Timestamp;

/// The time of the store's latest answer, shared between the client's interceptor and the
/// store.
#[derive(Debug, Clone, Default)]
pub(super) struct StoreClock(Arc<Mutex<Option<Timestamp>>>);

impl StoreClock {
    /// The time of the latest answer, if any came with a `Date`.
    pub(super) fn now(&self) -> Option<Timestamp> {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Intercept for StoreClock {
    fn name(&self) -> &'static str {
        "StoreClock"
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let date = context.response().headers().get("date");
        if let Some(time) = date.and_then(http_date) {
            *self
                .0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(time);
        }
        Ok(())
    }
}

/// An HTTP date (`Fri, 04 Dec 2026 15:37:40 GMT`, RFC 9110's IMF-fixdate, a form of RFC 2822's).
fn http_date(text: &str) -> Option<Timestamp> {
    jiff::fmt::rfc2822::parse(text)
        .ok()
        .map(|zoned| zoned.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_http_date() {
        assert_eq!(
            http_date("Fri, 04 Dec 2026 15:37:40 GMT"),
            Some("2026-12-04T15:37:40Z".parse().unwrap())
        );
        assert_eq!(http_date("yesterday"), None);
    }
}
