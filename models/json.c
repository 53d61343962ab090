/* models/json.c - model files: load, save and print (the only cJSON user in models/).
 * The layout is DESIGN.md's "Model file". cJSON's ownership rules stay in this file:
 * cJSON_AddItemTo* takes the item, cJSON_Print's text is released with cJSON_free. Loading
 * walks the tree with checked getters and names the first bad field; it never trusts the
 * file. */
#include "models/json.h"
#include "models/jsonutil.h"

#include "common/file.h"
#include "common/num.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A model file is small; anything much larger is not one of ours. */
#define MAX_MODEL_BYTES (16u << 20)

/* ---- writing ---- */

/* cJSON prints 15 significant digits unless that misses by more than about an ulp, so a
 * double would not survive a save and load exactly. Print the shortest text that reads back
 * to the same double instead, and hand it to cJSON as a raw number. */
static cJSON *add_num(cJSON *obj, const char *key, double v)
{
    char buf[40];
    if (!isfinite(v))
        return cJSON_AddNullToObject(obj, key);
    return cJSON_AddRawToObject(obj, key, fm_fmt_double(buf, sizeof(buf), v));
}

static cJSON *mixture_to_json(const struct mdl_mixture *m, int is_iat)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON *atoms = NULL;
    cJSON *comps = NULL;
    if (is_iat) {
        cJSON_AddStringToObject(o, "scale", m->scale == MDL_SCALE_LOG ? "log" : "linear");
        add_num(o, "min_s", m->min);
        add_num(o, "max_s", m->max);
        add_num(o, "resolution_s", m->resolution);
    } else {
        add_num(o, "min", m->min);
        add_num(o, "max", m->max);
        add_num(o, "resolution", m->resolution);
    }
    add_num(o, "n", (double)m->n);
    atoms = cJSON_AddArrayToObject(o, "atoms");
    comps = cJSON_AddArrayToObject(o, "components");
    if (!atoms || !comps)
        goto fail;
    for (size_t i = 0; i < m->n_atoms; i++) {
        cJSON *a = cJSON_CreateObject();
        if (!a || !cJSON_AddItemToArray(atoms, a)) {
            cJSON_Delete(a);
            goto fail;
        }
        add_num(a, "value", m->atoms[i].value);
        add_num(a, "weight", m->atoms[i].weight);
    }
    for (unsigned i = 0; i < m->k; i++) {
        cJSON *c = cJSON_CreateObject();
        if (!c || !cJSON_AddItemToArray(comps, c)) {
            cJSON_Delete(c);
            goto fail;
        }
        add_num(c, "weight", m->comps[i].weight);
        add_num(c, "mean", m->comps[i].mean);
        add_num(c, "sd", m->comps[i].sd);
    }
    add_num(o, "k", m->k);
    add_num(o, "bic", m->bic);
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

/* An array of raw numbers, printed as add_num() prints them. */
static cJSON *num_array(const double *v, size_t n, size_t stride)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        char buf[40];
        double x = v[i * stride];
        cJSON *e =
            isfinite(x) ? cJSON_CreateRaw(fm_fmt_double(buf, sizeof(buf), x)) : cJSON_CreateNull();
        if (!e || !cJSON_AddItemToArray(a, e)) {
            cJSON_Delete(e);
            cJSON_Delete(a);
            a = NULL;
        }
    }
    return a;
}

/* Add item to obj under key, or free it; returns 0 when it could not be added. */
static int add_item(cJSON *obj, const char *key, cJSON *item)
{
    if (item && cJSON_AddItemToObject(obj, key, item))
        return 1;
    cJSON_Delete(item);
    return 0;
}

/* A distribution as [[lo, hi, p], ...], a piece with a mean as [lo, hi, p, mean]. */
static cJSON *dist_to_json(const struct mdl_seq_dist *d, const double *mean)
{
    cJSON *a = cJSON_CreateArray();
    for (unsigned i = 0; a && i < d->n; i++) {
        const struct mdl_seq_piece *q = &d->pieces[i];
        const double v[4] = {q->lo, q->hi, q->p, mean[i]};
        cJSON *e = num_array(v, mean[i] != 0.0 ? 4 : 3, 1);
        if (!e || !cJSON_AddItemToArray(a, e)) {
            cJSON_Delete(e);
            cJSON_Delete(a);
            a = NULL;
        }
    }
    return a;
}

