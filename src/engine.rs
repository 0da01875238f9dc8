//! The run: walk → load and classify → project pass → per-file rules → suppressions → sorted
//! findings.
//!
//! Each file is read once. A file is parsed only when a rule that passed every cheaper gate
//! (language, role, literal prefilter) needs its tree, and then only once for all such rules.
//! A panic inside a rule is caught per file and becomes a note; the run goes on.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::classify::{classify, Lang};
use crate::config::Config;
use crate::finding::{finalize, Finding};
use crate::project::{Project, ProjectSink};
use crate::registry::{rules_impl, Rule, RuleMeta, RULES};
use crate::settings::{self, SettingsIndex};
use crate::source::{decode, Decoded, SourceFile};
use crate::suppress;
use crate::walk::{self, WalkOptions};

/// What to scan and how paths are shown.
#[derive(Debug, Clone)]
pub struct Scan {
    /// Directories to walk (absolute).
    pub dirs: Vec<PathBuf>,
    /// Files named explicitly (absolute). When present, only they are reported on, and `dirs`
    /// is the project root walked for context.
    pub files: Vec<PathBuf>,
    /// Paths in output are relative to this.
    pub root: PathBuf,
}

/// A per-file remark: a file skipped or only partly analysed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Note {
    pub path: String,
    pub message: String,
}

pub struct Outcome {
    pub findings: Vec<Finding>,
    pub notes: Vec<Note>,
    pub files_scanned: usize,
    pub elapsed: Duration,
}

pub struct FileCtx<'a> {
    pub file: &'a SourceFile,
    pub project: &'a Project,
    pub rule: &'static RuleMeta,
    pub config: &'a Config,
    pub out: &'a mut Vec<Finding>,
}

impl FileCtx<'_> {
    pub fn tree(&self) -> Option<&tree_sitter::Tree> {
        self.file.tree()
    }

    pub fn report(&mut self, start: usize, end: usize, message: String) {
        self.out.push(Finding::at(self.rule, self.file, start, end, message));
    }

    /// Reports with the snippet replaced (secrets) and a fingerprint key that is not the line.
    pub fn report_redacted(&mut self, start: usize, end: usize, message: String, snippet: String, key: String) {
        let mut f = Finding::at(self.rule, self.file, start, end, message);
        f.set_snippet(&snippet);
        f.key = Some(key);
        self.out.push(f);
    }
}

/// A path as text with `/` separators. A name that is not UTF-8 keeps its bytes: each byte of
/// an invalid sequence is written `\xNN` (a valid path here never holds a backslash: it is
/// turned into a separator), so two files whose names differ only in those bytes stay two
/// files, with two findings and two fingerprints. `report::sarif::uri_path` turns the escapes
/// back into the bytes.
pub fn path_text(path: &Path) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        bytes_text(path.as_os_str().as_bytes())
    }
    #[cfg(not(unix))]
    {
        path.to_string_lossy().replace('\\', "/")
    }
}

/// `path_text` for a path given as bytes.
pub fn bytes_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(&chunk.valid().replace('\\', "/"));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

fn rel_path(path: &Path, root: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let s = path_text(rel);
    if s.is_empty() {
        ".".into()
    } else {
        s
    }
}

struct Loaded {
    file: Arc<SourceFile>,
    target: bool,
}

/// Runs every selected rule over the scan. `selected[i]` switches `RULES[i]`.
pub fn run(scan: &Scan, config: &Config, selected: &[bool], threads: usize) -> Result<Outcome, String> {
    // Rules walk trees recursively under depth guards; a roomy stack (address space, not memory
    // until touched) keeps a guard set too generously from turning into an abort.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .stack_size(32 << 20)
        .build()
        .map_err(|e| e.to_string())?;
    pool.install(|| run_inner(scan, config, selected, threads.max(1)))
}

