/* transceiver/receiver.c - the socket and capture I/O that feeds the statistics engine
 * (transceiver/rstats.c): UDP sockets with kernel timestamps, live libpcap capture, pcap
 * files read and written. Specifications: RFC 768 (UDP), RFC 791 (IPv4), RFC 8200 (IPv6). */

/* recvmmsg() and struct in6_pktinfo are GNU extensions of glibc. */
#define _GNU_SOURCE /* NOLINT(bugprone-reserved-identifier): the macro glibc reads */

#include "transceiver/receiver.h"
#include "transceiver/receiver_int.h"

#include "common/file.h"
#include "common/inet.h"
#include "common/time.h"
#include "packet/decode.h"
#include "packet/hdr.h"
#include "packet/live.h"
#include "packet/pcap_in.h"
#include "packet/pcap_out.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Latest second a timestamp in ns since the epoch can hold (year 2262). */
#define TS_SEC_MAX (INT64_MAX / FM_NS_PER_SEC - 1)

/* ======================================================================================
 * Frames: decoding captured ones (packet/decode.h), synthesising headers for written ones
 * ====================================================================================== */

#define IPPROTO_U 17

int trx_recv_decode(int dlt,
                    const uint8_t *frame,
                    size_t caplen,
                    size_t wirelen,
                    struct trx_addr *a,
                    size_t *payload_off,
                    size_t *len)
{
    struct pkt_decoded d;
    if (caplen > UINT32_MAX || wirelen > UINT32_MAX ||
        pkt_decode_l4(dlt, frame, (uint32_t)caplen, (uint32_t)wirelen, &d) != PKT_DEC_OK ||
        d.proto != IPPROTO_U || d.more_fragments)
        return 0;
    /* The datagram is what the UDP header says, within what IP carried; a length of 0 is an
     * IPv6 jumbogram's (RFC 2675), where the IP length rules. A UDP length beyond the IP
     * payload (a first fragment, a damaged header) is not a whole datagram. */
    size_t ip_payload = (size_t)d.payload_len + 8;
    size_t dgram = d.udp_len == 0 && d.ip_version == 6 ? ip_payload : d.udp_len;
    if (dgram < 8 || dgram > ip_payload)
        return 0;
    memset(a, 0, sizeof(*a));
    a->ip_version = d.ip_version;
    memcpy(a->src, d.src, 16);
    memcpy(a->dst, d.dst, 16);
    a->sport = d.sport;
    a->dport = d.dport;
    *payload_off = d.payload_off;
    *len = dgram - 8;
    return 1;
}

size_t trx_recv_synth_hdr(
    const struct trx_addr *a, const uint8_t *payload, size_t cap, size_t len, uint8_t *hdr)
{
    size_t ulen = len + 8;
    if (ulen > 0xffff)
        ulen = 0xffff;
    /* TTL and DSCP are not known from a socket: 64 and 0. */
    struct pkt_ip_fields ipf = {a->ip_version, a->src, a->dst, IPPROTO_U, 0, 64, 0};
    uint32_t pseudo = 0;
    size_t ip = pkt_ip_write(&ipf, ulen, hdr, &pseudo);
    /* The UDP checksum is mandatory over IPv6 (RFC 8200 8.1); over IPv4 none is written. */
    pkt_udp_write(hdr + ip, a->sport, a->dport, (uint16_t)ulen, payload, cap < len ? cap : len,
                  pseudo, a->ip_version == 6);
    return ip + 8;
}

/* ======================================================================================
 * Receiver
 * ====================================================================================== */

#define BATCH          32
#define SLOT_BYTES     65536 /* the largest UDP payload fits */
#define CTRL_BYTES     256
#define POLL_MS        100
#define DRAIN_ROUNDS   16 /* recvmmsg calls per socket per wake, so a flood cannot starve stop */
#define FLUSH_NS       (FM_NS_PER_SEC / 5)
#define DEFAULT_RCVBUF (8 << 20)

union ctrl {
    char buf[CTRL_BYTES];
    struct cmsghdr align;
};

