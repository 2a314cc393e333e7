//! [`InventoryInfo`]: which inventory a run uses — from the manifests' template or from flags.

use std::fmt;

use super::applyset::{ApplySetParent, ParentKind, applyset_id};
use super::error::{InventoryError, Result};
use super::id::{dns_label_problem, dns_subdomain_problem, label_value_problem, validate_id};
use crate::object::{INVENTORY_ID_LABEL, ObjRef, Object};

/// Prefix of inventory ConfigMap names, as in cli-utils' template (`inventory-<8 digits>`).
pub const NAME_PREFIX: &str = "inventory-";

/// Which inventory a run reads and writes: its id (the `cli-utils.sigs.k8s.io/inventory-id` label and
/// the `config.k8s.io/owning-inventory` annotation on every applied object), and the name and namespace
/// of its ConfigMap.
///
/// The id, not the name, identifies an inventory: cli-utils finds the live ConfigMap by label in the
/// namespace, so the name only matters when the ConfigMap is first created (old cli-utils versions
/// even suffixed it with a hash).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InventoryInfo {
    /// The inventory id. Given by flag, it passes [`super::validate_id`]; from a template, it is the
    /// label value, trimmed, and held only to the label-value rule (as cli-utils does).
    pub id: String,
    /// The name of the inventory ConfigMap: the template's name, the one given, or `inventory-<id>`.
    pub name: String,
    /// The namespace of the inventory ConfigMap, a valid namespace name.
    pub namespace: String,
    /// How the inventory is kept: cli-utils' ConfigMap, or a kubectl ApplySet (then `id` is the set's
    /// id and `name` its parent's name).
    pub format: InventoryFormat,
}

/// How an inventory is kept in the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum InventoryFormat {
    /// cli-utils' format: a ConfigMap whose `data` has one key per object (the default).
    #[default]
    ConfigMap,
    /// kubectl's ApplySet (KEP-3659): a parent of this kind, and every member labelled with its id
    /// (see `inventory/applyset.rs`).
    ApplySet(ParentKind),
}

impl InventoryFormat {
    /// The kind of the object that keeps the inventory: `ConfigMap`, or the ApplySet parent's.
    pub fn kind(self) -> &'static str {
        match self {
            InventoryFormat::ConfigMap => "ConfigMap",
            InventoryFormat::ApplySet(parent) => parent.kind(),
        }
    }
}

impl InventoryInfo {
    /// The inventory given by flags, for manifests without a template.
    ///
    /// - `id` (`--inventory-id`) is required and must pass [`super::validate_id`].
    /// - `name` (`--inventory-name`) defaults to `inventory-<id>` when that is a valid ConfigMap name;
    ///   otherwise (an id with uppercase letters or `_`) the name must be given. The default is derived
    ///   from the id, not random, so that every run with the same flags names the same ConfigMap.
    /// - `namespace` is the `--namespace` flag, else the kubeconfig context's namespace.
    ///
    /// Empty strings count as absent.
    ///
    /// # Errors
    /// [`InventoryError::MissingId`], [`InventoryError::NameWithoutId`], [`InventoryError::InvalidId`],
    /// [`InventoryError::InvalidName`], [`InventoryError::MissingNamespace`],
    /// [`InventoryError::InvalidNamespace`].
    pub fn from_flags(id: Option<&str>, name: Option<&str>, namespace: Option<&str>) -> Result<Self> {
        fn present(s: Option<&str>) -> Option<&str> {
            s.map(str::trim).filter(|s| !s.is_empty())
        }
        let (id, name, namespace) = (present(id), present(name), present(namespace));
        let id = match (id, name) {
            (Some(id), _) => id,
            (None, Some(name)) => return Err(InventoryError::NameWithoutId { name: name.to_owned() }),
            (None, None) => return Err(InventoryError::MissingId),
        };
        validate_id(id)?;
        let name = match name {
            Some(name) => name.to_owned(),
            None => format!("{NAME_PREFIX}{id}"),
        };
        if let Some(problem) = dns_subdomain_problem(&name) {
            return Err(InventoryError::InvalidName { name, problem });
        }
        let namespace = validate_namespace(namespace)?;
        Ok(Self { id: id.to_owned(), name, namespace, format: InventoryFormat::ConfigMap })
    }

    /// The inventory kept as the ApplySet whose parent is `parent` in `namespace` (the `--applyset`
    /// flag): its id is derived from the parent, as the specification requires.
    ///
    /// # Errors
    /// [`InventoryError::MissingNamespace`], [`InventoryError::InvalidNamespace`].
    pub fn applyset(parent: &ApplySetParent, namespace: Option<&str>) -> Result<Self> {
        let namespace = validate_namespace(namespace.map(str::trim))?;
        Ok(Self {
            id: applyset_id(parent.kind, &parent.name, &namespace),
            name: parent.name.clone(),
            namespace,
            format: InventoryFormat::ApplySet(parent.kind),
        })
    }

    /// True for an inventory kept as an ApplySet.
    pub fn is_applyset(&self) -> bool {
        matches!(self.format, InventoryFormat::ApplySet(_))
    }

