#!/usr/bin/env bash
# CPython's own socket suites, natively and under LD_PRELOAD=libsock.so:
# the two runs must give every test the same outcome.
#
#   tests/cpython-suites.sh          (from the repository root, after `make`)
#
# Environment:
#   LIBDIR   where libsock.so is (default target/release)
#   PYTHON   the interpreter (default python3; it needs CPython's `test` package)
#   OUT      where logs and JUnit XML go (default target/cpython-suites)
#   CPYTHON_SUITES  the suites (default: test_socket test_select test_selectors
#            test_socketserver; make distro-test runs the first three)
#
# Each run is `python -m test -v -u network,cpu --timeout 300 --junit-xml …`
# over the suites below, sequentially (about 50 s a run on 2 cores; -j would
# save little and spread the suites over worker processes). Outcomes are
# compared per test from the JUnit XML that regrtest writes (robust where the
# -v output interleaves with what the tests print):
# ok / skipped (with its reason, variable text normalised) / failure / error /
# expected failure / unexpected success. The native run must itself pass.
# The last line reads `cpython-suites: N passed, M failed, K skipped`, N+K
# being the tests with identical outcomes and M those that differ.
set -euo pipefail
. "$(dirname "$0")/lib/harness.sh"
harness cpython-suites

PYTHON=${PYTHON:-python3}
OUT=${OUT:-target/cpython-suites}

read -ra SUITES <<<"${CPYTHON_SUITES:-test_socket test_select test_selectors test_socketserver}"
RESOURCES=network,cpu
# Exclusions, each one needed, none for convenience:
#  *VSOCK*  this machine is a VM with /dev/vsock and a local CID, so test_socket
#           does not skip its AF_VSOCK tests, but nothing answers a connect to
#           our own CID: ThreadedVSOCKSocketStreamTest.testStream blocks until
#           regrtest's --timeout kills the whole run.
EXCLUDE=(-i '*VSOCK*')
PER_FILE_TIMEOUT=300 # regrtest --timeout: one test file may take this long
RUN_TIMEOUT=1200     # outer bound for one whole run

find_libsock
LIB=$(realpath "$lib") # as /proc/PID/maps and dladdr name it (LIBDIR may hold a link)
need "$PYTHON" timeout pgrep realpath
"$PYTHON" -c "import test.libregrtest$(printf ', test.%s' "${SUITES[@]}")" 2>/dev/null ||
    die "$PYTHON ($(command -v "$PYTHON")) lacks CPython's test package (Debian: apt-get install libpython3-testsuite; pyenv builds include it)"
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
echo "cpython-suites: $("$PYTHON" -c 'import sys, platform; print(platform.python_implementation(), platform.python_version(), sys.executable)')"
echo "cpython-suites: libsock under test: $LIB"

# 1. The preload takes: a process started with the same LD_PRELOAD maps
#    libsock.so, and the global lookup of `socket` (what CPython's socket
#    module calls) lands in it rather than in glibc.
LD_PRELOAD="$LIB" "$PYTHON" - "$LIB" <<'EOF' || die "LD_PRELOAD=$LIB does not interpose on $PYTHON"
import ctypes, os, sys
lib = sys.argv[1]
maps = open("/proc/self/maps").read()
assert lib in maps, f"{lib} not in /proc/self/maps"
class DlInfo(ctypes.Structure):
    _fields_ = [("fname", ctypes.c_char_p), ("fbase", ctypes.c_void_p),
                ("sname", ctypes.c_char_p), ("saddr", ctypes.c_void_p)]
info = DlInfo()
libc = ctypes.CDLL(None)
for name in ("socket", "connect", "recv", "close"):
    address = ctypes.cast(getattr(libc, name), ctypes.c_void_p).value
    assert libc.dladdr(ctypes.c_void_p(address), ctypes.byref(info)), name
    where = os.path.realpath(os.fsdecode(info.fname))
    assert where == lib, f"{name} resolves to {where}, not {lib}"
print("cpython-suites: preload check: libsock.so mapped; socket/connect/recv/close resolve to it")
EOF

# run LABEL [VAR=VALUE…]: one run of the suites; sets RUN_RC and RUN_SECS.
run() {
    local label=$1
    shift
    local start end pid child seen=0
    rm -f "$OUT/$label.xml" "$OUT/$label.log"
    start=$(date +%s.%N)
    set +e
    timeout --kill-after=30 "$RUN_TIMEOUT" env "$@" "$PYTHON" -m test -v -u "$RESOURCES" \
        --timeout "$PER_FILE_TIMEOUT" --junit-xml "$OUT/$label.xml" "${EXCLUDE[@]}" "${SUITES[@]}" \
        >"$OUT/$label.log" 2>&1 &
    pid=$!
    if [ "$label" = preloaded ]; then
        # 2. The suite's own process has libsock.so mapped, seen while it runs.
        for _ in $(seq 150); do
            child=$(pgrep -P "$pid" | head -n1 || true)
            if [ -n "$child" ] && grep -qF "$LIB" "/proc/$child/maps" 2>/dev/null; then
                seen=1
                break
            fi
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
    fi
    wait "$pid"
    RUN_RC=$?
    set -e
    end=$(date +%s.%N)
    RUN_SECS=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    echo "cpython-suites: $label run: exit $RUN_RC in ${RUN_SECS}s (log: $OUT/$label.log)"
    if [ "$label" = preloaded ] && [ "$seen" != 1 ]; then
        die "could not see $LIB in /proc/<pid>/maps of the preloaded suite process"
    fi
    if [ "$label" = preloaded ]; then
        echo "cpython-suites: preload check: $LIB mapped in the running suite (pid $child)"
    fi
}