static cJSON *seq_to_json(const struct mdl_seq *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    add_num(o, "clusters", s->clusters);
    add_num(o, "order", s->order);
    cJSON_AddBoolToObject(o, "frames", s->frames);
    if (s->slice) /* absent means false: the files before it */
        cJSON_AddBoolToObject(o, "slice", 1);
    add_num(o, "tick_ns", s->tick_ns);
    cJSON *states = NULL;
    cJSON *ctx = NULL;
    if (!add_item(o, "bic", num_array(s->bic, MDL_SEQ_MAX_ORDER + 1, 1)))
        goto fail;
    states = cJSON_AddArrayToObject(o, "states");
    for (unsigned i = 0; states && i < s->k; i++) {
        const struct mdl_seq_state *st = &s->states[i];
        cJSON *e = cJSON_CreateObject();
        if (!e || !cJSON_AddItemToArray(states, e)) {
            cJSON_Delete(e);
            goto fail;
        }
        add_num(e, "n", (double)st->n);
        add_num(e, "marker", st->marker);
        add_num(e, "rho_length", st->rho_len);
        add_num(e, "rho_gap", st->rho_gap);
        if (!add_item(e, "length", dist_to_json(&st->len, s->len_mean[i])) ||
            !add_item(e, "gap_ns", dist_to_json(&st->gap, s->gap_mean[i])))
            goto fail;
    }
    ctx = cJSON_AddArrayToObject(o, "contexts");
    for (unsigned i = 0; ctx && i < s->n_ctx; i++) {
        const struct mdl_seq_ctx *c = &s->ctx[i];
        cJSON *e = cJSON_CreateObject();
        if (!e || !cJSON_AddItemToArray(ctx, e)) {
            cJSON_Delete(e);
            goto fail;
        }
        double h[MDL_SEQ_MAX_ORDER];
        for (unsigned j = 0; j < c->order; j++)
            h[j] = c->hist[j];
        if (!add_item(e, "history", c->order ? num_array(h, c->order, 1) : cJSON_CreateArray()))
            goto fail;
        add_num(e, "n", (double)c->n);
        if (!add_item(e, "next", num_array(c->p, s->k, 1)))
            goto fail;
    }
    if (!states || !ctx)
        goto fail;
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

static cJSON *endpoint_to_json(const struct mdl_endpoint *e)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "ip", e->ip);
    add_num(o, "port", e->port);
    return o;
}

static cJSON *side_to_json(const struct mdl_side *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    add_num(o, "packets", (double)s->packets);
    add_num(o, "duration_s", s->duration_s);
    cJSON *pl = s->has_payload ? mixture_to_json(&s->payload, 0) : cJSON_CreateNull();
    cJSON *iat = s->has_iat ? mixture_to_json(&s->iat, 1) : cJSON_CreateNull();
    if (!cJSON_AddItemToObject(o, "payload_length", pl)) {
        cJSON_Delete(pl);
        cJSON_Delete(iat);
        goto fail;
    }
    if (!cJSON_AddItemToObject(o, "iat", iat)) {
        cJSON_Delete(iat);
        goto fail;
    }
    cJSON *h = cJSON_AddObjectToObject(o, "headers");
    if (!h)
        goto fail;
    if (s->headers.ttl >= 0)
        add_num(h, "ttl", s->headers.ttl);
    else
        cJSON_AddNullToObject(h, "ttl");
    if (s->headers.dscp >= 0)
        add_num(h, "dscp", s->headers.dscp);
    else
        cJSON_AddNullToObject(h, "dscp");
    if (s->headers.rtp) {
        cJSON *r = cJSON_AddObjectToObject(h, "rtp");
        if (!r)
            goto fail;
        add_num(r, "payload_type", s->headers.rtp_payload_type);
        add_num(r, "marker_ratio", s->headers.rtp_marker_ratio);
    } else {
        cJSON_AddNullToObject(h, "rtp");
    }
    if (s->has_seq && !add_item(o, "sequence", seq_to_json(&s->seq)))
        goto fail;
    if (s->note[0])
        cJSON_AddStringToObject(o, "note", s->note);
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

static cJSON *model_to_json(const struct mdl_model *m)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON_AddStringToObject(root, "format", MDL_FORMAT);
    /* A model without sequences is the version-1 layout: older readers keep reading it. */
    int seq = m->sides[0].has_seq || m->sides[1].has_seq;
    add_num(root, "version", seq ? MDL_VERSION : MDL_VERSION_INDEPENDENT);
    cJSON *src = cJSON_AddObjectToObject(root, "source");
    cJSON *flow = cJSON_AddObjectToObject(root, "flow");
    cJSON *sides = NULL;
    if (!src || !flow)
        goto fail;
    cJSON_AddStringToObject(src, "capture", m->capture);
    cJSON_AddStringToObject(src, "flow", m->flow_spec);
    add_num(src, "packets", (double)m->packets);
    add_num(src, "reordered", (double)m->reordered);
    cJSON_AddStringToObject(flow, "proto", m->proto);
    cJSON *l = endpoint_to_json(&m->local);
    if (!cJSON_AddItemToObject(flow, "local", l)) {
        cJSON_Delete(l);
        goto fail;
    }
    cJSON *r = endpoint_to_json(&m->remote);
    if (!cJSON_AddItemToObject(flow, "remote", r)) {
        cJSON_Delete(r);
        goto fail;
    }
    sides = cJSON_AddObjectToObject(root, "sides");
    if (!sides)
        goto fail;
    static const char *const names[2] = {"local", "remote"};
    for (int i = 0; i < 2; i++) {
        cJSON *s = m->sides[i].present ? side_to_json(&m->sides[i]) : cJSON_CreateNull();
        if (!cJSON_AddItemToObject(sides, names[i], s)) {
            cJSON_Delete(s);
            goto fail;
        }
    }
    return root;
fail:
    cJSON_Delete(root);
    return NULL;
}

