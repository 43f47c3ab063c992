# shellcheck shell=bash
# spelling.c's sessions and verdicts, shared by c-tests/spelling/run.sh
# (preloaded and linked) and tests/kernel.sh (static, under sockrun's
# kernel mode). Sourced after tests/lib/harness.sh; uses $TMP, $BUILD
# (where spelling.native is) and the harness's ok, bad and die.

# with_receiver NAME CMD...: a fresh native receiver logging to
# $TMP/NAME.log what arrives at the ports it writes to $TMP/NAME/ports, and
# CMD run beside it (stdout and stderr to $TMP/NAME.out and .err; CMD is
# given that directory by its caller).
with_receiver() {
    local name=$1 dir=$TMP/$1 rpid tries=100
    shift
    mkdir -p "$dir"
    "$BUILD/spelling.native" receive "$dir" >"$TMP/$name.log" 2>&1 &
    rpid=$!
    while [ ! -s "$dir/ports" ] && [ $tries -gt 0 ]; do sleep 0.05; tries=$((tries - 1)); done
    [ -s "$dir/ports" ] || { kill $rpid; die "the receiver did not start: $(cat "$TMP/$name.log")"; }
    "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
    # Loopback delivers before send returns; the receiver may still be
    # reading its queue.
    sleep 0.3
    kill -TERM $rpid
    wait $rpid
}

# tags NAME: the spellings the sender tried, sorted.
tags() { cut -d' ' -f1 "$TMP/$1.out" | sort; }

# arrived NAME: the tags the receiver logged (any socket), sorted.
arrived() { awk '$1 ~ /^(udp|udp6|udp3|tcp|tcp6)$/ { print $2 }' "$TMP/$1.log" | sort; }

# all_arrive NAME LABEL: without rules every spelling (20 at least) was sent
# and arrived, and no SYN was left pending.
all_arrive() {
    local name=$1 label=$2 n
    n=$(wc -l <"$TMP/$name.out")
    if [ "$n" -ge 20 ] && ! grep -q 'ret=-1' "$TMP/$name.out" && diff <(tags "$name") <(arrived "$name") >"$TMP/d" &&
        grep -qx 'synrecv 0' "$TMP/$name.log" && [ ! -s "$TMP/$name.err" ]; then
        ok "$label, no rules: all $n spellings reach the receiver"
    else
        bad "$label, no rules: not every spelling arrived" "$(cat "$TMP/$name.out" "$TMP/d" "$TMP/$name.err")"
    fi
}

# all_refused NAME LABEL: with rules naming the peer (or an allow list that
# does not), every spelling but the allowed peer's is -1 EPERM, nothing
# denied arrived, no SYN reached a listener, and the allowed peer arrived.
all_refused() {
    local name=$1 label=$2 wrong n got
    wrong=$(grep -v '^u4-allowed-peer ' "$TMP/$name.out" | grep -v 'ret=-1 errno=EPERM$')
    n=$(grep -c 'ret=-1 errno=EPERM$' "$TMP/$name.out")
    got=$(arrived "$name" | tr '\n' ' ')
    if [ "$n" -ge 20 ] && [ -z "$wrong" ] && [ "$got" = "u4-allowed-peer " ] &&
        grep -qx 'synrecv 0' "$TMP/$name.log" && [ ! -s "$TMP/$name.err" ]; then
        ok "$label: all $n spellings of the peer are EPERM, none arrived, no SYN sent; the allowed peer arrived"
    else
        bad "$label: a spelling got through" "not EPERM: ${wrong:-none}" "arrived: ${got:-nothing}" \
            "$(grep synrecv "$TMP/$name.log")" "$(head -3 "$TMP/$name.err")"
    fi
}

# no_race_leak NAME LABEL: the flipped sockaddr race (spelling.c race) sent
# and was refused, 0 datagrams reached the denied peer, some the allowed one.
no_race_leak() {
    local name=$1 label=$2 sent refused leaked allowed
    read -r sent refused < <(sed -n 's/^race sent=\([0-9]*\) refused=\([0-9]*\)$/\1 \2/p' "$TMP/$name.out")
    leaked=$(sed -n 's/^race udp //p' "$TMP/$name.log")
    allowed=$(sed -n 's/^race udp3 //p' "$TMP/$name.log")
    if [ "${sent:-0}" -gt 0 ] && [ "${refused:-0}" -gt 0 ] && [ "$leaked" = 0 ] && [ "${allowed:-0}" -gt 0 ]; then
        ok "$label: $sent calls sent, $refused refused, 0 datagrams at the denied peer ($allowed at the allowed one)"
    else
        bad "$label: ${leaked:-?} datagrams reached the denied peer" "$(cat "$TMP/$name.out" "$TMP/$name.err")"
    fi
}
