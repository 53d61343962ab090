/* models/gmm.c - EM for one-dimensional Gaussian mixtures on binned sufficient statistics.
 *
 * The samples are sorted and gathered into bins holding (count, mean, sum of squared
 * deviations from the mean). With at most FINE_BINS distinct values there is one bin per
 * value and everything below is exact; otherwise the bins split [min, max] into FINE_BINS
 * equal widths and empty ones are dropped.
 *
 * EM then maximises the usual lower bound in which all samples of a bin share one set of
 * responsibilities. For a bin with count c, mean m and within-bin variance v, that bound is
 *     c * log sum_j w_j N(m; mu_j, var_j) exp(-v / (2 var_j)),
 * which is the exact log-likelihood when v = 0 (one bin per value) and falls short of it by
 * about c * v / (2 var) otherwise: for 2^16 bins and a component wider than 1/100 of the
 * range that is below 1e-7 per sample. Maximising it over the responsibilities gives the
 * E-step above; maximising over the parameters gives an M-step that uses each bin's full
 * sum of squares, so the within-bin spread is kept exactly. The bound is what convergence is
 * tested on and what is reported as loglik, so EM is monotone on the reported number.
 *
 * When there are many bins, restarts and initialisation run on a coarse level (bins merged
 * to COARSE_BINS, exactly, by the parallel-axis rule) and only the best run is refined on
 * the fine bins: that refinement starts next to the optimum and needs few iterations. */
#include "models/gmm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "models/stats.h"

#define FINE_BINS   65536u
#define COARSE_MIN  4096u /* build a coarse level above this many fine bins */
#define COARSE_BINS 2048u
/* A component holding less than a thousandth of one sample carries no information; it is
 * removed rather than left to underflow into 0/0. */
#define DROP_COUNT  1e-3
#define KM_SEEDINGS 5  /* k-means++ seedings per random start, best kept */
#define KM_ITERS    30 /* Lloyd iterations per seeding */

static const double EXP_CUT = -40.0;
static const double LOG_2PI = 1.8378770664093454836;

struct bin {
    double c; /* samples */
    double m; /* their mean */
    double s; /* sum of squared deviations from m */
};

struct level {
    struct bin *b;
    size_t nb;
};

struct gmm {
    unsigned k;
    double w[MDL_MAX_K], mu[MDL_MAX_K], var[MDL_MAX_K];
};

/* Sums gathered by the E-step, relative to the current means (see mstep()). */
struct acc {
    double cnt[MDL_MAX_K], d1[MDL_MAX_K], d2[MDL_MAX_K];
};

struct ctx {
    const struct mdl_gmm_opts *o;
    double n;         /* total count */
    double var_floor; /* o->var_floor */
    struct level fine, coarse;
    double *scratch; /* fine.nb doubles, for k-means++ */
};

void mdl_gmm_opts_init(struct mdl_gmm_opts *o)
{
    o->k = 0;
    o->max_k = 5;
    o->restarts = 3;
    o->max_iter = 500;
    o->tol = 1e-7;
    o->var_floor = 1e-12;
    o->seed = 1;
}

/* Mean and sum of squares of the sorted run x[0..c) into *b, in two passes so that a narrow
 * bin far from zero keeps its spread. */
static void bin_from_run(const double *x, size_t c, struct bin *b)
{
    double sum = 0.0;
    for (size_t i = 0; i < c; i++)
        sum += x[i];
    double m = sum / (double)c;
    /* Rounding can put the mean a hair outside the run; keep it inside. */
    if (m < x[0])
        m = x[0];
    if (m > x[c - 1])
        m = x[c - 1];
    double s = 0.0;
    for (size_t i = 0; i < c; i++)
        s += (x[i] - m) * (x[i] - m);
    b->c = (double)c;
    b->m = m;
    b->s = s;
}

/* Fine bins of n sorted samples: one per distinct value when there are few enough, else
 * FINE_BINS equal widths with empty ones skipped. */
