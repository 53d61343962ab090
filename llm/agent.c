/* llm/agent.c - the generator/reviewer loop; see llm/agent.h.
 * The generator's conversation is kept short on purpose: its system message, the first
 * request, its previous reply and the feedback on it. A 3B model with a 2048- or 4096-token
 * context would lose the instructions if every round were kept. The reviewer is asked afresh
 * each round and sees only proposals that passed the deterministic checks: there is nothing
 * for it to judge in a reply that is not JSON or breaks a range, and skipping it halves the
 * cost of the (common) failed rounds. */
#include "llm/agent.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The previous reply goes back to the generator only up to this size: a runaway reply would
 * otherwise fill the context of every later round. */
#define LAST_REPLY_MAX 16384

void llm_agent_opts_init(struct llm_agent_opts *o)
{
    memset(o, 0, sizeof(*o));
    llm_check_opts_init(&o->check);
    o->rounds = LLM_DEFAULT_ROUNDS;
    o->seed = 1;
}

struct run {
    const struct mdl_model *m;
    const struct llm_agent_opts *o;
    const struct llm_agent_live *live;
    struct fm_buf *tr;
    struct llm_agent_result *res;
    struct fm_buf summary;
    struct fm_buf gen_sys;
    struct fm_buf gen_user;
    struct fm_buf rev_sys;
    struct fm_buf last_reply; /* the generator's previous reply, as it goes back to it */
    struct fm_buf feedback;   /* what the generator is told next round */
    struct fm_buf rev_note;   /* what the reviewer is told next round, or "" */
    char *gen_schema;
    char *rev_schema;
    struct llm_proposal *prop; /* scratch for the proposal being checked */
    size_t streamed;           /* bytes shown live during the current request */
    char last_char;            /* last character shown live */
    int rev_sys_shown;         /* the reviewer's system message is in the transcript */
};

/* Text for the live view only. */
static void show(struct run *r, const char *text, size_t len)
{
    if (!r->live || !r->live->fn || !len)
        return;
    r->live->fn(r->live->arg, text, len);
    r->last_char = text[len - 1];
}

/* Text for the transcript and the live view. */
static void say(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        char *s = malloc((size_t)n + 1);
        if (s) {
            va_start(ap, fmt);
            vsnprintf(s, (size_t)n + 1, fmt, ap);
            va_end(ap);
            fm_buf_add(r->tr, s, (size_t)n);
            show(r, s, (size_t)n);
            free(s);
        } else {
            r->tr->oom = 1;
        }
    }
}

static void on_stream(void *arg, const char *text, size_t len)
{
    struct run *r = arg;
    r->streamed += len;
    show(r, text, len);
}

/* One request. The reply text goes to the transcript under a heading; the live view saw it
 * stream in (or sees it now, when the server did not stream). Client errors are returned. */
static int chat(struct run *r,
                struct llm_client *c,
                const char *who,
                const struct llm_message *msgs,
                size_t n,
                const char *schema,
                struct llm_reply *reply,
                struct fm_err *err)
{
    struct llm_stream_cb cb = {on_stream, r};
    r->streamed = 0;
    show(r, "--- ", 4);
    show(r, who, strlen(who));
    show(r, " (streaming) ---\n", 17);
    memset(reply, 0, sizeof(*reply));
    int rc = llm_client_chat(c, msgs, n, schema, &cb, reply, err);
    if (r->streamed && r->last_char != '\n')
        show(r, "\n", 1);
    if (rc < 0)
        return rc;
    struct llm_agent_stats *st = &r->res->st;
    if (reply->reply_tokens > 0)
        st->reply_tokens += reply->reply_tokens;
    st->gen_s += reply->gen_s;
    st->wall_s += reply->wall_s;
    char tok[96] = "";
    if (reply->reply_tokens >= 0)
        snprintf(tok, sizeof(tok), "%ld tokens, ", reply->reply_tokens);
    const char *text = reply->content ? reply->content : "";
    size_t len = reply->content ? reply->content_len : 0;
    /* The heading and the text go to the transcript; live, the text is already there. */
    fm_buf_printf(r->tr, "--- %s (%s%.1f s%s%s) ---\n", who, tok, reply->wall_s,
                  reply->truncated ? ", cut at the token limit" : "", len == 0 ? ", empty" : "");
    fm_buf_add(r->tr, text, len);
    if (len && text[len - 1] != '\n')
        fm_buf_add(r->tr, "\n", 1);
    if (!r->streamed && len)
        show(r, text, len);
    if (len && r->last_char != '\n')
        show(r, "\n", 1);
    return FM_OK;
}

