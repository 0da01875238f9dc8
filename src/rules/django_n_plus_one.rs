//! django-n-plus-one: a loop over a queryset that reads a relation the queryset did not load,
//! and a DRF list view or `Serializer(rows, many=True)` call whose serializer reads relations
//! the queryset did not load, or queries once per row in a method field whatever it loads.
//!
//! List views are DRF's list classes and the project's bases built on them; the serializer is
//! `serializer_class` or what `get_serializer_class()` returns for the `list` action (its
//! branches on `self.action` followed). A project base or mixin defining `get_queryset`/`list`
//! hides the queryset (only per-row queries are reported), unless its `get_queryset()` only
//! returns `self.model.objects.all()` (then the subclass's `model` gives the rows); one
//! defining `get_serializer`/`get_serializer_class` hides the serializer (silent).
//!
//! Querysets are tracked per function: `Model.objects.<chain>`, custom managers and queryset
//! methods the project defines, local variables bound to them (the union of every binding, so a
//! `select_related` on any path counts). Anything not understood (a parameter, an unknown
//! method, a non-literal `select_related` argument) makes the queryset opaque, and an opaque
//! queryset is never reported.

use std::collections::{HashMap, HashSet};

use tree_sitter::Node;

use crate::classify::FileClass;
use crate::project::Needs;
use crate::registry::{FileCtx, Rule};
use crate::django::drf::LIST_VIEWS;
use crate::django::models::{
    class_dir, imports_of, Imports, ModelGraph, RelKind, SerField, Serializer, QS_CHAIN,
};
use crate::python::scope::scope_nodes;
use crate::python::syntax::{call_args, dotted, string_value, text};

pub(crate) struct DjangoNPlusOne;

/// What a queryset expression yields and which relations it loads.
#[derive(Debug, Clone)]
struct Qs {
    model: String,
    /// Manager callee behind the queryset, for custom method lookup.
    manager: Option<String>,
    select: Vec<String>,
    select_all: bool,
    prefetch: Vec<String>,
    opaque: bool,
    /// `.values()`/`.values_list()`: rows are dicts or tuples.
    values: bool,
    /// 1-based line where the queryset is built.
    line: usize,
    /// Filtered on a unique key (`pk`, `id`, a one-to-one field): one row at most, so no N+1.
    single: bool,
    /// `in_bulk(...)`: a dict of rows by key (`values` too); its `.values()` are the rows.
    bulk: bool,
}

impl Qs {
    fn merge(mut self, other: Qs) -> Option<Qs> {
        if self.model != other.model || self.values != other.values || self.bulk != other.bulk {
            return None;
        }
        self.select.extend(other.select);
        self.prefetch.extend(other.prefetch);
        self.select_all |= other.select_all;
        self.opaque |= other.opaque;
        self.single &= other.single;
        self.line = self.line.min(other.line);
        Some(self)
    }

    /// Whether reading the single relation at `path` costs no query. `non_null` says every FK
    /// on the path is NOT NULL (what `select_related()` without arguments follows).
    fn loads_single(&self, path: &str, non_null_fk_chain: bool) -> bool {
        self.opaque
            || covers(&self.select, path)
            || covers(&self.prefetch, path)
            || (self.select_all && non_null_fk_chain)
    }

    fn prefetches(&self, path: &str) -> bool {
        self.opaque || covers(&self.prefetch, path)
    }
}

/// `paths` contains `path` itself or a longer path through it.
fn covers(paths: &[String], path: &str) -> bool {
    paths.iter().any(|p| p == path || (p.starts_with(path) && p[path.len()..].starts_with("__")))
}

/// Related-manager methods that change data: a query per call, but not the N+1 read pattern.
const WRITE_METHODS: &[&str] =
    &["add", "remove", "set", "clear", "create", "get_or_create", "update_or_create", "bulk_create", "update", "delete"];
/// Related-manager methods that ignore a prefetch and query again.
const BYPASS_METHODS: &[&str] = &[
    "filter",
    "exclude",
    "order_by",
    "get",
    "annotate",
    "values",
    "values_list",
    "aggregate",
    "select_related",
    "only",
    "defer",
    "distinct",
    "latest",
    "earliest",
];

/// What a view class says about the rows it lists.
#[derive(Default)]
struct ViewInfo<'t> {
    qs_node: Option<Node<'t>>,
    queryset: Option<Qs>,
    /// The class's own `get_queryset()`.
    get_queryset_def: Option<Node<'t>>,
    /// `get_queryset()`'s result (or the class queryset) and the node to report at.
    get_queryset: Option<(Option<Qs>, Node<'t>)>,
    serializer: Option<String>,
    /// The serializer is chosen at run time in a way not followed.
    dynamic: bool,
    /// The class defines `get_serializer_class()` itself.
    dynamic_own_class: bool,
    own_list: bool,
    /// The class's own `get_serializer_class()`, its `serializer_class`, and whether
    /// `super().get_serializer_class()` is DRF's (no project base overrides it).
    serializer_def: Option<Node<'t>>,
    class_serializer: Option<String>,
    super_plain: bool,
    /// `get_serializer()` is the class's own or a project base's: the serializer is not known.
    serializer_hidden: bool,
}

impl Rule for DjangoNPlusOne {
    fn id(&self) -> &'static str {
        "django-n-plus-one"
    }

    fn needs(&self) -> Needs {
        Needs { models: true, ..Needs::NONE }
    }

    fn prefilter(&self) -> &'static [&'static str] {
        &["objects", "_manager", "queryset", "Manager", "prefetch_related", "select_related", "many=True"]
    }

    fn wants(&self, class: &FileClass) -> bool {
        class.is_production() && !class.roles.migration
    }


    fn check_file(&self, ctx: &mut FileCtx<'_>) {
        let graph = &ctx.project.models;
        if graph.models.is_empty() {
            return;
        }
        let file = ctx.file;
        // Without a queryset source or a DRF view there is nothing to follow: skip the parse.
        let text = file.text.as_str();
        let loops = text.contains("for ")
            && (text.contains(".objects")
                || text.contains("._default_manager")
                || graph.manager_names.iter().any(|m| text.contains(m.as_str())));
        let view = crate::django::drf::may_hold_list_view(text);
        if !loops && !view {
            return;
        }
        let Some(tree) = file.tree() else { return };
        let src = file.text.as_str();
        let mut reports: Vec<(usize, usize, String)> = Vec::new();
        let root = tree.root_node();
        let dir = class_dir(&file.rel);
        let imports = imports_of(root, src);
        let mut scopes = vec![root];
        let mut classes = Vec::new();
        let mut serializing = Vec::new();
        crate::parse::for_each_node(root, |n| match n.kind() {
            "function_definition" => {
                let code = &src[n.byte_range()];
                // Only a scope with a `for` can loop over a queryset.
                if has_for(code) {
                    scopes.push(n);
                }
                if view && code.contains("many=True") {
                    serializing.push(n);
                }
            }
            "class_definition" if view => classes.push(n),
            _ => {}
        });
        let mut a = Analysis { graph, src, dir: &dir, imports: &imports, reports: &mut reports,
            line_base: file.lines(),
            single_reads: Vec::new(),
            helpers: module_helpers(root, src),
            view_serializer: Default::default(),
            declarative_only: Default::default(),
        };
        for scope in scopes {
            a.scope(scope);
        }
        for class in classes {
            a.drf_view(class);
        }
        for def in serializing {
            a.many_calls(def);
        }
        for (start, end, msg) in reports {
            ctx.report(start, end, msg);
        }
    }
}

/// Whether the keyword `for` occurs in `code` (or the word in a string or comment).
fn has_for(code: &str) -> bool {
    let b = code.as_bytes();
    let word = |i: Option<usize>| i.and_then(|i| b.get(i)).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_');
    code.match_indices("for").any(|(i, _)| !word(i.checked_sub(1)) && !word(Some(i + 3)))
}

struct Analysis<'a, 'g> {
    graph: &'g ModelGraph,
    src: &'a str,
    /// The module's folder and imports, to tell which model a class name means.
    dir: &'a str,
    imports: &'a Imports,
    reports: &'a mut Vec<(usize, usize, String)>,
    line_base: &'a crate::source::LineIndex,
    /// Relation paths the loop being analysed reads on its rows without the queryset loading
    /// them (Django caches each on the row once read).
    single_reads: Vec<String>,
    /// The module's own eager-loading helpers (`def with_authors(qs): return qs.select_related(...)`).
    helpers: HashMap<String, crate::django::models::QsMethod>,
    /// The serializer of the view being analysed, for `self.get_serializer_class().<helper>(qs)`.
    view_serializer: std::cell::RefCell<Option<String>>,
    /// While set, serializer reads leave out method fields (they may depend on the request).
    declarative_only: std::cell::Cell<bool>,
}


type Env = HashMap<String, Option<Qs>>;

impl Analysis<'_, '_> {
    fn line(&self, n: Node<'_>) -> usize {
        self.line_base.line_of(n.start_byte()) + 1
    }

    fn bind(env: &mut Env, name: &str, v: Option<Qs>) {
        let merged = match env.remove(name) {
            None => v,
            Some(None) => None,
            Some(Some(old)) => v.and_then(|v| old.merge(v)),
        };
        env.insert(name.to_string(), merged);
    }

