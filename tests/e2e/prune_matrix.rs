//! The prune safety matrix: every safety filter, end to end, with zero wrong deletions.
//!
//! Each [`Case`] of [`cases`] names a filter and builds a [`Scenario`]: a package is applied, then
//! changed (files removed or rewritten) and the cluster changed out of band, so that one object — the
//! *protected* one — becomes a prune candidate that the filter must keep. A second apply must then:
//!
//! - report the protected object's `prune` line with the filter's status, reason code and message
//!   (and a warning where the filter prints one);
//! - prune the case's *control* ConfigMap, removed from the set at the same time — so that a case cannot
//!   pass by pruning nothing;
//! - delete nothing else: every object of the case's namespaces (ConfigMaps, Events, custom resources),
//!   its Namespaces and its CRD are listed before and after, and only the control may be missing or
//!   have another UID — the protected object is there with the same UID;
//! - leave the protected object's owning-inventory annotation as expected, and the inventory listing
//!   exactly the expected keys.
//!
//! A third apply of the same set must delete nothing at all and leave the inventory as it was: a
//! protection that lasts one run only is no protection ([`abandoned_with_a_kept_object_cases`] once
//! failed that way).
//!
//! The cases run in parallel, one thread and one test namespace each.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, PostParams};
use kube::discovery::ApiResource;
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use crate::apply::{CrdCleanup, Package, config_map, widget_crd};
use crate::support::{CreatedNamespace, TestNamespace, client, eventually, unique_name};

const OWNING_INVENTORY: &str = "config.k8s.io/owning-inventory";
const ON_REMOVE: &str = "cli-utils.sigs.k8s.io/on-remove";
const LIFECYCLE_DELETION: &str = "client.lifecycle.config.k8s.io/deletion";
const DEPENDS_ON: &str = "config.kubernetes.io/depends-on";

/// One row of the matrix: a safety filter and how to make it protect something.
struct Case {
    /// Short, unique: names the test namespace.
    id: &'static str,
    /// The filter, in words.
    filter: &'static str,
    scenario: fn(&Names) -> Scenario,
}

/// What a case's manifests may name: fresh for each case.
struct Names {
    /// The test namespace: where the inventory lives unless [`Scenario::inventory_in_app`].
    ns: String,
    /// A Namespace the package itself creates (the cases about Namespaces); deleted at the end.
    app: String,
    /// The API group of the case's `Widget` CRD (the cases about CRDs); the CRD is deleted at the end.
    group: String,
    /// The id of the case's inventory.
    id: String,
    /// The id of a second inventory (the other-inventory case).
    other_id: String,
}

