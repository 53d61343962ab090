/* estimator/parse.c - placeholder until written. */
#include "estimator/parse.h"
