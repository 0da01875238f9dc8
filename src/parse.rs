//! Tree-sitter parsing: one `Parser` per worker thread and language, and a per-file work budget
//! so that one pathological file cannot stall a run.
//!
//! The budget counts work, not time: tree-sitter calls the progress callback once every 100
//! parse operations, and a parse may make `parse_budget(len)` calls. The same file with the same
//! grammar is abandoned or not on every machine, however loaded (a wall-clock budget abandoned
//! parses on a busy CI runner, and findings vanished with them).
//!
//! The parser sees the text with every lone CR (a line break for CPython, old Mac files) turned
//! into LF, same length, so byte offsets stay those of the text: `# comment\rDEBUG = True` is
//! two lines for the parser as for Python.
//!
//! JavaScript and JSX go through the TSX grammar (a superset for everything but legacy `<T>x`
//! casts, which only exist in `.ts`); `.ts` uses the TypeScript grammar.

use std::borrow::Cow;
use std::cell::Cell;
use std::cell::RefCell;
use std::time::{Duration, Instant};

use tree_sitter::{Language, ParseOptions, Parser, Tree};

use crate::classify::Lang;

/// Units of parse work every parse may spend, whatever its size. A unit is a progress callback
/// (tree-sitter makes one every 100 parse operations) or a 1 KiB chunk of text handed to the
/// lexer (a token lexed again and again during error recovery reads chunks again).
pub const PARSE_BUDGET_BASE: u64 = 10_000;
/// Units more per KiB of text. Real code needs 2 to 14 per KiB (4,163 parses of five real
/// projects); random token soup 6 to 15, except TSX soup, over 2,000.
pub const PARSE_BUDGET_PER_KIB: u64 = 50;
/// Most units any parse may spend (a 5 MiB file of real code needs about 60,000).
pub const PARSE_BUDGET_MAX: u64 = 250_000;
/// Wall-clock backstop, for a parse whose operations would each be far slower than any seen:
/// never reached by a parse within the work budget unless the machine is some 8 times slower
/// than the development machine at its busiest (the slowest units measured take 150 µs).
pub const PARSE_BACKSTOP: Duration = Duration::from_secs(300);

/// The units of work a parse of `len` bytes may spend before it is abandoned.
pub fn parse_budget(len: usize) -> u64 {
    PARSE_BUDGET_BASE.saturating_add(PARSE_BUDGET_PER_KIB.saturating_mul(len as u64 / 1024)).min(PARSE_BUDGET_MAX)
}

/// Bytes handed to the parser at a time (see `PARSE_BUDGET_BASE`).
const CHUNK: usize = 1024;

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
    parse_observed(lang, text, parse_budget(text.len()), &mut || {})
}

/// `parse`, calling `tick` at each progress callback (the tests slow the parse down with it,
/// as a loaded machine would).
fn parse_observed(lang: Lang, text: &str, budget: u64, tick: &mut dyn FnMut()) -> Result<Tree, String> {
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
        let bytes = lone_cr_as_lf(text);
        let bytes: &[u8] = &bytes;
        let start = Instant::now();
        let work = Cell::new(0u64);
        let mut over_budget = |_: &tree_sitter::ParseState| {
            tick();
            work.set(work.get() + 1);
            work.get() > budget || start.elapsed() > PARSE_BACKSTOP
        };
        let options = ParseOptions::new().progress_callback(&mut over_budget);
        let tree = parser.parse_with_options(
            &mut |offset, _| {
                work.set(work.get() + 1);
                if offset < bytes.len() {
                    &bytes[offset..(offset + CHUNK).min(bytes.len())]
                } else {
                    &[]
                }
            },
            None,
            Some(options),
        );
        PARSE_NANOS.fetch_add(start.elapsed().as_nanos() as u64, std::sync::atomic::Ordering::Relaxed);
        if std::env::var_os("PFCALLS").is_some() {
            eprintln!("pcalls {} {} {}", work.get(), text.len(), start.elapsed().as_micros());
        }
        match tree {
            Some(t) => Ok(t),
            None => {
                parser.reset();
                Err(if work.get() > budget {
                    format!("parse abandoned: over its work budget ({budget} units for {} bytes)", text.len())
                } else {
                    format!("parse abandoned after {} s (wall-clock backstop)", PARSE_BACKSTOP.as_secs())
                })
            }
        }
    })
}

/// The text with each lone CR (not followed by LF) turned into LF; borrowed when it has none.
fn lone_cr_as_lf(text: &str) -> Cow<'_, [u8]> {
    let b = text.as_bytes();
    let lone = |i: usize| b[i] == b'\r' && b.get(i + 1) != Some(&b'\n');
    if !text.contains('\r') || !(0..b.len()).any(lone) {
        return Cow::Borrowed(b);
    }
    let mut out = b.to_vec();
    for (i, c) in out.iter_mut().enumerate() {
        if lone(i) {
            *c = b'\n';
        }
    }
    Cow::Owned(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_work_not_time() {
        let mut py = String::new();
        for i in 0..400 {
            py.push_str(&format!("def f{i}(a, b):\n    return [x * {i} for x in a if x > b]\n\n"));
        }
        let budget = parse_budget(py.len());
        let mut units = 0;
        let t = parse_observed(Lang::Python, &py, budget, &mut || units += 1).expect("parses");
        assert!(!t.root_node().has_error());
        // One unit less and the parse is abandoned, on every run.
        let less = |tick: &mut dyn FnMut()| parse_observed(Lang::Python, &py, units - 1, tick).err();
        let why = format!("parse abandoned: over its work budget ({} units for {} bytes)", units - 1, py.len());
        assert_eq!(less(&mut || {}).as_ref(), Some(&why));
        // A parse that takes seconds on a slowed-down machine (each unit delayed, as on a loaded
        // CI runner) gives the same tree, and the same refusal: the old 3 s wall-clock budget
        // abandoned it.
        let started = Instant::now();
        let delay = Duration::from_millis(3500) / units as u32;
        let slow = parse_observed(Lang::Python, &py, budget, &mut || std::thread::sleep(delay));
        assert!(started.elapsed() > Duration::from_secs(3), "{:?}", started.elapsed());
        assert_eq!(slow.expect("parses on a slow machine").root_node().to_sexp(), t.root_node().to_sexp());
        assert_eq!(less(&mut || std::thread::sleep(Duration::from_micros(200))), Some(why));
    }

    #[test]
    fn a_lone_cr_ends_a_line_for_the_parser() {
        assert_eq!(&*lone_cr_as_lf("a\rb\r\nc\r"), b"a\nb\r\nc\n");
        assert!(matches!(lone_cr_as_lf("a\r\nb\n"), Cow::Borrowed(_)));
        let t = parse(Lang::Python, "# comment\rDEBUG = True\r").unwrap();
        let stmt = t.root_node().named_child(1).unwrap();
        assert_eq!((stmt.kind(), stmt.start_position().row, stmt.start_byte()), ("expression_statement", 1, 10));
    }
}
