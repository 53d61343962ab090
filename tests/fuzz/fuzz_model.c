/* tests/fuzz/fuzz_model.c - model files (models/json.h): any bytes either load or fail with a
 * one-line message; a model that loads prints, loads again and prints the same text. */
#include "models/json.h"
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mdl_model m, again;
    struct fm_err err = {0};
    char *text = NULL, *text2 = NULL;

    int rc = mdl_json_parse((const char *)data, size, "fuzz.json", &m, &err);
    if (rc < 0) {
        fuzz_check_err(rc, &err, "model: parse");
        return 0;
    }
    text = mdl_json_print(&m);
    fuzz_check(text != NULL, "model: print", "NULL");
    rc = mdl_json_parse(text, strlen(text), "printed.json", &again, &err);
    fuzz_check(rc == FM_OK, "model: the printed model does not load", err.msg);
    text2 = mdl_json_print(&again);
    fuzz_check(text2 != NULL, "model: print", "NULL");
    fuzz_check(strcmp(text, text2) == 0, "model: the round trip changed the text", text2);
    free(text);
    free(text2);
    return 0;
}
