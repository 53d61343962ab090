/* cli/cmd_replay.c - `flowmimic replay`: put a model, or a capture with its own timing, on
 * the wire through libnet, at absolute deadlines, with a live status line and a summary.
 * Every check that can fail does so before the first packet leaves: the input, the variant,
 * the permission for raw sockets, the interface, the route to the peer. --dry-run opens no
 * raw socket and sends nothing, so it needs neither root nor --iface/--peer: without them it
 * shows the packets with the addresses of the model or capture. */
#include "cli/cli.h"
#include "cli/interval.h"
#include "cli/jw.h"
#include "transceiver/source_capture.h"

#include "common/err.h"
#include "common/log.h"
#include "common/num.h"
#include "estimator/flow.h"
#include "models/json.h"
#include "models/variant.h"
#include "packet/endpoint.h"
#include "packet/sniff.h"
#include "transceiver/listener.h"
#include "transceiver/receiver.h"
#include "transceiver/route.h"
#include "transceiver/sender.h"
#include "transceiver/sink.h"
#include "transceiver/source.h"
#include "transceiver/start.h"
#include "transceiver/timer.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
    OPT_PEER = 256,
    OPT_PEER_MAC,
    OPT_SIDE,
    OPT_STREAMS,
    OPT_FLOW,
    OPT_SPEED,
    OPT_RATE_SCALE,
    OPT_MAX_RATE,
    OPT_TIMER,
    OPT_SPIN_US,
    OPT_REALTIME,
    OPT_VARIANT,
    OPT_SEED,
    OPT_SRC_PORT,
    OPT_DST_PORT,
    OPT_LISTEN,
    OPT_DRY_RUN,
    OPT_START_AT,
    OPT_JSON,
    OPT_INTERVAL,
};

static const struct cli_opt opts[] = {
    {"iface", 'i', required_argument, "IFACE", "send on this interface (required)"},
    {"peer", OPT_PEER, required_argument, "IP",
     "destination address, IPv4 or IPv6 (required); the kernel\nroutes and resolves the next "
     "hop"},
    {"peer-mac", OPT_PEER_MAC, required_argument, "MAC",
     "link-layer mode: build Ethernet frames to this MAC"},
    {"side", OPT_SIDE, required_argument, "local|remote|both",
     "the side of the model this host plays (default local);\nfor a capture with --flow, the "
     "side replayed (default both)"},
    {"streams", 's', required_argument, "N", "independent streams of the model (default 1)"},
    {"flow", OPT_FLOW, required_argument, "SPEC",
     "capture: only the flow 'udp A:PORT B:PORT' (default: all UDP)"},
    {"speed", OPT_SPEED, required_argument, "X", "capture: play X times as fast (default 1)"},
    {"count", 'c', required_argument, "N", "stop after N packets"},
    {"duration", 'd', required_argument, "SECONDS", "stop after this long"},
    {"rate-scale", OPT_RATE_SCALE, required_argument, "X",
     "model: multiply the packet rate by X (default 1)"},
    {"max-rate", OPT_MAX_RATE, required_argument, "PPS", "never send faster than PPS packets/s"},
    {"timer", OPT_TIMER, required_argument, "sleep|spin|hybrid",
     "how to wait for a deadline (default hybrid: sleep,\nthen spin over the last --spin-us)"},
    {"spin-us", OPT_SPIN_US, required_argument, "US",
     "hybrid: spin this long (default 200; 20 with --realtime)"},
    {"realtime", OPT_REALTIME, no_argument, NULL,
     "SCHED_FIFO and locked memory (root or CAP_SYS_NICE): other\ntasks cannot delay a "
     "wake-up, so a short spin suffices.\nA sender that never sleeps (gaps shorter than "
     "--spin-us)\nis throttled by the kernel for 50 ms each second\n(kernel.sched_rt_runtime_us)"},
    {"variant", OPT_VARIANT, required_argument, "FILE[:NAME]", "model: apply a variant"},
    {"seed", OPT_SEED, required_argument, "N", "model: random seed (default 1)"},
    {"src-port", OPT_SRC_PORT, required_argument, "PORT",
     "model: source port of stream 0 (stream s: PORT+s)"},
    {"dst-port", OPT_DST_PORT, required_argument, "PORT", "model: destination port"},
    {"listen", OPT_LISTEN, no_argument, NULL,
     "model: also receive the peer's side on this side's own\nport, and report both directions"},
    {"start-at", OPT_START_AT, required_argument, "TIME",
     "start sending at TIME: +SECONDS from now, or a UNIX time in\nseconds: two hosts given the "
     "same time start together\n(with synchronised clocks)"},
    {"dry-run", OPT_DRY_RUN, no_argument, NULL,
     "print the plan and the first packets, send nothing"},
    {"interval", OPT_INTERVAL, required_argument, "SECONDS",
     "a report line every SECONDS (packets, Mbit/s, late\npackets, worst lateness), as iperf3 "
     "-i; with --json,\nthe same in \"intervals\""},
    {"json", OPT_JSON, no_argument, NULL, "print the summary as JSON"},
    {"help", 'h', no_argument, NULL, "show this help"},
    {NULL, 0, 0, NULL, NULL},
};

