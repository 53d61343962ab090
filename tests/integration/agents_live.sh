#!/usr/bin/env bash
# tests/integration/agents_live.sh - `flowmimic agents` once against a real LLM server.
# Skipped (exit 77) unless FLOWMIMIC_LIVE_LLM names the server (http://127.0.0.1:11434);
# FLOWMIMIC_LIVE_MODEL picks the model (default llama3.2:3b), FLOWMIMIC_LIVE_API the
# protocol (ollama or openai). A real model may fail to win approval: exit 1 with the
# "no variant approved" line is an outcome, a crash, a hang or a half-written file is not.
# Usage: agents_live.sh FLOWMIMIC SRCDIR
set -u
fm=$1
src=$2
if [ -z "${FLOWMIMIC_LIVE_LLM:-}" ]; then
    echo "FLOWMIMIC_LIVE_LLM is not set: skipping the live LLM test"
    exit 77
fi
export LC_ALL=C TZ=UTC
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/support/check.sh
. "$src/tests/support/check.sh"
model=$src/tests/data/agents/video-model.json
cd "$tmp" || exit 1
run "$fm" agents --server "$FLOWMIMIC_LIVE_LLM" --api "${FLOWMIMIC_LIVE_API:-ollama}" \
    --model "${FLOWMIMIC_LIVE_MODEL:-llama3.2:3b}" --rounds 3 --timeout 600 --seed 1 \
    --temperature 0.2 --json --trace trace.json "$model"
check "live: exit 0 or 1" test "$rc" = 0 -o "$rc" = 1
check "live: transcript has the generator's reply" grep -q -- "--- generator (" output.txt
check "live: summary on stdout" grep -q '"outcome"' "$tmp/out"
check "live: no temporary files" no_tmp_files "$tmp"
if [ "$rc" = 0 ]; then
    run "$fm" generate --variant variants.json -c 100 -o v.pcap "$model"
    check "live: approved variants load" test "$rc" = 0
    run "$fm" validate trace.json
    check "live: trace valid" test "$rc" = 0
else
    check "live: no variants without approval" test ! -e variants.json
    check "live: says why" grep -qE "no variant approved after 3 rounds|llm server" "$tmp/err"
fi
sed -n 's/^\(approved\|flowmimic: error\)/live result: &/p' "$tmp/err"
report_and_exit
