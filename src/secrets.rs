//! Secret detection shared by the `secret-hardcoded` rule and its tests: the catalogue of known
//! token formats, the credential-name and placeholder heuristics.
//!
//! Each format has an anchored pattern whose first capture group is the secret, a name for the
//! message, and a sample template from which the tests generate synthetic tokens (no
//! live-looking token is committed to the repository).

use std::sync::OnceLock;

use regex::bytes::{Regex as BytesRegex, RegexSet as BytesRegexSet};
use regex::Regex;

use crate::level::Level;

/// A piece of a sample token: literal text, or `n` characters drawn from a set.
#[derive(Clone, Copy, Debug)]
pub enum Seg {
    Lit(&'static str),
    Rand(&'static str, usize),
}

pub const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
pub const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub const HEX: &str = "0123456789abcdef";
pub const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
pub const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
pub const DIGITS: &str = "0123456789";
const BASE32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";

pub struct Format {
    pub id: &'static str,
    pub name: &'static str,
    pub pattern: &'static str,
    pub level: Level,
    /// Sample template; the tests wrap it in the `context` (`{}` = the sample).
    pub sample: &'static [Seg],
    pub context: &'static str,
}

use Seg::{Lit, Rand};

macro_rules! fmt {
    ($id:expr, $name:expr, $pat:expr, $sample:expr, $ctx:expr) => {
        Format { id: $id, name: $name, pattern: $pat, level: Level::Error, sample: $sample, context: $ctx }
    };
    ($id:expr, $name:expr, $pat:expr, $sample:expr, $ctx:expr, $level:expr) => {
        Format { id: $id, name: $name, pattern: $pat, level: $level, sample: $sample, context: $ctx }
    };
}

const FORMAT_COUNT: usize = 38;

pub static FORMATS: &[Format; FORMAT_COUNT] = &[
    fmt!(
        "aws-access-key-id",
        "AWS access key ID",
        r"\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b",
        &[Lit("AKIA"), Rand(BASE32, 16)],
        "{}"
    ),
    fmt!(
        "aws-secret-access-key",
        "AWS secret access key",
        r#"(?i)aws_?secret_?(?:access_?)?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})(?:["'\s]|$)"#,
        &[Rand(B64, 40)],
        "aws_secret_access_key = \"{}\""
    ),
    fmt!(
        "github-pat",
        "GitHub personal access token",
        r"\b(ghp_[A-Za-z0-9]{36})\b",
        &[Lit("ghp_"), Rand(ALNUM, 36)],
        "{}"
    ),
    fmt!("github-oauth", "GitHub OAuth token", r"\b(gho_[A-Za-z0-9]{36})\b", &[Lit("gho_"), Rand(ALNUM, 36)], "{}"),
    fmt!(
        "github-user-to-server",
        "GitHub user-to-server token",
        r"\b(ghu_[A-Za-z0-9]{36})\b",
        &[Lit("ghu_"), Rand(ALNUM, 36)],
        "{}"
    ),
    fmt!(
        "github-server-to-server",
        "GitHub server-to-server token",
        r"\b(ghs_[A-Za-z0-9]{36})\b",
        &[Lit("ghs_"), Rand(ALNUM, 36)],
        "{}"
    ),
    fmt!(
        "github-refresh",
        "GitHub refresh token",
        r"\b(ghr_[A-Za-z0-9]{36,76})\b",
        &[Lit("ghr_"), Rand(ALNUM, 36)],
        "{}"
    ),
    fmt!(
        "github-fine-grained-pat",
        "GitHub fine-grained personal access token",
        r"\b(github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b",
        &[Lit("github_pat_"), Rand(ALNUM, 22), Lit("_"), Rand(ALNUM, 59)],
        "{}"
    ),
    fmt!(
        "gitlab-pat",
        "GitLab personal access token",
        r"\b(glpat-[A-Za-z0-9_-]{20})(?:[^A-Za-z0-9_-]|$)",
        &[Lit("glpat-"), Rand(ALNUM, 20)],
        "{}"
    ),
    fmt!(
        "slack-token",
        "Slack token",
        r"\b(xox[baprs]-[0-9]{10,13}-[0-9]{10,13}(?:-[0-9]{10,13})?-[A-Za-z0-9]{24,34})\b",
        &[Lit("xoxb-"), Rand(DIGITS, 12), Lit("-"), Rand(DIGITS, 13), Lit("-"), Rand(ALNUM, 24)],
        "{}"
    ),
    fmt!(
        "slack-webhook",
        "Slack incoming webhook URL",
        r"(https://hooks\.slack\.com/services/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24})\b",
        &[
            Lit("https://hooks.slack.com/services/T"),
            Rand(UPPER, 10),
            Lit("/B"),
            Rand(UPPER, 10),
            Lit("/"),
            Rand(ALNUM, 24)
        ],
        "{}"
    ),
    fmt!(
        "stripe-secret-live",
        "Stripe live secret key",
        r"\b(sk_live_[0-9A-Za-z]{24,99})\b",
        &[Lit("sk_live_"), Rand(ALNUM, 32)],
        "{}"
    ),
    fmt!(
        "stripe-restricted-live",
        "Stripe live restricted key",
        r"\b(rk_live_[0-9A-Za-z]{24,99})\b",
        &[Lit("rk_live_"), Rand(ALNUM, 32)],
        "{}"
    ),
    fmt!(
        "stripe-test",
        "Stripe test key (no money moves, but it belongs in the environment too)",
        r"\b([sr]k_test_[0-9A-Za-z]{24,99})\b",
        &[Lit("sk_test_"), Rand(ALNUM, 32)],
        "{}",
        Level::Note
    ),
    fmt!(
        "telegram-bot-token",
        "Telegram bot token",
        r"\b([0-9]{8,10}:AA[0-9A-Za-z_-]{33})(?:[^0-9A-Za-z_-]|$)",
        &[Rand(DIGITS, 10), Lit(":AA"), Rand(ALNUM, 33)],
        "{}"
    ),
    fmt!(
        "google-api-key",
        "Google API key",
        r"\b(AIza[0-9A-Za-z_-]{35})(?:[^0-9A-Za-z_-]|$)",
        &[Lit("AIza"), Rand(ALNUM, 35)],
        "{}"
    ),
    fmt!(
        "private-key",
        "private key (PEM)",
        r"(-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----(?:\\n|\r?\n)[A-Za-z0-9+/=\\\s:-]{40,})",
        &[
            Lit("-----BEGIN RSA PRIVATE KEY-----\n"),
            Rand(B64, 64),
            Lit("\n"),
            Rand(B64, 64),
            Lit("\n-----END RSA PRIVATE KEY-----")
        ],
        "{}"
    ),
    fmt!(
        "sendgrid",
        "SendGrid API key",
        r"\b(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?:[^A-Za-z0-9_-]|$)",
        &[Lit("SG."), Rand(ALNUM, 22), Lit("."), Rand(ALNUM, 43)],
        "{}"
    ),
    fmt!("twilio-api-key", "Twilio API key", r"\b(SK[0-9a-f]{32})\b", &[Lit("SK"), Rand(HEX, 32)], "{}"),
    fmt!(
        "twilio-auth-token",
        "Twilio auth token",
        r#"(?i)twilio\w{0,20}(?:auth_?token|secret)["']?\s*[:=]\s*["']?([0-9a-f]{32})\b"#,
        &[Rand(HEX, 32)],
        "TWILIO_AUTH_TOKEN = \"{}\""
    ),
    fmt!("mailgun", "Mailgun API key", r"\b(key-[0-9a-zA-Z]{32})\b", &[Lit("key-"), Rand(ALNUM, 32)], "{}"),
    fmt!(
        "openai",
        "OpenAI API key",
        r"\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,150}T3BlbkFJ[A-Za-z0-9_-]{20,150})(?:[^A-Za-z0-9_-]|$)",
        &[Lit("sk-proj-"), Rand(ALNUM, 40), Lit("T3BlbkFJ"), Rand(ALNUM, 40)],
        "{}"
    ),
    fmt!(
        "anthropic",
        "Anthropic API key",
        r"\b(sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{80,120})(?:[^A-Za-z0-9_-]|$)",
        &[Lit("sk-ant-api03-"), Rand(ALNUM, 95)],
        "{}"
    ),
    fmt!(
        "jwt-literal-secret",
        "JWT signing secret",
        r#"\bjwt\.(?:encode|sign)\([^()\n]{1,200}?,\s*["']([^"'\n]{6,200})["']"#,
        &[Lit("sign-"), Rand(ALNUM, 24)],
        "token = jwt.encode(payload, \"{}\", algorithm=\"HS256\")"
    ),
    fmt!(
        "sentry-dsn-secret",
        "Sentry DSN with a secret key",
        r"(https://[0-9a-f]{32}:[0-9a-f]{32}@[A-Za-z0-9.-]+/\d+)",
        &[Lit("https://"), Rand(HEX, 32), Lit(":"), Rand(HEX, 32), Lit("@o1.ingest.sentry.io/42")],
        "{}"
    ),
    fmt!(
        "database-url-password",
        "database or broker URL with an inline password",
        r#"\b(?:postgres(?:ql)?|mysql|mariadb|redis|rediss|amqps?|mongodb(?:\+srv)?|mssql|oracle)://[^:/\s@'"]{0,64}:([^/\s'"]{1,128})@[^\s'"]+"#,
        &[Rand(ALNUM, 18)],
        "DATABASE_URL=postgres://app:{}@db.internal:5432/app"
    ),
    fmt!("npm-token", "npm access token", r"\b(npm_[A-Za-z0-9]{36})\b", &[Lit("npm_"), Rand(ALNUM, 36)], "{}"),
    fmt!(
        "pypi-token",
        "PyPI upload token",
        r"\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})",
        &[Lit("pypi-AgEIcHlwaS5vcmc"), Rand(B64URL, 60)],
        "{}"
    ),
    fmt!(
        "shopify",
        "Shopify access token",
        r"\b(shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32})\b",
        &[Lit("shpat_"), Rand(HEX, 32)],
        "{}"
    ),
    fmt!(
        "square",
        "Square access token",
        r"\b(sq0(?:atp-[0-9A-Za-z_-]{22}|csp-[0-9A-Za-z_-]{43}))(?:[^0-9A-Za-z_-]|$)",
        &[Lit("sq0atp-"), Rand(ALNUM, 22)],
        "{}"
    ),
    fmt!(
        "digitalocean",
        "DigitalOcean token",
        r"\b(do[por]_v1_[a-f0-9]{64})\b",
        &[Lit("dop_v1_"), Rand(HEX, 64)],
        "{}"
    ),
    fmt!(
        "discord-webhook",
        "Discord webhook URL",
        r"(https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{17,20}/[A-Za-z0-9_-]{60,70})",
        &[Lit("https://discord.com/api/webhooks/"), Rand(DIGITS, 18), Lit("/"), Rand(ALNUM, 68)],
        "{}"
    ),
    fmt!("mailchimp", "Mailchimp API key", r"\b([0-9a-f]{32}-us[0-9]{1,2})\b", &[Rand(HEX, 32), Lit("-us14")], "{}"),
    fmt!(
        "azure-storage-key",
        "Azure storage account key",
        r"AccountKey=([A-Za-z0-9+/]{86}==)",
        &[Rand(B64, 86), Lit("==")],
        "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={};EndpointSuffix=core.windows.net"
    ),
    fmt!("huggingface", "Hugging Face token", r"\b(hf_[A-Za-z]{34})\b", &[Lit("hf_"), Rand(LOWER, 34)], "{}"),
    fmt!(
        "heroku-api-key",
        "Heroku API key",
        r#"(?i)heroku\w{0,20}(?:api_?key|token)["']?\s*[:=]\s*["']?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"#,
        &[
            Rand(HEX, 8),
            Lit("-"),
            Rand(HEX, 4),
            Lit("-"),
            Rand(HEX, 4),
            Lit("-"),
            Rand(HEX, 4),
            Lit("-"),
            Rand(HEX, 12)
        ],
        "HEROKU_API_KEY={}"
    ),
    fmt!(
        "yookassa-secret",
        "YooKassa secret key",
        r#"(?i)(?:yookassa|yoo_kassa|yandex_?checkout|ykassa)\w{0,20}(?:secret|key)\w{0,10}["']?\s*[:=]\s*["']?((?:live|test)_[A-Za-z0-9_-]{30,})"#,
        &[Lit("live_"), Rand(B64URL, 40)],
        "YOOKASSA_SECRET_KEY = \"{}\""
    ),
    fmt!(
        "tinkoff-terminal-password",
        "Tinkoff terminal password",
        r#"(?i)tinkoff\w{0,20}(?:password|secret)\w{0,10}["']?\s*[:=]\s*["']?([A-Za-z0-9_!@#$%^&*.-]{8,64})"#,
        &[Rand(ALNUM, 16)],
        "TINKOFF_TERMINAL_PASSWORD = \"{}\""
    ),
];

/// The format patterns, compiled as ASCII byte regexes: every token format is ASCII, and Unicode
/// `\b`/`\w` would force the regex engine off its fast path on non-ASCII text (a 20x slowdown
/// measured on real repositories).
pub fn format_set() -> &'static BytesRegexSet {
    static SET: OnceLock<BytesRegexSet> = OnceLock::new();
    SET.get_or_init(|| BytesRegexSet::new(FORMATS.iter().map(|f| ascii(f.pattern))).expect("format patterns"))
}

/// The pattern of `FORMATS[i]` on its own, for its capture groups. Compiled on first use: most
/// runs meet a few formats, and compiling all of them is most of a pre-commit run's start-up.
pub fn format_regex(i: usize) -> &'static BytesRegex {
    static EACH: [OnceLock<BytesRegex>; FORMAT_COUNT] = [const { OnceLock::new() }; FORMAT_COUNT];
    EACH[i].get_or_init(|| BytesRegex::new(&ascii(FORMATS[i].pattern)).expect("format pattern"))
}

