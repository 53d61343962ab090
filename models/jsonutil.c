/* models/jsonutil.c - small checks shared by the strict cJSON readers (see jsonutil.h). */
#include "models/jsonutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

int mdl_json_check_header(const cJSON *root,
                          const char *format,
                          int version,
                          const char *kind,
                          const char *what,
                          int *out_version,
                          struct fm_err *err)
{
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, format) != 0)
        return fm_err_set(err, FM_EFORMAT, "%s: not a flowmimic %s (\"format\" is not \"%s\")",
                          what, kind, format);
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsNumber(ver) || ver->valuedouble < 1 || ver->valuedouble != floor(ver->valuedouble))
        return fm_err_set(err, FM_EFORMAT, "%s: field 'version' must be a positive integer", what);
    if (ver->valuedouble > version)
        return fm_err_set(err, FM_EFORMAT,
                          "%s: %s version %.0f is newer than this flowmimic reads (%d): "
                          "upgrade flowmimic",
                          what, kind, ver->valuedouble, version);
    *out_version = (int)ver->valuedouble;
    return FM_OK;
}

char *mdl_json_pretty(const cJSON *root)
{
    char *text = cJSON_Print(root);
    if (!text)
        return NULL;
    /* cJSON indents with tabs and puts a tab after each colon. It escapes tabs inside strings,
     * so every raw tab is layout: make it the two-space indent and ": " people expect. The
     * copy is also memory the caller releases with plain free(). */
    size_t len = strlen(text);
    char *out = malloc(2 * len + 1);
    if (out) {
        char *o = out;
        for (const char *p = text; *p; p++) {
            if (*p != '\t') {
                *o++ = *p;
            } else if (p > text && p[-1] == ':') {
                *o++ = ' ';
            } else {
                *o++ = ' ';
                *o++ = ' ';
            }
        }
        *o = '\0';
    }
    cJSON_free(text);
    return out;
}
