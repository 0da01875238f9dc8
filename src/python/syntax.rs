//! Helpers over tree-sitter-python trees: literal decoding and dotted names. Every recursive
//! helper is depth-bounded, so deeply nested input cannot exhaust the stack.

use tree_sitter::Node;

pub(crate) const MAX_DEPTH: usize = 64;

pub(crate) fn text<'a>(node: Node<'_>, src: &'a str) -> &'a str {
    src.get(node.byte_range()).unwrap_or("")
}

/// The value of a plain string literal (no interpolation), escapes resolved for the common
/// cases. `None` for f-strings with interpolations.
pub(crate) fn string_value(node: Node<'_>, src: &str) -> Option<String> {
    match node.kind() {
        "string" => {
            let mut out = String::new();
            let mut raw = false;
            let mut cursor = node.walk();
            for child in node.children(&mut cursor) {
                match child.kind() {
                    "string_start" => raw = text(child, src).to_lowercase().contains('r'),
                    "string_content" => {
                        let t = text(child, src);
                        if raw {
                            out.push_str(t)
                        } else {
                            unescape(t, &mut out)
                        }
                    }
                    "escape_sequence" => unescape(text(child, src), &mut out),
                    "interpolation" => return None,
                    _ => {}
                }
            }
            Some(out)
        }
        "concatenated_string" => {
            let mut out = String::new();
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                out.push_str(&string_value(child, src)?);
            }
            Some(out)
        }
        _ => None,
    }
}

fn unescape(s: &str, out: &mut String) {
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some('\'') => out.push('\''),
            Some('"') => out.push('"'),
            Some('\n') => {}
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
}

/// `a.b.c` for an identifier/attribute chain, else `None`.
pub(crate) fn dotted(node: Node<'_>, src: &str) -> Option<String> {
    dotted_at(node, src, 0)
}

fn dotted_at(node: Node<'_>, src: &str, depth: usize) -> Option<String> {
    if depth > MAX_DEPTH {
        return None;
    }
    match node.kind() {
        "identifier" => Some(text(node, src).to_string()),
        "attribute" => {
            let obj = dotted_at(node.child_by_field_name("object")?, src, depth + 1)?;
            let attr = text(node.child_by_field_name("attribute")?, src);
            Some(format!("{obj}.{attr}"))
        }
        _ => None,
    }
}

/// Positional arguments and keyword arguments of a call node.
pub(crate) fn call_args<'t>(call: Node<'t>, src: &str) -> (Vec<Node<'t>>, Vec<(String, Node<'t>)>) {
    let mut pos = Vec::new();
    let mut kw = Vec::new();
    if let Some(args) = call.child_by_field_name("arguments") {
        let mut cursor = args.walk();
        for a in args.named_children(&mut cursor) {
            match a.kind() {
                "keyword_argument" => {
                    if let (Some(n), Some(v)) = (a.child_by_field_name("name"), a.child_by_field_name("value")) {
                        kw.push((text(n, src).to_string(), v));
                    }
                }
                "comment" => {}
                _ => pos.push(a),
            }
        }
    }
    (pos, kw)
}
