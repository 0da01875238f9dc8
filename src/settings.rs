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
    Call { func: Box<Expr>, args: Vec<Expr>, kwargs: Vec<(String, Expr)> },
    Add(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp(Box<Expr>, CmpOp, Box<Expr>),
    Subscript(Box<Expr>, Box<Expr>),
    Unknown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    In,
    NotIn,
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
        V::EnvUnset | V::EnvSchema(_) | V::Unknown => None,
    }
}

#[derive(Clone, Debug)]
pub struct Binding {
    pub value: Value,
    pub at: Loc,
    /// The module that made the final assignment.
    pub module: usize,
}

pub type Env = HashMap<String, Binding>;

// ---------------------------------------------------------------------------------------------
// Extraction

pub fn extract(file: usize, rel: &str, dev: bool, src: &str, root: Node<'_>) -> Module {
    let mut stmts = Vec::new();
    block(root, src, file, Ctx::Plain, &mut stmts, 0);
    let mut django_names = 0;
    let mut common_names = 0;
    let mut seen = std::collections::HashSet::new();
    for s in &stmts {
        if let StmtKind::Assign(n, _) | StmtKind::Extend(n, _) = &s.kind {
            if seen.insert(n.clone()) {
                if DJANGO_ONLY.contains(&n.as_str()) || n.starts_with("CORS_") {
                    django_names += 1;
                } else if COMMON.contains(&n.as_str()) {
                    common_names += 1;
                }
            }
        }
    }
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
        django_names,
        common_names,
    }
}

fn block(node: Node<'_>, src: &str, file: usize, ctx: Ctx, out: &mut Vec<Stmt>, depth: usize) {
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
                }
            }
            "if_statement" => {
                if let Some(b) = stmt.child_by_field_name("consequence") {
                    block(b, src, file, cond, out, depth + 1);
                }
                let mut c2 = stmt.walk();
                for alt in stmt.children_by_field_name("alternative", &mut c2) {
                    let body = alt.child_by_field_name("consequence").or_else(|| alt.child_by_field_name("body"));
                    if let Some(b) = body {
                        block(b, src, file, cond, out, depth + 1);
                    }
                }
            }
            "try_statement" => {
                let mut c2 = stmt.walk();
                for child in stmt.named_children(&mut c2) {
                    match child.kind() {
                        "block" => block(child, src, file, ctx, out, depth + 1),
                        "except_clause" | "except_group_clause" => {
                            let mut c3 = child.walk();
                            let handler = child.named_children(&mut c3).filter(|n| n.kind() == "block").last();
                            if let Some(b) = handler {
                                let fb = if ctx == Ctx::Plain { Ctx::Fallback } else { ctx };
                                block(b, src, file, fb, out, depth + 1);
                            }
                        }
                        "else_clause" | "finally_clause" => {
                            let body = child.child_by_field_name("body").or_else(|| {
                                let mut c3 = child.walk();
                                let b = child.named_children(&mut c3).find(|n| n.kind() == "block");
                                b
                            });
                            if let Some(b) = body {
                                block(b, src, file, ctx, out, depth + 1);
                            }
                        }
                        _ => {}
                    }
                }
            }
            "with_statement" => {
                if let Some(b) = stmt.child_by_field_name("body") {
                    block(b, src, file, ctx, out, depth + 1);
                }
            }
            "for_statement" | "while_statement" => {
                if let Some(b) = stmt.child_by_field_name("body") {
                    block(b, src, file, cond, out, depth + 1);
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
                _ => return Expr::Unknown,
            };
            Expr::Cmp(
                Box::new(to_expr(operands[0], src, depth + 1)),
                op,
                Box::new(to_expr(operands[1], src, depth + 1)),
            )
        }
        "subscript" => Expr::Subscript(Box::new(sub("value")), Box::new(sub("subscript"))),
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
                CmpOp::In | CmpOp::NotIn => contains(&r.v, &l.v).map(|c| c == (*op == CmpOp::In)),
            };
            result.map_or_else(Value::unknown, |b| Value { v: V::Bool(b), fallback })
        }
        Expr::Call { func, args, kwargs } => eval_call(func, args, kwargs, env, depth),
    }
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
                return lookup(Some(ev(d)), Cast::None);
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
                m.stmts
                    .iter()
                    .filter_map(|s| match &s.kind {
                        StmtKind::StarImport(name) => resolve_import(&all, m, name),
                        _ => None,
                    })
                    .collect()
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
        for m in &mut modules {
            if let Some(dev) = force(&m.rel) {
                m.dev = dev;
            }
        }
        // A root is a module no other settings module star-imports. In a star-import cycle
        // (`a.py: from .b import *`, `b.py: from .a import *`) each member is imported by
        // another, so the unit is the cycle, a strongly connected component: when no settings
        // module outside it imports any of its members, each member is a root (either may be
        // the one DJANGO_SETTINGS_MODULE names; `replay` breaks the cycle where Python's
        // partial import does).
        let settings_edges: Vec<Vec<usize>> =
            (0..n).map(|i| if is_settings[i] { imports[i].clone() } else { Vec::new() }).collect();
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
                && (!imported[comp[i]] || force(&index.modules[i].rel) == Some(false))
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
        index
    }

    fn replay(&self, idx: usize, env: &mut Env, stack: &mut Vec<usize>, open: &mut bool) {
        let m = &self.modules[idx];
        for s in &m.stmts {
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
                StmtKind::Assign(name, expr) => {
                    let mut value = match s.ctx {
                        Ctx::Conditional => Value::unknown(),
                        Ctx::Plain => eval(expr, env, 0),
                        Ctx::Fallback => Value { fallback: true, ..eval(expr, env, 0) },
                    };
                    stamp(&mut value.v, s.at, value.fallback);
                    env.insert(name.clone(), Binding { value, at: s.at, module: idx });
                }
                StmtKind::Extend(name, expr) => {
                    if s.ctx == Ctx::Conditional {
                        continue;
                    }
                    let mut add = eval(expr, env, 0);
                    stamp(&mut add.v, s.at, add.fallback);
                    let entry = env.entry(name.clone()).or_insert_with(|| Binding {
                        value: Value::unknown(),
                        at: s.at,
                        module: idx,
                    });
                    match (&mut entry.value.v, add.v) {
                        (V::List(items), V::List(more)) => items.extend(more),
                        (_, _) => entry.value = Value::unknown(),
                    }
                }
            }
        }
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
