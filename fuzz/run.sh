#!/usr/bin/env bash
# Fuzz libsock's own logic: build every target, replay every regression
# input, then fuzz each target for SECONDS (libFuzzer's -max_total_time).
#
#   fuzz/run.sh SECONDS [TARGET...]      (default: every target)
#
# `make test` runs a few seconds per target, `make fuzz` a long run. Needs
# cargo-fuzz (`cargo install cargo-fuzz --locked`); the toolchain is stable
# Rust, whose nightly-only flags (-Zsanitizer=address, ...) RUSTC_BOOTSTRAP=1
# unlocks. libFuzzer itself is built from source by libfuzzer-sys with the
# system's C++ compiler (g++ is enough).
#
# Inputs:   corpus/<target>/       committed seeds (read, never written)
#           regressions/<target>/  inputs that once crashed: replayed first
# Outputs:  target/corpus/<target>/   what the fuzzer learnt (kept between runs)
#           artifacts/<target>/       crash-*, timeout-*, oom-* inputs found
#           target/fuzz-logs/<target>.log
# Ends with "fuzz: N passed, M failed" (one per target) and fails if M > 0.
set -euo pipefail
. "$(dirname "$0")/../tests/lib/harness.sh"
harness fuzz

usage() { echo "usage: $0 SECONDS [TARGET...]" >&2; exit 2; }
[ $# -ge 1 ] || usage
secs=$1
shift
[[ "$secs" =~ ^[0-9]+$ ]] || usage

here=$PWD/fuzz
cd "$here"

all=(addr config trace sockset rules rules_bpf dest)
targets=("${@:-${all[@]}}")
for t in "${targets[@]}"; do
    [ -f "fuzz_targets/$t.rs" ] || die "no target '$t' (have: ${all[*]})"
done

cargo fuzz --version >/dev/null 2>&1 ||
    die "cargo-fuzz is not installed: cargo install cargo-fuzz --locked"

# Per target: the longest input worth trying (addr must pass MAX_LEN, 128).
max_len() {
    case $1 in
        addr) echo 256 ;;
        config) echo 1024 ;;
        rules | rules_bpf) echo 4096 ;;
        dest) echo 512 ;;
        *) echo 2048 ;;
    esac
}

triple=$(rustc -vV | sed -n 's/^host: //p')
bin_dir="$here/target/$triple/release"
echo "fuzz: building ${targets[*]} (cargo fuzz build, ASan, debug assertions)"
mkdir -p target/fuzz-logs
RUSTC_BOOTSTRAP=1 cargo fuzz build --fuzz-dir "$here" >target/fuzz-logs/build.log 2>&1 || {
    cat target/fuzz-logs/build.log >&2
    die "build failed"
}

# fail TARGET WHAT LOG: a failed target, with what its log says.
fail() {
    local t=$1 what=$2 log=$3
    bad "$t: $what" "log: fuzz/${log#"$here"/}"
    # The panic message or sanitizer report, and the input.
    grep -E -A2 "panicked at" "$log" | grep -v "stack backtrace" | head -6 || true
    grep -E -A8 "ERROR: (AddressSanitizer|LeakSanitizer)" "$log" | head -12 || true
    grep -E "^SUMMARY|Test unit written to|^Running: " "$log" | tail -3 || true
}

for t in "${targets[@]}"; do
    bin="$bin_dir/$t"
    log="$here/target/fuzz-logs/$t.log"
    : >"$log"

    # 1. Regressions: each input that once crashed, run once.
    shopt -s nullglob
    regs=(regressions/"$t"/*)
    shopt -u nullglob
    if [ ${#regs[@]} -gt 0 ]; then
        if ! "$bin" -runs=1 "${regs[@]}" >>"$log" 2>&1; then
            fail "$t" "a regression input crashes again: reproduce with fuzz/target/$triple/release/$t FILE" "$log"
            continue
        fi
    fi

    # 2. Fuzz from the seeds plus what earlier runs learnt.
    mkdir -p "target/corpus/$t" "artifacts/$t"
    opts=(
        -max_total_time="$secs"
        -max_len="$(max_len "$t")"
        -timeout=10
        -rss_limit_mb=2048
        -print_final_stats=1
        -artifact_prefix="$here/artifacts/$t/"
    )
    [ -f "dicts/$t.dict" ] && opts+=(-dict="dicts/$t.dict")
    start=$SECONDS
    if "$bin" "${opts[@]}" "target/corpus/$t" "corpus/$t" >>"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        units=$(ls "target/corpus/$t" | wc -l)
        ok "$t: ${runs:-?} runs in $((SECONDS - start)) s, ${#regs[@]} regressions replayed, $units learnt inputs"
    else
        fail "$t" "crash found; minimise with: fuzz/target/$triple/release/$t -minimize_crash=1 -runs=100000 FILE" "$log"
    fi
done

finish