/* root as the pretty text mdl_json_print() gives; root is freed. */
static char *print_tree(cJSON *root)
{
    if (!root)
        return NULL;
    char *out = mdl_json_pretty(root);
    cJSON_Delete(root);
    return out;
}

char *mdl_json_print(const struct mdl_model *m)
{
    return print_tree(model_to_json(m));
}

size_t mdl_json_seq_bytes(const struct mdl_seq *s)
{
    /* Nested as deep as in a model file (sides.local.sequence), so that the indentation
     * counts; the wrapper adds a few bytes, never fewer. */
    cJSON *root = cJSON_CreateObject();
    cJSON *sides = root ? cJSON_AddObjectToObject(root, "sides") : NULL;
    cJSON *side = sides ? cJSON_AddObjectToObject(sides, "remote") : NULL;
    if (!side || !add_item(side, "sequence", seq_to_json(s))) {
        cJSON_Delete(root);
        return SIZE_MAX;
    }
    char *text = print_tree(root);
    size_t n = text ? strlen(text) : SIZE_MAX;
    free(text);
    return n;
}

int mdl_json_save(const struct mdl_model *m, const char *path, struct fm_err *err)
{
    char *text = mdl_json_print(m);
    if (!text)
        return fm_err_set(err, FM_ENOMEM, "model for '%s'", path);
    /* Atomic: a crash, a full disk or Ctrl-C never leaves half a model where replay reads. */
    int rc = fm_file_write_atomic(path, text, strlen(text), err);
    free(text);
    return rc;
}

/* ---- reading ---- */

/* The first error sticks: a getter does nothing once rc is negative, so a run of field reads
 * needs one check at its end. */
struct ctx {
    const char *what;
    struct fm_err *err;
    int rc;
    int version; /* of the file, once its header is read */
};

static int bad(struct ctx *c, const char *field, const char *why)
{
    if (c->rc < 0)
        return c->rc;
    c->rc = fm_err_set(c->err, FM_EFORMAT, "%s: field '%s' %s", c->what, field, why);
    return c->rc;
}

/* A number in [lo, hi] at path+key; when def is not NULL the field may be absent or null. */
static double get_num(struct ctx *c,
                      const cJSON *obj,
                      const char *path,
                      const char *key,
                      double lo,
                      double hi,
                      const double *def)
{
    if (c->rc < 0)
        return 0;
    char field[160];
    snprintf(field, sizeof(field), "%s%s", path, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        if (def)
            return *def;
        bad(c, field, "is missing");
        return 0;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
        bad(c, field, "must be a number");
        return 0;
    }
    if (v->valuedouble < lo || v->valuedouble > hi) {
        char why[96];
        snprintf(why, sizeof(why), "is out of range (%g to %g)", lo, hi);
        bad(c, field, why);
        return 0;
    }
    return v->valuedouble;
}

