//! An image reference (`registry/repository:tag`) as a type that can only hold a valid one: the
//! grammar of the distribution project's `reference` package (the one `docker pull` parses),
//! Docker Hub's short names made whole, and whether the registry is spoken to over plain HTTP.
//! Everything past the parser takes an [`ImageReference`] and never checks it again.

use std::fmt;
use std::net::IpAddr;

use super::error::RegistryError;

/// The registry a reference without one names: Docker Hub.
const DOCKER_HUB: &str = "docker.io";
/// Where Docker Hub's registry API answers.
const DOCKER_HUB_API: &str = "registry-1.docker.io";
/// The longest repository name, registry included, the grammar allows.
const MAX_NAME_BYTES: usize = 255;
/// The longest tag.
const MAX_TAG_BYTES: usize = 128;

/// How to speak to a registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// TLS, always, unless one of the two cases of [`Scheme::Http`].
    Https,
    /// Plain HTTP: a registry on a loopback address (`localhost`, `127.0.0.0/8`, `::1`), or one
    /// written with an explicit `http://`.
    Http,
}

/// A valid image reference with a tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageReference {
    scheme: Scheme,
    explicit_scheme: bool,
    registry: String,
    repository: String,
    tag: String,
}

impl ImageReference {
    /// Parses `text`: `[http://|https://]registry[:port]/path:tag`, or a Docker Hub name
    /// (`acme/app:tag`, `app:tag`). A digest (`@sha256:…`) and a missing tag are refused: a
    /// release's image is looked up by its tag.
    pub fn parse(text: &str) -> Result<Self, RegistryError> {
        let invalid = |reason: String| RegistryError::InvalidReference {
            reference: text.to_owned(),
            reason,
        };
        if text.is_empty() || text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(invalid(
                "it is empty or holds spaces or control characters".into(),
            ));
        }
        let (explicit, rest) = if let Some(rest) = text.strip_prefix("https://") {
            (Some(Scheme::Https), rest)
        } else if let Some(rest) = text.strip_prefix("http://") {
            (Some(Scheme::Http), rest)
        } else if text.contains("://") {
            return Err(invalid("its scheme is neither http:// nor https://".into()));
        } else {
            (None, text)
        };
        if rest.contains('@') {
            return Err(invalid(
                "it names a digest: catapult looks an image up by its tag".into(),
            ));
        }
        // The tag follows the last colon that comes after the last slash (a colon before it is
        // the registry's port).
        let last_slash = rest.rfind('/').map_or(0, |index| index + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(colon) => (&rest[..last_slash + colon], &rest[last_slash + colon + 1..]),
            None => return Err(invalid("it has no tag".into())),
        };
        check_tag(tag).map_err(invalid)?;
        let (registry, repository) = split_registry(name);
        if explicit.is_some() && registry.is_none() {
            return Err(invalid(format!(
                "{} needs a registry's host after it",
                if explicit == Some(Scheme::Http) {
                    "http://"
                } else {
                    "https://"
                }
            )));
        }
        let registry = match registry {
            Some(registry) => {
                check_registry(registry).map_err(invalid)?;
                registry.to_owned()
            }
            None => DOCKER_HUB.to_owned(),
        };
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository.to_owned()
        };
        check_repository(&repository).map_err(invalid)?;
        if registry.len() + 1 + repository.len() > MAX_NAME_BYTES {
            return Err(invalid(format!(
                "its name is longer than {MAX_NAME_BYTES} characters"
            )));
        }
        let scheme = explicit.unwrap_or(if is_loopback(&registry) {
            Scheme::Http
        } else {
            Scheme::Https
        });
        Ok(ImageReference {
            scheme,
            explicit_scheme: explicit.is_some(),
            registry,
            repository,
            tag: tag.to_owned(),
        })
    }

    /// The registry as written: `host[:port]`, `docker.io` for Docker Hub.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository in the registry: `acme/app`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// How to speak to the registry.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host (and port) the registry's API answers at.
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// The URL of the tag's manifest: `https://host/v2/<repository>/manifests/<tag>`.
    pub fn manifest_url(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Https => "https",
            Scheme::Http => "http",
        };
        format!(
            "{scheme}://{}/v2/{}/manifests/{}",
            self.api_host(),
            self.repository,
            self.tag
        )
    }

    /// The names under which Docker's `config.json` may hold this registry's credentials, most
    /// specific first: the host as written, and for Docker Hub the key `docker login` writes.
    pub fn credential_keys(&self) -> Vec<&str> {
        if self.registry == DOCKER_HUB {
            vec!["https://index.docker.io/v1/", "index.docker.io", DOCKER_HUB]
        } else {
            vec![self.registry.as_str()]
        }
    }
}

impl fmt::Display for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.explicit_scheme {
            f.write_str(match self.scheme {
                Scheme::Https => "https://",
                Scheme::Http => "http://",
            })?;
        }
        write!(f, "{}/{}:{}", self.registry, self.repository, self.tag)
    }
}

