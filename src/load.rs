//! [`Loader`]: from manifest inputs to a [`Set`] a run can apply — read, validated, every kind resolved
//! against the cluster's discovery (served versions included), the inventory found and the dependency
//! graph built. Nothing is written to the cluster.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use kapply::{Cluster, ConnectOptions, Input, Loader};
//!
//! let cluster = Cluster::connect(&ConnectOptions::default()).await?;
//! let set = Loader::new(&cluster)
//!     .namespace("shop")
//!     .inventory_id("shop")
//!     .load(&[Input::path("deploy/"), Input::text("extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n")])
//!     .await?;
//! println!("{} objects, inventory {}", set.len(), set.inventory());
//! # Ok(())
//! # }
//! ```

use std::fmt;

use crate::cluster::{Cluster, Discovered};
use crate::engine::{self, EngineError, InventoryFlags, Prepared};
use crate::inventory::InventoryInfo;
use crate::manifest::{self, Input, LoadOptions, ManifestErrors, Selector, UnknownKinds};
use crate::object::Object;

/// A validated set of objects and the inventory that records it: what an [`crate::Applier`] applies.
///
/// Made by [`Loader::load`]; cheap to keep (bodies are held as compact text until applied).
#[derive(Debug, Clone)]
pub struct Set {
    pub(crate) prepared: Prepared,
}

impl Set {
    /// The inventory the set is recorded in.
    pub fn inventory(&self) -> &InventoryInfo {
        &self.prepared.info
    }

    /// How many objects the set holds (the inventory template not counted).
    pub fn len(&self) -> usize {
        self.prepared.objects.len()
    }

    /// True when the set holds no object.
    pub fn is_empty(&self) -> bool {
        self.prepared.objects.is_empty()
    }

    /// The objects of the manifests a [`Loader::selector`] left out: neither applied nor pruned.
    pub fn left_out(&self) -> impl Iterator<Item = &crate::object::ObjRef> + '_ {
        self.prepared.retained.keys()
    }

    /// The objects, in apply order (dependencies first).
    pub fn objects(&self) -> impl Iterator<Item = Object> + '_ {
        self.prepared.graph.objects().iter().filter_map(|obj| self.prepared.object(obj))
    }
}

/// Why a set could not be loaded. Nothing was written to the cluster in any case.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// No input was given.
    #[error("no manifests given")]
    NoInput,
    /// The inputs hold no object (an inventory template alone counts as none).
    #[error("no objects in {0}: nothing to do")]
    NoObjects(String),
    /// The label selector selects none of the objects.
    #[error("no object of {inputs} matches the label selector {selector:?}: nothing to do")]
    NothingSelected {
        /// The inputs, comma-separated.
        inputs: String,
        /// The selector, as given.
        selector: String,
    },
    /// Manifests that cannot be read, parsed or validated: every problem, each naming its file and
    /// document.
    #[error(transparent)]
    Manifests(#[from] ManifestErrors),
    /// Objects at an apiVersion the cluster does not serve for their kind, one line each.
    #[error("{}", .0.join("\n"))]
    UnservedVersions(Vec<String>),
    /// The set is inconsistent (no or several inventories, a cycle, a bad annotation), or the
    /// inventory cannot be used.
    #[error(transparent)]
    Invalid(EngineError),
}

impl LoadError {
    /// The setting that resolves the error, when one does (printed as a hint, e.g. as a flag).
    pub fn setting(&self) -> Option<crate::event::Setting> {
        match self {
            LoadError::Invalid(error) => error.setting(),
            _ => None,
        }
    }

    /// True for every error the input itself causes (the CLI exits 2 for these).
    pub fn is_invalid_input(&self) -> bool {
        match self {
            LoadError::Invalid(error) => error.is_invalid_input(),
            _ => true,
        }
    }
}

/// Loads manifests into a [`Set`]; a builder whose settings all have defaults.
#[derive(Clone)]
#[must_use]
pub struct Loader<'c> {
    cluster: &'c Cluster,
    recursive: bool,
    namespace: Option<String>,
    inventory: InventoryFlags,
    selector: Option<Selector>,
}

impl fmt::Debug for Loader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Loader")
            .field("recursive", &self.recursive)
            .field("namespace", &self.namespace)
            .field("inventory", &self.inventory)
            .field("selector", &self.selector)
            .finish_non_exhaustive()
    }
}

impl<'c> Loader<'c> {
    /// A loader resolving kinds against `cluster`'s discovery.
    pub fn new(cluster: &'c Cluster) -> Self {
        Loader {
            cluster,
            recursive: false,
            namespace: None,
            inventory: InventoryFlags::default(),
            selector: None,
        }
    }

    /// Also read the subdirectories of directory inputs (`kubectl -R`). Off by default.
    pub fn recursive(mut self, recursive: bool) -> Self {
        self.recursive = recursive;
        self
    }

