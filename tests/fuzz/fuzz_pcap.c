/* tests/fuzz/fuzz_pcap.c - a whole capture file (estimator/reader.h): the bytes go to a
 * temporary file read by est_read_capture() into a flow table that keeps every flow's series;
 * then the flows are sorted and the top one is fitted with small options (one restart, at
 * most two components, few iterations: well under a second) and its model must print and
 * load again. A read either succeeds or fails with a one-line message, and its counts add up
 * either way. */
#include "estimator/estimate.h"
#include "estimator/reader.h"
#include "models/json.h"
#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[4096];

static void remove_file(void)
{
    if (path[0])
        unlink(path);
}

/* The file the input goes to: one per process, removed at exit. */
static int write_input(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(path, sizeof(path), "%s/fm_fuzz_pcap_XXXXXX", dir && dir[0] ? dir : "/tmp");
        int fd = mkstemp(path);
        if (fd < 0) {
            path[0] = '\0';
            return -1;
        }
        close(fd);
        atexit(remove_file);
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t done = fwrite(data, 1, size, f);
    return fclose(f) == 0 && done == size ? 0 : -1;
}

static void fit_top(const struct est_flow *f)
{
    struct est_opts o;
    struct mdl_model m, again;
    struct fm_err err = {0};

    est_opts_init(&o);
    o.fit.max_k = 2;
    o.fit.restarts = 1;
    o.fit.max_iter = 50;
    o.min_samples = 4;
    int rc = est_model_from_flow(f, "fuzz.pcap", &o, &m, &err);
    if (rc < 0) {
        fuzz_check_err(rc, &err, "pcap: fit");
        return;
    }
    char *text = mdl_json_print(&m);
    fuzz_check(text != NULL, "pcap: print the model", NULL);
    rc = mdl_json_parse(text, strlen(text), "fitted.json", &again, &err);
    fuzz_check(rc == FM_OK, "pcap: a fitted model does not load", err.msg);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct est_flow_table *t = NULL;
    struct est_read_stats st;
    struct fm_err err = {0};

    if (write_input(data, size) < 0) {
        perror("fuzz_pcap: temporary file");
        abort();
    }
    t = est_flow_table_new();
    if (!t || est_flow_table_watch(t, NULL, &err) < 0)
        goto out;
    memset(&st, 0, sizeof(st));
    int rc = est_read_capture(path, t, &st, NULL, NULL, NULL, &err);
    if (rc < 0)
        fuzz_check_err(rc, &err, "pcap: read");
    uint64_t sum = 0;
    for (int i = 0; i < EST_DEC_NSTATUS; i++)
        sum += st.status[i];
    fuzz_check(sum == st.frames, "pcap: read", "frames per status do not add up");

    size_t n = 0;
    struct est_flow *const *flows = est_flow_table_sorted(t, &n);
    fuzz_check(flows != NULL, "pcap: sort", "NULL");
    fuzz_check(n == est_flow_table_count(t), "pcap: sort", "not every flow");
    for (size_t i = 1; i < n; i++) {
        uint64_t a = flows[i - 1]->side[0].packets + flows[i - 1]->side[1].packets;
        uint64_t b = flows[i]->side[0].packets + flows[i]->side[1].packets;
        fuzz_check(a >= b, "pcap: sort", "not by packets");
    }
    if (n > 0)
        fit_top(flows[0]);
out:
    est_flow_table_free(t);
    return 0;
}
