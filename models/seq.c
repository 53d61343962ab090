/* models/seq.c - check and draw from the per-side sequence model (see seq.h).
 * Drawing a packet costs a binary search per tried history length (at most
 * MDL_SEQ_MAX_ORDER + 1), a pass over the states' probabilities and two inverse CDFs. */
#include "models/seq.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUM_TOL 1e-6
#define U_EPS   1e-12 /* keeps copula uniforms off 0 and 1 */

/* A history's sort key: order first, then the states oldest first. */
static uint32_t ctx_key(unsigned order, const uint8_t *hist)
{
    uint32_t key = (uint32_t)order << 24;
    for (unsigned i = 0; i < order; i++)
        key |= (uint32_t)hist[i] << (16 - 8 * i);
    return key;
}

static int
check_dist(const struct mdl_seq_dist *d, const double *mean, const char *name, struct fm_err *err)
{
    if (d->n < 1 || d->n > MDL_SEQ_MAX_PIECES)
        return fm_err_set(err, FM_EFORMAT, "%s: has %u pieces, not 1 to %d", name, d->n,
                          MDL_SEQ_MAX_PIECES);
    double sum = 0.0;
    for (unsigned i = 0; i < d->n; i++) {
        const struct mdl_seq_piece *p = &d->pieces[i];
        if (!(isfinite(p->lo) && isfinite(p->hi) && p->lo >= 0.0 && p->lo <= p->hi))
            return fm_err_set(err, FM_EFORMAT, "%s.pieces[%u]: bad range [%g, %g]", name, i, p->lo,
                              p->hi);
        if (mean[i] != 0.0 && !(mean[i] > p->lo && mean[i] < p->hi))
            return fm_err_set(err, FM_EFORMAT, "%s.pieces[%u]: mean %g is not inside (%g, %g)",
                              name, i, mean[i], p->lo, p->hi);
        if (i > 0 && p->lo < d->pieces[i - 1].hi)
            return fm_err_set(err, FM_EFORMAT, "%s.pieces[%u]: not in increasing order", name, i);
        if (!(p->p >= 0.0 && p->p <= 1.0))
            return fm_err_set(err, FM_EFORMAT, "%s.pieces[%u]: bad mass %g", name, i, p->p);
        sum += p->p;
    }
    if (!(fabs(sum - 1.0) <= SUM_TOL))
        return fm_err_set(err, FM_EFORMAT, "%s: masses sum to %.9g, not 1", name, sum);
    return FM_OK;
}

