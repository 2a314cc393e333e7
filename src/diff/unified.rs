//! Unified diffs (`diff -u` format) of two texts by lines, computed by the `similar` crate, and their
//! colouring for a terminal.

use similar::{Algorithm, TextDiff};

/// A unified diff of `old` and `new` by lines, in the format of GNU `diff -u` (without timestamps):
/// `--- old_name` / `+++ new_name` headers, then hunks with `context` unchanged lines around each change,
/// two changes at most `2 * context` unchanged lines apart sharing one hunk. `None` when the texts are equal.
///
/// Hunk headers follow GNU's conventions: a count of 1 is omitted (`@@ -3 +3 @@`), and a side with no
/// lines in the hunk names the line before it (`@@ -0,0 +1,3 @@` for a text that did not exist). A last
/// line without a newline is followed by `\ No newline at end of file`. Within a run of changes,
/// removed lines come before added ones.
pub fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str, context: usize) -> Option<String> {
    if old == new {
        return None;
    }
    Some(line_diff(old, new).unified_diff().context_radius(context).header(old_name, new_name).to_string())
}

/// The line diff of two texts: a shortest edit script (Myers without the heuristics that trade
/// minimality for speed), so a diff never shows more changed lines than it must.
fn line_diff<'a>(old: &'a str, new: &'a str) -> TextDiff<'a, 'a, str> {
    TextDiff::configure().algorithm(Algorithm::RawMyers).diff_lines(old, new)
}

