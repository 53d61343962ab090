/* cli/agents_report.h - what `flowmimic agents` prints: the summary object of one run
 * (--json) and its closing line; a batch study's lines, progress line and table per model. */
#ifndef CLI_AGENTS_REPORT_H
#define CLI_AGENTS_REPORT_H

#include "common/err.h"
#include <stddef.h>

#include "common/strbuf.h"
#include "llm/session.h"
#include "llm/study.h"

/* After llm_session_run(): the summary object on stdout (json), and one line on stderr: why
 * the run failed, or that it was not approved, or (unless quiet) what was approved and where
 * it went. Returns the exit status: CLI_EXIT_OK when variants were approved and written,
 * CLI_EXIT_INTR when interrupted, else CLI_EXIT_RUNTIME. */
FM_MUST_CHECK int cli_agents_single_report(const struct llm_session *s,
                                           const struct llm_session_result *res,
                                           int json,
                                           int quiet);

/* What a batch study prints as it goes: each run's line of JSON, to stdout at once or kept
 * in lines when output (-o) is set, and when tty the progress line; a warning for a model
 * whose clients could not be opened. cli_agents_batch_init() fills *cb with callbacks that
 * print through b. */
struct cli_agents_batch {
    const char *output;
    const char *const *models;
    struct fm_buf lines;
    int tty;
};
void cli_agents_batch_init(struct cli_agents_batch *b,
                           const char *output,
                           const char *const *models,
                           int tty,
                           struct llm_study_cb *cb);
void cli_agents_batch_fini(struct cli_agents_batch *b);

/* Clear the progress line of a batch study (tty only). */
void cli_agents_progress_done(void);

/* A batch study's table on stderr: one row per model with its tally, then what the columns
 * mean. */
void cli_agents_table(const char *const *models, size_t n, const struct llm_study_tally *ty);

/* The batch study under mpirun (collective): run k of the study on rank k mod N, every run's
 * line, transcript part and tally to rank 0, which prints, writes (the transcript, s->output)
 * and tabulates them in run order as one process would; a rank that failed gives its message
 * on rank 0. Returns the exit status, the same on every rank. */
int cli_agents_batch_ranks(const struct llm_session *s,
                           const struct mdl_model *m,
                           const struct llm_study *st,
                           int quiet);

#endif
