//! The Django model graph, built in the project pass from every models module: each model's
//! relation fields (forward and the reverse accessors Django creates), its plain fields, its
//! managers; plus the project's manager and queryset classes and DRF serializers. Rules ask it
//! what `obj.attr` is for an instance of a model, and what `Model.objects.<chain>` loads.
//!
//! Everything here errs towards "unknown": a class, manager or method the project does not
//! define is opaque, and an opaque queryset makes the N+1 rule silent.

use std::collections::{HashMap, HashSet};

use tree_sitter::Node;

use crate::django::drf::{LIST_VIEWS, VIEW_HOOKS};
use crate::django::fields::{FK_TYPES, M2M_TYPES, O2O_TYPES};
use crate::python::syntax::{call_args, dotted, string_value, text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RelKind {
    /// ForeignKey: one row through `obj.f`.
    ForeignKey,
    OneToOne,
    /// GenericForeignKey: one row, prefetchable but not select_related-able.
    GenericForeignKey,
    /// The reverse side of a OneToOneField: one row through `obj.f`.
    ReverseOneToOne,
    /// A related manager: many rows through `obj.f.all()`: reverse FK, either side of an M2M,
    /// GenericRelation.
    Manager,
}

impl RelKind {
    pub fn is_single(self) -> bool {
        !matches!(self, RelKind::Manager)
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Relation {
    pub kind: RelKind,
    /// Target model's class name, when known.
    pub target: Option<String>,
    pub null: bool,
    /// Declared on this model (not a reverse accessor); forward M2M fields are the ones a
    /// ModelSerializer turns into `PrimaryKeyRelatedField(many=True)`.
    pub forward: bool,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Model {
    pub name: String,
    /// `dir:Name`, unique across the project (see `class_dir`).
    pub key: String,
    pub dir: String,
    pub imports: std::sync::Arc<Imports>,
    pub app: String,
    pub is_abstract: bool,
    pub bases: Vec<String>,
    pub relations: HashMap<String, Relation>,
    /// Every other attribute the class body names: plain fields, methods, properties.
    pub plain: HashSet<String>,
    /// Manager attribute → manager class expression (callee text, e.g. `BookManager`,
    /// `BookQuerySet.as_manager`).
    pub managers: HashMap<String, String>,
    /// `@property` / `@cached_property` name → the attribute chains its body reads on `self`
    /// (`self.channel.slug` → `["channel", "slug"]`); a property whose body looks at caches
    /// (`hasattr(self, ...)`, `_prefetched_objects_cache`, ...) is left out (unknown).
    pub properties: HashMap<String, Vec<Vec<String>>>,
    /// How many Django field declarations (`*Field(...)`) the class body has.
    django_fields: usize,
    /// Field declarations in source order (name, field type, target expression text, kwargs).
    decls: Vec<FieldDecl>,
    /// The class body as a migration comparison reads it (every field's call, Meta).
    pub facts: ClassFacts,
    /// Plain methods (`def name(self, ...)`) that build a query whenever they run: method name
    /// → the receiver and the method it calls (`("self.items", "select_related")`,
    /// `("Order.objects", "filter")`), from its statements that run unconditionally. The rule
    /// decides whether the receiver is a related manager or a model's manager.
    pub query_methods: HashMap<String, Vec<(String, String)>>,
    /// django-simple-history managers (`history = HistoricalRecords()`): a query per call.
    pub history: HashSet<String>,
    /// `name = SomeClass()` with no arguments, whose class name does not say `Manager`
    /// (`with_translations = ExerciseTranslations()`): a manager when the class is one of the
    /// project's manager or queryset classes (decided in `finish`).
    maybe_managers: Vec<(String, String)>,
}

/// A literal argument as written (`True`, `None`, `42`, `"shop.Order"`, `settings.AUTH_USER_MODEL`),
/// or `Other` for anything computed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Lit {
    Bool(bool),
    None,
    Int(i64),
    Str(String),
    /// A dotted name: a class, a constant, `settings.AUTH_USER_MODEL`.
    Name(String),
    Other,
}

impl Lit {
    pub fn of(node: Node<'_>, src: &str) -> Lit {
        match node.kind() {
            "true" => Lit::Bool(true),
            "false" => Lit::Bool(false),
            "none" => Lit::None,
            "integer" => text(node, src).replace('_', "").parse().map_or(Lit::Other, Lit::Int),
            "string" | "concatenated_string" => string_value(node, src).map_or(Lit::Other, Lit::Str),
            _ => dotted(node, src).map_or(Lit::Other, Lit::Name),
        }
    }
}

/// A Python value as written, with its structure: a literal, a list (`[`), tuple (`(`) or set
/// (`{`) of values, a dict, or a call (`models.Index(fields=["a"], name="x")`). Anything else is
/// `Lit(Lit::Other)` (or `Lit(Lit::Name)` for a dotted name), as a leaf.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Py {
    Lit(Lit),
    Seq(char, Vec<Py>),
    Dict(Vec<(Py, Py)>),
    Call { callee: String, pos: Vec<Py>, kw: Vec<(String, Py)>, splat: bool },
}

impl Py {
    pub fn of(node: Node<'_>, src: &str) -> Py {
        Self::read(node, src, 0)
    }

    fn read(node: Node<'_>, src: &str, depth: usize) -> Py {
        if depth > 16 {
            return Py::Lit(Lit::Other);
        }
        fn kids(n: Node<'_>) -> Vec<Node<'_>> {
            let mut c = n.walk();
            n.named_children(&mut c).filter(|k| k.kind() != "comment").collect()
        }
        match node.kind() {
            "parenthesized_expression" => match kids(node).as_slice() {
                [inner] => Self::read(*inner, src, depth + 1),
                _ => Py::Lit(Lit::Other),
            },
            k @ ("list" | "tuple" | "set") => {
                let items = kids(node);
                if items.iter().any(|i| matches!(i.kind(), "list_splat" | "dictionary_splat" | "yield")) {
                    return Py::Lit(Lit::Other);
                }
                let open = match k {
                    "list" => '[',
                    "tuple" => '(',
                    _ => '{',
                };
                Py::Seq(open, items.into_iter().map(|i| Self::read(i, src, depth + 1)).collect())
            }
            "dictionary" => {
                let mut out = Vec::new();
                for p in kids(node) {
                    let (Some(k), Some(v)) = (p.child_by_field_name("key"), p.child_by_field_name("value")) else {
                        return Py::Lit(Lit::Other);
                    };
                    out.push((Self::read(k, src, depth + 1), Self::read(v, src, depth + 1)));
                }
                Py::Dict(out)
            }
            "call" => {
                let (Some(f), Some(args)) =
                    (node.child_by_field_name("function"), node.child_by_field_name("arguments"))
                else {
                    return Py::Lit(Lit::Other);
                };
                let Some(callee) = dotted(f, src) else { return Py::Lit(Lit::Other) };
                let (mut pos, mut kw, mut splat) = (Vec::new(), Vec::new(), false);
                for a in kids(args) {
                    match a.kind() {
                        "keyword_argument" => {
                            if let (Some(n), Some(v)) = (a.child_by_field_name("name"), a.child_by_field_name("value"))
                            {
                                kw.push((text(n, src).to_string(), Self::read(v, src, depth + 1)));
                            }
                        }
                        "list_splat" | "dictionary_splat" => splat = true,
                        _ => pos.push(Self::read(a, src, depth + 1)),
                    }
                }
                Py::Call { callee, pos, kw, splat }
            }
            _ => Py::Lit(Lit::of(node, src)),
        }
    }

    /// The scalar this is, `Lit::Other` for a structure.
    pub fn lit(&self) -> &Lit {
        static OTHER: Lit = Lit::Other;
        match self {
            Py::Lit(l) => l,
            _ => &OTHER,
        }
    }

    /// A keyword argument of a call.
    pub fn kwarg(&self, k: &str) -> Option<&Py> {
        match self {
            Py::Call { kw, .. } => kw.iter().find(|(n, _)| n == k).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// A field declaration's call: `models.CharField(max_length=20, null=True)`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldCall {
    /// The callee as written (`models.CharField`, `CharField`, `fields.MoneyField`).
    pub callee: String,
    pub pos: Vec<Lit>,
    pub kw: Vec<(String, Lit)>,
    /// `*args` or `**kwargs` in the call: its arguments are not all known.
    pub splat: bool,
}

impl FieldCall {
    /// The callee's last name (`CharField`).
    pub fn class(&self) -> &str {
        self.callee.rsplit('.').next().unwrap_or(&self.callee)
    }

    pub fn kwarg(&self, k: &str) -> Option<&Lit> {
        self.kw.iter().find(|(n, _)| n == k).map(|(_, v)| v)
    }
}

/// Reads a call node as a field declaration; `None` when the callee is not a dotted name.
pub(crate) fn field_call(call: Node<'_>, src: &str) -> Option<FieldCall> {
    if call.kind() != "call" {
        return None;
    }
    let callee = dotted(call.child_by_field_name("function")?, src)?;
    let mut out = FieldCall { callee, ..Default::default() };
    let args = call.child_by_field_name("arguments")?;
    let mut c = args.walk();
    for a in args.named_children(&mut c) {
        match a.kind() {
            "keyword_argument" => {
                if let (Some(n), Some(v)) = (a.child_by_field_name("name"), a.child_by_field_name("value")) {
                    out.kw.push((text(n, src).to_string(), Lit::of(v, src)));
                }
            }
            "list_splat" | "dictionary_splat" => out.splat = true,
            "comment" => {}
            _ => out.pos.push(Lit::of(a, src)),
        }
    }
    Some(out)
}

/// What a model class body says, for comparing it with the migrations.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ClassFacts {
    /// The models module, and the byte span of the class name in it.
    pub rel: String,
    pub name_span: (usize, usize),
    /// Class-level assignments of a call, in source order: (name, call, span of the statement).
    pub calls: Vec<(String, FieldCall, (usize, usize))>,
    /// Names assigned anything else (`None` removes a field inherited from an abstract base).
    pub others: Vec<(String, Lit)>,
    /// Why the body's fields cannot all be known (an `if` or a loop in the class body, an
    /// assignment to something other than a name).
    pub opaque: Option<Opaque>,
    pub has_meta: bool,
    /// The bases of `class Meta(...)`, as written.
    pub meta_bases: Vec<String>,
    /// `Meta`'s assignments (`abstract`, `proxy`, `managed`, `app_label`, ...).
    pub meta: Vec<(String, Lit)>,
    /// The same assignments with their structure (`indexes = [models.Index(...)]`).
    pub meta_py: Vec<(String, Py)>,
    /// `Meta` has statements other than plain assignments.
    pub meta_opaque: bool,
}

impl ClassFacts {
    pub fn meta_value(&self, k: &str) -> Option<&Lit> {
        self.meta.iter().find(|(n, _)| n == k).map(|(_, v)| v)
    }
}

/// Reads a model class body into `ClassFacts`.
/// Why a class body cannot be read (`ClassFacts::opaque`).
const OPAQUE_REASONS: [&str; 3] = [
    "a statement other than an assignment in the class body",
    "an assignment to something other than one name in the class body",
    "an `if`, a loop or another statement in the class body",
];

/// Why a class body cannot be read (one of `OPAQUE_REASONS`); written to the run cache as its
/// text and read back as the same reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opaque(pub &'static str);

impl serde::Serialize for Opaque {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Opaque {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = String::deserialize(d)?;
        OPAQUE_REASONS.iter().find(|r| **r == t).map(|r| Opaque(r)).ok_or_else(|| serde::de::Error::custom("reason"))
    }
}

pub(crate) fn class_facts(body: Node<'_>, src: &str) -> ClassFacts {
    let mut f = ClassFacts::default();
    let mut cursor = body.walk();
    for stmt in body.named_children(&mut cursor) {
        match stmt.kind() {
            "expression_statement" => {
                let Some(e) = stmt.named_child(0) else { continue };
                if e.kind() == "string" {
                    continue;
                }
                if e.kind() != "assignment" {
                    // A call at class level (`register(...)`) adds nothing we can read.
                    f.opaque.get_or_insert(Opaque(OPAQUE_REASONS[0]));
                    continue;
                }
                let (Some(left), Some(right)) = (e.child_by_field_name("left"), e.child_by_field_name("right")) else {
                    continue;
                };
                if left.kind() != "identifier" || right.kind() == "assignment" {
                    f.opaque.get_or_insert(Opaque(OPAQUE_REASONS[1]));
                    continue;
                }
                let name = text(left, src).to_string();
                match field_call(right, src) {
                    Some(call) => f.calls.push((name, call, (stmt.start_byte(), stmt.end_byte()))),
                    None => f.others.push((name, Lit::of(right, src))),
                }
            }
            "class_definition" if stmt.child_by_field_name("name").is_some_and(|n| text(n, src) == "Meta") => {
                f.has_meta = true;
                f.meta_bases = class_bases_dotted(stmt, src);
                let Some(mb) = stmt.child_by_field_name("body") else { continue };
                let mut c = mb.walk();
                for ms in mb.named_children(&mut c) {
                    let assign =
                        ms.named_child(0).filter(|a| ms.kind() == "expression_statement" && a.kind() == "assignment");
                    match assign {
                        Some(a) => match (a.child_by_field_name("left"), a.child_by_field_name("right")) {
                            (Some(l), Some(r)) if l.kind() == "identifier" => {
                                f.meta.push((text(l, src).to_string(), Lit::of(r, src)));
                                f.meta_py.push((text(l, src).to_string(), Py::of(r, src)));
                            }
                            _ => f.meta_opaque = true,
                        },
                        None if ms.kind() == "expression_statement"
                            && ms.named_child(0).is_some_and(|s| s.kind() == "string") => {}
                        None if ms.kind() == "pass_statement" || ms.kind() == "comment" => {}
                        None => f.meta_opaque = true,
                    }
                }
            }
            "function_definition" | "decorated_definition" | "class_definition" | "pass_statement" | "comment" => {}
            _ => {
                f.opaque.get_or_insert(Opaque(OPAQUE_REASONS[2]));
            }
        }
    }
    f
}

/// The bases of a class as written (`BaseModel.Meta`).
fn class_bases_dotted(class: Node<'_>, src: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(args) = class.child_by_field_name("superclasses") {
        let mut c = args.walk();
        for a in args.named_children(&mut c) {
            out.push(dotted(a, src).unwrap_or_else(|| text(a, src).to_string()));
        }
    }
    out
}

/// What a model takes from its bases: field declarations, other attributes, managers,
/// properties.
type Inherited = (
    Vec<FieldDecl>,
    HashSet<String>,
    HashMap<String, String>,
    HashMap<String, Vec<Vec<String>>>,
    HashMap<String, Vec<(String, String)>>,
);

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct FieldDecl {
    name: String,
    kind: Option<RelKind>,
    target: Option<String>,
    related_name: Option<String>,
    null: bool,
}

/// A method of a project manager/queryset class, as far as the N+1 rule needs it.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct QsMethod {
    /// Returns a queryset of the same model (every `return` is a queryset call chain).
    pub returns_queryset: bool,
    pub select: Vec<String>,
    pub prefetch: Vec<String>,
    /// A `select_related`/`prefetch_related` argument that is not a literal.
    pub opaque: bool,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct QsClass {
    pub dir: String,
    pub imports: std::sync::Arc<Imports>,
    pub bases: Vec<String>,
    pub methods: HashMap<String, QsMethod>,
}

/// A DRF serializer field that reads related objects.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum SerField {
    /// `author = AuthorSerializer(...)`; `source` defaults to the field name.
    Nested { serializer: String, many: bool, source: String },
    /// Another field, with what it reads: a dotted `source="author.name"`, a plain
    /// `source="permalink"` or the field's own name; empty when it reads nothing on output.
    Source { source: String },
    /// `tags = PrimaryKeyRelatedField(many=True)` and friends; `loads` when the field reads the
    /// related object itself (StringRelatedField, SlugRelatedField), not just its key.
    Related { many: bool, loads: bool, source: String },
    /// `SerializerMethodField()`: the method's name.
    Method { method: String },
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Serializer {
    pub name: String,
    pub dir: String,
    pub imports: std::sync::Arc<Imports>,
    /// `Meta.model`: its class name as written, then (after `finish`) the model's key.
    pub model: Option<String>,
    /// `Meta.fields`; `None` for `"__all__"` or when absent.
    pub fields: Option<Vec<String>>,
    pub all_fields: bool,
    pub depth: usize,
    pub declared: Vec<(String, SerField)>,
    /// Method name → the attribute chains it reads on its object argument (`obj.author.name`
    /// → `["author", "name"]`).
    pub methods: HashMap<String, Vec<Vec<String>>>,
    /// Method name → the names (model classes, or variables holding one) whose default manager
    /// it queries (`Model.objects.<...>`, `Model._default_manager.<...>`): one query per call.
    pub queries: HashMap<String, Vec<String>>,
    /// Eager-loading helpers (`setup_eager_loading(queryset)` static or class methods): what
    /// each adds to the queryset it is given.
    pub eager: HashMap<String, QsMethod>,
    /// Base class names as written (last part).
    pub bases: Vec<String>,
    /// Defines `__init__`, `get_fields` or `to_representation`: its fields may change per
    /// request.
    pub reshapes: bool,
    /// The class body has a `Meta`.
    pub has_meta: bool,
    /// `Meta.fields` is written in a way not read (not a literal list, nor a sum of literal
    /// lists and `Base.Meta.fields`).
    pub fields_unknown: bool,
    /// `Base.Meta.fields` terms of a `Meta.fields` sum: their fields are added (in `finish`).
    pub fields_from: Vec<String>,
}

/// A project view or mixin class, as far as the N+1 rule follows its bases.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ViewClass {
    pub bases: Vec<String>,
    pub dir: String,
    pub imports: std::sync::Arc<Imports>,
    /// Its own `get_queryset()` only returns `self.model.objects.all()` (`None`: it has none).
    pub generic_qs: Option<bool>,
}

#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct ModelGraph {
    /// Models by key (`dir:Name`).
    pub models: HashMap<String, Model>,
    /// Keys defined twice (the same class name in the same folder): never resolved.
    pub ambiguous: HashSet<String>,
    /// Serializer keys defined twice (two classes of one name in one folder, e.g. in two
    /// modules of a `serializers/` package): never resolved, but still candidates of their
    /// name, so that an import naming their folder does not fall back to a same-named class
    /// elsewhere.
    ambiguous_serializers: HashSet<String>,
    ambiguous_views: HashSet<String>,
    pub qs_classes: HashMap<String, QsClass>,
    pub serializers: HashMap<String, Serializer>,
    /// `.name` for every custom manager attribute of a model (not `objects`): the literals a
    /// module must contain to use one.
    pub manager_names: Vec<String>,
    /// Class name → keys, for each kind.
    model_names: HashMap<String, Vec<String>>,
    qs_names: HashMap<String, Vec<String>>,
    ser_names: HashMap<String, Vec<String>>,
    /// Classes that may be models through a project base, until `finish`.
    pending: Vec<Model>,
    /// Plain classes of a models module (no base, or `object`) defining properties: model
    /// mixins (`class AbstractHistoryMixin:`), whose properties and query methods models
    /// built on them inherit.
    mixins: HashMap<String, Model>,
    mixin_names: HashMap<String, Vec<String>>,
    /// Classes whose bases do not say `Serializer`, that may be serializers through a project
    /// serializer base (`class SignUpSerializer2(CreatedModifiedBase)`), until `finish`.
    pending_serializers: Vec<Serializer>,
    /// The project's view and mixin classes (name, bases, the methods of `VIEW_HOOKS` they
    /// define), until `finish`.
    view_bases: Vec<(String, Vec<String>, Vec<String>)>,
    /// Project view and mixin classes by key (`dir:Name`, see `class_dir`): their bases, the
    /// module's imports, and whether their own `get_queryset()` (if they have one) only returns
    /// `self.model.objects.all()`.
    pub view_classes: HashMap<String, ViewClass>,
    view_names: HashMap<String, Vec<String>>,
    /// Project view and mixin class name → the methods of `VIEW_HOOKS` it defines or inherits
    /// from project bases (the union over classes of one name).
    pub view_hooks: HashMap<String, HashSet<String>>,
    /// Names of the project's view classes that list rows through their serializer (they
    /// derive from a DRF list view, directly or through project bases). A name defined twice
    /// counts only when every definition lists.
    pub list_views: HashSet<String>,
    /// The project's user model (the one concrete model built on `AbstractUser` /
    /// `AbstractBaseUser`): what `get_user_model()` returns.
    pub user_model: Option<String>,
}

/// `v` as JSON text with every object's keys sorted, whatever order the map kept them in.
fn canonical(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for k in keys {
                out.push_str(&serde_json::Value::from(k.as_str()).to_string());
                out.push(':');
                canonical(&m[k], out);
                out.push(',');
            }
            out.push('}');
        }
        serde_json::Value::Array(a) => {
            out.push('[');
            for x in a {
                canonical(x, out);
                out.push(',');
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Prefix of a serializer named by its key (`@key:shop/api:ItemSerializer`): a nested
/// serializer inherited from a base in another module, resolved where the base names it.
const KEY_MARK: &str = "@key:";

/// Model bases from Django and common packages: a class with one of these is a model.
const MODEL_BASES: &[&str] = &[
    "Model",
    "AbstractUser",
    "AbstractBaseUser",
    "PermissionsMixin",
    "MPTTModel",
    "ClusterableModel",
    "PolymorphicModel",
    "TimeStampedModel",
    "Page",
];
const USER_BASES: &[&str] = &["AbstractUser", "AbstractBaseUser"];
/// `Meta.model = get_user_model()` on a serializer, until `finish` resolves it.
const USER_MODEL_CALL: &str = "get_user_model()";

/// Whether a file can hold what the graph reads: models, managers, querysets, serializers.
/// Without `serializers`, a module whose only graph classes are serializers is not one.
pub(crate) fn is_candidate(rel: &str, text: &str, serializers: bool) -> bool {
    static CLASS: std::sync::OnceLock<[regex::bytes::Regex; 2]> = std::sync::OnceLock::new();
    let [with_serializers, without] = CLASS.get_or_init(|| {
        let class = |bases: &str| {
            regex::bytes::Regex::new(&format!(r"(?m)^class\s+\w+\s*\([^)]*(?:{bases})\b")).expect("regex")
        };
        let views = "ModelViewSet|ReadOnlyModelViewSet|ListAPIView|ListCreateAPIView|ListModelMixin|ViewSet|APIView";
        let with = format!(
            r"{}|(?m)^class\s+\w*(?:Mixin|ViewSet|APIView)\b",
            class(&format!("Serializer|Manager|QuerySet|Model|{views}"))
        );
        [regex::bytes::Regex::new(&with).expect("regex"), class("Manager|QuerySet|Model")]
    });
    let class = if serializers { with_serializers } else { without };
    // A serializer module may hold serializers built on the project's own bases only
    // (`class SignUpSerializer(CreatedModifiedBase)`).
    let serializer_module = serializers && rel.contains("serializer") && text.contains("class Meta");
    (is_models_module(rel) && text.contains("class ")) || serializer_module || class.is_match(text.as_bytes())
}

pub(crate) fn is_models_module(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name == "models.py" || rel.contains("/models/") || rel.starts_with("models/")
}

/// Collects one file's classes into the graph.
pub(crate) fn add_file(graph: &mut ModelGraph, file: &crate::source::SourceFile, tree: &tree_sitter::Tree) {
    add_file_with(graph, file, tree, false)
}

/// `add_file`; with `any_module`, a class outside a models module whose bases are not known
/// model bases may still be a model through a project base (decided in `finish`), as in a
/// models module.
pub(crate) fn add_file_with(
    graph: &mut ModelGraph,
    file: &crate::source::SourceFile,
    tree: &tree_sitter::Tree,
    any_module: bool,
) {
    let src = file.text.as_str();
    let aliases = import_aliases(tree.root_node(), src);
    let imports = std::sync::Arc::new(imports_of(tree.root_node(), src));
    let dir = class_dir(&file.rel);
    let app = app_label(&file.rel);
    let models_module = is_models_module(&file.rel);
    // The module's functions, for a model property handing `self` to one.
    let funcs: HashMap<String, Node<'_>> = {
        let mut c = tree.root_node().walk();
        let found = tree
            .root_node()
            .named_children(&mut c)
            .filter(|d| d.kind() == "function_definition")
            .filter_map(|d| Some((text(d.child_by_field_name("name")?, src).to_string(), d)))
            .collect();
        found
    };
    let mut cursor = tree.root_node().walk();
    for top in tree.root_node().named_children(&mut cursor) {
        let class = match top.kind() {
            "class_definition" => top,
            "decorated_definition" => match top.child_by_field_name("definition") {
                Some(c) if c.kind() == "class_definition" => c,
                _ => continue,
            },
            _ => continue,
        };
        let Some(name) = class.child_by_field_name("name").map(|n| text(n, src).to_string()) else { continue };
        let bases = class_bases(class, src);
        let body = class.child_by_field_name("body");
        if bases.iter().any(|b| b.ends_with("Serializer")) {
            if let Some(body) = body {
                let mut s = read_serializer(body, src, &aliases);
                s.name = name.clone();
                s.bases = bases.clone();
                s.dir = dir.clone();
                s.imports = imports.clone();
                insert_unique(&mut graph.serializers, &mut graph.ambiguous_serializers, format!("{dir}:{name}"), s);
            }
            continue;
        }
        if !models_module && !bases.is_empty() && bases.iter().all(|b| b != "object" && b != "Model") {
            if let Some(body) = body.filter(|b| text(*b, src).contains("class Meta")) {
                let mut s = read_serializer(body, src, &aliases);
                s.name = name.clone();
                s.bases = bases.clone();
                s.dir = dir.clone();
                s.imports = imports.clone();
                graph.pending_serializers.push(s);
            }
        }
        let viewish = |b: &str| b.ends_with("ViewSet") || b.ends_with("APIView") || LIST_VIEWS.contains(&b);
        if viewish(&name) || name.ends_with("Mixin") || bases.iter().any(|b| viewish(b)) {
            let mut hooks = Vec::new();
            let mut generic_qs = None;
            if let Some(body) = body {
                let mut c = body.walk();
                for stmt in body.named_children(&mut c) {
                    let def = match stmt.kind() {
                        "decorated_definition" => stmt.child_by_field_name("definition"),
                        _ => Some(stmt),
                    };
                    let Some(n) =
                        def.filter(|d| d.kind() == "function_definition").and_then(|d| d.child_by_field_name("name"))
                    else {
                        continue;
                    };
                    if VIEW_HOOKS.contains(&text(n, src)) {
                        hooks.push(text(n, src).to_string());
                    }
                    if text(n, src) == "get_queryset" {
                        if let Some(d) = def {
                            generic_qs = Some(returns_model_objects(d, src));
                        }
                    }
                }
            }
            let v = ViewClass { bases: bases.clone(), dir: dir.clone(), imports: imports.clone(), generic_qs };
            insert_unique(&mut graph.view_classes, &mut graph.ambiguous_views, format!("{dir}:{name}"), v);
            graph.view_bases.push((name.clone(), bases.clone(), hooks));
            // A mixin may be a model mixin too: it goes on to be read as one.
            if viewish(&name) || bases.iter().any(|b| viewish(b)) {
                continue;
            }
        }
        if bases.iter().any(|b| b.ends_with("Manager") || b.ends_with("QuerySet")) {
            if let Some(body) = body {
                let c = QsClass {
                    dir: dir.clone(),
                    imports: imports.clone(),
                    bases: bases.clone(),
                    methods: read_qs_methods(body, src),
                };
                insert_unique(&mut graph.qs_classes, &mut graph.ambiguous, format!("{dir}:{name}"), c);
            }
            continue;
        }
        let Some(body) = body else { continue };
        let mut model = read_model(&name, &app, bases, body, src, &aliases, &funcs);
        model.facts = class_facts(body, src);
        model.facts.rel = file.rel.clone();
        if let Some(n) = class.child_by_field_name("name") {
            model.facts.name_span = (n.start_byte(), n.end_byte());
        }
        model.key = format!("{dir}:{name}");
        model.dir = dir.clone();
        model.imports = imports.clone();
        if !models_module && !any_module && !model.bases.iter().any(|b| MODEL_BASES.contains(&b.as_str())) {
            continue;
        }
        let declares_fields = model.django_fields + model.decls.len() > 0;
        let known_base = model.bases.iter().any(|b| MODEL_BASES.contains(&b.as_str()));
        if known_base || (declares_fields && !model.bases.is_empty()) {
            insert_unique(&mut graph.models, &mut graph.ambiguous, model.key.clone(), model);
        } else if !model.bases.is_empty() && model.bases != ["object"] {
            // Maybe a model through a project base; decided in `finish`.
            graph.pending.push(model);
        } else if models_module && !model.properties.is_empty() && model.decls.is_empty() {
            insert_unique(&mut graph.mixins, &mut graph.ambiguous, model.key.clone(), model);
        }
    }
}

fn insert_unique<T>(map: &mut HashMap<String, T>, ambiguous: &mut HashSet<String>, name: String, v: T) {
    match map.entry(name) {
        std::collections::hash_map::Entry::Occupied(e) => {
            ambiguous.insert(e.key().clone());
        }
        std::collections::hash_map::Entry::Vacant(e) => {
            e.insert(v);
        }
    }
}

impl ModelGraph {
    /// Adds what another graph read (another file), before `finish`.
    pub fn absorb(&mut self, other: ModelGraph) {
        for (k, v) in other.models {
            insert_unique(&mut self.models, &mut self.ambiguous, k, v);
        }
        for (k, v) in other.mixins {
            insert_unique(&mut self.mixins, &mut self.ambiguous, k, v);
        }
        for (k, v) in other.qs_classes {
            insert_unique(&mut self.qs_classes, &mut self.ambiguous, k, v);
        }
        for (k, v) in other.serializers {
            insert_unique(&mut self.serializers, &mut self.ambiguous_serializers, k, v);
        }
        self.ambiguous.extend(other.ambiguous);
        self.ambiguous_serializers.extend(other.ambiguous_serializers);
        self.pending.extend(other.pending);
        for (k, v) in other.view_classes {
            insert_unique(&mut self.view_classes, &mut self.ambiguous_views, k, v);
        }
        self.ambiguous_views.extend(other.ambiguous_views);
        self.pending_serializers.extend(other.pending_serializers);
        self.view_bases.extend(other.view_bases);
    }

    /// A module's part of the graph (before `finish`) as text that does not depend on where
    /// its classes sit or on hashing, when it holds no model (models carry positions): its
    /// view and mixin classes (names, bases, hooks, imports), serializers and manager or
    /// queryset classes, keys sorted. `None` when it holds a model, a model mixin or a
    /// candidate model. (Every field is named here: a new one must say which it is.)
    pub(crate) fn outline(&self) -> Option<String> {
        let ModelGraph {
            models,
            ambiguous,
            ambiguous_serializers,
            ambiguous_views,
            qs_classes,
            serializers,
            manager_names,
            model_names,
            qs_names,
            ser_names,
            pending,
            mixins,
            mixin_names,
            pending_serializers,
            view_bases,
            view_classes,
            view_names,
            view_hooks,
            list_views,
            user_model,
        } = self;
        // Models and their mixins carry positions; the indexes are built by `finish`.
        let more = !models.is_empty()
            || !pending.is_empty()
            || !mixins.is_empty()
            || !manager_names.is_empty()
            || user_model.is_some()
            || !model_names.is_empty()
            || !qs_names.is_empty()
            || !ser_names.is_empty()
            || !mixin_names.is_empty()
            || !view_names.is_empty()
            || !view_hooks.is_empty()
            || !list_views.is_empty();
        if more {
            return None;
        }
        fn sorted(s: &HashSet<String>) -> Vec<&String> {
            let mut v: Vec<&String> = s.iter().collect();
            v.sort();
            v
        }
        let value = serde_json::json!({
            "ambiguous": sorted(ambiguous),
            "ambiguous_serializers": sorted(ambiguous_serializers),
            "ambiguous_views": sorted(ambiguous_views),
            "qs_classes": qs_classes,
            "serializers": serializers,
            "pending_serializers": pending_serializers,
            "view_bases": view_bases,
            "view_classes": view_classes,
        });
        let mut out = String::new();
        canonical(&value, &mut out);
        Some(out)
    }

    /// Resolves inheritance and creates the reverse accessors, once every file is in.
    pub fn finish(&mut self) {
        // Classes whose base is a project model are models too.
        loop {
            let mut moved = false;
            let pending = std::mem::take(&mut self.pending);
            self.index_names();
            for m in pending {
                if m.bases.iter().any(|b| self.resolve_model(b, &m.dir, &m.imports).is_some()) {
                    let key = m.key.clone();
                    insert_unique(&mut self.models, &mut self.ambiguous, key, m);
                    moved = true;
                } else {
                    self.pending.push(m);
                }
            }
            if !moved {
                break;
            }
        }
        self.pending.clear();
        self.find_list_views();
        for a in self.ambiguous.clone() {
            self.models.remove(&a);
            self.mixins.remove(&a);
            self.serializers.remove(&a);
            self.qs_classes.remove(&a);
        }
        for a in &self.ambiguous_serializers {
            self.serializers.remove(a);
        }
        self.index_names();
        // Classes built on a project serializer are serializers too.
        loop {
            let mut moved = false;
            for s in std::mem::take(&mut self.pending_serializers) {
                if s.bases.iter().any(|b| self.resolve_serializer(b, &s.dir, &s.imports).is_some()) {
                    let key = format!("{}:{}", s.dir, s.name);
                    if !self.serializers.contains_key(&key) && !self.ambiguous_serializers.contains(&key) {
                        self.serializers.insert(key, s);
                        moved = true;
                    }
                } else {
                    self.pending_serializers.push(s);
                }
            }
            if !moved {
                break;
            }
            self.index_names();
        }
        self.pending_serializers.clear();
        // Managers of the project's classes whose names do not say so.
        let mut found: Vec<(String, String, String)> = Vec::new();
        for (k, m) in &self.models {
            for (field, f) in &m.maybe_managers {
                let last = f.rsplit('.').next().unwrap_or(f);
                if self.qs_class(last, &m.dir, &m.imports).is_some() {
                    found.push((k.clone(), field.clone(), f.clone()));
                }
            }
        }
        for (k, field, f) in found {
            let m = self.models.get_mut(&k).expect("model");
            m.plain.remove(&field);
            m.managers.insert(field, f);
        }
        let user_model = {
            let users: Vec<&String> = self
                .models
                .values()
                .filter(|m| !m.is_abstract && m.bases.iter().any(|b| USER_BASES.contains(&b.as_str())))
                .map(|m| &m.key)
                .collect();
            (users.len() == 1).then(|| users[0].clone())
        };
        // Serializer models, by the serializer module's imports.
        let resolved: Vec<(String, Option<String>)> = self
            .serializers
            .iter()
            .map(|(k, s)| {
                let m = match s.model.as_deref() {
                    Some(USER_MODEL_CALL) => user_model.clone(),
                    m => m.and_then(|m| self.resolve_model(m, &s.dir, &s.imports)),
                };
                (k.clone(), m)
            })
            .collect();
        for (k, m) in resolved {
            self.serializers.get_mut(&k).expect("serializer").model = m;
        }
        self.inherit_serializers();
        // Inherited declarations (abstract bases and multi-table parents), nearest first.
        let mut names: Vec<String> = self.models.keys().cloned().collect();
        names.sort();
        let mut inherited: HashMap<String, Inherited> = HashMap::new();
        for n in &names {
            let mut decls = Vec::new();
            let mut plain = HashSet::new();
            let mut managers = HashMap::new();
            let mut properties = HashMap::new();
            let mut queries: HashMap<String, Vec<(String, String)>> = HashMap::new();
            let mut seen = HashSet::new();
            let me = &self.models[n];
            let base_key = |b: &str, dir: &str, imports: &Imports| {
                self.resolve_model(b, dir, imports).or_else(|| resolve(&self.mixin_names, b, dir, imports))
            };
            let mut stack: Vec<String> = me.bases.iter().filter_map(|b| base_key(b, &me.dir, &me.imports)).collect();
            while let Some(b) = stack.pop() {
                if !seen.insert(b.clone()) || seen.len() > 32 {
                    continue;
                }
                if let Some(bm) = self.models.get(&b).or_else(|| self.mixins.get(&b)) {
                    decls.extend(bm.decls.iter().cloned());
                    plain.extend(bm.plain.iter().cloned());
                    for (k, v) in &bm.managers {
                        managers.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                    for (k, v) in &bm.properties {
                        properties.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                    for (k, v) in &bm.query_methods {
                        queries.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                    stack.extend(bm.bases.iter().filter_map(|x| base_key(x, &bm.dir, &bm.imports)));
                }
            }
            inherited.insert(n.clone(), (decls, plain, managers, properties, queries));
        }
        for (n, (decls, plain, managers, properties, queries)) in inherited {
            let m = self.models.get_mut(&n).expect("model");
            for (k, v) in queries {
                // Only what the model does not define itself.
                if !m.plain.contains(&k) && !m.query_methods.contains_key(&k) && !m.properties.contains_key(&k) {
                    m.query_methods.insert(k, v);
                }
            }
            for d in decls {
                if !m.decls.iter().any(|x| x.name == d.name) {
                    m.decls.push(d);
                }
            }
            for (k, v) in properties {
                // A name the model itself defines (a field, a method) hides the base's property.
                if !m.plain.contains(&k) && !m.decls.iter().any(|d| d.name == k) {
                    m.properties.insert(k, v);
                }
            }
            m.plain.extend(plain);
            for (k, v) in managers {
                m.managers.entry(k).or_insert(v);
            }
        }
        let mut managers: Vec<String> = self
            .models
            .values()
            .flat_map(|m| m.managers.keys())
            .filter(|k| *k != "objects")
            .map(|k| format!(".{k}"))
            .collect();
        managers.sort();
        managers.dedup();
        self.manager_names = managers;
        let user = user_model;
        self.user_model = user.clone();
        // Forward relations, then the reverse accessors on their targets.
        let mut reverse: Vec<(String, String, Relation)> = Vec::new();
        for n in &names {
            let m = &self.models[n];
            let mut forward = Vec::new();
            for d in &m.decls {
                let Some(kind) = d.kind else { continue };
                let target = d.target.as_deref().and_then(|t| match t {
                    "self" => Some(m.key.clone()),
                    "__user__" => user.clone(),
                    t => match t.split_once('.') {
                        Some((app, name)) => self.model_in_app(app, name),
                        None => self.resolve_model(t, &m.dir, &m.imports),
                    },
                });
                forward.push((d.name.clone(), Relation { kind, target: target.clone(), null: d.null, forward: true }));
                if m.is_abstract {
                    continue;
                }
                let Some(t) = target else { continue };
                let related = d.related_name.as_deref().map(|r| {
                    r.replace("%(class)s", &m.name.to_lowercase()).replace("%(app_label)s", &m.app.to_lowercase())
                });
                if related.as_deref().is_some_and(|r| r.ends_with('+')) {
                    continue;
                }
                let (acc, rkind) = match kind {
                    RelKind::OneToOne => (related.unwrap_or_else(|| m.name.to_lowercase()), RelKind::ReverseOneToOne),
                    RelKind::ForeignKey | RelKind::Manager => {
                        (related.unwrap_or_else(|| format!("{}_set", m.name.to_lowercase())), RelKind::Manager)
                    }
                    _ => continue,
                };
                reverse.push((
                    t,
                    acc,
                    Relation { kind: rkind, target: Some(m.key.clone()), null: true, forward: false },
                ));
            }
            let m = self.models.get_mut(n).expect("model");
            for (f, r) in forward {
                m.relations.insert(f, r);
            }
        }
        for (t, acc, r) in reverse {
            if let Some(m) = self.models.get_mut(&t) {
                // A reverse accessor that clashes with a declared attribute is not trusted.
                if m.plain.contains(&acc) || m.decls.iter().any(|d| d.name == acc) {
                    continue;
                }
                m.relations.entry(acc).or_insert(r);
            }
        }
    }

    /// What serializers inherit from the project's serializer bases, nearest first: declared
    /// fields they do not declare themselves (a nested serializer as its base module names it),
    /// methods, `Meta` when they have none (its model when their `Meta` names none), and the
    /// `Base.Meta.fields` their `Meta.fields` adds. A serializer whose `Meta.fields` is not
    /// read keeps its own declarations only.
    fn inherit_serializers(&mut self) {
        let mut keys: Vec<String> = self.serializers.keys().cloned().collect();
        keys.sort();
        let mut updates = Vec::new();
        for k in &keys {
            let me = &self.serializers[k];
            // The project bases in method resolution order (depth first, left to right).
            let mut order: Vec<String> = Vec::new();
            let mut stack: Vec<(String, String, std::sync::Arc<Imports>)> =
                me.bases.iter().rev().map(|b| (b.clone(), me.dir.clone(), me.imports.clone())).collect();
            while let Some((b, dir, imports)) = stack.pop() {
                if order.len() > 16 {
                    break;
                }
                let Some(key) = self.ser_key(&b, &dir, &imports) else { continue };
                if key == *k || order.contains(&key) {
                    continue;
                }
                let bs = &self.serializers[&key];
                stack.extend(bs.bases.iter().rev().map(|x| (x.clone(), bs.dir.clone(), bs.imports.clone())));
                order.push(key);
            }
            if order.is_empty() {
                continue;
            }
            let mut s = me.clone();
            for key in &order {
                let b = &self.serializers[key];
                if !me.fields_unknown {
                    for (name, field) in &b.declared {
                        if s.declared.iter().any(|(n, _)| n == name) {
                            continue;
                        }
                        let field = match field {
                            SerField::Nested { serializer, many, source } => SerField::Nested {
                                serializer: match self.ser_key(serializer, &b.dir, &b.imports) {
                                    Some(key) => format!("{KEY_MARK}{key}"),
                                    None => serializer.clone(),
                                },
                                many: *many,
                                source: source.clone(),
                            },
                            f => f.clone(),
                        };
                        s.declared.push((name.clone(), field));
                    }
                }
                for (m, chains) in &b.methods {
                    // A base's `to_representation` is the generic machinery (dynamic fields,
                    // expansions per request): not read as the subclass's per-row reads.
                    if m == "to_representation" {
                        continue;
                    }
                    if !s.methods.contains_key(m) {
                        s.methods.insert(m.clone(), chains.clone());
                        s.queries.insert(m.clone(), b.queries.get(m).cloned().unwrap_or_default());
                    }
                }
                for (m, e) in &b.eager {
                    s.eager.entry(m.clone()).or_insert_with(|| e.clone());
                }
                s.reshapes |= b.reshapes;
                if s.model.is_none() && (!me.has_meta || b.has_meta) {
                    s.model = b.model.clone();
                }
                if !me.has_meta && s.fields.is_none() && !s.all_fields && !s.fields_unknown {
                    s.fields = b.fields.clone();
                    s.all_fields = b.all_fields;
                    s.fields_unknown = b.fields_unknown;
                    s.depth = b.depth;
                    s.has_meta = b.has_meta;
                    s.fields_from = b.fields_from.clone();
                    if !b.fields_from.is_empty() {
                        // The base's sum, read where the base writes it.
                        match self.full_fields(key, 0) {
                            Some(f) => s.fields = Some(f),
                            None => {
                                s.fields = None;
                                s.fields_unknown = true;
                            }
                        }
                    }
                }
            }
            // `fields = ("id",) + Base.Meta.fields`.
            if me.has_meta && !me.fields_from.is_empty() {
                match self.full_fields(k, 0) {
                    Some(f) => s.fields = Some(f),
                    None => {
                        s.fields = None;
                        s.fields_unknown = true;
                    }
                }
            }
            if s.fields_unknown {
                s.declared.truncate(me.declared.len());
            }
            updates.push((k.clone(), s));
        }
        for (k, s) in updates {
            self.serializers.insert(k, s);
        }
    }

    /// A serializer's `Meta.fields` with the `Base.Meta.fields` terms of its sum added; `None`
    /// when a term is not known.
    fn full_fields(&self, key: &str, depth: usize) -> Option<Vec<String>> {
        let s = self.serializers.get(key)?;
        let mut out = s.fields.clone()?;
        if depth > 8 {
            return None;
        }
        for from in &s.fields_from {
            let base = self.ser_key(from, &s.dir, &s.imports)?;
            out.extend(self.full_fields(&base, depth + 1)?);
        }
        Some(out)
    }

    fn ser_key(&self, name: &str, dir: &str, imports: &Imports) -> Option<String> {
        if let Some(key) = name.strip_prefix(KEY_MARK) {
            return Some(key.to_string());
        }
        let name = name.rsplit('.').next().unwrap_or(name);
        resolve(&self.ser_names, name, dir, imports).filter(|k| self.serializers.contains_key(k))
    }

    /// The project's list view classes: a fixed point over the view classes' bases.
    fn find_list_views(&mut self) {
        let views = std::mem::take(&mut self.view_bases);
        let mut names: HashMap<&str, Vec<&Vec<String>>> = HashMap::new();
        for (n, b, hooks) in &views {
            names.entry(n.as_str()).or_default().push(b);
            self.view_hooks.entry(n.clone()).or_default().extend(hooks.iter().cloned());
        }
        // Hooks inherited through project bases, to a fixed point.
        loop {
            let mut grew = false;
            for (n, b, _) in &views {
                let inherited: Vec<String> =
                    b.iter().filter_map(|b| self.view_hooks.get(b)).flatten().cloned().collect();
                let own = self.view_hooks.entry(n.clone()).or_default();
                for h in inherited {
                    grew |= own.insert(h);
                }
            }
            if !grew {
                break;
            }
        }
        let lists = |b: &String, found: &HashSet<String>| LIST_VIEWS.contains(&b.as_str()) || found.contains(b);
        loop {
            let before = self.list_views.len();
            for (n, defs) in &names {
                if defs.iter().all(|bases| bases.iter().any(|b| lists(b, &self.list_views))) {
                    self.list_views.insert(n.to_string());
                }
            }
            if self.list_views.len() == before {
                break;
            }
        }
    }

    pub fn model(&self, key: &str) -> Option<&Model> {
        self.models.get(key)
    }

    /// `path` (`a__b__c`, from `model_key`) with the steps that come back to the object they
    /// left removed: Django caches that object on the way out, so reading it costs nothing.
    /// `ingredient__image__ingredient` is `ingredient` when `image` is the reverse side of
    /// `Image.ingredient` (a one-to-one, either way round, caches both sides), and
    /// `meals__plan` is `` when `meals` is the reverse side of `Meal.plan` (a prefetched
    /// reverse foreign key sets each child's `plan`). Only when the pair is the one relation
    /// between the two models in each direction.
    pub fn without_round_trips(&self, model_key: &str, path: &str) -> String {
        let parts: Vec<&str> = path.split("__").filter(|p| !p.is_empty()).collect();
        let mut taken: Vec<(String, &str, RelKind)> = Vec::new();
        let mut cur = model_key.to_string();
        let mut rest: &[&str] = &[];
        for (i, attr) in parts.iter().enumerate() {
            let Some(rel) = self.model(&cur).and_then(|m| m.relations.get(*attr)) else {
                rest = &parts[i..];
                break;
            };
            let Some(target) = rel.target.clone().filter(|t| self.model(t).is_some()) else {
                rest = &parts[i..];
                break;
            };
            if let Some((prev, _, prev_kind)) = taken.last() {
                let back = match (*prev_kind, rel.kind) {
                    (RelKind::ReverseOneToOne, RelKind::OneToOne) | (RelKind::OneToOne, RelKind::ReverseOneToOne) => {
                        true
                    }
                    (RelKind::Manager, RelKind::ForeignKey) => rel.forward,
                    _ => false,
                };
                let only = |from: &str, to: &str, kind: RelKind, forward: bool| {
                    self.model(from).is_some_and(|m| {
                        m.relations
                            .values()
                            .filter(|r| r.target.as_deref() == Some(to) && r.kind == kind && r.forward == forward)
                            .count()
                            == 1
                            && m.relations.values().filter(|r| r.target.as_deref() == Some(to)).count() == 1
                    })
                };
                if back
                    && target == *prev
                    && only(&cur, prev, rel.kind, rel.forward)
                    && only(prev, &cur, *prev_kind, !rel.forward)
                {
                    cur = taken.pop().map(|(m, _, _)| m).unwrap_or_default();
                    continue;
                }
            }
            taken.push((cur, attr, rel.kind));
            cur = target;
        }
        let mut out: Vec<&str> = taken.iter().map(|(_, a, _)| *a).collect();
        out.extend_from_slice(rest);
        out.join("__")
    }

    /// What reading the attribute chain `chain` on an instance of `model` reads, with the
    /// properties it crosses replaced by what their bodies read on `self` (`obj.permalink` with
    /// `permalink` returning `self.channel.slug` reads `obj.channel.slug`), each with the first
    /// property crossed (`Product.permalink`). What a property returns is not known, so a
    /// chain ends where a property is crossed. Properties nest up to 3 deep.
    pub fn reads_through(&self, model: &Model, chain: &[String]) -> Vec<(Vec<String>, Option<String>)> {
        let mut out = Vec::new();
        self.expand(model, chain, &[], None, 0, &mut out);
        out
    }

    fn expand(
        &self,
        model: &Model,
        chain: &[String],
        prefix: &[String],
        via: Option<&str>,
        depth: usize,
        out: &mut Vec<(Vec<String>, Option<String>)>,
    ) {
        let mut cur = model;
        for (i, attr) in chain.iter().enumerate() {
            if let Some(rel) = cur.relations.get(attr) {
                match rel.target.as_deref().and_then(|t| self.model(t)).filter(|_| rel.kind.is_single()) {
                    Some(t) => {
                        cur = t;
                        continue;
                    }
                    None => break,
                }
            }
            let Some(bodies) = cur.properties.get(attr).filter(|_| depth < 3) else { break };
            let mut pre: Vec<String> = prefix.to_vec();
            pre.extend(chain[..i].iter().cloned());
            let name = format!("{}.{attr}", cur.name);
            let via = via.unwrap_or(&name);
            for body in bodies {
                self.expand(cur, body, &pre, Some(via), depth + 1, out);
            }
            return;
        }
        let mut full = prefix.to_vec();
        full.extend(chain.iter().cloned());
        if !out.iter().any(|(c, _)| *c == full) {
            out.push((full, via.map(str::to_string)));
        }
    }

    fn index_names(&mut self) {
        fn index<T>(map: &HashMap<String, T>) -> HashMap<String, Vec<String>> {
            let mut out: HashMap<String, Vec<String>> = HashMap::new();
            for k in map.keys() {
                let name = k.rsplit(':').next().unwrap_or(k);
                out.entry(name.to_string()).or_default().push(k.clone());
            }
            for v in out.values_mut() {
                v.sort();
            }
            out
        }
        self.model_names = index(&self.models);
        self.mixin_names = index(&self.mixins);
        self.qs_names = index(&self.qs_classes);
        self.ser_names = index(&self.serializers);
        for a in &self.ambiguous_views {
            self.view_classes.remove(a);
        }
        self.view_names = index(&self.view_classes);
        // A name defined twice in one folder stays a candidate (resolving to nothing).
        for k in &self.ambiguous_views {
            let name = k.rsplit(':').next().unwrap_or(k);
            self.view_names.entry(name.to_string()).or_default().push(k.clone());
        }
        // A name defined twice in one folder stays a candidate (resolving to nothing).
        for k in &self.ambiguous_serializers {
            let name = k.rsplit(':').next().unwrap_or(k);
            let keys = self.ser_names.entry(name.to_string()).or_default();
            if !keys.contains(k) {
                keys.push(k.clone());
                keys.sort();
            }
        }
    }

    /// The model a class name means in a module in `dir` with `imports`.
    pub fn resolve_model(&self, name: &str, dir: &str, imports: &Imports) -> Option<String> {
        resolve(&self.model_names, name, dir, imports)
    }

    /// The project view class a base name means in a module in `dir` with `imports`.
    pub fn resolve_view(&self, name: &str, dir: &str, imports: &Imports) -> Option<&ViewClass> {
        self.view_classes.get(&resolve(&self.view_names, name, dir, imports)?)
    }

    pub fn resolve_serializer(&self, name: &str, dir: &str, imports: &Imports) -> Option<&Serializer> {
        if let Some(key) = name.strip_prefix(KEY_MARK) {
            return self.serializers.get(key);
        }
        let name = name.rsplit('.').next().unwrap_or(name);
        self.serializers.get(&resolve(&self.ser_names, name, dir, imports)?)
    }

    /// `'app_label.Model'`: the model of that name whose app folder is `app_label`.
    fn model_in_app(&self, app: &str, name: &str) -> Option<String> {
        let found: Vec<&String> = self
            .model_names
            .get(name)?
            .iter()
            .filter(|k| self.models.get(*k).is_some_and(|m| m.app.eq_ignore_ascii_case(app)))
            .collect();
        (found.len() == 1).then(|| found[0].clone())
    }

    fn qs_class(&self, name: &str, dir: &str, imports: &Imports) -> Option<(&String, &QsClass)> {
        let key = resolve(&self.qs_names, name, dir, imports)?;
        self.qs_classes.get_key_value(&key)
    }

    /// A method of the manager or queryset classes behind `manager` (a callee expression on
    /// `model`), or `None` when any class involved is not the project's.
    pub fn manager_method(&self, model: &Model, manager: &str, method: &str) -> Option<&QsMethod> {
        let mut classes: Vec<(String, String, std::sync::Arc<Imports>)> = Vec::new();
        let m = manager.trim_end_matches(".as_manager");
        let mut push = |c: &str| classes.push((c.to_string(), model.dir.clone(), model.imports.clone()));
        if let Some((mgr, qs)) = m.split_once(".from_queryset(") {
            push(qs.trim_end_matches(')'));
            push(mgr);
        } else {
            push(m);
        }
        let mut seen = HashSet::new();
        while let Some((c, dir, imports)) = classes.pop() {
            let c = c.rsplit('.').next().unwrap_or(&c).to_string();
            if matches!(c.as_str(), "Manager" | "BaseManager" | "QuerySet") {
                continue;
            }
            let (key, class) = self.qs_class(&c, &dir, &imports)?;
            if !seen.insert(key.clone()) || seen.len() > 16 {
                continue;
            }
            if let Some(found) = class.methods.get(method) {
                return Some(found);
            }
            for b in &class.bases {
                classes.push((b.clone(), class.dir.clone(), class.imports.clone()));
            }
        }
        None
    }

    /// What a manager adds to every queryset through `get_queryset`: `Some(method)` (maybe
    /// empty) when the manager is Django's or a project class that can be read, `None` when
    /// opaque.
    pub fn manager_base(&self, model: &Model, manager: &str) -> Option<QsMethod> {
        let plain = || Some(QsMethod { returns_queryset: true, ..Default::default() });
        let class = manager.trim_end_matches(".as_manager");
        let class = class.split(".from_queryset(").next().unwrap_or(class);
        let last = class.rsplit('.').next().unwrap_or(class);
        if matches!(last, "Manager" | "BaseManager" | "QuerySet") {
            return plain();
        }
        if self.qs_class(last, &model.dir, &model.imports).is_none() {
            // Django's own user managers add nothing to `get_queryset`.
            let django_user = matches!(last, "UserManager" | "BaseUserManager")
                && model.imports.get(last).is_some_and(|m| m.starts_with("django.contrib.auth"));
            return if django_user { plain() } else { None };
        }
        match self.manager_method(model, manager, "get_queryset") {
            Some(m) if m.returns_queryset => Some(m.clone()),
            Some(_) => None,
            None => plain(),
        }
    }
}

/// Imports of a module: local name → the module it comes from (`Book` → `.models`).
pub(crate) type Imports = HashMap<String, String>;

/// `from X import a, b as c` at module level.
pub(crate) fn imports_of(root: Node<'_>, src: &str) -> Imports {
    let mut out = Imports::new();
    for i in crate::python::imports::top_level(root, src) {
        let Some(module) = i.from else { continue };
        for (_, local) in i.names {
            out.insert(local, module.clone());
        }
    }
    out
}

/// The folder a class is filed under: its module's folder, where a `models` package counts as
/// the app folder around it (`shop/models/order.py` → `shop`).
pub(crate) fn class_dir(rel: &str) -> String {
    let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
    match dir.rsplit_once('/') {
        Some((parent, "models")) => parent.to_string(),
        None if dir == "models" => String::new(),
        _ => dir.to_string(),
    }
}

/// The folders a class imported from `module` (in a module in `from_dir`) can be filed under.
enum ModuleDir {
    /// A relative import: exactly one of these folders (the module's, or the package's own
    /// folder when the module is a package re-exporting its submodules' classes).
    Exact(Vec<String>),
    /// An absolute import: one of these folder paths, under any parent folder.
    Suffix(Vec<String>),
    Nowhere,
}

impl ModuleDir {
    fn of(module: &str, from_dir: &str) -> ModuleDir {
        let dots = module.chars().take_while(|&c| c == '.').count();
        let rest = &module[dots..];
        let mut parts: Vec<&str> = if rest.is_empty() { Vec::new() } else { rest.split('.').collect() };
        let mut tails = Vec::new();
        match parts.iter().position(|p| *p == "models") {
            Some(i) => parts.truncate(i),
            None => {
                // `a.b.serializers` is a module in `a/b` or a package folder `a/b/serializers`.
                if !parts.is_empty() {
                    tails.push(parts.join("/"));
                }
                parts.pop();
            }
        }
        tails.insert(0, parts.join("/"));
        if dots == 0 {
            tails.retain(|t| !t.is_empty());
            return if tails.is_empty() { ModuleDir::Nowhere } else { ModuleDir::Suffix(tails) };
        }
        let mut base = from_dir;
        for _ in 1..dots {
            base = base.rsplit_once('/').map_or("", |(p, _)| p);
        }
        ModuleDir::Exact(
            tails
                .into_iter()
                .map(|tail| match (base.is_empty(), tail.is_empty()) {
                    (_, true) => base.to_string(),
                    (true, false) => tail,
                    (false, false) => format!("{base}/{tail}"),
                })
                .collect(),
        )
    }

    fn holds(&self, dir: &str) -> bool {
        match self {
            ModuleDir::Exact(want) => want.iter().any(|w| dir == w),
            ModuleDir::Suffix(tails) => tails
                .iter()
                .any(|tail| dir == tail || dir.strip_suffix(tail.as_str()).is_some_and(|head| head.ends_with('/'))),
            ModuleDir::Nowhere => false,
        }
    }
}

/// The key a class name means in a module in `dir` with `imports`: the imported one, else the
/// one in the same folder, else the only one of that name; `None` when that is not one class.
fn resolve(names: &HashMap<String, Vec<String>>, name: &str, dir: &str, imports: &Imports) -> Option<String> {
    let keys = names.get(name)?;
    fn dir_of<'k>(k: &'k str, name: &str) -> &'k str {
        &k[..k.len().saturating_sub(name.len() + 1)]
    }
    if let Some(module) = imports.get(name) {
        let target = ModuleDir::of(module, dir);
        let found: Vec<&String> = keys.iter().filter(|k| target.holds(dir_of(k, name))).collect();
        if found.is_empty() && keys.len() == 1 {
            // A module of the project re-exporting the class (`from dojo.models import
            // Engagement` defined in `dojo/engagement/models.py`): the one class of that name,
            // when it lives under the imported package's top folder.
            let top = module.trim_start_matches('.').split('.').next().unwrap_or("");
            let relative = module.starts_with('.');
            if relative || (!top.is_empty() && dir_of(&keys[0], name).split('/').any(|seg| seg == top)) {
                return Some(keys[0].clone());
            }
        }
        return (found.len() == 1).then(|| found[0].clone());
    }
    let here: Vec<&String> = keys.iter().filter(|k| dir_of(k, name) == dir).collect();
    if here.len() == 1 {
        return Some(here[0].clone());
    }
    (keys.len() == 1).then(|| keys[0].clone())
}

/// `from django.db.models import ForeignKey as FK` → FK ↦ ForeignKey.
fn import_aliases(root: Node<'_>, src: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for i in crate::python::imports::top_level(root, src).iter().filter(|i| i.from.is_some()) {
        for (name, alias) in i.aliased() {
            out.insert(alias.clone(), name.rsplit('.').next().unwrap_or(name).to_string());
        }
    }
    out
}

/// The app label Django would give a models module: its package's folder name.
fn app_label(rel: &str) -> String {
    let parts: Vec<&str> = rel.split('/').collect();
    let idx = parts.iter().rposition(|p| *p == "models" || *p == "models.py").unwrap_or(parts.len() - 1);
    if idx == 0 {
        return String::new();
    }
    parts[idx - 1].to_string()
}

fn class_bases(class: Node<'_>, src: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(args) = class.child_by_field_name("superclasses") {
        let mut c = args.walk();
        for a in args.named_children(&mut c) {
            // `ModelViewSet[Tag]`, `models.Manager["Book"]`: the generic class itself.
            let a = if a.kind() == "subscript" { a.child_by_field_name("value").unwrap_or(a) } else { a };
            if let Some(d) = dotted(a, src) {
                out.push(d.rsplit('.').next().unwrap_or(&d).to_string());
            } else if a.kind() == "call" {
                // `Manager.from_queryset(QS)` as a base.
                if let Some(f) = a.child_by_field_name("function").and_then(|f| dotted(f, src)) {
                    out.push(f.rsplit('.').nth(1).unwrap_or(&f).to_string());
                }
            }
        }
    }
    out
}

/// The callee's last name after aliases: `models.ForeignKey` → `ForeignKey`.
fn callee_name(call: Node<'_>, src: &str, aliases: &HashMap<String, String>) -> Option<String> {
    let f = call.child_by_field_name("function")?;
    let d = dotted(f, src)?;
    let last = d.rsplit('.').next().unwrap_or(&d).to_string();
    Some(aliases.get(&last).cloned().unwrap_or(last))
}

fn read_model(
    name: &str,
    app: &str,
    bases: Vec<String>,
    body: Node<'_>,
    src: &str,
    aliases: &HashMap<String, String>,
    funcs: &HashMap<String, Node<'_>>,
) -> Model {
    let mut m = Model { name: name.to_string(), app: app.to_string(), bases, ..Default::default() };
    let mut cursor = body.walk();
    for stmt in body.named_children(&mut cursor) {
        match stmt.kind() {
            "expression_statement" => {
                let Some(assign) = stmt.named_child(0).filter(|a| a.kind() == "assignment") else { continue };
                let Some(left) = assign.child_by_field_name("left").filter(|l| l.kind() == "identifier") else {
                    continue;
                };
                let field = text(left, src).to_string();
                let Some(right) = assign.child_by_field_name("right") else {
                    m.plain.insert(field);
                    continue;
                };
                if right.kind() != "call" {
                    m.plain.insert(field);
                    continue;
                }
                let callee = callee_name(right, src, aliases).unwrap_or_default();
                let (pos, kw) = call_args(right, src);
                let kwarg = |k: &str| kw.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
                let kind = if FK_TYPES.contains(&callee.as_str()) {
                    Some(RelKind::ForeignKey)
                } else if O2O_TYPES.contains(&callee.as_str()) {
                    Some(RelKind::OneToOne)
                } else if M2M_TYPES.contains(&callee.as_str()) || callee == "GenericRelation" {
                    Some(RelKind::Manager)
                } else if callee == "GenericForeignKey" {
                    Some(RelKind::GenericForeignKey)
                } else {
                    None
                };
                if let Some(kind) = kind {
                    let target_node = kwarg("to").or_else(|| pos.first().copied());
                    let target = target_node.and_then(|t| relation_target(t, src));
                    let null = kwarg("null").is_some_and(|v| text(v, src) == "True");
                    let related_name = if callee == "GenericRelation" {
                        None
                    } else {
                        kwarg("related_name").and_then(|v| string_value(v, src))
                    };
                    let target =
                        if matches!(callee.as_str(), "GenericRelation" | "GenericForeignKey") { None } else { target };
                    m.decls.push(FieldDecl { name: field, kind: Some(kind), target, related_name, null });
                } else if callee.ends_with("Manager") || callee == "TaggableManager" {
                    if callee == "TaggableManager" {
                        m.decls.push(FieldDecl {
                            name: field,
                            kind: Some(RelKind::Manager),
                            target: None,
                            related_name: None,
                            null: true,
                        });
                    } else {
                        let f =
                            right.child_by_field_name("function").map(|f| text(f, src).to_string()).unwrap_or_default();
                        m.managers.insert(field, f);
                    }
                } else if callee == "as_manager" || text(right, src).contains("from_queryset(") {
                    let f = right.child_by_field_name("function").map(|f| text(f, src).to_string()).unwrap_or_default();
                    m.managers.insert(field, f);
                } else {
                    if callee == "HistoricalRecords" {
                        // django-simple-history: `self.history` is a manager of the history rows.
                        m.history.insert(field.clone());
                    }
                    if callee.ends_with("Field") {
                        m.django_fields += 1;
                    } else if pos.is_empty() && kw.is_empty() && callee.starts_with(|c: char| c.is_ascii_uppercase()) {
                        let f =
                            right.child_by_field_name("function").map(|f| text(f, src).to_string()).unwrap_or_default();
                        m.maybe_managers.push((field.clone(), f));
                    }
                    m.plain.insert(field);
                }
            }
            "function_definition" | "decorated_definition" => {
                let f = if stmt.kind() == "decorated_definition" {
                    stmt.child_by_field_name("definition")
                } else {
                    Some(stmt)
                };
                if let Some(n) = f.and_then(|f| f.child_by_field_name("name")) {
                    let name = text(n, src).to_string();
                    if stmt.kind() == "decorated_definition" && is_property(stmt, src) {
                        if let Some(chains) = f.and_then(|f| property_chains(f, src)) {
                            m.properties.insert(name.clone(), chains);
                            // The query it builds whenever it runs (as a method's), or the
                            // one of a module function it hands `self` to.
                            if let Some(q) = f.and_then(|f| method_query(f, src).or_else(|| passes_self(f, src, funcs)))
                            {
                                m.query_methods.insert(name.clone(), q);
                            }
                        }
                    } else if let Some(q) =
                        f.filter(|_| stmt.kind() == "function_definition").and_then(|f| method_query(f, src))
                    {
                        m.query_methods.insert(name.clone(), q);
                    }
                    m.plain.insert(name);
                }
            }
            "class_definition" => {
                let is_meta = stmt.child_by_field_name("name").is_some_and(|n| text(n, src) == "Meta");
                if is_meta {
                    if let Some(b) = stmt.child_by_field_name("body") {
                        m.is_abstract = text(b, src).lines().any(|l| {
                            let l: String = l.chars().filter(|c| !c.is_whitespace()).collect();
                            l == "abstract=True"
                        });
                    }
                }
            }
            _ => {}
        }
    }
    m
}

/// `'Author'`, `'library.Author'`, `'self'`, `Author`, `settings.AUTH_USER_MODEL`.
fn relation_target(node: Node<'_>, src: &str) -> Option<String> {
    if let Some(s) = string_value(node, src) {
        return Some(s);
    }
    let d = dotted(node, src)?;
    if d.ends_with("AUTH_USER_MODEL") {
        return Some("__user__".into());
    }
    Some(d.rsplit('.').next().unwrap_or(&d).to_string())
}

/// Queryset methods that return a queryset of the same model.
pub(crate) const QS_CHAIN: &[&str] = &[
    "all",
    "filter",
    "exclude",
    "order_by",
    "select_related",
    "prefetch_related",
    "distinct",
    "annotate",
    "alias",
    "only",
    "defer",
    "using",
    "select_for_update",
    "reverse",
    "none",
    "iterator",
    "complex_filter",
    "extra",
    "get_queryset",
];

fn read_qs_methods(body: Node<'_>, src: &str) -> HashMap<String, QsMethod> {
    let mut out = HashMap::new();
    let mut cursor = body.walk();
    for stmt in body.named_children(&mut cursor) {
        let f = match stmt.kind() {
            "function_definition" => stmt,
            "decorated_definition" => match stmt.child_by_field_name("definition") {
                Some(f) if f.kind() == "function_definition" => f,
                _ => continue,
            },
            _ => continue,
        };
        let (Some(name), Some(fbody)) = (f.child_by_field_name("name"), f.child_by_field_name("body")) else {
            continue;
        };
        let mut m = QsMethod { returns_queryset: true, ..Default::default() };
        let mut returns = 0;
        crate::parse::for_each_node(fbody, |n| match n.kind() {
            "return_statement" => {
                returns += 1;
                // `return (\n super().get_queryset()\n .filter(...)\n)`: the call inside.
                let mut value = n.named_child(0);
                while let Some(p) = value.filter(|v| v.kind() == "parenthesized_expression") {
                    value = p.named_child(0);
                }
                let ok = value.is_some_and(|v| {
                    v.kind() == "call"
                        && v.child_by_field_name("function").is_some_and(|f| {
                            f.kind() == "attribute"
                                && f.child_by_field_name("attribute").is_some_and(|a| QS_CHAIN.contains(&text(a, src)))
                                && text(f, src).starts_with("super(")
                                || f.kind() == "attribute"
                                    && f.child_by_field_name("attribute")
                                        .is_some_and(|a| QS_CHAIN.contains(&text(a, src)))
                                    && text(f, src).starts_with("self")
                                || f.kind() == "attribute"
                                    && f.child_by_field_name("attribute")
                                        .is_some_and(|a| QS_CHAIN.contains(&text(a, src)))
                                    && builds_queryset(text(f, src))
                        })
                        || v.kind() == "call" && builds_queryset(text(v, src))
                });
                if !ok {
                    m.returns_queryset = false;
                }
            }
            "call" => {
                let Some(func) = n.child_by_field_name("function") else { return };
                let Some(attr) = func.child_by_field_name("attribute") else { return };
                let which = text(attr, src);
                if which != "select_related" && which != "prefetch_related" {
                    return;
                }
                let (pos, kw) = call_args(n, src);
                if !kw.is_empty() {
                    m.opaque = true;
                }
                for a in pos {
                    match string_value(a, src) {
                        Some(s) if which == "select_related" => m.select.push(s),
                        Some(s) => m.prefetch.push(s),
                        None => m.opaque = true,
                    }
                }
            }
            _ => {}
        });
        if returns == 0 {
            m.returns_queryset = false;
        }
        out.insert(text(name, src).to_string(), m);
    }
    out
}

/// `SomeQuerySet(self.model, ...)...`: a manager's `get_queryset()` building its queryset class
/// for its own model (soft-delete managers do).
fn builds_queryset(code: &str) -> bool {
    let name_end = code.find('(').unwrap_or(0);
    let name = &code[..name_end];
    name.ends_with("QuerySet")
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && code[name_end + 1..].trim_start().starts_with("self.model")
}

const RELATED_FIELDS: &[(&str, bool)] = &[
    ("PrimaryKeyRelatedField", false),
    ("HyperlinkedRelatedField", false),
    ("StringRelatedField", true),
    ("SlugRelatedField", true),
    ("HyperlinkedIdentityField", false),
];

fn read_serializer(body: Node<'_>, src: &str, aliases: &HashMap<String, String>) -> Serializer {
    let mut s = Serializer::default();
    let mut cursor = body.walk();
    for stmt in body.named_children(&mut cursor) {
        match stmt.kind() {
            "expression_statement" => {
                let Some(assign) = stmt.named_child(0).filter(|a| a.kind() == "assignment") else { continue };
                let (Some(left), Some(right)) =
                    (assign.child_by_field_name("left"), assign.child_by_field_name("right"))
                else {
                    continue;
                };
                if left.kind() != "identifier" || right.kind() != "call" {
                    continue;
                }
                let field = text(left, src).to_string();
                let callee = callee_name(right, src, aliases).unwrap_or_default();
                let (_, kw) = call_args(right, src);
                let kwarg = |k: &str| kw.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
                let many = kwarg("many").is_some_and(|v| text(v, src) == "True");
                let source = kwarg("source").and_then(|v| string_value(v, src));
                if callee == "SerializerMethodField" {
                    let (pos, _) = call_args(right, src);
                    let method = kwarg("method_name")
                        .or_else(|| pos.first().copied())
                        .and_then(|v| string_value(v, src))
                        .unwrap_or_else(|| format!("get_{field}"));
                    s.declared.push((field, SerField::Method { method }));
                } else if callee.ends_with("Serializer") {
                    let source = source.unwrap_or_else(|| field.clone());
                    s.declared.push((field, SerField::Nested { serializer: callee, many, source }));
                } else if let Some((_, loads)) = RELATED_FIELDS.iter().find(|(n, _)| *n == callee) {
                    let source = source.unwrap_or_else(|| field.clone());
                    s.declared.push((field, SerField::Related { many, loads: *loads, source }));
                } else if many && callee.ends_with("Field") && callee != "ListField" {
                    // The project's own related field (`TagsField(PrimaryKeyRelatedField)`)
                    // with many=True: it reads every related row.
                    let source = source.unwrap_or_else(|| field.clone());
                    s.declared.push((field, SerField::Related { many: true, loads: false, source }));
                } else if let Some(src_path) = source.clone().filter(|p| p.contains('.')) {
                    s.declared.push((field, SerField::Source { source: src_path }));
                } else {
                    // A plain field reads its source (the field's name by default) on output,
                    // unless it is write-only or hidden; `source="*"` passes the whole object.
                    let write_only = kwarg("write_only").is_some_and(|v| text(v, src) == "True");
                    let read = callee.ends_with("Field") && callee != "HiddenField" && !write_only;
                    let source = source.filter(|_| read).or_else(|| read.then(|| field.clone()));
                    let source = source.filter(|p| p != "*").unwrap_or_default();
                    s.declared.push((field, SerField::Source { source }));
                }
            }
            "function_definition" | "decorated_definition" => {
                // `@extend_schema_field(...)` and other decorators on a method field's method.
                let def = match stmt.kind() {
                    "decorated_definition" => {
                        stmt.child_by_field_name("definition").filter(|d| d.kind() == "function_definition")
                    }
                    _ => Some(stmt),
                };
                if let Some((def, n)) = def.and_then(|d| Some((d, d.child_by_field_name("name")?))) {
                    let decorated =
                        |name: &str| stmt.kind() == "decorated_definition" && has_decorator(stmt, src, name);
                    let index = if decorated("staticmethod") {
                        Some(0)
                    } else if decorated("classmethod") {
                        Some(1)
                    } else {
                        None
                    };
                    if let Some(helper) = index.and_then(|i| queryset_helper(def, src, i)) {
                        s.eager.insert(text(n, src).to_string(), helper);
                    }
                    s.reshapes |= matches!(text(n, src), "__init__" | "get_fields" | "to_representation");
                    s.methods.insert(text(n, src).to_string(), object_chains(def, src));
                    s.queries.insert(text(n, src).to_string(), manager_queries(def, src));
                }
            }
            "class_definition" if stmt.child_by_field_name("name").is_some_and(|n| text(n, src) == "Meta") => {
                s.has_meta = true;
                let Some(mb) = stmt.child_by_field_name("body") else { continue };
                let mut c = mb.walk();
                for ms in mb.named_children(&mut c) {
                    let Some(a) = ms.named_child(0).filter(|a| a.kind() == "assignment") else { continue };
                    let (Some(l), Some(r)) = (a.child_by_field_name("left"), a.child_by_field_name("right")) else {
                        continue;
                    };
                    match text(l, src) {
                        "model" if text(r, src) == "get_user_model()" => s.model = Some(USER_MODEL_CALL.to_string()),
                        "model" => s.model = dotted(r, src).map(|d| d.rsplit('.').next().unwrap_or(&d).to_string()),
                        "depth" => s.depth = text(r, src).parse().unwrap_or(0).min(4),
                        "fields" => {
                            if string_value(r, src).as_deref() == Some("__all__") {
                                s.all_fields = true;
                            } else {
                                let mut names = Vec::new();
                                if meta_fields(r, src, &mut names, &mut s.fields_from, 0) {
                                    s.fields = Some(names);
                                } else {
                                    s.fields_from.clear();
                                    s.fields_unknown = true;
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    s
}

/// `Meta.fields` as a literal list or tuple of names, or a sum of them and `Base.Meta.fields`
/// (the base's name goes to `from`); `false` for anything else.
fn meta_fields(n: Node<'_>, src: &str, names: &mut Vec<String>, from: &mut Vec<String>, depth: usize) -> bool {
    if depth > 16 {
        return false;
    }
    match n.kind() {
        "list" | "tuple" => {
            let mut c = n.walk();
            let items: Vec<Node<'_>> = n.named_children(&mut c).filter(|e| e.kind() != "comment").collect();
            items.into_iter().all(|e| string_value(e, src).map(|v| names.push(v)).is_some())
        }
        "parenthesized_expression" => n.named_child(0).is_some_and(|i| meta_fields(i, src, names, from, depth + 1)),
        "binary_operator" => {
            let plus = n.child_by_field_name("operator").is_some_and(|o| text(o, src) == "+");
            plus && [n.child_by_field_name("left"), n.child_by_field_name("right")]
                .into_iter()
                .all(|x| x.is_some_and(|x| meta_fields(x, src, names, from, depth + 1)))
        }
        "attribute" => match dotted(n, src).as_deref().and_then(|d| d.strip_suffix(".Meta.fields")) {
            Some(base) if !base.is_empty() => {
                from.push(base.rsplit('.').next().unwrap_or(base).to_string());
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// Whether a view's `get_queryset()` only returns `self.model.objects.all()` (or
/// `self.model.objects`), other paths raising: the rows of the subclass's `model`.
fn returns_model_objects(def: Node<'_>, src: &str) -> bool {
    let mut returns = 0;
    let mut generic = true;
    crate::parse::for_each_node(def, |n| {
        if n.kind() == "return_statement" {
            returns += 1;
            let v = n.named_child(0).map(|v| text(v, src)).unwrap_or("");
            generic &= matches!(v, "self.model.objects.all()" | "self.model.objects");
        }
        generic &= !matches!(n.kind(), "function_definition" | "lambda") || n == def;
    });
    generic && returns > 0
}

/// Whether a decorated definition has the decorator `name` (`@name`, `@x.name`).
fn has_decorator(decorated: Node<'_>, src: &str, name: &str) -> bool {
    let mut c = decorated.walk();
    let found = decorated
        .named_children(&mut c)
        .filter(|d| d.kind() == "decorator")
        .filter_map(|d| d.named_child(0))
        .any(|e| dotted(e, src).is_some_and(|d| d.rsplit('.').next() == Some(name)));
    found
}

/// A function that only adds loading to the queryset it is given (its parameter number
/// `index`): every statement is `qs = qs.<chain>(...)` or a final `return qs.<chain>(...)`,
/// the chain made of queryset methods. What it loads (a non-literal argument makes it opaque);
/// `None` when the function does anything else.
pub(crate) fn queryset_helper(def: Node<'_>, src: &str, index: usize) -> Option<QsMethod> {
    let params = def.child_by_field_name("parameters")?;
    let p = params.named_child(index).filter(|p| p.kind() == "identifier")?;
    let p = text(p, src);
    let body = def.child_by_field_name("body")?;
    let mut m = QsMethod { returns_queryset: true, ..Default::default() };
    // `p.a(...).b(...)`: the calls from the outside in, down to `p`.
    fn chain_on(n: Node<'_>, p: &str, src: &str, m: &mut QsMethod) -> bool {
        if n.kind() == "identifier" {
            return text(n, src) == p;
        }
        let Some(f) = n.child_by_field_name("function").filter(|f| n.kind() == "call" && f.kind() == "attribute")
        else {
            return false;
        };
        let (Some(obj), Some(attr)) = (f.child_by_field_name("object"), f.child_by_field_name("attribute")) else {
            return false;
        };
        let method = text(attr, src);
        if !QS_CHAIN.contains(&method) || method == "none" || method == "iterator" {
            return false;
        }
        if method == "select_related" || method == "prefetch_related" {
            let (pos, kw) = call_args(n, src);
            if pos.is_empty() || !kw.is_empty() {
                m.opaque = true;
            }
            for a in pos {
                match string_value(a, src) {
                    Some(s) if method == "select_related" => m.select.push(s),
                    Some(s) => m.prefetch.push(s),
                    None => m.opaque = true,
                }
            }
        }
        chain_on(obj, p, src, m)
    }
    let mut c = body.walk();
    let stmts: Vec<Node<'_>> = body.named_children(&mut c).filter(|s| s.kind() != "comment").collect();
    let (last, rest) = stmts.split_last()?;
    if last.kind() != "return_statement" || !chain_on(last.named_child(0)?, p, src, &mut m) {
        return None;
    }
    for (i, stmt) in rest.iter().enumerate() {
        let e = stmt.named_child(0).filter(|_| stmt.kind() == "expression_statement")?;
        if i == 0 && e.kind() == "string" {
            continue;
        }
        let (l, r) = (e.child_by_field_name("left")?, e.child_by_field_name("right")?);
        if e.kind() != "assignment" || text(l, src) != p || !chain_on(r, p, src, &mut m) {
            return None;
        }
    }
    Some(m)
}

/// Methods of a related manager or a queryset that build a new query whatever was prefetched.
const REQUERY_METHODS: &[&str] = &[
    "filter",
    "exclude",
    "order_by",
    "get",
    "annotate",
    "values",
    "values_list",
    "aggregate",
    "select_related",
    "prefetch_related",
    "only",
    "defer",
    "distinct",
    "latest",
    "earliest",
];

/// The queries an instance method (`self` first) builds in the statements that run every
/// time: `self.<attr>.<requery method>(...)` or `<Name>.objects.<method>(...)`.
fn method_query(def: Node<'_>, src: &str) -> Option<Vec<(String, String)>> {
    let params = def.child_by_field_name("parameters")?;
    if params.named_child(0).map(|p| text(p, src)) != Some("self") {
        return None;
    }
    method_query_on(def, src, "self")
}

/// The query of a module function a property's body hands `self` to whenever it runs
/// (`return collect_history(self)`).
fn passes_self(def: Node<'_>, src: &str, funcs: &HashMap<String, Node<'_>>) -> Option<Vec<(String, String)>> {
    let mut nodes = Vec::new();
    unconditional(def.child_by_field_name("body")?, &mut nodes);
    let mut found = None;
    for n in nodes {
        crate::parse::for_each_node(n, |c| {
            if found.is_some() || c.kind() != "call" {
                return;
            }
            let Some(f) = c.child_by_field_name("function").filter(|f| f.kind() == "identifier") else { return };
            let (pos, kw) = call_args(c, src);
            if pos.len() == 1 && kw.is_empty() && text(pos[0], src) == "self" {
                found = funcs.get(text(f, src)).and_then(|d| function_query(*d, src));
            }
        });
    }
    found
}

/// `method_query` for a module function given the instance as its parameter `param`
/// (`def collect(model): return model.history.exclude(...)`), the receivers named on `self`.
fn function_query(def: Node<'_>, src: &str) -> Option<Vec<(String, String)>> {
    let params = def.child_by_field_name("parameters")?;
    let mut c = params.walk();
    let ps: Vec<Node<'_>> = params.named_children(&mut c).collect();
    let [p] = ps[..] else { return None };
    if p.kind() != "identifier" {
        return None;
    }
    let found = method_query_on(def, src, text(p, src))?;
    let prefix = format!("{}.", text(p, src));
    Some(
        found
            .into_iter()
            .map(|(recv, m)| match recv.strip_prefix(&prefix) {
                Some(attr) => (format!("self.{attr}"), m),
                None => (recv, m),
            })
            .collect(),
    )
}

fn method_query_on(def: Node<'_>, src: &str, me: &str) -> Option<Vec<(String, String)>> {
    let mut nodes = Vec::new();
    unconditional(def.child_by_field_name("body")?, &mut nodes);
    let mut found = Vec::new();
    for n in nodes {
        crate::parse::for_each_node(n, |c| {
            if c.kind() != "call" {
                return;
            }
            let Some(f) = c.child_by_field_name("function").filter(|f| f.kind() == "attribute") else { return };
            let (Some(obj), Some(attr)) = (f.child_by_field_name("object"), f.child_by_field_name("attribute")) else {
                return;
            };
            if obj.kind() != "attribute" {
                return;
            }
            let (Some(base), Some(rel)) = (obj.child_by_field_name("object"), obj.child_by_field_name("attribute"))
            else {
                return;
            };
            let (base, rel, method) = (text(base, src), text(rel, src), text(attr, src));
            let on_self = base == me && REQUERY_METHODS.contains(&method);
            let on_model = rel == "objects"
                && base.starts_with(|c: char| c.is_ascii_uppercase())
                && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if on_self || on_model {
                found.push((format!("{base}.{rel}"), method.to_string()));
            }
        });
    }
    (!found.is_empty()).then_some(found)
}

/// Whether a decorated method is a property computed per instance: `@property`,
/// `@cached_property`, `@functools.cached_property` (not a setter, not a class property).
fn is_property(decorated: Node<'_>, src: &str) -> bool {
    let mut c = decorated.walk();
    let found =
        decorated.named_children(&mut c).filter(|d| d.kind() == "decorator").filter_map(|d| d.named_child(0)).any(
            |e| {
                matches!(
                    dotted(e, src).as_deref().map(|d| d.rsplit('.').next().unwrap_or(d)),
                    Some("property" | "cached_property")
                )
            },
        );
    found
}

/// What a property reads on `self`, or `None` when its body consults a cache or the instance's
/// state (`hasattr(self, ...)`, `getattr(self, ...)`, `self._prefetched_objects_cache`,
/// `self.__dict__`, `self._state`): a property written around a prefetch is not judged.
fn property_chains(def: Node<'_>, src: &str) -> Option<Vec<Vec<String>>> {
    let body = def.child_by_field_name("body")?;
    let code = text(body, src);
    let guarded = ["hasattr(", "getattr(", "_prefetched_objects_cache", "__dict__", "_state", "_cache"];
    if guarded.iter().any(|g| code.contains(g)) {
        return None;
    }
    let mut nodes = Vec::new();
    unconditional(body, &mut nodes);
    let mut out: Vec<Vec<String>> = Vec::new();
    for n in nodes {
        for c in self_chains(n, src) {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    Some(out)
}

/// The parts of a block that run whenever it runs: statements up to the first one that may
/// return, of an `if` only its condition, of a `for` only its iterable, the bodies of `try` and
/// `with`. A read under a condition depends on the data (`if self.kind == LOGO: return ...`),
/// so a property's conditional reads are not judged.
fn unconditional<'t>(block: Node<'t>, out: &mut Vec<Node<'t>>) {
    let mut c = block.walk();
    for stmt in block.named_children(&mut c) {
        let returns = {
            let mut found = false;
            crate::parse::for_each_node(stmt, |n| {
                found |= matches!(n.kind(), "return_statement" | "raise_statement");
            });
            found
        };
        match stmt.kind() {
            "if_statement" | "while_statement" => out.extend(stmt.child_by_field_name("condition")),
            "for_statement" => out.extend(stmt.child_by_field_name("right")),
            "try_statement" | "with_statement" => {
                if let Some(b) = stmt.child_by_field_name("body") {
                    unconditional(b, out);
                }
            }
            "expression_statement" | "return_statement" | "raise_statement" => out.push(stmt),
            "comment" | "pass_statement" => {}
            _ => return,
        }
        if returns {
            return;
        }
    }
}

/// Attribute chains on `self` an expression reads when it runs: not the branches of `a if c
/// else b` (only `c`), not the right operand of `and`/`or`, nothing inside a lambda.
fn self_chains(node: Node<'_>, src: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    crate::parse::for_each_node(node, |n| {
        if n.kind() != "identifier" || text(n, src) != "self" {
            return;
        }
        let mut up = n;
        while let Some(p) = up.parent() {
            if p == node {
                break;
            }
            let conditional = match p.kind() {
                "lambda" => true,
                "conditional_expression" => p.named_child(1) != Some(up),
                "boolean_operator" => p.child_by_field_name("right") == Some(up),
                _ => false,
            };
            if conditional {
                return;
            }
            up = p;
        }
        let chain = attribute_chain(n, src);
        if !chain.is_empty() {
            out.push(chain);
        }
    });
    out
}

/// The attributes read on `n` in a row: `n.a.b` gives `["a", "b"]` (at most 9).
fn attribute_chain(n: Node<'_>, src: &str) -> Vec<String> {
    let mut chain = Vec::new();
    let mut node = n;
    while let Some(parent) = node.parent().filter(|p| p.kind() == "attribute") {
        if parent.child_by_field_name("object") != Some(node) || chain.len() > 8 {
            break;
        }
        let Some(attr) = parent.child_by_field_name("attribute") else { break };
        chain.push(text(attr, src).to_string());
        node = parent;
    }
    chain
}

/// The attribute chains a method `def m(self, obj)` reads on `obj`.
fn object_chains(def: Node<'_>, src: &str) -> Vec<Vec<String>> {
    attr_chains(def, src, 1)
}

/// The attribute chains a function reads on its parameter number `index` (0 is `self`).
fn attr_chains(def: Node<'_>, src: &str, index: usize) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let Some(obj) = def
        .child_by_field_name("parameters")
        .and_then(|p| p.named_child(index))
        .filter(|p| p.kind() == "identifier")
        .map(|p| text(p, src))
    else {
        return out;
    };
    let Some(body) = def.child_by_field_name("body") else { return out };
    crate::parse::for_each_node(body, |n| {
        if n.kind() != "identifier" || text(n, src) != obj {
            return;
        }
        let chain = attribute_chain(n, src);
        if !chain.is_empty() {
            out.push(chain);
        }
    });
    out
}

/// The class names whose default manager a function queries: `Name.objects.<method>(...)`,
/// `Name._default_manager.<method>(...)`, outside nested functions and lambdas (they may not
/// run). `Name` may be a variable holding a model class (`entity_model.objects.get(...)`).
fn manager_queries(def: Node<'_>, src: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let Some(body) = def.child_by_field_name("body") else { return out };
    crate::parse::for_each_node(body, |n| {
        if n.kind() != "attribute" {
            return;
        }
        let (Some(obj), Some(attr)) = (n.child_by_field_name("object"), n.child_by_field_name("attribute")) else {
            return;
        };
        if obj.kind() != "identifier" || !matches!(text(attr, src), "objects" | "_default_manager") {
            return;
        }
        let name = text(obj, src);
        if name == "self" || out.iter().any(|o| o == name) {
            return;
        }
        // A method call on the manager, not the manager passed on (`.none()` runs no query).
        let called = n
            .parent()
            .filter(|p| p.kind() == "attribute" && p.child_by_field_name("object") == Some(n))
            .filter(|p| p.child_by_field_name("attribute").is_some_and(|m| text(m, src) != "none"))
            .and_then(|p| p.parent())
            .is_some_and(|c| c.kind() == "call");
        let mut up = n.parent();
        while let Some(p) = up {
            if p == body {
                break;
            }
            if matches!(p.kind(), "lambda" | "function_definition" | "class_definition") {
                return;
            }
            up = p.parent();
        }
        if called {
            out.push(name.to_string());
        }
    });
    out
}

/// Words of a module that patches what `makemigrations` compares (Meta option keys, where
/// migrations live, fields added per language).
pub(crate) const MIGRATION_PATCH_WORDS: &[&str] = &["ALTER_OPTION_KEYS", "MIGRATION_MODULES", "modeltranslation"];

/// A module's top-level classes: (name, plain), plain when it has no base but `object`, and
/// its body no `Meta` and no metaclass (a mixin that cannot add Meta options).
pub(crate) fn top_classes(text: &str) -> Vec<(String, bool)> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| regex::Regex::new(r"(?m)^class\s+(\w+)\s*(\([^)]*\))?\s*:").unwrap());
    let mut out = Vec::new();
    for c in re.captures_iter(text) {
        let bases = c.get(2).map_or("", |b| b.as_str().trim_matches(['(', ')']).trim());
        let end = c.get(0).map_or(0, |m| m.end());
        // The body: up to the next line that starts at column 0 with code.
        let rest = &text[end..];
        let body_end = rest
            .match_indices('\n')
            .map(|(i, _)| i + 1)
            .find(|&i| rest[i..].chars().next().is_some_and(|ch| !ch.is_whitespace() && ch != '#' && ch != ')'))
            .unwrap_or(rest.len());
        let body = &rest[..body_end];
        let plain = (bases.is_empty() || bases == "object") && !body.contains("Meta") && !body.contains("metaclass");
        out.push((c[1].to_string(), plain));
    }
    out
}
