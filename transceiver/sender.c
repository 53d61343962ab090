/* transceiver/sender.c - the send loop: packets from a source to a sink at their deadlines.
 * One loop serves any number of streams: the source merges them into one ordered sequence,
 * so a host can play hundreds of streams from a single thread and a single timer.
 *
 * Per packet: wait for the deadline (start + offset), stamp the probe, send, then fetch and
 * build the next packet at once, so the building happens in the slack before the next
 * deadline rather than between a wake-up and its send. Nothing is logged per packet:
 * lateness goes into a fixed-size histogram. */
#include "transceiver/sender.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transceiver/sender_int.h"

#define NS_PER_SEC 1000000000LL

/* The status callback is due once a second; it is skipped while the next deadline is closer
 * than this (printing a line costs tens of microseconds on a slow terminal), unless it is
 * overdue by another second, so a dense schedule still gets a status line. */
#define STATUS_SLACK_NS 500000LL

/* When every one of this many sends failed and none went out, the sink is broken (interface
 * gone, no route): stop instead of counting errors forever. */
#define ALL_FAILED_LIMIT 100
/* Most packets a batching sink holds before they must go. */
#define QUEUE_LIMIT 64

void trx_lat_hist_init(struct trx_lat_hist *h)
{
    memset(h, 0, sizeof(*h));
}

static unsigned hist_index(uint64_t v)
{
    if (v < (uint64_t)(2 * TRX_HIST_SUB))
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = e - TRX_HIST_SUB_BITS;
    return (shift + 1u) * TRX_HIST_SUB + (unsigned)((v >> shift) - TRX_HIST_SUB);
}

void trx_lat_hist_add(struct trx_lat_hist *h, int64_t v_ns)
{
    if (v_ns < 0)
        v_ns = 0;
    h->bucket[hist_index((uint64_t)v_ns)]++;
    if (h->n == 0 || v_ns > h->max_ns)
        h->max_ns = v_ns;
    h->n++;
}

int64_t trx_lat_hist_quantile(const struct trx_lat_hist *h, double q)
{
    if (h->n == 0)
        return 0;
    /* The rank of the quantile, 1-based: the smallest value with at least q*n at or below. */
    uint64_t rank = (uint64_t)ceil(q * (double)h->n);
    if (rank < 1)
        rank = 1;
    if (rank >= h->n)
        return h->max_ns; /* the top of the distribution is known exactly */
    uint64_t seen = 0;
    for (unsigned i = 0; i < TRX_HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen < rank)
            continue;
        if (i < 2 * TRX_HIST_SUB)
            return (int64_t)i;
        unsigned shift = i / TRX_HIST_SUB - 1u;
        uint64_t lo = (uint64_t)(i % TRX_HIST_SUB + TRX_HIST_SUB) << shift;
        uint64_t mid = lo + (((uint64_t)1 << shift) - 1u) / 2u;
        return mid > (uint64_t)h->max_ns ? h->max_ns : (int64_t)mid;
    }
    return h->max_ns;
}

int trx_send_behind(const struct trx_send_stats *s)
{
    if (s->cut_short)
        return 1;
    return s->packets >= TRX_BEHIND_MIN_PACKETS && s->late * 2 > s->packets;
}

void trx_send_opts_init(struct trx_send_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->timer = TRX_TIMER_HYBRID;
    o->spin_ns = 200000;
    o->late_ns = 100000;
}

/* The loop's state, kept together so that the stats can be refreshed from one place. */
struct loop {
    struct trx_lat_hist hist;
    int64_t start_ns;
    int64_t last_send_ns;
    int64_t recent_max_ns; /* the worst lateness since the last status callback */
    int64_t late_ns;       /* what counts as late (the options') */
    /* The deadlines of the packets a batching sink holds: their lateness is known only when
     * the batch goes out. */
    unsigned queued;
    int64_t queued_deadline[QUEUE_LIMIT];
};

/* A packet left at t, due at deadline. */
static void note_sent(struct loop *lp, struct trx_send_stats *st, int64_t deadline, int64_t t)
{
    int64_t late = t - deadline;
    trx_lat_hist_add(&lp->hist, late);
    if (late > lp->recent_max_ns)
        lp->recent_max_ns = late;
    if (late > lp->late_ns)
        st->late++;
    lp->last_send_ns = t;
}

/* The stats as of end_ns: the last send for the summary, the clock's now for a status (so
 * that an interval's boundary is seen when it passes, not at the next send). */
