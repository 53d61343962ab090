/* cli/estimate_ranks.c - `estimate` under mpirun: the merge on rank 0; see estimate_ranks.h. */
#include "cli/estimate_ranks.h"
#include "cli/cli.h"

#include "common/log.h"
#include "common/par.h"
#include "common/time.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The stem of a capture's file name: "dir/call.pcapng" -> "call". */
void cli_est_stem(const char *path, char *buf, size_t size)
{
    const char *base = strrchr(path, '/');
    snprintf(buf, size, "%s", base ? base + 1 : path);
    char *dot = strrchr(buf, '.');
    if (dot && dot != buf)
        *dot = '\0';
}

int cli_est_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int cli_est_ensure_dir(const char *path, struct fm_err *err)
{
    if (cli_est_is_dir(path))
        return FM_OK;
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return fm_err_errno(err, FM_EIO, errno, "cannot create directory '%s'", path);
    return FM_OK;
}

/* Several captures write into one directory, each model named after its capture. */
int cli_est_check_captures(const char *cmd, const char *output, char **caps, size_t n)
{
    char a[200], b[200];
    if (n > 1 && output && !cli_est_is_dir(output) && output[strlen(output) - 1] != '/')
        return cli_usage_error(cmd,
                               "-o names one file but %zu captures are given: give a "
                               "directory",
                               n);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            cli_est_stem(caps[i], a, sizeof(a));
            cli_est_stem(caps[j], b, sizeof(b));
            if (strcmp(a, b) == 0)
                return cli_usage_error(cmd,
                                       "'%s' and '%s' would both write %s-INDEX.json: "
                                       "run them apart or rename one",
                                       caps[i], caps[j], a);
        }
    }
    return CLI_EXIT_OK;
}

/* The notes of a model's sides (why a feature has no model), as warnings. */
void cli_est_notes(const struct mdl_model *m, size_t index)
{
    static const char *const names[2] = {"local", "remote"};
    for (int s = 0; s < 2; s++) {
        if (m->sides[s].present && m->sides[s].note[0])
            fm_log_warn("flow %zu, %s side: %s", index, names[s], m->sides[s].note);
    }
    if (m->reordered)
        fm_log_info("flow %zu: %llu packets had timestamps out of order and were put in order",
                    index, (unsigned long long)m->reordered);
}

/* Rank 0: the models of every rank in selection order, up to the first position a rank did
 * not reach (as one process writes the models before a failure, and none after it). */
static int emit_all(const struct cli_est_rank *recs,
                    const unsigned char *all,
                    const size_t *lens,
                    size_t n,
                    size_t first,
                    cli_est_emit_fn emit,
                    void *arg,
                    struct fm_err *err)
{
    size_t *off = calloc(n, sizeof(*off));
    if (!off)
        return fm_err_set(err, FM_ENOMEM, "out of memory");
    for (size_t r = 1; r < n; r++)
        off[r] = off[r - 1] + lens[r - 1];
    int rc = FM_OK;
    for (size_t p = 0; p < recs[0].selected && rc == FM_OK; p++) {
        size_t r = (p + first) % n, k = p / n;
        if (k >= recs[r].done || (k + 1) * sizeof(struct cli_est_kept) > lens[r])
            break;
        struct cli_est_kept *kp = malloc(sizeof(*kp));
        if (!kp) {
            rc = fm_err_set(err, FM_ENOMEM, "out of memory");
            break;
        }
        /* Copied out: the gathered bytes need not be aligned for the struct. */
        memcpy(kp, all + off[r] + k * sizeof(*kp), sizeof(*kp));
        rc = emit(arg, (size_t)kp->index, &kp->m, err);
        free(kp);
    }
    free(off);
    return rc;
}

int cli_estimate_ranks(const char *cmd,
                       const struct est_run_result *res,
                       int rc,
                       int usage,
                       const char *msg,
                       int64_t t0,
                       size_t off,
                       const struct cli_est_kept *kept,
                       size_t nkept,
                       cli_est_emit_fn emit,
                       void *arg)
{
    struct cli_est_rank me;
    memset(&me, 0, sizeof(me));
    me.code = rc < 0 ? rc : FM_OK;
    me.usage = usage;
    me.selected = res->selected;
    me.mine = res->mine;
    me.done = res->done;
    me.packets = res->packets;
    me.frames = res->read.frames;
    me.seconds = (double)(fm_time_mono_ns() - t0) / 1e9;
    snprintf(me.msg, sizeof(me.msg), "%s", msg);
    const struct cli_est_rank *mine = &me;
    size_t n = (size_t)fm_par_size();
    int rank = fm_par_rank();
    struct cli_est_rank *recs = rank == 0 ? calloc(n, sizeof(*recs)) : NULL;
    size_t *lens = rank == 0 ? calloc(n, sizeof(*lens)) : NULL;
    void *all = NULL;
    struct fm_err err = {0};
    int32_t status = CLI_EXIT_RUNTIME;
    /* Every rank makes both calls whatever happened, so that none waits for another. */
    int ok = rank != 0 || (recs && lens);
    int grc = fm_par_gather(mine, sizeof(*mine), recs, &err);
    int vrc = fm_par_gatherv(kept, nkept * sizeof(*kept), &all, lens, &err);
    if (rank == 0) {
        if (!ok || grc < 0 || vrc < 0) {
            fm_log_error("%s", ok ? err.msg : "out of memory");
            goto done;
        }
        /* The lowest rank that failed speaks for the run; a usage error (every rank makes
         * the same selection) and Ctrl-C keep their exit statuses. */
        size_t bad = n;
        for (size_t r = 0; r < n && bad == n; r++)
            if (recs[r].code != FM_OK)
                bad = r;
        int erc = emit_all(recs, all, lens, n, off % n, emit, arg, &err);
        if (fm_log_get_level() >= FM_LOG_INFO) {
            for (size_t r = 0; r < n; r++)
                fm_log_info("rank %zu of %zu: %llu of %llu flows fitted (%llu packets), %llu "
                            "frames read, %.2f s",
                            r, n, (unsigned long long)recs[r].done,
                            (unsigned long long)recs[r].mine, (unsigned long long)recs[r].packets,
                            (unsigned long long)recs[r].frames, recs[r].seconds);
        }
        if (bad < n) {
            const struct cli_est_rank *b = &recs[bad];
            char where[64] = "";
            if (bad > 0)
                snprintf(where, sizeof(where), "rank %zu of %zu: ", bad, n);
            if (b->usage) {
                status = (int32_t)cli_usage_error(cmd, "%s%s", where, b->msg);
                goto done;
            }
            fm_log_error("%s%s", where, b->msg);
            status = b->code == FM_EINTR ? CLI_EXIT_INTR : CLI_EXIT_RUNTIME;
            goto done;
        }
        if (erc != FM_OK) {
            fm_log_error("%s", err.msg);
            goto done;
        }
        status = CLI_EXIT_OK;
    }
done:
    /* Rank 0's verdict is every rank's exit status. */
    if (fm_par_bcast(&status, sizeof(status), &err) < 0 && rank != 0)
        status = CLI_EXIT_RUNTIME;
    free(all);
    free(lens);
    free(recs);
    return status;
}
