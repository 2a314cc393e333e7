//! In-process engine tests: whole apply runs through the public API (`Loader`, `Applier`) against a
//! fake API server ([`fake_api`]), fast and deterministic. They check the engine's ordering, skips and
//! cancellation; the end-to-end suite (`tests/e2e`) still checks everything against a real control
//! plane.

mod fake_api;

use std::collections::BTreeSet;
use std::time::Duration;

use futures::StreamExt;
use kapply::event::{ApplyOutcome, DeletionOutcome, InventoryAction, PruneOutcome, SkipReason, WaitOutcome};
use kapply::{Applier, CancelReason, Cluster, Event, Input, Loader, ObjRef, RunOutcome};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use fake_api::FakeApi;

fn cm(name: &str) -> ObjRef {
    ObjRef::new("", "ConfigMap", Some("shop"), name)
}

/// A ConfigMap of namespace `shop`, depending on the ConfigMaps `depends_on`.
fn config_map(name: &str, depends_on: &[&str]) -> String {
    let annotation = if depends_on.is_empty() {
        String::new()
    } else {
        let refs: Vec<String> =
            depends_on.iter().map(|d| format!("/namespaces/shop/ConfigMap/{d}")).collect();
        format!("  annotations:\n    config.kubernetes.io/depends-on: {}\n", refs.join(","))
    };
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: shop\n{annotation}data:\n  key: {name}\n"
    )
}

/// Applies `documents` as the set of inventory `shop` and returns every event of the run, checked
/// against the ordering contract.
async fn apply(cluster: &Cluster, documents: &[String], cancel: CancellationToken) -> Vec<Event> {
    let set = Loader::new(cluster)
        .namespace("shop")
        .inventory_id("shop")
        .load(&[Input::text("set.yaml", documents.join("---\n"))])
        .await
        .expect("a valid set");
    let run = async {
        let mut stream = Applier::new(cluster).concurrency(4).run(set, cancel);
        let mut events = Vec::new();
        while let Some(event) = stream.next().await {
            events.push(event.expect("no failure of the whole run"));
        }
        events
    };
    let events = tokio::time::timeout(Duration::from_secs(20), run).await.expect("the run ends");
    if let Err(violation) = kapply::event::check_order(&events) {
        panic!("{violation:?} in\n{events:#?}");
    }
    events
}

/// The index of the first event `matches` accepts.
fn position(events: &[Event], what: &str, matches: impl Fn(&Event) -> bool) -> usize {
    events.iter().position(matches).unwrap_or_else(|| panic!("no event {what} in\n{events:#?}"))
}

fn apply_outcome<'e>(events: &'e [Event], obj: &ObjRef) -> &'e ApplyOutcome {
    let index = position(
        events,
        &format!("Apply of {obj}"),
        |e| matches!(e, Event::Apply { obj: o, .. } if o == obj),
    );
    match &events[index] {
        Event::Apply { outcome, .. } => outcome,
        _ => unreachable!(),
    }
}

fn summary(events: &[Event]) -> RunOutcome {
    match events.last() {
        Some(Event::Summary(summary)) => summary.outcome(),
        other => panic!("the last event is not the Summary: {other:?}"),
    }
}

/// The objects the inventory ConfigMap of `shop` lists, as inventory keys.
fn recorded(fake: &FakeApi) -> BTreeSet<String> {
    let inventory = fake.config_map("inventory-shop").expect("the inventory exists");
    inventory["data"].as_object().map(|data| data.keys().cloned().collect()).unwrap_or_default()
}

fn keys(objects: &[ObjRef]) -> BTreeSet<String> {
    objects.iter().map(ObjRef::to_inventory_key).collect()
}

