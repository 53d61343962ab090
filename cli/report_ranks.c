/* cli/report_ranks.c - what replay adds to its summary for a run of several MPI ranks: how
 * many ranks, how far apart they started, and with -v each rank's own share. */
#include "cli/report.h"

#include "common/log.h"

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
    printf("ranks: %d, started within %.1f us of each other (their wall clocks)\n", rk->size,
           (double)rk->start_spread_ns / 1e3);
    if (!verbose())
        return;
    for (int i = 0; i < rk->size; i++) {
        const struct trx_replay_rank *k = &rk->rank[i];
        printf("  rank %d on %s: streams %u-%u, %llu packets, %llu bytes, lateness p50 %.1f us, "
               "p99 %.1f us, max %.1f us, %llu late, %llu errors, start +%.1f us\n",
               k->rank, k->host, k->first_stream, k->first_stream + k->streams - 1,
               (unsigned long long)k->packets, (unsigned long long)k->bytes,
               (double)k->late_p50_ns / 1e3, (double)k->late_p99_ns / 1e3,
               (double)k->late_max_ns / 1e3, (unsigned long long)k->late,
               (unsigned long long)k->errors, start_after_us(rk, i));
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
        jw_obj_end(w);
    }
    jw_arr_end(w);
}
