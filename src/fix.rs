//! `preflight check --add-suppressions`: writes a preflight suppression comment on every line
//! that has a finding (as Ruff's `--add-noqa`), to adopt preflight on a legacy code base in
//! place.
//!
//! Each file is edited only by inserting bytes: a marker appended at the end of the flagged
//! line (after its trailing whitespace, before its line ending), rule ids merged into a marker
//! already on the line, or, where a trailing comment would change a value (dotenv files,
//! Dockerfiles), a comment line of its own inserted above with the flagged line's ending.
//! Nothing else changes, byte for byte: line endings, trailing whitespace, a BOM.
//!
//! A marker is kept only where preflight honours it and it changes nothing else: the edited
//! file is parsed again, and a marker that would not suppress its finding, would sit inside a
//! string (a line of a triple-quoted string or a template literal) or would add a syntax error
//! is not written; its finding is counted as left. Files preflight cannot parse (Python or
//! JS/TS with syntax errors) or decode (not UTF-8) are not edited.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::classify::Lang;
use crate::finding::Finding;
use crate::source::SourceFile;
use crate::suppress;

/// A finding no marker was written for, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Left {
    pub path: String,
    pub line: usize,
    pub rule: &'static str,
    pub why: String,
}

#[derive(Debug, Default)]
pub(crate) struct Summary {
    /// Findings now suppressed by a marker written (or extended) by this run.
    pub suppressed: usize,
    /// Lines edited (a marker added or extended, or a comment line inserted).
    pub lines: usize,
    pub files: usize,
    pub left: Vec<Left>,
}

/// Rules about markers themselves: a marker for them would hide the problem it is about.
const NOT_FOR: &[&str] = &["unused-suppression", "blanket-suppression"];

/// Largest file edited.
const MAX_EDIT: u64 = 64 << 20;

/// Writes the markers for `findings` (paths relative to `root`) into their files.
pub(crate) fn add_suppressions(root: &Path, findings: &[Finding]) -> Result<Summary, String> {
    let mut by_file: BTreeMap<&str, BTreeMap<usize, BTreeSet<&'static str>>> = BTreeMap::new();
    let mut summary = Summary::default();
    for f in findings {
        if NOT_FOR.contains(&f.rule.id) {
            let why = "a finding about a marker: fix the marker by hand".to_string();
            summary.left.push(Left { path: f.path.clone(), line: f.line, rule: f.rule.id, why });
            continue;
        }
        by_file.entry(&f.path).or_default().entry(f.line).or_default().insert(suppress::id_of(f));
    }
    for (rel, wanted) in by_file {
        let abs = root.join(rel);
        let leave_all = |why: &str, left: &mut Vec<Left>| {
            for (&line, rules) in &wanted {
                left.extend(rules.iter().map(|&rule| Left { path: rel.to_string(), line, rule, why: why.to_string() }));
            }
        };
        let meta = match abs.symlink_metadata() {
            Ok(m) if m.is_file() => m,
            Ok(m) if m.is_dir() => {
                leave_all("a folder: no comment can hold a marker", &mut summary.left);
                continue;
            }
            _ => {
                leave_all("not a regular file that can be edited", &mut summary.left);
                continue;
            }
        };
        let bytes = match crate::fsread::read_regular_capped(&abs, MAX_EDIT) {
            Ok(b) => b,
            Err(e) => {
                leave_all(&format!("cannot be read: {e}"), &mut summary.left);
                continue;
            }
        };
        let plan = plan(rel, &bytes, &wanted);
        if plan.lines > 0 {
            crate::output::write_file(&abs, &plan.bytes)?;
            // The rename gave the file the default mode: give it back its own (an executable
            // script stays executable).
            std::fs::set_permissions(&abs, meta.permissions()).map_err(|e| format!("{}: {e}", abs.display()))?;
            summary.files += 1;
            summary.lines += plan.lines;
        }
        summary.suppressed += plan.suppressed;
        summary.left.extend(plan.left);
    }
    summary.left.sort_by(|a, b| (&a.path, a.line, a.rule).cmp(&(&b.path, b.line, b.rule)));
    Ok(summary)
}

