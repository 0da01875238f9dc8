//! Django migrations as the migration rules see them: the operations of a module's
//! `class Migration`, whatever the import style (`migrations.RunPython`, a bare `RunPython`,
//! an alias), with `SeparateDatabaseAndState` flattened: its database operations count, its
//! state operations (which touch no data) are marked as such.
//!
//! The project pass also records, per app, how each field was declared in each migration, so
//! that an `AlterField` can be compared with the field it changes.

use std::collections::{HashMap, HashSet};

use tree_sitter::Node;

use crate::django::fields::{COLUMN_FIELDS, EMPTY_STRING_FIELDS};
use crate::parse::for_each_node;
use crate::python::syntax::{call_args, dotted, string_value, text};

pub(crate) struct Operation<'t> {
    /// The operation's class name (`RunPython`, `AddField`, ...).
    pub name: String,
    pub call: Node<'t>,
    pub pos: Vec<Node<'t>>,
    pub kw: Vec<(String, Node<'t>)>,
    /// Inside `SeparateDatabaseAndState(state_operations=...)`: changes Django's state only.
    pub state_only: bool,
    /// Inside `SeparateDatabaseAndState(database_operations=...)`: changes the database only,
    /// not Django's state.
    pub database_only: bool,
}

impl<'t> Operation<'t> {
    /// Argument by keyword, else by position.
    pub(crate) fn arg(&self, kw: &str, pos: usize) -> Option<Node<'t>> {
        self.kw.iter().find(|(k, _)| k == kw).map(|(_, v)| *v).or_else(|| self.pos.get(pos).copied())
    }

    pub(crate) fn str_arg(&self, kw: &str, pos: usize, src: &str) -> Option<String> {
        string_value(self.arg(kw, pos)?, src)
    }
}

pub(crate) struct MigrationModule<'t> {
    pub operations: Vec<Operation<'t>>,
    /// Lower-cased names of the models this migration creates.
    pub created: HashSet<String>,
    pub squashed: bool,
    /// `initial = True`: part of the app's first schema, created in one `makemigrations` run.
    pub initial: bool,
    /// `dependencies`, `replaces` and `run_before`: the (app label, migration name) pairs
    /// written as literal tuples (`swappable_dependency(...)` and other calls are left out).
    pub dependencies: Vec<(String, String)>,
    pub replaces: Vec<(String, String)>,
    pub run_before: Vec<(String, String)>,
}

/// The literal `(app_label, name)` tuples of a list or tuple node.
fn label_pairs(list: Node<'_>, src: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if !matches!(list.kind(), "list" | "tuple") {
        return out;
    }
    let mut c = list.walk();
    for item in list.named_children(&mut c).filter(|i| matches!(i.kind(), "tuple" | "list")) {
        if let (Some(a), Some(b)) = (item.named_child(0), item.named_child(1)) {
            if let (Some(a), Some(b)) = (string_value(a, src), string_value(b, src)) {
                out.push((a, b));
            }
        }
    }
    out
}

/// Django's operations that change only the schema; anything else (RunPython, RunSQL, a custom
/// operation) may change data.
const SCHEMA_OPERATIONS: &[&str] = &[
    "CreateModel",
    "DeleteModel",
    "RenameModel",
    "AlterModelTable",
    "AlterModelTableComment",
    "AlterUniqueTogether",
    "AlterIndexTogether",
    "AlterOrderWithRespectTo",
    "AlterModelOptions",
    "AlterModelManagers",
    "AddField",
    "RemoveField",
    "AlterField",
    "RenameField",
    "AddIndex",
    "RemoveIndex",
    "RenameIndex",
    "AddConstraint",
    "RemoveConstraint",
    "AlterConstraint",
    "SeparateDatabaseAndState",
];

/// The last name of a callee: `migrations.RunPython` → `RunPython`.
fn callee_name(call: Node<'_>, src: &str) -> Option<String> {
    let f = dotted(call.child_by_field_name("function")?, src)?;
    Some(f.rsplit('.').next().unwrap_or(&f).to_string())
}

