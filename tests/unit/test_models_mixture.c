/* tests/unit/test_models_mixture.c - atoms, the Gaussian rest, sampling, checks. */
#include "common/rng.h"
#include "models/mixture.h"
#include "models/stats.h"
#include "tests/support/test_util.h"

#include <string.h>

static double *alloc_samples(size_t n)
{
    double *x = malloc(n * sizeof(*x));
    assert_non_null(x);
    return x;
}

static struct fm_rng *rng(uint64_t seed)
{
    struct fm_rng *r = fm_rng_new(seed);
    assert_non_null(r);
    return r;
}

static struct mdl_mixture fit_ok(const double *x, size_t n, const struct mdl_fit_opts *o)
{
    struct mdl_mixture m;
    struct fm_err err = {0};
    int rc = mdl_mixture_fit(x, n, o, &m, &err);
    if (rc != FM_OK)
        fail_msg("mdl_mixture_fit: %s", err.msg);
    rc = mdl_mixture_check(&m, &err);
    if (rc != FM_OK)
        fail_msg("mdl_mixture_check: %s", err.msg);
    assert_true(m.n == n);
    return m;
}

static void test_constant(void **state)
{
    (void)state;
    size_t n = 500;
    double *x = alloc_samples(n);
    for (size_t i = 0; i < n; i++)
        x[i] = 252.0;
    struct mdl_fit_opts o;
    mdl_fit_opts_init(&o);
    o.resolution = 1.0;
    struct mdl_mixture m = fit_ok(x, n, &o);
    assert_int_equal(m.n_atoms, 1);
    assert_int_equal(m.k, 0);
    assert_double_near(m.atoms[0].value, 252.0, 0.0);
    assert_double_near(m.atoms[0].weight, 1.0, 0.0);
    assert_double_near(m.min, 252.0, 0.0);
    assert_double_near(m.max, 252.0, 0.0);
    assert_double_near(mdl_mixture_atom_share(&m), 1.0, 0.0);
    struct fm_rng *r = rng(1);
    for (int i = 0; i < 100; i++)
        assert_double_near(mdl_mixture_sample(&m, r), 252.0, 0.0);
    fm_rng_free(r);
    free(x);
}

static void test_codec_frames(void **state)
{
    (void)state;
    /* G.729-like: 14, 22 and 32-byte frames, plus 10% broad noise over 10..300 bytes. */
    size_t n = 20000;
    double *x = alloc_samples(n);
    struct fm_rng *r = rng(2);
    const double frames[3] = {14, 22, 32};
    for (size_t i = 0; i < n; i++)
        x[i] = i % 10 == 9 ? 10.0 + (double)fm_rng_below(r, 291) : frames[i % 3];
    struct mdl_fit_opts o;
    mdl_fit_opts_init(&o);
    o.resolution = 1.0;
    struct mdl_mixture m = fit_ok(x, n, &o);
    assert_int_equal(m.n_atoms, 3);
    double want[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < 3; j++)
            want[j] += x[i] == frames[j];
    for (int j = 0; j < 3; j++) {
        assert_double_near(m.atoms[j].value, frames[j], 0.0);
        assert_double_near(m.atoms[j].weight, want[j] / (double)n, 1e-12);
    }
    assert_true(m.k >= 1);
    assert_double_near(mdl_mixture_atom_share(&m), (want[0] + want[1] + want[2]) / (double)n, 1e-9);

    /* Without noise: the three atoms carry everything. */
    for (size_t i = 0; i < n; i++)
        x[i] = frames[i % 3];
    m = fit_ok(x, n, &o);
    assert_int_equal(m.n_atoms, 3);
    assert_int_equal(m.k, 0);
    for (int j = 0; j < 3; j++)
        assert_double_near(m.atoms[j].weight, 1.0 / 3.0, 1e-4);
    /* Draws are exactly the frame sizes, in the right proportions. */
    double seen[3] = {0, 0, 0};
    size_t draws = 30000;
    for (size_t i = 0; i < draws; i++) {
        double v = mdl_mixture_sample(&m, r);
        assert_true(v == 14.0 || v == 22.0 || v == 32.0);
        seen[v == 14.0 ? 0 : v == 22.0 ? 1 : 2] += 1.0;
    }
    for (int j = 0; j < 3; j++)
        assert_double_near(seen[j] / (double)draws, 1.0 / 3.0, 0.01);
    fm_rng_free(r);
    free(x);
}

