/* models/seqfit.c - fit the per-side sequence model (see seqfit.h).
 *
 * Clusters. Each packet is the point (payload length, ln gap), both dithered over their
 * quantum first (a byte, the timestamp tick) so that repeated values do not collapse a
 * component, zero gaps becoming gaps of a quarter to half a tick. The points are standardised
 * and a full-covariance Gaussian mixture is fitted by EM for k = 1, 2, ... on a seeded
 * subsample; BIC picks k (the search stops after two rises in a row). Every packet then gets
 * its most likely cluster; clusters with fewer than min_state packets give theirs to the next
 * most likely one. With RTP markers a cluster's packets with and without the marker are two
 * states, unless one of them is too rare (then it joins the other).
 *
 * Chain. For each order 0..max_order the transition counts give the log-likelihood of the
 * labels from max_order on (the same packets for every order) and BIC = -2 LL + P ln N, P the
 * free parameters of the histories that occur (nonzero transitions minus one per history).
 * The chosen order's histories, and all shorter ones, are kept when seen min_ctx times.
 *
 * Within a state, each feature's distribution is its atoms (values holding at least 1/32 of
 * the state, or every value when there are few) plus equal-count pieces of the rest, a
 * piece's mean kept when it is far from the piece's midpoint; the copula coefficient starts
 * at the lag-1 correlation, over the packets of the state, of its mid-rank normal score with
 * the previous packet's. Probabilities are rounded to 1e-6 so that the file stays small.
 *
 * Sliced states (seq.h): the length's coefficient is re-estimated after the chain, from the
 * uniform that would have picked each packet's state and length (slice_rho()).
 *
 * Calibration. Those coefficients miss persistence that crosses states: a length level that
 * drifts through clusters cutting it into bands (linphone, skype: drawn lag-1 autocorrelation
 * 0.38 for the capture's 0.64), and the alternating outliers of jitter that rank scores tame
 * (-0.19 for -0.47). So the coefficients short of a common level are moved to it, the level
 * found by bisection on the lag-1 autocorrelation of 20000 draws (a fixed seed) against the
 * capture's, each feature on its own (a feature's draws do not depend on the other's
 * coefficients). */
#include "models/seqfit.h"

#include "models/json.h"
#include "models/stats.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CLUSTERS 12
#define EM_MAX_ITER  150
#define EM_TOL       1e-6 /* relative gain in log-likelihood per point */
#define VAR_FLOOR    1e-4 /* on the standardised scale */
#define RHO_MAX      0.995
#define PROB_DIGITS  1e6
#define ATOM_SHARE   (1.0 / MDL_SEQ_MAX_PIECES)
#define MAX_ATOMS    (MDL_SEQ_MAX_PIECES / 3)
#define LN_2PI       1.8378770664093454836
#define PIECE_SKEW   0.05 /* of a piece's width: a mean further from the midpoint is kept */
#define PIECE_EDGE   1e-3 /* of the width: how close to an end a kept mean may be */
/* The lag-1 autocorrelation the draws may miss the capture's by: a smaller miss is about what
 * 20000 draws and a short capture can tell apart, and moving every state for it reshaped the
 * state runs (at 0.02, g729's drawn gap autocorrelation went from 0.18 to 0.29). */
#define CAL_TOL   0.05
#define CAL_RHO   0.95 /* the calibration raises (lowers) no coefficient above (below) it */
#define CAL_STEPS 12   /* bisection steps: the level to within 2e-4 */
#define CAL_DRAWS 20000

void mdl_seq_fit_opts_init(struct mdl_seq_fit_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->max_clusters = MAX_CLUSTERS;
    o->max_order = MDL_SEQ_MAX_ORDER;
    o->subsample = 10000;
    o->min_state = 40;
    o->min_ctx = 20;
    o->seed = 1;
}

/* ---- 2-D Gaussian mixture ---- */

struct g2 {
    double w, mx, my, sxx, sxy, syy;
    double ixx, ixy, iyy, lnorm; /* inverse covariance and ln(w / (2 pi sqrt(det))) */
};

static void g2_prepare(struct g2 *g)
{
    g->sxx = fmax(g->sxx, VAR_FLOOR);
    g->syy = fmax(g->syy, VAR_FLOOR);
    double det = g->sxx * g->syy - g->sxy * g->sxy;
    double fl = VAR_FLOOR * VAR_FLOOR;
    if (det < fl) {
        /* Nearly degenerate: shrink the correlation until the determinant is floored. */
        double lim = sqrt(fmax(g->sxx * g->syy - fl, 0.0));
        g->sxy = g->sxy < 0 ? -lim : lim;
        det = g->sxx * g->syy - g->sxy * g->sxy;
        if (det < fl)
            det = fl;
    }
    g->ixx = g->syy / det;
    g->iyy = g->sxx / det;
    g->ixy = -g->sxy / det;
    g->lnorm = log(fmax(g->w, 1e-300)) - LN_2PI - 0.5 * log(det);
}

static double g2_logp(const struct g2 *g, double x, double y)
{
    double dx = x - g->mx, dy = y - g->my;
    return g->lnorm - 0.5 * (dx * dx * g->ixx + 2.0 * dx * dy * g->ixy + dy * dy * g->iyy);
}

