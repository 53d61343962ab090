/* estimator/flow.c - the flow table: bidirectional 5-tuples with per-side counters and,
 * for watched flows, per-side packet series.
 * An open-addressing hash table (linear probing, power-of-two size, doubled when half full)
 * whose slots hold each key as five words next to the flow pointer, so that a lookup usually
 * touches one cache line and never the flow itself. Flows live in fixed-size chunks that are
 * never moved or freed before the table, so the pointers handed out stay valid while the
 * table grows; est_flow.hnext is therefore unused (NULL). A slot also says which endpoint
 * of its key is the flow's local one, so a packet's side follows from the key's order alone.
 * The per-packet paths do no allocation (except when a new flow or a series needs room).
 * est_flow_table_add() remembers the last flow hit, since consecutive packets of a capture
 * often belong to the same flow; est_flow_table_add_many(), which the reader uses, fetches
 * the slots and flows of a batch of packets before it counts them, since with many flows
 * interleaved the table is rarely in the nearest cache (the reading itself streams the file
 * through it). */
#include "estimator/flow.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/num.h"

#define CHUNK_FLOWS    256
#define INITIAL_SLOTS  1024
#define SERIES_MIN_CAP 256
#define FLOW_PROTO_UDP 17
#define FLOW_PROTO_TCP 6
#define SPEC_MAX_TOKEN 128

/* A hint to start loading a cache line that will be needed soon; nothing on compilers
 * without the builtin. */
#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

struct chunk {
    struct chunk *next;
    size_t used;
    struct est_flow flows[CHUNK_FLOWS];
};

/* See struct kw below: the key as words. */
struct kw {
    uint64_t a0, a1, b0, b1, meta;
};

struct slot {
    struct kw w;
    struct est_flow *f; /* NULL: empty */
    int local_is_a;     /* 1 when the flow's local endpoint is the key's "a" (sorts first) */
};

struct est_flow_table {
    struct slot *slots;
    size_t nslots; /* a power of two, at least twice count */
    size_t count;
    struct chunk *chunks;  /* newest first */
    uint64_t packets;      /* packets added, the ordinal for first_seen */
    struct est_flow *last; /* the flow of the previous packet, its key and local_is_a */
    struct kw last_w;
    int last_local_is_a;
    int watch_all;
    struct pkt_flow_key *watch;
    size_t nwatch, capwatch;
    struct est_flow **sorted;
    size_t sorted_cap;
    int sorted_valid;
};

struct est_flow_table *est_flow_table_new(void)
{
    struct est_flow_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->slots = calloc(INITIAL_SLOTS, sizeof(*t->slots));
    if (!t->slots) {
        free(t);
        return NULL;
    }
    t->nslots = INITIAL_SLOTS;
    return t;
}

static void series_free(struct est_series *s)
{
    if (!s)
        return;
    free(s->ts_ns);
    free(s->payload_len);
    free(s->rtp_flags);
    free(s);
}

void est_flow_table_free(struct est_flow_table *t)
{
    if (!t)
        return;
    struct chunk *c = t->chunks;
    while (c) {
        struct chunk *next = c->next;
        for (size_t i = 0; i < c->used; i++) {
            series_free(c->flows[i].series[0]);
            series_free(c->flows[i].series[1]);
        }
        free(c);
        c = next;
    }
    free(t->slots);
    free(t->watch);
    free(t->sorted);
    free(t);
}

