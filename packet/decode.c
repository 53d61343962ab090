/* packet/decode.c - packet decoding from the link layer to UDP/TCP and RTP.
 * Specifications: IEEE 802.3 Ethernet II, IEEE 802.1Q (tags 0x8100, 0x88a8 and the legacy
 * 0x9100), tcpdump.org LINKTYPE_LINUX_SLL / LINKTYPE_LINUX_SLL2, LINKTYPE_NULL / LOOP,
 * LINKTYPE_RAW / IPV4 / IPV6; RFC 791 (IPv4), RFC 8200 (IPv6), RFC 4302 (AH), RFC 768 (UDP),
 * RFC 9293 (TCP), RFC 3550 section 5.1 (RTP).
 *
 *   IPv4:  |ver|ihl| tos |  total length  |  id  |flags|frag off| ttl | proto | ...
 *   IPv6:  |ver| traffic class | flow label | payload len | next hdr | hop limit | ...
 *   UDP:   | src port | dst port | length | checksum |
 *   RTP:   |V=2|P|X| CC |M| PT | sequence | timestamp | SSRC | CSRC... |
 *
 * Every byte is read through a struct fm_rd cursor bounded by the captured length, so no
 * input can make the decoder read past what was captured. Lengths that describe the packet
 * as sent (payload_len) come from the headers, clamped to what the wire length allows, and
 * never from the capture's snap length. */
#include "packet/decode.h"

#include <string.h>

#include "common/buf.h"

/* Link types by their libpcap DLT_ values. DLT_RAW is 12 on most systems and 14 on
 * OpenBSD; files written with LINKTYPE_RAW (101) are reported as one of those, but accept
 * 101 too in case a caller passes the file's value through. */
enum {
    LT_NULL = 0,
    LT_EN10MB = 1,
    LT_RAW_12 = 12,
    LT_RAW_14 = 14,
    LT_RAW_101 = 101,
    LT_LOOP = 108,
    LT_LINUX_SLL = 113,
    LT_IPV4 = 228,
    LT_IPV6 = 229,
    LT_LINUX_SLL2 = 276
};

enum {
    ETH_IPV4 = 0x0800,
    ETH_IPV6 = 0x86dd,
    ETH_8021Q = 0x8100,
    ETH_8021AD = 0x88a8,
    ETH_QINQ_OLD = 0x9100
};

enum {
    PROTO_HOPOPTS = 0,
    PROTO_TCP = 6,
    PROTO_UDP = 17,
    PROTO_ROUTING = 43,
    PROTO_FRAGMENT = 44,
    PROTO_AH = 51,
    PROTO_DSTOPTS = 60,
    PROTO_MOBILITY = 135,
    PROTO_HIP = 139,
    PROTO_SHIM6 = 140
};

/* Deeper stacks than this are not seen in practice; the bound keeps a crafted frame made of
 * nothing but tags from costing more than a few reads. */
#define MAX_VLAN_TAGS 8
/* RFC 8200 recommends each extension header at most once (destination options twice). */
#define MAX_IPV6_EXT 16

#define RTP_HDR_LEN 12

/* The decoder's state: where the IP packet starts and how many bytes it may span on the
 * wire (the frame's wire length minus the link header). */
struct ctx {
    struct fm_rd r;
    uint32_t wire_left; /* bytes after the cursor on the wire, >= fm_rd_left() */
    struct pkt_decoded *out;
    int rtp; /* 1: run the RTP heuristic on UDP payloads; 0: leave out->rtp zeroed */
};

static void ctx_skip_accounted(struct ctx *c, size_t n)
{
    c->wire_left = c->wire_left > n ? c->wire_left - (uint32_t)n : 0;
}

static int is_vlan_tpid(uint16_t t)
{
    return t == ETH_8021Q || t == ETH_8021AD || t == ETH_QINQ_OLD;
}

/* Given the EtherType just read, walk any VLAN tags that follow it and return the inner
 * EtherType in *type. Each tag is a 16-bit TCI followed by the next EtherType. */
static enum pkt_decode_status walk_vlan_tags(struct ctx *c, uint16_t *type)
{
    unsigned depth = 0;
    while (is_vlan_tpid(*type)) {
        if (depth == MAX_VLAN_TAGS)
            return PKT_DEC_MALFORMED;
        if (fm_rd_skip(&c->r, 2) < 0 || fm_rd_be16(&c->r, type) < 0)
            return PKT_DEC_TRUNCATED;
        depth++;
    }
    c->out->vlan_depth = (uint8_t)depth;
    return PKT_DEC_OK;
}

