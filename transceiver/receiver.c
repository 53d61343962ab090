/* transceiver/receiver.c - per-stream receive statistics, and the socket and capture I/O that
 * feeds them. Specifications: RFC 3550 (RTP header 5.1, sequence extension A.1, interarrival
 * jitter 6.4.1 and A.8), RFC 3551 (static payload type clock rates), RFC 768 (UDP), RFC 791
 * (IPv4), RFC 8200 (IPv6). */

/* recvmmsg() and struct in6_pktinfo are GNU extensions of glibc. */
#define _GNU_SOURCE /* NOLINT(bugprone-reserved-identifier): the macro glibc reads */

#include "transceiver/receiver.h"
#include "transceiver/receiver_int.h"

#include "common/buf.h"
#include "common/file.h"
#include "common/hist.h"
#include "common/inet.h"
#include "common/time.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ======================================================================================
 * Statistics engine
 * ====================================================================================== */

/* Latest second a timestamp in ns since the epoch can hold (year 2262). */
#define TS_SEC_MAX (INT64_MAX / FM_NS_PER_SEC - 1)

/* Sequence numbers remembered for duplicate detection, as a bitmap behind the highest. */
#define SEQ_WINDOW 4096
#define RTCP_FIRST 200
#define RTCP_LAST  204
#define SEQ_MOD    65536
/* RFC 3550 A.1's constants: a step forward below MAX_DROPOUT is taken as it reads, a step
 * back within MAX_MISORDER is a late packet, MIN_SEQUENTIAL packets in sequence end the
 * probation. */
#define MAX_DROPOUT    3000
#define MAX_MISORDER   100
#define MIN_SEQUENTIAL 2
/* Sequence numbers a run needs behind it before its rate may size a jump. */
#define RATE_MIN_STEPS 8
/* Extended numbers stay within +-2^62, so that no step (at most 2^40 + 2^31) overflows. */
#define EXT_LIMIT ((int64_t)1 << 62)

struct skey {
    uint8_t ipv;
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    uint8_t rtp;
    uint32_t ssrc;
};

struct rstream {
    struct skey key;
    uint8_t pt;
    uint32_t clock_hz;
    uint64_t packets, bytes;

    /* Sequence numbers, extended to 64 bits (RFC 3550 A.1). A run is what lies between two
     * restarts; expected_prior sums the runs before the current one. */
    int have_seq;
    unsigned probation; /* in-sequence packets still needed (A.1's probation) */
    int64_t seq_max;    /* highest extended number of the run */
    int64_t run_min;    /* lowest of the run */
    int64_t run_first;  /* the number the run started with, and its arrival */
    int64_t run_first_ns;
    int64_t max_ns; /* arrival of the packet that set seq_max */
    uint64_t expected_prior;
    uint64_t placed; /* packets given a number, duplicates included */
    uint64_t reordered, duplicates, stray, restarts;
    uint64_t seen[SEQ_WINDOW / 64];

    /* A large jump held until the next packet confirms it (A.1's bad_seq). */
    int pending;
    int pend_restart; /* its probe did not step with the RTP number: a restart for sure */
    int pend_probe;
    uint16_t pend_seq;
    uint32_t pend_probe_seq;
    int64_t pend_ns;

    /* The last packet that carried a probe: the probe's 32-bit number and its extended RTP
     * number, from which the next probe's number places a packet exactly. */
    int have_anchor;
    uint32_t anchor_probe;
    int64_t anchor_ext;

    /* RFC 3550 A.8 on RTP timestamps (units of the RTP clock). */
    int have_prev_rtp;
    int64_t prev_rtp_arrival;
    uint32_t prev_rtp_ts;
    double jitter;

    /* The same on the probes' send times (ns), and one-way delay. */
    uint64_t probes;
    int64_t prev_probe_arrival, prev_probe_send;
    double probe_jitter_ns;
    int64_t owd_min, owd_max;
    double owd_mean;

    int64_t first_ns, last_ns;
    uint64_t time_backwards;
    int64_t iat_max;
    uint64_t iat_sum; /* of gaps clamped at 0 */
    uint32_t len_min, len_max;
    uint64_t len_sum;
    struct fm_hist iat, len;
};

struct trx_rstats {
    struct trx_rstats_opts o;
    struct rstream *v; /* in order of first arrival; moves as it grows, so keep indexes */
    size_t n, cap;
    size_t *slots; /* open addressing: index + 1 into v, 0 = empty */
    size_t nslots; /* power of two, at least twice n */
    uint64_t rtcp, over_cap;
};

void trx_rstats_opts_init(struct trx_rstats_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->max_streams = TRX_RSTATS_MAX_STREAMS;
}

uint32_t trx_rtp_clock_rate(uint8_t pt)
{
    switch (pt) {
    case 0:  /* PCMU */
    case 3:  /* GSM */
    case 4:  /* G723 */
    case 5:  /* DVI4 */
    case 7:  /* LPC */
    case 8:  /* PCMA */
    case 9:  /* G722: 8000 by RFC 3551's own erratum-preserving rule */
    case 12: /* QCELP */
    case 13: /* CN */
    case 15: /* G728 */
    case 18: /* G729 */
        return 8000;
    case 6:
        return 16000;
    case 10:
    case 11:
        return 44100;
    case 16:
        return 11025;
    case 17:
        return 22050;
    default:
        /* 14 (MPA), 25-34 (video) and the dynamic range 96-127 are 90 kHz; dynamic types
         * are a guess, which is why the probe's jitter exists. */
        return 90000;
    }
}

struct trx_rstats *trx_rstats_new(const struct trx_rstats_opts *o)
{
    struct trx_rstats *rs = calloc(1, sizeof(*rs));
    if (!rs)
        return NULL;
    if (o)
        rs->o = *o;
    else
        trx_rstats_opts_init(&rs->o);
    if (rs->o.max_streams == 0)
        rs->o.max_streams = TRX_RSTATS_MAX_STREAMS;
    return rs;
}

static void rstream_fini(struct rstream *s)
{
    fm_hist_fini(&s->iat);
    fm_hist_fini(&s->len);
}

void trx_rstats_free(struct trx_rstats *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->n; i++)
        rstream_fini(&rs->v[i]);
    free(rs->v);
    free(rs->slots);
    free(rs);
}

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Hash the fields one by one, so padding never takes part. */
static size_t key_hash(const struct skey *k)
{
    uint8_t tail[10] = {
        k->ipv,
        k->rtp,
        (uint8_t)(k->sport >> 8),
        (uint8_t)k->sport,
        (uint8_t)(k->dport >> 8),
        (uint8_t)k->dport,
        (uint8_t)(k->ssrc >> 24),
        (uint8_t)(k->ssrc >> 16),
        (uint8_t)(k->ssrc >> 8),
        (uint8_t)k->ssrc,
    };
    uint64_t h = fnv(14695981039346656037ULL, k->src, 16);
    h = fnv(h, k->dst, 16);
    h = fnv(h, tail, sizeof(tail));
    return (size_t)(h ^ (h >> 32));
}

static int key_eq(const struct skey *a, const struct skey *b)
{
    return a->ipv == b->ipv && a->rtp == b->rtp && a->sport == b->sport && a->dport == b->dport &&
           a->ssrc == b->ssrc && memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0;
}

/* Rebuild the slot table at nslots (a power of two above 2 n). */
static int rehash(struct trx_rstats *rs, size_t nslots)
{
    size_t *slots = calloc(nslots, sizeof(*slots));
    if (!slots)
        return -1;
    for (size_t i = 0; i < rs->n; i++) {
        size_t h = key_hash(&rs->v[i].key) & (nslots - 1);
        while (slots[h])
            h = (h + 1) & (nslots - 1);
        slots[h] = i + 1;
    }
    free(rs->slots);
    rs->slots = slots;
    rs->nslots = nslots;
    return 0;
}

/* The stream for k: found, or created (valid until the next call, which may move it). *out is
 * NULL (and FM_OK returned) when the cap on streams is reached. */
