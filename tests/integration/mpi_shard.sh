#!/usr/bin/env bash
# tests/integration/mpi_shard.sh - estimate and the agents batch study across mpirun's ranks
# on this machine (issue 12 part 2): with 2 and 4 ranks the outputs equal one process's byte
# for byte (models, printed lines, JSON, with one capture or two; the agents' lines but for
# their measured wall_s, the table, the transcript but for its clock line and measured
# seconds), -v shows every rank did its share, and a rank that fails makes every rank exit non-zero with its message on rank 0, without a hang.
# Registered only in a build with MPI (FM_HAVE_MPI); skips (77) without mpirun or jq (under
# CI=true, a failure). No network but the stub LLM server on 127.0.0.1.
# Usage: mpi_shard.sh FLOWMIMIC SRCDIR
set -u
# Absolute: the commands run in directories of their own.
fm=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
export LC_ALL=C TZ=UTC
skip() {
    echo "SKIP: $*"
    [ "${CI:-}" = true ] && exit 1
    exit 77
}
command -v mpirun >/dev/null || skip "mpirun is not installed (openmpi-bin)"
command -v jq >/dev/null || skip "jq is not installed"
data=$src/tests/data/agents
tmp=$(mktemp -d)
stub_pid=
finish() {
    [ -n "$stub_pid" ] && kill "$stub_pid" 2>/dev/null && wait "$stub_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap finish EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
unset OLLAMA_HOST OPENAI_API_KEY

# shellcheck source=tests/support/check.sh
. "$src/tests/support/check.sh"

# mp N CMD...: CMD on N ranks of this machine, bounded in time. A session directory of its
# own (runs of other tests must not meet in one /tmp/ompi.*); rtc ^hwloc as in mpi.sh; -q:
# no help text from mpirun, so stderr is what rank 0 says.
mp() {
    local n=$1
    shift
    mkdir -p "$tmp/ompi"
    OMPI_MCA_orte_tmpdir_base="$tmp/ompi" timeout 120 mpirun -q --allow-run-as-root \
        --oversubscribe --mca rtc ^hwloc -n "$n" "$@"
}
# Each rank's exit status into $tmp/rc.RANK (mpirun reports only one). When a rank exits
# non-zero mpirun ends the others with SIGTERM: the wrapper ignores it (once its command
# runs, which keeps its own handlers) so that it still writes the status its command gave.
printf '%s\n' '#!/bin/sh' '"$@" &' 'pid=$!' "trap '' TERM" 'wait $pid' 'rc=$?' \
    "echo \$rc >\"$tmp/rc.\$OMPI_COMM_WORLD_RANK\"" 'exit $rc' >"$tmp/status.sh"
# Rank 1 reads a capture that is not there.
printf '%s\n' '#!/bin/sh' \
    'if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then' \
    '    for a; do' \
    '        shift' \
    '        case $a in *.pcap) set -- "$@" /nonexistent/x.pcap ;; *) set -- "$@" "$a" ;; esac' \
    '    done' \
    'fi' \
    'exec "$@"' >"$tmp/bad.sh"
chmod 755 "$tmp/status.sh" "$tmp/bad.sh"
# every_rank_exited RC N: each of N ranks wrote RC.
every_rank_exited() {
    local r
    for r in $(seq 0 $(($2 - 1))); do
        [ "$(cat "$tmp/rc.$r" 2>/dev/null)" = "$1" ] || return 1
    done
}
# in_dir DIR CMD...: run CMD in a fresh $tmp/DIR (relative output paths, so that printed
# lines compare); its stdout and stderr also in $tmp/DIR.out and .err.
in_dir() {
    local d=$1
    shift
    rm -rf "${tmp:?}/$d" && mkdir "$tmp/$d" && (cd "$tmp/$d" && "$@") >"$tmp/out" 2>"$tmp/err"
    rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
    cp "$tmp/out" "$tmp/$d.out"
    cp "$tmp/err" "$tmp/$d.err"
}

# ---- estimate: 7 flows of different sizes ----
run "$fm" generate --streams 7 --duration 20 --seed 3 -o "$tmp/gen.pcap" "$data/video-model.json"
check "a capture of 7 flows" test "$("$fm" flows "$tmp/gen.pcap" | tail -n +2 | wc -l)" = 7
est=(estimate --top 7 --max-k 4 -o m/ "$tmp/gen.pcap")
in_dir e1 "$fm" "${est[@]}"
expect "estimate, 1 process: exit 0" 0
check "estimate, 1 process: 7 models" test "$(ls "$tmp/e1/m" | wc -l)" = 7
for n in 2 4; do
    rm -f "$tmp"/rc.*
    in_dir "e$n" mp "$n" "$tmp/status.sh" "$fm" -v "${est[@]}"
    expect "estimate, $n ranks: exit 0" 0
    check "estimate, $n ranks: every rank exits 0" every_rank_exited 0 "$n"
    check "estimate, $n ranks: the printed lines = 1 process's" cmp "$tmp/e1.out" "$tmp/e$n.out"
    check "estimate, $n ranks: the model files = 1 process's" diff -r "$tmp/e1/m" "$tmp/e$n/m"
done
# Flow p of the selection on rank p mod N: 7 flows on 2 ranks are 4 + 3, on 4 ranks 2+2+2+1.
check "estimate, 2 ranks: 4 and 3 flows fitted" \
    test "$(grep -o 'rank [0-9] of 2: [0-9] of [0-9]' "$tmp/e2.err" | tr '\n' ';')" = \
    "rank 0 of 2: 4 of 4;rank 1 of 2: 3 of 3;"
check "estimate, 4 ranks: 2, 2, 2 and 1 flows fitted" \
    test "$(grep -o 'rank [0-9] of 4: [0-9] of [0-9]' "$tmp/e4.err" | tr '\n' ';')" = \
    "rank 0 of 4: 2 of 2;rank 1 of 4: 2 of 2;rank 2 of 4: 2 of 2;rank 3 of 4: 1 of 1;"
# --json, and more ranks than flows (ranks 2 and 3 have none).
est2=(estimate --top 2 --max-k 4 --json -o m/ "$tmp/gen.pcap")
in_dir j1 "$fm" "${est2[@]}"
in_dir j4 mp 4 "$fm" "${est2[@]}"
expect "estimate --json, 4 ranks for 2 flows: exit 0" 0
check "estimate --json, 4 ranks: the JSON = 1 process's" cmp "$tmp/j1.out" "$tmp/j4.out"
check "estimate --json, 4 ranks: a JSON array of 2" test "$(jq length "$tmp/j4.out")" = 2
check "estimate --json, 4 ranks: the model files = 1 process's" diff -r "$tmp/j1/m" "$tmp/j4/m"

# Two captures: the round goes on from the first capture's flows to the second's.
run "$fm" generate --streams 3 --duration 10 --seed 4 -o "$tmp/gen2.pcap" "$data/video-model.json"
two=(estimate --top 7 --max-k 4 -o m/ "$tmp/gen.pcap" "$tmp/gen2.pcap")
in_dir c1 "$fm" "${two[@]}"
expect "estimate of 2 captures, 1 process: exit 0" 0
check "estimate of 2 captures, 1 process: 10 models" test "$(ls "$tmp/c1/m" | wc -l)" = 10
for n in 2 4; do
    in_dir "c$n" mp "$n" "$fm" -v "${two[@]}"
    expect "estimate of 2 captures, $n ranks: exit 0" 0
    check "estimate of 2 captures, $n ranks: the lines = 1 process's" cmp "$tmp/c1.out" "$tmp/c$n.out"
    check "estimate of 2 captures, $n ranks: the models = 1 process's" diff -r "$tmp/c1/m" "$tmp/c$n/m"
done
# gen2's flows are positions 7-9 of the whole: ranks 1, 0, 1 of 2 (2 and 1 flows).
check "estimate of 2 captures, 2 ranks: gen2's 3 flows on ranks 1, 0, 1" \
    test "$(grep -o 'rank [0-9] of 2: [0-9] of [0-9]' "$tmp/c2.err" | tail -2 | tr '\n' ';')" = \
    "rank 0 of 2: 1 of 1;rank 1 of 2: 2 of 2;"
run "$fm" estimate -o one.json "$tmp/gen.pcap" "$tmp/gen2.pcap"
expect "estimate of 2 captures to one file: usage error" 2 "give a directory"
run "$fm" estimate "$tmp/gen.pcap" "$tmp/e1/../gen.pcap"
expect "estimate of 2 captures of one name: usage error" 2 "would both write gen-INDEX.json"

# A rank that cannot read the capture: every rank exits 1, rank 0 says why.
rm -f "$tmp"/rc.*
in_dir eb mp 2 "$tmp/status.sh" "$tmp/bad.sh" "$fm" "${est[@]}"
expect "estimate, rank 1 fails: exit 1, its message on rank 0" 1 \
    "rank 1 of 2: cannot open '/nonexistent/x.pcap'"
check "estimate, rank 1 fails: every rank exits 1" every_rank_exited 1 2
# A usage error every rank finds: exit 2 everywhere, one message.
rm -f "$tmp"/rc.*
in_dir eu mp 2 "$tmp/status.sh" "$fm" estimate --top 3 -o one.json "$tmp/gen.pcap"
expect "estimate -o FILE for 3 flows, 2 ranks: usage error" 2 "give a directory"
check "estimate -o FILE, 2 ranks: every rank exits 2" every_rank_exited 2 2

# ---- agents --prompts: the stub LLM server answers every run alike ----
start_stub() {
    rm -f "$tmp/port"
    python3 "$src/tests/support/stub_llm.py" "$1" --port-file "$tmp/port" \
        --log "$tmp/log.jsonl" 2>"$tmp/stub.err" &
    stub_pid=$!
    for _ in $(seq 100); do
        [ -s "$tmp/port" ] && break
        sleep 0.1
    done
    [ -s "$tmp/port" ] || {
        echo "FAIL: the stub did not start: $(cat "$tmp/stub.err")"
        exit 1
    }
    url=http://127.0.0.1:$(cat "$tmp/port")
}
stop_stub() {
    kill "$stub_pid" 2>/dev/null
    wait "$stub_pid" 2>/dev/null
    stub_pid=
}
# What must be equal: the lines but for the measured wall time, the transcript but for its
# clock line and the seconds each reply took ("--- reviewer (4 tokens, 0.1 s) ---"), which
# differ from one process's run to the next too.
lines() { jq -c 'del(.wall_s)' "$1"; }
transcript() { grep -v '^flowmimic agents transcript, ' "$1" | sed -E 's/(tokens), [0-9.]+ s\)/\1, T s)/'; }
ag=(agents --timeout 10 --prompts "$data/prompts.json" --repeat 3 -m llama3.2:3b -m qwen2.5:3b)
start_stub "$data/batch.json"
in_dir a1 "$fm" "${ag[@]}" --server "$url" "$data/video-model.json"
expect "agents, 1 process: exit 0" 0
check "agents, 1 process: 12 runs" test "$(grep -c '^{' "$tmp/a1.out")" = 12
for n in 2 4; do
    rm -f "$tmp"/rc.*
    in_dir "a$n" mp "$n" "$tmp/status.sh" "$fm" "${ag[@]}" --server "$url" "$data/video-model.json"
    expect "agents, $n ranks: exit 0" 0
    check "agents, $n ranks: every rank exits 0" every_rank_exited 0 "$n"
    check "agents, $n ranks: the lines = 1 process's" \
        cmp <(lines "$tmp/a1.out") <(lines "$tmp/a$n.out")
    check "agents, $n ranks: the table = 1 process's" cmp "$tmp/a1.err" "$tmp/a$n.err"
    check "agents, $n ranks: the transcript = 1 process's" \
        cmp <(transcript "$tmp/a1/output.txt") <(transcript "$tmp/a$n/output.txt")
done
stop_stub
start_stub "$data/batch.json"
# Run k on rank k mod 4: 12 runs are 3 a rank (-v: a line per rank on rank 0).
in_dir av mp 4 "$fm" -v "${ag[@]}" --server "$url" "$data/video-model.json"
check "agents -v, 4 ranks: 3 runs on each rank" \
    test "$(grep -c 'rank [0-3] of 4: 3 runs' "$tmp/av.err")" = 4
# A model the server lacks: its runs are errors, exit 1, the same lines in -o.
bat=(agents --timeout 10 --prompts "$data/prompts.json" -m llama3.2:3b -m missing:1b -o runs.jsonl)
in_dir b1 "$fm" "${bat[@]}" --server "$url" "$data/video-model.json"
in_dir b2 mp 2 "$fm" "${bat[@]}" --server "$url" "$data/video-model.json"
check "agents, a missing model, 2 ranks: exit 1" test "$rc" = 1
check "agents, a missing model, 2 ranks: 2 runs of it are errors" \
    test "$(grep -c '"model":"missing:1b".*"outcome":"error"' "$tmp/b2/runs.jsonl")" = 2
check "agents, a missing model, 2 ranks: the -o lines = 1 process's" \
    cmp <(lines "$tmp/b1/runs.jsonl") <(lines "$tmp/b2/runs.jsonl")
check "agents, a missing model, 2 ranks: the same messages" cmp "$tmp/b1.err" "$tmp/b2.err"
stop_stub
# No server: every rank exits 1, one message.
rm -f "$tmp"/rc.*
in_dir d2 mp 2 "$tmp/status.sh" "$fm" "${ag[@]}" --server "$url" "$data/video-model.json"
expect "agents, no server, 2 ranks: exit 1" 1 "${url#http://}"
check "agents, no server: every rank exits 1" every_rank_exited 1 2

report_and_exit