static int ethertype_version(uint16_t t)
{
    if (t == ETH_IPV4)
        return 4;
    if (t == ETH_IPV6)
        return 6;
    return 0;
}

/* BSD loopback address families: AF_INET is 2 everywhere, AF_INET6 differs by system
 * (24 NetBSD/OpenBSD, 28 FreeBSD, 30 Darwin), as tcpdump's print-null.c lists. */
static int family_version(uint32_t af)
{
    if (af == 2)
        return 4;
    if (af == 24 || af == 28 || af == 30)
        return 6;
    return 0;
}

/* Consume the link header; *version gets 4, 6, or 0 for "not IP" (raw links: the version is
 * taken from the packet itself, reported as -1). */
static enum pkt_decode_status decode_link(int linktype, struct ctx *c, int *version)
{
    uint16_t type = 0;
    enum pkt_decode_status s = PKT_DEC_OK;

    switch (linktype) {
    case LT_EN10MB:
        /* Destination and source MAC; EtherTypes below 0x0600 are 802.3 lengths (LLC). */
        if (fm_rd_skip(&c->r, 12) < 0 || fm_rd_be16(&c->r, &type) < 0)
            return PKT_DEC_TRUNCATED;
        s = walk_vlan_tags(c, &type);
        if (s != PKT_DEC_OK)
            return s;
        *version = ethertype_version(type);
        break;
    case LT_LINUX_SLL:
        /* packet type, ARPHRD type, address length, 8 address bytes, protocol. */
        if (fm_rd_skip(&c->r, 14) < 0 || fm_rd_be16(&c->r, &type) < 0)
            return PKT_DEC_TRUNCATED;
        s = walk_vlan_tags(c, &type);
        if (s != PKT_DEC_OK)
            return s;
        *version = ethertype_version(type);
        break;
    case LT_LINUX_SLL2:
        /* protocol, reserved, ifindex, ARPHRD type, packet type, address length, address.
         * The protocol comes first, so unstripped VLAN tags follow the whole header. */
        if (fm_rd_be16(&c->r, &type) < 0 || fm_rd_skip(&c->r, 18) < 0)
            return PKT_DEC_TRUNCATED;
        s = walk_vlan_tags(c, &type);
        if (s != PKT_DEC_OK)
            return s;
        *version = ethertype_version(type);
        break;
    case LT_NULL: {
        /* The family is in the byte order of the host that captured; a valid family is
         * below 256, so whichever order yields a small value is the right one. */
        uint32_t af = 0;
        if (fm_rd_le32(&c->r, &af) < 0)
            return PKT_DEC_TRUNCATED;
        if (af > 0xffff)
            af = (af >> 24) | ((af >> 8) & 0xff00u) | ((af << 8) & 0xff0000u) | (af << 24);
        *version = family_version(af);
        break;
    }
    case LT_LOOP: {
        uint32_t af = 0;
        if (fm_rd_be32(&c->r, &af) < 0)
            return PKT_DEC_TRUNCATED;
        *version = family_version(af);
        break;
    }
    case LT_RAW_12:
    case LT_RAW_14:
    case LT_RAW_101:
        *version = -1;
        break;
    case LT_IPV4:
        *version = 4;
        break;
    case LT_IPV6:
        *version = 6;
        break;
    default:
        return PKT_DEC_UNSUPPORTED_LINK;
    }
    ctx_skip_accounted(c, c->r.off); /* the link header started at offset 0 */
    return PKT_DEC_OK;
}

/* RFC 3550 section 5.1 header, accepted only when every field is consistent with the
 * payload: a wrong "valid" would put non-RTP flows into the RTP statistics, so when in doubt
 * (for instance a snap length that cut the header extension) the packet is not RTP. */
