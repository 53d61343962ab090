/* cli/cmd_flows.c - `flowmimic flows`: list the flows of a capture. */
#include "cli/cli.h"
#include "cli/jw.h"

#include "common/err.h"
#include "common/log.h"
#include "common/num.h"
#include "common/time.h"
#include "estimator/flow.h"
#include "estimator/reader.h"

#include <stdlib.h>
#include <string.h>

enum { OPT_JSON = 256 };

static const struct cli_opt opts[] = {
    {"json", OPT_JSON, no_argument, NULL, "print the flows as a JSON array"},
    {"top", 'n', required_argument, "N", "list only the first N flows (most packets)"},
    CLI_OPT_HELP_END,
};

static const struct cli_cmd_doc doc = {
    "flows",
    "[OPTIONS] CAPTURE",
    "List the flows of a pcap or pcapng capture, most packets first.",
    "A flow is a bidirectional UDP or TCP 5-tuple. Its local side is the endpoint that\n"
    "sent its first packet. Columns: index (for estimate --flow), protocol, both endpoints,\n"
    "packets and payload bytes sent by each side, duration, mean payload (bytes) and mean\n"
    "inter-arrival time over both sides (ms). Frames that are not UDP/TCP over IP, non-first\n"
    "fragments, and truncated or malformed frames are counted and skipped (see -v).\n"
    "CAPTURE - reads standard input, as tcpdump -r - does.\n"
    "\nExamples: flowmimic flows --top 5 call.pcapng\n"
    "          tcpdump -i eth0 -w - udp | flowmimic flows -\n",
};

struct flow_row {
    char local[80], remote[80];
    uint64_t packets;
    uint64_t bytes;
    double duration_s;
    double mean_payload;
    double mean_iat_s;
};

static void flow_row(const struct est_flow *f, struct flow_row *r)
{
    pkt_endpoint_format(f->ip_version, &f->local, r->local, sizeof(r->local));
    pkt_endpoint_format(f->ip_version, &f->remote, r->remote, sizeof(r->remote));
    r->packets = f->side[0].packets + f->side[1].packets;
    r->bytes = f->side[0].bytes + f->side[1].bytes;
    int64_t first = f->side[0].first_ts_ns;
    int64_t last = f->side[0].last_ts_ns;
    if (f->side[1].packets) {
        if (f->side[1].first_ts_ns < first)
            first = f->side[1].first_ts_ns;
        if (f->side[1].last_ts_ns > last)
            last = f->side[1].last_ts_ns;
    }
    r->duration_s = (double)(last - first) / (double)FM_NS_PER_SEC;
    r->mean_payload = r->packets ? (double)r->bytes / (double)r->packets : 0.0;
    r->mean_iat_s = r->packets > 1 ? r->duration_s / (double)(r->packets - 1) : 0.0;
}

static const char *proto_name(const struct est_flow *f)
{
    return f->proto == 17 ? "udp" : "tcp";
}

static void print_json(struct est_flow *const *flows, size_t n)
{
    struct jw w;
    jw_init(&w, stdout);
    jw_arr_begin(&w, NULL);
    for (size_t i = 0; i < n; i++) {
        const struct est_flow *f = flows[i];
        struct flow_row r;
        char spec[200];
        flow_row(f, &r);
        est_flow_format_spec(f, spec, sizeof(spec));
        jw_obj_begin(&w, NULL);
        jw_int(&w, "index", (long long)i);
        jw_str(&w, "proto", proto_name(f));
        jw_str(&w, "flow", spec);
        jw_str(&w, "local", r.local);
        jw_str(&w, "remote", r.remote);
        jw_int(&w, "local_packets", (long long)f->side[0].packets);
        jw_int(&w, "local_bytes", (long long)f->side[0].bytes);
        jw_int(&w, "remote_packets", (long long)f->side[1].packets);
        jw_int(&w, "remote_bytes", (long long)f->side[1].bytes);
        jw_num(&w, "duration_s", r.duration_s);
        jw_num(&w, "mean_payload", r.mean_payload);
        jw_num(&w, "mean_iat_s", r.mean_iat_s);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_finish(&w);
}

static void print_table(struct est_flow *const *flows, size_t n)
{
    /* The endpoint columns are as wide as the widest endpoint listed (an IPv6 one takes up
     * to 47 characters), so that the columns after them line up, as in tshark -z conv. */
    int wl = 28;
    int wr = 28;
    for (size_t i = 0; i < n; i++) {
        struct flow_row r;
        flow_row(flows[i], &r);
        if ((int)strlen(r.local) > wl)
            wl = (int)strlen(r.local);
        if ((int)strlen(r.remote) > wr)
            wr = (int)strlen(r.remote);
    }
    printf("%5s %-5s %-*s %-*s %9s %11s %9s %11s %9s %8s %10s\n", "index", "proto", wl, "local", wr,
           "remote", "pkts>", "bytes>", "pkts<", "bytes<", "dur_s", "mean_pl", "mean_iat_ms");
    for (size_t i = 0; i < n; i++) {
        const struct est_flow *f = flows[i];
        struct flow_row r;
        flow_row(f, &r);
        printf("%5zu %-5s %-*s %-*s %9llu %11llu %9llu %11llu %9.3f %8.1f %10.3f\n", i,
               proto_name(f), wl, r.local, wr, r.remote, (unsigned long long)f->side[0].packets,
               (unsigned long long)f->side[0].bytes, (unsigned long long)f->side[1].packets,
               (unsigned long long)f->side[1].bytes, r.duration_s, r.mean_payload,
               r.mean_iat_s * 1e3);
    }
}

struct flows_opts {
    int json;
    long top;
};

/* Parse one option into o; returns FM_OK or FM_EINVAL with the message in err. */
static int take_opt(void *self, int c, const char *arg, struct fm_err *err)
{
    struct flows_opts *o = self;
    switch (c) {
    case 'n':
        return fm_parse_long(arg, 1, 100000000, "--top", &o->top, err);
    case OPT_JSON:
        o->json = 1;
        return FM_OK;
    default:
        return fm_err_set(err, FM_EINVAL, "unhandled option");
    }
}

int cmd_flows(int argc, char **argv)
{
    struct cli_parser p;
    struct flows_opts o = {0, -1};
    cli_parser_init(&p, &doc, opts);
    int status = cli_parse(&p, opts, argc, argv, take_opt, &o);
    if (status >= 0)
        return status;
    const char *path = cli_one_operand(&doc, argc, argv, "a capture file");
    if (!path)
        return CLI_EXIT_USAGE;

    struct est_flow_table *t = est_flow_table_new();
    if (!t) {
        fm_log_error("out of memory");
        return CLI_EXIT_RUNTIME;
    }
    struct est_read_stats st;
    /* Interrupted, the flows read so far are still worth showing, as tcpdump does. */
    int rc = cli_read_capture(path, t, &st, "the list below is partial");
    if (rc != CLI_EXIT_OK && rc != CLI_EXIT_INTR)
        goto out;
    size_t n = 0;
    struct est_flow *const *flows = est_flow_table_sorted(t, &n);
    if (!flows) {
        fm_log_error("out of memory sorting %zu flows", est_flow_table_count(t));
        rc = CLI_EXIT_RUNTIME;
        goto out;
    }
    if (o.top > 0 && (size_t)o.top < n)
        n = (size_t)o.top;
    if (o.json)
        print_json(flows, n);
    else if (n == 0)
        fm_log_warn("'%s' holds no UDP or TCP flows (%llu frames read)", path,
                    (unsigned long long)st.frames);
    else
        print_table(flows, n);
out:
    est_flow_table_free(t);
    return rc;
}
