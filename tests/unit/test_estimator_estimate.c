/* tests/unit/test_estimator_estimate.c - est_model_from_flow() on flows whose timestamps a
 * hostile capture chose (found by tests/fuzz/fuzz_pcap): decades between packets and
 * timestamps at both ends of int64 give a one-line error, never a model that cannot be loaded
 * again, and an ordinary flow still gives one that loads, with a sequence model by default
 * and without one (version 1) when asked. */
#include "common/time.h"
#include "estimator/estimate.h"
#include "estimator/run.h"
#include "models/json.h"
#include "tests/support/test_util.h"

#include <stdint.h>

/* A table keeping series, with one UDP flow of n packets from 198.18.0.1 at ts[i]. */
static struct est_flow_table *one_flow(const int64_t *ts, size_t n)
{
    struct fm_err err = {0};
    struct est_flow_table *t = est_flow_table_new();
    assert_non_null(t);
    assert_int_equal(est_flow_table_watch(t, NULL, &err), FM_OK);
    for (size_t i = 0; i < n; i++) {
        struct pkt_decoded p;
        memset(&p, 0, sizeof(p));
        p.ts_ns = ts[i];
        p.ip_version = 4;
        p.proto = 17;
        memcpy(p.src, (const uint8_t[4]){198, 18, 0, 1}, 4);
        memcpy(p.dst, (const uint8_t[4]){198, 18, 0, 2}, 4);
        p.sport = 5004;
        p.dport = 5006;
        p.payload_len = (uint32_t)(100 + i % 7);
        p.wire_len = p.payload_len + 42;
        p.ttl = 64;
        assert_int_equal(est_flow_table_add(t, &p, &err), FM_OK);
    }
    return t;
}

static int
fit_seq(const int64_t *ts, size_t n, int sequence, struct mdl_model *m, struct fm_err *err)
{
    struct est_flow_table *t = one_flow(ts, n);
    size_t nf = 0;
    struct est_flow *const *flows = est_flow_table_sorted(t, &nf);
    assert_int_equal(nf, 1);
    struct est_opts o;
    est_opts_init(&o);
    o.min_samples = 2;
    o.fit.max_k = 2;
    o.sequence = sequence;
    int rc = est_model_from_flow(flows[0], "t.pcap", &o, m, err);
    est_flow_table_free(t);
    return rc;
}

static int fit(const int64_t *ts, size_t n, struct mdl_model *m, struct fm_err *err)
{
    return fit_seq(ts, n, 1, m, err);
}

static void assert_loads(const struct mdl_model *m)
{
    struct mdl_model again;
    struct fm_err err = {0};
    char *text = mdl_json_print(m);
    assert_non_null(text);
    if (mdl_json_parse(text, strlen(text), "fitted.json", &again, &err) != FM_OK)
        fail_msg("the fitted model does not load: %s", err.msg);
    free(text);
}

static void test_ordinary_flow_loads(void **state)
{
    (void)state;
    int64_t ts[40];
    for (size_t i = 0; i < 40; i++)
        ts[i] = 1700000000 * FM_NS_PER_SEC + (int64_t)i * 20000000 + (int64_t)(i % 3) * 1000;
    struct mdl_model m;
    struct fm_err err = {0};
    assert_int_equal(fit(ts, 40, &m, &err), FM_OK);
    assert_int_equal(m.sides[0].has_iat, 1);
    assert_double_near(m.sides[0].duration_s, 0.78, 1e-9);
    assert_loads(&m);
}

/* By default a side gets a sequence model (file version 2); --sequence off writes version 1
 * with the same mixtures. */
static void test_sequence_on_off(void **state)
{
    (void)state;
    int64_t ts[400];
    for (size_t i = 0; i < 400; i++)
        ts[i] = 1700000000 * FM_NS_PER_SEC + (int64_t)i * 20000000 + (int64_t)(i % 3) * 1000;
    struct mdl_model *m = calloc(2, sizeof(*m));
    struct fm_err err = {0};
    assert_non_null(m);
    assert_int_equal(fit_seq(ts, 400, 1, &m[0], &err), FM_OK);
    assert_int_equal(m[0].version, MDL_VERSION);
    assert_true(m[0].sides[0].has_seq && !m[0].sides[1].present);
    assert_int_equal(mdl_seq_check(&m[0].sides[0].seq, &err), FM_OK);
    assert_true(m[0].sides[0].seq.tick_ns == 1000);
    assert_loads(&m[0]);
    assert_int_equal(fit_seq(ts, 400, 0, &m[1], &err), FM_OK);
    assert_int_equal(m[1].version, 1);
    assert_false(m[1].sides[0].has_seq);
    char *text = mdl_json_print(&m[1]);
    assert_non_null(strstr(text, "\"version\": 1,"));
    free(text);
    assert_memory_equal(&m[0].sides[0].payload, &m[1].sides[0].payload,
                        sizeof(m[0].sides[0].payload));
    free(m);
}

