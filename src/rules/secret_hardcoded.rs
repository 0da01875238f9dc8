//! secret-hardcoded: known token formats anywhere, and literals assigned to credential names.
//! Every value is redacted before the finding exists; the fingerprint keys on the masked line,
//! so nothing derived from the secret is in the report.

use std::sync::OnceLock;

use regex::bytes::Regex;

use crate::classify::{FileClass, Lang};
use crate::engine::FileCtx;
use crate::finding::{mask, redact};
use crate::registry::Rule;
use crate::secrets::{self, is_credential_name, is_marked_fake, is_placeholder, is_plausible_credential, FORMATS};

pub struct SecretHardcoded;

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
        let roles = file.class.roles;
        let mut taken: Vec<(usize, usize)> = Vec::new();

        // 1. Known token formats.
        for i in secrets::format_set().matches(text.as_bytes()).iter() {
            let format = &FORMATS[i];
            for caps in secrets::format_regex(i).captures_iter(text.as_bytes()) {
                let Some(m) = caps.get(1) else { continue };
                let Some(secret) = text.get(m.start()..m.end()).map(str::trim_end) else { continue };
                let whole = caps.get(0).and_then(|c| text.get(c.start()..c.end())).unwrap_or("");
                if is_marked_fake(secret) || (roles.test && line_says_fake(file.line_text(file.position(m.start()).0 - 1))) {
                    continue;
                }
                if !plausible_for_format(format.id, secret, whole, roles.env_template) {
                    continue;
                }
                let (start, end) = (m.start(), m.start() + secret.len());
                taken.push((start, end));
                let msg = format!(
                    "{} hardcoded ({}): revoke it, then load it from the environment or a secrets manager",
                    format.name,
                    redact(secret)
                );
                report(ctx, start, end, msg, secret, format.level);
            }
        }

        // 2. Literals assigned to credential names: not in tests, docs, stories, env templates
        // or lock files (vendored and generated code, yes: `API_TOKEN = "..."` in a generated
        // client is a live credential).
        let name = file.rel.rsplit('/').next().unwrap_or("").to_ascii_lowercase();
        if roles.test || roles.docs || roles.story || roles.env_template || crate::classify::is_lock_file(&name) {
            return;
        }
        let settings_module = file.class.lang == Lang::Python
            && ctx.project.settings.modules.iter().any(|m| m.rel == file.rel)
            || text.contains("INSTALLED_APPS");
        for (name, value, start) in named_values(file.class.lang, &file.rel, text) {
            let end = start + value.len();
            if taken.iter().any(|&(s, e)| s < end && start < e) {
                continue;
            }
            if !is_credential_name(name) || !is_plausible_credential(value) {
                continue;
            }
            // django-secret-key-hardcoded owns SECRET_KEY in settings modules.
            if settings_module && name.eq_ignore_ascii_case("SECRET_KEY") {
                continue;
            }
            taken.push((start, end));
            let msg = format!(
                "`{name}` is a hardcoded credential ({}): read it from the environment (`os.environ[\"{}\"]`) and rotate it",
                redact(value),
                env_name(name)
            );
            report(ctx, start, end, msg, value, ctx.rule.level);
        }
    }
}

fn report(ctx: &mut FileCtx<'_>, start: usize, end: usize, msg: String, secret: &str, level: crate::finding::Level) {
    let text = ctx.file.text.as_str();
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
    let before = ctx.out.len();
    ctx.report_redacted(start, end, msg, snippet.clone());
    if let Some(f) = ctx.out.get_mut(before) {
        f.level = level;
        if let Some(from) = window_from {
            // The masked window as it is: `set_snippet` would clip it again by the column.
            f.snippet = snippet;
            f.snippet_from = from;
        }
    }
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
            !template && secret != user && !DEFAULTS.contains(&secret.to_ascii_lowercase().as_str()) && !is_placeholder_dsn(secret)
        }
        "jwt-literal-secret" | "tinkoff-terminal-password" => !is_placeholder(secret) && !secret.starts_with('$'),
        "stripe-test" => !template,
        _ => true,
    }
}

fn is_placeholder_dsn(p: &str) -> bool {
    p.starts_with('$') || p.starts_with('%') || p.starts_with('<') || p.contains("{") || p.chars().all(|c| c == '*' || c == 'x' || c == 'X')
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
        Lang::Dotenv => pats.push(&p.dotenv),
        Lang::Other => {
            if i18n_path(&lower) || ext == "lock" || ext == "svg" || ext == "map" {
                return Vec::new();
            }
            pats.extend([&p.code_assign, &p.key_value]);
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