static const struct cli_cmd_doc doc = {
    "replay",
    "[OPTIONS] --iface IFACE --peer IP MODEL.json|CAPTURE",
    "Put a model (or a capture, with its recorded timing) on the wire.",
    "The input is told apart by its content: a pcap/pcapng capture, or a JSON model.\n"
    "Each packet is sent at start + its offset in the schedule (absolute deadlines: error\n"
    "does not accumulate). A capture is anchored to its first selected packet; its source\n"
    "address becomes the interface's and its destination the peer, ports are kept.\n"
    "Raw sockets need root or CAP_NET_RAW. --dry-run needs neither, nor --iface/--peer.\n"
    "On a terminal a status line is shown once a second; a summary follows at the end and\n"
    "on Ctrl-C (exit 130). --duration bounds the clock as well as the schedule: a sender\n"
    "that falls behind stops when the time is up. When most packets go out more than\n"
    "100 us late, or the time ran out with packets still due, the rate asked for is not\n"
    "reachable on this host: the status line and summary say BEHIND SCHEDULE and replay\n"
    "exits 3.\n"
    "\nExamples:\n"
    "  flowmimic replay -i eth1 --peer 198.18.0.2 --duration 60 video.json\n"
    "  flowmimic replay -i eth1 --peer 198.18.0.2 --streams 200 --side remote video.json\n"
    "  flowmimic replay -i eth1 --peer 198.18.0.2 --flow 'udp 10.0.0.1:5004 10.0.0.2:5006' \\\n"
    "      --side local --speed 2 call.pcap\n"
    "  flowmimic replay --dry-run video.json\n",
};

#define DRY_RUN_PACKETS 10
/* The spin before a deadline with --realtime (otherwise the send loop's default, 200 us):
 * wake-ups of a normal task come up to about 100 us late on a busy machine; a SCHED_FIFO one
 * wakes within tens. */
#define RT_SPIN_NS 20000

struct replay_opts {
    const char *iface;
    int have_peer;
    uint8_t ip_version; /* of the peer */
    uint8_t peer_ip[16];
    int have_peer_mac;
    uint8_t peer_mac[6];
    int side; /* MDL_SIDE_*, TRX_SIDE_BOTH, or -2 when not given */
    long streams;
    int have_flow;
    struct pkt_flow_key flow;
    double speed;
    uint64_t count;
    double duration_s;
    double rate_scale;
    double max_rate;
    enum trx_timer_mode timer;
    double spin_us;
    int realtime;
    const char *variant;
    uint64_t seed;
    int have_seed;
    long src_port, dst_port;
    int listen;
    int have_start;     /* --start-at */
    int start_relative; /* +SECONDS */
    double start_at;    /* seconds: from now, or since the epoch */
    int dry_run;
    int json;
    int64_t interval_ns;
    /* Options that apply to one kind of input only, to refuse them for the other. */
    const char *model_only;
    const char *capture_only;
};

static int parse_mac(const char *s, uint8_t mac[6], struct fm_err *err)
{
    const char *p = s;
    for (int i = 0; i < 6; i++) {
        char *end = NULL;
        /* Exactly two hex digits per byte, colon-separated: no sign, no spaces. */
        if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
            goto bad;
        unsigned long v = strtoul(p, &end, 16);
        if (end != p + 2 || (i < 5 && *end != ':') || (i == 5 && *end != '\0'))
            goto bad;
        mac[i] = (uint8_t)v;
        p = end + 1;
    }
    return FM_OK;
bad:
    return fm_err_set(err, FM_EINVAL, "--peer-mac: expected aa:bb:cc:dd:ee:ff, got '%s'", s);
}

