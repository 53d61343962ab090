/* trace/trace.c - JSON packet traces: load, check, save; see trace/trace.h and docs/trace.md.
 * Traces are written by LLM agents as well as by people and by 'flowmimic convert', so
 * loading is strict in the way models/variant.c is: every key is checked against the known
 * ones, every number against its range, and the first problem is named with the packet index
 * and the field ("trace.json: packet 3: dst_port: 70000 is out of range 0..65535"), rather
 * than a bad packet being dropped or guessed at. Writing puts one packet on each line, so a
 * trace stays readable and diffs stay small. The strict reader's checks (known keys, type
 * names, the file's format and version) are models/'s, shared with model and variant files,
 * so that every JSON file flowmimic reads is judged and reported alike. */
#include "trace/trace.h"
#include "models/jsonutil.h"

#include "common/file.h"
#include "common/strbuf.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The largest trace file read: about 25 000 MTU-size packets with payload bytes, or 350 000
 * without. cJSON holds the whole tree in memory (about ten times the text), so the limit also
 * bounds the memory a hostile file can take. */
#define MAX_TRACE_BYTES ((size_t)64 << 20)

/* pcap stores seconds as 32 bits without sign; a trace must fit into one. */
#define TS_SEC_MAX 4294967295.0

/* The order in which flag letters are written: bit 0 (FIN) first, so "SA", "FA", "PA". */
static const char flag_letters[] = "FSRPAUEC";

void trc_trace_init(struct trc_trace *t)
{
    memset(t, 0, sizeof(*t));
}

void trc_trace_fini(struct trc_trace *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->pkts[i].payload);
    free(t->pkts);
    trc_trace_init(t);
}

int trc_trace_append(struct trc_trace *t, const struct trc_pkt *p, struct fm_err *err)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        struct trc_pkt *np = realloc(t->pkts, cap * sizeof(*np));
        if (!np)
            return fm_err_set(err, FM_ENOMEM, "trace of %zu packets", t->n + 1);
        t->pkts = np;
        t->cap = cap;
    }
    struct trc_pkt *q = &t->pkts[t->n];
    *q = *p;
    q->payload = NULL;
    if (p->payload) {
        /* A known empty payload stays distinct from an unknown one: it is a 1-byte block. */
        q->payload = malloc(p->payload_length ? p->payload_length : 1);
        if (!q->payload)
            return fm_err_set(err, FM_ENOMEM, "payload of packet %zu", t->n);
        if (p->payload_length)
            memcpy(q->payload, p->payload, p->payload_length);
    }
    t->n++;
    return FM_OK;
}

/* ---- addresses ---- */

int trc_addr_parse(const char *s, uint8_t *family, uint8_t ip[16], struct fm_err *err)
{
    uint8_t tmp[16];
    memset(tmp, 0, sizeof(tmp));
    if (inet_pton(AF_INET, s, tmp) == 1) {
        memcpy(ip, tmp, 16);
        *family = 4;
        return FM_OK;
    }
    if (inet_pton(AF_INET6, s, tmp) == 1) {
        memcpy(ip, tmp, 16);
        *family = 6;
        return FM_OK;
    }
    return fm_err_set(err, FM_EINVAL, "'%.64s' is not an IPv4 or IPv6 address", s);
}

void trc_addr_format(uint8_t family, const uint8_t ip[16], char *buf, size_t len)
{
    char tmp[INET6_ADDRSTRLEN];
    if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, ip, tmp, sizeof(tmp)))
        snprintf(tmp, sizeof(tmp), "?");
    snprintf(buf, len, "%s", tmp);
}

/* ---- checking (shared by loading and saving) ---- */

/* The most payload an IP packet of this family and protocol can carry. */
static uint32_t max_payload(uint8_t family, uint8_t proto)
{
    uint32_t l4 = proto == 6 ? 20 : 8;
    /* IPv4's total length counts its own header; IPv6's payload length does not. */
    return family == 4 ? 65535 - 20 - l4 : 65535 - l4;
}

/* The checks that a struct can fail although each field has the right type; the same for a
 * packet read from JSON and one about to be written, so a saved trace always loads again.
 * On failure field and why say what is wrong; returns 0 or -1. */
