//! [`Fleet`]: one set, many clusters — one run per kubeconfig context, concurrently, merged into one
//! stream of [`FleetEvent`]s, each naming its context.
//!
//! A fleet does not connect or load by itself: the caller gives it, for each context, how to start that
//! member's run (connect, load the set through that cluster's own [`crate::Loader`], build a runner),
//! so each member has its own connection, discovery, inventory and event stream, and a kind one
//! cluster does not serve is that cluster's error, found before anything is written there. The fleet
//! decides only *when* members start and whether they start at all:
//!
//! - at most [`Fleet::concurrency`] members run at once (default: all);
//! - a [`Fleet::canary`] runs alone first; the others start only if it ends in
//!   [`RunOutcome::Success`];
//! - after [`Fleet::max_failures`] members have failed, no new member starts;
//! - cancelling the fleet's token cancels every member's (a child token each): runs in flight stop
//!   cleanly and write their inventory, members not started yet do not start.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use futures::StreamExt;
//! use kapply::fleet::{Fleet, FleetEvent};
//! use kapply::{Applier, Cluster, ConnectOptions, Input, Loader};
//! use tokio_util::sync::CancellationToken;
//!
//! let contexts = kapply::fleet::kubeconfig_contexts(None)?;
//! let mut events = Fleet::new().run(contexts, |context, cancel| async move {
//!     let cluster = Cluster::connect(&ConnectOptions::default().context(&context)).await?;
//!     let set = Loader::new(&cluster).inventory_id("shop").load(&[Input::path("deploy/")]).await?;
//!     Ok::<_, Box<dyn std::error::Error + Send + Sync>>(Applier::new(&cluster).run(set, cancel))
//! }, CancellationToken::new());
//! while let Some(event) = events.next().await {
//!     if let FleetEvent::Finished { context, success } = event {
//!         println!("{context}: {}", if success { "ok" } else { "failed" });
//!     }
//! }
//! # Ok(())
//! # }
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::FuturesUnordered;
use futures::{Stream, StreamExt};
use kube::config::Kubeconfig;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::applier::EventStream;
use crate::engine::EngineError;
use crate::event::{Event, RunOutcome};

/// The context names of a kubeconfig, in file order: of `path`, or else of `$KUBECONFIG` (every file
/// of the list, merged by kubectl's rules) or `~/.kube/config`.
///
/// # Errors
/// The kubeconfig cannot be read.
pub fn kubeconfig_contexts(path: Option<&Path>) -> Result<Vec<String>, KubeconfigError> {
    let config = match path {
        Some(path) => {
            Kubeconfig::read_from(path).map_err(|e| KubeconfigError(format!("{}: {e}", path.display())))?
        }
        None => Kubeconfig::read().map_err(|e| KubeconfigError(e.to_string()))?,
    };
    let mut names: Vec<String> = Vec::new();
    for context in config.contexts {
        if !names.contains(&context.name) {
            names.push(context.name);
        }
    }
    Ok(names)
}

/// The kubeconfig could not be read (missing, unreadable, not a kubeconfig); says which and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read the kubeconfig: {0}")]
pub struct KubeconfigError(pub String);

/// True when `name` matches the shell-style `pattern` (what `--contexts 'prod-*'` means): `*` any run
/// of characters, `?` any one, `[...]` one of the characters listed (`[abc]`, ranges `[a-z0-9]`),
/// `[!...]` (or `[^...]`) one character not listed; every other character matches itself. In a class,
/// a `]` right after the `[` (or the `!`) and a `-` first or last stand for themselves; a `[` without
/// its closing `]` is a plain `[`, as in the shell.
pub fn glob_matches(pattern: &str, name: &str) -> bool {
    fn matches(pattern: &[char], name: &[char]) -> bool {
        match pattern.split_first() {
            None => name.is_empty(),
            Some(('*', rest)) => (0..=name.len()).any(|skip| matches(rest, &name[skip..])),
            Some(('?', rest)) => !name.is_empty() && matches(rest, &name[1..]),
            Some(('[', rest)) => match class_end(rest) {
                Some(end) => name.split_first().is_some_and(|(&c, name_rest)| {
                    in_class(&rest[..end], c) && matches(&rest[end + 1..], name_rest)
                }),
                None => name.first() == Some(&'[') && matches(rest, &name[1..]),
            },
            Some((c, rest)) => name.first() == Some(c) && matches(rest, &name[1..]),
        }
    }
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    matches(&pattern, &name)
}

