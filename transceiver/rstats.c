/* transceiver/rstats.c - the receive statistics engine: per-stream loss, reordering and
 * duplicates from RTP sequence numbers extended as RFC 3550 A.1 does, interarrival jitter
 * (RFC 3550 6.4.1 and A.8), one-way delay from flowmimic's probe, gap and size histograms.
 * No I/O: transceiver/receiver.c feeds it from sockets or captures, tests feed it directly.
 * Specifications: RFC 3550 (RTP header 5.1, A.1, A.8), RFC 3551 (static payload type clock
 * rates). */
#include "transceiver/rstats.h"

#include "common/par.h"

#include "common/buf.h"
#include "common/hist.h"
#include "common/map.h"
#include "common/time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ======================================================================================
 * Statistics engine
 * ====================================================================================== */

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

/* RFC 3550 A.8's running jitter J in units of one RTP clock, with the mean and the largest
 * of J over the packets, as Wireshark's RTP stream analysis shows them. */
struct jit {
    double j, sum, max;
};

/* The clocks a dynamic payload type's stream is snapped to (RFC 3551 audio, wideband, Opus,
 * video). Its jitter runs in each of them at once, and the report takes the one its
 * timestamps advance at against the arrivals, so that nothing need be held back. */
static const uint32_t clock_candidates[] = {8000, 16000, 48000, 90000};
#define N_CLOCKS (sizeof(clock_candidates) / sizeof(clock_candidates[0]))

/* A measured rate is snapped to a candidate within this ratio; else 90 kHz is assumed. */
#define CLOCK_SNAP_RATIO 1.2
/* What a measured rate needs: packets apart by this much time, and this many steps. */
#define CLOCK_MIN_SPAN_NS ((int64_t)200000000)
#define CLOCK_MIN_STEPS   5

#define PT_CN 13 /* comfort noise, RFC 3389 */

struct rstream {
    struct skey key;
    uint8_t pt;
    uint32_t clock_hz; /* fixed clock (option or static payload type), or 0: measured */
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

    /* RFC 3550 A.8 on RTP timestamps: jit[0] in the fixed clock, or jit[i] in
     * clock_candidates[i] while the clock is measured. */
    int have_prev_rtp;
    int64_t prev_rtp_arrival;
    uint32_t prev_rtp_ts;
    struct jit jit[N_CLOCKS];
    uint64_t jit_steps;        /* packets the jitter stepped on */
    uint64_t jit_counted;      /* of them, those in its mean and largest value */
    int prev_cn;               /* the previous packet was comfort noise (payload type 13) */
    int64_t ts_advance;        /* sum of the timestamp steps, the short way round */
    int64_t first_rtp_arrival; /* and the time they span */

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
    struct fm_map index; /* stream key -> index into v */
    uint64_t rtcp, over_cap;
};

void trx_rstats_opts_init(struct trx_rstats_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->max_streams = TRX_RSTATS_MAX_STREAMS;
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
    fm_map_init(&rs->index, sizeof(struct skey));
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
    fm_map_fini(&rs->index);
    free(rs);
}

/* The stream for k: found, or created (valid until the next call, which may move it). *out is
 * NULL (and FM_OK returned) when the cap on streams is reached. */
