//! secret-hardcoded: known token formats anywhere, and literals assigned to credential names.
//! Every value is redacted before the finding exists; the fingerprint keys on the masked line,
//! so nothing derived from the secret is in the report.

use std::sync::OnceLock;

use regex::bytes::Regex;

use crate::classify::{FileClass, Lang, Roles};
use crate::registry::{Extra, FileCtx, Rule, Snippet};
use crate::finding::{mask, redact};
use crate::secrets::{self, is_credential_name, is_marked_fake, is_placeholder, is_plausible_credential, FORMATS};

pub(crate) struct SecretHardcoded;

impl Rule for SecretHardcoded {
    fn id(&self) -> &'static str {
        "secret-hardcoded"
    }

    /// Every file, vendored and generated ones included: a live key in a committed bundle or a
    /// generated client is as live as anywhere else.
    fn wants(&self, _class: &FileClass) -> bool {
        true
    }

    fn warm_up(&self) {
        secrets::format_set();
        patterns();
    }

    fn check_file(&self, ctx: &mut FileCtx<'_>) {
        let file = ctx.file;
        let text = file.text.as_str();
        let settings_module = file.class.lang == Lang::Python
            && ctx.project.settings.modules.iter().any(|m| m.rel == file.rel)
            || text.contains("INSTALLED_APPS");
        let place = Place { lang: file.class.lang, rel: &file.rel, roles: file.class.roles, settings_module, judge_context: true };
        for hit in hits(text, &place) {
            let level = hit.level.unwrap_or(ctx.rule.level);
            report(ctx, hit.start, hit.end, hit.msg, level);
        }
    }
}

/// Where a text comes from, for the judgement of what it holds.
pub(crate) struct Place<'a> {
    pub lang: Lang,
    pub rel: &'a str,
    pub roles: Roles,
    pub settings_module: bool,
    /// Whether tests, docs, comments and docstrings are judged as samples (the file rule);
    /// `env-file-committed` asks about a dotenv file's values wherever it sits.
    pub judge_context: bool,
}

/// A credential found in a text: its byte range, the name it is given (the key, or the token
/// format's name), the message, and the format's level (`None`: the rule's).
pub(crate) struct Hit {
    pub start: usize,
    pub end: usize,
    pub name: String,
    msg: String,
    level: Option<crate::finding::Level>,
}

/// Formats recognised by their context (a name, a URL, a call) or by a structure any sample
/// has too: in docs, comments and docstrings they are examples, unlike a vendor-prefixed token.
const CONTEXT_FORMATS: &[&str] = &[
    "aws-secret-access-key",
    "private-key",
    "database-url-password",
    "jwt-literal-secret",
    "twilio-auth-token",
    "heroku-api-key",
    "yookassa-secret",
    "tinkoff-terminal-password",
    "mailchimp",
];