static void fill_stats(const struct loop *lp, struct trx_send_stats *st, int64_t end_ns)
{
    st->late_p50_ns = trx_lat_hist_quantile(&lp->hist, 0.50);
    st->late_p99_ns = trx_lat_hist_quantile(&lp->hist, 0.99);
    st->late_max_ns = lp->hist.n ? lp->hist.max_ns : 0;
    st->late_max_recent_ns = lp->recent_max_ns;
    st->elapsed_ns = end_ns > lp->start_ns ? end_ns - lp->start_ns : 0;
    if (st->elapsed_ns > 0) {
        double secs = (double)st->elapsed_ns / (double)NS_PER_SEC;
        st->mean_pps = (double)st->packets / secs;
        st->mean_mbps = (double)st->bytes * 8.0 / secs / 1e6;
    } else {
        st->mean_pps = 0.0;
        st->mean_mbps = 0.0;
    }
}

static void note_send_error(struct trx_send_stats *st, const struct fm_err *e)
{
    if (st->errors++ == 0) {
        st->first_error_code = e->code;
        snprintf(st->first_error, sizeof(st->first_error), "%s", e->msg);
    }
}

/* Packets a sink queued for a batch were counted as sent, with their bytes, when queued:
 * take those that the batch failed to put out back out of both totals. */
static void account_failed(struct trx_send_stats *st,
                           const struct trx_sink_failed *failed,
                           const struct fm_err *se)
{
    for (uint64_t i = 0; i < failed->packets; i++) {
        st->packets--;
        note_send_error(st, se);
    }
    st->bytes -= failed->bytes;
}

/* A sink that batches (queue/flush) holds packets that were due at once, and sends them in
 * one system call when the next packet is not yet due, or QUEUE_LIMIT are held. Their lateness
 * is taken as the batch leaves, not as each was queued: building the batch makes its first
 * packets later, and the summary must show it. */
static void flush_queue(struct trx_sink *sink,
                        const struct trx_clock *clk,
                        struct loop *lp,
                        struct trx_send_stats *st)
{
    struct trx_sink_failed failed = {0, 0};
    struct fm_err se = {0};
    int64_t t = clk->now(clk->arg);
    for (unsigned i = 0; i < lp->queued; i++)
        note_sent(lp, st, lp->queued_deadline[i], t);
    sink->ops->flush(sink->self, &failed, &se);
    account_failed(st, &failed, &se);
    lp->queued = 0;
}

/* A packet built ahead of its deadline. */
struct slot {
    struct trx_pkt pkt;
    uint8_t *buf;
    size_t len;
};

/* Draw the next packet from src into sl; 1, 0 at the end, or a negative FM_E* code. */
static int build_slot(struct trx_source *src, struct slot *sl, struct fm_err *err)
{
    const uint8_t *orig = NULL;
    int have = trx_source_next(src, &sl->pkt, &orig, err);
    if (have > 0)
        sl->len = trx_payload_build(&sl->pkt, orig, sl->buf, TRX_MAX_PAYLOAD);
    return have;
}

int trx_send_run(struct trx_source *src,
                 struct trx_sink *sink,
                 const struct trx_send_opts *o,
                 const struct trx_clock *clk,
                 struct trx_send_stats *st,
                 trx_status_fn status,
                 void *arg,
                 volatile sig_atomic_t *stop,
                 struct fm_err *err)
{
    struct loop *lp = NULL;
    struct slot slots[2];
    int rc = FM_OK;

    memset(slots, 0, sizeof(slots));
    memset(st, 0, sizeof(*st));
    lp = malloc(sizeof(*lp));
    slots[0].buf = malloc(TRX_MAX_PAYLOAD);
    slots[1].buf = malloc(TRX_MAX_PAYLOAD);
    if (!lp || !slots[0].buf || !slots[1].buf) {
        rc = fm_err_set(err, FM_ENOMEM, "send buffers");
        goto out;
    }
    trx_lat_hist_init(&lp->hist);
    lp->late_ns = o->late_ns;
    lp->queued = 0;
    lp->recent_max_ns = 0;
    int64_t min_gap_ns = 0;
    if (o->max_rate_pps > 0.0)
        min_gap_ns = (int64_t)llround((double)NS_PER_SEC / o->max_rate_pps);

    /* The first packet is built before the clock starts, like every later one is built
     * before its deadline. Two slots: while packet i waits for its deadline, packet i + 1 is
     * built in the other, so that nothing stands between sending packet i and the decision
     * whether to flush it (a batching sink holds it until then). */
    struct slot *cur = &slots[0], *next = &slots[1];
    int have = build_slot(src, cur, err);
    if (have < 0) {
        rc = have;
        goto out;
    }
    int next_built = 0; /* the other slot holds the next packet (or its source's error) */
    int have_next = 0;
    struct fm_err next_err = {0};
    lp->start_ns = clk->now(clk->arg);
    lp->last_send_ns = lp->start_ns;
    int64_t last_status_ns = lp->start_ns;
    int64_t prev_deadline = INT64_MIN;
    int64_t prev_offset = INT64_MIN;

