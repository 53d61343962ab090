/* common/par.h - the ranks of one run started by mpirun: who am I, how many are we, and the
 * few collectives that replay and receive need (a barrier, a broadcast from rank 0, sums,
 * maxima and minima over every rank, a gather of equal-sized records to rank 0).
 *
 * Two implementations behind this one API: par_mpi.c over MPI (built when CMake finds it,
 * FM_MPI=AUTO|ON|OFF) and par_none.c, one rank, where every collective is the identity.
 * MPI is initialised only when the process was started by an MPI launcher (its environment
 * names a rank: OMPI_COMM_WORLD_SIZE, PMIX_RANK, PMI_SIZE); otherwise an MPI build runs as one
 * rank without calling MPI_Init, so a command started by hand pays nothing for it (no
 * singleton start of the runtime). Only the calling thread may use the collectives
 * (MPI_THREAD_FUNNELED): receiver and listener threads never do.
 *
 * Every rank must make the same collective calls in the same order: a rank that fails alone
 * first says so through fm_par_all_ok(), which every rank calls, so that no rank waits in a
 * barrier for one that has left. Not thread-safe; the state is process-wide, as MPI's is. */
#ifndef COMMON_PAR_H
#define COMMON_PAR_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Join the run: MPI_Init_thread under an MPI launcher, nothing otherwise. Idempotent.
 * Returns FM_OK, or FM_ENET when MPI cannot start (the message says what failed). */
FM_MUST_CHECK int fm_par_init(struct fm_err *err);

/* Leave it (MPI_Finalize once, when fm_par_init() started MPI). Safe without init. */
void fm_par_fini(void);

/* This process's rank (0..size-1) and the number of ranks: 0 and 1 without a launcher. */
int fm_par_rank(void);
int fm_par_size(void);

/* "MPI" or "none": which implementation was built. */
const char *fm_par_impl(void);

/* Whether ok is true on every rank (a logical AND over the ranks); every rank gets the
 * answer. Returns 1 or 0; a failing collective counts as 0. */
int fm_par_all_ok(int ok);

/* Wait until every rank has called it. FM_OK or FM_ENET. */
FM_MUST_CHECK int fm_par_barrier(struct fm_err *err);

/* Rank 0's len bytes of buf, copied to buf on every rank. FM_OK or FM_ENET. */
FM_MUST_CHECK int fm_par_bcast(void *buf, size_t len, struct fm_err *err);

/* Element by element over every rank, the result in place on every rank: the sum of n
 * counters, the largest and the smallest of n values. FM_OK or FM_ENET. */
FM_MUST_CHECK int fm_par_sum_u64(uint64_t *v, size_t n, struct fm_err *err);
FM_MUST_CHECK int fm_par_max_i64(int64_t *v, size_t n, struct fm_err *err);
FM_MUST_CHECK int fm_par_min_i64(int64_t *v, size_t n, struct fm_err *err);

/* Round trips of fm_par_clock_offset() a rank makes with rank 0. */
#define FM_PAR_PINGS 16

/* Rank 0's clock minus this rank's, for the clock now() reads (ns): FM_PAR_PINGS round
 * trips with rank 0, one rank after another, and the fastest one's midpoint, as NTP does
 * (its error is at most half that round trip; a trip that waited for the scheduler is not
 * the fastest). *rtt_ns: that round trip. 0 and 0 on rank 0. Collective. FM_OK or FM_ENET. */
FM_MUST_CHECK int
fm_par_clock_offset(int64_t (*now)(void), int64_t *offset_ns, int64_t *rtt_ns, struct fm_err *err);

/* Every rank's len bytes of mine, in rank order, into all (size * len bytes) on rank 0;
 * all is not touched on other ranks (it may be NULL there). The records are copied as
 * bytes: ranks run the same build (mpirun starts one program), so layouts agree.
 * FM_OK or FM_ENET. */
FM_MUST_CHECK int fm_par_gather(const void *mine, size_t len, void *all, struct fm_err *err);

/* The same with a length of each rank's own (below 2 GiB): on rank 0, *all is a new buffer of
 * the records end to end in rank order (the caller frees it; NULL when all are empty) and
 * lens[r] the length of rank r's (lens holds fm_par_size() entries). Elsewhere *all is NULL
 * and lens is not touched. FM_OK, FM_EINVAL (len too long), FM_ENOMEM or FM_ENET. */
FM_MUST_CHECK int
fm_par_gatherv(const void *mine, size_t len, void **all, size_t *lens, struct fm_err *err);

#endif
