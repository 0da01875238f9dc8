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

use crate::cache::ProjectResult;
use crate::catalog::{RuleMeta, RULES};
use crate::classify::{classify, FileClass, Lang};
use crate::config::Config;
use crate::finding::{finalize, Finding, Note};
use crate::fsread::path_text;
use crate::project::{Loaded, Needs, Project};
use crate::registry::{rules_impl, FileCtx, ProjectSink, Rule};
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

pub struct Outcome {
    pub findings: Vec<Finding>,
    /// What the project pass saw (settings roots, apps, front-end roots), for the checklist.
    pub facts: crate::project::Facts,
    pub notes: Vec<Note>,
    pub files_scanned: usize,
    pub elapsed: Duration,
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

/// What loading a walked file gave.
enum Item {
    File(Loaded),
    /// An empty file: whether it is a target, and its path and class if its name is one the
    /// project keeps (`is_kept_name`).
    Empty {
        target: bool,
        kept: Option<(String, FileClass)>,
    },
    Skipped(Note),
}

/// Whether the file name is a dotenv name (`.env`, `.env.prod`, `prod.env`).
fn is_dotenv_path(rel: &str) -> bool {
    crate::classify::is_dotenv_name(&rel.rsplit('/').next().unwrap_or(rel).to_lowercase())
}

/// Names `Project::walked` keeps: dotenv files (env-file-committed) and what the checklist's
/// facts look for (a Django project's manage.py, apps' models.py and apps.py, front-end roots'
/// package.json).
fn is_kept_name(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    is_dotenv_path(rel) || matches!(name, "manage.py" | "models.py" | "apps.py" | "package.json")
}

/// Most worker threads a run starts per CPU. Each has a 32 MiB stack (address space), and a
/// run is mostly CPU-bound: more threads than this only cost memory and start-up.
pub const MAX_THREADS_PER_CPU: usize = 4;

/// `requested` threads, or the ceiling (`MAX_THREADS_PER_CPU` times the CPUs) when it is more.
pub fn clamp_threads(requested: usize) -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    requested.clamp(1, cpus * MAX_THREADS_PER_CPU)
}

