/* tests/unit/test_models_json.c - model files: round trip (version 1 without sequences,
 * version 2 with them), version-1 files loading unchanged, and rejection of bad or newer
 * ones, each naming its field. */
#include "models/json.h"
#include "tests/support/test_util.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void sample_model(struct mdl_model *m)
{
    memset(m, 0, sizeof(*m));
    m->version = MDL_VERSION;
    snprintf(m->capture, sizeof(m->capture), "call.pcap");
    snprintf(m->flow_spec, sizeof(m->flow_spec), "udp 198.18.0.1:5004 198.18.0.2:6000");
    m->packets = 3000;
    m->reordered = 3;
    snprintf(m->proto, sizeof(m->proto), "udp");
    snprintf(m->local.ip, sizeof(m->local.ip), "198.18.0.1");
    m->local.port = 5004;
    snprintf(m->remote.ip, sizeof(m->remote.ip), "198.18.0.2");
    m->remote.port = 6000;
    struct mdl_side *s = &m->sides[0];
    s->present = 1;
    s->packets = 3000;
    s->duration_s = 59.98;
    s->has_payload = 1;
    s->payload.scale = MDL_SCALE_LINEAR;
    s->payload.min = 12;
    s->payload.max = 1400;
    s->payload.resolution = 1;
    s->payload.n = 3000;
    s->payload.n_atoms = 1;
    s->payload.atoms[0] = (struct mdl_atom){1400, 0.41};
    s->payload.k = 2;
    s->payload.comps[0] = (struct mdl_comp){0.35, 620.25, 210.5};
    s->payload.comps[1] = (struct mdl_comp){0.24, 80.125, 12.0};
    s->payload.bic = 12345.678;
    s->has_iat = 1;
    s->iat.scale = MDL_SCALE_LOG;
    s->iat.min = 0;
    s->iat.max = 0.25;
    s->iat.resolution = 1e-6;
    s->iat.n = 2999;
    s->iat.n_atoms = 1;
    s->iat.atoms[0] = (struct mdl_atom){0, 0.1};
    s->iat.k = 1;
    s->iat.comps[0] = (struct mdl_comp){0.9, -3.2188758248682006, 0.05};
    s->headers = (struct mdl_headers){64, 34, 1, 96, 0.52};
    /* The remote side is absent: "remote": null. */
}

static void test_round_trip(void **state)
{
    (void)state;
    struct mdl_model m, back;
    struct fm_err err = {0};
    char path[300];
    sample_model(&m);
    test_path(path, sizeof(path), "m.json");
    assert_int_equal(mdl_json_save(&m, path, &err), FM_OK);
    assert_int_equal(mdl_json_load(path, &back, &err), FM_OK);
    assert_string_equal(back.flow_spec, m.flow_spec);
    assert_string_equal(back.local.ip, "198.18.0.1");
    assert_int_equal(back.remote.port, 6000);
    assert_int_equal(back.reordered, 3);
    assert_true(back.sides[0].present && !back.sides[1].present);
    const struct mdl_mixture *p = &back.sides[0].payload;
    assert_int_equal(p->n_atoms, 1);
    assert_int_equal(p->k, 2);
    /* Every double survives exactly: cJSON prints 17 significant digits when needed. */
    assert_true(p->comps[0].mean == 620.25 && p->comps[1].mean == 80.125);
    assert_true(back.sides[0].iat.comps[0].mean == -3.2188758248682006);
    assert_true(back.sides[0].iat.resolution == 1e-6);
    assert_int_equal(back.sides[0].iat.scale, MDL_SCALE_LOG);
    assert_int_equal(back.sides[0].headers.dscp, 34);
    assert_true(back.sides[0].headers.rtp && back.sides[0].headers.rtp_payload_type == 96);
    /* Saving what was loaded gives the same text. */
    char *a = mdl_json_print(&m);
    char *b = mdl_json_print(&back);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

/* Load text as a model and expect FM_EFORMAT with msg_part in the message. */
static void expect_reject(const char *text, const char *msg_part)
{
    char path[300];
    struct mdl_model m;
    struct fm_err err = {0};
    test_path(path, sizeof(path), "bad.json");
    test_write_text(path, text);
    int rc = mdl_json_load(path, &m, &err);
    if (rc != FM_EFORMAT || !strstr(err.msg, msg_part))
        fail_msg("rc %d msg '%s', expected FM_EFORMAT with '%s' for: %s", rc, err.msg, msg_part,
                 text);
    assert_non_null(strstr(err.msg, "bad.json"));
}

static void test_rejects(void **state)
{
    (void)state;
    struct mdl_model m;
    sample_model(&m);
    char *good = mdl_json_print(&m);
    assert_non_null(good);

    expect_reject("", "empty");
    expect_reject("{\"format\": \"flowmimic.model\", \"version\": 1,", "not valid JSON");
    expect_reject("[1, 2, 3]", "expected a JSON object");
    expect_reject("{\"format\": \"pcap\", \"version\": 1}", "not a flowmimic model");
    /* Version 2 is the sequence model's: 3 is the first this flowmimic does not read. */
    expect_reject("{\"format\": \"flowmimic.model\", \"version\": 3, \"flow\": {}}",
                  "newer than this flowmimic reads");
    expect_reject("{\"format\": \"flowmimic.model\", \"version\": \"1\"}", "version");

    /* Field-level damage to an otherwise good model: each names its field. */
    struct {
        const char *from, *to, *msg;
    } edits[] = {
        {"\"port\": 5004", "\"port\": 70000", "flow.local.port"},
        {"\"sd\": 210.5", "\"sd\": -1", "sides.local.payload_length.components[0].sd"},
        {"\"weight\": 0.41", "\"weight\": 1.5", "sides.local.payload_length.atoms[0].weight"},
        {"\"scale\": \"log\"", "\"scale\": \"cubic\"", "scale"},
        {"\"proto\": \"udp\"", "\"proto\": \"sctp\"", "flow.proto"},
        {"\"ttl\": 64", "\"ttl\": 300", "sides.local.headers.ttl"},
        {"\"mean\": 620.25", "\"mean\": \"big\"", "components[0].mean"},
        {"\"k\": 2", "\"k\": 3", "does not match"},
        {"\"weight\": 0.35", "\"weight\": 0.05", "sides.local.payload_length"}, /* sum != 1 */
    };
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        const char *at = strstr(good, edits[i].from);
        assert_non_null(at);
        char buf[8192];
        snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - good), good, edits[i].to,
                 at + strlen(edits[i].from));
        expect_reject(buf, edits[i].msg);
    }
    free(good);
}

