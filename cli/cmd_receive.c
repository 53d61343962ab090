/* cli/cmd_receive.c - `flowmimic receive`: listen on UDP ports (or capture on an interface)
 * and report each stream: packets, bytes, loss, reordering, duplicates, RFC 3550 jitter,
 * one-way delay from the flowmimic probe, gaps and sizes. The summary is printed when a limit
 * is reached and on Ctrl-C, which then exits 130 like every other command interrupted. */
#include "cli/cli.h"
#include "cli/report.h"

#include "common/err.h"
#include "common/log.h"
#include "common/num.h"
#include "common/par.h"
#include "common/time.h"
#include "transceiver/receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_BIND = 256,
    OPT_IDLE,
    OPT_RTP_CLOCK,
    OPT_SNAPLEN,
    OPT_JSON,
    OPT_READ,
    OPT_INTERVAL,
    OPT_MAX_STREAMS,
};

/* --max-streams: a stream holds up to trx_rstats_stream_mem_max() (about 400 KiB), 14-110 KiB
 * as flows go, so 65536 streams are already gigabytes; more is a typo, not a plan. */
#define MAX_STREAMS_LIMIT 65536

static const struct cli_opt opts[] = {
    {"port", 'p', required_argument, "PORT",
     "a UDP port to receive on; repeatable (or as arguments)"},
    {"iface", 'i', required_argument, "IF",
     "capture on interface IF with libpcap instead of opening\nsockets (inbound UDP to PORTs, or "
     "all UDP without ports)"},
    {"bind", OPT_BIND, required_argument, "ADDR",
     "socket address to bind (default: any, IPv6 and IPv4)"},
    {"duration", 'd', required_argument, "TIME", "stop after TIME (30s, 5m; a number is seconds)"},
    {"count", 'c', required_argument, "N", "stop after N packets"},
    {"idle", OPT_IDLE, required_argument, "TIME", "stop TIME after the last packet, once one came"},
    {"write", 'w', required_argument, "FILE", "write the received packets to a pcap file"},
    {"rtp-clock", OPT_RTP_CLOCK, required_argument, "HZ",
     "RTP clock rate for jitter of every stream (default: the\npayload type's; a dynamic type's is "
     "measured per stream from\nits timestamps and snapped to 8, 16, 48 or 90 kHz)"},
    {"snaplen", OPT_SNAPLEN, required_argument, "N",
     "bytes kept per packet in the pcap file (default 65535)"},
    {"interval", OPT_INTERVAL, required_argument, "SECONDS",
     "a report line every SECONDS (packets, Mbit/s, lost, the\nworst stream's jitter), as "
     "iperf3 -i; with --json, the same\nin \"intervals\""},
    {"max-streams", OPT_MAX_STREAMS, required_argument, "N",
     "streams to keep, 1..65536 (default 4096, as many as replay\nsends); packets of further "
     "streams are counted apart\n(over_stream_cap); under mpirun, per rank"},
    {"json", OPT_JSON, no_argument, NULL, "print the summary as JSON"},
    {"read", OPT_READ, required_argument, "FILE",
     "report on a capture file instead (packets to PORTs, or all\nUDP): the same statistics, "
     "to set beside what was received"},
    CLI_OPT_HELP_END,
};