/* ln sum_j exp(lp[j]) and the responsibilities in lp (overwritten). */
static double normalise(double *lp, unsigned k)
{
    double mx = lp[0];
    for (unsigned j = 1; j < k; j++)
        mx = lp[j] > mx ? lp[j] : mx;
    double s = 0.0;
    for (unsigned j = 0; j < k; j++) {
        lp[j] = exp(lp[j] - mx);
        s += lp[j];
    }
    for (unsigned j = 0; j < k; j++)
        lp[j] /= s;
    return mx + log(fmax(s, 1.0)); /* s >= 1 anyway: the largest term is exp(0) */
}

/* k-means++ seeds for the means; covariances start at the data's, shrunk by k. */
static void em_init(const double *x,
                    const double *y,
                    size_t n,
                    unsigned k,
                    struct fm_rng *r,
                    double *d2,
                    struct g2 *g)
{
    size_t first = (size_t)fm_rng_below(r, n);
    g[0].mx = x[first];
    g[0].my = y[first];
    for (size_t i = 0; i < n; i++)
        d2[i] = HUGE_VAL;
    for (unsigned j = 1; j < k; j++) {
        double tot = 0.0;
        for (size_t i = 0; i < n; i++) {
            double dx = x[i] - g[j - 1].mx, dy = y[i] - g[j - 1].my;
            double d = dx * dx + dy * dy;
            d2[i] = d < d2[i] ? d : d2[i];
            tot += d2[i];
        }
        double u = fm_rng_uniform(r) * tot;
        size_t pick = n - 1;
        for (size_t i = 0; i < n; i++) {
            u -= d2[i];
            if (u < 0.0) {
                pick = i;
                break;
            }
        }
        g[j].mx = x[pick];
        g[j].my = y[pick];
    }
    for (unsigned j = 0; j < k; j++) {
        g[j].w = 1.0 / k;
        g[j].sxx = g[j].syy = 1.0 / k;
        g[j].sxy = 0.0;
        g2_prepare(&g[j]);
    }
}

/* EM for k components on n standardised points; returns the log-likelihood. */
static double em_fit(const double *x,
                     const double *y,
                     size_t n,
                     unsigned k,
                     struct fm_rng *r,
                     double *scratch,
                     struct g2 *g)
{
    em_init(x, y, n, k, r, scratch, g);
    double prev = -HUGE_VAL, ll = -HUGE_VAL;
    for (unsigned it = 0; it < EM_MAX_ITER; it++) {
        double acc[MAX_CLUSTERS][6];
        memset(acc, 0, sizeof(acc));
        ll = 0.0;
        for (size_t i = 0; i < n; i++) {
            double lp[MAX_CLUSTERS];
            for (unsigned j = 0; j < k; j++)
                lp[j] = g2_logp(&g[j], x[i], y[i]);
            ll += normalise(lp, k);
            for (unsigned j = 0; j < k; j++) {
                double rj = lp[j];
                acc[j][0] += rj;
                acc[j][1] += rj * x[i];
                acc[j][2] += rj * y[i];
                acc[j][3] += rj * x[i] * x[i];
                acc[j][4] += rj * x[i] * y[i];
                acc[j][5] += rj * y[i] * y[i];
            }
        }
        for (unsigned j = 0; j < k; j++) {
            double nj = acc[j][0];
            if (nj < 1e-9) { /* an empty component restarts on a random point */
                size_t i = (size_t)fm_rng_below(r, n);
                g[j] = (struct g2){1.0 / (double)n, x[i], y[i], 0.01, 0.0, 0.01, 0, 0, 0, 0};
            } else {
                g[j].w = nj / (double)n;
                g[j].mx = acc[j][1] / nj;
                g[j].my = acc[j][2] / nj;
                g[j].sxx = acc[j][3] / nj - g[j].mx * g[j].mx;
                g[j].sxy = acc[j][4] / nj - g[j].mx * g[j].my;
                g[j].syy = acc[j][5] / nj - g[j].my * g[j].my;
            }
            g2_prepare(&g[j]);
        }
        if (ll - prev < EM_TOL * (double)n)
            break;
        prev = ll;
    }
    return ll;
}

/* Choose k by BIC on the subsample; the chosen mixture goes to best, its size to *kbest. */
static void select_k(const double *x,
                     const double *y,
                     size_t n,
                     unsigned max_k,
                     uint64_t seed,
                     double *scratch,
                     struct g2 *best,
                     unsigned *kbest)
{
    double best_bic = HUGE_VAL, last = HUGE_VAL;
    unsigned rises = 0;
    *kbest = 0;
    for (unsigned k = 1; k <= max_k && (size_t)k <= n; k++) {
        struct g2 g[MAX_CLUSTERS];
        struct fm_rng *r = fm_rng_new(seed * 1000003u + k);
        if (!r)
            break;
        double ll = em_fit(x, y, n, k, r, scratch, g);
        fm_rng_free(r);
        double bic = -2.0 * ll + (6.0 * k - 1.0) * log((double)n);
        if (bic < best_bic) {
            best_bic = bic;
            memcpy(best, g, k * sizeof(*g));
            *kbest = k;
        }
        rises = bic > last ? rises + 1 : 0;
        last = bic;
        if (rises >= 2)
            break;
    }
}

/* ---- chain ---- */

static size_t ipow(size_t b, unsigned e)
{
    size_t r = 1;
    while (e--)
        r *= b;
    return r;
}

/* Round n probabilities to 1e-6 and give the rounding remainder to the largest, so that
 * they still sum to 1 and print short. */
