/* models/mixture.c - placeholder until written. */
#include "models/mixture.h"