fn ascii(pattern: &str) -> String {
    format!("(?-u){pattern}")
}

/// Builds a synthetic sample of a format from a seed (a small deterministic generator).
pub fn sample(format: &Format, seed: u64) -> String {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut out = String::new();
    for seg in format.sample {
        match seg {
            Lit(s) => out.push_str(s),
            Rand(set, n) => {
                let chars: Vec<char> = set.chars().collect();
                for _ in 0..*n {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    out.push(chars[((state >> 33) as usize) % chars.len()]);
                }
            }
        }
    }
    out
}

/// Name suffixes (lower case, separators removed) that mark a credential.
const CREDENTIAL_SUFFIXES: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "authkey",
    "privatekey",
    "signingkey",
    "secretkey",
    "encryptionkey",
];

/// Whether an identifier or key names a credential (`db_password`, `apiKey`, `SIGNING_KEY`).
pub fn is_credential_name(name: &str) -> bool {
    // Compared from the end on the lower-cased ASCII letters and digits, without building them.
    let ends_with = |suffix: &str| {
        let tail = name.bytes().rev().filter(u8::is_ascii_alphanumeric).map(|b| b.to_ascii_lowercase());
        tail.take(suffix.len()).eq(suffix.bytes().rev())
    };
    CREDENTIAL_SUFFIXES.iter().any(|s| ends_with(s))
        && !["csrftoken", "xsrftoken", "pagetoken", "pagingtoken"].iter().any(|s| ends_with(s))
        && !names_an_action(name)
}

