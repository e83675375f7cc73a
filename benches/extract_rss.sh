#!/usr/bin/env bash
# Peak RSS of `bptmig extract` at two sizes of sandbox history, side by side in one run:
# memory must not grow with the number of rows. Usage: benches/extract_rss.sh [SMALL LARGE]
set -euo pipefail
cd "$(dirname "$0")/.."
small=${1:-250}
large=${2:-1000}
export BPTMIG_DEMO_PASSWORD=${BPTMIG_DEMO_PASSWORD:-Sandbox-Only-1}
cargo build --release --workspace --bins -q
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

printf '%-10s %12s %14s %10s\n' roots "rows moved" "peak RSS KiB" seconds
for n in "$small" "$large"; do
    ./target/release/bptmig-sandbox up --processes "$n" --prod-port 14351 --qa-port 14352 >"$tmp/up.log" 2>&1 &
    up=$!
    for _ in $(seq 600); do grep -q ready "$tmp/up.log" 2>/dev/null && break; sleep 0.2; done
    cat >"$tmp/p.toml" <<TOML
workdir = "work-$n"
[source]
connection = "server=tcp:127.0.0.1,14351;user=sa;password=\${BPTMIG_DEMO_PASSWORD};encrypt=DANGER_PLAINTEXT;TrustServerCertificate=true"
[target]
connection = "server=tcp:127.0.0.1,14352;user=sa;password=\${BPTMIG_DEMO_PASSWORD};encrypt=DANGER_PLAINTEXT;TrustServerCertificate=true"
[extract]
part_rows = 2000
row_group_rows = 500
TOML
    start=$(date +%s.%N)
    if ! /usr/bin/time -v ./target/release/bptmig --quiet extract --pipeline "$tmp/p.toml" 2>"$tmp/time.log"; then cat "$tmp/time.log" "$tmp/up.log" >&2; exit 1; fi
    end=$(date +%s.%N)
    rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$tmp/time.log")
    rows=$(cat "$tmp"/work-"$n"/extract/*/manifest.json | grep -o '"rows": [0-9]*' | awk '{s+=$2} END {print s}')
    printf '%-10s %12s %14s %10.1f\n' "$n" "$rows" "$rss" "$(echo "$end - $start" | bc)"
    kill "$up"; wait "$up" 2>/dev/null || true
done