static const struct cli_cmd_doc doc = {
    "receive",
    "[OPTIONS] [PORT...]",
    "Receive UDP flows and report loss, jitter, delay, gaps and sizes per stream.",
    "A stream is one source address and port, destination port and, for RTP, SSRC.\n"
    "Loss, reordering and duplicates come from the RTP sequence number; jitter is RFC 3550's\n"
    "estimator on RTP timestamps (jitter_ms) and on the send times of flowmimic's probe\n"
    "(probe_jitter_ms, which needs no clock-rate guess). One-way delay is arrival minus the\n"
    "probe's send time: meaningful only when both hosts' clocks agree (same host, or NTP/PTP).\n"
    "Sockets are timestamped by the kernel (SO_TIMESTAMPNS). --write keeps the datagrams in a\n"
    "pcap file: with sockets as raw IP packets whose IP and UDP headers are rebuilt from the\n"
    "socket addresses (TTL, DSCP and IP options are not known), with --iface as captured.\n"
    "Ends at --duration, --count or --idle, or on Ctrl-C (summary, then exit 130).\n"
    "\nSequence numbers are extended past their 16-bit wrap as RFC 3550 A.1 does: a jump of\n"
    "3000 or more is confirmed by the next packet, then read as a burst of loss or a sender\n"
    "that restarted (the count starts again); the probe's 32-bit sequence decides exactly,\n"
    "without it the time the jump took at the stream's rate does (wraps included).\n"
    "\nTable columns: lost and loss% against the sequence numbers expected, reord (arrived\n"
    "after a higher number), dup, jitter and one-way delay in ms; then gaps between arrivals\n"
    "(percentiles, ms) and UDP payload lengths (bytes). Percentiles come from histograms of\n"
    "fixed size (memory per stream does not grow with packets): gaps within 0.1% of the\n"
    "exact nearest-rank value, lengths exact up to 2047 bytes and within 0.05% above; min,\n"
    "max and means are exact. The line under the table puts the packets the kernel dropped\n"
    "(receive buffer full) beside the loss the sequence numbers show.\n"
    "\nExamples:\n"
    "  flowmimic receive 5004\n"
    "  flowmimic receive --duration 30 --json -w got.pcap 5004 5006\n"
    "  flowmimic receive --iface eth1 --count 10000 --port 5004\n",
};

struct receive_opts {
    struct trx_recv_opts rx;
    int json;
    const char *read_path;
    int64_t interval_ns;
};

static int add_port(struct receive_opts *o, const char *arg, struct fm_err *err)
{
    long v = 0;
    if (fm_parse_long(arg, 1, 65535, "port", &v, err) < 0)
        return FM_EINVAL;
    for (size_t i = 0; i < o->rx.nports; i++) {
        if (o->rx.ports[i] == (uint16_t)v)
            return FM_OK;
    }
    if (o->rx.nports >= TRX_RECV_MAX_PORTS)
        return fm_err_set(err, FM_EINVAL, "too many ports (at most %d)", TRX_RECV_MAX_PORTS);
    o->rx.ports[o->rx.nports++] = (uint16_t)v;
    return FM_OK;
}

/* Parse one option into o; returns FM_OK or FM_EINVAL with the message in err. */
static int take_opt(void *self, int c, const char *arg, struct fm_err *err)
{
    struct receive_opts *o = self;
    long v = 0;
    switch (c) {
    case 'p':
        return add_port(o, arg, err);
    case 'i':
        o->rx.iface = arg;
        return FM_OK;
    case OPT_BIND:
        o->rx.bind_addr = arg;
        return FM_OK;
    case 'd':
        return cli_parse_seconds_ns(arg, "--duration", &o->rx.duration_ns, err);
    case 'c':
        return cli_parse_count(arg, "--count", &o->rx.count, err);
    case OPT_IDLE:
        return cli_parse_seconds_ns(arg, "--idle", &o->rx.idle_ns, err);
    case 'w':
        o->rx.write_path = arg;
        return FM_OK;
    case OPT_RTP_CLOCK:
        if (fm_parse_long(arg, 1000, 10000000, "--rtp-clock", &v, err) < 0)
            return FM_EINVAL;
        o->rx.stats.clock_rate_hz = (uint32_t)v;
        return FM_OK;
    case OPT_SNAPLEN:
        return cli_parse_int(arg, 64, 262144, "--snaplen", &o->rx.snaplen, err);
    case OPT_READ:
        o->read_path = arg;
        return FM_OK;
    case OPT_JSON:
        o->json = 1;
        return FM_OK;
    case OPT_INTERVAL:
        return cli_interval_parse(arg, "--interval", &o->interval_ns, err);
    case OPT_MAX_STREAMS:
        if (fm_parse_long(arg, 1, MAX_STREAMS_LIMIT, "--max-streams", &v, err) < 0)
            return FM_EINVAL;
        o->rx.stats.max_streams = (size_t)v;
        return FM_OK;
    default:
        return fm_err_set(err, FM_EINVAL, "unhandled option");
    }
}

