/* tests/unit/test_llm_agent.c - the generator/reviewer loop against the stub LLM server: the
 * counts the batch study reports (replies, parsed, passed, reviews, verdicts), which verdicts
 * count, what is fed back, the transcript, and the stop flag. */
#include "llm/agent.h"
#include "models/json.h"
#include "tests/support/stub_llm.h"
#include "tests/support/test_util.h"

#include <string.h>

static struct mdl_model model;

struct fixture {
    pid_t pid;
    struct llm_client *client;
    struct fm_buf transcript;
    struct llm_agent_result res;
    struct llm_agent_opts opts;
};

static void data_path(char *buf, size_t size, const char *name)
{
    const char *root = getenv("FM_TEST_DATA");
    snprintf(buf, size, "%s/agents/%s", root ? root : "tests/data", name);
}

/* Start the stub on a script from tests/data/agents and run the loop for rounds. */
static int run_script(struct fixture *f, const char *script, unsigned rounds, struct fm_err *err)
{
    char path[512];
    int port = 0;
    data_path(path, sizeof(path), script);
    memset(f, 0, sizeof(*f));
    assert_int_equal(stub_llm_start(path, NULL, &port, &f->pid), 0);
    struct llm_config cfg;
    llm_config_init(&cfg);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    assert_int_equal(llm_config_set_server(&cfg, url, err), FM_OK);
    cfg.timeout_s = 10;
    f->client = llm_client_new(&cfg, err);
    assert_non_null(f->client);
    llm_agent_opts_init(&f->opts);
    f->opts.rounds = rounds;
    fm_buf_init(&f->transcript);
    return llm_agent_run(&model, &f->opts, f->client, f->client, NULL, &f->transcript, &f->res,
                         err);
}

static void done(struct fixture *f)
{
    llm_client_free(f->client);
    stub_llm_stop(f->pid);
    fm_buf_fini(&f->transcript);
}

static void has(const struct fixture *f, const char *text)
{
    if (!f->transcript.s || !strstr(f->transcript.s, text))
        fail_msg("transcript lacks '%s'", text);
}

static void test_happy(void **state)
{
    (void)state;
    struct fixture f;
    struct fm_err err = {0};
    assert_int_equal(run_script(&f, "happy.json", 5, &err), FM_OK);
    assert_true(f.res.approved);
    assert_int_equal(f.res.approved_round, 1);
    assert_int_equal(f.res.proposal.n, 3);
    assert_string_equal(f.res.proposal.vs[0].v.name, "ef-marked");
    assert_int_equal(f.res.proposal.vs[0].v.dscp, 46);
    assert_int_equal(f.res.proposal.vs[1].v.ttl, 8);
    assert_double_near(f.res.proposal.vs[2].v.rate_scale, 2.0, 0);
    assert_int_equal(f.res.proposal.vs[2].n_packets, 5);
    assert_double_near(f.res.proposal.vs[2].packets[0].gap_ms, 33.325, 1e-9);
    const struct llm_agent_stats *st = &f.res.st;
    assert_int_equal(st->rounds, 1);
    assert_int_equal(st->replies, 1);
    assert_int_equal(st->parsed, 1);
    assert_int_equal(st->passed, 1);
    assert_int_equal(st->reviews, 1);
    assert_int_equal(st->verdicts, 1);
    /* The stub counts words: 122 for the proposal, 4 for the verdict. */
    assert_true(st->reply_tokens > 100);
    assert_true(llm_agent_tokens_per_s(st) > 0);
    has(&f, "=== round 1 of 5 ===");
    has(&f, "--- verdict: APPROVE ---");
    has(&f, "=== approved in round 1 of 5 ===");
    done(&f);
}

static void test_prose_python_fence(void **state)
{
    (void)state;
    struct fixture f;
    struct fm_err err = {0};
    assert_int_equal(run_script(&f, "prose-python.json", 5, &err), FM_OK);
    assert_true(f.res.approved);
    assert_int_equal(f.res.approved_round, 3);
    assert_int_equal(f.res.st.replies, 3);
    assert_int_equal(f.res.st.parsed, 1);
    assert_int_equal(f.res.st.passed, 1);
    assert_int_equal(f.res.st.reviews, 1);
    has(&f, "the reply is prose");
    has(&f, "the reply is program code");
    has(&f, "fence around the reply was stripped");
    done(&f);
}

