//! The engine's side of the event stream: every event goes to the sink, into the summary and into the
//! run's [`inventory::Outcome`], so the final [`Event::Summary`] always equals the events before it, and
//! the inventory the run writes is what its events say.

use crate::event::{CancelReason, Event, Summary, SummaryBuilder};
use crate::inventory;

/// Receives the events of a run, in order. The CLI's sink prints them; a library user may collect them.
pub trait EventSink: Send {
    /// Receives the next event of the run.
    fn event(&mut self, event: &Event);
}

impl<F: FnMut(&Event) + Send> EventSink for F {
    fn event(&mut self, event: &Event) {
        self(event)
    }
}

/// Sends events to the sink, counts them, and folds them into the run's outcome.
pub(crate) struct Emitter<'s> {
    sink: &'s mut dyn EventSink,
    summary: SummaryBuilder,
    outcome: inventory::Outcome,
}

impl<'s> Emitter<'s> {
    pub(crate) fn new(sink: &'s mut dyn EventSink) -> Self {
        Emitter { sink, summary: SummaryBuilder::new(), outcome: inventory::Outcome::default() }
    }

    pub(crate) fn emit(&mut self, event: Event) {
        self.summary.observe(&event);
        self.outcome.observe(&event);
        self.sink.event(&event);
    }

    /// What the events emitted so far did to each object, as the inventory sees it: what the
    /// inventory writes (and destroy's decision to delete the inventory's own Namespace) go by.
    pub(crate) fn outcome(&self) -> &inventory::Outcome {
        &self.outcome
    }

    /// Emits [`Event::Cancelled`] when the run was stopped early, then the [`Event::Summary`] that
    /// ends the run, and returns it.
    pub(crate) fn finish(mut self, cancelled: Option<CancelReason>) -> Summary {
        if let Some(reason) = cancelled {
            self.emit(Event::Cancelled(reason));
        }
        let summary = self.summary.finish();
        self.sink.event(&Event::Summary(summary.clone()));
        summary
    }
}