static int parse_side(const char *s, int *out, struct fm_err *err)
{
    if (strcmp(s, "local") == 0)
        *out = MDL_SIDE_LOCAL;
    else if (strcmp(s, "remote") == 0)
        *out = MDL_SIDE_REMOTE;
    else if (strcmp(s, "both") == 0)
        *out = TRX_SIDE_BOTH;
    else
        return fm_err_set(err, FM_EINVAL, "--side: expected local, remote or both, got '%s'", s);
    return FM_OK;
}

/* Parse one option into o; returns FM_OK or FM_EINVAL with the message in err. */
static int take_opt(void *self, int c, const char *arg, struct fm_err *err)
{
    struct replay_opts *o = self;
    switch (c) {
    case 'i':
        o->iface = arg;
        return FM_OK;
    case OPT_PEER:
        if (inet_pton(AF_INET, arg, o->peer_ip) == 1) {
            o->ip_version = 4;
        } else if (inet_pton(AF_INET6, arg, o->peer_ip) == 1) {
            o->ip_version = 6;
        } else {
            return fm_err_set(err, FM_EINVAL, "--peer: expected an IPv4 or IPv6 address, got '%s'",
                              arg);
        }
        o->have_peer = 1;
        return FM_OK;
    case OPT_PEER_MAC:
        o->have_peer_mac = 1;
        return parse_mac(arg, o->peer_mac, err);
    case OPT_SIDE:
        return parse_side(arg, &o->side, err);
    case 's':
        o->model_only = "--streams";
        return fm_parse_long(arg, 1, 100000, "--streams", &o->streams, err);
    case OPT_FLOW:
        o->capture_only = "--flow";
        o->have_flow = 1;
        return pkt_flow_spec_parse(arg, &o->flow, err);
    case OPT_SPEED:
        o->capture_only = "--speed";
        return fm_parse_double(arg, 1e-6, 1e6, "--speed", &o->speed, err);
    case 'c':
        return fm_parse_u64(arg, UINT64_MAX, "--count", &o->count, err);
    case 'd':
        return fm_parse_double(arg, 1e-6, 1e7, "--duration", &o->duration_s, err);
    case OPT_RATE_SCALE:
        o->model_only = "--rate-scale";
        return fm_parse_double(arg, 1e-6, 1e6, "--rate-scale", &o->rate_scale, err);
    case OPT_MAX_RATE:
        return fm_parse_double(arg, 1e-3, 1e9, "--max-rate", &o->max_rate, err);
    case OPT_TIMER:
        return trx_timer_mode_parse(arg, &o->timer, err);
    case OPT_SPIN_US:
        return fm_parse_double(arg, 0, 1e6, "--spin-us", &o->spin_us, err);
    case OPT_REALTIME:
        o->realtime = 1;
        return FM_OK;
    case OPT_VARIANT:
        o->model_only = "--variant";
        o->variant = arg;
        return FM_OK;
    case OPT_SEED:
        o->model_only = "--seed";
        o->have_seed = 1;
        return fm_parse_u64(arg, UINT64_MAX, "--seed", &o->seed, err);
    case OPT_SRC_PORT:
        o->model_only = "--src-port";
        return fm_parse_long(arg, 1, 65535, "--src-port", &o->src_port, err);
    case OPT_DST_PORT:
        o->model_only = "--dst-port";
        return fm_parse_long(arg, 1, 65535, "--dst-port", &o->dst_port, err);
    case OPT_LISTEN:
        o->listen = 1;
        return FM_OK;
    case OPT_DRY_RUN:
        o->dry_run = 1;
        return FM_OK;
    case OPT_START_AT:
        o->have_start = 1;
        o->start_relative = arg[0] == '+';
        if (o->start_relative)
            return fm_parse_double(arg + 1, 0, 86400, "--start-at +SECONDS", &o->start_at, err);
        /* From 2001 to 5138: a UNIX time, not a mistyped relative one. */
        return fm_parse_double(arg, 1e9, 1e11, "--start-at (UNIX seconds, or +SECONDS)",
                               &o->start_at, err);
    case OPT_JSON:
        o->json = 1;
        return FM_OK;
    case OPT_INTERVAL:
        return cli_interval_parse(arg, "--interval", &o->interval_ns, err);
    default:
        return fm_err_set(err, FM_EINVAL, "unhandled option");
    }
}

enum input_kind { INPUT_CAPTURE, INPUT_MODEL };

/* Tell a capture from a model by its first bytes: the pcap magic in either byte order (micro-
 * and nanosecond variants), the pcapng section header block type, or a JSON object. */
