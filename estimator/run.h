/* estimator/run.h - `estimate` as one call: read a capture twice (rank its flows, then keep
 * the series of the selected ones only, so memory goes to what is fitted), select flows by
 * index, spec or rank, and fit a model for each. The caller decides what happens to each
 * model (save, print, plot) through callbacks; nothing here prints. Not thread-safe. */
#ifndef ESTIMATOR_RUN_H
#define ESTIMATOR_RUN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "estimator/estimate.h"
#include "estimator/flow.h"
#include "estimator/reader.h"
#include "models/model.h"
#include "packet/endpoint.h"

/* One flow named by the user: its index in `flowmimic flows` order, or its spec. */
struct est_selection {
    int is_index;
    size_t index;
    struct pkt_flow_key key; /* when not is_index */
    char text[200];          /* as the user wrote it, for messages */
};

struct est_run_opts {
    const struct est_opts *est;
    const struct est_selection *sel;
    size_t nsel;
    long top;                    /* with nsel 0: the top flows (<= 0: the largest one) */
    volatile sig_atomic_t *stop; /* set: stop between packets or models (FM_EINTR) */
    est_progress_fn progress;    /* reading, 0..1 per pass; may be NULL */
    void *progress_arg;
};

struct est_run_cb {
    /* After the first pass: n flows are selected. Non-zero stops the run with that code. */
    int (*selected)(void *arg, size_t n, struct fm_err *err);
    /* A fit of flow index (packets in all) begins / ended; either may be NULL. */
    void (*fitting)(void *arg, size_t index, uint64_t packets);
    void (*fitted)(void *arg);
    /* A model is ready: the callback owns what happens to it. Non-zero stops the run.
     * Models come in selection order; with shards, shard s's k-th is at position
     * s + k * nshards of the selection. */
    int (*model)(
        void *arg, size_t index, const struct est_flow *f, struct mdl_model *m, struct fm_err *err);
    void *arg;
};

/* What the run did, also when it failed. */
struct est_run_result {
    struct est_read_stats read; /* of the last pass */
    size_t selected;            /* flows selected after the first pass */
    size_t mine;                /* of them, the ones of this shard (all without shards) */
    size_t done;                /* models handed to cb->model */
    uint64_t packets;           /* packets of the flows fitted (both sides) */
};

/* Run estimate on path. Returns FM_OK; FM_EINVAL for a capture that cannot be read twice
 * (standard input, a pipe); the reader's errors; FM_EFORMAT for a capture without flows and
 * FM_ENOTFOUND for a selected flow that is not there (naming what to run); the fit's;
 * what a callback returned; FM_EINTR when stopped (while reading: no model was made; later:
 * the models already handed over are whole, no others follow). */
FM_MUST_CHECK int est_estimate_run(const char *path,
                                   const struct est_run_opts *o,
                                   const struct est_run_cb *cb,
                                   struct est_run_result *res,
                                   struct fm_err *err);

/* The same for a share of the work (mpirun's ranks): every flow is selected as above, but only
 * those at positions p of the selection with p % nshards == shard are kept in the second pass
 * and fitted (res->mine of them); the others are skipped, with no callback. Every flow's fit
 * is seeded alike whoever fits it, so the shares together give what one run gives. A shard
 * without flows does not read the capture again. nshards 0 or 1: every flow. */
FM_MUST_CHECK int est_estimate_run_shard(const char *path,
                                         const struct est_run_opts *o,
                                         size_t shard,
                                         size_t nshards,
                                         const struct est_run_cb *cb,
                                         struct est_run_result *res,
                                         struct fm_err *err);

#endif
