/* vg_check.h - checks for the plain-main() validation suites: a failed
 * condition prints where or what and is counted in g_fail. */
#ifndef VG_CHECK_H
#define VG_CHECK_H

#include <stdio.h>

/* Checks made and failed so far (one translation unit per test
 * executable). main() returns g_fail ? 1 : 0: an exit status holds only
 * 8 bits. */
static int g_checks, g_fail;

/* Count one check; if cond is false print "FAIL file:line: <printf-style
 * message>" and count it failed. Never returns early: the suite goes on to
 * report every failure. */
#define CHECK(cond, ...)                                                     \
  do {                                                                       \
    g_checks++;                                                              \
    if (!(cond)) {                                                           \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);                            \
      printf(__VA_ARGS__);                                                   \
      printf("\n");                                                          \
      g_fail++;                                                              \
    }                                                                        \
  } while (0)

/* The function form, for checks named by a fixed text: count one check;
 * if !ok print "FAIL: <what>" and count it failed. */
static inline void check(int ok, const char *what)
{
  g_checks++;
  if (!ok) {
    g_fail++;
    printf("FAIL: %s\n", what);
  }
}

#endif