    fn env_of(&self, nodes: &[Node<'_>], seed: &Env) -> Env {
        let mut env: Env = seed.clone();
        for n in nodes {
            match n.kind() {
                "assignment" => {
                    let (Some(l), r) = (n.child_by_field_name("left"), n.child_by_field_name("right")) else { continue };
                    if l.kind() == "identifier" {
                        let v = r.and_then(|r| self.eval(r, &env, 0));
                        Self::bind(&mut env, text(l, self.src), v);
                    } else {
                        for id in identifiers(l) {
                            Self::bind(&mut env, text(id, self.src), None);
                        }
                    }
                }
                "augmented_assignment" => {
                    if let Some(l) = n.child_by_field_name("left") {
                        Self::bind(&mut env, text(l, self.src), None);
                    }
                }
                "for_statement" | "for_in_clause" => {
                    if let Some(l) = n.child_by_field_name("left") {
                        for id in identifiers(l) {
                            Self::bind(&mut env, text(id, self.src), None);
                        }
                    }
                }
                "parameters" | "with_item" | "as_pattern_target" | "named_expression" => {
                    for id in identifiers(*n) {
                        Self::bind(&mut env, text(id, self.src), None);
                    }
                }
                _ => {}
            }
        }
        env
    }

    fn scope(&mut self, scope: Node<'_>) {
        *self.view_serializer.borrow_mut() = None;
        let mut nodes = scope_nodes(scope);
        if scope.kind() == "function_definition" {
            if let Some(p) = scope.child_by_field_name("parameters") {
                nodes.insert(0, p);
            }
        }
        let env = self.env_of(&nodes, &Env::new());
        // A queryset variable bound once holds its rows after a first loop over it: a later
        // loop over it reads the same instances, whose single relations read before are cached.
        let mut cached: HashMap<&str, (usize, HashSet<String>)> = HashMap::new();
        let mut looped: HashSet<&str> = HashSet::new();
        for n in &nodes {
            if !matches!(n.kind(), "for_statement" | "for_in_clause") {
                continue;
            }
            let (Some(left), Some(right)) = (n.child_by_field_name("left"), n.child_by_field_name("right")) else {
                continue;
            };
            let Some(qs) = self.eval_iterable(right, &env) else { continue };
            let rows = match single_arg_call(right, self.src) {
                Some(("enumerate" | "list", arg)) => arg,
                _ => right,
            };
            let var = (rows.kind() == "identifier")
                .then(|| text(rows, self.src))
                .filter(|v| self.bound_once(&nodes, v));
            let seed = var
                .and_then(|v| cached.get(v))
                .filter(|(end, _)| *end <= n.start_byte())
                .map(|(_, s)| s.clone())
                .unwrap_or_default();
            self.single_reads.clear();
            self.loop_over(*n, left, right, &qs, "", seed);
            // A variable bound in sibling branches: what one branch loads and another does not.
            let again = rows.kind() == "identifier" && looped.contains(text(rows, self.src));
            if rows.kind() == "identifier" && !again && scope.kind() == "function_definition" {
                looped.insert(text(rows, self.src));
                let body = scope.child_by_field_name("body");
                if let Some(paths) = body.and_then(|b| self.branch_values(b, text(rows, self.src), *n, &env)) {
                    self.branch_gaps(*n, left, right, &qs, &paths);
                }
            }
            if let Some(v) = var {
                let e = cached.entry(v).or_insert_with(|| (0, HashSet::new()));
                e.0 = e.0.max(n.end_byte());
                e.1.extend(self.single_reads.drain(..));
            }
        }
    }

    /// The querysets `name` may hold when the top-level statement holding `at` runs, one per
    /// path through the function's `if`/`elif`/`else` branches that reaches it, with the line
    /// of the path's last binding; `None` when a path is not understood (a binding in a loop,
    /// `try` or `with`, an unknown value, more than 8 paths). A `.none()` queryset has no rows
    /// and counts as loading everything.
    fn branch_values(&self, body: Node<'_>, name: &str, at: Node<'_>, env: &Env) -> Option<Vec<(Qs, usize)>> {
        // Rows loaded after the fact (`prefetch_related_objects(rows, ...)`): not followed.
        if text(body, self.src).contains("prefetch_related_objects") {
            return None;
        }
        let mut c = body.walk();
        let stmts: Vec<Node<'_>> = body.named_children(&mut c).collect();
        let top = stmts.iter().position(|s| within(at, *s))?;
        let mut cur: Vec<(Qs, usize)> = Vec::new();
        self.run_block(&stmts[..top], name, env, &mut cur)?;
        (cur.len() > 1).then_some(cur)
    }

    /// Runs statements over the possible values of `name`; `None` when not understood.
    fn run_block(&self, stmts: &[Node<'_>], name: &str, scope_env: &Env, cur: &mut Vec<(Qs, usize)>) -> Option<()> {
        let binds = |n: Node<'_>| {
            let mut found = false;
            crate::parse::for_each_node(n, |x| {
                if matches!(
                    x.kind(),
                    "assignment" | "augmented_assignment" | "for_statement" | "for_in_clause" | "named_expression"
                ) {
                    let target = x.child_by_field_name("left").or_else(|| x.child_by_field_name("name"));
                    found |= target.is_some_and(|t| identifiers(t).iter().any(|i| text(*i, self.src) == name));
                }
            });
            found
        };
        for stmt in stmts {
            if !binds(*stmt) {
                continue;
            }
            match stmt.kind() {
                "expression_statement" => {
                    let a = stmt.named_child(0).filter(|a| a.kind() == "assignment")?;
                    let (l, r) = (a.child_by_field_name("left")?, a.child_by_field_name("right")?);
                    if l.kind() != "identifier" || text(l, self.src) != name {
                        return None;
                    }
                    let line = self.line(*stmt);
                    let empty = r.kind() == "call"
                        && r.child_by_field_name("function")
                            .and_then(|f| f.child_by_field_name("attribute"))
                            .is_some_and(|m| text(m, self.src) == "none");
                    let olds: Vec<Option<Qs>> =
                        if cur.is_empty() { vec![None] } else { cur.iter().map(|(q, _)| Some(q.clone())).collect() };
                    let mut next = Vec::new();
                    for old in olds {
                        let mut env = scope_env.clone();
                        env.insert(name.to_string(), old);
                        let mut v = self.eval(r, &env, 0)?;
                        if v.values {
                            return None;
                        }
                        v.opaque |= empty;
                        next.push((v, line));
                    }
                    *cur = next;
                }
                "if_statement" => {
                    let mut blocks = vec![stmt.child_by_field_name("consequence")?];
                    let mut has_else = false;
                    let mut c = stmt.walk();
                    for alt in stmt.children_by_field_name("alternative", &mut c) {
                        has_else |= alt.kind() == "else_clause";
                        blocks.push(alt.child_by_field_name("consequence").or_else(|| alt.child_by_field_name("body"))?);
                    }
                    let mut out = if has_else { Vec::new() } else { cur.clone() };
                    for b in blocks {
                        let mut c = b.walk();
                        let inner: Vec<Node<'_>> = b.named_children(&mut c).collect();
                        // A branch that leaves does not reach the loop.
                        if inner.last().is_some_and(|l| {
                            matches!(l.kind(), "return_statement" | "raise_statement" | "continue_statement" | "break_statement")
                        }) {
                            continue;
                        }
                        let mut here = cur.clone();
                        self.run_block(&inner, name, scope_env, &mut here)?;
                        if here.is_empty() {
                            return None;
                        }
                        out.extend(here);
                    }
                    *cur = out;
                }
                _ => return None,
            }
            if cur.len() > 8 {
                return None;
            }
        }
        Some(())
    }

    /// Relations a loop reads on every pass that one path's queryset loads and another's does
    /// not (the union `qs` loads them, so the plain check said nothing).
    fn branch_gaps(&mut self, owner: Node<'_>, left: Node<'_>, right: Node<'_>, qs: &Qs, paths: &[(Qs, usize)]) {
        let enumerate = single_arg_call(right, self.src).is_some_and(|(f, _)| f == "enumerate");
        let Some(var) = self.loop_var(left, enumerate) else { return };
        let Some(model) = self.graph.model(&qs.model) else { return };
        if paths.iter().any(|(p, _)| p.model != qs.model) {
            return;
        }
        let region = if owner.kind() == "for_statement" { owner.child_by_field_name("body") } else { owner.parent() };
        let Some(region) = region else { return };
        if owner.kind() == "for_statement" && leaves_first_pass(region) {
            return;
        }
        // A comprehension with an `if` clause reads for some rows only.
        if owner.kind() == "for_in_clause" {
            let mut c = region.walk();
            if region.named_children(&mut c).any(|x| x.kind() == "if_clause") {
                return;
            }
        }
        let name = text(var, self.src);
        let mut uses = Vec::new();
        crate::parse::for_each_node(region, |n| {
            if n.kind() == "identifier" && text(n, self.src) == name && n != var && !within(n, right) {
                uses.push(n);
            }
        });
        // Relations set on the row in the loop are not read from the database.
        let stored: HashSet<&str> = uses
            .iter()
            .filter_map(|u| u.parent().filter(|p| p.kind() == "attribute" && is_store(*p)))
            .filter_map(|p| p.child_by_field_name("attribute"))
            .map(|a| text(a, self.src))
            .collect();
        let mut reported = HashSet::new();
        for u in uses {
            // Read on every pass: no condition, loop or function between the use and the loop.
            let mut up = u.parent();
            let mut every = true;
            while let Some(p) = up.filter(|p| *p != region) {
                every &= !matches!(
                    p.kind(),
                    "if_statement"
                        | "while_statement"
                        | "for_statement"
                        | "try_statement"
                        | "conditional_expression"
                        | "boolean_operator"
                        | "lambda"
                        | "function_definition"
                        | "list_comprehension"
                        | "generator_expression"
                        | "set_comprehension"
                        | "dictionary_comprehension"
                );
                up = p.parent();
            }
            if !every {
                continue;
            }
            let Some(attr_node) = u.parent().filter(|p| p.kind() == "attribute" && p.child_by_field_name("object") == Some(u))
            else {
                continue;
            };
            let Some(attr) = attr_node.child_by_field_name("attribute").map(|a| text(a, self.src)) else { continue };
            let Some(rel) = model.relations.get(attr) else { continue };
            if is_store(attr_node) || stored.contains(attr) || rel.kind == RelKind::GenericForeignKey {
                continue;
            }
            let non_null = !rel.null && matches!(rel.kind, RelKind::ForeignKey | RelKind::OneToOne);
            let fix = if rel.kind.is_single() {
                if !qs.loads_single(attr, non_null) {
                    continue;
                }
                format!(".select_related(\"{attr}\")")
            } else {
                // A related manager read through a method that a prefetch serves.
                let read = attr_node
                    .parent()
                    .filter(|g| g.kind() == "attribute" && g.child_by_field_name("object") == Some(attr_node))
                    .filter(|g| g.parent().is_some_and(|c| c.kind() == "call"))
                    .and_then(|g| g.child_by_field_name("attribute"))
                    .is_some_and(|m| {
                        !WRITE_METHODS.contains(&text(m, self.src)) && !BYPASS_METHODS.contains(&text(m, self.src))
                    });
                if !read || !qs.prefetches(attr) {
                    continue;
                }
                format!(".prefetch_related(\"{attr}\")")
            };
            let missing = paths.iter().find(|(p, _)| {
                if rel.kind.is_single() {
                    !p.loads_single(attr, non_null)
                } else {
                    !p.prefetches(attr)
                }
            });
            let Some((_, line)) = missing else { continue };
            if !reported.insert(attr.to_string()) {
                continue;
            }
            let shown = text(attr_node, self.src);
            let msg = format!(
                "`{shown}` runs one query per {} when the rows come from the queryset bound on line {line}, which \
                 does not load it (another branch does; the loop reads it on every pass) (N+1): add `{fix}` to the \
                 queryset on line {line} too",
                short(&qs.model)
            );
            self.reports.push((attr_node.start_byte(), attr_node.end_byte(), msg));
        }
    }

    /// Whether `name` is assigned exactly once among a scope's nodes, to a queryset whose rows
    /// are kept (not `.iterator()`), and never otherwise rebound.
    fn bound_once(&self, nodes: &[Node<'_>], name: &str) -> bool {
        let mut binds = 0;
        for n in nodes {
            match n.kind() {
                "assignment" => {
                    let Some(l) = n.child_by_field_name("left") else { continue };
                    if l.kind() == "identifier" && text(l, self.src) == name {
                        binds += 1;
                        let r = n.child_by_field_name("right").map(|r| text(r, self.src)).unwrap_or("");
                        if r.contains(".iterator(") {
                            return false;
                        }
                    } else if identifiers(l).iter().any(|i| text(*i, self.src) == name) {
                        return false;
                    }
                }
                "augmented_assignment" | "for_statement" | "for_in_clause" | "named_expression" | "parameters"
                | "with_item" | "as_pattern_target" => {
                    let target = n.child_by_field_name("left").or_else(|| n.child_by_field_name("name")).unwrap_or(*n);
                    if identifiers(target).iter().any(|i| text(*i, self.src) == name) {
                        return false;
                    }
                }
                _ => {}
            }
        }
        binds == 1
    }

    /// The loop variable holding model instances: `x` in `for x in qs`, `for i, x in enumerate(qs)`.
    fn loop_var<'t>(&self, left: Node<'t>, enumerate: bool) -> Option<Node<'t>> {
        if !enumerate {
            return (left.kind() == "identifier").then_some(left);
        }
        if matches!(left.kind(), "pattern_list" | "tuple_pattern") && left.named_child_count() == 2 {
            return left.named_child(1).filter(|x| x.kind() == "identifier");
        }
        None
    }

    fn eval_iterable(&self, right: Node<'_>, env: &Env) -> Option<Qs> {
        let qs = match single_arg_call(right, self.src) {
            Some(("enumerate", arg)) => self.eval(arg, env, 0),
            _ => self.eval(right, env, 0),
        }?;
        (!qs.values && !qs.opaque).then_some(qs)
    }

    /// Analyses one loop: `owner` is the for statement or for-in clause, `prefix` the relation
    /// path of `qs` from an outer queryset (`comments__` for a loop over a prefetched manager).
    fn loop_over(
        &mut self,
        owner: Node<'_>,
        left: Node<'_>,
        right: Node<'_>,
        qs: &Qs,
        prefix: &str,
        cached: HashSet<String>,
    ) {
        let enumerate = single_arg_call(right, self.src).is_some_and(|(f, _)| f == "enumerate");
        let Some(var) = self.loop_var(left, enumerate) else { return };
        let name = text(var, self.src);
        // The region executed per item: a for statement's body, or the whole comprehension.
        let region = if owner.kind() == "for_statement" { owner.child_by_field_name("body") } else { owner.parent() };
        let Some(region) = region else { return };
        // A loop that leaves on its first pass (`for x in qs: ... return x`) searches for one
        // row: what it reads per row is not read per row.
        if owner.kind() == "for_statement" && leaves_first_pass(region) {
            return;
        }
        // Single relations read by an earlier loop over the same rows are cached on them.
        let mut reported: HashSet<String> = cached;
        let mut uses = Vec::new();
        crate::parse::for_each_node(region, |n| {
            if n.kind() == "identifier" && text(n, self.src) == name && n != var && !within(n, right) {
                uses.push(n);
            }
        });
        // `x.rel = obj` in the loop body caches `obj` on the instance: a later `x.rel` in the
        // same body reads that object, not the database.
        fn first_attr<'t, 's>(u: Node<'t>, src: &'s str) -> Option<(Node<'t>, &'s str)> {
            let p = u.parent().filter(|p| p.kind() == "attribute" && p.child_by_field_name("object") == Some(u))?;
            Some((p, text(p.child_by_field_name("attribute")?, src)))
        }
        let stores: Vec<(&str, usize)> =
            uses.iter().filter_map(|&u| first_attr(u, self.src)).filter(|(p, _)| is_store(*p)).map(|(p, a)| (a, p.end_byte())).collect();
        for u in uses {
            if first_attr(u, self.src).is_some_and(|(p, a)| stores.iter().any(|&(s, end)| s == a && end <= p.start_byte())) {
                continue;
            }
            // Relations set on the row earlier in the body: a property reading them reads the
            // object set.
            let set: Vec<&str> = stores.iter().filter(|&&(_, end)| end <= u.start_byte()).map(|&(a, _)| a).collect();
            self.chain(u, qs, prefix, &set, &mut reported);
            if prefix.is_empty() && set.is_empty() {
                self.serialized_row(u, qs, &mut reported);
            }
            if prefix.is_empty() {
                self.query_by_row(u, region, qs, &mut reported);
            }
        }
    }

