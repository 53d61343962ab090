/* common/map.h - the one hash table: fixed-size keys (bytes, compared with memcmp(), so a key
 * struct is zeroed before it is filled, padding included) to indexes into an array the
 * caller keeps. Open addressing with linear probing, at most half full, FNV-1a. An embedded
 * struct: fm_map_init() cannot fail, fm_map_fini() frees. Not thread-safe. (The flow table
 * of estimator/flow.c keeps a table of its own, shaped for reading at libpcap's speed.) */
#ifndef COMMON_MAP_H
#define COMMON_MAP_H

#include "common/err.h"
#include <stddef.h>
#include <stdint.h>

struct fm_map {
    size_t keylen;
    size_t cap; /* slots: 0, or a power of two, at most half full */
    size_t n;
    uint8_t *keys;
    size_t *vals; /* index + 1; 0 marks an empty slot */
};

#define FM_MAP_NONE ((size_t)-1)

void fm_map_init(struct fm_map *m, size_t keylen);
void fm_map_fini(struct fm_map *m);
/* The index under key, or FM_MAP_NONE. */
size_t fm_map_get(const struct fm_map *m, const void *key);
/* Set key's index (replacing any). 0, or -1 when out of memory (the map is unchanged). */
FM_MUST_CHECK int fm_map_put(struct fm_map *m, const void *key, size_t val);
/* Bytes the map holds. */
size_t fm_map_mem_bytes(const struct fm_map *m);

#endif
