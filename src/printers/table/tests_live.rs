//! The live table on a terminal of a fixed size, read back through a small terminal emulator: what a
//! person would see, frame after frame.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use unicode_width::UnicodeWidthStr;

use super::*;
use crate::event::{ApplyOutcome, CancelReason, DryRun, Plan, Summary, WaitOutcome};
use crate::kstatus::StatusResult;
use crate::object::ObjRef;

/// A byte sink shared by the table (the screen) and the printer's writer, as stdout is.
#[derive(Clone, Default)]
pub(super) struct Tty(pub(super) Arc<Mutex<Vec<u8>>>);

impl Write for Tty {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The emulated terminal: the visible lines, the lines scrolled off above, the cursor.
pub(super) struct Terminal {
    width: usize,
    height: usize,
    lines: Vec<String>,
    pub(super) scrolled: Vec<String>,
    row: usize,
    pub(super) cursor_visible: bool,
}

impl Terminal {
    /// `bytes` played on an empty terminal. Knows what the live table writes: text, `\r`, `\n` (as a
    /// tty with onlcr: a new line), cursor up, clear to end of line, clear below, cursor show/hide.
    pub(super) fn play(bytes: &[u8], width: usize, height: usize) -> Terminal {
        let mut term = Terminal {
            width,
            height,
            lines: vec![String::new(); height],
            scrolled: Vec::new(),
            row: 0,
            cursor_visible: true,
        };
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        let mut chars = text.chars().peekable();
        let mut col = 0;
        while let Some(c) = chars.next() {
            match c {
                '\r' => col = 0,
                '\n' => {
                    col = 0;
                    if term.row + 1 == term.height {
                        term.scrolled.push(term.lines.remove(0));
                        term.lines.push(String::new());
                    } else {
                        term.row += 1;
                    }
                }
                '\x1b' => {
                    assert_eq!(chars.next(), Some('['));
                    let mut params = String::new();
                    let command = loop {
                        let c = chars.next().unwrap();
                        if c.is_ascii_digit() || c == '?' {
                            params.push(c);
                        } else {
                            break c;
                        }
                    };
                    match (command, params.as_str()) {
                        ('A', n) => term.row = term.row.saturating_sub(n.parse().unwrap_or(1)),
                        ('K', "") => term.cut(col),
                        ('J', "") => {
                            term.cut(col);
                            for line in &mut term.lines[term.row + 1..] {
                                line.clear();
                            }
                        }
                        ('l', "?25") => term.cursor_visible = false,
                        ('h', "?25") => term.cursor_visible = true,
                        other => panic!("unexpected sequence {other:?}"),
                    }
                }
                c => {
                    assert!(
                        col < term.width,
                        "a line wider than the terminal wraps: {:?}",
                        term.lines[term.row]
                    );
                    let line = &mut term.lines[term.row];
                    let mut kept: String = line.chars().take(col).collect();
                    while kept.chars().count() < col {
                        kept.push(' ');
                    }
                    kept.push(c);
                    kept.extend(line.chars().skip(col + 1));
                    *line = kept;
                    col += 1;
                }
            }
        }
        term
    }

    fn cut(&mut self, col: usize) {
        let line = &mut self.lines[self.row];
        *line = line.chars().take(col).collect();
    }

    /// The visible lines, trailing empty ones dropped.
    pub(super) fn screen(&self) -> Vec<&str> {
        let mut lines: Vec<&str> = self.lines.iter().map(|line| line.trim_end()).collect();
        while lines.last() == Some(&"") {
            lines.pop();
        }
        lines
    }

