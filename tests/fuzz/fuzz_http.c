/* fuzz_http.c - libFuzzer target for the request target, parsed before any
 * authentication: the path router (http.c route_find, through
 * http_route_match_for_test) checked against an independent segment
 * matcher over routes.def, and the query string's values as the handlers
 * parse them (ids, limits and cursors via api_parse_id; times via
 * vg_time_parse). Byte 0 picks the method; the rest is "path?query". */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "core_arena.h"
#include "core_errors.h"
#include "core_time.h"
#include "http.h"

int http_route_match_for_test(struct vg_arena *a, const char *method,
                              const char *path, const char **out_params);

/* Segment-wise match, written apart from http.c: same number of '/'
 * separated segments; literal segments equal; {x} any non-empty one. */
static int seg_match(const char *pat, const char *path, const char **caps,
                     size_t *cap_len, int *n_caps)
{
  *n_caps = 0;
  for (;;) {
    const char *pe = strchr(pat, '/'), *se = strchr(path, '/');
    size_t pl = pe ? (size_t)(pe - pat) : strlen(pat);
    size_t sl = se ? (size_t)(se - path) : strlen(path);
    if (pl >= 2 && pat[0] == '{' && pat[pl - 1] == '}') {
      if (sl == 0 || *n_caps >= VG_MAX_PATH_PARAMS)
        return 0;
      caps[*n_caps] = path;
      cap_len[(*n_caps)++] = sl;
    } else if (pl != sl || memcmp(pat, path, pl) != 0) {
      return 0;
    }
    if (!pe || !se)
      return !pe && !se;
    pat = pe + 1;
    path = se + 1;
  }
}

static int hexval(int c)
{
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* One query value, percent- and '+'-decoded in place (as libmicrohttpd
 * hands it to http_query), through the parsers the handlers use. */
static void query_value(char *v)
{
  char *w = v;
  const char *s = v;
  int64_t id, ms;
  int16_t off;
  while (*s) {
    if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
      *w++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
      s += 3;
    } else {
      *w++ = *s == '+' ? ' ' : *s;
      s++;
    }
  }
  *w = '\0';
  if (api_parse_id(v, &id) == 0) {
    /* Only plain positive decimal numbers are ids. */
    if (id <= 0 || v[0] < '0' || v[0] > '9')
      abort();
    for (const char *c = v; *c; c++)
      if (*c < '0' || *c > '9')
        abort();
  }
  (void)vg_date_parse(v, strlen(v), &ms);
  if (vg_time_parse(v, strlen(v), &ms, &off) == 0 &&
      (off < -24 * 60 || off > 24 * 60))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char *methods[] = {"GET", "POST", "PUT", "DELETE", "HEAD",
                                  "PATCH", "OPTIONS", "get"};
  const struct vg_route *routes;
  const char *params[VG_MAX_PATH_PARAMS], *caps[VG_MAX_PATH_PARAMS];
  size_t cap_len[VG_MAX_PATH_PARAMS], n_routes, i;
  const char *method;
  struct vg_arena *a;
  char *buf, *q, *kv, *next;
  int got, want = -1, path_known = 0, n_caps, k;

  if (size < 1)
    return 0;
  method = methods[data[0] % 8];
  buf = malloc(size);
  memcpy(buf, data + 1, size - 1);
  buf[size - 1] = '\0'; /* MHD hands over NUL-terminated strings */
  q = strchr(buf, '?');
  if (q)
    *q++ = '\0';

  a = arena_new(0);
  if (!a)
    abort();
  got = http_route_match_for_test(a, method, buf, params);
  routes = http_routes(&n_routes);
  for (i = 0; i < n_routes; i++) {
    if (!seg_match(routes[i].pattern, buf, caps, cap_len, &n_caps))
      continue;
    if (strcmp(routes[i].method, method) == 0) {
      want = (int)i;
      break;
    }
    path_known = 1;
  }
  if (want < 0 && path_known)
    want = -2;
  if (got != want)
    abort();
  if (got >= 0) {
    for (k = 0; k < n_caps; k++)
      if (!params[k] || strlen(params[k]) != cap_len[k] ||
          memcmp(params[k], caps[k], cap_len[k]) != 0)
        abort();
    for (; k < VG_MAX_PATH_PARAMS; k++)
      if (params[k])
        abort();
  }
  arena_free(a);

  for (kv = q; kv; kv = next) {
    next = strchr(kv, '&');
    if (next)
      *next++ = '\0';
    q = strchr(kv, '=');
    query_value(q ? q + 1 : kv);
  }
  free(buf);
  return 0;
}
