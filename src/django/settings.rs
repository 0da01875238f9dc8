//! Django settings, understood statically: which modules are settings modules, which are
//! dev/test, and what each production settings module finally sets after star imports.
//!
//! Extraction turns each candidate module's top-level statements into a small IR (names,
//! literals, env lookups). Resolution then replays a production root module, inlining what it
//! star-imports (skipping dev/test modules), and evaluates each assignment in the environment
//! built so far. Values from an env lookup's default (`os.getenv("DEBUG", "True")`) are marked as
//! fallbacks so rules can say so. Anything the evaluator does not model is `Unknown`, and rules
//! stay silent on `Unknown`.

use tree_sitter::Node;

use crate::python::eval::{
    either, env_keys, eval, expr_dotted, function, helper_calls_spent, helpers_reading_env, known, reset_helper_calls,
    to_expr, visit, Binding, CmpOp, Elem, Env, Expr, Func, Loc, Value, GETENV, V,
};
use crate::python::imports::Import;
use crate::python::syntax::{call_args, text};

/// Setting names that only a Django settings module assigns.
const DJANGO_ONLY: &[&str] = &[
    "INSTALLED_APPS",
    "MIDDLEWARE",
    "MIDDLEWARE_CLASSES",
    "ROOT_URLCONF",
    "DATABASES",
    "WSGI_APPLICATION",
    "ASGI_APPLICATION",
    "TEMPLATES",
    "AUTH_USER_MODEL",
    "STATIC_URL",
    "STATIC_ROOT",
    "ALLOWED_HOSTS",
    "DEFAULT_AUTO_FIELD",
    "AUTH_PASSWORD_VALIDATORS",
    "USE_TZ",
    "LANGUAGE_CODE",
    "CORS_ALLOWED_ORIGINS",
    "CORS_ALLOW_ALL_ORIGINS",
    "CORS_ORIGIN_ALLOW_ALL",
    "CORS_ORIGIN_WHITELIST",
    "REST_FRAMEWORK",
    "MEDIA_URL",
];
/// Setting names that also count towards recognising a settings module.
const COMMON: &[&str] = &["SECRET_KEY", "DEBUG", "TIME_ZONE", "USE_I18N", "MEDIA_ROOT", "LOGGING", "CACHES"];

/// Whether a Python file may be a settings module, decided on its text before any parse: it
/// assigns a known setting at module level, or it star-imports and is named like settings (an
/// overlay such as `settings/__init__.py` may assign nothing itself).
pub(crate) fn is_candidate(rel: &str, text: &str) -> bool {
    static ASSIGN: std::sync::OnceLock<regex::bytes::Regex> = std::sync::OnceLock::new();
    let assign = ASSIGN.get_or_init(|| {
        let names: Vec<&str> = DJANGO_ONLY.iter().chain(COMMON).copied().collect();
        let pattern = format!(r"(?-u)(?m)^(?:{}|CORS_[A-Z_]+)\s*(?::[^=\n]*)?(?:=|\+=)", names.join("|"));
        regex::bytes::Regex::new(&pattern).unwrap()
    });
    if assign.is_match(text.as_bytes()) {
        return true;
    }
    // A module of helpers around the environment that settings may import; not a module of
    // views, serializers, models, forms, admin, URLs or tasks, which settings do not import
    // (and which, read as candidates, would make every edit of a view an edit of the settings
    // for the run cache).
    static HELPER: std::sync::OnceLock<regex::bytes::Regex> = std::sync::OnceLock::new();
    let helper = HELPER.get_or_init(|| regex::bytes::Regex::new(r"(?-u)(?m)^def \w+\(").unwrap());
    if (text.contains("environ") || text.contains("getenv"))
        && !is_application_module(rel)
        && helper.is_match(text.as_bytes())
    {
        return true;
    }
    let lower = rel.to_ascii_lowercase();
    text.contains("import *")
        && (lower.contains("settings") || lower.ends_with("__init__.py") || lower.contains("conf"))
}

/// Whether a settings module is named as a test, example or template configuration
/// (`smoketest_settings.py`, `configuration_example.py`, `settings.sample.py`): a file a
/// deployment copies or a CI job uses, not the settings a deployment runs.
pub(crate) fn is_stand_in(rel: &str) -> bool {
    let rel = rel.to_ascii_lowercase();
    let name = rel.rsplit('/').next().unwrap_or(&rel);
    ["test", "example", "sample", "template"].iter().any(|w| name.contains(w))
}

/// A module of the application's request or task code by its name (`views.py`,
/// `api/views/orders.py`, `serializers.py`, ...), which settings do not import helpers from.
fn is_application_module(rel: &str) -> bool {
    const NAMES: &[&str] =
        &["views", "viewsets", "serializers", "models", "forms", "admin", "urls", "tasks", "signals", "filters"];
    let mut parts = rel.rsplit('/');
    let stem = parts.next().unwrap_or(rel).trim_end_matches(".py");
    NAMES.contains(&stem) || parts.next().is_some_and(|dir| ["views", "serializers", "viewsets"].contains(&dir))
}

/// Whether a statement always runs, runs only on some condition, or is an `except` fallback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ctx {
    Plain,
    Conditional,
    Fallback,
}

#[derive(Clone, Debug)]
pub enum StmtKind {
    Assign(String, Expr),
    /// `+=`, `.append(x)` (wrapped in a one-item Seq) and `.extend(xs)`.
    Extend(String, Expr),
    StarImport(String),
    /// `if cond: then else: els` at a module's top level (an `elif` is an `if` in `els`).
    If(Expr, Vec<Stmt>, Vec<Stmt>),
    /// `def name(...)`: index into the module's `funcs`.
    Def(usize),
    /// `from module import name as alias, ...`: (module, [(name, alias)]).
    ImportNames(String, Vec<(String, String)>),
}

#[derive(Clone, Debug)]
pub struct Stmt {
    pub kind: StmtKind,
    pub at: Loc,
    pub ctx: Ctx,
}

#[derive(Debug)]
pub struct Module {
    pub file: usize,
    pub rel: String,
    pub dotted: String,
    pub is_package: bool,
    pub dev: bool,
    pub stmts: Vec<Stmt>,
    pub funcs: std::sync::Arc<Vec<Func>>,
    pub django_names: usize,
    pub common_names: usize,
}

