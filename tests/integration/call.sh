#!/usr/bin/env bash
# tests/integration/call.sh - two hosts emulating both ends of a call: two network namespaces
# joined by a veth pair, each running `flowmimic replay --listen` with one side of a model
# estimated from a real two-way capture; then what arrived against what the model draws.
# Usage: call.sh FLOWMIMIC WIRECHECK SRCDIR
set -u
fm=$1
wc_tool=$2
src=$3
# shellcheck source=tests/support/netns.sh
. "$src/tests/support/netns.sh"
netns_setup || { echo "netns setup failed"; exit 1; }
command -v jq >/dev/null || { echo "jq is missing: scripts/install-deps.sh --test"; exit 1; }
tmp=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$tmp"' EXIT
pass=0
fail=0
check() {
    local name=$1
    shift
    if "$@"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $name"
    fi
}

"$fm" estimate -o "$tmp/call.json" "$src/traffic_dumps/rtp_g729_voice_bidir_vad__trex.pcap" >/dev/null
lport=$(jq -r .flow.local.port "$tmp/call.json")
rport=$(jq -r .flow.remote.port "$tmp/call.json")

# ---- both ends at once, each listening for the other ----
# One wall-clock start time for both (--start-at): each receiver is up before either sends,
# so each direction must arrive whole. Seeded: without --seed each run draws anew, and a
# voice model's silences may then leave fewer packets in 3 s than the counts below assume.
start=$(($(date +%s) + 2))
in_b "$fm" replay --iface "$IF_B" --peer "$IP_A" --side remote --duration 3 --listen --json \
    --seed 2 --start-at "$start" "$tmp/call.json" >"$tmp/b.json" 2>"$tmp/b.err" &
pid_b=$!
in_a "$fm" replay --iface "$IF_A" --peer "$IP_B" --side local --duration 3 --listen --json \
    --seed 1 --start-at "$start" "$tmp/call.json" >"$tmp/a.json" 2>"$tmp/a.err"
rc_a=$?
wait $pid_b
rc_b=$?
check "host A exits 0" test "$rc_a" = 0
check "host B exits 0" test "$rc_b" = 0
a_sent=$(jq .sent.packets "$tmp/a.json")
b_sent=$(jq .sent.packets "$tmp/b.json")
a_got=$(jq .received.packets "$tmp/a.json")
b_got=$(jq .received.packets "$tmp/b.json")
echo "A sent $a_sent, B received $b_got; B sent $b_sent, A received $a_got"
check "A sent packets (G.729 at ~40 pps for 3 s)" test "$a_sent" -gt 60
check "B sent packets" test "$b_sent" -gt 60
check "B received every packet A sent" test "$b_got" = "$a_sent"
check "A received every packet B sent" test "$a_got" = "$b_sent"
check "no loss A -> B" test "$(jq .received.lost "$tmp/b.json")" = 0
check "no loss B -> A" test "$(jq .received.lost "$tmp/a.json")" = 0
check "B sees A's port $lport" test "$(jq .received.streams[0].sport "$tmp/b.json")" = "$lport"
check "A sees B's port $rport" test "$(jq .received.streams[0].sport "$tmp/a.json")" = "$rport"
check "B sees G.729 (PT 18)" test "$(jq .received.streams[0].payload_type "$tmp/b.json")" = 18
# RTP timestamps at G.729's own 8 kHz clock: RFC 3550 jitter stays small (with 90 kHz stamps
# read at 8 kHz it came out at about 229 ms).
check "RTP jitter at the payload type's clock under 5 ms" \
    test "$(jq '.received.streams[0].jitter_ms < 5' "$tmp/b.json")" = true
check "one-way delay measured by the probe" test "$(jq '.received.streams[0].owd_ms.mean < 50' "$tmp/b.json")" = true

# ---- what arrives is what the model draws ----
# The same seed and count give the same schedule to `generate` (no network) and `replay`;
# 400 voice packets take about 10 s, and the receiver stops at the 400th.
in_b "$fm" receive --port "$rport" --duration 30 --count 400 --write "$tmp/got.pcap" --json \
    >"$tmp/recv.json" 2>"$tmp/recv.err" &
pid_r=$!
sleep 0.5
in_a "$fm" replay --iface "$IF_A" --peer "$IP_B" --side local --count 400 --seed 7 \
    "$tmp/call.json" >/dev/null 2>"$tmp/replay.err"
check "replay of 400 packets exits 0" test $? = 0
wait $pid_r
"$fm" generate --side local --count 400 --seed 7 -o "$tmp/ref.pcap" "$tmp/call.json" >/dev/null
"$fm" generate --side local --count 400 --seed 8 -o "$tmp/ref8.pcap" "$tmp/call.json" >/dev/null
read -r _ nref _ ngot _ ks_len _ w1_len _ ks_gap _ w1_gap_us < <("$wc_tool" "$tmp/ref.pcap" "$tmp/got.pcap" "$rport")
read -r _ _ _ _ _ _ _ _ _ _ _ w1_model_us < <("$wc_tool" "$tmp/ref.pcap" "$tmp/ref8.pcap" "$rport")
echo "generated $nref, received $ngot: KS sizes $ks_len, W1 gaps ${w1_gap_us} us (KS $ks_gap);" \
    "two draws of the model differ by W1 ${w1_model_us} us"
check "all 400 packets arrived" test "$ngot" = 400
check "sizes on the wire are the model's draws (KS 0)" test "$ks_len" = 0.000000
# Gaps: each is off by the two sends' lateness, tens of us here, more on a loaded machine.
# Consistent with the model means: the wire moves the gaps less than the model's own
# randomness does (two draws with other seeds); a sender that ignored its deadlines would
# move them by whole gaps (tens of ms).
check "gaps on the wire are the model's draws (W1 below the model's own spread)" \
    awk -v w="$w1_gap_us" -v m="$w1_model_us" 'BEGIN { exit !(w < m) }'

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
