/* cli/report.c - what `receive` and `replay` print: the status line and the interval lines
 * above it; the receive report, printed by `receive` and by `replay --listen` (a table per
 * stream, the same as JSON, and the notes that belong on stderr); the replay plan and summary. */
#include "cli/report.h"

#include "common/log.h"
#include "models/model.h"
#include "packet/endpoint.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Packets shown by replay --dry-run. */
#define DRY_RUN_PACKETS 10

void cli_status_init(struct cli_status *s, int64_t every_ns, int json)
{
    memset(s, 0, sizeof(*s));
    s->tty = isatty(STDERR_FILENO) && fm_log_get_level() >= FM_LOG_WARN;
    cli_interval_init(&s->iv, every_ns, json ? NULL : stdout, json);
}

void cli_status_tick(struct cli_status *s, const struct cli_interval_totals *t)
{
    if (s->shown && s->iv.text) /* the line goes above the status line */
        fprintf(stderr, "\r\033[K");
    cli_interval_tick(&s->iv, t);
}

void cli_status_show(struct cli_status *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputc('\r', stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
    s->shown = 1;
}

void cli_status_end(struct cli_status *s, const struct cli_interval_totals *t)
{
    if (s->shown)
        fprintf(stderr, "\r\033[K");
    cli_interval_finish(&s->iv, t);
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
    size_t n = 0;
    struct trx_stream_stats *ss = trx_rstats_streams(rs, &n);
    if (!ss && n) {
        fm_log_error("the receive table: out of memory");
        return;
    }
    cli_receive_table_of(ss, n);
    free(ss);
}

void cli_receive_table_of(const struct trx_stream_stats *ss, size_t n)
{
    printf("%3s %-28s %5s %-10s %3s %9s %11s %7s %6s %6s %5s %9s %8s %8s %9s\n", "#", "source",
           "dport", "ssrc", "pt", "packets", "bytes", "lost", "loss%", "reord", "dup", "jitter_ms",
           "jit_mean", "jit_max", "owd_ms");
    for (size_t i = 0; i < n; i++) {
        struct trx_stream_stats s = ss[i];
        char src[64];
        char ssrc[16];
        char pt[8];
        char lost[24];
        char loss[16];
        char reord[24];
        char dup[24];
        char jit[16];
        char jmean[16];
        char jmax[16];
        char owd[16];
        pkt_addr_port_format(s.ip_version, s.src, s.sport, src, sizeof(src));
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
        /* Mean and largest of RFC 3550's running value, from the RTP timestamps, as
         * tshark -z rtp,streams shows them. */
        col(jmean, sizeof(jmean), 8, 3, s.jitter_mean_ms);
        col(jmax, sizeof(jmax), 8, 3, s.jitter_max_ms);
        col(owd, sizeof(owd), 9, 3, ms(s.owd_mean_ns));
        printf("%3zu %-28s %5u %-10s %3s %9llu %11llu %s %s %s %s %s %s %s %s\n", i, src,
               (unsigned)s.dport, ssrc, pt, (unsigned long long)s.packets,
               (unsigned long long)s.bytes, lost, loss, reord, dup, jit, jmean, jmax, owd);
    }
    if (n == 0)
        return;
    printf("\n%3s %10s %10s %10s %10s %8s %7s %7s %7s %7s %10s\n", "#", "gap_p50_ms", "gap_p90_ms",
           "gap_p99_ms", "gap_max_ms", "len_mean", "len_p50", "len_p90", "len_p99", "len_max",
           "duration_s");
    for (size_t i = 0; i < n; i++) {
        struct trx_stream_stats s = ss[i];
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

static const char *clock_source_name(enum trx_clock_source c)
{
    switch (c) {
    case TRX_CLOCK_PAYLOAD_TYPE:
        return "payload type";
    case TRX_CLOCK_OPTION:
        return "option";
    case TRX_CLOCK_MEASURED:
        return "measured";
    case TRX_CLOCK_ASSUMED:
        return "assumed";
    }
    return "?";
}

static void json_stream(struct jw *w, size_t i, const struct trx_stream_stats *s)
{
    char ip[INET6_ADDRSTRLEN];
    jw_obj_begin(w, NULL);
    jw_int(w, "index", (long long)i);
    pkt_addr_format(s->ip_version, s->src, ip, sizeof(ip));
    jw_str(w, "src", ip);
    jw_int(w, "sport", s->sport);
    pkt_addr_format(s->ip_version, s->dst, ip, sizeof(ip));
    jw_str(w, "dst", ip);
    jw_int(w, "dport", s->dport);
    jw_int(w, "rtp", s->rtp);
    if (s->rtp) {
        jw_int(w, "ssrc", (long long)s->ssrc);
        jw_int(w, "payload_type", s->rtp_pt);
        jw_int(w, "clock_rate_hz", (long long)s->clock_rate_hz);
        jw_str(w, "clock_source", clock_source_name(s->clock_source));
        jw_num(w, "clock_measured_hz", s->clock_measured_hz);
    } else {
        jw_null(w, "ssrc");
        jw_null(w, "payload_type");
        jw_null(w, "clock_rate_hz");
        jw_null(w, "clock_source");
        jw_null(w, "clock_measured_hz");
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
    jw_num(w, "jitter_mean_ms", s->jitter_mean_ms);
    jw_num(w, "jitter_max_ms", s->jitter_max_ms);
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
    struct trx_rstats_merged m;
    memset(&m, 0, sizeof(m));
    trx_rstats_totals(rs, &m.t);
    m.s = trx_rstats_streams(rs, &m.n);
    if (!m.s && m.n) {
        fm_log_error("the receive report: out of memory");
        return;
    }
    cli_receive_json_of(w, key, &m, info, interrupted, iv);
    free(m.s);
}

void cli_receive_json_of(struct jw *w,
                         const char *key,
                         const struct trx_rstats_merged *m,
                         const struct trx_recv_info *info,
                         int interrupted,
                         const struct cli_interval *iv)
{
    const struct trx_rstats_totals *t = &m->t;
    jw_obj_begin(w, key);
    jw_str(w, "mode", info->pcap_mode ? "pcap" : "socket");
    jw_int(w, "interrupted", interrupted);
    jw_num(w, "elapsed_s", (double)info->elapsed_ns / 1e9);
    jw_int(w, "packets", (long long)t->packets);
    jw_int(w, "bytes", (long long)t->bytes);
    jw_int(w, "lost", (long long)t->lost);
    jw_int(w, "kernel_drops", (long long)info->kernel_drops);
    jw_int(w, "rtcp", (long long)t->rtcp);
    jw_int(w, "skipped", (long long)info->skipped);
    jw_int(w, "truncated", (long long)info->truncated);
    jw_int(w, "over_stream_cap", (long long)t->over_cap);
    jw_int(w, "written", (long long)info->written);
    jw_arr_begin(w, "streams");
    for (size_t i = 0; i < m->n; i++)
        json_stream(w, i, &m->s[i]);
    jw_arr_end(w);
    if (iv)
        cli_interval_json(iv, w);
    cli_receive_ranks_json(w, m);
    jw_obj_end(w);
}

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
        if (s.rtp && s.clock_source == TRX_CLOCK_MEASURED)
            fm_log_info("stream %zu: payload type %u has no fixed clock; its timestamps advance "
                        "at %.0f Hz: jitter in %u Hz",
                        i, (unsigned)s.rtp_pt, s.clock_measured_hz, (unsigned)s.clock_rate_hz);
        if (s.rtp && s.clock_source == TRX_CLOCK_ASSUMED && s.packets > 1)
            fm_log_warn("stream %zu: payload type %u has no fixed clock and its timestamps show "
                        "none of 8, 16, 48 or 90 kHz: jitter assumes 90 kHz (--rtp-clock sets "
                        "it)",
                        i, (unsigned)s.rtp_pt);
        if (s.stray)
            fm_log_info("stream %zu: %llu packets fit nowhere in the sequence (a jump the next "
                        "packet did not confirm)",
                        i, (unsigned long long)s.stray);
    }
}

void cli_replay_totals(const struct trx_send_stats *s, struct cli_interval_totals *t)
{
    memset(t, 0, sizeof(*t));
    t->elapsed_ns = s->elapsed_ns;
    t->packets = s->packets;
    t->bytes = s->bytes;
    t->has_late = 1;
    t->late = s->late;
    t->late_max_ns = s->late_max_recent_ns;
}
static void replay_summary(int json,
                           const struct trx_send_stats *s,
                           const struct trx_capture_stats *cs,
                           const char *status,
                           const struct cli_interval *iv,
                           struct jw *outer,
                           const struct trx_replay_ranks *rk)
{
    if (json) {
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
        cli_replay_ranks_json(wp, rk);
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
        cli_replay_ranks_text(rk);
    }
    fflush(stdout);
}
int cli_replay_plan(const struct trx_replay_opts *o,
                    const char *path,
                    struct trx_replay *r,
                    struct fm_err *err)
{
    int model = r->kind == TRX_REPLAY_MODEL;
    printf("plan: replay %s %s", model ? "model" : "capture", path);
    if (model)
        printf(", side %s, %ld stream%s, rate x%g, seed %llu",
               o->side == MDL_SIDE_REMOTE ? "remote" : "local", o->streams,
               o->streams == 1 ? "" : "s", o->rate_scale, (unsigned long long)r->seed);
    else
        printf(", %s, speed x%g", o->have_flow ? "one flow" : "all UDP", o->speed);
    printf("\n      on %s to %s (%s), timer %s\n", o->iface ? o->iface : "(no interface)",
           o->have_peer ? "--peer" : "the recorded addresses",
           o->have_peer_mac ? "link-layer" : "raw IP",
           o->timer == TRX_TIMER_SLEEP  ? "sleep"
           : o->timer == TRX_TIMER_SPIN ? "spin"
                                        : "hybrid");
    const char *end = o->loops == 0 || o->have_duration ? "only on Ctrl-C"
                      : model                           ? "after the side's own duration"
                                                        : "at the end of the capture";
    printf("      stop: %s", o->count || o->duration_s > 0 ? "" : end);
    if (o->loops > 1 && !o->have_duration && !o->count)
        printf(", %u times", o->loops);
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
        rc = trx_source_next(r->src, &p, &orig, err);
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

void cli_replay_report(int json,
                       const struct trx_replay *r,
                       const struct trx_send_stats *st,
                       int send_rc,
                       const struct cli_interval *iv,
                       const struct trx_replay_ranks *rk)
{
    const char *state = trx_replay_state(send_rc, st);
    if (!r->lis.r) {
        replay_summary(json, st, r->kind == TRX_REPLAY_CAPTURE ? &r->capture : NULL, state, iv,
                       NULL, rk);
        return;
    }
    /* Both directions: one JSON object, or the send line and the receiver's tables. */
    struct trx_recv_info info;
    trx_receiver_info(r->lis.r, &info);
    struct trx_rstats *rs = trx_receiver_stats(r->lis.r);
    if (json) {
        struct jw w;
        jw_init(&w, stdout);
        jw_obj_begin(&w, NULL);
        replay_summary(json, st, NULL, state, iv, &w, NULL);
        cli_receive_json(&w, "received", rs, &info, send_rc == FM_EINTR, NULL);
        jw_obj_end(&w);
        jw_finish(&w);
    } else {
        replay_summary(json, st, NULL, state, iv, NULL, NULL);
        printf("\nreceived from the peer on UDP port %u:\n", (unsigned)r->own_port);
        cli_receive_table(rs);
    }
    fflush(stdout);
    cli_receive_notes(rs, &info);
    if (r->lis.rc < 0 && r->lis.rc != FM_EINTR)
        fm_log_error("--listen: %s", r->lis.err.msg);
}