static int stream_get(struct trx_rstats *rs, const struct skey *k, struct rstream **out)
{
    *out = NULL;
    if (rs->nslots) {
        size_t h = key_hash(k) & (rs->nslots - 1);
        while (rs->slots[h]) {
            struct rstream *s = &rs->v[rs->slots[h] - 1];
            if (key_eq(&s->key, k)) {
                *out = s;
                return FM_OK;
            }
            h = (h + 1) & (rs->nslots - 1);
        }
    }
    if (rs->n >= rs->o.max_streams)
        return FM_OK;
    if (rs->n == rs->cap) {
        size_t ncap = rs->cap ? rs->cap * 2 : 8;
        struct rstream *nv = realloc(rs->v, ncap * sizeof(*nv));
        if (!nv)
            return FM_ENOMEM;
        rs->v = nv;
        rs->cap = ncap;
    }
    if (2 * (rs->n + 1) > rs->nslots && rehash(rs, rs->nslots ? rs->nslots * 2 : 16) < 0)
        return FM_ENOMEM;
    struct rstream *s = &rs->v[rs->n++];
    memset(s, 0, sizeof(*s));
    s->key = *k;
    fm_hist_init(&s->iat, TRX_RSTATS_GAP_BITS);
    fm_hist_init(&s->len, TRX_RSTATS_LEN_BITS);
    size_t h = key_hash(k) & (rs->nslots - 1);
    while (rs->slots[h])
        h = (h + 1) & (rs->nslots - 1);
    rs->slots[h] = rs->n;
    *out = s;
    return FM_OK;
}

static int seen_get(const struct rstream *s, int64_t ext)
{
    uint64_t b = (uint64_t)ext & (SEQ_WINDOW - 1);
    return (int)((s->seen[b / 64] >> (b % 64)) & 1u);
}

static void seen_set(struct rstream *s, int64_t ext, int on)
{
    uint64_t b = (uint64_t)ext & (SEQ_WINDOW - 1);
    if (on)
        s->seen[b / 64] |= (uint64_t)1 << (b % 64);
    else
        s->seen[b / 64] &= ~((uint64_t)1 << (b % 64));
}

/* Start a run at seq: the stream's first packet, or a sender that restarted, whose earlier
 * run keeps what it expected. Nothing refers to the old run's numbers any more (the window,
 * the anchor and a held jump are cleared), so the new one is numbered from seq again. */
static void run_start(struct rstream *s, uint16_t seq, int64_t arrival_ns)
{
    int64_t ext = seq;
    if (s->have_seq) {
        s->expected_prior += (uint64_t)(s->seq_max - s->run_min) + 1;
        s->restarts++;
    }
    s->pending = 0;
    memset(s->seen, 0, sizeof(s->seen));
    s->have_seq = 1;
    s->probation = MIN_SEQUENTIAL - 1;
    s->seq_max = ext;
    s->run_min = ext;
    s->run_first = ext;
    s->run_first_ns = arrival_ns;
    s->max_ns = arrival_ns;
    s->have_anchor = 0;
    seen_set(s, ext, 1);
    s->placed++;
}

/* Account a packet numbered ext in the current run; returns 1 for a duplicate. */
static int seq_place(struct rstream *s, int64_t ext, int64_t arrival_ns)
{
    if (ext > s->seq_max) {
        if (ext == s->seq_max + 1 && s->probation > 0)
            s->probation--;
        /* Forget what the window slides past, so old bits never read as duplicates. */
        if (ext - s->seq_max >= SEQ_WINDOW) {
            memset(s->seen, 0, sizeof(s->seen));
        } else {
            for (int64_t e = s->seq_max + 1; e <= ext; e++)
                seen_set(s, e, 0);
        }
        s->seq_max = ext;
        s->max_ns = arrival_ns;
        seen_set(s, ext, 1);
        s->placed++;
        return 0;
    }
    if (ext < s->run_min - MAX_MISORDER) {
        /* From before the run began (only a probe can say so): in no sequence we count. */
        s->stray++;
        return 0;
    }
    s->placed++;
    if (ext < s->run_min)
        s->run_min = ext;
    if (s->seq_max - ext >= SEQ_WINDOW) {
        /* Too late to tell a duplicate from a straggler: counted as reordered. */
        s->reordered++;
    } else if (seen_get(s, ext)) {
        s->duplicates++;
        return 1;
    } else {
        seen_set(s, ext, 1);
        s->reordered++;
    }
    return 0;
}

/* A held jump that the next packet did not confirm: a straggler when, read the short way
 * round, it falls back inside the run; otherwise a stray. */
static void pending_drop(struct rstream *s)
{
    int d = (int)((s->pend_seq - (uint16_t)s->seq_max) & 0xffffu);
    if (d >= SEQ_MOD / 2)
        d -= SEQ_MOD;
    s->pending = 0;
    if (d < 0 && !s->pend_restart && s->seq_max + d >= s->run_min)
        (void)seq_place(s, s->seq_max + d, s->pend_ns);
    else
        s->stray++;
}

/* A held jump confirmed by the next packet: how far forward it went, in numbers (the
 * 16-bit step plus whole wraps), from the time it took at the run's rate; 0 when it was a
 * restart instead. */
static int64_t jump_size(const struct rstream *s)
{
    if (s->pend_restart)
        return 0;
    int64_t steps = s->seq_max - s->run_first;
    int64_t dur = s->max_ns - s->run_first_ns;
    if (steps < RATE_MIN_STEPS || dur <= 0)
        return 0; /* no rate to judge by: re-sync as A.1 does */
    double step_ns = (double)dur / (double)steps;
    double n_est = ((double)s->pend_ns - (double)s->max_ns) / step_ns;
    double d = (double)((s->pend_seq - (uint16_t)s->seq_max) & 0xffffu);
    double k = floor((n_est - d) / SEQ_MOD + 0.5);
    if (k < 0)
        k = 0;
    /* More wraps than 2^40 numbers is no burst of loss any stream had. */
    if (k > 16777216.0)
        return 0;
    double n = d + k * SEQ_MOD;
    /* Too soon for that many packets at the run's rate: the sender started again. */
    if (n_est < n / 2)
        return 0;
    return (int64_t)n;
}

/* Whole wraps of the 16-bit number hidden in a short step d forward (0 <= d < MAX_DROPOUT):
 * when the time since the highest number is worth at least half a wrap more than d at the
 * run's rate, the nearest d + k * 65536 numbers went by (k * 65536 is returned). A talkspurt
 * of audio (marker set after silence suppression, RFC 3551 4.1) took its time in silence,
 * not in loss; a run without a rate cannot tell. */
static int64_t hidden_wraps(const struct rstream *s, unsigned d, int64_t now, int talkspurt)
{
    int64_t steps = s->seq_max - s->run_first;
    int64_t dur = s->max_ns - s->run_first_ns;
    if (talkspurt || s->probation > 0 || steps < RATE_MIN_STEPS || dur <= 0)
        return 0;
    double n_est = ((double)now - (double)s->max_ns) / ((double)dur / (double)steps);
    if (n_est < (double)d + (double)SEQ_MOD / 2)
        return 0;
    double k = floor((n_est - (double)d) / SEQ_MOD + 0.5);
    if (k > 16777216.0)
        return 0;
    return (int64_t)k * SEQ_MOD;
}

static void anchor_set(struct rstream *s, const struct trx_probe *pr, int64_t ext)
{
    if (!pr)
        return;
    s->have_anchor = 1;
    s->anchor_probe = pr->seq;
    s->anchor_ext = ext;
}

/* Account an RTP sequence number (and the probe's, pr when not NULL); returns 1 when the
 * packet is a duplicate. */
static int
seq_update(struct rstream *s, uint16_t seq, const struct trx_probe *pr, int64_t now, int talkspurt)
{
    if (!s->have_seq) {
        run_start(s, seq, now);
        anchor_set(s, pr, s->seq_max);
        return 0;
    }
    if (s->pending) {
        int follows = seq == (uint16_t)(s->pend_seq + 1) &&
                      (!pr || !s->pend_probe || pr->seq == s->pend_probe_seq + 1);
        if (!follows) {
            pending_drop(s);
        } else {
            /* Two packets in sequence after a jump (A.1's bad_seq): place the first. */
            int64_t n = jump_size(s);
            s->pending = 0;
            if (n > 0 && s->seq_max + n <= EXT_LIMIT) {
                (void)seq_place(s, s->seq_max + n, s->pend_ns);
            } else {
                run_start(s, s->pend_seq, s->pend_ns);
                s->probation = 0; /* the two packets are the proof */
            }
            if (s->pend_probe) {
                s->have_anchor = 1;
                s->anchor_probe = s->pend_probe_seq;
                s->anchor_ext = s->seq_max;
            }
        }
    }
    int restart = 0;
    int64_t ext = 0;
    if (pr && s->have_anchor) {
        /* The probe's 32-bit number places the packet exactly, as long as it steps with the
         * RTP number; when it does not, the sender started again. */
        int64_t d = (int64_t)(uint32_t)(pr->seq - s->anchor_probe);
        if (d >= ((int64_t)1 << 31))
            d -= (int64_t)1 << 32; /* the short way round the 32-bit circle */
        ext = s->anchor_ext + d;
        if (((uint64_t)ext & 0xffffu) != seq)
            restart = 1;
    } else {
        unsigned d = (unsigned)((seq - (uint16_t)s->seq_max) & 0xffffu);
        if (d < MAX_DROPOUT) {
            ext = s->seq_max + d + hidden_wraps(s, d, now, talkspurt);
        } else if (d > SEQ_MOD - MAX_MISORDER) {
            ext = s->seq_max - (SEQ_MOD - (int64_t)d);
        } else {
            restart = -1; /* a large jump: held */
        }
    }
    if (restart == 0 && (ext > EXT_LIMIT || ext < -EXT_LIMIT)) {
        /* Only a hostile sender gets here (2^62 numbers): start again rather than
         * overflow. */
        run_start(s, seq, now);
        anchor_set(s, pr, s->seq_max);
        return 0;
    }
    if (restart == 0) {
        int dup = seq_place(s, ext, now);
        anchor_set(s, pr, ext);
        return dup;
    }
    if (s->probation > 0) {
        /* Not yet a stream whose numbers can be trusted: start again here. */
        run_start(s, seq, now);
        anchor_set(s, pr, s->seq_max);
        return 0;
    }
    s->pending = 1;
    s->pend_restart = restart > 0;
    s->pend_seq = seq;
    s->pend_ns = now;
    s->pend_probe = pr != NULL;
    s->pend_probe_seq = pr ? pr->seq : 0;
    return 0;
}

