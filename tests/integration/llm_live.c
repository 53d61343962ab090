/* tests/integration/llm_live.c - the LLM client against a real server, when one is named.
 * FLOWMIMIC_LIVE_LLM=URL runs it (else exit 77, CTest's skip code); FLOWMIMIC_LIVE_MODEL
 * (default LLM_DEFAULT_MODEL), FLOWMIMIC_LIVE_API (ollama or openai, default ollama) and
 * FLOWMIMIC_LIVE_KEY_ENV (the variable holding an API key) adjust it. It checks the server,
 * asks one short question with a JSON schema and requires a reply that parses as JSON and
 * follows the schema. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm/client.h"

static void show_text(void *arg, const char *text, size_t len)
{
    (void)arg;
    fwrite(text, 1, len, stderr);
}

int main(void)
{
    const char *url = getenv("FLOWMIMIC_LIVE_LLM");
    if (!url || !*url) {
        fprintf(stderr, "llm_live: FLOWMIMIC_LIVE_LLM is not set: skipped\n");
        return 77;
    }
    struct llm_config cfg;
    struct fm_err err = {0};
    struct llm_client *c = NULL;
    struct llm_reply r = {0};
    cJSON *root = NULL;
    int status = 1;
    llm_config_init(&cfg);
    const char *model = getenv("FLOWMIMIC_LIVE_MODEL");
    const char *api = getenv("FLOWMIMIC_LIVE_API");
    const char *key_env = getenv("FLOWMIMIC_LIVE_KEY_ENV");
    if (model && *model)
        snprintf(cfg.model, sizeof(cfg.model), "%s", model);
    if (key_env && *key_env)
        snprintf(cfg.api_key_env, sizeof(cfg.api_key_env), "%s", key_env);
    if ((api && *api && llm_api_parse(api, &cfg.api, &err) < 0) ||
        llm_config_set_server(&cfg, url, &err) < 0)
        goto out;
    cfg.seed = 1;
    cfg.temperature = 0;
    cfg.num_predict = 200;
    cfg.timeout_s = 300; /* the first request may load the model */
    c = llm_client_new(&cfg, &err);
    if (!c || llm_client_check(c, &err) < 0)
        goto out;
    const struct llm_message msgs[] = {
        {"system", "You answer with a JSON object only."},
        {"user", "Give the UDP port number usually used by RTP video in examples (5004), as "
                 "{\"port\": N, \"protocol\": \"udp\"}."},
    };
    const char *schema = "{\"type\":\"object\",\"properties\":{\"port\":{\"type\":\"integer\"},"
                         "\"protocol\":{\"type\":\"string\"}},\"required\":[\"port\","
                         "\"protocol\"],\"additionalProperties\":false}";
    struct llm_stream_cb cb = {show_text, NULL};
    if (llm_client_chat(c, msgs, 2, schema, &cb, &r, &err) < 0)
        goto out;
    fprintf(stderr,
            "\nllm_live: %s %s: %ld prompt + %ld reply tokens, %.2f s (%.2f s wall), "
            "done_reason %s\n",
            cfg.server, cfg.model, r.prompt_tokens, r.reply_tokens, r.gen_s, r.wall_s,
            r.done_reason);
    const char *end = NULL;
    root = cJSON_ParseWithLengthOpts(r.content, r.content_len, &end, 0);
    const cJSON *port = cJSON_GetObjectItemCaseSensitive(root, "port");
    const cJSON *proto = cJSON_GetObjectItemCaseSensitive(root, "protocol");
    if (!cJSON_IsNumber(port) || !cJSON_IsString(proto)) {
        snprintf(err.msg, sizeof(err.msg), "the reply does not follow the schema: %.120s",
                 r.content);
        goto out;
    }
    status = 0;
out:
    if (status != 0)
        fprintf(stderr, "llm_live: %s\n", err.msg);
    cJSON_Delete(root);
    llm_reply_fini(&r);
    llm_client_free(c);
    return status;
}
