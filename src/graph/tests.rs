//! Unit tests of the DAG, its waves and its schedulers, on small inline objects.

use serde_json::json;

use super::test_support::*;
use super::*;
use crate::object::{DEPENDS_ON, ObjRef, Object};

fn r(group: &str, kind: &str, namespace: Option<&str>, name: &str) -> ObjRef {
    ObjRef::new(group, kind, namespace, name)
}

fn cm(ns: &str, name: &str) -> ObjRef {
    r("", "ConfigMap", Some(ns), name)
}

fn ns_ref(name: &str) -> ObjRef {
    r("", "Namespace", None, name)
}

fn graph(objects: &[Object]) -> Graph {
    build(objects, no_mutations).expect("graph builds")
}

fn widget(ns: &str, name: &str) -> Object {
    obj(
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name, "namespace": ns}}),
    )
}

// ---- edges ----

#[test]
fn namespaced_object_depends_on_its_namespace_when_the_namespace_is_in_the_set() {
    let g = graph(&[config_map("app", "cfg"), namespace("app")]);
    assert_eq!(g.dependencies(&cm("app", "cfg")), [ns_ref("app")]);
    assert_eq!(g.edges(), [Edge { from: cm("app", "cfg"), to: ns_ref("app"), via: EdgeKind::Namespace }]);
}

#[test]
fn namespace_missing_from_the_set_is_neither_an_edge_nor_an_external_dependency() {
    let g = graph(&[config_map("app", "cfg"), namespace("other")]);
    assert!(g.dependencies(&cm("app", "cfg")).is_empty());
    assert!(g.external().is_empty());
}

#[test]
fn custom_resource_depends_on_the_crd_whose_spec_group_and_names_kind_match() {
    let g = graph(&[widget("app", "w"), crd("example.com", "Widget", "widgets")]);
    let crd_ref = r("apiextensions.k8s.io", "CustomResourceDefinition", None, "widgets.example.com");
    assert_eq!(g.dependencies(&r("example.com", "Widget", Some("app"), "w")), [crd_ref]);
    assert_eq!(g.edges()[0].via, EdgeKind::CustomResourceDefinition);
}

#[test]
fn custom_resource_of_another_group_does_not_depend_on_a_crd_of_the_same_kind() {
    let g = graph(&[widget("app", "w"), crd("other.io", "Widget", "widgets")]);
    assert!(g.edges().is_empty());
}

#[test]
fn depends_on_annotation_adds_an_edge_to_each_listed_object() {
    let g = graph(&[
        depending(
            "apps/v1",
            "Deployment",
            "app",
            "web",
            "/namespaces/app/ConfigMap/a,/namespaces/app/ConfigMap/b",
        ),
        config_map("app", "a"),
        config_map("app", "b"),
    ]);
    let web = r("apps", "Deployment", Some("app"), "web");
    assert_eq!(g.dependencies(&web), [cm("app", "a"), cm("app", "b")]);
    assert!(g.edges().iter().all(|e| e.via == EdgeKind::DependsOn));
}

#[test]
fn cluster_scoped_depends_on_entry_does_not_match_a_namespaced_object() {
    let g = graph(&[depending("v1", "Secret", "app", "s", "/ConfigMap/a"), config_map("app", "a")]);
    assert!(g.edges().is_empty());
    assert_eq!(g.external()[0].to, r("", "ConfigMap", None, "a"));
}

#[test]
fn mutation_sources_add_edges_and_repeated_sources_merge() {
    let objects = [config_map("app", "target"), config_map("app", "source")];
    let g = build(&objects, |o| {
        if o.obj_ref.name == "target" { vec![cm("app", "source"), cm("app", "source")] } else { vec![] }
    })
    .unwrap();
    assert_eq!(
        g.edges(),
        [Edge { from: cm("app", "target"), to: cm("app", "source"), via: EdgeKind::ApplyTimeMutation }]
    );
}

#[test]
fn depends_on_an_object_outside_the_set_is_an_external_dependency_not_an_error() {
    let g = graph(&[depending("v1", "Secret", "app", "s", "/namespaces/app/ConfigMap/elsewhere")]);
    assert!(g.edges().is_empty());
    assert_eq!(
        g.external(),
        [ExternalDependency {
            from: r("", "Secret", Some("app"), "s"),
            to: cm("app", "elsewhere"),
            via: EdgeKind::DependsOn
        }]
    );
    assert_eq!(
        g.external()[0].to_string(),
        "Secret/app/s depends on ConfigMap/app/elsewhere (depends-on), which is not in the object set"
    );
}

