//! The example pipelines in `pipelines/` are documentation that users copy, so they must work as
//! written. This test reads each one as Concourse would (YAML, with `<<:` merge keys resolved and
//! `((vars))` left as strings) and holds every catapult resource in it to the resource's own
//! strict types: each `source` must parse as [`Source`] and pass [`Source::validate`], each `put`'s
//! params must parse as [`OutParams`] and fit the resource, each `get`'s params must parse as
//! [`InParams`]. A field renamed in the code, or mistyped in a pipeline, fails here instead of in
//! a user's first build. `ci/pipeline.yml`, the project's own pipeline, is read by the same
//! checker: it must parse, and its steps must name resources and jobs it declares.
//!
//! The checker is tested too (the tests at the end feed it broken pipelines), so that it cannot
//! pass by finding nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use catapult_core::concourse::{InParams, OutParams, Source, parse_request};
use catapult_core::concourse::{Resource, ResourceConfig};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The steps a plan can hold, one of which names each step's kind.
const STEP_KINDS: [&str; 8] = [
    "get",
    "put",
    "task",
    "set_pipeline",
    "load_var",
    "in_parallel",
    "do",
    "try",
];

/// The hooks a step or a job can carry, each holding one step.
const HOOKS: [&str; 5] = ["on_success", "on_failure", "on_abort", "on_error", "ensure"];

/// The top-level keys of a pipeline: any other is a typo Concourse would refuse.
const PIPELINE_KEYS: [&str; 6] = [
    "resource_types",
    "resources",
    "jobs",
    "groups",
    "display",
    "var_sources",
];

/// Whether a pipeline must hold a catapult resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Catapult {
    /// An example pipeline: without a catapult resource it shows nothing and checks nothing.
    Required,
    /// Another pipeline: its catapult resources, if any, are checked all the same.
    Optional,
}

/// What checking pipelines found.
#[derive(Debug, Default)]
struct Checked {
    /// catapult resources whose `source` was checked.
    sources: usize,
    /// `put` steps on them whose params were checked.
    puts: usize,
    /// `get` steps on them, and puts' `get_params`, whose params were checked.
    gets: usize,
    /// Everything wrong, each naming the file and the place in it.
    errors: Vec<String>,
}

impl Checked {
    fn add(&mut self, other: Checked) {
        self.sources += other.sources;
        self.puts += other.puts;
        self.gets += other.gets;
        self.errors.extend(other.errors);
    }
}

/// One pipeline being checked.
struct Checker<'a> {
    file: &'a str,
    /// Every declared resource.
    resources: BTreeSet<String>,
    /// The catapult resources, with their validated source (`None` when it is invalid: that is
    /// reported once, where the resource is declared).
    catapult: BTreeMap<String, Option<ResourceConfig>>,
    /// Every declared job.
    jobs: BTreeSet<String>,
    /// The artifacts the steps so far of the job being read leave in its build (`None` after
    /// a task whose outputs the pipeline does not show).
    artifacts: Option<BTreeSet<String>>,
    checked: Checked,
}

/// Checks the pipeline `text`, read from `file` (the name only labels the errors).
fn check_pipeline(file: &str, text: &str, catapult: Catapult) -> Checked {
    let mut checker = Checker {
        file,
        resources: BTreeSet::new(),
        catapult: BTreeMap::new(),
        jobs: BTreeSet::new(),
        artifacts: None,
        checked: Checked::default(),
    };
    match parse_yaml(text) {
        Ok(pipeline) => checker.pipeline(&pipeline, catapult),
        Err(message) => checker.error("", message),
    }
    checker.checked
}

/// Parses YAML as Concourse does, merge keys resolved, into the JSON a resource receives.
fn parse_yaml(text: &str) -> Result<Value, String> {
    let mut yaml: yaml_serde::Value =
        yaml_serde::from_str(text).map_err(|err| format!("not valid YAML: {err}"))?;
    yaml.apply_merge()
        .map_err(|err| format!("a merge key (<<) does not resolve: {err}"))?;
    serde_json::to_value(&yaml).map_err(|err| format!("not expressible as JSON: {err}"))
}

