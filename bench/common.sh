# shellcheck shell=bash
# bench/common.sh - shared by the benchmark scripts: paths, the Release build, checks.
# Sourced, not run. Expects set -euo pipefail in the caller.
#   BUILD_DIR  build directory of its own (default <repo>/build-bench), configured Release
#   PY         a Python with numpy, scipy and scikit-learn (default Debian's /usr/bin/python3)

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(dirname "$BENCH_DIR")
BUILD_DIR=${BUILD_DIR:-$ROOT_DIR/build-bench}
PY=${PY:-/usr/bin/python3}

die() {
    echo "${0##*/}: $*" >&2
    exit 1
}

# Configure BUILD_DIR in Release and build the named targets; the log is shown on failure.
bench_build() {
    local log
    log=$(mktemp)
    if ! cmake -S "$ROOT_DIR" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >"$log" 2>&1 ||
        ! cmake --build "$BUILD_DIR" -j2 --target "$@" >>"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die "build failed (targets: $*)"
    fi
    rm -f "$log"
}

need_python() {
    "$PY" -c 'import numpy, scipy, sklearn' 2>/dev/null ||
        die "$PY lacks numpy/scipy/scikit-learn (set PY to a Python that has them)"
}

# Print the machine and tool versions as Markdown list items.
machine_info() {
    local cpu
    cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
    echo "- $(nproc) CPUs online, ${cpu:-unknown CPU}; $(uname -sr)"
}
