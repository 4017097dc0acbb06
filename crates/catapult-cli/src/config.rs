//! The command line's configuration: the older tool's `.catapult.toml`, read as is (every key
//! that tool reads, and its `CATAPULT_CONFIG_DOCKER_REPOSITORY`), plus this tool's optional keys,
//! and the environment variables people already set for the AWS SDK. It is parsed strictly (a
//! key nobody knows is an error naming it: a typo must never pass silently) into the core's
//! [`Layout`] and [`Connection`], the same typed inputs the Concourse resource builds from its
//! `source`.
//!
//! ```toml
//! [release]
//! s3_bucket = "acme-releases"
//! docker_repository = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"  # the older tool's
//! docker_image_prefix = "acme-"      # images at <docker_repository>/acme-<name>:ref-<sha>
//!
//! [deploy.staging]                 # deploys at the default layout: deploys/staging/<name>
//! [deploy.production]
//! s3_bucket = "acme-production"    # the older tool's layout: <name> in a bucket of its own
//! require_deployed_to = ["staging"]
//!
//! [s3]                             # optional: an S3-compatible store
//! endpoint = "https://minio.internal:9000"
//! region = "us-east-1"
//! path_style = true
//! ca_certs = ["/etc/ssl/private-ca.pem"]
//!
//! [registry]                       # optional: a registry behind a private CA
//! ca_certs = ["/etc/ssl/private-ca.pem"]
//!
//! [issue_tracker]                  # the older tool's; read, and kept as written
//! provider = "Shortcut"
//! [git]                            # the older tool's; its only provider
//! provider = "GitHub"
//!
//! [tickets]                        # optional: how tickets are found in commit messages
//! pattern = '\b(OPS-[0-9]+)\b'     # default: ABC-123, sc-123 and ch123
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use catapult_core::ops::tickets::TicketPattern;
use catapult_core::record::freeze::FreezeSpec;
use catapult_core::record::layout::NAME_PLACEHOLDER;
use catapult_core::record::layout::{GateSpec, parse_duration};
use catapult_core::record::{EnvironmentLayout, EnvironmentName, Layout};
use catapult_core::store::BucketName;
use catapult_core::store::location::{MAX_KEY_BYTES, check_text};
use catapult_core::store::s3::{Connection, DEFAULT_REGION, check_endpoint, check_region};
use serde::Deserialize;

use crate::error::{Failure, Result};

/// The file's name at the repository's root.
pub const FILE_NAME: &str = ".catapult.toml";

/// The file, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    release: Option<ReleaseSection>,
    /// Each environment, in the file's order (a table of tables).
    deploy: Option<toml::Table>,
    s3: Option<S3Section>,
    registry: Option<RegistrySection>,
    issue_tracker: Option<ProviderSection>,
    git: Option<ProviderSection>,
    tickets: Option<TicketsSection>,
}

/// `[tickets]`: how tickets are found in commit messages.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TicketsSection {
    /// A regex whose first group (or whole match) is a ticket.
    pattern: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseSection {
    /// The older tool requires it whenever a file exists; so does this one, unless
    /// `CATAPULT_BUCKET_RELEASES` names the bucket.
    s3_bucket: Option<String>,
    docker_repository: Option<String>,
    docker_image_prefix: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistrySection {
    #[serde(default)]
    ca_certs: Vec<String>,
}

/// `[issue_tracker]` and `[git]`: the older tool reads `provider` alone (its class name:
/// `Shortcut`, `GitHub`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSection {
    /// The provider's name, as the older tool spells it.
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "the older tool's key, read and kept; the ticket search reads commit messages, not a tracker"
        )
    )]
    pub provider: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeploySection {
    s3_bucket: Option<String>,
    deploy_key: Option<String>,
    #[serde(default)]
    require_deployed_to: Vec<GateEntry>,
    #[serde(default)]
    require_approval: bool,
    #[serde(default)]
    freeze: Vec<FreezeSpec>,
}