/// Verbs that, first in a name, make it an action on a credential rather than one: a rate
/// limit, URL name or form for `change_password`, `reset_password`, `forgotPassword`.
const ACTION_VERBS: &[&str] =
    &["change", "reset", "forgot", "forget", "recover", "update", "verify", "validate", "rotate", "expire", "request"];

/// Whether the first word of `name` (split at `_`, `-`, `.` and lower-to-upper case changes)
/// is one of `ACTION_VERBS`.
fn names_an_action(name: &str) -> bool {
    let name = name.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    let mut first = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if matches!(c, '_' | '-' | '.' | ' ') || (c.is_ascii_uppercase() && prev_lower) {
            break;
        }
        prev_lower = c.is_ascii_lowercase();
        first.push(c.to_ascii_lowercase());
    }
    ACTION_VERBS.contains(&first.as_str()) && first.len() < name.len()
}

/// A rate limit as django-allauth, django-ratelimit and DRF throttles write them: `5/m`,
/// `1/m/ip,1/m/key`, `100/hour`.
fn is_rate_limit(v: &str) -> bool {
    !v.is_empty()
        && v.split(',').all(|part| {
            let mut pieces = part.trim().split('/');
            let count = pieces.next().unwrap_or("");
            let period = pieces.next().unwrap_or("");
            !count.is_empty()
                && count.bytes().all(|b| b.is_ascii_digit())
                && !period.is_empty()
                && period.bytes().all(|b| b.is_ascii_alphabetic())
                && pieces.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_'))
        })
}

