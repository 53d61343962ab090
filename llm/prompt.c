/* llm/prompt.c - model summaries, prompts, reply schemas and reply parsing for the agents.
 * The prompts are short and literal because the default model is a 3B one: the rules come
 * as a list, the example packets as the very JSON the reply should contain, and every limit
 * the deterministic checks apply (ranges, MTU, plausibility) is spelled out with its number,
 * so that a proposal can pass on the first round. */
#include "llm/prompt.h"

#include "common/file.h"
#include "models/draw.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- model summary ---- */

/* Mean of a length mixture, ignoring truncation (a summary figure, not a statistic). */
static double mixture_mean(const struct mdl_mixture *m)
{
    double s = 0.0;
    for (size_t i = 0; i < m->n_atoms; i++)
        s += m->atoms[i].weight * m->atoms[i].value;
    for (unsigned j = 0; j < m->k; j++) {
        double mean = m->comps[j].mean;
        if (m->scale == MDL_SCALE_LOG)
            mean = exp(mean + 0.5 * m->comps[j].sd * m->comps[j].sd);
        s += m->comps[j].weight * mean;
    }
    return s;
}

static void summary_lengths(const struct mdl_mixture *m, struct fm_buf *b)
{
    fm_buf_printf(b,
                  "payload_length (bytes, UDP payload with the RTP header): min %.0f, max %.0f, "
                  "mean %.0f\n",
                  m->min, m->max, mixture_mean(m));
    for (size_t i = 0; i < m->n_atoms; i++)
        fm_buf_printf(b, "  %4.1f%% exactly %.0f bytes\n", 100.0 * m->atoms[i].weight,
                      m->atoms[i].value);
    for (unsigned j = 0; j < m->k; j++)
        fm_buf_printf(b, "  %4.1f%% around %.0f bytes (sd %.0f)\n", 100.0 * m->comps[j].weight,
                      m->comps[j].mean, m->comps[j].sd);
}

static void summary_gaps(const struct mdl_mixture *m, struct fm_buf *b)
{
    fm_buf_printf(b, "gap_ms (time between packets): min %.4g, max %.4g, mean %.4g\n",
                  m->min * 1000.0, m->max * 1000.0, mixture_mean(m) * 1000.0);
    for (size_t i = 0; i < m->n_atoms; i++)
        fm_buf_printf(b, "  %4.1f%% exactly %.4g ms\n", 100.0 * m->atoms[i].weight,
                      m->atoms[i].value * 1000.0);
    for (unsigned j = 0; j < m->k; j++) {
        const struct mdl_comp *c = &m->comps[j];
        if (m->scale == MDL_SCALE_LOG)
            fm_buf_printf(b, "  %4.1f%% around %.4g ms (90%% between %.4g and %.4g ms)\n",
                          100.0 * c->weight, exp(c->mean) * 1000.0,
                          exp(c->mean - 1.645 * c->sd) * 1000.0,
                          exp(c->mean + 1.645 * c->sd) * 1000.0);
        else
            fm_buf_printf(b, "  %4.1f%% around %.4g ms (sd %.4g ms)\n", 100.0 * c->weight,
                          c->mean * 1000.0, c->sd * 1000.0);
    }
}

/* States listed by name in a summary; the rest are counted together. */
#define SUMMARY_STATES 6

/* The sequence model in a few lines: the states (largest first), how long a state lasts, the
 * chain's memory and, on a video side whose states carry the RTP marker, the frames. The
 * persistence is the chain's own: P(state i follows state i) from the histories of one state
 * (the order-0 shares when the chain has no memory), averaged over the states by share, and
 * the mean run of one state that follows from it, 1 / sum share_i (1 - p_ii). */
