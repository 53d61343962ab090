/* estimator/pcap_in.c - placeholder until written. */
#include "estimator/pcap_in.h"
