/* llm/api_ollama.c - the Ollama API: GET /api/version and POST /api/show to check, POST
 * /api/chat with options {temperature, seed, num_ctx, num_predict}, format (the schema) and
 * keep_alive; streamed replies are NDJSON objects with message.content and, last, done. */
#include <string.h>

#include "common/log.h"
#include "llm/client_int.h"

static int check(struct llm_client *c, struct llm_xfer *x, struct fm_err *err)
{
    int attempts = 0;
    int rc = llm_run(c, "/api/version", NULL, LLM_PROTO_JSON, NULL, x, &attempts, err);
    if (rc == FM_EHTTP)
        return fm_err_set(err, FM_EHTTP,
                          "llm server %s answered GET /api/version with HTTP %ld: is it an Ollama "
                          "server? (else use the openai API)",
                          c->cfg.server, x->status);
    if (rc < 0)
        return rc;
    cJSON *root = llm_body_json(x);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsString(v))
        rc = fm_err_set(err, FM_EFORMAT,
                        "llm server %s answered GET /api/version without a version: is it an "
                        "Ollama server?",
                        c->cfg.server);
    else
        fm_log_debug("llm: Ollama %s at %s", v->valuestring, c->cfg.server);
    cJSON_Delete(root);
    if (rc < 0)
        return rc;

    cJSON *req = cJSON_CreateObject();
    char *body = NULL;
    if (!req || !cJSON_AddStringToObject(req, "model", c->cfg.model) ||
        !(body = cJSON_PrintUnformatted(req))) {
        cJSON_Delete(req);
        return fm_err_set(err, FM_ENOMEM, "request for %s", c->cfg.server);
    }
    cJSON_Delete(req);
    rc = llm_run(c, "/api/show", body, LLM_PROTO_JSON, NULL, x, &attempts, err);
    cJSON_free(body);
    if (rc == FM_EHTTP && x->status == 404)
        return c->api->model_missing(c, err);
    return rc;
}

static int chat_body(const struct llm_config *cfg, cJSON *root, cJSON **schema)
{
    if (*schema) {
        cJSON_AddItemToObject(root, "format", *schema);
        *schema = NULL;
    }
    cJSON *opt = cJSON_AddObjectToObject(root, "options");
    if (!opt)
        return FM_ENOMEM;
    if (cfg->temperature >= 0 && !cJSON_AddNumberToObject(opt, "temperature", cfg->temperature))
        return FM_ENOMEM;
    if (cfg->seed >= 0 && !cJSON_AddNumberToObject(opt, "seed", (double)cfg->seed))
        return FM_ENOMEM;
    if (cfg->num_ctx > 0 && !cJSON_AddNumberToObject(opt, "num_ctx", cfg->num_ctx))
        return FM_ENOMEM;
    if (!cJSON_AddNumberToObject(opt, "num_predict", cfg->num_predict))
        return FM_ENOMEM;
    if (cfg->keep_alive[0] && !cJSON_AddStringToObject(root, "keep_alive", cfg->keep_alive))
        return FM_ENOMEM;
    return FM_OK;
}

/* One /api/chat object: a streamed line, or the whole non-streamed reply. */
static int reply_object(struct llm_xfer *x, const cJSON *root, int live)
{
    int rc = llm_error_member(x, root);
    if (rc < 0)
        return rc;
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "message");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
    const cJSON *done = cJSON_GetObjectItemCaseSensitive(root, "done");
    if (!cJSON_IsBool(done) || (msg && !cJSON_IsString(content)))
        return fm_err_set(&x->perr, FM_EFORMAT,
                          "llm server %s sent a chat reply without \"done\" or message.content: is "
                          "it an Ollama server? (else use the openai API)",
                          x->c->cfg.server);
    if (cJSON_IsString(content)) {
        rc = llm_add_text(x, content->valuestring, strlen(content->valuestring), live);
        if (rc < 0)
            return rc;
    }
    if (cJSON_IsTrue(done)) {
        x->done = 1;
        llm_set_done_reason(x, cJSON_GetObjectItemCaseSensitive(root, "done_reason"));
        x->prompt_tokens =
            llm_json_long(cJSON_GetObjectItemCaseSensitive(root, "prompt_eval_count"));
        x->reply_tokens = llm_json_long(cJSON_GetObjectItemCaseSensitive(root, "eval_count"));
        long ns = llm_json_long(cJSON_GetObjectItemCaseSensitive(root, "eval_duration"));
        if (ns > 0)
            x->gen_s = (double)ns / 1e9;
    }
    return FM_OK;
}

static int model_missing(const struct llm_client *c, struct fm_err *err)
{
    return fm_err_set(err, FM_ENOTFOUND, "model %s is not available: run `ollama pull %s`",
                      c->cfg.model, c->cfg.model);
}

const struct llm_api_ops llm_api_ollama = {
    .name = "ollama",
    .chat_path = "/api/chat",
    .stream = LLM_PROTO_NDJSON,
    .base_suffix = NULL,
    .refused = {"no Ollama server at ", ": start it with `ollama serve`"},
    .json_reply_needs_done = 1,
    .check = check,
    .chat_body = chat_body,
    .reply_object = reply_object,
    .model_missing = model_missing,
};
