#!/usr/bin/env bash
# tests/integration/build.sh - README's "Building by hand" on a machine without cmocka (only
# `scripts/install-deps.sh --test` installs it): configuring succeeds with a one-line note and
# builds no tests; scripts/test.sh's FM_TESTS_REQUIRED stops instead. cmocka is hidden from
# pkg-config by a directory holding every other .pc file of this machine.
# Usage: build.sh SRCDIR
set -u
src=$1
export LC_ALL=C
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/support/check.sh
. "$src/tests/support/check.sh"

mkdir "$tmp/pc"
IFS=: read -r -a dirs <<<"$(pkg-config --variable pc_path pkg-config)"
for d in "${dirs[@]}"; do
    for f in "$d"/*.pc; do
        [ -e "$f" ] && [ "${f##*/}" != cmocka.pc ] && ln -sf "$f" "$tmp/pc/"
    done
done
check "cmocka is hidden" test ! -e "$tmp/pc/cmocka.pc"
check "libpcap is still seen" test -e "$tmp/pc/libpcap.pc"

run env PKG_CONFIG_LIBDIR="$tmp/pc" cmake -S "$src" -B "$tmp/b"
expect "configure without cmocka" 0
check "a one-line note says tests are not built and how to get them" \
    grep -q "cmocka not found: building without the tests (scripts/install-deps.sh --test installs it)" "$tmp/err"
check "no tests are set up" test ! -e "$tmp/b/CTestTestfile.cmake"
check "the program is set up" test -e "$tmp/b/cli/Makefile"

run env PKG_CONFIG_LIBDIR="$tmp/pc" cmake -S "$src" -B "$tmp/r" -DFM_TESTS_REQUIRED=ON
check "FM_TESTS_REQUIRED stops without cmocka" test "$rc" != 0
check "and says what to install" grep -q "scripts/install-deps.sh --test" "$tmp/err"
report_and_exit
