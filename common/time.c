/* common/time.c - monotonic time. */
#include "common/time.h"

#include <time.h>

int64_t fm_time_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * FM_NS_PER_SEC + ts.tv_nsec;
}
