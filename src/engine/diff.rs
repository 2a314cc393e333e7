//! [`diff`]: what `apply` would change, object by object, as unified diffs — the live object against
//! the server's dry-run result of applying ours (see [`crate::diff`] for the rendering and masking).

use futures::{StreamExt, stream};

use super::apply_phase::mark_owned;
use super::{EngineError, Prepared};
use crate::cluster::{ApplyOptions, Cluster, ClusterError};
use crate::diff::diff_objects;
use crate::inventory;
use crate::object::ObjRef;

/// How `diff` asks the server (the `kapply diff` flags).
#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// The field manager the dry runs apply as.
    pub field_manager: String,
    /// Dry-run with force, as an apply forcing conflicts would; without it a conflict is an error.
    pub force_conflicts: bool,
    /// The policy a prune would use: decides which candidates show as removals.
    pub policy: inventory::InventoryPolicy,
    /// Dry runs in flight at once.
    pub concurrency: usize,
}

/// The diff of one object.
#[derive(Debug, Clone)]
pub struct ObjectDiff {
    /// The object compared (or, for a prune candidate, removed).
    pub obj: ObjRef,
    /// The unified diff (Secret values masked); None when applying would change nothing.
    pub diff: Option<String>,
    /// Why the object could not be compared (the dry run failed), naming the object, with a hint.
    pub error: Option<crate::event::ObjectError>,
    /// A note for the reader: the object would be pruned, or created after its CRD or Namespace.
    pub note: Option<&'static str>,
}

/// Diffs every object of the set (in apply order), then every prune candidate that a prune under
/// `policy` would delete (as a removal; kept and detached objects are abandoned, not removed).
///
/// # Errors
/// The live inventory cannot be read.
pub async fn diff(
    cluster: &Cluster,
    prepared: &Prepared,
    options: &DiffOptions,
) -> Result<Vec<ObjectDiff>, EngineError> {
    let concurrency = options.concurrency;
    let policy = options.policy;
    let options = &ApplyOptions {
        field_manager: options.field_manager.clone(),
        force_conflicts: options.force_conflicts,
        dry_run: true,
    };
    let refs: Vec<ObjRef> = prepared.graph.waves().into_iter().flatten().collect();
    // Owned items: a closure over `&ObjRef` makes the future not provably `Send`
    // (rust-lang/rust#102211).
    let mut diffs: Vec<ObjectDiff> = stream::iter(refs.clone())
        .map(|obj: ObjRef| async move { diff_one(cluster, prepared, &obj, options).await })
        .buffered(concurrency.max(1))
        .collect()
        .await;
    let previous =
        super::read_inventory(cluster, &prepared.info).await?.map(|inv| inv.objects).unwrap_or_default();
    for obj in inventory::prune_candidates(&previous, &prepared.kept_refs()) {
        let live = cluster.get(&obj).await.ok().flatten();
        let Some(live) = live else { continue };
        // Abandoned or not ours: it stays as it is, so there is nothing to show.
        if inventory::check_prune(policy, &prepared.info.id, &live).is_ok() {
            let diff = diff_objects(&obj.to_string(), Some(&live), None);
            diffs.push(ObjectDiff { obj, diff, error: None, note: Some("would be pruned") });
        }
    }
    Ok(diffs)
}

async fn diff_one(
    cluster: &Cluster,
    prepared: &Prepared,
    obj: &ObjRef,
    options: &ApplyOptions,
) -> ObjectDiff {
    let object = &prepared.object(obj).expect("diffed objects are in the set");
    let name = obj.to_string();
    // The body apply would send: marked as this inventory's.
    let mut body = object.body.clone();
    mark_owned(&mut body, &prepared.info);
    let pending = |note| ObjectDiff {
        obj: obj.clone(),
        diff: diff_objects(&name, None, Some(&body)),
        error: None,
        note: Some(note),
    };
    let live = match cluster.get(obj).await {
        Ok(live) => live,
        Err(ClusterError::UnknownKind(_)) => {
            return pending("would be created after its CustomResourceDefinition");
        }
        Err(err) => {
            return ObjectDiff {
                obj: obj.clone(),
                diff: None,
                error: Some(super::apply_phase::object_error(err)),
                note: None,
            };
        }
    };
    match cluster.apply(object, &body, live.as_ref(), options).await {
        Ok((_, desired)) => ObjectDiff {
            obj: obj.clone(),
            diff: diff_objects(&name, live.as_ref(), Some(&desired)),
            error: None,
            note: None,
        },
        Err(err) if err.code() == Some(404) && live.is_none() && obj.namespace.is_some() => {
            pending("would be created after its Namespace")
        }
        Err(err) => ObjectDiff {
            obj: obj.clone(),
            diff: None,
            error: Some(super::apply_phase::object_error(err)),
            note: None,
        },
    }
}
