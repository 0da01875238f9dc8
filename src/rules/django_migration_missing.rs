//! django-migration-missing: `makemigrations --check` from the source. Each app's migrations
//! are replayed into a model state (`django::migration_state`) and compared with the project's
//! model classes (`django::models`): a model with no `CreateModel`, a field the migrations do
//! not have or a field they have that the model lost (errors), a field whose class, `null`,
//! `max_length`, `unique`, `db_index`, `default` (presence, or a literal value) or relation
//! target differs (warnings).
//!
//! Precision first: a model is compared only as far as it can be known. A field counts as added
//! only when it is one of Django's own field classes; fields count as removed only when every
//! class-level attribute of the model and of its abstract bases is known (no package base, no
//! custom field, no `add_to_class`); attributes are compared only when both sides are literals.
//! `PREFLIGHT_MIGRATIONS=1` lists on stderr the models not judged, and why.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use rayon::prelude::*;

use crate::django::fields::{default_max_length, DJANGO_FIELDS};
use crate::django::migration_state::{build, normalize_together, AppState, ModelState, ALTER_OPTION_KEYS};
use crate::django::models::{
    add_file_with, is_candidate, is_models_module, FieldCall, Imports, Lit, Model, ModelGraph, Py,
};
use crate::finding::{Finding, Level};
use crate::project::{Needs, Project};
use crate::registry::{ProjectSink, Rule};
use crate::django::models::top_classes;
use crate::setup::read_rel;
use crate::source::SourceFile;

pub(crate) struct DjangoMigrationMissing;

/// Class-level calls that are not migrated fields (private fields, descriptors).
const NOT_FIELDS: &[&str] = &["GenericForeignKey", "GenericRelation", "property", "cached_property", "staticmethod"];

/// The Django field class a code callee names (`models.CharField` with `from django.db import
/// models`, `CharField` imported from `django.db.models`), or `None`.
fn django_class<'c>(callee: &'c str, imports: &Imports) -> Option<&'c str> {
    let (module, class) = match callee.rsplit_once('.') {
        Some((m, c)) => (m, c),
        None => ("", callee),
    };
    let ok = match module {
        "" => imports.get(class).is_some_and(|m| m == "django.db.models" || m == "django.db.models.fields"),
        "django.db.models" => true,
        m if !m.contains('.') => {
            imports.get(m).is_some_and(|from| from == "django.db" || from == "django.contrib.gis.db")
        }
        _ => false,
    };
    (ok && DJANGO_FIELDS.contains(&class)).then_some(class)
}

/// The Django field class a migration's callee names (`models.CharField`).
fn state_class(call: &FieldCall) -> Option<&str> {
    let class = call.class();
    let module = call.callee.rsplit_once('.').map_or("", |(m, _)| m);
    (matches!(module, "models" | "django.db.models") && DJANGO_FIELDS.contains(&class)).then_some(class)
}

fn is_manager(call: &FieldCall) -> bool {
    let c = call.class();
    (c.ends_with("Manager") && c != "TaggableManager") || c == "as_manager" || call.callee.contains("from_queryset")
}

/// One field as the code declares it.
struct CodeField {
    call: FieldCall,
    /// The Django class it is, when it is one.
    django: Option<&'static str>,
    /// Where to report: the models module and the statement's span (an inherited field is
    /// reported at the class name).
    span: Option<(usize, usize)>,
}

/// What the code says about one model, with its abstract bases folded in.
struct CodeModel {
    fields: BTreeMap<String, CodeField>,
    /// Why fields missing from the code cannot be told apart from fields a base adds.
    incomplete: Option<String>,
    managed: Option<bool>,
    proxy: Option<bool>,
}

fn lit_bool(l: Option<&Lit>, default: bool) -> Option<bool> {
    match l {
        None => Some(default),
        Some(Lit::Bool(b)) => Some(*b),
        Some(_) => None,
    }
}

/// Model bases of Django and common packages (a class deriving from one is a Django model).
const PACKAGE_MODEL_BASES: &[&str] = &[
    "AbstractUser",
    "AbstractBaseUser",
    "PermissionsMixin",
    "MPTTModel",
    "ClusterableModel",
    "PolymorphicModel",
    "TimeStampedModel",
    "Page",
];

struct Ctx<'a> {
    graph: &'a ModelGraph,
    /// App states by label (labels two folders share are left out).
    by_label: HashMap<&'a str, &'a AppState>,
    /// Model class names passed to `add_to_class` somewhere; `*` when a receiver is not a name.
    added_to: &'a HashSet<String>,
    /// The options `AlterModelOptions` compares: Django's, less those the project removes
    /// (`AlterModelOptions.ALTER_OPTION_KEYS.remove("verbose_name")`); none when it changes
    /// them otherwise.
    alter_keys: Vec<&'static str>,
    /// The project replaces `Field.deconstruct` (NetBox drops `ConfigItem` defaults): what
    /// Django compares of a field is not known, so only its class is.
    deconstruct_patched: bool,
    /// Names of the project's plain classes (mixins): no base but `object`, no `Meta`, no
    /// metaclass, and no other class of that name.
    plain: HashSet<String>,
}

