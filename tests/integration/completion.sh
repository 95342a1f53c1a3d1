#!/bin/bash
# Shell completion for kairos-bridge: configure installs bash's where
# bash-completion's pkg-config file says, and it completes options, picture
# files by extension and --listen forms; zsh's parses and is an #compdef.
. "$(dirname "$0")/lib.sh"
need bash pkg-config zsh
[ -f /usr/share/bash-completion/bash_completion ] || skip "bash-completion is not installed"

want=$(pkg-config --variable=completionsdir bash-completion) || skip "no bash-completion.pc"
got=$(sed -n 's/^bashcompletiondir = //p' "$builddir/Makefile")
# make distcheck gives its own directory; otherwise it must be pkg-config's.
case "$got" in "$want" | *'$(datadir)/bash-completion/completions'* | */_inst/*) ;;
*) fail "bash completion goes to '$got', pkg-config says '$want'" ;; esac
grep -q '^zshcompletiondir = .*zsh/site-functions' "$builddir/Makefile" || fail "zsh completion not under site-functions"

mkdir -p "$WORK/pics"
touch "$WORK/pics/a.heic" "$WORK/pics/b.jpg" "$WORK/pics/notes.txt"
complete_words() { # CWORD WORDS...: prints COMPREPLY, one a line
	local cword=$1
	shift
	bash -c '. /usr/share/bash-completion/bash_completion
		. "$1"; shift
		cword=$1; shift
		COMP_WORDS=("$@"); COMP_CWORD=$cword; COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_kairos_bridge kairos-bridge "${COMP_WORDS[$cword]}" "${COMP_WORDS[$((cword - 1))]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$srcdir/completion/bash/kairos-bridge" "$cword" "$@"
}
complete_words 1 kairos-bridge --js | grep -qx -- --json || fail "--js does not complete to --json"
complete_words 1 kairos-bridge --ssh | grep -qx -- --ssh-config || fail "--ssh does not complete to --ssh-config"
out=$(cd "$WORK/pics" && complete_words 2 kairos-bridge --qr-code-image "")
echo "$out" | grep -qx a.heic || fail "a .heic picture is not offered: $out"
echo "$out" | grep -qx b.jpg || fail "a .jpg picture is not offered: $out"
echo "$out" | grep -qx notes.txt && fail "a .txt file is offered as a picture: $out"
complete_words 2 kairos-bridge --listen 127 | grep -qx 127.0.0.1:0 || fail "--listen does not offer 127.0.0.1:0"

zsh -n "$srcdir/completion/zsh/_kairos-bridge" || fail "the zsh completion does not parse"
head -n 1 "$srcdir/completion/zsh/_kairos-bridge" | grep -qx '#compdef kairos-bridge' || fail "the zsh completion is no #compdef"
# Every option of --help is completed by both.
for o in $("$builddir/kairos-bridge" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	grep -q -- "$o" "$srcdir/completion/bash/kairos-bridge" || fail "bash completion lacks $o"
	grep -q -- "$o" "$srcdir/completion/zsh/_kairos-bridge" || fail "zsh completion lacks $o"
done
pass "bash completion where pkg-config says; options, pictures by extension, --listen forms; zsh completion parses; both know every option"
