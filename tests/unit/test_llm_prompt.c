/* tests/unit/test_llm_prompt.c - reading the agents' replies (valid, fenced, prose, Python,
 * truncated, empty, trailing text), the reviewer's verdict (only the parsed field counts),
 * the reply schemas, the model summary and the example packets. */
#include "llm/agent.h"
#include "llm/prompt.h"
#include "llm/study.h"
#include "tests/support/test_util.h"
#include "tests/unit/llm_test_model.h"

#include <string.h>

static int parse(const char *text, int cut, cJSON **root, int *fenced, struct fm_err *err)
{
    *root = NULL;
    return llm_reply_parse(text, strlen(text), cut, root, fenced, err);
}

static void expect_parse_error(const char *text, int cut, const char *part)
{
    cJSON *root = NULL;
    int fenced = 0;
    struct fm_err err = {0};
    int rc = parse(text, cut, &root, &fenced, &err);
    if (rc != FM_EFORMAT)
        fail_msg("'%s' parsed (rc %d)", text, rc);
    assert_null(root);
    if (!strstr(err.msg, part))
        fail_msg("message '%s' lacks '%s'", err.msg, part);
}

static void test_reply_valid(void **state)
{
    (void)state;
    cJSON *root = NULL;
    int fenced = 1;
    struct fm_err err = {0};
    assert_int_equal(parse("  \n{\"variants\": []}\n ", 0, &root, &fenced, &err), FM_OK);
    assert_non_null(root);
    assert_false(fenced);
    assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "variants")));
    cJSON_Delete(root);
}

static void test_reply_fenced(void **state)
{
    (void)state;
    cJSON *root = NULL;
    int fenced = 0;
    struct fm_err err = {0};
    assert_int_equal(parse("```json\n{\"a\": 1}\n```\n", 0, &root, &fenced, &err), FM_OK);
    assert_true(fenced);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(root, "a")->valueint, 1);
    cJSON_Delete(root);
    /* A fence without a language tag, and one left open. */
    assert_int_equal(parse("```\n{\"a\": 2}```", 0, &root, &fenced, &err), FM_OK);
    assert_true(fenced);
    cJSON_Delete(root);
    assert_int_equal(parse("```json\n{\"a\": 3}", 0, &root, &fenced, &err), FM_OK);
    cJSON_Delete(root);
    expect_parse_error("```json", 0, "only a Markdown fence");
}

static void test_reply_prose_and_code(void **state)
{
    (void)state;
    expect_parse_error("Sure! Here are three variants you could try: first, mark the flow EF.", 0,
                       "the reply is prose, not a JSON object (it began 'Sure! Here are three");
    /* Prose before the JSON is prose: nothing is fished out of it. */
    expect_parse_error("Here you go: {\"variants\": []}", 0, "prose");
    expect_parse_error("import random\nfor i in range(5):\n    print({'payload_length': 500})\n", 0,
                       "program code, not JSON");
    expect_parse_error("```python\npackets = [make(i) for i in range(5)]\n```", 0, "program code");
    expect_parse_error("def packets():\n    return []\n", 0, "program code");
}

static void test_reply_truncated(void **state)
{
    (void)state;
    expect_parse_error("{\"variants\": [{\"name\": \"ef\", \"rationale\": \"mark", 0,
                       "the JSON ends early");
    expect_parse_error("{\"variants\": [{\"name\": \"ef\"}", 0, "ends early");
    expect_parse_error("{\"variants\": [", 1, "stopped at the token limit");
}

