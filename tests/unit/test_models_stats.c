/* tests/unit/test_models_stats.c - KS, Wasserstein-1, JSD, KDE KL, summaries, autocorrelation,
 * quantiles and the radix sort. */
#include "common/rng.h"
#include "models/stats.h"
#include "tests/support/test_util.h"

#include <string.h>

static void test_sort(void **state)
{
    (void)state;
    size_t n = 100000;
    double *x = malloc(n * sizeof(*x));
    assert_non_null(x);
    struct fm_rng *r = fm_rng_new(3);
    assert_non_null(r);
    for (size_t i = 0; i < n; i++)
        x[i] = i % 7 == 0 ? (double)(i % 13) - 6.0 : 1e3 * fm_rng_gauss(r);
    x[5] = -0.0;
    x[6] = 1e300;
    x[7] = -1e300;
    x[8] = 5e-324;
    assert_int_equal(mdl_stats_sort(x, n), 0);
    for (size_t i = 1; i < n; i++)
        assert_true(x[i - 1] <= x[i]);
    assert_true(x[0] == -1e300 && x[n - 1] == 1e300);
    /* -0.0 became 0.0, so all zeros form one run of identical bits. */
    for (size_t i = 0; i < n; i++)
        if (x[i] == 0.0)
            assert_false(signbit(x[i]));
    double small[5] = {3, -1, 2, -0.0, 0};
    assert_int_equal(mdl_stats_sort(small, 5), 0);
    assert_true(small[0] == -1 && small[1] == 0 && small[3] == 2 && small[4] == 3);
    fm_rng_free(r);
    free(x);
}

static void test_ks_basic(void **state)
{
    (void)state;
    double a[] = {1, 2, 3, 4, 5};
    double b[] = {5, 4, 3, 2, 1};
    double c[] = {10, 11, 12};
    assert_double_near(mdl_stats_ks(a, 5, b, 5), 0.0, 0.0);
    assert_double_near(mdl_stats_ks(a, 5, c, 3), 1.0, 0.0);
    assert_double_near(mdl_stats_ks(c, 3, a, 5), 1.0, 0.0);
    /* Interleaved: a = {1,3}, b = {2,4}: F_a - F_b peaks at 1/2 after 1 and after 3. */
    double d[] = {1, 3}, e[] = {2, 4};
    assert_double_near(mdl_stats_ks(d, 2, e, 2), 0.5, 1e-15);
    assert_true(isnan(mdl_stats_ks(a, 0, b, 5)));
    assert_true(isnan(mdl_stats_w1(a, 5, b, 0)));
}

static void test_ks_ties(void **state)
{
    (void)state;
    /* All values tied between the samples: the ECDFs agree after every distinct value,
     * although a naive walk that steps one element at a time would see 1/2 at value 1. */
    double a[] = {1, 1, 2, 2};
    double b[] = {1, 2, 1, 2};
    assert_double_near(mdl_stats_ks(a, 4, b, 4), 0.0, 0.0);
    /* a = {1,1,1,2}, b = {1,2,2,2}: F_a(1) = 3/4, F_b(1) = 1/4. */
    double c[] = {1, 1, 1, 2};
    double d[] = {2, 1, 2, 2};
    assert_double_near(mdl_stats_ks(c, 4, d, 4), 0.5, 1e-15);
    /* Unequal sizes with ties: a = {0, 0, 1}, b = {0, 1}: F_a(0) = 2/3, F_b(0) = 1/2. */
    double e[] = {0, 1, 0};
    double f[] = {1, 0};
    assert_double_near(mdl_stats_ks(e, 3, f, 2), 1.0 / 6.0, 1e-15);
}