struct rsock {
    int fd;
    uint16_t port;   /* bound port */
    int family;      /* AF_INET or AF_INET6 */
    uint8_t dst[16]; /* bound address, for datagrams without pktinfo */
    uint32_t drops;  /* last SO_RXQ_OVFL count */
};

struct trx_receiver {
    struct trx_recv_opts o;
    struct trx_rstats *rs;
    struct rsock socks[TRX_RECV_MAX_PORTS];
    size_t nsocks;

    struct pkt_live live; /* pcap mode: live.cap is set */

    struct pkt_pcap_out out; /* --write */
    int64_t last_flush;

    uint8_t *bufs;
    struct mmsghdr *msgs;
    struct iovec *iov;
    union ctrl *ctrl;
    struct sockaddr_storage *names;
    uint8_t *frame; /* header + payload of a datagram to write */

    struct trx_recv_info info;
    uint64_t received;
    int have_packet;
    int64_t last_packet_mono;
    int done;  /* count reached */
    int cb_rc; /* an error met inside the pcap callback */
    struct fm_err cb_err;
};

void trx_recv_opts_init(struct trx_recv_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->snaplen = 65535;
    o->rcvbuf_bytes = DEFAULT_RCVBUF;
    trx_rstats_opts_init(&o->stats);
}

/* "1.2.3.4", "::1" or "[::1]" into a socket address with port. */
static int parse_addr(
    const char *s, uint16_t port, struct sockaddr_storage *ss, socklen_t *sslen, struct fm_err *err)
{
    char buf[INET6_ADDRSTRLEN + 2];
    size_t n = strlen(s);
    if (n >= sizeof(buf))
        return fm_err_set(err, FM_EINVAL, "bad bind address '%s'", s);
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        memcpy(buf, s + 1, n - 2);
        buf[n - 2] = '\0';
    } else {
        memcpy(buf, s, n + 1);
    }
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));
    if (inet_pton(AF_INET, buf, &sin.sin_addr) == 1) {
        sin.sin_family = AF_INET;
        sin.sin_port = htons(port);
        memcpy(ss, &sin, sizeof(sin));
        *sslen = sizeof(sin);
        return FM_OK;
    }
    if (inet_pton(AF_INET6, buf, &sin6.sin6_addr) == 1) {
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(port);
        memcpy(ss, &sin6, sizeof(sin6));
        *sslen = sizeof(sin6);
        return FM_OK;
    }
    return fm_err_set(err, FM_EINVAL, "bad bind address '%s': expected an IPv4 or IPv6 address", s);
}

static void set_int(int fd, int level, int name, int v)
{
    /* Best effort: a missing option costs a statistic (drops, destination address), not
     * the receive, and each is checked where its result is used. */
    (void)setsockopt(fd, level, name, &v, sizeof(v));
}

static int bind_error(int e, uint16_t port, const char *where, struct fm_err *err)
{
    if (e == EADDRINUSE)
        return fm_err_set(err, FM_ENET, "UDP port %u%s%s is in use", (unsigned)port,
                          where ? " on " : "", where ? where : "");
    if (e == EACCES)
        return fm_err_errno(err, FM_EPERM, e, "cannot bind UDP port %u", (unsigned)port);
    return fm_err_errno(err, FM_ENET, e, "cannot bind UDP port %u%s%s", (unsigned)port,
                        where ? " on " : "", where ? where : "");
}

