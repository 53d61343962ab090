/* transceiver/source_model.c - packets drawn from one side of a model, in time order.
 * Each stream is an independent copy of the side: its gaps come from the IAT mixture (divided
 * by the rate scale), its lengths from the payload-length mixture (mapped by the variant), and
 * it has its own random generator, SSRC, RTP sequence and timestamp origin. Stream s starts at
 * s * stagger. A binary min-heap of each stream's next deadline merges the streams, so taking
 * a packet costs O(log streams) whatever the count.
 *
 * RTP fields follow RFC 3550: the sequence number and timestamp start at random values (5.1);
 * the timestamp runs at the payload type's clock (RFC 3551: 90 kHz for video and dynamic
 * types, 8 kHz for G.711 and G.729) from the start of the burst a packet
 * belongs to, because every packet of one video frame carries the frame's sampling instant.
 * A burst is a run of packets less than BURST_GAP_NS apart. The marker bit ends a burst
 * (the last packet of a frame) when more than MARKER_MIN_RATIO of the side's packets carried
 * it, which is how video behaves; voice, which marks only the start of a talk spurt (a few
 * per cent of its packets), gets no markers.
 *
 * A side with a sequence model (format version 2) draws its packets as a sequence
 * (models/seq.h): each stream has its own chain history and copula scores, and a packet's
 * gap is the one drawn with the packet after it. When the states carry the capture's RTP
 * markers (video), a frame is the run of packets up to and including a marked one: its
 * packets share the timestamp of the frame's first packet, so the timestamp advances per
 * frame at the payload type's clock and the marker sits on each frame's last packet. A side
 * without a sequence model is drawn exactly as before, packet by packet.
 *
 * A payload is never shorter than an RTP header (PKT_RTP_HDR_LEN = 12 bytes): a model whose
 * lengths go lower, or a variant that shifts them lower, is clamped there so that every
 * packet still decodes as RTP. */
#include "transceiver/receiver.h"
#include "transceiver/source.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BURST_GAP_NS     1000000LL /* 1 ms: closer packets belong to one frame */
#define MARKER_MIN_RATIO 0.05      /* above: the side marks frame ends (video) */
#define MAX_STREAMS      4096      /* per process: one send loop's heap of streams */
#define MAX_TOTAL        65535     /* over every rank: each stream has a source port of its own */
#define DEFAULT_TTL      64
#define DEFAULT_PT       96 /* the first dynamic payload type (RFC 3551) */
#define MEAN_GAP_DRAWS   4096

struct stream {
    struct fm_rng *rng;
    uint32_t index;
    uint32_t ssrc;
    uint16_t rtp_seq;
    uint32_t rtp_ts0; /* random origin of the timestamps */
    uint32_t probe_seq;
    int64_t first_ns;       /* offset of the stream's first packet */
    int64_t burst_start_ns; /* offset of the first packet of the current burst */
    int new_burst;          /* 1: the head packet starts a burst */
    /* The next packet, drawn ahead together with the gap after it, so that its marker (does
     * a burst end here?) is known when it is taken. */
    int64_t head_ns;
    uint32_t head_len;
    int64_t gap_after_ns;
    /* Sequence models only: the chain's state, the head's marker, and the packet after the
     * head (drawn with the gap before it, which is the head's gap_after_ns). */
    struct mdl_seq_gen gen;
    int head_marker;
    uint32_t next_len;
    int next_marker;
};

struct model_src {
    struct mdl_side side; /* a copy: the model may go away */
    struct mdl_variant variant;
    double rate_scale; /* variant's times the options' */
    int video;         /* 1: marker on the last packet of each burst */
    int seq;           /* 1: draw from the side's sequence model */
    int frames;        /* 1: frames end at the sequence's marked packets */
    uint8_t ttl, dscp, pt;
    struct trx_addr addr; /* sport is stream 0's */
    uint64_t count;
    int64_t duration_ns;
    uint64_t taken;
    unsigned n;
    struct stream *streams;
    unsigned *heap; /* stream indexes, min-heap on (head_ns, index) */
};

void trx_model_opts_init(struct trx_model_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->side = MDL_SIDE_LOCAL;
    o->streams = 1;
    o->count = 0;
    o->duration_ns = 0;
    o->stagger_ns = -1;
    o->seed = 1;
    mdl_variant_init(&o->variant);
    o->rate_scale = 1.0;
    o->have_src_ip = 0;
    o->have_dst_ip = 0;
    o->ip_version = 4;
    o->src_port = -1;
    o->dst_port = -1;
}

