/* tests/unit/test_llm_check.c - the deterministic checks of a generator's proposal: schema,
 * every range, unknown fields, names, the MTU, and both sides of each plausibility bound. */
#include "llm/check.h"
#include "tests/support/test_util.h"
#include "tests/unit/llm_test_model.h"

#include <string.h>

static struct mdl_model model;

/* Read and check a proposal text for 2 variants of 2 packets (or what o says); returns the
 * number of problems and keeps the findings. */
static size_t run_checks(const char *text, const struct llm_check_opts *o, struct llm_findings *f)
{
    static struct llm_proposal p;
    llm_findings_init(f);
    cJSON *root = cJSON_Parse(text);
    assert_non_null(root);
    size_t bad = llm_proposal_read(root, o, &p, f);
    if (bad == 0)
        bad = llm_proposal_check(&model, o, &p, f, NULL);
    cJSON_Delete(root);
    return bad;
}

static void opts2(struct llm_check_opts *o)
{
    llm_check_opts_init(o);
    o->n_variants = 2;
    o->n_packets = 2;
}

/* Some finding holds every part. */
static void expect_finding(const struct llm_findings *f, const char *part1, const char *part2)
{
    for (size_t i = 0; i < f->n; i++) {
        if (strstr(f->msg[i], part1) && (!part2 || strstr(f->msg[i], part2)))
            return;
    }
    for (size_t i = 0; i < f->n; i++)
        fprintf(stderr, "finding: %s\n", f->msg[i]);
    fail_msg("no finding holds '%s' and '%s'", part1, part2 ? part2 : "");
}

#define PKTS                                                    \
    "\"packets\": [{\"payload_length\": 500, \"gap_ms\": 20}, " \
    "{\"payload_length\": 1000, \"gap_ms\": 21.5}]"
#define OTHER \
    "{\"name\": \"plain\", \"rationale\": \"the model as captured\", \"changes\": {}, " PKTS "}"

/* One variant with changes CH (a JSON object body) and the plain one after it. */
static char *with_changes(const char *ch)
{
    static char buf[2048];
    snprintf(buf, sizeof(buf),
             "{\"variants\": [{\"name\": \"v\", \"rationale\": \"r\", \"changes\": {%s}, " PKTS
             "}, " OTHER "]}",
             ch);
    return buf;
}

static void test_good(void **state)
{
    (void)state;
    struct llm_check_opts o;
    struct llm_findings f;
    struct llm_proposal p;
    opts2(&o);
    const char *text = with_changes("\"dscp\": 46, \"ttl\": 32, \"src_port\": 5004, "
                                    "\"dst_port\": 6000, \"rtp_payload_type\": 100, "
                                    "\"payload_scale\": 1, \"payload_shift\": 0, "
                                    "\"rate_scale\": 1");
    assert_int_equal(run_checks(text, &o, &f), 0);
    assert_int_equal(f.n, 0);
    cJSON *root = cJSON_Parse(text);
    assert_int_equal(llm_proposal_read(root, &o, &p, &f), 0);
    cJSON_Delete(root);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.vs[0].v.name, "v");
    assert_int_equal(p.vs[0].v.dscp, 46);
    assert_int_equal(p.vs[0].v.ttl, 32);
    assert_int_equal(p.vs[0].v.dst_port, 6000);
    assert_int_equal(p.vs[0].n_packets, 2);
    assert_int_equal(p.vs[0].packets[1].payload_length, 1000);
    assert_double_near(p.vs[0].packets[1].gap_ms, 21.5, 0);
    /* Null changes, as the schema asks for, keep the model's values like absent ones. */
    root = cJSON_Parse(with_changes("\"dscp\": null, \"ttl\": 9, \"src_port\": null, "
                                    "\"dst_port\": null, \"rtp_payload_type\": null, "
                                    "\"payload_scale\": null, \"payload_shift\": null, "
                                    "\"rate_scale\": null"));
    assert_int_equal(llm_proposal_read(root, &o, &p, &f), 0);
    cJSON_Delete(root);
    assert_int_equal(p.vs[0].v.dscp, -1);
    assert_int_equal(p.vs[0].v.ttl, 9);
    assert_double_near(p.vs[0].v.payload_scale, 1.0, 0);
    /* Absent changes keep the model's values. */
    assert_int_equal(p.vs[1].v.ttl, -1);
    assert_double_near(p.vs[1].v.rate_scale, 1.0, 0);
}

