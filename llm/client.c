/* llm/client.c - chat requests to Ollama and OpenAI-compatible servers; see llm/client.h.
 * One curl easy handle per client, driven through a private multi handle so that the stop
 * flag is looked at every POLL_MS even while the server sends nothing. Streamed replies are
 * parsed line by line inside the write callback: NDJSON for Ollama (each line one JSON
 * object), server-sent events for OpenAI ("data: {...}" lines, "data: [DONE]" at the end). */
#include "llm/client.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/time.h"
#include "llm/client_int.h"
#include "llm/curl_api.h"

#define POLL_MS      100
#define ERR_BODY_MAX ((size_t)64 * 1024) /* bytes of an error body kept to find its text */
#define MAX_RETRIES  10

/* ---------------------------------------------------------------- small helpers */

static int stop_set(const struct llm_client *c)
{
    return c->cfg.stop && *c->cfg.stop;
}

/* The API key from the configured environment variable, or NULL when none is configured. */
static const char *api_key(const struct llm_client *c)
{
    if (c->cfg.api_key_env[0] == '\0')
        return NULL;
    return getenv(c->cfg.api_key_env);
}

/* Replace every copy of the API key in err->msg: servers quote a rejected key back in their
 * error text ("Incorrect API key provided: ..."), and messages end up on terminals and in
 * transcripts. */
static int scrub_key(const struct llm_client *c, int rc, struct fm_err *err)
{
    const char *key = api_key(c);
    if (!err || !key || !*key)
        return rc;
    size_t klen = strlen(key);
    char out[FM_ERR_LEN];
    size_t o = 0;
    const char *s = err->msg;
    while (*s && o + 1 < sizeof(out)) {
        if (strncmp(s, key, klen) == 0) {
            int n = snprintf(out + o, sizeof(out) - o, "<api key>");
            o = n < 0 ? o : o + (size_t)n;
            if (o >= sizeof(out))
                o = sizeof(out) - 1;
            s += klen;
        } else {
            out[o++] = *s++;
        }
    }
    out[o] = '\0';
    memcpy(err->msg, out, o + 1);
    return rc;
}

/* A server's error text from an error body: {"error": "text"} (Ollama), {"error": {"message":
 * "text"}} (OpenAI), else the body's first line. Control characters become spaces and the
 * text is cut at LLM_ERR_TEXT_MAX so that one line stays one line. */
static void error_text(const char *body, size_t len, char *out, size_t size)
{
    const char *text = NULL;
    const char *end = NULL;
    cJSON *root = len ? cJSON_ParseWithLengthOpts(body, len, &end, 0) : NULL;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (cJSON_IsString(e))
        text = e->valuestring;
    else if (cJSON_IsObject(e) && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "message")))
        text = cJSON_GetObjectItemCaseSensitive(e, "message")->valuestring;
    size_t n = 0;
    if (text) {
        n = strlen(text);
    } else {
        text = body ? body : "";
        while (n < len && text[n] != '\n')
            n++;
    }
    if (size > LLM_ERR_TEXT_MAX + 1)
        size = LLM_ERR_TEXT_MAX + 1;
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < size; i++) {
        char ch = text[i];
        if ((unsigned char)ch < 0x20)
            ch = ' ';
        out[o++] = ch;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    if (o == 0)
        llm_copy_str(out, size, "no error text");
    cJSON_Delete(root);
}

/* ---------------------------------------------------------------- client */

/* libcurl does not skip the proxy for loopback addresses the way Go clients (and so the
 * ollama command) do; a test host with http_proxy set would then send 127.0.0.1 traffic to
 * its proxy. Loopback is added to the user's own no_proxy list. */
static void build_noproxy(struct llm_client *c)
{
    const char *env = getenv("no_proxy");
    if (!env || !*env)
        env = getenv("NO_PROXY");
    snprintf(c->noproxy, sizeof(c->noproxy), "localhost,127.0.0.1,::1%s%s", env && *env ? "," : "",
             env && *env ? env : "");
}