/// Reads a module's `class Migration(...)`; `None` when there is none.
pub(crate) fn read<'t>(root: Node<'t>, src: &str) -> Option<MigrationModule<'t>> {
    read_with(root, src, false)
}

/// `read`, and with `tuples` an `operations = (...)` tuple is read too.
pub(crate) fn read_with<'t>(root: Node<'t>, src: &str, tuples: bool) -> Option<MigrationModule<'t>> {
    let mut cursor = root.walk();
    let class = root.named_children(&mut cursor).find(|n| {
        n.kind() == "class_definition"
            && n.child_by_field_name("name").is_some_and(|name| text(name, src) == "Migration")
            && n.child_by_field_name("superclasses").is_some_and(|s| text(s, src).contains("Migration"))
    })?;
    let body = class.child_by_field_name("body")?;
    let mut ops_list = None;
    let mut squashed = false;
    let mut initial = false;
    let (mut dependencies, mut replaces, mut run_before) = (Vec::new(), Vec::new(), Vec::new());
    let mut c2 = body.walk();
    for stmt in body.named_children(&mut c2) {
        let Some(assign) = stmt.named_child(0).filter(|a| a.kind() == "assignment") else { continue };
        let (Some(l), Some(r)) = (assign.child_by_field_name("left"), assign.child_by_field_name("right")) else {
            continue;
        };
        match text(l, src) {
            "operations" if r.kind() == "list" || (tuples && r.kind() == "tuple") => ops_list = Some(r),
            "replaces" => {
                squashed = true;
                replaces = label_pairs(r, src);
            }
            "dependencies" => dependencies = label_pairs(r, src),
            "run_before" => run_before = label_pairs(r, src),
            "initial" => initial = r.kind() == "true",
            _ => {}
        }
    }
    let mut operations = Vec::new();
    collect(ops_list?, src, (false, false), &mut operations, 0);
    let created = operations
        .iter()
        .filter(|o| o.name == "CreateModel" && !o.state_only)
        .filter_map(|o| o.str_arg("name", 0, src))
        .map(|n| n.to_lowercase())
        .collect();
    Some(MigrationModule { operations, created, squashed, initial, dependencies, replaces, run_before })
}

/// The operations of a list node (`RunSQL(..., state_operations=[...])`), with
/// `SeparateDatabaseAndState` flattened as in `read`.
pub(crate) fn operations_in<'t>(list: Node<'t>, src: &str, state_only: bool) -> Vec<Operation<'t>> {
    let mut out = Vec::new();
    if matches!(list.kind(), "list" | "tuple") {
        collect(list, src, (state_only, false), &mut out, 0);
    }
    out
}

/// `only`: (state only, database only) of the enclosing `SeparateDatabaseAndState`.
fn collect<'t>(list: Node<'t>, src: &str, only: (bool, bool), out: &mut Vec<Operation<'t>>, depth: usize) {
    if depth > 4 {
        return;
    }
    let mut cursor = list.walk();
    for item in list.named_children(&mut cursor) {
        if item.kind() != "call" {
            continue;
        }
        let Some(name) = callee_name(item, src) else { continue };
        let (pos, kw) = call_args(item, src);
        let (state_only, database_only) = only;
        let op = Operation { name, call: item, pos, kw, state_only, database_only };
        if op.name == "SeparateDatabaseAndState" {
            if let Some(db) = op.arg("database_operations", 0).filter(|n| matches!(n.kind(), "list" | "tuple")) {
                collect(db, src, (state_only, true), out, depth + 1);
            }
            if let Some(st) = op.arg("state_operations", 1).filter(|n| matches!(n.kind(), "list" | "tuple")) {
                collect(st, src, (true, database_only), out, depth + 1);
            }
        }
        out.push(op);
    }
}