static void test_video_mtu_spike(void **state)
{
    (void)state;
    /* H.264 over RTP: 30% MTU-size fragments of exactly 1400 bytes, a broad body of frame
     * tails and small packets, rounded to bytes and capped at 1400. */
    size_t n = 100000;
    double *x = alloc_samples(n);
    struct fm_rng *r = rng(3);
    for (size_t i = 0; i < n; i++) {
        double u = fm_rng_uniform(r), v;
        if (u < 0.30)
            v = 1400.0;
        else if (u < 0.75)
            v = round(900.0 + 200.0 * fm_rng_gauss(r));
        else
            v = round(150.0 + 50.0 * fm_rng_gauss(r));
        x[i] = fmin(1400.0, fmax(12.0, v));
    }
    struct mdl_fit_opts o;
    mdl_fit_opts_init(&o);
    o.resolution = 1.0;
    struct mdl_mixture m = fit_ok(x, n, &o);
    assert_int_equal(m.n_atoms, 1);
    assert_double_near(m.atoms[0].value, 1400.0, 0.0);
    assert_double_near(m.atoms[0].weight, 0.30, 0.01);
    assert_true(m.k >= 2);
    fm_rng_free(r);
    free(x);
}

static void test_smooth_no_atoms(void **state)
{
    (void)state;
    /* A broad distribution of integers: its peak holds 2% of the samples, above the 1%
     * share, but its neighbours hold as many, so it is no spike. */
    size_t n = 100000;
    double *x = alloc_samples(n);
    struct fm_rng *r = rng(4);
    for (size_t i = 0; i < n; i++)
        x[i] = round(500.0 + 20.0 * fm_rng_gauss(r));
    struct mdl_fit_opts o;
    mdl_fit_opts_init(&o);
    o.resolution = 1.0;
    struct mdl_mixture m = fit_ok(x, n, &o);
    assert_int_equal(m.n_atoms, 0);
    assert_true(m.k >= 1);
    /* Also without a declared resolution (the quantum is then found from the data). */
    o.resolution = 0.0;
    m = fit_ok(x, n, &o);
    assert_int_equal(m.n_atoms, 0);
    /* Continuous data: no repeated values, no atoms. */
    for (size_t i = 0; i < n; i++)
        x[i] = 500.0 + 20.0 * fm_rng_gauss(r);
    m = fit_ok(x, n, &o);
    assert_int_equal(m.n_atoms, 0);
    fm_rng_free(r);
    free(x);
}

static void test_log_zeros(void **state)
{
    (void)state;
    /* Gaps with 20% exact zeros (ms-rounded timestamps) and a log-normal rest. */
    size_t n = 50000;
    double *x = alloc_samples(n);
    struct fm_rng *r = rng(5);
    size_t zeros = 0;
    for (size_t i = 0; i < n; i++) {
        if (fm_rng_uniform(r) < 0.2) {
            x[i] = 0.0;
            zeros++;
        } else {
            x[i] = exp(log(0.02) + 0.3 * fm_rng_gauss(r));
        }
    }
    struct mdl_fit_opts o;
    mdl_fit_opts_init(&o);
    o.scale = MDL_SCALE_LOG;
    struct mdl_mixture m = fit_ok(x, n, &o);
    assert_int_equal(m.scale, MDL_SCALE_LOG);
    assert_int_equal(m.n_atoms, 1);
    assert_double_near(m.atoms[0].value, 0.0, 0.0);
    assert_double_near(m.atoms[0].weight, (double)zeros / (double)n, 1e-12);
    assert_true(m.k >= 1);
    double wsum = 0.0;
    for (unsigned j = 0; j < m.k; j++) {
        assert_true(isfinite(m.comps[j].mean) && m.comps[j].sd > 0.0);
        wsum += m.comps[j].weight;
    }
    assert_double_near(wsum, 1.0 - (double)zeros / (double)n, 1e-9);
    assert_double_near(m.comps[0].mean, log(0.02), 0.01);
    assert_true(isfinite(m.loglik) && isfinite(m.bic));
    assert_double_near(m.min, 0.0, 0.0);
    /* A zero share below atom_min_share is still an atom on log scale. */
    for (size_t i = 0; i < n; i++)
        x[i] = i % 1000 == 0 ? 0.0 : exp(log(0.02) + 0.3 * fm_rng_gauss(r));
    m = fit_ok(x, n, &o);
    assert_int_equal(m.n_atoms, 1);
    assert_double_near(m.atoms[0].weight, 0.001, 1e-12);
    /* Only zeros. */
    for (size_t i = 0; i < n; i++)
        x[i] = 0.0;
    m = fit_ok(x, n, &o);
    assert_int_equal(m.n_atoms, 1);
    assert_int_equal(m.k, 0);
    assert_double_near(mdl_mixture_sample(&m, r), 0.0, 0.0);
    fm_rng_free(r);
    free(x);
}