static void summary_sequence(const struct mdl_side *s, struct fm_buf *b)
{
    const struct mdl_seq *q = &s->seq;
    uint64_t total = 0;
    for (unsigned i = 0; i < q->k; i++)
        total += q->states[i].n;
    if (total == 0)
        return;
    if (q->order == 0)
        fm_buf_printf(b,
                      "sequence (packets follow each other as a chain of %u states, each "
                      "state drawn without regard to the last):\n",
                      q->k);
    else
        fm_buf_printf(b,
                      "sequence (packets follow each other as a chain of %u states, each state "
                      "drawn given the last %s):\n",
                      q->k,
                      q->order == 1   ? "state"
                      : q->order == 2 ? "2 states"
                                      : "3 states");
    unsigned shown[MDL_SEQ_MAX_STATES];
    unsigned ns = 0;
    /* The largest states first: a selection sort over at most 16. */
    uint8_t used[MDL_SEQ_MAX_STATES] = {0};
    for (unsigned r = 0; r < q->k && ns < SUMMARY_STATES; r++) {
        unsigned best = q->k;
        for (unsigned i = 0; i < q->k; i++) {
            if (!used[i] && (best == q->k || q->states[i].n > q->states[best].n))
                best = i;
        }
        used[best] = 1;
        shown[ns++] = best;
    }
    uint64_t rest = total;
    for (unsigned j = 0; j < ns; j++) {
        const struct mdl_seq_state *x = &q->states[shown[j]];
        rest -= x->n;
        fm_buf_printf(b,
                      "  state %u: %4.1f%% of packets, about %.0f bytes, %.4g ms after the "
                      "previous packet%s\n",
                      shown[j], 100.0 * (double)x->n / (double)total,
                      mdl_seq_dist_quantile(&x->len, 0.5),
                      mdl_seq_dist_quantile(&x->gap, 0.5) / 1e6, x->marker ? ", ends a frame" : "");
    }
    if (ns < q->k)
        fm_buf_printf(b, "  %u more states: %4.1f%% of packets\n", q->k - ns,
                      100.0 * (double)rest / (double)total);
    double self = 0.0, leave = 0.0, marked = 0.0;
    for (unsigned i = 0; i < q->k; i++) {
        uint8_t h = (uint8_t)i;
        const struct mdl_seq_ctx *c = mdl_seq_find_ctx(q, &h, 1);
        double share = (double)q->states[i].n / (double)total;
        self += share * c->p[i];
        leave += share * (1.0 - c->p[i]);
        marked += q->states[i].marker ? share : 0.0;
    }
    fm_buf_printf(b, "  persistence: a state follows itself with probability %.2f on average",
                  self);
    if (leave > 0.0)
        fm_buf_printf(b, " (runs of %.1f packets of one state)", 1.0 / leave);
    fm_buf_printf(b, "\n");
    if (q->frames && marked > 0.0 && s->duration_s > 0.0)
        fm_buf_printf(b,
                      "  frames: %.1f per second, %.1f packets per frame (RTP video: a frame's "
                      "last packet carries the marker)\n",
                      marked * (double)s->packets / s->duration_s, 1.0 / marked);
}

void llm_model_summary(const struct mdl_model *m, enum mdl_side_id side, struct fm_buf *b)
{
    const struct mdl_side *s = &m->sides[side];
    const struct mdl_endpoint *from = side == MDL_SIDE_LOCAL ? &m->local : &m->remote;
    const struct mdl_endpoint *to = side == MDL_SIDE_LOCAL ? &m->remote : &m->local;
    fm_buf_printf(b, "flow: %s from %s port %u to %s port %u (the %s side of the capture %s)\n",
                  m->proto, from->ip, (unsigned)from->port, to->ip, (unsigned)to->port,
                  side == MDL_SIDE_LOCAL ? "local" : "remote", m->capture);
    if (!s->present) {
        fm_buf_printf(b, "this side sent no packets\n");
        return;
    }
    double pps = s->duration_s > 0.0 ? (double)s->packets / s->duration_s : 0.0;
    fm_buf_printf(b, "packets: %llu over %.1f s (%.1f packets/s", (unsigned long long)s->packets,
                  s->duration_s, pps);
    if (s->has_payload)
        fm_buf_printf(b, ", %.0f kbit/s of payload", mixture_mean(&s->payload) * pps * 8.0 / 1e3);
    fm_buf_printf(b, ")\nheaders: ttl %d, dscp %d", s->headers.ttl, s->headers.dscp);
    if (s->headers.rtp)
        fm_buf_printf(b, ", RTP payload type %d, marker on %.0f%% of packets",
                      s->headers.rtp_payload_type, 100.0 * s->headers.rtp_marker_ratio);
    else
        fm_buf_printf(b, ", not RTP");
    fm_buf_printf(b, "\n");
    if (s->has_payload)
        summary_lengths(&s->payload, b);
    else
        fm_buf_printf(b, "payload_length: no model (%s)\n", s->note);
    if (s->has_iat)
        summary_gaps(&s->iat, b);
    else
        fm_buf_printf(b, "gap_ms: no model (%s)\n", s->note);
    if (s->has_seq)
        summary_sequence(s, b);
}