static int detect_input(const char *path, enum input_kind *kind, struct fm_err *err)
{
    enum pkt_input k = PKT_INPUT_UNKNOWN;
    int rc = pkt_sniff(path, &k, err);
    if (rc < 0)
        return rc;
    if (k == PKT_INPUT_CAPTURE) {
        *kind = INPUT_CAPTURE;
        return FM_OK;
    }
    if (k == PKT_INPUT_JSON_OBJECT) {
        *kind = INPUT_MODEL;
        return FM_OK;
    }
    return fm_err_set(err, FM_EFORMAT,
                      "'%s' is neither a capture (pcap, pcapng) nor a model (JSON)", path);
}

/* The status line: shown on a terminal only, rewritten in place once a second. */
struct status {
    int tty;
    int shown;
    struct cli_interval iv;
};

static void interval_totals(const struct trx_send_stats *s, struct cli_interval_totals *t)
{
    memset(t, 0, sizeof(*t));
    t->elapsed_ns = s->elapsed_ns;
    t->packets = s->packets;
    t->bytes = s->bytes;
    t->has_late = 1;
    t->late = s->late;
    t->late_max_ns = s->late_max_recent_ns;
}

static void on_status(const struct trx_send_stats *s, void *arg)
{
    struct status *st = arg;
    if (st->iv.every_ns) {
        struct cli_interval_totals t;
        interval_totals(s, &t);
        if (st->shown && st->iv.text) /* the line goes above the status line */
            fprintf(stderr, "\r\033[K");
        cli_interval_tick(&st->iv, &t);
    }
    if (!st->tty)
        return;
    double secs = (double)s->elapsed_ns / 1e9;
    fprintf(stderr,
            "\r%7.1f s  %llu packets  %.0f pps  %.3f Mbit/s  %llu late  worst %.0f us\033[K", secs,
            (unsigned long long)s->packets, s->mean_pps, s->mean_mbps, (unsigned long long)s->late,
            (double)s->late_max_ns / 1e3);
    if (trx_send_behind(s))
        fputs("  BEHIND SCHEDULE", stderr);
    fflush(stderr);
    st->shown = 1;
}

/* The send summary: a line of text, or JSON, which goes into w as the member "sent" when
 * replay --listen reports both directions in one object. */
static void print_summary(const struct replay_opts *o,
                          const struct trx_send_stats *s,
                          const struct trx_capture_stats *cs,
                          const char *status,
                          const struct cli_interval *iv,
                          struct jw *outer)
{
    if (o->json) {
        struct jw own;
        jw_init(&own, stdout);
        struct jw *wp = outer ? outer : &own;
        jw_obj_begin(wp, outer ? "sent" : NULL);
        jw_str(wp, "status", status);
        jw_int(wp, "packets", (long long)s->packets);
        jw_int(wp, "bytes", (long long)s->bytes);
        jw_num(wp, "elapsed_s", (double)s->elapsed_ns / 1e9);
        jw_num(wp, "mean_pps", s->mean_pps);
        jw_num(wp, "mean_mbps", s->mean_mbps);
        jw_obj_begin(wp, "lateness_us");
        jw_num(wp, "p50", (double)s->late_p50_ns / 1e3);
        jw_num(wp, "p99", (double)s->late_p99_ns / 1e3);
        jw_num(wp, "max", (double)s->late_max_ns / 1e3);
        jw_obj_end(wp);
        jw_int(wp, "late", (long long)s->late);
        jw_bool(wp, "behind_schedule", trx_send_behind(s));
        jw_bool(wp, "cut_short", s->cut_short);
        if (s->cut_short)
            jw_num(wp, "behind_s", (double)s->behind_ns / 1e9);
        jw_int(wp, "errors", (long long)s->errors);
        if (s->errors)
            jw_str(wp, "first_error", s->first_error);
        if (cs) {
            jw_obj_begin(wp, "capture");
            jw_int(wp, "frames", (long long)cs->frames);
            jw_int(wp, "selected", (long long)cs->selected);
            jw_int(wp, "not_udp", (long long)cs->not_udp);
            jw_int(wp, "other_ip_version", (long long)cs->other_version);
            jw_int(wp, "other_flow", (long long)cs->other_flow);
            jw_int(wp, "short_payload", (long long)cs->short_payload);
            jw_obj_end(wp);
        }
        cli_interval_json(iv, wp);
        jw_obj_end(wp);
        if (!outer)
            jw_finish(&own);
    } else {
        printf("replay %s: %llu packets, %llu bytes in %.3f s (%.1f pps, %.3f Mbit/s)\n", status,
               (unsigned long long)s->packets, (unsigned long long)s->bytes,
               (double)s->elapsed_ns / 1e9, s->mean_pps, s->mean_mbps);
        printf("send lateness: p50 %.1f us, p99 %.1f us, max %.1f us; %llu late\n",
               (double)s->late_p50_ns / 1e3, (double)s->late_p99_ns / 1e3,
               (double)s->late_max_ns / 1e3, (unsigned long long)s->late);
        printf("errors: %llu%s%s\n", (unsigned long long)s->errors, s->errors ? ", first: " : "",
               s->errors ? s->first_error : "");
        if (s->cut_short)
            printf("behind schedule: stopped at the end of --duration on the clock, %.3f s "
                   "behind; %llu of %llu packets late\n",
                   (double)s->behind_ns / 1e9, (unsigned long long)s->late,
                   (unsigned long long)s->packets);
        else if (trx_send_behind(s))
            printf("behind schedule: %llu of %llu packets late\n", (unsigned long long)s->late,
                   (unsigned long long)s->packets);
        if (cs)
            printf("capture: %llu frames, %llu selected, %llu not UDP, %llu other IP version, "
                   "%llu other flow or side\n",
                   (unsigned long long)cs->frames, (unsigned long long)cs->selected,
                   (unsigned long long)cs->not_udp, (unsigned long long)cs->other_version,
                   (unsigned long long)cs->other_flow);
    }
    fflush(stdout);
}

