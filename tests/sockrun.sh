#!/usr/bin/env bash
# sockrun, the launcher, run as a user runs it (after `make`): its help, its
# checks before anything runs, the environment and LD_PRELOAD its command
# gets, where it finds libsock.so, exit statuses, and its warnings for
# commands libsock cannot get into.
set -euo pipefail
. "$(dirname "$0")/lib/harness.sh"
harness sockrun

root=$PWD
sockrun=$root/target/release/sockrun
lib=$(realpath target/release/libsock.so)
[ -x "$sockrun" ] || die "$sockrun missing: run make first"
scratch tmp sockrun-test
# The checks below set what they need; nothing is inherited.
no_config

pass() { ok "$1"; }
# fail NAME: a failed check, with the last run's status and output.
fail() {
    bad "$*" "status $status; stdout:" "$(sed 's/^/    /' "$tmp/out")" "stderr:" \
        "$(sed 's/^/    /' "$tmp/err")"
}

# run CMD...: runs it, keeping $status, $tmp/out and $tmp/err.
run() {
    set +e
    "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
    set -e
}

# expect NAME STATUS: the last run exited with STATUS.
expect() {
    if [ "$status" -eq "$2" ]; then pass "$1: status $2"; else fail "$1: want status $2"; fi
}

# has NAME FILE TEXT: FILE (out or err) has a line with TEXT (fixed string).
has() {
    if grep -qF -- "$3" "$tmp/$2"; then pass "$1: $2 has '$3'"; else fail "$1: $2 lacks '$3'"; fi
}

# lacks NAME FILE TEXT
lacks() {
    if grep -qF -- "$3" "$tmp/$2"; then fail "$1: $2 has '$3'"; else pass "$1: $2 lacks '$3'"; fi
}

# env_is NAME VAR VALUE: the last run's stdout (an `env` listing) has VAR=VALUE.
env_is() {
    local got
    got=$(sed -n "s/^$2=//p" "$tmp/out")
    if [ "$got" = "$3" ]; then pass "$1: $2=$3"; else fail "$1: $2 is '$got', want '$3'"; fi
}

# --- help and version -----------------------------------------------------------
run "$sockrun" --help
expect "--help" 0
for word in --trace --json --stats --reuseaddr --reuseport --freebind --nodelay \
            --keepalive --tos --rcvbuf --sndbuf --bind-addr --port-map --lib --help --version \
            LIBSOCK_TRACE LIBSOCK_TRACE_FORMAT LIBSOCK_STATS LIBSOCK_REUSEADDR LIBSOCK_REUSEPORT \
            LIBSOCK_FREEBIND LIBSOCK_NODELAY LIBSOCK_KEEPALIVE LIBSOCK_TOS LIBSOCK_RCVBUF \
            LIBSOCK_SNDBUF LIBSOCK_BIND_ADDR LIBSOCK_PORT_MAP LIBSOCK_ALLOW LIBSOCK_DENY \
            --allow=RULES --deny=RULES LIBSOCK_LIB LD_PRELOAD \
            "DIR/../lib/libsock.so.0" "$root/target/release" "Exit status" 126 127 Examples; do
    has "--help mentions $word" out "$word"
done
if awk 'length > 79 { bad = 1 } END { exit bad }' "$tmp/out"; then pass "--help fits 79 columns"; else fail "--help wider than 79"; fi
run "$sockrun" -h
expect "-h" 0
run "$sockrun" --version
expect "--version" 0
has "--version" out "sockrun $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"

# --- bad values: one documented line each, exit 2, nothing runs -----------------
while read -r option value message; do
    rm -f "$tmp/ran"
    run "$sockrun" "$option=$value" -- touch "$tmp/ran"
    expect "$option=$value" 2
    has "$option=$value message" err "sockrun: $option \"$value\": $message"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] && pass "$option=$value: one line" || fail "$option=$value: one line"
    [ ! -e "$tmp/ran" ] && pass "$option=$value: the command did not run" || fail "$option=$value: the command ran"
done <<'EOF'
--tos fast expected low-delay, throughput, reliability, low-cost, or a number 0-255
--tos 256 expected low-delay,
--rcvbuf 0 expected a number of bytes, 1-2147483647
--sndbuf 64k expected a number of bytes
--keepalive 0,5 expected 1, or IDLE[,INTVL[,CNT]] in seconds
--keepalive 30,5,3,1 expected 1, or IDLE
--bind-addr localhost expected an IPv4 and/or an IPv6 address
--port-map 80 expected FROM:TO[,FROM:TO...]
--port-map 80:70000 expected FROM:TO
--deny 10.0.0.0/33 rule 1 "10.0.0.0/33": expected
--allow localhost, rule 2 "": expected
--allow lcalhost rule 1 "lcalhost": expected
--deny 127.0.0.1:99999 rule 1 "127.0.0.1:99999": expected
EOF
# Two bad values: two lines; the space-separated form is checked the same way.
run "$sockrun" --tos fast --rcvbuf=-1 --nodelay touch "$tmp/ran"
expect "two bad values" 2
[ "$(wc -l <"$tmp/err")" -eq 2 ] && pass "two bad values: two lines" || fail "two bad values: two lines"
[ ! -e "$tmp/ran" ] && pass "two bad values: the command did not run" || fail "two bad values: the command ran"