/* A sequence model on the local side: two states, the second marked, an order-1 chain. */
static void add_seq(struct mdl_model *m)
{
    struct mdl_seq *q = &m->sides[0].seq;
    m->sides[0].has_seq = 1;
    memset(q, 0, sizeof(*q));
    q->k = 2;
    q->order = 1;
    q->clusters = 2;
    q->frames = 1;
    q->tick_ns = 1000;
    q->bic[0] = 1234.5;
    q->bic[1] = 1000.25;
    q->states[0] = (struct mdl_seq_state){
        2000, 0, 0.75, -0.125, {2, {{100, 100, 0.4}, {120, 180, 0.6}}}, {1, {{0, 0, 1}}}};
    q->states[1] = (struct mdl_seq_state){
        1000, 1, 0, 0.5, {1, {{1400, 1400, 1}}}, {2, {{20000, 30000, 0.5}, {31000, 40000, 0.5}}}};
    q->n_ctx = 3;
    q->ctx[0] = (struct mdl_seq_ctx){0, {0}, 3000, {0.666667, 0.333333}};
    q->ctx[1] = (struct mdl_seq_ctx){1, {0}, 2000, {0.5, 0.5}};
    q->ctx[2] = (struct mdl_seq_ctx){1, {1}, 999, {1, 0}};
}

static void test_seq_round_trip(void **state)
{
    (void)state;
    struct mdl_model *m = calloc(2, sizeof(*m));
    struct fm_err err = {0};
    assert_non_null(m);
    sample_model(&m[0]);
    /* Without sequences the file is the version-1 layout. */
    char *v1 = mdl_json_print(&m[0]);
    assert_non_null(strstr(v1, "\"version\": 1,"));
    assert_null(strstr(v1, "sequence"));
    add_seq(&m[0]);
    struct fm_err e2 = {0};
    if (mdl_seq_check(&m[0].sides[0].seq, &e2) < 0)
        fail_msg("%s", e2.msg);
    char *v2 = mdl_json_print(&m[0]);
    assert_non_null(strstr(v2, "\"version\": 2,"));
    assert_int_equal(mdl_json_parse(v2, strlen(v2), "m", &m[1], &err), FM_OK);
    assert_int_equal(m[1].version, 2);
    assert_true(m[1].sides[0].has_seq && !m[1].sides[1].has_seq);
    const struct mdl_seq *a = &m[0].sides[0].seq, *b = &m[1].sides[0].seq;
    assert_int_equal(b->k, 2);
    assert_int_equal(b->order, 1);
    assert_int_equal(b->frames, 1);
    assert_true(b->tick_ns == 1000 && b->bic[1] == 1000.25);
    assert_memory_equal(a->states, b->states, sizeof(a->states));
    assert_memory_equal(a->ctx, b->ctx, sizeof(a->ctx));
    char *again = mdl_json_print(&m[1]);
    assert_string_equal(v2, again);
    free(again);

    /* A version-1 file is read as before: a "sequence" member in it is not looked at. */
    char buf[16384];
    const char *at = strstr(v2, "\"version\": 2");
    snprintf(buf, sizeof(buf), "%.*s\"version\": 1%s", (int)(at - v2), v2, at + 12);
    assert_int_equal(mdl_json_parse(buf, strlen(buf), "m", &m[1], &err), FM_OK);
    assert_int_equal(m[1].version, 1);
    assert_false(m[1].sides[0].has_seq);
    assert_int_equal(mdl_json_parse(v1, strlen(v1), "m", &m[1], &err), FM_OK);
    assert_false(m[1].sides[0].has_seq);
    free(v1);
    free(v2);
    free(m);
}