static void set_last_reply(struct run *r, const char *text, size_t len)
{
    fm_buf_fini(&r->last_reply);
    if (len > LAST_REPLY_MAX)
        fm_buf_printf(&r->last_reply, "(a reply of %zu bytes, too long to repeat here)", len);
    else if (len == 0)
        fm_buf_printf(&r->last_reply, "(no reply)");
    else
        fm_buf_add(&r->last_reply, text, len);
}

static void
feedback_list(struct run *r, const char *head, const struct llm_findings *f, const char *tail)
{
    fm_buf_fini(&r->feedback);
    fm_buf_printf(&r->feedback, "%s\n", head);
    for (size_t i = 0; i < f->n; i++)
        fm_buf_printf(&r->feedback, "- %s\n", f->msg[i]);
    if (f->dropped)
        fm_buf_printf(&r->feedback, "- and %zu more problems like these\n", f->dropped);
    fm_buf_printf(&r->feedback, "%s", tail);
}

static const char fix_tail[] =
    "Fix every problem and reply with the whole JSON object again, nothing else.";

/* The generator's turn. Returns FM_OK with *root set when its reply passed every check,
 * FM_OK with *root NULL when the round failed (feedback is set), or a client error. */
static int generator_turn(struct run *r,
                          unsigned round,
                          struct llm_client *gen,
                          cJSON **root,
                          struct llm_findings *notes,
                          struct fm_err *err)
{
    struct llm_agent_stats *st = &r->res->st;
    struct llm_reply reply;
    struct llm_message msgs[4] = {
        {"system", r->gen_sys.s},
        {"user", r->gen_user.s},
        {"assistant", r->last_reply.s},
        {"user", r->feedback.s},
    };
    size_t nmsg = round == 1 ? 2 : 4;
    *root = NULL;
    if (round == 1)
        say(r, "--- to the generator: system ---\n%s--- to the generator ---\n%s", r->gen_sys.s,
            r->gen_user.s);
    else
        say(r, "--- to the generator ---\n%s\n", r->feedback.s);
    st->rounds++;
    struct fm_err cerr = {0};
    int rc = chat(r, gen, "generator", msgs, nmsg, r->gen_schema, &reply, &cerr);
    if (rc == FM_EFORMAT) {
        /* The server's reply was malformed or too long: the model may do better next time. */
        say(r, "--- checks: no usable reply: %s ---\n", cerr.msg);
        set_last_reply(r, "", 0);
        fm_buf_fini(&r->feedback);
        fm_buf_printf(&r->feedback, "Your reply could not be used: %s. %s", cerr.msg, fix_tail);
        return FM_OK;
    }
    if (rc < 0) {
        if (err)
            *err = cerr;
        return rc;
    }
    st->replies++;
    set_last_reply(r, reply.content, reply.content_len);
    int fenced = 0;
    struct fm_err perr = {0};
    rc = llm_reply_parse(reply.content, reply.content_len, reply.truncated, root, &fenced, &perr);
    llm_reply_fini(&reply);
    if (rc < 0) {
        say(r, "--- checks: the reply is not usable: %s ---\n", perr.msg);
        fm_buf_fini(&r->feedback);
        fm_buf_printf(&r->feedback, "Your reply could not be used: %s. %s", perr.msg, fix_tail);
        return FM_OK;
    }
    st->parsed++;
    if (fenced)
        say(r, "--- checks: a Markdown ```json fence around the reply was stripped ---\n");
    struct llm_findings f;
    llm_findings_init(&f);
    size_t bad = llm_proposal_read(*root, &r->o->check, r->prop, &f);
    if (bad == 0)
        bad = llm_proposal_check(r->m, &r->o->check, r->prop, &f, notes);
    if (bad) {
        say(r, "--- checks: %zu problem%s ---\n", llm_findings_count(&f),
            llm_findings_count(&f) == 1 ? "" : "s");
        for (size_t i = 0; i < f.n; i++)
            say(r, "- %s\n", f.msg[i]);
        if (f.dropped)
            say(r, "- and %zu more\n", f.dropped);
        feedback_list(r, "Your proposal failed the automatic checks:", &f, fix_tail);
        cJSON_Delete(*root);
        *root = NULL;
        return FM_OK;
    }
    st->passed++;
    say(r,
        "--- checks: passed (%zu variants, %zu example packets each: schema, ranges, names, "
        "MTU, plausibility) ---\n",
        r->prop->n, r->o->check.n_packets);
    for (size_t i = 0; i < notes->n; i++)
        say(r, "note: %s\n", notes->msg[i]);
    return FM_OK;
}