static void test_ranges(void **state)
{
    (void)state;
    static const struct {
        const char *change;
        const char *field;
        const char *range;
    } cases[] = {
        {"\"dscp\": 64", "changes.dscp 64", "0 to 63"},
        {"\"dscp\": -1", "changes.dscp -1", "0 to 63"},
        {"\"ttl\": 0", "changes.ttl 0", "1 to 255"},
        {"\"ttl\": 256", "changes.ttl 256", "1 to 255"},
        {"\"src_port\": 0", "changes.src_port 0", "1 to 65535"},
        {"\"dst_port\": 65536", "changes.dst_port 65536", "1 to 65535"},
        {"\"rtp_payload_type\": 128", "changes.rtp_payload_type 128", "0 to 127"},
        {"\"payload_scale\": 0", "changes.payload_scale 0", "0.001 to 1000"},
        {"\"rate_scale\": -2", "changes.rate_scale -2", "0.001 to 1000"},
        {"\"rate_scale\": 5000", "changes.rate_scale 5000", "0.001 to 1000"},
        {"\"payload_shift\": 70000", "changes.payload_shift 70000", "-65507 to 65507"},
        {"\"ttl\": 64.5", "changes.ttl must be an integer", NULL},
        {"\"ttl\": \"64\"", "changes.ttl must be an integer, not a string", NULL},
        {"\"rate_scale\": true", "changes.rate_scale must be a number, not a boolean", NULL},
    };
    struct llm_check_opts o;
    struct llm_findings f;
    opts2(&o);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t bad = run_checks(with_changes(cases[i].change), &o, &f);
        if (bad != 1)
            fail_msg("%s: %zu problems, expected 1", cases[i].change, bad);
        expect_finding(&f, "variant 0 ('v')", cases[i].field);
        if (cases[i].range)
            expect_finding(&f, cases[i].field, cases[i].range);
    }
    /* The edges themselves pass. */
    assert_int_equal(run_checks(with_changes("\"dscp\": 63, \"ttl\": 255, \"src_port\": 1, "
                                             "\"dst_port\": 65535, \"rtp_payload_type\": 0"),
                                &o, &f),
                     0);
}

static void test_unknown_fields(void **state)
{
    (void)state;
    struct llm_check_opts o;
    struct llm_findings f;
    opts2(&o);
    assert_int_equal(run_checks(with_changes("\"dcsp\": 46"), &o, &f), 1);
    expect_finding(&f, "unknown field 'changes.dcsp'", "dscp, ttl");
    const char *extra_top = "{\"variants\": [" OTHER ", " OTHER "], \"comment\": \"hi\"}";
    assert_true(run_checks(extra_top, &o, &f) >= 1);
    expect_finding(&f, "unknown top-level field 'comment'", NULL);
    const char *extra_variant = "{\"variants\": [{\"name\": \"a\", \"rationale\": \"r\", "
                                "\"changes\": {}, \"mood\": 1, " PKTS "}, " OTHER "]}";
    assert_int_equal(run_checks(extra_variant, &o, &f), 1);
    expect_finding(&f, "variant 0 ('a'): unknown field 'mood'", NULL);
    const char *extra_packet =
        "{\"variants\": [{\"name\": \"a\", \"rationale\": \"r\", \"changes\": {}, \"packets\": "
        "[{\"payload_length\": 500, \"gap_ms\": 20, \"size\": 3}, {\"payload_length\": 500, "
        "\"gap_ms\": 20}]}, " OTHER "]}";
    assert_int_equal(run_checks(extra_packet, &o, &f), 1);
    expect_finding(&f, "unknown field 'packets[0].size'", NULL);
}

