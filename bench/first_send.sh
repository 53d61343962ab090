#!/usr/bin/env bash
# bench/first_send.sh - why every sender's first packet reaches the receiver late: the
# duration of a process's first UDP send over the veth pair against its later sends.
# Usage: bench/first_send.sh   (environment: ROUNDS=15)
# Creates the two namespaces of bench/netns.sh (deleted on exit) and runs bench/first_send in
# the sending one, ROUNDS times per mode, the modes interleaved: cold (nothing before the
# first send), probe (a MSG_PROBE send first: routing only), lo (a datagram to 127.0.0.1:9
# first), veth (a datagram to the peer's port 9 through another socket first). Each run is a
# new process sending 10 datagrams 100 us apart to 198.18.0.2:5006; nothing listens there.
# Prints, per mode, the median over rounds of the first send's duration and of the median of
# sends 2-10.
set -euo pipefail
# shellcheck source=bench/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=bench/netns.sh
. "$BENCH_DIR/netns.sh"

ROUNDS=${ROUNDS:-15}
MODES="cold probe lo veth"
bench_build first_send
FS=$BUILD_DIR/bench/first_send

work=$(mktemp -d)
NETNS_WORK_DIR=$work
netns_up

for ((r = 1; r <= ROUNDS; r++)); do
    for m in $MODES; do
        tx "$FS" "$m" "$IP_RX" >>"$work/runs.jsonl"
    done
done
echo "first_send: $ROUNDS rounds per mode, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
"$PY" - "$work/runs.jsonl" <<'PYEOF'
import json, statistics, sys
by = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    by.setdefault(r["mode"], []).append(r["send_ns"])
print("| before the first send | first send us (median) | min | max | later sends us (median) |")
print("|---|--:|--:|--:|--:|")
for mode, runs in by.items():
    first = [x[0] / 1e3 for x in runs]
    later = [statistics.median(x[1:]) / 1e3 for x in runs]
    print(f"| {mode} | {statistics.median(first):.1f} | {min(first):.1f} | {max(first):.1f} | "
          f"{statistics.median(later):.1f} |")
PYEOF