/* The reviewer's turn on a proposal that passed the checks. Sets *approved, or the feedback
 * for the next round; returns FM_OK or a client error. */
static int reviewer_turn(struct run *r,
                         struct llm_client *rev,
                         const cJSON *root,
                         const struct llm_findings *notes,
                         int *approved,
                         struct fm_err *err)
{
    struct llm_agent_stats *st = &r->res->st;
    struct fm_buf user;
    struct llm_reply reply;
    struct llm_verdict v;
    int rc = FM_OK;
    char *json = cJSON_PrintUnformatted(root);
    *approved = 0;
    fm_buf_init(&user);
    if (!json) {
        rc = fm_err_set(err, FM_ENOMEM, "the proposal for the reviewer");
        goto out;
    }
    llm_prompt_reviewer_user(r->summary.s, json, r->prop->n, r->o->check.n_packets, notes, &user);
    if (r->rev_note.len)
        fm_buf_printf(&user, "%s\n", r->rev_note.s);
    if (user.oom) {
        rc = fm_err_set(err, FM_ENOMEM, "the reviewer's request");
        goto out;
    }
    if (!r->rev_sys_shown)
        say(r, "--- to the reviewer: system ---\n%s", r->rev_sys.s);
    r->rev_sys_shown = 1;
    say(r, "--- to the reviewer ---\n%s", user.s);
    struct llm_message msgs[2] = {{"system", r->rev_sys.s}, {"user", user.s}};
    struct fm_err cerr = {0};
    rc = chat(r, rev, "reviewer", msgs, 2, r->rev_schema, &reply, &cerr);
    fm_buf_fini(&r->rev_note);
    if (rc == FM_EFORMAT) {
        memset(&v, 0, sizeof(v));
        v.n_problems = 1;
        snprintf(v.problems[0], sizeof(v.problems[0]), "the reviewer's reply could not be read: %s",
                 cerr.msg);
        rc = FM_OK;
    } else if (rc < 0) {
        if (err)
            *err = cerr;
        goto out;
    } else {
        st->reviews++;
        struct fm_err verr = {0};
        if (llm_verdict_parse(reply.content, reply.content_len, reply.truncated, &v, &verr) == 0)
            st->verdicts++;
        else
            fm_buf_printf(&r->rev_note,
                          "Your previous reply could not be read (%s): reply with the JSON "
                          "object only.",
                          verr.msg);
        llm_reply_fini(&reply);
    }
    say(r, "--- verdict: %s ---\n", v.approve ? "APPROVE" : "REVISE");
    for (size_t i = 0; i < v.n_problems; i++)
        say(r, "- %s\n", v.problems[i]);
    if (v.approve) {
        *approved = 1;
        goto out;
    }
    struct llm_findings f;
    llm_findings_init(&f);
    for (size_t i = 0; i < v.n_problems; i++)
        llm_findings_add(&f, "%s", v.problems[i]);
    if (f.n == 0)
        llm_findings_add(&f, "the reviewer asked for a revision without saying why: make each "
                             "variant's purpose clearer");
    feedback_list(r, "The reviewer did not approve the proposal:", &f,
                  "Revise it and reply with the whole JSON object again, nothing else.");
out:
    cJSON_free(json);
    fm_buf_fini(&user);
    return rc;
}

static void run_free(struct run *r)
{
    fm_buf_fini(&r->summary);
    fm_buf_fini(&r->gen_sys);
    fm_buf_fini(&r->gen_user);
    fm_buf_fini(&r->rev_sys);
    fm_buf_fini(&r->last_reply);
    fm_buf_fini(&r->feedback);
    fm_buf_fini(&r->rev_note);
    free(r->gen_schema);
    free(r->rev_schema);
    free(r->prop);
}

