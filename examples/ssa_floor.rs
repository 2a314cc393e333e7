//! The benchmark's floor: the same server-side apply requests kapply sends, fired with as much
//! parallelism as helps and nothing else — no inventory, no policy reads, no waiting for status. The
//! only ordering is what the server requires: Namespaces and CRDs first (and CRDs served) before the
//! objects that need them.
//!
//! Usage: `ssa_floor DIR [CONCURRENCY]` with `KUBECONFIG` set. Prints nothing but errors.

use std::time::Duration;

use futures::{StreamExt, stream};
use kapply::cluster::{ApplyOptions, Cluster, ConnectOptions};
use kapply::manifest::{self, Input, LoadOptions, UnknownKinds};
use kapply::object::Object;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: ssa_floor DIR [CONCURRENCY]");
    let concurrency: usize = args.next().map_or(64, |c| c.parse().expect("CONCURRENCY is a number"));
    let cluster = Cluster::connect(&ConnectOptions::default()).await.expect("connect");
    let options = LoadOptions {
        recursive: true,
        default_namespace: Some("default".into()),
        unknown_kinds: UnknownKinds::AssumeNamespaced,
    };
    let objects =
        manifest::load(&[Input::path(dir)], &options, &cluster.discovered().await).expect("manifests");
    let objects: Vec<Object> = objects.into_iter().filter(|o| !is_inventory(o)).collect();
    let (first, rest): (Vec<&Object>, Vec<&Object>) = objects
        .iter()
        .partition(|o| o.obj_ref.group_kind().is_namespace() || o.obj_ref.group_kind().is_crd());
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
}

fn is_inventory(obj: &Object) -> bool {
    kapply::inventory::is_inventory_template(&obj.body)
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