static void test_reply_empty_and_broken(void **state)
{
    (void)state;
    expect_parse_error("", 0, "the reply was empty");
    expect_parse_error(" \n\t ", 0, "the reply was empty");
    expect_parse_error("", 1, "cut at the token limit");
    expect_parse_error("{\"a\": 1,, \"b\": 2}", 0, "not valid JSON near byte 9");
    expect_parse_error("{\"a\": 1} I hope this helps!", 0,
                       "text after the JSON object ('I hope this helps!')");
    cJSON *root = NULL;
    int fenced = 0;
    struct fm_err err = {0};
    assert_int_equal(llm_reply_parse(NULL, 0, 0, &root, &fenced, &err), FM_EFORMAT);
    /* Not NUL-terminated: only len bytes count. */
    const char buf[] = {'{', '}', 'x'};
    assert_int_equal(llm_reply_parse(buf, 2, 0, &root, &fenced, &err), FM_OK);
    cJSON_Delete(root);
}

static void verdict(const char *text, int want_rc, int want_approve, const char *part)
{
    struct llm_verdict v;
    struct fm_err err = {0};
    int rc = llm_verdict_parse(text, strlen(text), 0, &v, &err);
    if (rc != want_rc || v.approve != want_approve)
        fail_msg("'%s': rc %d approve %d, expected %d %d (%s)", text, rc, v.approve, want_rc,
                 want_approve, err.msg);
    if (part) {
        assert_true(v.n_problems >= 1);
        if (!strstr(v.problems[0], part))
            fail_msg("'%s': problem '%s' lacks '%s'", text, v.problems[0], part);
    }
}

static void test_verdicts(void **state)
{
    (void)state;
    verdict("{\"verdict\": \"APPROVE\", \"problems\": []}", FM_OK, 1, NULL);
    verdict("```json\n{\"verdict\": \"APPROVE\"}\n```", FM_OK, 1, NULL);
    /* Only the verdict field decides: problems listed with APPROVE do not block it. */
    verdict("{\"verdict\": \"APPROVE\", \"problems\": [\"minor\"], \"score\": 9}", FM_OK, 1,
            "minor");
    verdict("{\"verdict\": \"REVISE\", \"problems\": [\"ttl 1 will not leave the LAN\"]}", FM_OK, 0,
            "ttl 1 will not");
    /* The word alone is not a verdict. */
    verdict("I APPROVE these variants.", FM_EFORMAT, 0, "could not be read: the reply is prose");
    verdict("{\"verdict\": \"approve\"}", FM_EFORMAT, 0, "'approve', not \"APPROVE\"");
    verdict("{\"verdict\": \"APPROVED\"}", FM_EFORMAT, 0, "not \"APPROVE\" or \"REVISE\"");
    verdict("{\"problems\": [], \"note\": \"APPROVE\"}", FM_EFORMAT, 0, "no \"verdict\" string");
    verdict("{\"verdict\": true}", FM_EFORMAT, 0, "no \"verdict\" string");
    verdict("{\"verdict\": \"APPROVE\", \"problems\": [1]}", FM_EFORMAT, 0, "array of strings");
    verdict("{\"verdict\": \"APPROVE\", \"problems\": \"none\"}", FM_EFORMAT, 0,
            "array of strings");
    verdict("{\"verdict\": \"APPR", FM_EFORMAT, 0, "ends early");
    verdict("", FM_EFORMAT, 0, "the reply was empty");
    /* A generator's proposal with APPROVE in its text is no verdict either. */
    verdict("{\"variants\": [{\"name\": \"APPROVE\", \"rationale\": \"APPROVE APPROVE\"}]}",
            FM_EFORMAT, 0, "no \"verdict\"");
}

static void test_schemas(void **state)
{
    (void)state;
    char *g = llm_schema_generator(3, 5, 1472);
    assert_non_null(g);
    cJSON *root = cJSON_Parse(g);
    assert_non_null(root);
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "properties"), "variants");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(vars, "minItems")->valueint, 3);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(vars, "maxItems")->valueint, 3);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(root, "additionalProperties")));
    cJSON_Delete(root);
    assert_non_null(
        strstr(g, "\"ttl\":{\"type\":[\"integer\",\"null\"],\"minimum\":1,\"maximum\":255}"));
    assert_non_null(strstr(g, "\"required\":[\"dscp\",\"ttl\",\"src_port\",\"dst_port\","
                              "\"rtp_payload_type\",\"payload_scale\",\"payload_shift\","
                              "\"rate_scale\"]"));
    assert_non_null(strstr(g, "\"payload_length\":{\"type\":\"integer\",\"minimum\":0,"
                              "\"maximum\":1472}"));
    assert_non_null(strstr(g, "\"required\":[\"name\",\"rationale\",\"changes\",\"packets\"]"));
    free(g);
    char *r = llm_schema_reviewer();
    assert_non_null(r);
    assert_non_null(strstr(r, "\"enum\":[\"APPROVE\",\"REVISE\"]"));
    assert_non_null(strstr(r, "\"required\":[\"verdict\",\"problems\"]"));
    free(r);
}