    while (have) {
        if (o->count && st->packets + st->errors >= o->count)
            break;
        const struct trx_pkt *pkt = &cur->pkt;
        /* A source that goes backwards in time is held at its latest offset: deadlines only
         * ever move forward. */
        int64_t off = pkt->offset_ns > prev_offset ? pkt->offset_ns : prev_offset;
        prev_offset = off;
        int64_t deadline = lp->start_ns + off;
        /* The rate cap spaces deadlines, not actual sends, so one late send does not make
         * the following ones later still. */
        if (min_gap_ns && prev_deadline != INT64_MIN && deadline < prev_deadline + min_gap_ns)
            deadline = prev_deadline + min_gap_ns;
        if (o->duration_ns && deadline - lp->start_ns >= o->duration_ns)
            break;
        prev_deadline = deadline;

        int64_t now = clk->now(clk->arg);
        /* The schedule's end is also the clock's: a sender that cannot keep up must not
         * overrun the time it was given by as much as it is behind. */
        if (o->duration_ns && now - lp->start_ns >= o->duration_ns) {
            st->cut_short = 1;
            st->behind_ns = now - deadline;
            break;
        }

        /* Packets already due go out together (see flush_queue()); before a real wait,
         * whatever is held must leave, or it would be as late as the wait is long. */
        if (lp->queued && now < deadline)
            flush_queue(sink, clk, lp, st);
        /* The status comes after the flush: what it reports (elapsed time, lateness) includes
         * the packets that just left, and printing never delays them. */
        if (status && now - last_status_ns >= NS_PER_SEC &&
            (deadline - now > STATUS_SLACK_NS || now - last_status_ns >= 2 * NS_PER_SEC)) {
            fill_stats(lp, st, now);
            status(st, arg);
            last_status_ns = now;
            lp->recent_max_ns = 0;
        }
        /* Build ahead: with time to spare before this deadline, the next packet is made now,
         * not between this send and the next flush. */
        if (!next_built && now < deadline) {
            /* A source error is kept until this packet, already good, has gone out. */
            have_next = build_slot(src, next, &next_err);
            next_built = 1;
        }
        int64_t t = trx_timer_wait(clk, o->timer, deadline, o->spin_ns, stop);
        if (stop && *stop) {
            rc = fm_err_set(err, FM_EINTR, "stopped");
            break;
        }
        /* The wake-up time is the send time: a second clock read here would only add its
         * own cost to every packet. Payloads copied from a capture go out byte for byte. */
        if (pkt->rtp && pkt_payload_has_probe((uint32_t)cur->len))
            pkt_probe_stamp(cur->buf, t + o->probe_clock_offset_ns);
        struct fm_err se = {0};
        if (sink->ops->queue) {
            struct trx_sink_failed failed = {0, 0};
            int qrc = sink->ops->queue(sink->self, pkt, cur->buf, cur->len, &failed, &se);
            if (qrc < 0 && failed.packets == 0) {
                note_send_error(st, &se); /* this packet could not even be built */
            } else {
                lp->queued_deadline[lp->queued++] = deadline;
                st->packets++;
                st->bytes += cur->len;
                account_failed(st, &failed, &se);
            }
            if (lp->queued >= QUEUE_LIMIT)
                flush_queue(sink, clk, lp, st);
        } else {
            if (trx_sink_send(sink, pkt, cur->buf, cur->len, t, &se) < 0) {
                note_send_error(st, &se);
            } else {
                st->packets++;
                st->bytes += cur->len;
            }
            note_sent(lp, st, deadline, t);
        }
        if (st->packets == 0 && st->errors >= ALL_FAILED_LIMIT) {
            rc = fm_err_set(err, FM_ENET, "every send failed: %s", st->first_error);
            break;
        }

        /* A packet that was due at once had no time to build the next one: build it now. */
        if (!next_built)
            have_next = build_slot(src, next, &next_err);
        if (have_next < 0) {
            rc = have_next;
            if (err)
                *err = next_err;
            break;
        }
        struct slot *done = cur;
        cur = next;
        next = done;
        have = have_next;
        next_built = 0;
    }
    if (lp->queued)
        flush_queue(sink, clk, lp, st);
    fill_stats(lp, st, lp->last_send_ns);
    if (o->lateness)
        *o->lateness = lp->hist;
out:
    free(slots[0].buf);
    free(slots[1].buf);
    free(lp);
    return rc;
}
