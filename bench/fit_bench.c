/* bench/fit_bench.c - time mdl_gmm_fit and score it on held-out samples.
 * Usage: fit_bench [-k K] [-m MAX_K] [-r RESTARTS] [-s SEED] [-n REPEAT] TRAIN HELDOUT
 * TRAIN and HELDOUT are raw native-endian float64 files (numpy's ndarray.tofile, written by
 * bench/make_samples.py). K = 0 (the default) chooses k by BIC in 1..MAX_K (default 5);
 * RESTARTS defaults to 3, as scikit-learn's n_init=3 in bench/fit_sklearn.py. The fit runs
 * REPEAT times (default 1) and the median wall time of the fit call alone is reported, so
 * reading the files is not counted, as the Python side counts only GaussianMixture.fit.
 * Prints one JSON line: seconds, k, heldout_ll (mean log-density per held-out sample),
 * heldout_ll_bin (mean log of the mass of [x - 0.5, x + 0.5], the fair score for integer data,
 * where a density can be made arbitrarily large on a spike) and train_ll. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/num.h"
#include "common/time.h"
#include "models/gmm.h"

#define MAX_REPEAT 1000

/* Read a whole float64 file into a new array (freed by the caller). Returns FM_OK, FM_EIO,
 * FM_EFORMAT (size not a multiple of 8, empty, or a non-finite value) or FM_ENOMEM. */
static int read_f64(const char *path, double **out, size_t *n, struct fm_err *err)
{
    double *x = NULL;
    int rc = FM_OK;
    FILE *f = fopen(path, "rb");
    if (!f)
        return fm_err_errno(err, FM_EIO, errno, "cannot open '%s'", path);
    if (fseek(f, 0, SEEK_END) != 0) {
        rc = fm_err_set(err, FM_EIO, "cannot seek '%s'", path);
        goto out;
    }
    const long size = ftell(f);
    if (size <= 0 || size % (long)sizeof(double) != 0) {
        rc = fm_err_set(err, FM_EFORMAT, "'%s': %ld bytes is not a float64 array", path, size);
        goto out;
    }
    rewind(f);
    const size_t count = (size_t)size / sizeof(double);
    x = malloc(count * sizeof(double));
    if (!x) {
        rc = fm_err_set(err, FM_ENOMEM, "samples of '%s'", path);
        goto out;
    }
    if (fread(x, sizeof(double), count, f) != count) {
        rc = fm_err_set(err, FM_EIO, "short read on '%s'", path);
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(x[i])) {
            rc = fm_err_set(err, FM_EFORMAT, "'%s': sample %zu is not finite", path, i);
            goto out;
        }
    }
    *out = x;
    *n = count;
    x = NULL;
out:
    free(x);
    fclose(f);
    return rc;
}

/* Log of the mixture's mass on [x - 0.5, x + 0.5]. */
static double log_mass_bin(const struct mdl_comp *c, unsigned k, double x)
{
    double mass = 0.0;
    for (unsigned j = 0; j < k; j++) {
        const double s = c[j].sd * M_SQRT2;
        /* erfc on the side away from the mean keeps precision in the tails. */
        const double hi = (x + 0.5 - c[j].mean) / s;
        const double lo = (x - 0.5 - c[j].mean) / s;
        double p;
        if (lo > 0.0)
            p = 0.5 * (erfc(lo) - erfc(hi));
        else if (hi < 0.0)
            p = 0.5 * (erfc(-hi) - erfc(-lo));
        else
            p = 1.0 - 0.5 * (erfc(-lo) + erfc(hi));
        mass += c[j].weight * p;
    }
    return log(fmax(mass, 1e-300));
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a;
    const double y = *(const double *)b;
    return (x > y) - (x < y);
}

static int usage(void)
{
    fprintf(stderr, "usage: fit_bench [-k K] [-m MAX_K] [-r RESTARTS] [-s SEED] [-n REPEAT] "
                    "TRAIN HELDOUT\n");
    return 2;
}

