/* algo.h - conventions shared by every module in algo/: pure C11, no I/O,
 * no allocation, no globals. Inputs are const arrays with a count; outputs
 * go to caller memory; scratch space is sized by *_scratch_size(). */
#ifndef VG_ALGO_H
#define VG_ALGO_H

/* Bumped whenever any algorithm's output can change; recorded with every
 * stored assessment so results can be traced to the code that made them. */
#define ALGO_VERSION "1.2.0"

/* Return codes of algo_* functions. "Not enough data for a verdict" is not
 * an error: results carry their own sufficiency flag. */
enum algo_rc {
  ALGO_OK = 0,
  ALGO_EINVAL = -1,   /* bad argument: NULL, n too large, non-finite input */
  ALGO_ESCRATCH = -2, /* scratch buffer smaller than *_scratch_size() */
  ALGO_EORDER = -3    /* timestamps not strictly increasing */
};

/* Static description of rc; never NULL. */
const char *algo_strerror(int rc);

#endif
