/* models/json.h - model files: load, save and print (the only cJSON user in models/).
 * Loading checks everything (format, version, types, ranges) and never trusts the file. */
#ifndef MODELS_JSON_H
#define MODELS_JSON_H

#include "common/err.h"
#include "models/model.h"

/* Load a model from path. Returns FM_OK and fills *out, FM_EIO when the file cannot be
 * read, FM_EFORMAT for broken JSON, another format, a newer version or a bad field (the
 * message names the file and the field). */
FM_MUST_CHECK int mdl_json_load(const char *path, struct mdl_model *out, struct fm_err *err);

/* Parse a model from text of len bytes; what names it in messages. */
FM_MUST_CHECK int mdl_json_parse(
    const char *text, size_t len, const char *what, struct mdl_model *out, struct fm_err *err);

/* The model as pretty JSON text; the caller frees it with free(). NULL when out of memory. */
char *mdl_json_print(const struct mdl_model *m);

/* Write the model to path atomically (a temporary file renamed over it), so a failure never
 * leaves a partial file. Returns FM_OK, FM_EIO or FM_ENOMEM. */
FM_MUST_CHECK int mdl_json_save(const struct mdl_model *m, const char *path, struct fm_err *err);

/* Bytes of a side's "sequence" object as the model file prints it (indentation included),
 * or SIZE_MAX when out of memory. */
size_t mdl_json_seq_bytes(const struct mdl_seq *s);

#endif