/* RFC 3550 A.8: J += (|D| - J) / 16, D the difference of relative transit times of two
 * packets in arrival order. Here D = (R_j - R_i) - (S_j - S_i), both in clock units. */
static double jitter_step(double j, double d)
{
    return j + (fabs(d) - j) / 16.0;
}

int trx_rstats_add(struct trx_rstats *rs,
                   const struct trx_addr *a,
                   const uint8_t *payload,
                   size_t cap,
                   size_t len,
                   int64_t arrival_ns,
                   struct fm_err *err)
{
    struct skey k;
    memset(&k, 0, sizeof(k));
    k.ipv = a->ip_version;
    memcpy(k.src, a->src, a->ip_version == 4 ? 4 : 16);
    memcpy(k.dst, a->dst, a->ip_version == 4 ? 4 : 16);
    k.sport = a->sport;
    k.dport = a->dport;
    if (cap > len)
        cap = len;
    if (arrival_ns < 0)
        arrival_ns = 0;

    /* RTP (RFC 3550 5.1): V=2, then M|PT, sequence, timestamp, SSRC. RTCP shares the
     * version bits; its packet types 200..204 sit where M|PT would be. */
    struct fm_rd rd;
    fm_rd_init(&rd, payload, cap);
    uint8_t b0 = 0;
    uint8_t b1 = 0;
    uint16_t seq = 0;
    uint32_t ts = 0;
    int rtp = 0;
    if (fm_rd_u8(&rd, &b0) == 0 && (b0 >> 6) == 2 && fm_rd_u8(&rd, &b1) == 0) {
        if (b1 >= RTCP_FIRST && b1 <= RTCP_LAST) {
            rs->rtcp++;
            return FM_OK;
        }
        rtp = fm_rd_be16(&rd, &seq) == 0 && fm_rd_be32(&rd, &ts) == 0 &&
              fm_rd_be32(&rd, &k.ssrc) == 0;
    }
    k.rtp = (uint8_t)rtp;
    if (!rtp)
        k.ssrc = 0;

    struct rstream *s = NULL;
    if (stream_get(rs, &k, &s) < 0)
        return fm_err_set(err, FM_ENOMEM, "receive statistics: out of memory");
    if (!s) {
        rs->over_cap++;
        return FM_OK;
    }

    int64_t gap = 0;
    int back = 0;
    if (s->packets > 0) {
        gap = arrival_ns - s->last_ns;
        if (gap < 0) {
            /* Kernel timestamps go back when packets stamped on one CPU are delivered after
             * packets stamped later on another (loopback and RPS backlogs under load, capture
             * across CPUs). Counted, and seen as back-to-back. */
            back = 1;
            gap = 0;
        }
    }
    /* The histograms first: their buckets are the only thing that can fail to allocate, and
     * a failed packet is then not counted anywhere. */
    uint32_t len32 = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
    if ((s->packets > 0 && fm_hist_reserve(&s->iat, gap) < 0) ||
        fm_hist_reserve(&s->len, len32) < 0)
        return fm_err_set(err, FM_ENOMEM, "receive statistics: out of memory");
    if (s->packets > 0)
        (void)fm_hist_add(&s->iat, gap);
    (void)fm_hist_add(&s->len, len32);

    if (s->packets == 0) {
        s->first_ns = arrival_ns;
        s->len_min = len32;
        s->len_max = len32;
    } else {
        if (gap > s->iat_max)
            s->iat_max = gap;
        s->iat_sum += (uint64_t)gap;
        if (len32 < s->len_min)
            s->len_min = len32;
        if (len32 > s->len_max)
            s->len_max = len32;
    }
    /* A clock stepping back must not move the last arrival back with it. */
    if (s->packets == 0 || arrival_ns > s->last_ns)
        s->last_ns = arrival_ns;
    s->time_backwards += (uint64_t)back;
    s->packets++;
    s->bytes += len;
    s->len_sum += len;

    struct trx_probe pr;
    int probe = rtp && trx_probe_decode(payload, cap, &pr) == 1;
    if (rtp) {
        s->pt = b1 & 0x7f;
        s->clock_hz = rs->o.clock_rate_hz ? rs->o.clock_rate_hz : trx_rtp_clock_rate(s->pt);
        /* Marker on audio: the first packet of a talkspurt (RFC 3551 4.1). */
        int talkspurt = (b1 & 0x80) && s->clock_hz < 90000;
        int dup = seq_update(s, seq, probe ? &pr : NULL, arrival_ns, talkspurt);
        if (!dup) {
            if (s->have_prev_rtp) {
                double r = (double)(arrival_ns - s->prev_rtp_arrival) * (double)s->clock_hz / 1e9;
                /* The timestamp difference, taken the short way round its 32-bit circle. */
                double st = (double)(int32_t)(uint32_t)(ts - s->prev_rtp_ts);
                s->jitter = jitter_step(s->jitter, r - st);
            }
            s->have_prev_rtp = 1;
            s->prev_rtp_arrival = arrival_ns;
            s->prev_rtp_ts = ts;
        }
    }

    if (probe) {
        int64_t owd = arrival_ns - pr.send_time_ns;
        if (s->probes == 0) {
            s->owd_min = owd;
            s->owd_max = owd;
            s->owd_mean = (double)owd;
        } else {
            if (owd < s->owd_min)
                s->owd_min = owd;
            if (owd > s->owd_max)
                s->owd_max = owd;
            /* A running mean stays exact enough even when the raw delays are huge (clocks
             * that disagree), where a sum would lose the small differences. */
            s->owd_mean += ((double)owd - s->owd_mean) / (double)(s->probes + 1);
            /* Both differences are of non-negative times: no overflow. */
            double d = (double)(arrival_ns - s->prev_probe_arrival) -
                       (double)(pr.send_time_ns - s->prev_probe_send);
            s->probe_jitter_ns = jitter_step(s->probe_jitter_ns, d);
        }
        s->probes++;
        s->prev_probe_arrival = arrival_ns;
        s->prev_probe_send = pr.send_time_ns;
    }
    return FM_OK;
}

size_t trx_rstats_count(const struct trx_rstats *rs)
{
    return rs->n;
}

/* Expected and lost of a stream's sequence numbers; a held jump counts as a stray. */
static void stream_loss(const struct rstream *s, uint64_t *expected, uint64_t *lost)
{
    *expected = 0;
    *lost = 0;
    if (!s->have_seq)
        return;
    *expected = s->expected_prior + (uint64_t)(s->seq_max - s->run_min) + 1;
    uint64_t distinct = s->placed - s->duplicates;
    *lost = *expected > distinct ? *expected - distinct : 0;
}

