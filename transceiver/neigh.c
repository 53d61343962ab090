/* transceiver/neigh.c - the MAC address of the next hop toward a peer, as the kernel knows it:
 * the route (rtnetlink RTM_GETROUTE, `ip route get PEER oif IFACE`) names the gateway, or the
 * peer itself when it is on the link; the neighbour table (RTM_GETNEIGH, `ip neigh`) holds its
 * MAC once ARP or neighbour discovery has resolved it. Nothing is sent on the network: a next
 * hop that was never resolved is reported, not probed. RFC 3549 (netlink), rtnetlink(7). */
#include "transceiver/route.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define NL_BUF     32768
#define NL_TIMEOUT 2 /* seconds a netlink answer may take before the lookup gives up */

/* A netlink exchange: one request out, the answers read until done (a dump ends with
 * NLMSG_DONE, a single request after its one message). */
struct nl {
    int fd;
    uint32_t seq;
    uint8_t buf[NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
};

static int nl_open(struct nl *n, struct fm_err *err)
{
    n->seq = 1;
    n->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (n->fd < 0)
        return fm_err_errno(err, FM_ENET, errno, "cannot ask the kernel's routing tables");
    struct timeval tv = {NL_TIMEOUT, 0};
    setsockopt(n->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return FM_OK;
}

static int nl_send(struct nl *n, struct nlmsghdr *h, struct fm_err *err)
{
    h->nlmsg_seq = ++n->seq;
    struct sockaddr_nl k;
    memset(&k, 0, sizeof(k));
    k.nl_family = AF_NETLINK;
    if (sendto(n->fd, h, h->nlmsg_len, 0, (struct sockaddr *)&k, sizeof(k)) < 0)
        return fm_err_errno(err, FM_ENET, errno, "cannot ask the kernel's routing tables");
    return FM_OK;
}

/* Read one datagram of answers into n->buf; returns its length or a negative FM_E* code. */
static int nl_recv(struct nl *n, struct fm_err *err)
{
    ssize_t got;
    do
        got = recv(n->fd, n->buf, sizeof(n->buf), 0);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return fm_err_errno(err, FM_ENET, errno, "no answer from the kernel's routing tables");
    return (int)got;
}

/* The attribute of type t in the len bytes at a, or NULL. */
static struct rtattr *attr_find(struct rtattr *a, int len, unsigned short t)
{
    for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
        if (a->rta_type == t)
            return a;
    return NULL;
}

/* Append an attribute to the request h (whose buffer has room for it). */
static void put_attr(struct nlmsghdr *h, unsigned short type, const void *data, size_t size)
{
    struct rtattr *a = (struct rtattr *)((uint8_t *)h + NLMSG_ALIGN(h->nlmsg_len));
    a->rta_type = type;
    a->rta_len = (unsigned short)RTA_LENGTH(size);
    memcpy(RTA_DATA(a), data, size);
    h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* The next hop toward peer leaving through ifindex: the route's gateway, or the peer. */
static int next_hop(struct nl *n,
                    int ifindex,
                    uint8_t version,
                    const uint8_t peer[16],
                    uint8_t hop[16],
                    struct fm_err *err)
{
    size_t alen = version == 4 ? 4 : 16;
    union {
        struct nlmsghdr h;
        /* Room for the header, the rtmsg and two attributes: it sizes the union. */
        /* cppcheck-suppress unusedStructMember */
        uint8_t bytes[NLMSG_SPACE(sizeof(struct rtmsg)) + 2 * RTA_SPACE(16)];
    } q;
    memset(&q, 0, sizeof(q));
    q.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
    q.h.nlmsg_type = RTM_GETROUTE;
    q.h.nlmsg_flags = NLM_F_REQUEST;
    struct rtmsg *r = NLMSG_DATA(&q.h);
    r->rtm_family = version == 4 ? AF_INET : AF_INET6;
    r->rtm_dst_len = (unsigned char)(alen * 8);
    put_attr(&q.h, RTA_DST, peer, alen);
    uint32_t oif = (uint32_t)ifindex;
    put_attr(&q.h, RTA_OIF, &oif, sizeof(oif));
    int rc = nl_send(n, &q.h, err);
    if (rc < 0)
        return rc;
    int len = nl_recv(n, err);
    if (len < 0)
        return len;
    memcpy(hop, peer, 16);
    for (struct nlmsghdr *h = (struct nlmsghdr *)n->buf; NLMSG_OK(h, (unsigned)len);
         h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_type == NLMSG_ERROR) {
            const struct nlmsgerr *e = NLMSG_DATA(h);
            return fm_err_errno(err, FM_ENET, -e->error, "no route to the peer");
        }
        if (h->nlmsg_type != RTM_NEWROUTE)
            continue;
        struct rtattr *gw = attr_find(RTM_RTA(NLMSG_DATA(h)), (int)RTM_PAYLOAD(h), RTA_GATEWAY);
        if (gw && RTA_PAYLOAD(gw) == alen)
            memcpy(hop, RTA_DATA(gw), alen);
        return FM_OK;
    }
    return fm_err_set(err, FM_ENET, "the kernel gave no route to the peer");
}

/* Neighbour states in which the MAC is known (a stale one is still the kernel's best). */
#define NUD_KNOWN (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)

/* Look hop up in the neighbour table of ifindex: 1 and mac set when known, 0 when not. */
static int neighbour(struct nl *n,
                     int ifindex,
                     uint8_t version,
                     const uint8_t hop[16],
                     uint8_t mac[6],
                     struct fm_err *err)
{
    size_t alen = version == 4 ? 4 : 16;
    struct {
        struct nlmsghdr h;
        struct ndmsg nd;
    } q;
    memset(&q, 0, sizeof(q));
    q.h.nlmsg_len = NLMSG_LENGTH(sizeof(q.nd));
    q.h.nlmsg_type = RTM_GETNEIGH;
    q.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    q.nd.ndm_family = version == 4 ? AF_INET : AF_INET6;
    int rc = nl_send(n, &q.h, err);
    if (rc < 0)
        return rc;
    int found = 0;
    for (;;) {
        int len = nl_recv(n, err);
        if (len < 0)
            return len;
        for (struct nlmsghdr *h = (struct nlmsghdr *)n->buf; NLMSG_OK(h, (unsigned)len);
             h = NLMSG_NEXT(h, len)) {
            if (h->nlmsg_type == NLMSG_DONE)
                return found;
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(h);
                return fm_err_errno(err, FM_ENET, -e->error, "cannot read the neighbour table");
            }
            if (h->nlmsg_type != RTM_NEWNEIGH || found)
                continue;
            struct ndmsg *nd = NLMSG_DATA(h);
            if (nd->ndm_ifindex != ifindex || !(nd->ndm_state & NUD_KNOWN))
                continue;
            int alen_all = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*nd)));
            struct rtattr *first = (struct rtattr *)((uint8_t *)nd + NLMSG_ALIGN(sizeof(*nd)));
            struct rtattr *dst = attr_find(first, alen_all, NDA_DST);
            struct rtattr *ll = attr_find(first, alen_all, NDA_LLADDR);
            if (dst && ll && RTA_PAYLOAD(dst) == alen && RTA_PAYLOAD(ll) == 6 &&
                memcmp(RTA_DATA(dst), hop, alen) == 0) {
                memcpy(mac, RTA_DATA(ll), 6);
                found = 1; /* the rest of the dump is still read, to leave the socket clean */
            }
        }
    }
}

