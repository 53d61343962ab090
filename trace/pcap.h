/* trace/pcap.h - JSON packet traces to and from captures.
 * A capture becomes a struct trc_trace through packet/'s reader and decoder
 * (packet/pcap_in.h, packet/decode.h), so every link type `flows` reads is read here too.
 * A trace becomes a pcap file of link type RAW (LINKTYPE_RAW 101: each frame starts with the
 * IPv4 or IPv6 header, no invented MAC addresses) at nanosecond resolution, with headers
 * built by hand: RFC 791 IPv4 (DF set, id 0, header checksum), RFC 8200 IPv6 (flow label 0),
 * RFC 768 UDP and RFC 9293 TCP (20-byte header, no options) with their pseudo-header
 * checksums, and the payload from the trace or, when only its length is known, an RFC 3550
 * RTP header from the packet's rtp fields followed by zeros. Fields the trace does not hold
 * (IP id, TCP options, IPv6 flow label, link layer) are not kept. Not thread-safe; nothing
 * here keeps state between calls. */
#ifndef TRACE_PCAP_H
#define TRACE_PCAP_H

#include <stddef.h>
#include <stdint.h>

#include <signal.h>

#include "common/err.h"
#include "packet/decode.h"
#include "packet/endpoint.h"
#include "trace/trace.h"

/* What reading a capture into a trace skipped. */
struct trc_read_stats {
    uint64_t frames;                  /* frames read */
    uint64_t kept;                    /* packets put into the trace */
    uint64_t status[PKT_DEC_NSTATUS]; /* frames per decode outcome */
    uint64_t other_flows;             /* UDP/TCP packets of other flows (with a flow filter) */
    uint64_t payload_cut;             /* kept packets whose payload the snap length cut, so
                                         only payload_length is written */
    int linktype;
};

/* Read every UDP and TCP packet of the capture at path (or only those of flow, when not NULL)
 * into t, in file order. with_payload: 1 to keep the payload bytes, 0 for payload_length only.
 * Frames that are not UDP/TCP over IP, or that are fragments, truncated or malformed, are
 * counted in stats (may be NULL) and skipped. When frames is not NULL, *frames becomes a new
 * array (the caller frees it) of each packet's frame number in the file, from 1 as Wireshark
 * counts. stop (may be NULL), once set, ends the read with FM_EINTR, also a read that a pipe
 * stalls in. Returns FM_OK, FM_ENOMEM, FM_EINTR, or the FM_EIO / FM_EFORMAT of
 * pkt_pcap_open() and pkt_pcap_next(); on failure t is left empty and *frames untouched. */
FM_MUST_CHECK int trc_from_pcap(const char *path,
                                const struct pkt_flow_key *flow,
                                int with_payload,
                                struct trc_trace *t,
                                struct trc_read_stats *stats,
                                uint64_t **frames,
                                const volatile sig_atomic_t *stop,
                                struct fm_err *err);

/* The frame (IP header onwards) for one packet into buf of cap bytes: the length in *len.
 * Returns FM_OK, or FM_EINVAL when the packet does not fit (cap is too small). */
FM_MUST_CHECK int trc_frame_build(const struct trc_pkt *p, uint8_t *buf, size_t cap, size_t *len);

/* The largest frame trc_frame_build() makes: a full IPv6 payload plus its header. */
#define TRC_FRAME_MAX (40 + 65535)

/* Write t to path as a pcap file (see above), atomically: through a temporary file beside
 * path, flushed and renamed, so a reader sees the old file or the whole new one. Returns
 * FM_OK, FM_EIO (cannot write) or FM_ENOMEM. */
FM_MUST_CHECK int trc_to_pcap(const struct trc_trace *t, const char *path, struct fm_err *err);

#endif
