//! Micro-benchmarks of the hot paths: classification, decoding, the literal prefilter, parsing,
//! and each rule family over realistic files (the fixtures). No external harness: each case runs
//! in batches after a warm-up and reports the median time per call.
//!
//!     cargo bench --bench micro

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use preflight::catalog::RULES;
use preflight::classify::{classify, Lang};
use preflight::config::{Config, RawConfig};
use preflight::engine::run_in_memory;

fn bench(name: &str, mut f: impl FnMut()) {
    // Calibrate a batch to about 20 ms, then take the median of 9 batches.
    let mut batch = 1u32;
    loop {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        if t.elapsed().as_millis() >= 20 || batch >= 1 << 20 {
            break;
        }
        batch *= 2;
    }
    let mut samples: Vec<f64> = (0..9)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..batch {
                f();
            }
            t.elapsed().as_secs_f64() * 1e9 / f64::from(batch)
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    let ns = samples[samples.len() / 2];
    let (v, unit) = if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    println!("{name:<40} {v:>9.2} {unit}/call");
}

fn fixture_files() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(b) = std::fs::read(&p) {
                out.push((p.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/"), b));
            }
        }
    }
    out.sort();
    out
}

fn main() {
    let files = fixture_files();
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    println!("{} fixture files, {} KB", files.len(), bytes / 1024);
    let config = Config::from_raw(RawConfig::default(), None).unwrap();

    bench("classify (every fixture path)", || {
        for (rel, b) in &files {
            black_box(classify(rel, &b[..b.len().min(8192)]));
        }
    });
    bench("decode (every fixture file)", || {
        for (_, b) in &files {
            black_box(preflight::source::decode(b.clone()));
        }
    });
    let py: Vec<String> = files
        .iter()
        .filter(|(r, _)| r.ends_with(".py"))
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .collect();
    let tsx: Vec<String> = files
        .iter()
        .filter(|(r, _)| r.ends_with(".tsx") || r.ends_with(".jsx") || r.ends_with(".ts") || r.ends_with(".js"))
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .collect();
    bench(&format!("parse Python ({} files)", py.len()), || {
        for t in &py {
            black_box(preflight::parse::parse(Lang::Python, t).ok());
        }
    });
    bench(&format!("parse JS/TS as TSX ({} files)", tsx.len()), || {
        for t in &tsx {
            black_box(preflight::parse::parse(Lang::Tsx, t).ok());
        }
    });
    let none = vec![false; RULES.len()];
    bench("pipeline, no rule (load, classify, prefilter)", || {
        black_box(run_in_memory(files.clone(), &config, &none));
    });
    for (family, tag) in [
        ("settings rules", "settings"),
        ("migration rules", "migrations"),
        ("N+1 (model graph and loops)", "orm"),
        ("secrets", "secrets"),
        ("hygiene (console, debugger, todo)", "maintainability"),
    ] {
        let selected: Vec<bool> = RULES
            .iter()
            .map(|r| r.tags.contains(&tag) || (tag == "maintainability" && r.id == "debugger-statement"))
            .collect();
        bench(&format!("rules: {family}"), || {
            black_box(run_in_memory(files.clone(), &config, &selected));
        });
    }
    let all = vec![true; RULES.len()];
    bench("rules: all", || {
        black_box(run_in_memory(files.clone(), &config, &all));
    });
}