/// Every credential in `text`, judged by its value and where it sits.
pub(crate) fn hits(text: &str, place: &Place<'_>) -> Vec<Hit> {
    let roles = place.roles;
    let mut out: Vec<Hit> = Vec::new();
    // Test code and test data (fixtures, recorded scanner reports) hold samples by design.
    if place.judge_context && (roles.test || test_data_path(place.rel)) {
        return out;
    }
    let docstrings = if place.lang == Lang::Python { docstring_ranges(text) } else { Vec::new() };
    // In a comment, a docstring or the docs: a sample, unless a vendor-prefixed token.
    let in_sample = |pos: usize| {
        place.judge_context
            && (roles.docs || docstrings.iter().any(|&(s, e)| s <= pos && pos < e) || is_comment_line(place.lang, line_at(text, pos)))
    };
    let mut taken: Vec<(usize, usize)> = Vec::new();

    // 1. Known token formats, in the text and in literals joined by `+`.
    let format_hit = |start: usize, end: usize, i: usize, secret: &str, whole: &str, out: &mut Vec<Hit>| {
        let format = &FORMATS[i];
        let line = line_at(text, start);
        if is_marked_fake(secret) || (roles.test && line_says_fake(line)) {
            return false;
        }
        if !plausible_for_format(format.id, secret, whole, roles.env_template) || presigned_url_key(format.id, text, start) {
            return false;
        }
        if in_sample(start) && (CONTEXT_FORMATS.contains(&format.id) || line_says_fake(line)) {
            return false;
        }
        let msg = format!(
            "{} hardcoded ({}): revoke it, then load it from the environment or a secrets manager",
            format.name,
            redact(secret)
        );
        let name = dotenv_key(line).unwrap_or(format.name).to_string();
        out.push(Hit { start, end, name, msg, level: Some(format.level) });
        true
    };
    for i in secrets::format_set().matches(text.as_bytes()).iter() {
        for caps in secrets::format_regex(i).captures_iter(text.as_bytes()) {
            let Some(m) = caps.get(1) else { continue };
            let Some(secret) = text.get(m.start()..m.end()).map(str::trim_end) else { continue };
            let whole = caps.get(0).and_then(|c| text.get(c.start()..c.end())).unwrap_or("");
            let (start, end) = (m.start(), m.start() + secret.len());
            if format_hit(start, end, i, secret, whole, &mut out) {
                taken.push((start, end));
            }
        }
    }
    if place.lang.is_js_family() || place.lang == Lang::Python {
        for (start, end, joined) in joined_literals(text) {
            if taken.iter().any(|&(s, e)| s < end && start < e) {
                continue;
            }
            for i in secrets::format_set().matches(joined.as_bytes()).iter() {
                let Some(caps) = secrets::format_regex(i).captures(joined.as_bytes()) else { continue };
                let (Some(m), Some(w)) = (caps.get(1), caps.get(0)) else { continue };
                let (Some(secret), Some(whole)) = (joined.get(m.start()..m.end()), joined.get(w.start()..w.end())) else {
                    continue;
                };
                if format_hit(start, end, i, secret.trim_end(), whole, &mut out) {
                    taken.push((start, end));
                    break;
                }
            }
        }
    }

    // 2. Literals assigned to credential names: not in tests, docs, stories, env templates or
    // lock files (vendored and generated code, yes: `API_TOKEN = "..."` in a generated client is
    // a live credential).
    let name = place.rel.rsplit('/').next().unwrap_or("").to_ascii_lowercase();
    if roles.test || roles.docs || roles.story || roles.env_template || crate::classify::is_lock_file(&name) {
        return out;
    }
    for (name, value, start) in named_values(place.lang, place.rel, text) {
        let end = start + value.len();
        if taken.iter().any(|&(s, e)| s < end && start < e) {
            continue;
        }
        if !is_credential_name(name) || !is_plausible_credential(value) || !is_secret_value(value) {
            continue;
        }
        // django-secret-key-hardcoded owns SECRET_KEY in settings modules.
        if place.settings_module && name.eq_ignore_ascii_case("SECRET_KEY") {
            continue;
        }
        if in_sample(start) || build_step_scoped(place.rel, line_at(text, start)) {
            continue;
        }
        taken.push((start, end));
        // The fix depends on where the value sits: a `${VAR:-default}` in a compose file or a
        // script already reads the environment, and a dotenv file is the environment.
        let file_name = place.rel.rsplit('/').next().unwrap_or("").to_ascii_lowercase();
        let dockerfile = file_name.starts_with("dockerfile") || file_name.ends_with(".dockerfile");
        let msg = if let Some(var) = expansion_default_of(text, start).filter(|_| dockerfile) {
            format!(
                "`{name}` is a hardcoded credential ({}): the default of `${{{var}:-…}}` is baked into the image, \
                 where anyone with the image can read it: remove it from the Dockerfile, pass {var} when the \
                 container starts, and rotate it",
                redact(value)
            )
        } else if let Some(var) = expansion_default_of(text, start) {
            format!(
                "`{name}` is a hardcoded credential ({}): it is the default of `${{{var}:-…}}`, used whenever \
                 {var} is unset: drop the default (with `${{{var}:?}}` a missing value stops with an error) and \
                 rotate it",
                redact(value)
            )
        } else if place.lang == Lang::Dotenv {
            format!(
                "`{name}` is a hardcoded credential ({}) in a committed env file: set it in the deployment's \
                 environment or a secrets manager instead, leave a placeholder here, and rotate it",
                redact(value)
            )
        } else {
            format!(
                "`{name}` is a hardcoded credential ({}): read it from the environment (`os.environ[\"{}\"]`) and \
                 rotate it",
                redact(value),
                env_name(name)
            )
        };
        out.push(Hit { start, end, name: name.to_string(), msg, level: None });
    }
    out.sort_by_key(|h| (h.start, h.end));
    out
}

