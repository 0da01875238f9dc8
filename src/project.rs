//! The project pass: facts that need more than one file, built before the per-file pass.
//! Today: the Django settings chain and the repository's git index. Project rules report
//! through `registry::ProjectSink`.

use crate::django::models::ModelGraph;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

use crate::classify::{FileClass, Lang};
use crate::config::Config;
use crate::django::settings::{self, SettingsIndex};
use crate::source::SourceFile;

/// A file the run loaded; `target` when it is reported on (not only context for the project).
pub struct Loaded {
    pub file: Arc<SourceFile>,
    pub target: bool,
}

/// The project facts a rule needs built before it runs: each rule declares them (`Rule::needs`)
/// and the project pass builds the union for the selected rules, nothing more.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// The settings chain: settings modules, production roots, resolved values.
    pub settings: bool,
    /// Field declarations across migrations, and irreversible operation classes.
    pub migration_history: bool,
    /// The migrations a next deploy applies (each app's leaves).
    pub deploy_migrations: bool,
    /// The model graph: models, managers, querysets, serializers.
    pub models: bool,
    /// What views give the templates that mark values safe.
    pub template_contexts: bool,
    /// The text of every migration, models module and package `__init__.py`
    /// (`Project::sources`), for rules that read them all (django-migration-missing).
    pub model_sources: bool,
}

impl Needs {
    pub const NONE: Needs = Needs {
        settings: false,
        migration_history: false,
        deploy_migrations: false,
        models: false,
        template_contexts: false,
        model_sources: false,
    };
    pub const SETTINGS: Needs = Needs { settings: true, ..Needs::NONE };

    pub fn union(self, o: Needs) -> Needs {
        Needs {
            settings: self.settings || o.settings,
            migration_history: self.migration_history || o.migration_history,
            deploy_migrations: self.deploy_migrations || o.deploy_migrations,
            models: self.models || o.models,
            template_contexts: self.template_contexts || o.template_contexts,
            model_sources: self.model_sources || o.model_sources,
        }
    }
}

pub struct Project {
    /// Files the project pass loaded (settings candidates); `Loc::file` indexes this.
    pub files: Vec<Arc<SourceFile>>,
    pub settings: SettingsIndex,
    /// Every walked file with content, and the empty ones with a name rules and the checklist
    /// ask for (dotenv files, manage.py, models.py, apps.py, package.json), relative to the
    /// report root, with their class. Other empty files are counted, not listed.
    pub walked: Vec<(String, FileClass)>,
    /// `walked`'s paths as a set, built on first use.
    walked_set: std::sync::OnceLock<std::collections::HashSet<String>>,
    /// Production (not test, tooling, docs or vendored) Python and JS/TS files checked.
    pub production_files: (usize, usize),
    /// Paths git tracks, relative to the report root; `None` outside a git repository.
    pub tracked: Option<Vec<String>>,
    pub by_rel: HashMap<String, usize>,
    /// Field declarations across each app's migrations, and irreversible operation classes.
    pub migrations: crate::django::migrations::FieldHistory,
    /// The migrations a next deploy would apply (each app's leaves), when the run is scoped to
    /// them; `None`: every migration is judged (`--all-migrations`, `--diff-base`).
    pub deploy_migrations: Option<std::collections::HashSet<String>>,
    /// What the project's views give the templates that mark values safe (xss-unsafe-html).
    pub template_contexts: crate::django::html::TemplateContexts,
    /// Models, managers, querysets and serializers of the whole project.
    pub models: crate::django::models::ModelGraph,
    /// The report root (absolute), to read files the walk did not load (through `read`,
    /// `metadata` and `list_dir`, which record what they saw for the run cache).
    pub root: Option<std::path::PathBuf>,
    /// What rules read from the disk beyond the loaded files.
    pub reads: Reads,
    /// Texts of loaded files by path (`Needs::model_sources`): migrations, models modules and
    /// `__init__.py` files, outside tests and vendored code; `setup::read_rel` reads them here
    /// before the disk.
    pub sources: HashMap<String, String>,
    /// The questions the pass and the rules asked of loaded files' texts (for the run cache).
    pub probes: Probes,
    /// Every loaded file by path, while the project rules run (the engine empties it before
    /// the per-file pass, so that each file's text and tree are freed when the file is done):
    /// `read` serves a loaded file from here rather than from the disk.
    pub loaded: HashMap<String, Arc<SourceFile>>,
    /// The files reported on, when files are named (a pre-commit hook); `None`: every file. A
    /// project rule whose findings can only land in files that are not reported on may skip
    /// its work.
    pub targets: Option<std::collections::HashSet<String>>,
}

/// A look at the disk beyond the loaded files: what was asked, so that it can be asked again.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Look {
    /// The bytes of a regular file of at most `cap` bytes; a symlink is followed only when
    /// `follow`.
    Read { path: std::path::PathBuf, cap: u64, follow: bool },
    /// Whether a path is a regular file, a folder or something else, and its size (symlinks not
    /// followed).
    Metadata(std::path::PathBuf),
    /// The names in a folder, and which are folders.
    ListDir(std::path::PathBuf),
    /// The size of a regular file (symlinks not followed) and its first `n` bytes.
    Head { path: std::path::PathBuf, n: usize },
}

/// Every `Look` a run made, with a digest of what it saw: a cached result stands only while
/// each look still sees the same.
#[derive(Debug, Default)]
pub struct Reads(std::sync::Mutex<Vec<(Look, u64)>>);

impl Reads {
    /// The looks made, sorted, each once.
    pub fn looks(&self) -> Vec<(Look, u64)> {
        let mut v = self.0.lock().map(|v| v.clone()).unwrap_or_default();
        v.sort();
        v.dedup();
        v
    }

    fn record(&self, look: Look, digest: u64) {
        if let Ok(mut v) = self.0.lock() {
            v.push((look, digest));
        }
    }
}

