//! kapply — a bulk server-side applier for Kubernetes.
//!
//! kapply reads a set of manifests, orders them by kind and dependency, server-side-applies each object
//! as soon as what it depends on is ready, records what it applied in a ConfigMap inventory (compatible
//! with SIG CLI's cli-utils), prunes what left the set, and waits until everything is Current, computing
//! status the kstatus way.
//!
//! The pure core — [`manifest`], [`object`], [`graph`], [`kstatus`], [`mutation`] — does no network I/O
//! and can be embedded by any Rust program (a GitOps controller, a test harness). The cluster-facing parts
//! build on it; the `kapply` binary is a thin shell over this library.

mod applier;
pub mod cli;
pub mod cluster;
pub mod diff;
pub mod engine;
pub mod event;
pub mod graph;
pub mod inventory;
pub mod kstatus;
mod load;
pub mod manifest;
pub mod mutation;
pub mod object;
pub mod printers;
pub mod status;

pub use applier::{Applier, Destroyer, EventStream};
pub use cluster::{Cluster, ClusterError, ConnectOptions};
pub use engine::{CancelReason, EngineError as Error, Propagation, WaitMode};
pub use event::{DryRun, Event, RunOutcome, Summary};
pub use inventory::{InventoryInfo, InventoryPolicy};
pub use load::{LoadError, Loader, Set};
pub use manifest::Input;
pub use object::{GroupKind, ObjRef, Object, Source};
