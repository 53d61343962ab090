/* models/jsonutil.h - small checks shared by the strict cJSON readers (model, variant and
 * trace files in models/, the reviewer of LLM answers in llm/). cJSON stays inside models/
 * and llm/. Stateless and reentrant. */
#ifndef MODELS_JSONUTIL_H
#define MODELS_JSONUTIL_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "common/err.h"

/* 1 when key is one of known (a NULL-terminated list), 0 otherwise, and for a NULL key (an
 * array element): a strict reader rejects any member for which this is 0. */
FM_MUST_CHECK int mdl_json_key_known(const char *key, const char *const *known);

/* The name of v's JSON type with its article, for "must be X, not Y" messages ("a number",
 * "an object", "null"). Never NULL. */
const char *mdl_json_type_name(const cJSON *v);

/* Where cJSON stopped (end, as cJSON_ParseWithLengthOpts() left it, may be NULL) in text of
 * len bytes, as a 1-based line and column. */
void mdl_json_error_pos(
    const char *text, size_t len, const char *end, unsigned *line, unsigned *col);

/* The one message for text that is not JSON: "WHAT: not valid JSON (near line N)", with
 * FM_EFORMAT in err; returns FM_EFORMAT. */
FM_MUST_CHECK int mdl_json_syntax_error(
    const char *text, size_t len, const char *end, const char *what, struct fm_err *err);

/* Check a file's "format" (must equal format) and "version" (a positive integer no newer than
 * version). kind names the file type in messages ("model", "variant file", "packet trace"),
 * what names the file. Returns FM_OK and sets *out_version, or FM_EFORMAT with the message in
 * err. */
FM_MUST_CHECK int mdl_json_check_header(const cJSON *root,
                                        const char *format,
                                        int version,
                                        const char *kind,
                                        const char *what,
                                        int *out_version,
                                        struct fm_err *err);

/* root as pretty text with two-space indents and ": " (cJSON_Print() lays it out with tabs),
 * in memory the caller releases with free(); NULL when out of memory. */
char *mdl_json_pretty(const cJSON *root);

#endif
