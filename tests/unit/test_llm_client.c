/* tests/unit/test_llm_client.c - the LLM HTTP client against the stub server (stub_llm.py on
 * 127.0.0.1): server checks, streaming, retries, timeouts, broken replies, size limits, the
 * stop flag, the OpenAI protocol and its API key, and server URL parsing (no server). */
#include "llm/client.h"
#include "tests/support/stub_llm.h"
#include "tests/support/test_util.h"

#include <cjson/cJSON.h>
#include <string.h>
#include <sys/time.h>

#include "common/time.h"

#define TEST_KEY_ENV "FM_TEST_LLM_KEY"
#define TEST_KEY     "sk-flowmimic-test-7f3a9c"

/* One stub per test, with its request log. */
struct fix {
    pid_t pid;
    int port;
    char log[64];
    struct llm_config cfg;
    struct llm_client *c;
};

static struct fix fx;

static void data_path(char *buf, size_t size, const char *name)
{
    const char *root = getenv("FM_TEST_DATA");
    snprintf(buf, size, "%s/llm/%s", root ? root : "tests/data", name);
}

/* Start the stub on a script from tests/data/llm and point a default configuration at it,
 * with short backoffs so that retry tests stay quick. */
static void start(const char *script)
{
    char path[512];
    data_path(path, sizeof(path), script);
    snprintf(fx.log, sizeof(fx.log), "/tmp/fm_llm_log_XXXXXX");
    int fd = mkstemp(fx.log);
    assert_true(fd >= 0);
    close(fd);
    if (stub_llm_start(path, fx.log, &fx.port, &fx.pid) != 0)
        fail_msg("cannot start the stub with %s", path);
    llm_config_init(&fx.cfg);
    snprintf(fx.cfg.server, sizeof(fx.cfg.server), "http://127.0.0.1:%d", fx.port);
    fx.cfg.timeout_s = 10;
    fx.cfg.connect_timeout_s = 5;
    fx.cfg.backoff_s = 0.05;
}

static struct llm_client *client(void)
{
    struct fm_err err = {0};
    fx.c = llm_client_new(&fx.cfg, &err);
    if (!fx.c)
        fail_msg("llm_client_new: %s", err.msg);
    return fx.c;
}

static int teardown(void **state)
{
    (void)state;
    llm_client_free(fx.c);
    stub_llm_stop(fx.pid);
    if (fx.log[0])
        unlink(fx.log);
    memset(&fx, 0, sizeof(fx));
    return 0;
}

/* The n-th logged request whose path is path (0-based), parsed; NULL when absent. */
static cJSON *logged(const char *path, int nth)
{
    FILE *f = fopen(fx.log, "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0;
    cJSON *found = NULL;
    while (!found && getline(&line, &cap, f) > 0) {
        cJSON *j = cJSON_Parse(line);
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "path");
        if (cJSON_IsString(p) && strcmp(p->valuestring, path) == 0 && nth-- == 0)
            found = j;
        else
            cJSON_Delete(j);
    }
    free(line);
    fclose(f);
    return found;
}

static int count_logged(const char *path)
{
    int n = 0;
    for (;;) {
        cJSON *j = logged(path, n);
        if (!j)
            return n;
        cJSON_Delete(j);
        n++;
    }
}

static const struct llm_message msgs[] = {
    {"system", "You are the generator. Reply with JSON only."},
    {"user", "Propose one variant of the flow."},
};

static const char schema[] = "{\"type\":\"object\",\"properties\":{\"variants\":{\"type\":"
                             "\"array\"}},\"required\":[\"variants\"]}";

static double since(int64_t t0)
{
    return (double)(fm_time_mono_ns() - t0) / 1e9;
}

/* A reply that a failing call must leave alone. */
static char sentinel[] = "untouched";

static void poison(struct llm_reply *r)
{
    memset(r, 0, sizeof(*r));
    r->content = sentinel;
    r->attempts = -7;
}

static void assert_untouched(const struct llm_reply *r)
{
    assert_true(r->content == sentinel);
    assert_int_equal(r->attempts, -7);
}

