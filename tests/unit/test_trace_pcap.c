/* tests/unit/test_trace_pcap.c - traces to pcap and back: frames with correct
 * lengths and checksums that packet/'s decoder reads back field for field, pcap
 * files at nanosecond resolution, one flow's packets, atomic writes. */
#include "packet/decode.h"
#include "tests/support/test_util.h"
#include "trace/pcap.h"
#include "trace/trace.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LT_RAW 12 /* DLT_RAW */

/* RFC 1071, written again here rather than shared with the code under test. */
static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i < n; i++)
        sum += i % 2 ? p[i] : (uint32_t)p[i] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

static struct trc_pkt make(const char *src, const char *dst, uint8_t proto)
{
    struct trc_pkt p;
    struct fm_err err = {0};
    memset(&p, 0, sizeof(p));
    p.ts_sec = 1700000001;
    p.ts_nsec = 123456789;
    p.proto = proto;
    assert_int_equal(trc_addr_parse(src, &p.family, p.src_ip, &err), FM_OK);
    assert_int_equal(trc_addr_parse(dst, &p.family, p.dst_ip, &err), FM_OK);
    p.src_port = 5004;
    p.dst_port = 5006;
    p.ttl = 33;
    p.dscp = 46;
    p.udp_length = -1;
    if (proto == 6) {
        p.has_tcp = 1;
        p.tcp.flags = TRC_TCP_PSH | TRC_TCP_ACK;
        p.tcp.seq = 4000000000u;
        p.tcp.ack = 77;
        p.tcp.window = 29200;
    }
    return p;
}

/* The transport checksum over the pseudo-header must come out as all ones. */
static void check_l4_sum(const uint8_t *f, size_t len, int v6)
{
    size_t iph = v6 ? 40 : 20;
    uint32_t sum = 0;
    size_t l4 = len - iph;
    if (v6) {
        sum = csum(f + 8, 32, 0);
    } else {
        sum = csum(f + 12, 8, 0);
        assert_int_equal(csum(f, 20, 0), 0xffff); /* header checksum */
    }
    sum += f[v6 ? 6 : 9];
    sum += (uint32_t)l4;
    assert_int_equal(csum(f + iph, l4, sum), 0xffff);
}

static void test_frames_decode(void **state)
{
    (void)state;
    static uint8_t frame[TRC_FRAME_MAX];
    uint8_t payload[37];
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 7 + 1);
    static const struct {
        const char *src, *dst;
        uint8_t proto;
    } cases[] = {
        {"198.18.0.1", "198.18.0.2", 17},
        {"198.18.0.1", "198.18.0.2", 6},
        {"2001:db8::1", "2001:db8::2", 17},
        {"2001:db8::1", "2001:db8::2", 6},
    };
    for (size_t i = 0; i < 4; i++) {
        struct trc_pkt p = make(cases[i].src, cases[i].dst, cases[i].proto);
        p.payload = payload;
        p.payload_length = (uint32_t)(sizeof(payload) - i); /* odd and even lengths */
        size_t len = 0;
        assert_int_equal(trc_frame_build(&p, frame, sizeof(frame), &len), FM_OK);
        int v6 = p.family == 6;
        assert_int_equal(len, (v6 ? 40 : 20) + (p.proto == 6 ? 20 : 8) + p.payload_length);
        check_l4_sum(frame, len, v6);
        struct pkt_decoded k;
        assert_int_equal(pkt_decode(LT_RAW, frame, (uint32_t)len, (uint32_t)len, &k), PKT_DEC_OK);
        assert_int_equal(k.ip_version, p.family);
        assert_int_equal(k.proto, p.proto);
        assert_memory_equal(k.src, p.src_ip, 16);
        assert_memory_equal(k.dst, p.dst_ip, 16);
        assert_int_equal(k.sport, 5004);
        assert_int_equal(k.dport, 5006);
        assert_int_equal(k.ttl, 33);
        assert_int_equal(k.dscp, 46);
        assert_int_equal(k.payload_len, p.payload_length);
        assert_memory_equal(frame + k.payload_off, payload, p.payload_length);
        if (p.proto == 6)
            assert_int_equal(k.tcp_flags, TRC_TCP_PSH | TRC_TCP_ACK);
        else
            assert_int_equal(frame[(v6 ? 40 : 20) + 4] << 8 | frame[(v6 ? 40 : 20) + 5],
                             8 + p.payload_length);
    }
    /* Too small a buffer, and more payload than an IPv4 packet holds. */
    struct trc_pkt p = make("198.18.0.1", "198.18.0.2", 17);
    p.payload_length = 100;
    size_t len = 0;
    assert_int_equal(trc_frame_build(&p, frame, 127, &len), FM_EINVAL);
    p.payload_length = 65508;
    assert_int_equal(trc_frame_build(&p, frame, sizeof(frame), &len), FM_EINVAL);
}