int main(int argc, char **argv)
{
    double *train = NULL;
    double *held = NULL;
    double *times = NULL;
    struct fm_err err = {0};
    struct mdl_gmm_opts o;
    long k = 0;
    long max_k = 5;
    long restarts = 3;
    long repeat = 1;
    uint64_t seed = 1;
    int rc = 1;

    mdl_gmm_opts_init(&o);
    int opt = getopt(argc, argv, "k:m:r:s:n:");
    while (opt != -1) {
        int prc = FM_OK;
        switch (opt) {
        case 'k':
            prc = fm_parse_long(optarg, 0, MDL_MAX_K, "-k", &k, &err);
            break;
        case 'm':
            prc = fm_parse_long(optarg, 1, MDL_MAX_K, "-m", &max_k, &err);
            break;
        case 'r':
            prc = fm_parse_long(optarg, 1, 100, "-r", &restarts, &err);
            break;
        case 's':
            prc = fm_parse_u64(optarg, UINT64_MAX, "-s", &seed, &err);
            break;
        case 'n':
            prc = fm_parse_long(optarg, 1, MAX_REPEAT, "-n", &repeat, &err);
            break;
        default:
            return usage();
        }
        if (prc < 0) {
            fprintf(stderr, "fit_bench: %s\n", err.msg);
            return usage();
        }
        opt = getopt(argc, argv, "k:m:r:s:n:");
    }
    if (argc - optind != 2)
        return usage();

    size_t n = 0;
    size_t nh = 0;
    if (read_f64(argv[optind], &train, &n, &err) < 0 ||
        read_f64(argv[optind + 1], &held, &nh, &err) < 0) {
        fprintf(stderr, "fit_bench: %s\n", err.msg);
        goto out;
    }
    times = malloc((size_t)repeat * sizeof(double));
    if (!times) {
        fprintf(stderr, "fit_bench: out of memory\n");
        goto out;
    }

    o.k = (unsigned)k;
    o.max_k = (unsigned)max_k;
    o.restarts = (unsigned)restarts;
    o.seed = seed;
    struct mdl_gmm_result res;
    memset(&res, 0, sizeof(res));
    for (long i = 0; i < repeat; i++) {
        const int64_t t0 = fm_time_mono_ns();
        const int frc = mdl_gmm_fit(train, n, &o, &res, &err);
        times[i] = (double)(fm_time_mono_ns() - t0) / 1e9;
        if (frc < 0) {
            fprintf(stderr, "fit_bench: mdl_gmm_fit: %s (%s)\n", err.msg, fm_status_str(frc));
            goto out;
        }
    }
    qsort(times, (size_t)repeat, sizeof(double), cmp_double);

    double ll = 0.0;
    double ll_bin = 0.0;
    for (size_t i = 0; i < nh; i++) {
        ll += mdl_gmm_logpdf(res.comps, res.k, held[i]);
        ll_bin += log_mass_bin(res.comps, res.k, held[i]);
    }
    printf("{\"tool\": \"flowmimic\", \"n\": %zu, \"n_heldout\": %zu, \"k_asked\": %ld, "
           "\"restarts\": %ld, \"k\": %u, \"seconds\": %.6f, \"heldout_ll\": %.6f, "
           "\"heldout_ll_bin\": %.6f, \"train_ll\": %.6f, \"bic\": %.3f, \"iters\": %u, "
           "\"converged\": %d, \"components\": [",
           n, nh, k, restarts, res.k, times[(repeat - 1) / 2], ll / (double)nh, ll_bin / (double)nh,
           res.loglik / (double)n, res.bic, res.iters, res.converged);
    for (unsigned j = 0; j < res.k; j++)
        printf("%s[%.6g, %.6g, %.6g]", j ? ", " : "", res.comps[j].weight, res.comps[j].mean,
               res.comps[j].sd);
    printf("]}\n");
    rc = 0;
out:
    free(times);
    free(held);
    free(train);
    return rc;
}