static void test_schema(void **state)
{
    (void)state;
    struct llm_check_opts o;
    struct llm_findings f;
    opts2(&o);
    assert_int_equal(run_checks("[1, 2]", &o, &f), 1);
    expect_finding(&f, "must be a JSON object", "not an array");
    assert_int_equal(run_checks("{}", &o, &f), 1);
    expect_finding(&f, "field 'variants' is missing", NULL);
    assert_int_equal(run_checks("{\"variants\": [" OTHER "]}", &o, &f), 1);
    expect_finding(&f, "has 1 variants; give exactly 2", NULL);
    const char *missing =
        "{\"variants\": [{\"rationale\": \"r\", \"changes\": {}, " PKTS "}, {\"name\": \"b\"}]}";
    assert_int_equal(run_checks(missing, &o, &f), 4);
    expect_finding(&f, "variant 0: field 'name' is missing", NULL);
    expect_finding(&f, "variant 1 ('b'): field 'rationale' is missing", NULL);
    expect_finding(&f, "variant 1 ('b'): field 'changes' is missing", NULL);
    expect_finding(&f, "variant 1 ('b'): field 'packets' is missing", NULL);
    const char *short_pk =
        "{\"variants\": [{\"name\": \"a\", \"rationale\": \"r\", \"changes\": {}, \"packets\": "
        "[{\"payload_length\": 500.5, \"gap_ms\": -1}]}, " OTHER "]}";
    assert_int_equal(run_checks(short_pk, &o, &f), 3);
    expect_finding(&f, "has 1 example packets; give exactly 2", NULL);
    expect_finding(&f, "packet 0: payload_length must be an integer, not a fraction", NULL);
    expect_finding(&f, "packet 0: gap_ms -1 is out of range", NULL);
}

static void test_names(void **state)
{
    (void)state;
    struct llm_check_opts o;
    struct llm_findings f;
    opts2(&o);
    const char *dup = "{\"variants\": [" OTHER ", " OTHER "]}";
    assert_int_equal(run_checks(dup, &o, &f), 1);
    expect_finding(&f, "variant 1 ('plain')", "repeats variant 0's");
    static const char *const bad_names[] = {"a b", "-x", ".x", "x:y", ""};
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
        char text[1024];
        snprintf(text, sizeof(text),
                 "{\"variants\": [{\"name\": \"%s\", \"rationale\": \"r\", \"changes\": {}, " PKTS
                 "}, " OTHER "]}",
                 bad_names[i]);
        assert_int_equal(run_checks(text, &o, &f), 1);
        expect_finding(&f, "name must be letters, digits", NULL);
    }
    char text[1024];
    snprintf(text, sizeof(text),
             "{\"variants\": [{\"name\": \"%070d\", \"rationale\": \"r\", \"changes\": {}, " PKTS
             "}, " OTHER "]}",
             0);
    assert_int_equal(run_checks(text, &o, &f), 1);
    expect_finding(&f, "name is too long", NULL);
}