void trx_rstats_stream(struct trx_rstats *rs, size_t i, struct trx_stream_stats *out)
{
    const struct rstream *s = &rs->v[i];
    memset(out, 0, sizeof(*out));
    out->ip_version = s->key.ipv;
    memcpy(out->src, s->key.src, 16);
    memcpy(out->dst, s->key.dst, 16);
    out->sport = s->key.sport;
    out->dport = s->key.dport;
    out->rtp = s->key.rtp;
    out->ssrc = s->key.ssrc;
    out->rtp_pt = s->pt;
    out->clock_rate_hz = s->clock_hz;
    out->packets = s->packets;
    out->bytes = s->bytes;
    stream_loss(s, &out->expected, &out->lost);
    out->reordered = s->reordered;
    out->duplicates = s->duplicates;
    out->stray = s->stray + (uint64_t)s->pending;
    out->restarts = s->restarts;
    out->jitter_ms =
        s->key.rtp && s->clock_hz ? s->jitter / (double)s->clock_hz * 1e3 : (double)NAN;
    out->probes = s->probes;
    if (s->probes > 0) {
        out->probe_jitter_ms = s->probe_jitter_ns / 1e6;
        out->owd_min_ns = s->owd_min;
        out->owd_max_ns = s->owd_max;
        out->owd_mean_ns = s->owd_mean;
    } else {
        out->probe_jitter_ms = (double)NAN;
        out->owd_mean_ns = (double)NAN;
    }
    out->iat_p50_ns = fm_hist_percentile(&s->iat, 50);
    out->iat_p90_ns = fm_hist_percentile(&s->iat, 90);
    out->iat_p99_ns = fm_hist_percentile(&s->iat, 99);
    out->iat_max_ns = s->iat_max;
    out->iat_mean_ns = s->packets > 1 ? (double)s->iat_sum / (double)(s->packets - 1) : (double)NAN;
    out->len_min = s->len_min;
    out->len_p50 = (uint32_t)fm_hist_percentile(&s->len, 50);
    out->len_p90 = (uint32_t)fm_hist_percentile(&s->len, 90);
    out->len_p99 = (uint32_t)fm_hist_percentile(&s->len, 99);
    out->len_max = s->len_max;
    out->len_mean = s->packets ? (double)s->len_sum / (double)s->packets : (double)NAN;
    out->first_ns = s->first_ns;
    out->last_ns = s->last_ns;
    out->time_backwards = s->time_backwards;
}

void trx_rstats_totals(const struct trx_rstats *rs, struct trx_rstats_totals *out)
{
    memset(out, 0, sizeof(*out));
    out->rtcp = rs->rtcp;
    out->over_cap = rs->over_cap;
    out->streams = rs->n;
    for (size_t i = 0; i < rs->n; i++) {
        const struct rstream *s = &rs->v[i];
        uint64_t expected = 0;
        uint64_t lost = 0;
        out->packets += s->packets;
        out->bytes += s->bytes;
        stream_loss(s, &expected, &lost);
        out->lost += lost;
        if (i == 0 || s->first_ns < out->first_ns)
            out->first_ns = s->first_ns;
        if (i == 0 || s->last_ns > out->last_ns)
            out->last_ns = s->last_ns;
    }
}

size_t trx_rstats_mem_bytes(const struct trx_rstats *rs)
{
    size_t n = sizeof(*rs) + rs->cap * sizeof(*rs->v) + rs->nslots * sizeof(*rs->slots);
    for (size_t i = 0; i < rs->n; i++)
        n += fm_hist_mem_bytes(&rs->v[i].iat) + fm_hist_mem_bytes(&rs->v[i].len);
    return n;
}

size_t trx_rstats_stream_mem_max(void)
{
    /* A slot of the stream array (which grows by doubling) and two of the table, and the
     * most both histograms can hold; lengths reach 2^32 at most. */
    return 2 * sizeof(struct rstream) + 4 * sizeof(size_t) + fm_hist_mem_max(TRX_RSTATS_GAP_BITS) +
           (size_t)(33 - TRX_RSTATS_LEN_BITS) * ((size_t)8 << TRX_RSTATS_LEN_BITS);
}

/* ======================================================================================
 * Frames: decoding captured ones, synthesising headers for written ones
 * ====================================================================================== */

#define ETH_IPV4   0x0800
#define ETH_IPV6   0x86dd
#define ETH_VLAN   0x8100
#define ETH_QINQ   0x88a8
#define ETH_QINQ2  0x9100
#define IPPROTO_U  17
#define MAX_EXTHDR 8

/* IPv4 (RFC 791) to the start of its payload; fills addresses; *ip_left = payload bytes the
 * header claims. 0 for fragments and anything but UDP. */
static int decode_ipv4(struct fm_rd *r, struct trx_addr *a, size_t *ip_left)
{
    uint8_t vihl = 0;
    uint8_t proto = 0;
    uint16_t total = 0;
    uint16_t frag = 0;
    if (fm_rd_u8(r, &vihl) < 0 || (vihl >> 4) != 4 || (vihl & 0x0f) < 5)
        return 0;
    size_t ihl = (size_t)(vihl & 0x0f) * 4;
    if (fm_rd_skip(r, 1) < 0 || fm_rd_be16(r, &total) < 0 || fm_rd_skip(r, 2) < 0 ||
        fm_rd_be16(r, &frag) < 0 || fm_rd_skip(r, 1) < 0 || fm_rd_u8(r, &proto) < 0 ||
        fm_rd_skip(r, 2) < 0 || fm_rd_bytes(r, a->src, 4) < 0 || fm_rd_bytes(r, a->dst, 4) < 0 ||
        fm_rd_skip(r, ihl - 20) < 0)
        return 0;
    /* Any fragment (offset or more-fragments set) holds only part of a datagram. */
    if ((frag & 0x3fff) != 0 || proto != IPPROTO_U || total < ihl)
        return 0;
    a->ip_version = 4;
    *ip_left = total - ihl;
    return 1;
}

/* IPv6 (RFC 8200), skipping hop-by-hop, routing, destination options and AH headers. */
static int decode_ipv6(struct fm_rd *r, struct trx_addr *a, size_t *ip_left)
{
    uint32_t vtf = 0;
    uint16_t plen = 0;
    uint8_t nh = 0;
    if (fm_rd_be32(r, &vtf) < 0 || (vtf >> 28) != 6 || fm_rd_be16(r, &plen) < 0 ||
        fm_rd_u8(r, &nh) < 0 || fm_rd_skip(r, 1) < 0 || fm_rd_bytes(r, a->src, 16) < 0 ||
        fm_rd_bytes(r, a->dst, 16) < 0)
        return 0;
    size_t left = plen;
    for (int i = 0; i < MAX_EXTHDR && nh != IPPROTO_U; i++) {
        uint8_t next = 0;
        uint8_t hl = 0;
        size_t skip = 0;
        if (nh == 0 || nh == 43 || nh == 60) {
            if (fm_rd_u8(r, &next) < 0 || fm_rd_u8(r, &hl) < 0)
                return 0;
            skip = ((size_t)hl + 1) * 8 - 2;
        } else if (nh == 51) {
            if (fm_rd_u8(r, &next) < 0 || fm_rd_u8(r, &hl) < 0)
                return 0;
            skip = ((size_t)hl + 2) * 4 - 2;
        } else if (nh == 44) {
            uint16_t off = 0;
            if (fm_rd_u8(r, &next) < 0 || fm_rd_skip(r, 1) < 0 || fm_rd_be16(r, &off) < 0)
                return 0;
            if ((off & 0xfff9) != 0) /* offset or M: a piece of a datagram */
                return 0;
            skip = 4;
        } else {
            return 0;
        }
        if (fm_rd_skip(r, skip) < 0 || left < skip + 2)
            return 0;
        left -= skip + 2;
        nh = next;
    }
    if (nh != IPPROTO_U)
        return 0;
    a->ip_version = 6;
    *ip_left = left;
    return 1;
}

/* Link types trx_recv_decode() reads, as pcap_datalink_val_to_name() spells them. */
#define DLT_NAMES "EN10MB, LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP"

static int dlt_supported(int dlt)
{
    return dlt == DLT_EN10MB || dlt == DLT_LINUX_SLL || dlt == DLT_LINUX_SLL2 || dlt == DLT_RAW ||
           dlt == DLT_IPV4 || dlt == DLT_IPV6 || dlt == DLT_NULL || dlt == DLT_LOOP;
}