/// Where the class that follows a `[` ends: the index in `after` of its closing `]`, None when it has
/// none. A `]` first (after an optional `!` or `^`) is a member, not the end.
fn class_end(after: &[char]) -> Option<usize> {
    let start = usize::from(matches!(after.first(), Some('!' | '^')));
    let first = start + usize::from(after.get(start) == Some(&']'));
    after[first..].iter().position(|&c| c == ']').map(|at| first + at)
}

/// Whether `c` matches the class `body` (what stands between `[` and `]`).
fn in_class(body: &[char], c: char) -> bool {
    let (negated, members) = match body.split_first() {
        Some(('!' | '^', members)) => (true, members),
        _ => (false, body),
    };
    let mut found = false;
    let mut at = 0;
    while at < members.len() {
        if at + 2 < members.len() && members[at + 1] == '-' {
            found |= (members[at]..=members[at + 2]).contains(&c);
            at += 3;
        } else {
            found |= members[at] == c;
            at += 1;
        }
    }
    found != negated
}

/// Why a member of the fleet never started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotStarted {
    /// The canary did not end in success.
    CanaryFailed,
    /// [`Fleet::max_failures`] members had failed already.
    TooManyFailures,
    /// The fleet was cancelled first.
    Cancelled,
}

impl NotStarted {
    /// A short explanation, for people: `the canary did not succeed`, …
    pub fn as_str(self) -> &'static str {
        match self {
            NotStarted::CanaryFailed => "the canary did not succeed",
            NotStarted::TooManyFailures => "too many clusters failed",
            NotStarted::Cancelled => "interrupted",
        }
    }
}

/// One item of a fleet's stream: something that happened to one member, named by its context.
///
/// Per member, the items come in this order: `Started`, then either `StartFailed`, or its run's
/// `Event`s (in the order of the [ordering contract](crate::event)) possibly ended by `RunFailed`; then
/// `Finished`. A member that never starts has one `NotStarted` item only. Items of different members
/// interleave.
#[derive(Debug)]
#[non_exhaustive]
pub enum FleetEvent<E> {
    /// The member is starting (connecting, loading).
    Started {
        /// The member's kubeconfig context.
        context: String,
    },
    /// The member could not start: nothing was written on that cluster.
    StartFailed {
        /// The member's kubeconfig context.
        context: String,
        /// What the start function returned.
        error: E,
    },
    /// An event of the member's run.
    Event {
        /// The member's kubeconfig context.
        context: String,
        /// The event (boxed: an `Event` is ten times the size of the other items).
        event: Box<Event>,
    },
    /// The member's run failed as a whole (its stream's `Err` item, in place of its summary).
    RunFailed {
        /// The member's kubeconfig context.
        context: String,
        /// The run's error.
        error: EngineError,
    },
    /// The member is done; `success` when its run's summary says [`RunOutcome::Success`].
    Finished {
        /// The member's kubeconfig context.
        context: String,
        /// Whether it counts as a success for [`Fleet::canary`] and [`Fleet::max_failures`].
        success: bool,
    },
    /// The member never started.
    NotStarted {
        /// The member's kubeconfig context.
        context: String,
        /// Why.
        reason: NotStarted,
    },
}

impl<E> FleetEvent<E> {
    /// The context the item is about.
    pub fn context(&self) -> &str {
        match self {
            FleetEvent::Started { context }
            | FleetEvent::StartFailed { context, .. }
            | FleetEvent::Event { context, .. }
            | FleetEvent::RunFailed { context, .. }
            | FleetEvent::Finished { context, .. }
            | FleetEvent::NotStarted { context, .. } => context,
        }
    }
}

/// Runs one set on many clusters: a rollout policy over members the caller starts.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Fleet {
    concurrency: Option<usize>,
    canary: Option<String>,
    max_failures: Option<usize>,
}

