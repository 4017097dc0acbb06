//! `catapult release` looking a release's image up as the older tool did, against real
//! registries (Debian's `docker-registry`, which `ci/test` starts: one open, one with htpasswd
//! Basic authentication): the digest of `<docker_repository>/<docker_image_prefix><name>:ref-<full
//! commit sha>`, pushed by the test through the registry's own API, with the credentials of
//! Docker's `config.json` (`auths`, `credHelpers`); and every way it can fail, each one line
//! naming the image reference, with nothing written.

use std::io::Read;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use catapult_test::cli::{Bucket, RecordOut, Row, Workspace, failure, success};
use catapult_test::registry::{self, push, unique_repository};

/// A workspace whose `.catapult.toml` is the older tool's: releases looked up in
/// `<registry>/<repository>` with the prefix `acme-`.
fn workspace(releases: &Bucket, registry: &str, repository: &str) -> Workspace {
    Workspace::new(&format!(
        "[release]\ns3_bucket = \"{}\"\ndocker_repository = \"{registry}/{repository}\"\ndocker_image_prefix = \"acme-\"\n",
        releases.name
    ))
}

/// `auth` for a `config.json`: base64 of `user:password`.
fn docker_auth(user: &str, password: &str) -> String {
    use std::fmt::Write;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = format!("{user}:{password}").into_bytes();
    let mut text = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                let _ = text.write_char(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                text.push('=');
            }
        }
    }
    text
}

fn write_docker_config(dir: &Path, json: &serde_json::Value) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("config.json"), json.to_string()).unwrap();
}

#[test]
fn the_digest_comes_from_the_registry_under_the_commits_tag() {
    let releases = Bucket::named("rel");
    let registry = registry::open();
    let repository = unique_repository("acme");
    let mut w = workspace(&releases, &registry, &repository);
    let sha = w.commit("First feature");
    let pushed = push(
        &registry,
        None,
        &format!("{repository}/acme-api"),
        &format!("ref-{sha}"),
        false,
    );
    assert_eq!(
        pushed.media_type,
        "application/vnd.oci.image.manifest.v1+json"
    );

    let output = w.catapult(&["release", "api", "--yes"]);
    let record: RecordOut = success(&output);
    assert_eq!(record.image.as_deref(), Some(pushed.digest.as_str()));
    assert_eq!(record.commit, sha);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{registry}/{repository}/acme-api:ref-{sha}")),
        "the reference looked up is said: {stderr}"
    );

    // --image-name replaces the prefix and the name, as in the older tool.
    w.commit("Second feature");
    let sha = w.git(&["rev-parse", "HEAD"]);
    let other = push(
        &registry,
        None,
        &format!("{repository}/api-server"),
        &format!("ref-{sha}"),
        false,
    );
    let record: RecordOut = success(&w.catapult(&["release", "api", "--image-name", "api-server"]));
    assert_eq!(record.image.as_deref(), Some(other.digest.as_str()));
    assert_ne!(other.digest, pushed.digest);

    // --image-id (the older tool's) gives it; --no-image and --no-has-image look nothing up.
    w.commit("Third feature");
    let given = format!("sha256:{}", "c".repeat(64));
    let record: RecordOut = success(&w.catapult(&["release", "api", "--image-id", &given]));
    assert_eq!(record.image.as_deref(), Some(given.as_str()));
    w.commit("Fourth feature");
    let record: RecordOut = success(&w.catapult(&["release", "api", "--no-has-image", "--dry"]));
    assert_eq!((record.image, record.version_id), (None, None));
    let record: RecordOut = success(&w.catapult(&["release", "api", "--no-image"]));
    assert_eq!((record.image, record.version), (None, 4));
}

#[test]
fn a_multi_platform_image_gives_its_indexs_own_digest() {
    let releases = Bucket::named("rel");
    let registry = registry::open();
    let repository = unique_repository("acme");
    let mut w = workspace(&releases, &registry, &repository);
    let sha = w.commit("Multi-platform");
    let pushed = push(
        &registry,
        None,
        &format!("{repository}/acme-api"),
        &format!("ref-{sha}"),
        true,
    );
    assert_eq!(pushed.media_type, "application/vnd.oci.image.index.v1+json");
    assert_eq!(pushed.manifests.len(), 2);
    let record: RecordOut = success(&w.catapult(&["release", "api", "--yes"]));
    // The index's digest, as `docker pull` reports it, and not one platform's.
    assert_eq!(record.image.as_deref(), Some(pushed.digest.as_str()));
    assert!(
        !pushed
            .manifests
            .values()
            .any(|digest| *digest == pushed.digest)
    );
}