/* A chat that must fail: its status, once the reply was seen left alone. */
static int chat_fails(const struct llm_stream_cb *cb, struct fm_err *err)
{
    struct llm_reply r;
    poison(&r);
    int rc = llm_client_chat(fx.c, msgs, 2, schema, cb, &r, err);
    assert_untouched(&r);
    assert_true(rc < 0);
    return rc;
}

/* ---------------------------------------------------------------- checks */

static void test_check_ok(void **state)
{
    (void)state;
    start("ollama_basic.json");
    struct fm_err err = {0};
    int rc = llm_client_check(client(), &err);
    if (rc != FM_OK)
        fail_msg("check: %s", err.msg);
    assert_int_equal(count_logged("/api/version"), 1);
    cJSON *show = logged("/api/show", 0);
    assert_non_null(show);
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(show, "body");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(body, "model")->valuestring,
                        "llama3.2:3b");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(show, "method")->valuestring, "POST");
    cJSON_Delete(show);
}

static void test_check_model_missing(void **state)
{
    (void)state;
    start("ollama_basic.json");
    snprintf(fx.cfg.model, sizeof(fx.cfg.model), "qwen2.5:7b");
    struct fm_err err = {0};
    int rc = llm_client_check(client(), &err);
    assert_int_equal(rc, FM_ENOTFOUND);
    assert_non_null(strstr(err.msg, "`ollama pull qwen2.5:7b`"));
    assert_non_null(strstr(err.msg, "model qwen2.5:7b is not available"));

    /* The same model in a chat: 404 from /api/chat, same advice, no retry. */
    rc = chat_fails(NULL, &err);
    assert_int_equal(rc, FM_ENOTFOUND);
    assert_non_null(strstr(err.msg, "ollama pull qwen2.5:7b"));
    assert_int_equal(count_logged("/api/chat"), 1);
}

static void test_refused(void **state)
{
    (void)state;
    int port = stub_llm_dead_port();
    assert_true(port > 0);
    llm_config_init(&fx.cfg);
    snprintf(fx.cfg.server, sizeof(fx.cfg.server), "http://127.0.0.1:%d", port);
    fx.cfg.retries = 2;
    fx.cfg.backoff_s = 0.05;
    struct fm_err err = {0};
    int64_t t0 = fm_time_mono_ns();
    int rc = llm_client_check(client(), &err);
    assert_int_equal(rc, FM_ENET);
    char want[128];
    snprintf(want, sizeof(want),
             "no Ollama server at http://127.0.0.1:%d: start it with `ollama "
             "serve`",
             port);
    assert_string_equal(err.msg, want);

    rc = chat_fails(NULL, &err);
    assert_int_equal(rc, FM_ENET);
    assert_string_equal(err.msg, want);
    /* Two calls, each 3 attempts with 0.05 + 0.1 s of backoff: far below a second. */
    assert_true(since(t0) < 2.0);
}

/* ---------------------------------------------------------------- failures of a chat */

static void test_timeout(void **state)
{
    (void)state;
    start("ollama_slow.json");
    fx.cfg.timeout_s = 1;
    struct fm_err err = {0};
    client();
    int64_t t0 = fm_time_mono_ns();
    int rc = chat_fails(NULL, &err);
    double took = since(t0);
    assert_int_equal(rc, FM_ETIMEDOUT);
    assert_true(took >= 0.9 && took < 2.0);
    char want[160];
    snprintf(want, sizeof(want),
             "llm server http://127.0.0.1:%d (model llama3.2:3b): no reply "
             "within 1 s (raise --timeout)",
             fx.port);
    assert_string_equal(err.msg, want);
    /* A timed-out generation is not sent again. */
    assert_int_equal(count_logged("/api/chat"), 1);
}

static void test_error_after_start(void **state)
{
    (void)state;
    start("ollama_error_after.json");
    struct fm_err err = {0};
    client();
    int rc = chat_fails(NULL, &err);
    assert_int_equal(rc, FM_EHTTP);
    assert_non_null(strstr(err.msg, "error after the reply started: llama runner process has "
                                    "terminated"));
    assert_non_null(strstr(err.msg, "(model llama3.2:3b)"));
}

static int text_calls;
static char text_seen[4096];

