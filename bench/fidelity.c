/* bench/fidelity.c - how closely draws from a fitted model match the capture it came from.
 * Usage: fidelity [-s SEED] [-m MIN_PACKETS] [-k MAX_K] [-r REPEATS] CAPTURE DUMPDIR
 * Reads CAPTURE keeping every flow's series, takes the main flow (the first of
 * est_flow_table_sorted(): most packets, ties by first appearance, which is what estimate
 * fits by default), fits it with est_model_from_flow() and est_opts_init() defaults, and for
 * each side with at least MIN_PACKETS packets (default 100) and each feature (payload length
 * in bytes, IAT in seconds) draws as many values as the capture has with mdl_mixture_sample()
 * from an fm_rng seeded from SEED (default 1). Prints one JSON line per side and feature with
 * n, KS (mdl_stats_ks) and W1 (mdl_stats_w1, in the feature's unit) against the real values,
 * and writes the real values and the draws to DUMPDIR as raw float64 files, so that
 * bench/fidelity_sklearn.py can fit the original tool's recipe to the same data and recheck
 * the distances. Sides or features that cannot be scored get a line with "skipped".
 * One seed's KS moves by about the sampling noise from seed to seed, so each line also has
 * ks_median, the median KS over REPEATS (-r, default 101) further sets of n draws from the
 * model, and ks_resample_median, the median KS over REPEATS sets of n values drawn with
 * replacement from the real values themselves: the empirical distribution taken as the
 * model, which no i.i.d. model of these n values can be expected to beat. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/num.h"
#include "common/rng.h"
#include "estimator/estimate.h"
#include "estimator/flow.h"
#include "estimator/reader.h"
#include "models/mixture.h"
#include "models/model.h"
#include "models/stats.h"

static const char *const side_names[2] = {"local", "remote"};

static int write_f64(const char *path, const double *x, size_t n, struct fm_err *err)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return fm_err_errno(err, FM_EIO, errno, "cannot create '%s'", path);
    const size_t wrote = n ? fwrite(x, sizeof(double), n, f) : 0;
    const int closed = fclose(f);
    if (wrote != n || closed != 0)
        return fm_err_set(err, FM_EIO, "cannot write '%s'", path);
    return FM_OK;
}

/* JSON string contents: the names here are file names and flow specs, so escaping quotes
 * and backslashes and dropping control characters is enough. */
static void put_json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        if ((unsigned char)*s >= 0x20)
            putchar(*s);
    }
    putchar('"');
}

static void put_head(const char *capture, const char *flow, int side, const char *feature)
{
    fputs("{\"capture\": ", stdout);
    put_json_str(capture);
    fputs(", \"flow\": ", stdout);
    put_json_str(flow);
    printf(", \"side\": \"%s\", \"feature\": \"%s\"", side >= 0 ? side_names[side] : "", feature);
}

