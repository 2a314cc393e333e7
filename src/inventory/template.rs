//! The inventory template: finding it among the manifests ([`split_inventory`]) and writing one for
//! `kapply init` ([`init_template`], [`choose_init_namespace`]).

use std::collections::BTreeSet;

use serde_json::Value;

use super::error::{InventoryError, Result};
use super::id::validate_id;
use super::info::{InventoryInfo, NAME_PREFIX, validate_namespace};
use crate::object::{INVENTORY_ID_LABEL, Object};

/// The file `kapply init` writes into the directory, as cli-utils names it.
pub const TEMPLATE_FILE: &str = "inventory-template.yaml";

/// True when an object carries the inventory label, whatever its value: such an object is an inventory
/// template, not something to apply.
///
/// cli-utils ignores the label when its value is empty and applies the object like any other; kapply
/// treats it as a template and refuses the empty id ([`split_inventory`]), because an empty label on a
/// ConfigMap is a mistake far more often than an intent.
pub fn is_inventory_template(body: &Value) -> bool {
    body.get("metadata").and_then(|m| m.get("labels")).and_then(|l| l.get(INVENTORY_ID_LABEL)).is_some()
}

/// Separates the inventory template from the objects to apply.
///
/// - exactly one template (an object carrying `cli-utils.sigs.k8s.io/inventory-id`): its
///   [`InventoryInfo`] and the other objects;
/// - none: `None` and all objects — the caller then uses [`InventoryInfo::from_flags`];
/// - the template is never applied as an ordinary object: the engine writes the inventory itself.
///
/// # Errors
/// [`InventoryError::MultipleTemplates`] naming each template's file and document;
/// [`InventoryError::TemplateNotConfigMap`] for a labelled object of another kind;
/// [`InventoryError::InvalidTemplateId`] for an empty or invalid label value;
/// [`InventoryError::MissingNamespace`] / [`InventoryError::InvalidNamespace`].
pub fn split_inventory(objects: Vec<Object>) -> Result<(Option<InventoryInfo>, Vec<Object>)> {
    let (mut templates, rest): (Vec<Object>, Vec<Object>) =
        objects.into_iter().partition(|obj| is_inventory_template(&obj.body));
    if templates.len() > 1 {
        let templates = templates.iter().map(|t| format!("{} ({})", t.obj_ref, t.source)).collect();
        return Err(InventoryError::MultipleTemplates { templates });
    }
    let Some(template) = templates.pop() else {
        return Ok((None, rest));
    };
    let gk = template.obj_ref.group_kind();
    if !(gk.group.is_empty() && gk.kind == "ConfigMap") {
        return Err(InventoryError::TemplateNotConfigMap {
            template: format!("{} ({})", template.obj_ref, template.source),
            kind: gk.to_string(),
        });
    }
    Ok((Some(InventoryInfo::from_template(&template)?), rest))
}

/// The text of `inventory-template.yaml` for `kapply init`: a ConfigMap named `inventory-<8 random
/// digits>` in `namespace`, labelled with `id` (default: a random UUID v4).
///
/// Values are double-quoted: an unquoted id such as `1234`, `yes` or `1e10` would read back as a number
/// or a boolean, and an unquoted namespace `123` as a number (cli-utils' template has that flaw).
///
/// # Errors
/// [`InventoryError::InvalidId`] for an id breaking cli-utils' rule; [`InventoryError::MissingNamespace`]
/// / [`InventoryError::InvalidNamespace`].
pub fn init_template(id: Option<&str>, namespace: String) -> Result<String> {
    let id = match id {
        Some(id) => id.to_owned(),
        None => uuid::Uuid::new_v4().to_string(),
    };
    validate_id(&id)?;
    let namespace = validate_namespace(Some(&namespace))?;
    Ok(render_template(&id, &namespace, random_suffix()))
}

/// Eight random digits, leading zeros kept, as cli-utils' `inventory-<RANDOMSUFFIX>`.
fn random_suffix() -> u32 {
    (uuid::Uuid::new_v4().as_u128() % 100_000_000) as u32
}

fn render_template(id: &str, namespace: &str, suffix: u32) -> String {
    format!(
        "\
# Inventory template, written by `kapply init`.
#
# Not applied like the other objects: kapply (and cli-utils' kapply) record in this ConfigMap's data
# every object applied from these manifests, to prune what is later removed from them and to know what
# `destroy` deletes.
#
# Do not change the namespace or the {INVENTORY_ID_LABEL} label: the inventory is found
# by them, and changing either loses track of every object applied so far. The name only matters when
# the inventory is first created.
apiVersion: v1
kind: ConfigMap
metadata:
  name: \"{NAME_PREFIX}{suffix:08}\"
  namespace: \"{namespace}\"
  labels:
    {INVENTORY_ID_LABEL}: \"{id}\"
"
    )
}

