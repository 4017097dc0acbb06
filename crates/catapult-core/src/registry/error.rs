//! What looking an image up in a registry can fail with, each message naming the image
//! reference (or the registry and where its credentials came from) and never a secret.

/// A failed lookup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The text is not an image reference.
    #[error("{reference:?} is not an image reference: {reason}")]
    InvalidReference {
        /// The text as given.
        reference: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The registry has no manifest under the tag.
    #[error("image {reference} does not exist: its registry answered 404 Not Found for the tag")]
    NotFound {
        /// The image.
        reference: String,
    },

    /// The registry wants credentials, and none were found.
    #[error(
        "the registry {registry} asks for credentials for {reference} (401 Unauthorized) and none are at hand: log in with `docker login {registry}` (catapult reads Docker's config.json: credHelpers, credsStore, auths)"
    )]
    NoCredentials {
        /// The image.
        reference: String,
        /// The registry.
        registry: String,
    },

    /// The registry refused the credentials given (401 again), or their access (403).
    #[error("the registry {registry} refused access to {reference} {how} ({status})")]
    Refused {
        /// The image.
        reference: String,
        /// The registry.
        registry: String,
        /// `with the credentials from …`, or `without credentials`.
        how: String,
        /// `401 Unauthorized`, `403 Forbidden`.
        status: String,
    },

    /// The token endpoint of a Bearer challenge did not give a token.
    #[error("cannot get a token for {reference} from {realm}: {reason}")]
    Token {
        /// The image.
        reference: String,
        /// The token endpoint.
        realm: String,
        /// What it answered.
        reason: String,
    },

    /// Docker's configuration, or a credential helper it names, could not give credentials.
    #[error("cannot get the credentials for {registry} from {from}: {reason}")]
    Credentials {
        /// The registry.
        registry: String,
        /// The file or helper.
        from: String,
        /// Why.
        reason: String,
    },

    /// Docker's configuration names a credential helper that is not on `PATH`.
    #[error(
        "cannot get the credentials for {registry}: Docker's config.json names the credential helper {program}, which is not on PATH"
    )]
    HelperMissing {
        /// The registry.
        registry: String,
        /// The helper's program.
        program: String,
    },

    /// No answer: the connection was refused or reset, the name did not resolve, TLS failed.
    #[error("cannot reach the registry of {reference} at {url}: {cause}")]
    Unreachable {
        /// The image.
        reference: String,
        /// What was asked.
        url: String,
        /// Why, in a phrase.
        cause: String,
    },

    /// The registry did not answer in time.
    #[error("no answer from the registry of {reference} within {seconds} s: gave up")]
    NoAnswer {
        /// The image.
        reference: String,
        /// The bound.
        seconds: u64,
    },

    /// The registry answered something else than a manifest's digest.
    #[error("the registry of {reference} answered {answer}")]
    Unexpected {
        /// The image.
        reference: String,
        /// What it answered, in a phrase.
        answer: String,
    },

    /// The TLS settings cannot work: a certificate that is not PEM.
    #[error("cannot set up TLS for registries: {0}")]
    Tls(String),
}