static void print_json(struct trx_rstats *rs,
                       const struct trx_recv_info *info,
                       int interrupted,
                       const struct cli_interval *iv)
{
    struct jw w;
    jw_init(&w, stdout);
    cli_receive_json(&w, NULL, rs, info, interrupted, iv);
    jw_finish(&w);
}

/* Notes that belong on stderr: what the numbers cannot show by themselves. */
/* Loss as the sequence numbers show it beside what the kernel dropped before we read: the
 * two differ when the network lost packets (only the first) or the receiver fell behind
 * (both; the first may miss what a restart or wrap hides). */
static void print_loss_line(struct trx_rstats *rs, const struct trx_recv_info *info)
{
    struct trx_rstats_totals t;
    trx_rstats_totals(rs, &t);
    if (t.streams == 0)
        return;
    printf("\ntotal: %llu packets, %llu lost by RTP sequence, %llu dropped by the kernel\n",
           (unsigned long long)t.packets, (unsigned long long)t.lost,
           (unsigned long long)info->kernel_drops);
}

struct status_ctx {
    uint64_t last_bytes;
    int64_t start_ns; /* CLOCK_MONOTONIC when the run began */
    struct trx_receiver *r;
    struct cli_status st;
};

static void interval_totals(struct status_ctx *c,
                            const struct trx_rstats_totals *t,
                            struct cli_interval_totals *it)
{
    memset(it, 0, sizeof(*it));
    it->elapsed_ns = fm_time_mono_ns() - c->start_ns;
    it->packets = t->packets;
    it->bytes = t->bytes;
    it->has_loss = 1;
    it->lost = t->lost;
    /* The worst stream's RFC 3550 jitter now. */
    it->jitter_ms = trx_rstats_jitter_worst_ms(trx_receiver_stats(c->r));
}

static void on_status(const struct trx_rstats_totals *t, void *arg)
{
    struct status_ctx *c = arg;
    if (c->st.iv.every_ns) {
        struct cli_interval_totals it;
        interval_totals(c, t, &it);
        cli_status_tick(&c->st, &it);
    }
    if (!c->st.tty)
        return;
    double mbps = (double)(t->bytes - c->last_bytes) * 8.0 / 1e6;
    c->last_bytes = t->bytes;
    cli_status_show(&c->st, "%zu stream%s, %llu packets, %.3f Mbit/s, %llu lost\033[K", t->streams,
                    t->streams == 1 ? "" : "s", (unsigned long long)t->packets, mbps,
                    (unsigned long long)t->lost);
}

static int run(const struct receive_opts *o)
{
    struct trx_receiver *r = NULL;
    struct fm_err err = {0};
    struct status_ctx sc;
    struct trx_recv_info info;
    int rc = CLI_EXIT_RUNTIME;
    memset(&sc, 0, sizeof(sc));
    cli_status_init(&sc.st, o->interval_ns, o->json);

    /* Under mpirun every rank receives what is addressed to it (its host or namespace), and
     * rank 0 reports them all; every rank says whether it could start, so none waits alone. */
    if (fm_par_init(&err) < 0) {
        fm_log_error("%s", err.msg);
        goto out;
    }
    /* Before a socket is bound or a packet received: an output that cannot be written
     * must not end a long run with nothing. */
    int ok = !o->rx.write_path || cli_check_output(o->rx.write_path, 0) == CLI_EXIT_OK;
    if (ok && o->interval_ns && fm_par_size() > 1) {
        ok = 0;
        rc = cli_usage_error(doc.name, "--interval reports one rank's streams: not under mpirun");
    }
    cli_signals_install();
    if (ok && trx_receiver_new(&o->rx, &r, &err) < 0) {
        fm_log_error("%s", err.msg);
        ok = 0;
    }
    if (!fm_par_all_ok(ok)) {
        if (ok)
            fm_log_error("another MPI rank could not start receiving (its error is on its "
                         "stderr)");
        goto out;
    }
    if (o->rx.iface) {
        fm_log_info("capturing on %s", o->rx.iface);
    } else {
        for (size_t i = 0; i < o->rx.nports; i++)
            fm_log_info("listening on UDP port %u", (unsigned)trx_receiver_port(r, i));
    }
    sc.r = r;
    sc.start_ns = fm_time_mono_ns();
    int run_rc = trx_receiver_run(r, sc.st.tty || sc.st.iv.every_ns ? on_status : NULL, &sc,
                                  &cli_stop, &err);
    struct trx_rstats_totals tot;
    struct cli_interval_totals it;
    trx_rstats_totals(trx_receiver_stats(r), &tot);
    interval_totals(&sc, &tot, &it);
    cli_status_end(&sc.st, &it);
    trx_receiver_info(r, &info);
    struct trx_rstats *rs = trx_receiver_stats(r);
    /* The summary comes first, even after an error or Ctrl-C: it is what was received. */
    int interrupted = run_rc == FM_EINTR || cli_stop;
    int merged = fm_par_size() > 1 ? cli_receive_ranks(o->json, rs, &info, interrupted) : -1;
    if (merged >= 0) {
        /* rank 0 printed every rank's streams; the others print nothing */
    } else if (o->json) {
        print_json(rs, &info, interrupted, &sc.st.iv);
    } else {
        cli_receive_table(rs);
        print_loss_line(rs, &info);
    }
    fflush(stdout);
    cli_receive_notes(rs, &info, "--max-streams");
    if (run_rc < 0 && run_rc != FM_EINTR) {
        fm_log_error("%s", err.msg);
        goto out;
    }
    if (interrupted) {
        fm_log_warn("interrupted after %.1f s", (double)info.elapsed_ns / 1e9);
        rc = CLI_EXIT_INTR;
        goto out;
    }
    rc = CLI_EXIT_OK;
out:
    cli_interval_fini(&sc.st.iv);
    trx_receiver_free(r);
    fm_par_fini();
    return rc;
}