static void round_probs(double *p, size_t n)
{
    double sum = 0.0;
    size_t big = 0;
    for (size_t i = 0; i < n; i++) {
        p[i] = round(p[i] * PROB_DIGITS) / PROB_DIGITS;
        sum += p[i];
        if (p[i] > p[big])
            big = i;
    }
    p[big] = round((p[big] + 1.0 - sum) * PROB_DIGITS) / PROB_DIGITS;
    if (p[big] < 0.0)
        p[big] = 0.0;
}

struct cand {
    unsigned order;
    size_t code; /* the history as a base-k number, oldest digit first */
    uint64_t n;
};

static int cmp_cand(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return (x->code > y->code) - (x->code < y->code);
}

int mdl_seq_fit_chain(const uint8_t *labels,
                      size_t n,
                      unsigned max_order,
                      uint64_t min_ctx,
                      struct mdl_seq *s,
                      struct fm_err *err)
{
    unsigned k = s->k;
    uint64_t *cnt[MDL_SEQ_MAX_ORDER + 1] = {0};
    struct cand *cand = NULL;
    int rc = FM_OK;
    if (k < 1 || k > MDL_SEQ_MAX_STATES || max_order > MDL_SEQ_MAX_ORDER || n < 1)
        return fm_err_set(err, FM_EINVAL, "sequence: chain of %zu labels over %u states", n, k);
    for (unsigned o = 0; o <= max_order; o++) {
        cnt[o] = calloc(ipow(k, o + 1), sizeof(uint64_t));
        if (!cnt[o]) {
            rc = fm_err_set(err, FM_ENOMEM, "sequence: transition counts");
            goto out;
        }
    }
    /* Counts of every order over every position that has the history. */
    for (size_t t = 0; t < n; t++) {
        size_t code = 0;
        for (unsigned o = 0; o <= max_order && o <= t; o++) {
            /* code holds labels t-o .. t-1 as a base-k number, the latest the lowest digit. */
            cnt[o][code * k + labels[t]]++;
            if (o < t)
                code += (size_t)labels[t - o - 1] * ipow(k, o);
        }
    }
    /* BIC on the packets from max_order on, the same for every order: recount those. */
    unsigned best = 0;
    double best_bic = HUGE_VAL;
    for (unsigned o = 0; o <= max_order; o++) {
        size_t nctx = ipow(k, o);
        uint64_t *c = calloc(nctx * k, sizeof(uint64_t));
        if (!c) {
            rc = fm_err_set(err, FM_ENOMEM, "sequence: transition counts");
            goto out;
        }
        for (size_t t = max_order; t < n; t++) {
            size_t code = 0;
            for (unsigned i = 0; i < o; i++)
                code += (size_t)labels[t - 1 - i] * ipow(k, i);
            c[code * k + labels[t]]++;
        }
        double ll = 0.0, params = 0.0;
        size_t used = n > max_order ? n - max_order : 0;
        for (size_t h = 0; h < nctx; h++) {
            uint64_t tot = 0, nz = 0;
            for (unsigned j = 0; j < k; j++) {
                tot += c[h * k + j];
                nz += c[h * k + j] > 0;
            }
            for (unsigned j = 0; j < k; j++) {
                if (c[h * k + j])
                    ll += (double)c[h * k + j] * log((double)c[h * k + j] / (double)tot);
            }
            if (nz > 1)
                params += (double)(nz - 1);
        }
        free(c);
        s->bic[o] = used > 0 ? -2.0 * ll + params * log((double)used) : 0.0;
        if (s->bic[o] < best_bic - 1e-9) {
            best_bic = s->bic[o];
            best = o;
        }
    }
    s->order = best;
    /* The histories to keep: every one of the chosen order or shorter seen min_ctx times. */
    size_t ncand = 0, cap = 0;
    for (unsigned o = 0; o <= best; o++)
        cap += ipow(k, o);
    cand = malloc(cap * sizeof(*cand));
    if (!cand) {
        rc = fm_err_set(err, FM_ENOMEM, "sequence: histories");
        goto out;
    }
    for (unsigned o = 0; o <= best; o++) {
        for (size_t h = 0; h < ipow(k, o); h++) {
            uint64_t tot = 0;
            for (unsigned j = 0; j < k; j++)
                tot += cnt[o][h * k + j];
            if (tot > 0 && (o == 0 || tot >= min_ctx))
                cand[ncand++] = (struct cand){o, h, tot};
        }
    }
    /* Most seen first (shorter first among equals, so a kept history's suffixes, seen at
     * least as often, are kept too). */
    qsort(cand, ncand, sizeof(*cand), cmp_cand);
    if (ncand > MDL_SEQ_MAX_CTX)
        ncand = MDL_SEQ_MAX_CTX;
    s->n_ctx = 0;
    for (size_t i = 0; i < ncand; i++) {
        struct mdl_seq_ctx *x = &s->ctx[s->n_ctx++];
        memset(x, 0, sizeof(*x));
        x->order = cand[i].order;
        x->n = cand[i].n;
        size_t code = cand[i].code;
        /* The lowest base-k digit of code is the latest state: read them out, then reverse so
         * that hist is oldest first. */
        for (unsigned d = 0; d < x->order; d++) {
            x->hist[d] = (uint8_t)(code % k);
            code /= k;
        }
        for (unsigned a = 0, b = x->order; a + 1 < b; a++, b--) {
            uint8_t t = x->hist[a];
            x->hist[a] = x->hist[b - 1];
            x->hist[b - 1] = t;
        }
        const uint64_t *row = cnt[x->order];
        if (!row) { /* not reached: every order up to max_order was counted */
            rc = fm_err_set(err, FM_EINVAL, "sequence: history of order %u", x->order);
            goto out;
        }
        row += cand[i].code * k;
        for (unsigned j = 0; j < k; j++)
            x->p[j] = (double)row[j] / (double)cand[i].n;
        round_probs(x->p, k);
    }
    mdl_seq_sort_ctx(s);
out:
    for (unsigned o = 0; o <= MDL_SEQ_MAX_ORDER; o++)
        free(cnt[o]);
    free(cand);
    return rc;
}

