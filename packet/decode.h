/* packet/decode.h - packet decoding from the link layer to UDP/TCP and RTP.
 * Specifications: Ethernet II and IEEE 802.1Q/802.1ad tags; Linux cooked capture SLL and
 * SLL2 (tcpdump.org linktypes 113, 276); BSD null/loopback (0, 108); raw IP (12, 14, 101,
 * 228, 229); IPv4 RFC 791 with options; IPv6 RFC 8200 with extension headers; UDP RFC 768;
 * TCP RFC 9293; RTP RFC 3550 section 5.1. Every byte is read through common/buf.h cursors:
 * a truncated or malformed packet is reported, never read past. Reentrant, no allocation. */
#ifndef PACKET_DECODE_H
#define PACKET_DECODE_H

#include "common/err.h"
#include <stdint.h>

enum pkt_decode_status {
    PKT_DEC_OK = 0,          /* a UDP or TCP packet: all fields filled */
    PKT_DEC_NOT_IP,          /* ARP, LLDP, ... : skipped, not an error */
    PKT_DEC_OTHER_L4,        /* IP but neither UDP nor TCP (ICMP, ...): skipped */
    PKT_DEC_FRAGMENT,        /* non-first IPv4/IPv6 fragment: counted and skipped */
    PKT_DEC_TRUNCATED,       /* captured bytes end inside a header */
    PKT_DEC_MALFORMED,       /* a header contradicts itself (bad version, lengths) */
    PKT_DEC_UNSUPPORTED_LINK /* link type not handled */
};
#define PKT_DEC_NSTATUS 7

struct pkt_rtp {
    uint8_t valid; /* 1 when the payload passes the per-packet RTP heuristic */
    uint8_t payload_type;
    uint8_t marker;
    uint16_t seq;
    uint32_t timestamp;
    uint32_t ssrc;
};

struct pkt_decoded {
    int64_t ts_ns;
    uint8_t ip_version; /* 4 or 6 */
    uint8_t proto;      /* IPPROTO_UDP or IPPROTO_TCP */
    uint8_t src[16];    /* IPv4 in the first 4 bytes, rest zero */
    uint8_t dst[16];
    uint16_t sport, dport;
    uint32_t payload_len; /* L4 payload bytes as sent (from the headers, not the snap length) */
    uint32_t payload_off; /* where the L4 payload starts in the captured frame */
    uint32_t wire_len;
    uint8_t ttl; /* TTL or hop limit */
    uint8_t dscp;
    uint8_t tcp_flags;
    uint8_t vlan_depth;
    uint8_t more_fragments; /* a first fragment: more of the datagram follows in others */
    uint16_t udp_len;       /* UDP only: the header's length field (the whole datagram's on a
                             * first fragment, 0 in an IPv6 jumbogram) */
    struct pkt_rtp rtp;     /* UDP only */
};

/* Decode one captured frame of the given DLT_ link type. Fills *out on PKT_DEC_OK (and
 * leaves it unspecified otherwise). */
enum pkt_decode_status pkt_decode(
    int linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen, struct pkt_decoded *out);

/* As pkt_decode(), without the RTP heuristic: out->rtp is all zero (valid 0). For readers
 * that keep no RTP statistics, such as a flow table that keeps no series. */
enum pkt_decode_status pkt_decode_l4(
    int linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen, struct pkt_decoded *out);

/* A short name for a status ("truncated", ...). */
const char *pkt_decode_status_str(enum pkt_decode_status s);

/* The link types pkt_decode() handles, as pcap_datalink_val_to_name() spells them, for
 * messages that list them. */
#define PKT_LINKTYPE_NAMES "EN10MB, LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP"

/* 1 when the link type is one pkt_decode() handles. */
FM_MUST_CHECK int pkt_linktype_supported(int linktype);

#endif
