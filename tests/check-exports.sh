#!/usr/bin/env bash
# What libsock.so exports, and that nothing inside it calls its own exports.
#
# 1. `nm -D --defined-only` must list exactly tests/exports.txt: an export
#    added or lost by accident changes which calls libsock interposes.
# 2. One road to the kernel: a dynamic relocation against an exported name
#    means code inside libsock calls that name through the PLT/GOT — and so
#    lands back in libsock instead of in glibc. clippy.toml forbids it in our
#    code; this checks the linked result, std included. The only allowed ones
#    are listed in tests/self-references.txt with the reason. Direct calls
#    (no relocation) are looked for in the disassembly.
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