/// The registry of `name`, if its first component is one (it holds a `.` or a `:`, or is
/// `localhost`, or has an uppercase letter, as Docker decides), and the repository.
fn split_registry(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase())
                || first.starts_with('[') =>
        {
            let registry = if first == "index.docker.io" {
                DOCKER_HUB
            } else {
                first
            };
            (Some(registry), rest)
        }
        _ => (None, name),
    }
}

/// `host[:port]`: DNS labels of letters, digits and inner dashes, an IPv4 address, or an IPv6
/// address in brackets.
fn check_registry(registry: &str) -> Result<(), String> {
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        let (address, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("its registry {registry:?} opens a bracket it never closes"))?;
        if address.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!(
                "its registry {registry:?} is not an IPv6 address in brackets"
            ));
        }
        match after {
            "" => (registry, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (&registry[..registry.len() - after.len()], Some(port)),
                None => return Err(format!("its registry {registry:?} is not host[:port]")),
            },
        }
    } else {
        match registry.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (registry, None),
        }
    };
    if let Some(port) = port {
        if port.is_empty()
            || !port.bytes().all(|b| b.is_ascii_digit())
            || port.parse::<u16>().is_err()
        {
            return Err(format!("its registry's port {port:?} is not a port number"));
        }
    }
    if host.starts_with('[') {
        return Ok(());
    }
    let valid_label = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if !host.split('.').all(valid_label) {
        return Err(format!(
            "its registry {registry:?} is not a host name (letters, digits, dots and dashes), with an optional :port"
        ));
    }
    Ok(())
}

/// Path components of lowercase letters and digits, joined by `.`, `_`, `__` or dashes, and
/// separated by `/`.
fn check_repository(repository: &str) -> Result<(), String> {
    if repository.is_empty() {
        return Err("it names no repository".into());
    }
    for component in repository.split('/') {
        if !valid_path_component(component) {
            return Err(format!(
                "its repository path component {component:?} is not lowercase letters and digits joined by '.', '_', '__' or '-'"
            ));
        }
    }
    Ok(())
}

fn valid_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alphanumeric = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alphanumeric(bytes[0]) || !alphanumeric(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut index = 0;
    while index < bytes.len() {
        if alphanumeric(bytes[index]) {
            index += 1;
            continue;
        }
        // A separator: '.', '_', '__', or one dash or more; then an alphanumeric.
        let start = index;
        match bytes[index] {
            b'.' => index += 1,
            b'_' => {
                index += 1;
                if bytes.get(index) == Some(&b'_') {
                    index += 1;
                }
            }
            b'-' => {
                while bytes.get(index) == Some(&b'-') {
                    index += 1;
                }
            }
            _ => return false,
        }
        if index == start || !bytes.get(index).copied().is_some_and(alphanumeric) {
            return false;
        }
    }
    true
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn check_tag(tag: &str) -> Result<(), String> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = tag.as_bytes();
    if bytes.is_empty()
        || bytes.len() > MAX_TAG_BYTES
        || !word(bytes[0])
        || !bytes.iter().all(|&b| word(b) || b == b'.' || b == b'-')
    {
        return Err(format!(
            "its tag {tag:?} is not letters, digits, '_', '.' and '-' (at most {MAX_TAG_BYTES}, not starting with '.' or '-')"
        ));
    }
    Ok(())
}