    /// `Other.objects.filter(rel=row)` (or `.get(rel=row)`, `rel_id=row.pk`) in a loop over a
    /// queryset, `rel` a relation of `Other` to the loop's model, and the query run in the same
    /// pass (`.count()`, `.exists()`, `.first()`, `.get()`, iterated, or assigned and
    /// then iterated or counted there): one query per row whatever the loop's queryset loads.
    fn query_by_row(&mut self, u: Node<'_>, region: Node<'_>, qs: &Qs, reported: &mut HashSet<String>) {
        let src = self.src;
        // `row` itself, or its key (`row.pk`, `row.id`).
        let mut v = u;
        let mut by_key = false;
        if let Some(p) = u.parent().filter(|p| p.kind() == "attribute" && p.child_by_field_name("object") == Some(u)) {
            if !matches!(p.child_by_field_name("attribute").map(|a| text(a, src)), Some("pk" | "id")) {
                return;
            }
            v = p;
            by_key = true;
        }
        let Some(kwarg) = v.parent().filter(|k| k.kind() == "keyword_argument" && k.child_by_field_name("value") == Some(v))
        else {
            return;
        };
        let Some(key) = kwarg.child_by_field_name("name").map(|n| text(n, src)) else { return };
        let Some(call) = kwarg.parent().filter(|a| a.kind() == "argument_list").and_then(|a| a.parent()) else { return };
        let Some(f) = call.child_by_field_name("function").filter(|f| f.kind() == "attribute") else { return };
        let method = f.child_by_field_name("attribute").map_or("", |a| text(a, src));
        if !matches!(method, "filter" | "exclude" | "get") {
            return;
        }
        // Deferred code (a nested function, a lambda) does not run per row here.
        let mut a = call.parent();
        while let Some(n) = a {
            if n == region {
                break;
            }
            if matches!(n.kind(), "function_definition" | "lambda" | "class_definition") {
                return;
            }
            a = n.parent();
        }
        let Some(obj) = f.child_by_field_name("object") else { return };
        let Some(other) = self.eval(obj, &Env::new(), 0) else { return };
        if other.values || other.opaque || other.bulk {
            return;
        }
        let Some(model) = self.graph.model(&other.model) else { return };
        let key = key.strip_suffix("__exact").unwrap_or(key);
        let rel_name = if by_key {
            key.strip_suffix("_id").or_else(|| key.strip_suffix("__pk")).or_else(|| key.strip_suffix("__id"))
        } else {
            Some(key)
        };
        let Some(rel_name) = rel_name.filter(|r| !r.contains("__")) else { return };
        let Some(rel) = model.relations.get(rel_name) else { return };
        if rel.kind == RelKind::GenericForeignKey
            || rel.target.as_deref().and_then(|t| self.graph.model(t)).map(|m| m.key.as_str()) != Some(qs.model.as_str())
        {
            return;
        }
        // Where the query runs: up the lazy chain to an evaluating call, a loop over it, or a
        // name bound to it and evaluated later in the same body.
        const EVAL: &[&str] =
            &["count", "exists", "first", "last", "get", "aggregate", "earliest", "latest"];
        let mut top = call;
        let mut runs = method == "get";
        let mut how = if runs { "get" } else { "" };
        while !runs {
            let Some(p) = top.parent().filter(|p| p.kind() == "attribute" && p.child_by_field_name("object") == Some(top))
            else {
                break;
            };
            let Some(c) = p.parent().filter(|c| c.kind() == "call") else { break };
            let m = p.child_by_field_name("attribute").map_or("", |a| text(a, src));
            if EVAL.contains(&m) {
                runs = true;
                how = m;
                top = c;
            } else if QS_CHAIN.contains(&m) || matches!(m, "values" | "values_list") {
                top = c;
            } else {
                return;
            }
        }
        if !runs {
            if iterated_by(top).is_some()
                || matches!(single_arg_call(top.parent().and_then(|a| a.parent()).unwrap_or(top), src), Some((f, a)) if a == top && matches!(f, "list" | "len" | "set" | "tuple" | "bool"))
            {
                runs = true;
            } else if let Some(asg) = top.parent().filter(|p| p.kind() == "assignment" && p.child_by_field_name("right") == Some(top)) {
                let Some(name) = asg.child_by_field_name("left").filter(|l| l.kind() == "identifier").map(|l| text(l, src))
                else {
                    return;
                };
                crate::parse::for_each_node(region, |n| {
                    if runs || n.kind() != "identifier" || text(n, src) != name || n.start_byte() < asg.end_byte() {
                        return;
                    }
                    if iterated_by(n).is_some() {
                        runs = true;
                        how = "";
                    } else if let Some(m) = n
                        .parent()
                        .filter(|p| p.kind() == "attribute" && p.child_by_field_name("object") == Some(n))
                        .filter(|p| p.parent().is_some_and(|c| c.kind() == "call"))
                        .and_then(|p| p.child_by_field_name("attribute"))
                        .map(|a| text(a, src))
                        .filter(|m| EVAL.contains(m))
                    {
                        runs = true;
                        how = m;
                    }
                });
            }
        }
        if !runs || !reported.insert(format!("query {}", text(call, src))) {
            return;
        }
        let rows = short(&qs.model);
        let fix = match how {
            "count" => "annotate the count on that queryset instead (`.annotate(n=Count(..., filter=Q(...)))`) and \
                        read it on each row"
                .to_string(),
            "exists" => "annotate it on that queryset instead (`.annotate(has=Exists(...))` with an `OuterRef(\"pk\")` \
                         subquery) and read it on each row"
                .to_string(),
            _ => format!(
                "fetch the {} rows of all {rows} rows in one query before the loop (`{rel_name}__in=...`) and look \
                 them up per row in Python, or prefetch them on that queryset with `Prefetch(..., queryset=...)`",
                short(&other.model)
            ),
        };
        let msg = format!(
            "`{}` runs one query per {rows} in the loop over the queryset on line {} (N+1): {fix}",
            crate::finding::excerpt(text(top, src)),
            qs.line
        );
        self.reports.push((call.start_byte(), call.end_byte(), msg));
    }

    /// `XSerializer(row).data` or `XSerializer(row.rel).data` in a loop over a queryset: what
    /// the serializer reads on that object, against what the loop's queryset loads (a relation
    /// on the way that is not loaded is `chain`'s to report).
    fn serialized_row(&mut self, u: Node<'_>, qs: &Qs, reported: &mut HashSet<String>) {
        let src = self.src;
        if qs.values || qs.opaque {
            return;
        }
        let mut top = u;
        let mut attrs: Vec<&str> = Vec::new();
        while let Some(p) = top.parent().filter(|p| p.kind() == "attribute" && p.child_by_field_name("object") == Some(top)) {
            let Some(a) = p.child_by_field_name("attribute") else { return };
            attrs.push(text(a, src));
            top = p;
        }
        let Some(call) = top.parent().filter(|a| a.kind() == "argument_list").and_then(|a| a.parent()) else { return };
        if call.kind() != "call" {
            return;
        }
        let (pos, kw) = call_args(call, src);
        if pos.len() != 1 || pos[0] != top {
            return;
        }
        if kw.iter().any(|(k, _)| matches!(k.as_str(), "many" | "fields" | "exclude" | "expand" | "omit")) {
            return;
        }
        let Some(f) = call.child_by_field_name("function").and_then(|f| dotted(f, src)) else { return };
        if !f.ends_with("Serializer") {
            return;
        }
        let Some(ser) = self.graph.resolve_serializer(&f, self.dir, self.imports) else { return };
        let Some(mut model) = self.graph.model(&qs.model) else { return };
        let mut path = String::new();
        for a in &attrs {
            let Some(rel) = model.relations.get(*a).filter(|r| r.kind.is_single() && r.kind != RelKind::GenericForeignKey)
            else {
                return;
            };
            path = if path.is_empty() { a.to_string() } else { format!("{path}__{a}") };
            let Some(t) = rel.target.as_deref().and_then(|t| self.graph.model(t)) else { return };
            model = t;
        }
        if (!path.is_empty() && !qs.loads_single(&path, false)) || ser.model.as_deref() != Some(model.key.as_str()) {
            return;
        }
        let prefix = if path.is_empty() { String::new() } else { format!("{path}__") };
        let mut needs = Vec::new();
        self.serializer_needs(ser, &model.key, &prefix, false, 0, &mut needs);
        let mut missing: Vec<(String, bool, String)> = Vec::new();
        for (p, many, field) in needs {
            let p = self.graph.without_round_trips(&qs.model, &p);
            if p.is_empty() || missing.iter().any(|(q, _, _)| *q == p) {
                continue;
            }
            let loaded = if many { qs.prefetches(&p) } else { qs.loads_single(&p, false) };
            if !loaded {
                missing.push((p, many, field));
            }
        }
        if missing.is_empty() || !reported.insert(format!("serializer {}", text(call, src))) {
            return;
        }
        let (fields, fix) = missing_and_fix(&missing);
        let msg = format!(
            "`{}` serializes one {} per {} in the loop over the queryset on line {}, and {} without that queryset \
             loading it: one query per row (N+1); add `{fix}` to that queryset",
            text(call.child_by_field_name("function").unwrap_or(call), src).to_string() + "(" + text(top, src) + ")",
            short(&model.key),
            short(&qs.model),
            qs.line,
            fields.join(", "),
        );
        self.reports.push((call.start_byte(), call.end_byte(), msg));
    }

    /// Follows `x.a.b…` from a use of a loop variable and reports the first relation read that
    /// the queryset does not load.
    fn chain(&mut self, ident: Node<'_>, qs: &Qs, prefix: &str, set: &[&str], reported: &mut HashSet<String>) {
        let Some(mut model) = self.graph.model(&qs.model) else { return };
        let mut node = ident;
        let mut path = String::new();
        let mut non_null = true;
        loop {
            let Some(parent) = node.parent().filter(|p| p.kind() == "attribute") else { return };
            if parent.child_by_field_name("object") != Some(node) {
                return;
            }
            let Some(attr) = parent.child_by_field_name("attribute").map(|a| text(a, self.src)) else { return };
            let Some(rel) = model.relations.get(attr) else {
                if model.properties.contains_key(attr) && !is_store(parent) {
                    let set = if path.is_empty() { set } else { &[] };
                    self.property_in_loop(parent, model, &path, attr, qs, prefix, non_null, set, reported);
                }
                return;
            };
            if is_store(parent) {
                return;
            }
            let full = if path.is_empty() { attr.to_string() } else { format!("{path}__{attr}") };
            let shown = text(parent, self.src);
            let its = rel.target.as_deref().map_or("the related row".to_string(), |t| format!("its {}", short(t)));
            if rel.kind.is_single() {
                non_null &= !rel.null && matches!(rel.kind, RelKind::ForeignKey | RelKind::OneToOne);
                let loaded = if prefix.is_empty() {
                    if rel.kind == RelKind::GenericForeignKey {
                        qs.prefetches(&full)
                    } else {
                        qs.loads_single(&full, non_null)
                    }
                } else {
                    qs.prefetches(&full)
                };
                if !loaded {
                    self.single_reads.push(format!("{prefix}{full}"));
                    if reported.insert(full.clone()) {
                        let fix = if rel.kind == RelKind::GenericForeignKey || !prefix.is_empty() {
                            format!(".prefetch_related(\"{prefix}{full}\")")
                        } else {
                            format!(".select_related(\"{full}\")")
                        };
                        // Compared whole (`photo.owner == request.user`): the key column answers
                        // without loading the row.
                        let compared = path.is_empty()
                            && prefix.is_empty()
                            && rel.forward
                            && matches!(rel.kind, RelKind::ForeignKey | RelKind::OneToOne)
                            && parent.parent().is_some_and(|p| {
                                p.kind() == "comparison_operator"
                                    && text(p, self.src).split_whitespace().any(|op| op == "==" || op == "!=")
                            });
                        let or_key = if compared {
                            let var = text(node, self.src);
                            format!(", or compare the key (`{var}.{attr}_id` with the other side's `.pk`), which needs no query")
                        } else {
                            String::new()
                        };
                        let msg = format!(
                            "`{shown}` runs one query per {} to load {its}, in the loop over the queryset on line {} \
                             (N+1): add `{fix}` to that queryset{or_key}",
                            short(&qs.model), qs.line
                        );
                        self.reports.push((parent.start_byte(), parent.end_byte(), msg));
                    }
                    return;
                }
                let Some(t) = rel.target.as_deref().and_then(|t| self.graph.model(t)) else { return };
                model = t;
                path = full;
                node = parent;
                continue;
            }
            // A related manager: only a method call on it queries.
            let Some(method_attr) = parent.parent().filter(|g| g.kind() == "attribute") else { return };
            if method_attr.child_by_field_name("object") != Some(parent) {
                return;
            }
            let Some(call) = method_attr.parent().filter(|c| c.kind() == "call") else { return };
            if call.child_by_field_name("function") != Some(method_attr) {
                return;
            }
            let method = method_attr.child_by_field_name("attribute").map(|a| text(a, self.src)).unwrap_or("");
            // `x.rel.all().delete()`: a write through the read, which no prefetch saves.
            let then_writes = call
                .parent()
                .filter(|p| p.kind() == "attribute" && p.child_by_field_name("object") == Some(call))
                .and_then(|p| p.child_by_field_name("attribute"))
                .is_some_and(|m| WRITE_METHODS.contains(&text(m, self.src)));
            if WRITE_METHODS.contains(&method) || then_writes {
                return;
            }
            let call_text = crate::finding::excerpt(text(call, self.src));
            if qs.prefetches(&full) {
                if BYPASS_METHODS.contains(&method) {
                    if reported.insert(format!("{full}.{method}")) {
                        let msg = format!(
                            "`{call_text}` queries again for every {} even though `{prefix}{full}` is prefetched on line \
                             {}: `.{method}()` on a related manager bypasses the prefetch cache; work on `.all()` in \
                             Python, or prefetch the filtered set with `Prefetch(\"{prefix}{full}\", queryset=...)`",
                            short(&qs.model), qs.line
                        );
                        self.reports.push((call.start_byte(), call.end_byte(), msg));
                    }
                    return;
                }
                // A loop over the prefetched rows: what it reads must be prefetched too.
                if let Some((owner, left, right)) = iterated_by(call) {
                    if let Some(t) = rel.target.clone() {
                        let sub = format!("{full}__");
                        let inner = Qs {
                            model: t,
                            manager: None,
                            select: Vec::new(),
                            select_all: false,
                            prefetch: qs
                                .prefetch
                                .iter()
                                .filter_map(|p| p.strip_prefix(&sub).map(str::to_string))
                                .collect(),
                            opaque: qs.opaque,
                            values: false,
                            line: qs.line,
                            single: false,
                            bulk: false,
                        };
                        self.loop_over(owner, left, right, &inner, &format!("{prefix}{sub}"), HashSet::new());
                    }
                }
                return;
            }
            if reported.insert(full.clone()) {
                // `.filter()`, `.values_list()`...: a new query even on a prefetched relation,
                // so `prefetch_related` alone is not the fix.
                let msg = if BYPASS_METHODS.contains(&method) {
                    format!(
                        "`{call_text}` runs one query per {} in the loop over the queryset on line {} (N+1), and \
                         `.{method}()` on a related manager queries even when the relation is prefetched: prefetch \
                         the rows it needs with `Prefetch(\"{prefix}{full}\", queryset=...)` and read them with \
                         `.all()`, or make one query for all rows before the loop",
                        short(&qs.model),
                        qs.line
                    )
                } else {
                    format!(
                        "`{call_text}` runs one query per {} in the loop over the queryset on line {} (N+1): add \
                         `.prefetch_related(\"{prefix}{full}\")` to that queryset",
                        short(&qs.model),
                        qs.line
                    )
                };
                self.reports.push((call.start_byte(), call.end_byte(), msg));
            }
            return;
        }
    }

