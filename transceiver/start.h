/* transceiver/start.h - a common start for hosts that play together, and the clocks'
 * offset. Two hosts whose clocks agree (NTP, PTP) given the same wall-clock time start
 * within their clocks' disagreement plus a wake-up (tens of microseconds here). */
#ifndef TRANSCEIVER_START_H
#define TRANSCEIVER_START_H

#include <signal.h>
#include <stdint.h>

#include "common/err.h"

/* A start days away is a typo (a wrong digit, a clock off by years), not a plan. */
#define TRX_START_MAX_AHEAD_S 86400

/* The start as CLOCK_REALTIME nanoseconds: seconds from now (relative) or a UNIX time.
 * FM_EINVAL, with a message that reads after the option's name ("is 3.0 s in the past"),
 * for a time more than a second past or more than TRX_START_MAX_AHEAD_S ahead. */
FM_MUST_CHECK int
trx_start_target(int relative, double seconds, int64_t *target_ns, struct fm_err *err);

/* Sleep on the wall clock until target_ns, in slices of at most 100 ms so that *stop is seen;
 * returns at once when target_ns has passed. */
void trx_start_wait(int64_t target_ns, const volatile sig_atomic_t *stop);

/* CLOCK_REALTIME - CLOCK_MONOTONIC now: the send loop runs on the monotonic clock, while the
 * probes carry wall-clock send times, so that a receiver on another host with a synced clock
 * can measure one-way delay. */
int64_t trx_realtime_offset_ns(void);

#endif