impl Ctx<'_> {
    fn base_key(&self, m: &Model, base: &str) -> Option<String> {
        self.graph.resolve_model(base, &m.dir, &m.imports)
    }

    /// Whether the class is a Django model: a base is `Model`, a known model base of Django or
    /// a package, or a project class that is one (pydantic's `BaseModel` is not).
    fn rooted(&self, m: &Model, depth: usize) -> bool {
        depth < 8
            && m.bases.iter().any(|b| {
                b == "Model"
                    || PACKAGE_MODEL_BASES.contains(&b.as_str())
                    || self.base_key(m, b).and_then(|k| self.graph.model(&k)).is_some_and(|bm| self.rooted(bm, depth + 1))
            })
    }

    /// The model a relation in the migrations of `app` points at, after the renames its app
    /// recorded, when that model exists in the final state: (label, lower-cased name).
    fn state_target(&self, l: Option<&Lit>, app: &AppState) -> Option<(String, String)> {
        let Lit::Str(t) = l? else { return None };
        let (label, mut model) = match t.split_once('.') {
            Some((l, m)) => (l.to_string(), m.to_lowercase()),
            None if t == "self" => return None,
            None => (app.label.clone(), t.to_lowercase()),
        };
        let target = self.by_label.get(label.as_str())?;
        // A name that was renamed away and is now another model's (`Exercise` → `Translation`,
        // then `ExerciseBase` → `Exercise`) means either, by when it was written: not decided.
        if target.renames.iter().any(|(old, _)| *old == model) && target.models.contains_key(&model) {
            return None;
        }
        for (old, new) in &target.renames {
            if *old == model {
                model = new.clone();
            }
        }
        (target.unknown.is_none() && target.models.contains_key(&model)).then_some((label, model))
    }

    /// The model's `Meta.db_table` as written (`Some(None)`: not set, the default), when the
    /// source decides it: its own Meta says, or it has a Meta of its own without bases, or no
    /// Meta and no base but `Model` (an abstract base's Meta would be inherited).
    fn code_table(&self, m: &Model) -> Option<Option<String>> {
        match m.facts.meta_value("db_table") {
            Some(Lit::Str(t)) => return Some(Some(t.clone())),
            Some(_) => return None,
            None => {}
        }
        let plain = if m.facts.has_meta { m.facts.meta_bases.is_empty() } else { m.bases.iter().all(|b| b == "Model") };
        (plain && !m.facts.meta_opaque).then_some(None)
    }

    fn is_abstract(m: &Model) -> Option<bool> {
        lit_bool(m.facts.meta_value("abstract"), false)
    }

    /// A Meta option as in effect for `m`: its own Meta's, else (without a Meta of its own) an
    /// abstract base's, else the default; `None` when unknown.
    fn meta_option(&self, m: &Model, k: &str, default: bool, depth: usize) -> Option<bool> {
        if depth > 8 {
            return None;
        }
        if let Some(v) = m.facts.meta_value(k) {
            return lit_bool(Some(v), default);
        }
        if m.facts.meta_opaque {
            return None;
        }
        // `class Meta(Base.Meta)` inherits Base's options; no Meta at all inherits the first
        // abstract base's.
        let from: Vec<String> = if m.facts.has_meta {
            let mut v = Vec::new();
            for b in &m.facts.meta_bases {
                let owner = b.strip_suffix(".Meta")?;
                v.push(owner.rsplit('.').next().unwrap_or(owner).to_string());
            }
            v
        } else {
            m.bases.clone()
        };
        for b in from {
            if b == "Model" {
                continue;
            }
            let Some(key) = self.base_key(m, &b) else {
                // A package base's Meta: only a Meta of our own with no bases is sure.
                if m.facts.has_meta {
                    return None;
                }
                continue;
            };
            let bm = self.graph.model(&key)?;
            if m.facts.has_meta || Self::is_abstract(bm) == Some(true) {
                return self.meta_option(bm, k, default, depth + 1);
            }
        }
        Some(default)
    }

    fn code_model(&self, m: &Model) -> CodeModel {
        let mut out = CodeModel { fields: BTreeMap::new(), incomplete: None, managed: None, proxy: None };
        out.managed = self.meta_option(m, "managed", true, 0);
        out.proxy = self.meta_option(m, "proxy", false, 0);
        self.fold(m, &mut out, true, 0);
        if self.added_to.contains(&m.name) || self.added_to.contains("*") {
            out.incomplete.get_or_insert_with(|| {
                "`add_to_class` or a registration (django-modeltranslation) adds attributes to it".to_string()
            });
        }
        out
    }

    /// Folds `m`'s fields into `out`: abstract bases first, then its own (which override).
    fn fold(&self, m: &Model, out: &mut CodeModel, own: bool, depth: usize) {
        if depth > 8 {
            out.incomplete.get_or_insert_with(|| "its bases nest too deep".to_string());
            return;
        }
        for b in m.bases.iter().rev() {
            if b == "Model" {
                continue;
            }
            match self.base_key(m, b).and_then(|k| self.graph.model(&k)) {
                Some(bm) if Self::is_abstract(bm) == Some(true) => self.fold(bm, out, false, depth + 1),
                Some(bm) if Self::is_abstract(bm).is_none() => {
                    out.incomplete.get_or_insert_with(|| format!("base `{b}` has a computed `abstract`"));
                }
                // A concrete project model: multi-table inheritance, its fields stay its own.
                Some(_) => {}
                None => {
                    out.incomplete.get_or_insert_with(|| format!("base `{b}` is not a model of the project"));
                }
            }
        }
        if let Some(crate::django::models::Opaque(why)) = m.facts.opaque {
            out.incomplete.get_or_insert_with(|| format!("`{}` has {why}", m.name));
        }
        for (name, call, span) in &m.facts.calls {
            let django = django_class(&call.callee, &m.imports).and_then(|c| DJANGO_FIELDS.iter().find(|d| **d == c).copied());
            if django.is_none() {
                if NOT_FIELDS.contains(&call.class()) || is_manager(call) {
                    out.fields.remove(name);
                    continue;
                }
                out.incomplete.get_or_insert_with(|| format!("`{}.{name}` is a `{}`, not one of Django's fields", m.name, call.callee));
            }
            let span = own.then_some(*span);
            out.fields.insert(name.clone(), CodeField { call: call.clone(), django, span });
        }
        for (name, _) in &m.facts.others {
            out.fields.remove(name);
        }
    }
}

/// The model name a relation target names (`"shop.Order"`, `Order`, `"self"`), lower-cased;
/// `None` for the swappable user model or anything computed.
fn target_model(l: Option<&Lit>, own: &str) -> Option<String> {
    let t = match l? {
        Lit::Str(s) => s.clone(),
        Lit::Name(n) if !n.contains("AUTH_USER_MODEL") => n.rsplit('.').next().unwrap_or(n).to_string(),
        _ => return None,
    };
    if t == "self" {
        return Some(own.to_lowercase());
    }
    Some(t.rsplit('.').next().unwrap_or(&t).to_lowercase())
}

/// The `db_table` the migrations give a model (`Some(None)`: the default); `None` when computed.
fn table_of(state: &ModelState) -> Option<Option<String>> {
    match state.option("db_table") {
        None => Some(None),
        Some(Lit::Str(t)) => Some(Some(t.clone())),
        Some(_) => None,
    }
}

