#!/usr/bin/env bash
# bench/fit_side.sh - how long `flowmimic estimate` takes on a side of 1e6 packets, with the
# sequence model (the default) beside the independent mixtures alone (--sequence off) and
# the former default --max-k 5.
# Usage: bench/fit_side.sh   (environment: RUNS=3 PACKETS=1000000 SEED=1
#                             DUMPS_DIR=/work/shared/traffic_dumps DATA_DIR=dir)
# The 1e6-packet captures are drawn by `flowmimic generate` from models of real captures
# (H.264 video, Skype's remote side, G.729 with VAD), so the fit meets the shapes real sides
# have; they are written once into DATA_DIR (default $TMPDIR/flowmimic-bench-sides) and kept.
# Every configuration runs RUNS times, alternating, and the median wall time is printed with
# the load average beside it (the machine has 2 cores: the fit uses a second thread for the
# payload mixture, so a busy machine slows it more than a serial fit).
set -euo pipefail
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RUNS=${RUNS:-3}
PACKETS=${PACKETS:-1000000}
SEED=${SEED:-1}
DUMPS_DIR=${DUMPS_DIR:-/work/shared/traffic_dumps}
DATA_DIR=${DATA_DIR:-${TMPDIR:-/tmp}/flowmimic-bench-sides}

bench_build flowmimic
FM=$BUILD_DIR/cli/flowmimic
mkdir -p "$DATA_DIR"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# name capture side
sides=("h264 rtp_h264_video_1dir__saghul_sipp-scenarios.pcap local"
       "skype skype_call_lan_bidir__radionbik.pcap remote"
       "g729 rtp_g729_voice_bidir_vad__trex.pcap local")
configs=("default" "--sequence off" "--sequence off --max-k 5")

for s in "${sides[@]}"; do
    read -r name cap side <<<"$s"
    out=$DATA_DIR/$name-$PACKETS.pcap
    [[ -f $out ]] && continue
    [[ -f $DUMPS_DIR/$cap ]] || die "$DUMPS_DIR/$cap is missing (set DUMPS_DIR)"
    echo "fit_side: drawing $PACKETS packets of $name ($cap, $side side)" >&2
    "$FM" estimate "$DUMPS_DIR/$cap" --seed "$SEED" -o "$work/m.json" >/dev/null
    "$FM" generate "$work/m.json" --side "$side" --count "$PACKETS" --seed "$SEED" \
        -o "$out.tmp" >/dev/null
    mv "$out.tmp" "$out"
done

declare -A times
for ((r = 0; r < RUNS; r++)); do
    for s in "${sides[@]}"; do
        read -r name _ _ <<<"$s"
        for c in "${configs[@]}"; do
            args=()
            [[ $c == default ]] || read -ra args <<<"$c"
            t0=$(date +%s%N)
            "$FM" estimate "$DATA_DIR/$name-$PACKETS.pcap" --seed "$SEED" "${args[@]}" \
                -o "$work/fit.json" >/dev/null
            t1=$(date +%s%N)
            times["$name|$c"]+="$(((t1 - t0) / 1000000)) "
        done
    done
done

echo "$PACKETS packets on one side; median of $RUNS runs (s); $(nproc) CPUs; load average" \
    "$(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo
echo "| side | default (sequence, --max-k 10) | --sequence off | --sequence off --max-k 5 |"
echo "|---|---|---|---|"
for s in "${sides[@]}"; do
    read -r name _ _ <<<"$s"
    row="| $name |"
    for c in "${configs[@]}"; do
        # shellcheck disable=SC2086
        med=$(printf '%s\n' ${times["$name|$c"]} | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
        row+=" $((med / 1000)).$(printf '%02d' $((med % 1000 / 10))) |"
    done
    echo "$row"
done