/* The shared test model with an even split of lengths and a DSCP to show. */
static void make_side(struct mdl_model *m)
{
    llm_test_model(m);
    m->sides[0].payload.atoms[0].weight = 0.5;
    m->sides[0].payload.comps[0].weight = 0.5;
    m->sides[0].headers.dscp = 46;
    m->sides[0].headers.rtp_marker_ratio = 0.25;
}

static void test_summary(void **state)
{
    (void)state;
    struct mdl_model m;
    struct fm_buf b;
    make_side(&m);
    fm_buf_init(&b);
    llm_model_summary(&m, MDL_SIDE_LOCAL, &b);
    assert_false(b.oom);
    static const char *const parts[] = {
        "flow: udp from 198.18.0.1 port 5004 to 198.18.0.2 port 5006",
        "packets: 1000 over 20.0 s (50.0 packets/s, 300 kbit/s of payload)",
        "headers: ttl 64, dscp 46, RTP payload type 96, marker on 25% of packets",
        "min 100, max 1000, mean 750",
        "50.0% exactly 1000 bytes",
        "50.0% around 500 bytes (sd 50)",
        "gap_ms (time between packets): min 1, max 100",
        "100.0% around 20 ms (90% between 16.9",
    };
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (!strstr(b.s, parts[i]))
            fail_msg("summary lacks '%s':\n%s", parts[i], b.s);
    }
    fm_buf_fini(&b);
    llm_model_summary(&m, MDL_SIDE_REMOTE, &b);
    assert_non_null(strstr(b.s, "this side sent no packets"));
    fm_buf_fini(&b);
}

static void test_examples(void **state)
{
    (void)state;
    struct mdl_model m;
    struct llm_example ex[200];
    struct llm_example again[200];
    make_side(&m);
    struct fm_rng *r = fm_rng_new(7);
    assert_non_null(r);
    llm_examples_draw(&m.sides[0], r, 200, ex);
    fm_rng_free(r);
    for (size_t i = 0; i < LLM_MAX_PACKETS; i++) {
        assert_true(ex[i].payload_length >= 100 && ex[i].payload_length <= 1000);
        assert_true(ex[i].gap_ms >= 1.0 && ex[i].gap_ms <= 100.0);
    }
    /* The same seed draws the same packets. */
    r = fm_rng_new(7);
    llm_examples_draw(&m.sides[0], r, 200, again);
    fm_rng_free(r);
    assert_memory_equal(ex, again, LLM_MAX_PACKETS * sizeof(ex[0]));
    m.sides[0].has_iat = 0;
    r = fm_rng_new(7);
    llm_examples_draw(&m.sides[0], r, 3, ex);
    fm_rng_free(r);
    assert_double_near(ex[0].gap_ms, -1.0, 0);
}

/* A video side with a two-state chain whose figures are easy by hand: state 0 is 75% of the
 * packets (1000 bytes, 2 ms), state 1 25% (300 bytes, 30 ms, marked: it ends a frame); after
 * state 0 comes state 0 with p 2/3, after state 1 always state 0. So a state follows itself
 * with 0.75 * 2/3 + 0.25 * 0 = 0.5, runs last 1 / (0.75 / 3 + 0.25) = 2 packets, and at 50
 * packets/s a frame (4 packets) ends 12.5 times a second. */
