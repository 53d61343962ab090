/* cli/cmd_receive.c - `flowmimic receive`: listen on UDP ports (or capture on an interface)
 * and report each stream: packets, bytes, loss, reordering, duplicates, RFC 3550 jitter,
 * one-way delay from the flowmimic probe, gaps and sizes. The summary is printed when a limit
 * is reached and on Ctrl-C, which then exits 130 like every other command interrupted. */
#include "cli/cli.h"
#include "cli/interval.h"
#include "cli/jw.h"

#include "common/err.h"
#include "common/log.h"
#include "common/num.h"
#include "common/time.h"
#include "transceiver/receiver.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    OPT_BIND = 256,
    OPT_IDLE,
    OPT_RTP_CLOCK,
    OPT_SNAPLEN,
    OPT_JSON,
    OPT_READ,
    OPT_INTERVAL,
};

static const struct cli_opt opts[] = {
    {"port", 'p', required_argument, "PORT",
     "a UDP port to receive on; repeatable (or as arguments)"},
    {"iface", 'i', required_argument, "IF",
     "capture on interface IF with libpcap instead of opening\nsockets (inbound UDP to PORTs, or "
     "all UDP without ports)"},
    {"bind", OPT_BIND, required_argument, "ADDR",
     "socket address to bind (default: any, IPv6 and IPv4)"},
    {"duration", 'd', required_argument, "S", "stop after S seconds"},
    {"count", 'c', required_argument, "N", "stop after N packets"},
    {"idle", OPT_IDLE, required_argument, "S",
     "stop S seconds after the last packet, once one came"},
    {"write", 'w', required_argument, "FILE", "write the received packets to a pcap file"},
    {"rtp-clock", OPT_RTP_CLOCK, required_argument, "HZ",
     "RTP clock rate for jitter (default: from the payload type,\n90000 for dynamic types)"},
    {"snaplen", OPT_SNAPLEN, required_argument, "N",
     "bytes kept per packet in the pcap file (default 65535)"},
    {"interval", OPT_INTERVAL, required_argument, "SECONDS",
     "a report line every SECONDS (packets, Mbit/s, lost, the\nworst stream's jitter), as "
     "iperf3 -i; with --json, the same\nin \"intervals\""},
    {"json", OPT_JSON, no_argument, NULL, "print the summary as JSON"},
    {"read", OPT_READ, required_argument, "FILE",
     "report on a capture file instead (packets to PORTs, or all\nUDP): the same statistics, "
     "to set beside what was received"},
    {"help", 'h', no_argument, NULL, "show this help"},
    {NULL, 0, 0, NULL, NULL},
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
    default:
        return fm_err_set(err, FM_EINVAL, "unhandled option");
    }
}

/* "192.0.2.1" or "2001:db8::1". */
static void fmt_ip(uint8_t ipv, const uint8_t *ip, char *buf, size_t size)
{
    if (!inet_ntop(ipv == 6 ? AF_INET6 : AF_INET, ip, buf, (socklen_t)size))
        snprintf(buf, size, "?");
}

/* "192.0.2.1:5004" or "[2001:db8::1]:5004". */
static void fmt_endpoint(uint8_t ipv, const uint8_t *ip, uint16_t port, char *buf, size_t size)
{
    char a[INET6_ADDRSTRLEN];
    fmt_ip(ipv, ip, a, sizeof(a));
    snprintf(buf, size, ipv == 6 ? "[%s]:%u" : "%s:%u", a, (unsigned)port);
}

static double ms(double ns)
{
    return ns / 1e6;
}

/* A number in a fixed-width column, or "-" when it is not known. */
static void col(char *buf, size_t size, int width, int prec, double v)
{
    if (isfinite(v))
        snprintf(buf, size, "%*.*f", width, prec, v);
    else
        snprintf(buf, size, "%*s", width, "-");
}

static double loss_pct(const struct trx_stream_stats *s)
{
    return s->rtp && s->expected ? 100.0 * (double)s->lost / (double)s->expected : (double)NAN;
}

