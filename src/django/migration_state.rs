//! The model state each app's migrations build, as `makemigrations` sees it: every migration
//! of an app replayed in dependency order (`dependencies`, `run_before`; a squashed migration
//! stands for the ones it `replaces`, as when no database is connected) into models with their
//! fields (name and the field's call as written) and the options that decide whether fields are
//! compared (`proxy`, `managed`).
//!
//! `RunPython` and `RunSQL` change no state (`RunSQL(state_operations=...)` does, and is
//! replayed); operations that only touch indexes, constraints, table names or other options
//! change no field. Any other operation (a project's or a package's own) makes the model it
//! names unknown, or the whole app when it names none; so does an operation whose arguments are
//! not literals.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rayon::prelude::*;

use crate::django::migrations::{app_and_name, operations_in, read_with, Operation};
use crate::django::models::{field_call, FieldCall, Lit, Py};
use crate::python::syntax::string_value;

#[derive(Debug, Clone, Default)]
pub(crate) struct ModelState {
    /// The name as last written (`Order`); the map key is lower-cased.
    pub name: String,
    pub fields: Vec<(String, FieldCall)>,
    /// Options as the migrations leave them (`unique_together` normalized to a set of tuples,
    /// `indexes` and `constraints` as lists of calls).
    pub options: Vec<(String, Py)>,
    /// Why this model's state cannot be known (a custom operation names it, say).
    pub unknown: Option<String>,
}

impl ModelState {
    pub(crate) fn option(&self, k: &str) -> Option<&Lit> {
        self.option_py(k).map(Py::lit)
    }

    pub(crate) fn option_py(&self, k: &str) -> Option<&Py> {
        self.options.iter().find(|(n, _)| n == k).map(|(_, v)| v)
    }

    fn set_option(&mut self, k: &str, v: Py) {
        match self.options.iter_mut().find(|(n, _)| n == k) {
            Some((_, old)) => *old = v,
            None => self.options.push((k.to_string(), v)),
        }
    }

    /// The list option `k` (`indexes`, `constraints`) for editing; `None` when it is not a
    /// literal list (then the model becomes unknown).
    fn list_option(&mut self, k: &str) -> Option<&mut Vec<Py>> {
        if self.option_py(k).is_none() {
            self.options.push((k.to_string(), Py::Seq('[', Vec::new())));
        }
        match self.options.iter_mut().find(|(n, _)| n == k) {
            Some((_, Py::Seq(_, items))) => Some(items),
            _ => None,
        }
    }

    pub(crate) fn field(&self, name: &str) -> Option<&FieldCall> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, f)| f)
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct AppState {
    /// The app folder (the one holding `migrations/`).
    pub dir: String,
    /// The app label the migrations name themselves by.
    pub label: String,
    /// The last migration replayed (a leaf), for messages.
    pub last: String,
    /// How many migrations were replayed.
    pub migrations: usize,
    /// Models by lower-cased name.
    pub models: BTreeMap<String, ModelState>,
    /// Why the whole app's state cannot be known.
    pub unknown: Option<String>,
    /// Models renamed by `RenameModel`, in order: (old, new), lower-cased.
    pub renames: Vec<(String, String)>,
}

/// One migration module as far as the replay needs it, owned (no tree).
#[derive(Debug, Clone)]
struct Parsed {
    name: String,
    dependencies: Vec<(String, String)>,
    replaces: Vec<(String, String)>,
    run_before: Vec<(String, String)>,
    ops: Vec<Op>,
}

#[derive(Debug, Clone)]
enum Op {
    Create {
        name: String,
        fields: Vec<(String, FieldCall)>,
        options: Vec<(String, Py)>,
    },
    Delete {
        name: String,
    },
    RenameModel {
        old: String,
        new: String,
    },
    AddOrAlter {
        model: String,
        name: String,
        field: FieldCall,
    },
    Remove {
        model: String,
        name: String,
    },
    RenameField {
        model: String,
        old: String,
        new: String,
    },
    /// `AlterModelTable`: the model's `db_table` (`None`: the default).
    Table {
        name: String,
        table: Lit,
    },
    Options {
        name: String,
        options: Vec<(String, Py)>,
    },
    /// `AlterUniqueTogether`, `AlterIndexTogether` (the option, normalized),
    /// `AlterOrderWithRespectTo` (a field name or `None`).
    Together {
        name: String,
        option: &'static str,
        value: Py,
    },
    /// `AddIndex`, `AddConstraint`: appended to the list option.
    AddTo {
        model: String,
        option: &'static str,
        item: Py,
    },
    /// `RemoveIndex`, `RemoveConstraint`: removed by name.
    RemoveFrom {
        model: String,
        option: &'static str,
        name: String,
    },
    /// `AlterConstraint`: replaced by name.
    AlterIn {
        model: String,
        option: &'static str,
        name: String,
        item: Py,
    },
    /// `RenameIndex(old_name=...)`.
    RenameIndex {
        model: String,
        old: String,
        new: String,
    },
    /// `RenameIndex(old_fields=...)`: an `index_together` entry becomes a named index.
    IndexFromTogether {
        model: String,
        fields: Vec<String>,
        new: String,
    },
    /// Makes a model (or with `None` the whole app) unknown.
    Unknown {
        model: Option<String>,
        why: String,
    },
}

