/* cli/cmd_convert.c - `flowmimic convert`: JSON packet traces to pcap and captures to JSON,
 * by trace/input.h's trc_convert(). Also holds cli_trace_input(), which `validate` shares:
 * the messages for reading a trace or a capture. */
#include "cli/cli.h"
#include "cli/jw.h"

#include "common/err.h"
#include "common/log.h"
#include "estimator/select.h"
#include "trace/input.h"

#include <string.h>
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

int cli_trace_input(const char *cmd,
                    const struct trc_input *in,
                    const struct trc_input_result *res,
                    int rc,
                    const struct fm_err *err)
{
    const char *path = in->path;
    if (!res->read) {
        if (res->bad == TRC_BAD_FLOW_JSON)
            return cli_usage_error(cmd, "--flow applies to capture input; '%s' is a JSON trace",
                                   path);
        if (res->bad == TRC_BAD_FLOW_SPEC)
            return cli_usage_error(cmd, "--flow: %s", err->msg);
        fm_log_error("%s", err->msg);
        return rc == FM_EINTR ? CLI_EXIT_INTR : CLI_EXIT_RUNTIME;
    }
    if (res->kind != TRC_KIND_PCAP)
        return CLI_EXIT_OK;
    const struct trc_read_stats *st = &res->stats;
    uint64_t bad = st->status[PKT_DEC_TRUNCATED] + st->status[PKT_DEC_MALFORMED] +
                   st->status[PKT_DEC_FRAGMENT];
    if (bad)
        fm_log_warn("'%s': %llu of %llu frames were truncated, malformed or non-first fragments "
                    "and were skipped",
                    path, (unsigned long long)bad, (unsigned long long)st->frames);
    if (st->payload_cut)
        fm_log_warn("'%s': the snap length cut the payload of %llu packets: they have "
                    "payload_length but no payload bytes",
                    path, (unsigned long long)st->payload_cut);
    fm_log_info("'%s': %llu frames: %llu UDP/TCP packets kept, %llu of other flows, %llu not "
                "IP, %llu other protocols",
                path, (unsigned long long)st->frames, (unsigned long long)st->kept,
                (unsigned long long)st->other_flows, (unsigned long long)st->status[PKT_DEC_NOT_IP],
                (unsigned long long)st->status[PKT_DEC_OTHER_L4]);
    if (st->kept == 0)
        fm_log_warn("'%s' holds no UDP or TCP packets%s (%llu frames read)", path,
                    in->flow ? " of that flow" : "", (unsigned long long)st->frames);
    return CLI_EXIT_OK;
}

int cmd_convert(int argc, char **argv)
{
    struct cli_parser p;
    struct convert_opts o = {NULL, 0, 0};
    struct trc_convert_result res;
    struct fm_err err = {0};
    struct stat si;
    struct stat so;
    enum trc_kind kind = TRC_KIND_UNKNOWN;

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
    int want = trc_kind_of_name(out);
    if (want < 0)
        return cli_usage_error(doc.name,
                               "'%s': convert writes pcap, not pcapng: name the output .pcap", out);
    if (trc_kind_sniff(in, &kind, &err) < 0) {
        fm_log_error("%s", err.msg);
        return CLI_EXIT_RUNTIME;
    }
    if (kind == TRC_KIND_UNKNOWN) {
        fm_log_error("cannot tell which way to convert: '%s' is neither a JSON packet trace "
                     "(text starting with '{' or '[') nor a pcap or pcapng capture",
                     in);
        return CLI_EXIT_RUNTIME;
    }
    if (want == (int)kind)
        return cli_usage_error(doc.name,
                               "'%s' and '%s' are both %s: convert goes between a JSON trace and "
                               "a pcap file (name the output .%s)",
                               in, out, kind == TRC_KIND_JSON ? "JSON" : "captures",
                               kind == TRC_KIND_JSON ? "pcap" : "json");
    if (kind == TRC_KIND_JSON && o.no_payload)
        return cli_usage_error(doc.name,
                               "--no-payload applies to capture input; '%s' is a JSON "
                               "trace",
                               in);
    /* Ctrl-C or SIGTERM: the output is written through a temporary renamed into place, so it
     * is either whole or absent; the signal is acted on between reading and writing. */
    cli_signals_install();
    struct trc_input ti = {in, o.flow, est_flow_select, !o.no_payload, 0, &cli_stop};
    rc = trc_convert(&ti, out, &res, &err);
    int ex = cli_trace_input(doc.name, &ti, &res.in, rc, &err);
    if (ex != CLI_EXIT_OK)
        return ex;
    if (res.interrupted) {
        fm_log_warn("%s", err.msg);
        return CLI_EXIT_INTR;
    }
    if (rc < 0) {
        fm_log_error("%s", err.msg);
        return CLI_EXIT_RUNTIME;
    }
    const char *to = trc_kind_name(kind == TRC_KIND_JSON ? TRC_KIND_PCAP : TRC_KIND_JSON);
    if (kind == TRC_KIND_PCAP && stat(out, &so) == 0 && so.st_size > (off_t)64 << 20)
        fm_log_warn("'%s' is %lld MiB, more than flowmimic reads back as a trace (64 MiB): "
                    "convert one flow (--flow) or without payload bytes (--no-payload)",
                    out, (long long)(so.st_size >> 20));
    if (o.json) {
        struct jw w;
        jw_init(&w, stdout);
        jw_obj_begin(&w, NULL);
        jw_str(&w, "input", in);
        jw_str(&w, "input_format", trc_kind_name(kind));
        jw_str(&w, "output", out);
        jw_str(&w, "output_format", to);
        jw_int(&w, "packets", (long long)res.packets);
        jw_obj_end(&w);
        jw_finish(&w);
    }
    fm_log_info("wrote %zu packets from '%s' to '%s' (%s)", res.packets, in, out, to);
    if (cli_stop) {
        fm_log_warn("interrupted after '%s' was written whole; it is kept", out);
        return CLI_EXIT_INTR;
    }
    return CLI_EXIT_OK;
}
