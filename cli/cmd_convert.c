/* cli/cmd_convert.c - `flowmimic convert`: JSON packet traces to pcap and captures to JSON.
 * Also holds cli_trace_read(), the input side that `validate` shares: a JSON trace or a
 * capture, told apart by content rather than by name. */
#include "cli/cli.h"
#include "cli/jw.h"

#include "common/err.h"
#include "common/log.h"
#include "estimator/trace_pcap.h"
#include "models/trace.h"
#include "packet/sniff.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

enum { OPT_FLOW = 256, OPT_NO_PAYLOAD, OPT_JSON };

static const struct cli_opt opts[] = {
    {"flow", OPT_FLOW, required_argument, "INDEX|SPEC",
     "capture input: only this flow, by its index in `flows`\nor as 'udp A:PORT B:PORT' (either "
     "order; IPv6 as\n[addr]:port), as estimate --flow takes it"},
    {"no-payload", OPT_NO_PAYLOAD, no_argument, NULL,
     "capture input: write payload_length only, not the\npayload bytes as hex"},
    {"json", OPT_JSON, no_argument, NULL, "print the summary as JSON on stdout"},
    {"help", 'h', no_argument, NULL, "show this help"},
    {NULL, 0, 0, NULL, NULL},
};

static const struct cli_cmd_doc doc = {
    "convert",
    "[OPTIONS] IN OUT",
    "Convert a JSON packet trace to a pcap file, or a capture to a JSON packet trace.",
    "The direction comes from IN's content: a JSON trace (docs/trace.md) becomes a pcap file;\n"
    "a pcap or pcapng capture becomes a JSON trace. OUT's extension must agree when it has\n"
    "one (.json, or .pcap/.cap); pcapng is read but not written. JSON traces are read up to\n"
    "64 MiB. OUT is written through a temporary file and renamed, so it is never left\n"
    "half-written, and OUT may not be IN.\n"
    "\nCapture -> JSON keeps every UDP and TCP packet over IPv4/IPv6 (any link type `flows`\n"
    "reads): time to the nanosecond, addresses, ports, TTL, DSCP, payload bytes (or only\n"
    "their length), the UDP length field, RTP header fields when the payload is RTP, TCP\n"
    "flags, seq, ack and window. Other frames are counted and skipped (see -v).\n"
    "JSON -> pcap writes link type RAW (IP headers first, no Ethernet) at nanosecond\n"
    "resolution, with IPv4/IPv6 and UDP/TCP headers and checksums built from the fields;\n"
    "without payload bytes, the payload is an RTP header from the rtp fields (if any) and\n"
    "zeros. capture -> JSON -> pcap -> JSON gives the same JSON again.\n"
    "\nExamples:\n"
    "  flowmimic convert example.json example.pcap && tshark -r example.pcap -d "
    "udp.port==5004,rtp\n"
    "  flowmimic convert --flow 0 --no-payload call.pcapng call.json\n"
    "  flowmimic convert --flow 'udp 10.0.0.1:5004 10.0.0.2:5006' call.pcap video.json\n",
};

struct convert_opts {
    const char *flow;
    int no_payload;
    int json;
};

static int take(void *arg, int c, const char *val, struct fm_err *err)
{
    struct convert_opts *o = arg;
    (void)err;
    switch (c) {
    case OPT_FLOW:
        o->flow = val;
        break;
    case OPT_NO_PAYLOAD:
        o->no_payload = 1;
        break;
    case OPT_JSON:
        o->json = 1;
        break;
    default:
        break;
    }
    return FM_OK;
}

static const char *kind_name(enum est_trace_kind k)
{
    return k == EST_TRACE_JSON ? "json" : "pcap";
}

/* What path holds, by packet/sniff.h's one rule (a pipe is a capture). */
static int input_kind(const char *path, enum est_trace_kind *kind, struct fm_err *err)
{
    enum pkt_input in = PKT_INPUT_UNKNOWN;
    int rc = pkt_sniff(path, &in, err);
    *kind = in == PKT_INPUT_CAPTURE   ? EST_TRACE_PCAP
            : in == PKT_INPUT_UNKNOWN ? EST_TRACE_UNKNOWN
                                      : EST_TRACE_JSON;
    return rc;
}

