/* tests/unit/test_models_stats.c - KS, Wasserstein-1, quantiles and the radix sort. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort),       cmocka_unit_test(test_ks_basic),
        cmocka_unit_test(test_ks_ties),    cmocka_unit_test(test_shifted_uniform),
        cmocka_unit_test(test_w1_unequal), cmocka_unit_test(test_quantile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