struct Scenario {
    /// The inventory lives in [`Names::app`] (created by the package) instead of [`Names::ns`].
    inventory_in_app: bool,
    /// Files of the first apply, besides the inventory template, `control.yaml` and `stays.yaml`.
    files: Vec<(&'static str, String)>,
    /// What happens between the first and the second apply, in order (`control.yaml` is removed too).
    steps: Vec<Step>,
    /// The object the filter must keep: a prune candidate of the second apply.
    protected: Obj,
    /// It exists after the second apply, with the UID it had before. False only where the change that
    /// made it a candidate deleted it (a CRD deleted out of band takes its custom resources along).
    survives: bool,
    /// The second apply's `prune` line for it.
    prune_line: Expected,
    /// A fragment of a `warning` line the second apply must print about it.
    warning: Option<String>,
    /// Its owning-inventory annotation after the second apply (when it survives).
    owner_after: Option<String>,
    /// The inventory's keys after the second apply, besides `stays`.
    inventory_after: Vec<String>,
}

/// A `prune` line: status, reason code, a fragment of the message.
struct Expected {
    status: &'static str,
    reason: &'static str,
    message: String,
}

fn expect(status: &'static str, reason: &'static str, message: impl Into<String>) -> Expected {
    Expected { status, reason, message: message.into() }
}

/// A change between the first and the second apply.
enum Step {
    /// The file leaves the package.
    Remove(&'static str),
    /// The file is written (replaced) in the package.
    Write(&'static str, String),
    /// A second package, inventory [`Names::other_id`] in [`Names::ns`], applies these files with
    /// `--inventory-policy adopt-all`, taking them over.
    TakeOver(Vec<(&'static str, String)>),
    /// The case's CRD is deleted out of band; the step ends once the API server no longer serves its
    /// kind.
    DeleteCrd,
    /// Someone else deletes this ConfigMap and creates another under the same name, without our
    /// owning-inventory annotation.
    Recreate { namespace: String, name: &'static str },
}

/// The matrix: one case per safety filter of the prune (docs/safety.md, "Pruning deletes only what is
/// ours").
fn cases() -> Vec<Case> {
    vec![
        Case {
            id: "other-inventory",
            filter: "owned by another inventory",
            scenario: |n| Scenario {
                files: vec![("shared.yaml", config_map_in(&n.ns, "shared", json!({})))],
                steps: vec![
                    Step::TakeOver(vec![("shared.yaml", config_map_in(&n.ns, "shared", json!({})))]),
                    Step::Remove("shared.yaml"),
                ],
                protected: Obj::config_map(&n.ns, "shared"),
                prune_line: expect(
                    "skipped",
                    "OwnedByAnotherInventory",
                    format!("owned by another inventory ({})", n.other_id),
                ),
                owner_after: Some(n.other_id.clone()),
                // A skip keeps the entry: a later run checks again.
                inventory_after: vec![key(&n.ns, "shared", "", "ConfigMap")],
                ..Scenario::new()
            },
        },
        Case {
            id: "keep",
            filter: "cli-utils.sigs.k8s.io/on-remove: keep",
            scenario: |n| Scenario {
                files: vec![("kept.yaml", config_map_in(&n.ns, "kept", json!({ON_REMOVE: "keep"})))],
                steps: vec![Step::Remove("kept.yaml")],
                protected: Obj::config_map(&n.ns, "kept"),
                prune_line: expect(
                    "abandoned",
                    "OnRemoveKeep",
                    "annotated cli-utils.sigs.k8s.io/on-remove: keep",
                ),
                // Abandoned: our claim is removed, and it leaves the inventory.
                owner_after: None,
                inventory_after: vec![],
                ..Scenario::new()
            },
        },
        Case {
            id: "detach",
            filter: "client.lifecycle.config.k8s.io/deletion: detach",
            scenario: |n| Scenario {
                files: vec![(
                    "detached.yaml",
                    config_map_in(&n.ns, "detached", json!({LIFECYCLE_DELETION: "detach"})),
                )],
                steps: vec![Step::Remove("detached.yaml")],
                protected: Obj::config_map(&n.ns, "detached"),
                prune_line: expect(
                    "abandoned",
                    "LifecycleDetach",
                    "annotated client.lifecycle.config.k8s.io/deletion: detach",
                ),
                owner_after: None,
                inventory_after: vec![],
                ..Scenario::new()
            },
        },
        Case {
            id: "ns-holds-set",
            filter: "a Namespace still holding an object of the set",
            scenario: |n| Scenario {
                files: vec![
                    ("ns.yaml", namespace(&n.app)),
                    ("inner.yaml", config_map_in(&n.app, "inner", json!({}))),
                ],
                steps: vec![Step::Remove("ns.yaml")],
                protected: Obj::namespace(&n.app),
                prune_line: expect(
                    "skipped",
                    "NamespaceInUse",
                    "namespace still holds applied objects or the inventory",
                ),
                owner_after: Some(n.id.clone()),
                inventory_after: vec![
                    key("", &n.app, "", "Namespace"),
                    key(&n.app, "inner", "", "ConfigMap"),
                ],
                ..Scenario::new()
            },
        },
        Case {
            id: "ns-holds-inventory",
            filter: "a Namespace still holding the inventory",
            // The set keeps nothing in the Namespace (`stays` is in the test namespace): only the
            // inventory is there. The control, in it too, is pruned first.
            scenario: |n| Scenario {
                inventory_in_app: true,
                files: vec![("ns.yaml", namespace(&n.app))],
                steps: vec![Step::Remove("ns.yaml")],
                protected: Obj::namespace(&n.app),
                prune_line: expect(
                    "skipped",
                    "NamespaceInUse",
                    "namespace still holds applied objects or the inventory",
                ),
                owner_after: Some(n.id.clone()),
                inventory_after: vec![key("", &n.app, "", "Namespace")],
                ..Scenario::new()
            },
        },
        Case {
            id: "uid-just-applied",
            filter: "the UID just applied under another reference",
            // The real case of one object under two references: Events are served both as `v1` Event
            // (group "") and `events.k8s.io/v1` Event, one stored object. The first apply records
            // `<ns>_ev1__Event`; the second applies the same Event as `events.k8s.io/v1`, so the core
            // reference is a candidate whose live object has the UID just applied. The Event carries
            // the fields both versions require, so that either may be applied.
            scenario: |n| Scenario {
                files: vec![("event.yaml", core_event(&n.ns))],
                steps: vec![Step::Write("event.yaml", events_k8s_io_event(&n.ns))],
                protected: Obj::event(&n.ns, "ev1"),
                prune_line: expect(
                    "skipped",
                    "SameAsApplied",
                    format!(
                        "same object (same UID) as Event.events.k8s.io/{}/ev1, applied in this run",
                        n.ns
                    ),
                ),
                owner_after: Some(n.id.clone()),
                // The stale reference is dropped; the new one recorded.
                inventory_after: vec![key(&n.ns, "ev1", "events.k8s.io", "Event")],
                ..Scenario::new()
            },
        },
        Case {
            id: "depends-on",
            filter: "a dependency (depends-on) of an object still applied",
            scenario: |n| Scenario {
                files: vec![
                    ("dep.yaml", config_map_in(&n.ns, "dep", json!({}))),
                    ("user.yaml", config_map_in(&n.ns, "user", depends_on_config_map(&n.ns, "dep"))),
                ],
                steps: vec![Step::Remove("dep.yaml")],
                protected: Obj::config_map(&n.ns, "dep"),
                prune_line: expect(
                    "skipped",
                    "DependentExists",
                    format!("ConfigMap/{}/user depends on it and still exists", n.ns),
                ),
                owner_after: Some(n.id.clone()),
                inventory_after: vec![
                    key(&n.ns, "dep", "", "ConfigMap"),
                    key(&n.ns, "user", "", "ConfigMap"),
                ],
                ..Scenario::new()
            },
        },
        Case {
            id: "crd-in-use",
            filter: "a CRD whose kind the set still uses",
            scenario: |n| Scenario {
                files: vec![
                    ("crd.yaml", widget_crd(&n.group)),
                    ("widget.yaml", widget(&n.group, &n.ns, "w1")),
                ],
                steps: vec![Step::Remove("crd.yaml")],
                protected: Obj::crd(&n.group),
                prune_line: expect(
                    "skipped",
                    "DependentExists",
                    format!("Widget.{}/{}/w1 depends on it and still exists", n.group, n.ns),
                ),
                owner_after: Some(n.id.clone()),
                inventory_after: vec![
                    key(
                        "",
                        &format!("widgets.{}", n.group),
                        "apiextensions.k8s.io",
                        "CustomResourceDefinition",
                    ),
                    key(&n.ns, "w1", &n.group, "Widget"),
                ],
                ..Scenario::new()
            },
        },
        Case {
            id: "kind-not-served",
            filter: "a kind no longer served",
            // Both leave the set and the CRD is deleted out of band, taking w1 along: the prune must
            // skip w1 with a warning (it cannot even be looked up), find the CRD already gone, prune
            // the control and succeed.
            scenario: |n| Scenario {
                files: vec![
                    ("crd.yaml", widget_crd(&n.group)),
                    ("widget.yaml", widget(&n.group, &n.ns, "w1")),
                ],
                steps: vec![Step::Remove("crd.yaml"), Step::Remove("widget.yaml"), Step::DeleteCrd],
                protected: Obj::widget(&n.group, &n.ns, "w1"),
                survives: false,
                prune_line: expect("skipped", "KindNotServed", "its kind is no longer served by the cluster"),
                warning: Some(format!(
                    "not pruned: the cluster no longer serves Widget.{}; it stays in the inventory",
                    n.group
                )),
                owner_after: None,
                // Recorded still (a skip); the CRD, found gone, is dropped.
                inventory_after: vec![key(&n.ns, "w1", &n.group, "Widget")],
                ..Scenario::new()
            },
        },
        Case {
            id: "recreated",
            filter: "an object re-created by someone else under the same name",
            // Deleted and re-created without our annotation between two runs: under the default policy
            // (strict) it is not ours, whatever the inventory says. (Deletes also carry the UID seen
            // by the prune's LIST as a precondition, which covers a re-creation between that LIST and
            // the delete: tests/e2e/cluster.rs, `delete_honours_the_uid_precondition_…`.)
            scenario: |n| Scenario {
                files: vec![("victim.yaml", config_map_in(&n.ns, "victim", json!({})))],
                steps: vec![
                    Step::Remove("victim.yaml"),
                    Step::Recreate { namespace: n.ns.clone(), name: "victim" },
                ],
                protected: Obj::config_map(&n.ns, "victim"),
                prune_line: expect(
                    "skipped",
                    "NotOwned",
                    "not owned by this inventory (no owning-inventory annotation)",
                ),
                owner_after: None,
                inventory_after: vec![key(&n.ns, "victim", "", "ConfigMap")],
                ..Scenario::new()
            },
        },
    ]
}

/// What an abandoned object depends on is abandoned with it: kept in the cluster, our annotation
/// removed, dropped from the inventory. (Recorded as a skipped prune instead, it was protected for one
/// run only: the next run no longer knew the abandoned object, and deleted its Namespace with it.)
fn abandoned_with_a_kept_object_cases() -> Vec<Case> {
    vec![
        Case {
            id: "ns-holds-kept",
            filter: "a Namespace holding an abandoned (keep) object",
            scenario: |n| Scenario {
                files: vec![
                    ("ns.yaml", namespace(&n.app)),
                    ("kept.yaml", config_map_in(&n.app, "kept", json!({ON_REMOVE: "keep"}))),
                ],
                steps: vec![Step::Remove("ns.yaml"), Step::Remove("kept.yaml")],
                protected: Obj::namespace(&n.app),
                prune_line: expect(
                    "abandoned",
                    "DependentKept",
                    format!("ConfigMap/{}/kept, which is kept, depends on it", n.app),
                ),
                owner_after: None,
                inventory_after: vec![],
                ..Scenario::new()
            },
        },
        Case {
            id: "dep-of-kept",
            filter: "a dependency (depends-on) of an abandoned (keep) object",
            scenario: |n| Scenario {
                files: vec![
                    ("dep.yaml", config_map_in(&n.ns, "dep", json!({}))),
                    ("keeper.yaml", {
                        let mut annotations = depends_on_config_map(&n.ns, "dep");
                        annotations[ON_REMOVE] = json!("keep");
                        config_map_in(&n.ns, "keeper", annotations)
                    }),
                ],
                steps: vec![Step::Remove("dep.yaml"), Step::Remove("keeper.yaml")],
                protected: Obj::config_map(&n.ns, "dep"),
                prune_line: expect(
                    "abandoned",
                    "DependentKept",
                    format!("ConfigMap/{}/keeper, which is kept, depends on it", n.ns),
                ),
                owner_after: None,
                inventory_after: vec![],
                ..Scenario::new()
            },
        },
    ]
}

#[test]
fn every_prune_safety_filter_keeps_its_object_and_prunes_only_the_control() {
    run_matrix(cases());
}

#[test]
fn what_an_abandoned_object_depends_on_is_abandoned_with_it_and_never_deleted_later() {
    run_matrix(abandoned_with_a_kept_object_cases());
}

/// Runs every case on its own thread (each with its own runtime and client), and fails naming every
/// case that failed, with its message.
fn run_matrix(cases: Vec<Case>) {
    let ids: BTreeSet<&str> = cases.iter().map(|c| c.id).collect();
    assert_eq!(ids.len(), cases.len(), "case ids are unique");
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .iter()
            .map(|case| {
                let handle = std::thread::Builder::new()
                    .name(case.id.to_owned())
                    .spawn_scoped(scope, move || {
                        let runtime =
                            tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                        runtime.block_on(run_case(case));
                    })
                    .unwrap();
                (case, handle)
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|(case, handle)| {
                let panic = handle.join().err()?;
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| "(panicked)".to_owned());
                Some(format!("case {} ({}):\n{message}", case.id, case.filter))
            })
            .collect()
    });
    assert!(failures.is_empty(), "{} case(s) failed:\n\n{}", failures.len(), failures.join("\n\n"));
}

async fn run_case(case: &Case) {
    let client = client().await;
    let test_ns = TestNamespace::new(&client, &format!("pm-{}", case.id)).await;
    let app = CreatedNamespace::new(&format!("pm-{}-app", case.id));
    let names = Names {
        ns: test_ns.name.clone(),
        app: app.name.clone(),
        group: format!("{}.kapply.test", unique_name(&format!("pm-{}", case.id))),
        id: unique_name(&format!("pm-{}", case.id)),
        other_id: unique_name(&format!("pm-{}-other", case.id)),
    };
    let _crd_cleanup = CrdCleanup(format!("widgets.{}", names.group));
    let scenario = (case.scenario)(&names);
    let home = if scenario.inventory_in_app { &names.app } else { &names.ns };
    let control = Obj::config_map(home, "control");

    // First apply: the case's objects, the control and `stays`.
    let package = Package::with_id(home, &names.id);
    for (file, yaml) in &scenario.files {
        package.write(file, yaml);
    }
    package.write("control.yaml", &config_map_in(home, "control", json!({})));
    package.write("stays.yaml", &config_map_in(&names.ns, "stays", json!({})));
    let first = package.apply(&[]);
    assert_eq!(first.code, 0, "first apply:\n{}", first.output());

    // The change that makes the protected object (and the control) prune candidates.
    package.remove("control.yaml");
    for step in &scenario.steps {
        step.run(&client, &package, &names).await;
    }

    // Second apply: the filter protects, the control goes, nothing else does.
    let before = snapshot(&client, &names).await;
    if scenario.survives {
        assert!(before.contains_key(&scenario.protected.key()), "the snapshot covers the protected object");
    }
    assert!(before.contains_key(&control.key()), "the snapshot covers the control");
    let second = package.apply(&["--output", "json"]);
    let context = |what: &str| format!("{what}\nsecond apply (exit {}):\n{}", second.code, second.output());
    assert_eq!(second.code, 0, "{}", context("the second apply succeeds"));
    let lines = second.json_lines();

    let prune_lines = |obj: &Obj| -> Vec<&Value> {
        lines.iter().filter(|line| line["type"] == "prune" && obj.is(line)).collect()
    };
    let protected_lines = prune_lines(&scenario.protected);
    assert_eq!(protected_lines.len(), 1, "{}", context("one prune line for the protected object"));
    let line = protected_lines[0];
    let wanted = &scenario.prune_line;
    assert_eq!(line["status"], wanted.status, "{}", context("the protected object's prune status"));
    assert_eq!(line["reason"], wanted.reason, "{}", context("the protected object's prune reason"));
    let message = line["message"].as_str().unwrap_or_default();
    assert!(message.contains(&wanted.message), "{}", context(&format!("message {:?}", wanted.message)));
    if let Some(warning) = &scenario.warning {
        let warned = lines.iter().any(|line| {
            line["type"] == "warning"
                && scenario.protected.is(line)
                && line["message"].as_str().is_some_and(|m| m.contains(warning.as_str()))
        });
        assert!(warned, "{}", context(&format!("a warning {warning:?}")));
    }
    let control_lines = prune_lines(&control);
    assert!(
        control_lines.len() == 1 && control_lines[0]["status"] == "pruned",
        "{}",
        context("the control is pruned")
    );
    let summary = lines.last().expect("a summary line");
    assert_eq!(summary["type"], "summary", "{}", context("the last line is the summary"));
    assert_eq!(summary["prune"]["pruned"], 1, "{}", context("one object pruned: the control"));

    // Zero wrong deletions: only the control is gone; the rest, the protected object included, has
    // the UID it had.
    let after = snapshot(&client, &names).await;
    assert_eq!(
        gone(&before, &after),
        BTreeSet::from([control.key()]),
        "{}",
        context(&format!("only the control is deleted\nbefore: {before:#?}\nafter: {after:#?}"))
    );
    if scenario.survives {
        let live = scenario.protected.get(&client).await.expect("the protected object exists");
        let owner = live.annotations().get(OWNING_INVENTORY).cloned();
        assert_eq!(owner, scenario.owner_after, "{}", context("the protected object's owner annotation"));
    }
    let mut expected_inventory: BTreeSet<String> = scenario.inventory_after.iter().cloned().collect();
    expected_inventory.insert(key(&names.ns, "stays", "", "ConfigMap"));
    let inventory = package.inventory_keys(&client).await;
    assert_eq!(inventory, expected_inventory, "{}", context("the inventory after the second apply"));

    // Third apply, same set: the protection holds, nothing at all is deleted.
    let third = package.apply(&["--output", "json"]);
    let context = |what: &str| format!("{what}\nthird apply (exit {}):\n{}", third.code, third.output());
    assert_eq!(third.code, 0, "{}", context("the third apply succeeds"));
    let later = snapshot(&client, &names).await;
    let deleted = gone(&after, &later);
    assert!(deleted.is_empty(), "{}", context(&format!("the third apply deleted {deleted:?}")));
    assert!(
        !third.json_lines().iter().any(|line| line["type"] == "prune" && line["status"] == "pruned"),
        "{}",
        context("the third apply prunes nothing")
    );
    assert_eq!(
        package.inventory_keys(&client).await,
        expected_inventory,
        "{}",
        context("the inventory after the third apply")
    );
}

impl Scenario {
    /// The defaults the cases override: an inventory in the test namespace, a protected object that
    /// survives, no warning.
    fn new() -> Self {
        Scenario {
            inventory_in_app: false,
            files: vec![],
            steps: vec![],
            protected: Obj::config_map("", ""),
            survives: true,
            prune_line: expect("", "", ""),
            warning: None,
            owner_after: None,
            inventory_after: vec![],
        }
    }
}

impl Step {
    async fn run(&self, client: &Client, package: &Package, names: &Names) {
        match self {
            Step::Remove(file) => package.remove(file),
            Step::Write(file, yaml) => package.write(file, yaml),
            Step::TakeOver(files) => {
                let other = Package::with_id(&names.ns, &names.other_id);
                for (file, yaml) in files {
                    other.write(file, yaml);
                }
                let run = other.apply(&["--inventory-policy", "adopt-all"]);
                assert_eq!(run.code, 0, "the other inventory's apply:\n{}", run.output());
                assert!(run.stdout.contains("taken over"), "{}", run.stdout);
            }
            Step::DeleteCrd => {
                let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
                let name = format!("widgets.{}", names.group);
                crds.delete(&name, &DeleteParams::default()).await.expect("delete the CRD");
                eventually("the CRD to be gone", Duration::from_secs(60), || async {
                    crds.get_opt(&name).await.unwrap().is_none().then_some(())
                })
                .await;
                let widgets = Obj::widget(&names.group, &names.ns, "").api(client);
                eventually("the Widget kind to be no longer served", Duration::from_secs(60), || async {
                    match widgets.list(&ListParams::default()).await {
                        Err(kube::Error::Api(status)) if status.code == 404 => Some(()),
                        _ => None,
                    }
                })
                .await;
            }
            Step::Recreate { namespace, name } => {
                let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
                api.delete(name, &DeleteParams::default()).await.expect("delete the ConfigMap");
                eventually("the ConfigMap to be gone", Duration::from_secs(30), || async {
                    api.get_opt(name).await.unwrap().is_none().then_some(())
                })
                .await;
                let theirs: ConfigMap = serde_json::from_value(json!({
                    "metadata": {"name": name},
                    "data": {"owner": "someone else"},
                }))
                .unwrap();
                api.create(&PostParams::default(), &theirs).await.expect("re-create the ConfigMap");
            }
        }
    }
}

/// An object the matrix looks at, by API resource, namespace and name.
#[derive(Debug, Clone)]
struct Obj {
    resource: ApiResource,
    namespace: Option<String>,
    name: String,
}

impl Obj {
    fn new(group: &str, kind: &str, plural: &str, namespace: Option<&str>, name: &str) -> Self {
        let api_version = if group.is_empty() { "v1".to_owned() } else { format!("{group}/v1") };
        Obj {
            resource: ApiResource {
                group: group.to_owned(),
                version: "v1".to_owned(),
                api_version,
                kind: kind.to_owned(),
                plural: plural.to_owned(),
            },
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
        }
    }

    fn config_map(namespace: &str, name: &str) -> Self {
        Obj::new("", "ConfigMap", "configmaps", Some(namespace), name)
    }

    /// A core (`v1`) Event.
    fn event(namespace: &str, name: &str) -> Self {
        Obj::new("", "Event", "events", Some(namespace), name)
    }

    fn namespace(name: &str) -> Self {
        Obj::new("", "Namespace", "namespaces", None, name)
    }

    fn crd(group: &str) -> Self {
        Obj::new(
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
            "customresourcedefinitions",
            None,
            &format!("widgets.{group}"),
        )
    }

    fn widget(group: &str, namespace: &str, name: &str) -> Self {
        Obj::new(group, "Widget", "widgets", Some(namespace), name)
    }

    /// As kapply names it: `Kind[.group]/[namespace/]name`.
    fn key(&self) -> String {
        let r = &self.resource;
        let kind = if r.group.is_empty() { r.kind.clone() } else { format!("{}.{}", r.kind, r.group) };
        match &self.namespace {
            Some(ns) => format!("{kind}/{ns}/{}", self.name),
            None => format!("{kind}/{}", self.name),
        }
    }

    /// True when a JSON output line is about this object.
    fn is(&self, line: &Value) -> bool {
        line["group"] == self.resource.group.as_str()
            && line["kind"] == self.resource.kind.as_str()
            && line["namespace"] == self.namespace.as_deref().unwrap_or("")
            && line["name"] == self.name.as_str()
    }

    fn api(&self, client: &Client) -> Api<DynamicObject> {
        match &self.namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &self.resource),
            None => Api::all_with(client.clone(), &self.resource),
        }
    }

    async fn get(&self, client: &Client) -> Option<DynamicObject> {
        match self.api(client).get_opt(&self.name).await {
            Ok(found) => found,
            Err(kube::Error::Api(status)) if status.code == 404 => None,
            Err(err) => panic!("get {}: {err}", self.key()),
        }
    }
}

/// Key → UID of every object a case could wrongly delete: in its two namespaces, every ConfigMap,
/// core Event and Widget; the two Namespaces; the CRD.
async fn snapshot(client: &Client, names: &Names) -> BTreeMap<String, String> {
    let mut objects = BTreeMap::new();
    for ns in [&names.ns, &names.app] {
        for kind in [Obj::config_map(ns, ""), Obj::event(ns, ""), Obj::widget(&names.group, ns, "")] {
            let items = match kind.api(client).list(&ListParams::default()).await {
                Ok(list) => list.items,
                // The Widget kind is not served (yet, or any more).
                Err(kube::Error::Api(status)) if status.code == 404 => vec![],
                Err(err) => panic!("list {}: {err}", kind.key()),
            };
            for item in items {
                let obj = Obj { name: item.name_any(), ..kind.clone() };
                objects.insert(obj.key(), item.uid().unwrap_or_default());
            }
        }
    }
    for obj in [Obj::namespace(&names.ns), Obj::namespace(&names.app), Obj::crd(&names.group)] {
        if let Some(live) = obj.get(client).await {
            objects.insert(obj.key(), live.uid().unwrap_or_default());
        }
    }
    objects
}

/// The objects of `before` that are missing from `after`, or there with another UID.
fn gone(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> BTreeSet<String> {
    before.iter().filter(|(key, uid)| after.get(*key) != Some(uid)).map(|(key, _)| key.clone()).collect()
}

/// cli-utils' inventory key: `<namespace>_<name>_<group>_<kind>`.
fn key(namespace: &str, name: &str, group: &str, kind: &str) -> String {
    format!("{namespace}_{name}_{group}_{kind}")
}

/// [`config_map`] in an explicit namespace.
fn config_map_in(namespace: &str, name: &str, annotations: Value) -> String {
    let mut body: Value = serde_json::from_str(&config_map(name, annotations)).unwrap();
    body["metadata"]["namespace"] = json!(namespace);
    body.to_string()
}

fn namespace(name: &str) -> String {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}).to_string()
}

fn widget(group: &str, namespace: &str, name: &str) -> String {
    json!({"apiVersion": format!("{group}/v1"), "kind": "Widget",
           "metadata": {"name": name, "namespace": namespace}, "spec": {"size": 1}})
    .to_string()
}

/// Annotations making an object depend on the ConfigMap `name` in `namespace`.
fn depends_on_config_map(namespace: &str, name: &str) -> Value {
    json!({DEPENDS_ON: format!("/namespaces/{namespace}/ConfigMap/{name}")})
}

/// Event `ev1` as `v1` Event, with the fields `events.k8s.io/v1` also requires.
fn core_event(namespace: &str) -> String {
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "ev1", "namespace": namespace},
        "involvedObject": {"apiVersion": "v1", "kind": "ConfigMap", "name": "stays", "namespace": namespace},
        "reason": "Testing", "message": "prune matrix", "type": "Normal", "action": "Test",
        "eventTime": "2024-01-01T00:00:00.000000Z",
        "reportingComponent": "kapply.test/prune-matrix", "reportingInstance": "prune-matrix-1",
    })
    .to_string()
}

/// The same Event `ev1` as `events.k8s.io/v1` Event.
fn events_k8s_io_event(namespace: &str) -> String {
    json!({
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": "ev1", "namespace": namespace},
        "regarding": {"apiVersion": "v1", "kind": "ConfigMap", "name": "stays", "namespace": namespace},
        "reason": "Testing", "note": "prune matrix", "type": "Normal", "action": "Test",
        "eventTime": "2024-01-01T00:00:00.000000Z",
        "reportingController": "kapply.test/prune-matrix", "reportingInstance": "prune-matrix-1",
    })
    .to_string()
}
