//! Inline suppressions: `# preflight: ignore[rule-id, other-id] optional reason` (or `//`,
//! `/* */`, `{# #}`, `<!-- -->`) on the flagged line or the line above it.
//!
//! A marker counts only after a comment opener on its line, so the words inside a string do not
//! suppress anything. A marker without ids suppresses nothing; the `blanket-suppression` rule
//! reports it.
//!
//! A rule whose findings carry a check id (`django-deploy-check`: Django's `security.W004`, …)
//! is suppressed per check with `rule:check` (`ignore[django-deploy-check:security.W004]`),
//! so accepting one check does not hide the others on the same line; the bare rule id still
//! suppresses every check of the rule.

use crate::source::SourceFile;

pub(crate) const MARKER: &str = "preflight: ignore";

/// One suppression comment: its 0-based line, its ids (empty for a blanket marker) and the byte
/// offset of the marker.
#[derive(Debug, Clone)]
pub(crate) struct Suppression {
    pub line: usize,
    pub ids: Vec<String>,
    pub offset: usize,
}

const OPENERS: &[&str] = &["#", "//", "/*", "{#", "<!--", "{/*"];

/// The per-check suppression ids (`rule:check`): every check id a rule reports as its findings'
/// key. A marker naming one of these is a known id (not a `blanket-suppression`).
pub(crate) const CHECK_IDS: &[&str] = &[
    "django-deploy-check:security.W001",
    "django-deploy-check:security.W002",
    "django-deploy-check:security.W004",
    "django-deploy-check:security.W005",
    "django-deploy-check:security.W006",
    "django-deploy-check:security.W008",
    "django-deploy-check:security.W010",
    "django-deploy-check:security.W011",
    "django-deploy-check:security.W012",
    "django-deploy-check:security.W013",
    "django-deploy-check:security.W014",
    "django-deploy-check:security.W015",
    "django-deploy-check:security.W016",
    "django-deploy-check:security.W019",
    "django-deploy-check:security.W020",
    "django-deploy-check:security.W021",
    "django-deploy-check:security.W022",
    "django-deploy-check:security.E023",
    "django-deploy-check:security.E024",
];

/// The id a marker names to suppress `f` alone: `rule:check` when the finding carries a check id
/// listed in `CHECK_IDS`, else the rule id.
pub(crate) fn id_of(f: &crate::finding::Finding) -> &'static str {
    let Some(check) = f.key.as_deref().filter(|k| !k.is_empty()) else { return f.rule.id };
    CHECK_IDS
        .iter()
        .find(|c| c.strip_prefix(f.rule.id).and_then(|r| r.strip_prefix(':')) == Some(check))
        .copied()
        .unwrap_or(f.rule.id)
}

/// Whether a marker's `named` id covers a finding whose suppression id is `id` (see `id_of`): the
/// same id, or the bare rule of a `rule:check` id.
pub(crate) fn covers(named: &str, id: &str) -> bool {
    named == id || id.split_once(':').is_some_and(|(rule, _)| named == rule)
}

/// Whether a marker id names something preflight knows: a rule or a rule's check.
pub(crate) fn is_known_id(id: &str) -> bool {
    crate::catalog::meta(id).is_some() || CHECK_IDS.contains(&id)
}

/// The rule part of a suppression id (`django-deploy-check` of `django-deploy-check:security.W004`).
fn rule_of(id: &str) -> &str {
    id.split_once(':').map_or(id, |(rule, _)| rule)
}

pub(crate) fn parse(file: &SourceFile) -> Vec<Suppression> {
    let mut out = Vec::new();
    if !file.text.contains(MARKER) {
        return out;
    }
    for line in 0..file.lines().len() {
        let text = file.line_text(line);
        let Some(pos) = text.find(MARKER) else {
            continue;
        };
        let before = text[..pos].trim_end();
        // The marker starts its comment (`x = 1  # preflight: ignore[...]`, also after another
        // tool's directive: `# noqa: E501  # preflight: ignore[...]`), so prose that quotes the
        // marker inside a comment does not count.
        if !OPENERS.iter().any(|o| before.ends_with(o)) || !opener_outside_quotes(before) {
            continue;
        }
        let after = &text[pos + MARKER.len()..];
        let ids = match after.strip_prefix('[').and_then(|a| a.split_once(']')) {
            Some((list, _)) => list.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            None => Vec::new(),
        };
        out.push(Suppression { line, ids, offset: file.lines().line_start(line) + pos });
    }
    out
}

