/* tests/unit/test_estimator_select.c - one flow of a capture by its index in `flows` order
 * or by its spec: the ranking, specs either way round, a missing index, a bad spec, a stop. */
#include "estimator/select.h"
#include "packet/pcap_out.h"
#include "tests/support/test_util.h"

#include <string.h>

/* Four frames: flow A (10.0.0.1:5004 <-> 10.0.0.2:5006) three times, flow B
 * (10.0.0.1:5004 -> 10.0.0.3:5006) once, third. A ranks first (index 0), B second. */
static void write_two_flows(const char *path)
{
    struct pkt_pcap_out out;
    struct fm_err err = {0};
    uint8_t frame[64];
    assert_int_equal(pkt_pcap_out_open(&out, path, DLT_EN10MB, 65535, &err), FM_OK);
    for (int i = 0; i < 4; i++) {
        size_t len = test_udp4_frame(frame, 1, i == 2 ? 3 : 2, 5004, 5006, 10);
        assert_int_equal(pkt_pcap_out_write(&out, 1700000000000000000LL + i, frame, (uint32_t)len,
                                            (uint32_t)len, &err),
                         FM_OK);
    }
    assert_int_equal(pkt_pcap_out_commit(&out, &err), FM_OK);
}

static void test_select(void **state)
{
    (void)state;
    char path[300];
    struct fm_err err = {0};
    struct pkt_flow_key key;
    struct pkt_flow_key want;
    test_path(path, sizeof(path), "two.pcap");
    write_two_flows(path);

    assert_int_equal(est_flow_select(path, "1", NULL, &key, &err), FM_OK);
    assert_int_equal(pkt_flow_spec_parse("udp 10.0.0.3:5006 10.0.0.1:5004", &want, &err), FM_OK);
    assert_true(pkt_flow_key_equal(&key, &want));
    assert_int_equal(est_flow_select(path, "0", NULL, &key, &err), FM_OK);
    assert_int_equal(pkt_flow_spec_parse("udp 10.0.0.1:5004 10.0.0.2:5006", &want, &err), FM_OK);
    assert_true(pkt_flow_key_equal(&key, &want));

    /* A spec is taken as written, without reading the capture. */
    assert_int_equal(
        est_flow_select("/nonexistent", "udp 10.0.0.2:5006 10.0.0.1:5004", NULL, &key, &err),
        FM_OK);
    assert_true(pkt_flow_key_equal(&key, &want));

    assert_int_equal(est_flow_select(path, "2", NULL, &key, &err), FM_ENOTFOUND);
    assert_non_null(strstr(err.msg, "2 flows"));
    assert_int_equal(est_flow_select(path, "udp 1.2.3.4", NULL, &key, &err), FM_EINVAL);
    /* Ten digits are not an index, and not a spec either. */
    assert_int_equal(est_flow_select(path, "1234567890", NULL, &key, &err), FM_EINVAL);

    /* A stop already set ends the read of the capture. */
    volatile sig_atomic_t stop = 1;
    assert_int_equal(est_flow_select(path, "0", &stop, &key, &err), FM_EINTR);
    assert_non_null(strstr(err.msg, "interrupted"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select),
    };
    return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
