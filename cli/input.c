/* cli/input.c - reading a capture the way every command shows it: a progress line on a
 * terminal, Ctrl-C, and what was skipped. */
#include "cli/cli.h"

#include "common/log.h"
#include "estimator/reader.h"
#include "packet/decode.h"

#include <string.h>

int cli_read_capture(const char *path,
                     struct est_flow_table *t,
                     struct est_read_stats *st,
                     const char *on_intr)
{
    struct fm_err err = {0};
    struct cli_progress prog;
    const char *base = strrchr(path, '/');
    cli_progress_init(&prog, base ? base + 1 : path);
    cli_signals_install();
    int rc = est_read_capture(path, t, st, cli_progress_cb, &prog, &cli_stop, &err);
    cli_progress_done(&prog);
    if (rc == FM_EINTR) {
        fm_log_error("interrupted while reading '%s' after %llu frames: %s", path,
                     (unsigned long long)st->frames, on_intr);
        return CLI_EXIT_INTR;
    }
    if (rc < 0) {
        fm_log_error("%s", err.msg);
        return CLI_EXIT_RUNTIME;
    }
    cli_read_report(path, st);
    return CLI_EXIT_OK;
}

void cli_read_warn(const char *path, const struct est_read_stats *st)
{
    uint64_t bad = st->status[PKT_DEC_TRUNCATED] + st->status[PKT_DEC_MALFORMED];
    if (bad)
        fm_log_warn("'%s': %llu of %llu frames were truncated or malformed and were skipped", path,
                    (unsigned long long)bad, (unsigned long long)st->frames);
}

void cli_read_report(const char *path, const struct est_read_stats *st)
{
    cli_read_warn(path, st);
    fm_log_info("'%s': %llu frames: %llu UDP/TCP, %llu not IP, %llu other protocols, "
                "%llu non-first fragments, %llu truncated, %llu malformed, %llu unsupported link",
                path, (unsigned long long)st->frames, (unsigned long long)st->status[PKT_DEC_OK],
                (unsigned long long)st->status[PKT_DEC_NOT_IP],
                (unsigned long long)st->status[PKT_DEC_OTHER_L4],
                (unsigned long long)st->status[PKT_DEC_FRAGMENT],
                (unsigned long long)st->status[PKT_DEC_TRUNCATED],
                (unsigned long long)st->status[PKT_DEC_MALFORMED],
                (unsigned long long)st->status[PKT_DEC_UNSUPPORTED_LINK]);
}
