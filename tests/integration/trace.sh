#!/usr/bin/env bash
# tests/integration/trace.sh - `convert` and `validate` as a user meets them: the example of
# docs/trace.md, the hand-made traces of tests/data/trace (one per rule, one per reading
# error), usage and runtime errors, atomic output, and round trips of real captures
# (pcap -> json -> pcap -> json gives the same JSON; tshark reads what convert wrote).
# Usage: trace.sh FLOWMIMIC SRCDIR [DUMPSDIR]
#   without DUMPSDIR: the project's bundled captures (SRCDIR/traffic_dumps);
#   with DUMPSDIR: every capture in it, and RTP loss compared with tshark's (label dumps).
set -u
fm=$1
src=$2
dumps=${3:-}
export LC_ALL=C TZ=UTC
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
data=$src/tests/data/trace

# shellcheck source=tests/support/check.sh
. "$src/tests/support/check.sh"

have_tshark=0
command -v tshark >/dev/null 2>&1 && have_tshark=1

# Converts $1 (a capture) to JSON and back twice; the two JSON files must be identical.
round_trip() {
    local cap=$1 name=$2 opt=${3:-}
    run "$fm" convert ${opt:+"$opt"} "$cap" "$tmp/$name.json"
    expect "$name: capture to json" 0
    run "$fm" convert "$tmp/$name.json" "$tmp/$name.pcap"
    expect "$name: json to pcap" 0
    run "$fm" convert ${opt:+"$opt"} "$tmp/$name.pcap" "$tmp/$name.2.json"
    expect "$name: pcap to json" 0
    check "$name: round trip keeps every field" cmp -s "$tmp/$name.json" "$tmp/$name.2.json"
    check "$name: packets kept" test "$(grep -c '"ts_sec"' "$tmp/$name.json")" -gt 0
}

if [ -n "$dumps" ]; then
    # ---- every real capture: round trips, and RTP loss against tshark's count ----
    for cap in "$dumps"/*.pcap "$dumps"/*.pcapng; do
        [ -e "$cap" ] || continue
        name=$(basename "${cap%.*}")
        round_trip "$cap" "$name"
        round_trip "$cap" "$name.nopl" --no-payload
        run "$fm" validate --max-errors 0 "$cap"
        check "$name: validate ran (exit 0 or 1)" test "$rc" -le 1
        check "$name: validate summary" grep -q "packets, .* flows" "$tmp/out"
        case $name in
        rtp_g711* | rtp_g729* | rtp_h264* | rtp_video*) ;;
        *) continue ;;
        esac
        # Single-flow RTP captures: the only findings are RTP loss, and as much as tshark's.
        check "$name: only RTP loss reported" test -z "$(grep '^packet' "$tmp/out" | grep -v rtp-seq-gap)"
        ours=$(grep -o '([0-9]* missing)' "$tmp/out" | tr -dc '0-9\n' | awk '{s += $1} END {print s + 0}')
        if [ "$have_tshark" = 1 ]; then
            theirs=$(tshark -r "$cap" -o rtp.heuristic_rtp:TRUE -q -z rtp,streams 2>/dev/null |
                awk '/^ +[0-9.]+ +[0-9.]+ /{for (i = 1; i <= NF; i++) if ($i ~ /^\(/) {v = $(i - 1); if (v > 0) s += v}} END {print s + 0}')
            check "$name: $ours lost as tshark counts ($theirs)" test "$ours" = "$theirs"
            # The frame number named is the one Wireshark shows, with the sequence number said.
            line=$(grep -m1 rtp-seq-gap "$tmp/out")
            if [ -n "$line" ]; then
                frame=$(printf '%s\n' "$line" | sed 's/.*(frame \([0-9]*\))$/\1/')
                got=$(printf '%s\n' "$line" | sed 's/.*, got \([0-9]*\) .*/\1/')
                seen=$(tshark -r "$cap" -o rtp.heuristic_rtp:TRUE -Y "frame.number == $frame" \
                    -T fields -e rtp.seq 2>/dev/null)
                check "$name: frame $frame holds seq $got (tshark: $seen)" test "$seen" = "$got"
            fi
        fi
    done
    report_and_exit
