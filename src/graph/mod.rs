//! Dependency graph: kind order, implicit and explicit edges, a runnable DAG and its wave view.
//!
//! Entry point: [`build`] turns the validated objects into a [`Graph`] — pure data, no I/O, fully
//! deterministic. From it:
//! - [`Graph::scheduler`] / [`Graph::delete_scheduler`] give the engine a [`Scheduler`] that releases each
//!   object as soon as what it waits for is done, and on failure skips only the affected branch
//!   (cli-utils waits for whole waves and, in some versions, did not skip dependents at all).
//! - [`Graph::waves`] / [`Graph::delete_waves`] give the same order as topological levels, for printing
//!   and preview.
//! - [`delete_order`] / [`deletion_graph`] order prune candidates known only by reference and live body.
//!
//! Files: `kind_order` (the cli-utils kind table and comparators), `depends_on` (the annotation syntax),
//! `dag` (edges, cycle detection, waves), `scheduler` (the runnable form).
//!
//! # Direction
//! An edge `A -> B` means A depends on B: B is applied first, A is deleted first. Cycle messages use
//! the same arrow.

mod aggregation;
mod dag;
mod depends_on;
mod kind_order;
mod scheduler;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

pub use dag::{
    Edge, EdgeKind, ExternalDependency, Graph, GraphError, Result, build, delete_order, deletion_graph,
};
pub use depends_on::{DependsOnError, format_dependency, format_depends_on, parse_depends_on};
pub use kind_order::{OTHER_RANK, cmp_delete_order, cmp_kind_order, kind_rank, sort_by_kind_order};
pub use scheduler::{Scheduler, TaskState};

pub(crate) use dag::{crd_group_kind, kinds_defined_by};
pub(crate) use depends_on::parse_depends_on_lenient;
