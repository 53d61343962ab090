/* models/gmm.h - Gaussian mixtures fitted by EM on weighted points, with BIC selection.
 * The fitter works on sufficient statistics: the samples are sorted and gathered into bins
 * (count, sum, sum of squares), so that an iteration costs O(bins * k), not O(n * k), and
 * the M-step is exact for the within-bin spread. No function keeps pointers to caller data;
 * results are plain values. Reentrant: no globals. */
#ifndef MODELS_GMM_H
#define MODELS_GMM_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "models/mixture.h"

enum mdl_gmm_init { MDL_GMM_INIT_QUANTILE = 0, MDL_GMM_INIT_KMEANSPP = 1 };

struct mdl_gmm_opts {
    unsigned k;        /* fixed k, or 0 = choose by BIC in 1..max_k */
    unsigned max_k;    /* 1..MDL_MAX_K */
    unsigned restarts; /* runs per k: the first from quantiles, the others from k-means++ */
    unsigned max_iter;
    double tol;       /* relative: stop when the gain in total log-likelihood < tol * n */
    double var_floor; /* smallest variance a component may take (> 0) */
    uint64_t seed;
};

struct mdl_gmm_result {
    unsigned k;
    struct mdl_comp comps[MDL_MAX_K]; /* weights sum to 1 */
    double loglik;                    /* total log-likelihood of the samples */
    double bic;                       /* -2 loglik + (3k - 1) ln n */
    unsigned iters;                   /* EM iterations of the kept run */
    int converged;                    /* 1 if the kept run met tol before max_iter */
};

void mdl_gmm_opts_init(struct mdl_gmm_opts *o);

/* Fit to n samples x (any order, finite). Returns FM_OK and fills *out, FM_EINVAL when
 * n < 2 or options are out of range, FM_ENOMEM. With fewer distinct values than k the
 * surplus components are dropped (out->k may be smaller than asked). */
FM_MUST_CHECK int mdl_gmm_fit(const double *x,
                              size_t n,
                              const struct mdl_gmm_opts *o,
                              struct mdl_gmm_result *out,
                              struct fm_err *err);

/* Log-density of one point under k components. */
double mdl_gmm_logpdf(const struct mdl_comp *c, unsigned k, double x);

#endif
