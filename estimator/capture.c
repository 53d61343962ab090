/* estimator/capture.c - live capture to a pcap file; see estimator/capture.h.
 * The handle is non-blocking and waited on with poll(), so a signal, --duration and the
 * status line are served on time even when no packet comes (in immediate mode libpcap's own
 * read timeout does not apply). libpcap's dumper writes into a memory stream, and after every
 * poll round its bytes go to the file with write(): the length of the file's whole records is
 * always known, and when a write fails (ENOSPC) the file is cut back to it, so it stays a
 * valid capture of every packet counted. */
#include "estimator/capture.h"

#include "common/time.h"
#include "packet/live.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Dispatch rounds per wake-up: enough to empty the ring, bounded so a flood cannot keep the
 * loop from its flush, its limits and the stop flag. */
#define DRAIN_ROUNDS 64
/* The longest poll wait: how late a stop flag set between signals can be seen. */
#define POLL_MS   100
#define STATUS_NS FM_NS_PER_SEC

struct est_capture {
    struct est_capture_opts o;
    struct pkt_live live; /* the handle, and its descriptor for poll() */
    /* The dumper writes into a memory stream; commit() moves its bytes to out_fd with write(),
     * so what is on disk is always known to the byte and stdio never writes behind our back. */
    pcap_dumper_t *dumper;
    FILE *ms;
    char *mbuf;
    size_t msize;
    int out_fd;
    int opened;     /* out_fd is ours to close (not standard output) */
    int regular;    /* out_fd is a regular file: it can be cut back to good_off */
    int created;    /* this capture made the file (it did not exist before) */
    dev_t made_dev; /* and which file that was, so that only it is ever removed */
    ino_t made_ino;
    long long good_off;    /* the file's length after the last successful commit */
    uint64_t good_packets; /* packets in the file at good_off */
    uint64_t good_bytes;
    struct est_capture_stats st;
    int full; /* count reached */
};

void est_capture_opts_init(struct est_capture_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->snaplen = EST_CAPTURE_SNAPLEN;
    o->buffer_bytes = EST_CAPTURE_BUFFER_BYTES;
    o->promisc = 1;
}

int est_capture_filter_build(
    const char *host, long port, char *buf, size_t size, struct fm_err *err)
{
    unsigned char a[16];
    if (host && inet_pton(AF_INET, host, a) != 1 && inet_pton(AF_INET6, host, a) != 1)
        return fm_err_set(err, FM_EINVAL, "--host: '%s' is not an IPv4 or IPv6 address", host);
    if (port < 0 || port > 65535)
        return fm_err_set(err, FM_EINVAL, "--port: %ld is out of range 1..65535", port);
    int n = snprintf(buf, size, "udp");
    if (host && n >= 0 && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, " and host %s", host);
    if (port > 0 && n >= 0 && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, " and port %ld", port);
    if (n < 0 || (size_t)n >= size)
        return fm_err_set(err, FM_EINVAL, "capture filter too long");
    return FM_OK;
}

int est_capture_filter_check(const char *filter, struct fm_err *err)
{
    return pkt_filter_check(filter, err);
}

static int activate(struct est_capture *c, struct fm_err *err)
{
    struct pkt_live_opts lo;
    memset(&lo, 0, sizeof(lo));
    lo.iface = c->o.iface;
    lo.snaplen = c->o.snaplen;
    lo.promisc = c->o.promisc;
    lo.buffer_bytes = c->o.buffer_bytes;
    lo.filter = c->o.filter;
    int rc = pkt_live_open(&lo, &c->live, err);
    if (rc < 0)
        return rc;
    c->st.nano = c->live.nano;
    c->st.link_type = c->live.linktype;
    return FM_OK;
}

/* Write all of buf to fd; FM_OK or the errno. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? errno : EIO;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Move what was dumped since the last commit into the file. On a write error the file is cut
 * back to its last whole record and the packets not written are uncounted. */