    /// Everything ever left on the terminal: scrolled-off lines, then the screen.
    pub(super) fn all(&self) -> Vec<&str> {
        self.scrolled.iter().map(|line| line.trim_end()).chain(self.screen()).collect()
    }
}

pub(super) fn cm(i: usize) -> ObjRef {
    ObjRef::new("", "ConfigMap", Some("shop"), format!("config-{i:02}"))
}

pub(super) fn deploy(i: usize) -> ObjRef {
    ObjRef::new("apps", "Deployment", Some("shop"), format!("web-frontend-with-a-rather-long-name-{i}"))
}

/// 24 ConfigMaps Current, then 6 Deployments applied and InProgress: the set of the bug report.
pub(super) fn a_set_of_thirty_half_way() -> Vec<Event> {
    let cms: Vec<ObjRef> = (0..24).map(cm).collect();
    let deploys: Vec<ObjRef> = (0..6).map(deploy).collect();
    let mut events =
        vec![Event::Plan(Plan::for_apply(vec![cms.clone(), deploys.clone()], Vec::new(), DryRun::None))];
    for obj in &cms {
        events.push(Event::Apply { obj: obj.clone(), outcome: ApplyOutcome::Unchanged });
        events.push(Event::Reconciled { obj: obj.clone(), outcome: WaitOutcome::Current });
    }
    for obj in &deploys {
        events.push(Event::Apply { obj: obj.clone(), outcome: ApplyOutcome::Created });
        let status = StatusResult::in_progress("LessReplicas", "Available: 0/1 (pod pending: Unschedulable)");
        events.push(Event::Status { obj: obj.clone(), status });
    }
    events
}

pub(super) fn fixed(width: usize, height: usize) -> SizeOf {
    Box::new(move || Some(Size { width, height }))
}

fn live(tty: &Tty, width: usize, height: usize) -> TablePrinter<Tty> {
    TablePrinter::live_to(tty.clone(), Box::new(tty.clone()), fixed(width, height))
}

fn played(tty: &Tty, width: usize, height: usize) -> Terminal {
    Terminal::play(&tty.0.lock().unwrap(), width, height)
}

#[test]
fn on_a_short_screen_rows_in_progress_and_the_progress_bar_stay_visible() {
    for (width, height) in [(160, 20), (80, 20), (80, 12)] {
        let tty = Tty::default();
        let mut printer = live(&tty, width, height);
        for event in a_set_of_thirty_half_way() {
            printer.print(&event).unwrap();
        }
        let term = played(&tty, width, height);
        let screen = term.screen();
        assert!(screen.len() < height, "{width}x{height}: {screen:#?}");
        let deployments = screen.iter().filter(|line| line.contains("Deployment.apps/")).count();
        assert_eq!(deployments, 6, "{width}x{height}: {screen:#?}");
        assert!(screen.contains(&"24 ConfigMaps Current"), "{width}x{height}: {screen:#?}");
        assert!(screen.last().unwrap().starts_with("[####"), "{width}x{height}: {screen:#?}");
        assert!(screen.last().unwrap().contains("24/30 finished"), "{screen:#?}");
        // Drawn in place: nothing scrolled off, however many frames.
        assert!(term.scrolled.iter().all(|line| line.trim().is_empty()), "{:#?}", term.scrolled);
        assert!(!term.cursor_visible, "the cursor is hidden while the table is drawn");
    }
}

#[test]
fn at_80_columns_names_are_shortened_and_the_message_stays() {
    let tty = Tty::default();
    let mut printer = live(&tty, 80, 45);
    for event in a_set_of_thirty_half_way() {
        printer.print(&event).unwrap();
    }
    let term = played(&tty, 80, 45);
    let rows: Vec<&str> =
        term.screen().into_iter().filter(|line| line.contains("Deployment.apps/")).collect();
    assert_eq!(rows.len(), 6);
    for row in rows {
        assert!(row.width() < 80, "{row}");
        assert!(row.contains('…'), "the long name is shortened: {row}");
        assert!(row.contains("InProgress  Available: 0/1"), "the message stays: {row}");
    }
    // A tall enough screen shows every row, nothing folded.
    assert!(term.screen().iter().any(|line| line.contains("ConfigMap/config-00")));
}

#[test]
fn when_even_unfinished_rows_do_not_fit_the_rest_are_counted() {
    let tty = Tty::default();
    let mut printer = live(&tty, 100, 8);
    for event in a_set_of_thirty_half_way() {
        printer.print(&event).unwrap();
    }
    let screen: Vec<String> = played(&tty, 100, 8).screen().iter().map(|line| line.to_string()).collect();
    assert_eq!(screen.len(), 7, "{screen:#?}");
    assert!(screen.iter().any(|line| line.starts_with("… and ") && line.ends_with(" more not finished")));
    assert!(screen.last().unwrap().contains("24/30 finished"));
}

#[test]
fn an_interrupt_is_drawn_inside_the_table_and_the_final_screen_says_so_once() {
    let (width, height) = (120, 20);
    let tty = Tty::default();
    let mut printer = live(&tty, width, height);
    let mut events = a_set_of_thirty_half_way();
    for event in &events {
        printer.print(event).unwrap();
    }
    printer.notice("kapply: interrupted; finishing the requests in flight").unwrap();
    // The run winds down: more redraws, which must not erase the notice.
    let skipped = deploy(5);
    let reason = crate::event::SkipReason::Cancelled;
    let more = [
        Event::Reconciled { obj: deploy(0), outcome: WaitOutcome::Current },
        Event::Reconciled { obj: skipped, outcome: WaitOutcome::Skipped(reason) },
        Event::Cancelled(CancelReason::Interrupted),
    ];
    for event in more {
        printer.print(&event).unwrap();
        events.push(event);
    }
    let summary = Event::Summary(Summary::from_events(&events));
    printer.print(&summary).unwrap();
    printer.finish().unwrap();
    let term = played(&tty, width, height);
    let all = term.all();
    let headers = all.iter().filter(|line| line.starts_with("NAMESPACE")).count();
    assert_eq!(headers, 1, "one header on the final screen: {all:#?}");
    let notices = all.iter().filter(|line| line.contains("kapply: interrupted;")).count();
    assert_eq!(notices, 1, "the notice is on screen, once: {all:#?}");
    assert!(all.iter().any(|line| line.starts_with('[') && line.ends_with("interrupted")), "{all:#?}");
    assert!(all.iter().any(|line| line.starts_with("interrupted: ")), "the totals say so: {all:#?}");
    // The final frame lists every object not Current, with its message.
    for i in 1..6 {
        let name = format!("long-name-{i} ");
        let why = |line: &&&str| line.contains("Available") || line.contains("reconcile skipped");
        assert!(all.iter().any(|line| line.contains(&name) && why(&line)), "{i}: {all:#?}");
    }
    assert!(term.cursor_visible, "the cursor is back");
}

#[test]
fn the_cursor_is_shown_again_when_the_printer_is_dropped_unfinished() {
    let tty = Tty::default();
    let mut printer = live(&tty, 80, 20);
    printer.print(&a_set_of_thirty_half_way()[0]).unwrap();
    assert!(!played(&tty, 80, 20).cursor_visible);
    drop(printer); // as a panic unwinding does
    assert!(played(&tty, 80, 20).cursor_visible);
}

#[test]
fn warnings_print_above_the_table_and_stay() {
    let tty = Tty::default();
    let mut printer = live(&tty, 80, 20);
    let events = a_set_of_thirty_half_way();
    printer.print(&events[0]).unwrap();
    printer.print(&Event::Warning { obj: None, message: "deprecated API".into() }).unwrap();
    for event in &events[1..] {
        printer.print(event).unwrap();
    }
    let term = played(&tty, 80, 20);
    assert_eq!(
        term.all().iter().filter(|line| **line == "warning: deprecated API").count(),
        1,
        "{:#?}",
        term.all()
    );
    assert_eq!(
        term.all().iter().filter(|line| line.starts_with("NAMESPACE")).count(),
        1,
        "{:#?}",
        term.all()
    );
}