/// The edit of one file: its new bytes, how many lines were edited and findings suppressed,
/// and the findings left.
#[derive(Debug)]
pub(crate) struct Plan {
    pub bytes: Vec<u8>,
    pub lines: usize,
    pub suppressed: usize,
    pub left: Vec<Left>,
}

/// How a comment is written in a file, at the end of a line or as a line of its own above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `  # preflight: ignore[...]` at the end of the line.
    Hash,
    /// `  // preflight: ignore[...]`.
    Slashes,
    /// `{/* preflight: ignore[...] */}` in JSX children.
    JsxBlock,
    /// `  /* preflight: ignore[...] */`.
    Block,
    /// `  {# preflight: ignore[...] #}` (Django/Jinja templates).
    TemplateComment,
    /// `  <!-- preflight: ignore[...] -->` (plain HTML).
    HtmlComment,
    /// `# preflight: ignore[...]` on a line of its own above the flagged one.
    HashAbove,
}

/// One insertion at a byte offset of the original text (after the BOM).
#[derive(Debug, Clone)]
struct Edit {
    at: usize,
    insert: String,
    /// 0-based line of the findings it is for, and whether it inserts a line above it.
    line: usize,
    adds_line: bool,
    /// The findings it must suppress: (0-based flagged line, rule).
    checks: Vec<(usize, &'static str)>,
}

/// Plans the markers for `wanted` (1-based line → rule ids) in the file `rel` holding `bytes`.
pub(crate) fn plan(rel: &str, bytes: &[u8], wanted: &BTreeMap<usize, BTreeSet<&'static str>>) -> Plan {
    let mut out = Plan { bytes: bytes.to_vec(), lines: 0, suppressed: 0, left: Vec::new() };
    let leave = |line: usize, rules: &mut dyn Iterator<Item = &'static str>, why: &str, left: &mut Vec<Left>| {
        left.extend(rules.map(|rule| Left { path: rel.to_string(), line, rule, why: why.to_string() }));
    };
    let leave_all = |why: &str, left: &mut Vec<Left>| {
        for (&line, rules) in wanted {
            left.extend(rules.iter().map(|&rule| Left { path: rel.to_string(), line, rule, why: why.to_string() }));
        }
    };
    let bom: &[u8] = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) { &bytes[..3] } else { &[] };
    if bytes[..bytes.len().min(8192)].contains(&0)
        || bytes.starts_with(&[0xFF, 0xFE])
        || bytes.starts_with(&[0xFE, 0xFF])
    {
        leave_all("a binary or UTF-16 file: not edited", &mut out.left);
        return out;
    }
    let Ok(text) = std::str::from_utf8(&bytes[bom.len()..]) else {
        leave_all("not UTF-8: not edited", &mut out.left);
        return out;
    };
    let class = crate::classify::classify(rel, bytes);
    let file = SourceFile::new(rel.into(), rel.into(), class, text.to_string());
    let has_tree = class.lang == Lang::Python || class.lang.is_js_family();
    if has_tree && file.tree().is_none_or(|t| t.root_node().has_error()) {
        leave_all("preflight cannot parse this file: not edited", &mut out.left);
        return out;
    }
    let Some(base) = base_style(rel, class.lang, text) else {
        leave_all("no comment syntax preflight can write in this kind of file", &mut out.left);
        return out;
    };
    let sups = suppress::parse(&file);
    let n_lines = file.lines().len();
    // Where each flagged line's marker goes: on the line, or on the line above (a marker covers
    // its line and the next) when the line cannot hold one, as the first line of a multi-line
    // f-string passed to `execute(`.
    type Target = (BTreeSet<&'static str>, Vec<(usize, &'static str)>);
    let mut targets: BTreeMap<usize, Target> = BTreeMap::new();
    for (&line1, rules) in wanted {
        let rules_v: Vec<&'static str> = rules.iter().copied().collect();
        if line1 == 0 || line1 > n_lines {
            leave(line1, &mut rules_v.iter().copied(), "the line is not in the file", &mut out.left);
            continue;
        }
        let l0 = line1 - 1;
        let target = match edit_for(&file, text, base, l0, &rules_v, &sups) {
            Ok(_) => Ok(l0),
            Err(_)
                if l0 > 0
                    && base != Style::HashAbove
                    && edit_for(&file, text, base, l0 - 1, &rules_v, &sups).is_ok() =>
            {
                Ok(l0 - 1)
            }
            Err(why) => Err(why),
        };
        match target {
            Ok(t) => {
                let entry = targets.entry(t).or_default();
                entry.0.extend(rules_v.iter().copied());
                entry.1.extend(rules_v.iter().map(|&r| (l0, r)));
            }
            Err(why) => leave(line1, &mut rules_v.iter().copied(), why, &mut out.left),
        }
    }
    let mut edits: Vec<Edit> = Vec::new();
    for (t, (rules, checks)) in targets {
        let rules_v: Vec<&'static str> = rules.into_iter().collect();
        match edit_for(&file, text, base, t, &rules_v, &sups) {
            Ok(e) => edits.push(Edit { checks, ..e }),
            Err(why) => {
                for (l0, r) in checks {
                    leave(l0 + 1, &mut std::iter::once(r), why, &mut out.left);
                }
            }
        }
    }
    // All edits at once; when the result does not verify, one at a time, keeping each that
    // verifies on top of those kept.
    let mut kept: Vec<Edit> = Vec::new();
    if verify(rel, bom, text, &edits, has_tree) {
        kept = edits;
    } else {
        for e in edits {
            let mut trial = kept.clone();
            trial.push(e.clone());
            if verify(rel, bom, text, &trial, has_tree) {
                kept = trial;
            } else {
                let why = "no comment there would be honoured without changing the code (a multi-line string?)";
                for &(l0, r) in &e.checks {
                    leave(l0 + 1, &mut std::iter::once(r), why, &mut out.left);
                }
            }
        }
    }
    if !kept.is_empty() {
        out.bytes = apply(bom, text, &kept);
        out.lines = kept.len();
        out.suppressed = kept.iter().map(|e| e.checks.len()).sum();
    }
    out.left.sort_by(|a, b| (a.line, a.rule).cmp(&(b.line, b.rule)));
    out
}