#[tokio::test]
async fn a_dependent_is_applied_only_after_its_dependency_is_reconciled() {
    let fake = FakeApi::new();
    let cluster = fake.cluster().await;
    let set = [config_map("c", &["b"]), config_map("b", &["a"]), config_map("a", &[]), config_map("d", &[])];
    let events = apply(&cluster, &set, CancellationToken::new()).await;

    for (dependency, dependent) in [("a", "b"), ("b", "c")] {
        let reconciled = position(
            &events,
            &format!("Reconciled {dependency}"),
            |e| matches!(e, Event::Reconciled { obj, outcome: WaitOutcome::Current } if *obj == cm(dependency)),
        );
        let applied = position(
            &events,
            &format!("Apply {dependent}"),
            |e| matches!(e, Event::Apply { obj, .. } if *obj == cm(dependent)),
        );
        assert!(reconciled < applied, "{dependent} applied before {dependency} was reconciled:\n{events:#?}");
    }
    for name in ["a", "b", "c", "d"] {
        assert_eq!(apply_outcome(&events, &cm(name)), &ApplyOutcome::Created, "{name}");
        assert_eq!(fake.config_map(name).expect("stored")["data"]["key"], Value::from(name));
    }
    assert_eq!(summary(&events), RunOutcome::Success);
    assert_eq!(recorded(&fake), keys(&[cm("a"), cm("b"), cm("c"), cm("d")]));

    // The same set again: nothing changes, nothing is pruned, the inventory is not rewritten.
    let again = apply(&cluster, &set, CancellationToken::new()).await;
    for name in ["a", "b", "c", "d"] {
        assert_eq!(apply_outcome(&again, &cm(name)), &ApplyOutcome::Unchanged, "{name}");
    }
    assert!(!again.iter().any(|e| matches!(e, Event::Prune { .. })), "{again:#?}");
    assert!(
        again
            .iter()
            .all(|e| !matches!(e, Event::Inventory { action, .. } if *action != InventoryAction::Unchanged)),
        "{again:#?}"
    );
    assert_eq!(summary(&again), RunOutcome::Success);
}

#[tokio::test]
async fn an_object_that_left_the_set_is_pruned() {
    let fake = FakeApi::new();
    let cluster = fake.cluster().await;
    apply(&cluster, &[config_map("old", &[]), config_map("kept", &[])], CancellationToken::new()).await;

    let events = apply(&cluster, &[config_map("kept", &[])], CancellationToken::new()).await;
    let pruned = position(
        &events,
        "Prune old",
        |e| matches!(e, Event::Prune { obj, outcome: PruneOutcome::Deleted } if *obj == cm("old")),
    );
    let gone =
        position(&events, "Deleted old", |e| matches!(e, Event::Deleted { obj, .. } if *obj == cm("old")));
    assert!(pruned < gone);
    assert!(fake.config_map("old").is_none(), "deleted from the fake");
    assert_eq!(recorded(&fake), keys(&[cm("kept")]));
    assert_eq!(summary(&events), RunOutcome::Success);
}

#[tokio::test]
async fn a_failed_apply_skips_exactly_its_dependents_and_prunes_nothing() {
    let fake = FakeApi::new();
    let cluster = fake.cluster().await;
    apply(&cluster, &[config_map("old", &[])], CancellationToken::new()).await;
    fake.refuse_apply("a");

    let set = [config_map("a", &[]), config_map("b", &["a"]), config_map("c", &["b"]), config_map("d", &[])];
    let events = apply(&cluster, &set, CancellationToken::new()).await;

    assert!(matches!(apply_outcome(&events, &cm("a")), ApplyOutcome::Failed(_)), "{events:#?}");
    let skipped: BTreeSet<ObjRef> = events
        .iter()
        .filter_map(|e| match e {
            Event::Apply { obj, outcome: ApplyOutcome::Skipped(SkipReason::DependencyFailed(failed)) } => {
                assert_eq!(*failed, cm("a"));
                Some(obj.clone())
            }
            Event::Apply { outcome: ApplyOutcome::Skipped(reason), .. } => {
                panic!("unexpected skip {reason:?}")
            }
            _ => None,
        })
        .collect();
    assert_eq!(skipped, BTreeSet::from([cm("b"), cm("c")]), "exactly the dependents of a");
    assert_eq!(apply_outcome(&events, &cm("d")), &ApplyOutcome::Created, "an independent branch goes on");
    assert!(fake.config_map("b").is_none() && fake.config_map("c").is_none(), "dependents never sent");

    let prune =
        position(&events, "Prune old", |e| matches!(e, Event::Prune { obj, .. } if *obj == cm("old")));
    assert_eq!(
        events[prune],
        Event::Prune { obj: cm("old"), outcome: PruneOutcome::Skipped(SkipReason::ApplyFailed(1)) }
    );
    assert!(fake.seen().iter().all(|s| s.method != "DELETE"), "nothing deleted");
    assert!(fake.config_map("old").is_some());
    // The server's dry run accepted `a` (validation passed); only its real apply was refused.
    assert!(fake.seen().iter().any(|s| s.method == "PATCH" && s.name.as_deref() == Some("a") && s.dry_run));
    // `a` may exist (a failed apply is recorded), `old` was not pruned; the skipped were never created.
    assert_eq!(recorded(&fake), keys(&[cm("a"), cm("d"), cm("old")]));
    assert_ne!(summary(&events), RunOutcome::Success);
}