fn run_inner(scan: &Scan, config: &Config, selected: &[bool], threads: usize) -> Result<Outcome, String> {
    let started = Instant::now();
    let rules: Vec<Box<dyn Rule>> = rules_impl::instantiate();
    let active: Vec<(usize, &dyn Rule)> =
        rules.iter().enumerate().filter(|(i, _)| selected[*i]).map(|(i, r)| (i, r.as_ref())).collect();
    debug_assert!(rules.iter().zip(RULES).all(|(r, m)| r.id() == m.id));
    let warm: Vec<bool> = selected.to_vec();
    std::thread::spawn(move || {
        for (rule, _) in rules_impl::instantiate().iter().zip(warm).filter(|(_, on)| *on) {
            rule.warm_up();
        }
    });

    let mut notes: Vec<Note> = Vec::new();
    let root = &scan.root;
    let walk_opts = WalkOptions { threads, exclude: &config.raw.exclude, root };
    let (walked, walk_notes) =
        if scan.dirs.is_empty() { (Vec::new(), Vec::new()) } else { walk::walk(&scan.dirs, &walk_opts)? };
    let targets: Option<std::collections::HashSet<&PathBuf>> =
        if scan.files.is_empty() { None } else { Some(scan.files.iter().collect()) };
    for n in walk_notes {
        if targets.as_ref().is_none_or(|t| t.contains(&n.path)) {
            notes.push(Note { path: rel_path(&n.path, root), message: n.message });
        }
    }
    // Explicit files are taken even if the walk ignored them, unless an exclude glob names them.
    let mut paths = walked;
    let excluded = exclude_matcher(config, root)?;
    for f in &scan.files {
        let skipped_dir = f.ancestors().skip(1).take_while(|a| a.starts_with(root)).any(walk::is_skipped_dir);
        if !paths.contains(f) && !skipped_dir && !excluded.matched_path_or_any_parents(f, false).is_ignore() {
            // Opening a named FIFO would block the run forever: only regular files are read.
            if std::fs::metadata(f).is_ok_and(|m| !m.is_file()) {
                let message = "not a regular file (FIFO, socket or device), skipped".to_string();
                notes.push(Note { path: rel_path(f, root), message });
                continue;
            }
            paths.push(f.clone());
        }
    }
    paths.sort_unstable_by(|a, b| walk::path_order(a, b));
    paths.dedup();

    // Load: every target file, and in file mode the Python files of the project for context.
    let timing = std::env::var_os("PREFLIGHT_TIMINGS").is_some();
    let phase = |name: &str| {
        if timing {
            use std::sync::atomic::Ordering::Relaxed;
            eprintln!(
                "timing: {name:<10} {:>8.1} ms  process CPU {:>6} ms  (parses so far: {}, {} KB, {:.0} ms CPU)",
                started.elapsed().as_secs_f64() * 1000.0,
                process_cpu_ms(),
                crate::parse::PARSES.load(Relaxed),
                crate::parse::PARSED_BYTES.load(Relaxed) / 1024,
                crate::parse::PARSE_NANOS.load(Relaxed) as f64 / 1e6
            );
        }
    };
    phase("walk");
    let loaded: Vec<Result<Loaded, Note>> = paths
        .par_iter()
        .filter_map(|p| {
            let target = targets.as_ref().is_none_or(|t| t.contains(p));
            let rel = rel_path(p, root);
            if !target && !rel.ends_with(".py") {
                return None;
            }
            Some(load(p, rel, target, config))
        })
        .collect();
    let mut files = Vec::with_capacity(loaded.len());
    for l in loaded {
        match l {
            Ok(f) => files.push(f),
            Err(n) => notes.push(n),
        }
    }
    let files_scanned = files.iter().filter(|f| f.target).count();

    phase("load");
    let project = project_pass(&files, config, root, &scan.files, &with_stand_ins(selected));
    phase("project");

    // Project rules.
    let mut findings: Vec<Finding> = project_findings(&rules, selected, &project);
    if let Some(t) = &targets {
        let rels: std::collections::HashSet<String> = t.iter().map(|p| rel_path(p, root)).collect();
        findings.retain(|f| rels.contains(&f.path));
    }

    // Suppressions, excludes and per-path ignores of the project rules' findings, while every
    // file is still loaded.
    let excluded_path = |f: &Finding| {
        excluded.matched_path_or_any_parents(root.join(&f.path), false).is_ignore()
            || config.ignored_for_path(f.rule.id, &f.path)
    };
    {
        let by_rel: HashMap<&str, &SourceFile> = files.iter().map(|l| (l.file.rel.as_str(), l.file.as_ref())).collect();
        let mut sup_cache: HashMap<&str, Vec<suppress::Suppression>> = HashMap::new();
        findings.retain(|f| {
            if excluded_path(f) {
                return false;
            }
            let Some(file) = by_rel.get(f.path.as_str()) else {
                return true;
            };
            let sups = sup_cache.entry(file.rel.as_str()).or_insert_with(|| suppress::parse(file));
            !suppress::is_suppressed(sups, f.rule.id, f.line)
        });
    }

    phase("proj-rules");
    // Per-file rules. Each file is dropped (its text and tree freed) as soon as it is done, so
    // memory holds the texts and the trees of the files in flight, not of the whole tree.
    let prefilter = Prefilter::new(&active);
    let rule_nanos: Vec<std::sync::atomic::AtomicU64> =
        if timing { active.iter().map(|_| Default::default()).collect() } else { Vec::new() };
    let per_file: Vec<(Vec<Finding>, Vec<Note>)> = files
        .into_par_iter()
        .filter(|l| l.target)
        .map(|l| {
            let (mut found, notes) = check_file(&l.file, &project, &active, &prefilter, config, &rule_nanos);
            if !found.is_empty() {
                let sups = suppress::parse(&l.file);
                found.retain(|f| !excluded_path(f) && !suppress::is_suppressed(&sups, f.rule.id, f.line));
            }
            (found, notes)
        })
        .collect();
    for (f, n) in per_file {
        findings.extend(f);
        notes.extend(n);
    }
    phase("per-file");
    for ((_, rule), nanos) in active.iter().zip(&rule_nanos) {
        let ms = nanos.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1e6;
        if ms >= 1.0 {
            eprintln!("timing:   {:<30} {ms:>8.1} ms CPU (parses included)", rule.id());
        }
    }
    finalize(&mut findings);
    phase("finalize");
    notes.sort();
    notes.dedup();
    Ok(Outcome { findings, notes, files_scanned, elapsed: started.elapsed() })
}