static uint64_t load64(const uint8_t *p)
{
    uint64_t v = 0;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* Big-endian load, so that comparing two of them orders bytes like memcmp() does; compilers
 * turn this pattern into one load and a byte swap. */
static uint64_t load64_be(const uint8_t *p)
{
    return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 |
           (uint64_t)p[3] << 32 | (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
           (uint64_t)p[6] << 8 | p[7];
}

/* A key as five words held in registers: both addresses (native byte order), and protocol,
 * version and both ports packed into the fifth. The per-packet lookup hashes and compares
 * these instead of building a struct pkt_flow_key in memory: writing the key's 16-bit ports
 * and then reading it back as 8-byte words stalls store forwarding, which cost more than the
 * rest of the lookup together. The slots of the table keep these words too. */

static uint64_t kw_meta(uint8_t ip_version, uint8_t proto, uint16_t aport, uint16_t bport)
{
    return (uint64_t)ip_version | (uint64_t)proto << 8 | (uint64_t)aport << 16 |
           (uint64_t)bport << 32;
}

static uint64_t kw_hash(const struct kw *w)
{
    uint64_t h = w->a0 * 0x9e3779b97f4a7c15u + w->a1 * 0xc2b2ae3d27d4eb4fu +
                 w->b0 * 0x165667b19e3779f9u + w->b1 * 0xd6e8feb86659fd93u +
                 w->meta * 0xff51afd7ed558ccdu;
    h ^= h >> 32;
    h *= 0x94d049bb133111ebu;
    return h ^ (h >> 29);
}

static int kw_equal(const struct kw *x, const struct kw *y)
{
    return ((x->a0 ^ y->a0) | (x->a1 ^ y->a1) | (x->b0 ^ y->b0) | (x->b1 ^ y->b1) |
            (x->meta ^ y->meta)) == 0;
}

/* The words of a packet's flow key; *src_first is 1 when the source is the key's "a". */
static inline void kw_from_pkt(struct kw *w, const struct pkt_decoded *p, int *src_first)
{
    uint64_t s0 = load64_be(p->src), d0 = load64_be(p->dst);
    uint64_t s1 = load64_be(p->src + 8), d1 = load64_be(p->dst + 8);
    /* Bitwise, not short-circuit: which way a packet goes is a coin toss to the CPU. */
    int sf = (s0 < d0) | ((s0 == d0) & ((s1 < d1) | ((s1 == d1) & (p->sport <= p->dport))));
    const uint8_t *lo = sf ? p->src : p->dst, *hi = sf ? p->dst : p->src;
    uint16_t lo_port = sf ? p->sport : p->dport, hi_port = sf ? p->dport : p->sport;
    w->a0 = load64(lo);
    w->a1 = load64(lo + 8);
    w->b0 = load64(hi);
    w->b1 = load64(hi + 8);
    w->meta = kw_meta(p->ip_version, p->proto, lo_port, hi_port);
    *src_first = sf;
}

/* The slot holding w (whose hash is h), or the empty slot where it would go. */
static inline struct slot *
probe_hashed(const struct est_flow_table *t, const struct kw *w, uint64_t h)
{
    size_t mask = t->nslots - 1;
    size_t i = (size_t)h & mask;
    /* Terminates: the table is never more than half full. */
    while (t->slots[i].f && !kw_equal(&t->slots[i].w, w))
        i = (i + 1) & mask;
    return &t->slots[i];
}

static struct slot *probe(const struct est_flow_table *t, const struct kw *w)
{
    return probe_hashed(t, w, kw_hash(w));
}

static int grow_slots(struct est_flow_table *t)
{
    struct est_flow_table bigger = *t;
    bigger.nslots = t->nslots * 2;
    bigger.slots = calloc(bigger.nslots, sizeof(*bigger.slots));
    if (!bigger.slots)
        return -1;
    for (size_t i = 0; i < t->nslots; i++) {
        if (t->slots[i].f)
            *probe(&bigger, &t->slots[i].w) = t->slots[i];
    }
    free(t->slots);
    t->slots = bigger.slots;
    t->nslots = bigger.nslots;
    return 0;
}

static struct est_flow *flow_alloc(struct est_flow_table *t)
{
    struct chunk *c = t->chunks;
    if (!c || c->used == CHUNK_FLOWS) {
        c = calloc(1, sizeof(*c));
        if (!c)
            return NULL;
        c->next = t->chunks;
        t->chunks = c;
    }
    return &c->flows[c->used++];
}

static int is_watched(const struct est_flow_table *t, const struct pkt_flow_key *k)
{
    if (t->watch_all)
        return 1;
    for (size_t i = 0; i < t->nwatch; i++) {
        if (pkt_flow_key_equal(&t->watch[i], k))
            return 1;
    }
    return 0;
}

int est_flow_table_watch(struct est_flow_table *t,
                         const struct pkt_flow_key *key,
                         struct fm_err *err)
{
    if (!key) {
        t->watch_all = 1;
    } else {
        if (t->nwatch == t->capwatch) {
            size_t cap = t->capwatch ? t->capwatch * 2 : 4;
            struct pkt_flow_key *w = realloc(t->watch, cap * sizeof(*w));
            if (!w)
                return fm_err_set(err, FM_ENOMEM, "flow watch list");
            t->watch = w;
            t->capwatch = cap;
        }
        t->watch[t->nwatch++] = *key;
    }
    /* Flows that already exist are marked too; their series start with the next packet. */
    for (struct chunk *c = t->chunks; c; c = c->next) {
        for (size_t i = 0; i < c->used; i++) {
            struct est_flow *f = &c->flows[i];
            if (!key || pkt_flow_key_equal(&f->key, key))
                f->keep_series = 1;
        }
    }
    return FM_OK;
}

int est_flow_table_keeps_series(const struct est_flow_table *t)
{
    return t->watch_all || t->nwatch > 0;
}

static int series_append(struct est_series *s, const struct pkt_decoded *p)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : SERIES_MIN_CAP;
        int64_t *ts = realloc(s->ts_ns, cap * sizeof(*ts));
        if (!ts)
            return -1;
        s->ts_ns = ts;
        uint32_t *len = realloc(s->payload_len, cap * sizeof(*len));
        if (!len)
            return -1;
        s->payload_len = len;
        uint8_t *fl = realloc(s->rtp_flags, cap);
        if (!fl)
            return -1;
        s->rtp_flags = fl;
        s->cap = cap;
    }
    s->ts_ns[s->n] = p->ts_ns;
    s->payload_len[s->n] = p->payload_len;
    uint8_t *flags = &s->rtp_flags[s->n];
    *flags = 0;
    s->n++;
    s->ttl_hist[p->ttl]++;
    s->dscp_hist[p->dscp & 0x3fu]++;
    if (p->proto == FLOW_PROTO_UDP && p->rtp.valid) {
        const struct pkt_rtp *r = &p->rtp;
        s->rtp_valid++;
        s->rtp_pt_hist[r->payload_type & 0x7fu]++;
        *flags = (uint8_t)(EST_RTP_VALID | (r->marker ? EST_RTP_MARKER : 0u) |
                           (s->rtp_seen && r->timestamp == s->rtp_last_ts ? EST_RTP_SAME_TS : 0u));
        s->rtp_last_ts = r->timestamp;
        if (r->marker)
            s->rtp_marker++;
        if (!s->rtp_seen) {
            /* The first RTP packet defines the side's stream; it matches itself. */
            s->rtp_seen = 1;
            s->rtp_first_ssrc = r->ssrc;
            s->rtp_ssrc_match++;
        } else {
            if (r->ssrc == s->rtp_first_ssrc)
                s->rtp_ssrc_match++;
            if (r->seq == (uint16_t)(s->rtp_last_seq + 1u))
                s->rtp_seq_next++;
        }
        s->rtp_last_seq = r->seq;
    }
    return 0;
}