    /// The inventory described by a template object (a ConfigMap with the inventory label).
    ///
    /// The id is the label value, trimmed as cli-utils does, and held to the label-value rule only.
    pub(crate) fn from_template(template: &Object) -> Result<Self> {
        let describe = || format!("{} ({})", template.obj_ref, template.source);
        let raw = template.body["metadata"]["labels"][INVENTORY_ID_LABEL].as_str().unwrap_or_default();
        let id = raw.trim();
        if let Some(problem) = label_value_problem(id) {
            return Err(InventoryError::InvalidTemplateId {
                template: describe(),
                id: raw.to_owned(),
                problem,
            });
        }
        let namespace = validate_namespace(template.obj_ref.namespace.as_deref())?;
        Ok(Self {
            id: id.to_owned(),
            name: template.obj_ref.name.clone(),
            namespace,
            format: InventoryFormat::ConfigMap,
        })
    }

    /// The reference of the object that keeps the inventory: the ConfigMap, or the ApplySet's parent.
    pub fn object_ref(&self) -> ObjRef {
        ObjRef::new("", self.format.kind(), Some(&self.namespace), self.name.clone())
    }
}

impl fmt::Display for InventoryInfo {
    /// `ConfigMap/<namespace>/<name> (inventory id <id>)`, or `Secret/<namespace>/<name> (ApplySet <id>)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.is_applyset() { "ApplySet" } else { "inventory id" };
        write!(f, "{} ({what} {})", self.object_ref(), self.id)
    }
}

/// The namespace of an inventory: present and a valid DNS label.
pub(crate) fn validate_namespace(namespace: Option<&str>) -> Result<String> {
    let namespace = namespace.filter(|ns| !ns.is_empty()).ok_or(InventoryError::MissingNamespace)?;
    match dns_label_problem(namespace) {
        None => Ok(namespace.to_owned()),
        Some(problem) => Err(InventoryError::InvalidNamespace { namespace: namespace.to_owned(), problem }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_with_id_and_namespace_default_the_name_from_the_id() {
        let info = InventoryInfo::from_flags(Some("my-app"), None, Some("prod")).unwrap();
        assert_eq!(
            info,
            InventoryInfo {
                id: "my-app".into(),
                name: "inventory-my-app".into(),
                namespace: "prod".into(),
                format: InventoryFormat::ConfigMap,
            }
        );
        assert_eq!(info.to_string(), "ConfigMap/prod/inventory-my-app (inventory id my-app)");
        assert_eq!(info.object_ref().to_string(), "ConfigMap/prod/inventory-my-app");
    }

    #[test]
    fn an_applyset_takes_its_id_from_its_parent() {
        let parent: ApplySetParent = "configmaps/shop".parse().unwrap();
        let info = InventoryInfo::applyset(&parent, Some("prod")).unwrap();
        assert_eq!(info.id, applyset_id(ParentKind::ConfigMap, "shop", "prod"));
        assert_eq!(info.object_ref().to_string(), "ConfigMap/prod/shop");
        assert_eq!(info.to_string(), format!("ConfigMap/prod/shop (ApplySet {})", info.id));
        assert_eq!(InventoryInfo::applyset(&parent, None).unwrap_err(), InventoryError::MissingNamespace);
    }

    #[test]
    fn flags_with_an_explicit_name_keep_it() {
        let info = InventoryInfo::from_flags(Some("My_App"), Some("apps"), Some("prod")).unwrap();
        assert_eq!(info.name, "apps");
        assert_eq!(info.id, "My_App");
    }

    #[test]
    fn an_id_that_makes_no_valid_name_requires_an_explicit_name() {
        let err = InventoryInfo::from_flags(Some("My_App"), None, Some("prod")).unwrap_err();
        assert!(matches!(err, InventoryError::InvalidName { .. }), "{err:?}");
        assert!(err.to_string().contains("give a valid ConfigMap name"), "{err}");
        assert_eq!(err.setting(), Some(crate::event::Setting::InventoryName));
    }

    #[test]
    fn incomplete_flags_are_refused_with_what_to_pass() {
        let missing = InventoryInfo::from_flags(None, None, Some("prod")).unwrap_err();
        assert_eq!(missing, InventoryError::MissingId);
        assert!(missing.to_string().contains("kapply init"), "{missing}");
        let empty = InventoryInfo::from_flags(Some(""), None, Some("prod")).unwrap_err();
        assert_eq!(empty, InventoryError::MissingId);
        let name_only = InventoryInfo::from_flags(None, Some("inv"), Some("prod")).unwrap_err();
        assert!(matches!(name_only, InventoryError::NameWithoutId { .. }));
        let no_ns = InventoryInfo::from_flags(Some("abc"), None, None).unwrap_err();
        assert_eq!(no_ns, InventoryError::MissingNamespace);
        let bad_ns = InventoryInfo::from_flags(Some("abc"), None, Some("Prod")).unwrap_err();
        assert!(matches!(bad_ns, InventoryError::InvalidNamespace { .. }));
        let bad_id = InventoryInfo::from_flags(Some("a"), None, Some("prod")).unwrap_err();
        assert!(matches!(bad_id, InventoryError::InvalidId { .. }));
    }
}
