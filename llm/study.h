/* llm/study.h - the batch study: every prompt of a prompt set, run a number of times with each
 * generator model, tabulated. Each run is the loop of llm/agent.h with the prompt's task and
 * its own seed (the session's seed plus the repeat's index); it is described by one line of
 * JSON (llm_run_record) handed to the caller as soon as it ends, and counted in a tally per
 * model. One transcript holds every run, each under a heading. Nothing here prints: lines,
 * progress and warnings go through the callbacks. Not thread-safe. */
#ifndef LLM_STUDY_H
#define LLM_STUDY_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "llm/agent.h"
#include "llm/session.h"
#include "models/model.h"

#define LLM_STUDY_MAX_MODELS 8

/* One run of a batch study, as one line of JSON (no newline; free() it; NULL when out of
 * memory): the names below, the outcome ("approved", "not_approved", "error", "interrupted"),
 * the error message (or null), and the counts of res->st with tokens per second. */
struct llm_run_info {
    const char *model;
    const char *reviewer_model;
    const char *prompt;
    unsigned repeat; /* 1-based */
    uint64_t seed;
    const char *outcome;
    const char *error; /* NULL: none */
    size_t n_variants; /* variants asked for per proposal */
};

char *llm_run_record(const struct llm_run_info *info, const struct llm_agent_result *res);

/* What a study runs: the session (its configuration, reviewer, agent options, model file
 * and transcript file; its task and seed are set per run, its cfg.model is not used), the
 * generator models, the prompt set file (llm_prompts_load) and the runs per prompt and
 * model. */
struct llm_study {
    const struct llm_session *session;
    const char *const *models;
    size_t n_models; /* 1..LLM_STUDY_MAX_MODELS */
    const char *prompts;
    unsigned repeat; /* >= 1 */
};

/* What the runs of one model add up to. */
struct llm_study_tally {
    unsigned runs, errors, replies, parsed, passed, approved_runs, rounds;
    size_t approved_variants;
    long tokens;  /* reply tokens of the runs whose servers counted them ... */
    double gen_s; /* ... and the generation time they took */
};

/* Add one run's result (error: it failed with an error). */
void llm_study_tally_add(struct llm_study_tally *ty, const struct llm_agent_result *res, int error);

/* Add the tally of other runs (b) to a: a run's own tally added in run order gives the same
 * sums, to the bit, as llm_study_tally_add() of each run in that order. */
void llm_study_tally_merge(struct llm_study_tally *a, const struct llm_study_tally *b);

/* One finished run, as the callback sees it. */
struct llm_study_step {
    size_t model;        /* index into the study's models */
    const char *prompt;  /* the prompt's name */
    unsigned repeat;     /* 1-based */
    unsigned done;       /* runs finished, this one included */
    unsigned total;      /* runs in the study */
    const char *outcome; /* as in the record */
    const char *record;  /* the run's line of JSON (llm_run_record) */
    /* For a caller that merges runs made elsewhere (mpirun's ranks): */
    unsigned run;                       /* its number in the study, 0-based (run order) */
    const struct llm_study_tally *self; /* this run alone (nothing when interrupted) */
    int error;                          /* it failed with an error */
    const char *open_error;             /* why the model's clients did not open, or NULL */
    const char *transcript;             /* its part of the transcript */
    size_t transcript_len;
};

struct llm_study_cb {
    void (*run)(void *arg, const struct llm_study_step *step); /* after each run; may be NULL */
    /* After the runs of a model whose clients could not be opened (every run of it is an
     * error with why); may be NULL. */
    void (*model_failed)(void *arg, size_t model, const struct fm_err *why);
    void *arg;
};

struct llm_study_result {
    struct llm_study_tally tally[LLM_STUDY_MAX_MODELS]; /* interrupted runs are not counted */
    unsigned done;                                      /* runs finished */
    unsigned total;                                     /* runs in the study */
    int any_error;                                      /* a run failed with an error */
    struct fm_err transcript; /* code set: the transcript could not be written */
};

/* Run the study on m. Runs stop early when the session's stop flag is set (the run under way
 * ends as "interrupted"). The transcript is written to the session's file at the end (a
 * failure goes to res->transcript). Returns FM_OK when the runs went through (with or without
 * errors, see res), or an error that ended the study: the prompt set could not be loaded
 * (FM_EIO, FM_EFORMAT; no transcript), FM_ENOMEM ("out of memory"), or the server could not
 * be used at all (unreachable, refused, a bad key: llm_client_check()'s code and message, the
 * transcript written with it). A model the server lacks (FM_ENOTFOUND) fails its runs only.
 * res is filled in every case. */
FM_MUST_CHECK int llm_study_run(const struct mdl_model *m,
                                const struct llm_study *st,
                                const struct llm_study_cb *cb,
                                struct llm_study_result *res,
                                struct fm_err *err);

/* The same for a share of the study (mpirun's ranks): run k of the study (in the order of
 * models, prompts, repeats, 0-based) is made when k % nshards == shard, with the seed and
 * heading it has in the whole study; clients are opened only for a model with runs in the
 * share. With nshards > 1 the transcript file is not written: each run's part comes with
 * its step for the caller to put together. nshards 0 or 1: the whole study. */
FM_MUST_CHECK int llm_study_run_shard(const struct mdl_model *m,
                                      const struct llm_study *st,
                                      unsigned shard,
                                      unsigned nshards,
                                      const struct llm_study_cb *cb,
                                      struct llm_study_result *res,
                                      struct fm_err *err);

#endif
