/* models/seqfit.h - fitting the per-side sequence model (models/seq.h) to a packet series.
 * Steps: cluster (payload length, ln gap) with a 2-D Gaussian mixture chosen by BIC on a
 * seeded subsample; label every packet with its most likely cluster (split by the RTP marker
 * when given); fit a Markov chain over the labels whose order (0..3) is chosen by BIC, keeping
 * the histories that occur often enough; per state, the empirical distributions of length and
 * gap (with the means of skewed pieces) and the copula AR(1) coefficients, then calibrated by
 * drawing 20000 packets per step until the draws' lag-1 autocorrelation of length and of gap
 * is the capture's. Inputs are borrowed; the result is a plain value. Reentrant: no globals. */
#ifndef MODELS_SEQFIT_H
#define MODELS_SEQFIT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "models/seq.h"

struct mdl_seq_fit_opts {
    unsigned max_clusters; /* 1..12 (default 12; 8 when markers split the states) */
    unsigned max_order;    /* 0..MDL_SEQ_MAX_ORDER (default 3) */
    size_t subsample;      /* packets the clusters are fitted on (default 10000) */
    uint64_t min_state;    /* fewest packets of a state (default 40) */
    uint64_t min_ctx;      /* fewest occurrences of a stored history (default 20) */
    uint64_t seed;         /* subsample and initialisation (default 1) */
};

void mdl_seq_fit_opts_init(struct mdl_seq_fit_opts *o);

/* Fit to n packets in time order: len[i] payload bytes, gap_ns[i] the whole ns since the
 * previous packet (>= 0), marker[i] the RTP marker bit or marker NULL (then no state carries
 * one). tick_ns is the timestamps' tick (1 .. 1e9). Returns FM_OK and fills *out; FM_EINVAL for
 * n < 2, a negative gap or bad options; FM_ENOMEM. */
FM_MUST_CHECK int mdl_seq_fit(const double *len,
                              const int64_t *gap_ns,
                              const uint8_t *marker,
                              size_t n,
                              double tick_ns,
                              const struct mdl_seq_fit_opts *o,
                              struct mdl_seq *out,
                              struct fm_err *err);

/* The chain part alone, on n labels in 0..k-1 (k <= MDL_SEQ_MAX_STATES): chooses the order in
 * 0..max_order by BIC, fills s->order, s->bic, s->n_ctx and s->ctx (histories seen at least
 * min_ctx times, pruned to MDL_SEQ_MAX_CTX, sorted). s->k must be set. Returns FM_OK,
 * FM_EINVAL or FM_ENOMEM. */
FM_MUST_CHECK int mdl_seq_fit_chain(const uint8_t *labels,
                                    size_t n,
                                    unsigned max_order,
                                    uint64_t min_ctx,
                                    struct mdl_seq *s,
                                    struct fm_err *err);

/* Drop the least-seen histories (longest first among equals, never the empty one) until the
 * side's "sequence" prints to at most MDL_SEQ_MAX_JSON bytes, then if need be the pieces'
 * means. Returns FM_OK or FM_ENOMEM. */
FM_MUST_CHECK int mdl_seq_fit_bound(struct mdl_seq *s, struct fm_err *err);

#endif