/// Runs every selected rule over the scan. `selected[i]` switches `RULES[i]`.
pub fn run(scan: &Scan, config: &Config, selected: &[bool], threads: usize) -> Result<Outcome, String> {
    let threads = clamp_threads(threads);
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
    // Rules build their patterns on a thread of their own while the tree is walked and read;
    // when the cache holds an entry for this run, it likely answers, and the thread would only
    // take a core from the walk: it starts after the cache has been asked.
    let warm_up = || {
        let warm: Vec<bool> = selected.to_vec();
        std::thread::spawn(move || {
            for (rule, _) in rules_impl::instantiate().iter().zip(warm).filter(|(_, on)| *on) {
                rule.warm_up();
            }
        });
    };
    // A run over a whole tree (not named files: a hook's few files are quick anyway) may answer
    // from the cache when nothing it reads has changed.
    let cache = config.cache_dir.as_deref().filter(|_| scan.files.is_empty());
    let slot = run_slot(&scan.root, config, selected);
    let entry_exists = cache.is_some_and(|dir| dir.join(format!("{}.json", slot.finish())).is_file());
    if !entry_exists {
        warm_up();
    }

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
    // What git tracks is deployed, whatever `.gitignore` says (it applies to untracked files
    // only): tracked files the walk passed by are read too.
    let start = scan.files.first().map_or(root.as_path(), |p| p.parent().unwrap_or(root));
    let tracked = if scan.dirs.is_empty() { None } else { tracked_files(start) };
    if let Some((top, rels)) = &tracked {
        let extra = tracked_not_walked(top, rels, &paths, &scan.dirs, &excluded);
        paths.extend(extra);
        paths.sort_unstable_by(|a, b| walk::path_order(a, b));
    }
    // A set: pre-commit names every file of the repository with `--all-files`, and a scan of
    // the walk for each named file was quadratic (20,000 files: 53 s).
    let in_walk: std::collections::HashSet<&PathBuf> =
        if scan.files.is_empty() { Default::default() } else { paths.iter().collect() };
    let mut named = Vec::new();
    for f in &scan.files {
        let skipped_dir = f.ancestors().skip(1).take_while(|a| a.starts_with(root)).any(walk::is_skipped_dir);
        if !in_walk.contains(f) && !skipped_dir && !excluded.matched_path_or_any_parents(f, false).is_ignore() {
            // Opening a named FIFO would block the run forever: only regular files are read.
            if std::fs::metadata(f).is_ok_and(|m| !m.is_file()) {
                let message = "not a regular file (FIFO, socket or device), skipped".to_string();
                notes.push(Note { path: rel_path(f, root), message });
                continue;
            }
            named.push(f.clone());
        }
    }
    drop(in_walk);
    paths.extend(named);
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
    // The quick check: the same files with the same times as when the last run read them.
    let stats = cache.and_then(|_| {
        let tracked = tracked.as_ref().map(|(top, t)| (top.as_path(), t.as_slice()));
        crate::stattable::take(&slot, &paths, &notes, tracked)
    });
    if let (Some(dir), Some(now)) = (cache, &stats) {
        let slot = slot.finish();
        if let Some(v) = crate::stattable::vouched(dir, &slot, now) {
            if let Some(hit) = crate::cache::load(dir, &crate::cache::Key { slot, full: v.full }) {
                phase("vouched");
                return Ok(Outcome {
                    findings: hit.findings,
                    notes: hit.notes,
                    facts: hit.facts,
                    files_scanned: v.files_scanned,
                    elapsed: started.elapsed(),
                });
            }
        }
    }
    // An empty file holds nothing a rule could flag (a committed empty `.env` has no values):
    // it is counted and, for a dotenv name, listed for env-file-committed, but not kept.
    let loaded: Vec<Item> = paths
        .par_iter()
        .filter_map(|p| {
            let target = targets.as_ref().is_none_or(|t| t.contains(p));
            let rel = rel_path(p, root);
            if !target && !rel.ends_with(".py") {
                return None;
            }
            Some(match load(p, rel, target, config) {
                Ok(l) if l.file.text.is_empty() && l.file.decode_note.is_none() => {
                    let f = &l.file;
                    Item::Empty { target, kept: is_kept_name(&f.rel).then(|| (f.rel.clone(), f.class)) }
                }
                Ok(l) => Item::File(l),
                Err(n) => Item::Skipped(n),
            })
        })
        .collect();
    drop(paths);
    let mut files = Vec::with_capacity(loaded.len());
    let mut empty_targets = 0;
    let mut empty_kept = Vec::new();
    for item in loaded {
        match item {
            Item::File(f) => files.push(f),
            Item::Empty { target, kept } => {
                empty_targets += usize::from(target);
                empty_kept.extend(kept);
            }
            Item::Skipped(n) => notes.push(n),
        }
    }
    let files_scanned = files.iter().filter(|f| f.target).count() + empty_targets;

    phase("load");
    let tracked = tracked.map(|(top, rels)| reroot_tracked(&top, rels, root));
    let digests: Vec<String> = if cache.is_some() { file_digests(&files) } else { Vec::new() };
    let key = cache.map(|_| run_key(slot.clone(), &notes, &digests, empty_targets, &empty_kept, tracked.as_deref()));
    if let (Some(dir), Some(key)) = (cache, &key) {
        if let Some(hit) = crate::cache::load(dir, key) {
            if let Some(now) = &stats {
                crate::stattable::store(dir, &key.slot, now, &key.full, files_scanned);
            }
            phase("cached");
            return Ok(Outcome {
                findings: hit.findings,
                notes: hit.notes,
                facts: hit.facts,
                files_scanned,
                elapsed: started.elapsed(),
            });
        }
    }
    if entry_exists {
        warm_up();
    }
    // What the last run left, kept where it still holds: when the tree has the same files
    // (paths, classes, git's list), each question the project pass and the rules asked of a
    // changed file is asked again of its new text (`Probes::fallen`). A part of the project
    // whose questions all get the same answers is the one the last run built; so are the
    // findings of a project rule whose reads and parts stand, and a rule's findings in an
    // unchanged file when the parts it needs stand. Everything else runs again: the changed
    // files with every rule, the other files with the rules whose parts fell.
    use crate::project::{Consumer, Part};
    let structure = cache.map(|_| structure_key(&slot, &files, empty_targets, &empty_kept, tracked.as_deref()));
    let slot_name = slot.finish();
    let mut reuse: Option<crate::cache::Partial> = match (cache, &structure) {
        (Some(dir), Some(structure)) => {
            crate::cache::load_partial(dir, &slot_name).filter(|p| p.structure == *structure)
        }
        _ => None,
    };
    let changed: std::collections::HashSet<String> = match &reuse {
        Some(p) => files
            .iter()
            .zip(&digests)
            .filter(|(l, d)| p.files.get(&l.file.rel) != Some(*d))
            .map(|(l, _)| l.file.rel.clone())
            .collect(),
        None => Default::default(),
    };
    let fallen: std::collections::BTreeSet<Consumer> = match &reuse {
        Some(p) => {
            let texts: HashMap<&str, &str> = files
                .iter()
                .filter(|l| changed.contains(&l.file.rel))
                .map(|l| (l.file.rel.as_str(), l.file.text.as_str()))
                .collect();
            crate::project::Probes::fallen(&p.probes, &texts)
        }
        None => Default::default(),
    };
    // A rule's read of a loaded file while it checked another file is not tied to that file:
    // when one fell, nothing is kept.
    if fallen.contains(&Consumer::Files) {
        reuse = None;
    }
    let part_stands = |part: Part| !fallen.contains(&Consumer::Part(part));
    let needs_stand = |n: Needs| Part::ALL.iter().all(|&part| !n.has(part) || part_stands(part));
    // Per active rule: whether its findings in unchanged files are kept.
    let kept_rule: Vec<bool> = active.iter().map(|(_, r)| reuse.is_some() && needs_stand(r.needs())).collect();
    // Per rule: whether its project check runs again.
    let rerun_project: Vec<bool> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| reuse.is_none() || !needs_stand(r.needs()) || fallen.contains(&Consumer::Rule(RULES[i].id)))
        .collect();
    if timing && cache.is_some() {
        match &reuse {
            Some(_) => eprintln!(
                "timing:   the last run stands: {} changed files checked again; fallen: {}",
                changed.len(),
                fallen
                    .iter()
                    .map(|c| match c {
                        Consumer::Part(p) => p.name().to_string(),
                        Consumer::Rule(r) => (*r).to_string(),
                        Consumer::Files => "files".to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => eprintln!("timing:   no reuse of the last run"),
        }
    }
    // The project is built for what runs: the rules that check a changed file, the rules that
    // check every file again, the project checks that run again.
    let stand_ins = with_stand_ins(selected);
    let build_needs = if reuse.is_some() {
        // The rules that pass their gates on a changed file (what `check_file` runs).
        let prefilter = Prefilter::new(&active);
        let on_changed = files
            .iter()
            .filter(|l| l.target && changed.contains(&l.file.rel))
            .flat_map(|l| {
                let hits = prefilter.hits(&l.file.text);
                let prefilter = &prefilter;
                active.iter().enumerate().filter(move |(k, (_, r))| passes_gates(&l.file, *k, *r, prefilter, &hits))
            })
            .fold(Needs::NONE, |n, (_, (_, r))| n.union(r.file_needs()));
        let again =
            active.iter().zip(&kept_rule).filter(|(_, k)| !**k).fold(Needs::NONE, |n, ((_, r), _)| n.union(r.needs()));
        let project_again = rules
            .iter()
            .enumerate()
            .filter(|(i, _)| stand_ins[*i] && rerun_project[*i])
            .fold(Needs::NONE, |n, (_, r)| n.union(r.needs()));
        on_changed.union(again).union(project_again)
    } else {
        needs(&rules, &stand_ins)
    };
    // The answers the last run got from files that have not changed are this run's answers:
    // the project pass need not ask them again.
    let known: HashMap<(String, crate::project::Probe), u64> = match &reuse {
        Some(p) => p
            .probes
            .iter()
            .filter(|(_, rel, probe, _)| *probe != crate::project::Probe::Text && !changed.contains(rel))
            .map(|(_, rel, probe, answer)| ((rel.clone(), probe.clone()), *answer))
            .collect(),
        None => HashMap::new(),
    };
    // The model graph of the last run, when its part stands and a rule checking a changed file
    // needs it: read back rather than built again from every model and view module.
    let kept_models = match (&reuse, cache) {
        (Some(p), Some(dir)) if build_needs.models && part_stands(Part::Models) => {
            p.models.as_deref().and_then(|d| crate::cache::load_models(dir, &slot_name, d))
        }
        _ => None,
    };
    let models_kept = kept_models.is_some();
    // The template contexts likewise (they are small: kept in the partial entry).
    let kept_contexts = match &reuse {
        Some(p) if build_needs.template_contexts && part_stands(Part::Templates) => p.contexts.clone(),
        _ => None,
    };
    let contexts_kept = kept_contexts.is_some();
    let known = crate::project::Known { answers: known, models: kept_models, contexts: kept_contexts };
    let mut project = crate::project::build_knowing(&files, config, root, tracked, build_needs, known, cache.is_some());
    if targets.is_some() {
        project.targets = Some(files.iter().filter(|l| l.target).map(|l| l.file.rel.clone()).collect());
    }
    project.walked.extend(empty_kept);
    project.walked.sort_by(|a, b| a.0.cmp(&b.0));
    phase("project");

    // Project rules: those whose findings still hold are kept, the others run.
    let mut project_results: Vec<ProjectResult> =
        project_findings(&rules, selected, &project, config, &|i| rerun_project[i]);
    if let Some(p) = &reuse {
        project_results.extend(p.project.iter().filter(|r| !rerun_project[crate::catalog::index_of(r.rule)]).cloned());
        project_results.sort_by_key(|r| crate::catalog::index_of(r.rule));
    }
    let scope_note = match reuse.as_ref().filter(|_| part_stands(Part::History)) {
        Some(p) => p.scope_note.clone(),
        None => migration_scope_note(&project, files.iter().filter(|l| l.target).map(|l| &*l.file)),
    };
    notes.extend(scope_note.iter().cloned());
    let mut findings: Vec<Finding> = Vec::new();
    for r in &project_results {
        findings.extend(r.findings.iter().cloned());
        notes.extend(r.notes.iter().cloned());
    }
    if let Some(t) = &targets {
        let rels: std::collections::HashSet<String> = t.iter().map(|p| rel_path(p, root)).collect();
        findings.retain(|f| rels.contains(&f.path));
    }

    // Suppressions, excludes and per-path ignores of the project rules' findings, while every
    // file is still loaded.
    let excluded_path = |f: &Finding| {
        // A finding about a whole folder (artifact-committed) is matched as a folder.
        let abs = root.join(&f.path);
        excluded.matched_path_or_any_parents(&abs, abs.is_dir()).is_ignore()
            || config.ignored_for_path(f.rule.id, &f.path)
    };
    // The preflight markers that suppressed a project rule's finding: (path, marker index, rule).
    let mut used_markers: std::collections::HashSet<(String, usize, &'static str)> = Default::default();
    let report_unused = selected[crate::catalog::index_of("unused-suppression")];
    {
        let by_rel: HashMap<&str, &SourceFile> = files.iter().map(|l| (l.file.rel.as_str(), l.file.as_ref())).collect();
        let mut sup_cache: HashMap<&str, suppress::Set> = HashMap::new();
        findings.retain(|f| {
            if excluded_path(f) {
                return false;
            }
            let Some(file) = by_rel.get(f.path.as_str()) else {
                return true;
            };
            let sups = sup_cache.entry(file.rel.as_str()).or_insert_with(|| suppress::Set::of(file));
            let by = sups.own_markers_for(suppress::id_of(f), f.line);
            if !by.is_empty() {
                used_markers.extend(by.into_iter().map(|k| (file.rel.clone(), k, f.rule.id)));
                return false;
            }
            !sups.suppresses(suppress::id_of(f), f.line)
        });
    }

    project.loaded = HashMap::new();
    phase("proj-rules");
    let loaded_rels: Vec<String> =
        if cache.is_some() { files.iter().map(|l| l.file.rel.clone()).collect() } else { Vec::new() };
    // Per-file rules. Each file is dropped (its text and tree freed) as soon as it is done, so
    // memory holds the texts and the trees of the files in flight, not of the whole tree.
    let prefilter = Prefilter::new(&active);
    let rule_nanos: Vec<std::sync::atomic::AtomicU64> =
        if timing { active.iter().map(|_| Default::default()).collect() } else { Vec::new() };
    let per_file: Vec<(String, crate::cache::FileEntry, Vec<Finding>, Vec<Note>)> = files
        .into_par_iter()
        .filter(|l| l.target)
        .map(|l| {
            let kept = reuse.as_ref().filter(|_| !changed.contains(&l.file.rel));
            let before = kept.and_then(|p| p.per_file.get(&l.file.rel));
            let run = |k: usize| kept.is_none() || !kept_rule[k];
            let mut result = check_file(&l.file, &project, &active, &prefilter, config, &rule_nanos, &run);
            if let Some(before) = before {
                // The kept rules' findings, and the file's parse note (the file is the same).
                for (id, f, n) in &before.rules {
                    let k = active.iter().position(|(i, _)| RULES[*i].id == *id);
                    if let Some(k) = k.filter(|&k| !run(k)) {
                        result.rules.push((k, f.clone(), n.clone()));
                    }
                }
                result.file_notes.extend(before.file_notes.iter().cloned());
                result.file_notes.sort();
                result.file_notes.dedup();
                result.rules.sort_by_key(|r| r.0);
            }
            let entry = crate::cache::FileEntry {
                rules: result.rules.iter().map(|(k, f, n)| (RULES[active[*k].0].id, f.clone(), n.clone())).collect(),
                file_notes: result.file_notes.clone(),
            };
            let (mut found, notes) = result.flatten();
            // A marker in documentation is an example of one, not a suppression to judge.
            let judge_markers = report_unused && !l.file.class.roles.docs && l.file.text.contains(suppress::MARKER);
            if !found.is_empty() || judge_markers {
                let sups = suppress::Set::of(&l.file);
                let mut used_here: std::collections::HashSet<(usize, &'static str)> = Default::default();
                found.retain(|f| {
                    if excluded_path(f) {
                        return false;
                    }
                    let by = sups.own_markers_for(f.rule.id, f.line);
                    if !by.is_empty() {
                        used_here.extend(by.into_iter().map(|k| (k, f.rule.id)));
                        return false;
                    }
                    !sups.suppresses(f.rule.id, f.line)
                });
                if judge_markers {
                    let used = |k: usize, id: &str| {
                        used_here.contains(&(k, id))
                            || (!used_markers.is_empty() && used_markers.contains(&(l.file.rel.clone(), k, id)))
                    };
                    let unused = unused_suppressions(&l.file, &sups, used, &active, &notes, config);
                    found.extend(
                        unused.into_iter().filter(|f| !excluded_path(f) && !sups.suppresses(f.rule.id, f.line)),
                    );
                }
            }
            (l.file.rel.clone(), entry, found, notes)
        })
        .collect();
    for (_, _, f, n) in &per_file {
        findings.extend(f.iter().cloned());
        notes.extend(n.iter().cloned());
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
    let mut facts = project.facts(active.iter().map(|(_, r)| r.id()).collect());
    if let Some(p) = &reuse {
        // The parts not built again are the last run's.
        if !build_needs.settings {
            facts.settings = p.facts.settings.clone();
            facts.django = p.facts.django;
        }
        if !build_needs.models {
            facts.models = p.facts.models;
        }
    }
    if let (Some(dir), Some(key), Some(structure)) = (cache, &key, structure) {
        let mut looks = project.reads.looks();
        if let Some(p) = &reuse {
            // The questions of what was kept are the last run's; of what ran, this run's.
            let ran = |c: &Consumer| match c {
                Consumer::Part(Part::Models) if models_kept => false,
                Consumer::Part(Part::Templates) if contexts_kept => false,
                Consumer::Part(part) => build_needs.has(*part),
                Consumer::Rule(id) => rerun_project[crate::catalog::index_of(id)],
                Consumer::Files => false,
            };
            project.probes.extend(p.probes.iter().filter(|a| !ran(&a.0)).cloned());
            looks.extend(p.looks.iter().cloned());
            looks.sort();
            looks.dedup();
        }
        crate::cache::store(dir, key, &findings, &notes, &facts, &looks);
        // The graph this run built or kept; else, while it stands, the last run's.
        let models = if build_needs.models {
            crate::cache::store_models(dir, &slot_name, &project.models)
        } else {
            reuse.as_ref().filter(|_| part_stands(Part::Models)).and_then(|p| p.models.clone())
        };
        let contexts = if build_needs.template_contexts {
            Some(project.template_contexts.clone())
        } else {
            reuse.as_ref().filter(|_| part_stands(Part::Templates)).and_then(|p| p.contexts.clone())
        };
        if let Some(now) = &stats {
            crate::stattable::store(dir, &key.slot, now, &key.full, files_scanned);
        }
        let partial = crate::cache::Partial {
            structure,
            files: crate::cache::digest_map(&loaded_rels, digests),
            probes: project.probes.asked(),
            looks,
            project: project_results,
            scope_note,
            per_file: per_file
                .into_iter()
                .filter(|(_, e, _, _)| !e.rules.is_empty() || !e.file_notes.is_empty())
                .map(|(rel, e, _, _)| (rel, e))
                .collect(),
            facts: facts.clone(),
            models,
            contexts,
        };
        crate::cache::store_partial(dir, &slot_name, &partial);
    }
    Ok(Outcome { findings, notes, facts, files_scanned, elapsed: started.elapsed() })
}

/// The run cache's slot: the binary's sources, the project root, the rule selection and the
/// configuration (an entry file per slot).
fn run_slot(root: &Path, config: &Config, selected: &[bool]) -> crate::cache::KeyHasher {
    let mut slot = crate::cache::KeyHasher::default();
    slot.part(env!("PREFLIGHT_BUILD_ID").as_bytes());
    slot.part(path_text(root).as_bytes());
    slot.part(&selected.iter().map(|&s| u8::from(s)).collect::<Vec<u8>>());
    slot.part(format!("{:?}", config.raw).as_bytes());
    slot
}

/// The run cache's key: the slot and everything a run reads besides its looks at the disk
/// (`Project::read` and the like, which the entry lists and `cache::load` checks again).
fn run_key(
    slot: crate::cache::KeyHasher,
    notes: &[Note],
    digests: &[String],
    empty_targets: usize,
    empty_kept: &[(String, FileClass)],
    tracked: Option<&[String]>,
) -> crate::cache::Key {
    let mut full = slot.clone();
    for d in digests {
        full.part(d.as_bytes());
    }
    for n in notes {
        full.part(n.path.as_bytes());
        full.part(n.message.as_bytes());
    }
    full.part(&empty_targets.to_le_bytes());
    for (rel, class) in empty_kept {
        full.part(rel.as_bytes());
        full.part(format!("{class:?}").as_bytes());
    }
    match tracked {
        Some(t) => t.iter().for_each(|p| full.part(p.as_bytes())),
        None => full.part(b"untracked"),
    }
    crate::cache::Key { slot: slot.finish(), full: full.finish() }
}

/// Each loaded file's digest: its path, whether it is a target, its class, decoding note and
/// content; hashed in parallel, in the files' (path) order.
fn file_digests(files: &[Loaded]) -> Vec<String> {
    files
        .par_iter()
        .map(|l| {
            let f = &l.file;
            let mut h = crate::cache::KeyHasher::default();
            h.part(f.rel.as_bytes());
            h.part(&[u8::from(l.target)]);
            h.part(format!("{:?}{:?}", f.class, f.decode_note).as_bytes());
            h.part(f.text.as_bytes());
            h.finish()
        })
        .collect()
}

/// The tree's shape for the run cache's reuse file by file: the slot, every loaded file's path,
/// whether it is a target, its class and decoding note (not its content), the empty files and
/// git's list of tracked paths. A file added, removed or classified otherwise makes a fresh run.
fn structure_key(
    slot: &crate::cache::KeyHasher,
    files: &[Loaded],
    empty_targets: usize,
    empty_kept: &[(String, FileClass)],
    tracked: Option<&[String]>,
) -> String {
    let mut h = slot.clone();
    for l in files {
        let f = &l.file;
        h.part(f.rel.as_bytes());
        h.part(&[u8::from(l.target)]);
        h.part(format!("{:?}{:?}", f.class, f.decode_note).as_bytes());
    }
    h.part(&empty_targets.to_le_bytes());
    for (rel, class) in empty_kept {
        h.part(rel.as_bytes());
        h.part(format!("{class:?}").as_bytes());
    }
    match tracked {
        Some(t) => t.iter().for_each(|p| h.part(p.as_bytes())),
        None => h.part(b"untracked"),
    }
    h.finish()
}

/// Whether a note says a file could not be read at all (as opposed to a file read and skipped
/// for what it is: binary, too large, a symlink not followed).
pub fn is_unreadable_note(message: &str) -> bool {
    ["permission denied", "unreadable", "vanished", "not a regular file"].iter().any(|p| message.starts_with(p))
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
    let mut project =
        crate::project::build(&loaded, config, Path::new(""), None, needs(&rules, &with_stand_ins(selected)));
    project.root = None;
    let mut findings = Vec::new();
    for r in project_findings(&rules, selected, &project, config, &|_| true) {
        findings.extend(r.findings);
        notes.extend(r.notes);
    }
    let prefilter = Prefilter::new(&active);
    for l in &loaded {
        let (f, n) = check_file(&l.file, &project, &active, &prefilter, config, &[], &|_| true).flatten();
        findings.extend(f);
        notes.extend(n);
    }
    finalize(&mut findings);
    notes.sort();
    notes.dedup();
    let facts = project.facts(active.iter().map(|(_, r)| r.id()).collect());
    Outcome { findings, notes, facts, files_scanned, elapsed: started.elapsed() }
}

/// The summary's word on the migrations left out of the default scope: how many, and how to
/// judge them.
fn migration_scope_note<'a>(
    project: &Project,
    targets: impl Iterator<Item = &'a crate::source::SourceFile>,
) -> Option<Note> {
    let scope = project.deploy_migrations.as_ref()?;
    let older = targets
        .filter(|f| f.class.roles.migration && !f.class.roles.test && !f.class.roles.vendored)
        .filter(|f| {
            !f.rel.ends_with("__init__.py")
                && project.probes.contains(
                    crate::project::Consumer::Part(crate::project::Part::History),
                    &f.rel,
                    &f.text,
                    "class Migration",
                )
                && !scope.contains(&f.rel)
        })
        .count();
    (older > 0).then(|| Note {
        path: ".".to_string(),
        message: format!(
            "django-migration-unsafe and django-migration-irreversible judged only each app's latest migrations, \
             the ones a next deploy would apply; \
             {older} older migration{} not judged: `--all-migrations` (or `all-migrations = true` in the config) judges \
             the whole history, `--diff-base REV` the migrations changed since REV (a release tag)",
            if older == 1 { " was" } else { "s were" }
        ),
    })
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

/// What the project pass builds: what the rules in `selected` declare they need.
fn needs(rules: &[Box<dyn Rule>], selected: &[bool]) -> Needs {
    rules.iter().zip(selected).filter(|(_, &s)| s).fold(Needs::NONE, |n, (r, _)| n.union(r.needs()))
}

/// The selection the project pass builds facts for: the selected rules and the owners standing
/// in for them (`DEFERS_TO`).
fn with_stand_ins(selected: &[bool]) -> Vec<bool> {
    let mut with = selected.to_vec();
    for (rule, owner) in DEFERS_TO {
        if selected[crate::catalog::index_of(rule)] {
            with[crate::catalog::index_of(owner)] = true;
        }
    }
    with
}

/// Runs the project checks of the selected rules, and of each owner standing in for a selected
/// rule whose findings it owns (`DEFERS_TO`), its findings relabelled as the rule's.
fn project_findings(
    rules: &[Box<dyn Rule>],
    selected: &[bool],
    project: &Project,
    config: &Config,
    rerun: &dyn Fn(usize) -> bool,
) -> Vec<ProjectResult> {
    let mut out = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let stands_in_for: Vec<&'static RuleMeta> = DEFERS_TO
            .iter()
            .filter(|(r, owner)| *owner == RULES[i].id && !selected[i] && selected[crate::catalog::index_of(r)])
            .map(|(r, _)| &RULES[crate::catalog::index_of(r)])
            .collect();
        if (!selected[i] && stands_in_for.is_empty()) || !rerun(i) {
            continue;
        }
        let mut sink = ProjectSink { project, config, rule: &RULES[i], out: Vec::new(), notes: Vec::new() };
        project.probes.set_current(Some(crate::project::Consumer::Rule(RULES[i].id)));
        rule.check_project(project, &mut sink);
        project.probes.set_current(None);
        let mut findings = Vec::new();
        let mut notes = Vec::new();
        if selected[i] {
            notes.extend(sink.notes.drain(..).map(|message| Note { path: ".".to_string(), message }));
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
        out.push(ProjectResult { rule: RULES[i].id, findings, notes });
    }
    out
}

fn load(path: &Path, rel: String, target: bool, config: &Config) -> Result<Loaded, Note> {
    use crate::fsread::{read_regular_capped, ReadError};
    // Opened non-blocking and checked on the handle: a file swapped for a FIFO after the walk
    // is a note, not a read that waits forever. A file is read to the size it had.
    let bytes = match read_regular_capped(path, config.max_file_size()) {
        Ok(b) => b,
        Err(ReadError::TooLarge(len)) => {
            return Err(Note {
                path: rel,
                message: format!("{len} bytes, over the {} byte limit, skipped", config.max_file_size()),
            });
        }
        Err(e) => {
            let why = match e {
                ReadError::NotFound => "vanished before it could be read".to_string(),
                ReadError::NotRegular => "not a regular file (FIFO, socket or device)".to_string(),
                ReadError::Io(e) if e.kind() == std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                e => format!("unreadable: {e}"),
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

/// The work tree and the paths git tracks (relative to it) of the repository holding `start`.
fn tracked_files(start: &Path) -> Option<(PathBuf, Vec<String>)> {
    let (top, gitdir) = crate::gitindex::find_repo(start)?;
    let paths = crate::gitindex::tracked_paths(&top, &gitdir)?;
    Some((top, paths))
}

/// Tracked paths (relative to the work tree `top`, with `/` and the walk's byte escapes) made
/// relative to the report root. Re-rooted as text: joining one to a path would read its escapes
/// as names.
fn reroot_tracked(top: &Path, rels: Vec<String>, root: &Path) -> Vec<String> {
    let (add, strip) = if let Ok(down) = top.strip_prefix(root) {
        (path_text(down), String::new())
    } else {
        match root.strip_prefix(top) {
            Ok(up) => (String::new(), path_text(up)),
            Err(_) => return Vec::new(),
        }
    };
    rels.into_iter()
        .filter_map(|p| match (add.is_empty(), strip.is_empty()) {
            (false, _) => Some(format!("{add}/{p}")),
            (true, true) => Some(p),
            (true, false) => p.strip_prefix(&strip)?.strip_prefix('/').map(str::to_string),
        })
        .collect()
}

/// Tracked regular files under the scanned folders that the walk did not yield (listed in
/// `.gitignore`, or inside a folder the walk never enters such as `node_modules`: the latter
/// are classified as vendored). Not what an `exclude` glob names, not symlinks, not assets,
/// not files deleted from the work tree. `walked` is sorted by `walk::path_order`.
fn tracked_not_walked(
    top: &Path,
    tracked: &[String],
    walked: &[PathBuf],
    dirs: &[PathBuf],
    excluded: &ignore::gitignore::Gitignore,
) -> Vec<PathBuf> {
    tracked
        .iter()
        .map(|rel| top.join(rel))
        .filter(|abs| {
            dirs.iter().any(|d| abs.starts_with(d))
                && !walk::is_asset(abs)
                && walked.binary_search_by(|w| walk::path_order(w, abs)).is_err()
                && !(abs.starts_with(excluded.path()) && excluded.matched_path_or_any_parents(abs, false).is_ignore())
                && std::fs::symlink_metadata(abs).is_ok_and(|m| m.file_type().is_file())
        })
        .collect()
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

/// What the rules found in one file: for each rule that ran (its index in `active`), its
/// findings and notes; and the file's own notes (decoding, parse errors).
struct FileResult {
    rules: Vec<(usize, Vec<Finding>, Vec<Note>)>,
    file_notes: Vec<Note>,
}

impl FileResult {
    fn flatten(self) -> (Vec<Finding>, Vec<Note>) {
        let mut found = Vec::new();
        let mut notes = self.file_notes;
        for (_, f, n) in self.rules {
            found.extend(f);
            notes.extend(n);
        }
        (found, notes)
    }
}

/// Whether active rule `k` checks `file`: its languages, the files it wants, its literals
/// (`hits`: the prefilter's scan of the file), and for Python its literals in code.
fn passes_gates(file: &SourceFile, k: usize, rule: &dyn Rule, pre: &Prefilter, hits: &[bool]) -> bool {
    let meta = &RULES[rule_index(rule)];
    let lang = file.class.lang.name();
    if !(meta.languages.contains(&lang) || meta.languages.contains(&"any")) || !rule.wants(&file.class) {
        return false;
    }
    let pats = &pre.rule_patterns[k];
    if !pats.is_empty() && !pats.iter().any(|&p| hits[p]) {
        return false;
    }
    !(rule.prefilter_in_code()
        && file.class.lang == Lang::Python
        && !crate::lexgate::python_code_has(&file.text, rule.prefilter()))
}

/// The index in `RULES` of a rule.
fn rule_index(rule: &dyn Rule) -> usize {
    crate::catalog::index_of(rule.id())
}

/// Runs the active rules `run` picks (by index in `active`) on `file`.
fn check_file(
    file: &SourceFile,
    project: &Project,
    active: &[(usize, &dyn Rule)],
    pre: &Prefilter,
    config: &Config,
    rule_nanos: &[std::sync::atomic::AtomicU64],
    run: &dyn Fn(usize) -> bool,
) -> FileResult {
    let mut results = Vec::new();
    let mut file_notes: Vec<Note> =
        file.decode_note.iter().map(|m| Note { path: file.rel.clone(), message: m.clone() }).collect();
    // A file whose findings are all kept from the last run is not scanned.
    let hits = if (0..active.len()).any(run) { pre.hits(&file.text) } else { Vec::new() };
    for (k, (idx, rule)) in active.iter().enumerate() {
        if !run(k) || !passes_gates(file, k, *rule, pre, &hits) {
            continue;
        }
        let meta = &RULES[*idx];
        let mut out = Vec::new();
        let mut notes = Vec::new();
        let mut ctx = FileCtx { file, project, rule: meta, config, out: &mut out };
        let started = (!rule_nanos.is_empty()).then(Instant::now);
        crate::budget::open(crate::budget::limit_for(file.text.len()));
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| rule.check_file(&mut ctx)));
        let (_, over_budget) = crate::budget::close();
        if let Some(s) = started {
            rule_nanos[k].fetch_add(s.elapsed().as_nanos() as u64, std::sync::atomic::Ordering::Relaxed);
        }
        if result.is_err() {
            notes.push(Note {
                path: file.rel.clone(),
                message: format!("internal error in rule {}; please report it", meta.id),
            });
        } else if over_budget {
            // What the rule found before it stopped may be incomplete or wrong: none of it is kept.
            out.clear();
            notes.push(Note {
                path: file.rel.clone(),
                message: format!("rule {} stopped: the file needs more analysis than its work budget", meta.id),
            });
        }
        if !out.is_empty() || !notes.is_empty() {
            results.push((k, out, notes));
        }
    }
    if let Some(n) = file.parse_note() {
        file_notes.push(Note { path: file.rel.clone(), message: n.to_string() });
    }
    FileResult { rules: results, file_notes }
}

/// `unused-suppression`: the preflight markers of `file` naming a rule that ran on the file
/// (selected, its language, a file it wants, not ignored for the path, not stopped on its
/// budget) and suppressed nothing. Project-wide rules are not judged: whether they ran on a
/// file is not known here. Other tools' markers are never judged.
fn unused_suppressions(
    file: &SourceFile,
    sups: &suppress::Set,
    used: impl Fn(usize, &str) -> bool,
    active: &[(usize, &dyn Rule)],
    notes: &[Note],
    config: &Config,
) -> Vec<Finding> {
    let meta = &RULES[crate::catalog::index_of("unused-suppression")];
    let lang = file.class.lang.name();
    let ran = |id: &str| {
        active.iter().any(|(i, r)| {
            let m = &RULES[*i];
            m.id == id && (m.languages.contains(&lang) || m.languages.contains(&"any")) && r.wants(&file.class)
        }) && !config.ignored_for_path(id, &file.rel)
            && !notes
                .iter()
                .any(|n| n.message.contains(&format!("rule {id} ")) || n.message.contains(&format!("rule {id};")))
    };
    let mut out = Vec::new();
    for (k, s) in sups.own.iter().enumerate() {
        let unused: Vec<&str> =
            s.ids.iter().map(String::as_str).filter(|id| *id != meta.id && ran(id) && !used(k, id)).collect();
        if unused.is_empty() || !suppress::in_comment(file, s.offset) {
            continue;
        }
        let names = unused.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ");
        let message = if unused.len() == 1 {
            format!("{names} found nothing on this line or the next, so this suppression is unused: remove it")
        } else {
            format!("{names} found nothing on this line or the next, so these suppressions are unused: remove them")
        };
        out.push(Finding::at(meta, file, s.offset, s.offset + suppress::MARKER.len(), message));
    }
    out
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

    #[test]
    fn a_file_swapped_for_a_fifo_between_walk_and_read_is_a_note() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("swapped.py");
        assert!(std::process::Command::new("mkfifo").arg(&path).status().unwrap().success());
        // In a thread: if the read blocks, the test fails instead of hanging the suite.
        let (tx, rx) = std::sync::mpsc::channel();
        let p = path.clone();
        std::thread::spawn(move || {
            let config = Config::from_raw(Default::default(), None).unwrap();
            let _ = tx.send(load(&p, "swapped.py".into(), true, &config).err());
        });
        let note = rx.recv_timeout(Duration::from_secs(10)).expect("load blocked on a FIFO").expect("a note");
        assert_eq!(
            note,
            Note { path: "swapped.py".into(), message: "not a regular file (FIFO, socket or device), skipped".into() }
        );
    }
}
