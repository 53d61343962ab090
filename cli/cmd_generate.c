/* cli/cmd_generate.c - `flowmimic generate`: draw packets from a model into a pcap file.
 * One model source per side played (transceiver/source_model.c); with --side both the two
 * sources are merged here by send time, the local side first on a tie. Packets go through the
 * pcap sink, which writes a temporary file and renames it into place only when the whole
 * capture has been written: an error or Ctrl-C leaves no file at all. */
#include "cli/cli.h"
#include "cli/jw.h"

#include "common/err.h"
#include "common/log.h"
#include "common/num.h"
#include "common/time.h"
#include "models/json.h"
#include "models/variant.h"
#include "transceiver/packet.h"
#include "transceiver/sink.h"
#include "transceiver/source.h"
#include "transceiver/source_capture.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    OPT_SIDE = 256,
    OPT_STREAMS,
    OPT_STAGGER_MS,
    OPT_VARIANT,
    OPT_RATE_SCALE,
    OPT_SEED,
    OPT_SRC,
    OPT_DST,
    OPT_SRC_PORT,
    OPT_DST_PORT,
    OPT_JSON,
};

static const struct cli_opt opts[] = {
    {"output", 'o', required_argument, "FILE", "the pcap file to write (required)"},
    {"side", OPT_SIDE, required_argument, "local|remote|both",
     "which side of the model sends (default local); both\nmerges the two sides in time order"},
    {"count", 'c', required_argument, "N", "stop after N packets in all"},
    {"duration", 'd', required_argument, "TIME",
     "no packet at or after TIME (90s, 1.5m; a number is\nseconds)"},
    {"streams", OPT_STREAMS, required_argument, "N",
     "independent streams per side, 1..4096 (default 1); stream s\nsends from source port + s "
     "with its own SSRC"},
    {"stagger-ms", OPT_STAGGER_MS, required_argument, "MS",
     "stream s starts at s * MS (default: the mean gap / N)"},
    {"variant", OPT_VARIANT, required_argument, "FILE[:NAME]",
     "apply a variant (default: the file's first one)"},
    {"rate-scale", OPT_RATE_SCALE, required_argument, "X",
     "multiply the packet rate by X (on top of the variant's)"},
    {"seed", OPT_SEED, required_argument, "N", "seed for the draws (default 1)"},
    {"src", OPT_SRC, required_argument, "IP", "source address (default: the model's)"},
    {"dst", OPT_DST, required_argument, "IP", "destination address (default: the model's)"},
    {"src-port", OPT_SRC_PORT, required_argument, "PORT",
     "source port of stream 0 (default: the variant's, then\nthe model's)"},
    {"dst-port", OPT_DST_PORT, required_argument, "PORT",
     "destination port (default: the variant's, then the model's)"},
    {"json", OPT_JSON, no_argument, NULL, "print the summary as JSON"},
    CLI_OPT_HELP_END,
};

static const struct cli_cmd_doc doc = {
    "generate",
    "[OPTIONS] -o FILE MODEL.json",
    "Draw packets from a model into a pcap file: UDP with an RTP header and a flowmimic probe.",
    "Gaps come from the side's inter-arrival mixture and payload lengths from its length\n"
    "mixture (at least 12 bytes, an RTP header). Each packet carries RTP version 2 with the\n"
    "model's payload type (96 if the flow was not RTP), 90 kHz timestamps, and a marker on the\n"
    "last packet of each burst when the model's side is video. Without --count or --duration,\n"
    "generate runs for the side's own duration (the longer side's with --side both). With\n"
    "both, the limit that comes first ends the capture.\n"
    "\n"
    "Addresses, ports, TTL and DSCP are the model's unless a variant or an option changes\n"
    "them; the options win over the variant. With --side both, --src and --src-port name\n"
    "the local side and the remote side sends from --dst to --src. Timestamps count from 0\n"
    "(1970-01-01 UTC), so the same seed gives the same file; shift them with `editcap -t`.\n"
    "Prints one line: FILE, packets, payload bytes, duration. Wireshark decodes the packets\n"
    "as RTP with 'Decode As' (tshark: -d udp.port==PORT,rtp).\n"
    "\nExamples:\n"
    "  flowmimic generate -o synth.pcap models/call-0.json\n"
    "  flowmimic generate --side both --duration 60 --streams 4 -o load.pcap call.json\n"
    "  flowmimic generate --variant variants.json:ef-marked --seed 7 -o ef.pcap call.json\n",
};

struct generate_opts {
    const char *output;
    int side; /* MDL_SIDE_LOCAL, MDL_SIDE_REMOTE or TRX_SIDE_BOTH */
    uint64_t count;
    double duration_s; /* 0: the model's */
    unsigned streams;
    double stagger_ms; /* < 0: automatic */
    const char *variant;
    double rate_scale;
    uint64_t seed;
    int have_src, have_dst;
    int src_version, dst_version;
    uint8_t src_ip[16], dst_ip[16];
    long src_port, dst_port; /* -1: not given */
    int json;
};

