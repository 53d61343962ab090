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