# --- usage errors: exit 2 with the synopsis, nothing runs -----------------------
for args in "--frob" "-x" "--nodelay=1" "--json=yes" "--tos=" "--trace=" \
            "--allow=" "--deny="; do
    rm -f "$tmp/ran"
    run "$sockrun" "$args" -- touch "$tmp/ran"
    expect "usage error $args" 2
    has "usage error $args" err "Usage: sockrun"
    [ ! -e "$tmp/ran" ] && pass "usage error $args: the command did not run" || fail "usage error $args: the command ran"
done
run "$sockrun" --frob -- true
has "unknown option message" err "sockrun: unknown option: --frob"

# --- access rules: set as given (bad rules are refused above) -------------------
run "$sockrun" --allow=localhost:6379 --deny "10.0.0.0/8,[::1]:8000-8100" -- env
expect "--allow/--deny" 0
has "--allow sets LIBSOCK_ALLOW" out "LIBSOCK_ALLOW=localhost:6379"
has "--deny sets LIBSOCK_DENY" out "LIBSOCK_DENY=10.0.0.0/8,[::1]:8000-8100"

for args in "" "--nodelay" "--nodelay --" "--tos"; do
    # shellcheck disable=SC2086  # the words are the arguments
    run "$sockrun" $args
    expect "no command: '$args'" 2
    has "no command: '$args'" err "Usage: sockrun"
done

# --- exit status ----------------------------------------------------------------
run "$sockrun" -- sh -c 'exit 7'
expect "status passthrough" 7
run "$sockrun" --nodelay sh -c 'exit 3'
expect "command without --" 3
{ run "$sockrun" -- sh -c 'kill -TERM $$'; } 2>/dev/null  # bash's "Terminated" line
expect "killed by a signal" 143
# SIGPIPE is the default again in the command (Rust ignores it in sockrun).
status=$(set +e; "$sockrun" -- yes 2>"$tmp/err" | head -1 >/dev/null; echo "${PIPESTATUS[0]}")
expect "SIGPIPE" 141
run "$sockrun" -- no-such-command-here
expect "command not found" 127
has "command not found" err "sockrun: no-such-command-here: command not found"
run "$sockrun" -- "$tmp/missing"
expect "missing path" 127
printf 'echo hi\n' >"$tmp/noexec"
run "$sockrun" -- "$tmp/noexec"
expect "not executable" 126
has "not executable" err "Permission denied"
run "$sockrun" -- "$tmp"
expect "a directory" 126

# --- the command's environment --------------------------------------------------
cc -shared -fPIC -o "$tmp/other.so" -x c /dev/null
run env LD_PRELOAD="$tmp/other.so" LIBSOCK_TOS=low-delay LIBSOCK_NODELAY=0 \
    "$sockrun" --nodelay -- env
expect "env" 0
env_is "LD_PRELOAD: libsock first, the old value kept" LD_PRELOAD "$lib:$tmp/other.so"
env_is "--nodelay overrides the environment" LIBSOCK_NODELAY 1
env_is "a variable not given is left alone" LIBSOCK_TOS low-delay
run env -i PATH="$PATH" "$sockrun" -- env
env_is "LD_PRELOAD when there was none" LD_PRELOAD "$lib"
lacks "no option, no variable" out "LIBSOCK_"

cd "$tmp"
run "$sockrun" --trace=trace.%p --json --stats --reuseaddr --reuseport --freebind \
    --keepalive=30,5,3 --tos=low-delay --rcvbuf 65536 --sndbuf=131072 \
    --bind-addr=127.0.0.1,::1 --port-map=80:8080,443:8443 -- env
cd "$root"
expect "every option" 0
env_is "--trace=FILE made absolute" LIBSOCK_TRACE "$tmp/trace.%p"
env_is "--json" LIBSOCK_TRACE_FORMAT json
env_is "--stats" LIBSOCK_STATS 1
env_is "--reuseaddr" LIBSOCK_REUSEADDR 1
env_is "--reuseport" LIBSOCK_REUSEPORT 1
env_is "--freebind" LIBSOCK_FREEBIND 1
env_is "--keepalive=SPEC" LIBSOCK_KEEPALIVE 30,5,3
env_is "--tos" LIBSOCK_TOS low-delay
env_is "--rcvbuf VALUE" LIBSOCK_RCVBUF 65536
env_is "--sndbuf" LIBSOCK_SNDBUF 131072
env_is "--bind-addr" LIBSOCK_BIND_ADDR 127.0.0.1,::1
env_is "--port-map" LIBSOCK_PORT_MAP 80:8080,443:8443
run "$sockrun" --trace --keepalive --stats="$tmp/stats" -- env
env_is "--trace" LIBSOCK_TRACE stderr
env_is "--keepalive" LIBSOCK_KEEPALIVE 1
env_is "--stats=FILE" LIBSOCK_STATS "$tmp/stats"
run "$sockrun" -- sh -c 'printf "%s\n" "$0" "$@"' a 'b c'
has "arguments passed as they are" out "b c"

