#!/usr/bin/env bash
# tests/integration/capture.sh - `flowmimic capture` on a veth pair between two network
# namespaces (198.18.0.1 sends with udpsend, 198.18.0.2 captures): the filter from --host and
# --port, --count, --duration, --filter, -w -, --json; SIGINT and SIGTERM leave a valid file
# with every packet sent; a full disk (a 64 KiB tmpfs) leaves a valid file cut at a whole
# record; and the usage and runtime errors. Files are read back by tshark and by flowmimic.
# Usage: capture.sh FLOWMIMIC SRCDIR UDPSEND
# Network safety: traffic goes only over the namespaces' veth pair (udpsend refuses any other
# address); every sender is bounded in count and every capture in time.
set -u
fm=$1
src=$2
udpsend=$3
export LC_ALL=C TZ=UTC
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bg=""

# shellcheck source=../support/netns.sh
. "$src/tests/support/netns.sh"
# shellcheck source=../support/check.sh
. "$src/tests/support/check.sh"

cleanup() {
    [ -n "$bg" ] && kill "$bg" 2>/dev/null
    netns_cleanup
    rm -rf "$tmp"
}

# count FILE [FILTER]: packets tshark reads from FILE (matching a display filter); tshark
# fails, and the count is then empty, on a file that is not a whole capture.
count() {
    local n
    n=$(tshark -r "$1" ${2:+-Y "$2"} -T fields -e frame.number 2>"$tmp/tshark.err" | wc -l) ||
        return 1
    grep -qi 'cut short\|appears to be damaged\|isn.t a capture' "$tmp/tshark.err" && return 1
    echo "$n"
}

# cap_bg OUT ERR ARGS...: start a capture in NS_B in the background (bg = its pid; `ip netns
# exec` execs flowmimic, so signals reach it) and wait until it says it is capturing.
cap_bg() {
    local o=$1 e=$2
    shift 2
    # Emptied here, not only by the background job's redirection, which may come after the
    # wait below has read a previous run's "capturing on" from the same file (the flake of
    # the SIGTERM case: packets sent before the capture had started).
    : >"$o"
    : >"$e"
    ip netns exec "$NS_B" "$fm" -v capture -i "$IF_B" "$@" >"$o" 2>"$e" &
    bg=$!
    for _ in $(seq 1 50); do
        grep -q 'capturing on' "$e" && return 0
        sleep 0.1
    done
    return 1
}

# jqt EXPR FILE: the JSON in FILE makes EXPR true.
jqt() {
    jq -e "$@" >/dev/null
}

cap_wait() {
    wait "$bg"
    rc=$?
    bg=""
}

# ---- usage errors (no network, no privileges needed) ----
run "$fm" capture -w "$tmp/x.pcap"
expect "no interface" 2 "-i IF"
run "$fm" capture -i lo
expect "no output" 2 "-w FILE"
run "$fm" capture -i lo -w "$tmp/x.pcap" --filter 'udp and prot 5'
expect "bad filter" 2 "'udp and prot 5' rejected"
run "$fm" capture -i lo -w "$tmp/x.pcap" --filter udp --port 5004
expect "--filter with --port" 2 "not with --host or --port"
run "$fm" capture -i lo -w "$tmp/x.pcap" --port 5004 udp
expect "a trailing filter with --port" 2 "not with --filter, --host or --port ('udp')"
run "$fm" capture -i lo -w "$tmp/x.pcap" udp and prot 5
expect "bad trailing filter" 2 "'udp and prot 5' rejected"
run "$fm" capture -i lo -w "$tmp/x.pcap" --host example.org
expect "host not an address" 2 "example.org"
run "$fm" capture -i lo -w "$tmp/x.pcap" --port 70000
expect "port out of range" 2 "70000"
run "$fm" capture -i lo -w "$tmp/x.pcap" --count 0
expect "zero count" 2 "--count"
run "$fm" capture -i lo -w - --json
expect "--json with -w -" 2 "--json"
run "$fm" capture -i lo -w "$tmp/x.pcap" extra
expect "extra argument" 2 "extra"
run "$fm" capture --help
check "--help exits 0" test "$rc" = 0
check "--help has an example" grep -q "flowmimic capture -i eth0" "$tmp/out"
check "no file after usage errors" test ! -e "$tmp/x.pcap"