/* A new flow for the packet p whose key words are w, in the empty slot sl (or, when the
 * table grows, in the one that replaces it): returns the slot filled, or NULL (FM_ENOMEM
 * in err). */
static struct slot *flow_insert(struct est_flow_table *t,
                                struct slot *sl,
                                const struct kw *w,
                                int src_first,
                                const struct pkt_decoded *p,
                                struct fm_err *err)
{
    if (2 * (t->count + 1) > t->nslots) {
        if (grow_slots(t) < 0) {
            fm_err_set(err, FM_ENOMEM, "flow table of %zu flows", t->count);
            return NULL;
        }
        sl = probe(t, w);
    }
    struct est_flow *f = flow_alloc(t);
    if (!f) {
        fm_err_set(err, FM_ENOMEM, "flow table of %zu flows", t->count);
        return NULL;
    }
    /* flow_alloc() returns zeroed memory (calloc'd chunks), so the key's bytes are all
     * defined, as comparing keys as words requires. */
    struct pkt_endpoint src, dst;
    memcpy(src.addr, p->src, sizeof(src.addr));
    src.port = p->sport;
    memcpy(dst.addr, p->dst, sizeof(dst.addr));
    dst.port = p->dport;
    pkt_flow_key_make(&f->key, p->ip_version, p->proto, &src, &dst);
    f->ip_version = p->ip_version;
    f->proto = p->proto;
    f->local = src; /* the first packet's sender */
    f->remote = dst;
    f->first_seen = t->packets;
    f->keep_series = is_watched(t, &f->key);
    sl->w = *w;
    sl->f = f;
    /* The sender of the first packet is "a" exactly when it sorts first. */
    sl->local_is_a = src_first;
    t->count++;
    return sl;
}