#[tokio::test]
async fn an_object_of_another_inventory_is_refused_skips_its_dependents_and_is_not_recorded() {
    let fake = FakeApi::new();
    let cluster = fake.cluster().await;
    fake.insert(serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "theirs", "namespace": "shop",
                     "annotations": {"config.k8s.io/owning-inventory": "other"}},
        "data": {"key": "theirs"},
    }));

    let set = [config_map("theirs", &[]), config_map("dependent", &["theirs"]), config_map("mine", &[])];
    let events = apply(&cluster, &set, CancellationToken::new()).await;

    assert!(matches!(apply_outcome(&events, &cm("theirs")), ApplyOutcome::Refused(_)), "{events:#?}");
    assert_eq!(
        apply_outcome(&events, &cm("dependent")),
        &ApplyOutcome::Skipped(SkipReason::DependencyFailed(cm("theirs")))
    );
    assert_eq!(apply_outcome(&events, &cm("mine")), &ApplyOutcome::Created);
    assert_eq!(fake.config_map("theirs").expect("still there")["data"]["key"], "theirs", "not touched");
    // Not ours, so not recorded (a failed request would be: the object may exist).
    assert_eq!(recorded(&fake), keys(&[cm("mine")]));
    assert_eq!(summary(&events), RunOutcome::Failed);
}

#[tokio::test]
async fn a_run_cancelled_before_it_starts_skips_everything_and_still_writes_the_inventory() {
    let fake = FakeApi::new();
    let cluster = fake.cluster().await;
    apply(&cluster, &[config_map("old", &[])], CancellationToken::new()).await;
    let before = fake.seen().len();

    let cancel = CancellationToken::new();
    cancel.cancel();
    let events = apply(&cluster, &[config_map("a", &[]), config_map("b", &["a"])], cancel).await;

    for name in ["a", "b"] {
        assert_eq!(
            apply_outcome(&events, &cm(name)),
            &ApplyOutcome::Skipped(SkipReason::Cancelled),
            "{name}"
        );
    }
    assert!(
        events.contains(&Event::Prune {
            obj: cm("old"),
            outcome: PruneOutcome::Skipped(SkipReason::Cancelled)
        })
    );
    assert_eq!(events[events.len() - 2], Event::Cancelled(CancelReason::Interrupted));
    assert_eq!(summary(&events), RunOutcome::Interrupted);
    let writes = events.iter().filter(|e| matches!(e, Event::Inventory { .. })).count();
    assert_eq!(writes, 2, "written before applying (the union) and after: {events:#?}");
    let applies = fake.seen()[before..].iter().filter(|s| s.method == "PATCH" && !s.dry_run).count();
    assert_eq!(applies, 0, "nothing applied");
    assert!(fake.config_map("old").is_some(), "nothing pruned");
    assert_eq!(recorded(&fake), keys(&[cm("old")]), "what may exist stays recorded; nothing new was created");
}

#[tokio::test(start_paused = true)]
async fn a_cancellation_during_an_apply_lets_it_finish_and_starts_nothing_more() {
    let fake = FakeApi::new();
    let cluster = fake.cluster().await;
    apply(&cluster, &[config_map("old", &[])], CancellationToken::new()).await;
    let cancel = CancellationToken::new();
    fake.cancel_on_apply("a", cancel.clone());

    let events = apply(&cluster, &[config_map("a", &[]), config_map("b", &["a"])], cancel).await;

    // The apply in flight when the run was cancelled finishes and is reported.
    assert_eq!(apply_outcome(&events, &cm("a")), &ApplyOutcome::Created);
    assert!(events.contains(&Event::Reconciled { obj: cm("a"), outcome: WaitOutcome::Current }));
    // What depends on it is not started.
    assert_eq!(apply_outcome(&events, &cm("b")), &ApplyOutcome::Skipped(SkipReason::Cancelled));
    assert!(fake.config_map("b").is_none());
    assert!(
        events.contains(&Event::Prune {
            obj: cm("old"),
            outcome: PruneOutcome::Skipped(SkipReason::Cancelled)
        })
    );
    assert!(fake.config_map("old").is_some(), "nothing pruned");
    assert_eq!(events[events.len() - 2], Event::Cancelled(CancelReason::Interrupted));
    assert_eq!(recorded(&fake), keys(&[cm("a"), cm("old")]), "the inventory lists what exists");
}

