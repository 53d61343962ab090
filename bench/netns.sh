# shellcheck shell=bash
# bench/netns.sh - the two network namespaces of the wire benchmarks, joined by a veth pair.
# Sourced after common.sh, not run. netns_up creates them and installs the EXIT trap that
# deletes them again (with the veth pair, which dies with its namespace):
#   NS_TX  sending namespace, interface VETH_TX = vethA, 198.18.0.1/24
#   NS_RX  receiving namespace, interface VETH_RX = vethB, 198.18.0.2/24
#   RX_MAC / TX_MAC  the MAC addresses of vethB / vethA
# Addresses are from 198.18.0.0/15 (RFC 2544 benchmark space); the namespaces have no other
# interface than lo, so nothing sent in them can leave the machine. Neighbour entries are
# permanent (no ARP during a measurement) and IPv6 is off (no router solicitations or DAD).
# tx/rx run a command in one namespace: tx tcpreplay -i vethA ...

NS_TX=fmbench-tx-$$
NS_RX=fmbench-rx-$$
VETH_TX=vethA
VETH_RX=vethB
IP_TX=198.18.0.1
IP_RX=198.18.0.2

tx() {
    ip netns exec "$NS_TX" "$@"
}

rx() {
    ip netns exec "$NS_RX" "$@"
}

netns_down() {
    [[ -z ${TCPDUMP_PID:-} ]] || kill -TERM "$TCPDUMP_PID" 2>/dev/null || true
    ip netns del "$NS_TX" 2>/dev/null || true
    ip netns del "$NS_RX" 2>/dev/null || true
}

# Create the pair. Sets the EXIT trap: netns_down, then rm -rf NETNS_WORK_DIR when set (the
# caller's scratch directory), so the caller must not set its own.
netns_up() {
    trap 'netns_down; [[ -z ${NETNS_WORK_DIR:-} ]] || rm -rf "$NETNS_WORK_DIR"' EXIT
    [[ $(id -u) == 0 ]] || die "needs root (network namespaces, raw sockets)"
    command -v ip >/dev/null || die "needs iproute2 (ip)"
    trap 'exit 130' INT TERM
    ip netns add "$NS_TX"
    ip netns add "$NS_RX"
    ip link add "$VETH_TX" netns "$NS_TX" type veth peer name "$VETH_RX" netns "$NS_RX"
    local ns
    for ns in "$NS_TX" "$NS_RX"; do
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
        ip -n "$ns" link set lo up
    done
    ip -n "$NS_TX" addr add "$IP_TX/24" dev "$VETH_TX"
    ip -n "$NS_RX" addr add "$IP_RX/24" dev "$VETH_RX"
    ip -n "$NS_TX" link set "$VETH_TX" up
    ip -n "$NS_RX" link set "$VETH_RX" up
    TX_MAC=$(tx cat "/sys/class/net/$VETH_TX/address")
    RX_MAC=$(rx cat "/sys/class/net/$VETH_RX/address")
    ip -n "$NS_TX" neigh replace "$IP_RX" lladdr "$RX_MAC" dev "$VETH_TX" nud permanent
    ip -n "$NS_RX" neigh replace "$IP_TX" lladdr "$TX_MAC" dev "$VETH_RX" nud permanent
    # Wait for both ends to be up (carrier), at most 5 s.
    local i
    for ((i = 0; i < 50; i++)); do
        if [[ $(tx cat "/sys/class/net/$VETH_TX/operstate") == up &&
            $(rx cat "/sys/class/net/$VETH_RX/operstate") == up ]]; then
            return 0
        fi
        sleep 0.1
    done
    die "veth pair did not come up"
}

# Packets received on vethB so far (the kernel's counter).
rx_packets() {
    rx cat "/sys/class/net/$VETH_RX/statistics/rx_packets"
}

# Start tcpdump in the receiving namespace, writing nanosecond timestamps to $1 for the BPF
# filter in the remaining arguments; waits until it is listening. Sets TCPDUMP_PID.
# -B 65536: a 64 MiB buffer, so that a burst of 1e4 packets never overruns it. -Z root: keep
# root, which may write into a private mktemp directory. exec: TCPDUMP_PID is tcpdump itself.
capture_start() {
    local out=$1
    shift
    local log=$out.log
    (exec ip netns exec "$NS_RX" tcpdump -i "$VETH_RX" -Z root -nn -s 256 -B 65536 \
        --time-stamp-precision=nano -w "$out" "$@" 2>"$log") &
    TCPDUMP_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q "listening on" "$log" 2>/dev/null && return 0
        kill -0 "$TCPDUMP_PID" 2>/dev/null || break
        sleep 0.05
    done
    cat "$log" >&2
    die "tcpdump did not start"
}

# Stop the tcpdump of capture_start. libpcap hands packets over in TPACKET_V3 blocks that
# the kernel retires when full or after tcpdump's 1 s timeout, and tcpdump drops the block it
# has not been handed when it stops: wait 1.5 s after the sender so that the last one is
# written (without the wait, the last 0.08 s of a 1 s run went missing). SIGTERM, not SIGINT:
# a non-interactive shell starts background jobs with SIGINT ignored.
capture_stop() {
    sleep 1.5
    kill -TERM "$TCPDUMP_PID" 2>/dev/null || true
    wait "$TCPDUMP_PID" 2>/dev/null || true
    TCPDUMP_PID=
}

# The flowmimic tree a run was built from: the commit, "+uncommitted" when files outside
# bench/ differ from it. Call right after bench_build.
fm_tree() {
    local head dirty
    head=$(git -C "$ROOT_DIR" rev-parse --short HEAD 2>/dev/null) || {
        echo unknown
        return
    }
    dirty=$(git -C "$ROOT_DIR" status --porcelain -- . ':(exclude)bench' 2>/dev/null)
    echo "$head${dirty:+ +uncommitted}"
}
