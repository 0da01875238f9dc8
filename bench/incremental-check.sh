#!/usr/bin/env bash
# The run cache's reuse file by file, checked on a real repository: in a copy of REPO, N files
# (Python, templates, TS/TSX; a fixed pseudo-random choice) are each edited twice (a comment
# appended; three lines deleted from the middle), and after each edit the cached run's SARIF
# must equal a fresh (--no-cache) run's, byte for byte.
#
#   bench/incremental-check.sh ../corpus/makeplane+plane [N]
set -u
bin=$(cd "$(dirname "$0")/.." && pwd)/target/release/preflight
src=$(cd "$1" && pwd); count=${2:-12}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cp -r "$src" "$work/repo"; cd "$work/repo" || exit 2
export PREFLIGHT_CACHE_DIR="$work/cache"
run() { PREFLIGHT_TIMINGS=1 "$bin" check . --format sarif 2>"$work/err"; }
fresh() { "$bin" check . --format sarif --no-cache 2>/dev/null; }
run >/dev/null
n=0; bad=0; kept=0
for f in $(git ls-files '*.py' '*.html' '*.ts' '*.tsx' | shuf -n "$count" --random-source=<(yes)); do
  for edit in comment delete; do
    cp "$f" "$work/orig"
    if [ $edit = comment ]; then
      echo "# edited" >> "$f"
    else
      python3 - "$f" <<'P'
import sys; p = sys.argv[1]; lines = open(p, encoding="utf-8", errors="replace").read().split("\n")
k = len(lines) // 2; del lines[k:k + 3]; open(p, "w").write("\n".join(lines))
P
    fi
    a=$(run); b=$(fresh); n=$((n + 1))
    grep -q "the last run stands" "$work/err" && kept=$((kept + 1))
    if [ "$a" != "$b" ]; then bad=$((bad + 1)); echo "DIFFERS after $edit of $f"; fi
    cp "$work/orig" "$f"
  done
done
echo "$src: $n edits ($kept kept what still held of the last run), $bad differ from a fresh run"
[ "$bad" = 0 ]
