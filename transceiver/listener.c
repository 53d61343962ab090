/* transceiver/listener.c - a receiver in its own thread beside a send loop. */
#include "transceiver/listener.h"

#include <time.h>

static void *listener_main(void *arg)
{
    struct trx_listener *l = arg;
    l->rc = trx_receiver_run(l->r, NULL, NULL, &l->stop, &l->err);
    return NULL;
}

int trx_listener_start(struct trx_listener *l, uint16_t port, struct fm_err *err)
{
    struct trx_recv_opts ro;
    trx_recv_opts_init(&ro);
    ro.ports[0] = port;
    ro.nports = 1;
    int rc = trx_receiver_new(&ro, &l->r, err);
    if (rc < 0)
        return rc;
    rc = pthread_create(&l->thread, NULL, listener_main, l);
    if (rc != 0)
        return fm_err_errno(err, FM_ENOMEM, rc, "--listen: cannot start the receiver");
    l->started = 1;
    return FM_OK;
}

void trx_listener_stop(struct trx_listener *l, int graceful)
{
    if (!l->started)
        return;
    if (graceful) {
        struct timespec ts = {0, TRX_LISTEN_GRACE_NS};
        nanosleep(&ts, NULL);
    }
    l->stop = 1;
    pthread_join(l->thread, NULL);
    l->started = 0;
}