void trx_source_free(struct trx_source *s)
{
    if (!s)
        return;
    s->ops->free(s->self);
    free(s);
}

/* splitmix64: turns (seed, side, stream) into well-spread 64-bit values, so that streams
 * seeded from neighbouring numbers do not draw related sequences. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static int before(const struct model_src *m, unsigned a, unsigned b)
{
    const struct stream *x = &m->streams[a];
    const struct stream *y = &m->streams[b];
    /* Ties go to the lower stream index, so that the order never depends on heap history. */
    return x->head_ns < y->head_ns || (x->head_ns == y->head_ns && a < b);
}

static void sift_down(struct model_src *m, unsigned i)
{
    for (;;) {
        unsigned l = 2 * i + 1;
        unsigned r = l + 1;
        unsigned best = i;
        if (l < m->n && before(m, m->heap[l], m->heap[best]))
            best = l;
        if (r < m->n && before(m, m->heap[r], m->heap[best]))
            best = r;
        if (best == i)
            return;
        unsigned t = m->heap[i];
        m->heap[i] = m->heap[best];
        m->heap[best] = t;
        i = best;
    }
}

/* A drawn gap in ns, already divided by the rate scale, as whole ns. A gap of ten years is a
 * broken model, not a plan: it is capped there to keep the arithmetic finite. */
static int64_t gap_ns(double ns)
{
    if (!(ns > 0.0))
        return 0;
    return ns > 3.0e17 ? (int64_t)3e17 : (int64_t)llround(ns);
}

static int64_t draw_gap_ns(struct model_src *m, struct stream *s)
{
    return gap_ns(mdl_mixture_sample(&m->side.iat, s->rng) / m->rate_scale * 1e9);
}

/* The streams of the whole set this source plays a share of (all of them when not shared). */
static unsigned set_size(const struct trx_model_opts *o)
{
    return o->total_streams ? o->total_streams : o->streams;
}

/* A drawn length through the variant's mapping, clamped to what a packet can carry. */
static uint32_t fit_len(const struct model_src *m, double v)
{
    unsigned len = mdl_variant_payload(&m->variant, v);
    if (len < PKT_RTP_HDR_LEN)
        len = PKT_RTP_HDR_LEN;
    if (len > TRX_MAX_PAYLOAD)
        len = TRX_MAX_PAYLOAD;
    return len;
}

static uint32_t draw_len(struct model_src *m, struct stream *s)
{
    return fit_len(m, mdl_mixture_sample(&m->side.payload, s->rng));
}

/* The packet after the head from the sequence model: its length and marker, and the gap
 * before it as the head's gap_after_ns (divided by the rate scale). */
static void draw_next(struct model_src *m, struct stream *s)
{
    unsigned state = 0;
    double len = 0, gap = 0;
    mdl_seq_draw(&m->side.seq, &s->gen, s->rng, &state, &len, &gap, &s->next_marker);
    s->next_len = fit_len(m, len);
    s->gap_after_ns = gap_ns(gap / m->rate_scale);
}

/* The stream's new head and the gap after it: with a sequence, the packet drawn after the
 * old head moves up and the one after it is drawn; otherwise both are drawn afresh. */
static void draw_head(struct model_src *m, struct stream *s)
{
    if (m->seq) {
        s->head_len = s->next_len;
        s->head_marker = s->next_marker;
        draw_next(m, s);
    } else {
        s->head_len = draw_len(m, s);
        s->gap_after_ns = draw_gap_ns(m, s);
    }
}

/* Does the head end a frame (burst)? Sequence frames end at marked packets; otherwise a
 * burst ends before a gap of BURST_GAP_NS or more. */
static int head_ends_frame(const struct model_src *m, const struct stream *s)
{
    return m->frames ? s->head_marker : s->gap_after_ns >= BURST_GAP_NS;
}

