#!/usr/bin/env bash
# bench/scale.sh - how many video streams one host replays on time: a sweep of
# `flowmimic replay --streams S` over the veth pair with `flowmimic receive` beside it, and the
# bare AF_PACKET sendmmsg loop's rate in the same run as the ceiling.
# Usage: sudo bench/scale.sh   (environment: STREAMS="100 300 1000 3000" DURATION=10
#                               MODELS="h264 hd" TIMER=hybrid RESULTS=file)
# Models: h264, the shared H.264 capture's model (about 0.6 Mbit/s a stream); hd, the TRex
# 160 kbit/s video model played with --rate-scale 15.6 (about 2.5 Mbit/s a stream). For each
# model and stream count: a receiver in the receiving namespace on the model's port, the
# replay in the sending one for DURATION seconds, then replay's own lateness p50/p99/max
# (deadline to send, from its --json) and the receiver's packets and loss. A row is "on time"
# when p99 <= 100 us and the receiver lost nothing (issue 12's bar). Every sender is bounded
# by DURATION and a timeout; the namespaces are deleted on exit.
set -euo pipefail
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=bench/netns.sh
. "$BENCH_DIR/netns.sh"

STREAMS=${STREAMS:-100 300 1000 3000}
DURATION=${DURATION:-10}
MODELS=${MODELS:-h264 hd}
TIMER=${TIMER:-hybrid}
DUMPS_DIR=${DUMPS_DIR:-/work/shared/traffic_dumps}

bench_build af_packet_loop flowmimic
FM=$BUILD_DIR/cli/flowmimic
AFP=$BUILD_DIR/bench/af_packet_loop
command -v jq >/dev/null || die "needs jq (scripts/install-deps.sh)"

work=$(mktemp -d)
NETNS_WORK_DIR=$work
netns_up

"$FM" estimate "$DUMPS_DIR/rtp_h264_video_1dir__saghul_sipp-scenarios.pcap" --seed 1 \
    -o "$work/h264.json" >/dev/null
"$FM" estimate "$DUMPS_DIR/rtp_video_160kbps_1dir__trex.pcap" --seed 1 \
    -o "$work/hd.json" >/dev/null

ceiling() { # pps of the bare sendmmsg loop at payload $1 for 3 s (exit 1: stopped by -t)
    { tx timeout 30 "$AFP" -i "$VETH_TX" -d "$RX_MAC" -m sendmmsg -b 64 -n 100000000 -p "$1" \
        -t 3 || true; } | sed -n 's/.*"pps": *\([0-9.]*\).*/\1/p'
}

echo "scale: bare sendmmsg ceiling" >&2
c200=$(ceiling 200)
c1200=$(ceiling 1200)

rows=()
for m in $MODELS; do
    extra=()
    [[ $m == hd ]] && extra=(--rate-scale 15.6)
    [[ -f $work/$m.json ]] || die "unknown model '$m' (MODELS: h264 hd)"
    port=$(jq -r '.flow.remote.port' "$work/$m.json")
    for s in $STREAMS; do
        echo "scale: $m, $s streams, $DURATION s" >&2
        rx timeout $((DURATION + 30)) "$FM" receive --idle 2 --duration $((DURATION + 20)) \
            --json "$port" >"$work/rx.json" 2>"$work/rx.err" &
        rxpid=$!
        sleep 0.5
        rc=0
        tx timeout $((DURATION + 30)) "$FM" replay --iface "$VETH_TX" --peer "$IP_RX" \
            --streams "$s" --duration "$DURATION" --seed 1 --timer "$TIMER" "${extra[@]}" \
            --json "$work/$m.json" >"$work/tx.json" 2>"$work/tx.err" || rc=$?
        wait "$rxpid" || true
        load=$(cut -d' ' -f1 /proc/loadavg)
        if ! jq -e .packets "$work/tx.json" >/dev/null 2>&1; then
            rows+=("| $m | $s | replay failed (exit $rc): $(tail -n 1 "$work/tx.err") | | | | | | $load |")
            continue
        fi
        read -r sent mbps p50 p99 mx < <(jq -r '[.packets, .mean_mbps, .lateness_us.p50,
            .lateness_us.p99, .lateness_us.max] | map(tostring) | join(" ")' "$work/tx.json")
        # The receiver keeps a bounded number of streams: packets of the others are counted in
        # over_stream_cap, not in any stream (nor as loss).
        read -r got lost cap < <(jq -r '[.packets, .lost, .over_stream_cap] | map(tostring) |
            join(" ")' "$work/rx.json" 2>/dev/null || echo "? ? ?")
        ok=no
        awk -v p="$p99" 'BEGIN { exit !(p <= 100) }' && [[ $lost == 0 && $got == "$sent" ]] && ok=yes
        rows+=("| $m | $s | $sent | $(printf '%.1f' "$mbps") | $p50 | $p99 | $mx | $got / $lost / $cap | $load | $ok |")
    done
done

echo "bare AF_PACKET sendmmsg loop: $(printf '%.0f' "$c200") pps at 200 B, $(printf '%.0f' "$c1200") pps at 1200 B"
echo "replay for $DURATION s per row, timer $TIMER; $(nproc) CPUs"
echo
echo "| model | streams | sent | Mbit/s | lateness p50 us | p99 us | max us | received / lost / over the stream cap | load | on time |"
echo "|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
[[ -z ${RESULTS:-} ]] || printf '%s\n' "${rows[@]}" >"$RESULTS"