/* ---- within-state distributions and persistence ---- */

/* Atoms and equal-count pieces of n sorted values, and the pieces' means (0 where the
 * midpoint is close enough). */
/* Is a run of `run` equal values an atom? It holds `need` values (0: every run is one, when
 * the values are few) and the MAX_ATOMS budget is not spent by the `atoms` before it. */
static int run_is_atom(size_t run, double need, size_t atoms)
{
    return (double)run >= need && (need == 0.0 || atoms < MAX_ATOMS);
}

static void build_dist(const double *v, size_t n, struct mdl_seq_dist *d, double *means)
{
    memset(d, 0, sizeof(*d));
    memset(means, 0, MDL_SEQ_MAX_PIECES * sizeof(*means));
    size_t distinct = 1;
    for (size_t i = 1; i < n; i++)
        distinct += v[i] != v[i - 1];
    double need = distinct <= MDL_SEQ_MAX_PIECES ? 0.0 : ATOM_SHARE * (double)n;
    /* Mark atoms: runs of equal values holding `need` (all values when they are few). */
    size_t atoms = 0, rest = 0, runs = 0;
    int prev_atom = 1;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j] == v[i])
            j++;
        int atom = run_is_atom(j - i, need, atoms);
        if (atom) {
            atoms++;
        } else {
            rest += j - i;
            runs += prev_atom;
        }
        prev_atom = atom;
        i = j;
    }
    size_t budget = MDL_SEQ_MAX_PIECES - atoms;
    size_t per = 1;
    if (rest > 0) {
        size_t room = budget > runs ? budget - runs : 1;
        per = (rest + room - 1) / room;
        if (per < 1)
            per = 1;
    }
    /* Second pass: emit pieces in value order. */
    size_t in_piece = 0;
    atoms = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j] == v[i])
            j++;
        int atom = run_is_atom(j - i, need, atoms);
        if (atom) {
            atoms++;
            d->pieces[d->n++] = (struct mdl_seq_piece){v[i], v[i], (double)(j - i)};
            in_piece = 0;
        } else {
            for (size_t t = i; t < j; t++) {
                if (in_piece == 0 || in_piece >= per) {
                    if (d->n == MDL_SEQ_MAX_PIECES) { /* not reached: the budget holds */
                        d->pieces[d->n - 1].hi = v[t];
                        d->pieces[d->n - 1].p += 1.0;
                        continue;
                    }
                    d->pieces[d->n++] = (struct mdl_seq_piece){v[t], v[t], 0.0};
                    in_piece = 0;
                }
                d->pieces[d->n - 1].hi = v[t];
                d->pieces[d->n - 1].p += 1.0;
                in_piece++;
            }
        }
        i = j;
    }
    /* Each piece's mean, kept where it is far from the midpoint (a skewed tail). The pieces
     * hold consecutive sorted values, their counts in p so far. */
    size_t at = 0;
    for (unsigned i = 0; i < d->n; i++) {
        const struct mdl_seq_piece *q = &d->pieces[i];
        size_t cnt = (size_t)q->p;
        double sum = 0.0;
        for (size_t t = at; t < at + cnt && t < n; t++)
            sum += v[t];
        at += cnt;
        double w = q->hi - q->lo;
        double mean = cnt ? sum / (double)cnt : 0.0;
        if (w > 0.0 && fabs(mean - 0.5 * (q->lo + q->hi)) > PIECE_SKEW * w) {
            /* Rounded to print short, and kept strictly inside the range. */
            double r = round(mean * 1e3) / 1e3;
            means[i] = fmin(fmax(r, q->lo + PIECE_EDGE * w), q->hi - PIECE_EDGE * w);
        }
    }
    double p[MDL_SEQ_MAX_PIECES] = {0};
    for (unsigned i = 0; i < d->n; i++)
        p[i] = d->pieces[i].p / (double)n;
    round_probs(p, d->n);
    for (unsigned i = 0; i < d->n; i++)
        d->pieces[i].p = p[i];
}

static size_t lower(const double *v, size_t n, double x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (v[m] < x)
            lo = m + 1;
        else
            hi = m;
    }
    return lo;
}

/* Index of the first of n sorted values above x. */
static size_t upper(const double *v, size_t n, double x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (v[m] <= x)
            lo = m + 1;
        else
            hi = m;
    }
    return lo;
}

/* The mid-rank normal score of each of the n values x (a state's, in visiting order) into
 * z; sorted is the same values sorted. */
static void normal_scores(const double *x, const double *sorted, size_t n, double *z)
{
    for (size_t i = 0; i < n; i++) {
        size_t lo = lower(sorted, n, x[i]);
        size_t hi = upper(sorted, n, x[i]);
        double u = ((double)(lo + hi - 1) / 2.0 + 1.0) / ((double)n + 1.0);
        z[i] = gsl_cdf_ugaussian_Pinv(u);
    }
}

