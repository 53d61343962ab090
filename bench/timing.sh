#!/usr/bin/env bash
# bench/timing.sh - timing on the wire: `flowmimic replay CAPTURE` against tcpreplay at recorded
# speed and the bare absolute-deadline loop, on two fixed schedules, over a veth pair.
# Usage: bench/timing.sh   (environment: ROUNDS=5 PACKETS=10000 SCHEDULES="fixed100 exp1000"
#                           TOOLS="deadline flowmimic tcpreplay" TIMER=hybrid RESULTS=file)
# Creates two network namespaces joined by a veth pair (198.18.0.1/24 vethA -> 198.18.0.2/24
# vethB; deleted on exit), writes the schedules with gen_schedule (PACKETS Ethernet/IPv4/UDP
# frames 198.18.0.1:5004 -> 198.18.0.2:5006, 200-byte payload, seed 1): "fixed100" one every
# 100 us, "exp1000" exponential gaps of mean 1 ms. Each round sends every schedule with every
# tool, one after the other, while tcpdump in the receiving namespace writes nanosecond
# timestamps (started before the sender, stopped after it); wire_analyze.py matches arrivals
# to schedule slots by the packet index in the payload and scores them; report.py prints
# medians over rounds. Every sender is bounded: PACKETS packets and a 120 s timeout.
#   deadline   bench/deadline_loop: UDP socket, clock_nanosleep to 200 us before each
#              deadline with 1 ns timer slack, then spin
#   flowmimic  flowmimic replay --iface vethA --peer 198.18.0.2 --timer TIMER --json CAPTURE
#   tcpreplay  tcpreplay -i vethA CAPTURE (recorded speed, link-layer frames)
#   deadline-rt, flowmimic-rt  the same with SCHED_FIFO (deadline_loop -R, flowmimic replay
#              --realtime): on a shared machine they show what is left when other tasks
#              cannot take the CPU away (not in the default TOOLS)
set -euo pipefail
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=bench/netns.sh
. "$BENCH_DIR/netns.sh"

ROUNDS=${ROUNDS:-5}
PACKETS=${PACKETS:-10000}
SCHEDULES=${SCHEDULES:-fixed100 exp1000}
TOOLS=${TOOLS:-deadline flowmimic tcpreplay}
TIMER=${TIMER:-hybrid}
SEND_TIMEOUT=120

"$PY" -c 'import numpy, scipy' 2>/dev/null || die "$PY lacks numpy/scipy (set PY)"
command -v tcpdump >/dev/null || die "needs tcpdump"
bench_build gen_schedule deadline_loop flowmimic
FM_TREE=$(fm_tree)
FM=$BUILD_DIR/cli/flowmimic
GEN=$BUILD_DIR/bench/gen_schedule
DL=$BUILD_DIR/bench/deadline_loop

work=$(mktemp -d)
NETNS_WORK_DIR=$work
netns_up

tools=()
for t in $TOOLS; do
    case $t in
    flowmimic | flowmimic-rt)
        # A placeholder subcommand prints nothing; a real one prints its usage.
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
    deadline | deadline-rt) ;;
    *) die "unknown tool '$t'" ;;
    esac
    tools+=("$t")
done
((${#tools[@]} > 0)) || die "no tool to run"

for s in $SCHEDULES; do
    case $s in
    fixed*) "$GEN" -d "$RX_MAC" -s "$TX_MAC" -n "$PACKETS" -g "${s#fixed}" "$work/$s.pcap" ;;
    exp*) "$GEN" -d "$RX_MAC" -s "$TX_MAC" -n "$PACKETS" -g "${s#exp}" -e -r 1 "$work/$s.pcap" ;;
    *) die "unknown schedule '$s' (fixedGAP_US or expMEAN_US)" ;;
    esac
done

# Send one schedule with one tool; the tool's own output goes to $work/out.
send() {
    local tool=$1 cap=$2
    case $tool in
    deadline) tx timeout "$SEND_TIMEOUT" "$DL" -t "$SEND_TIMEOUT" "$cap" ;;
    deadline-rt) tx timeout "$SEND_TIMEOUT" "$DL" -R -t "$SEND_TIMEOUT" "$cap" ;;
    flowmimic)
        tx timeout "$SEND_TIMEOUT" "$FM" replay --iface "$VETH_TX" --peer "$IP_RX" \
            --timer "$TIMER" --count "$PACKETS" --json "$cap"
        ;;
    flowmimic-rt)
        tx timeout "$SEND_TIMEOUT" "$FM" replay --iface "$VETH_TX" --peer "$IP_RX" \
            --timer "$TIMER" --realtime --count "$PACKETS" --json "$cap"
        ;;
    tcpreplay) tx timeout "$SEND_TIMEOUT" tcpreplay -i "$VETH_TX" "$cap" ;;
    esac >"$work/out" 2>"$work/err"
}

for ((r = 1; r <= ROUNDS; r++)); do
    for s in $SCHEDULES; do
        for t in "${tools[@]}"; do
            echo "timing: round $r/$ROUNDS, $s, $t" >&2
            capture_start "$work/rx.pcap" udp dst port 5006
            rc=0
            send "$t" "$work/$s.pcap" || rc=$?
            capture_stop
            if ((rc != 0)); then
                echo "$t failed on $s (exit $rc):" >&2
                tail -n 5 "$work/err" "$work/out" >&2
            fi
            # The sender's own JSON summary (flowmimic's lateness at the sender), if any.
            "$PY" "$BENCH_DIR/wire_analyze.py" timing "$work/$s.pcap" "$work/rx.pcap" \
                --tag "tool=$t" --tag "schedule=$s" --tag "round=$r" --tag "exit=$rc" \
                --tag "load=$(cut -d" " -f1 /proc/loadavg)" \
                --own "$work/out" >>"$work/runs.jsonl"
        done
    done
done
[[ -z ${RESULTS:-} ]] || cp "$work/runs.jsonl" "$RESULTS"

echo "schedules: $SCHEDULES, $PACKETS packets each (gen_schedule, seed 1); $ROUNDS rounds;" \
    "flowmimic --timer $TIMER, at $FM_TREE"
echo
"$PY" "$BENCH_DIR/report.py" timing --timer "$TIMER" "$work/runs.jsonl"
