/* estimator/compare.c - two captures, or a capture and a model, flow against flow.
 * Cost on big captures: each capture is read once. A flow named by a spec is the only one
 * whose packets are kept; a flow named by index (or the default, the largest) is known only
 * once the whole file is ranked, so then every flow keeps its packets (12 bytes a packet plus
 * a few KiB of header histograms a flow side). Each side's lengths and gaps are sorted once, in
 * place (radix sort, O(n)), after the order-dependent statistics (autocorrelation, bursts,
 * throughput) have been taken; every distance then walks the sorted arrays. */
#include "estimator/compare.h"
#include "estimator/compare_int.h"

#include "packet/sniff.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/num.h"
#include "common/rng.h"
#include "common/time.h"
#include "estimator/estimate.h"
#include "estimator/flow.h"
#include "models/draw.h"
#include "models/json.h"

const int64_t est_cmp_scale_ns[EST_CMP_NSCALES] = {10000000, 100000000, 1000000000};

static const char *const input_names[2] = {"A", "B"};

/* An input's name in messages: A or B, or "the capture" for the holdout's one input. */
static const char *input_name_of(int which)
{
    return which == 0 || which == 1 ? input_names[which] : "the capture";
}
static const char *const side_name[2] = {"local", "remote"};

void est_cmp_opts_init(struct est_cmp_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->seed = 1;
    o->burst_gap_s = 0.001;
    o->min_packets = 10;
    o->jsd_bins = 100;
    o->kde_grid = 512;
    o->iat_floor_s = 1e-6;
}

/* One side of one input in time order, before it is summarised. */
struct raw_side {
    size_t n;
    int64_t *ts; /* n */
    double *len; /* n */
    double *iat; /* n - 1, seconds */
};

static void raw_free(struct raw_side *r)
{
    free(r->ts);
    free(r->len);
    free(r->iat);
    memset(r, 0, sizeof(*r));
}

static void data_free(struct est_cmp_data *d)
{
    free(d->ts_ns);
    free(d->len_time);
    free(d->len_sorted);
    free(d->iat_sorted);
    memset(d, 0, sizeof(*d));
}

void est_compare_free(struct est_compare *c)
{
    if (!c)
        return;
    for (int s = 0; s < 2; s++) {
        data_free(&c->side[s].in[0]);
        data_free(&c->side[s].in[1]);
    }
    free(c);
}

/* ---- time structure ---- */

/* Running mean and sum of squared deviations of bin totals (Chan et al.'s update). */
struct run_stats {
    double n, mean, m2;
};

/* Add count copies of x: O(1) however many, so a long silence costs no more than one bin. */
static void run_add(struct run_stats *s, double x, double count)
{
    if (count <= 0.0)
        return;
    double n = s->n + count;
    double d = x - s->mean;
    s->mean += d * count / n;
    s->m2 += d * d * s->n * count / n;
    s->n = n;
}

void est_compare_throughput(
    const int64_t *ts_ns, const double *len, size_t n, int64_t bin_ns, double *mean_bps, double *cv)
{
    *mean_bps = (double)NAN;
    *cv = (double)NAN;
    if (n < 2 || bin_ns <= 0)
        return;
    int64_t t0 = ts_ns[0];
    int64_t nbins = (ts_ns[n - 1] - t0) / bin_ns;
    if (nbins < 2)
        return;
    /* One pass over the packets, in time order: a bin's total is complete when a packet of a
     * later bin arrives, and the empty bins in between are added as one run of zeros. The
     * work is O(n) whatever the time span, even for a hostile timestamp years away. */
    struct run_stats st = {0.0, 0.0, 0.0};
    int64_t bin = 0;
    double cur = 0.0;
    for (size_t i = 0; i < n; i++) {
        int64_t b = (ts_ns[i] - t0) / bin_ns;
        if (b >= nbins)
            break;
        if (b != bin) {
            run_add(&st, cur, 1.0);
            run_add(&st, 0.0, (double)(b - bin - 1));
            bin = b;
            cur = 0.0;
        }
        cur += len[i];
    }
    run_add(&st, cur, 1.0);
    run_add(&st, 0.0, (double)(nbins - bin - 1));
    *mean_bps = st.mean * 8.0 * (double)FM_NS_PER_SEC / (double)bin_ns;
    *cv = st.mean > 0.0 ? sqrt(st.m2 / st.n) / st.mean : (double)NAN;
}

