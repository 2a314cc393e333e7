//! The benchmark's floors: what the cluster needs to do a step, sent with as much parallelism as helps
//! and nothing else — no inventory, no ownership or policy reads, no ordering beyond what the server
//! requires. Three modes:
//!
//! - `apply` (default, the *no-wait floor*): the server-side applies kapply sends, Namespaces and CRDs
//!   first (and CRDs served) before the objects that need them; no waiting for status.
//! - `apply --wait` (the *apply floor*): the same, then every object watched until Current — the
//!   cluster's own pace of making the set ready.
//! - `delete` (the *delete floor*): every object of DIR but its Namespaces and CRDs deleted at once
//!   (reverse apply order, so workloads go first), then the Namespaces and CRDs, everything watched
//!   until gone. When the Namespaces go is `--namespaces`:
//!   - `together`: right after the other deletes are sent;
//!   - `after-contents` (default): each Namespace as soon as the objects of DIR in it are gone;
//!   - `after-pods`: each as soon as those are gone *and* it holds no Pod. Only a floor may do this
//!     (it knows every Pod there is the set's): a Namespace deleted while Pods terminate is checked
//!     by the namespace controller 5 s after the delete and then every `grace/2 + 1` s (16 s for the
//!     default 30 s grace period) until they are gone.
//!
//!   `--propagation background|foreground` (default background) is sent with every delete. What
//!   comes back while the floor waits (an aggregated ClusterRole, re-created by the controller-manager
//!   when deleted before what it aggregates) is deleted again every 5 s.
//!
//! Usage: `ssa_floor [apply [--wait] | delete [--propagation P] [--namespaces WHEN]] DIR
//! [CONCURRENCY]` with `KUBECONFIG` set. Prints nothing but errors.

use std::time::Duration;

use futures::{StreamExt, stream};
use kapply::cluster::{ApplyOptions, Cluster, ConnectOptions};
use kapply::kstatus::Status;
use kapply::manifest::{self, Input, LoadOptions, UnknownKinds};
use kapply::object::Object;
use kapply::{ObjRef, Observer, Until};
use kube::api::PropagationPolicy;
use tokio_util::sync::CancellationToken;

const USAGE: &str = "usage: ssa_floor [apply [--wait] | delete [--propagation background|foreground] \
                     [--namespaces together|after-contents|after-pods]] DIR [CONCURRENCY]";

/// When a delete floor deletes the Namespaces (see the module documentation).
#[derive(Default, Clone, Copy, PartialEq)]
enum Namespaces {
    Together,
    #[default]
    AfterContents,
    AfterPods,
}

#[derive(Default)]
struct Args {
    delete: bool,
    wait: bool,
    foreground: bool,
    namespaces: Namespaces,
    positional: Vec<String>,
}

fn parse() -> Args {
    let mut args = Args::default();
    let mut it = std::env::args().skip(1).peekable();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "apply" => {}
            "delete" => args.delete = true,
            "--wait" => args.wait = true,
            "--namespaces" => {
                args.namespaces = match it.next().as_deref() {
                    Some("together") => Namespaces::Together,
                    Some("after-contents") => Namespaces::AfterContents,
                    Some("after-pods") => Namespaces::AfterPods,
                    _ => panic!("{USAGE}"),
                }
            }
            "--propagation" => match it.next().as_deref() {
                Some("foreground") => args.foreground = true,
                Some("background") => {}
                _ => panic!("{USAGE}"),
            },
            _ => args.positional.push(arg),
        }
    }
    args
}

