//! Command-line arguments: one clap definition drives parsing, help and validation.

use std::path::PathBuf;
use std::time::Duration;

use std::str::FromStr;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// kapply — apply a set of Kubernetes manifests in dependency order, prune what left the set, and wait
/// until everything is Current.
#[derive(Debug, Parser)]
#[command(name = "kapply", version = super::version::SHORT, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log more to standard error (repeatable): -v what kapply does, -vv every request (verb, path,
    /// status, latency), -vvv everything kapply and its Kubernetes client log. RUST_LOG, when set,
    /// takes precedence.
    #[arg(short = 'v', long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write an inventory template (a ConfigMap) into a directory.
    Init(InitArgs),
    /// Server-side-apply manifests in dependency order, prune, and wait until Current.
    Apply(ApplyCommand),
    /// Show what apply (or destroy) would do, writing nothing.
    Preview(PreviewArgs),
    /// Show the differences between the live objects and the manifests.
    Diff(DiffArgs),
    /// Delete every object of the inventory, in reverse dependency order.
    Destroy(DestroyArgs),
    /// Show the status of the inventory's objects (or of objects in files, with --offline).
    Status(StatusArgs),
    /// Show kapply's version, commit and build date, and the server's version when it is reachable.
    Version(VersionArgs),
    /// Print a shell completion script (e.g. `source <(kapply completion bash)`).
    Completion(CompletionArgs),
    /// Write manual pages: kapply.1 to standard output, or one page per subcommand into --dir.
    Man(ManArgs),
}

/// `kapply version`.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = VersionOutput::Text)]
    pub output: VersionOutput,
    /// Only kapply's own version: do not contact the cluster.
    #[arg(long)]
    pub client: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Output formats of `version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VersionOutput {
    /// Lines of text.
    Text,
    /// One JSON object.
    Json,
}

/// `kapply completion`.
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `kapply man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write kapply.1 and one page per subcommand (kapply-apply.1, ...) into this directory.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to write inventory-template.yaml into (its manifests also choose the namespace).
    pub directory: PathBuf,
    /// The inventory id (default: a random UUID): letters, digits, `-`, `_`, `.`; 3 to 63 characters.
    #[arg(short = 'i', long)]
    pub inventory_id: Option<String>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// The kubectl-style flags that choose a cluster and a namespace.
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// Namespace (default: the kubeconfig context's).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: its current context). Several (repeated, or
    /// comma-separated) run on each of them at once: a fleet (docs/fleet.md).
    #[arg(long, value_delimiter = ',', value_name = "CONTEXT")]
    pub context: Vec<String>,
    /// The API server's URL, instead of the context's cluster's.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// A bearer token to authenticate with, instead of the kubeconfig user's credentials.
    #[arg(long, hide_env_values = true)]
    pub token: Option<String>,
    /// Act as this user (impersonation; the kubeconfig user must be allowed to impersonate).
    #[arg(long = "as", value_name = "USER")]
    pub as_user: Option<String>,
    /// Act as a member of this group too (repeatable; impersonation).
    #[arg(long = "as-group", value_name = "GROUP")]
    pub as_group: Vec<String>,
    /// Do not verify the server's certificate: insecure (anyone on the path can read and change the
    /// requests); a warning is printed.
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    /// How long to wait for the server to answer each request, e.g. 30s (0: no limit).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub request_timeout: Option<Duration>,
}

impl ConnectionArgs {
    pub fn connect_options(&self) -> kapply::ConnectOptions {
        let mut options = kapply::ConnectOptions::default();
        if let Some(path) = &self.kubeconfig {
            options = options.kubeconfig(path);
        }
        if let Some(context) = self.context.first() {
            options = options.context(context);
        }
        if let Some(server) = &self.server {
            options = options.server(server);
        }
        if let Some(token) = &self.token {
            options = options.token(token);
        }
        if let Some(user) = &self.as_user {
            options = options.impersonate(user);
        }
        if !self.as_group.is_empty() {
            options = options.impersonate_groups(&self.as_group);
        }
        if self.insecure_skip_tls_verify {
            eprintln!(
                "kapply: warning: --insecure-skip-tls-verify: the server's certificate is not checked; \
                 anyone on the network path can read and change this run's requests"
            );
            options = options.insecure_skip_tls_verify(true);
        }
        match self.request_timeout {
            Some(timeout) if !timeout.is_zero() => options.request_timeout(timeout),
            _ => options,
        }
    }
}

