/* estimator/reader.c - placeholder until written. */
#include "estimator/reader.h"
