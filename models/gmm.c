/* models/gmm.c - placeholder until written. */
#include "models/gmm.h"