/// Operations that change no field and no option the comparison reads (managers, comments,
/// extensions, collations).
const NO_FIELD_CHANGE: &[&str] = &[
    "RunPython",
    "RunSQL",
    "AlterModelTableComment",
    "AlterModelManagers",
    // django.contrib.postgres.operations
    "ValidateConstraint",
    "CreateExtension",
    "BloomExtension",
    "BtreeGinExtension",
    "BtreeGistExtension",
    "CITextExtension",
    "CryptoExtension",
    "HStoreExtension",
    "TrigramExtension",
    "UnaccentExtension",
    "CreateCollation",
    "RemoveCollation",
];

/// A dict literal's string keys and values; `None` when it is not one. `unique_together` and
/// `index_together` are normalized as Django does (a set of tuples).
fn dict_lits(node: tree_sitter::Node<'_>, src: &str) -> Option<Vec<(String, Py)>> {
    let Py::Dict(pairs) = Py::of(node, src) else { return None };
    pairs
        .into_iter()
        .map(|(k, v)| match k {
            Py::Lit(Lit::Str(k)) => {
                let v = if k.ends_with("_together") { normalize_together(&v) } else { v };
                Some((k, v))
            }
            _ => None,
        })
        .collect()
}

/// Django's `normalize_together`: `("a", "b")` → `{("a", "b")}`, `[["a", "b"]]` → `{("a", "b")}`,
/// `set([...])` as written by old Django alike; a set of tuples of names, sorted, or
/// `Lit(Other)` when not literal.
pub(crate) fn normalize_together(v: &Py) -> Py {
    let items = match v {
        Py::Seq(_, items) => items.clone(),
        Py::Call { callee, pos, kw, splat: false } if callee == "set" && kw.is_empty() => match pos.as_slice() {
            [] => Vec::new(),
            [Py::Seq(_, items)] => items.clone(),
            _ => return Py::Lit(Lit::Other),
        },
        Py::Lit(Lit::None) => Vec::new(),
        _ => return Py::Lit(Lit::Other),
    };
    let names = |items: &[Py]| -> Option<Vec<Py>> {
        items.iter().map(|i| matches!(i, Py::Lit(Lit::Str(_))).then(|| i.clone())).collect()
    };
    let tuples: Option<Vec<Vec<Py>>> = if items.first().is_some_and(|i| matches!(i, Py::Lit(Lit::Str(_)))) {
        names(&items).map(|n| vec![n])
    } else {
        items
            .iter()
            .map(|i| match i {
                Py::Seq(_, inner) => names(inner),
                _ => None,
            })
            .collect()
    };
    let Some(mut tuples) = tuples else { return Py::Lit(Lit::Other) };
    tuples.sort_by_key(|t| format!("{t:?}"));
    tuples.dedup();
    Py::Seq('{', tuples.into_iter().map(|t| Py::Seq('(', t)).collect())
}

/// Lists assigned in the `Migration` class body (`state_operations = [...]`), by name.
type ClassLists<'t> = HashMap<String, tree_sitter::Node<'t>>;

/// State operations given by name (`SeparateDatabaseAndState(state_operations=state_operations)`
/// with the list assigned in the class body): replayed; anything else not a list: unknown.
fn named_state_ops(op: &Operation<'_>, pos: usize, src: &str, lists: &ClassLists<'_>, out: &mut Vec<Op>, depth: usize) {
    let Some(st) = op.arg("state_operations", pos) else { return };
    if matches!(st.kind(), "list" | "tuple") {
        return;
    }
    match lists.get(crate::python::syntax::text(st, src)).filter(|_| st.kind() == "identifier") {
        Some(list) if depth < 4 => {
            for inner in operations_in(*list, src, true) {
                to_op(&inner, src, lists, out, depth + 1);
            }
        }
        _ => out.push(Op::Unknown { model: None, why: format!("{} state_operations that are not a list", op.name) }),
    }
}

