#!/usr/bin/env bash
# bench/soak.sh - a long run: `flowmimic replay` and `flowmimic receive` between two network
# namespaces for DURATION seconds at RATE packets per second, reporting every 10 s what each
# side saw (replay: packets, late packets, worst lateness; receive: packets, lost, jitter)
# and both processes' resident memory, then the summaries. The result to look for: memory
# flat after the first interval, 0 lost, the same packet count on both sides.
# Usage: bench/soak.sh   (environment: DURATION=600 RATE=10000 STREAMS=40 EVERY=10
#                         MODEL=path (default: a model of the bundled TRex video capture))
# Network safety: the traffic stays on the veth pair of the two namespaces this script
# creates (198.18.0.1 -> 198.18.0.2, deleted on exit); replay is bounded by --duration and
# receive by --duration (DURATION + 5 s); both are killed on exit.
set -euo pipefail
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=bench/netns.sh
. "$BENCH_DIR/netns.sh"

DURATION=${DURATION:-600}
RATE=${RATE:-10000}
STREAMS=${STREAMS:-40}
EVERY=${EVERY:-10}
PORT=5004
command -v jq >/dev/null || die "needs jq"
bench_build flowmimic
FM=$BUILD_DIR/cli/flowmimic

work=$(mktemp -d)
NETNS_WORK_DIR=$work
netns_up
model=${MODEL:-}
if [[ -z $model ]]; then
    model=$work/video.json
    "$FM" estimate -o "$model" "$ROOT_DIR/traffic_dumps/rtp_video_160kbps_1dir__trex.pcap" \
        >/dev/null
fi
# The rate scale that makes STREAMS streams of the model send RATE packets per second.
pps=$(jq '.sides.local.packets / .sides.local.duration_s' "$model")
scale=$(awk -v r="$RATE" -v s="$STREAMS" -v p="$pps" 'BEGIN { printf "%.6g", r / s / p }')

rpid= spid=
stop_all() {
    [[ -z $spid ]] || kill "$spid" 2>/dev/null || true
    [[ -z $rpid ]] || kill "$rpid" 2>/dev/null || true
    netns_down
    rm -rf "$work"
}
trap stop_all EXIT

# Not through rx/tx: a function in the background is a subshell, and $! would be its pid.
ip netns exec "$NS_RX" "$FM" receive --duration $((DURATION + 5)) --interval "$EVERY" --json "$PORT" \
    >"$work/rx.json" 2>"$work/rx.err" &
rpid=$!
sleep 1
ip netns exec "$NS_TX" "$FM" replay -i "$VETH_TX" --peer "$IP_RX" --dst-port "$PORT" --streams "$STREAMS" \
    --rate-scale "$scale" --duration "$DURATION" --interval "$EVERY" --json "$model" \
    >"$work/tx.json" 2>"$work/tx.err" &
spid=$!

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
echo "soak: $STREAMS streams of $(basename "$model") x $scale = $RATE pps for $DURATION s;" \
    "load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
printf '%6s %12s %12s %10s\n' t_s replay_rss_kb receive_rss_kb load1
t=0
while kill -0 "$spid" 2>/dev/null; do
    sleep "$EVERY"
    t=$((t + EVERY))
    printf '%6d %12s %12s %10s\n' "$t" "$(rss_kb "$spid")" "$(rss_kb "$rpid")" \
        "$(cut -d' ' -f1 /proc/loadavg)"
done
wait "$spid" || echo "replay exited $?"
spid=
wait "$rpid" || echo "receive exited $?"
rpid=

echo
echo "replay, per interval:"
jq -r '.intervals[] | "\(.start_s)-\(.end_s) s  \(.packets) packets  \(.late) late  worst \(.late_max_us) us"' \
    "$work/tx.json"
echo "receive, per interval:"
jq -r '.intervals[] | "\(.start_s)-\(.end_s) s  \(.packets) packets  \(.lost) lost  jitter \(.jitter_ms) ms"' \
    "$work/rx.json"
echo
jq -r '"replay: \(.packets) packets, lateness p50 \(.lateness_us.p50) us p99 \(.lateness_us.p99) us max \(.lateness_us.max) us, \(.late) late, \(.errors) errors, behind_schedule \(.behind_schedule)"' \
    "$work/tx.json"
jq -r '"receive: \(.packets) packets in \(.streams | length) streams, \(.lost) lost, \(.kernel_drops) dropped by the kernel"' \
    "$work/rx.json"
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
