/* tests/unit/test_transceiver_source.c - the model source: time order, limits, streams,
 * rate scaling, fidelity of the drawn lengths, RTP fields (bursts, and frames of a sequence
 * model), headers and addresses, and determinism for a seed. */
#include "models/stats.h"
#include "tests/support/test_util.h"
#include "transceiver/source.h"

#include <string.h>

/* Mean gap of the IAT mixture below: half 0.2 ms burst gaps, half ~33 ms frame gaps. */
#define MEAN_GAP_S (0.5 * 0.0002 * 1.02020134 + 0.5 * 0.033 * 1.00501252)

static void sample_model(struct mdl_model *m)
{
    memset(m, 0, sizeof(*m));
    m->version = MDL_VERSION;
    snprintf(m->proto, sizeof(m->proto), "udp");
    snprintf(m->local.ip, sizeof(m->local.ip), "198.18.0.1");
    m->local.port = 5004;
    snprintf(m->remote.ip, sizeof(m->remote.ip), "198.18.0.2");
    m->remote.port = 6000;
    struct mdl_side *s = &m->sides[MDL_SIDE_LOCAL];
    s->present = 1;
    s->packets = 1000;
    s->duration_s = MEAN_GAP_S * 999;
    s->has_payload = 1;
    s->payload.scale = MDL_SCALE_LINEAR;
    s->payload.min = 100;
    s->payload.max = 1400;
    s->payload.resolution = 1;
    s->payload.n_atoms = 1;
    s->payload.atoms[0] = (struct mdl_atom){1400, 0.3};
    s->payload.k = 1;
    s->payload.comps[0] = (struct mdl_comp){0.7, 600, 150};
    s->has_iat = 1;
    s->iat.scale = MDL_SCALE_LOG;
    s->iat.min = 1e-5;
    s->iat.max = 0.2;
    s->iat.k = 2;
    s->iat.comps[0] = (struct mdl_comp){0.5, log(0.0002), 0.2};
    s->iat.comps[1] = (struct mdl_comp){0.5, log(0.033), 0.1};
    s->headers = (struct mdl_headers){60, 34, 1, 97, 0.5};
    /* The remote side sent a few packets: too few for a model. */
    struct mdl_side *r = &m->sides[MDL_SIDE_REMOTE];
    r->present = 1;
    r->packets = 12;
    r->duration_s = 3;
    r->headers = (struct mdl_headers){-1, -1, 0, 0, 0};
    snprintf(r->note, sizeof(r->note), "12 packets, fewer than --min-samples 100");
}

static struct trx_source *new_src(const struct mdl_model *m, const struct trx_model_opts *o)
{
    struct trx_source *s = NULL;
    struct fm_err err = {0};
    int rc = trx_source_model_new(m, o, &s, &err);
    if (rc != FM_OK)
        fail_msg("trx_source_model_new: %s", err.msg);
    return s;
}

/* Take up to max packets into a new array; *n says how many came. */
static struct trx_pkt *take(struct trx_source *s, size_t max, size_t *n)
{
    struct trx_pkt *p = calloc(max + 1, sizeof(*p));
    assert_non_null(p);
    struct fm_err err = {0};
    size_t i = 0;
    for (;;) {
        const uint8_t *orig = (const uint8_t *)"x";
        int r = trx_source_next(s, &p[i], &orig, &err);
        assert_true(r == 0 || r == 1);
        if (r == 0)
            break;
        assert_null(orig);
        if (++i > max)
            fail_msg("more than %zu packets", max);
    }
    *n = i;
    return p;
}

