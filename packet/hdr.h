/* packet/hdr.h - the IP and UDP headers flowmimic writes: in generate's pcaps, in traces
 * converted to pcap, in front of datagrams receive writes to a file. One DF policy: every
 * IPv4 header has Don't Fragment set (payloads never exceed the MTU), as a Linux UDP socket
 * with path MTU discovery sends; replay's frames on the wire are written here too (sink_libnet.c).
 * No allocation, reentrant. RFC 791 (IPv4), RFC 8200 (IPv6), RFC 768 (UDP), RFC 1071. */
#ifndef PACKET_HDR_H
#define PACKET_HDR_H

#include <stddef.h>
#include <stdint.h>

#define PKT_IP4_HDR_LEN 20
#define PKT_IP6_HDR_LEN 40
#define PKT_UDP_HDR_LEN 8
#define PKT_ETH_HDR_LEN 14
/* The most header bytes pkt_udp_frame_write() puts before the payload. */
#define PKT_UDP_FRAME_HDR_MAX (PKT_ETH_HDR_LEN + PKT_IP6_HDR_LEN + PKT_UDP_HDR_LEN)

struct pkt_ip_fields {
    uint8_t ip_version; /* 4 or 6 */
    const uint8_t *src; /* 4 or 16 bytes */
    const uint8_t *dst;
    uint8_t proto; /* 17 UDP, 6 TCP */
    uint8_t tos;   /* DSCP << 2 | ECN; IPv6's traffic class */
    uint8_t ttl;   /* or hop limit */
    uint16_t id;   /* IPv4 identification */
};

/* Write the IP header for l4_len bytes of transport header and payload into out (room for
 * PKT_IP6_HDR_LEN): IPv4 with no options, DF, its header checksum; IPv6 with flow label 0.
 * A length past what the header's 16-bit field holds is written as 0xffff. Returns the
 * header's length; *pseudo gets the sum of the transport checksum's pseudo-header
 * (addresses, protocol, length), to go on with fm_inet_csum_add(). */
size_t pkt_ip_write(const struct pkt_ip_fields *f, size_t l4_len, uint8_t *out, uint32_t *pseudo);

/* Write a UDP header at udp (PKT_UDP_HDR_LEN bytes) whose length field is len_field, with
 * the checksum over it and the payload bytes given (cap of them), from pseudo; a computed 0
 * goes out as 0xffff (RFC 768). With checksum 0 the field is 0: "no checksum", legal over
 * IPv4 only. */
void pkt_udp_write(uint8_t *udp,
                   uint16_t sport,
                   uint16_t dport,
                   uint16_t len_field,
                   const uint8_t *payload,
                   size_t cap,
                   uint32_t pseudo,
                   int checksum);

/* One UDP datagram, whole: an Ethernet II header when macs is not NULL (its 12 bytes are the
 * destination then the source address, the EtherType follows from the IP version), the IP
 * header of f (f->proto is taken as UDP), the UDP header with its checksum, and len payload
 * bytes copied in. out must hold PKT_UDP_FRAME_HDR_MAX + len bytes; payload and out must not
 * overlap. The bytes every flowmimic writer puts out: generate's pcaps and replay's frames and
 * raw IP datagrams. Returns the length written. */
size_t pkt_udp_frame_write(uint8_t *out,
                           const uint8_t *macs,
                           const struct pkt_ip_fields *f,
                           uint16_t sport,
                           uint16_t dport,
                           const uint8_t *payload,
                           size_t len);

#endif