static int make_fine(const double *x, size_t n, struct level *lv)
{
    size_t distinct = 1;
    for (size_t i = 1; i < n && distinct <= FINE_BINS; i++)
        distinct += x[i] != x[i - 1];
    size_t cap = distinct <= FINE_BINS ? distinct : FINE_BINS;
    lv->b = malloc((cap + 1) * sizeof(*lv->b));
    if (!lv->b)
        return FM_ENOMEM;
    lv->nb = 0;
    if (distinct <= FINE_BINS) {
        for (size_t i = 0; i < n;) {
            size_t j = i + 1;
            while (j < n && x[j] == x[i])
                j++;
            lv->b[lv->nb++] = (struct bin){(double)(j - i), x[i], 0.0};
            i = j;
        }
        return FM_OK;
    }
    /* Halves keep max - min finite for data spanning most of the double range. */
    double lo = 0.5 * x[0], width = 0.5 * x[n - 1] - lo;
    double scale = (double)FINE_BINS / width;
    for (size_t i = 0; i < n;) {
        size_t idx = (size_t)((0.5 * x[i] - lo) * scale);
        size_t j = i + 1;
        while (j < n) {
            size_t jdx = (size_t)((0.5 * x[j] - lo) * scale);
            if (jdx != idx && jdx < FINE_BINS)
                break;
            j++;
        }
        bin_from_run(x + i, j - i, &lv->b[lv->nb++]);
        i = j;
    }
    return FM_OK;
}

/* Merge the fine bins into at most COARSE_BINS equal widths. Counts, means and sums of
 * squares combine exactly: s = sum(s_i + c_i (m_i - m)^2). */
static int make_coarse(const struct level *f, struct level *lv)
{
    lv->b = malloc((COARSE_BINS + 1) * sizeof(*lv->b));
    if (!lv->b)
        return FM_ENOMEM;
    lv->nb = 0;
    double lo = 0.5 * f->b[0].m, width = 0.5 * f->b[f->nb - 1].m - lo;
    double scale = (double)COARSE_BINS / width;
    for (size_t i = 0; i < f->nb;) {
        size_t idx = (size_t)((0.5 * f->b[i].m - lo) * scale);
        size_t j = i + 1;
        double c = f->b[i].c, cm = f->b[i].c * f->b[i].m;
        while (j < f->nb) {
            size_t jdx = (size_t)((0.5 * f->b[j].m - lo) * scale);
            if (jdx != idx && jdx < COARSE_BINS)
                break;
            c += f->b[j].c;
            cm += f->b[j].c * f->b[j].m;
            j++;
        }
        double m = cm / c, s = 0.0;
        if (m < f->b[i].m)
            m = f->b[i].m;
        if (m > f->b[j - 1].m)
            m = f->b[j - 1].m;
        for (size_t t = i; t < j; t++)
            s += f->b[t].s + f->b[t].c * (f->b[t].m - m) * (f->b[t].m - m);
        lv->b[lv->nb++] = (struct bin){c, m, s};
        i = j;
    }
    return FM_OK;
}

/* E-step: the bound (see the file comment) at the parameters g, and, when a is not NULL,
 * the responsibility-weighted sums the M-step needs. */
static double estep(const struct level *lv, const struct gmm *g, struct acc *a)
{
    double lc[MDL_MAX_K], h[MDL_MAX_K];
    unsigned k = g->k;
    if (a)
        memset(a, 0, sizeof(*a));
    if (k == 0 || k > MDL_MAX_K)
        return -HUGE_VAL; /* cannot happen: mstep() never drops the last component */
    for (unsigned j = 0; j < k; j++) {
        lc[j] = log(g->w[j]) - 0.5 * (LOG_2PI + log(g->var[j]));
        h[j] = 0.5 / g->var[j];
    }
    double ll = 0.0;
    for (size_t i = 0; i < lv->nb; i++) {
        const struct bin *b = &lv->b[i];
        double v = b->s / b->c;
        double t[MDL_MAX_K], d[MDL_MAX_K];
        d[0] = b->m - g->mu[0];
        t[0] = lc[0] - h[0] * (d[0] * d[0] + v);
        double mx = t[0];
        for (unsigned j = 1; j < k; j++) {
            d[j] = b->m - g->mu[j];
            t[j] = lc[j] - h[j] * (d[j] * d[j] + v);
            if (t[j] > mx)
                mx = t[j];
        }
        /* The largest term is exp(0) = 1, so sum >= 1 and its log is safe. A term below
         * exp(-40) = 4e-18 cannot change that sum (it is under half an ulp of 1) and its
         * responsibility is as good as 0: it is set to 0 without calling exp(), which far
         * components would otherwise cost on most bins (libm's exp is most of EM's time). */
        double e0 = t[0] - mx;
        t[0] = e0 < EXP_CUT ? 0.0 : exp(e0);
        double sum = t[0];
        for (unsigned j = 1; j < k; j++) {
            double e = t[j] - mx;
            t[j] = e < EXP_CUT ? 0.0 : exp(e);
            sum += t[j];
        }
        ll += b->c * (mx + log(sum));
        if (!a)
            continue;
        double inv = 1.0 / sum;
        for (unsigned j = 0; j < k; j++) {
            double r = t[j] * inv;
            double rc = r * b->c;
            a->cnt[j] += rc;
            a->d1[j] += rc * d[j];
            a->d2[j] += rc * d[j] * d[j] + r * b->s;
        }
    }
    return ll;
}

