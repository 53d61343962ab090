/* models/variant.c - variant files: load, check, save, and what a variant does to a length.
 * The layout is in models/variant.h. These files are written by LLM agents as well as by
 * people, so loading is strict: every object's keys are checked against the known ones and
 * the first unknown or bad field is named with its variant, rather than silently ignored
 * (a misspelt "dcsp" must not produce an unmarked flow that looks like a success). */
#include "models/variant.h"
#include "models/jsonutil.h"

#include "common/file.h"

#include "common/num.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A variant file is small; anything much larger is not one of ours. */
#define MAX_VARIANT_BYTES (4u << 20)

/* The bounds of the scale factors: wide enough for any test plan, narrow enough that a
 * typo (a rate scale of 1e9) is caught here rather than as a flood on the wire. */
#define SCALE_MIN 1e-3
#define SCALE_MAX 1e3

void mdl_variant_init(struct mdl_variant *v)
{
    memset(v, 0, sizeof(*v));
    v->dscp = -1;
    v->ttl = -1;
    v->src_port = -1;
    v->dst_port = -1;
    v->rtp_payload_type = -1;
    v->payload_scale = 1.0;
    v->payload_shift = 0.0;
    v->rate_scale = 1.0;
}

unsigned mdl_variant_payload(const struct mdl_variant *v, double x)
{
    double y = round(x * v->payload_scale + v->payload_shift);
    /* The comparisons also send NaN to 0. */
    if (!(y > 0.0))
        return 0;
    if (y > 65507.0)
        return 65507;
    return (unsigned)y;
}

/* ---- checking ---- */

/* One integer field: -1 (keep the model's) or lo..hi. */
long mdl_max_udp_payload(const struct mdl_model *m, int mtu)
{
    int v6 = strchr(m->local.ip, ':') != NULL || strchr(m->remote.ip, ':') != NULL;
    return (long)mtu - (v6 ? 40 : 20) - 8;
}

int mdl_variant_mtu_check(const struct mdl_model *m,
                          enum mdl_side_id side,
                          const struct mdl_variant *v,
                          int mtu,
                          struct fm_err *err)
{
    const struct mdl_side *s = &m->sides[side];
    if (!s->present || !s->has_payload)
        return FM_OK;
    unsigned top = mdl_variant_payload(v, s->payload.max);
    long fit = mdl_max_udp_payload(m, mtu);
    if ((long)top <= fit)
        return FM_OK;
    return fm_err_set(err, FM_EINVAL,
                      "variant '%s': payload_scale %g and payload_shift %g make the model's "
                      "largest payload (%.0f bytes) %u bytes, more than the %ld that fit a "
                      "%d-byte MTU",
                      v->name, v->payload_scale, v->payload_shift, s->payload.max, top, fit, mtu);
}

static int check_int(int v, int lo, int hi, const char *field, struct fm_err *err)
{
    if (v == -1 || (v >= lo && v <= hi))
        return FM_OK;
    return fm_err_set(err, FM_EINVAL, "field 'changes.%s' is out of range (%d to %d): %d", field,
                      lo, hi, v);
}

static int check_scale(double v, const char *field, struct fm_err *err)
{
    if (isfinite(v) && v >= SCALE_MIN && v <= SCALE_MAX)
        return FM_OK;
    return fm_err_set(err, FM_EINVAL, "field 'changes.%s' is out of range (%g to %g): %g", field,
                      SCALE_MIN, SCALE_MAX, v);
}

int mdl_variant_check(const struct mdl_variant *v, struct fm_err *err)
{
    int rc = check_int(v->dscp, 0, 63, "dscp", err);
    if (rc == FM_OK)
        rc = check_int(v->ttl, 1, 255, "ttl", err);
    if (rc == FM_OK)
        rc = check_int(v->src_port, 1, 65535, "src_port", err);
    if (rc == FM_OK)
        rc = check_int(v->dst_port, 1, 65535, "dst_port", err);
    if (rc == FM_OK)
        rc = check_int(v->rtp_payload_type, 0, 127, "rtp_payload_type", err);
    if (rc == FM_OK)
        rc = check_scale(v->payload_scale, "payload_scale", err);
    if (rc == FM_OK)
        rc = check_scale(v->rate_scale, "rate_scale", err);
    if (rc == FM_OK && !(isfinite(v->payload_shift) && fabs(v->payload_shift) <= 65507.0))
        rc = fm_err_set(err, FM_EINVAL,
                        "field 'changes.payload_shift' is out of range (-65507 to 65507): %g",
                        v->payload_shift);
    return rc;
}

/* ---- reading ---- */