/// True when `before` holds a comment opener that is not inside a quoted string.
fn opener_outside_quotes(before: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in before.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match quote {
            Some(q) => {
                if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => {
                if matches!(c, '"' | '\'' | '`') {
                    quote = Some(c);
                } else if OPENERS.iter().any(|o| before[i..].starts_with(o)) {
                    return true;
                }
            }
        }
    }
    false
}

/// Whether a finding with suppression id `id` (a rule id, or `rule:check`: see `id_of`) on
/// 1-based `line` is suppressed. `sups` is in line order (as `parse` returns it), so only the
/// markers on the line and the line above are looked at: a file with many markers and many
/// findings costs a binary search per finding, not a scan.
pub(crate) fn is_suppressed(sups: &[Suppression], id: &str, line: usize) -> bool {
    let l0 = line.saturating_sub(1);
    let from = sups.partition_point(|s| s.line + 1 < l0);
    sups[from..]
        .iter()
        .take_while(|s| s.line <= l0)
        .any(|s| (s.line == l0 || s.line + 1 == l0) && s.ids.iter().any(|i| covers(i, id)))
}

/// Where the file has a syntax tree, whether `offset` sits in a comment node (not a docstring
/// or a string that happens to contain `# preflight: ignore`).
pub(crate) fn in_comment(file: &SourceFile, offset: usize) -> bool {
    let lang = file.class.lang;
    if lang != crate::classify::Lang::Python && !lang.is_js_family() {
        return true;
    }
    let Some(tree) = file.tree() else { return true };
    tree.root_node()
        .descendant_for_byte_range(offset, offset + 1)
        .is_some_and(|n| n.kind() == "comment" || n.kind().ends_with("_comment"))
}

/// Another tool's suppression code and the preflight rule it stands for.
pub(crate) struct PeerCode {
    /// `eslint`, `noqa` (Ruff, flake8) or `nosec` (Bandit).
    pub tool: &'static str,
    /// The code as the tool writes it (`no-console`, `S105`, `B608`, a Bandit test name).
    pub code: &'static str,
    pub rule: &'static str,
}

/// The peers' codes that preflight honours, each for the one rule that finds the same thing.
/// A code that is not here (`T201` print, `S324` weak hash, `E501`) suppresses nothing in
/// preflight, and so does a marker naming no code (bare `# noqa`, `# nosec`,
/// `// eslint-disable-next-line`): a blanket peer marker written for another tool must not
/// silence preflight's security rules, as preflight's own blanket marker silences nothing.
/// `django-secret-key-hardcoded` has no peer code: a SECRET_KEY in production settings is
/// suppressed only with preflight's own marker. detect-secrets' `pragma: allowlist secret` and
/// gitleaks' `gitleaks:allow` stand for `secret-hardcoded` (see `peer_markers`).
pub(crate) const PEER_CODES: &[PeerCode] = &[
    PeerCode { tool: "eslint", code: "no-console", rule: "console-log" },
    PeerCode { tool: "eslint", code: "no-debugger", rule: "debugger-statement" },
    PeerCode { tool: "noqa", code: "T100", rule: "debugger-statement" },
    PeerCode { tool: "noqa", code: "S105", rule: "secret-hardcoded" },
    PeerCode { tool: "noqa", code: "S106", rule: "secret-hardcoded" },
    PeerCode { tool: "noqa", code: "S107", rule: "secret-hardcoded" },
    PeerCode { tool: "noqa", code: "S608", rule: "sql-injection" },
    PeerCode { tool: "noqa", code: "S308", rule: "xss-unsafe-html" },
    PeerCode { tool: "noqa", code: "S703", rule: "xss-unsafe-html" },
    PeerCode { tool: "nosec", code: "B105", rule: "secret-hardcoded" },
    PeerCode { tool: "nosec", code: "B106", rule: "secret-hardcoded" },
    PeerCode { tool: "nosec", code: "B107", rule: "secret-hardcoded" },
    PeerCode { tool: "nosec", code: "hardcoded_password_string", rule: "secret-hardcoded" },
    PeerCode { tool: "nosec", code: "hardcoded_password_funcarg", rule: "secret-hardcoded" },
    PeerCode { tool: "nosec", code: "hardcoded_password_default", rule: "secret-hardcoded" },
    PeerCode { tool: "nosec", code: "B608", rule: "sql-injection" },
    PeerCode { tool: "nosec", code: "hardcoded_sql_expressions", rule: "sql-injection" },
    PeerCode { tool: "nosec", code: "B308", rule: "xss-unsafe-html" },
    PeerCode { tool: "nosec", code: "mark_safe", rule: "xss-unsafe-html" },
    PeerCode { tool: "nosec", code: "B703", rule: "xss-unsafe-html" },
    PeerCode { tool: "nosec", code: "django_mark_safe", rule: "xss-unsafe-html" },
];

