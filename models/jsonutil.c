/* models/jsonutil.c - small checks shared by the strict cJSON readers (see jsonutil.h). */
#include "models/jsonutil.h"

#include <string.h>

int mdl_json_key_known(const char *key, const char *const *known)
{
    if (!key)
        return 0;
    for (const char *const *k = known; *k; k++) {
        if (strcmp(key, *k) == 0)
            return 1;
    }
    return 0;
}

const char *mdl_json_type_name(const cJSON *v)
{
    if (cJSON_IsNull(v))
        return "null";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsArray(v))
        return "an array";
    if (cJSON_IsObject(v))
        return "an object";
    return "not a JSON value";
}

void mdl_json_error_pos(
    const char *text, size_t len, const char *end, unsigned *line, unsigned *col)
{
    size_t off = end && end >= text ? (size_t)(end - text) : 0;
    if (off > len)
        off = len;
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            ++*line;
            *col = 1;
        } else {
            ++*col;
        }
    }
}

int mdl_json_syntax_error(
    const char *text, size_t len, const char *end, const char *what, struct fm_err *err)
{
    unsigned line = 0, col = 0;
    mdl_json_error_pos(text, len, end, &line, &col);
    return fm_err_set(err, FM_EFORMAT, "%s: not valid JSON (near line %u)", what, line);
}
