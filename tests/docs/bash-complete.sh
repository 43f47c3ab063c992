# bash tests/docs/bash-complete.sh SCRIPT LINE: each completion bash offers
# for LINE (the cursor at its end), one a line: bash-completion and SCRIPT
# loaded, COMP_WORDS split as readline splits them (at spaces and at runs of
# bash's word breaks = and :), then the function SCRIPT registered for the
# line's first word, as `complete -p` names it.
source /usr/share/bash-completion/bash_completion
source "$1"
line=$2
COMP_LINE=$line COMP_POINT=${#line}
spaced=$(sed -E 's/([=:]+)/ \1 /g' <<<"$line")
read -ra COMP_WORDS <<<"$spaced"
[[ $line == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
spec=$(complete -p "${COMP_WORDS[0]}") || exit 1
func=$(sed -nE 's/.*-F ([^ ]+).*/\1/p' <<<"$spec")
"$func" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" 2>/dev/null
printf '%s\n' "${COMPREPLY[@]}"
