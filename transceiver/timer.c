/* transceiver/timer.c - waiting for absolute deadlines: sleep, spin or both (hybrid).
 * Every wait targets an absolute time on CLOCK_MONOTONIC, never a relative gap, so a late
 * wake-up makes one packet late and does not push back the ones after it (tcpreplay's
 * relative sleeps drift by several percent over a long run for that reason). */
#include "transceiver/timer.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>

/* A sleep never lasts longer than this, so that a stop request (Ctrl-C) is seen within it
 * even when the next deadline is minutes away. */
#define MAX_SLEEP_NS 50000000LL

/* SCHED_FIFO priority for --realtime: above every normal task, well below the kernel's own
 * realtime threads (which use 50 and up), so a spinning sender cannot starve interrupts. */
#define RT_PRIORITY 10

static int64_t real_now(void *arg)
{
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void real_sleep_until(void *arg, int64_t deadline_ns)
{
    (void)arg;
    struct timespec ts;
    ts.tv_sec = (time_t)(deadline_ns / 1000000000LL);
    ts.tv_nsec = (long)(deadline_ns % 1000000000LL);
    /* An interrupted sleep returns early; the caller's loop sleeps again or sees the stop. */
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

void trx_clock_real(struct trx_clock *c)
{
    c->now = real_now;
    c->sleep_until = real_sleep_until;
    c->arg = NULL;
}

int trx_timer_mode_parse(const char *s, enum trx_timer_mode *out, struct fm_err *err)
{
    if (strcmp(s, "sleep") == 0)
        *out = TRX_TIMER_SLEEP;
    else if (strcmp(s, "spin") == 0)
        *out = TRX_TIMER_SPIN;
    else if (strcmp(s, "hybrid") == 0)
        *out = TRX_TIMER_HYBRID;
    else
        return fm_err_set(err, FM_EINVAL, "--timer: expected sleep, spin or hybrid, got '%s'", s);
    return FM_OK;
}

int trx_timer_setup(int realtime, struct fm_err *err)
{
    /* The default 50 us slack lets the kernel coalesce our wake-ups with others: measured
     * here, plain sleeps then wake 90-120 us late. 1 ns asks for the hrtimer as set. */
    if (prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) != 0)
        return fm_err_errno(err, FM_EIO, errno, "cannot set the timer slack");
    if (!realtime)
        return FM_OK;
    struct sched_param sp;
    memset(&sp, 0, sizeof(sp));
    sp.sched_priority = RT_PRIORITY;
    if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0) {
        if (errno == EPERM)
            return fm_err_set(err, FM_EPERM,
                              "--realtime: SCHED_FIFO needs root or CAP_SYS_NICE (or an "
                              "RLIMIT_RTPRIO limit above 0)");
        return fm_err_errno(err, FM_EIO, errno, "--realtime: cannot switch to SCHED_FIFO");
    }
    /* MCL_ONFAULT locks pages as they are touched rather than every mapping up front, which
     * keeps sanitizer shadow memory and large reserved heaps from being pinned whole. */
    if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0) {
        int e = errno;
        if (e == EPERM)
            return fm_err_set(err, FM_EPERM, "--realtime: mlockall needs root or CAP_IPC_LOCK");
        return fm_err_errno(err, FM_EIO, e, "--realtime: cannot lock memory");
    }
    return FM_OK;
}

/* Sleep until target in slices of at most MAX_SLEEP_NS, returning early on a stop. Returns
 * the clock's time on return, which may be before target when stopped. */
static int64_t
sleep_to(const struct trx_clock *c, int64_t target, const volatile sig_atomic_t *stop)
{
    int64_t now = c->now(c->arg);
    while (now < target && !(stop && *stop)) {
        int64_t slice = target - now > MAX_SLEEP_NS ? now + MAX_SLEEP_NS : target;
        c->sleep_until(c->arg, slice);
        now = c->now(c->arg);
    }
    return now;
}

static int64_t spin_to(const struct trx_clock *c, int64_t target, const volatile sig_atomic_t *stop)
{
    int64_t now = c->now(c->arg);
    while (now < target && !(stop && *stop))
        now = c->now(c->arg);
    return now;
}

int64_t trx_timer_wait(const struct trx_clock *c,
                       enum trx_timer_mode mode,
                       int64_t deadline_ns,
                       int64_t spin_ns,
                       volatile sig_atomic_t *stop)
{
    switch (mode) {
    case TRX_TIMER_SLEEP:
        return sleep_to(c, deadline_ns, stop);
    case TRX_TIMER_SPIN:
        return spin_to(c, deadline_ns, stop);
    case TRX_TIMER_HYBRID:
    default:
        /* Sleep through all but the last stretch, where the wake-up latency lives, then
         * spin on the clock for that stretch only. */
        if (spin_ns < 0)
            spin_ns = 0;
        sleep_to(c, deadline_ns - spin_ns, stop);
        return spin_to(c, deadline_ns, stop);
    }
}
