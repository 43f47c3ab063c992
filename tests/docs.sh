#!/usr/bin/env bash
# make docs-test: the man pages and shell completions that `make man` wrote
# (target/man), checked against the sources they come from, not against
# themselves:
#   - every page lints clean (mandoc -T lint, groff -man -ww) and renders
#     with man(1);
#   - sockrun(1) names every option and variable of the table of variables
#     (crates/sock-core/src/config.rs, read here with grep) and sockrun's own
#     options (crates/sockrun/src/help.rs's OPTIONS); libsock(7) every
#     variable and rule keyword; every function of include/sock.h has its
#     page and is listed in libsock(3);
#   - each completion script, driven in its own shell as a user's TAB would
#     (bash: the registered function over readline's words; zsh: compinit in
#     a pseudo-terminal; fish: complete -C), offers every option, the closed
#     sets of values and, after the options, commands;
#   - make install PREFIX=… puts pages and completions where man -M and each
#     shell find them by themselves;
#   - the committed bench plot parses as SVG, names every series, and is what
#     bench/plot.py draws from the committed run's output.
set -euo pipefail
. "$(dirname "$0")/lib/harness.sh"
harness docs
need mandoc groff man zsh fish
[ -f /usr/share/bash-completion/bash_completion ] || die "bash-completion is not installed"
no_config LIBSOCK_LIB
PYTHON=${PYTHON:-python3}
man=target/man
sockrun=target/release/sockrun
[ -f "$man/man1/sockrun.1" ] || die "no $man/man1/sockrun.1 (run make man)"

# ---- what the sources say ----
flags=$(sed -n 's/^        flag: "\(.*\)",$/\1/p' crates/sock-core/src/config.rs)
vars=$(sed -n 's/^        name: "\(LIBSOCK_[A-Z_]*\)",$/\1/p' crates/sock-core/src/config.rs)
vars="$vars $(sed -n 's/^pub const \(ALLOW\|DENY\)_VAR: &str = "\(.*\)";/\2/p' crates/sock-core/src/rules/mod.rs)"
own=$(sed -n '/^pub(crate) const OPTIONS/,/^];/s/^        long: "\(.*\)",$/\1/p' crates/sockrun/src/help.rs)
tos=$(sed -n 's/^pub const TOS_NAMES: &\[&str\] = &\[\(.*\)\];/\1/p' crates/sock-core/src/config.rs | tr -d '",')
keywords=$(sed -n 's/^pub const KEYWORD_NAMES: &\[&str\] = &\[\(.*\)\];/\1/p' crates/sock-core/src/rules/mod.rs | tr -d '",')
funcs=$(sed -nE 's/^[a-zA-Z_][a-zA-Z_ ]*[ *]([a-z_]+)\(.*/\1/p' include/sock.h)
[ "$(wc -w <<<"$flags")" -ge 15 ] && [ "$(wc -w <<<"$vars")" -ge 15 ] && [ -n "$own" ] &&
    [ -n "$tos" ] && [ -n "$keywords" ] && [ "$(wc -w <<<"$funcs")" -ge 14 ] ||
    die "could not read the tables: flags '$flags' vars '$vars' own '$own' tos '$tos' keywords '$keywords' funcs '$funcs'"