/// Where the manifests come from: positional paths and `-f` are equivalent, `-` is standard input;
/// or `-k DIR`, a kustomization rendered by `kustomize build` (or `kubectl kustomize`).
#[derive(Debug, Args)]
pub struct ManifestArgs {
    /// Files or directories of manifests; `-` reads standard input.
    pub paths: Vec<PathBuf>,
    /// A file or directory of manifests (repeatable); `-` reads standard input.
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub filenames: Vec<PathBuf>,
    /// Also read the subdirectories of directories.
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// A kustomization directory, rendered with `kustomize build DIR` (or `kubectl kustomize DIR`
    /// when kustomize is not on PATH), instead of files.
    #[arg(short = 'k', long, value_name = "DIR", conflicts_with_all = ["paths", "filenames"])]
    pub kustomize: Option<PathBuf>,
}

impl ManifestArgs {
    /// Every path given, positional first, in order.
    pub fn all_paths(&self) -> Vec<PathBuf> {
        self.paths.iter().chain(&self.filenames).cloned().collect()
    }

    /// True when no manifest source was given at all.
    pub fn is_empty(&self) -> bool {
        self.kustomize.is_none() && self.paths.is_empty() && self.filenames.is_empty()
    }
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub inventory: InventoryArgs,
    #[command(flatten)]
    pub fleet: super::fleet::FleetArgs,
    /// Compute the status of the objects in the files themselves (e.g. `kubectl get -o yaml` output),
    /// without contacting a cluster.
    #[arg(long)]
    pub offline: bool,
    /// List every inventory in the cluster (kapply's and cli-utils') with its object count.
    #[arg(long, conflicts_with = "offline")]
    pub all_inventories: bool,
    /// When to stop: known (every status read once), current (all Current), deleted (all gone), forever.
    #[arg(long, value_enum, default_value_t = PollUntil::Known)]
    pub poll_until: PollUntil,
    /// How to observe: watch (changes seen at once) or poll (a LIST per kind and namespace per period).
    #[arg(long, default_value = "watch", value_parser = choice::<kapply::WaitMode>(&["watch", "poll"]))]
    pub wait_mode: kapply::WaitMode,
    /// How often to read statuses in poll mode.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub poll_period: Duration,
    /// Stop after this long (exit 3 when the --poll-until condition was not reached).
    #[arg(long, value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Show only objects with these statuses (comma-separated: Current,InProgress,Failed,...).
    #[arg(long, value_delimiter = ',', ignore_case = true, value_parser = PossibleValuesParser::new(
        ["Current", "InProgress", "Failed", "Terminating", "NotFound", "Unknown"]
    ))]
    pub statuses: Vec<String>,
    /// Show only objects in these namespaces (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub namespaces: Vec<String>,
    /// Output format: events (one line per object and change; `text` is an alias), json or table.
    #[arg(short = 'o', long, default_value = "events", ignore_case = true, value_parser = output_formats())]
    pub output: kapply::printers::OutputFormat,
}

/// `status --poll-until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PollUntil {
    Known,
    Current,
    Deleted,
    Forever,
}

/// Where the inventory is when no template is among the manifests.
#[derive(Debug, Args, Default)]
pub struct InventoryArgs {
    /// The inventory id (`cli-utils.sigs.k8s.io/inventory-id`), for a run without an inventory template
    /// among the manifests.
    #[arg(long)]
    pub inventory_id: Option<String>,
    /// The inventory ConfigMap's name (default: `inventory-<id>`).
    #[arg(long)]
    pub inventory_name: Option<String>,
    /// The inventory ConfigMap's namespace (default: --namespace, then the kubeconfig context's).
    #[arg(long)]
    pub inventory_namespace: Option<String>,
    /// Keep the inventory as a kubectl ApplySet (KEP-3659) with this parent, `[secrets|configmaps/]NAME`
    /// in the inventory namespace, instead of a cli-utils ConfigMap; `kubectl apply --prune
    /// --applyset=NAME` can then take turns with kapply on the set (docs/applyset.md).
    #[arg(long, value_name = "[KIND/]NAME", conflicts_with_all = ["inventory_id", "inventory_name"])]
    pub applyset: Option<kapply::inventory::ApplySetParent>,
}