static void test_mtu(void **state)
{
    (void)state;
    struct llm_check_opts o;
    struct llm_findings f;
    opts2(&o);
    assert_int_equal(mdl_max_udp_payload(&model, 1500), 1472);
    /* payload_scale 1.6 makes the largest payload (1000) 1600 bytes: too big for 1500. */
    const char *big =
        "{\"variants\": [{\"name\": \"big\", \"rationale\": \"r\", \"changes\": "
        "{\"payload_scale\": 1.6}, \"packets\": [{\"payload_length\": 800, \"gap_ms\": 20}, "
        "{\"payload_length\": 1600, \"gap_ms\": 20}]}, " OTHER "]}";
    assert_int_equal(run_checks(big, &o, &f), 2);
    expect_finding(&f, "variant 0 ('big')", "largest payload (1000 bytes) 1600 bytes");
    expect_finding(&f, "packet 1: payload_length 1600 exceeds the 1472 bytes", NULL);
    /* A jumbo MTU takes it. */
    o.mtu = 9000;
    assert_int_equal(run_checks(big, &o, &f), 0);
    /* 1.4 fits 1500 (1400 <= 1472). */
    o.mtu = 1500;
    const char *ok =
        "{\"variants\": [{\"name\": \"b14\", \"rationale\": \"r\", \"changes\": "
        "{\"payload_scale\": 1.4}, \"packets\": [{\"payload_length\": 700, \"gap_ms\": 20}, "
        "{\"payload_length\": 1400, \"gap_ms\": 20}]}, " OTHER "]}";
    assert_int_equal(run_checks(ok, &o, &f), 0);
    /* IPv6 headers take 20 bytes more. */
    struct mdl_model v6 = model;
    snprintf(v6.local.ip, sizeof(v6.local.ip), "2001:db8::1");
    assert_int_equal(mdl_max_udp_payload(&v6, 1500), 1452);
}

static void test_mass(void **state)
{
    (void)state;
    struct mdl_mixture m;
    memset(&m, 0, sizeof(m));
    m.scale = MDL_SCALE_LINEAR;
    m.min = -10;
    m.max = 10;
    m.k = 1;
    m.comps[0].weight = 1;
    m.comps[0].mean = 0;
    m.comps[0].sd = 1;
    assert_double_near(llm_mixture_mass(&m, -1, 1), 0.682689, 1e-6);
    assert_double_near(llm_mixture_mass(&m, 1, -1), 0.0, 0);
    /* Truncated to [0, 10], the half-normal holds twice the mass on [0, 1]. */
    m.min = 0;
    assert_double_near(llm_mixture_mass(&m, 0, 1), 0.682689, 1e-6);
    assert_double_near(llm_mixture_mass(&m, -5, -1), 0.0, 0);
    /* On ln(x): [1/e, e] is one sd either side. */
    m.scale = MDL_SCALE_LOG;
    m.min = 1e-9;
    m.max = 1e9;
    assert_double_near(llm_mixture_mass(&m, exp(-1.0), exp(1.0)), 0.682689, 1e-6);
    assert_double_near(llm_mixture_mass(&m, 0, 1), 0.5, 1e-9);
    /* Atoms count when inside the window. */
    m.k = 0;
    m.n_atoms = 2;
    m.atoms[0].value = 5;
    m.atoms[0].weight = 0.25;
    m.atoms[1].value = 7;
    m.atoms[1].weight = 0.75;
    assert_double_near(llm_mixture_mass(&m, 4, 6), 0.25, 0);
    assert_double_near(llm_mixture_mass(&m, 5, 7), 1.0, 0);
    assert_double_near(llm_mixture_mass(&m, 5.5, 6.5), 0.0, 0);
}

/* The length bound: with 90% N(500, 50), a 5% window around 680 bytes holds 0.0016 (passes),
 * around 700 only 0.00043 (fails). Under payload_scale 2 the same holds at 1360 and 1400. */
