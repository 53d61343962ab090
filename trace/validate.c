/* trace/validate.c - protocol checks of a packet trace; see validate.h and docs/trace.md.
 * Specifications: RFC 791 and RFC 8200 (addresses, TTL), RFC 768 (UDP length), RFC 3550
 * section 5.1 and appendix A.1 (RTP version, sequence and timestamp per SSRC), RFC 9293
 * section 3.5 and 3.10 (TCP handshake, sequence space, FIN and RST).
 *
 * One pass in trace order. Three tables remember what came before: flows by address and port
 * pair (for the protocol they carry), RTP streams by sender, receiver and SSRC, and TCP
 * connections by their 5-tuple. Sequence numbers are compared in their own modular space
 * (a signed 16- or 32-bit difference), so a wrap is continuity, not a jump. */
#include "trace/validate.h"

#include "common/map.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    const char *help;
} rules[TRC_V_NRULES] = {
    /* Errors: the packet itself is malformed or impossible. */
    [TRC_V_TS_ORDER] = {"ts-order", "timestamps never decrease"},
    [TRC_V_IP_TTL] = {"ip-ttl", "TTL (hop limit) is not 0"},
    [TRC_V_IP_SRC] = {"ip-src", "the source is not a multicast or broadcast address"},
    [TRC_V_PORT] = {"port", "source and destination ports are not 0"},
    [TRC_V_FLOW_PROTO] = {"flow-proto", "an address and port pair carries one protocol"},
    [TRC_V_UDP_LENGTH] = {"udp-length", "udp_length is 8 + payload_length"},
    [TRC_V_RTP_VERSION] = {"rtp-version", "RTP version is 2"},
    [TRC_V_RTP_HEADER] = {"rtp-header",
                          "the RTP header fits the payload (12 bytes) and agrees with its bytes"},
    [TRC_V_RTP_SSRC] = {"rtp-ssrc", "an SSRC is sent from one endpoint to one endpoint"},
    [TRC_V_RTP_SEQ_GAP] = {"rtp-seq-gap", "RTP sequence numbers advance by 1 (no loss)"},
    [TRC_V_RTP_SEQ_DUP] = {"rtp-seq-dup", "no RTP sequence number comes twice"},
    [TRC_V_RTP_SEQ_ORDER] = {"rtp-seq-order", "no RTP sequence number after a higher one"},
    [TRC_V_RTP_TS] = {"rtp-ts", "RTP timestamps never go back (modulo 2^32) in sequence order"},
    [TRC_V_TCP_FLAGS] = {"tcp-flags", "no SYN+FIN, SYN+RST, FIN+RST or empty flags; ACK on "
                                      "every packet after the first SYN except RST"},
    [TRC_V_TCP_HANDSHAKE] = {"tcp-handshake",
                             "SYN, SYN-ACK, ACK with matching numbers before any data"},
    [TRC_V_TCP_SEQ] = {"tcp-seq", "each side's seq continues where its last segment ended "
                                  "(data advances it by its length, SYN and FIN by 1)"},
    [TRC_V_TCP_ACK] = {"tcp-ack", "an ack never covers bytes the peer has not sent"},
    [TRC_V_TCP_FIN] = {"tcp-fin", "no data, SYN or second FIN from a side after its FIN"},
    [TRC_V_TCP_RST] = {"tcp-rst", "nothing follows a RST in its connection"},
};

/* Warnings: what a network does or a capture of part of one shows (loss, duplicates and
 * reordering, retransmissions, a connection seen from its middle, packets in flight after a
 * RST or FIN, an ack of bytes the capture missed, RTP timestamps that go back as B-frames
 * make them, an SSRC relayed from a second address). The rules not listed are errors. */
static int rule_is_warning(enum trc_vrule rule)
{
    switch (rule) {
    case TRC_V_RTP_SSRC:
    case TRC_V_RTP_SEQ_GAP:
    case TRC_V_RTP_SEQ_DUP:
    case TRC_V_RTP_SEQ_ORDER:
    case TRC_V_RTP_TS:
    case TRC_V_TCP_SEQ:
    case TRC_V_TCP_ACK:
    case TRC_V_TCP_FIN:
    case TRC_V_TCP_RST:
        return 1;
    default:
        return 0;
    }
}