void cli_receive_table(struct trx_rstats *rs)
{
    size_t n = trx_rstats_count(rs);
    printf("%3s %-28s %5s %-10s %3s %9s %11s %7s %6s %6s %5s %9s %9s\n", "#", "source", "dport",
           "ssrc", "pt", "packets", "bytes", "lost", "loss%", "reord", "dup", "jitter_ms",
           "owd_ms");
    for (size_t i = 0; i < n; i++) {
        struct trx_stream_stats s;
        trx_rstats_stream(rs, i, &s);
        char src[64];
        char ssrc[16];
        char pt[8];
        char lost[24];
        char loss[16];
        char reord[24];
        char dup[24];
        char jit[16];
        char owd[16];
        fmt_endpoint(s.ip_version, s.src, s.sport, src, sizeof(src));
        if (s.rtp) {
            snprintf(ssrc, sizeof(ssrc), "0x%08x", (unsigned)s.ssrc);
            snprintf(pt, sizeof(pt), "%u", (unsigned)s.rtp_pt);
            snprintf(lost, sizeof(lost), "%7llu", (unsigned long long)s.lost);
            snprintf(reord, sizeof(reord), "%6llu", (unsigned long long)s.reordered);
            snprintf(dup, sizeof(dup), "%5llu", (unsigned long long)s.duplicates);
        } else {
            snprintf(ssrc, sizeof(ssrc), "-");
            snprintf(pt, sizeof(pt), "-");
            snprintf(lost, sizeof(lost), "%7s", "-");
            snprintf(reord, sizeof(reord), "%6s", "-");
            snprintf(dup, sizeof(dup), "%5s", "-");
        }
        col(loss, sizeof(loss), 6, 2, loss_pct(&s));
        /* Video frames span packets that share a timestamp; the probe's jitter, when there
         * is one, measures the network alone, so the table shows that one. */
        col(jit, sizeof(jit), 9, 3, s.probes > 1 ? s.probe_jitter_ms : s.jitter_ms);
        col(owd, sizeof(owd), 9, 3, ms(s.owd_mean_ns));
        printf("%3zu %-28s %5u %-10s %3s %9llu %11llu %s %s %s %s %s %s\n", i, src,
               (unsigned)s.dport, ssrc, pt, (unsigned long long)s.packets,
               (unsigned long long)s.bytes, lost, loss, reord, dup, jit, owd);
    }
    if (n == 0)
        return;
    printf("\n%3s %10s %10s %10s %10s %8s %7s %7s %7s %7s %10s\n", "#", "gap_p50_ms", "gap_p90_ms",
           "gap_p99_ms", "gap_max_ms", "len_mean", "len_p50", "len_p90", "len_p99", "len_max",
           "duration_s");
    for (size_t i = 0; i < n; i++) {
        struct trx_stream_stats s;
        trx_rstats_stream(rs, i, &s);
        /* One packet has no gap: dashes rather than zeros that look measured. */
        int gaps = s.packets > 1;
        char g[4][16];
        col(g[0], sizeof(g[0]), 10, 3, gaps ? ms((double)s.iat_p50_ns) : (double)NAN);
        col(g[1], sizeof(g[1]), 10, 3, gaps ? ms((double)s.iat_p90_ns) : (double)NAN);
        col(g[2], sizeof(g[2]), 10, 3, gaps ? ms((double)s.iat_p99_ns) : (double)NAN);
        col(g[3], sizeof(g[3]), 10, 3, gaps ? ms((double)s.iat_max_ns) : (double)NAN);
        printf("%3zu %s %s %s %s %8.1f %7u %7u %7u %7u %10.3f\n", i, g[0], g[1], g[2], g[3],
               s.len_mean, (unsigned)s.len_p50, (unsigned)s.len_p90, (unsigned)s.len_p99,
               (unsigned)s.len_max, (double)(s.last_ns - s.first_ns) / 1e9);
    }
}