fn to_op(op: &Operation<'_>, src: &str, lists: &ClassLists<'_>, out: &mut Vec<Op>, depth: usize) {
    if op.database_only {
        return;
    }
    if op.name == "SeparateDatabaseAndState" {
        // Its literal operations were flattened by `read`: state ones are replayed, database
        // ones not.
        named_state_ops(op, 1, src, lists, out, depth);
        return;
    }
    let s = |kw: &str, pos: usize| op.str_arg(kw, pos, src);
    let unknown = |model: Option<String>, why: &str| Op::Unknown { model, why: why.to_string() };
    let name = op.name.as_str();
    let parsed = match name {
        "CreateModel" => {
            let fields = op.arg("fields", 1).and_then(|f| {
                if !matches!(f.kind(), "list" | "tuple") {
                    return None;
                }
                let mut c = f.walk();
                f.named_children(&mut c)
                    .filter(|p| p.kind() != "comment")
                    .map(|p| {
                        let n = string_value(p.named_child(0)?, src)?;
                        Some((n, field_call(p.named_child(1)?, src)?))
                    })
                    .collect::<Option<Vec<_>>>()
            });
            let options = match op.arg("options", 2) {
                None => Some(Vec::new()),
                Some(o) => dict_lits(o, src),
            };
            match (s("name", 0), fields, options) {
                (Some(name), Some(fields), Some(options)) => Op::Create { name, fields, options },
                (m, _, _) => unknown(m, "a CreateModel whose fields or options are not literals"),
            }
        }
        "DeleteModel" => match s("name", 0) {
            Some(name) => Op::Delete { name },
            None => unknown(None, "a DeleteModel of a computed name"),
        },
        "RenameModel" => match (s("old_name", 0), s("new_name", 1)) {
            (Some(old), Some(new)) => Op::RenameModel { old, new },
            _ => unknown(None, "a RenameModel of computed names"),
        },
        "AddField" | "AlterField" => {
            let field = op.arg("field", 2).and_then(|f| field_call(f, src));
            // `preserve_default=False`: the default only fills existing rows; the state keeps
            // none (Django's `AddField.state_forwards`).
            let preserve = match op.arg("preserve_default", 3).map(|n| n.kind()) {
                None | Some("true") => Some(true),
                Some("false") => Some(false),
                Some(_) => None,
            };
            match (s("model_name", 0), s("name", 1), field, preserve) {
                (Some(model), Some(name), Some(mut field), Some(preserve)) => {
                    if !preserve {
                        field.kw.retain(|(k, _)| k != "default");
                    }
                    Op::AddOrAlter { model, name, field }
                }
                (m, _, _, _) => unknown(m, "an AddField or AlterField that is not literal"),
            }
        }
        "RemoveField" => match (s("model_name", 0), s("name", 1)) {
            (Some(model), Some(name)) => Op::Remove { model, name },
            (m, _) => unknown(m, "a RemoveField of a computed name"),
        },
        "RenameField" => match (s("model_name", 0), s("old_name", 1), s("new_name", 2)) {
            (Some(model), Some(old), Some(new)) => Op::RenameField { model, old, new },
            (m, _, _) => unknown(m, "a RenameField of computed names"),
        },
        "AlterModelTable" => match (s("name", 0), op.arg("table", 1)) {
            (Some(name), Some(t)) => Op::Table { name, table: Lit::of(t, src) },
            (m, _) => unknown(m, "an AlterModelTable that is not literal"),
        },
        "AlterModelOptions" => match (s("name", 0), op.arg("options", 1).and_then(|o| dict_lits(o, src))) {
            (Some(name), Some(options)) => Op::Options { name, options },
            (m, _) => unknown(m, "an AlterModelOptions that is not literal"),
        },
        "AlterOrderWithRespectTo" => {
            let value = op.arg("order_with_respect_to", 1).map(|v| Lit::of(v, src));
            match (s("name", 0), value) {
                (Some(name), Some(v @ (Lit::Str(_) | Lit::None))) => {
                    Op::Together { name, option: "order_with_respect_to", value: Py::Lit(v) }
                }
                (m, _) => unknown(m, "an AlterOrderWithRespectTo that is not literal"),
            }
        }
        "AlterUniqueTogether" | "AlterIndexTogether" => {
            let option = if name == "AlterUniqueTogether" { "unique_together" } else { "index_together" };
            let value = op.arg(option, 1).map(|v| normalize_together(&Py::of(v, src)));
            match (s("name", 0), value) {
                (Some(name), Some(value)) if !matches!(value, Py::Lit(_)) => Op::Together { name, option, value },
                (m, _) => unknown(m, &format!("an {name} that is not literal")),
            }
        }
        "AddIndex" | "AddIndexConcurrently" | "AddConstraint" | "AddConstraintNotValid" => {
            let (option, kw) =
                if name.starts_with("AddIndex") { ("indexes", "index") } else { ("constraints", "constraint") };
            let item = op.arg(kw, 1).map(|v| Py::of(v, src)).filter(|v| matches!(v, Py::Call { .. }));
            match (s("model_name", 0), item) {
                (Some(model), Some(item)) => Op::AddTo { model, option, item },
                (m, _) => unknown(m, &format!("an {name} that is not literal")),
            }
        }
        "RemoveIndex" | "RemoveIndexConcurrently" | "RemoveConstraint" => {
            let option = if name.starts_with("RemoveIndex") { "indexes" } else { "constraints" };
            match (s("model_name", 0), s("name", 1)) {
                (Some(model), Some(name)) => Op::RemoveFrom { model, option, name },
                (m, _) => unknown(m, &format!("a {name} of a computed name")),
            }
        }
        "AlterConstraint" => {
            let item = op.arg("constraint", 2).map(|v| Py::of(v, src)).filter(|v| matches!(v, Py::Call { .. }));
            match (s("model_name", 0), s("name", 1), item) {
                (Some(model), Some(name), Some(item)) => Op::AlterIn { model, option: "constraints", name, item },
                (m, _, _) => unknown(m, "an AlterConstraint that is not literal"),
            }
        }
        "RenameIndex" => {
            let fields = op.arg("old_fields", 3).map(|v| normalize_together(&Py::of(v, src)));
            let fields: Option<Vec<String>> = match fields {
                Some(Py::Seq(_, t)) if t.len() == 1 => match &t[0] {
                    Py::Seq(_, names) => names
                        .iter()
                        .map(|n| match n {
                            Py::Lit(Lit::Str(n)) => Some(n.clone()),
                            _ => None,
                        })
                        .collect(),
                    _ => None,
                },
                _ => None,
            };
            match (s("model_name", 0), s("new_name", 1), s("old_name", 2), fields) {
                (Some(model), Some(new), Some(old), None) => Op::RenameIndex { model, old, new },
                (Some(model), Some(new), None, Some(fields)) => Op::IndexFromTogether { model, fields, new },
                (m, _, _, _) => unknown(m, "a RenameIndex that is not literal"),
            }
        }
        "RunSQL" => {
            if let Some(st) = op.arg("state_operations", 3).filter(|st| matches!(st.kind(), "list" | "tuple")) {
                if depth < 4 {
                    for inner in operations_in(st, src, true) {
                        to_op(&inner, src, lists, out, depth + 1);
                    }
                }
            } else {
                named_state_ops(op, 3, src, lists, out, depth);
            }
            return;
        }
        n if NO_FIELD_CHANGE.contains(&n) => return,
        other => {
            let model = s("model_name", usize::MAX);
            unknown(model, &format!("a `{other}` operation, whose effect on the model state is not known"))
        }
    };
    out.push(parsed);
}

