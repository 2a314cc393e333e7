//! The dependency DAG: [`build`] turns validated objects into a [`Graph`]; [`deletion_graph`] does the same,
//! leniently, for prune candidates known only by reference and live body.
//!
//! An edge `A -> B` always means "A depends on B": B is applied (and reconciled) before A, and A is
//! deleted before B. Edges come from four places (cli-utils' four):
//!
//! | [`EdgeKind`] | from | to |
//! | --- | --- | --- |
//! | `Namespace` | a namespaced object | its core `Namespace`, when that Namespace is in the set |
//! | `CustomResourceDefinition` | a custom resource | the CRD in the set whose `spec.group` + `spec.names.kind` match |
//! | `DependsOn` | an object with a `config.kubernetes.io/depends-on` annotation | each listed object |
//! | `ApplyTimeMutation` | an object with apply-time mutations | each mutation source |
//!
//! Explicit edges (depends-on, mutation) may name objects outside the set. cli-utils rejects those
//! (`ExternalDependencyError`); kapply records them in [`Graph::external`] instead, because the object
//! may well exist in the cluster and only the engine can check that.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

use serde_json::Value;

use super::depends_on::{DependsOnError, parse_depends_on, parse_depends_on_lenient};
use super::kind_order::cmp_kind_order;
use super::scheduler::Scheduler;
use crate::object::{self, DEPENDS_ON, GroupKind, ObjRef, Object, Source};

/// Why a set of objects cannot be planned.
///
/// Sources and the depends-on cause are boxed to keep `Result<Graph>` small (clippy's
/// `result_large_err`); the error path is cold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// Two documents define the same object; applying both would silently keep only the last.
    #[error("duplicate object {object}: defined in {first} and again in {second}")]
    DuplicateObject {
        /// The object defined twice.
        object: ObjRef,
        /// Where it is defined first, in input order.
        first: Box<Source>,
        /// Where it is defined again.
        second: Box<Source>,
    },
    /// An object's depends-on annotation does not parse or lists an object twice.
    #[error("{object} in {origin}: {error}")]
    InvalidDependsOn {
        /// The annotated object.
        object: ObjRef,
        /// Where the object is defined.
        origin: Box<Source>,
        /// What is wrong with the annotation.
        #[source]
        error: Box<DependsOnError>,
    },
    /// The dependencies form a cycle, so no object on it can ever be applied first. `objects` lists the
    /// cycle in order, each object depending on the next and the last on the first, starting from the
    /// object that comes first in kind order. An object depending on itself is a cycle of one.
    #[error("dependency cycle: {} (each object depends on the next)", cycle_text(objects))]
    Cycle {
        /// The objects on the cycle, in dependency order (see above); never empty.
        objects: Vec<ObjRef>,
    },
}

/// Result alias of the graph module.
pub type Result<T, E = GraphError> = std::result::Result<T, E>;

fn cycle_text(objects: &[ObjRef]) -> String {
    let mut parts: Vec<String> = objects.iter().map(ToString::to_string).collect();
    if let Some(first) = objects.first() {
        parts.push(first.to_string());
    }
    parts.join(" -> ")
}

/// Where an edge comes from. The order of the variants is the order edges between the same two
/// objects are listed in [`Graph::edges`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EdgeKind {
    /// A namespaced object depends on its Namespace.
    Namespace,
    /// A custom resource depends on its CustomResourceDefinition.
    CustomResourceDefinition,
    /// Listed in the `config.kubernetes.io/depends-on` annotation.
    DependsOn,
    /// The source of an apply-time mutation (`config.kubernetes.io/apply-time-mutation`).
    ApplyTimeMutation,
    /// An aggregated ClusterRole selects the ClusterRole (deletion order only: see
    /// [`deletion_graph`]).
    Aggregation,
}

impl fmt::Display for EdgeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EdgeKind::Namespace => "namespace",
            EdgeKind::CustomResourceDefinition => "custom resource definition",
            EdgeKind::DependsOn => "depends-on",
            EdgeKind::ApplyTimeMutation => "apply-time-mutation",
            EdgeKind::Aggregation => "aggregation rule",
        })
    }
}

/// `from` depends on `to` because of `via`. Both ends are in the graph.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Edge {
    /// The dependent: applied after `to`, deleted before it.
    pub from: ObjRef,
    /// The dependency.
    pub to: ObjRef,
    /// Why `from` depends on `to`.
    pub via: EdgeKind,
}

