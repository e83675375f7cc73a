#!/usr/bin/env bash
# `bptmig transform` against DuckDB doing the same rewrite as SQL joins over the same Parquet
# files, side by side in one run: both outputs must be identical (order-independent digest per
# table); prints wall time, rows/s and peak RSS of each. Target: bptmig >= 2x DuckDB's rows/s
# at no more than DuckDB's peak RSS.
#
# Usage: benches/transform_duckdb.sh [PROCESSES]   (default 1300000 top-level processes,
# about 11 M activity rows; e.g. 2000 for a quick check). Each tool runs BENCH_RUNS times
# (default 3), taking turns; the median run of each is reported. The generated work directory is kept
# in work/bench-PROCESSES and reused; DuckDB lives in benches/.venv (created when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1300000}
runs=${BENCH_RUNS:-3}
root=$PWD
w=$root/work/bench-$n
venv=$root/benches/.venv

cargo build --release --workspace --bins -q
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import duckdb' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q duckdb
fi
py=$venv/bin/python

# A generated work directory is complete once its run.json exists (written last).
if [ ! -f "$w/run.json" ]; then
    rm -rf "$w"
    mkdir -p "$(dirname "$w")"
    echo "generating $w ($n top-level processes)..."
    ./target/release/bptmig-sandbox generate --out "$w" --processes "$n" >/dev/null
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/duckdb-out
cat >"$tmp/p.toml" <<TOML
workdir = "$w"
[source]
connection = "server=generated-prod"
[target]
connection = "server=generated-qa"
[mapping]
unmapped_user = "null"
unmapped_group = "null"
unmapped_definition = "skip-tree"
unmoved_reference = "null"
[selection]
broken_tree = "skip"
TOML

# Forget an earlier transform, so that it runs again.
reset_transform() {
    rm -rf "$w/transform" "$w/report.json"
    "$py" - "$w/run.json" <<'PY'
import json, sys
p = sys.argv[1]
run = json.load(open(p))
run["stages"].pop("transform", None)
json.dump(run, open(p, "w"), indent=2)
PY
}

# Each tool starts with the extract in the page cache: otherwise the first one pays for
# reading what the machine has evicted meanwhile (several tenths of a second here).
warm() {
    cat "$w"/extract/*/*.parquet "$w"/extract/snapshot/*/*.parquet >/dev/null
    sync
}

# The tools take turns, $runs times each; the report takes each one's median run.
for i in $(seq 1 "$runs"); do
    # bptmig: exit code 1 means "finished, with findings to review" (skipped trees etc.).
    echo "bptmig transform ($i/$runs)..."
    reset_transform
    warm
    rc=0
    /usr/bin/time -v -o "$tmp/bptmig.$i.time" ./target/release/bptmig --quiet transform \
        --pipeline "$tmp/p.toml" >"$tmp/bptmig.log" 2>&1 || rc=$?
    if [ "$rc" -gt 1 ]; then
        cat "$tmp/bptmig.log" "$tmp/bptmig.$i.time" >&2
        exit 1
    fi

    echo "duckdb transform ($i/$runs)..."
    rm -rf "$out"
    warm
    if ! /usr/bin/time -v -o "$tmp/duckdb.$i.time" "$py" benches/transform_duckdb.py transform \
        "$w" "$out" >"$tmp/duckdb.log" 2>&1; then
        cat "$tmp/duckdb.log" "$tmp/duckdb.$i.time" >&2
        exit 1
    fi
done

echo
same=0
"$py" benches/transform_duckdb.py digest "$w" "$out" || same=$?

echo
"$py" - "$w" "$tmp" "$runs" <<'PY'
import glob, json, statistics, sys
w, tmp, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
# Input rows: every extracted table (5 instance tables + OSEVT_*).
rows = sum(
    json.load(open(m))["parts"] and sum(p["rows"] for p in json.load(open(m))["parts"])
    for m in glob.glob(f"{w}/extract/*/manifest.json")
)
def parse(path):
    wall = rss = None
    for line in open(path):
        line = line.strip()
        if line.startswith("Elapsed (wall clock)"):
            t = line.rsplit(" ", 1)[1].split(":")
            wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(t)))
        elif line.startswith("Maximum resident set size"):
            rss = int(line.rsplit(" ", 1)[1])
    return wall, rss
res = {}
for tool in ("bptmig", "duckdb"):
    got = [parse(f"{tmp}/{tool}.{i}.time") for i in range(1, runs + 1)]
    walls = sorted(w for w, _ in got)
    # Median wall time; the highest peak RSS of all runs.
    res[tool] = (statistics.median(walls), max(r for _, r in got), walls)
print(f"input rows: {rows}; {runs} run(s) of each tool, median shown")
print(f"{'tool':<8} {'seconds':>9} {'rows/s':>14} {'peak RSS MiB':>13}   all runs (s)")
for tool, (wall, rss, walls) in res.items():
    every = " ".join(f"{x:.2f}" for x in walls)
    print(f"{tool:<8} {wall:>9.2f} {rows / max(wall, 1e-9):>14,.0f} {rss / 1024:>13.1f}   {every}")
(bw, br, _), (dw, dr, _) = res["bptmig"], res["duckdb"]
speed = dw / max(bw, 1e-9)
mem = br / dr
print(f"bptmig/duckdb: throughput {speed:.2f}x (target >= 2), "
      f"peak RSS {mem:.2f}x (target <= 1)")
PY
if [ "$same" -ne 0 ]; then
    echo "outputs differ" >&2
    exit 1
fi
