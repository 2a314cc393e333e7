//! [`Waiting`]: what a run is still waiting for, folded from its events — the body of the events
//! printer's heartbeat, so that a CI job that kills silent steps sees kapply is alive and what holds
//! it up.
//!
//! The printer has no timer of its own: whoever drives the stream calls
//! [`Printer::heartbeat`](super::Printer::heartbeat) on its own clock (the CLI: every `--heartbeat`),
//! and the heartbeat reads only the events seen so far, so it is as testable as any other line.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::event::{ApplyOutcome, Event, PruneOutcome};
use crate::object::ObjRef;

/// How many of the objects waited for longest a heartbeat names.
pub const SLOWEST: usize = 3;

/// Objects not finished yet, and those being waited for, oldest wait first.
#[derive(Debug, Default)]
pub struct Waiting {
    /// Objects of the plan (and any the plan did not name) without their final outcome yet.
    unfinished: usize,
    dry_run: bool,
    /// Waited for, by when the wait began (the order of arrival); each with its last status line.
    waits: BTreeMap<u64, (ObjRef, Option<String>)>,
    index: HashMap<ObjRef, u64>,
    next: u64,
}

impl Waiting {
    /// Follows one event.
    pub fn observe(&mut self, event: &Event) {
        match event {
            Event::Plan(plan) => {
                *self = Waiting {
                    unfinished: plan.len(),
                    dry_run: plan.dry_run.is_dry_run(),
                    ..Waiting::default()
                };
            }
            Event::Apply { obj, outcome } => match outcome {
                ApplyOutcome::Created | ApplyOutcome::Configured | ApplyOutcome::Unchanged
                    if !self.dry_run =>
                {
                    self.start(obj)
                }
                _ => self.finish(obj),
            },
            Event::Prune { obj, outcome } | Event::Delete { obj, outcome } => match outcome {
                PruneOutcome::Deleted if !self.dry_run => self.start(obj),
                _ => self.finish(obj),
            },
            Event::Status { obj, status } => {
                if let Some(seq) = self.index.get(obj)
                    && let Some((_, last)) = self.waits.get_mut(seq)
                {
                    *last = Some(format!("{}: {}", status.status, super::status_message(status)));
                }
            }
            Event::Reconciled { obj, .. } | Event::Deleted { obj, .. } => self.finish(obj),
            _ => {}
        }
    }

    fn start(&mut self, obj: &ObjRef) {
        self.next += 1;
        self.index.insert(obj.clone(), self.next);
        self.waits.insert(self.next, (obj.clone(), None));
    }

    fn finish(&mut self, obj: &ObjRef) {
        self.unfinished = self.unfinished.saturating_sub(1);
        if let Some(seq) = self.index.remove(obj) {
            self.waits.remove(&seq);
        }
    }

    /// How many objects have no final outcome yet.
    pub fn unfinished(&self) -> usize {
        self.unfinished
    }

    /// The heartbeat after `elapsed`: `still running after 20s: 3 object(s) not finished, 2 waited
    /// for`, then one indented line for each of the [`SLOWEST`] waited for longest, with its last
    /// status, and `  … and N more` for the rest.
    pub fn lines(&self, elapsed: Duration) -> Vec<String> {
        let elapsed = Duration::from_secs(elapsed.as_secs());
        let mut lines = vec![format!(
            "still running after {}: {} object(s) not finished, {} waited for",
            humantime(elapsed),
            self.unfinished,
            self.waits.len()
        )];
        for (obj, last) in self.waits.values().take(SLOWEST) {
            lines.push(match last {
                Some(status) => format!("  {obj} is {status}"),
                None => format!("  {obj}: no status yet"),
            });
        }
        if self.waits.len() > SLOWEST {
            lines.push(format!("  … and {} more", self.waits.len() - SLOWEST));
        }
        lines
    }
}

/// `1h2m3s`, `4m0s`, `15s`: as Go (and kubectl) print durations, in whole seconds.
fn humantime(elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{DryRun, Plan, WaitOutcome};
    use crate::kstatus::StatusResult;

    fn cm(name: &str) -> ObjRef {
        ObjRef::new("", "ConfigMap", Some("ns"), name)
    }

    fn deploy(name: &str) -> ObjRef {
        ObjRef::new("apps", "Deployment", Some("ns"), name)
    }

    #[test]
    fn the_heartbeat_names_the_objects_waited_for_longest_with_their_last_status() {
        let objs: Vec<ObjRef> = ["a", "b", "c", "d", "e"].map(deploy).into();
        let mut waiting = Waiting::default();
        waiting.observe(&Event::Plan(Plan::for_apply(
            vec![objs.clone(), vec![cm("x")]],
            vec![],
            DryRun::None,
        )));
        for obj in &objs {
            waiting.observe(&Event::Apply { obj: obj.clone(), outcome: ApplyOutcome::Created });
        }
        let why = crate::details::Detail {
            reason: "Unschedulable".into(),
            message: "0/2 nodes are available".into(),
            object: Some(ObjRef::new("", "Pod", Some("ns"), "b-1")),
        };
        waiting.observe(&Event::Status {
            obj: deploy("b"),
            status: StatusResult::in_progress("R", "Available: 0/1").with_details(vec![why]),
        });
        waiting.observe(&Event::Reconciled { obj: deploy("a"), outcome: WaitOutcome::Current });
        assert_eq!(
            waiting.lines(Duration::from_millis(75_400)),
            [
                "still running after 1m15s: 5 object(s) not finished, 4 waited for",
                "  Deployment.apps/ns/b is InProgress: Available: 0/1; Unschedulable: 0/2 nodes are available (Pod/ns/b-1)",
                "  Deployment.apps/ns/c: no status yet",
                "  Deployment.apps/ns/d: no status yet",
                "  … and 1 more",
            ]
        );
    }

    #[test]
    fn a_dry_run_waits_for_nothing_and_failures_finish_an_object() {
        let mut waiting = Waiting::default();
        waiting.observe(&Event::Plan(Plan::for_apply(
            vec![vec![cm("a"), cm("b")]],
            vec![cm("old")],
            DryRun::Client,
        )));
        waiting.observe(&Event::Apply { obj: cm("a"), outcome: ApplyOutcome::Created });
        waiting.observe(&Event::Prune { obj: cm("old"), outcome: PruneOutcome::Deleted });
        assert_eq!(waiting.unfinished(), 1);
        assert_eq!(
            waiting.lines(Duration::from_secs(3661)),
            ["still running after 1h1m1s: 1 object(s) not finished, 0 waited for"]
        );
    }
}
