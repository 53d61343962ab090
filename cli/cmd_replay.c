/* cli/cmd_replay.c - `flowmimic replay`: a model, or a capture with its own timing, on the
 * wire at absolute deadlines, with a live status line and a summary. Every check that can fail
 * does so before the first packet leaves: the input, the variant, the permission for raw
 * sockets, the interface, the route (and next hop) to the peer. --dry-run opens no raw socket
 * and sends nothing, so needs neither root nor --iface/--peer (it then shows the packets with
 * the addresses of the model or capture). */
#include "cli/cli.h"
#include "cli/report.h"

#include "common/err.h"
#include "common/log.h"
#include "common/num.h"
#include "common/par.h"
#include "estimator/select.h"
#include "models/model.h"
#include "packet/endpoint.h"
#include "transceiver/replay.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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
    OPT_LOOP,
    OPT_MULTIPLIER,
    OPT_PPS,
    OPT_MBPS,
};

static const struct cli_opt opts[] = {
    {"iface", 'i', required_argument, "IFACE", "send on this interface (required)"},
    {"peer", OPT_PEER, required_argument, "IP",
     "destination address, IPv4 or IPv6 (required); the kernel\nroutes and resolves the next "
     "hop"},
    {"peer-mac", OPT_PEER_MAC, required_argument, "MAC|auto",
     "link-layer mode, the fastest: Ethernet frames to this MAC;\nauto: the next hop's, "
     "from the kernel's neighbour table"},
    {"side", OPT_SIDE, required_argument, "local|remote|both",
     "the side of the model this host plays (default local);\nfor a capture with --flow, the "
     "side replayed (default both)"},
    {"streams", 's', required_argument, "N", "independent streams of the model (default 1)"},
    {"flow", OPT_FLOW, required_argument, "INDEX|SPEC",
     "capture: only this flow, by its index in `flows` or as\n'udp A:PORT B:PORT' (default: all "
     "UDP)"},
    {"speed", OPT_SPEED, required_argument, "X", "capture: play X times as fast (default 1)"},
    {"pps", OPT_PPS, required_argument, "N",
     "N packets/s in all: a capture's at a constant rate, a\nmodel's mean (tcpreplay --pps)"},
    {"mbps", OPT_MBPS, required_argument, "N", "N Mbit/s of payload in all, as --pps (--mbps)"},
    {"multiplier", OPT_MULTIPLIER, required_argument, "X",
     "X times as fast: --speed for a capture, --rate-scale for\na model (tcpreplay's name)"},
    {"count", 'c', required_argument, "N", "stop after N packets"},
    {"duration", 'd', required_argument, "TIME",
     "stop after TIME (30s, 5m, 250ms; a number is seconds);\n0: no limit (default: a model's "
     "side plays its own\nduration, a capture itself, --loop times)"},
    {"loop", OPT_LOOP, required_argument, "N",
     "play the model's duration or the capture N times\n(default 1; 0: until Ctrl-C), as "
     "tcpreplay --loop"},
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
    {"seed", OPT_SEED, required_argument, "N", "model: seed of the draws (default random, shown)"},
    {"src-port", OPT_SRC_PORT, required_argument, "PORT",
     "model: source port of stream 0 (stream s: PORT+s)"},
    {"dst-port", OPT_DST_PORT, required_argument, "PORT", "model: destination port"},
    {"listen", OPT_LISTEN, no_argument, NULL,
     "model: also receive the peer's side on this side's own\nport, and report both directions"},
    {"start-at", OPT_START_AT, required_argument, "TIME",
     "start sending at TIME: +DURATION from now (+5s), or a UNIX\ntime in seconds: two hosts given "
     "the "
     "same time start together\n(with synchronised clocks)"},
    {"dry-run", OPT_DRY_RUN, no_argument, NULL,
     "print the plan and the first packets, send nothing"},
    {"interval", OPT_INTERVAL, required_argument, "SECONDS",
     "a report line every SECONDS (packets, Mbit/s, late\npackets, worst lateness), as iperf3 "
     "-i; with --json,\nthe same in \"intervals\""},
    {"json", OPT_JSON, no_argument, NULL, "print the summary as JSON"},
    CLI_OPT_HELP_END,
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
    "A model's side plays its own duration and a capture itself, --loop times, unless\n"
    "--count or --duration says otherwise (--duration 0 or --loop 0: until Ctrl-C).\n"
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

struct replay_opts {
    struct trx_replay_opts rp;
    int json;
    int64_t interval_ns;
    /* Options that apply to one kind of input only, to refuse them for the other. */
    const char *model_only;
    const char *capture_only;
    const char *flow_index; /* --flow INDEX: resolved once the input is known a capture */
};

/* Parse one option into o; returns FM_OK or FM_EINVAL with the message in err. */
static int take_opt(void *self, int c, const char *arg, struct fm_err *err)
{
    struct replay_opts *o = self;
    switch (c) {
    case 'i':
        o->rp.iface = arg;
        return FM_OK;
    case OPT_PEER:
        o->rp.ip_version = inet_pton(AF_INET, arg, o->rp.peer_ip) == 1    ? 4
                           : inet_pton(AF_INET6, arg, o->rp.peer_ip) == 1 ? 6
                                                                          : 0;
        if (!o->rp.ip_version)
            return fm_err_set(err, FM_EINVAL, "--peer: expected an IPv4 or IPv6 address, got '%s'",
                              arg);
        o->rp.have_peer = 1;
        return FM_OK;
    case OPT_PEER_MAC:
        o->rp.have_peer_mac = 1;
        o->rp.peer_mac_auto = (uint8_t)(strcmp(arg, "auto") == 0);
        return o->rp.peer_mac_auto ? FM_OK : cli_parse_mac(arg, o->rp.peer_mac, err);
    case OPT_SIDE:
        return cli_parse_side(arg, &o->rp.side, err);
    case 's':
        o->model_only = "--streams";
        return fm_parse_long(arg, 1, 100000, "--streams", &o->rp.streams, err);
    case OPT_FLOW:
        o->capture_only = "--flow";
        o->rp.have_flow = 1;
        if (arg[0] >= '0' && arg[0] <= '9') {
            o->flow_index = arg; /* as `flows` numbers them: the capture tells which */
            return FM_OK;
        }
        return pkt_flow_spec_parse(arg, &o->rp.flow, err);
    case OPT_SPEED:
        o->capture_only = "--speed";
        return fm_parse_double(arg, 1e-6, 1e6, "--speed", &o->rp.speed, err);
    case 'c':
        return fm_parse_u64(arg, UINT64_MAX, "--count", &o->rp.count, err);
    case 'd':
        o->rp.have_duration = 1;
        return fm_parse_duration(arg, 0, 1e7, "--duration", &o->rp.duration_s, err);
    case OPT_LOOP: {
        long n = 0;
        if (fm_parse_long(arg, 0, 1000000, "--loop", &n, err) < 0)
            return FM_EINVAL;
        o->rp.loops = (unsigned)n;
        return FM_OK;
    }
    case OPT_RATE_SCALE:
        o->model_only = "--rate-scale";
        return fm_parse_double(arg, 1e-6, 1e6, "--rate-scale", &o->rp.rate_scale, err);
    case OPT_PPS:
        return fm_parse_double(arg, 1e-3, 1e9, "--pps", &o->rp.pps, err);
    case OPT_MBPS:
        return fm_parse_double(arg, 1e-6, 1e6, "--mbps", &o->rp.mbps, err);
    case OPT_MULTIPLIER:
        if (fm_parse_double(arg, 1e-6, 1e6, "--multiplier", &o->rp.speed, err) < 0)
            return FM_EINVAL;
        o->rp.rate_scale = o->rp.speed;
        return FM_OK;
    case OPT_MAX_RATE:
        return fm_parse_double(arg, 1e-3, 1e9, "--max-rate", &o->rp.max_rate, err);
    case OPT_TIMER:
        return trx_timer_mode_parse(arg, &o->rp.timer, err);
    case OPT_SPIN_US:
        return fm_parse_double(arg, 0, 1e6, "--spin-us", &o->rp.spin_us, err);
    case OPT_REALTIME:
        o->rp.realtime = 1;
        return FM_OK;
    case OPT_VARIANT:
        o->model_only = "--variant";
        o->rp.variant = arg;
        return FM_OK;
    case OPT_SEED:
        o->model_only = "--seed";
        o->rp.have_seed = 1;
        return fm_parse_u64(arg, UINT64_MAX, "--seed", &o->rp.seed, err);
    case OPT_SRC_PORT:
        o->model_only = "--src-port";
        return fm_parse_long(arg, 1, 65535, "--src-port", &o->rp.src_port, err);
    case OPT_DST_PORT:
        o->model_only = "--dst-port";
        return fm_parse_long(arg, 1, 65535, "--dst-port", &o->rp.dst_port, err);
    case OPT_LISTEN:
        o->rp.listen = 1;
        return FM_OK;
    case OPT_DRY_RUN:
        o->rp.dry_run = 1;
        return FM_OK;
    case OPT_START_AT:
        o->rp.have_start = 1;
        o->rp.start_relative = arg[0] == '+';
        if (o->rp.start_relative)
            return fm_parse_duration(arg + 1, 0, 86400, "--start-at +DURATION", &o->rp.start_at,
                                     err);
        /* From 2001 to 5138: a UNIX time, not a mistyped relative one. */
        return fm_parse_double(arg, 1e9, 1e11, "--start-at (UNIX seconds, or +SECONDS)",
                               &o->rp.start_at, err);
    case OPT_JSON:
        o->json = 1;
        return FM_OK;
    case OPT_INTERVAL:
        return cli_interval_parse(arg, "--interval", &o->interval_ns, err);
    default:
        return fm_err_set(err, FM_EINVAL, "unhandled option");
    }
}

/* Options that do not fit the kind of input: a usage error (exit 2), or CLI_EXIT_OK. */
static int check_input(const struct replay_opts *o, enum trx_replay_input kind, const char *path)
{
    if (kind == TRX_REPLAY_MODEL && o->capture_only)
        return cli_usage_error(doc.name, "%s applies to captures, and '%s' is a model",
                               o->capture_only, path);
    if (kind == TRX_REPLAY_CAPTURE && o->model_only)
        return cli_usage_error(doc.name, "%s applies to models, and '%s' is a capture%s",
                               o->model_only, path,
                               strcmp(o->model_only, "--rate-scale") == 0 ? " (use --speed)" : "");
    if (kind == TRX_REPLAY_CAPTURE && o->rp.listen)
        return cli_usage_error(doc.name,
                               "--listen applies to models (a host playing one side of "
                               "a call), and '%s' is a capture",
                               path);
    if (kind == TRX_REPLAY_MODEL && o->rp.side == TRX_SIDE_BOTH)
        return cli_usage_error(doc.name, "--side both applies to captures: one host plays one "
                                         "side of a model");
    if (kind == TRX_REPLAY_CAPTURE && o->rp.side != TRX_SIDE_DEFAULT && !o->rp.have_flow)
        return cli_usage_error(doc.name, "--side needs --flow for a capture (which flow's side?)");
    if (o->interval_ns && fm_par_size() > 1)
        return cli_usage_error(doc.name, "--interval reports one rank's sends: not under mpirun");
    if ((o->rp.pps > 0) + (o->rp.mbps > 0) + (o->rp.speed != 1.0 || o->rp.rate_scale != 1.0) > 1)
        return cli_usage_error(doc.name, "one of --pps, --mbps and --speed, --rate-scale or "
                                         "--multiplier: each sets the rate");
    return CLI_EXIT_OK;
}

/* The status line (on a terminal, once a second) and the interval lines above it. */
static void on_status(const struct trx_send_stats *s, void *arg)
{
    struct cli_status *st = arg;
    if (st->iv.every_ns) {
        struct cli_interval_totals t;
        cli_replay_totals(s, &t);
        cli_status_tick(st, &t);
    }
    if (st->tty)
        cli_status_show(st,
                        "%7.1f s  %llu packets  %.0f pps  %.3f Mbit/s  %llu late  worst %.0f us"
                        "\033[K%s",
                        (double)s->elapsed_ns / 1e9, (unsigned long long)s->packets, s->mean_pps,
                        s->mean_mbps, (unsigned long long)s->late, (double)s->late_max_ns / 1e3,
                        trx_send_behind(s) ? "  BEHIND SCHEDULE" : "");
}

/* The exit status after the send loop: its error, Ctrl-C, or a schedule not kept (talk: say
 * why; under mpirun every rank has the merged figures, and rank 0 alone talks). */
static int outcome(int send_rc,
                   const struct trx_replay *r,
                   const struct trx_send_stats *st,
                   struct fm_err *err,
                   int talk)
{
    if (send_rc == FM_EINTR)
        return CLI_EXIT_INTR;
    if (send_rc < 0) {
        fm_log_error("%s", err->msg); /* each rank its own */
        return CLI_EXIT_RUNTIME;
    }
    /* A packet the kernel refused (too long for the link, no route) was not sent: the run
     * failed, whatever else went out (issue 11). */
    if (st->errors) {
        if (talk)
            fm_log_error("%llu of %llu sends failed; the first: %s", (unsigned long long)st->errors,
                         (unsigned long long)(st->packets + st->errors), st->first_error);
        return CLI_EXIT_RUNTIME;
    }
    if (!trx_send_behind(st))
        return CLI_EXIT_OK;
    if (talk)
        fm_log_warn("the schedule was not kept: %.0f%% of packets went out more than %.0f us "
                    "late%s; lower --rate-scale or --streams (exit %d)",
                    trx_replay_late_pct(st), (double)r->send.late_ns / 1e3,
                    st->cut_short ? ", and --duration ended with packets still due" : "",
                    CLI_EXIT_BEHIND);
    return CLI_EXIT_BEHIND;
}

static int run(struct replay_opts *o, const char *path)
{
    struct trx_replay r;
    struct cli_status status;
    struct fm_err err = {0};
    enum trx_replay_input kind = TRX_REPLAY_MODEL;
    int rc = CLI_EXIT_RUNTIME;

    memset(&r, 0, sizeof(r));
    memset(&status, 0, sizeof(status));
    /* Under mpirun each rank plays its share of the streams (common/par.h). */
    if (fm_par_init(&err) < 0 || trx_replay_input_kind(path, &kind, &err) < 0) {
        fm_log_error("%s", err.msg);
        goto out;
    }
    rc = check_input(o, kind, path);
    if (rc != CLI_EXIT_OK)
        goto out;
    rc = CLI_EXIT_RUNTIME;
    if (trx_replay_shard(&o->rp, kind, fm_par_rank(), fm_par_size(), &err) < 0) {
        fm_log_error("%s", err.msg);
        goto out;
    }
    if (o->flow_index && est_flow_select(path, o->flow_index, &cli_stop, &o->rp.flow, &err) < 0) {
        fm_log_error("%s", err.msg);
        goto out;
    }
    if (o->rp.dry_run && o->rp.iface && o->rp.have_peer && if_nametoindex(o->rp.iface) == 0) {
        /* Before trx_replay_open_sink(), whose message would cut a long name short. */
        fm_log_error("no interface '%s' (see `ip link`)", o->rp.iface);
        goto out;
    }
    if (trx_replay_open_sink(&r, &o->rp, &err) < 0) {
        fm_log_error("%s", err.msg);
        goto out;
    }
    if (r.via[0] && o->rp.iface && strcmp(r.via, o->rp.iface) != 0) {
        char peer[INET6_ADDRSTRLEN];
        inet_ntop(o->rp.ip_version == 4 ? AF_INET : AF_INET6, o->rp.peer_ip, peer, sizeof(peer));
        fm_log_warn("the route to %s leaves through '%s', not '%s': sending on '%s' anyway", peer,
                    r.via, o->rp.iface, o->rp.iface);
    }
    if (trx_replay_open_source(&r, &o->rp, path, kind, &err) < 0) {
        fm_log_error("%s", err.msg);
        goto out;
    }
    if (o->rp.dry_run) {
        if (cli_replay_plan(&o->rp, path, &r, &err) < 0) {
            fm_log_error("%s", err.msg);
            goto out;
        }
        rc = CLI_EXIT_OK;
        goto out;
    }
    if (trx_timer_setup(o->rp.realtime, &err) < 0) {
        /* Without --realtime only the timer slack is at stake: worse timing, not a failure. */
        if (o->rp.realtime) {
            fm_log_error("%s", err.msg);
            goto out;
        }
        fm_log_warn("%s: sleeps may wake up to 100 us late", err.msg);
    }
    cli_status_init(&status, o->interval_ns, o->json);
    if (trx_replay_listen(&r, &o->rp, &err) < 0) {
        fm_log_error("%s", err.msg);
        goto out;
    }
    cli_signals_install();
    if (trx_replay_wait_start(&r, &o->rp, &cli_stop, &err) < 0) {
        fm_log_error("%s", err.msg);
        goto out;
    }
    struct trx_send_stats st;
    struct trx_replay_ranks rk;
    struct fm_err merr = {0};
    int send_rc = trx_replay_send(&r, &st, on_status, &status, &cli_stop, &err);
    struct cli_interval_totals itot;
    cli_replay_totals(&st, &itot);
    cli_status_end(&status, &itot);
    if (trx_replay_merge(&r, &st, &send_rc, &rk, &merr) < 0)
        fm_log_error("%s: this rank's summary only", merr.msg);
    if (fm_par_rank() == 0)
        cli_replay_report(o->json, &r, &st, send_rc, &status.iv, &rk);
    rc = outcome(send_rc, &r, &st, &err, fm_par_rank() == 0);
    trx_replay_ranks_free(&rk);
out:
    cli_interval_fini(&status.iv);
    trx_replay_close(&r);
    fm_par_fini();
    return rc;
}

int cmd_replay(int argc, char **argv)
{
    struct cli_parser p;
    struct replay_opts o;
    memset(&o, 0, sizeof(o));
    trx_replay_opts_init(&o.rp);
    cli_parser_init(&p, &doc, opts);
    int st = cli_parse(&p, opts, argc, argv, take_opt, &o);
    if (st >= 0)
        return st;
    const char *path = cli_one_operand(&doc, argc, argv, "a model or a capture");
    if (!path)
        return CLI_EXIT_USAGE;
    /* Sending on a default interface to a default address would put traffic where nobody
     * asked for it: both are explicit, except for a dry run, which sends nothing. */
    if (!o.rp.dry_run && !o.rp.iface)
        return cli_usage_error(doc.name, "name the interface to send on with --iface");
    if (!o.rp.dry_run && !o.rp.have_peer)
        return cli_usage_error(doc.name, "name the destination with --peer");
    if (o.rp.iface && o.rp.iface[0] == '\0')
        return cli_usage_error(doc.name, "--iface: empty name");
    return run(&o, path);
}