static void decode_rtp(const struct fm_rd *r, uint32_t payload_len, struct pkt_rtp *rtp)
{
    memset(rtp, 0, sizeof(*rtp));
    if (payload_len < RTP_HDR_LEN)
        return;
    /* The captured part may be shorter than payload_len; the cursor guards every read. */
    struct fm_rd h = *r;
    uint8_t b0 = 0, b1 = 0;
    uint16_t seq = 0;
    uint32_t ts = 0, ssrc = 0;
    if (fm_rd_u8(&h, &b0) < 0 || fm_rd_u8(&h, &b1) < 0 || fm_rd_be16(&h, &seq) < 0 ||
        fm_rd_be32(&h, &ts) < 0 || fm_rd_be32(&h, &ssrc) < 0)
        return;
    if (b0 >> 6 != 2)
        return;
    unsigned pt = b1 & 0x7fu;
    /* RTCP's second byte is 192..223 (RFC 5761 section 4: SR, RR, SDES, BYE, APP, RTPFB,
     * PSFB, XR, ...), which reads as payload type 64..95; RTP that shares a port with RTCP
     * never uses those, so they are not RTP. */
    if (pt >= 64 && pt <= 95)
        return;
    uint32_t hdr = RTP_HDR_LEN + 4u * (b0 & 0x0fu);
    if (hdr > payload_len)
        return;
    if (b0 & 0x10u) {
        /* Header extension: 16-bit profile data, 16-bit length in 32-bit words. */
        uint16_t ext_words = 0;
        if (fm_rd_skip(&h, hdr - RTP_HDR_LEN + 2) < 0 || fm_rd_be16(&h, &ext_words) < 0)
            return;
        hdr += 4u + 4u * ext_words;
        if (hdr > payload_len)
            return;
    }
    if (b0 & 0x20u) {
        /* The last payload byte counts the padding, itself included; it must be captured. */
        struct fm_rd last = *r;
        uint8_t pad = 0;
        if (fm_rd_skip(&last, payload_len - 1) < 0 || fm_rd_u8(&last, &pad) < 0)
            return;
        if (pad == 0 || pad > payload_len - hdr)
            return;
    }
    rtp->valid = 1;
    rtp->payload_type = (uint8_t)pt;
    rtp->marker = (uint8_t)(b1 >> 7);
    rtp->seq = seq;
    rtp->timestamp = ts;
    rtp->ssrc = ssrc;
}

/* Decode the transport header. l4_len is the number of bytes the IP layer says follow
 * (already clamped to the wire), which we trust over the UDP length field: on a first
 * fragment the UDP length describes the whole datagram, while this packet carries only
 * l4_len bytes, and the IP length is the one the network actually forwarded. */
static enum pkt_decode_status decode_l4(struct ctx *c, uint8_t proto, uint32_t l4_len)
{
    struct pkt_decoded *out = c->out;
    out->proto = proto;
    out->tcp_flags = 0;
    memset(&out->rtp, 0, sizeof(out->rtp));
    if (proto == PROTO_UDP) {
        uint16_t ulen = 0;
        if (fm_rd_be16(&c->r, &out->sport) < 0 || fm_rd_be16(&c->r, &out->dport) < 0 ||
            fm_rd_be16(&c->r, &ulen) < 0 || fm_rd_skip(&c->r, 2) < 0)
            return PKT_DEC_TRUNCATED;
        /* A zero length is legal only in an IPv6 jumbogram (RFC 2675); then IP decides. */
        if ((ulen < 8 && ulen != 0) || l4_len < 8)
            return PKT_DEC_MALFORMED;
        out->udp_len = ulen;
        out->payload_len = l4_len - 8;
        out->payload_off = (uint32_t)c->r.off; /* the cursor spans the whole frame */
        if (c->rtp)
            decode_rtp(&c->r, out->payload_len, &out->rtp);
        return PKT_DEC_OK;
    }
    if (proto == PROTO_TCP) {
        uint8_t doff = 0;
        if (fm_rd_be16(&c->r, &out->sport) < 0 || fm_rd_be16(&c->r, &out->dport) < 0 ||
            fm_rd_skip(&c->r, 8) < 0 || fm_rd_u8(&c->r, &doff) < 0 ||
            fm_rd_u8(&c->r, &out->tcp_flags) < 0)
            return PKT_DEC_TRUNCATED;
        uint32_t hlen = 4u * (doff >> 4);
        if (hlen < 20 || hlen > l4_len)
            return PKT_DEC_MALFORMED;
        /* The options are part of the header: a capture that ends inside them is truncated
         * like one that ends inside the fixed part. */
        if (fm_rd_skip(&c->r, hlen - 14) < 0)
            return PKT_DEC_TRUNCATED;
        out->payload_len = l4_len - hlen;
        out->payload_off = (uint32_t)c->r.off;
        return PKT_DEC_OK;
    }
    return PKT_DEC_OTHER_L4;
}

