//! django-migration-unsafe: operations that lose data or break the release still running.

use std::sync::OnceLock;

use regex::Regex;

use crate::classify::FileClass;
use crate::project::Needs;
use crate::registry::{FileCtx, Rule};
use crate::django::migrations::{app_and_name, field_decl, read, Operation};
use crate::python::syntax::string_value;

pub(crate) struct DjangoMigrationUnsafe;

const EXPAND_CONTRACT: &str = "first deploy code that no longer uses it, then remove it in a later release";

impl Rule for DjangoMigrationUnsafe {
    fn id(&self) -> &'static str {
        "django-migration-unsafe"
    }

    fn needs(&self) -> Needs {
        Needs { migration_history: true, deploy_migrations: true, ..Needs::NONE }
    }

    fn prefilter(&self) -> &'static [&'static str] {
        &["Remove", "Delete", "Rename", "AlterModelTable", "AddField", "AlterField", "RunSQL"]
    }

    fn wants(&self, class: &FileClass) -> bool {
        // Migrations of test apps are never deployed.
        class.roles.migration && !class.roles.test && !class.roles.vendored
    }


    fn check_file(&self, ctx: &mut FileCtx<'_>) {
        let file = ctx.file;
        // By default only what a next deploy would apply: older migrations already ran.
        if ctx.project.deploy_migrations.as_ref().is_some_and(|leaves| !leaves.contains(&file.rel)) {
            return;
        }
        let Some(tree) = file.tree() else { return };
        let src = file.text.as_str();
        let Some(m) = read(tree.root_node(), src) else { return };
        // A squashed migration runs only on a fresh database, which has no data to lose; a
        // migration acknowledged with django-migration-linter's `IgnoreMigration()` was reviewed.
        if m.squashed || m.operations.iter().any(|o| o.name == "IgnoreMigration") {
            return;
        }
        let (app, this) = app_and_name(&file.rel);
        let history = &ctx.project.migrations;
        for op in m.operations.iter().filter(|o| !o.state_only) {
            let model = op.str_arg("model_name", 0, src).unwrap_or_default();
            let created = |name: &str| m.created.contains(&name.to_lowercase());
            let msg = match op.name.as_str() {
                "RemoveField" if !created(&model) => {
                    let field = op.str_arg("name", 1, src).unwrap_or_default();
                    if history.removed_from_state_before(&app, &model, &field, &this) {
                        continue;
                    }
                    format!(
                        "RemoveField drops `{model}.{field}` and its data, while the release still running reads the \
                         column: {EXPAND_CONTRACT}"
                    )
                }
                "DeleteModel" => {
                    let name = op.str_arg("name", 0, src).unwrap_or_default();
                    if created(&name) || history.removed_from_state_before(&app, &name, "", &this) {
                        continue;
                    }
                    format!("DeleteModel drops the table of `{name}` and its data: {EXPAND_CONTRACT}")
                }
                "RenameField" if !created(&model) => {
                    let old = op.str_arg("old_name", 1, src).unwrap_or_default();
                    let new = op.str_arg("new_name", 2, src).unwrap_or_default();
                    format!(
                        "RenameField renames `{model}.{old}` to `{new}`, while the release still running queries the old \
                         column: add the new field, copy the data, switch the code, then drop the old field"
                    )
                }
                "RenameModel" => {
                    let old = op.str_arg("old_name", 0, src).unwrap_or_default();
                    // With `Meta.db_table` pinned, the rename changes Django's state only.
                    if created(&old) || history.table_pinned_before(&app, &old, &this) {
                        continue;
                    }
                    let new = op.str_arg("new_name", 1, src).unwrap_or_default();
                    format!(
                        "RenameModel renames `{old}` to `{new}` and its table, while the release still running queries the \
                         old table: keep the table name with `Meta.db_table`, or migrate in expand/contract steps"
                    )
                }
                "AlterModelTable" => {
                    let name = op.str_arg("name", 0, src).unwrap_or_default();
                    if created(&name) {
                        continue;
                    }
                    format!("AlterModelTable renames the table of `{name}`, while the release still running queries the old one")
                }
                // The autodetector splits a new app's first schema: relations go into `0002_...`.
                "AddField" if !created(&model) => match add_not_null(op, src, m.initial || this.starts_with("0002_auto")) {
                    Some(field) => format!(
                        "AddField adds NOT NULL `{model}.{field}` with no default: it fails on a table with rows, and the \
                         running release's INSERTs fail once it exists; add null=True, a default or db_default"
                    ),
                    None => continue,
                },
                "AlterField" if !created(&model) && !m.initial => {
                    let field = op.str_arg("name", 1, src).unwrap_or_default();
                    let Some(new) = op.arg("field", 2).and_then(|f| field_decl(f, src)) else { continue };
                    let Some((was_in, before)) = history.before(&app, &model, &field, &this) else { continue };
                    // A data migration since the field was nullable is the backfill that makes this safe.
                    if new.nullable || new.has_default || new.no_column || !before.nullable {
                        continue;
                    }
                    if m.operations.iter().any(|o| matches!(o.name.as_str(), "RunPython" | "RunSQL"))
                        || history.data_change_between(&app, was_in, &this)
                    {
                        continue;
                    }
                    format!(
                        "AlterField makes nullable `{model}.{field}` NOT NULL with no default: existing NULL rows make it \
                         fail, and the running release may still write NULL; backfill first and add a default"
                    )
                }
                "RunSQL" => match destructive_sql(op, src) {
                    // The second step of a two-step removal: what it drops left Django's state
                    // in an earlier migration, so no release still running reads it.
                    Some((_, dropped))
                        if !dropped.is_empty()
                            && dropped.iter().all(|(table, column)| match column {
                                Some(c) => history.removed_from_state_before(&app, "", c, &this),
                                None => history.table_removed_from_state_before(&app, table, &this),
                            }) =>
                    {
                        continue
                    }
                    Some((what, _)) => format!("RunSQL {what}: the data is lost and the running release may still use it"),
                    None => continue,
                },
                _ => continue,
            };
            let end = op.call.child_by_field_name("function").map_or(op.call.end_byte(), |f| f.end_byte());
            ctx.report(op.call.start_byte(), end, msg);
        }
    }
}