/// User plus system CPU time of the process so far, from /proc (Linux; 0 elsewhere), for
/// `PREFLIGHT_TIMINGS`.
fn process_cpu_ms() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and
    // 13th, in clock ticks (100 a second on Linux).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest.split_whitespace().map(|x| x.parse().unwrap_or(0)).collect();
    (f.get(11).unwrap_or(&0) + f.get(12).unwrap_or(&0)) * 10
}

fn exclude_matcher(config: &Config, root: &Path) -> Result<ignore::gitignore::Gitignore, String> {
    let mut b = ignore::gitignore::GitignoreBuilder::new(root);
    for g in &config.raw.exclude {
        b.add_line(None, g).map_err(|e| e.to_string())?;
    }
    b.build().map_err(|e| e.to_string())
}

/// Runs every selected rule over files given in memory as (relative path, bytes), without
/// touching the file system or git: the entry point of the fuzz targets and property tests.
/// All files are targets; the project pass sees them all.
pub fn run_in_memory(files: Vec<(String, Vec<u8>)>, config: &Config, selected: &[bool]) -> Outcome {
    let started = Instant::now();
    let rules: Vec<Box<dyn Rule>> = rules_impl::instantiate();
    let active: Vec<(usize, &dyn Rule)> =
        rules.iter().enumerate().filter(|(i, _)| selected[*i]).map(|(i, r)| (i, r.as_ref())).collect();
    let mut notes = Vec::new();
    let mut loaded = Vec::new();
    for (rel, bytes) in files {
        match from_bytes(Path::new(&rel), rel.clone(), bytes, true, config) {
            Ok(l) => loaded.push(l),
            Err(n) => notes.push(n),
        }
    }
    let files_scanned = loaded.len();
    let mut project = project_pass(&loaded, config, Path::new(""), &[], &with_stand_ins(selected));
    project.root = None;
    let mut findings = project_findings(&rules, selected, &project);
    let prefilter = Prefilter::new(&active);
    for l in &loaded {
        let (f, n) = check_file(&l.file, &project, &active, &prefilter, config, &[]);
        findings.extend(f);
        notes.extend(n);
    }
    finalize(&mut findings);
    notes.sort();
    notes.dedup();
    Outcome { findings, notes, files_scanned, elapsed: started.elapsed() }
}

