/* models/trace.c - JSON packet traces: load, check, save; see models/trace.h. */
#include "models/trace.h"

#include <stdlib.h>
#include <string.h>

void mdl_trace_init(struct mdl_trace *t)
{
    memset(t, 0, sizeof(*t));
}

void mdl_trace_free(struct mdl_trace *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->pkts[i].payload);
    free(t->pkts);
    mdl_trace_init(t);
}
