/* models/stats.c - sorting, KS, Wasserstein-1, Jensen-Shannon and KDE Kullback-Leibler
 * distances, summaries and autocorrelation of samples. */
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
    if (n < 2)
        return FM_OK; /* nothing to order; x may be NULL, which qsort() must not see */
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

double mdl_stats_ks_sorted(const double *sa, size_t na, const double *sb, size_t nb)
{
    if (na == 0 || nb == 0)
        return (double)NAN;
    /* Both ECDFs are evaluated just after each distinct value: every copy of a value in
     * either sample is consumed before comparing, so ties never create a false step. Once
     * one sample is used up the difference can only shrink, so the walk stops there. */
    double d = 0.0;
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
    return d;
}

double mdl_stats_w1_sorted(const double *sa, size_t na, const double *sb, size_t nb)
{
    if (na == 0 || nb == 0)
        return (double)NAN;
    /* W1 is the integral of |F_a - F_b|. Both ECDFs are step functions, constant between
     * consecutive values of the merged samples, so the integral is a sum of rectangles. */
    double w = 0.0;
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
    return w;
}

/* A distance computed on sorted copies of both samples. */
static double on_sorted_copies(const double *a,
                               size_t na,
                               const double *b,
                               size_t nb,
                               double (*dist)(const double *, size_t, const double *, size_t))
{
    double d = (double)NAN;
    double *sa = NULL, *sb = NULL;

    if (na == 0 || nb == 0)
        goto out;
    sa = sorted_copy(a, na);
    sb = sorted_copy(b, nb);
    if (!sa || !sb)
        goto out;
    d = dist(sa, na, sb, nb);
out:
    free(sb);
    free(sa);
    return d;
}

double mdl_stats_ks(const double *a, size_t na, const double *b, size_t nb)
{
    return on_sorted_copies(a, na, b, nb, mdl_stats_ks_sorted);
}

