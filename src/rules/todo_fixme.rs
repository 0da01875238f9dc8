//! todo-fixme: TODO/FIXME markers in the comments of production code.

use std::sync::OnceLock;

use regex::Regex;

use crate::classify::{FileClass, Lang};
use crate::registry::{FileCtx, Rule};
use crate::parse::for_each_node;

pub(crate) struct TodoFixme;

impl Rule for TodoFixme {
    fn id(&self) -> &'static str {
        "todo-fixme"
    }

    fn prefilter(&self) -> &'static [&'static str] {
        &["TODO", "FIXME", "todo", "fixme", "Todo", "Fixme", "ToDo", "FixMe"]
    }

    fn wants(&self, class: &FileClass) -> bool {
        class.is_production()
    }

    fn check_file(&self, ctx: &mut FileCtx<'_>) {
        // No marker anywhere (a `TodoList` component, say): nothing to parse for.
        if !marker().is_match(&ctx.file.text) {
            return;
        }
        let lang = ctx.file.class.lang;
        let mut comments: Vec<(usize, usize)> = Vec::new();
        if lang == Lang::Python || lang.is_js_family() {
            let Some(tree) = ctx.tree() else { return };
            let docstrings = lang == Lang::Python && ctx.config.raw.todo_fixme.docstrings;
            for_each_node(tree.root_node(), |n| {
                if n.kind() == "comment" || (docstrings && is_docstring(n)) {
                    comments.push((n.start_byte(), n.end_byte()));
                }
            });
        } else {
            for re in block_comment_patterns(lang) {
                for m in re.find_iter(&ctx.file.text) {
                    comments.push((m.start(), m.end()));
                }
            }
            comments.sort();
        }
        for (start, end) in comments {
            let body = ctx.file.slice(start, end);
            let Some(m) = marker().find_iter(body).find(|m| !in_a_name(body, m.start(), m.end())) else { continue };
            let at = start + m.start();
            let word = m.as_str().trim_end_matches([':', '(']);
            let first_words = quote(&body[m.start()..]);
            ctx.report(at, at + word.len(), format!("{} in production code: `{first_words}`: resolve it or track it as an issue", word.to_uppercase()));
        }
    }
}

/// TODO/FIXME as uppercase words, or any-case todo/fixme directly followed by `:` or `(`.
fn marker() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\b(?:TODO|FIXME)\b|\b(?i:todo|fixme)[:(]").unwrap())
}

fn block_comment_patterns(lang: Lang) -> &'static [Regex] {
    static TEMPLATE: OnceLock<Vec<Regex>> = OnceLock::new();
    static CSS: OnceLock<Vec<Regex>> = OnceLock::new();
    match lang {
        Lang::Template => TEMPLATE.get_or_init(|| {
            vec![
                Regex::new(r"(?s)<!--.*?-->").unwrap(),
                Regex::new(r"(?s)\{#.*?#\}").unwrap(),
                Regex::new(r"(?s)\{%-?\s*comment\b.*?%\}.*?\{%-?\s*endcomment\s*-?%\}").unwrap(),
                Regex::new(r"(?s)/\*.*?\*/").unwrap(),
            ]
        }),
        Lang::Css => CSS.get_or_init(|| vec![Regex::new(r"(?s)/\*.*?\*/").unwrap(), Regex::new(r"(?m)(?:^|\s)//[^\n]*").unwrap()]),
        _ => &[],
    }
}

/// Whether the marker at `start..end` of a comment is part of a path or a name rather than a
/// word: `wiki/TODO-policy`, `TODO.md`, `docs/TODO/list`. `//TODO` and `#TODO` are markers.
fn in_a_name(body: &str, start: usize, end: usize) -> bool {
    let b = body.as_bytes();
    let before = start.checked_sub(1).map(|i| b[i]);
    let before2 = start.checked_sub(2).map(|i| b[i]);
    let after = b.get(end).copied();
    let after2 = b.get(end + 1).copied();
    let path_before = before == Some(b'/') && before2.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-');
    let joined_after = matches!(after, Some(b'-' | b'.' | b'/')) && after2.is_some_and(|c| c.is_ascii_alphanumeric());
    path_before || joined_after || matches!(before, Some(b'-' | b'.' | b'=' | b'\\'))
}

fn is_docstring(n: tree_sitter::Node<'_>) -> bool {
    n.kind() == "string"
        && n.parent().is_some_and(|p| {
            p.kind() == "expression_statement"
                && p.parent().is_some_and(|b| matches!(b.kind(), "block" | "module"))
                && p.prev_named_sibling().is_none_or(|s| s.kind() == "comment")
        })
}

/// The comment's text from the marker on: one line, secrets masked, at most 60 characters,
/// comment closers cut.
fn quote(from_marker: &str) -> String {
    let line = from_marker.lines().next().unwrap_or("");
    let line = line.split("-->").next().unwrap_or(line);
    let line = line.split("#}").next().unwrap_or(line);
    let line = line.split("*/").next().unwrap_or(line).trim();
    // Secrets masked before the cut, so a token cut in half is not shown half in clear.
    let line = line.char_indices().nth(4096).map_or(line, |(i, _)| &line[..i]);
    let line = crate::finding::redact_text(line);
    if line.chars().count() > 60 { format!("{}…", line.chars().take(59).collect::<String>()) } else { line }
}