/// How a field is declared: a call such as `models.CharField(null=True, default="")`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldDecl {
    pub nullable: bool,
    /// A default for existing rows: `default`, `db_default`, or one Django supplies itself
    /// (`auto_now`, an empty string for a `blank=True` text or file field).
    pub has_default: bool,
    /// ManyToMany (no column), or a field class whose NULL semantics we do not know (a custom
    /// field may be nullable by construction).
    pub no_column: bool,
    pub relation: bool,
}

pub(crate) fn field_decl(field: Node<'_>, src: &str) -> Option<FieldDecl> {
    if field.kind() != "call" {
        return None;
    }
    let kind = callee_name(field, src)?;
    let (_, kw) = call_args(field, src);
    let is_true = |k: &str| kw.iter().any(|(n, v)| n == k && v.kind() == "true");
    let has = |k: &str| kw.iter().any(|(n, _)| n == k);
    Some(FieldDecl {
        nullable: is_true("null"),
        has_default: has("default")
            || has("db_default")
            || is_true("auto_now")
            || is_true("auto_now_add")
            || (is_true("blank") && EMPTY_STRING_FIELDS.contains(&kind.as_str())),
        no_column: !COLUMN_FIELDS.contains(&kind.as_str()),
        relation: kind == "ForeignKey" || kind == "OneToOneField",
    })
}

/// Per app folder and (model, field): the declarations in each migration, by migration name.
#[derive(Debug, Default)]
pub struct FieldHistory {
    entries: HashMap<(String, String, String), Vec<(String, FieldDecl)>>,
    /// Per app folder, the migrations that change data (RunPython, RunSQL): backfills.
    data_migrations: HashMap<String, Vec<String>>,
    /// Names of project operation classes that declare `reversible = False`.
    pub irreversible_ops: HashSet<String>,
    /// Per app folder, fields and models removed from Django's state only (the first step of a
    /// two-step removal): (migration, lower-cased model, field or "" for the whole model).
    state_removed: HashMap<String, Vec<(String, String, String)>>,
    /// Per app folder, models whose table name is pinned (`db_table` in `CreateModel` options,
    /// `AlterModelTable`): (migration, lower-cased model).
    pinned_tables: HashMap<String, Vec<(String, String)>>,
}

/// The app folder and migration name of a migration file path (`blog/migrations/0002_x.py`).
pub(crate) fn app_and_name(rel: &str) -> (String, String) {
    let (dir, file) = rel.rsplit_once('/').unwrap_or(("", rel));
    (dir.to_string(), file.trim_end_matches(".py").to_string())
}

impl FieldHistory {
    /// Records the field declarations of one migration file.
    pub fn add_migration(&mut self, rel: &str, root: Node<'_>, src: &str) {
        let (app, name) = app_and_name(rel);
        let Some(m) = read(root, src) else {
            // Operations we cannot read statically (built in an `if`, say) may change data.
            if src.contains("class Migration") {
                self.data_migrations.entry(app).or_default().push(name);
            }
            return;
        };
        if m.operations.iter().any(|o| !o.state_only && !SCHEMA_OPERATIONS.contains(&o.name.as_str())) {
            self.data_migrations.entry(app.clone()).or_default().push(name.clone());
        }
        for op in m.operations.iter().filter(|o| o.state_only) {
            let removed = match op.name.as_str() {
                "RemoveField" => op.str_arg("model_name", 0, src).zip(op.str_arg("name", 1, src)),
                "DeleteModel" => op.str_arg("name", 0, src).map(|m| (m, String::new())),
                _ => None,
            };
            if let Some((model, field)) = removed {
                self.state_removed.entry(app.clone()).or_default().push((name.clone(), model.to_lowercase(), field));
            }
        }
        for op in &m.operations {
            let pinned = match op.name.as_str() {
                "CreateModel" => op.arg("options", 3).filter(|o| {
                    let mut c = o.walk();
                    o.kind() == "dictionary"
                        && o.named_children(&mut c).any(|p| {
                            p.child_by_field_name("key").and_then(|k| string_value(k, src)).as_deref()
                                == Some("db_table")
                        })
                }),
                "AlterModelTable" => op.arg("table", 1).filter(|t| t.kind() == "string"),
                _ => None,
            };
            if let (Some(_), Some(model)) = (pinned, op.str_arg("name", 0, src)) {
                self.pinned_tables.entry(app.clone()).or_default().push((name.clone(), model.to_lowercase()));
            }
        }
        for op in m.operations.iter().filter(|o| !o.state_only || o.name == "CreateModel") {
            match op.name.as_str() {
                "CreateModel" => {
                    let Some(model) = op.str_arg("name", 0, src) else { continue };
                    let Some(fields) = op.arg("fields", 1) else { continue };
                    let mut c = fields.walk();
                    for pair in fields.named_children(&mut c).filter(|p| p.kind() == "tuple") {
                        let (Some(fname), Some(fnode)) = (pair.named_child(0), pair.named_child(1)) else { continue };
                        if let (Some(fname), Some(decl)) = (string_value(fname, src), field_decl(fnode, src)) {
                            self.push(&app, &model, &fname, &name, decl);
                        }
                    }
                }
                "AddField" | "AlterField" => {
                    let (Some(model), Some(fname), Some(field)) =
                        (op.str_arg("model_name", 0, src), op.str_arg("name", 1, src), op.arg("field", 2))
                    else {
                        continue;
                    };
                    if let Some(decl) = field_decl(field, src) {
                        self.push(&app, &model, &fname, &name, decl);
                    }
                }
                _ => {}
            }
        }
    }

