/* estimator/holdout.c - fit on the first half of a flow, judge against the second half.
 * The capture is read once (estimator/compare_int.h selects the flow as compare does). Half 1
 * of each side becomes a flow of its own, a copy of the real one whose series hold only the
 * first half's packets, so that the fit runs exactly as `estimate` runs it. Nothing of half 2
 * reaches the fit except the side's TTL, DSCP and payload-type histograms, which are kept per
 * flow rather than per packet and do not touch lengths or gaps. */
#include "estimator/holdout.h"

#include "packet/sniff.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "common/time.h"
#include "estimator/compare.h"
#include "estimator/compare_int.h"
#include "estimator/estimate.h"
#include "models/draw.h"
#include "models/stats.h"

#define BIN_100MS_NS 100000000LL

static const char *const side_names[2] = {"local", "remote"};

void est_ho_opts_init(struct est_ho_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->seed = 1;
    o->draw_factor = 10;
    o->burst_gap_s = 0.001;
}

/* One series in time order: n timestamps and lengths, n - 1 gaps (s). */
struct series {
    size_t n;
    int64_t *ts;
    double *len;
    double *gap;
};

static void series_free(struct series *x)
{
    free(x->ts);
    free(x->len);
    free(x->gap);
    x->ts = NULL;
    x->len = NULL;
    x->gap = NULL;
    x->n = 0;
}

/* x must be empty (zeroed, or after series_free()). */
static int series_alloc(struct series *x, size_t n, struct fm_err *err)
{
    x->ts = calloc(n ? n : 1, sizeof(*x->ts));
    x->len = calloc(n ? n : 1, sizeof(*x->len));
    x->gap = calloc(n ? n : 1, sizeof(*x->gap));
    if (!x->ts || !x->len || !x->gap) {
        series_free(x);
        fm_err_set(err, FM_ENOMEM, "series of %zu packets", n);
        return FM_ENOMEM;
    }
    x->n = n;
    return FM_OK;
}

/* Packets ord[from .. from + n) of s as a series. */
static int series_of(const struct est_series *s,
                     const size_t *ord,
                     size_t from,
                     size_t n,
                     struct series *x,
                     struct fm_err *err)
{
    int rc = series_alloc(x, n, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        x->ts[i] = s->ts_ns[ord[from + i]];
        x->len[i] = (double)s->payload_len[ord[from + i]];
        if (i > 0)
            x->gap[i - 1] = (double)(x->ts[i] - x->ts[i - 1]) / (double)FM_NS_PER_SEC;
    }
    return FM_OK;
}

/* Half 1 of a side as a series of its own, for the fit: the first n packets in time order
 * with their RTP flags. The RTP counters are recounted from the flags where they exist per
 * packet (valid, marker); the SSRC and sequence-step counters exist only per side and are
 * scaled to the half, so that the half is recognised as RTP exactly when the side is. */
static int half_series(const struct est_series *s,
                       const size_t *ord,
                       size_t n,
                       struct est_series *h,
                       struct fm_err *err)
{
    memcpy(h->ttl_hist, s->ttl_hist, sizeof(h->ttl_hist));
    memcpy(h->dscp_hist, s->dscp_hist, sizeof(h->dscp_hist));
    memcpy(h->rtp_pt_hist, s->rtp_pt_hist, sizeof(h->rtp_pt_hist));
    h->ts_ns = calloc(n ? n : 1, sizeof(*h->ts_ns));
    h->payload_len = calloc(n ? n : 1, sizeof(*h->payload_len));
    h->rtp_flags = calloc(n ? n : 1, 1);
    if (!h->ts_ns || !h->payload_len || !h->rtp_flags) {
        fm_err_set(err, FM_ENOMEM, "half of %zu packets", s->n);
        return FM_ENOMEM;
    }
    h->n = h->cap = n;
    for (size_t i = 0; i < n; i++) {
        size_t at = ord[i];
        h->ts_ns[i] = s->ts_ns[at];
        h->payload_len[i] = s->payload_len[at];
        h->rtp_flags[i] = s->rtp_flags[at];
        if (s->rtp_flags[at] & EST_RTP_VALID) {
            h->rtp_valid++;
            h->rtp_marker += (s->rtp_flags[at] & EST_RTP_MARKER) != 0;
        }
    }
    if (s->rtp_valid) {
        double share = (double)h->rtp_valid / (double)s->rtp_valid;
        h->rtp_ssrc_match = (uint64_t)llround((double)s->rtp_ssrc_match * share);
        h->rtp_seq_next = (uint64_t)llround((double)s->rtp_seq_next * share);
    }
    h->rtp_first_ssrc = s->rtp_first_ssrc;
    h->rtp_seen = s->rtp_seen;
    return FM_OK;
}