static void
get_str(struct ctx *c, const cJSON *obj, const char *path, const char *key, char *buf, size_t size)
{
    if (c->rc < 0)
        return;
    char field[160];
    snprintf(field, sizeof(field), "%s%s", path, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        bad(c, field, "is missing");
    else if (!cJSON_IsString(v) || !v->valuestring)
        bad(c, field, "must be a string");
    else if (strlen(v->valuestring) >= size)
        bad(c, field, "is too long");
    else
        memcpy(buf, v->valuestring, strlen(v->valuestring) + 1);
}

static const double zero = 0.0;
static const double minus_one = -1.0;

static void get_atoms(struct ctx *c, const cJSON *atoms, const char *sub, struct mdl_mixture *m)
{
    char field[160];
    snprintf(field, sizeof(field), "%satoms", sub);
    if (!cJSON_IsArray(atoms)) {
        bad(c, field, "must be an array");
        return;
    }
    if (cJSON_GetArraySize(atoms) > MDL_MAX_ATOMS) {
        bad(c, field, "has too many atoms (at most 32)");
        return;
    }
    const cJSON *a = NULL;
    cJSON_ArrayForEach(a, atoms)
    {
        char ap[160];
        snprintf(ap, sizeof(ap), "%satoms[%zu].", sub, m->n_atoms);
        if (!cJSON_IsObject(a)) {
            bad(c, field, "must hold objects");
            return;
        }
        struct mdl_atom *t = &m->atoms[m->n_atoms++];
        t->value = get_num(c, a, ap, "value", 0, MDL_MAX_VALUE, NULL);
        t->weight = get_num(c, a, ap, "weight", 0, 1, NULL);
    }
}

static void get_comps(struct ctx *c, const cJSON *comps, const char *sub, struct mdl_mixture *m)
{
    char field[160];
    snprintf(field, sizeof(field), "%scomponents", sub);
    if (!cJSON_IsArray(comps)) {
        bad(c, field, "must be an array");
        return;
    }
    if (cJSON_GetArraySize(comps) > MDL_MAX_K) {
        bad(c, field, "has too many components (at most 10)");
        return;
    }
    const cJSON *a = NULL;
    cJSON_ArrayForEach(a, comps)
    {
        char cp[160];
        snprintf(cp, sizeof(cp), "%scomponents[%u].", sub, m->k);
        if (!cJSON_IsObject(a)) {
            bad(c, field, "must hold objects");
            return;
        }
        struct mdl_comp *t = &m->comps[m->k++];
        t->weight = get_num(c, a, cp, "weight", 0, 1, NULL);
        t->mean = get_num(c, a, cp, "mean", -1e9, 1e9, NULL);
        t->sd = get_num(c, a, cp, "sd", 1e-300, 1e9, NULL);
    }
}

static void
get_mixture(struct ctx *c, const cJSON *o, const char *path, int is_iat, struct mdl_mixture *m)
{
    char sub[128];
    memset(m, 0, sizeof(*m));
    if (!cJSON_IsObject(o)) {
        bad(c, path, "must be an object or null");
        return;
    }
    snprintf(sub, sizeof(sub), "%s.", path);
    if (is_iat) {
        char scale[16] = "";
        get_str(c, o, sub, "scale", scale, sizeof(scale));
        if (c->rc < 0)
            return;
        if (strcmp(scale, "log") == 0)
            m->scale = MDL_SCALE_LOG;
        else if (strcmp(scale, "linear") == 0)
            m->scale = MDL_SCALE_LINEAR;
        else
            bad(c, path, "has a scale other than \"log\" or \"linear\"");
        m->min = get_num(c, o, sub, "min_s", 0, MDL_MAX_VALUE, NULL);
        m->max = get_num(c, o, sub, "max_s", 0, MDL_MAX_VALUE, NULL);
        m->resolution = get_num(c, o, sub, "resolution_s", 0, 1e9, &zero);
    } else {
        m->scale = MDL_SCALE_LINEAR;
        m->min = get_num(c, o, sub, "min", 0, MDL_MAX_VALUE, NULL);
        m->max = get_num(c, o, sub, "max", 0, MDL_MAX_VALUE, NULL);
        m->resolution = get_num(c, o, sub, "resolution", 0, 1e9, &zero);
    }
    m->n = (uint64_t)get_num(c, o, sub, "n", 0, 1e18, &zero);
    m->bic = get_num(c, o, sub, "bic", -1e300, 1e300, &zero);
    const cJSON *atoms = cJSON_GetObjectItemCaseSensitive(o, "atoms");
    if (atoms && !cJSON_IsNull(atoms))
        get_atoms(c, atoms, sub, m);
    const cJSON *comps = cJSON_GetObjectItemCaseSensitive(o, "components");
    if (comps && !cJSON_IsNull(comps))
        get_comps(c, comps, sub, m);
    if (c->rc < 0)
        return;
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "k");
    if (k && (!cJSON_IsNumber(k) || k->valuedouble != (double)m->k)) {
        char field[160];
        snprintf(field, sizeof(field), "%sk", sub);
        bad(c, field, "does not match the number of components");
        return;
    }
    if (m->n_atoms == 0 && m->k == 0) {
        bad(c, path, "has neither atoms nor components");
        return;
    }
    struct fm_err e2 = {0};
    if (mdl_mixture_check(m, &e2) < 0)
        c->rc = fm_err_set(c->err, FM_EFORMAT, "%s: %s: %s", c->what, path, e2.msg);
}