/// One environment of `require_deployed_to`: its name, or `{environment, for}` with a soak
/// time.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum GateEntry {
    Name(String),
    Soaked(SoakedGate),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SoakedGate {
    environment: String,
    #[serde(rename = "for")]
    soak: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct S3Section {
    endpoint: Option<String>,
    region: Option<String>,
    path_style: Option<bool>,
    #[serde(default)]
    ca_certs: Vec<String>,
}

/// What the configuration says: where records live and how to reach the store.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where every application's records live.
    pub layout: Layout,
    /// How to reach the store (credentials aside, which the caller adds).
    pub connection: Connection,
    /// Where the configuration came from, for messages.
    pub source: String,
    /// Whether the file or the environment named the region (else the profile's, if any, is
    /// used, and then the default).
    pub region_named: bool,
    /// Where release images are, for the older tool's lookup of a release's digest; `None`
    /// when neither the file nor `CATAPULT_CONFIG_DOCKER_REPOSITORY` names a repository.
    pub images: Option<ImageRepository>,
    /// PEM certificates to trust for the registry besides the system's (`[registry] ca_certs`).
    pub registry_ca_certs: Vec<String>,
    /// `[issue_tracker]`, as written: the ticket search's tracker.
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "the older tool's key, read and kept; the ticket search reads commit messages, not a tracker"
        )
    )]
    pub issue_tracker: Option<ProviderSection>,
    /// How tickets are found in commit messages (`[tickets] pattern`, else the default).
    pub tickets: TicketPattern,
    /// `[git]`, as written: the git host, for the ticket search.
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "the older tool's key, read and kept; the ticket search reads commit messages, not a tracker"
        )
    )]
    pub git: Option<ProviderSection>,
}

/// Where a release's image is looked up when none is given: the older tool's
/// `<docker_repository>/<docker_image_prefix><name>:ref-<commit sha>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRepository {
    /// `[release] docker_repository` (or `CATAPULT_CONFIG_DOCKER_REPOSITORY`): a registry and a
    /// path, such as `123456789012.dkr.ecr.eu-west-1.amazonaws.com` or `ghcr.io/acme`; checked
    /// when a release looks an image up.
    pub repository: String,
    /// `[release] docker_image_prefix`, put before the application's name (default: none).
    pub prefix: String,
}

/// The older tool's override of `[release] docker_repository`.
pub const DOCKER_REPOSITORY_VARIABLE: &str = "CATAPULT_CONFIG_DOCKER_REPOSITORY";

/// The process environment, read through a function so that tests can give their own.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Reads the configuration: `explicit` (`--config`), else `.catapult.toml` at `root` (the
/// repository's root), else `$CATAPULT_BUCKET_RELEASES`.
pub fn load(explicit: Option<&Path>, root: Option<&Path>, env: Env<'_>) -> Result<Config> {
    let from_root = root.map(|root| root.join(FILE_NAME));
    let path = match (explicit, &from_root) {
        (Some(path), _) => Some(path.to_path_buf()),
        (None, Some(path)) if path.is_file() => Some(path.clone()),
        _ => None,
    };
    let (file, source, base) = match &path {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|err| {
                Failure::new(format!(
                    "cannot read the configuration {}: {err}",
                    path.display()
                ))
            })?;
            let file = parse(&text).map_err(|reason| {
                Failure::new(format!(
                    "invalid configuration {}: {reason}",
                    path.display()
                ))
            })?;
            let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
            (file, path.display().to_string(), base)
        }
        None => (
            File::default(),
            "the environment".to_owned(),
            PathBuf::new(),
        ),
    };
    // Where a file was looked for and not found, for the message when nothing names a bucket.
    let looked_at = if path.is_none() {
        from_root.as_deref()
    } else {
        None
    };
    resolve(file, source, &base, env, looked_at)
}

/// The file's text, parsed strictly; the error names the key or value at fault.
fn parse(text: &str) -> std::result::Result<File, String> {
    let file: File = toml::from_str(text).map_err(|err| one_line(&err.to_string()))?;
    if let Some(deploy) = &file.deploy {
        for (name, section) in deploy {
            if !section.is_table() {
                return Err(format!("[deploy.{name}] must be a table"));
            }
        }
    }
    Ok(file)
}

/// A TOML error on one line: its message, without the quoted source lines.
fn one_line(text: &str) -> String {
    let mut lines = text.lines().filter(|line| !line.trim().is_empty());
    let first = lines.next().unwrap_or_default().trim().to_owned();
    let message = text
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty() && !line.contains('|') && !line.contains('^'))
        .unwrap_or_default()
        .trim()
        .to_owned();
    if message.is_empty() || message == first {
        first
    } else {
        format!("{message} ({first})")
    }
}

