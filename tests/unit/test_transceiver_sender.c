/* tests/unit/test_transceiver_sender.c - the send loop on a fake clock and memory sinks:
 * deadlines kept exactly, no accumulated error over 1e5 packets with late wake-ups,
 * interleaved streams in order, count / duration / rate cap, stop, send errors, status
 * callbacks, the probe stamped at the send time, and the lateness histogram's quantiles. */
#include "tests/support/test_util.h"

#include <string.h>

#include "transceiver/packet.h"
#include "transceiver/sender.h"
#include "transceiver/sender_int.h"
#include "transceiver/sink.h"
#include "transceiver/source.h"

/* ---- a fake clock: time moves only by sleeping (plus an optional late wake-up) ---- */

struct fake {
    int64_t t;
    int64_t overshoot_max; /* each sleep wakes 0..overshoot_max late (deterministic) */
    uint64_t lcg;
};

static int64_t fake_now(void *arg)
{
    return ((struct fake *)arg)->t;
}

static void fake_sleep_until(void *arg, int64_t deadline)
{
    struct fake *f = arg;
    int64_t late = 0;
    if (f->overshoot_max) {
        f->lcg = f->lcg * 6364136223846793005ULL + 1442695040888963407ULL;
        late = (int64_t)((f->lcg >> 33) % (uint64_t)(f->overshoot_max + 1));
    }
    if (deadline > f->t)
        f->t = deadline + late;
}

static void fake_clock(struct fake *f, struct trx_clock *c)
{
    memset(f, 0, sizeof(*f));
    f->t = 5000000000LL;
    f->lcg = 7;
    c->now = fake_now;
    c->sleep_until = fake_sleep_until;
    c->arg = f;
}

/* ---- a source over a generated schedule ---- */

struct vsrc {
    uint64_t n, i;
    unsigned streams;
    int64_t gap_ns;     /* per stream */
    int64_t stagger_ns; /* stream s starts at s * stagger */
    uint32_t payload_len;
    int fail_at; /* return FM_EIO at this index, or -1 */
};

/* Packet i of a round-robin merge: stream i % streams, its (i / streams)-th packet. */
static int vsrc_next(void *self, struct trx_pkt *p, const uint8_t **orig, struct fm_err *err)
{
    struct vsrc *v = self;
    if (v->fail_at >= 0 && v->i == (uint64_t)v->fail_at)
        return fm_err_set(err, FM_EIO, "source broke");
    if (v->i >= v->n)
        return 0;
    memset(p, 0, sizeof(*p));
    uint32_t s = (uint32_t)(v->i % v->streams);
    uint64_t k = v->i / v->streams;
    p->stream = s;
    p->offset_ns = (int64_t)k * v->gap_ns + (int64_t)s * v->stagger_ns;
    p->payload_len = v->payload_len;
    p->addr.ip_version = 4;
    p->rtp = 1;
    p->rtp_seq = (uint16_t)k;
    p->probe_seq = (uint32_t)k;
    *orig = NULL;
    v->i++;
    return 1;
}

static void vsrc_free(void *self)
{
    (void)self;
}

static const struct trx_source_ops vsrc_ops = {vsrc_next, vsrc_free};

static struct trx_source vsrc_make(struct vsrc *v, uint64_t n, unsigned streams, int64_t gap)
{
    memset(v, 0, sizeof(*v));
    v->n = n;
    v->streams = streams;
    v->gap_ns = gap;
    v->payload_len = 200;
    v->fail_at = -1;
    struct trx_source s = {&vsrc_ops, v};
    return s;
}

/* ---- a sink that checks every send without keeping it (for long runs) ---- */

struct csink {
    uint64_t n;
    int64_t start; /* the expected deadline of packet i is start + i * gap */
    int64_t gap;
    int64_t max_err; /* largest |ts - deadline| */
    int64_t last_err;
    int fail_every; /* fail sends whose index % fail_every == 0 (0: never) */
    volatile sig_atomic_t *stop;
    uint64_t stop_after;
    struct fake *clock; /* when set, every send costs cost_ns of its time */
    int64_t cost_ns;
};

