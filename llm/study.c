/* llm/study.c - the batch study; see llm/study.h. */
#include "llm/study.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llm/prompt.h"

static void add_num_or_null(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

char *llm_run_record(const struct llm_run_info *info, const struct llm_agent_result *res)
{
    const struct llm_agent_stats *st = &res->st;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "model", info->model);
    cJSON_AddStringToObject(o, "reviewer_model", info->reviewer_model);
    cJSON_AddStringToObject(o, "prompt", info->prompt);
    cJSON_AddNumberToObject(o, "repeat", info->repeat);
    cJSON_AddNumberToObject(o, "seed", (double)info->seed);
    cJSON_AddStringToObject(o, "outcome", info->outcome);
    if (info->error)
        cJSON_AddStringToObject(o, "error", info->error);
    else
        cJSON_AddNullToObject(o, "error");
    cJSON_AddNumberToObject(o, "rounds", st->rounds);
    if (res->approved)
        cJSON_AddNumberToObject(o, "approved_round", res->approved_round);
    else
        cJSON_AddNullToObject(o, "approved_round");
    cJSON_AddNumberToObject(o, "replies", st->replies);
    cJSON_AddNumberToObject(o, "parsed", st->parsed);
    cJSON_AddNumberToObject(o, "passed_checks", st->passed);
    cJSON_AddNumberToObject(o, "reviews", st->reviews);
    cJSON_AddNumberToObject(o, "readable_verdicts", st->verdicts);
    cJSON_AddNumberToObject(o, "approved_variants", res->approved ? (double)res->proposal.n : 0);
    cJSON_AddNumberToObject(o, "variants_asked", (double)info->n_variants);
    cJSON_AddNumberToObject(o, "reply_tokens", (double)st->reply_tokens);
    cJSON_AddNumberToObject(o, "gen_s", st->gen_s);
    cJSON_AddNumberToObject(o, "wall_s", st->wall_s);
    add_num_or_null(o, "tokens_per_s", llm_agent_tokens_per_s(st));
    char *text = cJSON_PrintUnformatted(o);
    char *out = text ? strdup(text) : NULL;
    cJSON_free(text);
    cJSON_Delete(o);
    return out;
}

void llm_study_tally_add(struct llm_study_tally *ty, const struct llm_agent_result *res, int error)
{
    ty->runs++;
    ty->errors += error != 0;
    ty->replies += res->st.replies;
    ty->parsed += res->st.parsed;
    ty->passed += res->st.passed;
    ty->rounds += res->st.rounds;
    if (res->approved) {
        ty->approved_runs++;
        ty->approved_variants += res->proposal.n;
    }
    /* Tokens per second only over the runs whose servers said how many tokens they made. */
    if (res->st.reply_tokens > 0 && res->st.gen_s > 0) {
        ty->tokens += res->st.reply_tokens;
        ty->gen_s += res->st.gen_s;
    }
}

void llm_study_tally_merge(struct llm_study_tally *a, const struct llm_study_tally *b)
{
    a->runs += b->runs;
    a->errors += b->errors;
    a->replies += b->replies;
    a->parsed += b->parsed;
    a->passed += b->passed;
    a->approved_runs += b->approved_runs;
    a->rounds += b->rounds;
    a->approved_variants += b->approved_variants;
    a->tokens += b->tokens;
    a->gen_s += b->gen_s;
}

/* Everything one study keeps while it runs. */
struct study_run {
    const struct mdl_model *m;
    const struct llm_study *st;
    const struct llm_study_cb *cb;
    struct llm_study_result *res;
    const struct llm_prompt_set *set;
    struct llm_agent_result *ar; /* the current run's result (large: on the heap) */
    struct fm_buf *t;            /* the transcript */
};

/* One run of prompt pi, repeat r, with model mi, whose clients are c (open_rc: whether they
 * opened, cerr: why not), number k of the study. Returns FM_OK or FM_ENOMEM. */
