#!/usr/bin/env bash
# bench/rate.sh - send rate on the wire: `flowmimic replay --streams 100` of an always-due
# model against tcpreplay --topspeed and the bare AF_PACKET loop (sendto and sendmmsg).
# Usage: bench/rate.sh   (environment: ROUNDS=5 PACKETS=500000 PAYLOADS="200 1200"
#                         STREAMS=100 TOOLS="af_packet_sendto af_packet_sendmmsg raw4_sendto
#                         raw4_sendmmsg tcpreplay flowmimic flowmimic-l2" RESULTS=file)
# Creates two network namespaces joined by a veth pair (198.18.0.1/24 vethA -> 198.18.0.2/24
# vethB; deleted on exit). Per payload size: a model JSON written here whose payload is one
# atom (the size) and whose IAT is one atom at 1e-6 s, so that with STREAMS streams the
# schedule is always due and flowmimic sends as fast as it can; for tcpreplay a capture of
# PACKETS/5 frames of that size (gen_schedule), preloaded (-K) and looped 5 times. Each round
# runs every tool once per size, interleaved (raw4_sendto: af_packet_loop -m raw4, the same
# frame through a raw IPv4 socket, the kernel path flowmimic's default raw IP mode takes;
# raw4_sendmmsg: the same in sendmmsg batches of 64, that mode's own ceiling;
# flowmimic-l2: the same replay in link-layer mode, --peer-mac, Ethernet frames as tcpreplay); the rate is the tool's own figure, cross-checked
# with vethB's rx_packets counter in the receiving namespace. Every sender is bounded: PACKETS
# packets, 30 s (af_packet_loop -t, flowmimic --duration) and a 60 s timeout.
set -euo pipefail
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=bench/netns.sh
. "$BENCH_DIR/netns.sh"

ROUNDS=${ROUNDS:-5}
PACKETS=${PACKETS:-500000}
PAYLOADS=${PAYLOADS:-200 1200}
STREAMS=${STREAMS:-100}
TOOLS=${TOOLS:-af_packet_sendto af_packet_sendmmsg raw4_sendto raw4_sendmmsg tcpreplay flowmimic flowmimic-l2}
LOOPS=5

"$PY" -c 'import numpy, scipy' 2>/dev/null || die "$PY lacks numpy/scipy (set PY)"
((PACKETS % LOOPS == 0)) || die "PACKETS must be a multiple of $LOOPS"
bench_build gen_schedule af_packet_loop flowmimic
FM_TREE=$(fm_tree)
FM=$BUILD_DIR/cli/flowmimic
GEN=$BUILD_DIR/bench/gen_schedule
AFP=$BUILD_DIR/bench/af_packet_loop

work=$(mktemp -d)
NETNS_WORK_DIR=$work
netns_up

tools=()
for t in $TOOLS; do
    case $t in
    flowmimic | flowmimic-l2)
        if ! grep -q -- --peer <<<"$("$FM" replay --help 2>/dev/null)"; then
            echo "skipping flowmimic: 'flowmimic replay' is not implemented in this build" >&2
            continue
        fi
        ;;
    tcpreplay)
        command -v tcpreplay >/dev/null || {
            echo "skipping tcpreplay: not installed" >&2
            continue
        }
        ;;
    af_packet_sendto | af_packet_sendmmsg | raw4_sendto | raw4_sendmmsg) ;;
    *) die "unknown tool '$t'" ;;
    esac
    tools+=("$t")
