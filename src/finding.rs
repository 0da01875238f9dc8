//! Findings, their levels, their fingerprints and the redaction of what they show.
//!
//! A fingerprint identifies a finding across edits that do not touch it: it hashes the rule id,
//! the path and the whitespace-normalised text of the flagged line as the report shows it (with
//! its secrets already masked), plus the occurrence index among equal keys in the same file. Line
//! numbers are not in it, so a finding keeps its fingerprint when lines above it move; nothing
//! of a secret beyond what the report prints is in it, so it cannot be used to recover one.
//!
//! Every finding's message and snippet go through `redact_text` before a reporter sees them:
//! whatever rule made the finding, the secrets on the shown line are masked.

use crate::catalog::RuleMeta;
pub use crate::level::Level;

/// A per-file remark: a file skipped or only partly analysed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Note {
    pub path: String,
    pub message: String,
}

/// One reported problem. Positions are 1-based; `end_col` is the column just past the span
/// (SARIF's convention). Columns count Unicode scalar values.
#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: &'static RuleMeta,
    pub level: Level,
    pub path: String,
    pub line: usize,
    pub col: usize,
    pub end_line: usize,
    pub end_col: usize,
    pub message: String,
    /// The flagged source line with its secrets masked (see `redact_text`); on a very long
    /// line, a window of it around the finding (see `clip_line`).
    pub snippet: String,
    /// Characters of the line left out before `snippet` (0 unless the line was clipped).
    pub snippet_from: usize,
    /// What identifies the finding inside its file when the flagged line is not the right key
    /// (a deploy check's id, a whole file). `None` means the normalised snippet, secrets
    /// masked. Never anything derived from a secret.
    pub key: Option<String>,
    pub fingerprint: String,
}

/// 64-bit FNV-1a: small, fixed output across platforms and releases (unlike `DefaultHasher`).
pub fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // Separator, so ("ab","c") and ("a","bc") differ.
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Sorts findings into report order and fills in their fingerprints. Sorting by
/// (path, line, column, rule) makes output independent of thread scheduling.
pub fn finalize(findings: &mut Vec<Finding>) {
    // Snippets were masked when they were cut from the line (`clip_line`); once more here for
    // any a rule rewrote, and messages, which quote source (`console.log("…")`, a TODO's text).
    for f in findings.iter_mut() {
        f.message = redact_text(&f.message);
        f.snippet = redact_text(&f.snippet);
    }
    findings.sort_by(|a, b| {
        (&a.path, a.line, a.col, a.rule.id, &a.message).cmp(&(&b.path, b.line, b.col, b.rule.id, &b.message))
    });
    findings.dedup_by(|a, b| {
        a.path == b.path && a.line == b.line && a.col == b.col && a.rule.id == b.rule.id && a.message == b.message
    });
    let mut seen: std::collections::HashMap<(String, &str, String), usize> = std::collections::HashMap::new();
    for f in findings.iter_mut() {
        let key = f.key.clone().unwrap_or_else(|| normalise(&f.snippet));
        let n = seen.entry((f.path.clone(), f.rule.id, key.clone())).or_insert(0);
        let h = fnv1a(&[f.rule.id.as_bytes(), f.path.as_bytes(), key.as_bytes(), n.to_string().as_bytes()]);
        f.fingerprint = format!("{h:016x}");
        *n += 1;
    }
}

impl Finding {
    /// A finding spanning bytes `start..end` of `file`; the snippet is the first flagged line.
    pub fn at(
        rule: &'static RuleMeta,
        file: &crate::source::SourceFile,
        start: usize,
        end: usize,
        message: String,
    ) -> Self {
        let (line, col) = file.position(start);
        let end = end.max(start);
        let (end_line, end_col) = file.position(end);
        // A span ending at a line break is reported as ending on the line it covers.
        let (end_line, end_col) = if end_line > line && end_col == 1 && end > start {
            let prev = end_line - 2;
            (end_line - 1, file.line_text(prev).chars().count() + 1)
        } else {
            (end_line, end_col)
        };
        let mut f = Finding {
            rule,
            level: rule.level,
            path: file.rel.clone(),
            line,
            col,
            end_line,
            end_col: if end_line == line && end_col <= col { col + 1 } else { end_col },
            message,
            snippet: String::new(),
            snippet_from: 0,
            key: None,
            fingerprint: String::new(),
        };
        let (window, from) = file.line_window(line - 1, start);
        f.snippet = window.to_string();
        f.snippet_from = from;
        f
    }

    /// Sets the snippet from the flagged line, clipped to a window around the finding when the
    /// line is long (a minified bundle is one line of megabytes; no finding copies all of it).
    pub fn set_snippet(&mut self, line: &str) {
        let (snippet, from) = clip_line(line, self.col);
        self.snippet = snippet;
        self.snippet_from = from;
    }

    pub fn whole_file(rule: &'static RuleMeta, rel: &str, message: String) -> Self {
        Finding {
            rule,
            level: rule.level,
            path: rel.to_string(),
            line: 1,
            col: 1,
            end_line: 1,
            end_col: 1,
            message,
            snippet: String::new(),
            snippet_from: 0,
            key: Some(String::new()),
            fingerprint: String::new(),
        }
    }
}