/// The variable whose shell/compose expansion default starts at byte `pos`
/// (`${SECRET_KEY:-value}` or `${SECRET_KEY-value}` → `SECRET_KEY`).
fn expansion_default_of(text: &str, pos: usize) -> Option<&str> {
    let before = text.get(..pos)?;
    let before = before.strip_suffix('-')?;
    let before = before.strip_suffix(':').unwrap_or(before);
    let open = before.rfind("${")?;
    let var = &before[open + 2..];
    (!var.is_empty() && var.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')).then_some(var)
}

/// The line of `text` holding byte `pos`, without its line break.
fn line_at(text: &str, pos: usize) -> &str {
    let pos = pos.min(text.len());
    let start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
    text[start..end].trim_end_matches('\r')
}

/// A line that is a comment: `# …` (in JS, `#name` is a private field), `// …`, `/* …`,
/// ` * …` (a block comment's body), `<!-- …`.
fn is_comment_line(lang: Lang, line: &str) -> bool {
    let t = line.trim_start();
    (t.starts_with('#') && !lang.is_js_family()) || t.starts_with("//") || t.starts_with("/*") || t.starts_with("* ") || t == "*" || t.starts_with("<!--")
}

/// Byte ranges of Python string statements (docstrings, block "comments"): a triple-quoted
/// string opening a line, as opposed to one assigned or passed (`KEY = """…"""`). One pass.
fn docstring_ranges(text: &str) -> Vec<(usize, usize)> {
    static TRIPLE: OnceLock<Regex> = OnceLock::new();
    let triple = TRIPLE.get_or_init(|| Regex::new(r#"(?-u)"""|'''"#).unwrap());
    let mut out = Vec::new();
    let mut open: Option<(usize, u8)> = None;
    for m in triple.find_iter(text.as_bytes()) {
        let quote = text.as_bytes()[m.start()];
        match open {
            None => open = Some((m.start(), quote)),
            Some((start, q)) if q == quote => {
                let before = &text[text[..start].rfind('\n').map_or(0, |k| k + 1)..start];
                if before.trim_start().trim_start_matches(['r', 'R', 'u', 'U']).is_empty() {
                    out.push((start, m.end()));
                }
                open = None;
            }
            Some(_) => {}
        }
    }
    if let Some((start, _)) = open {
        out.push((start, text.len()));
    }
    out
}

/// Test data outside a `tests` folder: `unittests/`, `testdata/`, `__fixtures__/`, and
/// configuration files named for tests.
fn test_data_path(rel: &str) -> bool {
    let lower = rel.to_ascii_lowercase();
    let mut dirs: Vec<&str> = lower.split('/').collect();
    let name = dirs.pop().unwrap_or("");
    // `docker-compose.override.integration_tests.yml`, `settings.test.yml`, `ci-test.env`.
    name.split(['.', '_', '-']).any(|p| matches!(p, "test" | "tests" | "testing"))
        || dirs.iter().any(|d| {
        d.ends_with("tests") || matches!(*d, "testdata" | "test_data" | "test-data" | "__fixtures__" | "mocks" | "__mocks__")
    })
}

/// An AWS access key ID in a pre-signed URL's query: the ID alone grants nothing, and the
/// signature next to it expires.
fn presigned_url_key(id: &str, text: &str, start: usize) -> bool {
    let before = text.as_bytes()[start.saturating_sub(24)..start].to_ascii_lowercase();
    let before = String::from_utf8_lossy(&before);
    id == "aws-access-key-id"
        && ["awsaccesskeyid=", "x-amz-credential=", "awsaccesskeyid%3d", "x-amz-credential%3d"].iter().any(|p| before.ends_with(p))
}

/// `RUN SECRET_KEY=… python manage.py collectstatic` in a Dockerfile: a value scoped to one
/// build step that needs a setting to start and never serves.
fn build_step_scoped(rel: &str, line: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel).to_ascii_lowercase();
    let t = line.trim_start();
    (name.starts_with("dockerfile") || name.ends_with(".dockerfile"))
        && (t.starts_with("RUN ") || t.starts_with("&&"))
        && ["collectstatic", "compilemessages", "compress", " build"].iter().any(|w| line.contains(w))
}

/// The dotenv key a line assigns (`export KEY=…`, `KEY: …`), to name a format found in it.
fn dotenv_key(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let t = t.strip_prefix("export ").or_else(|| t.strip_prefix("- ")).unwrap_or(t).trim_start();
    let end = t.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
    let rest = t[end..].trim_start();
    (end > 0 && (rest.starts_with('=') || rest.starts_with(':'))).then(|| &t[..end])
}

/// Adjacent string literals joined by `+` or juxtaposed (`"sk_live_" + "…"`): (start of the
/// first, end of the last, the joined content), for chains of two or more on one line.
fn joined_literals(text: &str) -> Vec<(usize, usize, String)> {
    static CHAIN: OnceLock<Regex> = OnceLock::new();
    static PART: OnceLock<Regex> = OnceLock::new();
    let chain = CHAIN.get_or_init(|| {
        Regex::new(r#"(?-u)(?:"[^"\n\\]*"|'[^'\n\\]*')(?:[ \t]*\+?[ \t]*(?:"[^"\n\\]*"|'[^'\n\\]*'))+"#).unwrap()
    });
    let part = PART.get_or_init(|| Regex::new(r#"(?-u)"([^"\n\\]*)"|'([^'\n\\]*)'"#).unwrap());
    let mut out = Vec::new();
    for m in chain.find_iter(text.as_bytes()) {
        let Some(s) = text.get(m.start()..m.end()) else { continue };
        let parts: Vec<&str> =
            part.captures_iter(s.as_bytes()).filter_map(|c| c.get(1).or(c.get(2))).filter_map(|p| s.get(p.start()..p.end())).collect();
        if parts.len() >= 2 {
            out.push((m.start(), m.end(), parts.concat()));
        }
    }
    out
}

/// Whether a value that passed the shape checks is a secret rather than a reference to one, a
/// path, a password hash or a well-known public sample.
fn is_secret_value(v: &str) -> bool {
    let t = v.trim();
    let lower = t.to_ascii_lowercase();
    // Bracketed and templated placeholders: `[AUTH_TOKEN]`, `%TOKEN%`, `__TOKEN__`, `@TOKEN@`.
    let wrapped = |a: &str, b: &str| t.len() > a.len() + b.len() && t.starts_with(a) && t.ends_with(b);
    if wrapped("[", "]") || wrapped("%", "%") || wrapped("__", "__") || wrapped("@", "@") || wrapped("(", ")") {
        return false;
    }
    // Secret-manager references: `vault:secret/data/app#db`, `arn:aws:secretsmanager:…`,
    // `op://vault/item/field`, and `name:key` paths.
    const MANAGERS: &[&str] = &["vault:", "arn:aws:", "ssm:", "op://", "sm://", "awssm:", "gcpsm:", "azurekv:", "secretsmanager:", "secret:", "secrets:", "env:"];
    if MANAGERS.iter().any(|p| lower.starts_with(p)) || (lower.starts_with("projects/") && lower.contains("/secrets/")) {
        return false;
    }
    if let Some((path, key)) = t.split_once(':') {
        let path_like = !path.is_empty()
            && path.bytes().any(|b| b.is_ascii_alphabetic())
            && path.bytes().all(|b| b.is_ascii_alphanumeric() || b"_./-".contains(&b));
        let key_like = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
            && !key.bytes().any(|b| b.is_ascii_digit());
        if path_like && key_like && !path.bytes().any(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    // A syntax-highlighting state (`token: "variable-2"`, CodeMirror's numbered styles).
    if let Some((word, n)) = t.rsplit_once('-') {
        let words = !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'.');
        if words && n.len() == 1 && n.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    // A relative file path (`models/users/token.md`).
    if let Some((dir, file)) = t.rsplit_once('/') {
        let ext = file.rsplit_once('.').map_or("", |(_, e)| e);
        if !dir.is_empty() && (1..=5).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_alphabetic()) {
            return false;
        }
    }
    // A password hash (Django's `algorithm$iterations$salt$hash`, crypt's `$2b$…`): not a
    // password, and useless as one.
    const HASHES: &[&str] =
        &["pbkdf2_", "argon2", "bcrypt", "scrypt", "sha1$", "md5$", "unsalted_", "crypt$", "$2a$", "$2b$", "$2y$", "$5$", "$6$", "$argon2"];
    if HASHES.iter().any(|h| lower.starts_with(h)) {
        return false;
    }
    !is_public_sample_jwt(t)
}

/// jwt.io's example token (subject 1234567890, "John Doe"): printed in countless API docs.
fn is_public_sample_jwt(v: &str) -> bool {
    let mut parts = v.split('.');
    let (Some(head), Some(payload), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    if !head.starts_with("eyJ") {
        return false;
    }
    let decoded = base64url(payload);
    let text = String::from_utf8_lossy(&decoded);
    text.contains("\"John Doe\"") || text.contains("\"sub\":\"1234567890\"")
}

fn base64url(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => break,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn report(ctx: &mut FileCtx<'_>, start: usize, end: usize, msg: String, level: crate::finding::Level) {
    let text = ctx.file.text.as_str();
    let secret = text.get(start..end).unwrap_or("");
    let line0 = ctx.file.position(start).0 - 1;
    let line = ctx.file.line_text(line0);
    let line_start = line.as_ptr() as usize - text.as_ptr() as usize;
    // On a long line (a minified bundle, a one-line data dump) only the window shown is masked:
    // masking the whole line for each of its secrets made many secrets on one line quadratic.
    // The window is widened to hold the whole secret.
    let (shown, shown_start, window_from) = if line.len() > LONG_LINE {
        let (w, from) = ctx.file.line_window(line0, start);
        let ws = w.as_ptr() as usize - text.as_ptr() as usize;
        let mut we = (ws + w.len()).max(end).min(line_start + line.len());
        while !text.is_char_boundary(we) {
            we += 1;
        }
        (&text[ws..we], ws, Some(from))
    } else {
        (line, line_start, None)
    };
    // The part of the secret on the flagged line, by position (a PEM block goes on below it;
    // its BEGIN line may carry key material after an escaped `\n`).
    let (mut from, to) =
        (start.max(shown_start) - shown_start, end.min(shown_start + shown.len()).saturating_sub(shown_start));
    let mut keep = if secret.chars().count() >= 12 { 4 } else { 0 };
    // A PEM block keeps its BEGIN line's marker in view; what follows it is masked whole.
    if let Some(marker) = secret.strip_prefix("-----BEGIN").and_then(|r| r.find("-----")).map(|i| i + 15) {
        from = (from + marker).min(to);
        keep = 0;
    }
    let mut spans = vec![crate::secrets::Span { start: from, end: to.max(from), keep }];
    if window_from.is_some() {
        spans.extend(other_copies(shown, secret, keep));
        // `mask` takes spans in order and apart: sorted, and one that overlaps the one before
        // merged into it.
        spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
        spans.dedup_by(|b, a| {
            let overlaps = b.start < a.end;
            a.end = a.end.max(if overlaps { b.end } else { a.end });
            overlaps
        });
    }
    let snippet = mask(shown, &spans);
    let snippet = match window_from {
        // The masked window as it is: a `Line` would be clipped again by the column.
        Some(from) => Snippet::Window(snippet, from),
        None => Snippet::Line(snippet),
    };
    ctx.report_with(start, end, msg, Extra { level: Some(level), key: None, snippet: Some(snippet) });
}

/// Lines longer than this are redacted in the window shown, not as a whole.
const LONG_LINE: usize = 4096;

/// In a window of a long line: every other copy of `secret`, and a piece of one (4 bytes or
/// more) cut by the window's start or end, as spans to mask.
fn other_copies(shown: &str, secret: &str, keep: usize) -> Vec<crate::secrets::Span> {
    use crate::secrets::Span;
    let mut spans: Vec<Span> =
        shown.match_indices(secret).map(|(i, _)| Span { start: i, end: i + secret.len(), keep }).collect();
    let n = secret.len();
    for k in (4..n).rev() {
        if secret.is_char_boundary(n - k) && shown.starts_with(&secret[n - k..]) {
            spans.push(Span { start: 0, end: k, keep: 0 });
            break;
        }
    }
    for k in (4..n).rev() {
        if secret.is_char_boundary(k) && shown.ends_with(&secret[..k]) {
            spans.push(Span { start: shown.len() - k, end: shown.len(), keep: keep.min(k) });
            break;
        }
    }
    spans
}

fn line_says_fake(line: &str) -> bool {
    let l = line.to_ascii_lowercase();
    ["fake", "dummy", "example", "not a real", "not real"].iter().any(|w| l.contains(w))
}

/// Extra checks for formats whose pattern alone is not enough.
fn plausible_for_format(id: &str, secret: &str, whole: &str, template: bool) -> bool {
    match id {
        "database-url-password" => {
            let user = whole.split("://").nth(1).and_then(|r| r.split(':').next()).unwrap_or("");
            const DEFAULTS: &[&str] = &["postgres", "root", "admin", "guest", "pass", "password", "mysql", "redis", "secret", "user", "test"];
            !template
                && secret != user
                && !DEFAULTS.contains(&secret.to_ascii_lowercase().as_str())
                && !is_placeholder_dsn(secret)
                && !loopback_url(whole)
        }
        "jwt-literal-secret" | "tinkoff-terminal-password" => !is_placeholder(secret) && !secret.starts_with('$'),
        "stripe-test" => !template,
        _ => true,
    }
}

/// A URL whose host is this machine (`localhost`, `127.x.x.x`, `::1`, `0.0.0.0`): its
/// password opens a database only on the developer's own machine, as a local tool or a test
/// run sets it up, not a server of the deployment.
fn loopback_url(url: &str) -> bool {
    let host = url.rsplit_once('@').map_or("", |(_, rest)| rest);
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host.split([':', '/', '?', ',']).next().unwrap_or("")
    };
    let host = host.to_ascii_lowercase();
    host == "localhost" || host == "::1" || host == "0.0.0.0" || host.starts_with("127.")
}

fn is_placeholder_dsn(p: &str) -> bool {
    p.starts_with('$') || p.starts_with('%') || p.starts_with('<') || p.contains("{") || p.chars().all(|c| c == '*' || c == 'x' || c == 'X')
        // Masked as preflight's reports mask it (a committed baseline quotes the line).
        || (p.contains('*') && p.chars().skip(4).all(|c| c == '*'))
        || ["password", "passwd", "changeme", "example", "secret", "your"].iter().any(|w| p.to_ascii_lowercase().contains(w))
}

fn env_name(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(if c == '-' || c == '.' { '_' } else { c.to_ascii_uppercase() });
    }
    out
}

struct Patterns {
    code_assign: Regex,
    key_value: Regex,
    quoted_key_value: Regex,
    subscript: Regex,
    dotenv: Regex,
    yaml_plain: Regex,
    sudo: Regex,
    password_flag: Regex,
    shell_default: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        // `name = "value"`, `name: str = "value"`, `f(name="value")`.
        code_assign: Regex::new(
            r#"(?-u)(?m)(?:^|[^\w.$])([A-Za-z_$][\w$]*)\s*(?::\s*[\w\[\], |]+?)?\s*=\s*[rRbBuU]{0,2}(?:"([^"\n\\]{1,300})"|'([^'\n\\]{1,300})')"#,
        )
        .unwrap(),
        // `"name": "value"`, `name: 'value'` (dicts, objects, JSON, YAML).
        key_value: Regex::new(r#"(?-u)["']?([A-Za-z_$][\w.$-]*)["']?\s*:\s*[rRbBuU]{0,2}(?:"([^"\n\\]{1,300})"|'([^'\n\\]{1,300})')"#).unwrap(),
        // Python dict keys are strings: `"name": "value"` (an unquoted `name: "..."` is an annotation).
        quoted_key_value: Regex::new(r#"(?-u)(?-u)["']([A-Za-z_$][\w.$-]*)["']\s*:\s*[rRbBuU]{0,2}(?:"([^"\n\\]{1,300})"|'([^'\n\\]{1,300})')"#).unwrap(),
        // `DATABASES["default"]["PASSWORD"] = "value"`.
        subscript: Regex::new(r#"(?-u)\[\s*["']([A-Za-z_]\w*)["']\s*\]\s*=\s*(?:"([^"\n\\]{1,300})"|'([^'\n\\]{1,300})')"#).unwrap(),
        // `NAME=value`, `export NAME="value"`, Dockerfile `ENV NAME=value`, compose `- NAME=value`.
        dotenv: Regex::new(
            r#"(?-u)(?m)^[ \t]*(?:-[ \t]+)?(?:export[ \t]+|ENV[ \t]+|ARG[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*(?:"([^"\n]{1,300})"|'([^'\n]{1,300})'|([^\s"'#]{1,300}))"#,
        )
        .unwrap(),
        // YAML `name: value` without quotes.
        yaml_plain: Regex::new(r#"(?-u)(?m)^[ \t]*(?:-[ \t]+)?([A-Za-z_][\w.-]*)[ \t]*:[ \t]+([^\s"'#\[\]{}|>&*!%@`][^\s#]{0,300})[ \t]*(?:#.*)?$"#).unwrap(),
        // `${SECRET_KEY:-value}`: the value deployed whenever the variable is unset.
        shell_default: Regex::new(r#"(?-u)\$\{([A-Za-z_][A-Za-z0-9_]*):?-([^\s}"'$]{1,300})\}"#).unwrap(),
        sudo: Regex::new(r#"(?-u)echo\s+(?:"([^"\n]{1,200})"|'([^'\n]{1,200})'|([^\s|"']{1,200}))\s*\|\s*sudo\b[^\n|;]*\s-S\b"#).unwrap(),
        password_flag: Regex::new(
            r#"(?-u)(?:\bmysql(?:dump|admin)?\b[^\n|;]*?\s-p([^\s"'$-][^\s"']{0,200})|--password[= ](?:"([^"\n$]{1,200})"|'([^'\n$]{1,200})'|([^\s"'$-][^\s"']{0,200})))"#,
        )
        .unwrap(),
    })
}

/// (name, value, byte offset of the value) for every literal assigned to a name.
fn named_values<'a>(lang: Lang, rel: &str, text: &'a str) -> Vec<(&'a str, &'a str, usize)> {
    let p = patterns();
    let lower = rel.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    let yaml = matches!(ext, "yml" | "yaml");
    let script = matches!(ext, "sh" | "bash" | "zsh" | "mk") || name == "makefile" || name.starts_with("dockerfile") || yaml;
    let mut pats: Vec<&Regex> = Vec::new();
    match lang {
        Lang::Python => pats.extend([&p.code_assign, &p.quoted_key_value, &p.subscript]),
        Lang::JavaScript | Lang::Jsx | Lang::TypeScript | Lang::Tsx => {
            pats.extend([&p.code_assign, &p.key_value, &p.subscript]);
        }
        Lang::Dotenv => pats.extend([&p.dotenv, &p.shell_default]),
        Lang::Other => {
            if i18n_path(&lower) || ext == "lock" || ext == "svg" || ext == "map" {
                return Vec::new();
            }
            pats.extend([&p.code_assign, &p.key_value, &p.shell_default]);
            if yaml {
                pats.push(&p.yaml_plain);
            }
            if script || matches!(ext, "ini" | "cfg" | "conf" | "properties" | "env") {
                pats.push(&p.dotenv);
            }
        }
        _ => return Vec::new(),
    }
    let mut out = Vec::new();
    // Byte offsets from ASCII patterns; a value cut inside a multi-byte character is dropped.
    let slice = |m: regex::bytes::Match<'_>| text.get(m.start()..m.end());
    for re in pats {
        for c in re.captures_iter(text.as_bytes()) {
            let (Some(n), Some(v)) = (c.get(1), (2..=4).find_map(|i| c.get(i))) else { continue };
            if let (Some(name), Some(value)) = (slice(n), slice(v)) {
                out.push((name, value, v.start()));
            }
        }
    }
    if script || lang == Lang::Dotenv {
        for re in [&p.sudo, &p.password_flag] {
            for c in re.captures_iter(text.as_bytes()) {
                if let Some(value) = (1..=4).find_map(|i| c.get(i)).and_then(slice) {
                    out.push(("password", value, value.as_ptr() as usize - text.as_ptr() as usize));
                }
            }
        }
    }
    out.sort_by_key(|&(_, _, s)| s);
    out.dedup_by_key(|&mut (_, _, s)| s);
    out
}

/// Translation catalogues: `"password": "Mot de passe"` is a label, not a credential.
fn i18n_path(rel: &str) -> bool {
    rel.split('/').any(|d| matches!(d, "locale" | "locales" | "i18n" | "l10n" | "translations" | "lang" | "langs"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(rel: &str, lang: Lang, text: &str) -> Vec<String> {
        let place = Place { lang, rel, roles: crate::classify::classify(rel, b"").roles, settings_module: false, judge_context: true };
        hits(text, &place).into_iter().map(|h| text[h.start..h.end].to_string()).collect()
    }

    #[test]
    fn values_that_name_or_describe_a_secret_are_not_secrets() {
        for v in [
            "[AUTH_TOKEN]",
            "%API_TOKEN%",
            "__SECRET__",
            "vault:secret/data/app#db",
            "kv/data/app:db_password",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db",
            "models/users/token.md",
            "variable-2",
            "string.special-3",
            "pbkdf2_sha256$600000$salt$hash=",
            "$2b$12$abcdefghijklmnopqrstuv",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        ] {
            assert!(!is_secret_value(v), "{v}");
        }
        for v in ["letmein7", "Pg-Prod-2024!x", "s3cr3t:Pa55", "k8Wq2Zr7Lm4Xv9Tn3Bw7Kp1Jd5"] {
            assert!(is_secret_value(v), "{v}");
        }
    }

    #[test]
    fn samples_in_docstrings_comments_and_test_data_are_not_reported() {
        let py = "\"\"\"Sample: {\"access_token\": \"q8Zr2Lm4Xv9Tn3Bw7Kp1\"}\"\"\"\n# password = \"Old-Admin-Pw-2019\"\nX = \"\"\"\n\"\"\"\npassword = \"Live-Admin-Pw-2020\"\n";
        assert_eq!(found("app/cmd.py", Lang::Python, py), ["Live-Admin-Pw-2020"]);
        assert!(found("unittests/scans/r.json", Lang::Other, "{\"password\": \"Scan-Found-Pw-77\"}").is_empty());
        assert!(found("docker-compose.integration_tests.yml", Lang::Other, "PASSWORD: \"Integr4tion-Pw\"\n").is_empty());
        // In JS, `#name` is a private field, not a comment.
        assert_eq!(found("web/api.js", Lang::JavaScript, "  #apiKey = \"fk_9d8c7b6a5e4f3a2b\";\n"), ["fk_9d8c7b6a5e4f3a2b"]);
    }

    #[test]
    fn shell_defaults_and_joined_literals_are_found() {
        assert_eq!(found("deploy/start.sh", Lang::Other, "X=\"${SECRET_KEY:-k8Wq2Zr7Lm4Xv9Tn3Bw7}\"\n"), ["k8Wq2Zr7Lm4Xv9Tn3Bw7"]);
        assert_eq!(
            found("app/pay.py", Lang::Python, "K = \"sk_live_\" + \"Fixture4Concat9Joined7Key2Q\"\n"),
            ["\"sk_live_\" + \"Fixture4Concat9Joined7Key2Q\""]
        );
        assert_eq!(found("app/s.py", Lang::Python, "B = \"redis://:Brok3r-Pw-55@cache:6379/1\"\n"), ["Brok3r-Pw-55"]);
        // A pre-signed URL's key id; a build step's dummy key.
        assert!(found("app/r.json", Lang::Other, "\"u\": \"https://b.s3.amazonaws.com/l?AWSAccessKeyId=AKIAQ2FIXTURE7PRESGN&E=1\"").is_empty());
        assert!(found("Dockerfile", Lang::Other, "RUN SECRET_KEY=\"build-Key-0042\" python manage.py collectstatic\n").is_empty());
    }
}