fi

# ---- help ----
run "$fm" help validate
check "validate --help" test "$rc" = 0
# The rule table of docs/trace.md and --help name the same rules (the backquotes are
# Markdown's, not the shell's).
# shellcheck disable=SC2016
awk '/^\| rule \| w \| checks \|/ {on = 1; next} on && !/^\|/ {exit} on && /^\| `/ {print}' \
    "$src/docs/trace.md" | sed 's/^| `\([a-z-]*\)`.*/\1/' >"$tmp/rules.docs"
sed -n '/^names:$/,/^$/p' "$tmp/out" | awk 'NF > 1 {print $1}' >"$tmp/rules.help"
check "docs and --help list the same rules" cmp -s "$tmp/rules.docs" "$tmp/rules.help"
check "19 rules" test "$(wc -l <"$tmp/rules.help")" = 19
run "$fm" convert --help
check "convert --help has an example" grep -q "flowmimic convert" "$tmp/out"
run "$fm" --help
check "--help lists convert and validate" test "$(grep -c -E '^  (convert|validate) ' "$tmp/out")" = 2

# ---- the example of docs/trace.md ----
awk '/^## Example/ {on = 1} on && /^```json/ {grab = 1; next} grab && /^```/ {exit} grab' \
    "$src/docs/trace.md" >"$tmp/example.json"
check "example extracted" grep -q '"flowmimic.trace"' "$tmp/example.json"
run "$fm" validate "$tmp/example.json"
expect "docs example is valid" 0
check "docs example: summary says valid" grep -q ": valid$" "$tmp/out"
run "$fm" convert "$tmp/example.json" "$tmp/example.pcap"
expect "docs example to pcap" 0
run "$fm" validate "$tmp/example.pcap"
expect "the pcap of the example is valid" 0
if [ "$have_tshark" = 1 ]; then
    tshark -r "$tmp/example.pcap" -d udp.port==5006,rtp -o udp.check_checksum:TRUE \
        -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -T fields -e rtp.seq \
        -e rtp.timestamp -e rtp.ssrc -e rtp.marker -e rtp.p_type -e udp.checksum.status \
        -e tcp.checksum.status -e ip.checksum.status 2>/dev/null | tr '\t' ' ' >"$tmp/tshark"
    check "tshark: RTP fields as written" test "$(grep -c '^1[789] 9' "$tmp/tshark")" = 3
    check "tshark: seq 19" grep -q '^19 93004 0x12345678 1 96 1  1$' "$tmp/tshark"
    check "tshark: every checksum good" test "$(grep -c ' 1$' "$tmp/tshark")" = 7
    check "tshark: no bad checksum" test -z "$(grep -E ' (0|2)( |$)' "$tmp/tshark" | grep -v '^1[789]')"
fi
run "$fm" convert "$tmp/example.pcap" "$tmp/example.2.json"
expect "example back to json" 0
run "$fm" convert "$tmp/example.2.json" "$tmp/example.2.pcap"
run "$fm" convert "$tmp/example.2.pcap" "$tmp/example.3.json"
check "example: second trip identical" cmp -s "$tmp/example.2.json" "$tmp/example.3.json"
check "example: the payload given survives" grep -q '"payload":"80e0001300016b4c12345678deadbeef"' "$tmp/example.2.json"