/// The field name of an `AddField` whose field is NOT NULL with no default. In a migration of
/// the app's initial schema, relations are silent: their tables are new.
fn add_not_null(op: &Operation<'_>, src: &str, initial_schema: bool) -> Option<String> {
    let decl = field_decl(op.arg("field", 2)?, src)?;
    if decl.nullable || decl.has_default || decl.no_column || (initial_schema && decl.relation) {
        return None;
    }
    op.str_arg("name", 1, src)
}

fn destructive_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)\b(drop\s+table|drop\s+column|alter\s+table\s+\S+\s+drop\b|truncate\b)").unwrap()
    })
}

fn dropped_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r#"(?i)\b(?:alter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?"?(\w+)"?|drop\s+table\s+(?:if\s+exists\s+)?"?(\w+)"?|drop\s+(?:column\s+)?(?:if\s+exists\s+)?"?(\w+)"?)"#,
        )
        .unwrap()
    })
}

/// A table and, for a column, the column's name.
type Dropped = (String, Option<String>);

/// What the forward SQL of a `RunSQL` destroys, if anything, and what it drops: (table, column)
/// for each column, (table, None) for each table. Empty when some statement is not understood.
fn destructive_sql(op: &Operation<'_>, src: &str) -> Option<(String, Vec<Dropped>)> {
    let sql = op.arg("sql", 0)?;
    let mut texts = Vec::new();
    let mut stack = vec![sql];
    while let Some(n) = stack.pop() {
        match n.kind() {
            "list" | "tuple" | "parenthesized_expression" => {
                let mut c = n.walk();
                stack.extend(n.named_children(&mut c));
            }
            _ => texts.extend(string_value(n, src)),
        }
    }
    let what = texts.iter().find_map(|t| destructive_re().find(t)).map(|m| {
        let verb = m.as_str().split_whitespace().collect::<Vec<_>>().join(" ").to_uppercase();
        if verb.starts_with("TRUNCATE") {
            "truncates a table".to_string()
        } else if verb.starts_with("DROP TABLE") {
            "drops a table".to_string()
        } else {
            "drops a column".to_string()
        }
    })?;
    Some((what, dropped(&texts)))
}

/// The tables and columns that `DROP TABLE t` and `ALTER TABLE t DROP [COLUMN] c, ...` drop;
/// empty when the SQL does anything else destructive (TRUNCATE, a DROP of something unnamed).
fn dropped(texts: &[String]) -> Vec<Dropped> {
    let mut out = Vec::new();
    for t in texts {
        if t.to_lowercase().contains("truncate") {
            return Vec::new();
        }
        let mut table = String::new();
        for c in dropped_re().captures_iter(t) {
            if let Some(tb) = c.get(1) {
                table = tb.as_str().to_string();
            } else if let Some(tb) = c.get(2) {
                out.push((tb.as_str().to_string(), None));
            } else if let Some(col) = c.get(3) {
                let col = col.as_str();
                if ["index", "constraint", "default", "not", "trigger", "view", "sequence", "function"]
                    .contains(&col.to_lowercase().as_str())
                    || table.is_empty()
                {
                    // Not a column of a known table: an index, a default, a constraint.
                    continue;
                }
                out.push((table.clone(), Some(col.to_string())));
            }
        }
    }
    out
}