struct llm_client *llm_client_new(const struct llm_config *cfg, struct fm_err *err)
{
    struct llm_client *c = NULL;
    if (!(cfg->timeout_s > 0) || !(cfg->connect_timeout_s > 0)) {
        fm_err_set(err, FM_EINVAL, "llm timeouts must be positive (got %g s and %g s)",
                   cfg->timeout_s, cfg->connect_timeout_s);
        return NULL;
    }
    if (cfg->retries < 0 || cfg->retries > MAX_RETRIES || !(cfg->backoff_s >= 0)) {
        fm_err_set(err, FM_EINVAL, "llm retries must be 0-%d with a backoff >= 0 (got %d, %g s)",
                   MAX_RETRIES, cfg->retries, cfg->backoff_s);
        return NULL;
    }
    if (cfg->num_predict <= 0 || cfg->num_ctx < 0 || cfg->max_reply_bytes == 0) {
        fm_err_set(err, FM_EINVAL, "llm num_predict and max_reply_bytes must be positive");
        return NULL;
    }
    if (cfg->server[0] == '\0' || cfg->model[0] == '\0') {
        fm_err_set(err, FM_EINVAL, "llm server URL and model must be set");
        return NULL;
    }
    if (llm_curl_load(err) < 0)
        return NULL;
    c = calloc(1, sizeof(*c));
    if (!c) {
        fm_err_set(err, FM_ENOMEM, "llm client for %s", cfg->server);
        return NULL;
    }
    c->cfg = *cfg;
    c->api = cfg->api == LLM_API_OPENAI ? &llm_api_openai : &llm_api_ollama;
    /* OpenAI clients are usually given ".../v1" as their base URL; the paths here add it. */
    size_t slen = strlen(c->cfg.server);
    const char *suffix = c->api->base_suffix;
    size_t sfx = suffix ? strlen(suffix) : 0;
    if (sfx && slen > sfx && strcmp(c->cfg.server + slen - sfx, suffix) == 0)
        c->cfg.server[slen - sfx] = '\0';
    c->curl = llm_curl.easy_init();
    c->multi = llm_curl.multi_init();
    if (!c->curl || !c->multi) {
        llm_client_free(c);
        fm_err_set(err, FM_ENOMEM, "curl handle for %s", cfg->server);
        return NULL;
    }
    build_noproxy(c);
    return c;
}

void llm_client_free(struct llm_client *c)
{
    if (!c)
        return;
    if (c->curl)
        llm_curl.easy_cleanup(c->curl);
    if (c->multi)
        llm_curl.multi_cleanup(c->multi);
    free(c);
}

void llm_reply_fini(struct llm_reply *r)
{
    if (!r)
        return;
    free(r->content);
    r->content = NULL;
    r->content_len = 0;
}

/* ---------------------------------------------------------------- reply parsing */

void llm_set_done_reason(struct llm_xfer *x, const cJSON *v)
{
    if (cJSON_IsString(v))
        llm_copy_str(x->done_reason, sizeof(x->done_reason), v->valuestring);
}

long llm_json_long(const cJSON *v)
{
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 9e15 ? (long)v->valuedouble
                                                                             : -1;
}

int llm_add_text(struct llm_xfer *x, const char *s, size_t n, int live)
{
    if (n == 0)
        return FM_OK;
    if (fm_buf_add(&x->content, s, n) < 0)
        return fm_err_set(&x->perr, FM_ENOMEM, "reply text from %s", x->c->cfg.server);
    if (live && x->cb && x->cb->on_text) {
        x->cb->on_text(x->cb->arg, s, n);
        x->delivered = 1;
    }
    return FM_OK;
}

int llm_error_member(struct llm_xfer *x, const cJSON *root)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (!e || cJSON_IsNull(e))
        return FM_OK;
    char *printed = cJSON_PrintUnformatted(root);
    char text[LLM_ERR_TEXT_MAX + 1];
    error_text(printed, printed ? strlen(printed) : 0, text, sizeof(text));
    cJSON_free(printed);
    return fm_err_set(&x->perr, FM_EHTTP,
                      "llm server %s (model %s): error after the reply started: %s",
                      x->c->cfg.server, x->c->cfg.model, text);
}

static int parse_object(struct llm_xfer *x, const char *s, size_t n, int live)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(s, n, &end, 0);
    int rc;
    if (!cJSON_IsObject(root)) {
        rc = fm_err_set(&x->perr, FM_EFORMAT,
                        "llm server %s sent a reply that is not a JSON object ('%.40s'): is the "
                        "API (%s) right?",
                        x->c->cfg.server, s, x->c->api->name);
        /* The quoted excerpt may hold control characters; keep the message one line. */
        for (char *p = x->perr.msg; *p; p++)
            if ((unsigned char)*p < 0x20)
                *p = ' ';
    } else {
        rc = x->c->api->reply_object(x, root, live);
    }
    cJSON_Delete(root);
    return rc;
}