/// What differs between a code field and its state, for the attributes compared; empty when
/// nothing (or nothing decidable) does.
fn differences(ctx: &Ctx<'_>, code: &CodeField, state: &FieldCall, own: &str, app: &AppState) -> Vec<String> {
    let mut out = Vec::new();
    let Some(class) = code.django else { return out };
    let Some(sclass) = state_class(state) else { return out };
    if class != sclass {
        out.push(format!("field class `{class}` here, `{sclass}` in the migrations"));
        return out;
    }
    if code.call.splat || state.splat || ctx.deconstruct_patched {
        return out;
    }
    let both = |k: &str, default: bool| Some((lit_bool(code.call.kwarg(k), default)?, lit_bool(state.kwarg(k), default)?));
    if class != "ManyToManyField" {
        if let Some((a, b)) = both("null", false).filter(|(a, b)| a != b) {
            out.push(format!("null={} here, null={} in the migrations", py_bool(a), py_bool(b)));
        }
    }
    if !matches!(class, "OneToOneField" | "ManyToManyField") {
        if let Some((a, b)) = both("unique", false).filter(|(a, b)| a != b) {
            out.push(format!("unique={} here, unique={} in the migrations", py_bool(a), py_bool(b)));
        }
    }
    if class != "ManyToManyField" {
        // `ForeignKey`, `OneToOneField` and `SlugField` are indexed unless told otherwise.
        let indexed = matches!(class, "ForeignKey" | "OneToOneField" | "SlugField");
        if let Some((a, b)) = both("db_index", indexed).filter(|(a, b)| a != b) {
            out.push(format!("db_index={} here, db_index={} in the migrations", py_bool(a), py_bool(b)));
        }
        if let Some(d) = default_difference(code.call.kwarg("default"), state.kwarg("default")) {
            out.push(d);
        }
    }
    if let Some(default) = default_max_length(class) {
        let len = |c: &FieldCall| match c.kwarg("max_length") {
            None => Some(default),
            Some(Lit::Int(n)) => Some(Some(*n)),
            Some(Lit::None) => Some(None),
            Some(_) => None,
        };
        if let (Some(a), Some(b)) = (len(&code.call), len(state)) {
            if a != b {
                let show = |v: Option<i64>| v.map_or("None".to_string(), |n| n.to_string());
                out.push(format!("max_length={} here, max_length={} in the migrations", show(a), show(b)));
            }
        }
    }
    if matches!(class, "ForeignKey" | "OneToOneField" | "ManyToManyField") {
        let to = |c: &FieldCall| c.kwarg("to").or(c.pos.first()).cloned();
        let code_to = to(&code.call);
        let code_label = match &code_to {
            Some(Lit::Str(s)) => s.split_once('.').map(|(l, _)| l.to_string()),
            _ => None,
        };
        if let (Some(a), Some((label, b))) = (target_model(code_to.as_ref(), own), ctx.state_target(to(state).as_ref(), app)) {
            if a != b || code_label.is_some_and(|l| !l.eq_ignore_ascii_case(&label)) {
                out.push(format!("a relation to `{a}` here, to `{label}.{b}` in the migrations"));
            }
        }
    }
    out
}

/// How a field's `default` differs between the code and the migrations: one has a default
/// and the other none (any value, even a call, is a default), or both are scalar literals that
/// Python would not find equal (`0 == False`); `None` when they agree or cannot be compared.
fn default_difference(code: Option<&Lit>, state: Option<&Lit>) -> Option<String> {
    match (code, state) {
        (None, None) => None,
        (Some(_), None) => Some("a default here, none in the migrations".to_string()),
        (None, Some(_)) => Some("no default here, a default in the migrations".to_string()),
        (Some(a), Some(b)) => {
            let scalar = |l: &Lit| match l {
                Lit::Bool(b) => Some(Lit::Int(i64::from(*b))),
                Lit::Int(_) | Lit::Str(_) | Lit::None => Some(l.clone()),
                Lit::Name(_) | Lit::Other => None,
            };
            let (x, y) = (scalar(a)?, scalar(b)?);
            (x != y).then(|| format!("default={} here, default={} in the migrations", show_lit(a), show_lit(b)))
        }
    }
}

/// A scalar literal as Python writes it.
fn show_lit(l: &Lit) -> String {
    match l {
        Lit::Bool(b) => py_bool(*b).to_string(),
        Lit::None => "None".to_string(),
        Lit::Int(n) => n.to_string(),
        Lit::Str(s) => format!("{s:?}"),
        Lit::Name(n) => n.clone(),
        Lit::Other => "…".to_string(),
    }
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// The app folder whose migrations hold a model filed under `dir`: the nearest folder at or
/// above it with migrations.
fn app_of<'s>(dir: &str, states: &'s BTreeMap<String, AppState>) -> Option<&'s AppState> {
    let mut d = dir;
    loop {
        if let Some(s) = states.get(d) {
            return Some(s);
        }
        d = d.rsplit_once('/')?.0;
    }
}

/// A finding to report: where (a span in the models module), at which level, what.
type Found = (Option<(usize, usize)>, Level, String);

enum Verdict {
    /// What differs, and why the Meta options could not be compared (when they could not).
    Findings(Vec<Found>, Option<String>),
    Unjudged(String),
}

fn judge(ctx: &Ctx<'_>, m: &Model, app: &AppState) -> Verdict {
    let how = format!("(last: {}): run `python manage.py makemigrations {}`", app.last, app.label);
    if let Some(label) = m.facts.meta_value("app_label") {
        if *label != Lit::Str(app.label.clone()) {
            return Verdict::Unjudged(format!("its Meta.app_label is not `{}`", app.label));
        }
    }
    if let Some(why) = &app.unknown {
        return Verdict::Unjudged(format!("the migrations of `{}` hold {why}", app.label));
    }
    let code = ctx.code_model(m);
    let (Some(managed), Some(proxy)) = (code.managed, code.proxy) else {
        return Verdict::Unjudged("its Meta `managed` or `proxy` is not known".to_string());
    };
    let name_at = Some(m.facts.name_span);
    let Some(state) = app.models.get(&m.name.to_lowercase()) else {
        return Verdict::Findings(
            vec![(
                name_at,
            Level::Error,
            format!("model `{}` is not in the migrations of app `{}` {how}", m.name, app.label),
            )],
            None,
        );
    };
    if let Some(why) = &state.unknown {
        return Verdict::Unjudged(format!("its migrations hold {why}"));
    }
    let s_managed = lit_bool(state.option("managed"), true);
    let s_proxy = lit_bool(state.option("proxy"), false);
    // Django compares the fields, table and schema options of models that are managed and
    // concrete on both sides; the other options of every model.
    let schema = managed && !proxy && s_managed == Some(true) && s_proxy == Some(false);
    let mut found = Vec::new();
    if schema {
        found = compare_fields(ctx, m, &code, state, app, &how);
        if let Some((here, there)) = ctx.code_table(m).zip(table_of(state)).filter(|(a, b)| a != b) {
            let show = |t: Option<String>| t.map_or("the default".to_string(), |t| format!("`{t}`"));
            found.push((
                name_at,
                Level::Warning,
                format!(
                    "model `{}` has db_table {} here, {} in the migrations of app `{}` {how}",
                    m.name,
                    show(here),
                    show(there),
                    app.label
                ),
            ));
        }
    }
    let meta = ctx.bases_known(m, 0).then(|| ctx.effective_meta(m, 0)).flatten();
    let options = match meta {
        None if !ctx.bases_known(m, 0) => {
            Err("a base up the chain is not a class of the project (its metaclass may add options)".to_string())
        }
        None => Err("its Meta cannot be read in full (statements in it, a Meta base not known)".to_string()),
        Some(meta) => option_differences(&meta, state, &app.label, &m.name, schema, &ctx.alter_keys),
    };
    let options_why = match options {
        Ok(d) if !d.is_empty() => {
            found.push((
                name_at,
                Level::Warning,
                format!(
                    "model `{}` has Meta options that differ from the migrations of app `{}`: {} {how}",
                    m.name,
                    app.label,
                    d.join("; ")
                ),
            ));
            None
        }
        Ok(_) => None,
        Err(why) => Some(why),
    };
    Verdict::Findings(found, options_why)
}