# ---- one invalid trace per error rule, one valid trace per warning, the valid ones ----
# Errors are malformed or impossible packets: exit 1. Warnings are what a network does or a
# capture of part of one shows (issue 11: loss, retransmissions, a connection seen from its
# middle, an IP fragment): the trace is valid, exit 0.
for f in "$data"/invalid_*.json; do
    rule=$(basename "$f" .json)
    rule=${rule#invalid_}
    run "$fm" validate "$f"
    check "$rule: exit 1" test "$rc" = 1
    check "$rule: reported as 'packet N: $rule: expected X, got Y'" \
        grep -q "^packet [0-9]*: $rule: expected .*, got " "$tmp/out"
    check "$rule: summary" grep -q "invalid: [0-9]* errors\? (.*$rule [0-9]" "$tmp/out"
done
for f in "$data"/warn_*.json; do
    rule=$(basename "$f" .json)
    rule=${rule#warn_}
    run "$fm" validate "$f"
    check "$rule: a warning, exit 0" test "$rc" = 0
    check "$rule: reported as 'packet N: warning: $rule: expected X, got Y'" \
        grep -q "^packet [0-9]*: warning: $rule: expected .*, got " "$tmp/out"
    check "$rule: summary" grep -q ": valid, [0-9]* warnings\? (.*$rule [0-9]" "$tmp/out"
done
check "every rule has an invalid or a warning trace" test \
    "$(ls "$data"/invalid_*.json "$data"/warn_*.json | sed 's/.*_//; s/.json$//' | sort -u | wc -l)" = \
    "$("$fm" validate --help | awk '/^names:$/ {on = 1; next} on && /^$/ {exit} on {n++} END {print n}')"
for f in "$data"/valid_*.json; do
    run "$fm" validate "$f"
    expect "$(basename "$f") is valid" 0
done
run "$fm" validate --json "$data/invalid_tcp-flags.json"
check "--json: exit 1" test "$rc" = 1
check "--json parses" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["result"] == "invalid" and d["by_rule"] == {"tcp-flags": 3} and d["errors_total"] == 3 and d["warnings_total"] == 0 and len(d["violations"]) == 3 and d["violations"][0]["packet"] == 4 and d["violations"][0]["severity"] == "error"' "$tmp/out"
run "$fm" validate --json "$data/warn_tcp-seq.json"
check "--json of a warning: exit 0" test "$rc" = 0
check "--json of a warning: valid, its severity" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["result"] == "valid" and d["warnings_total"] == 1 and d["warnings_by_rule"] == {"tcp-seq": 1} and d["violations"][0]["severity"] == "warning"' "$tmp/out"
run "$fm" validate --max-errors 1 "$data/invalid_tcp-flags.json"
check "--max-errors 1: one line" test "$(grep -c '^packet' "$tmp/out")" = 1
check "--max-errors 1: the summary counts all" grep -q "3 errors (tcp-flags 3); the first 1 shown" "$tmp/out"
run "$fm" validate --max-errors -1 "$data/valid_tcp_rtp.json"
expect "--max-errors -1" 2 "--max-errors"

# ---- reading errors: one line naming the file, the packet and the field ----
while IFS='|' read -r name part; do
    run "$fm" validate "$data/bad_$name.json"
    expect "bad_$name" 1 "bad_$name.json: $part"
    run "$fm" convert "$data/bad_$name.json" "$tmp/bad_$name.pcap"
    expect "convert bad_$name" 1 "bad_$name.json: $part"
    check "convert bad_$name: no output" test ! -e "$tmp/bad_$name.pcap"
done <<'EOF'
not_json|not JSON (line 3, column
unknown_field|packet 1: dcsp: is not a known field
wrong_type|packet 1: src_port: must be an integer, not a string
missing_field|packet 1: dst: is missing
ts_nsec|packet 1: ts_nsec: 1000000000 is out of range 0..999999999
port|packet 1: dst_port: 70000 is out of range 0..65535
hex_odd|packet 1: payload: hex text has an odd number of digits
hex_length|packet 1: payload: holds 2 bytes but payload_length is 4
proto|packet 1: proto: "icmp" is not "udp" or "tcp"
address|packet 1: dst: '198.18.0.256' is not an IPv4 or IPv6 address
tcp_flags|packet 1: tcp.flags: 'Y' is not a flag letter
format|not a flowmimic packet trace
EOF

# ---- usage and runtime errors of convert ----
good=$data/valid_tcp_rtp.json
run "$fm" convert
expect "convert without files" 2 "name an input and an output"
run "$fm" convert "$good" "$tmp/a.pcap" extra
expect "convert, three files" 2 "unexpected argument 'extra'"
cp "$good" "$tmp/same.json"
run "$fm" convert "$tmp/same.json" "$tmp/same.json"
expect "convert onto its input" 2 "is the input file"
ln -s "$tmp/same.json" "$tmp/link.pcap"
run "$fm" convert "$tmp/same.json" "$tmp/link.pcap"
expect "convert onto its input through a link" 2 "is the input file"
check "input untouched" cmp -s "$good" "$tmp/same.json"
run "$fm" convert "$good" -
expect "convert to stdout" 2 "instead of '-'"
run "$fm" convert "$good" "$tmp/x.pcapng"
expect "pcapng output" 2 "not pcapng"
run "$fm" convert "$good" "$tmp/x.json"
expect "json to json" 2 "both JSON"
run "$fm" convert --no-payload "$good" "$tmp/x.pcap"
expect "--no-payload on json" 2 "--no-payload applies to capture input"
run "$fm" convert --flow 0 "$good" "$tmp/x.pcap"
expect "--flow on json" 2 "--flow applies to capture input"
printf 'hello\n' >"$tmp/hello.txt"
run "$fm" convert "$tmp/hello.txt" "$tmp/x.pcap"
expect "neither json nor pcap" 1 "cannot tell which way to convert"
run "$fm" validate "$tmp/hello.txt"
expect "validate: neither json nor pcap" 1 "cannot tell what"
run "$fm" convert "$tmp/missing.json" "$tmp/x.pcap"
expect "missing input" 1 "missing.json"
run "$fm" convert "$good" "$tmp/nodir/x.pcap"
expect "output directory missing" 1 "nodir/x.pcap"
run "$fm" validate
expect "validate without a file" 2 "name a JSON trace or a capture"
check "no output left behind" test ! -e "$tmp/x.pcap" -a ! -e "$tmp/x.json"
check "no temporary files" no_tmp_files "$tmp"
# A failed conversion leaves an existing output as it was.
run "$fm" convert "$good" "$tmp/keep.pcap"
cp "$tmp/keep.pcap" "$tmp/keep.orig"
run "$fm" convert "$data/bad_port.json" "$tmp/keep.pcap"
check "failed convert keeps the old output" cmp -s "$tmp/keep.pcap" "$tmp/keep.orig"
# No permission to write the output (as nobody, since root writes anywhere): one line that
# names the file, nothing created, nothing left behind.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    mkdir "$tmp/ro"
    cp "$good" "$tmp/in.json"
    chmod 755 "$tmp" "$tmp/ro"
    chmod 644 "$tmp/in.json"
    run setpriv --reuid=65534 --regid=65534 --clear-groups "$fm" convert "$tmp/in.json" \
        "$tmp/ro/x.pcap"
    expect "no permission to write" 1 "ro/x.pcap"
    check "no permission: nothing written" test -z "$(ls -A "$tmp/ro")"
fi
# Ctrl-C while converting a large capture: exit 130, and the output is either absent or
# whole (written through a temporary renamed into place), never a fragment.
run "$fm" generate --count 200000 -o "$tmp/big.pcap" "$src/tests/data/agents/video-model.json"
"$fm" convert --no-payload "$tmp/big.pcap" "$tmp/big.json" >"$tmp/out" 2>"$tmp/err" &
pid=$!
sleep 0.2
kill -INT "$pid"
wait "$pid"
rc=$?
check "Ctrl-C: exit 130" test "$rc" = 130
check "Ctrl-C: says interrupted" grep -q "interrupted" "$tmp/err"
check "Ctrl-C: no temporary left" no_tmp_files "$tmp"
if [ -e "$tmp/big.json" ]; then
    check "Ctrl-C: an output left is whole" python3 -c \
        'import json,sys; assert len(json.load(open(sys.argv[1]))["packets"]) == 200000' \
        "$tmp/big.json"
fi
rm -f "$tmp/big.pcap" "$tmp/big.json"
# A pipe is a capture, streamed (packet/sniff.h's one rule): validate reads it as it reads
# the file. One that stalls half way is stopped by Ctrl-C: exit 130, one line, nothing left.
cap=$src/traffic_dumps/rtp_g729_voice_bidir_vad__trex.pcap
run "$fm" validate <(cat "$cap")
expect "validate on a pipe" 0
run "$fm" validate <(cat "$good")
expect "a JSON trace on a pipe: save it first" 1 "save it to a file first"
mkfifo "$tmp/stall"
(head -c 3000 "$cap" && sleep 20) >"$tmp/stall" &
writer=$!
"$fm" validate "$tmp/stall" >"$tmp/out" 2>"$tmp/err" &
vpid=$!
sleep 1
kill -INT "$vpid"
for _ in $(seq 1 50); do kill -0 "$vpid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$vpid" 2>/dev/null; then
    kill -KILL "$vpid"
    bad "validate on a stalled pipe: still running 5 s after Ctrl-C"
fi
wait "$vpid"
rc=$?
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
err=$(cat "$tmp/err")
expect "validate on a stalled pipe: Ctrl-C" 130 "interrupted"
rm -f "$tmp/stall"
# An output of unknown extension goes the only way it can.
run "$fm" convert "$good" "$tmp/trace.out"
expect "unknown extension" 0
run "$fm" convert --json "$tmp/trace.out" "$tmp/trace.back.json"
check "--json summary" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["input_format"] == "pcap" and d["output_format"] == "json" and d["packets"] == 14' "$tmp/out"

# ---- the bundled captures ----
video=$src/traffic_dumps/rtp_video_160kbps_1dir__trex.pcap
g729=$src/traffic_dumps/rtp_g729_voice_bidir_vad__trex.pcap
round_trip "$g729" g729
round_trip "$g729" g729.nopl --no-payload
check "--no-payload: no payload written" test -z "$(grep '"payload":' "$tmp/g729.nopl.json")"
round_trip "$video" video
run "$fm" validate "$g729"
expect "G.729 capture is valid" 0
run "$fm" validate "$tmp/g729.json"
expect "G.729 trace is valid" 0
run "$fm" flows --json "$g729"
spec=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["flow"])' "$tmp/out")
run "$fm" convert --flow "$spec" "$g729" "$tmp/spec.json"
expect "--flow SPEC" 0
run "$fm" convert --flow 0 "$g729" "$tmp/index.json"
expect "--flow INDEX" 0
check "--flow SPEC = --flow INDEX" cmp -s "$tmp/spec.json" "$tmp/index.json"
run "$fm" convert --flow 5 "$g729" "$tmp/none.json"
expect "--flow out of range" 1 "flow 5 is not in"
run "$fm" convert --flow 'udp 1.2.3.4' "$g729" "$tmp/none.json"
expect "--flow bad spec" 2 "udp 1.2.3.4"
check "no output after a --flow error" test ! -e "$tmp/none.json"
if [ "$have_tshark" = 1 ]; then
    n_ours=$(grep -c '"rtp"' "$tmp/video.json")
    n_tshark=$(tshark -r "$tmp/video.pcap" -o rtp.heuristic_rtp:TRUE -Y rtp 2>/dev/null | wc -l)
    check "tshark sees our $n_ours RTP packets in the written video pcap ($n_tshark)" test "$n_ours" = "$n_tshark"
fi
report_and_exit