/* --read: the statistics of a capture file, printed like a receiver's. */
static int run_read(const struct receive_opts *o)
{
    struct fm_err err = {0};
    struct trx_recv_info info;
    struct trx_rstats *rs = trx_rstats_new(&o->rx.stats);
    if (!rs) {
        fm_log_error("out of memory");
        return CLI_EXIT_RUNTIME;
    }
    int rc = trx_rstats_read_pcap(rs, o->read_path, o->rx.ports, o->rx.nports, &err);
    if (rc < 0) {
        fm_log_error("%s", err.msg);
        trx_rstats_free(rs);
        return CLI_EXIT_RUNTIME;
    }
    struct trx_rstats_totals t;
    trx_rstats_totals(rs, &t);
    if (t.packets == 0)
        fm_log_warn("no UDP packets%s in '%s'", o->rx.nports ? " to the ports given" : "",
                    o->read_path);
    memset(&info, 0, sizeof(info));
    info.pcap_mode = 1;
    info.elapsed_ns = t.last_ns - t.first_ns;
    if (o->json)
        print_json(rs, &info, 0, NULL);
    else
        cli_receive_table(rs);
    fflush(stdout);
    /* A capture's streams have the same conditions to note as received ones ("no packets"
     * was said above, naming the file). */
    if (t.packets > 0)
        cli_receive_notes(rs, &info, "--max-streams");
    trx_rstats_free(rs);
    return CLI_EXIT_OK;
}

int cmd_receive(int argc, char **argv)
{
    struct cli_parser p;
    struct fm_err err = {0};
    struct receive_opts o;
    memset(&o, 0, sizeof(o));
    trx_recv_opts_init(&o.rx);
    cli_parser_init(&p, &doc, opts);
    int st = cli_parse(&p, opts, argc, argv, take_opt, &o);
    if (st >= 0)
        return st;
    for (int i = optind; i < argc; i++) {
        if (add_port(&o, argv[i], &err) < 0)
            return cli_usage_error(doc.name, "%s", err.msg);
    }
    if (o.read_path) {
        if (o.rx.iface || o.rx.bind_addr || o.rx.write_path)
            return cli_usage_error(doc.name, "--read reports on a file: no --iface, --bind or "
                                             "--write with it");
        return run_read(&o);
    }
    if (!o.rx.iface && o.rx.nports == 0)
        return cli_usage_error(doc.name, "name a UDP port to receive on (or --iface)");
    if (o.rx.iface && o.rx.bind_addr)
        return cli_usage_error(doc.name, "--bind is for sockets, --iface captures: not both");
    return run(&o);
}