/// Cross-rule deduplication, which only the engine can do: it alone knows the selection.
/// `(rule, owner)`: `rule` leaves these findings to `owner`, which judges them better, and
/// reports them itself only when `owner` is not selected. secret-hardcoded leaves `SECRET_KEY`
/// in settings modules to django-secret-key-hardcoded, which reports the key in effect in each
/// production settings module (not a dev module's, not a base value production overrides).
/// When the owner is switched off (`--select secret-hardcoded`, config `ignore`), its project
/// check runs on the rule's behalf and its findings are the rule's: a hardcoded key is reported
/// once whichever of the two is selected, never by nobody.
const DEFERS_TO: &[(&str, &str)] = &[("secret-hardcoded", "django-secret-key-hardcoded")];

/// The selection the project pass builds facts for: the selected rules and the owners standing
/// in for them (`DEFERS_TO`).
fn with_stand_ins(selected: &[bool]) -> Vec<bool> {
    let mut with = selected.to_vec();
    for (rule, owner) in DEFERS_TO {
        if selected[crate::registry::index_of(rule)] {
            with[crate::registry::index_of(owner)] = true;
        }
    }
    with
}

/// Runs the project checks of the selected rules, and of each owner standing in for a selected
/// rule whose findings it owns (`DEFERS_TO`), its findings relabelled as the rule's.
fn project_findings(rules: &[Box<dyn Rule>], selected: &[bool], project: &Project) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let stands_in_for: Vec<&'static RuleMeta> = DEFERS_TO
            .iter()
            .filter(|(r, owner)| *owner == RULES[i].id && !selected[i] && selected[crate::registry::index_of(r)])
            .map(|(r, _)| &RULES[crate::registry::index_of(r)])
            .collect();
        if !selected[i] && stands_in_for.is_empty() {
            continue;
        }
        let mut sink = ProjectSink { project, rule: &RULES[i], out: Vec::new() };
        rule.check_project(project, &mut sink);
        if selected[i] {
            findings.extend(sink.out);
        } else {
            for meta in stands_in_for {
                findings.extend(sink.out.iter().cloned().map(|mut f| {
                    f.rule = meta;
                    f.level = meta.level;
                    f
                }));
            }
        }
    }
    findings
}

fn load(path: &Path, rel: String, target: bool, config: &Config) -> Result<Loaded, Note> {
    // Ok(Err(len)) for a file over the size limit.
    let read = || -> std::io::Result<Result<Vec<u8>, u64>> {
        use std::io::Read;
        let f = std::fs::File::open(path)?;
        let len = f.metadata()?.len();
        let max = config.max_file_size();
        if len > max {
            return Ok(Err(len));
        }
        // Exactly the size stat gave: once `take` has it, the end of the file is not asked for,
        // which would be one more system call per file (a file changed while the run reads it
        // is read as it was). A size of 0 includes files generated when read (/proc): those are
        // read to the end, up to the limit.
        let limit = if len == 0 { max + 1 } else { len };
        let mut bytes = Vec::with_capacity(len as usize);
        f.take(limit).read_to_end(&mut bytes)?;
        Ok(Ok(bytes))
    };
    let bytes = match read() {
        Ok(Ok(b)) => b,
        Ok(Err(len)) => {
            return Err(Note {
                path: rel,
                message: format!("{len} bytes, over the {} byte limit, skipped", config.max_file_size()),
            });
        }
        Err(e) => {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "vanished before it could be read".to_string(),
                std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                _ => format!("unreadable: {e}"),
            };
            return Err(Note { path: rel, message: format!("{why}, skipped") });
        }
    };
    from_bytes(path, rel, bytes, target, config)
}