void llm_examples_draw(const struct mdl_side *s,
                       struct fm_rng *r,
                       size_t n,
                       struct llm_example *out)
{
    /* One packet more than asked: the first of a series has no gap before it, so the
     * examples are packets 1..n, each with the gap that led to it. */
    double len[LLM_MAX_PACKETS + 1];
    double gap_s[LLM_MAX_PACKETS];
    size_t m = n;
    if (m > LLM_MAX_PACKETS)
        m = LLM_MAX_PACKETS;
    mdl_side_draw_series(s, MDL_DRAW_AUTO, r, m + 1, len, gap_s);
    for (size_t i = 0; i < m; i++) {
        out[i].payload_length = isfinite(len[i + 1]) ? lround(len[i + 1]) : -1;
        /* Gaps in ms rounded to the microsecond: what a person would write, and still within
         * the model's tick of 1 us for captures. */
        out[i].gap_ms = isfinite(gap_s[i]) ? round(gap_s[i] * 1e6) / 1000.0 : -1.0;
    }
}

/* ---- schemas ---- */

/* A property of a type with optional bounds (NAN: none). */
static cJSON *prop(cJSON *props, const char *name, const char *type, double lo, double hi)
{
    cJSON *p = cJSON_AddObjectToObject(props, name);
    if (!p)
        return NULL;
    cJSON_AddStringToObject(p, "type", type);
    if (isfinite(lo))
        cJSON_AddNumberToObject(p, "minimum", lo);
    if (isfinite(hi))
        cJSON_AddNumberToObject(p, "maximum", hi);
    return p;
}

/* A change: a number in [lo, hi], or null to keep the model's value. Every change is
 * required and nullable rather than optional, because OpenAI's strict structured outputs
 * require every property; Ollama's grammar takes the same schema. */
static void change(cJSON *props, const char *name, const char *type, double lo, double hi)
{
    cJSON *p = cJSON_AddObjectToObject(props, name);
    if (!p)
        return;
    const char *types[2] = {type, "null"};
    cJSON_AddItemToObject(p, "type", cJSON_CreateStringArray(types, 2));
    if (isfinite(lo))
        cJSON_AddNumberToObject(p, "minimum", lo);
    if (isfinite(hi))
        cJSON_AddNumberToObject(p, "maximum", hi);
}

static void strict_object(cJSON *o, const char *const *required)
{
    cJSON_AddStringToObject(o, "type", "object");
    cJSON *req = cJSON_AddArrayToObject(o, "required");
    for (const char *const *r = required; req && *r; r++)
        cJSON_AddItemToArray(req, cJSON_CreateString(*r));
    cJSON_AddBoolToObject(o, "additionalProperties", 0);
}

static char *print_and_free(cJSON *root)
{
    char *text = cJSON_PrintUnformatted(root);
    char *out = text ? strdup(text) : NULL;
    cJSON_free(text);
    cJSON_Delete(root);
    return out;
}