int trx_recv_decode(int dlt,
                    const uint8_t *frame,
                    size_t caplen,
                    struct trx_addr *a,
                    size_t *payload_off,
                    size_t *len)
{
    struct fm_rd r;
    fm_rd_init(&r, frame, caplen);
    uint16_t et = 0;
    uint8_t v = 0;
    memset(a, 0, sizeof(*a));
    switch (dlt) {
    case DLT_EN10MB:
        if (fm_rd_skip(&r, 12) < 0 || fm_rd_be16(&r, &et) < 0)
            return 0;
        for (int i = 0; i < 4 && (et == ETH_VLAN || et == ETH_QINQ || et == ETH_QINQ2); i++) {
            if (fm_rd_skip(&r, 2) < 0 || fm_rd_be16(&r, &et) < 0)
                return 0;
        }
        break;
    case DLT_LINUX_SLL:
        /* packet type, ARPHRD type, address length, 8 address bytes, protocol */
        if (fm_rd_skip(&r, 14) < 0 || fm_rd_be16(&r, &et) < 0)
            return 0;
        break;
    case DLT_LINUX_SLL2:
        /* protocol, reserved, ifindex, ARPHRD type, packet type, address length, address */
        if (fm_rd_be16(&r, &et) < 0 || fm_rd_skip(&r, 18) < 0)
            return 0;
        break;
    case DLT_NULL:
    case DLT_LOOP:
        /* The address family is in host or network order: the IP version nibble is surer. */
        if (fm_rd_skip(&r, 4) < 0)
            return 0;
        /* fall through */
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6: {
        struct fm_rd peek = r;
        if (fm_rd_u8(&peek, &v) < 0)
            return 0;
        et = (v >> 4) == 4 ? ETH_IPV4 : (v >> 4) == 6 ? ETH_IPV6 : 0;
        break;
    }
    default:
        return 0;
    }
    size_t ip_left = 0;
    if (et == ETH_IPV4) {
        if (!decode_ipv4(&r, a, &ip_left))
            return 0;
    } else if (et == ETH_IPV6) {
        if (!decode_ipv6(&r, a, &ip_left))
            return 0;
    } else {
        return 0;
    }
    uint16_t ulen = 0;
    if (fm_rd_be16(&r, &a->sport) < 0 || fm_rd_be16(&r, &a->dport) < 0 ||
        fm_rd_be16(&r, &ulen) < 0 || fm_rd_skip(&r, 2) < 0)
        return 0;
    /* A UDP length of 0 is an IPv6 jumbogram's (RFC 2675): the IP length rules. */
    size_t dgram = ulen == 0 && a->ip_version == 6 ? ip_left : ulen;
    if (dgram < 8 || dgram > ip_left)
        return 0;
    *payload_off = r.off;
    *len = dgram - 8;
    return 1;
}

size_t trx_recv_synth_hdr(
    const struct trx_addr *a, const uint8_t *payload, size_t cap, size_t len, uint8_t *hdr)
{
    size_t ulen = len + 8;
    if (ulen > 0xffff)
        ulen = 0xffff;
    size_t ip = a->ip_version == 6 ? 40 : 20;
    memset(hdr, 0, ip + 8);
    uint8_t *u = hdr + ip;
    fm_put_be16(u, a->sport);
    fm_put_be16(u + 2, a->dport);
    fm_put_be16(u + 4, (unsigned)ulen);
    if (a->ip_version == 6) {
        hdr[0] = 0x60;
        fm_put_be16(hdr + 4, (unsigned)ulen);
        hdr[6] = IPPROTO_U;
        hdr[7] = 64;
        memcpy(hdr + 8, a->src, 16);
        memcpy(hdr + 24, a->dst, 16);
        /* Pseudo-header (RFC 8200 8.1): addresses, length, next header. */
        uint32_t acc = fm_inet_csum_add(0, hdr + 8, 32);
        acc += (uint32_t)ulen + IPPROTO_U;
        acc = fm_inet_csum_add(acc, u, 8);
        acc = fm_inet_csum_add(acc, payload, cap < len ? cap : len);
        uint16_t c = fm_inet_csum_fold(acc);
        fm_put_be16(u + 6, c == 0 ? 0xffffu : c);
    } else {
        size_t total = ip + ulen > 0xffff ? 0xffff : ip + ulen;
        hdr[0] = 0x45;
        fm_put_be16(hdr + 2, (unsigned)total);
        fm_put_be16(hdr + 6, 0x4000); /* DF */
        hdr[8] = 64;
        hdr[9] = IPPROTO_U;
        memcpy(hdr + 12, a->src, 4);
        memcpy(hdr + 16, a->dst, 4);
        fm_put_be16(hdr + 10, fm_inet_csum_fold(fm_inet_csum_add(0, hdr, 20)));
    }
    return ip + 8;
}

/* ======================================================================================
 * Receiver
 * ====================================================================================== */

#define BATCH          32
#define SLOT_BYTES     65536 /* the largest UDP payload fits */
#define CTRL_BYTES     256
#define POLL_MS        100
#define DRAIN_ROUNDS   16 /* recvmmsg calls per socket per wake, so a flood cannot starve stop */
#define FLUSH_NS       (FM_NS_PER_SEC / 5)
#define DEFAULT_RCVBUF (8 << 20)

union ctrl {
    char buf[CTRL_BYTES];
    struct cmsghdr align;
};

struct rsock {
    int fd;
    uint16_t port;   /* bound port */
    int family;      /* AF_INET or AF_INET6 */
    uint8_t dst[16]; /* bound address, for datagrams without pktinfo */
    uint32_t drops;  /* last SO_RXQ_OVFL count */
};

struct trx_receiver {
    struct trx_recv_opts o;
    struct trx_rstats *rs;
    struct rsock socks[TRX_RECV_MAX_PORTS];
    size_t nsocks;

    pcap_t *cap; /* pcap mode */
    int cap_fd;
    int dlt;
    int nano;

    pcap_t *wdead; /* socket mode: a dead handle that gives the file its raw-IP link type */
    pcap_dumper_t *dumper;
    struct fm_atomic_file out; /* the temporary file the dumper writes */
    int64_t last_flush;

    uint8_t *bufs;
    struct mmsghdr *msgs;
    struct iovec *iov;
    union ctrl *ctrl;
    struct sockaddr_storage *names;
    uint8_t *frame; /* header + payload of a datagram to write */

    struct trx_recv_info info;
    uint64_t received;
    int have_packet;
    int64_t last_packet_mono;
    int done;  /* count reached */
    int cb_rc; /* an error met inside the pcap callback */
    struct fm_err cb_err;
};

void trx_recv_opts_init(struct trx_recv_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->snaplen = 65535;
    o->rcvbuf_bytes = DEFAULT_RCVBUF;
    trx_rstats_opts_init(&o->stats);
}

/* "1.2.3.4", "::1" or "[::1]" into a socket address with port. */
static int parse_addr(
    const char *s, uint16_t port, struct sockaddr_storage *ss, socklen_t *sslen, struct fm_err *err)
{
    char buf[INET6_ADDRSTRLEN + 2];
    size_t n = strlen(s);
    if (n >= sizeof(buf))
        return fm_err_set(err, FM_EINVAL, "bad bind address '%s'", s);
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        memcpy(buf, s + 1, n - 2);
        buf[n - 2] = '\0';
    } else {
        memcpy(buf, s, n + 1);
    }
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));
    if (inet_pton(AF_INET, buf, &sin.sin_addr) == 1) {
        sin.sin_family = AF_INET;
        sin.sin_port = htons(port);
        memcpy(ss, &sin, sizeof(sin));
        *sslen = sizeof(sin);
        return FM_OK;
    }
    if (inet_pton(AF_INET6, buf, &sin6.sin6_addr) == 1) {
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(port);
        memcpy(ss, &sin6, sizeof(sin6));
        *sslen = sizeof(sin6);
        return FM_OK;
    }
    return fm_err_set(err, FM_EINVAL, "bad bind address '%s': expected an IPv4 or IPv6 address", s);
}

static void set_int(int fd, int level, int name, int v)
{
    /* Best effort: a missing option costs a statistic (drops, destination address), not
     * the receive, and each is checked where its result is used. */
    (void)setsockopt(fd, level, name, &v, sizeof(v));
}

static int bind_error(int e, uint16_t port, const char *where, struct fm_err *err)
{
    if (e == EADDRINUSE)
        return fm_err_set(err, FM_ENET, "UDP port %u%s%s is in use", (unsigned)port,
                          where ? " on " : "", where ? where : "");
    if (e == EACCES)
        return fm_err_errno(err, FM_EPERM, e, "cannot bind UDP port %u", (unsigned)port);
    return fm_err_errno(err, FM_ENET, e, "cannot bind UDP port %u%s%s", (unsigned)port,
                        where ? " on " : "", where ? where : "");
}

