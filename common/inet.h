/* common/inet.h - writing packet headers: big-endian stores and the Internet checksum.
 * specification: RFC 1071 (computing the Internet checksum). Headers are written a byte at a
 * time into the caller's buffer, never through structs, so alignment and host byte order do
 * not matter. The readers over untrusted bytes are in common/buf.h. */
#ifndef COMMON_INET_H
#define COMMON_INET_H

#include <stddef.h>
#include <stdint.h>

/* Store the low 16 bits of v at p, most significant byte first. */
static inline void fm_put_be16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Store v at p, most significant byte first. */
static inline void fm_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Add the len bytes at p, as 16-bit big-endian words (an odd last byte padded with a zero
 * byte), onto the running sum and return it, not yet folded: equal to the words' plain sum
 * modulo 0xffff, which is all that the fold needs. Pseudo-header fields (protocol, length) may
 * be added to the sum directly. The 32-bit sum holds any IP datagram (64 KiB). */
uint32_t fm_inet_csum_add(uint32_t sum, const uint8_t *p, size_t len);

/* The checksum to store: sum folded to 16 bits with end-around carry, then complemented. */
uint16_t fm_inet_csum_fold(uint32_t sum);

#endif
