/* cli/cmd_validate.c - `flowmimic validate`: protocol checks of a JSON trace or a capture.
 * Each violation is one line on stdout, "packet N: RULE: expected X, got Y", then a summary
 * line; exit status 1 when anything was found, so scripts can gate on it. */
#include "cli/cli.h"
#include "cli/jw.h"

#include "common/err.h"
#include "common/log.h"
#include "common/num.h"
#include "estimator/select.h"
#include "trace/input.h"

#include <stdlib.h>
#include <string.h>

enum { OPT_FLOW = 256, OPT_JSON, OPT_MAX_ERRORS };

#define DEFAULT_MAX_ERRORS 100

static const struct cli_opt opts[] = {
    {"flow", OPT_FLOW, required_argument, "INDEX|SPEC",
     "capture input: only this flow, by its index in `flows`\nor as 'udp A:PORT B:PORT'"},
    {"max-errors", OPT_MAX_ERRORS, required_argument, "N",
     "print at most N violations (default 100; 0: all); the\nsummary counts them all"},
    {"json", OPT_JSON, no_argument, NULL, "print the report as JSON on stdout"},
    {"help", 'h', no_argument, NULL, "show this help"},
    {NULL, 0, 0, NULL, NULL},
};

static const struct cli_cmd_doc doc_base = {
    "validate",
    "[OPTIONS] TRACE",
    "Check a JSON packet trace or a pcap/pcapng capture for protocol correctness.",
    NULL,
};

struct validate_opts {
    const char *flow;
    long max_errors;
    int json;
};

static int take(void *arg, int c, const char *val, struct fm_err *err)
{
    struct validate_opts *o = arg;
    switch (c) {
    case OPT_FLOW:
        o->flow = val;
        return FM_OK;
    case OPT_MAX_ERRORS:
        return fm_parse_long(val, 0, 1000000000L, "--max-errors", &o->max_errors, err);
    case OPT_JSON:
        o->json = 1;
        return FM_OK;
    default:
        return FM_OK;
    }
}

static const char tail[] =
    "\nA flow is an address and port pair in either direction; an RTP stream is a\n"
    "sender, a receiver and an SSRC; a TCP connection starts with a SYN (one seen from\n"
    "the middle is a warning under tcp-handshake and checked from there on).\n"
    "Rules marked (w) give warnings: what a network does or a capture of part of one shows\n"
    "(loss, duplicates, reordering, retransmissions, packets in flight after a RST or FIN),\n"
    "as does a UDP length that the first IP fragment of a larger datagram explains. The\n"
    "others are errors: a malformed or impossible packet. Each finding is printed as\n"
    "'packet N: [warning: ]RULE: expected X, got Y' (N from 0, in trace order; for a capture\n"
    "N counts its UDP and TCP packets, and ' (frame F)' follows with Wireshark's frame\n"
    "number), then a summary line. Exit status: 0 valid (warnings or not), 1 invalid (an\n"
    "error) or a runtime error, 2 usage error.\n"
    "\nExamples:\n"
    "  flowmimic validate example.json\n"
    "  flowmimic validate --flow 0 --max-errors 10 call.pcap\n"
    "  flowmimic validate --json trace.json | jq '.by_rule'\n";

/* The text after the options: the rules come from trace/validate.c's table, so --help
 * and the checks cannot disagree. */
static void help_text(char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "%s",
                                "The input is told apart by content: JSON (docs/trace.md) or a "
                                "capture, of which\nevery UDP and TCP packet is checked (or those "
                                "of --flow). Rules, by their stable\nnames:\n");
    for (int r = 0; r < TRC_V_NRULES && n < size; r++)
        n += (size_t)snprintf(buf + n, size - n, "  %-14s %s%s\n",
                              trc_validate_rule_name((enum trc_vrule)r),
                              trc_validate_rule_warns((enum trc_vrule)r) ? "(w) " : "",
                              trc_validate_rule_help((enum trc_vrule)r));
    if (n < size)
        snprintf(buf + n, size - n, "%s", tail);
}