static void get_endpoint(struct ctx *c, const cJSON *o, const char *path, struct mdl_endpoint *e)
{
    char sub[64];
    if (c->rc < 0)
        return;
    if (!cJSON_IsObject(o)) {
        bad(c, path, "must be an object");
        return;
    }
    snprintf(sub, sizeof(sub), "%s.", path);
    get_str(c, o, sub, "ip", e->ip, sizeof(e->ip));
    e->port = (uint16_t)get_num(c, o, sub, "port", 0, 65535, NULL);
}

static void get_headers(struct ctx *c, const cJSON *h, const char *sub, struct mdl_headers *hd)
{
    char fp[128];
    hd->ttl = -1;
    hd->dscp = -1;
    if (!h || cJSON_IsNull(h))
        return;
    snprintf(fp, sizeof(fp), "%sheaders", sub);
    if (!cJSON_IsObject(h)) {
        bad(c, fp, "must be an object");
        return;
    }
    snprintf(fp, sizeof(fp), "%sheaders.", sub);
    hd->ttl = (int)get_num(c, h, fp, "ttl", 0, 255, &minus_one);
    hd->dscp = (int)get_num(c, h, fp, "dscp", 0, 63, &minus_one);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(h, "rtp");
    if (!r || cJSON_IsNull(r))
        return;
    if (!cJSON_IsObject(r)) {
        snprintf(fp, sizeof(fp), "%sheaders.rtp", sub);
        bad(c, fp, "must be an object or null");
        return;
    }
    snprintf(fp, sizeof(fp), "%sheaders.rtp.", sub);
    hd->rtp_payload_type = (int)get_num(c, r, fp, "payload_type", 0, 127, NULL);
    hd->rtp_marker_ratio = get_num(c, r, fp, "marker_ratio", 0, 1, NULL);
    hd->rtp = 1;
}

/* An array of 1..max numbers in [lo, hi] at field into out; returns how many (0 on error). */
static unsigned get_nums(struct ctx *c,
                         const cJSON *a,
                         const char *field,
                         unsigned min,
                         unsigned max,
                         double lo,
                         double hi,
                         double *out)
{
    if (c->rc < 0)
        return 0;
    if (!cJSON_IsArray(a)) {
        bad(c, field, "must be an array");
        return 0;
    }
    int size = cJSON_GetArraySize(a);
    if (size < (int)min || size > (int)max) {
        char why[64];
        snprintf(why, sizeof(why), "must hold %u to %u numbers", min, max);
        bad(c, field, why);
        return 0;
    }
    unsigned n = 0;
    const cJSON *v = NULL;
    cJSON_ArrayForEach(v, a)
    {
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < lo ||
            v->valuedouble > hi) {
            char why[96];
            snprintf(why, sizeof(why), "must hold numbers from %g to %g", lo, hi);
            bad(c, field, why);
            return 0;
        }
        out[n++] = v->valuedouble;
    }
    return n;
}

