#!/usr/bin/env bash
# bench/scale.sh - how many video streams one host replays on time: a sweep of
# `flowmimic replay --streams S` over the veth pair with `flowmimic receive` beside it, the
# bare AF_PACKET sendmmsg loop's rate in the same run as the ceiling, and the bare deadline
# loop on the same schedule as the floor of lateness.
# Usage: sudo bench/scale.sh   (environment: STREAMS="100 300 1000 3000" DURATION=10
#                               MODELS="h264 hd" HD_MBPS=2.5 TIMER=hybrid LINK=auto REALTIME=0
#                               FLOOR_DURATION=10 FLOOR_MAX_PACKETS=1500000 RESULTS=file)
# Models: h264, the shared H.264 capture's model as fitted (0.31 Mbit/s of UDP payload, 43
# packets a second, a stream); hd, the TRex 160 kbit/s video model's rate scaled to HD_MBPS
# Mbit/s of UDP payload a stream (the scale replay --mbps computes, shown in its plan). For each
# model and stream count: a receiver in the receiving namespace on the model's port, the
# replay in the sending one for DURATION seconds, then replay's own lateness p50/p99/max
# (deadline to send, from its --json) and the receiver's packets and loss. A row is "on time"
# when p99 <= 100 us and the receiver lost nothing (issue 12's bar). LINK=auto plays in
# link-layer mode (--peer-mac auto, the fastest path; LINK= for raw IP mode), REALTIME=1 adds
# --realtime. The floor: `flowmimic generate` writes the same schedule (FLOOR_DURATION
# seconds; skipped above FLOOR_MAX_PACKETS) and bench/deadline_loop sends it with nothing
# else in its loop (one sendto() per packet at its deadline, same timer, same receiver
# beside it): the lateness that any sender on this machine gets at that load. Every sender
# is bounded by DURATION and a timeout; the namespaces are deleted on exit.
set -euo pipefail
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=bench/netns.sh
. "$BENCH_DIR/netns.sh"

STREAMS=${STREAMS:-100 300 1000 3000}
DURATION=${DURATION:-10}
MODELS=${MODELS:-h264 hd}
TIMER=${TIMER:-hybrid}
HD_MBPS=${HD_MBPS:-2.5}
LINK=${LINK-auto}
REALTIME=${REALTIME:-0}
FLOOR_DURATION=${FLOOR_DURATION:-10}
FLOOR_MAX_PACKETS=${FLOOR_MAX_PACKETS:-1500000}
DUMPS_DIR=${DUMPS_DIR:-/work/shared/traffic_dumps}

bench_build af_packet_loop deadline_loop flowmimic
FM=$BUILD_DIR/cli/flowmimic
AFP=$BUILD_DIR/bench/af_packet_loop
DLOOP=$BUILD_DIR/bench/deadline_loop
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

mode=()
[[ -z $LINK ]] || mode+=(--peer-mac "$LINK")
dl_mode=()
if [[ $REALTIME == 1 ]]; then
    mode+=(--realtime)
    dl_mode+=(-R)
fi

# floor MODEL_JSON STREAMS PORT: the bare deadline loop's lateness on the same schedule, with a
# receiver beside it: "p50 p99 max" in us, or "- - -" when skipped.
floor() {
    local pps n
    pps=$(jq -r '.sides.local | (.packets - 1) / .duration_s' "$1")
    n=$(awk -v p="$pps" -v s="$2" -v d="$FLOOR_DURATION" -v r="$rscale" \
        'BEGIN { printf "%d", p * s * d * r }')
    if ((n > FLOOR_MAX_PACKETS)); then
        echo "- - -"
        return
    fi
    "$FM" generate "$1" --streams "$2" --duration "$FLOOR_DURATION" --seed 1 "${extra[@]}" \
        --src "$IP_TX" --dst "$IP_RX" -o "$work/floor.pcap" >/dev/null 2>&1 || {
        echo "- - -"
        return
    }
    rx timeout $((FLOOR_DURATION + 30)) "$FM" receive --idle 2 --duration $((FLOOR_DURATION + 20)) \
        "$3" >/dev/null 2>&1 &
    local rxpid=$!
    sleep 0.5
    tx timeout $((FLOOR_DURATION + 60)) "$DLOOP" "${dl_mode[@]}" -t $((FLOOR_DURATION + 5)) \
        "$work/floor.pcap" >"$work/floor.json" 2>/dev/null || true
    wait "$rxpid" || true
    rm -f "$work/floor.pcap"
    jq -r '[.p50_late_us, .p99_late_us, .worst_late_us] | map(tostring) | join(" ")' \
        "$work/floor.json" 2>/dev/null || echo "- - -"
}