static void make_seq_side(struct mdl_model *m)
{
    make_side(m);
    struct mdl_side *s = &m->sides[0];
    struct mdl_seq *q = &s->seq;
    memset(q, 0, sizeof(*q));
    q->k = 2;
    q->order = 1;
    q->clusters = 2;
    q->frames = 1;
    q->tick_ns = 1000;
    q->states[0] =
        (struct mdl_seq_state){750, 0, 0.0, 0.0, {1, {{1000, 1000, 1}}}, {1, {{2e6, 2e6, 1}}}};
    q->states[1] =
        (struct mdl_seq_state){250, 1, 0.0, 0.0, {1, {{300, 300, 1}}}, {1, {{30e6, 30e6, 1}}}};
    q->n_ctx = 3;
    q->ctx[0] = (struct mdl_seq_ctx){0, {0}, 1000, {0.75, 0.25}};
    q->ctx[1] = (struct mdl_seq_ctx){1, {0}, 750, {2.0 / 3.0, 1.0 / 3.0}};
    q->ctx[2] = (struct mdl_seq_ctx){1, {1}, 250, {1.0, 0.0}};
    mdl_seq_sort_ctx(q);
    struct fm_err err = {0};
    if (mdl_seq_check(q, &err) != FM_OK)
        fail_msg("test sequence: %s", err.msg);
    s->has_seq = 1;
}

static void test_summary_sequence(void **state)
{
    (void)state;
    struct mdl_model m;
    struct fm_buf b;
    make_seq_side(&m);
    fm_buf_init(&b);
    llm_model_summary(&m, MDL_SIDE_LOCAL, &b);
    assert_false(b.oom);
    static const char *const parts[] = {
        "sequence (packets follow each other as a chain of 2 states, each state drawn given "
        "the last state):\n",
        "  state 0: 75.0% of packets, about 1000 bytes, 2 ms after the previous packet\n",
        "  state 1: 25.0% of packets, about 300 bytes, 30 ms after the previous packet, ends a "
        "frame\n",
        "  persistence: a state follows itself with probability 0.50 on average (runs of 2.0 "
        "packets of one state)\n",
        "  frames: 12.5 per second, 4.0 packets per frame",
        /* The mixtures are still described: the variants' checks work on them. */
        "50.0% around 500 bytes (sd 50)",
    };
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (!strstr(b.s, parts[i]))
            fail_msg("summary lacks '%s':\n%s", parts[i], b.s);
    }
    fm_buf_fini(&b);
    /* Without the markers in the states there are no frames to speak of; a side without a
     * sequence says nothing about one. */
    m.sides[0].seq.frames = 0;
    llm_model_summary(&m, MDL_SIDE_LOCAL, &b);
    assert_null(strstr(b.s, "frames:"));
    assert_non_null(strstr(b.s, "persistence:"));
    fm_buf_fini(&b);
    m.sides[0].has_seq = 0;
    llm_model_summary(&m, MDL_SIDE_LOCAL, &b);
    assert_null(strstr(b.s, "sequence"));
    fm_buf_fini(&b);
}

/* Examples of a side with a sequence are consecutive packets of the chain: each length comes
 * with its own state's gap, and state 1 never follows itself. */
static void test_examples_sequence(void **state)
{
    (void)state;
    struct mdl_model m;
    struct llm_example ex[LLM_MAX_PACKETS];
    make_seq_side(&m);
    struct fm_rng *r = fm_rng_new(3);
    assert_non_null(r);
    llm_examples_draw(&m.sides[0], r, LLM_MAX_PACKETS, ex);
    fm_rng_free(r);
    size_t small = 0;
    for (size_t i = 0; i < LLM_MAX_PACKETS; i++) {
        if (ex[i].payload_length == 1000) {
            assert_double_near(ex[i].gap_ms, 2.0, 1e-9);
        } else {
            assert_int_equal(ex[i].payload_length, 300);
            assert_double_near(ex[i].gap_ms, 30.0, 1e-9);
            small++;
            if (i > 0)
                assert_int_not_equal(ex[i - 1].payload_length, 300);
        }
    }
    /* 50 draws at 25%: 12.5 expected; 2 or fewer, or 25 or more, has odds below 1e-3. */
    assert_true(small > 2 && small < 25);
}