/* M-step from sums taken relative to the old means: mu' = mu + d1/N and
 * var' = d2/N - (d1/N)^2, which avoids the cancellation of sum(x^2) - N mu^2. Components
 * with (almost) no mass are dropped; variances are floored. */
static void mstep(struct gmm *g, const struct acc *a, double var_floor)
{
    unsigned k = 0;
    double total = 0.0;
    for (unsigned j = 0; j < g->k; j++) {
        if (!(a->cnt[j] >= DROP_COUNT))
            continue;
        double shift = a->d1[j] / a->cnt[j];
        double var = a->d2[j] / a->cnt[j] - shift * shift;
        g->w[k] = a->cnt[j];
        g->mu[k] = g->mu[j] + shift;
        g->var[k] = var > var_floor ? var : var_floor;
        total += a->cnt[j];
        k++;
    }
    for (unsigned j = 0; j < k; j++)
        g->w[j] /= total;
    g->k = k;
}

/* Run EM from g until the bound gains less than tol * n or max_iter M-steps were made. On
 * return g holds the parameters whose bound is returned. */
static double
em_run(const struct ctx *cx, const struct level *lv, struct gmm *g, unsigned *iters, int *converged)
{
    struct acc a;
    double prev = -HUGE_VAL, ll;
    unsigned it = 0;
    *converged = 0;
    for (;; it++) {
        ll = estep(lv, g, &a);
        if (it > 0 && !(ll - prev >= cx->o->tol * cx->n)) {
            *converged = 1;
            break;
        }
        if (it >= cx->o->max_iter)
            break;
        mstep(g, &a, cx->var_floor);
        prev = ll;
    }
    *iters = it;
    return ll;
}

/* Overall mean and variance of a level. */
static void level_moments(const struct level *lv, double n, double *mean, double *var)
{
    double sum = 0.0;
    for (size_t i = 0; i < lv->nb; i++)
        sum += lv->b[i].c * lv->b[i].m;
    double m = sum / n, ss = 0.0;
    for (size_t i = 0; i < lv->nb; i++)
        ss += lv->b[i].s + lv->b[i].c * (lv->b[i].m - m) * (lv->b[i].m - m);
    *mean = m;
    *var = ss / n;
}

/* Smallest distance from x to the first k means. */
static double min_dist2(const struct gmm *g, unsigned k, double x)
{
    double best = HUGE_VAL;
    for (unsigned j = 0; j < k; j++) {
        double d = (x - g->mu[j]) * (x - g->mu[j]);
        if (d < best)
            best = d;
    }
    return best;
}

/* Deterministic start: means at the quantiles (j + 0.5) / k, equal weights, sd = overall
 * sd / k. A quantile that repeats an earlier mean (a value holding a large share) is
 * replaced by the bin farthest from the means so far; k shrinks when no bin is left. */
