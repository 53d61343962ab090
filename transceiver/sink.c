/* transceiver/sink.c - the one place a sink is closed and released, whatever its kind.
 * The contract every sink follows: its *_new() allocates the struct trx_sink with malloc and
 * its own state (self) separately; ops->close() finishes the output and releases self, in
 * every case, including a failed close; trx_sink_close() then frees the struct trx_sink. */
#include "transceiver/sink.h"

#include <stdlib.h>

int trx_sink_close(struct trx_sink *s, int commit, struct fm_err *err)
{
    if (!s)
        return FM_OK;
    int rc = s->ops->close(s->self, commit, err);
    free(s);
    return rc;
}

void trx_sink_discard(struct trx_sink *s)
{
    if (s && trx_sink_close(s, 0, NULL) < 0) {
        /* Thrown away: there is nothing left to report a failure about. */
    }
}