    /// `x.prop` in a loop, `prop` a property of `model` (reached by `path` from the loop's
    /// rows): the relations its body reads that the queryset does not load.
    #[allow(clippy::too_many_arguments)]
    fn property_in_loop(
        &mut self,
        at: Node<'_>,
        model: &crate::django::models::Model,
        path: &str,
        prop: &str,
        qs: &Qs,
        prefix: &str,
        non_null_before: bool,
        set: &[&str],
        reported: &mut HashSet<String>,
    ) {
        let graph = self.graph;
        let shown = text(at, self.src);
        let rows = short(&qs.model).to_string();
        for (chain, via) in graph.reads_through(model, &[prop.to_string()]) {
            let via = via.unwrap_or_else(|| format!("{}.{prop}", model.name));
            if chain.first().is_some_and(|c| set.contains(&c.as_str())) {
                continue;
            }
            let mut cur = model;
            let mut full = path.to_string();
            let mut read = String::from("self");
            let mut non_null = non_null_before;
            for (i, attr) in chain.iter().enumerate() {
                let Some(rel) = cur.relations.get(attr.as_str()) else { break };
                full = if full.is_empty() { attr.clone() } else { format!("{full}__{attr}") };
                read.push('.');
                read.push_str(attr);
                let lead = format!(
                    "`{shown}` reads `{read}` through the property `{via}`, one query per {rows} in the loop over the \
                     queryset on line {} (N+1)",
                    qs.line
                );
                if rel.kind.is_single() {
                    non_null &= !rel.null && matches!(rel.kind, RelKind::ForeignKey | RelKind::OneToOne);
                    let loaded = if prefix.is_empty() && rel.kind != RelKind::GenericForeignKey {
                        qs.loads_single(&full, non_null)
                    } else {
                        qs.prefetches(&full)
                    };
                    if !loaded {
                        self.single_reads.push(format!("{prefix}{full}"));
                        if reported.insert(full.clone()) {
                            let fix = if rel.kind == RelKind::GenericForeignKey || !prefix.is_empty() {
                                format!(".prefetch_related(\"{prefix}{full}\")")
                            } else {
                                format!(".select_related(\"{full}\")")
                            };
                            let msg = format!("{lead}: add `{fix}` to that queryset");
                            self.reports.push((at.start_byte(), at.end_byte(), msg));
                        }
                        break;
                    }
                    match rel.target.as_deref().and_then(|t| graph.model(t)) {
                        Some(t) => cur = t,
                        None => break,
                    }
                    continue;
                }
                // A related manager: read through a method other than a write.
                let Some(method) = chain.get(i + 1).filter(|m| !WRITE_METHODS.contains(&m.as_str())) else { break };
                if BYPASS_METHODS.contains(&method.as_str()) {
                    if reported.insert(format!("{full}.{method}")) {
                        let msg = format!(
                            "`{shown}` calls `{read}.{method}()` through the property `{via}`: one query per {rows} in \
                             the loop over the queryset on line {} (N+1), whatever the queryset prefetches; compute it \
                             for all rows at once (an annotation, or a `Prefetch(\"{prefix}{full}\", queryset=..., \
                             to_attr=...)`) and read that instead",
                            qs.line
                        );
                        self.reports.push((at.start_byte(), at.end_byte(), msg));
                    }
                } else if !qs.prefetches(&full) && reported.insert(full.clone()) {
                    let msg = format!("{lead}: add `.prefetch_related(\"{prefix}{full}\")` to that queryset");
                    self.reports.push((at.start_byte(), at.end_byte(), msg));
                }
                break;
            }
        }
    }

    /// The rows of a model's manager `attr` (`objects`, `_default_manager`, a custom one) and
    /// what the manager loads; `None` when not known.
    fn manager_rows(&self, key: &str, attr: &str, line: usize) -> Option<Qs> {
        let model = self.graph.model(key)?;
        if model.is_abstract {
            return None;
        }
        let manager = match (attr, model.managers.get(attr)) {
            (_, Some(m)) => m.clone(),
            ("objects", None) if !model.managers.is_empty() && !model.managers.contains_key("objects") => {
                return None
            }
            ("objects" | "_default_manager" | "_base_manager", None) => {
                if attr != "objects" && !model.managers.is_empty() {
                    return None;
                }
                "Manager".to_string()
            }
            _ => return None,
        };
        let base = self.graph.manager_base(model, &manager)?;
        Some(Qs {
            model: model.key.clone(),
            manager: Some(manager),
            select: base.select,
            select_all: false,
            prefetch: base.prefetch,
            opaque: base.opaque,
            values: false,
            line,
            single: false,
            bulk: false,
        })
    }

    /// The queryset an expression evaluates to, or `None` when unknown.
    fn eval(&self, n: Node<'_>, env: &Env, depth: usize) -> Option<Qs> {
        if depth > 48 {
            return None;
        }
        match n.kind() {
            "identifier" => env.get(text(n, self.src)).cloned().flatten(),
            "parenthesized_expression" => self.eval(n.named_child(0)?, env, depth + 1),
            "subscript" => {
                let v = n.child_by_field_name("value")?;
                let sub = n.child_by_field_name("subscript")?;
                if sub.kind() != "slice" {
                    return None;
                }
                self.eval(v, env, depth + 1)
            }
            "attribute" => {
                // A related manager of the view's object (see `bind_object_managers`).
                if let Some(v) = env.get(text(n, self.src)).filter(|_| text(n, self.src).contains('.')) {
                    return v.clone();
                }
                // Model.objects, Model._default_manager, Model.<custom manager>; self.queryset.
                let obj = n.child_by_field_name("object")?;
                let attr = text(n.child_by_field_name("attribute")?, self.src);
                if text(obj, self.src) == "self" && attr == "queryset" {
                    return env.get("@queryset").cloned().flatten();
                }
                let key = if text(obj, self.src) == "get_user_model()" {
                    self.graph.user_model.clone()?
                } else if obj.kind() != "identifier" {
                    return None;
                } else {
                    self.graph.resolve_model(text(obj, self.src), self.dir, self.imports)?
                };
                self.manager_rows(&key, attr, self.line(n))
            }
            "call" => {
                if let Some(("list", arg)) = single_arg_call(n, self.src) {
                    return self.eval(arg, env, depth + 1);
                }
                let f = n.child_by_field_name("function")?;
                let helper = match f.kind() {
                    "identifier" => self.helpers.get(text(f, self.src)).cloned(),
                    "attribute" => self.eager_helper(f),
                    _ => None,
                };
                if let Some(helper) = helper {
                    // An eager-loading helper: what it is given, with what it adds.
                    let (pos, kw) = call_args(n, self.src);
                    let arg = match (pos.as_slice(), kw.as_slice()) {
                        ([a], []) => *a,
                        ([], [(_, v)]) => *v,
                        _ => return None,
                    };
                    let mut qs = self.eval(arg, env, depth + 1)?;
                    qs.select.extend(helper.select.iter().cloned());
                    qs.prefetch.extend(helper.prefetch.iter().cloned());
                    qs.opaque |= helper.opaque;
                    return Some(qs);
                }
                if f.kind() != "attribute" {
                    return None;
                }
                let obj = f.child_by_field_name("object")?;
                let method = text(f.child_by_field_name("attribute")?, self.src);
                if method == "get_queryset" && text(obj, self.src).starts_with("super(") {
                    return env.get("@queryset").cloned().flatten();
                }
                if text(obj, self.src) == "self" {
                    let (pos, kw) = call_args(n, self.src);
                    return match method {
                        "get_queryset" if pos.is_empty() && kw.is_empty() => {
                            env.get("@get_queryset").cloned().flatten()
                        }
                        // The rows a view filters or pages are the rows of its queryset.
                        "filter_queryset" | "paginate_queryset" if pos.len() == 1 && kw.is_empty() => {
                            self.eval(pos[0], env, depth + 1)
                        }
                        _ => None,
                    };
                }
                let mut qs = self.eval(obj, env, depth + 1)?;
                let (pos, kw) = call_args(n, self.src);
                match method {
                    "values" if qs.bulk && pos.is_empty() && kw.is_empty() => {
                        qs.bulk = false;
                        qs.values = false;
                        Some(qs)
                    }
                    _ if qs.bulk => None,
                    "in_bulk" => {
                        qs.bulk = true;
                        qs.values = true;
                        Some(qs)
                    }
                    "values" | "values_list" => {
                        qs.values = true;
                        Some(qs)
                    }
                    "select_related" => {
                        if pos.is_empty() && kw.is_empty() {
                            qs.select_all = true;
                        }
                        for a in pos {
                            match string_value(a, self.src) {
                                Some(s) => qs.select.push(s),
                                None if text(a, self.src) == "None" => {}
                                None => qs.opaque = true,
                            }
                        }
                        Some(qs)
                    }
                    "prefetch_related" => {
                        for a in pos {
                            self.prefetch_arg(a, env, &mut qs, depth);
                        }
                        Some(qs)
                    }
                    "filter" if self.unique_lookup(&qs.model, &kw) => {
                        qs.single = true;
                        Some(qs)
                    }
                    m if QS_CHAIN.contains(&m) => Some(qs),
                    m => {
                        // A method of the project's manager or queryset class.
                        let model = self.graph.model(&qs.model)?;
                        let found = self.graph.manager_method(model, qs.manager.as_deref()?, m)?;
                        if !found.returns_queryset {
                            return None;
                        }
                        qs.select.extend(found.select.iter().cloned());
                        qs.prefetch.extend(found.prefetch.iter().cloned());
                        qs.opaque |= found.opaque;
                        Some(qs)
                    }
                }
            }
            _ => None,
        }
    }