int trx_next_hop_mac(const char *iface,
                     uint8_t ip_version,
                     const uint8_t peer_ip[16],
                     uint8_t mac[6],
                     struct fm_err *err)
{
    uint8_t hop[16];
    int ifindex = (int)if_nametoindex(iface);
    if (ifindex == 0)
        return fm_err_set(err, FM_ENOTFOUND, "no interface '%s' (see `ip link`)", iface);
    struct nl *n = malloc(sizeof(*n)); /* 32 KiB of answers: not on the stack */
    if (!n)
        return fm_err_set(err, FM_ENOMEM, "next hop lookup");
    int rc = nl_open(n, err);
    if (rc < 0) {
        free(n);
        return rc;
    }
    rc = next_hop(n, ifindex, ip_version, peer_ip, hop, err);
    if (rc >= 0)
        rc = neighbour(n, ifindex, ip_version, hop, mac, err);
    close(n->fd);
    free(n);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        char peer[INET6_ADDRSTRLEN], via[INET6_ADDRSTRLEN];
        inet_ntop(ip_version == 4 ? AF_INET : AF_INET6, peer_ip, peer, sizeof(peer));
        inet_ntop(ip_version == 4 ? AF_INET : AF_INET6, hop, via, sizeof(via));
        int same = memcmp(hop, peer_ip, ip_version == 4 ? 4 : 16) == 0;
        return fm_err_set(err, FM_ENOTFOUND,
                          "--peer-mac auto: the kernel does not know the MAC of %s%s%s on '%s' "
                          "yet: send it a packet first (`ping -c 1 %s`), or give --peer-mac MAC",
                          same ? "the peer " : "the gateway ", via,
                          same ? "" : " (toward the peer)", iface, same ? peer : via);
    }
    return FM_OK;
}
