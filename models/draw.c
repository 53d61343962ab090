/* models/draw.c - a series of packets drawn from one side of a model.
 * The independent path keeps the order compare always drew in (every length, then every gap)
 * so that a version-1 model, or --sequence off, gives the same draws as before the sequence
 * model existed for the same seed. */
#include "models/draw.h"

#include <math.h>

#include "common/time.h"

int mdl_side_draw_series(const struct mdl_side *s,
                         enum mdl_draw_mode mode,
                         struct fm_rng *r,
                         size_t n,
                         double *len,
                         double *gap_s)
{
    if (s->present && s->has_seq && mode == MDL_DRAW_AUTO) {
        struct mdl_seq_gen g;
        mdl_seq_gen_init(&g);
        for (size_t i = 0; i < n; i++) {
            unsigned state = 0;
            int marker = 0;
            double l = 0, gap_ns = 0;
            mdl_seq_draw(&s->seq, &g, r, &state, &l, &gap_ns, &marker);
            len[i] = l;
            if (i > 0)
                gap_s[i - 1] = gap_ns / (double)FM_NS_PER_SEC;
        }
        return 1;
    }
    int has_len = s->present && s->has_payload;
    int has_gap = s->present && s->has_iat;
    for (size_t i = 0; i < n; i++)
        len[i] = has_len ? mdl_mixture_sample(&s->payload, r) : (double)NAN;
    for (size_t i = 0; i + 1 < n; i++)
        gap_s[i] = has_gap ? mdl_mixture_sample(&s->iat, r) : (double)NAN;
    return 0;
}

double mdl_seq_dist_quantile(const struct mdl_seq_dist *d, double q)
{
    double cum = 0.0;
    for (unsigned i = 0; i < d->n; i++) {
        const struct mdl_seq_piece *p = &d->pieces[i];
        if (cum + p->p >= q && p->p > 0.0)
            return p->lo + (p->hi - p->lo) * (q - cum) / p->p;
        cum += p->p;
    }
    return d->pieces[d->n - 1].hi;
}

/* The share of piece p's draws (mdl_seq_draw: lo - res/2 + (hi - lo + res) f^a, rounded to
 * res, with a from the piece's mean, 1 without one) that fall on the grid values in [lo, hi]. */
static double
piece_share(const struct mdl_seq_piece *p, double mean, double res, double lo, double hi)
{
    double a = ceil(lo / res - 1e-9) * res, b = floor(hi / res + 1e-9) * res;
    a = a > p->lo ? a : p->lo;
    b = b < p->hi ? b : p->hi;
    if (b < a)
        return 0.0;
    if (p->hi <= p->lo)
        return 1.0; /* an atom inside the window */
    double w = p->hi - p->lo + res, e = 1.0;
    if (mean != 0.0)
        e = 1.0 / ((p->hi - p->lo) / (mean - p->lo) - 1.0);
    double x0 = (a - 0.5 * res - (p->lo - 0.5 * res)) / w,
           x1 = (b + 0.5 * res - (p->lo - 0.5 * res)) / w;
    x0 = x0 < 0.0 ? 0.0 : x0 > 1.0 ? 1.0 : x0;
    x1 = x1 < 0.0 ? 0.0 : x1 > 1.0 ? 1.0 : x1;
    return pow(x1, e) - pow(x0, e);
}

double mdl_seq_mass(const struct mdl_seq *s, int gap, double lo, double hi)
{
    double res = gap ? (s->tick_ns >= 1.0 ? s->tick_ns : 1.0) : 1.0;
    double total = 0.0, mass = 0.0;
    if (!(lo <= hi))
        return 0.0;
    for (unsigned st = 0; st < s->k; st++)
        total += (double)s->states[st].n;
    if (!(total > 0.0))
        return 0.0;
    for (unsigned st = 0; st < s->k; st++) {
        const struct mdl_seq_dist *d = gap ? &s->states[st].gap : &s->states[st].len;
        const double *means = gap ? s->gap_mean[st] : s->len_mean[st];
        double in = 0.0;
        for (unsigned i = 0; i < d->n; i++)
            in += d->pieces[i].p * piece_share(&d->pieces[i], means[i], res, lo, hi);
        mass += (double)s->states[st].n / total * in;
    }
    return mass;
}