fn resolve(
    file: File,
    source: String,
    base: &Path,
    env: Env<'_>,
    looked_at: Option<&Path>,
) -> Result<Config> {
    let release = file.release.unwrap_or_default();
    let images = env(DOCKER_REPOSITORY_VARIABLE)
        .or(release.docker_repository)
        .map(|repository| repository.trim().to_owned())
        .filter(|repository| !repository.is_empty())
        .map(|repository| ImageRepository {
            repository,
            prefix: release.docker_image_prefix.unwrap_or_default(),
        });
    let releases_bucket = match release.s3_bucket {
        Some(bucket) => bucket,
        None => env("CATAPULT_BUCKET_RELEASES")
            .filter(|bucket| !bucket.trim().is_empty())
            .ok_or_else(|| {
                let looked = looked_at
                    .map(|path| format!("{} does not exist, and ", path.display()))
                    .unwrap_or_default();
                Failure::new(format!(
                    "no release bucket: {looked}[release] s3_bucket is not set; write it in {FILE_NAME} at the repository's root, or set CATAPULT_BUCKET_RELEASES"
                ))
            })?,
    };
    let releases_bucket = bucket("[release] s3_bucket", &releases_bucket)?;
    let mut environments = Vec::new();
    for (name, section) in file.deploy.unwrap_or_default() {
        let section: DeploySection = section.try_into().map_err(|err: toml::de::Error| {
            Failure::new(format!(
                "invalid configuration {source}: [deploy.{name}]: {}",
                one_line(&err.to_string())
            ))
        })?;
        let name = environment(&format!("[deploy.{name}]"), &name)?;
        let deploy_bucket = section
            .s3_bucket
            .as_deref()
            .map(|value| bucket(&format!("[deploy.{name}] s3_bucket"), value))
            .transpose()?;
        if let Some(key) = &section.deploy_key {
            check_text(&format!("[deploy.{name}] deploy_key"), key, MAX_KEY_BYTES)
                .map_err(Failure::new)?;
            if !key.contains(NAME_PLACEHOLDER) {
                return Err(Failure::new(format!(
                    "invalid configuration {source}: [deploy.{name}] deploy_key {key:?} must hold {NAME_PLACEHOLDER}, which stands for each application's name"
                )));
            }
        }
        let field = format!("[deploy.{name}] require_deployed_to");
        let require_deployed_to = section
            .require_deployed_to
            .iter()
            .map(|gate| {
                Ok(match gate {
                    GateEntry::Name(gate) => GateSpec {
                        environment: environment(&field, gate)?,
                        soak: None,
                    },
                    GateEntry::Soaked(gate) => GateSpec {
                        environment: environment(&field, &gate.environment)?,
                        soak: gate
                            .soak
                            .as_deref()
                            .map(|soak| parse_duration(&format!("{field} for"), soak))
                            .transpose()
                            .map_err(Failure::new)?,
                    },
                })
            })
            .collect::<Result<_>>()?;
        let freeze = section
            .freeze
            .iter()
            .enumerate()
            .map(|(index, spec)| spec.window(&format!("[deploy.{name}] freeze[{index}]")))
            .collect::<std::result::Result<_, _>>()
            .map_err(|reason| Failure::new(format!("invalid configuration {source}: {reason}")))?;
        environments.push(EnvironmentLayout {
            name,
            deploy_bucket,
            deploy_key: section.deploy_key,
            require_deployed_to,
            require_approval: section.require_approval,
            freeze,
        });
    }
    let known: BTreeSet<&str> = environments.iter().map(|env| env.name.as_str()).collect();
    for environment in &environments {
        for gate in &environment.require_deployed_to {
            let gate = &gate.environment;
            if !known.contains(gate.as_str()) {
                return Err(Failure::new(format!(
                    "invalid configuration {source}: [deploy.{}] require_deployed_to names {:?}, which has no [deploy.{gate}]",
                    environment.name,
                    gate.as_str()
                )));
            }
        }
    }

    let s3 = file.s3.unwrap_or_default();
    let endpoint = s3
        .endpoint
        .or_else(|| env("AWS_ENDPOINT_URL_S3"))
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .filter(|endpoint| !endpoint.trim().is_empty());
    if let Some(endpoint) = &endpoint {
        check_endpoint(
            "the S3 endpoint ([s3] endpoint, AWS_ENDPOINT_URL_S3)",
            endpoint,
        )
        .map_err(Failure::new)?;
    }
    let named_region = s3
        .region
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .filter(|region| !region.trim().is_empty());
    let region_named = named_region.is_some();
    let region = named_region.unwrap_or_else(|| DEFAULT_REGION.to_owned());
    check_region("the region ([s3] region, AWS_REGION)", &region).map_err(Failure::new)?;
    let ca_certs = read_certificates("[s3] ca_certs", s3.ca_certs, base)?;
    let registry_ca_certs = read_certificates(
        "[registry] ca_certs",
        file.registry.unwrap_or_default().ca_certs,
        base,
    )?;
    let path_style = s3.path_style.unwrap_or(endpoint.is_some());
    let tickets = match file.tickets.and_then(|tickets| tickets.pattern) {
        Some(pattern) => TicketPattern::new(&pattern)
            .map_err(|reason| Failure::new(format!("{source}: [tickets] pattern: {reason}")))?,
        None => TicketPattern::default(),
    };
    Ok(Config {
        layout: Layout {
            releases_bucket,
            environments,
        },
        connection: Connection {
            region,
            endpoint,
            path_style,
            credentials: None,
            role_arn: None,
            ca_certs,
            profile: None,
        },
        source,
        region_named,
        images,
        registry_ca_certs,
        issue_tracker: file.issue_tracker,
        tickets,
        git: file.git,
    })
}

