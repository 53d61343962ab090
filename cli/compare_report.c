/* cli/compare_report.c - what `compare` prints: the comparison as a table or as JSON, and
 * the holdout report (compare --holdout) likewise. stdout only; nothing here fails. */
#include "cli/compare_report.h"

#include "cli/jw.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* ---- table ---- */

static const char *const side_names[2] = {"local", "remote"};

/* v with prec decimals, or "-" when it does not exist. */
static const char *num(char *buf, size_t size, double v, int prec)
{
    if (isfinite(v))
        snprintf(buf, size, "%.*f", prec, v);
    else
        snprintf(buf, size, "-");
    return buf;
}

/* One row "label A B B-A" scaled by mult. */
static void row3(const char *label, double a, double b, double mult, int prec)
{
    char x[40], y[40], d[40];
    printf("  %-24s %14s %14s %14s\n", label, num(x, sizeof(x), a * mult, prec),
           num(y, sizeof(y), b * mult, prec), num(d, sizeof(d), (b - a) * mult, prec));
}

static void print_summary(const char *title,
                          const struct mdl_stats_summary *a,
                          const struct mdl_stats_summary *b,
                          double mult,
                          int prec)
{
    printf("%-26s %14s %14s %14s\n", title, "A", "B", "B-A");
    row3("mean", a->mean, b->mean, mult, prec);
    row3("sd", a->sd, b->sd, mult, prec);
    for (int i = 0; i < MDL_STATS_NPCT; i++) {
        char label[32];
        snprintf(label, sizeof(label), "p%g", mdl_stats_pct[i]);
        row3(label, a->pct[i], b->pct[i], mult, prec);
    }
}

static void print_acf(const char *label, const double *acf)
{
    char x[40];
    printf("  %-12s", label);
    for (int k = 0; k < EST_CMP_NLAGS; k++)
        printf(" %6s", num(x, sizeof(x), acf[k], 3));
    printf("\n");
}

/* How the model input's side was drawn: "sequence" or "independent"; NULL without a model
 * input or when nothing was drawn. */
static const char *draw_name(const struct est_compare *c, int s)
{
    int m = c->in[0].is_model ? 0 : c->in[1].is_model ? 1 : -1;
    if (m < 0 || c->side[s].in[m].n == 0)
        return NULL;
    return c->side[s].seq ? "sequence" : "independent";
}

