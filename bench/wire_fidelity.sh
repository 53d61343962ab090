#!/usr/bin/env bash
# bench/wire_fidelity.sh - fidelity on the wire: a model estimated from a real capture,
# replayed between two namespaces, against the capture it came from.
# Usage: bench/wire_fidelity.sh   (environment: DUMPS_DIR=/work/shared/traffic_dumps
#        CAPTURES="rtp_h264_video_1dir__saghul_sipp-scenarios.pcap
#                  rtp_video_160kbps_1dir__trex.pcap rtp_g729_voice_bidir_vad__trex.pcap"
#        SEEDS="1" TOOLS="flowmimic flowmimic-capture tcpreplay generate" RESULTS=file)
# Creates two network namespaces joined by a veth pair (198.18.0.1/24 vethA -> 198.18.0.2/24
# vethB; deleted on exit). For each capture: `flowmimic estimate` fits its main flow (defaults);
# its local side is the reference. Then, one after the other, with tcpdump in the receiving
# namespace (nanosecond timestamps, started before, stopped after):
#   flowmimic          flowmimic replay --side local --count N --seed S MODEL (N = the
#                      reference's packets), bounded by --duration and a timeout
#   flowmimic-capture  flowmimic replay of the reference flow itself (rewritten into
#                      198.18.0.1:5004 -> 198.18.0.2:5006 by wire_analyze.py rewrite)
#   tcpreplay          tcpreplay -i vethA of that rewritten flow, at recorded speed: what the
#                      wire does to a perfect copy
#   deadline           bench/deadline_loop on that rewritten flow: the bare absolute-deadline
#                      loop of bench/timing.sh (not in the default TOOLS)
#   generate           flowmimic generate --side local --count N --seed S -o FILE MODEL: the
#                      model's draws without the wire (run when the command exists)
# and wire_analyze.py ks scores payload sizes and gaps of what arrived against the reference
# (scipy two-sample KS and W1). Takes about 2.5 times the captures' durations per seed
# (~6 min with the defaults).
set -euo pipefail
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=bench/netns.sh
. "$BENCH_DIR/netns.sh"

DUMPS_DIR=${DUMPS_DIR:-/work/shared/traffic_dumps}
CAPTURES=${CAPTURES:-rtp_h264_video_1dir__saghul_sipp-scenarios.pcap rtp_video_160kbps_1dir__trex.pcap rtp_g729_voice_bidir_vad__trex.pcap}
SEEDS=${SEEDS:-1}
TOOLS=${TOOLS:-flowmimic flowmimic-capture tcpreplay generate}

"$PY" -c 'import numpy, scipy' 2>/dev/null || die "$PY lacks numpy/scipy (set PY)"
command -v tcpdump >/dev/null || die "needs tcpdump"
bench_build flowmimic deadline_loop
FM_TREE=$(fm_tree)
FM=$BUILD_DIR/cli/flowmimic
DL=$BUILD_DIR/bench/deadline_loop
WA=$BENCH_DIR/wire_analyze.py

work=$(mktemp -d)
NETNS_WORK_DIR=$work
netns_up

have_replay=0
grep -q -- --peer <<<"$("$FM" replay --help 2>/dev/null)" && have_replay=1
tools=()
for t in $TOOLS; do
    case $t in
    flowmimic | flowmimic-capture)
        if ((!have_replay)); then
            echo "skipping $t: 'flowmimic replay' is not implemented in this build" >&2
            continue
        fi
        ;;
    deadline) ;;
    tcpreplay)
        command -v tcpreplay >/dev/null || {
            echo "skipping tcpreplay: not installed" >&2
            continue
        }
        ;;
    generate)
        if ! grep -q -- --count <<<"$("$FM" generate --help 2>/dev/null)"; then
            echo "skipping generate: 'flowmimic generate' is not in this build" >&2
            continue
        fi
        ;;
    *) die "unknown tool '$t'" ;;
    esac
    tools+=("$t")
