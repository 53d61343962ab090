/* tests/unit/test_estimator_dumps.c - the reader on the real captures in traffic_dumps/.
 * Every expected number here was checked with tshark 4.0 (conversation statistics,
 * "-o rtp.heuristic_rtp:TRUE", udp.length sums); see the comments at each case. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include "estimator/reader.h"
#include "packet/pcap_in.h"
#include "tests/support/test_util.h"

#include <string.h>
#include <unistd.h>

/* Read a dump with series for every flow; skips the test when the dumps are not there. */
static struct est_flow_table *read_dump(const char *name, struct est_read_stats *st)
{
    char path[512];
    struct fm_err err = {0};
    test_dump_path(path, sizeof(path), name);
    if (access(path, R_OK) != 0) {
        print_message("%s not found: set FM_DUMPS_DIR\n", path);
        skip();
    }
    struct est_flow_table *t = est_flow_table_new();
    assert_non_null(t);
    assert_int_equal(est_flow_table_watch(t, NULL, &err), FM_OK);
    int rc = est_read_capture(path, t, st, NULL, NULL, NULL, &err);
    if (rc != FM_OK)
        fail_msg("%s: %s", path, err.msg);
    return t;
}

static void spec_is(const struct est_flow *f, const char *want)
{
    char buf[160];
    est_flow_format_spec(f, buf, sizeof(buf));
    assert_string_equal(buf, want);
}

/* G.711 both ways; tshark: 236 frames from 10.1.3.143:5000 (first at 1.643 s) and 229 back,
 * all with udp.length 260 and all RTP version 2. */
static void test_g711(void **state)
{
    (void)state;
    struct est_read_stats st;
    struct est_flow_table *t = read_dump("rtp_g711_voice_bidir__radionbik.pcap", &st);
    assert_int_equal(st.frames, 499);
    assert_int_equal(st.status[PKT_DEC_OK], 499);
    size_t n = 0;
    struct est_flow *const *s = est_flow_table_sorted(t, &n);
    assert_true(n >= 1);
    const struct est_flow *f = s[0];
    spec_is(f, "udp 10.1.3.143:5000 10.1.6.18:2006");
    assert_int_equal(f->side[0].packets, 236);
    assert_int_equal(f->side[1].packets, 229);
    assert_int_equal(f->side[0].bytes, 236 * 252);
    assert_int_equal(f->side[1].bytes, 229 * 252);
    for (int side = 0; side < 2; side++) {
        const struct est_series *se = f->series[side];
        assert_non_null(se);
        assert_int_equal(se->n, f->side[side].packets);
        assert_int_equal(se->rtp_valid, se->n);
        assert_int_equal(se->rtp_ssrc_match, se->n);
        for (size_t i = 0; i < se->n; i++)
            assert_int_equal(se->payload_len[i], 252);
        for (size_t i = 1; i < se->n; i++)
            assert_true(se->ts_ns[i] >= se->ts_ns[i - 1]);
    }
    est_flow_table_free(t);
}

/* MPEG-TS over RTP in an 802.1Q tag; tshark: 16 frames, vlan, RTP, udp.length 1336. */
static void test_mpegts_vlan(void **state)
{
    (void)state;
    struct est_read_stats st;
    struct est_flow_table *t = read_dump("mpegts_rtp_vlan_multicast_tiny__tsduck.pcap", &st);
    assert_int_equal(st.frames, 16);
    assert_int_equal(st.status[PKT_DEC_OK], 16);
    size_t n = 0;
    struct est_flow *const *s = est_flow_table_sorted(t, &n);
    assert_int_equal(n, 1);
    spec_is(s[0], "udp 10.101.10.90:2000 235.0.2.1:2000");
    assert_int_equal(s[0]->side[0].packets, 16);
    assert_int_equal(s[0]->side[0].bytes, 16 * 1328);
    assert_int_equal(s[0]->series[0]->rtp_valid, 16);
    est_flow_table_free(t);

    /* The tag is seen by the decoder. */
    char path[512];
    struct fm_err err = {0};
    struct pkt_pcap_in *in = NULL;
    struct pkt_raw raw;
    struct pkt_decoded p;
    test_dump_path(path, sizeof(path), "mpegts_rtp_vlan_multicast_tiny__tsduck.pcap");
    assert_int_equal(pkt_pcap_open(path, &in, &err), FM_OK);
    assert_int_equal(pkt_pcap_next(in, &raw, &err), 1);
    assert_int_equal(pkt_decode(pkt_pcap_linktype(in), raw.data, raw.caplen, raw.wirelen, &p),
                     PKT_DEC_OK);
    assert_int_equal(p.vlan_depth, 1);
    pkt_pcap_close(in);
}