static int model_next(void *self, struct trx_pkt *p, const uint8_t **original, struct fm_err *err)
{
    (void)err;
    struct model_src *m = self;
    if (m->count && m->taken >= m->count)
        return 0;
    struct stream *s = &m->streams[m->heap[0]];
    if (m->duration_ns && s->head_ns >= m->duration_ns)
        return 0;
    if (s->head_ns == INT64_MAX) /* the earliest stream has run off the end of time */
        return 0;

    if (s->new_burst)
        s->burst_start_ns = s->head_ns;
    memset(p, 0, sizeof(*p));
    p->offset_ns = s->head_ns;
    p->stream = s->index;
    p->payload_len = s->head_len;
    p->addr = m->addr;
    p->addr.sport = (uint16_t)(m->addr.sport + s->index);
    p->ttl = m->ttl;
    p->dscp = m->dscp;
    p->rtp = 1;
    p->rtp_pt = m->pt;
    p->rtp_marker = (uint8_t)(m->video && head_ends_frame(m, s));
    p->rtp_seq = s->rtp_seq++;
    /* The payload type's RTP clock (RFC 3551: 8 kHz for G.711 and G.729, 90 kHz for video and
     * dynamic types): floor(ns * rate / 1e9), split into whole and part seconds so that no
     * product overflows; unsigned arithmetic wraps like the 32-bit field. */
    uint64_t ns = (uint64_t)(s->burst_start_ns - s->first_ns);
    uint64_t rate = pkt_rtp_clock_rate(m->pt);
    uint64_t ticks = ns / 1000000000u * rate + ns % 1000000000u * rate / 1000000000u;
    p->rtp_ts = s->rtp_ts0 + (uint32_t)ticks;
    p->rtp_ssrc = s->ssrc;
    p->probe_seq = s->probe_seq++;
    *original = NULL;
    m->taken++;

    /* Draw the stream's next packet and put the stream back in its place. */
    s->new_burst = head_ends_frame(m, s);
    /* Saturate rather than overflow: only an absurd model with no limit gets this far. */
    if (s->gap_after_ns > INT64_MAX - s->head_ns)
        s->head_ns = INT64_MAX;
    else
        s->head_ns += s->gap_after_ns;
    draw_head(m, s);
    sift_down(m, 0);
    return 1;
}

static void model_free(void *self)
{
    struct model_src *m = self;
    if (!m)
        return;
    if (m->streams) {
        for (unsigned i = 0; i < m->n; i++)
            fm_rng_free(m->streams[i].rng);
    }
    free(m->streams);
    free(m->heap);
    free(m);
}

static const struct trx_source_ops model_ops = {model_next, model_free};

/* Parse a textual address into out (16 bytes, IPv4 in the first 4); returns 4, 6 or 0. */
static int parse_ip(const char *text, uint8_t *out)
{
    memset(out, 0, 16);
    if (inet_pton(AF_INET, text, out) == 1)
        return 4;
    if (inet_pton(AF_INET6, text, out) == 1)
        return 6;
    return 0;
}

static const char *side_name(int side)
{
    return side == MDL_SIDE_LOCAL ? "local" : "remote";
}

/* Addresses and ports: the model's own (the played side sends to the other one) unless the
 * options or the variant say otherwise; the options win over the variant, being the more
 * explicit of the two. */
static int set_addr(struct model_src *m,
                    const struct mdl_model *md,
                    const struct trx_model_opts *o,
                    struct fm_err *err)
{
    const struct mdl_endpoint *src = o->side == MDL_SIDE_LOCAL ? &md->local : &md->remote;
    const struct mdl_endpoint *dst = o->side == MDL_SIDE_LOCAL ? &md->remote : &md->local;
    int sv = o->ip_version;
    int dv = o->ip_version;
    if (o->have_src_ip)
        memcpy(m->addr.src, o->src_ip, 16);
    else
        sv = parse_ip(src->ip, m->addr.src);
    if (o->have_dst_ip)
        memcpy(m->addr.dst, o->dst_ip, 16);
    else
        dv = parse_ip(dst->ip, m->addr.dst);
    if (sv != 4 && sv != 6)
        return fm_err_set(err, FM_EINVAL, "the model's %s address '%s' is not an IP address",
                          side_name(o->side), src->ip);
    if (dv != 4 && dv != 6)
        return fm_err_set(err, FM_EINVAL, "the model's %s address '%s' is not an IP address",
                          side_name(1 - o->side), dst->ip);
    if (sv != dv)
        return fm_err_set(err, FM_EINVAL,
                          "the source address is IPv%d but the destination is IPv%d: override "
                          "both or neither",
                          sv, dv);
    m->addr.ip_version = (uint8_t)sv;
    long sport = o->src_port >= 0           ? o->src_port
                 : m->variant.src_port >= 0 ? m->variant.src_port
                                            : src->port;
    long dport = o->dst_port >= 0           ? o->dst_port
                 : m->variant.dst_port >= 0 ? m->variant.dst_port
                                            : dst->port;
    unsigned total = set_size(o);
    if (sport + (long)total - 1 > 65535)
        return fm_err_set(err, FM_EINVAL,
                          "%u streams from source port %ld would need ports above 65535", total,
                          sport);
    if (dport > 65535)
        return fm_err_set(err, FM_EINVAL, "destination port %ld is above 65535", dport);
    m->addr.sport = (uint16_t)sport;
    m->addr.dport = (uint16_t)dport;
    return FM_OK;
}

