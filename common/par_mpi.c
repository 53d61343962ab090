/* common/par_mpi.c - common/par.h over MPI (Open MPI, MPICH): MPI_COMM_WORLD is the run.
 * Errors return (MPI_ERRORS_RETURN) rather than abort, so that a failed collective becomes
 * one line naming it; a rank that dies still ends the whole run, which is mpirun's doing. */
#include "common/par.h"

#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int started; /* MPI_Init_thread was called by us */
static int rank;
static int size = 1;

/* Whether an MPI launcher started this process: mpirun/mpiexec of Open MPI, PMIx or the
 * PMI of MPICH's hydra put the rank in the environment. */
static int launched(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        if (getenv(vars[i]))
            return 1;
    }
    return 0;
}

/* Wait for a nonblocking operation by testing it between naps: a rank waiting in a blocking
 * call polls without sleeping, and a few such ranks on a host with fewer cores starve the
 * two that are exchanging the clock's round trips (tens of ms a trip, measured), while the
 * nap costs at most its length, which nothing here is timed by. */
#define WAIT_NAP_NS 50000L

static void nap_until_done(MPI_Request *rq)
{
    int done = 0;
    while (MPI_Test(rq, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done) {
        struct timespec nap = {0, WAIT_NAP_NS};
        nanosleep(&nap, NULL);
    }
}

/* Naps until rq completes, then MPI_Wait (at once, on a completed request, or with the
 * error that MPI_Test saw). */
#define WAIT_REQ(rq) (nap_until_done(&(rq)), MPI_Wait(&(rq), MPI_STATUS_IGNORE))

static int fail(struct fm_err *err, const char *what, int code)
{
    char msg[MPI_MAX_ERROR_STRING];
    int n = 0;
    if (MPI_Error_string(code, msg, &n) != MPI_SUCCESS)
        snprintf(msg, sizeof(msg), "error %d", code);
    return fm_err_set(err, FM_ENET, "MPI %s on rank %d of %d: %s", what, rank, size, msg);
}

int fm_par_init(struct fm_err *err)
{
    int init = 0;
    if (started || !launched())
        return FM_OK;
    MPI_Initialized(&init);
    if (!init) {
        int provided = 0;
        int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
        if (rc != MPI_SUCCESS)
            return fm_err_set(err, FM_ENET,
                              "MPI_Init_thread failed (error %d): run under "
                              "mpirun, or without it for one rank",
                              rc);
    }
    started = 1;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return FM_OK;
}

void fm_par_fini(void)
{
    int fin = 0;
    if (!started)
        return;
    MPI_Finalized(&fin);
    if (!fin)
        MPI_Finalize();
    started = 0;
    rank = 0;
    size = 1;
}

int fm_par_rank(void)
{
    return rank;
}

int fm_par_size(void)
{
    return size;
}

const char *fm_par_impl(void)
{
    return "MPI";
}

int fm_par_all_ok(int ok)
{
    int v = ok != 0;
    if (!started)
        return v;
    int all = 0;
    MPI_Request rq = MPI_REQUEST_NULL;
    int rc = MPI_Iallreduce(&v, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD, &rq);
    int wrc = WAIT_REQ(rq);
    return rc == MPI_SUCCESS && wrc == MPI_SUCCESS ? all : 0;
}

int fm_par_barrier(struct fm_err *err)
{
    if (!started)
        return FM_OK;
    /* An allreduce of nothing much is a barrier (which the analyzer's MPI model lacks). */
    int one = 1;
    int all = 0;
    MPI_Request rq = MPI_REQUEST_NULL;
    int rc = MPI_Iallreduce(&one, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD, &rq);
    int wrc = WAIT_REQ(rq);
    rc = rc == MPI_SUCCESS ? wrc : rc;
    return rc == MPI_SUCCESS ? FM_OK : fail(err, "barrier", rc);
}

int fm_par_bcast(void *buf, size_t len, struct fm_err *err)
{
    if (!started || len == 0)
        return FM_OK;
    if (len > INT_MAX)
        return fm_err_set(err, FM_EINVAL, "MPI broadcast of %zu bytes: too long", len);
    MPI_Request rq = MPI_REQUEST_NULL;
    int rc = MPI_Ibcast(buf, (int)len, MPI_BYTE, 0, MPI_COMM_WORLD, &rq);
    int wrc = WAIT_REQ(rq);
    rc = rc == MPI_SUCCESS ? wrc : rc;
    return rc == MPI_SUCCESS ? FM_OK : fail(err, "broadcast", rc);
}

static int
reduce(void *v, size_t n, MPI_Datatype t, MPI_Op op, const char *what, struct fm_err *err)
{
    if (!started || n == 0)
        return FM_OK;
    if (n > INT_MAX)
        return fm_err_set(err, FM_EINVAL, "MPI %s of %zu values: too many", what, n);
    MPI_Request rq = MPI_REQUEST_NULL;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, v, (int)n, t, op, MPI_COMM_WORLD, &rq);
    int wrc = WAIT_REQ(rq);
    rc = rc == MPI_SUCCESS ? wrc : rc;
    return rc == MPI_SUCCESS ? FM_OK : fail(err, what, rc);
}

int fm_par_sum_u64(uint64_t *v, size_t n, struct fm_err *err)
{
    return reduce(v, n, MPI_UINT64_T, MPI_SUM, "sum", err);
}

int fm_par_max_i64(int64_t *v, size_t n, struct fm_err *err)
{
    return reduce(v, n, MPI_INT64_T, MPI_MAX, "maximum", err);
}