/* One complete line of a stream, without its line ending. */
static int stream_line(struct llm_xfer *x, const char *s, size_t n)
{
    if (n > 0 && s[n - 1] == '\r')
        n--;
    if (n == 0)
        return FM_OK;
    if (x->proto == LLM_PROTO_NDJSON)
        return parse_object(x, s, n, 1);
    /* Server-sent events: only "data:" carries anything; comments (":"), event:, id: and
     * retry: lines are ignored as the SSE specification says. */
    if (n < 5 || strncmp(s, "data:", 5) != 0)
        return FM_OK;
    s += 5;
    n -= 5;
    if (n > 0 && s[0] == ' ') {
        s++;
        n--;
    }
    if (n == 6 && strncmp(s, "[DONE]", 6) == 0) {
        x->done = 1;
        return FM_OK;
    }
    return parse_object(x, s, n, 1);
}

/* Split what arrived into lines; the last, unfinished one waits in x->line for the rest. */
static int stream_bytes(struct llm_xfer *x, const char *p, size_t n)
{
    if (fm_buf_add(&x->line, p, n) < 0)
        return fm_err_set(&x->perr, FM_ENOMEM, "reply from %s", x->c->cfg.server);
    size_t start = 0;
    for (;;) {
        const char *nl = memchr(x->line.s + start, '\n', x->line.len - start);
        if (!nl)
            break;
        size_t len = (size_t)(nl - (x->line.s + start));
        int rc = stream_line(x, x->line.s + start, len);
        if (rc < 0)
            return rc;
        start += len + 1;
    }
    memmove(x->line.s, x->line.s + start, x->line.len - start);
    x->line.len -= start;
    x->line.s[x->line.len] = '\0';
    return FM_OK;
}

/* ---------------------------------------------------------------- transfers */

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct llm_xfer *x = userdata;
    size_t n = size * nmemb;
    if (stop_set(x->c)) {
        x->stopped = 1;
        return 0;
    }
    x->received += n;
    if (x->received > x->c->cfg.max_reply_bytes) {
        x->too_big = 1;
        return 0; /* libcurl ends the transfer with CURLE_WRITE_ERROR */
    }
    if (x->status == 0) {
        long code = 0;
        llm_curl.easy_getinfo(x->c->curl, CURLINFO_RESPONSE_CODE, &code);
        x->status = code;
    }
    if (x->status != 200 || x->proto == LLM_PROTO_JSON) {
        if (x->status != 200 && x->body.len + n > ERR_BODY_MAX)
            return n; /* enough of an error body to find its text */
        if (fm_buf_add(&x->body, ptr, n) < 0) {
            fm_err_set(&x->perr, FM_ENOMEM, "reply from %s", x->c->cfg.server);
            return 0;
        }
        return n;
    }
    return stream_bytes(x, ptr, n) < 0 ? 0 : n;
}

static int on_progress(
    void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    struct llm_xfer *x = userdata;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    if (stop_set(x->c)) {
        x->stopped = 1;
        return 1;
    }
    return 0;
}

static void xfer_reset(struct llm_xfer *x)
{
    fm_buf_fini(&x->body);
    fm_buf_fini(&x->line);
    fm_buf_fini(&x->content);
    x->received = 0;
    x->status = 0;
    x->too_big = 0;
    x->stopped = 0;
    x->done = 0;
    x->delivered = 0;
    x->perr.code = FM_OK;
    x->perr.msg[0] = '\0';
    x->done_reason[0] = '\0';
    x->prompt_tokens = -1;
    x->reply_tokens = -1;
    x->gen_s = -1;
}

static void xfer_fini(struct llm_xfer *x)
{
    fm_buf_fini(&x->body);
    fm_buf_fini(&x->line);
    fm_buf_fini(&x->content);
}

