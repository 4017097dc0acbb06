//! What a registry's 401 asks for: its `WWW-Authenticate` header parsed (RFC 9110 §11.6.1:
//! one or more challenges, each a scheme and its comma-separated parameters, values as tokens or
//! quoted strings with backslash escapes) into the two schemes registries use, Basic and Bearer
//! (the distribution spec's token authentication: a realm to ask a token of, for a service and
//! a scope). Pure, so every shape registries send is a unit test.

/// One challenge of a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// `Basic realm="…"`: send the credentials with every request.
    Basic,
    /// `Bearer realm="…",service="…",scope="…"`: ask `realm` for a token, then send it.
    Bearer {
        /// The token endpoint's URL.
        realm: String,
        /// The service the token is for, passed back as is.
        service: Option<String>,
        /// The access the request needs (`repository:acme/app:pull`), passed back as is.
        scope: Option<String>,
    },
    /// Any other scheme, by its name as sent.
    Other(String),
}

/// The challenges of a `WWW-Authenticate` header, in order; those that cannot be read (a
/// Bearer without a realm, a parameter cut short) are left out.
pub fn parse_challenges(header: &str) -> Vec<Challenge> {
    let mut cursor = Cursor {
        text: header.as_bytes(),
        at: 0,
    };
    let mut challenges = Vec::new();
    loop {
        cursor.skip_separators();
        let Some(scheme) = cursor.token() else {
            break;
        };
        let mut params: Vec<(String, String)> = Vec::new();
        let mut readable = true;
        loop {
            cursor.skip_spaces();
            // A parameter is `name = value`; a token that is not followed by `=` is the next
            // challenge's scheme (or a token68, which these schemes never use).
            let mark = cursor.at;
            let Some(name) = cursor.token() else {
                break;
            };
            cursor.skip_spaces();
            if !cursor.eat(b'=') {
                cursor.at = mark;
                if params.is_empty() {
                    // A token68 (`Basic dXNlcg==`): skip it.
                    let _ = cursor.token68();
                }
                break;
            }
            cursor.skip_spaces();
            match cursor.value() {
                Some(value) => params.push((name.to_ascii_lowercase(), value)),
                None if params.is_empty() => {
                    // A token68 with padding (`Basic dXNlcg==`): skip it.
                    cursor.at = mark;
                    let _ = cursor.token68();
                    break;
                }
                None => {
                    readable = false;
                    break;
                }
            }
            cursor.skip_spaces();
            if !cursor.eat(b',') {
                break;
            }
        }
        let param = |name: &str| {
            params
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        };
        match scheme.to_ascii_lowercase().as_str() {
            _ if !readable => {}
            "basic" => challenges.push(Challenge::Basic),
            "bearer" => {
                if let Some(realm) = param("realm").filter(|realm| !realm.is_empty()) {
                    challenges.push(Challenge::Bearer {
                        realm,
                        service: param("service"),
                        scope: param("scope"),
                    });
                }
            }
            _ => challenges.push(Challenge::Other(scheme)),
        }
        if !readable {
            break;
        }
    }
    challenges
}

struct Cursor<'a> {
    text: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.at += 1;
        }
    }

    /// An RFC 9110 token.
    fn token(&mut self) -> Option<String> {
        let start = self.at;
        while self.peek().is_some_and(is_token_byte) {
            self.at += 1;
        }
        (self.at > start).then(|| String::from_utf8_lossy(&self.text[start..self.at]).into_owned())
    }

    /// A token68: a token's bytes, and `/`, `+`, trailing `=`.
    fn token68(&mut self) -> Option<String> {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
        {
            self.at += 1;
        }
        while self.eat(b'=') {}
        (self.at > start).then(|| String::from_utf8_lossy(&self.text[start..self.at]).into_owned())
    }

    /// A parameter's value: a quoted string (its escapes undone) or a token.
    fn value(&mut self) -> Option<String> {
        if !self.eat(b'"') {
            return self.token();
        }
        let mut value = Vec::new();
        loop {
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return Some(String::from_utf8_lossy(&value).into_owned());
                }
                b'\\' => {
                    self.at += 1;
                    value.push(self.peek()?);
                    self.at += 1;
                }
                byte => {
                    value.push(byte);
                    self.at += 1;
                }
            }
        }
    }
}

fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer(realm: &str, service: Option<&str>, scope: Option<&str>) -> Challenge {
        Challenge::Bearer {
            realm: realm.into(),
            service: service.map(Into::into),
            scope: scope.map(Into::into),
        }
    }

    #[test]
    fn reads_what_registries_send() {
        // The distribution registry with htpasswd.
        assert_eq!(
            parse_challenges(r#"Basic realm="catapult-test""#),
            [Challenge::Basic]
        );
        // Docker Hub.
        assert_eq!(
            parse_challenges(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#
            ),
            [bearer(
                "https://auth.docker.io/token",
                Some("registry.docker.io"),
                Some("repository:library/alpine:pull")
            )]
        );
        // GitHub's registry, spaces after the commas, and a scope with two actions.
        assert_eq!(
            parse_challenges(
                r#"Bearer realm="https://ghcr.io/token", service="ghcr.io", scope="repository:acme/app:pull,push""#
            ),
            [bearer(
                "https://ghcr.io/token",
                Some("ghcr.io"),
                Some("repository:acme/app:pull,push")
            )]
        );
        // ECR answers Basic; a realm without quotes, and the scheme in any case.
        assert_eq!(parse_challenges("basic realm=ecr"), [Challenge::Basic]);
        assert_eq!(
            parse_challenges(r#"BEARER realm="https://t.example/token""#),
            [bearer("https://t.example/token", None, None)]
        );
    }

    #[test]
    fn reads_several_challenges_and_escapes() {
        assert_eq!(
            parse_challenges(
                r#"Negotiate, Bearer realm="https://t.example/token?a=\"b\"",service=reg, Basic realm="x, y""#
            ),
            [
                Challenge::Other("Negotiate".into()),
                bearer("https://t.example/token?a=\"b\"", Some("reg"), None),
                Challenge::Basic,
            ]
        );
        assert_eq!(
            parse_challenges("Basic dXNlcjpwYXNz, Bearer realm=r"),
            [Challenge::Basic, bearer("r", None, None)]
        );
        assert_eq!(
            parse_challenges("Basic dXNlcg==, Bearer realm=r"),
            [Challenge::Basic, bearer("r", None, None)]
        );
    }

    #[test]
    fn leaves_out_what_cannot_be_read() {
        assert_eq!(parse_challenges(""), []);
        assert_eq!(parse_challenges("Bearer service=\"x\""), []);
        assert_eq!(parse_challenges("Bearer realm=\"cut short"), []);
        assert_eq!(parse_challenges("Bearer realm="), []);
        assert_eq!(parse_challenges("\u{7f}"), []);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(header in "\\PC{0,120}") {
            let _ = parse_challenges(&header);
        }
    }
}
