/* tests/unit/test_estimator_compare.c - `compare` on captures and models written here, against
 * values worked out by hand: zeros for identical inputs, a shift's W1 and KS, draws from an
 * exact model, throughput and bursts of known streams, and the errors. */
#include "estimator/compare.h"
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include "tests/support/test_util.h"

#include "models/json.h"

#include <pcap/pcap.h>
#include <string.h>
#include <unistd.h>

#define NS   1000000000LL
#define MS   1000000LL
#define T0   (1700000000LL * NS)
#define MAXP 2000

/* One UDP/IPv4 packet between 10.0.0.<a>:<pa> and 10.0.0.<b>:<pb>. */
struct tpkt {
    int64_t ts;
    uint8_t a, b;
    uint16_t pa, pb;
    unsigned len;
};

static void write_pcap(const char *path, const struct tpkt *p, size_t n)
{
    pcap_t *dead =
        pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
    assert_non_null(dead);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    assert_non_null(d);
    for (size_t i = 0; i < n; i++) {
        uint8_t b[1600];
        unsigned len = p[i].len;
        assert_true(len <= 1500);
        size_t flen = test_udp4_frame(b, p[i].a, p[i].b, p[i].pa, p[i].pb, len);
        struct pcap_pkthdr h;
        memset(&h, 0, sizeof(h));
        h.ts.tv_sec = (time_t)(p[i].ts / NS);
        h.ts.tv_usec = (suseconds_t)(p[i].ts % NS); /* nanoseconds in a nano dump */
        h.caplen = h.len = (bpf_u_int32)flen;
        pcap_dump((u_char *)d, &h, b);
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

/* Flow X: 10.0.0.1:5004 sends 300 packets every 10 ms, lengths 100 + i (shifted by shift),
 * and 10.0.0.2:6000 answers 30 packets of 40 bytes every 100 ms. Flow Y: 10.0.0.3:7000 to
 * 10.0.0.2:6000, 20 packets. */
static size_t make_packets(struct tpkt *p, unsigned shift)
{
    size_t n = 0;
    for (unsigned i = 0; i < 300; i++) {
        p[n++] = (struct tpkt){T0 + (int64_t)i * 10 * MS, 1, 2, 5004, 6000, 100 + i + shift};
        if (i % 10 == 5)
            p[n++] = (struct tpkt){T0 + (int64_t)i * 10 * MS + MS, 2, 1, 6000, 5004, 40};
        if (i % 15 == 7)
            p[n++] = (struct tpkt){T0 + (int64_t)i * 10 * MS + 2 * MS, 3, 2, 7000, 6000, 200};
    }
    return n;
}

static void write_capture(const char *path, unsigned shift)
{
    static struct tpkt p[MAXP];
    size_t n = make_packets(p, shift);
    write_pcap(path, p, n);
}

static struct est_compare *compare_ok(const char *a, const char *b, const struct est_cmp_opts *o)
{
    struct est_compare *c = NULL;
    struct fm_err err = {0};
    int rc = est_compare_run(a, b, o, &c, &err);
    if (rc != FM_OK)
        fail_msg("est_compare_run: %s", err.msg);
    assert_non_null(c);
    return c;
}

static void assert_dist_zero(const struct est_cmp_dist *d)
{
    assert_double_near(d->ks, 0.0, 0.0);
    assert_double_near(d->w1, 0.0, 0.0);
    assert_double_near(d->jsd, 0.0, 0.0);
    assert_double_near(d->kl, 0.0, 0.0);
}

static void test_self_is_zero(void **state)
{
    (void)state;
    char a[300];
    write_capture(test_path(a, sizeof(a), "self.pcap"), 0);
    struct est_cmp_opts o;
    est_cmp_opts_init(&o);
    struct est_compare *c = compare_ok(a, a, &o);
    assert_int_equal(c->in[0].flow_index, 0);
    assert_string_equal(c->in[0].flow_spec, "udp 10.0.0.1:5004 10.0.0.2:6000");
    for (int s = 0; s < 2; s++) {
        assert_true(c->side[s].ok);
        assert_string_equal(c->side[s].note, "");
        assert_dist_zero(&c->side[s].len);
        assert_dist_zero(&c->side[s].iat);
    }
    assert_int_equal(c->side[0].in[0].n, 300);
    assert_int_equal(c->side[1].in[1].n, 30);
    /* Summaries of the local side: lengths 100..399, gaps all 10 ms. */
    assert_double_near(c->side[0].in[0].len.mean, 249.5, 1e-9);
    assert_double_near(c->side[0].in[0].len.pct[2], 249.5, 1e-9);
    assert_double_near(c->side[0].in[0].iat.sd, 0.0, 1e-15);
    assert_double_near(c->side[0].in[0].iat.pct[5], 0.010, 1e-15);
    /* Constant gaps have no autocorrelation; the ramp of lengths is nearly 1 at lag 1. */
    assert_true(isnan(c->side[0].in[0].time.acf_iat[0]));
    assert_true(c->side[0].in[0].time.acf_len[0] > 0.98);
    assert_double_near(c->side[0].in[0].time.acf_len[0], c->side[0].in[1].time.acf_len[0], 0.0);
    /* Every packet is 10 ms from the next: 300 bursts of one at a 1 ms burst gap. */
    assert_int_equal(c->side[0].in[0].time.bursts, 300);
    assert_double_near(c->side[0].in[0].time.burst_max, 1.0, 0.0);
    /* Trace: 20 + 30 + 300 packets, two flows, addresses .1 .2 .3, ports 5004 6000 7000. */
    const struct est_cmp_trace *t = &c->in[0].trace;
    assert_int_equal(t->packets, 350);
    assert_int_equal(t->flows, 2);
    assert_double_near(t->mean_conv, 175.0, 1e-12);
    assert_int_equal(t->addrs, 3);
    assert_int_equal(t->ports, 3);
    assert_double_near(t->span_s, 2.99, 1e-9);
    assert_double_near(t->mean_iat_s, 2.99 / 349.0, 1e-12);
    assert_int_equal(c->in[1].trace.packets, t->packets);
    est_compare_free(c);
}

static void test_shift(void **state)
{
    (void)state;
    char a[300], b[300];
    write_capture(test_path(a, sizeof(a), "a.pcap"), 0);
    write_capture(test_path(b, sizeof(b), "b.pcap"), 50);
    struct est_cmp_opts o;
    est_cmp_opts_init(&o);
    o.flow[1] = "udp 10.0.0.2:6000 10.0.0.1:5004"; /* the same flow, by spec, either order */
    struct est_compare *c = compare_ok(a, b, &o);
    assert_int_equal(c->in[1].flow_index, 0);
    /* The local lengths are the grid 100..399, shifted by 50 in B: W1 is the shift and KS is
     * the share of A below B's first value, 50 / 300. Gaps did not move. */
    assert_double_near(c->side[0].len.w1, 50.0, 1e-9);
    assert_double_near(c->side[0].len.ks, 50.0 / 300.0, 1e-12);
    assert_true(c->side[0].len.jsd > 0.0 && c->side[0].len.jsd < M_LN2);
    assert_true(c->side[0].len.kl > 0.0);
    assert_dist_zero(&c->side[0].iat);
    assert_dist_zero(&c->side[1].len);
    assert_double_near(c->side[0].in[1].len.mean - c->side[0].in[0].len.mean, 50.0, 1e-9);
    assert_double_near(c->in[1].trace.mean_payload - c->in[0].trace.mean_payload,
                       50.0 * 300.0 / 350.0, 1e-9);
    est_compare_free(c);
}

/* A model whose every draw is exact: constant lengths and gaps, as atoms. */
static void write_exact_model(const char *path, double len, double gap_s)
{
    struct mdl_model m;
    memset(&m, 0, sizeof(m));
    m.version = MDL_VERSION;
    snprintf(m.capture, sizeof(m.capture), "exact.pcap");
    snprintf(m.flow_spec, sizeof(m.flow_spec), "udp 10.0.0.1:5004 10.0.0.2:6000");
    snprintf(m.proto, sizeof(m.proto), "udp");
    snprintf(m.local.ip, sizeof(m.local.ip), "10.0.0.1");
    m.local.port = 5004;
    snprintf(m.remote.ip, sizeof(m.remote.ip), "10.0.0.2");
    m.remote.port = 6000;
    m.packets = 300;
    struct mdl_side *s = &m.sides[0];
    s->present = 1;
    s->packets = 300;
    s->duration_s = 2.99;
    s->has_payload = 1;
    s->payload.scale = MDL_SCALE_LINEAR;
    s->payload.min = s->payload.max = len;
    s->payload.n = 300;
    s->payload.n_atoms = 1;
    s->payload.atoms[0].value = len;
    s->payload.atoms[0].weight = 1.0;
    s->has_iat = 1;
    s->iat.scale = MDL_SCALE_LOG;
    s->iat.min = s->iat.max = gap_s;
    s->iat.n = 299;
    s->iat.n_atoms = 1;
    s->iat.atoms[0].value = gap_s;
    s->iat.atoms[0].weight = 1.0;
    s->headers.ttl = 64;
    s->headers.dscp = 0;
    struct fm_err err = {0};
    if (mdl_json_save(&m, path, &err) < 0)
        fail_msg("mdl_json_save: %s", err.msg);
}

static void test_model_draws(void **state)
{
    (void)state;
    char cap[300], model[300];
    static struct tpkt p[MAXP];
    /* A one-way flow of 250 packets of 700 bytes every 20 ms. */
    for (size_t i = 0; i < 250; i++)
        p[i] = (struct tpkt){T0 + (int64_t)i * 20 * MS, 1, 2, 5004, 6000, 700};
    write_pcap(test_path(cap, sizeof(cap), "const.pcap"), p, 250);
    write_exact_model(test_path(model, sizeof(model), "exact.json"), 700, 0.020);
    struct est_cmp_opts o;
    est_cmp_opts_init(&o);
    /* The model as A and the capture as B: draws still follow the capture's counts. */
    struct est_compare *c = compare_ok(model, cap, &o);
    assert_true(c->in[0].is_model);
    assert_int_equal(c->in[0].flow_index, -1);
    assert_int_equal(c->side[0].in[0].n, 250);
    assert_true(c->side[0].ok);
    assert_dist_zero(&c->side[0].len);
    assert_dist_zero(&c->side[0].iat);
    /* Timestamps are the cumulated draws from the capture's first packet: the same stream. */
    assert_true(c->side[0].in[0].ts_ns[249] == T0 + (int64_t)249 * 20 * MS);
    for (int k = 0; k < EST_CMP_NSCALES - 1; k++) {
        assert_double_near(c->side[0].in[0].time.rate_bps[k], 700 * 8 / 0.020, 1e-6);
        assert_double_near(c->side[0].in[0].time.rate_bps[k], c->side[0].in[1].time.rate_bps[k],
                           0.0);
    }
    /* The remote side: no packets in either, a note instead of numbers. */
    assert_false(c->side[1].ok);
    assert_non_null(strstr(c->side[1].note, "no packets"));
    assert_true(isnan(c->side[1].len.ks));
    /* Trace of the model: its one drawn flow. */
    assert_int_equal(c->in[0].trace.flows, 1);
    assert_int_equal(c->in[0].trace.packets, 250);
    assert_int_equal(c->in[0].trace.addrs, 2);
    assert_double_near(c->in[0].trace.span_s, c->in[1].trace.span_s, 0.0);
    est_compare_free(c);

    /* A capture side with packets for which the model has no fit. */
    p[250] = (struct tpkt){T0 + 5 * MS, 2, 1, 6000, 5004, 80};
    for (size_t i = 251; i < 270; i++)
        p[i] = (struct tpkt){T0 + (int64_t)(i - 250) * 100 * MS + 5 * MS, 2, 1, 6000, 5004, 80};
    write_pcap(cap, p, 270);
    c = compare_ok(cap, model, &o);
    assert_int_equal(c->side[1].in[0].n, 20);
    assert_int_equal(c->side[1].in[1].n, 0);
    assert_false(c->side[1].ok);
    assert_non_null(strstr(c->side[1].note, "model has no fit for its remote side"));
    est_compare_free(c);
}

static void test_too_few(void **state)
{
    (void)state;
    char a[300];
    write_capture(test_path(a, sizeof(a), "few.pcap"), 0);
    struct est_cmp_opts o;
    est_cmp_opts_init(&o);
    o.min_packets = 31; /* the remote side has 30 */
    o.flow[0] = "0";
    struct est_compare *c = compare_ok(a, a, &o);
    assert_true(c->side[0].ok);
    assert_false(c->side[1].ok);
    assert_non_null(strstr(c->side[1].note, "too few packets"));
    assert_true(isnan(c->side[1].iat.w1));
    est_compare_free(c);
    /* Flow 1 (Y) is one-way with 20 packets. */
    o.min_packets = 10;
    o.flow[0] = "1";
    o.flow[1] = "udp 10.0.0.3:7000 10.0.0.2:6000";
    c = compare_ok(a, a, &o);
    assert_int_equal(c->in[0].flow_index, 1);
    assert_int_equal(c->side[0].in[0].n, 20);
    assert_true(c->side[0].ok);
    assert_dist_zero(&c->side[0].len);
    est_compare_free(c);
}

static void expect_error(
    const char *a, const char *b, const struct est_cmp_opts *o, int code, const char *needle)
{
    struct est_compare *c = NULL;
    struct fm_err err = {0};
    assert_int_equal(est_compare_run(a, b, o, &c, &err), code);
    assert_null(c);
    if (!strstr(err.msg, needle))
        fail_msg("message '%s' lacks '%s'", err.msg, needle);
}

static void test_errors(void **state)
{
    (void)state;
    char a[300], m[300], txt[300], missing[300];
    write_capture(test_path(a, sizeof(a), "e.pcap"), 0);
    write_exact_model(test_path(m, sizeof(m), "e.json"), 100, 0.01);
    test_write_text(test_path(txt, sizeof(txt), "text.pcap"),
                    "not a capture at all, just some text\n");
    test_path(missing, sizeof(missing), "missing.pcap");
    struct est_cmp_opts o;
    est_cmp_opts_init(&o);

    expect_error(a, missing, &o, FM_EIO, "missing.pcap");
    expect_error(txt, a, &o, FM_EFORMAT, "text.pcap");
    expect_error(m, m, &o, FM_EINVAL, "both models");
    o.flow[1] = "0";
    expect_error(a, m, &o, FM_EINVAL, "drop its flow selection");
    o.flow[1] = NULL;
    o.flow[0] = "udp 10.9.9.9:1 10.9.9.8:2";
    expect_error(a, a, &o, FM_ENOTFOUND, "no flow 'udp 10.9.9.9:1 10.9.9.8:2' in A");
    expect_error(a, a, &o, FM_ENOTFOUND, "'flowmimic flows ");
    o.flow[0] = NULL;
    o.flow[1] = "2";
    expect_error(a, a, &o, FM_ENOTFOUND, "no flow 2 in B");
    expect_error(a, a, &o, FM_ENOTFOUND, "2 flows, 0 to 1");
}

static void test_throughput(void **state)
{
    (void)state;
    /* A constant stream: 500 bytes every 1 ms for 1000 packets. */
    size_t n = 1000;
    int64_t *ts = malloc(n * sizeof(*ts));
    double *len = malloc(n * sizeof(*len));
    assert_non_null(ts);
    assert_non_null(len);
    for (size_t i = 0; i < n; i++) {
        ts[i] = T0 + (int64_t)i * MS;
        len[i] = 500;
    }
    double mean = 0, cv = 0;
    est_compare_throughput(ts, len, n, 10 * MS, &mean, &cv);
    assert_double_near(mean, 500 * 8 / 1e-3, 1e-6);
    assert_double_near(cv, 0.0, 0.0);
    est_compare_throughput(ts, len, n, 100 * MS, &mean, &cv);
    assert_double_near(cv, 0.0, 0.0);
    /* 999 ms of packets hold no two whole 1 s bins. */
    est_compare_throughput(ts, len, n, NS, &mean, &cv);
    assert_true(isnan(mean) && isnan(cv));
    /* Two 10 ms bins of 1000 and 3000 bytes (and a packet at 20 ms that ends the second):
     * mean 2000 bytes a bin = 1.6 Mbit/s, population sd 1000, CV 0.5. */
    for (size_t i = 0; i < 21; i++) {
        ts[i] = T0 + (int64_t)i * MS;
        len[i] = i < 10 ? 100 : 300;
    }
    est_compare_throughput(ts, len, 21, 10 * MS, &mean, &cv);
    assert_double_near(mean, 1.6e6, 1e-6);
    assert_double_near(cv, 0.5, 1e-12);
    /* An empty bin between them counts as zero: totals 1000, 0, 3000. */
    for (size_t i = 10; i < 21; i++)
        ts[i] += 10 * MS;
    est_compare_throughput(ts, len, 21, 10 * MS, &mean, &cv);
    double m = 4000.0 / 3.0;
    double sd = sqrt(((1000 - m) * (1000 - m) + m * m + (3000 - m) * (3000 - m)) / 3.0);
    assert_double_near(mean, m * 8 / 0.01, 1e-6);
    assert_double_near(cv, sd / m, 1e-12);
    /* A hostile timestamp a million seconds later: 1e8 bins of 10 ms, counted in O(n) (a loop
     * over the bins would outlast the test's timeout). Totals: 100, 100, then zeros. */
    ts[0] = T0;
    ts[1] = T0 + 10 * MS;
    ts[2] = T0 + 1000000 * NS;
    len[0] = len[1] = len[2] = 100;
    est_compare_throughput(ts, len, 3, 10 * MS, &mean, &cv);
    double nb = 1e8, mu = 200.0 / nb;
    double var = (2.0 * (100 - mu) * (100 - mu) + (nb - 2.0) * mu * mu) / nb;
    assert_double_near(mean, mu * 8 / 0.01, 1e-9);
    assert_double_near(cv, sqrt(var) / mu, 1e-6 * sqrt(var) / mu);
    free(ts);
    free(len);
}

static void test_bursts(void **state)
{
    (void)state;
    /* Seven packets: gaps 0.1 ms, 0.1 ms | 0.5 s | 0.2 ms | 0.5 s | 0.5 s: bursts of 3, 2, 1
     * and 1 at a 1 ms burst gap. */
    double iat[6] = {0.0001, 0.0001, 0.5, 0.0002, 0.5, 0.5};
    struct est_cmp_time t;
    struct fm_err err = {0};
    assert_int_equal(est_compare_bursts(iat, 7, 0.001, &t, &err), FM_OK);
    assert_int_equal(t.bursts, 4);
    assert_double_near(t.burst_mean, 7.0 / 4.0, 1e-15);
    assert_double_near(t.burst_max, 3.0, 0.0);
    /* p95 of {1, 1, 2, 3} with linear interpolation: 2 + 0.85 * (3 - 2). */
    assert_double_near(t.burst_p95, 2.85, 1e-12);
    /* A gap equal to the threshold splits. */
    assert_int_equal(est_compare_bursts(iat, 7, 0.0001, &t, &err), FM_OK);
    assert_int_equal(t.bursts, 7);
    assert_int_equal(est_compare_bursts(iat, 0, 0.001, &t, &err), FM_OK);
    assert_int_equal(t.bursts, 0);
    assert_true(isnan(t.burst_mean));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_self_is_zero), cmocka_unit_test(test_shift),
        cmocka_unit_test(test_model_draws),  cmocka_unit_test(test_too_few),
        cmocka_unit_test(test_errors),       cmocka_unit_test(test_throughput),
        cmocka_unit_test(test_bursts),
    };
    return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