static void on_text(void *arg, const char *text, size_t len)
{
    (void)arg;
    size_t used = strlen(text_seen);
    assert_true(used + len < sizeof(text_seen));
    memcpy(text_seen + used, text, len);
    text_seen[used + len] = '\0';
    text_calls++;
}

static void test_cut_mid_stream(void **state)
{
    (void)state;
    start("ollama_cut.json");
    struct fm_err err = {0};
    text_calls = 0;
    text_seen[0] = '\0';
    struct llm_stream_cb cb = {on_text, NULL};
    client();
    int rc = chat_fails(&cb, &err);
    assert_int_equal(rc, FM_ENET);
    assert_non_null(strstr(err.msg, "connection closed before the reply was complete"));
    /* Half the reply was shown live, and it is not valid JSON: it must not pass as a reply. */
    assert_true(text_calls >= 1);
    assert_null(cJSON_Parse(text_seen));
}

static void test_retry_busy(void **state)
{
    (void)state;
    start("ollama_busy.json");
    struct fm_err err = {0};
    struct llm_reply r;
    int rc = llm_client_chat(client(), msgs, 2, NULL, NULL, &r, &err);
    if (rc != FM_OK)
        fail_msg("chat: %s", err.msg);
    assert_int_equal(r.attempts, 3);
    assert_string_equal(r.content, "{\"ok\": true}");
    assert_int_equal(r.http_status, 200);
    assert_int_equal(count_logged("/api/chat"), 3);
    /* Backoff 0.05 s then 0.1 s: the wall time includes both. */
    assert_true(r.wall_s >= 0.14);
    llm_reply_fini(&r);

    /* With fewer retries than failures the 503 comes back, with the server's text. */
    teardown(NULL);
    start("ollama_busy.json");
    fx.cfg.retries = 1;
    rc = llm_client_chat(client(), msgs, 2, NULL, NULL, &r, &err);
    assert_int_equal(rc, FM_EHTTP);
    assert_non_null(strstr(err.msg, "HTTP 503 after retries: stub: overloaded"));
    assert_int_equal(count_logged("/api/chat"), 2);
}

static void test_http_status(void **state)
{
    (void)state;
    start("ollama_status.json");
    struct fm_err err = {0};
    client();
    int rc = chat_fails(NULL, &err);
    assert_int_equal(rc, FM_EHTTP);
    char want[200];
    snprintf(want, sizeof(want),
             "llm server http://127.0.0.1:%d (model llama3.2:3b): HTTP 500: unexpected server "
             "status: llm server loading model",
             fx.port);
    assert_string_equal(err.msg, want);
    /* A 400 is the request's fault: no retry. */
    rc = chat_fails(NULL, &err);
    assert_int_equal(rc, FM_EHTTP);
    assert_non_null(strstr(err.msg, "HTTP 400: invalid format"));
    assert_int_equal(count_logged("/api/chat"), 2);
    /* Nothing left in the script: the stub answers 500 and says so. */
    rc = chat_fails(NULL, &err);
    assert_int_equal(rc, FM_EHTTP);
    assert_non_null(strstr(err.msg, "stub: no scripted reply"));
}

static void test_huge_reply(void **state)
{
    (void)state;
    start("ollama_huge.json");
    fx.cfg.max_reply_bytes = 1 << 20;
    struct fm_err err = {0};
    client();
    int rc = chat_fails(NULL, &err);
    assert_int_equal(rc, FM_EFORMAT);
    char want[80];
    snprintf(want, sizeof(want), "reply from http://127.0.0.1:%d is larger than 1048576 bytes",
             fx.port);
    assert_non_null(strstr(err.msg, want));

    /* The same limit holds for a reply sent in one piece. */
    llm_client_free(fx.c);
    fx.cfg.stream = 0;
    client();
    rc = chat_fails(NULL, &err);
    assert_int_equal(rc, FM_EFORMAT);
    assert_non_null(strstr(err.msg, want));

    /* With room for it, the whole 2 MiB arrives intact. */
    llm_client_free(fx.c);
    fx.cfg.stream = 1;
    fx.cfg.max_reply_bytes = 8u << 20;
    struct llm_reply r;
    rc = llm_client_chat(client(), msgs, 2, NULL, NULL, &r, &err);
    if (rc != FM_OK)
        fail_msg("chat: %s", err.msg);
    assert_int_equal(r.content_len, 16 * 131072);
    assert_int_equal(strlen(r.content), r.content_len);
    assert_memory_equal(r.content + r.content_len - 16, "0123456789abcdef", 16);
    llm_reply_fini(&r);
}

