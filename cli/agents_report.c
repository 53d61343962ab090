/* cli/agents_report.c - what `flowmimic agents` prints; see cli/agents_report.h. */
#include "cli/agents_report.h"
#include "cli/cli.h"
#include "cli/jw.h"

#include "common/err.h"
#include "common/log.h"

#include <stdio.h>

/* One run's summary object on stdout: outcome, error (or null), rounds, the approved
 * variants' names, the files written, the counts and tokens per second. */
static void json_summary(const struct llm_session *s,
                         const char *outcome,
                         const struct llm_agent_result *res,
                         const char *error)
{
    struct jw w;
    jw_init(&w, stdout);
    jw_obj_begin(&w, NULL);
    jw_str(&w, "outcome", outcome);
    if (error)
        jw_str(&w, "error", error);
    else
        jw_null(&w, "error");
    jw_int(&w, "rounds", res->st.rounds);
    jw_int(&w, "max_rounds", s->agent.rounds);
    if (res->approved)
        jw_int(&w, "approved_round", res->approved_round);
    else
        jw_null(&w, "approved_round");
    jw_arr_begin(&w, "variants");
    for (size_t i = 0; res->approved && i < res->proposal.n; i++)
        jw_str(&w, NULL, res->proposal.vs[i].v.name);
    jw_arr_end(&w);
    if (res->approved)
        jw_str(&w, "output", s->output);
    else
        jw_null(&w, "output");
    if (res->approved && s->trace)
        jw_str(&w, "trace", s->trace);
    else
        jw_null(&w, "trace");
    jw_str(&w, "transcript", s->transcript);
    jw_int(&w, "replies", res->st.replies);
    jw_int(&w, "parsed", res->st.parsed);
    jw_int(&w, "passed_checks", res->st.passed);
    jw_int(&w, "reviews", res->st.reviews);
    jw_int(&w, "reply_tokens", res->st.reply_tokens);
    jw_num(&w, "tokens_per_s", llm_agent_tokens_per_s(&res->st));
    jw_num(&w, "wall_s", res->st.wall_s);
    jw_obj_end(&w);
    jw_finish(&w);
    fflush(stdout);
}

/* The closing line of an approved run on stderr, escaped (names come from the LLM). */
static void approved_line(const struct llm_session *s, const struct llm_agent_result *res)
{
    char names[400] = "";
    size_t used = 0;
    for (size_t i = 0; i < res->proposal.n && used + 1 < sizeof(names); i++) {
        int n = snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
                         res->proposal.vs[i].v.name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    /* Names come from the LLM and the command line: escaped like any message. */
    char line[1024], esc[1024];
    snprintf(line, sizeof(line),
             "approved in round %u of %u: %zu variants (%s) in %s%s%s; transcript in %s",
             res->approved_round, s->agent.rounds, res->proposal.n, names, s->output,
             s->trace ? ", example packets in " : "", s->trace ? s->trace : "", s->transcript);
    fprintf(stderr, "%s\n", fm_escape(line, esc, sizeof(esc)));
}

int cli_agents_single_report(const struct llm_session *s,
                             const struct llm_session_result *res,
                             int json,
                             int quiet)
{
    const struct llm_agent_result *run = &res->run;
    if (!res->opened) {
        if (json)
            json_summary(s, "error", run, res->err.msg);
        fm_log_error("%s", res->err.msg);
        return CLI_EXIT_RUNTIME;
    }
    if (json)
        json_summary(s, res->save.code ? "error" : llm_outcome_name(res->outcome), run,
                     res->save.code ? res->save.msg
                     : res->rc < 0  ? res->err.msg
                                    : NULL);
    if (res->transcript.code) {
        fm_log_error("%s", res->transcript.msg);
    } else if (res->outcome == LLM_OUTCOME_INTERRUPTED) {
        fm_log_error("interrupted in round %u: no variants written; transcript so far in %s",
                     run->st.rounds, s->transcript);
        return CLI_EXIT_INTR;
    } else if (res->rc < 0) {
        fm_log_error("%s", res->err.msg);
    } else if (res->save.code) {
        fm_log_error("%s", res->save.msg);
    } else if (!run->approved) {
        fm_log_error("no variant approved after %u round%s; see %s", s->agent.rounds,
                     s->agent.rounds == 1 ? "" : "s", s->transcript);
    } else {
        if (!quiet)
            approved_line(s, run);
        return CLI_EXIT_OK;
    }
    return CLI_EXIT_RUNTIME;
}

/* The progress line, rewritten in place. */
static void progress_line(const struct llm_study_step *step, const char *model)
{
    char m[64], prompt[64];
    fprintf(stderr, "\r\033[Krun %u/%u: %s, %s #%u: %s", step->done, step->total,
            fm_escape(model, m, sizeof(m)), fm_escape(step->prompt, prompt, sizeof(prompt)),
            step->repeat, step->outcome);
}

/* A run's line: to stdout at once, or kept for -o; and the progress line. */
static void batch_run(void *arg, const struct llm_study_step *step)
{
    struct cli_agents_batch *b = arg;
    if (b->output) {
        fm_buf_printf(&b->lines, "%s\n", step->record);
    } else {
        printf("%s\n", step->record);
        fflush(stdout);
    }
    if (b->tty)
        progress_line(step, b->models[step->model]);
}

static void batch_model_failed(void *arg, size_t model, const struct fm_err *why)
{
    (void)arg;
    (void)model;
    fm_log_warn("%s", why->msg);
}

void cli_agents_batch_init(struct cli_agents_batch *b,
                           const char *output,
                           const char *const *models,
                           int tty,
                           struct llm_study_cb *cb)
{
    b->output = output;
    b->models = models;
    fm_buf_init(&b->lines);
    b->tty = tty;
    cb->run = batch_run;
    cb->model_failed = batch_model_failed;
    cb->arg = b;
}

void cli_agents_batch_fini(struct cli_agents_batch *b)
{
    fm_buf_fini(&b->lines);
}

void cli_agents_progress_done(void)
{
    fprintf(stderr, "\r\033[K");
}

void cli_agents_table(const char *const *models, size_t n, const struct llm_study_tally *ty)
{
    fprintf(stderr, "\n%-24s %5s %6s %9s %9s %10s %9s %7s %9s\n", "model", "runs", "errors",
            "parsed", "passed", "approved", "variants", "rounds", "tokens/s");
    for (size_t i = 0; i < n; i++) {
        const struct llm_study_tally *t = &ty[i];
        char parsed[24];
        char passed[24];
        char approved[24];
        char tps[24];
        snprintf(parsed, sizeof(parsed), "%u/%u", t->parsed, t->replies);
        snprintf(passed, sizeof(passed), "%u/%u", t->passed, t->parsed);
        snprintf(approved, sizeof(approved), "%u/%u", t->approved_runs, t->runs);
        if (t->gen_s > 0)
            snprintf(tps, sizeof(tps), "%9.1f", (double)t->tokens / t->gen_s);
        else
            snprintf(tps, sizeof(tps), "%9s", "-");
        char model[64];
        fprintf(stderr, "%-24s %5u %6u %9s %9s %10s %9zu %7.2f %s\n",
                fm_escape(models[i], model, sizeof(model)), t->runs, t->errors, parsed, passed,
                approved, t->approved_variants, t->runs ? (double)t->rounds / t->runs : 0.0, tps);
    }
    fprintf(stderr, "parsed: generator replies that were a JSON object; passed: proposals that "
                    "passed every check;\napproved: runs the reviewer approved; variants: "
                    "variants approved; rounds: mean per run\n");
}
