/* packet/pcap_in.c - offline capture input (pcap and pcapng) with nanosecond timestamps.
 * The file is opened with fopen() and handed to libpcap, so that the checks made before
 * libpcap sees it (exists, not a directory, not empty, size for progress) apply to the very
 * file libpcap reads, and the errno of a failed open reaches the message. */
#include "packet/pcap_in.h"

#include <errno.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "packet/decode.h"

struct pkt_pcap_in {
    pcap_t *pc;
    FILE *fp; /* owned by pc: pcap_close() closes it */
    char *path;
    int linktype;
    int nano; /* 1 when libpcap delivers nanoseconds in tv_usec */
    uint64_t count;
    int64_t bad_ts_sec; /* the out-of-range second each_packet met (never 0), or 0 */
    int cut;            /* 1 once the file ended inside a packet: read as its end */
    off_t size;         /* 0 when not a regular file */
    char *iobuf;        /* stdio buffer of fp, freed after pcap_close() */
};

/* stdio would size its buffer from st_blksize (4 KiB here), one read() every ~50 small
 * packets; a larger buffer makes the system calls negligible next to the decoding. */
#define IOBUF_SIZE ((size_t)256 * 1024)

/* Make the libpcap message for a file that failed to open into ours. libpcap says "unknown
 * file format" for anything that is not a capture; its other messages (bad version, a header
 * cut short) are kept because they tell a damaged capture from a wrong file. */
static int open_error(const char *path, const char *errbuf, struct fm_err *err)
{
    if (strncmp(errbuf, "error reading dump file", 23) == 0)
        return fm_err_set(err, FM_EIO, "cannot read '%s': %s", path, errbuf);
    if (strstr(errbuf, "unknown file format"))
        return fm_err_set(err, FM_EFORMAT,
                          "'%s' is not a pcap or pcapng capture; convert other formats "
                          "with 'editcap -F pcapng'",
                          path);
    return fm_err_set(err, FM_EFORMAT, "'%s' is not a pcap or pcapng capture: %s", path, errbuf);
}

int pkt_pcap_open(const char *path, struct pkt_pcap_in **out, struct fm_err *err)
{
    struct pkt_pcap_in *in = NULL;
    FILE *fp = NULL;
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    struct stat st;
    int rc = FM_OK;

    in = calloc(1, sizeof(*in));
    if (!in) {
        rc = fm_err_set(err, FM_ENOMEM, "opening '%s'", path);
        goto out;
    }
    in->path = strdup(path);
    if (!in->path) {
        rc = fm_err_set(err, FM_ENOMEM, "opening '%s'", path);
        goto out;
    }
    /* "-" is standard input, as for tcpdump -r -: a capture piped from tcpdump -w - or
     * flowmimic capture -w -. A duplicate of the descriptor, so that pcap_close() closes
     * that one, not stdin. */
    if (strcmp(path, "-") == 0) {
        int fd = dup(STDIN_FILENO);
        fp = fd >= 0 ? fdopen(fd, "rb") : NULL;
        if (!fp && fd >= 0)
            close(fd);
    } else {
        fp = fopen(path, "rb");
    }
    if (!fp) {
        rc = fm_err_errno(err, FM_EIO, errno, "cannot open '%s'", path);
        goto out;
    }
    if (fstat(fileno(fp), &st) < 0) {
        rc = fm_err_errno(err, FM_EIO, errno, "cannot open '%s'", path);
        goto out;
    }
    /* fopen() succeeds on a directory and the first read fails with EISDIR; say so before
     * libpcap turns that into a less helpful message. */
    if (S_ISDIR(st.st_mode)) {
        rc = fm_err_errno(err, FM_EIO, EISDIR, "cannot open '%s'", path);
        goto out;
    }
    if (S_ISREG(st.st_mode)) {
        if (st.st_size == 0) {
            rc = fm_err_set(err, FM_EFORMAT, "'%s' is empty; give a pcap or pcapng capture", path);
            goto out;
        }
        in->size = st.st_size;
    }
    /* Before any I/O on fp, as setvbuf() requires; without the buffer, stdio's default. */
    in->iobuf = malloc(IOBUF_SIZE);
    if (in->iobuf && setvbuf(fp, in->iobuf, _IOFBF, IOBUF_SIZE) != 0) {
        free(in->iobuf);
        in->iobuf = NULL;
    }
    in->pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!in->pc) {
        rc = open_error(path, errbuf, err);
        goto out;
    }
    in->fp = fp;
    fp = NULL; /* pcap_close() closes it from now on */
    in->nano = pcap_get_tstamp_precision(in->pc) == PCAP_TSTAMP_PRECISION_NANO;
    in->linktype = pcap_datalink(in->pc);
    if (!pkt_linktype_supported(in->linktype)) {
        const char *name = pcap_datalink_val_to_name(in->linktype);
        rc = fm_err_set(err, FM_EFORMAT, "'%s': link type %s (%d) is not supported; supported: %s",
                        path, name ? name : "unknown", in->linktype, PKT_LINKTYPE_NAMES);
        goto out;
    }
    *out = in;
    in = NULL;