const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "changeme",
    "change_me",
    "change-me",
    "changethis",
    "your_",
    "your-",
    "yourapi",
    "yoursecret",
    "yourpassword",
    "placeholder",
    "dummy",
    "replace",
    "xxxx",
    "****",
    "....",
    "fake",
    "sample",
    "redacted",
    "insert",
    "enter_",
    "enter-",
    "_here",
    "-here",
    "goes_here",
    "notsecret",
    "not-secret",
    "not_a_secret",
    "secret123",
    "password123",
    "123456",
    "abcdef",
    "dev-",
    "local-",
    "test-",
    "testing",
    "insecure",
];

/// Whether a value is a placeholder or an obvious non-secret.
pub fn is_placeholder(v: &str) -> bool {
    let l = v.trim().to_ascii_lowercase();
    if l.len() < 8 {
        return true;
    }
    if matches!(l.as_str(), "password" | "passwords" | "secretkey" | "secret_key" | "apikey" | "api_key" | "token")
        || PLACEHOLDER_WORDS.iter().any(|w| l.contains(w))
    {
        return true;
    }
    // Template syntax and variable references: ${VAR}, {{ var }}, %(var)s, $VAR, <value>.
    if l.contains("${")
        || l.contains("{{")
        || l.contains("%(")
        || l.starts_with('$')
        || l.contains('<')
        || l.contains('{')
    {
        return true;
    }
    let distinct: std::collections::HashSet<char> = l.chars().collect();
    distinct.len() <= 2
}

