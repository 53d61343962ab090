/* cli/cmd_show.c - `flowmimic show`: print a model as readable tables, or as normalised JSON. */
#include "cli/cli.h"

#include "common/err.h"
#include "common/log.h"
#include "models/json.h"

#include <math.h>
#include <stdlib.h>

enum { OPT_JSON = 256 };

static const struct cli_opt opts[] = {
    {"json", OPT_JSON, no_argument, NULL, "re-emit the model as normalised JSON"},
    CLI_OPT_HELP_END,
};

static const struct cli_cmd_doc doc = {
    "show",
    "[OPTIONS] MODEL.json",
    "Print a model: per side and feature its atoms and Gaussian components, K, BIC, packets\n"
    "and header fields; with a sequence model (version 2) its states, chain and persistence.",
    "Weights are shares of all packets of the side. Payload components are in bytes. IAT\n"
    "components on the log scale are Gaussians on ln(seconds): mean and sd are in ln units,\n"
    "and the ms column is exp(mean), the component's median gap.\n"
    "\nSequence states: share of packets, marker, median and range of length and gap, and rho,\n"
    "the persistence of each feature (the coefficient that carries its normal score to the next\n"
    "packet, calibrated to the capture's lag-1 autocorrelation; see models/seq.h). The\n"
    "transition table gives P(next state | last state) for the histories of one state (- : the\n"
    "history is not stored and the shorter one is used).\n"
    "\nExample: flowmimic show models/call-0.json\n",
};

static void print_payload(const struct mdl_mixture *m)
{
    printf("  payload length (bytes): n %llu, min %.0f, max %.0f, K %u", (unsigned long long)m->n,
           m->min, m->max, m->k);
    if (m->k)
        printf(", BIC %.1f", m->bic);
    printf("\n    %-6s %7s %12s %10s\n", "kind", "weight", "value/mean", "sd");
    for (size_t i = 0; i < m->n_atoms; i++)
        printf("    %-6s %7.4f %12.0f %10s\n", "atom", m->atoms[i].weight, m->atoms[i].value, "-");
    for (unsigned i = 0; i < m->k; i++)
        printf("    %-6s %7.4f %12.2f %10.2f\n", "gauss", m->comps[i].weight, m->comps[i].mean,
               m->comps[i].sd);
}

static void print_iat(const struct mdl_mixture *m)
{
    int logs = m->scale == MDL_SCALE_LOG;
    printf("  inter-arrival time: n %llu, scale %s, min %.6g s, max %.6g s, tick %.0e s, K %u",
           (unsigned long long)m->n, logs ? "log" : "linear", m->min, m->max, m->resolution, m->k);
    if (m->k)
        printf(", BIC %.1f", m->bic);
    printf("\n    %-6s %7s %12s %10s %12s\n", "kind", "weight", logs ? "mean(ln s)" : "mean(s)",
           logs ? "sd(ln s)" : "sd(s)", "ms");
    for (size_t i = 0; i < m->n_atoms; i++)
        printf("    %-6s %7.4f %12s %10s %12.4f\n", "atom", m->atoms[i].weight, "-", "-",
               m->atoms[i].value * 1e3);
    for (unsigned i = 0; i < m->k; i++) {
        const struct mdl_comp *c = &m->comps[i];
        double ms = logs ? exp(c->mean) * 1e3 : c->mean * 1e3;
        printf("    %-6s %7.4f %12.4f %10.4f %12.4f\n", "gauss", c->weight, c->mean, c->sd, ms);
    }
}

/* The value below which half of a state's feature lies. */
static double dist_median(const struct mdl_seq_dist *d, const double *mean)
{
    double cum = 0.0;
    for (unsigned i = 0; i < d->n; i++) {
        const struct mdl_seq_piece *p = &d->pieces[i];
        if (cum + p->p >= 0.5 && p->p > 0.0) {
            double f = (0.5 - cum) / p->p;
            if (mean[i] != 0.0) /* the piece's shape, models/seq.h */
                f = pow(f, (p->hi - p->lo) / (mean[i] - p->lo) - 1.0);
            return p->lo + (p->hi - p->lo) * f;
        }
        cum += p->p;
    }
    return d->pieces[d->n - 1].hi;
}

