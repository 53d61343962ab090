/* cli/cmd_capture.c - `flowmimic capture`: live capture on an interface into a pcap file.
 * The filter is built from --host and --port (UDP to or from them) or given whole with
 * --filter or, as tcpdump takes it, as the arguments after the options. Packets reach the file as
 * they come; Ctrl-C, SIGTERM, --count, --duration or a full disk all leave a valid capture of
 * everything counted. The summary goes to stderr (the capture itself may be on stdout with -w -),
 * or to stdout as JSON with --json. */
#include "cli/cli.h"
#include "cli/jw.h"

#include "common/err.h"
#include "common/log.h"
#include "common/num.h"
#include "estimator/capture.h"

#include <string.h>
#include <unistd.h>

enum {
    OPT_HOST = 256,
    OPT_PORT,
    OPT_FILTER,
    OPT_SNAPLEN,
    OPT_BUFFER,
    OPT_NO_PROMISC,
    OPT_JSON,
};

static const struct cli_opt opts[] = {
    {"iface", 'i', required_argument, "IF", "the interface to capture on (`ip link` lists them)"},
    {"write", 'w', required_argument, "FILE", "the pcap file to write (- for standard output)"},
    {"read", 'r', required_argument, "FILE",
     "read a capture file instead of an interface, as tcpdump\n-r: its packets that pass the "
     "filter "
     "go to -w"},
    {"host", OPT_HOST, required_argument, "IP", "only UDP to or from this address"},
    {"port", OPT_PORT, required_argument, "N", "only UDP to or from this port"},
    {"filter", OPT_FILTER, required_argument, "EXPR",
     "a whole BPF filter instead (pcap-filter(7)), e.g.\n'udp and net 198.18.0.0/15'"},
    {"count", 'c', required_argument, "N", "stop after N packets"},
    {"duration", 'd', required_argument, "TIME", "stop after TIME (30s, 5m; a number is seconds)"},
    {"snaplen", OPT_SNAPLEN, required_argument, "N", "bytes kept per packet (default 262144)"},
    {"buffer-size", OPT_BUFFER, required_argument, "MIB",
     "kernel capture buffer in MiB (default 32); raise it\nwhen the summary reports drops"},
    {"no-promisc", OPT_NO_PROMISC, no_argument, NULL,
     "only traffic to and from this host, not the whole LAN"},
    {"json", OPT_JSON, no_argument, NULL, "print the summary as JSON on standard output"},
    CLI_OPT_HELP_END,
};

static const struct cli_cmd_doc doc = {
    "capture",
    "[OPTIONS] -i IF|-r FILE -w FILE [FILTER...]",
    "Capture live traffic on an interface into a pcap file.",
    "Without --host, --port or a filter every UDP packet is kept. A filter is a BPF\n"
    "expression (pcap-filter(7)), given with --filter or, as for tcpdump, as the arguments\n"
    "after the options. Timestamps have nanosecond resolution where the system provides it.\n"
    "Packets are written as they come: Ctrl-C, SIGTERM, --count, --duration or a full disk\n"
    "leave a valid file holding every packet counted. A status line shows on a terminal; the\n"
    "summary (packets, bytes, kernel drops) comes at the end. Capturing needs root or\n"
    "CAP_NET_RAW.\n"
    "\nExit status: 0 when the file is complete: at --count, --duration, Ctrl-C or SIGTERM\n"
    "(as tcpdump: Ctrl-C is how a capture normally ends); 1 on an error, 2 on a usage error.\n"
    "\nExamples:\n"
    "  flowmimic capture -i eth0 --host 192.0.2.10 --port 5004 -d 60 -w call.pcap\n"
    "  flowmimic capture -i eth0 --filter 'udp portrange 16384-32767' -c 100000 -w rtp.pcap\n"
    "  flowmimic capture -i eth0 -w sip.pcap udp port 5060\n"
    "  flowmimic capture -r day.pcapng -w call.pcap udp port 5004\n"
    "  flowmimic capture -i eth0 --port 5004 -w - | tshark -r - -d udp.port==5004,rtp\n",
};

struct capture_opts {
    struct est_capture_opts cap;
    const char *read_path;
    int live_only; /* an option that means something for an interface only was given */
    const char *host;
    long port;
    const char *filter;
    int json;
};