char *llm_schema_generator(size_t n_variants, size_t n_packets, long max_payload)
{
    static const char *const root_req[] = {"variants", NULL};
    static const char *const var_req[] = {"name", "rationale", "changes", "packets", NULL};
    static const char *const changes_req[] = {
        "dscp",          "ttl",           "src_port",   "dst_port", "rtp_payload_type",
        "payload_scale", "payload_shift", "rate_scale", NULL,
    };
    static const char *const pkt_req[] = {"payload_length", "gap_ms", NULL};
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    /* Each Add* below returns NULL when out of memory and then the rest adds to nothing;
     * the final print fails or the schema is incomplete, so check the pieces once. */
    cJSON *props = cJSON_AddObjectToObject(root, "properties");
    cJSON *vars = props ? cJSON_AddObjectToObject(props, "variants") : NULL;
    cJSON *item = vars ? cJSON_AddObjectToObject(vars, "items") : NULL;
    cJSON *vprops = item ? cJSON_AddObjectToObject(item, "properties") : NULL;
    cJSON *changes = vprops ? cJSON_AddObjectToObject(vprops, "changes") : NULL;
    cJSON *cprops = changes ? cJSON_AddObjectToObject(changes, "properties") : NULL;
    cJSON *pkts = vprops ? cJSON_AddObjectToObject(vprops, "packets") : NULL;
    cJSON *pitem = pkts ? cJSON_AddObjectToObject(pkts, "items") : NULL;
    cJSON *pprops = pitem ? cJSON_AddObjectToObject(pitem, "properties") : NULL;
    if (!cprops || !pprops) {
        cJSON_Delete(root);
        return NULL;
    }
    strict_object(root, root_req);
    cJSON_AddStringToObject(vars, "type", "array");
    cJSON_AddNumberToObject(vars, "minItems", (double)n_variants);
    cJSON_AddNumberToObject(vars, "maxItems", (double)n_variants);
    strict_object(item, var_req);
    prop(vprops, "name", "string", (double)NAN, (double)NAN);
    prop(vprops, "rationale", "string", (double)NAN, (double)NAN);
    strict_object(changes, changes_req);
    change(cprops, "dscp", "integer", 0, 63);
    change(cprops, "ttl", "integer", 1, 255);
    change(cprops, "src_port", "integer", 1, 65535);
    change(cprops, "dst_port", "integer", 1, 65535);
    change(cprops, "rtp_payload_type", "integer", 0, 127);
    change(cprops, "payload_scale", "number", 1e-3, 1e3);
    change(cprops, "payload_shift", "number", -65507, 65507);
    change(cprops, "rate_scale", "number", 1e-3, 1e3);
    cJSON_AddStringToObject(pkts, "type", "array");
    cJSON_AddNumberToObject(pkts, "minItems", (double)n_packets);
    cJSON_AddNumberToObject(pkts, "maxItems", (double)n_packets);
    strict_object(pitem, pkt_req);
    prop(pprops, "payload_length", "integer", 0, (double)max_payload);
    prop(pprops, "gap_ms", "number", 0, (double)NAN);
    return print_and_free(root);
}

char *llm_schema_reviewer(void)
{
    static const char *const req[] = {"verdict", "problems", NULL};
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON *props = cJSON_AddObjectToObject(root, "properties");
    cJSON *verdict = props ? prop(props, "verdict", "string", (double)NAN, (double)NAN) : NULL;
    cJSON *problems = props ? prop(props, "problems", "array", (double)NAN, (double)NAN) : NULL;
    cJSON *items = problems ? cJSON_AddObjectToObject(problems, "items") : NULL;
    cJSON *verdicts = verdict ? cJSON_AddArrayToObject(verdict, "enum") : NULL;
    if (!items || !verdicts) {
        cJSON_Delete(root);
        return NULL;
    }
    cJSON_AddItemToArray(verdicts, cJSON_CreateString("APPROVE"));
    cJSON_AddItemToArray(verdicts, cJSON_CreateString("REVISE"));
    cJSON_AddStringToObject(items, "type", "string");
    strict_object(root, req);
    return print_and_free(root);
}