fn compare_fields(
    ctx: &Ctx<'_>,
    m: &Model,
    code: &CodeModel,
    state: &ModelState,
    app: &AppState,
    how: &str,
) -> Vec<Found> {
    let mut out = Vec::new();
    let name_at = Some(m.facts.name_span);
    for (name, f) in &code.fields {
        let at = f.span.or(name_at);
        match state.field(name) {
            None if f.django.is_some() => out.push((
                at,
                Level::Error,
                format!("`{}.{name}` is not in the migrations of app `{}` {how}", m.name, app.label),
            )),
            None => {}
            Some(s) => {
                let diffs = differences(ctx, f, s, &m.name, app);
                if !diffs.is_empty() {
                    out.push((
                        at,
                        Level::Warning,
                        format!(
                            "`{}.{name}` differs from the migrations of app `{}`: {} {how}",
                            m.name,
                            app.label,
                            diffs.join("; ")
                        ),
                    ));
                }
            }
        }
    }
    if code.incomplete.is_none() {
        for (name, s) in &state.fields {
            let auto = s.kwarg("auto_created") == Some(&Lit::Bool(true));
            if auto || code.fields.contains_key(name) {
                continue;
            }
            out.push((
                name_at,
                Level::Error,
                format!(
                    "`{}.{name}` is in the migrations of app `{}` but no longer in the model {how}",
                    m.name, app.label
                ),
            ));
        }
    }
    out
}

/// Whether a module of a `models/` package is imported by the package's `__init__.py` (Django
/// imports only `app.models`), and a module of a subpackage by its own `__init__.py` and so on up;
/// a `models.py` or the package's `__init__.py` itself always is.
fn imported_by_package(project: &Project, rel: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    if parts.last().is_some_and(|f| *f == "models.py") {
        return true;
    }
    let Some(top) = parts.iter().rposition(|p| *p == "models") else { return true };
    (top + 1..parts.len()).all(|i| {
        let name = parts[i].trim_end_matches(".py");
        if name == "__init__" {
            return true;
        }
        let init = format!("{}/__init__.py", parts[..i].join("/"));
        read_rel(project, &init).is_some_and(|t| {
            t.contains("import *")
                || regex::Regex::new(&format!(r"\b{}\b", regex::escape(name))).is_ok_and(|re| re.is_match(&t))
        })
    })
}

/// Whether a folder from `dir` up to (not including) the app folder `app` holds an `apps.py`: an
/// app of its own, whose models the app's migrations do not hold.
fn app_between(project: &Project, dir: &str, app: &str) -> bool {
    let mut d = dir;
    while d != app && !d.is_empty() {
        let apps = format!("{d}/apps.py");
        if project.walked.iter().any(|(w, _)| *w == apps) {
            return true;
        }
        d = d.rsplit_once('/').map_or("", |(p, _)| p);
    }
    false
}

/// Whether a text assigns a field class's `deconstruct` (`models.Field.deconstruct = mine`).
fn patches_deconstruct(text: &str) -> bool {
    text.contains(".deconstruct") && text.lines().any(|l| {
        let l = l.trim_start();
        !l.starts_with('#') && l.split_once('=').is_some_and(|(lhs, rhs)| {
            !rhs.starts_with('=') && lhs.trim_end().ends_with(".deconstruct") && !lhs.contains(['(', '['])
        })
    })
}

/// Django's `ALTER_OPTION_KEYS` as the project leaves them: a key it removes
/// (`AlterModelOptions.ALTER_OPTION_KEYS.remove("verbose_name")`, NetBox) is not compared; any
/// other use of the list leaves none compared.
fn alter_option_keys<'t>(texts: impl Iterator<Item = &'t str>) -> Vec<&'static str> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| regex::Regex::new(r#"ALTER_OPTION_KEYS\.remove\(\s*["'](\w+)["']\s*\)"#).unwrap());
    let mut keys: Vec<&'static str> = ALTER_OPTION_KEYS.to_vec();
    for t in texts {
        let uses = t.matches("ALTER_OPTION_KEYS").count();
        let removes: Vec<String> = re.captures_iter(t).map(|c| c[1].to_string()).collect();
        if removes.len() != uses {
            return Vec::new();
        }
        keys.retain(|k| !removes.iter().any(|r| r == k));
    }
    keys
}

/// The app labels `MIGRATION_MODULES` names (their migrations live elsewhere, or nowhere with
/// `None`), from `MIGRATION_MODULES = {"label": ...}` dict literals; `None` (every app) when
/// the setting is used any other way. The resolved settings hold no dict values, so the text
/// of every module is read.
fn migration_modules<'t>(texts: impl Iterator<Item = &'t str>) -> Option<HashSet<String>> {
    let mut out = HashSet::new();
    for t in texts.filter(|t| t.contains("MIGRATION_MODULES")) {
        let tree = crate::parse::parse(crate::classify::Lang::Python, t).ok()?;
        let (mut literal, mut uses) = (0, 0);
        let mut stack = vec![tree.root_node()];
        while let Some(n) = stack.pop() {
            let mut c = n.walk();
            stack.extend(n.named_children(&mut c));
            if n.kind() == "identifier" && crate::python::syntax::text(n, t) == "MIGRATION_MODULES" {
                uses += 1;
            }
            if n.kind() != "assignment" {
                continue;
            }
            let (Some(l), Some(r)) = (n.child_by_field_name("left"), n.child_by_field_name("right")) else { continue };
            if crate::python::syntax::text(l, t) != "MIGRATION_MODULES" {
                continue;
            }
            let Py::Dict(pairs) = Py::of(r, t) else { return None };
            for (k, _) in pairs {
                let Py::Lit(Lit::Str(k)) = k else { return None };
                out.insert(k);
            }
            literal += 1;
        }
        // Any other use (in code, not comments): `MIGRATION_MODULES.update(...)`, a class.
        if uses != literal {
            return None;
        }
    }
    Some(out)
}

/// Models a django-modeltranslation module registers (`translator.register(Event, ...)`,
/// `@register(Event)`): it adds a field per language to them. Anything but names: `*`.
fn translation_registered(text: &str, out: &mut HashSet<String>) {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| regex::Regex::new(r"\bregister\(\s*([^,)]*)").unwrap());
    for c in re.captures_iter(text) {
        let arg = c[1].trim().trim_start_matches(['[', '(']).trim_end_matches([']', ')']);
        for name in arg.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let last = name.rsplit('.').next().unwrap_or(name);
            if last.chars().all(|ch| ch.is_alphanumeric() || ch == '_') {
                out.insert(last.to_string());
            } else {
                out.insert("*".to_string());
            }
        }
    }
}

