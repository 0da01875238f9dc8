//! Django settings, understood statically: which modules are settings modules, which are
//! dev/test, and what each production settings module finally sets after star imports.
//!
//! Extraction turns each candidate module's top-level statements into a small IR (names,
//! literals, env lookups). Resolution then replays a production root module, inlining what it
//! star-imports (skipping dev/test modules), and evaluates each assignment in the environment
//! built so far. Values from an env lookup's default (`os.getenv("DEBUG", "True")`) are marked as
//! fallbacks so rules can say so. Anything the evaluator does not model is `Unknown`, and rules
//! stay silent on `Unknown`.

use std::collections::HashMap;

use tree_sitter::Node;

use crate::python::{call_args, string_value, text, MAX_DEPTH};

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
pub fn is_candidate(rel: &str, text: &str) -> bool {
    static ASSIGN: std::sync::OnceLock<regex::bytes::Regex> = std::sync::OnceLock::new();
    let assign = ASSIGN.get_or_init(|| {
        let names: Vec<&str> = DJANGO_ONLY.iter().chain(COMMON).copied().collect();
        let pattern = format!(r"(?-u)(?m)^(?:{}|CORS_[A-Z_]+)\s*(?::[^=\n]*)?(?:=|\+=)", names.join("|"));
        regex::bytes::Regex::new(&pattern).unwrap()
    });
    if assign.is_match(text.as_bytes()) {
        return true;
    }
    // A module of helpers around the environment that settings may import.
    static HELPER: std::sync::OnceLock<regex::bytes::Regex> = std::sync::OnceLock::new();
    let helper = HELPER.get_or_init(|| regex::bytes::Regex::new(r"(?-u)(?m)^def \w+\(").unwrap());
    if (text.contains("environ") || text.contains("getenv")) && helper.is_match(text.as_bytes()) {
        return true;
    }
    let lower = rel.to_ascii_lowercase();
    text.contains("import *")
        && (lower.contains("settings") || lower.ends_with("__init__.py") || lower.contains("conf"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loc {
    pub file: usize,
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug)]
pub enum Expr {
    Str(String),
    Int(i64),
    Bool(bool),
    None,
    Seq(Vec<Expr>),
    Name(String),
    Attr(Box<Expr>, String),
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
        kwargs: Vec<(String, Expr)>,
    },
    Add(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp(Box<Expr>, CmpOp, Box<Expr>),
    Subscript(Box<Expr>, Box<Expr>),
    /// `[elt for var in iter if cond]` (one `for`, a plain name as target).
    Comp {
        elt: Box<Expr>,
        var: String,
        iter: Box<Expr>,
        cond: Option<Box<Expr>>,
    },
    /// `a if cond else b`: (cond, a, b).
    IfElse(Box<Expr>, Box<Expr>, Box<Expr>),
    Unknown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    In,
    NotIn,
    Is,
    IsNot,
}

/// A function defined at a module's top level, kept to evaluate project helpers around the
/// environment (`def env_bool(name, default): return os.getenv(name, default) == "True"`).
#[derive(Debug)]
pub struct Func {
    pub name: String,
    /// Parameter names with their default; `*args`/`**kwargs` are left out.
    pub params: Vec<(String, Option<Expr>)>,
    pub body: Vec<FStmt>,
    /// The body reads the environment (directly or through a helper of the same module): what
    /// the function returns when the variable is unset is an env default.
    pub reads_env: bool,
}

impl PartialEq for Func {
    fn eq(&self, _: &Self) -> bool {
        false
    }
}

/// The statements of a helper's body that evaluation follows.
#[derive(Clone, Debug)]
pub enum FStmt {
    Assign(String, Expr),
    Return(Expr),
    If(Expr, Vec<FStmt>, Vec<FStmt>),
    /// `raise`, or a statement not modelled: reaching it makes the result unknown.
    Abort,
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

/// An abstract Python value.
#[derive(Clone, Debug, PartialEq)]
pub enum V {
    Str(String),
    Int(i64),
    Bool(bool),
    None,
    List(Vec<Elem>),
    /// An env lookup with no default: absent or whatever the environment says.
    EnvUnset,
    /// A django-environ `Env(NAME=(cast, default), ...)` object.
    EnvSchema(Vec<(String, Expr)>),
    /// A function of the project: (its module's functions, its index there).
    Func(std::sync::Arc<Vec<Func>>, usize),
    /// One of these, by the branch of an `if` a deployment takes (each variant with where it
    /// was set); every variant is known.
    Either(Vec<Elem>),
    Unknown,
}

impl PartialEq for Expr {
    fn eq(&self, _: &Self) -> bool {
        false
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Elem {
    pub v: V,
    pub at: Loc,
    pub fallback: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    pub v: V,
    /// The value comes from an env lookup's default or an `or`/`except` fallback.
    pub fallback: bool,
}

impl Value {
    fn new(v: V) -> Self {
        Value { v, fallback: false }
    }
    fn unknown() -> Self {
        Value::new(V::Unknown)
    }
    pub fn truthy(&self) -> Option<bool> {
        truthy(&self.v)
    }
}

pub fn truthy(v: &V) -> Option<bool> {
    match v {
        V::Str(s) => Some(!s.is_empty()),
        V::Int(i) => Some(*i != 0),
        V::Bool(b) => Some(*b),
        V::None => Some(false),
        V::List(l) => Some(!l.is_empty()),
        V::Either(variants) => {
            let first = truthy(&variants.first()?.v)?;
            variants.iter().all(|e| truthy(&e.v) == Some(first)).then_some(first)
        }
        V::EnvUnset | V::EnvSchema(_) | V::Func(..) | V::Unknown => None,
    }
}

#[derive(Clone, Debug)]
pub struct Binding {
    pub value: Value,
    pub at: Loc,
    /// The module that made the final assignment.
    pub module: usize,
    /// Set when the value is what a deployment gets by leaving these variables unset or empty:
    /// the branch of an `if` taken then (`if CORS_ALLOWED_ORIGINS: ... else: ...`).
    pub unless: Option<String>,
    /// The environment variables the value was read from (for naming them in messages).
    pub keys: Vec<String>,
}

pub type Env = HashMap<String, Binding>;

/// Whether a value is fully known (an `Either` of known variants included).
fn known(v: &V) -> bool {
    match v {
        V::Str(_) | V::Int(_) | V::Bool(_) | V::None => true,
        V::List(items) => items.iter().all(|e| known(&e.v)),
        V::Either(variants) => variants.iter().all(|e| known(&e.v)),
        V::EnvUnset | V::EnvSchema(_) | V::Func(..) | V::Unknown => false,
    }
}

/// The value of a name that an undecided branch may set to `new`: either what it was before or
/// `new`, when both are known; unknown otherwise.
fn either(prev: Option<&Binding>, new: Elem) -> Value {
    let Some(prev) = prev else { return Value::unknown() };
    if !known(&prev.value.v) || !known(&new.v) {
        return Value::unknown();
    }
    let mut variants = match &prev.value.v {
        V::Either(vs) => vs.clone(),
        v => vec![Elem { v: v.clone(), at: prev.at, fallback: prev.value.fallback }],
    };
    let fallback = prev.value.fallback || new.fallback;
    match new.v {
        V::Either(vs) => variants.extend(vs),
        _ => variants.push(new),
    }
    if variants.len() > 16 {
        return Value::unknown();
    }
    Value { v: V::Either(variants), fallback }
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

/// The environment variables an expression reads, directly or through the names it uses.
fn env_keys(e: &Expr, env: &Env) -> Vec<String> {
    let mut keys = Vec::new();
    visit(e, &mut |x| match x {
        Expr::Call { func, args, .. } => {
            let d = expr_dotted(func).unwrap_or_default();
            let envish = GETENV.contains(&d.as_str()) || d == "config" || d == "env" || d.starts_with("env.");
            let helper =
                matches!(func.as_ref(), Expr::Name(n) if matches!(env.get(n).map(|b| &b.value.v), Some(V::Func(..))));
            if envish || helper {
                if let Some(Expr::Str(k)) = args.first() {
                    keys.push(k.clone());
                }
            }
        }
        Expr::Subscript(o, k) => {
            if let (Some(d), Expr::Str(k)) = (expr_dotted(o), k.as_ref()) {
                if ENVIRON.contains(&d.as_str()) {
                    keys.push(k.clone());
                }
            }
        }
        Expr::Name(n) => {
            if let Some(b) = env.get(n) {
                keys.extend(b.keys.iter().cloned());
            }
        }
        _ => {}
    });
    keys.dedup();
    keys
}

/// Whether a condition tells dev/test runs from production ones: `Some(true)` when its true
/// branch is dev/test only (`if DEBUG:`, `if TESTING:`, `if ENV in ("ci", "local"):`,
/// `if "test" in sys.argv:`), `Some(false)` when its true branch is production only (`if not
/// DEBUG:`, `if ENVIRONMENT == "production":`); `None` when it says neither.
pub fn dev_condition(c: &Expr) -> Option<bool> {
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

pub fn extract(file: usize, rel: &str, dev: bool, src: &str, root: Node<'_>) -> Module {
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
pub fn walk_stmts<'a>(stmts: &'a [Stmt], f: &mut impl FnMut(&'a Stmt)) {
    for s in stmts {
        f(s);
        if let StmtKind::If(_, then, els) = &s.kind {
            walk_stmts(then, f);
            walk_stmts(els, f);
        }
    }
}

/// Marks the functions whose body reads the environment, directly or by calling another
/// function of the same module that does.
fn helpers_reading_env(funcs: &mut [Func]) {
    fn calls(body: &[FStmt], out: &mut Vec<String>) {
        fn expr(e: &Expr, out: &mut Vec<String>) {
            visit(e, &mut |x| {
                if let Expr::Call { func, .. } = x {
                    if let Expr::Name(n) = func.as_ref() {
                        out.push(n.clone());
                    }
                }
            });
        }
        for s in body {
            match s {
                FStmt::Assign(_, e) | FStmt::Return(e) => expr(e, out),
                FStmt::If(c, a, b) => {
                    expr(c, out);
                    calls(a, out);
                    calls(b, out);
                }
                FStmt::Abort => {}
            }
        }
    }
    let called: Vec<Vec<String>> = funcs
        .iter()
        .map(|f| {
            let mut out = Vec::new();
            calls(&f.body, &mut out);
            out
        })
        .collect();
    loop {
        let mut changed = false;
        for i in 0..funcs.len() {
            if !funcs[i].reads_env && called[i].iter().any(|c| funcs.iter().any(|g| g.reads_env && g.name == *c)) {
                funcs[i].reads_env = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

/// Calls `f` on `e` and every expression inside it.
fn visit(e: &Expr, f: &mut impl FnMut(&Expr)) {
    f(e);
    match e {
        Expr::Seq(items) => items.iter().for_each(|i| visit(i, f)),
        Expr::Attr(o, _) | Expr::Not(o) => visit(o, f),
        Expr::Call { func, args, kwargs } => {
            visit(func, f);
            args.iter().for_each(|a| visit(a, f));
            kwargs.iter().for_each(|(_, a)| visit(a, f));
        }
        Expr::Add(a, b) | Expr::Or(a, b) | Expr::And(a, b) | Expr::Cmp(a, _, b) | Expr::Subscript(a, b) => {
            visit(a, f);
            visit(b, f);
        }
        Expr::Comp { elt, iter, cond, .. } => {
            visit(elt, f);
            visit(iter, f);
            if let Some(c) = cond {
                visit(c, f);
            }
        }
        Expr::IfElse(c, a, b) => {
            visit(c, f);
            visit(a, f);
            visit(b, f);
        }
        _ => {}
    }
}

/// Whether an expression reads the environment: `os.environ`, `os.getenv(...)`, decouple's
/// `config(...)`, django-environ's `env(...)` / `env.bool(...)`.
fn mentions_env(e: &Expr) -> bool {
    let mut found = false;
    visit(e, &mut |x| {
        let d = match x {
            Expr::Attr(..) => expr_dotted(x),
            Expr::Call { func, .. } => expr_dotted(func),
            _ => None,
        };
        if let Some(d) = d {
            found |= ENVIRON.contains(&d.as_str())
                || GETENV.contains(&d.as_str())
                || d == "config"
                || d == "env"
                || d.starts_with("env.");
        }
    });
    found
}

/// A function definition at module level, as a [`Func`].
fn function(def: Node<'_>, src: &str) -> Option<Func> {
    let name = text(def.child_by_field_name("name")?, src).to_string();
    let mut params = Vec::new();
    let mut c = def.child_by_field_name("parameters")?.walk();
    let plist = def.child_by_field_name("parameters")?;
    for p in plist.named_children(&mut c) {
        match p.kind() {
            "identifier" => params.push((text(p, src).to_string(), None)),
            "typed_parameter" => {
                let mut c2 = p.walk();
                let id = p.named_children(&mut c2).find(|x| x.kind() == "identifier");
                // `*args: str` and `**kwargs: Any` have no plain name.
                if let Some(id) = id {
                    params.push((text(id, src).to_string(), None));
                }
            }
            "default_parameter" | "typed_default_parameter" => {
                let n = p.child_by_field_name("name")?;
                let v = p.child_by_field_name("value").map(|v| to_expr(v, src, 0));
                params.push((text(n, src).to_string(), v));
            }
            _ => {}
        }
    }
    let body = def.child_by_field_name("body")?;
    let body = fbody(body, src, 0);
    let mut reads_env = false;
    fn scan(b: &[FStmt], found: &mut bool) {
        for s in b {
            match s {
                FStmt::Assign(_, e) | FStmt::Return(e) => *found |= mentions_env(e),
                FStmt::If(c, a, b) => {
                    *found |= mentions_env(c);
                    scan(a, found);
                    scan(b, found);
                }
                FStmt::Abort => {}
            }
        }
    }
    scan(&body, &mut reads_env);
    Some(Func { name, params, body, reads_env })
}

fn fbody(node: Node<'_>, src: &str, depth: usize) -> Vec<FStmt> {
    let mut out = Vec::new();
    if depth > 8 {
        out.push(FStmt::Abort);
        return out;
    }
    let mut cursor = node.walk();
    for stmt in node.named_children(&mut cursor) {
        match stmt.kind() {
            "expression_statement" => {
                let mut c2 = stmt.walk();
                for e in stmt.named_children(&mut c2) {
                    if e.kind() == "assignment" {
                        let (Some(l), Some(r)) = (e.child_by_field_name("left"), e.child_by_field_name("right")) else {
                            out.push(FStmt::Abort);
                            continue;
                        };
                        if l.kind() == "identifier" && r.kind() != "assignment" {
                            out.push(FStmt::Assign(text(l, src).to_string(), to_expr(r, src, 0)));
                        } else {
                            out.push(FStmt::Abort);
                        }
                    } else if e.kind() == "augmented_assignment" {
                        out.push(FStmt::Abort);
                    }
                    // Calls (logging, warnings) and docstrings change nothing evaluation follows.
                }
            }
            "return_statement" => {
                let mut c2 = stmt.walk();
                let v = stmt.named_children(&mut c2).next();
                out.push(FStmt::Return(v.map_or(Expr::None, |v| to_expr(v, src, 0))));
            }
            "if_statement" => {
                // `if name := expr:` binds first.
                if let Some(c) = stmt.child_by_field_name("condition").filter(|c| c.kind() == "named_expression") {
                    if let (Some(n), Some(v)) = (c.child_by_field_name("name"), c.child_by_field_name("value")) {
                        out.push(FStmt::Assign(text(n, src).to_string(), to_expr(v, src, 0)));
                    }
                }
                out.push(fif(stmt, src, depth));
            }
            "try_statement" => {
                // The path without an exception: the `try` body.
                let mut c2 = stmt.walk();
                let b = stmt.named_children(&mut c2).find(|n| n.kind() == "block");
                match b {
                    Some(b) => out.extend(fbody(b, src, depth + 1)),
                    None => out.push(FStmt::Abort),
                }
            }
            "pass_statement" | "comment" | "import_statement" | "import_from_statement" => {}
            _ => out.push(FStmt::Abort),
        }
    }
    out
}

fn fif(stmt: Node<'_>, src: &str, depth: usize) -> FStmt {
    let cond = stmt.child_by_field_name("condition").map_or(Expr::Unknown, |c| match c.kind() {
        "named_expression" => {
            c.child_by_field_name("name").map_or(Expr::Unknown, |n| Expr::Name(text(n, src).to_string()))
        }
        _ => to_expr(c, src, 0),
    });
    let then = stmt.child_by_field_name("consequence").map_or_else(|| vec![FStmt::Abort], |b| fbody(b, src, depth + 1));
    let mut c2 = stmt.walk();
    let alts: Vec<Node<'_>> = stmt.children_by_field_name("alternative", &mut c2).collect();
    // `elif` chains nest: if a: .. elif b: .. else: .. == if a: .. else: (if b: .. else: ..)
    let mut els = Vec::new();
    for alt in alts.iter().rev() {
        els = match alt.kind() {
            "elif_clause" => {
                let c = alt.child_by_field_name("condition").map_or(Expr::Unknown, |c| to_expr(c, src, 0));
                let b = alt
                    .child_by_field_name("consequence")
                    .map_or_else(|| vec![FStmt::Abort], |b| fbody(b, src, depth + 1));
                vec![FStmt::If(c, b, els)]
            }
            _ => alt.child_by_field_name("body").map_or_else(|| vec![FStmt::Abort], |b| fbody(b, src, depth + 1)),
        };
    }
    FStmt::If(cond, then, els)
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
            "import_from_statement" => {
                let mut c2 = stmt.walk();
                let star = stmt.named_children(&mut c2).any(|c| c.kind() == "wildcard_import");
                if let (true, Some(m)) = (star, stmt.child_by_field_name("module_name")) {
                    out.push(Stmt { kind: StmtKind::StarImport(text(m, src).to_string()), at, ctx });
                } else if let (false, Some(m)) = (star, stmt.child_by_field_name("module_name")) {
                    let mut names = Vec::new();
                    let mut c3 = stmt.walk();
                    for n in stmt.children_by_field_name("name", &mut c3) {
                        match n.kind() {
                            "dotted_name" => names.push((text(n, src).to_string(), text(n, src).to_string())),
                            "aliased_import" => {
                                if let (Some(a), Some(b)) =
                                    (n.child_by_field_name("name"), n.child_by_field_name("alias"))
                                {
                                    names.push((text(a, src).to_string(), text(b, src).to_string()));
                                }
                            }
                            _ => {}
                        }
                    }
                    if !names.is_empty() {
                        out.push(Stmt { kind: StmtKind::ImportNames(text(m, src).to_string(), names), at, ctx });
                    }
                }
            }
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

pub fn to_expr(n: Node<'_>, src: &str, depth: usize) -> Expr {
    if depth > MAX_DEPTH {
        return Expr::Unknown;
    }
    let sub = |field: &str| n.child_by_field_name(field).map_or(Expr::Unknown, |c| to_expr(c, src, depth + 1));
    match n.kind() {
        "string" | "concatenated_string" => string_value(n, src).map_or(Expr::Unknown, Expr::Str),
        "integer" => text(n, src).replace('_', "").parse().map_or(Expr::Unknown, Expr::Int),
        "true" => Expr::Bool(true),
        "false" => Expr::Bool(false),
        "none" => Expr::None,
        "identifier" => Expr::Name(text(n, src).to_string()),
        "parenthesized_expression" => {
            let mut c = n.walk();
            let inner = n.named_children(&mut c).find(|x| x.kind() != "comment");
            inner.map_or(Expr::Unknown, |i| to_expr(i, src, depth + 1))
        }
        "list" | "tuple" | "set" => {
            let mut c = n.walk();
            let items: Vec<Expr> = n
                .named_children(&mut c)
                .filter(|x| x.kind() != "comment")
                .map(|x| if x.kind() == "list_splat" { Expr::Unknown } else { to_expr(x, src, depth + 1) })
                .collect();
            Expr::Seq(items)
        }
        "attribute" => {
            let attr = n.child_by_field_name("attribute").map(|a| text(a, src).to_string()).unwrap_or_default();
            Expr::Attr(Box::new(sub("object")), attr)
        }
        "call" => {
            let func = Box::new(sub("function"));
            let (pos, kw) = call_args(n, src);
            Expr::Call {
                func,
                args: pos.into_iter().map(|a| to_expr(a, src, depth + 1)).collect(),
                kwargs: kw.into_iter().map(|(k, v)| (k, to_expr(v, src, depth + 1))).collect(),
            }
        }
        "binary_operator" => match n.child_by_field_name("operator").map(|o| text(o, src)) {
            Some("+") => Expr::Add(Box::new(sub("left")), Box::new(sub("right"))),
            _ => Expr::Unknown,
        },
        "boolean_operator" => {
            let (l, r) = (Box::new(sub("left")), Box::new(sub("right")));
            match n.child_by_field_name("operator").map(|o| text(o, src)) {
                Some("or") => Expr::Or(l, r),
                Some("and") => Expr::And(l, r),
                _ => Expr::Unknown,
            }
        }
        "not_operator" => Expr::Not(Box::new(sub("argument"))),
        "comparison_operator" => {
            let mut c = n.walk();
            let operands: Vec<Node<'_>> = n.named_children(&mut c).collect();
            if operands.len() != 2 {
                return Expr::Unknown;
            }
            let between = src.get(operands[0].end_byte()..operands[1].start_byte()).unwrap_or("");
            let op = match between.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["=="] => CmpOp::Eq,
                ["!="] => CmpOp::Ne,
                ["in"] => CmpOp::In,
                ["not", "in"] => CmpOp::NotIn,
                ["is"] => CmpOp::Is,
                ["is", "not"] => CmpOp::IsNot,
                _ => return Expr::Unknown,
            };
            Expr::Cmp(
                Box::new(to_expr(operands[0], src, depth + 1)),
                op,
                Box::new(to_expr(operands[1], src, depth + 1)),
            )
        }
        "subscript" => Expr::Subscript(Box::new(sub("value")), Box::new(sub("subscript"))),
        "list_comprehension" => {
            let Some(body) = n.child_by_field_name("body") else { return Expr::Unknown };
            let mut c = n.walk();
            let clauses: Vec<Node<'_>> = n.named_children(&mut c).filter(|x| x.id() != body.id()).collect();
            let (fors, ifs): (Vec<Node<'_>>, Vec<Node<'_>>) = clauses.iter().partition(|x| x.kind() == "for_in_clause");
            let [f] = fors.as_slice() else { return Expr::Unknown };
            if ifs.len() > 1 || ifs.iter().any(|x| x.kind() != "if_clause") {
                return Expr::Unknown;
            }
            let (Some(var), Some(iter)) = (f.child_by_field_name("left"), f.child_by_field_name("right")) else {
                return Expr::Unknown;
            };
            if var.kind() != "identifier" {
                return Expr::Unknown;
            }
            let cond = ifs.first().and_then(|i| {
                let mut c2 = i.walk();
                let e = i.named_children(&mut c2).next();
                e.map(|e| Box::new(to_expr(e, src, depth + 1)))
            });
            if ifs.len() == 1 && cond.is_none() {
                return Expr::Unknown;
            }
            Expr::Comp {
                elt: Box::new(to_expr(body, src, depth + 1)),
                var: text(var, src).to_string(),
                iter: Box::new(to_expr(iter, src, depth + 1)),
                cond,
            }
        }
        "conditional_expression" => {
            let mut c = n.walk();
            let parts: Vec<Node<'_>> = n.named_children(&mut c).filter(|x| x.kind() != "comment").collect();
            let [a, cond, b] = parts.as_slice() else { return Expr::Unknown };
            Expr::IfElse(
                Box::new(to_expr(*cond, src, depth + 1)),
                Box::new(to_expr(*a, src, depth + 1)),
                Box::new(to_expr(*b, src, depth + 1)),
            )
        }
        _ => Expr::Unknown,
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

fn expr_dotted(e: &Expr) -> Option<String> {
    match e {
        Expr::Name(n) => Some(n.clone()),
        Expr::Attr(o, a) => Some(format!("{}.{a}", expr_dotted(o)?)),
        _ => None,
    }
}

const GETENV: &[&str] =
    &["os.getenv", "getenv", "os.environ.get", "environ.get", "os.environ.setdefault", "environ.setdefault"];
const ENVIRON: &[&str] = &["os.environ", "environ"];

#[derive(Clone, Copy)]
enum Cast {
    None,
    Bool,
    Int,
    List,
    Str,
}

pub fn eval(e: &Expr, env: &Env, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::unknown();
    }
    let ev = |x: &Expr| eval(x, env, depth + 1);
    match e {
        Expr::Str(s) => Value::new(V::Str(s.clone())),
        Expr::Int(i) => Value::new(V::Int(*i)),
        Expr::Bool(b) => Value::new(V::Bool(*b)),
        Expr::None => Value::new(V::None),
        Expr::Seq(items) => Value::new(V::List(
            items
                .iter()
                .map(|i| {
                    let v = ev(i);
                    Elem { v: v.v, at: Loc { file: usize::MAX, start: 0, end: 0 }, fallback: v.fallback }
                })
                .collect(),
        )),
        // DEBUG-derived values belong to django-debug-enabled; other rules treat them as unknown.
        Expr::Name(n) if n == "DEBUG" => Value::unknown(),
        Expr::Name(n) => env.get(n).map_or_else(Value::unknown, |b| b.value.clone()),
        Expr::Attr(..) | Expr::Unknown => Value::unknown(),
        Expr::Subscript(obj, _) => {
            if expr_dotted(obj).is_some_and(|d| ENVIRON.contains(&d.as_str())) {
                Value::new(V::EnvUnset)
            } else {
                Value::unknown()
            }
        }
        Expr::Add(l, r) => {
            let (l, r) = (ev(l), ev(r));
            let fallback = l.fallback || r.fallback;
            let v = match (l.v, r.v) {
                (V::Str(a), V::Str(b)) => V::Str(a + &b),
                (V::List(mut a), V::List(b)) => {
                    a.extend(b);
                    V::List(a)
                }
                _ => V::Unknown,
            };
            Value { v, fallback }
        }
        Expr::Or(l, r) => {
            let l = ev(l);
            match l.v {
                V::EnvUnset => Value { fallback: true, ..ev(r) },
                _ => match l.truthy() {
                    Some(true) => l,
                    Some(false) => ev(r),
                    None => Value::unknown(),
                },
            }
        }
        Expr::And(l, r) => {
            let l = ev(l);
            match l.truthy() {
                Some(true) => {
                    let r = ev(r);
                    Value { fallback: r.fallback || l.fallback, ..r }
                }
                Some(false) => l,
                None => Value::unknown(),
            }
        }
        Expr::Not(x) => {
            let x = ev(x);
            match x.truthy() {
                Some(t) => Value { v: V::Bool(!t), fallback: x.fallback },
                None => Value::unknown(),
            }
        }
        Expr::Cmp(l, op, r) => {
            let (l, r) = (ev(l), ev(r));
            let fallback = l.fallback || r.fallback;
            let result = match op {
                CmpOp::Eq | CmpOp::Ne => scalar_eq(&l.v, &r.v).map(|eq| eq == (*op == CmpOp::Eq)),
                // `value is None` after `value = os.environ.get(name)`: true when the variable is unset.
                CmpOp::Is | CmpOp::IsNot => {
                    let same = match (&l.v, &r.v) {
                        (V::EnvUnset, V::None) => {
                            return Value { v: V::Bool(*op == CmpOp::Is), fallback: true };
                        }
                        // Any known value other than None is not None.
                        (v, V::None) | (V::None, v) if known(v) => Some(matches!(v, V::None)),
                        (V::Bool(_), _) | (_, V::Bool(_)) => scalar_eq(&l.v, &r.v),
                        _ => None,
                    };
                    same.map(|eq| eq == (*op == CmpOp::Is))
                }
                CmpOp::In | CmpOp::NotIn => contains(&r.v, &l.v).map(|c| c == (*op == CmpOp::In)),
            };
            result.map_or_else(Value::unknown, |b| Value { v: V::Bool(b), fallback })
        }
        Expr::Call { func, args, kwargs } => eval_call(func, args, kwargs, env, depth),
        Expr::IfElse(c, a, b) => {
            let c = ev(c);
            match c.truthy() {
                Some(t) => {
                    let x = ev(if t { a } else { b });
                    Value { fallback: x.fallback || c.fallback, ..x }
                }
                None => Value::unknown(),
            }
        }
        Expr::Comp { elt, var, iter, cond } => {
            let it = ev(iter);
            let V::List(items) = it.v else { return Value::unknown() };
            // Only the names the element and the filter use are copied, not the whole env.
            let mut local = Env::new();
            let mut used = |x: &Expr| {
                if let Expr::Name(n) = x {
                    if let Some(b) = env.get(n) {
                        local.entry(n.clone()).or_insert_with(|| b.clone());
                    }
                }
            };
            visit(elt, &mut used);
            if let Some(c) = cond {
                visit(c, &mut used);
            }
            let mut out = Vec::new();
            for item in items {
                let fallback = item.fallback || it.fallback;
                let at = Loc { file: usize::MAX, start: 0, end: 0 };
                let value = Value { v: item.v, fallback };
                local.insert(var.clone(), Binding { value, at, module: usize::MAX, unless: None, keys: Vec::new() });
                if let Some(c) = cond {
                    match eval(c, &local, depth + 1).truthy() {
                        Some(true) => {}
                        Some(false) => continue,
                        None => return Value::unknown(),
                    }
                }
                let v = eval(elt, &local, depth + 1);
                out.push(Elem { v: v.v, at, fallback: v.fallback || fallback });
            }
            Value { v: V::List(out), fallback: it.fallback }
        }
    }
}

/// Calls a function of the project on evaluated arguments: its body is followed with its
/// parameters bound (and the other functions of its module in sight). What it returns when
/// the environment is silent is an env default, marked as a fallback, when the body reads the
/// environment.
fn call_func(
    table: &std::sync::Arc<Vec<Func>>,
    i: usize,
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
    depth: usize,
) -> Value {
    // Each call costs a good share of the depth budget: recursion ends quickly; and the calls
    // one settings statement may make are counted, so a helper calling itself many times per
    // body cannot multiply them.
    let depth = depth + 8;
    if depth > MAX_DEPTH || HELPER_CALLS.with(|c| c.replace(c.get() + 1)) >= MAX_HELPER_CALLS {
        return Value::unknown();
    }
    let f = &table[i];
    let nowhere = Loc { file: usize::MAX, start: 0, end: 0 };
    let bind = |value: Value| Binding { value, at: nowhere, module: usize::MAX, unless: None, keys: Vec::new() };
    let mut local = Env::new();
    for (j, g) in table.iter().enumerate() {
        local.insert(g.name.clone(), bind(Value::new(V::Func(table.clone(), j))));
    }
    let mut args = args.into_iter();
    for (name, default) in &f.params {
        let v = match (args.next(), kwargs.iter().find(|(k, _)| k == name)) {
            (Some(v), _) => v,
            (None, Some((_, v))) => v.clone(),
            (None, None) => default.as_ref().map_or_else(Value::unknown, |d| eval(d, &Env::new(), depth)),
        };
        local.insert(name.clone(), bind(v));
    }
    let out = run_body(&f.body, &mut local, depth).unwrap_or_else(|| Value::new(V::None));
    Value { fallback: out.fallback || f.reads_env, ..out }
}

/// Helper calls allowed while evaluating one settings statement.
const MAX_HELPER_CALLS: u32 = 256;

thread_local! {
    static HELPER_CALLS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Follows a helper's statements: `Some(value)` once it returns (unknown when it raises or the
/// way through depends on something unknown), `None` when it falls off the end.
fn run_body(body: &[FStmt], local: &mut Env, depth: usize) -> Option<Value> {
    for s in body {
        match s {
            FStmt::Assign(n, e) => {
                let value = eval(e, local, depth);
                let at = Loc { file: usize::MAX, start: 0, end: 0 };
                local.insert(n.clone(), Binding { value, at, module: usize::MAX, unless: None, keys: Vec::new() });
            }
            FStmt::Return(e) => return Some(eval(e, local, depth)),
            FStmt::If(c, a, b) => {
                let c = eval(c, local, depth);
                // Inside a helper, an env lookup without a default is None when the variable is
                // unset, the case evaluation follows.
                let c = if c.v == V::EnvUnset { Value { v: V::None, fallback: true } } else { c };
                let taken = match c.truthy() {
                    Some(true) => a,
                    Some(false) => b,
                    None => return Some(Value::unknown()),
                };
                if let Some(v) = run_body(taken, local, depth) {
                    return Some(Value { fallback: v.fallback || c.fallback, ..v });
                }
            }
            FStmt::Abort => return Some(Value::unknown()),
        }
    }
    None
}

fn scalar_eq(a: &V, b: &V) -> Option<bool> {
    match (a, b) {
        (V::Str(x), V::Str(y)) => Some(x == y),
        (V::Int(x), V::Int(y)) => Some(x == y),
        (V::Bool(x), V::Bool(y)) => Some(x == y),
        (V::Bool(x), V::Int(y)) | (V::Int(y), V::Bool(x)) => Some(i64::from(*x) == *y),
        (V::None, V::None) => Some(true),
        (V::Str(_), V::Int(_) | V::Bool(_) | V::None) | (V::Int(_) | V::Bool(_) | V::None, V::Str(_)) => Some(false),
        _ => None,
    }
}

fn contains(hay: &V, needle: &V) -> Option<bool> {
    match (hay, needle) {
        (V::Str(h), V::Str(n)) => Some(h.contains(n.as_str())),
        (V::List(items), n) => {
            let mut unknown = false;
            for i in items {
                match scalar_eq(&i.v, n) {
                    Some(true) => return Some(true),
                    Some(false) => {}
                    None => unknown = true,
                }
            }
            if unknown {
                None
            } else {
                Some(false)
            }
        }
        _ => None,
    }
}

fn kwarg<'a>(kwargs: &'a [(String, Expr)], name: &str) -> Option<&'a Expr> {
    kwargs.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn eval_call(func: &Expr, args: &[Expr], kwargs: &[(String, Expr)], env: &Env, depth: usize) -> Value {
    let ev = |x: &Expr| eval(x, env, depth + 1);
    let name = expr_dotted(func);
    let dotted = name.as_deref().unwrap_or("");
    let default = || args.get(1).or_else(|| kwarg(kwargs, "default"));

    // A function of the project (defined above in the module, or imported from a module of the project).
    if let Expr::Name(n) = func {
        if let Some(Binding { value: Value { v: V::Func(table, i), .. }, .. }) = env.get(n) {
            let args = args.iter().map(ev).collect();
            let kwargs = kwargs.iter().map(|(k, v)| (k.clone(), ev(v))).collect();
            return call_func(table, *i, args, kwargs, depth);
        }
    }
    // os.getenv / os.environ.get / setdefault
    if GETENV.contains(&dotted) {
        return lookup(default().map(ev), Cast::None);
    }
    // python-decouple: config(name, default=..., cast=...)
    if dotted == "config" || dotted == "decouple.config" {
        let cast = match kwarg(kwargs, "cast").or(args.get(2)) {
            None => Cast::None,
            Some(Expr::Name(n)) if n == "bool" => Cast::Bool,
            Some(Expr::Name(n)) if n == "int" => Cast::Int,
            Some(Expr::Name(n)) if n == "str" => Cast::Str,
            Some(Expr::Call { func, .. }) if expr_dotted(func).is_some_and(|d| d.ends_with("Csv")) => Cast::List,
            Some(_) => return Value::unknown(),
        };
        return lookup(default().map(ev), cast);
    }
    // django-environ: Env(...) schema, env(...), env.bool(...), env.list(...), ...
    if dotted == "environ.Env" || dotted == "Env" {
        return Value::new(V::EnvSchema(kwargs.to_vec()));
    }
    if let Expr::Name(n) = func {
        if let Some(schema) = env_schema(n, env) {
            let key = args.first().map(ev);
            if let Some(d) = default() {
                let cast = match kwarg(kwargs, "cast") {
                    Some(Expr::Name(c)) if c == "bool" => Cast::Bool,
                    Some(Expr::Name(c)) if c == "int" => Cast::Int,
                    Some(Expr::Name(c)) if c == "list" => Cast::List,
                    Some(Expr::Name(c)) if c == "str" => Cast::Str,
                    None => Cast::None,
                    Some(_) => return Value::unknown(),
                };
                return lookup(Some(ev(d)), cast);
            }
            // Env(NAME=(cast, default)) supplies the default.
            if let (Some(Value { v: V::Str(key), .. }), Some(schema)) = (key, schema) {
                if let Some((_, Expr::Seq(pair))) = schema.iter().find(|(k, _)| *k == key) {
                    let cast = match pair.first() {
                        Some(Expr::Name(c)) if c == "bool" => Cast::Bool,
                        Some(Expr::Name(c)) if c == "int" => Cast::Int,
                        Some(Expr::Name(c)) if c == "list" => Cast::List,
                        _ => Cast::None,
                    };
                    return lookup(pair.get(1).map(ev), cast);
                }
            }
            return lookup(None, Cast::None);
        }
    }
    if let Expr::Attr(obj, method) = func {
        if let Expr::Name(n) = obj.as_ref() {
            if env_schema(n, env).is_some() {
                let cast = match method.as_str() {
                    "bool" => Cast::Bool,
                    "int" => Cast::Int,
                    "list" | "tuple" => Cast::List,
                    "str" | "get_value" => Cast::Str,
                    _ => return Value::unknown(),
                };
                return lookup(default().map(ev), cast);
            }
        }
        // String methods on a known string.
        let recv = ev(obj);
        if let V::Str(s) = &recv.v {
            let v = match (method.as_str(), args) {
                ("lower" | "casefold", []) => V::Str(s.to_lowercase()),
                ("upper", []) => V::Str(s.to_uppercase()),
                ("strip", []) => V::Str(s.trim().to_string()),
                ("split", []) => list_of(s.split_whitespace()),
                ("split", [sep]) => match ev(sep).v {
                    V::Str(sep) if !sep.is_empty() => list_of(s.split(sep.as_str())),
                    _ => V::Unknown,
                },
                _ => V::Unknown,
            };
            return Value { v, fallback: recv.fallback };
        }
        return Value::unknown();
    }
    // Builtins that convert.
    match (dotted, args) {
        ("bool", [x]) => {
            let x = ev(x);
            x.truthy().map_or_else(Value::unknown, |t| Value { v: V::Bool(t), fallback: x.fallback })
        }
        ("int", [x]) => {
            let x = ev(x);
            let v = match &x.v {
                V::Int(i) => V::Int(*i),
                V::Bool(b) => V::Int(i64::from(*b)),
                V::Str(s) => s.trim().parse().map_or(V::Unknown, V::Int),
                _ => V::Unknown,
            };
            Value { v, fallback: x.fallback }
        }
        ("str", [x]) => {
            let x = ev(x);
            let v = match &x.v {
                V::Str(s) => V::Str(s.clone()),
                V::Bool(b) => V::Str(if *b { "True" } else { "False" }.into()),
                V::Int(i) => V::Str(i.to_string()),
                _ => V::Unknown,
            };
            Value { v, fallback: x.fallback }
        }
        ("list" | "tuple", [x]) => {
            let x = ev(x);
            match x.v {
                V::List(_) => x,
                _ => Value::unknown(),
            }
        }
        // `json.loads` of a default such as "true", "0" or '["*"]' (strings only in lists).
        ("json.loads", [x]) => {
            let x = ev(x);
            let V::Str(s) = &x.v else { return Value::unknown() };
            let t = s.trim();
            let v = match t {
                "true" => V::Bool(true),
                "false" => V::Bool(false),
                "null" => V::None,
                _ if t.starts_with('[') && t.ends_with(']') => {
                    let inner = t[1..t.len() - 1].trim();
                    let mut items = Vec::new();
                    for part in inner.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                        match part.strip_prefix('"').and_then(|p| p.strip_suffix('"')) {
                            Some(p) if !p.contains(['"', '\\']) => items.push(p),
                            _ => return Value::unknown(),
                        }
                    }
                    list_of(items.into_iter())
                }
                _ => t.parse().map_or(V::Unknown, V::Int),
            };
            Value { v, fallback: x.fallback }
        }
        ("strtobool" | "distutils.util.strtobool", [x]) => {
            let x = ev(x);
            let v = match &x.v {
                V::Str(s) => str_to_bool(s).map_or(V::Unknown, |b| V::Int(i64::from(b))),
                _ => V::Unknown,
            };
            Value { v, fallback: x.fallback }
        }
        _ => Value::unknown(),
    }
}

fn env_schema<'a>(name: &str, env: &'a Env) -> Option<Option<&'a Vec<(String, Expr)>>> {
    match env.get(name).map(|b| &b.value.v) {
        Some(V::EnvSchema(s)) => Some(Some(s)),
        // `env` is django-environ's conventional name; without its definition in sight, still an env lookup.
        None if name == "env" => Some(None),
        _ => None,
    }
}

fn list_of<'a>(it: impl Iterator<Item = &'a str>) -> V {
    V::List(
        it.map(|s| Elem { v: V::Str(s.to_string()), at: Loc { file: usize::MAX, start: 0, end: 0 }, fallback: true })
            .collect(),
    )
}

fn str_to_bool(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "y" | "yes" | "t" | "true" | "on" | "1" => Some(true),
        "n" | "no" | "f" | "false" | "off" | "0" | "" => Some(false),
        _ => None,
    }
}

/// The value of an env lookup: its default (marked as a fallback) cast as the library would, or
/// `EnvUnset` when there is no default.
fn lookup(default: Option<Value>, cast: Cast) -> Value {
    let Some(d) = default else {
        return Value::new(V::EnvUnset);
    };
    let v = match (cast, d.v) {
        (Cast::Bool, V::Str(s)) => str_to_bool(&s).map_or(V::Unknown, V::Bool),
        (Cast::Bool, V::Int(i)) => V::Bool(i != 0),
        (Cast::Int, V::Str(s)) => s.trim().parse().map_or(V::Unknown, V::Int),
        (Cast::List, V::Str(s)) => {
            if s.is_empty() {
                V::List(vec![])
            } else {
                list_of(s.split(',').map(str::trim))
            }
        }
        (_, v) => v,
    };
    Value { v, fallback: true }
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
                r#"(?:DJANGO_SETTINGS_MODULE["']?\s*(?:[,=:]|\s)\s*(?:\$\{DJANGO_SETTINGS_MODULE[:]?-)?["']?|--ds[= ]["']?)([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+)"#,
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
            let deploy = !test
                && (matches!(name, "wsgi.py" | "asgi.py" | "manage.py" | "celery.py" | "celery_app.py" | "procfile")
                    || lower.ends_with("asgi/__init__.py")
                    || name.starts_with("dockerfile")
                    || name.ends_with(".dockerfile")
                    || name.ends_with(".service")
                    || (name.contains("compose") && (name.ends_with(".yml") || name.ends_with(".yaml")))
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
            HELPER_CALLS.with(|c| c.set(0));
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
                    if HELPER_CALLS.with(|c| c.get()) >= MAX_HELPER_CALLS {
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
    let dots = name.chars().take_while(|&c| c == '.').count();
    let rest = &name[dots..];
    let target = if dots > 0 {
        let mut pkg: Vec<&str> = from.dotted.split('.').collect();
        if !from.is_package {
            pkg.pop();
        }
        for _ in 1..dots {
            pkg.pop();
        }
        let mut t = pkg.join(".");
        if !rest.is_empty() {
            if !t.is_empty() {
                t.push('.');
            }
            t.push_str(rest);
        }
        t
    } else {
        rest.to_string()
    };
    if target.is_empty() {
        return None;
    }
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

/// Runs `judge` on the final binding of `name` in every production root and reports each
/// distinct location once. When the location is in a module other than the root (a base module
/// star-imported by `prod.py`), the message names the roots it is in effect for.
pub fn report_setting(
    project: &crate::project::Project,
    sink: &mut crate::project::ProjectSink<'_>,
    names: &[&str],
    mut judge: impl FnMut(&str, &Binding) -> Vec<(Loc, String)>,
) {
    report_roots(project, sink, |_, env| {
        names.iter().filter_map(|name| env.get(*name).map(|b| judge(name, b))).flatten().collect()
    });
}

/// Runs `judge` on every production root (its module index and resolved bindings) and reports
/// each distinct (location, message) once; a location outside the root's own module gets the
/// list of roots it is in effect for.
pub fn report_roots(
    project: &crate::project::Project,
    sink: &mut crate::project::ProjectSink<'_>,
    mut judge: impl FnMut(usize, &Env) -> Vec<(Loc, String)>,
) {
    let idx = &project.settings;
    let mut by_loc: Vec<(Loc, String, Vec<String>)> = Vec::new();
    for (root, env) in &idx.roots {
        let root_rel = &idx.module(*root).rel;
        for (at, msg) in judge(*root, env) {
            let inherited = project.file(at.file).rel != *root_rel;
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
    for (at, msg, mut roots) in by_loc {
        roots.sort();
        roots.dedup();
        let msg = if roots.is_empty() {
            msg
        } else {
            let list: Vec<String> = roots.iter().map(|r| format!("`{r}`")).collect();
            format!("{msg} (in effect for {})", list.join(", "))
        };
        sink.report(at, msg);
    }
}

/// The strings of a fully known list (`MIDDLEWARE`, `INSTALLED_APPS`); `None` when the value is
/// not a list or any element is not a known string.
pub fn string_list(v: &V) -> Option<Vec<&str>> {
    let V::List(items) = v else { return None };
    items.iter().map(|e| if let V::Str(s) = &e.v { Some(s.as_str()) } else { None }).collect()
}

/// The list elements of a value, or the value itself as one element when it is a string
/// (`ALLOWED_HOSTS = "*"` is iterated character by character, and still matches `*`).
pub fn elements(b: &Binding) -> Vec<(V, Loc, bool)> {
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
                "app.settings.heroku",
                "app.settings.prod"
            ]
        );
        assert_eq!(named.test, ["app.settings.ci_job", "app.settings.ds", "app.settings.pytest"]);
    }
}