static void
print_json(const char *path, const struct trc_validate_report *r, const uint64_t *frames)
{
    struct jw w;
    jw_init(&w, stdout);
    jw_obj_begin(&w, NULL);
    jw_str(&w, "trace", path);
    jw_int(&w, "packets", (long long)r->packets);
    jw_int(&w, "flows", (long long)r->flows);
    jw_int(&w, "tcp_connections", (long long)r->tcp_conns);
    jw_int(&w, "rtp_streams", (long long)r->rtp_streams);
    jw_str(&w, "result", r->errors ? "invalid" : "valid");
    jw_int(&w, "violations_total", (long long)r->total);
    jw_int(&w, "errors_total", (long long)r->errors);
    jw_int(&w, "warnings_total", (long long)r->warnings);
    jw_obj_begin(&w, "by_rule");
    for (int i = 0; i < TRC_V_NRULES; i++) {
        if (r->per_rule[i])
            jw_int(&w, trc_validate_rule_name((enum trc_vrule)i), (long long)r->per_rule[i]);
    }
    jw_obj_end(&w);
    jw_obj_begin(&w, "warnings_by_rule");
    for (int i = 0; i < TRC_V_NRULES; i++) {
        if (r->per_rule_warnings[i])
            jw_int(&w, trc_validate_rule_name((enum trc_vrule)i),
                   (long long)r->per_rule_warnings[i]);
    }
    jw_obj_end(&w);
    jw_arr_begin(&w, "violations");
    for (size_t i = 0; i < r->nv; i++) {
        const struct trc_violation *v = &r->v[i];
        jw_obj_begin(&w, NULL);
        jw_int(&w, "packet", (long long)v->packet);
        if (frames)
            jw_int(&w, "frame", (long long)frames[v->packet]);
        jw_str(&w, "rule", trc_validate_rule_name(v->rule));
        jw_str(&w, "severity", v->warning ? "warning" : "error");
        jw_str(&w, "expected", v->expected);
        jw_str(&w, "got", v->got);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_obj_end(&w);
    jw_finish(&w);
}

/* "rule N, rule M" of the errors (warnings 0) or the warnings (1). */
static void print_counts(const struct trc_validate_report *r, int warnings)
{
    const char *sep = "";
    for (int i = 0; i < TRC_V_NRULES; i++) {
        uint64_t n = warnings ? r->per_rule_warnings[i] : r->per_rule[i] - r->per_rule_warnings[i];
        if (n) {
            printf("%s%s %llu", sep, trc_validate_rule_name((enum trc_vrule)i),
                   (unsigned long long)n);
            sep = ", ";
        }
    }
}

static void
print_text(const char *path, const struct trc_validate_report *r, const uint64_t *frames)
{
    for (size_t i = 0; i < r->nv; i++) {
        const struct trc_violation *v = &r->v[i];
        printf("packet %zu: %s%s: %s, %s", v->packet, v->warning ? "warning: " : "",
               trc_validate_rule_name(v->rule), v->expected, v->got);
        /* A capture's packets are counted among its UDP/TCP packets; Wireshark counts frames. */
        if (frames)
            printf(" (frame %llu)", (unsigned long long)frames[v->packet]);
        printf("\n");
    }
    printf("%s: %zu packets, %zu flows, %zu TCP connections, %zu RTP streams: ", path, r->packets,
           r->flows, r->tcp_conns, r->rtp_streams);
    if (r->errors) {
        printf("invalid: %llu error%s (", (unsigned long long)r->errors, r->errors == 1 ? "" : "s");
        print_counts(r, 0);
        printf(")");
    } else {
        printf("valid");
    }
    if (r->warnings) {
        printf("%s%llu warning%s (", r->errors ? "; " : ", ", (unsigned long long)r->warnings,
               r->warnings == 1 ? "" : "s");
        print_counts(r, 1);
        printf(")");
    }
    if (r->nv < r->total)
        printf("; the first %zu shown (--max-errors 0 shows all)", r->nv);
    printf("\n");
}

int cmd_validate(int argc, char **argv)
{
    struct cli_parser p;
    struct validate_opts o = {NULL, DEFAULT_MAX_ERRORS, 0};
    struct trc_validate_report r;
    struct trc_input_result res;
    struct fm_err err = {0};
    struct cli_cmd_doc doc = doc_base;
    char more[4096];

    help_text(more, sizeof(more));
    doc.more = more;
    cli_parser_init(&p, &doc, opts);
    int rc = cli_parse(&p, opts, argc, argv, take, &o);
    if (rc >= 0)
        return rc;
    const char *path = cli_one_operand(&doc, argc, argv, "a JSON trace or a capture");
    if (!path)
        return CLI_EXIT_USAGE;
    /* A capture's RTP headers agree with its payload by construction: the bytes are not
     * needed, and a large capture then takes a tenth of the memory. */
    struct trc_input in = {path, o.flow, est_flow_select, 0, 1, &cli_stop};
    cli_signals_install();
    rc = trc_validate_input(&in, (size_t)o.max_errors, &r, &res, &err);
    int ex = cli_trace_input(doc.name, &in, &res, rc, &err);
    if (ex != CLI_EXIT_OK)
        goto out;
    if (rc < 0) {
        fm_log_error("%s", err.msg);
        ex = rc == FM_EINTR ? CLI_EXIT_INTR : CLI_EXIT_RUNTIME;
        goto out;
    }
    if (o.json)
        print_json(path, &r, res.frames);
    else
        print_text(path, &r, res.frames);
    ex = r.errors ? CLI_EXIT_RUNTIME : CLI_EXIT_OK;
out:
    free(res.frames);
    trc_validate_report_fini(&r);
    return ex;
}
