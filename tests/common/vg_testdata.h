/* vg_testdata.h - locate ../shared/data for validation suites, or skip. */
#ifndef VG_TESTDATA_H
#define VG_TESTDATA_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* Exit code ctest treats as SKIPPED (SKIP_RETURN_CODE). */
#define VG_TEST_SKIP 77

/* Returns the test-data root: $VIGIL_TESTDATA, else the configured default.
 * If the root lacks SUBDIR, prints the reason and exits with VG_TEST_SKIP, so
 * a missing data set is reported as skipped, never as passed. */
static inline const char *vg_testdata_require(const char *subdir)
{
  const char *root = getenv("VIGIL_TESTDATA");
  char path[4096];
  struct stat st;
  if (!root || !*root)
    root = VG_TESTDATA_DEFAULT;
  snprintf(path, sizeof path, "%s/%s", root, subdir);
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
    printf("SKIPPED: test data %s not found (set VIGIL_TESTDATA)\n", path);
    fflush(stdout);
    exit(VG_TEST_SKIP);
  }
  return root;
}

#endif
