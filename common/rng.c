/* common/rng.c - seeded random numbers on GSL's mt19937. */
#include "common/rng.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <stdlib.h>

struct fm_rng {
    gsl_rng *g;
};

struct fm_rng *fm_rng_new(uint64_t seed)
{
    struct fm_rng *r = malloc(sizeof(*r));
    if (!r)
        return NULL;
    r->g = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r->g) {
        free(r);
        return NULL;
    }
    /* mt19937 takes an unsigned long seed; fold the high half in so that distinct 64-bit
     * seeds stay distinct where unsigned long is 32 bits. */
    gsl_rng_set(r->g, (unsigned long)(seed ^ (seed >> 32)));
    return r;
}

void fm_rng_free(struct fm_rng *r)
{
    if (!r)
        return;
    gsl_rng_free(r->g);
    free(r);
}

double fm_rng_uniform(struct fm_rng *r)
{
    return gsl_rng_uniform(r->g);
}

double fm_rng_uniform_pos(struct fm_rng *r)
{
    return gsl_rng_uniform_pos(r->g);
}

double fm_rng_gauss(struct fm_rng *r)
{
    return gsl_ran_gaussian_ziggurat(r->g, 1.0);
}

uint64_t fm_rng_below(struct fm_rng *r, uint64_t n)
{
    if (n <= gsl_rng_max(r->g) - gsl_rng_min(r->g))
        return gsl_rng_uniform_int(r->g, (unsigned long)n);
    return (uint64_t)(gsl_rng_uniform(r->g) * (double)n);
}

void *fm_rng_gsl(struct fm_rng *r)
{
    return r->g;
}
