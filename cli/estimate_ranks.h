/* cli/estimate_ranks.h - where `estimate` writes (models named after their capture), and
 * `estimate` under mpirun: the selected flows are shared out over the
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

/* The stem of a capture's file name ("dir/call.pcapng" -> "call"), which names its models. */
void cli_est_stem(const char *path, char *buf, size_t size);

/* Whether path is a directory; make it one when it is not there (FM_OK or FM_EIO). */
int cli_est_is_dir(const char *path);
FM_MUST_CHECK int cli_est_ensure_dir(const char *path, struct fm_err *err);

/* Several captures (n) write into one directory, each model named after its capture: a usage
 * error (printed, CLI_EXIT_USAGE) for -o naming a file, or two captures of the same stem;
 * else CLI_EXIT_OK. */
int cli_est_check_captures(const char *cmd, const char *output, char **caps, size_t n);

/* The notes of a model (index: its flow's) as warnings, and packets put back in order. */
void cli_est_notes(const struct mdl_model *m, size_t index);

/* Collective, after est_estimate_run() (its result, return code rc, usage: the error is a usage
 * error, msg: its message, t0: fm_time_mono_ns() at the start, off: flows selected in the
 * captures before, so that position p was fitted by rank (off + p) mod N): every rank's outcome and
 * kept models to rank 0, which emits the models in selection order (up to the first position a
 * failed rank did not reach, as one process writes those before a failure), prints the
 * failing rank's message (the lowest one's) and, with -v, a line per rank. Returns the exit
 * status, the same on every rank: CLI_EXIT_OK, _USAGE, _INTR or _RUNTIME. */
int cli_estimate_ranks(const char *cmd,
                       const struct est_run_result *res,
                       int rc,
                       int usage,
                       const char *msg,
                       int64_t t0,
                       size_t off,
                       const struct cli_est_kept *kept,
                       size_t nkept,
                       cli_est_emit_fn emit,
                       void *arg);

#endif
