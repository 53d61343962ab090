/* estimator/run.c - `estimate` as one call: two passes, flow selection, a fit per flow. */
#include "estimator/run.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Resolve selections against the flows of path ranked as `flows` lists them: indexes into
 * idx (room for max(n, nsel)), without duplicates, in the order given; with nsel 0 the first
 * top (at least 1). FM_OK, FM_EFORMAT (no flows at all) or FM_ENOTFOUND (a flow that is not
 * there), with a message naming the capture and what to run. */
static int select_flows(const char *path,
                        struct est_flow *const *flows,
                        size_t n,
                        const struct est_selection *sel,
                        size_t nsel,
                        long top,
                        size_t *idx,
                        size_t *nidx,
                        struct fm_err *err)
{
    *nidx = 0;
    if (n == 0)
        return fm_err_set(err, FM_EFORMAT, "'%s' holds no UDP or TCP flows to estimate", path);
    if (nsel == 0) {
        size_t want = top > 0 ? (size_t)top : 1;
        for (size_t i = 0; i < want && i < n; i++)
            idx[(*nidx)++] = i;
        return FM_OK;
    }
    for (size_t s = 0; s < nsel; s++) {
        const struct est_selection *e = &sel[s];
        size_t found = n;
        if (e->is_index) {
            if (e->index >= n)
                return fm_err_set(err, FM_ENOTFOUND,
                                  "flow %zu is not in '%s', which has %zu flows (0 to %zu): see "
                                  "'flowmimic flows %s'",
                                  e->index, path, n, n - 1, path);
            found = e->index;
        } else {
            for (size_t i = 0; i < n; i++) {
                if (pkt_flow_key_equal(&flows[i]->key, &e->key)) {
                    found = i;
                    break;
                }
            }
            if (found == n)
                return fm_err_set(err, FM_ENOTFOUND,
                                  "flow '%s' is not in '%s': see 'flowmimic flows %s'", e->text,
                                  path, path);
        }
        int dup = 0;
        for (size_t j = 0; j < *nidx; j++)
            dup |= idx[j] == found;
        if (!dup)
            idx[(*nidx)++] = found;
    }
    return FM_OK;
}

static int read_pass(const char *path,
                     const struct est_run_opts *o,
                     struct est_flow_table *t,
                     struct est_run_result *res,
                     struct fm_err *err)
{
    int rc = est_read_capture(path, t, &res->read, o->progress, o->progress_arg, o->stop, err);
    if (rc == FM_EINTR)
        return fm_err_set(err, FM_EINTR,
                          "interrupted while reading '%s' after %llu frames: no model written",
                          path, (unsigned long long)res->read.frames);
    return rc;
}

int est_estimate_run(const char *path,
                     const struct est_run_opts *o,
                     const struct est_run_cb *cb,
                     struct est_run_result *res,
                     struct fm_err *err)
{
    return est_estimate_run_shard(path, o, 0, 1, cb, res, err);
}

int est_estimate_run_shard(const char *path,
                           const struct est_run_opts *o,
                           size_t shard,
                           size_t nshards,
                           const struct est_run_cb *cb,
                           struct est_run_result *res,
                           struct fm_err *err)
{
    struct est_flow_table *t1 = NULL, *t2 = NULL;
    size_t *idx = NULL;
    size_t nidx = 0;
    int rc;

    memset(res, 0, sizeof(*res));
    /* Two passes need a file that can be read twice. */
    struct stat sb;
    if (strcmp(path, "-") == 0 ||
        (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode)))
        return fm_err_set(err, FM_EINVAL,
                          "'%s' is not a regular file: estimate reads the capture twice, so save "
                          "it to a file first",
                          path);
    t1 = est_flow_table_new();
    t2 = est_flow_table_new();
    if (!t1 || !t2) {
        rc = fm_err_set(err, FM_ENOMEM, "out of memory");
        goto out;
    }
    rc = read_pass(path, o, t1, res, err);
    if (rc < 0)
        goto out;
    size_t n = 0;
    struct est_flow *const *flows = est_flow_table_sorted(t1, &n);
    size_t room = n > o->nsel ? n : o->nsel;
    idx = flows ? calloc(room ? room : 1, sizeof(*idx)) : NULL;
    if (!idx) {
        rc = fm_err_set(err, FM_ENOMEM, "out of memory");
        goto out;
    }
    rc = select_flows(path, flows, n, o->sel, o->nsel, o->top, idx, &nidx, err);
    if (rc < 0)
        goto out;
    res->selected = nidx;
    if (cb->selected && (rc = cb->selected(cb->arg, nidx, err)) != 0)
        goto out;

    /* The second pass keeps the series of this shard's selected flows only. */
    size_t nsh = nshards > 1 ? nshards : 1;
    for (size_t i = 0; i < nidx; i++) {
        if (i % nsh != shard % nsh)
            continue;
        res->mine++;
        rc = est_flow_table_watch(t2, &flows[idx[i]]->key, err);
        if (rc < 0)
            goto out;
    }
    /* A shard without flows has nothing to read again. */
    if (res->mine == 0) {
        rc = FM_OK;
        goto out;
    }
    rc = read_pass(path, o, t2, res, err);
    if (rc < 0)
        goto out;
    size_t n2 = 0;
    struct est_flow *const *flows2 = est_flow_table_sorted(t2, &n2);
    if (!flows2) {
        rc = fm_err_set(err, FM_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nidx; i++) {
        if (i % nsh != shard % nsh)
            continue;
        if (o->stop && *o->stop) {
            rc = fm_err_set(err, FM_EINTR,
                            "interrupted: the models listed above were written completely, no "
                            "others");
            goto out;
        }
        size_t fi = idx[i];
        /* The same file read the same way ranks its flows the same way. */
        if (fi >= n2 || !pkt_flow_key_equal(&flows2[fi]->key, &flows[fi]->key)) {
            rc = fm_err_set(err, FM_EIO, "'%s' changed while it was being read", path);
            goto out;
        }
        const struct est_flow *f = flows2[fi];
        struct mdl_model model;
        if (cb->fitting)
            cb->fitting(cb->arg, fi, f->side[0].packets + f->side[1].packets);
        struct fm_err ferr = {0};
        rc = est_model_from_flow(f, path, o->est, &model, &ferr);
        if (cb->fitted)
            cb->fitted(cb->arg);
        if (rc < 0) {
            fm_err_set(err, rc, "flow %zu of '%s': %s", fi, path, ferr.msg);
            goto out;
        }
        rc = cb->model(cb->arg, fi, f, &model, err);
        if (rc != 0)
            goto out;
        res->done++;
        res->packets += f->side[0].packets + f->side[1].packets;
    }
    /* A stop that came after the last model interrupted nothing. */
    rc = FM_OK;
out:
    free(idx);
    est_flow_table_free(t1);
    est_flow_table_free(t2);
    return rc;
}
