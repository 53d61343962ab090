/* common/time.h - monotonic time in int64 nanoseconds. */
#ifndef COMMON_TIME_H
#define COMMON_TIME_H

#include <stdint.h>

#define FM_NS_PER_SEC 1000000000LL

/* Nanoseconds from CLOCK_MONOTONIC. */
int64_t fm_time_mono_ns(void);

#endif
