/* transceiver/sink_libnet.c - packets on an interface: libnet opens the injection socket and
 * knows the interface, flowmimic's packet layer writes the bytes (packet/hdr.h, the same
 * writer as generate's pcaps).
 * Raw IP mode (LIBNET_RAW4/RAW6) by default: the kernel routes each datagram, resolves the
 * next hop and writes the link header, so the user names only the peer's address. Link-layer
 * mode (LIBNET_LINK) sends whole Ethernet frames to a peer given by MAC address, past the
 * kernel's routing.
 * Every packet is written straight into a slot of a batch and the batch goes out with one
 * sendmmsg() on libnet's socket: the system call and the kernel's path are what cost per
 * packet, and nothing is built twice or copied out of libnet's buffers (libnet's pblocks cost
 * a fifth of the send loop: an allocation, a copy and a formatted error string per packet). */
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

#include "packet/hdr.h"

#define BATCH      64   /* packets per sendmmsg() */
#define SLOT_BYTES 2048 /* a queued frame; larger ones (jumbo frames) go out on their own */

union peer_addr {
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
    struct sockaddr_ll ll;
};

struct lsink {
    libnet_t *l;
    int fd;   /* libnet's socket */
    int link; /* 1: Ethernet frames built here */
    uint8_t ip_version;
    uint8_t macs[12]; /* the peer's, then ours: the Ethernet header's first bytes */
    uint16_t ip_id;
    uint8_t *big; /* a frame too big for a slot, allocated when one comes */
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

/* Where the kernel should send a queued packet: what libnet_write() would pass to sendto(). */
static socklen_t peer_of(const struct lsink *s, const struct trx_pkt *p, union peer_addr *a)
{
    memset(a, 0, sizeof(*a));
    if (s->link) {
        a->ll.sll_family = AF_PACKET;
        a->ll.sll_ifindex = s->ifindex;
        a->ll.sll_protocol = htons(s->ip_version == 4 ? ETHERTYPE_IP : ETHERTYPE_IPV6);
        a->ll.sll_halen = 6;
        memcpy(a->ll.sll_addr, s->macs, 6);
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
        int n = sendmmsg(s->fd, s->msg + done, (unsigned)(s->nq - done), 0);
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

/* Write p's frame into out (Ethernet first in link-layer mode); returns its length. */
static size_t write_frame(
    struct lsink *s, uint8_t *out, const struct trx_pkt *p, const uint8_t *payload, size_t len)
{
    return trx_frame_write(out, s->link ? s->macs : NULL, p, s->ip_id++, payload, len);
}

/* A frame over SLOT_BYTES: what is queued goes first, then this one on its own. */
static int send_big(struct lsink *s,
                    const struct trx_pkt *p,
                    const uint8_t *payload,
                    size_t len,
                    struct trx_sink_failed *failed,
                    struct fm_err *err)
{
    int rc = lsink_flush(s, failed, err);
    if (!s->big && !(s->big = malloc(PKT_UDP_FRAME_HDR_MAX + TRX_MAX_PAYLOAD)))
        return fm_err_set(err, FM_ENOMEM, "a %zu-byte frame", len);
    size_t size = write_frame(s, s->big, p, payload, len);
    union peer_addr to;
    socklen_t tolen = peer_of(s, p, &to);
    ssize_t n;
    do
        n = sendto(s->fd, s->big, size, 0, (const struct sockaddr *)&to, tolen);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        failed->packets++;
        failed->bytes += len;
        return fm_err_errno(err, FM_ENET, errno, "send on '%s'", s->iface);
    }
    return rc;
}

static int lsink_queue(void *self,
                       const struct trx_pkt *p,
                       const uint8_t *payload,
                       size_t len,
                       struct trx_sink_failed *failed,
                       struct fm_err *err)
{
    struct lsink *s = self;
    if (p->addr.ip_version != s->ip_version)
        return fm_err_set(err, FM_EINVAL, "an IPv%u packet on an IPv%u sink", p->addr.ip_version,
                          s->ip_version);
    if (len > TRX_MAX_PAYLOAD)
        return fm_err_set(err, FM_EINVAL, "payload of %zu bytes is over the UDP limit", len);
    if (PKT_UDP_FRAME_HDR_MAX + len > SLOT_BYTES)
        return send_big(s, p, payload, len, failed, err);
    size_t i = s->nq++;
    size_t size = write_frame(s, s->slot[i], p, payload, len);
    s->iov[i].iov_base = s->slot[i];
    s->iov[i].iov_len = size;
    s->payload_len[i] = len;
    s->msg[i].msg_hdr.msg_namelen = peer_of(s, p, &s->to[i]);
    return s->nq == BATCH ? lsink_flush(s, failed, err) : FM_OK;
}

/* One packet at once: a batch of one. */
static int lsink_send(void *self,
                      const struct trx_pkt *p,
                      const uint8_t *payload,
                      size_t len,
                      int64_t ts_ns,
                      struct fm_err *err)
{
    struct lsink *s = self;
    struct trx_sink_failed failed = {0, 0};
    (void)ts_ns;
    int rc = lsink_queue(s, p, payload, len, &failed, err);
    if (rc >= 0 && s->nq)
        rc = lsink_flush(s, &failed, err);
    return rc;
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
        free(s->big);
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
    int type = s->link ? LIBNET_LINK : (o->ip_version == 4 ? LIBNET_RAW4 : LIBNET_RAW6);
    s->ifindex = (int)if_nametoindex(o->iface);
    ebuf[0] = '\0';
    s->l = libnet_init(type, s->iface, ebuf);
    if (!s->l) {
        rc = fm_err_set(err, FM_ENET, "cannot open '%s' with libnet: %s", s->iface, ebuf);
        goto out;
    }
    s->fd = libnet_getfd(s->l);
    /* Each message has its own iovec and address, set once; queue() fills in the lengths. */
    for (size_t i = 0; i < BATCH; i++) {
        s->msg[i].msg_hdr.msg_iov = &s->iov[i];
        s->msg[i].msg_hdr.msg_iovlen = 1;
        s->msg[i].msg_hdr.msg_name = &s->to[i];
    }
    if (s->link) {
        memcpy(s->macs, o->peer_mac, 6);
        const struct libnet_ether_addr *hw = libnet_get_hwaddr(s->l);
        if (!hw) {
            rc = fm_err_set(err, FM_ENET, "no hardware address on '%s': %s", s->iface,
                            libnet_geterror(s->l));
            goto out;
        }
        memcpy(s->macs + 6, hw->ether_addr_octet, 6);
    } else {
        /* A raw socket sends wherever the routing table says; binding it to the interface
         * keeps the packets on the one the user named. */
        if (setsockopt(s->fd, SOL_SOCKET, SO_BINDTODEVICE, s->iface, (socklen_t)strlen(s->iface)) !=
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
