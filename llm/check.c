/* llm/check.c - schema, range, name, MTU and plausibility checks of a generator's proposal.
 * The rules are stated in llm/check.h. The findings are written for the generator to read:
 * each names the variant (by index and name), the packet and the field, gives the value
 * and says what would be accepted, so that the next round can fix it. */
#include "llm/check.h"

#include "common/time.h"
#include "models/draw.h"
#include "models/jsonutil.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define RTP_HEADER_BYTES 12

void llm_findings_init(struct llm_findings *f)
{
    f->n = 0;
    f->dropped = 0;
}

void llm_findings_add(struct llm_findings *f, const char *fmt, ...)
{
    if (!f)
        return;
    if (f->n >= LLM_MAX_FINDINGS) {
        f->dropped++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->msg[f->n], LLM_FINDING_LEN, fmt, ap);
    va_end(ap);
    f->n++;
}

size_t llm_findings_count(const struct llm_findings *f)
{
    return f->n + f->dropped;
}

void llm_check_opts_init(struct llm_check_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->side = MDL_SIDE_LOCAL;
    o->n_variants = 3;
    o->n_packets = 5;
    o->mtu = LLM_DEFAULT_MTU;
}

/* ---- schema and ranges ---- */

/* Where a finding is: "variant 2 ('ef')" or "variant 2" before the name is known. */
struct where {
    char at[96];
    struct llm_findings *f;
    size_t problems;
};

static void problem(struct where *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct where *w, const char *fmt, ...)
{
    char buf[LLM_FINDING_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (w->at[0])
        llm_findings_add(w->f, "%s: %s", w->at, buf);
    else
        llm_findings_add(w->f, "%s", buf);
    w->problems++;
}

/* Report every member of obj whose key is not in known (NULL-terminated); prefix goes before
 * the key in the message ("changes."). */
static void
unknown_keys(struct where *w, const cJSON *obj, const char *prefix, const char *const *known)
{
    char allowed[160] = "";
    size_t used = 0;
    for (const char *const *k = known; *k && used < sizeof(allowed); k++) {
        int n =
            snprintf(allowed + used, sizeof(allowed) - used, "%s%s", k == known ? "" : ", ", *k);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, obj)
    {
        if (!mdl_json_key_known(it->string, known))
            problem(w, "unknown field '%s%.40s' (allowed: %s)", prefix,
                    it->string ? it->string : "?", allowed);
    }
}

/* An integer field of changes in [lo, hi]; absent or null keeps def. */
static int change_int(struct where *w, const cJSON *ch, const char *key, int lo, int hi)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ch, key);
    if (!v || cJSON_IsNull(v))
        return -1;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
        v->valuedouble != floor(v->valuedouble)) {
        problem(w, "changes.%s must be an integer, not %s", key, mdl_json_type_name(v));
        return -1;
    }
    if (v->valuedouble < lo || v->valuedouble > hi) {
        problem(w,
                "changes.%s %.0f is out of range: use %d to %d, or leave it out to keep the "
                "model's",
                key, v->valuedouble, lo, hi);
        return -1;
    }
    return (int)v->valuedouble;
}

/* A number field of changes in [lo, hi]; absent or null keeps def. */
static double
change_num(struct where *w, const cJSON *ch, const char *key, double lo, double hi, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ch, key);
    if (!v || cJSON_IsNull(v))
        return def;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
        problem(w, "changes.%s must be a number, not %s", key, mdl_json_type_name(v));
        return def;
    }
    if (v->valuedouble < lo || v->valuedouble > hi) {
        problem(w, "changes.%s %g is out of range: use %g to %g", key, v->valuedouble, lo, hi);
        return def;
    }
    return v->valuedouble;
}

