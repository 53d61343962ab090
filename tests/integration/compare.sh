#!/usr/bin/env bash
# tests/integration/compare.sh - `flowmimic compare` on the shared captures: a capture against
# itself is all zeros, a capture against its own fitted model is close, --json is valid JSON,
# --plot writes PNGs, and bad inputs get one line and exit 1 or 2.
# Usage: compare.sh FLOWMIMIC SRCDIR    (FM_DUMPS_DIR: the shared captures)
set -u
fm=$1
src=$2
dumps=${FM_DUMPS_DIR:-$src/../shared/traffic_dumps}
export LC_ALL=C TZ=UTC
if [ ! -d "$dumps" ]; then
    echo "skip: no shared captures in $dumps"
    exit 77
fi
command -v jq >/dev/null || {
    echo "compare.sh needs jq"
    exit 1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/support/check.sh
. "$src/tests/support/check.sh"
# jqe FILTER FILE, quietly: the exit status is the check.
jqe() {
    jq -e "$@" >/dev/null
}

h264=$dumps/rtp_h264_video_1dir__saghul_sipp-scenarios.pcap
g729=$dumps/rtp_g729_voice_bidir_vad__trex.pcap
feishu=$dumps/feishu_meeting_video_send_shaped__vca-sense.pcapng
skype=$dumps/skype_call_lan_bidir__radionbik.pcap
tiny=$dumps/mpegts_rtp_vlan_multicast_tiny__tsduck.pcap

# ---- help ----
run "$fm" compare --help
check "--help exit 0" test "$rc" = 0
check "--help names --flow-b" grep -q -- "--flow-b" "$tmp/out"
check "--help has an example" grep -q "flowmimic compare .*\.pcap" "$tmp/out"
cp "$tmp/out" "$tmp/help1"
run "$fm" help compare
check "help compare = compare --help" cmp -s "$tmp/help1" "$tmp/out"
run "$fm" --help
check "compare in the command list" grep -q "^  compare " "$tmp/out"

# ---- a capture against itself: every distance and every delta is exactly 0 ----
for cap in "$h264" "$g729" "$feishu" "$skype"; do
    name=${cap##*/}
    run "$fm" compare --json "$cap" "$cap"
    check "self $name: exit 0" test "$rc" = 0
    check "self $name: valid JSON" jqe . "$tmp/out"
    check "self $name: the local side was compared" \
        jqe '.sides.local.note == null and .sides.local.packets_a > 100' "$tmp/out"
    # Every distance of every compared side, and every delta anywhere, is 0.
    check "self $name: all distances 0" jqe '[.sides[] | select(.note == null) |
        (.payload_length, .iat_s) | .ks, .w1, .jsd, .kl] | length >= 4 and all(. == 0)' \
        "$tmp/out"
    check "self $name: all deltas 0" jqe '[.. | objects | .delta? // empty | .[] |
        select(. != null)] | length > 0 and all(. == 0)' "$tmp/out"
    check "self $name: same time structure" jqe '[.sides[] | .time_a == .time_b] | all' \
        "$tmp/out"
done
run "$fm" compare "$g729" "$g729"
check "table: exit 0" test "$rc" = 0
check "table: both sides and the trace" \
    test "$(grep -cE '^== (local side|remote side|trace)' "$tmp/out")" = 3
check "table: KS row of zeros" grep -qE '^  KS +0\.0000 +0\.0000$' "$tmp/out"
check "table: trace counts 1353 packets" grep -qE '^  packets +1353 +1353 +0$' "$tmp/out"
check "table: no nan" test -z "$(grep -i nan "$tmp/out")"

