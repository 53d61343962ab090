/* transceiver/source_capture.h - a packet source over a capture file, for `replay CAPTURE`.
 * The capture is streamed (one packet in memory at a time), its UDP packets are selected
 * (all, or one flow and side of it), and each becomes a struct trx_pkt whose offset is its
 * capture time since the first selected packet divided by the speed, carrying its original
 * payload bytes, with the destination rewritten to the peer. The capture is read and decoded
 * by packet/. Created by trx_source_capture_new(), released with trx_source_free(). Not
 * thread-safe. */
#ifndef TRANSCEIVER_SOURCE_CAPTURE_H
#define TRANSCEIVER_SOURCE_CAPTURE_H

#include <stdint.h>

#include "common/err.h"
#include "packet/endpoint.h"
#include "transceiver/source.h"

#define TRX_SIDE_BOTH (-1)

struct trx_capture_opts {
    const char *path;
    int have_flow;
    struct pkt_flow_key flow; /* with have_flow: only this flow */
    int side;                 /* with have_flow: MDL_SIDE_LOCAL, MDL_SIDE_REMOTE or TRX_SIDE_BOTH
                               * ("local" sent the flow's first packet) */
    double speed;             /* > 0: 2 plays twice as fast */
    double pps;               /* > 0: a constant rate instead of the recorded timing, as
                               * tcpreplay --pps (speed is then not used) */
    double mbps;              /* > 0: each packet when the payload bytes before it take
                               * this rate, as tcpreplay --mbps */
    unsigned loops;           /* passes over the file: 0 or 1 once, N N times (the next pass
                               * starts one mean gap after the last packet); UINT_MAX: until
                               * the sender stops. A file that cannot be read twice (a pipe)
                               * takes 1 only: FM_EINVAL */
    uint8_t ip_version;       /* only packets of this IP version are replayed */
    int have_src, have_dst;   /* rewrite the source / destination address */
    uint8_t src_ip[16], dst_ip[16];
};

/* What the source skipped, for the summary. */
struct trx_capture_stats {
    uint64_t frames;        /* read from the file, every pass */
    unsigned passes;        /* passes begun over the file */
    uint64_t selected;      /* handed to the sender */
    uint64_t not_udp;       /* not IP, not UDP, fragments, malformed */
    uint64_t other_version; /* UDP over the other IP version than the peer's */
    uint64_t other_flow;    /* UDP but not the selected flow or side */
    uint64_t short_payload; /* payload cut by the snap length: the missing bytes sent as 0 */
};

/* Open path and make a source over it. Returns FM_OK, the errors of pkt_pcap_open()
 * (FM_EIO, FM_EFORMAT), FM_EINVAL (speed, loops of a pipe) or FM_ENOMEM. */
FM_MUST_CHECK int trx_source_capture_new(const struct trx_capture_opts *o,
                                         struct trx_source **out,
                                         struct fm_err *err);

/* Counters of a source made by trx_source_capture_new(). */
void trx_source_capture_stats(const struct trx_source *s, struct trx_capture_stats *out);

#endif
