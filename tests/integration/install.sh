#!/usr/bin/env bash
# tests/integration/install.sh - `cmake --install` into a temporary prefix (issue 11): the
# program runs from there; there is a man page for it and for each command, groff renders
# each without a warning, and each names every option its command's --help lists; bash
# completion completes commands and each command's options.
# Usage: install.sh BUILDDIR
set -u
build=$1
export LC_ALL=C
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/support/check.sh
. "$(dirname "$0")/../support/check.sh"

run cmake --install "$build" --prefix "$tmp/p"
expect "cmake --install" 0
fm=$tmp/p/bin/flowmimic
run "$fm" --version
expect "the installed program runs" 0
man1=$tmp/p/share/man/man1
check "main man page" test -s "$man1/flowmimic.1"
commands=$("$fm" --help | awk '/^Commands:/ {on = 1; next} on && /^$/ {exit} on && $1 != "help" {print $1}')
check "eleven commands" test "$(echo "$commands" | wc -w)" = 11
for c in $commands; do
    page=$man1/flowmimic-$c.1
    check "man page of $c" test -s "$page"
    run groff -man -ww -z "$page"
    check "groff renders $c's page without a warning" test "$rc" = 0 -a ! -s "$tmp/err"
    MANWIDTH=200 man -l "$page" 2>/dev/null >"$tmp/page.txt"
    for o in $("$fm" "$c" --help | grep -oE '^(  |      )(-[a-zA-Z], )?--[a-z0-9-]+' | grep -oE -- '--[a-z0-9-]+'); do
        grep -q -- "$o" "$tmp/page.txt" || bad "$c's man page lacks $o"
    done
done
check "example prompts" test -s "$tmp/p/share/flowmimic/prompts/video.json"

comp=$tmp/p/share/bash-completion/completions/flowmimic
check "bash completion" test -s "$comp"
complete_words() { # complete_words WORD...: what the completion offers for the last word
    bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _flowmimic; printf "%s\n" "${COMPREPLY[@]}"' \
        _ "$comp" "$@"
}
check "completes a command" test "$(complete_words flowmimic est)" = estimate
check "completes an option of estimate" test "$(complete_words flowmimic estimate --max)" = --max-k
check "completes an option after a global one" test "$(complete_words flowmimic -v replay --rate)" = --rate-scale
check "each command's options only" test -z "$(complete_words flowmimic flows --max)"
report_and_exit
