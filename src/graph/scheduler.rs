//! [`Scheduler`]: the runnable form of a [`Graph`](super::Graph), handing out objects as soon as what they
//! wait for is done.
//!
//! One type serves both directions. For apply ([`Graph::scheduler`](super::Graph::scheduler)) an object
//! waits for its dependencies; for deletion ([`Graph::delete_scheduler`](super::Graph::delete_scheduler))
//! it waits for its dependents. Below, "blockers" are what an object waits for, and "waiters" are the
//! objects waiting for it.
//!
//! The scheduler does no I/O and keeps no clock: the engine drives it in one loop —
//! `ready()` → `start()` each → run them → `complete()` or `fail()` each → repeat until `is_finished()`.

use std::collections::{BTreeSet, HashMap};

use crate::object::ObjRef;

/// Where one object stands in a [`Scheduler`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskState {
    /// Waiting for at least one blocker to complete.
    Blocked,
    /// Every blocker is complete; not started yet.
    Ready,
    /// Started, not yet complete or failed.
    Running,
    /// Completed: its waiters may proceed.
    Done,
    /// Failed; its waiters were skipped.
    Failed,
    /// Never run because a blocker (directly or transitively) failed.
    Skipped,
}

impl TaskState {
    /// True for the terminal states `Done`, `Failed` and `Skipped`.
    pub fn is_finished(self) -> bool {
        matches!(self, TaskState::Done | TaskState::Failed | TaskState::Skipped)
    }
}

/// Internal state; `Blocked` vs `Ready` is derived from the count of incomplete blockers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Running,
    Done,
    Failed,
    Skipped,
}

/// Hands out objects whose blockers are all complete, and propagates failures to everything that
/// (transitively) waits on a failed object, so that independent branches carry on.
///
/// # Ordering contract
/// - [`ready`](Self::ready) lists objects in kind order for apply, reversed kind order for deletion.
/// - An object is never ready before every blocker is [`complete`](Self::complete)d.
/// - [`fail`](Self::fail) skips exactly the transitive waiters of the failed object, nothing else.
///
/// # Panics
/// The methods taking a reference panic when it is not one of the graph's objects, or when the
/// transition makes no sense (starting an object that is not ready, completing one that is blocked or
/// finished, failing one that is done): those are engine bugs, and continuing would break the ordering
/// guarantee.
#[derive(Debug, Clone)]
pub struct Scheduler {
    /// Objects by id; ids ascend in kind order.
    objects: Vec<ObjRef>,
    index: HashMap<ObjRef, usize>,
    /// Per id: the ids waiting for it.
    waiters: Vec<Vec<usize>>,
    /// Per id: how many of its blockers are not complete yet.
    open_blockers: Vec<usize>,
    state: Vec<State>,
    /// Ids that are waiting with no open blocker, kept up to date so that `ready` costs only its
    /// output, even for tens of thousands of objects.
    ready: BTreeSet<usize>,
    /// Deletion scheduler: hand ready objects out in reversed kind order.
    reverse: bool,
}

impl Scheduler {
    pub(crate) fn new(
        objects: Vec<ObjRef>,
        blockers: Vec<Vec<usize>>,
        waiters: Vec<Vec<usize>>,
        reverse: bool,
    ) -> Self {
        let index = objects.iter().enumerate().map(|(i, r)| (r.clone(), i)).collect();
        let open_blockers: Vec<usize> = blockers.iter().map(Vec::len).collect();
        let state = vec![State::Waiting; objects.len()];
        let ready = (0..objects.len()).filter(|&i| open_blockers[i] == 0).collect();
        Self { objects, index, waiters, open_blockers, state, ready, reverse }
    }

    /// Objects that may start now: every blocker complete, not started yet. Calling it again without
    /// `start` returns the same objects.
    pub fn ready(&self) -> Vec<ObjRef> {
        let ids: Box<dyn Iterator<Item = &usize>> =
            if self.reverse { Box::new(self.ready.iter().rev()) } else { Box::new(self.ready.iter()) };
        ids.map(|&i| self.objects[i].clone()).collect()
    }