/* Drive one transfer with the multi handle; the stop flag is looked at every POLL_MS. */
static CURLcode perform(struct llm_client *c, struct llm_xfer *x)
{
    CURLcode res = CURLE_OK;
    if (llm_curl.multi_add_handle(c->multi, c->curl) != CURLM_OK)
        return CURLE_FAILED_INIT;
    int running = 1;
    int finished = 0;
    while (!finished) {
        if (llm_curl.multi_perform(c->multi, &running) != CURLM_OK) {
            res = CURLE_FAILED_INIT;
            break;
        }
        int left = 0;
        const CURLMsg *m = NULL;
        while ((m = llm_curl.multi_info_read(c->multi, &left)) != NULL) {
            if (m->msg == CURLMSG_DONE) {
                res = m->data.result;
                finished = 1;
            }
        }
        if (finished || !running)
            break;
        if (stop_set(c)) {
            x->stopped = 1;
            res = CURLE_ABORTED_BY_CALLBACK;
            break;
        }
        if (llm_curl.multi_poll(c->multi, NULL, 0, POLL_MS, NULL) != CURLM_OK) {
            res = CURLE_FAILED_INIT;
            break;
        }
    }
    llm_curl.multi_remove_handle(c->multi, c->curl);
    return res;
}

static int transient_status(long status)
{
    return status == 429 || status == 502 || status == 503 || status == 504;
}

/* Sleep s seconds in short steps; 1 when the stop flag was set meanwhile. */
static int backoff_sleep(const struct llm_client *c, double s)
{
    int64_t end = fm_time_mono_ns() + (int64_t)(s * 1e9);
    for (;;) {
        if (stop_set(c))
            return 1;
        int64_t left = end - fm_time_mono_ns();
        if (left <= 0)
            return 0;
        if (left > 50 * 1000000LL)
            left = 50 * 1000000LL;
        struct timespec ts = {0, (long)left};
        nanosleep(&ts, NULL);
    }
}

/* Set the options of one request. body == NULL means GET. */
static int setup(struct llm_client *c,
                 const char *path,
                 const char *body,
                 struct llm_xfer *x,
                 struct curl_slist **headers,
                 struct fm_err *err)
{
    char url[sizeof(c->cfg.server) + 64];
    snprintf(url, sizeof(url), "%s%s", c->cfg.server, path);
    CURL *h = c->curl;
    llm_curl.easy_reset(h);
    c->curl_err[0] = '\0';

    struct curl_slist *hl = NULL;
    const char *hdrs[] = {"Content-Type: application/json",
                          "Accept: application/json, "
                          "application/x-ndjson, "
                          "text/event-stream",
                          "Expect:"};
    for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
        struct curl_slist *t = llm_curl.slist_append(hl, hdrs[i]);
        if (!t)
            goto nomem;
        hl = t;
    }
    if (c->cfg.api_key_env[0] != '\0') {
        const char *key = api_key(c);
        if (!key || !*key) {
            llm_curl.slist_free_all(hl);
            return fm_err_set(err, FM_EPERM,
                              "the API key variable %s is empty or not set: export it with the "
                              "key for %s",
                              c->cfg.api_key_env, c->cfg.server);
        }
        if (strpbrk(key, "\r\n") != NULL) {
            llm_curl.slist_free_all(hl);
            return fm_err_set(err, FM_EINVAL, "the API key in %s holds a line break",
                              c->cfg.api_key_env);
        }
        size_t len = strlen(key) + 32;
        char *line = malloc(len);
        if (!line)
            goto nomem;
        snprintf(line, len, "Authorization: Bearer %s", key);
        struct curl_slist *t = llm_curl.slist_append(hl, line);
        memset(line, 0, len); /* no copy of the key left behind in freed memory */
        free(line);
        if (!t)
            goto nomem;
        hl = t;
    }
    *headers = hl;

    llm_curl.easy_setopt(h, CURLOPT_URL, url);
    llm_curl.easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    llm_curl.easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_err);
    llm_curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    llm_curl.easy_setopt(h, CURLOPT_USERAGENT, "flowmimic/" FM_VERSION);
    llm_curl.easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(c->cfg.timeout_s * 1000.0));
    llm_curl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->cfg.connect_timeout_s * 1000.0));
    llm_curl.easy_setopt(h, CURLOPT_NOPROXY, c->noproxy);
