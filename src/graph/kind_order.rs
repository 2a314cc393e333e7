//! Kind order: the fixed apply order of well-known kinds ([`kind_rank`]) and the comparators built on it.
//!
//! The table is cli-utils' `pkg/ordering/sort.go`. It matches on the typed group *and* kind, as cli-utils
//! does, so an `example.com/Namespace` custom resource is an ordinary kind, not a namespace. Deprecated
//! groups that cli-utils lists (`extensions/Deployment`, `extensions/PodSecurityPolicy`) keep their own
//! rank just before their successor, so old manifests sort exactly as cli-utils sorts them.
//!
//! Kind order only breaks ties: dependency edges decide *when* an object may be applied, kind order
//! decides in which order objects that are ready at the same time are listed and started.

use std::cmp::Ordering;

use crate::object::{GroupKind, ObjRef};

/// Kinds applied before all others, in this order (group, kind).
const FIRST: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "ResourceQuota"),
    ("storage.k8s.io", "StorageClass"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("", "ServiceAccount"),
    ("extensions", "PodSecurityPolicy"),
    ("policy", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("", "ConfigMap"),
    ("", "Secret"),
    ("", "Service"),
    ("", "LimitRange"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("extensions", "Deployment"),
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("batch", "CronJob"),
    ("policy", "PodDisruptionBudget"),
];

/// Kinds applied after all others, in this order. A validating webhook comes last so that it cannot
/// reject the objects of the very set that installs it.
const LAST: &[(&str, &str)] = &[("admissionregistration.k8s.io", "ValidatingWebhookConfiguration")];

/// The rank shared by every kind missing from the table.
pub const OTHER_RANK: u32 = FIRST.len() as u32;

/// Position of a group-kind in the apply order: `0` for `Namespace`, [`OTHER_RANK`] for any kind not in
/// the table, above it for the kinds applied last. Lower ranks are applied first and deleted last.
pub fn kind_rank(gk: &GroupKind) -> u32 {
    rank_of(&gk.group, &gk.kind)
}

fn rank_of(group: &str, kind: &str) -> u32 {
    let position = |table: &[(&str, &str)]| table.iter().position(|&(g, k)| g == group && k == kind);
    if let Some(i) = position(FIRST) {
        i as u32
    } else if let Some(i) = position(LAST) {
        OTHER_RANK + 1 + i as u32
    } else {
        OTHER_RANK
    }
}

/// Apply order of two objects: kind rank, then group, then kind, then namespace (cluster-scoped first),
/// then name.
///
/// The group-kind tie-break compares group before kind, exactly like cli-utils' `IsLessThan`; it is not
/// the `Kind.group` display string. The result is a total order consistent with `ObjRef`'s `Eq`, so
/// sorting with it is deterministic whatever the input order.
pub fn cmp_kind_order(a: &ObjRef, b: &ObjRef) -> Ordering {
    rank_of(&a.group, &a.kind)
        .cmp(&rank_of(&b.group, &b.kind))
        .then_with(|| a.group.cmp(&b.group))
        .then_with(|| a.kind.cmp(&b.kind))
        .then_with(|| a.namespace_or_empty().cmp(b.namespace_or_empty()))
        .then_with(|| a.name.cmp(&b.name))
}

/// Delete order: the exact reverse of [`cmp_kind_order`], as cli-utils reverses its apply order.
pub fn cmp_delete_order(a: &ObjRef, b: &ObjRef) -> Ordering {
    cmp_kind_order(b, a)
}

/// Sorts references into apply order ([`cmp_kind_order`]).
pub fn sort_by_kind_order(refs: &mut [ObjRef]) {
    refs.sort_by(cmp_kind_order);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(group: &str, kind: &str, namespace: Option<&str>, name: &str) -> ObjRef {
        ObjRef::new(group, kind, namespace, name)
    }

    #[test]
    fn table_kinds_are_ranked_in_cli_utils_order() {
        let order = [
            ("", "Namespace"),
            ("", "ResourceQuota"),
            ("storage.k8s.io", "StorageClass"),
            ("apiextensions.k8s.io", "CustomResourceDefinition"),
            ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
            ("", "ServiceAccount"),
            ("policy", "PodSecurityPolicy"),
            ("rbac.authorization.k8s.io", "Role"),
            ("rbac.authorization.k8s.io", "ClusterRole"),
            ("rbac.authorization.k8s.io", "RoleBinding"),
            ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
            ("", "ConfigMap"),
            ("", "Secret"),
            ("", "Service"),
            ("", "LimitRange"),
            ("scheduling.k8s.io", "PriorityClass"),
            ("apps", "Deployment"),
            ("apps", "StatefulSet"),
            ("batch", "CronJob"),
            ("policy", "PodDisruptionBudget"),
            ("example.com", "Widget"),
            ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ];
        let ranks: Vec<u32> = order.iter().map(|(g, k)| kind_rank(&GroupKind::new(*g, *k))).collect();
        assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{ranks:?}");
    }

    #[test]
    fn namespace_is_ranked_first_and_validating_webhooks_last() {
        assert_eq!(kind_rank(&GroupKind::new("", "Namespace")), 0);
        let vwc =
            kind_rank(&GroupKind::new("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"));
        assert_eq!(vwc, OTHER_RANK + 1);
    }

    #[test]
    fn kinds_match_on_group_as_well_as_kind() {
        assert_eq!(kind_rank(&GroupKind::new("example.com", "Namespace")), OTHER_RANK);
        assert_eq!(kind_rank(&GroupKind::new("", "Deployment")), OTHER_RANK);
        assert_eq!(kind_rank(&GroupKind::new("", "StorageClass")), OTHER_RANK);
        assert_eq!(kind_rank(&GroupKind::new("rbac.authorization.k8s.io", "Role")), 8);
    }

    #[test]
    fn deprecated_groups_keep_their_cli_utils_rank() {
        let ext = kind_rank(&GroupKind::new("extensions", "Deployment"));
        let apps = kind_rank(&GroupKind::new("apps", "Deployment"));
        assert_eq!(ext + 1, apps);
        let ext_psp = kind_rank(&GroupKind::new("extensions", "PodSecurityPolicy"));
        assert_eq!(ext_psp + 1, kind_rank(&GroupKind::new("policy", "PodSecurityPolicy")));
    }

    #[test]
    fn unlisted_kinds_tie_break_on_group_then_kind() {
        let mut v = vec![
            r("b.example.com", "Apple", None, "x"),
            r("a.example.com", "Zebra", None, "x"),
            r("", "Pod", Some("ns"), "x"),
            r("a.example.com", "Apple", None, "x"),
        ];
        sort_by_kind_order(&mut v);
        let shown: Vec<String> = v.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            ["Pod/ns/x", "Apple.a.example.com/x", "Zebra.a.example.com/x", "Apple.b.example.com/x"]
        );
    }

    #[test]
    fn same_kind_ties_break_on_namespace_then_name_with_cluster_scoped_first() {
        let mut v = vec![
            r("", "ConfigMap", Some("b"), "a"),
            r("", "ConfigMap", Some("a"), "z"),
            r("", "ConfigMap", Some("a"), "b"),
        ];
        sort_by_kind_order(&mut v);
        let shown: Vec<String> = v.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["ConfigMap/a/b", "ConfigMap/a/z", "ConfigMap/b/a"]);
        let cluster = r("example.com", "Thing", None, "z");
        let namespaced = r("example.com", "Thing", Some("a"), "a");
        assert_eq!(cmp_kind_order(&cluster, &namespaced), Ordering::Less);
    }

    #[test]
    fn table_rank_wins_over_names_and_groups() {
        let ns = r("", "Namespace", None, "zzz");
        let crd = r("apiextensions.k8s.io", "CustomResourceDefinition", None, "a");
        let deploy = r("apps", "Deployment", Some("a"), "a");
        assert_eq!(cmp_kind_order(&ns, &crd), Ordering::Less);
        assert_eq!(cmp_kind_order(&crd, &deploy), Ordering::Less);
    }

    #[test]
    fn delete_order_is_the_reverse_of_apply_order() {
        let ns = r("", "Namespace", None, "a");
        let cm = r("", "ConfigMap", Some("a"), "a");
        assert_eq!(cmp_kind_order(&ns, &cm), Ordering::Less);
        assert_eq!(cmp_delete_order(&ns, &cm), Ordering::Greater);
    }
}
