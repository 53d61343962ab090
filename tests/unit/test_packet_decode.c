/* tests/unit/test_packet_decode.c - pkt_decode() on frames built in memory: every link
 * type, IPv4 options, IPv6 extension headers, fragments, RTP, truncation and garbage. */
#include "packet/decode.h"
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include "tests/support/test_util.h"

#include <string.h>

#define DLT_NULL_   0
#define DLT_EN10MB_ 1
#define DLT_RAW_    12
#define DLT_LOOP_   108
#define DLT_SLL_    113
#define DLT_IPV4_   228
#define DLT_IPV6_   229
#define DLT_SLL2_   276
#define LT_RAW_FILE 101
#define PROTO_UDP   17
#define PROTO_TCP   6
#define MAX_FRAME   2048

static const uint8_t src4[4] = {192, 0, 2, 1};
static const uint8_t dst4[4] = {198, 51, 100, 2};
static const uint8_t src6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t dst6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

/* A frame under construction: bytes and where the headers end (payload starts). */
struct frame {
    uint8_t b[MAX_FRAME];
    size_t len;
    size_t hdr_end; /* first byte after the last header pkt_decode() must read */
};

static void put8(struct frame *f, unsigned v)
{
    f->b[f->len++] = (uint8_t)v;
}

static void put16(struct frame *f, unsigned v)
{
    put8(f, (v >> 8) & 0xffu);
    put8(f, v & 0xffu);
}

static void put32(struct frame *f, uint32_t v)
{
    put16(f, v >> 16);
    put16(f, v & 0xffffu);
}

static void putn(struct frame *f, const uint8_t *p, size_t n)
{
    memcpy(f->b + f->len, p, n);
    f->len += n;
}

static void putz(struct frame *f, size_t n)
{
    memset(f->b + f->len, 0, n);
    f->len += n;
}

