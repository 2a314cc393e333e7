//! Property tests: for random DAGs, waves and schedulers respect every edge, and depends-on round-trips.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use serde_json::json;

use super::test_support::*;
use super::*;
use crate::object::{DEPENDS_ON, ObjRef, Object};

const KINDS: &[(&str, &str)] = &[
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("apps/v1", "Deployment"),
    ("example.com/v1", "Widget"),
    ("batch/v1", "Job"),
];

/// A random DAG: objects `o0..on` of random kinds in namespace `ns`, optionally with Namespace `ns`
/// (implicit edges from everything), and depends-on edges only from a later object to an earlier one,
/// which keeps it acyclic.
#[derive(Debug, Clone)]
struct Dag {
    objects: Vec<Object>,
    /// (from, to) as references, explicit and implicit.
    edges: HashSet<(ObjRef, ObjRef)>,
}

fn dag() -> impl Strategy<Value = Dag> {
    (1usize..14, any::<bool>())
        .prop_flat_map(|(n, with_namespace)| {
            (
                Just(with_namespace),
                prop::collection::vec(0..KINDS.len(), n),
                prop::collection::vec(any::<u16>(), n),
            )
        })
        .prop_map(|(with_namespace, kinds, masks)| {
            let refs: Vec<ObjRef> = kinds
                .iter()
                .enumerate()
                .map(|(i, &k)| {
                    let (api_version, kind) = KINDS[k];
                    ObjRef::new(crate::object::group_of(api_version), kind, Some("ns"), format!("o{i}"))
                })
                .collect();
            let mut edges = HashSet::new();
            let mut objects = Vec::new();
            let ns_ref = ObjRef::new("", "Namespace", None, "ns");
            if with_namespace {
                objects.push(namespace("ns"));
            }
            for (i, r) in refs.iter().enumerate() {
                let deps: Vec<ObjRef> =
                    (0..i).filter(|j| masks[i] & (1 << (j % 16)) != 0).map(|j| refs[j].clone()).collect();
                for d in &deps {
                    edges.insert((r.clone(), d.clone()));
                }
                if with_namespace {
                    edges.insert((r.clone(), ns_ref.clone()));
                }
                let mut metadata = json!({"name": r.name, "namespace": "ns"});
                if !deps.is_empty() {
                    metadata["annotations"] = json!({DEPENDS_ON: format_depends_on(&deps)});
                }
                objects.push(obj(
                    json!({"apiVersion": KINDS[kinds[i]].0, "kind": r.kind, "metadata": metadata}),
                ));
            }
            Dag { objects, edges }
        })
}

fn wave_of(waves: &[Vec<ObjRef>]) -> HashMap<ObjRef, usize> {
    waves.iter().enumerate().flat_map(|(w, objs)| objs.iter().map(move |o| (o.clone(), w))).collect()
}

/// Runs a scheduler to completion, completing running objects in an order picked by `choices`, and
/// returns the completion order.
fn run(mut s: Scheduler, choices: &[usize]) -> Vec<ObjRef> {
    let mut running: Vec<ObjRef> = Vec::new();
    let mut order = Vec::new();
    let mut step = 0;
    loop {
        for r in s.ready() {
            s.start(&r);
            running.push(r);
        }
        if running.is_empty() {
            assert!(s.is_finished(), "nothing running or ready but not finished");
            return order;
        }
        let pick = choices.get(step).copied().unwrap_or(0) % running.len();
        step += 1;
        let done = running.swap_remove(pick);
        s.complete(&done);
        order.push(done);
    }
}

