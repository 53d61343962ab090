/* tests/integration/test_dumps.c - known answers on real captures by other people.
 * Reads ../shared/traffic_dumps (FM_DUMPS_DIR). The expected values were read off with
 * tshark, independently of flowmimic. Without the directory the tests skip, except under
 * CI=true, where a skip would hide a broken checkout and fails instead. */
#include "estimator/estimate.h"
#include "estimator/flow.h"
#include "estimator/reader.h"
#include "models/stats.h"
#include "tests/support/test_util.h"

#include <string.h>
#include <sys/stat.h>

struct loaded {
    struct est_flow_table *t;
    struct est_flow *const *flows;
    size_t n;
    struct est_read_stats st;
};

static int have_dumps(void)
{
    char path[512];
    struct stat st;
    test_dump_path(path, sizeof(path), "README.md");
    if (stat(path, &st) == 0)
        return 1;
    const char *ci = getenv("CI");
    if (ci && strcmp(ci, "true") == 0)
        fail_msg("traffic dumps not found at %s (set FM_DUMPS_DIR)", path);
    return 0;
}

static void load(const char *name, struct loaded *l)
{
    char path[512];
    struct fm_err err = {0};
    memset(l, 0, sizeof(*l));
    test_dump_path(path, sizeof(path), name);
    l->t = est_flow_table_new();
    assert_non_null(l->t);
    assert_int_equal(est_flow_table_watch(l->t, NULL, &err), FM_OK);
    int rc = est_read_capture(path, l->t, &l->st, NULL, NULL, NULL, &err);
    if (rc != FM_OK)
        fail_msg("reading %s: %s", path, err.msg);
    l->flows = est_flow_table_sorted(l->t, &l->n);
    assert_non_null(l->flows);
}

static void spec_of(const struct est_flow *f, char *buf, size_t size)
{
    est_flow_format_spec(f, buf, size);
}

static void fit(const struct est_flow *f, struct mdl_model *m)
{
    struct est_opts o;
    struct fm_err err = {0};
    est_opts_init(&o);
    if (est_model_from_flow(f, "capture.pcap", &o, m, &err) != FM_OK)
        fail_msg("fit: %s", err.msg);
}

static int has_atom(const struct mdl_mixture *m, double value, double min_weight)
{
    for (size_t i = 0; i < m->n_atoms; i++) {
        if (m->atoms[i].value == value && m->atoms[i].weight >= min_weight)
            return 1;
    }
    return 0;
}

/* The gap (s) where the IAT mixture puts most of its mass: the heaviest atom or the median of
 * the heaviest log-scale component. */
static double iat_mode_s(const struct mdl_mixture *m)
{
    double best_w = -1, best = 0;
    for (size_t i = 0; i < m->n_atoms; i++) {
        if (m->atoms[i].weight > best_w) {
            best_w = m->atoms[i].weight;
            best = m->atoms[i].value;
        }
    }
    for (unsigned i = 0; i < m->k; i++) {
        if (m->comps[i].weight > best_w) {
            best_w = m->comps[i].weight;
            best = m->scale == MDL_SCALE_LOG ? exp(m->comps[i].mean) : m->comps[i].mean;
        }
    }
    return best;
}

static void test_g711(void **state)
{
    (void)state;
    if (!have_dumps())
        skip();
    struct loaded l;
    struct mdl_model m;
    char spec[200];
    load("rtp_g711_voice_bidir__radionbik.pcap", &l);
    spec_of(l.flows[0], spec, sizeof(spec));
    assert_string_equal(spec, "udp 10.1.3.143:5000 10.1.6.18:2006");
    assert_int_equal(l.flows[0]->side[0].packets, 236);
    assert_int_equal(l.flows[0]->side[1].packets, 229);
    fit(l.flows[0], &m);
    for (int s = 0; s < 2; s++) {
        const struct mdl_side *side = &m.sides[s];
        assert_true(side->present && side->has_payload && side->has_iat);
        /* A constant 252-byte codec frame: one atom holding every packet. */
        assert_int_equal(side->payload.n_atoms, 1);
        assert_true(side->payload.atoms[0].value == 252.0);
        assert_double_near(side->payload.atoms[0].weight, 1.0, 1e-9);
        assert_int_equal(side->payload.k, 0);
        assert_double_near(iat_mode_s(&side->iat), 0.030, 0.001);
        assert_true(side->headers.rtp);
        assert_int_equal(side->headers.rtp_payload_type, 8); /* PCMA (tshark) */
    }
    est_flow_table_free(l.t);
}

static void test_g729(void **state)
{
    (void)state;
    if (!have_dumps())
        skip();
    struct loaded l;
    struct mdl_model m;
    char spec[200];
    load("rtp_g729_voice_bidir_vad__trex.pcap", &l);
    assert_int_equal(l.n, 1);
    spec_of(l.flows[0], spec, sizeof(spec));
    assert_string_equal(spec, "udp 21.0.0.2:10000 22.0.0.6:10000");
    assert_int_equal(l.flows[0]->side[0].packets, 677);
    assert_int_equal(l.flows[0]->side[1].packets, 676);
    fit(l.flows[0], &m);
    for (int s = 0; s < 2; s++) {
        const struct mdl_mixture *p = &m.sides[s].payload;
        /* 32-byte voice frames, 14-byte and 22-byte silence/comfort-noise frames. */
        assert_true(has_atom(p, 32, 0.7));
        assert_true(has_atom(p, 14, 0.1));
        assert_true(has_atom(p, 22, 0.01));
        assert_true(m.sides[s].headers.rtp);
        assert_int_equal(m.sides[s].headers.rtp_payload_type, 18); /* G729 */
    }
    est_flow_table_free(l.t);
}

