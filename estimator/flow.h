/* estimator/flow.h - the flow table: bidirectional 5-tuples with per-side counters and,
 * for flows marked to keep them, per-side packet series for fitting.
 * A flow's "local" side (side 0) is the endpoint that sent its first packet. The table owns
 * its flows and series; pointers into it stay valid until est_flow_table_free() (flows are
 * never moved once created: they live in stable chunks). Not thread-safe. */
#ifndef ESTIMATOR_FLOW_H
#define ESTIMATOR_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "packet/decode.h"
#include "packet/endpoint.h"

/* Bits of est_series.rtp_flags: the packet parsed as RTP, carried the marker, carried the
 * same RTP timestamp as the side's previous RTP packet. */
#define EST_RTP_VALID   1u
#define EST_RTP_MARKER  2u
#define EST_RTP_SAME_TS 4u

/* Per-side series of one flow, kept in file order; filled only when the flow keeps series. */
struct est_series {
    size_t n, cap;
    int64_t *ts_ns;
    uint32_t *payload_len;
    uint8_t *rtp_flags; /* EST_RTP_* per packet */
    uint64_t ttl_hist[256];
    uint64_t dscp_hist[64];
    uint64_t rtp_pt_hist[128];
    uint64_t rtp_valid;      /* packets that passed the per-packet RTP heuristic */
    uint64_t rtp_marker;     /* of those, with the marker bit */
    uint64_t rtp_ssrc_match; /* RTP packets whose SSRC equals the side's first SSRC */
    uint64_t rtp_seq_next;   /* RTP packets whose seq is the previous one's + 1 */
    uint32_t rtp_first_ssrc;
    uint32_t rtp_last_ts;
    uint16_t rtp_last_seq;
    int rtp_seen;
};

struct est_side {
    uint64_t packets;
    uint64_t bytes;                  /* L4 payload bytes */
    int64_t first_ts_ns, last_ts_ns; /* smallest and largest timestamp seen */
};

struct est_flow {
    struct pkt_flow_key key;
    uint8_t ip_version, proto;
    struct pkt_endpoint local, remote; /* local = sender of the first packet */
    uint64_t first_seen;               /* ordinal of the flow's first packet in the file */
    struct est_side side[2];
    int keep_series;
    struct est_series *series[2]; /* NULL unless keep_series */
    struct est_flow *hnext;       /* hash chain, internal */
};

struct est_flow_table;

/* A new empty table; NULL when out of memory. */
struct est_flow_table *est_flow_table_new(void);
void est_flow_table_free(struct est_flow_table *t);

/* Keep series for the flow with this key when it appears (before adding packets), or for every
 * flow when key is NULL. Returns FM_OK or FM_ENOMEM. */
FM_MUST_CHECK int
est_flow_table_watch(struct est_flow_table *t, const struct pkt_flow_key *key, struct fm_err *err);

/* 1 when flows of the table may keep series (est_flow_table_watch() was called), which
 * use the packets' RTP fields; 0 when no packet's RTP fields are ever looked at. */
FM_MUST_CHECK int est_flow_table_keeps_series(const struct est_flow_table *t);

/* Account one decoded packet. Returns FM_OK or FM_ENOMEM. */
FM_MUST_CHECK int
est_flow_table_add(struct est_flow_table *t, const struct pkt_decoded *p, struct fm_err *err);

/* Packets est_flow_table_add_many() looks ahead over; a good size for a caller's batch. */
#define EST_FLOW_ADD_BATCH 16

/* Account n decoded packets, in order: the same as est_flow_table_add() on each, faster
 * when packets of many flows are interleaved (the table's memory is fetched for several
 * packets at once). Stops at the first error: FM_ENOMEM, the packets before it accounted. */
FM_MUST_CHECK int est_flow_table_add_many(struct est_flow_table *t,
                                          const struct pkt_decoded *p,
                                          size_t n,
                                          struct fm_err *err);

size_t est_flow_table_count(const struct est_flow_table *t);

/* Flows sorted by total packets, most first, ties by first appearance: an array of n
 * borrowed pointers, owned by the table, valid until the next add or the free. NULL only
 * when out of memory. Index i in it is the flow index shown to users (from 0). */
struct est_flow *const *est_flow_table_sorted(struct est_flow_table *t, size_t *n);

/* The flow as a spec, local endpoint first: "udp 192.0.2.1:5004 192.0.2.2:6000". */
void est_flow_format_spec(const struct est_flow *f, char *buf, size_t size);

#endif
