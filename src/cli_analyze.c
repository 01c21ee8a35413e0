/* cli_analyze.c - `vigil analyze <kind> --in FILE`: run one clinical
 * algorithm on a CSV or JSON file and print the metrics as JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "cli.h"
#include "core_buf.h"
#include "core_errors.h"

/* Largest input file read, in bytes. */
#define MAX_INPUT ((size_t)256 << 20)

static void usage(FILE *f)
{
  fprintf(f,
          "usage: vigil analyze <kind> --in FILE [--format csv|json] "
          "[--per-beat]\n"
          "                     [--fs HZ] [--guideline acc_aha|esh|china] "
          "[--tz-offset MIN]\n"
          "\nkinds: %s\n"
          "  cgm   time,glucose_mgdl        time in ranges, GMI, AGP, hypo "
          "events\n"
          "  bp    time,sbp,dbp             home-BP protocol mean and "
          "category\n"
          "  hrv   rr_ms                    5-min SDNN/RMSSD/pNN50 windows "
          "+ record\n"
          "  af    rr_ms                    AF episodes and burden "
          "(--per-beat)\n"
          "  ecg   sample  (--fs HZ)        R peaks, RR, heart rate\n"
          "  spo2  [time,]spo2_pct          ODI3/ODI4, T90 (untimed: 1 Hz "
          "or --fs)\n"
          "\nTimes are RFC 3339 with an offset or epoch ms. `--in -` reads "
          "stdin.\nThe JSON result goes to stdout; errors go to stderr "
          "naming the line.\nExit status: 0 ok, 1 bad input, 2 usage "
          "error. See docs/analyze.md.\n",
          analyze_kinds());
}

static int read_all(const char *path, struct vg_buf *b)
{
  FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
  char chunk[65536];
  size_t n;
  int rc = 0;
  if (!f) {
    fprintf(stderr, "vigil analyze: %s: %s\n", path, strerror(errno));
    return 1;
  }
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    if (buf_append(b, chunk, n))
      break;
  if (ferror(f)) {
    fprintf(stderr, "vigil analyze: %s: read error\n", path);
    rc = 1;
  } else if (b->err) {
    fprintf(stderr, "vigil analyze: %s: larger than %zu bytes\n", path,
            MAX_INPUT);
    rc = 1;
  }
  if (f != stdin)
    fclose(f);
  return rc;
}

/* Strict number for an option value; 0 or -1. */
static int opt_num(const char *s, double lo, double hi, double *out)
{
  char *end;
  double v;
  if (!s || !*s)
    return -1;
  errno = 0;
  v = strtod(s, &end);
  if (errno || *end || !(v >= lo && v <= hi))
    return -1;
  *out = v;
  return 0;
}

int cli_analyze(int argc, char **argv)
{
  struct analyze_opts o;
  struct vg_buf in = VG_BUF_INIT, out = VG_BUF_INIT;
  const char *kind = NULL, *path = NULL;
  char err[512];
  double v;
  int rc, code = 1;
  analyze_opts_init(&o);
  if (cli_wants_help(argc, argv)) {
    usage(stdout);
    return 0;
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--per-beat")) {
      o.per_beat = 1;
      continue;
    }
    if (a[0] != '-' || !a[1]) {
      if (kind) {
        fprintf(stderr, "vigil analyze: unexpected argument '%s'\n", a);
        goto usage_err;
      }
      kind = a;
      continue;
    }
    if (!val) {
      fprintf(stderr, "vigil analyze: %s needs a value\n", a);
      goto usage_err;
    }
    i++;
    if (!strcmp(a, "--in")) {
      path = val;
    } else if (!strcmp(a, "--format")) {
      if (!strcmp(val, "csv"))
        o.format = ANALYZE_CSV;
      else if (!strcmp(val, "json"))
        o.format = ANALYZE_JSON;
      else {
        fprintf(stderr, "vigil analyze: --format must be csv or json\n");
        goto usage_err;
      }
    } else if (!strcmp(a, "--fs")) {
      if (opt_num(val, 1e-3, 1e6, &o.fs_hz)) {
        fprintf(stderr, "vigil analyze: --fs must be a positive number of "
                        "Hz\n");
        goto usage_err;
      }
    } else if (!strcmp(a, "--guideline")) {
      if (analyze_guideline_parse(val, &o.guideline)) {
        fprintf(stderr, "vigil analyze: --guideline must be one of %s\n",
                ANALYZE_GUIDELINES);
        goto usage_err;
      }
    } else if (!strcmp(a, "--tz-offset")) {
      if (opt_num(val, -1080, 1080, &v) || v != (double)(int)v) {
        fprintf(stderr, "vigil analyze: --tz-offset must be whole minutes "
                        "in -1080..1080\n");
        goto usage_err;
      }
      o.has_tz = 1;
      o.tz_offset_min = (int)v;
    } else {
      fprintf(stderr, "vigil analyze: unknown option '%s'\n", a);
      goto usage_err;
    }
  }
  if (!kind) {
    fprintf(stderr, "vigil analyze: missing kind\n");
    goto usage_err;
  }
  if (!analyze_kind_known(kind)) {
    fprintf(stderr, "vigil analyze: unknown kind '%s'; one of %s\n", kind,
            analyze_kinds());
    goto usage_err;
  }
  if (!path) {
    fprintf(stderr, "vigil analyze: missing --in FILE (or --in -)\n");
    goto usage_err;
  }
  buf_init(&in, MAX_INPUT);
  buf_init(&out, 0);
  if (read_all(path, &in))
    goto fail;
  rc = analyze_run(kind, &o, in.data, in.len, &out, err, sizeof err);
  if (rc) {
    fprintf(stderr, "vigil analyze: %s: %s\n",
            strcmp(path, "-") ? path : "<stdin>", err[0] ? err
                                                         : vg_strerror(rc));
    goto fail;
  }
  fwrite(out.data, 1, out.len, stdout);
  fputc('\n', stdout);
  code = fflush(stdout) ? 1 : 0;
fail:
  buf_free(&in);
  buf_free(&out);
  return code;
usage_err:
  fprintf(stderr, "`vigil analyze --help` for usage\n");
  return 2;
}