/// Source text for a message: whitespace runs collapsed to one space, secrets masked, cut to
/// 60 characters. Masked before the cut, so a token cut in half is not shown half in clear.
pub fn excerpt(s: &str) -> String {
    let mut one = String::new();
    for w in s.split_whitespace() {
        if one.len() > MASK_WINDOW {
            break;
        }
        if !one.is_empty() {
            one.push(' ');
        }
        one.push_str(w);
    }
    let one = redact_text(&one);
    if one.chars().count() > 60 {
        format!("{}…", one.chars().take(59).collect::<String>())
    } else {
        one
    }
}

/// Characters on either side of a shown window that are scanned for secrets with it, so a
/// secret that starts before the window (a one-line PEM block is up to ~3,300 characters) is
/// still recognised and masked where the window cuts it.
const MASK_WINDOW: usize = 4096;

/// `line` with its secrets masked, or when it is longer than `crate::source::MAX_SNIPPET` characters a window
/// of it starting a little before column `col` (1-based); with the number of characters left
/// out before the window. Masking keeps every character's column.
pub fn clip_line(line: &str, col: usize) -> (String, usize) {
    if line.len() <= crate::source::MAX_SNIPPET || line.chars().count() <= crate::source::MAX_SNIPPET {
        return (redact_text(line), 0);
    }
    let from = col.saturating_sub(1).saturating_sub(crate::source::MAX_SNIPPET / 4);
    let scan_from = from.saturating_sub(MASK_WINDOW);
    let region: String =
        line.chars().skip(scan_from).take(from - scan_from + crate::source::MAX_SNIPPET + MASK_WINDOW).collect();
    (redact_text(&region).chars().skip(from - scan_from).take(crate::source::MAX_SNIPPET).collect(), from)
}

/// `text` with every secret `secrets::secret_spans` finds in it masked: each character after
/// at most the first 4 (a token's public prefix, only for secrets of 12 characters or more)
/// becomes `*`, so columns stay where they were and the caret stays under its span.
pub fn redact_text(text: &str) -> String {
    mask(text, &crate::secrets::secret_spans(text))
}

