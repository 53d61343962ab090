/* tests/fuzz/fuzz_llm_reply.c - what an LLM server sends back (llm/prompt.h): a reply's
 * content, a reviewer's verdict and a prompt set. The first byte's low bit is `cut` (the
 * server stopped at its token cap); the rest is the text. Each either reads or fails with a
 * one-line message; a failed verdict is a REVISE naming its reason. */
#include "llm/prompt.h"
#include "tests/fuzz/fuzz.h"

#include <string.h>

static void check_verdict(const struct llm_verdict *v, int rc)
{
    fuzz_check(v->n_problems <= LLM_MAX_PROBLEMS, "verdict: problems", "too many");
    for (size_t i = 0; i < v->n_problems; i++)
        fuzz_check(memchr(v->problems[i], '\0', sizeof(v->problems[i])) != NULL, "verdict: problem",
                   "not NUL-terminated");
    if (rc < 0)
        fuzz_check(!v->approve && v->n_problems == 1, "verdict: a failure",
                   "is not a REVISE with one problem");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct llm_prompt_set set;
    struct fm_err err = {0};

    if (size == 0)
        return 0;
    int cut = data[0] & 1;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    cJSON *root = NULL;
    int fenced = 0;
    int rc = llm_reply_parse(text, len, cut, &root, &fenced, &err);
    if (rc < 0)
        fuzz_check_err(rc, &err, "reply: parse");
    else
        fuzz_check(cJSON_IsObject(root), "reply: parse", "FM_OK without an object");
    cJSON_Delete(root);

    struct llm_verdict v;
    memset(&v, 0xa5, sizeof(v));
    rc = llm_verdict_parse(text, len, cut, &v, &err);
    if (rc < 0)
        fuzz_check_err(rc, &err, "verdict: parse");
    check_verdict(&v, rc);

    rc = llm_prompts_parse(text, len, "fuzz.json", &set, &err);
    if (rc < 0) {
        fuzz_check_err(rc, &err, "prompts: parse");
        return 0;
    }
    fuzz_check(set.n >= 1 && set.n <= LLM_MAX_PROMPTS, "prompts: count", "out of 1..64");
    for (size_t i = 0; i < set.n; i++)
        fuzz_check(set.items[i].name[0] != '\0' && set.items[i].task[0] != '\0',
                   "prompts: an empty name or task", NULL);
    return 0;
}
