#!/usr/bin/env bash
# tests/integration/agents.sh - `flowmimic agents` against the stub LLM server on 127.0.0.1:
# approval, each way a server or a model can fail, and what is (and is not) written.
# Usage: agents.sh FLOWMIMIC SRCDIR   (FM_STUB_LLM: path of tests/support/stub_llm.py)
set -u
fm=$1
src=$2
export LC_ALL=C TZ=UTC
stub=${FM_STUB_LLM:-$src/tests/support/stub_llm.py}
data=$src/tests/data/agents
model=$data/video-model.json
tmp=$(mktemp -d)
stub_pid=
cleanup() {
    [ -n "$stub_pid" ] && kill "$stub_pid" 2>/dev/null && wait "$stub_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
unset OLLAMA_HOST OPENAI_API_KEY

# shellcheck source=tests/support/check.sh
. "$src/tests/support/check.sh"

# Start the stub on a script; sets url. The stub ends by itself after the script's limits.
start_stub() {
    rm -f "$tmp/port" "$tmp/log.jsonl"
    python3 "$stub" "$1" --port-file "$tmp/port" --log "$tmp/log.jsonl" 2>"$tmp/stub.err" &
    stub_pid=$!
    for _ in $(seq 100); do
        [ -s "$tmp/port" ] && break
        sleep 0.1
    done
    if [ ! -s "$tmp/port" ]; then
        echo "stub did not start: $(cat "$tmp/stub.err")"
        exit 1
    fi
    url=http://127.0.0.1:$(cat "$tmp/port")
}

stop_stub() {
    if [ -n "$stub_pid" ]; then
        kill "$stub_pid" 2>/dev/null
        wait "$stub_pid" 2>/dev/null
        stub_pid=
    fi
}

# Run agents in $tmp/w (a fresh directory, so that default outputs land there).
agents() {
    rm -rf "$tmp/w"
    mkdir "$tmp/w"
    (cd "$tmp/w" && "$fm" agents --timeout 10 "$@") >"$tmp/out" 2>"$tmp/err"
    rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}

# Wait (up to 10 s) until the stub has received a chat request: the program is then inside
# a request, with its signal handlers installed.
wait_for_chat() {
    for _ in $(seq 100); do
        grep -q '"path": "/api/chat"' "$tmp/log.jsonl" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# The n-th (1-based) chat request body the stub logged.
chat_body() {
    grep -E '"path": "/(api/chat|v1/chat/completions)"' "$tmp/log.jsonl" | sed -n "${1}p"
}

# ---- usage ----
run "$fm" agents --help
check "--help explains the checks" grep -q "plausibility" "$tmp/out"
check "--help has an example" grep -q "flowmimic agents --prompts" "$tmp/out"
run "$fm" agents
expect "no model" 2 "name a model file"
run "$fm" agents --variants 0 "$model"
expect "--variants 0" 2 "--variants"
run "$fm" agents --packets 51 "$model"
expect "--packets 51" 2 "--packets"
run "$fm" agents --side both "$model"
expect "--side both" 2 "expected local or remote"
run "$fm" agents -m a -m b "$model"
expect "two models without --prompts" 2 "need --prompts"
# libcurl is loaded only when an agent runs; without it, one line that says what to install
# (and no other command needs it: flows runs with the same setting).
FM_LIBCURL=/nonexistent/libcurl.so.4 run "$fm" agents --server http://127.0.0.1:9 "$model"
expect "no libcurl" 1 "cannot load libcurl (/nonexistent/libcurl.so.4): install it"
FM_LIBCURL=/nonexistent/libcurl.so.4 run "$fm" show "$model"
expect "show needs no libcurl" 0
run "$fm" agents --api grpc "$model"
expect "bad api" 2 "unknown API 'grpc'"
run "$fm" agents --server 'http://[::1' "$model"
expect "bad server URL" 2 "no ']'"
run "$fm" agents --side remote "$model"
expect "empty side" 1 "no packets on its remote side"
run "$fm" agents "$tmp/missing.json"
expect "missing model" 1 "missing.json"
run "$fm" agents -o "$tmp/no/dir/v.json" --server http://127.0.0.1:9 "$model"
expect "output directory missing, before any request" 1 "cannot write '$tmp/no/dir/v.json': no directory '$tmp/no/dir'"
run "$fm" agents --transcript "$tmp/no/t.txt" --server http://127.0.0.1:9 "$model"
expect "transcript directory missing" 1 "cannot write '$tmp/no/t.txt'"
run "$fm" agents --transcript "$tmp" --server http://127.0.0.1:9 "$model"
expect "transcript is a directory" 1 "is a directory"
# A control character in a name reaches the terminal escaped, never raw.
esc=$(printf '\033')
run "$fm" agents --transcript "$tmp/no/t${esc}[31m.txt" --server http://127.0.0.1:9 "$model"
expect "escape in a name: one line" 1 'no/t\x1b[31m.txt'
check "escape in a name: no raw ESC" test "$(tr -dc '\033' <"$tmp/err" | wc -c)" = 0

# ---- happy path: approved in round 1 ----
start_stub "$data/happy.json"
agents --server "$url" --trace trace.json "$model"
expect "happy: exit 0" 0
check "happy: one closing line" test "$(printf '%s\n' "$err" | grep -c .)" = 1
check "happy: says approved in round 1" grep -q "approved in round 1 of 5: 3 variants (ef-marked, short-path, double-rate) in variants.json" "$tmp/err"
check "happy: names the transcript" grep -q "transcript in output.txt" "$tmp/err"
check "happy: variants.json by default" test -s "$tmp/w/variants.json"
check "happy: output.txt by default" test -s "$tmp/w/output.txt"
check "happy: transcript has the generator" grep -q -- "--- generator (" "$tmp/w/output.txt"
check "happy: transcript has the reviewer" grep -q -- "--- reviewer (" "$tmp/w/output.txt"
check "happy: transcript has both prompts" grep -q -- "--- to the reviewer ---" "$tmp/w/output.txt"
check "happy: transcript has the verdict" grep -q -- "--- verdict: APPROVE ---" "$tmp/w/output.txt"
check "happy: no temporary files" no_tmp_files "$tmp/w"
for v in ef-marked short-path double-rate; do
    run "$fm" generate --variant "$tmp/w/variants.json:$v" -c 50 -o "$tmp/w/$v.pcap" "$model"
    check "happy: generate --variant :$v" test "$rc" = 0 -a -s "$tmp/w/$v.pcap"
done
check "happy: dscp 46 written" grep -q '"dscp": 46' "$tmp/w/variants.json"
run "$fm" validate "$tmp/w/trace.json"
check "happy: trace valid" test "$rc" = 0
check "happy: trace has 15 packets" grep -q "15 packets" "$tmp/out"
run "$fm" convert "$tmp/w/trace.json" "$tmp/w/trace.pcap"
check "happy: trace converts to pcap" test "$rc" = 0 -a -s "$tmp/w/trace.pcap"
check "happy: trace carries the variant's TTL" grep -q '"ttl":8' "$tmp/w/trace.json"
body=$(chat_body 1)
check "happy: schema sent as format" grep -q '"format": {' <<<"$body"
check "happy: num_predict always sent" grep -q '"num_predict": 2048' <<<"$body"
check "happy: generator sees drawn packets" grep -q 'Packets drawn from the model' <<<"$body"
check "happy: two chat requests" test "$(grep -c '/api/chat' "$tmp/log.jsonl")" = 2
check "happy: no keep_alive unless asked" test "$(grep -c '"keep_alive"' "$tmp/log.jsonl")" = 0
stop_stub

# --keep-alive reaches the server on every chat request; a malformed duration is a usage error.
start_stub "$data/happy.json"
agents --server "$url" --keep-alive 10m "$model"
expect "keep-alive: exit 0" 0
check "keep-alive: sent with each chat" \
    test "$(grep -c '"keep_alive": "10m"' "$tmp/log.jsonl")" = 2
stop_stub
run "$fm" agents --keep-alive 10min "$model"
expect "keep-alive: bad duration" 2 "--keep-alive"
run "$fm" agents --keep-alive 5x "$model"
expect "keep-alive: bad unit" 2 "expected a duration"

# --json
start_stub "$data/happy.json"
agents --server "$url" --json -q -o v.json --transcript t.txt "$model"
expect "json: exit 0" 0
check "json: quiet" test -z "$err"
check "json: outcome" grep -q '"outcome": "approved"' "$tmp/out"
check "json: variants" grep -q '"ef-marked"' "$tmp/out"
check "json: output" grep -q '"output": "v.json"' "$tmp/out"
check "json: transcript path" test -s "$tmp/w/t.txt"
stop_stub

# ---- the server or the model fails ----
start_stub "$data/notfound.json"
agents --server "$url" "$model"
expect "model not found" 1 "model llama3.2:3b is not available: run \`ollama pull llama3.2:3b\`"
check "model not found: no variants" test ! -e "$tmp/w/variants.json"
stop_stub

dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
agents --server "http://127.0.0.1:$dead" "$model"
expect "connection refused" 1 "no Ollama server at http://127.0.0.1:$dead: start it with \`ollama serve\`"
check "refused: no variants" test ! -e "$tmp/w/variants.json"
check "refused: the transcript is written and says why" \
    grep -q "^error: no Ollama server at http://127.0.0.1:$dead" "$tmp/w/output.txt"
# A batch against a server that is not there stops at once with the same message (issue 11),
# instead of failing every run of every model in turn.
agents --server "http://127.0.0.1:$dead" --prompts "$data/prompts.json" --repeat 2 -m a:1b -m b:1b "$model"
expect "batch, connection refused" 1 "no Ollama server at http://127.0.0.1:$dead: start it with \`ollama serve\`"
check "batch refused: no run records" test ! -s "$tmp/out"
check "batch refused: the transcript says why" grep -q "^error: no Ollama server" "$tmp/w/output.txt"
agents --server "http://127.0.0.1:$dead" --json "$model"
check "refused --json: outcome error" grep -q '"outcome": "error"' "$tmp/out"
check "refused --json: the message" grep -q '"error": "no Ollama server at' "$tmp/out"

start_stub "$data/slow.json"
t0=$(date +%s)
agents --server "$url" --timeout 1 "$model"
t1=$(date +%s)
expect "slower than timeout" 1 "no reply within 1 s (raise --timeout)"
check "slow: gave up within 6 s" test $((t1 - t0)) -le 6
check "slow: transcript written" grep -q "=== stopped in round 1" "$tmp/w/output.txt"
check "slow: no variants" test ! -e "$tmp/w/variants.json"
stop_stub

start_stub "$data/error-after.json"
agents --server "$url" "$model"
expect "error after stream started" 1 "llama runner process has terminated"
check "error-after: no variants" test ! -e "$tmp/w/variants.json"
check "error-after: transcript written" test -s "$tmp/w/output.txt"
stop_stub

# ---- replies that are not usable, then a good one ----
start_stub "$data/truncated.json"
agents --server "$url" "$model"
expect "truncated JSON then good" 0
check "truncated: approved in round 2" grep -q "approved in round 2" "$tmp/err"
check "truncated: transcript says why" grep -q "the JSON ends early after 400 bytes (truncated: the server stopped at the token limit)" "$tmp/w/output.txt"
check "truncated: fed back" grep -q 'Your reply could not be used: the JSON ends early' <<<"$(chat_body 2)"
stop_stub

# A connection closed mid-reply is a server that crashed: the run stops and says so.
start_stub "$data/cut.json"
agents --server "$url" "$model"
expect "connection cut mid-reply" 1 "connection closed before the reply was complete"
check "cut: no variants" test ! -e "$tmp/w/variants.json"
check "cut: transcript written" grep -q "=== stopped in round 1" "$tmp/w/output.txt"
stop_stub

start_stub "$data/prose-python.json"
agents --server "$url" "$model"
expect "prose, Python, then fenced JSON" 0
check "prose: approved in round 3" grep -q "approved in round 3" "$tmp/err"
check "prose: transcript says prose" grep -q "the reply is prose, not a JSON object (it began 'Sure! Here are" "$tmp/w/output.txt"
check "prose: transcript says code" grep -q "the reply is program code, not JSON" "$tmp/w/output.txt"
check "prose: fence stripped and said" grep -q 'a Markdown ```json fence around the reply was stripped' "$tmp/w/output.txt"
check "prose: prose fed back" grep -q 'the reply is prose' <<<"$(chat_body 2)"
check "prose: code fed back" grep -q 'program code' <<<"$(chat_body 3)"
stop_stub

start_stub "$data/huge.json"
agents --server "$url" "$model"
expect "huge reply then good" 0
check "huge: approved in round 2" grep -q "approved in round 2" "$tmp/err"
check "huge: transcript says no usable reply" grep -q -- "--- checks: no usable reply" "$tmp/w/output.txt"
check "huge: transcript stays small" test "$(stat -c %s "$tmp/w/output.txt")" -lt 200000
stop_stub

# ---- the reviewer never approves; APPROVE in the wrong place ----
start_stub "$data/never.json"
agents --server "$url" --rounds 3 "$model"
expect "never approved" 1 "no variant approved after 3 rounds; see output.txt"
check "never: no variants file" test ! -e "$tmp/w/variants.json"
check "never: three REVISE verdicts" test "$(grep -c -- '--- verdict: REVISE ---' "$tmp/w/output.txt")" = 3
check "never: problems fed back" grep -q 'The reviewer did not approve the proposal' <<<"$(chat_body 3)"
check "never: transcript has the ending" grep -q "=== no variant approved after 3 rounds ===" "$tmp/w/output.txt"
stop_stub

start_stub "$data/approve-word.json"
agents --server "$url" --rounds 3 "$model"
expect "APPROVE in the text is no approval" 1 "no variant approved after 3 rounds"
check "approve-word: no variants file" test ! -e "$tmp/w/variants.json"
check "approve-word: the bare word is prose" grep -q "the reply is prose, not a JSON object (it began 'APPROVE')" "$tmp/w/output.txt"
check "approve-word: reviewer prose is REVISE" grep -q "the reviewer's reply could not be read: the reply is prose" "$tmp/w/output.txt"
check "approve-word: never an APPROVE verdict" test "$(grep -c -- '--- verdict: APPROVE' "$tmp/w/output.txt")" = 0
stop_stub

# ---- out-of-range TTL: fed back, never written ----
start_stub "$data/ttl.json"
agents --server "$url" "$model"
expect "ttl 300 then good" 0
check "ttl: approved in round 2" grep -q "approved in round 2" "$tmp/err"
check "ttl: finding in transcript" grep -q "variant 1 ('short-path'): changes.ttl 300 is out of range: use 1 to 255" "$tmp/w/output.txt"
check "ttl: finding fed back" grep -q "changes.ttl 300 is out of range" <<<"$(chat_body 2)"
check "ttl: written TTL is the fixed one" grep -q '"ttl": 8' "$tmp/w/variants.json"
check "ttl: 300 never written" test -z "$(grep 300 "$tmp/w/variants.json")"
stop_stub
start_stub "$data/ttl.json"
agents --server "$url" --rounds 1 "$model"
expect "ttl 300 in the only round" 1 "no variant approved after 1 round; see output.txt"
check "ttl: no variants file" test ! -e "$tmp/w/variants.json"
check "ttl: no reviewer asked" test "$(grep -c '/api/chat' "$tmp/log.jsonl")" = 1
stop_stub

# ---- Ctrl-C: the request stops, the transcript is kept, no variants ----
start_stub "$data/slow.json"
rm -rf "$tmp/w" && mkdir "$tmp/w"
(cd "$tmp/w" && exec "$fm" agents --server "$url" --timeout 30 "$model") >"$tmp/out" 2>"$tmp/err" &
pid=$!
check "Ctrl-C: a request is under way" wait_for_chat
sleep 0.3
t0=$(date +%s%N)
kill -INT "$pid"
wait "$pid"
rc=$?
t1=$(date +%s%N)
err=$(cat "$tmp/err")
expect "Ctrl-C" 130 "interrupted in round 1: no variants written; transcript so far in output.txt"
check "Ctrl-C: stopped within 2 s" test $(((t1 - t0) / 1000000)) -lt 2000
check "Ctrl-C: transcript kept" grep -q "Task: Propose variations" "$tmp/w/output.txt"
check "Ctrl-C: no variants" test ! -e "$tmp/w/variants.json"
stop_stub

# ---- OpenAI-compatible server with a key that is never shown ----
start_stub "$data/openai.json"
key=sk-flowmimic-test-5d2c9
OPENAI_API_KEY=$key agents --server "$url" --api openai --model llama3.2:3b "$model"
expect "openai: approved" 0
check "openai: response_format sent" grep -q '"response_format"' <<<"$(chat_body 1)"
check "openai: key not in transcript" test -z "$(grep -F "$key" "$tmp/w/output.txt")"
check "openai: key not on stderr" test -z "$(grep -F "$key" "$tmp/err")"
stop_stub
start_stub "$data/openai.json"
OPENAI_API_KEY=wrong-key agents --server "$url" --api openai "$model"
expect "openai: bad key" 1 "OPENAI_API_KEY"
check "openai: bad key not echoed" test -z "$(grep -F wrong-key "$tmp/err")"
stop_stub

# ---- batch study ----
start_stub "$data/batch.json"
agents --server "$url" --prompts "$data/prompts.json" --repeat 2 -m llama3.2:3b -m qwen2.5:3b "$model"
expect "batch: exit 0" 0
check "batch: 8 JSON lines" test "$(grep -c '^{.*}$' "$tmp/out")" = 8
check "batch: every run approved" test "$(grep -c '"outcome":"approved"' "$tmp/out")" = 8
check "batch: both models" test "$(grep -c '"model":"qwen2.5:3b"' "$tmp/out")" = 4
check "batch: prompts named" test "$(grep -c '"prompt":"load"' "$tmp/out")" = 4
check "batch: table per model" grep -qE '^qwen2.5:3b +4 +0 +4/4 +4/4 +4/4 +12 +1.00' "$tmp/err"
check "batch: task sent" grep -q 'Propose variants that load the link harder' "$tmp/log.jsonl"
check "batch: transcript has every run" test "$(grep -c '^##### run' "$tmp/w/output.txt")" = 8
stop_stub
start_stub "$data/batch.json"
agents --server "$url" --prompts "$data/prompts.json" -m llama3.2:3b -m missing:1b -o runs.jsonl "$model"
check "batch with a missing model: exit 1" test "$rc" = 1
check "batch -o: lines in the file" test "$(grep -c . "$tmp/w/runs.jsonl")" = 4
check "batch: missing model's runs are errors" test "$(grep -c '"outcome":"error","error":"model missing:1b is not available' "$tmp/w/runs.jsonl")" = 2
check "batch -o: nothing on stdout" test -z "$out"
stop_stub
start_stub "$data/slow.json"
rm -rf "$tmp/w" && mkdir "$tmp/w"
(cd "$tmp/w" && exec "$fm" agents --server "$url" --prompts "$data/prompts.json" "$model") \
    >"$tmp/out" 2>"$tmp/err" &
pid=$!
check "batch Ctrl-C: a request is under way" wait_for_chat
sleep 0.3
kill -INT "$pid"
wait "$pid"
rc=$?
check "batch Ctrl-C: exit 130" test "$rc" = 130
check "batch Ctrl-C: the run says interrupted" grep -q '"outcome":"interrupted"' "$tmp/out"
check "batch Ctrl-C: one line only" test "$(grep -c . "$tmp/out")" = 1
check "batch Ctrl-C: says so" grep -q "interrupted in run 1 of 2; transcript in output.txt" "$tmp/err"
check "batch Ctrl-C: transcript kept" test -s "$tmp/w/output.txt"
stop_stub
run "$fm" agents --prompts "$tmp/none.json" "$model"
expect "batch: missing prompt set" 1 "none.json"
printf '{"format": "flowmimic.prompts", "version": 1, "prompts": [{"name": "a", "text": "x"}]}' >"$tmp/p.json"
run "$fm" agents --prompts "$tmp/p.json" "$model"
expect "batch: bad prompt set" 1 "prompt 0: field 'text' is not a known field"
run "$fm" agents --prompts "$src/prompts/video.json" --task x "$model"
expect "batch: --task excluded" 2 "exclude"

report_and_exit