/* --dry-run: the plan and the first packets of the source, on stdout. */
static int dry_run(const struct replay_opts *o,
                   const char *path,
                   enum input_kind kind,
                   struct trx_source *src,
                   struct fm_err *err)
{
    printf("plan: replay %s %s", kind == INPUT_MODEL ? "model" : "capture", path);
    if (kind == INPUT_MODEL)
        printf(", side %s, %ld stream%s, rate x%g", o->side == MDL_SIDE_REMOTE ? "remote" : "local",
               o->streams, o->streams == 1 ? "" : "s", o->rate_scale);
    else
        printf(", %s, speed x%g", o->have_flow ? "one flow" : "all UDP", o->speed);
    printf("\n      on %s to %s (%s), timer %s\n", o->iface ? o->iface : "(no interface)",
           o->have_peer ? "--peer" : "the recorded addresses",
           o->have_peer_mac ? "link-layer" : "raw IP",
           o->timer == TRX_TIMER_SLEEP  ? "sleep"
           : o->timer == TRX_TIMER_SPIN ? "spin"
                                        : "hybrid");
    const char *end = kind == INPUT_MODEL ? "only on Ctrl-C" : "at the end of the capture";
    printf("      stop: %s", o->count || o->duration_s > 0 ? "" : end);
    if (o->count)
        printf("after %llu packets ", (unsigned long long)o->count);
    if (o->duration_s > 0)
        printf("after %g s", o->duration_s);
    if (o->max_rate > 0)
        printf("; at most %g pps", o->max_rate);
    printf("\nfirst packets (nothing is sent):\n%12s %6s %6s  %s\n", "offset_s", "stream", "bytes",
           "source > destination  ttl dscp");
    struct trx_pkt p;
    const uint8_t *orig = NULL;
    int rc = FM_OK;
    for (int i = 0; i < DRY_RUN_PACKETS; i++) {
        if (o->count && (uint64_t)i >= o->count)
            break;
        rc = trx_source_next(src, &p, &orig, err);
        if (rc <= 0)
            break;
        char a[80], b[80];
        pkt_addr_port_format(p.addr.ip_version, p.addr.src, p.addr.sport, a, sizeof(a));
        pkt_addr_port_format(p.addr.ip_version, p.addr.dst, p.addr.dport, b, sizeof(b));
        printf("%12.6f %6u %6u  %s > %s  %u %u\n", (double)p.offset_ns / 1e9, p.stream,
               p.payload_len, a, b, p.ttl, p.dscp);
    }
    fflush(stdout);
    return rc < 0 ? rc : FM_OK;
}

/* --start-at: refuse a time too far ahead or past, then wait for it (transceiver/start.h). */
static int wait_for_start(const struct replay_opts *o, struct fm_err *err)
{
    int64_t target = 0;
    int rc = trx_start_target(o->start_relative, o->start_at, &target, err);
    if (rc < 0) {
        /* The message names the option the user typed. */
        char msg[FM_ERR_LEN];
        snprintf(msg, sizeof(msg), "%s", err ? err->msg : "");
        return fm_err_set(err, rc, "--start-at %s", msg);
    }
    trx_start_wait(target, &cli_stop);
    return FM_OK;
}

