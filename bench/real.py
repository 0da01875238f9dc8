#!/usr/bin/env python3
"""The benchmark on real repositories: for each checkout given (default: every folder of
../corpus beside the project), after a warm-up run, the median of --runs of

- preflight's wall time and rg's over the same tree (`rg -c SECRET_KEY`, the floor of reading
  the files), and their ratio: cold (`--no-cache`), warm (the run cache primed, nothing
  changed), and with one file changed (a comment appended, then restored): the first Python
  module in path order, the first view module (`views.py` or under `views/`), the first
  front-end file;
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


FRONT_END = (".ts", ".tsx", ".js", ".jsx")


def one_file_changed(cmd, repo, runs, env, kind="py"):
    """Median wall time of `cmd` after a comment is appended to one Python file (`kind` "py")
    or one front-end file ("front": TS/TSX/JS/JSX) (a different comment each time, so each run
    sees a change); the file is restored afterwards."""
    target = None
    for dirpath, dirnames, filenames in os.walk(repo):
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and d not in ("node_modules", "migrations", "dist", "build")
        )
        if kind == "py":
            found = sorted(f for f in filenames if f.endswith(".py") and f != "__init__.py")
        elif kind == "view":
            in_views = os.path.basename(dirpath) == "views"
            found = sorted(
                f for f in filenames if f.endswith(".py") and f != "__init__.py" and (f == "views.py" or in_views)
            )
        else:
            found = sorted(f for f in filenames if f.endswith(FRONT_END) and ".min." not in f)
        if found:
            target = os.path.join(dirpath, found[0])
            break
    if target is None:
        return None
    mark = "#" if kind == "py" else "//"
    original = open(target, "rb").read()
    samples = []
    try:
        for i in range(runs + 1):
            with open(target, "wb") as f:
                f.write(original + f"\n{mark} preflight bench {time.time_ns()} {i}\n".encode())
            start = time.perf_counter()
            subprocess.run(cmd, cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            samples.append(time.perf_counter() - start)
    finally:
        with open(target, "wb") as f:
            f.write(original)
    return statistics.median(samples[1:])


def timings(repo):
    """Parses, parsed KB, phase CPU (ms) and the costliest rules from PREFLIGHT_TIMINGS."""
    env = dict(os.environ, PREFLIGHT_TIMINGS="1")
    err = subprocess.run(
        [BIN, "check", ".", "--format", "json", "--exit-zero", "--quiet", "--no-cache"],
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
        cmd = [BIN, "check", ".", "--format", "json", "--exit-zero", "--quiet"]
        pf_wall, pf_rss, pf_cpu = measure(cmd + ["--no-cache"], repo, args.runs)
        cache = os.path.join(OUT, "cache")
        env = dict(os.environ, PREFLIGHT_CACHE_DIR=cache)
        os.environ["PREFLIGHT_CACHE_DIR"] = cache
        warm_wall, warm_rss, _ = measure(cmd, repo, args.runs)
        changed_wall = one_file_changed(cmd, repo, args.runs, env)
        front_wall = one_file_changed(cmd, repo, args.runs, env, "front")
        view_wall = one_file_changed(cmd, repo, args.runs, env, "view")
        rg_wall, _, _ = measure(["rg", "-c", "SECRET_KEY", "."], repo, args.runs)
        parses, kb, phases, top = timings(repo)
        rows.append({
            "repo": name, "preflight_s": pf_wall, "rg_s": rg_wall, "ratio": pf_wall / max(rg_wall, 1e-3),
            "warm_s": warm_wall, "warm_ratio": warm_wall / max(rg_wall, 1e-3), "warm_rss_mb": warm_rss,
            "changed_s": changed_wall,
            "changed_ratio": changed_wall / max(rg_wall, 1e-3) if changed_wall is not None else None,
            "front_s": front_wall,
            "front_ratio": front_wall / max(rg_wall, 1e-3) if front_wall is not None else None,
            "view_s": view_wall,
            "view_ratio": view_wall / max(rg_wall, 1e-3) if view_wall is not None else None,
            "cpu_s": pf_cpu, "rss_mb": pf_rss, "parses": parses, "parsed_mb": kb / 1024,
            "phases_ms": phases, "top_rules_ms": top,
        })
        print(f"{name}: {pf_wall:.2f}s cold, {warm_wall:.2f}s warm vs rg {rg_wall:.3f}s", file=sys.stderr)
    print("| repository | preflight cold | warm | one .py changed | one view module changed | one front-end file changed | rg | ratio cold / warm / .py / view / front end | CPU | peak RSS | parsed | CPU by phase (walk / load / project / rules) | costliest rules (ms CPU) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for r in rows:
        p = r["phases_ms"]
        phase = " / ".join(str(p.get(k, 0)) for k in ("walk", "load", "project", "per-file"))
        top = ", ".join(f"{k} {v:.0f}" for k, v in r["top_rules_ms"])
        changed = f"{r['changed_s']*1000:.0f} ms" if r["changed_s"] is not None else "–"
        changed_ratio = f"{r['changed_ratio']:.1f}×" if r["changed_ratio"] is not None else "–"
        front = f"{r['front_s']*1000:.0f} ms" if r["front_s"] is not None else "–"
        front_ratio = f"{r['front_ratio']:.1f}×" if r["front_ratio"] is not None else "–"
        view = f"{r['view_s']*1000:.0f} ms" if r["view_s"] is not None else "–"
        view_ratio = f"{r['view_ratio']:.1f}×" if r["view_ratio"] is not None else "–"
        print(
            f"| {r['repo']} | {r['preflight_s']*1000:.0f} ms | {r['warm_s']*1000:.0f} ms | {changed} | {view} | {front} | "
            f"{r['rg_s']*1000:.0f} ms | {r['ratio']:.1f}× / {r['warm_ratio']:.1f}× / {changed_ratio} / {view_ratio} / {front_ratio} | "
            f"{r['cpu_s']:.2f} s | {r['rss_mb']:.0f} MB | {r['parses']} files, {r['parsed_mb']:.1f} MB | {phase} | {top} |"
        )
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "real.json"), "w") as f:
        json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