#[test]
fn mutation_source_outside_the_set_is_an_external_dependency() {
    let g = build(&[config_map("app", "t")], |_| vec![cm("app", "gone")]).unwrap();
    assert_eq!(g.external().len(), 1);
    assert_eq!(g.external()[0].via, EdgeKind::ApplyTimeMutation);
}

#[test]
fn an_edge_with_two_reasons_is_listed_per_reason_but_counted_as_one_dependency() {
    let g = graph(&[depending("v1", "ConfigMap", "app", "cfg", "/Namespace/app"), namespace("app")]);
    let vias: Vec<EdgeKind> = g.edges().iter().map(|e| e.via).collect();
    assert_eq!(vias, [EdgeKind::Namespace, EdgeKind::DependsOn]);
    assert_eq!(g.dependencies(&cm("app", "cfg")), [ns_ref("app")]);
    assert_eq!(g.dependents(&ns_ref("app")), [cm("app", "cfg")]);
}

#[test]
fn dependents_are_listed_in_kind_order() {
    let g = graph(&[widget("app", "w"), config_map("app", "b"), config_map("app", "a"), namespace("app")]);
    assert_eq!(
        names(&g.dependents(&ns_ref("app"))),
        ["ConfigMap/app/a", "ConfigMap/app/b", "Widget.example.com/app/w"]
    );
}

#[test]
fn objects_are_listed_in_kind_order_whatever_the_input_order() {
    let g = graph(&[widget("app", "w"), config_map("app", "cfg"), namespace("app")]);
    assert_eq!(names(g.objects()), ["Namespace/app", "ConfigMap/app/cfg", "Widget.example.com/app/w"]);
}

#[test]
fn an_object_not_in_the_graph_has_no_dependencies_or_dependents() {
    let g = graph(&[namespace("app")]);
    assert!(g.dependencies(&cm("x", "y")).is_empty());
    assert!(g.dependents(&cm("x", "y")).is_empty());
    assert!(!g.contains(&cm("x", "y")));
}

// ---- errors ----

#[test]
fn malformed_depends_on_is_an_error_naming_the_object_and_its_file() {
    let bad = obj_from(
        json!({"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "s", "namespace": "app", "annotations": {DEPENDS_ON: "v1/ConfigMap"}}}),
        "deploy/app.yaml",
        3,
    );
    let err = build(&[bad], no_mutations).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"Secret/app/s in deploy/app.yaml (document 3): invalid "config.kubernetes.io/depends-on" annotation: too many fields (expected 3 or 5): "v1/ConfigMap""#
    );
}

#[test]
fn repeated_depends_on_entry_is_an_error_naming_the_object_and_the_dependency() {
    let dup =
        depending("v1", "Secret", "app", "s", "/namespaces/app/ConfigMap/a, /namespaces/app/ConfigMap/a");
    let err = build(&[dup, config_map("app", "a")], no_mutations).unwrap_err();
    let GraphError::InvalidDependsOn { error, .. } = &err else { panic!("{err}") };
    assert!(matches!(**error, DependsOnError::Duplicate { .. }), "{err}");
    let text = err.to_string();
    assert!(text.starts_with("Secret/app/s in test.yaml (document "), "{text}");
    assert!(text.ends_with("duplicate dependency: ConfigMap/app/a"), "{text}");
}

#[test]
fn two_object_cycle_is_an_error_naming_both_in_cycle_order() {
    let err = build(
        &[
            depending("v1", "ConfigMap", "app", "b", "/namespaces/app/ConfigMap/a"),
            depending("v1", "ConfigMap", "app", "a", "/namespaces/app/ConfigMap/b"),
        ],
        no_mutations,
    )
    .unwrap_err();
    assert_eq!(err, GraphError::Cycle { objects: vec![cm("app", "a"), cm("app", "b")] });
    assert_eq!(
        err.to_string(),
        "dependency cycle: ConfigMap/app/a -> ConfigMap/app/b -> ConfigMap/app/a (each object depends on the next)"
    );
}

#[test]
fn three_object_cycle_is_an_error_naming_all_three_in_cycle_order() {
    let err = build(
        &[
            depending("v1", "ConfigMap", "app", "a", "/namespaces/app/Secret/c"),
            depending("v1", "Secret", "app", "c", "apps/namespaces/app/Deployment/b"),
            depending("apps/v1", "Deployment", "app", "b", "/namespaces/app/ConfigMap/a"),
        ],
        no_mutations,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "dependency cycle: ConfigMap/app/a -> Secret/app/c -> Deployment.apps/app/b -> ConfigMap/app/a \
         (each object depends on the next)"
    );
}

#[test]
fn cycle_is_found_even_when_objects_outside_it_depend_on_it() {
    let err = build(
        &[
            depending("v1", "ConfigMap", "app", "a", "/namespaces/app/ConfigMap/b"),
            depending("v1", "ConfigMap", "app", "b", "/namespaces/app/ConfigMap/c"),
            depending("v1", "ConfigMap", "app", "c", "/namespaces/app/ConfigMap/b"),
        ],
        no_mutations,
    )
    .unwrap_err();
    assert_eq!(err, GraphError::Cycle { objects: vec![cm("app", "b"), cm("app", "c")] });
}

#[test]
fn object_depending_on_itself_is_a_cycle_of_one() {
    let err = build(&[depending("v1", "ConfigMap", "app", "a", "/namespaces/app/ConfigMap/a")], no_mutations)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "dependency cycle: ConfigMap/app/a -> ConfigMap/app/a (each object depends on the next)"
    );
}

