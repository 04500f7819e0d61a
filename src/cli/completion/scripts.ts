// The completion scripts `keel completion bash|zsh|fish` prints. Each is a thin shim: it passes the words typed so
// far to `keel __complete`, which answers from the commands' grammars and the project's index (engine.ts), and
// hands the answer to the shell's own machinery (compgen/COMPREPLY, _describe/_files, fish's `complete`).
// The answer's first line is `:values`, `:file` or `:dir`; then one `value<TAB>help` per line.

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

// bash splits words at `:` and `=` (COMP_WORDBREAKS), so the line is split again at blanks only, and the part of
// each candidate before bash's own current word is taken off again: `payments:AU` completes to `payments:AUTH-1`.
const BASH = `# keel completion for bash. Install: keel completion bash > ~/.local/share/bash-completion/completions/keel
_keel_complete() {
  local line=\${COMP_LINE:0:COMP_POINT} cur=\${COMP_WORDS[COMP_CWORD]} typed prefix out directive
  local -a words candidates
  read -r -a words <<< "$line"
  [[ $line == *[[:blank:]] ]] && words+=("")
  typed=\${words[\${#words[@]}-1]}
  prefix=
  [[ $typed == *"$cur" ]] && prefix=\${typed%"$cur"}
  out=$(command keel __complete -- "\${words[@]:1}" 2>/dev/null) || return 0
  directive=\${out%%$'\\n'*}
  case $directive in
    :file) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return 0 ;;
    :dir) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return 0 ;;
  esac
  [[ $out == *$'\\n'* ]] || { COMPREPLY=(); return 0; }
  mapfile -t candidates <<< "\${out#*$'\\n'}"
  COMPREPLY=()
  local c
  for c in "\${candidates[@]}"; do
    c=\${c%%$'\\t'*}
    [[ -n $c ]] && COMPREPLY+=("\${c#"$prefix"}")
  done
}
complete -F _keel_complete keel
`;

const ZSH = `#compdef keel
# keel completion for zsh. Install: keel completion zsh > "\${fpath[1]}/_keel" (then restart zsh), or
# source <(keel completion zsh) after compinit.
_keel() {
  local out directive line
  local -a lines candidates
  out=$(command keel __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
  lines=("\${(@f)out}")
  directive=\${lines[1]}
  case $directive in
    :file) _files; return ;;
    :dir) _files -/; return ;;
  esac
  for line in "\${(@)lines[2,-1]}"; do
    [[ -z $line ]] && continue
    if [[ $line == *$'\\t'* ]]; then
      candidates+=("\${\${line%%$'\\t'*}//:/\\\\:}:\${line#*$'\\t'}")
    else
      candidates+=("\${line//:/\\\\:}")
    fi
  done
  (( \${#candidates} )) || return 1
  _describe -t keel 'keel' candidates
}
if [[ $funcstack[1] == _keel ]]; then _keel "$@"; else compdef _keel keel; fi
`;

const FISH = `# keel completion for fish. Install: keel completion fish > ~/.config/fish/completions/keel.fish
function __keel_complete
  set -l words (commandline -opc) (commandline -ct)
  set -l out (command keel __complete -- $words[2..-1] 2>/dev/null)
  or return
  switch "$out[1]"
    case :file
      __fish_complete_path (commandline -ct)
    case :dir
      __fish_complete_directories (commandline -ct)
    case '*'
      printf '%s\\n' $out[2..-1]
  end
end
complete -c keel -f -a '(__keel_complete)'
`;

export const SCRIPTS: Record<Shell, string> = { bash: BASH, zsh: ZSH, fish: FISH };