/// Whether a literal assigned to a credential name looks like a real secret.
pub fn is_plausible_credential(v: &str) -> bool {
    if v.len() > 500 || v.chars().any(char::is_whitespace) || is_placeholder(v) || is_rate_limit(v) {
        return false;
    }
    // Paths, URLs, code (`jwt.encode(`), module paths, environment variable names, words.
    if v.starts_with('/') || v.starts_with("./") || v.starts_with("http") || v.contains("://") || v.contains('(') {
        return false;
    }
    if is_word_shaped(v) {
        return false;
    }
    v.chars().any(|c| c.is_ascii_digit())
        || v.chars().any(|c| !c.is_ascii_alphanumeric() && !"_-.".contains(c))
        || v.len() >= 20
}

/// Whether a value has the shape of a word or a name rather than a secret: a dotted module
/// path, a CONSTANT_NAME, words joined by `-`, `_` or `.`, camelCase.
fn is_word_shaped(v: &str) -> bool {
    static SHAPES: OnceLock<Regex> = OnceLock::new();
    let shapes = SHAPES.get_or_init(|| {
        Regex::new(r"^(?:[a-z_][a-z0-9_]*(?:\.[a-zA-Z_][a-zA-Z0-9_]*)+|[A-Z][A-Z0-9_]*|_*[A-Za-z]+(?:[-_.][A-Za-z]+)*_*|[a-z]+(?:[A-Z][a-z]+)+)$")
            .unwrap()
    });
    shapes.is_match(v)
}