/* The mean gap (after scaling) in ns, for the automatic stagger: the side's own packet rate
 * when the model has it, otherwise the mean of draws from a generator of its own (so that
 * the streams' draws do not depend on whether this ran). */
static int mean_gap_ns(const struct model_src *m, uint64_t seed, int64_t *out, struct fm_err *err)
{
    double mean = 0.0;
    if (m->side.packets > 1 && m->side.duration_s > 0.0) {
        mean = m->side.duration_s / (double)(m->side.packets - 1);
    } else {
        struct fm_rng *r = fm_rng_new(mix64(seed ^ 0x6d65616e67617073ULL));
        if (!r)
            return fm_err_set(err, FM_ENOMEM, "model source");
        for (unsigned i = 0; i < MEAN_GAP_DRAWS; i++)
            mean += mdl_mixture_sample(&m->side.iat, r);
        mean /= MEAN_GAP_DRAWS;
        fm_rng_free(r);
    }
    mean /= m->rate_scale;
    *out = isfinite(mean) && mean > 0.0 && mean < 3.0e8 ? (int64_t)llround(mean * 1e9) : 0;
    return FM_OK;
}

static int
check_opts(const struct mdl_model *md, const struct trx_model_opts *o, struct fm_err *err)
{
    if (o->side != MDL_SIDE_LOCAL && o->side != MDL_SIDE_REMOTE)
        return fm_err_set(err, FM_EINVAL, "side must be local or remote");
    if (o->streams < 1 || o->streams > MAX_STREAMS)
        return fm_err_set(err, FM_EINVAL,
                          "streams must be 1 to %d in one process, not %u (more: share them "
                          "over processes or hosts with mpirun, docs/SCALING.md)",
                          MAX_STREAMS, o->streams);
    if (o->total_streams &&
        (o->total_streams > MAX_TOTAL || o->first_stream > o->total_streams - o->streams ||
         o->streams > o->total_streams))
        return fm_err_set(
            err, FM_EINVAL, "streams %u..%u are not a share of %u streams (at most %d)",
            o->first_stream, o->first_stream + o->streams - 1, o->total_streams, MAX_TOTAL);
    if (!(isfinite(o->rate_scale) && o->rate_scale > 0.0))
        return fm_err_set(err, FM_EINVAL, "rate scale must be a positive number");
    if (o->duration_ns < 0 || o->stagger_ns < -1)
        return fm_err_set(err, FM_EINVAL, "duration and stagger cannot be negative");
    if ((o->have_src_ip || o->have_dst_ip) && o->ip_version != 4 && o->ip_version != 6)
        return fm_err_set(err, FM_EINVAL, "IP version must be 4 or 6");
    if (o->src_port > 65535 || o->dst_port > 65535)
        return fm_err_set(err, FM_EINVAL, "ports must be 0 to 65535");
    struct fm_err e2 = {0};
    if (mdl_variant_check(&o->variant, &e2) < 0)
        return fm_err_set(err, FM_EINVAL, "variant '%s': %s", o->variant.name, e2.msg);
    const struct mdl_side *sd = &md->sides[o->side];
    if (!sd->present)
        return fm_err_set(err, FM_EINVAL, "the %s side of the model sent no packets",
                          side_name(o->side));
    if (!sd->has_iat || !sd->has_payload)
        return fm_err_set(
            err, FM_EINVAL, "the %s side of the model has no model (only %llu packets)%s%s",
            side_name(o->side), (unsigned long long)sd->packets, sd->note[0] ? ": " : "", sd->note);
    return FM_OK;
}

/* Seed every stream: its generator, a nonzero SSRC distinct from the earlier streams', and
 * random RTP origins; then draw its first packet. */
