/* tests/unit/test_llm_study.c - one run of `agents` with its files (llm/session.h) and the
 * batch study (llm/study.h) against the stub LLM server: what is written in each case, the
 * outcome, the lines and tallies of a study, a model that is missing, a prompt set that is. */
#include "llm/session.h"
#include "llm/study.h"
#include "models/json.h"
#include "tests/support/stub_llm.h"
#include "tests/support/test_util.h"

#include <string.h>
#include <sys/stat.h>

static struct mdl_model model;
static char model_path[512];

static void data_path(char *buf, size_t size, const char *name)
{
    const char *root = getenv("FM_TEST_DATA");
    snprintf(buf, size, "%s/agents/%s", root ? root : "tests/data", name);
}

/* A stub on a script, a temporary directory and a session whose files are in it. */
struct fixture {
    pid_t pid;
    char dir[64];
    char transcript[128];
    char output[128];
    char trace[128];
    struct llm_session s;
};

static void setup(struct fixture *f, const char *script)
{
    int port = 9; /* discard: nothing listens, when no script */
    struct fm_err err = {0};
    memset(f, 0, sizeof(*f));
    if (script) {
        char path[512];
        data_path(path, sizeof(path), script);
        assert_int_equal(stub_llm_start(path, NULL, &port, &f->pid), 0);
    }
    snprintf(f->dir, sizeof(f->dir), "/tmp/fm_llm_study_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->transcript, sizeof(f->transcript), "%s/output.txt", f->dir);
    snprintf(f->output, sizeof(f->output), "%s/variants.json", f->dir);
    snprintf(f->trace, sizeof(f->trace), "%s/trace.json", f->dir);
    llm_config_init(&f->s.cfg);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    assert_int_equal(llm_config_set_server(&f->s.cfg, url, &err), FM_OK);
    f->s.cfg.timeout_s = 10;
    f->s.cfg.retries = 0;
    llm_agent_opts_init(&f->s.agent);
    f->s.model_path = model_path;
    f->s.transcript = f->transcript;
    f->s.output = f->output;
    f->s.trace = f->trace;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* The whole file, or fail. */
static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_msg("cannot open %s", path);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

static void teardown(struct fixture *f)
{
    if (f->pid)
        stub_llm_stop(f->pid);
    remove(f->transcript);
    remove(f->output);
    remove(f->trace);
    rmdir(f->dir);
}

static void test_session_approved(void **state)
{
    (void)state;
    struct fixture f;
    struct llm_session_result res;
    setup(&f, "happy.json");
    assert_int_equal(llm_session_run(&model, &f.s, NULL, &res), FM_OK);
    assert_true(res.opened);
    assert_int_equal(res.outcome, LLM_OUTCOME_APPROVED);
    assert_string_equal(llm_outcome_name(res.outcome), "approved");
    assert_int_equal(res.run.proposal.n, 3);
    assert_int_equal(res.transcript.code, 0);
    assert_int_equal(res.save.code, 0);
    const char *t = slurp(f.transcript);
    assert_non_null(strstr(t, "flowmimic agents transcript, "));
    assert_non_null(strstr(t, "generator: llama3.2:3b at http://127.0.0.1:"));
    assert_non_null(strstr(t, "asked for: 3 variants of 5 example packets, at most 5 rounds"));
    assert_non_null(strstr(t, "=== approved in round 1 of 5 ==="));
    assert_non_null(strstr(slurp(f.output), "\"ef-marked\""));
    /* Three variants of five packets; the short-path variant's TTL. */
    const char *tr = slurp(f.trace);
    assert_non_null(strstr(tr, "\"ttl\":8"));
    teardown(&f);
}

/* Clients that cannot open: nothing is written, not even the transcript. */
static void test_session_refused(void **state)
{
    (void)state;
    struct fixture f;
    struct llm_session_result res;
    setup(&f, NULL);
    assert_int_equal(llm_session_run(&model, &f.s, NULL, &res), FM_ENET);
    assert_false(res.opened);
    assert_int_equal(res.outcome, LLM_OUTCOME_ERROR);
    assert_non_null(strstr(res.err.msg, "no Ollama server at"));
    /* The transcript is written in every case (issue 11): here it says why. */
    assert_non_null(strstr(slurp(f.transcript), "\nerror: no Ollama server at"));
    assert_false(exists(f.output));
    teardown(&f);
}

/* Not approved: the transcript only. */
static void test_session_not_approved(void **state)
{
    (void)state;
    struct fixture f;
    struct llm_session_result res;
    setup(&f, "never.json");
    f.s.agent.rounds = 2;
    assert_int_equal(llm_session_run(&model, &f.s, NULL, &res), FM_OK);
    assert_int_equal(res.outcome, LLM_OUTCOME_NOT_APPROVED);
    assert_non_null(strstr(slurp(f.transcript), "=== no variant approved after 2 rounds ==="));
    assert_false(exists(f.output));
    assert_false(exists(f.trace));
    teardown(&f);
}

/* A transcript that cannot be written keeps the variants from being written. */
static void test_session_transcript_fails(void **state)
{
    (void)state;
    struct fixture f;
    struct llm_session_result res;
    setup(&f, "happy.json");
    snprintf(f.transcript, sizeof(f.transcript), "%s/no/output.txt", f.dir);
    assert_true(llm_session_run(&model, &f.s, NULL, &res) < 0);
    assert_int_equal(res.outcome, LLM_OUTCOME_APPROVED);
    assert_int_not_equal(res.transcript.code, 0);
    assert_false(exists(f.output));
    teardown(&f);
}

struct seen {
    unsigned lines;
    unsigned failed;
    size_t failed_model;
    char last[4096];
};

static void on_run(void *arg, const struct llm_study_step *step)
{
    struct seen *s = arg;
    s->lines++;
    assert_int_equal(step->done, s->lines);
    assert_null(strchr(step->record, '\n'));
    snprintf(s->last, sizeof(s->last), "%s", step->record);
}

static void on_model_failed(void *arg, size_t index, const struct fm_err *why)
{
    struct seen *s = arg;
    s->failed++;
    s->failed_model = index;
    assert_non_null(strstr(why->msg, "is not available"));
}

static int study(struct fixture *f,
                 const char *const *models,
                 size_t n,
                 unsigned repeat,
                 struct seen *seen,
                 struct llm_study_result *res,
                 struct fm_err *err)
{
    char prompts[512];
    data_path(prompts, sizeof(prompts), "prompts.json");
    struct llm_study st = {&f->s, models, n, prompts, repeat};
    struct llm_study_cb cb = {on_run, on_model_failed, seen};
    memset(seen, 0, sizeof(*seen));
    return llm_study_run(&model, &st, &cb, res, err);
}

static void test_study(void **state)
{
    (void)state;
    struct fixture f;
    struct seen seen;
    struct llm_study_result res;
    struct fm_err err = {0};
    static const char *const models[] = {"llama3.2:3b", "qwen2.5:3b"};
    setup(&f, "batch.json");
    assert_int_equal(study(&f, models, 2, 2, &seen, &res, &err), FM_OK);
    assert_int_equal(res.total, 8);
    assert_int_equal(res.done, 8);
    assert_int_equal(seen.lines, 8);
    assert_int_equal(seen.failed, 0);
    assert_false(res.any_error);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(res.tally[i].runs, 4);
        assert_int_equal(res.tally[i].approved_runs, 4);
        assert_int_equal(res.tally[i].approved_variants, 12);
    }
    /* The last run: the second model, the second prompt, its second repeat and seed. */
    assert_non_null(strstr(seen.last, "\"model\":\"qwen2.5:3b\""));
    assert_non_null(strstr(seen.last, "\"prompt\":\"load\",\"repeat\":2,\"seed\":2"));
    const char *t = slurp(f.transcript);
    assert_non_null(strstr(t, "##### run 8 of 8: model qwen2.5:3b, prompt load, repeat 2"));
    assert_false(exists(f.output));
    teardown(&f);
}

/* A model the server lacks: its runs are errors, counted, and said once. */
static void test_study_missing_model(void **state)
{
    (void)state;
    struct fixture f;
    struct seen seen;
    struct llm_study_result res;
    struct fm_err err = {0};
    static const char *const models[] = {"missing:1b", "llama3.2:3b"};
    setup(&f, "batch.json");
    assert_int_equal(study(&f, models, 2, 1, &seen, &res, &err), FM_OK);
    assert_int_equal(seen.lines, 4);
    assert_int_equal(seen.failed, 1);
    assert_int_equal(seen.failed_model, 0);
    assert_true(res.any_error);
    assert_int_equal(res.tally[0].errors, 2);
    assert_int_equal(res.tally[1].errors, 0);
    assert_int_equal(res.tally[1].approved_runs, 2);
    teardown(&f);
}

/* A server that is not there ends the study at once, with its message and a transcript,
 * instead of failing every run of every model in turn (issue 11). */
static void test_study_refused(void **state)
{
    (void)state;
    struct fixture f;
    struct seen seen;
    struct llm_study_result res;
    struct fm_err err = {0};
    static const char *const models[] = {"a:1b", "b:1b", "c:1b"};
    setup(&f, NULL);
    assert_int_equal(study(&f, models, 3, 2, &seen, &res, &err), FM_ENET);
    assert_non_null(strstr(err.msg, "no Ollama server at"));
    assert_int_equal(seen.lines, 0);
    assert_int_equal(res.done, 0);
    assert_non_null(strstr(slurp(f.transcript), "\nerror: no Ollama server at"));
    teardown(&f);
}

static void test_study_no_prompts(void **state)
{
    (void)state;
    struct fixture f;
    struct seen seen;
    struct llm_study_result res;
    struct fm_err err = {0};
    static const char *const models[] = {"llama3.2:3b"};
    setup(&f, NULL);
    char prompts[256];
    snprintf(prompts, sizeof(prompts), "%s/none.json", f.dir);
    struct llm_study st = {&f.s, models, 1, prompts, 1};
    struct llm_study_cb cb = {on_run, on_model_failed, &seen};
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(llm_study_run(&model, &st, &cb, &res, &err), FM_EIO);
    assert_non_null(strstr(err.msg, "none.json"));
    assert_int_equal(seen.lines, 0);
    assert_false(exists(f.transcript));
    teardown(&f);
}

/* Tokens per second only over the runs whose servers counted tokens. */
static void test_tally(void **state)
{
    (void)state;
    struct llm_study_tally ty;
    struct llm_agent_result r;
    memset(&ty, 0, sizeof(ty));
    memset(&r, 0, sizeof(r));
    r.approved = 1;
    r.proposal.n = 3;
    r.st.rounds = 2;
    r.st.replies = 2;
    r.st.parsed = 1;
    r.st.reply_tokens = 100;
    r.st.gen_s = 2;
    llm_study_tally_add(&ty, &r, 0);
    r.approved = 0;
    r.st.reply_tokens = -1;
    r.st.gen_s = 5;
    llm_study_tally_add(&ty, &r, 1);
    assert_int_equal(ty.runs, 2);
    assert_int_equal(ty.errors, 1);
    assert_int_equal(ty.approved_runs, 1);
    assert_int_equal(ty.approved_variants, 3);
    assert_int_equal(ty.rounds, 4);
    assert_int_equal(ty.tokens, 100);
    assert_double_near(ty.gen_s, 2.0, 0);
}

static void test_model_check(void **state)
{
    (void)state;
    struct fm_err err = {0};
    struct mdl_model *m = malloc(sizeof(*m));
    assert_non_null(m);
    *m = model;
    assert_int_equal(llm_session_model_check(m, "v.json", MDL_SIDE_LOCAL, &err), FM_OK);
    assert_int_equal(llm_session_model_check(m, "v.json", MDL_SIDE_REMOTE, &err), FM_EINVAL);
    assert_string_equal(err.msg, "model 'v.json' has no packets on its remote side: use --side "
                                 "local");
    snprintf(m->proto, sizeof(m->proto), "tcp");
    assert_int_equal(llm_session_model_check(m, "v.json", MDL_SIDE_LOCAL, &err), FM_EINVAL);
    assert_string_equal(err.msg, "model 'v.json' is of a tcp flow: variants apply to UDP flows");
    free(m);
}

int main(void)
{
    struct fm_err err = {0};
    data_path(model_path, sizeof(model_path), "video-model.json");
    if (mdl_json_load(model_path, &model, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_approved),
        cmocka_unit_test(test_session_refused),
        cmocka_unit_test(test_session_not_approved),
        cmocka_unit_test(test_session_transcript_fails),
        cmocka_unit_test(test_study),
        cmocka_unit_test(test_study_missing_model),
        cmocka_unit_test(test_study_refused),
        cmocka_unit_test(test_study_no_prompts),
        cmocka_unit_test(test_tally),
        cmocka_unit_test(test_model_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
