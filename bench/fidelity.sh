#!/usr/bin/env bash
# bench/fidelity.sh - KS and W1 of model draws against the real flow, flowmimic vs the recipe
# of the original Python tool, on the main flow of every capture in DUMPS_DIR.
# Usage: bench/fidelity.sh   (environment: DUMPS_DIR=/work/shared/traffic_dumps SEED=1
#                             MIN_PACKETS=100 RESULTS=file to keep the merged JSON lines)
# For each *.pcap / *.pcapng: bench/fidelity fits the main flow with est_model_from_flow
# defaults and scores its draws (one JSON line per side and feature, values dumped to a
# temporary directory); fidelity_sklearn.py fits sklearn's GaussianMixture to the same raw
# values; report.py prints the table and the verdict. Then time_structure.py puts the time
# structure of `flowmimic generate` (issue 10: lag-1 autocorrelation, 100 ms throughput CV,
# bursts, RTP frames; the sequence model beside the independent one) next to each capture's,
# read with tshark (TIME_JSON=file keeps its rows).
set -euo pipefail
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DUMPS_DIR=${DUMPS_DIR:-/work/shared/traffic_dumps}
SEED=${SEED:-1}
MIN_PACKETS=${MIN_PACKETS:-100}

need_python
bench_build fidelity flowmimic
FID=$BUILD_DIR/bench/fidelity

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/dump"

shopt -s nullglob
captures=("$DUMPS_DIR"/*.pcap "$DUMPS_DIR"/*.pcapng)
((${#captures[@]} > 0)) || die "no captures in $DUMPS_DIR"
for cap in "${captures[@]}"; do
    echo "fidelity: ${cap##*/}" >&2
    # A failure (or a crash) on one capture is recorded as a row and the others still run.
    rc=0
    "$FID" -s "$SEED" -m "$MIN_PACKETS" "$cap" "$work/dump" >"$work/one.jsonl" 2>"$work/err" || rc=$?
    if ((rc != 0)); then
        cat "$work/err" >&2
        : >"$work/one.jsonl" # a crash may have left a partial line
        "$PY" -c 'import json,sys; msg = sys.argv[3].strip().split(": ", 2)[-1]
print(json.dumps({"capture": sys.argv[1], "side": "", "feature": "", "n": 0,
                  "error": "exit %s: %s" % (sys.argv[2], msg)}))' \
            "${cap##*/}" "$rc" "$(tail -n 1 "$work/err")" >>"$work/one.jsonl"
    fi
    cat "$work/one.jsonl" >>"$work/fm.jsonl"
done
"$PY" "$BENCH_DIR/fidelity_sklearn.py" --seed "$SEED" "$work/fm.jsonl" >"$work/merged.jsonl"
[[ -z ${RESULTS:-} ]] || cp "$work/merged.jsonl" "$RESULTS"

echo "captures: $DUMPS_DIR (${#captures[@]} files), main flow of each, seed $SEED"
echo
"$PY" "$BENCH_DIR/report.py" fidelity "$work/merged.jsonl"

if command -v tshark >/dev/null; then
    "$PY" "$BENCH_DIR/time_structure.py" "$BUILD_DIR/cli/flowmimic" "$DUMPS_DIR" --seed "$SEED" \
        ${TIME_JSON:+--json "$TIME_JSON"}
else
    echo "time structure: skipped, tshark is not installed (scripts/install-deps.sh --bench)"
fi