static void read_changes(struct where *w, const cJSON *ch, struct mdl_variant *v)
{
    static const char *const known[] = {
        "dscp",          "ttl",           "src_port",   "dst_port", "rtp_payload_type",
        "payload_scale", "payload_shift", "rate_scale", NULL,
    };
    if (!ch) {
        problem(w, "field 'changes' is missing (an object; {} changes nothing)");
        return;
    }
    if (!cJSON_IsObject(ch)) {
        problem(w, "field 'changes' must be an object, not %s", mdl_json_type_name(ch));
        return;
    }
    unknown_keys(w, ch, "changes.", known);
    v->dscp = change_int(w, ch, "dscp", 0, 63);
    v->ttl = change_int(w, ch, "ttl", 1, 255);
    v->src_port = change_int(w, ch, "src_port", 1, 65535);
    v->dst_port = change_int(w, ch, "dst_port", 1, 65535);
    v->rtp_payload_type = change_int(w, ch, "rtp_payload_type", 0, 127);
    /* The limits of models/variant.c, so that whatever passes here also loads there. */
    v->payload_scale = change_num(w, ch, "payload_scale", 1e-3, 1e3, 1.0);
    v->payload_shift = change_num(w, ch, "payload_shift", -65507.0, 65507.0, 0.0);
    v->rate_scale = change_num(w, ch, "rate_scale", 1e-3, 1e3, 1.0);
}

static void read_packet(struct where *w, const cJSON *pk, size_t j, struct llm_example *e)
{
    static const char *const known[] = {"payload_length", "gap_ms", NULL};
    e->payload_length = -1;
    e->gap_ms = -1.0;
    if (!cJSON_IsObject(pk)) {
        problem(w, "packet %zu must be an object, not %s", j, mdl_json_type_name(pk));
        return;
    }
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "packets[%zu].", j);
    unknown_keys(w, pk, prefix, known);
    const cJSON *len = cJSON_GetObjectItemCaseSensitive(pk, "payload_length");
    const cJSON *gap = cJSON_GetObjectItemCaseSensitive(pk, "gap_ms");
    if (!len)
        problem(w, "packet %zu: field 'payload_length' is missing", j);
    else if (!cJSON_IsNumber(len) || !isfinite(len->valuedouble) ||
             len->valuedouble != floor(len->valuedouble))
        problem(w, "packet %zu: payload_length must be an integer, not %s", j,
                cJSON_IsNumber(len) ? "a fraction" : mdl_json_type_name(len));
    else if (len->valuedouble < 0 || len->valuedouble > 65507)
        problem(w, "packet %zu: payload_length %.0f is out of range 0 to 65507", j,
                len->valuedouble);
    else
        e->payload_length = (long)len->valuedouble;
    if (!gap)
        problem(w, "packet %zu: field 'gap_ms' is missing", j);
    else if (!cJSON_IsNumber(gap) || !isfinite(gap->valuedouble))
        problem(w, "packet %zu: gap_ms must be a number, not %s", j, mdl_json_type_name(gap));
    else if (gap->valuedouble < 0 || gap->valuedouble > 3.6e6)
        problem(w, "packet %zu: gap_ms %g is out of range 0 to 3600000", j, gap->valuedouble);
    else
        e->gap_ms = gap->valuedouble;
}