static void test_quantised_gaps(void **state)
{
    (void)state;
    /* Timestamps in whole ms: gaps are multiples of 1 ms around 40 ms. The values that
     * carry a share are legitimately atoms, and draws stay on the 1 ms grid. */
    size_t n = 20000;
    double *x = alloc_samples(n);
    struct fm_rng *r = rng(6);
    for (size_t i = 0; i < n; i++)
        x[i] = fmax(0.0, round(40.0 + 1.0 * fm_rng_gauss(r))) * 1e-3;
    struct mdl_fit_opts o;
    mdl_fit_opts_init(&o);
    o.scale = MDL_SCALE_LOG;
    o.resolution = 1e-3;
    struct mdl_mixture m = fit_ok(x, n, &o);
    assert_true(m.n_atoms >= 1);
    int has40 = 0;
    for (size_t i = 0; i < m.n_atoms; i++)
        has40 |= fabs(m.atoms[i].value - 0.040) < 1e-12;
    assert_true(has40);
    for (int i = 0; i < 1000; i++) {
        double v = mdl_mixture_sample(&m, r);
        assert_double_near(v * 1e3, round(v * 1e3), 1e-9);
        assert_true(v >= m.min && v <= m.max);
    }
    fm_rng_free(r);
    free(x);
}

static void test_sample_matches_source(void **state)
{
    (void)state;
    size_t n = 100000;
    double *x = alloc_samples(n), *y = alloc_samples(n);
    struct fm_rng *r = rng(7);
    for (size_t i = 0; i < n; i++)
        x[i] = fm_rng_uniform(r) < 0.4 ? 100.0 + 10.0 * fm_rng_gauss(r)
                                       : 160.0 + 25.0 * fm_rng_gauss(r);
    struct mdl_fit_opts o;
    mdl_fit_opts_init(&o);
    struct mdl_mixture m = fit_ok(x, n, &o);
    assert_int_equal(m.n_atoms, 0);
    assert_int_equal(m.k, 2);
    for (size_t i = 0; i < n; i++)
        y[i] = mdl_mixture_sample(&m, r);
    assert_true(mdl_stats_ks(x, n, y, n) < 0.01);

    /* The same on log scale: log-normal mixture gaps. */
    for (size_t i = 0; i < n; i++)
        x[i] = exp(fm_rng_uniform(r) < 0.7 ? log(1e-5) + 0.5 * fm_rng_gauss(r)
                                           : log(0.04) + 0.15 * fm_rng_gauss(r));
    o.scale = MDL_SCALE_LOG;
    m = fit_ok(x, n, &o);
    for (size_t i = 0; i < n; i++)
        y[i] = mdl_mixture_sample(&m, r);
    assert_true(mdl_stats_ks(x, n, y, n) < 0.01);
    fm_rng_free(r);
    free(y);
    free(x);
}

