//! The inventory module's error type: every message says what went wrong and what to do about it.

use crate::object::INVENTORY_ID_LABEL;

/// What can go wrong with the inventory format, its template, its size or its flags.
///
/// Policy refusals are not here: they are per-object outcomes ([`super::PolicyError`],
/// [`super::PruneSkip`]), reported as events, never a reason to abort a run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InventoryError {
    /// An inventory id given to `init` or by flag breaks cli-utils' rule.
    #[error(
        "invalid inventory id {id:?}: it {problem}; an inventory id has 3 to 63 characters, letters, digits, \
         '-', '_' and '.', and begins and ends with a letter or digit"
    )]
    InvalidId {
        /// The id as given.
        id: String,
        /// What is wrong, as a phrase that follows "it": e.g. `is empty`, `is shorter than 3 characters`.
        problem: &'static str,
    },

    /// The template's label value is not a valid Kubernetes label value (the server would refuse it).
    #[error(
        "inventory template {template}: the label {INVENTORY_ID_LABEL} value {id:?} {problem}; use at most 63 \
         letters, digits, '-', '_' and '.', beginning and ending with a letter or digit (`kapply init` writes one)"
    )]
    InvalidTemplateId {
        /// The template and where it was read, as `ConfigMap/namespace/name (source)`.
        template: String,
        /// The label's value as written, before trimming.
        id: String,
        /// What is wrong, as a phrase that follows "it": e.g. `is empty`, `is longer than 63 characters`.
        problem: &'static str,
    },

    /// An object carries the inventory label but is not a ConfigMap.
    #[error(
        "{template} carries the label {INVENTORY_ID_LABEL}, which marks the inventory template, but it is a \
         {kind}; kapply keeps inventories in ConfigMaps: remove the label or make the template a ConfigMap"
    )]
    TemplateNotConfigMap {
        /// The labelled object and where it was read, as `Kind[.group]/[namespace/]name (source)`.
        template: String,
        /// Its kind, as `Kind.group` (`Kind` for the core group).
        kind: String,
    },

    /// More than one inventory template in one set of manifests.
    #[error(
        "found {} inventory templates (ConfigMaps labelled {INVENTORY_ID_LABEL}): {}; a set of manifests has \
         exactly one inventory: keep one template and delete the others",
        templates.len(),
        templates.join(", ")
    )]
    MultipleTemplates {
        /// Every labelled object found and where it was read, each as
        /// `Kind[.group]/[namespace/]name (source)`.
        templates: Vec<String>,
    },

    /// Neither a template nor an inventory id was given.
    #[error(
        "no inventory: add an inventory template to the manifests (`kapply init DIR` writes one) or give \
         an inventory id"
    )]
    MissingId,

    /// An inventory name was given by flag without an id.
    #[error(
        "an inventory name ({name:?}) was given without an inventory id: the id, not the name, identifies \
         an inventory; give the id too"
    )]
    NameWithoutId {
        /// The inventory name given.
        name: String,
    },

    /// No namespace is known for the inventory ConfigMap.
    #[error("no namespace for the inventory: give one, or set a namespace in the kubeconfig context")]
    MissingNamespace,

    /// The namespace of the inventory is not a valid namespace name.
    #[error("invalid namespace {namespace:?} for the inventory: it {problem}; a namespace is a DNS label")]
    InvalidNamespace {
        /// The namespace as given.
        namespace: String,
        /// What is wrong, as a phrase that follows "it": e.g. `is empty`, `is longer than 63 characters`.
        problem: &'static str,
    },

    /// The inventory ConfigMap name is not a valid object name.
    #[error(
        "invalid inventory name {name:?}: it {problem}; give a valid ConfigMap name \
         (lowercase letters, digits, '-' and '.', at most 253 characters)"
    )]
    InvalidName {
        /// The ConfigMap name: as given, or `inventory-<id>` when derived from the id.
        name: String,
        /// What is wrong, as a phrase that follows "it": e.g. `is empty`, `is longer than 253 characters`.
        problem: &'static str,
    },

    /// A live object read as an inventory is not one.
    #[error("{configmap} is not an inventory: {problem}")]
    NotAnInventory {
        /// The live object read, as `ConfigMap/namespace/name`.
        configmap: String,
        /// What makes it no inventory, as a clause, e.g. `it is a Secret, not a ConfigMap`.
        problem: String,
    },

    /// The inventory would not fit in one ConfigMap.
    #[error(
        "the inventory {configmap} would record {objects} objects in about {estimated_bytes} bytes, over the \
         {limit_bytes}-byte budget for {budget}; split the manifests into several sets, each with its own \
         inventory (`kapply init` in each directory)"
    )]
    TooLarge {
        /// The inventory ConfigMap, as `ConfigMap/namespace/name`.
        configmap: String,
        /// How many objects it would record.
        objects: usize,
        /// The estimated size, in bytes, of what the exceeded budget measures.
        estimated_bytes: usize,
        /// The budget exceeded, in bytes: [`MAX_DATA_BYTES`](super::MAX_DATA_BYTES) or
        /// [`MAX_STORED_BYTES`](super::MAX_STORED_BYTES).
        limit_bytes: usize,
        /// What the budget is for, in words: the ConfigMap data, or the stored object.
        budget: &'static str,
    },

    /// An object's inventory key is not a valid ConfigMap key.
    #[error(
        "{object} cannot be recorded in a ConfigMap inventory: its key {key:?} {problem}; ConfigMap keys allow \
         only letters, digits, '-', '_' and '.' (at most 253 characters): rename the object"
    )]
    UnstorableKey {
        /// The object, as `Kind[.group]/[namespace/]name`.
        object: String,
        /// Its inventory key (`<namespace>_<name>_<group>_<kind>`).
        key: String,
        /// What is wrong, as a phrase that follows "it": e.g. `is empty`, `is longer than 253 characters`.
        problem: &'static str,
    },

    /// Several live ConfigMaps carry the inventory's id: cli-utils refuses to guess, and so does kapply.
    #[error(
        "{} ConfigMaps in namespace {namespace} carry {INVENTORY_ID_LABEL}={id}: {}; an inventory is one \
         ConfigMap: delete the extra ones (after merging their data) and run again",
        names.len(),
        names.join(", ")
    )]
    Ambiguous {
        /// The namespace searched.
        namespace: String,
        /// The inventory id they all carry.
        id: String,
        /// The names of the ConfigMaps found, sorted.
        names: Vec<String>,
    },

    /// An ApplySet parent given in a form kapply does not read.
    #[error(
        "invalid ApplySet parent {value:?}: it {problem} (as kubectl's --applyset: [secrets|configmaps/]NAME)"
    )]
    InvalidApplySetParent {
        /// The parent as given.
        value: String,
        /// What is wrong, as a phrase that follows "it".
        problem: String,
    },

    /// The ApplySet's parent names a tool other than kapply or kubectl in its tooling annotation.
    #[error(
        "the ApplySet {parent} is managed by {tool}, and a tool must not change another tool's set \
         (KEP-3659): apply it with {tool}; kapply takes turns only on sets of kapply and of kubectl"
    )]
    ApplySetOfOtherTool {
        /// The parent, as `Kind/namespace/name`.
        parent: String,
        /// The tool its `applyset.kubernetes.io/tooling` annotation names.
        tool: String,
    },

    /// An unknown `--inventory-policy` value.
    #[error(
        "unknown inventory policy {value:?}: expected strict, adopt or adopt-all (cli-utils' must-match and \
         adopt-if-no-inventory are accepted too)"
    )]
    UnknownPolicy {
        /// The value as given.
        value: String,
    },
}

impl InventoryError {
    /// The setting that resolves the error, when one does (printed as a hint, e.g. as a flag).
    pub fn setting(&self) -> Option<crate::event::Setting> {
        use crate::event::Setting;
        match self {
            InventoryError::MissingId | InventoryError::NameWithoutId { .. } => Some(Setting::InventoryId),
            InventoryError::MissingNamespace => Some(Setting::Namespace),
            InventoryError::InvalidName { .. } => Some(Setting::InventoryName),
            _ => None,
        }
    }

    /// True when the error is about the input (manifests, flags), found before anything is written;
    /// false when it is about the live inventory in the cluster.
    pub fn is_input_error(&self) -> bool {
        !matches!(
            self,
            InventoryError::NotAnInventory { .. }
                | InventoryError::Ambiguous { .. }
                | InventoryError::ApplySetOfOtherTool { .. }
        )
    }
}

/// The inventory module's result type.
pub type Result<T, E = InventoryError> = std::result::Result<T, E>;