fn peer_rule(tool: &str, code: &str) -> Option<&'static str> {
    PEER_CODES.iter().find(|p| p.tool == tool && p.code.eq_ignore_ascii_case(code)).map(|p| p.rule)
}

/// Which lines a peer marker covers, relative to its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Its line and the next, like preflight's own marker.
    SameOrNext,
    /// `eslint-disable-line`.
    Same,
    /// `eslint-disable-next-line`, detect-secrets' `allowlist nextline`.
    Next,
}

#[derive(Debug, Clone)]
struct PeerMarker {
    line: usize,
    rule: &'static str,
    scope: Scope,
}

/// Every suppression of a file: preflight's markers, the peers' markers mapped to rules, and
/// the regions of ESLint's `/* eslint-disable no-console */ ... /* eslint-enable */` (0-based
/// lines, inclusive; to the end of the file without an `eslint-enable`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Set {
    pub own: Vec<Suppression>,
    peers: Vec<PeerMarker>,
    regions: Vec<(usize, usize, &'static str)>,
}

impl Set {
    pub(crate) fn of(file: &SourceFile) -> Set {
        let (peers, regions) = peer_markers(file);
        Set { own: parse(file), peers, regions }
    }

    /// The indexes in `own` of the preflight markers that suppress a finding with suppression
    /// id `id` (a rule id or `rule:check`) on 1-based `line` (a marker on the line and one on the
    /// line above may both name it).
    pub(crate) fn own_markers_for(&self, id: &str, line: usize) -> Vec<usize> {
        let l0 = line.saturating_sub(1);
        let from = self.own.partition_point(|s| s.line + 1 < l0);
        (from..self.own.len())
            .take_while(|&k| self.own[k].line <= l0)
            .filter(|&k| self.own[k].ids.iter().any(|i| covers(i, id)))
            .collect()
    }

    /// Whether a finding with suppression id `id` on 1-based `line` is suppressed by any marker
    /// (the peers' markers name rules, never checks).
    pub(crate) fn suppresses(&self, id: &str, line: usize) -> bool {
        if is_suppressed(&self.own, id, line) {
            return true;
        }
        let rule = rule_of(id);
        let l0 = line.saturating_sub(1);
        self.peers.iter().any(|p| {
            p.rule == rule
                && match p.scope {
                    Scope::SameOrNext => p.line == l0 || p.line + 1 == l0,
                    Scope::Same => p.line == l0,
                    Scope::Next => p.line + 1 == l0,
                }
        }) || self.regions.iter().any(|&(from, to, r)| r == rule && from <= l0 && l0 <= to)
    }
}

/// Words of a directive's list: codes separated by commas or spaces, up to a ` -- reason`
/// (ESLint), another comment or the end of a block comment.
fn codes(rest: &str) -> Vec<&str> {
    let end = ["--", "#", "*/", "//"].iter().filter_map(|s| rest.find(s)).min().unwrap_or(rest.len());
    rest[..end].split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()).collect()
}