static void read_variant(struct where *w,
                         const cJSON *o,
                         size_t i,
                         const struct llm_check_opts *opts,
                         struct llm_proposed *p)
{
    static const char *const known[] = {"name", "rationale", "changes", "packets", NULL};
    mdl_variant_init(&p->v);
    p->n_packets = 0;
    snprintf(w->at, sizeof(w->at), "variant %zu", i);
    if (!cJSON_IsObject(o)) {
        problem(w, "must be an object, not %s", mdl_json_type_name(o));
        return;
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    if (!name)
        problem(w, "field 'name' is missing");
    else if (!cJSON_IsString(name) || !name->valuestring)
        problem(w, "field 'name' must be a string, not %s", mdl_json_type_name(name));
    else if (strlen(name->valuestring) >= sizeof(p->v.name))
        problem(w, "name is too long (%zu bytes; at most %zu)", strlen(name->valuestring),
                sizeof(p->v.name) - 1);
    else
        snprintf(p->v.name, sizeof(p->v.name), "%s", name->valuestring);
    /* From here on findings carry the name as well, which is how a reader knows them. */
    if (p->v.name[0])
        snprintf(w->at, sizeof(w->at), "variant %zu ('%.60s')", i, p->v.name);
    unknown_keys(w, o, "", known);
    const cJSON *why = cJSON_GetObjectItemCaseSensitive(o, "rationale");
    if (!why)
        problem(w, "field 'rationale' is missing (one sentence: what the variant tests)");
    else if (!cJSON_IsString(why) || !why->valuestring)
        problem(w, "field 'rationale' must be a string, not %s", mdl_json_type_name(why));
    else if (!why->valuestring[0])
        problem(w, "rationale is empty (one sentence: what the variant tests)");
    else if (strlen(why->valuestring) >= sizeof(p->v.rationale))
        problem(w, "rationale is too long (%zu bytes; at most %zu)", strlen(why->valuestring),
                sizeof(p->v.rationale) - 1);
    else
        snprintf(p->v.rationale, sizeof(p->v.rationale), "%s", why->valuestring);
    read_changes(w, cJSON_GetObjectItemCaseSensitive(o, "changes"), &p->v);
    const cJSON *pks = cJSON_GetObjectItemCaseSensitive(o, "packets");
    if (!pks) {
        problem(w, "field 'packets' is missing (%zu example packets)", opts->n_packets);
        return;
    }
    if (!cJSON_IsArray(pks)) {
        problem(w, "field 'packets' must be an array, not %s", mdl_json_type_name(pks));
        return;
    }
    size_t n = (size_t)cJSON_GetArraySize(pks);
    if (n != opts->n_packets)
        problem(w, "has %zu example packets; give exactly %zu", n, opts->n_packets);
    const cJSON *pk = NULL;
    size_t j = 0;
    cJSON_ArrayForEach(pk, pks)
    {
        if (j >= LLM_MAX_PACKETS)
            break;
        read_packet(w, pk, j, &p->packets[j]);
        j++;
    }
    p->n_packets = j;
}

size_t llm_proposal_read(const cJSON *root,
                         const struct llm_check_opts *o,
                         struct llm_proposal *out,
                         struct llm_findings *f)
{
    static const char *const known[] = {"variants", NULL};
    struct where w = {"", f, 0};
    out->n = 0;
    if (!cJSON_IsObject(root)) {
        problem(&w, "the reply must be a JSON object {\"variants\": [...]}, not %s",
                mdl_json_type_name(root));
        return w.problems;
    }
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, root)
    {
        if (!it->string || strcmp(it->string, known[0]) != 0)
            problem(&w, "unknown top-level field '%.40s' (only 'variants' is allowed)",
                    it->string ? it->string : "?");
    }
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "variants");
    if (!list) {
        problem(&w, "field 'variants' is missing");
        return w.problems;
    }
    if (!cJSON_IsArray(list)) {
        problem(&w, "field 'variants' must be an array, not %s", mdl_json_type_name(list));
        return w.problems;
    }
    size_t n = (size_t)cJSON_GetArraySize(list);
    if (n != o->n_variants)
        problem(&w, "the reply has %zu variants; give exactly %zu", n, o->n_variants);
    const cJSON *v = NULL;
    size_t i = 0;
    cJSON_ArrayForEach(v, list)
    {
        if (i >= LLM_MAX_VARIANTS)
            break;
        read_variant(&w, v, i, o, &out->vs[i]);
        i++;
    }
    out->n = i;
    return w.problems;
}

/* ---- against the model ---- */

int llm_name_usable(const char *s)
{
    if (!s[0] || s[0] == '.' || s[0] == '-')
        return 0;
    for (const char *p = s; *p; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        if (!ok)
            return 0;
    }
    return 1;
}

/* Standard normal CDF. */
static double phi(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}

double llm_mixture_mass(const struct mdl_mixture *m, double lo, double hi)
{
    double mass = 0.0;
    if (!(lo <= hi))
        return 0.0;
    for (size_t i = 0; i < m->n_atoms; i++) {
        if (m->atoms[i].value >= lo && m->atoms[i].value <= hi)
            mass += m->atoms[i].weight;
    }
    /* The window and the truncation bounds on the components' scale. */
    double a = lo;
    double b = hi;
    double tmin = m->min;
    double tmax = m->max;
    if (m->scale == MDL_SCALE_LOG) {
        a = lo > 0.0 ? log(lo) : -HUGE_VAL;
        b = hi > 0.0 ? log(hi) : -HUGE_VAL;
        tmin = m->min > 0.0 ? log(m->min) : -HUGE_VAL;
        tmax = m->max > 0.0 ? log(m->max) : -HUGE_VAL;
    }
    a = a > tmin ? a : tmin;
    b = b < tmax ? b : tmax;
    for (unsigned j = 0; j < m->k; j++) {
        const struct mdl_comp *c = &m->comps[j];
        double den = phi((tmax - c->mean) / c->sd) - phi((tmin - c->mean) / c->sd);
        if (!(den > 1e-300)) {
            /* Nothing of the component lies in [min, max]: the sampler ends up clamping its
             * draws to the nearer bound, so its whole weight sits there. */
            double at = c->mean < tmin ? m->min : m->max;
            if (at >= lo && at <= hi)
                mass += c->weight;
            continue;
        }
        if (a < b)
            mass += c->weight * (phi((b - c->mean) / c->sd) - phi((a - c->mean) / c->sd)) / den;
    }
    return mass > 1.0 ? 1.0 : mass;
}

