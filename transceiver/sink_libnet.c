/* transceiver/sink_libnet.c - packets on an interface through libnet (IPv4/IPv6 + UDP).
 * Raw IP mode (LIBNET_RAW4/RAW6) by default: the kernel routes the packet, resolves the next
 * hop and writes the link header, so the user names only the peer's address. Link-layer mode
 * (LIBNET_LINK) builds the Ethernet frame here for a peer given by MAC address.
 * The headers are libnet pblocks built once and updated in place for every packet (their
 * ptags are kept), which avoids a pblock allocation per packet.
 * Batches: when several packets are due at once (many streams, or a sender catching up),
 * queue() has libnet build each one and takes its bytes (see take_frame()), and flush() puts
 * the batch out with one
 * sendmmsg() on libnet's own socket: the system call, not the building, is what costs most
 * per packet here. */
/* sendmmsg() and struct mmsghdr are GNU extensions of glibc. */
#define _GNU_SOURCE /* NOLINT(bugprone-reserved-identifier): the macro glibc reads */

#include "transceiver/sink.h"

#include <errno.h>
#include <libnet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_TTL 64
#define BATCH       64   /* packets per sendmmsg() */
#define SLOT_BYTES  2048 /* a queued frame; larger packets are sent on their own */

union peer_addr {
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
    struct sockaddr_ll ll;
};

struct lsink {
    libnet_t *l;
    int link; /* 1: Ethernet frames built here */
    uint8_t ip_version;
    uint8_t src_mac[6], peer_mac[6];
    libnet_ptag_t udp, ip, eth; /* 0 until the first build */
    uint16_t ip_id;
    int ifindex;
    char iface[IF_NAMESIZE];
    /* The batch queue() fills and flush() sends. */
    size_t nq;
    uint8_t slot[BATCH][SLOT_BYTES];
    union peer_addr to[BATCH];
    struct iovec iov[BATCH];
    struct mmsghdr msg[BATCH];
    size_t payload_len[BATCH]; /* what the sender counts of each queued packet */
};

/* Open and close the kind of socket libnet will need: the only reliable test of the
 * permission (root, CAP_NET_RAW in the process's user namespace, or a file capability). */
static int check_permission(int link, uint8_t ip_version, struct fm_err *err)
{
    int fd = -1;
    if (link)
        fd = socket(AF_PACKET, SOCK_RAW, 0);
    else
        fd = socket(ip_version == 6 ? AF_INET6 : AF_INET, SOCK_RAW, IPPROTO_RAW);
    if (fd < 0) {
        int e = errno;
        if (e == EPERM || e == EACCES)
            return fm_err_set(err, FM_EPERM,
                              "raw sockets need root or CAP_NET_RAW: run as root, or `setcap "
                              "cap_net_raw+ep flowmimic`");
        return fm_err_errno(err, FM_ENET, e, "cannot open a raw socket");
    }
    close(fd);
    return FM_OK;
}

/* The interface must exist and be up; libnet's own messages for either are obscure. */
static int check_iface(const char *iface, struct fm_err *err)
{
    if (strlen(iface) >= IF_NAMESIZE || if_nametoindex(iface) == 0)
        return fm_err_set(err, FM_ENOTFOUND, "no interface '%s' (see `ip link`)", iface);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return fm_err_errno(err, FM_ENET, errno, "interface '%s'", iface);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, iface, strlen(iface));
    int rc = FM_OK;
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0)
        rc = fm_err_errno(err, FM_ENET, errno, "interface '%s'", iface);
    else if (!(ifr.ifr_flags & IFF_UP))
        rc = fm_err_set(err, FM_ENET, "interface '%s' is down: `ip link set %s up`", iface, iface);
    close(fd);
    return rc;
}

/* Update the pblocks for p; libnet then holds the whole packet. */
static int build(struct lsink *s,
                 const struct trx_pkt *p,
                 const uint8_t *payload,
                 size_t len,
                 struct fm_err *err)
{
    libnet_t *l = s->l;
    if (p->addr.ip_version != s->ip_version)
        return fm_err_set(err, FM_EINVAL, "an IPv%u packet on an IPv%u sink", p->addr.ip_version,
                          s->ip_version);
    if (len > TRX_MAX_PAYLOAD)
        return fm_err_set(err, FM_EINVAL, "payload of %zu bytes is over the UDP limit", len);
    uint16_t udp_len = (uint16_t)(LIBNET_UDP_H + len);
    uint8_t ttl = p->ttl ? p->ttl : DEFAULT_TTL;
    uint8_t tc = (uint8_t)((p->dscp & 0x3fu) << 2);