#[test]
fn mutation_source_pointing_at_itself_is_a_cycle_of_one() {
    let err = build(&[config_map("app", "a")], |_| vec![cm("app", "a")]).unwrap_err();
    assert_eq!(err, GraphError::Cycle { objects: vec![cm("app", "a")] });
}

#[test]
fn namespace_depending_on_its_own_contents_is_a_cycle_through_the_implicit_edge() {
    let ns = obj(json!({"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": "app", "annotations": {DEPENDS_ON: "/namespaces/app/ConfigMap/a"}}}));
    let err = build(&[ns, config_map("app", "a")], no_mutations).unwrap_err();
    assert_eq!(err, GraphError::Cycle { objects: vec![ns_ref("app"), cm("app", "a")] });
}

#[test]
fn the_same_object_twice_is_an_error_naming_both_documents() {
    let err = build(
        &[
            obj_from(
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}),
                "one.yaml",
                1,
            ),
            obj_from(
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}),
                "two.yaml",
                4,
            ),
        ],
        no_mutations,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "duplicate object Namespace/a: defined in one.yaml (document 1) and again in two.yaml (document 4)"
    );
}

// ---- waves ----

#[test]
fn waves_are_topological_levels_each_in_kind_order() {
    let g = graph(&[
        widget("app", "w"),
        crd("example.com", "Widget", "widgets"),
        depending("apps/v1", "Deployment", "app", "web", "/namespaces/app/ConfigMap/cfg"),
        config_map("app", "cfg"),
        namespace("app"),
    ]);
    assert_eq!(
        wave_names(&g.waves()),
        [
            vec!["Namespace/app", "CustomResourceDefinition.apiextensions.k8s.io/widgets.example.com"],
            vec!["ConfigMap/app/cfg", "Widget.example.com/app/w"],
            vec!["Deployment.apps/app/web"],
        ]
    );
}

#[test]
fn waves_do_not_depend_on_input_order() {
    let objects = || {
        vec![
            namespace("app"),
            config_map("app", "b"),
            depending("v1", "Secret", "app", "s", "/namespaces/app/ConfigMap/b"),
            config_map("app", "a"),
            widget("other", "w"),
        ]
    };
    let forward = graph(&objects());
    let mut reversed = objects();
    reversed.reverse();
    let backward = graph(&reversed);
    assert_eq!(forward.waves(), backward.waves());
    assert_eq!(forward.edges(), backward.edges());
    assert_eq!(forward.delete_waves(), backward.delete_waves());
}