/// What every cluster-facing run shares: where the cluster and the inventory are, how to wait, how
/// to print.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub inventory: InventoryArgs,
    #[command(flatten)]
    pub fleet: super::fleet::FleetArgs,
    /// Which existing objects this inventory may take over (and prune or delete): strict (only its
    /// own), adopt (also objects owned by no inventory), adopt-all (also objects of another inventory).
    #[arg(long, default_value = "strict", value_parser = policies())]
    pub inventory_policy: kapply::InventoryPolicy,
    /// How to observe the objects being waited for: watch (one watch per kind and namespace, changes
    /// seen at once) or poll (one LIST per kind and namespace every --poll-period).
    #[arg(long, default_value = "watch", value_parser = choice::<kapply::WaitMode>(&["watch", "poll"]))]
    pub wait_mode: kapply::WaitMode,
    /// How often to read the status of the objects being waited for (poll mode; in watch mode, how
    /// often deadlines are checked at least).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub poll_period: Duration,
    /// How many requests to send at once.
    #[arg(long, default_value_t = kapply::DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
    /// Give up on the whole run after this long (default: no limit beyond the per-object timeouts).
    #[arg(long, value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Output format (default: table when standard output is a terminal, events otherwise).
    #[arg(short = 'o', long, ignore_case = true, value_parser = output_formats())]
    pub output: Option<kapply::printers::OutputFormat>,
    /// Also print every status change (events and json output).
    #[arg(long)]
    pub status_events: bool,
    /// Events output: while waiting, print every DURATION how long the run has taken and what it
    /// still waits for, so that CI jobs that kill silent steps do not kill kapply (0: never).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub heartbeat: Duration,
    /// Events output: begin every line with an RFC 3339 UTC timestamp.
    #[arg(long)]
    pub timestamps: bool,
}

/// `kapply apply`: apply's settings and the kubectl habits that only apply has.
#[derive(Debug, Args)]
pub struct ApplyCommand {
    #[command(flatten)]
    pub apply: ApplyArgs,
    /// Accepted for kubectl compatibility and ignored: kapply always applies server-side.
    #[arg(long)]
    pub server_side: bool,
    /// none: apply; client: as `kapply preview`; server: as `kapply preview --server-side`.
    #[arg(long, value_enum, default_value_t = DryRunArg::None, value_name = "MODE")]
    pub dry_run: DryRunArg,
}

/// `apply --dry-run`, as kubectl names the modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DryRunArg {
    /// Apply for real.
    None,
    /// Decide on the client, writing nothing (`kapply preview`).
    Client,
    /// Send every write as a server dry run (`kapply preview --server-side`).
    Server,
}

/// What apply and preview share.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// Apply only the objects whose labels match this selector (e.g. `app=web,tier!=db`, `env in
    /// (a,b)`, `!legacy`). The others are neither applied nor pruned: they stay in the inventory.
    #[arg(short = 'l', long, value_name = "SELECTOR", value_parser = parse_selector)]
    pub selector: Option<kapply::manifest::Selector>,
    /// The field manager of the server-side applies.
    #[arg(long, default_value = "kapply")]
    pub field_manager: String,
    /// Take over fields another field manager owns instead of failing with a conflict.
    #[arg(long)]
    pub force_conflicts: bool,
    /// How long to wait for each applied object to become Current (e.g. 90s, 5m, 1h).
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub reconcile_timeout: Duration,
    /// Do not wait for objects to become Current (objects others depend on are still waited for, so
    /// that the order holds).
    #[arg(long)]
    pub no_wait: bool,
    /// Do not delete objects that left the set (they stay in the inventory).
    #[arg(long)]
    pub no_prune: bool,
    /// How the garbage collector deletes what a pruned object owns: Background, Foreground or Orphan.
    #[arg(long, default_value = "Background", ignore_case = true, value_parser = choice::<kapply::Propagation>(&["Background", "Foreground", "Orphan"]).map(PropagationArg))]
    pub prune_propagation_policy: PropagationArg,
    /// How long to wait for each pruned object to disappear.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub prune_timeout: Duration,
    /// When the server refuses an apply because a field is immutable (a Job's template, a Service's
    /// clusterIP, a selector), delete the object, wait until it is gone, and apply it again.
    #[arg(long)]
    pub recreate_on_immutable: bool,
    /// Send every object's apply. Without it, an object whose configuration is the one last applied
    /// (as the inventory records) and whose fields are as that apply left them is not sent: it is
    /// unchanged (docs/apply.md, "Unchanged objects are not sent").
    #[arg(long)]
    pub always_apply: bool,
    /// End an object's wait as Failed (exit 4) as soon as its details name one of these reasons
    /// (comma-separated, e.g. CrashLoopBackOff,ImagePullBackOff) for --fail-fast-grace, instead of
    /// waiting for --reconcile-timeout. Default: details only inform.
    #[arg(long, value_delimiter = ',', value_name = "REASONS")]
    pub fail_fast_on: Vec<String>,
    /// Count a Job as Current only once it is Complete (default: once it has started, as kstatus does).
    #[arg(long)]
    pub wait_for_jobs: bool,
    /// How long a --fail-fast-on reason must be seen before it ends the wait.
    #[arg(long, default_value = "10s", value_parser = parse_duration, requires = "fail_fast_on")]
    pub fail_fast_grace: Duration,
}

