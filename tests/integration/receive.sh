#!/usr/bin/env bash
# tests/integration/receive.sh - `flowmimic receive` between two network namespaces joined by a
# veth pair (198.18.0.1 sends, 198.18.0.2 receives): counts, loss, probes and one-way delay,
# --json, --write (read back by tcpdump), --count/--duration/--idle, capture mode on the veth,
# Ctrl-C (summary, exit 130, a valid pcap), the kernel's drops beside the RTP loss, the usage
# and runtime errors, and --read of hostile captures (a timestamp past 2262, a link type it
# cannot decode).
# Usage: receive.sh FLOWMIMIC SRCDIR UDPSEND
# Network safety: traffic goes only over the namespaces' veth pair or their loopback (udpsend
# refuses other addresses); every sender is bounded in count and every receiver in time.
set -u
fm=$1
src=$2
udpsend=$3
export LC_ALL=C TZ=UTC
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bg=""

# shellcheck source=../support/netns.sh
. "$src/tests/support/netns.sh"

cleanup() {
    [ -n "$bg" ] && kill "$bg" 2>/dev/null
    netns_cleanup
    rm -rf "$tmp"
}

# shellcheck source=tests/support/check.sh
. "$src/tests/support/check.sh"
# json_has KEY VALUE: the last stdout holds "KEY": VALUE (jw writes one member a line).
json_has() {
    grep -qE "\"$1\": $2,?\$" "$tmp/out"
}

# pcap_count FILE: packets in a pcap file as tcpdump reads them (fails on a broken file).
pcap_count() {
    tcpdump -nr "$1" 2>/dev/null | wc -l
}

# wait_bound PORT: until a UDP socket is bound to PORT in NS_B (at most 5 s).
wait_bound() {
    for _ in $(seq 1 50); do
        in_b ss -Huln "sport = :$1" 2>/dev/null | grep -q . && return 0
        sleep 0.1
    done
    return 1
}

# rx OUTFILE ERRFILE ARGS...: start flowmimic receive in NS_B in the background; bg = its pid.
# `ip netns exec` execs the program, so the pid is flowmimic's and signals reach it.
rx() {
    local o=$1 e=$2
    shift 2
    ip netns exec "$NS_B" "$fm" receive "$@" >"$o" 2>"$e" &
    bg=$!
}

# rx_wait: wait for the background receiver; rc = its exit status.
rx_wait() {
    wait "$bg"
    rc=$?
    bg=""
    err=$(cat "$tmp/err")
}

# ---- usage errors (no network needed) ----
run "$fm" receive
expect "no port" 2 "name a UDP port"
run "$fm" receive 70000
expect "port out of range" 2 "70000"
run "$fm" receive abc
expect "port not a number" 2 "abc"
run "$fm" receive --duration -1 5004
expect "negative duration" 2 "--duration"
run "$fm" receive --count 0 5004
expect "zero count" 2 "--count"
run "$fm" receive --iface lo --bind 127.0.0.1 5004
expect "--bind with --iface" 2 "--bind"
run "$fm" receive --bogus 5004
expect "unknown option" 2 "--bogus"
run "$fm" receive --help
check "--help exits 0" test "$rc" = 0
check "--help names the command" grep -q "Usage: flowmimic receive" "$tmp/out"

# ---- --read of hostile captures (no network needed): one line naming the file, exit 1 ----
# A pcapng block whose timestamp is past year 2262 (found by fuzzing the other reader).
badts=$src/tests/fuzz/corpus/pcap/pcap_in-ts-overflow.pcapng
run "$fm" receive --read "$badts"
expect "--read: timestamp past 2262" 1 \
    "is corrupt at packet 15: its timestamp (17369589463866 s) is out of range"
check "--read: the message names the file" grep -q "pcap_in-ts-overflow.pcapng" "$tmp/err"
# A pcap of link type USER0 (147; libpcap has no name for it), which the receiver cannot
# decode: no empty table, exit 1.
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x93\x00\x00\x00' \
    >"$tmp/user0.pcap"
run "$fm" receive --read "$tmp/user0.pcap"
expect "--read: link type not decoded" 1 "(147) is not supported"
check "--read: names the file" grep -q "user0.pcap" "$tmp/err"
check "--read: no table" test ! -s "$tmp/out"
# A capture whose sequence numbers the receiver reads right, and --json keeps the fields.
run "$fm" receive --read "$src/traffic_dumps/rtp_video_160kbps_1dir__trex.pcap" --json
expect "--read: a capture" 0
check "--read: 1246 packets" json_has packets 1246
check "--read: nothing lost" json_has lost 0
check "--read: no restart" json_has restarts 0
check "--read: no stray" json_has stray 0

