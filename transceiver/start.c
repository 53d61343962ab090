/* transceiver/start.c - a common start on the wall clock, and the clocks' offset. */
#include "transceiver/start.h"

#include <time.h>

#define NS_PER_SEC 1000000000LL
#define SLICE_NS   100000000LL

static int64_t realtime_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * NS_PER_SEC + now.tv_nsec;
}

int trx_start_target(int relative, double seconds, int64_t *target_ns, struct fm_err *err)
{
    int64_t now_ns = realtime_ns();
    /* Judged in seconds first: a time past year 2262 has no int64 nanosecond count. */
    double ahead_s = relative ? seconds : seconds - (double)now_ns / 1e9;
    if (!(ahead_s <= (double)TRX_START_MAX_AHEAD_S))
        return fm_err_set(err, FM_EINVAL,
                          "is %.1f hours from now, more than the %d allowed: give a UNIX time in "
                          "seconds (date +%%s) or +SECONDS",
                          ahead_s / 3600.0, TRX_START_MAX_AHEAD_S / 3600);
    int64_t target = relative ? now_ns + (int64_t)(seconds * 1e9) : (int64_t)(seconds * 1e9);
    if (target < now_ns - NS_PER_SEC)
        return fm_err_set(err, FM_EINVAL, "is %.1f s in the past", (double)(now_ns - target) / 1e9);
    *target_ns = target;
    return FM_OK;
}

void trx_start_wait(int64_t target_ns, const volatile sig_atomic_t *stop)
{
    while (!(stop && *stop)) {
        int64_t now_ns = realtime_ns();
        if (now_ns >= target_ns)
            break;
        int64_t step = target_ns - now_ns > SLICE_NS ? now_ns + SLICE_NS : target_ns;
        struct timespec ts = {(time_t)(step / NS_PER_SEC), (long)(step % NS_PER_SEC)};
        clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL);
    }
}

int64_t trx_realtime_offset_ns(void)
{
    struct timespec r, m;
    clock_gettime(CLOCK_REALTIME, &r);
    clock_gettime(CLOCK_MONOTONIC, &m);
    return ((int64_t)r.tv_sec - (int64_t)m.tv_sec) * NS_PER_SEC +
           ((int64_t)r.tv_nsec - (int64_t)m.tv_nsec);
}
