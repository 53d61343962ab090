/* llm/client.h - chat requests to a local Ollama or an OpenAI-compatible server (libcurl).
 * The only libcurl user. One struct llm_client holds a configuration and a curl handle;
 * it is not thread-safe (one client per thread). Replies are owned by the caller and freed
 * with llm_reply_fini().
 *
 * Ollama (LLM_API_OLLAMA): GET /api/version, POST /api/show, POST /api/chat with model,
 * messages, stream, format (a JSON schema), options {temperature, seed, num_ctx,
 * num_predict}, keep_alive. Streamed replies are NDJSON, read as they arrive.
 * OpenAI-compatible (LLM_API_OPENAI): GET /v1/models, POST /v1/chat/completions with
 * response_format {"type": "json_schema", ...}, max_tokens, temperature, seed; streamed
 * replies are server-sent events ("data: {...}", "data: [DONE]"). The API key is read from
 * the environment variable named in the configuration and is never printed or logged.
 * libcurl's global initialisation runs once, through pthread_once, in the first
 * llm_client_new(), so clients may be made from any thread. Error messages never hold the
 * API key: a copy quoted back by a server is replaced by "<api key>". */
#ifndef LLM_CLIENT_H
#define LLM_CLIENT_H

#include <signal.h>
#include <stddef.h>

#include "common/err.h"

#define LLM_DEFAULT_SERVER "http://127.0.0.1:11434"
#define LLM_DEFAULT_MODEL  "llama3.2:3b"

enum llm_api { LLM_API_OLLAMA, LLM_API_OPENAI };

struct llm_config {
    enum llm_api api;
    char server[512];            /* base URL: scheme://host:port[/prefix], no trailing slash */
    char model[128];             /* default LLM_DEFAULT_MODEL */
    char api_key_env[64];        /* openai: the variable holding the key; "" = no key */
    double timeout_s;            /* per request, connect included; default 120 */
    double connect_timeout_s;    /* default 10 */
    int retries;                 /* extra attempts on transient failures; default 3 */
    double backoff_s;            /* first retry delay, doubled each time; default 0.5 */
    double temperature;          /* < 0: the server's default */
    long seed;                   /* < 0: none */
    int num_ctx;                 /* 0: the server's default */
    int num_predict;             /* cap on generated tokens, always sent; default 2048 */
    size_t max_reply_bytes;      /* the reply body is cut off past this; default 1 MiB */
    char keep_alive[32];         /* Ollama keep_alive ("5m"); "" = not sent */
    int stream;                  /* 1 = streamed replies (default), 0 = one JSON reply */
    volatile sig_atomic_t *stop; /* when not NULL and set, requests end with FM_EINTR */
};

/* Defaults as documented above; server from OLLAMA_HOST or LLM_DEFAULT_SERVER. */
void llm_config_init(struct llm_config *cfg);

/* Set cfg->server from url, or when url is NULL from OLLAMA_HOST (for Ollama), read the way
 * Ollama reads it: no scheme means http, no port means 11434 ("0.0.0.0" is reached as
 * 127.0.0.1). FM_EINVAL naming the URL when it cannot be used.
 * As in Ollama, http:// and https:// without a port mean 80 and 443; "::" is reached as
 * [::1]; a trailing slash is dropped and a path kept (for a server behind a prefix). With
 * the OpenAI API, llm_client_new() drops a final "/v1" (the paths it adds start with it). */
FM_MUST_CHECK int
llm_config_set_server(struct llm_config *cfg, const char *url, struct fm_err *err);

/* Check a keep_alive duration as Ollama reads it: a number of seconds, or a number with a unit
 * (ms, s, m, h); negative keeps the model loaded for ever, 0 unloads it at once. It must fit
 * llm_config.keep_alive. FM_EINVAL with a message that starts with what ("--keep-alive")
 * otherwise. */
FM_MUST_CHECK int llm_keep_alive_check(const char *dur, const char *what, struct fm_err *err);

struct llm_message {
    const char *role; /* "system", "user" or "assistant" */
    const char *content;
};

struct llm_reply {
    char *content; /* the assistant message text, NUL-terminated (malloc'd) */
    size_t content_len;
    int truncated;        /* the server stopped at the token cap (done_reason "length") */
    char done_reason[32]; /* "stop", "length", ... as the server said; "" if not said */
    long prompt_tokens;   /* -1 when the server did not say */
    long reply_tokens;    /* -1 when the server did not say */
    double gen_s;         /* generation time the server reported, else wall time */
    double wall_s;        /* wall time of the request, retries included */
    int http_status;
    int attempts; /* 1 + retries used */
};

/* Called with each piece of reply text as it streams in (for a live view); may be NULL. */
struct llm_stream_cb {
    void (*on_text)(void *arg, const char *text, size_t len);
    void *arg;
};

struct llm_client;

/* NULL on failure with err set. The configuration is copied. */
struct llm_client *llm_client_new(const struct llm_config *cfg, struct fm_err *err);
void llm_client_free(struct llm_client *c);

/* Check before the first chat that the server answers and has the model.
 * Ollama: GET /api/version (refused: FM_ENET "no Ollama server at URL: start it with
 * `ollama serve`"), POST /api/show (404: FM_ENOTFOUND "model X is not available: run
 * `ollama pull X`"). OpenAI: GET /v1/models (401/403: FM_EPERM naming the key variable;
 * model absent from the list: FM_ENOTFOUND). */
FM_MUST_CHECK int llm_client_check(struct llm_client *c, struct fm_err *err);

/* One chat request. schema_json is the JSON schema the reply must follow (text), or NULL.
 * On FM_OK *out holds the reply (free it with llm_reply_fini). Errors, each with a one-line
 * message naming the server: FM_ENET (refused, reset, DNS), FM_ETIMEDOUT (slower than
 * timeout_s), FM_EHTTP (an HTTP error status, with the server's error text; or an
 * {"error": ...} line after a 200), FM_ENOTFOUND (model not found), FM_EFORMAT (a reply
 * that does not follow the protocol, or longer than max_reply_bytes), FM_EINTR (stop set).
 * Transient failures (refused while starting, 503 while loading, 429) are retried
 * cfg->retries times with backoff before they are returned. */
FM_MUST_CHECK int llm_client_chat(struct llm_client *c,
                                  const struct llm_message *msgs,
                                  size_t n_msgs,
                                  const char *schema_json,
                                  const struct llm_stream_cb *cb,
                                  struct llm_reply *out,
                                  struct fm_err *err);

void llm_reply_fini(struct llm_reply *r);

/* "ollama" / "openai" <-> enum; FM_EINVAL for anything else. */
FM_MUST_CHECK int llm_api_parse(const char *s, enum llm_api *out, struct fm_err *err);
const char *llm_api_name(enum llm_api api);

#endif