done
((${#tools[@]} > 0)) || die "no tool to run"

# The always-due model: every draw is PAYLOAD bytes after 1 us.
write_model() {
    cat >"$2" <<EOF
{
  "format": "flowmimic.model",
  "version": 1,
  "source": {"capture": "bench/rate.sh", "flow": "udp $IP_TX:5004 $IP_RX:5006", "packets": 0},
  "flow": {"proto": "udp", "local": {"ip": "$IP_TX", "port": 5004},
           "remote": {"ip": "$IP_RX", "port": 5006}},
  "sides": {
    "local": {
      "packets": 1000000, "duration_s": 1,
      "payload_length": {"min": $1, "max": $1, "resolution": 1,
                         "atoms": [{"value": $1, "weight": 1}], "components": [], "k": 0},
      "iat": {"scale": "log", "min_s": 1e-06, "max_s": 1e-06, "resolution_s": 1e-06,
              "atoms": [{"value": 1e-06, "weight": 1}], "components": [], "k": 0},
      "headers": {"ttl": 64, "dscp": 0, "rtp": {"payload_type": 96, "marker_ratio": 0}}
    },
    "remote": null
  }
}
EOF
}

for pl in $PAYLOADS; do
    write_model "$pl" "$work/model-$pl.json"
    "$GEN" -d "$RX_MAC" -s "$TX_MAC" -n $((PACKETS / LOOPS)) -g 1 -p "$pl" "$work/frames-$pl.pcap"
done

send() {
    local tool=$1 pl=$2
    case $tool in
    af_packet_sendto)
        tx timeout 60 "$AFP" -i "$VETH_TX" -d "$RX_MAC" -m sendto -n "$PACKETS" -p "$pl" -t 30
        ;;
    af_packet_sendmmsg)
        tx timeout 60 "$AFP" -i "$VETH_TX" -d "$RX_MAC" -m sendmmsg -b 64 -n "$PACKETS" \
            -p "$pl" -t 30
        ;;
    raw4_sendto)
        tx timeout 60 "$AFP" -i "$VETH_TX" -d "$RX_MAC" -m raw4 -n "$PACKETS" -p "$pl" -t 30
        ;;
    raw4_sendmmsg)
        tx timeout 60 "$AFP" -i "$VETH_TX" -d "$RX_MAC" -m raw4mmsg -b 64 -n "$PACKETS" \
            -p "$pl" -t 30
        ;;
    tcpreplay)
        tx timeout 60 tcpreplay -i "$VETH_TX" --topspeed -K --loop="$LOOPS" \
            "$work/frames-$pl.pcap"
        ;;
    flowmimic)
        tx timeout 60 "$FM" replay --iface "$VETH_TX" --peer "$IP_RX" --streams "$STREAMS" \
            --count "$PACKETS" --duration 30 --json "$work/model-$pl.json"
        ;;
    flowmimic-l2)
        tx timeout 60 "$FM" replay --iface "$VETH_TX" --peer "$IP_RX" --peer-mac "$RX_MAC" \
            --streams "$STREAMS" --count "$PACKETS" --duration 30 --json "$work/model-$pl.json"
        ;;
    esac >"$work/out" 2>"$work/err"
}

for ((r = 1; r <= ROUNDS; r++)); do
    for pl in $PAYLOADS; do
        for t in "${tools[@]}"; do
            echo "rate: round $r/$ROUNDS, payload $pl, $t" >&2
            sleep 0.5 # let the receiving side drain the previous run
            before=$(rx_packets)
            rc=0
            send "$t" "$pl" || rc=$?
            sleep 0.5
            after=$(rx_packets)
            # flowmimic's schedule here is always due, so it ends behind it by design: exit 3
            # (BEHIND SCHEDULE) is its normal end in this benchmark, not a failure.
            if [[ $t == flowmimic* && $rc == 3 ]]; then
                rc=0
            fi
            if ((rc != 0)); then
                echo "$t failed at payload $pl (exit $rc):" >&2
                tail -n 5 "$work/err" "$work/out" >&2
            fi
            "$PY" "$BENCH_DIR/wire_analyze.py" rate "$t" "$work/out" --rx $((after - before)) \
                --tag "payload=$pl" --tag "round=$r" --tag "exit=$rc" \
                --tag "load=$(cut -d" " -f1 /proc/loadavg)" >>"$work/runs.jsonl"
        done
    done
done
[[ -z ${RESULTS:-} ]] || cp "$work/runs.jsonl" "$RESULTS"

echo "packets per run: $PACKETS; payloads: $PAYLOADS bytes; flowmimic --streams $STREAMS;" \
    "$ROUNDS rounds, tools interleaved; flowmimic at $FM_TREE"
echo
"$PY" "$BENCH_DIR/report.py" rate "$work/runs.jsonl"