static int take_opt(void *self, int c, const char *arg, struct fm_err *err)
{
    struct capture_opts *o = self;
    long v = 0;
    switch (c) {
    case 'i':
        o->cap.iface = arg;
        return FM_OK;
    case 'w':
        o->cap.write_path = arg;
        return FM_OK;
    case 'r':
        o->read_path = arg;
        return FM_OK;
    case OPT_HOST:
        o->host = arg;
        return FM_OK;
    case OPT_PORT:
        return fm_parse_long(arg, 1, 65535, "--port", &o->port, err);
    case OPT_FILTER:
        o->filter = arg;
        return FM_OK;
    case 'c':
        return cli_parse_count(arg, "--count", &o->cap.count, err);
    case 'd':
        o->live_only = 'd';
        return cli_parse_seconds_ns(arg, "--duration", &o->cap.duration_ns, err);
    case OPT_SNAPLEN:
        return cli_parse_int(arg, 64, 262144, "--snaplen", &o->cap.snaplen, err);
    case OPT_BUFFER:
        if (fm_parse_long(arg, 1, 2047, "--buffer-size", &v, err) < 0)
            return FM_EINVAL;
        o->cap.buffer_bytes = (int)(v << 20);
        o->live_only = OPT_BUFFER;
        return FM_OK;
    case OPT_NO_PROMISC:
        o->cap.promisc = 0;
        o->live_only = OPT_NO_PROMISC;
        return FM_OK;
    case OPT_JSON:
        o->json = 1;
        return FM_OK;
    default:
        return fm_err_set(err, FM_EINVAL, "unhandled option");
    }
}

struct status_ctx {
    int shown;
};

static void on_status(const struct est_capture_stats *s, void *arg)
{
    struct status_ctx *c = arg;
    fprintf(stderr, "\r%.0f s, %llu packets, %.1f MB, %llu dropped\033[K",
            (double)s->elapsed_ns / 1e9, (unsigned long long)s->packets, (double)s->bytes / 1e6,
            (unsigned long long)s->kernel_drops + s->iface_drops);
    fflush(stderr);
    c->shown = 1;
}

static void print_json(const struct capture_opts *o,
                       const struct est_capture_stats *s,
                       const char *filter,
                       int interrupted,
                       const char *error)
{
    struct jw w;
    jw_init(&w, stdout);
    jw_obj_begin(&w, NULL);
    if (o->read_path) {
        jw_null(&w, "iface");
        jw_str(&w, "read", o->read_path);
    } else {
        jw_str(&w, "iface", o->cap.iface);
        jw_null(&w, "read");
    }
    jw_str(&w, "file", o->cap.write_path);
    jw_str(&w, "filter", filter);
    jw_int(&w, "packets", (long long)s->packets);
    jw_int(&w, "bytes", (long long)s->bytes);
    jw_int(&w, "kernel_drops", (long long)s->kernel_drops);
    jw_int(&w, "iface_drops", (long long)s->iface_drops);
    jw_num(&w, "elapsed_s", (double)s->elapsed_ns / 1e9);
    jw_int(&w, "link_type", s->link_type);
    jw_str(&w, "timestamps", s->nano ? "ns" : "us");
    jw_str(&w, "ended", error ? "error" : interrupted ? "interrupted" : "limit");
    if (error)
        jw_str(&w, "error", error);
    else
        jw_null(&w, "error");
    jw_obj_end(&w);
    jw_finish(&w);
}

/* capture -r: a file through the filter into another, as tcpdump -r IN -w OUT EXPR. */
static int run_file(struct capture_opts *o, const char *filter)
{
    struct fm_err err = {0};
    struct est_capture_stats s;
    cli_signals_install();
    o->cap.filter = filter;
    o->cap.stop = &cli_stop;
    int rc = est_capture_file(&o->cap, o->read_path, &s, &err);
    int failed = rc < 0 && rc != FM_EINTR;
    if (o->json) {
        print_json(o, &s, filter, rc == FM_EINTR, failed ? err.msg : NULL);
        fflush(stdout);
    }
    if (failed) {
        fm_log_error("%s", err.msg);
        return CLI_EXIT_RUNTIME;
    }
    if (!o->json && fm_log_get_level() >= FM_LOG_WARN) {
        char in[512];
        char out[512];
        fprintf(stderr, "wrote %llu packets (%llu bytes) of %s into %s\n",
                (unsigned long long)s.packets, (unsigned long long)s.bytes,
                fm_escape(o->read_path, in, sizeof(in)),
                strcmp(o->cap.write_path, "-") == 0
                    ? "standard output"
                    : fm_escape(o->cap.write_path, out, sizeof(out)));
    }
    return rc == FM_EINTR ? CLI_EXIT_INTR : CLI_EXIT_OK;
}

