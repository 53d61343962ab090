/* cli/plot_int.h - what the plot files of cli/ share: names quoted for gnuplot. */
#ifndef CLI_PLOT_INT_H
#define CLI_PLOT_INT_H

#include <stddef.h>

/* s as a gnuplot single-quoted string into buf (a quote doubled, a newline as '?'), or as a
 * double-quoted one (for titles and labels); cut short at size. Returns buf. */
const char *cli_gp_quote(const char *s, char *buf, size_t size);
const char *cli_gp_dquote(const char *s, char *buf, size_t size);

#endif