void llm_plaus_eval(const struct mdl_mixture *m, double x, double quantum, struct llm_plaus *out)
{
    double half = LLM_PLAUS_WINDOW * fabs(x);
    if (half < quantum)
        half = quantum;
    out->lo = x - half;
    out->hi = x + half;
    out->mass = llm_mixture_mass(m, out->lo, out->hi);
    out->in_support = x >= m->min - quantum && x <= m->max + quantum;
    out->ok = out->in_support && out->mass >= LLM_PLAUS_MIN_MASS;
}

static void plaus_none(struct llm_plaus *out)
{
    out->lo = out->hi = out->mass = (double)NAN;
    out->in_support = 1;
    out->ok = 1;
}

/* A side with a sequence model draws its values from the states' pieces, not from the
 * mixture: a value is as plausible as the larger of the two masses says (the pieces are the
 * capture's own values, which a mixture can leave thin between its modes). unit converts the
 * window into the pieces' unit (ns for gaps). */
static void seq_plaus(const struct mdl_side *s, int gap, double unit, struct llm_plaus *out)
{
    if (!s->has_seq)
        return;
    double m = mdl_seq_mass(&s->seq, gap, out->lo * unit, out->hi * unit);
    if (m > out->mass)
        out->mass = m;
    out->ok = out->in_support && out->mass >= LLM_PLAUS_MIN_MASS;
}

void llm_plaus_length(const struct mdl_side *s,
                      const struct mdl_variant *v,
                      long payload_length,
                      struct llm_plaus *out)
{
    if (!s->present || !s->has_payload) {
        plaus_none(out);
        return;
    }
    /* Back into model bytes: the variant sends round(x * scale + shift). One byte of the
     * sent length is 1/scale model bytes, the smallest window that still holds a value. */
    double x = ((double)payload_length - v->payload_shift) / v->payload_scale;
    double q = 1.0 / v->payload_scale;
    if (s->payload.resolution > q)
        q = s->payload.resolution;
    llm_plaus_eval(&s->payload, x, q, out);
    seq_plaus(s, 0, 1.0, out);
    /* The support in sent bytes is exact: integers from the transformed min to max. */
    unsigned lo = mdl_variant_payload(v, s->payload.min);
    unsigned hi = mdl_variant_payload(v, s->payload.max);
    out->in_support = payload_length >= (long)lo && payload_length <= (long)hi;
    out->ok = out->in_support && out->mass >= LLM_PLAUS_MIN_MASS;
}

void llm_plaus_gap(const struct mdl_side *s,
                   const struct mdl_variant *v,
                   double gap_ms,
                   struct llm_plaus *out)
{
    if (!s->present || !s->has_iat) {
        plaus_none(out);
        return;
    }
    /* The variant divides every model gap by rate_scale; a sent gap g was a model gap
     * g * rate_scale. */
    double x = gap_ms / 1000.0 * v->rate_scale;
    double q = s->iat.resolution > 0.0 ? s->iat.resolution : 1e-9;
    llm_plaus_eval(&s->iat, x, q, out);
    seq_plaus(s, 1, (double)FM_NS_PER_SEC, out);
}

