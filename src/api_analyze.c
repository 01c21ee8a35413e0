/* api_analyze.c - POST /api/v1/analyze/{kind}: run one clinical algorithm
 * on a CSV (text/csv) or JSON body and answer with the metrics. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyze.h"
#include "api.h"
#include "core_errors.h"

/* Media type without parameters matches TYPE (case-insensitive). */
static int media_is(const char *ct, const char *type)
{
  size_t n = strlen(type);
  return ct && !strncasecmp(ct, type, n) &&
         (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static int query_bool(struct vg_req *r, const char *key, int *out)
{
  const char *s = http_query(r, key);
  if (!s)
    return 0;
  if (!strcmp(s, "1") || !strcmp(s, "true") || !*s)
    *out = 1;
  else if (!strcmp(s, "0") || !strcmp(s, "false"))
    *out = 0;
  else
    return vg_fail(r, VG_EINVAL, "%s must be true, false, 1 or 0", key);
  return 0;
}

static int query_num(struct vg_req *r, const char *key, double lo, double hi,
                     int whole, double *out, int *out_set)
{
  const char *s = http_query(r, key);
  char *end;
  double v;
  if (!s)
    return 0;
  errno = 0;
  v = strtod(s, &end);
  if (!*s || *end || errno || !(v >= lo && v <= hi) ||
      (whole && v != (double)(long)v))
    return vg_fail(r, VG_EINVAL, "%s must be a %s in [%g, %g]", key,
                   whole ? "whole number" : "number", lo, hi);
  *out = v;
  if (out_set)
    *out_set = 1;
  return 0;
}

int api_analyze_post(struct vg_req *r)
{
  struct analyze_opts o;
  const char *kind = r->params[0];
  const char *ct = http_header(r, "Content-Type");
  const char *g;
  char err[512];
  double tz = 0;
  int rc;
  analyze_opts_init(&o);
  if (!analyze_kind_known(kind))
    return vg_fail(r, VG_ENOTFOUND, "unknown analysis kind '%s'; one of %s",
                   kind ? kind : "", analyze_kinds());
  if (!ct || media_is(ct, "text/csv") || media_is(ct, "text/plain"))
    o.format = ANALYZE_CSV;
  else if (media_is(ct, "application/json"))
    o.format = ANALYZE_JSON;
  else
    return vg_fail(r, VG_EMEDIA, "Content-Type must be text/csv or "
                   "application/json");
  if (query_bool(r, "per_beat", &o.per_beat) ||
      query_num(r, "fs", 1e-3, 1e6, 0, &o.fs_hz, NULL) ||
      query_num(r, "tz_offset", -1080, 1080, 1, &tz, &o.has_tz))
    return r->err;
  o.tz_offset_min = (int)tz;
  g = http_query(r, "guideline");
  if (g && analyze_guideline_parse(g, &o.guideline))
    return vg_fail(r, VG_EINVAL, "guideline must be one of %s",
                   ANALYZE_GUIDELINES);
  rc = analyze_run(kind, &o, r->body, r->body_len, &r->out, err, sizeof err);
  if (rc) {
    buf_reset(&r->out);
    return vg_fail(r, -rc, "%s", err[0] ? err : vg_strerror(rc));
  }
  return 0;
}
