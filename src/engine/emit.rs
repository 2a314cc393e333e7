//! The engine's side of the event stream: every event goes to the sink and into the summary, so the
//! final [`Event::Summary`] always equals the events before it.

use crate::event::{Event, Summary, SummaryBuilder};

/// Receives the events of a run, in order. The CLI's sink prints them; a library user may collect them.
pub trait EventSink {
    fn event(&mut self, event: &Event);
}

impl<F: FnMut(&Event)> EventSink for F {
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

    /// Emits the [`Event::Summary`] that ends the run and returns it.
    pub(crate) fn finish(self) -> Summary {
        let summary = self.summary.finish();
        self.sink.event(&Event::Summary(summary.clone()));
        summary
    }
}