static void init_quantile(const struct ctx *cx, const struct level *lv, unsigned k, struct gmm *g)
{
    double mean, var;
    level_moments(lv, cx->n, &mean, &var);
    double v0 = var / ((double)k * (double)k);
    if (v0 < cx->var_floor)
        v0 = cx->var_floor;
    g->k = 0;
    size_t i = 0;
    double cum = lv->b[0].c;
    for (unsigned j = 0; j < k; j++) {
        double target = ((double)j + 0.5) / (double)k * cx->n;
        while (cum < target && i + 1 < lv->nb)
            cum += lv->b[++i].c;
        double mu = lv->b[i].m;
        if (min_dist2(g, g->k, mu) == 0.0) {
            double far = 0.0;
            for (size_t t = 0; t < lv->nb; t++) {
                double d = min_dist2(g, g->k, lv->b[t].m);
                if (d > far) {
                    far = d;
                    mu = lv->b[t].m;
                }
            }
            if (far == 0.0)
                break;
        }
        g->mu[g->k] = mu;
        g->var[g->k] = v0;
        g->k++;
    }
    for (unsigned j = 0; j < g->k; j++)
        g->w[j] = 1.0 / (double)g->k;
}

/* Draw an index with probability proportional to p[i] (total > 0). */
static size_t draw_index(const double *p, size_t nb, double total, struct fm_rng *r)
{
    double u = fm_rng_uniform(r) * total;
    for (size_t i = 0; i < nb; i++) {
        u -= p[i];
        if (u < 0.0 && p[i] > 0.0)
            return i;
    }
    /* Rounding left u >= 0 after the last bin: take the last bin with weight. */
    size_t last = nb - 1;
    while (last > 0 && !(p[last] > 0.0))
        last--;
    return last;
}

/* Assign every bin to its nearest mean in g and gather the sums mstep() needs; returns the
 * k-means cost (sum of squared distances, within-bin spread included). */
static double assign_nearest(const struct level *lv, const struct gmm *g, struct acc *a)
{
    double cost = 0.0;
    memset(a, 0, sizeof(*a));
    if (g->k == 0)
        return HUGE_VAL;
    for (size_t i = 0; i < lv->nb; i++) {
        const struct bin *b = &lv->b[i];
        unsigned best = 0;
        double bd = HUGE_VAL;
        for (unsigned j = 0; j < g->k; j++) {
            double d = fabs(b->m - g->mu[j]);
            if (d < bd) {
                bd = d;
                best = j;
            }
        }
        double d = b->m - g->mu[best];
        a->cnt[best] += b->c;
        a->d1[best] += b->c * d;
        a->d2[best] += b->c * d * d + b->s;
        cost += b->c * d * d + b->s;
    }
    return cost;
}

/* Random start: k-means++ seeds over the bins (weighted by count) refined by Lloyd's
 * iterations, best of KM_SEEDINGS by k-means cost, as scikit-learn starts EM. Bare seeds
 * are not enough: on data with one dominant mode and small far ones (the gaps of a video
 * flow), a single seeding often leaves two seeds in the dominant mode and EM cannot pull
 * one of them out. Weights, means and variances come from the final assignment. */
static void init_kmeanspp(
    const struct ctx *cx, const struct level *lv, unsigned k, struct fm_rng *r, struct gmm *g)
{
    double *p = cx->scratch;
    double best_cost = HUGE_VAL;
    struct gmm cand;
    struct acc a;
    memset(g, 0, sizeof(*g));
    for (unsigned s = 0; s < KM_SEEDINGS; s++) {
        double total = 0.0;
        for (size_t i = 0; i < lv->nb; i++) {
            p[i] = lv->b[i].c;
            total += p[i];
        }
        cand.k = 0;
        while (cand.k < k && total > 0.0) {
            cand.mu[cand.k++] = lv->b[draw_index(p, lv->nb, total, r)].m;
            total = 0.0;
            for (size_t i = 0; i < lv->nb; i++) {
                p[i] = lv->b[i].c * min_dist2(&cand, cand.k, lv->b[i].m);
                total += p[i];
            }
        }
        double cost = HUGE_VAL;
        for (unsigned it = 0; it < KM_ITERS; it++) {
            double c = assign_nearest(lv, &cand, &a);
            int moved = 0;
            for (unsigned j = 0; j < cand.k; j++) {
                if (a.cnt[j] > 0.0 && a.d1[j] != 0.0) {
                    cand.mu[j] += a.d1[j] / a.cnt[j];
                    moved = 1;
                }
            }
            cost = c;
            if (!moved)
                break;
        }
        if (cost < best_cost) {
            best_cost = cost;
            *g = cand;
        }
    }
    assign_nearest(lv, g, &a);
    for (unsigned j = 0; j < g->k; j++)
        g->w[j] = 1.0; /* mstep() only rescales these */
    mstep(g, &a, cx->var_floor);
}