static int parse_ip(const char *what, const char *s, uint8_t *out, int *version, struct fm_err *err)
{
    memset(out, 0, 16);
    if (inet_pton(AF_INET, s, out) == 1) {
        *version = 4;
        return FM_OK;
    }
    if (inet_pton(AF_INET6, s, out) == 1) {
        *version = 6;
        return FM_OK;
    }
    return fm_err_set(err, FM_EINVAL, "%s: '%s' is not an IPv4 or IPv6 address", what, s);
}

/* Parse one option into o; returns FM_OK or FM_EINVAL with the message in err. */
static int take_opt(void *self, int c, const char *arg, struct fm_err *err)
{
    struct generate_opts *o = self;
    long v = 0;
    switch (c) {
    case 'o':
        o->output = arg;
        return FM_OK;
    case OPT_SIDE:
        return cli_parse_side(arg, &o->side, err);
    case 'c':
        if (fm_parse_u64(arg, 1000000000000ULL, "--count", &o->count, err) < 0)
            return FM_EINVAL;
        if (o->count == 0)
            return fm_err_set(err, FM_EINVAL, "--count: expected 1 or more, got '%s'", arg);
        return FM_OK;
    case 'd':
        if (fm_parse_duration(arg, 0, 1e8, "--duration", &o->duration_s, err) < 0)
            return FM_EINVAL;
        if (!(o->duration_s > 0.0))
            return fm_err_set(err, FM_EINVAL, "--duration: expected more than 0 s, got '%s'", arg);
        return FM_OK;
    case OPT_STREAMS:
        if (fm_parse_long(arg, 1, 4096, "--streams", &v, err) < 0)
            return FM_EINVAL;
        o->streams = (unsigned)v;
        return FM_OK;
    case OPT_STAGGER_MS:
        return fm_parse_double(arg, 0, 1e9, "--stagger-ms", &o->stagger_ms, err);
    case OPT_VARIANT:
        o->variant = arg;
        return FM_OK;
    case OPT_RATE_SCALE:
        return fm_parse_double(arg, 1e-3, 1e3, "--rate-scale", &o->rate_scale, err);
    case OPT_SEED:
        return fm_parse_u64(arg, UINT64_MAX, "--seed", &o->seed, err);
    case OPT_SRC:
        o->have_src = 1;
        return parse_ip("--src", arg, o->src_ip, &o->src_version, err);
    case OPT_DST:
        o->have_dst = 1;
        return parse_ip("--dst", arg, o->dst_ip, &o->dst_version, err);
    case OPT_SRC_PORT:
        return fm_parse_long(arg, 1, 65535, "--src-port", &o->src_port, err);
    case OPT_DST_PORT:
        return fm_parse_long(arg, 1, 65535, "--dst-port", &o->dst_port, err);
    case OPT_JSON:
        o->json = 1;
        return FM_OK;
    default:
        return fm_err_set(err, FM_EINVAL, "unhandled option");
    }
}

/* The source options for one side. With both sides, the remote one plays the mirror image of
 * the addresses and ports the user gave for the local one. */
static void side_opts(const struct generate_opts *o,
                      const struct mdl_variant *variant,
                      int side,
                      int mirror,
                      struct trx_model_opts *mo)
{
    trx_model_opts_init(mo);
    mo->side = side;
    mo->streams = o->streams;
    mo->duration_ns = (int64_t)llround(o->duration_s * 1e9);
    mo->stagger_ns = o->stagger_ms < 0 ? -1 : (int64_t)llround(o->stagger_ms * 1e6);
    mo->seed = o->seed;
    mo->variant = *variant;
    mo->rate_scale = o->rate_scale;
    int have_src = mirror ? o->have_dst : o->have_src;
    int have_dst = mirror ? o->have_src : o->have_dst;
    const uint8_t *src_ip = mirror ? o->dst_ip : o->src_ip;
    const uint8_t *dst_ip = mirror ? o->src_ip : o->dst_ip;
    mo->have_src_ip = have_src;
    mo->have_dst_ip = have_dst;
    mo->ip_version = (uint8_t)(o->have_src ? o->src_version : o->dst_version);
    if (have_src)
        memcpy(mo->src_ip, src_ip, 16);
    if (have_dst)
        memcpy(mo->dst_ip, dst_ip, 16);
    mo->src_port = (int)(mirror ? o->dst_port : o->src_port);
    mo->dst_port = (int)(mirror ? o->src_port : o->dst_port);
    if (mirror) {
        int t = mo->variant.src_port;
        mo->variant.src_port = mo->variant.dst_port;
        mo->variant.dst_port = t;
    }
}