static int open_socket(struct trx_receiver *r, uint16_t port, struct rsock *out, struct fm_err *err)
{
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    int any6 = 0;
    memset(&ss, 0, sizeof(ss));
    if (r->o.bind_addr) {
        int rc = parse_addr(r->o.bind_addr, port, &ss, &sslen, err);
        if (rc < 0)
            return rc;
    } else {
        struct sockaddr_in6 sin6;
        memset(&sin6, 0, sizeof(sin6));
        sin6.sin6_family = AF_INET6;
        sin6.sin6_addr = in6addr_any;
        sin6.sin6_port = htons(port);
        memset(&ss, 0, sizeof(ss));
        memcpy(&ss, &sin6, sizeof(sin6));
        sslen = sizeof(sin6);
        any6 = 1;
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 && any6 && errno == EAFNOSUPPORT) {
        /* IPv6 is off in this kernel or namespace: any IPv4 address will do. */
        struct sockaddr_in sin;
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_ANY);
        sin.sin_port = htons(port);
        memset(&ss, 0, sizeof(ss));
        memcpy(&ss, &sin, sizeof(sin));
        sslen = sizeof(sin);
        any6 = 0;
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    }
    if (fd < 0)
        return fm_err_errno(err, FM_ENET, errno, "cannot open a UDP socket");
    if (any6)
        set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0);
    /* SO_RCVBUFFORCE passes net.core.rmem_max when we may (root); otherwise ask within it. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &r->o.rcvbuf_bytes, sizeof(int)) != 0)
        set_int(fd, SOL_SOCKET, SO_RCVBUF, r->o.rcvbuf_bytes);
    set_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1);
    set_int(fd, SOL_SOCKET, SO_RXQ_OVFL, 1);
    set_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
    if (ss.ss_family == AF_INET6)
        set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
    if (bind(fd, (const struct sockaddr *)&ss, sslen) != 0) {
        int e = errno;
        close(fd);
        return bind_error(e, port, r->o.bind_addr, err);
    }
    struct sockaddr_storage got;
    socklen_t gotlen = sizeof(got);
    memset(&got, 0, sizeof(got));
    if (getsockname(fd, (struct sockaddr *)&got, &gotlen) != 0) {
        int e = errno;
        close(fd);
        return fm_err_errno(err, FM_ENET, e, "cannot read the address of UDP port %u",
                            (unsigned)port);
    }
    memset(out, 0, sizeof(*out));
    out->fd = fd;
    out->family = ss.ss_family;
    if (got.ss_family == AF_INET6) {
        struct sockaddr_in6 s6;
        memcpy(&s6, &got, sizeof(s6));
        out->port = ntohs(s6.sin6_port);
        memcpy(out->dst, &s6.sin6_addr, 16);
    } else {
        struct sockaddr_in s4;
        memcpy(&s4, &got, sizeof(s4));
        out->port = ntohs(s4.sin_port);
        memcpy(out->dst, &s4.sin_addr, 4);
    }
    return FM_OK;
}

static int open_capture(struct trx_receiver *r, struct fm_err *err)
{
    char filter[32 + TRX_RECV_MAX_PORTS * 20];
    size_t n = (size_t)snprintf(filter, sizeof(filter), "udp");
    for (size_t i = 0; i < r->o.nports; i++)
        n += (size_t)snprintf(filter + n, sizeof(filter) - n, "%s dst port %u",
                              i == 0 ? " and (" : " or", (unsigned)r->o.ports[i]);
    if (r->o.nports)
        snprintf(filter + n, sizeof(filter) - n, ")");
    struct pkt_live_opts lo;
    memset(&lo, 0, sizeof(lo));
    lo.iface = r->o.iface;
    lo.snaplen = r->o.snaplen;
    lo.promisc = 0;
    lo.buffer_bytes = r->o.rcvbuf_bytes;
    lo.filter = filter;
    lo.inbound_only = 1;
    lo.decodable = 1;
    int rc = pkt_live_open(&lo, &r->live, err);
    if (rc < 0)
        return rc;
    return FM_OK;
}

/* The output file: a temporary beside path, renamed into place by commit_writer(). Frames
 * captured live are written as they came (their link type); datagrams read from sockets get
 * synthesised IP and UDP headers (raw IP). */
static int open_writer(struct trx_receiver *r, struct fm_err *err)
{
    int linktype = r->live.cap ? r->live.linktype : DLT_RAW;
    int snaplen = r->live.cap ? r->o.snaplen : 65535;
    int rc = pkt_pcap_out_open(&r->out, r->o.write_path, linktype, snaplen, err);
    if (rc == FM_OK)
        rc = pkt_pcap_out_flush(&r->out, err);
    if (rc < 0)
        pkt_pcap_out_abort(&r->out);
    return rc;
}

static int commit_writer(struct trx_receiver *r, struct fm_err *err)
{
    if (!pkt_pcap_out_is_open(&r->out))
        return FM_OK;
    return pkt_pcap_out_commit(&r->out, err);
}