/* The slot of the packet p whose key words are w (hash h), its flow created when new. */
static struct slot *find_or_insert(struct est_flow_table *t,
                                   const struct pkt_decoded *p,
                                   const struct kw *w,
                                   uint64_t h,
                                   int src_first,
                                   struct fm_err *err)
{
    struct slot *sl = probe_hashed(t, w, h);
    return sl->f ? sl : flow_insert(t, sl, w, src_first, p, err);
}

/* Count the packet p on one side of its flow f. The packet comes from the local side when
 * its source is the key's endpoint that the local one is; when both endpoints are one (a
 * flow to itself) the source always sorts first, as the first packet's did: all local. */
static inline int account(struct est_flow_table *t,
                          struct est_flow *f,
                          int side,
                          const struct pkt_decoded *p,
                          struct fm_err *err)
{
    t->packets++;
    struct est_side *sd = &f->side[side];
    if (sd->packets == 0) {
        sd->first_ts_ns = p->ts_ns;
        sd->last_ts_ns = p->ts_ns;
    } else if (p->ts_ns < sd->first_ts_ns) {
        /* Captures merged from several interfaces are not always in time order. */
        sd->first_ts_ns = p->ts_ns;
    } else if (p->ts_ns > sd->last_ts_ns) {
        sd->last_ts_ns = p->ts_ns;
    }
    sd->packets++;
    sd->bytes += p->payload_len;

    if (f->keep_series) {
        if (!f->series[side]) {
            /* Allocated on the side's first packet: the histograms make a series a few KiB,
             * which a one-way flow should not pay twice. */
            f->series[side] = calloc(1, sizeof(*f->series[side]));
            if (!f->series[side])
                return fm_err_set(err, FM_ENOMEM, "packet series of a flow");
        }
        if (series_append(f->series[side], p) < 0)
            return fm_err_set(err, FM_ENOMEM, "packet series of %zu packets", f->series[side]->n);
    }
    return FM_OK;
}

int est_flow_table_add(struct est_flow_table *t, const struct pkt_decoded *p, struct fm_err *err)
{
    struct kw w;
    int src_first = 0;
    kw_from_pkt(&w, p, &src_first);

    t->sorted_valid = 0;
    /* Consecutive packets of a capture often belong to one flow: then no hash, no probe. */
    if (!t->last || !kw_equal(&w, &t->last_w)) {
        const struct slot *sl = find_or_insert(t, p, &w, kw_hash(&w), src_first, err);
        if (!sl)
            return FM_ENOMEM;
        t->last = sl->f;
        t->last_w = w;
        t->last_local_is_a = sl->local_is_a;
    }
    return account(t, t->last, src_first != t->last_local_is_a, p, err);
}

