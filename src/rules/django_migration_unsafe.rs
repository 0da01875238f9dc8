//! django-migration-unsafe: operations that lose data or break the release still running.

use std::sync::OnceLock;

use regex::Regex;

use crate::classify::FileClass;
use crate::engine::FileCtx;
use crate::migrations::{app_and_name, field_decl, read, Operation};
use crate::python::string_value;
use crate::registry::Rule;

pub struct DjangoMigrationUnsafe;

const EXPAND_CONTRACT: &str = "first deploy code that no longer uses it, then remove it in a later release";

impl Rule for DjangoMigrationUnsafe {
    fn id(&self) -> &'static str {
        "django-migration-unsafe"
    }

    fn prefilter(&self) -> &'static [&'static str] {
        &["Remove", "Delete", "Rename", "AlterModelTable", "AddField", "AlterField", "RunSQL"]
    }

    fn wants(&self, class: &FileClass) -> bool {
        // Migrations of test apps are never deployed.
        class.roles.migration && !class.roles.test && !class.roles.vendored
    }

    fn needs_tree(&self) -> bool {
        true
    }

    fn check_file(&self, ctx: &mut FileCtx<'_>) {
        let file = ctx.file;
        let Some(tree) = file.tree() else { return };
        let src = file.text.as_str();
        let Some(m) = read(tree.root_node(), src) else { return };
        let (app, this) = app_and_name(&file.rel);
        for op in m.operations.iter().filter(|o| !o.state_only) {
            let model = op.str_arg("model_name", 0, src).unwrap_or_default();
            let created = |name: &str| m.created.contains(&name.to_lowercase());
            let msg = match op.name.as_str() {
                "RemoveField" if !created(&model) => {
                    let field = op.str_arg("name", 1, src).unwrap_or_default();
                    format!(
                        "RemoveField drops `{model}.{field}` and its data, while the release still running reads the \
                         column: {EXPAND_CONTRACT}"
                    )
                }
                "DeleteModel" => {
                    let name = op.str_arg("name", 0, src).unwrap_or_default();
                    if created(&name) {
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
                    if created(&old) {
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
                    let history = &ctx.project.migrations;
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
                    Some(what) => format!("RunSQL {what}: the data is lost and the running release may still use it"),
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

/// What the forward SQL of a `RunSQL` destroys, if anything.
fn destructive_sql(op: &Operation<'_>, src: &str) -> Option<String> {
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
    texts.iter().find_map(|t| destructive_re().find(t)).map(|m| {
        let verb = m.as_str().split_whitespace().collect::<Vec<_>>().join(" ").to_uppercase();
        if verb.starts_with("TRUNCATE") {
            "truncates a table".to_string()
        } else if verb.starts_with("DROP TABLE") {
            "drops a table".to_string()
        } else {
            "drops a column".to_string()
        }
    })
}