/* ---- prompts ---- */

const char *const llm_default_task =
    "Propose variations of this video flow that a network QA engineer would play to test a "
    "network: QoS marking (DSCP), path length (TTL), other ports or RTP payload types, and "
    "larger, smaller, faster or slower streams. Make each variant test one clear thing.";

void llm_prompt_generator_system(const struct llm_gen_ask *a, struct fm_buf *b)
{
    fm_buf_printf(
        b,
        "You are the generator in a pair of agents that design test variations of a captured "
        "UDP video flow. A statistical model of the flow is given; you propose variants of it, "
        "then automatic checks and a reviewer judge them.\n"
        "Reply with one JSON object and nothing else: no prose, no code, no Markdown.\n"
        "{\"variants\": [{\"name\": \"...\", \"rationale\": \"...\", \"changes\": {...}, "
        "\"packets\": [{\"payload_length\": 0, \"gap_ms\": 0.0}]}]}\n"
        "Rules:\n"
        "- exactly %zu variants, each with exactly %zu packets\n"
        "- name: short and unique; letters, digits, '-', '_' or '.'; e.g. \"ef-marked\"\n"
        "- rationale: one sentence saying what the variant tests\n"
        "- changes: a value for each field the variant changes and null for the others: dscp "
        "(0-63), ttl (1-255), "
        "src_port and dst_port (1-65535), rtp_payload_type (0-127), payload_scale (0.001-1000, "
        "multiplies every payload length), payload_shift (bytes added to every payload length) "
        "and rate_scale (0.001-1000, multiplies the packet rate, so it divides every gap)\n"
        "- packets: example packets of the variant: payload_length in bytes after "
        "payload_scale and payload_shift, gap_ms in milliseconds after rate_scale. Derive them "
        "from the model's packets below: payload_length = round(length * payload_scale + "
        "payload_shift), gap_ms = gap / rate_scale. Packets far from what the model sends are "
        "rejected.\n"
        "- the largest payload of the model after payload_scale and payload_shift must stay at "
        "most %ld bytes (a %d-byte MTU)\n",
        a->n_variants, a->n_packets, a->max_payload, a->mtu);
}

void llm_prompt_generator_user(const struct llm_gen_ask *a, struct fm_buf *b)
{
    fm_buf_printf(b, "Task: %s\n\nModel of the flow:\n%s\nPackets drawn from the model:\n[",
                  a->task ? a->task : llm_default_task, a->summary);
    for (size_t i = 0; i < a->n_examples; i++)
        fm_buf_printf(b, "%s{\"payload_length\": %ld, \"gap_ms\": %.3f}", i ? ", " : "",
                      a->examples[i].payload_length, a->examples[i].gap_ms);
    fm_buf_printf(b, "]\n\nPropose %zu variants with %zu example packets each.\n", a->n_variants,
                  a->n_packets);
}

void llm_prompt_reviewer_system(struct fm_buf *b)
{
    fm_buf_printf(
        b, "You are the reviewer in a pair of agents that design test variations of a captured "
           "UDP video flow. Automatic checks have already verified the schema, the field "
           "ranges, the MTU and that every example packet is statistically plausible under the "
           "model. Judge what they cannot: does each variant test one clear, distinct thing on a "
           "network, does its rationale match its changes, and do its example packets show "
           "those changes?\n"
           "Reply with one JSON object and nothing else: "
           "{\"verdict\": \"APPROVE\" or \"REVISE\", \"problems\": [\"...\"]}. "
           "Use APPROVE when every variant is acceptable (problems may then be empty); use "
           "REVISE with concrete problems the generator can fix otherwise.\n");
}

void llm_prompt_reviewer_user(const char *summary,
                              const char *proposal_json,
                              size_t n_variants,
                              size_t n_packets,
                              const struct llm_findings *notes,
                              struct fm_buf *b)
{
    fm_buf_printf(b,
                  "Model of the flow:\n%s\nProposal:\n%s\n\nAutomatic checks: all passed "
                  "(%zu variants, %zu example packets each).\n",
                  summary, proposal_json, n_variants, n_packets);
    for (size_t i = 0; notes && i < notes->n; i++)
        fm_buf_printf(b, "Note: %s\n", notes->msg[i]);
    fm_buf_printf(b, "Give your verdict.\n");
}

