//! The bad-input corpus (`tests/bad-input/`, see its README): every case must make `kapply apply` exit 2
//! with an error naming where the problem is, and the cluster must see no write.
//!
//! One test walks every case, so that a bad case does not hide the others: the failures are collected
//! and reported together. Big, deep and binary inputs are generated at test time (`generate.txt`)
//! rather than committed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ListParams};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;

use crate::support::{client, kubeconfig_path, repo_root};

/// The namespace every case uses. It must never exist: a write into it would fail, and its existence
/// would mean something created it.
const NAMESPACE: &str = "kapply-bad-input";
/// The prefix of every cluster-scoped object name in the corpus.
const CLUSTER_PREFIX: &str = "kapply-bad-input";
/// The name of the inventory ConfigMap of the corpus' templates.
const INVENTORY_NAME: &str = "inventory-bad";
/// The prefix of every inventory id in the corpus (templates and `--inventory-id` flags).
const ID_PREFIX: &str = "bad-input";
const INVENTORY_ID_LABEL: &str = "cli-utils.sigs.k8s.io/inventory-id";
/// Not a speed requirement: a guard against hangs. A case still running then is killed and fails.
const CASE_TIMEOUT: Duration = Duration::from_secs(60);
/// The corpus must keep at least this many cases (the issue asks for 50).
const MIN_CASES: usize = 50;

#[tokio::test]
async fn every_bad_input_case_exits_2_naming_the_location_and_writes_nothing() {
    let client = client().await;
    let before = ClusterState::read(&client).await;
    assert!(
        before.ours().is_empty(),
        "the cluster already holds objects of the bad-input corpus (a previous run wrote them?): {:#?}",
        before.ours()
    );

    let cases = cases();
    assert!(cases.len() >= MIN_CASES, "only {} cases in tests/bad-input, expected {MIN_CASES}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let mut problems = case.check().await;
        if let Some(problem) = inventory_written(&client).await {
            problems.push(problem);
        }
        if !problems.is_empty() {
            failures.push((case.name.clone(), problems));
        }
    }

    let written: Vec<String> = ClusterState::read(&client)
        .await
        .ours()
        .into_iter()
        .map(|(object, state)| format!("{object} exists after the run: {state}"))
        .collect();
    if !written.is_empty() {
        failures.push(("(the cluster after every case)".into(), written));
    }

    if !failures.is_empty() {
        let mut report = format!("{} of {} bad-input cases failed:\n", failures.len(), cases.len());
        for (name, problems) in &failures {
            let _ = writeln!(report, "\n=== {name}");
            for problem in problems {
                let _ = writeln!(report, "{problem}");
            }
        }
        panic!("{report}");
    }
}

/// The inventory ConfigMap every template of the corpus names must not exist after a case (nor the
/// namespace holding it).
async fn inventory_written(client: &Client) -> Option<String> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    if let Some(ns) = namespaces.get_opt(NAMESPACE).await.expect("read the namespace") {
        return Some(format!("namespace {NAMESPACE} exists after the case: {:?}", ns.metadata));
    }
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), NAMESPACE);
    let inventory = config_maps.get_opt(INVENTORY_NAME).await.expect("read the inventory ConfigMap");
    inventory
        .map(|cm| format!("ConfigMap {NAMESPACE}/{INVENTORY_NAME} exists after the case: {:?}", cm.metadata))
}

/// What a write by the corpus would leave in the cluster.
///
/// Other e2e tests run beside this one in the same process and write inventories of their own, so the
/// inventories compared are those the corpus could write: with an inventory id of the corpus, in its
/// namespace, or with its inventory name. Every template and `--inventory-id` of the corpus has one of
/// these, and every object of the corpus is in the corpus' namespace or cluster-scoped with a name
/// containing the corpus prefix. None may exist before the run, nor after.
#[derive(Debug)]
struct ClusterState {
    /// `namespace/name` of every ConfigMap labelled with an inventory id, with its id and
    /// resourceVersion.
    inventories: BTreeMap<String, Inventory>,
    /// Namespaces, CustomResourceDefinitions and ClusterRoles (the cluster-scoped kinds of the corpus)
    /// whose name contains the corpus prefix, as `Kind/name`.
    cluster_scoped: Vec<String>,
}