/* The first error sticks: a getter does nothing once rc is negative, so a run of field reads
 * needs one check at its end. where says which variant is being read ("variant 2 'ef'"). */
struct ctx {
    const char *what;
    char where[128];
    struct fm_err *err;
    int rc;
};

static void bad(struct ctx *c, const char *field, const char *why)
{
    if (c->rc < 0)
        return;
    if (c->where[0])
        c->rc =
            fm_err_set(c->err, FM_EFORMAT, "%s: %s: field '%s' %s", c->what, c->where, field, why);
    else
        c->rc = fm_err_set(c->err, FM_EFORMAT, "%s: field '%s' %s", c->what, field, why);
}

/* Reject any key of obj that is not in known (NULL-terminated); prefix goes before the key in
 * the message ("changes."). */
static void
only_known(struct ctx *c, const cJSON *obj, const char *prefix, const char *const *known)
{
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, obj)
    {
        if (!mdl_json_key_known(it->string, known)) {
            char field[160];
            snprintf(field, sizeof(field), "%s%s", prefix, it->string ? it->string : "?");
            bad(c, field, "is not a known field");
            return;
        }
    }
}

/* An integer in [lo, hi] under key, or def when absent or null. */
static int get_int(struct ctx *c, const cJSON *obj, const char *key, int lo, int hi, int def)
{
    if (c->rc < 0)
        return def;
    char field[96];
    snprintf(field, sizeof(field), "changes.%s", key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v))
        return def;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
        v->valuedouble != floor(v->valuedouble)) {
        bad(c, field, "must be an integer");
        return def;
    }
    if (v->valuedouble < lo || v->valuedouble > hi) {
        char why[96];
        snprintf(why, sizeof(why), "is out of range (%d to %d): %g", lo, hi, v->valuedouble);
        bad(c, field, why);
        return def;
    }
    return (int)v->valuedouble;
}

/* A number in [lo, hi] under key, or def when absent or null. */
static double
get_num(struct ctx *c, const cJSON *obj, const char *key, double lo, double hi, double def)
{
    if (c->rc < 0)
        return def;
    char field[96];
    snprintf(field, sizeof(field), "changes.%s", key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v))
        return def;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
        bad(c, field, "must be a number");
        return def;
    }
    if (v->valuedouble < lo || v->valuedouble > hi) {
        char why[96];
        snprintf(why, sizeof(why), "is out of range (%g to %g): %g", lo, hi, v->valuedouble);
        bad(c, field, why);
        return def;
    }
    return v->valuedouble;
}

static void get_changes(struct ctx *c, const cJSON *ch, struct mdl_variant *v)
{
    static const char *const known[] = {
        "dscp",          "ttl",           "src_port",   "dst_port", "rtp_payload_type",
        "payload_scale", "payload_shift", "rate_scale", NULL,
    };
    if (!ch || cJSON_IsNull(ch))
        return;
    if (!cJSON_IsObject(ch)) {
        bad(c, "changes", "must be an object");
        return;
    }
    only_known(c, ch, "changes.", known);
    v->dscp = get_int(c, ch, "dscp", 0, 63, -1);
    v->ttl = get_int(c, ch, "ttl", 1, 255, -1);
    v->src_port = get_int(c, ch, "src_port", 1, 65535, -1);
    v->dst_port = get_int(c, ch, "dst_port", 1, 65535, -1);
    v->rtp_payload_type = get_int(c, ch, "rtp_payload_type", 0, 127, -1);
    v->payload_scale = get_num(c, ch, "payload_scale", SCALE_MIN, SCALE_MAX, 1.0);
    v->payload_shift = get_num(c, ch, "payload_shift", -65507.0, 65507.0, 0.0);
    v->rate_scale = get_num(c, ch, "rate_scale", SCALE_MIN, SCALE_MAX, 1.0);
}

