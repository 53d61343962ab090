/* common/buf.h - bounds-checked big-endian readers over untrusted bytes.
 * A struct fm_rd borrows its bytes; every read fails (returns -1 and moves nothing) when
 * fewer bytes remain than it needs, so a decoder never reads past what was captured.
 * All inline; no state beyond the cursor. */
#ifndef COMMON_BUF_H
#define COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>

struct fm_rd {
    const uint8_t *p;
    size_t len; /* bytes available */
    size_t off; /* bytes consumed */
};

static inline void fm_rd_init(struct fm_rd *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->off = 0;
}

static inline size_t fm_rd_left(const struct fm_rd *r)
{
    return r->len - r->off;
}

static inline const uint8_t *fm_rd_ptr(const struct fm_rd *r)
{
    return r->p + r->off;
}

static inline int fm_rd_skip(struct fm_rd *r, size_t n)
{
    if (fm_rd_left(r) < n)
        return -1;
    r->off += n;
    return 0;
}

static inline int fm_rd_u8(struct fm_rd *r, uint8_t *v)
{
    if (fm_rd_left(r) < 1)
        return -1;
    *v = r->p[r->off];
    r->off += 1;
    return 0;
}

static inline int fm_rd_be16(struct fm_rd *r, uint16_t *v)
{
    if (fm_rd_left(r) < 2)
        return -1;
    const uint8_t *b = r->p + r->off;
    *v = (uint16_t)((unsigned)b[0] << 8 | b[1]);
    r->off += 2;
    return 0;
}

static inline int fm_rd_le16(struct fm_rd *r, uint16_t *v)
{
    if (fm_rd_left(r) < 2)
        return -1;
    const uint8_t *b = r->p + r->off;
    *v = (uint16_t)((unsigned)b[1] << 8 | b[0]);
    r->off += 2;
    return 0;
}

static inline int fm_rd_be32(struct fm_rd *r, uint32_t *v)
{
    if (fm_rd_left(r) < 4)
        return -1;
    const uint8_t *b = r->p + r->off;
    *v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    r->off += 4;
    return 0;
}

static inline int fm_rd_le32(struct fm_rd *r, uint32_t *v)
{
    if (fm_rd_left(r) < 4)
        return -1;
    const uint8_t *b = r->p + r->off;
    *v = (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
    r->off += 4;
    return 0;
}

/* Copy n bytes out; fails without copying when fewer remain. */
static inline int fm_rd_bytes(struct fm_rd *r, void *dst, size_t n)
{
    if (fm_rd_left(r) < n)
        return -1;
    const uint8_t *s = r->p + r->off;
    uint8_t *d = dst;
    for (size_t i = 0; i < n; i++)
        d[i] = s[i];
    r->off += n;
    return 0;
}

#endif
