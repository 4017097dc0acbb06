//! Logs for people reading a Concourse build: on stderr (stdout is the protocol), coloured
//! (Concourse renders ANSI) unless `NO_COLOR` is set, and `debug: true` raising the level of
//! catapult's own logs only. The AWS SDK stays at warnings whatever the level: its debug logs
//! show request headers. Format characters (a bidi override in a key) are escaped on the way.

use catapult_core::record::text::FormatEscaping;
use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Sends logs to stderr, at debug level for catapult when `debug` is set, info otherwise.
pub fn init(debug: bool) {
    let ours = if debug { Level::DEBUG } else { Level::INFO };
    let filter = Targets::new()
        .with_target("catapult_core", ours)
        .with_target("catapult_resource", ours)
        .with_default(Level::WARN);
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    let format = tracing_subscriber::fmt::layer()
        .with_writer(|| FormatEscaping(std::io::stderr()))
        .with_ansi(!no_color)
        .without_time()
        .with_target(false);
    // A second call (tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(format)
        .with(filter)
        .try_init();
}