/* Each state's coefficient: the correlation of a packet's within-state score with the score
 * of the packet before it (within that packet's own state), over the packets of the state. */
static void state_rho(const double *z, const uint8_t *lab, size_t n, struct mdl_seq *s, int gap)
{
    for (unsigned st = 0; st < s->k; st++) {
        double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, m = 0;
        for (size_t t = 1; t < n; t++) {
            if (lab[t] != st)
                continue;
            sa += z[t - 1];
            sb += z[t];
            saa += z[t - 1] * z[t - 1];
            sbb += z[t] * z[t];
            sab += z[t - 1] * z[t];
            m += 1.0;
        }
        double rho = 0.0;
        if (m >= 10.0) {
            double va = saa / m - (sa / m) * (sa / m), vb = sbb / m - (sb / m) * (sb / m);
            if (va > 1e-12 && vb > 1e-12)
                rho = (sab / m - (sa / m) * (sb / m)) / sqrt(va * vb);
        }
        rho = rho > RHO_MAX ? RHO_MAX : rho < -RHO_MAX ? -RHO_MAX : rho;
        *(gap ? &s->states[st].rho_gap : &s->states[st].rho_len) = rho;
    }
}

/* Distributions and rho of every state, from the labelled packets. */
static int fit_states(const double *len,
                      const int64_t *gap_ns,
                      const uint8_t *lab,
                      size_t n,
                      struct mdl_seq *s,
                      double *zlen,
                      struct fm_err *err)
{
    double *a = malloc(n * sizeof(*a));
    double *b = malloc(n * sizeof(*b));
    double *za = malloc(n * sizeof(*za));
    double *z = calloc(n, sizeof(*z)); /* every packet's score is set: labels are below k */
    int rc = FM_OK;
    if (!a || !b || !za || !z) {
        rc = fm_err_set(err, FM_ENOMEM, "sequence: states of %zu packets", n);
        goto out;
    }
    for (int feat = 0; feat < 2; feat++) {
        for (unsigned st = 0; st < s->k; st++) {
            size_t m = 0;
            for (size_t i = 0; i < n; i++) {
                if (lab[i] == st)
                    a[m++] = feat ? (double)gap_ns[i] : len[i];
            }
            memcpy(b, a, m * sizeof(*a));
            rc = mdl_stats_sort(b, m);
            if (rc < 0) {
                fm_err_set(err, rc, "sequence: sorting");
                goto out;
            }
            struct mdl_seq_state *x = &s->states[st];
            x->n = m;
            build_dist(b, m, feat ? &x->gap : &x->len, feat ? s->gap_mean[st] : s->len_mean[st]);
            normal_scores(a, b, m, za);
            /* Put the scores back in packet order. */
            size_t j = 0;
            for (size_t i = 0; i < n; i++) {
                if (lab[i] == st)
                    z[i] = za[j++];
            }
        }
        state_rho(z, lab, n, s, feat);
        if (!feat)
            memcpy(zlen, z, n * sizeof(*z));
    }
out:
    free(a);
    free(b);
    free(za);
    free(z);
    return rc;
}

/* ---- calibration of the persistence by drawing ---- */

/* Lag-1 autocorrelation of n values (0 when they are constant). */
static double acf1(const double *x, size_t n)
{
    double m = 0.0, v = 0.0, c = 0.0;
    for (size_t i = 0; i < n; i++)
        m += x[i];
    m /= (double)n;
    for (size_t i = 0; i < n; i++) {
        v += (x[i] - m) * (x[i] - m);
        if (i > 0)
            c += (x[i] - m) * (x[i - 1] - m);
    }
    return v > 0.0 ? c / v : 0.0;
}

/* The lag-1 autocorrelation of feature feat (0 length, 1 gap) over m packets drawn from s,
 * always with the same seed so that the calibration's steps compare like with like; NAN when
 * out of memory. */
static double sim_acf(const struct mdl_seq *s, size_t m, uint64_t seed, int feat, double *buf)
{
    struct fm_rng *r = fm_rng_new(seed ^ 0xca1b7a7eULL);
    if (!r)
        return (double)NAN;
    struct mdl_seq_gen g;
    mdl_seq_gen_init(&g);
    for (size_t i = 0; i < m; i++) {
        unsigned st = 0;
        double l = 0, gp = 0;
        int mk = 0;
        mdl_seq_draw(s, &g, r, &st, &l, &gp, &mk);
        buf[i] = feat ? gp : l;
    }
    fm_rng_free(r);
    return acf1(buf, m);
}

/* The states' coefficients of feature feat moved to t: those below it raised (up) or those
 * above it lowered, the others kept. */
static void set_level(struct mdl_seq *s, const double *base, double t, int up, int feat)
{
    for (unsigned i = 0; i < s->k; i++) {
        double r = up ? fmax(base[i], t) : fmin(base[i], t);
        *(feat ? &s->states[i].rho_gap : &s->states[i].rho_len) = r;
    }
}

/* Calibrate feature feat's coefficients until m draws have the capture's lag-1
 * autocorrelation of values x[0..n) (within CAL_TOL), or the level reaches +-CAL_RHO. Why:
 * the within-state scores miss the persistence that crosses state changes (a level drifting
 * through clusters that cut it into bands), and rank scores tame the alternating outliers of
 * jitter that make a gap's autocorrelation negative. Only the states short of the level move,
 * so the persistence goes where it was missing rather than making persistent states stick;
 * the bound keeps every state's latent from sticking for more than some 40 packets, beyond
 * which a draw's length distribution converges too slowly to be the capture's. */
