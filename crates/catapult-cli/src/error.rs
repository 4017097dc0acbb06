//! The command line's one error: a core error, or a message of its own naming what is wrong.
//! `main` prints it as one `error: …` line, its causes joined on the same line.

use std::fmt;

/// What went wrong.
#[derive(Debug)]
pub enum Failure {
    /// A core operation failed.
    Core(catapult_core::Error),
    /// The command line's own message.
    Message(String),
    /// Stdout was closed by its reader (`catapult status | head`): not an error to report.
    BrokenPipe,
}

/// The command line's result.
pub type Result<T> = std::result::Result<T, Failure>;

impl Failure {
    /// A message of the command line's own.
    pub fn new(message: impl Into<String>) -> Self {
        Failure::Message(message.into())
    }

    /// The message and its causes in one line, each said once, with no character that could
    /// drive or reorder the terminal.
    pub fn one_line(&self) -> String {
        let mut text = self.to_string();
        if let Failure::Core(err) = self {
            let mut cause = std::error::Error::source(err);
            while let Some(inner) = cause {
                let part = inner.to_string();
                if !text.contains(&part) {
                    text.push_str(": ");
                    text.push_str(&part);
                }
                cause = inner.source();
            }
        }
        let text = text.replace(['\n', '\r'], " ");
        catapult_core::record::text::terminal_safe(&text).into_owned()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Core(err) => err.fmt(f),
            Failure::Message(message) => f.write_str(message),
            Failure::BrokenPipe => f.write_str("stdout was closed"),
        }
    }
}

impl From<catapult_core::registry::RegistryError> for Failure {
    fn from(err: catapult_core::registry::RegistryError) -> Self {
        Failure::Core(err.into())
    }
}

impl From<catapult_core::Error> for Failure {
    fn from(err: catapult_core::Error) -> Self {
        Failure::Core(err)
    }
}