/// Whether the directive at `pos` starts a comment (only blanks after a comment opener that is
/// not inside a string).
fn starts_comment(text: &str, pos: usize) -> bool {
    let before = text[..pos].trim_end();
    OPENERS.iter().any(|o| before.ends_with(o)) && opener_outside_quotes(before)
}

const PEER_WORDS: &[&str] = &["eslint-", "noqa", "nosec", "allowlist", "gitleaks:allow"];

fn peer_markers(file: &SourceFile) -> (Vec<PeerMarker>, Vec<(usize, usize, &'static str)>) {
    let mut peers = Vec::new();
    let mut regions = Vec::new();
    let lower_all = file.text.to_ascii_lowercase();
    if !PEER_WORDS.iter().any(|w| lower_all.contains(w)) {
        return (peers, regions);
    }
    let mut open: Vec<(&'static str, usize)> = Vec::new();
    let n = file.lines().len();
    for line in 0..n {
        let text = file.line_text(line);
        let lower = text.to_ascii_lowercase();
        if !PEER_WORDS.iter().any(|w| lower.contains(w)) {
            continue;
        }
        // A peer marker after code covers its own line only (`x()  # noqa: T100` says nothing
        // about the next line); one on a line of its own covers the line below as well.
        let trailing = OPENERS.iter().filter_map(|o| text.find(o)).min().is_some_and(|p| !text[..p].trim().is_empty());
        let mut push = |rule: &'static str, scope: Scope| {
            let scope = if trailing && scope == Scope::SameOrNext { Scope::Same } else { scope };
            peers.push(PeerMarker { line, rule, scope })
        };
        // ESLint: `eslint-disable-next-line a, b -- why`, `eslint-disable-line`, and the
        // `eslint-disable` / `eslint-enable` pair around a region.
        if let Some(pos) = lower.find("eslint-").filter(|&p| starts_comment(text, p)) {
            let rest = &text[pos..];
            let directives: [(&str, Option<Scope>); 4] = [
                ("eslint-disable-next-line", Some(Scope::Next)),
                ("eslint-disable-line", Some(Scope::Same)),
                ("eslint-disable", None),
                ("eslint-enable", None),
            ];
            for (word, scope) in directives {
                let Some(after) = rest.strip_prefix(word) else { continue };
                if after.starts_with(|c: char| c.is_alphanumeric() || c == '-') {
                    continue;
                }
                let rules: Vec<&'static str> = codes(after).iter().filter_map(|c| peer_rule("eslint", c)).collect();
                match (word, scope) {
                    (_, Some(scope)) => rules.into_iter().for_each(|r| push(r, scope)),
                    ("eslint-disable", None) => {
                        for r in rules {
                            if !open.iter().any(|(o, _)| *o == r) {
                                open.push((r, line));
                            }
                        }
                    }
                    _ => {
                        // `eslint-enable` without rules ends every region.
                        let all = codes(after).is_empty();
                        open.retain(|&(r, from)| {
                            let close = all || rules.contains(&r);
                            if close {
                                regions.push((from, line, r));
                            }
                            !close
                        });
                    }
                }
                break;
            }
        }
        // Ruff / flake8: `# noqa: T100, S105` (a bare `# noqa` names nothing), and Ruff's
        // file-level `# ruff: noqa: S105` for the whole file.
        if let Some(pos) = lower.find("noqa") {
            let before = lower[..pos].trim_end();
            let file_level = before.ends_with("# ruff:") && opener_outside_quotes(before);
            if (before.ends_with('#') && starts_comment(text, pos)) || file_level {
                if let Some(list) = text[pos + 4..].trim_start().strip_prefix(':') {
                    for r in codes(list).iter().filter_map(|c| peer_rule("noqa", c)) {
                        if file_level {
                            regions.push((0, usize::MAX, r));
                        } else {
                            push(r, Scope::SameOrNext);
                        }
                    }
                }
            }
        }
        // Bandit: `# nosec B105, B608` or `# nosec: B105` (a bare `# nosec` names nothing).
        if let Some(pos) =
            lower.find("nosec").filter(|&p| text[..p].trim_end().ends_with('#') && starts_comment(text, p))
        {
            let list = text[pos + 5..].trim_start();
            let list = list.strip_prefix(':').unwrap_or(list);
            codes(list).iter().filter_map(|c| peer_rule("nosec", c)).for_each(|r| push(r, Scope::SameOrNext));
        }
        // detect-secrets and gitleaks: anywhere in a comment.
        let in_comment = |p: usize| opener_outside_quotes(&text[..p]);
        if lower.find("pragma: allowlist secret").is_some_and(in_comment) {
            push("secret-hardcoded", Scope::SameOrNext);
        }
        if lower.find("pragma: allowlist nextline secret").is_some_and(in_comment) {
            push("secret-hardcoded", Scope::Next);
        }
        if lower.find("gitleaks:allow").is_some_and(in_comment) {
            push("secret-hardcoded", Scope::SameOrNext);
        }
    }
    regions.extend(open.into_iter().map(|(r, from)| (from, usize::MAX, r)));
    peers.sort_by_key(|p| p.line);
    (peers, regions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(name: &str, text: &str) -> Set {
        let class = crate::classify::classify(name, text.as_bytes());
        Set::of(&SourceFile::new(name.into(), name.into(), class, text.into()))
    }

    #[test]
    fn noqa_codes_any_case_and_spacing() {
        let s = set("a.py", "X = 1  # NOQA:s105,S608\nY = 2  #noqa : T100 S107\n");
        assert!(s.suppresses("secret-hardcoded", 1) && s.suppresses("sql-injection", 1));
        assert!(s.suppresses("debugger-statement", 2) && s.suppresses("secret-hardcoded", 2));
        // A trailing marker covers its own line only.
        assert!(!s.suppresses("sql-injection", 2));
    }

    #[test]
    fn ruff_file_level_noqa_covers_the_file() {
        let s = set("a.py", "# ruff: noqa: S105\nA = 1\n\n\nB = 2\n");
        assert!(s.suppresses("secret-hardcoded", 5));
        assert!(!s.suppresses("sql-injection", 5));
        // `# flake8: noqa` names nothing.
        assert!(!set("a.py", "# flake8: noqa\nA = 1\n").suppresses("secret-hardcoded", 2));
    }

    #[test]
    fn eslint_regions_end_per_rule() {
        let js = "/* eslint-disable no-console, no-debugger */\na();\n/* eslint-enable no-console */\nb();\n";
        let s = set("web/src/a.js", js);
        assert!(s.suppresses("console-log", 2) && s.suppresses("debugger-statement", 2));
        assert!(!s.suppresses("console-log", 4));
        assert!(s.suppresses("debugger-statement", 4));
        // `eslint-disable-line` is not the start of a region.
        let s = set("web/src/a.js", "a(); // eslint-disable-line no-console\nb();\n");
        assert!(s.suppresses("console-log", 1) && !s.suppresses("console-log", 2));
    }

    #[test]
    fn nosec_and_jsx_comments() {
        let s = set("a.py", "q = 1  # nosec: B608, B105\n");
        assert!(s.suppresses("sql-injection", 1) && s.suppresses("secret-hardcoded", 1));
        let s = set("web/src/a.jsx", "{/* eslint-disable-next-line no-console */}\n{console.log(1)}\n");
        assert!(s.suppresses("console-log", 2));
    }

    #[test]
    fn per_check_ids_cover_their_check_and_the_bare_rule_covers_all() {
        assert!(covers("django-deploy-check:security.W004", "django-deploy-check:security.W004"));
        assert!(covers("django-deploy-check", "django-deploy-check:security.W004"));
        assert!(!covers("django-deploy-check:security.W008", "django-deploy-check:security.W004"));
        assert!(!covers("django-deploy-check:security.W004", "django-deploy-check"));
        assert!(is_known_id("django-deploy-check:security.W004") && !is_known_id("django-deploy-check:security.W999"));
        let s = set("a.py", "X = 1  # preflight: ignore[django-deploy-check:security.W008]\n");
        assert!(s.suppresses("django-deploy-check:security.W008", 1));
        assert!(!s.suppresses("django-deploy-check:security.W004", 1));
    }
}