static void test_never(void **state)
{
    (void)state;
    struct fixture f;
    struct fm_err err = {0};
    assert_int_equal(run_script(&f, "never.json", 2, &err), FM_OK);
    assert_false(f.res.approved);
    assert_int_equal(f.res.st.rounds, 2);
    assert_int_equal(f.res.st.passed, 2);
    assert_int_equal(f.res.st.reviews, 2);
    assert_int_equal(f.res.st.verdicts, 2);
    /* The reviewer's problem goes back to the generator in round 2. */
    has(&f, "The reviewer did not approve the proposal:\n- ef-marked and short-path only");
    has(&f, "=== no variant approved after 2 rounds ===");
    done(&f);
}

/* APPROVE inside the generator's text, and a reviewer that writes the word in prose: the
 * verdict field is never there, so nothing is approved and no verdict counts as readable. */
static void test_approve_word(void **state)
{
    (void)state;
    struct fixture f;
    struct fm_err err = {0};
    assert_int_equal(run_script(&f, "approve-word.json", 3, &err), FM_OK);
    assert_false(f.res.approved);
    assert_int_equal(f.res.st.replies, 3);
    assert_int_equal(f.res.st.parsed, 2);
    assert_int_equal(f.res.st.passed, 2);
    assert_int_equal(f.res.st.reviews, 2);
    assert_int_equal(f.res.st.verdicts, 0);
    /* The reviewer is told its reply was unreadable. */
    has(&f, "Your previous reply could not be read");
    done(&f);
}

/* A proposal that fails a check never reaches the reviewer. */
static void test_checks_first(void **state)
{
    (void)state;
    struct fixture f;
    struct fm_err err = {0};
    assert_int_equal(run_script(&f, "ttl.json", 5, &err), FM_OK);
    assert_true(f.res.approved);
    assert_int_equal(f.res.approved_round, 2);
    assert_int_equal(f.res.st.parsed, 2);
    assert_int_equal(f.res.st.passed, 1);
    assert_int_equal(f.res.st.reviews, 1);
    assert_int_equal(f.res.proposal.vs[1].v.ttl, 8);
    has(&f, "--- checks: 1 problem ---");
    done(&f);
}

static void test_client_error(void **state)
{
    (void)state;
    struct fixture f;
    struct fm_err err = {0};
    assert_int_equal(run_script(&f, "error-after.json", 5, &err), FM_EHTTP);
    assert_non_null(strstr(err.msg, "llama runner process has terminated"));
    assert_false(f.res.approved);
    has(&f, "=== stopped in round 1: ");
    done(&f);
}

static void test_stop(void **state)
{
    (void)state;
    volatile sig_atomic_t stop = 1;
    char path[512];
    int port = 0;
    pid_t pid = 0;
    struct fm_err err = {0};
    struct llm_agent_result res;
    struct fm_buf t;
    data_path(path, sizeof(path), "happy.json");
    assert_int_equal(stub_llm_start(path, NULL, &port, &pid), 0);
    struct llm_config cfg;
    llm_config_init(&cfg);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    assert_int_equal(llm_config_set_server(&cfg, url, &err), FM_OK);
    struct llm_client *c = llm_client_new(&cfg, &err);
    assert_non_null(c);
    struct llm_agent_opts o;
    llm_agent_opts_init(&o);
    o.stop = &stop;
    fm_buf_init(&t);
    assert_int_equal(llm_agent_run(&model, &o, c, c, NULL, &t, &res, &err), FM_EINTR);
    assert_int_equal(res.st.rounds, 0);
    assert_non_null(strstr(t.s, "=== stopped in round 1: interrupted ==="));
    fm_buf_fini(&t);
    llm_client_free(c);
    stub_llm_stop(pid);
}

int main(void)
{
    char path[512];
    struct fm_err err = {0};
    data_path(path, sizeof(path), "video-model.json");
    if (mdl_json_load(path, &model, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_happy),        cmocka_unit_test(test_prose_python_fence),
        cmocka_unit_test(test_never),        cmocka_unit_test(test_approve_word),
        cmocka_unit_test(test_checks_first), cmocka_unit_test(test_client_error),
        cmocka_unit_test(test_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