    /// The namespace of namespaced objects that name none, and of the inventory when no template
    /// names one. Default: the kubeconfig context's namespace.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// The inventory's id, when no inventory template is among the manifests.
    pub fn inventory_id(mut self, id: impl Into<String>) -> Self {
        self.inventory.id = Some(id.into());
        self
    }

    /// The inventory ConfigMap's name (default `inventory-<id>`), when no template is among the
    /// manifests.
    pub fn inventory_name(mut self, name: impl Into<String>) -> Self {
        self.inventory.name = Some(name.into());
        self
    }

    /// Keeps the inventory as the kubectl ApplySet (KEP-3659) with this parent (`--applyset`), instead
    /// of a cli-utils ConfigMap: every member is labelled `applyset.kubernetes.io/part-of`, so that
    /// `kubectl apply --prune --applyset=…` and kapply can take turns on one set. Its namespace is
    /// [`Loader::inventory_namespace`]; its id is derived from the parent, so no inventory id or name
    /// may be given with it.
    pub fn applyset(mut self, parent: crate::inventory::ApplySetParent) -> Self {
        self.inventory.applyset = Some(parent);
        self
    }

    /// The inventory's namespace (default: [`Loader::namespace`]), when no template is among the
    /// manifests.
    pub fn inventory_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.inventory.namespace = Some(namespace.into());
        self
    }

    /// Only the objects whose labels `selector` selects are applied (`kubectl apply -l`). The others
    /// are neither applied nor pruned: those the inventory records stay recorded, so a filtered run
    /// never deletes what it left out. The inventory template is never filtered out.
    pub fn selector(mut self, selector: Selector) -> Self {
        self.selector = Some(selector).filter(|s| !s.is_empty());
        self
    }

    /// Reads `inputs` (files, directories, standard input's text, or text from anywhere), validates
    /// every object, resolves every kind through the cluster's discovery and builds the plan.
    ///
    /// # Errors
    /// Every problem of the input at once ([`LoadError`]); nothing is written to the cluster.
    pub async fn load(&self, inputs: &[Input]) -> Result<Set, LoadError> {
        if inputs.is_empty() {
            return Err(LoadError::NoInput);
        }
        let namespace = self.namespace.clone().unwrap_or_else(|| self.cluster.default_namespace().to_owned());
        let options = LoadOptions {
            recursive: self.recursive,
            default_namespace: Some(namespace.clone()),
            unknown_kinds: UnknownKinds::Error,
        };
        let discovered = self.cluster.discovered().await;
        let objects = manifest::load(inputs, &options, &discovered)?;
        if objects.is_empty() {
            let names: Vec<String> = inputs.iter().map(|input| input.name().display().to_string()).collect();
            return Err(LoadError::NoObjects(names.join(", ")));
        }
        let unserved = unserved_versions(&objects, &discovered);
        if !unserved.is_empty() {
            return Err(LoadError::UnservedVersions(unserved));
        }
        let (objects, retained) = match &self.selector {
            Some(selector) => {
                let (selected, retained): (Vec<Object>, Vec<Object>) = objects.into_iter().partition(|o| {
                    crate::inventory::is_inventory_template(&o.body) || selector.matches(&o.body)
                });
                if selected.iter().all(|o| crate::inventory::is_inventory_template(&o.body)) {
                    let names: Vec<String> =
                        inputs.iter().map(|input| input.name().display().to_string()).collect();
                    return Err(LoadError::NothingSelected {
                        inputs: names.join(", "),
                        selector: selector.to_string(),
                    });
                }
                let retained = retained
                    .into_iter()
                    .map(|o| {
                        let depends_on = o
                            .body
                            .pointer("/metadata/annotations")
                            .and_then(|a| a.get(crate::object::DEPENDS_ON))
                            .and_then(serde_json::Value::as_str)
                            .map(crate::graph::parse_depends_on_lenient)
                            .unwrap_or_default();
                        (o.obj_ref, depends_on)
                    })
                    .collect();
                (selected, retained)
            }
            None => (objects, Default::default()),
        };
        let mut prepared =
            engine::prepare(objects, &self.inventory, &namespace).map_err(LoadError::Invalid)?;
        prepared.retained = retained;
        Ok(Set { prepared })
    }
}

/// Objects at an apiVersion the server does not serve for their kind (kinds a CRD of the set defines
/// are left to the apply: the CRD may add the version).
fn unserved_versions(objects: &[Object], discovered: &Discovered) -> Vec<String> {
    let defined_in_set = crate::graph::kinds_defined_by(objects);
    objects
        .iter()
        .filter(|o| !defined_in_set.contains(&o.obj_ref.group_kind()))
        .filter(|o| discovered.serves_version(&o.obj_ref.group_kind(), &o.api_version) == Some(false))
        .map(|o| {
            format!(
                "{}: {} is not served at apiVersion {} by this cluster; use a version it serves",
                o.source,
                o.obj_ref.group_kind(),
                o.api_version
            )
        })
        .collect()
}
