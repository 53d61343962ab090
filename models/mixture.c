/* models/mixture.c - fit, check and sample atom-plus-Gaussian mixtures of one feature.
 *
 * Fitting runs in three steps on a sorted copy of the samples:
 *  1. Atoms. For MDL_SCALE_LOG exact zeros always form an atom at 0 (ln 0 does not exist,
 *     and zero gaps are common where timestamps are rounded). Every other distinct value is
 *     an atom when it holds at least atom_min_share of the samples, at least ATOM_MIN_COUNT
 *     of them, and ATOM_SPIKE times the mean count of the ATOM_SLOTS value slots on either
 *     side of it. A slot is one quantum of the data: opts.resolution when given, else the
 *     smallest gap between distinct values. So a codec's fixed frame length or an MTU-size
 *     fragment stands out, while the peak of a smooth distribution of integers, whose
 *     neighbours hold nearly as many samples, does not.
 *  2. The rest (all samples that are not atoms), trimmed to [trim_lo, trim_hi] percent, is
 *     fitted by mdl_gmm_fit() on x or on ln(x). Too small a rest is folded into the atoms.
 *  3. Component weights are scaled by the rest's share so that everything sums to 1. */
#include "models/mixture.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/gmm.h"
#include "models/stats.h"

#define ATOM_MIN_COUNT 5
#define ATOM_SPIKE     3.0
#define ATOM_SLOTS     5     /* neighbour slots on each side */
#define REST_MIN       10    /* fewest samples for the Gaussian part ... */
#define REST_MIN_SHARE 0.01  /* ... and fewest as a share of all samples */
#define SAMPLE_TRIES   64    /* redraws of a component before clamping to [min, max] */
#define LOG_VAR_MIN    1e-14 /* smallest variance on ln(x): sd 1e-7, a 100 ns spread at 1 s */
#define LIN_VAR_REL    1e-12 /* smallest variance on x, relative to max(1, |x|max)^2 */
#define WEIGHT_TOL     1e-6

static const double LOG_2PI = 1.8378770664093454836;

void mdl_fit_opts_init(struct mdl_fit_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->scale = MDL_SCALE_LINEAR;
    o->k = 0;
    o->max_k = 5;
    o->restarts = 3;
    o->max_iter = 500;
    o->tol = 1e-7;
    o->atom_min_share = 0.01;
    o->trim_lo = 0.0;
    o->trim_hi = 100.0;
    o->resolution = 0.0;
    o->seed = 1;
}

static int check_opts(const struct mdl_fit_opts *o, struct fm_err *err)
{
    if (o->scale != MDL_SCALE_LINEAR && o->scale != MDL_SCALE_LOG)
        return fm_err_set(err, FM_EINVAL, "mixture: unknown scale %d", (int)o->scale);
    if (o->k > MDL_MAX_K || o->max_k < 1 || o->max_k > MDL_MAX_K)
        return fm_err_set(err, FM_EINVAL, "mixture: k %u / max_k %u out of range 1..%d", o->k,
                          o->max_k, MDL_MAX_K);
    if (o->restarts < 1 || o->max_iter < 1)
        return fm_err_set(err, FM_EINVAL, "mixture: restarts and max_iter must be at least 1");
    if (!(o->tol >= 0.0 && isfinite(o->tol)))
        return fm_err_set(err, FM_EINVAL, "mixture: tol must be finite and >= 0");
    if (!(o->atom_min_share >= 0.0 && o->atom_min_share <= 1.0))
        return fm_err_set(err, FM_EINVAL, "mixture: atom_min_share must be in 0..1");
    if (!(o->trim_lo >= 0.0 && o->trim_lo < o->trim_hi && o->trim_hi <= 100.0))
        return fm_err_set(err, FM_EINVAL, "mixture: trim must satisfy 0 <= lo < hi <= 100");
    if (!(o->resolution >= 0.0 && isfinite(o->resolution)))
        return fm_err_set(err, FM_EINVAL, "mixture: resolution must be finite and >= 0");
    return FM_OK;
}

