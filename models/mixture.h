/* models/mixture.h - a one-dimensional packet-feature distribution: atoms plus Gaussians.
 * A struct mdl_mixture is a plain value (fixed arrays, no pointers): copy it freely.
 * Atoms are exact values (in the feature's own unit: bytes, seconds) that carry a large
 * share of the samples, such as fixed codec frames, MTU-size fragments or, for gaps, exact
 * zeros. Components are Gaussians on x (scale linear) or on ln(x) (scale log). The weights
 * of all atoms and all components together sum to 1. Draws are truncated to [min, max] and
 * rounded to resolution when it is positive. Not thread-safe per object; no globals. */
#ifndef MODELS_MIXTURE_H
#define MODELS_MIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/rng.h"

#define MDL_MAX_K     10 /* most Gaussian components */
#define MDL_MAX_ATOMS 32 /* most atoms */

enum mdl_scale { MDL_SCALE_LINEAR = 0, MDL_SCALE_LOG = 1 };

struct mdl_atom {
    double value;  /* in the feature's unit */
    double weight; /* share of all samples */
};

struct mdl_comp {
    double weight; /* share of all samples (not of the non-atom part) */
    double mean;   /* on the component scale: x, or ln(x) for MDL_SCALE_LOG */
    double sd;     /* on the component scale, > 0 */
};

struct mdl_mixture {
    enum mdl_scale scale;
    double min, max;   /* smallest and largest sample, in the feature's unit */
    double resolution; /* quantum of the data in its unit (1 byte, the timestamp tick); 0 = none */
    uint64_t n;        /* samples fitted */
    size_t n_atoms;
    struct mdl_atom atoms[MDL_MAX_ATOMS];
    unsigned k; /* components in use, 0..MDL_MAX_K */
    struct mdl_comp comps[MDL_MAX_K];
    double bic;    /* BIC of the Gaussian part on its own samples (lower is better); 0 if k = 0 */
    double loglik; /* total log-likelihood of the Gaussian part on its own samples */
};

/* How mdl_mixture_fit() works. mdl_fit_opts_init() fills the defaults named below. */
struct mdl_fit_opts {
    enum mdl_scale scale;    /* default MDL_SCALE_LINEAR */
    unsigned k;              /* fixed number of components, or 0 = choose by BIC (default 0) */
    unsigned max_k;          /* upper bound for k = 0, 1..MDL_MAX_K (default 5) */
    unsigned restarts;       /* EM runs per k, best kept, >= 1 (default 3) */
    unsigned max_iter;       /* EM iterations per run (default 500) */
    double tol;              /* stop when the total log-likelihood gains less than tol * n (1e-7) */
    double atom_min_share;   /* a value is an atom when it holds at least this share (0.01); 0 = no
                                atoms */
    double trim_lo, trim_hi; /* percentile trimming of the Gaussian part, 0..100 (0, 100) */
    double resolution; /* data quantum in its unit, for rounding draws and the variance floor (0) */
    uint64_t seed;     /* for the randomised parts of initialisation (default 1) */
};

void mdl_fit_opts_init(struct mdl_fit_opts *o);

/* Fit a mixture to n samples x (in the feature's unit; for MDL_SCALE_LOG, x >= 0 and exact
 * zeros become an atom at 0 whatever their share). Finds atoms, then fits Gaussians with EM
 * to the rest. On success fills *out and returns FM_OK; returns FM_EINVAL for n == 0, a
 * negative or non-finite sample, or bad options, FM_ENOMEM when out of memory. */
FM_MUST_CHECK int mdl_mixture_fit(const double *x,
                                  size_t n,
                                  const struct mdl_fit_opts *o,
                                  struct mdl_mixture *out,
                                  struct fm_err *err);

/* Check that a mixture is usable (weights sum to 1 within 1e-6, sds > 0, min <= max, counts
 * in range). Returns FM_OK or FM_EFORMAT with a message naming the first problem. */
FM_MUST_CHECK int mdl_mixture_check(const struct mdl_mixture *m, struct fm_err *err);

/* One draw in the feature's unit, truncated to [min, max] and rounded to resolution. */
double mdl_mixture_sample(const struct mdl_mixture *m, struct fm_rng *r);

/* Density of the continuous part at x (feature unit, with the Jacobian for log scale) plus
 * nothing for atoms; used for plots. */
double mdl_mixture_pdf(const struct mdl_mixture *m, double x);

/* Share of the mixture's mass held by atoms, 0..1. */
double mdl_mixture_atom_share(const struct mdl_mixture *m);

#endif
