/* api_common.c - helpers shared by the JSON API handlers. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "core_arena.h"
#include "core_errors.h"
#include "core_time.h"

int api_parse_object(struct vg_req *r, json_t **out)
{
  json_error_t jerr;
  json_t *j;
  *out = NULL;
  if (r->body_len == 0)
    return vg_fail(r, VG_EINVAL, "request body is empty; expected a JSON object");
  j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
  if (!j)
    return vg_fail(r, VG_EBADJSON, "malformed JSON at line %d column %d: %s",
                   jerr.line, jerr.column, jerr.text);
  if (!json_is_object(j)) {
    json_decref(j);
    return vg_fail(r, VG_EINVAL, "expected a JSON object");
  }
  *out = j;
  return 0;
}

int api_parse_id(const char *s, int64_t *out)
{
  char *end;
  long long v;
  if (!s || *s < '0' || *s > '9') /* strtoll would skip leading \t\n\v */
    return -VG_EINVAL;
  errno = 0;
  v = strtoll(s, &end, 10);
  if (errno || *end || v <= 0)
    return -VG_EINVAL;
  *out = v;
  return 0;
}

int api_paging(struct vg_req *r, size_t def, size_t max, size_t *out_limit,
               int64_t *out_after)
{
  const char *lim = http_query(r, "limit");
  const char *cur = http_query(r, "cursor");
  int64_t v;
  *out_limit = def;
  *out_after = 0;
  if (lim) {
    if (api_parse_id(lim, &v) || (uint64_t)v > max)
      return vg_fail(r, VG_EINVAL, "limit must be 1..%zu", max);
    *out_limit = (size_t)v;
  }
  if (cur && api_parse_id(cur, out_after))
    return vg_fail(r, VG_EINVAL, "bad cursor");
  return 0;
}

int api_time_param(struct vg_req *r, const char *key, int64_t *out)
{
  const char *s = http_query(r, key);
  int16_t off;
  char *end;
  long long v;
  if (!s)
    return 0;
  if (vg_time_parse(s, strlen(s), out, &off) == 0)
    return 0;
  errno = 0;
  v = strtoll(s, &end, 10);
  if (!errno && *s && !*end) {
    *out = v;
    return 0;
  }
  return vg_fail(r, VG_EINVAL,
                 "%s must be RFC 3339 with an offset or epoch milliseconds", key);
}

void api_created(struct vg_req *r, const char *fmt, int64_t id)
{
  r->status = 201;
  r->location = arena_printf(r->arena, fmt, id);
}