/* Load the model and make its source. */
/* Load the model and make its source; *own_port gets the port this host's side sends from
 * (stream 0), which is where the peer's side sends to. */
static int model_source(const struct replay_opts *o,
                        const char *path,
                        const uint8_t *src_ip,
                        struct trx_source **out,
                        uint16_t *own_port,
                        struct fm_err *err)
{
    struct mdl_model *m = calloc(1, sizeof(*m));
    struct trx_model_opts mo;
    int rc = FM_OK;
    if (!m)
        return fm_err_set(err, FM_ENOMEM, "model");
    rc = mdl_json_load(path, m, err);
    if (rc < 0)
        goto out;
    trx_model_opts_init(&mo);
    if (o->variant) {
        rc = mdl_variant_load_spec(o->variant, &mo.variant, err);
        if (rc < 0)
            goto out;
    }
    mo.side = o->side == MDL_SIDE_REMOTE ? MDL_SIDE_REMOTE : MDL_SIDE_LOCAL;
    mo.streams = (unsigned)o->streams;
    mo.count = o->count;
    mo.duration_ns = (int64_t)(o->duration_s * 1e9);
    if (o->have_seed)
        mo.seed = o->seed;
    mo.rate_scale = o->rate_scale;
    mo.ip_version = o->ip_version ? o->ip_version : 4;
    if (src_ip) {
        mo.have_src_ip = 1;
        memcpy(mo.src_ip, src_ip, 16);
    }
    if (o->have_peer) {
        mo.have_dst_ip = 1;
        memcpy(mo.dst_ip, o->peer_ip, 16);
    }
    mo.src_port = o->src_port > 0 ? (int)o->src_port : -1;
    mo.dst_port = o->dst_port > 0 ? (int)o->dst_port : -1;
    if (mo.src_port > 0)
        *own_port = (uint16_t)mo.src_port;
    else if (mo.variant.src_port > 0)
        *own_port = (uint16_t)mo.variant.src_port;
    else
        *own_port = mo.side == MDL_SIDE_REMOTE ? m->remote.port : m->local.port;
    struct fm_err e2 = {0};
    rc = trx_source_model_new(m, &mo, out, &e2);
    if (rc < 0)
        fm_err_set(err, rc, "model '%s': %s", path, e2.msg);
out:
    free(m);
    return rc;
}

/* replay --listen: a receiver on this host's own port, in a thread beside the send loop, so
 * that two hosts each playing one side of a call at each other both report what arrived. */