impl Fleet {
    /// Every member at once, no canary, no failure limit.
    pub fn new() -> Self {
        Fleet::default()
    }

    /// At most `concurrency` members running at once (at least 1).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = Some(concurrency.max(1));
        self
    }

    /// Run this context first, alone; start the others only if it succeeds. It must be one of the
    /// members given to [`Fleet::run`]; otherwise it is ignored.
    pub fn canary(mut self, context: impl Into<String>) -> Self {
        self.canary = Some(context.into());
        self
    }

    /// Stop starting members once `failures` of them have failed (at least 1).
    pub fn max_failures(mut self, failures: usize) -> Self {
        self.max_failures = Some(failures.max(1));
        self
    }

    /// Starts the fleet when the stream is first polled: `start(context, cancel)` starts one member
    /// (connect, load, build a runner) and returns its run, which must use `cancel` (a child of the
    /// fleet's token). A start still connecting or loading when the fleet is cancelled is dropped
    /// (it wrote nothing) and its member reported [`NotStarted::Cancelled`].
    ///
    /// The stream borrows what `start` borrows: with a `'static` start it is `Send + 'static` and
    /// can be spawned, as an [`EventStream`] can.
    pub fn run<'a, E, F, Fut>(
        self,
        contexts: Vec<String>,
        start: F,
        cancel: CancellationToken,
    ) -> FleetStream<'a, E>
    where
        E: Send + 'a,
        F: Fn(String, CancellationToken) -> Fut + Send + Sync + 'a,
        Fut: Future<Output = Result<EventStream, E>> + Send + 'a,
    {
        let (sender, receiver) = mpsc::unbounded_channel();
        let driver = drive(self, contexts, start, cancel, sender);
        FleetStream { driver: Some(Box::pin(driver)), receiver }
    }
}

/// The merged items of every member of a fleet: what [`Fleet::run`] returns.
#[must_use = "a fleet does nothing until its stream is polled"]
pub struct FleetStream<'a, E> {
    driver: Option<Pin<Box<dyn Future<Output = ()> + Send + 'a>>>,
    receiver: mpsc::UnboundedReceiver<FleetEvent<E>>,
}

impl<E> fmt::Debug for FleetStream<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FleetStream").field("running", &self.driver.is_some()).finish_non_exhaustive()
    }
}