    /// Marks a ready object as running.
    ///
    /// # Panics
    /// If `obj` is unknown or not [`TaskState::Ready`].
    pub fn start(&mut self, obj: &ObjRef) {
        let i = self.id(obj);
        assert!(self.is_ready(i), "scheduler: cannot start {obj}: it is {:?}", self.state_of(i));
        self.state[i] = State::Running;
        self.ready.remove(&i);
    }

    /// Marks an object done, which may make its waiters ready. A ready object may be completed without
    /// being started (an object the engine found nothing to do for).
    ///
    /// # Panics
    /// If `obj` is unknown, blocked or already finished.
    pub fn complete(&mut self, obj: &ObjRef) {
        let i = self.id(obj);
        assert!(
            self.state[i] == State::Running || self.is_ready(i),
            "scheduler: cannot complete {obj}: it is {:?}",
            self.state_of(i)
        );
        self.state[i] = State::Done;
        self.ready.remove(&i);
        for &w in &self.waiters[i] {
            self.open_blockers[w] -= 1;
            if self.open_blockers[w] == 0 && self.state[w] == State::Waiting {
                self.ready.insert(w);
            }
        }
    }

    /// Marks an object failed and skips every object that transitively waits for it. Returns the
    /// objects skipped by this call, in the order [`ready`](Self::ready) uses; everything else carries
    /// on.
    ///
    /// An object may fail before it is ready (say, because the engine found an external dependency
    /// missing from the cluster). Failing an object that already failed or was skipped does nothing and
    /// returns nothing.
    ///
    /// # Panics
    /// If `obj` is unknown or already done.
    pub fn fail(&mut self, obj: &ObjRef) -> Vec<ObjRef> {
        let i = self.id(obj);
        match self.state[i] {
            State::Failed | State::Skipped => return Vec::new(),
            State::Done => panic!("scheduler: cannot fail {obj}: it is already done"),
            State::Waiting | State::Running => {}
        }
        self.state[i] = State::Failed;
        self.ready.remove(&i);
        let mut skipped = Vec::new();
        let mut stack = self.waiters[i].clone();
        while let Some(w) = stack.pop() {
            // A waiter cannot be running or done while one of its blockers has not completed, so every
            // waiter reached here is waiting or already skipped by an earlier failure.
            if self.state[w] == State::Waiting {
                self.state[w] = State::Skipped;
                self.ready.remove(&w);
                skipped.push(w);
                stack.extend_from_slice(&self.waiters[w]);
            }
        }
        skipped.sort_unstable();
        if self.reverse {
            skipped.reverse();
        }
        skipped.into_iter().map(|w| self.objects[w].clone()).collect()
    }

    /// `obj`'s place in the order [`ready`](Self::ready) lists objects (kind order; for deletion,
    /// reversed): lower goes first.
    ///
    /// # Panics
    /// If `obj` is unknown.
    pub fn place(&self, obj: &ObjRef) -> usize {
        let i = self.id(obj);
        if self.reverse { self.objects.len() - 1 - i } else { i }
    }

    /// True when every object is done, failed or skipped.
    pub fn is_finished(&self) -> bool {
        self.state.iter().all(|s| matches!(s, State::Done | State::Failed | State::Skipped))
    }

    /// The state of `obj`, or None when it is not one of the graph's objects.
    pub fn state(&self, obj: &ObjRef) -> Option<TaskState> {
        self.index.get(obj).map(|&i| self.state_of(i))
    }

    fn id(&self, obj: &ObjRef) -> usize {
        match self.index.get(obj) {
            Some(&i) => i,
            None => panic!("scheduler: {obj} is not in the graph"),
        }
    }

    fn is_ready(&self, i: usize) -> bool {
        self.ready.contains(&i)
    }

    fn state_of(&self, i: usize) -> TaskState {
        match self.state[i] {
            State::Waiting if self.open_blockers[i] == 0 => TaskState::Ready,
            State::Waiting => TaskState::Blocked,
            State::Running => TaskState::Running,
            State::Done => TaskState::Done,
            State::Failed => TaskState::Failed,
            State::Skipped => TaskState::Skipped,
        }
    }
}
