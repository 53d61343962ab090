#!/usr/bin/env bash
# bench/read.sh - read throughput: `flowmimic flows` against a bare libpcap loop and peers.
# Usage: bench/read.sh            (environment: RUNS=5 PACKETS=1000000 FLOWS=50
#                                  CAPTURE=path TOOLS="bare bare-256k flowmimic tcpdump tshark")
# Generates the capture with gen_capture when CAPTURE does not exist (by default in
# $TMPDIR), warms the page cache, then runs every tool once per round, RUNS rounds, the
# tools interleaved so that load from other users of the machine spreads over all of them.
# Prints a Markdown table: median wall time, min and max, median CPU time (user + sys),
# Mpps from the median wall time, and throughput as a share of the bare loops'. Two bare
# loops: "bare" lets libpcap open the file (stdio reads of 4 KiB), "bare-256k" gives it a
# 256 KiB stdio buffer as estimator/pcap_in.c does, the like-for-like ceiling for flowmimic.
# Not run unless named in TOOLS: "bare-256k-dispatch", the same with pcap_dispatch() in place
# of pcap_next_ex() (the calling convention flowmimic uses), to show what that alone gains.
# Only reads files; sends nothing anywhere.
set -euo pipefail
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RUNS=${RUNS:-5}
PACKETS=${PACKETS:-1000000}
FLOWS=${FLOWS:-50}
CAPTURE=${CAPTURE:-${TMPDIR:-/tmp}/flowmimic-bench-${PACKETS}p-${FLOWS}f.pcap}
TOOLS=${TOOLS:-bare bare-256k flowmimic tcpdump tshark}

targets=(gen_capture pcap_loop)
[[ " $TOOLS " == *" flowmimic "* ]] && targets+=(flowmimic)
bench_build "${targets[@]}"
FM=$BUILD_DIR/cli/flowmimic
LOOP=$BUILD_DIR/bench/pcap_loop

if [[ ! -s $CAPTURE ]]; then
    echo "generating $CAPTURE ($PACKETS packets, $FLOWS flows)" >&2
    "$BUILD_DIR/bench/gen_capture" "$CAPTURE.tmp" "$PACKETS" "$FLOWS" 1
    mv "$CAPTURE.tmp" "$CAPTURE"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The capture's real packet count, from the bare loop, for Mpps.
"$LOOP" "$CAPTURE" >"$work/loop.json"
count=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["packets"])' "$work/loop.json")

# Run one tool on the capture, stdout discarded, stderr kept for the error message.
run_tool() {
    case $1 in
    bare) "$LOOP" "$CAPTURE" ;;
    bare-256k) "$LOOP" -b 262144 "$CAPTURE" ;;
    bare-256k-dispatch) "$LOOP" -b 262144 -d "$CAPTURE" ;;
    flowmimic) "$FM" flows "$CAPTURE" ;;
    tcpdump) tcpdump -r "$CAPTURE" -nn -q ;;
    tshark) tshark -r "$CAPTURE" -T fields -e frame.len ;;
    *) die "unknown tool '$1'" ;;
    esac >/dev/null
}

tools=()
for t in $TOOLS; do
    case $t in
    tcpdump | tshark)
        if ! command -v "$t" >/dev/null; then
            echo "skipping $t: not installed" >&2
            continue
        fi
        ;;
    esac
    # One untimed run each: warms the page cache and checks that the tool works.
    if ! run_tool "$t" 2>"$work/err"; then
        cat "$work/err" >&2
        die "$t failed on $CAPTURE"
    fi
    tools+=("$t")
done
# flowmimic must have seen the packets: its flow list should not be empty.
if [[ " ${tools[*]} " == *" flowmimic "* ]]; then
    "$FM" flows "$CAPTURE" >"$work/flows.txt"
    [[ -s $work/flows.txt ]] || die "flowmimic flows printed nothing for $CAPTURE"
fi

TIMEFORMAT='%R %U %S'
for ((r = 1; r <= RUNS; r++)); do
    for t in "${tools[@]}"; do
        { time run_tool "$t" 2>"$work/err"; } 2>"$work/time" || {
            cat "$work/err" >&2
            die "$t failed in round $r"
        }
        read -r real user sys <"$work/time"
        printf '{"tool": "%s", "round": %d, "real": %s, "user": %s, "sys": %s}\n' \
            "$t" "$r" "$real" "$user" "$sys" >>"$work/runs.jsonl"
    done
done

echo "capture: $CAPTURE ($count packets, $(du -h "$CAPTURE" | cut -f1)), $RUNS rounds, tools interleaved"
echo
"$PY" "$BENCH_DIR/report.py" read --packets "$count" "$work/runs.jsonl"