impl<E> Stream for FleetStream<'_, E> {
    type Item = FleetEvent<E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(driver) = this.driver.as_mut()
            && driver.as_mut().poll(cx).is_ready()
        {
            this.driver = None;
        }
        match this.receiver.poll_recv(cx) {
            Poll::Ready(Some(item)) => Poll::Ready(Some(item)),
            // Every sender is gone with the driver: the stream is over.
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

type Sender<E> = mpsc::UnboundedSender<FleetEvent<E>>;

/// The rollout: the canary alone, then the others as slots free up, until every member is finished
/// or will not start.
async fn drive<E, F, Fut>(
    fleet: Fleet,
    contexts: Vec<String>,
    start: F,
    cancel: CancellationToken,
    sender: Sender<E>,
) where
    F: Fn(String, CancellationToken) -> Fut,
    Fut: Future<Output = Result<EventStream, E>>,
{
    let mut pending: VecDeque<String> = contexts.into_iter().collect();
    let canary = fleet.canary.as_ref().and_then(|name| {
        let at = pending.iter().position(|context| context == name)?;
        pending.remove(at)
    });
    let not_started = |pending: &mut VecDeque<String>, reason| {
        for context in pending.drain(..) {
            let _ = sender.send(FleetEvent::NotStarted { context, reason });
        }
    };
    if let Some(canary) = canary
        && !member(&start, canary, &cancel, &sender).await
    {
        let reason = if cancel.is_cancelled() { NotStarted::Cancelled } else { NotStarted::CanaryFailed };
        not_started(&mut pending, reason);
        return;
    }
    let slots = fleet.concurrency.unwrap_or(usize::MAX);
    let mut failures = 0;
    let mut running = FuturesUnordered::new();
    loop {
        if cancel.is_cancelled() {
            not_started(&mut pending, NotStarted::Cancelled);
        } else if fleet.max_failures.is_some_and(|max| failures >= max) {
            not_started(&mut pending, NotStarted::TooManyFailures);
        }
        while running.len() < slots
            && let Some(context) = pending.pop_front()
        {
            running.push(member(&start, context, &cancel, &sender));
        }
        match running.next().await {
            Some(true) => {}
            Some(false) => failures += 1,
            None => break,
        }
    }
}

/// Runs one member to its end, forwarding its items; true when its run ended in success.
async fn member<E, F, Fut>(start: &F, context: String, cancel: &CancellationToken, sender: &Sender<E>) -> bool
where
    F: Fn(String, CancellationToken) -> Fut,
    Fut: Future<Output = Result<EventStream, E>>,
{
    let _ = sender.send(FleetEvent::Started { context: context.clone() });
    let child = cancel.child_token();
    let started = tokio::select! {
        started = start(context.clone(), child) => started,
        () = cancel.cancelled() => {
            let _ = sender.send(FleetEvent::NotStarted { context, reason: NotStarted::Cancelled });
            return false;
        }
    };
    let mut events = match started {
        Ok(events) => events,
        Err(error) => {
            let _ = sender.send(FleetEvent::StartFailed { context: context.clone(), error });
            let _ = sender.send(FleetEvent::Finished { context, success: false });
            return false;
        }
    };
    let mut success = false;
    while let Some(item) = events.next().await {
        match item {
            Ok(event) => {
                if let Event::Summary(summary) = &event {
                    success = summary.outcome() == RunOutcome::Success;
                }
                let _ = sender.send(FleetEvent::Event { context: context.clone(), event: Box::new(event) });
            }
            Err(error) => {
                let _ = sender.send(FleetEvent::RunFailed { context: context.clone(), error });
            }
        }
    }
    let _ = sender.send(FleetEvent::Finished { context, success });
    success
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::event::Summary;

    #[test]
    fn globs_match_as_the_shell_does() {
        assert!(glob_matches("prod-*", "prod-eu"));
        assert!(glob_matches("prod-*", "prod-"));
        assert!(!glob_matches("prod-*", "staging-eu"));
        assert!(glob_matches("*-eu", "prod-eu"));
        assert!(glob_matches("p?od", "prod"));
        assert!(!glob_matches("p?od", "pod"));
        assert!(glob_matches("*", ""));
        assert!(glob_matches("kind-a", "kind-a"));
        assert!(!glob_matches("kind-a", "kind-ab"));
    }

    #[test]
    fn character_classes_match_one_listed_character_or_one_not_listed() {
        assert!(glob_matches("prod-[ae]u", "prod-eu"));
        assert!(glob_matches("prod-[ae]u", "prod-au"));
        assert!(!glob_matches("prod-[ae]u", "prod-uu"));
        assert!(!glob_matches("prod-[ae]u", "prod-u"), "a class matches exactly one character");
        assert!(glob_matches("prod-[0-9]", "prod-7"));
        assert!(!glob_matches("prod-[0-9]", "prod-x"));
        assert!(glob_matches("[a-cx-z]*", "x-cluster"));
        assert!(!glob_matches("[a-cx-z]*", "m-cluster"));
        assert!(glob_matches("prod-[!u]*", "prod-eu"));
        assert!(!glob_matches("prod-[!u]*", "prod-us"));
        assert!(glob_matches("prod-[^u]*", "prod-eu"));
        assert!(!glob_matches("[!a]", ""), "a negated class still needs a character");
        // `]` first and `-` first or last are members; an unclosed `[` is itself.
        assert!(glob_matches("[]x]", "]"));
        assert!(glob_matches("[!]]", "a"));
        assert!(!glob_matches("[!]]", "]"));
        assert!(glob_matches("[-a]", "-"));
        assert!(glob_matches("[a-]", "-"));
        assert!(glob_matches("kind-[a", "kind-[a"));
        assert!(!glob_matches("kind-[a", "kind-a"));
        assert!(glob_matches("*[ab]", "kind-b"));
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn failed_summary() -> Summary {
        let mut summary = Summary::default();
        summary.apply.failed = 1;
        summary
    }

    /// Runs a fleet whose members `failing` fail to start and whose others succeed after a second
    /// (paused time); the items, each as `"<context> <what>"`.
    async fn rollout(
        fleet: Fleet,
        contexts: &[&str],
        failing: &[&str],
        running: Arc<AtomicUsize>,
    ) -> Vec<String> {
        let failing = names(failing);
        let start = move |context: String, _cancel: CancellationToken| {
            let (failing, running) = (failing.clone(), running.clone());
            async move {
                if failing.contains(&context) {
                    return Err(format!("{context} refused"));
                }
                running.fetch_add(1, Ordering::SeqCst);
                let gate = async move {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                };
                Ok(EventStream::scripted(vec![Event::Summary(Summary::default())], gate))
            }
        };
        let stream = fleet.run(names(contexts), start, CancellationToken::new());
        stream.map(|item| describe(&item)).collect().await
    }

    fn describe(item: &FleetEvent<String>) -> String {
        let what = match item {
            FleetEvent::Started { .. } => "started".to_owned(),
            FleetEvent::StartFailed { error, .. } => format!("start failed: {error}"),
            FleetEvent::Event { event, .. } if matches!(**event, Event::Summary(_)) => {
                "event summary".to_owned()
            }
            FleetEvent::Event { .. } => "event".to_owned(),
            FleetEvent::RunFailed { .. } => "run failed".to_owned(),
            FleetEvent::Finished { success, .. } => format!("finished {success}"),
            FleetEvent::NotStarted { reason, .. } => format!("not started: {}", reason.as_str()),
        };
        format!("{} {what}", item.context())
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_canary_starts_nobody_else() {
        let items = rollout(Fleet::new().canary("b"), &["a", "b", "c"], &["b"], Default::default()).await;
        assert_eq!(
            items,
            [
                "b started",
                "b start failed: b refused",
                "b finished false",
                "a not started: the canary did not succeed",
                "c not started: the canary did not succeed",
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_succeeding_canary_finishes_before_the_others_start() {
        let items = rollout(Fleet::new().canary("b"), &["a", "b", "c"], &[], Default::default()).await;
        let at =
            |item: &str| items.iter().position(|i| i == item).unwrap_or_else(|| panic!("{item}: {items:?}"));
        assert!(
            at("b finished true") < at("a started") && at("b finished true") < at("c started"),
            "{items:?}"
        );
        assert_eq!(items.iter().filter(|i| i.ends_with("finished true")).count(), 3, "{items:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn after_max_failures_no_member_starts() {
        let fleet = Fleet::new().concurrency(1).max_failures(1);
        let items = rollout(fleet, &["a", "b", "c"], &["a"], Default::default()).await;
        assert_eq!(
            &items[3..],
            ["b not started: too many clusters failed", "c not started: too many clusters failed"],
            "{items:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn at_most_concurrency_members_run_at_once_and_all_finish() {
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let watcher = {
            let (running, peak) = (running.clone(), peak.clone());
            tokio::spawn(async move {
                loop {
                    peak.fetch_max(running.load(Ordering::SeqCst), Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        };
        let items = rollout(Fleet::new().concurrency(2), &["a", "b", "c", "d", "e"], &[], running).await;
        watcher.abort();
        assert_eq!(items.iter().filter(|i| i.ends_with("finished true")).count(), 5, "{items:?}");
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn cancelling_the_fleet_cancels_the_runs_and_starts_nobody_new() {
        let cancel = CancellationToken::new();
        let start = |_context: String, member: CancellationToken| async move {
            // The run ends when its own token, a child of the fleet's, is cancelled.
            let gate = async move { member.cancelled().await };
            Ok::<_, String>(EventStream::scripted(vec![Event::Summary(failed_summary())], gate))
        };
        let mut stream = Fleet::new().concurrency(1).run(names(&["a", "b"]), start, cancel.clone());
        let first = stream.next().await.map(|item| describe(&item));
        assert_eq!(first.as_deref(), Some("a started"));
        cancel.cancel();
        let rest: Vec<String> = stream.map(|item| describe(&item)).collect().await;
        assert_eq!(rest, ["a event summary", "a finished false", "b not started: interrupted"]);
    }
}
