/* cli/report_ranks.c - runs of several MPI ranks: what replay adds to its merged summary (how
 * many ranks, how far apart they started, with -v each rank's own share), and receive's one
 * report of every rank's streams. */
#include "cli/report.h"

#include "common/log.h"
#include "common/par.h"

#include <stdio.h>

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
            printf("  rank %d on %s: %zu streams, %llu packets, %llu bytes, %llu lost\n", k->rank,
                   k->host, k->t.streams, (unsigned long long)k->t.packets,
                   (unsigned long long)k->t.bytes, (unsigned long long)k->t.lost);
        }
    }
    fflush(stdout);
    trx_rstats_merged_free(&m);
    return 0;
}