#[tokio::main]
async fn main() {
    let args = parse();
    let mut positional = args.positional.iter();
    let dir = positional.next().expect(USAGE);
    let concurrency: usize = positional.next().map_or(16, |c| c.parse().expect("CONCURRENCY is a number"));
    let cluster = Cluster::connect(&ConnectOptions::default()).await.expect("connect");
    let options = LoadOptions {
        recursive: true,
        default_namespace: Some("default".into()),
        unknown_kinds: UnknownKinds::AssumeNamespaced,
    };
    let objects =
        manifest::load(&[Input::path(dir)], &options, &cluster.discovered().await).expect("manifests");
    let objects: Vec<Object> =
        objects.into_iter().filter(|o| !kapply::inventory::is_inventory_template(&o.body)).collect();
    let (first, rest): (Vec<&Object>, Vec<&Object>) = objects
        .iter()
        .partition(|o| o.obj_ref.group_kind().is_namespace() || o.obj_ref.group_kind().is_crd());
    if args.delete {
        // Reverse apply order: workloads before the ConfigMaps they read, so the slowest to go (a
        // Deployment's Pods terminate gracefully) start first.
        let mut rest = rest;
        rest.sort_by(|a, b| kapply::graph::cmp_delete_order(&a.obj_ref, &b.obj_ref));
        let policy =
            if args.foreground { PropagationPolicy::Foreground } else { PropagationPolicy::Background };
        delete_all(&cluster, &rest, &policy, concurrency).await;
        if args.namespaces == Namespaces::Together {
            delete_all(&cluster, &first, &policy, concurrency).await;
        } else {
            // Each Namespace (and the CRDs, cluster-wide, as one group) once its own contents are gone.
            let groups = first.iter().map(|o| o.obj_ref.clone()).map(|owner| {
                let inside: Vec<&Object> = rest.iter().copied().filter(|o| contained(o, &owner)).collect();
                (owner, inside)
            });
            futures::future::join_all(groups.map(|(owner, inside)| {
                let (cluster, policy, objects) = (&cluster, &policy, &objects);
                async move {
                    wait(cluster, &inside, Until::Deleted).await;
                    if args.namespaces == Namespaces::AfterPods && owner.group_kind().is_namespace() {
                        no_pods_left(cluster, &owner.name).await;
                    }
                    let owner: Vec<&Object> = objects.iter().filter(|o| o.obj_ref == owner).collect();
                    delete_all(cluster, &owner, policy, 1).await;
                }
            }))
            .await;
        }
        gone(&cluster, &objects.iter().collect::<Vec<_>>(), &policy).await;
        return;
    }
    apply_all(&cluster, &first, concurrency).await;
    if first.iter().any(|o| o.obj_ref.group_kind().is_crd()) {
        // The server needs the CRDs served before their custom resources can be written.
        for obj in &rest {
            while cluster.resolve(&obj.obj_ref.group_kind(), None).await.is_err() {
                tokio::time::sleep(Duration::from_millis(100)).await;
                cluster.refresh_discovery().await.expect("discovery");
            }
        }
    }
    apply_all(&cluster, &rest, concurrency).await;
    if args.wait {
        wait(&cluster, &objects.iter().collect::<Vec<_>>(), Until::Current).await;
    }
}

/// True when `obj` must be gone before `owner` (a Namespace or a CRD) is deleted.
fn contained(obj: &Object, owner: &ObjRef) -> bool {
    if owner.group_kind().is_namespace() {
        obj.obj_ref.namespace.as_deref() == Some(owner.name.as_str())
    } else {
        // A CRD: its custom resources (the CRD's name is `<plural>.<group>`).
        owner.name.ends_with(&format!(".{}", obj.obj_ref.group)) && !obj.obj_ref.group.is_empty()
    }
}

/// Polls the Namespace `namespace` until it holds no Pod (twice a second).
async fn no_pods_left(cluster: &Cluster, namespace: &str) {
    let pods = kapply::GroupKind::new("", "Pod");
    while !cluster.list_first(&pods, Some(namespace), None, None, 1).await.expect("list pods").is_empty() {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Watches `objects` until every one is gone, deleting again what comes back: an aggregated
/// ClusterRole deleted before the ClusterRoles it aggregates is re-created by the controller-manager
/// (kapply orders those deletes; the floor deletes everything at once and repeats).
async fn gone(cluster: &Cluster, objects: &[&Object], policy: &PropagationPolicy) {
    loop {
        let refs: Vec<ObjRef> = objects.iter().map(|o| o.obj_ref.clone()).collect();
        let seen = Observer::new(cluster)
            .until(Until::Deleted)
            .timeout(Duration::from_secs(5))
            .run(&refs, CancellationToken::new(), |_, _| {})
            .await;
        if seen.complete {
            return;
        }
        let left: Vec<&Object> = objects
            .iter()
            .copied()
            .filter(|o| seen.statuses.get(&o.obj_ref).is_some_and(|s| s.status != Status::NotFound))
            .collect();
        delete_all(cluster, &left, policy, 16).await;
    }
}

/// Watches `objects` (one watch per kind and namespace, as kapply does) until each meets `until`.
async fn wait(cluster: &Cluster, objects: &[&Object], until: Until) {
    let refs: Vec<ObjRef> = objects.iter().map(|o| o.obj_ref.clone()).collect();
    let seen = Observer::new(cluster).until(until).run(&refs, CancellationToken::new(), |_, _| {}).await;
    assert!(seen.complete, "the wait ended before every object was {until:?}");
}

async fn apply_all(cluster: &Cluster, objects: &[&Object], concurrency: usize) {
    let options = ApplyOptions { field_manager: "floor".into(), force_conflicts: true, dry_run: false };
    stream::iter(objects)
        .for_each_concurrent(concurrency, |obj| {
            let options = &options;
            async move {
                if let Err(err) = cluster.apply(obj, &obj.body, None, options).await {
                    eprintln!("{err}");
                }
            }
        })
        .await;
}

async fn delete_all(cluster: &Cluster, objects: &[&Object], policy: &PropagationPolicy, concurrency: usize) {
    stream::iter(objects)
        .for_each_concurrent(concurrency, |obj| async move {
            if let Err(err) = cluster.delete(&obj.obj_ref, None, policy.clone(), false).await {
                eprintln!("{err}");
            }
        })
        .await;
}