static void test_decades_apart_refused(void **state)
{
    (void)state;
    /* 1970 then 2100: 4.1e9 s between two packets. */
    int64_t ts[6] = {1,
                     2,
                     3,
                     4100000000 * FM_NS_PER_SEC,
                     4100000000 * FM_NS_PER_SEC + 5,
                     4100000000 * FM_NS_PER_SEC + 9};
    struct mdl_model m;
    struct fm_err err = {0};
    assert_int_equal(fit(ts, 6, &m, &err), FM_EFORMAT);
    assert_non_null(strstr(err.msg, "local side: two packets are 4.1e+09 s apart"));
    assert_non_null(strstr(err.msg, "timestamps are broken"));
}

static void test_int64_ends(void **state)
{
    (void)state;
    /* Further apart than INT64_MAX ns: the span must not overflow (UBSan checks). */
    int64_t ts[4] = {INT64_MIN + 1, INT64_MIN + 2, INT64_MAX - 1, INT64_MAX};
    struct mdl_model m;
    struct fm_err err = {0};
    assert_int_equal(fit(ts, 4, &m, &err), FM_EFORMAT);
    assert_non_null(strstr(err.msg, "1.84e+10 s apart"));
    /* Out of order too: the sort puts them back, the gap is the same. */
    int64_t rev[4] = {INT64_MAX, INT64_MIN + 2, INT64_MAX - 1, INT64_MIN + 1};
    assert_int_equal(fit(rev, 4, &m, &err), FM_EFORMAT);
    assert_non_null(strstr(err.msg, "1.84e+10 s apart"));
}

/* est_estimate_run on the bundled G.729 call (one flow, both directions): --top 5 fits the
 * one there is, the same flow named by index and by spec is fitted once, a flow that is not
 * there and a selection refused by the caller stop the run with nothing fitted, and a
 * capture that cannot be read twice is refused. */
struct got {
    size_t selected, models, index[4];
    int refuse;
};

static int got_selected(void *arg, size_t n, struct fm_err *err)
{
    struct got *g = arg;
    g->selected = n;
    return g->refuse ? fm_err_set(err, FM_EINVAL, "refused") : FM_OK;
}

static int got_model(
    void *arg, size_t index, const struct est_flow *f, struct mdl_model *m, struct fm_err *err)
{
    struct got *g = arg;
    (void)err;
    assert_non_null(f);
    assert_true(m->sides[0].present || m->sides[1].present);
    if (g->models < 4)
        g->index[g->models] = index;
    g->models++;
    return FM_OK;
}

static int run_on(const char *path,
                  const struct est_selection *sel,
                  size_t nsel,
                  long top,
                  struct got *g,
                  struct fm_err *err)
{
    struct est_opts eo;
    est_opts_init(&eo);
    eo.fit.max_k = 2;
    struct est_run_opts ro = {&eo, sel, nsel, top, NULL, NULL, NULL};
    struct est_run_cb cb = {got_selected, NULL, NULL, got_model, g};
    struct est_run_result res;
    return est_estimate_run(path, &ro, &cb, &res, err);
}

static void test_run(void **state)
{
    (void)state;
    char path[512];
    const char *data = getenv("FM_TEST_DATA");
    snprintf(path, sizeof(path), "%s/../../traffic_dumps/rtp_g729_voice_bidir_vad__trex.pcap",
             data ? data : "tests/data");
    struct fm_err err = {0};
    struct got g = {0};
    assert_int_equal(run_on(path, NULL, 0, 5, &g, &err), FM_OK);
    assert_int_equal(g.selected, 1);
    assert_int_equal(g.models, 1);
    assert_int_equal(g.index[0], 0);

    struct est_selection sel[2];
    memset(sel, 0, sizeof(sel));
    sel[0].is_index = 1;
    sel[0].index = 0;
    assert_int_equal(pkt_flow_spec_parse("udp 21.0.0.2:10000 22.0.0.6:10000", &sel[1].key, &err),
                     FM_OK);
    memset(&g, 0, sizeof(g));
    assert_int_equal(run_on(path, sel, 2, 0, &g, &err), FM_OK);
    assert_int_equal(g.selected, 1);
    assert_int_equal(g.models, 1);
    assert_int_equal(g.index[0], 0);

    sel[0].index = 7;
    memset(&g, 0, sizeof(g));
    assert_int_equal(run_on(path, sel, 1, 0, &g, &err), FM_ENOTFOUND);
    assert_non_null(strstr(err.msg, "flow 7 is not in"));
    assert_int_equal(g.models, 0);

    memset(&g, 0, sizeof(g));
    g.refuse = 1;
    assert_int_equal(run_on(path, NULL, 0, 0, &g, &err), FM_EINVAL);
    assert_int_equal(g.models, 0);

    assert_int_equal(run_on("-", NULL, 0, 0, &g, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "reads the capture twice"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordinary_flow_loads),
        cmocka_unit_test(test_sequence_on_off),
        cmocka_unit_test(test_decades_apart_refused),
        cmocka_unit_test(test_int64_ends),
        cmocka_unit_test(test_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