static void test_rtp_from_fields(void **state)
{
    (void)state;
    static uint8_t frame[TRC_FRAME_MAX];
    struct trc_pkt p = make("198.18.0.1", "198.18.0.2", 17);
    p.payload_length = 1200;
    p.has_rtp = 1;
    p.rtp.version = 2;
    p.rtp.payload_type = 96;
    p.rtp.marker = 1;
    p.rtp.seq = 65535;
    p.rtp.timestamp = 4294967295u;
    p.rtp.ssrc = 0x12345678;
    p.udp_length = 1300; /* written as the trace says, even when wrong */
    size_t len = 0;
    assert_int_equal(trc_frame_build(&p, frame, sizeof(frame), &len), FM_OK);
    struct pkt_decoded k;
    assert_int_equal(pkt_decode(LT_RAW, frame, (uint32_t)len, (uint32_t)len, &k), PKT_DEC_OK);
    assert_true(k.rtp.valid);
    assert_int_equal(k.rtp.payload_type, 96);
    assert_int_equal(k.rtp.marker, 1);
    assert_int_equal(k.rtp.seq, 65535);
    assert_int_equal(k.rtp.timestamp, 4294967295u);
    assert_int_equal(k.rtp.ssrc, 0x12345678);
    assert_int_equal(frame[24] << 8 | frame[25], 1300);
    for (size_t i = 12; i < p.payload_length; i++)
        assert_int_equal(frame[k.payload_off + i], 0);
}

static void save_and_read(const struct trc_trace *t,
                          const char *name,
                          int with_payload,
                          struct trc_trace *u,
                          struct trc_read_stats *st)
{
    char path[300];
    struct fm_err err = {0};
    test_path(path, sizeof(path), name);
    if (trc_to_pcap(t, path, &err) != FM_OK)
        fail_msg("write: %s", err.msg);
    trc_trace_init(u);
    if (trc_from_pcap(path, NULL, with_payload, u, st, NULL, NULL, &err) != FM_OK)
        fail_msg("read: %s", err.msg);
}

static void test_pcap_round_trip(void **state)
{
    (void)state;
    struct trc_trace t;
    struct trc_trace u;
    struct fm_err err = {0};
    struct trc_read_stats st;
    char *a = NULL;
    char *b = NULL;
    uint8_t bytes[20] = {0x80, 0x60, 0, 1, 0, 0, 0, 9, 0, 0, 0, 5};
    trc_trace_init(&t);
    struct trc_pkt p = make("198.18.0.1", "198.18.0.2", 17);
    p.payload = bytes;
    p.payload_length = sizeof(bytes);
    p.udp_length = 28;
    p.has_rtp = 1; /* as the decoder will see it in the bytes */
    p.rtp.version = 2;
    p.rtp.payload_type = 96;
    p.rtp.seq = 1;
    p.rtp.timestamp = 9;
    p.rtp.ssrc = 5;
    assert_int_equal(trc_trace_append(&t, &p, &err), FM_OK);
    p = make("2001:db8::1", "2001:db8::2", 6);
    p.ts_nsec = 999999999;
    p.payload = bytes;
    p.payload_length = 3;
    assert_int_equal(trc_trace_append(&t, &p, &err), FM_OK);
    p = make("198.18.0.9", "198.18.0.2", 17);
    p.ts_sec = 1700000002;
    p.ts_nsec = 1;
    p.payload = bytes + 19; /* an empty payload that is known */
    p.payload_length = 0;
    p.udp_length = 8;
    assert_int_equal(trc_trace_append(&t, &p, &err), FM_OK);
    save_and_read(&t, "rt.pcap", 1, &u, &st);
    assert_int_equal(st.frames, 3);
    assert_int_equal(st.kept, 3);
    assert_int_equal(st.payload_cut, 0);
    assert_int_equal(trc_trace_print(&t, &a, &err), FM_OK);
    assert_int_equal(trc_trace_print(&u, &b, &err), FM_OK);
    assert_string_equal(a, b);
    free(b);
    b = NULL;
    trc_trace_fini(&u);

    /* Without payload bytes, only the lengths; RTP fields survive through the header. */
    save_and_read(&t, "rt.pcap", 0, &u, &st);
    assert_int_equal(u.n, 3);
    for (size_t i = 0; i < u.n; i++) {
        assert_null(u.pkts[i].payload);
        assert_int_equal(u.pkts[i].payload_length, t.pkts[i].payload_length);
    }
    assert_true(u.pkts[0].has_rtp);
    assert_int_equal(u.pkts[0].rtp.ssrc, 5);
    /* ... and writing that again and reading it gives the same trace. */
    struct trc_trace w;
    assert_int_equal(trc_trace_print(&u, &b, &err), FM_OK);
    save_and_read(&u, "rt2.pcap", 0, &w, &st);
    char *c = NULL;
    assert_int_equal(trc_trace_print(&w, &c, &err), FM_OK);
    assert_string_equal(b, c);
    free(a);
    free(b);
    free(c);
    trc_trace_fini(&w);
    trc_trace_fini(&u);
    trc_trace_fini(&t);
}

