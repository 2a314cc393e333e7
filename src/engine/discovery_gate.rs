//! Holding back the custom resources of a CRD established in this run until discovery serves their
//! kind — without holding back anything else.
//!
//! A CRD's `Established` condition comes before the apiserver publishes its kind in discovery
//! (aggregated discovery is rebuilt asynchronously), so right after it the kind may not resolve yet.
//! The apply loop asks the gate, for each object it is about to send, whether to hold it; held objects
//! wait while discovery is refreshed in the background (the loop keeps applying and observing
//! everything else), and are released as soon as their version is served, or when
//! [`DISCOVERY_PATIENCE`] has passed for their kind (their apply then fails as not served).
//!
//! A kind the current discovery already serves is never waited for: an unchanged re-apply of a set
//! with CRDs refreshes nothing.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use crate::cluster::Discovered;
use crate::graph::crd_group_kind;
use crate::object::{GroupKind, ObjRef, Object};

/// How long discovery may lag behind an established CRD before its custom resources fail as not
/// served. The apiserver usually publishes the kind within a second.
pub(crate) const DISCOVERY_PATIENCE: Duration = Duration::from_secs(30);

/// Whether discovery serves a kind at a version: [`Discovered`], or a fixed table in tests.
pub(crate) trait ServedKinds {
    fn serves(&self, gk: &GroupKind, api_version: &str) -> bool;
}

impl ServedKinds for Discovered {
    fn serves(&self, gk: &GroupKind, api_version: &str) -> bool {
        self.serves_version(gk, api_version) == Some(true)
    }
}

/// A kind awaited in discovery: the versions its CRD serves, and when to stop waiting.
#[derive(Debug)]
struct Awaited {
    versions: Vec<String>,
    deadline: Instant,
}

/// The kinds awaited in discovery and the objects held until they are served.
#[derive(Debug, Default)]
pub(crate) struct DiscoveryGate {
    awaited: HashMap<GroupKind, Awaited>,
    held: Vec<ObjRef>,
    /// The pause before the next refresh: none before the first, then doubling up to a second.
    pause: Duration,
}

impl DiscoveryGate {
    /// A CRD of the set became Current: await its kind when discovery does not serve it at every
    /// version the CRD serves (a CRD serving none is never published, so never awaited).
    pub(crate) fn crd_established(&mut self, crd: &Value, served: &impl ServedKinds, now: Instant) {
        let Some(gk) = crd_group_kind(crd) else { return };
        let versions: Vec<String> = served_versions(crd).map(|v| format!("{}/{v}", gk.group)).collect();
        if versions.is_empty() || versions.iter().all(|v| served.serves(&gk, v)) {
            return;
        }
        if self.awaited.is_empty() {
            self.pause = Duration::ZERO;
        }
        self.awaited.insert(gk, Awaited { versions, deadline: now + DISCOVERY_PATIENCE });
    }

    /// True (and the object is held) when `obj`'s kind is awaited and its version not served yet.
    pub(crate) fn hold(&mut self, obj: &Object, served: &impl ServedKinds) -> bool {
        let gk = obj.obj_ref.group_kind();
        let hold = self.awaited.contains_key(&gk) && !served.serves(&gk, &obj.api_version);
        if hold {
            self.held.push(obj.obj_ref.clone());
        }
        hold
    }

    /// Whether the loop should keep a discovery refresh going.
    pub(crate) fn wants_refresh(&self) -> bool {
        !self.awaited.is_empty()
    }

    /// Whether objects are held: the loop is not done while they are.
    pub(crate) fn is_holding(&self) -> bool {
        !self.held.is_empty()
    }

    /// How long to sleep before the next refresh (50 ms after the first, doubling up to 1 s).
    pub(crate) fn next_pause(&mut self) -> Duration {
        let pause = self.pause;
        self.pause = (self.pause * 2).clamp(Duration::from_millis(50), Duration::from_secs(1));
        pause
    }

    /// Discovery was refreshed: kinds now served at every version, or past their patience, are no
    /// longer awaited. Returns the held objects to send now: those whose version `objects` says is
    /// served, and those of kinds no longer awaited.
    pub(crate) fn refreshed(
        &mut self,
        served: &impl ServedKinds,
        objects: impl Fn(&ObjRef) -> Option<String>,
        now: Instant,
    ) -> Vec<ObjRef> {
        self.awaited.retain(|gk, awaited| {
            now < awaited.deadline && !awaited.versions.iter().all(|v| served.serves(gk, v))
        });
        let (release, keep): (Vec<ObjRef>, Vec<ObjRef>) =
            std::mem::take(&mut self.held).into_iter().partition(|obj| {
                let gk = obj.group_kind();
                !self.awaited.contains_key(&gk)
                    || objects(obj).is_some_and(|api_version| served.serves(&gk, &api_version))
            });
        self.held = keep;
        release
    }