# ---- namespaces ----
netns_setup || {
    echo "FAIL: cannot set up the namespaces"
    exit 1
}
trap cleanup EXIT
command -v tshark >/dev/null || {
    echo "FAIL: tshark is not installed (scripts/install-deps.sh --test installs it)"
    exit 1
}

# Runtime errors: no such interface, a directory as the output; neither leaves a file, and a
# file already there is left alone when the capture cannot start.
run in_b "$fm" capture -i nosuch0 -w "$tmp/x.pcap" -d 1
expect "unknown interface" 1 "no interface 'nosuch0'"
check "no file for an unknown interface" test ! -e "$tmp/x.pcap"
echo keep >"$tmp/old.pcap"
run in_b "$fm" capture -i nosuch0 -w "$tmp/old.pcap" -d 1
check "an existing file survives a failed start" grep -q keep "$tmp/old.pcap"
run in_b "$fm" capture -i "$IF_B" -w "$tmp" -d 1
expect "directory as output" 1 "is a directory"
# Devices named as the output (private nodes made with mknod, never /dev itself): written
# to, never removed or replaced. /dev/full fails at the file header with "no space left".
mknod "$tmp/null" c 1 3
mknod "$tmp/full" c 1 7
run in_b "$fm" capture -i "$IF_B" -w "$tmp/full" -d 1
expect "/dev/full: no space left" 1 "cannot write '$tmp/full': No space left on device"
check "/dev/full: still the device" test -c "$tmp/full"
run in_b "$fm" capture -i "$IF_B" -w "$tmp/null" -d 0.2
expect "/dev/null: exit 0" 0
check "/dev/null: still the device" test -c "$tmp/null"
run in_b "$fm" capture -i nosuch0 -w "$tmp/null" -d 1
check "/dev/null: a failed start leaves the device" test -c "$tmp/null"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    run setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
        "$fm" capture -i lo -w /tmp/fm-capture-noperm.$$.pcap -d 1
    expect "no permission" 1 "root or CAP_NET_RAW"
    check "no file without permission" test ! -e /tmp/fm-capture-noperm.$$.pcap
fi

# --host and --port: only UDP from A to port 5004 is kept; --count 50 stops the capture.
cap_bg "$tmp/o1" "$tmp/e1" --host "$IP_A" --port 5004 -c 50 -d 20 -w "$tmp/c1.pcap" --json
in_a "$udpsend" -n 20 -g 200 -l 200 "$IP_B" 5006
in_a "$udpsend" -n 80 -g 200 -l 300 "$IP_B" 5004
cap_wait
expect "count: exit 0" 0
check "count: json says 50 packets" grep -qE '"packets": 50,' "$tmp/o1"
check "count: json says it ended at a limit" grep -q '"ended": "limit"' "$tmp/o1"
check "count: json is valid" jqt '.kernel_drops == 0 and .timestamps == "ns"' "$tmp/o1"
check "count: tshark reads 50 packets" test "$(count "$tmp/c1.pcap")" = 50
check "count: all to port 5004" test "$(count "$tmp/c1.pcap" 'udp.dstport == 5004 && ip.src == 198.18.0.1')" = 50
run "$fm" flows --json "$tmp/c1.pcap"
check "count: flowmimic reads one flow of 50 packets" \
    jqt 'length == 1 and .[0].local_packets == 50' "$tmp/out"
check "count: nanosecond timestamps" \
    bash -c "tshark -r '$tmp/c1.pcap' -T fields -e frame.time_epoch -c 1 | grep -qE '\\.[0-9]{9}$'"

# A control character in the output's name is escaped in the summary, never sent raw.
esc=$(printf '\033')
cap_bg "$tmp/o7" "$tmp/e7" --port 5004 -c 3 -d 10 -w "$tmp/c${esc}[31m.pcap"
in_a "$udpsend" -n 3 -g 200 "$IP_B" 5004
cap_wait
expect "escaped name: exit 0" 0
check "escaped name: the summary shows \\x1b" grep -qF 'c\x1b[31m.pcap' "$tmp/e7"
check "escaped name: no raw ESC on stderr" test "$(tr -dc '\033' <"$tmp/e7" | wc -c)" = 0

