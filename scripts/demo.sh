#!/usr/bin/env bash
# scripts/demo.sh - flowmimic's main job on a bundled capture: install what is missing, build,
# list the flows, estimate a model of the main flow, and show it.
# Usage: scripts/demo.sh [CAPTURE]   (default: traffic_dumps/rtp_video_160kbps_1dir__trex.pcap)
set -euo pipefail
cd "$(dirname "$0")/.."
capture=${1:-traffic_dumps/rtp_video_160kbps_1dir__trex.pcap}
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DFM_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
fm=build/cli/flowmimic
out=${OUT_DIR:-out/demo}
mkdir -p "$out"
echo "== flowmimic flows $capture"
$fm flows --top 10 "$capture"
echo
echo "== flowmimic estimate $capture"
model=$($fm estimate --plot "$out" -o "$out/model.json" "$capture" | cut -f1)
echo "$model"
echo
echo "== flowmimic show $model"
$fm show "$model"
echo
echo "plots: $(ls "$out"/*.png | tr '\n' ' ')"