static void half_free(struct est_series *h)
{
    free(h->ts_ns);
    free(h->payload_len);
    free(h->rtp_flags);
}

/* A side split in two: half 1 as a series to fit, and both halves as series to judge. */
struct split {
    struct est_series fit;
    struct series h1, h2;
};

static void split_free(struct split *sp)
{
    half_free(&sp->fit);
    series_free(&sp->h1);
    series_free(&sp->h2);
}

/* Split the n >= 2 packets of ser at n / 2, in time order. */
static int split_side(const struct est_series *ser, struct split *sp, struct fm_err *err)
{
    size_t n = ser->n;
    size_t n1 = n / 2;
    size_t *ord = NULL;
    uint64_t moved = 0;
    if (est_time_order(ser, &ord, &moved) == FM_OK && !ord) {
        /* Already in time order: the identity. */
        ord = calloc(n, sizeof(*ord));
        for (size_t i = 0; ord && i < n; i++)
            ord[i] = i;
    }
    if (!ord) {
        fm_err_set(err, FM_ENOMEM, "time order of %zu packets", n);
        return FM_ENOMEM;
    }
    int rc = half_series(ser, ord, n1, &sp->fit, err);
    if (rc == FM_OK)
        rc = series_of(ser, ord, 0, n1, &sp->h1, err);
    if (rc == FM_OK)
        rc = series_of(ser, ord, n1, n - n1, &sp->h2, err);
    free(ord);
    return rc;
}

/* A sorted copy of n values; NULL when out of memory. */
static double *sorted_copy(const double *x, size_t n)
{
    double *c = malloc((n ? n : 1) * sizeof(*c));
    if (!c)
        return NULL;
    if (n)
        memcpy(c, x, n * sizeof(*c));
    if (mdl_stats_sort(c, n) < 0) {
        free(c);
        return NULL;
    }
    return c;
}

/* The figures of x; the KS distances against ref (half 2's sorted lengths and gaps; NULL
 * for half 2 itself, whose distances are 0). */
static int figures(const struct series *x,
                   const double *ref_len,
                   const double *ref_gap,
                   size_t ref_n,
                   double burst_gap_s,
                   struct est_ho_figures *f,
                   struct fm_err *err)
{
    size_t ngap = x->n > 0 ? x->n - 1 : 0;
    double mean = 0;
    struct est_cmp_time t;
    memset(&t, 0, sizeof(t));
    f->n = x->n;
    mdl_stats_acf(x->len, x->n, 1, &f->acf1_len);
    mdl_stats_acf(x->gap, ngap, 1, &f->acf1_gap);
    est_compare_throughput(x->ts, x->len, x->n, BIN_100MS_NS, &mean, &f->cv100);
    int rc = est_compare_bursts(x->gap, x->n, burst_gap_s, &t, err);
    if (rc < 0)
        return rc;
    f->burst_mean = t.burst_mean;
    if (!ref_len) {
        f->ks_len = f->ks_gap = 0.0;
        return FM_OK;
    }
    double *sl = sorted_copy(x->len, x->n);
    double *sg = sorted_copy(x->gap, ngap);
    if (!sl || !sg) {
        free(sl);
        free(sg);
        return fm_err_set(err, FM_ENOMEM, "sorting %zu packets", x->n);
    }
    f->ks_len = mdl_stats_ks_sorted(sl, x->n, ref_len, ref_n);
    f->ks_gap =
        ref_n > 1 && ngap > 0 ? mdl_stats_ks_sorted(sg, ngap, ref_gap, ref_n - 1) : (double)NAN;
    free(sl);
    free(sg);
    return FM_OK;
}

static void figures_none(struct est_ho_figures *f)
{
    f->n = 0;
    f->ks_len = f->ks_gap = f->acf1_len = f->acf1_gap = f->cv100 = f->burst_mean = (double)NAN;
}