/// An inventory ConfigMap as found in the cluster.
#[derive(Debug)]
struct Inventory {
    id: String,
    resource_version: String,
}

impl Inventory {
    fn is_ours(&self, key: &str) -> bool {
        let (namespace, name) = key.split_once('/').unwrap_or(("", key));
        self.id.starts_with(ID_PREFIX) || namespace == NAMESPACE || name.starts_with(INVENTORY_NAME)
    }
}

impl ClusterState {
    async fn read(client: &Client) -> Self {
        let api: Api<ConfigMap> = Api::all(client.clone());
        let labelled =
            api.list(&ListParams::default().labels(INVENTORY_ID_LABEL)).await.expect("list inventories");
        let inventories = labelled
            .items
            .into_iter()
            .map(|cm| {
                let key = format!("{}/{}", cm.namespace().unwrap_or_default(), cm.name_any());
                let id = cm.labels().get(INVENTORY_ID_LABEL).cloned().unwrap_or_default();
                (key, Inventory { id, resource_version: cm.resource_version().unwrap_or_default() })
            })
            .collect();
        let mut cluster_scoped = Vec::new();
        cluster_scoped.extend(prefixed::<Namespace>(client).await);
        cluster_scoped.extend(prefixed::<CustomResourceDefinition>(client).await);
        cluster_scoped.extend(prefixed::<ClusterRole>(client).await);
        Self { inventories, cluster_scoped }
    }

    /// The corpus' own objects: inventories it could write and cluster-scoped objects with its prefix
    /// (its namespace among them).
    fn ours(&self) -> BTreeMap<String, String> {
        let mut ours: BTreeMap<String, String> = self
            .inventories
            .iter()
            .filter(|(key, inventory)| inventory.is_ours(key))
            .map(|(key, inventory)| {
                let state = format!("id {}, resourceVersion {}", inventory.id, inventory.resource_version);
                (format!("ConfigMap/{key}"), state)
            })
            .collect();
        ours.extend(self.cluster_scoped.iter().map(|object| (object.clone(), "exists".to_owned())));
        ours
    }
}

/// `Kind/name` of the cluster-scoped objects of a kind whose name contains the corpus prefix (CRD
/// names start with the plural, so "contains" rather than "starts with").
async fn prefixed<K>(client: &Client) -> Vec<String>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    let api: Api<K> = Api::all(client.clone());
    let list = api.list(&ListParams::default()).await.expect("list cluster-scoped objects");
    list.items
        .iter()
        .map(|object| object.name_any())
        .filter(|name| name.contains(CLUSTER_PREFIX))
        .map(|name| format!("{}/{name}", K::kind(&())))
        .collect()
}

/// One case directory.
struct Case {
    name: String,
    dir: PathBuf,
}

/// Every case directory, ordered by number (`2-…` before `10-…`).
fn cases() -> Vec<Case> {
    let root = repo_root().join("tests/bad-input");
    let mut cases: Vec<Case> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("read {}: {e}", root.display()))
        .map(|entry| entry.expect("read tests/bad-input").path())
        .filter(|path| path.is_dir())
        .map(|dir| Case { name: dir.file_name().unwrap().to_string_lossy().into_owned(), dir })
        .collect();
    cases.sort_by_key(|case| (number_of(&case.name), case.name.clone()));
    cases
}

fn number_of(name: &str) -> u32 {
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or_else(|_| panic!("case {name} does not start with a number"))
}

/// What a case requires of stderr (`expect.txt`).
#[derive(Debug, Default)]
struct Expect {
    /// Substrings stderr must contain.
    contains: Vec<String>,
    /// Substrings stderr must not contain (lines starting with `!`).
    absent: Vec<String>,
    /// `stderr <= N bytes`: an error must not echo a huge input back.
    max_stderr_bytes: Option<usize>,
}

impl Expect {
    fn parse(text: &str) -> Self {
        let mut expect = Expect::default();
        for line in text.lines().map(|line| line.trim_end_matches('\r')).filter(|line| !line.is_empty()) {
            if let Some(absent) = line.strip_prefix('!') {
                expect.absent.push(absent.to_owned());
            } else if let Some(limit) =
                line.strip_prefix("stderr <= ").and_then(|rest| rest.strip_suffix(" bytes"))
            {
                expect.max_stderr_bytes = Some(limit.parse().expect("a byte count"));
            } else {
                expect.contains.push(line.to_owned());
            }
        }
        expect
    }
}