int cli_trace_read(const char *cmd,
                   const char *path,
                   const char *flow,
                   int with_payload,
                   struct mdl_trace *t,
                   int *is_json,
                   uint64_t **frames)
{
    struct fm_err err = {0};
    struct est_trace_read_stats st;
    struct pkt_flow_key key;
    enum est_trace_kind kind = EST_TRACE_UNKNOWN;
    int rc = input_kind(path, &kind, &err);
    if (rc < 0) {
        fm_log_error("%s", err.msg);
        return CLI_EXIT_RUNTIME;
    }
    if (kind == EST_TRACE_UNKNOWN) {
        fm_log_error("cannot tell what '%s' holds: it is neither a JSON packet trace (text "
                     "starting with '{' or '[') nor a pcap or pcapng capture",
                     path);
        return CLI_EXIT_RUNTIME;
    }
    *is_json = kind == EST_TRACE_JSON;
    if (kind == EST_TRACE_JSON && flow)
        return cli_usage_error(cmd, "--flow applies to capture input; '%s' is a JSON trace", path);
    if (kind == EST_TRACE_JSON) {
        if (mdl_trace_load(path, t, &err) < 0) {
            fm_log_error("%s", err.msg);
            return CLI_EXIT_RUNTIME;
        }
        return CLI_EXIT_OK;
    }
    if (flow && !pkt_input_rereadable(path)) {
        fm_log_error("'%s' is not a regular file: --flow reads the capture twice, so save it to "
                     "a file first",
                     path);
        return CLI_EXIT_RUNTIME;
    }
    if (flow) {
        rc = est_trace_flow_select(path, flow, &key, &err);
        if (rc == FM_EINVAL)
            return cli_usage_error(cmd, "--flow: %s", err.msg);
        if (rc < 0) {
            fm_log_error("%s", err.msg);
            return CLI_EXIT_RUNTIME;
        }
    }
    cli_signals_install();
    rc = est_trace_from_pcap(path, flow ? &key : NULL, with_payload, t, &st, frames, &cli_stop,
                             &err);
    if (rc == FM_EINTR) {
        fm_log_error("%s", err.msg);
        return CLI_EXIT_INTR;
    }
    if (rc == FM_EFORMAT && !pkt_input_rereadable(path)) {
        /* A pipe is read as a capture; a JSON trace must be a file, looked at before it is
         * read. */
        fm_log_error("%s (a JSON trace cannot come from a pipe: save it to a file first)", err.msg);
        return CLI_EXIT_RUNTIME;
    }
    if (rc < 0) {
        fm_log_error("%s", err.msg);
        return CLI_EXIT_RUNTIME;
    }
    uint64_t bad =
        st.status[PKT_DEC_TRUNCATED] + st.status[PKT_DEC_MALFORMED] + st.status[PKT_DEC_FRAGMENT];
    if (bad)
        fm_log_warn("'%s': %llu of %llu frames were truncated, malformed or non-first fragments "
                    "and were skipped",
                    path, (unsigned long long)bad, (unsigned long long)st.frames);
    if (st.payload_cut)
        fm_log_warn("'%s': the snap length cut the payload of %llu packets: they have "
                    "payload_length but no payload bytes",
                    path, (unsigned long long)st.payload_cut);
    fm_log_info("'%s': %llu frames: %llu UDP/TCP packets kept, %llu of other flows, %llu not "
                "IP, %llu other protocols",
                path, (unsigned long long)st.frames, (unsigned long long)st.kept,
                (unsigned long long)st.other_flows, (unsigned long long)st.status[PKT_DEC_NOT_IP],
                (unsigned long long)st.status[PKT_DEC_OTHER_L4]);
    if (st.kept == 0)
        fm_log_warn("'%s' holds no UDP or TCP packets%s (%llu frames read)", path,
                    flow ? " of that flow" : "", (unsigned long long)st.frames);
    return CLI_EXIT_OK;
}

/* The kind OUT's name asks for: EST_TRACE_UNKNOWN when it has no extension we know; -1 for a
 * pcapng name, which we cannot write. */
static int out_kind(const char *out)
{
    const char *base = strrchr(out, '/');
    const char *dot = strrchr(base ? base + 1 : out, '.');
    if (!dot)
        return EST_TRACE_UNKNOWN;
    if (strcasecmp(dot, ".json") == 0)
        return EST_TRACE_JSON;
    if (strcasecmp(dot, ".pcap") == 0 || strcasecmp(dot, ".cap") == 0)
        return EST_TRACE_PCAP;
    if (strcasecmp(dot, ".pcapng") == 0)
        return -1;
    return EST_TRACE_UNKNOWN;
}

