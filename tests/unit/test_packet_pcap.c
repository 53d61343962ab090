/* tests/unit/test_packet_pcap.c - capture input and the reader on files written here:
 * nanosecond timestamps, pcapng, progress, stop, and every kind of bad file. */
#include "estimator/reader.h"
#include "packet/pcap_in.h"
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include "tests/support/test_util.h"

#include <pcap/pcap.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* An Ethernet/IPv4/UDP frame with a payload of len bytes and the given source port. */
static size_t udp_frame(uint8_t *b, unsigned sport, unsigned len)
{
    return test_udp4_frame(b, 1, 2, sport, 5004, len);
}

/* Write n UDP frames at ts0 + i * 1234567 ns to a nanosecond pcap. */
static void write_pcap(const char *path, int linktype, unsigned n, int64_t ts0)
{
    pcap_t *dead =
        pcap_open_dead_with_tstamp_precision(linktype, 65535, PCAP_TSTAMP_PRECISION_NANO);
    assert_non_null(dead);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    assert_non_null(d);
    for (unsigned i = 0; i < n; i++) {
        uint8_t b[200];
        struct pcap_pkthdr h;
        memset(&h, 0, sizeof(h));
        int64_t ts = ts0 + (int64_t)i * 1234567;
        h.ts.tv_sec = (time_t)(ts / 1000000000);
        h.ts.tv_usec = (suseconds_t)(ts % 1000000000); /* nanoseconds in a nano dump */
        h.caplen = h.len = (bpf_u_int32)udp_frame(b, 4000 + i % 3, 20 + i % 100);
        pcap_dump((u_char *)d, &h, b);
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

static void test_read_back_ns(void **state)
{
    (void)state;
    char path[300];
    struct fm_err err = {0};
    struct pkt_pcap_in *in = NULL;
    /* Sub-microsecond digits survive only with nanosecond reading. */
    const int64_t ts0 = 1700000000123456789;
    write_pcap(test_path(path, sizeof(path), "ns.pcap"), DLT_EN10MB, 1000, ts0);
    assert_int_equal(pkt_pcap_open(path, &in, &err), FM_OK);
    assert_non_null(in);
    assert_int_equal(pkt_pcap_linktype(in), DLT_EN10MB);
    assert_double_near(pkt_pcap_progress(in), 0.0, 0.01);
    struct pkt_raw p;
    for (unsigned i = 0; i < 1000; i++) {
        assert_int_equal(pkt_pcap_next(in, &p, &err), 1);
        assert_true(p.ts_ns == ts0 + (int64_t)i * 1234567);
        assert_int_equal(p.caplen, 42 + 20 + i % 100);
        assert_int_equal(p.wirelen, p.caplen);
        assert_int_equal(p.data[23], 17);
        if (i == 499) {
            /* Half the packets, about half the bytes (payload sizes cycle evenly). */
            assert_double_near(pkt_pcap_progress(in), 0.5, 0.03);
        }
    }
    assert_int_equal(pkt_pcap_next(in, &p, &err), 0);
    assert_int_equal(pkt_pcap_next(in, &p, &err), 0);
    assert_int_equal(pkt_pcap_count(in), 1000);
    assert_double_near(pkt_pcap_progress(in), 1.0, 1e-9);
    pkt_pcap_close(in);
    pkt_pcap_close(NULL);
}

static void put_le16(uint8_t *b, size_t *off, unsigned v)
{
    b[(*off)++] = (uint8_t)v;
    b[(*off)++] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *b, size_t *off, uint32_t v)
{
    put_le16(b, off, v & 0xffffu);
    put_le16(b, off, v >> 16);
}

/* A minimal pcapng file (libpcap writes only pcap): section header, one interface with
 * if_tsresol = 9 (nanoseconds), then enhanced packet blocks. */
static size_t build_pcapng(uint8_t *b, int linktype, unsigned n, int64_t ts0)
{
    size_t off = 0;
    put_le32(b, &off, 0x0a0d0d0a);
    put_le32(b, &off, 28);
    put_le32(b, &off, 0x1a2b3c4d);
    put_le16(b, &off, 1);
    put_le16(b, &off, 0);
    put_le32(b, &off, 0xffffffffu);
    put_le32(b, &off, 0xffffffffu);
    put_le32(b, &off, 28);

    put_le32(b, &off, 1);
    put_le32(b, &off, 32);
    put_le16(b, &off, (unsigned)linktype);
    put_le16(b, &off, 0);
    put_le32(b, &off, 65535);
    put_le16(b, &off, 9); /* if_tsresol */
    put_le16(b, &off, 1);
    put_le32(b, &off, 9); /* 10^-9, padded to 4 bytes */
    put_le32(b, &off, 0); /* opt_endofopt */
    put_le32(b, &off, 32);

    for (unsigned i = 0; i < n; i++) {
        uint8_t frame[200];
        size_t len = udp_frame(frame, 4000, 10 + i);
        size_t padded = (len + 3) & ~(size_t)3;
        uint32_t blen = (uint32_t)(32 + padded);
        uint64_t ts = (uint64_t)(ts0 + (int64_t)i * 1000001);
        put_le32(b, &off, 6);
        put_le32(b, &off, blen);
        put_le32(b, &off, 0);
        put_le32(b, &off, (uint32_t)(ts >> 32));
        put_le32(b, &off, (uint32_t)ts);
        put_le32(b, &off, (uint32_t)len);
        put_le32(b, &off, (uint32_t)len);
        memset(b + off, 0, padded);
        memcpy(b + off, frame, len);
        off += padded;
        put_le32(b, &off, blen);
    }
    return off;
}

static void test_pcapng(void **state)
{
    (void)state;
    char path[300];
    struct fm_err err = {0};
    struct pkt_pcap_in *in = NULL;
    static uint8_t buf[65536];
    const int64_t ts0 = 1600000000000000007;
    size_t n = build_pcapng(buf, DLT_EN10MB, 50, ts0);
    test_write_file(test_path(path, sizeof(path), "a.pcapng"), buf, n);
    assert_int_equal(pkt_pcap_open(path, &in, &err), FM_OK);
    struct pkt_raw p;
    for (unsigned i = 0; i < 50; i++) {
        assert_int_equal(pkt_pcap_next(in, &p, &err), 1);
        assert_true(p.ts_ns == ts0 + (int64_t)i * 1000001);
        assert_int_equal(p.caplen, 52 + i);
    }
    assert_int_equal(pkt_pcap_next(in, &p, &err), 0);
    assert_double_near(pkt_pcap_progress(in), 1.0, 1e-9);
    pkt_pcap_close(in);

    /* The same file cut inside the last block. */
    in = NULL;
    test_write_file(test_path(path, sizeof(path), "cut.pcapng"), buf, n - 7);
    assert_int_equal(pkt_pcap_open(path, &in, &err), FM_OK);
    for (unsigned i = 0; i < 49; i++)
        assert_int_equal(pkt_pcap_next(in, &p, &err), 1);
    /* Read to the last whole packet, as tcpdump does (with a warning): the end. */
    assert_int_equal(pkt_pcap_next(in, &p, &err), 0);
    assert_int_equal(pkt_pcap_next(in, &p, &err), 0);
    assert_int_equal(pkt_pcap_count(in), 49);
    pkt_pcap_close(in);
}

static int count_packet(void *arg, const struct pkt_raw *p)
{
    (void)p;
    (*(unsigned *)arg)++;
    return 0;
}

/* A pcapng block can claim any of 2^64 ticks; a time past what ns since the epoch hold
 * (year 2262) is a corrupt file at that packet, the packets before it delivered. */
static void test_bad_timestamp(void **state)
{
    (void)state;
    char path[300];
    struct fm_err err = {0};
    struct pkt_pcap_in *in = NULL;
    static uint8_t buf[65536];
    size_t n = build_pcapng(buf, DLT_EN10MB, 10, 1600000000000000000);
    /* Walk to the fourth enhanced packet block and set its timestamp's high word. */
    size_t off = 28 + 32;
    for (int i = 0; i < 3; i++)
        off += (size_t)buf[off + 4] | (size_t)buf[off + 5] << 8;
    buf[off + 12] = 0xff;
    buf[off + 13] = 0xff;
    buf[off + 14] = 0xff;
    buf[off + 15] = 0x7f;
    test_write_file(test_path(path, sizeof(path), "badts.pcapng"), buf, n);

    assert_int_equal(pkt_pcap_open(path, &in, &err), FM_OK);
    struct pkt_raw p;
    for (int i = 0; i < 3; i++)
        assert_int_equal(pkt_pcap_next(in, &p, &err), 1);
    assert_int_equal(pkt_pcap_next(in, &p, &err), FM_EFORMAT);
    assert_non_null(strstr(err.msg, "is corrupt at packet 4"));
    assert_non_null(strstr(err.msg, "out of range"));
    pkt_pcap_close(in);

    in = NULL;
    unsigned seen = 0;
    assert_int_equal(pkt_pcap_open(path, &in, &err), FM_OK);
    assert_int_equal(pkt_pcap_each(in, 100, count_packet, &seen, &err), FM_EFORMAT);
    assert_int_equal(seen, 3);
    assert_non_null(strstr(err.msg, "is corrupt at packet 4"));
    pkt_pcap_close(in);
}

static void test_truncated(void **state)
{
    (void)state;
    char path[300];
    struct fm_err err = {0};
    struct pkt_pcap_in *in = NULL;
    write_pcap(test_path(path, sizeof(path), "cut.pcap"), DLT_EN10MB, 3, 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    /* Cut inside the data of the third packet. */
    assert_int_equal(truncate(path, st.st_size - 10), 0);
    assert_int_equal(pkt_pcap_open(path, &in, &err), FM_OK);
    struct pkt_raw p;
    assert_int_equal(pkt_pcap_next(in, &p, &err), 1);
    assert_int_equal(pkt_pcap_next(in, &p, &err), 1);
    assert_int_equal(pkt_pcap_next(in, &p, &err), 0);
    assert_int_equal(pkt_pcap_count(in), 2);
    pkt_pcap_close(in);

    /* Cut inside the third record header. */
    in = NULL;
    write_pcap(path, DLT_EN10MB, 3, 0);
    assert_int_equal(stat(path, &st), 0);
    off_t third = 24 + 2 * 16 + (42 + 20) + (42 + 21);
    assert_int_equal(truncate(path, third + 5), 0);
    assert_int_equal(pkt_pcap_open(path, &in, &err), FM_OK);
    assert_int_equal(pkt_pcap_next(in, &p, &err), 1);
    assert_int_equal(pkt_pcap_next(in, &p, &err), 1);
    assert_int_equal(pkt_pcap_next(in, &p, &err), 0);
    assert_int_equal(pkt_pcap_count(in), 2);
    pkt_pcap_close(in);

    /* A file header cut short is not a capture at all. */
    in = NULL;
    assert_int_equal(truncate(path, 10), 0);
    assert_int_equal(pkt_pcap_open(path, &in, &err), FM_EFORMAT);
    assert_null(in);
    assert_non_null(strstr(err.msg, "is not a pcap or pcapng capture"));
}

/* What pkt_pcap_each() hands over, for the checks below. */
struct each_log {
    unsigned n;
    unsigned stop_at; /* ask to stop at this packet (1-based); 0: never */
    int64_t ts[1000];
    uint32_t caplen[1000];
};

static int log_packet(void *arg, const struct pkt_raw *p)
{
    struct each_log *l = arg;
    assert_true(l->n < 1000);
    l->ts[l->n] = p->ts_ns;
    l->caplen[l->n] = p->caplen;
    assert_int_equal(p->wirelen, p->caplen);
    assert_int_equal(p->data[23], 17);
    l->n++;
    return l->n == l->stop_at;
}

/* pkt_pcap_each() gives the packets pkt_pcap_next() gives, in batches of at most max, stops
 * when asked, and reports a cut file after handing over every whole packet. */
static void test_each(void **state)
{
    (void)state;
    char path[300];
    struct fm_err err = {0};
    struct pkt_pcap_in *in = NULL;
    const int64_t ts0 = 1700000000123456789;
    write_pcap(test_path(path, sizeof(path), "each.pcap"), DLT_EN10MB, 1000, ts0);
    static struct each_log log;
    memset(&log, 0, sizeof(log));
    assert_int_equal(pkt_pcap_open(path, &in, &err), FM_OK);
    assert_int_equal(pkt_pcap_each(in, 300, log_packet, &log, &err), 300);
    assert_int_equal(pkt_pcap_count(in), 300);
    /* The two calls mix: one packet in between. */
    struct pkt_raw p;
    assert_int_equal(pkt_pcap_next(in, &p, &err), 1);
    assert_true(p.ts_ns == ts0 + 300 * (int64_t)1234567);
    assert_int_equal(pkt_pcap_each(in, 1000, log_packet, &log, &err), 699);
    assert_int_equal(pkt_pcap_each(in, 1000, log_packet, &log, &err), 0);
    assert_int_equal(pkt_pcap_count(in), 1000);
    pkt_pcap_close(in);
    assert_int_equal(log.n, 999);
    for (unsigned i = 0; i < 999; i++) {
        unsigned k = i < 300 ? i : i + 1;
        assert_true(log.ts[i] == ts0 + (int64_t)k * 1234567);
        assert_int_equal(log.caplen[i], 42 + 20 + k % 100);
    }

    /* Stopping: the packet that asked is the last one handed over. */
    memset(&log, 0, sizeof(log));
    log.stop_at = 10;
    assert_int_equal(pkt_pcap_open(path, &in, &err), FM_OK);
    assert_int_equal(pkt_pcap_each(in, 500, log_packet, &log, &err), 10);
    assert_int_equal(log.n, 10);
    pkt_pcap_close(in);

    /* A cut file: the whole packets, then the end, as pkt_pcap_next() reads it. */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size - 3), 0);
    memset(&log, 0, sizeof(log));
    assert_int_equal(pkt_pcap_open(path, &in, &err), FM_OK);
    assert_int_equal(pkt_pcap_each(in, 900, log_packet, &log, &err), 900);
    assert_int_equal(pkt_pcap_each(in, 900, log_packet, &log, &err), 0);
    assert_int_equal(pkt_pcap_each(in, 900, log_packet, &log, &err), 0);
    assert_int_equal(log.n, 999);
    pkt_pcap_close(in);
}

static void test_bad_files(void **state)
{
    (void)state;
    char path[300];
    struct fm_err err = {0};
    struct pkt_pcap_in *in = NULL;

    assert_int_equal(pkt_pcap_open(test_path(path, sizeof(path), "missing.pcap"), &in, &err),
                     FM_EIO);
    assert_null(in);
    char want[400];
    snprintf(want, sizeof(want), "cannot open '%s': No such file or directory", path);
    assert_string_equal(err.msg, want);

    assert_int_equal(pkt_pcap_open(test_dir(), &in, &err), FM_EIO);
    assert_null(in);
    assert_non_null(strstr(err.msg, "Is a directory"));
    assert_non_null(strstr(err.msg, test_dir()));

    test_write_file(test_path(path, sizeof(path), "empty.pcap"), "", 0);
    assert_int_equal(pkt_pcap_open(path, &in, &err), FM_EFORMAT);
    assert_null(in);
    assert_non_null(strstr(err.msg, "is empty"));

    static const char text[] = "this is a text file, not a capture\nsecond line\n";
    test_write_file(test_path(path, sizeof(path), "notes.txt"), text, sizeof(text) - 1);
    assert_int_equal(pkt_pcap_open(path, &in, &err), FM_EFORMAT);
    assert_null(in);
    snprintf(want, sizeof(want), "'%s' is not a pcap or pcapng capture", path);
    assert_non_null(strstr(err.msg, want));

    /* 802.11 radiotap is a real link type we do not decode. */
    write_pcap(test_path(path, sizeof(path), "wifi.pcap"), DLT_IEEE802_11_RADIO, 1, 0);
    assert_int_equal(pkt_pcap_open(path, &in, &err), FM_EFORMAT);
    assert_null(in);
    assert_non_null(strstr(err.msg, "link type IEEE802_11_RADIO (127) is not supported"));
    assert_non_null(strstr(err.msg, "supported: EN10MB"));

    /* No read permission (unless running as root, which ignores it). */
    write_pcap(test_path(path, sizeof(path), "secret.pcap"), DLT_EN10MB, 1, 0);
    assert_int_equal(chmod(path, 0), 0);
    if (geteuid() != 0) {
        assert_int_equal(pkt_pcap_open(path, &in, &err), FM_EIO);
        assert_non_null(strstr(err.msg, "Permission denied"));
    }
}

static void on_progress(double share, void *arg)
{
    double *last = arg;
    /* Progress never goes back. */
    assert_true(share >= last[0]);
    assert_true(share <= 1.0);
    last[0] = share;
    last[1] += 1;
}

struct stopper {
    volatile sig_atomic_t *flag;
};

static void stop_at_progress(double share, void *arg)
{
    (void)share;
    struct stopper *s = arg;
    *s->flag = 1;
}

static void test_reader(void **state)
{
    (void)state;
    char path[300];
    struct fm_err err = {0};
    /* 70000 packets: one progress call in the loop, one at the end. */
    write_pcap(test_path(path, sizeof(path), "many.pcap"), DLT_EN10MB, 70000, 1000000000);
    struct est_flow_table *t = est_flow_table_new();
    assert_non_null(t);
    struct est_read_stats st;
    double prog[2] = {0, 0};
    assert_int_equal(est_read_capture(path, t, &st, on_progress, prog, NULL, &err), FM_OK);
    assert_int_equal(st.frames, 70000);
    assert_int_equal(st.status[PKT_DEC_OK], 70000);
    assert_int_equal(st.linktype, DLT_EN10MB);
    assert_double_near(prog[0], 1.0, 0);
    assert_double_near(prog[1], 2, 0);
    size_t n = 0;
    struct est_flow *const *s = est_flow_table_sorted(t, &n);
    assert_int_equal(n, 3);
    assert_int_equal(s[0]->side[0].packets, 23334);
    assert_int_equal(s[0]->local.port, 4000);
    assert_true(s[0]->side[0].first_ts_ns == 1000000000);
    est_flow_table_free(t);

    /* A stop request during the read ends it with FM_EINTR at the next packet. */
    t = est_flow_table_new();
    assert_non_null(t);
    volatile sig_atomic_t stop = 0;
    struct stopper stopper = {&stop};
    assert_int_equal(est_read_capture(path, t, &st, stop_at_progress, &stopper, &stop, &err),
                     FM_EINTR);
    assert_int_equal(st.frames, 65536);
    assert_non_null(strstr(err.msg, "interrupted"));
    /* Every packet read before the stop is in the table, none after. */
    size_t nf = 0;
    struct est_flow *const *fl = est_flow_table_sorted(t, &nf);
    uint64_t in_table = 0;
    for (size_t i = 0; i < nf; i++)
        in_table += fl[i]->side[0].packets + fl[i]->side[1].packets;
    assert_int_equal(in_table, 65536);
    est_flow_table_free(t);

    /* A file cut inside a packet is read to its last whole packet; errors of the input come
     * through. */
    t = est_flow_table_new();
    assert_non_null(t);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(truncate(path, sb.st_size - 3), 0);
    assert_int_equal(est_read_capture(path, t, &st, NULL, NULL, NULL, &err), FM_OK);
    assert_int_equal(st.frames, 69999);
    assert_int_equal(est_read_capture(test_path(path, sizeof(path), "nope.pcap"), t, NULL, NULL,
                                      NULL, NULL, &err),
                     FM_EIO);
    est_flow_table_free(t);
}

/* Frames that are not UDP/TCP are counted by outcome, not added. */
static void test_reader_status_counts(void **state)
{
    (void)state;
    char path[300];
    struct fm_err err = {0};
    test_path(path, sizeof(path), "mixed.pcap");
    pcap_t *dead =
        pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
    assert_non_null(dead);
    pcap_dumper_t *d = pcap_dump_open(dead, path);
    assert_non_null(d);
    uint8_t b[200];
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof(h));
    h.caplen = h.len = (bpf_u_int32)udp_frame(b, 4000, 30);
    pcap_dump((u_char *)d, &h, b); /* ok */
    b[12] = 0x08, b[13] = 0x06;
    pcap_dump((u_char *)d, &h, b); /* ARP: not IP */
    b[13] = 0x00;
    b[20] = 0x00, b[21] = 0x10;
    pcap_dump((u_char *)d, &h, b); /* fragment */
    b[20] = 0, b[21] = 0;
    b[23] = 1;
    pcap_dump((u_char *)d, &h, b); /* ICMP */
    b[23] = 17;
    h.caplen = 30;
    pcap_dump((u_char *)d, &h, b); /* cut by the snap length inside IP */
    b[14] = 0x43;
    h.caplen = h.len;
    pcap_dump((u_char *)d, &h, b); /* IHL 3 */
    pcap_dump_close(d);
    pcap_close(dead);

    struct est_flow_table *t = est_flow_table_new();
    assert_non_null(t);
    struct est_read_stats st;
    assert_int_equal(est_read_capture(path, t, &st, NULL, NULL, NULL, &err), FM_OK);
    assert_int_equal(st.frames, 6);
    assert_int_equal(st.status[PKT_DEC_OK], 1);
    assert_int_equal(st.status[PKT_DEC_NOT_IP], 1);
    assert_int_equal(st.status[PKT_DEC_FRAGMENT], 1);
    assert_int_equal(st.status[PKT_DEC_OTHER_L4], 1);
    assert_int_equal(st.status[PKT_DEC_TRUNCATED], 1);
    assert_int_equal(st.status[PKT_DEC_MALFORMED], 1);
    assert_int_equal(est_flow_table_count(t), 1);
    est_flow_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_back_ns), cmocka_unit_test(test_pcapng),
        cmocka_unit_test(test_truncated),    cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_reader),       cmocka_unit_test(test_reader_status_counts),
        cmocka_unit_test(test_each),         cmocka_unit_test(test_bad_timestamp),
    };
    return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