static int csink_send(void *self,
                      const struct trx_pkt *p,
                      const uint8_t *payload,
                      size_t len,
                      int64_t ts_ns,
                      struct fm_err *err)
{
    struct csink *c = self;
    (void)p;
    (void)payload;
    (void)len;
    uint64_t i = c->n++;
    if (c->clock)
        c->clock->t += c->cost_ns;
    int64_t e = ts_ns - (c->start + (int64_t)i * c->gap);
    c->last_err = e;
    if (e < 0)
        e = -e;
    if (e > c->max_err)
        c->max_err = e;
    if (c->stop && c->n >= c->stop_after)
        *c->stop = 1;
    if (c->fail_every && i % (uint64_t)c->fail_every == 0)
        return fm_err_set(err, FM_ENET, "send %llu failed", (unsigned long long)i);
    return FM_OK;
}

static int csink_close(void *self, int commit, struct fm_err *err)
{
    (void)self;
    (void)commit;
    (void)err;
    return FM_OK;
}

static const struct trx_sink_ops csink_ops = {.send = csink_send, .close = csink_close};

static void test_deadlines_exact(void **state)
{
    (void)state;
    struct fake f;
    struct trx_clock clk;
    fake_clock(&f, &clk);
    struct vsrc v;
    struct trx_source src = vsrc_make(&v, 50, 1, 100000);
    struct trx_sink *sink = NULL;
    assert_int_equal(trx_sink_mem_new(100, &sink, NULL), FM_OK);
    struct trx_send_opts o;
    trx_send_opts_init(&o);
    o.timer = TRX_TIMER_SLEEP;
    struct trx_send_stats st;
    int64_t start = f.t;
    assert_int_equal(trx_send_run(&src, sink, &o, &clk, &st, NULL, NULL, NULL, NULL), FM_OK);
    size_t n = 0;
    const struct trx_mem_rec *r = trx_sink_mem_records(sink, &n);
    assert_int_equal(n, 50);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(r[i].ts_ns, start + (int64_t)i * 100000);
    assert_int_equal(st.packets, 50);
    assert_int_equal(st.bytes, 50 * 200);
    assert_int_equal(st.late, 0);
    assert_int_equal(st.late_max_ns, 0);
    assert_int_equal(st.late_p99_ns, 0);
    assert_int_equal(st.elapsed_ns, 49 * 100000);
    assert_double_near(st.mean_pps, 50 / 4.9e-3, 1e-6);
    assert_int_equal(trx_sink_close(sink, 1, NULL), FM_OK);
}

/* Every wake-up is up to 30 us late; after 1e5 packets at 100 us the error is still bounded
 * by one wake-up, not by their sum: deadlines are absolute. */
static void test_no_accumulation(void **state)
{
    (void)state;
    struct fake f;
    struct trx_clock clk;
    fake_clock(&f, &clk);
    f.overshoot_max = 30000;
    struct vsrc v;
    struct trx_source src = vsrc_make(&v, 100000, 1, 100000);
    struct csink cs = {0};
    cs.start = f.t;
    cs.gap = 100000;
    struct trx_sink sink = {&csink_ops, &cs};
    struct trx_send_opts o;
    trx_send_opts_init(&o);
    o.timer = TRX_TIMER_SLEEP;
    struct trx_send_stats st;
    assert_int_equal(trx_send_run(&src, &sink, &o, &clk, &st, NULL, NULL, NULL, NULL), FM_OK);
    assert_int_equal(cs.n, 100000);
    assert_true(cs.max_err <= 30000);
    assert_true(cs.last_err <= 30000);
    assert_true(st.late_max_ns <= 30000);
    assert_true(st.late_p50_ns > 0);
    assert_int_equal(st.late, 0); /* late means > 100 us */
}

/* A sender that cannot keep up (each send costs 50 us, the schedule asks for one every
 * 1 us) stops when --duration has passed on the clock, not when the schedule reaches it
 * (which would take 50 times as long), and says it fell behind. On time, it is not. */
