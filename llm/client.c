/* llm/client.c - chat requests to Ollama and OpenAI-compatible servers; see llm/client.h. */
#include "llm/client.h"

#include <string.h>

int llm_api_parse(const char *s, enum llm_api *out, struct fm_err *err)
{
    if (strcmp(s, "ollama") == 0) {
        *out = LLM_API_OLLAMA;
        return FM_OK;
    }
    if (strcmp(s, "openai") == 0) {
        *out = LLM_API_OPENAI;
        return FM_OK;
    }
    return fm_err_set(err, FM_EINVAL, "unknown API '%s' (use ollama or openai)", s);
}

const char *llm_api_name(enum llm_api api)
{
    return api == LLM_API_OPENAI ? "openai" : "ollama";
}