/* The IPv4 packet's length from its total length field, its header length and the wire
 * bytes left; 0 when the header contradicts itself. A total length of 0 is what Linux writes
 * into TCP segmentation offload super-packets captured on the sender (tcpdump treats it the
 * same way): the wire length is the truth. A total length beyond the wire length cannot have
 * been sent; keep what was. The header was captured, so the wire holds at least ihl bytes
 * and the result stays >= ihl. */
static uint32_t ipv4_len(uint32_t total, uint32_t ihl, uint32_t wire)
{
    if (total == 0)
        return wire;
    if (total < ihl)
        return 0;
    return total > wire ? wire : total;
}

static enum pkt_decode_status decode_ipv4(struct ctx *c)
{
    struct pkt_decoded *out = c->out;
    uint8_t vhl = 0, tos = 0, proto = 0;
    uint16_t total = 0, frag = 0;
    uint32_t wire = c->wire_left;

    if (fm_rd_u8(&c->r, &vhl) < 0)
        return PKT_DEC_TRUNCATED;
    if (vhl >> 4 != 4)
        return PKT_DEC_MALFORMED;
    uint32_t ihl = 4u * (vhl & 0x0fu);
    if (ihl < 20)
        return PKT_DEC_MALFORMED;
    if (fm_rd_u8(&c->r, &tos) < 0 || fm_rd_be16(&c->r, &total) < 0 || fm_rd_skip(&c->r, 2) < 0 ||
        fm_rd_be16(&c->r, &frag) < 0 || fm_rd_u8(&c->r, &out->ttl) < 0 ||
        fm_rd_u8(&c->r, &proto) < 0 || fm_rd_skip(&c->r, 2) < 0 ||
        fm_rd_bytes(&c->r, out->src, 4) < 0 || fm_rd_bytes(&c->r, out->dst, 4) < 0)
        return PKT_DEC_TRUNCATED;
    /* Options carry nothing we use, but they are part of the header. */
    if (fm_rd_skip(&c->r, ihl - 20) < 0)
        return PKT_DEC_TRUNCATED;
    memset(out->src + 4, 0, 12);
    memset(out->dst + 4, 0, 12);
    out->ip_version = 4;
    out->dscp = (uint8_t)(tos >> 2);

    uint32_t ip_len = ipv4_len(total, ihl, wire);
    if (ip_len == 0)
        return PKT_DEC_MALFORMED;

    /* Any fragment but the first carries no transport header. */
    if ((frag & 0x1fffu) != 0)
        return PKT_DEC_FRAGMENT;
    out->more_fragments = (frag & 0x2000u) != 0;
    return decode_l4(c, proto, ip_len - ihl);
}

static enum pkt_decode_status decode_ipv6(struct ctx *c)
{
    struct pkt_decoded *out = c->out;
    uint32_t vtcfl = 0;
    uint16_t plen = 0;
    uint8_t next = 0;

    if (fm_rd_be32(&c->r, &vtcfl) < 0)
        return PKT_DEC_TRUNCATED;
    if (vtcfl >> 28 != 6)
        return PKT_DEC_MALFORMED;
    if (fm_rd_be16(&c->r, &plen) < 0 || fm_rd_u8(&c->r, &next) < 0 ||
        fm_rd_u8(&c->r, &out->ttl) < 0 || fm_rd_bytes(&c->r, out->src, 16) < 0 ||
        fm_rd_bytes(&c->r, out->dst, 16) < 0)
        return PKT_DEC_TRUNCATED;
    out->ip_version = 6;
    out->dscp = (uint8_t)((vtcfl >> 22) & 0x3fu);
    out->more_fragments = 0;

    /* As for IPv4: 0 means a jumbogram or an offload super-packet, and a length beyond the
     * wire is clamped to it. */
    uint32_t wire = c->wire_left > 40 ? c->wire_left - 40 : 0;
    uint32_t left = plen == 0 || plen > wire ? wire : plen;