int est_compare_bursts(
    const double *iat_s, size_t n, double gap_s, struct est_cmp_time *t, struct fm_err *err)
{
    t->bursts = 0;
    t->burst_mean = t->burst_p95 = t->burst_max = (double)NAN;
    if (n == 0)
        return FM_OK;
    size_t nb = 1;
    for (size_t i = 0; i + 1 < n; i++)
        nb += !(iat_s[i] < gap_s);
    double *size = malloc(nb * sizeof(*size));
    if (!size)
        return fm_err_set(err, FM_ENOMEM, "burst sizes of %zu packets", n);
    size_t k = 0;
    size[0] = 1.0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (iat_s[i] < gap_s)
            size[k] += 1.0;
        else
            size[++k] = 1.0;
    }
    int rc = mdl_stats_sort(size, nb);
    if (rc < 0) {
        free(size);
        return fm_err_set(err, rc, "burst sizes of %zu packets", n);
    }
    t->bursts = nb;
    t->burst_mean = (double)n / (double)nb;
    t->burst_p95 = mdl_stats_quantile_sorted(size, nb, 0.95);
    t->burst_max = size[nb - 1];
    free(size);
    return FM_OK;
}

/* Everything of one side that needs time order, then the sorted samples: takes r's arrays. */
static int summarise(struct raw_side *r,
                     const struct est_compare *c,
                     struct est_cmp_data *d,
                     struct fm_err *err)
{
    struct est_cmp_time *t = &d->time;
    size_t n = r->n;
    size_t ngap = n > 0 ? n - 1 : 0;
    for (int k = 0; k < EST_CMP_NSCALES; k++)
        est_compare_throughput(r->ts, r->len, n, est_cmp_scale_ns[k], &t->rate_bps[k],
                               &t->rate_cv[k]);
    mdl_stats_acf(r->len, n, EST_CMP_NLAGS, t->acf_len);
    mdl_stats_acf(r->iat, ngap, EST_CMP_NLAGS, t->acf_iat);
    int rc = est_compare_bursts(r->iat, n, c->burst_gap_s, t, err);
    if (rc < 0)
        return rc;
    d->len_time = malloc((n ? n : 1) * sizeof(*d->len_time));
    if (!d->len_time)
        return fm_err_set(err, FM_ENOMEM, "payload lengths of %zu packets", n);
    if (n)
        memcpy(d->len_time, r->len, n * sizeof(*d->len_time));
    if (mdl_stats_sort(r->len, n) < 0 || mdl_stats_sort(r->iat, ngap) < 0)
        return fm_err_set(err, FM_ENOMEM, "sorting %zu packets", n);
    mdl_stats_summary_sorted(r->len, n, &d->len);
    mdl_stats_summary_sorted(r->iat, ngap, &d->iat);
    d->n = n;
    d->ts_ns = r->ts;
    d->len_sorted = r->len;
    d->iat_sorted = r->iat;
    memset(r, 0, sizeof(*r));
    return FM_OK;
}

/* ---- inputs ---- */

/* 1 when the file is a model (JSON), 0 otherwise, including when it cannot be read: the
 * capture reader then says why. A pipe is taken for a capture (packet/sniff.h). */
static int looks_like_model(const char *path)
{
    enum pkt_input k = PKT_INPUT_UNKNOWN;
    return pkt_sniff(path, &k, NULL) == FM_OK && k == PKT_INPUT_JSON_OBJECT;
}

/* Where a capture's selected flow is, and how it was asked for. */
struct selection {
    int by_index, by_spec;
    size_t index;
    struct pkt_flow_key key;
};

static int parse_selection(const char *text, int which, struct selection *s, struct fm_err *err)
{
    memset(s, 0, sizeof(*s));
    if (!text)
        return FM_OK;
    if (isdigit((unsigned char)text[0])) {
        long idx = 0;
        char what[32];
        snprintf(what, sizeof(what), "flow of %s", input_name_of(which));
        if (fm_parse_long(text, 0, 1000000000L, what, &idx, err) < 0)
            return FM_EINVAL;
        s->by_index = 1;
        s->index = (size_t)idx;
        return FM_OK;
    }
    s->by_spec = 1;
    return pkt_flow_spec_parse(text, &s->key, err);
}

struct addr_item {
    uint8_t v;
    uint8_t addr[16];
};

static int addr_cmp(const void *x, const void *y)
{
    return memcmp(x, y, sizeof(struct addr_item));
}

