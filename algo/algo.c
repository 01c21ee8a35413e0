/* algo.c - shared helpers of the algorithm library. */
#include "algo.h"

const char *algo_strerror(int rc)
{
  switch (rc) {
  case ALGO_OK: return "ok";
  case ALGO_EINVAL: return "invalid argument";
  case ALGO_ESCRATCH: return "scratch buffer too small";
  case ALGO_EORDER: return "timestamps not in increasing order";
  default: return "unknown error";
  }
}