    /// Whether `filter(**kw)` on `model` keeps one row at most: a keyword is `pk`, `id` or a
    /// one-to-one field of the model (with `_id` or `__exact` or not), compared for equality.
    fn unique_lookup(&self, model: &str, kw: &[(String, Node<'_>)]) -> bool {
        let Some(m) = self.graph.model(model) else { return false };
        kw.iter().any(|(k, _)| {
            let k = k.strip_suffix("__exact").unwrap_or(k);
            let k = k.strip_suffix("_id").filter(|b| !b.is_empty()).unwrap_or(k);
            matches!(k, "pk" | "id")
                || m.relations.get(k).is_some_and(|r| r.kind == crate::django::models::RelKind::OneToOne)
        })
    }

    /// A serializer's eager-loading helper called as `XSerializer.<helper>` or, in a view,
    /// `self.get_serializer_class().<helper>` / `self.serializer_class.<helper>`.
    fn eager_helper(&self, f: Node<'_>) -> Option<crate::django::models::QsMethod> {
        let obj = f.child_by_field_name("object")?;
        let method = text(f.child_by_field_name("attribute")?, self.src);
        let name = match text(obj, self.src) {
            "self.get_serializer_class()" | "self.serializer_class" => self.view_serializer.borrow().clone()?,
            _ if obj.kind() == "identifier" => text(obj, self.src).to_string(),
            _ => return None,
        };
        let ser = self.graph.resolve_serializer(&name, self.dir, self.imports)?;
        ser.eager.get(method).cloned()
    }

    /// A `prefetch_related` argument: a path, or `Prefetch("path", queryset=..., to_attr=...)`.
    fn prefetch_arg(&self, a: Node<'_>, env: &Env, qs: &mut Qs, depth: usize) {
        if let Some(s) = string_value(a, self.src) {
            qs.prefetch.push(s);
            return;
        }
        let is_prefetch = a.kind() == "call"
            && a.child_by_field_name("function")
                .and_then(|f| dotted(f, self.src))
                .is_some_and(|d| d == "Prefetch" || d.ends_with(".Prefetch"));
        if !is_prefetch {
            qs.opaque = true;
            return;
        }
        let (pos, kw) = call_args(a, self.src);
        let Some(path) = pos.first().and_then(|p| string_value(*p, self.src)) else {
            qs.opaque = true;
            return;
        };
        qs.prefetch.push(path.clone());
        for (k, v) in kw {
            match k.as_str() {
                "to_attr" => {}
                "queryset" => match self.eval(v, env, depth + 1) {
                    Some(inner) => {
                        for s in inner.select.iter().chain(inner.prefetch.iter()) {
                            qs.prefetch.push(format!("{path}__{s}"));
                        }
                        if inner.opaque || inner.select_all {
                            qs.opaque = true;
                        }
                    }
                    None => qs.opaque = true,
                },
                _ => {}
            }
        }
    }

    /// What a view class says about the rows it lists: its `queryset`, what its `get_queryset()`
    /// returns (and the node to report at), its serializer.
    fn view_info<'t>(&self, class: Node<'t>) -> ViewInfo<'t> {
        let src = self.src;
        let mut info = ViewInfo::default();
        let Some(body) = class.child_by_field_name("body") else { return info };
        let mut get_queryset = None;
        let mut model_attr = None;
        let mut c = body.walk();
        for stmt in body.named_children(&mut c) {
            let def = if stmt.kind() == "decorated_definition" { stmt.child_by_field_name("definition") } else { Some(stmt) };
            let Some(def) = def else { continue };
            if def.kind() == "function_definition" {
                match def.child_by_field_name("name").map(|n| text(n, src)) {
                    Some("get_queryset") => {
                        get_queryset = Some(def);
                        info.get_queryset_def = Some(def);
                    }
                    Some("get_serializer_class") => info.serializer_def = Some(def),
                    Some("get_serializer") => {
                        info.dynamic = true;
                        info.serializer_hidden = true;
                    }
                    // `def list(...): return super().list(...)` lists as DRF does.
                    Some("list") => info.own_list = !only_calls_super(def, src),
                    _ => {}
                }
                continue;
            }
            let Some(a) = def.named_child(0).filter(|a| a.kind() == "assignment") else { continue };
            let (Some(l), Some(r)) = (a.child_by_field_name("left"), a.child_by_field_name("right")) else { continue };
            match text(l, src) {
                "queryset" => info.qs_node = Some(r),
                "model" => model_attr = Some(r),
                "serializer_class" => info.class_serializer = dotted(r, src),
                _ => {}
            }
        }
        // What the project's base classes and mixins override hides what this class says.
        let inherited: HashSet<&str> = class_base_names(class, src)
            .iter()
            .filter_map(|b| self.graph.view_hooks.get(b))
            .flatten()
            .map(String::as_str)
            .collect();
        info.super_plain = !inherited.contains("get_serializer_class");
        match info.serializer_def {
            // The serializer `get_serializer_class()` returns for listing.
            Some(def) => {
                info.serializer = chosen_serializer(
                    def,
                    src,
                    Some("list"),
                    info.class_serializer.as_deref(),
                    info.super_plain,
                );
                info.dynamic |= info.serializer.is_none();
                info.dynamic_own_class = true;
            }
            None => info.serializer = info.class_serializer.clone(),
        }
        let own_serializer_class = info.serializer.is_some() && !info.dynamic && info.dynamic_own_class;
        info.serializer_hidden |= inherited.contains("get_serializer");
        if inherited.contains("get_serializer") || (inherited.contains("get_serializer_class") && !own_serializer_class) {
            info.dynamic = true;
        }
        // A project base whose `get_queryset()` returns `self.model.objects.all()`: the rows of
        // this class's `model` (its `queryset` is not read), followed through its own
        // `get_queryset()` calling `super().get_queryset()`.
        let generic = !inherited.contains("list")
            && inherited.contains("get_queryset")
            && self.generic_base_queryset(&class_base_names(class, src), self.dir, self.imports, 0) == Some(true);
        if generic {
            info.queryset = model_attr
                .filter(|m| m.kind() == "identifier")
                .and_then(|m| self.graph.resolve_model(text(m, src), self.dir, self.imports))
                .and_then(|key| self.manager_rows(&key, "objects", model_attr.map_or(0, |m| self.line(m))));
            info.get_queryset = get_queryset.and_then(|def| self.returned_qs(def, &info.queryset));
            *self.view_serializer.borrow_mut() = info.serializer.clone().filter(|_| !info.dynamic);
            return info;
        }
        let hidden_qs = inherited.contains("list") || inherited.contains("get_queryset");
        *self.view_serializer.borrow_mut() = info.serializer.clone().filter(|_| !info.dynamic);
        info.queryset = info.qs_node.filter(|_| !hidden_qs).and_then(|q| self.eval(q, &Env::new(), 0));
        info.get_queryset = match get_queryset {
            None => info.qs_node.map(|n| (info.queryset.clone(), n)),
            Some(def) => self.returned_qs(def, &info.queryset).map(|(q, n)| (q.filter(|_| !inherited.contains("list")), n)),
        };
        info
    }

    /// Whether the `get_queryset()` a class with these project bases inherits is one that only
    /// returns `self.model.objects.all()`: the first base (depth first, left to right) defining
    /// one decides; `None` when no base defines it or a base's name is not one class.
    fn generic_base_queryset(&self, bases: &[String], dir: &str, imports: &Imports, depth: usize) -> Option<bool> {
        if depth > 8 {
            return Some(false);
        }
        for b in bases {
            if LIST_VIEWS.contains(&b.as_str()) || crate::django::drf::API_VIEWS.contains(&b.as_str()) {
                continue;
            }
            // A project view or mixin of that name that cannot be told apart: not known.
            if self.graph.view_hooks.contains_key(b) && self.graph.resolve_view(b, dir, imports).is_none() {
                return Some(false);
            }
            let Some(v) = self.graph.resolve_view(b, dir, imports) else { continue };
            if let Some(generic) = v.generic_qs {
                return Some(generic);
            }
            if let Some(found) = self.generic_base_queryset(&v.bases, &v.dir, &v.imports, depth + 1) {
                return Some(found);
            }
        }
        None
    }

