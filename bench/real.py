#!/usr/bin/env python3
"""The benchmark on real repositories: for each checkout given (default: every folder of
../corpus beside the project), after a warm-up run, the median of --runs of

- preflight's wall time and rg's over the same tree (`rg -c SECRET_KEY`, the floor of reading
  the files), and their ratio;
- preflight's peak RSS (wait4) and process CPU;
- from one run with PREFLIGHT_TIMINGS=1: the files parsed and their bytes, the CPU of each phase
  (walk, load, project pass, per-file rules) and the three rules that took the most.

It prints a table (Markdown, for the README) and writes JSON to target/bench/real.json.

    python3 bench/real.py                          # ../corpus/*
    python3 bench/real.py ../corpus/saleor+saleor --runs 5
"""

import argparse
import glob
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "preflight")
OUT = os.path.join(ROOT, "target", "bench")


def run_once(cmd, cwd):
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"{' '.join(cmd)} in {cwd} exited with {code}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def measure(cmd, cwd, runs):
    run_once(cmd, cwd)
    samples = [run_once(cmd, cwd) for _ in range(runs)]
    return (
        statistics.median(s[0] for s in samples),
        max(s[1] for s in samples),
        statistics.median(s[2] for s in samples),
    )


def timings(repo):
    """Parses, parsed KB, phase CPU (ms) and the costliest rules from PREFLIGHT_TIMINGS."""
    env = dict(os.environ, PREFLIGHT_TIMINGS="1")
    err = subprocess.run(
        [BIN, "check", ".", "--format", "json", "--exit-zero", "--quiet"],
        cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    ).stderr
    phases, rules, parses, kb = {}, {}, 0, 0
    prev_cpu = 0
    for line in err.splitlines():
        m = re.match(r"timing: (\S+)\s+[\d.]+ ms\s+process CPU\s+(\d+) ms\s+\(parses so far: (\d+), (\d+) KB", line)
        if m:
            cpu = int(m.group(2))
            phases[m.group(1)] = cpu - prev_cpu
            prev_cpu = cpu
            parses, kb = int(m.group(3)), int(m.group(4))
            continue
        m = re.match(r"timing:\s+(\S+)\s+([\d.]+) ms CPU", line)
        if m:
            rules[m.group(1)] = float(m.group(2))
    top = sorted(rules.items(), key=lambda kv: -kv[1])[:3]
    return parses, kb, phases, top


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("repos", nargs="*")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    repos = args.repos or sorted(glob.glob(os.path.join(ROOT, "..", "corpus", "*", "")))
    if not repos:
        sys.exit("no repositories: give checkout paths, or check some out into ../corpus")
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT, check=True)
    rows = []
    for repo in repos:
        repo = os.path.abspath(repo)
        name = os.path.basename(os.path.normpath(repo))
        pf_wall, pf_rss, pf_cpu = measure([BIN, "check", ".", "--format", "json", "--exit-zero", "--quiet"], repo, args.runs)
        rg_wall, _, _ = measure(["rg", "-c", "SECRET_KEY", "."], repo, args.runs)
        parses, kb, phases, top = timings(repo)
        rows.append({
            "repo": name, "preflight_s": pf_wall, "rg_s": rg_wall, "ratio": pf_wall / max(rg_wall, 1e-3),
            "cpu_s": pf_cpu, "rss_mb": pf_rss, "parses": parses, "parsed_mb": kb / 1024,
            "phases_ms": phases, "top_rules_ms": top,
        })
        print(f"{name}: {pf_wall:.2f}s vs rg {rg_wall:.3f}s", file=sys.stderr)
    print("| repository | preflight | rg | ratio | CPU | peak RSS | parsed | CPU by phase (walk / load / project / rules) | costliest rules (ms CPU) |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---|")
    for r in rows:
        p = r["phases_ms"]
        phase = " / ".join(str(p.get(k, 0)) for k in ("walk", "load", "project", "per-file"))
        top = ", ".join(f"{k} {v:.0f}" for k, v in r["top_rules_ms"])
        print(
            f"| {r['repo']} | {r['preflight_s']*1000:.0f} ms | {r['rg_s']*1000:.0f} ms | {r['ratio']:.1f}× | "
            f"{r['cpu_s']:.2f} s | {r['rss_mb']:.0f} MB | {r['parses']} files, {r['parsed_mb']:.1f} MB | {phase} | {top} |"
        )
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "real.json"), "w") as f:
        json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