/// The comment style of a file, before the context of each line is looked at; `None` when
/// preflight knows no comment that is safe to write in it (JSON, an unknown format).
fn base_style(rel: &str, lang: Lang, text: &str) -> Option<Style> {
    let name = rel.rsplit('/').next().unwrap_or(rel).to_ascii_lowercase();
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    Some(match lang {
        Lang::Python => Style::Hash,
        Lang::JavaScript | Lang::Jsx | Lang::TypeScript | Lang::Tsx => Style::Slashes,
        // A Django/Jinja template; an HTML page with no template syntax is plain HTML.
        Lang::Template if text.contains("{%") || text.contains("{{") => Style::TemplateComment,
        Lang::Template => Style::HtmlComment,
        Lang::Css if ext == "css" => Style::Block,
        Lang::Css if ext == "scss" || ext == "less" => Style::Slashes,
        // `KEY=value  # c` keeps the comment in the value for some readers (docker's
        // `--env-file`): a comment line of its own.
        Lang::Dotenv => Style::HashAbove,
        Lang::Other if matches!(ext, "yml" | "yaml" | "toml") => Style::Hash,
        Lang::Other if (name.starts_with("requirements") && matches!(ext, "txt" | "in")) => Style::Hash,
        // `ENV KEY=value # c` is part of the value; a comment line is a comment anywhere.
        Lang::Other if name == "dockerfile" || name.starts_with("dockerfile.") || ext == "dockerfile" => {
            Style::HashAbove
        }
        _ => return None,
    })
}