static int alloc_batch(struct trx_receiver *r)
{
    r->bufs = malloc((size_t)BATCH * SLOT_BYTES);
    r->msgs = calloc(BATCH, sizeof(*r->msgs));
    r->iov = calloc(BATCH, sizeof(*r->iov));
    r->ctrl = calloc(BATCH, sizeof(*r->ctrl));
    r->names = calloc(BATCH, sizeof(*r->names));
    r->frame = malloc(TRX_RECV_SYNTH_MAX + SLOT_BYTES);
    return r->bufs && r->msgs && r->iov && r->ctrl && r->names && r->frame ? 0 : -1;
}

int trx_receiver_new(const struct trx_recv_opts *o, struct trx_receiver **out, struct fm_err *err)
{
    int rc = FM_OK;
    struct trx_receiver *r = calloc(1, sizeof(*r));
    if (!r)
        return fm_err_set(err, FM_ENOMEM, "out of memory");
    r->o = *o;
    for (size_t i = 0; i < TRX_RECV_MAX_PORTS; i++)
        r->socks[i].fd = -1;
    if (r->o.snaplen <= 0)
        r->o.snaplen = 65535;
    if (r->o.rcvbuf_bytes <= 0)
        r->o.rcvbuf_bytes = DEFAULT_RCVBUF;
    if (r->o.nports > TRX_RECV_MAX_PORTS) {
        rc = fm_err_set(err, FM_EINVAL, "at most %d ports", TRX_RECV_MAX_PORTS);
        goto out;
    }
    r->rs = trx_rstats_new(&r->o.stats);
    if (!r->rs) {
        rc = fm_err_set(err, FM_ENOMEM, "out of memory");
        goto out;
    }
    if (r->o.iface) {
        r->info.pcap_mode = 1;
        rc = open_capture(r, err);
        if (rc < 0)
            goto out;
    } else {
        if (r->o.nports == 0) {
            rc = fm_err_set(err, FM_EINVAL, "no UDP port to receive on");
            goto out;
        }
        if (alloc_batch(r) < 0) {
            rc = fm_err_set(err, FM_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < r->o.nports; i++) {
            rc = open_socket(r, r->o.ports[i], &r->socks[i], err);
            if (rc < 0)
                goto out;
            r->nsocks++;
        }
    }
    if (r->o.write_path) {
        rc = open_writer(r, err);
        if (rc < 0)
            goto out;
    }
    *out = r;
    r = NULL;
out:
    trx_receiver_free(r);
    return rc;
}

void trx_receiver_free(struct trx_receiver *r)
{
    if (!r)
        return;
    pkt_pcap_out_abort(&r->out);
    pkt_live_close(&r->live);
    for (size_t i = 0; i < r->nsocks; i++)
        close(r->socks[i].fd);
    free(r->bufs);
    free(r->msgs);
    free(r->iov);
    free(r->ctrl);
    free(r->names);
    free(r->frame);
    trx_rstats_free(r->rs);
    free(r);
}

struct trx_rstats *trx_receiver_stats(struct trx_receiver *r)
{
    return r->rs;
}

void trx_receiver_info(const struct trx_receiver *r, struct trx_recv_info *out)
{
    *out = r->info;
}

uint16_t trx_receiver_port(const struct trx_receiver *r, size_t i)
{
    return i < r->nsocks ? r->socks[i].port : 0;
}

/* Count one UDP datagram; sets r->done at the count limit. */
static int account(struct trx_receiver *r,
                   const struct trx_addr *a,
                   const uint8_t *payload,
                   size_t cap,
                   size_t len,
                   int64_t arrival_ns,
                   struct fm_err *err)
{
    int rc = trx_rstats_add(r->rs, a, payload, cap, len, arrival_ns, err);
    if (rc < 0)
        return rc;
    r->received++;
    r->have_packet = 1;
    if (r->o.count && r->received >= r->o.count)
        r->done = 1;
    return FM_OK;
}

static void
sockaddr_to(const struct sockaddr_storage *ss, uint8_t *ipv, uint8_t *ip, uint16_t *port)
{
    if (ss->ss_family == AF_INET6) {
        struct sockaddr_in6 s6;
        memcpy(&s6, ss, sizeof(s6));
        if (IN6_IS_ADDR_V4MAPPED(&s6.sin6_addr)) {
            *ipv = 4;
            memcpy(ip, s6.sin6_addr.s6_addr + 12, 4);
        } else {
            *ipv = 6;
            memcpy(ip, s6.sin6_addr.s6_addr, 16);
        }
        *port = ntohs(s6.sin6_port);
    } else {
        struct sockaddr_in s4;
        memcpy(&s4, ss, sizeof(s4));
        *ipv = 4;
        memcpy(ip, &s4.sin_addr, 4);
        *port = ntohs(s4.sin_port);
    }
}

/* One received datagram: addresses from its name and pktinfo, arrival from SO_TIMESTAMPNS. */
static int take_msg(struct trx_receiver *r,
                    struct rsock *s,
                    const struct mmsghdr *m,
                    const uint8_t *buf,
                    struct fm_err *err)
{
    struct trx_addr a;
    memset(&a, 0, sizeof(a));
    sockaddr_to(m->msg_hdr.msg_name, &a.ip_version, a.src, &a.sport);
    a.dport = s->port;
    if (a.ip_version == 4 && s->family == AF_INET)
        memcpy(a.dst, s->dst, 4);
    else if (a.ip_version == 6)
        memcpy(a.dst, s->dst, 16);
    int64_t arrival = -1;
    struct msghdr mh = m->msg_hdr;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(c), sizeof(ts));
            arrival = (int64_t)ts.tv_sec * FM_NS_PER_SEC + ts.tv_nsec;
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
            uint32_t drops = 0;
            memcpy(&drops, CMSG_DATA(c), sizeof(drops));
            /* A cumulative count per socket: add what is new since the last datagram. */
            r->info.kernel_drops += (uint32_t)(drops - s->drops);
            s->drops = drops;
        } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            memcpy(a.dst, &pi.ipi_addr, 4);
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi6;
            memcpy(&pi6, CMSG_DATA(c), sizeof(pi6));
            if (IN6_IS_ADDR_V4MAPPED(&pi6.ipi6_addr)) {
                memset(a.dst, 0, 16);
                memcpy(a.dst, pi6.ipi6_addr.s6_addr + 12, 4);
            } else {
                memcpy(a.dst, pi6.ipi6_addr.s6_addr, 16);
            }
        }
    }
    if (arrival < 0) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        arrival = (int64_t)now.tv_sec * FM_NS_PER_SEC + now.tv_nsec;
        r->info.no_kernel_ts++;
    }
    size_t len = m->msg_len;
    size_t cap = len;
    if ((m->msg_hdr.msg_flags & MSG_TRUNC) || cap > SLOT_BYTES) {
        r->info.truncated++;
        if (cap > SLOT_BYTES)
            cap = SLOT_BYTES;
    }
    int rc = account(r, &a, buf, cap, len, arrival, err);
    if (rc < 0 || !pkt_pcap_out_is_open(&r->out))
        return rc;
    size_t hl = trx_recv_synth_hdr(&a, buf, cap, len, r->frame);
    size_t snap = cap;
    if (hl + snap > (size_t)r->o.snaplen)
        snap = (size_t)r->o.snaplen > hl ? (size_t)r->o.snaplen - hl : 0;
    memcpy(r->frame + hl, buf, snap);
    rc = pkt_pcap_out_write(&r->out, arrival, r->frame, (uint32_t)(hl + snap), (uint32_t)(hl + len),
                            err);
    if (rc < 0)
        return rc;
    r->info.written++;
    return FM_OK;
}