static void test_seq_rejects(void **state)
{
    (void)state;
    struct mdl_model *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    sample_model(m);
    add_seq(m);
    char *good = mdl_json_print(m);
    assert_non_null(good);
    struct {
        const char *from, *to, *msg;
    } edits[] = {
        {"\"order\": 1", "\"order\": 7", "sides.local.sequence.order"},
        {"\"tick_ns\": 1000", "\"tick_ns\": 0", "sides.local.sequence.tick_ns"},
        {"\"frames\": true", "\"frames\": 1", "sides.local.sequence.frames"},
        {"[100, 100, 0.4]", "[100, 100, 1.4]", "sides.local.sequence.states[0].length[0]"},
        {"[100, 100, 0.4]", "[100, 100]", "sides.local.sequence.states[0].length[0]"},
        {"[100, 100, 0.4]", "[100, 100, 0.3]", "states[0].length: masses sum"},
        {"[120, 180, 0.6]", "[90, 180, 0.6]", "states[0].length.pieces[1]"},
        {"\"rho_length\": 0.75", "\"rho_length\": 1.5",
         "sides.local.sequence.states[0].rho_length"},
        {"\"marker\": 1", "\"marker\": 2", "sides.local.sequence.states[1].marker"},
        {"[0.5, 0.5]", "[0.5, 0.6]", "contexts[1].next"},
        {"[0.5, 0.5]", "[0.5]", "sides.local.sequence.contexts[1].next"},
        {"\"history\": [1]", "\"history\": [2]", "sides.local.sequence.contexts[2].history"},
        {"\"history\": [1]", "\"history\": [0]", "repeated"},
        {"\"states\": [", "\"states\": 3, \"x\": [", "sides.local.sequence.states"},
    };
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        const char *at = strstr(good, edits[i].from);
        if (!at)
            fail_msg("'%s' not in %s", edits[i].from, good);
        char buf[16384];
        snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - good), good, edits[i].to,
                 at + strlen(edits[i].from));
        expect_reject(buf, edits[i].msg);
    }
    free(good);
    free(m);
}

static void test_io_errors(void **state)
{
    (void)state;
    struct mdl_model m;
    struct fm_err err = {0};
    char path[300];
    test_path(path, sizeof(path), "missing.json");
    assert_int_equal(mdl_json_load(path, &m, &err), FM_EIO);
    assert_non_null(strstr(err.msg, "missing.json"));
    assert_int_equal(mdl_json_load(test_dir(), &m, &err), FM_EIO);
    assert_non_null(strstr(err.msg, "is a directory"));

    /* Saving into a directory that does not exist fails and leaves nothing behind. */
    sample_model(&m);
    test_path(path, sizeof(path), "nodir/m.json");
    assert_int_equal(mdl_json_save(&m, path, &err), FM_EIO);
    assert_non_null(strstr(err.msg, "nodir/m.json"));
}

static void test_save_replaces_atomically(void **state)
{
    (void)state;
    struct mdl_model m, back;
    struct fm_err err = {0};
    char path[300];
    sample_model(&m);
    test_path(path, sizeof(path), "again.json");
    test_write_text(path, "old contents");
    assert_int_equal(mdl_json_save(&m, path, &err), FM_OK);
    assert_int_equal(mdl_json_load(path, &back, &err), FM_OK);
    /* No temporary files are left in the directory. */
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "ls '%s' | grep -q tmp", test_dir());
    assert_int_not_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),     cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_seq_round_trip), cmocka_unit_test(test_seq_rejects),
        cmocka_unit_test(test_io_errors),      cmocka_unit_test(test_save_replaces_atomically),
    };
    return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