/// `from` depends on `to`, which is not in the object set; the engine must find it in the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExternalDependency {
    /// The dependent, in the object set.
    pub from: ObjRef,
    /// The dependency, which the object set does not hold.
    pub to: ObjRef,
    /// Why `from` depends on `to`.
    pub via: EdgeKind,
}

impl fmt::Display for ExternalDependency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} depends on {} ({}), which is not in the object set", self.from, self.to, self.via)
    }
}

/// An acyclic dependency graph over a set of objects: plain, immutable data.
///
/// # Ordering contract
/// - Every list the graph returns is deterministic: it depends only on the set of objects and their
///   annotations, never on input order or hashing.
/// - Apply side ([`objects`](Self::objects), [`dependencies`](Self::dependencies),
///   [`dependents`](Self::dependents), [`waves`](Self::waves), [`scheduler`](Self::scheduler)): kind order
///   ([`cmp_kind_order`]) wherever objects are otherwise unordered.
/// - Delete side ([`delete_waves`](Self::delete_waves), [`delete_scheduler`](Self::delete_scheduler)):
///   reversed kind order.
/// - In [`waves`](Self::waves) every object is in a later wave than each of its dependencies; in
///   [`delete_waves`](Self::delete_waves) in a later wave than each of its dependents.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    /// All objects, in kind order. A node's id is its position here.
    objects: Vec<ObjRef>,
    index: HashMap<ObjRef, usize>,
    /// Per node: the ids it depends on, ascending (kind order), without repeats.
    deps: Vec<Vec<usize>>,
    /// Per node: the ids depending on it, ascending, without repeats.
    rdeps: Vec<Vec<usize>>,
    /// By id, in [`Graph::edges`] order. References are built when asked for, not kept: a set of
    /// 10,000 objects in one Namespace has 10,000 edges, each naming that Namespace again.
    edges: Vec<(usize, usize, EdgeKind)>,
    external: Vec<ExternalDependency>,
    /// Per node: its apply wave (length of the longest dependency chain below it).
    level: Vec<usize>,
}

