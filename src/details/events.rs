//! The latest Event about one object.

use jiff::Timestamp;
use serde_json::Value;

use super::{Detail, text};
use crate::object::ObjRef;

/// Which Events count.
pub(super) trait Kinds {
    fn counts(&self, event: &Value) -> bool;
}

/// Warning Events only: what a Pod's or workload's Events say when something is wrong.
pub(super) struct WarningOnly;
/// Every Event: a PersistentVolumeClaim's volume controller reports its problems as Normal Events.
pub(super) struct AnyType;

impl Kinds for WarningOnly {
    fn counts(&self, event: &Value) -> bool {
        text(event, "/type") == Some("Warning")
    }
}

impl Kinds for AnyType {
    fn counts(&self, _: &Value) -> bool {
        true
    }
}

/// The latest Event about `object` among `events` (matched by UID when both have one, else by kind,
/// namespace and name), as a detail named after the object.
pub(super) fn latest(events: &[Value], object: &Value, kinds: impl Kinds) -> Option<Detail> {
    let me = ObjRef::from_value(object)?;
    let uid = text(object, "/metadata/uid").filter(|u| !u.is_empty());
    let about = |event: &Value| {
        let involved = event.get("involvedObject")?;
        let same = match (uid, text(involved, "/uid").filter(|u| !u.is_empty())) {
            (Some(a), Some(b)) => a == b,
            _ => {
                text(involved, "/kind") == Some(me.kind.as_str())
                    && text(involved, "/name") == Some(me.name.as_str())
                    && text(involved, "/namespace").unwrap_or_default() == me.namespace_or_empty()
            }
        };
        same.then_some(())
    };
    let event = events
        .iter()
        .filter(|e| kinds.counts(e) && about(e).is_some())
        .max_by_key(|e| (when(e), text(e, "/metadata/name").unwrap_or_default().to_owned()))?;
    let reason = text(event, "/reason").filter(|r| !r.is_empty()).unwrap_or("Event");
    let message = text(event, "/message").unwrap_or_default();
    Some(Detail::new(reason, message, Some(me)))
}

/// When an Event was last seen: its series, `lastTimestamp`, `eventTime` or creation, the first set.
fn when(event: &Value) -> Option<Timestamp> {
    ["/series/lastObservedTime", "/lastTimestamp", "/eventTime", "/metadata/creationTimestamp"]
        .into_iter()
        .filter_map(|pointer| text(event, pointer))
        .find_map(|t| t.parse::<Timestamp>().ok())
}