static void gmm_sort(struct gmm *g)
{
    for (unsigned i = 1; i < g->k; i++) {
        for (unsigned j = i; j > 0 && g->mu[j] < g->mu[j - 1]; j--) {
            double t = g->mu[j];
            g->mu[j] = g->mu[j - 1];
            g->mu[j - 1] = t;
            t = g->w[j];
            g->w[j] = g->w[j - 1];
            g->w[j - 1] = t;
            t = g->var[j];
            g->var[j] = g->var[j - 1];
            g->var[j - 1] = t;
        }
    }
}

/* Split start s: the mixture prev with its component s replaced by two at mu -+ sd/2, each with
 * half the weight and 3/4 of the variance, so that the first two moments stay the same. */
static void init_split(const struct ctx *cx, const struct gmm *prev, unsigned s, struct gmm *g)
{
    *g = *prev;
    double sd = sqrt(prev->var[s]);
    double var = prev->var[s] * 0.75;
    if (var < cx->var_floor)
        var = cx->var_floor;
    g->mu[s] = prev->mu[s] - 0.5 * sd;
    g->mu[g->k] = prev->mu[s] + 0.5 * sd;
    g->var[s] = g->var[g->k] = var;
    g->w[s] = g->w[g->k] = 0.5 * prev->w[s];
    g->k++;
}

/* Best of o->restarts runs with k components, refined on the fine bins. When prev (the best
 * fit with k - 1 components) is given, every split of one of its components is tried too:
 * restarts from quantiles or k-means++ put components at separate modes, but a mode that is
 * not Gaussian in shape (a tight core with a tail, as the 20 ms gaps of paced voice have)
 * needs two components in one place, which only a split start finds. */
static int fit_k(const struct ctx *cx,
                 unsigned k,
                 const struct gmm *prev,
                 struct gmm *best,
                 double *best_ll,
                 unsigned *iters,
                 int *converged)
{
    const struct level *lv = cx->coarse.b ? &cx->coarse : &cx->fine;
    /* A seed per k keeps each k's random starts independent of which other k were tried. */
    struct fm_rng *r = fm_rng_new(cx->o->seed ^ (0x9e3779b97f4a7c15u * (uint64_t)k));
    if (!r)
        return FM_ENOMEM;
    memset(best, 0, sizeof(*best));
    *best_ll = -HUGE_VAL;
    *iters = 0;
    *converged = 0;
    /* Runs: one from quantiles, the other restarts from k-means++, then every split of prev. */
    unsigned splits = prev && prev->k + 1 == k ? prev->k : 0;
    for (unsigned run = 0; run < cx->o->restarts + splits; run++) {
        struct gmm g;
        if (run == 0)
            init_quantile(cx, lv, k, &g);
        else if (run < cx->o->restarts)
            init_kmeanspp(cx, lv, k, r, &g);
        else
            init_split(cx, prev, run - cx->o->restarts, &g);
        unsigned it;
        int conv;
        double ll = em_run(cx, lv, &g, &it, &conv);
        if (ll > *best_ll) {
            *best = g;
            *best_ll = ll;
            *iters = it;
            *converged = conv;
        }
    }
    fm_rng_free(r);
    if (cx->coarse.b) {
        unsigned it;
        *best_ll = em_run(cx, &cx->fine, best, &it, converged);
        *iters += it;
    }
    gmm_sort(best);
    return FM_OK;
}

static int is_sorted(const double *x, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (x[i] < x[i - 1])
            return 0;
    return 1;
}

int mdl_gmm_fit(const double *x,
                size_t n,
                const struct mdl_gmm_opts *o,
                struct mdl_gmm_result *out,
                struct fm_err *err)
{
    int rc = FM_OK;
    double *copy = NULL;
    struct ctx cx = {0};

