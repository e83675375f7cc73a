# Sourced by scripts/demo.sh and scripts/scale.sh: a sandbox (`bptmig-sandbox up`) in the
# background, waited for and stopped. Expects `bin`, the directory of the built binaries.

sandbox_pid=""

# sandbox_start LOG SECONDS ARGS...: starts `bptmig-sandbox up ARGS...` with its output in LOG
# and waits up to SECONDS for its `ready` line; exits 2, printing the log, if it ends or does
# not get ready in time.
sandbox_start() {
    local log=$1 seconds=$2
    shift 2
    "$bin/bptmig-sandbox" up "$@" >"$log" 2>&1 &
    sandbox_pid=$!
    local _
    for _ in $(seq $((seconds * 5))); do
        grep -q ready "$log" && break
        kill -0 "$sandbox_pid" 2>/dev/null || { cat "$log" >&2; exit 2; }
        sleep 0.2
    done
    grep -q ready "$log" || { echo "the sandbox did not get ready in $seconds s" >&2; cat "$log" >&2; exit 2; }
    # The connection strings and the row counts it printed.
    sed -n '/^ /,/^$/p' "$log"
}

# sandbox_stop: stops the sandbox sandbox_start started, if any (for an EXIT trap).
sandbox_stop() {
    if [ -n "$sandbox_pid" ]; then
        kill "$sandbox_pid" 2>/dev/null || true
        wait "$sandbox_pid" 2>/dev/null || true
        sandbox_pid=""
    fi
}