int mdl_seq_check(const struct mdl_seq *s, struct fm_err *err)
{
    char name[64];
    if (s->k < 1 || s->k > MDL_SEQ_MAX_STATES)
        return fm_err_set(err, FM_EFORMAT, "states: %u states, not 1 to %d", s->k,
                          MDL_SEQ_MAX_STATES);
    if (s->slice != 0 && s->slice != 1)
        return fm_err_set(err, FM_EFORMAT, "slice: must be 0 or 1, not %d", s->slice);
    if (s->order > MDL_SEQ_MAX_ORDER)
        return fm_err_set(err, FM_EFORMAT, "order: %u is above %d", s->order, MDL_SEQ_MAX_ORDER);
    if (!(isfinite(s->tick_ns) && s->tick_ns >= 1.0 && s->tick_ns <= 1e9))
        return fm_err_set(err, FM_EFORMAT, "tick_ns: %g is not 1 to 1e9", s->tick_ns);
    for (unsigned i = 0; i < s->k; i++) {
        const struct mdl_seq_state *st = &s->states[i];
        if (!(fabs(st->rho_len) < 1.0 && fabs(st->rho_gap) < 1.0))
            return fm_err_set(err, FM_EFORMAT, "states[%u]: rho must be above -1 and below 1", i);
        if (st->marker != 0 && st->marker != 1)
            return fm_err_set(err, FM_EFORMAT, "states[%u].marker: must be 0 or 1", i);
        snprintf(name, sizeof(name), "states[%u].length", i);
        int rc = check_dist(&st->len, s->len_mean[i], name, err);
        if (rc < 0)
            return rc;
        snprintf(name, sizeof(name), "states[%u].gap_ns", i);
        rc = check_dist(&st->gap, s->gap_mean[i], name, err);
        if (rc < 0)
            return rc;
    }
    if (s->n_ctx < 1 || s->n_ctx > MDL_SEQ_MAX_CTX)
        return fm_err_set(err, FM_EFORMAT, "contexts: %u histories, not 1 to %d", s->n_ctx,
                          MDL_SEQ_MAX_CTX);
    int have_root = 0;
    for (unsigned c = 0; c < s->n_ctx; c++) {
        const struct mdl_seq_ctx *x = &s->ctx[c];
        if (x->order > s->order)
            return fm_err_set(err, FM_EFORMAT, "contexts[%u]: history longer than order %u", c,
                              s->order);
        for (unsigned i = 0; i < x->order; i++) {
            if (x->hist[i] >= s->k)
                return fm_err_set(err, FM_EFORMAT, "contexts[%u].history: state %u does not exist",
                                  c, x->hist[i]);
        }
        if (c > 0 && ctx_key(x->order, x->hist) <= ctx_key(s->ctx[c - 1].order, s->ctx[c - 1].hist))
            return fm_err_set(err, FM_EFORMAT, "contexts[%u]: history repeated or out of order", c);
        double sum = 0.0;
        for (unsigned i = 0; i < s->k; i++) {
            if (!(x->p[i] >= 0.0 && x->p[i] <= 1.0))
                return fm_err_set(err, FM_EFORMAT, "contexts[%u].next[%u]: bad probability %g", c,
                                  i, x->p[i]);
            sum += x->p[i];
        }
        if (!(fabs(sum - 1.0) <= SUM_TOL))
            return fm_err_set(err, FM_EFORMAT, "contexts[%u].next: sums to %.9g, not 1", c, sum);
        have_root |= x->order == 0;
    }
    if (!have_root)
        return fm_err_set(err, FM_EFORMAT, "contexts: the empty history (order 0) is missing");
    return FM_OK;
}

static int cmp_ctx(const void *a, const void *b)
{
    const struct mdl_seq_ctx *x = a, *y = b;
    uint32_t kx = ctx_key(x->order, x->hist), ky = ctx_key(y->order, y->hist);
    return (kx > ky) - (kx < ky);
}

void mdl_seq_sort_ctx(struct mdl_seq *s)
{
    qsort(s->ctx, s->n_ctx, sizeof(s->ctx[0]), cmp_ctx);
}

