//! The ordering contract as code: [`check_order`] checks an event sequence against it.

use std::collections::HashMap;

use crate::object::ObjRef;

use super::{Event, Operation, PruneOutcome, Summary};

/// A breach of the ordering contract found by [`check_order`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event #{index}: {message}")]
pub struct OrderViolation {
    /// Position of the offending event (the length of the sequence when something is missing at the end).
    pub index: usize,
    /// Which rule the event breaks, in one line naming the object concerned (`Reconciled of
    /// ConfigMap/default/a out of order`). For people: its wording is not stable.
    pub message: String,
}

/// Checks a complete event sequence against the ordering contract of the [module documentation](super):
/// rules 1–3 and 5–8, where each [`Event::Blocked`] of rule 4 may come, and "exactly one final
/// outcome per object". Rule 4 itself (dependencies first) needs the graph and is left to the engine's
/// own tests.
///
/// Meant for tests of the engine and of anything that produces events.
///
/// # Errors
/// The first violation, with the index of the event that breaks the contract.
pub fn check_order(events: &[Event]) -> Result<(), OrderViolation> {
    let fail = |index: usize, message: String| Err(OrderViolation { index, message });

    let Some(Event::Plan(plan)) = events.first() else {
        return fail(0, "the first event is not the Plan".to_owned());
    };
    let dry_run = plan.dry_run.is_dry_run();
    let mut objects: HashMap<&ObjRef, (Phase, Stage)> = HashMap::new();
    let planned = plan.apply.iter().flatten().map(|obj| (obj, Phase::Apply));
    let planned = planned
        .chain(plan.prune.iter().map(|obj| (obj, Phase::Prune)))
        .chain(plan.delete.iter().map(|obj| (obj, Phase::Delete)));
    for (obj, phase) in planned {
        if objects.insert(obj, (phase, Stage::Planned)).is_some() {
            return fail(0, format!("{obj} appears twice in the plan"));
        }
    }
    let unfinished = |objects: &HashMap<&ObjRef, (Phase, Stage)>, phase: Option<Phase>| {
        // The smallest, so the message does not depend on the map's order.
        objects
            .iter()
            .filter(|(_, (p, stage))| *stage != Stage::Final && phase.is_none_or(|phase| phase == *p))
            .map(|(obj, _)| *obj)
            .min()
            .cloned()
    };

    let mut acted = false;
    // A destroy of an inventory that does not exist plans nothing and writes nothing.
    let nothing_to_destroy = plan.operation == Operation::Destroy && plan.delete.is_empty();
    let mut inventory_first = false;
    let mut inventory_last = false;
    for (index, event) in events.iter().enumerate().skip(1) {
        if matches!(events[index - 1], Event::Summary(_)) {
            return fail(index, "an event after the Summary".to_owned());
        }
        let result = match event {
            Event::Plan(_) => Err("a second Plan".to_owned()),
            Event::Apply { obj, outcome } => {
                acted = true;
                let to = if outcome.is_applied() && !dry_run { Stage::Waiting } else { Stage::Final };
                step(&mut objects, obj, &[Phase::Apply], Stage::Planned, to, "Apply")
            }
            Event::Status { obj, .. } => {
                let stage = objects.get(obj).map(|(_, stage)| *stage);
                if stage == Some(Stage::Waiting) {
                    Ok(())
                } else {
                    Err(format!("Status of {obj} while kapply is not waiting for it"))
                }
            }
            Event::Blocked { obj, dependency, .. } => {
                let stage = |o: &ObjRef| objects.get(o).copied();
                match (stage(obj), stage(dependency)) {
                    (Some((Phase::Apply, Stage::Planned)), Some((Phase::Apply, Stage::Waiting))) => Ok(()),
                    (Some((Phase::Apply, Stage::Planned)), _) => {
                        Err(format!("Blocked of {obj} on {dependency}, which kapply is not waiting for"))
                    }
                    _ => Err(format!("Blocked of {obj}, which is not waiting to be applied")),
                }
            }
            Event::Reconciled { obj, .. } => {
                step(&mut objects, obj, &[Phase::Apply], Stage::Waiting, Stage::Final, "Reconciled")
            }
            Event::Prune { obj, outcome } | Event::Delete { obj, outcome } => {
                acted = true;
                let (phase, what) = match event {
                    Event::Prune { .. } => (Phase::Prune, "Prune"),
                    _ => (Phase::Delete, "Delete"),
                };
                if let Some(left) = unfinished(&objects, Some(Phase::Apply)) {
                    return fail(index, format!("{what} of {obj} before {left} of the apply set finished"));
                }
                let to =
                    if *outcome == PruneOutcome::Deleted && !dry_run { Stage::Waiting } else { Stage::Final };
                step(&mut objects, obj, &[phase], Stage::Planned, to, what)
            }
            Event::Deleted { obj, .. } => step(
                &mut objects,
                obj,
                &[Phase::Prune, Phase::Delete],
                Stage::Waiting,
                Stage::Final,
                "Deleted",
            ),
            Event::Warning { .. } => Ok(()),
            Event::Cancelled(_) => match events.get(index + 1) {
                Some(Event::Summary(_)) => Ok(()),
                _ => Err("Cancelled is not right before the Summary".to_owned()),
            },
            Event::Inventory { .. } if dry_run => Err("the inventory is written in a dry run".to_owned()),
            // Destroy rewrites the inventory to list only its own Namespace before deleting it.
            Event::Inventory { .. }
                if plan.operation == Operation::Destroy && only_a_namespace_left(&objects) =>
            {
                Ok(())
            }
            Event::Inventory { .. } if plan.operation == Operation::Apply && !acted && !inventory_first => {
                inventory_first = true;
                Ok(())
            }
            Event::Inventory { .. } => match unfinished(&objects, None) {
                Some(left) => Err(format!("the inventory is written before {left} finished")),
                None => {
                    inventory_last = true;
                    Ok(())
                }
            },
            Event::Summary(summary) => {
                if let Some(left) = unfinished(&objects, None) {
                    Err(format!("{left} has no final outcome"))
                } else if *summary != Summary::from_events(&events[..index]) {
                    Err("the Summary does not match the events before it".to_owned())
                } else if !dry_run && plan.operation == Operation::Apply && !inventory_first {
                    Err("the inventory was not written before applying".to_owned())
                } else if !dry_run && !inventory_last && !nothing_to_destroy {
                    Err("the inventory was not written at the end".to_owned())
                } else {
                    Ok(())
                }
            }
        };
        result.or_else(|message| fail(index, message))?;
    }
    match events.last() {
        Some(Event::Summary(_)) => Ok(()),
        _ => fail(events.len(), "the sequence does not end with a Summary".to_owned()),
    }
}