struct tally {
    uint64_t packets, bytes;
};

/* A status line on a terminal, as for reading a capture: only after half a second. */
struct status {
    int tty, shown;
    int64_t start_ns, last_ns;
};

static void status_update(struct status *st, uint64_t packets, int64_t offset_ns, double total_s)
{
    if (!st->tty)
        return;
    int64_t now = fm_time_mono_ns();
    if (now - st->start_ns < FM_NS_PER_SEC / 2 || now - st->last_ns < FM_NS_PER_SEC / 5)
        return;
    st->last_ns = now;
    st->shown = 1;
    if (total_s > 0.0)
        fprintf(stderr, "\rgenerating: %llu packets, %.1f of %.1f s", (unsigned long long)packets,
                (double)offset_ns / 1e9, total_s);
    else
        fprintf(stderr, "\rgenerating: %llu packets, %.1f s", (unsigned long long)packets,
                (double)offset_ns / 1e9);
    fflush(stderr);
}

static void status_done(struct status *st)
{
    if (st->shown)
        fprintf(stderr, "\r\033[K");
    st->shown = 0;
}

static void print_summary(const struct generate_opts *o, const struct tally *t, int64_t last_ns)
{
    uint64_t packets = t[0].packets + t[1].packets;
    uint64_t bytes = t[0].bytes + t[1].bytes;
    double dur = packets ? (double)last_ns / 1e9 : 0.0;
    if (!o->json) {
        printf("%s\t%llu packets\t%llu payload bytes\t%.3f s\n", o->output,
               (unsigned long long)packets, (unsigned long long)bytes, dur);
        return;
    }
    static const char *const names[2] = {"local", "remote"};
    char seed_text[24];
    snprintf(seed_text, sizeof(seed_text), "%llu", (unsigned long long)o->seed);
    struct jw w;
    jw_init(&w, stdout);
    jw_obj_begin(&w, NULL);
    jw_str(&w, "output", o->output);
    jw_int(&w, "packets", (long long)packets);
    jw_int(&w, "payload_bytes", (long long)bytes);
    jw_num(&w, "duration_s", dur);
    jw_int(&w, "streams", (long long)o->streams);
    /* JSON readers take integers as doubles: above 2^53 a seed would not read back. */
    if (o->seed <= (1ULL << 53))
        jw_int(&w, "seed", (long long)o->seed);
    else
        jw_str(&w, "seed", seed_text);
    jw_obj_begin(&w, "sides");
    for (int s = 0; s < 2; s++) {
        if (o->side != TRX_SIDE_BOTH && o->side != s)
            continue;
        jw_obj_begin(&w, names[s]);
        jw_int(&w, "packets", (long long)t[s].packets);
        jw_int(&w, "payload_bytes", (long long)t[s].bytes);
        jw_obj_end(&w);
    }
    jw_obj_end(&w);
    jw_obj_end(&w);
    jw_finish(&w);
}

