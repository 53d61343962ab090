#!/usr/bin/env bash
# scripts/test.sh - install what is missing, build, and run every test (unit, integration,
# and the tests on the real captures in ../shared/traffic_dumps).
# Usage: scripts/test.sh [extra ctest arguments]
#   BUILD_DIR (default build-test), CMAKE_ARGS (extra configure arguments, e.g. -DFM_SANITIZE=ON)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
build=${BUILD_DIR:-build-test}
# shellcheck disable=SC2086
cmake -S . -B "$build" -DFM_TESTS=ON -DFM_TESTS_REQUIRED=ON ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j"$(nproc)" >"$build/build.log" 2>&1 || { cat "$build/build.log"; exit 1; }
cd "$build"
ctest --output-on-failure -j"$(nproc)" "$@"
