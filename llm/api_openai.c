/* llm/api_openai.c - the OpenAI-compatible API: GET /v1/models to check, POST
 * /v1/chat/completions with temperature, seed, max_tokens and response_format {"type":
 * "json_schema", ...}; streamed replies are server-sent events of chat.completion.chunk
 * objects (choices[0].delta.content), with usage in the last one. */
#include <stdio.h>
#include <string.h>

#include "llm/client_int.h"

static int check(struct llm_client *c, struct llm_xfer *x, struct fm_err *err)
{
    int attempts = 0;
    int rc = llm_run(c, "/v1/models", NULL, LLM_PROTO_JSON, NULL, x, &attempts, err);
    if (rc == FM_EHTTP && (x->status == 401 || x->status == 403))
        return llm_key_refused(c, x->status, err);
    if (rc == FM_EHTTP && x->status == 404)
        return fm_err_set(err, FM_EHTTP,
                          "llm server %s has no /v1/models (HTTP 404): is it OpenAI-compatible? "
                          "(else use the ollama API; give the URL without /v1)",
                          c->cfg.server);
    if (rc < 0)
        return rc;
    cJSON *root = llm_body_json(x);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (!cJSON_IsArray(data)) {
        cJSON_Delete(root);
        return fm_err_set(err, FM_EFORMAT,
                          "llm server %s answered GET /v1/models without a \"data\" list: is it "
                          "OpenAI-compatible?",
                          c->cfg.server);
    }
    char names[160] = "";
    size_t used = 0;
    const cJSON *m = NULL;
    cJSON_ArrayForEach(m, data)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
        if (!cJSON_IsString(id))
            continue;
        if (strcmp(id->valuestring, c->cfg.model) == 0) {
            cJSON_Delete(root);
            return FM_OK;
        }
        if (used < sizeof(names)) {
            int n = snprintf(names + used, sizeof(names) - used, "%s%s", used ? ", " : "",
                             id->valuestring);
            used = n < 0 ? sizeof(names) : used + (size_t)n;
        }
    }
    cJSON_Delete(root);
    return fm_err_set(err, FM_ENOTFOUND, "model %s is not served by %s (it has: %s)", c->cfg.model,
                      c->cfg.server, names[0] ? names : "no models");
}

static int chat_body(const struct llm_config *cfg, cJSON *root, cJSON **schema)
{
    if (cfg->temperature >= 0 && !cJSON_AddNumberToObject(root, "temperature", cfg->temperature))
        return FM_ENOMEM;
    if (cfg->seed >= 0 && !cJSON_AddNumberToObject(root, "seed", (double)cfg->seed))
        return FM_ENOMEM;
    if (!cJSON_AddNumberToObject(root, "max_tokens", cfg->num_predict))
        return FM_ENOMEM;
    if (cfg->stream) {
        cJSON *so = cJSON_AddObjectToObject(root, "stream_options");
        if (!so || !cJSON_AddBoolToObject(so, "include_usage", 1))
            return FM_ENOMEM;
    }
    if (*schema) {
        cJSON *rf = cJSON_AddObjectToObject(root, "response_format");
        cJSON *js = rf ? cJSON_AddObjectToObject(rf, "json_schema") : NULL;
        if (!js || !cJSON_AddStringToObject(rf, "type", "json_schema") ||
            !cJSON_AddStringToObject(js, "name", "reply") ||
            !cJSON_AddBoolToObject(js, "strict", 1))
            return FM_ENOMEM;
        cJSON_AddItemToObject(js, "schema", *schema);
        *schema = NULL;
    }
    return FM_OK;
}

/* One object: a streamed chat.completion.chunk (delta) or a chat.completion (message). */
static int reply_object(struct llm_xfer *x, const cJSON *root, int live)
{
    int rc = llm_error_member(x, root);
    if (rc < 0)
        return rc;
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
    if (!cJSON_IsArray(choices) && !cJSON_IsObject(usage))
        return fm_err_set(&x->perr, FM_EFORMAT,
                          "llm server %s sent a chat reply without \"choices\": is it an "
                          "OpenAI-compatible server? (else use the ollama API)",
                          x->c->cfg.server);
    const cJSON *ch = cJSON_GetArrayItem(choices, 0);
    if (ch) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(ch, live ? "delta" : "message");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (cJSON_IsString(content)) {
            rc = llm_add_text(x, content->valuestring, strlen(content->valuestring), live);
            if (rc < 0)
                return rc;
        }
        const cJSON *fr = cJSON_GetObjectItemCaseSensitive(ch, "finish_reason");
        if (cJSON_IsString(fr)) {
            llm_set_done_reason(x, fr);
            x->done = 1;
        }
    }
    if (cJSON_IsObject(usage)) {
        x->prompt_tokens = llm_json_long(cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens"));
        x->reply_tokens =
            llm_json_long(cJSON_GetObjectItemCaseSensitive(usage, "completion_tokens"));
    }
    return FM_OK;
}

static int model_missing(const struct llm_client *c, struct fm_err *err)
{
    return fm_err_set(err, FM_ENOTFOUND, "llm server %s: model %s not found (HTTP 404)",
                      c->cfg.server, c->cfg.model);
}

const struct llm_api_ops llm_api_openai = {
    .name = "openai",
    .chat_path = "/v1/chat/completions",
    .stream = LLM_PROTO_SSE,
    .base_suffix = "/v1",
    .refused = {"no server at ", ": connection refused (is it running?)"},
    .json_reply_needs_done = 0,
    .check = check,
    .chat_body = chat_body,
    .reply_object = reply_object,
    .model_missing = model_missing,
};