# ---- thousands of streams (--read of a generated capture; no network needed) ----
command -v jq >/dev/null || { echo "jq is missing: scripts/install-deps.sh --test"; exit 1; }
model=$src/tests/data/agents/video-model.json
run "$fm" receive --max-streams 0 5004
expect "--max-streams 0" 2 "--max-streams: 0 is out of range (1 to 65536)"
run "$fm" receive --max-streams many 5004
expect "--max-streams not a number" 2 "--max-streams: expected an integer, got 'many'"
run "$fm" receive --max-streams 65537 5004
expect "--max-streams too large" 2 "--max-streams: 65537 is out of range"
check "--help names --max-streams" sh -c "'$fm' receive --help | grep -q -- '--max-streams N'"
# 3000 streams, about 4 packets each, all to be counted by default (the cap is 4096, as many
# as replay sends); every one with too few packets to measure its dynamic clock.
run "$fm" generate --streams 3000 --count 12000 -o "$tmp/many.pcap" "$model"
check "3000 streams generated" test "$rc" = 0
run "$fm" receive --read "$tmp/many.pcap" --json
expect "--read 3000 streams" 0
cp "$tmp/out" "$tmp/many.json"
cp "$tmp/err" "$tmp/many.err"
check "3000 streams: each kept" test "$(jq '.streams | length' "$tmp/many.json")" = 3000
check "3000 streams: every packet in one" \
    test "$(jq '[.streams[].packets] | add' "$tmp/many.json")" = 12000
check "3000 streams: none over the cap" test "$(jq .over_stream_cap "$tmp/many.json")" = 0
check "3000 streams: the cap is 4096" test "$(jq .max_streams "$tmp/many.json")" = 4096
check "3000 streams: distinct sources" \
    test "$(jq '[.streams[] | "\(.src):\(.sport):\(.ssrc)"] | unique | length' "$tmp/many.json")" = 3000
# The streams whose clock was assumed get one line naming how many, the first five and the
# rest; not a line each.
nass=$(jq '[.streams[] | select(.clock_source == "assumed" and .packets > 1)] | length' \
    "$tmp/many.json")
check "3000 streams: most have an assumed clock" test "$nass" -gt 1000
check "3000 streams: one clock warning" test "$(grep -c 'no fixed clock' "$tmp/many.err")" = 1
check "3000 streams: it counts them" \
    grep -q "warning: $nass streams (0, 1, 2, 3, 4 and $((nass - 5)) more): payload type 97 has no fixed clock and their timestamps show none of 8, 16, 48 or 90 kHz" \
    "$tmp/many.err"
check "3000 streams: no line per stream" test "$(grep -c 'stream [0-9]*:' "$tmp/many.err")" = 0
# A lower cap: the first 1000 streams kept, the rest's packets counted apart and named once.
run "$fm" receive --read "$tmp/many.pcap" --max-streams 1000 --json
expect "--read --max-streams 1000" 0
kept=$(jq '[.streams[].packets] | add' "$tmp/out")
check "--max-streams 1000: 1000 streams" test "$(jq '.streams | length' "$tmp/out")" = 1000
check "--max-streams 1000: the cap is said" test "$(jq .max_streams "$tmp/out")" = 1000
check "--max-streams 1000: the rest counted apart" \
    test "$(jq .over_stream_cap "$tmp/out")" = "$((12000 - kept))"
check "--max-streams 1000: one over-cap warning naming the cap and the option" \
    grep -qx "flowmimic: warning: $((12000 - kept)) packets belonged to streams beyond the first 1000 and were not counted (--max-streams N keeps more)" \
    "$tmp/err"
# A few streams keep a line each, as one stream always had; from four on, one line.
"$fm" generate --streams 3 --count 12 -o "$tmp/three.pcap" "$model" >/dev/null
run "$fm" receive --read "$tmp/three.pcap"
check "3 streams: a clock line each" test "$(grep -c 'warning: stream [0-2]: payload type 97 has no fixed clock and its timestamps' "$tmp/err")" = 3
"$fm" generate --streams 4 --count 16 -o "$tmp/four.pcap" "$model" >/dev/null
run "$fm" receive --read "$tmp/four.pcap"
check "4 streams: one clock line" grep -q "warning: 4 streams (0, 1, 2 and 3): payload type 97 has" "$tmp/err"
check "4 streams: no line each" test "$(grep -c 'no fixed clock' "$tmp/err")" = 1