    /* libnet builds from the innermost header out; a checksum of 0 asks libnet for it. */
    libnet_ptag_t t = libnet_build_udp(p->addr.sport, p->addr.dport, udp_len, 0, payload,
                                       (uint32_t)len, l, s->udp);
    if (t == -1)
        goto lnerr;
    s->udp = t;
    if (s->ip_version == 4) {
        uint32_t src = 0, dst = 0;
        memcpy(&src, p->addr.src, 4);
        memcpy(&dst, p->addr.dst, 4);
        /* DF, as generate writes it and as a Linux UDP socket sends (path MTU discovery):
         * one policy for every IPv4 header flowmimic builds (docs/DESIGN.md). */
        t = libnet_build_ipv4((uint16_t)(LIBNET_IPV4_H + udp_len), tc, s->ip_id++, IP_DF, ttl,
                              IPPROTO_UDP, 0, src, dst, NULL, 0, l, s->ip);
    } else {
        struct libnet_in6_addr src, dst;
        memcpy(src.libnet_s6_addr, p->addr.src, 16);
        memcpy(dst.libnet_s6_addr, p->addr.dst, 16);
        t = libnet_build_ipv6(tc, 0, udp_len, IPPROTO_UDP, ttl, src, dst, NULL, 0, l, s->ip);
    }
    if (t == -1)
        goto lnerr;
    s->ip = t;
    if (s->link) {
        t = libnet_build_ethernet(s->peer_mac, s->src_mac,
                                  s->ip_version == 4 ? ETHERTYPE_IP : ETHERTYPE_IPV6, NULL, 0, l,
                                  s->eth);
        if (t == -1)
            goto lnerr;
        s->eth = t;
    }
    return FM_OK;
lnerr:
    return fm_err_set(err, FM_ENET, "build for '%s': %s", s->iface, libnet_geterror(l));
}

static int lsink_send(void *self,
                      const struct trx_pkt *p,
                      const uint8_t *payload,
                      size_t len,
                      int64_t ts_ns,
                      struct fm_err *err)
{
    struct lsink *s = self;
    (void)ts_ns;
    int rc = build(s, p, payload, len, err);
    if (rc < 0)
        return rc;
    if (libnet_write(s->l) == -1)
        return fm_err_set(err, FM_ENET, "send on '%s': %s", s->iface, libnet_geterror(s->l));
    return FM_OK;
}

/* Where the kernel should send a queued packet: what libnet_write() would pass to sendto(). */
static socklen_t peer_of(const struct lsink *s, const struct trx_pkt *p, union peer_addr *a)
{
    memset(a, 0, sizeof(*a));
    if (s->link) {
        a->ll.sll_family = AF_PACKET;
        a->ll.sll_ifindex = s->ifindex;
        a->ll.sll_protocol = htons(s->ip_version == 4 ? ETHERTYPE_IP : ETHERTYPE_IPV6);
        a->ll.sll_halen = 6;
        memcpy(a->ll.sll_addr, s->peer_mac, 6);
        return sizeof(a->ll);
    }
    if (s->ip_version == 4) {
        a->in4.sin_family = AF_INET;
        memcpy(&a->in4.sin_addr, p->addr.dst, 4);
        return sizeof(a->in4);
    }
    a->in6.sin6_family = AF_INET6;
    memcpy(&a->in6.sin6_addr, p->addr.dst, 16);
    return sizeof(a->in6);
}

static int lsink_flush(void *self, struct trx_sink_failed *failed, struct fm_err *err)
{
    struct lsink *s = self;
    size_t done = 0;
    int rc = FM_OK;
    while (done < s->nq) {
        int n = sendmmsg(libnet_getfd(s->l), s->msg + done, (unsigned)(s->nq - done), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* The first packet of the rest failed: count it, report why, go on with the rest
             * (a full queue or a missing neighbour drops single packets, not the batch). */
            rc = fm_err_errno(err, FM_ENET, errno, "send on '%s'", s->iface);
            failed->packets++;
            failed->bytes += s->payload_len[done];
            done++;
            continue;
        }
        done += (size_t)n;
    }
    s->nq = 0;
    return rc;
}

/* The bytes libnet would send for the packet it holds. libnet 1.1.6 hands them out with
 * libnet_adv_cull_packet() in advanced link mode only; in raw IP mode the same bytes come from
 * libnet_pblock_coalesce(), which libnet_write() itself calls (public in libnet's header, and
 * the buffer is plain malloc'd memory there: the link-mode alignment shift is 0 in raw mode). */
static int take_frame(struct lsink *s, uint8_t **frame, uint32_t *size)
{
    if (s->link)
        return libnet_adv_cull_packet(s->l, frame, size) == -1 ? -1 : 0;
    return libnet_pblock_coalesce(s->l, frame, size) == -1 ? -1 : 0;
}

static void drop_frame(struct lsink *s, uint8_t *frame)
{
    if (s->link)
        libnet_adv_free_packet(s->l, frame);
    else
        free(frame);
}