static int one_run(struct study_run *sr,
                   unsigned k,
                   size_t mi,
                   size_t pi,
                   unsigned r,
                   const struct llm_clients *c,
                   int open_rc,
                   const struct fm_err *cerr,
                   struct fm_err *err)
{
    const struct llm_session *s = sr->st->session;
    const char *model = sr->st->models[mi];
    const struct llm_prompt_item *item = &sr->set->items[pi];
    struct llm_agent_opts ao = s->agent;
    struct fm_err rerr = {0};
    memset(sr->ar, 0, sizeof(*sr->ar));
    ao.task = item->task;
    ao.seed = s->agent.seed + (uint64_t)(r - 1);
    int run_rc = open_rc;
    size_t t0 = sr->t->len;
    if (open_rc == FM_OK) {
        fm_buf_printf(sr->t,
                      "\n##### run %u of %u: model %s, prompt %s, repeat %u, seed %llu #####\n",
                      k + 1, sr->res->total, model, item->name, r, (unsigned long long)ao.seed);
        llm_transcript_header(sr->t, s, c);
        ao.gen_label = c->gen_label;
        ao.rev_label = c->rev_label;
        run_rc = llm_agent_run(sr->m, &ao, c->gen, c->rev, NULL, sr->t, sr->ar, &rerr);
    }
    enum llm_outcome oc = llm_session_outcome(s, run_rc, sr->ar);
    struct llm_run_info info = {
        model,
        s->reviewer_model ? s->reviewer_model : model,
        item->name,
        r,
        ao.seed,
        llm_outcome_name(oc),
        open_rc < 0  ? cerr->msg
        : run_rc < 0 ? rerr.msg
                     : NULL,
        s->agent.check.n_variants,
    };
    char *line = llm_run_record(&info, sr->ar);
    if (!line)
        return fm_err_set(err, FM_ENOMEM, "out of memory");
    struct llm_study_tally self;
    memset(&self, 0, sizeof(self));
    if (oc != LLM_OUTCOME_INTERRUPTED) {
        llm_study_tally_add(&self, sr->ar, run_rc < 0);
        llm_study_tally_merge(&sr->res->tally[mi], &self);
        sr->res->any_error |= run_rc < 0;
    }
    sr->res->done++;
    struct llm_study_step step = {
        mi,
        item->name,
        r,
        sr->res->done,
        sr->res->total,
        info.outcome,
        line,
        k,
        &self,
        oc != LLM_OUTCOME_INTERRUPTED && run_rc < 0,
        open_rc < 0 ? cerr->msg : NULL,
        sr->t->s ? sr->t->s + t0 : "",
        sr->t->len - t0,
    };
    if (sr->cb && sr->cb->run)
        sr->cb->run(sr->cb->arg, &step);
    free(line);
    return FM_OK;
}

int llm_study_run(const struct mdl_model *m,
                  const struct llm_study *st,
                  const struct llm_study_cb *cb,
                  struct llm_study_result *res,
                  struct fm_err *err)
{
    return llm_study_run_shard(m, st, 0, 1, cb, res, err);
}

int llm_study_run_shard(const struct mdl_model *m,
                        const struct llm_study *st,
                        unsigned shard,
                        unsigned nshards,
                        const struct llm_study_cb *cb,
                        struct llm_study_result *res,
                        struct fm_err *err)
{
    const struct llm_session *s = st->session;
    struct llm_prompt_set *set = NULL;
    struct llm_agent_result *ar = NULL;
    struct fm_buf t;
    int rc = FM_OK;
    memset(res, 0, sizeof(*res));
    fm_buf_init(&t);
    set = malloc(sizeof(*set));
    ar = malloc(sizeof(*ar));
    if (!set || !ar) {
        rc = fm_err_set(err, FM_ENOMEM, "out of memory");
        goto out;
    }
    rc = llm_prompts_load(st->prompts, set, err);
    if (rc < 0)
        goto out;
    struct study_run sr = {m, st, cb, res, set, ar, &t};
    res->total = (unsigned)(st->n_models * set->n * (size_t)st->repeat);
    unsigned nsh = nshards > 1 ? nshards : 1;
    unsigned per_model = (unsigned)(set->n * (size_t)st->repeat);
    for (size_t mi = 0; mi < st->n_models && !llm_session_stopped(s); mi++) {
        /* A model none of whose runs is in this share: no clients to open. */
        unsigned k0 = (unsigned)mi * per_model, mine = 0;
        for (unsigned k = k0; k < k0 + per_model && !mine; k++)
            mine = k % nsh == shard % nsh;
        if (!mine)
            continue;
        struct llm_clients c;
        struct fm_err cerr = {0};
        int open_rc = llm_clients_open(s, st->models[mi], &c, &cerr);
        /* A model the server lacks fails its runs only; a server that cannot be reached (or
         * refuses the key) fails them all: stop at once, with its message. */
        if (open_rc < 0 && open_rc != FM_ENOTFOUND) {
            llm_transcript_header(&t, s, &c);
            fm_buf_printf(&t, "\nerror: %s\n", cerr.msg);
            if (nsh == 1 && llm_transcript_save(s->transcript, &t, &res->transcript) < 0) {
                /* why is in the result's transcript error, which the caller reports */
            }
            rc = fm_err_set(err, open_rc, "%s", cerr.msg);
            goto out;
        }
        for (size_t pi = 0; pi < set->n && !llm_session_stopped(s); pi++) {
            for (unsigned r = 1; r <= st->repeat && !llm_session_stopped(s); r++) {
                unsigned k = (unsigned)((mi * set->n + pi) * st->repeat + (r - 1));
                if (k % nsh != shard % nsh)
                    continue;
                rc = one_run(&sr, k, mi, pi, r, &c, open_rc, &cerr, err);
                if (rc < 0) {
                    llm_clients_free(&c);
                    goto out;
                }
            }
        }
        if (open_rc < 0 && cb && cb->model_failed)
            cb->model_failed(cb->arg, mi, &cerr);
        llm_clients_free(&c);
    }
    if (nsh == 1 && llm_transcript_save(s->transcript, &t, &res->transcript) < 0) {
        /* why is in the result's transcript error, which the caller reports */
    }
out:
    fm_buf_fini(&t);
    free(set);
    free(ar);
    return rc;
}