    for (unsigned i = 0; i <= MAX_IPV6_EXT; i++) {
        uint8_t nh = 0, len = 0;
        uint32_t ext = 0;
        switch (next) {
        case PROTO_HOPOPTS:
        case PROTO_ROUTING:
        case PROTO_DSTOPTS:
        case PROTO_MOBILITY:
        case PROTO_HIP:
        case PROTO_SHIM6:
            /* RFC 8200 4.x: next header, length in 8-octet units not counting the first. */
            if (fm_rd_u8(&c->r, &nh) < 0 || fm_rd_u8(&c->r, &len) < 0)
                return PKT_DEC_TRUNCATED;
            ext = 8u * (len + 1u);
            break;
        case PROTO_AH:
            /* RFC 4302: the length is in 32-bit words, minus 2. */
            if (fm_rd_u8(&c->r, &nh) < 0 || fm_rd_u8(&c->r, &len) < 0)
                return PKT_DEC_TRUNCATED;
            ext = 4u * (len + 2u);
            break;
        case PROTO_FRAGMENT: {
            uint16_t off = 0;
            if (fm_rd_u8(&c->r, &nh) < 0 || fm_rd_skip(&c->r, 1) < 0 || fm_rd_be16(&c->r, &off) < 0)
                return PKT_DEC_TRUNCATED;
            if (off >> 3 != 0)
                return PKT_DEC_FRAGMENT;
            out->more_fragments = (uint8_t)(off & 1u);
            ext = 8;
            break;
        }
        default:
            return decode_l4(c, next, left);
        }
        if (ext > left)
            return PKT_DEC_MALFORMED;
        /* Two bytes (four for the fragment header) were read above. */
        if (fm_rd_skip(&c->r, ext - (next == PROTO_FRAGMENT ? 4 : 2)) < 0)
            return PKT_DEC_TRUNCATED;
        left -= ext;
        next = nh;
    }
    return PKT_DEC_MALFORMED;
}

/* Ethernet II, IPv4 without options, UDP: the frame of almost every capture this tool reads,
 * so it gets its own path, taken only when all three headers were captured. It makes the
 * checks of the general path (decode_link, decode_ipv4, decode_l4) in the same order and
 * fills *out the same way, reading at fixed offsets after one bounds check; whatever it
 * does not take (tags, options, TCP, a short capture) goes the general way. */
enum { FAST_ETH = 14, FAST_IP = 20, FAST_UDP = 8, FAST_HDRS = FAST_ETH + FAST_IP + FAST_UDP };

static int fast_path_fits(int linktype, const uint8_t *d, uint32_t caplen)
{
    return linktype == LT_EN10MB && caplen >= FAST_HDRS && d[12] == (ETH_IPV4 >> 8) &&
           d[13] == (ETH_IPV4 & 0xff) && d[FAST_ETH] == 0x45 && d[FAST_ETH + 9] == PROTO_UDP;
}

static uint16_t be16_at(const uint8_t *d)
{
    return (uint16_t)((unsigned)d[0] << 8 | d[1]);
}

/* An IPv4 address into a 16-byte field, zero-padded, as two 8-byte stores: est_flow_table_add
 * reads the field back as 8-byte words, which the CPU forwards from stores of the same size
 * but not from a 4-byte copy followed by a memset. */
static void put_addr4(uint8_t dst[16], const uint8_t *a)
{
    uint8_t w[16] = {0};
    memcpy(w, a, 4);
    memcpy(dst, w, 16);
}

