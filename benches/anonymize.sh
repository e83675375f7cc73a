#!/usr/bin/env bash
# `bptmig transform` with `[anonymize]` rules over the text columns (labels, inbox details,
# text inputs and outputs, every activity output) against the same transform without them,
# side by side in one run on the same generated work directory. Prints the median wall time
# of each and their ratio. Target: with rules <= 1.3x without.
#
# Usage: benches/anonymize.sh [PROCESSES]   (default 200000 top-level processes; e.g. 2000
# for a quick check). Each variant runs BENCH_RUNS times (default 3), taking turns; the
# median run of each is reported, wall time and CPU time (user + system: steadier on a busy
# machine). The generated work directory is kept in
# work/bench-anon-PROCESSES and reused. BENCH_THREADS sets `--threads` (default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200000}
runs=${BENCH_RUNS:-3}
root=$PWD
w=$root/work/bench-anon-$n
threads=()
[ -n "${BENCH_THREADS:-}" ] && threads=(--threads "$BENCH_THREADS")

cargo build --release --bins -q
cargo build --release -p bptmig-sandbox --bins -q

# A generated work directory is complete once its run.json exists (written last).
if [ ! -f "$w/run.json" ]; then
    rm -rf "$w"
    mkdir -p "$(dirname "$w")"
    echo "generating $w ($n top-level processes)..."
    ./target/release/bptmig-sandbox generate --out "$w" --processes "$n" --no-platform-shapes >/dev/null
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
common() {
    cat <<TOML
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
}
common >"$tmp/plain.toml"
{
    common
    cat <<'TOML'
[anonymize]
key = "${BPTMIG_BENCH_ANON_KEY}"
[[anonymize.rules]]
column = "OSSYS_BPM_PROCESS.LABEL"
method = "fake"
kind = "person"
[[anonymize.rules]]
column = "OSSYS_BPM_ACTIVITY.INBOX_DETAIL"
method = "keep-format"
[[anonymize.rules]]
column = "OSSYS_BPM_PROCESS_INPUT.INPUT_VALUE"
data_type = "rtText"
method = "hash"
[[anonymize.rules]]
column = "OSSYS_BPM_PROCESS_OUTPUT.OUTPUT_VALUE"
data_type = "rtText"
method = "fake"
kind = "text"
[[anonymize.rules]]
column = "OSSYS_BPM_ACTIVITY_OUTPUT.OUTPUT_VALUE"
method = "keep-format"
TOML
} >"$tmp/anon.toml"
export BPTMIG_BENCH_ANON_KEY=bench-anonymisation-key-0123456789

# Forget an earlier transform, so that it runs again.
reset_transform() {
    rm -rf "$w/transform" "$w/report.json"
    python3 - "$w/run.json" <<'PY'
import json, sys
p = sys.argv[1]
run = json.load(open(p))
run["stages"].pop("transform", None)
json.dump(run, open(p, "w"), indent=2)
PY
}

# Each variant starts with the extract in the page cache.
warm() {
    cat "$w"/extract/*/*.parquet "$w"/extract/snapshot/*/*.parquet >/dev/null
    sync
}

for i in $(seq 1 "$runs"); do
    for v in plain anon; do
        echo "transform $v ($i/$runs)..."
        reset_transform
        warm
        rc=0
        /usr/bin/time -v -o "$tmp/$v.$i.time" ./target/release/bptmig --quiet "${threads[@]}" \
            transform --pipeline "$tmp/$v.toml" >"$tmp/$v.log" 2>&1 || rc=$?
        # Exit code 1 means "finished, with findings to review" (skipped trees etc.).
        if [ "$rc" -gt 1 ]; then
            cat "$tmp/$v.log" "$tmp/$v.$i.time" >&2
            exit 1
        fi
        [ "$v" = anon ] && cp "$w/report.json" "$tmp/anon-report.json"
    done
done

echo
python3 - "$w" "$tmp" "$runs" <<'PY'
import glob, json, statistics, sys
w, tmp, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = sum(
    sum(p["rows"] for p in json.load(open(m))["parts"])
    for m in glob.glob(f"{w}/extract/*/manifest.json")
)
def parse(path):
    wall = rss = None
    cpu = 0.0
    for line in open(path):
        line = line.strip()
        if line.startswith(("User time", "System time")):
            cpu += float(line.rsplit(" ", 1)[1])
        elif line.startswith("Elapsed (wall clock)"):
            t = line.rsplit(" ", 1)[1].split(":")
            wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(t)))
        elif line.startswith("Maximum resident set size"):
            rss = int(line.rsplit(" ", 1)[1])
    return wall, rss, cpu
res = {}
for v in ("plain", "anon"):
    got = [parse(f"{tmp}/{v}.{i}.time") for i in range(1, runs + 1)]
    walls = sorted(x for x, _, _ in got)
    cpus = sorted(x for _, _, x in got)
    res[v] = (statistics.median(walls), max(r for _, r, _ in got), walls, statistics.median(cpus))
changed = sum(r["values_changed"] for r in json.load(open(f"{tmp}/anon-report.json"))["anonymized"])
print(f"input rows: {rows}; values anonymised: {changed}; {runs} run(s) each, median shown")
print(f"{'variant':<14} {'seconds':>9} {'CPU s':>9} {'peak RSS MiB':>13}   all runs (s)")
for v, (wall, rss, walls, cpu) in res.items():
    name = "without rules" if v == "plain" else "with rules"
    every = " ".join(f"{x:.2f}" for x in walls)
    print(f"{name:<14} {wall:>9.2f} {cpu:>9.2f} {rss / 1024:>13.1f}   {every}")
ratio = res["anon"][0] / max(res["plain"][0], 1e-9)
cpu_ratio = res["anon"][3] / max(res["plain"][3], 1e-9)
print(f"with/without: wall {ratio:.2f}x, CPU {cpu_ratio:.2f}x (target <= 1.3)")
PY
