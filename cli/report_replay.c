/* cli/report_replay.c - what `replay` prints: the dry run's plan, the summary at the end
 * (text or JSON, with what replay --listen received), and for a run of several MPI ranks
 * how many, how far apart they started and, with -v, each rank's own share. */
#include "cli/report.h"

#include "common/log.h"
#include "models/model.h"
#include "packet/endpoint.h"

#include <stdio.h>
#include <string.h>

/* Packets shown by replay --dry-run. */
#define DRY_RUN_PACKETS 10

static int verbose(void)
{
    return fm_log_get_level() >= FM_LOG_INFO;
}

/* When rank k started, after the earliest rank. */
static double start_after_us(const struct trx_replay_ranks *rk, int k)
{
    int64_t t0 = rk->rank[0].start_real_ns;
    for (int i = 1; i < rk->size; i++)
        t0 = rk->rank[i].start_real_ns < t0 ? rk->rank[i].start_real_ns : t0;
    return (double)(rk->rank[k].start_real_ns - t0) / 1e3;
}

void cli_replay_ranks_text(const struct trx_replay_ranks *rk)
{
    if (!rk || rk->size <= 1 || !rk->rank)
        return;
    printf("ranks: %d, started within %.1f us of each other (on rank 0's clock)\n", rk->size,
           (double)rk->start_spread_ns / 1e3);
    if (!verbose())
        return;
    for (int i = 0; i < rk->size; i++) {
        const struct trx_replay_rank *k = &rk->rank[i];
        printf("  rank %d on %s: streams %u-%u, %llu packets, %llu bytes, lateness p50 %.1f us, "
               "p99 %.1f us, max %.1f us, %llu late, %llu errors, start +%.1f us (clock %+.1f "
               "us from rank 0's, over a %.1f us round trip)\n",
               k->rank, k->host, k->first_stream, k->first_stream + k->streams - 1,
               (unsigned long long)k->packets, (unsigned long long)k->bytes,
               (double)k->late_p50_ns / 1e3, (double)k->late_p99_ns / 1e3,
               (double)k->late_max_ns / 1e3, (unsigned long long)k->late,
               (unsigned long long)k->errors, start_after_us(rk, i),
               (double)-k->clock_offset_ns / 1e3, (double)k->clock_rtt_ns / 1e3);
    }
}

void cli_replay_ranks_json(struct jw *w, const struct trx_replay_ranks *rk)
{
    if (!rk || rk->size <= 1 || !rk->rank)
        return;
    jw_int(w, "ranks", rk->size);
    jw_num(w, "start_spread_us", (double)rk->start_spread_ns / 1e3);
    if (!verbose())
        return;
    jw_arr_begin(w, "per_rank");
    for (int i = 0; i < rk->size; i++) {
        const struct trx_replay_rank *k = &rk->rank[i];
        jw_obj_begin(w, NULL);
        jw_int(w, "rank", k->rank);
        jw_str(w, "host", k->host);
        jw_int(w, "first_stream", k->first_stream);
        jw_int(w, "streams", k->streams);
        jw_int(w, "packets", (long long)k->packets);
        jw_int(w, "bytes", (long long)k->bytes);
        jw_int(w, "late", (long long)k->late);
        jw_int(w, "errors", (long long)k->errors);
        jw_obj_begin(w, "lateness_us");
        jw_num(w, "p50", (double)k->late_p50_ns / 1e3);
        jw_num(w, "p99", (double)k->late_p99_ns / 1e3);
        jw_num(w, "max", (double)k->late_max_ns / 1e3);
        jw_obj_end(w);
        jw_num(w, "start_after_us", start_after_us(rk, i));
        jw_num(w, "clock_offset_us", (double)-k->clock_offset_ns / 1e3);
        jw_num(w, "clock_rtt_us", (double)k->clock_rtt_ns / 1e3);
        jw_obj_end(w);
    }
    jw_arr_end(w);
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
               o->streams == 1 ? "" : "s", r->rate_scale, (unsigned long long)r->seed);
    else
        printf(", %s, speed x%g", o->have_flow ? "one flow" : "all UDP", o->speed);
    char mode[64] = "raw IP";
    if (o->have_peer_mac) {
        const uint8_t *m = r->peer_mac;
        if (o->peer_mac_auto && !(o->iface && o->have_peer)) /* a dry run with neither */
            snprintf(mode, sizeof(mode), "link-layer to the next hop's MAC");
        else
            snprintf(mode, sizeof(mode), "link-layer to %02x:%02x:%02x:%02x:%02x:%02x%s", m[0],
                     m[1], m[2], m[3], m[4], m[5], o->peer_mac_auto ? ", the next hop's" : "");
    }
    printf("\n      on %s to %s (%s), timer %s\n", o->iface ? o->iface : "(no interface)",
           o->have_peer ? "--peer" : "the recorded addresses", mode,
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
    cli_receive_notes(rs, &info, NULL);
    if (r->lis.rc < 0 && r->lis.rc != FM_EINTR)
        fm_log_error("--listen: %s", r->lis.err.msg);
}