/* A distribution [[lo, hi, p], ...] at path+key; a piece may add its mean, [lo, hi, p, mean]
 * (none, 0, spreads it uniformly as files before the mean did). */
static void get_dist(struct ctx *c,
                     const cJSON *o,
                     const char *path,
                     const char *key,
                     double max_value,
                     struct mdl_seq_dist *d,
                     double *mean)
{
    char field[160];
    snprintf(field, sizeof(field), "%s%s", path, key);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    if (c->rc < 0)
        return;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) < 1 ||
        cJSON_GetArraySize(a) > MDL_SEQ_MAX_PIECES) {
        bad(c, field, "must be an array of 1 to 32 [lo, hi, p] or [lo, hi, p, mean] pieces");
        return;
    }
    const cJSON *e = NULL;
    cJSON_ArrayForEach(e, a)
    {
        char ef[192];
        snprintf(ef, sizeof(ef), "%s[%u]", field, d->n);
        double v[4] = {0};
        if (get_nums(c, e, ef, 3, 4, 0, max_value, v) < 3)
            return;
        if (v[2] > 1.0) {
            bad(c, ef, "has a mass above 1");
            return;
        }
        mean[d->n] = v[3];
        d->pieces[d->n++] = (struct mdl_seq_piece){v[0], v[1], v[2]};
    }
}

/* A side's "sequence" object (format version 2). */
static void get_seq(struct ctx *c, const cJSON *o, const char *path, struct mdl_seq *s)
{
    char sub[160];
    char fp[192];
    memset(s, 0, sizeof(*s));
    if (!cJSON_IsObject(o)) {
        bad(c, path, "must be an object or null");
        return;
    }
    snprintf(sub, sizeof(sub), "%s.", path);
    s->clusters = (unsigned)get_num(c, o, sub, "clusters", 0, MDL_SEQ_MAX_STATES, &zero);
    s->order = (unsigned)get_num(c, o, sub, "order", 0, MDL_SEQ_MAX_ORDER, NULL);
    s->tick_ns = get_num(c, o, sub, "tick_ns", 1, 1e9, NULL);
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(o, "frames");
    s->frames = cJSON_IsTrue(fr);
    if (c->rc >= 0 && fr && !cJSON_IsBool(fr)) {
        snprintf(fp, sizeof(fp), "%sframes", sub);
        bad(c, fp, "must be true or false");
    }
    const cJSON *sl = cJSON_GetObjectItemCaseSensitive(o, "slice");
    s->slice = cJSON_IsTrue(sl);
    if (c->rc >= 0 && sl && !cJSON_IsBool(sl)) {
        snprintf(fp, sizeof(fp), "%sslice", sub);
        bad(c, fp, "must be true or false");
    }
    const cJSON *bic = cJSON_GetObjectItemCaseSensitive(o, "bic");
    if (bic && !cJSON_IsNull(bic)) {
        snprintf(fp, sizeof(fp), "%sbic", sub);
        get_nums(c, bic, fp, 0, MDL_SEQ_MAX_ORDER + 1, -1e300, 1e300, s->bic);
    }
    const cJSON *states = cJSON_GetObjectItemCaseSensitive(o, "states");
    snprintf(fp, sizeof(fp), "%sstates", sub);
    if (c->rc < 0)
        return;
    if (!cJSON_IsArray(states) || cJSON_GetArraySize(states) < 1 ||
        cJSON_GetArraySize(states) > MDL_SEQ_MAX_STATES) {
        bad(c, fp, "must be an array of 1 to 16 states");
        return;
    }
    const cJSON *e = NULL;
    cJSON_ArrayForEach(e, states)
    {
        char sp[192];
        snprintf(sp, sizeof(sp), "%sstates[%u]", sub, s->k);
        if (!cJSON_IsObject(e)) {
            bad(c, sp, "must be an object");
            return;
        }
        snprintf(sp, sizeof(sp), "%sstates[%u].", sub, s->k);
        struct mdl_seq_state *st = &s->states[s->k++];
        st->n = (uint64_t)get_num(c, e, sp, "n", 0, 1e18, &zero);
        st->marker = (int)get_num(c, e, sp, "marker", 0, 1, &zero);
        st->rho_len = get_num(c, e, sp, "rho_length", -0.999999, 0.999999, &zero);
        st->rho_gap = get_num(c, e, sp, "rho_gap", -0.999999, 0.999999, &zero);
        get_dist(c, e, sp, "length", MDL_MAX_VALUE, &st->len, s->len_mean[s->k - 1]);
        get_dist(c, e, sp, "gap_ns", MDL_MAX_VALUE * 1e9, &st->gap, s->gap_mean[s->k - 1]);
    }
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(o, "contexts");
    snprintf(fp, sizeof(fp), "%scontexts", sub);
    if (c->rc < 0)
        return;
    if (!cJSON_IsArray(ctx) || cJSON_GetArraySize(ctx) < 1 ||
        cJSON_GetArraySize(ctx) > MDL_SEQ_MAX_CTX) {
        bad(c, fp, "must be an array of 1 to 192 histories");
        return;
    }
    cJSON_ArrayForEach(e, ctx)
    {
        char cp[192];
        char f2[224];
        snprintf(cp, sizeof(cp), "%scontexts[%u]", sub, s->n_ctx);
        if (!cJSON_IsObject(e)) {
            bad(c, cp, "must be an object");
            return;
        }
        struct mdl_seq_ctx *x = &s->ctx[s->n_ctx++];
        double h[MDL_SEQ_MAX_ORDER] = {0};
        snprintf(f2, sizeof(f2), "%s.history", cp);
        const cJSON *ha = cJSON_GetObjectItemCaseSensitive(e, "history");
        if (cJSON_IsArray(ha) && cJSON_GetArraySize(ha) == 0)
            x->order = 0;
        else
            x->order = get_nums(c, ha, f2, 1, MDL_SEQ_MAX_ORDER, 0, s->k - 1, h);
        for (unsigned j = 0; j < x->order; j++)
            x->hist[j] = (uint8_t)h[j];
        snprintf(f2, sizeof(f2), "%s.", cp);
        x->n = (uint64_t)get_num(c, e, f2, "n", 0, 1e18, &zero);
        snprintf(f2, sizeof(f2), "%s.next", cp);
        get_nums(c, cJSON_GetObjectItemCaseSensitive(e, "next"), f2, s->k, s->k, 0, 1, x->p);
        if (c->rc < 0)
            return;
    }
    mdl_seq_sort_ctx(s);
    struct fm_err e2 = {0};
    if (mdl_seq_check(s, &e2) < 0)
        c->rc = fm_err_set(c->err, FM_EFORMAT, "%s: %s.%s", c->what, path, e2.msg);
}