/* ---------------------------------------------------------------- successful chats */

static void test_stream_pieces(void **state)
{
    (void)state;
    start("ollama_basic.json");
    struct fm_err err = {0};
    struct llm_reply r;
    text_calls = 0;
    text_seen[0] = '\0';
    struct llm_stream_cb cb = {on_text, NULL};
    int rc = llm_client_chat(client(), msgs, 2, schema, &cb, &r, &err);
    if (rc != FM_OK)
        fail_msg("chat: %s", err.msg);
    const char *want = "{\"variants\": [{\"name\": \"ef\", \"dscp\": 46}], \"note\": \"five "
                       "pieces\"}";
    assert_string_equal(r.content, want);
    assert_int_equal(r.content_len, strlen(want));
    assert_int_equal(text_calls, 5);
    assert_string_equal(text_seen, want);
    assert_int_equal(r.truncated, 0);
    assert_string_equal(r.done_reason, "stop");
    assert_int_equal(r.attempts, 1);
    /* The stub reports words of the content as tokens and 1 ms per piece. */
    assert_int_equal(r.reply_tokens, 8);
    assert_true(r.prompt_tokens > 10);
    assert_double_near(r.gen_s, 0.005, 1e-9);
    assert_true(r.wall_s > 0 && r.wall_s < 5);
    llm_reply_fini(&r);
    assert_null(r.content);

    /* "match" picks the reviewer's reply whatever its place in the script. */
    const struct llm_message rev[] = {{"system", "You are the reviewer."}, {"user", "{}"}};
    rc = llm_client_chat(fx.c, rev, 2, NULL, NULL, &r, &err);
    assert_int_equal(rc, FM_OK);
    assert_string_equal(r.content, "{\"verdict\": \"APPROVE\", \"problems\": []}");
    llm_reply_fini(&r);

    /* A match with quotes and a newline is found in the decoded message text. */
    const struct llm_message q[] = {{"user", "Please quote \"this\"\nplease."}};
    rc = llm_client_chat(fx.c, q, 1, NULL, NULL, &r, &err);
    assert_int_equal(rc, FM_OK);
    assert_string_equal(r.content, "{\"quoted\": true}");
    llm_reply_fini(&r);
}

static void test_non_stream(void **state)
{
    (void)state;
    start("ollama_basic.json");
    fx.cfg.stream = 0;
    struct fm_err err = {0};
    struct llm_reply r;
    text_calls = 0;
    text_seen[0] = '\0';
    struct llm_stream_cb cb = {on_text, NULL};
    int rc = llm_client_chat(client(), msgs, 2, NULL, &cb, &r, &err);
    if (rc != FM_OK)
        fail_msg("chat: %s", err.msg);
    assert_string_equal(r.content, "{\"variants\": [{\"name\": \"ef\", \"dscp\": 46}], \"note\": "
                                   "\"five pieces\"}");
    assert_int_equal(text_calls, 1);
    assert_string_equal(text_seen, r.content);
    assert_int_equal(r.reply_tokens, 8);
    llm_reply_fini(&r);
    cJSON *req = logged("/api/chat", 0);
    assert_true(cJSON_IsFalse(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(req, "body"), "stream")));
    cJSON_Delete(req);
}

static void test_length(void **state)
{
    (void)state;
    start("ollama_length.json");
    struct fm_err err = {0};
    struct llm_reply r;
    int rc = llm_client_chat(client(), msgs, 2, schema, NULL, &r, &err);
    if (rc != FM_OK)
        fail_msg("chat: %s", err.msg);
    assert_int_equal(r.truncated, 1);
    assert_string_equal(r.done_reason, "length");
    assert_string_equal(r.content, "{\"variants\": [{\"name\": \"a\"");
    llm_reply_fini(&r);
}