/// The names of the objects whose (real, not dry-run) applies the fake received, in order.
fn applies(fake: &FakeApi) -> Vec<String> {
    let applies = fake.seen().into_iter().filter(|s| s.method == "PATCH" && !s.dry_run);
    applies.filter_map(|s| s.name).filter(|name| name != "inventory-shop").collect()
}

/// Where `name` is among the applies `sent` ([`applies`]); panics when it is not there.
fn sent_at(sent: &[String], name: &str) -> usize {
    sent.iter().position(|n| n == name).unwrap_or_else(|| panic!("{name} in {sent:?}"))
}

#[tokio::test]
async fn an_object_ready_late_is_sent_in_kind_order_before_the_earlier_queued_objects_of_later_kinds() {
    let fake = FakeApi::new();
    let cluster = fake.cluster().await;
    let mut set = vec![
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: late\n".to_owned(),
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: robot\n  namespace: late\n".to_owned(),
    ];
    set.extend((0..8).map(|i| config_map(&format!("c{i}"), &[])));
    let events = apply(&cluster, &set, CancellationToken::new()).await;
    assert_eq!(summary(&events), RunOutcome::Success);

    // The ServiceAccount is ready only once its Namespace is, after the ConfigMaps were queued; kind
    // order still sends it before the ConfigMaps not sent by then.
    let sent = applies(&fake);
    let at = |name: &str| sent_at(&sent, name);
    assert_eq!(at("late"), 0, "{sent:?}");
    assert!(at("robot") < at("c7"), "the ServiceAccount waited behind every ConfigMap: {sent:?}");
}

#[tokio::test]
async fn large_objects_hold_at_most_a_quarter_of_the_slots_and_small_ones_go_beside_them() {
    let fake = FakeApi::new();
    let cluster = fake.cluster().await;
    let large = "x".repeat(70 * 1024);
    let mut set: Vec<String> = (0..5)
        .map(|i| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big{i}\n  namespace: shop\ndata:\n  key: {large}\n"))
        .collect();
    set.push(config_map("small", &[]));
    let events = apply(&cluster, &set, CancellationToken::new()).await;
    assert_eq!(summary(&events), RunOutcome::Success);

    // Four slots (see `apply`), one for large objects: the small ConfigMap, last in kind order, goes
    // with the first large one rather than behind all five.
    let sent = applies(&fake);
    let at = |name: &str| sent_at(&sent, name);
    assert_eq!(at("big0"), 0, "{sent:?}");
    assert!(at("small") < at("big1"), "the small ConfigMap waited behind the large ones: {sent:?}");
}

#[tokio::test]
async fn destroy_deletes_dependents_first_and_the_inventory_last() {
    let fake = FakeApi::new();
    let cluster = fake.cluster().await;
    let set = [config_map("a", &[]), config_map("b", &["a"])];
    apply(&cluster, &set, CancellationToken::new()).await;
    let inventory = Loader::new(&cluster)
        .namespace("shop")
        .inventory_id("shop")
        .load(&[Input::text("set.yaml", set.join("---\n"))])
        .await
        .expect("a valid set")
        .inventory()
        .clone();

    let mut stream = kapply::Destroyer::new(&cluster, inventory).run(CancellationToken::new());
    let mut events = Vec::new();
    while let Some(event) = stream.next().await {
        events.push(event.expect("no failure of the whole run"));
    }
    if let Err(violation) = kapply::event::check_order(&events) {
        panic!("{violation:?} in\n{events:#?}");
    }
    // Each delete is sent once what depends on it is gone; every object is reported gone once the
    // loop has confirmed it, and the inventory goes last.
    let delete_of = |name: &'static str| {
        position(
            &events,
            &format!("Delete {name}"),
            move |e| matches!(e, Event::Delete { obj, outcome: PruneOutcome::Deleted } if *obj == cm(name)),
        )
    };
    let gone = |name: &'static str| {
        position(
            &events,
            &format!("Deleted {name}"),
            move |e| matches!(e, Event::Deleted { obj, outcome: DeletionOutcome::Gone } if *obj == cm(name)),
        )
    };
    assert!(delete_of("b") < delete_of("a"), "a is deleted only once b is gone:\n{events:#?}");
    let deletes =
        fake.seen().into_iter().filter(|s| s.method == "DELETE").map(|s| s.name.unwrap_or_default());
    assert_eq!(deletes.collect::<Vec<_>>(), ["b", "a", "inventory-shop"]);
    let inventory_deleted = position(&events, "inventory deleted", |e| {
        matches!(e, Event::Inventory { action: InventoryAction::Deleted, .. })
    });
    assert!(gone("a") < inventory_deleted && gone("b") < inventory_deleted);
    assert!(fake.config_map("a").is_none() && fake.config_map("b").is_none());
    assert!(fake.config_map("inventory-shop").is_none());
    assert_eq!(summary(&events), RunOutcome::Success);
}

