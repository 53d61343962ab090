/* models/stats.h - distances between samples: two-sample Kolmogorov-Smirnov, Wasserstein-1,
 * Jensen-Shannon divergence on a shared binning and Kullback-Leibler divergence between
 * kernel density estimates; summaries (mean, sd, percentiles), autocorrelation, and the sort
 * the models use. Inputs are borrowed and left unchanged (mdl_stats_ks/w1 sort copies; the
 * _sorted functions take samples already sorted ascending, so that a caller comparing many
 * statistics of the same samples sorts them once). Reentrant: no globals. */
#ifndef MODELS_STATS_H
#define MODELS_STATS_H

#include "common/err.h"
#include <stddef.h>

/* Two-sample KS statistic sup |F_a - F_b|, ties handled exactly. Returns NAN when either
 * sample is empty or memory runs out. */
double mdl_stats_ks(const double *a, size_t na, const double *b, size_t nb);

/* Wasserstein-1 (earth mover's) distance between the empirical distributions, in the unit
 * of the samples. Returns NAN when either sample is empty or memory runs out. */
double mdl_stats_w1(const double *a, size_t na, const double *b, size_t nb);

/* Sort n finite values ascending in place (radix sort, O(n); -0.0 becomes 0.0). Returns
 * FM_OK, or FM_ENOMEM with x unchanged. */
FM_MUST_CHECK int mdl_stats_sort(double *x, size_t n);

/* Quantile q in [0, 1] of n sorted values (linear interpolation). n > 0. */
double mdl_stats_quantile_sorted(const double *sorted, size_t n, double q);

/* The percentiles of a summary, in percent: 5, 25, 50, 75, 95, 99. */
#define MDL_STATS_NPCT 6
extern const double mdl_stats_pct[MDL_STATS_NPCT];

struct mdl_stats_summary {
    size_t n;
    double mean;
    double sd; /* sample standard deviation (n - 1 in the denominator); 0 when n == 1 */
    double min, max;
    double pct[MDL_STATS_NPCT]; /* at the levels of mdl_stats_pct, linear interpolation */
};

/* Summary of n sorted values. With n == 0 every field but n is NAN. */
void mdl_stats_summary_sorted(const double *sorted, size_t n, struct mdl_stats_summary *out);

/* mdl_stats_ks() and mdl_stats_w1() on samples already sorted ascending: no allocation. NAN
 * when either sample is empty. */
double mdl_stats_ks_sorted(const double *sa, size_t na, const double *sb, size_t nb);
double mdl_stats_w1_sorted(const double *sa, size_t na, const double *sb, size_t nb);

/* Jensen-Shannon divergence, natural log (0 .. ln 2), between the histograms of two sorted
 * samples on one shared binning: bins equal-width bins spanning the pooled range [min, max]
 * of both samples (the last bin closed). Symmetric; 0 for identical samples, and also when
 * every value of both samples is the same. NAN when either sample is empty or bins == 0. */
double
mdl_stats_jsd_sorted(const double *sa, size_t na, const double *sb, size_t nb, unsigned bins);

/* Silverman's rule-of-thumb bandwidth of a Gaussian kernel for n sorted values:
 * 0.9 * min(sd, IQR / 1.34) * n^(-1/5), with sd alone when the IQR is 0 (more than half the
 * values equal). 0 when all values are equal or n < 2. */
double mdl_stats_kde_bandwidth_sorted(const double *sorted, size_t n);

/* Kullback-Leibler divergence KL(A || B), natural log, between Gaussian kernel density
 * estimates of two sorted samples, each with its own Silverman bandwidth. Both densities are
 * evaluated on one shared grid of grid points spanning the pooled range widened by four of
 * the larger bandwidth on each side (binned KDE: the samples are linearly binned onto the grid
 * and convolved with the discretised kernel, O(n + grid^2)), turned into probabilities over
 * the grid, and floored: p_i = (p_i + 1e-10) / (1 + grid * 1e-10), so that KL stays finite
 * where B has no mass (at most about 23 nats). A bandwidth below the grid spacing leaves the
 * binned masses as they are. 0 for identical samples. NAN when either sample is empty, grid
 * < 2, or memory runs out. */
double
mdl_stats_kl_kde_sorted(const double *sa, size_t na, const double *sb, size_t nb, unsigned grid);

/* Autocorrelation of x (in order) at lags 1..max_lag into out[0..max_lag-1]:
 * r_k = sum_t (x_t - m)(x_{t+k} - m) / sum_t (x_t - m)^2, the usual biased estimator.
 * NAN at lags >= n, and at every lag when x has no variance. */
void mdl_stats_acf(const double *x, size_t n, unsigned max_lag, double *out);

#endif