static void test_request_body(void **state)
{
    (void)state;
    start("ollama_basic.json");
    fx.cfg.temperature = 0.25;
    fx.cfg.seed = 42;
    fx.cfg.num_ctx = 8192;
    fx.cfg.num_predict = 700;
    snprintf(fx.cfg.keep_alive, sizeof(fx.cfg.keep_alive), "10m");
    struct fm_err err = {0};
    struct llm_reply r;
    int rc = llm_client_chat(client(), msgs, 2, schema, NULL, &r, &err);
    if (rc != FM_OK)
        fail_msg("chat: %s", err.msg);
    llm_reply_fini(&r);

    cJSON *req = logged("/api/chat", 0);
    assert_non_null(req);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(req, "body");
    const cJSON *opt = cJSON_GetObjectItemCaseSensitive(b, "options");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(b, "model")->valuestring, "llama3.2:3b");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "stream")));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(b, "keep_alive")->valuestring, "10m");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(opt, "num_predict")->valueint, 700);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(opt, "seed")->valueint, 42);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(opt, "num_ctx")->valueint, 8192);
    assert_double_near(cJSON_GetObjectItemCaseSensitive(opt, "temperature")->valuedouble, 0.25,
                       1e-12);
    cJSON *want = cJSON_Parse(schema);
    assert_true(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(b, "format"), want, 1));
    cJSON_Delete(want);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(b, "messages");
    assert_int_equal(cJSON_GetArraySize(m), 2);
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(m, 1), "content")->valuestring,
        "Propose one variant of the flow.");
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(m, 0), "role")->valuestring, "system");
    cJSON_Delete(req);

    /* Server defaults: no temperature, seed, num_ctx or keep_alive, but num_predict always. */
    llm_client_free(fx.c);
    llm_config_init(&fx.cfg);
    snprintf(fx.cfg.server, sizeof(fx.cfg.server), "http://127.0.0.1:%d", fx.port);
    rc = llm_client_chat(client(), msgs, 1, NULL, NULL, &r, &err);
    assert_int_equal(rc, FM_OK);
    llm_reply_fini(&r);
    req = logged("/api/chat", 1);
    b = cJSON_GetObjectItemCaseSensitive(req, "body");
    opt = cJSON_GetObjectItemCaseSensitive(b, "options");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(opt, "num_predict")->valueint, 2048);
    assert_null(cJSON_GetObjectItemCaseSensitive(opt, "seed"));
    assert_null(cJSON_GetObjectItemCaseSensitive(opt, "temperature"));
    assert_null(cJSON_GetObjectItemCaseSensitive(b, "format"));
    assert_null(cJSON_GetObjectItemCaseSensitive(b, "keep_alive"));
    cJSON_Delete(req);

    /* A schema that is not JSON is refused before anything is sent. */
    rc = llm_client_chat(fx.c, msgs, 1, "{\"type\": ", NULL, &r, &err);
    assert_int_equal(rc, FM_EINVAL);
    assert_int_equal(count_logged("/api/chat"), 2);
}

/* ---------------------------------------------------------------- OpenAI */

/* The OpenAI stub with key as the value of TEST_KEY_ENV, and a client configuration for it. */
static void start_openai(const char *script, const char *key)
{
    setenv(TEST_KEY_ENV, key, 1);
    start(script);
    fx.cfg.api = LLM_API_OPENAI;
    snprintf(fx.cfg.model, sizeof(fx.cfg.model), "gpt-test");
    snprintf(fx.cfg.api_key_env, sizeof(fx.cfg.api_key_env), TEST_KEY_ENV);
}

static void assert_no_key(const char *msg)
{
    if (strstr(msg, TEST_KEY) || strstr(msg, "7f3a9c"))
        fail_msg("the API key leaked into: %s", msg);
}