/// Parses `value` as a step's stdin would be parsed: strictly, naming the field at fault.
fn parse<T: DeserializeOwned>(value: &Value) -> Result<T, String> {
    let json = serde_json::to_vec(value).map_err(|err| err.to_string())?;
    parse_request(&json).map_err(|err| {
        // A position in that JSON would point nowhere in the YAML: the field's path names it.
        let message = err.to_string();
        match message.rsplit_once(" at line ") {
            Some((message, _)) => message.to_owned(),
            None => message,
        }
    })
}

/// `params` and friends: absent or null means none given.
fn object_or_empty(value: Option<&Value>) -> Value {
    match value {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(value) => value.clone(),
    }
}

impl Checker<'_> {
    fn error(&mut self, at: &str, message: impl AsRef<str>) {
        let place = if at.is_empty() {
            self.file.to_owned()
        } else {
            format!("{}: {at}", self.file)
        };
        self.checked
            .errors
            .push(format!("{place}: {}", message.as_ref()));
    }

    /// The mappings of the list at `key` (absent: none), reporting anything else.
    fn list<'v>(
        &mut self,
        parent: &'v Map<String, Value>,
        key: &str,
    ) -> Vec<&'v Map<String, Value>> {
        match parent.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                let mut mappings = Vec::new();
                for (index, item) in items.iter().enumerate() {
                    match item.as_object() {
                        Some(mapping) => mappings.push(mapping),
                        None => self.error(&format!("{key}[{index}]"), "is not a mapping"),
                    }
                }
                mappings
            }
            Some(_) => {
                self.error(key, "is not a list");
                Vec::new()
            }
        }
    }

    /// The string at `key`, reporting its absence.
    fn string<'v>(
        &mut self,
        at: &str,
        parent: &'v Map<String, Value>,
        key: &str,
    ) -> Option<&'v str> {
        let value = parent.get(key).and_then(Value::as_str);
        if value.is_none() {
            self.error(at, format!("has no `{key}` string"));
        }
        value
    }

    fn pipeline(&mut self, pipeline: &Value, catapult: Catapult) {
        let Some(pipeline) = pipeline.as_object() else {
            self.error("", "is not a mapping of resource_types, resources, jobs");
            return;
        };
        for key in pipeline.keys() {
            if !PIPELINE_KEYS.contains(&key.as_str()) {
                self.error("", format!("unknown top-level key `{key}`"));
            }
        }

        // Resource types whose image is catapult's.
        let mut catapult_types = BTreeSet::new();
        for (index, resource_type) in self
            .list(pipeline, "resource_types")
            .into_iter()
            .enumerate()
        {
            let at = format!("resource_types[{index}]");
            let Some(name) = self.string(&at, resource_type, "name") else {
                continue;
            };
            let repository = resource_type
                .get("source")
                .and_then(|source| source.get("repository"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            if repository.contains("catapult") {
                catapult_types.insert(name.to_owned());
            }
        }

        for (index, resource) in self.list(pipeline, "resources").into_iter().enumerate() {
            let at = format!("resources[{index}]");
            let (Some(name), Some(kind)) = (
                self.string(&at, resource, "name"),
                self.string(&at, resource, "type"),
            ) else {
                continue;
            };
            if !self.resources.insert(name.to_owned()) {
                self.error(&at, format!("resource `{name}` is declared twice"));
            }
            if catapult_types.contains(kind) {
                let config = self.source(&format!("resource {name}"), resource.get("source"));
                self.catapult.insert(name.to_owned(), config);
            }
        }
        if catapult == Catapult::Required && self.catapult.is_empty() {
            self.error(
                "",
                "has no catapult resource (a resource whose type is a resource type with a catapult image): an example pipeline must show one",
            );
        }

        let jobs = self.list(pipeline, "jobs");
        for (index, job) in jobs.iter().enumerate() {
            if let Some(name) = self.string(&format!("jobs[{index}]"), job, "name") {
                if !self.jobs.insert(name.to_owned()) {
                    self.error(
                        &format!("jobs[{index}]"),
                        format!("job `{name}` is declared twice"),
                    );
                }
            }
        }
        for job in jobs {
            let name = job.get("name").and_then(Value::as_str).unwrap_or("?");
            let at = format!("job {name}");
            self.artifacts = Some(BTreeSet::new());
            match job.get("plan") {
                Some(Value::Array(plan)) => self.steps(&format!("{at}.plan"), plan),
                _ => self.error(&at, "has no `plan` list"),
            }
            for hook in HOOKS {
                if let Some(step) = job.get(hook) {
                    self.step(&format!("{at}.{hook}"), step);
                }
            }
        }
    }

    /// A catapult resource's `source`: parsed strictly and validated.
    fn source(&mut self, at: &str, source: Option<&Value>) -> Option<ResourceConfig> {
        self.checked.sources += 1;
        let source = source.cloned().unwrap_or(Value::Null);
        match parse::<Source>(&source)
            .and_then(|source| source.validate().map_err(|err| err.to_string()))
        {
            Ok(config) => Some(config),
            Err(message) => {
                self.error(&format!("{at}.source"), message);
                None
            }
        }
    }

    fn steps(&mut self, at: &str, steps: &[Value]) {
        for (index, step) in steps.iter().enumerate() {
            self.step(&format!("{at}[{index}]"), step);
        }
    }

    fn step(&mut self, at: &str, step: &Value) {
        let Some(step) = step.as_object() else {
            self.error(at, "a step that is not a mapping");
            return;
        };
        let kinds: Vec<&str> = STEP_KINDS
            .into_iter()
            .filter(|kind| step.contains_key(*kind))
            .collect();
        match kinds.as_slice() {
            ["get"] => self.get(at, step),
            ["put"] => self.put(at, step),
            ["do"] => match step.get("do") {
                Some(Value::Array(steps)) => self.steps(&format!("{at}.do"), steps),
                _ => self.error(at, "`do` is not a list of steps"),
            },
            ["in_parallel"] => match step.get("in_parallel") {
                Some(Value::Array(steps)) => self.steps(&format!("{at}.in_parallel"), steps),
                Some(Value::Object(config)) => match config.get("steps") {
                    Some(Value::Array(steps)) => {
                        self.steps(&format!("{at}.in_parallel.steps"), steps)
                    }
                    _ => self.error(at, "`in_parallel` has no `steps` list"),
                },
                _ => self.error(at, "`in_parallel` is neither a list nor a mapping"),
            },
            ["try"] => {
                if let Some(inner) = step.get("try") {
                    self.step(&format!("{at}.try"), inner);
                }
            }
            ["task"] => self.task(step),
            ["set_pipeline" | "load_var"] => {}
            [] => self.error(
                at,
                format!(
                    "a step of no known kind (none of {})",
                    STEP_KINDS.join(", ")
                ),
            ),
            _ => self.error(at, format!("a step of several kinds: {}", kinds.join(", "))),
        }
        for hook in HOOKS {
            if let Some(inner) = step.get(hook) {
                self.step(&format!("{at}.{hook}"), inner);
            }
        }
    }

    /// The resource a `get` or `put` step uses: `resource:`, else the step's own name.
    fn resource<'v>(
        &mut self,
        at: &str,
        step: &'v Map<String, Value>,
        kind: &str,
    ) -> Option<&'v str> {
        let name = step
            .get("resource")
            .or_else(|| step.get(kind))
            .and_then(Value::as_str);
        match name {
            Some(name) if self.resources.contains(name) => Some(name),
            Some(name) => {
                self.error(
                    at,
                    format!("{kind} of `{name}`, which is not a declared resource"),
                );
                None
            }
            None => {
                self.error(at, format!("`{kind}` does not name a resource"));
                None
            }
        }
    }

    /// Leaves `artifact` in the build for the steps after.
    fn leaves(&mut self, artifact: Option<&Value>) {
        if let (Some(artifacts), Some(artifact)) =
            (self.artifacts.as_mut(), artifact.and_then(Value::as_str))
        {
            artifacts.insert(artifact.to_owned());
        }
    }

    /// A task leaves its outputs, by their mapped names; one whose config is in a file leaves
    /// what the pipeline cannot tell.
    fn task(&mut self, step: &Map<String, Value>) {
        let Some(config) = step.get("config").and_then(Value::as_object) else {
            self.artifacts = None;
            return;
        };
        let mapping = step.get("output_mapping").and_then(Value::as_object);
        let outputs = config.get("outputs").and_then(Value::as_array);
        for output in outputs.into_iter().flatten() {
            let name = output
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let mapped = mapping.and_then(|mapping| mapping.get(name)).cloned();
            self.leaves(Some(&mapped.unwrap_or_else(|| Value::from(name))));
        }
    }

    /// Concourse 8 gives a `put` only the inputs its params name (`inputs: detect`, its
    /// default): each path a catapult `put` reads must start with an artifact the job has by
    /// then (or one its `inputs` list names).
    fn put_inputs(&mut self, at: &str, step: &Map<String, Value>, params: &OutParams) {
        let listed: Option<BTreeSet<String>> = match step.get("inputs") {
            None => None,
            Some(Value::String(inputs)) if inputs == "detect" => None,
            Some(Value::String(inputs)) if inputs == "all" => return,
            Some(Value::Array(inputs)) => Some(
                inputs
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
            ),
            Some(other) => {
                self.error(
                    at,
                    format!("`inputs: {other}` is none of all, detect or a list"),
                );
                return;
            }
        };
        let version = params.version.as_ref().and_then(Value::as_str);
        let commit = params
            .commit
            .as_deref()
            .filter(|commit| commit.contains('/'));
        let paths = [
            ("repository", params.repository.as_deref()),
            ("image", params.image.as_deref()),
            ("image_id", params.image_id.as_deref()),
            ("release", params.release.as_deref()),
            ("commit", commit),
            ("version", version.filter(|version| version.contains('/'))),
        ];
        for (param, path) in paths {
            let Some(path) = path else { continue };
            let input = path.split('/').next().unwrap_or_default();
            let given = match &listed {
                Some(listed) => listed.contains(input),
                None => self
                    .artifacts
                    .as_ref()
                    .is_none_or(|artifacts| artifacts.contains(input)),
            };
            if !given {
                self.error(
                    &format!("{at}.params.{param}"),
                    format!(
                        "reads {path:?}, but `{input}` is not an input the put is given (Concourse 8 gives a put only the artifacts its params name, and the job has no `{input}` before it)"
                    ),
                );
            }
        }
    }

    fn get(&mut self, at: &str, step: &Map<String, Value>) {
        self.leaves(step.get("get"));
        let Some(name) = self.resource(at, step, "get") else {
            return;
        };
        let at = format!("{at} (get {name})");
        if let Some(passed) = step.get("passed") {
            for job in passed.as_array().into_iter().flatten() {
                let job = job.as_str().unwrap_or_default();
                if !self.jobs.contains(job) {
                    self.error(
                        &at,
                        format!("passed names `{job}`, which is not a declared job"),
                    );
                }
            }
        }
        if self.catapult.contains_key(name) {
            self.in_params(&format!("{at}.params"), step.get("params"));
        }
    }

    fn put(&mut self, at: &str, step: &Map<String, Value>) {
        let Some(name) = self.resource(at, step, "put") else {
            return;
        };
        let at = format!("{at} (put {name})");
        let Some(config) = self.catapult.get(name).cloned() else {
            self.leaves(step.get("put"));
            return;
        };
        self.checked.puts += 1;
        match parse::<OutParams>(&object_or_empty(step.get("params"))) {
            Ok(params) => {
                self.put_inputs(&at, step, &params);
                // An invalid source is reported where it is declared; the params still parse.
                if let Some(config) = config {
                    if let Err(err) = params.check_applies_to(&config.resource) {
                        self.error(&format!("{at}.params"), err.to_string());
                    } else if matches!(config.resource, Resource::Release(_))
                        && params.repository.is_none()
                    {
                        self.error(
                            &format!("{at}.params"),
                            "a release needs `repository`, the git checkout to release",
                        );
                    }
                }
            }
            Err(message) => self.error(&format!("{at}.params"), message),
        }
        self.leaves(step.get("put"));
        // The get that follows every put (none with `no_get: true`) takes these params.
        if step.contains_key("get_params") {
            self.in_params(&format!("{at}.get_params"), step.get("get_params"));
        }
    }

    fn in_params(&mut self, at: &str, params: Option<&Value>) {
        self.checked.gets += 1;
        if let Err(message) = parse::<InParams>(&object_or_empty(params)) {
            self.error(at, message);
        }
    }
}

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether `path` is a vars file for `fly set-pipeline -l` (`pipelines/vars.example.yml`), which
/// sits beside the pipelines but is not one.
fn is_vars_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.starts_with("vars"))
}