rows=()
hd_note=
for m in $MODELS; do
    extra=()
    rscale=1
    if [[ $m == hd ]]; then
        # The rate scale that makes one stream HD_MBPS: replay's own --mbps, read off its plan.
        rscale=$("$FM" replay --dry-run --streams 1 --mbps "$HD_MBPS" "$work/hd.json" |
            sed -n 's/.*, rate x\([0-9.e+-]*\),.*/\1/p')
        [[ -n $rscale ]] || die "cannot scale the hd model to $HD_MBPS Mbit/s"
        extra=(--rate-scale "$rscale")
        hd_note="; hd: $HD_MBPS Mbit/s a stream (--rate-scale $rscale)"
    fi
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
            "${mode[@]}" --json "$work/$m.json" >"$work/tx.json" 2>"$work/tx.err" || rc=$?
        wait "$rxpid" || true
        load=$(cut -d' ' -f1 /proc/loadavg)
        if ! jq -e .packets "$work/tx.json" >/dev/null 2>&1; then
            rows+=("| $m | $s | replay failed (exit $rc): $(tail -n 1 "$work/tx.err") | | | | | | | $load |")
            continue
        fi
        echo "scale: $m, $s streams, the bare deadline loop ($FLOOR_DURATION s)" >&2
        read -r f50 f99 fmax < <(floor "$work/$m.json" "$s" "$port")
        read -r sent mbps p50 p99 mx < <(jq -r '[.packets, .mean_mbps, .lateness_us.p50,
            .lateness_us.p99, .lateness_us.max] | map(tostring) | join(" ")' "$work/tx.json")
        # The receiver keeps a bounded number of streams: packets of the others are counted in
        # over_stream_cap, not in any stream (nor as loss).
        read -r got lost cap < <(jq -r '[.packets, .lost, .over_stream_cap] | map(tostring) |
            join(" ")' "$work/rx.json" 2>/dev/null || echo "? ? ?")
        ok=no
        awk -v p="$p99" 'BEGIN { exit !(p <= 100) }' && [[ $lost == 0 && $got == "$sent" ]] && ok=yes
        rows+=("| $m | $s | $sent | $(printf '%.1f' "$mbps") | $p50 | $p99 | $mx | $f50 / $f99 / $fmax | $got / $lost / $cap | $load | $ok |")
    done
done

echo "bare AF_PACKET sendmmsg loop: $(printf '%.0f' "$c200") pps at 200 B, $(printf '%.0f' "$c1200") pps at 1200 B"
how="raw IP mode"
[[ -z $LINK ]] || how="link-layer mode"
echo "replay for $DURATION s per row, timer $TIMER, $how${mode[*]:+ (${mode[*]})}; the bare" \
    "deadline loop for $FLOOR_DURATION s${dl_mode[*]:+ (-R)}; $(nproc) CPUs$hd_note"
echo
echo "| model | streams | sent | Mbit/s | lateness p50 us | p99 us | max us | bare deadline loop p50 / p99 / max us | received / lost / over the stream cap | load | on time |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
[[ -z ${RESULTS:-} ]] || printf '%s\n' "${rows[@]}" >"$RESULTS"