static int open_socket(struct trx_receiver *r, uint16_t port, struct rsock *out, struct fm_err *err)
{
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    int any6 = 0;
    memset(&ss, 0, sizeof(ss));
    if (r->o.bind_addr) {
        int rc = parse_addr(r->o.bind_addr, port, &ss, &sslen, err);
        if (rc < 0)
            return rc;
    } else {
        struct sockaddr_in6 sin6;
        memset(&sin6, 0, sizeof(sin6));
        sin6.sin6_family = AF_INET6;
        sin6.sin6_addr = in6addr_any;
        sin6.sin6_port = htons(port);
        memset(&ss, 0, sizeof(ss));
        memcpy(&ss, &sin6, sizeof(sin6));
        sslen = sizeof(sin6);
        any6 = 1;
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 && any6 && errno == EAFNOSUPPORT) {
        /* IPv6 is off in this kernel or namespace: any IPv4 address will do. */
        struct sockaddr_in sin;
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_ANY);
        sin.sin_port = htons(port);
        memset(&ss, 0, sizeof(ss));
        memcpy(&ss, &sin, sizeof(sin));
        sslen = sizeof(sin);
        any6 = 0;
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    }
    if (fd < 0)
        return fm_err_errno(err, FM_ENET, errno, "cannot open a UDP socket");
    if (any6)
        set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0);
    /* SO_RCVBUFFORCE passes net.core.rmem_max when we may (root); otherwise ask within it. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &r->o.rcvbuf_bytes, sizeof(int)) != 0)
        set_int(fd, SOL_SOCKET, SO_RCVBUF, r->o.rcvbuf_bytes);
    set_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1);
    set_int(fd, SOL_SOCKET, SO_RXQ_OVFL, 1);
    set_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
    if (ss.ss_family == AF_INET6)
        set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
    if (bind(fd, (const struct sockaddr *)&ss, sslen) != 0) {
        int e = errno;
        close(fd);
        return bind_error(e, port, r->o.bind_addr, err);
    }
    struct sockaddr_storage got;
    socklen_t gotlen = sizeof(got);
    memset(&got, 0, sizeof(got));
    if (getsockname(fd, (struct sockaddr *)&got, &gotlen) != 0) {
        int e = errno;
        close(fd);
        return fm_err_errno(err, FM_ENET, e, "cannot read the address of UDP port %u",
                            (unsigned)port);
    }
    memset(out, 0, sizeof(*out));
    out->fd = fd;
    out->family = ss.ss_family;
    if (got.ss_family == AF_INET6) {
        struct sockaddr_in6 s6;
        memcpy(&s6, &got, sizeof(s6));
        out->port = ntohs(s6.sin6_port);
        memcpy(out->dst, &s6.sin6_addr, 16);
    } else {
        struct sockaddr_in s4;
        memcpy(&s4, &got, sizeof(s4));
        out->port = ntohs(s4.sin_port);
        memcpy(out->dst, &s4.sin_addr, 4);
    }
    return FM_OK;
}

static int open_capture(struct trx_receiver *r, struct fm_err *err)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    char filter[32 + TRX_RECV_MAX_PORTS * 20];
    struct bpf_program prog;
    int rc = FM_OK;
    int have_prog = 0;

    r->cap = pcap_create(r->o.iface, ebuf);
    if (!r->cap)
        return fm_err_set(err, FM_ENET, "cannot capture on '%s': %s", r->o.iface, ebuf);
    pcap_set_snaplen(r->cap, r->o.snaplen);
    pcap_set_promisc(r->cap, 0);
    pcap_set_immediate_mode(r->cap, 1);
    pcap_set_buffer_size(r->cap, r->o.rcvbuf_bytes);
    int nano_ok = pcap_set_tstamp_precision(r->cap, PCAP_TSTAMP_PRECISION_NANO) == 0;
    int arc = pcap_activate(r->cap);
    if (arc < 0) {
        if (arc == PCAP_ERROR_NO_SUCH_DEVICE)
            rc = fm_err_set(err, FM_ENOTFOUND, "no interface '%s'", r->o.iface);
        else if (arc == PCAP_ERROR_PERM_DENIED)
            rc = fm_err_set(err, FM_EPERM, "capturing on '%s' needs root or CAP_NET_RAW",
                            r->o.iface);
        else
            rc = fm_err_set(err, FM_ENET, "cannot capture on '%s': %s", r->o.iface,
                            pcap_geterr(r->cap));
        goto out;
    }
    r->nano = nano_ok && pcap_get_tstamp_precision(r->cap) == PCAP_TSTAMP_PRECISION_NANO;
    /* Inbound only: with replay --listen on the same host, what we send is not received. */
    (void)pcap_setdirection(r->cap, PCAP_D_IN);
    size_t n = (size_t)snprintf(filter, sizeof(filter), "udp");
    for (size_t i = 0; i < r->o.nports; i++)
        n += (size_t)snprintf(filter + n, sizeof(filter) - n, "%s dst port %u",
                              i == 0 ? " and (" : " or", (unsigned)r->o.ports[i]);
    if (r->o.nports)
        snprintf(filter + n, sizeof(filter) - n, ")");
    if (pcap_compile(r->cap, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        rc = fm_err_set(err, FM_ENET, "capture filter '%s' on '%s': %s", filter, r->o.iface,
                        pcap_geterr(r->cap));
        goto out;
    }
    have_prog = 1;
    if (pcap_setfilter(r->cap, &prog) != 0) {
        rc =
            fm_err_set(err, FM_ENET, "capture filter on '%s': %s", r->o.iface, pcap_geterr(r->cap));
        goto out;
    }
    if (pcap_setnonblock(r->cap, 1, ebuf) != 0) {
        rc = fm_err_set(err, FM_ENET, "capture on '%s': %s", r->o.iface, ebuf);
        goto out;
    }
    r->cap_fd = pcap_get_selectable_fd(r->cap);
    if (r->cap_fd < 0) {
        rc = fm_err_set(err, FM_ENET, "capture on '%s' cannot be polled", r->o.iface);
        goto out;
    }
    r->dlt = pcap_datalink(r->cap);
    if (!dlt_supported(r->dlt)) {
        const char *name = pcap_datalink_val_to_name(r->dlt);
        rc = fm_err_set(err, FM_EFORMAT,
                        "cannot capture on '%s': link type %s (%d) is not "
                        "supported; supported: %s",
                        r->o.iface, name ? name : "unknown", r->dlt, DLT_NAMES);
        goto out;
    }
out:
    if (have_prog)
        pcap_freecode(&prog);
    return rc;
}

/* The output file: a temporary beside path, renamed into place by commit_writer(). */
static int open_writer(struct trx_receiver *r, struct fm_err *err)
{
    const char *path = r->o.write_path;
    int rc = fm_atomic_open(&r->out, path, err);
    if (rc < 0)
        return rc;
    pcap_t *src = r->cap;
    if (!src) {
        r->wdead = pcap_open_dead_with_tstamp_precision(DLT_RAW, 65535, PCAP_TSTAMP_PRECISION_NANO);
        if (!r->wdead) {
            rc = fm_err_set(err, FM_ENOMEM, "out of memory");
            goto out;
        }
        src = r->wdead;
    }
    r->dumper = pcap_dump_fopen(src, r->out.f);
    if (!r->dumper) {
        rc = fm_err_set(err, FM_EIO, "cannot write '%s': %s", path, pcap_geterr(src));
        goto out;
    }
    r->out.lent = 1; /* the dumper owns the stream: pcap_dump_close() closes it */
    if (pcap_dump_flush(r->dumper) != 0)
        rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", path);
out:
    if (rc < 0)
        fm_atomic_abort(&r->out);
    return rc;
}

static int commit_writer(struct trx_receiver *r, struct fm_err *err)
{
    if (!r->dumper)
        return FM_OK;
    int rc = fm_atomic_commit(&r->out, err);
    pcap_dump_close(r->dumper);
    r->dumper = NULL;
    return rc;
}

static int alloc_batch(struct trx_receiver *r)
{
    r->bufs = malloc((size_t)BATCH * SLOT_BYTES);
    r->msgs = calloc(BATCH, sizeof(*r->msgs));
    r->iov = calloc(BATCH, sizeof(*r->iov));
    r->ctrl = calloc(BATCH, sizeof(*r->ctrl));
    r->names = calloc(BATCH, sizeof(*r->names));
    r->frame = malloc(TRX_RECV_SYNTH_MAX + SLOT_BYTES);
    return r->bufs && r->msgs && r->iov && r->ctrl && r->names && r->frame ? 0 : -1;
}