fn from_bytes(path: &Path, rel: String, bytes: Vec<u8>, target: bool, config: &Config) -> Result<Loaded, Note> {
    if bytes.len() as u64 > config.max_file_size() {
        return Err(Note {
            path: rel,
            message: format!("{} bytes, over the {} byte limit, skipped", bytes.len(), config.max_file_size()),
        });
    }
    let mut class = classify(&rel, &bytes[..bytes.len().min(8192)]);
    class.forced_production = config.production_override(&rel);
    match decode(bytes) {
        Decoded::Binary => Err(Note { path: rel, message: "binary file, skipped".into() }),
        Decoded::Text { text, note } => {
            let mut file = SourceFile::new(path.to_path_buf(), rel, class, text);
            file.decode_note = note;
            if path.to_str().is_none() {
                const NAME: &str = "file name is not valid UTF-8, its invalid bytes shown as \\xNN";
                file.decode_note = Some(file.decode_note.map_or(NAME.to_string(), |n| format!("{n}; {NAME}")));
            }
            Ok(Loaded { file: Arc::new(file), target })
        }
    }
}

fn project_pass(files: &[Loaded], config: &Config, root: &Path, explicit: &[PathBuf], selected: &[bool]) -> Project {
    let needs_settings = RULES.iter().zip(selected).any(|(m, &s)| s && m.tags.contains(&"settings"));
    let candidates: Vec<Arc<SourceFile>> = if needs_settings {
        files
            .iter()
            .filter(|l| {
                let f = &l.file;
                f.class.lang == Lang::Python
                    && !f.class.roles.vendored
                    && !f.class.roles.migration
                    && settings::is_candidate(&f.rel, &f.text)
            })
            .map(|l| l.file.clone())
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
    let named = settings::SettingsModules::scan(files.iter().map(|l| (l.file.rel.as_str(), l.file.text.as_str())));
    let settings = SettingsIndex::build_with(modules, |rel| config.settings_override(rel), &named);
    let t_settings = t.elapsed();
    let migrations = migration_history(files, selected);
    let t_models = std::time::Instant::now();
    let models = model_graph(files, selected);
    let t_models = t_models.elapsed();
    if std::env::var_os("PREFLIGHT_TIMINGS").is_some() {
        eprintln!(
            "timing:   settings index {:.1} ms ({n_modules} candidates), migrations {:.1} ms, model graph {:.1} ms \
             ({} models)",
            t_settings.as_secs_f64() * 1e3,
            (t.elapsed() - t_settings - t_models).as_secs_f64() * 1e3,
            t_models.as_secs_f64() * 1e3,
            models.models.len()
        );
    }
    let walked = files.iter().map(|l| (l.file.rel.clone(), l.file.class)).collect();
    let start = explicit.first().map_or(root, |p| p.parent().unwrap_or(root));
    // An empty root is an in-memory run: no git repository to consult.
    let repo = if root.as_os_str().is_empty() { None } else { crate::gitindex::find_repo(start) };
    let tracked = repo.and_then(|(top, gitdir)| {
        let paths = crate::gitindex::tracked_paths(&gitdir)?;
        // Index paths are relative to the top with `/` and bytes escaped as the walk's are: they
        // are re-rooted as text (joining one to a path would read its escapes as names).
        let (add, strip) = if let Ok(down) = top.strip_prefix(root) {
            (path_text(down), String::new())
        } else {
            match root.strip_prefix(&top) {
                Ok(up) => (String::new(), path_text(up)),
                Err(_) => return Some(Vec::new()),
            }
        };
        Some(
            paths
                .into_iter()
                .filter_map(|p| match (add.is_empty(), strip.is_empty()) {
                    (false, _) => Some(format!("{add}/{p}")),
                    (true, true) => Some(p),
                    (true, false) => p.strip_prefix(&strip)?.strip_prefix('/').map(str::to_string),
                })
                .collect(),
        )
    });
    let by_rel = candidates.iter().enumerate().map(|(i, f)| (f.rel.clone(), i)).collect();
    Project { files: candidates, settings, walked, tracked, by_rel, migrations, models, root: Some(root.to_path_buf()) }
}

/// Field declarations of every migration, for rules that compare a migration with earlier ones,
/// and project operation classes declaring `reversible = False`. Trees parsed here are cached on
/// the file and reused by the per-file pass.
fn migration_history(files: &[Loaded], selected: &[bool]) -> crate::migrations::FieldHistory {
    use crate::migrations::FieldHistory;
    // Only the migrations being checked are compared with the history: with file names given
    // (a pre-commit hook) and none of them a migration, it is not built.
    if !RULES.iter().zip(selected).any(|(m, &s)| s && m.tags.contains(&"migrations"))
        || !files.iter().any(|l| l.target && l.file.class.roles.migration)
    {
        return FieldHistory::default();
    }
    // Only an AlterField is compared with earlier migrations, and only with those of its own
    // app: the history holds the apps of the checked migrations that alter a field.
    let app_of = |rel: &str| crate::migrations::app_and_name(rel).0;
    let apps: std::collections::HashSet<String> = files
        .iter()
        .filter(|l| {
            let c = &l.file.class;
            l.target && c.roles.migration && !c.roles.test && !c.roles.vendored && l.file.text.contains("AlterField")
        })
        .map(|l| app_of(&l.file.rel))
        .collect();
    let mut history = files
        .par_iter()
        .filter(|l| l.file.class.lang == Lang::Python && !l.file.class.roles.vendored)
        .filter_map(|l| {
            let f = &l.file;
            let migration = f.class.roles.migration && apps.contains(&app_of(&f.rel)) && f.text.contains("Migration");
            let op_class = f.text.contains("reversible = False");
            if !migration && !op_class {
                return None;
            }
            f.with_tree(|tree| {
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
fn model_graph(files: &[Loaded], selected: &[bool]) -> crate::models::ModelGraph {
    use crate::models::{add_file, is_candidate, ModelGraph};
    let mut graph = ModelGraph::default();
    // The graph answers two questions of the checked Python code: what a loop over a queryset
    // reads (code with `for `), and what a DRF list view's serializer reads (code naming a
    // `serializer_class` and a `queryset`). Serializer classes are read only for the second.
    let checked =
        || files.iter().filter(|l| l.target && l.file.class.lang == Lang::Python && !l.file.class.roles.migration);
    let is_view = crate::models::may_hold_list_view;
    if !RULES.iter().zip(selected).any(|(m, &s)| s && m.tags.contains(&"orm"))
        || !checked().any(|l| l.file.text.contains("for ") || is_view(&l.file.text))
    {
        return graph;
    }
    let serializers = checked().any(|l| is_view(&l.file.text));
    let candidates: Vec<&Arc<SourceFile>> = files
        .iter()
        .map(|l| &l.file)
        .filter(|f| {
            f.class.lang == Lang::Python
                && !f.class.roles.vendored
                && !f.class.roles.migration
                && !f.class.roles.test
                && is_candidate(&f.rel, &f.text, serializers)
        })
        .collect();
    // Read in parallel, one graph per file, merged in path order so that the graph does not
    // depend on scheduling. Trees are not kept: the per-file pass parses again only the files
    // a rule needs.
    let parts: Vec<ModelGraph> = candidates
        .par_iter()
        .map(|f| {
            let mut g = ModelGraph::default();
            f.with_tree(|t| add_file(&mut g, f, t));
            g
        })
        .collect();
    for part in parts {
        graph.absorb(part);
    }
    graph.finish();
    graph
}

/// Which rules' literals occur in a file, in one scan per literal set.
struct Prefilter {
    /// For each active rule (same order), the indices of its literals in `ac`; empty = always.
    rule_patterns: Vec<Vec<usize>>,
    ac: Option<aho_corasick::AhoCorasick>,
    n: usize,
}

impl Prefilter {
    fn new(active: &[(usize, &dyn Rule)]) -> Self {
        let mut pats: Vec<&str> = Vec::new();
        let mut rule_patterns = Vec::new();
        for (_, r) in active {
            let mut mine = Vec::new();
            for p in r.prefilter() {
                let i = pats.iter().position(|x| x == p).unwrap_or_else(|| {
                    pats.push(p);
                    pats.len() - 1
                });
                mine.push(i);
            }
            rule_patterns.push(mine);
        }
        let ac = (!pats.is_empty()).then(|| aho_corasick::AhoCorasick::new(&pats).expect("literals"));
        Prefilter { rule_patterns, ac, n: pats.len() }
    }

    fn hits(&self, text: &str) -> Vec<bool> {
        let mut seen = vec![false; self.n];
        if let Some(ac) = &self.ac {
            let mut left = self.n;
            for m in ac.find_overlapping_iter(text) {
                let i = m.pattern().as_usize();
                if !seen[i] {
                    seen[i] = true;
                    left -= 1;
                    if left == 0 {
                        break;
                    }
                }
            }
        }
        seen
    }
}

fn check_file(
    file: &SourceFile,
    project: &Project,
    active: &[(usize, &dyn Rule)],
    pre: &Prefilter,
    config: &Config,
    rule_nanos: &[std::sync::atomic::AtomicU64],
) -> (Vec<Finding>, Vec<Note>) {
    let mut out = Vec::new();
    let mut notes: Vec<Note> =
        file.decode_note.iter().map(|m| Note { path: file.rel.clone(), message: m.clone() }).collect();
    let lang = file.class.lang.name();
    let hits = pre.hits(&file.text);
    for (k, (idx, rule)) in active.iter().enumerate() {
        let meta = &RULES[*idx];
        if !(meta.languages.contains(&lang) || meta.languages.contains(&"any")) {
            continue;
        }
        if !rule.wants(&file.class) {
            continue;
        }
        let pats = &pre.rule_patterns[k];
        if !pats.is_empty() && !pats.iter().any(|&p| hits[p]) {
            continue;
        }
        let mut ctx = FileCtx { file, project, rule: meta, config, out: &mut out };
        let started = (!rule_nanos.is_empty()).then(Instant::now);
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| rule.check_file(&mut ctx)));
        if let Some(s) = started {
            rule_nanos[k].fetch_add(s.elapsed().as_nanos() as u64, std::sync::atomic::Ordering::Relaxed);
        }
        if result.is_err() {
            notes.push(Note {
                path: file.rel.clone(),
                message: format!("internal error in rule {}; please report it", meta.id),
            });
        }
    }
    if let Some(n) = file.parse_note() {
        notes.push(Note { path: file.rel.clone(), message: n.to_string() });
    }
    (out, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_deleted_between_walk_and_read_is_a_note() {
        let config = Config::from_raw(Default::default(), None).unwrap();
        let dir = std::env::temp_dir().join(format!("preflight-vanished-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("gone.py");
        std::fs::write(&path, "x = 1\n").unwrap();
        std::fs::remove_file(&path).unwrap();
        let note = load(&path, "gone.py".into(), true, &config).err().expect("a note");
        assert_eq!(note, Note { path: "gone.py".into(), message: "vanished before it could be read, skipped".into() });
        std::fs::remove_dir(&dir).unwrap();
    }
}
