/* transceiver/sink_mem.c - a sink that keeps packets in memory, for tests.
 * The first cap packets are kept (the packet, the first bytes of its payload, the
 * timestamp); later ones are counted as sent and dropped, so a long run cannot exhaust
 * memory. */
#include "transceiver/sink.h"

#include <stdlib.h>
#include <string.h>

struct mem_sink {
    struct trx_mem_rec *recs;
    size_t cap, n;
};

static int mem_send(void *self,
                    const struct trx_pkt *p,
                    const uint8_t *payload,
                    size_t len,
                    int64_t ts_ns,
                    struct fm_err *err)
{
    (void)err;
    struct mem_sink *m = self;
    if (m->n >= m->cap)
        return FM_OK;
    struct trx_mem_rec *r = &m->recs[m->n++];
    r->pkt = *p;
    r->len = len;
    r->ts_ns = ts_ns;
    size_t keep = len < sizeof(r->payload) ? len : sizeof(r->payload);
    if (keep)
        memcpy(r->payload, payload, keep);
    return FM_OK;
}

static int mem_close(void *self, int commit, struct fm_err *err)
{
    (void)commit;
    (void)err;
    struct mem_sink *m = self;
    free(m->recs);
    free(m);
    return FM_OK;
}

static const struct trx_sink_ops mem_ops = {.send = mem_send, .close = mem_close};

int trx_sink_mem_new(size_t cap, struct trx_sink **out, struct fm_err *err)
{
    struct trx_sink *s = malloc(sizeof(*s));
    struct mem_sink *m = calloc(1, sizeof(*m));
    if (m)
        m->recs = calloc(cap ? cap : 1, sizeof(*m->recs));
    if (!s || !m || !m->recs) {
        if (m)
            free(m->recs);
        free(m);
        free(s);
        return fm_err_set(err, FM_ENOMEM, "memory sink of %zu packets", cap);
    }
    m->cap = cap;
    s->ops = &mem_ops;
    s->self = m;
    *out = s;
    return FM_OK;
}

const struct trx_mem_rec *trx_sink_mem_records(const struct trx_sink *s, size_t *n)
{
    /* Only a memory sink has records: anything else holds none. */
    if (!s || s->ops != &mem_ops) {
        *n = 0;
        return NULL;
    }
    const struct mem_sink *m = s->self;
    *n = m->n;
    return m->recs;
}