/* Index of the first of n sorted values that is >= v (or > v when strict). */
static size_t lower_bound(const double *x, size_t n, double v, int strict)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strict ? x[mid] <= v : x[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The quantum of the sorted values x[0..n): the given resolution, else the smallest gap
 * between distinct values; 0 when all values are equal. */
static double quantum(const double *x, size_t n, double resolution)
{
    if (resolution > 0.0)
        return resolution;
    double q = 0.0;
    for (size_t i = 1; i < n; i++) {
        double d = x[i] - x[i - 1];
        if (d > 0.0 && (q == 0.0 || d < q))
            q = d;
    }
    return q;
}

static int cmp_atom_weight(const void *pa, const void *pb)
{
    const struct mdl_atom *a = pa, *b = pb;
    if (a->weight != b->weight)
        return a->weight < b->weight ? 1 : -1;
    return (a->value > b->value) - (a->value < b->value);
}

static int cmp_atom_value(const void *pa, const void *pb)
{
    const struct mdl_atom *a = pa, *b = pb;
    return (a->value > b->value) - (a->value < b->value);
}

/* Find the atoms among the sorted values x[0..n) (zeros already removed for log scale) into
 * atoms, at most cap of them, largest first; atom weights are counts here. Candidates are
 * gathered first in a scratch array, since there may be more than cap of them. */
static int find_atoms(const double *x,
                      size_t n,
                      double n_all,
                      const struct mdl_fit_opts *o,
                      struct mdl_atom *atoms,
                      size_t cap,
                      size_t *n_atoms)
{
    *n_atoms = 0;
    if (o->atom_min_share <= 0.0 || n == 0 || cap == 0)
        return FM_OK;
    double need = o->atom_min_share * n_all;
    if (need < ATOM_MIN_COUNT)
        need = ATOM_MIN_COUNT;
    /* At most n_all / need values can hold `need` samples each. */
    size_t max_cand = (size_t)(n_all / need) + 1;
    struct mdl_atom *cand = malloc(max_cand * sizeof(*cand));
    if (!cand)
        return FM_ENOMEM;
    size_t nc = 0;
    double q = quantum(x, n, o->resolution);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && x[j] == x[i])
            j++;
        double c = (double)(j - i);
        if (c >= need && nc < max_cand) {
            /* Samples in the ATOM_SLOTS slots on either side (half a slot of slack so that
             * values not exactly on the grid still fall in their slot). */
            double half = ((double)ATOM_SLOTS + 0.5) * q;
            size_t lo = lower_bound(x, n, x[i] - half, 0);
            size_t hi = lower_bound(x, n, x[i] + half, 1);
            double around = (double)(hi - lo) - c;
            if (c >= ATOM_SPIKE * around / (2.0 * ATOM_SLOTS))
                cand[nc++] = (struct mdl_atom){x[i], c};
        }
        i = j;
    }
    qsort(cand, nc, sizeof(*cand), cmp_atom_weight);
    if (nc > cap)
        nc = cap;
    memcpy(atoms, cand, nc * sizeof(*cand));
    *n_atoms = nc;
    free(cand);
    return FM_OK;
}

