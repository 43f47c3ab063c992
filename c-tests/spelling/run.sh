#!/usr/bin/env bash
# Access rules against every spelling of a denied peer: `make spelling-test`.
#
# A receiver run natively (spelling.c receive) logs every datagram and
# connection that reaches 127.0.0.1, [::1] and 127.0.0.3, and counts the
# SYNs its listeners saw. The sender (spelling.c send) writes 127.0.0.1 and
# ::1 every way the kernel accepts (AF_UNSPEC, 0.0.0.0, ::, v4-mapped,
# AF_INET on a dual-stack socket, IP_PKTINFO's source, MSG_FASTOPEN, ...):
#
#   without rules  natively, preloaded and linked: every spelling arrives,
#                  and stdout and stderr are identical in the three modes
#   with rules     (a deny list naming the peers; an allow list not naming
#                  them) preloaded and linked: every spelling is -1 EPERM,
#                  nothing arrives, no SYN reached a listener; the one
#                  allowed peer still arrives
#   control        natively with the same rules in the environment, the
#                  spellings arrive (so these checks can fail)
#   bad input      under rules, bad pointers and lengths on every judged
#                  path get glibc's answers (EFAULT, EINVAL, ...), and the
#                  same datagrams arrive as natively
#   race           threads send through one sockaddr that another thread
#                  flips between 127.0.0.3 (allowed) and 127.0.0.1 (denied):
#                  preloaded and linked, not one datagram at 127.0.0.1;
#                  natively (control), some
#   swap           a UDP and a TCP socket dup2()ed in turn onto the number
#                  another thread sends to the denied peer on: nothing
#                  arrives preloaded or linked; natively (control), some
#
# Run from the repository root after `make`. Environment: LIBDIR (default
# target/release), CC (default cc), SPELLING_BUILD (default
# target/spelling), RACE_SECONDS (default 2).
# Last line: "spelling: N passed, M failed"; exit status 0 only if none failed.
set -uo pipefail
. "$(dirname "$0")/../../tests/lib/harness.sh"
harness spelling
no_config
find_libsock
CC=${CC:-cc}
RACE_SECONDS=${RACE_SECONDS:-2}
[ -e "$libdir/libsock.so.0" ] || ln -sf libsock.so "$libdir/libsock.so.0"
build_dir BUILD "${SPELLING_BUILD:-target/spelling}"
scratch TMP spelling

CFLAGS=(-O2 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread)
"$CC" "${CFLAGS[@]}" -c -o "$BUILD/spelling.o" c-tests/spelling/spelling.c || die "cannot build spelling.c"
"$CC" -pthread -o "$BUILD/spelling.native" "$BUILD/spelling.o" || die "cannot link spelling.c"
"$CC" -pthread -o "$BUILD/spelling.linked" "$BUILD/spelling.o" -L"$libdir" -lsock -Wl,-rpath,"$libdir" ||
    die "cannot link spelling.c against libsock"
ldd "$BUILD/spelling.linked" | grep -q libsock || die "the linked binary has no libsock"

. "$(dirname "$0")/verdicts.sh"

# sender MODE SUBCOMMAND DIR [ARGS] [-- VAR=VALUE...]: spelling.c run in
# MODE (native, preload, linked) with the variables.
sender() {
    local mode=$1 args=() vars=()
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
    [ $# -eq 0 ] || { shift; vars=("$@"); }
    case $mode in
    native) env "${vars[@]}" "$BUILD/spelling.native" "${args[@]}" ;;
    preload) env "${vars[@]}" LD_PRELOAD="$lib" "$BUILD/spelling.native" "${args[@]}" ;;
    linked) env "${vars[@]}" "$BUILD/spelling.linked" "${args[@]}" ;;
    esac
}

# session NAME MODE SUBCOMMAND [ARGS] [-- VAR=VALUE...]: the sender in MODE
# beside a fresh receiver; leaves NAME.out, NAME.err and NAME.log (the
# receiver's).
session() {
    local name=$1 mode=$2 sub=$3
    shift 3
    with_receiver "$name" sender "$mode" "$sub" "$TMP/$name" "$@"
}

# Without rules: every spelling arrives, in every mode, and the three
# modes print the same.
for mode in native preload linked; do
    session plain-$mode $mode send
    all_arrive plain-$mode "$mode"
