//! [`SendQueue`]: the objects ready to be applied, sent in kind order whenever they became ready, with
//! large objects kept from holding every slot.
//!
//! Two things held a bundle's Deployments back — and their rollouts are what a first apply waits for
//! longest (W4 in docs/performance.md: prometheus-operator's and kyverno's bundles):
//! - **Readiness order.** A queue in the order objects became ready put everything in a new Namespace
//!   (ready once the Namespace is) behind every cluster-scoped ClusterRole and binding that was ready
//!   from the start. Ranked by kind order instead, a ServiceAccount that becomes ready late still goes
//!   before a ClusterRole queued early, as kind order means.
//! - **Heavy applies.** A server-side apply costs the apiserver roughly in proportion to its body — a
//!   300 KB CustomResourceDefinition takes it a hundred times the work of a ServiceAccount — and a
//!   new CRD more again (its API is set up and the OpenAPI document rebuilt). The bundle's 32 CRDs,
//!   up to 650 KB each, held all the slots for two seconds. Large objects (CRDs, and any body of
//!   [`LARGE_BODY_BYTES`] or more) may now hold at most a quarter of the slots, and the small ones go
//!   on beside them.
//!
//! Kind order is an order of sending, not a dependency (edges are: see [`crate::graph`]), so a small
//! object overtaking a large one breaks no guarantee.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::object::ObjRef;

/// A body of at least this many bytes (compact JSON) makes an apply large.
pub(super) const LARGE_BODY_BYTES: usize = 64 * 1024;

/// How many large applies may be in flight when `concurrency` may be: a quarter, and at least one.
/// Half was not enough: with eight CRDs in flight the apiserver's two cores stayed saturated, and the
/// small applies beside them took as long as before. W4, two runs each: its last Deployment sent
/// 3.1–3.3 s after the first write with eight, 1.2–2.0 s with four; its last CRD Established after
/// 7.8–8.4 s with eight, 7.0–11.5 s with four.
pub(super) fn large_slots(concurrency: usize) -> usize {
    (concurrency / 4).max(1)
}

type Line = BinaryHeap<Reverse<(usize, ObjRef)>>;

/// Ready objects not sent yet, in two lines — small and large — each ordered by rank (the object's
/// place in kind order, [`Scheduler::place`](crate::graph::Scheduler::place)); the lower rank of the
/// two lines' first goes first, when it may.
#[derive(Debug, Default)]
pub(super) struct SendQueue {
    small: Line,
    large: Line,
}

impl SendQueue {
    /// Queues `obj` at `rank`.
    pub(super) fn push(&mut self, obj: ObjRef, rank: usize, large: bool) {
        let line = if large { &mut self.large } else { &mut self.small };
        line.push(Reverse((rank, obj)));
    }

    /// The next object to send, and whether it is large: the lowest rank, skipping the large ones when
    /// `large_allowed` is false. None when nothing may go.
    pub(super) fn pop(&mut self, large_allowed: bool) -> Option<(ObjRef, bool)> {
        let rank = |line: &Line| line.peek().map(|Reverse((rank, _))| *rank);
        let take_large = match (rank(&self.small), rank(&self.large).filter(|_| large_allowed)) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(small), Some(large)) => large < small,
        };
        let line = if take_large { &mut self.large } else { &mut self.small };
        line.pop().map(|Reverse((_, obj))| (obj, take_large))
    }

    /// Empties the queue, in the order the objects would have been sent.
    pub(super) fn drain(&mut self) -> Vec<ObjRef> {
        let mut all: Vec<(usize, ObjRef)> =
            self.small.drain().chain(self.large.drain()).map(|Reverse(entry)| entry).collect();
        all.sort_unstable_by_key(|(rank, _)| *rank);
        all.into_iter().map(|(_, obj)| obj).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(name: &str) -> ObjRef {
        ObjRef::new("", "ConfigMap", Some("ns"), name)
    }

    fn names(popped: impl IntoIterator<Item = (ObjRef, bool)>) -> Vec<String> {
        popped
            .into_iter()
            .map(|(obj, large)| format!("{}{}", obj.name, if large { "*" } else { "" }))
            .collect()
    }

    fn pop_all(q: &mut SendQueue, large_allowed: bool) -> Vec<String> {
        names(std::iter::from_fn(|| q.pop(large_allowed)).collect::<Vec<_>>())
    }

    #[test]
    fn objects_leave_by_rank_whatever_the_order_they_were_queued_in() {
        let mut q = SendQueue::default();
        q.push(cm("cluster-role"), 5, false);
        q.push(cm("crd"), 1, true);
        q.push(cm("deployment"), 9, false);
        q.push(cm("service-account-of-a-new-namespace"), 3, false);
        assert_eq!(
            pop_all(&mut q, true),
            ["crd*", "service-account-of-a-new-namespace", "cluster-role", "deployment"]
        );
    }

    #[test]
    fn small_objects_overtake_large_ones_that_may_not_go_and_keep_their_own_order() {
        let mut q = SendQueue::default();
        q.push(cm("crd1"), 0, true);
        q.push(cm("crd2"), 1, true);
        q.push(cm("sa"), 2, false);
        q.push(cm("deploy"), 3, false);
        assert_eq!(pop_all(&mut q, false), ["sa", "deploy"]);
        assert_eq!(pop_all(&mut q, true), ["crd1*", "crd2*"]);
        assert_eq!(q.pop(true), None);
    }

    #[test]
    fn drain_keeps_the_sending_order_across_both_lines() {
        let mut q = SendQueue::default();
        q.push(cm("c"), 7, false);
        q.push(cm("b"), 4, true);
        q.push(cm("a"), 2, false);
        q.push(cm("z"), 0, true);
        let drained: Vec<String> = q.drain().into_iter().map(|o| o.name).collect();
        assert_eq!(drained, ["z", "a", "b", "c"]);
        assert_eq!(q.pop(true), None);
    }

    #[test]
    fn large_objects_get_a_quarter_of_the_slots_and_at_least_one() {
        assert_eq!(large_slots(16), 4);
        assert_eq!(large_slots(7), 1);
        assert_eq!(large_slots(1), 1);
        assert_eq!(large_slots(0), 1);
    }
}
