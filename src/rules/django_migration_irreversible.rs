//! django-migration-irreversible: RunPython/RunSQL without a reverse, irreversible custom ops.

use crate::classify::FileClass;
use crate::project::Needs;
use crate::registry::{FileCtx, Rule};
use crate::django::migrations::read;
use crate::python::syntax::text;

pub(crate) struct DjangoMigrationIrreversible;

impl Rule for DjangoMigrationIrreversible {
    fn id(&self) -> &'static str {
        "django-migration-irreversible"
    }

    fn needs(&self) -> Needs {
        Needs { migration_history: true, deploy_migrations: true, ..Needs::NONE }
    }

    fn prefilter(&self) -> &'static [&'static str] {
        &["Migration"]
    }

    fn wants(&self, class: &FileClass) -> bool {
        // Migrations of test apps are never deployed.
        class.roles.migration && !class.roles.test && !class.roles.vendored
    }


    fn check_file(&self, ctx: &mut FileCtx<'_>) {
        let file = ctx.file;
        // A rollback concerns what a next deploy applies: older migrations already ran, and no
        // release rolls back past its own (`--all-migrations` judges the whole history).
        if ctx.project.deploy_migrations.as_ref().is_some_and(|leaves| !leaves.contains(&file.rel)) {
            return;
        }
        // Only RunPython, RunSQL and irreversible project operations can be reported: a
        // migration without them is not parsed.
        let t = file.text.as_str();
        if !t.contains("RunPython")
            && !t.contains("RunSQL")
            && !ctx.project.migrations.irreversible_ops.iter().any(|op| t.contains(op.as_str()))
        {
            return;
        }
        let Some(tree) = file.tree() else { return };
        let src = file.text.as_str();
        let Some(m) = read(tree.root_node(), src) else { return };
        for op in m.operations.iter().filter(|o| !o.state_only) {
            let (param, noop) = match op.name.as_str() {
                "RunPython" => ("reverse_code", "migrations.RunPython.noop"),
                "RunSQL" => ("reverse_sql", "migrations.RunSQL.noop"),
                name if ctx.project.migrations.irreversible_ops.contains(name) => {
                    let end = op.call.child_by_field_name("function").map_or(op.call.end_byte(), |f| f.end_byte());
                    ctx.report(
                        op.call.start_byte(),
                        end,
                        format!(
                            "{name} declares `reversible = False`, so this migration cannot be rolled back: \
                             implement database_backwards, or split it into a reversible migration"
                        ),
                    );
                    continue;
                }
                _ => continue,
            };
            let reverse = op.arg(param, 1);
            if reverse.is_some_and(|r| r.kind() != "none") {
                continue;
            }
            let first = op.arg(if op.name == "RunPython" { "code" } else { "sql" }, 0).map_or("", |n| text(n, src));
            // Secrets masked before the cut (`RunSQL("ALTER ROLE app PASSWORD '…'")`).
            let shown = crate::finding::redact_text(&first.split_whitespace().collect::<Vec<_>>().join(" "));
            let shown: String = shown.chars().take(40).collect();
            let why = if reverse.is_some() { format!("{param}=None") } else { format!("no {param}") };
            let end = op.call.child_by_field_name("function").map_or(op.call.end_byte(), |f| f.end_byte());
            ctx.report(
                op.call.start_byte(),
                end,
                format!(
                    "{}({shown}) has {why}, so this migration cannot be rolled back: pass {param}, or `{noop}` \
                     when undoing it needs no data change",
                    op.name
                ),
            );
        }
    }
}