fn parse_migration(rel: &str, src: &str) -> Option<Result<Parsed, String>> {
    let (_, name) = app_and_name(rel);
    if name == "__init__" || !src.contains("Migration") {
        return None;
    }
    let Some(tree) =
        crate::parse::parse(crate::classify::Lang::Python, src).ok().filter(|t| !t.root_node().has_error())
    else {
        return Some(Err(format!("`{name}`, which could not be read (a syntax error, or too large)")));
    };
    let Some(m) = read_with(tree.root_node(), src, true) else {
        return src
            .contains("class Migration")
            .then(|| Err(format!("`{name}`, whose operations are not a literal list")));
    };
    let mut lists = ClassLists::new();
    let mut cursor = tree.root_node().walk();
    for class in tree.root_node().named_children(&mut cursor).filter(|n| n.kind() == "class_definition") {
        let Some(body) = class.child_by_field_name("body") else { continue };
        let mut c = body.walk();
        for stmt in body.named_children(&mut c) {
            let Some(a) = stmt.named_child(0).filter(|a| a.kind() == "assignment") else { continue };
            if let (Some(l), Some(r)) = (a.child_by_field_name("left"), a.child_by_field_name("right")) {
                if l.kind() == "identifier" && matches!(r.kind(), "list" | "tuple") {
                    lists.insert(crate::python::syntax::text(l, src).to_string(), r);
                }
            }
        }
    }
    let mut ops = Vec::new();
    for op in &m.operations {
        to_op(op, src, &lists, &mut ops, 0);
    }
    Some(Ok(Parsed { name, dependencies: m.dependencies, replaces: m.replaces, run_before: m.run_before, ops }))
}

/// Replays every app's migrations. `files` are (relative path, text) of the migration modules
/// (`app/migrations/0001_initial.py`); the result is keyed by app folder.
pub(crate) fn build(files: &[(String, String)]) -> BTreeMap<String, AppState> {
    let parsed: Vec<(String, Option<Result<Parsed, String>>)> = files
        .par_iter()
        .map(|(rel, text)| {
            let (dir, _) = app_and_name(rel);
            let app = dir.strip_suffix("/migrations").or((dir == "migrations").then_some("")).unwrap_or(&dir);
            (app.to_string(), parse_migration(rel, text))
        })
        .collect();
    let mut by_app: BTreeMap<String, (Vec<Parsed>, Vec<String>)> = BTreeMap::new();
    for (app, p) in parsed {
        match p {
            Some(Ok(p)) => by_app.entry(app).or_default().0.push(p),
            Some(Err(why)) => by_app.entry(app).or_default().1.push(why),
            None => {}
        }
    }
    by_app.into_iter().map(|(dir, (migs, errs))| (dir.clone(), replay(dir, migs, errs))).collect()
}

/// The label the app's migrations call themselves: the label most used in dependencies on
/// migrations of the same folder; the folder name when none.
fn app_label(dir: &str, migs: &[Parsed]) -> String {
    let names: BTreeSet<&str> = migs.iter().map(|m| m.name.as_str()).collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for m in migs {
        for (label, n) in m.dependencies.iter().chain(&m.replaces) {
            if names.contains(n.as_str()) || m.replaces.iter().any(|(_, r)| r == n) {
                *counts.entry(label.as_str()).or_default() += 1;
            }
        }
    }
    let folder = dir.rsplit('/').next().unwrap_or(dir);
    counts
        .into_iter()
        .max_by_key(|(l, c)| (*c, *l == folder))
        .map_or_else(|| folder.to_string(), |(l, _)| l.to_string())
}

