/* packet/rtp.h - the RTP fixed header (RFC 3550 5.1) as flowmimic writes it, the clock
 * rates of the payload types (RFC 3551), and flowmimic's probe: 20 bytes right after the RTP
 * header (magic "FMPR", version, flags, stream, a 32-bit sequence, the send time in ns) that
 * let `receive` count loss exactly and measure one-way delay. Big-endian, written and read a
 * byte at a time; reentrant, no allocation. */
#ifndef PACKET_RTP_H
#define PACKET_RTP_H

#include "common/err.h"
#include <stddef.h>
#include <stdint.h>

#define PKT_RTP_HDR_LEN   12
#define PKT_PROBE_MAGIC   0x464d5052u /* "FMPR" */
#define PKT_PROBE_VERSION 1
#define PKT_PROBE_LEN     20 /* magic 4, version 1, flags 1, stream 2, seq 4, send time 8 */
#define PKT_PROBE_OFFSET  PKT_RTP_HDR_LEN

/* The RTP clock rate assumed for a payload type: the RFC 3551 static rates (8000 for the
 * audio types 0, 3-5, 7-9, 12, 13, 15, 18; 16000, 11025, 22050, 44100 for 6, 16, 17, 10-11;
 * 90000 for the video types), and 90000 for dynamic types (96-127) and unknown ones, since
 * flowmimic plays video. */
uint32_t pkt_rtp_clock_rate(uint8_t pt);

/* 1 when RFC 3551 assigns pt a clock (static types); 0 for dynamic and unassigned ones,
 * whose clock is the session's choice (pkt_rtp_clock_rate() guesses 90 kHz for them). */
FM_MUST_CHECK int pkt_rtp_clock_fixed(uint8_t pt);

/* Write a fixed RTP header (version 2, no padding, extension or CSRC) at buf (12 bytes). */
void pkt_rtp_write(uint8_t *buf, uint8_t pt, int marker, uint16_t seq, uint32_t ts, uint32_t ssrc);

/* 1 when a payload of this length carries a probe (RTP header + probe fit). */
FM_MUST_CHECK int pkt_payload_has_probe(uint32_t payload_len);

/* Write a probe with send time 0 after the RTP header of payload (which has room for it). */
void pkt_probe_write(uint8_t *payload, uint16_t stream, uint32_t seq);

/* Write the send time into a payload that has a probe (the last step before sending, so
 * that building ahead does not make the stamp early); a payload without one is left alone. */
void pkt_probe_stamp(uint8_t *payload, int64_t send_time_ns);

/* A probe read back from a received payload. */
struct pkt_probe {
    uint16_t stream;
    uint32_t seq;
    int64_t send_time_ns;
};

/* Decode the probe in a received UDP payload: 1 when present and valid, 0 otherwise. */
FM_MUST_CHECK int pkt_probe_decode(const uint8_t *payload, size_t len, struct pkt_probe *out);

#endif
