#!/usr/bin/env bash
# CPython's socket suites under LD_PRELOAD=libsock.so with tracing to a file
# switched on: every test must have the same outcome as in a run without
# libsock, and the trace must be non-empty with every line well-formed, and
# complete: LIBSOCK_STATS is on too, and each process's stats table (what
# libsock counted) must equal its lines in the trace (what it wrote), call
# for call, errors and bytes; the suite's calls must include the ones below.
#
#   tests/cpython-traced.sh          (from the repository root, after `make`)
#
# It is tests/cpython-suites.sh (same suites, exclusions, per-test
# comparison, preload checks) run with LIBSOCK_TRACE in the environment:
# that script's native run does not load libsock, so the variable only acts
# in its preloaded run (and in the one-process preload check before it),
# whose every process, subprocesses included, appends to the one file.
#
# Environment:
#   LIBDIR        where libsock.so is (default target/release)
#   PYTHON        the interpreter (default python3)
#   OUT           logs, JUnit XML and the trace (default target/cpython-traced)
#   TRACE_FORMAT  text (default) or json
# The last line reads `cpython-traced: N passed, M failed`.
set -euo pipefail
. "$(dirname "$0")/lib/harness.sh"
harness cpython-traced

LIBDIR=${LIBDIR:-target/release}
PYTHON=${PYTHON:-python3}
OUT=${OUT:-target/cpython-traced}
TRACE_FORMAT=${TRACE_FORMAT:-text}

case "$TRACE_FORMAT" in text | json) ;; *) die "TRACE_FORMAT must be text or json" ;; esac
no_config
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
TRACE="$OUT/trace.$TRACE_FORMAT"
STATS="$OUT/stats.txt"
rm -f "$TRACE" "$STATS"
# Calls CPython's socket tests make for certain (each a test's subject).
REQUIRED=(socket socketpair bind listen accept4 connect send sendto sendmsg recv recvfrom
    recvmsg setsockopt getsockopt getsockname getpeername shutdown close)

start=$(date +%s)
set +e
# The interpreter itself, not a wrapper (pyenv's shim is a bash script that
# would exec it under the same pid, mixing a shell's calls into its trace).
PYTHON=$("$PYTHON" -c 'import sys; print(sys.executable)') || die "no $PYTHON"
LIBSOCK_TRACE="$TRACE" LIBSOCK_TRACE_FORMAT="$TRACE_FORMAT" LIBSOCK_STATS="$STATS" OUT="$OUT" \
    LIBDIR="$LIBDIR" PYTHON="$PYTHON" bash tests/cpython-suites.sh
suites_rc=$?
set -e
echo "cpython-traced: the suites ran in $(($(date +%s) - start))s"

if [ "$suites_rc" = 0 ]; then
    ok "every test has the same outcome under LD_PRELOAD with LIBSOCK_TRACE as without libsock"
else
    bad "outcomes differ under LD_PRELOAD with LIBSOCK_TRACE (see above)"
fi
if [ ! -s "$TRACE" ]; then
    bad "the trace $TRACE is empty or missing"
    skip "the stats tables against the trace: there is no trace"
    skip "a trace line for each required call: there is no trace"
else
    echo "cpython-traced: trace: $(wc -l <"$TRACE") lines, $(du -h "$TRACE" | cut -f1)"
    if "$PYTHON" c-tests/trace/tracecheck.py lines "$TRACE_FORMAT" "$TRACE" >"$OUT/lines.txt"; then
        sed -n 's/^tracecheck: /cpython-traced: /p' "$OUT/lines.txt"
        ok "every trace line well-formed"
    else
        bad "trace lines malformed" "$(cat "$OUT/lines.txt")"
    fi
    # complete: the calls libsock counted are the calls it traced
    if "$PYTHON" c-tests/trace/tracecheck.py stats-all "$TRACE_FORMAT" "$STATS" "$TRACE" \
        >"$OUT/stats-check.txt"; then
        sed -n 's/^tracecheck: /cpython-traced: /p' "$OUT/stats-check.txt"
        ok "each process's stats table equals its lines in the trace"
    else
        bad "stats tables differ from the trace" "$(head -n 40 "$OUT/stats-check.txt")"
    fi
    missing=()
    for call in "${REQUIRED[@]}"; do
        if [ "$TRACE_FORMAT" = json ]; then
            grep -qF "\"call\":\"$call\"" "$TRACE" || missing+=("$call")
        else
            grep -qE "^\[[0-9/]+\] $call\(" "$TRACE" || missing+=("$call")
        fi
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        bad "no trace line for: ${missing[*]}"
    else
        ok "the trace has lines for each of: ${REQUIRED[*]}"
    fi
fi
finish