fn replay(dir: String, mut migs: Vec<Parsed>, errs: Vec<String>) -> AppState {
    let label = app_label(&dir, &migs);
    let mut state = AppState { dir, label: label.clone(), ..Default::default() };
    if let Some(e) = errs.into_iter().next() {
        state.unknown = Some(e);
    }
    // A squashed migration stands for the ones it replaces (Django's loader without a database).
    let mut replaced: HashMap<String, String> = HashMap::new();
    for m in &migs {
        for (l, n) in &m.replaces {
            if *l == label {
                replaced.insert(n.clone(), m.name.clone());
            }
        }
    }
    migs.retain(|m| !replaced.contains_key(&m.name));
    let resolve = |n: &str| -> String {
        let mut n = n.to_string();
        for _ in 0..8 {
            match replaced.get(&n) {
                Some(r) => n = r.clone(),
                None => break,
            }
        }
        n
    };
    migs.sort_by(|a, b| a.name.cmp(&b.name));
    // A history that does not start with a first migration, or names one of its own that is
    // not on disk, is not the whole story (`MIGRATION_MODULES` elsewhere, files left out).
    let on_disk: BTreeSet<&str> = migs.iter().map(|m| m.name.as_str()).collect();
    let first = migs.iter().any(|m| !m.replaces.is_empty() || m.name.starts_with("0001"));
    let missing =
        migs.iter().flat_map(|m| &m.dependencies).find(|(l, n)| *l == label && !on_disk.contains(resolve(n).as_str()));
    if let Some((_, n)) = missing {
        state.unknown.get_or_insert_with(|| format!("a dependency on `{n}`, which is not in the repository"));
    } else if !first {
        state.unknown.get_or_insert_with(|| "no first migration (0001)".to_string());
    }
    let idx: HashMap<String, usize> = migs.iter().enumerate().map(|(i, m)| (m.name.clone(), i)).collect();
    // Edges: dependency → dependant.
    let mut preds: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); migs.len()];
    for (i, m) in migs.iter().enumerate() {
        for (l, n) in &m.dependencies {
            if *l == label {
                if let Some(&j) = idx.get(&resolve(n)) {
                    if j != i {
                        preds[i].insert(j);
                    }
                }
            }
        }
        for (l, n) in &m.run_before {
            if *l == label {
                if let Some(&j) = idx.get(&resolve(n)) {
                    if j != i {
                        preds[j].insert(i);
                    }
                }
            }
        }
    }
    // Kahn's algorithm, the smallest name first among those ready.
    let mut done = vec![false; migs.len()];
    let mut order = Vec::with_capacity(migs.len());
    while order.len() < migs.len() {
        let Some(i) = (0..migs.len()).find(|&i| !done[i] && preds[i].iter().all(|&p| done[p])) else {
            state.unknown.get_or_insert_with(|| "its migrations depend on each other in a cycle".to_string());
            break;
        };
        done[i] = true;
        order.push(i);
    }
    state.migrations = order.len();
    for &i in &order {
        state.last = migs[i].name.clone();
        for op in &migs[i].ops {
            apply(&mut state, op, &label);
        }
    }
    state
}

/// The options `AlterModelOptions` manages (Django's `AlterModelOptions.ALTER_OPTION_KEYS`).
pub(crate) const ALTER_OPTION_KEYS: &[&str] = &[
    "base_manager_name",
    "default_manager_name",
    "default_related_name",
    "get_latest_by",
    "managed",
    "ordering",
    "permissions",
    "default_permissions",
    "select_on_save",
    "verbose_name",
    "verbose_name_plural",
];

/// Whether an index or constraint call is named `name`.
fn item_named(item: &Py, name: &str) -> bool {
    item.kwarg("name").is_some_and(|n| *n.lit() == Lit::Str(name.to_string()))
}

/// `"shop.Order"`, `"Order"` → `order` when it names a model of `label` (or no label).
fn same_app_target(target: &str, label: &str) -> Option<String> {
    match target.split_once('.') {
        Some((l, m)) if l.eq_ignore_ascii_case(label) => Some(m.to_lowercase()),
        Some(_) => None,
        None => Some(target.to_lowercase()),
    }
}