# ---- namespaces ----
netns_setup || {
    echo "FAIL: cannot set up the namespaces"
    exit 1
}
trap cleanup EXIT
command -v tcpdump >/dev/null || echo "note: tcpdump is not installed; pcap files are not read back"
have_tcpdump() {
    command -v tcpdump >/dev/null
}

# A port in use is a one-line runtime error.
rx "$tmp/o1" "$tmp/e1" --duration 5 5004
wait_bound 5004
run in_b "$fm" receive --duration 1 5004
expect "port in use" 1 "5004 is in use"
kill -INT "$bg" 2>/dev/null
wait "$bg"
bg=""
run in_b "$fm" receive --bind 198.51.100.7 --duration 1 5004
expect "address not here" 1 "5004"

# 200 packets, 1 ms apart, with probes: nothing lost, --json fields, pcap with 200 packets.
rx "$tmp/out" "$tmp/err" --duration 20 --count 200 --json -w "$tmp/got.pcap" 5004
wait_bound 5004
in_a "$udpsend" -n 200 -g 1000 -l 300 -s 4242 "$IP_B" 5004
rx_wait
expect "200 packets: exit 0" 0
check "json: mode socket" json_has mode '"socket"'
check "json: 200 packets" json_has packets 200
check "json: nothing lost" json_has lost 0
check "json: 200 probes" json_has probes 200
check "json: source address" json_has src "\"$IP_A\""
check "json: destination address" json_has dst "\"$IP_B\""
check "json: ssrc" json_has ssrc 4242
check "json: payload type" json_has payload_type 96
check "json: 90 kHz clock" json_has clock_rate_hz 90000
check "json: payload length" json_has p50 300
check "json: one-way delay" grep -q '"owd_ms": {' "$tmp/out"
check "json: jitter is a number" grep -qE '"jitter_ms": [0-9.e-]+,?$' "$tmp/out"
check "json: not interrupted" json_has interrupted 0
check "json: written" json_has written 200
check "json: kernel drops beside the loss" json_has kernel_drops 0
check "write: file in place" test -s "$tmp/got.pcap"
check "write: no temporary left" no_tmp_files "$tmp"
if have_tcpdump; then
    check "write: tcpdump reads 200 packets" test "$(pcap_count "$tmp/got.pcap")" = 200
    check "write: UDP from A to B" \
        bash -c "tcpdump -nr '$tmp/got.pcap' 2>/dev/null | head -1 | grep -q '$IP_A.* > $IP_B.5004: UDP, length 300'"
fi
# The one-way delay on one host (both namespaces share the clock) is small and positive.
owd=$(grep -A3 '"owd_ms"' "$tmp/out" | awk '/"min"/ {gsub(",", ""); print $2}')
check "owd min is between 0 and 100 ms" awk -v v="$owd" 'BEGIN {exit !(v >= 0 && v < 100)}'

# --interval: 300 packets over 1.5 s with 10 lost, one line a second, adding up to the summary.
rx "$tmp/out" "$tmp/err" --duration 3 --interval 1 --json 5004
wait_bound 5004
in_a "$udpsend" -n 310 -g 5000 -x 100 -x 101 -x 102 -x 103 -x 104 -x 200 -x 201 -x 202 -x 203 \
    -x 204 "$IP_B" 5004
rx_wait
expect "--interval: exit 0" 0
check "--interval: three intervals of one second" \
    jq -e '(.intervals | length) == 3 and .interval_s == 1 and .intervals[2].end_s == 3' "$tmp/out"
check "--interval: packets and loss add up to the summary" \
    jq -e '([.intervals[].packets] | add) == .packets and ([.intervals[].lost] | add) == .lost and
           .lost == 10' "$tmp/out"

# Loss: sequence numbers 10 and 50 never sent; two streams on two ports; the table.
rx "$tmp/out" "$tmp/err" --duration 20 --count 148 5004 5006
wait_bound 5006
in_a "$udpsend" -n 100 -g 500 -x 10 -x 50 "$IP_B" 5004
in_a "$udpsend" -n 50 -g 500 -s 7 "$IP_B" 5006
rx_wait
expect "two ports: exit 0" 0
check "table: header" grep -q "jitter_ms" "$tmp/out"
check "table: stream to 5004 lost 2 of 100" \
    bash -c "grep -E '^ +0 ' '$tmp/out' | head -1 | awk '\$3 == 5004 && \$6 == 98 && \$8 == 2' | grep -q ."
check "table: stream to 5006 lost none" \
    bash -c "grep -E '^ +1 ' '$tmp/out' | head -1 | awk '\$3 == 5006 && \$6 == 50 && \$8 == 0' | grep -q ."
