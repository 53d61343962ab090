/* tests/unit/test_common_hist.c - bounded histograms: exact for small values, percentiles of
 * random data within the stated relative error of the exact nearest-rank ones, a merge equal
 * to the histogram of the union, and memory that stops growing. */
#include "common/hist.h"
#include "tests/support/test_util.h"

#include <stdlib.h>
#include <string.h>

static uint64_t xs(uint64_t *st)
{
    uint64_t x = *st;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *st = x;
    return x;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a;
    int64_t y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest rank over sorted v[0..n). */
static int64_t exact_pct(const int64_t *v, size_t n, double p)
{
    long double r = ceill((long double)p * (long double)n / 100.0L);
    size_t rank = r < 1.0L ? 1 : r >= (long double)n ? n : (size_t)r;
    return v[rank - 1];
}

static const double pcts[] = {0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 100};
#define NPCTS (sizeof(pcts) / sizeof(pcts[0]))

/* Every percentile of h within the bound of the exact one of sorted v. */
static void check_pcts(const struct fm_hist *h, int64_t *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_i64);
    double bound = fm_hist_rel_error(h->sub_bits);
    for (size_t i = 0; i < NPCTS; i++) {
        int64_t want = exact_pct(v, n, pcts[i]);
        int64_t got = fm_hist_percentile(h, pcts[i]);
        double err = fabs((double)got - (double)want);
        if (err > bound * (double)want)
            fail_msg("p%g: %lld, exact %lld: error %.3g above %.3g", pcts[i], (long long)got,
                     (long long)want, err / (double)want, bound);
    }
    assert_int_equal(fm_hist_percentile(h, 100), v[n - 1]);
    assert_int_equal(h->min, v[0]);
    assert_int_equal(h->max, v[n - 1]);
}

static void test_small_exact(void **state)
{
    (void)state;
    struct fm_hist h;
    fm_hist_init(&h, 10);
    assert_int_equal(fm_hist_percentile(&h, 50), 0);
    /* 1..100 shuffled: every value has its own bucket below 2^11. */
    for (unsigned i = 0; i < 100; i++)
        assert_int_equal(fm_hist_add(&h, (int64_t)((i * 37) % 100 + 1)), FM_OK);
    assert_int_equal(h.count, 100);
    assert_int_equal(fm_hist_percentile(&h, 50), 50);
    assert_int_equal(fm_hist_percentile(&h, 90), 90);
    assert_int_equal(fm_hist_percentile(&h, 99), 99);
    assert_int_equal(fm_hist_percentile(&h, 100), 100);
    assert_int_equal(fm_hist_percentile(&h, 0), 1);
    /* Exact up to 2^(b+1) - 1, then buckets of 2. */
    fm_hist_fini(&h);
    assert_int_equal(h.count, 0);
    assert_int_equal(fm_hist_mem_bytes(&h), 0);
    assert_int_equal(fm_hist_add(&h, 2047), FM_OK);
    assert_int_equal(fm_hist_percentile(&h, 50), 2047);
    assert_int_equal(fm_hist_add_n(&h, 1400, 3), FM_OK);
    assert_int_equal(fm_hist_percentile(&h, 50), 1400);
    assert_int_equal(fm_hist_add(&h, -5), FM_OK); /* counts as 0 */
    assert_int_equal(h.min, 0);
    assert_int_equal(fm_hist_add_n(&h, 7, 0), FM_OK);
    assert_int_equal(h.count, 5);
    fm_hist_fini(&h);
    assert_double_near(fm_hist_rel_error(9), 1.0 / 1024, 1e-15);
}

/* Random series of several shapes: uniform over a wide range, log-uniform over 1 ns..1 s,
 * and a periodic one with jitter, against exact percentiles, for several sub-bucket counts. */
static void test_error_bound(void **state)
{
    (void)state;
    enum { N = 200000 };
    int64_t *v = malloc(N * sizeof(*v));
    assert_non_null(v);
    uint64_t st = 0x1234567887654321ULL;
    static const unsigned bits[] = {3, 7, 9, 10};
    for (size_t bi = 0; bi < sizeof(bits) / sizeof(bits[0]); bi++) {
        for (int shape = 0; shape < 4; shape++) {
            struct fm_hist h;
            fm_hist_init(&h, bits[bi]);
            for (size_t i = 0; i < N; i++) {
                uint64_t r = xs(&st);
                int64_t x = 0;
                if (shape == 0)
                    x = (int64_t)(r % 100000000);
                else if (shape == 1)
                    x = (int64_t)exp((double)(r % 1000000) / 1000000.0 * log(1e9));
                else if (shape == 2)
                    x = 33333333 + (int64_t)(r % 2000001) - 1000000;
                else
                    x = (int64_t)(r >> 1); /* the whole range of int64 */
                v[i] = x;
                assert_int_equal(fm_hist_add(&h, x), FM_OK);
            }
            check_pcts(&h, v, N);
            assert_true(fm_hist_mem_bytes(&h) <= fm_hist_mem_max(bits[bi]));
            fm_hist_fini(&h);
        }
    }
    free(v);
}