/// Whether `registry` (`host[:port]`) is on this machine: `localhost`, an address of
/// `127.0.0.0/8`, or `::1`.
fn is_loopback(registry: &str) -> bool {
    let host = match registry.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => registry.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "42182bb85bebe8d7f1ee515c13517be0dee8ada3";

    fn parse(text: &str) -> ImageReference {
        ImageReference::parse(text).unwrap_or_else(|err| panic!("{text}: {err}"))
    }

    fn reason(text: &str) -> String {
        match ImageReference::parse(text) {
            Err(RegistryError::InvalidReference { reference, reason }) => {
                assert_eq!(reference, text);
                reason
            }
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn parses_the_older_tools_references() {
        let ecr = parse(&format!(
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme-api:ref-{SHA}"
        ));
        assert_eq!(
            ecr.registry(),
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
        );
        assert_eq!(ecr.repository(), "acme-api");
        assert_eq!(ecr.tag(), format!("ref-{SHA}"));
        assert_eq!(ecr.scheme(), Scheme::Https);
        assert_eq!(
            ecr.manifest_url(),
            format!(
                "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/acme-api/manifests/ref-{SHA}"
            )
        );
        assert_eq!(
            ecr.to_string(),
            format!("{}/acme-api:ref-{SHA}", ecr.registry())
        );
        let ghcr = parse("ghcr.io/acme/team/api:ref-1");
        assert_eq!(
            (ghcr.registry(), ghcr.repository()),
            ("ghcr.io", "acme/team/api")
        );
    }

    #[test]
    fn docker_hub_names_are_made_whole() {
        let short = parse("app:v1");
        assert_eq!(
            (short.registry(), short.repository()),
            ("docker.io", "library/app")
        );
        assert_eq!(short.api_host(), "registry-1.docker.io");
        assert_eq!(short.to_string(), "docker.io/library/app:v1");
        let org = parse("acme/app:v1");
        assert_eq!(
            (org.registry(), org.repository()),
            ("docker.io", "acme/app")
        );
        let index = parse("index.docker.io/acme/app:v1");
        assert_eq!(index.registry(), "docker.io");
        assert_eq!(
            org.credential_keys(),
            [
                "https://index.docker.io/v1/",
                "index.docker.io",
                "docker.io"
            ]
        );
    }

    #[test]
    fn plain_http_only_on_loopback_or_when_written() {
        for loopback in [
            "127.0.0.1:5000/app:t",
            "127.1.2.3/app:t",
            "localhost:5000/app:t",
            "localhost/app:t",
            "[::1]:5000/app:t",
        ] {
            assert_eq!(parse(loopback).scheme(), Scheme::Http, "{loopback}");
        }
        for remote in [
            "10.0.0.1:5000/app:t",
            "registry.internal/app:t",
            "[2001:db8::1]/app:t",
        ] {
            assert_eq!(parse(remote).scheme(), Scheme::Https, "{remote}");
        }
        let written = parse("http://registry.internal:5000/app:t");
        assert_eq!(written.scheme(), Scheme::Http);
        assert_eq!(
            written.manifest_url(),
            "http://registry.internal:5000/v2/app/manifests/t"
        );
        assert_eq!(written.to_string(), "http://registry.internal:5000/app:t");
        let forced = parse("https://127.0.0.1:5000/app:t");
        assert_eq!(forced.scheme(), Scheme::Https);
        assert_eq!(parse("[::1]:5000/app:t").api_host(), "[::1]:5000");
    }

    #[test]
    fn refuses_what_is_not_a_reference() {
        for (text, why) in [
            ("", "empty"),
            ("registry.example.com/app", "no tag"),
            ("registry.example.com/App:t", "\"App\""),
            ("registry.example.com/app:-t", "tag"),
            ("registry.example.com//app:t", "\"\""),
            ("registry.example.com/app-:t", "\"app-\""),
            ("registry.example.com/a..b:t", "\"a..b\""),
            ("registry.example.com/a___b:t", "\"a___b\""),
            ("registry example.com/app:t", "spaces"),
            ("reg_istry.example.com/app:t", "host name"),
            ("registry.example.com:port/app:t", "port"),
            ("registry.example.com:99999/app:t", "port"),
            ("registry.example.com/app@sha256:abc", "digest"),
            ("ftp://registry.example.com/app:t", "scheme"),
            ("http://app:t", "registry's host"),
            ("[::1/app:t", "bracket"),
            ("registry.example.com/app:t\n", "control"),
        ] {
            let reason = reason(text);
            assert!(reason.contains(why), "{text:?}: {reason}");
        }
        let long = format!("registry.example.com/{}:t", "a".repeat(300));
        assert!(reason(&long).contains("longer than 255"));
        let long_tag = format!("registry.example.com/app:{}", "t".repeat(129));
        assert!(reason(&long_tag).contains("tag"));
    }

    #[test]
    fn path_components_follow_the_grammar() {
        for valid in ["a", "a1", "a.b", "a_b", "a__b", "a-b", "a---b", "a.b-c_d"] {
            assert!(valid_path_component(valid), "{valid}");
        }
        for invalid in [
            "", "-a", "a-", ".a", "a.", "a..b", "a___b", "a._b", "A", "a b", "a/b",
        ] {
            assert!(!valid_path_component(invalid), "{invalid}");
        }
    }

    proptest::proptest! {
        /// Whatever the text, parsing ends in a reference or an error naming the text, and a
        /// reference shows as text that parses to itself.
        #[test]
        fn parsing_never_panics_and_round_trips(text in "\\PC{0,80}") {
            if let Ok(reference) = ImageReference::parse(&text) {
                let again = ImageReference::parse(&reference.to_string()).unwrap();
                proptest::prop_assert_eq!(again, reference);
            }
        }

        #[test]
        fn references_made_of_valid_parts_parse(
            host in "[a-z][a-z0-9]{0,10}(\\.[a-z][a-z0-9]{0,10}){1,3}",
            port in proptest::option::of(1u16..),
            path in "[a-z0-9]{1,8}((\\.|_|__|-+)[a-z0-9]{1,8}){0,2}(/[a-z0-9]{1,8}){0,2}",
            tag in "[A-Za-z0-9_][A-Za-z0-9_.-]{0,40}",
        ) {
            let registry = match port {
                Some(port) => format!("{host}:{port}"),
                None => host,
            };
            let reference = parse(&format!("{registry}/{path}:{tag}"));
            proptest::prop_assert_eq!(reference.registry(), registry.as_str());
            proptest::prop_assert_eq!(reference.repository(), path.as_str());
            proptest::prop_assert_eq!(reference.tag(), tag.as_str());
        }
    }
}
