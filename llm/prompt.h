/* llm/prompt.h - what the agents are told and how their replies are read.
 * The model summary and example packets the generator starts from, the system and user
 * messages of both agents, the JSON schemas their replies must follow, and the parsing of
 * a reply's content (a string that should hold one JSON object) and of a reviewer's verdict.
 * Text is returned in struct fm_buf (malloc'd, freed with fm_buf_fini) or as char * that
 * the caller frees with free(). cJSON trees returned here are freed with cJSON_Delete().
 * No globals; not thread-safe per object. */
#ifndef LLM_PROMPT_H
#define LLM_PROMPT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/rng.h"
#include "common/strbuf.h"
#include "llm/check.h"
#include "models/model.h"

/* A compact summary of side `side` of m for the agents: the flow, packets, duration, rate,
 * header fields, the payload-length atoms and components in bytes and the gap components in
 * ms (for log scale: median and 90% range of each log-normal); with a sequence model, its
 * largest states (share, median length and gap), the chain's order, how long a state
 * persists and, on an RTP video side with marked states, frames per second and packets per
 * frame. Appended to b. */
void llm_model_summary(const struct mdl_model *m, enum mdl_side_id side, struct fm_buf *b);

/* Draw n (<= LLM_MAX_PACKETS) consecutive packets from side s as generate would send them
 * before any variant (mdl_side_draw_series(): a sequence when the side has one), each with
 * the gap before it (gap_ms -1 or payload_length -1 where the side has no such model). */
void llm_examples_draw(const struct mdl_side *s,
                       struct fm_rng *r,
                       size_t n,
                       struct llm_example *out);

/* The JSON schema of the generator's reply for n_variants variants of n_packets packets with
 * payloads of at most max_payload bytes, and of the reviewer's reply. Compact JSON text,
 * freed with free(); NULL when out of memory. */
char *llm_schema_generator(size_t n_variants, size_t n_packets, long max_payload);
char *llm_schema_reviewer(void);

/* What the generator is asked: task (NULL: the default task), the model summary, drawn
 * example packets, the counts and the payload limit. */
struct llm_gen_ask {
    const char *task;
    const char *summary;
    const struct llm_example *examples;
    size_t n_examples;
    size_t n_variants;
    size_t n_packets;
    long max_payload;
    int mtu;
};

extern const char *const llm_default_task;

/* The generator's system message and first user message, appended to b. */
void llm_prompt_generator_system(const struct llm_gen_ask *a, struct fm_buf *b);
void llm_prompt_generator_user(const struct llm_gen_ask *a, struct fm_buf *b);
/* The reviewer's system message; the user message holds the summary, the proposal (compact
 * JSON text) and the checks' report (notes may be NULL). */
void llm_prompt_reviewer_system(struct fm_buf *b);
void llm_prompt_reviewer_user(const char *summary,
                              const char *proposal_json,
                              size_t n_variants,
                              size_t n_packets,
                              const struct llm_findings *notes,
                              struct fm_buf *b);

/* Read a reply's content as one JSON object. Leading and trailing white space is ignored and
 * a Markdown fence (```json ... ```) around the object is stripped (*fenced is set: say so in
 * the transcript). Anything else is FM_EFORMAT with err saying what the content was, in words
 * meant for the agent: empty, prose instead of JSON, Python (or other code) instead of JSON,
 * JSON that ends early (truncated; cut says the server stopped at the token cap), broken
 * JSON (with the byte offset) or text after the object. On FM_OK *root holds the tree. */
FM_MUST_CHECK int llm_reply_parse(
    const char *content, size_t len, int cut, cJSON **root, int *fenced, struct fm_err *err);

#define LLM_MAX_PROBLEMS 16

struct llm_verdict {
    int approve; /* 1 only for a readable reply whose "verdict" field is exactly "APPROVE" */
    size_t n_problems;
    char problems[LLM_MAX_PROBLEMS][LLM_FINDING_LEN];
};

/* Read a reviewer's reply: {"verdict": "APPROVE"|"REVISE", "problems": [string, ...]}. Only
 * the verdict field decides; other members are ignored. An unreadable reply, a missing or
 * other verdict, or problems that are not strings give FM_EFORMAT with err saying why, and
 * *v is then a REVISE holding that reason as its one problem. */
FM_MUST_CHECK int llm_verdict_parse(
    const char *content, size_t len, int cut, struct llm_verdict *v, struct fm_err *err);

/* A prompt set for the batch study (prompts/video.json):
 *   { "format": "flowmimic.prompts", "version": 1,
 *     "prompts": [ { "name": "qos-marking", "task": "Propose variants that ..." } ] }
 * Names are unique, [A-Za-z0-9._-], at most 63 bytes; tasks are non-empty, < 2048 bytes. */
#define LLM_PROMPTS_FORMAT  "flowmimic.prompts"
#define LLM_PROMPTS_VERSION 1
#define LLM_MAX_PROMPTS     64

struct llm_prompt_item {
    char name[64];
    char task[2048];
};

struct llm_prompt_set {
    size_t n;
    struct llm_prompt_item items[LLM_MAX_PROMPTS];
};

/* Load a prompt set. FM_EIO when the file cannot be read, FM_EFORMAT naming the file, the
 * prompt and the field for anything else (broken JSON, another format, a newer version, an
 * unknown or missing field, a repeated name, no prompts). *out is written only on success. */
FM_MUST_CHECK int
llm_prompts_load(const char *path, struct llm_prompt_set *out, struct fm_err *err);
FM_MUST_CHECK int llm_prompts_parse(
    const char *text, size_t len, const char *what, struct llm_prompt_set *out, struct fm_err *err);

#endif