static void test_shifted_uniform(void **state)
{
    (void)state;
    /* Grids: a = {0, 1, ..., 999} / 1000, b = a + 0.1: KS is 100/1000 exactly, and W1 is the
     * shift, 0.1. */
    size_t n = 1000;
    double *a = malloc(n * sizeof(*a)), *b = malloc(n * sizeof(*b));
    assert_non_null(a);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++) {
        a[i] = (double)i / 1000.0;
        b[i] = (double)(i + 100) / 1000.0;
    }
    assert_double_near(mdl_stats_ks(a, n, b, n), 0.1, 1e-12);
    assert_double_near(mdl_stats_w1(a, n, b, n), 0.1, 1e-12);
    assert_double_near(mdl_stats_w1(b, n, a, n), 0.1, 1e-12);
    assert_double_near(mdl_stats_w1(a, n, a, n), 0.0, 0.0);
    free(a);
    free(b);

    /* Random uniform samples shifted by d = 0.25: KS and W1 both tend to d. */
    n = 200000;
    a = malloc(n * sizeof(*a));
    b = malloc(n * sizeof(*b));
    assert_non_null(a);
    assert_non_null(b);
    struct fm_rng *r = fm_rng_new(11);
    assert_non_null(r);
    for (size_t i = 0; i < n; i++) {
        a[i] = fm_rng_uniform(r);
        b[i] = fm_rng_uniform(r) + 0.25;
    }
    assert_double_near(mdl_stats_ks(a, n, b, n), 0.25, 5e-3);
    assert_double_near(mdl_stats_w1(a, n, b, n), 0.25, 2e-3);
    fm_rng_free(r);
    free(a);
    free(b);
}

static void test_w1_unequal(void **state)
{
    (void)state;
    /* a = {0}, b = {0, 1}: |F_a - F_b| = 1/2 on [0, 1). */
    double a[] = {0};
    double b[] = {1, 0};
    assert_double_near(mdl_stats_w1(a, 1, b, 2), 0.5, 1e-15);
    /* Point masses at 2 and 5: the distance between them. */
    double c[] = {2, 2, 2};
    double d[] = {5};
    assert_double_near(mdl_stats_w1(c, 3, d, 1), 3.0, 1e-15);
}

static void test_quantile(void **state)
{
    (void)state;
    double x[] = {1, 2, 3, 4, 5};
    assert_double_near(mdl_stats_quantile_sorted(x, 5, 0.0), 1.0, 0.0);
    assert_double_near(mdl_stats_quantile_sorted(x, 5, 1.0), 5.0, 0.0);
    assert_double_near(mdl_stats_quantile_sorted(x, 5, 0.5), 3.0, 0.0);
    assert_double_near(mdl_stats_quantile_sorted(x, 5, 0.125), 1.5, 1e-15);
    assert_double_near(mdl_stats_quantile_sorted(x, 1, 0.7), 1.0, 0.0);
    assert_double_near(mdl_stats_quantile_sorted(x, 5, -1.0), 1.0, 0.0);
    assert_double_near(mdl_stats_quantile_sorted(x, 5, 2.0), 5.0, 0.0);
}

/* n draws of N(mu, sd), sorted. */
static double *gauss_sorted(struct fm_rng *r, size_t n, double mu, double sd)
{
    double *x = malloc(n * sizeof(*x));
    assert_non_null(x);
    for (size_t i = 0; i < n; i++)
        x[i] = mu + sd * fm_rng_gauss(r);
    assert_int_equal(mdl_stats_sort(x, n), 0);
    return x;
}

static void test_identical_all_zero(void **state)
{
    (void)state;
    struct fm_rng *r = fm_rng_new(5);
    assert_non_null(r);
    size_t n = 20000;
    double *a = gauss_sorted(r, n, 3.0, 2.0);
    /* Identical samples: every distance is exactly 0, not merely small. */
    assert_double_near(mdl_stats_ks_sorted(a, n, a, n), 0.0, 0.0);
    assert_double_near(mdl_stats_w1_sorted(a, n, a, n), 0.0, 0.0);
    assert_double_near(mdl_stats_jsd_sorted(a, n, a, n, 100), 0.0, 0.0);
    assert_double_near(mdl_stats_kl_kde_sorted(a, n, a, n, 512), 0.0, 0.0);
    /* A constant sample against itself: no range, no bandwidth, still 0. */
    double c[4] = {7, 7, 7, 7};
    assert_double_near(mdl_stats_jsd_sorted(c, 4, c, 4, 10), 0.0, 0.0);
    assert_double_near(mdl_stats_kl_kde_sorted(c, 4, c, 4, 64), 0.0, 0.0);
    assert_double_near(mdl_stats_kde_bandwidth_sorted(c, 4), 0.0, 0.0);
    /* Nothing to sort, not even an array: fine (qsort() must never see the NULL). */
    assert_int_equal(mdl_stats_sort(NULL, 0), 0);
    /* Empty samples have no distance. */
    assert_true(isnan(mdl_stats_jsd_sorted(a, 0, a, n, 10)));
    assert_true(isnan(mdl_stats_kl_kde_sorted(a, n, a, 0, 64)));
    assert_true(isnan(mdl_stats_ks_sorted(a, 0, a, n)));
    fm_rng_free(r);
    free(a);
}