/// How the statements of a branch run in a replay.
enum Mode {
    /// Always, as far as the source says.
    Plain,
    /// Maybe: what they assign is unknown.
    Unknown,
    /// When the named variables are unset or empty: what they assign is a fallback.
    Unset(String),
}

/// Whether a condition tells dev/test runs from production ones: `Some(true)` when its true
/// branch is dev/test only (`if DEBUG:`, `if TESTING:`, `if ENV in ("ci", "local"):`,
/// `if "test" in sys.argv:`), `Some(false)` when its true branch is production only (`if not
/// DEBUG:`, `if ENVIRONMENT == "production":`); `None` when it says neither.
pub(crate) fn dev_condition(c: &Expr) -> Option<bool> {
    const FLAGS: &[&str] = &[
        "DEBUG",
        "TESTING",
        "TEST",
        "TESTS",
        "DEV",
        "DEVELOPMENT",
        "LOCAL",
        "CI",
        "DEBUG_MODE",
        "TEST_MODE",
        "TESTING_MODE",
        "DEV_MODE",
        "LOCAL_DEV",
        "UNIT_TEST",
        "UNIT_TESTS",
        "RUNNING_TESTS",
        "IS_TESTING",
        "IS_TEST",
        "IS_DEV",
        "IS_LOCAL",
        "IS_CI",
        "IN_TEST",
        "IN_TESTS",
        "IS_DEBUG",
    ];
    const DEV_WORDS: &[&str] =
        &["test", "tests", "testing", "dev", "develop", "development", "local", "ci", "debug", "pytest", "runserver"];
    const PROD_WORDS: &[&str] = &["prod", "production", "live"];
    let flag = |e: &Expr| -> bool {
        let name = match e {
            Expr::Name(n) => n.as_str(),
            Expr::Attr(o, a) if matches!(o.as_ref(), Expr::Name(s) if s == "settings") => a.as_str(),
            // `os.environ.get("TESTING")`, `env.bool("DEBUG")`
            Expr::Call { func, args, .. } => {
                let d = expr_dotted(func).unwrap_or_default();
                let envish = GETENV.contains(&d.as_str()) || d == "config" || d == "env" || d.starts_with("env.");
                match (envish, args.first()) {
                    (true, Some(Expr::Str(k))) => k.as_str(),
                    _ => return false,
                }
            }
            _ => return false,
        };
        FLAGS.contains(&name.to_ascii_uppercase().as_str())
    };
    let words = |e: &Expr| -> Option<bool> {
        let strs: Vec<String> = match e {
            Expr::Str(s) => vec![s.to_ascii_lowercase()],
            Expr::Seq(items) => {
                let mut v = Vec::new();
                for i in items {
                    let Expr::Str(s) = i else { return None };
                    v.push(s.to_ascii_lowercase());
                }
                v
            }
            _ => return None,
        };
        if !strs.is_empty() && strs.iter().all(|s| DEV_WORDS.contains(&s.as_str())) {
            Some(true)
        } else if !strs.is_empty() && strs.iter().all(|s| PROD_WORDS.contains(&s.as_str())) {
            Some(false)
        } else {
            None
        }
    };
    let literal = |e: &Expr| matches!(e, Expr::Str(_) | Expr::Seq(_));
    match c {
        _ if flag(c) => Some(true),
        Expr::Not(x) => dev_condition(x).map(|d| !d),
        Expr::And(a, b) => match (dev_condition(a), dev_condition(b)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        Expr::Or(a, b) => match (dev_condition(a), dev_condition(b)) {
            (Some(true), Some(true)) => Some(true),
            (Some(false), _) | (_, Some(false)) => Some(false),
            _ => None,
        },
        Expr::Cmp(l, op, r) => {
            let positive = matches!(op, CmpOp::Eq | CmpOp::In | CmpOp::Is);
            // `ENV == "dev"`, `ENV in ("ci", "local")`, `"test" in sys.argv`, `sys.argv[1] == "test"`
            let side = if !literal(l) && literal(r) {
                words(r)
            } else if literal(l) && !literal(r) && matches!(op, CmpOp::In | CmpOp::NotIn) {
                let target = match r.as_ref() {
                    Expr::Subscript(o, _) => expr_dotted(o),
                    other => expr_dotted(other),
                };
                if matches!(target.as_deref(), Some("sys.argv" | "sys.modules")) {
                    words(l)
                } else {
                    None
                }
            } else {
                None
            };
            side.map(|d| if positive { d } else { !d })
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Extraction

pub(crate) fn extract(file: usize, rel: &str, dev: bool, src: &str, root: Node<'_>) -> Module {
    let mut stmts = Vec::new();
    let mut funcs = Vec::new();
    block(root, src, file, Ctx::Plain, &mut stmts, &mut funcs, 0);
    helpers_reading_env(&mut funcs);
    let mut django_names = 0;
    let mut common_names = 0;
    let mut seen = std::collections::HashSet::new();
    // The CORS_* names count once together: a CORS middleware's own module-level constants
    // (`CORS_ALLOWED_ORIGINS = "*"`, `CORS_ALLOWED_METHODS = [...]`) are not a settings module.
    let mut cors_seen = false;
    walk_stmts(&stmts, &mut |s| {
        if let StmtKind::Assign(n, _) | StmtKind::Extend(n, _) = &s.kind {
            if seen.insert(n.clone()) {
                let cors = n.starts_with("CORS_");
                if cors && std::mem::replace(&mut cors_seen, true) {
                    // Another CORS_* name: already counted.
                } else if DJANGO_ONLY.contains(&n.as_str()) || cors {
                    django_names += 1;
                } else if COMMON.contains(&n.as_str()) {
                    common_names += 1;
                }
            }
        }
    });
    let no_ext = rel.strip_suffix(".py").unwrap_or(rel);
    let is_package = no_ext.ends_with("__init__") && (no_ext.len() == 8 || no_ext.ends_with("/__init__"));
    let module_path = no_ext.strip_suffix("/__init__").unwrap_or(no_ext);
    Module {
        file,
        rel: rel.to_string(),
        dotted: module_path.replace('/', "."),
        is_package,
        dev,
        stmts,
        funcs: std::sync::Arc::new(funcs),
        django_names,
        common_names,
    }
}

/// Calls `f` on every statement, those inside top-level `if` branches included.
pub(crate) fn walk_stmts<'a>(stmts: &'a [Stmt], f: &mut impl FnMut(&'a Stmt)) {
    for s in stmts {
        f(s);
        if let StmtKind::If(_, then, els) = &s.kind {
            walk_stmts(then, f);
            walk_stmts(els, f);
        }
    }
}

fn block(node: Node<'_>, src: &str, file: usize, ctx: Ctx, out: &mut Vec<Stmt>, funcs: &mut Vec<Func>, depth: usize) {
    if depth > 8 {
        return;
    }
    let mut cursor = node.walk();
    for stmt in node.named_children(&mut cursor) {
        let at = Loc { file, start: stmt.start_byte(), end: stmt.end_byte() };
        let cond = if ctx == Ctx::Plain { Ctx::Conditional } else { ctx };
        match stmt.kind() {
            "expression_statement" => {
                let mut c2 = stmt.walk();
                for e in stmt.named_children(&mut c2) {
                    expression_stmt(e, src, at, ctx, out);
                }
            }
            "import_from_statement" => match crate::python::imports::read(stmt, src) {
                Some(Import { from: Some(m), star: true, .. }) => {
                    out.push(Stmt { kind: StmtKind::StarImport(m), at, ctx });
                }
                Some(Import { from: Some(m), names, .. }) if !names.is_empty() => {
                    out.push(Stmt { kind: StmtKind::ImportNames(m, names), at, ctx });
                }
                _ => {}
            },
            "function_definition" if ctx == Ctx::Plain => {
                if let Some(f) = function(stmt, src) {
                    funcs.push(f);
                    out.push(Stmt { kind: StmtKind::Def(funcs.len() - 1), at, ctx });
                }
            }
            "if_statement" if ctx == Ctx::Plain => {
                // Each branch is kept apart: replay decides which one production takes.
                let cond = stmt.child_by_field_name("condition").map_or(Expr::Unknown, |c| to_expr(c, src, 0));
                let mut then = Vec::new();
                if let Some(b) = stmt.child_by_field_name("consequence") {
                    block(b, src, file, Ctx::Plain, &mut then, funcs, depth + 1);
                }
                let mut c2 = stmt.walk();
                let alts: Vec<Node<'_>> = stmt.children_by_field_name("alternative", &mut c2).collect();
                let mut els = Vec::new();
                for alt in alts.iter().rev() {
                    let mut body = Vec::new();
                    let b = alt.child_by_field_name("consequence").or_else(|| alt.child_by_field_name("body"));
                    if let Some(b) = b {
                        block(b, src, file, Ctx::Plain, &mut body, funcs, depth + 1);
                    }
                    els = if alt.kind() == "elif_clause" {
                        let c = alt.child_by_field_name("condition").map_or(Expr::Unknown, |c| to_expr(c, src, 0));
                        let at = Loc { file, start: alt.start_byte(), end: alt.end_byte() };
                        vec![Stmt { kind: StmtKind::If(c, body, els), at, ctx }]
                    } else {
                        body
                    };
                }
                out.push(Stmt { kind: StmtKind::If(cond, then, els), at, ctx });
            }
            "if_statement" => {
                if let Some(b) = stmt.child_by_field_name("consequence") {
                    block(b, src, file, cond, out, funcs, depth + 1);
                }
                let mut c2 = stmt.walk();
                for alt in stmt.children_by_field_name("alternative", &mut c2) {
                    let body = alt.child_by_field_name("consequence").or_else(|| alt.child_by_field_name("body"));
                    if let Some(b) = body {
                        block(b, src, file, cond, out, funcs, depth + 1);
                    }
                }
            }
            "try_statement" => {
                let mut c2 = stmt.walk();
                for child in stmt.named_children(&mut c2) {
                    match child.kind() {
                        "block" => block(child, src, file, ctx, out, funcs, depth + 1),
                        "except_clause" | "except_group_clause" => {
                            let mut c3 = child.walk();
                            let handler = child.named_children(&mut c3).filter(|n| n.kind() == "block").last();
                            if let Some(b) = handler {
                                let fb = if ctx == Ctx::Plain { Ctx::Fallback } else { ctx };
                                block(b, src, file, fb, out, funcs, depth + 1);
                            }
                        }
                        "else_clause" | "finally_clause" => {
                            let body = child.child_by_field_name("body").or_else(|| {
                                let mut c3 = child.walk();
                                let b = child.named_children(&mut c3).find(|n| n.kind() == "block");
                                b
                            });
                            if let Some(b) = body {
                                block(b, src, file, ctx, out, funcs, depth + 1);
                            }
                        }
                        _ => {}
                    }
                }
            }
            "with_statement" => {
                if let Some(b) = stmt.child_by_field_name("body") {
                    block(b, src, file, ctx, out, funcs, depth + 1);
                }
            }
            "for_statement" | "while_statement" => {
                if let Some(b) = stmt.child_by_field_name("body") {
                    block(b, src, file, cond, out, funcs, depth + 1);
                }
            }
            _ => {}
        }
    }
}

fn expression_stmt(e: Node<'_>, src: &str, at: Loc, ctx: Ctx, out: &mut Vec<Stmt>) {
    match e.kind() {
        "assignment" => {
            // `A = B = value`: every target gets the innermost value.
            let mut targets = Vec::new();
            let mut node = e;
            let value = loop {
                if let Some(l) = node.child_by_field_name("left") {
                    targets.push(l);
                }
                match node.child_by_field_name("right") {
                    Some(r) if r.kind() == "assignment" => node = r,
                    Some(r) => break Some(r),
                    None => break None,
                }
            };
            let Some(value) = value else { return };
            let expr = to_expr(value, src, 0);
            for t in targets {
                if t.kind() == "identifier" {
                    out.push(Stmt { kind: StmtKind::Assign(text(t, src).to_string(), expr.clone()), at, ctx });
                }
            }
        }
        "augmented_assignment" => {
            let (Some(l), Some(op), Some(r)) =
                (e.child_by_field_name("left"), e.child_by_field_name("operator"), e.child_by_field_name("right"))
            else {
                return;
            };
            if l.kind() == "identifier" && text(op, src) == "+=" {
                out.push(Stmt { kind: StmtKind::Extend(text(l, src).to_string(), to_expr(r, src, 0)), at, ctx });
            }
        }
        "call" => {
            let Some(f) = e.child_by_field_name("function") else {
                return;
            };
            if f.kind() != "attribute" {
                return;
            }
            let (Some(obj), Some(attr)) = (f.child_by_field_name("object"), f.child_by_field_name("attribute")) else {
                return;
            };
            if obj.kind() != "identifier" {
                return;
            }
            let (pos, _) = call_args(e, src);
            let name = text(obj, src).to_string();
            let expr = match (text(attr, src), pos.as_slice()) {
                ("append", [x]) => Expr::Seq(vec![to_expr(*x, src, 0)]),
                ("insert", [_, x]) => Expr::Seq(vec![to_expr(*x, src, 0)]),
                ("extend", [x]) => to_expr(*x, src, 0),
                _ => return,
            };
            out.push(Stmt { kind: StmtKind::Extend(name, expr), at, ctx });
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// The index and resolution

/// A test runner's settings module by its path: in a `tests`/`test`/`testing` folder, or named
/// for tests (`test_settings.py`, `settings_test.py`, `testing.py`).
fn test_module(rel: &str) -> bool {
    let lower = rel.to_ascii_lowercase();
    let mut parts = lower.trim_end_matches(".py").split('/').rev();
    let stem = parts.next().unwrap_or_default();
    parts.any(|d| matches!(d, "tests" | "test" | "testing"))
        || stem.split(['_', '-', '.']).any(|p| matches!(p, "test" | "tests" | "testing" | "pytest"))
}

/// What the project says of `DJANGO_SETTINGS_MODULE`: the modules deployments load (named in
/// wsgi.py, asgi.py, manage.py, celery.py, Dockerfiles, compose files, Procfiles, systemd units,
/// Kubernetes manifests and production env files) and those only the tests load (pytest.ini,
/// setup.cfg, tox.ini, conftest.py, pyproject.toml, CI workflows).
#[derive(Debug, Default)]
pub struct SettingsModules {
    pub deploy: Vec<String>,
    pub test: Vec<String>,
}

impl SettingsModules {
    /// Reads the files a project names its settings module in. `files` gives each file's path
    /// from the root and its text.
    pub fn scan<'a>(files: impl Iterator<Item = (&'a str, &'a str)>) -> Self {
        static DSM: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
        let re = DSM.get_or_init(|| {
            regex::Regex::new(
                r#"(?:DJANGO_SETTINGS_MODULE["']?\s*(?:[,=:]|\s)\s*(?:\$\{DJANGO_SETTINGS_MODULE[:]?-)?["']?|DJANGO_SETTINGS_MODULE["']?[ \t]*\r?\n[ \t]*value:[ \t]*["']?|--ds[= ]["']?)([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+)"#,
            )
            .unwrap()
        });
        let mut out = SettingsModules::default();
        for (rel, text) in files {
            let lower = rel.to_ascii_lowercase();
            let name = lower.rsplit('/').next().unwrap_or(&lower);
            let parts: Vec<&str> = lower.split(['/', '.', '_', '-']).collect();
            let test = matches!(
                name,
                "pytest.ini" | "setup.cfg" | "tox.ini" | "conftest.py" | "pyproject.toml" | "noxfile.py"
            ) || lower.starts_with(".github/")
                || lower.starts_with(".gitlab")
                || lower.starts_with(".circleci/");
            let prod_path = parts.iter().any(|p| matches!(*p, "prod" | "production"));
            // Kubernetes manifests and Helm charts: the env a deployment's pods get.
            let yaml = name.ends_with(".yml") || name.ends_with(".yaml");
            let manifest = yaml
                && lower.split('/').any(|d| {
                    matches!(
                        d,
                        "helm"
                            | "charts"
                            | "chart"
                            | "k8s"
                            | "kubernetes"
                            | "kustomize"
                            | "manifests"
                            | "deploy"
                            | "deployment"
                            | "deployments"
                    )
                });
            let deploy = !test
                && (matches!(name, "wsgi.py" | "asgi.py" | "manage.py" | "celery.py" | "celery_app.py" | "procfile")
                    || lower.ends_with("asgi/__init__.py")
                    || name.starts_with("dockerfile")
                    || name.ends_with(".dockerfile")
                    || name.ends_with(".service")
                    || (name.contains("compose") && yaml)
                    || manifest
                    || ((name.ends_with(".yml")
                        || name.ends_with(".yaml")
                        || name.starts_with('.')
                        || name.ends_with(".env")
                        || !name.contains('.'))
                        && prod_path));
            if !test && !deploy {
                continue;
            }
            // Only the head of big files: these are small configuration files.
            let head = text.get(..text.len().min(200_000)).unwrap_or("");
            if !head.contains("DJANGO_SETTINGS_MODULE") && !head.contains("--ds") {
                continue;
            }
            for c in re.captures_iter(head) {
                let m = c[1].to_string();
                let list = if test { &mut out.test } else { &mut out.deploy };
                if !list.contains(&m) {
                    list.push(m);
                }
            }
        }
        out.deploy.sort();
        out.test.sort();
        out
    }

    fn names(list: &[String], m: &Module) -> bool {
        list.iter().any(|d| m.dotted == *d || m.dotted.ends_with(&format!(".{d}")))
    }
}

#[derive(Debug, Default)]
pub struct SettingsIndex {
    pub modules: Vec<Module>,
    /// Production settings roots with their resolved bindings.
    pub roots: Vec<(usize, Env)>,
    /// Roots whose chain star-imports a module that is not in the project (the usual
    /// `try: from .local import *`): anything the project leaves unset may be set there.
    pub open: Vec<usize>,
}

impl SettingsIndex {
    /// Keeps the modules that are settings modules, finds production roots and resolves them.
    /// `candidates` are all modules extracted from prefiltered Python files; `overrides` maps a
    /// module index to forced dev (`true`) or production (`false`).
    pub fn build(candidates: Vec<Module>, force: impl Fn(&str) -> Option<bool>) -> Self {
        Self::build_with(candidates, force, &SettingsModules::default())
    }

    /// [`build`](Self::build), knowing which modules deployments and tests load: a module a
    /// deployment loads is a production root even when another settings module star-imports it
    /// (unless its name says dev/test); one that only the tests load is dev/test.
    pub fn build_with(candidates: Vec<Module>, force: impl Fn(&str) -> Option<bool>, named: &SettingsModules) -> Self {
        let all = candidates;
        let n = all.len();
        // Direct recognition, then modules that star-import a settings module (overlays).
        let mut is_settings: Vec<bool> = all
            .iter()
            .map(|m| {
                // Django's own defaults module is not a project's settings.
                let framework = m.rel.ends_with("django/conf/global_settings.py");
                !framework
                    && (m.django_names >= 2 || (m.django_names >= 1 && m.common_names >= 1) || force(&m.rel).is_some())
            })
            .collect();
        let imports: Vec<Vec<usize>> = all
            .iter()
            .map(|m| {
                let mut targets = Vec::new();
                walk_stmts(&m.stmts, &mut |s| {
                    if let StmtKind::StarImport(name) = &s.kind {
                        targets.extend(resolve_import(&all, m, name));
                    }
                });
                targets
            })
            .collect();
        loop {
            let mut changed = false;
            for i in 0..n {
                if !is_settings[i] && imports[i].iter().any(|&t| is_settings[t]) {
                    let m = &all[i];
                    if m.django_names + m.common_names >= 1 || m.is_package || m.rel.contains("settings") {
                        is_settings[i] = true;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        let mut modules = all;
        let mut deployed = vec![false; n];
        for (i, m) in modules.iter_mut().enumerate() {
            let deploy = SettingsModules::names(&named.deploy, m);
            if !deploy && SettingsModules::names(&named.test, m) {
                m.dev = true;
            }
            deployed[i] = deploy && !m.dev && is_settings[i];
            if let Some(dev) = force(&m.rel) {
                m.dev = dev;
                deployed[i] = false;
            }
        }
        // A root is a module no other settings module star-imports. In a star-import cycle
        // (`a.py: from .b import *`, `b.py: from .a import *`) each member is imported by
        // another, so the unit is the cycle, a strongly connected component: when no settings
        // module outside it imports any of its members, each member is a root (either may be
        // the one DJANGO_SETTINGS_MODULE names; `replay` breaks the cycle where Python's
        // partial import does).
        // A test module that star-imports the production one (`tests/settings.py: from
        // ..settings import *`) does not make it a base: production still runs it as it is.
        let settings_edges: Vec<Vec<usize>> = (0..n)
            .map(|i| if is_settings[i] && !test_module(&modules[i].rel) { imports[i].clone() } else { Vec::new() })
            .collect();
        let comp = components(&settings_edges);
        let mut imported = vec![false; n];
        for (i, targets) in settings_edges.iter().enumerate() {
            for &t in targets {
                if comp[t] != comp[i] {
                    imported[comp[t]] = true;
                }
            }
        }
        let mut index = SettingsIndex { modules, roots: Vec::new(), open: Vec::new() };
        for i in 0..n {
            if is_settings[i]
                && !index.modules[i].dev
                && (!imported[comp[i]] || force(&index.modules[i].rel) == Some(false) || deployed[i])
            {
                let mut env = Env::new();
                let mut open = false;
                index.replay(i, &mut env, &mut vec![i], &mut open);
                index.roots.push((i, env));
                if open {
                    index.open.push(i);
                }
            }
        }
        if std::env::var_os("PREFLIGHT_SETTINGS").is_some() {
            // A diagnostic listing of how each settings module was understood.
            for (i, m) in index.modules.iter().enumerate() {
                if is_settings[i] {
                    let role = if index.roots.iter().any(|(r, _)| *r == i) {
                        "production root"
                    } else if m.dev {
                        "dev/test"
                    } else {
                        "imported"
                    };
                    eprintln!("settings: {} ({role})", m.rel);
                }
            }
        }
        index
    }

    fn replay(&self, idx: usize, env: &mut Env, stack: &mut Vec<usize>, open: &mut bool) {
        let m = &self.modules[idx];
        self.replay_stmts(idx, &m.stmts, env, stack, open, &Mode::Plain);
    }

    fn replay_stmts(
        &self,
        idx: usize,
        stmts: &[Stmt],
        env: &mut Env,
        stack: &mut Vec<usize>,
        open: &mut bool,
        mode: &Mode,
    ) {
        let m = &self.modules[idx];
        for s in stmts {
            reset_helper_calls();
            match &s.kind {
                StmtKind::StarImport(name) => {
                    let Some(t) = resolve_import(&self.modules, m, name) else {
                        *open = true;
                        continue;
                    };
                    if self.modules[t].dev || stack.contains(&t) || stack.len() > 16 {
                        continue;
                    }
                    stack.push(t);
                    self.replay(t, env, stack, open);
                    stack.pop();
                }
                StmtKind::Assign(name, expr) if matches!(mode, Mode::Unknown) && s.ctx == Ctx::Plain => {
                    // Under an undecided `if`: the value before or the one assigned here.
                    let mut new = eval(expr, env, 0);
                    stamp(&mut new.v, s.at, new.fallback);
                    let value = either(env.get(name), Elem { v: new.v, at: s.at, fallback: new.fallback });
                    env.insert(name.clone(), Binding { value, at: s.at, module: idx, unless: None, keys: Vec::new() });
                }
                StmtKind::Extend(name, expr) if matches!(mode, Mode::Unknown) && s.ctx == Ctx::Plain => {
                    let mut add = eval(expr, env, 0);
                    stamp(&mut add.v, s.at, add.fallback);
                    let Some(prev) = env.get(name) else { continue };
                    let grown = match (&prev.value.v, add.v) {
                        (V::List(items), V::List(more)) if known(&V::List(more.clone())) => {
                            let mut all = items.clone();
                            all.extend(more);
                            V::List(all)
                        }
                        // What an undecided branch adds without saying what: ignored, as it
                        // always was (the items before are there either way).
                        _ => continue,
                    };
                    let fallback = prev.value.fallback || add.fallback;
                    let value = either(Some(prev), Elem { v: grown, at: s.at, fallback });
                    env.insert(name.clone(), Binding { value, at: s.at, module: idx, unless: None, keys: Vec::new() });
                }
                StmtKind::Assign(name, expr) => {
                    let mut value = match (s.ctx, mode) {
                        (Ctx::Conditional, _) | (_, Mode::Unknown) => Value::unknown(),
                        (Ctx::Plain, _) => eval(expr, env, 0),
                        (Ctx::Fallback, _) => Value { fallback: true, ..eval(expr, env, 0) },
                    };
                    if helper_calls_spent() {
                        // The helpers it calls ran out of budget: nothing of it is known.
                        value = Value::unknown();
                    }
                    let unless = match mode {
                        Mode::Unset(names) => {
                            value.fallback = true;
                            Some(names.clone())
                        }
                        _ => None,
                    };
                    stamp(&mut value.v, s.at, value.fallback);
                    let keys = env_keys(expr, env);
                    env.insert(name.clone(), Binding { value, at: s.at, module: idx, unless, keys });
                }
                StmtKind::Extend(name, expr) => {
                    if s.ctx == Ctx::Conditional || matches!(mode, Mode::Unknown) {
                        continue;
                    }
                    let mut add = eval(expr, env, 0);
                    if let Mode::Unset(_) = mode {
                        add.fallback = true;
                    }
                    stamp(&mut add.v, s.at, add.fallback);
                    let entry = env.entry(name.clone()).or_insert_with(|| Binding {
                        value: Value::unknown(),
                        at: s.at,
                        module: idx,
                        unless: None,
                        keys: Vec::new(),
                    });
                    match (&mut entry.value.v, add.v) {
                        (V::List(items), V::List(more)) => items.extend(more),
                        // Each branch's list grows the same way.
                        (V::Either(variants), V::List(more)) => {
                            for e in variants.iter_mut() {
                                match &mut e.v {
                                    V::List(items) => items.extend(more.iter().cloned()),
                                    _ => {
                                        entry.value = Value::unknown();
                                        break;
                                    }
                                }
                            }
                        }
                        (_, _) => entry.value = Value::unknown(),
                    }
                }
                StmtKind::Def(i) => {
                    let value = Value::new(V::Func(m.funcs.clone(), *i));
                    let b = Binding { value, at: s.at, module: idx, unless: None, keys: Vec::new() };
                    env.insert(m.funcs[*i].name.clone(), b);
                }
                StmtKind::ImportNames(module, names) => {
                    let Some(t) = resolve_import(&self.modules, m, module) else { continue };
                    let funcs = &self.modules[t].funcs;
                    for (name, alias) in names {
                        if let Some(j) = funcs.iter().position(|f| f.name == *name) {
                            let value = Value::new(V::Func(funcs.clone(), j));
                            env.insert(
                                alias.clone(),
                                Binding { value, at: s.at, module: idx, unless: None, keys: Vec::new() },
                            );
                        }
                    }
                }
                StmtKind::If(cond, then, els) => {
                    if let Mode::Unknown = mode {
                        self.replay_stmts(idx, then, env, stack, open, mode);
                        self.replay_stmts(idx, els, env, stack, open, mode);
                        continue;
                    }
                    // A dev/test guard: production takes the other branch.
                    if let Some(then_is_dev) = dev_condition(cond) {
                        let prod = if then_is_dev { els } else { then };
                        self.replay_stmts(idx, prod, env, stack, open, mode);
                        continue;
                    }
                    let c = eval(cond, env, 0);
                    let Some(t) = c.truthy() else {
                        self.replay_stmts(idx, then, env, stack, open, &Mode::Unknown);
                        self.replay_stmts(idx, els, env, stack, open, &Mode::Unknown);
                        continue;
                    };
                    let (taken, other) = if t { (then, els) } else { (els, then) };
                    if !c.fallback {
                        // Decided by the source alone (`USE_S3 = False` above): Python's own way.
                        self.replay_stmts(idx, taken, env, stack, open, mode);
                        continue;
                    }
                    // Decided by env defaults: the taken branch is what a deployment that sets
                    // nothing gets; what the other branch sets depends on the deployment.
                    let mut keys = env_keys(cond, env);
                    if keys.is_empty() {
                        visit(cond, &mut |x| {
                            if let Expr::Name(n) = x {
                                keys.push(n.clone());
                            }
                        });
                    }
                    if let Mode::Unset(outer) = mode {
                        keys.insert(0, outer.clone());
                    }
                    keys.dedup();
                    let names = keys.join("`, `");
                    // What only the other branch sets is unknown; what the taken one sets wins.
                    self.replay_stmts(idx, other, env, stack, open, &Mode::Unknown);
                    self.replay_stmts(idx, taken, env, stack, open, &Mode::Unset(names));
                }
            }
        }
    }

    /// The first project settings module a root star-imports (its base), if any.
    pub fn direct_base(&self, root: usize) -> Option<usize> {
        let m = &self.modules[root];
        let mut base = None;
        walk_stmts(&m.stmts, &mut |s| {
            if let (None, StmtKind::StarImport(name)) = (base, &s.kind) {
                base = resolve_import(&self.modules, m, name).filter(|&t| {
                    t != root && !self.modules[t].dev && self.modules[t].django_names + self.modules[t].common_names > 0
                });
            }
        });
        base
    }

    pub fn module(&self, idx: usize) -> &Module {
        &self.modules[idx]
    }
}

impl Module {
    /// Where a setting the module leaves unset belongs, for a reader who would add it: the
    /// top-level statement assigning the first of `related` the module assigns (`SECURE_SSL_REDIRECT`
    /// beside a missing `SECURE_HSTS_SECONDS`; an entry ending in `_` is a prefix, `SESSION_COOKIE_`
    /// for any session cookie setting), else the module's last top-level assignment of a
    /// setting (an upper-case name) or star import (the end of its settings block); `None` for a
    /// module with neither.
    pub(crate) fn anchor(&self, related: &[&str]) -> Option<Loc> {
        let assigns = |name: &str| {
            let matches = |n: &str| if name.ends_with('_') { n.starts_with(name) } else { n == name };
            self.stmts.iter().find(|s| matches!(&s.kind, StmtKind::Assign(n, _) | StmtKind::Extend(n, _) if matches(n)))
        };
        related.iter().find_map(|name| assigns(name)).map(|s| s.at).or_else(|| {
            self.stmts
                .iter()
                .rev()
                .find(|s| match &s.kind {
                    StmtKind::Assign(n, _) | StmtKind::Extend(n, _) => {
                        n.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                    }
                    StmtKind::StarImport(_) => true,
                    _ => false,
                })
                .map(|s| s.at)
        })
    }
}

/// Strongly connected components of a graph given as adjacency lists (Tarjan's algorithm,
/// with an explicit stack: no recursion however long a chain): `comp[v]` is the component of
/// `v`, numbered from 0 and below `edges.len()`.
fn components(edges: &[Vec<usize>]) -> Vec<usize> {
    const NONE: usize = usize::MAX;
    let n = edges.len();
    let (mut index, mut low, mut comp) = (vec![NONE; n], vec![0; n], vec![NONE; n]);
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let (mut next, mut ncomp) = (0, 0);
    for s in 0..n {
        if index[s] != NONE {
            continue;
        }
        // (vertex, next edge to follow)
        let mut call = vec![(s, 0)];
        index[s] = next;
        low[s] = next;
        next += 1;
        stack.push(s);
        on_stack[s] = true;
        while let Some(&(v, e)) = call.last() {
            if let Some(&w) = edges[v].get(e) {
                call.last_mut().expect("non-empty").1 += 1;
                if index[w] == NONE {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    call.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            call.pop();
            if let Some(&(u, _)) = call.last() {
                low[u] = low[u].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp[w] = ncomp;
                    if w == v {
                        break;
                    }
                }
                ncomp += 1;
            }
        }
    }
    comp
}

/// Gives list elements that have no location yet the location of the statement that made them.
fn stamp(v: &mut V, at: Loc, fallback: bool) {
    if let V::List(items) = v {
        for e in items {
            if e.at.file == usize::MAX {
                e.at = at;
                e.fallback |= fallback;
            }
        }
    }
}

/// The module a `from X import *` names, among the candidate modules.
fn resolve_import(modules: &[Module], from: &Module, name: &str) -> Option<usize> {
    let target = crate::python::imports::absolute(name, &from.dotted, from.is_package)?;
    let suffix = format!(".{target}");
    modules
        .iter()
        .enumerate()
        .filter(|(_, m)| m.dotted == target || m.dotted.ends_with(&suffix))
        .min_by_key(|(_, m)| m.dotted.len())
        .map(|(i, _)| i)
}

// ---------------------------------------------------------------------------------------------
// Reporting helpers shared by the settings rules

/// What `judge` finds in the bindings of `names` in each production root, as `judge_roots`.
pub(crate) fn judge_setting(
    idx: &SettingsIndex,
    names: &[&str],
    mut judge: impl FnMut(&str, &Binding) -> Vec<(Loc, String)>,
) -> Vec<(Loc, String)> {
    judge_roots(idx, |_, env| {
        names.iter().filter_map(|name| env.get(*name).map(|b| judge(name, b))).flatten().collect()
    })
}

/// Runs `judge` on every production root (its module index and resolved bindings) and gives
/// each distinct (location, message) once; a location outside the root's own module gets the
/// list of roots it is in effect for.
pub(crate) fn judge_roots(
    idx: &SettingsIndex,
    mut judge: impl FnMut(usize, &Env) -> Vec<(Loc, String)>,
) -> Vec<(Loc, String)> {
    let rel_of = |file: usize| idx.modules.iter().find(|m| m.file == file).map(|m| m.rel.as_str());
    let mut by_loc: Vec<(Loc, String, Vec<String>)> = Vec::new();
    for (root, env) in &idx.roots {
        let root_rel = &idx.module(*root).rel;
        for (at, msg) in judge(*root, env) {
            let inherited = rel_of(at.file) != Some(root_rel.as_str());
            match by_loc.iter_mut().find(|(l, m, _)| *l == at && *m == msg) {
                Some((_, _, roots)) => {
                    if inherited {
                        roots.push(root_rel.clone())
                    }
                }
                None => by_loc.push((at, msg, if inherited { vec![root_rel.clone()] } else { vec![] })),
            }
        }
    }
    by_loc
        .into_iter()
        .map(|(at, msg, mut roots)| {
            roots.sort();
            roots.dedup();
            if roots.is_empty() {
                return (at, msg);
            }
            let list: Vec<String> = roots.iter().map(|r| format!("`{r}`")).collect();
            (at, format!("{msg} (in effect for {})", list.join(", ")))
        })
        .collect()
}

/// The strings of a fully known list (`MIDDLEWARE`, `INSTALLED_APPS`); `None` when the value is
/// not a list or any element is not a known string.
pub(crate) fn string_list(v: &V) -> Option<Vec<&str>> {
    let V::List(items) = v else { return None };
    items.iter().map(|e| if let V::Str(s) = &e.v { Some(s.as_str()) } else { None }).collect()
}

/// The list elements of a value, or the value itself as one element when it is a string
/// (`ALLOWED_HOSTS = "*"` is iterated character by character, and still matches `*`).
pub(crate) fn elements(b: &Binding) -> Vec<(V, Loc, bool)> {
    match &b.value.v {
        // Under an undecided `if`: the elements every variant has.
        V::Either(variants) => {
            let each: Vec<Vec<(V, Loc, bool)>> = variants
                .iter()
                .map(|e| {
                    let value = Value { v: e.v.clone(), fallback: e.fallback };
                    elements(&Binding { value, at: e.at, module: b.module, unless: None, keys: Vec::new() })
                })
                .collect();
            let Some((first, rest)) = each.split_first() else { return vec![] };
            first.iter().filter(|(v, _, _)| rest.iter().all(|o| o.iter().any(|(w, _, _)| w == v))).cloned().collect()
        }
        V::List(items) => items.iter().map(|e| (e.v.clone(), e.at, e.fallback || b.value.fallback)).collect(),
        V::Str(s) => vec![(V::Str(s.clone()), b.at, b.value.fallback)],
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::components;

    #[test]
    fn components_of_cycles_chains_and_self_loops() {
        // 0 -> 1 -> 2 -> 1 (cycle {1, 2}), 3 -> 3 (self loop), 4 alone, 5 -> 0.
        let edges = vec![vec![1], vec![2], vec![1], vec![3], vec![], vec![0]];
        let c = components(&edges);
        assert_eq!(c[1], c[2]);
        let mut distinct = vec![c[0], c[1], c[3], c[4], c[5]];
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 5);
        // A chain of 100,000 star imports: no recursion, no stack overflow.
        let long: Vec<Vec<usize>> = (0..100_000).map(|i| if i + 1 < 100_000 { vec![i + 1] } else { vec![0] }).collect();
        assert!(components(&long).iter().all(|&x| x == 0));
    }
}

#[cfg(test)]
mod branch_tests {
    use super::{dev_condition, CmpOp, Expr};

    fn name(n: &str) -> Box<Expr> {
        Box::new(Expr::Name(n.into()))
    }
    fn strs(items: &[&str]) -> Box<Expr> {
        Box::new(Expr::Seq(items.iter().map(|s| Expr::Str((*s).into())).collect()))
    }

    #[test]
    fn dev_and_production_conditions() {
        assert_eq!(dev_condition(&Expr::Name("DEBUG".into())), Some(true));
        assert_eq!(dev_condition(&Expr::Not(name("TESTING"))), Some(false));
        assert_eq!(dev_condition(&Expr::Cmp(name("APP_ENV"), CmpOp::In, strs(&["ci", "local"]))), Some(true));
        assert_eq!(dev_condition(&Expr::Cmp(name("ENV"), CmpOp::Ne, strs(&["production"]))), Some(true));
        assert_eq!(dev_condition(&Expr::Cmp(name("ENV"), CmpOp::Eq, Box::new(Expr::Str("prod".into())))), Some(false));
        let argv = Box::new(Expr::Attr(name("sys"), "argv".into()));
        assert_eq!(dev_condition(&Expr::Cmp(Box::new(Expr::Str("test".into())), CmpOp::In, argv)), Some(true));
        assert_eq!(dev_condition(&Expr::And(name("DEBUG"), name("X"))), Some(true));
        // Neither: a feature flag, a mixed list, a word that only contains a dev word.
        assert_eq!(dev_condition(&Expr::Name("USE_LOCAL_STORAGE".into())), None);
        assert_eq!(dev_condition(&Expr::Cmp(name("ENV"), CmpOp::In, strs(&["dev", "production"]))), None);
        assert_eq!(dev_condition(&Expr::Or(name("DEBUG"), name("X"))), None);
    }
}

#[cfg(test)]
mod named_tests {
    use super::SettingsModules;

    #[test]
    fn settings_modules_named_by_deployments_and_tests() {
        let files = [
            ("app/wsgi.py", "os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"app.settings.prod\")\n"),
            ("Dockerfile", "ENV DJANGO_SETTINGS_MODULE=app.settings.docker\n"),
            ("docker-compose.yml", "    environment:\n      DJANGO_SETTINGS_MODULE: app.settings.compose\n"),
            ("compose.dev.yml", "      - DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE-app.settings.devbox}\n"),
            ("Procfile", "web: DJANGO_SETTINGS_MODULE=app.settings.heroku gunicorn app.wsgi\n"),
            (".envs/.production/.django", "DJANGO_SETTINGS_MODULE=app.settings.envfile\n"),
            (
                "deploy/k8s/web.yaml",
                "        env:\n          - name: DJANGO_SETTINGS_MODULE\n            value: \"app.settings.k8s\"\n",
            ),
            ("charts/shop/values.yaml", "env:\n  DJANGO_SETTINGS_MODULE: app.settings.helm\n"),
            // A Helm template's value is a template, not a module.
            (
                "charts/shop/templates/deployment.yaml",
                "- name: DJANGO_SETTINGS_MODULE\n  value: {{ .Values.settings }}\n",
            ),
            ("pytest.ini", "[pytest]\nDJANGO_SETTINGS_MODULE = app.settings.pytest\n"),
            ("pyproject.toml", "addopts = [\"--ds=app.settings.ds\"]\n"),
            (".github/workflows/ci.yml", "export DJANGO_SETTINGS_MODULE=app.settings.ci_job\n"),
            // Not read: documentation, and a module name without a package.
            ("docs/deploy.md", "DJANGO_SETTINGS_MODULE=app.settings.docs\n"),
            ("app/asgi.py", "os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"settings\")\n"),
        ];
        let named = SettingsModules::scan(files.iter().copied());
        assert_eq!(
            named.deploy,
            [
                "app.settings.compose",
                "app.settings.devbox",
                "app.settings.docker",
                "app.settings.envfile",
                "app.settings.helm",
                "app.settings.heroku",
                "app.settings.k8s",
                "app.settings.prod"
            ]
        );
        assert_eq!(named.test, ["app.settings.ci_job", "app.settings.ds", "app.settings.pytest"]);
    }
}

#[cfg(test)]
mod candidate_tests {
    use super::is_candidate;

    #[test]
    fn env_helpers_are_candidates_and_views_that_read_the_environment_are_not() {
        let helper = "import os\n\ndef env_bool(name):\n    return os.environ.get(name) == '1'\n";
        assert!(is_candidate("config/env.py", helper));
        assert!(is_candidate("shop/utils.py", helper));
        for rel in ["shop/views.py", "shop/api/views/orders.py", "shop/serializers.py", "shop/tasks.py"] {
            assert!(!is_candidate(rel, helper), "{rel}");
        }
        // A module that assigns settings is one, whatever its name.
        assert!(is_candidate("shop/views.py", "DEBUG = True\nSECRET_KEY = 'x'\n"));
    }
}
