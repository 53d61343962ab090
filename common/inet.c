/* common/inet.c - the Internet checksum of RFC 1071 (see common/inet.h). */
#include "common/inet.h"

#include <string.h>

/* The bytes at p as big-endian 16-bit words, summed one by one (the short tail of a buffer). */
static uint32_t sum_words(uint32_t sum, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    return sum;
}

/* RFC 1071 2(B): the one's complement sum does not depend on byte order, so the bulk is summed
 * as native 32-bit words into 64-bit accumulators (no carry is lost below 2^32 words), folded
 * to 16 bits, and only then put in network order. A byte at a time, the checksum of a
 * 1200-byte payload was a few percent of replay's whole send loop. */
uint32_t fm_inet_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    size_t bulk = len & ~(size_t)7;
    if (bulk < 16)
        return sum_words(sum, p, len);
    uint64_t a = 0, b = 0;
    for (size_t i = 0; i < bulk; i += 8) {
        uint32_t w0, w1;
        memcpy(&w0, p + i, 4);
        memcpy(&w1, p + i + 4, 4);
        a += w0;
        b += w1;
    }
    a += b;
    while (a >> 16)
        a = (a & 0xffffu) + (a >> 16);
    uint32_t folded = (uint32_t)a;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    folded = (folded >> 8 | folded << 8) & 0xffffu;
#endif
    return sum_words(sum + folded, p + bulk, len - bulk);
}

uint16_t fm_inet_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)~sum;
}
