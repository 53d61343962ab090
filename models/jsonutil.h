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

#endif
