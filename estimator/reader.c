/* estimator/reader.c - read a whole capture into a flow table, counting what was skipped.
 * This loop runs once per packet of captures with millions of packets, so it stays free of
 * allocation and system calls: the progress callback, which asks the file position, runs
 * only every 64 Ki packets. */
#include "estimator/reader.h"

#include <string.h>

#include "estimator/pcap_in.h"

#define PROGRESS_EVERY 65536u

int est_read_capture(const char *path,
                     struct est_flow_table *t,
                     struct est_read_stats *stats,
                     est_progress_fn progress,
                     void *arg,
                     /* Only read here, but the header's type is the caller's flag. */
                     /* cppcheck-suppress constParameter */
                     volatile sig_atomic_t *stop,
                     struct fm_err *err)
{
    struct est_pcap_in *in = NULL;
    struct est_read_stats st;
    memset(&st, 0, sizeof(st));
    int rc = est_pcap_open(path, &in, err);
    if (rc < 0)
        goto out;
    st.linktype = est_pcap_linktype(in);

    for (;;) {
        struct est_raw_pkt raw;
        struct est_pkt pkt;
        if (stop && *stop) {
            rc = fm_err_set(err, FM_EINTR, "reading '%s': interrupted after %llu packets", path,
                            (unsigned long long)st.frames);
            goto out;
        }
        int r = est_pcap_next(in, &raw, err);
        if (r < 0) {
            /* A signal can break a read from a pipe: that is the stop, not a bad file. */
            if (stop && *stop)
                rc = fm_err_set(err, FM_EINTR, "reading '%s': interrupted after %llu packets", path,
                                (unsigned long long)st.frames);
            else
                rc = r;
            goto out;
        }
        if (r == 0)
            break;
        st.frames++;
        enum est_decode_status s = est_decode(st.linktype, raw.data, raw.caplen, raw.wirelen, &pkt);
        st.status[s]++;
        if (s == EST_DEC_OK) {
            pkt.ts_ns = raw.ts_ns;
            rc = est_flow_table_add(t, &pkt, err);
            if (rc < 0)
                goto out;
        }
        if (progress && st.frames % PROGRESS_EVERY == 0)
            progress(est_pcap_progress(in), arg);
    }
    if (progress)
        progress(1.0, arg);
    rc = FM_OK;
out:
    /* The counts are useful even after an error: they say how far the file was read. */
    if (stats)
        *stats = st;
    est_pcap_close(in);
    return rc;
}
