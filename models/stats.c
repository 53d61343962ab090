/* models/stats.c - placeholder until written. */
#include "models/stats.h"