/// How a run of kapply ended.
struct Outcome {
    /// The exit code, or how the process died.
    exit: Result<i32, String>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Case {
    fn file(&self, name: &str) -> Option<String> {
        let path = self.dir.join(name);
        path.is_file()
            .then(|| std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
    }

    /// Runs the case and returns what is wrong with the outcome (nothing when it passes).
    async fn check(&self) -> Vec<String> {
        let expect_text = self.file("expect.txt").unwrap_or_else(|| panic!("{}: no expect.txt", self.name));
        let expect = Expect::parse(&expect_text);
        assert!(!expect.contains.is_empty(), "{}: expect.txt requires nothing", self.name);
        let outcome = self.run().await;

        let mut problems = Vec::new();
        match &outcome.exit {
            Ok(2) => {}
            Ok(code) => problems.push(format!("exit code {code}, expected 2")),
            Err(death) => problems.push(death.clone()),
        }
        for needle in &expect.contains {
            if !outcome.stderr.contains(needle.as_str()) {
                problems.push(format!("stderr lacks {needle:?}"));
            }
        }
        for needle in &expect.absent {
            if outcome.stderr.contains(needle.as_str()) {
                problems.push(format!("stderr contains {needle:?}, which must not be printed"));
            }
        }
        if let Some(limit) = expect.max_stderr_bytes
            && outcome.stderr.len() > limit
        {
            problems.push(format!("stderr is {} bytes, over the {limit} allowed", outcome.stderr.len()));
        }
        let writes: Vec<&str> = outcome
            .stdout
            .lines()
            .filter(|line| line.contains("created") || line.contains("configured"))
            .collect();
        if !writes.is_empty() {
            problems.push(format!("stdout reports writes: {writes:?}"));
        }
        if !problems.is_empty() {
            problems.push(format!(
                "(took {:.1?}) stdout:\n{}\nstderr:\n{}",
                outcome.elapsed,
                excerpt(&outcome.stdout),
                excerpt(&outcome.stderr)
            ));
        }
        problems
    }

    /// `kapply apply [-] DIR [ARGS…] --kubeconfig K -n kapply-bad-input`, the directory materialized
    /// first when the case generates inputs.
    async fn run(&self) -> Outcome {
        let generated = self.file("generate.txt").map(|spec| self.materialize(&spec));
        let dir = generated.as_ref().map_or(self.dir.as_path(), |tmp| tmp.path());
        let stdin = ["stdin.txt", "stdin.bin"]
            .iter()
            .map(|name| dir.join(name))
            .find(|path| path.is_file())
            .map(|path| std::fs::read(path).expect("read the case's stdin"));

        let mut command = Command::new(env!("CARGO_BIN_EXE_kapply"));
        command.env("KAPPLY_CHECK_EVENT_ORDER", "1").arg("apply");
        if stdin.is_some() {
            command.arg("-");
        }
        command.arg(dir);
        if let Some(args) = self.file("args.txt") {
            let dir = dir.to_str().expect("a UTF-8 path");
            command.args(args.lines().filter(|line| !line.is_empty()).map(|line| line.replace("{dir}", dir)));
        }
        command
            .arg("--kubeconfig")
            .arg(kubeconfig_path())
            .args(["-n", NAMESPACE])
            .env_remove("KUBECONFIG")
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());

        let started = Instant::now();
        let mut child = command.spawn().expect("run kapply");
        if let (Some(mut pipe), Some(bytes)) = (child.stdin.take(), stdin) {
            // kapply may stop reading early (it rejects non-UTF-8 input): a broken pipe is fine.
            std::thread::spawn(move || pipe.write_all(&bytes));
        }
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        let exit = loop {
            if let Some(status) = child.try_wait().expect("wait for kapply") {
                break status.code().ok_or_else(|| format!("killed by a signal: {status}"));
            }
            if started.elapsed() > CASE_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!("still running after {CASE_TIMEOUT:?}: killed (a hang?)"));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let elapsed = started.elapsed();
        let text = |reader: std::thread::JoinHandle<Vec<u8>>| {
            String::from_utf8_lossy(&reader.join().expect("read kapply's output")).into_owned()
        };
        Outcome { exit, stdout: text(stdout), stderr: text(stderr), elapsed }
    }

    /// A temporary copy of the case directory with the generated inputs added. Each line of
    /// `generate.txt` is `FILE GENERATOR N`.
    fn materialize(&self, spec: &str) -> tempfile::TempDir {
        let tmp = tempfile::TempDir::new().expect("create a temporary directory");
        copy_dir(&self.dir, tmp.path());
        for line in spec.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#')) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [file, generator, n] = fields[..] else {
                panic!("{}: generate.txt line {line:?} is not `FILE GENERATOR N`", self.name)
            };
            let n: usize = n.parse().unwrap_or_else(|_| panic!("{}: {n:?} is not a number", self.name));
            let path = tmp.path().join(file);
            if generator == "dangling-symlink" {
                #[cfg(unix)]
                std::os::unix::fs::symlink(tmp.path().join("does-not-exist.yaml"), &path).unwrap();
                continue;
            }
            let bytes = generate(generator, n)
                .unwrap_or_else(|| panic!("{}: unknown generator {generator}", self.name));
            std::fs::write(&path, bytes).unwrap();
        }
        tmp
    }
}