static void print_side(const struct est_compare *c, int s)
{
    const struct est_cmp_side *sd = &c->side[s];
    const struct est_cmp_data *a = &sd->in[0], *b = &sd->in[1];
    char x[40], y[40], z[40], w[40];
    printf("\n== %s side: A %zu packets, B %zu packets%s\n", side_names[s], a->n, b->n,
           sd->seq ? " (the model's drawn as a sequence)" : "");
    if (sd->note[0])
        printf("note: %s\n", sd->note);
    if (a->n == 0 && b->n == 0)
        return;
    print_summary("payload length (bytes)", &a->len, &b->len, 1.0, 1);
    print_summary("inter-arrival time (ms)", &a->iat, &b->iat, 1e3, 6);
    if (sd->ok) {
        printf("%-26s %14s %14s\n", "distance", "length", "gap");
        printf("  %-24s %14s %14s\n", "KS", num(x, sizeof(x), sd->len.ks, 4),
               num(y, sizeof(y), sd->iat.ks, 4));
        printf("  %-24s %12s B %11s ms\n", "W1", num(x, sizeof(x), sd->len.w1, 2),
               num(y, sizeof(y), sd->iat.w1 * 1e3, 6));
        char label[40];
        snprintf(label, sizeof(label), "JSD (%u bins)", c->jsd_bins);
        printf("  %-24s %14s %14s\n", label, num(x, sizeof(x), sd->len.jsd, 4),
               num(y, sizeof(y), sd->iat.jsd, 4));
        printf("  %-24s %14s %14s\n", "KL(A||B), KDE", num(x, sizeof(x), sd->len.kl, 4),
               num(y, sizeof(y), sd->iat.kl, 4));
    } else {
        printf("distances: none (%s)\n", sd->note);
    }
    printf("%-26s %14s %14s %14s %14s\n", "throughput", "A kbit/s", "A CV", "B kbit/s", "B CV");
    for (int k = 0; k < EST_CMP_NSCALES; k++) {
        char label[32];
        snprintf(label, sizeof(label), "%g ms bins", (double)est_cmp_scale_ns[k] / 1e6);
        printf("  %-24s %14s %14s %14s %14s\n", label,
               num(x, sizeof(x), a->time.rate_bps[k] / 1e3, 1),
               num(y, sizeof(y), a->time.rate_cv[k], 3),
               num(z, sizeof(z), b->time.rate_bps[k] / 1e3, 1),
               num(w, sizeof(w), b->time.rate_cv[k], 3));
    }
    printf("%-14s", "autocorrelation");
    for (int k = 1; k <= EST_CMP_NLAGS; k++)
        printf(" %6d", k);
    printf("  (lag)\n");
    print_acf("length A", a->time.acf_len);
    print_acf("length B", b->time.acf_len);
    print_acf("gap A", a->time.acf_iat);
    print_acf("gap B", b->time.acf_iat);
    char title[64];
    snprintf(title, sizeof(title), "bursts (gaps < %g ms)", c->burst_gap_s * 1e3);
    printf("%-26s %14s %14s %14s\n", title, "A", "B", "B-A");
    row3("count", a->n ? (double)a->time.bursts : (double)NAN,
         b->n ? (double)b->time.bursts : (double)NAN, 1.0, 0);
    row3("mean packets", a->time.burst_mean, b->time.burst_mean, 1.0, 2);
    row3("p95 packets", a->time.burst_p95, b->time.burst_p95, 1.0, 1);
    row3("max packets", a->time.burst_max, b->time.burst_max, 1.0, 0);
}

void cli_compare_table(const struct est_compare *c)
{
    for (int i = 0; i < 2; i++) {
        const struct est_cmp_input *in = &c->in[i];
        if (in->is_model)
            printf("%s: %s (model of '%s'; draws with seed %llu%s)\n", i ? "B" : "A", in->path,
                   in->flow_spec, (unsigned long long)c->seed,
                   c->independent ? ", independently (--sequence off)" : "");
        else
            printf("%s: %s (capture, flow %ld '%s')\n", i ? "B" : "A", in->path, in->flow_index,
                   in->flow_spec);
    }
    print_side(c, 0);
    print_side(c, 1);
    const struct est_cmp_trace *a = &c->in[0].trace, *b = &c->in[1].trace;
    printf("\n== trace (every UDP/TCP flow)\n");
    printf("%-26s %14s %14s %14s\n", "", "A", "B", "B-A");
    row3("packets", (double)a->packets, (double)b->packets, 1.0, 0);
    row3("flows", (double)a->flows, (double)b->flows, 1.0, 0);
    row3("packets per flow", a->mean_conv, b->mean_conv, 1.0, 1);
    row3("time span (s)", a->span_s, b->span_s, 1.0, 3);
    row3("addresses", (double)a->addrs, (double)b->addrs, 1.0, 0);
    row3("ports", (double)a->ports, (double)b->ports, 1.0, 0);
    row3("mean payload (bytes)", a->mean_payload, b->mean_payload, 1.0, 1);
    row3("mean gap (ms)", a->mean_iat_s, b->mean_iat_s, 1e3, 6);
}

/* ---- JSON ---- */

static void json_summary(struct jw *w, const char *key, const struct mdl_stats_summary *s)
{
    jw_obj_begin(w, key);
    jw_int(w, "n", (long long)s->n);
    jw_num(w, "mean", s->mean);
    jw_num(w, "sd", s->sd);
    jw_num(w, "min", s->min);
    jw_num(w, "max", s->max);
    for (int i = 0; i < MDL_STATS_NPCT; i++) {
        char k[32];
        snprintf(k, sizeof(k), "p%g", mdl_stats_pct[i]);
        jw_num(w, k, s->pct[i]);
    }
    jw_obj_end(w);
}