# ---- lint and render ----
pages=$(cd "$man" && ls man1/*.1 man3/*.3 man7/*.7)
lint=$(cd "$man" && mandoc -T lint -W warning $pages 2>&1 || true)
if [ -z "$lint" ]; then ok "mandoc -T lint: $(wc -w <<<"$pages") pages, no warning"; else bad "mandoc -T lint" "$lint"; fi
lint=$(cd "$man" && groff -man -ww -z $pages 2>&1 || true)
if [ -z "$lint" ]; then ok "groff -man -ww -z: no warning"; else bad "groff -man -ww" "$lint"; fi

render() { # section page: the page as man shows it, plain
    MANWIDTH=100 man -M "$man" "$1" "$2" 2>/dev/null | col -b
}
missing=()
one=$(render 1 sockrun)
for f in $flags $own; do grep -q -- "--$f" <<<"$one" || missing+=("--$f"); done
for v in $vars; do grep -q -- "$v" <<<"$one" || missing+=("$v"); done
for s in "EXIT STATUS" ENVIRONMENT FILES EXAMPLES "126" "127" LIBSOCK_LIB; do
    grep -q -- "$s" <<<"$one" || missing+=("$s")
done
# Each option has its example.
for f in $flags; do grep -qE -- "Example: sockrun --$f(=| )" <<<"$one" || missing+=("example of --$f"); done
if [ ${#missing[@]} -eq 0 ]; then
    ok "sockrun(1) names every option ($(wc -w <<<"$flags $own")), variable, example and exit status"
else
    bad "sockrun(1) lacks: ${missing[*]}"
fi
missing=()
seven=$(render 7 libsock)
for v in $vars $keywords; do grep -q -- "$v" <<<"$seven" || missing+=("$v"); done
for s in "ACCESS RULES" BOUNDARY linked preloaded ctypes EPERM; do grep -q -- "$s" <<<"$seven" || missing+=("$s"); done
if [ ${#missing[@]} -eq 0 ]; then ok "libsock(7) names every variable, rule keyword, loading mode and the boundary"; else bad "libsock(7) lacks: ${missing[*]}"; fi
missing=()
three=$(render 3 libsock)
for f in $funcs; do
    grep -q -- "$f(3)" <<<"$three" || missing+=("$f in libsock(3)")
    page=$(render 3 "$f")
    grep -q -- "^NAME" <<<"$page" && grep -qE -- "[a-z]+ \*?$f\(" <<<"$page" || missing+=("$f(3)")
done
if [ ${#missing[@]} -eq 0 ]; then
    ok "every function of include/sock.h ($(wc -w <<<"$funcs")) has its page, with its prototype, and is in libsock(3)"
else
    bad "man3 lacks: ${missing[*]}"
fi
# The SocketSet pages carry the header's documentation: errno and safety.
page=$(render 3 sockset_select)
if grep -q EBADF <<<"$page" && grep -q "^SAFETY" <<<"$page"; then ok "sockset_select(3) carries its errors and safety from the header"; else bad "sockset_select(3)" "$page"; fi

# The hidden modes refuse what they do not know, as a usage error.
status=0
"$sockrun" --print-man nope.1 >/dev/null 2>&1 || status=$?
status2=0
"$sockrun" --print-completion csh >/dev/null 2>&1 || status2=$?
if [ "$status" = 2 ] && [ "$status2" = 2 ]; then ok "--print-man and --print-completion refuse unknown names (exit 2)"; else bad "unknown names: exit $status, $status2"; fi
if ! "$sockrun" --help | grep -q print-; then ok "--help does not list the hidden modes"; else bad "--help lists --print-*"; fi

# ---- completions, each in its own shell ----
comp=$(cd "$man/completions" && pwd -P)
scratch empty fish-cwd   # fish runs in an empty directory: no file is offered by chance
all_options() { for f in $flags $own; do echo "--$f"; done; }
# check SHELL LINE WANT...: what SHELL offers for LINE includes every WANT.
check() {
    local shell=$1 line=$2 got
    shift 2
    case $shell in
        bash) got=$(bash tests/docs/bash-complete.sh "$comp/sockrun.bash" "$line") ;;
        zsh) got=$(timeout 20 zsh -f tests/docs/zsh-complete.zsh "$comp" "$line") ;;
        fish) got=$(cd "$empty" && fish -c "source $comp/sockrun.fish; complete -C '$line'" | cut -f1) ;;
    esac
    local w lacks=()
    for w in "$@"; do
        grep -qxF -- "$w" <<<"$got" || grep -qxF -- "$w=" <<<"$got" || lacks+=("$w")
    done
    if [ ${#lacks[@]} -eq 0 ]; then
        ok "$shell: '$line' offers $(if [ $# -gt 4 ]; then echo "all $# expected"; else echo "$*"; fi)"
    else
        bad "$shell: '$line' lacks ${lacks[*]}" "offered: $(head -c 600 <<<"$got" | tr '\n' ' ')"
    fi
}
# fish and zsh give the value alone after "--tos="; bash too (readline
# replaces only what follows the =).
for shell in bash zsh fish; do
    # shellcheck disable=SC2046
    check "$shell" "sockrun --" $(all_options)
    check "$shell" "sockrun --tr" --trace
    case $shell in
        fish)
            # shellcheck disable=SC2046
            check fish "sockrun --tos=" $(for t in $tos; do echo "--tos=$t"; done)
            # shellcheck disable=SC2046
            check fish "sockrun --allow=" $(for k in $keywords; do echo "--allow=$k"; done)
            check fish "sockrun --deny=10.0.0.0/8,lo" --deny=10.0.0.0/8,localhost
            ;;
        bash)
            # shellcheck disable=SC2086
            check bash "sockrun --tos=" $tos
            # shellcheck disable=SC2086
            check bash "sockrun --allow=" $keywords
            check bash "sockrun --deny=10.0.0.0/8,lo" 10.0.0.0/8,localhost
            ;;
        zsh)
            # shellcheck disable=SC2086
            check zsh "sockrun --tos=" $tos
            # shellcheck disable=SC2086
            check zsh "sockrun --allow=" $keywords
            check zsh "sockrun --deny=10.0.0.0/8,lo" localhost
            ;;
    esac
    # shellcheck disable=SC2086
    check "$shell" "sockrun --tos " $tos
    check "$shell" "sockrun --nodelay ech" echo
    check "$shell" "sockrun --json -- ech" echo
done

# ---- make install: where man and the shells look ----
scratch prefix docs
make -s install PREFIX="$prefix" >/dev/null 2>&1 || die "make install PREFIX=$prefix failed"
share=$prefix/share
if MANWIDTH=80 man -M "$share/man" sockrun 2>/dev/null | grep -q "sockrun - run a command" &&
   MANWIDTH=80 man -M "$share/man" 7 libsock 2>/dev/null | grep -q "LIBSOCK_DENY" &&
   MANWIDTH=80 man -M "$share/man" 3 libsock 2>/dev/null | grep -q "sockset_select" &&
   MANWIDTH=80 man -M "$share/man" sockset_select 2>/dev/null | grep -q "SocketSet \*readfds"; then
    ok "man -M PREFIX/share/man shows sockrun(1), libsock(7), libsock(3), sockset_select(3)"
else
    bad "man -M $share/man does not show the pages" "$(find "$share/man" -type f | head)"
fi
n=$(find "$share/man" -name '*.[137]' | wc -l)
want=$(($(wc -w <<<"$funcs") + 3))
if [ "$n" = "$want" ]; then ok "make install: $n pages under share/man"; else bad "make install: $n pages under share/man, want $want"; fi
# bash-completion loads a command's completion on demand from
# XDG_DATA_DIRS/bash-completion/completions.
spec=$(XDG_DATA_DIRS=$share bash -c 'source /usr/share/bash-completion/bash_completion
    _completion_loader sockrun; complete -p sockrun' 2>&1 || true)
if [ "$spec" = "complete -F _sockrun sockrun" ]; then ok "bash-completion loads share/bash-completion/completions/sockrun on demand"; else bad "bash: $spec"; fi
got=$(PATH=$prefix/bin:$PATH timeout 20 zsh -f tests/docs/zsh-complete.zsh "$share/zsh/site-functions" "sockrun --tos=")
if grep -qx low-delay <<<"$got"; then ok "zsh with share/zsh/site-functions in fpath completes sockrun"; else bad "zsh from the prefix" "$got"; fi
got=$(cd "$empty" && XDG_DATA_DIRS=$share PATH=$prefix/bin:$PATH fish -c "complete -C 'sockrun --tos='" | cut -f1)
if grep -qx -- --tos=low-delay <<<"$got"; then ok "fish with PREFIX/share in XDG_DATA_DIRS loads share/fish/vendor_completions.d/sockrun.fish"; else bad "fish from the prefix" "$got"; fi
make -s uninstall PREFIX="$prefix" >/dev/null
left=$(find "$prefix" -type f)
if [ -z "$left" ]; then ok "make uninstall removes every page and completion"; else bad "make uninstall left files" "$left"; fi

# ---- the bench plot in the README ----
svg=docs/bench-sockset.svg
if $PYTHON - "$svg" <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
assert root.tag == ns + "svg", root.tag
names = {p.get("data-series") for p in root.iter(ns + "polyline")}
texts = {t.text for t in root.iter(ns + "text")}
want = {"select(2)", "poll(2)", "epoll_wait + adds (linked)", "SocketSet, linked", "SocketSet, preloaded"}
assert want <= names, names
assert want <= texts, texts
EOF
then ok "$svg parses as SVG and names every series (a line and a legend entry each)"; else bad "$svg"; fi
scratch plot plot
$PYTHON bench/plot.py docs/bench-sockset.txt "$plot/plot.svg"
if cmp -s "$plot/plot.svg" "$svg"; then ok "$svg is what bench/plot.py draws from docs/bench-sockset.txt"; else bad "$svg differs from bench/plot.py docs/bench-sockset.txt"; fi
table=$(sed -n '/^     N |/,/^ *9000 |/p' docs/bench-sockset.txt)
if [ -n "$table" ] && grep -qF -- "$(sed -n 3p <<<"$table")" README.md && grep -qF -- "$(tail -1 <<<"$table")" README.md; then
    ok "README shows the table of the run the plot was drawn from"
else
    bad "README's SocketSet table is not docs/bench-sockset.txt's"
fi
finish
