/* cli/report.h - what `receive` and `replay` print while they run and at their end: the
 * status line on a terminal with the interval lines above it, the receiver's report (a
 * table per stream, JSON, notes for stderr) and the sender's (the dry run's plan, the
 * summary, both directions for replay --listen). Data goes to stdout, notes to stderr. */
#ifndef CLI_REPORT_H
#define CLI_REPORT_H

#include <stdint.h>

#include "cli/interval.h"
#include "cli/jw.h"
#include "common/err.h"
#include "transceiver/receiver.h"
#include "transceiver/replay.h"

/* A status line on stderr, shown only on a terminal (and not with -q), rewritten in place;
 * interval lines go to stdout above it, or into the JSON with json. */
struct cli_status {
    int tty;
    int shown;
    struct cli_interval iv;
};

/* every_ns: interval reports (0: none). Release with cli_interval_fini(&s->iv). */
void cli_status_init(struct cli_status *s, int64_t every_ns, int json);
/* The intervals that t closes, above the status line (call when s->iv.every_ns). */
void cli_status_tick(struct cli_status *s, const struct cli_interval_totals *t);
/* Rewrite the status line with the text fmt makes (which ends it with "\033[K"). */
void cli_status_show(struct cli_status *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* At the end: clear the status line and close the last interval at t. */
void cli_status_end(struct cli_status *s, const struct cli_interval_totals *t);

/* A receiver's report, also printed by replay --listen: the per-stream tables on stdout, the
 * report as a JSON object (a member named key, or a value when key is NULL; iv: interval
 * reports to add as "intervals", or NULL), and the notes for stderr (no packets, kernel
 * drops, clocks that disagree). */
void cli_receive_table(struct trx_rstats *rs);
/* The same for streams given as an array (an MPI run's, merged: trx_rstats_gather()). */
void cli_receive_table_of(const struct trx_stream_stats *ss, size_t n);
void cli_receive_json_of(struct jw *w,
                         const char *key,
                         const struct trx_rstats_merged *m,
                         const struct trx_recv_info *info,
                         int interrupted,
                         const struct cli_interval *iv);
void cli_receive_json(struct jw *w,
                      const char *key,
                      struct trx_rstats *rs,
                      const struct trx_recv_info *info,
                      int interrupted,
                      const struct cli_interval *iv);
/* The notes (cli/report_notes.c): a condition more than 3 streams share is one line naming
 * how many and the first few. cap_option: the option that raises the stream cap, named in
 * the over-cap note (NULL: none). */
void cli_receive_notes(struct trx_rstats *rs,
                       const struct trx_recv_info *info,
                       const char *cap_option);

/* A sender's running totals, as interval reports count them. */
void cli_replay_totals(const struct trx_send_stats *s, struct cli_interval_totals *t);
/* --dry-run: the plan and the first packets of r's source, on stdout. FM_OK or the source's
 * error. */
FM_MUST_CHECK int cli_replay_plan(const struct trx_replay_opts *o,
                                  const char *path,
                                  struct trx_replay *r,
                                  struct fm_err *err);
/* After trx_replay_send() returned send_rc: the summary (text, or JSON with json), and with
 * a listener what it received from the peer, its notes and its error. */
void cli_replay_report(int json,
                       const struct trx_replay *r,
                       const struct trx_send_stats *st,
                       int send_rc,
                       const struct cli_interval *iv,
                       const struct trx_replay_ranks *rk);

/* A run of several MPI ranks (cli/report_replay.c): after the merged summary, the number of
 * ranks and how far apart they started, then with -v a line per rank (text), or the same as
 * members "ranks", "start_spread_us" and "per_rank" of the summary's JSON object. Nothing
 * for one rank (rk NULL or rk->size <= 1). */
void cli_replay_ranks_text(const struct trx_replay_ranks *rk);
void cli_replay_ranks_json(struct jw *w, const struct trx_replay_ranks *rk);

/* receive under mpirun, on every rank after its run: every rank's streams and counts to
 * rank 0, which prints one report of them all (table or JSON), its total line, "ranks" and,
 * with -v, a line (or "per_rank" entry) per rank. Each rank's notes stay on its own stderr.
 * Returns 0 when the report was printed here (rank 0, or one rank); 1 on other ranks; -1
 * when merging failed (the message is logged, and each rank should print its own). */
int cli_receive_ranks(int json,
                      struct trx_rstats *rs,
                      const struct trx_recv_info *info,
                      int interrupted);
/* The members a merged receive report adds to its JSON ("ranks", with -v "per_rank"). */
void cli_receive_ranks_json(struct jw *w, const struct trx_rstats_merged *m);

#endif