/// A question the project pass asked of a loaded file's text. The pass is a function of the
/// answers it got (and of the files' paths and classes): asked again of a file whose content has
/// changed, the same answers mean the same project, so the run cache can keep the project
/// rules' findings and every unchanged file's (`Probes::still_stands`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Probe {
    /// The whole text: a file the project holds, parsed or read. A changed file never answers
    /// the same.
    Text,
    /// Whether the text contains a literal.
    Contains(String),
    /// `settings::is_candidate`.
    SettingsCandidate,
    /// `models::is_candidate`, with or without serializers.
    ModelCandidate(bool),
    /// `drf::may_hold_list_view`.
    ListView,
    /// `html::imported_names`.
    ImportedNames,
    /// `html::safe_value_functions`.
    SafeValueFunctions,
    /// The settings modules the file names (`SettingsModules::scan` of the file alone).
    SettingsNamed,
    /// Whether the text contains one of the literals (one question for many).
    MentionsAny(Arc<Vec<String>>),
    /// A module's outline for django-migration-missing, if of at most `cap` bytes: its
    /// top-level classes (`models::top_classes`) and whether it patches what makemigrations
    /// compares (`models::MIGRATION_PATCH_WORDS`).
    Outline { cap: u64 },
    /// Whether the text, if of at most `cap` bytes, matches a regular expression (bytes,
    /// `regex` syntax): a rule's question that needs no more of the file.
    Matches { pattern: Arc<str>, cap: u64 },
    /// What a module gives the model graph when it holds no model (`ModelGraph::outline`: its
    /// views, serializers and manager classes, wherever they sit); `u64::MAX` when it holds
    /// one, which is then read whole (`Text`).
    GraphOutline,
    /// What a module gives the templates (`module_contexts`), for the needles of
    /// `MentionsAny` (`def NAME(` for the functions, the others template names): a digest of
    /// its contexts, sorted.
    Contexts(Arc<Vec<String>>),
}

impl Probe {
    /// The answer of the text of the file at `rel` (a digest for the answers that are values).
    pub fn answer(&self, rel: &str, text: &str) -> u64 {
        use crate::finding::fnv1a;
        let strings = |v: &[String]| fnv1a(&v.iter().map(|s| s.as_bytes()).collect::<Vec<_>>());
        match self {
            Probe::Text => 0,
            Probe::Contains(w) => u64::from(text.contains(w.as_str())),
            Probe::SettingsCandidate => u64::from(settings::is_candidate(rel, text)),
            Probe::ModelCandidate(s) => u64::from(crate::django::models::is_candidate(rel, text, *s)),
            Probe::ListView => u64::from(crate::django::drf::may_hold_list_view(text)),
            Probe::ImportedNames => strings(&crate::django::html::imported_names(text)),
            Probe::SafeValueFunctions => strings(&crate::django::html::safe_value_functions(text)),
            Probe::Outline { cap } => match outline(text, *cap) {
                None => u64::MAX,
                Some((classes, patches)) => {
                    let parts: Vec<String> = classes.iter().map(|(n, p)| format!("{n}:{p}")).collect();
                    strings(&parts) ^ u64::from(patches)
                }
            },
            Probe::MentionsAny(needles) => u64::from(Mentions::new(needles).is_in(text)),
            Probe::Matches { pattern, cap } => u64::from(
                text.len() as u64 <= *cap
                    // A pattern that no longer compiles answers differently: the asker runs again.
                    && regex::bytes::Regex::new(pattern).map_or(true, |re| re.is_match(text.as_bytes())),
            ),
            Probe::Contexts(needles) => {
                let functions: Vec<String> = needles
                    .iter()
                    .filter_map(|n| n.strip_prefix("def ").and_then(|r| r.strip_suffix('(')).map(str::to_string))
                    .collect();
                let wanted: std::collections::HashSet<String> =
                    needles.iter().filter(|n| !n.starts_with("def ")).cloned().collect();
                let functions_set = functions.iter().cloned().collect();
                let mine = module_contexts(&source_of(rel, text), &functions, &wanted, &functions_set);
                crate::digest::digest64(&[crate::django::html::contexts_text(&mine).as_bytes()])
            }
            Probe::GraphOutline => graph_outline(&graph_of(&source_of(rel, text))).unwrap_or(u64::MAX),
            Probe::SettingsNamed => {
                let named = settings::SettingsModules::scan(std::iter::once((rel, text)));
                fnv1a(&[strings(&named.deploy).to_le_bytes().as_slice(), &strings(&named.test).to_le_bytes()])
            }
        }
    }
}

/// `Probe::MentionsAny`'s test, fast on large modules: literals of the form `def NAME(` are
/// looked up by the name after each `def ` of the text (one SIMD search however many names);
/// the others are searched for one by one. The same answer as searching for each literal.
struct Mentions<'a> {
    defs: std::collections::HashSet<&'a str>,
    /// The longest name in `defs`.
    longest: usize,
    others: Vec<&'a str>,
}

impl<'a> Mentions<'a> {
    fn new(needles: &'a [String]) -> Self {
        let mut defs = std::collections::HashSet::new();
        let mut others = Vec::new();
        for n in needles {
            match n.strip_prefix("def ").and_then(|r| r.strip_suffix('(')) {
                Some(name) if !name.is_empty() && !name.contains('(') && !name.contains("def ") => {
                    defs.insert(name);
                }
                _ => others.push(n.as_str()),
            }
        }
        let longest = defs.iter().map(|d: &&str| d.len()).max().unwrap_or(0);
        Mentions { defs, longest, others }
    }

    fn is_in(&self, text: &str) -> bool {
        if !self.defs.is_empty() {
            for (at, _) in text.match_indices("def ") {
                let rest = &text.as_bytes()[at + 4..];
                // `def NAME(`: NAME is what stands before the first `(`, looked for no further
                // than the longest name.
                let window = &rest[..rest.len().min(self.longest + 1)];
                if let Some(open) = window.iter().position(|&b| b == b'(') {
                    if std::str::from_utf8(&rest[..open]).is_ok_and(|name| self.defs.contains(name)) {
                        return true;
                    }
                }
            }
        }
        self.others.iter().any(|n| text.contains(n))
    }
}