/* est_flow_table_add_many() for m <= EST_FLOW_ADD_BATCH packets. Asking for every
 * packet's slot, then for every slot's flow, before touching any of them lets the loads
 * overlap instead of waiting for each in turn: with many flows interleaved they are rarely
 * in the nearest cache. Hints only: the third pass probes for real (the table may grow
 * within the batch). */
static int
add_batch(struct est_flow_table *t, const struct pkt_decoded *b, size_t m, struct fm_err *err)
{
    struct {
        struct kw w;
        uint64_t h;
        int src_first;
    } q[EST_FLOW_ADD_BATCH];
    size_t mask = t->nslots - 1;

    for (size_t j = 0; j < m; j++) {
        kw_from_pkt(&q[j].w, &b[j], &q[j].src_first);
        q[j].h = kw_hash(&q[j].w);
        PREFETCH(&t->slots[q[j].h & mask]);
    }
    for (size_t j = 0; j < m; j++) {
        const struct slot *sl = &t->slots[q[j].h & mask];
        if (sl->f)
            PREFETCH(&sl->f->side[q[j].src_first != sl->local_is_a]);
    }
    for (size_t j = 0; j < m; j++) {
        const struct slot *sl = find_or_insert(t, &b[j], &q[j].w, q[j].h, q[j].src_first, err);
        if (!sl)
            return FM_ENOMEM;
        int rc = account(t, sl->f, q[j].src_first != sl->local_is_a, &b[j], err);
        if (rc < 0)
            return rc;
    }
    return FM_OK;
}

int est_flow_table_add_many(struct est_flow_table *t,
                            const struct pkt_decoded *p,
                            size_t n,
                            struct fm_err *err)
{
    if (n > 0)
        t->sorted_valid = 0;
    for (size_t i = 0; i < n; i += EST_FLOW_ADD_BATCH) {
        size_t left = n - i;
        int rc = add_batch(t, p + i, left < EST_FLOW_ADD_BATCH ? left : EST_FLOW_ADD_BATCH, err);
        if (rc < 0)
            return rc;
    }
    return FM_OK;
}

size_t est_flow_table_count(const struct est_flow_table *t)
{
    return t->count;
}

static int flow_order(const void *x, const void *y)
{
    const struct est_flow *f = *(struct est_flow *const *)x;
    const struct est_flow *g = *(struct est_flow *const *)y;
    uint64_t nf = f->side[0].packets + f->side[1].packets;
    uint64_t ng = g->side[0].packets + g->side[1].packets;
    if (nf != ng)
        return nf > ng ? -1 : 1;
    /* first_seen is unique per flow, so the order is total and qsort() deterministic. */
    return (f->first_seen > g->first_seen) - (f->first_seen < g->first_seen);
}

struct est_flow *const *est_flow_table_sorted(struct est_flow_table *t, size_t *n)
{
    if (t->sorted_valid) {
        *n = t->count;
        return t->sorted;
    }
    if (t->sorted_cap < t->count || !t->sorted) {
        size_t cap = t->count ? t->count : 1;
        struct est_flow **s = realloc(t->sorted, cap * sizeof(struct est_flow *));
        if (!s)
            return NULL;
        t->sorted = s;
        t->sorted_cap = cap;
    }
    size_t i = 0;
    for (struct chunk *c = t->chunks; c; c = c->next) {
        for (size_t j = 0; j < c->used; j++)
            t->sorted[i++] = &c->flows[j];
    }
    qsort(t->sorted, t->count, sizeof(struct est_flow *), flow_order);
    t->sorted_valid = 1;
    *n = t->count;
    return t->sorted;
}

void est_flow_format_spec(const struct est_flow *f, char *buf, size_t size)
{
    char l[64], r[64];
    pkt_endpoint_format(f->ip_version, &f->local, l, sizeof(l));
    pkt_endpoint_format(f->ip_version, &f->remote, r, sizeof(r));
    const char *name = pkt_proto_name(f->proto);
    if (name)
        snprintf(buf, size, "%s %s %s", name, l, r);
    else
        snprintf(buf, size, "proto-%u %s %s", (unsigned)f->proto, l, r);
}