    if (n < 2)
        return fm_err_set(err, FM_EINVAL, "gmm: need at least 2 samples, got %zu", n);
    if (o->k > MDL_MAX_K || (o->k == 0 && (o->max_k < 1 || o->max_k > MDL_MAX_K)))
        return fm_err_set(err, FM_EINVAL, "gmm: k %u / max_k %u out of range 1..%d", o->k, o->max_k,
                          MDL_MAX_K);
    if (o->restarts < 1 || o->max_iter < 1)
        return fm_err_set(err, FM_EINVAL, "gmm: restarts and max_iter must be at least 1");
    if (!(o->tol >= 0.0 && o->tol < HUGE_VAL) || !(o->var_floor > 0.0 && o->var_floor < HUGE_VAL))
        return fm_err_set(err, FM_EINVAL, "gmm: tol must be >= 0 and var_floor > 0, both finite");
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return fm_err_set(err, FM_EINVAL, "gmm: sample %zu is not finite", i);

    /* Callers often pass data that is already sorted (the mixture fitter does). */
    const double *sorted = x;
    if (!is_sorted(x, n)) {
        copy = malloc(n * sizeof(*copy));
        if (!copy) {
            rc = fm_err_set(err, FM_ENOMEM, "gmm: %zu samples", n);
            goto out;
        }
        memcpy(copy, x, n * sizeof(*copy));
        rc = mdl_stats_sort(copy, n);
        if (rc < 0) {
            fm_err_set(err, rc, "gmm: sorting %zu samples", n);
            goto out;
        }
        sorted = copy;
    }
    cx.o = o;
    cx.n = (double)n;
    cx.var_floor = o->var_floor;
    rc = make_fine(sorted, n, &cx.fine);
    if (rc == FM_OK && cx.fine.nb > COARSE_MIN)
        rc = make_coarse(&cx.fine, &cx.coarse);
    if (rc == FM_OK) {
        cx.scratch = malloc(cx.fine.nb * sizeof(*cx.scratch));
        if (!cx.scratch)
            rc = FM_ENOMEM;
    }
    if (rc < 0) {
        fm_err_set(err, rc, "gmm: bins for %zu samples", n);
        goto out;
    }

    unsigned lo = o->k ? o->k : 1, hi = o->k ? o->k : o->max_k;
    if (hi > cx.fine.nb)
        hi = (unsigned)cx.fine.nb;
    if (lo > hi)
        lo = hi;
    struct mdl_gmm_result res = {0};
    res.bic = HUGE_VAL;
    unsigned worse = 0;
    struct gmm prev = {0};
    for (unsigned k = lo; k <= hi; k++) {
        struct gmm g;
        double ll;
        unsigned iters = 0;
        int conv = 0;
        rc = fit_k(&cx, k, k > lo ? &prev : NULL, &g, &ll, &iters, &conv);
        if (rc < 0) {
            fm_err_set(err, rc, "gmm: fitting %u components", k);
            goto out;
        }
        double bic = -2.0 * ll + (3.0 * g.k - 1.0) * log(cx.n);
        if (bic < res.bic) {
            res.k = g.k;
            for (unsigned j = 0; j < g.k; j++)
                res.comps[j] = (struct mdl_comp){g.w[j], g.mu[j], sqrt(g.var[j])};
            res.loglik = ll;
            res.bic = bic;
            res.iters = iters;
            res.converged = conv;
            worse = 0;
        } else if (++worse >= 2) {
            break; /* BIC got worse twice in a row: more components will not pay */
        }
        if (g.k < k)
            break; /* too few distinct values for more components */
        prev = g;
    }
    *out = res;
out:
    free(cx.scratch);
    free(cx.coarse.b);
    free(cx.fine.b);
    free(copy);
    return rc;
}

double mdl_gmm_logpdf(const struct mdl_comp *c, unsigned k, double x)
{
    double t[MDL_MAX_K], mx = -HUGE_VAL;
    if (k > MDL_MAX_K)
        k = MDL_MAX_K;
    for (unsigned j = 0; j < k; j++) {
        double z = (x - c[j].mean) / c[j].sd;
        t[j] = log(c[j].weight) - log(c[j].sd) - 0.5 * (LOG_2PI + z * z);
        if (t[j] > mx)
            mx = t[j];
    }
    if (k == 0 || mx == -HUGE_VAL)
        return -HUGE_VAL; /* no components, or x infinitely far from all */
    double sum = exp(t[0] - mx);
    for (unsigned j = 1; j < k; j++)
        sum += exp(t[j] - mx);
    return mx + log(sum);
}