static void get_variant(struct ctx *c, const cJSON *o, size_t index, struct mdl_variant *v)
{
    static const char *const known[] = {"name", "rationale", "changes", NULL};
    mdl_variant_init(v);
    snprintf(c->where, sizeof(c->where), "variant %zu", index);
    if (!cJSON_IsObject(o)) {
        bad(c, "variants", "must hold objects");
        return;
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    if (!name) {
        bad(c, "name", "is missing");
        return;
    }
    if (!cJSON_IsString(name) || !name->valuestring || !name->valuestring[0]) {
        bad(c, "name", "must be a non-empty string");
        return;
    }
    if (strlen(name->valuestring) >= sizeof(v->name)) {
        bad(c, "name", "is too long (at most 63 bytes)");
        return;
    }
    /* A ':' would make "FILE:NAME" ambiguous. */
    if (strchr(name->valuestring, ':')) {
        bad(c, "name", "must not contain ':'");
        return;
    }
    snprintf(v->name, sizeof(v->name), "%s", name->valuestring);
    snprintf(c->where, sizeof(c->where), "variant %zu ('%.60s')", index, v->name);
    only_known(c, o, "", known);
    const cJSON *why = cJSON_GetObjectItemCaseSensitive(o, "rationale");
    if (why && !cJSON_IsNull(why)) {
        if (!cJSON_IsString(why) || !why->valuestring)
            bad(c, "rationale", "must be a string");
        else
            snprintf(v->rationale, sizeof(v->rationale), "%s", why->valuestring);
    }
    get_changes(c, cJSON_GetObjectItemCaseSensitive(o, "changes"), v);
}

static void
get_file(struct ctx *c, const cJSON *root, struct mdl_variant *vs, size_t max, size_t *n)
{
    static const char *const known[] = {"format", "version", "variants", NULL};
    int version = 0;
    c->rc = mdl_json_check_header(root, MDL_VARIANTS_FORMAT, MDL_VARIANTS_VERSION, "variant file",
                                  c->what, &version, c->err);
    if (c->rc < 0)
        return;
    only_known(c, root, "", known);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "variants");
    if (c->rc < 0)
        return;
    if (!cJSON_IsArray(list)) {
        bad(c, "variants", "is missing or not an array");
        return;
    }
    size_t count = (size_t)cJSON_GetArraySize(list);
    if (count > max) {
        char why[64];
        snprintf(why, sizeof(why), "holds too many variants (at most %zu)", max);
        bad(c, "variants", why);
        return;
    }
    size_t i = 0;
    const cJSON *o = NULL;
    cJSON_ArrayForEach(o, list)
    {
        get_variant(c, o, i, &vs[i]);
        for (size_t j = 0; j < i && c->rc >= 0; j++) {
            if (strcmp(vs[j].name, vs[i].name) == 0)
                bad(c, "name", "repeats the name of an earlier variant");
        }
        if (c->rc < 0)
            return;
        i++;
    }
    *n = i;
}

int mdl_variants_parse(const char *text,
                       size_t len,
                       const char *what,
                       struct mdl_variant *vs,
                       size_t max,
                       size_t *n,
                       struct fm_err *err)
{
    struct ctx c = {what, "", err, FM_OK};
    struct mdl_variant *tmp = NULL;
    size_t got = 0;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        return mdl_json_syntax_error(text, len, end, what, err);
    }
    /* Parse into scratch space so that vs is written only on success. */
    tmp = calloc(max ? max : 1, sizeof(*tmp));
    if (!tmp)
        c.rc = fm_err_set(err, FM_ENOMEM, "%s", what);
    else if (!cJSON_IsObject(root))
        c.rc = fm_err_set(err, FM_EFORMAT,
                          "%s: not a flowmimic variant file (expected a JSON object)", what);
    else
        get_file(&c, root, tmp, max, &got);
    if (c.rc >= 0) {
        if (got)
            memcpy(vs, tmp, got * sizeof(*vs));
        *n = got;
    }
    free(tmp);
    cJSON_Delete(root);
    return c.rc;
}

int mdl_variants_load(
    const char *path, struct mdl_variant *vs, size_t max, size_t *n, struct fm_err *err)
{
    char *buf = NULL;
    size_t size = 0;
    char what[300];
    int rc = fm_file_read_all(path, MAX_VARIANT_BYTES, "variant file", &buf, &size, err);
    if (rc < 0)
        return rc;
    snprintf(what, sizeof(what), "variant file '%s'", path);
    rc = mdl_variants_parse(buf, size, what, vs, max, n, err);
    free(buf);
    return rc;
}

int mdl_variant_load_spec(const char *spec, struct mdl_variant *out, struct fm_err *err)
{
    struct mdl_variant *vs = NULL;
    char *path = NULL;
    const char *name = NULL;
    size_t n = 0;
    int rc = FM_OK;
    struct stat st;

    path = strdup(spec);
    vs = calloc(MDL_MAX_VARIANTS, sizeof(*vs));
    if (!path || !vs) {
        rc = fm_err_set(err, FM_ENOMEM, "variant '%s'", spec);
        goto out;
    }
    /* "FILE:NAME" splits at the last ':', unless the whole spec names an existing file (a
     * path may hold a ':' of its own; names never do). */
    char *colon = strrchr(path, ':');
    if (colon && stat(spec, &st) != 0) {
        *colon = '\0';
        name = colon + 1;
        if (!*name) {
            rc = fm_err_set(err, FM_EINVAL, "variant '%s': no name after ':'", spec);
            goto out;
        }
    }
    rc = mdl_variants_load(path, vs, MDL_MAX_VARIANTS, &n, err);
    if (rc < 0)
        goto out;
    if (n == 0) {
        rc = fm_err_set(err, FM_EFORMAT, "variant file '%s' holds no variants", path);
        goto out;
    }
    size_t found = 0;
    if (name) {
        found = n;
        for (size_t i = 0; i < n && found == n; i++) {
            if (strcmp(vs[i].name, name) == 0)
                found = i;
        }
        if (found == n) {
            /* List what is there, as far as the message has room. */
            char names[160] = "";
            size_t used = 0;
            for (size_t i = 0; i < n && used + 1 < sizeof(names); i++) {
                int w =
                    snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "", vs[i].name);
                if (w < 0)
                    break;
                used += (size_t)w;
            }
            rc = fm_err_set(err, FM_ENOTFOUND, "variant '%s' is not in '%s' (it holds: %s)", name,
                            path, names);
            goto out;
        }
    }
    *out = vs[found];