const BOLD: &str = "\x1b[1m";
const CYAN: &str = "\x1b[36m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const RESET: &str = "\x1b[0m";

/// `diff` with ANSI colours for a terminal: file headers bold, hunk headers cyan, removed lines red,
/// added lines green, each coloured line reset before its newline.
///
/// Hunk headers are parsed to know where each hunk ends, so a removed line that reads `--- x` (a YAML
/// document marker, say) is coloured as a removal, not as a file header.
pub fn colorize(diff: &str) -> String {
    let mut out = String::with_capacity(diff.len() + diff.len() / 4);
    // Lines still expected in the current hunk, on the old and the new side.
    let mut remaining = (0usize, 0usize);
    for line in diff.split_inclusive('\n') {
        let (text, newline) = match line.strip_suffix('\n') {
            Some(text) => (text, "\n"),
            None => (line, ""),
        };
        let in_hunk = remaining != (0, 0);
        let colour = if in_hunk {
            match text.chars().next() {
                Some('-') => {
                    remaining.0 = remaining.0.saturating_sub(1);
                    Some(RED)
                }
                Some('+') => {
                    remaining.1 = remaining.1.saturating_sub(1);
                    Some(GREEN)
                }
                Some('\\') => None,
                _ => {
                    remaining = (remaining.0.saturating_sub(1), remaining.1.saturating_sub(1));
                    None
                }
            }
        } else if text.starts_with("@@") {
            remaining = parse_hunk_header(text).unwrap_or((0, 0));
            Some(CYAN)
        } else if text.starts_with("---") || text.starts_with("+++") {
            Some(BOLD)
        } else {
            None
        };
        match colour {
            Some(colour) => {
                out.push_str(colour);
                out.push_str(text);
                out.push_str(RESET);
            }
            None => out.push_str(text),
        }
        out.push_str(newline);
    }
    out
}

/// The old and new line counts of `@@ -a[,b] +c[,d] @@`.
fn parse_hunk_header(line: &str) -> Option<(usize, usize)> {
    let mut fields = line.strip_prefix("@@ ")?.split(' ');
    let old = fields.next()?.strip_prefix('-')?;
    let new = fields.next()?.strip_prefix('+')?;
    let count = |side: &str| match side.split_once(',') {
        Some((_, count)) => count.parse().ok(),
        None => Some(1),
    };
    Some((count(old)?, count(new)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn diff(old: &str, new: &str) -> Option<String> {
        unified_diff(old, new, "a", "b", 3)
    }

    fn lines(range: std::ops::RangeInclusive<u32>) -> String {
        range.map(|i| format!("{i}\n")).collect()
    }

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(diff("", ""), None);
        assert_eq!(diff("a\nb\n", "a\nb\n"), None);
    }

    #[test]
    fn a_new_text_is_shown_in_full_against_nothing() {
        assert_eq!(diff("", "a\nb\nc\n").unwrap(), "--- a\n+++ b\n@@ -0,0 +1,3 @@\n+a\n+b\n+c\n");
    }

    #[test]
    fn a_removed_text_is_shown_in_full_against_nothing() {
        assert_eq!(diff("a\nb\n", "").unwrap(), "--- a\n+++ b\n@@ -1,2 +0,0 @@\n-a\n-b\n");
    }

    #[test]
    fn a_single_line_side_omits_its_count() {
        assert_eq!(diff("a\n", "b\n").unwrap(), "--- a\n+++ b\n@@ -1 +1 @@\n-a\n+b\n");
    }

    #[test]
    fn an_insertion_in_the_middle_names_the_line_before_it() {
        let old = lines(1..=10);
        let new = old.replace("5\n", "5\nnew\n");
        let expected = "--- a\n+++ b\n@@ -3,6 +3,7 @@\n 3\n 4\n 5\n+new\n 6\n 7\n 8\n";
        assert_eq!(diff(&old, &new).unwrap(), expected);
        assert_eq!(unified_diff(&old, &new, "a", "b", 0).unwrap(), "--- a\n+++ b\n@@ -5,0 +6 @@\n+new\n");
    }

    #[test]
    fn a_deletion_in_the_middle() {
        let old = lines(1..=10);
        let new = old.replace("5\n", "");
        let expected = "--- a\n+++ b\n@@ -2,7 +2,6 @@\n 2\n 3\n 4\n-5\n 6\n 7\n 8\n";
        assert_eq!(diff(&old, &new).unwrap(), expected);
        assert_eq!(unified_diff(&old, &new, "a", "b", 0).unwrap(), "--- a\n+++ b\n@@ -5 +4,0 @@\n-5\n");
    }

    #[test]
    fn a_change_at_the_start_has_context_only_after_it() {
        let old = lines(1..=10);
        let new = old.replacen("1\n", "one\n", 1);
        let expected = "--- a\n+++ b\n@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n";
        assert_eq!(diff(&old, &new).unwrap(), expected);
    }

    #[test]
    fn a_change_at_the_end_has_context_only_before_it() {
        let old = lines(1..=10);
        let new = old.replace("10\n", "ten\n");
        let expected = "--- a\n+++ b\n@@ -7,4 +7,4 @@\n 7\n 8\n 9\n-10\n+ten\n";
        assert_eq!(diff(&old, &new).unwrap(), expected);
    }

    #[test]
    fn changes_separated_by_twice_the_context_share_one_hunk() {
        let old = lines(1..=20);
        let new = old.replace("\n3\n", "\nX\n").replace("\n10\n", "\nY\n");
        let expected = "--- a\n+++ b\n@@ -1,13 +1,13 @@\n 1\n 2\n-3\n+X\n 4\n 5\n 6\n 7\n 8\n 9\n\
                        -10\n+Y\n 11\n 12\n 13\n";
        assert_eq!(diff(&old, &new).unwrap(), expected);
    }

    #[test]
    fn changes_separated_by_more_than_twice_the_context_get_two_hunks() {
        let old = lines(1..=20);
        let new = old.replace("\n3\n", "\nX\n").replace("\n11\n", "\nY\n");
        let expected = "--- a\n+++ b\n@@ -1,6 +1,6 @@\n 1\n 2\n-3\n+X\n 4\n 5\n 6\n\
                        @@ -8,7 +8,7 @@\n 8\n 9\n 10\n-11\n+Y\n 12\n 13\n 14\n";
        assert_eq!(diff(&old, &new).unwrap(), expected);
    }

    #[test]
    fn a_replaced_block_lists_deletions_before_insertions() {
        let expected = "--- a\n+++ b\n@@ -1,4 +1,4 @@\n k\n-a\n-b\n+c\n+d\n z\n";
        assert_eq!(diff("k\na\nb\nz\n", "k\nc\nd\nz\n").unwrap(), expected);
    }

    #[test]
    fn a_missing_final_newline_is_marked() {
        let expected = "--- a\n+++ b\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n";
        assert_eq!(diff("a\nb\n", "a\nb").unwrap(), expected);
    }

    #[test]
    fn thousands_of_lines_diff_quickly_and_minimally() {
        let old: String = (0..3000).map(|i| format!("old {i}\n")).collect();
        let new: String = (0..3000).map(|i| format!("new {i}\n")).collect();
        let d = diff(&old, &new).unwrap();
        assert!(d.starts_with("--- a\n+++ b\n@@ -1,3000 +1,3000 @@\n-old 0\n"));
        assert_eq!(d.lines().filter(|l| l.starts_with('-')).count(), 3001);

        let mut interleaved = String::new();
        for i in 0..3000 {
            interleaved.push_str(&format!("old {i}\n"));
            if i % 7 == 0 {
                interleaved.push_str("extra\n");
            }
        }
        let d = diff(&old, &interleaved).unwrap();
        assert_eq!(d.lines().filter(|l| l.starts_with('+')).count(), 1 + 3000 / 7 + 1);
        assert_eq!(d.lines().filter(|l| l.starts_with('-')).count(), 1);
    }

    #[test]
    fn colours_follow_the_line_kinds() {
        let d = "--- a\n+++ b\n@@ -1,3 +1,3 @@\n k\n---- x\n++++ y\n\\ No newline at end of file\n";
        let expected = "\x1b[1m--- a\x1b[0m\n\x1b[1m+++ b\x1b[0m\n\x1b[36m@@ -1,3 +1,3 @@\x1b[0m\n k\n\
                        \x1b[31m---- x\x1b[0m\n\x1b[32m++++ y\x1b[0m\n\\ No newline at end of file\n";
        assert_eq!(colorize(d), expected);
    }

    #[test]
    fn colorize_tolerates_text_that_is_not_a_diff() {
        for text in ["", "@@ nonsense", "@@ -1,x +1 @@\n-a\n", "no newline", "-a\n+b"] {
            let _ = colorize(text);
        }
    }

    /// Rebuild the new text from the old one and the diff, as `patch` would.
    fn apply(old: &str, diff: &str) -> String {
        let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
        let mut out = String::new();
        let mut next_old = 0;
        let mut last_pushed_plus = false;
        for line in diff.split_inclusive('\n').skip(2) {
            if let Some(header) = line.strip_prefix("@@ -") {
                let start = header.split([',', ' ']).next().unwrap().parse::<usize>().unwrap();
                let count_zero = header.split(' ').next().unwrap().ends_with(",0");
                let first = if count_zero { start } else { start - 1 };
                old_lines[next_old..first].iter().for_each(|l| out.push_str(l));
                next_old = first;
            } else if line.starts_with('\\') {
                if last_pushed_plus {
                    out.pop();
                }
            } else if let Some(text) = line.strip_prefix('+') {
                out.push_str(text);
            } else {
                next_old += 1;
                if let Some(text) = line.strip_prefix(' ') {
                    out.push_str(text);
                }
            }
            last_pushed_plus = line.starts_with(['+', ' ']);
        }
        old_lines[next_old..].iter().for_each(|l| out.push_str(l));
        out
    }

    fn lcs_len(a: &[&str], b: &[&str]) -> usize {
        let mut row = vec![0; b.len() + 1];
        for x in a {
            let mut diag = 0;
            for (j, y) in b.iter().enumerate() {
                let up = row[j + 1];
                row[j + 1] = if x == y { diag + 1 } else { up.max(row[j]) };
                diag = up;
            }
        }
        row[b.len()]
    }

    fn small_text() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(vec!["a\n", "b\n", "c\n", "d\n", "e"]), 0..24)
            .prop_map(|lines| lines.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn applying_the_diff_to_the_old_text_gives_the_new_text(
            old in small_text(), new in small_text(), context in 0usize..4,
        ) {
            match unified_diff(&old, &new, "a", "b", context) {
                None => prop_assert_eq!(&old, &new),
                Some(d) => prop_assert_eq!(apply(&old, &d), new, "diff:\n{}", d),
            }
        }

        #[test]
        fn the_edit_script_is_as_short_as_possible(old in small_text(), new in small_text()) {
            let a: Vec<&str> = old.split_inclusive('\n').collect();
            let b: Vec<&str> = new.split_inclusive('\n').collect();
            let diff = line_diff(&old, &new);
            let changes = diff.iter_all_changes().filter(|c| c.tag() != similar::ChangeTag::Equal).count();
            prop_assert_eq!(changes, a.len() + b.len() - 2 * lcs_len(&a, &b));
        }

        #[test]
        fn hunk_headers_count_the_lines_they_show(
            old in small_text(), new in small_text(), context in 0usize..4,
        ) {
            if let Some(d) = unified_diff(&old, &new, "a", "b", context) {
                let mut lines = d.lines().skip(2).peekable();
                while let Some(header) = lines.next() {
                    let (old_count, new_count) = parse_hunk_header(header).unwrap();
                    let (mut seen_old, mut seen_new) = (0, 0);
                    while let Some(line) = lines.next_if(|l| !l.starts_with("@@")) {
                        match line.chars().next() {
                            Some('-') => seen_old += 1,
                            Some('+') => seen_new += 1,
                            Some(' ') => { seen_old += 1; seen_new += 1; }
                            _ => {}
                        }
                    }
                    prop_assert_eq!((seen_old, seen_new), (old_count, new_count), "diff:\n{}", d);
                }
            }
        }
    }
}