int trx_receiver_new(const struct trx_recv_opts *o, struct trx_receiver **out, struct fm_err *err)
{
    int rc = FM_OK;
    struct trx_receiver *r = calloc(1, sizeof(*r));
    if (!r)
        return fm_err_set(err, FM_ENOMEM, "out of memory");
    r->o = *o;
    r->cap_fd = -1;
    for (size_t i = 0; i < TRX_RECV_MAX_PORTS; i++)
        r->socks[i].fd = -1;
    if (r->o.snaplen <= 0)
        r->o.snaplen = 65535;
    if (r->o.rcvbuf_bytes <= 0)
        r->o.rcvbuf_bytes = DEFAULT_RCVBUF;
    if (r->o.nports > TRX_RECV_MAX_PORTS) {
        rc = fm_err_set(err, FM_EINVAL, "at most %d ports", TRX_RECV_MAX_PORTS);
        goto out;
    }
    r->rs = trx_rstats_new(&r->o.stats);
    if (!r->rs) {
        rc = fm_err_set(err, FM_ENOMEM, "out of memory");
        goto out;
    }
    if (r->o.iface) {
        r->info.pcap_mode = 1;
        rc = open_capture(r, err);
        if (rc < 0)
            goto out;
    } else {
        if (r->o.nports == 0) {
            rc = fm_err_set(err, FM_EINVAL, "no UDP port to receive on");
            goto out;
        }
        if (alloc_batch(r) < 0) {
            rc = fm_err_set(err, FM_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < r->o.nports; i++) {
            rc = open_socket(r, r->o.ports[i], &r->socks[i], err);
            if (rc < 0)
                goto out;
            r->nsocks++;
        }
    }
    if (r->o.write_path) {
        rc = open_writer(r, err);
        if (rc < 0)
            goto out;
    }
    *out = r;
    r = NULL;
out:
    trx_receiver_free(r);
    return rc;
}

void trx_receiver_free(struct trx_receiver *r)
{
    if (!r)
        return;
    fm_atomic_abort(&r->out);
    if (r->dumper)
        pcap_dump_close(r->dumper);
    if (r->wdead)
        pcap_close(r->wdead);
    if (r->cap)
        pcap_close(r->cap);
    for (size_t i = 0; i < r->nsocks; i++)
        close(r->socks[i].fd);
    free(r->bufs);
    free(r->msgs);
    free(r->iov);
    free(r->ctrl);
    free(r->names);
    free(r->frame);
    trx_rstats_free(r->rs);
    free(r);
}

struct trx_rstats *trx_receiver_stats(struct trx_receiver *r)
{
    return r->rs;
}

void trx_receiver_info(const struct trx_receiver *r, struct trx_recv_info *out)
{
    *out = r->info;
}

uint16_t trx_receiver_port(const struct trx_receiver *r, size_t i)
{
    return i < r->nsocks ? r->socks[i].port : 0;
}

/* Count one UDP datagram; sets r->done at the count limit. */
static int account(struct trx_receiver *r,
                   const struct trx_addr *a,
                   const uint8_t *payload,
                   size_t cap,
                   size_t len,
                   int64_t arrival_ns,
                   struct fm_err *err)
{
    int rc = trx_rstats_add(r->rs, a, payload, cap, len, arrival_ns, err);
    if (rc < 0)
        return rc;
    r->received++;
    r->have_packet = 1;
    if (r->o.count && r->received >= r->o.count)
        r->done = 1;
    return FM_OK;
}

static void ts_of_ns(int64_t ns, struct pcap_pkthdr *h)
{
    /* With nanosecond precision libpcap reads tv_usec as nanoseconds. */
    h->ts.tv_sec = (time_t)(ns / FM_NS_PER_SEC);
    h->ts.tv_usec = (suseconds_t)(ns % FM_NS_PER_SEC);
}

static void
sockaddr_to(const struct sockaddr_storage *ss, uint8_t *ipv, uint8_t *ip, uint16_t *port)
{
    if (ss->ss_family == AF_INET6) {
        struct sockaddr_in6 s6;
        memcpy(&s6, ss, sizeof(s6));
        if (IN6_IS_ADDR_V4MAPPED(&s6.sin6_addr)) {
            *ipv = 4;
            memcpy(ip, s6.sin6_addr.s6_addr + 12, 4);
        } else {
            *ipv = 6;
            memcpy(ip, s6.sin6_addr.s6_addr, 16);
        }
        *port = ntohs(s6.sin6_port);
    } else {
        struct sockaddr_in s4;
        memcpy(&s4, ss, sizeof(s4));
        *ipv = 4;
        memcpy(ip, &s4.sin_addr, 4);
        *port = ntohs(s4.sin_port);
    }
}

/* One received datagram: addresses from its name and pktinfo, arrival from SO_TIMESTAMPNS. */
static int take_msg(struct trx_receiver *r,
                    struct rsock *s,
                    const struct mmsghdr *m,
                    const uint8_t *buf,
                    struct fm_err *err)
{
    struct trx_addr a;
    memset(&a, 0, sizeof(a));
    sockaddr_to(m->msg_hdr.msg_name, &a.ip_version, a.src, &a.sport);
    a.dport = s->port;
    if (a.ip_version == 4 && s->family == AF_INET)
        memcpy(a.dst, s->dst, 4);
    else if (a.ip_version == 6)
        memcpy(a.dst, s->dst, 16);
    int64_t arrival = -1;
    struct msghdr mh = m->msg_hdr;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(c), sizeof(ts));
            arrival = (int64_t)ts.tv_sec * FM_NS_PER_SEC + ts.tv_nsec;
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
            uint32_t drops = 0;
            memcpy(&drops, CMSG_DATA(c), sizeof(drops));
            /* A cumulative count per socket: add what is new since the last datagram. */
            r->info.kernel_drops += (uint32_t)(drops - s->drops);
            s->drops = drops;
        } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            memcpy(a.dst, &pi.ipi_addr, 4);
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi6;
            memcpy(&pi6, CMSG_DATA(c), sizeof(pi6));
            if (IN6_IS_ADDR_V4MAPPED(&pi6.ipi6_addr)) {
                memset(a.dst, 0, 16);
                memcpy(a.dst, pi6.ipi6_addr.s6_addr + 12, 4);
            } else {
                memcpy(a.dst, pi6.ipi6_addr.s6_addr, 16);
            }
        }
    }
    if (arrival < 0) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        arrival = (int64_t)now.tv_sec * FM_NS_PER_SEC + now.tv_nsec;
        r->info.no_kernel_ts++;
    }
    size_t len = m->msg_len;
    size_t cap = len;
    if ((m->msg_hdr.msg_flags & MSG_TRUNC) || cap > SLOT_BYTES) {
        r->info.truncated++;
        if (cap > SLOT_BYTES)
            cap = SLOT_BYTES;
    }
    int rc = account(r, &a, buf, cap, len, arrival, err);
    if (rc < 0 || !r->dumper)
        return rc;
    size_t hl = trx_recv_synth_hdr(&a, buf, cap, len, r->frame);
    size_t snap = cap;
    if (hl + snap > (size_t)r->o.snaplen)
        snap = (size_t)r->o.snaplen > hl ? (size_t)r->o.snaplen - hl : 0;
    memcpy(r->frame + hl, buf, snap);
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof(h));
    ts_of_ns(arrival, &h);
    h.caplen = (uint32_t)(hl + snap);
    h.len = (uint32_t)(hl + len);
    pcap_dump((u_char *)r->dumper, &h, r->frame);
    r->info.written++;
    return FM_OK;
}

