//! Text from records, keys and stores as a terminal can show it without being driven by it.
//! Besides control characters (an escape sequence in an author, a stray carriage return),
//! Unicode's format characters are escaped too: a bidirectional override (U+202E) or isolate in
//! a commit subject or a key would reverse the rest of the line as shown, and zero-width
//! characters hide what is there. Each is shown as `\u{202e}`, so that what is on the screen is
//! what is in the record.

use std::borrow::Cow;

/// Whether `c` is a format character that changes how the text around it is shown: bidi marks,
/// embeddings, overrides and isolates, zero-width characters, line and paragraph separators.
pub fn is_format_character(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
    )
}

/// `text` with control and format characters escaped as `\u{…}`.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    escape(text, |c| c.is_control() || is_format_character(c))
}

/// `text` with format characters escaped as `\u{…}`, control characters kept: for a log line
/// whose colours are the logger's own escape sequences.
pub fn format_characters_escaped(text: &str) -> Cow<'_, str> {
    escape(text, is_format_character)
}

fn escape(text: &str, unsafe_char: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(&unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            escaped.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_would_drive_or_reorder_a_terminal() {
        assert_eq!(terminal_safe("Fix the thing"), "Fix the thing");
        assert_eq!(terminal_safe("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(
            terminal_safe("deploy \u{202e}noitcudorp"),
            "deploy \\u{202e}noitcudorp"
        );
        for c in [
            '\u{200e}', '\u{200f}', '\u{2066}', '\u{2069}', '\u{202a}', '\u{feff}',
        ] {
            assert!(terminal_safe(&format!("x{c}y")).contains("\\u{"), "{c:?}");
        }
        assert_eq!(terminal_safe("tab\there"), "tab\\u{9}here");
        assert_eq!(
            format_characters_escaped("\u{1b}[2mlog\u{202e}\n"),
            "\u{1b}[2mlog\\u{202e}\n"
        );
        assert_eq!(terminal_safe("café ü 日本"), "café ü 日本");
    }
}

/// A writer that escapes format characters in what passes through it (control characters
/// kept, for a logger's own colours): where logs meet a terminal.
#[derive(Debug)]
pub struct FormatEscaping<W>(pub W);

impl<W: std::io::Write> std::io::Write for FormatEscaping<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match std::str::from_utf8(buf) {
            Ok(text) => self
                .0
                .write_all(format_characters_escaped(text).as_bytes())
                .map(|()| buf.len()),
            Err(_) => self.0.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}