static void get_side(struct ctx *c, const cJSON *o, const char *path, struct mdl_side *s)
{
    char sub[64];
    char fp[128];
    memset(s, 0, sizeof(*s));
    if (!cJSON_IsObject(o)) {
        bad(c, path, "must be an object or null");
        return;
    }
    s->present = 1;
    snprintf(sub, sizeof(sub), "%s.", path);
    s->packets = (uint64_t)get_num(c, o, sub, "packets", 0, 1e18, NULL);
    s->duration_s = get_num(c, o, sub, "duration_s", 0, MDL_MAX_DURATION_S, NULL);
    const cJSON *pl = cJSON_GetObjectItemCaseSensitive(o, "payload_length");
    if (pl && !cJSON_IsNull(pl) && c->rc >= 0) {
        snprintf(fp, sizeof(fp), "%spayload_length", sub);
        get_mixture(c, pl, fp, 0, &s->payload);
        s->has_payload = 1;
    }
    const cJSON *iat = cJSON_GetObjectItemCaseSensitive(o, "iat");
    if (iat && !cJSON_IsNull(iat) && c->rc >= 0) {
        snprintf(fp, sizeof(fp), "%siat", sub);
        get_mixture(c, iat, fp, 1, &s->iat);
        s->has_iat = 1;
    }
    get_headers(c, cJSON_GetObjectItemCaseSensitive(o, "headers"), sub, &s->headers);
    /* Version 1 has no sequences: a member of that name in an old file is not ours to read. */
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(o, "sequence");
    if (c->version >= 2 && seq && !cJSON_IsNull(seq) && c->rc >= 0) {
        snprintf(fp, sizeof(fp), "%ssequence", sub);
        get_seq(c, seq, fp, &s->seq);
        s->has_seq = c->rc >= 0;
    }
    const cJSON *note = cJSON_GetObjectItemCaseSensitive(o, "note");
    if (cJSON_IsString(note) && note->valuestring)
        snprintf(s->note, sizeof(s->note), "%s", note->valuestring);
}