int cmd_convert(int argc, char **argv)
{
    struct cli_parser p;
    struct convert_opts o = {NULL, 0, 0};
    struct mdl_trace t;
    struct fm_err err = {0};
    struct stat si;
    struct stat so;
    enum est_trace_kind kind = EST_TRACE_UNKNOWN;

    mdl_trace_init(&t);
    cli_parser_init(&p, &doc, opts);
    int rc = cli_parse(&p, opts, argc, argv, take, &o);
    if (rc >= 0)
        return rc;
    if (argc - optind != 2) {
        if (argc - optind < 2)
            return cli_usage_error(doc.name, "name an input and an output file");
        return cli_usage_error(doc.name, "unexpected argument '%s'", argv[optind + 2]);
    }
    const char *in = argv[optind];
    const char *out = argv[optind + 1];
    if (strcmp(in, "-") == 0 || strcmp(out, "-") == 0)
        return cli_usage_error(doc.name, "convert reads and writes files, not standard input or "
                                         "output: name a file instead of '-'");
    if (stat(in, &si) == 0 && stat(out, &so) == 0 && si.st_dev == so.st_dev &&
        si.st_ino == so.st_ino)
        return cli_usage_error(doc.name, "'%s' is the input file: name another output", out);
    if (cli_check_output(out, 0) != CLI_EXIT_OK)
        return CLI_EXIT_RUNTIME;
    int want = out_kind(out);
    if (want < 0)
        return cli_usage_error(doc.name,
                               "'%s': convert writes pcap, not pcapng: name the output .pcap", out);
    rc = input_kind(in, &kind, &err);
    if (rc < 0) {
        fm_log_error("%s", err.msg);
        return CLI_EXIT_RUNTIME;
    }
    if (kind == EST_TRACE_UNKNOWN) {
        fm_log_error("cannot tell which way to convert: '%s' is neither a JSON packet trace "
                     "(text starting with '{' or '[') nor a pcap or pcapng capture",
                     in);
        return CLI_EXIT_RUNTIME;
    }
    if (want == (int)kind)
        return cli_usage_error(doc.name,
                               "'%s' and '%s' are both %s: convert goes between a JSON trace and "
                               "a pcap file (name the output .%s)",
                               in, out, kind == EST_TRACE_JSON ? "JSON" : "captures",
                               kind == EST_TRACE_JSON ? "pcap" : "json");
    if (kind == EST_TRACE_JSON && o.no_payload)
        return cli_usage_error(doc.name,
                               "--no-payload applies to capture input; '%s' is a JSON "
                               "trace",
                               in);
    int is_json = 0;
    /* Ctrl-C or SIGTERM: the output is written through a temporary renamed into place, so it
     * is either whole or absent; the signal is acted on between reading and writing. */
    cli_signals_install();
    rc = cli_trace_read(doc.name, in, o.flow, !o.no_payload, &t, &is_json, NULL);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (cli_stop) {
        fm_log_warn("interrupted: nothing written to '%s'", out);
        rc = CLI_EXIT_INTR;
        goto out;
    }
    int wrc =
        kind == EST_TRACE_JSON ? est_trace_to_pcap(&t, out, &err) : mdl_trace_save(out, &t, &err);
    if (wrc < 0) {
        fm_log_error("%s", err.msg);
        rc = CLI_EXIT_RUNTIME;
        goto out;
    }
    const char *to = kind == EST_TRACE_JSON ? "pcap" : "json";
    if (kind == EST_TRACE_PCAP && stat(out, &so) == 0 && so.st_size > (off_t)64 << 20)
        fm_log_warn("'%s' is %lld MiB, more than flowmimic reads back as a trace (64 MiB): "
                    "convert one flow (--flow) or without payload bytes (--no-payload)",
                    out, (long long)(so.st_size >> 20));
    if (o.json) {
        struct jw w;
        jw_init(&w, stdout);
        jw_obj_begin(&w, NULL);
        jw_str(&w, "input", in);
        jw_str(&w, "input_format", kind_name(kind));
        jw_str(&w, "output", out);
        jw_str(&w, "output_format", to);
        jw_int(&w, "packets", (long long)t.n);
        jw_obj_end(&w);
        jw_finish(&w);
    }
    fm_log_info("wrote %zu packets from '%s' to '%s' (%s)", t.n, in, out, to);
    rc = CLI_EXIT_OK;
    if (cli_stop) {
        fm_log_warn("interrupted after '%s' was written whole; it is kept", out);
        rc = CLI_EXIT_INTR;
    }
out:
    mdl_trace_fini(&t);
    return rc;
}
