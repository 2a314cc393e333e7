//! [`FleetState`]: a fleet's members folded into what its table shows — per cluster its phase and its
//! own [`TableState`], and which cluster needs attention (whose rows the frame shows).

use crate::event::{Event, RunOutcome};
use crate::kstatus::Status;

use super::super::state::{Action, Row, TableState};

/// Where a member of the fleet is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClusterPhase {
    /// Not started yet: waiting for its turn (a canary first, `--cluster-concurrency`).
    Queued,
    /// Started: connecting and loading, no event of its run yet.
    Connecting,
    /// Its run is under way.
    Running,
    /// Its run ended (with its summary, when one came).
    Done,
    /// It stopped without a run to show: `state` says how (`connect failed`, `load failed`,
    /// `run failed`, `not started`), `detail` why (one line).
    Stopped {
        /// How it stopped, a few words.
        state: String,
        /// Why, one line.
        detail: String,
    },
}

/// One member: its context, phase and rows.
#[derive(Debug, Clone)]
pub struct ClusterState {
    /// The member's kubeconfig context.
    pub context: String,
    /// Where it is.
    pub phase: ClusterPhase,
    /// Its run's rows, fed with its events.
    pub table: TableState,
}

impl ClusterState {
    /// Rows that failed: an apply, prune or delete that failed, or an object Failed.
    pub fn failures(&self) -> usize {
        self.table.rows().iter().filter(|row| is_failure(row)).count()
    }

    /// How much it needs attention, and by how much: its attention class (higher first: 3 failures,
    /// 2 a run under way, 1 a run ended with rows not as wished such as timeouts, 0 none), its failed
    /// rows, finished rows and rows. One pass over the rows.
    fn attention(&self) -> Attention {
        let (mut failures, mut unsettled) = (0, false);
        for row in self.table.rows() {
            failures += usize::from(is_failure(row));
            unsettled |= !row.is_settled();
        }
        let class = match (&self.phase, unsettled) {
            (_, false) => 0,
            _ if failures > 0 => 3,
            (ClusterPhase::Running, true) => 2,
            (_, true) => 1,
        };
        Attention { class, failures, finished: self.table.finished(), total: self.table.total() }
    }

    /// The summary's outcome, once the run ended with one.
    pub fn outcome(&self) -> Option<RunOutcome> {
        self.table.summary().map(|summary| summary.outcome())
    }
}

fn is_failure(row: &Row) -> bool {
    matches!(row.action, Action::ApplyFailed | Action::PruneFailed | Action::DeleteFailed)
        || row.status == Some(Status::Failed)
}

/// What [`ClusterState::attention`] measures.
#[derive(Debug, Clone, Copy)]
struct Attention {
    class: u8,
    failures: usize,
    finished: usize,
    total: usize,
}

impl Attention {
    /// Which needs attention more: the higher class, then more failures, then the smaller fraction
    /// finished (the slowest).
    fn cmp(&self, other: &Attention) -> std::cmp::Ordering {
        self.class
            .cmp(&other.class)
            .then(self.failures.cmp(&other.failures))
            .then((other.finished * self.total.max(1)).cmp(&(self.finished * other.total.max(1))))
    }
}

/// The members of a fleet, in the fleet's order, and the cluster whose rows the frame shows.
#[derive(Debug, Clone, Default)]
pub struct FleetState {
    pub(super) clusters: Vec<ClusterState>,
    /// Lines from the program driving the fleet (the interrupt notice), shown inside the frame.
    pub(super) notices: Vec<String>,
    /// The index of the cluster that needs attention, kept from one update to the next while no other
    /// needs it more, so that the rows shown do not flip between two clusters at every event.
    focus: Option<usize>,
}

impl FleetState {
    /// Every context queued, in this order.
    pub fn new(contexts: &[String]) -> Self {
        let clusters = contexts
            .iter()
            .map(|context| ClusterState {
                context: context.clone(),
                phase: ClusterPhase::Queued,
                table: TableState::new(),
            })
            .collect();
        FleetState { clusters, notices: Vec::new(), focus: None }
    }

    /// The members, in the fleet's order.
    pub fn clusters(&self) -> &[ClusterState] {
        &self.clusters
    }

    /// The member whose rows the frame shows: the one with the most failed rows, else the slowest run
    /// under way, else one whose run ended with rows not as wished; None when no cluster has rows to
    /// look at.
    pub fn focus(&self) -> Option<&ClusterState> {
        self.focus.map(|index| &self.clusters[index])
    }

    /// `context` started (connecting, loading).
    pub fn started(&mut self, context: &str) -> bool {
        self.set_phase(context, ClusterPhase::Connecting)
    }

    /// One event of `context`'s run; true when something the frame shows changed.
    pub fn update(&mut self, context: &str, event: &Event) -> bool {
        let Some(index) = self.index(context) else { return false };
        let cluster = &mut self.clusters[index];
        let mut changed = cluster.table.update(event);
        if cluster.phase == ClusterPhase::Connecting {
            cluster.phase = ClusterPhase::Running;
            changed = true;
        }
        self.refocus();
        changed
    }

    /// `context` stopped without a run to show (it could not connect or load, its run failed as a
    /// whole, it never started): `state` says how, `detail` why.
    pub fn stopped(&mut self, context: &str, state: &str, detail: &str) -> bool {
        let phase = ClusterPhase::Stopped { state: state.to_owned(), detail: one_line(detail) };
        self.set_phase(context, phase)
    }

    /// `context` is done; a member already stopped stays as it is.
    pub fn finished(&mut self, context: &str) -> bool {
        match self.index(context) {
            Some(index) if !matches!(self.clusters[index].phase, ClusterPhase::Stopped { .. }) => {
                self.clusters[index].phase = ClusterPhase::Done;
                self.refocus();
                true
            }
            _ => false,
        }
    }

    /// Adds a line from the program driving the fleet, e.g. that it was interrupted.
    pub fn notice(&mut self, line: impl Into<String>) {
        self.notices.push(line.into());
    }

    fn set_phase(&mut self, context: &str, phase: ClusterPhase) -> bool {
        let Some(index) = self.index(context) else { return false };
        self.clusters[index].phase = phase;
        self.refocus();
        true
    }

    fn index(&self, context: &str) -> Option<usize> {
        self.clusters.iter().position(|cluster| cluster.context == context)
    }

    /// The focus moves only to a cluster of a higher attention class, or when the focused one no
    /// longer needs attention; within a class: most failures, else the slowest, else the first.
    fn refocus(&mut self) {
        let measured: Vec<Attention> = self.clusters.iter().map(ClusterState::attention).collect();
        // `max_by` keeps the last of equals: walking backwards, that is the first in the fleet's order.
        let best = (0..measured.len())
            .rev()
            .filter(|&index| measured[index].class > 0)
            .max_by(|&a, &b| measured[a].cmp(&measured[b]));
        let keep = self.focus.filter(|&current| {
            let class = measured[current].class;
            class > 0 && best.is_none_or(|best| measured[best].class <= class)
        });
        self.focus = keep.or(best);
    }
}

fn one_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_owned()
}
