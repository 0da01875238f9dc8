//! merge-conflict-marker: a merge conflict committed unresolved, found as a complete hunk of
//! marker lines (`<<<<<<< `, optional `||||||| `, `=======`, `>>>>>>> `) at the start of lines.

use crate::classify::{FileClass, Lang};
use crate::registry::{FileCtx, Rule};

pub(crate) struct MergeConflictMarker;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Marker {
    Ours,
    Base,
    Sep,
    Theirs,
}

/// The marker a line is, exactly: seven characters at column 0, then the end of the line or a
/// space and a label (the separator takes no label). `<<<<<<<<` or `======= x` are not markers.
fn marker(line: &str) -> Option<Marker> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line == "=======" {
        return Some(Marker::Sep);
    }
    let (head, rest) = (line.get(..7)?, &line[7..]);
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    match head {
        "<<<<<<<" => Some(Marker::Ours),
        "|||||||" => Some(Marker::Base),
        ">>>>>>>" => Some(Marker::Theirs),
        _ => None,
    }
}

/// Complete conflict hunks: (line of `<<<<<<<`, line of `=======`, line of `>>>>>>>`), 0-based.
/// Lines inside Markdown code fences are skipped when `fences` is set.
fn hunks(text: &str, fences: bool) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    // (ours, base seen, sep) of the hunk being read.
    let mut open: Option<(usize, Option<usize>)> = None;
    let mut fence: Option<&str> = None;
    for (i, line) in text.split('\n').enumerate() {
        if fences {
            let t = line.trim_start();
            let f = if t.starts_with("```") { Some("```") } else if t.starts_with("~~~") { Some("~~~") } else { None };
            match (fence, f) {
                (None, Some(f)) => {
                    fence = Some(f);
                    open = None;
                    continue;
                }
                (Some(open_f), Some(f)) if open_f == f => {
                    fence = None;
                    continue;
                }
                (Some(_), _) => continue,
                _ => {}
            }
        }
        match (marker(line), open) {
            (Some(Marker::Ours), _) => open = Some((i, None)),
            (Some(Marker::Base), Some((o, None))) => open = Some((o, None)),
            (Some(Marker::Sep), Some((o, None))) => open = Some((o, Some(i))),
            (Some(Marker::Theirs), Some((o, Some(s)))) => {
                out.push((o, s, i));
                open = None;
            }
            _ => {}
        }
    }
    out
}

/// Whether the byte at `at` is inside a string literal of the file's syntax tree.
fn in_string(ctx: &FileCtx<'_>, at: usize) -> bool {
    let Some(tree) = ctx.tree() else { return false };
    let Some(mut node) = tree.root_node().descendant_for_byte_range(at, at + 1) else { return false };
    loop {
        let k = node.kind();
        if k.contains("string") || k == "template_literal" || k == "heredoc_body" {
            return true;
        }
        match node.parent() {
            Some(p) => node = p,
            None => return false,
        }
    }
}

impl Rule for MergeConflictMarker {
    fn id(&self) -> &'static str {
        "merge-conflict-marker"
    }

    fn prefilter(&self) -> &'static [&'static str] {
        &["<<<<<<<"]
    }

    fn wants(&self, class: &FileClass) -> bool {
        // Data files under tests (a conflicted file a git tool is tested on) hold markers on
        // purpose; test code holds them in strings, which are judged below.
        let code = class.lang == Lang::Python || class.lang.is_js_family();
        code || !class.roles.test
    }

    fn check_file(&self, ctx: &mut FileCtx<'_>) {
        let file = ctx.file;
        let code = file.class.lang == Lang::Python || file.class.lang.is_js_family();
        let found = hunks(&file.text, file.class.roles.docs);
        for (ours, sep, theirs) in found {
            let start = file.lines().line_start(ours);
            if code && in_string(ctx, start) {
                continue;
            }
            let first = file.line_text(ours);
            let label = crate::finding::excerpt(first.get(8..).unwrap_or(""));
            let from = if label.is_empty() { String::new() } else { format!(" (`{label}`)") };
            let last = crate::finding::excerpt(file.line_text(theirs).get(8..).unwrap_or(""));
            let to = if last.is_empty() { String::new() } else { format!(" (`{last}`)") };
            ctx.report(
                start,
                start + first.len(),
                format!(
                    "unresolved merge conflict: `<<<<<<<`{from} here, `=======` at line {}, `>>>>>>>`{to} at line {}: \
                     keep the intended code and delete the marker lines",
                    sep + 1,
                    theirs + 1
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_exact_lines() {
        assert_eq!(marker("<<<<<<< HEAD"), Some(Marker::Ours));
        assert_eq!(marker("<<<<<<<"), Some(Marker::Ours));
        assert_eq!(marker("======="), Some(Marker::Sep));
        assert_eq!(marker("=======\r"), Some(Marker::Sep));
        assert_eq!(marker(">>>>>>> feature/x"), Some(Marker::Theirs));
        assert_eq!(marker("||||||| merged common ancestors"), Some(Marker::Base));
        assert_eq!(marker("<<<<<<<< HEAD"), None);
        assert_eq!(marker("========"), None);
        assert_eq!(marker("======= x"), None);
        assert_eq!(marker(" <<<<<<< HEAD"), None);
        assert_eq!(marker(">>>>>>>>"), None);
    }

    #[test]
    fn only_complete_hunks_in_order() {
        let t = "a\n<<<<<<< HEAD\nx\n||||||| base\nw\n=======\ny\n>>>>>>> b\nz\n";
        assert_eq!(hunks(t, false), vec![(1, 5, 7)]);
        // A Markdown setext heading and a lone separator are no hunk.
        assert!(hunks("Title\n=======\n\ntext\n>>>>>>> quoted\n", false).is_empty());
        // Markers in the wrong order.
        assert!(hunks(">>>>>>> b\n=======\n<<<<<<< a\n", false).is_empty());
        // Inside a fence, in documentation.
        let md = "```\n<<<<<<< HEAD\na\n=======\nb\n>>>>>>> x\n```\n";
        assert!(hunks(md, true).is_empty());
        assert_eq!(hunks(md, false).len(), 1);
    }
}
