/* transceiver/source.h - where packets to send come from: an ordered stream of struct trx_pkt.
 * A source is an interface (ops + self): a model's schedule (source_model.c), a capture's
 * packets with their recorded timing (source_capture.h), a test's. Packets come out in
 * nondecreasing offset_ns. Created by a *_new() function, released with trx_source_free(). */
#ifndef TRANSCEIVER_SOURCE_H
#define TRANSCEIVER_SOURCE_H

#include <stdint.h>

#include "common/err.h"
#include "models/model.h"
#include "models/variant.h"
#include "transceiver/packet.h"

struct trx_source_ops {
    /* Next packet: returns 1 and fills *p (and *original with the payload bytes to copy, or
     * NULL to build an RTP payload; borrowed until the next call), 0 at the end, or a
     * negative FM_E* code. */
    int (*next)(void *self, struct trx_pkt *p, const uint8_t **original, struct fm_err *err);
    void (*free)(void *self);
};

struct trx_source {
    const struct trx_source_ops *ops;
    void *self;
};

static inline int
trx_source_next(struct trx_source *s, struct trx_pkt *p, const uint8_t **orig, struct fm_err *err)
{
    return s->ops->next(s->self, p, orig, err);
}

void trx_source_free(struct trx_source *s);

/* How a model becomes packets. trx_model_opts_init() fills the defaults. */
struct trx_model_opts {
    int side;         /* MDL_SIDE_LOCAL or MDL_SIDE_REMOTE: the side this host plays */
    unsigned streams; /* independent streams, >= 1 (default 1) */
    /* A share of a larger set (mpirun's ranks each play one): these are streams first_stream
     * .. first_stream + streams - 1 of total_streams (0: streams), numbered, ported, seeded
     * and staggered as one source of total_streams would make them, so that the shares
     * together send what it would. Default 0 and 0: the whole set. */
    unsigned first_stream, total_streams;
    uint64_t count;             /* packets in all streams together, 0 = no limit (default 0) */
    int64_t duration_ns;        /* no packet at or after this offset, 0 = no limit (default 0) */
    int64_t stagger_ns;         /* stream s starts at s * stagger_ns; -1 = the mean gap / streams */
    uint64_t seed;              /* default 1 */
    struct mdl_variant variant; /* default: changes nothing */
    double rate_scale; /* multiplies the packet rate, on top of the variant's (default 1) */
    /* Addresses: the model's own (src = the played side's endpoint, dst = the other side's)
     * unless overridden. Stream s sends from src_port + s. */
    int have_src_ip, have_dst_ip;
    uint8_t ip_version; /* with have_src_ip/have_dst_ip */
    uint8_t src_ip[16], dst_ip[16];
    int src_port, dst_port; /* -1 = the model's */
};

void trx_model_opts_init(struct trx_model_opts *o);

/* A source drawing from one side of a model: per stream, gaps from the IAT mixture and
 * lengths from the payload-length mixture (both after the variant), merged in time order by a
 * heap of next deadlines. Each stream has its own SSRC, sequence numbers and probe sequence.
 * Returns FM_OK, FM_EINVAL (the side has no model, bad options; the message says which),
 * FM_ENOMEM. With neither count nor duration the source never ends. */
FM_MUST_CHECK int trx_source_model_new(const struct mdl_model *m,
                                       const struct trx_model_opts *o,
                                       struct trx_source **out,
                                       struct fm_err *err);

#endif
