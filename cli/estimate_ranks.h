/* cli/estimate_ranks.h - `estimate` under mpirun: the selected flows are shared out over the
 * ranks (position p of the selection to rank p mod N), each rank fits its share and keeps its
 * models, and rank 0 writes and prints them all in selection order, as one process would. */
#ifndef CLI_ESTIMATE_RANKS_H
#define CLI_ESTIMATE_RANKS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "estimator/run.h"
#include "models/model.h"

/* One model a rank fitted, kept until the merge (copied as bytes between ranks). */
struct cli_est_kept {
    uint64_t index; /* the flow's index in `flows` order */
    struct mdl_model m;
};

/* What one rank did, for the merge. */
struct cli_est_rank {
    int32_t code;  /* FM_OK or the run's error */
    int32_t usage; /* the error is a usage error (exit 2) */
    uint64_t selected, mine, done, packets, frames;
    double seconds; /* reading and fitting */
    char msg[512];
};

/* Rank 0 writes a model through this (save, notes, the printed line). Non-zero: failed. */
typedef int (*cli_est_emit_fn)(void *arg, size_t index, struct mdl_model *m, struct fm_err *err);

/* The notes of a model (index: its flow's) as warnings, and packets put back in order. */
void cli_est_notes(const struct mdl_model *m, size_t index);

/* Collective, after est_estimate_run() (its result, return code rc, usage: the error is a usage
 * error, msg: its message, t0: fm_time_mono_ns() at the start): every rank's outcome and kept
 * models to rank 0, which emits the models in selection order (up to the first position a
 * failed rank did not reach, as one process writes those before a failure), prints the
 * failing rank's message (the lowest one's) and, with -v, a line per rank. Returns the exit
 * status, the same on every rank: CLI_EXIT_OK, _USAGE, _INTR or _RUNTIME. */
int cli_estimate_ranks(const char *cmd,
                       const struct est_run_result *res,
                       int rc,
                       int usage,
                       const char *msg,
                       int64_t t0,
                       const struct cli_est_kept *kept,
                       size_t nkept,
                       cli_est_emit_fn emit,
                       void *arg);

#endif
