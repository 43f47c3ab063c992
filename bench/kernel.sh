#!/usr/bin/env bash
# make bench, last table: what sockrun's kernel-enforced mode costs a call.
# A static program (c-tests/kernel/kernel.c bench) sends 1-byte datagrams to
# a UDP sink on loopback that never reads (so the kernel drops them once its
# buffer is full): with an address (sendto: supervised — one notification
# round trip, the copy, the check, the call made by sockrun) and on the
# connected socket (send: let through by the seccomp filter), four ways in
# one run:
#   native    the program alone
#   kernel    sockrun --kernel, no rules
#   deny      sockrun --kernel --deny=192.0.2.0/24 (checked, not matched)
#   strace    strace -f -e trace=sendto,sendmsg (the usual per-call tracer),
#             for scale
# Each mode runs KERNEL_ROUNDS times; a cell is the median, in ns per call.
# Environment: CC (default cc), KERNEL_ROUNDS (default 5), KERNEL_ITERS
# (calls per run, default 20000).
set -euo pipefail
. "$(dirname "$0")/../tests/lib/harness.sh"
harness kernel-bench
no_config
CC=${CC:-cc}
ROUNDS=${KERNEL_ROUNDS:-5}
ITERS=${KERNEL_ITERS:-20000}
sockrun=$PWD/target/release/sockrun
[ -x "$sockrun" ] || die "$sockrun missing: run make first"
scratch tmp kernel-bench
"$CC" -O2 -D_GNU_SOURCE -pthread -static -o "$tmp/kernel.static" c-tests/kernel/kernel.c
python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 0))
print(s.getsockname()[1], flush=True)
time.sleep(3600)" >"$tmp/port" &
background $!
wait_for "$tmp/port" '^[0-9]+$' 5 >/dev/null || die "no sink"
port=$(cat "$tmp/port")

declare -A runner=(
    [native]=""
    [kernel]="$sockrun --kernel --"
    [deny]="$sockrun --kernel --deny=192.0.2.0/24 --"
)
modes=(native kernel deny)
if command -v strace >/dev/null; then
    runner[strace]="strace -f -e trace=sendto,sendmsg -o /dev/null"
    modes+=(strace)
fi
for mode in "${modes[@]}"; do
    for round in $(seq "$ROUNDS"); do
        # shellcheck disable=SC2086
        ${runner[$mode]} "$tmp/kernel.static" bench "$ITERS" "$port" >>"$tmp/$mode.out" ||
            die "$mode: the bench failed"
    done
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
cell() { sed -n "s/^$2 //p" "$tmp/$1.out" | median; }

echo "$(machine), $ITERS calls per run, median of $ROUNDS runs"
printf '%-44s' "ns per call (static program, 1-byte UDP)"
for mode in "${modes[@]}"; do printf ' | %9s' "$mode"; done
echo
for row in sendto-addr send-connected; do
    case $row in
    sendto-addr) label="sendto with an address (supervised)" ;;
    send-connected) label="send on the connected socket (native)" ;;
    esac
    printf '%-44s' "$label"
    for mode in "${modes[@]}"; do printf ' | %9s' "$(cell "$mode" "$row")"; done
    echo
done
ok "kernel-bench: table above"
finish