# ---- a capture against its own fitted model ----
# The model is drawn with a fixed seed, so the numbers are reproducible, not a matter of luck.
# Bound per side and feature: the two-sample KS critical value at alpha = 0.001 for n draws
# against n packets, 1.95 * sqrt(2 / n) (what sampling alone gives a perfect model), plus 0.05
# for the model's own misfit, the fidelity target of bench/README.md section 3.
for cap in "$h264" "$g729" "$feishu" "$skype"; do
    name=${cap##*/}
    run "$fm" estimate -o "$tmp/$name.json" "$cap"
    check "estimate $name" test "$rc" = 0
    run "$fm" compare --json --seed 7 "$cap" "$tmp/$name.json"
    check "model $name: exit 0" test "$rc" = 0
    check "model $name: B is the model" jqe '.b.kind == "model" and .a.kind == "capture"' \
        "$tmp/out"
    check "model $name: as many packets drawn as captured" \
        jqe '[.sides[] | .packets_a == .packets_b] | all' "$tmp/out"
    check "model $name: KS within sampling noise + 0.05" jqe '
        [.sides[] | select(.note == null) |
         (.payload_length.ks <= 1.95 * ((2 / .packets_a) | sqrt) + 0.05),
         (.iat_s.ks <= 1.95 * ((2 / (.packets_a - 1)) | sqrt) + 0.05)] |
        length >= 2 and all' "$tmp/out"
    check "model $name: KS not trivially 0" jqe '.sides.local.payload_length.ks > 0 or
        .sides.local.iat_s.ks > 0' "$tmp/out"
    check "model $name: JSD within 0..ln 2" jqe '[.sides[] | select(.note == null) |
        (.payload_length.jsd, .iat_s.jsd) | . >= 0 and . <= 0.6932] | all' "$tmp/out"
    cp "$tmp/out" "$tmp/seed7.json"
    run "$fm" compare --json --seed 7 "$cap" "$tmp/$name.json"
    check "model $name: --seed replays" cmp -s "$tmp/seed7.json" "$tmp/out"
done
run "$fm" compare --json --seed 8 "$h264" "$tmp/${h264##*/}.json"
check "another --seed draws other packets" \
    test "$(jq .sides.local.iat_s.ks "$tmp/out")" != "$(jq .sides.local.iat_s.ks "$tmp/seed7.json")"
# A side with a sequence model is drawn as a sequence, as generate sends it: the G.729 talk
# spurts' lag-1 autocorrelation of length (0.85 in the capture) survives; --sequence off draws
# each packet on its own, whose autocorrelation over ~677 packets has an sd near 0.04.
run "$fm" compare --json --seed 7 "$g729" "$tmp/${g729##*/}.json"
check "sequence: both sides drawn as sequences" \
    jqe '[.sides[] | .model_draws == "sequence"] | all' "$tmp/out"
check "sequence: the length autocorrelation survives" \
    jqe '[.sides[] | .time_b.acf_length[0] > 0.4] | all' "$tmp/out"
run "$fm" compare --json --seed 7 --sequence off "$g729" "$tmp/${g729##*/}.json"
check "--sequence off: drawn independently" \
    jqe '[.sides[] | .model_draws == "independent"] | all' "$tmp/out"
check "--sequence off: no length autocorrelation" \
    jqe '[.sides[] | .time_b.acf_length[0] | fabs < 0.2] | all' "$tmp/out"
run "$fm" compare --seed 7 "$g729" "$tmp/${g729##*/}.json"
check "the table says the model side is a sequence" \
    grep -q "^== local side: .*(the model's drawn as a sequence)" "$tmp/out"
run "$fm" compare --json "$g729" "$g729"
check "two captures: no model draws" jqe '[.sides[] | .model_draws == null] | all' "$tmp/out"
# The model may be A as well: the draws follow B's counts.
run "$fm" compare --json "$tmp/${g729##*/}.json" "$g729"
check "model as A" jqe '.a.kind == "model" and .sides.remote.packets_a == .sides.remote.packets_b' \
    "$tmp/out"

