//! `kapply diff`: for each object, a unified diff from the live object to the server's dry-run result
//! of applying ours; prune candidates as removals. Exit codes as `kubectl diff`: 0 no differences,
//! 1 differences, 2 an error.

use std::io::{self, IsTerminal, Write};

use super::args::{Color, DiffArgs};
use super::exit::Outcome;
use super::report::Report;
use super::session::clip_lines;
use super::session::{self, Session};
use kapply::printers::colorize_diff as colorize;
use kapply::{Cluster, Differ, ObjectDiff};

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
        let diffs = match differ(&session.cluster, args).diff(&session.set).await {
            Ok(diffs) => diffs,
            Err(err) => {
                eprintln!("kapply diff: {err}");
                return Outcome::Usage;
            }
        };
        let color = use_color(args.color, io::stdout().is_terminal(), std::env::var_os("NO_COLOR"));
        let mut printed = Printed::default();
        match print_diffs(&mut io::stdout().lock(), &diffs, color, None, &mut printed) {
            Err(err) if err.kind() != io::ErrorKind::BrokenPipe => {
                eprintln!("kapply diff: cannot write output: {err}");
                Outcome::Usage
            }
            _ => printed.outcome(),
        }
    })
}

/// The differ the flags describe, on `cluster` (one cluster, or one member of a fleet).
pub fn differ(cluster: &Cluster, args: &DiffArgs) -> Differ {
    Differ::new(cluster)
        .field_manager(args.field_manager.clone())
        .force_conflicts(args.force_conflicts)
        .inventory_policy(args.inventory_policy)
        .concurrency(usize::from(args.concurrency))
}

/// What printing diffs found, over one cluster or many: the exit code follows from it.
#[derive(Debug, Default)]
pub struct Printed {
    /// Some object differs.
    pub differs: bool,
    /// Some object (or cluster) could not be diffed.
    pub failed: bool,
}

impl Printed {
    /// diff's exit outcome: 2 an error anywhere, else 1 differences, else 0.
    pub fn outcome(&self) -> Outcome {
        match (self.failed, self.differs) {
            (true, _) => Outcome::Usage,
            (false, true) => Outcome::Failed,
            (false, false) => Outcome::Success,
        }
    }
}

/// Prints the diffs of one cluster on `out`, each after its note, coloured when `color`; objects that
/// could not be diffed go to stderr with their hints. On a fleet `cluster` names the context: in the
/// file headers (`--- <context>/live/…`), the notes and the stderr lines (`kapply diff [<context>]:`).
///
/// # Errors
/// Writing to `out` failed (a closed pipe too: the caller stops quietly).
pub fn print_diffs(
    out: &mut impl Write,
    diffs: &[ObjectDiff],
    color: bool,
    cluster: Option<&str>,
    printed: &mut Printed,
) -> io::Result<()> {
    let lead = cluster.map(|context| format!("kapply diff [{context}]: ")).unwrap_or_default();
    for item in diffs {
        if let Some(error) = &item.error {
            for line in clip_lines(&error.to_string()).lines() {
                eprintln!("{}{line}", if lead.is_empty() { "kapply diff: " } else { &lead });
            }
            if let Some(hint) = error.hint_named(&super::hints::flags()) {
                eprintln!("{lead}  hint: {hint}");
            }
            printed.failed = true;
            continue;
        }
        let Some(text) = &item.diff else { continue };
        printed.differs = true;
        let text = match cluster {
            Some(context) => with_cluster(context, text),
            None => text.clone(),
        };
        let text = if color { colorize(&text) } else { text };
        let note = match (item.note, cluster) {
            (Some(note), Some(context)) => format!("# {context}: {}: {note}\n", item.obj),
            (Some(note), None) => format!("# {}: {note}\n", item.obj),
            (None, _) => String::new(),
        };
        write!(out, "{note}{text}")?;
    }
    Ok(())
}

/// The diff with its two file headers naming the cluster: `--- live/X` becomes `--- <context>/live/X`.
fn with_cluster(context: &str, text: &str) -> String {
    let mut lines = text.split_inclusive('\n');
    let mut out = String::with_capacity(text.len() + 2 * context.len() + 2);
    for (prefix, line) in [("--- ", lines.next()), ("+++ ", lines.next())] {
        match line {
            Some(line) if line.starts_with(prefix) => {
                out.push_str(prefix);
                out.push_str(context);
                out.push('/');
                out.push_str(&line[prefix.len()..]);
            }
            Some(line) => out.push_str(line),
            None => {}
        }
    }
    lines.for_each(|line| out.push_str(line));
    out
}

/// Whether to colour: `--color auto` colours a terminal unless `NO_COLOR` is set to anything but the
/// empty string (no-color.org); `always` and `never` say it outright.
pub fn use_color(choice: Color, terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
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

    #[test]
    fn the_headers_name_the_cluster_and_the_hunks_stay_as_they_are() {
        let text = "--- live/ConfigMap/ns/a\n+++ desired/ConfigMap/ns/a\n@@ -1 +1 @@\n--- x\n+++ y\n";
        assert_eq!(
            with_cluster("prod-eu", text),
            "--- prod-eu/live/ConfigMap/ns/a\n+++ prod-eu/desired/ConfigMap/ns/a\n@@ -1 +1 @@\n--- x\n+++ y\n"
        );
    }
}
