/* tests/fuzz/fuzz_trace.c - JSON packet traces (trace/trace.h): any bytes either load or
 * fail with a one-line message (leaving the trace empty); a trace that loads prints, loads
 * again with as many packets, and prints the same text. */
#include "tests/fuzz/fuzz.h"
#include "trace/trace.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct trc_trace t, again;
    struct fm_err err = {0};
    char *text = NULL, *text2 = NULL;

    trc_trace_init(&t);
    trc_trace_init(&again);
    int rc = trc_trace_parse((const char *)data, size, "fuzz.json", &t, &err);
    if (rc < 0) {
        fuzz_check_err(rc, &err, "trace: parse");
        fuzz_check(t.n == 0, "trace: a failed parse left packets", NULL);
        goto out;
    }
    rc = trc_trace_print(&t, &text, &err);
    fuzz_check(rc == FM_OK, "trace: print", err.msg);
    rc = trc_trace_parse(text, strlen(text), "printed.json", &again, &err);
    fuzz_check(rc == FM_OK, "trace: the printed trace does not load", err.msg);
    fuzz_check(again.n == t.n, "trace: the round trip changed the packet count", NULL);
    rc = trc_trace_print(&again, &text2, &err);
    fuzz_check(rc == FM_OK, "trace: print", err.msg);
    fuzz_check(strcmp(text, text2) == 0, "trace: the round trip changed the text", text2);
out:
    free(text);
    free(text2);
    trc_trace_fini(&t);
    trc_trace_fini(&again);
    return 0;
}