out:
    if (fp)
        fclose(fp);
    if (in && !in->pc) {
        /* fp is closed above; only now may its buffer go. */
        free(in->iobuf);
        in->iobuf = NULL;
    }
    pkt_pcap_close(in);
    return rc;
}

/* Latest second a timestamp in ns since the epoch can hold (year 2262). A pcapng block has
 * 64 bits of time, so a damaged one can claim any second; such a file is corrupt there. */
#define TS_SEC_MAX (INT64_MAX / 1000000000 - 1)

/* The packet from libpcap's header; 0, or -1 when its timestamp is out of range. */
static int raw_from_hdr(const struct pkt_pcap_in *in,
                        const struct pcap_pkthdr *h,
                        const u_char *data,
                        struct pkt_raw *pkt)
{
    const int64_t sec = (int64_t)h->ts.tv_sec;
    if (sec < 0 || sec > TS_SEC_MAX)
        return -1;
    int64_t frac = h->ts.tv_usec;
    pkt->ts_ns = sec * 1000000000 + (in->nano ? frac : frac * 1000);
    pkt->data = data;
    pkt->caplen = h->caplen;
    pkt->wirelen = h->len;
    return 0;
}

static int bad_timestamp(const struct pkt_pcap_in *in, int64_t sec, struct fm_err *err)
{
    return fm_err_set(err, FM_EFORMAT,
                      "'%s' is corrupt at packet %llu: its timestamp (%lld s) is out of range; "
                      "the packets before it can be saved with 'editcap -r FILE OUT 1-%llu'",
                      in->path, (unsigned long long)in->count + 1, (long long)sec,
                      (unsigned long long)in->count);
}

/* A capture cut inside a packet (a copy stopped early, `head -c`, a full disk) is read to
 * its last whole packet, as tcpdump and tshark do, with one warning per file: the two passes
 * of `estimate` open it twice. Not thread-safe, like the rest of this reader. */
static void warn_cut(struct pkt_pcap_in *in, const char *msg)
{
    static char warned[PATH_MAX];
    in->cut = 1;
    if (strcmp(warned, in->path) == 0)
        return;
    snprintf(warned, sizeof(warned), "%s", in->path);
    fm_log_warn("'%s' ends in the middle of packet %llu; read the %llu whole packets before it "
                "(libpcap: %s)",
                in->path, (unsigned long long)in->count + 1, (unsigned long long)in->count, msg);
}

/* libpcap failed to read the next packet (PCAP_ERROR): say why in our words. Returns 0
 * (the end) for a file cut inside a packet. */
static int read_error(struct pkt_pcap_in *in, struct fm_err *err)
{
    /* libpcap words every short read "truncated dump file; tried to read ..." (pcapng:
     * "truncated pcapng dump file"). */
    const char *msg = pcap_geterr(in->pc);
    if (strstr(msg, "truncated")) {
        warn_cut(in, msg);
        return 0;
    }
    if (strncmp(msg, "error reading dump file", 23) == 0)
        return fm_err_set(err, FM_EIO, "cannot read '%s' after packet %llu: %s", in->path,
                          (unsigned long long)in->count, msg);
    return fm_err_set(err, FM_EFORMAT, "'%s' is corrupt at packet %llu: %s", in->path,
                      (unsigned long long)in->count + 1, msg);
}

