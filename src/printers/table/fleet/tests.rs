//! The fleet table's frames as golden strings at fixed sizes, and its live drawing read back through
//! the single-cluster tests' terminal emulator.

use unicode_width::UnicodeWidthStr;

use super::super::tests_live::{Terminal, Tty, a_set_of_thirty_half_way, cm, deploy, fixed};
use super::*;
use crate::event::{ApplyOutcome, CancelReason, DryRun, ObjectError, Plan, Summary, WaitOutcome};

fn contexts(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

/// The set of the single-cluster tests, every object Current, and its summary.
fn a_set_of_thirty_done() -> Vec<Event> {
    let mut events = a_set_of_thirty_half_way();
    for i in 0..6 {
        events.push(Event::Reconciled { obj: deploy(i), outcome: WaitOutcome::Current });
    }
    events.push(Event::Summary(Summary::from_events(&events)));
    events
}

/// fleet-a done, fleet-b half way (6 Deployments waiting), fleet-c connecting, fleet-d queued.
fn four_clusters() -> FleetState {
    let mut state = FleetState::new(&contexts(&["fleet-a", "fleet-b", "fleet-c", "fleet-d"]));
    for context in ["fleet-a", "fleet-b", "fleet-c"] {
        state.started(context);
    }
    for event in a_set_of_thirty_done() {
        state.update("fleet-a", &event);
    }
    state.finished("fleet-a");
    for event in a_set_of_thirty_half_way() {
        state.update("fleet-b", &event);
    }
    state
}

fn text(lines: &[String]) -> String {
    lines.iter().map(|line| format!("{line}\n")).collect()
}

#[test]
fn at_80_by_20_a_line_per_cluster_then_the_rows_of_the_one_still_waiting() {
    let frame = fleet_frame(&four_clusters(), Size { width: 80, height: 20 }, false, None);
    let expected = "\
CLUSTER  PROGRESS            FAILED  NOW
fleet-a  [##########] 30/30  0       success
fleet-b  [########--] 24/30  0       waiting for 6: Deployment.apps/shop/web-f…
fleet-c  -                   -       connecting and loading
fleet-d  -                   -       queued
[fleet-b] 6 of 30 not finished:
NAMESPACE  RESOURCE                    ACTION   STATUS      MESSAGE
shop       Deployment.apps/web-f…me-0  Created  InProgress  Available: 0/1 (po…
shop       Deployment.apps/web-f…me-1  Created  InProgress  Available: 0/1 (po…
shop       Deployment.apps/web-f…me-2  Created  InProgress  Available: 0/1 (po…
shop       Deployment.apps/web-f…me-3  Created  InProgress  Available: 0/1 (po…
shop       Deployment.apps/web-f…me-4  Created  InProgress  Available: 0/1 (po…
shop       Deployment.apps/web-f…me-5  Created  InProgress  Available: 0/1 (po…
24 ConfigMaps Current
[##################--] 54/60 finished, 1/4 clusters done
";
    assert_eq!(text(&frame), expected);
    assert!(frame.len() < 20);
    assert!(frame.iter().all(|line| line.width() < 80), "{frame:#?}");
}

/// fleet-a failed one apply and ended, fleet-b is half way: the failure takes the rows section.
fn a_failure_and_a_slow_cluster() -> FleetState {
    let mut state = FleetState::new(&contexts(&["fleet-a", "fleet-b"]));
    let objs = vec![cm(0), cm(1), deploy(0)];
    let mut events = vec![Event::Plan(Plan::for_apply(vec![objs], Vec::new(), DryRun::None))];
    for obj in [cm(0), cm(1)] {
        events.push(Event::Apply { obj: obj.clone(), outcome: ApplyOutcome::Created });
        events.push(Event::Reconciled { obj, outcome: WaitOutcome::Current });
    }
    let error = ObjectError::new("admission webhook \"policy.example\" denied the request: no image tag");
    events.push(Event::Apply { obj: deploy(0), outcome: ApplyOutcome::Failed(error) });
    events.push(Event::Summary(Summary::from_events(&events)));
    for context in ["fleet-a", "fleet-b"] {
        state.started(context);
    }
    for event in a_set_of_thirty_half_way() {
        state.update("fleet-b", &event);
    }
    for event in &events {
        state.update("fleet-a", event);
    }
    state.finished("fleet-a");
    state
}

#[test]
fn at_120_by_16_the_cluster_with_a_failure_shows_its_rows_before_a_slower_one() {
    let state = a_failure_and_a_slow_cluster();
    assert_eq!(state.focus().map(|c| c.context.as_str()), Some("fleet-a"));
    let frame = fleet_frame(&state, Size { width: 120, height: 16 }, false, None);
    let expected = "\
CLUSTER  PROGRESS            FAILED  NOW
fleet-a  [##########] 3/3    1       failed
fleet-b  [########--] 24/30  0       waiting for 6: Deployment.apps/shop/web-frontend-with-a-rather-long-name-0: Avail…
[fleet-a] 1 of 3 failed:
NAMESPACE  RESOURCE                                                ACTION        STATUS   MESSAGE
shop       ConfigMap/config-00                                     Created       Current
shop       ConfigMap/config-01                                     Created       Current
shop       Deployment.apps/web-frontend-with-a-rather-long-name-0  Apply failed           admission webhook \"policy.ex…
[################----] 27/33 finished, 1/2 clusters done
";
    assert_eq!(text(&frame), expected);
}

#[test]
fn the_rows_shown_stay_with_one_cluster_until_another_needs_more_attention() {
    let mut state = FleetState::new(&contexts(&["a", "b"]));
    let plan = || Event::Plan(Plan::for_apply(vec![vec![cm(0), cm(1)]], Vec::new(), DryRun::None));
    for context in ["a", "b"] {
        state.started(context);
        state.update(context, &plan());
    }
    assert_eq!(state.focus().unwrap().context, "a", "equals: the first");
    // b falls behind: a finishes one object, yet the rows stay with a (same class, no flip-flop).
    state.update("a", &Event::Apply { obj: cm(0), outcome: ApplyOutcome::Created });
    state.update("a", &Event::Reconciled { obj: cm(0), outcome: WaitOutcome::Current });
    assert_eq!(state.focus().unwrap().context, "a");
    // A failure on b moves them.
    let error = ObjectError::new("forbidden");
    state.update("b", &Event::Apply { obj: cm(1), outcome: ApplyOutcome::Failed(error) });
    assert_eq!(state.focus().unwrap().context, "b");
    // Once a cluster has nothing left to look at, another takes over; none when all are settled.
    let mut state = FleetState::new(&contexts(&["a", "b"]));
    state.started("a");
    state.update("a", &plan());
    assert_eq!(state.focus().unwrap().context, "a");
    for obj in [cm(0), cm(1)] {
        state.update("a", &Event::Apply { obj: obj.clone(), outcome: ApplyOutcome::Unchanged });
        state.update("a", &Event::Reconciled { obj, outcome: WaitOutcome::Current });
    }
    assert!(state.focus().is_none(), "every row settled: nothing to show");
}

#[test]
fn when_the_clusters_do_not_fit_those_to_look_at_stay_and_the_rest_are_counted() {
    let names: Vec<String> = (0..12).map(|i| format!("prod-{i:02}")).collect();
    let mut state = FleetState::new(&names);
    for (i, name) in names.iter().enumerate() {
        state.started(name);
        match i {
            3 => {
                state.stopped(
                    name,
                    "connect failed",
                    "cannot reach the API server https://10.0.0.3:6443\nsecond line",
                );
            }
            7 => a_set_of_thirty_half_way().iter().for_each(|event| {
                state.update(name, event);
            }),
            _ => {
                a_set_of_thirty_done().iter().for_each(|event| {
                    state.update(name, event);
                });
                state.finished(name);
            }
        }
    }
    let frame = fleet_frame(&state, Size { width: 80, height: 12 }, false, None);
    let expected = "\
CLUSTER  PROGRESS            FAILED  NOW
prod-00  [##########] 30/30  0       success
prod-03  -                   -       connect failed: cannot reach the API serv…
prod-07  [########--] 24/30  0       waiting for 6: Deployment.apps/shop/web-f…
… and 9 more clusters (10 done in all)
[prod-07] 6 of 30 not finished:
NAMESPACE  RESOURCE                    ACTION   STATUS      MESSAGE
shop       Deployment.apps/web-f…me-0  Created  InProgress  Available: 0/1 (po…
24 ConfigMaps Current
… and 5 more not finished
[###################-] 324/330 finished, 11/12 clusters done
";
    assert_eq!(text(&frame), expected);
    assert!(frame.len() < 12);
}

/// The final frame on paper (the plain printer): every cluster, the rows not settled of each cluster
/// that has any, then each cluster's totals.
#[test]
fn the_plain_table_is_the_final_frame_then_each_clusters_totals() {
    let names = contexts(&["fleet-a", "fleet-b", "fleet-dead"]);
    let mut printer = FleetTablePrinter::plain(Vec::new(), &names, Some(100));
    let mut interrupted = a_set_of_thirty_half_way();
    interrupted.push(Event::Cancelled(CancelReason::Interrupted));
    for i in 0..6 {
        let reason = crate::event::SkipReason::Cancelled;
        interrupted.push(Event::Reconciled { obj: deploy(i), outcome: WaitOutcome::Skipped(reason) });
    }
    interrupted.push(Event::Summary(Summary::from_events(&interrupted)));
    for (context, events) in [("fleet-a", a_set_of_thirty_done()), ("fleet-b", interrupted)] {
        printer.started(context).unwrap();
        for event in &events {
            printer.print(context, event).unwrap();
        }
        printer.finished(context).unwrap();
    }
    printer.started("fleet-dead").unwrap();
    printer.message(&["kapply apply [fleet-dead]: cannot reach the API server".to_owned()]).unwrap();
    printer.stopped("fleet-dead", "connect failed", "cannot reach the API server").unwrap();
    printer.finished("fleet-dead").unwrap();
    printer.finish().unwrap();
    let out = String::from_utf8(printer.into_inner()).unwrap();
    let expected = "\
kapply apply [fleet-dead]: cannot reach the API server
CLUSTER     PROGRESS            FAILED  NOW
fleet-a     [##########] 30/30  0       success
fleet-b     [##########] 30/30  0       interrupted
fleet-dead  -                   -       connect failed: cannot reach the API server
[fleet-b] 6 of 30 not as wished:
NAMESPACE  RESOURCE                                   ACTION   STATUS      MESSAGE
shop       Deployment.apps/web-frontend…-long-name-0  Created  InProgress  reconcile skipped: the r…
shop       Deployment.apps/web-frontend…-long-name-1  Created  InProgress  reconcile skipped: the r…
shop       Deployment.apps/web-frontend…-long-name-2  Created  InProgress  reconcile skipped: the r…
shop       Deployment.apps/web-frontend…-long-name-3  Created  InProgress  reconcile skipped: the r…
shop       Deployment.apps/web-frontend…-long-name-4  Created  InProgress  reconcile skipped: the r…
shop       Deployment.apps/web-frontend…-long-name-5  Created  InProgress  reconcile skipped: the r…
24 ConfigMaps Current
[####################] 60/60 finished, 3/3 clusters done  interrupted
[fleet-a] 30 resource(s) applied. 6 created, 24 unchanged, 0 configured, 0 failed
[fleet-a] 0 resource(s) pruned, 0 skipped, 0 failed to prune
[fleet-a] 30 resource(s) reconciled, 0 skipped, 0 failed to reconcile, 0 timed out
[fleet-b] 30 resource(s) applied. 6 created, 24 unchanged, 0 configured, 0 failed
[fleet-b] 0 resource(s) pruned, 0 skipped, 0 failed to prune
[fleet-b] 24 resource(s) reconciled, 6 skipped, 0 failed to reconcile, 0 timed out
[fleet-b] interrupted: the requests in flight finished, nothing more was applied or pruned, the inventory was recorded
";
    assert_eq!(out, expected);
}

#[test]
fn live_the_frame_is_redrawn_in_place_and_messages_stay_above_it() {
    // Wide enough for the totals after the table (plain lines, which a terminal would wrap).
    let (width, height) = (120, 20);
    let tty = Tty::default();
    let names = contexts(&["fleet-a", "fleet-b"]);
    let mut printer =
        FleetTablePrinter::live_to(tty.clone(), &names, Box::new(tty.clone()), fixed(width, height));
    printer.started("fleet-a").unwrap();
    printer.started("fleet-b").unwrap();
    let events = a_set_of_thirty_half_way();
    for event in &events {
        printer.print("fleet-a", event).unwrap();
        printer.print("fleet-b", event).unwrap();
    }
    printer.print("fleet-b", &Event::Warning { obj: None, message: "deprecated API".into() }).unwrap();
    printer.message(&["kapply apply [fleet-b]: something to say".to_owned()]).unwrap();
    let term = Terminal::play(&tty.0.lock().unwrap(), width, height);
    let screen = term.screen();
    assert!(screen.len() < height, "{screen:#?}");
    assert!(!term.cursor_visible, "the cursor is hidden while the table is drawn");
    assert!(screen.contains(&"[fleet-b] warning: deprecated API"), "{screen:#?}");
    assert!(screen.contains(&"kapply apply [fleet-b]: something to say"), "{screen:#?}");
    assert!(screen.last().unwrap().starts_with("[####"), "{screen:#?}");
    assert!(screen.iter().filter(|line| line.contains("Deployment.apps/")).count() >= 6, "{screen:#?}");

    printer.notice("kapply: interrupted; finishing the requests in flight").unwrap();
    for context in ["fleet-a", "fleet-b"] {
        printer.print(context, &Event::Cancelled(CancelReason::Interrupted)).unwrap();
        let mut all = events.clone();
        all.push(Event::Cancelled(CancelReason::Interrupted));
        printer.print(context, &Event::Summary(Summary::from_events(&all))).unwrap();
        printer.finished(context).unwrap();
    }
    printer.finish().unwrap();
    let term = Terminal::play(&tty.0.lock().unwrap(), width, height);
    let all = term.all();
    let count = |prefix: &str| all.iter().filter(|line| line.starts_with(prefix)).count();
    assert_eq!(count("CLUSTER "), 1, "one cluster header on the final screen: {all:#?}");
    assert_eq!(count("kapply: interrupted;"), 1, "the notice, once: {all:#?}");
    assert_eq!(count("kapply apply [fleet-b]: something to say"), 1, "{all:#?}");
    assert_eq!(count("[fleet-a] interrupted: "), 1, "each cluster's totals: {all:#?}");
    assert_eq!(count("[fleet-b] interrupted: "), 1, "each cluster's totals: {all:#?}");
    assert!(all.iter().any(|line| line.starts_with('[') && line.ends_with("interrupted")), "{all:#?}");
    assert!(all.iter().all(|line| line.width() < width), "{all:#?}");
    assert!(term.cursor_visible, "the cursor is back");
}