/* ---- reading replies ---- */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Does the text read like program code rather than data or prose? The study behind issue 4
 * found models writing Python that would print packets; these are its telltale openings. */
static int looks_like_code(const char *s, size_t len)
{
    static const char *const marks[] = {
        "import ",  "def ",      "print(", "for i in", "random.", "```python", "```py",
        "#include", "function ", "const ", "let ",     "scapy",   NULL,
    };
    for (const char *const *m = marks; *m; m++) {
        size_t ml = strlen(*m);
        for (size_t i = 0; i + ml <= len; i++) {
            if (memcmp(s + i, *m, ml) == 0)
                return 1;
        }
    }
    return 0;
}

/* The first few characters of s, printable, for a message. */
static void excerpt(const char *s, size_t len, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 4 < size && i < 40; i++)
        out[o++] = isprint((unsigned char)s[i]) ? s[i] : ' ';
    if (len > 40 && o + 4 < size) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* Does s end inside a string or an open object or array? Then the JSON was cut short rather
 * than broken (cJSON's error position points at the start of the unfinished value). */
static int unfinished(const char *s, size_t n)
{
    long depth = 0;
    int in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return in_str || depth > 0;
}

int llm_reply_parse(
    const char *content, size_t len, int cut, cJSON **root, int *fenced, struct fm_err *err)
{
    const char *s = content ? content : "";
    size_t n = content ? len : 0;
    char ex[64];
    *fenced = 0;
    while (n && is_space(*s)) {
        s++;
        n--;
    }
    while (n && is_space(s[n - 1]))
        n--;
    if (n == 0)
        return fm_err_set(err, FM_EFORMAT, "the reply was empty%s",
                          cut ? " (cut at the token limit)" : "");
    const char *whole = s;
    size_t whole_n = n;
    if (n >= 3 && memcmp(s, "```", 3) == 0) {
        /* A Markdown fence: drop its first line (```json) and, when there, the closing one. */
        const char *nl = memchr(s, '\n', n);
        if (!nl)
            return fm_err_set(err, FM_EFORMAT, "the reply holds only a Markdown fence");
        *fenced = 1;
        n -= (size_t)(nl + 1 - s);
        s = nl + 1;
        if (n >= 3 && memcmp(s + n - 3, "```", 3) == 0)
            n -= 3;
        while (n && is_space(s[n - 1]))
            n--;
        while (n && is_space(*s)) {
            s++;
            n--;
        }
    }
    if (n == 0 || *s != '{') {
        excerpt(whole, whole_n, ex, sizeof(ex));
        if (looks_like_code(whole, whole_n))
            return fm_err_set(err, FM_EFORMAT,
                              "the reply is program code, not JSON: write the packets as JSON "
                              "data, not a program that makes them (it began '%s')",
                              ex);
        return fm_err_set(err, FM_EFORMAT,
                          "the reply is prose, not a JSON object (it began '%s'); reply with "
                          "the JSON object only",
                          ex);
    }
    const char *end = NULL;
    cJSON *tree = cJSON_ParseWithLengthOpts(s, n, &end, 0);
    if (!tree) {
        size_t off = end && end >= s ? (size_t)(end - s) : 0;
        if (off + 1 >= n || cut || unfinished(s, n))
            return fm_err_set(err, FM_EFORMAT,
                              "the JSON ends early after %zu bytes (truncated%s); give a "
                              "shorter, complete object",
                              n, cut ? ": the server stopped at the token limit" : "");
        excerpt(s + off, n - off, ex, sizeof(ex));
        return fm_err_set(err, FM_EFORMAT, "the reply is not valid JSON near byte %zu ('%s')", off,
                          ex);
    }
    size_t used = end && end >= s ? (size_t)(end - s) : n;
    while (used < n && is_space(s[used]))
        used++;
    if (used < n) {
        cJSON_Delete(tree);
        excerpt(s + used, n - used, ex, sizeof(ex));
        return fm_err_set(err, FM_EFORMAT,
                          "the reply has text after the JSON object ('%s'); reply with the "
                          "object only",
                          ex);
    }
    *root = tree;
    return FM_OK;
}

static void verdict_revise(struct llm_verdict *v, const char *why)
{
    v->approve = 0;
    v->n_problems = 1;
    snprintf(v->problems[0], sizeof(v->problems[0]), "%s", why);
}

int llm_verdict_parse(
    const char *content, size_t len, int cut, struct llm_verdict *v, struct fm_err *err)
{
    cJSON *root = NULL;
    int fenced = 0;
    int rc = llm_reply_parse(content, len, cut, &root, &fenced, err);
    memset(v, 0, sizeof(*v));
    if (rc < 0) {
        char why[FM_ERR_LEN + 40];
        snprintf(why, sizeof(why), "the reviewer's reply could not be read: %s",
                 err ? err->msg : "not JSON");
        verdict_revise(v, why);
        return rc;
    }
    const cJSON *verdict = cJSON_GetObjectItemCaseSensitive(root, "verdict");
    const cJSON *problems = cJSON_GetObjectItemCaseSensitive(root, "problems");
    if (!cJSON_IsObject(root) || !cJSON_IsString(verdict) || !verdict->valuestring) {
        rc = fm_err_set(err, FM_EFORMAT, "the reviewer's reply has no \"verdict\" string");
        verdict_revise(v, err ? err->msg : "no verdict");
        goto out;
    }
    int approve = strcmp(verdict->valuestring, "APPROVE") == 0;
    if (!approve && strcmp(verdict->valuestring, "REVISE") != 0) {
        rc = fm_err_set(err, FM_EFORMAT,
                        "the reviewer's verdict is '%.40s', not \"APPROVE\" or \"REVISE\"",
                        verdict->valuestring);
        verdict_revise(v, err ? err->msg : "bad verdict");
        goto out;
    }
    if (problems && !cJSON_IsNull(problems) && !cJSON_IsArray(problems)) {
        rc = fm_err_set(err, FM_EFORMAT, "the reviewer's \"problems\" is not an array of strings");
        verdict_revise(v, err ? err->msg : "bad problems");
        goto out;
    }
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, problems)
    {
        if (!cJSON_IsString(it) || !it->valuestring) {
            rc = fm_err_set(err, FM_EFORMAT,
                            "the reviewer's \"problems\" is not an array of strings");
            verdict_revise(v, err ? err->msg : "bad problems");
            goto out;
        }
        if (v->n_problems < LLM_MAX_PROBLEMS)
            snprintf(v->problems[v->n_problems++], sizeof(v->problems[0]), "%s", it->valuestring);
    }
    v->approve = approve;
out:
    cJSON_Delete(root);
    return rc;
}