int pkt_pcap_next(struct pkt_pcap_in *in, struct pkt_raw *pkt, struct fm_err *err)
{
    struct pcap_pkthdr *h = NULL;
    const u_char *data = NULL;
    if (in->cut)
        return 0;
    int r = pcap_next_ex(in->pc, &h, &data);
    if (r == 1) {
        if (raw_from_hdr(in, h, data, pkt) < 0)
            return bad_timestamp(in, (int64_t)h->ts.tv_sec, err);
        in->count++;
        return 1;
    }
    if (r == PCAP_ERROR_BREAK)
        return 0;
    return read_error(in, err);
}

struct each_ctx {
    struct pkt_pcap_in *in;
    int (*fn)(void *arg, const struct pkt_raw *pkt);
    void *arg;
};

static void each_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    const struct each_ctx *e = (const struct each_ctx *)(void *)user;
    struct pkt_raw pkt;
    if (raw_from_hdr(e->in, h, data, &pkt) < 0) {
        e->in->bad_ts_sec = (int64_t)h->ts.tv_sec;
        pcap_breakloop(e->in->pc);
        return;
    }
    e->in->count++;
    if (e->fn(e->arg, &pkt) != 0)
        pcap_breakloop(e->in->pc);
}

int pkt_pcap_each(struct pkt_pcap_in *in,
                  int max,
                  int (*fn)(void *arg, const struct pkt_raw *pkt),
                  void *arg,
                  struct fm_err *err)
{
    struct each_ctx e = {in, fn, arg};
    if (in->cut)
        return 0;
    /* For a file, pcap_dispatch() runs the loop pcap_next_ex() runs for one packet (no
     * filter is set), so both see the same packets and the same errors. It returns the
     * count handed over, 0 at the end, PCAP_ERROR, or PCAP_ERROR_BREAK when a stop was
     * asked before any packet. */
    int n = pcap_dispatch(in->pc, max, each_packet, (u_char *)&e);
    if (in->bad_ts_sec != 0)
        return bad_timestamp(in, in->bad_ts_sec, err);
    if (n >= 0)
        return n;
    if (n == PCAP_ERROR_BREAK)
        return 0;
    return read_error(in, err);
}

int pkt_pcap_set_filter(struct pkt_pcap_in *in, const char *expr, struct fm_err *err)
{
    struct bpf_program prog;
    if (pcap_compile(in->pc, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0)
        return fm_err_set(err, FM_EINVAL, "filter '%s' rejected: %s", expr, pcap_geterr(in->pc));
    int rc = pcap_setfilter(in->pc, &prog);
    pcap_freecode(&prog);
    if (rc < 0)
        return fm_err_set(err, FM_EINVAL, "filter '%s' rejected: %s", expr, pcap_geterr(in->pc));
    return FM_OK;
}

int pkt_pcap_snaplen(const struct pkt_pcap_in *in)
{
    return pcap_snapshot(in->pc);
}

int pkt_pcap_linktype(const struct pkt_pcap_in *in)
{
    return in->linktype;
}

double pkt_pcap_progress(const struct pkt_pcap_in *in)
{
    if (in->size <= 0)
        return 0.0;
    /* ftello() reports the stream position libpcap has consumed, buffering included, for
     * pcap and pcapng alike; it costs a syscall, so callers ask only now and then. */
    off_t pos = ftello(in->fp);
    if (pos < 0)
        return 0.0;
    double share = (double)pos / (double)in->size;
    return share > 1.0 ? 1.0 : share;
}

uint64_t pkt_pcap_count(const struct pkt_pcap_in *in)
{
    return in->count;
}

void pkt_pcap_close(struct pkt_pcap_in *in)
{
    if (!in)
        return;
    if (in->pc)
        pcap_close(in->pc); /* closes fp, which uses iobuf until then */
    free(in->iobuf);
    free(in->path);
    free(in);
}