done
((${#tools[@]} > 0)) || die "no tool to run"

# Read one field of the model with Python: model_field MODEL 'expression on m'.
model_field() {
    "$PY" -c 'import json,sys; m = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

for name in $CAPTURES; do
    cap=$DUMPS_DIR/$name
    [[ -r $cap ]] || die "cannot read $cap"
    base=${name%.*}
    model=$work/$base.json
    "$FM" -q estimate "$cap" -o "$model" >/dev/null
    ref_flow=$(model_field "$model" \
        '"%s:%d>%s:%d" % (m["flow"]["local"]["ip"], m["flow"]["local"]["port"],
                           m["flow"]["remote"]["ip"], m["flow"]["remote"]["port"])')
    n=$(model_field "$model" 'm["sides"]["local"]["packets"]')
    dur=$(model_field "$model" 'int(m["sides"]["local"]["duration_s"] * 1.5) + 10')
    "$PY" "$WA" rewrite "$cap" "$work/$base.flow.pcap" --flow "$ref_flow" \
        --dst-mac "$RX_MAC" --src-mac "$TX_MAC" >/dev/null
    echo "wire_fidelity: $name: flow $ref_flow, $n packets, bound ${dur} s" >&2
    for seed in $SEEDS; do
        for t in "${tools[@]}"; do
            echo "wire_fidelity: $base seed $seed: $t" >&2
            out=$work/rx.pcap
            rc=0
            case $t in
            generate)
                "$FM" -q generate --side local --count "$n" --seed "$seed" -o "$work/gen.pcap" \
                    "$model" >"$work/out" 2>"$work/err" || rc=$?
                out=$work/gen.pcap
                ;;
            *)
                capture_start "$out" udp and src host "$IP_TX" and dst host "$IP_RX"
                case $t in
                flowmimic)
                    tx timeout $((dur + 30)) "$FM" replay --iface "$VETH_TX" --peer "$IP_RX" \
                        --side local --count "$n" --duration "$dur" --seed "$seed" --json \
                        "$model" || rc=$?
                    ;;
                flowmimic-capture)
                    tx timeout $((dur + 30)) "$FM" replay --iface "$VETH_TX" --peer "$IP_RX" \
                        --count "$n" --duration "$dur" --json "$work/$base.flow.pcap" || rc=$?
                    ;;
                tcpreplay)
                    tx timeout $((dur + 30)) tcpreplay -i "$VETH_TX" "$work/$base.flow.pcap" ||
                        rc=$?
                    ;;
                deadline)
                    tx timeout $((dur + 30)) "$DL" -t $((dur + 20)) "$work/$base.flow.pcap" ||
                        rc=$?
                    ;;
                esac >"$work/out" 2>"$work/err"
                capture_stop
                ;;
            esac
            if ((rc != 0)); then
                echo "$t failed on $name (exit $rc):" >&2
                tail -n 5 "$work/err" "$work/out" >&2
            fi
            paired=()
            [[ $t == flowmimic-capture || $t == tcpreplay || $t == deadline ]] && paired=(--paired)
            "$PY" "$WA" ks "$cap" "$out" --ref-flow "$ref_flow" --port 0 "${paired[@]}" \
                --tag "capture=$name" \
                --tag "side=local" --tag "tool=$t" --tag "seed=$seed" --tag "exit=$rc" \
                --tag "load=$(cut -d" " -f1 /proc/loadavg)" --own "$work/out" \
                >>"$work/results.jsonl"
        done
    done
done
[[ -z ${RESULTS:-} ]] || cp "$work/results.jsonl" "$RESULTS"

echo "captures: $CAPTURES (main flow, local side); seeds: $SEEDS; flowmimic at $FM_TREE"
echo
"$PY" "$BENCH_DIR/report.py" wire-fidelity "$work/results.jsonl"