static void test_truncation_and_rounding(void **state)
{
    (void)state;
    struct mdl_mixture m;
    memset(&m, 0, sizeof(m));
    m.scale = MDL_SCALE_LINEAR;
    m.min = -1.0;
    m.max = 1.0;
    m.k = 1;
    m.comps[0] = (struct mdl_comp){1.0, 0.0, 10.0}; /* mostly outside [min, max] */
    m.n = 1;
    assert_int_equal(mdl_mixture_check(&m, NULL), FM_OK);
    struct fm_rng *r = rng(8);
    for (int i = 0; i < 5000; i++) {
        double v = mdl_mixture_sample(&m, r);
        assert_true(v >= -1.0 && v <= 1.0);
    }
    /* Entirely outside: the bounded redraws give up and clamp. */
    m.comps[0] = (struct mdl_comp){1.0, 1000.0, 1.0};
    assert_double_near(mdl_mixture_sample(&m, r), 1.0, 0.0);
    /* Rounding to a resolution of 0.25. */
    m.comps[0] = (struct mdl_comp){1.0, 0.0, 0.5};
    m.resolution = 0.25;
    for (int i = 0; i < 5000; i++) {
        double v = mdl_mixture_sample(&m, r);
        assert_double_near(v * 4.0, round(v * 4.0), 0.0);
        assert_true(v >= -1.0 && v <= 1.0);
    }
    /* Fitted payloads with a 1-byte resolution draw whole bytes within the sample range. */
    size_t n = 10000;
    double *x = alloc_samples(n);
    for (size_t i = 0; i < n; i++)
        x[i] = round(fmax(60.0, fmin(200.0, 130.0 + 40.0 * fm_rng_gauss(r))));
    struct mdl_fit_opts o;
    mdl_fit_opts_init(&o);
    o.resolution = 1.0;
    m = fit_ok(x, n, &o);
    assert_double_near(m.resolution, 1.0, 0.0);
    for (int i = 0; i < 5000; i++) {
        double v = mdl_mixture_sample(&m, r);
        assert_double_near(v, round(v), 0.0);
        assert_true(v >= 60.0 && v <= 200.0);
    }
    /* Gaps on a 1 us tick: every draw is the very double a capture's gap of that many ns
     * gives (ns / 1e9), not k * 1e-6, which is one ulp off it for k = 10 and many more. */
    memset(&m, 0, sizeof(m));
    m.scale = MDL_SCALE_LOG;
    m.min = 1e-6;
    m.max = 1.0;
    m.k = 1;
    m.comps[0] = (struct mdl_comp){1.0, log(2e-5), 0.5};
    m.n = 1;
    m.resolution = 1e-6;
    assert_int_equal(mdl_mixture_check(&m, NULL), FM_OK);
    int hit10 = 0;
    for (int i = 0; i < 20000; i++) {
        double v = mdl_mixture_sample(&m, r);
        const long long ns = llround(v * 1e9);
        assert_true(ns % 1000 == 0);
        assert_true(v == (double)ns / 1e9);
        hit10 += ns == 10000;
    }
    assert_true(hit10 > 0); /* 10 us, where 10 * 1e-6 != 1e-5, was drawn */
    fm_rng_free(r);
    free(x);
}

static void test_trim(void **state)
{
    (void)state;
    /* 1% wild outliers: trimming the top 2% keeps them out of the Gaussian part. */
    size_t n = 20000;
    double *x = alloc_samples(n);
    struct fm_rng *r = rng(9);
    for (size_t i = 0; i < n; i++)
        x[i] = i % 100 == 0 ? 1e6 + 1e5 * fm_rng_uniform(r) : 10.0 + fm_rng_gauss(r);
    struct mdl_fit_opts o;
    mdl_fit_opts_init(&o);
    o.k = 1;
    o.trim_hi = 98.0;
    struct mdl_mixture m = fit_ok(x, n, &o);
    assert_int_equal(m.k, 1);
    assert_double_near(m.comps[0].mean, 10.0, 0.05);
    assert_double_near(m.comps[0].sd, 1.0, 0.1);
    assert_double_near(m.comps[0].weight, 1.0, 0.0);
    assert_true(m.max >= 1e6); /* the range still covers every sample */
    fm_rng_free(r);
    free(x);
}

static void test_few_samples(void **state)
{
    (void)state;
    struct mdl_fit_opts o;
    mdl_fit_opts_init(&o);
    /* One sample: an atom. */
    double one = 7.5;
    struct mdl_mixture m = fit_ok(&one, 1, &o);
    assert_int_equal(m.n_atoms, 1);
    assert_int_equal(m.k, 0);
    /* A big atom with three stray values: the strays are folded, the atom is renormalised. */
    double x[200];
    for (int i = 0; i < 200; i++)
        x[i] = i < 197 ? 60.0 : 61.0 + i;
    m = fit_ok(x, 200, &o);
    assert_int_equal(m.n_atoms, 1);
    assert_int_equal(m.k, 0);
    assert_double_near(m.atoms[0].weight, 1.0, 0.0);
    assert_double_near(m.max, 260.0, 0.0);
}

