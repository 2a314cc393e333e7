//! The RBAC pre-check of a prune: the deletions it plans, and whether the user may send every one of
//! them (SelfSubjectAccessReviews) — if one is forbidden, nothing is deleted.

use std::collections::{BTreeMap, HashMap, HashSet};

use futures::StreamExt;
use serde_json::Value;

use crate::cluster::ClusterError;
use crate::event::{Event, ObjectError, PruneOutcome, SkipReason};
use crate::graph::Graph;
use crate::object::{GroupKind, ObjRef};

use super::PrunePhase;
use super::decide::{Action, Decision, Rules};
use crate::engine::emit::Emitter;

/// The candidates the loop would delete if every delete succeeded: a dry pass of its scheduler, in
/// which a candidate that stays keeps what it depends on.
pub(super) fn planned_deletions(
    deletion: &Graph,
    live: &HashMap<ObjRef, Value>,
    rules: &Rules<'_>,
) -> Vec<ObjRef> {
    let mut scheduler = deletion.delete_scheduler();
    let mut planned = Vec::new();
    loop {
        let ready = scheduler.ready();
        if ready.is_empty() {
            return planned;
        }
        for obj in ready {
            scheduler.start(&obj);
            if let Decision::Act(Action::Delete { .. }) = rules.decide(&obj, &live[&obj]) {
                scheduler.complete(&obj);
                planned.push(obj);
            } else {
                scheduler.fail(&obj);
            }
        }
    }
}

impl PrunePhase<'_> {
    /// The planned deletions the user may not send, each with its error. One access review per kind
    /// spanning several namespaces, for all of them; then one per (kind, namespace) not allowed that
    /// way; when that one is refused, one per object of it, as a Role may grant `delete` on some
    /// `resourceNames` only.
    ///
    /// A review that fails (an apiserver without `authorization.k8s.io/v1`) ends the check with
    /// nothing found: the prune goes on as it would without it, and a refused delete fails alone.
    /// Once a (kind, namespace) is refused, an object whose own review fails counts as refused.
    pub(super) async fn forbidden_deletions(&self, planned: &[ObjRef]) -> Vec<(ObjRef, ObjectError)> {
        let mut batches: BTreeMap<(GroupKind, Option<&str>), Vec<&ObjRef>> = BTreeMap::new();
        for obj in planned {
            batches.entry((obj.group_kind(), obj.namespace.as_deref())).or_default().push(obj);
        }
        let concurrency = self.options.concurrency.max(1);
        // A kind the user may delete in every namespace needs no review per namespace: when a kind
        // spans several, one review for all namespaces comes first (an administrator's usual case).
        let mut namespaces_of: BTreeMap<GroupKind, usize> = BTreeMap::new();
        for (gk, namespace) in batches.keys() {
            if namespace.is_some() {
                *namespaces_of.entry(gk.clone()).or_default() += 1;
            }
        }
        let spanning = namespaces_of.into_iter().filter(|(_, count)| *count > 1).map(|(gk, _)| gk);
        let everywhere: HashSet<GroupKind> = futures::stream::iter(spanning)
            .map(|gk: GroupKind| async move {
                let review = self.may_delete(&gk, None, None).await;
                (gk, review)
            })
            .buffer_unordered(concurrency)
            // Refused, or not known: the reviews per namespace decide.
            .filter_map(|(gk, review)| async move { matches!(review, Ok(None)).then_some(gk) })
            .collect()
            .await;
        batches.retain(|(gk, namespace), _| namespace.is_none() || !everywhere.contains(gk));
        // One review per remaining (kind, namespace), all at once: a prune across many namespaces
        // would otherwise wait for them one after the other before its first delete.
        let owned: Vec<(GroupKind, Option<String>, Vec<ObjRef>)> = batches
            .into_iter()
            .map(|((gk, namespace), objects)| {
                (gk, namespace.map(str::to_owned), objects.into_iter().cloned().collect())
            })
            .collect();
        let batch_reviews = futures::stream::iter(owned)
            // Owned items: see `engine::validate` (rust-lang/rust#102211).
            .map(|(gk, namespace, objects): (GroupKind, Option<String>, Vec<ObjRef>)| async move {
                let review = self.may_delete(&gk, namespace.as_deref(), None).await;
                (gk, namespace, objects, review)
            })
            .buffered(concurrency)
            .collect::<Vec<_>>()
            .await;
        let mut forbidden = Vec::new();
        for (gk, namespace, objects, review) in batch_reviews {
            let refused = match review {
                Ok(None) => continue,
                Ok(Some(refused)) => refused,
                Err(err) => {
                    tracing::debug!("cannot review delete access, pruning without the check: {err}");
                    return Vec::new();
                }
            };
            let (gk, namespace) = (&gk, namespace.as_deref());
            let reviews = futures::stream::iter(objects)
                .map(|obj: ObjRef| async move {
                    let review = self.may_delete(gk, namespace, Some(&obj.name)).await;
                    (obj, review)
                })
                .buffer_unordered(concurrency)
                .collect::<Vec<_>>()
                .await;
            for (obj, review) in reviews {
                match review {
                    Ok(None) => {}
                    Ok(Some(error)) => forbidden.push((obj, error)),
                    Err(err) => {
                        tracing::debug!("cannot review delete access to {obj}, counted as refused: {err}");
                        forbidden.push((obj, refused.clone()));
                    }
                }
            }
        }
        forbidden
    }

    /// None when the user may delete objects of `gk` in `namespace` (the one named `name`, when
    /// given), else the error that names what is forbidden and how to check it.
    async fn may_delete(
        &self,
        gk: &GroupKind,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Result<Option<ObjectError>, ClusterError> {
        let access = self.cluster.can_i("delete", gk, namespace, name).await?;
        if access.allowed {
            return Ok(None);
        }
        let reason = access.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
        let error = ObjectError::new(format!(
            "{access} is forbidden to your kubeconfig user{reason}, so this prune deletes nothing"
        ))
        .with_hint(format!(
            "check the RBAC permissions of your kubeconfig user (`{}` must answer yes), then re-run",
            access.kubectl_can_i()
        ));
        Ok(Some(error))
    }
}

