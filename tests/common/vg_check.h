/* vg_check.h - CHECK() for the plain-main() validation suites: a failed
 * condition prints where and why and is counted in g_fail. */
#ifndef VG_CHECK_H
#define VG_CHECK_H

#include <stdio.h>

/* Failures so far (one translation unit per test executable). main()
 * returns g_fail ? 1 : 0: an exit status holds only 8 bits. */
static int g_fail;

/* If cond is false: print "FAIL file:line: <printf-style message>" and count
 * it. Never returns early; the suite goes on to report every failure. */
#define CHECK(cond, ...)                                                     \
  do {                                                                       \
    if (!(cond)) {                                                           \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);                            \
      printf(__VA_ARGS__);                                                   \
      printf("\n");                                                          \
      g_fail++;                                                              \
    }                                                                        \
  } while (0)

#endif