static void eth(struct frame *f, unsigned ethertype)
{
    static const uint8_t mac[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
    putn(f, mac, sizeof(mac));
    put16(f, ethertype);
}

static void ipv4(struct frame *f,
                 unsigned proto,
                 size_t l4_len,
                 unsigned opt_words,
                 unsigned frag,
                 unsigned ttl,
                 unsigned tos)
{
    put8(f, 0x40u | (5u + opt_words));
    put8(f, tos);
    put16(f, (unsigned)(20 + 4 * opt_words + l4_len));
    put16(f, 0x1234);
    put16(f, frag);
    put8(f, ttl);
    put8(f, proto);
    put16(f, 0);
    putn(f, src4, 4);
    putn(f, dst4, 4);
    for (unsigned i = 0; i < opt_words; i++)
        put32(f, 0x01010101u); /* NOP options */
}

static void ipv6(struct frame *f, unsigned next, size_t plen, unsigned hlim, unsigned tc)
{
    put32(f, 0x60000000u | (uint32_t)tc << 20 | 0x12345u);
    put16(f, (unsigned)plen);
    put8(f, next);
    put8(f, hlim);
    putn(f, src6, 16);
    putn(f, dst6, 16);
}

static void udp(struct frame *f, unsigned sport, unsigned dport, size_t payload)
{
    put16(f, sport);
    put16(f, dport);
    put16(f, (unsigned)(8 + payload));
    put16(f, 0);
}

static void rtp(struct frame *f, unsigned pt, unsigned marker, unsigned seq, uint32_t ssrc)
{
    put8(f, 0x80);
    put8(f, (marker ? 0x80u : 0) | pt);
    put16(f, seq);
    put32(f, 0x11223344u);
    put32(f, ssrc);
}

/* Ethernet + IPv4 + UDP + RTP (12 bytes) + 88 payload bytes. */
static void build_eth_udp4(struct frame *f)
{
    memset(f, 0, sizeof(*f));
    eth(f, 0x0800);
    ipv4(f, PROTO_UDP, 8 + 100, 0, 0, 64, 46u << 2);
    udp(f, 5004, 6000, 100);
    f->hdr_end = f->len;
    rtp(f, 96, 1, 777, 0xdeadbeefu);
    putz(f, 88);
}

/* The IPv4/UDP/RTP packet alone, after some link header the caller wrote. */
static void ip4_udp_rtp(struct frame *f)
{
    ipv4(f, PROTO_UDP, 8 + 100, 0, 0, 64, 46u << 2);
    udp(f, 5004, 6000, 100);
    f->hdr_end = f->len;
    rtp(f, 96, 1, 777, 0xdeadbeefu);
    putz(f, 88);
}

static void ip6_udp_rtp(struct frame *f)
{
    ipv6(f, PROTO_UDP, 8 + 100, 33, 34u << 2);
    udp(f, 5004, 6000, 100);
    f->hdr_end = f->len;
    rtp(f, 96, 0, 778, 0xdeadbeefu);
    putz(f, 88);
}

static enum pkt_decode_status decode(int lt, const struct frame *f, struct pkt_decoded *p)
{
    memset(p, 0xa5, sizeof(*p));
    return pkt_decode(lt, f->b, (uint32_t)f->len, (uint32_t)f->len, p);
}

static void check_udp4(const struct pkt_decoded *p)
{
    assert_int_equal(p->ip_version, 4);
    assert_int_equal(p->proto, PROTO_UDP);
    assert_memory_equal(p->src, src4, 4);
    assert_memory_equal(p->dst, dst4, 4);
    static const uint8_t zero[12] = {0};
    assert_memory_equal(p->src + 4, zero, 12);
    assert_memory_equal(p->dst + 4, zero, 12);
    assert_int_equal(p->sport, 5004);
    assert_int_equal(p->dport, 6000);
    assert_int_equal(p->payload_len, 100);
    assert_int_equal(p->ttl, 64);
    assert_int_equal(p->dscp, 46);
    assert_int_equal(p->rtp.valid, 1);
    assert_int_equal(p->rtp.payload_type, 96);
    assert_int_equal(p->rtp.marker, 1);
    assert_int_equal(p->rtp.seq, 777);
    assert_int_equal(p->rtp.timestamp, 0x11223344u);
    assert_int_equal(p->rtp.ssrc, 0xdeadbeefu);
}

static void check_udp6(const struct pkt_decoded *p)
{
    assert_int_equal(p->ip_version, 6);
    assert_int_equal(p->proto, PROTO_UDP);
    assert_memory_equal(p->src, src6, 16);
    assert_memory_equal(p->dst, dst6, 16);
    assert_int_equal(p->sport, 5004);
    assert_int_equal(p->dport, 6000);
    assert_int_equal(p->payload_len, 100);
    assert_int_equal(p->ttl, 33);
    assert_int_equal(p->dscp, 34);
    assert_int_equal(p->rtp.valid, 1);
    assert_int_equal(p->rtp.marker, 0);
    assert_int_equal(p->rtp.seq, 778);
}

static void test_ethernet(void **state)
{
    (void)state;
    struct frame f;
    struct pkt_decoded p;
    build_eth_udp4(&f);
    assert_int_equal(decode(DLT_EN10MB_, &f, &p), PKT_DEC_OK);
    check_udp4(&p);
    assert_int_equal(p.vlan_depth, 0);
    assert_int_equal(p.wire_len, f.len);
    assert_int_equal(p.payload_off, 14 + 20 + 8); /* Ethernet, IPv4, UDP */

    /* ARP is not IP; 802.3 frames (length < 0x600) neither. */
    memset(&f, 0, sizeof(f));
    eth(&f, 0x0806);
    putz(&f, 28);
    assert_int_equal(decode(DLT_EN10MB_, &f, &p), PKT_DEC_NOT_IP);
    memset(&f, 0, sizeof(f));
    eth(&f, 0x0026);
    putz(&f, 46);
    assert_int_equal(decode(DLT_EN10MB_, &f, &p), PKT_DEC_NOT_IP);

    /* An unsupported link type says so. */
    assert_int_equal(decode(105, &f, &p), PKT_DEC_UNSUPPORTED_LINK);
    assert_int_equal(pkt_linktype_supported(105), 0);
    assert_int_equal(pkt_linktype_supported(DLT_SLL2_), 1);
    assert_string_equal(pkt_decode_status_str(PKT_DEC_TRUNCATED), "truncated");
}

static void test_ethernet_padding_and_lengths(void **state)
{
    (void)state;
    struct frame f;
    struct pkt_decoded p;
    /* A 4-byte payload padded to the 60-byte Ethernet minimum: the IP length decides. */
    memset(&f, 0, sizeof(f));
    eth(&f, 0x0800);
    ipv4(&f, PROTO_UDP, 8 + 4, 0, 0, 64, 0);
    udp(&f, 1, 2, 4);
    putz(&f, 4);
    putz(&f, 60 - f.len);
    assert_int_equal(decode(DLT_EN10MB_, &f, &p), PKT_DEC_OK);
    assert_int_equal(p.payload_len, 4);
    assert_int_equal(p.rtp.valid, 0);

    /* A total length beyond the wire is clamped to the wire. */
    build_eth_udp4(&f);
    f.b[14 + 2] = 0x05; /* total = 0x05xx */
    assert_int_equal(decode(DLT_EN10MB_, &f, &p), PKT_DEC_OK);
    assert_int_equal(p.payload_len, 100);

    /* Total length 0 (TSO on the sender): the wire length counts. */
    build_eth_udp4(&f);
    f.b[16] = 0;
    f.b[17] = 0;
    assert_int_equal(decode(DLT_EN10MB_, &f, &p), PKT_DEC_OK);
    assert_int_equal(p.payload_len, 100);

    /* A snap length shorter than the packet: the headers tell the payload length. */
    build_eth_udp4(&f);
    memset(&p, 0, sizeof(p));
    assert_int_equal(pkt_decode(DLT_EN10MB_, f.b, 60, (uint32_t)f.len, &p), PKT_DEC_OK);
    assert_int_equal(p.payload_len, 100);
    assert_int_equal(p.rtp.valid, 1);

    /* The UDP length disagrees with IP: the IP length is trusted. */
    build_eth_udp4(&f);
    f.b[14 + 20 + 4] = 0;
    f.b[14 + 20 + 5] = 50;
    assert_int_equal(decode(DLT_EN10MB_, &f, &p), PKT_DEC_OK);
    assert_int_equal(p.payload_len, 100);
}

static void test_vlan(void **state)
{
    (void)state;
    struct frame f;
    struct pkt_decoded p;
    static const unsigned tpids[] = {0x8100, 0x88a8, 0x9100};

    for (size_t t = 0; t < 3; t++) {
        memset(&f, 0, sizeof(f));
        eth(&f, tpids[t]);
        put16(&f, 100);
        put16(&f, 0x0800);
        ip4_udp_rtp(&f);
        assert_int_equal(decode(DLT_EN10MB_, &f, &p), PKT_DEC_OK);
        check_udp4(&p);
        assert_int_equal(p.vlan_depth, 1);
        assert_int_equal(p.payload_off, 14 + 4 + 20 + 8); /* one tag */
    }

    /* QinQ: 802.1ad outer tag, 802.1Q inner tag, IPv6 inside. */
    memset(&f, 0, sizeof(f));
    eth(&f, 0x88a8);
    put16(&f, 10);
    put16(&f, 0x8100);
    put16(&f, 20);
    put16(&f, 0x86dd);
    ip6_udp_rtp(&f);
    assert_int_equal(decode(DLT_EN10MB_, &f, &p), PKT_DEC_OK);
    check_udp6(&p);
    assert_int_equal(p.vlan_depth, 2);

    /* Eight tags are accepted, nine are not. */
    for (unsigned depth = 8; depth <= 9; depth++) {
        memset(&f, 0, sizeof(f));
        eth(&f, 0x8100);
        for (unsigned i = 0; i < depth; i++) {
            put16(&f, i);
            put16(&f, i + 1 < depth ? 0x8100 : 0x0800);
        }
        ip4_udp_rtp(&f);
        assert_int_equal(decode(DLT_EN10MB_, &f, &p), depth == 8 ? PKT_DEC_OK : PKT_DEC_MALFORMED);
    }
}

static void test_linux_cooked(void **state)
{
    (void)state;
    struct frame f;
    struct pkt_decoded p;

    memset(&f, 0, sizeof(f));
    put16(&f, 0);      /* packet type: to us */
    put16(&f, 1);      /* ARPHRD_ETHER */
    put16(&f, 6);      /* address length */
    putz(&f, 8);       /* address */
    put16(&f, 0x0800); /* protocol */
    ip4_udp_rtp(&f);
    assert_int_equal(decode(DLT_SLL_, &f, &p), PKT_DEC_OK);
    check_udp4(&p);

    memset(&f, 0, sizeof(f));
    put16(&f, 0x86dd); /* protocol */
    put16(&f, 0);      /* reserved */
    put32(&f, 3);      /* ifindex */
    put16(&f, 1);      /* ARPHRD_ETHER */
    put8(&f, 4);       /* packet type: outgoing */
    put8(&f, 6);       /* address length */
    putz(&f, 8);
    ip6_udp_rtp(&f);
    assert_int_equal(decode(DLT_SLL2_, &f, &p), PKT_DEC_OK);
    check_udp6(&p);
}

static void test_raw_and_loopback(void **state)
{
    (void)state;
    struct frame f;
    struct pkt_decoded p;
    static const int raw4[] = {DLT_RAW_, 14, LT_RAW_FILE, DLT_IPV4_};
    static const int raw6[] = {DLT_RAW_, 14, LT_RAW_FILE, DLT_IPV6_};

    for (size_t i = 0; i < 4; i++) {
        memset(&f, 0, sizeof(f));
        ip4_udp_rtp(&f);
        assert_int_equal(decode(raw4[i], &f, &p), PKT_DEC_OK);
        check_udp4(&p);
        memset(&f, 0, sizeof(f));
        ip6_udp_rtp(&f);
        assert_int_equal(decode(raw6[i], &f, &p), PKT_DEC_OK);
        check_udp6(&p);
    }
    /* LINKTYPE_IPV6 promises IPv6: an IPv4 packet there is malformed. */
    memset(&f, 0, sizeof(f));
    ip4_udp_rtp(&f);
    assert_int_equal(decode(DLT_IPV6_, &f, &p), PKT_DEC_MALFORMED);
    /* Raw with a version nibble that is neither 4 nor 6. */
    f.b[0] = 0x50;
    assert_int_equal(decode(DLT_RAW_, &f, &p), PKT_DEC_NOT_IP);

    /* DLT_NULL: host byte order, both orders accepted; AF_INET6 is 24, 28 or 30. */
    static const uint32_t families6[] = {24, 28, 30};
    for (int big = 0; big <= 1; big++) {
        memset(&f, 0, sizeof(f));
        if (big)
            put32(&f, 2);
        else
            putn(&f, (const uint8_t[]){2, 0, 0, 0}, 4);
        ip4_udp_rtp(&f);
        assert_int_equal(decode(DLT_NULL_, &f, &p), PKT_DEC_OK);
        check_udp4(&p);
        for (size_t i = 0; i < 3; i++) {
            memset(&f, 0, sizeof(f));
            if (big)
                put32(&f, families6[i]);
            else
                putn(&f, (const uint8_t[]){(uint8_t)families6[i], 0, 0, 0}, 4);
            ip6_udp_rtp(&f);
            assert_int_equal(decode(DLT_NULL_, &f, &p), PKT_DEC_OK);
            check_udp6(&p);
        }
    }
    /* An unknown family is not IP. */
    memset(&f, 0, sizeof(f));
    put32(&f, 7);
    ip4_udp_rtp(&f);
    assert_int_equal(decode(DLT_NULL_, &f, &p), PKT_DEC_NOT_IP);

    /* DLT_LOOP: network byte order always. */
    memset(&f, 0, sizeof(f));
    put32(&f, 2);
    ip4_udp_rtp(&f);
    assert_int_equal(decode(DLT_LOOP_, &f, &p), PKT_DEC_OK);
    check_udp4(&p);
    memset(&f, 0, sizeof(f));
    put32(&f, 30);
    ip6_udp_rtp(&f);
    assert_int_equal(decode(DLT_LOOP_, &f, &p), PKT_DEC_OK);
    check_udp6(&p);
}

/* IPv4 with 3 words of options. */
static void build_ipv4_options(struct frame *f)
{
    memset(f, 0, sizeof(*f));
    ipv4(f, PROTO_UDP, 8 + 100, 3, 0, 64, 46u << 2);
    udp(f, 5004, 6000, 100);
    f->hdr_end = f->len;
    rtp(f, 96, 1, 777, 0xdeadbeefu);
    putz(f, 88);
}

/* IPv6 with hop-by-hop (8 bytes), destination options (16 bytes), a first fragment header
 * and AH (12 bytes) before UDP. */
static void build_ipv6_ext(struct frame *f)
{
    memset(f, 0, sizeof(*f));
    size_t ext = 8 + 16 + 8 + 16;
    ipv6(f, 0, ext + 8 + 100, 33, 34u << 2);
    put8(f, 60); /* hop-by-hop -> destination options */
    put8(f, 0);
    putz(f, 6);
    put8(f, 44); /* destination options -> fragment */
    put8(f, 1);
    putz(f, 14);
    put8(f, 51); /* fragment -> AH; offset 0, M clear (an atomic fragment) */
    put8(f, 0);
    put16(f, 0);
    put32(f, 99);
    put8(f, PROTO_UDP); /* AH -> UDP, length (16 / 4) - 2 */
    put8(f, 2);
    putz(f, 14);
    udp(f, 5004, 6000, 100);
    f->hdr_end = f->len;
    rtp(f, 96, 0, 778, 0xdeadbeefu);
    putz(f, 88);
}

/* TCP with 12 bytes of options and 50 bytes of data, over IPv4 in Ethernet. */
static void build_tcp(struct frame *f)
{
    memset(f, 0, sizeof(*f));
    eth(f, 0x0800);
    ipv4(f, PROTO_TCP, 32 + 50, 0, 0, 128, 0);
    put16(f, 443);
    put16(f, 50000);
    put32(f, 1);
    put32(f, 2);
    put8(f, 8u << 4);
    put8(f, 0x18); /* PSH ACK */
    put16(f, 65535);
    put32(f, 0);
    putz(f, 12);
    f->hdr_end = f->len;
    putz(f, 50);
}

static void test_ip_headers(void **state)
{
    (void)state;
    struct frame f;
    struct pkt_decoded p;

    build_ipv4_options(&f);
    assert_int_equal(decode(DLT_RAW_, &f, &p), PKT_DEC_OK);
    check_udp4(&p);

    build_ipv6_ext(&f);
    assert_int_equal(decode(DLT_RAW_, &f, &p), PKT_DEC_OK);
    check_udp6(&p);

    build_tcp(&f);
    assert_int_equal(decode(DLT_EN10MB_, &f, &p), PKT_DEC_OK);
    assert_int_equal(p.proto, PROTO_TCP);
    assert_int_equal(p.sport, 443);
    assert_int_equal(p.dport, 50000);
    assert_int_equal(p.payload_len, 50);
    assert_int_equal(p.tcp_flags, 0x18);
    assert_int_equal(p.ttl, 128);
    assert_int_equal(p.rtp.valid, 0);

    /* ICMP is IP but not UDP or TCP. */
    memset(&f, 0, sizeof(f));
    ipv4(&f, 1, 8, 0, 0, 64, 0);
    putz(&f, 8);
    assert_int_equal(decode(DLT_RAW_, &f, &p), PKT_DEC_OTHER_L4);
    /* IPv6 "no next header". */
    memset(&f, 0, sizeof(f));
    ipv6(&f, 59, 0, 64, 0);
    assert_int_equal(decode(DLT_RAW_, &f, &p), PKT_DEC_OTHER_L4);
}

static void test_malformed(void **state)
{
    (void)state;
    struct frame f;
    struct pkt_decoded p;

    build_eth_udp4(&f);
    f.b[14] = 0x44; /* IHL 4 */
    assert_int_equal(decode(DLT_EN10MB_, &f, &p), PKT_DEC_MALFORMED);
    build_eth_udp4(&f);
    f.b[14] = 0x65; /* version 6 behind EtherType IPv4 */
    assert_int_equal(decode(DLT_EN10MB_, &f, &p), PKT_DEC_MALFORMED);
    build_eth_udp4(&f);
    f.b[16] = 0;
    f.b[17] = 19; /* total < IHL * 4 */
    assert_int_equal(decode(DLT_EN10MB_, &f, &p), PKT_DEC_MALFORMED);
    build_eth_udp4(&f);
    f.b[16] = 0;
    f.b[17] = 24; /* room for only half a UDP header */
    assert_int_equal(decode(DLT_EN10MB_, &f, &p), PKT_DEC_MALFORMED);
    build_eth_udp4(&f);
    f.b[14 + 20 + 4] = 0;
    f.b[14 + 20 + 5] = 7; /* UDP length < 8 */
    assert_int_equal(decode(DLT_EN10MB_, &f, &p), PKT_DEC_MALFORMED);
    build_tcp(&f);
    f.b[14 + 20 + 12] = 4u << 4; /* data offset 4 */
    assert_int_equal(decode(DLT_EN10MB_, &f, &p), PKT_DEC_MALFORMED);
    build_tcp(&f);
    f.b[14 + 20 + 12] = 15u << 4; /* 60-byte header in 82 bytes of IP payload: fits */
    assert_int_equal(decode(DLT_EN10MB_, &f, &p), PKT_DEC_OK);
    assert_int_equal(p.payload_len, 22);
    build_ipv6_ext(&f);
    f.b[40 + 8 + 1] = 200; /* destination options longer than the payload */
    assert_int_equal(decode(DLT_RAW_, &f, &p), PKT_DEC_MALFORMED);

    /* A chain of 17 hop-by-hop headers exceeds the bound. */
    memset(&f, 0, sizeof(f));
    ipv6(&f, 0, 17 * 8 + 8, 64, 0);
    for (int i = 0; i < 17; i++) {
        put8(&f, i < 16 ? 0 : PROTO_UDP);
        put8(&f, 0);
        putz(&f, 6);
    }
    udp(&f, 1, 2, 0);
    assert_int_equal(decode(DLT_RAW_, &f, &p), PKT_DEC_MALFORMED);
}

static void test_fragments(void **state)
{
    (void)state;
    struct frame f;
    struct pkt_decoded p;

    /* IPv4 non-first fragment (offset 185 * 8). */
    memset(&f, 0, sizeof(f));
    ipv4(&f, PROTO_UDP, 100, 0, 185, 64, 0);
    putz(&f, 100);
    assert_int_equal(decode(DLT_RAW_, &f, &p), PKT_DEC_FRAGMENT);
    /* The last fragment: MF clear, offset set. */
    f.b[6] = 0x00;
    f.b[7] = 0x10;
    assert_int_equal(decode(DLT_RAW_, &f, &p), PKT_DEC_FRAGMENT);

    /* IPv4 first fragment: MF set, offset 0; the UDP length (3000) is the datagram's and
     * the packet's payload comes from the IP length. */
    memset(&f, 0, sizeof(f));
    ipv4(&f, PROTO_UDP, 1480, 0, 0x2000, 64, 0);
    udp(&f, 5004, 6000, 2992);
    putz(&f, 1472);
    assert_int_equal(decode(DLT_RAW_, &f, &p), PKT_DEC_OK);
    assert_int_equal(p.payload_len, 1472);

    /* IPv6 fragment header, non-first. */
    memset(&f, 0, sizeof(f));
    ipv6(&f, 44, 8 + 100, 64, 0);
    put8(&f, PROTO_UDP);
    put8(&f, 0);
    put16(&f, 100u << 3 | 1u);
    put32(&f, 7);
    putz(&f, 100);
    assert_int_equal(decode(DLT_RAW_, &f, &p), PKT_DEC_FRAGMENT);

    /* IPv6 first fragment: decoded, payload from the IPv6 length. */
    memset(&f, 0, sizeof(f));
    ipv6(&f, 44, 8 + 8 + 1000, 64, 0);
    put8(&f, PROTO_UDP);
    put8(&f, 0);
    put16(&f, 1); /* offset 0, M set */
    put32(&f, 7);
    udp(&f, 5004, 6000, 3000);
    putz(&f, 1000);
    assert_int_equal(decode(DLT_RAW_, &f, &p), PKT_DEC_OK);
    assert_int_equal(p.payload_len, 1000);
}

/* Decode f cut to every length from 0 to its full size, from an exact-size heap copy so that
 * ASan catches any read past the captured bytes. Cuts inside the headers must say TRUNCATED
 * (or MALFORMED); cuts in the payload must still decode, with the length from the headers.
 * With wire_too the wire length shrinks with the cut, as for a frame that really was short. */
static void cut_everywhere(int lt, const struct frame *f, int wire_too)
{
    struct pkt_decoded full;
    assert_int_equal(decode(lt, f, &full), PKT_DEC_OK);
    for (size_t n = 0; n <= f->len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        assert_non_null(copy);
        memcpy(copy, f->b, n);
        struct pkt_decoded p;
        enum pkt_decode_status s =
            pkt_decode(lt, copy, (uint32_t)n, (uint32_t)(wire_too ? n : f->len), &p);
        free(copy);
        if (n < f->hdr_end) {
            if (s != PKT_DEC_TRUNCATED && s != PKT_DEC_MALFORMED)
                fail_msg("link %d cut at %zu of %zu: status %s", lt, n, f->len,
                         pkt_decode_status_str(s));
        } else {
            assert_int_equal(s, PKT_DEC_OK);
            if (!wire_too)
                assert_int_equal(p.payload_len, full.payload_len);
            else
                assert_int_equal(p.payload_len, full.payload_len - (f->len - n));
            assert_int_equal(p.sport, full.sport);
            /* The RTP header counts only when it was captured whole. */
            if (n < f->hdr_end + 12)
                assert_int_equal(p.rtp.valid, 0);
        }
    }
}

static void test_truncation(void **state)
{
    (void)state;
    struct frame f;

    build_eth_udp4(&f);
    cut_everywhere(DLT_EN10MB_, &f, 0);
    cut_everywhere(DLT_EN10MB_, &f, 1);
    build_ipv4_options(&f);
    cut_everywhere(DLT_RAW_, &f, 0);
    build_ipv6_ext(&f);
    cut_everywhere(DLT_RAW_, &f, 0);
    cut_everywhere(DLT_RAW_, &f, 1);
    build_tcp(&f);
    cut_everywhere(DLT_EN10MB_, &f, 0);

    memset(&f, 0, sizeof(f));
    eth(&f, 0x88a8);
    put16(&f, 10);
    put16(&f, 0x8100);
    put16(&f, 20);
    put16(&f, 0x86dd);
    ip6_udp_rtp(&f);
    cut_everywhere(DLT_EN10MB_, &f, 0);

    memset(&f, 0, sizeof(f));
    put16(&f, 0x0800);
    putz(&f, 18);
    ip4_udp_rtp(&f);
    cut_everywhere(DLT_SLL2_, &f, 0);

    memset(&f, 0, sizeof(f));
    putz(&f, 14);
    put16(&f, 0x86dd);
    ip6_udp_rtp(&f);
    cut_everywhere(DLT_SLL_, &f, 0);

    memset(&f, 0, sizeof(f));
    put32(&f, 2);
    ip4_udp_rtp(&f);
    cut_everywhere(DLT_LOOP_, &f, 0);
    cut_everywhere(DLT_NULL_, &f, 0);
}

/* xorshift64*: a fixed seed makes any failure reproducible. */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

static void check_sane(enum pkt_decode_status s, const struct pkt_decoded *p, uint32_t wire)
{
    assert_true((int)s >= 0 && (int)s < PKT_DEC_NSTATUS);
    if (s == PKT_DEC_OK) {
        assert_true(p->ip_version == 4 || p->ip_version == 6);
        assert_true(p->proto == PROTO_UDP || p->proto == PROTO_TCP);
        assert_true(p->payload_len <= wire);
    }
}

static void test_garbage(void **state)
{
    (void)state;
    static const int links[] = {DLT_NULL_, DLT_EN10MB_, DLT_RAW_,  DLT_LOOP_, DLT_SLL_,
                                DLT_IPV4_, DLT_IPV6_,   DLT_SLL2_, 14,        LT_RAW_FILE};
    uint64_t seed = 0x5eed1234abcdull;
    size_t ok = 0;

    /* Pure noise, with the first nibble of the IP header steered toward 4 and 6 half of the
     * time so that the IP decoders see noise too. */
    for (int i = 0; i < 20000; i++) {
        size_t n = next_rand(&seed) % 200;
        uint8_t *b = malloc(n ? n : 1);
        assert_non_null(b);
        for (size_t j = 0; j < n; j++)
            b[j] = (uint8_t)next_rand(&seed);
        int lt = links[next_rand(&seed) % (sizeof(links) / sizeof(links[0]))];
        if (n > 0 && (lt == DLT_RAW_ || lt == DLT_IPV4_ || lt == DLT_IPV6_) && (i & 1))
            b[0] = (uint8_t)((i & 2 ? 0x40 : 0x60) | (b[0] & 0x0f));
        uint32_t wire = (uint32_t)(n + next_rand(&seed) % 64);
        struct pkt_decoded p;
        enum pkt_decode_status s = pkt_decode(lt, b, (uint32_t)n, wire, &p);
        check_sane(s, &p, wire);
        ok += s == PKT_DEC_OK;
        free(b);
    }

    /* Valid frames with a few bytes changed reach much deeper. */
    struct frame base[4];
    int base_lt[4] = {DLT_EN10MB_, DLT_RAW_, DLT_RAW_, DLT_EN10MB_};
    build_eth_udp4(&base[0]);
    build_ipv4_options(&base[1]);
    build_ipv6_ext(&base[2]);
    build_tcp(&base[3]);
    for (int i = 0; i < 20000; i++) {
        const struct frame *f = &base[i % 4];
        size_t n = f->len - next_rand(&seed) % (f->len / 2);
        uint8_t *b = malloc(n);
        assert_non_null(b);
        memcpy(b, f->b, n);
        unsigned flips = 1 + (unsigned)(next_rand(&seed) % 4);
        for (unsigned k = 0; k < flips; k++) {
            /* Bias the changes toward the headers, where the decisions are. */
            size_t at = next_rand(&seed) % (f->hdr_end + 16 < n ? f->hdr_end + 16 : n);
            b[at] = (uint8_t)next_rand(&seed);
        }
        struct pkt_decoded p;
        enum pkt_decode_status s = pkt_decode(base_lt[i % 4], b, (uint32_t)n, (uint32_t)f->len, &p);
        check_sane(s, &p, (uint32_t)f->len);
        ok += s == PKT_DEC_OK;
        free(b);
    }
    /* The mutated frames mostly stay decodable; a decoder that rejects all would fail here. */
    assert_true(ok > 5000);
}

static void
assert_pkt_equal(const struct pkt_decoded *a, const struct pkt_decoded *b, uint32_t link_len)
{
    assert_int_equal(a->ip_version, b->ip_version);
    assert_int_equal(a->proto, b->proto);
    assert_memory_equal(a->src, b->src, sizeof(a->src));
    assert_memory_equal(a->dst, b->dst, sizeof(a->dst));
    assert_int_equal(a->sport, b->sport);
    assert_int_equal(a->dport, b->dport);
    assert_int_equal(a->payload_len, b->payload_len);
    assert_int_equal(a->payload_off, b->payload_off + link_len);
    assert_int_equal(a->wire_len, b->wire_len + link_len);
    assert_int_equal(a->ttl, b->ttl);
    assert_int_equal(a->dscp, b->dscp);
    assert_int_equal(a->tcp_flags, b->tcp_flags);
    assert_int_equal(a->vlan_depth, b->vlan_depth);
    assert_int_equal(a->rtp.valid, b->rtp.valid);
    assert_int_equal(a->rtp.payload_type, b->rtp.payload_type);
    assert_int_equal(a->rtp.marker, b->rtp.marker);
    assert_int_equal(a->rtp.seq, b->rtp.seq);
    assert_int_equal(a->rtp.timestamp, b->rtp.timestamp);
    assert_int_equal(a->rtp.ssrc, b->rtp.ssrc);
}

/* Ethernet/IPv4/UDP frames take a path of their own in pkt_decode(); the same IPv4 bytes
 * given as raw IP take the general one. Mutated and cut, both must agree on the status
 * and every field, and pkt_decode_l4() must agree with pkt_decode() but for RTP. */
static void test_fast_path_agrees(void **state)
{
    (void)state;
    uint64_t seed = 0xfa57fa57ull;
    struct frame f;
    size_t fast = 0, ok = 0, bad = 0;
    for (int i = 0; i < 40000; i++) {
        build_eth_udp4(&f);
        unsigned flips = (unsigned)(next_rand(&seed) % 4);
        for (unsigned k = 0; k < flips; k++) {
            /* The IPv4, UDP and RTP headers (bytes 14..53), where the decisions are. */
            size_t at = 14 + next_rand(&seed) % 40;
            uint64_t r = next_rand(&seed);
            /* Often a small change to a length or flags field, else any byte. */
            f.b[at] = (uint8_t)(r & 1 ? f.b[at] + (r >> 8) % 5 - 2 : r >> 8);
        }
        /* Keep it IPv4 so that raw IP reads it as IPv4 too. */
        f.b[14] = (uint8_t)(0x40 | (f.b[14] & 0x0f));
        size_t n = f.len - (next_rand(&seed) % 3 == 0 ? next_rand(&seed) % f.len : 0);
        if (n < 14)
            n = 14;
        uint64_t r = next_rand(&seed);
        uint32_t wire = (uint32_t)(r % 4 == 0 ? 14 + (r >> 8) % f.len : n + (r >> 8) % 64);
        uint8_t *b = malloc(n); /* exact size: ASan sees any read past the capture */
        assert_non_null(b);
        memcpy(b, f.b, n);
        struct pkt_decoded pe, pr, pl;
        memset(&pe, 0xa5, sizeof(pe));
        memset(&pr, 0x5a, sizeof(pr));
        memset(&pl, 0x3c, sizeof(pl));
        enum pkt_decode_status se = pkt_decode(DLT_EN10MB_, b, (uint32_t)n, wire, &pe);
        enum pkt_decode_status sr = pkt_decode(DLT_RAW_, b + 14, (uint32_t)n - 14, wire - 14, &pr);
        enum pkt_decode_status sl = pkt_decode_l4(DLT_EN10MB_, b, (uint32_t)n, wire, &pl);
        assert_int_equal(se, sr);
        assert_int_equal(se, sl);
        if (se == PKT_DEC_OK) {
            assert_pkt_equal(&pe, &pr, 14);
            assert_int_equal(pl.rtp.valid, 0);
            pl.rtp = pe.rtp;
            assert_pkt_equal(&pe, &pl, 0);
        }
        fast += n >= 42 && b[14] == 0x45 && b[23] == PROTO_UDP;
        ok += se == PKT_DEC_OK;
        bad += se == PKT_DEC_MALFORMED || se == PKT_DEC_FRAGMENT;
        free(b);
    }
    /* Most frames went the fast way, with every outcome represented. */
    assert_true(fast > 20000);
    assert_true(ok > 10000);
    assert_true(bad > 1000);
}

/* A UDP/IPv4 raw frame whose payload is the given bytes. */
static enum pkt_decode_status rtp_case(const uint8_t *pl, size_t n, struct pkt_decoded *p)
{
    struct frame f;
    memset(&f, 0, sizeof(f));
    ipv4(&f, PROTO_UDP, 8 + n, 0, 0, 64, 0);
    udp(&f, 5004, 6000, n);
    putn(&f, pl, n);
    return decode(DLT_RAW_, &f, p);
}

static void test_rtp(void **state)
{
    (void)state;
    struct pkt_decoded p;
    uint8_t pl[64];

    /* The plain header, exactly 12 bytes. */
    memset(pl, 0, sizeof(pl));
    pl[0] = 0x80;
    pl[1] = 0x00; /* PCMU */
    pl[2] = 0x12;
    pl[3] = 0x34;
    pl[11] = 0x09;
    assert_int_equal(rtp_case(pl, 12, &p), PKT_DEC_OK);
    assert_int_equal(p.rtp.valid, 1);
    assert_int_equal(p.rtp.payload_type, 0);
    assert_int_equal(p.rtp.seq, 0x1234);
    assert_int_equal(p.rtp.ssrc, 9);
    assert_int_equal(rtp_case(pl, 11, &p), PKT_DEC_OK);
    assert_int_equal(p.rtp.valid, 0); /* too short */

    pl[0] = 0x40; /* version 1 */
    assert_int_equal(rtp_case(pl, 40, &p), PKT_DEC_OK);
    assert_int_equal(p.rtp.valid, 0);
    pl[0] = 0x80;

    /* RTCP (SR, RR, SDES, BYE, APP, the feedback types 205 and 206, XR 207, ...) looks like
     * payload types 64..95, with or without the marker bit. */
    for (unsigned pt = 192; pt <= 223; pt++) {
        pl[1] = (uint8_t)pt;
        assert_int_equal(rtp_case(pl, 40, &p), PKT_DEC_OK);
        assert_int_equal(p.rtp.valid, 0);
        pl[1] = (uint8_t)(pt & 0x7fu);
        assert_int_equal(rtp_case(pl, 40, &p), PKT_DEC_OK);
        assert_int_equal(p.rtp.valid, 0);
    }
    pl[1] = 0x80 | 96; /* marker + PT 96 is fine */
    assert_int_equal(rtp_case(pl, 40, &p), PKT_DEC_OK);
    assert_int_equal(p.rtp.valid, 1);
    assert_int_equal(p.rtp.marker, 1);
    assert_int_equal(p.rtp.payload_type, 96);

    /* CSRCs must fit: 3 of them need 24 bytes. */
    pl[0] = 0x83;
    assert_int_equal(rtp_case(pl, 24, &p), PKT_DEC_OK);
    assert_int_equal(p.rtp.valid, 1);
    assert_int_equal(rtp_case(pl, 23, &p), PKT_DEC_OK);
    assert_int_equal(p.rtp.valid, 0);

    /* Extension with 2 words: 12 + 4 + 8 = 24 bytes. */
    memset(pl, 0, sizeof(pl));
    pl[0] = 0x90;
    pl[1] = 96;
    pl[12] = 0xbe;
    pl[13] = 0xde;
    pl[15] = 2;
    assert_int_equal(rtp_case(pl, 24, &p), PKT_DEC_OK);
    assert_int_equal(p.rtp.valid, 1);
    assert_int_equal(rtp_case(pl, 23, &p), PKT_DEC_OK);
    assert_int_equal(p.rtp.valid, 0);
    assert_int_equal(rtp_case(pl, 14, &p), PKT_DEC_OK); /* the length field is not there */
    assert_int_equal(p.rtp.valid, 0);

    /* Padding: the last byte counts the padding and must fit after the header. */
    memset(pl, 0, sizeof(pl));
    pl[0] = 0xa0;
    pl[1] = 96;
    pl[19] = 8;
    assert_int_equal(rtp_case(pl, 20, &p), PKT_DEC_OK);
    assert_int_equal(p.rtp.valid, 1);
    pl[19] = 9;
    assert_int_equal(rtp_case(pl, 20, &p), PKT_DEC_OK);
    assert_int_equal(p.rtp.valid, 0);
    pl[19] = 0;
    assert_int_equal(rtp_case(pl, 20, &p), PKT_DEC_OK);
    assert_int_equal(p.rtp.valid, 0);

    /* STUN (first two bits 00) is not RTP. */
    memset(pl, 0, sizeof(pl));
    pl[1] = 0x01;
    pl[4] = 0x21;
    pl[5] = 0x12;
    pl[6] = 0xa4;
    pl[7] = 0x42;
    assert_int_equal(rtp_case(pl, 20, &p), PKT_DEC_OK);
    assert_int_equal(p.rtp.valid, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ethernet),
        cmocka_unit_test(test_ethernet_padding_and_lengths),
        cmocka_unit_test(test_vlan),
        cmocka_unit_test(test_linux_cooked),
        cmocka_unit_test(test_raw_and_loopback),
        cmocka_unit_test(test_ip_headers),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_fragments),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_rtp),
        cmocka_unit_test(test_fast_path_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