/// A prune with forbidden deletions: nothing is deleted. Each forbidden candidate fails with its error,
/// every other one is skipped, and all stay in the inventory.
pub(super) fn refuse_every_deletion(
    candidates: &[ObjRef],
    forbidden: Vec<(ObjRef, ObjectError)>,
    emitter: &mut Emitter<'_>,
) {
    let count = forbidden.len();
    let mut forbidden: HashMap<ObjRef, ObjectError> = forbidden.into_iter().collect();
    for obj in candidates {
        let result = match forbidden.remove(obj) {
            Some(error) => PruneOutcome::Failed(error),
            None => PruneOutcome::Skipped(SkipReason::DeletionForbidden(count)),
        };
        emitter.emit(Event::Prune { obj: obj.clone(), outcome: result });
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::inventory;

    fn cm(name: &str) -> ObjRef {
        ObjRef::new("", "ConfigMap", Some("shop"), name)
    }

    #[test]
    fn a_forbidden_deletion_fails_its_object_skips_every_other_and_keeps_all_recorded() {
        let mut events = Vec::new();
        let mut sink = |event: &Event| events.push(event.clone());
        let mut emitter = Emitter::new(&mut sink);
        let denied = ObjectError::new("delete configmaps/b in namespace shop is forbidden");
        let forbidden = vec![(cm("b"), denied.clone())];
        refuse_every_deletion(&[cm("a"), cm("b"), cm("c")], forbidden, &mut emitter);
        let outcome = emitter.outcome().clone();
        drop(emitter);
        let skipped = PruneOutcome::Skipped(SkipReason::DeletionForbidden(1));
        assert_eq!(
            events,
            vec![
                Event::Prune { obj: cm("a"), outcome: skipped.clone() },
                Event::Prune { obj: cm("b"), outcome: PruneOutcome::Failed(denied) },
                Event::Prune { obj: cm("c"), outcome: skipped },
            ]
        );
        let all = BTreeSet::from([cm("a"), cm("b"), cm("c")]);
        assert_eq!(inventory::final_set(&all, &outcome), all, "every candidate stays recorded");
    }
}
