//! blanket-suppression: `preflight: ignore` comments that name no rule or an unknown one.

use crate::classify::FileClass;
use crate::registry::{FileCtx, Rule};
use crate::suppress;

pub(crate) struct BlanketSuppression;

impl Rule for BlanketSuppression {
    fn id(&self) -> &'static str {
        "blanket-suppression"
    }

    fn prefilter(&self) -> &'static [&'static str] {
        &[suppress::MARKER]
    }

    fn wants(&self, class: &FileClass) -> bool {
        !class.roles.vendored
    }

    fn check_file(&self, ctx: &mut FileCtx<'_>) {
        for s in suppress::parse(ctx.file) {
            if !suppress::in_comment(ctx.file, s.offset) {
                continue;
            }
            let end = s.offset + suppress::MARKER.len();
            if s.ids.is_empty() {
                ctx.report(
                    s.offset,
                    end,
                    "`preflight: ignore` without rule ids suppresses nothing: name the rule, \
                     e.g. `preflight: ignore[django-debug-enabled]`"
                        .into(),
                );
            }
            for id in s.ids.iter().filter(|i| !suppress::is_known_id(i)) {
                ctx.report(s.offset, end, format!("`{id}` is not a preflight rule id, so this suppresses nothing (see `preflight rules`)"));
            }
        }
    }
}