static void test_duration_is_wall_clock(void **state)
{
    (void)state;
    struct fake f;
    struct trx_clock clk;
    fake_clock(&f, &clk);
    struct vsrc v;
    struct trx_source src = vsrc_make(&v, 1000000, 1, 1000);
    struct csink cs = {0};
    cs.clock = &f;
    cs.cost_ns = 50000;
    struct trx_sink sink = {&csink_ops, &cs};
    struct trx_send_opts o;
    trx_send_opts_init(&o);
    o.timer = TRX_TIMER_SLEEP;
    o.duration_ns = 10000000; /* 10 ms: 10,000 packets on the schedule */
    struct trx_send_stats st;
    int64_t start = f.t;
    assert_int_equal(trx_send_run(&src, &sink, &o, &clk, &st, NULL, NULL, NULL, NULL), FM_OK);
    assert_int_equal(st.cut_short, 1);
    assert_true(f.t - start <= o.duration_ns + cs.cost_ns); /* one send past the end at most */
    assert_int_equal(cs.n, 200);
    assert_int_equal(st.packets, 200);
    assert_true(st.behind_ns > 9000000); /* the 201st packet was due at 0.2 ms, now is 10 ms */
    assert_true(trx_send_behind(&st));
    assert_true(st.late * 2 > st.packets);

    /* On time: the same duration at 100 us gaps ends on the schedule, not cut short. */
    fake_clock(&f, &clk);
    src = vsrc_make(&v, 1000000, 1, 100000);
    memset(&cs, 0, sizeof(cs));
    struct trx_sink sink2 = {&csink_ops, &cs};
    assert_int_equal(trx_send_run(&src, &sink2, &o, &clk, &st, NULL, NULL, NULL, NULL), FM_OK);
    assert_int_equal(st.cut_short, 0);
    assert_int_equal(st.packets, 100);
    assert_false(trx_send_behind(&st));
}

static void test_streams_interleaved(void **state)
{
    (void)state;
    struct fake f;
    struct trx_clock clk;
    fake_clock(&f, &clk);
    struct vsrc v;
    struct trx_source src = vsrc_make(&v, 300, 3, 300000);
    v.stagger_ns = 100000; /* streams 0, 1, 2 at 0, 100, 200 us of every 300 us */
    struct trx_sink *sink = NULL;
    assert_int_equal(trx_sink_mem_new(300, &sink, NULL), FM_OK);
    struct trx_send_opts o;
    trx_send_opts_init(&o);
    o.timer = TRX_TIMER_SLEEP;
    struct trx_send_stats st;
    int64_t start = f.t;
    assert_int_equal(trx_send_run(&src, sink, &o, &clk, &st, NULL, NULL, NULL, NULL), FM_OK);
    size_t n = 0;
    const struct trx_mem_rec *r = trx_sink_mem_records(sink, &n);
    assert_int_equal(n, 300);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(r[i].pkt.stream, i % 3);
        assert_int_equal(r[i].ts_ns, start + (int64_t)i * 100000);
        assert_int_equal(r[i].pkt.rtp_seq, i / 3);
    }
    assert_int_equal(trx_sink_close(sink, 1, NULL), FM_OK);
}

static void test_count_duration_rate(void **state)
{
    (void)state;
    struct fake f;
    struct trx_clock clk;
    struct vsrc v;
    struct trx_send_opts o;
    struct trx_send_stats st;
    struct trx_sink *sink = NULL;
    size_t n = 0;

    /* count */
    fake_clock(&f, &clk);
    struct trx_source src = vsrc_make(&v, 1000, 1, 1000000);
    assert_int_equal(trx_sink_mem_new(1000, &sink, NULL), FM_OK);
    trx_send_opts_init(&o);
    o.timer = TRX_TIMER_SLEEP;
    o.count = 10;
    assert_int_equal(trx_send_run(&src, sink, &o, &clk, &st, NULL, NULL, NULL, NULL), FM_OK);
    trx_sink_mem_records(sink, &n);
    assert_int_equal(n, 10);
    assert_int_equal(st.packets, 10);
    assert_int_equal(trx_sink_close(sink, 1, NULL), FM_OK);

    /* duration: packets at 0, 1, ..., 5 ms fall before 5.5 ms */
    fake_clock(&f, &clk);
    src = vsrc_make(&v, 1000, 1, 1000000);
    assert_int_equal(trx_sink_mem_new(1000, &sink, NULL), FM_OK);
    trx_send_opts_init(&o);
    o.timer = TRX_TIMER_SLEEP;
    o.duration_ns = 5500000;
    assert_int_equal(trx_send_run(&src, sink, &o, &clk, &st, NULL, NULL, NULL, NULL), FM_OK);
    trx_sink_mem_records(sink, &n);
    assert_int_equal(n, 6);
    assert_int_equal(trx_sink_close(sink, 1, NULL), FM_OK);

    /* rate cap: a burst (all offsets 0 ... every 1 us) spaced to 1 ms at 1000 pps */
    fake_clock(&f, &clk);
    int64_t start = f.t;
    src = vsrc_make(&v, 20, 1, 1000);
    assert_int_equal(trx_sink_mem_new(100, &sink, NULL), FM_OK);
    trx_send_opts_init(&o);
    o.timer = TRX_TIMER_SLEEP;
    o.max_rate_pps = 1000;
    assert_int_equal(trx_send_run(&src, sink, &o, &clk, &st, NULL, NULL, NULL, NULL), FM_OK);
    const struct trx_mem_rec *r = trx_sink_mem_records(sink, &n);
    assert_int_equal(n, 20);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(r[i].ts_ns, start + (int64_t)i * 1000000);
    assert_int_equal(st.late_max_ns, 0); /* lateness is measured against the capped deadline */
    assert_int_equal(trx_sink_close(sink, 1, NULL), FM_OK);
}