static void test_openai(void **state)
{
    (void)state;
    start_openai("openai_basic.json", TEST_KEY);
    fx.cfg.seed = 7;
    fx.cfg.temperature = 0.5;
    fx.cfg.num_predict = 300;
    struct fm_err err = {0};
    int rc = llm_client_check(client(), &err);
    if (rc != FM_OK)
        fail_msg("check: %s", err.msg);

    struct llm_reply r;
    text_calls = 0;
    text_seen[0] = '\0';
    struct llm_stream_cb cb = {on_text, NULL};
    rc = llm_client_chat(fx.c, msgs, 2, schema, &cb, &r, &err);
    if (rc != FM_OK)
        fail_msg("chat: %s", err.msg);
    const char *want = "{\"verdict\": \"REVISE\", \"problems\": [\"dscp\"]}";
    assert_string_equal(r.content, want);
    assert_string_equal(text_seen, want);
    assert_int_equal(text_calls, 4);
    assert_string_equal(r.done_reason, "stop");
    assert_int_equal(r.reply_tokens, 4);
    assert_true(r.prompt_tokens > 10);
    llm_reply_fini(&r);

    cJSON *req = logged("/v1/chat/completions", 0);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(req, "body");
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(req, "headers");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(h, "Authorization")->valuestring,
                        "Bearer <24 chars>");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(b, "max_tokens")->valueint, 300);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(b, "seed")->valueint, 7);
    assert_double_near(cJSON_GetObjectItemCaseSensitive(b, "temperature")->valuedouble, 0.5, 1e-12);
    const cJSON *rf = cJSON_GetObjectItemCaseSensitive(b, "response_format");
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(rf, "json_schema");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(rf, "type")->valuestring, "json_schema");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(js, "name")->valuestring, "reply");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(js, "strict")));
    cJSON *ws = cJSON_Parse(schema);
    assert_true(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(js, "schema"), ws, 1));
    cJSON_Delete(ws);
    cJSON_Delete(req);

    /* One JSON reply instead of events, from a base URL given with /v1. */
    llm_client_free(fx.c);
    fx.cfg.stream = 0;
    snprintf(fx.cfg.server, sizeof(fx.cfg.server), "http://127.0.0.1:%d/v1", fx.port);
    rc = llm_client_chat(client(), msgs, 2, NULL, NULL, &r, &err);
    if (rc != FM_OK)
        fail_msg("chat: %s", err.msg);
    assert_string_equal(r.content, want);
    assert_int_equal(r.reply_tokens, 4);
    llm_reply_fini(&r);

    /* A model the server does not list. */
    llm_client_free(fx.c);
    snprintf(fx.cfg.model, sizeof(fx.cfg.model), "gpt-none");
    rc = llm_client_check(client(), &err);
    assert_int_equal(rc, FM_ENOTFOUND);
    assert_non_null(strstr(err.msg, "model gpt-none is not served by"));
    assert_non_null(strstr(err.msg, "gpt-test, other-model"));
}

static void test_openai_bad_key(void **state)
{
    (void)state;
    /* The stub quotes the rejected key in its 401 text, as OpenAI does. */
    start_openai("openai_basic.json", "sk-wrong-key-7f3a9c-0000");
    struct fm_err err = {0};
    int rc = llm_client_check(client(), &err);
    assert_int_equal(rc, FM_EPERM);
    assert_non_null(strstr(err.msg, "refused the API key in " TEST_KEY_ENV " (HTTP 401)"));
    assert_no_key(err.msg);
    rc = chat_fails(NULL, &err);
    assert_int_equal(rc, FM_EPERM);
    assert_no_key(err.msg);
    /* 401 is not transient: one request each. */
    assert_int_equal(count_logged("/v1/chat/completions"), 1);

    /* No key at all. */
    llm_client_free(fx.c);
    fx.cfg.api_key_env[0] = '\0';
    client();
    rc = chat_fails(NULL, &err);
    assert_int_equal(rc, FM_EPERM);
    assert_non_null(strstr(err.msg, "wants an API key (HTTP 401)"));

    /* The variable is named but not set: said before anything is sent. */
    llm_client_free(fx.c);
    snprintf(fx.cfg.api_key_env, sizeof(fx.cfg.api_key_env), TEST_KEY_ENV);
    unsetenv(TEST_KEY_ENV);
    rc = llm_client_check(client(), &err);
    assert_int_equal(rc, FM_EPERM);
    assert_non_null(strstr(err.msg, "API key variable " TEST_KEY_ENV " is empty or not set"));
    assert_int_equal(count_logged("/v1/models"), 1);

    /* The key itself never reaches the log: only its length. */
    setenv(TEST_KEY_ENV, TEST_KEY, 1);
    cJSON *req = logged("/v1/models", 0);
    char *text = cJSON_PrintUnformatted(req);
    assert_no_key(text);
    assert_non_null(strstr(text, "Bearer <24 chars>"));
    cJSON_free(text);
    cJSON_Delete(req);
}