static int cmp_double(const void *pa, const void *pb)
{
    const double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* Median KS against the sorted real values over `repeats` sets of n draws: from the model m
 * when m is not NULL, else with replacement from the real values. NAN when memory runs out. */
static double median_ks(const double *sorted_real,
                        size_t n,
                        const struct mdl_mixture *m,
                        unsigned repeats,
                        uint64_t seed)
{
    double *x = malloc((n ? n : 1) * sizeof(double));
    double *ks = malloc((repeats ? repeats : 1) * sizeof(double));
    struct fm_rng *rng = fm_rng_new(seed);
    double med = (double)NAN;
    if (!x || !ks || !rng || repeats == 0)
        goto out;
    for (unsigned r = 0; r < repeats; r++) {
        for (size_t i = 0; i < n; i++)
            x[i] = m ? mdl_mixture_sample(m, rng) : sorted_real[fm_rng_below(rng, n)];
        if (mdl_stats_sort(x, n) < 0)
            goto out;
        ks[r] = mdl_stats_ks_sorted(sorted_real, n, x, n);
    }
    qsort(ks, repeats, sizeof(double), cmp_double);
    med = ks[repeats / 2];
out:
    fm_rng_free(rng);
    free(ks);
    free(x);
    return med;
}

/* Score one feature of one side: draw n values from m, compare, dump both. */
static int score_feature(const char *capture,
                         const char *base,
                         const char *flow,
                         int side,
                         const char *feature,
                         const double *real,
                         size_t n,
                         const struct mdl_mixture *m,
                         uint64_t seed,
                         unsigned repeats,
                         const char *dumpdir,
                         struct fm_err *err)
{
    double *draws = NULL;
    double *sorted = NULL;
    struct fm_rng *rng = NULL;
    char real_path[4096];
    char draw_path[4096];
    int rc = FM_OK;

    draws = malloc((n ? n : 1) * sizeof(double));
    sorted = malloc((n ? n : 1) * sizeof(double));
    rng = fm_rng_new(seed);
    if (!draws || !sorted || !rng) {
        rc = fm_err_set(err, FM_ENOMEM, "draws for %s", capture);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        draws[i] = mdl_mixture_sample(m, rng);
    const double ks = mdl_stats_ks(real, n, draws, n);
    const double w1 = mdl_stats_w1(real, n, draws, n);
    memcpy(sorted, real, n * sizeof(double));
    if (mdl_stats_sort(sorted, n) < 0) {
        rc = fm_err_set(err, FM_ENOMEM, "sorting %s", capture);
        goto out;
    }
    /* Seeds of their own, apart from the one above, so the first draw set is not reused. */
    const double ks_med = median_ks(sorted, n, m, repeats, seed ^ 0x5bd1e995ULL);
    const double ks_res = median_ks(sorted, n, NULL, repeats, seed ^ 0xc2b2ae35ULL);

    snprintf(real_path, sizeof(real_path), "%s/%s.%s.%s.real.f64", dumpdir, base, side_names[side],
             feature);
    snprintf(draw_path, sizeof(draw_path), "%s/%s.%s.%s.flowmimic.f64", dumpdir, base,
             side_names[side], feature);
    rc = write_f64(real_path, real, n, err);
    if (rc < 0)
        goto out;
    rc = write_f64(draw_path, draws, n, err);
    if (rc < 0)
        goto out;

    put_head(base, flow, side, feature);
    printf(", \"n\": %zu, \"ks\": %.9f, \"w1\": %.9g, \"ks_median\": %.9f, "
           "\"ks_resample_median\": %.9f, \"repeats\": %u, \"k\": %u, \"atoms\": %zu, "
           "\"atom_share\": %.4f, \"scale\": \"%s\", \"real\": ",
           n, ks, w1, ks_med, ks_res, repeats, m->k, m->n_atoms, mdl_mixture_atom_share(m),
           m->scale == MDL_SCALE_LOG ? "log" : "linear");
    put_json_str(real_path);
    fputs(", \"draws\": ", stdout);
    put_json_str(draw_path);
    fputs("}\n", stdout);
out:
    fm_rng_free(rng);
    free(sorted);
    free(draws);
    return rc;
}

static void put_skip(
    const char *capture, const char *flow, int side, const char *feature, size_t n, const char *why)
{
    put_head(capture, flow, side, feature);
    printf(", \"n\": %zu, \"skipped\": ", n);
    put_json_str(why);
    fputs("}\n", stdout);
}

static int usage(void)
{
    fprintf(stderr,
            "usage: fidelity [-s SEED] [-m MIN_PACKETS] [-k MAX_K] [-r REPEATS] CAPTURE DUMPDIR\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct est_flow_table *t = NULL;
    double *payload = NULL;
    double *iat = NULL;
    struct mdl_model *model = NULL;
    struct fm_err err = {0};
    uint64_t seed = 1;
    long min_packets = 100;
    long max_k = 0; /* 0: est_opts_init()'s default */
    long repeats = 101;
    int rc = 1;

    int opt = getopt(argc, argv, "s:m:k:r:");
    while (opt != -1) {
        int prc = FM_OK;
        if (opt == 's')
            prc = fm_parse_u64(optarg, UINT64_MAX / 4, "-s", &seed, &err);
        else if (opt == 'm')
            prc = fm_parse_long(optarg, 2, 1000000000L, "-m", &min_packets, &err);
        else if (opt == 'k')
            prc = fm_parse_long(optarg, 1, MDL_MAX_K, "-k", &max_k, &err);
        else if (opt == 'r')
            prc = fm_parse_long(optarg, 1, 100000, "-r", &repeats, &err);
        else
            return usage();
        if (prc < 0) {
            fprintf(stderr, "fidelity: %s\n", err.msg);
            return usage();
        }
        opt = getopt(argc, argv, "s:m:k:r:");
    }
    if (argc - optind != 2)
        return usage();
    const char *capture = argv[optind];
    const char *dumpdir = argv[optind + 1];
    const char *slash = strrchr(capture, '/');
    const char *base = slash ? slash + 1 : capture;

    t = est_flow_table_new();
    model = calloc(1, sizeof(*model)); /* large: keep it off the stack */
    if (!t || !model) {
        fprintf(stderr, "fidelity: out of memory\n");
        goto out;
    }
    if (est_flow_table_watch(t, NULL, &err) < 0 ||
        est_read_capture(capture, t, NULL, NULL, NULL, NULL, &err) < 0) {
        fprintf(stderr, "fidelity: %s\n", err.msg);
        goto out;
    }
    size_t nflows = 0;
    struct est_flow *const *sorted = est_flow_table_sorted(t, &nflows);
    if (!sorted) {
        fprintf(stderr, "fidelity: out of memory\n");
        goto out;
    }
    if (nflows == 0) {
        put_skip(base, "", -1, "", 0, "no UDP or TCP flow");
        rc = 0;
        goto out;
    }
    const struct est_flow *f = sorted[0];
    char spec[256];
    est_flow_format_spec(f, spec, sizeof(spec));

    struct est_opts o;
    est_opts_init(&o);
    if (max_k > 0)
        o.fit.max_k = (unsigned)max_k;
    char fit_error[FM_ERR_LEN + 32] = "";
    if (est_model_from_flow(f, base, &o, model, &err) < 0) {
        /* Reported on every side that has enough packets, so the table shows what failed. */
        snprintf(fit_error, sizeof(fit_error), "est_model_from_flow failed: %s", err.msg);
        fprintf(stderr, "fidelity: %s: %s\n", base, fit_error);
    }

    for (int side = 0; side < 2; side++) {
        const struct est_series *s = f->series[side];
        const size_t n = s ? s->n : 0;
        const struct mdl_side *ms = &model->sides[side];
        if (n < (size_t)min_packets) {
            put_skip(base, spec, side, "payload", n, "too few packets");
            put_skip(base, spec, side, "iat", n > 0 ? n - 1 : 0, "too few packets");
            continue;
        }
        if (fit_error[0]) {
            put_skip(base, spec, side, "payload", n, fit_error);
            put_skip(base, spec, side, "iat", n - 1, fit_error);
            continue;
        }
        uint64_t reordered = 0;
        double resolution_s = 0.0;
        if (est_side_features(s, &payload, &iat, &reordered, &resolution_s, &err) < 0) {
            fprintf(stderr, "fidelity: %s: est_side_features: %s\n", capture, err.msg);
            goto out;
        }
        /* One generator per side and feature, so each draw is independent of the others. */
        const uint64_t sd = seed * 4 + (uint64_t)side * 2;
        int src = FM_OK;
        if (!ms->has_payload)
            put_skip(base, spec, side, "payload", n, ms->note[0] ? ms->note : "no model");
        else
            src = score_feature(capture, base, spec, side, "payload", payload, n, &ms->payload, sd,
                                (unsigned)repeats, dumpdir, &err);
        if (src == FM_OK && !ms->has_iat)
            put_skip(base, spec, side, "iat", n - 1, ms->note[0] ? ms->note : "no model");
        else if (src == FM_OK)
            src = score_feature(capture, base, spec, side, "iat", iat, n - 1, &ms->iat, sd + 1,
                                (unsigned)repeats, dumpdir, &err);
        if (src < 0) {
            fprintf(stderr, "fidelity: %s\n", err.msg);
            goto out;
        }
        free(payload);
        free(iat);
        payload = NULL;
        iat = NULL;
    }
    rc = 0;
out:
    free(payload);
    free(iat);
    free(model);
    est_flow_table_free(t);
    return rc;
}
