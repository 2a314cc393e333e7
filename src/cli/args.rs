//! Command-line arguments: one clap definition drives parsing, help and validation.

use std::path::PathBuf;
use std::time::Duration;

use std::str::FromStr;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// kapply — apply a set of Kubernetes manifests in dependency order, prune what left the set, and wait
/// until everything is Current.
#[derive(Debug, Parser)]
#[command(name = "kapply", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write an inventory template (a ConfigMap) into a directory.
    Init(InitArgs),
    /// Server-side-apply manifests in dependency order, prune, and wait until Current.
    Apply(ApplyArgs),
    /// Show what apply (or destroy) would do, writing nothing.
    Preview(PreviewArgs),
    /// Show the differences between the live objects and the manifests.
    Diff(DiffArgs),
    /// Delete every object of the inventory, in reverse dependency order.
    Destroy(DestroyArgs),
    /// Show the status of the inventory's objects (or of objects in files, with --offline).
    Status(StatusArgs),
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
}

impl ConnectionArgs {
    pub fn connect_options(&self) -> kapply::ConnectOptions {
        let options = kapply::ConnectOptions::default();
        let options = match &self.kubeconfig {
            Some(path) => options.kubeconfig(path),
            None => options,
        };
        match self.context.first() {
            Some(context) => options.context(context),
            None => options,
        }
    }
}

/// Where the manifests come from: positional paths and `-f` are equivalent, `-` is standard input.
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
}

impl ManifestArgs {
    /// Every path given, positional first, in order.
    pub fn all_paths(&self) -> Vec<PathBuf> {
        self.paths.iter().chain(&self.filenames).cloned().collect()
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

/// `kapply apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    #[command(flatten)]
    pub run: RunArgs,
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