# regrtest's own summary: "Total tests: run=866 (filtered) skipped=147 Result: SUCCESS".
verdict() {
    grep -E '^(Total tests|Result):' "$1" | tr '\n' ' ' || true
}

run native
NATIVE_RC=$RUN_RC
NATIVE_SECS=$RUN_SECS
if [ "$NATIVE_RC" != 0 ] || [ ! -s "$OUT/native.xml" ]; then
    echo "--- native run: last lines of $OUT/native.log" >&2
    tail -n 60 "$OUT/native.log" >&2
    die "the native run itself failed (exit $NATIVE_RC): nothing to compare against; fix the environment first"
fi

run preloaded LD_PRELOAD="$LIB"
PRELOAD_RC=$RUN_RC
PRELOAD_SECS=$RUN_SECS
if [ ! -s "$OUT/preloaded.xml" ]; then
    echo "--- preloaded run: last lines of $OUT/preloaded.log" >&2
    tail -n 60 "$OUT/preloaded.log" >&2
    die "the preloaded run wrote no JUnit XML (exit $PRELOAD_RC): it crashed, hung or timed out"
fi

echo "cpython-suites: native ${NATIVE_SECS}s, preloaded ${PRELOAD_SECS}s"
echo "cpython-suites: native:    $(verdict "$OUT/native.log")"
echo "cpython-suites: preloaded: $(verdict "$OUT/preloaded.log")"

# 3. Per-test comparison.
set +e
"$PYTHON" - "$OUT/native.xml" "$OUT/preloaded.xml" "$NATIVE_RC" "$PRELOAD_RC" <<'EOF'
import collections, difflib, re, sys
import xml.etree.ElementTree as ET

def normalise(text):
    """Skip reasons can carry text that varies from run to run."""
    text = re.sub(r"0x[0-9a-fA-F]+", "0x?", text)
    text = re.sub(r"/tmp/[^\s'\")]+", "/tmp/?", text)
    text = re.sub(r"\b(pid|port) \d+", r"\1 ?", text)
    return " ".join(text.split())

def outcomes(path):
    """({"test id ... outcome": count}, {test id: failure text})."""
    result, details = collections.Counter(), {}
    for case in ET.parse(path).getroot().iter("testcase"):
        # regrtest leaves a test whose subtests failed without a name; the
        # file's verdict (regrtest's exit status) still says failed.
        name = case.get("name") or "<unnamed: a test with failing subtests>"
        kinds = {child.tag: child for child in case}
        if "error" in kinds or "failure" in kinds:
            child = kinds["error"] if "error" in kinds else kinds["failure"]
            outcome = "ERROR" if child.tag == "error" else "FAIL"
            details[name] = child.text or child.get("message") or ""
        elif "skipped" in kinds:
            outcome = "skipped: " + normalise(kinds["skipped"].text or "")
        elif "output" in kinds:
            outcome = "expected failure"
        elif "outcome" in kinds:
            outcome = "unexpected success"
        else:
            outcome = "ok"  # a skip with an empty reason lands here too
        result[f"{name} ... {outcome}"] += 1
    return result, details

(native, native_details), (preloaded, preloaded_details) = map(outcomes, sys.argv[1:3])
native_rc, preload_rc = sys.argv[3:5]
same = native & preloaded
differing = (native - preloaded) + (preloaded - native)
differing_names = sorted({line.split(" ... ")[0] for line in differing.elements()})
failed = len(differing_names)
bad_native = sorted(l for l in native.elements() if l.endswith(("... ERROR", "... FAIL")))
if bad_native:
    print("cpython-suites: the native run has failures:", *bad_native, sep="\n  ")
    failed += len(bad_native)
if differing:
    print("cpython-suites: outcomes differ under LD_PRELOAD (- native, + preloaded):")
    for line in difflib.unified_diff(sorted(native.elements()), sorted(preloaded.elements()),
                                     "native", "preloaded", n=0, lineterm=""):
        if not line.startswith("@@"):
            print(line)
    for name in differing_names:
        for label, details in (("native", native_details), ("preloaded", preloaded_details)):
            if name in details:
                print(f"--- {name} ({label}):", *details[name].strip().splitlines()[-15:],
                      sep="\n    ")
if native_rc != preload_rc and not failed:
    print(f"cpython-suites: regrtest's exit status differs (native {native_rc}, preloaded"
          f" {preload_rc}) though every recorded outcome matches: see the logs")
    failed = 1
skipped = sum(n for line, n in same.items() if " ... skipped: " in line)
passed = sum(same.values()) - skipped
print(f"cpython-suites: {sum(same.values())} identical per-test outcomes "
      f"({passed} ran, {skipped} skipped in both); {failed} differing or failing")
print(f"cpython-suites: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
EOF
COMPARE_RC=$?
set -e
exit "$COMPARE_RC"
