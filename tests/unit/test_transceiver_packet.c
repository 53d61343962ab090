/* tests/unit/test_transceiver_packet.c - the UDP payload: RTP header bytes, the probe and its
 * round trip, rejection of what is not a probe, filler, and copied original payloads. */
#include "tests/support/test_util.h"
#include "transceiver/packet.h"

#include <string.h>

static struct trx_pkt sample_pkt(uint32_t len)
{
    struct trx_pkt p;
    memset(&p, 0, sizeof(p));
    p.payload_len = len;
    p.stream = 3;
    p.rtp = 1;
    p.rtp_pt = 97;
    p.rtp_marker = 1;
    p.rtp_seq = 0xbeef;
    p.rtp_ts = 0x01020304;
    p.rtp_ssrc = 0xcafebabe;
    p.probe_seq = 0x11223344;
    return p;
}

static void test_rtp_header_bytes(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct trx_pkt p = sample_pkt(40);
    assert_int_equal(trx_payload_build(&p, NULL, buf, sizeof(buf)), 40);
    /* RFC 3550 5.1: V=2, P=0, X=0, CC=0 | M=1, PT=97 | seq | timestamp | SSRC, big-endian. */
    static const uint8_t want[12] = {0x80, 0x80 | 97, 0xbe, 0xef, 0x01, 0x02,
                                     0x03, 0x04,      0xca, 0xfe, 0xba, 0xbe};
    assert_memory_equal(buf, want, 12);
    p.rtp_marker = 0;
    p.rtp_pt = 0;
    trx_payload_build(&p, NULL, buf, sizeof(buf));
    assert_int_equal(buf[0], 0x80);
    assert_int_equal(buf[1], 0x00);
    /* A payload type above 127 cannot spill into the marker bit. */
    p.rtp_pt = 0xff;
    trx_payload_build(&p, NULL, buf, sizeof(buf));
    assert_int_equal(buf[1], 0x7f);
}