static int check_pkt(const struct trc_pkt *p, const char **field, char *why, size_t wlen)
{
    *field = NULL;
    if (p->ts_sec < 0 || (double)p->ts_sec > TS_SEC_MAX) {
        *field = "ts_sec";
        snprintf(why, wlen, "%lld is out of range 0..4294967295", (long long)p->ts_sec);
    } else if (p->ts_nsec > 999999999u) {
        *field = "ts_nsec";
        snprintf(why, wlen, "%lu is out of range 0..999999999", (unsigned long)p->ts_nsec);
    } else if (p->proto != 17 && p->proto != 6) {
        *field = "proto";
        snprintf(why, wlen, "%u is neither UDP (17) nor TCP (6)", (unsigned)p->proto);
    } else if (p->family != 4 && p->family != 6) {
        *field = "src";
        snprintf(why, wlen, "address family %u is neither 4 nor 6", (unsigned)p->family);
    } else if (p->ttl < -1 || p->ttl > 255) {
        *field = "ttl";
        snprintf(why, wlen, "%d is out of range 0..255", p->ttl);
    } else if (p->dscp < -1 || p->dscp > 63) {
        *field = "dscp";
        snprintf(why, wlen, "%d is out of range 0..63", p->dscp);
    } else if (p->payload_length > max_payload(p->family, p->proto)) {
        *field = "payload_length";
        snprintf(why, wlen, "%lu is more than an IPv%u %s packet holds (%lu)",
                 (unsigned long)p->payload_length, (unsigned)p->family,
                 p->proto == 6 ? "TCP" : "UDP", (unsigned long)max_payload(p->family, p->proto));
    } else if (p->udp_length < -1 || p->udp_length > 65535) {
        *field = "udp_length";
        snprintf(why, wlen, "%ld is out of range 0..65535", p->udp_length);
    } else if (p->udp_length >= 0 && p->proto != 17) {
        *field = "udp_length";
        snprintf(why, wlen, "is only allowed on UDP packets");
    } else if (p->has_rtp && p->proto != 17) {
        *field = "rtp";
        snprintf(why, wlen, "is only allowed on UDP packets");
    } else if (p->has_rtp &&
               (p->rtp.version > 3 || p->rtp.payload_type > 127 || p->rtp.marker > 1)) {
        *field = p->rtp.version > 3  ? "rtp.version"
                 : p->rtp.marker > 1 ? "rtp.marker"
                                     : "rtp.payload_type";
        snprintf(why, wlen, "is out of range");
    } else if (p->proto == 6 && !p->has_tcp) {
        *field = "tcp";
        snprintf(why, wlen, "is missing (required for TCP packets)");
    } else if (p->proto != 6 && p->has_tcp) {
        *field = "tcp";
        snprintf(why, wlen, "is only allowed on TCP packets");
    }
    return *field ? -1 : 0;
}

/* ---- reading ---- */

/* The first error sticks: a getter does nothing once rc is negative, so a run of field reads
 * needs one check at its end. index is the packet being read, or -1 outside the packets. */
struct ctx {
    const char *what;
    long long index;
    struct fm_err *err;
    int rc;
};