impl Graph {
    /// All objects in kind order.
    pub fn objects(&self) -> &[ObjRef] {
        &self.objects
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// True when the graph has no objects.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// True when `obj` is one of the graph's objects.
    pub fn contains(&self, obj: &ObjRef) -> bool {
        self.index.contains_key(obj)
    }

    /// What `obj` depends on (in the set), in kind order; empty for an object not in the graph.
    pub fn dependencies(&self, obj: &ObjRef) -> Vec<ObjRef> {
        self.refs(self.index.get(obj).map_or(&[], |&i| &self.deps[i]))
    }

    /// What depends on `obj`, in kind order; empty for an object not in the graph.
    pub fn dependents(&self, obj: &ObjRef) -> Vec<ObjRef> {
        self.refs(self.index.get(obj).map_or(&[], |&i| &self.rdeps[i]))
    }

    fn refs(&self, ids: &[usize]) -> Vec<ObjRef> {
        ids.iter().map(|&i| self.objects[i].clone()).collect()
    }

    /// Every edge, ordered by `from`, then `to` (both kind order), then [`EdgeKind`]. Two objects linked
    /// for several reasons (say, a namespace edge also written in depends-on) have one edge per reason.
    pub fn edges(&self) -> Vec<Edge> {
        self.edges
            .iter()
            .map(|&(from, to, via)| Edge {
                from: self.objects[from].clone(),
                to: self.objects[to].clone(),
                via,
            })
            .collect()
    }

    /// Dependencies on objects outside the set, ordered like [`edges`](Self::edges). Never an error here:
    /// the engine decides (look the object up in the cluster, or fail the dependent).
    pub fn external(&self) -> &[ExternalDependency] {
        &self.external
    }

    /// Topological levels for apply: wave 0 holds the objects with no dependency in the set, wave `n`
    /// those whose deepest dependency is in wave `n - 1`. Each wave is in kind order.
    ///
    /// This is the view for printing and preview. The engine should run [`scheduler`](Self::scheduler)
    /// instead, which starts an object as soon as its own dependencies are done rather than waiting for
    /// the whole previous wave (a top cli-utils complaint, kpt#3395).
    pub fn waves(&self) -> Vec<Vec<ObjRef>> {
        self.group_by(&self.level, false)
    }

    /// Topological levels for deletion: wave 0 holds the objects nothing in the set depends on, wave `n`
    /// those whose deepest dependent is in wave `n - 1`; so custom resources go before their CRD and a
    /// namespace's contents before the Namespace. Each wave is in reversed kind order.
    ///
    /// cli-utils deletes in its apply waves reversed; this is the same constraint, but an object with
    /// no dependents is deleted in the first wave instead of waiting for unrelated objects.
    pub fn delete_waves(&self) -> Vec<Vec<ObjRef>> {
        let mut level = vec![0; self.len()];
        // Dependents always sit in a higher apply wave than their dependencies, so visiting nodes by
        // descending apply wave settles every dependent before the objects it depends on.
        let mut by_level: Vec<usize> = (0..self.len()).collect();
        by_level.sort_by_key(|&i| std::cmp::Reverse(self.level[i]));
        for i in by_level {
            level[i] = self.rdeps[i].iter().map(|&d| level[d] + 1).max().unwrap_or(0);
        }
        self.group_by(&level, true)
    }

    /// A scheduler that hands out objects to apply as soon as all their dependencies are complete.
    pub fn scheduler(&self) -> Scheduler {
        Scheduler::new(self.objects.clone(), self.deps.clone(), self.rdeps.clone(), false)
    }

    /// A scheduler that hands out objects to delete as soon as everything depending on them is gone.
    pub fn delete_scheduler(&self) -> Scheduler {
        Scheduler::new(self.objects.clone(), self.rdeps.clone(), self.deps.clone(), true)
    }

    fn group_by(&self, level: &[usize], reverse: bool) -> Vec<Vec<ObjRef>> {
        let count = level.iter().max().map_or(0, |&m| m + 1);
        let mut waves = vec![Vec::new(); count];
        for (i, obj) in self.objects.iter().enumerate() {
            waves[level[i]].push(obj.clone());
        }
        if reverse {
            waves.iter_mut().for_each(|wave| wave.reverse());
        }
        waves
    }
}

/// Builds the dependency graph of a validated object set.
///
/// `mutation_sources` returns the source objects of an object's apply-time mutations (namespace
/// already defaulted); it is a parameter so that the graph does not depend on the mutation module.
/// Repeated sources are merged silently, as cli-utils does.
///
/// References match objects exactly (group, kind, namespace, name): a depends-on entry written in the
/// cluster-scoped form never matches a namespaced object.
///
/// # Errors
/// - [`GraphError::DuplicateObject`] when two objects share a reference.
/// - [`GraphError::InvalidDependsOn`] for the first object, in input order, whose depends-on annotation
///   is malformed or repeats an entry.
/// - [`GraphError::Cycle`] when the edges form a cycle, including an object depending on itself
///   through depends-on or a mutation (cli-utils reports self-edges as cycles too).
pub fn build(objects: &[Object], mutation_sources: impl Fn(&Object) -> Vec<ObjRef>) -> Result<Graph> {
    let mut seen: HashMap<&ObjRef, &Source> = HashMap::new();
    for obj in objects {
        if let Some(first) = seen.insert(&obj.obj_ref, &obj.source) {
            return Err(GraphError::DuplicateObject {
                object: obj.obj_ref.clone(),
                first: Box::new(first.clone()),
                second: Box::new(obj.source.clone()),
            });
        }
    }
    let nodes: Vec<(&ObjRef, &Value)> = objects.iter().map(|o| (&o.obj_ref, &o.body)).collect();
    let mut builder = Builder::new(&nodes);
    builder.add_implicit_edges(&nodes);
    for obj in objects {
        let from = &obj.obj_ref;
        if let Some(value) = obj.annotation(DEPENDS_ON) {
            let deps = parse_depends_on(value).map_err(|error| GraphError::InvalidDependsOn {
                object: from.clone(),
                origin: Box::new(obj.source.clone()),
                error: Box::new(error),
            })?;
            for to in deps {
                builder.add_explicit(from, to, EdgeKind::DependsOn);
            }
        }
        for to in mutation_sources(obj) {
            builder.add_explicit(from, to, EdgeKind::ApplyTimeMutation);
        }
    }
    builder.finish().map_err(|cycle| GraphError::Cycle { objects: cycle })
}

/// Builds a deletion graph for prune candidates known only by reference and live body.
///
/// Uses the namespace, CRD and depends-on edges among the candidates (a live object's apply-time
/// mutations are not followed: their sources are already applied), and makes an aggregated
/// ClusterRole depend on the ClusterRoles it selects, so it is deleted before them and nothing is left
/// to re-create it. Nothing here can fail, because a
/// malformed annotation on a live object must not block a prune: bad or repeated depends-on entries
/// are ignored, self-edges dropped, repeated references merged, and a cycle is broken by dropping its
/// edges that run against kind order, so the objects on it fall back to reversed kind order.
pub fn deletion_graph(items: &[(ObjRef, &Value)]) -> Graph {
    let mut seen = HashSet::new();
    let nodes: Vec<(&ObjRef, &Value)> =
        items.iter().filter(|(obj, _)| seen.insert(obj)).map(|(obj, body)| (obj, *body)).collect();
    let mut builder = Builder::new(&nodes);
    builder.add_implicit_edges(&nodes);
    for (aggregated, selected) in super::aggregation::aggregation_pairs(&nodes) {
        builder.add_explicit(aggregated, selected.clone(), EdgeKind::Aggregation);
    }
    for (from, body) in &nodes {
        if let Some(value) = object::annotation(body, DEPENDS_ON) {
            for to in parse_depends_on_lenient(value) {
                if to != **from {
                    builder.add_explicit(from, to, EdgeKind::DependsOn);
                }
            }
        }
    }
    loop {
        match builder.levels() {
            Ok(_) => break,
            Err(cycle) => builder.drop_edges_against_kind_order(&cycle),
        }
    }
    builder.finish().expect("cycles were broken")
}

/// Deletion waves for prune candidates: [`deletion_graph`]`(items).`[`delete_waves`](Graph::delete_waves)`()`.
pub fn delete_order(items: &[(ObjRef, &Value)]) -> Vec<Vec<ObjRef>> {
    deletion_graph(items).delete_waves()
}

/// Collects nodes and edges by id, then checks for cycles and assembles the [`Graph`].
struct Builder {
    objects: Vec<ObjRef>,
    index: HashMap<ObjRef, usize>,
    /// (from, to, via) by node id; a set so repeats merge and iteration is ordered.
    edges: BTreeSet<(usize, usize, EdgeKind)>,
    external: BTreeSet<(usize, ObjRef, EdgeKind)>,
}

impl Builder {
    fn new(nodes: &[(&ObjRef, &Value)]) -> Self {
        let mut objects: Vec<ObjRef> = nodes.iter().map(|(r, _)| (*r).clone()).collect();
        objects.sort_by(cmp_kind_order);
        let index = objects.iter().enumerate().map(|(i, r)| (r.clone(), i)).collect();
        Self { objects, index, edges: BTreeSet::new(), external: BTreeSet::new() }
    }

