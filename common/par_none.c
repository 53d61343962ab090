/* common/par_none.c - common/par.h without MPI: one rank, whose collectives are the identity
 * (a sum over one rank is its own value). Built when CMake finds no MPI or FM_MPI=OFF. */
#include "common/par.h"

#include <stdlib.h>
#include <string.h>

int fm_par_init(struct fm_err *err)
{
    (void)err;
    return FM_OK;
}

void fm_par_fini(void)
{
}

int fm_par_rank(void)
{
    return 0;
}

int fm_par_size(void)
{
    return 1;
}

const char *fm_par_impl(void)
{
    return "none";
}

int fm_par_all_ok(int ok)
{
    return ok != 0;
}

int fm_par_barrier(struct fm_err *err)
{
    (void)err;
    return FM_OK;
}

int fm_par_bcast(void *buf, size_t len, struct fm_err *err)
{
    (void)buf;
    (void)len;
    (void)err;
    return FM_OK;
}

int fm_par_sum_u64(uint64_t *v, size_t n, struct fm_err *err)
{
    (void)v;
    (void)n;
    (void)err;
    return FM_OK;
}

int fm_par_max_i64(int64_t *v, size_t n, struct fm_err *err)
{
    (void)v;
    (void)n;
    (void)err;
    return FM_OK;
}

int fm_par_min_i64(int64_t *v, size_t n, struct fm_err *err)
{
    (void)v;
    (void)n;
    (void)err;
    return FM_OK;
}

int fm_par_gather(const void *mine, size_t len, void *all, struct fm_err *err)
{
    (void)err;
    if (len)
        memcpy(all, mine, len);
    return FM_OK;
}

int fm_par_gatherv(const void *mine, size_t len, void **all, size_t *lens, struct fm_err *err)
{
    *all = NULL;
    lens[0] = len;
    if (len == 0)
        return FM_OK;
    *all = malloc(len);
    if (!*all)
        return fm_err_set(err, FM_ENOMEM, "gathering the ranks' records: out of memory");
    memcpy(*all, mine, len);
    return FM_OK;
}

int fm_par_clock_offset(int64_t (*now)(void),
                        int64_t *offset_ns,
                        int64_t *rtt_ns,
                        struct fm_err *err)
{
    (void)now;
    (void)err;
    *offset_ns = 0;
    *rtt_ns = 0;
    return FM_OK;
}
