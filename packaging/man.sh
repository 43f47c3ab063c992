#!/usr/bin/env bash
# make man: the man pages and shell completions, generated from the sources
# (never hand-written copies): sockrun(1) and libsock(7) from the table of
# variables and sockrun's own options (`sockrun --print-man`), libsock(3) and
# one page per function from include/sock.h's documentation comments
# (packaging/man3.py), the bash, zsh and fish completions from the same
# tables (`sockrun --print-completion`).
#
#   packaging/man.sh [OUT]    OUT defaults to target/man; writes
#     OUT/man1/sockrun.1 OUT/man3/*.3 OUT/man7/libsock.7
#     OUT/completions/{sockrun.bash,_sockrun,sockrun.fish}
#
# Environment: SOCKRUN (default target/release/sockrun), PYTHON. The pages'
# date is the last commit's (today's outside git), so a rebuild is identical.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/man}
sockrun=${SOCKRUN:-target/release/sockrun}
python=${PYTHON:-python3}
[ -x "$sockrun" ] || { echo "man: no $sockrun (run make first)" >&2; exit 1; }
date=$(git log -1 --format=%cs 2>/dev/null || date -u +%F)

rm -rf "$out"
mkdir -p "$out/man1" "$out/man3" "$out/man7" "$out/completions"
"$sockrun" --print-man sockrun.1 "$date" >"$out/man1/sockrun.1"
"$sockrun" --print-man libsock.7 "$date" >"$out/man7/libsock.7"
"$python" packaging/man3.py include/sock.h "$out/man3" "$date" >/dev/null
"$sockrun" --print-completion bash >"$out/completions/sockrun.bash"
"$sockrun" --print-completion zsh >"$out/completions/_sockrun"
"$sockrun" --print-completion fish >"$out/completions/sockrun.fish"