static void get_model(struct ctx *c, const cJSON *root, struct mdl_model *m)
{
    c->rc =
        mdl_json_check_header(root, MDL_FORMAT, MDL_VERSION, "model", c->what, &m->version, c->err);
    if (c->rc < 0)
        return;
    c->version = m->version;

    const cJSON *src = cJSON_GetObjectItemCaseSensitive(root, "source");
    if (cJSON_IsObject(src)) {
        const cJSON *cap = cJSON_GetObjectItemCaseSensitive(src, "capture");
        if (cJSON_IsString(cap))
            snprintf(m->capture, sizeof(m->capture), "%s", cap->valuestring);
        const cJSON *fl = cJSON_GetObjectItemCaseSensitive(src, "flow");
        if (cJSON_IsString(fl))
            snprintf(m->flow_spec, sizeof(m->flow_spec), "%s", fl->valuestring);
        m->packets = (uint64_t)get_num(c, src, "source.", "packets", 0, 1e18, &zero);
        m->reordered = (uint64_t)get_num(c, src, "source.", "reordered", 0, 1e18, &zero);
    }

    const cJSON *flow = cJSON_GetObjectItemCaseSensitive(root, "flow");
    if (!cJSON_IsObject(flow)) {
        bad(c, "flow", "is missing or not an object");
        return;
    }
    get_str(c, flow, "flow.", "proto", m->proto, sizeof(m->proto));
    if (c->rc >= 0 && strcmp(m->proto, "udp") != 0 && strcmp(m->proto, "tcp") != 0)
        bad(c, "flow.proto", "must be \"udp\" or \"tcp\"");
    get_endpoint(c, cJSON_GetObjectItemCaseSensitive(flow, "local"), "flow.local", &m->local);
    get_endpoint(c, cJSON_GetObjectItemCaseSensitive(flow, "remote"), "flow.remote", &m->remote);

    const cJSON *sides = cJSON_GetObjectItemCaseSensitive(root, "sides");
    if (!cJSON_IsObject(sides)) {
        bad(c, "sides", "is missing or not an object");
        return;
    }
    static const char *const names[2] = {"local", "remote"};
    for (int i = 0; i < 2 && c->rc >= 0; i++) {
        char path[32];
        snprintf(path, sizeof(path), "sides.%s", names[i]);
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(sides, names[i]);
        if (s && !cJSON_IsNull(s))
            get_side(c, s, path, &m->sides[i]);
    }
    if (c->rc >= 0 && !m->sides[0].present && !m->sides[1].present)
        bad(c, "sides", "has neither a local nor a remote side");
}

int mdl_json_parse(
    const char *text, size_t len, const char *what, struct mdl_model *out, struct fm_err *err)
{
    struct ctx c = {what, err, FM_OK, 0};
    struct mdl_model *m = NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        return mdl_json_syntax_error(text, len, end, what, err);
    }
    m = calloc(1, sizeof(*m));
    if (!m)
        c.rc = fm_err_set(err, FM_ENOMEM, "%s", what);
    else if (!cJSON_IsObject(root))
        c.rc =
            fm_err_set(err, FM_EFORMAT, "%s: not a flowmimic model (expected a JSON object)", what);
    else
        get_model(&c, root, m);
    if (m && c.rc >= 0)
        *out = *m;
    free(m);
    cJSON_Delete(root);
    return c.rc;
}

int mdl_json_load(const char *path, struct mdl_model *out, struct fm_err *err)
{
    char *buf = NULL;
    size_t size = 0;
    char what[300];
    int rc = fm_file_read_all(path, MAX_MODEL_BYTES, "model", &buf, &size, err);
    if (rc < 0)
        return rc;
    snprintf(what, sizeof(what), "model '%s'", path);
    rc = mdl_json_parse(buf, size, what, out, err);
    free(buf);
    return rc;
}