/// The names of the `((vars))` in `text`, outside comments.
fn vars_used(text: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for line in text
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
    {
        let mut rest = line;
        while let Some(start) = rest.find("((") {
            let Some(length) = rest[start..].find("))") else {
                break;
            };
            used.insert(rest[start + 2..start + length].trim().to_owned());
            rest = &rest[start + length + 2..];
        }
    }
    used
}

/// The vars of `pipelines/vars.example.yml`, as `fly set-pipeline -l` loads them.
fn example_vars() -> BTreeMap<String, yaml_serde::Value> {
    let path = repository_root().join("pipelines/vars.example.yml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    yaml_serde::from_str(&text)
        .unwrap_or_else(|err| panic!("pipelines/vars.example.yml is not a mapping of vars: {err}"))
}

/// `text` with each `((var))` that `vars` defines replaced by its value, as Concourse does
/// when a pipeline is set with a vars file: the sources are then checked with real values.
fn interpolate(text: &str, vars: &BTreeMap<String, yaml_serde::Value>) -> String {
    let mut text = text.to_owned();
    for (name, value) in vars {
        let value = match value {
            yaml_serde::Value::String(string) => serde_json::to_string(string).unwrap(),
            other => yaml_serde::to_string(other).unwrap().trim().to_owned(),
        };
        text = text.replace(&format!("(({name}))"), &value);
    }
    text
}

/// Checks the file at `path`, relative to the repository's root, with `vars` interpolated.
fn check_file(
    path: &Path,
    catapult: Catapult,
    vars: &BTreeMap<String, yaml_serde::Value>,
) -> Checked {
    let name = path
        .strip_prefix(repository_root())
        .unwrap_or(path)
        .display()
        .to_string();
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    check_pipeline(&name, &interpolate(&text, vars), catapult)
}

#[test]
fn every_example_pipeline_is_valid_for_the_resource() {
    let directory = repository_root().join("pipelines");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&directory)
        .unwrap_or_else(|err| panic!("cannot list {}: {err}", directory.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "yml" || extension == "yaml")
                && !is_vars_file(path)
        })
        .collect();
    files.sort();
    for expected in ["release.yml", "deploy.yml"] {
        assert!(
            files.iter().any(|file| file.ends_with(expected)),
            "pipelines/{expected} is missing: {files:?}"
        );
    }

    let vars = example_vars();
    let mut total = Checked::default();
    for file in &files {
        total.add(check_file(file, Catapult::Required, &vars));
    }
    assert!(
        total.errors.is_empty(),
        "the example pipelines do not fit the resource:\n{}",
        total.errors.join("\n")
    );
    // release.yml: 1 source, 1 put. deploy.yml: 3 sources, 3 puts, 2 gets. More is fine; fewer
    // means the checker stopped finding what is there.
    assert!(
        total.sources >= 4 && total.puts >= 4 && total.gets >= 2,
        "checked too little: {total:?}"
    );
}