#[test]
fn independent_objects_all_land_in_the_first_wave() {
    let g = graph(&[config_map("a", "x"), widget("b", "y"), namespace("c")]);
    assert_eq!(g.waves().len(), 1);
    assert_eq!(names(&g.waves()[0]), ["Namespace/c", "ConfigMap/a/x", "Widget.example.com/b/y"]);
}

#[test]
fn an_empty_set_has_no_waves() {
    let g = graph(&[]);
    assert!(g.waves().is_empty());
    assert!(g.delete_waves().is_empty());
    assert!(g.scheduler().is_finished());
}

#[test]
fn delete_waves_remove_custom_resources_before_their_crd_and_contents_before_their_namespace() {
    let g = graph(&[
        widget("app", "w"),
        crd("example.com", "Widget", "widgets"),
        config_map("app", "cfg"),
        namespace("app"),
    ]);
    assert_eq!(
        wave_names(&g.delete_waves()),
        [
            vec!["Widget.example.com/app/w", "ConfigMap/app/cfg"],
            vec!["CustomResourceDefinition.apiextensions.k8s.io/widgets.example.com", "Namespace/app"],
        ]
    );
}

#[test]
fn delete_waves_remove_an_object_nothing_depends_on_in_the_first_wave() {
    // web -> cfg -> ns takes three waves; the unrelated secret need not wait for them.
    let g = graph(&[
        namespace("app"),
        config_map("app", "cfg"),
        depending("apps/v1", "Deployment", "app", "web", "/namespaces/app/ConfigMap/cfg"),
        obj(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "other"}})),
    ]);
    assert_eq!(
        wave_names(&g.delete_waves()),
        [vec!["Deployment.apps/app/web", "Secret/other/s"], vec!["ConfigMap/app/cfg"], vec!["Namespace/app"]]
    );
}

// ---- scheduler ----

#[test]
fn ready_set_starts_with_the_objects_without_dependencies_in_kind_order() {
    let g = graph(&[
        widget("app", "w"),
        config_map("x", "c"),
        namespace("app"),
        crd("example.com", "Widget", "widgets"),
    ]);
    let s = g.scheduler();
    assert_eq!(
        names(&s.ready()),
        [
            "Namespace/app",
            "CustomResourceDefinition.apiextensions.k8s.io/widgets.example.com",
            "ConfigMap/x/c"
        ]
    );
}

#[test]
fn place_is_the_rank_in_kind_order_and_its_reverse_for_deletion() {
    let g = graph(&[config_map("x", "c"), namespace("app"), crd("example.com", "Widget", "widgets")]);
    let crd_ref = r("apiextensions.k8s.io", "CustomResourceDefinition", None, "widgets.example.com");
    let apply = g.scheduler();
    let places: Vec<usize> =
        [ns_ref("app"), crd_ref.clone(), cm("x", "c")].iter().map(|o| apply.place(o)).collect();
    assert_eq!(places, [0, 1, 2]);
    let delete = g.delete_scheduler();
    let places: Vec<usize> = [cm("x", "c"), crd_ref, ns_ref("app")].iter().map(|o| delete.place(o)).collect();
    assert_eq!(places, [0, 1, 2]);
}

#[test]
fn an_object_becomes_ready_only_once_all_its_dependencies_complete() {
    let g = graph(&[widget("app", "w"), namespace("app"), crd("example.com", "Widget", "widgets")]);
    let w = r("example.com", "Widget", Some("app"), "w");
    let crd_ref = r("apiextensions.k8s.io", "CustomResourceDefinition", None, "widgets.example.com");
    let mut s = g.scheduler();
    s.start(&ns_ref("app"));
    s.start(&crd_ref);
    s.complete(&ns_ref("app"));
    assert_eq!(s.state(&w), Some(TaskState::Blocked));
    assert!(s.ready().is_empty());
    s.complete(&crd_ref);
    assert_eq!(s.ready(), std::slice::from_ref(&w));
    assert_eq!(s.state(&w), Some(TaskState::Ready));
}

#[test]
fn started_objects_are_not_handed_out_again() {
    let g = graph(&[config_map("a", "x"), config_map("a", "y")]);
    let mut s = g.scheduler();
    s.start(&cm("a", "x"));
    assert_eq!(s.ready(), [cm("a", "y")]);
    assert_eq!(s.state(&cm("a", "x")), Some(TaskState::Running));
}