/// `Probe::Outline`'s answer.
fn outline(text: &str, cap: u64) -> Option<(Vec<(String, bool)>, bool)> {
    (text.len() as u64 <= cap).then(|| {
        let patches = crate::django::models::MIGRATION_PATCH_WORDS.iter().any(|w| text.contains(w));
        (crate::django::models::top_classes(text), patches)
    })
}

/// A part of the project, built when a rule needs it (`Needs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    Settings,
    /// The migration history and the migrations a next deploy applies.
    History,
    Models,
    Templates,
    Sources,
}

impl Part {
    pub const ALL: [Part; 5] = [Part::Settings, Part::History, Part::Models, Part::Templates, Part::Sources];

    pub fn name(self) -> &'static str {
        match self {
            Part::Settings => "settings",
            Part::History => "history",
            Part::Models => "models",
            Part::Templates => "templates",
            Part::Sources => "sources",
        }
    }
}

impl Needs {
    /// Whether building these needs builds `part`.
    pub fn has(self, part: Part) -> bool {
        match part {
            Part::Settings => self.settings,
            Part::History => self.migration_history || self.deploy_migrations,
            Part::Models => self.models,
            Part::Templates => self.template_contexts,
            Part::Sources => self.model_sources,
        }
    }
}

/// Who asked a question: a part of the project pass, a project rule (its reads), or a rule
/// checking a file (its reads).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Consumer {
    Part(Part),
    Rule(&'static str),
    Files,
}

/// One recorded question: who asked, of which file, what, and the answer.
pub type Asked = (Consumer, String, Probe, u64);

/// Every question the project pass and the rules asked of loaded files' texts, with the
/// answers, and who asked.
#[derive(Debug, Default)]
pub struct Probes {
    asked: std::sync::Mutex<std::collections::BTreeSet<Asked>>,
    /// Who is asking now, for reads through `Project::read` (the engine sets it around each
    /// project rule; `Files` otherwise).
    current: std::sync::Mutex<Option<Consumer>>,
    /// Answers known from an earlier run, of files unchanged since (see `build_knowing`).
    known: HashMap<(String, Probe), u64>,
    /// Nothing is recorded: the run writes no cache (`--no-cache`, named files).
    off: bool,
}

impl Probes {
    /// Whether the text of the loaded file at `rel` contains `w`, recorded as asked by `by`.
    pub fn contains(&self, by: Consumer, rel: &str, text: &str, w: &str) -> bool {
        let answer = text.contains(w);
        self.ask(by, rel, Probe::Contains(w.to_string()), u64::from(answer));
        answer
    }

    /// Questions carried over from an earlier run, for what this run kept of it.
    pub fn extend(&self, asked: impl IntoIterator<Item = Asked>) {
        if let Ok(mut s) = self.asked.lock() {
            s.extend(asked);
        }
    }

    /// Sets who asks the reads through `Project::read` from now on (`None`: a rule checking a
    /// file).
    pub fn set_current(&self, by: Option<Consumer>) {
        if let Ok(mut c) = self.current.lock() {
            *c = by;
        }
    }

    fn current(&self) -> Consumer {
        self.current.lock().ok().and_then(|c| *c).unwrap_or(Consumer::Files)
    }

    fn ask(&self, by: Consumer, rel: &str, probe: Probe, answer: u64) {
        if self.off {
            return;
        }
        if let Ok(mut s) = self.asked.lock() {
            s.insert((by, rel.to_string(), probe, answer));
        }
    }

    /// The questions asked, sorted.
    pub fn asked(&self) -> Vec<Asked> {
        self.asked.lock().map(|s| s.iter().cloned().collect()).unwrap_or_default()
    }

    /// Whether a project built from `asked` stands for files of which those in `changed` (path
    /// and text) have a new content: each question asked of a changed file gets the same
    /// answer from its new text. (Files whose content is the same answer the same.)
    pub fn still_stands<'a>(asked: &[Asked], changed: &HashMap<&'a str, &'a str>) -> bool {
        Probes::fallen(asked, changed).is_empty()
    }

    /// Who asked a question of a changed file (path → new text) that gets another answer now:
    /// what they built or found no longer stands.
    pub fn fallen<'a>(asked: &[Asked], changed: &HashMap<&'a str, &'a str>) -> std::collections::BTreeSet<Consumer> {
        let mut out = std::collections::BTreeSet::new();
        for (by, rel, probe, answer) in asked {
            if out.contains(by) {
                continue;
            }
            let differs = match changed.get(rel.as_str()) {
                None => false,
                Some(_) if *probe == Probe::Text => true,
                Some(text) => probe.answer(rel, text) != *answer,
            };
            if differs {
                if std::env::var_os("PREFLIGHT_FALLEN").is_some() {
                    eprintln!("fallen: {by:?} by {rel}: {probe:?}");
                }
                out.insert(*by);
            }
        }
        out
    }
}

/// The project pass's view of the loaded files: each question of a file's text goes through
/// here and is recorded (`Probes`); paths, classes and whether a file is a target are free.
struct Ask<'a>(&'a Probes, Consumer);

impl Ask<'_> {
    /// The whole text (the file is then an input of the project as a whole).
    fn text<'f>(&self, l: &'f Loaded) -> &'f str {
        self.0.ask(self.1, &l.file.rel, Probe::Text, 0);
        &l.file.text
    }

    /// The file itself, to keep or parse.
    fn file<'f>(&self, l: &'f Loaded) -> &'f Arc<SourceFile> {
        self.0.ask(self.1, &l.file.rel, Probe::Text, 0);
        &l.file
    }

    fn contains(&self, l: &Loaded, w: &str) -> bool {
        self.is(l, Probe::Contains(w.to_string()))
    }

    /// The answer of `l`'s text: known from an earlier run when the file is unchanged.
    fn answer(&self, l: &Loaded, probe: &Probe) -> u64 {
        if !self.0.known.is_empty() {
            if let Some(a) = self.0.known.get(&(l.file.rel.clone(), probe.clone())) {
                return *a;
            }
        }
        probe.answer(&l.file.rel, &l.file.text)
    }

    /// A yes-or-no probe.
    fn is(&self, l: &Loaded, probe: Probe) -> bool {
        let answer = self.answer(l, &probe);
        self.0.ask(self.1, &l.file.rel, probe, answer);
        answer != 0
    }

    /// A probe whose answer is a list of names, computed by `f` (the same function `probe`
    /// names: the answer recorded is the list's digest).
    fn names(&self, l: &Loaded, probe: Probe, f: impl Fn(&str) -> Vec<String>) -> Vec<String> {
        let v = f(&l.file.text);
        let answer = crate::finding::fnv1a(&v.iter().map(|s| s.as_bytes()).collect::<Vec<_>>());
        self.0.ask(self.1, &l.file.rel, probe, answer);
        v
    }
}

