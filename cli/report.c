/* cli/report.c - what `receive` and `replay` print while they run, and what `receive`
 * prints at the end: the status line and the interval lines above it; the receive report,
 * printed by `receive` and by `replay --listen` (a table per stream, the same as JSON, and the
 * notes that belong on stderr), and its merge over mpirun's ranks. The replay plan and
 * summary are in cli/report_replay.c. */
#include "cli/report.h"

#include "common/log.h"
#include "common/par.h"
#include "models/model.h"
#include "packet/endpoint.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    /* The cap those packets were over: each receiver's (under mpirun, each rank's). */
    jw_int(w, "max_streams", (long long)t->max_streams);
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

static int verbose(void)
{
    return fm_log_get_level() >= FM_LOG_INFO;
}

void cli_receive_ranks_json(struct jw *w, const struct trx_rstats_merged *m)
{
    if (!m || m->size <= 1 || !m->rank)
        return;
    jw_int(w, "ranks", m->size);
    if (!verbose())
        return;
    jw_arr_begin(w, "per_rank");
    for (int i = 0; i < m->size; i++) {
        const struct trx_rstats_rank *k = &m->rank[i];
        jw_obj_begin(w, NULL);
        jw_int(w, "rank", k->rank);
        jw_str(w, "host", k->host);
        jw_int(w, "streams", (long long)k->t.streams);
        jw_int(w, "packets", (long long)k->t.packets);
        jw_int(w, "bytes", (long long)k->t.bytes);
        jw_int(w, "lost", (long long)k->t.lost);
        jw_int(w, "over_stream_cap", (long long)k->t.over_cap);
        jw_obj_end(w);
    }
    jw_arr_end(w);
}

int cli_receive_ranks(int json,
                      struct trx_rstats *rs,
                      const struct trx_recv_info *info,
                      int interrupted)
{
    struct fm_err err = {0};
    struct trx_rstats_merged m;
    /* The receivers' own counters: summed, and the longest run. */
    struct trx_recv_info all = *info;
    uint64_t sums[5] = {info->kernel_drops, info->skipped, info->truncated, info->no_kernel_ts,
                        info->written};
    int64_t most[2] = {info->elapsed_ns, interrupted};
    int rc = trx_rstats_gather(rs, &m, &err);
    if (rc == FM_OK)
        rc = fm_par_sum_u64(sums, 5, &err);
    if (rc == FM_OK)
        rc = fm_par_max_i64(most, 2, &err);
    if (rc < 0) {
        fm_log_error("%s: each rank reports its own streams", err.msg);
        return -1;
    }
    if (fm_par_rank() != 0)
        return 1;
    all.kernel_drops = sums[0];
    all.skipped = sums[1];
    all.truncated = sums[2];
    all.no_kernel_ts = sums[3];
    all.written = sums[4];
    all.elapsed_ns = most[0];
    if (json) {
        struct jw w;
        jw_init(&w, stdout);
        cli_receive_json_of(&w, NULL, &m, &all, (int)most[1], NULL);
        jw_finish(&w);
    } else {
        cli_receive_table_of(m.s, m.n);
        if (m.t.streams)
            printf("\ntotal: %llu packets, %llu lost by RTP sequence, %llu dropped by the kernel\n",
                   (unsigned long long)m.t.packets, (unsigned long long)m.t.lost,
                   (unsigned long long)all.kernel_drops);
        printf("ranks: %d, each receiving what is addressed to it\n", m.size);
        for (int i = 0; verbose() && i < m.size; i++) {
            const struct trx_rstats_rank *k = &m.rank[i];
            printf("  rank %d on %s: %zu streams, %llu packets, %llu bytes, %llu lost", k->rank,
                   k->host, k->t.streams, (unsigned long long)k->t.packets,
                   (unsigned long long)k->t.bytes, (unsigned long long)k->t.lost);
            if (k->t.over_cap)
                printf(", %llu over its cap of %zu streams", (unsigned long long)k->t.over_cap,
                       k->t.max_streams);
            printf("\n");
        }
    }
    fflush(stdout);
    trx_rstats_merged_free(&m);
    return 0;
}
