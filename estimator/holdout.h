/* estimator/holdout.h - a model fitted on the first half of a capture's flow, judged against
 * the second half beside the two halves judged against each other.
 * Per side, the packets in time order are split at n / 2: half 1 is the first n / 2, half 2
 * the rest. A model is fitted on half 1 only, through the same path as `estimate`
 * (est_model_from_flow(), the sequence model on), and draw_factor times as many packets as
 * half 2 has are drawn from it, as a sequence (what generate and replay send) and, for
 * reference, independently from the same fit's mixtures. Each series then gets the figures a
 * sequence model is meant to get right. The two halves' own distance is the floor: a model
 * cannot be expected to come closer to half 2 than half 1 does, and a model that comes much
 * closer has memorised something it was not shown. Not thread-safe per result; no globals.
 *
 * Figures of one series (so that they can be checked by hand; estimator/compare.h defines
 * the throughput and bursts):
 * - KS length, KS gap: two-sample Kolmogorov-Smirnov distance to half 2 (payload bytes; gaps
 *   in seconds between consecutive packets of the series).
 * - acf1 length, acf1 gap: lag-1 autocorrelation in time order.
 * - CV 100 ms: coefficient of variation of the payload bytes per 100 ms bin.
 * - mean burst: packets per run of gaps below burst_gap_s. */
#ifndef ESTIMATOR_HOLDOUT_H
#define ESTIMATOR_HOLDOUT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "estimator/estimate.h"
#include "estimator/reader.h"
#include "models/model.h"

/* The series of a side, as indexes of est_ho_side's arrays. */
enum est_ho_series {
    EST_HO_HALF1 = 0,
    EST_HO_HALF2 = 1,
    EST_HO_MODEL = 2,       /* the model of half 1 drawn as a sequence */
    EST_HO_INDEPENDENT = 3, /* the same fit drawn from its mixtures, packet by packet */
    EST_HO_NSERIES = 4
};

struct est_ho_opts {
    const char *flow;           /* NULL (the largest), "INDEX" as `flows` numbers them, or a spec */
    uint64_t seed;              /* the fit's and the draws' (default 1) */
    unsigned draw_factor;       /* model packets per packet of half 2 (default 10) */
    double burst_gap_s;         /* default 0.001 */
    const struct est_opts *est; /* the fit; NULL: est_opts_init() with the sequence on */
    struct mdl_model *model;    /* when not NULL: receives the model of half 1 */
    est_progress_fn progress;   /* reading progress, may be NULL */
    void *progress_arg;
    volatile sig_atomic_t *stop; /* reading stops with FM_EINTR when *stop != 0; may be NULL */
};

void est_ho_opts_init(struct est_ho_opts *o);

/* The figures of one series of a side; NAN where one does not exist (too few packets, no
 * variance, fewer than two 100 ms bins, no model). */
struct est_ho_figures {
    size_t n;      /* packets */
    double ks_len; /* to half 2 (0 for half 2 itself) */
    double ks_gap;
    double acf1_len;
    double acf1_gap;
    double cv100;
    double burst_mean;
};

struct est_ho_side {
    int ok;         /* a model was fitted on half 1 and drawn from */
    int seq;        /* 1: that model has a sequence (EST_HO_MODEL differs from INDEPENDENT) */
    char note[200]; /* why not, or "" */
    struct est_ho_figures s[EST_HO_NSERIES];
};

struct est_holdout {
    char path[1024];
    char flow_spec[200]; /* local endpoint first */
    long flow_index;     /* in `flows` order */
    uint64_t seed;
    unsigned draw_factor;
    double burst_gap_s;
    uint64_t min_samples; /* of the fit: fewer packets in half 1, no model */
    struct est_read_stats read;
    struct est_ho_side side[2]; /* local, remote */
};

/* Read the capture at path, select its flow, split each side, fit half 1 and fill *out (a
 * plain value) and, when o->model is set, *o->model with the model of half 1 (the same model
 * `estimate` makes of a capture holding only those packets). Errors: FM_EIO, FM_EFORMAT (not a
 * capture, a model file instead of a capture, a side the fit refuses), FM_EINVAL (a bad flow
 * selection, draw_factor 0), FM_ENOTFOUND (no such flow: the message lists what is there),
 * FM_EINTR, FM_ENOMEM. */
FM_MUST_CHECK int est_holdout_run(const char *path,
                                  const struct est_ho_opts *o,
                                  struct est_holdout *out,
                                  struct fm_err *err);

#endif
