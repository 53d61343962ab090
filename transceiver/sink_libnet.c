/* transceiver/sink_libnet.c - packets on an interface through libnet (IPv4/IPv6 + UDP).
 * Raw IP mode (LIBNET_RAW4/RAW6) by default: the kernel routes the packet, resolves the next
 * hop and writes the link header, so the user names only the peer's address. Link-layer mode
 * (LIBNET_LINK) builds the Ethernet frame here for a peer given by MAC address.
 * The headers are libnet pblocks built once and updated in place for every packet (their
 * ptags are kept), which avoids a pblock allocation per packet. */
#include "transceiver/sink.h"

#include <errno.h>
#include <libnet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_TTL 64

struct lsink {
    libnet_t *l;
    int link; /* 1: Ethernet frames built here */
    uint8_t ip_version;
    uint8_t src_mac[6], peer_mac[6];
    libnet_ptag_t udp, ip, eth; /* 0 until the first build */
    uint16_t ip_id;
    char iface[IF_NAMESIZE];
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

static int lsink_send(void *self,
                      const struct trx_pkt *p,
                      const uint8_t *payload,
                      size_t len,
                      int64_t ts_ns,
                      struct fm_err *err)
{
    struct lsink *s = self;
    libnet_t *l = s->l;
    (void)ts_ns;
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
        t = libnet_build_ipv4((uint16_t)(LIBNET_IPV4_H + udp_len), tc, s->ip_id++, 0, ttl,
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
    if (libnet_write(l) == -1)
        goto lnerr;
    return FM_OK;
lnerr:
    return fm_err_set(err, FM_ENET, "send on '%s': %s", s->iface, libnet_geterror(l));
}

static int lsink_close(void *self, int commit, struct fm_err *err)
{
    struct lsink *s = self;
    (void)commit;
    (void)err;
    if (s) {
        libnet_destroy(s->l);
        free(s);
    }
    return FM_OK;
}

static const struct trx_sink_ops lsink_ops = {lsink_send, lsink_close};

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
