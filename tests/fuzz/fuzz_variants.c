/* tests/fuzz/fuzz_variants.c - variant files (models/variant.h): any bytes either load or
 * fail with a one-line message; every variant that loads passes mdl_variant_check() and maps
 * any payload length into 0..65507. */
#include "models/variant.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct mdl_variant vs[MDL_MAX_VARIANTS];
    static const double lengths[] = {0.0, 1.0, 172.0, 1500.0, 65507.0, 1e12};
    struct fm_err err = {0};
    size_t n = 0;

    int rc =
        mdl_variants_parse((const char *)data, size, "fuzz.json", vs, MDL_MAX_VARIANTS, &n, &err);
    if (rc < 0) {
        fuzz_check_err(rc, &err, "variants: parse");
        return 0;
    }
    fuzz_check(n <= MDL_MAX_VARIANTS, "variants: count", "more than asked for");
    for (size_t i = 0; i < n; i++) {
        fuzz_check(mdl_variant_check(&vs[i], &err) == FM_OK, "variants: a loaded variant fails",
                   err.msg);
        for (size_t j = 0; j < sizeof(lengths) / sizeof(lengths[0]); j++)
            fuzz_check(mdl_variant_payload(&vs[i], lengths[j]) <= 65507, "variants: payload",
                       "out of 0..65507");
    }
    return 0;
}