static void bad(struct ctx *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void bad(struct ctx *c, const char *field, const char *fmt, ...)
{
    if (c->rc < 0)
        return;
    char why[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (c->index >= 0)
        c->rc = fm_err_set(c->err, FM_EFORMAT, "%s: packet %lld: %s: %s", c->what, c->index, field,
                           why);
    else
        c->rc = fm_err_set(c->err, FM_EFORMAT, "%s: %s: %s", c->what, field, why);
}

/* Reject any key of obj that is not in known (NULL-terminated) or that appears twice (cJSON
 * keeps both, and a reader would see only the first); prefix goes before the key ("rtp."). */
static void
only_known(struct ctx *c, const cJSON *obj, const char *prefix, const char *const *known)
{
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, obj)
    {
        const char *key = it->string ? it->string : "?";
        if (!mdl_json_key_known(it->string, known)) {
            bad(c, key, "is not a known field%s%s", prefix[0] ? " of " : "", prefix);
            return;
        }
        for (const cJSON *o = it->next; o; o = o->next) {
            if (o->string && strcmp(o->string, key) == 0) {
                bad(c, key, "appears twice");
                return;
            }
        }
    }
}

/* An integer in [lo, hi] under key (named field in messages). Returns 1 and sets *out when
 * present, 0 when absent (an error when required), -1 on a bad value. */
static int get_int(struct ctx *c,
                   const cJSON *obj,
                   const char *key,
                   const char *field,
                   double lo,
                   double hi,
                   int required,
                   double *out)
{
    if (c->rc < 0)
        return -1;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        if (required)
            bad(c, field, "is missing");
        return required ? -1 : 0;
    }
    if (!cJSON_IsNumber(v)) {
        bad(c, field, "must be an integer, not %s", mdl_json_type_name(v));
        return -1;
    }
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d)) {
        bad(c, field, "must be an integer, not %g", d);
        return -1;
    }
    if (d < lo || d > hi) {
        bad(c, field, "%.0f is out of range %.0f..%.0f", d, lo, hi);
        return -1;
    }
    *out = d;
    return 1;
}

/* A string under key: the text, NULL when absent (an error when required) or bad. */
static const char *
get_str(struct ctx *c, const cJSON *obj, const char *key, const char *field, int required)
{
    if (c->rc < 0)
        return NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        if (required)
            bad(c, field, "is missing");
        return NULL;
    }
    if (!cJSON_IsString(v) || !v->valuestring) {
        bad(c, field, "must be a string, not %s", mdl_json_type_name(v));
        return NULL;
    }
    return v->valuestring;
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* "payload" hex into p->payload (a new block), with p->payload_length checked against it. */
static void get_payload(struct ctx *c, const char *hex, int has_len, struct trc_pkt *p)
{
    size_t n = strlen(hex);
    if (n % 2) {
        bad(c, "payload", "hex text has an odd number of digits (%zu)", n);
        return;
    }
    if (has_len && n / 2 != p->payload_length) {
        bad(c, "payload", "holds %zu bytes but payload_length is %lu", n / 2,
            (unsigned long)p->payload_length);
        return;
    }
    if (n / 2 > 65535) {
        bad(c, "payload", "holds %zu bytes, more than any IP packet", n / 2);
        return;
    }
    uint8_t *b = malloc(n / 2 ? n / 2 : 1);
    if (!b) {
        c->rc = fm_err_set(c->err, FM_ENOMEM, "%s: packet %lld: payload", c->what, c->index);
        return;
    }
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_digit(hex[2 * i]);
        int lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            size_t at = hi < 0 ? 2 * i : 2 * i + 1;
            bad(c, "payload", "'%c' at offset %zu is not a hex digit", hex[at], at);
            free(b);
            return;
        }
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    p->payload = b;
    p->payload_length = (uint32_t)(n / 2);
}

static void get_rtp(struct ctx *c, const cJSON *o, struct trc_pkt *p)
{
    static const char *const known[] = {"version",   "payload_type", "marker", "seq",
                                        "timestamp", "ssrc",         NULL};
    if (!cJSON_IsObject(o)) {
        bad(c, "rtp", "must be an object, not %s", mdl_json_type_name(o));
        return;
    }
    only_known(c, o, "rtp", known);
    double version = 2, pt = 0, seq = 0, ts = 0, ssrc = 0;
    get_int(c, o, "version", "rtp.version", 0, 3, 0, &version);
    get_int(c, o, "payload_type", "rtp.payload_type", 0, 127, 1, &pt);
    get_int(c, o, "seq", "rtp.seq", 0, 65535, 1, &seq);
    get_int(c, o, "timestamp", "rtp.timestamp", 0, 4294967295.0, 1, &ts);
    get_int(c, o, "ssrc", "rtp.ssrc", 0, 4294967295.0, 1, &ssrc);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "marker");
    if (m && !cJSON_IsBool(m))
        bad(c, "rtp.marker", "must be true or false, not %s", mdl_json_type_name(m));
    p->has_rtp = 1;
    p->rtp.version = (uint8_t)version;
    p->rtp.payload_type = (uint8_t)pt;
    p->rtp.marker = m && cJSON_IsTrue(m) ? 1 : 0;
    p->rtp.seq = (uint16_t)seq;
    p->rtp.timestamp = (uint32_t)ts;
    p->rtp.ssrc = (uint32_t)ssrc;
}

