//! Starting one member of a fleet: connect to its context, load the set through its own discovery,
//! build the runner the flags describe. Nothing is written before the run starts, so a start error
//! leaves that cluster untouched.

use tokio_util::sync::CancellationToken;

use crate::cli::apply::applier;
use crate::cli::args::{ApplyArgs, ConnectionArgs, InventoryArgs, ManifestArgs, RunArgs};
use crate::cli::destroy::{Settings, destroyer};
use crate::cli::exit::Outcome;
use kapply::event::DryRun;
use kapply::inventory::InventoryInfo;
use kapply::manifest::Selector;
use kapply::{Cluster, ClusterError, EventStream, Input, LoadError, Set, Setting};

/// Why a member could not start.
#[derive(Debug)]
pub enum StartError {
    /// The cluster could not be reached (kubeconfig, connection, discovery).
    Connect(ClusterError),
    /// The manifests do not load on this cluster (e.g. a kind it does not serve).
    Load(LoadError),
    /// The inventory flags name no valid inventory (destroy without manifests).
    Inventory(String, Option<Setting>),
}

impl StartError {
    /// The member's exit outcome: 2 for input the cluster refuses, 1 otherwise.
    pub fn outcome(&self) -> Outcome {
        match self {
            StartError::Connect(_) => Outcome::Failed,
            StartError::Load(err) if err.is_invalid_input() => Outcome::Usage,
            StartError::Load(_) => Outcome::Failed,
            StartError::Inventory(..) => Outcome::Usage,
        }
    }

    /// The setting that resolves it, when one does.
    pub fn setting(&self) -> Option<Setting> {
        match self {
            StartError::Load(err) => err.setting(),
            StartError::Inventory(_, setting) => *setting,
            StartError::Connect(_) => None,
        }
    }
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Connect(err) => write!(f, "{err}"),
            StartError::Load(err) => write!(f, "{err}"),
            StartError::Inventory(message, _) => f.write_str(message),
        }
    }
}

/// Connects to `context` with every other connection flag as given.
pub async fn connect(connection: &ConnectionArgs, context: &str) -> Result<Cluster, StartError> {
    Cluster::connect(&connection.connect_options().context(context)).await.map_err(StartError::Connect)
}

/// Loads the set on `cluster`, with the loader settings of the single-cluster path.
pub async fn load(
    cluster: &Cluster,
    manifests: &ManifestArgs,
    connection: &ConnectionArgs,
    inventory: &InventoryArgs,
    selector: Option<&Selector>,
    inputs: &[Input],
) -> Result<Set, StartError> {
    let loader = crate::cli::session::loader(cluster, manifests, connection, inventory, selector);
    loader.load(inputs).await.map_err(StartError::Load)
}

/// Starts apply (or preview) on `context`.
pub async fn apply(
    context: String,
    cancel: CancellationToken,
    args: &ApplyArgs,
    inputs: &[Input],
    dry_run: DryRun,
) -> Result<EventStream, StartError> {
    let run = &args.run;
    let cluster = connect(&run.connection, &context).await?;
    let selector = args.selector.as_ref();
    let set = load(&cluster, &args.manifests, &run.connection, &run.inventory, selector, inputs).await?;
    Ok(applier(&cluster, args, dry_run).run(set, cancel))
}

/// The inventory on `cluster`: from the manifests' template when manifests are given, else from the
/// inventory flags, in the context's namespace by default (as the single-cluster path finds it).
pub async fn inventory(
    cluster: &Cluster,
    manifests: &ManifestArgs,
    connection: &ConnectionArgs,
    inventory: &InventoryArgs,
    inputs: &[Input],
) -> Result<InventoryInfo, StartError> {
    if !inputs.is_empty() {
        return Ok(load(cluster, manifests, connection, inventory, None, inputs).await?.inventory().clone());
    }
    crate::cli::session::inventory_from_flags(cluster, connection, inventory)
        .map_err(|err| StartError::Inventory(err.to_string(), err.setting()))
}

/// Starts destroy (or its preview) on `context`, on the inventory [`inventory`] finds.
pub async fn destroy(
    context: String,
    cancel: CancellationToken,
    manifests: &ManifestArgs,
    run: &RunArgs,
    inputs: &[Input],
    settings: &Settings,
) -> Result<EventStream, StartError> {
    let cluster = connect(&run.connection, &context).await?;
    let info = inventory(&cluster, manifests, &run.connection, &run.inventory, inputs).await?;
    Ok(destroyer(&cluster, info, run, settings).run(cancel))
}