    /// What a `get_queryset()` returns (every `return` merged) and the first return's node;
    /// `None` inside when a return is not understood.
    fn returned_qs<'t>(&self, def: Node<'t>, class_qs: &Option<Qs>) -> Option<(Option<Qs>, Node<'t>)> {
        let mut seed = Env::new();
        seed.insert("@queryset".into(), class_qs.clone());
        let nodes = scope_nodes(def);
        let env = self.env_of(&nodes, &seed);
        let returns: Vec<Node<'_>> =
            nodes.iter().filter(|n| n.kind() == "return_statement").filter_map(|r| r.named_child(0)).collect();
        let first = *returns.first()?;
        let mut merged: Option<Qs> = None;
        for r in &returns {
            let Some(q) = self.eval(*r, &env, 0) else { return Some((None, first)) };
            merged = match merged {
                None => Some(q),
                Some(m) => match m.merge(q) {
                    Some(x) => Some(x),
                    None => return Some((None, first)),
                },
            };
        }
        Some((merged, first))
    }

    fn is_list_view(&self, class: Node<'_>) -> bool {
        // `ModelViewSet[Tag]` (django-stubs generics) is `ModelViewSet`.
        class_base_names(class, self.src)
            .iter().any(|b| LIST_VIEWS.contains(&b.as_str()) || self.graph.list_views.contains(b))
    }

    /// A DRF list view: the serializer's reads against the queryset's loads.
    fn drf_view(&mut self, class: Node<'_>) {
        if !self.is_list_view(class) {
            return;
        }
        let info = self.view_info(class);
        // An own `list()` serializes what it chooses: its `many=True` call is checked instead.
        if info.own_list || info.dynamic {
            return;
        }
        let Some(ser_name) = info.serializer else { return };
        let Some(ser) = self.graph.resolve_serializer(&ser_name, self.dir, self.imports) else { return };
        let name = class.child_by_field_name("name");
        // Without a queryset to show, the per-row queries are reported at the class name.
        let Some((qs, at)) = info.get_queryset.or_else(|| name.map(|n| (None, n))) else { return };
        let view = name.map(|n| text(n, self.src)).unwrap_or("view");
        let union = qs.clone();
        self.list_check(ser, qs, at, &format!("`{view}`"), "this queryset".to_string());
        if let (Some(def), Some(union)) = (info.get_queryset_def, union) {
            self.return_gaps(def, ser, &union, &info.queryset, view);
        }
    }

    /// A `get_queryset()` with several returns (early returns, branches): a relation the
    /// serializer's declared fields read that one return loads and another does not. Only when
    /// no condition in the method can pick the action or the object (`self.action`,
    /// `request.method`, `self.kwargs`, ...) and the serializer's fields cannot change per
    /// request.
    fn return_gaps(&mut self, def: Node<'_>, ser: &Serializer, union: &Qs, class_qs: &Option<Qs>, view: &str) {
        if union.opaque || union.values || ser.model.as_deref() != Some(union.model.as_str()) || !self.fixed_fields(ser, 0)
        {
            return;
        }
        let nodes = scope_nodes(def);
        let conditions_pick = nodes.iter().any(|n| {
            matches!(n.kind(), "if_statement" | "elif_clause" | "conditional_expression" | "while_statement")
                && ["action", "method", "kwargs", "detail", "lookup", "pk", "args"]
                    .iter()
                    .any(|w| text(n.child_by_field_name("condition").unwrap_or(*n), self.src).contains(w))
        });
        if conditions_pick || text(def, self.src).contains("prefetch_related_objects") {
            return;
        }
        let mut seed = Env::new();
        seed.insert("@queryset".into(), class_qs.clone());
        let env = self.env_of(&nodes, &seed);
        let mut returns = Vec::new();
        for r in nodes.iter().filter(|n| n.kind() == "return_statement") {
            let Some(v) = r.named_child(0) else { return };
            // `Model.objects.none()`: no rows.
            let empty = v.kind() == "call"
                && v.child_by_field_name("function")
                    .and_then(|f| f.child_by_field_name("attribute"))
                    .is_some_and(|m| text(m, self.src) == "none");
            if empty {
                continue;
            }
            // A name bound more than once holds the union of its bindings: not one path.
            let names_once = identifiers(v).iter().all(|i| {
                let n = text(*i, self.src);
                !env.contains_key(n) || self.bound_once(&nodes, n)
            });
            if !names_once {
                return;
            }
            let Some(q) = self.eval(v, &env, 0) else { return };
            if q.opaque || q.values || q.model != union.model {
                return;
            }
            returns.push((q, v));
        }
        if returns.len() < 2 {
            return;
        }
        self.declarative_only.set(true);
        let mut needs = Vec::new();
        self.serializer_needs(ser, &union.model, "", false, 0, &mut needs);
        self.declarative_only.set(false);
        let mut done = HashSet::new();
        for (path, many, field) in needs {
            let non_null = self.non_null_path(&union.model, &path);
            let loaded = |q: &Qs| if many { q.prefetches(&path) } else { q.loads_single(&path, non_null) };
            if !loaded(union) || !done.insert(path.clone()) {
                continue;
            }
            for (q, at) in &returns {
                if loaded(q) {
                    continue;
                }
                let fix = if many { format!(".prefetch_related(\"{path}\")") } else { format!(".select_related(\"{path}\")") };
                let msg = format!(
                    "`{view}` lists {} rows through `{}`, whose {field} reads `{path}`, which this return of \
                     `get_queryset()` does not load (another return does): one query per row (N+1); add `{fix}` here too",
                    short(&union.model),
                    ser.name
                );
                self.reports.push((at.start_byte(), at.end_byte(), msg));
            }
        }
    }

    /// Whether every step of a relation path from `model` is a NOT NULL foreign key or
    /// one-to-one field: what `select_related()` without arguments follows.
    fn non_null_path(&self, model: &str, path: &str) -> bool {
        let mut cur = self.graph.model(model);
        for seg in path.split("__") {
            let Some(rel) = cur.and_then(|m| m.relations.get(seg)) else { return false };
            if rel.null || !matches!(rel.kind, RelKind::ForeignKey | RelKind::OneToOne) {
                return false;
            }
            cur = rel.target.as_deref().and_then(|t| self.graph.model(t));
        }
        true
    }

    /// Whether no base of a serializer may declare the field `name` itself: every base is DRF's
    /// or a project serializer that does not declare it (nor its bases).
    fn bases_leave(&self, ser: &Serializer, name: &str, depth: usize) -> bool {
        const DRF: &[&str] = &["Serializer", "ModelSerializer", "HyperlinkedModelSerializer"];
        depth < 8
            && ser.bases.iter().all(|b| {
                DRF.contains(&b.as_str())
                    || self.graph.resolve_serializer(b, &ser.dir, &ser.imports).is_some_and(|s| {
                        !std::ptr::eq(s, ser)
                            && !s.declared.iter().any(|(n, _)| n == name)
                            && self.bases_leave(s, name, depth + 1)
                    })
            })
    }

    /// Whether a serializer's fields are the same for every request: neither it, its nested
    /// serializers nor its project bases reshape them, and every base is DRF's or the project's.
    fn fixed_fields(&self, ser: &Serializer, depth: usize) -> bool {
        const DRF: &[&str] = &["Serializer", "ModelSerializer", "HyperlinkedModelSerializer"];
        if depth > 4 || ser.reshapes {
            return false;
        }
        let bases_fixed = ser.bases.iter().all(|b| {
            DRF.contains(&b.as_str())
                || self.graph.resolve_serializer(b, &ser.dir, &ser.imports).is_some_and(|s| self.fixed_fields(s, depth + 1))
        });
        bases_fixed
            && ser.declared.iter().all(|(_, f)| match f {
                SerField::Nested { serializer, .. } => self
                    .graph
                    .resolve_serializer(serializer, &ser.dir, &ser.imports)
                    .is_none_or(|s| std::ptr::eq(s, ser) || self.fixed_fields(s, depth + 1)),
                _ => true,
            })
    }

    /// Every `XSerializer(rows, many=True)` (and `self.get_serializer(rows, many=True)`) in a
    /// function: the serializer's reads against what `rows` loads, and the queries the
    /// serializer runs per row whatever `rows` loads.
    fn many_calls(&mut self, def: Node<'_>) {
        let src = self.src;
        let class = def
            .parent()
            .map(|p| if p.kind() == "decorated_definition" { p.parent().unwrap_or(p) } else { p })
            .filter(|b| b.kind() == "block")
            .and_then(|b| b.parent())
            .filter(|c| c.kind() == "class_definition");
        let info = class.map(|c| self.view_info(c)).unwrap_or_default();
        *self.view_serializer.borrow_mut() = info.serializer.clone().filter(|_| !info.dynamic);
        let mut seed = Env::new();
        seed.insert("@queryset".into(), info.queryset.clone());
        seed.insert("@get_queryset".into(), info.get_queryset.as_ref().and_then(|g| g.0.clone()));
        let mut nodes = scope_nodes(def);
        if let Some(p) = def.child_by_field_name("parameters") {
            nodes.insert(0, p);
        }
        // The view's object (`self.get_object()`, or a name bound to it once): its related
        // managers are querysets of the related model, loading what the view's queryset
        // prefetched under them.
        let object_qs = info.get_queryset.as_ref().and_then(|g| g.0.clone()).or_else(|| info.queryset.clone());
        if let Some(oq) = object_qs.filter(|q| !q.opaque && !q.values) {
            self.bind_object_managers(&nodes, &oq, &mut seed);
        }
        let env = self.env_of(&nodes, &seed);
        let Some(body) = def.child_by_field_name("body") else { return };
        let mut calls = Vec::new();
        crate::parse::for_each_node(body, |n| {
            if n.kind() == "call" && text(n, src).contains("many=True") {
                calls.push(n);
            }
        });
        let fname = def.child_by_field_name("name").map(|n| text(n, src)).unwrap_or("function");
        // What `self.get_serializer()` builds in this method: the serializer
        // `get_serializer_class()` returns for its action (`list`, or an `@action` method's own
        // name, with the `serializer_class=` it sets), else `serializer_class`.
        let decorated = def.parent().filter(|p| p.kind() == "decorated_definition");
        let action_call = decorated.and_then(|d| {
            let mut c = d.walk();
            let found = d
                .named_children(&mut c)
                .filter(|x| x.kind() == "decorator")
                .filter_map(|x| x.named_child(0))
                .find(|e| {
                    let callee = if e.kind() == "call" { e.child_by_field_name("function").unwrap_or(*e) } else { *e };
                    dotted(callee, src).is_some_and(|d| {
                        matches!(d.rsplit('.').next(), Some("action" | "detail_route" | "list_route"))
                    })
                });
            found
        });
        let action = if action_call.is_some() || fname == "list" { Some(fname) } else { None };
        let action_serializer = action_call
            .filter(|c| c.kind() == "call")
            .and_then(|c| call_args(c, src).1.into_iter().find(|(k, _)| k == "serializer_class"))
            .map(|(_, v)| dotted(v, src));
        let method_serializer = if info.serializer_hidden {
            None
        } else {
            let attr = match action_serializer {
                Some(v) => v,
                None => info.class_serializer.clone(),
            };
            match info.serializer_def {
                Some(d) => chosen_serializer(d, src, action, attr.as_deref(), info.super_plain),
                None if !info.super_plain => None,
                None => attr,
            }
        };
        let who = match class.and_then(|c| c.child_by_field_name("name")) {
            Some(c) => format!("`{}.{fname}`", text(c, src)),
            None => format!("`{fname}`"),
        };
        for call in calls {
            let (pos, kw) = call_args(call, src);
            let many = kw.iter().any(|(k, v)| k == "many" && text(*v, src) == "True");
            let Some(rows) = pos.first() else { continue };
            // `fields=`/`exclude=`/`expand=`: a dynamic serializer picks its fields at run time.
            let dynamic = kw.iter().any(|(k, v)| {
                matches!(k.as_str(), "fields" | "exclude" | "expand" | "omit") && text(*v, src) != "None"
            });
            if !many || dynamic {
                continue;
            }
            let Some(f) = call.child_by_field_name("function").and_then(|f| dotted(f, src)) else { continue };
            let ser_name = if f == "self.get_serializer" {
                match &method_serializer {
                    Some(s) => s.clone(),
                    None => continue,
                }
            } else {
                f
            };
            let Some(ser) = self.graph.resolve_serializer(&ser_name, self.dir, self.imports) else { continue };
            // Rows named inside a nested function or lambda are that scope's own.
            // (a nested function is checked on its own).
            let (mut lambda, mut own) = (None, true);
            let mut up = call.parent();
            while let Some(p) = up.filter(|p| *p != body) {
                if p.kind() == "lambda" && lambda.is_none() {
                    lambda = Some(p);
                }
                own &= !matches!(p.kind(), "function_definition" | "class_definition");
                up = p.parent();
            }
            if !own {
                continue;
            }
            let qs = match lambda {
                None => self.eval(*rows, &env, 0),
                Some(l) => self.paged_rows(l, *rows, &env),
            };
            let qs = qs.map(|mut q| {
                if q.line == 0 {
                    q.line = self.line(*rows);
                }
                q
            });
            let target = match &qs {
                Some(q) => format!("the queryset on line {}", q.line),
                None => "the queryset".to_string(),
            };
            self.list_check(ser, qs, call, &who, target);
        }
    }

    /// Binds `obj.rel` (for `obj = self.get_object()`, the name's only assignment) and
    /// `self.get_object().rel`, for each related manager `rel` of the view's model, in `env`
    /// under the expression's text.
    fn bind_object_managers(&self, nodes: &[Node<'_>], view_qs: &Qs, env: &mut Env) {
        let src = self.src;
        let Some(model) = self.graph.model(&view_qs.model) else { return };
        let mut objects: Vec<&str> = vec!["self.get_object()"];
        for n in nodes.iter().filter(|n| n.kind() == "assignment") {
            let (Some(l), Some(r)) = (n.child_by_field_name("left"), n.child_by_field_name("right")) else { continue };
            if l.kind() == "identifier" && text(r, src) == "self.get_object()" {
                objects.push(text(l, src));
            }
        }
        objects.retain(|o| {
            *o == "self.get_object()"
                || nodes
                    .iter()
                    .filter(|n| n.kind() == "assignment")
                    .filter_map(|n| n.child_by_field_name("left"))
                    .filter(|l| text(*l, src) == *o)
                    .count()
                    == 1
        });
        let mut rels: Vec<(&String, &crate::django::models::Relation)> = model.relations.iter().collect();
        rels.sort_by(|a, b| a.0.cmp(b.0));
        for o in objects {
            for (name, rel) in &rels {
                let Some(t) = rel.target.clone().filter(|_| !rel.kind.is_single()) else { continue };
                let sub = format!("{name}__");
                let loaded: Vec<String> =
                    view_qs.prefetch.iter().filter_map(|p| p.strip_prefix(&sub).map(str::to_string)).collect();
                let qs = Qs {
                    model: t,
                    manager: None,
                    select: Vec::new(),
                    select_all: false,
                    prefetch: loaded,
                    opaque: false,
                    values: false,
                    // Where the rows are read, not the view's queryset: set by the caller.
                    line: 0,
                    single: false,
                    bulk: false,
                };
                env.insert(format!("{o}.{name}"), Some(qs));
            }
        }
    }

    /// The rows a callback lambda serializes: `paginate(queryset=qs, on_results=lambda rows:
    /// S(rows, many=True))` hands the lambda a page of `qs`.
    fn paged_rows(&self, lambda: Node<'_>, rows: Node<'_>, env: &Env) -> Option<Qs> {
        let src = self.src;
        let params = lambda.child_by_field_name("parameters")?;
        if params.named_child_count() != 1 || rows.kind() != "identifier" {
            return None;
        }
        let param = params.named_child(0).filter(|p| p.kind() == "identifier")?;
        if text(param, src) != text(rows, src) {
            return None;
        }
        let kwarg = lambda.parent().filter(|k| k.kind() == "keyword_argument")?;
        let call = kwarg.parent().and_then(|a| a.parent()).filter(|c| c.kind() == "call")?;
        let (_, kw) = call_args(call, src);
        let qs = kw.iter().find(|(k, _)| k == "queryset").map(|(_, v)| *v)?;
        self.eval(qs, env, 0)
    }

    /// Reports what serializing many rows of `qs` (unknown: `None`) through `ser` costs: the
    /// relations it reads that `qs` does not load, and the queries it runs per row anyway.
    fn list_check(&mut self, ser: &Serializer, qs: Option<Qs>, at: Node<'_>, who: &str, target: String) {
        let mut parts = Vec::new();
        let mut rows = ser.model.as_deref().map(short).unwrap_or("the").to_string();
        // One row at most (`filter(user=request.user)` on a one-to-one `user`): nothing per row.
        if qs.as_ref().is_some_and(|q| q.single) {
            return;
        }
        if let Some(qs) = qs.filter(|q| !q.opaque && !q.values && ser.model.as_deref() == Some(q.model.as_str())) {
            rows = short(&qs.model).to_string();
            let mut needs = Vec::new();
            self.serializer_needs(ser, &qs.model, "", false, 0, &mut needs);
            let mut missing: Vec<(String, bool, String)> = Vec::new();
            for (path, many, field) in needs {
                // A step back to the object it came from reads what Django cached.
                let path = self.graph.without_round_trips(&qs.model, &path);
                if path.is_empty() {
                    continue;
                }
                let loaded =
                    if many { qs.prefetches(&path) } else { qs.loads_single(&path, self.non_null_path(&qs.model, &path)) };
                if !loaded && !missing.iter().any(|(p, _, _)| *p == path) {
                    missing.push((path, many, field));
                }
            }
            if !missing.is_empty() {
                let (fields, fix) = missing_and_fix(&missing);
                let the = if target.starts_with("this") { "this" } else { "the" };
                parts.push(format!(
                    "whose {} without {the} queryset loading it: one query per row (N+1); add `{}` to {target}",
                    fields.join(", "),
                    fix
                ));
            }
        }
        let mut queries = Vec::new();
        self.serializer_queries(ser, 0, &mut queries);
        if !queries.is_empty() {
            let lead = if parts.is_empty() { "whose " } else { "and whose " };
            parts.push(format!(
                "{lead}{} for every row (N+1, whatever the queryset loads): compute it for all rows at once \
                 (an annotation on the queryset, or a `Prefetch(..., to_attr=...)`) and read that instead",
                queries.join(", ")
            ));
        }
        if parts.is_empty() {
            return;
        }
        let msg = format!("{who} lists {rows} rows through `{}`, {}", ser.name, parts.join("; "));
        self.reports.push((at.start_byte(), at.end_byte(), msg));
    }

    /// The queries a serializer runs for each object whatever the queryset loads: a
    /// `SerializerMethodField` method that queries a model's manager, or calls a filtering
    /// method on a related manager (a prefetch does not serve it); nested serializers too.
    fn serializer_queries(&self, ser: &Serializer, depth: usize, out: &mut Vec<String>) {
        if depth > 4 {
            return;
        }
        let listed = |field: &str| ser.fields.as_ref().is_none_or(|f| f.iter().any(|x| x == field));
        let model = ser.model.as_deref().and_then(|m| self.graph.model(m));
        for (field, kind) in ser.declared.iter().chain(own_representation(ser).iter()) {
            if !listed(field) && field != REPRESENTATION {
                continue;
            }
            match kind {
                SerField::Method { method } => {
                    let label = format!("`{}.{field}`", ser.name);
                    for name in ser.queries.get(method).into_iter().flatten() {
                        // A class name must be a project model; a variable holds a model class.
                        let shown = match self.graph.resolve_model(name, &ser.dir, &ser.imports) {
                            Some(key) => short(&key).to_string(),
                            None if name.starts_with(|c: char| c.is_ascii_lowercase()) => name.clone(),
                            None => continue,
                        };
                        let q = format!("{label} queries `{shown}.objects`");
                        if !out.contains(&q) {
                            out.push(q);
                        }
                    }
                    let Some(start) = model else { continue };
                    let expanded: Vec<(Vec<String>, Option<String>)> = ser
                        .methods
                        .get(method)
                        .into_iter()
                        .flatten()
                        .flat_map(|c| self.graph.reads_through(start, c))
                        .collect();
                    self.chain_queries(start, &expanded, &label, out);
                }
                SerField::Nested { serializer, source, .. } => {
                    if self.source_queries(ser, model, field, source, out) {
                        continue;
                    }
                    if let Some(inner) = self.graph.resolve_serializer(serializer, &ser.dir, &ser.imports) {
                        if !std::ptr::eq(inner, ser) {
                            self.serializer_queries(inner, depth + 1, out);
                        }
                    }
                }
                SerField::Source { source } => {
                    self.source_queries(ser, model, field, source, out);
                }
                _ => {}
            }
        }
        // A model property listed in `Meta.fields`: DRF reads it per row.
        let (Some(m), Some(fields)) = (model, &ser.fields) else { return };
        for name in fields {
            let own = ser.declared.iter().any(|(n, _)| n == name);
            if !own && m.properties.contains_key(name) && self.bases_leave(ser, name, 0) {
                self.source_queries(ser, model, name, name, out);
            }
        }
    }

    /// The queries a field reading `source` on the serializer's object runs per row: a model
    /// method (`source="get_totals"`), a property whose body queries (`self.items.filter(...)`,
    /// `Other.objects...`, through a relation or another property too). Whether any was found.
    fn source_queries(
        &self,
        ser: &Serializer,
        model: Option<&crate::django::models::Model>,
        field: &str,
        source: &str,
        out: &mut Vec<String>,
    ) -> bool {
        let Some(m) = model else { return false };
        if let Some(q) = self.source_query(m, source) {
            let q = if !source.contains('.') && m.properties.contains_key(source) {
                format!("`{}.{field}` reads property `{}.{source}`, which queries `{q}", ser.name, m.name)
            } else {
                format!("`{}.{field}` calls `obj.{source}()`, which queries `{q}", ser.name)
            };
            if !out.contains(&q) {
                out.push(q);
            }
            return true;
        }
        if source.is_empty() {
            return false;
        }
        let segs: Vec<String> = source.split('.').map(str::to_string).collect();
        let expanded: Vec<(Vec<String>, Option<String>)> =
            self.graph.reads_through(m, &segs).into_iter().filter(|(_, via)| via.is_some()).collect();
        let before = out.len();
        self.chain_queries(m, &expanded, &format!("`{}.{field}`", ser.name), out);
        out.len() > before
    }

    /// The queries reading attribute chains on an object runs (`expanded`: the chains with the
    /// property each crosses): a filtering call on a related manager (a prefetch does not serve
    /// it), a model method that builds a query.
    fn chain_queries(
        &self,
        start: &crate::django::models::Model,
        expanded: &[(Vec<String>, Option<String>)],
        label: &str,
        out: &mut Vec<String>,
    ) {
        for (chain, via) in expanded {
            let mut cur = start;
            let label = match via {
                Some(v) => format!("{label} (property `{v}`)"),
                None => label.to_string(),
            };
            let mut shown = String::from("obj");
            for (i, attr) in chain.iter().enumerate() {
                let Some(rel) = cur.relations.get(attr.as_str()) else {
                    if let Some(q) = self.model_method_query(cur, attr) {
                        let q = format!("{label} calls `{shown}.{attr}()`, which queries `{q}");
                        if !out.contains(&q) {
                            out.push(q);
                        }
                    }
                    break;
                };
                shown.push('.');
                shown.push_str(attr);
                if rel.kind.is_single() {
                    match rel.target.as_deref().and_then(|t| self.graph.model(t)) {
                        Some(t) => cur = t,
                        None => break,
                    }
                    continue;
                }
                if let Some(m) = chain.get(i + 1).filter(|m| BYPASS_METHODS.contains(&m.as_str())) {
                    let q = format!("{label} calls `{shown}.{m}()`");
                    if !out.contains(&q) {
                        out.push(q);
                    }
                }
                break;
            }
        }
    }

    /// The query a model method builds every time it runs (`self.items.select_related()` on a
    /// related manager, `Order.objects.filter()` on a project model), as shown in a message.
    fn model_method_query(&self, model: &crate::django::models::Model, method: &str) -> Option<String> {
        model.query_methods.get(method)?.iter().find_map(|(recv, call)| {
            let (base, attr) = recv.split_once('.')?;
            let history = base == "self" && model.history.contains(attr);
            let known = if base == "self" {
                history || model.relations.get(attr).is_some_and(|r| !r.kind.is_single())
            } else {
                self.graph.resolve_model(base, &model.dir, &model.imports).is_some()
            };
            let hint = if history {
                " (django-simple-history's manager: no prefetch serves it)".to_string()
            } else if base == "self" {
                format!(" (no prefetch serves it: read `self.{attr}.all()` there and prefetch `{attr}`)")
            } else {
                String::new()
            };
            known.then(|| format!("{recv}.{call}()`{hint}"))
        })
    }

    /// A field `source` naming a model method that queries (`source="get_totals"`, or
    /// `"author.get_totals"` through single relations): the query it builds.
    fn source_query(&self, model: &crate::django::models::Model, source: &str) -> Option<String> {
        let mut cur = model;
        let segs: Vec<&str> = source.split('.').collect();
        let (last, path) = segs.split_last()?;
        for seg in path {
            let rel = cur.relations.get(*seg).filter(|r| r.kind.is_single())?;
            cur = self.graph.model(rel.target.as_deref()?)?;
        }
        if cur.relations.contains_key(*last) {
            return None;
        }
        self.model_method_query(cur, last)
    }

    /// Relation paths a serializer reads for each object: (path, needs prefetch, field label).
    fn serializer_needs(
        &self,
        ser: &Serializer,
        model: &str,
        prefix: &str,
        many_mode: bool,
        depth: usize,
        out: &mut Vec<(String, bool, String)>,
    ) {
        if depth > 4 {
            return;
        }
        let Some(m) = self.graph.model(model) else { return };
        let label = |f: &str| format!("`{}.{f}`", ser.name);
        let declared: HashSet<&str> = ser.declared.iter().map(|(n, _)| n.as_str()).collect();
        for (field, kind) in ser.declared.iter().chain(own_representation(ser).iter()) {
            if let Some(fields) = &ser.fields {
                if !fields.iter().any(|f| f == field) && field != REPRESENTATION {
                    continue;
                }
            }
            match kind {
                SerField::Nested { serializer, many: _, source } => {
                    let Some(rel) = m.relations.get(source.as_str()) else { continue };
                    let path = format!("{prefix}{source}");
                    let many = many_mode || !rel.kind.is_single();
                    out.push((path.clone(), many, label(field)));
                    let (Some(t), Some(inner)) =
                        (rel.target.as_deref(), self.graph.resolve_serializer(serializer, &ser.dir, &ser.imports))
                    else {
                        continue;
                    };
                    if inner.model.as_deref() == Some(t) {
                        self.serializer_needs(inner, t, &format!("{path}__"), many, depth + 1, out);
                    }
                }
                SerField::Related { many, loads, source } => {
                    let Some(rel) = m.relations.get(source.as_str()) else { continue };
                    if !rel.kind.is_single() && *many {
                        out.push((format!("{prefix}{source}"), true, label(field)));
                    } else if rel.kind.is_single() && *loads {
                        out.push((format!("{prefix}{source}"), many_mode, label(field)));
                    }
                }
                SerField::Source { source } => {
                    // A property read by the field (`source="permalink"`, a field named like
                    // it, or a dotted source ending in one): what its body reads.
                    let segs: Vec<String> = source.split('.').map(str::to_string).collect();
                    let mut through = false;
                    for (chain, via) in self.graph.reads_through(m, &segs) {
                        let Some(via) = via else { continue };
                        through = true;
                        let l = format!("{} (property `{via}`)", label(field));
                        self.chain_needs(m, &chain, prefix, many_mode, &l, out);
                    }
                    if through || !source.contains('.') {
                        continue;
                    }
                    let mut cur = m;
                    let mut path = prefix.to_string();
                    for seg in source.split('.') {
                        let Some(rel) = cur.relations.get(seg) else { break };
                        if !rel.kind.is_single() {
                            break;
                        }
                        path.push_str(seg);
                        out.push((path.clone(), many_mode, label(field)));
                        path.push_str("__");
                        match rel.target.as_deref().and_then(|t| self.graph.model(t)) {
                            Some(t) => cur = t,
                            None => break,
                        }
                    }
                }
                SerField::Method { method } => {
                    if self.declarative_only.get() {
                        continue;
                    }
                    self.method_needs(ser, method, model, prefix, many_mode, &label(field), out);
                }
            }
        }
        // Model fields listed in Meta.fields (or "__all__") that the serializer builds itself.
        let listed: Vec<String> = match (&ser.fields, ser.all_fields) {
            (Some(f), _) => f.clone(),
            (None, true) => m.relations.iter().filter(|(_, r)| r.forward).map(|(n, _)| n.clone()).collect(),
            _ => Vec::new(),
        };
        let mut listed = listed;
        listed.sort();
        for name in listed {
            if declared.contains(name.as_str()) {
                continue;
            }
            let Some(rel) = m.relations.get(&name) else {
                // A model property listed in Meta.fields: DRF reads it per row.
                if ser.fields.is_some() && m.properties.contains_key(&name) && self.bases_leave(ser, &name, 0) {
                    for (chain, via) in self.graph.reads_through(m, std::slice::from_ref(&name)) {
                        let l = format!("{} (property `{}`)", label(&name), via.unwrap_or_default());
                        self.chain_needs(m, &chain, prefix, many_mode, &l, out);
                    }
                }
                continue;
            };
            let path = format!("{prefix}{name}");
            if !rel.kind.is_single() {
                out.push((path, true, label(&name)));
            } else if ser.depth > 0 && rel.kind != RelKind::GenericForeignKey {
                out.push((path.clone(), many_mode, label(&name)));
                if let Some(t) = rel.target.as_deref() {
                    let nested = Serializer {
                        name: ser.name.clone(),
                        model: Some(t.to_string()),
                        all_fields: true,
                        depth: ser.depth - 1,
                        ..Default::default()
                    };
                    self.serializer_needs(&nested, t, &format!("{path}__"), many_mode, depth + 1, out);
                }
            }
        }
    }

    /// Relations a `SerializerMethodField` method reads on its `obj` argument.
    #[allow(clippy::too_many_arguments)]
    fn method_needs(
        &self,
        ser: &Serializer,
        method: &str,
        model: &str,
        prefix: &str,
        many_mode: bool,
        label: &str,
        out: &mut Vec<(String, bool, String)>,
    ) {
        let Some(chains) = ser.methods.get(method) else { return };
        let Some(start_model) = self.graph.model(model) else { return };
        for chain in chains {
            for (chain, via) in self.graph.reads_through(start_model, chain) {
                match via {
                    Some(via) => {
                        let l = format!("{label} (property `{via}`)");
                        self.chain_needs(start_model, &chain, prefix, many_mode, &l, out);
                    }
                    None => self.chain_needs(start_model, &chain, prefix, many_mode, label, out),
                }
            }
        }
    }

    /// Relations an attribute chain read on an instance of `start_model` needs loaded: each
    /// single relation on it, and a related manager read through a method (`.all()`, `.count()`)
    /// other than a filtering or write one.
    fn chain_needs(
        &self,
        start_model: &crate::django::models::Model,
        chain: &[String],
        prefix: &str,
        many_mode: bool,
        label: &str,
        out: &mut Vec<(String, bool, String)>,
    ) {
        let mut cur = start_model;
        let mut path = String::new();
        for (i, attr) in chain.iter().enumerate() {
            let Some(rel) = cur.relations.get(attr.as_str()) else { break };
            path = if path.is_empty() { attr.clone() } else { format!("{path}__{attr}") };
            let full = format!("{prefix}{path}");
            if rel.kind.is_single() {
                if !out.iter().any(|(p, _, _)| *p == full) {
                    out.push((full, many_mode || rel.kind == RelKind::GenericForeignKey, label.to_string()));
                }
                match rel.target.as_deref().and_then(|t| self.graph.model(t)) {
                    Some(t) => cur = t,
                    None => break,
                }
            } else {
                // A manager: a read through one of its methods needs a prefetch.
                let read = chain
                    .get(i + 1)
                    .is_some_and(|m| !WRITE_METHODS.contains(&m.as_str()) && !BYPASS_METHODS.contains(&m.as_str()));
                if read && !out.iter().any(|(p, _, _)| *p == full) {
                    out.push((full, true, label.to_string()));
                }
                break;
            }
        }
    }
}

