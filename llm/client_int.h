/* llm/client_int.h - what the transport (llm/client.c) shares with the two API tables
 * (llm/api_ollama.c, llm/api_openai.c). Not for use outside llm/.
 *
 * The transport knows HTTP: URLs, headers, retries, streams split into lines, error bodies,
 * the API key. An API table knows one wire protocol: the paths it uses, how it checks the
 * server and the model, what a chat request holds besides the messages, and how a reply
 * object reads. client.c never asks which API it talks to; it calls the table. */
#ifndef LLM_CLIENT_INT_H
#define LLM_CLIENT_INT_H

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stddef.h>
#include <stdio.h>

#include "common/err.h"
#include "common/strbuf.h"
#include "llm/client.h"

#define LLM_ERR_TEXT_MAX 160 /* server error text quoted in a message */

/* src (NULL: "") into dst of size bytes, cut to fit, always terminated. */
static inline void llm_copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

/* How a reply body arrives: one JSON document, NDJSON lines, or server-sent events. */
enum llm_proto { LLM_PROTO_JSON, LLM_PROTO_NDJSON, LLM_PROTO_SSE };

struct llm_xfer;

struct llm_api_ops {
    const char *name;          /* "ollama", "openai" */
    const char *chat_path;     /* "/api/chat" */
    enum llm_proto stream;     /* how a streamed chat reply arrives */
    const char *base_suffix;   /* dropped from the end of the server URL ("/v1"), or NULL */
    const char *refused[2];    /* a refused connection: the text before and after the URL */
    int json_reply_needs_done; /* a reply that is not streamed must say it is done */
    /* Check that the server answers and serves the model (before the first chat). */
    int (*check)(struct llm_client *c, struct llm_xfer *x, struct fm_err *err);
    /* Add the API's members to a chat request besides model, messages and stream. Takes
     * *schema (sets it to NULL) when it puts it into root. FM_OK or FM_ENOMEM. */
    int (*chat_body)(const struct llm_config *cfg, cJSON *root, cJSON **schema);
    /* Read one reply object: a streamed one (live) or the whole reply. Errors go to
     * x->perr and are returned. */
    int (*reply_object)(struct llm_xfer *x, const cJSON *root, int live);
    /* The message when the chat path answered 404 about the model. */
    int (*model_missing)(const struct llm_client *c, struct fm_err *err);
};

extern const struct llm_api_ops llm_api_ollama;
extern const struct llm_api_ops llm_api_openai;

struct llm_client {
    struct llm_config cfg;
    const struct llm_api_ops *api;
    CURL *curl;
    CURLM *multi;
    char curl_err[CURL_ERROR_SIZE];
    char noproxy[512];
};

/* The state of one HTTP exchange, reset for every attempt. */
struct llm_xfer {
    struct llm_client *c;
    enum llm_proto proto;
    const struct llm_stream_cb *cb;
    struct fm_buf body;    /* LLM_PROTO_JSON replies and every error body */
    struct fm_buf line;    /* the unfinished line of a stream */
    struct fm_buf content; /* the assistant text so far */
    size_t received;
    long status;
    int too_big;
    int stopped;
    int done; /* the server said the reply is complete */
    int delivered;
    struct fm_err perr; /* a protocol error found inside the write callback */
    char done_reason[32];
    long prompt_tokens;
    long reply_tokens;
    double gen_s; /* < 0 when the server did not say */
};

/* One request with retries (body NULL: GET). On FM_OK the status was 200 and, for streams,
 * the server said the reply is complete; on FM_EHTTP x->status holds the status and err a
 * generic message the caller may refine. *attempts counts the tries made. */
FM_MUST_CHECK int llm_run(struct llm_client *c,
                          const char *path,
                          const char *body,
                          enum llm_proto proto,
                          const struct llm_stream_cb *cb,
                          struct llm_xfer *x,
                          int *attempts,
                          struct fm_err *err);

/* Helpers for the reply readers. */
FM_MUST_CHECK int llm_add_text(struct llm_xfer *x, const char *s, size_t n, int live);
FM_MUST_CHECK int llm_error_member(struct llm_xfer *x, const cJSON *root);
long llm_json_long(const cJSON *v);
void llm_set_done_reason(struct llm_xfer *x, const cJSON *v);
/* The body of a JSON reply (GET /api/version, /v1/models) parsed, or NULL. */
cJSON *llm_body_json(const struct llm_xfer *x);
/* 401/403, without the server's text (it often quotes the rejected key). */
FM_MUST_CHECK int llm_key_refused(const struct llm_client *c, long status, struct fm_err *err);

#endif
