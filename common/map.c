/* common/map.c - fixed-size keys to indexes. */
#include "common/map.h"

#include <stdlib.h>
#include <string.h>

void fm_map_init(struct fm_map *m, size_t keylen)
{
    memset(m, 0, sizeof(*m));
    m->keylen = keylen;
}

void fm_map_fini(struct fm_map *m)
{
    free(m->keys);
    free(m->vals);
    fm_map_init(m, m->keylen);
}

static uint64_t hash(const uint8_t *k, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= k[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static size_t slot_of(const struct fm_map *m, const void *key)
{
    size_t i = (size_t)hash(key, m->keylen) & (m->cap - 1);
    while (m->vals[i] && memcmp(m->keys + i * m->keylen, key, m->keylen) != 0)
        i = (i + 1) & (m->cap - 1);
    return i;
}

size_t fm_map_get(const struct fm_map *m, const void *key)
{
    if (!m->cap)
        return FM_MAP_NONE;
    size_t i = slot_of(m, key);
    return m->vals[i] ? m->vals[i] - 1 : FM_MAP_NONE;
}

/* Set key's slot in m to val. */
static void set(struct fm_map *m, const void *key, size_t val)
{
    size_t i = slot_of(m, key);
    if (!m->vals[i])
        m->n++;
    memcpy(m->keys + i * m->keylen, key, m->keylen);
    m->vals[i] = val + 1;
}

int fm_map_put(struct fm_map *m, const void *key, size_t val)
{
    if (m->keylen == 0)
        return -1; /* a map is always made with its key size */
    if (2 * (m->n + 1) <= m->cap) {
        set(m, key, val);
        return 0;
    }
    struct fm_map g = {m->keylen, m->cap ? 2 * m->cap : 64, 0, NULL, NULL};
    g.keys = malloc(g.cap * g.keylen);
    g.vals = calloc(g.cap, sizeof(*g.vals));
    if (!g.keys || !g.vals) {
        free(g.keys);
        free(g.vals);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->vals[i])
            set(&g, m->keys + i * m->keylen, m->vals[i] - 1);
    /* The new key goes in before the old storage is freed: it may be a key read from it. */
    set(&g, key, val);
    free(m->keys);
    free(m->vals);
    *m = g;
    return 0;
}

size_t fm_map_mem_bytes(const struct fm_map *m)
{
    return m->cap * (m->keylen + sizeof(*m->vals));
}