int trc_validate_rule_warns(enum trc_vrule rule)
{
    return (unsigned)rule < TRC_V_NRULES && rule_is_warning(rule);
}

const char *trc_validate_rule_name(enum trc_vrule rule)
{
    return (unsigned)rule < TRC_V_NRULES ? rules[rule].name : "?";
}

const char *trc_validate_rule_help(enum trc_vrule rule)
{
    return (unsigned)rule < TRC_V_NRULES ? rules[rule].help : "?";
}

/* ---- state ---- */

/* Keys are zeroed before they are filled, padding included, so memcmp() compares them. */
struct endpoint {
    uint8_t ip[16];
    uint16_t port;
};

struct pair_key {
    uint8_t family;
    uint8_t proto;        /* 0 in the flow table, which looks for two protocols on one pair */
    struct endpoint a, b; /* a <= b */
};

struct stream_key {
    uint32_t ssrc;
    uint8_t family;
    struct endpoint src, dst;
};

struct flow {
    uint8_t proto;
    size_t first;
};

struct stream {
    uint16_t max_seq; /* the highest sequence number so far */
    uint32_t last_ts; /* the timestamp of the packet that brought max_seq */
    uint64_t seen;    /* bit d: max_seq - d arrived */
};

/* Which SSRC came first from which sender, for rtp-ssrc. */
struct ssrc_owner {
    struct stream_key key;
    size_t first;
};

enum tcp_state { TCP_NEW, TCP_SYN_SENT, TCP_SYN_RCVD, TCP_OPEN, TCP_MIDSTREAM };

struct tcp_side {
    int known; /* nxt is meaningful */
    int guess; /* nxt came from a segment without data seen first: it may be a keep-alive,
                  one below the true nxt */
    uint32_t isn;
    uint32_t nxt; /* the next sequence number this side will use */
    int fin;
    uint32_t fin_seq;
    size_t fin_pkt;
};

struct tcp_conn {
    enum tcp_state state;
    int client; /* the side (0: pair a, 1: pair b) that sent the SYN */
    int rst;
    size_t rst_pkt;
    struct tcp_side s[2];
};

struct vctx {
    struct trc_validate_report *r;
    size_t max_keep;
    size_t index;
    int oom;
    struct fm_map flows_by_pair;
    struct flow *flows;
    struct fm_map streams_by_key;
    struct stream *streams;
    struct fm_map owners_by_ssrc; /* ssrc -> index into owners */
    struct ssrc_owner *owners;
    struct fm_map conns_by_pair;
    struct tcp_conn *conns;
    size_t nflows, nstreams, nowners, nconns;
};

/* Grow an array of elements of size sz to hold n + 1. */
static int grow(void **arr, size_t n, size_t sz)
{
    /* The capacity is 16 and then the next power of two: grow when n reaches it. */
    if (n != 0 && (n < 16 || (n & (n - 1)) != 0))
        return 0;
    size_t cap = n ? 2 * n : 16;
    void *p = realloc(*arr, cap * sz);
    if (!p)
        return -1;
    *arr = p;
    return 0;
}