static void test_prompts(void **state)
{
    (void)state;
    struct llm_example ex[2] = {{500, 20.0}, {1000, 0.5}};
    struct llm_gen_ask a = {NULL, "SUMMARY\n", ex, 2, 3, 5, 1472, 1500};
    struct fm_buf b;
    fm_buf_init(&b);
    llm_prompt_generator_system(&a, &b);
    assert_non_null(strstr(b.s, "exactly 3 variants, each with exactly 5 packets"));
    assert_non_null(strstr(b.s, "at most 1472 bytes (a 1500-byte MTU)"));
    fm_buf_fini(&b);
    llm_prompt_generator_user(&a, &b);
    assert_non_null(strstr(b.s, llm_default_task));
    assert_non_null(strstr(b.s, "SUMMARY\n"));
    assert_non_null(strstr(b.s, "[{\"payload_length\": 500, \"gap_ms\": 20.000}, "
                                "{\"payload_length\": 1000, \"gap_ms\": 0.500}]"));
    fm_buf_fini(&b);
    a.task = "Only change DSCP.";
    llm_prompt_generator_user(&a, &b);
    assert_non_null(strstr(b.s, "Task: Only change DSCP."));
    fm_buf_fini(&b);
    struct llm_findings notes;
    llm_findings_init(&notes);
    llm_findings_add(&notes, "variant 0 ('x'): changes nothing");
    llm_prompt_reviewer_user("SUM\n", "{\"variants\":[]}", 3, 5, &notes, &b);
    assert_non_null(strstr(b.s, "Proposal:\n{\"variants\":[]}"));
    assert_non_null(strstr(b.s, "all passed (3 variants, 5 example packets each)"));
    assert_non_null(strstr(b.s, "Note: variant 0 ('x'): changes nothing"));
    fm_buf_fini(&b);
}

static void expect_prompts_error(const char *text, const char *part)
{
    static struct llm_prompt_set set;
    struct fm_err err = {0};
    set.n = 99;
    assert_int_equal(llm_prompts_parse(text, strlen(text), "p.json", &set, &err), FM_EFORMAT);
    assert_int_equal(set.n, 99);
    if (!strstr(err.msg, part))
        fail_msg("message '%s' lacks '%s'", err.msg, part);
}

static void test_prompt_sets(void **state)
{
    (void)state;
    static struct llm_prompt_set set;
    struct fm_err err = {0};
    const char *good = "{\"format\": \"flowmimic.prompts\", \"version\": 1, \"prompts\": ["
                       "{\"name\": \"qos\", \"task\": \"mark it\"}, "
                       "{\"name\": \"load\", \"task\": \"load it\"}]}";
    assert_int_equal(llm_prompts_parse(good, strlen(good), "p.json", &set, &err), FM_OK);
    assert_int_equal(set.n, 2);
    assert_string_equal(set.items[1].name, "load");
    assert_string_equal(set.items[1].task, "load it");
    expect_prompts_error("{", "p.json: not valid JSON");
    expect_prompts_error("{\"format\": \"flowmimic.model\", \"version\": 1}",
                         "not a flowmimic prompt set");
    expect_prompts_error("{\"format\": \"flowmimic.prompts\", \"version\": 2, \"prompts\": []}",
                         "version must be 1");
    expect_prompts_error("{\"format\": \"flowmimic.prompts\", \"version\": 1, \"prompts\": []}",
                         "1 to 64 prompts");
    expect_prompts_error("{\"format\": \"flowmimic.prompts\", \"version\": 1, \"extra\": 1, "
                         "\"prompts\": [{\"name\": \"a\", \"task\": \"t\"}]}",
                         "field 'extra' is not a known field");
    expect_prompts_error("{\"format\": \"flowmimic.prompts\", \"version\": 1, \"prompts\": "
                         "[{\"name\": \"a b\", \"task\": \"t\"}]}",
                         "prompt 0: field 'name'");
    expect_prompts_error("{\"format\": \"flowmimic.prompts\", \"version\": 1, \"prompts\": "
                         "[{\"name\": \"a\", \"task\": \"\"}]}",
                         "prompt 0 ('a'): field 'task' must be a non-empty string");
    expect_prompts_error(
        "{\"format\": \"flowmimic.prompts\", \"version\": 1, \"prompts\": "
        "[{\"name\": \"a\", \"task\": \"t\"}, {\"name\": \"a\", \"task\": \"u\"}]}",
        "prompt 1: name 'a' repeats prompt 0's");
}