/// Whether a known-format token is marked as fake (AWS's documentation key ends in EXAMPLE).
pub fn is_marked_fake(token: &str) -> bool {
    let l = token.to_ascii_lowercase();
    ["example", "fake", "dummy", "xxxxxxxx", "sample"].iter().any(|w| l.contains(w))
}

/// A piece of shown text that holds a secret: byte range, and how many of its first characters
/// may stay visible (a token's public prefix; never more than 4, none for key material).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub keep: usize,
}

/// A quoted literal (double, single or back quotes, escapes allowed) as regex text; its
/// content is the one capture group.
macro_rules! lit {
    () => {
        r#"(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|`((?:[^`\\\n]|\\.)*)`)"#
    };
}

struct Shown {
    /// `name = "value"`, `name: "value"`, `"name": "value"`, `name: str = "value"`,
    /// `x["name"] = "value"`, `name == "value"`.
    assign: Regex,
    /// `getenv("NAME", "default")`, `config("NAME", default="value")`, `env.str(…)`.
    env_default: Regex,
    /// `or "value"`, `|| "value"`, `?? "value"` (`NAME = os.environ.get("NAME") or "value"`).
    fallback: Regex,
    /// `NAME=`, `name:`, `--password=`, `?token=` before an unquoted value.
    bare: Regex,
    /// `scheme://user:password@host`, the password up to the last `@` of the authority.
    url_password: Regex,
    /// `Authorization: Bearer <token>`.
    bearer: Regex,
    /// A JSON Web Token.
    jwt: Regex,
    /// SQL: `ALTER ROLE app PASSWORD '…'`, `IDENTIFIED BY '…'`.
    sql_password: Regex,
    /// What follows a private key's BEGIN line (base64, escaped line breaks, the END line).
    pem: Regex,
    /// A value that is code, not a secret: an identifier or a dotted name without digits.
    identifier: Regex,
}