static void json_feature(struct jw *w,
                         const char *key,
                         const struct mdl_stats_summary *a,
                         const struct mdl_stats_summary *b,
                         const struct est_cmp_dist *d)
{
    jw_obj_begin(w, key);
    jw_num(w, "ks", d->ks);
    jw_num(w, "w1", d->w1);
    jw_num(w, "jsd", d->jsd);
    jw_num(w, "kl", d->kl);
    json_summary(w, "a", a);
    json_summary(w, "b", b);
    jw_obj_begin(w, "delta");
    jw_num(w, "mean", b->mean - a->mean);
    jw_num(w, "sd", b->sd - a->sd);
    for (int i = 0; i < MDL_STATS_NPCT; i++) {
        char k[32];
        snprintf(k, sizeof(k), "p%g", mdl_stats_pct[i]);
        jw_num(w, k, b->pct[i] - a->pct[i]);
    }
    jw_obj_end(w);
    jw_obj_end(w);
}

static void json_nums(struct jw *w, const char *key, const double *v, int n)
{
    jw_arr_begin(w, key);
    for (int i = 0; i < n; i++)
        jw_num(w, NULL, v[i]);
    jw_arr_end(w);
}

static void json_time(struct jw *w, const char *key, const struct est_cmp_data *d)
{
    jw_obj_begin(w, key);
    jw_arr_begin(w, "throughput");
    for (int k = 0; k < EST_CMP_NSCALES; k++) {
        jw_obj_begin(w, NULL);
        jw_num(w, "bin_s", (double)est_cmp_scale_ns[k] / 1e9);
        jw_num(w, "mean_bps", d->time.rate_bps[k]);
        jw_num(w, "cv", d->time.rate_cv[k]);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    json_nums(w, "acf_length", d->time.acf_len, EST_CMP_NLAGS);
    json_nums(w, "acf_iat", d->time.acf_iat, EST_CMP_NLAGS);
    jw_obj_begin(w, "bursts");
    jw_int(w, "count", (long long)d->time.bursts);
    jw_num(w, "mean", d->time.burst_mean);
    jw_num(w, "p95", d->time.burst_p95);
    jw_num(w, "max", d->time.burst_max);
    jw_obj_end(w);
    jw_obj_end(w);
}

static void json_trace(struct jw *w, const char *key, const struct est_cmp_trace *t)
{
    jw_obj_begin(w, key);
    jw_int(w, "packets", (long long)t->packets);
    jw_int(w, "flows", (long long)t->flows);
    jw_num(w, "packets_per_flow", t->mean_conv);
    jw_num(w, "span_s", t->span_s);
    jw_int(w, "addresses", (long long)t->addrs);
    jw_int(w, "ports", (long long)t->ports);
    jw_num(w, "mean_payload", t->mean_payload);
    jw_num(w, "mean_iat_s", t->mean_iat_s);
    jw_obj_end(w);
}

void cli_compare_json(const struct est_compare *c)
{
    struct jw w;
    jw_init(&w, stdout);
    jw_obj_begin(&w, NULL);
    for (int i = 0; i < 2; i++) {
        const struct est_cmp_input *in = &c->in[i];
        jw_obj_begin(&w, i ? "b" : "a");
        jw_str(&w, "path", in->path);
        jw_str(&w, "kind", in->is_model ? "model" : "capture");
        jw_str(&w, "flow", in->flow_spec);
        if (in->is_model)
            jw_null(&w, "flow_index");
        else
            jw_int(&w, "flow_index", in->flow_index);
        jw_obj_end(&w);
    }
    jw_int(&w, "seed", (long long)c->seed);
    jw_num(&w, "burst_gap_s", c->burst_gap_s);
    jw_int(&w, "jsd_bins", c->jsd_bins);
    jw_int(&w, "kde_grid", c->kde_grid);
    jw_num(&w, "iat_floor_s", c->iat_floor_s);
    jw_obj_begin(&w, "sides");
    for (int s = 0; s < 2; s++) {
        const struct est_cmp_side *sd = &c->side[s];
        jw_obj_begin(&w, side_names[s]);
        jw_int(&w, "packets_a", (long long)sd->in[0].n);
        jw_int(&w, "packets_b", (long long)sd->in[1].n);
        if (draw_name(c, s))
            jw_str(&w, "model_draws", draw_name(c, s));
        else
            jw_null(&w, "model_draws");
        if (sd->note[0])
            jw_str(&w, "note", sd->note);
        else
            jw_null(&w, "note");
        json_feature(&w, "payload_length", &sd->in[0].len, &sd->in[1].len, &sd->len);
        json_feature(&w, "iat_s", &sd->in[0].iat, &sd->in[1].iat, &sd->iat);
        json_time(&w, "time_a", &sd->in[0]);
        json_time(&w, "time_b", &sd->in[1]);
        jw_obj_end(&w);
    }
    jw_obj_end(&w);
    jw_obj_begin(&w, "trace");
    json_trace(&w, "a", &c->in[0].trace);
    json_trace(&w, "b", &c->in[1].trace);
    const struct est_cmp_trace *a = &c->in[0].trace, *b = &c->in[1].trace;
    jw_obj_begin(&w, "delta");
    jw_num(&w, "packets", (double)b->packets - (double)a->packets);
    jw_num(&w, "flows", (double)b->flows - (double)a->flows);
    jw_num(&w, "packets_per_flow", b->mean_conv - a->mean_conv);
    jw_num(&w, "span_s", b->span_s - a->span_s);
    jw_num(&w, "addresses", (double)b->addrs - (double)a->addrs);
    jw_num(&w, "ports", (double)b->ports - (double)a->ports);
    jw_num(&w, "mean_payload", b->mean_payload - a->mean_payload);
    jw_num(&w, "mean_iat_s", b->mean_iat_s - a->mean_iat_s);
    jw_obj_end(&w);
    jw_obj_end(&w);
    jw_obj_end(&w);
    jw_finish(&w);
}

/* ---- holdout ---- */

/* The rows of the holdout report: how to read one figure of a series, and whether the row is
 * a distance to half 2 (KS: the figure is the distance) or a value (the distance is the
 * difference series - half 2). */
struct ho_row {
    const char *label, *key;
    int is_ks;
    int prec;
    size_t off; /* of the double in struct est_ho_figures */
};

static const struct ho_row ho_rows[] = {
    {"KS length", "ks_length", 1, 4, offsetof(struct est_ho_figures, ks_len)},
    {"KS gap", "ks_gap", 1, 4, offsetof(struct est_ho_figures, ks_gap)},
    {"acf lag 1 length", "acf1_length", 0, 3, offsetof(struct est_ho_figures, acf1_len)},
    {"acf lag 1 gap", "acf1_gap", 0, 3, offsetof(struct est_ho_figures, acf1_gap)},
    {"CV 100 ms", "cv_100ms", 0, 3, offsetof(struct est_ho_figures, cv100)},
    {"mean burst (packets)", "mean_burst", 0, 2, offsetof(struct est_ho_figures, burst_mean)},
};

#define HO_NROWS (sizeof(ho_rows) / sizeof(ho_rows[0]))

static const char *const ho_series_keys[EST_HO_NSERIES] = {"half1", "half2", "model",
                                                           "independent"};

static double ho_value(const struct est_ho_figures *f, const struct ho_row *r)
{
    double v = 0;
    memcpy(&v, (const char *)f + r->off, sizeof(v));
    return v;
}

/* Series k against half 2 on row r: the KS distance, or the difference of the figures. */
static double ho_vs(const struct est_ho_side *sd, int k, const struct ho_row *r)
{
    double v = ho_value(&sd->s[k], r);
    return r->is_ks ? v : v - ho_value(&sd->s[EST_HO_HALF2], r);
}

static void ho_side_table(const struct est_holdout *h, int s)
{
    static const int vs[3] = {EST_HO_HALF1, EST_HO_MODEL, EST_HO_INDEPENDENT};
    static const int order[4] = {EST_HO_HALF2, EST_HO_HALF1, EST_HO_MODEL, EST_HO_INDEPENDENT};
    const struct est_ho_side *sd = &h->side[s];
    char x[40];
    printf("\n== %s side: half 1 %zu packets, half 2 %zu packets", side_names[s],
           sd->s[EST_HO_HALF1].n, sd->s[EST_HO_HALF2].n);
    if (sd->ok)
        printf("; the model of half 1 drew %zu (%s)",
               sd->s[sd->seq ? EST_HO_MODEL : EST_HO_INDEPENDENT].n,
               sd->seq ? "as a sequence, and independently" : "independently only");
    printf("\n");
    if (sd->note[0])
        printf("note: %s\n", sd->note);
    if (sd->s[EST_HO_HALF1].n == 0)
        return;
    printf("%-22s %11s %11s %11s %9s %9s %9s %9s\n", "", "h1 vs h2", "model vs h2", "indep vs h2",
           "half 2", "half 1", "model", "indep");
    for (size_t i = 0; i < HO_NROWS; i++) {
        const struct ho_row *r = &ho_rows[i];
        printf("  %-20s", r->label);
        for (int j = 0; j < 3; j++)
            printf(" %11s", num(x, sizeof(x), ho_vs(sd, vs[j], r), r->prec));
        for (int j = 0; !r->is_ks && j < 4; j++)
            printf(" %9s", num(x, sizeof(x), ho_value(&sd->s[order[j]], r), r->prec));
        printf("\n");
    }
}

void cli_holdout_table(const struct est_holdout *h)
{
    printf("holdout: %s (capture, flow %ld '%s')\n", h->path, h->flow_index, h->flow_spec);
    printf("per side: a model fitted on half 1 (the first half of the packets in time order) "
           "drew %ux half 2's packets, seed %llu;\n"
           "'vs h2' is the KS distance to half 2, or the figure minus half 2's; "
           "h1 vs h2 is the data's own floor\n",
           h->draw_factor, (unsigned long long)h->seed);
    ho_side_table(h, 0);
    ho_side_table(h, 1);
}

void cli_holdout_json(const struct est_holdout *h)
{
    struct jw w;
    jw_init(&w, stdout);
    jw_obj_begin(&w, NULL);
    jw_str(&w, "capture", h->path);
    jw_str(&w, "flow", h->flow_spec);
    jw_int(&w, "flow_index", h->flow_index);
    jw_int(&w, "seed", (long long)h->seed);
    jw_int(&w, "draw_factor", h->draw_factor);
    jw_num(&w, "burst_gap_s", h->burst_gap_s);
    jw_obj_begin(&w, "sides");
    for (int s = 0; s < 2; s++) {
        const struct est_ho_side *sd = &h->side[s];
        jw_obj_begin(&w, side_names[s]);
        if (sd->note[0])
            jw_str(&w, "note", sd->note);
        else
            jw_null(&w, "note");
        jw_bool(&w, "fitted", sd->ok);
        jw_bool(&w, "sequence", sd->seq);
        jw_obj_begin(&w, "packets");
        for (int k = 0; k < EST_HO_NSERIES; k++)
            jw_int(&w, ho_series_keys[k], (long long)sd->s[k].n);
        jw_obj_end(&w);
        for (size_t i = 0; i < HO_NROWS; i++) {
            const struct ho_row *r = &ho_rows[i];
            jw_obj_begin(&w, r->key);
            jw_num(&w, "half1_vs_half2", ho_vs(sd, EST_HO_HALF1, r));
            jw_num(&w, "model_vs_half2", ho_vs(sd, EST_HO_MODEL, r));
            jw_num(&w, "independent_vs_half2", ho_vs(sd, EST_HO_INDEPENDENT, r));
            for (int k = 0; !r->is_ks && k < EST_HO_NSERIES; k++)
                jw_num(&w, ho_series_keys[k], ho_value(&sd->s[k], r));
            jw_obj_end(&w);
        }
        jw_obj_end(&w);
    }
    jw_obj_end(&w);
    jw_obj_end(&w);
    jw_finish(&w);
}
