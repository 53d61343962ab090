/* tests/unit/test_transceiver_sink.c - the pcap sink (read back with libpcap: nanosecond
 * timestamps, Ethernet/IPv4/IPv6/UDP lengths and checksums, payload) and the memory sink. */
#include "tests/support/test_util.h"
#include "transceiver/sink.h"

#include <pcap/pcap.h>
#include <string.h>
#include <unistd.h>

static unsigned be16(const uint8_t *b)
{
    return (unsigned)b[0] << 8 | b[1];
}

/* The one's-complement sum of 16-bit words, folded (RFC 1071). A header or segment whose
 * checksum is right sums to 0xffff. */
static unsigned ones_sum(unsigned long sum, const uint8_t *b, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += be16(b + i);
    if (len & 1)
        sum += (unsigned)b[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (unsigned)sum;
}

static struct trx_pkt pkt4(uint32_t len)
{
    struct trx_pkt p;
    memset(&p, 0, sizeof(p));
    p.payload_len = len;
    p.addr.ip_version = 4;
    static const uint8_t src[4] = {198, 18, 0, 1}, dst[4] = {198, 18, 0, 2};
    memcpy(p.addr.src, src, 4);
    memcpy(p.addr.dst, dst, 4);
    p.addr.sport = 5004;
    p.addr.dport = 6000;
    p.ttl = 61;
    p.dscp = 46;
    return p;
}

static void test_pcap_round_trip(void **state)
{
    (void)state;
    char path[300];
    struct trx_sink *s = NULL;
    struct fm_err err = {0};
    test_path(path, sizeof(path), "out.pcap");
    assert_int_equal(trx_sink_pcap_new(path, &s, &err), FM_OK);

    /* IPv4 with an even and an odd payload, then IPv6; timestamps down to the nanosecond. */
    static const uint32_t lens[4] = {12, 101, 1400, 333};
    static const int64_t ts[4] = {1, 1500000001LL, 3999999999LL, 86400000000123LL};
    uint8_t payload[1400];
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 7 + 3);
    struct trx_pkt p[4];
    for (int i = 0; i < 4; i++) {
        p[i] = pkt4(lens[i]);
        if (i == 3) {
            p[i].addr.ip_version = 6;
            static const uint8_t s6[16] = {0x20, 0x01, [15] = 1}, d6[16] = {0x20, 0x01, [15] = 2};
            memcpy(p[i].addr.src, s6, 16);
            memcpy(p[i].addr.dst, d6, 16);
        }
        assert_int_equal(trx_sink_send(s, &p[i], payload, lens[i], ts[i], &err), FM_OK);
    }
    /* Before the close, only a temporary file exists. */
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(trx_sink_close(s, 1, &err), FM_OK);
    assert_int_equal(test_count_entries(test_dir()), 1);

    char ebuf[PCAP_ERRBUF_SIZE];
    pcap_t *pd = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
    if (!pd)
        fail_msg("pcap_open_offline: %s", ebuf);
    assert_int_equal(pcap_datalink(pd), DLT_EN10MB);
    struct pcap_pkthdr *h = NULL;
    const u_char *f = NULL;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pcap_next_ex(pd, &h, &f), 1);
        int v6 = i == 3;
        size_t ip_len = v6 ? 40 : 20;
        size_t want = 14 + ip_len + 8 + lens[i];
        assert_int_equal(h->caplen, want);
        assert_int_equal(h->len, want);
        assert_int_equal((int64_t)h->ts.tv_sec * 1000000000LL + h->ts.tv_usec, ts[i]);
        assert_int_equal(be16(f + 12), v6 ? 0x86dd : 0x0800);
        const uint8_t *ip = f + 14;
        const uint8_t *udp = ip + ip_len;
        unsigned long pseudo = 0;
        if (!v6) {
            assert_int_equal(ip[0], 0x45);
            assert_int_equal(ip[1], 46 << 2);
            assert_int_equal(be16(ip + 2), 20 + 8 + lens[i]);
            assert_int_equal(ip[8], 61);
            assert_int_equal(ip[9], 17);
            assert_memory_equal(ip + 12, p[i].addr.src, 4);
            assert_memory_equal(ip + 16, p[i].addr.dst, 4);
            assert_int_equal(ones_sum(0, ip, 20), 0xffff);
            pseudo = ones_sum(0, ip + 12, 8);
        } else {
            assert_int_equal(ip[0] >> 4, 6);
            assert_int_equal((be16(ip) >> 4) & 0xff, 46 << 2); /* traffic class */
            assert_int_equal(be16(ip + 4), 8 + lens[i]);
            assert_int_equal(ip[6], 17);
            assert_int_equal(ip[7], 61);
            assert_memory_equal(ip + 8, p[i].addr.src, 16);
            assert_memory_equal(ip + 24, p[i].addr.dst, 16);
            pseudo = ones_sum(0, ip + 8, 32);
        }
        assert_int_equal(be16(udp), 5004);
        assert_int_equal(be16(udp + 2), 6000);
        assert_int_equal(be16(udp + 4), 8 + lens[i]);
        assert_true(be16(udp + 6) != 0);
        /* The pseudo-header (addresses, protocol, UDP length) and the segment sum to ~0. */
        assert_int_equal(ones_sum(pseudo + 17 + 8 + lens[i], udp, 8 + lens[i]), 0xffff);
        assert_memory_equal(udp + 8, payload, lens[i]);
    }
    assert_int_equal(pcap_next_ex(pd, &h, &f), PCAP_ERROR_BREAK);
    pcap_close(pd);
}