static void get_flags(struct ctx *c, const char *s, uint8_t *flags)
{
    unsigned f = 0;
    for (const char *q = s; *q; q++) {
        const char *at = strchr(flag_letters, *q);
        if (!at) {
            bad(c, "tcp.flags", "'%c' is not a flag letter (F S R P A U E C)", *q);
            return;
        }
        unsigned bit = 1u << (at - flag_letters);
        if (f & bit) {
            bad(c, "tcp.flags", "'%c' appears twice", *q);
            return;
        }
        f |= bit;
    }
    *flags = (uint8_t)f;
}

static void get_tcp(struct ctx *c, const cJSON *o, struct trc_pkt *p)
{
    static const char *const known[] = {"flags", "seq", "ack", "window", NULL};
    if (!cJSON_IsObject(o)) {
        bad(c, "tcp", "must be an object, not %s", mdl_json_type_name(o));
        return;
    }
    only_known(c, o, "tcp", known);
    const char *flags = get_str(c, o, "flags", "tcp.flags", 1);
    double seq = 0, ack = 0, win = 65535;
    get_int(c, o, "seq", "tcp.seq", 0, 4294967295.0, 1, &seq);
    get_int(c, o, "ack", "tcp.ack", 0, 4294967295.0, 0, &ack);
    get_int(c, o, "window", "tcp.window", 0, 65535, 0, &win);
    if (c->rc < 0)
        return;
    get_flags(c, flags, &p->tcp.flags);
    p->has_tcp = 1;
    p->tcp.seq = (uint32_t)seq;
    p->tcp.ack = (uint32_t)ack;
    p->tcp.window = (uint16_t)win;
}

static void get_addr(struct ctx *c, const cJSON *o, const char *key, uint8_t *family, uint8_t *ip)
{
    const char *s = get_str(c, o, key, key, 1);
    if (!s)
        return;
    struct fm_err e2 = {0};
    if (trc_addr_parse(s, family, ip, &e2) < 0)
        bad(c, key, "%s", e2.msg);
}

static void get_pkt(struct ctx *c, const cJSON *o, struct trc_pkt *p)
{
    static const char *const known[] = {
        "ts_sec", "ts_nsec", "proto",          "src",        "src_port", "dst", "dst_port", "ttl",
        "dscp",   "payload", "payload_length", "udp_length", "rtp",      "tcp", NULL,
    };
    memset(p, 0, sizeof(*p));
    p->ttl = -1;
    p->dscp = -1;
    p->udp_length = -1;
    if (!cJSON_IsObject(o)) {
        bad(c, "packet", "must be an object, not %s", mdl_json_type_name(o));
        return;
    }
    only_known(c, o, "", known);
    double sec = 0, nsec = 0, sport = 0, dport = 0, ttl = -1, dscp = -1, len = 0, ulen = -1;
    get_int(c, o, "ts_sec", "ts_sec", 0, TS_SEC_MAX, 1, &sec);
    get_int(c, o, "ts_nsec", "ts_nsec", 0, 999999999, 1, &nsec);
    const char *proto = get_str(c, o, "proto", "proto", 1);
    if (proto && strcmp(proto, "udp") != 0 && strcmp(proto, "tcp") != 0)
        bad(c, "proto", "\"%.32s\" is not \"udp\" or \"tcp\"", proto);
    get_addr(c, o, "src", &p->family, p->src_ip);
    uint8_t dfam = 0;
    get_addr(c, o, "dst", &dfam, p->dst_ip);
    if (c->rc >= 0 && dfam != p->family)
        bad(c, "dst", "is IPv%u but src is IPv%u", (unsigned)dfam, (unsigned)p->family);
    get_int(c, o, "src_port", "src_port", 0, 65535, 1, &sport);
    get_int(c, o, "dst_port", "dst_port", 0, 65535, 1, &dport);
    get_int(c, o, "ttl", "ttl", 0, 255, 0, &ttl);
    get_int(c, o, "dscp", "dscp", 0, 63, 0, &dscp);
    int has_len = get_int(c, o, "payload_length", "payload_length", 0, 65535, 0, &len);
    get_int(c, o, "udp_length", "udp_length", 0, 65535, 0, &ulen);
    const char *hex = get_str(c, o, "payload", "payload", 0);
    if (c->rc < 0)
        return;
    p->ts_sec = (int64_t)sec;
    p->ts_nsec = (uint32_t)nsec;
    p->proto = strcmp(proto, "tcp") == 0 ? 6 : 17;
    p->src_port = (uint16_t)sport;
    p->dst_port = (uint16_t)dport;
    p->ttl = (int)ttl;
    p->dscp = (int)dscp;
    p->payload_length = (uint32_t)len;
    p->udp_length = (long)ulen;
    if (!has_len && !hex) {
        bad(c, "payload_length", "is missing (give payload_length, payload or both)");
        return;
    }
    if (hex)
        get_payload(c, hex, has_len, p);
    const cJSON *rtp = cJSON_GetObjectItemCaseSensitive(o, "rtp");
    if (rtp)
        get_rtp(c, rtp, p);
    const cJSON *tcp = cJSON_GetObjectItemCaseSensitive(o, "tcp");
    if (tcp)
        get_tcp(c, tcp, p);
    if (c->rc < 0)
        return;
    const char *field = NULL;
    char why[160];
    if (check_pkt(p, &field, why, sizeof(why)) < 0)
        bad(c, field, "%s", why);
}