#[test]
fn a_failure_skips_only_its_dependents_while_an_independent_branch_carries_on() {
    let g = graph(&[
        namespace("a"),
        config_map("a", "cfg"),
        depending("apps/v1", "Deployment", "a", "web", "/namespaces/a/ConfigMap/cfg"),
        namespace("b"),
        config_map("b", "cfg"),
    ]);
    let mut s = g.scheduler();
    for r in s.ready() {
        s.start(&r);
    }
    let skipped = s.fail(&ns_ref("a"));
    assert_eq!(names(&skipped), ["ConfigMap/a/cfg", "Deployment.apps/a/web"]);
    assert!(!s.is_finished());
    s.complete(&ns_ref("b"));
    assert_eq!(s.ready(), [cm("b", "cfg")]);
    s.start(&cm("b", "cfg"));
    s.complete(&cm("b", "cfg"));
    assert!(s.is_finished());
    assert_eq!(s.state(&cm("a", "cfg")), Some(TaskState::Skipped));
    assert_eq!(s.state(&ns_ref("a")), Some(TaskState::Failed));
}

#[test]
fn a_failure_does_not_skip_a_dependent_twice() {
    let g = graph(&[
        config_map("a", "x"),
        config_map("a", "y"),
        depending("v1", "Secret", "a", "s", "/namespaces/a/ConfigMap/x,/namespaces/a/ConfigMap/y"),
    ]);
    let mut s = g.scheduler();
    s.start(&cm("a", "x"));
    s.start(&cm("a", "y"));
    assert_eq!(s.fail(&cm("a", "x")).len(), 1);
    assert!(s.fail(&cm("a", "y")).is_empty());
    assert!(s.is_finished());
}

#[test]
fn an_object_may_fail_before_it_is_ready_and_its_dependents_are_skipped() {
    let g = graph(&[
        namespace("a"),
        config_map("a", "x"),
        depending("v1", "Secret", "a", "s", "/namespaces/a/ConfigMap/x"),
    ]);
    let mut s = g.scheduler();
    let skipped = s.fail(&cm("a", "x"));
    assert_eq!(skipped, [r("", "Secret", Some("a"), "s")]);
    assert_eq!(s.ready(), [ns_ref("a")]);
}

#[test]
fn failing_an_already_skipped_object_does_nothing() {
    let g = graph(&[namespace("a"), config_map("a", "x")]);
    let mut s = g.scheduler();
    s.fail(&ns_ref("a"));
    assert!(s.fail(&cm("a", "x")).is_empty());
    assert_eq!(s.state(&cm("a", "x")), Some(TaskState::Skipped));
}

#[test]
#[should_panic(expected = "cannot start ConfigMap/a/x: it is Blocked")]
fn starting_a_blocked_object_is_a_bug_and_panics() {
    let g = graph(&[namespace("a"), config_map("a", "x")]);
    g.scheduler().start(&cm("a", "x"));
}

#[test]
fn a_ready_object_may_be_completed_without_being_started() {
    let g = graph(&[namespace("a"), config_map("a", "x")]);
    let mut s = g.scheduler();
    s.complete(&ns_ref("a"));
    assert_eq!(s.ready(), [cm("a", "x")]);
}

#[test]
fn delete_scheduler_releases_a_namespace_only_after_its_contents_are_gone() {
    let g = graph(&[namespace("a"), config_map("a", "x"), config_map("a", "y"), config_map("b", "z")]);
    let mut s = g.delete_scheduler();
    assert_eq!(names(&s.ready()), ["ConfigMap/b/z", "ConfigMap/a/y", "ConfigMap/a/x"]);
    s.complete(&cm("a", "x"));
    assert!(!s.ready().contains(&ns_ref("a")));
    s.complete(&cm("a", "y"));
    assert!(s.ready().contains(&ns_ref("a")));
}

#[test]
fn a_failed_delete_keeps_what_it_depends_on() {
    let g = graph(&[namespace("a"), config_map("a", "x"), namespace("b")]);
    let mut s = g.delete_scheduler();
    let skipped = s.fail(&cm("a", "x"));
    assert_eq!(skipped, [ns_ref("a")]);
    assert_eq!(s.ready(), [ns_ref("b")]);
}

