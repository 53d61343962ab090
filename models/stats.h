/* models/stats.h - distances between samples: two-sample Kolmogorov-Smirnov and
 * Wasserstein-1, plus the sort the models use. Inputs are borrowed and left unchanged (the
 * distance functions sort copies). Reentrant: no globals. */
#ifndef MODELS_STATS_H
#define MODELS_STATS_H

#include <stddef.h>

/* Two-sample KS statistic sup |F_a - F_b|, ties handled exactly. Returns NAN when either
 * sample is empty or memory runs out. */
double mdl_stats_ks(const double *a, size_t na, const double *b, size_t nb);

/* Wasserstein-1 (earth mover's) distance between the empirical distributions, in the unit
 * of the samples. Returns NAN when either sample is empty or memory runs out. */
double mdl_stats_w1(const double *a, size_t na, const double *b, size_t nb);

/* Sort n finite values ascending in place (radix sort, O(n); -0.0 becomes 0.0). Returns
 * FM_OK, or FM_ENOMEM with x unchanged. */
int mdl_stats_sort(double *x, size_t n);

/* Quantile q in [0, 1] of n sorted values (linear interpolation). n > 0. */
double mdl_stats_quantile_sorted(const double *sorted, size_t n, double q);

#endif