static void test_stop_flag(void **state)
{
    (void)state;
    struct fake f;
    struct trx_clock clk;
    fake_clock(&f, &clk);
    struct vsrc v;
    struct trx_source src = vsrc_make(&v, 1000, 1, 100000);
    volatile sig_atomic_t stop = 0;
    struct csink cs = {0};
    cs.start = f.t;
    cs.gap = 100000;
    cs.stop = &stop;
    cs.stop_after = 5;
    struct trx_sink sink = {&csink_ops, &cs};
    struct trx_send_opts o;
    trx_send_opts_init(&o);
    o.timer = TRX_TIMER_SLEEP; /* the fake clock moves only by sleeping */
    struct trx_send_stats st;
    struct fm_err err = {0};
    assert_int_equal(trx_send_run(&src, &sink, &o, &clk, &st, NULL, NULL, &stop, &err), FM_EINTR);
    assert_int_equal(st.packets, 5);
    assert_int_equal(cs.n, 5);
}

static void test_send_errors(void **state)
{
    (void)state;
    struct fake f;
    struct trx_clock clk;
    struct vsrc v;
    struct trx_send_opts o;
    struct trx_send_stats st;
    struct fm_err err = {0};

    /* Some sends fail: counted, the run goes on. */
    fake_clock(&f, &clk);
    struct trx_source src = vsrc_make(&v, 100, 1, 1000);
    struct csink cs = {0};
    cs.start = f.t;
    cs.gap = 1000;
    cs.fail_every = 10;
    struct trx_sink sink = {&csink_ops, &cs};
    trx_send_opts_init(&o);
    o.timer = TRX_TIMER_SLEEP;
    assert_int_equal(trx_send_run(&src, &sink, &o, &clk, &st, NULL, NULL, NULL, &err), FM_OK);
    assert_int_equal(st.packets, 90);
    assert_int_equal(st.errors, 10);
    assert_int_equal(st.first_error_code, FM_ENET);
    assert_string_equal(st.first_error, "send 0 failed");

    /* Every send fails: the loop gives up after 100. */
    fake_clock(&f, &clk);
    src = vsrc_make(&v, 100000, 1, 1000);
    memset(&cs, 0, sizeof(cs));
    cs.fail_every = 1;
    assert_int_equal(trx_send_run(&src, &sink, &o, &clk, &st, NULL, NULL, NULL, &err), FM_ENET);
    assert_int_equal(st.errors, 100);
    assert_non_null(strstr(err.msg, "send 0 failed"));

    /* A source error ends the run with that error. */
    fake_clock(&f, &clk);
    src = vsrc_make(&v, 100, 1, 1000);
    v.fail_at = 7;
    memset(&cs, 0, sizeof(cs));
    assert_int_equal(trx_send_run(&src, &sink, &o, &clk, &st, NULL, NULL, NULL, &err), FM_EIO);
    assert_int_equal(st.packets, 7);
}

struct status_log {
    unsigned calls;
    uint64_t packets[64];
};

static void on_status(const struct trx_send_stats *s, void *arg)
{
    struct status_log *l = arg;
    if (l->calls < 64)
        l->packets[l->calls] = s->packets;
    l->calls++;
}

static void test_status_once_a_second(void **state)
{
    (void)state;
    struct fake f;
    struct trx_clock clk;
    fake_clock(&f, &clk);
    struct vsrc v;
    struct trx_source src = vsrc_make(&v, 501, 1, 10000000); /* 10 ms gaps over 5 s */
    struct csink cs = {0};
    struct trx_sink sink = {&csink_ops, &cs};
    struct trx_send_opts o;
    trx_send_opts_init(&o);
    o.timer = TRX_TIMER_SLEEP;
    struct trx_send_stats st;
    struct status_log log = {0};
    assert_int_equal(trx_send_run(&src, &sink, &o, &clk, &st, on_status, &log, NULL, NULL), FM_OK);
    assert_true(log.calls >= 4 && log.calls <= 5);
    assert_true(log.packets[0] >= 99 && log.packets[0] <= 101);
}