static void test_linphone_flows(void **state)
{
    (void)state;
    if (!have_dumps())
        skip();
    struct loaded l;
    struct mdl_model m;
    char spec[200];
    load("sip_linphone_video_call_mixed_flows__mtaa.pcap", &l);
    assert_true(l.n > 10); /* RTP, RTCP, SIP, SSDP, mDNS, QUIC, TCP ... */
    /* Audio (Opus) first, then video (VP8); in both the caller 192.168.1.11 sent first. */
    spec_of(l.flows[0], spec, sizeof(spec));
    assert_string_equal(spec, "udp 192.168.1.11:7078 192.168.1.5:7078");
    assert_int_equal(l.flows[0]->side[0].packets, 1169);
    assert_int_equal(l.flows[0]->side[1].packets, 1200);
    spec_of(l.flows[1], spec, sizeof(spec));
    assert_string_equal(spec, "udp 192.168.1.11:9078 192.168.1.5:9078");
    assert_int_equal(l.flows[1]->side[0].packets, 936);
    assert_int_equal(l.flows[1]->side[1].packets, 95);
    fit(l.flows[1], &m);
    assert_true(m.sides[0].has_payload && m.sides[0].has_iat);
    assert_true(m.sides[0].headers.rtp && m.sides[0].headers.rtp_payload_type == 96);
    /* 95 packets back is below --min-samples 100: a note instead of a model. */
    assert_true(m.sides[1].present && !m.sides[1].has_payload && !m.sides[1].has_iat);
    assert_non_null(strstr(m.sides[1].note, "min-samples"));
    est_flow_table_free(l.t);
}

static void test_h264_one_way(void **state)
{
    (void)state;
    if (!have_dumps())
        skip();
    struct loaded l;
    struct mdl_model m;
    load("rtp_h264_video_1dir__saghul_sipp-scenarios.pcap", &l);
    assert_int_equal(l.flows[0]->side[0].packets + l.flows[0]->side[1].packets, 3896);
    fit(l.flows[0], &m);
    assert_true(m.sides[0].present);
    assert_false(m.sides[1].present); /* one direction only: "remote": null */
    /* 2852 of 3896 packets are 1036-byte fragments. */
    assert_true(has_atom(&m.sides[0].payload, 1036, 0.70));
    assert_true(m.sides[0].payload.k >= 1);
    assert_int_equal(m.sides[0].headers.rtp_payload_type, 96);
    est_flow_table_free(l.t);
}

/* Every capture reads without error and every main flow with enough packets gets a model
 * whose draws match the capture's own payload lengths closely (KS). */
static void test_every_dump_fits(void **state)
{
    (void)state;
    if (!have_dumps())
        skip();
    static const char *const names[] = {
        "feishu_meeting_video_send_shaped__vca-sense.pcapng",
        "mpegts_rtp_vlan_multicast_tiny__tsduck.pcap",
        "rtp_g711_voice_bidir__radionbik.pcap",
        "rtp_g729_voice_bidir_vad__trex.pcap",
        "rtp_h264_video_1dir__saghul_sipp-scenarios.pcap",
        "rtp_video_160kbps_1dir__trex.pcap",
        "sip_linphone_video_call_mixed_flows__mtaa.pcap",
        "skype_call_lan_bidir__radionbik.pcap",
        "whatsapp_video_call_relay_small__ndpi.pcap",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct loaded l;
        struct mdl_model m;
        struct fm_err err = {0};
        load(names[i], &l);
        assert_true(l.n >= 1);
        fit(l.flows[0], &m);
        struct fm_rng *r = fm_rng_new(7);
        assert_non_null(r);
        for (int s = 0; s < 2; s++) {
            const struct est_series *ser = l.flows[0]->series[s];
            if (!m.sides[s].has_payload)
                continue;
            double *pl = NULL, *iat = NULL, tick = 0;
            uint64_t moved = 0;
            assert_int_equal(est_side_features(ser, &pl, &iat, &moved, &tick, &err), FM_OK);
            double *draw = malloc(ser->n * sizeof(*draw));
            assert_non_null(draw);
            for (size_t j = 0; j < ser->n; j++)
                draw[j] = mdl_mixture_sample(&m.sides[s].payload, r);
            /* Two samples of n each differ by chance: allow the 95% critical value of the
             * two-sample KS test, 1.36 sqrt(2/n), or 0.05 (the project's target) if larger.
             * The seed is fixed, so the outcome is the same on every run. */
            double ks = mdl_stats_ks(pl, ser->n, draw, ser->n);
            double bound = fmax(0.05, 1.36 * sqrt(2.0 / (double)ser->n));
            if (!(ks <= bound))
                fail_msg("%s side %d: payload KS %.3f > %.3f", names[i], s, ks, bound);
            for (size_t j = 0; j + 1 < ser->n; j++)
                assert_true(iat[j] >= 0); /* no negative gap ever reaches a fit */
            free(draw);
            free(pl);
            free(iat);
        }
        fm_rng_free(r);
        est_flow_table_free(l.t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_g711),
        cmocka_unit_test(test_g729),
        cmocka_unit_test(test_linphone_flows),
        cmocka_unit_test(test_h264_one_way),
        cmocka_unit_test(test_every_dump_fits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
