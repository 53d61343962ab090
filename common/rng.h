/* common/rng.h - seeded random numbers (GSL's mt19937), passed explicitly so --seed replays.
 * A struct fm_rng is created by fm_rng_new() and released with fm_rng_free(); one per thread. */
#ifndef COMMON_RNG_H
#define COMMON_RNG_H

#include <stdint.h>

struct fm_rng;

/* A generator seeded with seed. Returns NULL when out of memory. */
struct fm_rng *fm_rng_new(uint64_t seed);
void fm_rng_free(struct fm_rng *r);
/* Uniform in [0, 1). */
double fm_rng_uniform(struct fm_rng *r);
/* Uniform in (0, 1): never exactly 0. */
double fm_rng_uniform_pos(struct fm_rng *r);
/* Standard normal. */
double fm_rng_gauss(struct fm_rng *r);
/* Uniform integer in [0, n), n > 0. */
uint64_t fm_rng_below(struct fm_rng *r, uint64_t n);
/* The underlying gsl_rng, for GSL's own samplers (type-erased to keep gsl out of headers). */
void *fm_rng_gsl(struct fm_rng *r);

#endif