static void test_plaus_length(void **state)
{
    (void)state;
    const struct mdl_side *s = &model.sides[MDL_SIDE_LOCAL];
    struct mdl_variant v;
    struct llm_plaus pl;
    mdl_variant_init(&v);
    llm_plaus_length(s, &v, 680, &pl);
    assert_true(pl.ok);
    assert_double_near(pl.mass, 0.9 * 0.0017365, 2e-5);
    llm_plaus_length(s, &v, 700, &pl);
    assert_false(pl.ok);
    assert_true(pl.in_support);
    assert_double_near(pl.mass, 0.9 * 0.00048, 2e-5);
    v.payload_scale = 2;
    llm_plaus_length(s, &v, 1360, &pl);
    assert_true(pl.ok);
    llm_plaus_length(s, &v, 1400, &pl);
    assert_false(pl.ok);
    /* Support: 100..1000 bytes, shifted by payload_shift. */
    mdl_variant_init(&v);
    llm_plaus_length(s, &v, 1000, &pl); /* the atom */
    assert_true(pl.ok);
    assert_true(pl.mass >= 0.1);
    llm_plaus_length(s, &v, 1001, &pl);
    assert_false(pl.in_support);
    assert_false(pl.ok);
    llm_plaus_length(s, &v, 99, &pl);
    assert_false(pl.in_support);
    v.payload_shift = -50;
    llm_plaus_length(s, &v, 950, &pl);
    assert_true(pl.ok);
    llm_plaus_length(s, &v, 951, &pl);
    assert_false(pl.in_support);
    llm_plaus_length(s, &v, 50, &pl);
    assert_true(pl.in_support);
}

/* The gap bound: ln(gap) ~ N(ln 20 ms, 0.1); a 5% window around 28 ms holds 0.0021 (passes),
 * around 30 ms 0.0002 (fails). rate_scale 2 halves both: 14 ms passes, 15 ms fails. */
static void test_plaus_gap(void **state)
{
    (void)state;
    const struct mdl_side *s = &model.sides[MDL_SIDE_LOCAL];
    struct mdl_variant v;
    struct llm_plaus pl;
    mdl_variant_init(&v);
    llm_plaus_gap(s, &v, 20.0, &pl);
    assert_true(pl.ok);
    assert_true(pl.mass > 0.3);
    llm_plaus_gap(s, &v, 28.0, &pl);
    assert_true(pl.ok);
    assert_double_near(pl.mass, 0.00211, 1e-4);
    llm_plaus_gap(s, &v, 30.0, &pl);
    assert_false(pl.ok);
    assert_true(pl.in_support);
    assert_true(pl.mass < 3e-4);
    llm_plaus_gap(s, &v, 12.0, &pl); /* the low side: ln(0.6)/0.1 = -5.1 sd */
    assert_false(pl.ok);
    v.rate_scale = 2;
    llm_plaus_gap(s, &v, 14.0, &pl);
    assert_true(pl.ok);
    llm_plaus_gap(s, &v, 15.0, &pl);
    assert_false(pl.ok);
    llm_plaus_gap(s, &v, 10.0, &pl);
    assert_true(pl.ok);
    /* Support: 1..100 ms at rate 1; 0.5..50 ms at rate 2. */
    llm_plaus_gap(s, &v, 60.0, &pl);
    assert_false(pl.in_support);
    mdl_variant_init(&v);
    llm_plaus_gap(s, &v, 0.5, &pl);
    assert_false(pl.in_support);
    /* A side without a gap model is not judged. */
    struct mdl_side none = *s;
    none.has_iat = 0;
    llm_plaus_gap(&none, &v, 1e6, &pl);
    assert_true(pl.ok);
}

/* A side with a sequence model: its states' pieces are values it draws, so a length or gap
 * they hold passes even where the mixture is thin (700 bytes and 30 ms fail above), and one
 * that neither holds still fails. */
