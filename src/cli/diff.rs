//! `kapply diff`: for each object, a unified diff from the live object to the server's dry-run result
//! of applying ours; prune candidates as removals. Exit codes as `kubectl diff`: 0 no differences,
//! 1 differences, 2 an error.

use std::io::{self, IsTerminal, Write};

use super::args::{Color, DiffArgs};
use super::exit::Outcome;
use super::report::Report;
use super::session::{self, Session};
use kapply::Differ;
use kapply::printers::colorize_diff as colorize;

/// Runs `kapply diff`.
pub fn run(args: &DiffArgs) -> Outcome {
    session::block_on(async {
        let session = match Session::open(
            &Report::new("diff", false),
            &args.manifests,
            &args.connection,
            &args.inventory,
            args.selector.as_ref(),
        )
        .await
        {
            Ok(session) => session,
            Err(_) => return Outcome::Usage,
        };
        let differ = Differ::new(&session.cluster)
            .field_manager(args.field_manager.clone())
            .force_conflicts(args.force_conflicts)
            .inventory_policy(args.inventory_policy)
            .concurrency(usize::from(args.concurrency));
        let diffs = match differ.diff(&session.set).await {
            Ok(diffs) => diffs,
            Err(err) => {
                eprintln!("kapply diff: {err}");
                return Outcome::Usage;
            }
        };
        let color = use_color(args.color, io::stdout().is_terminal(), std::env::var_os("NO_COLOR"));
        let mut out = io::stdout().lock();
        let mut differs = false;
        let mut failed = false;
        for item in &diffs {
            if let Some(error) = &item.error {
                eprintln!("kapply diff: {error}");
                if let Some(hint) = error.hint_named(&super::hints::flags()) {
                    eprintln!("  hint: {hint}");
                }
                failed = true;
                continue;
            }
            let Some(text) = &item.diff else { continue };
            differs = true;
            let text = if color { colorize(text) } else { text.clone() };
            let note = item.note.map(|n| format!("# {}: {n}\n", item.obj)).unwrap_or_default();
            if let Err(err) = write!(out, "{note}{text}") {
                if err.kind() == io::ErrorKind::BrokenPipe {
                    break;
                }
                eprintln!("kapply diff: cannot write output: {err}");
                return Outcome::Usage;
            }
        }
        match (failed, differs) {
            (true, _) => Outcome::Usage,
            (false, true) => Outcome::Failed,
            (false, false) => Outcome::Success,
        }
    })
}

/// Whether to colour: `--color auto` colours a terminal unless `NO_COLOR` is set to anything but the
/// empty string (no-color.org); `always` and `never` say it outright.
fn use_color(choice: Color, terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    match choice {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => terminal && no_color.is_none_or(|value| value.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_turns_automatic_colour_off_on_a_terminal() {
        assert!(use_color(Color::Auto, true, None));
        assert!(!use_color(Color::Auto, true, Some("1".into())));
        assert!(use_color(Color::Auto, true, Some("".into())), "an empty NO_COLOR is unset");
        assert!(!use_color(Color::Auto, false, None));
        assert!(use_color(Color::Always, false, Some("1".into())), "--color always wins");
        assert!(!use_color(Color::Never, true, None));
    }
}