static void test_order_and_count(void **state)
{
    (void)state;
    struct mdl_model m;
    struct trx_model_opts o;
    sample_model(&m);
    trx_model_opts_init(&o);
    o.count = 5000;
    o.streams = 3;
    struct trx_source *s = new_src(&m, &o);
    size_t n = 0;
    struct trx_pkt *p = take(s, 10000, &n);
    assert_int_equal(n, 5000);
    for (size_t i = 1; i < n; i++) {
        if (p[i].offset_ns < p[i - 1].offset_ns)
            fail_msg("offset %zu goes back: %lld < %lld", i, (long long)p[i].offset_ns,
                     (long long)p[i - 1].offset_ns);
    }
    free(p);
    trx_source_free(s);
}

static void test_duration(void **state)
{
    (void)state;
    struct mdl_model m;
    struct trx_model_opts o;
    sample_model(&m);
    trx_model_opts_init(&o);
    o.duration_ns = 10 * 1000000000LL;
    struct trx_source *s = new_src(&m, &o);
    size_t n = 0;
    struct trx_pkt *p = take(s, 100000, &n);
    /* About 10 s / mean gap packets (~600; gaps have a coefficient of variation near 1, so
     * the count has sd ~ sqrt(600) = 25: allow 5 sd); the last packet within the largest gap
     * (0.2 s) of the end. */
    double expect = 10.0 / MEAN_GAP_S;
    assert_true(fabs((double)n - expect) < 5.0 * sqrt(expect));
    assert_true(p[n - 1].offset_ns < o.duration_ns);
    assert_true(p[n - 1].offset_ns > o.duration_ns - 200000000LL);
    free(p);
    trx_source_free(s);
}

static void test_streams(void **state)
{
    (void)state;
    struct mdl_model m;
    struct trx_model_opts o;
    enum { NS = 4 };
    sample_model(&m);
    trx_model_opts_init(&o);
    o.streams = NS;
    o.count = 4000;
    struct trx_source *s = new_src(&m, &o);
    size_t n = 0;
    struct trx_pkt *p = take(s, 4000, &n);
    assert_int_equal(n, 4000);

    /* The automatic stagger is the side's mean gap over the streams. */
    int64_t stagger = llround(m.sides[0].duration_s / 999 * 1e9) / NS;
    int64_t first[NS];
    uint32_t ssrc[NS] = {0}, count[NS] = {0}, seq[NS] = {0};
    for (int k = 0; k < NS; k++)
        first[k] = -1;
    size_t switches = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t k = p[i].stream;
        assert_true(k < NS);
        assert_int_equal(p[i].addr.sport, 5004 + k);
        assert_int_equal(p[i].addr.dport, 6000);
        if (first[k] < 0) {
            first[k] = p[i].offset_ns;
            ssrc[k] = p[i].rtp_ssrc;
            seq[k] = p[i].rtp_seq;
        } else {
            /* One SSRC per stream, consecutive RTP and probe sequence numbers. */
            assert_int_equal(p[i].rtp_ssrc, ssrc[k]);
            assert_int_equal(p[i].rtp_seq, (uint16_t)(seq[k] + count[k]));
        }
        assert_int_equal(p[i].probe_seq, count[k]);
        count[k]++;
        switches += i > 0 && p[i].stream != p[i - 1].stream;
    }
    for (int k = 0; k < NS; k++) {
        assert_true(first[k] == k * stagger);
        assert_true(ssrc[k] != 0);
        for (int j = 0; j < k; j++)
            assert_true(ssrc[j] != ssrc[k]);
        /* Equal rates: each stream has about a quarter of the packets. */
        assert_true(count[k] > 800 && count[k] < 1200);
    }
    /* Interleaved, not one stream after another: half the packets of a burst pair come in
     * order, so at least a few hundred switches from one stream to another. */
    assert_true(switches > n / 4);
    free(p);
    trx_source_free(s);

    /* An explicit stagger, and stagger 0 (all streams start together). */
    o.stagger_ns = 5000000;
    s = new_src(&m, &o);
    p = take(s, 4000, &n);
    for (int k = 0; k < NS; k++)
        first[k] = -1;
    for (size_t i = 0; i < n; i++) {
        if (first[p[i].stream] < 0)
            first[p[i].stream] = p[i].offset_ns;
    }
    for (int k = 0; k < NS; k++)
        assert_true(first[k] == k * 5000000LL);
    free(p);
    trx_source_free(s);
    o.stagger_ns = 0;
    s = new_src(&m, &o);
    p = take(s, 4000, &n);
    for (int k = 0; k < NS; k++) {
        assert_int_equal(p[k].offset_ns, 0);
        assert_int_equal(p[k].stream, k);
    }
    free(p);
    trx_source_free(s);
}