/// What a look sees now, and its digest.
pub fn look(l: &Look) -> (Seen, u64) {
    take(l, true)
}

/// What a look sees now, and its digest when `digest` (else 0: a read of a loaded file, whose
/// content the cache knows already, need not be hashed byte by byte).
fn take(l: &Look, digest: bool) -> (Seen, u64) {
    use crate::digest::digest64;
    match l {
        Look::Read { path, cap, follow } => {
            let regular = if *follow {
                true
            } else {
                std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.len() <= *cap)
            };
            let bytes = if regular { crate::fsread::read_regular_capped(path, *cap).ok() } else { None };
            let digest = match &bytes {
                _ if !digest => 0,
                Some(b) => digest64(&[b"file", b]),
                None => digest64(&[b"none"]),
            };
            (Seen::Bytes(bytes), digest)
        }
        Look::Metadata(path) => {
            let m = std::fs::symlink_metadata(path).ok().map(|m| {
                let kind = if m.is_file() {
                    1
                } else if m.is_dir() {
                    2
                } else {
                    3
                };
                (kind, m.len())
            });
            let digest = match m {
                Some((kind, len)) => digest64(&[b"meta", &[kind], &len.to_le_bytes()]),
                None => digest64(&[b"none"]),
            };
            (Seen::Metadata(m), digest)
        }
        Look::ListDir(path) => {
            let names = std::fs::read_dir(path).ok().map(|entries| {
                let mut v: Vec<(String, bool)> = entries
                    .flatten()
                    .filter_map(|e| Some((e.file_name().into_string().ok()?, e.file_type().ok()?.is_dir())))
                    .collect();
                v.sort();
                v
            });
            let digest = match &names {
                Some(v) => {
                    let joined: Vec<u8> =
                        v.iter().flat_map(|(n, d)| [n.as_bytes(), if *d { b"/\n" } else { b"\n" }].concat()).collect();
                    digest64(&[b"dir", &joined])
                }
                None => digest64(&[b"none"]),
            };
            (Seen::Names(names), digest)
        }
        Look::Head { path, n } => {
            let head = std::fs::symlink_metadata(path).ok().filter(|m| m.is_file()).and_then(|m| {
                let (file, _) = crate::fsread::open_regular(path).ok()?;
                let mut head = Vec::with_capacity(*n);
                std::io::Read::read_to_end(&mut std::io::Read::take(file, *n as u64), &mut head).ok()?;
                Some((m.len(), head))
            });
            let digest = match &head {
                Some((len, h)) => digest64(&[b"head", &len.to_le_bytes(), h]),
                None => digest64(&[b"none"]),
            };
            (Seen::Head(head), digest)
        }
    }
}

/// What a look saw.
pub enum Seen {
    Bytes(Option<Vec<u8>>),
    /// (1 file, 2 folder, 3 other; size).
    Metadata(Option<(u8, u64)>),
    Names(Option<Vec<(String, bool)>>),
    Head(Option<(u64, Vec<u8>)>),
}

impl Project {
    /// Whether findings in the file at `rel` are reported (`targets`).
    pub fn is_target(&self, rel: &str) -> bool {
        self.targets.as_ref().is_none_or(|t| t.contains(rel))
    }

    pub fn file(&self, idx: usize) -> &SourceFile {
        &self.files[idx]
    }

    fn looked(&self, l: Look) -> Seen {
        // A file the run loaded is in the cache key already (path, class and content): a look
        // at it need not be taken again. (Only a regular read of it: its size or a listing of a
        // folder is not in the key.)
        let loaded = match &l {
            Look::Read { path, follow: false, .. } => self.is_loaded(path),
            _ => false,
        };
        let in_memory = match &l {
            Look::Read { path, cap, .. } if loaded => self.loaded_text(path, *cap),
            _ => None,
        };
        let (seen, digest) = match in_memory {
            Some(seen) => (seen, 0),
            None => take(&l, !loaded),
        };
        if loaded {
            // Its content is what the look saw: a change to it is a change to the project.
            if let (Look::Read { path, .. }, Some(root)) = (&l, self.root.as_deref()) {
                if let Ok(rel) = path.strip_prefix(root) {
                    self.probes.ask(self.probes.current(), &crate::fsread::path_text(rel), Probe::Text, 0);
                }
            }
        } else {
            self.reads.record(l, digest);
        }
        seen
    }

    /// The loaded file at `path` with its path from the root, while the project holds it
    /// (`loaded`).
    fn held(&self, path: &Path) -> Option<(String, &Arc<SourceFile>)> {
        let rel = crate::fsread::path_text(path.strip_prefix(self.root.as_deref()?).ok()?);
        let f = self.loaded.get(&rel)?;
        Some((rel, f))
    }

    /// Whether `text`, the text the project holds for `rel` (a settings candidate, a model
    /// source), matches `re`: recorded as that question (`Probe::Matches`, no size cap), not as
    /// a read of the whole text, so an edit that keeps the answer keeps the asker.
    pub fn held_matches(&self, rel: &str, text: &str, re: &regex::bytes::Regex) -> bool {
        self.ask_matches(rel, text, u64::MAX, re)
    }