const struct mdl_seq_ctx *
mdl_seq_find_ctx(const struct mdl_seq *s, const uint8_t *hist, unsigned nhist)
{
    unsigned top = nhist < s->order ? nhist : s->order;
    for (unsigned ord = top + 1; ord-- > 0;) {
        uint32_t key = ctx_key(ord, hist + (nhist - ord));
        size_t lo = 0, hi = s->n_ctx;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            uint32_t k = ctx_key(s->ctx[mid].order, s->ctx[mid].hist);
            if (k == key)
                return &s->ctx[mid];
            if (k < key)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    return NULL;
}

void mdl_seq_gen_init(struct mdl_seq_gen *g)
{
    memset(g, 0, sizeof(*g));
}

/* u kept inside (0, 1) by U_EPS, where the quantile functions are finite. */
static double clamp_u(double u)
{
    return u < U_EPS ? U_EPS : u > 1.0 - U_EPS ? 1.0 - U_EPS : u;
}

static double to_uniform(double z)
{
    return clamp_u(0.5 * erfc(-z / sqrt(2.0)));
}

/* The next latent score, rho times the last one plus independent noise, as a uniform: its
 * marginal stays standard normal whatever the states' coefficients. */
static double ar1(double *z, int seen, double rho, struct fm_rng *r)
{
    double e = fm_rng_gauss(r);
    *z = seen ? rho * *z + sqrt(1.0 - rho * rho) * e : e;
    return to_uniform(*z);
}

static double dist_mean(const struct mdl_seq_dist *d, const double *mean)
{
    double m = 0.0;
    for (unsigned i = 0; i < d->n; i++) {
        const struct mdl_seq_piece *p = &d->pieces[i];
        m += p->p * (mean[i] != 0.0 ? mean[i] : 0.5 * (p->lo + p->hi));
    }
    return m;
}

void mdl_seq_len_order(const struct mdl_seq *s, uint8_t *order)
{
    double mean[MDL_SEQ_MAX_STATES];
    for (unsigned i = 0; i < s->k; i++) {
        mean[i] = dist_mean(&s->states[i].len, s->len_mean[i]);
        unsigned j = i;
        for (; j > 0 && mean[order[j - 1]] > mean[i]; j--)
            order[j] = order[j - 1];
        order[j] = (uint8_t)i;
    }
}

/* A draw from d at uniform u, spread over the quantum res around the pieces' values (so that
 * a piece's end values get their full share once rounded) and rounded to res. */
static double draw_value(const struct mdl_seq_dist *d, const double *mean, double u, double res)
{
    double cum = 0.0;
    unsigned i = 0;
    while (i + 1 < d->n && u >= cum + d->pieces[i].p) {
        cum += d->pieces[i].p;
        i++;
    }
    const struct mdl_seq_piece *p = &d->pieces[i];
    if (p->hi <= p->lo || p->p <= 0.0)
        return p->lo;
    double f = (u - cum) / p->p;
    f = f < 0.0 ? 0.0 : f > 1.0 ? 1.0 : f;
    if (mean[i] != 0.0) /* still increasing in u: the copula's ranks survive */
        f = pow(f, (p->hi - p->lo) / (mean[i] - p->lo) - 1.0);
    double v = round((p->lo - 0.5 * res + (p->hi - p->lo + res) * f) / res) * res;
    return v < p->lo ? p->lo : v > p->hi ? p->hi : v;
}

void mdl_seq_draw(const struct mdl_seq *s,
                  struct mdl_seq_gen *g,
                  struct fm_rng *r,
                  unsigned *state,
                  double *len,
                  double *gap_ns,
                  int *marker)
{
    const struct mdl_seq_ctx *c = mdl_seq_find_ctx(s, g->hist, g->nhist);
    unsigned st = 0;
    double ul = 0.0;
    if (s->slice) {
        if (!g->seen)
            mdl_seq_len_order(s, g->by_len);
        double e = fm_rng_gauss(r);
        double rho = g->seen ? s->states[g->last].rho_len : 0.0;
        double u = to_uniform(g->seen ? rho * g->z_len + sqrt(1.0 - rho * rho) * e : e);
        double below = 0.0, p = 1.0;
        /* Rounding can leave u just above the total: the last state with mass takes it. */
        for (unsigned j = 0; c && j < s->k; j++) {
            unsigned i = g->by_len[j];
            if (c->p[i] <= 0.0)
                continue;
            st = i;
            p = c->p[i];
            if (u < below + p)
                break;
            below += p;
        }
        ul = clamp_u((u - below) / p);
        g->z_len = gsl_cdf_ugaussian_Pinv(ul);
    } else {
        double u = fm_rng_uniform(r);
        /* Rounding can leave u just above the total: the last state with mass takes it. */
        for (unsigned i = 0; c && i < s->k; i++) {
            if (c->p[i] <= 0.0)
                continue;
            st = i;
            u -= c->p[i];
            if (u < 0.0)
                break;
        }
    }
    if (s->order > 0) {
        if (g->nhist == s->order) {
            memmove(g->hist, g->hist + 1, s->order - 1);
            g->nhist--;
        }
        g->hist[g->nhist++] = (uint8_t)st;
    }
    const struct mdl_seq_state *x = &s->states[st];
    if (!s->slice)
        ul = ar1(&g->z_len, g->seen, x->rho_len, r);
    double ug = ar1(&g->z_gap, g->seen, x->rho_gap, r);
    g->seen = 1;
    g->last = st;
    *state = st;
    *len = draw_value(&x->len, s->len_mean[st], ul, 1.0);
    *gap_ns = draw_value(&x->gap, s->gap_mean[st], ug, s->tick_ns);
    *marker = x->marker;
}
