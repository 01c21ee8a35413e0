/* cli_version.c - `vigil version`. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_wants_help(int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
      return 1;
  return 0;
}

int cli_version(int argc, char **argv)
{
  if (cli_wants_help(argc, argv)) {
    printf("usage: vigil version\nPrints the Vigil version and the "
           "versions of the libraries it runs on.\n");
    return 0;
  }
  printf("vigil %s (sqlite %s)\n", VG_VERSION, sqlite3_libversion());
  return 0;
}
