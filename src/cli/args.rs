//! Command-line arguments: one clap definition drives parsing, help and validation.

use std::path::PathBuf;

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
    Apply(ManifestArgs),
    /// Show what apply (or destroy) would do, writing nothing.
    Preview(ManifestArgs),
    /// Show the differences between the live objects and the manifests.
    Diff(ManifestArgs),
    /// Delete every object of the inventory, in reverse dependency order.
    Destroy(ManifestArgs),
    /// Show the status of the inventory's objects (or of objects in files, with --offline).
    Status(StatusArgs),
}

impl Command {
    /// The subcommand's name as typed on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Init(_) => "init",
            Command::Apply(_) => "apply",
            Command::Preview(_) => "preview",
            Command::Diff(_) => "diff",
            Command::Destroy(_) => "destroy",
            Command::Status(_) => "status",
        }
    }
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
    /// The kubeconfig context to use (default: its current context).
    #[arg(long)]
    pub context: Option<String>,
}

impl ConnectionArgs {
    pub fn connect_options(&self) -> crate::cluster::ConnectOptions {
        crate::cluster::ConnectOptions { kubeconfig: self.kubeconfig.clone(), context: self.context.clone() }
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
    /// Compute the status of the objects in the files themselves (e.g. `kubectl get -o yaml` output),
    /// without contacting a cluster.
    #[arg(long)]
    pub offline: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = StatusOutput::Text)]
    pub output: StatusOutput,
}

/// Output formats of `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusOutput {
    /// One line per object: reference, status, message.
    Text,
    /// One JSON object per line.
    Json,
}