/// The namespace for a new inventory, as cli-utils' `init` chooses it: `flag` (`--namespace`) when
/// given; else the namespace shared by every namespaced object of the directory; else — objects in
/// several namespaces, or none namespaced — `context_ns`, the kubeconfig context's namespace.
///
/// Cluster-scoped objects do not count. cli-utils also falls back to the context when some namespaced
/// object names no namespace; load the objects with the context's namespace as
/// [`crate::manifest::LoadOptions::default_namespace`] and the result is the same: such objects then sit
/// in the context's namespace, which either is the one namespace of all, or makes two.
pub fn choose_init_namespace(flag: Option<&str>, objects: &[Object], context_ns: &str) -> String {
    if let Some(ns) = flag.filter(|ns| !ns.is_empty()) {
        return ns.to_owned();
    }
    let namespaces: BTreeSet<&str> =
        objects.iter().filter_map(|obj| obj.obj_ref.namespace.as_deref()).collect();
    match namespaces.len() {
        1 => namespaces.into_iter().next().unwrap_or(context_ns).to_owned(),
        _ => context_ns.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::super::test_support::{config_map, obj, obj_from, template};
    use super::*;
    use crate::manifest::{self, BuiltinScopes, LoadOptions};

    #[test]
    fn no_template_leaves_every_object_for_the_caller() {
        let objects = vec![config_map("a", "x"), config_map("a", "y")];
        let (info, rest) = split_inventory(objects.clone()).unwrap();
        assert_eq!(info, None);
        assert_eq!(rest, objects);
    }

    #[test]
    fn one_template_is_taken_out_of_the_set() {
        let objects =
            vec![config_map("a", "x"), template("prod", "inventory-00000042", "my-id"), config_map("a", "y")];
        let (info, rest) = split_inventory(objects).unwrap();
        assert_eq!(
            info,
            Some(InventoryInfo {
                id: "my-id".into(),
                name: "inventory-00000042".into(),
                namespace: "prod".into(),
                format: crate::inventory::InventoryFormat::ConfigMap,
            })
        );
        let names: Vec<_> = rest.iter().map(|o| o.obj_ref.name.as_str()).collect();
        assert_eq!(names, ["x", "y"]);
    }

    #[test]
    fn several_templates_are_an_error_naming_each_file_and_document() {
        let a = obj_from(template("p", "inv-a", "id-a").body, "base/inventory-template.yaml", 1);
        let b = obj_from(template("p", "inv-b", "id-b").body, "overlay/extra.yaml", 3);
        let err = split_inventory(vec![a, config_map("p", "c"), b]).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("found 2 inventory templates"), "{message}");
        assert!(
            message.contains("ConfigMap/p/inv-a (base/inventory-template.yaml (document 1))"),
            "{message}"
        );
        assert!(message.contains("ConfigMap/p/inv-b (overlay/extra.yaml (document 3))"), "{message}");
    }

    #[test]
    fn a_labelled_object_of_another_kind_is_refused() {
        let secret = obj(json!({"apiVersion": "v1", "kind": "Secret",
                                "metadata": {"name": "s", "namespace": "p", "labels": {INVENTORY_ID_LABEL: "abc"}}}));
        let err = split_inventory(vec![secret]).unwrap_err();
        assert!(matches!(err, InventoryError::TemplateNotConfigMap { .. }), "{err:?}");
        assert!(err.to_string().contains("Secret/p/s"), "{err}");
    }

    #[test]
    fn an_empty_template_id_is_refused_rather_than_applied() {
        let err = split_inventory(vec![template("p", "inv", "  ")]).unwrap_err();
        assert!(matches!(err, InventoryError::InvalidTemplateId { .. }), "{err:?}");
        assert!(err.to_string().contains("kapply init"), "{err}");
    }

    #[test]
    fn a_template_id_is_trimmed_and_may_be_short() {
        let (info, _) = split_inventory(vec![template("p", "inv", " ab ")]).unwrap();
        assert_eq!(info.unwrap().id, "ab");
    }

    #[test]
    fn the_init_template_parses_back_with_label_namespace_and_name() {
        let text = init_template(Some("my-app.v1"), "prod".into()).unwrap();
        let docs = manifest::parse_str(Path::new(TEMPLATE_FILE), &text).unwrap();
        assert_eq!(docs.len(), 1);
        let body = &docs[0].value;
        assert_eq!(body["apiVersion"], "v1");
        assert_eq!(body["kind"], "ConfigMap");
        assert_eq!(body["metadata"]["namespace"], "prod");
        assert_eq!(body["metadata"]["labels"][INVENTORY_ID_LABEL], "my-app.v1");
        let name = body["metadata"]["name"].as_str().unwrap();
        let digits = name.strip_prefix("inventory-").unwrap();
        assert!(digits.len() == 8 && digits.bytes().all(|b| b.is_ascii_digit()), "{name}");
    }

    #[test]
    fn the_init_template_is_found_again_by_split_inventory() {
        let text = init_template(Some("abc"), "prod".into()).unwrap();
        let docs = manifest::parse_str(Path::new(TEMPLATE_FILE), &text).unwrap();
        let objects = manifest::validate(docs, &LoadOptions::default(), &BuiltinScopes).unwrap();
        let (info, rest) = split_inventory(objects).unwrap();
        let info = info.unwrap();
        assert_eq!((info.id.as_str(), info.namespace.as_str()), ("abc", "prod"));
        assert!(rest.is_empty());
    }

    #[test]
    fn ids_and_namespaces_that_look_like_numbers_stay_strings() {
        for id in ["1234", "yes", "1e10", "0x1F", "1.50"] {
            let text = render_template(id, "123", 7);
            let docs = manifest::parse_str(Path::new(TEMPLATE_FILE), &text).unwrap();
            assert_eq!(docs[0].value["metadata"]["labels"][INVENTORY_ID_LABEL], id);
            assert_eq!(docs[0].value["metadata"]["namespace"], "123");
            assert_eq!(docs[0].value["metadata"]["name"], "inventory-00000007");
        }
    }

    #[test]
    fn the_default_id_is_a_random_uuid() {
        let a = init_template(None, "prod".into()).unwrap();
        let b = init_template(None, "prod".into()).unwrap();
        let id_of = |text: &str| {
            let docs = manifest::parse_str(Path::new(TEMPLATE_FILE), text).unwrap();
            docs[0].value["metadata"]["labels"][INVENTORY_ID_LABEL].as_str().unwrap().to_owned()
        };
        let (ida, idb) = (id_of(&a), id_of(&b));
        assert_ne!(ida, idb);
        assert!(uuid::Uuid::parse_str(&ida).is_ok(), "{ida}");
    }

    #[test]
    fn init_refuses_a_bad_id_or_namespace() {
        assert!(matches!(init_template(Some("-bad"), "prod".into()), Err(InventoryError::InvalidId { .. })));
        assert_eq!(init_template(Some("abc"), String::new()), Err(InventoryError::MissingNamespace));
        assert!(matches!(
            init_template(Some("abc"), "Prod".into()),
            Err(InventoryError::InvalidNamespace { .. })
        ));
    }

    #[test]
    fn the_namespace_flag_wins() {
        let objects = vec![config_map("a", "x")];
        assert_eq!(choose_init_namespace(Some("flag"), &objects, "ctx"), "flag");
        assert_eq!(choose_init_namespace(Some(""), &objects, "ctx"), "a");
    }

    #[test]
    fn one_shared_namespace_is_chosen_and_cluster_scoped_objects_do_not_count() {
        let ns = obj(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}));
        let objects = vec![ns, config_map("a", "x"), config_map("a", "y")];
        assert_eq!(choose_init_namespace(None, &objects, "ctx"), "a");
    }

    #[test]
    fn several_namespaces_or_none_fall_back_to_the_context() {
        let spread = vec![config_map("a", "x"), config_map("b", "y")];
        assert_eq!(choose_init_namespace(None, &spread, "ctx"), "ctx");
        let cluster_only =
            vec![obj(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}))];
        assert_eq!(choose_init_namespace(None, &cluster_only, "ctx"), "ctx");
        assert_eq!(choose_init_namespace(None, &[], "ctx"), "ctx");
    }

    #[test]
    fn an_object_without_namespace_counts_as_the_contexts_when_loaded_with_it() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-x, namespace: a}\n---\n\
                    apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-y}\n";
        let opts = LoadOptions { default_namespace: Some("ctx".into()), ..LoadOptions::default() };
        let docs = manifest::parse_str(Path::new("m.yaml"), text).unwrap();
        let objects = manifest::validate(docs, &opts, &BuiltinScopes).unwrap();
        assert_eq!(choose_init_namespace(None, &objects, "ctx"), "ctx");
    }
}