/* n packets drawn from ms as a series starting at 0. */
static int draw(const struct mdl_side *ms,
                enum mdl_draw_mode mode,
                struct fm_rng *rng,
                size_t n,
                struct series *x,
                struct fm_err *err)
{
    int rc = series_alloc(x, n, err);
    if (rc < 0)
        return rc;
    mdl_side_draw_series(ms, mode, rng, n, x->len, x->gap);
    x->ts[0] = 0;
    for (size_t i = 1; i < n; i++)
        x->ts[i] = x->ts[i - 1] + llround(x->gap[i - 1] * (double)FM_NS_PER_SEC);
    return FM_OK;
}

/* Everything of one side after the fit: the halves' figures, then the draws'. */
static int judge_side(const struct series *h1,
                      const struct series *h2,
                      const struct mdl_side *ms,
                      const struct est_ho_opts *o,
                      struct fm_rng *rng,
                      struct est_ho_side *sd,
                      struct fm_err *err)
{
    struct series d = {0};
    double *ref_len = sorted_copy(h2->len, h2->n);
    double *ref_gap = sorted_copy(h2->gap, h2->n > 0 ? h2->n - 1 : 0);
    int rc = FM_OK;
    if (!ref_len || !ref_gap) {
        rc = fm_err_set(err, FM_ENOMEM, "sorting %zu packets", h2->n);
        goto out;
    }
    rc = figures(h1, ref_len, ref_gap, h2->n, o->burst_gap_s, &sd->s[EST_HO_HALF1], err);
    if (rc == FM_OK)
        rc = figures(h2, NULL, NULL, 0, o->burst_gap_s, &sd->s[EST_HO_HALF2], err);
    if (rc < 0)
        goto out;
    figures_none(&sd->s[EST_HO_MODEL]);
    figures_none(&sd->s[EST_HO_INDEPENDENT]);
    if (!ms->present || !ms->has_payload || !ms->has_iat) {
        snprintf(sd->note, sizeof(sd->note), "no model of half 1: %s",
                 ms->note[0] ? ms->note : "too few packets");
        goto out;
    }
    sd->ok = 1;
    sd->seq = ms->has_seq;
    size_t n = h2->n * o->draw_factor;
    for (int k = EST_HO_MODEL; k <= EST_HO_INDEPENDENT; k++) {
        if (k == EST_HO_MODEL && !ms->has_seq)
            continue;
        rc = draw(ms, k == EST_HO_MODEL ? MDL_DRAW_AUTO : MDL_DRAW_INDEPENDENT, rng, n, &d, err);
        if (rc == FM_OK)
            rc = figures(&d, ref_len, ref_gap, h2->n, o->burst_gap_s, &sd->s[k], err);
        series_free(&d);
        if (rc < 0)
            goto out;
    }
    if (!ms->has_seq)
        snprintf(sd->note, sizeof(sd->note),
                 "the fit of half 1 has no sequence model: only independent draws");
out:
    series_free(&d);
    free(ref_len);
    free(ref_gap);
    return rc;
}

/* A capture, not a model: a model holds no packets to split. */
static int check_capture(const char *path, struct fm_err *err)
{
    enum pkt_input k = PKT_INPUT_UNKNOWN;
    if (pkt_sniff(path, &k, NULL) == FM_OK && k == PKT_INPUT_JSON_OBJECT)
        return fm_err_set(err, FM_EFORMAT,
                          "'%s' is a model, not a capture: the holdout splits a capture's "
                          "packets; give the capture the model was estimated from",
                          path);
    return FM_OK;
}

int est_holdout_run(const char *path,
                    const struct est_ho_opts *o,
                    struct est_holdout *out,
                    struct fm_err *err)
{
    struct est_flow_table *t = NULL;
    const struct est_flow *f = NULL;
    struct est_cmp_input *in = NULL;
    struct est_holdout *h = NULL;
    struct mdl_model *m = NULL;
    struct fm_rng *rng = NULL;
    struct split sp[2];
    struct est_opts eo;
    int rc = FM_OK;

