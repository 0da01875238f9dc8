#!/usr/bin/env python3
"""The benchmark: builds the release binary, generates Django + React monorepos of 10k, 100k
and 1M lines (bench/generate.py), and measures on each, after a warm-up run:

- preflight wall time (median of --runs), files/s, MB/s, peak RSS (from wait4, as
  /usr/bin/time -v reports it);
- rg over the same files (`rg -c SECRET_KEY`), the floor of reading them, and the ratio;
- on the largest tree, `--threads 1` against `--threads 2`;
- on the 100k tree, the pre-commit case: 5 named files, project context included.

It prints a table and writes it as JSON (target/bench/results.json).

    python3 bench/run.py                # all sizes
    python3 bench/run.py --sizes 100000 --runs 3
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "preflight")
OUT = os.path.join(ROOT, "target", "bench")


def run_once(cmd, cwd):
    """Wall seconds and peak RSS (MiB) of one run of `cmd`."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"{' '.join(cmd)} exited with {code}")
    return wall, usage.ru_maxrss / 1024


def measure(cmd, cwd, runs):
    run_once(cmd, cwd)  # warm-up: page cache, first-run effects
    samples = [run_once(cmd, cwd) for _ in range(runs)]
    return statistics.median(w for w, _ in samples), max(r for _, r in samples)


def tree_stats(tree):
    files = 0
    size = 0
    for dirpath, dirnames, filenames in os.walk(tree):
        if ".git" in dirnames:
            dirnames.remove(".git")
        for f in filenames:
            files += 1
            size += os.path.getsize(os.path.join(dirpath, f))
    return files, size


def ensure_tree(lines, seed):
    tree = os.path.join(OUT, f"tree-{lines}")
    stamp = os.path.join(tree, ".generated")
    want = f"{lines} {seed} {os.path.getmtime(os.path.join(ROOT, 'bench', 'generate.py'))}"
    if os.path.exists(stamp) and open(stamp).read() == want:
        return tree
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "generate.py"), "--lines", str(lines), "--out", tree, "--seed", str(seed)], check=True)
    # A git repository, as a pre-commit hook or CI checkout sees it.
    if shutil.which("git"):
        git = ["git", "-c", "user.email=bench@example.com", "-c", "user.name=bench", "-c", "init.defaultBranch=main"]
        subprocess.run(git + ["init", "-q"], cwd=tree, check=True)
        subprocess.run(git + ["add", "-A"], cwd=tree, check=True)
        subprocess.run(git + ["commit", "-qm", "generated"], cwd=tree, check=True)
    with open(stamp, "w") as f:
        f.write(want)
    return tree


def five_files(tree):
    """Five files a commit might stage: a model, a view, a serializer, a component, a hook."""
    picks = []
    backend = os.path.join(tree, "backend")
    app = sorted(d for d in os.listdir(backend) if os.path.exists(os.path.join(backend, d, "models.py")))[len(os.listdir(backend)) // 3]
    for f in ("models.py", "views.py", "serializers.py"):
        picks.append(f"backend/{app}/{f}")
    comps = sorted(os.listdir(os.path.join(tree, "frontend/src/components")))
    c = comps[len(comps) // 2]
    picks.append(f"frontend/src/components/{c}/{c}.tsx")
    hooks = sorted(os.listdir(os.path.join(tree, "frontend/src/hooks")))
    picks.append(f"frontend/src/hooks/{hooks[0]}")
    return picks


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if not shutil.which("rg"):
        sys.exit("rg (ripgrep) is needed for the baseline: apt-get install ripgrep, or cargo install ripgrep")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    os.makedirs(OUT, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    check = [BIN, "check", "--format", "json", "--quiet", "--no-cache", "."]
    rows = []
    for lines in sizes:
        tree = ensure_tree(lines, args.seed)
        files, size = tree_stats(tree)
        wall, rss = measure(check, tree, args.runs)
        rg_wall, _ = measure(["rg", "-c", "SECRET_KEY", "."], tree, args.runs)
        row = {
            "lines": lines,
            "files": files,
            "mb": round(size / 1e6, 2),
            "preflight_s": round(wall, 4),
            "rg_s": round(rg_wall, 4),
            "ratio_to_rg": round(wall / rg_wall, 1),
            "files_per_s": round(files / wall),
            "mb_per_s": round(size / 1e6 / wall, 1),
            "peak_rss_mb": round(rss, 1),
            "us_per_line": round(wall / lines * 1e6, 3),
        }
        if lines == max(sizes):
            t1, _ = measure(check + ["--threads", "1"], tree, args.runs)
            t2, _ = measure(check + ["--threads", "2"], tree, args.runs)
            row["threads1_s"] = round(t1, 4)
            row["threads2_s"] = round(t2, 4)
            row["threads2_over_threads1"] = round(t2 / t1, 2)
        if lines == 100000 or (100000 not in sizes and lines == sizes[0]):
            picks = five_files(tree)
            pc, pc_rss = measure([BIN, "check", "--format", "json", "--quiet"] + picks, tree, args.runs)
            row["precommit_5_files_s"] = round(pc, 4)
            row["precommit_files"] = picks
        rows.append(row)
        print(json.dumps(row), flush=True)

    per_line = {r["lines"]: r["us_per_line"] for r in rows}
    summary = {"rows": rows}
    if 100000 in per_line and 1000000 in per_line:
        summary["linearity_1m_over_100k"] = round(per_line[1000000] / per_line[100000], 2)
    summary["cpus"] = os.cpu_count()
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")

    print()
    print("| lines | files | MB | preflight | rg | ratio | files/s | MB/s | peak RSS |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['lines']:,} | {r['files']:,} | {r['mb']} | {r['preflight_s'] * 1000:.0f} ms | {r['rg_s'] * 1000:.0f} ms "
            f"| {r['ratio_to_rg']}× | {r['files_per_s']:,} | {r['mb_per_s']} | {r['peak_rss_mb']:.0f} MB |"
        )
    for r in rows:
        if "threads1_s" in r:
            print(f"\n{r['lines']:,} lines: --threads 1 {r['threads1_s'] * 1000:.0f} ms, --threads 2 {r['threads2_s'] * 1000:.0f} ms ({r['threads2_over_threads1']}×)")
        if "precommit_5_files_s" in r:
            print(f"{r['lines']:,} lines: 5 named files (pre-commit) {r['precommit_5_files_s'] * 1000:.0f} ms")
    if "linearity_1m_over_100k" in summary:
        print(f"time per line, 1M over 100k: {summary['linearity_1m_over_100k']}×")
    print(f"\nwritten: {os.path.relpath(os.path.join(OUT, 'results.json'), ROOT)}")


if __name__ == "__main__":
    main()