int fm_par_min_i64(int64_t *v, size_t n, struct fm_err *err)
{
    return reduce(v, n, MPI_INT64_T, MPI_MIN, "minimum", err);
}

int fm_par_gather(const void *mine, size_t len, void *all, struct fm_err *err)
{
    if (!started) {
        if (len)
            memcpy(all, mine, len);
        return FM_OK;
    }
    if (len > INT_MAX / (size_t)size)
        return fm_err_set(err, FM_EINVAL, "MPI gather of %zu bytes a rank: too long", len);
    int rc = MPI_Gather(mine, (int)len, MPI_BYTE, all, (int)len, MPI_BYTE, 0, MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? FM_OK : fail(err, "gather", rc);
}

int fm_par_gatherv(const void *mine, size_t len, void **all, size_t *lens, struct fm_err *err)
{
    *all = NULL;
    if (!started) {
        lens[0] = len;
        if (len == 0)
            return FM_OK;
        *all = malloc(len);
        if (!*all)
            return fm_err_set(err, FM_ENOMEM, "gathering the ranks' records: out of memory");
        memcpy(*all, mine, len);
        return FM_OK;
    }
    /* Past this point every rank makes both calls whatever fails, so that none waits for a
     * rank that left: a root that cannot take the records receives nothing. */
    int n = len > INT_MAX ? 0 : (int)len;
    int *counts = NULL;
    int *displs = NULL;
    char *buf = NULL;
    int rc = FM_OK;
    if (rank == 0) {
        counts = calloc((size_t)size, sizeof(*counts));
        displs = calloc((size_t)size, sizeof(*displs));
        if (!counts || !displs) {
            free(counts);
            free(displs);
            counts = NULL;
            displs = NULL;
            rc = fm_err_set(err, FM_ENOMEM, "gathering the ranks' records: out of memory");
        }
    }
    int one = 0;
    int mrc = MPI_Gather(&n, 1, MPI_INT, counts ? counts : &one, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (mrc != MPI_SUCCESS && rc == FM_OK)
        rc = fail(err, "gather", mrc);
    size_t total = 0;
    if (rank == 0 && counts) {
        for (int r = 0; r < size; r++) {
            displs[r] = (int)(total < INT_MAX ? total : 0);
            total += (size_t)counts[r];
        }
        if (rc == FM_OK && total > INT_MAX)
            rc = fm_err_set(err, FM_EINVAL, "MPI gather of %zu bytes: too long", total);
        if (rc == FM_OK) {
            buf = malloc(total ? total : 1);
            if (!buf)
                rc = fm_err_set(err, FM_ENOMEM, "gathering the ranks' records: out of memory");
        }
        if (rc < 0)
            memset(counts, 0, (size_t)size * sizeof(*counts));
    }
    char dummy = 0;
    int zero = 0;
    mrc = MPI_Gatherv(mine, n, MPI_BYTE, buf ? buf : &dummy, counts ? counts : &zero,
                      displs ? displs : &zero, MPI_BYTE, 0, MPI_COMM_WORLD);
    if (mrc != MPI_SUCCESS && rc == FM_OK)
        rc = fail(err, "gather", mrc);
    if (rank == 0 && rc == FM_OK && counts) {
        for (int r = 0; r < size; r++)
            lens[r] = (size_t)counts[r];
        if (total) {
            *all = buf;
            buf = NULL;
        }
    }
    free(buf);
    free(counts);
    free(displs);
    return rc;
}

int fm_par_clock_offset(int64_t (*now)(void),
                        int64_t *offset_ns,
                        int64_t *rtt_ns,
                        struct fm_err *err)
{
    *offset_ns = 0;
    *rtt_ns = 0;
    if (!started || size <= 1)
        return FM_OK;
    int rc = MPI_SUCCESS;
    if (rank == 0) {
        /* Each rank in turn, told by a token: answer every ping with rank 0's time. */
        for (int r = 1; r < size && rc == MPI_SUCCESS; r++) {
            char token = 1;
            rc = MPI_Send(&token, 1, MPI_BYTE, r, 1, MPI_COMM_WORLD);
            for (int i = 0; i < FM_PAR_PINGS && rc == MPI_SUCCESS; i++) {
                char ping = 0;
                rc = MPI_Recv(&ping, 1, MPI_BYTE, r, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                int64_t t = now();
                if (rc == MPI_SUCCESS)
                    rc = MPI_Send(&t, 1, MPI_INT64_T, r, 0, MPI_COMM_WORLD);
            }
        }
    } else {
        /* Until its turn a rank naps: only the two ranks of a round trip run. */
        char token = 0;
        MPI_Request rq = MPI_REQUEST_NULL;
        rc = MPI_Irecv(&token, 1, MPI_BYTE, 0, 1, MPI_COMM_WORLD, &rq);
        int wrc = WAIT_REQ(rq);
        rc = rc == MPI_SUCCESS ? wrc : rc;
        int64_t best = INT64_MAX;
        for (int i = 0; i < FM_PAR_PINGS && rc == MPI_SUCCESS; i++) {
            char ping = 0;
            int64_t t0 = 0;
            int64_t t1 = now();
            rc = MPI_Send(&ping, 1, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
            if (rc == MPI_SUCCESS)
                rc = MPI_Recv(&t0, 1, MPI_INT64_T, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            int64_t t2 = now();
            if (rc == MPI_SUCCESS && t2 - t1 < best) {
                best = t2 - t1;
                *offset_ns = t0 - (t1 + (t2 - t1) / 2);
                *rtt_ns = best;
            }
        }
    }
    return rc == MPI_SUCCESS ? FM_OK : fail(err, "clock offset", rc);
}