#[test]
fn a_tag_that_does_not_exist_is_one_line_naming_it_and_nothing_is_written() {
    let releases = Bucket::named("rel");
    let registry = registry::open();
    let repository = unique_repository("acme");
    let mut w = workspace(&releases, &registry, &repository);
    let sha = w.commit("Never built");
    // Another commit's image is there; this one's is not.
    push(
        &registry,
        None,
        &format!("{repository}/acme-api"),
        "ref-0000000000000000000000000000000000000000",
        false,
    );
    let error = failure(&w.catapult(&["release", "api", "--yes"]));
    let reference = format!("{registry}/{repository}/acme-api:ref-{sha}");
    assert!(
        error.contains(&reference) && error.contains("does not exist"),
        "{error}"
    );
    assert_eq!(releases.version_count("api"), 0);
    // A repository the registry has never heard of, the same.
    let error = failure(&w.catapult(&["release", "web", "--dry-run"]));
    assert!(
        error.contains(&format!("{repository}/acme-web:ref-{sha}")),
        "{error}"
    );
}

#[test]
fn credentials_come_from_dockers_config() {
    let releases = Bucket::named("rel");
    let (registry, user, password) = registry::with_auth();
    let repository = unique_repository("acme");
    let mut w = workspace(&releases, &registry, &repository);
    let sha = w.commit("Behind a login");
    let pushed = push(
        &registry,
        Some((&user, &password)),
        &format!("{repository}/acme-api"),
        &format!("ref-{sha}"),
        false,
    );
    let reference = format!("{registry}/{repository}/acme-api:ref-{sha}");

    // No config.json at all: 401, and one line saying so and how to log in.
    let error = failure(&w.catapult(&["release", "api", "--yes"]));
    assert!(
        error.contains(&reference)
            && error.contains("401")
            && error.contains(&format!("docker login {registry}")),
        "{error}"
    );
    assert_eq!(releases.version_count("api"), 0);

    // A wrong password: refused, naming where the credentials came from, never the password.
    let docker = w.home().join(".docker");
    write_docker_config(
        &docker,
        &serde_json::json!({"auths": {&registry: {"auth": docker_auth(&user, "not-the-password")}}}),
    );
    let output = w.catapult(&["release", "api", "--yes"]);
    let error = failure(&output);
    assert!(
        error.contains("refused") && error.contains(&format!("auths[\"{registry}\"]")),
        "{error}"
    );
    assert!(!String::from_utf8_lossy(&output.stderr).contains("not-the-password"));

    // `auths` as `docker login` writes it, in ~/.docker.
    write_docker_config(
        &docker,
        &serde_json::json!({"auths": {&registry: {"auth": docker_auth(&user, &password)}}}),
    );
    let output = w.catapult(&["release", "api", "--dry-run"]);
    let record: RecordOut = success(&output);
    assert_eq!(record.image.as_deref(), Some(pushed.digest.as_str()));
    for printed in [&output.stdout, &output.stderr] {
        let text = String::from_utf8_lossy(printed);
        assert!(!text.contains(&password) && !text.contains(&docker_auth(&user, &password)));
    }

    // $DOCKER_CONFIG names another directory; a key written as a URL, user and password apart.
    let elsewhere = w.dir.path().join("docker-elsewhere");
    write_docker_config(
        &elsewhere,
        &serde_json::json!({"auths": {format!("http://{registry}"): {"username": &user, "password": &password}}}),
    );
    let record: RecordOut = success(
        &w.command(&["release", "api", "--dry-run"])
            .env("DOCKER_CONFIG", &elsewhere)
            .output()
            .unwrap(),
    );
    assert_eq!(record.image.as_deref(), Some(pushed.digest.as_str()));

    // A credential helper (credHelpers), given the registry on its stdin.
    let bin = w.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-catapult-test");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 2\nread -r server\n[ \"$server\" = '{registry}' ] || {{ echo 'credentials not found in native keychain'; exit 1; }}\nprintf '{{\"ServerURL\":\"%s\",\"Username\":\"%s\",\"Secret\":\"%s\"}}' \"$server\" '{user}' '{password}'\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    write_docker_config(
        &docker,
        &serde_json::json!({"auths": {&registry: {}}, "credHelpers": {&registry: "catapult-test"}}),
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let record: RecordOut = success(
        &w.command(&["release", "api", "--dry-run"])
            .env("PATH", &path)
            .output()
            .unwrap(),
    );
    assert_eq!(record.image.as_deref(), Some(pushed.digest.as_str()));
    // The helper named but not on PATH: one line naming it.
    let error = failure(&w.catapult(&["release", "api", "--dry-run"]));
    assert!(
        error.contains("docker-credential-catapult-test") && error.contains("PATH"),
        "{error}"
    );
}

#[test]
fn a_docker_repository_that_is_not_a_registry_is_named() {
    let releases = Bucket::named("rel");
    let mut w = Workspace::new(&format!(
        "[release]\ns3_bucket = \"{}\"\ndocker_repository = \"Registry Example/Team\"\n",
        releases.name
    ));
    w.commit("One");
    let error = failure(&w.catapult(&["release", "api", "--yes"]));
    assert!(
        error.contains("docker_repository \"Registry Example/Team\"")
            && error.contains("is not an image reference"),
        "{error}"
    );
    assert_eq!(releases.version_count("api"), 0);
    // --no-image needs no registry at all.
    let record: RecordOut = success(&w.catapult(&["release", "api", "--no-image"]));
    assert_eq!(record.image, None);
}