static int lsink_queue(void *self,
                       const struct trx_pkt *p,
                       const uint8_t *payload,
                       size_t len,
                       struct trx_sink_failed *failed,
                       struct fm_err *err)
{
    struct lsink *s = self;
    int rc = build(s, p, payload, len, err);
    if (rc < 0)
        return rc;
    uint8_t *frame = NULL;
    uint32_t size = 0;
    if (take_frame(s, &frame, &size) < 0)
        return fm_err_set(err, FM_ENET, "build for '%s': %s", s->iface, libnet_geterror(s->l));
    if (size > SLOT_BYTES) {
        /* Too big for a slot: what is queued goes first, then this one on its own. */
        drop_frame(s, frame);
        rc = lsink_flush(s, failed, err);
        if (libnet_write(s->l) == -1) {
            failed->packets++;
            failed->bytes += len;
            return fm_err_set(err, FM_ENET, "send on '%s': %s", s->iface, libnet_geterror(s->l));
        }
        return rc;
    }
    size_t i = s->nq++;
    memcpy(s->slot[i], frame, size);
    drop_frame(s, frame);
    s->iov[i].iov_base = s->slot[i];
    s->iov[i].iov_len = size;
    s->payload_len[i] = len;
    memset(&s->msg[i], 0, sizeof(s->msg[i]));
    s->msg[i].msg_hdr.msg_iov = &s->iov[i];
    s->msg[i].msg_hdr.msg_iovlen = 1;
    s->msg[i].msg_hdr.msg_name = &s->to[i];
    s->msg[i].msg_hdr.msg_namelen = peer_of(s, p, &s->to[i]);
    return s->nq == BATCH ? lsink_flush(s, failed, err) : FM_OK;
}

static int lsink_close(void *self, int commit, struct fm_err *err)
{
    struct lsink *s = self;
    (void)commit;
    int rc = FM_OK;
    if (s) {
        struct trx_sink_failed failed = {0, 0};
        if (s->nq)
            rc = lsink_flush(s, &failed, err);
        libnet_destroy(s->l);
        free(s);
    }
    return rc;
}

static const struct trx_sink_ops lsink_ops = {
    .send = lsink_send, .queue = lsink_queue, .flush = lsink_flush, .close = lsink_close};

int trx_sink_libnet_new(const struct trx_libnet_opts *o, struct trx_sink **out, struct fm_err *err)
{
    struct lsink *s = NULL;
    struct trx_sink *sink = NULL;
    char ebuf[LIBNET_ERRBUF_SIZE];
    int rc = FM_OK;

    if (!o->iface || !o->iface[0])
        return fm_err_set(err, FM_EINVAL, "no interface given");
    if (o->ip_version != 4 && o->ip_version != 6)
        return fm_err_set(err, FM_EINVAL, "IP version %u", o->ip_version);
    rc = check_permission(o->have_peer_mac, o->ip_version, err);
    if (rc < 0)
        return rc;
    rc = check_iface(o->iface, err);
    if (rc < 0)
        return rc;

    s = calloc(1, sizeof(*s));
    sink = calloc(1, sizeof(*sink));
    if (!s || !sink) {
        rc = fm_err_set(err, FM_ENOMEM, "libnet sink");
        goto out;
    }
    snprintf(s->iface, sizeof(s->iface), "%s", o->iface);
    s->ip_version = o->ip_version;
    s->link = o->have_peer_mac;
    /* LINK_ADV: libnet_adv_cull_packet(), for batches, works only in advanced link mode. */
    int type = s->link ? LIBNET_LINK_ADV : (o->ip_version == 4 ? LIBNET_RAW4 : LIBNET_RAW6);
    s->ifindex = (int)if_nametoindex(o->iface);
    ebuf[0] = '\0';
    s->l = libnet_init(type, s->iface, ebuf);
    if (!s->l) {
        rc = fm_err_set(err, FM_ENET, "cannot open '%s' with libnet: %s", s->iface, ebuf);
        goto out;
    }
    if (s->link) {
        memcpy(s->peer_mac, o->peer_mac, 6);
        const struct libnet_ether_addr *hw = libnet_get_hwaddr(s->l);
        if (!hw) {
            rc = fm_err_set(err, FM_ENET, "no hardware address on '%s': %s", s->iface,
                            libnet_geterror(s->l));
            goto out;
        }
        memcpy(s->src_mac, hw->ether_addr_octet, 6);
    } else {
        /* A raw socket sends wherever the routing table says; binding it to the interface
         * keeps the packets on the one the user named. */
        int fd = libnet_getfd(s->l);
        if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, s->iface, (socklen_t)strlen(s->iface)) !=
            0) {
            rc = fm_err_errno(err, FM_ENET, errno, "cannot bind to '%s'", s->iface);
            goto out;
        }
    }
    sink->ops = &lsink_ops;
    sink->self = s;
    *out = sink;
    s = NULL;
    sink = NULL;
out:
    if (s && s->l)
        libnet_destroy(s->l);
    free(s);
    free(sink);
    return rc;
}