static void test_jsd_bounds_symmetry(void **state)
{
    (void)state;
    /* Disjoint supports on the shared binning: the maximum, ln 2. */
    double a[] = {0, 1, 2, 3}, b[] = {10, 11, 12};
    assert_double_near(mdl_stats_jsd_sorted(a, 4, b, 3, 10), M_LN2, 1e-12);
    /* Two bins, a = {0, 0, 1, 1}, b = {0, 1, 1, 1}: P = (1/2, 1/2), Q = (1/4, 3/4),
     * M = (3/8, 5/8); JSD = 1/2 KL(P||M) + 1/2 KL(Q||M), worked out by hand here. */
    double c[] = {0, 0, 1, 1}, d[] = {0, 1, 1, 1};
    double p0 = 0.5, p1 = 0.5, q0 = 0.25, q1 = 0.75, m0 = 0.375, m1 = 0.625;
    double want = 0.5 * (p0 * log(p0 / m0) + p1 * log(p1 / m1)) +
                  0.5 * (q0 * log(q0 / m0) + q1 * log(q1 / m1));
    assert_double_near(mdl_stats_jsd_sorted(c, 4, d, 4, 2), want, 1e-15);
    /* Symmetric and within (0, ln 2) on random samples of different sizes. */
    struct fm_rng *r = fm_rng_new(9);
    assert_non_null(r);
    double *x = gauss_sorted(r, 5000, 0.0, 1.0);
    double *y = gauss_sorted(r, 3000, 0.7, 1.5);
    double jxy = mdl_stats_jsd_sorted(x, 5000, y, 3000, 64);
    double jyx = mdl_stats_jsd_sorted(y, 3000, x, 5000, 64);
    assert_double_near(jxy, jyx, 1e-15);
    assert_true(jxy > 0.01 && jxy < M_LN2);
    fm_rng_free(r);
    free(x);
    free(y);
}

static void test_kl_kde_shift(void **state)
{
    (void)state;
    /* B is A shifted by d: both KDEs are the same curve, shifted, close to Gaussians of
     * variance 1 + h^2, so KL(A||B) is close to d^2 / (2 (1 + h^2)). */
    struct fm_rng *r = fm_rng_new(21);
    assert_non_null(r);
    size_t n = 100000;
    double *a = gauss_sorted(r, n, 0.0, 1.0);
    double *b = malloc(n * sizeof(*b));
    assert_non_null(b);
    double d = 0.5;
    for (size_t i = 0; i < n; i++)
        b[i] = a[i] + d;
    double h = mdl_stats_kde_bandwidth_sorted(a, n);
    /* Silverman's rule on N(0, 1): 0.9 * 1 * n^-0.2. */
    assert_double_near(h, 0.9 * pow((double)n, -0.2), 0.01);
    double want = d * d / (2.0 * (1.0 + h * h));
    assert_double_near(mdl_stats_kl_kde_sorted(a, n, b, n, 512), want, 0.01 * want + 1e-3);
    /* KL is not symmetric in general but is here (a shift of the same shape). */
    assert_double_near(mdl_stats_kl_kde_sorted(b, n, a, n, 512), want, 0.01 * want + 1e-3);
    /* W1 of an exact shift is the shift; KS of a Gaussian shifted by d is 2 Phi(d/2) - 1. */
    assert_double_near(mdl_stats_w1_sorted(a, n, b, n), d, 1e-9);
    assert_double_near(mdl_stats_ks_sorted(a, n, b, n), erf(d / 2.0 / M_SQRT2), 0.01);
    /* Disjoint samples: the floor keeps KL finite (below ln(1e10) ~ 23 nats). */
    double c[] = {0, 0.1, 0.2}, e[] = {100, 100.1, 100.2};
    double kl = mdl_stats_kl_kde_sorted(c, 3, e, 3, 256);
    assert_true(isfinite(kl) && kl > 10.0 && kl < 23.1);
    fm_rng_free(r);
    free(a);
    free(b);
}

