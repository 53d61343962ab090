/* tests/unit/test_common_map.c - the one hash table: every key put is found with its index
 * through many growths, an absent key is FM_MAP_NONE, a put replaces, keys that differ in one
 * byte are told apart, and a map made without a key size refuses puts. */
#include "common/map.h"
#include "tests/support/test_util.h"

#include <string.h>

struct key {
    uint32_t a;
    uint8_t b[11];
};

static void test_map(void **state)
{
    (void)state;
    struct fm_map m;
    fm_map_init(&m, sizeof(struct key));
    struct key k;
    memset(&k, 0, sizeof(k));
    assert_int_equal(fm_map_get(&m, &k), FM_MAP_NONE);
    for (uint32_t i = 0; i < 20000; i++) {
        memset(&k, 0, sizeof(k));
        k.a = i * 2654435761u;
        k.b[10] = (uint8_t)i;
        assert_int_equal(fm_map_put(&m, &k, i), 0);
    }
    assert_int_equal(m.n, 20000);
    assert_true(2 * m.n <= m.cap);
    for (uint32_t i = 0; i < 20000; i++) {
        memset(&k, 0, sizeof(k));
        k.a = i * 2654435761u;
        k.b[10] = (uint8_t)i;
        assert_int_equal(fm_map_get(&m, &k), i);
        k.b[3] = 1; /* one byte off: another key */
        assert_int_equal(fm_map_get(&m, &k), FM_MAP_NONE);
    }
    memset(&k, 0, sizeof(k));
    assert_int_equal(fm_map_put(&m, &k, 77), 0); /* key of i = 0: replaced, not added */
    assert_int_equal(m.n, 20000);
    assert_int_equal(fm_map_get(&m, &k), 77);
    assert_true(fm_map_mem_bytes(&m) == m.cap * (sizeof(struct key) + sizeof(size_t)));
    fm_map_fini(&m);
    assert_int_equal(m.n, 0);
    assert_int_equal(fm_map_get(&m, &k), FM_MAP_NONE);

    struct fm_map z;
    fm_map_init(&z, 0);
    assert_int_equal(fm_map_put(&z, &k, 1), -1);
    fm_map_fini(&z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_map)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