fn ids_text(rules: &[&str]) -> String {
    rules.join(", ")
}

/// The edit that suppresses `rules` on 0-based line `l0`, or why there is none.
fn edit_for(
    file: &SourceFile,
    text: &str,
    base: Style,
    l0: usize,
    rules: &[&'static str],
    sups: &[suppress::Suppression],
) -> Result<Edit, &'static str> {
    let start = file.lines().line_start(l0);
    let line = file.line_text(l0);
    let end = start + line.len();
    // A preflight marker already on the line: add the ids to it.
    if let Some(s) = sups.iter().find(|s| s.line == l0) {
        let new: Vec<&'static str> =
            rules.iter().copied().filter(|r| !s.ids.iter().any(|i| suppress::covers(i, r))).collect();
        if new.is_empty() {
            return Err("a marker on the line names the rule but is not honoured there");
        }
        let after = s.offset + suppress::MARKER.len();
        let (at, insert) = match text[after..end].strip_prefix('[').and_then(|a| a.find(']')) {
            Some(close) if s.ids.is_empty() => (after + 1 + close, ids_text(&new)),
            Some(close) => (after + 1 + close, format!(", {}", ids_text(&new))),
            None => (after, format!("[{}]", ids_text(&new))),
        };
        return Ok(Edit { at, insert, line: l0, adds_line: false, checks: Vec::new() });
    }
    if in_multiline_string(file, end) {
        return Err("inside a multi-line string: a comment there would be part of the string");
    }
    let style = match base {
        Style::Slashes if in_jsx_children(file, end)? => Style::JsxBlock,
        Style::Hash if file.class.lang != Lang::Python => {
            other_hash_line_ok(file, text, l0)?;
            Style::Hash
        }
        Style::HtmlComment | Style::TemplateComment if inside_raw_block(&text[..end], base) => {
            return Err("inside a <script>, <style>, verbatim block or comment");
        }
        _ if file.class.lang == Lang::Css && css_in_block_comment(&text[..end], base == Style::Slashes) => {
            return Err("inside a block comment");
        }
        Style::HashAbove => {
            // A Dockerfile parser directive (`# syntax=`) must stay the first line.
            if l0 == 0 && line.starts_with('#') {
                return Err("a comment line above would displace the first line's directive");
            }
            // A comment line of the marker alone above: add the ids to it.
            if l0 > 0 {
                if let Some(s) = sups.iter().find(|s| s.line == l0 - 1) {
                    let prev = file.line_text(l0 - 1);
                    let prev_start = file.lines().line_start(l0 - 1);
                    if prev.trim_start().starts_with('#') && prev[..s.offset - prev_start].trim() == "#" {
                        return edit_for(file, text, Style::Hash, l0 - 1, rules, sups).map(|e| Edit { line: l0, ..e });
                    }
                }
            }
            let indent: String = line.chars().take_while(|c| *c == ' ' || *c == '\t').collect();
            let ending = line_ending(text, end);
            let insert = format!("{indent}# {}[{}]{ending}", suppress::MARKER, ids_text(rules));
            return Ok(Edit { at: start, insert, line: l0, adds_line: true, checks: Vec::new() });
        }
        s => s,
    };
    if l0 == 0 && line.starts_with("#!") {
        return Err("the first line is a shebang");
    }
    let ids = ids_text(rules);
    let m = suppress::MARKER;
    let comment = match style {
        Style::Hash => format!("# {m}[{ids}]"),
        Style::Slashes => format!("// {m}[{ids}]"),
        Style::JsxBlock => format!("{{/* {m}[{ids}] */}}"),
        Style::Block => format!("/* {m}[{ids}] */"),
        Style::TemplateComment => format!("{{# {m}[{ids}] #}}"),
        Style::HtmlComment => format!("<!-- {m}[{ids}] -->"),
        Style::HashAbove => unreachable!("handled above"),
    };
    // Two spaces before a trailing comment (PEP 8), counting the blanks the line already ends
    // with; none on a blank line or before `{/* */}`.
    let trailing = line.len() - line.trim_end_matches([' ', '\t']).len();
    let gap = if line.trim().is_empty() || style == Style::JsxBlock { 0 } else { 2usize.saturating_sub(trailing) };
    Ok(Edit {
        at: end,
        insert: format!("{}{comment}", " ".repeat(gap)),
        line: l0,
        adds_line: false,
        checks: Vec::new(),
    })
}