static int commit(struct est_capture *c, struct fm_err *err)
{
    if (fflush(c->ms) != 0)
        return fm_err_set(err, FM_ENOMEM, "out of memory");
    int e = write_all(c->out_fd, c->mbuf, c->msize);
    if (e == 0) {
        c->good_off += (long long)c->msize;
        c->good_packets = c->st.packets;
        c->good_bytes = c->st.bytes;
        (void)fseeko(c->ms, 0, SEEK_SET);
        return FM_OK;
    }
    uint64_t lost = c->st.packets - c->good_packets;
    c->st.packets = c->good_packets;
    c->st.bytes = c->good_bytes;
    (void)fseeko(c->ms, 0, SEEK_SET);
    /* A device or a pipe has no length to cut back to: what the write error says is all. */
    if (c->regular && ftruncate(c->out_fd, (off_t)c->good_off) != 0)
        return fm_err_errno(err, FM_EIO, errno, "cannot write '%s', nor cut it back to %lld bytes",
                            c->o.write_path, c->good_off);
    char why[128];
    if (strerror_r(e, why, sizeof(why)) != 0)
        snprintf(why, sizeof(why), "error %d", e);
    if (c->good_off == 0)
        return fm_err_set(err, FM_EIO, "cannot write '%s': %s", c->o.write_path, why);
    return fm_err_set(
        err, FM_EIO, "cannot write '%s': %s; it holds the first %llu packets (%llu not written)",
        c->o.write_path, why, (unsigned long long)c->st.packets, (unsigned long long)lost);
}

static int open_output(struct est_capture *c, struct fm_err *err)
{
    const char *path = c->o.write_path;
    if (strcmp(path, "-") == 0) {
        if (isatty(STDOUT_FILENO))
            return fm_err_set(err, FM_EINVAL,
                              "will not write a binary capture to a terminal: redirect it "
                              "or give -w FILE");
        c->out_fd = STDOUT_FILENO;
    } else {
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
            return fm_err_set(err, FM_EIO, "cannot write '%s': it is a directory", path);
        /* Written as packets come, not renamed into place: a capture is read while it grows,
         * and a device or FIFO named here is written to, never replaced. O_EXCL tells a file
         * this capture makes from one that was there, which is never removed. */
        c->out_fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (c->out_fd >= 0)
            c->created = 1;
        else if (errno == EEXIST)
            c->out_fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (c->out_fd < 0)
            return fm_err_errno(err, FM_EIO, errno, "cannot create '%s'", path);
        c->opened = 1;
        if (fstat(c->out_fd, &sb) == 0) {
            c->regular = S_ISREG(sb.st_mode);
            c->made_dev = sb.st_dev;
            c->made_ino = sb.st_ino;
        }
    }
    c->ms = open_memstream(&c->mbuf, &c->msize);
    if (!c->ms)
        return fm_err_set(err, FM_ENOMEM, "out of memory");
    c->dumper = pcap_dump_fopen(c->live.cap, c->ms);
    if (!c->dumper)
        return fm_err_set(err, FM_EIO, "cannot write '%s': %s", path, pcap_geterr(c->live.cap));
    return commit(c, err);
}

int est_capture_open(const struct est_capture_opts *o, struct est_capture **out, struct fm_err *err)
{
    *out = NULL;
    if (!o->iface || !o->write_path)
        return fm_err_set(err, FM_EINVAL, "capture needs an interface and an output file");
    struct est_capture *c = calloc(1, sizeof(*c));
    if (!c)
        return fm_err_set(err, FM_ENOMEM, "out of memory");
    c->o = *o;
    c->out_fd = -1;
    int rc = activate(c, err);
    if (rc == FM_OK)
        rc = open_output(c, err);
    if (rc < 0) {
        /* A capture that could not start leaves no file behind that it made itself; a file
         * that was there before (a device, an old capture) is never removed. */
        struct stat sb;
        if (c->created && c->regular && lstat(o->write_path, &sb) == 0 && S_ISREG(sb.st_mode) &&
            sb.st_dev == c->made_dev && sb.st_ino == c->made_ino)
            unlink(o->write_path);
        est_capture_free(c);
        return rc;
    }
    *out = c;
    return FM_OK;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct est_capture *c = (struct est_capture *)user;
    if (c->full)
        return;
    pcap_dump((u_char *)c->dumper, h, bytes);
    c->st.packets++;
    c->st.bytes += h->len;
    if (c->o.count && c->st.packets >= c->o.count) {
        c->full = 1;
        pcap_breakloop(c->live.cap);
    }
}