#[tokio::test]
async fn a_prune_with_a_forbidden_deletion_deletes_nothing() {
    let fake = FakeApi::new();
    let cluster = fake.cluster().await;
    let first = [config_map("old", &[]), config_map("other", &[]), config_map("kept", &[])];
    apply(&cluster, &first, CancellationToken::new()).await;
    fake.deny_delete("old");

    let events = apply(&cluster, &[config_map("kept", &[])], CancellationToken::new()).await;
    let prune = |name: &'static str| {
        let index = position(
            &events,
            &format!("Prune {name}"),
            |e| matches!(e, Event::Prune { obj, .. } if *obj == cm(name)),
        );
        match &events[index] {
            Event::Prune { outcome, .. } => outcome.clone(),
            _ => unreachable!(),
        }
    };
    assert!(matches!(prune("old"), PruneOutcome::Failed(_)), "{events:#?}");
    assert_eq!(prune("other"), PruneOutcome::Skipped(SkipReason::DeletionForbidden(1)));
    assert!(fake.seen().iter().all(|s| s.method != "DELETE"), "nothing deleted");
    assert_eq!(
        recorded(&fake),
        keys(&[cm("kept"), cm("old"), cm("other")]),
        "every candidate stays recorded"
    );
    assert_ne!(summary(&events), RunOutcome::Success);
}

#[tokio::test]
async fn a_run_filtered_by_a_selector_prunes_only_what_left_the_manifests_and_keeps_the_rest_recorded() {
    let fake = FakeApi::new();
    let cluster = fake.cluster().await;
    let labelled_on = |name: &str, app: &str, depends_on: &[&str]| {
        config_map(name, depends_on)
            .replace("  namespace: shop\n", &format!("  namespace: shop\n  labels: {{app: {app}}}\n"))
    };
    let labelled = |name: &str, app: &str| labelled_on(name, app, &[]);
    let first = [
        labelled("web", "web"),
        labelled_on("db", "db", &["base"]),
        labelled("base", "base"),
        labelled("gone", "web"),
    ];
    apply(&cluster, &first, CancellationToken::new()).await;
    assert_eq!(recorded(&fake), keys(&[cm("web"), cm("db"), cm("base"), cm("gone")]));

    // `db` changes but is filtered out; `gone` and `base` left the manifests, but `db`, still there,
    // depends on `base`.
    let changed_db = labelled_on("db", "db", &["base"]).replace("key: db", "key: changed");
    let set = Loader::new(&cluster)
        .namespace("shop")
        .inventory_id("shop")
        .selector("app=web".parse().unwrap())
        .load(&[Input::text("set.yaml", [labelled("web", "web"), changed_db].join("---\n"))])
        .await
        .expect("a valid set");
    assert_eq!(set.len(), 1);
    assert_eq!(set.left_out().cloned().collect::<Vec<_>>(), vec![cm("db")]);
    let mut stream = Applier::new(&cluster).run(set, CancellationToken::new());
    let mut events = Vec::new();
    while let Some(event) = stream.next().await {
        events.push(event.expect("no failure of the whole run"));
    }
    drop(stream);
    kapply::event::check_order(&events).expect("the ordering contract holds");

    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::Apply { obj, .. } | Event::Prune { obj, .. } if *obj == cm("db"))),
        "db is in no event: {events:#?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Prune { obj, outcome: PruneOutcome::Deleted } if *obj == cm("gone")))
    );
    assert_eq!(fake.config_map("db").expect("not pruned")["data"]["key"], Value::from("db"), "nor applied");
    assert!(fake.config_map("gone").is_none());
    let base =
        position(&events, "Prune base", |e| matches!(e, Event::Prune { obj, .. } if *obj == cm("base")));
    assert!(
        matches!(&events[base], Event::Prune { outcome: PruneOutcome::Skipped(_), .. }),
        "what a left-out object depends on is not pruned: {:?}",
        events[base]
    );
    assert!(fake.config_map("base").is_some());
    assert_eq!(recorded(&fake), keys(&[cm("web"), cm("db"), cm("base")]), "db stays recorded");
    assert_eq!(summary(&events), RunOutcome::Success);
}
