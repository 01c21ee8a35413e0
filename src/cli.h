/* cli.h - subcommand entry points (cli.def) and shared CLI helpers. */
#ifndef VG_CLI_H
#define VG_CLI_H

#include <stdio.h>

/* A subcommand gets argv[0] = its own name. Returns the process exit code:
 * 0 ok, 1 failure, 2 usage error. */
typedef int (*cli_fn)(int argc, char **argv);

struct cli_command {
  const char *name;
  cli_fn fn;
  const char *help;
};

#define X(name, fn, help) int fn(int argc, char **argv);
#include "cli.def"
#undef X

/* True if argv has --help or -h. */
int cli_wants_help(int argc, char **argv);

#endif