/* Everything the rounds share: the summary, example packets, prompts and schemas. */
static int run_prepare(struct run *r, struct fm_err *err)
{
    const struct llm_agent_opts *o = r->o;
    struct llm_example ex[LLM_MAX_PACKETS];
    struct fm_rng *rng = fm_rng_new(o->seed);
    if (!rng)
        return fm_err_set(err, FM_ENOMEM, "random numbers for the example packets");
    size_t n_ex = o->check.n_packets < LLM_MAX_PACKETS ? o->check.n_packets : LLM_MAX_PACKETS;
    llm_examples_draw(&r->m->sides[o->check.side], rng, n_ex, ex);
    fm_rng_free(rng);
    llm_model_summary(r->m, o->check.side, &r->summary);
    struct llm_gen_ask a = {
        o->task,
        r->summary.s ? r->summary.s : "",
        ex,
        n_ex,
        o->check.n_variants,
        o->check.n_packets,
        mdl_max_udp_payload(r->m, o->check.mtu),
        o->check.mtu,
    };
    llm_prompt_generator_system(&a, &r->gen_sys);
    llm_prompt_generator_user(&a, &r->gen_user);
    llm_prompt_reviewer_system(&r->rev_sys);
    r->gen_schema = llm_schema_generator(a.n_variants, a.n_packets, a.max_payload);
    r->rev_schema = llm_schema_reviewer();
    r->prop = malloc(sizeof(*r->prop));
    if (r->summary.oom || r->gen_sys.oom || r->gen_user.oom || r->rev_sys.oom || !r->gen_schema ||
        !r->rev_schema || !r->prop)
        return fm_err_set(err, FM_ENOMEM, "the agents' prompts");
    return FM_OK;
}

int llm_agent_run(const struct mdl_model *m,
                  const struct llm_agent_opts *o,
                  struct llm_client *gen,
                  struct llm_client *rev,
                  const struct llm_agent_live *live,
                  struct fm_buf *transcript,
                  struct llm_agent_result *res,
                  struct fm_err *err)
{
    struct run r;
    memset(&r, 0, sizeof(r));
    memset(res, 0, sizeof(*res));
    r.m = m;
    r.o = o;
    r.live = live;
    r.tr = transcript;
    r.res = res;
    r.last_char = '\n';
    int rc = run_prepare(&r, err);
    unsigned cur = 0;
    for (unsigned round = 1; rc == FM_OK && round <= o->rounds && !res->approved; round++) {
        cur = round;
        if (o->stop && *o->stop) {
            rc = fm_err_set(err, FM_EINTR, "interrupted");
            break;
        }
        say(&r, "\n=== round %u of %u ===\n", round, o->rounds);
        cJSON *root = NULL;
        struct llm_findings notes;
        llm_findings_init(&notes);
        rc = generator_turn(&r, round, gen, &root, &notes, err);
        if (rc == FM_OK && root) {
            int approved = 0;
            rc = reviewer_turn(&r, rev, root, &notes, &approved, err);
            if (rc == FM_OK && approved) {
                res->approved = 1;
                res->approved_round = round;
                res->proposal = *r.prop;
            }
        }
        cJSON_Delete(root);
    }
    if (rc == FM_OK && transcript->oom)
        rc = fm_err_set(err, FM_ENOMEM, "the transcript");
    if (rc == FM_OK && res->approved)
        say(&r, "\n=== approved in round %u of %u ===\n", res->approved_round, o->rounds);
    else if (rc == FM_OK)
        say(&r, "\n=== no variant approved after %u round%s ===\n", o->rounds,
            o->rounds == 1 ? "" : "s");
    else
        say(&r, "\n=== stopped in round %u: %s ===\n", cur, err ? err->msg : "");
    run_free(&r);
    return rc;
}

double llm_agent_tokens_per_s(const struct llm_agent_stats *st)
{
    if (st->reply_tokens <= 0 || !(st->gen_s > 0.0))
        return (double)NAN;
    return (double)st->reply_tokens / st->gen_s;
}
