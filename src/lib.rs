//! kapply — a bulk server-side applier for Kubernetes, as a library.
//!
//! kapply reads a set of manifests, orders them by kind and dependency, server-side-applies each object
//! as soon as what it depends on is ready, records what it applied in a ConfigMap inventory (compatible
//! with SIG CLI's cli-utils), prunes what left the set, and waits until everything is Current, computing
//! status the kstatus way. The `kapply` binary is a thin shell over this API.
//!
//! # A run is a stream of events
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use futures::StreamExt;
//! use kapply::{Applier, Cluster, ConnectOptions, Event, Input, Loader};
//! use tokio_util::sync::CancellationToken;
//!
//! let cluster = Cluster::connect(&ConnectOptions::default()).await?;
//! let set = Loader::new(&cluster).inventory_id("shop").load(&[Input::path("deploy/")]).await?;
//! let mut events = Applier::new(&cluster).field_manager("my-controller").run(set, CancellationToken::new());
//! while let Some(event) = events.next().await {
//!     if let Event::Summary(summary) = event? {
//!         println!("{}", summary.outcome().as_str());
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! - [`Cluster`] is the one door to the API server; [`Loader`] turns manifests into a [`Set`]
//!   (validated, every kind resolved, the plan built — nothing written).
//! - [`Applier`], [`Destroyer`] run a set (or an inventory) as an [`EventStream`]; [`Differ`] diffs one;
//!   [`Observer`] follows the status of objects.
//! - [`event`] is the contract between a run and whoever consumes it (its ordering rules included);
//!   [`printers`] render it as text, JSON lines or a live table.
//! - [`fleet`] runs one set on many clusters (kubeconfig contexts) at once, as one stream.
//! - [`kstatus`] computes an object's status from the object alone (pure); [`manifest`] reads and
//!   validates manifests offline; [`object`] names objects and the annotations kapply reads;
//!   [`inventory`] holds the cli-utils inventory format.
//!
//! `examples/embed.rs` is a whole program that applies an embedded set of manifests.

#![deny(missing_docs)]

pub mod cluster;
pub mod details;
pub mod event;
pub mod fleet;
pub mod inventory;
pub mod kstatus;
pub mod manifest;
pub mod object;
pub mod printers;

mod applier;
mod cancel;
mod load;

// Internals: public only for kapply's own fuzz targets, benchmarks and end-to-end tests. Not part of
// the API, with no stability promise.
#[doc(hidden)]
pub mod diff;
#[doc(hidden)]
pub mod engine;
#[doc(hidden)]
pub mod graph;
#[doc(hidden)]
pub mod mutation;
#[doc(hidden)]
pub mod wait;

pub use applier::{Applier, Destroyer, Differ, EventStream};
pub use cluster::{Cluster, ClusterError, ConnectOptions, HTTP_LOG_TARGET, RequestTimeout};
pub use engine::{
    CancelReason, DEFAULT_CONCURRENCY, EngineError as Error, ObjectDiff, Propagation, list_inventories,
    read_inventory,
};
pub use event::{DryRun, Event, RunOutcome, Setting, Summary};
pub use inventory::{InventoryInfo, InventoryPolicy};
pub use load::{LoadError, Loader, Set};
pub use manifest::Input;
pub use object::{GroupKind, ObjRef, Object, Source};
pub use wait::{Observation, Observer, Until, WaitMode};