#if LIBCURL_VERSION_NUM >= 0x075500
    llm_curl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    llm_curl.easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    llm_curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    llm_curl.easy_setopt(h, CURLOPT_WRITEDATA, x);
    llm_curl.easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    llm_curl.easy_setopt(h, CURLOPT_XFERINFODATA, x);
    llm_curl.easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    if (body) {
        llm_curl.easy_setopt(h, CURLOPT_POSTFIELDS, body);
        llm_curl.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    } else {
        llm_curl.easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    return FM_OK;
nomem:
    llm_curl.slist_free_all(hl);
    return fm_err_set(err, FM_ENOMEM, "request headers for %s", c->cfg.server);
}

/* The message for a failed transfer (res != CURLE_OK). */
static int
curl_failure(struct llm_client *c, const struct llm_xfer *x, CURLcode res, struct fm_err *err)
{
    const char *srv = c->cfg.server;
    const char *model = c->cfg.model;
    if (x->stopped || res == CURLE_ABORTED_BY_CALLBACK)
        return fm_err_set(err, FM_EINTR, "llm server %s (model %s): request stopped", srv, model);
    if (x->too_big)
        return fm_err_set(err, FM_EFORMAT,
                          "reply from %s is larger than %zu bytes (model %s): lower num_predict "
                          "or raise the reply size limit",
                          srv, c->cfg.max_reply_bytes, model);
    if (x->perr.code < 0)
        return fm_err_set(err, x->perr.code, "%s", x->perr.msg);
    switch (res) {
    case CURLE_COULDNT_CONNECT:
        return fm_err_set(err, FM_ENET, "%s%s%s", c->api->refused[0], srv, c->api->refused[1]);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return fm_err_set(err, FM_ENET,
                          "llm server %s: cannot resolve the host name (check the URL)", srv);
    case CURLE_OPERATION_TIMEDOUT: {
        /* The request's size tells whether it went out; the connect time does not, as it is
         * 0 too on a connection reused from the previous request. */
        long request_bytes = 0;
        llm_curl.easy_getinfo(c->curl, CURLINFO_REQUEST_SIZE, &request_bytes);
        if (request_bytes == 0)
            return fm_err_set(err, FM_ETIMEDOUT,
                              "llm server %s: no connection within %g s (is the address right?)",
                              srv,
                              c->cfg.connect_timeout_s < c->cfg.timeout_s ? c->cfg.connect_timeout_s
                                                                          : c->cfg.timeout_s);
        if (x->received > 0)
            return fm_err_set(err, FM_ETIMEDOUT,
                              "llm server %s (model %s): reply not finished within %g s (raise "
                              "--timeout or lower the token cap)",
                              srv, model, c->cfg.timeout_s);
        return fm_err_set(err, FM_ETIMEDOUT,
                          "llm server %s (model %s): no reply within %g s (raise --timeout)", srv,
                          model, c->cfg.timeout_s);
    }
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
        return fm_err_set(err, FM_ENET,
                          "llm server %s (model %s): connection closed before the reply was "
                          "complete (did the server crash or run out of memory?)",
                          srv, model);
    default:
        return fm_err_set(err, FM_ENET, "llm server %s (model %s): %s", srv, model,
                          c->curl_err[0] ? c->curl_err : llm_curl.easy_strerror(res));
    }
}

int llm_run(struct llm_client *c,
            const char *path,
            const char *body,
            enum llm_proto proto,
            const struct llm_stream_cb *cb,
            struct llm_xfer *x,
            int *attempts,
            struct fm_err *err)
{
    double delay = c->cfg.backoff_s;
    x->c = c;
    x->proto = proto;
    x->cb = cb;
    for (int attempt = 1;; attempt++) {
        struct curl_slist *headers = NULL;
        xfer_reset(x);
        *attempts = attempt;
        if (stop_set(c))
            return fm_err_set(err, FM_EINTR, "llm server %s: request stopped", c->cfg.server);
        int rc = setup(c, path, body, x, &headers, err);
        if (rc < 0)
            return rc;
        fm_log_debug("llm: %s %s%s (attempt %d)", body ? "POST" : "GET", c->cfg.server, path,
                     attempt);
        CURLcode res = perform(c, x);
        llm_curl.slist_free_all(headers);
        if (x->status == 0)
            llm_curl.easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &x->status);