/// What a view's `get_serializer_class()` returns when it runs the action `action` (`None`:
/// not known): the class name of the `return` reached, following `if`/`elif`/`else` on
/// `self.action` (and `self.request.method`, `GET` when listing); a condition on anything else
/// (the request's data, the user) that decides a return makes it unknown. `class_attr`
/// is the view's `serializer_class`, what `super().get_serializer_class()` (when no project
/// base overrides it: `super_plain`) and `self.serializer_class` give. `None` when a return is
/// not a class name (nor those), or the path cannot be told.
fn chosen_serializer(
    def: Node<'_>,
    src: &str,
    action: Option<&str>,
    class_attr: Option<&str>,
    super_plain: bool,
) -> Option<String> {
    let body = def.child_by_field_name("body")?;
    let nodes = scope_nodes(def);
    let assigned: HashSet<&str> = nodes
        .iter()
        .filter(|n| n.kind() == "assignment")
        .filter_map(|n| n.child_by_field_name("left"))
        .filter(|l| l.kind() == "identifier")
        .map(|l| text(l, src))
        .collect();
    let ch = Choice { src, action, class_attr, super_plain, assigned };
    // Every return names a class (or the view's `serializer_class`, or a local bound to one).
    for r in nodes.iter().filter(|n| n.kind() == "return_statement") {
        let v = r.named_child(0)?;
        if ch.class_value(v).is_none() && !(v.kind() == "identifier" && ch.assigned.contains(text(v, src))) {
            return None;
        }
    }
    let mut env: HashMap<String, Option<String>> = HashMap::new();
    match ch.run(body, &mut env, 0) {
        Flow::Ret(name) => name,
        _ => None,
    }
}