proptest! {
    #[test]
    fn graph_has_exactly_the_generated_edges(d in dag()) {
        let g = build(&d.objects, no_mutations).unwrap();
        let got: HashSet<(ObjRef, ObjRef)> = g.edges().iter().map(|e| (e.from.clone(), e.to.clone())).collect();
        prop_assert_eq!(got, d.edges);
        prop_assert!(g.external().is_empty());
    }

    #[test]
    fn every_dependency_is_in_an_earlier_wave(d in dag()) {
        let g = build(&d.objects, no_mutations).unwrap();
        let waves = g.waves();
        let wave = wave_of(&waves);
        prop_assert_eq!(wave.len(), d.objects.len());
        for (from, to) in &d.edges {
            prop_assert!(wave[to] < wave[from], "{} (wave {}) -> {} (wave {})", from, wave[from], to, wave[to]);
        }
        for w in &waves {
            prop_assert!(w.windows(2).all(|p| cmp_kind_order(&p[0], &p[1]).is_lt()));
        }
    }

    #[test]
    fn every_dependent_is_in_an_earlier_delete_wave(d in dag()) {
        let g = build(&d.objects, no_mutations).unwrap();
        let waves = g.delete_waves();
        let wave = wave_of(&waves);
        prop_assert_eq!(wave.len(), d.objects.len());
        for (from, to) in &d.edges {
            prop_assert!(wave[from] < wave[to], "{} must be deleted before {}", from, to);
        }
        for w in &waves {
            prop_assert!(w.windows(2).all(|p| cmp_delete_order(&p[0], &p[1]).is_lt()));
        }
    }

    #[test]
    fn scheduler_completes_every_object_after_all_its_dependencies(
        d in dag(), choices in prop::collection::vec(any::<usize>(), 0..40)
    ) {
        let g = build(&d.objects, no_mutations).unwrap();
        let order = run(g.scheduler(), &choices);
        prop_assert_eq!(order.len(), d.objects.len());
        let position: HashMap<&ObjRef, usize> = order.iter().enumerate().map(|(i, r)| (r, i)).collect();
        for (from, to) in &d.edges {
            prop_assert!(position[to] < position[from], "{} completed before its dependency {}", from, to);
        }
    }

    #[test]
    fn delete_scheduler_completes_every_object_after_all_its_dependents(
        d in dag(), choices in prop::collection::vec(any::<usize>(), 0..40)
    ) {
        let g = build(&d.objects, no_mutations).unwrap();
        let order = run(g.delete_scheduler(), &choices);
        prop_assert_eq!(order.len(), d.objects.len());
        let position: HashMap<&ObjRef, usize> = order.iter().enumerate().map(|(i, r)| (r, i)).collect();
        for (from, to) in &d.edges {
            prop_assert!(position[from] < position[to], "{} deleted before its dependent {}", to, from);
        }
    }

    #[test]
    fn a_failure_skips_exactly_the_transitive_dependents(d in dag(), victim in any::<prop::sample::Index>()) {
        let g = build(&d.objects, no_mutations).unwrap();
        let failed = victim.get(g.objects()).clone();
        let mut expected = HashSet::new();
        let mut stack = vec![failed.clone()];
        while let Some(r) = stack.pop() {
            for dep in g.dependents(&r) {
                if expected.insert(dep.clone()) {
                    stack.push(dep.clone());
                }
            }
        }
        let mut s = g.scheduler();
        let skipped: HashSet<ObjRef> = s.fail(&failed).into_iter().collect();
        prop_assert_eq!(&skipped, &expected);
        let completed = run(s, &[]);
        prop_assert_eq!(completed.len() + skipped.len() + 1, g.len());
    }

    #[test]
    fn depends_on_round_trips_through_its_formatter(
        refs in prop::collection::vec(
            ("[a-z]{0,6}(\\.[a-z]{1,5}){0,2}", "[A-Z][a-zA-Z]{0,8}", prop::option::of("[a-z0-9][a-z0-9-]{0,8}"),
             "[a-z0-9][a-z0-9:.-]{0,12}"),
            1..6,
        )
    ) {
        let mut unique: Vec<ObjRef> = Vec::new();
        for (group, kind, ns, name) in refs {
            let r = ObjRef::new(group, kind, ns.as_deref(), name);
            if !unique.contains(&r) {
                unique.push(r);
            }
        }
        prop_assert_eq!(parse_depends_on(&format_depends_on(&unique)).unwrap(), unique);
    }
}
