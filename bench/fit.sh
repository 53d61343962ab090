#!/usr/bin/env bash
# bench/fit.sh - mdl_gmm_fit against scikit-learn's GaussianMixture on the same samples.
# Usage: bench/fit.sh   (environment: RUNS=3 SIZES=1e4,1e5,1e6 FIXED_K=3 DATA_DIR=dir
#                        DATASETS="iat payload" MODES="fixed auto" RESULTS=file to keep
#                        the JSON lines)
# Writes the sample files with make_samples.py into DATA_DIR (seeded: the same files every
# time), then for every data set, size and mode runs fit_bench and fit_sklearn.py RUNS
# times, alternating, and prints a Markdown table of median fit times, the speedup, the
# chosen k and the held-out log-likelihood per sample, with the verdicts.
# Modes: "fixed" fits k = FIXED_K; "auto" chooses k in 1..5 by BIC. Both tools run 3
# restarts per k (flowmimic restarts=3, sklearn n_init=3) with seed 1.
# SK_THREADS (default 1) caps scikit-learn's OpenMP and BLAS threads, so that both sides run
# on one core as flowmimic does: on this shared 2-core machine threaded runs of sklearn vary
# by 5x at small n and are no faster at 1e6. SK_THREADS=default leaves sklearn's own choice.
set -euo pipefail
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RUNS=${RUNS:-3}
SIZES=${SIZES:-1e4,1e5,1e6}
FIXED_K=${FIXED_K:-3}
DATASETS=${DATASETS:-iat payload}
MODES=${MODES:-fixed auto}
DATA_DIR=${DATA_DIR:-${TMPDIR:-/tmp}/flowmimic-bench-samples}
SK_THREADS=${SK_THREADS:-1}
if [[ $SK_THREADS != default ]]; then
    export OMP_NUM_THREADS=$SK_THREADS OPENBLAS_NUM_THREADS=$SK_THREADS MKL_NUM_THREADS=$SK_THREADS
fi

need_python
bench_build fit_bench
FIT=$BUILD_DIR/bench/fit_bench

mkdir -p "$DATA_DIR"
"$PY" "$BENCH_DIR/make_samples.py" "$DATA_DIR" --sizes "$SIZES"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Append one result line, tagged with the data set, size and mode, to results.jsonl.
tag() {
    "$PY" -c 'import json,sys
r = json.loads(sys.stdin.read()); r.update(data=sys.argv[1], mode=sys.argv[2])
print(json.dumps(r))' "$1" "$2" >>"$work/results.jsonl"
}

IFS=, read -r -a sizes <<<"$SIZES"
for data in $DATASETS; do
    for size in "${sizes[@]}"; do
        train=$DATA_DIR/${data}_train_${size}.f64
        held=$DATA_DIR/${data}_heldout.f64
        [[ -s $train && -s $held ]] || die "missing $train or $held"
        for mode in $MODES; do
            case $mode in
            fixed) k=$FIXED_K ;;
            auto) k=0 ;;
            *) die "unknown mode '$mode'" ;;
            esac
            echo "fitting $data n=$size $mode" >&2
            for ((r = 1; r <= RUNS; r++)); do
                "$FIT" -k "$k" -m 5 -r 3 -s 1 "$train" "$held" | tag "$data" "$mode"
                "$PY" "$BENCH_DIR/fit_sklearn.py" -k "$k" -m 5 -r 3 -s 1 "$train" "$held" |
                    tag "$data" "$mode"
            done
        done
    done
done

[[ -z ${RESULTS:-} ]] || cp "$work/results.jsonl" "$RESULTS"
echo "samples: $DATA_DIR (held-out: 100000 values per data set), $RUNS runs each, alternating;"
echo "sklearn threads: $SK_THREADS"
echo
"$PY" "$BENCH_DIR/report.py" fit "$work/results.jsonl"