/* ---- prompt sets ---- */

#define MAX_PROMPTS_BYTES (1u << 20)

static int prompt_item(
    const cJSON *o, size_t i, const char *what, struct llm_prompt_set *set, struct fm_err *err)
{
    struct llm_prompt_item *it = &set->items[i];
    if (!cJSON_IsObject(o))
        return fm_err_set(err, FM_EFORMAT, "%s: prompt %zu must be an object", what, i);
    const cJSON *m = NULL;
    cJSON_ArrayForEach(m, o)
    {
        if (!m->string || (strcmp(m->string, "name") != 0 && strcmp(m->string, "task") != 0))
            return fm_err_set(err, FM_EFORMAT,
                              "%s: prompt %zu: field '%.40s' is not a known field (name, task)",
                              what, i, m->string ? m->string : "?");
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    const cJSON *task = cJSON_GetObjectItemCaseSensitive(o, "task");
    if (!cJSON_IsString(name) || !name->valuestring ||
        strlen(name->valuestring) >= sizeof(it->name) || !llm_name_usable(name->valuestring))
        return fm_err_set(err, FM_EFORMAT,
                          "%s: prompt %zu: field 'name' must be a string of letters, digits, "
                          "'.', '_' or '-' (at most 63)",
                          what, i);
    snprintf(it->name, sizeof(it->name), "%s", name->valuestring);
    if (!cJSON_IsString(task) || !task->valuestring || !task->valuestring[0] ||
        strlen(task->valuestring) >= sizeof(it->task))
        return fm_err_set(err, FM_EFORMAT,
                          "%s: prompt %zu ('%s'): field 'task' must be a non-empty string of "
                          "at most %zu bytes",
                          what, i, it->name, sizeof(it->task) - 1);
    snprintf(it->task, sizeof(it->task), "%s", task->valuestring);
    for (size_t j = 0; j < i; j++) {
        if (strcmp(set->items[j].name, it->name) == 0)
            return fm_err_set(err, FM_EFORMAT, "%s: prompt %zu: name '%s' repeats prompt %zu's",
                              what, i, it->name, j);
    }
    return FM_OK;
}

int llm_prompts_parse(
    const char *text, size_t len, const char *what, struct llm_prompt_set *out, struct fm_err *err)
{
    struct llm_prompt_set *set = NULL;
    int rc = FM_OK;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root)
        return fm_err_set(err, FM_EFORMAT, "%s: not valid JSON (near byte %zu)", what,
                          end && end >= text ? (size_t)(end - text) : (size_t)0);
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "prompts");
    if (!cJSON_IsObject(root) || !cJSON_IsString(fmt) ||
        strcmp(fmt->valuestring, LLM_PROMPTS_FORMAT) != 0) {
        rc = fm_err_set(err, FM_EFORMAT, "%s: not a flowmimic prompt set (format must be \"%s\")",
                        what, LLM_PROMPTS_FORMAT);
        goto out;
    }
    if (!cJSON_IsNumber(ver) || ver->valuedouble != LLM_PROMPTS_VERSION) {
        rc = fm_err_set(err, FM_EFORMAT, "%s: version must be %d", what, LLM_PROMPTS_VERSION);
        goto out;
    }
    const cJSON *m = NULL;
    cJSON_ArrayForEach(m, root)
    {
        if (!m->string || (strcmp(m->string, "format") != 0 && strcmp(m->string, "version") != 0 &&
                           strcmp(m->string, "prompts") != 0)) {
            rc = fm_err_set(err, FM_EFORMAT, "%s: field '%.40s' is not a known field", what,
                            m->string ? m->string : "?");
            goto out;
        }
    }
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) < 1 ||
        cJSON_GetArraySize(list) > LLM_MAX_PROMPTS) {
        rc = fm_err_set(err, FM_EFORMAT, "%s: field 'prompts' must be an array of 1 to %d prompts",
                        what, LLM_MAX_PROMPTS);
        goto out;
    }
    set = calloc(1, sizeof(*set));
    if (!set) {
        rc = fm_err_set(err, FM_ENOMEM, "%s", what);
        goto out;
    }
    const cJSON *o = NULL;
    cJSON_ArrayForEach(o, list)
    {
        rc = prompt_item(o, set->n, what, set, err);
        if (rc < 0)
            goto out;
        set->n++;
    }
    *out = *set;
out:
    free(set);
    cJSON_Delete(root);
    return rc;
}

int llm_prompts_load(const char *path, struct llm_prompt_set *out, struct fm_err *err)
{
    char *buf = NULL;
    size_t size = 0;
    char what[300];
    int rc = fm_file_read_all(path, MAX_PROMPTS_BYTES, "prompt set", &buf, &size, err);
    if (rc < 0)
        return rc;
    snprintf(what, sizeof(what), "prompt set '%s'", path);
    rc = llm_prompts_parse(buf, size, what, out, err);
    free(buf);
    return rc;
}