static void json_stream(struct jw *w, size_t i, const struct trx_stream_stats *s)
{
    char ip[INET6_ADDRSTRLEN];
    jw_obj_begin(w, NULL);
    jw_int(w, "index", (long long)i);
    fmt_ip(s->ip_version, s->src, ip, sizeof(ip));
    jw_str(w, "src", ip);
    jw_int(w, "sport", s->sport);
    fmt_ip(s->ip_version, s->dst, ip, sizeof(ip));
    jw_str(w, "dst", ip);
    jw_int(w, "dport", s->dport);
    jw_int(w, "rtp", s->rtp);
    if (s->rtp) {
        jw_int(w, "ssrc", (long long)s->ssrc);
        jw_int(w, "payload_type", s->rtp_pt);
        jw_int(w, "clock_rate_hz", (long long)s->clock_rate_hz);
    } else {
        jw_null(w, "ssrc");
        jw_null(w, "payload_type");
        jw_null(w, "clock_rate_hz");
    }
    jw_int(w, "packets", (long long)s->packets);
    jw_int(w, "bytes", (long long)s->bytes);
    if (s->rtp) {
        jw_int(w, "expected", (long long)s->expected);
        jw_int(w, "lost", (long long)s->lost);
        jw_num(w, "loss_ratio", s->expected ? (double)s->lost / (double)s->expected : 0.0);
        jw_int(w, "reordered", (long long)s->reordered);
        jw_int(w, "duplicates", (long long)s->duplicates);
        jw_int(w, "stray", (long long)s->stray);
        jw_int(w, "restarts", (long long)s->restarts);
    } else {
        jw_null(w, "expected");
        jw_null(w, "lost");
        jw_null(w, "loss_ratio");
        jw_null(w, "reordered");
        jw_null(w, "duplicates");
        jw_null(w, "stray");
        jw_null(w, "restarts");
    }
    jw_num(w, "jitter_ms", s->jitter_ms);
    jw_int(w, "probes", (long long)s->probes);
    jw_num(w, "probe_jitter_ms", s->probe_jitter_ms);
    if (s->probes) {
        jw_obj_begin(w, "owd_ms");
        jw_num(w, "min", ms((double)s->owd_min_ns));
        jw_num(w, "mean", ms(s->owd_mean_ns));
        jw_num(w, "max", ms((double)s->owd_max_ns));
        jw_obj_end(w);
    } else {
        jw_null(w, "owd_ms");
    }
    if (s->packets > 1) {
        jw_obj_begin(w, "gap_ms");
        jw_num(w, "p50", ms((double)s->iat_p50_ns));
        jw_num(w, "p90", ms((double)s->iat_p90_ns));
        jw_num(w, "p99", ms((double)s->iat_p99_ns));
        jw_num(w, "max", ms((double)s->iat_max_ns));
        jw_num(w, "mean", ms(s->iat_mean_ns));
        jw_obj_end(w);
    } else {
        jw_null(w, "gap_ms");
    }
    jw_obj_begin(w, "payload_bytes");
    jw_int(w, "min", s->len_min);
    jw_num(w, "mean", s->len_mean);
    jw_int(w, "p50", s->len_p50);
    jw_int(w, "p90", s->len_p90);
    jw_int(w, "p99", s->len_p99);
    jw_int(w, "max", s->len_max);
    jw_obj_end(w);
    jw_int(w, "first_arrival_ns", (long long)s->first_ns);
    jw_int(w, "last_arrival_ns", (long long)s->last_ns);
    jw_num(w, "duration_s", (double)(s->last_ns - s->first_ns) / 1e9);
    jw_obj_end(w);
}

void cli_receive_json(struct jw *w,
                      const char *key,
                      struct trx_rstats *rs,
                      const struct trx_recv_info *info,
                      int interrupted,
                      const struct cli_interval *iv)
{
    struct trx_rstats_totals t;
    trx_rstats_totals(rs, &t);
    jw_obj_begin(w, key);
    jw_str(w, "mode", info->pcap_mode ? "pcap" : "socket");
    jw_int(w, "interrupted", interrupted);
    jw_num(w, "elapsed_s", (double)info->elapsed_ns / 1e9);
    jw_int(w, "packets", (long long)t.packets);
    jw_int(w, "bytes", (long long)t.bytes);
    jw_int(w, "lost", (long long)t.lost);
    jw_int(w, "kernel_drops", (long long)info->kernel_drops);
    jw_int(w, "rtcp", (long long)t.rtcp);
    jw_int(w, "skipped", (long long)info->skipped);
    jw_int(w, "truncated", (long long)info->truncated);
    jw_int(w, "over_stream_cap", (long long)t.over_cap);
    jw_int(w, "written", (long long)info->written);
    jw_arr_begin(w, "streams");
    size_t n = trx_rstats_count(rs);
    for (size_t i = 0; i < n; i++) {
        struct trx_stream_stats s;
        trx_rstats_stream(rs, i, &s);
        json_stream(w, i, &s);
    }
    jw_arr_end(w);
    if (iv)
        cli_interval_json(iv, w);
    jw_obj_end(w);
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
void cli_receive_notes(struct trx_rstats *rs, const struct trx_recv_info *info)
{
    struct trx_rstats_totals t;
    trx_rstats_totals(rs, &t);
    if (t.packets == 0)
        fm_log_warn("no packets received");
    if (info->kernel_drops)
        fm_log_warn("the kernel dropped %llu packets before they were read (receive buffer "
                    "full)",
                    (unsigned long long)info->kernel_drops);
    if (info->truncated)
        fm_log_warn("%llu datagrams were longer than the receive buffer and were truncated",
                    (unsigned long long)info->truncated);
    if (t.over_cap)
        fm_log_warn("%llu packets belonged to streams beyond the first %d and were not counted",
                    (unsigned long long)t.over_cap, TRX_RSTATS_MAX_STREAMS);
    if (info->no_kernel_ts)
        fm_log_info("%llu packets had no kernel timestamp; their arrival is the read time",
                    (unsigned long long)info->no_kernel_ts);
    if (info->skipped)
        fm_log_info("%llu captured frames were not whole UDP datagrams and were skipped",
                    (unsigned long long)info->skipped);
    for (size_t i = 0; i < trx_rstats_count(rs); i++) {
        struct trx_stream_stats s;
        trx_rstats_stream(rs, i, &s);
        /* A delay beyond a minute, or negative beyond a millisecond, is not the network:
         * the sender's clock is not ours. */
        if (s.probes && (fabs(s.owd_mean_ns) > 60e9 || s.owd_min_ns < -1000000)) {
            fm_log_warn("stream %zu: one-way delay %.3f s is not plausible: the sender's clock "
                        "does not agree with this host's",
                        i, s.owd_mean_ns / 1e9);
        }
        if (s.restarts)
            fm_log_warn("stream %zu: the sequence numbers started again %llu time%s (a sender "
                        "restart, RFC 3550 A.1); loss is counted within each run",
                        i, (unsigned long long)s.restarts, s.restarts == 1 ? "" : "s");
        if (s.stray)
            fm_log_info("stream %zu: %llu packets fit nowhere in the sequence (a jump the next "
                        "packet did not confirm)",
                        i, (unsigned long long)s.stray);
    }
}

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
    int shown;
    int tty;
    int64_t start_ns; /* CLOCK_MONOTONIC when the run began */
    struct trx_receiver *r;
    struct cli_interval iv;
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
    struct trx_rstats *rs = trx_receiver_stats(c->r);
    it->jitter_ms = 0;
    for (size_t i = 0; i < trx_rstats_count(rs); i++) {
        struct trx_stream_stats s;
        trx_rstats_stream(rs, i, &s);
        if (s.rtp && isfinite(s.jitter_ms) && s.jitter_ms > it->jitter_ms)
            it->jitter_ms = s.jitter_ms;
    }
}