/* The shipped prompt set loads. */
static void test_shipped_prompts(void **state)
{
    (void)state;
    static struct llm_prompt_set set;
    struct fm_err err = {0};
    char path[512];
    const char *root = getenv("FM_TEST_DATA");
    snprintf(path, sizeof(path), "%s/../../prompts/video.json", root ? root : "tests/data");
    if (llm_prompts_load(path, &set, &err) < 0)
        fail_msg("%s", err.msg);
    assert_true(set.n >= 5);
    assert_string_equal(set.items[0].name, "default");
    assert_string_equal(set.items[0].task, llm_default_task);
}

static void test_run_record(void **state)
{
    (void)state;
    static struct llm_agent_result res;
    memset(&res, 0, sizeof(res));
    res.approved = 1;
    res.approved_round = 2;
    res.proposal.n = 3;
    res.st.rounds = 2;
    res.st.replies = 2;
    res.st.parsed = 1;
    res.st.passed = 1;
    res.st.reviews = 1;
    res.st.verdicts = 1;
    res.st.reply_tokens = 300;
    res.st.gen_s = 1.5;
    struct llm_run_info info = {"m1", "m2", "qos", 2, 8, "approved", NULL, 3};
    char *line = llm_run_record(&info, &res);
    assert_non_null(line);
    assert_null(strchr(line, '\n'));
    assert_string_equal(
        line, "{\"model\":\"m1\",\"reviewer_model\":\"m2\",\"prompt\":\"qos\",\"repeat\":2,"
              "\"seed\":8,\"outcome\":\"approved\",\"error\":null,\"rounds\":2,"
              "\"approved_round\":2,\"replies\":2,\"parsed\":1,\"passed_checks\":1,"
              "\"reviews\":1,\"readable_verdicts\":1,\"approved_variants\":3,"
              "\"variants_asked\":3,\"reply_tokens\":300,\"gen_s\":1.5,\"wall_s\":0,"
              "\"tokens_per_s\":200}");
    free(line);
    /* No counts from the server: tokens per second is null, not 0 or inf. */
    res.st.reply_tokens = -1;
    res.approved = 0;
    info.outcome = "error";
    info.error = "no \"server\"";
    line = llm_run_record(&info, &res);
    assert_non_null(strstr(line, "\"error\":\"no \\\"server\\\"\""));
    assert_non_null(strstr(line, "\"approved_round\":null"));
    assert_non_null(strstr(line, "\"approved_variants\":0"));
    assert_non_null(strstr(line, "\"tokens_per_s\":null"));
    free(line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reply_valid),
        cmocka_unit_test(test_reply_fenced),
        cmocka_unit_test(test_reply_prose_and_code),
        cmocka_unit_test(test_reply_truncated),
        cmocka_unit_test(test_reply_empty_and_broken),
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_schemas),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_summary_sequence),
        cmocka_unit_test(test_examples_sequence),
        cmocka_unit_test(test_examples),
        cmocka_unit_test(test_prompts),
        cmocka_unit_test(test_prompt_sets),
        cmocka_unit_test(test_shipped_prompts),
        cmocka_unit_test(test_run_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