#[test]
fn the_example_vars_define_every_var_the_pipelines_use_and_no_other() {
    let directory = repository_root().join("pipelines");
    let read = |name: &str| {
        std::fs::read_to_string(directory.join(name))
            .unwrap_or_else(|err| panic!("cannot read pipelines/{name}: {err}"))
    };
    let defined: BTreeSet<String> = example_vars().into_keys().collect();
    let mut used = BTreeSet::new();
    for name in ["release.yml", "deploy.yml"] {
        used.extend(vars_used(&read(name)));
    }
    assert_eq!(
        defined, used,
        "pipelines/vars.example.yml must define exactly the vars the example pipelines use"
    );
}

#[test]
fn the_project_pipeline_is_consistent() {
    let checked = check_file(
        &repository_root().join("ci/pipeline.yml"),
        Catapult::Optional,
        &BTreeMap::new(),
    );
    assert!(
        checked.errors.is_empty(),
        "ci/pipeline.yml:\n{}",
        checked.errors.join("\n")
    );
}

// The checker itself, on pipelines broken on purpose.

/// A pipeline with the catapult type and a release and a deploy resource, followed by `jobs`.
fn pipeline(release_source: &str, jobs: &str) -> String {
    format!(
        "\
resource_types:
- name: catapult
  type: registry-image
  source: {{repository: ghcr.io/example/catapult}}
resources:
- name: code
  type: git
  source: {{uri: ((git_uri))}}
- name: release
  type: catapult
  source: &app
{release_source}
- name: staging
  type: catapult
  source:
    <<: *app
    environment: staging
jobs:
{jobs}"
    )
}