enum Flow {
    Ret(Option<String>),
    Through,
    Unknown,
}

struct Choice<'a> {
    src: &'a str,
    action: Option<&'a str>,
    class_attr: Option<&'a str>,
    super_plain: bool,
    assigned: HashSet<&'a str>,
}

impl Choice<'_> {
    /// The serializer class an expression names: a class name, `self.serializer_class`,
    /// `super().get_serializer_class()`.
    fn class_value(&self, v: Node<'_>) -> Option<Option<String>> {
        let t = text(v, self.src);
        if t == "self.serializer_class"
            || (v.kind() == "call"
                && self.super_plain
                && v.child_by_field_name("function").is_some_and(|f| {
                    let f = text(f, self.src);
                    f.starts_with("super(") && f.ends_with(".get_serializer_class")
                })
                && v.child_by_field_name("arguments").is_some_and(|a| a.named_child_count() == 0))
        {
            return Some(self.class_attr.map(str::to_string));
        }
        let d = dotted(v, self.src)?;
        let first = d.split('.').next().unwrap_or(&d);
        if first == "self" || first == "cls" || self.assigned.contains(first) || first.starts_with(|c: char| c.is_ascii_lowercase()) && !d.contains('.') {
            return None;
        }
        Some(Some(d))
    }

    fn run(&self, block: Node<'_>, env: &mut HashMap<String, Option<String>>, depth: usize) -> Flow {
        if depth > 8 {
            return Flow::Unknown;
        }
        let mut c = block.walk();
        let stmts: Vec<Node<'_>> = block.named_children(&mut c).collect();
        for stmt in stmts {
            match stmt.kind() {
                "comment" | "pass_statement" => {}
                "return_statement" => {
                    let Some(v) = stmt.named_child(0) else { return Flow::Unknown };
                    if let Some(name) = self.class_value(v) {
                        return Flow::Ret(name);
                    }
                    return match env.get(text(v, self.src)) {
                        Some(name) if v.kind() == "identifier" => Flow::Ret(name.clone()),
                        _ => Flow::Unknown,
                    };
                }
                "expression_statement" => {
                    let Some(e) = stmt.named_child(0) else { continue };
                    if e.kind() == "assignment" {
                        let (Some(l), Some(r)) = (e.child_by_field_name("left"), e.child_by_field_name("right")) else {
                            continue;
                        };
                        if l.kind() == "identifier" {
                            env.insert(text(l, self.src).to_string(), self.class_value(r).flatten());
                        }
                    }
                }
                "if_statement" => {
                    let mut branch = None;
                    match stmt.child_by_field_name("condition").map(|c| self.cond(c)) {
                        Some(Some(true)) => branch = stmt.child_by_field_name("consequence"),
                        Some(Some(false)) => {
                            let mut cc = stmt.walk();
                            for alt in stmt.children_by_field_name("alternative", &mut cc) {
                                match alt.kind() {
                                    "elif_clause" => match alt.child_by_field_name("condition").map(|c| self.cond(c)) {
                                        Some(Some(true)) => {
                                            branch = alt.child_by_field_name("consequence");
                                            break;
                                        }
                                        Some(Some(false)) => {}
                                        _ => return Flow::Unknown,
                                    },
                                    "else_clause" => {
                                        branch = alt.child_by_field_name("body");
                                        break;
                                    }
                                    _ => {}
                                }
                            }
                        }
                        _ => return Flow::Unknown,
                    }
                    if let Some(b) = branch {
                        match self.run(b, env, depth + 1) {
                            Flow::Through => {}
                            f => return f,
                        }
                    }
                }
                _ => {
                    let mut leaves = false;
                    crate::parse::for_each_node(stmt, |n| {
                        leaves |= matches!(n.kind(), "return_statement" | "raise_statement" | "assignment");
                    });
                    if leaves || stmt.kind() == "raise_statement" {
                        return Flow::Unknown;
                    }
                }
            }
        }
        Flow::Through
    }

    /// A condition's value for the action, `None` when not known (`a and b` is false when
    /// either is).
    fn cond(&self, c: Node<'_>) -> Option<bool> {
        let src = self.src;
        match c.kind() {
            "parenthesized_expression" => c.named_child(0).and_then(|i| self.cond(i)),
            "not_operator" => c.child_by_field_name("argument").and_then(|a| self.cond(a)).map(|b| !b),
            "boolean_operator" => {
                let (l, r) = (c.child_by_field_name("left")?, c.child_by_field_name("right")?);
                let (l, r) = (self.cond(l), self.cond(r));
                let and = c.child_by_field_name("operator").is_some_and(|o| text(o, src) == "and");
                match (and, l, r) {
                    (true, Some(false), _) | (true, _, Some(false)) => Some(false),
                    (true, Some(true), Some(true)) => Some(true),
                    (false, Some(true), _) | (false, _, Some(true)) => Some(true),
                    (false, Some(false), Some(false)) => Some(false),
                    _ => None,
                }
            }
            "comparison_operator" => {
                let (Some(l), Some(r)) = (c.named_child(0), c.named_child(1)) else { return None };
                let subject = match text(l, src) {
                    "self.action" => self.action,
                    "self.request.method" | "request.method" => (self.action == Some("list")).then_some("GET"),
                    _ => return None,
                };
                let subject = subject?;
                let op: String = src[l.end_byte()..r.start_byte()].split_whitespace().collect::<Vec<_>>().join(" ");
                let values: Vec<String> = match r.kind() {
                    "string" => vec![string_value(r, src)?],
                    "tuple" | "list" | "set" => {
                        let mut cc = r.walk();
                        r.named_children(&mut cc).map(|e| string_value(e, src)).collect::<Option<Vec<_>>>()?
                    }
                    _ if text(r, src).rsplit('.').next() == Some("SAFE_METHODS") => {
                        vec!["GET".into(), "HEAD".into(), "OPTIONS".into()]
                    }
                    _ => return None,
                };
                let hit = values.iter().any(|v| v.eq_ignore_ascii_case(subject));
                match op.as_str() {
                    "==" | "in" => Some(hit),
                    "!=" | "not in" => Some(!hit),
                    _ => None,
                }
            }
            // `self.detail` is false when listing; anything else (the request's data, the
            // user) picks the serializer per request: not known.
            _ => (text(c, src) == "self.detail" && self.action == Some("list")).then_some(false),
        }
    }
}

/// Whether a method's body is `return super().<its name>(...)`, after a docstring maybe.
fn only_calls_super(def: Node<'_>, src: &str) -> bool {
    let (Some(name), Some(body)) = (def.child_by_field_name("name"), def.child_by_field_name("body")) else {
        return false;
    };
    let mut c = body.walk();
    let stmts: Vec<Node<'_>> = body
        .named_children(&mut c)
        .filter(|s| s.kind() != "comment")
        .filter(|s| !(s.kind() == "expression_statement" && s.named_child(0).is_some_and(|e| e.kind() == "string")))
        .collect();
    let [ret] = stmts.as_slice() else { return false };
    ret.kind() == "return_statement"
        && ret.named_child(0).is_some_and(|call| {
            call.kind() == "call"
                && call
                    .child_by_field_name("function")
                    .is_some_and(|f| text(f, src) == format!("super().{}", text(name, src)))
        })
}

const REPRESENTATION: &str = "to_representation";

/// A serializer's own `to_representation(self, obj)`: it runs for every object, like a method
/// field (what it reads on `obj` is in `Serializer::methods`).
fn own_representation(ser: &Serializer) -> Option<(String, SerField)> {
    ser.methods
        .contains_key(REPRESENTATION)
        .then(|| (REPRESENTATION.to_string(), SerField::Method { method: REPRESENTATION.to_string() }))
}

/// The module's top-level functions that only add loading to the queryset they are given.
fn module_helpers(root: Node<'_>, src: &str) -> HashMap<String, crate::django::models::QsMethod> {
    let mut out = HashMap::new();
    let mut c = root.walk();
    for def in root.named_children(&mut c).filter(|d| d.kind() == "function_definition") {
        let Some(name) = def.child_by_field_name("name") else { continue };
        if let Some(h) = crate::django::models::queryset_helper(def, src, 0) {
            out.insert(text(name, src).to_string(), h);
        }
    }
    out
}

/// Whether a loop body returns or breaks on every pass that runs through it without a
/// condition: a `return`/`break` among its statements, or in the body of a `try`/`with` there.
fn leaves_first_pass(block: Node<'_>) -> bool {
    let mut c = block.walk();
    let found = block.named_children(&mut c).any(|stmt| match stmt.kind() {
        "return_statement" | "break_statement" => true,
        "try_statement" | "with_statement" => stmt.child_by_field_name("body").is_some_and(leaves_first_pass),
        _ => false,
    });
    found
}

/// `f(arg)` with one positional argument → (f, arg).
fn single_arg_call<'t>(n: Node<'t>, src: &str) -> Option<(&'static str, Node<'t>)> {
    if n.kind() != "call" {
        return None;
    }
    let f = text(n.child_by_field_name("function")?, src);
    let (pos, kw) = call_args(n, src);
    if pos.len() != 1 || !kw.is_empty() {
        return None;
    }
    let f = match f {
        "list" => "list",
        "enumerate" => "enumerate",
        _ => return None,
    };
    Some((f, pos[0]))
}

/// Whether a call is the iterable of a for statement or comprehension clause.
fn iterated_by(call: Node<'_>) -> Option<(Node<'_>, Node<'_>, Node<'_>)> {
    let owner = call.parent()?;
    if !matches!(owner.kind(), "for_statement" | "for_in_clause") || owner.child_by_field_name("right") != Some(call) {
        return None;
    }
    Some((owner, owner.child_by_field_name("left")?, call))
}

/// Whether an attribute node is assigned to (`obj.author = x`), not read.
fn is_store(attr: Node<'_>) -> bool {
    attr.parent().is_some_and(|p| {
        matches!(p.kind(), "assignment" | "augmented_assignment") && p.child_by_field_name("left") == Some(attr)
    })
}

/// The last names of a class's bases (`viewsets.ModelViewSet[Tag]` → `ModelViewSet`).
fn class_base_names(class: Node<'_>, src: &str) -> Vec<String> {
    let Some(args) = class.child_by_field_name("superclasses") else { return Vec::new() };
    let mut c = args.walk();
    args.named_children(&mut c)
        .map(|b| if b.kind() == "subscript" { b.child_by_field_name("value").unwrap_or(b) } else { b })
        .filter_map(|b| dotted(b, src))
        .map(|d| d.rsplit('.').next().unwrap_or(&d).to_string())
        .collect()
}

fn within(n: Node<'_>, outer: Node<'_>) -> bool {
    outer.start_byte() <= n.start_byte() && n.end_byte() <= outer.end_byte()
}

fn identifiers(n: Node<'_>) -> Vec<Node<'_>> {
    let mut out = Vec::new();
    crate::parse::for_each_node(n, |x| {
        if x.kind() == "identifier" {
            out.push(x);
        }
    });
    out
}


/// A model's class name from its key (`shop:Order` → `Order`).
fn short(key: &str) -> &str {
    key.rsplit(':').next().unwrap_or(key)
}


/// What a serializer reads that its queryset does not load (`(path, many, field)`): each
/// field's read (`items reads \`owner\``), and the fix, one path per chain
/// (`select_related("a__b")` loads `a` too): `.select_related(...)` for single relations,
/// `.prefetch_related(...)` for many.
fn missing_and_fix(missing: &[(String, bool, String)]) -> (Vec<String>, String) {
    let fields = missing.iter().map(|(p, _, f)| format!("{f} reads `{p}`")).collect();
    let paths = |many: bool| -> Vec<String> {
        let of: Vec<&String> = missing.iter().filter(|m| m.1 == many).map(|m| &m.0).collect();
        of.iter()
            .filter(|p| !of.iter().any(|q| q.len() > p.len() && covers(&[(*q).clone()], p)))
            .map(|p| format!("\"{p}\""))
            .collect()
    };
    let (select, prefetch) = (paths(false), paths(true));
    let mut fix = String::new();
    if !select.is_empty() {
        fix.push_str(&format!(".select_related({})", select.join(", ")));
    }
    if !prefetch.is_empty() {
        fix.push_str(&format!(".prefetch_related({})", prefetch.join(", ")));
    }
    (fields, fix)
}
#[cfg(test)]
mod tests {
    use super::has_for;

    #[test]
    fn the_for_keyword_and_not_words_containing_it() {
        for code in ["for x in qs:", "[x for x in y]", "for(a, b) in pairs:", "  async for x in y:", "x\nfor"] {
            assert!(has_for(code), "{code}");
        }
        for code in ["format(x)", "before = 1", "self.form", "platform_for_x = 1", "forms.Form"] {
            assert!(!has_for(code), "{code}");
        }
    }
}
