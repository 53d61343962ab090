/* models/stats.h - distances between samples: two-sample Kolmogorov-Smirnov and
 * Wasserstein-1. Inputs are borrowed and left unchanged (the functions sort copies). */
#ifndef MODELS_STATS_H
#define MODELS_STATS_H

#include <stddef.h>

/* Two-sample KS statistic sup |F_a - F_b|, ties handled exactly. Returns NAN when either
 * sample is empty or memory runs out. */
double mdl_stats_ks(const double *a, size_t na, const double *b, size_t nb);

/* Wasserstein-1 (earth mover's) distance between the empirical distributions, in the unit
 * of the samples. Returns NAN when either sample is empty or memory runs out. */
double mdl_stats_w1(const double *a, size_t na, const double *b, size_t nb);

/* Quantile q in [0, 1] of n sorted values (linear interpolation). n > 0. */
double mdl_stats_quantile_sorted(const double *sorted, size_t n, double q);

#endif