/* The probe carries the moment of the send, not of the build, plus the clock offset. */
static void test_probe_stamped_at_send(void **state)
{
    (void)state;
    struct fake f;
    struct trx_clock clk;
    fake_clock(&f, &clk);
    f.overshoot_max = 50000;
    struct vsrc v;
    struct trx_source src = vsrc_make(&v, 20, 1, 1000000);
    struct trx_sink *sink = NULL;
    assert_int_equal(trx_sink_mem_new(20, &sink, NULL), FM_OK);
    struct trx_send_opts o;
    trx_send_opts_init(&o);
    o.timer = TRX_TIMER_SLEEP;
    o.probe_clock_offset_ns = 1000;
    struct trx_send_stats st;
    assert_int_equal(trx_send_run(&src, sink, &o, &clk, &st, NULL, NULL, NULL, NULL), FM_OK);
    size_t n = 0;
    const struct trx_mem_rec *r = trx_sink_mem_records(sink, &n);
    assert_int_equal(n, 20);
    for (size_t i = 0; i < n; i++) {
        struct pkt_probe pr;
        assert_int_equal(pkt_probe_decode(r[i].payload, r[i].len, &pr), 1);
        assert_int_equal(pr.send_time_ns, r[i].ts_ns + 1000);
        assert_int_equal(pr.seq, i);
    }
    assert_int_equal(trx_sink_close(sink, 1, NULL), FM_OK);
}

static void test_histogram_quantiles(void **state)
{
    (void)state;
    struct trx_lat_hist h;
    trx_lat_hist_init(&h);
    assert_int_equal(trx_lat_hist_quantile(&h, 0.5), 0);
    /* Small values are exact. */
    for (int v = 0; v < 60; v++)
        trx_lat_hist_add(&h, v);
    assert_int_equal(trx_lat_hist_quantile(&h, 0.5), 29);
    assert_int_equal(trx_lat_hist_quantile(&h, 1.0), 59);
    assert_int_equal(h.max_ns, 59);

    /* 1..1000 us: p50 = 500 us and p99 = 990 us within the 1/64 bucket resolution. */
    trx_lat_hist_init(&h);
    for (int v = 1000; v >= 1; v--)
        trx_lat_hist_add(&h, (int64_t)v * 1000);
    assert_double_near((double)trx_lat_hist_quantile(&h, 0.5), 500000.0, 500000.0 / 64);
    assert_double_near((double)trx_lat_hist_quantile(&h, 0.99), 990000.0, 990000.0 / 64);
    assert_int_equal(trx_lat_hist_quantile(&h, 1.0), 1000000);
    assert_int_equal(h.max_ns, 1000000);
    assert_int_equal(h.n, 1000);

    /* Negative lateness (early) counts as 0; a huge value stays within range. */
    trx_lat_hist_init(&h);
    trx_lat_hist_add(&h, -5);
    trx_lat_hist_add(&h, INT64_MAX);
    assert_int_equal(trx_lat_hist_quantile(&h, 0.5), 0);
    assert_int_equal(trx_lat_hist_quantile(&h, 1.0), INT64_MAX);
}

/* ---- a batching sink (queue/flush): records each flush's size and time ---- */

struct bsink {
    struct fake *clock;
    int64_t queue_cost_ns; /* each queue() takes this long on the fake clock */
    uint64_t held;
    size_t nflush;
    uint64_t flush_n[256];
    int64_t flush_t[256];
    int fail_one;     /* every flush reports one failed packet: the first one held */
    size_t first_len; /* payload length of the first packet held */
};

static int bsink_queue(void *self,
                       const struct trx_pkt *p,
                       const uint8_t *payload,
                       size_t len,
                       struct trx_sink_failed *failed,
                       struct fm_err *err)
{
    struct bsink *b = self;
    (void)p;
    (void)payload;
    (void)failed;
    (void)err;
    b->clock->t += b->queue_cost_ns;
    if (b->held++ == 0)
        b->first_len = len;
    return FM_OK;
}