# Beside a model, a capture's flow is the one the model names, not its largest (issue 11: the
# Linphone call's largest flow is its Opus audio; a model of its VP8 video was compared with
# the audio, KS 0.96). When the model's flow is not in the capture, a warning says so.
linphone=$dumps/sip_linphone_video_call_mixed_flows__mtaa.pcap
run "$fm" estimate --flow 1 -o "$tmp/vp8.json" "$linphone"
check "the VP8 model is of flow 1" grep -q '9078' "$tmp/out"
run "$fm" compare --json "$linphone" "$tmp/vp8.json"
expect "a capture beside its VP8 model" 0
check "the model's flow is compared, not the largest" \
    jqe '.a.flow_index == 1 and .a.flow == .b.flow' "$tmp/out"
check "no warning when the model's flow is there" test ! -s "$tmp/err"
run "$fm" compare --json "$g729" "$tmp/vp8.json"
expect "a capture without the model's flow" 0
check "a warning names the model's flow and what was compared" \
    grep -q "the model's flow 'udp 192.168.1.11:9078 192.168.1.5:9078' is not in '.*rtp_g729.*': comparing its largest" "$tmp/err"

# ---- flow selection ----
run "$fm" compare --json --flow 0 --flow-b 'udp 22.0.0.6:10000 21.0.0.2:10000' "$g729" "$g729"
check "--flow INDEX and --flow-b SPEC (reversed)" jqe '.a.flow == .b.flow and .b.flow_index == 0' \
    "$tmp/out"
# A side with too few packets says so, in words, not NaN.
run "$fm" compare --min-packets 100 "$tiny" "$tiny"
check "too few packets: exit 0" test "$rc" = 0
check "too few packets: a note" grep -q "too few packets to compare: A 16, B 16" "$tmp/out"
check "too few packets: no nan" test -z "$(grep -i nan "$tmp/out")"
run "$fm" compare --json --min-packets 100 "$tiny" "$tiny"
check "too few packets: JSON note and null distances" \
    jqe '.sides.local.note != null and .sides.local.payload_length.ks == null' "$tmp/out"

# ---- --plot ----
if command -v gnuplot >/dev/null; then
    run "$fm" compare --plot "$tmp/plots" "$g729" "$tmp/${g729##*/}.json"
    check "--plot exit 0" test "$rc" = 0
    pngs=("$tmp"/plots/compare-*.png)
    check "--plot: six PNGs (two sides x length, gap, throughput)" test "${#pngs[@]}" = 6
    pair=rtp_g729_voice_bidir_vad__trex-vs-rtp_g729_voice_bidir_vad__trex.pcap
    check "--plot: real PNG files named for both inputs" \
        test "$(head -c 4 "$tmp/plots/compare-$pair-local-iat-cdf.png" | od -An -c | tr -d ' ')" = '211PNG'
    check "--plot: nothing else left behind" test "$(find "$tmp/plots" -mindepth 1 | wc -l)" = 6
    # A second comparison into the same directory adds its own files (issue 11: the names
    # were fixed, so it overwrote the first); quotes in names are drawn, not refused.
    cp "$g729" "$tmp/it's \"cut\".pcap"
    run "$fm" compare --plot "$tmp/plots" "$tmp/it's \"cut\".pcap" "$g729"
    check "--plot with quotes in a name: exit 0" test "$rc" = 0
    check "--plot: the second comparison's six PNGs beside the first's" \
        test "$(find "$tmp/plots" -name '*.png' | wc -l)" = 12
    check "--plot: named for its inputs" \
        test -s "$tmp/plots/compare-it's \"cut\"-vs-rtp_g729_voice_bidir_vad__trex-remote-throughput.png"
fi
run env PATH=/nonexistent "$fm" compare --plot "$tmp/p2" "$g729" "$g729"
expect "--plot without gnuplot" 1 "gnuplot"
check "--plot without gnuplot: nothing written" test ! -e "$tmp/p2/compare-local-length-cdf.png"

