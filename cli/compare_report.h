/* cli/compare_report.h - what `compare` prints: a comparison (estimator/compare.h) and a
 * holdout report (estimator/holdout.h), each as a table or as JSON on stdout. */
#ifndef CLI_COMPARE_REPORT_H
#define CLI_COMPARE_REPORT_H

#include "estimator/compare.h"
#include "estimator/holdout.h"

void cli_compare_table(const struct est_compare *c);
void cli_compare_json(const struct est_compare *c);
void cli_holdout_table(const struct est_holdout *h);
void cli_holdout_json(const struct est_holdout *h);

#endif