/* Read what is waiting on one socket, a bounded number of batches. */
static int drain_socket(struct trx_receiver *r, struct rsock *s, struct fm_err *err)
{
    for (int round = 0; round < DRAIN_ROUNDS && !r->done; round++) {
        for (size_t i = 0; i < BATCH; i++) {
            r->iov[i].iov_base = r->bufs + i * SLOT_BYTES;
            r->iov[i].iov_len = SLOT_BYTES;
            memset(&r->msgs[i].msg_hdr, 0, sizeof(r->msgs[i].msg_hdr));
            r->msgs[i].msg_hdr.msg_iov = &r->iov[i];
            r->msgs[i].msg_hdr.msg_iovlen = 1;
            r->msgs[i].msg_hdr.msg_name = &r->names[i];
            r->msgs[i].msg_hdr.msg_namelen = sizeof(r->names[i]);
            r->msgs[i].msg_hdr.msg_control = r->ctrl[i].buf;
            r->msgs[i].msg_hdr.msg_controllen = sizeof(r->ctrl[i].buf);
            r->msgs[i].msg_len = 0;
        }
        /* MSG_TRUNC makes msg_len the datagram's real length even when it did not fit. */
        int n = recvmmsg(s->fd, r->msgs, BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return FM_OK;
            /* An ICMP error queued on the socket: not ours to fail on. */
            if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH)
                continue;
            return fm_err_errno(err, FM_ENET, errno, "receive on UDP port %u", (unsigned)s->port);
        }
        for (int i = 0; i < n && !r->done; i++) {
            int rc = take_msg(r, s, &r->msgs[i], r->bufs + (size_t)i * SLOT_BYTES, err);
            if (rc < 0)
                return rc;
        }
        if (n < BATCH)
            break;
    }
    return FM_OK;
}

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct trx_receiver *r = (struct trx_receiver *)user;
    if (r->done || r->cb_rc < 0)
        return;
    struct trx_addr a;
    size_t off = 0;
    size_t len = 0;
    if (!trx_recv_decode(r->live.linktype, bytes, h->caplen, h->len, &a, &off, &len)) {
        r->info.skipped++;
        return;
    }
    /* The kernel's clock, not a file: in range unless the clock is set past 2262. */
    int64_t sec = (int64_t)h->ts.tv_sec;
    int64_t frac = (int64_t)h->ts.tv_usec * (r->live.nano ? 1 : 1000);
    int64_t arrival = sec < 0 || sec > TS_SEC_MAX || frac < 0 || frac >= FM_NS_PER_SEC
                          ? 0
                          : sec * FM_NS_PER_SEC + frac;
    size_t cap = h->caplen - off;
    int rc = account(r, &a, bytes + off, cap < len ? cap : len, len, arrival, &r->cb_err);
    if (rc < 0) {
        r->cb_rc = rc;
        pcap_breakloop(r->live.cap);
        return;
    }
    if (pkt_pcap_out_is_open(&r->out)) {
        rc = pkt_pcap_out_write(&r->out, arrival, bytes, h->caplen, h->len, &r->cb_err);
        if (rc < 0) {
            r->cb_rc = rc;
            pcap_breakloop(r->live.cap);
            return;
        }
        r->info.written++;
    }
    if (r->done)
        pcap_breakloop(r->live.cap);
}