static int drain(struct est_capture *c, struct fm_err *err)
{
    for (int round = 0; round < DRAIN_ROUNDS && !c->full; round++) {
        int n = pcap_dispatch(c->live.cap, -1, on_packet, (u_char *)c);
        if (n == PCAP_ERROR)
            return fm_err_set(err, FM_ENET, "capture on '%s': %s", c->o.iface,
                              pcap_geterr(c->live.cap));
        if (n <= 0)
            break;
    }
    return FM_OK;
}

static void read_drops(struct est_capture *c)
{
    struct pcap_stat ps;
    if (pcap_stats(c->live.cap, &ps) == 0) {
        c->st.kernel_drops = ps.ps_drop;
        c->st.iface_drops = ps.ps_ifdrop;
    }
}

int est_capture_run(struct est_capture *c,
                    void (*status)(const struct est_capture_stats *s, void *arg),
                    void *arg,
                    struct fm_err *err)
{
    int64_t start = fm_time_mono_ns();
    int64_t next_status = start + STATUS_NS;
    int rc = FM_OK;
    for (;;) {
        int64_t now = fm_time_mono_ns();
        c->st.elapsed_ns = now - start;
        if (c->o.stop && *c->o.stop) {
            rc = FM_EINTR;
            break;
        }
        if (c->full || (c->o.duration_ns && now - start >= c->o.duration_ns))
            break;
        int64_t wait_ns = (int64_t)POLL_MS * 1000000;
        if (c->o.duration_ns && start + c->o.duration_ns - now < wait_ns)
            wait_ns = start + c->o.duration_ns - now;
        struct pollfd pfd = {c->live.fd, POLLIN, 0};
        int n = poll(&pfd, 1, (int)((wait_ns + 999999) / 1000000));
        if (n < 0 && errno != EINTR) {
            rc = fm_err_errno(err, FM_ENET, errno, "waiting for packets on '%s'", c->o.iface);
            break;
        }
        if (n > 0) {
            rc = drain(c, err);
            if (rc == FM_OK)
                rc = commit(c, err);
            if (rc < 0)
                break;
        }
        now = fm_time_mono_ns();
        if (status && now >= next_status) {
            c->st.elapsed_ns = now - start;
            read_drops(c);
            status(&c->st, arg);
            next_status += STATUS_NS * ((now - next_status) / STATUS_NS + 1);
        }
    }
    /* Whatever ended the capture, what the kernel already holds was captured: keep it. */
    if (rc == FM_OK || rc == FM_EINTR) {
        struct fm_err derr = {0};
        int drc = drain(c, &derr);
        if (drc == FM_OK)
            drc = commit(c, &derr);
        if (drc < 0) {
            rc = drc;
            if (err)
                *err = derr;
        }
    }
    c->st.elapsed_ns = fm_time_mono_ns() - start;
    read_drops(c);
    return rc;
}

void est_capture_get_stats(const struct est_capture *c, struct est_capture_stats *s)
{
    *s = c->st;
}

void est_capture_free(struct est_capture *c)
{
    if (!c)
        return;
    /* Closing the dumper closes the memory stream; everything committed is in the file. */
    if (c->dumper)
        pcap_dump_close(c->dumper);
    else if (c->ms)
        fclose(c->ms);
    free(c->mbuf);
    if (c->opened)
        close(c->out_fd);
    pkt_live_close(&c->live);
    free(c);
}