/* Trace-level counts over every flow of a capture. */
static int
capture_trace(struct est_flow *const *flows, size_t n, struct est_cmp_trace *tr, struct fm_err *err)
{
    struct addr_item *ad = NULL;
    uint8_t *port_seen = NULL;
    int rc = FM_OK;
    uint64_t bytes = 0;
    int64_t first = INT64_MAX, last = INT64_MIN;

    memset(tr, 0, sizeof(*tr));
    ad = calloc(2 * n + 1, sizeof(*ad));
    port_seen = calloc(65536, 1);
    if (!ad || !port_seen) {
        rc = fm_err_set(err, FM_ENOMEM, "addresses of %zu flows", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const struct est_flow *f = flows[i];
        for (int s = 0; s < 2; s++) {
            const struct est_side *sd = &f->side[s];
            tr->packets += sd->packets;
            bytes += sd->bytes;
            if (sd->packets) {
                first = sd->first_ts_ns < first ? sd->first_ts_ns : first;
                last = sd->last_ts_ns > last ? sd->last_ts_ns : last;
            }
        }
        const struct pkt_endpoint *e[2] = {&f->local, &f->remote};
        for (int s = 0; s < 2; s++) {
            ad[2 * i + (size_t)s].v = f->ip_version;
            memcpy(ad[2 * i + (size_t)s].addr, e[s]->addr, 16);
            if (!port_seen[e[s]->port]) {
                port_seen[e[s]->port] = 1;
                tr->ports++;
            }
        }
    }
    qsort(ad, 2 * n, sizeof(*ad), addr_cmp);
    for (size_t i = 0; i < 2 * n; i++)
        tr->addrs += i == 0 || addr_cmp(&ad[i], &ad[i - 1]) != 0;
    tr->flows = n;
    tr->mean_conv = n ? (double)tr->packets / (double)n : (double)NAN;
    tr->span_s = tr->packets ? (double)(last - first) / (double)FM_NS_PER_SEC : (double)NAN;
    tr->mean_payload = tr->packets ? (double)bytes / (double)tr->packets : (double)NAN;
    tr->mean_iat_s = tr->packets > 1 ? tr->span_s / (double)(tr->packets - 1) : (double)NAN;
out:
    free(port_seen);
    free(ad);
    return rc;
}

/* The capture's flows as a message tail: how many, and the largest. */
static void describe_flows(struct est_flow *const *flows, size_t n, char *buf, size_t size)
{
    if (n == 0) {
        snprintf(buf, size, "it holds no UDP or TCP flow");
        return;
    }
    char spec[200];
    est_flow_format_spec(flows[0], spec, sizeof(spec));
    snprintf(buf, size, "%zu flow%s, 0 to %zu, the largest '%s'", n, n == 1 ? "" : "s", n - 1,
             spec);
}

int est_cmp_load_capture(struct est_cmp_input *in,
                         int which,
                         const char *sel_text,
                         const struct est_cmp_opts *o,
                         struct est_flow_table **table,
                         const struct est_flow **flow,
                         struct fm_err *err)
{
    struct selection sel;
    struct est_flow_table *t = NULL;
    int rc = parse_selection(sel_text, which, &sel, err);
    if (rc < 0)
        goto out;
    t = est_flow_table_new();
    if (!t) {
        rc = fm_err_set(err, FM_ENOMEM, "flow table for '%s'", in->path);
        goto out;
    }
    rc = est_flow_table_watch(t, sel.by_spec ? &sel.key : NULL, err);
    if (rc < 0)
        goto out;
    rc = est_read_capture(in->path, t, &in->read, o->progress, o->progress_arg, o->stop, err);
    if (rc < 0)
        goto out;
    size_t n = 0;
    struct est_flow *const *flows = est_flow_table_sorted(t, &n);
    if (!flows) {
        rc = fm_err_set(err, FM_ENOMEM, "sorting the flows of '%s'", in->path);
        goto out;
    }
    char found[300];
    describe_flows(flows, n, found, sizeof(found));
    size_t idx = n;
    if (sel.by_spec) {
        for (size_t i = 0; i < n; i++) {
            if (pkt_flow_key_equal(&flows[i]->key, &sel.key)) {
                idx = i;
                break;
            }
        }
    } else {
        idx = sel.by_index ? sel.index : 0;
    }
    if (idx >= n) {
        char what[220];
        if (sel.by_spec)
            snprintf(what, sizeof(what), "no flow '%s'", sel_text);
        else if (sel.by_index)
            snprintf(what, sizeof(what), "no flow %zu", idx);
        else
            snprintf(what, sizeof(what), "no flow to compare");
        rc = fm_err_set(err, FM_ENOTFOUND, "%s in %s; 'flowmimic flows %s' lists them (%s)", what,
                        input_name_of(which), in->path, found);
        goto out;
    }
    in->flow_index = (long)idx;
    est_flow_format_spec(flows[idx], in->flow_spec, sizeof(in->flow_spec));
    rc = capture_trace(flows, n, &in->trace, err);
    if (rc < 0)
        goto out;
    *flow = flows[idx];
    *table = t;
    t = NULL;
out:
    est_flow_table_free(t);
    return rc;
}

/* The flow side's packets in time order. */
static int capture_side(const struct est_flow *f, int s, struct raw_side *r, struct fm_err *err)
{
    const struct est_series *ser = f->series[s];
    memset(r, 0, sizeof(*r));
    if (!ser || ser->n == 0)
        return FM_OK;
    uint64_t moved = 0;
    double tick = 0;
    int rc = est_side_features(ser, &r->len, &r->iat, &moved, &tick, err);
    if (rc < 0)
        return rc;
    r->n = ser->n;
    r->ts = malloc(r->n * sizeof(*r->ts));
    if (!r->ts)
        return fm_err_set(err, FM_ENOMEM, "timestamps of %zu packets", r->n);
    /* The gaps are exact nanosecond differences divided by 1e9; rounding them back gives the
     * same integers, so the rebuilt timestamps are the sorted originals. */
    r->ts[0] = f->side[s].first_ts_ns;
    for (size_t i = 1; i < r->n; i++)
        r->ts[i] = r->ts[i - 1] + llround(r->iat[i - 1] * (double)FM_NS_PER_SEC);
    return FM_OK;
}

/* n packets drawn from a model side, the first at t0: as a sequence when the side has one
 * (unless mode says otherwise), as generate and replay draw it (models/draw.h). */
static int model_side(const struct mdl_side *ms,
                      enum mdl_draw_mode mode,
                      size_t n,
                      int64_t t0,
                      struct fm_rng *rng,
                      struct raw_side *r,
                      int *seq,
                      struct fm_err *err)
{
    memset(r, 0, sizeof(*r));
    *seq = 0;
    if (n == 0)
        return FM_OK;
    r->ts = malloc(n * sizeof(*r->ts));
    r->len = malloc(n * sizeof(*r->len));
    r->iat = n > 1 ? malloc((n - 1) * sizeof(*r->iat)) : NULL;
    if (!r->ts || !r->len || (n > 1 && !r->iat))
        return fm_err_set(err, FM_ENOMEM, "%zu model draws", n);
    r->n = n;
    *seq = mdl_side_draw_series(ms, mode, rng, n, r->len, r->iat);
    r->ts[0] = t0;
    for (size_t i = 1; i < n; i++)
        r->ts[i] = r->ts[i - 1] + llround(r->iat[i - 1] * (double)FM_NS_PER_SEC);
    return FM_OK;
}

/* Trace-level counts of a model input: its one drawn flow. */
static void model_trace(const struct mdl_model *m, struct est_compare *c, int which)
{
    struct est_cmp_trace *tr = &c->in[which].trace;
    double bytes = 0;
    int64_t first = INT64_MAX, last = INT64_MIN;
    memset(tr, 0, sizeof(*tr));
    for (int s = 0; s < 2; s++) {
        const struct est_cmp_data *d = &c->side[s].in[which];
        tr->packets += d->n;
        for (size_t i = 0; i < d->n; i++)
            bytes += d->len_sorted[i];
        if (d->n) {
            first = d->ts_ns[0] < first ? d->ts_ns[0] : first;
            last = d->ts_ns[d->n - 1] > last ? d->ts_ns[d->n - 1] : last;
        }
    }
    tr->flows = tr->packets ? 1 : 0;
    tr->addrs = strcmp(m->local.ip, m->remote.ip) == 0 ? 1 : 2;
    tr->ports = m->local.port == m->remote.port ? 1 : 2;
    tr->mean_conv = tr->flows ? (double)tr->packets : (double)NAN;
    tr->span_s = tr->packets ? (double)(last - first) / (double)FM_NS_PER_SEC : (double)NAN;
    tr->mean_payload = tr->packets ? bytes / (double)tr->packets : (double)NAN;
    tr->mean_iat_s = tr->packets > 1 ? tr->span_s / (double)(tr->packets - 1) : (double)NAN;
}

/* ---- distances ---- */

/* ln(max(gap, floor)) of sorted gaps: still sorted. NULL when out of memory. */
static double *log_gaps(const double *sorted, size_t n, double floor_s)
{
    double *l = malloc((n ? n : 1) * sizeof(*l));
    if (!l)
        return NULL;
    for (size_t i = 0; i < n; i++)
        l[i] = log(sorted[i] > floor_s ? sorted[i] : floor_s);
    return l;
}

static int side_distances(struct est_compare *c, struct est_cmp_side *sd, struct fm_err *err)
{
    const struct est_cmp_data *a = &sd->in[0], *b = &sd->in[1];
    sd->len.ks = mdl_stats_ks_sorted(a->len_sorted, a->n, b->len_sorted, b->n);
    sd->len.w1 = mdl_stats_w1_sorted(a->len_sorted, a->n, b->len_sorted, b->n);
    sd->len.jsd = mdl_stats_jsd_sorted(a->len_sorted, a->n, b->len_sorted, b->n, c->jsd_bins);
    sd->len.kl = mdl_stats_kl_kde_sorted(a->len_sorted, a->n, b->len_sorted, b->n, c->kde_grid);
    size_t ga = a->n - 1, gb = b->n - 1;
    sd->iat.ks = mdl_stats_ks_sorted(a->iat_sorted, ga, b->iat_sorted, gb);
    sd->iat.w1 = mdl_stats_w1_sorted(a->iat_sorted, ga, b->iat_sorted, gb);
    double *la = log_gaps(a->iat_sorted, ga, c->iat_floor_s);
    double *lb = log_gaps(b->iat_sorted, gb, c->iat_floor_s);
    int rc = FM_OK;
    if (!la || !lb) {
        rc = fm_err_set(err, FM_ENOMEM, "log gaps of %zu packets", a->n + b->n);
    } else {
        sd->iat.jsd = mdl_stats_jsd_sorted(la, ga, lb, gb, c->jsd_bins);
        sd->iat.kl = mdl_stats_kl_kde_sorted(la, ga, lb, gb, c->kde_grid);
        if (isnan(sd->len.jsd) || isnan(sd->len.kl) || isnan(sd->iat.jsd) || isnan(sd->iat.kl))
            rc = fm_err_set(err, FM_ENOMEM, "distances of %zu packets", a->n + b->n);
    }
    free(la);
    free(lb);
    if (rc == FM_OK)
        sd->ok = 1;
    return rc;
}

/* Why a side gets no distances, or "" when it does. */
static void side_note(struct est_cmp_side *sd, uint64_t min_packets)
{
    size_t na = sd->in[0].n, nb = sd->in[1].n;
    char *buf = sd->note;
    size_t size = sizeof(sd->note);
    if (buf[0])
        return; /* the model had nothing to draw from */
    if (na == 0 && nb == 0)
        snprintf(buf, size, "no packets in either input");
    else if (na < min_packets || nb < min_packets)
        snprintf(buf, size, "too few packets to compare: A %zu, B %zu (at least %llu needed)", na,
                 nb, (unsigned long long)min_packets);
}

int est_compare_run(const char *path_a,
                    const char *path_b,
                    const struct est_cmp_opts *o,
                    struct est_compare **out,
                    struct fm_err *err)
{
    struct est_compare *c = NULL;
    struct est_flow_table *t[2] = {NULL, NULL};
    const struct est_flow *f[2] = {NULL, NULL};
    struct mdl_model *model = NULL;
    struct fm_rng *rng = NULL;
    struct raw_side raw = {0};
    int rc = FM_OK;
    const char *paths[2] = {path_a, path_b};

    c = calloc(1, sizeof(*c));
    model = calloc(1, sizeof(*model));
    if (!c || !model) {
        rc = fm_err_set(err, FM_ENOMEM, "comparison");
        goto out;
    }
    c->seed = o->seed;
    c->independent = o->independent;
    c->burst_gap_s = o->burst_gap_s;
    c->jsd_bins = o->jsd_bins ? o->jsd_bins : 100;
    c->kde_grid = o->kde_grid >= 2 ? o->kde_grid : 512;
    c->iat_floor_s = o->iat_floor_s > 0.0 ? o->iat_floor_s : 1e-6;
    uint64_t min_packets = o->min_packets < 2 ? 2 : o->min_packets;

    int model_at = -1;
    for (int i = 0; i < 2; i++) {
        snprintf(c->in[i].path, sizeof(c->in[i].path), "%s", paths[i]);
        c->in[i].flow_index = -1;
        if (!looks_like_model(paths[i]))
            continue;
        if (model_at >= 0) {
            rc = fm_err_set(err, FM_EINVAL,
                            "A '%s' and B '%s' are both models: compare a model with a capture",
                            path_a, path_b);
            goto out;
        }
        if (o->flow[i]) {
            rc = fm_err_set(err, FM_EINVAL,
                            "%s '%s' is a model, which holds one flow: drop its flow selection",
                            input_name_of(i), paths[i]);
            goto out;
        }
        model_at = i;
        c->in[i].is_model = 1;
    }
    if (model_at >= 0) {
        rc = mdl_json_load(paths[model_at], model, err);
        if (rc < 0)
            goto out;
        snprintf(c->in[model_at].flow_spec, sizeof(c->in[model_at].flow_spec), "%s",
                 model->flow_spec);
    }
    for (int i = 0; i < 2; i++) {
        if (c->in[i].is_model)
            continue;
        /* Beside a model, the flow it names, unless one was asked for (issue 11: the
         * largest flow of a call may be another medium than the model's). */
        if (model_at >= 0 && !o->flow[i] && model->flow_spec[0]) {
            struct fm_err e2 = {0};
            rc = est_cmp_load_capture(&c->in[i], i, model->flow_spec, o, &t[i], &f[i], &e2);
            c->in[i].flow_from_model = rc == FM_OK ? 1 : -1;
            if (rc == FM_OK)
                continue;
            if (rc != FM_ENOTFOUND) {
                fm_err_set(err, rc, "%s", e2.msg);
                goto out;
            }
        }
        rc = est_cmp_load_capture(&c->in[i], i, o->flow[i], o, &t[i], &f[i], err);
        if (rc < 0)
            goto out;
    }

    /* Captures first: a model side draws as many packets as the capture side has. */
    int cap = model_at == 0 ? 1 : 0;
    for (int s = 0; s < 2; s++) {
        for (int i = 0; i < 2; i++) {
            if (!f[i])
                continue; /* the model */
            rc = capture_side(f[i], s, &raw, err);
            if (rc == FM_OK)
                rc = summarise(&raw, c, &c->side[s].in[i], err);
            raw_free(&raw);
            if (rc < 0)
                goto out;
        }
    }
    if (model_at >= 0) {
        rng = fm_rng_new(o->seed);
        if (!rng) {
            rc = fm_err_set(err, FM_ENOMEM, "random number generator");
            goto out;
        }
        for (int s = 0; s < 2; s++) {
            const struct mdl_side *ms = &model->sides[s];
            size_t n = c->side[s].in[cap].n;
            if (n > 0 && (!ms->present || !ms->has_payload || (n > 1 && !ms->has_iat))) {
                /* The model's own note may fill the side's: the end is cut, on purpose. */
                int len =
                    snprintf(c->side[s].note, sizeof(c->side[s].note),
                             "the model has no fit for its %s side%s%s: nothing to draw",
                             side_name[s], ms->note[0] ? ": " : "", ms->present ? ms->note : "");
                (void)len;
                n = 0;
            }
            int64_t t0 = n ? c->side[s].in[cap].ts_ns[0] : 0;
            rc = model_side(ms, o->independent ? MDL_DRAW_INDEPENDENT : MDL_DRAW_AUTO, n, t0, rng,
                            &raw, &c->side[s].seq, err);
            if (rc == FM_OK)
                rc = summarise(&raw, c, &c->side[s].in[model_at], err);
            raw_free(&raw);
            if (rc < 0)
                goto out;
        }
        model_trace(model, c, model_at);
    }

    for (int s = 0; s < 2; s++) {
        side_note(&c->side[s], min_packets);
        if (c->side[s].note[0]) {
            struct est_cmp_dist none = {(double)NAN, (double)NAN, (double)NAN, (double)NAN};
            c->side[s].len = none;
            c->side[s].iat = none;
            continue;
        }
        rc = side_distances(c, &c->side[s], err);
        if (rc < 0)
            goto out;
    }
    *out = c;
    c = NULL;
out:
    raw_free(&raw);
    fm_rng_free(rng);
    est_flow_table_free(t[0]);
    est_flow_table_free(t[1]);
    free(model);
    est_compare_free(c);
    return rc;
}