static void test_openai_key_quoted(void **state)
{
    (void)state;
    /* A server error that quotes the key back: the message keeps the text, not the key. */
    start_openai("openai_echo.json", TEST_KEY);
    struct fm_err err = {0};
    struct llm_reply r;
    int rc = llm_client_chat(client(), msgs, 2, NULL, NULL, &r, &err);
    assert_int_equal(rc, FM_EHTTP);
    assert_no_key(err.msg);
    assert_non_null(strstr(err.msg, "HTTP 500: upstream refused token <api key> for this route"));
}

/* ---------------------------------------------------------------- stop flag */

static volatile sig_atomic_t stop_flag;

static void stop_on_text(void *arg, const char *text, size_t len)
{
    (void)arg;
    (void)text;
    (void)len;
    stop_flag = 1;
}

static void on_alarm(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void test_stop(void **state)
{
    (void)state;
    start("ollama_stop.json");
    fx.cfg.stop = &stop_flag;
    struct fm_err err = {0};

    /* Set while the stream waits 5 s for its second piece. */
    stop_flag = 0;
    struct llm_stream_cb cb = {stop_on_text, NULL};
    client();
    int64_t t0 = fm_time_mono_ns();
    int rc = chat_fails(&cb, &err);
    assert_int_equal(rc, FM_EINTR);
    assert_true(since(t0) < 1.0);

    /* Set by a signal (as Ctrl-C does) while the server has not answered at all. */
    stop_flag = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 300000}};
    setitimer(ITIMER_REAL, &it, NULL);
    t0 = fm_time_mono_ns();
    rc = chat_fails(NULL, &err);
    double took = since(t0);
    assert_int_equal(rc, FM_EINTR);
    assert_true(took >= 0.25 && took < 1.0);
    assert_non_null(strstr(err.msg, "request stopped"));

    /* Already set: nothing is sent. */
    int before = count_logged("/api/chat");
    rc = chat_fails(NULL, &err);
    assert_int_equal(rc, FM_EINTR);
    assert_int_equal(count_logged("/api/chat"), before);
    signal(SIGALRM, SIG_DFL);
}

/* ---------------------------------------------------------------- no server */

static void expect_server(const char *in, const char *want)
{
    struct llm_config cfg;
    llm_config_init(&cfg);
    struct fm_err err = {0};
    int rc = llm_config_set_server(&cfg, in, &err);
    if (rc != FM_OK)
        fail_msg("'%s': %s", in, err.msg);
    if (strcmp(cfg.server, want) != 0)
        fail_msg("'%s' gave %s, expected %s", in, cfg.server, want);
}

static void expect_bad_server(const char *in)
{
    struct llm_config cfg;
    llm_config_init(&cfg);
    struct fm_err err = {0};
    int rc = llm_config_set_server(&cfg, in, &err);
    if (rc != FM_EINVAL)
        fail_msg("'%s' was accepted as %s", in, cfg.server);
    if (!strstr(err.msg, in))
        fail_msg("'%s': message does not name it: %s", in, err.msg);
}