/// Reads a pipe to its end on a thread of its own, so that a full pipe never blocks the child.
fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            // The case's .txt files come along: kapply does not read that extension from a directory.
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The start and end of a long text, for failure reports.
fn excerpt(text: &str) -> String {
    const KEEP: usize = 1500;
    if text.len() <= 2 * KEEP {
        return text.to_owned();
    }
    let mut start = KEEP;
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = text.len() - KEEP;
    while !text.is_char_boundary(end) {
        end += 1;
    }
    format!("{}\n[… {} bytes …]\n{}", &text[..start], end - start, &text[end..])
}

/// The generated inputs, by name (see tests/bad-input/README.md).
fn generate(generator: &str, n: usize) -> Option<Vec<u8>> {
    const CONFIG_MAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n";
    let text = match generator {
        // A 4th line the error points at, then one value of n bytes.
        "huge-value" => format!("{CONFIG_MAP}  generateName: huge-\ndata:\n  big: {}\n", "x".repeat(n)),
        "huge-invalid-name" => format!("{CONFIG_MAP}  name: a/{}\n", "x".repeat(n)),
        // n keys, then the first one again.
        "many-keys" => {
            let mut text = format!("{CONFIG_MAP}  name: many-keys\ndata:\n");
            for i in 0..n {
                let _ = writeln!(text, "  k{i}: v");
            }
            text + "  k0: again\n"
        }
        // n good documents of 5 lines, then one without a kind.
        "many-documents" => {
            let mut text = String::new();
            for i in 0..n {
                let _ = write!(text, "---\n{CONFIG_MAP}  name: doc-{i}\n");
            }
            text + "---\napiVersion: v1\nmetadata:\n  name: last\n"
        }
        // One line of JSON, its last string never closed.
        "long-line" => format!(
            r#"{{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {{"name": "long"}}, "data": {{"big": "{}"#,
            "x".repeat(n)
        ),
        "deep-flow-sequences" => {
            format!("{CONFIG_MAP}  name: deep\ndata:\n  x: {}{}\n", "[".repeat(n), "]".repeat(n))
        }
        "deep-flow-mappings" => {
            format!("{CONFIG_MAP}  name: deep\ndata:\n  x: {}1{}\n", "{a: ".repeat(n), "}".repeat(n))
        }
        "deep-block-mappings" => {
            let mut text = format!("{CONFIG_MAP}  name: deep\nspec:\n");
            for depth in 1..=n {
                let _ = writeln!(text, "{}a:", " ".repeat(depth));
            }
            let _ = writeln!(text, "{}b: 1", " ".repeat(n + 1));
            text
        }
        "deep-json" => format!(
            r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"deep"}},"data":{{"x":{}1{}}}}}"#,
            r#"{"a":"#.repeat(n),
            "}".repeat(n)
        ),
        // Nested as deep as the parser accepts, in an object missing its name.
        "deep-flow-sequences-without-name" => {
            format!("{CONFIG_MAP}  labels: {{app: deep}}\nspec:\n  x: {}{}\n", "[".repeat(n), "]".repeat(n))
        }
        "mutation-deep-path" => format!(
            "{CONFIG_MAP}  name: target\n  annotations:\n    config.kubernetes.io/apply-time-mutation: |\n      \
             - sourceRef: {{apiVersion: v1, kind: ConfigMap, name: source}}\n        sourcePath: ${}\n        \
             targetPath: $.data.copy\ndata:\n  copy: x\n",
            "[".repeat(n)
        ),
        // Valid UTF-8, but NUL and other control characters in a value.
        "control-characters" => {
            let mut text = format!("{CONFIG_MAP}  name: control\ndata:\n  a: ");
            text.extend((0..n).map(|i| match (i % 32) as u8 {
                b'\n' => '\u{1}',
                c => char::from(c),
            }));
            text + "\n"
        }
        // A cycle through n objects, each depending on the next.
        "long-dependency-cycle" => {
            let mut text = String::new();
            for i in 0..n {
                let _ = write!(
                    text,
                    "---\n{CONFIG_MAP}  name: cycle-{i}\n  annotations:\n    config.kubernetes.io/depends-on: \
                     /namespaces/{NAMESPACE}/ConfigMap/cycle-{}\n",
                    (i + 1) % n
                );
            }
            text
        }
        // A List of n items, each missing its name (one error per item, each at its own line).
        "list-of-nameless-items" => {
            let mut text = "apiVersion: v1\nkind: List\nitems:\n".to_owned();
            for i in 0..n {
                let _ = write!(
                    text,
                    "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    labels: {{n: x{i}}}\n"
                );
            }
            text
        }
        // A manifest saved as UTF-16 (as some Windows editors and shells do), with its byte-order mark.
        "utf16-manifest" => {
            let text = format!("{CONFIG_MAP}  name: utf16\n");
            let mut bytes = vec![0xff, 0xfe];
            bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            return Some(bytes);
        }
        // Pseudo-random bytes (xorshift64, fixed seed: the same garbage every run).
        "binary-garbage" => {
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
            let bytes = (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x.to_le_bytes()[0]
                })
                .collect();
            return Some(bytes);
        }
        _ => return None,
    };
    Some(text.into_bytes())
}