static void on_status(const struct trx_rstats_totals *t, void *arg)
{
    struct status_ctx *c = arg;
    if (c->iv.every_ns) {
        struct cli_interval_totals it;
        interval_totals(c, t, &it);
        if (c->shown && c->iv.text) /* the line goes above the status line */
            fprintf(stderr, "\r\033[K");
        cli_interval_tick(&c->iv, &it);
    }
    if (!c->tty)
        return;
    double mbps = (double)(t->bytes - c->last_bytes) * 8.0 / 1e6;
    c->last_bytes = t->bytes;
    fprintf(stderr, "\r%zu stream%s, %llu packets, %.3f Mbit/s, %llu lost\033[K", t->streams,
            t->streams == 1 ? "" : "s", (unsigned long long)t->packets, mbps,
            (unsigned long long)t->lost);
    fflush(stderr);
    c->shown = 1;
}

static int run(const struct receive_opts *o)
{
    struct trx_receiver *r = NULL;
    struct fm_err err = {0};
    struct status_ctx sc;
    struct trx_recv_info info;
    int rc = CLI_EXIT_RUNTIME;
    memset(&sc, 0, sizeof(sc));
    cli_interval_init(&sc.iv, o->interval_ns, o->json ? NULL : stdout, o->json);

    /* Before a socket is bound or a packet received: an output that cannot be written
     * must not end a long run with nothing. */
    if (o->rx.write_path && cli_check_output(o->rx.write_path, 0) != CLI_EXIT_OK)
        return CLI_EXIT_RUNTIME;
    cli_signals_install();
    if (trx_receiver_new(&o->rx, &r, &err) < 0) {
        fm_log_error("%s", err.msg);
        goto out;
    }
    if (o->rx.iface) {
        fm_log_info("capturing on %s", o->rx.iface);
    } else {
        for (size_t i = 0; i < o->rx.nports; i++)
            fm_log_info("listening on UDP port %u", (unsigned)trx_receiver_port(r, i));
    }
    sc.tty = isatty(STDERR_FILENO) && fm_log_get_level() >= FM_LOG_WARN;
    sc.r = r;
    sc.start_ns = fm_time_mono_ns();
    int run_rc =
        trx_receiver_run(r, sc.tty || sc.iv.every_ns ? on_status : NULL, &sc, &cli_stop, &err);
    if (sc.shown)
        fprintf(stderr, "\r\033[K");
    if (sc.iv.every_ns) {
        struct trx_rstats_totals tot;
        struct cli_interval_totals it;
        trx_rstats_totals(trx_receiver_stats(r), &tot);
        interval_totals(&sc, &tot, &it);
        cli_interval_finish(&sc.iv, &it);
    }
    trx_receiver_info(r, &info);
    struct trx_rstats *rs = trx_receiver_stats(r);
    /* The summary comes first, even after an error or Ctrl-C: it is what was received. */
    int interrupted = run_rc == FM_EINTR || cli_stop;
    if (o->json) {
        print_json(rs, &info, interrupted, &sc.iv);
    } else {
        cli_receive_table(rs);
        print_loss_line(rs, &info);
    }
    fflush(stdout);
    cli_receive_notes(rs, &info);
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
    cli_interval_fini(&sc.iv);
    trx_receiver_free(r);
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