/* merge(A, B) is the histogram of A's values and B's, bucket for bucket. */
static void test_merge(void **state)
{
    (void)state;
    enum { N = 50000 };
    struct fm_hist a, b, u;
    fm_hist_init(&a, 9);
    fm_hist_init(&b, 9);
    fm_hist_init(&u, 9);
    int64_t *v = malloc((size_t)2 * N * sizeof(*v));
    assert_non_null(v);
    uint64_t st = 42;
    for (size_t i = 0; i < (size_t)2 * N; i++) {
        /* A holds small gaps, B large ones and a few of A's range. */
        int64_t x = i < N ? (int64_t)(xs(&st) % 50000) : (int64_t)(xs(&st) % 4000000000ULL);
        v[i] = x;
        assert_int_equal(fm_hist_add(i < N ? &a : &b, x), FM_OK);
        assert_int_equal(fm_hist_add(&u, x), FM_OK);
    }
    struct fm_err err = {0};
    assert_int_equal(fm_hist_merge(&a, &b, &err), FM_OK);
    assert_int_equal(a.count, u.count);
    assert_int_equal(a.min, u.min);
    assert_int_equal(a.max, u.max);
    assert_int_equal(fm_hist_mem_bytes(&a), fm_hist_mem_bytes(&u));
    size_t nsub = (size_t)1 << 9;
    for (size_t c = 0; c < FM_HIST_CHUNKS; c++) {
        assert_int_equal(a.chunk[c] != NULL, u.chunk[c] != NULL);
        if (a.chunk[c])
            assert_memory_equal(a.chunk[c], u.chunk[c], nsub * sizeof(uint64_t));
    }
    for (size_t i = 0; i < NPCTS; i++)
        assert_int_equal(fm_hist_percentile(&a, pcts[i]), fm_hist_percentile(&u, pcts[i]));
    check_pcts(&a, v, (size_t)2 * N);

    /* Into an empty one; an empty one into another; different layouts refuse. */
    struct fm_hist e;
    fm_hist_init(&e, 9);
    assert_int_equal(fm_hist_merge(&e, &b, &err), FM_OK);
    assert_int_equal(e.min, b.min);
    assert_int_equal(fm_hist_percentile(&e, 50), fm_hist_percentile(&b, 50));
    struct fm_hist z;
    fm_hist_init(&z, 9);
    assert_int_equal(fm_hist_merge(&b, &z, &err), FM_OK);
    assert_int_equal(b.count, N);
    struct fm_hist o;
    fm_hist_init(&o, 10);
    assert_int_equal(fm_hist_merge(&o, &b, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "histograms"));
    assert_int_equal(o.count, 0);
    fm_hist_fini(&a);
    fm_hist_fini(&b);
    fm_hist_fini(&u);
    fm_hist_fini(&e);
    fm_hist_fini(&o);
    free(v);
}

/* Memory is set by the powers of two seen, not by the number of values. */
static void test_memory_flat(void **state)
{
    (void)state;
    struct fm_hist h;
    fm_hist_init(&h, 9);
    uint64_t st = 7;
    /* One value in each power of two up to 10^8 reaches every chunk 0..10^8 needs. */
    assert_int_equal(fm_hist_add(&h, 0), FM_OK);
    for (int e = 0; e < 27; e++)
        assert_int_equal(fm_hist_add(&h, (int64_t)1 << e), FM_OK);
    size_t early = fm_hist_mem_bytes(&h);
    for (int i = 0; i < 2000000; i++)
        assert_int_equal(fm_hist_add(&h, (int64_t)(xs(&st) % 100000000)), FM_OK);
    assert_int_equal(fm_hist_mem_bytes(&h), early);
    assert_true(early <= (size_t)19 * 512 * sizeof(uint64_t)); /* 0 .. 2^27: 19 chunks */
    assert_int_equal(fm_hist_mem_max(9), (size_t)55 * 512 * sizeof(uint64_t));
    /* The whole range fills every chunk and no more. */
    for (int e = 0; e < 63; e++)
        assert_int_equal(fm_hist_add(&h, (int64_t)1 << e), FM_OK);
    assert_int_equal(fm_hist_add(&h, INT64_MAX), FM_OK);
    assert_int_equal(fm_hist_mem_bytes(&h), fm_hist_mem_max(9));
    assert_int_equal(fm_hist_percentile(&h, 100), INT64_MAX);
    fm_hist_fini(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_exact),
        cmocka_unit_test(test_error_bound),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_memory_flat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
