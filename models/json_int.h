/* models/json_int.h - what the model and variant file loaders share (models/ only; keeps
 * cJSON out of the public headers). */
#ifndef MODELS_JSON_INT_H
#define MODELS_JSON_INT_H

#include <cjson/cJSON.h>

#include "common/err.h"

/* Check a file's "format" (must equal format) and "version" (a positive integer no newer than
 * version). kind names the file type in messages ("model", "variant file"), what names the file.
 * Returns FM_OK and sets *out_version, or FM_EFORMAT with the message in err. */
FM_MUST_CHECK int mdl_json_check_header(const cJSON *root,
                                        const char *format,
                                        int version,
                                        const char *kind,
                                        const char *what,
                                        int *out_version,
                                        struct fm_err *err);

#endif