static int calibrate(struct mdl_seq *s,
                     const double *x,
                     size_t n,
                     uint64_t seed,
                     int feat,
                     double *buf,
                     size_t m,
                     struct fm_err *err)
{
    double target = acf1(x, n);
    double base[MDL_SEQ_MAX_STATES];
    for (unsigned i = 0; i < s->k; i++)
        base[i] = feat ? s->states[i].rho_gap : s->states[i].rho_len;
    double now = sim_acf(s, m, seed, feat, buf);
    if (isnan(now))
        return fm_err_set(err, FM_ENOMEM, "sequence: random numbers");
    if (!(fabs(now - target) > CAL_TOL))
        return FM_OK;
    int up = now < target;
    double lo = -CAL_RHO, hi = CAL_RHO;
    for (int it = 0; it < CAL_STEPS; it++) {
        double mid = 0.5 * (lo + hi);
        set_level(s, base, mid, up, feat);
        double a = sim_acf(s, m, seed, feat, buf);
        if (isnan(a))
            return fm_err_set(err, FM_ENOMEM, "sequence: random numbers");
        if (a < target)
            lo = mid;
        else
            hi = mid;
    }
    set_level(s, base, round(0.5 * (lo + hi) * 1e4) / 1e4, up, feat);
    return FM_OK;
}

/* Both features' calibration (their draws do not depend on each other's coefficients). */
static int calibrate_all(struct mdl_seq *s,
                         const double *len,
                         const int64_t *gap_ns,
                         size_t n,
                         uint64_t seed,
                         struct fm_err *err)
{
    size_t m = CAL_DRAWS;
    double *buf = malloc((n + m) * sizeof(*buf));
    if (!buf)
        return fm_err_set(err, FM_ENOMEM, "sequence: calibration of %zu packets", n);
    int rc = calibrate(s, len, n, seed, 0, buf, m, err);
    if (rc >= 0) {
        for (size_t i = 0; i < n; i++)
            buf[m + i] = (double)gap_ns[i];
        rc = calibrate(s, buf + m, n, seed, 1, buf, m, err);
    }
    free(buf);
    return rc;
}

/* Sliced states (seq.h "slice"): each state's rho_length is the correlation, over the
 * packets after one in that state, of the last packet's within-state length score with the
 * normal score of the uniform that would have picked this packet's state and length: its
 * slice's start under its context, plus the slice's width times its length's within-state
 * mid-rank uniform. */
static void slice_rho(const double *zl, const uint8_t *lab, size_t n, struct mdl_seq *s)
{
    uint8_t order[MDL_SEQ_MAX_STATES];
    unsigned pos[MDL_SEQ_MAX_STATES];
    double acc[MDL_SEQ_MAX_STATES][6];
    memset(acc, 0, sizeof(acc));
    mdl_seq_len_order(s, order);
    for (unsigned j = 0; j < s->k; j++)
        pos[order[j]] = j;
    for (size_t t = 1; t < n; t++) {
        unsigned h = t < s->order ? (unsigned)t : s->order;
        const struct mdl_seq_ctx *c = mdl_seq_find_ctx(s, lab + t - h, h);
        if (!c)
            continue;
        double below = 0.0;
        for (unsigned j = 0; j < pos[lab[t]]; j++)
            below += c->p[order[j]];
        double u = below + c->p[lab[t]] * gsl_cdf_ugaussian_P(zl[t]);
        u = u < 1e-12 ? 1e-12 : u > 1.0 - 1e-12 ? 1.0 - 1e-12 : u;
        double w = gsl_cdf_ugaussian_Pinv(u), x = zl[t - 1];
        double *a = acc[lab[t - 1]];
        a[0] += 1.0;
        a[1] += x;
        a[2] += w;
        a[3] += x * x;
        a[4] += w * w;
        a[5] += x * w;
    }
    for (unsigned st = 0; st < s->k; st++) {
        const double *a = acc[st];
        double rho = 0.0, m = a[0];
        if (m >= 10.0) {
            double va = a[3] / m - (a[1] / m) * (a[1] / m), vb = a[4] / m - (a[2] / m) * (a[2] / m);
            if (va > 1e-12 && vb > 1e-12)
                rho = (a[5] / m - (a[1] / m) * (a[2] / m)) / sqrt(va * vb);
        }
        s->states[st].rho_len = rho > RHO_MAX ? RHO_MAX : rho < -RHO_MAX ? -RHO_MAX : rho;
    }
}

/* ---- the whole fit ---- */

struct clus {
    double mean_len;
    unsigned old;
};

static int cmp_clus(const void *a, const void *b)
{
    const struct clus *x = a, *y = b;
    if (x->mean_len != y->mean_len)
        return x->mean_len < y->mean_len ? -1 : 1;
    return (x->old > y->old) - (x->old < y->old);
}

