//! Tree-sitter parsing: one `Parser` per worker thread and language, and a per-file time budget
//! so that one pathological file cannot stall a run.
//!
//! JavaScript and JSX go through the TSX grammar (a superset for everything but legacy `<T>x`
//! casts, which only exist in `.ts`); `.ts` uses the TypeScript grammar.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use tree_sitter::{Language, ParseOptions, Parser, Tree};

use crate::classify::Lang;

/// Wall-clock budget for one parse.
pub const PARSE_BUDGET: Duration = Duration::from_secs(3);

/// Parses so far and their bytes, for `PREFLIGHT_TIMINGS`.
pub static PARSES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
pub static PARSED_BYTES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
/// Nanoseconds spent parsing (summed over threads), for `PREFLIGHT_TIMINGS`.
pub static PARSE_NANOS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Grammar {
    Python,
    TypeScript,
    Tsx,
}

fn grammar(lang: Lang) -> Option<Grammar> {
    match lang {
        Lang::Python => Some(Grammar::Python),
        Lang::TypeScript => Some(Grammar::TypeScript),
        Lang::JavaScript | Lang::Jsx | Lang::Tsx => Some(Grammar::Tsx),
        _ => None,
    }
}

pub fn language(lang: Lang) -> Option<Language> {
    Some(match grammar(lang)? {
        Grammar::Python => tree_sitter_python::LANGUAGE.into(),
        Grammar::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
        Grammar::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
    })
}

thread_local! {
    static PARSERS: RefCell<Vec<(Lang, Parser)>> = const { RefCell::new(Vec::new()) };
}

/// Parses `text`. The error string says why there is no tree (no grammar, budget exceeded).
pub fn parse(lang: Lang, text: &str) -> Result<Tree, String> {
    let Some(g) = grammar(lang) else {
        return Err(format!("no grammar for {}", lang.name()));
    };
    // Files past u32 offsets cannot be parsed by tree-sitter; the walker's size cap keeps us far away.
    if text.len() >= u32::MAX as usize {
        return Err("too large to parse".into());
    }
    PARSES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    PARSED_BYTES.fetch_add(text.len(), std::sync::atomic::Ordering::Relaxed);
    PARSERS.with(|cell| {
        let mut parsers = cell.borrow_mut();
        let key = match g {
            Grammar::Python => Lang::Python,
            Grammar::TypeScript => Lang::TypeScript,
            Grammar::Tsx => Lang::Tsx,
        };
        let idx = match parsers.iter().position(|(l, _)| *l == key) {
            Some(i) => i,
            None => {
                let mut p = Parser::new();
                p.set_language(&language(lang).expect("grammar")).map_err(|e| e.to_string())?;
                parsers.push((key, p));
                parsers.len() - 1
            }
        };
        let parser = &mut parsers[idx].1;
        let bytes = text.as_bytes();
        let start = Instant::now();
        let mut over_budget = |_: &tree_sitter::ParseState| start.elapsed() > PARSE_BUDGET;
        let options = ParseOptions::new().progress_callback(&mut over_budget);
        let tree = parser.parse_with_options(
            &mut |offset, _| {
                if offset < bytes.len() {
                    &bytes[offset..]
                } else {
                    &[]
                }
            },
            None,
            Some(options),
        );
        PARSE_NANOS.fetch_add(start.elapsed().as_nanos() as u64, std::sync::atomic::Ordering::Relaxed);
        match tree {
            Some(t) => Ok(t),
            None => {
                parser.reset();
                Err(format!("parse abandoned after {} s", PARSE_BUDGET.as_secs()))
            }
        }
    })
}

/// Visits every node of a tree in document order, iteratively (deeply nested input cannot
/// exhaust the stack).
pub fn for_each_node<'t>(root: tree_sitter::Node<'t>, mut f: impl FnMut(tree_sitter::Node<'t>)) {
    let mut cursor = root.walk();
    loop {
        // Each visit is a step of the running rule's work budget; a rule over it stops here
        // (its findings for the file are dropped by the engine).
        if !crate::budget::spend(1) {
            return;
        }
        f(cursor.node());
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return;
            }
        }
    }
}
