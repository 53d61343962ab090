#!/usr/bin/env bash
# bench/compare.sh - `flowmimic compare` on two captures of 1e6 packets against tshark's
# conversation statistics on the same two files, the reference time.
# Usage: bench/compare.sh   (environment: RUNS=3 PACKETS=1000000 FLOWS=50 CAPTURE_A=path
#                            CAPTURE_B=path TOOLS="flowmimic flowmimic-spec tshark")
# Generates the captures with gen_capture when they do not exist (by default in $TMPDIR; A
# with seed 1, B with seed 2: the same 50 flows, other sizes and gaps), warms the page cache,
# then runs every tool once per round, RUNS rounds, tools interleaved. Tools:
#   flowmimic       flowmimic compare A B  (the largest flow of each: every flow keeps its
#                   packets until the ranking is known)
#   flowmimic-spec  flowmimic compare --flow SPEC --flow-b SPEC A B  (only that flow is kept)
#   tshark          tshark -r A -q -z conv,udp; tshark -r B -q -z conv,udp  (both files, as
#                   compare reads both)
# Prints a Markdown table: median wall time, min, max, median CPU time (user + sys), Mpps over
# both files, and the time of each tool as a ratio to tshark's, median over rounds of the
# ratio in the same round. Only reads files; sends nothing anywhere.
set -euo pipefail
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RUNS=${RUNS:-3}
PACKETS=${PACKETS:-1000000}
FLOWS=${FLOWS:-50}
CAPTURE_A=${CAPTURE_A:-${TMPDIR:-/tmp}/flowmimic-bench-${PACKETS}p-${FLOWS}f.pcap}
CAPTURE_B=${CAPTURE_B:-${TMPDIR:-/tmp}/flowmimic-bench-${PACKETS}p-${FLOWS}f-seed2.pcap}
TOOLS=${TOOLS:-flowmimic flowmimic-spec tshark}

bench_build gen_capture flowmimic
FM=$BUILD_DIR/cli/flowmimic

gen() {
    if [[ ! -s $1 ]]; then
        echo "generating $1 ($PACKETS packets, $FLOWS flows, seed $2)" >&2
        "$BUILD_DIR/bench/gen_capture" "$1.tmp" "$PACKETS" "$FLOWS" "$2"
        mv "$1.tmp" "$1"
    fi
}
gen "$CAPTURE_A" 1
gen "$CAPTURE_B" 2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The largest flow of each file, for flowmimic-spec (and a check that compare works).
"$FM" compare --json "$CAPTURE_A" "$CAPTURE_B" >"$work/check.json"
SPEC_A=$(jq -r .a.flow "$work/check.json")
SPEC_B=$(jq -r .b.flow "$work/check.json")
count_a=$("$FM" flows --json "$CAPTURE_A" | jq '[.[] | .local_packets + .remote_packets] | add')
count_b=$("$FM" flows --json "$CAPTURE_B" | jq '[.[] | .local_packets + .remote_packets] | add')
count=$((count_a + count_b))

run_tool() {
    case $1 in
    flowmimic) "$FM" compare "$CAPTURE_A" "$CAPTURE_B" ;;
    flowmimic-spec) "$FM" compare --flow "$SPEC_A" --flow-b "$SPEC_B" "$CAPTURE_A" "$CAPTURE_B" ;;
    tshark)
        tshark -r "$CAPTURE_A" -q -z conv,udp
        tshark -r "$CAPTURE_B" -q -z conv,udp
        ;;
    *) die "unknown tool '$1'" ;;
    esac >/dev/null
}

tools=()
for t in $TOOLS; do
    if [[ $t == tshark ]] && ! command -v tshark >/dev/null; then
        echo "skipping tshark: not installed" >&2
        continue
    fi
    # One untimed run each: warms the page cache and checks that the tool works.
    if ! run_tool "$t" 2>"$work/err"; then
        cat "$work/err" >&2
        die "$t failed"
    fi
    tools+=("$t")
done

TIMEFORMAT='%R %U %S'
for ((r = 1; r <= RUNS; r++)); do
    for t in "${tools[@]}"; do
        { time run_tool "$t" 2>"$work/err"; } 2>"$work/time" || {
            cat "$work/err" >&2
            die "$t failed in round $r"
        }
        read -r real user sys <"$work/time"
        printf '%s %d %s %s %s\n' "$t" "$r" "$real" "$user" "$sys" >>"$work/runs.txt"
    done
done

echo "A: $CAPTURE_A ($count_a packets, $(du -h "$CAPTURE_A" | cut -f1)); flow '$SPEC_A'"
echo "B: $CAPTURE_B ($count_b packets, $(du -h "$CAPTURE_B" | cut -f1)); flow '$SPEC_B'"
echo "$RUNS rounds, tools interleaved"
echo
"$PY" - "$work/runs.txt" "$count" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
count = int(sys.argv[2])
cmds = {
    "flowmimic": "flowmimic compare A B",
    "flowmimic-spec": "flowmimic compare --flow SPEC_A --flow-b SPEC_B A B",
    "tshark": "tshark -r A -q -z conv,udp; tshark -r B -q -z conv,udp",
}
tools = list(dict.fromkeys(r[0] for r in rows))
by = {t: {int(r[1]): (float(r[2]), float(r[3]) + float(r[4])) for r in rows if r[0] == t}
      for t in tools}
print("| tool | command | median s | min s | max s | CPU s | Mpps | time / tshark |")
print("|---|---|--:|--:|--:|--:|--:|--:|")
for t in tools:
    reals = [v[0] for v in by[t].values()]
    med = statistics.median(reals)
    cpu = statistics.median(v[1] for v in by[t].values())
    ratio = "-"
    if "tshark" in by:
        # Paired by round: both runs seconds apart, under the same load.
        rs = [by[t][k][0] / by["tshark"][k][0] for k in by[t] if k in by["tshark"]]
        ratio = f"{statistics.median(rs):.4f}"
    print(f"| {t} | `{cmds.get(t, t)}` | {med:.3f} | {min(reals):.3f} | {max(reals):.3f} | "
          f"{cpu:.3f} | {count / med / 1e6:.2f} | {ratio} |")
EOF