/* Points of the cluster fit: dithered length and ln gap, standardised. */
static int make_points(const double *len,
                       const int64_t *gap_ns,
                       size_t n,
                       double tick_ns,
                       uint64_t seed,
                       double *x,
                       double *y,
                       struct fm_err *err)
{
    struct fm_rng *r = fm_rng_new(seed ^ 0x5eb1f17ULL);
    if (!r)
        return fm_err_set(err, FM_ENOMEM, "sequence: random numbers");
    double mx = 0, my = 0, vx = 0, vy = 0;
    for (size_t i = 0; i < n; i++) {
        x[i] = len[i] + fm_rng_uniform(r) - 0.5;
        double g = (double)gap_ns[i];
        g = g > 0 ? g + (fm_rng_uniform(r) - 0.5) * tick_ns
                  : tick_ns * (0.25 + 0.25 * fm_rng_uniform(r));
        y[i] = log(fmax(g, 0.25 * tick_ns));
        mx += x[i];
        my += y[i];
    }
    fm_rng_free(r);
    mx /= (double)n;
    my /= (double)n;
    for (size_t i = 0; i < n; i++) {
        vx += (x[i] - mx) * (x[i] - mx);
        vy += (y[i] - my) * (y[i] - my);
    }
    double sx = fmax(sqrt(vx / (double)n), 1e-3), sy = fmax(sqrt(vy / (double)n), 1e-3);
    for (size_t i = 0; i < n; i++) {
        x[i] = (x[i] - mx) / sx;
        y[i] = (y[i] - my) / sy;
    }
    return FM_OK;
}

/* Label every point with its most likely cluster among those alive. */
static void label_points(const double *x,
                         const double *y,
                         size_t n,
                         const struct g2 *g,
                         unsigned k,
                         const int *alive,
                         uint8_t *lab)
{
    for (size_t i = 0; i < n; i++) {
        double best = -HUGE_VAL;
        unsigned bj = 0;
        for (unsigned j = 0; j < k; j++) {
            if (!alive[j])
                continue;
            double lp = g2_logp(&g[j], x[i], y[i]);
            if (lp > best) {
                best = lp;
                bj = j;
            }
        }
        lab[i] = (uint8_t)bj;
    }
}

/* Clusters of n points: labels in lab, their number returned in *k (ordered by mean length). */
static int cluster(const double *len,
                   const int64_t *gap_ns,
                   size_t n,
                   double tick_ns,
                   const struct mdl_seq_fit_opts *o,
                   unsigned max_k,
                   uint8_t *lab,
                   unsigned *kout,
                   struct fm_err *err)
{
    double *x = calloc(n, sizeof(*x));
    double *y = calloc(n, sizeof(*y));
    size_t ns = n < o->subsample ? n : o->subsample;
    double *sx = malloc(ns * sizeof(*sx));
    double *sy = malloc(ns * sizeof(*sy));
    double *scratch = malloc(ns * sizeof(*scratch));
    int rc = FM_OK;
    if (!x || !y || !sx || !sy || !scratch) {
        rc = fm_err_set(err, FM_ENOMEM, "sequence: clusters of %zu packets", n);
        goto out;
    }
    rc = make_points(len, gap_ns, n, tick_ns, o->seed, x, y, err);
    if (rc < 0)
        goto out;
    /* An evenly spread subsample keeps slow changes of the flow in it. */
    for (size_t i = 0; i < ns; i++) {
        size_t at = (size_t)((double)i * (double)n / (double)ns);
        sx[i] = x[at];
        sy[i] = y[at];
    }
    struct g2 g[MAX_CLUSTERS];
    memset(g, 0, sizeof(g));
    unsigned k = 0;
    select_k(sx, sy, ns, max_k, o->seed, scratch, g, &k);
    if (k == 0) {
        rc = fm_err_set(err, FM_ENOMEM, "sequence: cluster fit");
        goto out;
    }
    int alive[MAX_CLUSTERS];
    for (unsigned j = 0; j < k; j++)
        alive[j] = 1;
    /* Drop the smallest cluster while it is too small, relabelling its packets. */
    for (;;) {
        label_points(x, y, n, g, k, alive, lab);
        uint64_t cnt[MAX_CLUSTERS] = {0};
        for (size_t i = 0; i < n; i++)
            cnt[lab[i]]++;
        unsigned worst = k, left = 0;
        for (unsigned j = 0; j < k; j++) {
            if (!alive[j])
                continue;
            left++;
            if (cnt[j] < o->min_state && (worst == k || cnt[j] < cnt[worst]))
                worst = j;
        }
        if (worst == k || left <= 1)
            break;
        alive[worst] = 0;
    }
    /* Renumber the clusters that are left by mean length. */
    struct clus c[MAX_CLUSTERS] = {{0}};
    unsigned m = 0;
    for (unsigned j = 0; j < k; j++) {
        if (!alive[j])
            continue;
        double s = 0;
        uint64_t cn = 0;
        for (size_t i = 0; i < n; i++) {
            if (lab[i] == j) {
                s += len[i];
                cn++;
            }
        }
        c[m++] = (struct clus){cn ? s / (double)cn : 0.0, j};
    }
    qsort(c, m, sizeof(*c), cmp_clus);
    uint8_t map[MAX_CLUSTERS] = {0};
    for (unsigned j = 0; j < m; j++)
        map[c[j].old] = (uint8_t)j;
    for (size_t i = 0; i < n; i++)
        lab[i] = map[lab[i]];
    *kout = m;
out:
    free(x);
    free(y);
    free(sx);
    free(sy);
    free(scratch);
    return rc;
}

/* Split each cluster by the marker bit: label 2c + marker, a rare half joining the other;
 * then renumber the states in use. Sets s->k and the states' marker flags. */