/// The line ending after byte `end` (the end of a line's text), or the file's first one when
/// the line is the last and has none.
fn line_ending(text: &str, end: usize) -> &'static str {
    let first = |s: &str| {
        if s.starts_with("\r\n") {
            Some("\r\n")
        } else if s.starts_with('\n') {
            Some("\n")
        } else if s.starts_with('\r') {
            Some("\r")
        } else {
            None
        }
    };
    first(&text[end..]).or_else(|| text.find(['\n', '\r']).and_then(|i| first(&text[i..]))).unwrap_or("\n")
}

/// Whether the end of a line (byte `end`) is among a JSX element's children, where `//` would
/// be text. A line ending in JSX text cannot take a marker: `{/* */}` after it would change how
/// the text's line break renders.
fn in_jsx_children(file: &SourceFile, end: usize) -> Result<bool, &'static str> {
    let Some(tree) = file.tree() else { return Ok(false) };
    if end == 0 {
        return Ok(false);
    }
    let root = tree.root_node();
    let last = root.descendant_for_byte_range(end - 1, end);
    let mut n = last;
    while let Some(node) = n {
        if node.kind() == "jsx_text" {
            return Err("the line ends in JSX text");
        }
        n = node.parent();
    }
    let next = (end + 1).min(file.text.len());
    Ok(root
        .descendant_for_byte_range(end - 1, next)
        .is_some_and(|n| matches!(n.kind(), "jsx_element" | "jsx_fragment" | "jsx_text")))
}

/// Whether the end of a line (byte `end`) is inside a string that goes on after it (a
/// triple-quoted string, a template literal), in the languages preflight parses.
fn in_multiline_string(file: &SourceFile, end: usize) -> bool {
    let Some(tree) = file.tree() else { return false };
    if end == 0 {
        return false;
    }
    let mut n = tree.root_node().descendant_for_byte_range(end - 1, end);
    while let Some(node) = n {
        if matches!(node.kind(), "string" | "template_string") && node.end_byte() > end {
            return true;
        }
        n = node.parent();
    }
    false
}

/// For YAML, TOML and requirements files: a line whose end is inside a multi-line value (a
/// YAML block scalar, an unclosed quote, a TOML multi-line string) cannot hold a comment.
fn other_hash_line_ok(file: &SourceFile, text: &str, l0: usize) -> Result<(), &'static str> {
    let line = file.line_text(l0);
    let before = &text[..file.lines().line_start(l0) + line.len()];
    if before.matches("\"\"\"").count() % 2 == 1 || before.matches("'''").count() % 2 == 1 {
        return Err("inside a multi-line string");
    }
    if line.trim_end().ends_with('\\') {
        return Err("the line continues on the next one");
    }
    let unbalanced = |q: char| {
        let code = line.split(" #").next().unwrap_or(line);
        code.chars().filter(|&c| c == q).count() % 2 == 1
    };
    if unbalanced('"') || unbalanced('\'') {
        return Err("inside a quoted value that may continue on the next line");
    }
    let indent = |s: &str| s.len() - s.trim_start_matches([' ', '\t']).len();
    let mut min = indent(line);
    let block_header = |s: &str| {
        let code = s.split(" #").next().unwrap_or(s).trim_end();
        let tail = code.trim_end_matches(|c: char| c.is_ascii_digit() || c == '+' || c == '-');
        tail.ends_with('|') || tail.ends_with('>')
    };
    for k in (0..l0).rev() {
        if min == 0 {
            break;
        }
        let above = file.line_text(k);
        if above.trim().is_empty() {
            continue;
        }
        if indent(above) < min {
            if block_header(above) {
                return Err("inside a YAML block scalar");
            }
            min = indent(above);
        }
    }
    Ok(())
}