static void test_probe_layout_and_round_trip(void **state)
{
    (void)state;
    uint8_t buf[200];
    struct trx_pkt p = sample_pkt(200);
    assert_true(pkt_payload_has_probe(200));
    trx_payload_build(&p, NULL, buf, sizeof(buf));
    static const uint8_t head[12] = {'F', 'M', 'P', 'R', 1, 0, 0x00, 0x03, 0x11, 0x22, 0x33, 0x44};
    assert_memory_equal(buf + PKT_PROBE_OFFSET, head, sizeof(head));
    /* The send time is 0 until stamped. */
    static const uint8_t zero8[8] = {0};
    assert_memory_equal(buf + PKT_PROBE_OFFSET + 12, zero8, 8);

    int64_t t = 0x0123456789abcdefLL;
    pkt_probe_stamp(buf, t);
    static const uint8_t tbytes[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
    assert_memory_equal(buf + PKT_PROBE_OFFSET + 12, tbytes, 8);

    struct pkt_probe pr;
    memset(&pr, 0, sizeof(pr));
    assert_int_equal(pkt_probe_decode(buf, 200, &pr), 1);
    assert_int_equal(pr.stream, 3);
    assert_int_equal(pr.seq, 0x11223344);
    assert_true(pr.send_time_ns == t);
    /* Exactly the RTP header plus the probe is enough. */
    assert_int_equal(pkt_probe_decode(buf, PKT_RTP_HDR_LEN + PKT_PROBE_LEN, &pr), 1);
}

static void test_probe_rejects(void **state)
{
    (void)state;
    uint8_t buf[64], bad[64];
    struct trx_pkt p = sample_pkt(64);
    struct pkt_probe pr = {7, 7, 7};
    trx_payload_build(&p, NULL, buf, sizeof(buf));
    pkt_probe_stamp(buf, 1000);

    /* Short buffers: every length below header + probe fails, whatever the bytes say. */
    for (size_t len = 0; len < PKT_RTP_HDR_LEN + PKT_PROBE_LEN; len++)
        assert_int_equal(pkt_probe_decode(buf, len, &pr), 0);
    assert_int_equal(pkt_payload_has_probe(PKT_RTP_HDR_LEN + PKT_PROBE_LEN - 1), 0);

    memcpy(bad, buf, sizeof(buf));
    bad[PKT_PROBE_OFFSET + 3] ^= 0x01; /* magic */
    assert_int_equal(pkt_probe_decode(bad, sizeof(bad), &pr), 0);
    memcpy(bad, buf, sizeof(buf));
    bad[PKT_PROBE_OFFSET + 4] = 2; /* a newer probe version */
    assert_int_equal(pkt_probe_decode(bad, sizeof(bad), &pr), 0);
    memcpy(bad, buf, sizeof(buf));
    bad[0] = 0x40; /* RTP version 1 */
    assert_int_equal(pkt_probe_decode(bad, sizeof(bad), &pr), 0);
    memcpy(bad, buf, sizeof(buf));
    bad[0] = 0x81; /* one CSRC would move the probe */
    assert_int_equal(pkt_probe_decode(bad, sizeof(bad), &pr), 0);
    memcpy(bad, buf, sizeof(buf));
    bad[PKT_PROBE_OFFSET + 12] = 0x80; /* a send time beyond int64 */
    assert_int_equal(pkt_probe_decode(bad, sizeof(bad), &pr), 0);
    /* Nothing was written on failure. */
    assert_int_equal(pr.stream, 7);
    assert_int_equal(pr.seq, 7);
}

static void test_small_and_filler(void **state)
{
    (void)state;
    uint8_t buf[64];
    /* Room for the RTP header but not the probe: header, then filler, no magic. */
    struct trx_pkt p = sample_pkt(20);
    memset(buf, 0xee, sizeof(buf));
    assert_int_equal(trx_payload_build(&p, NULL, buf, sizeof(buf)), 20);
    assert_int_equal(buf[0], 0x80);
    assert_true(memcmp(buf + 12, "FMPR", 4) != 0);
    assert_int_equal(buf[20], 0xee); /* nothing past the payload */
    /* Stamping a payload without a probe changes nothing. */
    uint8_t copy[64];
    memcpy(copy, buf, sizeof(buf));
    pkt_probe_stamp(buf, 12345);
    assert_memory_equal(buf, copy, sizeof(buf));
    /* The filler after the probe is not all zeros, and a cap shorter than the payload is
     * respected. */
    uint8_t big[100];
    p = sample_pkt(100);
    trx_payload_build(&p, NULL, big, sizeof(big));
    int nonzero = 0;
    for (size_t i = PKT_PROBE_OFFSET + PKT_PROBE_LEN; i < sizeof(big); i++)
        nonzero += big[i] != 0;
    assert_true(nonzero > 40);
    memset(buf, 0xee, sizeof(buf));
    assert_int_equal(trx_payload_build(&p, NULL, buf, 16), 16);
    assert_int_equal(buf[16], 0xee);
}

static void test_original_copied(void **state)
{
    (void)state;
    uint8_t orig[50], buf[64];
    for (size_t i = 0; i < sizeof(orig); i++)
        orig[i] = (uint8_t)(200 - i);
    struct trx_pkt p = sample_pkt(50);
    p.rtp = 0;
    assert_int_equal(trx_payload_build(&p, orig, buf, sizeof(buf)), 50);
    assert_memory_equal(buf, orig, 50);
    /* With the RTP flag, the original is ignored and a header is built. */
    p.rtp = 1;
    trx_payload_build(&p, orig, buf, sizeof(buf));
    assert_int_equal(buf[0], 0x80);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rtp_header_bytes), cmocka_unit_test(test_probe_layout_and_round_trip),
        cmocka_unit_test(test_probe_rejects),    cmocka_unit_test(test_small_and_filler),
        cmocka_unit_test(test_original_copied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