check "table: kernel drops beside the RTP loss" \
    grep -q "^total: 148 packets, 2 lost by RTP sequence, 0 dropped by the kernel$" "$tmp/out"

# --duration with nothing to receive: exit 0 after about a second, says so.
start=$(date +%s%N)
run in_b "$fm" receive --duration 1 5004
end=$(date +%s%N)
check "empty --duration: exit 0" test "$rc" = 0
check "empty --duration: says no packets" grep -q "no packets" "$tmp/err"
check "empty --duration: about a second" test $(((end - start) / 1000000)) -lt 3000

# --idle: stops soon after the sender does.
rx "$tmp/out" "$tmp/err" --duration 30 --idle 0.5 --json 5004
wait_bound 5004
start=$(date +%s%N)
in_a "$udpsend" -n 20 -g 1000 "$IP_B" 5004
rx_wait
end=$(date +%s%N)
expect "--idle: exit 0" 0
check "--idle: 20 packets" json_has packets 20
check "--idle: stopped well before --duration" test $(((end - start) / 1000000)) -lt 5000

# IPv6 on the namespace's loopback, through the dual-stack socket.
if in_b ip -6 addr show dev lo 2>/dev/null | grep -q '::1'; then
    rx "$tmp/out" "$tmp/err" --duration 20 --count 10 --json 5004
    wait_bound 5004
    in_b "$udpsend" -n 10 -g 100 ::1 5004
    rx_wait
    expect "IPv6: exit 0" 0
    check "IPv6: source ::1" json_has src '"::1"'
    check "IPv6: 10 packets" json_has packets 10
fi

# Ctrl-C: a summary of what came, exit 130, and a complete pcap file.
rx "$tmp/out" "$tmp/err" --duration 60 -w "$tmp/int.pcap" 5004
wait_bound 5004
in_a "$udpsend" -n 50 -g 1000 "$IP_B" 5004
sleep 0.3
kill -INT "$bg"
rx_wait
check "Ctrl-C: exit 130" test "$rc" = 130
check "Ctrl-C: summary of 50 packets" \
    bash -c "grep -E '^ +0 ' '$tmp/out' | head -1 | awk '\$6 == 50' | grep -q ."
check "Ctrl-C: says interrupted" grep -q "interrupted" "$tmp/err"
check "Ctrl-C: no temporary left" no_tmp_files "$tmp"
if have_tcpdump; then
    check "Ctrl-C: tcpdump reads 50 packets" test "$(pcap_count "$tmp/int.pcap")" = 50
fi

# SIGTERM is a stop like Ctrl-C.
rx "$tmp/out" "$tmp/err" --duration 60 --json 5004
wait_bound 5004
in_a "$udpsend" -n 5 -g 1000 "$IP_B" 5004
sleep 0.2
kill -TERM "$bg"
rx_wait
check "SIGTERM: exit 130" test "$rc" = 130
check "SIGTERM: JSON summary says interrupted" json_has interrupted 1
check "SIGTERM: 5 packets" json_has packets 5

# An output file that cannot be created: one line, exit 1, before anything is received.
run in_b "$fm" receive --duration 1 -w "$tmp/no/such/dir/x.pcap" 5004
expect "unwritable --write" 1 "x.pcap"
# A directory as --write: refused at once, not after --duration.
start=$(date +%s%N)
run in_b "$fm" receive --duration 5 -w "$tmp" 5004
end=$(date +%s%N)
expect "--write to a directory" 1 "is a directory"
check "--write to a directory: refused before receiving" test $(((end - start) / 1000000)) -lt 2000

# Capture mode on the veth: no socket, the interface's frames (Ethernet) in the file.
rx "$tmp/out" "$tmp/err" --iface "$IF_B" --count 30 --duration 20 --json -w "$tmp/cap.pcap" \
    5004
sleep 1 # the capture is live once activated; there is no socket to wait for
in_a "$udpsend" -n 30 -g 1000 -l 500 "$IP_B" 5004
rx_wait
expect "capture: exit 0" 0
check "capture: mode pcap" json_has mode '"pcap"'
check "capture: 30 packets" json_has packets 30
check "capture: nothing lost" json_has lost 0
check "capture: payload 500" json_has p50 500
if have_tcpdump; then
    check "capture: tcpdump reads 30 packets" test "$(pcap_count "$tmp/cap.pcap")" = 30
    check "capture: Ethernet frames" \
        bash -c "tcpdump -r '$tmp/cap.pcap' 2>&1 | head -1 | grep -qi 'EN10MB'"
fi
run in_b "$fm" receive --iface nosuchif0 --duration 1 5004
expect "capture: no such interface" 1 "nosuchif0"

report_and_exit
