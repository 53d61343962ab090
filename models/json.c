/* models/json.c - placeholder until written. */
#include "models/json.h"
