/* transceiver/receiver_int.h - internals of the receiver that unit tests reach: decoding a
 * captured frame down to its UDP payload, and building the IP and UDP headers written in
 * front of a socket-received datagram in a pcap file. Not part of the module's interface;
 * reentrant, no allocation. */
#ifndef TRANSCEIVER_RECEIVER_INT_H
#define TRANSCEIVER_RECEIVER_INT_H

#include "common/err.h"
#include <stddef.h>
#include <stdint.h>

#include "transceiver/packet.h"

/* Largest header trx_recv_synth_hdr() writes: IPv6 (40) + UDP (8). */
#define TRX_RECV_SYNTH_MAX 48

/* Decode a frame of link type dlt (one pkt_decode() reads) down to a whole UDP datagram
 * (RFC 768) over IPv4 or IPv6, with packet/decode.h. On 1 fills *a, *payload_off (where the
 * UDP payload starts in frame) and *len (the payload's length from the UDP header, which may
 * exceed what was captured). Returns 0 for anything else: other protocols, fragments,
 * truncated headers, a UDP length beyond what the IP header carries. */
FM_MUST_CHECK int trx_recv_decode(int dlt,
                                  const uint8_t *frame,
                                  size_t caplen,
                                  size_t wirelen,
                                  struct trx_addr *a,
                                  size_t *payload_off,
                                  size_t *len);

/* Write an IPv4 (20 bytes, TTL 64, header checksum) or IPv6 (40 bytes, hop limit 64) header
 * and a UDP header for a datagram of len payload bytes from a to hdr (at least
 * TRX_RECV_SYNTH_MAX bytes). The UDP checksum is 0 (none) over IPv4 and computed over IPv6,
 * where it is mandatory, from the cap bytes of payload given (correct when cap == len).
 * Returns the header length. */
size_t trx_recv_synth_hdr(
    const struct trx_addr *a, const uint8_t *payload, size_t cap, size_t len, uint8_t *hdr);

#endif