static double mean_gap(const struct trx_pkt *p, size_t n, double *var)
{
    double sum = 0.0, sq = 0.0;
    for (size_t i = 1; i < n; i++) {
        double g = (double)(p[i].offset_ns - p[i - 1].offset_ns);
        sum += g;
        sq += g * g;
    }
    double mean = sum / (double)(n - 1);
    *var = sq / (double)(n - 1) - mean * mean;
    return mean;
}

static void test_rate_scale(void **state)
{
    (void)state;
    struct mdl_model m;
    struct trx_model_opts o;
    enum { N = 20000 };
    sample_model(&m);
    trx_model_opts_init(&o);
    o.count = N;
    o.seed = 11;
    struct trx_source *s = new_src(&m, &o);
    size_t n1 = 0, n2 = 0, n3 = 0;
    struct trx_pkt *p1 = take(s, N, &n1);
    trx_source_free(s);

    /* Another seed at twice the rate: the mean gap halves. Each mean is of n-1 independent
     * gaps, so mean2 - mean1 / 2 has sd sqrt(var2 / n + var1 / (4 n)); allow 5 sd (a false
     * failure once in ~3.5 million runs). */
    o.seed = 12;
    o.variant.rate_scale = 2.0;
    s = new_src(&m, &o);
    struct trx_pkt *p2 = take(s, N, &n2);
    trx_source_free(s);
    double v1 = 0, v2 = 0;
    double m1 = mean_gap(p1, n1, &v1);
    double m2 = mean_gap(p2, n2, &v2);
    double sd = sqrt(v2 / (N - 1) + v1 / (4.0 * (N - 1)));
    assert_double_near(m2, m1 / 2.0, 5.0 * sd);
    /* And the level is the mixture's: mean gap / 2 within 5 sd of the draws. */
    assert_double_near(m2, MEAN_GAP_S * 1e9 / 2.0, 5.0 * sqrt(v2 / (N - 1)));

    /* The same seed: the same draws, every gap divided by 2 * 1.5 (to the nanosecond). */
    o.seed = 11;
    o.rate_scale = 1.5;
    s = new_src(&m, &o);
    struct trx_pkt *p3 = take(s, N, &n3);
    trx_source_free(s);
    for (size_t i = 1; i < N; i++) {
        double g1 = (double)(p1[i].offset_ns - p1[i - 1].offset_ns);
        double g3 = (double)(p3[i].offset_ns - p3[i - 1].offset_ns);
        assert_double_near(g3, g1 / 3.0, 1.0);
        assert_int_equal(p3[i].payload_len, p1[i].payload_len);
    }
    free(p1);
    free(p2);
    free(p3);
}