    /// Namespace and CRD edges. Both only ever point at objects in the set, and never at the object
    /// itself (a CRD does not depend on itself even if it were to define the CRD kind).
    fn add_implicit_edges(&mut self, nodes: &[(&ObjRef, &Value)]) {
        let mut namespaces: HashMap<&str, usize> = HashMap::new();
        let mut crds: HashMap<GroupKind, Vec<usize>> = HashMap::new();
        for (obj, body) in nodes {
            let id = self.index[*obj];
            let gk = obj.group_kind();
            if gk.is_namespace() {
                namespaces.insert(obj.name.as_str(), id);
            } else if gk.is_crd()
                && let Some(defined) = crd_group_kind(body)
            {
                crds.entry(defined).or_default().push(id);
            }
        }
        for (obj, _) in nodes {
            let from = self.index[*obj];
            if let Some(&ns) = obj.namespace.as_deref().and_then(|ns| namespaces.get(ns)) {
                self.add(from, ns, EdgeKind::Namespace);
            }
            for &crd in crds.get(&obj.group_kind()).into_iter().flatten() {
                self.add(from, crd, EdgeKind::CustomResourceDefinition);
            }
        }
    }

    fn add(&mut self, from: usize, to: usize, via: EdgeKind) {
        if from != to || !matches!(via, EdgeKind::Namespace | EdgeKind::CustomResourceDefinition) {
            self.edges.insert((from, to, via));
        }
    }

    /// An explicit edge: into the graph when `to` is in the set (a self-edge included, which then
    /// surfaces as a cycle), else recorded as external.
    fn add_explicit(&mut self, from: &ObjRef, to: ObjRef, via: EdgeKind) {
        let from = self.index[from];
        match self.index.get(&to) {
            Some(&to) => self.add(from, to, via),
            None => {
                self.external.insert((from, to, via));
            }
        }
    }

    /// Per node its dependency ids, ascending and without repeats.
    fn adjacency(&self) -> Vec<Vec<usize>> {
        let mut deps = vec![Vec::new(); self.objects.len()];
        for &(from, to, _) in &self.edges {
            if deps[from].last() != Some(&to) {
                deps[from].push(to);
            }
        }
        deps
    }