    fn push(&mut self, app: &str, model: &str, field: &str, migration: &str, decl: FieldDecl) {
        self.entries
            .entry((app.to_string(), model.to_lowercase(), field.to_string()))
            .or_default()
            .push((migration.to_string(), decl));
    }

    /// Adds another history's records (built in parallel, one file each).
    pub fn merge(mut self, other: FieldHistory) -> FieldHistory {
        for (k, v) in other.entries {
            self.entries.entry(k).or_default().extend(v);
        }
        for (k, v) in other.data_migrations {
            self.data_migrations.entry(k).or_default().extend(v);
        }
        self.irreversible_ops.extend(other.irreversible_ops);
        for (k, v) in other.state_removed {
            self.state_removed.entry(k).or_default().extend(v);
        }
        for (k, v) in other.pinned_tables {
            self.pinned_tables.entry(k).or_default().extend(v);
        }
        self
    }

    pub fn finish(&mut self) {
        for v in self.entries.values_mut() {
            v.sort_by(|a, b| a.0.cmp(&b.0));
        }
        for v in self.data_migrations.values_mut() {
            v.sort();
        }
    }

    /// The field's declaration in the latest migration of the app before `migration`, and that
    /// migration's name.
    pub fn before(&self, app: &str, model: &str, field: &str, migration: &str) -> Option<(&str, FieldDecl)> {
        let v = self.entries.get(&(app.to_string(), model.to_lowercase(), field.to_string()))?;
        v.iter().rev().find(|(m, _)| m.as_str() < migration).map(|(m, d)| (m.as_str(), *d))
    }

    /// Whether an earlier migration of the app than `migration` removed the field (`field`
    /// empty: the model) from Django's state only: dropping it from the database now is the
    /// second step of a two-step removal, when no release reads it any more. `model` empty:
    /// any model (a column named in SQL); a field also matches its `_id` column.
    pub fn removed_from_state_before(&self, app: &str, model: &str, field: &str, migration: &str) -> bool {
        let model = model.to_lowercase();
        self.state_removed.get(app).is_some_and(|v| {
            v.iter().any(|(m, mdl, f)| {
                m.as_str() < migration
                    && (model.is_empty() || *mdl == model)
                    && (f == field || format!("{f}_id") == field)
            })
        })
    }

    /// Whether an earlier migration of the app pinned the model's table name: renaming the model
    /// then leaves the table as it is.
    pub fn table_pinned_before(&self, app: &str, model: &str, migration: &str) -> bool {
        let model = model.to_lowercase();
        self.pinned_tables.get(app).is_some_and(|v| v.iter().any(|(m, mdl)| m.as_str() < migration && *mdl == model))
    }