/// The directory of Docker's client configuration, where its `config.json` keeps registry
/// credentials: `$DOCKER_CONFIG`, else `~/.docker`.
pub fn docker_config_dir(env: Env<'_>) -> Option<PathBuf> {
    env("DOCKER_CONFIG")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            env("HOME")
                .filter(|home| !home.is_empty())
                .map(|home| Path::new(&home).join(".docker"))
        })
}

/// Each entry of `field`: PEM text as is, or a file (relative to the configuration's directory)
/// read into PEM text.
fn read_certificates(field: &str, entries: Vec<String>, base: &Path) -> Result<Vec<String>> {
    entries
        .into_iter()
        .map(|entry| {
            if entry.contains("-----BEGIN") {
                return Ok(entry);
            }
            let path = base.join(&entry);
            std::fs::read_to_string(&path).map_err(|err| {
                Failure::new(format!("{field}: cannot read {}: {err}", path.display()))
            })
        })
        .collect()
}

/// A bucket's name written as `field`.
fn bucket(field: &str, name: &str) -> Result<BucketName> {
    BucketName::parse(field, name).map_err(Failure::new)
}

/// An environment's name written as `field`, checked as the resource checks `environment`.
fn environment(field: &str, name: &str) -> Result<EnvironmentName> {
    EnvironmentName::parse(field, name).map_err(Failure::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn load_text(text: &str) -> Result<Config> {
        let file = parse(text).map_err(Failure::new)?;
        resolve(file, "test".into(), Path::new("."), &no_env, None)
    }

    #[test]
    fn reads_the_older_tools_file_as_is() {
        let config = load_text(
            "[release]\ns3_bucket = \"rel\"\n[deploy.staging]\ns3_bucket = \"stg\"\n[deploy.production]\ns3_bucket = \"prd\"\n",
        )
        .unwrap();
        assert_eq!(config.layout.releases_bucket, "rel");
        let names: Vec<_> = config
            .layout
            .environments
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(names, ["staging", "production"]);
        let app = config
            .layout
            .app(&catapult_core::record::AppName::parse("name", "api").unwrap());
        assert_eq!(
            config
                .layout
                .place(&app, &environment("env", "production").unwrap())
                .unwrap()
                .deploys
                .to_string(),
            "s3://prd/api"
        );
        assert_eq!(config.connection.region, "us-east-1");
        assert!(!config.connection.path_style);
    }

    /// The older tool's file with every key that tool reads (its repository holds no example:
    /// each key is one its code reads).
    const OLDER_TOOLS_FILE: &str = r#"
[release]
s3_bucket = "acme-catapult-releases"
docker_repository = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
docker_image_prefix = "acme-"

[deploy.staging]
s3_bucket = "acme-catapult-deploys-staging"

[deploy.production]
s3_bucket = "acme-catapult-deploys-production"

[issue_tracker]
provider = "Shortcut"

[git]
provider = "GitHub"
"#;

    #[test]
    fn reads_every_key_the_older_tool_reads() {
        let config = load_text(OLDER_TOOLS_FILE).unwrap();
        assert_eq!(config.layout.releases_bucket, "acme-catapult-releases");
        assert_eq!(
            config.images,
            Some(ImageRepository {
                repository: "123456789012.dkr.ecr.eu-west-1.amazonaws.com".into(),
                prefix: "acme-".into(),
            })
        );
        assert_eq!(
            config.issue_tracker.unwrap().provider.as_deref(),
            Some("Shortcut")
        );
        assert_eq!(config.git.unwrap().provider.as_deref(), Some("GitHub"));
        assert_eq!(config.layout.environments.len(), 2);
    }

    #[test]
    fn the_older_tools_variable_overrides_the_docker_repository() {
        let env = |name: &str| {
            (name == DOCKER_REPOSITORY_VARIABLE).then(|| "127.0.0.1:5000/mirror".to_owned())
        };
        let file = parse(OLDER_TOOLS_FILE).unwrap();
        let config = resolve(file, "test".into(), Path::new("."), &env, None).unwrap();
        let images = config.images.unwrap();
        assert_eq!(images.repository, "127.0.0.1:5000/mirror");
        assert_eq!(images.prefix, "acme-");
        // It also gives a repository to a file that has none.
        let file = parse("[release]\ns3_bucket = \"r\"\n").unwrap();
        let config = resolve(file, "test".into(), Path::new("."), &env, None).unwrap();
        assert_eq!(config.images.unwrap().prefix, "");
        // Without either, no image is looked up.
        let config =
            load_text("[release]\ns3_bucket = \"r\"\ndocker_image_prefix = \"x-\"\n").unwrap();
        assert_eq!(config.images, None);
    }

    #[test]
    fn the_older_tools_tables_are_strict_too() {
        let err =
            load_text("[release]\ns3_bucket = \"r\"\n[issue_tracker]\nprovdier = \"Shortcut\"\n")
                .unwrap_err();
        assert!(err.to_string().contains("provdier"), "{err}");
        let err = load_text("[release]\ns3_bucket = \"r\"\ndocker_repo = \"x\"\n").unwrap_err();
        assert!(err.to_string().contains("docker_repo"), "{err}");
        let err = load_text("[release]\ns3_bucket = \"r\"\n[jira]\nurl = \"x\"\n").unwrap_err();
        assert!(err.to_string().contains("jira"), "{err}");
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_it() {
        let err = load_text("[release]\ns3_bucket = \"rel\"\ns3_buckett = \"x\"\n").unwrap_err();
        assert!(err.to_string().contains("s3_buckett"), "{err}");
        let err =
            load_text("[release]\ns3_bucket = \"r\"\n[deploy.qa]\nbucket = \"x\"\n").unwrap_err();
        assert!(err.to_string().contains("bucket"), "{err}");
        let err = load_text("[release]\ns3_bucket = \"r\"\n[s3]\nendpiont = \"x\"\n").unwrap_err();
        assert!(err.to_string().contains("endpiont"), "{err}");
    }

    #[test]
    fn the_store_is_checked_as_the_resource_checks_its_source() {
        let err = load_text("[release]\ns3_bucket = \"r\"\n[s3]\nendpoint = \"minio:9000\"\n")
            .unwrap_err();
        assert!(err.to_string().contains("not a URL"), "{err}");
        let err =
            load_text("[release]\ns3_bucket = \"r\"\n[s3]\nregion = \"EU West\"\n").unwrap_err();
        assert!(err.to_string().contains("not a region"), "{err}");
        let err = load_text("[release]\ns3_bucket = \"r\\n\"\n").unwrap_err();
        assert!(err.to_string().contains("s3_bucket"), "{err}");
    }

    #[test]
    fn a_gate_must_name_a_configured_environment() {
        let err = load_text(
            "[release]\ns3_bucket = \"r\"\n[deploy.production]\nrequire_deployed_to = [\"stagin\"]\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("stagin"), "{err}");
    }

    #[test]
    fn the_environment_names_the_bucket_and_the_store() {
        let env = |name: &str| match name {
            "CATAPULT_BUCKET_RELEASES" => Some("rel".to_owned()),
            "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:9000".to_owned()),
            "AWS_REGION" => Some("eu-west-2".to_owned()),
            _ => None,
        };
        let config = resolve(File::default(), "env".into(), Path::new("."), &env, None).unwrap();
        assert_eq!(config.layout.releases_bucket, "rel");
        assert_eq!(
            config.connection.endpoint.as_deref(),
            Some("http://127.0.0.1:9000")
        );
        assert_eq!(config.connection.region, "eu-west-2");
        assert!(config.connection.path_style);
        let err =
            resolve(File::default(), "env".into(), Path::new("."), &no_env, None).unwrap_err();
        assert!(
            err.to_string().contains("CATAPULT_BUCKET_RELEASES"),
            "{err}"
        );
    }
}
