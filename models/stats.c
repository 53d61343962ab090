/* models/stats.c - sorting, KS and Wasserstein-1 distances, quantiles of sorted samples. */
#include "models/stats.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

/* Below this size qsort beats the fixed cost of the radix passes. */
#define SMALL_SORT 512
#define RADIX_BITS 11
#define RADIX_SIZE (1u << RADIX_BITS)
#define RADIX_MASK (RADIX_SIZE - 1u)
#define RADIX_PASS 6 /* 6 * 11 >= 64 */

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* Map a double to an unsigned key with the same order: flip every bit of negatives (their
 * magnitude order is reversed) and only the sign bit of positives. */
static uint64_t dkey(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return (u & 0x8000000000000000u) ? ~u : u | 0x8000000000000000u;
}

static double dval(uint64_t k)
{
    uint64_t u = (k & 0x8000000000000000u) ? k & ~0x8000000000000000u : ~k;
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

int mdl_stats_sort(double *x, size_t n)
{
    int rc = FM_OK;
    uint64_t *a = NULL, *b = NULL;
    size_t(*hist)[RADIX_SIZE] = NULL;

    /* -0.0 and 0.0 compare equal but have different bits; make them one value so that runs
     * of equal values stay contiguous after the radix sort. */
    for (size_t i = 0; i < n; i++)
        x[i] += 0.0;
    if (n < SMALL_SORT) {
        qsort(x, n, sizeof(*x), cmp_double);
        return FM_OK;
    }
    a = malloc(n * sizeof(*a));
    b = malloc(n * sizeof(*b));
    hist = calloc(RADIX_PASS, sizeof(*hist));
    if (!a || !b || !hist) {
        rc = FM_ENOMEM;
        goto out;
    }
    /* LSD radix sort, 11 bits a pass: all histograms are gathered in one read, and passes in
     * which every key has the same digit (the exponent bits of most data) are skipped. */
    for (size_t i = 0; i < n; i++) {
        uint64_t k = dkey(x[i]);
        a[i] = k;
        for (unsigned p = 0; p < RADIX_PASS; p++)
            hist[p][(k >> (p * RADIX_BITS)) & RADIX_MASK]++;
    }
    for (unsigned p = 0; p < RADIX_PASS; p++) {
        unsigned shift = p * RADIX_BITS;
        if (hist[p][(a[0] >> shift) & RADIX_MASK] == n)
            continue;
        size_t sum = 0;
        for (unsigned d = 0; d < RADIX_SIZE; d++) {
            size_t c = hist[p][d];
            hist[p][d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            b[hist[p][(a[i] >> shift) & RADIX_MASK]++] = a[i];
        uint64_t *t = a;
        a = b;
        b = t;
    }
    for (size_t i = 0; i < n; i++)
        x[i] = dval(a[i]);
out:
    free(hist);
    free(b);
    free(a);
    return rc;
}

/* Sorted copy of x, or NULL when out of memory. */
static double *sorted_copy(const double *x, size_t n)
{
    double *c = malloc(n * sizeof(*c));
    if (!c)
        return NULL;
    memcpy(c, x, n * sizeof(*c));
    if (mdl_stats_sort(c, n) < 0) {
        free(c);
        return NULL;
    }
    return c;
}

double mdl_stats_ks(const double *a, size_t na, const double *b, size_t nb)
{
    double d = (double)NAN;
    double *sa = NULL, *sb = NULL;

    if (na == 0 || nb == 0)
        goto out;
    sa = sorted_copy(a, na);
    sb = sorted_copy(b, nb);
    if (!sa || !sb)
        goto out;
    /* Both ECDFs are evaluated just after each distinct value: every copy of a value in
     * either sample is consumed before comparing, so ties never create a false step. Once
     * one sample is used up the difference can only shrink, so the walk stops there. */
    d = 0.0;
    size_t i = 0, j = 0;
    while (i < na && j < nb) {
        double v = sa[i] < sb[j] ? sa[i] : sb[j];
        while (i < na && sa[i] <= v)
            i++;
        while (j < nb && sb[j] <= v)
            j++;
        double diff = fabs((double)i / (double)na - (double)j / (double)nb);
        if (diff > d)
            d = diff;
    }
out:
    free(sb);
    free(sa);
    return d;
}

double mdl_stats_w1(const double *a, size_t na, const double *b, size_t nb)
{
    double w = (double)NAN;
    double *sa = NULL, *sb = NULL;

    if (na == 0 || nb == 0)
        goto out;
    sa = sorted_copy(a, na);
    sb = sorted_copy(b, nb);
    if (!sa || !sb)
        goto out;
    /* W1 is the integral of |F_a - F_b|. Both ECDFs are step functions, constant between
     * consecutive values of the merged samples, so the integral is a sum of rectangles. */
    w = 0.0;
    size_t i = 0, j = 0;
    double prev = sa[0] < sb[0] ? sa[0] : sb[0];
    while (i < na || j < nb) {
        double v;
        if (j >= nb || (i < na && sa[i] <= sb[j]))
            v = sa[i];
        else
            v = sb[j];
        w += fabs((double)i / (double)na - (double)j / (double)nb) * (v - prev);
        while (i < na && sa[i] <= v)
            i++;
        while (j < nb && sb[j] <= v)
            j++;
        prev = v;
    }
out:
    free(sb);
    free(sa);
    return w;
}

double mdl_stats_quantile_sorted(const double *sorted, size_t n, double q)
{
    if (n == 1 || !(q > 0.0))
        return sorted[0];
    if (q >= 1.0)
        return sorted[n - 1];
    double h = q * (double)(n - 1);
    size_t lo = (size_t)h;
    if (lo >= n - 1)
        return sorted[n - 1];
    return sorted[lo] + (h - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}