/* Copy s into dst of size bytes, cut short when it does not fit. */
static void copy_text(char *dst, size_t size, const char *s)
{
    size_t n = strnlen(s, size - 1);
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static void report_as(struct vctx *c, enum trc_vrule rule, int warning, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void report_va(struct vctx *c, enum trc_vrule rule, int warning, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* One finding, an error or a warning. fmt gives "expected ...|got ...": the two halves are
 * split at the '|'. */
static void report_va(struct vctx *c, enum trc_vrule rule, int warning, const char *fmt, va_list ap)
{
    struct trc_validate_report *r = c->r;
    r->total++;
    r->per_rule[rule]++;
    if (warning) {
        r->warnings++;
        r->per_rule_warnings[rule]++;
    } else {
        r->errors++;
    }
    if (c->max_keep && r->nv >= c->max_keep)
        return;
    if (grow((void **)&r->v, r->nv, sizeof(*r->v)) < 0) {
        c->oom = 1;
        return;
    }
    char text[256];
    vsnprintf(text, sizeof(text), fmt, ap);
    struct trc_violation *v = &r->v[r->nv++];
    v->packet = c->index;
    v->rule = rule;
    v->warning = warning;
    char *bar = strchr(text, '|');
    if (bar)
        *bar = '\0';
    copy_text(v->expected, sizeof(v->expected), text);
    copy_text(v->got, sizeof(v->got), bar ? bar + 1 : "");
}

static void report_as(struct vctx *c, enum trc_vrule rule, int warning, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report_va(c, rule, warning, fmt, ap);
    va_end(ap);
}

static void report(struct vctx *c, enum trc_vrule rule, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A finding with its rule's severity. */
static void report(struct vctx *c, enum trc_vrule rule, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report_va(c, rule, rule_is_warning(rule), fmt, ap);
    va_end(ap);
}

static void endpoint_text(const struct trc_pkt *p, int dst, char *buf, size_t len)
{
    char ip[64];
    trc_addr_format(p->family, dst ? p->dst_ip : p->src_ip, ip, sizeof(ip));
    snprintf(buf, len, p->family == 6 ? "[%s]:%u" : "%s:%u", ip,
             (unsigned)(dst ? p->dst_port : p->src_port));
}

static void flags_text(uint8_t f, char *buf)
{
    static const char letters[] = "FSRPAUEC";
    size_t n = 0;
    for (unsigned b = 0; b < 8; b++) {
        if (f & (1u << b))
            buf[n++] = letters[b];
    }
    if (!n)
        n = (size_t)snprintf(buf, 8, "none");
    buf[n] = '\0';
}

/* The canonical pair of a packet's endpoints; *side is 0 when the source is pair a. */
static void pair_make(const struct trc_pkt *p, uint8_t proto, struct pair_key *k, int *side)
{
    struct endpoint s;
    struct endpoint d;
    memset(k, 0, sizeof(*k));
    memset(&s, 0, sizeof(s));
    memset(&d, 0, sizeof(d));
    memcpy(s.ip, p->src_ip, 16);
    s.port = p->src_port;
    memcpy(d.ip, p->dst_ip, 16);
    d.port = p->dst_port;
    int cmp = memcmp(s.ip, d.ip, 16);
    if (cmp == 0)
        cmp = (int)s.port - (int)d.port;
    k->family = p->family;
    k->proto = proto;
    k->a = cmp <= 0 ? s : d;
    k->b = cmp <= 0 ? d : s;
    *side = cmp <= 0 ? 0 : 1;
}

/* ---- per-packet rules ---- */

static void check_ip(struct vctx *c, const struct trc_pkt *p)
{
    if (p->ttl == 0)
        report(c, TRC_V_IP_TTL, "expected a TTL of 1 to 255|got 0");
    int mcast = p->family == 4 ? (p->src_ip[0] & 0xf0) == 0xe0 : p->src_ip[0] == 0xff;
    int bcast = p->family == 4 && p->src_ip[0] == 255 && p->src_ip[1] == 255 &&
                p->src_ip[2] == 255 && p->src_ip[3] == 255;
    if (mcast || bcast) {
        char ep[80];
        endpoint_text(p, 0, ep, sizeof(ep));
        report(c, TRC_V_IP_SRC, "expected a unicast source|got %s (%s)", ep,
               mcast ? "multicast" : "broadcast");
    }
    if (p->src_port == 0 || p->dst_port == 0)
        report(c, TRC_V_PORT, "expected ports 1 to 65535|got %s port 0",
               p->src_port == 0 ? "source" : "destination");
}

static void check_flow(struct vctx *c, const struct trc_pkt *p)
{
    struct pair_key k;
    int side = 0;
    pair_make(p, 0, &k, &side);
    size_t i = fm_map_get(&c->flows_by_pair, &k);
    if (i == FM_MAP_NONE) {
        if (grow((void **)&c->flows, c->nflows, sizeof(*c->flows)) < 0 ||
            fm_map_put(&c->flows_by_pair, &k, c->nflows) < 0) {
            c->oom = 1;
            return;
        }
        c->flows[c->nflows].proto = p->proto;
        c->flows[c->nflows].first = c->index;
        c->nflows++;
        return;
    }
    const struct flow *f = &c->flows[i];
    if (f->proto != p->proto)
        report(c, TRC_V_FLOW_PROTO, "expected %s, as packet %zu of these endpoints|got %s",
               f->proto == 6 ? "tcp" : "udp", f->first, p->proto == 6 ? "tcp" : "udp");
}

static void check_udp(struct vctx *c, const struct trc_pkt *p)
{
    if (p->udp_length >= 0 && (unsigned long)p->udp_length != 8ul + p->payload_length) {
        /* The first fragment of a datagram carries the whole datagram's length: what a
         * capture of a fragmented datagram shows, a warning. */
        int fragment = (unsigned long)p->udp_length > 8ul + p->payload_length;
        report_as(c, TRC_V_UDP_LENGTH, fragment,
                  "expected udp_length %lu (8 + payload_length)|got %ld%s", 8ul + p->payload_length,
                  p->udp_length, fragment ? " (the first IP fragment of a larger datagram?)" : "");
    }
}

/* The RTP header in the payload bytes (when they are known) against the rtp fields. */
static void check_rtp_header(struct vctx *c, const struct trc_pkt *p)
{
    const struct trc_rtp *h = &p->rtp;
    if (h->version != 2)
        report(c, TRC_V_RTP_VERSION, "expected version 2|got %u", (unsigned)h->version);
    if (p->payload_length < 12) {
        report(c, TRC_V_RTP_HEADER, "expected a payload of at least 12 bytes|got %lu",
               (unsigned long)p->payload_length);
        return;
    }
    if (!p->payload)
        return;
    const uint8_t *b = p->payload;
    unsigned version = b[0] >> 6;
    unsigned marker = b[1] >> 7;
    unsigned pt = b[1] & 0x7fu;
    unsigned seq = (unsigned)b[2] << 8 | b[3];
    uint32_t ts = (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
    uint32_t ssrc = (uint32_t)b[8] << 24 | (uint32_t)b[9] << 16 | (uint32_t)b[10] << 8 | b[11];
    if (version != h->version)
        report(c, TRC_V_RTP_HEADER, "expected version %u (rtp.version)|got %u in the payload",
               (unsigned)h->version, version);
    if (marker != h->marker)
        report(c, TRC_V_RTP_HEADER, "expected marker %u (rtp.marker)|got %u in the payload",
               (unsigned)h->marker, marker);
    if (pt != h->payload_type)
        report(c, TRC_V_RTP_HEADER,
               "expected payload type %u (rtp.payload_type)|got %u in the payload",
               (unsigned)h->payload_type, pt);
    if (seq != h->seq)
        report(c, TRC_V_RTP_HEADER, "expected seq %u (rtp.seq)|got %u in the payload",
               (unsigned)h->seq, seq);
    if (ts != h->timestamp)
        report(c, TRC_V_RTP_HEADER, "expected timestamp %lu (rtp.timestamp)|got %lu in the payload",
               (unsigned long)h->timestamp, (unsigned long)ts);
    if (ssrc != h->ssrc)
        report(c, TRC_V_RTP_HEADER, "expected ssrc %lu (rtp.ssrc)|got %lu in the payload",
               (unsigned long)h->ssrc, (unsigned long)ssrc);
}

/* A new stream of an SSRC already sent by another endpoint, or to another one. */
static void check_ssrc_owner(struct vctx *c, const struct stream_key *k)
{
    uint32_t ssrc = k->ssrc;
    size_t o = fm_map_get(&c->owners_by_ssrc, &ssrc);
    if (o == FM_MAP_NONE) {
        if (grow((void **)&c->owners, c->nowners, sizeof(*c->owners)) < 0 ||
            fm_map_put(&c->owners_by_ssrc, &ssrc, c->nowners) < 0) {
            c->oom = 1;
            return;
        }
        c->owners[c->nowners].key = *k;
        c->owners[c->nowners].first = c->index;
        c->nowners++;
        return;
    }
    const struct ssrc_owner *w = &c->owners[o];
    char was_s[80];
    char was_d[80];
    char now_s[80];
    char now_d[80];
    char ip[64];
    const struct endpoint *eps[4] = {&w->key.src, &w->key.dst, &k->src, &k->dst};
    char *txt[4] = {was_s, was_d, now_s, now_d};
    for (int i = 0; i < 4; i++) {
        trc_addr_format(k->family, eps[i]->ip, ip, sizeof(ip));
        snprintf(txt[i], 80, k->family == 6 ? "[%s]:%u" : "%s:%u", ip, (unsigned)eps[i]->port);
    }
    report(c, TRC_V_RTP_SSRC, "expected ssrc %lu from %s to %s, as packet %zu|got %s to %s",
           (unsigned long)ssrc, was_s, was_d, w->first, now_s, now_d);
}

static void check_rtp(struct vctx *c, const struct trc_pkt *p)
{
    check_rtp_header(c, p);
    struct stream_key k;
    memset(&k, 0, sizeof(k));
    k.ssrc = p->rtp.ssrc;
    k.family = p->family;
    memcpy(k.src.ip, p->src_ip, 16);
    k.src.port = p->src_port;
    memcpy(k.dst.ip, p->dst_ip, 16);
    k.dst.port = p->dst_port;
    size_t i = fm_map_get(&c->streams_by_key, &k);
    uint16_t seq = p->rtp.seq;
    uint32_t ts = p->rtp.timestamp;
    if (i == FM_MAP_NONE) {
        check_ssrc_owner(c, &k);
        if (grow((void **)&c->streams, c->nstreams, sizeof(*c->streams)) < 0 ||
            fm_map_put(&c->streams_by_key, &k, c->nstreams) < 0) {
            c->oom = 1;
            return;
        }
        struct stream *s = &c->streams[c->nstreams++];
        s->max_seq = seq;
        s->last_ts = ts;
        s->seen = 1;
        return;
    }
    struct stream *s = &c->streams[i];
    int d = (int16_t)(uint16_t)(seq - s->max_seq);
    unsigned want = (uint16_t)(s->max_seq + 1u);
    if (d > 0) {
        if (d > 1)
            report(c, TRC_V_RTP_SEQ_GAP, "expected seq %u|got %u (%d missing)", want, seq, d - 1);
        /* RFC 3550 A.1 compares timestamps of packets in sequence order only: a late
         * packet's older timestamp is reordering, reported as such. */
        if ((int32_t)(ts - s->last_ts) < 0)
            report(c, TRC_V_RTP_TS, "expected timestamp >= %lu (seq %u)|got %lu (seq %u)",
                   (unsigned long)s->last_ts, (unsigned)s->max_seq, (unsigned long)ts, seq);
        s->seen = d >= 64 ? 1 : s->seen << d | 1;
        s->max_seq = seq;
        s->last_ts = ts;
    } else if (d == 0 || (d > -64 && (s->seen >> -d) & 1)) {
        report(c, TRC_V_RTP_SEQ_DUP, "expected seq %u|got %u again (a duplicate)", want, seq);
    } else {
        if (d > -64)
            s->seen |= (uint64_t)1 << -d;
        report(c, TRC_V_RTP_SEQ_ORDER, "expected seq %u|got %u (%d behind, reordered)", want, seq,
               -d);
    }
}

/* ---- TCP ---- */

static int32_t sdiff(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

static struct tcp_conn *conn_get(struct vctx *c, const struct trc_pkt *p, int *side)
{
    struct pair_key k;
    pair_make(p, 6, &k, side);
    size_t i = fm_map_get(&c->conns_by_pair, &k);
    if (i != FM_MAP_NONE)
        return &c->conns[i];
    if (grow((void **)&c->conns, c->nconns, sizeof(*c->conns)) < 0 ||
        fm_map_put(&c->conns_by_pair, &k, c->nconns) < 0) {
        c->oom = 1;
        return NULL;
    }
    struct tcp_conn *t = &c->conns[c->nconns++];
    memset(t, 0, sizeof(*t));
    c->r->tcp_conns++;
    return t;
}

static void check_tcp_flags(struct vctx *c, const struct tcp_conn *t, uint8_t f)
{
    char fl[12];
    flags_text(f, fl);
    unsigned syn = f & TRC_TCP_SYN, fin = f & TRC_TCP_FIN, rst = f & TRC_TCP_RST;
    if ((syn && fin) || (syn && rst) || (fin && rst))
        report(c, TRC_V_TCP_FLAGS, "expected at most one of SYN, FIN and RST|got %s", fl);
    else if (!(f & (TRC_TCP_SYN | TRC_TCP_FIN | TRC_TCP_RST | TRC_TCP_ACK)))
        report(c, TRC_V_TCP_FLAGS, "expected SYN, ACK, FIN or RST|got %s", fl);
    else if (!(f & TRC_TCP_ACK) && !rst && !(syn && t->state < TCP_OPEN))
        report(c, TRC_V_TCP_FLAGS, "expected ACK on every packet after the first SYN|got %s", fl);
}

/* The handshake states: returns 1 when the packet is also to be checked as one of an open
 * connection (the third packet of the handshake may carry data), 0 when it is done with. */
static int tcp_handshake(struct vctx *c, struct tcp_conn *t, int i, const struct trc_pkt *p)
{
    uint8_t f = p->tcp.flags;
    int syn = (f & TRC_TCP_SYN) != 0;
    int ack = (f & TRC_TCP_ACK) != 0;
    struct tcp_side *me = &t->s[i];
    struct tcp_side *peer = &t->s[1 - i];
    uint32_t seglen = p->payload_length + (uint32_t)syn + ((f & TRC_TCP_FIN) ? 1u : 0u);
    char fl[12];
    flags_text(f, fl);
    switch (t->state) {
    case TCP_NEW:
        if (syn && !ack) {
            t->client = i;
            me->known = 1;
            me->isn = p->tcp.seq;
            me->nxt = p->tcp.seq + seglen;
            t->state = TCP_SYN_SENT;
            return 0;
        }
        /* A connection captured after it opened: a warning. */
        report_as(c, TRC_V_TCP_HANDSHAKE, 1, "expected SYN to open the connection|got %s", fl);
        t->state = TCP_MIDSTREAM;
        return 1;
    case TCP_SYN_SENT:
        if (i == t->client && syn && !ack) {
            if (p->tcp.seq != me->isn)
                report(c, TRC_V_TCP_HANDSHAKE, "expected seq %lu (the SYN again)|got %lu",
                       (unsigned long)me->isn, (unsigned long)p->tcp.seq);
            return 0;
        }
        if (i != t->client && syn && ack) {
            if (p->tcp.ack != peer->isn + 1)
                report(c, TRC_V_TCP_HANDSHAKE, "expected SYN-ACK ack %lu|got %lu",
                       (unsigned long)(uint32_t)(peer->isn + 1), (unsigned long)p->tcp.ack);
            me->known = 1;
            me->isn = p->tcp.seq;
            me->nxt = p->tcp.seq + seglen;
            t->state = TCP_SYN_RCVD;
            return 0;
        }
        if (i != t->client && (f & TRC_TCP_RST))
            return 1; /* refused */
        if (p->payload_length)
            report(c, TRC_V_TCP_HANDSHAKE, "expected SYN-ACK before data|got %s with %lu bytes", fl,
                   (unsigned long)p->payload_length);
        else
            report(c, TRC_V_TCP_HANDSHAKE, "expected SYN-ACK from the server|got %s from the %s",
                   fl, i == t->client ? "client" : "server");
        t->state = TCP_MIDSTREAM;
        return 1;
    case TCP_SYN_RCVD:
        if (i == t->client && syn && !ack)
            return 0; /* the SYN again: the SYN-ACK may have been lost */
        if (i != t->client && syn && ack) {
            if (p->tcp.seq != me->isn)
                report(c, TRC_V_TCP_HANDSHAKE, "expected seq %lu (the SYN-ACK again)|got %lu",
                       (unsigned long)me->isn, (unsigned long)p->tcp.seq);
            return 0;
        }
        if (i == t->client && ack && !syn) {
            if (p->tcp.ack != peer->isn + 1)
                report(c, TRC_V_TCP_HANDSHAKE, "expected ACK ack %lu|got %lu",
                       (unsigned long)(uint32_t)(peer->isn + 1), (unsigned long)p->tcp.ack);
            t->state = TCP_OPEN;
            return 1;
        }
        if (!(f & TRC_TCP_RST))
            report(c, TRC_V_TCP_HANDSHAKE,
                   "expected the client's ACK before data|got %s with %lu bytes from the %s", fl,
                   (unsigned long)p->payload_length, i == t->client ? "client" : "server");
        t->state = TCP_OPEN;
        return 1;
    case TCP_OPEN:
    case TCP_MIDSTREAM:
        break;
    }
    return 1;
}

static void tcp_open(struct vctx *c, struct tcp_conn *t, int i, const struct trc_pkt *p)
{
    uint8_t f = p->tcp.flags;
    struct tcp_side *me = &t->s[i];
    struct tcp_side *peer = &t->s[1 - i];
    uint32_t seq = p->tcp.seq;
    uint32_t fin = (f & TRC_TCP_FIN) ? 1u : 0u;
    uint32_t syn = (f & TRC_TCP_SYN) ? 1u : 0u;
    uint32_t seglen = p->payload_length + syn + fin;
    char fl[12];
    flags_text(f, fl);
    /* A SYN as the first packet seen of a side was reported as a handshake out of place. */
    if (syn && me->known)
        report(c, TRC_V_TCP_HANDSHAKE, "expected no SYN in an open connection|got %s", fl);
    if (me->fin && (p->payload_length || (fin && seq != me->fin_seq)))
        report(c, TRC_V_TCP_FIN,
               "expected nothing new after the FIN of packet %zu|got %s with "
               "%lu bytes",
               me->fin_pkt, fl, (unsigned long)p->payload_length);
    if (!me->known) {
        /* A connection seen from the middle: this side's numbers start here. */
        me->known = 1;
        me->guess = seglen == 0;
        me->nxt = seq;
    }
    if (!(f & TRC_TCP_RST)) {
        int32_t d = sdiff(seq, me->nxt);
        if (me->guess && d == 1) {
            /* The first segment seen was a keep-alive: the real numbers are one higher. */
            me->nxt = seq;
            d = 0;
        }
        if (seglen > 0)
            me->guess = 0;
        /* A keep-alive repeats the last byte sent (seq nxt - 1, no data or one byte). */
        int keepalive = d == -1 && p->payload_length <= 1 && !fin;
        if (seglen > 0 && d > 0)
            report(c, TRC_V_TCP_SEQ, "expected seq %lu|got %lu (%ld bytes skipped)",
                   (unsigned long)me->nxt, (unsigned long)seq, (long)d);
        else if (seglen > 0 && d < 0 && !keepalive && !(me->fin && fin && seq == me->fin_seq))
            report(c, TRC_V_TCP_SEQ, "expected seq %lu|got %lu (%ld bytes sent again)",
                   (unsigned long)me->nxt, (unsigned long)seq, (long)-d);
        else if (seglen == 0 && d != 0 && !keepalive)
            report(c, TRC_V_TCP_SEQ, "expected seq %lu|got %lu", (unsigned long)me->nxt,
                   (unsigned long)seq);
        if (sdiff(seq + seglen, me->nxt) > 0)
            me->nxt = seq + seglen;
    }
    if ((f & TRC_TCP_ACK) && peer->known && peer->guess && p->tcp.ack == peer->nxt + 1) {
        /* The peer's first segment seen was a keep-alive; this ack says so. */
        peer->nxt = p->tcp.ack;
        peer->guess = 0;
    }
    if ((f & TRC_TCP_ACK) && peer->known && sdiff(p->tcp.ack, peer->nxt) > 0)
        report(c, TRC_V_TCP_ACK, "expected ack <= %lu (what the peer sent)|got %lu",
               (unsigned long)peer->nxt, (unsigned long)p->tcp.ack);
    if (fin && !me->fin) {
        me->fin = 1;
        me->fin_seq = seq;
        me->fin_pkt = c->index;
    }
    if (f & TRC_TCP_RST) {
        t->rst = 1;
        t->rst_pkt = c->index;
    }
}

static void check_tcp(struct vctx *c, const struct trc_pkt *p)
{
    int i = 0;
    struct tcp_conn *t = conn_get(c, p, &i);
    if (!t)
        return;
    uint8_t f = p->tcp.flags;
    /* A SYN after a RST or after both FINs opens a new connection on the same ports. */
    int closed = t->rst || (t->s[0].fin && t->s[1].fin);
    if (closed && (f & TRC_TCP_SYN) && !(f & TRC_TCP_ACK)) {
        memset(t, 0, sizeof(*t));
        c->r->tcp_conns++;
    }
    if (t->rst) {
        char fl[12];
        flags_text(f, fl);
        report(c, TRC_V_TCP_RST, "expected nothing after the RST of packet %zu|got %s", t->rst_pkt,
               fl);
        return;
    }
    check_tcp_flags(c, t, f);
    if (tcp_handshake(c, t, i, p))
        tcp_open(c, t, i, p);
}

int trc_validate(const struct trc_trace *t,
                 size_t max_keep,
                 struct trc_validate_report *r,
                 struct fm_err *err)
{
    struct vctx c;
    memset(&c, 0, sizeof(c));
    memset(r, 0, sizeof(*r));
    c.r = r;
    c.max_keep = max_keep;
    fm_map_init(&c.flows_by_pair, sizeof(struct pair_key));
    fm_map_init(&c.conns_by_pair, sizeof(struct pair_key));
    fm_map_init(&c.streams_by_key, sizeof(struct stream_key));
    fm_map_init(&c.owners_by_ssrc, sizeof(uint32_t));
    int rc = FM_OK;
    for (size_t i = 0; i < t->n && !c.oom; i++) {
        const struct trc_pkt *p = &t->pkts[i];
        c.index = i;
        if (i > 0) {
            const struct trc_pkt *q = &t->pkts[i - 1];
            if (p->ts_sec < q->ts_sec || (p->ts_sec == q->ts_sec && p->ts_nsec < q->ts_nsec))
                report(&c, TRC_V_TS_ORDER,
                       "expected a time >= %lld.%09lu (packet %zu)|got "
                       "%lld.%09lu",
                       (long long)q->ts_sec, (unsigned long)q->ts_nsec, i - 1, (long long)p->ts_sec,
                       (unsigned long)p->ts_nsec);
        }
        check_ip(&c, p);
        check_flow(&c, p);
        if (p->proto == 17) {
            check_udp(&c, p);
            if (p->has_rtp)
                check_rtp(&c, p);
        } else if (p->has_tcp) {
            check_tcp(&c, p);
        }
    }
    r->packets = t->n;
    r->flows = c.nflows;
    r->rtp_streams = c.nstreams;
    if (c.oom) {
        rc = fm_err_set(err, FM_ENOMEM, "validating a trace of %zu packets", t->n);
        trc_validate_report_fini(r);
    }
    fm_map_fini(&c.flows_by_pair);
    fm_map_fini(&c.streams_by_key);
    fm_map_fini(&c.owners_by_ssrc);
    fm_map_fini(&c.conns_by_pair);
    free(c.flows);
    free(c.streams);
    free(c.owners);
    free(c.conns);
    return rc;
}

void trc_validate_report_fini(struct trc_validate_report *r)
{
    free(r->v);
    memset(r, 0, sizeof(*r));
}