/// Masks `spans` (sorted, disjoint byte ranges at character boundaries) of `text`.
pub fn mask(text: &str, spans: &[crate::secrets::Span]) -> String {
    if spans.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for s in spans {
        let (Some(before), Some(secret)) = (text.get(at..s.start), text.get(s.start..s.end)) else { continue };
        out.push_str(before);
        for (i, c) in secret.chars().enumerate() {
            out.push(if i < s.keep.min(4) { c } else { '*' });
        }
        at = s.end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

/// A secret as it may appear in output: at most its first 4 characters, `…`, and its length.
pub fn redact(secret: &str) -> String {
    let n = secret.chars().count();
    let shown: String = if n >= 12 { secret.chars().take(4).collect() } else { String::new() };
    format!("\"{shown}…\" ({n} chars)")
}

/// A source line with a known `secret` masked wherever it occurs; every quoted string that
/// holds part of the secret is masked too, so a secret split across concatenated literals does
/// not leak piecewise.
pub fn redact_line(line: &str, secret: &str) -> String {
    use crate::secrets::Span;
    let keep = if secret.chars().count() >= 12 { 4 } else { 0 };
    let mut spans: Vec<Span> = Vec::new();
    if !secret.is_empty() {
        spans.extend(line.match_indices(secret).map(|(i, _)| Span { start: i, end: i + secret.len(), keep }));
    }
    // Quoted pieces of a concatenated secret.
    let mut rest = 0;
    while let Some(q) = line[rest..].find(['"', '\'']).map(|q| rest + q) {
        let quote = line.as_bytes()[q] as char;
        let Some(end) = line[q + 1..].find(quote).map(|e| q + 1 + e) else { break };
        let piece = &line[q + 1..end];
        if piece.len() >= 4 && secret.contains(piece) {
            spans.push(Span { start: q + 1, end, keep: 0 });
        }
        rest = end + 1;
    }
    spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
    spans.dedup_by(|b, a| b.start < a.end);
    mask(line, &spans)
}

#[cfg(test)]
mod redaction_tests {
    use super::{clip_line, excerpt, redact_text};

    #[test]
    fn secrets_on_a_shown_line_are_masked_in_place() {
        let cases = [
            // Credential names, quoted values: first 4 characters kept from 12 on.
            ("DEBUG = True; SECRET_KEY = \"k3y-abcdefgh1234\"", "DEBUG = True; SECRET_KEY = \"k3y-************\""),
            ("db_password = 'Pg-2024!x'  # TODO", "db_password = '*********'  # TODO"),
            ("{\"api_key\": \"a1b2c3d4e5\"}", "{\"api_key\": \"**********\"}"),
            ("DATABASES['default']['PASSWORD'] = 'h8ks-2jd'", "DATABASES['default']['PASSWORD'] = '********'"),
            ("if password == \"s3cr3t!\":", "if password == \"*******\":"),
            ("TOKEN = os.getenv(\"API_TOKEN\", \"t0k-99x\")", "TOKEN = os.getenv(\"API_TOKEN\", \"*******\")"),
            ("KEY = os.environ.get('SIGNING_KEY') or 'f4llb4ck'", "KEY = os.environ.get('SIGNING_KEY') or '********'"),
            // Unquoted: dotenv, YAML, flags, query strings, comments.
            ("DB_PASSWORD=hunter22", "DB_PASSWORD=********"),
            ("SECRET_KEY: ${SECRET_KEY:-2Fi9x8s7}", "SECRET_KEY: ${SECRET_KEY:-********}"),
            ("  password: s3cret-value", "  password: s3cr********"),
            ("mysqldump --password=pa55 db", "mysqldump --password=**** db"),
            ("fetch('/api?access_token=abc123&x=1')", "fetch('/api?access_token=******&x=1')"),
            ("# TODO: password=hunter22 until the vault is up", "# TODO: password=******** until the vault is up"),
            // URLs with a password, also one holding an `@`.
            ("BROKER = 'amqp://user:pa55word@host//'  # FIXME", "BROKER = 'amqp://user:********@host//'  # FIXME"),
            ("'redis://:p@ss-W0rd@cache:6379/0'", "'redis://:*********@cache:6379/0'"),
            ("smtp://mail:pw-2024-x@smtp.example.com", "smtp://mail:*********@smtp.example.com"),
            ("ALTER ROLE app WITH PASSWORD 'Xk2-pass'", "ALTER ROLE app WITH PASSWORD '********'"),
            // Headers, JWTs, private keys after an escaped line break.
            ("h = {'Authorization': 'Bearer 9f8e7d6c5b4a39281'}", "h = {'Authorization': 'Bearer 9f8e*************'}"),
            (
                "t = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.SflKxwRJSMeKKF2QT4'",
                "t = 'eyJh*******************************************************'",
            ),
            (
                "K = \"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\"",
                "K = \"-----BEGIN PRIVATE KEY-----**********************************\"",
            ),
        ];
        for (line, want) in cases {
            assert_eq!(redact_text(line), want, "{line}");
            // Masking is idempotent and keeps every column.
            assert_eq!(redact_text(want), want, "{want}");
            assert_eq!(want.chars().count(), line.chars().count());
        }
    }

    #[test]
    fn ordinary_code_is_not_masked() {
        for line in [
            "password = request.POST.get(\"password\")",
            "api_key = settings.API_KEY",
            "def login(username: str, password: str = None):",
            "token = get_token(user)",
            "fields = (\"email\", \"password\", \"first_name\")",
            "password: string;",
            "const token = localStorage.getItem('token');",
            "login(user, password=password, token=self.token)",
            "SECRET_KEY = os.environ[\"SECRET_KEY\"]",
            "url = \"https://example.com:8080/path?page=2\"",
            "DATABASE_URL = \"postgres://app:${DB_PASSWORD}@db/app\"",
            "headers = {\"Authorization\": f\"Bearer {token}\"}",
            "auth = \"Basic authentication\"",
            "password = \"\"",
            "console.log(`password reset for ${email}`);",
            "MAX_TOKENS = 512",
            "order.checkout_token = ch_token_1",
            "if settings.SECRET_KEY == \"---\":",
            "    SECRET_KEY: dummy-key",
            "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-plane}",
            "# only handle basic after/before",
            "INVALID_PASSWORD = \"invalid_password\"",
            "{mode === \"sign-in\" ? \"Password\" : \"Set password\"}",
            "\"@octokit/auth-token\": \"^4.0.0\",",
            "if ENABLE_EMAIL_PASSWORD == \"1\":",
            "const password = form?.password ?? \"\";",
            "self.token = uuid4().hex",
            ".values_list(\"auth_token\", \"token_type\")",
            "CELERY_BROKER_URL = f\"amqp://{USER}:{RABBITMQ_PASSWORD}@{HOST}/\"",
            "\"\"\"Check basic project permissions.\"\"\"",
            "RunPython(move_token) has no reverse_code: pass reverse_code, or `migrations.RunPython.noop`",
            "csrf_token = '7c1e0e5a'",
            "\"integrity\": \"sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==\"",
        ] {
            assert_eq!(redact_text(line), line);
        }
    }

    #[test]
    fn a_token_cut_by_an_excerpt_or_a_window_is_masked_before_the_cut() {
        let tok = format!("ghp_{}", "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE2fG4");
        let e = excerpt(&format!("console.log(\"a very long message text here\", \"{tok}\")"));
        assert_eq!(e, format!("console.log(\"a very long message text here\", \"ghp_{}…", "*".repeat(9)));
        // A long line cut into a window that starts inside a secret.
        let line = format!("{}KEY = \"-----BEGIN RSA PRIVATE KEY-----\\n{}\"", "x".repeat(500), "Ab0+".repeat(300));
        let (window, from) = clip_line(&line, 1200);
        assert!(from > 600);
        assert!(window.chars().all(|c| c == '*'), "{window}");
    }
}