static enum pkt_decode_status
decode_fast(const uint8_t *d, uint32_t caplen, uint32_t wirelen, int rtp, struct pkt_decoded *out)
{
    const uint8_t *ip = d + FAST_ETH, *udp = ip + FAST_IP;
    /* As decode_link() leaves it: the wire after the Ethernet header, never below caplen. */
    uint32_t wire = (wirelen > caplen ? wirelen : caplen) - FAST_ETH;

    out->vlan_depth = 0;
    out->wire_len = wirelen;
    out->ttl = ip[8];
    put_addr4(out->src, ip + 12);
    put_addr4(out->dst, ip + 16);
    out->ip_version = 4;
    out->dscp = (uint8_t)(ip[1] >> 2);
    uint32_t ip_len = ipv4_len(be16_at(ip + 2), FAST_IP, wire);
    if (ip_len == 0)
        return PKT_DEC_MALFORMED;
    uint16_t frag = be16_at(ip + 6);
    if ((frag & 0x1fffu) != 0)
        return PKT_DEC_FRAGMENT;
    out->more_fragments = (frag & 0x2000u) != 0;

    uint32_t l4_len = ip_len - FAST_IP;
    uint16_t ulen = be16_at(udp + 4);
    out->proto = PROTO_UDP;
    out->tcp_flags = 0;
    memset(&out->rtp, 0, sizeof(out->rtp));
    out->sport = be16_at(udp);
    out->dport = be16_at(udp + 2);
    if ((ulen < 8 && ulen != 0) || l4_len < 8)
        return PKT_DEC_MALFORMED;
    out->udp_len = ulen;
    out->payload_len = l4_len - FAST_UDP;
    out->payload_off = FAST_HDRS;
    if (rtp) {
        struct fm_rd r;
        fm_rd_init(&r, d, caplen);
        r.off = FAST_HDRS;
        decode_rtp(&r, out->payload_len, &out->rtp);
    }
    return PKT_DEC_OK;
}

/* Every frame the fast path does not take. */
static enum pkt_decode_status decode_general(int linktype,
                                             const uint8_t *data,
                                             uint32_t caplen,
                                             uint32_t wirelen,
                                             int rtp,
                                             struct pkt_decoded *out)
{
    struct ctx c;
    fm_rd_init(&c.r, data, caplen);
    /* libpcap rejects caplen > wirelen in files, but a caller may not: never let the wire
     * length claim fewer bytes than were captured. */
    c.wire_left = wirelen > caplen ? wirelen : caplen;
    c.out = out;
    c.rtp = rtp;
    out->vlan_depth = 0;
    out->wire_len = wirelen;

    int version = 0;
    enum pkt_decode_status s = decode_link(linktype, &c, &version);
    if (s != PKT_DEC_OK)
        return s;
    if (version == -1) {
        /* Raw IP: the version nibble says which; anything else is not IP at all. */
        if (fm_rd_left(&c.r) < 1)
            return PKT_DEC_TRUNCATED;
        version = fm_rd_ptr(&c.r)[0] >> 4;
        if (version != 4 && version != 6)
            return PKT_DEC_NOT_IP;
    }
    if (version == 4)
        return decode_ipv4(&c);
    if (version == 6)
        return decode_ipv6(&c);
    return PKT_DEC_NOT_IP;
}

static inline enum pkt_decode_status decode(int linktype,
                                            const uint8_t *data,
                                            uint32_t caplen,
                                            uint32_t wirelen,
                                            int rtp,
                                            struct pkt_decoded *out)
{
    if (fast_path_fits(linktype, data, caplen))
        return decode_fast(data, caplen, wirelen, rtp, out);
    return decode_general(linktype, data, caplen, wirelen, rtp, out);
}

enum pkt_decode_status pkt_decode(
    int linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen, struct pkt_decoded *out)
{
    return decode(linktype, data, caplen, wirelen, 1, out);
}

enum pkt_decode_status pkt_decode_l4(
    int linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen, struct pkt_decoded *out)
{
    return decode(linktype, data, caplen, wirelen, 0, out);
}

const char *pkt_decode_status_str(enum pkt_decode_status s)
{
    switch (s) {
    case PKT_DEC_OK:
        return "ok";
    case PKT_DEC_NOT_IP:
        return "not IP";
    case PKT_DEC_OTHER_L4:
        return "not UDP or TCP";
    case PKT_DEC_FRAGMENT:
        return "fragment";
    case PKT_DEC_TRUNCATED:
        return "truncated";
    case PKT_DEC_MALFORMED:
        return "malformed";
    case PKT_DEC_UNSUPPORTED_LINK:
        return "unsupported link type";
    }
    return "unknown";
}

int pkt_linktype_supported(int linktype)
{
    switch (linktype) {
    case LT_NULL:
    case LT_EN10MB:
    case LT_RAW_12:
    case LT_RAW_14:
    case LT_RAW_101:
    case LT_LOOP:
    case LT_LINUX_SLL:
    case LT_IPV4:
    case LT_IPV6:
    case LT_LINUX_SLL2:
        return 1;
    default:
        return 0;
    }
}
