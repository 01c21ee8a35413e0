/* api_common.c - helpers shared by the JSON API handlers. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "care_org.h"
#include "core_arena.h"
#include "core_errors.h"
#include "core_time.h"
#include "store.h"

int api_parse_object(struct vg_req *r, json_t **out)
{
  json_error_t jerr;
  json_t *j;
  *out = NULL;
  if (r->body_len == 0)
    return vg_fail(r, VG_EINVAL,
                   "request body is empty; expected a JSON object");
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

int api_path_id(struct vg_req *r, const char *what, int64_t *out)
{
  if (api_parse_id(r->params[0], out))
    return vg_fail(r, VG_ENOTFOUND, "no %s '%s'", what, r->params[0]);
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
                 "%s must be RFC 3339 with an offset or epoch milliseconds",
                 key);
}

void api_created(struct vg_req *r, const char *fmt, int64_t id)
{
  r->status = 201;
  r->location = arena_printf(r->arena, fmt, id);
}

/* ---- keyset lists -------------------------------------------------------- */

void api_page_item(struct api_page *pg, int64_t id)
{
  if (pg->n++)
    buf_putc(pg->out, ',');
  pg->last = id;
}

void api_next_cursor(struct vg_buf *out, size_t n_rows, size_t limit,
                     int64_t last)
{
  buf_puts(out, "\"next_cursor\":");
  if (n_rows == limit)
    buf_printf(out, "\"%lld\"}", (long long)last);
  else
    buf_puts(out, "null}");
}

int api_org_path(struct vg_req *r, int64_t id, char *path, size_t size)
{
  struct vg_txn *t;
  int rc;
  if (!id)
    return 0;
  rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc)
    return vg_fail(r, rc, "store unavailable");
  rc = care_org_path(t, id, path, size);
  store_rollback(t);
  if (rc)
    return vg_fail(r, rc, "no organization %lld", (long long)id);
  return 0;
}

/* ---- care-flow lists and state machines -------------------------------- */

void api_care_row(struct vg_buf *out, const char *const *names,
                  const struct vg_val *c, size_t n)
{
  buf_putc(out, '{');
  for (size_t i = 0; i < n && names[i]; i++) {
    const char *nm = names[i];
    if (i)
      buf_putc(out, ',');
    buf_json_str(out, nm + (nm[0] == '@'), strlen(nm + (nm[0] == '@')));
    buf_putc(out, ':');
    if (c[i].type == VG_VAL_INT)
      buf_json_int(out, c[i].i);
    else if (c[i].type == VG_VAL_REAL)
      buf_json_num(out, c[i].d);
    else if (c[i].type == VG_VAL_TEXT && nm[0] == '@') /* stored JSON */
      buf_append(out, c[i].s, c[i].len);
    else if (c[i].type == VG_VAL_TEXT)
      buf_json_str(out, c[i].s, c[i].len);
    else
      buf_puts(out, "null");
  }
  buf_putc(out, '}');
}

struct rows_ctx {
  struct vg_req *r;
  const char *const *names;
  size_t n, pid_col;
};

static int rows_cb(void *ctx, const struct vg_val *c, size_t n)
{
  struct rows_ctx *x = ctx;
  if (x->r->principal && !auth_patient_visible(NULL, x->r->principal,
                                               c[x->pid_col].i))
    return 0;
  if (x->n++)
    buf_putc(&x->r->out, ',');
  api_care_row(&x->r->out, x->names, c, n);
  return 0;
}

int api_care_list(struct vg_req *r, const char *key, const char *sql,
                  const struct vg_val *p, size_t n_p,
                  const char *const *names, size_t pid_col)
{
  struct rows_ctx x = {r, names, 0, pid_col};
  struct vg_txn *t;
  int rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc)
    return vg_fail(r, rc, "store unavailable");
  buf_printf(&r->out, "{\"%s\":[", key);
  rc = store_sql(t, sql, p, n_p, rows_cb, &x, NULL);
  store_rollback(t);
  if (rc < 0)
    return vg_fail(r, rc, "listing %s failed", key);
  buf_printf(&r->out, "],\"count\":%zu}", x.n);
  return 0;
}

void api_care_allowed(const struct api_care_tr *tab, size_t n,
                      const char *state, char *buf, size_t size)
{
  buf[0] = '\0';
  for (size_t i = 0; i < n; i++)
    if (strcmp(tab[i].from, state) == 0) {
      size_t l = strlen(buf);
      snprintf(buf + l, size - l, "%s%s", l ? ", " : "", tab[i].action);
    }
  if (!buf[0])
    snprintf(buf, size, "none (final state)");
}

int api_care_id_out(void *ctx, const struct vg_val *c, size_t n)
{
  if (n && c[0].type == VG_VAL_INT)
    *(int64_t *)ctx = c[0].i;
  return 0;
}