    /// Apply waves by Kahn's algorithm, or the object ids of one cycle.
    fn levels(&self) -> Result<Vec<usize>, Vec<usize>> {
        let deps = self.adjacency();
        let n = deps.len();
        let mut rdeps = vec![Vec::new(); n];
        for (from, tos) in deps.iter().enumerate() {
            for &to in tos {
                rdeps[to].push(from);
            }
        }
        let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
        let mut level = vec![usize::MAX; n];
        let mut current: Vec<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
        let mut depth = 0;
        let mut placed = 0;
        while !current.is_empty() {
            let mut next = Vec::new();
            for &i in &current {
                level[i] = depth;
                placed += 1;
                for &d in &rdeps[i] {
                    waiting[d] -= 1;
                    if waiting[d] == 0 {
                        next.push(d);
                    }
                }
            }
            current = next;
            depth += 1;
        }
        if placed == n {
            return Ok(level);
        }
        Err(find_cycle(&deps, &level))
    }

    /// Breaks a cycle by dropping its edges that point later in kind order (a dependency applied after
    /// its dependent in plain kind order). Every cycle has at least one, since kind order is total.
    fn drop_edges_against_kind_order(&mut self, cycle: &[usize]) {
        for (k, &from) in cycle.iter().enumerate() {
            let to = cycle[(k + 1) % cycle.len()];
            if to > from {
                self.edges.retain(|&(f, t, _)| (f, t) != (from, to));
            }
        }
    }

    fn finish(self) -> Result<Graph, Vec<ObjRef>> {
        let level = self
            .levels()
            .map_err(|cycle| cycle.iter().map(|&i| self.objects[i].clone()).collect::<Vec<_>>())?;
        let deps = self.adjacency();
        let mut rdeps = vec![Vec::new(); deps.len()];
        for (from, tos) in deps.iter().enumerate() {
            for &to in tos {
                rdeps[to].push(from);
            }
        }
        let edges = self.edges.iter().copied().collect();
        let mut external: Vec<(usize, ObjRef, EdgeKind)> = self.external.into_iter().collect();
        external.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| cmp_kind_order(&a.1, &b.1)).then(a.2.cmp(&b.2)));
        let external = external
            .into_iter()
            .map(|(f, to, via)| ExternalDependency { from: self.objects[f].clone(), to, via })
            .collect();
        Ok(Graph { objects: self.objects, index: self.index, deps, rdeps, edges, external, level })
    }
}

/// One cycle among the nodes Kahn's algorithm could not place, deterministically: walk from the
/// lowest unplaced id along each node's lowest unplaced dependency until a node repeats, then rotate
/// the loop to start at its lowest id.
///
/// Every unplaced node has an unplaced dependency (otherwise it would have been placed), so the walk
/// never gets stuck.
fn find_cycle(deps: &[Vec<usize>], level: &[usize]) -> Vec<usize> {
    let unplaced = |i: &usize| level[*i] == usize::MAX;
    let start = (0..deps.len()).find(unplaced).expect("some node is unplaced");
    let mut path = vec![start];
    let mut position = HashMap::from([(start, 0)]);
    let mut node = start;
    loop {
        node = *deps[node].iter().find(|d| unplaced(d)).expect("an unplaced node has an unplaced dependency");
        if let Some(&at) = position.get(&node) {
            let mut cycle = path.split_off(at);
            let lowest = cycle.iter().enumerate().min_by_key(|&(_, id)| id).map_or(0, |(k, _)| k);
            cycle.rotate_left(lowest);
            return cycle;
        }
        position.insert(node, path.len());
        path.push(node);
    }
}

/// The kinds the CustomResourceDefinitions among `objects` define: a kind the cluster may not serve
/// yet, because the set itself brings it.
pub(crate) fn kinds_defined_by<'a>(objects: impl IntoIterator<Item = &'a Object>) -> HashSet<GroupKind> {
    objects
        .into_iter()
        .filter(|o| o.obj_ref.group_kind().is_crd())
        .filter_map(|o| crd_group_kind(&o.body))
        .collect()
}

/// The group-kind a CRD defines: `spec.group` and `spec.names.kind`.
pub(crate) fn crd_group_kind(body: &Value) -> Option<GroupKind> {
    let spec = body.get("spec")?;
    let group = spec.get("group")?.as_str()?;
    let kind = spec.get("names")?.get("kind")?.as_str()?;
    Some(GroupKind::new(group, kind))
}
