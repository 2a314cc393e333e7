//! ClusterRole aggregation: which ClusterRoles an aggregated ClusterRole's `aggregationRule` selects.
//!
//! The controller-manager's aggregation controller writes an aggregated ClusterRole's rules from the
//! ClusterRoles its `clusterRoleSelectors` match, with a server-side apply — which creates the role
//! when it is missing. Deleting a selected role just before the aggregated one can therefore bring the
//! aggregated role back (with `rules: null`), after kapply saw it gone. An aggregated role deleted
//! first has nothing left to re-create it: so the deletion graph makes it depend on the roles it
//! selects (see [`super::deletion_graph`]).

use serde_json::{Map, Value};

use crate::object::ObjRef;

/// True for an RBAC ClusterRole.
fn is_cluster_role(obj: &ObjRef) -> bool {
    obj.group == "rbac.authorization.k8s.io" && obj.kind == "ClusterRole"
}

/// The `(aggregated, selected)` pairs among `nodes`: each ClusterRole with an `aggregationRule`,
/// with every other ClusterRole whose labels one of its selectors matches.
pub(crate) fn aggregation_pairs<'a>(nodes: &[(&'a ObjRef, &'a Value)]) -> Vec<(&'a ObjRef, &'a ObjRef)> {
    let roles: Vec<(&ObjRef, &Value)> =
        nodes.iter().copied().filter(|(obj, _)| is_cluster_role(obj)).collect();
    let mut pairs = Vec::new();
    for (aggregated, body) in &roles {
        let Some(selectors) = body.pointer("/aggregationRule/clusterRoleSelectors").and_then(Value::as_array)
        else {
            continue;
        };
        for (selected, selected_body) in &roles {
            let labels = selected_body.pointer("/metadata/labels").and_then(Value::as_object);
            let empty = Map::new();
            let labels = labels.unwrap_or(&empty);
            if selected != aggregated && selectors.iter().any(|s| selector_matches(s, labels)) {
                pairs.push((*aggregated, *selected));
            }
        }
    }
    pairs
}

/// A Kubernetes `LabelSelector` (`matchLabels` and `matchExpressions`, ANDed) against `labels`. An
/// empty selector matches everything, as the API defines; a malformed one matches nothing.
pub(crate) fn selector_matches(selector: &Value, labels: &Map<String, Value>) -> bool {
    let Some(selector) = selector.as_object() else { return false };
    let label = |key: &str| labels.get(key).and_then(Value::as_str);
    let match_labels = selector.get("matchLabels").and_then(Value::as_object);
    let labels_match = match_labels
        .into_iter()
        .flatten()
        .all(|(key, value)| value.as_str().is_some_and(|value| label(key) == Some(value)));
    let expressions = selector.get("matchExpressions").and_then(Value::as_array);
    let expressions_match = expressions.into_iter().flatten().all(|expression| {
        let key = expression.get("key").and_then(Value::as_str).unwrap_or_default();
        let values: Vec<&str> = expression
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        match expression.get("operator").and_then(Value::as_str) {
            Some("In") => label(key).is_some_and(|v| values.contains(&v)),
            Some("NotIn") => label(key).is_none_or(|v| !values.contains(&v)),
            Some("Exists") => label(key).is_some(),
            Some("DoesNotExist") => label(key).is_none(),
            _ => false,
        }
    });
    labels_match && expressions_match
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn labels(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn match_labels_and_expressions_are_anded() {
        let selector = json!({
            "matchLabels": {"rbac.example.com/aggregate-to-admin": "true"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]
        });
        assert!(selector_matches(
            &selector,
            &labels(json!({"rbac.example.com/aggregate-to-admin": "true", "tier": "a"}))
        ));
        assert!(!selector_matches(
            &selector,
            &labels(json!({"rbac.example.com/aggregate-to-admin": "true"}))
        ));
        assert!(!selector_matches(&selector, &labels(json!({"tier": "a"}))));
    }

    #[test]
    fn every_operator_follows_the_api_definition() {
        let expression =
            |op: &str| json!({"matchExpressions": [{"key": "k", "operator": op, "values": ["v"]}]});
        let with = labels(json!({"k": "v"}));
        let other = labels(json!({"k": "w"}));
        let without = labels(json!({}));
        assert!(selector_matches(&expression("In"), &with) && !selector_matches(&expression("In"), &other));
        assert!(
            !selector_matches(&expression("NotIn"), &with)
                && selector_matches(&expression("NotIn"), &without)
        );
        assert!(
            selector_matches(&expression("Exists"), &other)
                && !selector_matches(&expression("Exists"), &without)
        );
        assert!(selector_matches(&expression("DoesNotExist"), &without));
        assert!(!selector_matches(&expression("Bogus"), &with), "an unknown operator matches nothing");
        assert!(selector_matches(&json!({}), &without), "an empty selector matches everything");
        assert!(!selector_matches(&json!("nope"), &with));
    }

    #[test]
    fn an_aggregated_role_pairs_with_the_roles_it_selects_and_never_itself() {
        let role = |name: &str, body: Value| {
            (ObjRef::new("rbac.authorization.k8s.io", "ClusterRole", None, name), body)
        };
        let admin = role(
            "admin",
            json!({"metadata": {"labels": {"agg": "true"}},
                   "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"agg": "true"}}]}}),
        );
        let edit = role("edit", json!({"metadata": {"labels": {"agg": "true"}}}));
        let view = role("view", json!({"metadata": {"labels": {"agg": "false"}}}));
        let nodes: Vec<(&ObjRef, &Value)> = [&admin, &edit, &view].iter().map(|(o, b)| (o, b)).collect();
        let pairs: Vec<(&str, &str)> =
            aggregation_pairs(&nodes).iter().map(|(a, s)| (a.name.as_str(), s.name.as_str())).collect();
        assert_eq!(pairs, [("admin", "edit")]);
    }
}