static int drain_capture(struct trx_receiver *r, struct fm_err *err)
{
    for (int round = 0; round < DRAIN_ROUNDS && !r->done; round++) {
        int n = pcap_dispatch(r->live.cap, -1, on_frame, (u_char *)r);
        if (r->cb_rc < 0) {
            if (err)
                *err = r->cb_err;
            return r->cb_rc;
        }
        if (n == PCAP_ERROR)
            return fm_err_set(err, FM_ENET, "capture on '%s': %s", r->o.iface,
                              pcap_geterr(r->live.cap));
        if (n <= 0)
            break;
    }
    return FM_OK;
}

/* Milliseconds to wait in poll: at most POLL_MS, less when a limit falls due sooner. */
static int poll_ms(const struct trx_receiver *r, int64_t now, int64_t deadline)
{
    int64_t wait = (int64_t)POLL_MS * 1000000;
    if (deadline && deadline - now < wait)
        wait = deadline - now;
    if (r->o.idle_ns && r->have_packet && r->last_packet_mono + r->o.idle_ns - now < wait)
        wait = r->last_packet_mono + r->o.idle_ns - now;
    if (wait < 0)
        wait = 0;
    return (int)((wait + 999999) / 1000000);
}

int trx_receiver_run(struct trx_receiver *r,
                     void (*status)(const struct trx_rstats_totals *t, void *arg),
                     void *arg,
                     const volatile sig_atomic_t *stop,
                     struct fm_err *err)
{
    struct pollfd pfd[TRX_RECV_MAX_PORTS];
    size_t npfd = 0;
    int rc = FM_OK;
    if (r->live.cap) {
        pfd[0].fd = r->live.fd;
        pfd[0].events = POLLIN;
        npfd = 1;
    } else {
        for (size_t i = 0; i < r->nsocks; i++) {
            pfd[i].fd = r->socks[i].fd;
            pfd[i].events = POLLIN;
        }
        npfd = r->nsocks;
    }
    int64_t start = fm_time_mono_ns();
    int64_t deadline = r->o.duration_ns ? start + r->o.duration_ns : 0;
    int64_t next_status = start + FM_NS_PER_SEC;
    r->last_flush = start;
    for (;;) {
        if (stop && *stop) {
            rc = FM_EINTR;
            break;
        }
        int64_t now = fm_time_mono_ns();
        if (r->done || (deadline && now >= deadline) ||
            (r->o.idle_ns && r->have_packet && now - r->last_packet_mono >= r->o.idle_ns))
            break;
        int n = poll(pfd, npfd, poll_ms(r, now, deadline));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = fm_err_errno(err, FM_ENET, errno, "waiting for packets");
            break;
        }
        uint64_t before = r->received;
        for (size_t i = 0; i < npfd && n > 0 && rc == FM_OK && !r->done; i++) {
            if (!(pfd[i].revents & (POLLIN | POLLERR)))
                continue;
            rc = r->live.cap ? drain_capture(r, err) : drain_socket(r, &r->socks[i], err);
        }
        if (rc < 0)
            break;
        now = fm_time_mono_ns();
        if (r->received != before)
            r->last_packet_mono = now;
        /* Flush a few times a second, not per packet: a file cut short by a crash loses at
         * most the last fraction of a second. */
        if (pkt_pcap_out_is_open(&r->out) && now - r->last_flush >= FLUSH_NS) {
            rc = pkt_pcap_out_flush(&r->out, err);
            if (rc < 0)
                break;
            r->last_flush = now;
        }
        if (status && now >= next_status) {
            struct trx_rstats_totals t;
            trx_rstats_totals(r->rs, &t);
            status(&t, arg);
            next_status += FM_NS_PER_SEC * ((now - next_status) / FM_NS_PER_SEC + 1);
        }
    }
    r->info.elapsed_ns = fm_time_mono_ns() - start;
    if (r->live.cap) {
        struct pcap_stat ps;
        if (pcap_stats(r->live.cap, &ps) == 0)
            r->info.kernel_drops = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
    }
    /* Whatever stopped us, what was received is a valid capture: keep it. */
    struct fm_err werr = {0};
    int wrc = commit_writer(r, &werr);
    if (wrc < 0 && (rc == FM_OK || rc == FM_EINTR)) {
        rc = wrc;
        if (err)
            *err = werr;
    }
    return rc;
}

int trx_rstats_read_pcap(struct trx_rstats *rs,
                         const char *path,
                         const uint16_t *ports,
                         size_t nports,
                         struct fm_err *err)
{
    struct pkt_pcap_in *in = NULL;
    int rc = pkt_pcap_open(path, &in, err);
    if (rc < 0)
        return rc;
    int dlt = pkt_pcap_linktype(in);
    for (;;) {
        struct pkt_raw raw;
        rc = pkt_pcap_next(in, &raw, err);
        if (rc <= 0)
            break;
        struct trx_addr a;
        size_t off = 0, len = 0;
        if (!trx_recv_decode(dlt, raw.data, raw.caplen, raw.wirelen, &a, &off, &len))
            continue;
        int wanted = nports == 0;
        for (size_t i = 0; i < nports && !wanted; i++)
            wanted = a.dport == ports[i];
        if (!wanted)
            continue;
        size_t cap = raw.caplen - off;
        rc = trx_rstats_add(rs, &a, raw.data + off, cap < len ? cap : len, len, raw.ts_ns, err);
        if (rc < 0)
            break;
    }
    pkt_pcap_close(in);
    return rc < 0 ? rc : FM_OK;
}
