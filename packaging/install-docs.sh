#!/usr/bin/env bash
# The generated man pages and completions (packaging/man.sh's OUT) into a
# prefix, where man and each shell look for them:
#   share/man/man{1,3,7}/                          man -M PREFIX/share/man
#   share/bash-completion/completions/sockrun      bash-completion (loaded on demand)
#   share/zsh/site-functions/_sockrun              zsh's fpath
#   share/fish/vendor_completions.d/sockrun.fish   fish
# Used by make install and by make dist's C tarball.
set -euo pipefail
src=$1 prefix=$2
for s in 1 3 7; do
    install -d "$prefix/share/man/man$s"
    install -m 644 "$src/man$s/"*."$s" "$prefix/share/man/man$s/"
done
install -d "$prefix/share/bash-completion/completions" "$prefix/share/zsh/site-functions" \
    "$prefix/share/fish/vendor_completions.d"
install -m 644 "$src/completions/sockrun.bash" "$prefix/share/bash-completion/completions/sockrun"
install -m 644 "$src/completions/_sockrun" "$prefix/share/zsh/site-functions/_sockrun"
install -m 644 "$src/completions/sockrun.fish" "$prefix/share/fish/vendor_completions.d/sockrun.fish"