/* Read what is waiting on one socket, a bounded number of batches. */
static int drain_socket(struct trx_receiver *r, struct rsock *s, struct fm_err *err)
{
    for (int round = 0; round < DRAIN_ROUNDS && !r->done; round++) {
        for (size_t i = 0; i < BATCH; i++) {
            r->iov[i].iov_base = r->bufs + i * SLOT_BYTES;
            r->iov[i].iov_len = SLOT_BYTES;
            memset(&r->msgs[i].msg_hdr, 0, sizeof(r->msgs[i].msg_hdr));
            r->msgs[i].msg_hdr.msg_iov = &r->iov[i];
            r->msgs[i].msg_hdr.msg_iovlen = 1;
            r->msgs[i].msg_hdr.msg_name = &r->names[i];
            r->msgs[i].msg_hdr.msg_namelen = sizeof(r->names[i]);
            r->msgs[i].msg_hdr.msg_control = r->ctrl[i].buf;
            r->msgs[i].msg_hdr.msg_controllen = sizeof(r->ctrl[i].buf);
            r->msgs[i].msg_len = 0;
        }
        /* MSG_TRUNC makes msg_len the datagram's real length even when it did not fit. */
        int n = recvmmsg(s->fd, r->msgs, BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return FM_OK;
            /* An ICMP error queued on the socket: not ours to fail on. */
            if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH)
                continue;
            return fm_err_errno(err, FM_ENET, errno, "receive on UDP port %u", (unsigned)s->port);
        }
        for (int i = 0; i < n && !r->done; i++) {
            int rc = take_msg(r, s, &r->msgs[i], r->bufs + (size_t)i * SLOT_BYTES, err);
            if (rc < 0)
                return rc;
        }
        if (n < BATCH)
            break;
    }
    return FM_OK;
}

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct trx_receiver *r = (struct trx_receiver *)user;
    if (r->done || r->cb_rc < 0)
        return;
    struct trx_addr a;
    size_t off = 0;
    size_t len = 0;
    if (!trx_recv_decode(r->dlt, bytes, h->caplen, &a, &off, &len)) {
        r->info.skipped++;
        return;
    }
    /* The kernel's clock, not a file: in range unless the clock is set past 2262. */
    int64_t sec = (int64_t)h->ts.tv_sec;
    int64_t frac = (int64_t)h->ts.tv_usec * (r->nano ? 1 : 1000);
    int64_t arrival = sec < 0 || sec > TS_SEC_MAX || frac < 0 || frac >= FM_NS_PER_SEC
                          ? 0
                          : sec * FM_NS_PER_SEC + frac;
    size_t cap = h->caplen - off;
    int rc = account(r, &a, bytes + off, cap < len ? cap : len, len, arrival, &r->cb_err);
    if (rc < 0) {
        r->cb_rc = rc;
        pcap_breakloop(r->cap);
        return;
    }
    if (r->dumper) {
        pcap_dump((u_char *)r->dumper, h, bytes);
        r->info.written++;
    }
    if (r->done)
        pcap_breakloop(r->cap);
}

static int drain_capture(struct trx_receiver *r, struct fm_err *err)
{
    for (int round = 0; round < DRAIN_ROUNDS && !r->done; round++) {
        int n = pcap_dispatch(r->cap, -1, on_frame, (u_char *)r);
        if (r->cb_rc < 0) {
            if (err)
                *err = r->cb_err;
            return r->cb_rc;
        }
        if (n == PCAP_ERROR)
            return fm_err_set(err, FM_ENET, "capture on '%s': %s", r->o.iface, pcap_geterr(r->cap));
        if (n <= 0)
            break;
    }
    return FM_OK;
}

/* Milliseconds to wait in poll: at most POLL_MS, less when a limit falls due sooner. */
static int poll_ms(const struct trx_receiver *r, int64_t now, int64_t deadline)
{
    int64_t wait = (int64_t)POLL_MS * 1000000;
    if (deadline && deadline - now < wait)
        wait = deadline - now;
    if (r->o.idle_ns && r->have_packet && r->last_packet_mono + r->o.idle_ns - now < wait)
        wait = r->last_packet_mono + r->o.idle_ns - now;
    if (wait < 0)
        wait = 0;
    return (int)((wait + 999999) / 1000000);
}

int trx_receiver_run(struct trx_receiver *r,
                     void (*status)(const struct trx_rstats_totals *t, void *arg),
                     void *arg,
                     const volatile sig_atomic_t *stop,
                     struct fm_err *err)
{
    struct pollfd pfd[TRX_RECV_MAX_PORTS];
    size_t npfd = 0;
    int rc = FM_OK;
    if (r->cap) {
        pfd[0].fd = r->cap_fd;
        pfd[0].events = POLLIN;
        npfd = 1;
    } else {
        for (size_t i = 0; i < r->nsocks; i++) {
            pfd[i].fd = r->socks[i].fd;
            pfd[i].events = POLLIN;
        }
        npfd = r->nsocks;
    }
    int64_t start = fm_time_mono_ns();
    int64_t deadline = r->o.duration_ns ? start + r->o.duration_ns : 0;
    int64_t next_status = start + FM_NS_PER_SEC;
    r->last_flush = start;
    for (;;) {
        if (stop && *stop) {
            rc = FM_EINTR;
            break;
        }
        int64_t now = fm_time_mono_ns();
        if (r->done || (deadline && now >= deadline) ||
            (r->o.idle_ns && r->have_packet && now - r->last_packet_mono >= r->o.idle_ns))
            break;
        int n = poll(pfd, npfd, poll_ms(r, now, deadline));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = fm_err_errno(err, FM_ENET, errno, "waiting for packets");
            break;
        }
        uint64_t before = r->received;
        for (size_t i = 0; i < npfd && n > 0 && rc == FM_OK && !r->done; i++) {
            if (!(pfd[i].revents & (POLLIN | POLLERR)))
                continue;
            rc = r->cap ? drain_capture(r, err) : drain_socket(r, &r->socks[i], err);
        }
        if (rc < 0)
            break;
        now = fm_time_mono_ns();
        if (r->received != before)
            r->last_packet_mono = now;
        /* Flush a few times a second, not per packet: a file cut short by a crash loses at
         * most the last fraction of a second. */
        if (r->dumper && now - r->last_flush >= FLUSH_NS) {
            if (pcap_dump_flush(r->dumper) != 0) {
                rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", r->o.write_path);
                break;
            }
            r->last_flush = now;
        }
        if (status && now >= next_status) {
            struct trx_rstats_totals t;
            trx_rstats_totals(r->rs, &t);
            status(&t, arg);
            next_status += FM_NS_PER_SEC * ((now - next_status) / FM_NS_PER_SEC + 1);
        }
    }
    r->info.elapsed_ns = fm_time_mono_ns() - start;
    if (r->cap) {
        struct pcap_stat ps;
        if (pcap_stats(r->cap, &ps) == 0)
            r->info.kernel_drops = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
    }
    /* Whatever stopped us, what was received is a valid capture: keep it. */
    struct fm_err werr = {0};
    int wrc = commit_writer(r, &werr);
    if (wrc < 0 && (rc == FM_OK || rc == FM_EINTR)) {
        rc = wrc;
        if (err)
            *err = werr;
    }
    return rc;
}

int trx_rstats_read_pcap(struct trx_rstats *rs,
                         const char *path,
                         const uint16_t *ports,
                         size_t nports,
                         struct fm_err *err)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    int rc = FM_OK;
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
    if (!p)
        return fm_err_set(err, access(path, R_OK) == 0 ? FM_EFORMAT : FM_EIO,
                          "cannot read capture '%s': %s", path, ebuf);
    int dlt = pcap_datalink(p);
    if (!dlt_supported(dlt)) {
        const char *name = pcap_datalink_val_to_name(dlt);
        rc = fm_err_set(err, FM_EFORMAT, "'%s': link type %s (%d) is not supported; supported: %s",
                        path, name ? name : "unknown", dlt, DLT_NAMES);
        goto out;
    }
    for (uint64_t count = 1;; count++) {
        struct pcap_pkthdr *h = NULL;
        const u_char *bytes = NULL;
        int r = pcap_next_ex(p, &h, &bytes);
        if (r == PCAP_ERROR_BREAK)
            break;
        if (r != 1) {
            rc = fm_err_set(err, FM_EFORMAT, "capture '%s': %s", path, pcap_geterr(p));
            break;
        }
        /* Opened with nanosecond precision: tv_usec holds nanoseconds. A pcapng block has 64
         * bits of time, so a damaged one can claim a second whose nanoseconds int64_t cannot
         * hold (past year 2262): the file is corrupt there. */
        int64_t sec = (int64_t)h->ts.tv_sec;
        int64_t frac = (int64_t)h->ts.tv_usec;
        if (sec < 0 || sec > TS_SEC_MAX || frac < 0 || frac > INT64_MAX - sec * FM_NS_PER_SEC) {
            rc = fm_err_set(err, FM_EFORMAT,
                            "'%s' is corrupt at packet %llu: its timestamp (%lld s) is out of "
                            "range; the packets before it can be saved with 'editcap -r FILE OUT "
                            "1-%llu'",
                            path, (unsigned long long)count, (long long)sec,
                            (unsigned long long)(count - 1));
            break;
        }
        struct trx_addr a;
        size_t off = 0, len = 0;
        if (!trx_recv_decode(dlt, bytes, h->caplen, &a, &off, &len))
            continue;
        int wanted = nports == 0;
        for (size_t i = 0; i < nports && !wanted; i++)
            wanted = a.dport == ports[i];
        if (!wanted)
            continue;
        size_t cap = h->caplen - off;
        int64_t t = sec * FM_NS_PER_SEC + frac;
        rc = trx_rstats_add(rs, &a, bytes + off, cap < len ? cap : len, len, t, err);
        if (rc < 0)
            break;
    }
out:
    pcap_close(p);
    return rc;
}