double mdl_stats_w1(const double *a, size_t na, const double *b, size_t nb)
{
    return on_sorted_copies(a, na, b, nb, mdl_stats_w1_sorted);
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

const double mdl_stats_pct[MDL_STATS_NPCT] = {5, 25, 50, 75, 95, 99};

void mdl_stats_summary_sorted(const double *sorted, size_t n, struct mdl_stats_summary *out)
{
    out->n = n;
    if (n == 0) {
        out->mean = out->sd = out->min = out->max = (double)NAN;
        for (int i = 0; i < MDL_STATS_NPCT; i++)
            out->pct[i] = (double)NAN;
        return;
    }
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += sorted[i];
    double mean = sum / (double)n;
    /* Two passes: the second sums squared deviations from the mean, which stays accurate
     * where the sum of squares minus the squared sum would cancel (gaps of nanoseconds next
     * to a mean of seconds). */
    double ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (sorted[i] - mean) * (sorted[i] - mean);
    out->mean = mean;
    out->sd = n > 1 ? sqrt(ss / (double)(n - 1)) : 0.0;
    out->min = sorted[0];
    out->max = sorted[n - 1];
    for (int i = 0; i < MDL_STATS_NPCT; i++)
        out->pct[i] = mdl_stats_quantile_sorted(sorted, n, mdl_stats_pct[i] / 100.0);
}

/* x ln(x / m), with 0 ln 0 = 0. */
static double xlogx_over(double x, double m)
{
    return x > 0.0 ? x * log(x / m) : 0.0;
}

double mdl_stats_jsd_sorted(const double *sa, size_t na, const double *sb, size_t nb, unsigned bins)
{
    double jsd = (double)NAN;
    double *ca = NULL, *cb = NULL;

    if (na == 0 || nb == 0 || bins == 0)
        goto out;
    double lo = sa[0] < sb[0] ? sa[0] : sb[0];
    double hi = sa[na - 1] > sb[nb - 1] ? sa[na - 1] : sb[nb - 1];
    jsd = 0.0;
    if (!(hi > lo))
        goto out; /* one value in both samples: the same distribution */
    ca = calloc(bins, sizeof(*ca));
    cb = calloc(bins, sizeof(*cb));
    if (!ca || !cb) {
        jsd = (double)NAN;
        goto out;
    }
    double scale = (double)bins / (hi - lo);
    for (size_t i = 0; i < na; i++) {
        size_t k = (size_t)((sa[i] - lo) * scale);
        ca[k < bins ? k : bins - 1] += 1.0;
    }
    for (size_t i = 0; i < nb; i++) {
        size_t k = (size_t)((sb[i] - lo) * scale);
        cb[k < bins ? k : bins - 1] += 1.0;
    }
    for (unsigned k = 0; k < bins; k++) {
        double p = ca[k] / (double)na, q = cb[k] / (double)nb, m = 0.5 * (p + q);
        jsd += 0.5 * xlogx_over(p, m) + 0.5 * xlogx_over(q, m);
    }
    /* Rounding can leave a tiny negative sum for near-identical histograms; the bounds are
     * exact in theory. */
    jsd = jsd < 0.0 ? 0.0 : (jsd > M_LN2 ? M_LN2 : jsd);
out:
    free(cb);
    free(ca);
    return jsd;
}

double mdl_stats_kde_bandwidth_sorted(const double *sorted, size_t n)
{
    if (n < 2)
        return 0.0;
    struct mdl_stats_summary s;
    mdl_stats_summary_sorted(sorted, n, &s);
    double iqr = (s.pct[3] - s.pct[1]) / 1.34;
    double spread = iqr > 0.0 && iqr < s.sd ? iqr : s.sd;
    return 0.9 * spread * pow((double)n, -0.2);
}

#define KDE_FLOOR 1e-10

/* The binned KDE of a sorted sample on the grid lo + j * dx, j < grid, as probabilities
 * (floored, summing to 1) into p; work holds 2 * grid doubles. */
static void kde_on_grid(const double *x,
                        size_t n,
                        double h,
                        double lo,
                        double dx,
                        unsigned grid,
                        double *p,
                        double *work)
{
    double *bin = work, *kern = work + grid;
    /* Linear binning: each sample splits its unit weight between the two grid points around
     * it, which keeps the mean of the binned data exact. */
    memset(bin, 0, grid * sizeof(*bin));
    for (size_t i = 0; i < n; i++) {
        double u = (x[i] - lo) / dx;
        size_t j = u > 0.0 ? (size_t)u : 0;
        if (j >= grid - 1) {
            bin[grid - 1] += 1.0;
            continue;
        }
        double f = u - (double)j;
        bin[j] += 1.0 - f;
        bin[j + 1] += f;
    }
    /* The kernel, cut at four bandwidths and normalised on the grid, so that a kernel narrower
     * than a grid step keeps all its mass on its own point. */
    size_t m = h > 0.0 ? (size_t)ceil(4.0 * h / dx) : 0;
    if (m > grid - 1)
        m = grid - 1;
    double ksum = 0.0;
    for (size_t d = 0; d <= m; d++) {
        double z = (double)d * dx / (h > 0.0 ? h : 1.0);
        kern[d] = exp(-0.5 * z * z);
        ksum += d ? 2.0 * kern[d] : kern[d];
    }
    double total = 0.0;
    for (size_t j = 0; j < grid; j++) {
        double v = 0.0;
        size_t first = j > m ? j - m : 0, last = j + m < grid ? j + m : grid - 1;
        for (size_t i = first; i <= last; i++)
            v += bin[i] * kern[i > j ? i - j : j - i];
        p[j] = v / ksum;
        total += p[j];
    }
    for (size_t j = 0; j < grid; j++)
        p[j] = (p[j] / total + KDE_FLOOR) / (1.0 + (double)grid * KDE_FLOOR);
}

double
mdl_stats_kl_kde_sorted(const double *sa, size_t na, const double *sb, size_t nb, unsigned grid)
{
    double kl = (double)NAN;
    double *p = NULL, *q = NULL, *work = NULL;

    if (na == 0 || nb == 0 || grid < 2)
        goto out;
    double ha = mdl_stats_kde_bandwidth_sorted(sa, na);
    double hb = mdl_stats_kde_bandwidth_sorted(sb, nb);
    double hmax = ha > hb ? ha : hb;
    double lo = (sa[0] < sb[0] ? sa[0] : sb[0]) - 4.0 * hmax;
    double hi = (sa[na - 1] > sb[nb - 1] ? sa[na - 1] : sb[nb - 1]) + 4.0 * hmax;
    kl = 0.0;
    if (!(hi > lo))
        goto out; /* one value in both samples */
    p = malloc(grid * sizeof(*p));
    q = malloc(grid * sizeof(*q));
    work = malloc(2 * (size_t)grid * sizeof(*work));
    if (!p || !q || !work) {
        kl = (double)NAN;
        goto out;
    }
    double dx = (hi - lo) / (double)(grid - 1);
    kde_on_grid(sa, na, ha, lo, dx, grid, p, work);
    kde_on_grid(sb, nb, hb, lo, dx, grid, q, work);
    for (unsigned j = 0; j < grid; j++)
        kl += p[j] * log(p[j] / q[j]);
    if (kl < 0.0)
        kl = 0.0; /* rounding; KL is never negative */
out:
    free(work);
    free(q);
    free(p);
    return kl;
}

void mdl_stats_acf(const double *x, size_t n, unsigned max_lag, double *out)
{
    for (unsigned k = 0; k < max_lag; k++)
        out[k] = (double)NAN;
    if (n < 2)
        return;
    /* A constant series has no autocorrelation; test it exactly, since its computed mean can
     * be off by a rounding error and leave a variance of noise. */
    size_t t0 = 1;
    while (t0 < n && x[t0] == x[0])
        t0++;
    if (t0 == n)
        return;
    double mean = 0.0;
    for (size_t t = 0; t < n; t++)
        mean += x[t];
    mean /= (double)n;
    double var = 0.0;
    for (size_t t = 0; t < n; t++)
        var += (x[t] - mean) * (x[t] - mean);
    if (!(var > 0.0))
        return;
    for (unsigned k = 1; k <= max_lag && k < n; k++) {
        double c = 0.0;
        for (size_t t = 0; t + k < n; t++)
            c += (x[t] - mean) * (x[t + k] - mean);
        out[k - 1] = c / var;
    }
}
