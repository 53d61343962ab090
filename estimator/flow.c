/* estimator/flow.c - placeholder until written. */
#include "estimator/flow.h"