static void check_packets(struct where *w,
                          const struct mdl_side *s,
                          const struct llm_proposed *p,
                          long max_payload)
{
    const struct mdl_variant *v = &p->v;
    for (size_t j = 0; j < p->n_packets; j++) {
        const struct llm_example *e = &p->packets[j];
        if (e->payload_length < 0 || e->gap_ms < 0)
            continue; /* already reported by the schema check */
        if (e->payload_length > max_payload)
            problem(w, "packet %zu: payload_length %ld exceeds the %ld bytes that fit the link MTU",
                    j, e->payload_length, max_payload);
        if (s->headers.rtp && e->payload_length < RTP_HEADER_BYTES)
            problem(w, "packet %zu: payload_length %ld is shorter than the %d-byte RTP header", j,
                    e->payload_length, RTP_HEADER_BYTES);
        struct llm_plaus pl;
        llm_plaus_length(s, v, e->payload_length, &pl);
        if (!pl.in_support)
            problem(w,
                    "packet %zu: payload_length %ld is outside what the model sends with these "
                    "changes (%u to %u bytes)",
                    j, e->payload_length, mdl_variant_payload(v, s->payload.min),
                    mdl_variant_payload(v, s->payload.max));
        else if (!pl.ok)
            problem(w,
                    "packet %zu: payload_length %ld is implausible under the model with these "
                    "changes (only %.2g of packets lie within 5%%; at least %g needed)",
                    j, e->payload_length, pl.mass, LLM_PLAUS_MIN_MASS);
        llm_plaus_gap(s, v, e->gap_ms, &pl);
        if (!pl.in_support)
            problem(w,
                    "packet %zu: gap_ms %g is outside what the model sends with rate_scale %g "
                    "(%.4g to %.4g ms)",
                    j, e->gap_ms, v->rate_scale, s->iat.min * 1000.0 / v->rate_scale,
                    s->iat.max * 1000.0 / v->rate_scale);
        else if (!pl.ok)
            problem(w,
                    "packet %zu: gap_ms %g is implausible under the model with rate_scale %g "
                    "(only %.2g of gaps lie within 5%%; at least %g needed)",
                    j, e->gap_ms, v->rate_scale, pl.mass, LLM_PLAUS_MIN_MASS);
    }
}

static int changes_nothing(const struct mdl_variant *v)
{
    return v->dscp < 0 && v->ttl < 0 && v->src_port < 0 && v->dst_port < 0 &&
           v->rtp_payload_type < 0 && v->payload_scale == 1.0 && v->payload_shift == 0.0 &&
           v->rate_scale == 1.0;
}

size_t llm_proposal_check(const struct mdl_model *m,
                          const struct llm_check_opts *o,
                          const struct llm_proposal *p,
                          struct llm_findings *f,
                          struct llm_findings *notes)
{
    struct where w = {"", f, 0};
    const struct mdl_side *s = &m->sides[o->side];
    long max_payload = mdl_max_udp_payload(m, o->mtu);
    if (!s->present) {
        problem(&w, "the model's %s side sent no packets",
                o->side == MDL_SIDE_LOCAL ? "local" : "remote");
        return w.problems;
    }
    if (notes && !s->has_iat)
        llm_findings_add(notes,
                         "the model has no gap distribution for this side (%s): gaps were "
                         "not checked",
                         s->note[0] ? s->note : "too few packets");
    if (notes && !s->has_payload)
        llm_findings_add(notes,
                         "the model has no length distribution for this side (%s): "
                         "lengths were not checked",
                         s->note[0] ? s->note : "too few packets");
    for (size_t i = 0; i < p->n; i++) {
        const struct llm_proposed *pv = &p->vs[i];
        snprintf(w.at, sizeof(w.at), "variant %zu ('%.60s')", i, pv->v.name);
        if (!llm_name_usable(pv->v.name))
            problem(&w, "name must be letters, digits, '.', '_' or '-' (not first), e.g. "
                        "\"ef-marked\"");
        for (size_t j = 0; j < i; j++) {
            if (strcmp(p->vs[j].v.name, pv->v.name) == 0) {
                problem(&w, "name repeats variant %zu's; every name must be unique", j);
                break;
            }
        }
        struct fm_err e2 = {0};
        if (mdl_variant_check(&pv->v, &e2) < 0)
            problem(&w, "%s", e2.msg);
        if (mdl_variant_mtu_check(m, o->side, &pv->v, o->mtu, &e2) < 0) {
            /* w names the variant already: the message from its scale on. */
            const char *why = strstr(e2.msg, "payload_scale");
            problem(&w, "%s", why ? why : e2.msg);
        }
        check_packets(&w, s, pv, max_payload);
        if (notes && changes_nothing(&pv->v))
            llm_findings_add(notes, "%s: changes nothing; it replays the model as it is", w.at);
    }
    return w.problems;
}