static void test_flows_and_errors(void **state)
{
    (void)state;
    struct trc_trace t;
    struct trc_trace u;
    struct fm_err err = {0};
    struct trc_read_stats st;
    trc_trace_init(&t);
    /* Flow A has 3 packets (index 0), flow B 1 (index 1). */
    for (int i = 0; i < 4; i++) {
        struct trc_pkt p = make("198.18.0.1", i == 2 ? "198.18.0.3" : "198.18.0.2", 17);
        p.ts_nsec = (uint32_t)i;
        p.payload_length = 10;
        assert_int_equal(trc_trace_append(&t, &p, &err), FM_OK);
    }
    char sub[300];
    test_path(sub, sizeof(sub), "flows");
    assert_int_equal(mkdir(sub, 0755), 0);
    char path[400];
    snprintf(path, sizeof(path), "%s/two.pcap", sub);
    assert_int_equal(trc_to_pcap(&t, path, &err), FM_OK);
    /* Flow B, named by its spec with the endpoints either way round. */
    struct pkt_flow_key key;
    assert_int_equal(pkt_flow_spec_parse("udp 198.18.0.3:5006 198.18.0.1:5004", &key, &err), FM_OK);
    trc_trace_init(&u);
    uint64_t *frames = NULL;
    assert_int_equal(trc_from_pcap(path, &key, 1, &u, &st, &frames, NULL, &err), FM_OK);
    assert_int_equal(u.n, 1);
    assert_non_null(frames);
    assert_int_equal(frames[0], 3); /* the third frame, counted from 1 */
    free(frames);
    assert_int_equal(u.pkts[0].dst_ip[3], 3);
    assert_int_equal(st.other_flows, 3);
    assert_int_equal(pkt_flow_spec_parse("udp 198.18.0.2:5006 198.18.0.1:5004", &key, &err), FM_OK);
    assert_int_equal(trc_from_pcap(path, &key, 1, &u, &st, NULL, NULL, &err), FM_OK);
    assert_int_equal(u.n, 3);

    /* Writing where it cannot: an error naming the file and no temporary left behind. */
    char bad[400];
    snprintf(bad, sizeof(bad), "%s/none/x.pcap", sub);
    assert_int_equal(trc_to_pcap(&t, bad, &err), FM_EIO);
    assert_non_null(strstr(err.msg, bad));
    assert_int_equal(test_count_entries(sub), 1);
    /* A payload too large for IPv4 fails the write, which leaves the old file as it was. */
    t.pkts[3].payload_length = 65508;
    assert_int_equal(trc_to_pcap(&t, path, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "packet 3"));
    assert_int_equal(test_count_entries(sub), 1);
    assert_int_equal(trc_from_pcap(path, NULL, 1, &u, &st, NULL, NULL, &err), FM_OK);
    assert_int_equal(u.n, 4);
    /* Not a capture: the reader's error, and the trace left empty. */
    assert_int_equal(trc_from_pcap(sub, NULL, 1, &u, &st, NULL, NULL, &err), FM_EIO);
    assert_int_equal(u.n, 0);
    trc_trace_fini(&u);
    trc_trace_fini(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames_decode),
        cmocka_unit_test(test_rtp_from_fields),
        cmocka_unit_test(test_pcap_round_trip),
        cmocka_unit_test(test_flows_and_errors),
    };
    return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