fn apply(state: &mut AppState, op: &Op, label: &str) {
    let models = &mut state.models;
    let lower = |s: &str| s.to_lowercase();
    match op {
        Op::Create { name, fields, options } => {
            models.insert(
                lower(name),
                ModelState { name: name.clone(), fields: fields.clone(), options: options.clone(), unknown: None },
            );
        }
        Op::Delete { name } => {
            models.remove(&lower(name));
        }
        Op::RenameModel { old, new } => {
            state.renames.push((lower(old), lower(new)));
            if let Some(mut m) = models.remove(&lower(old)) {
                m.name = new.clone();
                models.insert(lower(new), m);
            }
            // Relations to the old name now point at the new one.
            for m in models.values_mut() {
                for (_, f) in m.fields.iter_mut() {
                    for (k, v) in f.kw.iter_mut() {
                        if let (true, Lit::Str(t)) = (k == "to", &v) {
                            if same_app_target(t, label).as_deref() == Some(lower(old).as_str()) {
                                *v = Lit::Str(format!("{label}.{}", lower(new)));
                            }
                        }
                    }
                }
            }
        }
        Op::AddOrAlter { model, name, field } => {
            if let Some(m) = models.get_mut(&lower(model)) {
                match m.fields.iter_mut().find(|(n, _)| n == name) {
                    Some((_, f)) => *f = field.clone(),
                    None => m.fields.push((name.clone(), field.clone())),
                }
            }
        }
        Op::Remove { model, name } => {
            if let Some(m) = models.get_mut(&lower(model)) {
                m.fields.retain(|(n, _)| n != name);
            }
        }
        Op::RenameField { model, old, new } => {
            if let Some(m) = models.get_mut(&lower(model)) {
                if let Some((n, _)) = m.fields.iter_mut().find(|(n, _)| n == old) {
                    *n = new.clone();
                }
                // `unique_together` and `index_together` follow the rename (Django's
                // `rename_field`); indexes and constraints do not.
                for (k, v) in m.options.iter_mut() {
                    if !k.ends_with("_together") {
                        continue;
                    }
                    if let Py::Seq(_, tuples) = v {
                        for t in tuples.iter_mut() {
                            if let Py::Seq(_, names) = t {
                                for n in names.iter_mut().filter(|n| **n == Py::Lit(Lit::Str(old.clone()))) {
                                    *n = Py::Lit(Lit::Str(new.clone()));
                                }
                            }
                        }
                    }
                }
            }
        }
        Op::Table { name, table } => {
            if let Some(m) = models.get_mut(&lower(name)) {
                m.options.retain(|(k, _)| k != "db_table");
                if *table != Lit::None {
                    m.options.push(("db_table".to_string(), Py::Lit(table.clone())));
                }
            }
        }
        Op::Options { name, options } => {
            if let Some(m) = models.get_mut(&lower(name)) {
                // AlterModelOptions replaces the options it manages and leaves the others.
                m.options.retain(|(k, _)| !ALTER_OPTION_KEYS.contains(&k.as_str()));
                for (k, v) in options {
                    m.set_option(k, v.clone());
                }
            }
        }
        Op::Together { name, option, value } => {
            if let Some(m) = models.get_mut(&lower(name)) {
                m.set_option(option, value.clone());
            }
        }
        Op::AddTo { model, option, item } => {
            if let Some(m) = models.get_mut(&lower(model)) {
                match m.list_option(option) {
                    Some(items) => items.push(item.clone()),
                    None => m.unknown = Some(format!("`{option}` that are not a literal list")),
                }
            }
        }
        Op::RemoveFrom { model, option, name } => {
            if let Some(m) = models.get_mut(&lower(model)) {
                match m.list_option(option) {
                    Some(items) => items.retain(|i| !item_named(i, name)),
                    None => m.unknown = Some(format!("`{option}` that are not a literal list")),
                }
            }
        }
        Op::AlterIn { model, option, name, item } => {
            if let Some(m) = models.get_mut(&lower(model)) {
                match m.list_option(option) {
                    Some(items) => {
                        for i in items.iter_mut().filter(|i| item_named(i, name)) {
                            *i = item.clone();
                        }
                    }
                    None => m.unknown = Some(format!("`{option}` that are not a literal list")),
                }
            }
        }
        Op::RenameIndex { model, old, new } => {
            if let Some(m) = models.get_mut(&lower(model)) {
                match m.list_option("indexes") {
                    Some(items) => {
                        for i in items.iter_mut().filter(|i| item_named(i, old)) {
                            if let Py::Call { kw, .. } = i {
                                for (_, v) in kw.iter_mut().filter(|(k, _)| k == "name") {
                                    *v = Py::Lit(Lit::Str(new.clone()));
                                }
                            }
                        }
                    }
                    None => m.unknown = Some("`indexes` that are not a literal list".to_string()),
                }
            }
        }
        Op::IndexFromTogether { model, fields, new } => {
            if let Some(m) = models.get_mut(&lower(model)) {
                let strs = |v: &[String]| v.iter().map(|f| Py::Lit(Lit::Str(f.clone()))).collect::<Vec<_>>();
                let index = Py::Call {
                    callee: "models.Index".to_string(),
                    pos: Vec::new(),
                    kw: vec![
                        ("fields".to_string(), Py::Seq('[', strs(fields))),
                        ("name".to_string(), Py::Lit(Lit::Str(new.clone()))),
                    ],
                    splat: false,
                };
                match m.list_option("indexes") {
                    Some(items) => items.push(index),
                    None => m.unknown = Some("`indexes` that are not a literal list".to_string()),
                }
                if let Some(Py::Seq(_, together)) =
                    m.options.iter_mut().find(|(k, _)| k == "index_together").map(|(_, v)| v)
                {
                    let gone = Py::Seq('(', strs(fields));
                    together.retain(|t| *t != gone);
                }
            }
        }
        Op::Unknown { model: Some(model), why } => {
            let m =
                models.entry(lower(model)).or_insert_with(|| ModelState { name: model.clone(), ..Default::default() });
            m.unknown.get_or_insert_with(|| why.clone());
        }
        Op::Unknown { model: None, why } => {
            state.unknown.get_or_insert_with(|| why.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(files: &[(&str, &str)]) -> AppState {
        let files: Vec<(String, String)> = files.iter().map(|(r, t)| (r.to_string(), t.to_string())).collect();
        build(&files).into_values().next().unwrap()
    }

    const INITIAL: &str = "from django.db import migrations, models\n\
        class Migration(migrations.Migration):\n    initial = True\n    dependencies = []\n\
        \x20   operations = [migrations.CreateModel(name='Order', fields=[\n\
        \x20       ('id', models.BigAutoField(auto_created=True, primary_key=True)),\n\
        \x20       ('code', models.CharField(max_length=20)),\n    ])]\n";

    fn names(s: &AppState, model: &str) -> Vec<String> {
        s.models[model].fields.iter().map(|(n, _)| n.clone()).collect()
    }

    #[test]
    fn replays_in_dependency_order_not_name_order() {
        let rename = "from django.db import migrations, models\n\
            class Migration(migrations.Migration):\n    dependencies = [('shop', 'a_add')]\n\
            \x20   operations = [migrations.RenameField('order', 'note', 'memo')]\n";
        let add = "from django.db import migrations, models\n\
            class Migration(migrations.Migration):\n    dependencies = [('shop', '0001_initial')]\n\
            \x20   operations = [migrations.AddField(model_name='order', name='note', field=models.TextField(null=True))]\n";
        let s = app(&[
            ("shop/migrations/0001_initial.py", INITIAL),
            ("shop/migrations/0002_rename.py", &rename.replace("a_add", "0003_add")),
            ("shop/migrations/0003_add.py", add),
        ]);
        assert_eq!(s.label, "shop");
        assert_eq!(s.last, "0002_rename");
        assert_eq!(names(&s, "order"), ["id", "code", "memo"]);
        assert_eq!(s.models["order"].field("memo").unwrap().kwarg("null"), Some(&Lit::Bool(true)));
    }

    #[test]
    fn a_squash_stands_for_what_it_replaces_and_custom_ops_are_unknown() {
        let squash = "from django.db import migrations, models\n\
            class Migration(migrations.Migration):\n    replaces = [('shop', '0001_initial'), ('shop', '0002_x')]\n\
            \x20   operations = [migrations.CreateModel('Order', [('id', models.AutoField(primary_key=True))]),\n\
            \x20       migrations.RunPython(f), shop.ops.Backfill(model_name='order')]\n";
        let later = "from django.db import migrations, models\n\
            class Migration(migrations.Migration):\n    dependencies = [('shop', '0002_x')]\n\
            \x20   operations = [migrations.CreateModel('Item', [('id', models.AutoField(primary_key=True))])]\n";
        let s = app(&[
            ("shop/migrations/0001_initial.py", INITIAL),
            ("shop/migrations/0001_squashed_0002_x.py", squash),
            ("shop/migrations/0003_item.py", later),
        ]);
        assert_eq!(s.migrations, 2);
        assert_eq!(names(&s, "order"), ["id"]);
        assert!(s.models["order"].unknown.as_deref().unwrap().contains("Backfill"));
        assert!(s.models["item"].unknown.is_none());
        assert_eq!(s.last, "0003_item");
    }

    #[test]
    fn state_operations_by_name_and_operations_as_a_tuple() {
        let named = "from django.db import migrations, models\n\
            class Migration(migrations.Migration):\n    dependencies = [('shop', '0001_initial')]\n\
            \x20   state_operations = [migrations.RemoveField('order', 'code')]\n\
            \x20   operations = (migrations.SeparateDatabaseAndState(state_operations=state_operations),)\n";
        let s = app(&[("shop/migrations/0001_initial.py", INITIAL), ("shop/migrations/0002_s.py", named)]);
        assert_eq!(names(&s, "order"), ["id"]);
        assert!(s.unknown.is_none());
        let computed = named.replace("state_operations=state_operations", "state_operations=OPS + MORE");
        let s = app(&[("shop/migrations/0001_initial.py", INITIAL), ("shop/migrations/0002_s.py", &computed)]);
        assert!(s.unknown.as_deref().unwrap().contains("not a list"));
    }

    #[test]
    fn alter_model_table_sets_and_resets_db_table() {
        let table = "from django.db import migrations, models\n\
            class Migration(migrations.Migration):\n    dependencies = [('shop', '0001_initial')]\n\
            \x20   operations = [migrations.AlterModelTable('order', 'orders'), migrations.RenameModel('Order', 'Sale')]\n";
        let s = app(&[("shop/migrations/0001_initial.py", INITIAL), ("shop/migrations/0002_t.py", table)]);
        assert_eq!(s.models["sale"].option("db_table"), Some(&Lit::Str("orders".into())));
        let reset = table.replace("'orders')", "None)");
        let s = app(&[("shop/migrations/0001_initial.py", INITIAL), ("shop/migrations/0002_t.py", &reset)]);
        assert_eq!(s.models["sale"].option("db_table"), None);
    }

    #[test]
    fn a_migration_that_does_not_parse_makes_the_app_unknown() {
        let s =
            app(&[("shop/migrations/0001_initial.py", INITIAL), ("shop/migrations/0002_x.py", "class Migration(:")]);
        assert!(s.unknown.as_deref().unwrap().contains("could not be read"));
    }

    #[test]
    fn a_history_with_a_hole_is_unknown() {
        let later = "from django.db import migrations, models\n\
            class Migration(migrations.Migration):\n    dependencies = [('shop', '0002_gone')]\n\
            \x20   operations = []\n";
        let s = app(&[("shop/migrations/0001_initial.py", INITIAL), ("shop/migrations/0003_x.py", later)]);
        assert!(s.unknown.as_deref().unwrap().contains("0002_gone"));
        let s = app(&[("shop/migrations/0003_x.py", &later.replace("('shop', '0002_gone')", ""))]);
        assert!(s.unknown.as_deref().unwrap().contains("no first migration"));
    }

    #[test]
    fn meta_options_follow_their_operations() {
        let ops = "from django.db import migrations, models\n\
            class Migration(migrations.Migration):\n    dependencies = [('shop', '0001_initial')]\n\
            \x20   operations = [\n\
            \x20       migrations.AlterUniqueTogether(name='order', unique_together=('code', 'id')),\n\
            \x20       migrations.AlterModelOptions(name='order', options={'ordering': ['code']}),\n\
            \x20       migrations.RenameField('order', 'code', 'ref'),\n\
            \x20       migrations.AddIndex(model_name='order', index=models.Index(fields=['ref'], name='o_ref')),\n\
            \x20       migrations.RenameIndex(model_name='order', new_name='o_ref2', old_name='o_ref'),\n\
            \x20       migrations.AddConstraint(model_name='order', constraint=models.UniqueConstraint(fields=['ref'], name='u')),\n\
            \x20       migrations.RemoveConstraint(model_name='order', name='u'),\n\
            \x20       migrations.AlterIndexTogether(name='order', index_together={('id', 'ref')}),\n\
            \x20       migrations.RenameIndex(model_name='order', new_name='o_id_ref', old_fields=('id', 'ref')),\n\
            \x20   ]\n";
        let s = app(&[("shop/migrations/0001_initial.py", INITIAL), ("shop/migrations/0002_o.py", ops)]);
        let m = &s.models["order"];
        assert!(m.unknown.is_none());
        let strs = |v: &[&str]| Py::Seq('(', v.iter().map(|n| Py::Lit(Lit::Str(n.to_string()))).collect());
        // One tuple normalized to a set of tuples, and the rename followed.
        assert_eq!(m.option_py("unique_together"), Some(&Py::Seq('{', vec![strs(&["ref", "id"])])));
        // AlterModelOptions keeps the options it does not manage.
        assert!(matches!(m.option_py("ordering"), Some(Py::Seq('[', _))));
        let names: Vec<&Lit> = match m.option_py("indexes") {
            Some(Py::Seq(_, items)) => items.iter().map(|i| i.kwarg("name").unwrap().lit()).collect(),
            other => panic!("{other:?}"),
        };
        assert_eq!(names, [&Lit::Str("o_ref2".into()), &Lit::Str("o_id_ref".into())]);
        assert_eq!(m.option_py("constraints"), Some(&Py::Seq('[', Vec::new())));
        assert_eq!(m.option_py("index_together"), Some(&Py::Seq('{', Vec::new())));
    }

    #[test]
    fn separate_database_and_state_replays_state_only() {
        let sdas = "from django.db import migrations, models\n\
            class Migration(migrations.Migration):\n    dependencies = [('shop', '0001_initial')]\n\
            \x20   operations = [migrations.SeparateDatabaseAndState(\n\
            \x20       database_operations=[migrations.RemoveField('order', 'id')],\n\
            \x20       state_operations=[migrations.RemoveField('order', 'code')])]\n";
        let s = app(&[("shop/migrations/0001_initial.py", INITIAL), ("shop/migrations/0002_s.py", sdas)]);
        assert_eq!(names(&s, "order"), ["id"]);
    }

    #[test]
    fn preserve_default_false_leaves_no_default_in_the_state() {
        let ops = "from django.db import migrations, models\n\
            class Migration(migrations.Migration):\n    dependencies = [('shop', '0001_initial')]\n\
            \x20   operations = [\n\
            \x20       migrations.AddField('order', 'a', models.IntegerField(default=0), preserve_default=False),\n\
            \x20       migrations.AddField(model_name='order', name='b', field=models.IntegerField(default=1)),\n\
            \x20       migrations.AddField('order', 'c', models.IntegerField(default=2), False),\n\
            \x20   ]\n";
        let s = app(&[("shop/migrations/0001_initial.py", INITIAL), ("shop/migrations/0002_d.py", ops)]);
        let m = &s.models["order"];
        assert_eq!(m.field("a").unwrap().kwarg("default"), None);
        assert_eq!(m.field("b").unwrap().kwarg("default"), Some(&Lit::Int(1)));
        assert_eq!(m.field("c").unwrap().kwarg("default"), None);
    }

    #[test]
    fn alter_order_with_respect_to_sets_and_clears_the_option() {
        let ops = |v: &str| {
            format!(
                "from django.db import migrations\nclass Migration(migrations.Migration):\n    \
                 dependencies = [('shop', '0001_initial')]\n    \
                 operations = [migrations.AlterOrderWithRespectTo(name='order', order_with_respect_to={v})]\n"
            )
        };
        let set = ops("'code'");
        let s = app(&[("shop/migrations/0001_initial.py", INITIAL), ("shop/migrations/0002_o.py", &set)]);
        assert_eq!(s.models["order"].option("order_with_respect_to"), Some(&Lit::Str("code".into())));
        let clear = ops("None");
        let s = app(&[("shop/migrations/0001_initial.py", INITIAL), ("shop/migrations/0002_o.py", &clear)]);
        assert_eq!(s.models["order"].option("order_with_respect_to"), Some(&Lit::None));
        let computed = ops("FIELD");
        let s = app(&[("shop/migrations/0001_initial.py", INITIAL), ("shop/migrations/0002_o.py", &computed)]);
        assert!(s.models["order"].unknown.is_some());
    }
}
