/* cli/agents_report.c - what `flowmimic agents` prints; see cli/agents_report.h. */
#include "cli/agents_report.h"
#include "cli/cli.h"
#include "cli/jw.h"

#include "common/err.h"
#include "common/file.h"
#include "common/log.h"
#include "common/par.h"
#include "common/time.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- the batch study under mpirun: runs shared out, rank 0 prints them in run order ---- */

/* A run made on some rank, as it travels to rank 0: this header, then the record, the run's
 * part of the transcript and the prompt's name, end to end. */
struct run_hdr {
    uint32_t run, model, repeat, error, has_open_error;
    struct llm_study_tally self;
    uint64_t rec_len, tr_len, prompt_len;
    char outcome[16];
    char open_error[256];
};

/* What a rank ends with. */
struct rank_end {
    int32_t rc, stopped;
    uint32_t done, total;
    double seconds;
    char msg[512];
};

static void rank_run(void *arg, const struct llm_study_step *st)
{
    struct fm_buf *b = arg;
    struct run_hdr h;
    memset(&h, 0, sizeof(h));
    h.run = st->run;
    h.model = (uint32_t)st->model;
    h.repeat = st->repeat;
    h.error = (uint32_t)st->error;
    h.has_open_error = st->open_error != NULL;
    h.self = *st->self;
    h.rec_len = strlen(st->record);
    h.tr_len = st->transcript_len;
    h.prompt_len = strlen(st->prompt);
    snprintf(h.outcome, sizeof(h.outcome), "%s", st->outcome);
    snprintf(h.open_error, sizeof(h.open_error), "%s", st->open_error ? st->open_error : "");
    /* A short buffer (out of memory) is found on rank 0: runs go missing, the run fails. */
    if (fm_buf_add(b, (const char *)&h, sizeof(h)) < 0 ||
        fm_buf_add(b, st->record, (size_t)h.rec_len) < 0 ||
        fm_buf_add(b, st->transcript, (size_t)h.tr_len) < 0)
        return;
    (void)fm_buf_add(b, st->prompt, (size_t)h.prompt_len);
}

/* Rank 0: the runs of every rank (all, lens) in run order through the printing callbacks,
 * tallies and transcript; returns how many runs were in order (it stops at the first one
 * missing: after it, one process would have stopped too). */
static unsigned replay_runs(const char *all,
                            const size_t *lens,
                            size_t n,
                            unsigned total,
                            const struct llm_study_cb *cb,
                            struct llm_study_result *res,
                            struct fm_buf *t)
{
    const char **at = calloc(total ? total : 1, sizeof(*at));
    size_t off = 0;
    for (size_t r = 0; at && r < n; r++) {
        size_t end = off + lens[r];
        while (off + sizeof(struct run_hdr) <= end) {
            struct run_hdr h;
            memcpy(&h, all + off, sizeof(h));
            size_t len = sizeof(h) + h.rec_len + h.tr_len + h.prompt_len;
            if (len > end - off)
                break;
            if (h.run < total)
                at[h.run] = all + off;
            off += len;
        }
        off = end;
    }
    unsigned k = 0;
    for (; at && k < total && at[k]; k++) {
        struct run_hdr h;
        memcpy(&h, at[k], sizeof(h));
        const char *rec = at[k] + sizeof(h);
        char *line = strndup(rec, h.rec_len);
        char *prompt = strndup(rec + h.rec_len + h.tr_len, h.prompt_len);
        if (!line || !prompt || fm_buf_add(t, rec + h.rec_len, h.tr_len) < 0) {
            free(line);
            free(prompt);
            break;
        }
        struct llm_study_step st = {.model = h.model,
                                    .prompt = prompt,
                                    .repeat = h.repeat,
                                    .done = k + 1,
                                    .total = total,
                                    .outcome = h.outcome,
                                    .record = line};
        cb->run(cb->arg, &st);
        llm_study_tally_merge(&res->tally[h.model], &h.self);
        res->any_error |= h.error != 0;
        res->done = k + 1;
        /* After a model's last run, as one process warns. */
        struct run_hdr next;
        memset(&next, 0, sizeof(next));
        if (k + 1 < total && at[k + 1])
            memcpy(&next, at[k + 1], sizeof(next));
        if (h.has_open_error && (k + 1 == total || !at[k + 1] || next.model != h.model)) {
            struct fm_err why = {0};
            fm_err_set(&why, FM_ENOTFOUND, "%s", h.open_error);
            cb->model_failed(cb->arg, h.model, &why);
        }
        free(line);
        free(prompt);
        /* One process stops after the run that was interrupted: so does the merge. */
        if (strcmp(h.outcome, "interrupted") == 0) {
            k++;
            break;
        }
    }
    free(at);
    return k;
}

/* Rank 0 after the runs: the transcript, the -o file, the table and the exit status, as
 * run_batch() in cmd_agents.c does for one process. */