static void test_bad_input(void **state)
{
    (void)state;
    struct mdl_fit_opts o;
    mdl_fit_opts_init(&o);
    struct mdl_mixture m;
    memset(&m, 0x5a, sizeof(m));
    struct mdl_mixture before = m;
    struct fm_err err = {0};
    double x[4] = {1, 2, -3, 4};
    assert_int_equal(mdl_mixture_fit(x, 0, &o, &m, &err), FM_EINVAL);
    o.scale = MDL_SCALE_LOG;
    assert_int_equal(mdl_mixture_fit(x, 4, &o, &m, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "negative"));
    o.scale = MDL_SCALE_LINEAR;
    x[2] = (double)NAN;
    assert_int_equal(mdl_mixture_fit(x, 4, &o, &m, &err), FM_EINVAL);
    x[2] = (double)INFINITY;
    assert_int_equal(mdl_mixture_fit(x, 4, &o, &m, &err), FM_EINVAL);
    x[2] = 3;
    o.trim_lo = 50;
    o.trim_hi = 40;
    assert_int_equal(mdl_mixture_fit(x, 4, &o, &m, &err), FM_EINVAL);
    mdl_fit_opts_init(&o);
    o.max_k = MDL_MAX_K + 1;
    assert_int_equal(mdl_mixture_fit(x, 4, &o, &m, &err), FM_EINVAL);
    mdl_fit_opts_init(&o);
    o.resolution = -1;
    assert_int_equal(mdl_mixture_fit(x, 4, &o, &m, &err), FM_EINVAL);
    assert_memory_equal(&m, &before, sizeof(m)); /* untouched on failure */
}

static void test_check(void **state)
{
    (void)state;
    struct mdl_mixture m;
    memset(&m, 0, sizeof(m));
    m.min = 0;
    m.max = 10;
    m.n_atoms = 1;
    m.atoms[0] = (struct mdl_atom){5.0, 0.5};
    m.k = 1;
    m.comps[0] = (struct mdl_comp){0.5, 5.0, 1.0};
    struct fm_err err = {0};
    assert_int_equal(mdl_mixture_check(&m, &err), FM_OK);
    m.comps[0].weight = 0.4;
    assert_int_equal(mdl_mixture_check(&m, &err), FM_EFORMAT);
    assert_non_null(strstr(err.msg, "sum"));
    m.comps[0].weight = 0.5;
    m.comps[0].sd = 0.0;
    assert_int_equal(mdl_mixture_check(&m, &err), FM_EFORMAT);
    m.comps[0].sd = 1.0;
    m.min = 11;
    assert_int_equal(mdl_mixture_check(&m, &err), FM_EFORMAT);
    m.min = 0;
    m.k = MDL_MAX_K + 1;
    assert_int_equal(mdl_mixture_check(&m, &err), FM_EFORMAT);
    m.k = 0;
    m.n_atoms = 0;
    assert_int_equal(mdl_mixture_check(&m, &err), FM_EFORMAT);
}

static void test_pdf(void **state)
{
    (void)state;
    struct mdl_mixture m;
    memset(&m, 0, sizeof(m));
    m.min = 0;
    m.max = 100;
    m.n_atoms = 1;
    m.atoms[0] = (struct mdl_atom){0.0, 0.5};
    m.k = 1;
    m.comps[0] = (struct mdl_comp){0.5, 1.0, 0.5};
    double z = (2.0 - 1.0) / 0.5;
    assert_double_near(mdl_mixture_pdf(&m, 2.0), 0.5 * exp(-0.5 * z * z) / (0.5 * sqrt(2 * M_PI)),
                       1e-12);
    /* Log scale: density of ln(x) divided by x; nothing at or below 0. */
    m.scale = MDL_SCALE_LOG;
    z = (log(2.0) - 1.0) / 0.5;
    assert_double_near(mdl_mixture_pdf(&m, 2.0),
                       0.5 * exp(-0.5 * z * z) / (0.5 * sqrt(2 * M_PI)) / 2.0, 1e-12);
    assert_double_near(mdl_mixture_pdf(&m, 0.0), 0.0, 0.0);
    /* The continuous part integrates to its weight (trapezoid on a fine grid). */
    double sum = 0.0, h = 1e-3;
    for (int i = 1; i < 100000; i++)
        sum += mdl_mixture_pdf(&m, i * h) * h;
    assert_double_near(sum, 0.5, 1e-3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant),
        cmocka_unit_test(test_codec_frames),
        cmocka_unit_test(test_video_mtu_spike),
        cmocka_unit_test(test_smooth_no_atoms),
        cmocka_unit_test(test_log_zeros),
        cmocka_unit_test(test_quantised_gaps),
        cmocka_unit_test(test_sample_matches_source),
        cmocka_unit_test(test_truncation_and_rounding),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_few_samples),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_pdf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
