/* estimator/estimate.c - placeholder until written. */
#include "estimator/flow.h"