static void get_packets(struct ctx *c, const cJSON *list, struct trc_trace *t)
{
    const cJSON *o = NULL;
    cJSON_ArrayForEach(o, list)
    {
        struct trc_pkt p;
        get_pkt(c, o, &p);
        if (c->rc >= 0)
            c->rc = trc_trace_append(t, &p, c->err);
        free(p.payload);
        if (c->rc < 0)
            return;
        c->index++;
    }
}

int trc_trace_parse(
    const char *text, size_t len, const char *what, struct trc_trace *t, struct fm_err *err)
{
    struct ctx c = {what, -1, err, FM_OK};
    struct trc_trace tmp;
    trc_trace_init(&tmp);
    const char *end = NULL;
    /* Editors on some systems put a UTF-8 byte order mark in front; JSON has no use for it. */
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        text += 3;
        len -= 3;
    }
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    size_t off = end && end >= text ? (size_t)(end - text) : 0;
    if (off > len)
        off = len;
    if (root) {
        /* cJSON stops after the first value; anything but blanks after it is not JSON. */
        while (off < len &&
               (text[off] == ' ' || text[off] == '\t' || text[off] == '\n' || text[off] == '\r'))
            off++;
    }
    if (!root || off < len) {
        unsigned line = 0;
        unsigned col = 0;
        mdl_json_error_pos(text, len, text + off, &line, &col);
        c.rc = fm_err_set(err, FM_EFORMAT, "%s: not JSON (line %u, column %u)%s", what, line, col,
                          root ? ": text after the end of the trace" : "");
        goto out;
    }
    const cJSON *list = root;
    if (cJSON_IsObject(root)) {
        static const char *const known[] = {"format", "version", "packets", NULL};
        int version = 0;
        c.rc = mdl_json_check_header(root, TRC_TRACE_FORMAT, TRC_TRACE_VERSION, "packet trace",
                                     what, &version, err);
        if (c.rc < 0)
            goto out;
        only_known(&c, root, "the trace", known);
        list = cJSON_GetObjectItemCaseSensitive(root, "packets");
        if (c.rc >= 0 && !list)
            bad(&c, "packets", "is missing");
        else if (c.rc >= 0 && !cJSON_IsArray(list))
            bad(&c, "packets", "must be an array, not %s", mdl_json_type_name(list));
    } else if (!cJSON_IsArray(root)) {
        c.rc = fm_err_set(err, FM_EFORMAT,
                          "%s: not a packet trace (expected an object with \"packets\" or an "
                          "array of packets, not %s)",
                          what, mdl_json_type_name(root));
    }
    if (c.rc < 0)
        goto out;
    c.index = 0;
    get_packets(&c, list, &tmp);
    if (c.rc < 0)
        goto out;
    trc_trace_fini(t);
    *t = tmp;
    trc_trace_init(&tmp);