/// Errors only the server's schema finds (a number where a string belongs, a Secret value that is not
/// base64, a TLS Secret without its key, an unknown field): found by a server-side dry run of every
/// object new to the inventory, before anything is written — in an existing namespace, where the
/// objects can be tried (docs/apply.md, "Validation against the server").
mod server_schema {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{ConfigMap, Secret};
    use kube::api::Api;
    use kube::{Client, ResourceExt};

    use crate::apply::Package;
    use crate::support::{TestNamespace, client};

    const VALID: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: valid}\ndata: {key: value}\n";

    async fn inventory(client: &Client, package: &Package) -> Option<ConfigMap> {
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), &package.namespace);
        api.get_opt(&format!("inventory-{}", package.id)).await.expect("read the inventory")
    }

    async fn exists<K>(client: &Client, namespace: &str, name: &str) -> bool
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
    {
        Api::<K>::namespaced(client.clone(), namespace).get_opt(name).await.expect("read").is_some()
    }

    #[tokio::test]
    async fn a_schema_error_in_a_new_object_exits_2_naming_file_and_line_and_writes_no_inventory() {
        let client = client().await;
        let ns = TestNamespace::new(&client, "schema-first").await;
        let package = Package::new(&ns.name, "schema-first");
        package.write("valid.yaml", VALID);
        // The second document of its file: line 5.
        package.write(
            "numbers.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n---\napiVersion: v1\nkind: ConfigMap\n\
             metadata: {name: numbers}\ndata: {a: 1}\n",
        );

        let run = package.apply(&[]);
        assert_eq!(run.code, 2, "{}", run.output());
        let output = run.output();
        let expected = format!("numbers.yaml:5 (document 2): ConfigMap/{}/numbers: ", ns.name);
        assert!(output.contains(&expected), "expected {expected:?} in:\n{output}");
        assert!(output.contains(".data.a: expected string"), "{output}");
        let other = format!("ConfigMap/{}/other:", ns.name);
        assert!(!output.contains(&other), "a valid object is not named: {output}");
        assert!(inventory(&client, &package).await.is_none(), "the inventory was written:\n{output}");
        for name in ["valid", "other", "numbers"] {
            assert!(!exists::<ConfigMap>(&client, &ns.name, name).await, "{name} was created:\n{output}");
        }

        // Fixed, the same set applies.
        package.write(
            "numbers.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: numbers}\ndata: {a: \"1\"}\n",
        );
        let fixed = package.apply(&[]);
        assert_eq!(fixed.code, 0, "{}", fixed.output());
        assert!(exists::<ConfigMap>(&client, &ns.name, "valid").await);
    }

    #[tokio::test]
    async fn a_schema_error_in_a_namespace_the_set_creates_exits_2_and_creates_nothing() {
        // The dry runs into a namespace that does not exist yet go many at once (the server waits
        // 50 ms before refusing each): their refusals still stop the run before any write.
        let client = client().await;
        let ns = TestNamespace::new(&client, "schema-new-namespace").await;
        let package = Package::new(&ns.name, "schema-new-namespace");
        let created = crate::support::unique_name("schema-created");
        package.write(
            "00-namespace.yaml",
            &format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {created}}}\n"),
        );
        let valid: Vec<String> = (0..40)
            .map(|i| format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i}, namespace: {created}}}\ndata: {{i: \"{i}\"}}\n"))
            .collect();
        package.write("10-valid.yaml", &valid.join("---\n"));
        package.write(
            "20-numbers.yaml",
            &format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: numbers, namespace: {created}}}\ndata: {{a: 1}}\n"),
        );

        let run = package.apply(&[]);
        assert_eq!(run.code, 2, "{}", run.output());
        let output = run.output();
        let expected = format!("20-numbers.yaml:1 (document 1): ConfigMap/{created}/numbers: ");
        let line = output.lines().find(|line| line.contains(&expected));
        let line = line.unwrap_or_else(|| panic!("expected {expected:?} in:\n{output}"));
        assert!(line.contains(".data.a: expected string"), "{line}");
        assert!(!output.contains(&format!("ConfigMap/{created}/cm-")), "a valid object is named: {output}");
        assert!(inventory(&client, &package).await.is_none(), "the inventory was written:\n{output}");
        let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
        let namespace = namespaces.get_opt(&created).await.expect("read the namespace");
        assert!(namespace.is_none(), "the set's Namespace was created:\n{output}");
    }

    #[tokio::test]
    async fn schema_errors_added_to_an_applied_set_exit_2_and_leave_its_inventory_unchanged() {
        let client = client().await;
        let ns = TestNamespace::new(&client, "schema-second").await;
        let package = Package::new(&ns.name, "schema-second");
        package.write("valid.yaml", VALID);
        let first = package.apply(&[]);
        assert_eq!(first.code, 0, "{}", first.output());
        let before = inventory(&client, &package).await.expect("the first apply wrote the inventory");

        package.write("added.yaml", &VALID.replace("name: valid", "name: added"));
        package.write(
            "secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: encoded}\ndata: {a: \"not base64!\"}\n",
        );
        package.write(
            "tls.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: tls}\ntype: kubernetes.io/tls\ndata: {tls.crt: YQ==}\n",
        );
        package.write(
            "deployment.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicaz: 2\n  selector: \
             {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: \
             [{name: web, image: nginx}]}\n",
        );

        let run = package.apply(&[]);
        assert_eq!(run.code, 2, "{}", run.output());
        let output = run.output();
        let n = &ns.name;
        for (expected, detail) in [
            (format!("secret.yaml:1 (document 1): Secret/{n}/encoded: "), "base64"),
            (format!("tls.yaml:1 (document 1): Secret/{n}/tls: "), "tls.key"),
            (format!("deployment.yaml:1 (document 1): Deployment.apps/{n}/web: "), ".spec.replicaz"),
        ] {
            let line = output.lines().find(|line| line.contains(&expected));
            let line = line.unwrap_or_else(|| panic!("expected {expected:?} in:\n{output}"));
            assert!(line.contains(detail), "expected {detail:?} in {line:?}");
        }
        let after = inventory(&client, &package).await.expect("the inventory still exists");
        assert_eq!(
            after.resource_version(),
            before.resource_version(),
            "the inventory was written:\n{output}"
        );
        assert!(!exists::<ConfigMap>(&client, n, "added").await, "the valid new ConfigMap was created");
        assert!(!exists::<Secret>(&client, n, "encoded").await);
        assert!(!exists::<Secret>(&client, n, "tls").await);
        assert!(!exists::<Deployment>(&client, n, "web").await);
    }
}