/* pcapng; tshark: 15503 frames, 15469 in udp 39.102.180.217:50000 <-> 192.168.1.5:61225 of
 * which 7135 from the server, which sent frame 1. */
static void test_feishu_pcapng(void **state)
{
    (void)state;
    struct est_read_stats st;
    struct est_flow_table *t = read_dump("feishu_meeting_video_send_shaped__vca-sense.pcapng", &st);
    assert_int_equal(st.frames, 15503);
    assert_int_equal(st.status[PKT_DEC_OK], 15503);
    size_t n = 0;
    struct est_flow *const *s = est_flow_table_sorted(t, &n);
    spec_is(s[0], "udp 39.102.180.217:50000 192.168.1.5:61225");
    assert_int_equal(s[0]->side[0].packets, 7135);
    assert_int_equal(s[0]->side[1].packets, 8334);
    est_flow_table_free(t);
}

/* Many flows; tshark: 25 frames neither IPv4 nor IPv6, 3 non-first and 3 first IPv4
 * fragments, 5 other IP frames (not UDP/TCP/fragment), 2369 frames on udp port 7078. */
static void test_linphone_mixed(void **state)
{
    (void)state;
    struct est_read_stats st;
    struct est_flow_table *t = read_dump("sip_linphone_video_call_mixed_flows__mtaa.pcap", &st);
    assert_int_equal(st.frames, 4086);
    assert_int_equal(st.status[PKT_DEC_NOT_IP], 25);
    assert_int_equal(st.status[PKT_DEC_FRAGMENT], 3);
    assert_int_equal(st.status[PKT_DEC_OTHER_L4], 5);
    assert_int_equal(st.status[PKT_DEC_OK], 4086 - 25 - 3 - 5);
    size_t n = 0;
    struct est_flow *const *s = est_flow_table_sorted(t, &n);
    spec_is(s[0], "udp 192.168.1.11:7078 192.168.1.5:7078");
    assert_int_equal(s[0]->side[0].packets + s[0]->side[1].packets, 2369);
    est_flow_table_free(t);
}

/* H.264 one way; tshark: 3896 frames, payload bytes (udp.length - 8) 3487907, 2036 markers. */
static void test_h264(void **state)
{
    (void)state;
    struct est_read_stats st;
    struct est_flow_table *t = read_dump("rtp_h264_video_1dir__saghul_sipp-scenarios.pcap", &st);
    assert_int_equal(st.status[PKT_DEC_OK], 3896);
    size_t n = 0;
    struct est_flow *const *s = est_flow_table_sorted(t, &n);
    assert_int_equal(n, 1);
    spec_is(s[0], "udp 192.168.0.101:5018 85.17.186.6:53134");
    assert_int_equal(s[0]->side[0].bytes, 3487907);
    assert_int_equal(s[0]->side[1].packets, 0);
    assert_null(s[0]->series[1]);
    const struct est_series *se = s[0]->series[0];
    assert_int_equal(se->rtp_valid, 3896);
    assert_int_equal(se->rtp_marker, 2036);
    assert_int_equal(se->rtp_pt_hist[96], 3896);
    est_flow_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_g711),          cmocka_unit_test(test_mpegts_vlan),
        cmocka_unit_test(test_feishu_pcapng), cmocka_unit_test(test_linphone_mixed),
        cmocka_unit_test(test_h264),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