#[test]
fn the_older_tools_variable_overrides_the_docker_repository() {
    let releases = Bucket::named("rel");
    let registry = registry::open();
    let repository = unique_repository("mirror");
    let mut w = workspace(&releases, "registry.invalid", "nowhere");
    let sha = w.commit("One");
    let pushed = push(
        &registry,
        None,
        &format!("{repository}/acme-api"),
        &format!("ref-{sha}"),
        false,
    );
    let output = w
        .command(&["release", "api", "--yes"])
        .env(
            "CATAPULT_CONFIG_DOCKER_REPOSITORY",
            format!("{registry}/{repository}"),
        )
        .output()
        .unwrap();
    let record: RecordOut = success(&output);
    assert_eq!(record.image.as_deref(), Some(pushed.digest.as_str()));
}

#[test]
fn a_registry_that_refuses_or_never_answers_fails_in_bounded_time() {
    let releases = Bucket::named("rel");
    // Nothing listens: refused at once.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut w = workspace(&releases, &format!("127.0.0.1:{port}"), "acme");
    let sha = w.commit("One");
    let error = failure(&w.catapult(&["release", "api", "--yes"]));
    assert!(
        error.contains(&format!("127.0.0.1:{port}/acme/acme-api:ref-{sha}"))
            && error.contains("cannot reach"),
        "{error}"
    );

    // A registry that takes the connection and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming().flatten() {
            let mut stream = stream;
            let mut buffer = [0u8; 1024];
            let _ = stream.read(&mut buffer);
            held.push(stream);
        }
    });
    let w = workspace(&releases, &format!("127.0.0.1:{port}"), "acme");
    std::fs::write(w.repo().join("f"), "x").unwrap();
    w.git(&["add", "f"]);
    w.git(&["commit", "--quiet", "-m", "One"]);
    let started = Instant::now();
    let error = failure(&w.catapult(&["release", "api", "--yes"]));
    assert!(
        error.contains(&format!("127.0.0.1:{port}/acme/acme-api:ref-"))
            && error.contains("no answer"),
        "{error}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(40),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(releases.version_count("api"), 0);
}

/// The older tool's `.catapult.toml`, every key it reads, unchanged: the command line's story
/// runs on it, the image's digest from the registry.
#[test]
fn the_whole_story_on_the_older_tools_file() {
    let releases = Bucket::named("rel");
    let staging = Bucket::named("stg");
    let production = Bucket::named("prd");
    let registry = registry::open();
    let repository = unique_repository("acme");
    let config = format!(
        r#"[release]
s3_bucket = "{releases}"
docker_repository = "{registry}/{repository}"
docker_image_prefix = "acme-"

[deploy.staging]
s3_bucket = "{staging}"

[deploy.production]
s3_bucket = "{production}"

[issue_tracker]
provider = "Shortcut"

[git]
provider = "GitHub"
"#,
        releases = releases.name,
        staging = staging.name,
        production = production.name,
    );
    let mut w = Workspace::new(&config);
    let sha = w.commit("First feature");
    let pushed = push(
        &registry,
        None,
        &format!("{repository}/acme-api"),
        &format!("ref-{sha}"),
        false,
    );
    let released: RecordOut = success(&w.catapult(&["release.new", "api", "--yes"]));
    assert_eq!(released.image.as_deref(), Some(pushed.digest.as_str()));
    let staged: RecordOut = success(&w.catapult(&["deploy.start", "api", "staging", "--yes"]));
    assert_eq!(staged.image.as_deref(), Some(pushed.digest.as_str()));
    assert_eq!(staging.version_count("api"), 1);
    let produced: RecordOut = success(&w.catapult(&["deploy", "api", "production", "--yes"]));
    assert_eq!(produced.version, 1);
    assert_eq!(production.version_count("api"), 1);
    let current: RecordOut = success(&w.catapult(&["deploy.current", "api", "production"]));
    assert_eq!(current.image.as_deref(), Some(pushed.digest.as_str()));
    let rows: Vec<Row> = success(&w.catapult(&["projects.ls"]));
    let environments: Vec<Option<&str>> =
        rows.iter().map(|row| row.environment.as_deref()).collect();
    assert_eq!(environments, [None, Some("staging"), Some("production")]);
    // The older tool's output formats: CATAPULT_FORMAT=json, and human tables.
    let output = w
        .command(&["release.current", "api"])
        .env("CATAPULT_FORMAT", "human")
        .output()
        .unwrap();
    assert!(output.status.success());
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("version_id") && !table.contains('{'),
        "{table}"
    );
    let output = w
        .command(&["release.ls", "api"])
        .env("CATAPULT_FORMAT", "human_tabular")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).contains("VERSION"));
    let output = w
        .command(&["release.current", "api"])
        .env("CATAPULT_FORMAT", "yaml")
        .output()
        .unwrap();
    let error = failure(&output);
    assert!(error.contains("CATAPULT_FORMAT \"yaml\""), "{error}");
}