# --- libsock is really loaded ---------------------------------------------------
run "$sockrun" -- cat /proc/self/maps
has "libsock.so mapped in the command" out "$lib"

# --- finding libsock.so ---------------------------------------------------------
run "$sockrun" --lib=target/release/libsock.so -- env
expect "--lib relative" 0
env_is "--lib relative made absolute" LD_PRELOAD "$lib"
(cd target && LIBSOCK_LIB=release/libsock.so "$sockrun" -- env) >"$tmp/out" 2>"$tmp/err" || true
env_is "LIBSOCK_LIB relative made absolute" LD_PRELOAD "$lib"
run "$sockrun" --lib="$tmp/nope.so" -- touch "$tmp/ran"
expect "--lib missing" 2
has "--lib missing" err "sockrun: --lib=$tmp/nope.so: No such file or directory"
run env LIBSOCK_LIB="$tmp/nope.so" "$sockrun" -- true
expect "LIBSOCK_LIB missing" 2
has "LIBSOCK_LIB missing" err "LIBSOCK_LIB=$tmp/nope.so"
run "$sockrun" --lib=/etc/passwd -- true
expect "--lib not a library" 2
has "--lib not a library" err "not an ELF shared library"
[ ! -e "$tmp/ran" ] && pass "no library: the command did not run" || fail "no library: the command ran"

# Alone in a directory, with a libsock.so in the current one: not found.
mkdir -p "$tmp/alone/bin" "$tmp/cwd"
cp "$sockrun" "$tmp/alone/bin/"
cp "$lib" "$tmp/cwd/libsock.so"
(cd "$tmp/cwd" && "$tmp/alone/bin/sockrun" -- true) >"$tmp/out" 2>"$tmp/err" &&
    status=0 || status=$?
expect "no library beside sockrun" 2
has "the places tried" err "tried $tmp/alone/bin/libsock.so, $tmp/alone/bin/libsock.so.0, $tmp/alone/lib/libsock.so.0, $tmp/alone/lib/libsock.so;"

# An install prefix: bin/sockrun finds lib/libsock.so.0, and keeps that name
# (the SONAME link, which an upgrade moves) rather than the file it points to.
mkdir -p "$tmp/prefix/bin" "$tmp/prefix/lib"
cp "$sockrun" "$tmp/prefix/bin/"
cp "$lib" "$tmp/prefix/lib/libsock.so.1.2.3"
ln -s libsock.so.1.2.3 "$tmp/prefix/lib/libsock.so.0"
run "$tmp/prefix/bin/sockrun" -- env
env_is "install prefix" LD_PRELOAD "$tmp/prefix/lib/libsock.so.0"
# A symlinked directory or ".." never reaches LD_PRELOAD.
ln -s "$tmp/prefix/lib" "$tmp/liblink"
run "$sockrun" --lib="$tmp/liblink/../lib/libsock.so.0" -- env
env_is "--lib canonical directory" LD_PRELOAD "$tmp/prefix/lib/libsock.so.0"
# Beside the binary wins over the prefix.
cp "$lib" "$tmp/prefix/bin/libsock.so"
run "$tmp/prefix/bin/sockrun" -- env
env_is "beside sockrun first" LD_PRELOAD "$tmp/prefix/bin/libsock.so"

# --- warnings: static and setuid/setgid binaries (they still run) ---------------
printf 'int main(void) { return 5; }\n' >"$tmp/prog.c"
if cc -static -o "$tmp/static" "$tmp/prog.c" 2>"$tmp/cc.err"; then
    run "$sockrun" -- "$tmp/static"
    expect "static binary runs" 5
    has "static binary warning" err "sockrun: warning: $tmp/static is statically linked"
    if cc -static-pie -fPIE -o "$tmp/static-pie" "$tmp/prog.c" 2>/dev/null; then
        run "$sockrun" -- "$tmp/static-pie"
        has "static-pie warning" err "is statically linked"
    fi
else
    bad "cannot build a static binary (cc -static needs libc.a: install libc6-dev)" \
        "$(cat "$tmp/cc.err")"
fi
cc -o "$tmp/dynamic" "$tmp/prog.c"
run "$sockrun" -- "$tmp/dynamic"
expect "dynamic binary" 5
lacks "no warning for a dynamic binary" err "warning"
printf '#!/bin/sh\nexit 4\n' >"$tmp/script"
chmod +x "$tmp/script"
run "$sockrun" -- "$tmp/script"
expect "script" 4
lacks "no warning for a script" err "warning"

cp "$tmp/dynamic" "$tmp/suid"
chmod u+s "$tmp/suid"
PATH="$tmp:$PATH" run "$sockrun" -- suid
expect "setuid binary runs" 5
has "setuid warning (found in PATH)" err "sockrun: warning: $tmp/suid is setuid:"
cp "$tmp/dynamic" "$tmp/sgid"
chmod g+s "$tmp/sgid"
run "$sockrun" -- "$tmp/sgid"
has "setgid warning" err "sockrun: warning: $tmp/sgid is setgid:"

finish