/// Whether `before` (a template or HTML page up to a line's end) ends where a comment would be
/// output as written or change what is there: in a template, a `{% verbatim %}`, `{% raw %}` or
/// `{% comment %}` block; in plain HTML, a `<script>` or `<style>` element or an HTML comment.
fn inside_raw_block(before: &str, style: Style) -> bool {
    let lower = before.to_ascii_lowercase();
    let open_after_close =
        |open: &str, close: &str| lower.rfind(open).is_some_and(|o| lower.rfind(close).is_none_or(|c| c < o));
    if style == Style::TemplateComment {
        // The template engine removes `{# #}` wherever it is, a `<script>` included, except in
        // a block it outputs as written.
        return open_after_close("{% verbatim", "{% endverbatim")
            || open_after_close("{% raw", "{% endraw")
            || open_after_close("{% comment", "{% endcomment");
    }
    open_after_close("<script", "</script") || open_after_close("<style", "</style") || open_after_close("<!--", "-->")
}

/// Whether a style sheet's `before` ends inside a `/* */` comment (strings skipped, and with
/// `line_comments`, SCSS/LESS `//` comments).
fn css_in_block_comment(before: &str, line_comments: bool) -> bool {
    let b = before.as_bytes();
    let (mut i, mut block, mut quote, mut line) = (0, false, None::<u8>, false);
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if block {
            if c == b'*' && next == Some(b'/') {
                block = false;
                i += 1;
            }
        } else if line {
            line = c != b'\n';
        } else if let Some(q) = quote {
            if c == b'\\' {
                i += 1;
            } else if c == q || c == b'\n' {
                quote = None;
            }
        } else if c == b'/' && next == Some(b'*') {
            block = true;
            i += 1;
        } else if line_comments && c == b'/' && next == Some(b'/') {
            line = true;
        } else if c == b'"' || c == b'\'' {
            quote = Some(c);
        }
        i += 1;
    }
    block
}

fn apply(bom: &[u8], text: &str, edits: &[Edit]) -> Vec<u8> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.at, e.adds_line));
    let mut out = Vec::with_capacity(bom.len() + text.len() + edits.len() * 48);
    out.extend_from_slice(bom);
    let mut pos = 0;
    for e in sorted {
        out.extend_from_slice(&text.as_bytes()[pos..e.at]);
        out.extend_from_slice(e.insert.as_bytes());
        pos = e.at;
    }
    out.extend_from_slice(&text.as_bytes()[pos..]);
    out
}