const SOURCE: &str = "    bucket: ((bucket))\n    name: app";

const GOOD_JOBS: &str = "\
- name: cut
  plan:
  - get: code
  - put: release
    params: {repository: code}
- name: deploy
  plan:
  - get: release
    passed: [cut]
  - put: staging
    params: {release: release}
";

fn check(text: &str) -> Checked {
    check_pipeline("test.yml", text, Catapult::Required)
}

#[track_caller]
fn assert_reports(text: &str, expected: &str) {
    let checked = check(text);
    assert!(
        checked.errors.iter().any(|error| error.contains(expected)),
        "expected an error containing {expected:?}, got {:?}",
        checked.errors
    );
}

#[test]
fn the_checker_passes_a_good_pipeline_and_counts_what_it_checked() {
    let checked = check(&pipeline(SOURCE, GOOD_JOBS));
    assert!(checked.errors.is_empty(), "{:?}", checked.errors);
    assert_eq!(
        (checked.sources, checked.puts, checked.gets),
        (2, 2, 1),
        "{checked:?}"
    );
}

#[test]
fn the_checker_reports_a_typo_in_a_source_even_through_a_merge_key() {
    let text = pipeline("    bukcet: ((bucket))\n    name: app", GOOD_JOBS);
    let checked = check(&text);
    // Both the release resource and the deploy resource merged from it.
    let typos: Vec<_> = checked
        .errors
        .iter()
        .filter(|error| error.contains("unknown field `bukcet`"))
        .collect();
    assert_eq!(typos.len(), 2, "{:?}", checked.errors);
    assert!(
        typos[0].starts_with("test.yml: resource release.source: "),
        "{typos:?}"
    );
}

