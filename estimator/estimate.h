/* estimator/estimate.h - from a flow's packet series to a model: features and fitting.
 * Functions here allocate only what they return (freed by the caller with free()) and keep
 * no state. Reentrant. */
#ifndef ESTIMATOR_ESTIMATE_H
#define ESTIMATOR_ESTIMATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "estimator/flow.h"
#include "models/model.h"
#include "models/seqfit.h"

struct est_opts {
    struct mdl_fit_opts fit;     /* k, max_k, restarts, trim, seed: shared by both features */
    enum mdl_scale iat_scale;    /* MDL_SCALE_LOG (default) or MDL_SCALE_LINEAR */
    uint64_t min_samples;        /* fewer packets on a side than this: a note, no model (100) */
    int sequence;                /* 1: fit the sequence model too (default); 0: version 1 only */
    struct mdl_seq_fit_opts seq; /* its options; the seed comes from fit.seed */
};

/* The defaults: BIC chooses up to MDL_MAX_K components, log-scale gaps, the sequence model. */
void est_opts_init(struct est_opts *o);

/* The packets of s in time order (by timestamp, equal ones in file order): *ord gets a new
 * array of their indexes (freed with free()), or NULL when the file order already is the time
 * order; *moved gets how many packets arrived with a timestamp below one already seen.
 * Returns FM_OK or FM_ENOMEM. */
FM_MUST_CHECK int est_time_order(const struct est_series *s, size_t **ord, uint64_t *moved);

/* The features of one side, in time order: *payload gets s->n payload lengths (bytes) and
 * *iat_s gets s->n - 1 gaps (seconds, never negative), both as new arrays freed with free()
 * (NULL when empty). Timestamps that go backwards are put in order (a stable sort), and
 * *reordered gets how many packets had to move. *resolution_s gets the timestamps' apparent
 * tick (1e-9 .. 1, the largest power of ten that divides every timestamp). Returns FM_OK or
 * FM_ENOMEM. */
FM_MUST_CHECK int est_side_features(const struct est_series *s,
                                    double **payload,
                                    double **iat_s,
                                    uint64_t *reordered,
                                    double *resolution_s,
                                    struct fm_err *err);

/* Fit a model to a flow that kept its series (est_flow_table_watch). capture names the source
 * in the model. Returns FM_OK and fills *out, FM_EINVAL when the flow has no series, or an
 * error of the fit. */
FM_MUST_CHECK int est_model_from_flow(const struct est_flow *f,
                                      const char *capture,
                                      const struct est_opts *o,
                                      struct mdl_model *out,
                                      struct fm_err *err);

#endif