static int init_streams(struct model_src *m,
                        const struct trx_model_opts *o,
                        int64_t stagger,
                        struct fm_err *err)
{
    uint64_t base = mix64(o->seed ^ ((uint64_t)o->side << 56));
    /* A share's SSRCs are those of the whole set: each is unique against every stream before
     * it in the set, so those before the share are drawn too (a few hashes each). */
    unsigned first = o->total_streams ? o->first_stream : 0;
    uint32_t *ssrc = calloc((size_t)first + m->n, sizeof(*ssrc));
    if (!ssrc)
        return fm_err_set(err, FM_ENOMEM, "model source");
    for (unsigned g = 0; g < first + m->n; g++) {
        uint64_t x = mix64(base + g);
        int unique = 0;
        while (!unique) {
            x = mix64(x);
            ssrc[g] = (uint32_t)(x >> 16);
            unique = ssrc[g] != 0;
            for (unsigned j = 0; j < g && unique; j++)
                unique = ssrc[j] != ssrc[g];
        }
    }
    for (unsigned i = 0; i < m->n; i++) {
        struct stream *s = &m->streams[i];
        unsigned g = first + i; /* the stream's number in the whole set */
        uint64_t h = mix64(base + g);
        s->index = g;
        s->rng = fm_rng_new(h);
        if (!s->rng) {
            free(ssrc);
            return fm_err_set(err, FM_ENOMEM, "model source");
        }
        s->ssrc = ssrc[g];
        s->rtp_seq = (uint16_t)fm_rng_below(s->rng, 65536);
        s->rtp_ts0 = (uint32_t)fm_rng_below(s->rng, (uint64_t)1 << 32);
        s->probe_seq = 0;
        s->first_ns = (int64_t)g * stagger;
        s->head_ns = s->first_ns;
        s->burst_start_ns = s->first_ns;
        s->new_burst = 1;
        if (m->seq) {
            /* The first packet's own gap means nothing: only its length and marker count. */
            mdl_seq_gen_init(&s->gen);
            draw_next(m, s);
        }
        draw_head(m, s);
        m->heap[i] = i;
    }
    free(ssrc);
    /* Staggered starts are already in heap order; the loop keeps ties and stagger 0 right. */
    for (unsigned i = m->n / 2; i-- > 0;)
        sift_down(m, i);
    return FM_OK;
}

int trx_source_model_new(const struct mdl_model *md,
                         const struct trx_model_opts *o,
                         struct trx_source **out,
                         struct fm_err *err)
{
    struct model_src *m = NULL;
    struct trx_source *src = NULL;
    int rc = check_opts(md, o, err);
    if (rc < 0)
        goto out;
    m = calloc(1, sizeof(*m));
    src = malloc(sizeof(*src));
    if (!m || !src) {
        rc = fm_err_set(err, FM_ENOMEM, "model source");
        goto out;
    }
    m->side = md->sides[o->side];
    m->variant = o->variant;
    m->rate_scale = o->variant.rate_scale * o->rate_scale;
    const struct mdl_headers *h = &m->side.headers;
    m->video = h->rtp && h->rtp_marker_ratio > MARKER_MIN_RATIO;
    m->seq = m->side.has_seq;
    m->frames = m->seq && m->video && m->side.seq.frames;
    m->ttl = (uint8_t)(o->variant.ttl >= 0 ? o->variant.ttl : h->ttl > 0 ? h->ttl : DEFAULT_TTL);
    m->dscp = (uint8_t)(o->variant.dscp >= 0 ? o->variant.dscp : h->dscp >= 0 ? h->dscp : 0);
    m->pt = (uint8_t)(o->variant.rtp_payload_type >= 0 ? o->variant.rtp_payload_type
                      : h->rtp                         ? h->rtp_payload_type
                                                       : DEFAULT_PT);
    m->count = o->count;
    m->duration_ns = o->duration_ns;
    rc = set_addr(m, md, o, err);
    if (rc < 0)
        goto out;
    int64_t stagger = o->stagger_ns;
    if (stagger < 0) {
        int64_t mean = 0;
        rc = mean_gap_ns(m, o->seed, &mean, err);
        if (rc < 0)
            goto out;
        stagger = mean / (int64_t)set_size(o);
    }
    if (set_size(o) > 1 && stagger > INT64_MAX / (int64_t)set_size(o)) {
        rc = fm_err_set(err, FM_EINVAL, "stagger is too large");
        goto out;
    }
    m->n = o->streams;
    m->streams = calloc(m->n, sizeof(*m->streams));
    m->heap = calloc(m->n, sizeof(*m->heap));
    if (!m->streams || !m->heap) {
        rc = fm_err_set(err, FM_ENOMEM, "model source");
        goto out;
    }
    rc = init_streams(m, o, stagger, err);
    if (rc < 0)
        goto out;
    src->ops = &model_ops;
    src->self = m;
    *out = src;
    src = NULL;
    m = NULL;
out:
    model_free(m);
    free(src);
    return rc;
}