static void test_lengths_follow_model(void **state)
{
    (void)state;
    struct mdl_model m;
    struct trx_model_opts o;
    enum { N = 5000 };
    sample_model(&m);
    trx_model_opts_init(&o);
    o.count = N;
    o.seed = 5;
    double *a = malloc(N * sizeof(*a));
    double *b = malloc(N * sizeof(*b));
    assert_non_null(a);
    assert_non_null(b);
    struct fm_rng *r = fm_rng_new(99);
    assert_non_null(r);

    for (int pass = 0; pass < 2; pass++) {
        /* Pass 1 with a variant: the model's own draws go through the same mapping. */
        if (pass == 1) {
            o.variant.payload_scale = 0.5;
            o.variant.payload_shift = 30;
        }
        struct trx_source *s = new_src(&m, &o);
        size_t n = 0;
        struct trx_pkt *p = take(s, N, &n);
        trx_source_free(s);
        assert_int_equal(n, N);
        for (size_t i = 0; i < N; i++) {
            a[i] = p[i].payload_len;
            b[i] = mdl_variant_payload(&o.variant, mdl_mixture_sample(&m.sides[0].payload, r));
        }
        /* Two samples of 5000 from one distribution: KS above 1.95 * sqrt(2 / 5000) = 0.039
         * happens once in a thousand. */
        double ks = mdl_stats_ks(a, N, b, N);
        if (!(ks < 0.039))
            fail_msg("pass %d: KS %.4f between source and model draws", pass, ks);
        free(p);
    }
    fm_rng_free(r);
    free(a);
    free(b);
}

