# tests/support/netns.sh - two network namespaces joined by a veth pair, for tests that send.
# Source it from bash; it defines:
#   NS_A, NS_B          namespace names (unique per test process: they end in $$)
#   IF_A, IF_B          the veth ends, vethA in NS_A and vethB in NS_B
#   IP_A, IP_B          198.18.0.1 and 198.18.0.2 (/24), RFC 2544 benchmarking space
#   in_a CMD..., in_b CMD...   run a command inside NS_A / NS_B
#   netns_setup         create both namespaces, the pair, addresses, links up
#   netns_cleanup       delete what netns_setup created (trapped on EXIT by netns_setup; a
#                       test that sets its own EXIT trap calls it from there)
# Network safety: nothing here touches the host's own interfaces or routes; the namespaces
# have no link but the veth pair, so traffic sent inside them cannot leave them.
# Without root the test is skipped (exit 77, CTest's SKIP_RETURN_CODE), except under CI=true,
# where a skip would hide a broken runner: exit 1 instead.

NS_A=fmA$$
NS_B=fmB$$
IF_A=vethA
IF_B=vethB
IP_A=198.18.0.1
IP_B=198.18.0.2
NETNS_CREATED=0

netns_skip() {
    echo "SKIP: $*"
    if [ "${CI:-}" = true ]; then
        echo "CI=true: a skipped network test is a failure"
        exit 1
    fi
    exit 77
}

in_a() {
    ip netns exec "$NS_A" "$@"
}

in_b() {
    ip netns exec "$NS_B" "$@"
}

netns_cleanup() {
    if [ "$NETNS_CREATED" = 1 ]; then
        # Deleting a namespace deletes the veth end inside it and with it the other end.
        ip netns del "$NS_A" 2>/dev/null
        ip netns del "$NS_B" 2>/dev/null
        NETNS_CREATED=0
    fi
}

netns_setup() {
    if [ "$(id -u)" != 0 ]; then
        netns_skip "needs root to create network namespaces"
    fi
    command -v ip >/dev/null || netns_skip "iproute2 (ip) is not installed"
    trap netns_cleanup EXIT
    # A test killed by CTest's timeout or Ctrl-C still deletes its namespaces: exiting from
    # the signal runs the EXIT trap.
    trap 'exit 143' TERM
    trap 'exit 130' INT
    ip netns add "$NS_A" || netns_skip "cannot create network namespaces here"
    NETNS_CREATED=1
    ip netns add "$NS_B" || return 1
    # The pair is created inside NS_A directly, so no end ever appears in the host namespace.
    ip -n "$NS_A" link add "$IF_A" type veth peer name "$IF_B" netns "$NS_B" || return 1
    ip -n "$NS_A" addr add "$IP_A/24" dev "$IF_A" || return 1
    ip -n "$NS_B" addr add "$IP_B/24" dev "$IF_B" || return 1
    ip -n "$NS_A" link set lo up || return 1
    ip -n "$NS_B" link set lo up || return 1
    ip -n "$NS_A" link set "$IF_A" up || return 1
    ip -n "$NS_B" link set "$IF_B" up || return 1
    # Offloads off so that captured sizes are the sizes on the wire.
    if command -v ethtool >/dev/null; then
        in_a ethtool -K "$IF_A" tx off gso off tso off >/dev/null 2>&1
        in_b ethtool -K "$IF_B" rx off gro off >/dev/null 2>&1
    fi
    return 0
}