    memset(sp, 0, sizeof(sp));
    if (o->draw_factor == 0)
        return fm_err_set(err, FM_EINVAL, "the holdout's draw factor must be at least 1");
    rc = check_capture(path, err);
    if (rc < 0)
        return rc;
    in = calloc(1, sizeof(*in));
    h = calloc(1, sizeof(*h));
    m = calloc(1, sizeof(*m));
    if (!in || !h || !m) {
        rc = fm_err_set(err, FM_ENOMEM, "holdout of '%s'", path);
        goto out;
    }
    if (o->est) {
        eo = *o->est;
    } else {
        est_opts_init(&eo);
        eo.sequence = 1;
    }
    eo.fit.seed = o->seed;
    struct est_cmp_opts co;
    est_cmp_opts_init(&co);
    co.progress = o->progress;
    co.progress_arg = o->progress_arg;
    co.stop = o->stop;
    snprintf(in->path, sizeof(in->path), "%s", path);
    rc = est_cmp_load_capture(in, -1, o->flow, &co, &t, &f, err);
    if (rc < 0)
        goto out;
    snprintf(h->path, sizeof(h->path), "%s", path);
    snprintf(h->flow_spec, sizeof(h->flow_spec), "%s", in->flow_spec);
    h->flow_index = in->flow_index;
    h->read = in->read;
    h->seed = o->seed;
    h->draw_factor = o->draw_factor;
    h->burst_gap_s = o->burst_gap_s;
    h->min_samples = eo.min_samples;

    /* Half 1 of each side as a flow of its own, fitted as estimate fits. */
    struct est_flow ff = *f;
    ff.keep_series = 1;
    ff.hnext = NULL;
    for (int s = 0; s < 2; s++) {
        const struct est_series *ser = f->series[s];
        size_t n = ser ? ser->n : 0;
        size_t n1 = n / 2;
        ff.series[s] = NULL;
        memset(&ff.side[s], 0, sizeof(ff.side[s]));
        if (n1 == 0)
            continue;
        rc = split_side(ser, &sp[s], err);
        if (rc < 0)
            goto out;
        ff.series[s] = &sp[s].fit;
        ff.side[s].packets = n1;
        for (size_t i = 0; i < n1; i++)
            ff.side[s].bytes += sp[s].fit.payload_len[i];
        ff.side[s].first_ts_ns = sp[s].h1.ts[0];
        ff.side[s].last_ts_ns = sp[s].h1.ts[n1 - 1];
    }
    if (!ff.side[0].packets && !ff.side[1].packets) {
        rc = fm_err_set(err, FM_EFORMAT,
                        "flow '%s' of '%s' has fewer than two packets on each side: nothing to "
                        "split; pick a larger flow with --flow",
                        h->flow_spec, path);
        goto out;
    }
    rc = est_model_from_flow(&ff, path, &eo, m, err);
    if (rc < 0)
        goto out;

    rng = fm_rng_new(o->seed);
    if (!rng) {
        rc = fm_err_set(err, FM_ENOMEM, "random number generator");
        goto out;
    }
    for (int s = 0; s < 2; s++) {
        struct est_ho_side *sd = &h->side[s];
        if (!ff.side[s].packets) {
            for (int k = 0; k < EST_HO_NSERIES; k++)
                figures_none(&sd->s[k]);
            sd->s[EST_HO_HALF2].n = f->series[s] ? f->series[s]->n : 0;
            snprintf(sd->note, sizeof(sd->note), "the %s side has %zu packet%s: nothing to split",
                     side_names[s], sd->s[EST_HO_HALF2].n, sd->s[EST_HO_HALF2].n == 1 ? "" : "s");
            continue;
        }
        rc = judge_side(&sp[s].h1, &sp[s].h2, &m->sides[s], o, rng, sd, err);
        if (rc < 0)
            goto out;
        /* The fit's own note names estimate's option; say it in the holdout's terms. */
        if (!sd->ok && sp[s].h1.n < eo.min_samples)
            snprintf(sd->note, sizeof(sd->note),
                     "no model of half 1: %zu packets, fewer than the %llu a fit needs (as "
                     "estimate's --min-samples)",
                     sp[s].h1.n, (unsigned long long)eo.min_samples);
    }
    *out = *h;
    if (o->model)
        *o->model = *m;
out:
    split_free(&sp[0]);
    split_free(&sp[1]);
    fm_rng_free(rng);
    est_flow_table_free(t);
    free(m);
    free(h);
    free(in);
    return rc;
}