#[test]
fn the_checker_reports_a_source_that_does_not_validate() {
    assert_reports(
        &pipeline(&format!("{SOURCE}\n    deploy_key: x"), GOOD_JOBS),
        "source.deploy_key is set but source.environment is not",
    );
    assert_reports(
        &pipeline(&format!("{SOURCE}\n    path_style: \"true\""), GOOD_JOBS),
        "invalid type: string \"true\", expected a boolean",
    );
}

#[test]
fn the_checker_reports_put_params_that_do_not_fit() {
    let jobs = |params: &str| {
        format!("- name: cut\n  plan:\n  - get: code\n  - put: staging\n    params: {params}\n")
    };
    assert_reports(
        &pipeline(SOURCE, &jobs("{relase: code}")),
        "unknown field `relase`",
    );
    assert_reports(
        &pipeline(SOURCE, &jobs("{image: code/digest}")),
        "params.image does not apply to deploy resources",
    );
    assert_reports(
        &pipeline(SOURCE, &jobs("{version: 3, allow_rollback: ((yes))}")),
        "expected a boolean",
    );
    let release_without_checkout =
        "- name: cut\n  plan:\n  - put: release\n    params: {image: d}\n";
    assert_reports(
        &pipeline(SOURCE, release_without_checkout),
        "a release needs `repository`",
    );
}