out:
    free(vs);
    free(path);
    return rc;
}

/* ---- writing ---- */

/* The shortest text that reads back to the same double, as in models/json.c. */
static cJSON *add_num(cJSON *obj, const char *key, double v)
{
    char buf[40];
    return cJSON_AddRawToObject(obj, key, fm_fmt_double(buf, sizeof(buf), v));
}

static cJSON *variant_to_json(const struct mdl_variant *v)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON *ch = NULL;
    if (!cJSON_AddStringToObject(o, "name", v->name))
        goto fail;
    if (v->rationale[0] && !cJSON_AddStringToObject(o, "rationale", v->rationale))
        goto fail;
    ch = cJSON_AddObjectToObject(o, "changes");
    if (!ch)
        goto fail;
    /* Only what the variant changes is written, so that a file stays a readable diff. */
    int ok = 1;
    if (v->dscp >= 0)
        ok &= add_num(ch, "dscp", v->dscp) != NULL;
    if (v->ttl >= 0)
        ok &= add_num(ch, "ttl", v->ttl) != NULL;
    if (v->src_port >= 0)
        ok &= add_num(ch, "src_port", v->src_port) != NULL;
    if (v->dst_port >= 0)
        ok &= add_num(ch, "dst_port", v->dst_port) != NULL;
    if (v->rtp_payload_type >= 0)
        ok &= add_num(ch, "rtp_payload_type", v->rtp_payload_type) != NULL;
    if (v->payload_scale != 1.0)
        ok &= add_num(ch, "payload_scale", v->payload_scale) != NULL;
    if (v->payload_shift != 0.0)
        ok &= add_num(ch, "payload_shift", v->payload_shift) != NULL;
    if (v->rate_scale != 1.0)
        ok &= add_num(ch, "rate_scale", v->rate_scale) != NULL;
    if (!ok)
        goto fail;
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

/* The file as pretty JSON text with two-space indents; the caller frees it with free(). */
static char *variants_print(const struct mdl_variant *vs, size_t n)
{
    char *out = NULL;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON_AddStringToObject(root, "format", MDL_VARIANTS_FORMAT);
    add_num(root, "version", MDL_VARIANTS_VERSION);
    cJSON *list = cJSON_AddArrayToObject(root, "variants");
    if (!list)
        goto out;
    for (size_t i = 0; i < n; i++) {
        cJSON *v = variant_to_json(&vs[i]);
        if (!v || !cJSON_AddItemToArray(list, v)) {
            cJSON_Delete(v);
            goto out;
        }
    }
    out = mdl_json_pretty(root);
out:
    cJSON_Delete(root);
    return out;
}

int mdl_variants_save(const char *path, const struct mdl_variant *vs, size_t n, struct fm_err *err)
{
    char *text = NULL;
    int rc = FM_OK;

    for (size_t i = 0; i < n; i++) {
        struct fm_err e2 = {0};
        if (!vs[i].name[0] || strchr(vs[i].name, ':')) {
            rc = fm_err_set(err, FM_EINVAL, "variant %zu: name must be non-empty, without ':'", i);
            goto out;
        }
        if (mdl_variant_check(&vs[i], &e2) < 0) {
            rc = fm_err_set(err, FM_EINVAL, "variant %zu ('%s'): %s", i, vs[i].name, e2.msg);
            goto out;
        }
    }
    text = variants_print(vs, n);
    if (!text) {
        rc = fm_err_set(err, FM_ENOMEM, "variants for '%s'", path);
        goto out;
    }
    /* Atomic: a reader (replay, the agents) never sees half a file. */
    rc = fm_file_write_atomic(path, text, strlen(text), err);
out:
    free(text);
    return rc;
}
