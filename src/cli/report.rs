//! Where a subcommand's errors go: always stderr, and with `-o json` also one `error` line on stdout,
//! so that a program reading the JSON stream learns why it is empty (docs/json-output.md).

use std::io;

use kapply::printers::{JsonPrinter, Printer, PrinterOptions};

/// The errors of one subcommand run.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    /// The subcommand, to prefix stderr lines: `apply`, `preview`, …
    pub command: &'static str,
    /// Also write each error as a JSON `error` line on stdout.
    pub json: bool,
}

impl Report {
    pub fn new(command: &'static str, json: bool) -> Self {
        Report { command, json }
    }

    /// `kapply <command>: <message>` on stderr, and the JSON line when asked.
    pub fn error(&self, message: &str) {
        eprintln!("kapply {}: {message}", self.command);
        self.json_line(message);
    }

    /// Only the JSON line: for errors whose stderr text the caller writes itself.
    pub fn json_line(&self, message: &str) {
        if self.json {
            // A closed stdout cannot be reported anywhere better than stderr, which already has it.
            let _ = JsonPrinter::new(io::stdout(), &PrinterOptions::default()).error(message);
        }
    }
}