    /// `Probe::Matches` of a text in memory, answered and recorded for the current asker.
    fn ask_matches(&self, rel: &str, text: &str, cap: u64, re: &regex::bytes::Regex) -> bool {
        let answer = text.len() as u64 <= cap && re.is_match(text.as_bytes());
        let probe = Probe::Matches { pattern: Arc::from(re.as_str()), cap };
        self.probes.ask(self.probes.current(), rel, probe, u64::from(answer));
        answer
    }

    /// Records that the current asker read the text of the loaded file at `rel` whole (a text
    /// the project holds, read without `read`).
    pub fn note_read(&self, rel: &str) {
        self.probes.ask(self.probes.current(), rel, Probe::Text, 0);
    }

    /// A Python module's outline (`Probe::Outline`): its top-level classes and whether it
    /// patches what makemigrations compares; `None` when it cannot be read or is over `cap`. For
    /// a loaded file answered from memory and recorded as that question.
    pub fn read_outline(&self, path: &Path, cap: u64) -> Option<(Vec<(String, bool)>, bool)> {
        match self.held(path) {
            Some((rel, f)) => {
                let probe = Probe::Outline { cap };
                let answer = probe.answer(&rel, &f.text);
                self.probes.ask(self.probes.current(), &rel, probe, answer);
                outline(&f.text, cap)
            }
            None => {
                let bytes = self.read(path, cap, false)?;
                outline(&String::from_utf8_lossy(&bytes), u64::MAX)
            }
        }
    }

    /// Whether the file at `path` holds at most `cap` bytes that match `re`. For a loaded file
    /// (while the project rules run) the question is answered from memory and recorded as
    /// such, so that a change to the file that keeps the answer leaves the asker standing;
    /// otherwise it is a read (`read`).
    pub fn read_matches(&self, path: &Path, cap: u64, re: &regex::bytes::Regex) -> bool {
        match self.held(path) {
            Some((rel, f)) => self.ask_matches(&rel, &f.text, cap, re),
            None => self.read(path, cap, false).is_some_and(|b| re.is_match(&b)),
        }
    }

    /// A loaded file's bytes from memory, when it is still held (`loaded`) and its text is its
    /// bytes (no decoding note, no byte-order mark to restore): what a read of it sees.
    fn loaded_text(&self, path: &Path, cap: u64) -> Option<Seen> {
        let rel = crate::fsread::path_text(path.strip_prefix(self.root.as_deref()?).ok()?);
        let f = self.loaded.get(&rel)?;
        if f.decode_note.is_some() {
            return None;
        }
        // The size on the disk decides against `cap`, and tells whether a byte-order mark was
        // stripped (then the disk is read).
        let len = std::fs::symlink_metadata(path).ok().filter(|m| m.is_file())?.len();
        if len != f.text.len() as u64 {
            return None;
        }
        Some(Seen::Bytes((len <= cap).then(|| f.text.as_bytes().to_vec())))
    }

    /// Whether `path` is a file the run loaded (its path relative to the report root is walked).
    fn is_loaded(&self, path: &Path) -> bool {
        let Some(Ok(rel)) = self.root.as_deref().map(|root| path.strip_prefix(root)) else { return false };
        let rel = crate::fsread::path_text(rel);
        self.walked_set.get_or_init(|| self.walked.iter().map(|(r, _)| r.clone()).collect()).contains(&rel)
    }

    /// The bytes of the regular file at `path` (a symlink followed only when `follow`), when it
    /// holds at most `cap` bytes. Rules read the disk through here, not `std::fs`: the run
    /// cache checks every read again before it trusts a cached result.
    pub fn read(&self, path: &Path, cap: u64, follow: bool) -> Option<Vec<u8>> {
        match self.looked(Look::Read { path: path.to_path_buf(), cap, follow }) {
            Seen::Bytes(b) => b,
            _ => None,
        }
    }

    /// Whether `path` (not followed) is a regular file (1), a folder (2) or else (3), and its
    /// size; `None` when missing.
    pub fn metadata(&self, path: &Path) -> Option<(u8, u64)> {
        match self.looked(Look::Metadata(path.to_path_buf())) {
            Seen::Metadata(m) => m,
            _ => None,
        }
    }

    /// The size of the regular file at `path` (not followed) and its first `n` bytes.
    pub fn head(&self, path: &Path, n: usize) -> Option<(u64, Vec<u8>)> {
        match self.looked(Look::Head { path: path.to_path_buf(), n }) {
            Seen::Head(h) => h,
            _ => None,
        }
    }

    /// The names in the folder `path`, sorted, each with whether it is a folder.
    pub fn list_dir(&self, path: &Path) -> Option<Vec<(String, bool)>> {
        match self.looked(Look::ListDir(path.to_path_buf())) {
            Seen::Names(n) => n,
            _ => None,
        }
    }
}

/// What the project pass saw of the project: what a reviewer needs to trust the statuses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// A Django project: a `manage.py`, or a settings module.
    pub django: bool,
    /// Production settings modules preflight judged, each with the modules whose settings are in
    /// effect for it (itself first), and whether its chain imports a module the repository does
    /// not hold (a `local.py` left to the deployment).
    pub settings: Vec<SettingsRoot>,
    /// Folders holding a `models.py` or `apps.py` (Django apps), by path.
    pub apps: Vec<String>,
    /// Model classes in the model graph (built only when a rule needs it; 0 otherwise).
    pub models: usize,
    /// Folders holding a `package.json` outside vendored code: the front-end roots.
    pub frontend_roots: Vec<String>,
    /// Production (not test, tooling, docs or vendored) Python and JS/TS files walked.
    pub python_files: usize,
    pub frontend_files: usize,
    /// Ids of the rules that ran.
    pub rules_run: Vec<&'static str>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingsRoot {
    pub module: String,
    pub chain: Vec<String>,
    pub open: bool,
}

