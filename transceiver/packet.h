/* transceiver/packet.h - what one synthetic packet is, and its UDP payload on the wire:
 * an RTP header (RFC 3550 5.1: version 2, the model's payload type, 90 kHz timestamps, a
 * sequence number and SSRC per stream, marker on the last packet of a burst) followed, when
 * the payload has room, by a flowmimic probe that lets `receive` measure loss, reordering
 * and one-way delay, then filler. Reentrant; no allocation. */
#ifndef TRANSCEIVER_PACKET_H
#define TRANSCEIVER_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "packet/rtp.h"

#define TRX_MAX_PAYLOAD 65507
/* A packet's TTL (hop limit) when its source gives none. */
#define TRX_DEFAULT_TTL 64

/* Addresses and ports of one packet; IPv4 addresses in the first 4 bytes. */
struct trx_addr {
    uint8_t ip_version; /* 4 or 6 */
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
};

/* One packet of a schedule. */
struct trx_pkt {
    int64_t offset_ns;    /* send time, from the start of the schedule */
    uint32_t stream;      /* stream index, 0.. */
    uint32_t payload_len; /* UDP payload bytes, >= 0 (an RTP header needs 12) */
    struct trx_addr addr;
    uint8_t ttl;
    uint8_t dscp;
    uint8_t rtp; /* 1: the payload starts with an RTP header */
    uint8_t rtp_pt;
    uint8_t rtp_marker;
    uint16_t rtp_seq;
    uint32_t rtp_ts;
    uint32_t rtp_ssrc;
    uint32_t probe_seq; /* per stream, from 0 */
};

/* Fill buf (cap >= p->payload_len) with the UDP payload of p: RTP header, probe (if room;
 * send time 0 until pkt_probe_stamp()), filler. For a packet replayed from a capture
 * (p->rtp == 0 and original != NULL), the original payload bytes are copied instead.
 * Returns the payload length. */
size_t
trx_payload_build(const struct trx_pkt *p, const uint8_t *original, uint8_t *buf, size_t cap);

/* The datagram of p with len payload bytes, through pkt_udp_frame_write(): Ethernet first when
 * macs (destination, source: 12 bytes) is given; TTL TRX_DEFAULT_TTL when p has none; DSCP as
 * p's, ECN 0 (not ECN-capable). out holds PKT_UDP_FRAME_HDR_MAX + len bytes. Returns the
 * length written. */
size_t trx_frame_write(uint8_t *out,
                       const uint8_t *macs,
                       const struct trx_pkt *p,
                       uint16_t ip_id,
                       const uint8_t *payload,
                       size_t len);

#endif