static void print_seq(const struct mdl_seq *q)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < q->k; i++)
        total += q->states[i].n;
    printf("  sequence: %u states from %u clusters, chain order %u (BIC", q->k, q->clusters,
           q->order);
    for (unsigned o = 0; o <= MDL_SEQ_MAX_ORDER; o++)
        printf(" %.1f", q->bic[o]);
    printf("), %u histories, tick %.0f ns%s%s\n", q->n_ctx, q->tick_ns,
           q->slice ? ", states and lengths sliced from one uniform" : "",
           q->frames ? ", frames end at marked states" : "");
    printf("    %5s %7s %6s %8s %13s %10s %19s %7s %7s\n", "state", "share", "marker", "len",
           "len range", "gap ms", "gap range ms", "rho len", "rho gap");
    for (unsigned i = 0; i < q->k; i++) {
        const struct mdl_seq_state *x = &q->states[i];
        printf("    %5u %7.4f %6s %8.0f %6.0f-%-6.0f %10.3f %9.3f-%-9.3f %7.3f %7.3f\n", i,
               total ? (double)x->n / (double)total : 0.0, x->marker ? "yes" : "-",
               dist_median(&x->len, q->len_mean[i]), x->len.pieces[0].lo,
               x->len.pieces[x->len.n - 1].hi, dist_median(&x->gap, q->gap_mean[i]) / 1e6,
               x->gap.pieces[0].lo / 1e6, x->gap.pieces[x->gap.n - 1].hi / 1e6, x->rho_len,
               x->rho_gap);
    }
    printf("    %-8s", "after");
    for (unsigned j = 0; j < q->k; j++)
        printf(" %6u", j);
    printf("\n");
    for (int h = -1; h < (int)q->k; h++) {
        uint8_t hist = (uint8_t)(h < 0 ? 0 : h);
        const struct mdl_seq_ctx *c = mdl_seq_find_ctx(q, &hist, h < 0 ? 0 : 1);
        if (h >= 0 && q->order == 0)
            break;
        if (h < 0)
            printf("    %-8s", "(any)");
        else
            printf("    %-8d", h);
        for (unsigned j = 0; j < q->k; j++) {
            if (c && (h < 0 || c->order == 1))
                printf(" %6.3f", c->p[j]);
            else
                printf(" %6s", "-");
        }
        printf("\n");
    }
}

static void print_side(const struct mdl_model *m, int side)
{
    static const char *const names[2] = {"local", "remote"};
    const struct mdl_side *s = &m->sides[side];
    const struct mdl_endpoint *e = side == 0 ? &m->local : &m->remote;
    printf("\n%s side, sent by %s port %u", names[side], e->ip, e->port);
    if (!s->present) {
        printf(": no packets\n");
        return;
    }
    printf(": %llu packets over %.3f s\n", (unsigned long long)s->packets, s->duration_s);
    printf("  headers: ttl ");
    if (s->headers.ttl >= 0)
        printf("%d", s->headers.ttl);
    else
        printf("-");
    printf(", dscp ");
    if (s->headers.dscp >= 0)
        printf("%d", s->headers.dscp);
    else
        printf("-");
    if (s->headers.rtp)
        printf(", RTP payload type %d, marker on %.1f%% of packets\n", s->headers.rtp_payload_type,
               s->headers.rtp_marker_ratio * 100.0);
    else
        printf(", not RTP\n");
    if (s->note[0])
        printf("  note: %s\n", s->note);
    if (s->has_payload)
        print_payload(&s->payload);
    if (s->has_iat)
        print_iat(&s->iat);
    if (s->has_seq)
        print_seq(&s->seq);
}

/* --json, the table's only option besides --help, into the int at self. */
static int take_opt(void *self, int c, const char *arg, struct fm_err *err)
{
    (void)arg;
    if (c != OPT_JSON)
        return fm_err_set(err, FM_EINVAL, "unhandled option");
    *(int *)self = 1;
    return FM_OK;
}

int cmd_show(int argc, char **argv)
{
    struct cli_parser p;
    struct fm_err err = {0};
    int json = 0;
    cli_parser_init(&p, &doc, opts);
    int st = cli_parse(&p, opts, argc, argv, take_opt, &json);
    if (st >= 0)
        return st;
    const char *path = cli_one_operand(&doc, argc, argv, "a model file");
    if (!path)
        return CLI_EXIT_USAGE;
    struct mdl_model *m = calloc(1, sizeof(*m));
    if (!m) {
        fm_log_error("out of memory");
        return CLI_EXIT_RUNTIME;
    }
    int rc = CLI_EXIT_OK;
    if (mdl_json_load(path, m, &err) < 0) {
        fm_log_error("%s", err.msg);
        rc = CLI_EXIT_RUNTIME;
        goto out;
    }
    if (json) {
        char *text = mdl_json_print(m);
        if (!text) {
            fm_log_error("out of memory");
            rc = CLI_EXIT_RUNTIME;
            goto out;
        }
        puts(text);
        free(text);
        goto out;
    }
    printf("model   %s (format %s, version %d)\n", path, MDL_FORMAT, m->version);
    printf("source  %s\n", m->capture[0] ? m->capture : "-");
    printf("flow    %s: %llu packets", m->flow_spec[0] ? m->flow_spec : m->proto,
           (unsigned long long)m->packets);
    if (m->reordered)
        printf(", %llu reordered", (unsigned long long)m->reordered);
    printf("\n");
    print_side(m, 0);
    print_side(m, 1);
out:
    free(m);
    return rc;
}
