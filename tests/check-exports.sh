#!/usr/bin/env bash
# What libsock.so exports, and that nothing inside it calls its own exports.
#
# 1. `nm -D --defined-only` must list exactly tests/exports.txt: an export
#    added or lost by accident changes which calls libsock interposes.
# 2. One road to the kernel: a dynamic relocation against an exported name
#    means code inside libsock calls that name through the PLT/GOT — and so
#    lands back in libsock instead of in glibc. clippy.toml forbids it in our
#    code; this checks the linked result, std included. The only allowed ones
#    are listed in tests/self-references.txt with the reason, and only std's
#    functions may use them (a nix wrapper of close, inlined into libsock's
#    code, is caught here). Direct calls (no relocation) are looked for in
#    the disassembly.
set -euo pipefail
lib=$(realpath "${1:-target/release/libsock.so}")
. "$(dirname "$0")/lib/harness.sh"
harness check-exports
here=tests
[ -f "$lib" ] || die "$lib not found (run make first)"

want=$(sort "$here/exports.txt")
have=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort)
if [ "$want" != "$have" ]; then
    bad "$lib exports differ from tests/exports.txt (- expected, + actual):" \
        "$(diff <(echo "$want") <(echo "$have") | sed -n 's/^</-/p; s/^>/+/p')"
else
    ok "$(echo "$want" | wc -l) exports as listed in tests/exports.txt"
fi

allowed=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/self-references.txt" | awk '{print $1}' | sort -u)
# Field 5 of `readelf -r --wide` is the symbol name (with @VERSION when versioned).
refs=$(readelf -r --wide "$lib" | awk 'NF >= 5 {print $5}' | sed 's/@.*//' | sort -u)
selfrefs=$(comm -12 <(echo "$want") <(echo "$refs") | comm -23 - <(echo "$allowed") || true)
if [ -n "$selfrefs" ]; then
    bad "code inside $lib calls its own exports (use crate::real):" \
        "$(readelf -r --wide "$lib" | grep -wF -e "$selfrefs")"
else
    ok "no relocation against an export outside tests/self-references.txt"
fi
# An allowed name is allowed for std's own code only: every instruction that
# goes through its GOT slot or PLT entry must sit in a function of std (a
# legacy `_ZN3std` or v0 `..._3std..` symbol). Anything else — a nix wrapper
# of `close`, say, inlined into libsock's code — is a slip.
scratch work check-exports
objdump -d --no-show-raw-insn "$lib" > "$work/lib.dis"
std_only=1
for name in $allowed; do
    slots=$(readelf -r --wide "$lib" | awk -v n="$name" '$5 == n || $5 ~ "^"n"@" {sub(/^0+/, "", $1); print $1}')
    callers=$(awk -v slots="$slots" -v n="$name" '
        BEGIN { split(slots, s, " "); for (i in s) want["# " s[i] " "] = 1 }
        /^[0-9a-f]+ <.*>:$/ { fn = $2; next }
        {
            hit = index($0, "<" n "@plt>") > 0
            for (w in want) if (index($0 " ", w) > 0) hit = 1
            if (hit && fn !~ /^<_ZN3std/ && fn !~ /_3std[0-9A-Za-z_]/) print fn
        }' "$work/lib.dis" | sort -u)
    if [ -n "$callers" ]; then
        bad "$name is allowed for std only, but these functions in $lib call it (use crate::real):" "$callers"
        std_only=0
    fi
done
[ "$std_only" = 0 ] || ok "the allowed self-references ($(echo $allowed)) come from std's own code only"
# The same through direct calls: rustc may call a same-named definition in the
# crate without the PLT. (A call inlined away is invisible here; clippy's
# disallowed-methods, which forbids writing it, is the guard for that.)
names=$(echo "$want" | paste -sd'|')
direct=$(objdump -d --no-show-raw-insn "$lib" | grep -E "\s(call|jmp)\s+[0-9a-f]+ <($names)(@plt)?>" || true)
if [ -n "$direct" ]; then
    bad "code inside $lib calls its own exports directly (use crate::real):" "$direct"
else
    ok "no direct call to an export"
fi
finish