done
for mode in preload linked; do
    if cmp -s "$TMP/plain-native.out" "$TMP/plain-$mode.out" && cmp -s "$TMP/plain-native.err" "$TMP/plain-$mode.err"; then
        ok "$mode, no rules: stdout and stderr identical to native"
    else
        bad "$mode, no rules: differs from native" "$(diff "$TMP/plain-native.out" "$TMP/plain-$mode.out")" \
            "$(diff "$TMP/plain-native.err" "$TMP/plain-$mode.err")"
    fi
done

# With rules naming the peer (or an allow list that does not): every
# spelling but the allowed peer's is EPERM; nothing denied arrives, no SYN.
RULES=("LIBSOCK_DENY=127.0.0.1,::1" "LIBSOCK_ALLOW=127.0.0.3")
for rules in "${RULES[@]}"; do
    for mode in preload linked; do
        name=rules-$mode-${rules%%=*}
        session "$name" $mode send -- "$rules"
        all_refused "$name" "$mode, $rules"
    done
    # Control: a program without libsock ignores the variables.
    name=control-${rules%%=*}
    session "$name" native send -- "$rules"
    if [ "$(arrived "$name" | wc -l)" -ge 20 ]; then
        ok "control, natively with $rules: the spellings arrive (the checks above can fail)"
    else
        bad "control: natively with $rules, the spellings did not arrive" "$(cat "$TMP/$name.log")"
    fi
done

# Bad input under rules: what glibc gives, and nothing sent but what
# glibc sends.
session bad-native native bad
for mode in preload linked; do
    session bad-$mode $mode bad -- LIBSOCK_DENY=127.0.0.1,::1
    if cmp -s "$TMP/bad-native.out" "$TMP/bad-$mode.out" && cmp -s "$TMP/bad-native.err" "$TMP/bad-$mode.err" &&
        diff <(arrived bad-native) <(arrived bad-$mode) >/dev/null && grep -q EFAULT "$TMP/bad-$mode.out"; then
        ok "$mode, rules set: $(wc -l <"$TMP/bad-$mode.out") bad pointers and lengths answered as natively, the same datagrams sent"
    else
        bad "$mode, rules set: bad input answered unlike glibc" "$(diff "$TMP/bad-native.out" "$TMP/bad-$mode.out")" \
            "$(diff <(arrived bad-native) <(arrived bad-$mode))" "$(head -3 "$TMP/bad-$mode.err")"
    fi
done

# The race: one sockaddr flipped between an allowed and a denied peer.
for mode in preload linked; do
    session race-$mode $mode race "$RACE_SECONDS" -- LIBSOCK_DENY=127.0.0.1
    no_race_leak race-$mode "$mode race, ${RACE_SECONDS}s"
done
# The descriptor swapped under the call: judged as a TCP socket, sent on a
# UDP one.
for mode in preload linked; do
    session swap-$mode $mode swap 1 -- LIBSOCK_DENY=127.0.0.1
    leaked=$(sed -n 's/^race udp //p' "$TMP/swap-$mode.log")
    if grep -q '^swap sent=[0-9]* refused=[1-9]' "$TMP/swap-$mode.out" && [ "$leaked" = 0 ]; then
        ok "$mode, a UDP and a TCP socket dup2()ed in turn onto the number sent on: 0 datagrams at the denied peer ($(cat "$TMP/swap-$mode.out"))"
    else
        bad "$mode: the swapped descriptor leaked ${leaked:-?} datagrams to the denied peer" "$(cat "$TMP/swap-$mode.out")"
    fi
done
# Controls: natively both reach the denied peer (the checks above can fail).
for what in "swap:the swapped descriptor's sends" "race:the flipped sockaddr's sends"; do
    sub=${what%%:*}
    session "$sub-native" native "$sub" 1
    leaked=$(sed -n 's/^race udp //p' "$TMP/$sub-native.log")
    if [ "${leaked:-0}" -gt 0 ]; then
        ok "control, natively: ${what#*:} reach 127.0.0.1 ($leaked datagrams)"
    else
        bad "control: natively ${what#*:} never reached 127.0.0.1 (the check cannot tell)"
    fi
done

finish
