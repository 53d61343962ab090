/* estimator/select.c - one flow of a capture by index or spec; see select.h. */
#include "estimator/select.h"

#include <stdlib.h>
#include <string.h>

#include "estimator/flow.h"
#include "estimator/reader.h"

/* A spec is parsed as it is written; only digits (at most nine) are an index, which ranks the
 * flows of path as `flowmimic flows` does and takes the one at that place. */
int est_flow_select(const char *path,
                    const char *arg,
                    volatile sig_atomic_t *stop,
                    struct pkt_flow_key *key,
                    struct fm_err *err)
{
    struct est_flow_table *t = NULL;
    int rc = FM_OK;
    size_t digits = strspn(arg, "0123456789");
    if (digits == 0 || arg[digits] != '\0' || digits > 9)
        return pkt_flow_spec_parse(arg, key, err);
    size_t index = (size_t)strtoul(arg, NULL, 10);
    t = est_flow_table_new();
    if (!t)
        return fm_err_set(err, FM_ENOMEM, "flows of '%s'", path);
    rc = est_read_capture(path, t, NULL, NULL, NULL, stop, err);
    if (rc < 0)
        goto out;
    size_t n = 0;
    struct est_flow *const *flows = est_flow_table_sorted(t, &n);
    if (!flows) {
        rc = fm_err_set(err, FM_ENOMEM, "flows of '%s'", path);
        goto out;
    }
    if (index >= n) {
        if (n == 0)
            rc = fm_err_set(err, FM_ENOTFOUND, "'%s' holds no UDP or TCP flows", path);
        else
            rc = fm_err_set(err, FM_ENOTFOUND,
                            "flow %zu is not in '%s', which has %zu flows (0 to %zu): see "
                            "'flowmimic flows %s'",
                            index, path, n, n - 1, path);
        goto out;
    }
    *key = flows[index]->key;
out:
    est_flow_table_free(t);
    return rc;
}