/// Whether the file with `edits` applied parses as well as before and every edit's findings
/// are suppressed by a marker preflight honours (in a comment, for the languages it parses).
fn verify(rel: &str, bom: &[u8], text: &str, edits: &[Edit], has_tree: bool) -> bool {
    if edits.is_empty() {
        return true;
    }
    let bytes = apply(bom, text, edits);
    let Ok(new_text) = std::str::from_utf8(&bytes[bom.len()..]) else { return false };
    let class = crate::classify::classify(rel, &bytes);
    let file = SourceFile::new(rel.into(), rel.into(), class, new_text.to_string());
    if has_tree && file.tree().is_none_or(|t| t.root_node().has_error()) {
        return false;
    }
    let set = suppress::Set::of(&file);
    edits.iter().flat_map(|e| &e.checks).all(|&(l0, r)| {
        // The flagged line moved down by the comment lines inserted at or above it.
        let shift = edits.iter().filter(|o| o.adds_line && o.line <= l0).count();
        let by = set.own_markers_for(r, l0 + shift + 1);
        !by.is_empty() && by.iter().all(|&k| !has_tree || suppress::in_comment(&file, set.own[k].offset))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rel: &str, text: &str, wanted: &[(usize, &'static str)]) -> (String, Vec<(usize, &'static str)>) {
        let mut w: BTreeMap<usize, BTreeSet<&'static str>> = BTreeMap::new();
        for &(l, r) in wanted {
            w.entry(l).or_default().insert(r);
        }
        let p = plan(rel, text.as_bytes(), &w);
        (String::from_utf8(p.bytes).unwrap(), p.left.iter().map(|l| (l.line, l.rule)).collect())
    }

    #[test]
    fn python_markers_are_appended_and_merged() {
        let src = "A = 1\nB = 2   \nC = 3  # preflight: ignore[todo-fixme] why\nD = 4  # preflight: ignore\n";
        let (out, left) = run(
            "app/x.py",
            src,
            &[(1, "secret-hardcoded"), (1, "sql-injection"), (2, "todo-fixme"), (3, "console-log"), (4, "todo-fixme")],
        );
        assert_eq!(
            out,
            "A = 1  # preflight: ignore[secret-hardcoded, sql-injection]\n\
             B = 2   # preflight: ignore[todo-fixme]\n\
             C = 3  # preflight: ignore[todo-fixme, console-log] why\n\
             D = 4  # preflight: ignore[todo-fixme]\n"
        );
        assert!(left.is_empty());
    }

    #[test]
    fn a_line_inside_a_triple_quoted_string_is_left() {
        let src = "X = \"\"\"\nTODO: one\n\"\"\"\nY = 1  # TODO two\n";
        let (out, left) = run("app/x.py", src, &[(2, "todo-fixme"), (4, "todo-fixme")]);
        assert_eq!(out, "X = \"\"\"\nTODO: one\n\"\"\"\nY = 1  # TODO two  # preflight: ignore[todo-fixme]\n");
        assert_eq!(left, vec![(2, "todo-fixme")]);
    }

    #[test]
    fn a_first_line_of_a_multi_line_string_gets_the_marker_above() {
        let src = "def f(c, q):\n    c.execute(\n        f\"\"\"\n        SELECT {q}\n        \"\"\"\n    )\n";
        let (out, left) = run("app/x.py", src, &[(2, "todo-fixme"), (3, "sql-injection")]);
        assert_eq!(
            out,
            "def f(c, q):\n    c.execute(  # preflight: ignore[sql-injection, todo-fixme]\n        f\"\"\"\n        SELECT {q}\n        \"\"\"\n    )\n"
        );
        assert!(left.is_empty());
    }

    #[test]
    fn crlf_bom_and_dotenv_lines_above() {
        let (out, left) = run("app/x.py", "\u{feff}A = 1\r\nB = 2\r\n", &[(2, "secret-hardcoded")]);
        assert_eq!(out, "\u{feff}A = 1\r\nB = 2  # preflight: ignore[secret-hardcoded]\r\n");
        assert!(left.is_empty());
        let (out, _) = run(".env", "A=1\r\n  B=2\r\n", &[(1, "env-file-committed"), (2, "secret-hardcoded")]);
        assert_eq!(
            out,
            "# preflight: ignore[env-file-committed]\r\nA=1\r\n  # preflight: ignore[secret-hardcoded]\r\n  B=2\r\n"
        );
    }

    #[test]
    fn jsx_children_get_a_block_comment() {
        let src =
            "export const A = () => (\n  <div>\n    {console.log(1)}\n    text TODO\n    more TODO\n  </div>\n);\n\
                   console.log(2);\n";
        let wanted = [(3, "console-log"), (4, "todo-fixme"), (5, "todo-fixme"), (8, "console-log")];
        let (out, left) = run("web/src/a.jsx", src, &wanted);
        // Line 4 ends in JSX text: its marker goes on the line above, which covers the next;
        // line 5's line above ends in JSX text too, so it is left.
        assert_eq!(
            out,
            "export const A = () => (\n  <div>\n    {console.log(1)}{/* preflight: ignore[console-log, todo-fixme] */}\n    \
             text TODO\n    more TODO\n  </div>\n);\nconsole.log(2);  // preflight: ignore[console-log]\n"
        );
        assert_eq!(left, vec![(5, "todo-fixme")]);
    }

    #[test]
    fn yaml_block_scalars_templates_and_json() {
        // A block scalar's lines cannot hold a comment; its header line can, for the first one.
        let src = "a:\n  run: |\n    echo $TOKEN\n    echo $B\n  key: abc\n";
        let (out, left) =
            run("ci.yml", src, &[(3, "secret-hardcoded"), (4, "secret-hardcoded"), (5, "secret-hardcoded")]);
        assert_eq!(
            out,
            "a:\n  run: |  # preflight: ignore[secret-hardcoded]\n    echo $TOKEN\n    echo $B\n  \
             key: abc  # preflight: ignore[secret-hardcoded]\n"
        );
        assert_eq!(left, vec![(4, "secret-hardcoded")]);
        let (out, _) = run("t/a.html", "{% block x %}\n{{ v|safe }}\n", &[(2, "xss-unsafe-html")]);
        assert_eq!(out, "{% block x %}\n{{ v|safe }}  {# preflight: ignore[xss-unsafe-html] #}\n");
        // In a template's <script> the engine removes the comment; in a verbatim block it would not.
        let src = "<script>\nvar d = {{ d|safe }};\n</script>\n{% verbatim %}\n{{ x|safe }}\n{% endverbatim %}\n";
        let (out, left) = run("t/b.html", src, &[(2, "xss-unsafe-html"), (5, "xss-unsafe-html")]);
        assert!(out.contains("var d = {{ d|safe }};  {# preflight: ignore[xss-unsafe-html] #}\n"), "{out}");
        assert_eq!(left, vec![(5, "xss-unsafe-html")]);
        // Plain HTML: an HTML comment, but not inside a <script>.
        let (out, left) =
            run("p/i.html", "<p>TODO</p>\n<script>\n// TODO\n</script>\n", &[(1, "todo-fixme"), (3, "todo-fixme")]);
        assert_eq!(out, "<p>TODO</p>  <!-- preflight: ignore[todo-fixme] -->\n<script>\n// TODO\n</script>\n");
        assert_eq!(left, vec![(3, "todo-fixme")]);
        let (out, left) = run("a.json", "{\"k\": 1}\n", &[(1, "secret-hardcoded")]);
        assert_eq!(out, "{\"k\": 1}\n");
        assert_eq!(left, vec![(1, "secret-hardcoded")]);
    }

    #[test]
    fn style_sheets() {
        let src = "//** a /* b\n// TODO one\n/* c\nTODO two\n*/\n";
        let (out, left) = run("s/v.less", src, &[(2, "todo-fixme"), (4, "todo-fixme")]);
        assert_eq!(out, "//** a /* b\n// TODO one  // preflight: ignore[todo-fixme]\n/* c\nTODO two\n*/\n");
        assert_eq!(left, vec![(4, "todo-fixme")]);
        let (out, _) = run("s/a.css", "a { b: c; } /* TODO */\n", &[(1, "todo-fixme")]);
        assert_eq!(out, "a { b: c; } /* TODO */  /* preflight: ignore[todo-fixme] */\n");
    }

    #[test]
    fn shebangs_continuations_and_unparsable_files_are_left() {
        let (_, left) = run("bin/x.py", "#!/usr/bin/env python\nx = 1\n", &[(1, "todo-fixme")]);
        assert_eq!(left, vec![(1, "todo-fixme")]);
        let (out, left) = run("x.py", "x = 1 + \\\n  2\n", &[(1, "todo-fixme")]);
        assert_eq!(out, "x = 1 + \\\n  2\n");
        assert_eq!(left, vec![(1, "todo-fixme")]);
        let (_, left) = run("x.py", "def (:\n", &[(1, "todo-fixme")]);
        assert_eq!(left, vec![(1, "todo-fixme")]);
    }
}