# --duration 1 with 30 packets sent: all 30 kept, about a second elapsed.
cap_bg "$tmp/o2" "$tmp/e2" --port 5004 -d 1 -w "$tmp/c2.pcap" --json
in_a "$udpsend" -n 30 -g 1000 "$IP_B" 5004
cap_wait
expect "duration: exit 0" 0
check "duration: 30 packets" test "$(count "$tmp/c2.pcap")" = 30
check "duration: about one second" jqt '.elapsed_s >= 0.99 and .elapsed_s < 1.5' "$tmp/o2"

# --filter: a whole expression.
cap_bg "$tmp/o3" "$tmp/e3" --filter 'udp dst port 5006' -d 1 -w "$tmp/c3.pcap"
in_a "$udpsend" -n 10 -g 1000 "$IP_B" 5004
in_a "$udpsend" -n 7 -g 1000 "$IP_B" 5006
cap_wait
check "filter: only the 7 to port 5006" test "$(count "$tmp/c3.pcap")" = 7

# The filter as the arguments after the options, as tcpdump takes it.
cap_bg "$tmp/o7" "$tmp/e7" -d 1 -w "$tmp/c7.pcap" udp dst port 5006
in_a "$udpsend" -n 10 -g 1000 "$IP_B" 5004
in_a "$udpsend" -n 7 -g 1000 "$IP_B" 5006
cap_wait
check "trailing filter: only the 7 to port 5006" test "$(count "$tmp/c7.pcap")" = 7

# SIGINT and SIGTERM: the normal end of a capture, as for tcpdump: exit 0, every packet sent
# is in a valid file.
for sig in INT TERM; do
    cap_bg "$tmp/o4" "$tmp/e4" --port 5004 -d 30 -w "$tmp/c4.pcap"
    in_a "$udpsend" -n 40 -g 500 "$IP_B" 5004
    sleep 0.3
    kill -"$sig" "$bg"
    cap_wait
    check "SIG$sig: exit 0, as tcpdump" test "$rc" = 0
    check "SIG$sig: 40 packets in a valid file" test "$(count "$tmp/c4.pcap")" = 40
    check "SIG$sig: the summary counts 40" grep -q '^captured 40 packets' "$tmp/e4"
    rm -f "$tmp/c4.pcap"
done

# -w -: the capture on standard output, read by tshark from a pipe.
cap_bg "$tmp/c5.pcap" "$tmp/e5" --port 5004 -c 12 -d 20 -w -
in_a "$udpsend" -n 12 -g 500 "$IP_B" 5004
cap_wait
expect "stdout: exit 0" 0
check "stdout: 12 packets through a pipe" \
    test "$(tshark -r - -T fields -e frame.number <"$tmp/c5.pcap" 2>/dev/null | wc -l)" = 12

# A full disk: a 64 KiB file system fills after about 45 packets of 1400 bytes. The capture
# stops with a one-line error, and the file holds exactly the packets it reports, whole.
mkdir -p "$tmp/small"
cat >"$tmp/full.sh" <<EOF
mount -t tmpfs -o size=64k fmcap "$tmp/small" || exit 99
ip netns exec "$NS_B" "$fm" -v capture -i "$IF_B" --port 5004 -d 20 -c 300 \
    -w "$tmp/small/c6.pcap" --json >"$tmp/o6" 2>"$tmp/e6" &
pid=\$!
for _ in \$(seq 1 50); do grep -q 'capturing on' "$tmp/e6" && break; sleep 0.1; done
ip netns exec "$NS_A" "$udpsend" -n 120 -g 500 -l 1400 "$IP_B" 5004
wait \$pid
echo \$? >"$tmp/rc6"
cp "$tmp/small/c6.pcap" "$tmp/c6.pcap"
umount "$tmp/small"
EOF
if unshare -m bash "$tmp/full.sh"; then
    rc=$(cat "$tmp/rc6")
    err=$(grep -v 'capturing on' "$tmp/e6")
    printf '%s\n' "$err" >"$tmp/err"
    expect "full disk: one-line error" 1 "No space left on device"
    n=$(jq .packets "$tmp/o6")
    check "full disk: some packets kept" test "$n" -gt 10
    check "full disk: file holds exactly what was reported" test "$(count "$tmp/c6.pcap")" = "$n"
    check "full disk: json says error" jqt '.ended == "error"' "$tmp/o6"
else
    bad "full disk: cannot mount a tmpfs in a private mount namespace"
fi

report_and_exit