static int stream_get(struct trx_rstats *rs, const struct skey *k, struct rstream **out)
{
    *out = NULL;
    size_t i = fm_map_get(&rs->index, k);
    if (i != FM_MAP_NONE) {
        *out = &rs->v[i];
        return FM_OK;
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
    if (fm_map_put(&rs->index, k, rs->n) < 0)
        return FM_ENOMEM;
    struct rstream *s = &rs->v[rs->n++];
    memset(s, 0, sizeof(*s));
    s->key = *k;
    fm_hist_init(&s->iat, TRX_RSTATS_GAP_BITS);
    fm_hist_init(&s->len, TRX_RSTATS_LEN_BITS);
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

static void anchor_set(struct rstream *s, const struct pkt_probe *pr, int64_t ext)
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
seq_update(struct rstream *s, uint16_t seq, const struct pkt_probe *pr, int64_t now, int talkspurt)
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

/* One step of a stream's jitter in a clock of hz: dt_ns between the arrivals, st the step
 * of the RTP timestamps. The mean and the largest value leave out, as Wireshark does, the
 * packets whose timing is not the network's (counted 0): a marker's (a new frame or
 * talkspurt), comfort noise and the packet after it. */
static void jit_step(struct jit *t, uint32_t hz, int64_t dt_ns, double st, int counted)
{
    double r = (double)dt_ns * (double)hz / 1e9;
    t->j = jitter_step(t->j, r - st);
    if (!counted)
        return;
    t->sum += t->j;
    if (t->j > t->max)
        t->max = t->j;
}

/* The clock of a stream whose payload type does not fix one: its timestamps' advance over
 * the time they span, snapped to the nearest candidate. Returns the index into
 * clock_candidates, or -1 (too little to measure, or no candidate near). */
static int measured_clock(const struct rstream *s, double *rate_hz)
{
    int64_t span = s->prev_rtp_arrival - s->first_rtp_arrival;
    *rate_hz = 0;
    if (s->jit_steps < CLOCK_MIN_STEPS || span < CLOCK_MIN_SPAN_NS || s->ts_advance <= 0)
        return -1;
    double rate = (double)s->ts_advance * 1e9 / (double)span;
    *rate_hz = rate;
    int best = -1;
    double best_d = log(CLOCK_SNAP_RATIO);
    for (size_t i = 0; i < N_CLOCKS; i++) {
        double d = fabs(log(rate / (double)clock_candidates[i]));
        if (d < best_d) {
            best_d = d;
            best = (int)i;
        }
    }
    return best;
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
    if ((s->packets > 0 && fm_hist_add(&s->iat, gap) < 0) || fm_hist_add(&s->len, len32) < 0)
        return fm_err_set(err, FM_ENOMEM, "receive statistics: out of memory"); /* reserved */

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

    struct pkt_probe pr;
    int probe = rtp && pkt_probe_decode(payload, cap, &pr) == 1;
    if (rtp) {
        s->pt = b1 & 0x7f;
        /* The clock is the first packet's: comfort noise (PT 13) interleaved with a codec's
         * packets runs at the codec's clock and must not restart the jitter. */
        if (!s->have_prev_rtp)
            s->clock_hz = rs->o.clock_rate_hz          ? rs->o.clock_rate_hz
                          : pkt_rtp_clock_fixed(s->pt) ? pkt_rtp_clock_rate(s->pt)
                                                       : 0;
        /* Marker on audio: the first packet of a talkspurt (RFC 3551 4.1). */
        int talkspurt = (b1 & 0x80) && s->clock_hz != 0 && s->clock_hz < 90000;
        int dup = seq_update(s, seq, probe ? &pr : NULL, arrival_ns, talkspurt);
        if (!dup) {
            if (s->have_prev_rtp) {
                int64_t dt = arrival_ns - s->prev_rtp_arrival;
                /* The timestamp difference, taken the short way round its 32-bit circle. */
                int32_t step = (int32_t)(uint32_t)(ts - s->prev_rtp_ts);
                int counted = !(b1 & 0x80) && s->pt != PT_CN && !s->prev_cn;
                if (s->clock_hz) {
                    jit_step(&s->jit[0], s->clock_hz, dt, (double)step, counted);
                } else {
                    for (size_t i = 0; i < N_CLOCKS; i++)
                        jit_step(&s->jit[i], clock_candidates[i], dt, (double)step, counted);
                }
                s->jit_steps++;
                s->jit_counted += (uint64_t)counted;
                s->ts_advance += step;
            } else {
                s->first_rtp_arrival = arrival_ns;
            }
            s->have_prev_rtp = 1;
            s->prev_cn = s->pt == PT_CN;
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

/* The clock of the stream's jitter and the jitter in it, in ms. */
static void
stream_jitter(const struct trx_rstats *rs, const struct rstream *s, struct trx_stream_stats *out)
{
    out->jitter_ms = out->jitter_mean_ms = out->jitter_max_ms = (double)NAN;
    out->clock_measured_hz = (double)NAN;
    if (!s->key.rtp || !s->have_prev_rtp)
        return;
    const struct jit *t = &s->jit[0];
    uint32_t hz = s->clock_hz;
    if (hz) {
        out->clock_source = rs->o.clock_rate_hz ? TRX_CLOCK_OPTION : TRX_CLOCK_PAYLOAD_TYPE;
    } else {
        double rate;
        int i = measured_clock(s, &rate);
        if (rate > 0)
            out->clock_measured_hz = rate;
        out->clock_source = i >= 0 ? TRX_CLOCK_MEASURED : TRX_CLOCK_ASSUMED;
        /* Nothing to measure by, or no clock near: 90 kHz, as RFC 3551 has for video. */
        if (i < 0)
            i = (int)N_CLOCKS - 1;
        hz = clock_candidates[i];
        t = &s->jit[i];
    }
    out->clock_rate_hz = hz;
    out->jitter_ms = t->j / (double)hz * 1e3;
    out->jitter_max_ms = t->max / (double)hz * 1e3;
    out->jitter_mean_ms = s->jit_counted ? t->sum / (double)s->jit_counted / (double)hz * 1e3 : 0.0;
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
    stream_jitter(rs, s, out);
    out->packets = s->packets;
    out->bytes = s->bytes;
    stream_loss(s, &out->expected, &out->lost);
    out->reordered = s->reordered;
    out->duplicates = s->duplicates;
    out->stray = s->stray + (uint64_t)s->pending;
    out->restarts = s->restarts;
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

double trx_rstats_jitter_worst_ms(const struct trx_rstats *rs)
{
    double worst = 0;
    for (size_t i = 0; i < rs->n; i++) {
        /* stream_jitter() alone: trx_rstats_stream() would also walk the histograms. */
        struct trx_stream_stats j;
        memset(&j, 0, sizeof(j));
        stream_jitter(rs, &rs->v[i], &j);
        if (isfinite(j.jitter_ms) && j.jitter_ms > worst)
            worst = j.jitter_ms;
    }
    return worst;
}

void trx_rstats_totals(const struct trx_rstats *rs, struct trx_rstats_totals *out)
{
    memset(out, 0, sizeof(*out));
    out->rtcp = rs->rtcp;
    out->over_cap = rs->over_cap;
    out->streams = rs->n;
    out->max_streams = rs->o.max_streams;
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
    size_t n = sizeof(*rs) + rs->cap * sizeof(*rs->v) + fm_map_mem_bytes(&rs->index);
    for (size_t i = 0; i < rs->n; i++)
        n += fm_hist_mem_bytes(&rs->v[i].iat) + fm_hist_mem_bytes(&rs->v[i].len);
    return n;
}

size_t trx_rstats_stream_mem_max(void)
{
    /* Two slots of the stream array (which grows by doubling) and four of the index (at most
     * half full, doubling), and the most both histograms can hold; lengths reach 2^32 at
     * most. */
    return 2 * sizeof(struct rstream) + 4 * (sizeof(struct skey) + sizeof(size_t)) +
           fm_hist_mem_max(TRX_RSTATS_GAP_BITS) +
           (size_t)(33 - TRX_RSTATS_LEN_BITS) * ((size_t)8 << TRX_RSTATS_LEN_BITS);
}

struct trx_stream_stats *trx_rstats_streams(struct trx_rstats *rs, size_t *n)
{
    *n = rs->n;
    if (rs->n == 0)
        return NULL;
    struct trx_stream_stats *v = calloc(rs->n, sizeof(*v));
    if (!v)
        return NULL;
    for (size_t i = 0; i < rs->n; i++)
        trx_rstats_stream(rs, i, &v[i]);
    return v;
}

int trx_rstats_gather(struct trx_rstats *rs, struct trx_rstats_merged *out, struct fm_err *err)
{
    memset(out, 0, sizeof(*out));
    size_t n = 0;
    struct trx_stream_stats *mine = trx_rstats_streams(rs, &n);
    int size = fm_par_size();
    int root = fm_par_rank() == 0;
    struct trx_rstats_rank me;
    memset(&me, 0, sizeof(me));
    me.rank = fm_par_rank();
    if (gethostname(me.host, sizeof(me.host) - 1) != 0)
        snprintf(me.host, sizeof(me.host), "?");
    trx_rstats_totals(rs, &me.t);
    if (root)
        out->rank = calloc((size_t)size, sizeof(*out->rank));
    size_t *lens = root ? calloc((size_t)size, sizeof(*lens)) : NULL;
    /* Every rank makes every call, whatever failed here, so that none waits alone. */
    int ok = fm_par_all_ok((mine || n == 0) && (!root || (out->rank && lens)));
    void *all = NULL;
    int rc = ok ? FM_OK : fm_err_set(err, FM_ENOMEM, "merging the ranks' streams: out of memory");
    if (rc == FM_OK)
        rc = fm_par_gather(&me, sizeof(me), out->rank, err);
    if (rc == FM_OK)
        rc = fm_par_gatherv(mine, n * sizeof(*mine), &all, lens, err);
    free(mine);
    if (rc == FM_OK && root && out->rank && lens) {
        size_t bytes = 0;
        for (int r = 0; r < size; r++)
            bytes += lens[r];
        out->s = all;
        all = NULL;
        out->n = bytes / sizeof(*out->s);
        out->size = size;
        for (int r = 0; r < size; r++) {
            const struct trx_rstats_totals *t = &out->rank[r].t;
            out->t.packets += t->packets;
            out->t.bytes += t->bytes;
            out->t.lost += t->lost;
            out->t.rtcp += t->rtcp;
            out->t.over_cap += t->over_cap;
            out->t.streams += t->streams;
            if (t->max_streams > out->t.max_streams)
                out->t.max_streams = t->max_streams;
            if (t->streams && (out->t.first_ns == 0 || t->first_ns < out->t.first_ns))
                out->t.first_ns = t->first_ns;
            if (t->streams && t->last_ns > out->t.last_ns)
                out->t.last_ns = t->last_ns;
        }
    }
    free(all);
    free(lens);
    if (rc < 0)
        trx_rstats_merged_free(out);
    return rc;
}

void trx_rstats_merged_free(struct trx_rstats_merged *m)
{
    free(m->s);
    free(m->rank);
    memset(m, 0, sizeof(*m));
}
