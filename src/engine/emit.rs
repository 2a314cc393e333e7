//! The engine's side of the event stream: every event goes to the sink and into the summary, so the
//! final [`Event::Summary`] always equals the events before it.

use crate::event::{CancelReason, Event, Summary, SummaryBuilder};

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

/// Sends events to the sink and counts them.
pub(crate) struct Emitter<'s> {
    sink: &'s mut dyn EventSink,
    summary: SummaryBuilder,
}

impl<'s> Emitter<'s> {
    pub(crate) fn new(sink: &'s mut dyn EventSink) -> Self {
        Emitter { sink, summary: SummaryBuilder::new() }
    }

    pub(crate) fn emit(&mut self, event: Event) {
        self.summary.observe(&event);
        self.sink.event(&event);
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