#[test]
fn the_checker_reports_a_put_reading_what_concourse_8_would_not_give_it() {
    let no_checkout = "- name: cut\n  plan:\n  - put: release\n    params: {repository: code}\n";
    assert_reports(
        &pipeline(SOURCE, no_checkout),
        "params.repository: reads \"code\", but `code` is not an input the put is given",
    );
    let not_listed = "- name: cut\n  plan:\n  - get: code\n  - put: release\n    inputs: [other]\n    params: {repository: code}\n";
    assert_reports(&pipeline(SOURCE, not_listed), "`code` is not an input");
    // A task's output, mapped, is an input; so is anything once a task's outputs are unknown.
    let from_task = "- name: cut\n  plan:\n  - task: build\n    output_mapping: {out: built}\n    config: {platform: linux, outputs: [{name: out}], run: {path: 'true'}}\n  - put: release\n    params: {repository: built}\n";
    assert!(check(&pipeline(SOURCE, from_task)).errors.is_empty());
    let from_file = "- name: cut\n  plan:\n  - task: build\n    file: code/ci/build.yml\n  - put: release\n    params: {repository: anything}\n";
    assert!(check(&pipeline(SOURCE, from_file)).errors.is_empty());
    let all =
        "- name: cut\n  plan:\n  - put: release\n    inputs: all\n    params: {repository: code}\n";
    assert!(check(&pipeline(SOURCE, all)).errors.is_empty());
}

#[test]
fn the_checker_reports_get_params_and_get_params_of_a_put() {
    let get = "- name: j\n  plan:\n  - get: release\n    params: {skip_download: true}\n";
    assert_reports(&pipeline(SOURCE, get), "unknown field `skip_download`");
    let put = "- name: j\n  plan:\n  - put: staging\n    get_params: {depth: 1}\n";
    assert_reports(&pipeline(SOURCE, put), "unknown field `depth`");
}

#[test]
fn the_checker_finds_steps_however_deep_they_are_nested() {
    let jobs = "\
- name: nested
  plan:
  - in_parallel:
      limit: 1
      steps:
      - try:
          do:
          - task: t
            file: code/task.yml
            on_failure:
              put: deploy-it
              resource: staging
              params: {version: 1}
            ensure:
              in_parallel:
              - get: fetched
                resource: release
                params: {}
  on_success:
    put: staging
    params: {version: \"2\", bad: 1}
";
    let checked = check(&pipeline(SOURCE, jobs));
    assert_eq!((checked.puts, checked.gets), (2, 1), "{checked:?}");
    assert_eq!(checked.errors.len(), 1, "{:?}", checked.errors);
    assert!(
        checked.errors[0].contains("job nested.on_success (put staging).params")
            && checked.errors[0].contains("unknown field `bad`"),
        "{:?}",
        checked.errors
    );
}

#[test]
fn the_checker_refuses_a_pipeline_without_catapult() {
    let text = "\
resources:
- name: code
  type: git
  source: {uri: x}
jobs:
- name: j
  plan:
  - get: code
";
    let checked = check(text);
    assert!(
        checked
            .errors
            .iter()
            .any(|error| error.contains("has no catapult resource")),
        "{:?}",
        checked.errors
    );
    assert!(
        check_pipeline("ci.yml", text, Catapult::Optional)
            .errors
            .is_empty()
    );
}

#[test]
fn the_checker_reports_what_concourse_would_refuse() {
    assert_reports(
        &pipeline(SOURCE, "- name: j\n  plan:\n  - get: relase\n"),
        "get of `relase`, which is not a declared resource",
    );
    assert_reports(
        &pipeline(
            SOURCE,
            "- name: j\n  plan:\n  - get: release\n    passed: [cutt]\n",
        ),
        "passed names `cutt`",
    );
    assert_reports(
        &pipeline(SOURCE, "- name: j\n  plan:\n  - gett: release\n"),
        "a step of no known kind",
    );
    assert_reports(
        &format!("resouces: []\n{}", pipeline(SOURCE, GOOD_JOBS)),
        "unknown top-level key `resouces`",
    );
    assert_reports("jobs: [", "not valid YAML");
}
