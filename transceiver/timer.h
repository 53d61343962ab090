/* transceiver/timer.h - waiting for absolute deadlines on CLOCK_MONOTONIC.
 * sleep: clock_nanosleep(TIMER_ABSTIME) in slices of at most 50 ms so a stop is seen;
 * spin: busy-wait on the clock; hybrid (default): sleep until spin_ns before the deadline, then
 * spin. The clock is injected (struct trx_clock) so that tests run on a fake one. Setting the
 * timer slack to 1 ns (prctl PR_SET_TIMERSLACK) is trx_timer_setup()'s job: the default
 * 50 us slack makes sleeps wake 90-120 us late. */
#ifndef TRANSCEIVER_TIMER_H
#define TRANSCEIVER_TIMER_H

#include <signal.h>
#include <stdint.h>

#include "common/err.h"

enum trx_timer_mode { TRX_TIMER_SLEEP = 0, TRX_TIMER_SPIN, TRX_TIMER_HYBRID };

struct trx_clock {
    int64_t (*now)(void *arg);                           /* ns */
    void (*sleep_until)(void *arg, int64_t deadline_ns); /* may return early */
    void *arg;
};

/* The real clock: CLOCK_MONOTONIC and clock_nanosleep(TIMER_ABSTIME). */
void trx_clock_real(struct trx_clock *c);

/* Parse "sleep", "spin", "hybrid". Returns FM_OK or FM_EINVAL. */
FM_MUST_CHECK int trx_timer_mode_parse(const char *s, enum trx_timer_mode *out, struct fm_err *err);

/* Timer slack 1 ns; with realtime, SCHED_FIFO and mlockall (FM_EPERM when not permitted). */
FM_MUST_CHECK int trx_timer_setup(int realtime, struct fm_err *err);

/* Wait until deadline_ns (or *stop). Returns the clock's time at wake-up. */
int64_t trx_timer_wait(const struct trx_clock *c,
                       enum trx_timer_mode mode,
                       int64_t deadline_ns,
                       int64_t spin_ns,
                       volatile sig_atomic_t *stop);

#endif