fn shown() -> &'static Shown {
    static S: OnceLock<Shown> = OnceLock::new();
    S.get_or_init(|| Shown {
        assign: Regex::new(concat!(
            r#"(?:^|[^A-Za-z0-9_$])([A-Za-z_$][A-Za-z0-9_$]*)["'`]?\]?\s*(?::\s*[A-Za-z0-9_\[\]., |]+?\s*)?(?:===?|!==?|:=|=|:)\s*(?:[rRbBuUfF]{1,2})?"#,
            lit!()
        ))
        .unwrap(),
        env_default: Regex::new(concat!(
            r#"(?i:get|getenv|config|env|setdefault|pop|str|secret)\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']\s*,\s*(?:default\s*=\s*)?(?:[rRbBuUfF]{1,2})?"#,
            lit!()
        ))
        .unwrap(),
        // After code (a name, a call, a subscript, a string), not after prose ("…, or `x`").
        fallback: Regex::new(
            r#"[A-Za-z0-9_$)\]"']\s*(?:\|\||\?\?|\bor\b)\s*(?:[rRbBuUfF]{1,2})?(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)')"#,
        )
        .unwrap(),
        bare: Regex::new(r#"([A-Za-z_$][A-Za-z0-9_$.-]*)["']?[ \t]*[=:][ \t]*"#).unwrap(),
        url_password: Regex::new(r#"[A-Za-z][A-Za-z0-9+.-]*://[^\s:/?#@'"`]*:([^\s/'"`]+)@"#).unwrap(),
        bearer: Regex::new(r"\b(?i:bearer|basic)\s+([A-Za-z0-9._~+/-]{8,}=*)").unwrap(),
        jwt: Regex::new(r"\b(eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})").unwrap(),
        sql_password: Regex::new(r"(?i)\b(?:password|identified\s+by)\s+'([^'\n]+)'").unwrap(),
        pem: Regex::new(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----([A-Za-z0-9+/=\\ \t:,-]*)").unwrap(),
        identifier: Regex::new(r"^[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*$").unwrap(),
    })
}

/// Whether a quoted value is a reference to a secret kept elsewhere (`${DB_PASSWORD}`,
/// `{{ password }}`, `%(password)s`, `$TOKEN`, `<token>`), already masked, or empty.
fn is_reference(v: &str) -> bool {
    let t = v.trim();
    t.is_empty()
        || (t.contains("${") && !t.contains(":-"))
        || (t.starts_with('{') && t.contains('}'))
        || t.contains("{{")
        || t.contains("%(")
        || (t.starts_with('$') && t[1..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        || (t.starts_with('<') && t.ends_with('>'))
        || t.chars().skip(4).all(|c| c == '*') && t.contains('*')
}

/// Whether an unquoted value is code or a word rather than a secret: a name or dotted name
/// without digits (`password=password`, `api_key: settings.API_KEY`, `token: str`, `None`),
/// words (`dummy-key`), a short number, a variable.
fn is_code_value(v: &str) -> bool {
    let v = v.trim_end_matches(['!', '?', '…']).replace("?.", ".").replace("!.", ".");
    let v = v.as_str();
    let digits = v.bytes().filter(u8::is_ascii_digit).count();
    (digits == 0 && shown().identifier.is_match(v))
        || (digits == v.len() && v.len() < 6)
        || v.starts_with('$')
        || v.starts_with('%')
        || v.starts_with('*')
        || is_word_shaped(v)
}

/// Whether a quoted value given to a credential name is plainly not a secret: a word or a name
/// (`"invalid_password"`, `"auth.show_password"`), words with spaces and no digit (a label), a
/// short number (a flag), a path or URL (URL passwords are matched on their own), a version.
fn is_plain_value(v: &str) -> bool {
    let t = v.trim();
    let digits = t.bytes().filter(u8::is_ascii_digit).count();
    is_word_shaped(t)
        || (digits == 0 && t.contains(char::is_whitespace))
        || !t.contains(|c: char| c.is_alphanumeric())
        || (digits == t.len() && t.len() < 6)
        || t.starts_with('/')
        || t.starts_with("./")
        || t.starts_with("http")
        || t.contains("://")
        || (t.trim_start_matches(['^', '~', '>', '=', '<']).starts_with(|c: char| c.is_ascii_digit())
            && t.bytes().all(|b| b.is_ascii_digit() || b".^~<>=-xX*".contains(&b)))
}

/// The secrets in a piece of text that is about to be shown (a source line or an excerpt of
/// one): known token formats, private-key material, passwords in URLs, bearer tokens, JWTs,
/// and values given to credential names (`SECRET_KEY = "…"`, `password: …`, `--token=…`,
/// `getenv("API_TOKEN", "…")`). Broader than `secret-hardcoded` on purpose: a value redacted
/// that was not a secret costs a few characters of a frame, a secret shown is a leak.
pub fn secret_spans(text: &str) -> Vec<Span> {
    let mut spans: Vec<Span> = Vec::new();
    let keep4 = |s: &str| if s.chars().count() >= 12 { 4 } else { 0 };
    let mut push = |start: usize, end: usize, keep: usize| {
        if end > start {
            spans.push(Span { start, end, keep });
        }
    };
    // Known token formats (byte regexes on ASCII patterns; ranges are at ASCII boundaries).
    let bytes = text.as_bytes();
    let set = format_set().matches(bytes);
    for i in set.iter() {
        for caps in format_regex(i).captures_iter(bytes) {
            let Some(m) = caps.get(1) else { continue };
            let Some(s) = text.get(m.start()..m.end()) else { continue };
            let s = s.trim_end();
            if is_reference(s) {
                continue;
            }
            push(m.start(), m.start() + s.len(), if FORMATS[i].id == "private-key" { 0 } else { keep4(s) });
        }
    }
    let p = shown();
    for c in p.pem.captures_iter(text) {
        if let Some(m) = c.get(1) {
            push(m.start(), m.end(), 0);
        }
    }
    for re in [&p.url_password, &p.bearer, &p.jwt, &p.sql_password] {
        for c in re.captures_iter(text) {
            if let Some(m) = c.get(1) {
                let v = m.as_str();
                let bearer = re.as_str() == p.bearer.as_str();
                // `Basic authentication` is prose: a credential has a digit or base64's `+/=`.
                let credential_like = v.bytes().any(|b| b.is_ascii_digit())
                    || v.ends_with('=')
                    || (v.len() >= 16 && v.bytes().any(|b| b == b'+' || b == b'/'));
                if !is_reference(v) && (!bearer || credential_like) {
                    push(m.start(), m.end(), keep4(m.as_str()));
                }
            }
        }
    }
    // A fallback literal, when the statement it ends names a credential.
    for c in p.fallback.captures_iter(text) {
        let (Some(all), Some(v)) = (c.get(0), (1..=3).find_map(|i| c.get(i))) else { continue };
        let statement = text[..all.start()].rsplit([';', '\n']).next().unwrap_or("");
        let names_credential =
            statement.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$')).any(is_credential_name);
        if names_credential && !is_reference(v.as_str()) && !is_plain_value(v.as_str()) {
            push(v.start(), v.end(), keep4(v.as_str()));
        }
    }
    for re in [&p.assign, &p.env_default] {
        for c in re.captures_iter(text) {
            let (Some(name), Some(v)) = (c.get(1), (2..=4).find_map(|i| c.get(i))) else { continue };
            if is_credential_name(name.as_str()) && !is_reference(v.as_str()) && !is_plain_value(v.as_str()) {
                push(v.start(), v.end(), keep4(v.as_str()));
            }
        }
    }
    // Names followed by `=` or `:` and an unquoted value; matched without the value, so that
    // `TODO: password=…` gives both `TODO` and `password` a turn.
    for c in p.bare.captures_iter(text) {
        let (Some(all), Some(name)) = (c.get(0), c.get(1)) else { continue };
        let rest = &text[all.end()..];
        let len = rest.find(|ch: char| ch.is_whitespace() || "\"'`,;(){}[]<>&".contains(ch)).unwrap_or(rest.len());
        // A shell default (`${PASSWORD:-value}`) starts after its `-`.
        let lead = usize::from(rest.starts_with('-') && text[..all.end()].ends_with(':'));
        let v = &rest[lead..len.max(lead)];
        let call = rest[len..].starts_with('(');
        // `x = ch_token_1` in code: a variable, though it has digits.
        let spaced = text[..all.end()].trim_end().strip_suffix('=').is_some_and(|b| b.ends_with(' '));
        let call = call || (spaced && v.contains(['_', '.']) && shown().identifier.is_match(v));
        if !v.is_empty() && !v.starts_with('=') && !call && is_credential_name(name.as_str()) && !is_code_value(v) {
            push(all.end() + lead, all.end() + len, keep4(v));
        }
    }
    spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match merged.last_mut() {
            Some(last) if s.start < last.end => {
                if s.end > last.end {
                    last.end = s.end;
                }
            }
            _ => merged.push(s),
        }
    }
    merged
}