static int run(struct generate_opts *o, const char *model_path)
{
    struct mdl_model *m = NULL;
    struct trx_source *src[2] = {NULL, NULL};
    struct trx_sink *sink = NULL;
    uint8_t *buf = NULL;
    struct fm_err err = {0};
    struct mdl_variant variant;
    int rc = CLI_EXIT_RUNTIME;

    /* From here on Ctrl-C only sets cli_stop, so the temporary file is always cleaned up. */
    cli_signals_install();
    m = malloc(sizeof(*m));
    buf = malloc(TRX_MAX_PAYLOAD);
    if (!m || !buf) {
        fm_log_error("out of memory");
        goto out;
    }
    if (mdl_json_load(model_path, m, &err) < 0) {
        fm_log_error("%s", err.msg);
        goto out;
    }
    if (strcmp(m->proto, "udp") != 0) {
        fm_log_error("model '%s' is of a %s flow: generate writes UDP only", model_path, m->proto);
        goto out;
    }
    mdl_variant_init(&variant);
    if (o->variant && mdl_variant_load_spec(o->variant, &variant, &err) < 0) {
        fm_log_error("%s", err.msg);
        goto out;
    }
    int default_duration = o->count == 0 && o->duration_s == 0.0;
    if (default_duration) {
        for (int s = 0; s < 2; s++) {
            if ((o->side == s || o->side == TRX_SIDE_BOTH) &&
                m->sides[s].duration_s > o->duration_s)
                o->duration_s = m->sides[s].duration_s;
        }
    }
    for (int s = 0; s < 2; s++) {
        if (o->side != TRX_SIDE_BOTH && o->side != s)
            continue;
        if (mdl_variant_mtu_check(m, s, &variant, 1500, &err) < 0) { /* fragments, else */
            fm_log_error("%s", err.msg);
            goto out;
        }
        struct trx_model_opts mo;
        side_opts(o, &variant, s, o->side == TRX_SIDE_BOTH && s == MDL_SIDE_REMOTE, &mo);
        if (trx_source_model_new(m, &mo, &src[s], &err) < 0) {
            fm_log_error("model '%s': %s", model_path, err.msg);
            goto out;
        }
    }
    /* Checked after the sources, which explain a side without packets better. */
    if (default_duration && !(o->duration_s > 0.0)) {
        fm_log_error("model '%s' lasts 0 s on the side asked for: give --count or --duration",
                     model_path);
        goto out;
    }
    if (trx_sink_pcap_new(o->output, &sink, &err) < 0) {
        fm_log_error("%s", err.msg);
        goto out;
    }

    /* Merge: hold the next packet of each source and always write the earlier one. */
    struct trx_pkt next[2];
    int have[2] = {0, 0};
    for (int s = 0; s < 2; s++) {
        const uint8_t *orig = NULL;
        int r = src[s] ? trx_source_next(src[s], &next[s], &orig, &err) : 0;
        if (r < 0) {
            fm_log_error("%s", err.msg);
            goto out;
        }
        have[s] = r;
    }
    struct tally t[2] = {{0, 0}, {0, 0}};
    struct status st = {isatty(STDERR_FILENO) && fm_log_get_level() >= FM_LOG_WARN, 0,
                        fm_time_mono_ns(), 0};
    int64_t last_ns = 0;
    uint64_t written = 0;
    while (!cli_stop && (have[0] || have[1]) && (o->count == 0 || written < o->count)) {
        int s = !have[0] || (have[1] && next[1].offset_ns < next[0].offset_ns);
        const struct trx_pkt *p = &next[s];
        size_t len = trx_payload_build(p, NULL, buf, TRX_MAX_PAYLOAD);
        /* The probe says when the packet was sent: in a file, that is its timestamp. */
        if (pkt_payload_has_probe((uint32_t)len))
            pkt_probe_stamp(buf, p->offset_ns);
        if (trx_sink_send(sink, p, buf, len, p->offset_ns, &err) < 0) {
            status_done(&st);
            fm_log_error("%s", err.msg);
            goto out;
        }
        t[s].packets++;
        t[s].bytes += len;
        last_ns = p->offset_ns;
        written++;
        const uint8_t *orig = NULL;
        int r = trx_source_next(src[s], &next[s], &orig, &err);
        if (r < 0) {
            status_done(&st);
            fm_log_error("%s", err.msg);
            goto out;
        }
        have[s] = r;
        if ((written & 1023) == 0)
            status_update(&st, written, last_ns, o->duration_s);
    }
    status_done(&st);
    if (cli_stop) {
        fm_log_error("interrupted: no capture written");
        rc = CLI_EXIT_INTR;
        goto out;
    }
    rc = trx_sink_close(sink, 1, &err);
    sink = NULL;
    if (rc < 0) {
        fm_log_error("%s", err.msg);
        rc = CLI_EXIT_RUNTIME;
        goto out;
    }
    print_summary(o, t, last_ns);
    rc = CLI_EXIT_OK;
out:
    /* Anything still open here is an error or an interruption: discard the file. */
    trx_sink_discard(sink);
    trx_source_free(src[0]);
    trx_source_free(src[1]);
    free(buf);
    free(m);
    return rc;
}

int cmd_generate(int argc, char **argv)
{
    struct cli_parser p;
    struct generate_opts o;

    memset(&o, 0, sizeof(o));
    o.side = MDL_SIDE_LOCAL;
    o.streams = 1;
    o.stagger_ms = -1;
    o.rate_scale = 1.0;
    o.seed = 1;
    o.src_port = -1;
    o.dst_port = -1;
    cli_parser_init(&p, &doc, opts);
    int st = cli_parse(&p, opts, argc, argv, take_opt, &o);
    if (st >= 0)
        return st;
    const char *path = cli_one_operand(&doc, argc, argv, "a model file");
    if (!path)
        return CLI_EXIT_USAGE;
    if (!o.output)
        return cli_usage_error(doc.name, "name the pcap file to write with -o FILE");
    if (strcmp(o.output, "-") == 0)
        return cli_usage_error(doc.name, "-o: generate writes a file, not standard output");
    if (cli_check_output(o.output, 0) != CLI_EXIT_OK)
        return CLI_EXIT_RUNTIME;
    if (o.have_src && o.have_dst && o.src_version != o.dst_version)
        return cli_usage_error(doc.name, "--src is IPv%d but --dst is IPv%d", o.src_version,
                               o.dst_version);
    return run(&o, path);
}