impl Project {
    /// What the project pass saw, for the checklist report: settings roots and their chains,
    /// apps, models, front-end roots, file counts. `rules_run` are the ids of the rules that ran.
    pub fn facts(&self, rules_run: Vec<&'static str>) -> Facts {
        let name = |rel: &str| rel.rsplit('/').next().unwrap_or(rel).to_string();
        let parent = |rel: &str| rel.rsplit_once('/').map_or(".".to_string(), |(d, _)| d.to_string());
        let mut apps = std::collections::BTreeSet::new();
        let mut frontend_roots = std::collections::BTreeSet::new();
        let mut manage = false;
        for (rel, class) in &self.walked {
            let file = name(rel);
            if class.roles.vendored || rel.split('/').any(|d| d == "node_modules") {
                continue;
            }
            match file.as_str() {
                "manage.py" => manage = true,
                "models.py" | "apps.py" if !class.roles.test => {
                    apps.insert(parent(rel));
                }
                "package.json" => {
                    frontend_roots.insert(parent(rel));
                }
                _ => {}
            }
        }
        let index = &self.settings;
        let settings: Vec<SettingsRoot> = index
            .roots
            .iter()
            .map(|(m, env)| {
                let module = index.module(*m).rel.clone();
                let mut chain: Vec<String> = env.values().map(|b| index.module(b.module).rel.clone()).collect();
                chain.sort();
                chain.dedup();
                chain.retain(|c| *c != module);
                chain.insert(0, module.clone());
                SettingsRoot { module, chain, open: index.open.contains(m) }
            })
            .collect();
        Facts {
            django: manage || !index.modules.is_empty(),
            settings,
            apps: apps.into_iter().collect(),
            models: self.models.models.len(),
            frontend_roots: frontend_roots.into_iter().collect(),
            python_files: self.production_files.0,
            frontend_files: self.production_files.1,
            rules_run,
        }
    }
}

/// Builds the project facts that `needs` asks for from the loaded files.
pub fn build(files: &[Loaded], config: &Config, root: &Path, tracked: Option<Vec<String>>, needs: Needs) -> Project {
    build_knowing(files, config, root, tracked, needs, Known::default(), true)
}

/// `build`, with the answers already known of files whose content has not changed since they
/// were given (path, question → answer): those are not computed again.
/// What the run cache knows from the last run for `build_knowing`: the answers of unchanged
/// files, and the model graph and template contexts when their parts stand.
#[derive(Default)]
pub struct Known {
    pub answers: HashMap<(String, Probe), u64>,
    pub models: Option<ModelGraph>,
    /// The template contexts, when their part stands.
    pub contexts: Option<crate::django::html::TemplateContexts>,
}

pub fn build_knowing(
    files: &[Loaded],
    config: &Config,
    root: &Path,
    tracked: Option<Vec<String>>,
    needs: Needs,
    known: Known,
    record: bool,
) -> Project {
    let Known { answers: known, models: kept_models, contexts: kept_contexts } = known;
    let probes = Probes { known, off: !record, ..Probes::default() };
    let ask = Ask(&probes, Consumer::Part(Part::Settings));
    let needs_settings = needs.settings;
    let candidates: Vec<Arc<SourceFile>> = if needs_settings {
        files
            .iter()
            .filter(|l| {
                let f = &l.file;
                f.class.lang == Lang::Python
                    && !f.class.roles.vendored
                    && !f.class.roles.migration
                    && ask.is(l, Probe::SettingsCandidate)
            })
            .map(|l| ask.file(l).clone())
            .collect()
    } else {
        Vec::new()
    };
    let modules: Vec<settings::Module> = candidates
        .par_iter()
        .enumerate()
        .filter_map(|(i, f)| {
            f.tree().map(|t| settings::extract(i, &f.rel, f.class.roles.dev_settings_name, &f.text, t.root_node()))
        })
        .collect();
    let t = std::time::Instant::now();
    let n_modules = modules.len();
    // Scanned file by file (a file that names none adds none), so that each file's answer is
    // recorded.
    let empty = Probe::SettingsNamed.answer("", "");
    let settings_ask = Ask(&probes, Consumer::Part(Part::Settings));
    let naming: Vec<&Loaded> = files
        .iter()
        .filter(|l| {
            let answer = settings_ask.answer(l, &Probe::SettingsNamed);
            probes.ask(Consumer::Part(Part::Settings), &l.file.rel, Probe::SettingsNamed, answer);
            answer != empty
        })
        .collect();
    let named = settings::SettingsModules::scan(naming.iter().map(|l| (l.file.rel.as_str(), l.file.text.as_str())));
    let settings = SettingsIndex::build_with(modules, |rel| config.settings_override(rel), &named);
    let t_settings = t.elapsed();
    // The migration rules judge what a next deploy applies (each app's leaves), unless told to
    // judge the whole history.
    let history = Ask(&probes, Consumer::Part(Part::History));
    let deploy_migrations = (needs.deploy_migrations && !config.raw.all_migrations).then(|| {
        let migrations = files.iter().filter(|l| l.file.class.roles.migration && !l.file.class.roles.vendored);
        crate::django::migrations::leaf_migrations(migrations.map(|l| (l.file.rel.as_str(), history.text(l))))
    });
    let migrations = migration_history(files, needs, deploy_migrations.as_ref(), &history);
    let t_models = std::time::Instant::now();
    // The last run's graph when its part stands (the run cache keeps it): no module is read.
    let kept = kept_models.is_some() && needs.models;
    let contexts_kept = kept_contexts.is_some() && needs.template_contexts;
    let models = match kept_models {
        Some(g) if needs.models => g,
        _ => model_graph(files, needs, &Ask(&probes, Consumer::Part(Part::Models))),
    };
    let t_models = t_models.elapsed();
    if std::env::var_os("PREFLIGHT_TIMINGS").is_some() {
        eprintln!(
            "timing:   settings index {:.1} ms ({n_modules} candidates), migrations {:.1} ms, model graph {:.1} ms \
             ({} models{}){}",
            t_settings.as_secs_f64() * 1e3,
            (t.elapsed() - t_settings - t_models).as_secs_f64() * 1e3,
            t_models.as_secs_f64() * 1e3,
            models.models.len(),
            if kept { ", kept from the last run" } else { "" },
            if contexts_kept { ", template contexts kept from the last run" } else { "" }
        );
    }
    // Every loaded file, and of the empty ones (not loaded: a tree of a million empty files
    // must not cost a path each) those with a name a rule or the checklist's facts ask for
    // (`is_kept_name`, added by the caller).
    let walked = files.iter().map(|l| (l.file.rel.clone(), l.file.class)).collect();
    let production_files =
        files.iter().filter(|l| l.target && l.file.class.is_production()).fold((0, 0), |(py, js), l| {
            match l.file.class.lang {
                Lang::Python => (py + 1, js),
                lang if lang.is_js_family() => (py, js + 1),
                _ => (py, js),
            }
        });
    let by_rel = candidates.iter().enumerate().map(|(i, f)| (f.rel.clone(), i)).collect();
    Project {
        files: candidates,
        settings,
        walked,
        production_files,
        tracked,
        by_rel,
        migrations,
        deploy_migrations,
        template_contexts: match kept_contexts {
            Some(c) if needs.template_contexts => c,
            _ => template_contexts(files, needs, &Ask(&probes, Consumer::Part(Part::Templates))),
        },
        models,
        root: Some(root.to_path_buf()),
        walked_set: Default::default(),
        reads: Reads::default(),
        sources: if needs.model_sources {
            model_sources(files, &Ask(&probes, Consumer::Part(Part::Sources)))
        } else {
            HashMap::new()
        },
        probes,
        loaded: files.iter().map(|l| (l.file.rel.clone(), l.file.clone())).collect(),
        targets: None,
    }
}