static int finish(const struct llm_session *s,
                  const struct llm_study *st,
                  const struct rank_end *ends,
                  size_t n,
                  const char *all,
                  const size_t *lens,
                  int quiet)
{
    struct cli_agents_batch b;
    struct llm_study_cb cb;
    struct fm_buf t;
    struct fm_err err = {0};
    struct llm_study_result *res = calloc(1, sizeof(*res));
    int rc = CLI_EXIT_RUNTIME, stopped = 0;
    size_t bad = n;
    unsigned total = 0;
    cli_agents_batch_init(&b, s->output, st->models, 0, &cb);
    fm_buf_init(&t);
    for (size_t r = 0; r < n; r++) {
        total = ends[r].total > total ? ends[r].total : total;
        stopped |= ends[r].stopped;
        if (ends[r].rc < 0 && bad == n)
            bad = r;
    }
    if (!res) {
        fm_log_error("out of memory");
        goto out;
    }
    res->total = total;
    unsigned made = replay_runs(all, lens, n, total, &cb, res, &t);
    for (size_t r = 0; r < n && fm_log_get_level() >= FM_LOG_INFO; r++)
        fm_log_info("rank %zu of %zu: %u runs, %.2f s", r, n, ends[r].done, ends[r].seconds);
    char where[64] = "";
    if (bad < n && bad > 0)
        snprintf(where, sizeof(where), "rank %zu of %zu: ", bad, n);
    if (bad < n && total > 0)
        fm_buf_printf(&t, "\nerror: %s%s\n", where, ends[bad].msg);
    /* The prompt set that could not be loaded leaves no transcript, as with one process. */
    if (total > 0 && llm_transcript_save(s->transcript, &t, &err) < 0) {
        fm_log_error("%s", err.msg);
        goto out;
    }
    if (bad < n) {
        fm_log_error("%s%s", where, ends[bad].msg);
        goto out;
    }
    if (s->output &&
        (b.lines.oom || fm_file_write_atomic(s->output, b.lines.s ? b.lines.s : "",
                                             b.lines.len ? b.lines.len - 1 : 0, &err) < 0)) {
        fm_log_error("%s", b.lines.oom ? "out of memory" : err.msg);
        goto out;
    }
    if (!quiet)
        cli_agents_table(st->models, st->n_models, res->tally);
    if (stopped || made < total) {
        fm_log_error("interrupted in run %u of %u; transcript in %s", made, total, s->transcript);
        rc = CLI_EXIT_INTR;
    } else if (res->any_error) {
        fm_log_error("some runs failed with an error (see their \"error\" field)");
    } else {
        rc = CLI_EXIT_OK;
    }
out:
    fm_buf_fini(&t);
    cli_agents_batch_fini(&b);
    free(res);
    return rc;
}

int cli_agents_batch_ranks(const struct llm_session *s,
                           const struct mdl_model *m,
                           const struct llm_study *st,
                           int quiet)
{
    int64_t t0 = fm_time_mono_ns();
    int rank = fm_par_rank();
    size_t n = (size_t)fm_par_size();
    struct fm_buf mine;
    struct llm_study_cb rcb = {rank_run, NULL, &mine};
    struct llm_study_result *res = calloc(1, sizeof(*res));
    struct rank_end me, *ends = rank == 0 ? calloc(n, sizeof(*ends)) : NULL;
    size_t *lens = rank == 0 ? calloc(n, sizeof(*lens)) : NULL;
    void *all = NULL;
    struct fm_err err = {0};
    int32_t status = CLI_EXIT_RUNTIME;
    fm_buf_init(&mine);
    memset(&me, 0, sizeof(me));
    me.rc = res ? llm_study_run_shard(m, st, (unsigned)rank, (unsigned)n, &rcb, res, &err)
                : fm_err_set(&err, FM_ENOMEM, "out of memory");
    if (me.rc >= 0 && mine.oom)
        me.rc = fm_err_set(&err, FM_ENOMEM, "out of memory");
    snprintf(me.msg, sizeof(me.msg), "%s", err.msg);
    me.stopped = cli_stop != 0;
    me.done = res ? res->done : 0;
    me.total = res ? res->total : 0;
    me.seconds = (double)(fm_time_mono_ns() - t0) / 1e9;
    /* Every rank makes both calls whatever happened, so that none waits for another. */
    int grc = fm_par_gather(&me, sizeof(me), ends, &err);
    int vrc = fm_par_gatherv(mine.s, mine.len, &all, lens, &err);
    if (rank == 0) {
        if (!ends || !lens || grc < 0 || vrc < 0)
            fm_log_error("%s", ends && lens ? err.msg : "out of memory");
        else
            status = (int32_t)finish(s, st, ends, n, all, lens, quiet);
    }
    /* Rank 0's verdict is every rank's exit status. */
    if (fm_par_bcast(&status, sizeof(status), &err) < 0 && rank != 0)
        status = CLI_EXIT_RUNTIME;
    fm_buf_fini(&mine);
    free(all);
    free(lens);
    free(ends);
    free(res);
    return status;
}
