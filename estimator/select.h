/* estimator/select.h - one flow of a capture, named by its index in `flowmimic flows` order
 * or by its spec. The index is the flow table's ranking (estimator/flow.h: most packets first,
 * ties by first appearance), so naming a flow by index reads the capture once. Not
 * thread-safe; nothing here keeps state between calls. */
#ifndef ESTIMATOR_SELECT_H
#define ESTIMATOR_SELECT_H

#include <signal.h>

#include "common/err.h"
#include "packet/endpoint.h"

/* The flow arg names in the capture at path: a spec as pkt_flow_spec_parse() reads it
 * ("udp A:PORT B:PORT"), or an index as `flowmimic flows` shows it (which reads the capture
 * once; stop, when not NULL and once set, ends that read). Returns FM_OK and sets *key,
 * FM_EINVAL (a bad spec), FM_ENOTFOUND (no such index), FM_EINTR, or the errors of reading
 * the capture. Has the shape of trace/input.h's trc_flow_select_fn. */
FM_MUST_CHECK int est_flow_select(const char *path,
                                  const char *arg,
                                  volatile sig_atomic_t *stop,
                                  struct pkt_flow_key *key,
                                  struct fm_err *err);

#endif