static void test_summary(void **state)
{
    (void)state;
    double x[101];
    for (int i = 0; i <= 100; i++)
        x[i] = i;
    struct mdl_stats_summary s;
    mdl_stats_summary_sorted(x, 101, &s);
    assert_int_equal(s.n, 101);
    assert_double_near(s.mean, 50.0, 1e-12);
    /* Sample sd of 0..100: sqrt(sum (i - 50)^2 / 100) = sqrt(101 * 100 * 101 / 12 / 100)... */
    double ss = 0;
    for (int i = 0; i <= 100; i++)
        ss += (i - 50.0) * (i - 50.0);
    assert_double_near(s.sd, sqrt(ss / 100.0), 1e-12);
    for (int i = 0; i < MDL_STATS_NPCT; i++)
        assert_double_near(s.pct[i], mdl_stats_pct[i], 1e-12); /* value i is the i-th percentile */
    assert_double_near(s.min, 0.0, 0.0);
    assert_double_near(s.max, 100.0, 0.0);
    mdl_stats_summary_sorted(x, 0, &s);
    assert_true(isnan(s.mean) && isnan(s.pct[2]));
    mdl_stats_summary_sorted(x + 7, 1, &s);
    assert_double_near(s.sd, 0.0, 0.0);
    assert_double_near(s.pct[5], 7.0, 0.0);
}

static void test_acf(void **state)
{
    (void)state;
    double out[10];
    /* Alternating +1, -1 (n even, mean 0): r_k = (-1)^k (n - k) / n exactly. */
    size_t n = 1000;
    double *x = malloc(n * sizeof(*x));
    assert_non_null(x);
    for (size_t i = 0; i < n; i++)
        x[i] = i % 2 ? -1.0 : 1.0;
    mdl_stats_acf(x, n, 10, out);
    for (int k = 1; k <= 10; k++)
        assert_double_near(out[k - 1], (k % 2 ? -1.0 : 1.0) * (double)(n - k) / (double)n, 1e-12);
    free(x);
    /* AR(1) x_t = phi x_{t-1} + e_t: r_k -> phi^k. With 4e5 samples the estimator's sd is
     * about sqrt((1 + phi^2) / n) ~ 0.002 at lag 1, so 0.01 is five of them. */
    n = 400000;
    x = malloc(n * sizeof(*x));
    assert_non_null(x);
    struct fm_rng *r = fm_rng_new(17);
    assert_non_null(r);
    double phi = 0.8;
    x[0] = 0;
    for (size_t i = 1; i < n; i++)
        x[i] = phi * x[i - 1] + fm_rng_gauss(r);
    mdl_stats_acf(x, n, 10, out);
    for (int k = 1; k <= 10; k++)
        assert_double_near(out[k - 1], pow(phi, k), 0.01);
    fm_rng_free(r);
    free(x);
    /* No variance, or lags beyond the series: undefined, NAN. */
    double c[5] = {2, 2, 2, 2, 2};
    mdl_stats_acf(c, 5, 3, out);
    assert_true(isnan(out[0]) && isnan(out[2]));
    double y[3] = {1, 2, 4};
    mdl_stats_acf(y, 3, 4, out);
    assert_true(isfinite(out[0]) && isfinite(out[1]) && isnan(out[2]) && isnan(out[3]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort),
        cmocka_unit_test(test_ks_basic),
        cmocka_unit_test(test_ks_ties),
        cmocka_unit_test(test_shifted_uniform),
        cmocka_unit_test(test_w1_unequal),
        cmocka_unit_test(test_quantile),
        cmocka_unit_test(test_identical_all_zero),
        cmocka_unit_test(test_jsd_bounds_symmetry),
        cmocka_unit_test(test_kl_kde_shift),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_acf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