static int run(struct capture_opts *o, const char *filter)
{
    struct est_capture *c = NULL;
    struct fm_err err = {0};
    struct status_ctx sc = {0};
    struct est_capture_stats s;

    cli_signals_install();
    o->cap.filter = filter;
    o->cap.stop = &cli_stop;
    if (est_capture_open(&o->cap, &c, &err) < 0) {
        fm_log_error("%s", err.msg);
        return CLI_EXIT_RUNTIME;
    }
    fm_log_info("capturing on %s (%s) into %s", o->cap.iface, filter, o->cap.write_path);
    int tty = isatty(STDERR_FILENO) && fm_log_get_level() >= FM_LOG_WARN;
    int rc = est_capture_run(c, tty ? on_status : NULL, &sc, &err);
    if (sc.shown)
        fprintf(stderr, "\r\033[K");
    est_capture_get_stats(c, &s);
    est_capture_free(c);
    int interrupted = rc == FM_EINTR;
    int failed = rc < 0 && !interrupted;
    if (o->json) {
        print_json(o, &s, filter, interrupted, failed ? err.msg : NULL);
        fflush(stdout);
    }
    if (failed) {
        fm_log_error("%s", err.msg);
        return CLI_EXIT_RUNTIME;
    }
    if (!o->json && fm_log_get_level() >= FM_LOG_WARN) {
        char name[512];
        fprintf(
            stderr, "captured %llu packets (%llu bytes) in %.1f s into %s\n",
            (unsigned long long)s.packets, (unsigned long long)s.bytes, (double)s.elapsed_ns / 1e9,
            strcmp(o->cap.write_path, "-") == 0 ? "standard output"
                                                : fm_escape(o->cap.write_path, name, sizeof(name)));
    }
    if (s.kernel_drops + s.iface_drops)
        fm_log_warn("%llu packets were dropped before they could be read (kernel %llu, "
                    "interface %llu): raise --buffer-size or narrow the filter",
                    (unsigned long long)s.kernel_drops + s.iface_drops,
                    (unsigned long long)s.kernel_drops, (unsigned long long)s.iface_drops);
    /* Ctrl-C is the normal end of a capture, as for tcpdump: the file is complete. */
    if (interrupted)
        fm_log_info("stopped by a signal after %.1f s", (double)s.elapsed_ns / 1e9);
    return CLI_EXIT_OK;
}

int cmd_capture(int argc, char **argv)
{
    struct cli_parser p;
    struct fm_err err = {0};
    struct capture_opts o;
    char filter[512];
    memset(&o, 0, sizeof(o));
    est_capture_opts_init(&o.cap);
    cli_parser_init(&p, &doc, opts);
    int st = cli_parse(&p, opts, argc, argv, take_opt, &o);
    if (st >= 0)
        return st;
    /* The arguments after the options are a filter, joined by spaces, as tcpdump reads them. */
    char trailing[512] = "";
    for (int i = optind; i < argc; i++) {
        size_t used = strlen(trailing);
        int n =
            snprintf(trailing + used, sizeof(trailing) - used, "%s%s", used ? " " : "", argv[i]);
        if (n < 0 || (size_t)n >= sizeof(trailing) - used)
            return cli_usage_error(doc.name, "the filter is longer than %zu characters",
                                   sizeof(trailing) - 1);
    }
    if (trailing[0] && (o.filter || o.host || o.port))
        return cli_usage_error(doc.name,
                               "a filter after the options is a whole filter: not with "
                               "--filter, --host or --port ('%s')",
                               trailing);
    if (trailing[0])
        o.filter = trailing;
    if (o.read_path && o.cap.iface)
        return cli_usage_error(doc.name, "-r reads a file instead of an interface: not with -i");
    if (o.read_path && o.live_only)
        return cli_usage_error(doc.name, "%s is for an interface: not with -r",
                               o.live_only == 'd'          ? "--duration"
                               : o.live_only == OPT_BUFFER ? "--buffer-size"
                                                           : "--no-promisc");
    if (!o.cap.iface && !o.read_path)
        return cli_usage_error(doc.name,
                               "name the interface to capture on with -i IF (or a file with -r)");
    if (!o.cap.write_path)
        return cli_usage_error(doc.name, "name the output file with -w FILE (- for stdout)");
    if (o.json && strcmp(o.cap.write_path, "-") == 0)
        return cli_usage_error(doc.name, "--json prints on stdout, where -w - writes the capture");
    if (strcmp(o.cap.write_path, "-") != 0 && cli_check_output(o.cap.write_path, 0) != CLI_EXIT_OK)
        return CLI_EXIT_RUNTIME;
    if (o.filter && (o.host || o.port))
        return cli_usage_error(doc.name, "--filter is a whole filter: not with --host or --port");
    if (o.filter) {
        if (strlen(o.filter) >= sizeof(filter))
            return cli_usage_error(doc.name, "--filter: longer than %zu characters",
                                   sizeof(filter) - 1);
        snprintf(filter, sizeof(filter), "%s", o.filter);
    } else if (est_capture_filter_build(o.host, o.port, filter, sizeof(filter), &err) < 0) {
        return cli_usage_error(doc.name, "%s", err.msg);
    }
    /* A typo in the filter is a usage error, found before anything needs privileges. */
    if (est_capture_filter_check(filter, &err) < 0)
        return cli_usage_error(doc.name, "%s", err.msg);
    return o.read_path ? run_file(&o, filter) : run(&o, filter);
}