// ---- deletion of prune candidates ----

#[test]
fn delete_order_uses_namespace_crd_and_depends_on_edges_from_live_bodies() {
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}});
    let crd_body = crd("example.com", "Widget", "widgets").body;
    let w = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "app"}});
    let cfg = json!({"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": "cfg", "namespace": "other",
                                  "annotations": {DEPENDS_ON: "example.com/namespaces/app/Widget/w"}}});
    let items: Vec<(ObjRef, &serde_json::Value)> =
        [&ns, &crd_body, &w, &cfg].into_iter().map(|v| (ObjRef::from_value(v).unwrap(), v)).collect();
    assert_eq!(
        wave_names(&delete_order(&items)),
        [
            vec!["ConfigMap/other/cfg"],
            vec!["Widget.example.com/app/w"],
            vec!["CustomResourceDefinition.apiextensions.k8s.io/widgets.example.com", "Namespace/app"],
        ]
    );
}

#[test]
fn an_aggregated_cluster_role_is_deleted_before_the_roles_it_selects() {
    // Regression: deleted after them, the aggregation controller re-created it once kapply saw it gone.
    let role = |name: &str, extra: serde_json::Value| {
        let mut body = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                              "metadata": {"name": name, "labels": {"aggregate-to-admin": "true"}}});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let admin = role(
        "admin",
        json!({"aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"aggregate-to-admin": "true"}}]}}),
    );
    let edit = role("edit", json!({}));
    let view = role("view", json!({}));
    let items: Vec<(ObjRef, &serde_json::Value)> =
        [&edit, &view, &admin].into_iter().map(|v| (ObjRef::from_value(v).unwrap(), v)).collect();
    assert_eq!(
        wave_names(&delete_order(&items)),
        [
            vec!["ClusterRole.rbac.authorization.k8s.io/admin"],
            vec!["ClusterRole.rbac.authorization.k8s.io/view", "ClusterRole.rbac.authorization.k8s.io/edit"],
        ]
    );
}

#[test]
fn delete_order_without_edges_is_one_wave_in_reversed_kind_order() {
    let a = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "x"}});
    let b =
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "b", "namespace": "x"}});
    let c = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "y"}});
    let items: Vec<(ObjRef, &serde_json::Value)> =
        [&a, &b, &c].into_iter().map(|v| (ObjRef::from_value(v).unwrap(), v)).collect();
    assert_eq!(
        wave_names(&delete_order(&items)),
        [vec!["Deployment.apps/x/b", "ConfigMap/x/a", "Namespace/y"]]
    );
}

#[test]
fn delete_order_ignores_malformed_depends_on_and_edges_leaving_the_set() {
    let a = json!({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "a", "namespace": "x",
                                "annotations": {DEPENDS_ON: "garbage,/namespaces/x/Secret/s,/namespaces/x/Secret/gone"}}});
    let s = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "x"}});
    let items = [(ObjRef::from_value(&a).unwrap(), &a), (ObjRef::from_value(&s).unwrap(), &s)];
    assert_eq!(wave_names(&delete_order(&items)), [vec!["ConfigMap/x/a"], vec!["Secret/x/s"]]);
}

#[test]
fn delete_order_breaks_a_cycle_by_falling_back_to_reversed_kind_order() {
    let a = json!({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "a", "namespace": "x", "annotations": {DEPENDS_ON: "/namespaces/x/Secret/s"}}});
    let s = json!({"apiVersion": "v1", "kind": "Secret",
                   "metadata": {"name": "s", "namespace": "x", "annotations": {DEPENDS_ON: "/namespaces/x/ConfigMap/a"}}});
    let items = [(ObjRef::from_value(&a).unwrap(), &a), (ObjRef::from_value(&s).unwrap(), &s)];
    assert_eq!(wave_names(&delete_order(&items)), [vec!["Secret/x/s"], vec!["ConfigMap/x/a"]]);
}

#[test]
fn deletion_graph_merges_repeated_candidates() {
    let a = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "x"}});
    let items = [(ObjRef::from_value(&a).unwrap(), &a), (ObjRef::from_value(&a).unwrap(), &a)];
    assert_eq!(deletion_graph(&items).len(), 1);
}