/* Is v one of the atoms (values, sorted)? */
static int is_atom(const struct mdl_atom *atoms, size_t na, double v)
{
    size_t lo = 0, hi = na;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (atoms[mid].value < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < na && atoms[lo].value == v;
}

/* The variance floor of the Gaussian part, a guard only: dithered data (see dither()) cannot
 * gather tighter than one quantum anyway. A uniform spread over one quantum has variance
 * res^2 / 12; on the log scale a quantum is res / x wide at x, narrowest at the largest x, so
 * the floor there is the one no real cluster goes below. Without a resolution the floors are
 * LIN_VAR_REL of the data's magnitude squared and LOG_VAR_MIN. */
static double var_floor(const struct mdl_fit_opts *o, const double *rest, size_t nr)
{
    double res = o->resolution;
    if (o->scale == MDL_SCALE_LOG) {
        /* rest holds ln(x), sorted: its last element is ln of the largest x. */
        double top = exp(rest[nr - 1]);
        double f = res > 0.0 && top > 0.0 ? (res / top) * (res / top) / 12.0 : 0.0;
        return f > LOG_VAR_MIN ? f : LOG_VAR_MIN;
    }
    double mag = fmax(1.0, fmax(fabs(rest[0]), fabs(rest[nr - 1])));
    double f = res * res / 12.0, tiny = LIN_VAR_REL * mag * mag;
    return f > tiny ? f : tiny;
}

/* Quantised data (whole bytes, timestamps on a 1 us tick) are values rounded to a quantum.
 * Spread each one uniformly over its quantum, with a seeded generator, before EM: the fit then
 * sees the continuous quantity that was rounded, no component can collapse onto one repeated
 * value, and sampling (draw, then round to the quantum) is the exact inverse. On the log scale
 * this gives a spread of res / x at x, which no single variance floor could. x stays sorted. */
static int dither(double *x, size_t n, const struct mdl_fit_opts *o, struct fm_err *err)
{
    struct fm_rng *r = fm_rng_new(o->seed ^ 0x9e3779b97f4a7c15ULL);
    if (!r)
        return fm_err_set(err, FM_ENOMEM, "mixture: dither");
    double res = o->resolution;
    for (size_t i = 0; i < n; i++) {
        double v = x[i] + (fm_rng_uniform(r) - 0.5) * res;
        /* On the log scale the smallest non-zero value is one quantum: keep it positive. */
        x[i] = o->scale == MDL_SCALE_LOG && v <= 0.0 ? x[i] * 0.5 : v;
    }
    fm_rng_free(r);
    int rc = mdl_stats_sort(x, n);
    return rc < 0 ? fm_err_set(err, rc, "mixture: sorting %zu samples", n) : FM_OK;
}

/* Fit the Gaussian part to the sorted rest[0..nr) (already on the component scale). */
static int fit_rest(const double *rest,
                    size_t nr,
                    const struct mdl_fit_opts *o,
                    double floor_var,
                    struct mdl_gmm_result *res,
                    struct fm_err *err)
{
    size_t lo = 0, hi = nr;
    if (o->trim_lo > 0.0 || o->trim_hi < 100.0) {
        double vlo = mdl_stats_quantile_sorted(rest, nr, o->trim_lo / 100.0);
        double vhi = mdl_stats_quantile_sorted(rest, nr, o->trim_hi / 100.0);
        lo = lower_bound(rest, nr, vlo, 0);
        hi = lower_bound(rest, nr, vhi, 1);
        if (hi - lo < 2) { /* trimmed to nothing: keep the whole rest */
            lo = 0;
            hi = nr;
        }
    }
    struct mdl_gmm_opts g;
    mdl_gmm_opts_init(&g);
    g.k = o->k;
    g.max_k = o->max_k;
    g.restarts = o->restarts;
    g.max_iter = o->max_iter;
    g.tol = o->tol;
    g.var_floor = floor_var;
    g.seed = o->seed;
    return mdl_gmm_fit(rest + lo, hi - lo, &g, res, err);
}

int mdl_mixture_fit(const double *x,
                    size_t n,
                    const struct mdl_fit_opts *o,
                    struct mdl_mixture *out,
                    struct fm_err *err)
{
    int rc = FM_OK;
    double *s = NULL;
    struct mdl_mixture m;

    if (n == 0)
        return fm_err_set(err, FM_EINVAL, "mixture: no samples");
    rc = check_opts(o, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return fm_err_set(err, FM_EINVAL, "mixture: sample %zu is not finite", i);
        if (o->scale == MDL_SCALE_LOG && x[i] < 0.0)
            return fm_err_set(err, FM_EINVAL, "mixture: sample %zu is negative (%g) on log scale",
                              i, x[i]);
    }
    s = malloc(n * sizeof(*s));
    if (!s) {
        rc = fm_err_set(err, FM_ENOMEM, "mixture: %zu samples", n);
        goto out;
    }
    memcpy(s, x, n * sizeof(*s));
    rc = mdl_stats_sort(s, n);
    if (rc < 0) {
        fm_err_set(err, rc, "mixture: sorting %zu samples", n);
        goto out;
    }

    memset(&m, 0, sizeof(m));
    m.scale = o->scale;
    m.min = s[0];
    m.max = s[n - 1];
    m.resolution = o->resolution;
    m.n = n;
    double nd = (double)n;

    /* Zeros head the sorted array; on log scale they are an atom whatever their share. */
    size_t zeros = 0;
    if (o->scale == MDL_SCALE_LOG) {
        zeros = lower_bound(s, n, 0.0, 1);
        if (zeros > 0)
            m.atoms[m.n_atoms++] = (struct mdl_atom){0.0, (double)zeros};
    }
    size_t found = 0;
    rc = find_atoms(s + zeros, n - zeros, nd, o, m.atoms + m.n_atoms, MDL_MAX_ATOMS - m.n_atoms,
                    &found);
    if (rc < 0) {
        fm_err_set(err, rc, "mixture: atoms of %zu samples", n);
        goto out;
    }
    m.n_atoms += found;
    qsort(m.atoms, m.n_atoms, sizeof(m.atoms[0]), cmp_atom_value);

    /* Compact the rest in place, in order. */
    size_t nr = 0;
    for (size_t i = zeros; i < n; i++)
        if (!is_atom(m.atoms, m.n_atoms, s[i]))
            s[nr++] = s[i];
    double rest_min = fmax((double)REST_MIN, ceil(REST_MIN_SHARE * nd));
    if (nr > 0 && m.n_atoms == 0 && (double)nr < rest_min) {
        /* Too few samples for a fit and no atoms to fold them into: keep the empirical
         * distribution as atoms when it is small enough, else fit what there is. */
        size_t distinct = 1;
        for (size_t i = 1; i < nr; i++)
            distinct += s[i] != s[i - 1];
        if (distinct <= MDL_MAX_ATOMS) {
            for (size_t i = 0; i < nr;) {
                size_t j = i + 1;
                while (j < nr && s[j] == s[i])
                    j++;
                m.atoms[m.n_atoms++] = (struct mdl_atom){s[i], (double)(j - i)};
                i = j;
            }
            nr = 0;
        } else {
            rest_min = 2.0;
        }
    }
    if (o->resolution > 0.0 && nr > 0) {
        rc = dither(s, nr, o, err);
        if (rc < 0)
            goto out;
    }
    if (o->scale == MDL_SCALE_LOG)
        for (size_t i = 0; i < nr; i++)
            s[i] = log(s[i]); /* x > 0 here: zeros are the atom at 0 */
    double atom_count = 0.0;
    for (size_t i = 0; i < m.n_atoms; i++)
        atom_count += m.atoms[i].weight;
    if ((double)nr >= rest_min && nr >= 2) {
        struct mdl_gmm_result res;
        rc = fit_rest(s, nr, o, var_floor(o, s, nr), &res, err);
        if (rc < 0)
            goto out;
        double share = (double)nr / nd;
        m.k = res.k;
        for (unsigned j = 0; j < res.k; j++) {
            m.comps[j] = res.comps[j];
            m.comps[j].weight *= share;
        }
        m.bic = res.bic;
        m.loglik = res.loglik;
        for (size_t i = 0; i < m.n_atoms; i++)
            m.atoms[i].weight /= nd;
    } else {
        /* Fold the few leftovers: the atoms share all the mass. */
        for (size_t i = 0; i < m.n_atoms; i++)
            m.atoms[i].weight /= atom_count;
    }
    *out = m;
out:
    free(s);
    return rc;
}

int mdl_mixture_check(const struct mdl_mixture *m, struct fm_err *err)
{
    if (m->scale != MDL_SCALE_LINEAR && m->scale != MDL_SCALE_LOG)
        return fm_err_set(err, FM_EFORMAT, "mixture: unknown scale %d", (int)m->scale);
    if (m->n_atoms > MDL_MAX_ATOMS || m->k > MDL_MAX_K)
        return fm_err_set(err, FM_EFORMAT, "mixture: %zu atoms / %u components, at most %d / %d",
                          m->n_atoms, m->k, MDL_MAX_ATOMS, MDL_MAX_K);
    if (m->n_atoms == 0 && m->k == 0)
        return fm_err_set(err, FM_EFORMAT, "mixture: no atoms and no components");
    if (!(isfinite(m->min) && isfinite(m->max) && m->min <= m->max))
        return fm_err_set(err, FM_EFORMAT, "mixture: bad range [%g, %g]", m->min, m->max);
    if (m->scale == MDL_SCALE_LOG && m->min < 0.0)
        return fm_err_set(err, FM_EFORMAT, "mixture: negative min %g on log scale", m->min);
    if (!(m->resolution >= 0.0 && isfinite(m->resolution)))
        return fm_err_set(err, FM_EFORMAT, "mixture: bad resolution %g", m->resolution);
    double sum = 0.0;
    for (size_t i = 0; i < m->n_atoms; i++) {
        const struct mdl_atom *a = &m->atoms[i];
        if (!isfinite(a->value) || !(a->weight >= 0.0 && a->weight <= 1.0))
            return fm_err_set(err, FM_EFORMAT, "mixture: atom %zu (value %g, weight %g) is bad", i,
                              a->value, a->weight);
        if (m->scale == MDL_SCALE_LOG && a->value < 0.0)
            return fm_err_set(err, FM_EFORMAT, "mixture: atom %zu is negative on log scale", i);
        sum += a->weight;
    }
    for (unsigned j = 0; j < m->k; j++) {
        const struct mdl_comp *c = &m->comps[j];
        if (!(c->weight >= 0.0 && c->weight <= 1.0) || !isfinite(c->mean) ||
            !(c->sd > 0.0 && isfinite(c->sd)))
            return fm_err_set(err, FM_EFORMAT,
                              "mixture: component %u (weight %g, mean %g, sd %g) is bad", j,
                              c->weight, c->mean, c->sd);
        sum += c->weight;
    }
    if (!(fabs(sum - 1.0) <= WEIGHT_TOL))
        return fm_err_set(err, FM_EFORMAT, "mixture: weights sum to %.9g, not 1", sum);
    return FM_OK;
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* v rounded to a whole number of quanta res. The data's values are counts of a tick divided
 * by a power of ten (a gap of 10000 ns is 10000 / 1e9 s), so a quantum below 1 that is the
 * inverse of a whole number divides by that number: n / 1e6 is then the very double the data
 * holds, where n * 1e-6 may be one unit in the last place off it (10 * 1e-6 is not 1e-5), which
 * would put a draw and the identical real value on two sides of every comparison. */
static double snap(double v, double res)
{
    const double q = round(v / res);
    const double inv = round(1.0 / res);
    if (res < 1.0 && inv >= 2.0 && fabs(1.0 / res - inv) <= 1e-9 * inv)
        return q / inv;
    return q * res;
}

double mdl_mixture_sample(const struct mdl_mixture *m, struct fm_rng *r)
{
    double u = fm_rng_uniform(r);
    double v = m->min;
    int chosen = 0;
    for (size_t i = 0; i < m->n_atoms && !chosen; i++) {
        u -= m->atoms[i].weight;
        if (u < 0.0) {
            v = m->atoms[i].value;
            chosen = 1;
        }
    }
    if (!chosen && m->k > 0) {
        /* Rounding can leave u just above the total: the last component takes it. */
        unsigned j = 0;
        while (j + 1 < m->k && (u -= m->comps[j].weight) >= 0.0)
            j++;
        const struct mdl_comp *c = &m->comps[j];
        /* Truncation redraws from the same component rather than the whole mixture, which
         * keeps the atom and component shares exactly as fitted. */
        for (unsigned t = 0; t < SAMPLE_TRIES; t++) {
            v = c->mean + c->sd * fm_rng_gauss(r);
            if (m->scale == MDL_SCALE_LOG)
                v = exp(v);
            if (v >= m->min && v <= m->max)
                break;
        }
    } else if (!chosen && m->n_atoms > 0) {
        v = m->atoms[m->n_atoms - 1].value;
    }
    v = clamp(v, m->min, m->max);
    if (m->resolution > 0.0)
        v = clamp(snap(v, m->resolution), m->min, m->max);
    return v;
}

double mdl_mixture_pdf(const struct mdl_mixture *m, double x)
{
    double y = x, jac = 1.0;
    if (m->scale == MDL_SCALE_LOG) {
        if (!(x > 0.0))
            return 0.0;
        y = log(x);
        jac = 1.0 / x;
    }
    double p = 0.0;
    for (unsigned j = 0; j < m->k; j++) {
        const struct mdl_comp *c = &m->comps[j];
        double z = (y - c->mean) / c->sd;
        p += c->weight * exp(-0.5 * (LOG_2PI + z * z)) / c->sd;
    }
    return p * jac;
}

double mdl_mixture_atom_share(const struct mdl_mixture *m)
{
    double s = 0.0;
    for (size_t i = 0; i < m->n_atoms; i++)
        s += m->atoms[i].weight;
    return s > 1.0 ? 1.0 : s;
}