static int run(const struct replay_opts *o, const char *path)
{
    struct trx_sink *sink = NULL;
    struct trx_source *src = NULL;
    struct trx_listener lis;
    uint16_t own_port = 0;
    struct fm_err err = {0};
    enum input_kind kind = INPUT_MODEL;
    uint8_t src_ip[16] = {0};
    int have_src = 0;
    int rc = CLI_EXIT_RUNTIME;

    memset(&lis, 0, sizeof(lis));
    if (detect_input(path, &kind, &err) < 0) {
        fm_log_error("%s", err.msg);
        goto out;
    }
    if (kind == INPUT_MODEL && o->capture_only) {
        rc = cli_usage_error(doc.name, "%s applies to captures, and '%s' is a model",
                             o->capture_only, path);
        goto out;
    }
    if (kind == INPUT_CAPTURE && o->model_only) {
        rc = cli_usage_error(doc.name, "%s applies to models, and '%s' is a capture%s",
                             o->model_only, path,
                             strcmp(o->model_only, "--rate-scale") == 0 ? " (use --speed)" : "");
        goto out;
    }
    if (kind == INPUT_CAPTURE && o->listen) {
        rc = cli_usage_error(doc.name,
                             "--listen applies to models (a host playing one side of "
                             "a call), and '%s' is a capture",
                             path);
        goto out;
    }
    if (kind == INPUT_MODEL && o->side == TRX_SIDE_BOTH) {
        rc = cli_usage_error(doc.name, "--side both applies to captures: one host plays one "
                                       "side of a model");
        goto out;
    }
    if (kind == INPUT_CAPTURE && o->side != -2 && !o->have_flow) {
        rc = cli_usage_error(doc.name, "--side needs --flow for a capture (which flow's side?)");
        goto out;
    }

    if (!o->dry_run) {
        /* Permission and interface first (the sink checks both), then the route: each error
         * names what to fix, and nothing has been sent yet. */
        struct trx_libnet_opts lo;
        memset(&lo, 0, sizeof(lo));
        lo.iface = o->iface;
        lo.ip_version = o->ip_version;
        lo.have_peer_mac = o->have_peer_mac;
        memcpy(lo.peer_mac, o->peer_mac, 6);
        char via[IF_NAMESIZE] = "";
        if (trx_sink_libnet_new(&lo, &sink, &err) < 0 ||
            trx_route_check(o->iface, o->ip_version, o->peer_ip, src_ip, via, &err) < 0) {
            fm_log_error("%s", err.msg);
            goto out;
        }
        if (via[0] && strcmp(via, o->iface) != 0) {
            char peer[INET6_ADDRSTRLEN];
            inet_ntop(o->ip_version == 4 ? AF_INET : AF_INET6, o->peer_ip, peer, sizeof(peer));
            fm_log_warn("the route to %s leaves through '%s', not '%s': sending on '%s' anyway",
                        peer, via, o->iface, o->iface);
        }
        have_src = 1;
    } else if (o->iface && o->have_peer) {
        if (if_nametoindex(o->iface) == 0) {
            fm_log_error("no interface '%s' (see `ip link`)", o->iface);
            goto out;
        }
        if (trx_iface_address(o->iface, o->ip_version, NULL, src_ip, &err) < 0) {
            fm_log_error("%s", err.msg);
            goto out;
        }
        have_src = 1;
    }

    if (kind == INPUT_MODEL) {
        if (model_source(o, path, have_src ? src_ip : NULL, &src, &own_port, &err) < 0) {
            fm_log_error("%s", err.msg);
            goto out;
        }
    } else {
        struct trx_capture_opts co;
        memset(&co, 0, sizeof(co));
        co.path = path;
        co.have_flow = o->have_flow;
        co.flow = o->flow;
        co.side = o->side == -2 ? TRX_SIDE_BOTH : o->side;
        co.speed = o->speed;
        co.ip_version = o->ip_version ? o->ip_version : 4;
        co.have_src = have_src;
        memcpy(co.src_ip, src_ip, 16);
        co.have_dst = o->have_peer;
        memcpy(co.dst_ip, o->peer_ip, 16);
        if (trx_source_capture_new(&co, &src, &err) < 0) {
            fm_log_error("%s", err.msg);
            goto out;
        }
    }

    if (!src) /* every constructor above sets it on success; this keeps that visible */
        goto out;
    if (o->dry_run) {
        if (dry_run(o, path, kind, src, &err) < 0) {
            fm_log_error("%s", err.msg);
            goto out;
        }
        rc = CLI_EXIT_OK;
        goto out;
    }

    if (trx_timer_setup(o->realtime, &err) < 0) {
        /* Without --realtime only the timer slack is at stake: worse timing, not a failure. */
        if (o->realtime) {
            fm_log_error("%s", err.msg);
            goto out;
        }
        fm_log_warn("%s: sleeps may wake up to 100 us late", err.msg);
    }

    struct trx_send_opts so;
    trx_send_opts_init(&so);
    so.timer = o->timer;
    /* A SCHED_FIFO task preempts every normal one the moment its timer fires, so it needs a
     * far shorter spin; and a long spin at short gaps would never sleep, which the kernel's
     * real-time throttling punishes with 50 ms stalls. */
    if (o->spin_us >= 0)
        so.spin_ns = (int64_t)(o->spin_us * 1e3);
    else if (o->realtime)
        so.spin_ns = RT_SPIN_NS;
    so.count = o->count;
    so.duration_ns = (int64_t)(o->duration_s * 1e9);
    so.max_rate_pps = o->max_rate;
    so.probe_clock_offset_ns = trx_realtime_offset_ns();
    struct trx_clock clk;
    trx_clock_real(&clk);
    struct status status;
    memset(&status, 0, sizeof(status));
    status.tty = isatty(STDERR_FILENO) && fm_log_get_level() >= FM_LOG_WARN;
    cli_interval_init(&status.iv, o->interval_ns, o->json ? NULL : stdout, o->json);

    if (o->listen) {
        /* Started before the first send, so that the peer's first packets are not missed. */
        if (trx_listener_start(&lis, own_port, &err) < 0) {
            fm_log_error("%s", err.msg);
            goto out;
        }
    }
    cli_signals_install();
    if (o->have_start && wait_for_start(o, &err) < 0) {
        fm_log_error("%s", err.msg);
        goto out;
    }
    /* The probe's wall-clock stamps follow the clocks as they are now, after any wait. */
    so.probe_clock_offset_ns = trx_realtime_offset_ns();
    struct trx_send_stats st;
    int send_rc = trx_send_run(src, sink, &so, &clk, &st, on_status, &status, &cli_stop, &err);
    trx_listener_stop(&lis, send_rc != FM_EINTR);
    if (status.shown)
        fprintf(stderr, "\r\033[K");
    struct cli_interval_totals itot;
    interval_totals(&st, &itot);
    cli_interval_finish(&status.iv, &itot);

    struct trx_capture_stats cs;
    if (kind == INPUT_CAPTURE)
        trx_source_capture_stats(src, &cs);
    const char *state = send_rc == FM_EINTR ? "interrupted" : send_rc < 0 ? "failed" : "complete";
    if (lis.r) {
        /* Both directions: one JSON object, or the send line and the receiver's tables. */
        struct trx_recv_info info;
        trx_receiver_info(lis.r, &info);
        struct trx_rstats *rs = trx_receiver_stats(lis.r);
        if (o->json) {
            struct jw w;
            jw_init(&w, stdout);
            jw_obj_begin(&w, NULL);
            print_summary(o, &st, NULL, state, &status.iv, &w);
            cli_receive_json(&w, "received", rs, &info, send_rc == FM_EINTR, NULL);
            jw_obj_end(&w);
            jw_finish(&w);
        } else {
            print_summary(o, &st, NULL, state, &status.iv, NULL);
            printf("\nreceived from the peer on UDP port %u:\n", (unsigned)own_port);
            cli_receive_table(rs);
        }
        fflush(stdout);
        cli_receive_notes(rs, &info);
        if (lis.rc < 0 && lis.rc != FM_EINTR)
            fm_log_error("--listen: %s", lis.err.msg);
    } else {
        print_summary(o, &st, kind == INPUT_CAPTURE ? &cs : NULL, state, &status.iv, NULL);
    }
    cli_interval_fini(&status.iv);
    if (send_rc == FM_EINTR) {
        rc = CLI_EXIT_INTR;
    } else if (send_rc < 0) {
        fm_log_error("%s", err.msg);
    } else {
        if (st.errors)
            fm_log_warn("%llu sends failed; the first: %s", (unsigned long long)st.errors,
                        st.first_error);
        rc = CLI_EXIT_OK;
        if (trx_send_behind(&st)) {
            fm_log_warn("the schedule was not kept: %.0f%% of packets went out more than %.0f us "
                        "late%s; lower --rate-scale or --streams (exit %d)",
                        st.packets ? 100.0 * (double)st.late / (double)st.packets : 0.0,
                        (double)so.late_ns / 1e3,
                        st.cut_short ? ", and --duration ended with packets still due" : "",
                        CLI_EXIT_BEHIND);
            rc = CLI_EXIT_BEHIND;
        }
    }
out:
    trx_listener_stop(&lis, 0);
    trx_receiver_free(lis.r);
    trx_source_free(src);
    trx_sink_close(sink, 1, NULL);
    return rc;
}

