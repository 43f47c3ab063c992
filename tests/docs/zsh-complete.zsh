# zsh -f tests/docs/zsh-complete.zsh FPATH_DIR LINE: each completion zsh
# offers for LINE (the cursor at its end), one a line. An interactive zsh in
# a pseudo-terminal (zpty) runs compinit with FPATH_DIR first in fpath,
# compadd is wrapped to print what it is given, and TAB is pressed; the
# completion functions run exactly as for a user.
zmodload zsh/zpty
zpty z zsh -f -i
local line
zpty -w z "fpath=($1 \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z 'compadd () {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi
  typeset -a __hits
  builtin compadd -A __hits "$@"
  (( $#__hits )) || return
  print -r -l -- "<hit>"${^__hits}
}'
zpty -w z "bindkey '^I' complete-word"
zpty -w z "null-line () { echo -E - \$'\0'; }"
zpty -w z "compprefuncs=( null-line )"
zpty -w z "comppostfuncs=( null-line exit )"
zpty -w z "zstyle ':completion:*' list-grouped false"
zpty -w z "zstyle ':completion:*' insert-tab false"
zpty -n -w z "$2"$'\t'
integer tog=0
while zpty -r z; do :; done | while IFS= read -r line; do
  if [[ $line == *$'\0\r' ]]; then (( tog++ )) && return 0 || continue; fi
  (( tog )) && [[ $line == '<hit>'* ]] && print -r -- "${${line#<hit>}%$'\r'}"
done
return 0