        /* An error status arrived and the connection broke afterwards: the status says more. */
        int got_status = x->status != 0 && x->status != 200 && !x->stopped && !x->too_big &&
                         res != CURLE_OPERATION_TIMEDOUT;
        int retry = 0;
        if (res != CURLE_OK && !got_status) {
            rc = curl_failure(c, x, res, err);
            /* Refused means the server is not listening yet (starting, restarting): worth
             * another try. A timeout is not: the server took the request and was still
             * generating; a new attempt would redo the whole generation and multiply the
             * wait the user bounded with --timeout. */
            retry = res == CURLE_COULDNT_CONNECT;
        } else if (x->status != 200) {
            char text[LLM_ERR_TEXT_MAX + 1];
            error_text(x->body.s, x->body.len, text, sizeof(text));
            rc =
                fm_err_set(err, FM_EHTTP, "llm server %s (model %s): HTTP %ld%s: %s", c->cfg.server,
                           c->cfg.model, x->status, attempt > 1 ? " after retries" : "", text);
            /* 503 (loading a model), 429 (rate limit), 502/504 (a proxy in front of a
             * restarting server) pass; any other 4xx is our request or our key and stays
             * wrong however often it is sent. */
            retry = transient_status(x->status);
        } else if (proto != LLM_PROTO_JSON) {
            if (x->line.len > 0 && stream_line(x, x->line.s, x->line.len) < 0)
                return fm_err_set(err, x->perr.code, "%s", x->perr.msg);
            if (!x->done)
                return fm_err_set(err, FM_EFORMAT,
                                  "llm server %s (model %s): the reply stream ended before the "
                                  "server said it was done",
                                  c->cfg.server, c->cfg.model);
            return FM_OK;
        } else {
            return FM_OK;
        }
        /* Text already shown live cannot be taken back, so such a reply is never retried. */
        if (!retry || x->delivered || attempt > c->cfg.retries)
            return rc;
        scrub_key(c, rc, err); /* the log line below must not show a key quoted back */
        fm_log_debug("llm: %s, retrying in %g s", err ? err->msg : "transient failure", delay);
        if (backoff_sleep(c, delay))
            return fm_err_set(err, FM_EINTR, "llm server %s: request stopped", c->cfg.server);
        delay *= 2;
    }
}

/* ---------------------------------------------------------------- check */

int llm_key_refused(const struct llm_client *c, long status, struct fm_err *err)
{
    if (c->cfg.api_key_env[0])
        return fm_err_set(err, FM_EPERM,
                          "llm server %s refused the API key in %s (HTTP %ld): put a valid key "
                          "there",
                          c->cfg.server, c->cfg.api_key_env, status);
    return fm_err_set(err, FM_EPERM,
                      "llm server %s wants an API key (HTTP %ld): name the environment variable "
                      "that holds it",
                      c->cfg.server, status);
}

cJSON *llm_body_json(const struct llm_xfer *x)
{
    const char *end = NULL;
    return cJSON_ParseWithLengthOpts(x->body.s ? x->body.s : "", x->body.len, &end, 0);
}

int llm_client_check(struct llm_client *c, struct fm_err *err)
{
    struct llm_xfer x;
    memset(&x, 0, sizeof(x));
    int rc = c->api->check(c, &x, err);
    xfer_fini(&x);
    return scrub_key(c, rc, err);
}

/* ---------------------------------------------------------------- chat */

/* The request body of a chat. The schema is parsed here: a bad schema is the caller's bug,
 * better named before anything is sent. */
static int chat_body(const struct llm_client *c,
                     const struct llm_message *msgs,
                     size_t n_msgs,
                     const char *schema_json,
                     char **out,
                     struct fm_err *err)
{
    const struct llm_config *cfg = &c->cfg;
    int rc = FM_OK;
    cJSON *schema = NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = NULL;
    if (schema_json) {
        const char *end = NULL;
        schema = cJSON_ParseWithLengthOpts(schema_json, strlen(schema_json), &end, 0);
        if (!cJSON_IsObject(schema)) {
            rc = fm_err_set(err, FM_EINVAL, "the reply schema is not a JSON object");
            goto out;
        }
    }
    if (!root || !cJSON_AddStringToObject(root, "model", cfg->model) ||
        !(arr = cJSON_AddArrayToObject(root, "messages")))
        goto nomem;
    for (size_t i = 0; i < n_msgs; i++) {
        const char *role = msgs[i].role;
        if (!role || !msgs[i].content ||
            (strcmp(role, "system") != 0 && strcmp(role, "user") != 0 &&
             strcmp(role, "assistant") != 0)) {
            rc = fm_err_set(err, FM_EINVAL,
                            "chat message %zu needs a role (system, user or "
                            "assistant) and a content",
                            i);
            goto out;
        }
        cJSON *m = cJSON_CreateObject();
        if (!m || !cJSON_AddItemToArray(arr, m) || !cJSON_AddStringToObject(m, "role", role) ||
            !cJSON_AddStringToObject(m, "content", msgs[i].content))
            goto nomem;
    }
    if (!cJSON_AddBoolToObject(root, "stream", cfg->stream ? 1 : 0))
        goto nomem;
    if (c->api->chat_body(cfg, root, &schema) < 0)
        goto nomem;
    *out = cJSON_PrintUnformatted(root);
    if (!*out)
        goto nomem;
    goto out;
nomem:
    rc = fm_err_set(err, FM_ENOMEM, "chat request for %s", cfg->server);
out:
    cJSON_Delete(schema);
    cJSON_Delete(root);
    return rc;
}

