/* estimator/compare_int.h - compare's internals shared with the holdout report
 * (estimator/holdout.c); not part of the library's interface. */
#ifndef ESTIMATOR_COMPARE_INT_H
#define ESTIMATOR_COMPARE_INT_H

#include "estimator/compare.h"
#include "estimator/flow.h"

/* Read the capture at in->path once and pick its flow: sel_text is NULL (the largest), an
 * index as `flows` numbers them, or a spec. which (0 A, 1 B, -1 the holdout's one capture)
 * names the input in messages. Fills in->read, flow_index, flow_spec and trace. On success
 * *table holds the capture (est_flow_table_free()) and *flow points into it. Errors:
 * FM_EINVAL (a bad selection), FM_ENOTFOUND (no such flow: the message lists what is
 * there), the reader's, FM_ENOMEM. */
FM_MUST_CHECK int est_cmp_load_capture(struct est_cmp_input *in,
                                       int which,
                                       const char *sel_text,
                                       const struct est_cmp_opts *o,
                                       struct est_flow_table **table,
                                       const struct est_flow **flow,
                                       struct fm_err *err);

#endif