# ---- bad inputs: one line, exit 1 (runtime) or 2 (usage) ----
run "$fm" compare "$g729"
expect "one operand" 2 "name two inputs"
run "$fm" compare "$g729" "$g729" "$g729"
expect "three operands" 2 "unexpected argument"
run "$fm" compare --bogus "$g729" "$g729"
expect "unknown option" 2 "try 'flowmimic compare --help'"
run "$fm" compare --flow 'udp 1.2.3.4 5.6.7.8:2' "$g729" "$g729"
expect "bad flow spec" 2 "udp 1.2.3.4 5.6.7.8:2"
run "$fm" compare --bins 1 "$g729" "$g729"
expect "--bins out of range" 2 "--bins"
run "$fm" compare --burst-gap-ms x "$g729" "$g729"
expect "--burst-gap-ms not a number" 2 "--burst-gap-ms"
run "$fm" compare "$g729" "$tmp/missing.pcap"
expect "missing B" 1 "missing.pcap"
printf 'this is not a capture, just some text\n' >"$tmp/text.pcap"
run "$fm" compare "$tmp/text.pcap" "$g729"
expect "not a capture" 1 "text.pcap"
head -c 3000 "$g729" >"$tmp/cut.pcap"
run "$fm" compare "$g729" "$tmp/cut.pcap"
expect "cut capture: its whole packets are compared" 0
check "cut capture: a warning names it" grep -q "cut.pcap' ends in the middle of packet" "$tmp/err"
run "$fm" compare "$g729" "$tmp"
expect "a directory" 1 "$tmp"
printf '{"format": "flowmimic.model", "version": 1, "sides": 3}\n' >"$tmp/bad.json"
run "$fm" compare "$g729" "$tmp/bad.json"
expect "broken model" 1 "bad.json"
run "$fm" compare "$tmp/${g729##*/}.json" "$tmp/${g729##*/}.json"
expect "two models" 2 "both models"
run "$fm" compare --flow-b 0 "$g729" "$tmp/${g729##*/}.json"
expect "flow selection for a model" 2 "drop its flow selection"
run "$fm" compare --flow 'udp 198.18.0.1:1 198.18.0.2:2' "$g729" "$g729"
expect "flow not there" 1 "no flow 'udp 198.18.0.1:1 198.18.0.2:2' in A; 'flowmimic flows $g729' lists them"
run "$fm" compare --flow-b 5 "$g729" "$g729"
expect "flow index out of range" 1 "no flow 5 in B"
check "flow index out of range: names what is there" grep -q "1 flow, 0 to 0, the largest 'udp 21.0.0.2:10000 22.0.0.6:10000'" "$tmp/err"

# ---- a capture from a pipe, and Ctrl-C while it is read ----
# A pipe is taken for a capture (its bytes cannot be peeked at and put back).
run "$fm" compare --json <(cat "$g729") "$g729"
expect "capture from a pipe" 0
check "pipe: all zeros against itself" jqe '[.sides[] | select(.note == null) | (.payload_length, .iat_s) | .ks] | length >= 2 and all(. == 0)' "$tmp/out"
# Ctrl-C while the input stalls half way (a writer that stops): exit 130 at once, one line
# that says so, nothing on stdout. The writer is a background job killed at the end.
mkfifo "$tmp/stall"
(head -c 20000 "$g729" && sleep 20) >"$tmp/stall" &
writer=$!
"$fm" compare "$tmp/stall" "$g729" >"$tmp/out" 2>"$tmp/err" &
pid=$!
sleep 0.5
kill -INT "$pid"
wait "$pid"
rc=$?
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
check "Ctrl-C on a stalled input: exit 130" test "$rc" = 130
check "Ctrl-C: one line, says interrupted" test "$(wc -l <"$tmp/err")" = 1 -a -n "$(grep interrupted "$tmp/err")"
check "Ctrl-C: nothing on stdout" test ! -s "$tmp/out"

report_and_exit