static void test_pcap_discard_and_errors(void **state)
{
    (void)state;
    char path[300];
    struct trx_sink *s = NULL;
    struct fm_err err = {0};
    uint8_t payload[64] = {0};
    test_path(path, sizeof(path), "gone.pcap");
    int before = test_count_entries(test_dir());
    assert_int_equal(trx_sink_pcap_new(path, &s, &err), FM_OK);
    struct trx_pkt p = pkt4(64);
    assert_int_equal(trx_sink_send(s, &p, payload, 64, 0, &err), FM_OK);
    /* An oversized payload and an unknown IP version are refused, the sink goes on. */
    assert_int_equal(trx_sink_send(s, &p, payload, TRX_MAX_PAYLOAD + 1, 0, &err), FM_EINVAL);
    p.addr.ip_version = 5;
    assert_int_equal(trx_sink_send(s, &p, payload, 64, 0, &err), FM_EINVAL);
    /* Discarded: neither the file nor a temporary remains. */
    assert_int_equal(trx_sink_close(s, 0, &err), FM_OK);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(test_count_entries(test_dir()), before);

    test_path(path, sizeof(path), "no/such/dir/x.pcap");
    s = NULL;
    assert_int_equal(trx_sink_pcap_new(path, &s, &err), FM_EIO);
    assert_null(s);
    assert_non_null(strstr(err.msg, "x.pcap"));
    assert_int_equal(trx_sink_close(NULL, 1, &err), FM_OK);
}

static void test_mem_sink(void **state)
{
    (void)state;
    struct trx_sink *s = NULL;
    struct fm_err err = {0};
    uint8_t payload[3000];
    memset(payload, 0xab, sizeof(payload));
    assert_int_equal(trx_sink_mem_new(2, &s, &err), FM_OK);
    struct trx_pkt p = pkt4(100);
    for (int i = 0; i < 3; i++) {
        p.rtp_seq = (uint16_t)i;
        assert_int_equal(trx_sink_send(s, &p, payload, i == 1 ? 3000 : 100, (int64_t)10 * i, &err),
                         FM_OK);
    }
    size_t n = 0;
    const struct trx_mem_rec *r = trx_sink_mem_records(s, &n);
    assert_int_equal(n, 2);
    assert_int_equal(r[0].pkt.rtp_seq, 0);
    assert_int_equal(r[1].pkt.rtp_seq, 1);
    assert_int_equal(r[1].len, 3000); /* the full length, with the first bytes kept */
    assert_int_equal(r[1].ts_ns, 10);
    assert_int_equal(r[1].payload[2047], 0xab);
    assert_int_equal(trx_sink_close(s, 1, &err), FM_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcap_round_trip),
        cmocka_unit_test(test_pcap_discard_and_errors),
        cmocka_unit_test(test_mem_sink),
    };
    return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
