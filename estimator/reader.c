/* estimator/reader.c - read a whole capture into a flow table, counting what was skipped.
 * This loop runs once per packet of captures with millions of packets, so it stays free of
 * allocation and system calls: the progress callback, which asks the file position, runs
 * only every 64 Ki packets. Packets come from libpcap in batches (pkt_pcap_each(), one call
 * into libpcap per 64 Ki packets) and go to the table in batches (est_flow_table_add_many());
 * a table that keeps no series gets no RTP decoding, which only series use. */
#include "estimator/reader.h"

#include <string.h>

#include "packet/pcap_in.h"

#define PROGRESS_EVERY 65536u

struct read_ctx {
    struct est_flow_table *t;
    struct pkt_decoded batch[EST_FLOW_ADD_BATCH]; /* decoded, not yet in the table */
    size_t nbatch;
    struct est_read_stats st;
    volatile sig_atomic_t *stop;
    int rtp;         /* 1 when the table keeps series, which take RTP statistics */
    int interrupted; /* *stop was seen set before a packet */
    int rc;          /* FM_OK, or the table's error */
    struct fm_err *err;
};

/* Put the decoded packets waiting in the batch into the table. */
static int flush(struct read_ctx *r)
{
    size_t n = r->nbatch;
    r->nbatch = 0;
    return n ? est_flow_table_add_many(r->t, r->batch, n, r->err) : FM_OK;
}

/* One packet of the file, from pkt_pcap_each(): returns nonzero to end the read. Decoded
 * packets wait in a batch for the table, which takes several at once faster; the batch is
 * emptied before anything else looks at the table or the read ends. */
static int on_packet(void *arg, const struct pkt_raw *raw)
{
    struct read_ctx *r = arg;
    /* The packet is not counted: as if the stop had come before it was read. */
    if (r->stop && *r->stop) {
        r->interrupted = 1;
        return 1;
    }
    r->st.frames++;
    struct pkt_decoded *pkt = &r->batch[r->nbatch];
    enum pkt_decode_status s =
        r->rtp ? pkt_decode(r->st.linktype, raw->data, raw->caplen, raw->wirelen, pkt)
               : pkt_decode_l4(r->st.linktype, raw->data, raw->caplen, raw->wirelen, pkt);
    r->st.status[s]++;
    if (s != PKT_DEC_OK)
        return 0;
    pkt->ts_ns = raw->ts_ns;
    if (++r->nbatch < EST_FLOW_ADD_BATCH)
        return 0;
    r->rc = flush(r);
    return r->rc < 0;
}

static int interrupted(const char *path, uint64_t frames, struct fm_err *err)
{
    return fm_err_set(err, FM_EINTR, "reading '%s': interrupted after %llu packets", path,
                      (unsigned long long)frames);
}

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
    struct pkt_pcap_in *in = NULL;
    struct read_ctx r;
    memset(&r, 0, sizeof(r));
    r.t = t;
    r.stop = stop;
    r.err = err;
    /* RTP fields feed only the series; a table that keeps none (flows) skips them. */
    r.rtp = est_flow_table_keeps_series(t);
    int rc = pkt_pcap_open(path, &in, err);
    if (rc < 0)
        goto out;
    r.st.linktype = pkt_pcap_linktype(in);

    /* Batches end where the progress callback is due, so it runs every PROGRESS_EVERY
     * packets as before; the stop flag is also checked before every packet. */
    for (;;) {
        if (stop && *stop) {
            rc = interrupted(path, r.st.frames, err);
            goto out;
        }
        int want = (int)(PROGRESS_EVERY - r.st.frames % PROGRESS_EVERY);
        int n = pkt_pcap_each(in, want, on_packet, &r, err);
        if (r.rc >= 0)
            r.rc = flush(&r);
        if (r.rc < 0) {
            rc = r.rc;
            goto out;
        }
        if (r.interrupted) {
            rc = interrupted(path, r.st.frames, err);
            goto out;
        }
        if (n < 0) {
            /* A signal can break a read from a pipe: that is the stop, not a bad file. */
            rc = stop && *stop ? interrupted(path, r.st.frames, err) : n;
            goto out;
        }
        if (n == 0)
            break;
        if (progress && r.st.frames % PROGRESS_EVERY == 0)
            progress(pkt_pcap_progress(in), arg);
    }
    if (progress)
        progress(1.0, arg);
    rc = FM_OK;
out:
    /* The counts are useful even after an error: they say how far the file was read. */
    if (stats)
        *stats = r.st;
    pkt_pcap_close(in);
    return rc;
}