    /// Whether an earlier migration of the app removed, from Django's state only, the model
    /// whose table is `table` (`app_model`, or the model's name).
    pub fn table_removed_from_state_before(&self, app: &str, table: &str, migration: &str) -> bool {
        let table = table.to_lowercase();
        self.state_removed.get(app).is_some_and(|v| {
            v.iter().any(|(m, mdl, f)| {
                m.as_str() < migration && f.is_empty() && (table == *mdl || table.ends_with(&format!("_{mdl}")))
            })
        })
    }

    /// Whether a data migration of the app ran after `from` and up to `to` (a backfill).
    pub fn data_change_between(&self, app: &str, from: &str, to: &str) -> bool {
        self.data_migrations.get(app).is_some_and(|v| v.iter().any(|m| m.as_str() > from && m.as_str() <= to))
    }

    /// Records operation classes with `reversible = False` in a module.
    pub fn add_operation_classes(&mut self, root: Node<'_>, src: &str) {
        for_each_node(root, |n| {
            if n.kind() != "class_definition" {
                return;
            }
            let Some(body) = n.child_by_field_name("body") else { return };
            let mut c = body.walk();
            let irreversible = body.named_children(&mut c).any(|s| {
                s.named_child(0).filter(|a| a.kind() == "assignment").is_some_and(|a| {
                    a.child_by_field_name("left").is_some_and(|l| text(l, src) == "reversible")
                        && a.child_by_field_name("right").is_some_and(|r| r.kind() == "false")
                })
            });
            if irreversible {
                if let Some(name) = n.child_by_field_name("name") {
                    self.irreversible_ops.insert(text(name, src).to_string());
                }
            }
        });
    }
}

/// The migrations a next deploy would apply when nothing else says which (no `--diff-base`, no
/// `--all-migrations`): each app's leaf migrations, the ones no other migration of the app
/// depends on, runs after or replaces. Older ones were applied by earlier deploys. Takes
/// (relative path, text) of every migration module walked; returns the paths of the leaves.
pub(crate) fn leaf_migrations<'a>(files: impl Iterator<Item = (&'a str, &'a str)>) -> HashSet<String> {
    static QUOTED: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let quoted = QUOTED.get_or_init(|| regex::Regex::new(r#"["']([A-Za-z0-9_]+)["']"#).unwrap());
    let mut by_app: HashMap<String, Vec<(String, &str, &str)>> = HashMap::new();
    for (rel, text) in files {
        let (app, name) = app_and_name(rel);
        if name == "__init__" || !text.contains("class Migration") {
            continue;
        }
        by_app.entry(app).or_default().push((name, rel, text));
    }
    let mut leaves = HashSet::new();
    for migrations in by_app.values() {
        let names: HashSet<&str> = migrations.iter().map(|(n, _, _)| n.as_str()).collect();
        // Per migration, the other migrations of the app it names (depends on, replaces).
        let refs: Vec<HashSet<&str>> = migrations
            .iter()
            .map(|(name, _, text)| {
                quoted
                    .captures_iter(text)
                    .filter_map(|c| c.get(1).map(|m| m.as_str()))
                    .filter(|s| s != name && names.contains(s))
                    .collect()
            })
            .collect();
        let referenced: HashSet<&str> = refs.iter().flatten().copied().collect();
        for ((name, rel, _), named) in migrations.iter().zip(&refs) {
            if referenced.contains(name.as_str()) {
                continue;
            }
            leaves.insert(rel.to_string());
            // A merge migration joins branches that are new as well: their heads are judged too.
            if named.len() >= 2 {
                let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
                leaves.extend(named.iter().map(|n| {
                    if dir.is_empty() {
                        format!("{n}.py")
                    } else {
                        format!("{dir}/{n}.py")
                    }
                }));
            }
        }
    }
    leaves
}
