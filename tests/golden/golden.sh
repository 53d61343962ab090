#!/usr/bin/env bash
# tests/golden/golden.sh - every output flowmimic writes for the shared captures, hashed, and
# compared with tests/golden/expected.txt: the proof that a change meant to keep behaviour
# (a refactoring) kept it to the byte. For each capture: flows (text and JSON), estimate of
# the two largest flows (model JSON), show, generate (pcap, both sides, seeded), compare of
# the capture with its model and with itself, convert to a JSON trace and back to pcap,
# validate, and receive --read. Exit codes are part of what is compared; stderr is not (its
# wording may improve), except that it must not hold a sanitizer report.
# Usage: golden.sh FLOWMIMIC SRCDIR [--update]
#   --update rewrites expected.txt from this build (commit it with the change that meant to
#   change an output, and say which and why in the commit message).
# Only reads files and writes under a temporary directory; sends nothing.
set -u
fm=$1
src=$2
update=${3:-}
export LC_ALL=C TZ=UTC
# The shared captures beside the checkout (FM_DUMPS_DIR overrides). Without them the test
# skips (77), except under CI=true, where a skip would hide a broken checkout.
dumps=$(cd "${FM_DUMPS_DIR:-$src/../shared/traffic_dumps}" 2>/dev/null && pwd) || {
    echo "SKIP: no shared captures at ${FM_DUMPS_DIR:-$src/../shared/traffic_dumps}"
    [ "${CI:-}" = true ] && exit 1
    exit 77
}
expected=$src/tests/golden/expected.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# out NAME CMD...: run CMD, record "NAME rc=RC sha256-of-stdout".
results=$tmp/results.txt
: >"$results"
sanitizer=0
out() {
    local name=$1
    shift
    "$@" >"$tmp/o" 2>"$tmp/e"
    local rc=$?
    if grep -qE 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$tmp/e"; then
        echo "FAIL: $name: sanitizer report"
        head -n 20 "$tmp/e"
        sanitizer=1
    fi
    # Paths differ between checkouts and runs: outputs that quote one say TMP or DUMPS.
    printf '%s rc=%s %s\n' "$name" "$rc" \
        "$(sed -e "s|$tmp|TMP|g" -e "s|$dumps|DUMPS|g" "$tmp/o" | sha256sum | cut -c1-16)" \
        >>"$results"
}
# file NAME PATH: record the file's hash (or "absent").
file() {
    if [ -e "$2" ]; then
        printf '%s file %s\n' "$1" "$(sha256sum <"$2" | cut -c1-16)" >>"$results"
    else
        printf '%s file absent\n' "$1" >>"$results"
    fi
}

for cap in "$dumps"/*.pcap "$dumps"/*.pcapng; do
    [ -e "$cap" ] || continue
    b=$(basename "$cap")
    d=$tmp/$b.d
    mkdir -p "$d"
    out "$b flows" "$fm" flows "$cap"
    out "$b flows-json" "$fm" flows --json "$cap"
    out "$b validate" "$fm" validate --max-errors 50 "$cap"
    out "$b receive-read" "$fm" receive --read "$cap" --json
    out "$b estimate" "$fm" estimate --top 2 -o "$d/" "$cap"
    for m in "$d"/*.json; do
        [ -e "$m" ] || continue
        mb=$b/$(basename "$m")
        file "$mb model" "$m"
        out "$mb show" "$fm" show "$m"
        for side in local both; do
            out "$mb generate-$side" "$fm" generate --side "$side" --count 3000 --seed 7 \
                -o "$d/gen.pcap" "$m"
            file "$mb generate-$side-pcap" "$d/gen.pcap"
            rm -f "$d/gen.pcap"
        done
        out "$mb compare-model" "$fm" compare --seed 3 "$cap" "$m"
    done
    out "$b compare-self" "$fm" compare "$cap" "$cap"
    out "$b convert-json" "$fm" convert --flow 0 "$cap" "$d/trace.json"
    file "$b trace-json" "$d/trace.json"
    if [ -e "$d/trace.json" ]; then
        out "$b convert-pcap" "$fm" convert "$d/trace.json" "$d/back.pcap"
        file "$b trace-pcap" "$d/back.pcap"
    fi
done

if [ "$update" = --update ]; then
    cp "$results" "$expected"
    echo "golden: wrote $(wc -l <"$expected") lines to $expected"
    exit "$sanitizer"
fi
if [ ! -e "$expected" ]; then
    echo "FAIL: no $expected (run golden.sh FLOWMIMIC SRCDIR --update)"
    exit 1
fi
fail=$sanitizer
if ! diff -u "$expected" "$results" >"$tmp/diff"; then
    echo "FAIL: outputs differ from tests/golden/expected.txt (- expected, + now):"
    grep -E '^[-+][^-+]' "$tmp/diff"
    fail=1
fi
n=$(wc -l <"$results")
if [ "$fail" = 0 ]; then
    echo "$n passed, 0 failed"
else
    echo "$((n - $(grep -cE '^\+[^+]' "$tmp/diff"))) passed, $(grep -cE '^\+[^+]' "$tmp/diff") failed"
fi
exit "$fail"