/// For xss-unsafe-html: the contexts the project's Python modules give to the templates that
/// mark a value safe; only modules that name one of those templates are parsed.
fn template_contexts(files: &[Loaded], needs: Needs, ask: &Ask) -> crate::django::html::TemplateContexts {
    let mut out = Default::default();
    if !needs.template_contexts {
        return out;
    }
    use crate::django::html::{imported_names, safe_value_functions};
    let marking: Vec<&Loaded> =
        files.iter().filter(|l| l.target && l.file.class.lang == Lang::Template && ask.contains(l, "|safe")).collect();
    let wanted: std::collections::HashSet<String> =
        marking.iter().filter_map(|l| l.file.rel.rsplit_once("templates/").map(|(_, n)| n.to_string())).collect();
    let functions: std::collections::HashSet<String> = marking
        .iter()
        .flat_map(|l| ask.names(l, Probe::SafeValueFunctions, safe_value_functions))
        .chain(
            files
                .iter()
                .filter(|l| l.target && l.file.class.lang == Lang::Python)
                .flat_map(|l| ask.names(l, Probe::ImportedNames, imported_names)),
        )
        .collect();
    if wanted.is_empty() && functions.is_empty() {
        return out;
    }
    // Sorted, so that the questions asked (and recorded) do not depend on hashing.
    let mut functions: Vec<String> = functions.into_iter().collect();
    functions.sort();
    let mut wanted_sorted: Vec<&String> = wanted.iter().collect();
    wanted_sorted.sort();
    let functions_set: std::collections::HashSet<String> = functions.iter().cloned().collect();
    // One question per module: does it define one of the functions or name one of the
    // templates (one scan for all of them)? A module that does is read whole.
    let needles: Arc<Vec<String>> = Arc::new(
        functions.iter().map(|w| format!("def {w}(")).chain(wanted_sorted.iter().map(|w| w.to_string())).collect(),
    );
    let scan = Mentions::new(&needles);
    for l in files.iter().filter(|l| l.file.class.lang == Lang::Python && !l.file.class.roles.test) {
        let mentions = scan.is_in(&l.file.text);
        ask.0.ask(ask.1, &l.file.rel, Probe::MentionsAny(needles.clone()), u64::from(mentions));
        if !mentions {
            continue;
        }
        // What the module gives the templates is asked, not its whole text: an edit that moves
        // its views or changes what they do elsewhere keeps the part.
        let mine = module_contexts(&l.file, &functions, &wanted, &functions_set);
        let answer = crate::digest::digest64(&[crate::django::html::contexts_text(&mine).as_bytes()]);
        ask.0.ask(ask.1, &l.file.rel, Probe::Contexts(needles.clone()), answer);
        crate::django::html::absorb_contexts(&mut out, mine);
    }
    out
}

/// One module's contexts for the templates in `wanted` (and, when it defines one of
/// `functions`, whether each escapes), before they are added to the other modules'.
fn module_contexts(
    f: &SourceFile,
    functions: &[String],
    wanted: &std::collections::HashSet<String>,
    functions_set: &std::collections::HashSet<String>,
) -> crate::django::html::TemplateContexts {
    let mut out = crate::django::html::TemplateContexts::default();
    let defines = functions.iter().any(|w| f.text.contains(&format!("def {w}(")));
    f.with_tree(|tree| {
        crate::django::html::template_contexts(tree.root_node(), &f.text, wanted, &mut out);
        if defines {
            crate::django::html::escaping_functions(tree.root_node(), &f.text, functions_set, &mut out);
        }
    });
    out
}

