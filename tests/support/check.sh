# tests/support/check.sh - assertions for the shell tests, sourced after $tmp is set.
#   run CMD...            run it: sets rc, out (stdout) and err (stderr)
#   expect NAME RC [TEXT] the last run exited RC; when RC != 0, stderr is one line holding TEXT
#   check NAME CMD...     CMD succeeds
#   no_tmp_files DIR      no temporary file (*.tmp.*) left in DIR
#   report_and_exit       prints "N passed, M failed" and exits 0 only when nothing failed
pass=0
fail=0

run() {
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}

ok() {
    pass=$((pass + 1))
}

bad() {
    fail=$((fail + 1))
    echo "FAIL: $1"
    echo "  rc=${rc:-}"
    echo "  stdout: $(head -c 800 "$tmp/out" 2>/dev/null)"
    echo "  stderr: $(head -c 600 "$tmp/err" 2>/dev/null)"
}

expect() {
    local name=$1 want=$2 needle=${3:-}
    if [ "$rc" != "$want" ]; then
        bad "$name: exit $rc, expected $want"
        return
    fi
    if [ "$want" != 0 ]; then
        local lines
        lines=$(printf '%s\n' "$err" | grep -c .)
        if [ "$lines" != 1 ]; then
            bad "$name: $lines lines on stderr, expected one"
            return
        fi
    fi
    if [ -n "$needle" ] && [[ "$err" != *"$needle"* ]]; then
        bad "$name: stderr lacks '$needle'"
        return
    fi
    ok
}

check() {
    local name=$1
    shift
    if "$@"; then ok; else bad "$name"; fi
}

no_tmp_files() {
    ! ls -a "$1" | grep -q '\.tmp\.'
}

report_and_exit() {
    echo "$pass passed, $fail failed"
    [ "$fail" = 0 ]
    exit
}