static void split_markers(uint8_t *lab,
                          const uint8_t *marker,
                          size_t n,
                          unsigned k,
                          uint64_t min_state,
                          struct mdl_seq *s)
{
    uint64_t cnt[2 * MAX_CLUSTERS] = {0};
    for (size_t i = 0; i < n; i++) {
        lab[i] = (uint8_t)(2 * lab[i] + (marker && marker[i] ? 1 : 0));
        cnt[lab[i]]++;
    }
    uint8_t to[2 * MAX_CLUSTERS] = {0};
    for (unsigned j = 0; j < 2 * k; j++) {
        unsigned sib = j ^ 1u;
        to[j] = (uint8_t)(cnt[j] < min_state && cnt[j] < cnt[sib] ? sib : j);
    }
    unsigned next = 0;
    int num[2 * MAX_CLUSTERS] = {0};
    for (unsigned j = 0; j < 2 * k; j++)
        num[j] = -1;
    for (unsigned j = 0; j < 2 * k; j++) {
        if (to[j] == j && cnt[j] > 0) {
            num[j] = (int)next;
            s->states[next].marker = (int)(j & 1u);
            next++;
        }
    }
    for (size_t i = 0; i < n; i++)
        lab[i] = (uint8_t)num[to[lab[i]]];
    s->k = next;
}

int mdl_seq_fit(const double *len,
                const int64_t *gap_ns,
                const uint8_t *marker,
                size_t n,
                double tick_ns,
                const struct mdl_seq_fit_opts *o,
                struct mdl_seq *out,
                struct fm_err *err)
{
    uint8_t *lab = NULL;
    double *zlen = NULL;
    struct mdl_seq *s = NULL;
    int rc = FM_OK;
    if (n < 2 || !(tick_ns >= 1.0 && tick_ns <= 1e9) || o->max_clusters < 1 ||
        o->max_clusters > MAX_CLUSTERS || o->max_order > MDL_SEQ_MAX_ORDER || o->subsample < 2)
        return fm_err_set(err, FM_EINVAL, "sequence: %zu packets or options out of range", n);
    for (size_t i = 0; i < n; i++) {
        if (gap_ns[i] < 0 || !(len[i] >= 0.0 && isfinite(len[i])))
            return fm_err_set(err, FM_EINVAL, "sequence: packet %zu has a negative value", i);
    }
    lab = malloc(n);
    s = calloc(1, sizeof(*s));
    if (!lab || !s) {
        rc = fm_err_set(err, FM_ENOMEM, "sequence of %zu packets", n);
        goto out;
    }
    /* Markers double the states: fewer clusters keep them within MDL_SEQ_MAX_STATES. */
    unsigned max_k = o->max_clusters;
    if (marker && max_k > MDL_SEQ_MAX_STATES / 2)
        max_k = MDL_SEQ_MAX_STATES / 2;
    unsigned k = 0;
    rc = cluster(len, gap_ns, n, tick_ns, o, max_k, lab, &k, err);
    if (rc < 0)
        goto out;
    s->clusters = k;
    s->frames = marker != NULL;
    s->tick_ns = tick_ns;
    split_markers(lab, marker, n, k, o->min_state, s);
    zlen = malloc(n * sizeof(*zlen));
    if (!zlen) {
        rc = fm_err_set(err, FM_ENOMEM, "sequence of %zu packets", n);
        goto out;
    }
    rc = fit_states(len, gap_ns, lab, n, s, zlen, err);
    if (rc < 0)
        goto out;
    rc = mdl_seq_fit_chain(lab, n, o->max_order, o->min_ctx, s, err);
    if (rc < 0)
        goto out;
    s->slice = 1;
    slice_rho(zlen, lab, n, s);
    rc = calibrate_all(s, len, gap_ns, n, o->seed, err);
    if (rc < 0)
        goto out;
    rc = mdl_seq_fit_bound(s, err);
    if (rc < 0)
        goto out;
    *out = *s;
out:
    free(lab);
    free(zlen);
    free(s);
    return rc;
}

int mdl_seq_fit_bound(struct mdl_seq *s, struct fm_err *err)
{
    for (;;) {
        size_t bytes = mdl_json_seq_bytes(s);
        if (bytes == SIZE_MAX)
            return fm_err_set(err, FM_ENOMEM, "sequence: printing");
        if (bytes <= MDL_SEQ_MAX_JSON)
            return FM_OK;
        if (s->n_ctx <= 1) {
            /* Only the pieces' means are left to give up (then pieces are uniform). */
            memset(s->len_mean, 0, sizeof(s->len_mean));
            memset(s->gap_mean, 0, sizeof(s->gap_mean));
            return FM_OK;
        }
        /* The least-seen history goes, the longest among equals: its extensions, seen no
         * more often, went before it. */
        unsigned worst = s->n_ctx;
        for (unsigned i = 0; i < s->n_ctx; i++) {
            const struct mdl_seq_ctx *x = &s->ctx[i];
            if (x->order == 0)
                continue;
            if (worst == s->n_ctx || x->n < s->ctx[worst].n ||
                (x->n == s->ctx[worst].n && x->order > s->ctx[worst].order))
                worst = i;
        }
        if (worst == s->n_ctx)
            return FM_OK;
        memmove(&s->ctx[worst], &s->ctx[worst + 1], (s->n_ctx - worst - 1) * sizeof(s->ctx[0]));
        s->n_ctx--;
    }
}