/// Receivers of `X.add_to_class(` in `text`.
fn add_to_class_receivers(text: &str, out: &mut HashSet<String>) {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| regex::Regex::new(r"([\w.\)\]]*)\.add_to_class\(").unwrap());
    for c in re.captures_iter(text) {
        let r = &c[1];
        let last = r.rsplit('.').next().unwrap_or(r);
        if last.is_empty() || !last.chars().all(|ch| ch.is_alphanumeric() || ch == '_') {
            out.insert("*".to_string());
        } else {
            out.insert(last.to_string());
        }
    }
}

impl Rule for DjangoMigrationMissing {
    fn id(&self) -> &'static str {
        "django-migration-missing"
    }

    fn needs(&self) -> Needs {
        Needs { model_sources: true, ..Needs::NONE }
    }

    fn check_project(&self, project: &Project, sink: &mut ProjectSink) {
        use crate::classify::Lang;
        let python = |c: &crate::classify::FileClass| c.lang == Lang::Python && !c.roles.test && !c.roles.vendored;
        // Findings land on models and on the modules that define them: with files named (a
        // pre-commit hook) and none of them such a module, the history is not replayed.
        if project.targets.as_ref().is_some_and(|t| {
            !t.iter().any(|rel| {
                let name = rel.rsplit('/').next().unwrap_or(rel);
                name == "models.py"
                    || rel.ends_with("/models/__init__.py")
                    || (project.sources.contains_key(rel)
                        && project
                            .walked
                            .binary_search_by(|(w, _)| w.as_str().cmp(rel))
                            .is_ok_and(|i| !project.walked[i].1.roles.migration))
            })
        }) {
            return;
        }
        let migration_files: Vec<(String, String)> = project
            .walked
            .par_iter()
            .filter(|(rel, c)| python(c) && c.roles.migration && !rel.ends_with("__init__.py"))
            // A migration that cannot be read (too large) stands as one that does not parse: its
            // app is not judged.
            .map(|(rel, _)| (rel.clone(), read_rel(project, rel).unwrap_or_else(|| "class Migration(:".to_string())))
            .collect();
        if migration_files.is_empty() {
            return;
        }
        let states = build(&migration_files);
        let root = project.root.clone().unwrap_or_default();
        // Model modules, and the other modules that patch what `makemigrations` compares.
        type Read = (Option<Arc<SourceFile>>, Option<String>);
        let (read, classes): (Vec<Read>, Vec<Vec<(String, bool)>>) = project
            .walked
            .par_iter()
            .filter(|(_, c)| python(c) && !c.roles.migration)
            .filter_map(|(rel, c)| {
                // A module that can define no model (not in the model sources) is asked only for
                // its classes and whether it patches what makemigrations compares: a change that
                // keeps those answers keeps this rule's findings (the run cache).
                if !project.sources.contains_key(rel) && !project.by_rel.contains_key(rel) {
                    let (classes, patches) = project.read_outline(&root.join(rel), crate::setup::MAX_EVIDENCE_BYTES)?;
                    if !patches {
                        return Some(((None, None), classes));
                    }
                }
                let text = read_rel(project, rel)?;
                let classes = top_classes(&text);
                if is_candidate(rel, &text, false) || text.contains(".add_to_class(") {
                    Some(((Some(Arc::new(SourceFile::new(root.join(rel), rel.clone(), *c, text))), None), classes))
                } else {
                    crate::django::models::MIGRATION_PATCH_WORDS
                        .iter()
                        .any(|k| text.contains(k))
                        .then_some((None, Some(text)))
                        .or(Some((None, None)))
                        .map(|r| (r, classes))
                }
            })
            .unzip();
        let (sources, others): (Vec<Option<Arc<SourceFile>>>, Vec<Option<String>>) = read.into_iter().unzip();
        let mut plain = HashSet::new();
        let mut not_plain = HashSet::new();
        for (name, is_plain) in classes.into_iter().flatten() {
            if is_plain {
                plain.insert(name);
            } else {
                not_plain.insert(name);
            }
        }
        plain.retain(|n| !not_plain.contains(n));
        let sources: Vec<Arc<SourceFile>> = sources.into_iter().flatten().collect();
        let others: Vec<String> = others.into_iter().flatten().collect();
        let parts: Vec<ModelGraph> = sources
            .par_iter()
            .map(|f| {
                let mut g = ModelGraph::default();
                f.with_tree(|t| add_file_with(&mut g, f, t, true));
                g
            })
            .collect();
        let mut graph = ModelGraph::default();
        for p in parts {
            graph.absorb(p);
        }
        graph.finish();
        let mut added_to = HashSet::new();
        for t in sources.iter().map(|f| f.text.as_str()).chain(others.iter().map(String::as_str)) {
            add_to_class_receivers(t, &mut added_to);
            if t.contains("modeltranslation") {
                translation_registered(t, &mut added_to);
            }
        }
        let by_rel: HashMap<&str, &Arc<SourceFile>> = sources.iter().map(|f| (f.rel.as_str(), f)).collect();
        // Modules with a syntax error: their classes may be read in part.
        let broken: HashSet<&str> = sources
            .iter()
            .filter(|f| f.tree().is_none_or(|t| t.root_node().has_error()))
            .map(|f| f.rel.as_str())
            .collect();
        let mut by_label: HashMap<&str, &AppState> = HashMap::new();
        let mut shared = HashSet::new();
        for s in states.values() {
            if by_label.insert(s.label.as_str(), s).is_some() {
                shared.insert(s.label.as_str());
            }
        }
        by_label.retain(|l, _| !shared.contains(l));
        let alter_keys = alter_option_keys(sources.iter().map(|f| f.text.as_str()).chain(others.iter().map(String::as_str)));
        let deconstruct_patched = sources
            .iter()
            .map(|f| f.text.as_str())
            .chain(others.iter().map(String::as_str))
            .any(patches_deconstruct);
        let ctx = Ctx { graph: &graph, by_label, added_to: &added_to, alter_keys, deconstruct_patched, plain };
        let moved = migration_modules(sources.iter().map(|f| f.text.as_str()).chain(others.iter().map(String::as_str)));
        let moved_away = |label: &str| moved.as_ref().is_none_or(|m| m.contains(label));
        let mut keys: Vec<&String> = graph.models.keys().collect();
        keys.sort();
        let mut unjudged = Vec::new();
        let mut options_unjudged = Vec::new();
        let mut judged = 0;
        // Per app folder: whether every model class of the app was judged with all its
        // attributes known (then a model of the migrations no class defines was deleted).
        let mut app_known: BTreeMap<&str, bool> = BTreeMap::new();
        for key in keys {
            let m = &graph.models[key];
            let Some(app) = app_of(&m.dir, &states) else { continue };
            let complete = ctx.code_model(m).incomplete.is_none();
            let known = app_known.entry(app.dir.as_str()).or_insert(true);
            *known &= complete && Ctx::is_abstract(m).is_some();
            if Ctx::is_abstract(m) == Some(true) {
                continue;
            }
            let why = if broken.contains(m.facts.rel.as_str()) {
                Some("its module has a syntax error")
            } else if !is_models_module(&m.facts.rel) {
                // Django sees a model only when its module is imported: a models module is.
                Some("it is defined outside a models module")
            } else if !imported_by_package(project, &m.facts.rel) {
                Some("its module is not imported by the `__init__.py` of its models package")
            } else if app_between(project, &m.dir, &app.dir) {
                Some("its folder is an app of its own (apps.py) without migrations")
            } else if !ctx.rooted(m, 0) {
                Some("no base is known to be a Django model")
            } else if Ctx::is_abstract(m).is_none() {
                Some("its Meta `abstract` is not a literal")
            } else if moved_away(&app.label) {
                Some("MIGRATION_MODULES may point its app at other migrations")
            } else {
                None
            };
            if let Some(why) = why {
                app_known.insert(app.dir.as_str(), false);
                unjudged.push((key.clone(), why.to_string()));
                continue;
            }
            let verdict = judge(&ctx, m, app);
            judged += usize::from(matches!(verdict, Verdict::Findings(..)));
            match verdict {
                Verdict::Unjudged(why) => {
                    app_known.insert(app.dir.as_str(), false);
                    unjudged.push((key.clone(), why));
                }
                Verdict::Findings(found, options_why) => {
                    if let Some(why) = options_why {
                        options_unjudged.push((key.clone(), why));
                    }
                    let Some(file) = by_rel.get(m.facts.rel.as_str()) else { continue };
                    for (at, level, msg) in found {
                        let (s, e) = at.unwrap_or(m.facts.name_span);
                        let mut f = Finding::at(sink.rule, file, s, e, msg);
                        f.level = level;
                        sink.out.push(f);
                    }
                }
            }
        }
        let names: HashSet<String> = graph.models.values().map(|m| m.name.to_lowercase()).collect();
        for (dir, known) in app_known {
            let app = &states[dir];
            if !known || app.unknown.is_some() || moved_away(&app.label) {
                continue;
            }
            let gone: Vec<&ModelState> =
                app.models.iter().filter(|(k, m)| !names.contains(*k) && m.unknown.is_none()).map(|(_, m)| m).collect();
            if gone.is_empty() {
                continue;
            }
            // A class of that name anywhere under the app folder (a module the graph did not
            // read) may still define it.
            let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
            let texts: Option<Vec<String>> = project
                .walked
                .iter()
                .filter(|(rel, c)| python(c) && !c.roles.migration && rel.starts_with(&prefix))
                .map(|(rel, _)| read_rel(project, rel).filter(|_| !broken.contains(rel.as_str())))
                .collect();
            // A module that cannot be read, or read in full, may define it.
            let Some(texts) = texts else { continue };
            let models_rel = [format!("{prefix}models.py"), format!("{prefix}models/__init__.py")]
                .into_iter()
                .find(|r| project.walked.iter().any(|(w, _)| w == r));
            let Some(models_rel) = models_rel else { continue };
            for m in gone {
                let class = regex::Regex::new(&format!(r"(?mi)^\s*class\s+{}\b", regex::escape(&m.name))).unwrap();
                if texts.iter().any(|t| class.is_match(t)) {
                    continue;
                }
                sink.report_file(
                    &models_rel,
                    format!(
                        "model `{}` is in the migrations of app `{}` but no class defines it any more (last: {}): \
                         run `python manage.py makemigrations {}`",
                        m.name, app.label, app.last, app.label
                    ),
                );
            }
        }
        if !unjudged.is_empty() {
            let n = unjudged.len();
            sink.notes.push(format!(
                "django-migration-missing compared {judged} model{} with the migrations; {n} other class{} of the \
                 apps {} not judged (a base class from a package, migrations with custom or computed operations, \
                 ...): `PREFLIGHT_MIGRATIONS=1` lists them and why",
                if judged == 1 { "" } else { "s" },
                if n == 1 { "" } else { "es" },
                if n == 1 { "was" } else { "were" }
            ));
        }
        if std::env::var_os("PREFLIGHT_MIGRATIONS").is_some() {
            eprintln!("django-migration-missing: {judged} models judged, {} not judged", unjudged.len());
            for (k, why) in &unjudged {
                eprintln!("  {k}: {why}");
            }
            eprintln!("django-migration-missing: Meta options of {} judged models not compared", options_unjudged.len());
            for (k, why) in &options_unjudged {
                eprintln!("  {k}: {why}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Meta options that produce migrations

/// A Meta as in effect: (name, value) pairs; `None` when the source cannot tell.
type Meta = Vec<(String, Py)>;

impl Ctx<'_> {
    /// The Meta options Django reads for `m` (`Options.original_attrs`): its own `class Meta`
    /// (with what `class Meta(Base.Meta)` inherits), or without one the Meta of the first
    /// abstract base up the bases; never `abstract` inherited. `None` when not decidable (a
    /// Meta with statements, a base from a package).
    fn effective_meta(&self, m: &Model, depth: usize) -> Option<Meta> {
        if depth > 8 || m.facts.meta_opaque {
            return None;
        }
        if !m.facts.has_meta {
            return self.inherited_meta(m, depth + 1).map(Option::unwrap_or_default);
        }
        let mut out: Meta = Vec::new();
        for b in m.facts.meta_bases.iter().filter(|b| *b != "object") {
            let owner = b.strip_suffix(".Meta")?;
            let owner = owner.rsplit('.').next().unwrap_or(owner);
            let bm = self.graph.model(&self.base_key(m, owner)?)?;
            if !bm.facts.has_meta {
                return None;
            }
            for (k, v) in self.effective_meta(bm, depth + 1)? {
                // The first base's attribute wins.
                if k != "abstract" && !out.iter().any(|(n, _)| *n == k) {
                    out.push((k, v));
                }
            }
        }
        for (k, v) in &m.facts.meta_py {
            out.retain(|(n, _)| n != k);
            out.push((k.clone(), v.clone()));
        }
        Some(out)
    }

    /// Whether every base up the chain is `Model` or a class of the project: a package's
    /// model base may add options through its metaclass (django-mptt adds an index).
    fn bases_known(&self, m: &Model, depth: usize) -> bool {
        depth < 8
            && m.bases.iter().all(|b| {
                b == "Model"
                    || self.plain.contains(b.as_str())
                    || self
                        .base_key(m, b)
                        .and_then(|k| self.graph.model(&k))
                        .is_some_and(|bm| self.bases_known(bm, depth + 1))
            })
    }

    /// `getattr(cls, "Meta")` for a class without one: the Meta of the first abstract base
    /// along the bases (a concrete model's Meta is not kept on the class). `Some(None)`: none.
    fn inherited_meta(&self, m: &Model, depth: usize) -> Option<Option<Meta>> {
        if depth > 8 {
            return None;
        }
        for b in &m.bases {
            if b == "Model" || self.plain.contains(b.as_str()) {
                continue;
            }
            let bm = self.graph.model(&self.base_key(m, b)?)?;
            if bm.facts.has_meta && Self::is_abstract(bm)? {
                let mut meta = self.effective_meta(bm, depth + 1)?;
                meta.retain(|(k, _)| k != "abstract");
                return Some(Some(meta));
            }
            if let Some(meta) = self.inherited_meta(bm, depth + 1)? {
                return Some(Some(meta));
            }
        }
        Some(None)
    }
}

/// A value as Python compares it, written out; `None` when not decidable. Lazy translations
/// (`_("Order")`) equal their text; a list is not a tuple.
fn render(v: &Py) -> Option<String> {
    match v {
        Py::Lit(Lit::Str(s)) => Some(format!("{s:?}")),
        Py::Lit(Lit::Int(n)) => Some(n.to_string()),
        Py::Lit(Lit::Bool(b)) => Some(py_bool(*b).to_string()),
        Py::Lit(Lit::None) => Some("None".to_string()),
        // `models.Deferrable.DEFERRED`, however the module is spelled.
        Py::Lit(Lit::Name(n)) => {
            let mut parts = n.rsplit('.');
            let (last, owner) = (parts.next()?, parts.next()?);
            (owner == "Deferrable").then(|| format!("Deferrable.{last}"))
        }
        Py::Lit(_) | Py::Dict(_) => None,
        Py::Seq(open, items) => {
            let inner: Option<Vec<String>> = items.iter().map(render).collect();
            let close = match open {
                '[' => ']',
                '(' => ')',
                _ => '}',
            };
            let mut inner = inner?;
            if *open == '{' {
                inner.sort();
            }
            let comma = if *open == '(' && inner.len() == 1 { "," } else { "" };
            Some(format!("{open}{}{comma}{close}", inner.join(", ")))
        }
        Py::Call { callee, pos, kw, splat: false } if kw.is_empty() => {
            let f = callee.rsplit('.').next().unwrap_or(callee);
            match (f, pos.as_slice()) {
                (
                    "_" | "gettext_lazy" | "gettext" | "ugettext_lazy" | "ugettext" | "gettext_noop" | "_lazy",
                    [s @ Py::Lit(Lit::Str(_))],
                ) => render(s),
                ("pgettext_lazy" | "pgettext", [Py::Lit(Lit::Str(_)), s @ Py::Lit(Lit::Str(_))]) => render(s),
                _ => None,
            }
        }
        Py::Call { .. } => None,
    }
}

/// Keyword arguments whose sequence kind Django normalizes (`Index.fields = list(fields)`,
/// `UniqueConstraint.fields = tuple(fields)`).
const LIST_ARGS: &[&str] = &["fields", "include", "opclasses", "expressions"];

/// An index or constraint call without its name, as `deconstruct()` compares it: the class,
/// positional expressions, keyword arguments other than their defaults; `None` when not
/// decidable.
fn item_content(item: &Py) -> Option<String> {
    let Py::Call { callee, pos, kw, splat: false } = item else { return None };
    let class = callee.rsplit('.').next().unwrap_or(callee);
    let mut parts = vec![class.to_string()];
    for p in pos {
        parts.push(render(p)?);
    }
    let mut kws: Vec<String> = Vec::new();
    for (k, v) in kw {
        if k == "name" {
            continue;
        }
        let v = match v {
            Py::Lit(Lit::None) => continue,
            Py::Seq(_, items) if items.is_empty() => continue,
            Py::Seq(_, items) if LIST_ARGS.contains(&k.as_str()) => render(&Py::Seq('[', items.clone()))?,
            v => render(v)?,
        };
        kws.push(format!("{k}={v}"));
    }
    kws.sort();
    parts.extend(kws);
    Some(parts.join("|"))
}

/// An item's name, with `%(app_label)s` and `%(class)s` filled in; `Some(None)`: unnamed;
/// `None`: computed.
fn item_name(item: &Py, label: &str, class: &str) -> Option<Option<String>> {
    match item.kwarg("name") {
        None => Some(None),
        Some(Py::Lit(Lit::Str(n))) => Some(Some(
            n.replace("%(app_label)s", &label.to_lowercase()).replace("%(class)s", &class.to_lowercase()),
        )),
        Some(_) => None,
    }
}

/// What differs between the model's and the migrations' `indexes` or `constraints` (`what`
/// is `index` or `constraint`); `None` when not decidable. Named items match by name; an
/// unnamed index (Django names it by a hash) matches a migration index of the same content.
fn item_differences(code: &[Py], state: &[Py], what: &str, label: &str, class: &str) -> Option<Vec<String>> {
    let mut theirs: Vec<(String, Option<String>)> = Vec::new();
    for s in state {
        theirs.push((item_name(s, label, class)??, item_content(s)));
    }
    let mut matched = vec![false; theirs.len()];
    let mut out = Vec::new();
    for c in code {
        let content = item_content(c);
        match item_name(c, label, class)? {
            Some(name) => match theirs.iter().position(|(n, _)| *n == name) {
                Some(i) => {
                    matched[i] = true;
                    if let (Some(a), Some(b)) = (&content, &theirs[i].1) {
                        if a != b {
                            out.push(format!("{what} `{name}` differs"));
                        }
                    }
                }
                None => out.push(format!("{what} `{name}` is not in the migrations")),
            },
            None if what == "index" => {
                let content = content?;
                match theirs.iter().position(|(_, c)| c.as_deref() == Some(content.as_str())) {
                    Some(i) => matched[i] = true,
                    None => out.push(format!("an unnamed {what} on {} is not in the migrations", content)),
                }
            }
            None => return None,
        }
    }
    for (i, (name, _)) in theirs.iter().enumerate() {
        if !matched[i] {
            out.push(format!("{what} `{name}` of the migrations is no longer in the model"));
        }
    }
    Some(out)
}

fn items_of(v: Option<&Py>) -> Option<Vec<Py>> {
    match v {
        None => Some(Vec::new()),
        Some(Py::Seq(_, items)) => Some(items.clone()),
        Some(_) => None,
    }
}

/// The Meta options of `m` that differ from its migrations' state: `AlterModelOptions` ones
/// for every model, `unique_together`, `index_together`, `indexes` and `constraints` when
/// `schema` (a managed, concrete model on both sides). `Err`: why they cannot be compared.
fn option_differences(
    meta: &Meta,
    state: &ModelState,
    label: &str,
    class: &str,
    schema: bool,
    alter_keys: &[&str],
) -> Result<Vec<String>, String> {
    let get = |k: &str| meta.iter().find(|(n, _)| n == k).map(|(_, v)| v);
    let mut out = Vec::new();
    let mut changed = Vec::new();
    for k in alter_keys {
        let (a, b) = (get(k), state.option_py(k));
        let show = |v: Option<&Py>| v.map(render);
        match (show(a), show(b)) {
            (Some(None), _) | (_, Some(None)) => return Err(format!("its Meta `{k}` is not a literal")),
            (a, b) if a != b => changed.push(format!("`{k}`")),
            _ => {}
        }
    }
    if !changed.is_empty() {
        out.push(format!("{} (AlterModelOptions)", changed.join(", ")));
    }
    if !schema {
        return Ok(out);
    }
    // `None` and no option are the same to the autodetector; a field name is compared as written.
    let wrt = |v: Option<&Py>| match v {
        None | Some(Py::Lit(Lit::None)) => Some(None),
        Some(Py::Lit(Lit::Str(s))) => Some(Some(s.clone())),
        Some(_) => None,
    };
    match (wrt(get("order_with_respect_to")), wrt(state.option_py("order_with_respect_to"))) {
        (Some(a), Some(b)) if a != b => out.push("`order_with_respect_to` (AlterOrderWithRespectTo)".to_string()),
        (Some(_), Some(_)) => {}
        _ => return Err("its `order_with_respect_to` is not a literal".to_string()),
    }
    for k in ["unique_together", "index_together"] {
        let ours = get(k).map(normalize_together);
        let theirs = state.option_py(k).map(normalize_together);
        let empty = |v: &Option<Py>| v.as_ref().is_none_or(|v| matches!(v, Py::Seq(_, t) if t.is_empty()));
        if [&ours, &theirs].iter().any(|v| matches!(v, Some(Py::Lit(_)))) {
            return Err(format!("its `{k}` is not a literal"));
        }
        // Django 5.1 dropped `index_together` from models: whether one left in the migrations
        // is written away depends on the Django version.
        if k == "index_together" && ours.is_none() && !empty(&theirs) {
            continue;
        }
        if !(empty(&ours) && empty(&theirs)) && ours != theirs {
            out.push(format!("`{k}`"));
        }
    }
    for (k, what) in [("indexes", "index"), ("constraints", "constraint")] {
        let (Some(ours), Some(theirs)) = (items_of(get(k)), items_of(state.option_py(k))) else {
            return Err(format!("its `{k}` are not a literal list"));
        };
        match item_differences(&ours, &theirs, what, label, class) {
            Some(d) => out.extend(d),
            None => return Err(format!("its `{k}` are not all literal")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn django_classes_by_import() {
        let mut imports = Imports::new();
        imports.insert("models".into(), "django.db".into());
        imports.insert("CharField".into(), "django.db.models".into());
        imports.insert("JSONField".into(), "jsonfield".into());
        assert_eq!(django_class("models.CharField", &imports), Some("CharField"));
        assert_eq!(django_class("CharField", &imports), Some("CharField"));
        assert_eq!(django_class("JSONField", &imports), None);
        assert_eq!(django_class("fields.CharField", &imports), None);
        assert_eq!(django_class("models.MoneyField", &imports), None);
    }

    #[test]
    fn deconstruct_patches() {
        assert!(patches_deconstruct("from django.db import models\nmodels.Field.deconstruct = custom_deconstruct\n"));
        assert!(!patches_deconstruct("name, path, args, kwargs = super().deconstruct()\n"));
        assert!(!patches_deconstruct("_deconstruct = models.Field.deconstruct\n"));
        assert!(!patches_deconstruct("# models.Field.deconstruct = x\n"));
        assert!(!patches_deconstruct("if f.deconstruct == x:\n"));
    }

    #[test]
    fn alter_option_keys_the_project_removes() {
        let netbox = "AlterModelOptions.ALTER_OPTION_KEYS.remove('verbose_name')\n\
            AlterModelOptions.ALTER_OPTION_KEYS.remove(\"verbose_name_plural\")\n";
        let keys = alter_option_keys([netbox].into_iter());
        assert_eq!(keys.len(), ALTER_OPTION_KEYS.len() - 2);
        assert!(keys.contains(&"ordering") && !keys.contains(&"verbose_name"));
        assert!(alter_option_keys(["ALTER_OPTION_KEYS.append('x')"].into_iter()).is_empty());
        assert_eq!(alter_option_keys(std::iter::empty()), ALTER_OPTION_KEYS);
    }

    #[test]
    fn migration_modules_names_apps_or_all() {
        let one = "MIGRATION_MODULES = {'shop': 'shop.db_migrations', \"legacy\": None}\n";
        let got = migration_modules([one, "x = 1"].into_iter()).unwrap();
        assert_eq!(got, HashSet::from(["shop".to_string(), "legacy".to_string()]));
        assert!(migration_modules(["MIGRATION_MODULES = DisableMigrations()"].into_iter()).is_none());
        assert!(migration_modules([one, "MIGRATION_MODULES.update(x)"].into_iter()).is_none());
        assert!(migration_modules(["# MIGRATION_MODULES is not set"].into_iter()).is_some());
        assert_eq!(migration_modules(std::iter::empty()), Some(HashSet::new()));
    }

    #[test]
    fn modeltranslation_registrations() {
        let mut out = HashSet::new();
        translation_registered("translator.register(Event, EventOptions)\n@register(Place)\nclass P: pass\n", &mut out);
        assert_eq!(out, HashSet::from(["Event".to_string(), "Place".to_string()]));
        translation_registered("translator.register(get_model('x'), O)", &mut out);
        assert!(out.contains("*"));
    }

    #[test]
    fn plain_classes_are_mixins_without_meta() {
        let text = "class A:\n    x = 1
\nclass B(object):\n    def f(self):\n        pass\n\n\
            class C(models.Model):\n    pass\n\nclass D:\n    class Meta:\n        ordering = []\n";
        let got = top_classes(text);
        let plain: Vec<&str> = got.iter().filter(|(_, p)| *p).map(|(n, _)| n.as_str()).collect();
        assert_eq!(plain, ["A", "B"]);
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn add_to_class_receivers_by_name() {
        let mut out = HashSet::new();
        add_to_class_receivers("User.add_to_class('x', f)\nauth.Group.add_to_class('y', g)", &mut out);
        assert_eq!(out, HashSet::from(["User".to_string(), "Group".to_string()]));
        add_to_class_receivers("get_model().add_to_class('x', f)", &mut out);
        assert!(out.contains("*"));
    }
}
