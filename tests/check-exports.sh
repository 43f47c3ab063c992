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
lib=${1:-target/release/libsock.so}
here=$(dirname "$0")

want=$(sort "$here/exports.txt")
have=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort)
if [ "$want" != "$have" ]; then
    echo "check-exports: $lib exports differ from tests/exports.txt (- expected, + actual):"
    diff <(echo "$want") <(echo "$have") | sed -n 's/^</-/p; s/^>/+/p'
    exit 1
fi

allowed=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/self-references.txt" | awk '{print $1}' | sort -u)
# Field 5 of `readelf -r --wide` is the symbol name (with @VERSION when versioned).
refs=$(readelf -r --wide "$lib" | awk 'NF >= 5 {print $5}' | sed 's/@.*//' | sort -u)
bad=$(comm -12 <(echo "$want") <(echo "$refs") | comm -23 - <(echo "$allowed") || true)
if [ -n "$bad" ]; then
    echo "check-exports: code inside $lib calls its own exports (use crate::real):"
    readelf -r --wide "$lib" | grep -wF -e "$bad"
    exit 1
fi
# The same through direct calls: rustc may call a same-named definition in the
# crate without the PLT. (A call inlined away is invisible here; clippy's
# disallowed-methods, which forbids writing it, is the guard for that.)
names=$(echo "$want" | paste -sd'|')
direct=$(objdump -d --no-show-raw-insn "$lib" | grep -E "\s(call|jmp)\s+[0-9a-f]+ <($names)(@plt)?>" || true)
if [ -n "$direct" ]; then
    echo "check-exports: code inside $lib calls its own exports directly (use crate::real):"
    echo "$direct"
    exit 1
fi
echo "check-exports: $(echo "$want" | wc -l) exports as listed; no self-reference outside tests/self-references.txt"