/// The phase of the plan an object belongs to, for [`check_order`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Apply,
    Prune,
    Delete,
}

/// Where an object stands in its sequence of events, for [`check_order`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Planned,
    Waiting,
    Final,
}

/// Moves `obj` from stage `from` to `to`, if it belongs to one of `phases` and stands at `from`.
fn step(
    objects: &mut HashMap<&ObjRef, (Phase, Stage)>,
    obj: &ObjRef,
    phases: &[Phase],
    from: Stage,
    to: Stage,
    what: &str,
) -> Result<(), String> {
    match objects.get_mut(obj) {
        None => Err(format!("{what} of {obj}, which the plan does not name")),
        Some((phase, _)) if !phases.contains(phase) => Err(format!("{what} of {obj}, planned for {phase:?}")),
        Some((_, stage)) if *stage != from => Err(format!("{what} of {obj} out of order")),
        Some((_, stage)) => {
            *stage = to;
            Ok(())
        }
    }
}

/// True when the one object without its final event is a Namespace: the inventory's own, which a
/// destroy deletes last, after rewriting the inventory to list only it.
fn only_a_namespace_left(objects: &HashMap<&ObjRef, (Phase, Stage)>) -> bool {
    let mut left = objects.iter().filter(|(_, (_, stage))| *stage != Stage::Final);
    matches!((left.next(), left.next()), (Some((obj, _)), None) if obj.group_kind().is_namespace())
}
