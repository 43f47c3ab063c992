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

LIBDIR=${LIBDIR:-target/release}
PYTHON=${PYTHON:-python3}
OUT=${OUT:-target/cpython-traced}
TRACE_FORMAT=${TRACE_FORMAT:-text}

fail() {
    echo "cpython-traced: $*" >&2
    echo "cpython-traced: 0 passed, 1 failed"
    exit 1
}

[ -f tests/cpython-suites.sh ] || fail "run me from the repository root"
case "$TRACE_FORMAT" in text | json) ;; *) fail "TRACE_FORMAT must be text or json" ;; esac
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^LIBSOCK_' || true)
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
PYTHON=$("$PYTHON" -c 'import sys; print(sys.executable)') || fail "no $PYTHON"
LIBSOCK_TRACE="$TRACE" LIBSOCK_TRACE_FORMAT="$TRACE_FORMAT" LIBSOCK_STATS="$STATS" OUT="$OUT" \
    LIBDIR="$LIBDIR" PYTHON="$PYTHON" bash tests/cpython-suites.sh
suites_rc=$?
set -e
echo "cpython-traced: the suites ran in $(($(date +%s) - start))s"

failed=0
[ "$suites_rc" = 0 ] || {
    echo "cpython-traced: outcomes differ under LD_PRELOAD with LIBSOCK_TRACE (see above)"
    failed=$((failed + 1))
}
if [ ! -s "$TRACE" ]; then
    echo "cpython-traced: the trace $TRACE is empty or missing"
    failed=$((failed + 1))
else
    echo "cpython-traced: trace: $(wc -l <"$TRACE") lines, $(du -h "$TRACE" | cut -f1)"
    if "$PYTHON" c-tests/trace/tracecheck.py lines "$TRACE_FORMAT" "$TRACE" >"$OUT/lines.txt"; then
        sed -n 's/^tracecheck: /cpython-traced: /p' "$OUT/lines.txt"
    else
        cat "$OUT/lines.txt"
        failed=$((failed + 1))
    fi
    # complete: the calls libsock counted are the calls it traced
    if "$PYTHON" c-tests/trace/tracecheck.py stats-all "$TRACE_FORMAT" "$STATS" "$TRACE" \
        >"$OUT/stats-check.txt"; then
        sed -n 's/^tracecheck: /cpython-traced: /p' "$OUT/stats-check.txt"
    else
        head -n 40 "$OUT/stats-check.txt"
        failed=$((failed + 1))
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
        echo "cpython-traced: no trace line for: ${missing[*]}"
        failed=$((failed + 1))
    else
        echo "cpython-traced: the trace has lines for each of: ${REQUIRED[*]}"
    fi
fi
echo "cpython-traced: $((4 - failed)) passed, $failed failed"
[ "$failed" = 0 ]
