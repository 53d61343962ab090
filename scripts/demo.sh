#!/usr/bin/env bash
# scripts/demo.sh - flowmimic's main job on a bundled capture: install what is missing, build,
# list the flows, estimate a model of the main flow and show it, then play the model between
# two emulated hosts (two network namespaces joined by a veth pair, created here and removed at
# the end; needs root) and print what the receiver saw beside the capture. Without root it
# writes a synthetic pcap instead and says why.
# Usage: scripts/demo.sh [CAPTURE]   (default: traffic_dumps/rtp_video_160kbps_1dir__trex.pcap)
#   DEMO_SECONDS (default 10): how long the model plays; OUT_DIR (default out/demo)
set -euo pipefail
cd "$(dirname "$0")/.."
capture=${1:-traffic_dumps/rtp_video_160kbps_1dir__trex.pcap}
secs=${DEMO_SECONDS:-10}
out=${OUT_DIR:-out/demo}
scripts/install-deps.sh
# A build tree of its own: Release, no tests (which need cmocka), leaving build/ as it is.
# Two demos started at once take turns at it (flock, from util-linux).
mkdir -p build-demo
(
    flock 9
    cmake -S . -B build-demo -DCMAKE_BUILD_TYPE=Release -DFM_TESTS=OFF >/dev/null
    cmake --build build-demo -j"$(nproc)" >/dev/null
) 9>build-demo/demo.lock
fm=$PWD/build-demo/cli/flowmimic
mkdir -p "$out"

echo "== flowmimic flows $capture"
"$fm" flows --top 10 "$capture"
echo
echo "== flowmimic estimate $capture"
model=$("$fm" estimate --plot "$out" -o "$out/model.json" "$capture" | cut -f1)
echo "$model"
echo
echo "== flowmimic show $model"
"$fm" show "$model"
echo

# What the capture's flow looked like, for the comparison at the end.
flow=$("$fm" show --json "$model" | jq -r '.source.flow')
"$fm" flows --json "$capture" | jq --arg f "$flow" '.[] | select(.flow == $f)' >"$out/capture-flow.json"

can_netns() {
    [ "$(id -u)" = 0 ] && command -v ip >/dev/null && ip netns add "fmdemo-probe-$$" 2>/dev/null &&
        ip netns del "fmdemo-probe-$$"
}
if ! can_netns; then
    echo "== not root (or no network namespaces here): writing a synthetic capture instead of"
    echo "   playing the model between two emulated hosts; run as root to see it on the wire"
    "$fm" generate --duration "$secs" -o "$out/synthetic.pcap" "$model" >/dev/null
    "$fm" flows "$out/synthetic.pcap"
    exit 0
fi

nsa=fmdemo-a-$$
nsb=fmdemo-b-$$
cleanup() {
    ip netns del "$nsa" 2>/dev/null || true
    ip netns del "$nsb" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$nsa"
ip netns add "$nsb"
# Each end is made inside its namespace, so that the names cannot meet another run's.
ip link add vdemoa netns "$nsa" type veth peer name vdemob netns "$nsb"
ip -n "$nsa" addr add 198.18.0.1/24 dev vdemoa
ip -n "$nsb" addr add 198.18.0.2/24 dev vdemob
ip -n "$nsa" link set vdemoa up
ip -n "$nsb" link set vdemob up
ip -n "$nsa" link set lo up
ip -n "$nsb" link set lo up

port=$("$fm" show --json "$model" | jq -r '.flow.remote.port')
two_sided=$("$fm" show --json "$model" | jq -r '.sides.remote != null and .sides.remote.iat != null')
echo "== playing the model for ${secs}s: host A (198.18.0.1) -> host B (198.18.0.2)"
if [ "$two_sided" = true ]; then
    # Both ends of the call: each host plays its side at the other and listens for the peer's.
    lport=$("$fm" show --json "$model" | jq -r '.flow.local.port')
    start=$(($(date +%s) + 2))
    ip netns exec "$nsb" "$fm" -q replay --iface vdemob --peer 198.18.0.1 --side remote \
        --duration "$secs" --listen --start-at "$start" --json "$model" >"$out/host-b.json" &
    pid_b=$!
    ip netns exec "$nsa" "$fm" -q replay --iface vdemoa --peer 198.18.0.2 --side local \
        --duration "$secs" --listen --start-at "$start" --json "$model" >"$out/host-a.json"
    wait $pid_b
    # One line per direction: what one host sent, what the other received of it.
    direction() { # direction LABEL SENDER.json RECEIVER.json
        jq -r --arg l "$1" --slurpfile rx "$3" '
            def r3: . * 1000 | round / 1000;
            $rx[0].received as $r | ($r.streams[0] // {}) as $s |
            "\($l): sent \(.sent.packets), received \($r.packets), lost \($r.lost), " +
            "send lateness p99 \(.sent.lateness_us.p99 | r3) us, RTP jitter " +
            "\(($s.jitter_ms // 0) | r3) ms, gap p50/p90 \(($s.gap_ms.p50 // 0) | r3)/" +
            "\(($s.gap_ms.p90 // 0) | r3) ms, payload mean \(($s.payload_bytes.mean // 0) | r3) B"
            ' "$2"
    }
    echo
    echo "== the call, both directions (ports $lport and $port)"
    direction "A -> B" "$out/host-a.json" "$out/host-b.json"
    direction "B -> A" "$out/host-b.json" "$out/host-a.json"
else
    ip netns exec "$nsb" "$fm" -q receive --port "$port" --duration $((secs + 2)) --json \
        >"$out/received.json" &
    pid_b=$!
    sleep 0.5
    ip netns exec "$nsa" "$fm" replay --iface vdemoa --peer 198.18.0.2 --side local \
        --duration "$secs" "$model"
    wait $pid_b
    echo
    echo "== what host B received (${secs}s of the model), beside the capture's flow"
    "$fm" receive --read "$capture" --port "$port" --json >"$out/capture-stats.json"
    jq -r --slurpfile r "$out/received.json" '
        def row($name; $a; $b): "\($name | . + (" " * (24 - length)))\($a | tostring | . + (" " * (14 - length)))\($b)";
        def r1: . * 10 | round / 10;
        def r3: . * 1000 | round / 1000;
        .streams[0] as $c | $r[0].streams[0] as $g |
        row(""; "capture"; "received"),
        row("packets"; $c.packets; $g.packets),
        row("packets/s"; ($c.packets / $c.duration_s | r1); ($g.packets / $g.duration_s | r1)),
        row("payload mean (B)"; ($c.payload_bytes.mean | r1); ($g.payload_bytes.mean | r1)),
        row("payload p90/p99 (B)"; "\($c.payload_bytes.p90)/\($c.payload_bytes.p99)";
            "\($g.payload_bytes.p90)/\($g.payload_bytes.p99)"),
        row("gap mean (ms)"; ($c.gap_ms.mean | r3); ($g.gap_ms.mean | r3)),
        row("gap p90 (ms)"; ($c.gap_ms.p90 | r3); ($g.gap_ms.p90 | r3)),
        row("gap p99 (ms)"; ($c.gap_ms.p99 | r3); ($g.gap_ms.p99 | r3)),
        row("lost"; $c.lost; $g.lost),
        row("RTP jitter (ms)"; ($c.jitter_ms | r3); ($g.jitter_ms | r3))
        ' "$out/capture-stats.json"
fi