/// Field declarations of every migration, for rules that compare a migration with earlier ones,
/// and project operation classes declaring `reversible = False`. Trees parsed here are cached on
/// the file and reused by the per-file pass.
fn migration_history(
    files: &[Loaded],
    needs: Needs,
    scope: Option<&std::collections::HashSet<String>>,
    ask: &Ask,
) -> crate::django::migrations::FieldHistory {
    use crate::django::migrations::FieldHistory;
    // Only the migrations being checked are compared with the history: with file names given
    // (a pre-commit hook) and none of them a migration, it is not built.
    if !needs.migration_history || !files.iter().any(|l| l.target && l.file.class.roles.migration) {
        return FieldHistory::default();
    }
    // Only an AlterField is compared with earlier migrations, and only with those of its own
    // app: the history holds the apps of the checked migrations that alter a field.
    let app_of = |rel: &str| crate::django::migrations::app_and_name(rel).0;
    let apps: std::collections::HashSet<String> = files
        .iter()
        .filter(|l| {
            let c = &l.file.class;
            l.target
                && scope.is_none_or(|s| s.contains(&l.file.rel))
                && c.roles.migration
                && !c.roles.test
                && !c.roles.vendored
                // AlterField, a database-only drop and a model rename are compared with earlier
                // migrations.
                && ["AlterField", "SeparateDatabaseAndState", "RunSQL", "RenameModel"].iter().any(|w| ask.contains(l, w))
        })
        .map(|l| app_of(&l.file.rel))
        .collect();
    let mut history = files
        .par_iter()
        .filter(|l| l.file.class.lang == Lang::Python && !l.file.class.roles.vendored)
        .filter_map(|l| {
            let f = &l.file;
            let migration = f.class.roles.migration && apps.contains(&app_of(&f.rel)) && ask.contains(l, "Migration");
            let op_class = ask.contains(l, "reversible = False");
            if !migration && !op_class {
                return None;
            }
            ask.file(l).with_tree(|tree| {
                let mut h = FieldHistory::default();
                if migration {
                    h.add_migration(&f.rel, tree.root_node(), &f.text);
                }
                if op_class {
                    h.add_operation_classes(tree.root_node(), &f.text);
                }
                h
            })
        })
        .reduce(FieldHistory::default, FieldHistory::merge);
    history.finish();
    history
}

/// The model graph (models, managers, querysets, serializers), from only the files that can
/// define them; their trees are cached and reused by the per-file pass.
fn model_graph(files: &[Loaded], needs: Needs, ask: &Ask) -> ModelGraph {
    let mut graph = ModelGraph::default();
    // The graph answers two questions of the checked Python code: what a loop over a queryset
    // reads (code with `for `), and what a DRF list view's serializer reads (code naming a
    // `serializer_class` and a `queryset`). Serializer classes are read only for the second.
    let checked =
        || files.iter().filter(|l| l.target && l.file.class.lang == Lang::Python && !l.file.class.roles.migration);
    let is_view = |l: &Loaded| ask.is(l, Probe::ListView);
    if !needs.models || !checked().any(|l| ask.contains(l, "for ") || is_view(l)) {
        return graph;
    }
    let serializers = checked().any(is_view);
    let candidates: Vec<&Loaded> = files
        .iter()
        .filter(|l| {
            let f = &l.file;
            f.class.lang == Lang::Python
                && !f.class.roles.vendored
                && !f.class.roles.migration
                && !f.class.roles.test
                && ask.is(l, Probe::ModelCandidate(serializers))
        })
        .collect();
    // Read in parallel, one graph per file, merged in path order so that the graph does not
    // depend on scheduling. Trees are not kept: the per-file pass parses again only the files
    // a rule needs. A module with no model (views, serializers, managers) is asked for its
    // outline, so that an edit that moves its classes or changes a view's methods keeps the
    // graph; a module with models is read whole (models carry positions).
    let parts: Vec<ModelGraph> = candidates
        .par_iter()
        .map(|l| {
            let g = graph_of(&l.file);
            match graph_outline(&g) {
                Some(outline) => ask.0.ask(ask.1, &l.file.rel, Probe::GraphOutline, outline),
                None => {
                    ask.file(l);
                }
            }
            g
        })
        .collect();
    for part in parts {
        graph.absorb(part);
    }
    graph.finish();
    graph
}

/// A file of `rel` holding `text`, classified as the walk would, for a question asked again
/// of a changed file's new text.
fn source_of(rel: &str, text: &str) -> SourceFile {
    let class = crate::classify::classify(rel, &text.as_bytes()[..text.len().min(8192)]);
    SourceFile::new(std::path::PathBuf::from(rel), rel.to_string(), class, text.to_string())
}

/// One module's part of the model graph, before `finish`.
fn graph_of(f: &SourceFile) -> ModelGraph {
    use crate::django::models::add_file;
    let mut g = ModelGraph::default();
    f.with_tree(|t| add_file(&mut g, f, t));
    g
}

/// `Probe::GraphOutline`'s answer for a module's part of the graph: a digest of its outline
/// when it holds no model; `None` otherwise.
fn graph_outline(g: &ModelGraph) -> Option<u64> {
    let outline = g.outline()?;
    Some(crate::digest::digest64(&[outline.as_bytes()]).min(u64::MAX - 1))
}

/// The texts `Needs::model_sources` asks for: every migration, models module (or module a
/// model may be added from) and `__init__.py` outside tests and vendored code.
fn model_sources(files: &[Loaded], ask: &Ask) -> HashMap<String, String> {
    files
        .iter()
        .filter(|l| {
            let (c, rel) = (&l.file.class, l.file.rel.as_str());
            c.lang == Lang::Python
                && !c.roles.test
                && !c.roles.vendored
                && (c.roles.migration
                    || rel.ends_with("__init__.py")
                    || ask.is(l, Probe::ModelCandidate(false))
                    || ask.contains(l, ".add_to_class("))
        })
        .map(|l| (l.file.rel.clone(), ask.text(l).to_string()))
        .collect()
}

#[cfg(test)]
mod mentions_tests {
    use super::Mentions;

    /// The fast test answers as a search for each literal would, on texts built to trip it.
    #[test]
    fn mentions_answer_as_a_search_for_each_literal() {
        let needles: Vec<String> =
            ["def render(", "def esc_html(", "emails/body.html", "def x("].iter().map(|s| s.to_string()).collect();
        let m = Mentions::new(&needles);
        let texts = [
            "def render(self):\n",
            "def render (self):\n",
            "undef render(x)",
            "def def render(",
            "def xrender(",
            "def x(",
            "def x",
            "def esc_html\n(",
            "name = 'emails/body.html'",
            "déf render(",
            "def ré(",
            "",
            "def ",
            "def render",
        ];
        for t in texts {
            let naive = needles.iter().any(|n| t.contains(n.as_str()));
            assert_eq!(m.is_in(t), naive, "{t:?}");
        }
    }
}
