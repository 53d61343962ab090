/* estimator/reader.h - read a whole capture into a flow table, counting what was skipped.
 * Calls the progress callback (when given) about every 64 Ki packets with the share of the
 * file read, and once with 1.0 at the end; stops early with FM_EINTR when *stop becomes
 * nonzero (a signal handler sets it). */
#ifndef ESTIMATOR_READER_H
#define ESTIMATOR_READER_H

#include <signal.h>
#include <stdint.h>

#include "common/err.h"
#include "estimator/flow.h"
#include "packet/decode.h"

struct est_read_stats {
    uint64_t frames;                  /* frames read from the file */
    uint64_t status[PKT_DEC_NSTATUS]; /* frames per decode outcome */
    int linktype;
};

typedef void (*est_progress_fn)(double share, void *arg);

/* Read path into t. Returns FM_OK, or the error of pkt_pcap_open()/pkt_pcap_next(),
 * FM_ENOMEM, FM_EINTR. stats may be NULL; stop may be NULL. */
FM_MUST_CHECK int est_read_capture(const char *path,
                                   struct est_flow_table *t,
                                   struct est_read_stats *stats,
                                   est_progress_fn progress,
                                   void *arg,
                                   volatile sig_atomic_t *stop,
                                   struct fm_err *err);

#endif