int llm_client_chat(struct llm_client *c,
                    const struct llm_message *msgs,
                    size_t n_msgs,
                    const char *schema_json,
                    const struct llm_stream_cb *cb,
                    struct llm_reply *out,
                    struct fm_err *err)
{
    char *body = NULL;
    struct llm_xfer x;
    memset(&x, 0, sizeof(x));
    int attempts = 0;
    int64_t t0 = fm_time_mono_ns();
    int rc = FM_OK;
    if (n_msgs == 0) {
        rc = fm_err_set(err, FM_EINVAL, "a chat needs at least one message");
        goto out;
    }
    rc = chat_body(c, msgs, n_msgs, schema_json, &body, err);
    if (rc < 0)
        goto out;
    const char *path = c->api->chat_path;
    enum llm_proto proto = c->cfg.stream ? c->api->stream : LLM_PROTO_JSON;
    int64_t t_try = 0;
    rc = llm_run(c, path, body, proto, cb, &x, &attempts, err);
    t_try = fm_time_mono_ns();
    if (rc == FM_EHTTP && x.status == 404) {
        /* Ollama says 404 both for a missing model ("model \"x\" not found, try pulling it
         * first") and for a path it does not serve (then the server is something else). */
        char text[LLM_ERR_TEXT_MAX + 1];
        error_text(x.body.s, x.body.len, text, sizeof(text));
        if (!strstr(text, "model"))
            rc = fm_err_set(err, FM_EHTTP,
                            "llm server %s has no %s (HTTP 404: %s): is the API (%s) right?",
                            c->cfg.server, path, text, c->api->name);
        else
            rc = c->api->model_missing(c, err);
    } else if (rc == FM_EHTTP && (x.status == 401 || x.status == 403)) {
        rc = llm_key_refused(c, x.status, err);
    }
    if (rc < 0)
        goto out;
    if (proto == LLM_PROTO_JSON) {
        rc = parse_object(&x, x.body.s ? x.body.s : "", x.body.len, 0);
        if (rc < 0) {
            rc = fm_err_set(err, x.perr.code, "%s", x.perr.msg);
            goto out;
        }
        if (!x.done && c->api->json_reply_needs_done) {
            rc = fm_err_set(err, FM_EFORMAT, "llm server %s (model %s): the reply is not done",
                            c->cfg.server, c->cfg.model);
            goto out;
        }
        if (cb && cb->on_text && x.content.len)
            cb->on_text(cb->arg, x.content.s, x.content.len);
    }
    if (!x.content.s && fm_buf_add(&x.content, "", 0) < 0) {
        rc = fm_err_set(err, FM_ENOMEM, "reply from %s", c->cfg.server);
        goto out;
    }
    memset(out, 0, sizeof(*out));
    out->content = x.content.s;
    out->content_len = x.content.len;
    x.content.s = NULL;
    llm_copy_str(out->done_reason, sizeof(out->done_reason), x.done_reason);
    out->truncated = strcmp(x.done_reason, "length") == 0;
    out->prompt_tokens = x.prompt_tokens;
    out->reply_tokens = x.reply_tokens;
    out->wall_s = (double)(t_try - t0) / 1e9;
    out->gen_s = x.gen_s >= 0 ? x.gen_s : out->wall_s;
    out->http_status = (int)x.status;
    out->attempts = attempts;
out:
    cJSON_free(body);
    xfer_fini(&x);
    return scrub_key(c, rc, err);
}