static void test_payload_at_least_rtp_header(void **state)
{
    (void)state;
    struct mdl_model m;
    struct trx_model_opts o;
    sample_model(&m);
    trx_model_opts_init(&o);
    o.count = 500;
    o.variant.payload_shift = -2000; /* every drawn length maps below 0 */
    struct trx_source *s = new_src(&m, &o);
    size_t n = 0;
    struct trx_pkt *p = take(s, 500, &n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(p[i].payload_len, PKT_RTP_HDR_LEN);
    free(p);
    trx_source_free(s);
}

static void test_rtp_bursts(void **state)
{
    (void)state;
    struct mdl_model m;
    struct trx_model_opts o;
    sample_model(&m);
    trx_model_opts_init(&o);
    o.count = 3000;
    struct trx_source *s = new_src(&m, &o);
    size_t n = 0;
    struct trx_pkt *p = take(s, 3000, &n);
    trx_source_free(s);
    size_t markers = 0;
    int64_t burst_start = p[0].offset_ns;
    for (size_t i = 0; i + 1 < n; i++) {
        int64_t gap = p[i + 1].offset_ns - p[i].offset_ns;
        int last = gap >= 1000000;
        /* Video: the marker ends a burst, and only that. */
        assert_int_equal(p[i].rtp_marker, last);
        markers += p[i].rtp_marker;
        if (!last) {
            assert_int_equal(p[i + 1].rtp_ts, p[i].rtp_ts);
        } else {
            /* A new burst: the timestamp moves by the time since the last burst at 90 kHz. */
            uint32_t dts = p[i + 1].rtp_ts - p[i].rtp_ts;
            double want = (double)(p[i + 1].offset_ns - burst_start) * 9e-5;
            assert_double_near((double)dts, want, 1.0);
            burst_start = p[i + 1].offset_ns;
        }
        assert_int_equal(p[i].rtp_pt, 97);
        assert_int_equal(p[i].rtp, 1);
    }
    /* Half the gaps are frame gaps. */
    assert_true(markers > n / 3 && markers < 2 * n / 3);
    free(p);

    /* Voice marks only talk spurts: a low marker ratio gives no markers at all. */
    m.sides[0].headers.rtp_marker_ratio = 0.01;
    s = new_src(&m, &o);
    p = take(s, 3000, &n);
    trx_source_free(s);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(p[i].rtp_marker, 0);
    free(p);
}

/* Paced video frames from a sequence model: a 40 ms gap starts a frame (state 0, 1000 bytes),
 * 1200-byte packets follow 5 ms apart (state 1, repeated half the time), and a 300-byte packet
 * with the marker ends it (state 2). The frame is not a burst: only the markers tell. */
static void frame_model(struct mdl_model *m)
{
    sample_model(m);
    struct mdl_side *sd = &m->sides[MDL_SIDE_LOCAL];
    struct mdl_seq *q = &sd->seq;
    sd->has_seq = 1;
    memset(q, 0, sizeof(*q));
    q->k = 3;
    q->order = 1;
    q->frames = 1;
    q->tick_ns = 1000;
    const double len[3] = {1000, 1200, 300}, gap[3] = {40e6, 5e6, 5e6};
    for (unsigned i = 0; i < 3; i++) {
        q->states[i].n = 100;
        q->states[i].marker = i == 2;
        q->states[i].len = (struct mdl_seq_dist){1, {{len[i], len[i], 1}}};
        q->states[i].gap = (struct mdl_seq_dist){1, {{gap[i], gap[i], 1}}};
    }
    q->n_ctx = 4;
    q->ctx[0] = (struct mdl_seq_ctx){0, {0}, 300, {0.25, 0.5, 0.25}};
    q->ctx[1] = (struct mdl_seq_ctx){1, {0}, 100, {0, 1, 0}};
    q->ctx[2] = (struct mdl_seq_ctx){1, {1}, 100, {0, 0.5, 0.5}};
    q->ctx[3] = (struct mdl_seq_ctx){1, {2}, 100, {1, 0, 0}};
    sd->headers.rtp_marker_ratio = 0.25;
    sd->headers.rtp_payload_type = 96;
}

static void test_rtp_frames(void **state)
{
    (void)state;
    struct mdl_model *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    frame_model(m);
    struct fm_err err = {0};
    if (mdl_seq_check(&m->sides[0].seq, &err) < 0)
        fail_msg("%s", err.msg);
    struct trx_model_opts o;
    trx_model_opts_init(&o);
    o.count = 5000;
    struct trx_source *s = new_src(m, &o);
    size_t n = 0;
    struct trx_pkt *p = take(s, 5000, &n);
    trx_source_free(s);
    assert_int_equal(n, 5000);
    size_t frames = 0, same_ts = 0;
    int64_t frame_start = p[0].offset_ns;
    for (size_t i = 0; i + 1 < n; i++) {
        int64_t gap = p[i + 1].offset_ns - p[i].offset_ns;
        /* The marker sits on each frame's last (300-byte) packet, and the next one starts the
         * frame after a 40 ms gap. */
        assert_int_equal(p[i].rtp_marker, p[i].payload_len == 300);
        assert_int_equal(p[i + 1].payload_len == 1000, p[i].rtp_marker);
        assert_int_equal(gap, p[i].rtp_marker ? 40000000 : 5000000);
        if (!p[i].rtp_marker) {
            /* Inside a frame every packet carries the frame's timestamp. */
            assert_int_equal(p[i + 1].rtp_ts, p[i].rtp_ts);
            same_ts++;
        } else {
            /* A new frame: the timestamp moves by the time since the last frame at 90 kHz. */
            uint32_t dts = p[i + 1].rtp_ts - p[i].rtp_ts;
            double want = (double)(p[i + 1].offset_ns - frame_start) * 9e-5;
            assert_double_near((double)dts, want, 1.0);
            frame_start = p[i + 1].offset_ns;
            frames++;
        }
    }
    /* Frames of 4 packets on average (1 + 2 + 1): a quarter marked, three quarters sharing. */
    assert_double_near((double)frames / n, 0.25, 0.02);
    assert_double_near((double)same_ts / n, 0.75, 0.02);
    free(p);
    free(m);
}

/* Any number of packets from a sequence model, many streams: in time order, and the same
 * packets for the same seed. */
static void test_sequence_long(void **state)
{
    (void)state;
    struct mdl_model *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    frame_model(m);
    struct trx_model_opts o;
    trx_model_opts_init(&o);
    o.count = 200000;
    o.streams = 7;
    struct trx_source *s = new_src(m, &o);
    size_t n = 0;
    struct trx_pkt *p = take(s, 200000, &n);
    trx_source_free(s);
    assert_int_equal(n, 200000);
    for (size_t i = 1; i < n; i++)
        assert_true(p[i].offset_ns >= p[i - 1].offset_ns);
    s = new_src(m, &o);
    size_t n2 = 0;
    struct trx_pkt *q = take(s, 200000, &n2);
    trx_source_free(s);
    assert_int_equal(n2, n);
    assert_memory_equal(p, q, n * sizeof(*p));
    free(p);
    free(q);
    free(m);
}

static void test_headers(void **state)
{
    (void)state;
    struct mdl_model m;
    struct trx_model_opts o;
    size_t n = 0;
    sample_model(&m);
    trx_model_opts_init(&o);
    o.count = 10;
    /* The model's own. */
    struct trx_source *s = new_src(&m, &o);
    struct trx_pkt *p = take(s, 10, &n);
    trx_source_free(s);
    assert_int_equal(p[0].ttl, 60);
    assert_int_equal(p[0].dscp, 34);
    assert_int_equal(p[0].rtp_pt, 97);
    free(p);
    /* The variant's. */
    o.variant.ttl = 5;
    o.variant.dscp = 46;
    o.variant.rtp_payload_type = 111;
    s = new_src(&m, &o);
    p = take(s, 10, &n);
    trx_source_free(s);
    assert_int_equal(p[0].ttl, 5);
    assert_int_equal(p[0].dscp, 46);
    assert_int_equal(p[0].rtp_pt, 111);
    free(p);
    /* Neither: 64, 0, and the first dynamic payload type for a flow that was not RTP. */
    mdl_variant_init(&o.variant);
    m.sides[0].headers = (struct mdl_headers){-1, -1, 0, 0, 0};
    s = new_src(&m, &o);
    p = take(s, 10, &n);
    trx_source_free(s);
    assert_int_equal(p[0].ttl, 64);
    assert_int_equal(p[0].dscp, 0);
    assert_int_equal(p[0].rtp_pt, 96);
    free(p);
}

static void test_addresses(void **state)
{
    (void)state;
    struct mdl_model m;
    struct trx_model_opts o;
    size_t n = 0;
    static const uint8_t a1[4] = {198, 18, 0, 1}, a2[4] = {198, 18, 0, 2};
    sample_model(&m);
    /* Make the remote side playable too. */
    m.sides[1] = m.sides[0];
    trx_model_opts_init(&o);
    o.count = 3;

    struct trx_source *s = new_src(&m, &o);
    struct trx_pkt *p = take(s, 3, &n);
    trx_source_free(s);
    assert_int_equal(p[0].addr.ip_version, 4);
    assert_memory_equal(p[0].addr.src, a1, 4);
    assert_memory_equal(p[0].addr.dst, a2, 4);
    assert_int_equal(p[0].addr.sport, 5004);
    assert_int_equal(p[0].addr.dport, 6000);
    free(p);

    o.side = MDL_SIDE_REMOTE;
    s = new_src(&m, &o);
    p = take(s, 3, &n);
    trx_source_free(s);
    assert_memory_equal(p[0].addr.src, a2, 4);
    assert_memory_equal(p[0].addr.dst, a1, 4);
    assert_int_equal(p[0].addr.sport, 6000);
    assert_int_equal(p[0].addr.dport, 5004);
    free(p);

    /* Variant ports, then options over the variant; IPv6 overrides of both addresses. */
    o.side = MDL_SIDE_LOCAL;
    o.variant.src_port = 7000;
    o.variant.dst_port = 7002;
    s = new_src(&m, &o);
    p = take(s, 3, &n);
    trx_source_free(s);
    assert_int_equal(p[0].addr.sport, 7000);
    assert_int_equal(p[0].addr.dport, 7002);
    free(p);
    o.src_port = 40000;
    o.have_src_ip = o.have_dst_ip = 1;
    o.ip_version = 6;
    memset(o.src_ip, 0, 16);
    memset(o.dst_ip, 0, 16);
    o.src_ip[0] = 0x20;
    o.src_ip[15] = 1;
    o.dst_ip[0] = 0x20;
    o.dst_ip[15] = 2;
    s = new_src(&m, &o);
    p = take(s, 3, &n);
    trx_source_free(s);
    assert_int_equal(p[0].addr.ip_version, 6);
    assert_memory_equal(p[0].addr.src, o.src_ip, 16);
    assert_memory_equal(p[0].addr.dst, o.dst_ip, 16);
    assert_int_equal(p[0].addr.sport, 40000);
    assert_int_equal(p[0].addr.dport, 7002);
    free(p);
}

static void
expect_fail(const struct mdl_model *m, const struct trx_model_opts *o, int code, const char *part)
{
    static struct trx_source sentinel;
    struct trx_source *s = &sentinel; /* must stay untouched */
    struct fm_err err = {0};
    int rc = trx_source_model_new(m, o, &s, &err);
    if (rc != code || !strstr(err.msg, part))
        fail_msg("expected %d with '%s', got %d: %s", code, part, rc, err.msg);
    assert_ptr_equal(s, &sentinel);
}

static void test_rejects(void **state)
{
    (void)state;
    struct mdl_model m;
    struct trx_model_opts o;
    sample_model(&m);
    trx_model_opts_init(&o);
    o.side = MDL_SIDE_REMOTE;
    expect_fail(&m, &o, FM_EINVAL, "the remote side of the model has no model (only 12 packets)");
    m.sides[1].present = 0;
    expect_fail(&m, &o, FM_EINVAL, "remote side of the model sent no packets");
    trx_model_opts_init(&o);
    o.streams = 0;
    expect_fail(&m, &o, FM_EINVAL, "streams");
    trx_model_opts_init(&o);
    o.streams = 10;
    o.src_port = 65530;
    expect_fail(&m, &o, FM_EINVAL, "above 65535");
    trx_model_opts_init(&o);
    o.rate_scale = 0;
    expect_fail(&m, &o, FM_EINVAL, "rate scale");
    trx_model_opts_init(&o);
    o.variant.dscp = 99;
    expect_fail(&m, &o, FM_EINVAL, "dscp");
    trx_model_opts_init(&o);
    o.have_src_ip = 1;
    o.ip_version = 6;
    expect_fail(&m, &o, FM_EINVAL, "IPv6 but the destination is IPv4");
    trx_model_opts_init(&o);
    snprintf(m.remote.ip, sizeof(m.remote.ip), "not-an-ip");
    expect_fail(&m, &o, FM_EINVAL, "'not-an-ip' is not an IP address");
}

static void test_deterministic(void **state)
{
    (void)state;
    struct mdl_model m;
    struct trx_model_opts o;
    size_t n1 = 0, n2 = 0, n3 = 0;
    sample_model(&m);
    trx_model_opts_init(&o);
    o.count = 2000;
    o.streams = 3;
    o.seed = 42;
    struct trx_source *s = new_src(&m, &o);
    struct trx_pkt *p1 = take(s, 2000, &n1);
    trx_source_free(s);
    s = new_src(&m, &o);
    struct trx_pkt *p2 = take(s, 2000, &n2);
    trx_source_free(s);
    o.seed = 43;
    s = new_src(&m, &o);
    struct trx_pkt *p3 = take(s, 2000, &n3);
    trx_source_free(s);
    assert_int_equal(n1, n2);
    assert_memory_equal(p1, p2, n1 * sizeof(*p1));
    assert_true(memcmp(p1, p3, n1 * sizeof(*p1)) != 0);
    assert_true(p1[0].rtp_ssrc != p3[0].rtp_ssrc);
    free(p1);
    free(p2);
    free(p3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_count),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_rate_scale),
        cmocka_unit_test(test_lengths_follow_model),
        cmocka_unit_test(test_payload_at_least_rtp_header),
        cmocka_unit_test(test_rtp_bursts),
        cmocka_unit_test(test_rtp_frames),
        cmocka_unit_test(test_sequence_long),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