int cmd_replay(int argc, char **argv)
{
    struct cli_parser p;
    struct replay_opts o;
    memset(&o, 0, sizeof(o));
    o.side = -2;
    o.streams = 1;
    o.speed = 1.0;
    o.rate_scale = 1.0;
    o.timer = TRX_TIMER_HYBRID;
    o.spin_us = -1.0; /* the send loop's default, or RT_SPIN_NS with --realtime */
    o.src_port = -1;
    o.dst_port = -1;
    cli_parser_init(&p, &doc, opts);
    int st = cli_parse(&p, opts, argc, argv, take_opt, &o);
    if (st >= 0)
        return st;
    const char *path = cli_one_operand(&doc, argc, argv, "a model or a capture");
    if (!path)
        return CLI_EXIT_USAGE;
    /* Sending on a default interface to a default address would put traffic where nobody
     * asked for it: both are explicit, except for a dry run, which sends nothing. */
    if (!o.dry_run && !o.iface)
        return cli_usage_error(doc.name, "name the interface to send on with --iface");
    if (!o.dry_run && !o.have_peer)
        return cli_usage_error(doc.name, "name the destination with --peer");
    if (o.iface && o.iface[0] == '\0')
        return cli_usage_error(doc.name, "--iface: empty name");
    return run(&o, path);
}