    /// Every held object, for a cancelled run to report as not sent.
    pub(crate) fn release_all(&mut self) -> Vec<ObjRef> {
        self.awaited.clear();
        std::mem::take(&mut self.held)
    }
}

/// The names of the versions a CRD serves.
fn served_versions(crd: &Value) -> impl Iterator<Item = &str> {
    crd.pointer("/spec/versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.get("served").and_then(Value::as_bool) == Some(true))
        .filter_map(|v| v.get("name").and_then(Value::as_str))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::json;

    use super::*;

    /// Served (kind, apiVersion) pairs.
    #[derive(Default)]
    struct Table(HashSet<(String, String)>);

    impl Table {
        fn serve(&mut self, kind: &str, api_version: &str) {
            self.0.insert((kind.to_owned(), api_version.to_owned()));
        }
    }

    impl ServedKinds for Table {
        fn serves(&self, gk: &GroupKind, api_version: &str) -> bool {
            self.0.contains(&(gk.kind.clone(), api_version.to_owned()))
        }
    }

    fn crd(versions: Value) -> Value {
        json!({"spec": {"group": "example.com", "names": {"kind": "Widget"}, "versions": versions}})
    }

    fn widget(api_version: &str) -> Object {
        crate::object::testing::obj(
            json!({"apiVersion": api_version, "kind": "Widget", "metadata": {"name": "w", "namespace": "ns"}}),
        )
    }

    #[test]
    fn a_kind_already_served_is_not_awaited_and_nothing_is_held() {
        let mut served = Table::default();
        served.serve("Widget", "example.com/v1");
        let mut gate = DiscoveryGate::default();
        gate.crd_established(&crd(json!([{"name": "v1", "served": true}])), &served, Instant::now());
        assert!(!gate.wants_refresh());
        assert!(!gate.hold(&widget("example.com/v1"), &served));
    }

    #[test]
    fn a_kind_served_only_at_a_non_preferred_version_counts_as_served() {
        // Served at v1alpha1 only: what the CRD serves is all that is awaited.
        let mut served = Table::default();
        served.serve("Widget", "example.com/v1alpha1");
        let mut gate = DiscoveryGate::default();
        let crd = crd(json!([{"name": "v1alpha1", "served": true}, {"name": "v0", "served": false}]));
        gate.crd_established(&crd, &served, Instant::now());
        assert!(!gate.wants_refresh());
    }

    #[test]
    fn an_unserved_kind_holds_its_objects_until_a_refresh_serves_it() {
        let now = Instant::now();
        let mut served = Table::default();
        let mut gate = DiscoveryGate::default();
        gate.crd_established(&crd(json!([{"name": "v1", "served": true}])), &served, now);
        assert!(gate.wants_refresh());
        let obj = widget("example.com/v1");
        assert!(gate.hold(&obj, &served));
        assert!(gate.is_holding());
        let versions = |_: &ObjRef| Some("example.com/v1".to_owned());
        assert!(gate.refreshed(&served, versions, now).is_empty(), "still not served");
        served.serve("Widget", "example.com/v1");
        assert_eq!(gate.refreshed(&served, versions, now), vec![obj.obj_ref.clone()]);
        assert!(!gate.is_holding());
        assert!(!gate.wants_refresh());
    }

    #[test]
    fn held_objects_are_released_when_the_patience_runs_out() {
        let now = Instant::now();
        let served = Table::default();
        let mut gate = DiscoveryGate::default();
        gate.crd_established(&crd(json!([{"name": "v1", "served": true}])), &served, now);
        let obj = widget("example.com/v1");
        assert!(gate.hold(&obj, &served));
        let versions = |_: &ObjRef| Some("example.com/v1".to_owned());
        let later = now + DISCOVERY_PATIENCE;
        assert_eq!(gate.refreshed(&served, versions, later), vec![obj.obj_ref.clone()]);
        assert!(!gate.wants_refresh());
    }

    #[test]
    fn a_crd_serving_no_version_is_never_awaited() {
        let mut gate = DiscoveryGate::default();
        gate.crd_established(
            &crd(json!([{"name": "v1", "served": false}])),
            &Table::default(),
            Instant::now(),
        );
        assert!(!gate.wants_refresh());
    }

    #[test]
    fn refresh_pauses_start_at_zero_and_double_up_to_a_second() {
        let mut gate = DiscoveryGate::default();
        let pauses: Vec<u128> = (0..7).map(|_| gate.next_pause().as_millis()).collect();
        assert_eq!(pauses, vec![0, 50, 100, 200, 400, 800, 1000]);
    }
}
