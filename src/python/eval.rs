//! A small abstract evaluator for Python: expressions of a module's top level turned into an IR
//! (`Expr`), and their values (`V`) computed over the names bound so far (`Env`): literals,
//! string building, constant arithmetic, comparisons, env lookups (`os.environ`, `os.getenv`,
//! django-environ, python-decouple) with their defaults marked as fallbacks, and calls into
//! small functions of the project (`Func`). Anything not modelled is `Unknown`.

use std::collections::HashMap;

use tree_sitter::Node;

use crate::python::syntax::{call_args, string_value, text, MAX_DEPTH};

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
    pub(crate) fn new(v: V) -> Self {
        Value { v, fallback: false }
    }
    pub(crate) fn unknown() -> Self {
        Value::new(V::Unknown)
    }
    pub fn truthy(&self) -> Option<bool> {
        truthy(&self.v)
    }
}

pub(crate) fn truthy(v: &V) -> Option<bool> {
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

pub(crate) type Env = HashMap<String, Binding>;

/// Whether a value is fully known (an `Either` of known variants included).
pub(crate) fn known(v: &V) -> bool {
    match v {
        V::Str(_) | V::Int(_) | V::Bool(_) | V::None => true,
        V::List(items) => items.iter().all(|e| known(&e.v)),
        V::Either(variants) => variants.iter().all(|e| known(&e.v)),
        V::EnvUnset | V::EnvSchema(_) | V::Func(..) | V::Unknown => false,
    }
}

/// The value of a name that an undecided branch may set to `new`: either what it was before or
/// `new`, when both are known; unknown otherwise.
pub(crate) fn either(prev: Option<&Binding>, new: Elem) -> Value {
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

/// The environment variables an expression reads, directly or through the names it uses.
pub(crate) fn env_keys(e: &Expr, env: &Env) -> Vec<String> {
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

/// Marks the functions whose body reads the environment, directly or by calling another
/// function of the same module that does.
pub(crate) fn helpers_reading_env(funcs: &mut [Func]) {
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
pub(crate) fn visit(e: &Expr, f: &mut impl FnMut(&Expr)) {
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
pub(crate) fn function(def: Node<'_>, src: &str) -> Option<Func> {
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

pub(crate) fn to_expr(n: Node<'_>, src: &str, depth: usize) -> Expr {
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

pub(crate) fn expr_dotted(e: &Expr) -> Option<String> {
    match e {
        Expr::Name(n) => Some(n.clone()),
        Expr::Attr(o, a) => Some(format!("{}.{a}", expr_dotted(o)?)),
        _ => None,
    }
}

pub(crate) const GETENV: &[&str] =
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

pub(crate) fn eval(e: &Expr, env: &Env, depth: usize) -> Value {
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

/// Helper calls allowed while evaluating one statement.
const MAX_HELPER_CALLS: u32 = 256;

thread_local! {
    static HELPER_CALLS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Starts a statement's helper-call budget afresh.
pub(crate) fn reset_helper_calls() {
    HELPER_CALLS.with(|c| c.set(0));
}

/// Whether the statement being evaluated has spent its helper-call budget.
pub(crate) fn helper_calls_spent() -> bool {
    HELPER_CALLS.with(|c| c.get()) >= MAX_HELPER_CALLS
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