out:
    trc_trace_fini(&tmp);
    cJSON_Delete(root);
    if (c.rc < 0)
        trc_trace_fini(t);
    return c.rc;
}

int trc_trace_load(const char *path, struct trc_trace *t, struct fm_err *err)
{
    char *buf = NULL;
    size_t size = 0;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > MAX_TRACE_BYTES) {
        trc_trace_fini(t);
        return fm_err_set(err, FM_EFORMAT,
                          "%s: %lld bytes is more than a packet trace may hold (64 MiB); split "
                          "it, or convert one flow of the capture (convert --flow)",
                          path, (long long)st.st_size);
    }
    int rc = fm_file_read_all(path, MAX_TRACE_BYTES, "packet trace", &buf, &size, err);
    if (rc < 0) {
        trc_trace_fini(t);
        return rc;
    }
    rc = trc_trace_parse(buf, size, path, t, err);
    free(buf);
    return rc;
}

/* ---- writing ---- */

/* Integers are written as raw text: cJSON would print them through a double. */
static int add_int(cJSON *o, const char *key, long long v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", v);
    return cJSON_AddRawToObject(o, key, buf) != NULL;
}

static cJSON *pkt_to_json(const struct trc_pkt *p)
{
    char addr[64];
    int ok = 1;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    ok &= add_int(o, "ts_sec", p->ts_sec);
    ok &= add_int(o, "ts_nsec", p->ts_nsec);
    ok &= cJSON_AddStringToObject(o, "proto", p->proto == 6 ? "tcp" : "udp") != NULL;
    trc_addr_format(p->family, p->src_ip, addr, sizeof(addr));
    ok &= cJSON_AddStringToObject(o, "src", addr) != NULL;
    ok &= add_int(o, "src_port", p->src_port);
    trc_addr_format(p->family, p->dst_ip, addr, sizeof(addr));
    ok &= cJSON_AddStringToObject(o, "dst", addr) != NULL;
    ok &= add_int(o, "dst_port", p->dst_port);
    if (p->ttl >= 0)
        ok &= add_int(o, "ttl", p->ttl);
    if (p->dscp >= 0)
        ok &= add_int(o, "dscp", p->dscp);
    ok &= add_int(o, "payload_length", p->payload_length);
    if (p->udp_length >= 0)
        ok &= add_int(o, "udp_length", p->udp_length);
    if (p->has_rtp) {
        cJSON *r = cJSON_AddObjectToObject(o, "rtp");
        ok &= r != NULL;
        if (r) {
            ok &= add_int(r, "version", p->rtp.version);
            ok &= add_int(r, "payload_type", p->rtp.payload_type);
            ok &= cJSON_AddBoolToObject(r, "marker", p->rtp.marker != 0) != NULL;
            ok &= add_int(r, "seq", p->rtp.seq);
            ok &= add_int(r, "timestamp", p->rtp.timestamp);
            ok &= add_int(r, "ssrc", p->rtp.ssrc);
        }
    }
    if (p->has_tcp) {
        char flags[sizeof(flag_letters)];
        size_t n = 0;
        for (unsigned b = 0; b < 8; b++) {
            if (p->tcp.flags & (1u << b))
                flags[n++] = flag_letters[b];
        }
        flags[n] = '\0';
        cJSON *tc = cJSON_AddObjectToObject(o, "tcp");
        ok &= tc != NULL;
        if (tc) {
            ok &= cJSON_AddStringToObject(tc, "flags", flags) != NULL;
            ok &= add_int(tc, "seq", p->tcp.seq);
            ok &= add_int(tc, "ack", p->tcp.ack);
            ok &= add_int(tc, "window", p->tcp.window);
        }
    }
    /* The payload goes last: it is the long part of the line. */
    if (p->payload) {
        static const char digits[] = "0123456789abcdef";
        char *hex = malloc(2 * (size_t)p->payload_length + 1);
        ok &= hex != NULL;
        if (hex) {
            for (size_t i = 0; i < p->payload_length; i++) {
                hex[2 * i] = digits[p->payload[i] >> 4];
                hex[2 * i + 1] = digits[p->payload[i] & 15];
            }
            hex[2 * (size_t)p->payload_length] = '\0';
            ok &= cJSON_AddStringToObject(o, "payload", hex) != NULL;
            free(hex);
        }
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Where the text goes: a growing buffer in memory, or a file. The first failure sticks. */
struct sink {
    struct fm_buf text; /* when f is NULL */
    FILE *f;
    int failed;
};

static void put(struct sink *b, const char *s)
{
    if (b->failed)
        return;
    if (b->f) {
        size_t len = strlen(s);
        b->failed = fwrite(s, 1, len, b->f) != len;
        return;
    }
    b->failed = fm_buf_puts(&b->text, s) < 0;
}

static int check_all(const struct trc_trace *t, struct fm_err *err)
{
    for (size_t i = 0; i < t->n; i++) {
        const char *field = NULL;
        char why[160];
        if (check_pkt(&t->pkts[i], &field, why, sizeof(why)) < 0) {
            fm_err_set(err, FM_EINVAL, "packet %zu: %s: %s", i, field, why);
            return FM_EINVAL;
        }
    }
    return FM_OK;
}

/* The whole trace into b: one packet per line, cJSON's unformatted print of each inside a
 * hand-made frame. Returns 0, or -1 when cJSON ran out of memory. */
static int emit(const struct trc_trace *t, struct sink *b)
{
    put(b, "{\n  \"format\": \"" TRC_TRACE_FORMAT "\",\n  \"version\": 1,\n  \"packets\": [");
    for (size_t i = 0; i < t->n && !b->failed; i++) {
        cJSON *o = pkt_to_json(&t->pkts[i]);
        char *s = o ? cJSON_PrintUnformatted(o) : NULL;
        cJSON_Delete(o);
        if (!s)
            return -1;
        put(b, i ? ",\n    " : "\n    ");
        put(b, s);
        cJSON_free(s);
    }
    put(b, t->n ? "\n  ]\n}" : "]\n}");
    return 0;
}

int trc_trace_print(const struct trc_trace *t, char **out, struct fm_err *err)
{
    struct sink b = {{NULL, 0, 0, 0}, NULL, 0};
    int rc = check_all(t, err);
    if (rc < 0)
        return rc;
    if (emit(t, &b) < 0 || b.failed) {
        fm_buf_fini(&b.text);
        fm_err_set(err, FM_ENOMEM, "printing a trace of %zu packets", t->n);
        return FM_ENOMEM;
    }
    *out = fm_buf_take(&b.text);
    return FM_OK;
}

/* Saving streams the text to the file: a trace of a large capture would otherwise be held
 * twice, as packets and as text. The file is written as fm_file_write_atomic() writes one
 * (a temporary beside it, flushed, renamed; a final newline), so that save and print agree. */
int trc_trace_save(const char *path, const struct trc_trace *t, struct fm_err *err)
{
    struct sink b = {{NULL, 0, 0, 0}, NULL, 0};
    struct fm_atomic_file af;
    int rc = check_all(t, err);
    if (rc < 0) {
        /* Name the file the packet was meant for. */
        char msg[FM_ERR_LEN];
        snprintf(msg, sizeof(msg), "%s", err ? err->msg : "");
        fm_err_set(err, rc, "%s: %s", path, msg);
        return rc;
    }
    rc = fm_atomic_open(&af, path, err);
    if (rc < 0)
        return rc;
    b.f = af.f;
    if (emit(t, &b) < 0) {
        rc = fm_err_set(err, FM_ENOMEM, "writing a trace of %zu packets to '%s'", t->n, path);
        goto out;
    }
    put(&b, "\n");
    if (b.failed) {
        rc = fm_err_errno(err, FM_EIO, errno, "cannot write '%s'", path);
        goto out;
    }
    rc = fm_atomic_commit(&af, err);
out:
    fm_atomic_abort(&af);
    fm_buf_fini(&b.text); /* empty: the text went to the file */
    return rc;
}
