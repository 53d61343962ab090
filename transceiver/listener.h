/* transceiver/listener.h - a receiver in a thread of its own beside a send loop: replay
 * --listen, where one host sends its side of a call and receives the peer's. The thread
 * owns the receiver while it runs; read its statistics after trx_listener_stop(). */
#ifndef TRANSCEIVER_LISTENER_H
#define TRANSCEIVER_LISTENER_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "common/err.h"
#include "transceiver/receiver.h"

/* Time left for packets in flight after the last send, on a graceful stop. */
#define TRX_LISTEN_GRACE_NS 500000000L

/* A zeroed struct is a listener that was never started. */
struct trx_listener {
    struct trx_receiver *r; /* NULL until started; the caller frees it */
    pthread_t thread;
    int started;
    volatile sig_atomic_t stop;
    int rc;            /* trx_receiver_run()'s, once stopped */
    struct fm_err err; /* and its message */
};

/* Open a receiver on UDP port and run it in a new thread. FM_OK, or the receiver's errors,
 * or FM_ENOMEM when the thread cannot start. */
FM_MUST_CHECK int trx_listener_start(struct trx_listener *l, uint16_t port, struct fm_err *err);

/* Stop (after TRX_LISTEN_GRACE_NS when graceful) and join; does nothing when not running. */
void trx_listener_stop(struct trx_listener *l, int graceful);

#endif