/// `kapply preview`.
#[derive(Debug, Args)]
pub struct PreviewArgs {
    #[command(flatten)]
    pub apply: ApplyArgs,
    /// Send every apply and delete to the server as a dry run, so admission and validation errors
    /// show up (default: decide on the client, sending no write at all).
    #[arg(long)]
    pub server_side: bool,
    /// Preview a destroy instead of an apply.
    #[arg(long)]
    pub destroy: bool,
}

/// `kapply diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub inventory: InventoryArgs,
    /// Diff only the objects whose labels match this selector (as apply's -l: the others show no
    /// diff and no prune).
    #[arg(short = 'l', long, value_name = "SELECTOR", value_parser = parse_selector)]
    pub selector: Option<kapply::manifest::Selector>,
    #[command(flatten)]
    pub fleet: super::fleet::FleetArgs,
    /// The field manager of the dry-run applies (use apply's, so ownership shows as it would be).
    #[arg(long, default_value = "kapply")]
    pub field_manager: String,
    /// Dry-run as `apply --force-conflicts` would apply; without it a field-manager conflict is an
    /// error, as it would be for apply.
    #[arg(long)]
    pub force_conflicts: bool,
    /// The inventory policy a prune would use: which prune candidates show as removals.
    #[arg(long, default_value = "strict", value_parser = policies())]
    pub inventory_policy: kapply::InventoryPolicy,
    /// How many dry runs to send at once.
    #[arg(long, default_value_t = kapply::DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
    /// Colour the diff: auto (when standard output is a terminal), always, never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

/// `kapply destroy`.
#[derive(Debug, Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// How the garbage collector deletes what a deleted object owns: Background, Foreground or Orphan.
    #[arg(long, default_value = "Background", ignore_case = true, value_parser = choice::<kapply::Propagation>(&["Background", "Foreground", "Orphan"]).map(PropagationArg))]
    pub delete_propagation_policy: PropagationArg,
    /// How long to wait for each deleted object to disappear.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub delete_timeout: Duration,
}

/// A deletion propagation policy (`Background`, `Foreground`, `Orphan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PropagationArg(pub kapply::Propagation);

/// A flag whose values are `names`, listed in `--help` and checked by clap, then parsed into the
/// library's type (which knows nothing of clap).
fn choice<T>(names: &'static [&'static str]) -> impl TypedValueParser<Value = T>
where
    T: FromStr + Clone + Send + Sync + 'static,
    T::Err: std::fmt::Debug,
{
    PossibleValuesParser::new(names).map(|name| name.parse::<T>().expect("every listed value parses"))
}

/// `--output` of every subcommand: events, json, table; `text` (status' old name) is an alias of events.
fn output_formats() -> impl TypedValueParser<Value = kapply::printers::OutputFormat> {
    let values =
        [PossibleValue::new("events").alias("text"), PossibleValue::new("json"), PossibleValue::new("table")];
    PossibleValuesParser::new(values).map(|name| match name.as_str() {
        "text" => kapply::printers::OutputFormat::Events,
        name => name.parse().expect("every listed value parses"),
    })
}

/// `--inventory-policy`, with cli-utils' names as aliases.
fn policies() -> impl TypedValueParser<Value = kapply::InventoryPolicy> {
    let values = [
        PossibleValue::new("strict").alias("must-match"),
        PossibleValue::new("adopt").alias("adopt-if-no-inventory"),
        PossibleValue::new("adopt-all"),
    ];
    PossibleValuesParser::new(values).map(|name| name.parse().expect("every listed value parses"))
}

/// Parses a kubectl-style label selector.
fn parse_selector(text: &str) -> Result<kapply::manifest::Selector, String> {
    text.parse().map_err(|e: kapply::manifest::SelectorError| e.to_string())
}

/// Parses a duration as kubectl writes them (`30s`, `5m`, `1h30m`, `0`), or friendlier (`2 minutes`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let signed: jiff::SignedDuration =
        text.parse().map_err(|_| format!("invalid duration {text:?} (expected e.g. 30s, 5m, 1h30m)"))?;
    Duration::try_from(signed).map_err(|_| format!("invalid duration {text:?}: it must not be negative"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_kubectl_writes_them() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("-5s").is_err());
        assert!(parse_duration("soon").unwrap_err().contains("soon"));
    }
}
