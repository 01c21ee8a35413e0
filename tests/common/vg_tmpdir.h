/* vg_tmpdir.h - a fresh temporary directory per test (for its SQLite
 * files), made under $TMPDIR and removed with what is in it. */
#ifndef VG_TMPDIR_H
#define VG_TMPDIR_H

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Create the directory $TMPDIR/<prefix>.XXXXXX ($TMPDIR unset or empty:
 * /tmp). OUT: dir (size bytes). 0, or -1 with errno set. */
static inline int vg_tmpdir_make(const char *prefix, char *dir, size_t size)
{
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, size, "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", prefix);
  return mkdtemp(dir) ? 0 : -1;
}

/* Remove the files directly in dir, then dir itself (not recursive: the
 * tests keep only database files there). 0, or -1 when dir remains. */
static inline int vg_tmpdir_remove(const char *dir)
{
  char path[PATH_MAX];
  struct dirent *de;
  DIR *d = opendir(dir);
  if (d) {
    while ((de = readdir(d)) != NULL) {
      if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
        continue;
      snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
      unlink(path);
    }
    closedir(d);
  }
  return rmdir(dir);
}

#endif