static int bsink_flush(void *self, struct trx_sink_failed *failed, struct fm_err *err)
{
    struct bsink *b = self;
    if (b->nflush < 256) {
        b->flush_n[b->nflush] = b->held;
        b->flush_t[b->nflush] = b->clock->t;
    }
    b->nflush++;
    b->held = 0;
    if (b->fail_one) {
        failed->packets++;
        failed->bytes += b->first_len;
        return fm_err_set(err, FM_ENET, "one of the batch failed");
    }
    return FM_OK;
}

static int bsink_send(void *self,
                      const struct trx_pkt *p,
                      const uint8_t *payload,
                      size_t len,
                      int64_t ts_ns,
                      struct fm_err *err)
{
    (void)self;
    (void)p;
    (void)payload;
    (void)len;
    (void)ts_ns;
    return fm_err_set(err, FM_EINVAL, "a batching sink gets queue(), not send()");
}

static const struct trx_sink_ops bsink_ops = {
    .send = bsink_send, .queue = bsink_queue, .flush = bsink_flush, .close = csink_close};

/* 3 streams with no stagger, 300 packets: every 1 ms three packets are due at once, played
 * into the batching sink b (each queue() taking cost_ns on the fake clock f). */
static void
run_batches(struct fake *f, struct bsink *b, int fail, int64_t cost_ns, struct trx_send_stats *st)
{
    struct trx_clock clk;
    fake_clock(f, &clk);
    struct vsrc v;
    struct trx_source src = vsrc_make(&v, 300, 3, 1000000);
    memset(b, 0, sizeof(*b));
    b->clock = f;
    b->fail_one = fail;
    b->queue_cost_ns = cost_ns;
    struct trx_sink sink = {&bsink_ops, b};
    struct trx_send_opts o;
    trx_send_opts_init(&o);
    o.timer = TRX_TIMER_SLEEP;
    assert_int_equal(trx_send_run(&src, &sink, &o, &clk, st, NULL, NULL, NULL, NULL), FM_OK);
}

static void test_batching(void **state)
{
    (void)state;
    for (int fail = 0; fail < 2; fail++) {
        struct fake f;
        struct bsink b;
        struct trx_send_stats st;
        run_batches(&f, &b, fail, 0, &st);
        /* One batch per deadline, holding the three packets due then, sent at that deadline
         * (before the wait for the next one), not a millisecond later. */
        int64_t start = 5000000000LL; /* fake_clock()'s start: the first deadline */
        assert_int_equal(b.nflush, 100);
        for (size_t i = 0; i < b.nflush; i++) {
            assert_int_equal(b.flush_n[i], 3);
            assert_int_equal(b.flush_t[i], start + (int64_t)i * 1000000);
        }
        assert_int_equal(st.packets, fail ? 200 : 300);
        /* The failed packets' bytes are not counted as sent either. */
        assert_int_equal(st.bytes, st.packets * 200);
        assert_int_equal(st.errors, fail ? 100 : 0);
        if (fail)
            assert_non_null(strstr(st.first_error, "one of the batch failed"));
    }
}

/* Lateness is taken when a batch leaves: three packets due at once, each taking 2 us to
 * queue, all leave 6 us late (measured as each was queued, it would read 0, 2 and 4 us). */
static void test_batch_lateness(void **state)
{
    (void)state;
    struct fake f;
    struct bsink b;
    struct trx_send_stats st;
    run_batches(&f, &b, 0, 2000, &st);
    assert_int_equal(st.packets, 300);
    assert_int_equal(b.nflush, 100);
    /* p50 within the histogram's resolution (2^-5) of 6 us; measured per queue() it is 2 us. */
    assert_true(st.late_p50_ns >= 5900 && st.late_p50_ns <= 6000);
    assert_int_equal(st.late_max_ns, 6000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadlines_exact),
        cmocka_unit_test(test_no_accumulation),
        cmocka_unit_test(test_duration_is_wall_clock),
        cmocka_unit_test(test_streams_interleaved),
        cmocka_unit_test(test_count_duration_rate),
        cmocka_unit_test(test_stop_flag),
        cmocka_unit_test(test_send_errors),
        cmocka_unit_test(test_status_once_a_second),
        cmocka_unit_test(test_probe_stamped_at_send),
        cmocka_unit_test(test_histogram_quantiles),
        cmocka_unit_test(test_batching),
        cmocka_unit_test(test_batch_lateness),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
