/* estimator/estimate.c - from a flow's packet series to a model: features and fitting.
 * Real captures have timestamps that go backwards (several capture queues, clock steps) and
 * timestamps rounded to a tick (1 ms on some Windows captures, 1 us in classic pcap). Both
 * are handled here, once, so that no negative gap ever reaches a fit and zero gaps are kept
 * as data: the IAT mixture models them as an atom at 0. The sequence model gets the gaps as
 * whole nanoseconds, subtracted from the capture's integer timestamps. */
#include "estimator/estimate.h"

#include "common/time.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void est_opts_init(struct est_opts *o)
{
    mdl_fit_opts_init(&o->fit);
    o->fit.max_k = MDL_MAX_K;
    o->iat_scale = MDL_SCALE_LOG;
    o->min_samples = 100;
    o->sequence = 1;
    mdl_seq_fit_opts_init(&o->seq);
}

struct order_item {
    int64_t ts;
    size_t idx;
};

static int order_cmp(const void *a, const void *b)
{
    const struct order_item *x = a;
    const struct order_item *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    /* Equal timestamps keep file order: the sort is stable, so runs are reproducible. */
    return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

/* Seconds from earlier to later (later >= earlier). Any two int64 timestamps are less than
 * UINT64_MAX ns apart, though not always less than INT64_MAX: subtract unsigned. */
static double span_s(int64_t later, int64_t earlier)
{
    return (double)((uint64_t)later - (uint64_t)earlier) / (double)FM_NS_PER_SEC;
}

/* Largest power-of-ten tick, in ns (1 .. 1e9), that divides every timestamp. */
static int64_t timestamp_tick_ns(const int64_t *ts, size_t n)
{
    int64_t tick = FM_NS_PER_SEC;
    for (size_t i = 0; i < n && tick > 1; i++) {
        while (tick > 1 && ts[i] % tick != 0)
            tick /= 10;
    }
    return tick;
}

int est_time_order(const struct est_series *s, size_t **ord, uint64_t *moved)
{
    size_t n = s->n;
    uint64_t late = 0;
    *ord = NULL;
    /* Most captures are in order and skip the sort. */
    int64_t high = n ? s->ts_ns[0] : 0;
    for (size_t i = 1; i < n; i++) {
        if (s->ts_ns[i] < high)
            late++;
        else
            high = s->ts_ns[i];
    }
    *moved = late;
    if (!late)
        return FM_OK;
    struct order_item *it = malloc(n * sizeof(*it));
    size_t *idx = malloc(n * sizeof(*idx));
    if (!it || !idx) {
        free(it);
        free(idx);
        return FM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        it[i].ts = s->ts_ns[i];
        it[i].idx = i;
    }
    qsort(it, n, sizeof(*it), order_cmp);
    for (size_t i = 0; i < n; i++)
        idx[i] = it[i].idx;
    free(it);
    *ord = idx;
    return FM_OK;
}

int est_side_features(const struct est_series *s,
                      double **payload,
                      double **iat_s,
                      uint64_t *reordered,
                      double *resolution_s,
                      struct fm_err *err)
{
    double *pl = NULL;
    double *iat = NULL;
    size_t *ord = NULL;
    int rc = FM_OK;
    size_t n = s->n;
    uint64_t moved = 0;

    if (n > 0) {
        pl = malloc(n * sizeof(*pl));
        if (!pl)
            goto nomem;
    }
    if (n > 1) {
        iat = malloc((n - 1) * sizeof(*iat));
        if (!iat)
            goto nomem;
    }
    if (est_time_order(s, &ord, &moved) < 0)
        goto nomem;
    for (size_t i = 0; i < n; i++)
        pl[i] = (double)s->payload_len[ord ? ord[i] : i];
    for (size_t i = 1; i < n; i++)
        iat[i - 1] = span_s(s->ts_ns[ord ? ord[i] : i], s->ts_ns[ord ? ord[i - 1] : i - 1]);

    *payload = pl;
    *iat_s = iat;
    *reordered = moved;
    *resolution_s = (double)timestamp_tick_ns(s->ts_ns, n) / (double)FM_NS_PER_SEC;
    pl = NULL;
    iat = NULL;
    goto out;
nomem:
    rc = fm_err_set(err, FM_ENOMEM, "features of %zu packets", n);
out:
    free(ord);
    free(pl);
    free(iat);
    return rc;
}

/* Most common value of a histogram, or -1 when it is empty. */
static int hist_mode(const uint64_t *h, int size)
{
    int best = -1;
    uint64_t most = 0;
    for (int i = 0; i < size; i++) {
        if (h[i] > most) {
            most = h[i];
            best = i;
        }
    }
    return best;
}

/* RTP is claimed only when nearly every packet parses as RTP, one SSRC dominates and
 * sequence numbers mostly step by one: a random UDP payload passes the per-packet test
 * about once in four, but not these together. */
static void side_headers(const struct est_series *s, struct mdl_headers *h)
{
    memset(h, 0, sizeof(*h));
    h->ttl = hist_mode(s->ttl_hist, 256);
    h->dscp = hist_mode(s->dscp_hist, 64);
    uint64_t n = s->n;
    if (n >= 2 && s->rtp_valid * 10 >= n * 9 && s->rtp_ssrc_match * 10 >= s->rtp_valid * 9 &&
        s->rtp_seq_next * 2 >= s->rtp_valid) {
        h->rtp = 1;
        h->rtp_payload_type = hist_mode(s->rtp_pt_hist, 128);
        h->rtp_marker_ratio = (double)s->rtp_marker / (double)s->rtp_valid;
    }
}

/* A side marks its frames (video) when it is RTP and more than this share of its packets
 * carry the marker; transceiver/source_model.c follows the same rule. */
#define FRAME_MARKER_MIN 0.05

/* The sequence model of a side: packets 2..n in time order, each with the whole ns since the
 * one before and, on a video side whose packets all parsed as RTP, its marker bit. */
static int fit_sequence(const struct est_series *s,
                        const struct est_opts *o,
                        double tick_s,
                        struct mdl_side *out,
                        struct fm_err *err)
{
    size_t *ord = NULL;
    double *len = NULL;
    int64_t *gap = NULL;
    uint8_t *mk = NULL;
    uint64_t moved = 0;
    size_t n = s->n > 1 ? s->n - 1 : 0;
    int rc = FM_OK;
    if (n < 2)
        return FM_OK; /* nothing to chain: the side is drawn from its mixtures */
    len = malloc(n * sizeof(*len));
    gap = malloc(n * sizeof(*gap));
    mk = malloc(n);
    if (!len || !gap || !mk || est_time_order(s, &ord, &moved) < 0) {
        rc = fm_err_set(err, FM_ENOMEM, "sequence of %zu packets", s->n);
        goto out;
    }
    int frames = out->headers.rtp && out->headers.rtp_marker_ratio > FRAME_MARKER_MIN;
    for (size_t i = 1; i <= n; i++) {
        size_t at = ord ? ord[i] : i;
        size_t before = ord ? ord[i - 1] : i - 1;
        len[i - 1] = (double)s->payload_len[at];
        gap[i - 1] = s->ts_ns[at] - s->ts_ns[before];
        mk[i - 1] = (s->rtp_flags[at] & EST_RTP_MARKER) != 0;
        frames &= (s->rtp_flags[at] & EST_RTP_VALID) != 0;
    }
    struct mdl_seq_fit_opts so = o->seq;
    so.seed = o->fit.seed;
    double tick_ns = tick_s * (double)FM_NS_PER_SEC;
    rc = mdl_seq_fit(len, gap, frames ? mk : NULL, n, tick_ns < 1.0 ? 1.0 : round(tick_ns), &so,
                     &out->seq, err);
    if (rc < 0)
        goto out;
    out->has_seq = 1;
out:
    free(ord);
    free(len);
    free(gap);
    free(mk);
    return rc;
}

/* One mixture fit, run on a thread of its own beside the side's other fits. */
struct fit_job {
    const double *x;
    size_t n;
    struct mdl_fit_opts fo;
    struct mdl_mixture *out;
    struct fm_err err;
    int rc;
};

static void *fit_job_run(void *arg)
{
    struct fit_job *j = arg;
    j->rc = mdl_mixture_fit(j->x, j->n, &j->fo, j->out, &j->err);
    return NULL;
}

static int fit_side(const struct est_flow *f,
                    int side,
                    const struct est_opts *o,
                    struct mdl_side *out,
                    uint64_t *reordered,
                    struct fm_err *err)
{
    const struct est_series *s = f->series[side];
    double *pl = NULL;
    double *iat = NULL;
    double tick_s = 0;
    uint64_t moved = 0;
    int rc = FM_OK;

    memset(out, 0, sizeof(*out));
    out->headers.ttl = -1;
    out->headers.dscp = -1;
    if (f->side[side].packets == 0)
        return FM_OK; /* absent: "remote": null */
    out->present = 1;
    out->packets = f->side[side].packets;
    out->duration_s = span_s(f->side[side].last_ts_ns, f->side[side].first_ts_ns);
    side_headers(s, &out->headers);
    if (s->n < o->min_samples) {
        snprintf(out->note, sizeof(out->note),
                 "only %zu packets (fewer than --min-samples %llu): no model for this side", s->n,
                 (unsigned long long)o->min_samples);
        return FM_OK;
    }
    rc = est_side_features(s, &pl, &iat, &moved, &tick_s, err);
    if (rc < 0)
        goto out;
    *reordered += moved;
    /* A model holds gaps up to MDL_MAX_VALUE s (31 years): more is a broken clock, and a
     * model made of it could not be loaded again. */
    double widest = 0;
    for (size_t i = 0; iat && i + 1 < s->n; i++)
        widest = iat[i] > widest ? iat[i] : widest;
    if (widest > MDL_MAX_VALUE) {
        rc = fm_err_set(err, FM_EFORMAT,
                        "%s side: two packets are %.3g s apart, more than a model holds (%.0e s): "
                        "the capture's timestamps are broken; fix them or pick another flow",
                        side == MDL_SIDE_LOCAL ? "local" : "remote", widest, MDL_MAX_VALUE);
        goto out;
    }

    /* The payload mixture is fitted on a second thread while this one fits the gaps and the
     * sequence: the three fits share nothing but their read-only inputs, and each result is
     * what a serial fit gives (every fit seeds its own generator). Without a thread (creation
     * refused) the payload is fitted here first. */
    struct fit_job pj = {.x = pl, .n = s->n, .fo = o->fit, .out = &out->payload};
    pj.fo.scale = MDL_SCALE_LINEAR;
    pj.fo.resolution = 1.0; /* payload lengths are whole bytes */
    pthread_t th;
    int threaded = pthread_create(&th, NULL, fit_job_run, &pj) == 0;
    if (!threaded)
        fit_job_run(&pj);

    struct mdl_fit_opts fo = o->fit;
    fo.scale = o->iat_scale;
    fo.resolution = tick_s;
    rc = mdl_mixture_fit(iat, s->n - 1, &fo, &out->iat, err);
    if (rc == FM_OK) {
        out->has_iat = 1;
        if (o->sequence)
            rc = fit_sequence(s, o, tick_s, out, err);
    }
    if (threaded)
        pthread_join(th, NULL);
    if (rc == FM_OK && pj.rc < 0) {
        if (err)
            *err = pj.err;
        rc = pj.rc;
    }
    out->has_payload = pj.rc == FM_OK;
out:
    free(pl);
    free(iat);
    return rc;
}

int est_model_from_flow(const struct est_flow *f,
                        const char *capture,
                        const struct est_opts *o,
                        struct mdl_model *out,
                        struct fm_err *err)
{
    struct mdl_model *m = NULL;
    int rc = FM_OK;

    for (int side = 0; side < 2; side++) {
        if (f->side[side].packets && (!f->keep_series || !f->series[side]))
            return fm_err_set(err, FM_EINVAL, "flow has no packet series to fit");
    }
    m = calloc(1, sizeof(*m));
    if (!m)
        return fm_err_set(err, FM_ENOMEM, "model");
    m->version = o->sequence ? MDL_VERSION : MDL_VERSION_INDEPENDENT;
    const char *base = strrchr(capture, '/');
    snprintf(m->capture, sizeof(m->capture), "%s", base ? base + 1 : capture);
    est_flow_format_spec(f, m->flow_spec, sizeof(m->flow_spec));
    m->packets = f->side[0].packets + f->side[1].packets;
    snprintf(m->proto, sizeof(m->proto), "%s", f->proto == 17 ? "udp" : "tcp");
    pkt_addr_format(f->ip_version, f->local.addr, m->local.ip, sizeof(m->local.ip));
    m->local.port = f->local.port;
    pkt_addr_format(f->ip_version, f->remote.addr, m->remote.ip, sizeof(m->remote.ip));
    m->remote.port = f->remote.port;
    for (int side = 0; side < 2; side++) {
        rc = fit_side(f, side, o, &m->sides[side], &m->reordered, err);
        if (rc < 0)
            goto out;
    }
    *out = *m;
out:
    free(m);
    return rc;
}