static void test_server_parse(void **state)
{
    (void)state;
    expect_server("127.0.0.1:11434", "http://127.0.0.1:11434");
    expect_server("0.0.0.0", "http://127.0.0.1:11434");
    expect_server("0.0.0.0:8080", "http://127.0.0.1:8080");
    expect_server("gpu-box", "http://gpu-box:11434");
    expect_server("gpu-box.lan:9000/", "http://gpu-box.lan:9000");
    expect_server("http://gpu-box", "http://gpu-box:80");
    expect_server("https://llm.example.com", "https://llm.example.com:443");
    expect_server("https://llm.example.com:8443/ollama/", "https://llm.example.com:8443/ollama");
    expect_server(":11500", "http://127.0.0.1:11500");
    expect_server("[::1]:11434", "http://[::1]:11434");
    expect_server("::1", "http://[::1]:11434");
    expect_server("[::]:5000", "http://[::1]:5000");
    expect_server(" \"localhost:1234\" ", "http://localhost:1234");
    expect_server("'localhost'", "http://localhost:11434");
    expect_bad_server("ftp://gpu-box");
    expect_bad_server("gpu-box:0");
    expect_bad_server("gpu-box:65536");
    expect_bad_server("gpu-box:11434x");
    expect_bad_server("gpu box");
    expect_bad_server("user@gpu-box");
    expect_bad_server("[::1:11434");
    expect_bad_server("[::1]x");
    expect_bad_server("http://gpu-box:8080/?token=1");
    expect_bad_server("http://user:secret@gpu-box");
    expect_bad_server("http://gpu-box/#frag");

    /* NULL reads OLLAMA_HOST the same way, and says where a bad value came from. */
    struct llm_config cfg;
    struct fm_err err = {0};
    setenv("OLLAMA_HOST", "0.0.0.0:7777", 1);
    llm_config_init(&cfg);
    assert_string_equal(cfg.server, "http://127.0.0.1:7777");
    assert_int_equal(llm_config_set_server(&cfg, "gpu:1", &err), FM_OK);
    assert_int_equal(llm_config_set_server(&cfg, NULL, &err), FM_OK);
    assert_string_equal(cfg.server, "http://127.0.0.1:7777");
    setenv("OLLAMA_HOST", "gpu:99999", 1);
    assert_int_equal(llm_config_set_server(&cfg, NULL, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "OLLAMA_HOST: server URL 'gpu:99999' has a bad port"));
    llm_config_init(&cfg);
    assert_string_equal(cfg.server, LLM_DEFAULT_SERVER);
    unsetenv("OLLAMA_HOST");
    llm_config_init(&cfg);
    assert_string_equal(cfg.server, LLM_DEFAULT_SERVER);
    assert_string_equal(cfg.model, LLM_DEFAULT_MODEL);
    assert_int_equal(cfg.num_predict, 2048);
    assert_int_equal(cfg.stream, 1);

    /* Configurations that cannot work are refused when the client is made. */
    cfg.timeout_s = 0;
    assert_null(llm_client_new(&cfg, &err));
    assert_int_equal(err.code, FM_EINVAL);
    llm_config_init(&cfg);
    cfg.num_predict = 0;
    assert_null(llm_client_new(&cfg, &err));
    assert_int_equal(err.code, FM_EINVAL);
}

/* keep_alive durations as Ollama reads them; the message names the option. */
static void test_keep_alive(void **state)
{
    (void)state;
    static const char *const good[] = {"0", "30", "30s", "10m", "1h", "-1", "1.5h", "250ms"};
    static const char *const bad[] = {"",  "-",    "10min", "5x",
                                      "m", "1.h5", "1e3",   "123456789012345678901234567890123s"};
    struct fm_err err = {0};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (llm_keep_alive_check(good[i], "--keep-alive", &err) != FM_OK)
            fail_msg("'%s' refused: %s", good[i], err.msg);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (llm_keep_alive_check(bad[i], "--keep-alive", &err) != FM_EINVAL)
            fail_msg("'%s' accepted", bad[i]);
        assert_non_null(strstr(err.msg, "--keep-alive: expected a duration"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_parse),
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test_teardown(test_check_ok, teardown),
        cmocka_unit_test_teardown(test_check_model_missing, teardown),
        cmocka_unit_test_teardown(test_refused, teardown),
        cmocka_unit_test_teardown(test_timeout, teardown),
        cmocka_unit_test_teardown(test_error_after_start, teardown),
        cmocka_unit_test_teardown(test_cut_mid_stream, teardown),
        cmocka_unit_test_teardown(test_retry_busy, teardown),
        cmocka_unit_test_teardown(test_http_status, teardown),
        cmocka_unit_test_teardown(test_huge_reply, teardown),
        cmocka_unit_test_teardown(test_stream_pieces, teardown),
        cmocka_unit_test_teardown(test_non_stream, teardown),
        cmocka_unit_test_teardown(test_length, teardown),
        cmocka_unit_test_teardown(test_request_body, teardown),
        cmocka_unit_test_teardown(test_openai, teardown),
        cmocka_unit_test_teardown(test_openai_bad_key, teardown),
        cmocka_unit_test_teardown(test_openai_key_quoted, teardown),
        cmocka_unit_test_teardown(test_stop, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