static void test_plaus_sequence(void **state)
{
    (void)state;
    struct mdl_side s = model.sides[MDL_SIDE_LOCAL];
    struct mdl_seq *q = &s.seq;
    memset(q, 0, sizeof(*q));
    q->k = 2;
    q->tick_ns = 1000;
    q->states[0] =
        (struct mdl_seq_state){990, 0, 0.0, 0.0, {1, {{500, 500, 1}}}, {1, {{20e6, 20e6, 1}}}};
    q->states[1] =
        (struct mdl_seq_state){10, 0, 0.0, 0.0, {1, {{690, 710, 1}}}, {1, {{29e6, 31e6, 1}}}};
    q->n_ctx = 1;
    q->ctx[0] = (struct mdl_seq_ctx){0, {0}, 1000, {0.99, 0.01}};
    s.has_seq = 1;
    struct mdl_variant v;
    struct llm_plaus pl;
    mdl_variant_init(&v);
    llm_plaus_length(&s, &v, 700, &pl);
    assert_true(pl.ok);
    assert_double_near(pl.mass, 0.01, 1e-12);
    llm_plaus_gap(&s, &v, 30.0, &pl);
    assert_true(pl.ok);
    assert_double_near(pl.mass, 0.01, 1e-12);
    llm_plaus_length(&s, &v, 800, &pl); /* neither the mixture nor a piece */
    assert_false(pl.ok);
    llm_plaus_gap(&s, &v, 40.0, &pl);
    assert_false(pl.ok);
    /* Under rate_scale 2, 15 ms is a model gap of 30 ms. */
    v.rate_scale = 2;
    llm_plaus_gap(&s, &v, 15.0, &pl);
    assert_true(pl.ok);
    s.has_seq = 0;
    llm_plaus_gap(&s, &v, 15.0, &pl);
    assert_false(pl.ok);
}

static void test_plaus_findings(void **state)
{
    (void)state;
    struct llm_check_opts o;
    struct llm_findings f;
    struct llm_findings notes;
    struct llm_proposal p;
    opts2(&o);
    const char *text =
        "{\"variants\": [{\"name\": \"fast\", \"rationale\": \"r\", \"changes\": "
        "{\"rate_scale\": 2}, \"packets\": [{\"payload_length\": 700, \"gap_ms\": 15}, "
        "{\"payload_length\": 8, \"gap_ms\": 10}]}, " OTHER "]}";
    assert_int_equal(run_checks(text, &o, &f), 4);
    expect_finding(&f, "variant 0 ('fast'): packet 0: payload_length 700 is implausible",
                   "within 5%");
    expect_finding(&f, "packet 0: gap_ms 15 is implausible under the model with rate_scale 2",
                   NULL);
    expect_finding(&f, "packet 1: payload_length 8 is shorter than the 12-byte RTP header", NULL);
    expect_finding(&f, "packet 1: payload_length 8 is outside what the model sends", "100 to 1000");
    /* Notes: a variant that changes nothing. */
    llm_findings_init(&f);
    llm_findings_init(&notes);
    cJSON *root = cJSON_Parse("{\"variants\": [" OTHER ", {\"name\": \"x\", \"rationale\": \"r\", "
                              "\"changes\": {\"ttl\": 3}, " PKTS "}]}");
    assert_int_equal(llm_proposal_read(root, &o, &p, &f), 0);
    assert_int_equal(llm_proposal_check(&model, &o, &p, &f, &notes), 0);
    cJSON_Delete(root);
    assert_int_equal(notes.n, 1);
    assert_non_null(strstr(notes.msg[0], "variant 0 ('plain'): changes nothing"));
}

static void test_findings_cap(void **state)
{
    (void)state;
    struct llm_findings f;
    llm_findings_init(&f);
    for (int i = 0; i < LLM_MAX_FINDINGS + 5; i++)
        llm_findings_add(&f, "problem %d", i);
    assert_int_equal(f.n, LLM_MAX_FINDINGS);
    assert_int_equal(f.dropped, 5);
    assert_int_equal(llm_findings_count(&f), LLM_MAX_FINDINGS + 5);
    assert_string_equal(f.msg[0], "problem 0");
}

int main(void)
{
    llm_test_model(&model);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),           cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_unknown_fields), cmocka_unit_test(test_schema),
        cmocka_unit_test(test_names),          cmocka_unit_test(test_mtu),
        cmocka_unit_test(test_mass),           cmocka_unit_test(test_plaus_length),
        cmocka_unit_test(test_plaus_gap),      cmocka_unit_test(test_plaus_findings),
        cmocka_unit_test(test_findings_cap),   cmocka_unit_test(test_plaus_sequence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
