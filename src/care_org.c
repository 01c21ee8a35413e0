/* care_org.c - region and people: the table-driven REST engine shared by
 * api_organizations/teams/households/contracts/conditions/visits.c, the
 * resource definitions, the organisation tree, patient merge and dates. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "care_org.h"
#include "core_alloc.h"
#include "core_arena.h"
#include "core_errors.h"
#include "core_log.h"
#include "core_time.h"
#include "store.h"
#include "store_writer.h"

/* ==== dates ============================================================== */

static int date_split(const char *d, int *y, int *m, int *day)
{
  int64_t ms;
  if (!d || strlen(d) != 10 || vg_date_parse(d, 10, &ms))
    return -VG_EINVAL;
  *y = (int)strtol(d, NULL, 10);
  *m = (int)strtol(d + 5, NULL, 10);
  *day = (int)strtol(d + 8, NULL, 10);
  return 0;
}

static int month_days(int y, int m)
{
  static const int n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : n[m - 1];
}

int care_date_add_months(const char *date, int months, char *out)
{
  int y, m, d, k;
  if (date_split(date, &y, &m, &d))
    return -VG_EINVAL;
  k = y * 12 + (m - 1) + months;
  y = k / 12;
  m = k % 12 + 1;
  if (d > month_days(y, m))
    d = month_days(y, m);
  {
    char tmp[40]; /* wide enough for any int, so no truncation warning */
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", y % 10000, m % 100, d % 100);
    memcpy(out, tmp, 10);
    out[10] = '\0';
  }
  return 0;
}

void care_date_of_ms(int64_t ms, char *out)
{
  char buf[40];
  vg_time_format(ms, VG_TZ_UNKNOWN, buf, sizeof buf);
  memcpy(out, buf, 10);
  out[10] = '\0';
}

int care_date_add_days(const char *date, int days, char *out)
{
  int64_t ms;
  if (!date || strlen(date) != 10 || vg_date_parse(date, 10, &ms))
    return -VG_EINVAL;
  care_date_of_ms(ms + (int64_t)days * 86400000LL, out);
  return 0;
}

/* ==== the REST engine ==================================================== */

int care_field_index(const struct care_resource *res, const char *name)
{
  for (size_t i = 0; i < res->n_fields; i++)
    if (strcmp(res->fields[i].name, name) == 0)
      return (int)i;
  return -1;
}

static int oneof_has(const char *const *oneof, const char *s)
{
  for (; *oneof; oneof++)
    if (strcmp(*oneof, s) == 0)
      return 1;
  return 0;
}

static void oneof_list(const char *const *oneof, char *buf, size_t size)
{
  size_t n = 0;
  buf[0] = '\0';
  for (; *oneof && n + 1 < size; oneof++)
    n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", *oneof);
}

/* A field's create default as a value. */
static struct vg_val field_default(const struct care_field *f)
{
  if (!f->def)
    return VG_NULLV;
  if (f->type == CF_INT || f->type == CF_BOOL)
    return VG_INT(strtoll(f->def, NULL, 10));
  if (f->type == CF_REAL)
    return VG_REAL(strtod(f->def, NULL));
  return VG_TEXT(f->def);
}

/* Parse body member j for field f into *v (text borrowed from j). */
static int field_parse(struct vg_req *r, const struct care_field *f, json_t *j,
                       struct vg_val *v)
{
  char allowed[256];
  if (json_is_null(j)) {
    if (f->flags & CF_REQUIRED)
      return vg_fail(r, VG_EINVAL, "\"%s\" must not be null", f->name);
    *v = VG_NULLV;
    return 0;
  }
  switch (f->type) {
  case CF_INT:
    if (!json_is_integer(j) || json_integer_value(j) <= 0)
      return vg_fail(r, VG_EINVAL, "\"%s\" must be a positive integer id",
                     f->name);
    *v = VG_INT(json_integer_value(j));
    return 0;
  case CF_BOOL:
    if (!json_is_boolean(j))
      return vg_fail(r, VG_EINVAL, "\"%s\" must be true or false", f->name);
    *v = VG_INT(json_is_true(j) ? 1 : 0);
    return 0;
  case CF_REAL:
    if (!json_is_number(j) || json_number_value(j) < f->lo ||
        json_number_value(j) > f->hi)
      return vg_fail(r, VG_EINVAL, "\"%s\" must be a number in %g..%g",
                     f->name, f->lo, f->hi);
    *v = VG_REAL(json_number_value(j));
    return 0;
  case CF_TIME: {
    int64_t ms;
    int16_t off;
    if (json_is_integer(j)) {
      *v = VG_INT(json_integer_value(j));
      return 0;
    }
    if (!json_is_string(j) || vg_time_parse(json_string_value(j),
                                            json_string_length(j), &ms, &off))
      return vg_fail(r, VG_EINVAL, "\"%s\" must be RFC 3339 with an offset or "
                     "epoch milliseconds", f->name);
    *v = VG_INT(ms);
    return 0;
  }
  case CF_DATE: {
    int y, m, d;
    if (!json_is_string(j) || date_split(json_string_value(j), &y, &m, &d))
      return vg_fail(r, VG_EINVAL, "\"%s\" must be a date YYYY-MM-DD",
                     f->name);
    *v = VG_TEXT(json_string_value(j));
    return 0;
  }
  case CF_TEXT:
    if (!json_is_string(j))
      return vg_fail(r, VG_EINVAL, "\"%s\" must be a string", f->name);
    if (json_string_length(j) > (f->max_len ? f->max_len : 256))
      return vg_fail(r, VG_EINVAL, "\"%s\" is longer than %zu bytes", f->name,
                     f->max_len ? f->max_len : 256);
    if (strlen(json_string_value(j)) != json_string_length(j))
      return vg_fail(r, VG_EINVAL, "\"%s\" contains NUL", f->name);
    if (f->oneof && !oneof_has(f->oneof, json_string_value(j))) {
      oneof_list(f->oneof, allowed, sizeof allowed);
      return vg_fail(r, VG_EINVAL, "\"%s\" must be one of: %s", f->name,
                     allowed);
    }
    *v = VG_TEXT(json_string_value(j));
    return 0;
  }
  return vg_fail(r, VG_EINTERNAL, "field type");
}

/* Reject members the resource does not know (typos must not pass). */
static int body_known(struct vg_req *r, const struct care_resource *res,
                      json_t *body, const char *const *extra)
{
  const char *key;
  json_t *v;
  json_object_foreach(body, key, v) {
    int i = care_field_index(res, key);
    if (i >= 0 && !(res->fields[i].flags & CF_INTERNAL))
      continue;
    if (extra && oneof_has(extra, key))
      continue;
    return vg_fail(r, VG_EINVAL, "unknown member \"%s\" for %s", key,
                   res->name);
  }
  return 0;
}

static const char *const body_extras[] = {"members", "version", "id",
                                          "created", "updated", NULL};

int care_row_json(const struct care_resource *res, const struct vg_val *cols,
                  size_t n_cols, struct vg_buf *out)
{
  char tbuf[40];
  size_t n = res->n_fields;
  if (n_cols < n + 4)
    return -VG_EINTERNAL;
  buf_puts(out, "{\"id\":");
  buf_json_int(out, cols[n].i);
  for (size_t i = 0; i < n; i++) {
    const struct care_field *f = &res->fields[i];
    const struct vg_val *c = &cols[i];
    buf_printf(out, ",\"%s\":", f->name);
    if (c->type == VG_VAL_NULL) {
      buf_puts(out, "null");
    } else if (f->type == CF_BOOL) {
      buf_puts(out, c->i ? "true" : "false");
    } else if (f->type == CF_TIME) {
      vg_time_format(c->i, VG_TZ_UNKNOWN, tbuf, sizeof tbuf);
      buf_json_str(out, tbuf, strlen(tbuf));
    } else if (c->type == VG_VAL_INT) {
      if (f->type == CF_REAL)
        buf_json_num(out, (double)c->i);
      else
        buf_json_int(out, c->i);
    } else if (c->type == VG_VAL_REAL) {
      buf_json_num(out, c->d);
    } else {
      buf_json_str(out, c->s, c->len);
    }
  }
  buf_puts(out, ",\"version\":");
  buf_json_int(out, cols[n + 1].i);
  vg_time_format(cols[n + 2].i, VG_TZ_UNKNOWN, tbuf, sizeof tbuf);
  buf_puts(out, ",\"created\":");
  buf_json_str(out, tbuf, strlen(tbuf));
  vg_time_format(cols[n + 3].i, VG_TZ_UNKNOWN, tbuf, sizeof tbuf);
  buf_puts(out, ",\"updated\":");
  buf_json_str(out, tbuf, strlen(tbuf));
  if (res->row_extra)
    res->row_extra(cols, out);
  return buf_putc(out, '}');
}

/* Copy a row's columns with text duplicated into an arena. */
struct load_ctx {
  struct vg_arena *arena;
  struct vg_val *cols;
  size_t want;
  int found;
};

static int load_row(void *ctx, const struct vg_val *cols, size_t n)
{
  struct load_ctx *c = ctx;
  for (size_t i = 0; i < n && i < c->want; i++) {
    c->cols[i] = cols[i];
    if (cols[i].type == VG_VAL_TEXT) {
      c->cols[i].s = arena_strndup(c->arena, cols[i].s, cols[i].len);
      if (!c->cols[i].s)
        return -VG_ENOMEM;
    }
  }
  c->found = 1;
  return 1;
}

int care_res_load(struct vg_req *r, struct vg_txn *t,
                  const struct care_resource *res, int64_t id,
                  struct vg_val *cols)
{
  struct load_ctx c = {r->arena, cols, res->n_fields + 4, 0};
  struct vg_val p = VG_INT(id);
  int rc = store_sql(t, res->sql_get, &p, 1, load_row, &c, NULL);
  if (rc < 0)
    return rc;
  return c.found ? 0 : -VG_ENOTFOUND;
}

struct write_job {
  struct vg_req *r;
  const struct care_resource *res;
  json_t *body;
  const struct care_preset *preset;
  size_t n_preset;
  int64_t id;
  int64_t expected;
  int from_header;
  int (*guard)(struct vg_req *r, const struct vg_val *cols);
  int64_t current; /* OUT: version found on a mismatch */
};

static int apply_preset(struct write_job *j, struct vg_val *vals)
{
  for (size_t k = 0; k < j->n_preset; k++) {
    int i = care_field_index(j->res, j->preset[k].name);
    if (i < 0)
      return vg_fail(j->r, VG_EINTERNAL, "preset %s", j->preset[k].name);
    vals[i] = j->preset[k].v;
  }
  return 0;
}

static int id_row(void *ctx, const struct vg_val *cols, size_t n)
{
  if (n >= 1 && cols[0].type == VG_VAL_INT)
    *(int64_t *)ctx = cols[0].i;
  return 0;
}

static int store_fail(struct vg_req *r, const struct care_resource *res,
                      int rc)
{
  if (rc == -VG_ENOTFOUND)
    return vg_fail(r, VG_EUNPROC, "%s refers to a missing record", res->name);
  if (rc == -VG_ECONFLICT)
    return vg_fail(r, VG_ECONFLICT, "%s conflicts with an existing record",
                   res->name);
  if (rc == -VG_EINVAL)
    return vg_fail(r, VG_EINVAL, "%s breaks a table rule", res->name);
  return vg_fail(r, rc, "%s not stored: %s", res->name, vg_strerror(rc));
}

static int job_create(struct vg_txn *t, void *ctx)
{
  struct write_job *j = ctx;
  const struct care_resource *res = j->res;
  struct vg_val vals[CARE_FIELDS_MAX + 1];
  size_t n = res->n_fields;
  int rc;
  j->id = 0;
  for (size_t i = 0; i < n; i++) {
    const struct care_field *f = &res->fields[i];
    json_t *m = (f->flags & CF_INTERNAL) ? NULL
                                         : json_object_get(j->body, f->name);
    vals[i] = field_default(f);
    if (m) {
      if (field_parse(j->r, f, m, &vals[i]))
        return j->r->err;
    } else if ((f->flags & CF_REQUIRED) && !(f->flags & CF_INTERNAL)) {
      return vg_fail(j->r, VG_EINVAL, "\"%s\" is required", f->name);
    }
  }
  if (apply_preset(j, vals))
    return j->r->err;
  if (res->check && res->check(j->r, t, vals, 0))
    return j->r->err ? j->r->err : -VG_EINVAL;
  vals[n] = VG_INT(vg_now_ms());
  rc = store_sql(t, res->sql_insert, vals, n + 1, id_row, &j->id, NULL);
  if (rc < 0)
    return store_fail(j->r, res, rc);
  if (res->after && res->after(j->r, t, j->body, j->id))
    return j->r->err ? j->r->err : -VG_EINVAL;
  return 0;
}

/* ETag: "<version>" on every answered row. A GET whose If-None-Match
 * names that tag (or "*") gets 304 without a body: returns 1. */
static int set_etag(struct vg_req *r, int64_t version)
{
  char *tag = arena_alloc(r->arena, 24);
  const char *inm;
  if (!tag)
    return 0; /* the row still goes out, without its tag */
  snprintf(tag, 24, "\"%lld\"", (long long)version);
  http_set_header(r, "ETag", tag);
  inm = http_header(r, "If-None-Match");
  if (!inm || strcmp(r->method, "GET") != 0)
    return 0;
  if (strncmp(inm, "W/", 2) == 0)
    inm += 2;
  if (strcmp(inm, tag) != 0 && strcmp(inm, "*") != 0)
    return 0;
  buf_reset(&r->out);
  r->status = 304;
  return 1;
}

/* Answer the stored row of id (a fresh READ transaction). */
static int answer_row(struct vg_req *r, const struct care_resource *res,
                      int64_t id,
                      int (*guard)(struct vg_req *r, const struct vg_val *c))
{
  struct vg_val cols[CARE_FIELDS_MAX + 4];
  struct vg_txn *t;
  int rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc)
    return vg_fail(r, rc, "store unavailable");
  rc = care_res_load(r, t, res, id, cols);
  if (rc == 0 && guard && guard(r, cols)) {
    store_rollback(t);
    return r->err ? r->err : vg_fail(r, VG_ENOTFOUND, "no %s", res->name);
  }
  if (rc == 0 && set_etag(r, cols[res->n_fields + 1].i)) {
    store_rollback(t);
    return 0; /* 304: the client's copy is current */
  }
  if (rc == 0) {
    buf_reset(&r->out);
    care_row_json(res, cols, res->n_fields + 4, &r->out);
    if (res->extra) {
      r->out.len--; /* reopen the object */
      rc = res->extra(t, id, &r->out);
      buf_putc(&r->out, '}');
    }
  }
  store_rollback(t);
  if (rc == -VG_ENOTFOUND)
    return vg_fail(r, rc, "no %s %lld", res->name, (long long)id);
  if (rc)
    return vg_fail(r, rc, "reading %s failed", res->name);
  return 0;
}

int care_res_create(struct vg_req *r, const struct care_resource *res,
                    const struct care_preset *preset, size_t n_preset,
                    int64_t *out_id)
{
  struct write_job j = {0};
  int rc;
  j.r = r;
  j.res = res;
  j.preset = preset;
  j.n_preset = n_preset;
  if (api_parse_object(r, &j.body))
    return r->err;
  if (body_known(r, res, j.body, body_extras)) {
    json_decref(j.body);
    return r->err;
  }
  rc = writer_exec(r->app->writer, 1, job_create, &j);
  json_decref(j.body);
  if (rc)
    return r->err ? r->err : vg_fail(r, rc, "%s not stored", res->name);
  if (out_id)
    *out_id = j.id;
  rc = answer_row(r, res, j.id, NULL);
  api_created(r, res->path, j.id);
  return rc;
}

int care_res_get(struct vg_req *r, const struct care_resource *res,
                 int64_t id,
                 int (*guard)(struct vg_req *r, const struct vg_val *cols))
{
  return answer_row(r, res, id, guard);
}

/* Version from If-Match: "3", W/"3" or 3. 1 found, 0 absent, -1 bad. */
static int if_match(struct vg_req *r, int64_t *out)
{
  const char *h = http_header(r, "If-Match");
  char *end;
  long long v;
  if (!h)
    return 0;
  if (strncmp(h, "W/", 2) == 0)
    h += 2;
  if (*h == '"')
    h++;
  errno = 0;
  v = strtoll(h, &end, 10);
  if (errno || end == h || v <= 0 || (*end && strcmp(end, "\"") != 0))
    return -1;
  *out = v;
  return 1;
}

static int job_update(struct vg_txn *t, void *ctx)
{
  struct write_job *j = ctx;
  const struct care_resource *res = j->res;
  struct vg_val cols[CARE_FIELDS_MAX + 4], vals[CARE_FIELDS_MAX + 3];
  size_t n = res->n_fields;
  int64_t changes = 0;
  int rc = care_res_load(j->r, t, res, j->id, cols);
  if (rc == -VG_ENOTFOUND)
    return vg_fail(j->r, VG_ENOTFOUND, "no %s %lld", res->name,
                   (long long)j->id);
  if (rc)
    return vg_fail(j->r, rc, "reading %s failed", res->name);
  if (j->guard && j->guard(j->r, cols))
    return j->r->err ? j->r->err : -VG_EFORBIDDEN;
  if (cols[n + 1].i != j->expected) {
    j->current = cols[n + 1].i;
    return vg_fail(j->r, j->from_header ? VG_EPRECOND : VG_ECONFLICT,
                   "%s %lld is at version %lld, not %lld", res->name,
                   (long long)j->id, (long long)cols[n + 1].i,
                   (long long)j->expected);
  }
  for (size_t i = 0; i < n; i++) {
    const struct care_field *f = &res->fields[i];
    json_t *m = (f->flags & CF_INTERNAL) ? NULL
                                         : json_object_get(j->body, f->name);
    vals[i] = cols[i];
    if (!m)
      continue;
    if (field_parse(j->r, f, m, &vals[i]))
      return j->r->err;
    if (f->flags & CF_FIXED) {
      int same = vals[i].type == cols[i].type &&
                 (vals[i].type == VG_VAL_TEXT
                      ? vals[i].len == cols[i].len &&
                            memcmp(vals[i].s, cols[i].s, cols[i].len) == 0
                      : vals[i].i == cols[i].i);
      if (!same)
        return vg_fail(j->r, VG_EUNPROC, "\"%s\" cannot be changed",
                       f->name);
    }
  }
  if (res->check && res->check(j->r, t, vals, j->id))
    return j->r->err ? j->r->err : -VG_EINVAL;
  vals[n] = VG_INT(vg_now_ms());
  vals[n + 1] = VG_INT(j->id);
  vals[n + 2] = VG_INT(j->expected);
  rc = store_sql(t, res->sql_update, vals, n + 3, NULL, NULL, &changes);
  if (rc < 0)
    return store_fail(j->r, res, rc);
  if (changes != 1)
    return vg_fail(j->r, VG_ECONFLICT, "%s %lld changed meanwhile", res->name,
                   (long long)j->id);
  if (res->after && res->after(j->r, t, j->body, j->id))
    return j->r->err ? j->r->err : -VG_EINVAL;
  return 0;
}

int care_res_update(struct vg_req *r, const struct care_resource *res,
                    int64_t id,
                    int (*guard)(struct vg_req *r, const struct vg_val *cols))
{
  struct write_job j = {0};
  json_t *v;
  int rc, hm;
  j.r = r;
  j.res = res;
  j.id = id;
  j.guard = guard;
  if (api_parse_object(r, &j.body))
    return r->err;
  if (body_known(r, res, j.body, body_extras))
    goto fail;
  hm = if_match(r, &j.expected);
  v = json_object_get(j.body, "version");
  if (hm < 0) {
    vg_fail(r, VG_EPRECOND, "If-Match must be a version, e.g. \"3\"");
    goto fail;
  }
  if (hm > 0) {
    j.from_header = 1;
  } else if (v && json_is_integer(v)) {
    j.expected = json_integer_value(v);
  } else {
    vg_fail(r, VG_EPRECOND, "send If-Match with the version read (or a "
            "\"version\" member)");
    goto fail;
  }
  rc = writer_exec(r->app->writer, 1, job_update, &j);
  if (rc) {
    if (!r->err)
      vg_fail(r, rc, "%s not updated", res->name);
    goto fail;
  }
  json_decref(j.body);
  return answer_row(r, res, id, NULL);
fail:
  json_decref(j.body);
  return r->err;
}

struct list_ctx {
  struct vg_req *r;
  const struct care_resource *res;
  int (*filter)(struct vg_req *r, const struct vg_val *cols);
  size_t n, rows;
  int64_t last;
};

static int list_row(void *ctx, const struct vg_val *cols, size_t n)
{
  struct list_ctx *c = ctx;
  c->rows++;
  c->last = cols[c->res->n_fields].i;
  if (c->filter && !c->filter(c->r, cols))
    return 0;
  if (c->n++)
    buf_putc(&c->r->out, ',');
  return care_row_json(c->res, cols, n, &c->r->out);
}

int care_res_list(struct vg_req *r, const struct care_resource *res,
                  const char *key, const char *sql,
                  const struct vg_val *params, size_t n_params, size_t limit,
                  int (*filter)(struct vg_req *r, const struct vg_val *cols))
{
  struct list_ctx c = {r, res, filter, 0, 0, 0};
  struct vg_txn *t;
  int rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc)
    return vg_fail(r, rc, "store unavailable");
  buf_printf(&r->out, "{\"%s\":[", key);
  rc = store_sql(t, sql, params, n_params, list_row, &c, NULL);
  store_rollback(t);
  if (rc)
    return vg_fail(r, rc < 0 ? rc : VG_EINTERNAL, "listing %s failed", key);
  buf_puts(&r->out, "],");
  api_next_cursor(&r->out, c.rows, limit, c.last);
  return 0;
}

/* Matches no patient, but names $1 and $2 so PostgreSQL can type them. */
static const char no_set_sql[] =
    "SELECT CAST($1 AS BIGINT) WHERE CAST($2 AS BIGINT) IS NULL";

int care_list_scope(struct vg_req *r, const char *const *parts,
                    size_t n_parts, const char **out_sql,
                    struct vg_val *vals)
{
  const struct vg_principal *p = r->principal;
  const char *set = p ? auth_visible_sql(p) : NULL;
  int all = auth_sees_all_patients(p);
  size_t len = 1, set_len;
  char *sql, *w;
  *out_sql = NULL;
  if (!all && !set)
    return vg_fail(r, VG_EFORBIDDEN, "listing these records is not "
                   "permitted");
  if (all || !set)
    set = no_set_sql;
  set_len = strlen(set);
  for (size_t i = 0; i < n_parts; i++)
    len += strlen(parts[i]) + (i + 1 < n_parts ? set_len : 0);
  sql = arena_alloc(r->arena, len);
  if (!sql)
    return vg_fail(r, VG_ENOMEM, "no memory");
  w = sql;
  for (size_t i = 0; i < n_parts; i++) {
    size_t n = strlen(parts[i]);
    memcpy(w, parts[i], n);
    w += n;
    if (i + 1 < n_parts) {
      memcpy(w, set, set_len);
      w += set_len;
    }
  }
  *w = '\0';
  vals[0] = VG_INT(p ? p->user_id : 0);
  vals[1] = VG_INT(p ? p->org_id : 0);
  vals[2] = VG_INT(all);
  *out_sql = sql;
  return 0;
}

struct member_ctx {
  struct vg_req *r;
  int seen;
};

static int member_visible_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct member_ctx *m = ctx;
  if (n >= 1 && c[0].type == VG_VAL_INT &&
      auth_patient_visible(NULL, m->r->principal, c[0].i)) {
    m->seen = 1;
    m->r->audit_patient = c[0].i;
    return 1; /* one is enough */
  }
  return 0;
}

int care_household_visible(struct vg_req *r, struct vg_txn *t, int64_t id)
{
  struct member_ctx m = {r, 0};
  struct vg_val v = VG_INT(id);
  if (auth_sees_all_patients(r->principal))
    return 1;
  if (store_sql(t, "SELECT patient_id FROM household_member WHERE "
                "household_id = $1 ORDER BY patient_id", &v, 1,
                member_visible_row, &m, NULL) < 0)
    return 0;
  return m.seen;
}

int care_query_id(struct vg_req *r, const char *key, int64_t *out)
{
  const char *s = http_query(r, key);
  *out = 0;
  if (s && api_parse_id(s, out))
    return vg_fail(r, VG_EINVAL, "%s must be a positive id", key);
  return 0;
}

int care_query_oneof(struct vg_req *r, const char *key,
                     const char *const *oneof, const char **out)
{
  const char *s = http_query(r, key);
  char allowed[256];
  *out = "";
  if (!s)
    return 0;
  if (!oneof_has(oneof, s)) {
    oneof_list(oneof, allowed, sizeof allowed);
    return vg_fail(r, VG_EINVAL, "%s must be one of: %s", key, allowed);
  }
  *out = s;
  return 0;
}

/* ==== organisations ====================================================== */

static const char *const org_levels[] = {"village_clinic",
  "community_health_centre", "county_hospital", "tertiary_hospital", NULL};

static const struct care_field org_fields[] = {
  {"name", CF_TEXT, CF_REQUIRED, NULL, NULL, 0, 0, 200},
  {"level", CF_TEXT, CF_REQUIRED, NULL, org_levels, 0, 0, 0},
  {"parent", CF_INT, 0, NULL, NULL, 0, 0, 0},
  {"code", CF_TEXT, 0, NULL, NULL, 0, 0, 64},
  {"path", CF_TEXT, CF_INTERNAL, "", NULL, 0, 0, 0},
};

struct path_ctx {
  char *out;
  size_t size;
  int found;
};

static int path_row(void *ctx, const struct vg_val *cols, size_t n)
{
  struct path_ctx *c = ctx;
  if (n < 1 || cols[0].type != VG_VAL_TEXT || cols[0].len >= c->size)
    return -VG_EINTERNAL;
  memcpy(c->out, cols[0].s, cols[0].len);
  c->out[cols[0].len] = '\0';
  c->found = 1;
  return 0;
}

int care_org_path(struct vg_txn *t, int64_t id, char *out, size_t size)
{
  struct path_ctx c = {out, size, 0};
  struct vg_val p = VG_INT(id);
  int rc = store_sql(t, "SELECT path FROM organization WHERE id = $1", &p, 1,
                     path_row, &c, NULL);
  if (rc)
    return rc;
  return c.found ? 0 : -VG_ENOTFOUND;
}

/* The parent must exist and, on a move, not lie in the org's own subtree;
 * the path becomes parent path + id (set after insert for a new org). */
static int org_check(struct vg_req *r, struct vg_txn *t, struct vg_val *vals,
                     int64_t id)
{
  char ppath[512], own[64], *path = arena_alloc(r->arena, 600);
  int rc;
  if (!path)
    return vg_fail(r, VG_ENOMEM, "no memory");
  if (vals[2].type == VG_VAL_NULL) {
    if (id)
      snprintf(path, 600, "/%lld/", (long long)id);
    else
      snprintf(path, 600, "/"); /* + id after insert */
  } else {
    rc = care_org_path(t, vals[2].i, ppath, sizeof ppath);
    if (rc == -VG_ENOTFOUND)
      return vg_fail(r, VG_EUNPROC, "no parent organization %lld",
                     (long long)vals[2].i);
    if (rc)
      return vg_fail(r, rc, "reading the parent failed");
    snprintf(own, sizeof own, "/%lld/", (long long)id);
    if (id && strstr(ppath, own))
      return vg_fail(r, VG_EUNPROC, "organization %lld cannot move under "
                     "its own subtree", (long long)id);
    if (id)
      snprintf(path, 600, "%s%lld/", ppath, (long long)id);
    else
      snprintf(path, 600, "%s", ppath); /* + id after insert */
  }
  vals[4] = VG_TEXT(path);
  if (id) {
    /* Move descendants along (a no-op when the path is unchanged). */
    char old[512];
    struct vg_val p[3];
    rc = care_org_path(t, id, old, sizeof old);
    if (rc)
      return vg_fail(r, rc, "reading the organization failed");
    if (strcmp(old, path) != 0) {
      p[0] = VG_TEXT(path);
      p[1] = VG_TEXT(old);
      p[2] = VG_INT((int64_t)strlen(old) + 1);
      rc = store_sql(t, "UPDATE organization SET path = $1 || substr(path, "
                     "$3) WHERE path LIKE $2 || '%' AND path <> $2", p, 3,
                     NULL, NULL, NULL);
      if (rc)
        return vg_fail(r, rc, "moving the subtree failed");
    }
  }
  return 0;
}

static int org_after(struct vg_req *r, struct vg_txn *t, json_t *body,
                     int64_t id)
{
  struct vg_val p = VG_INT(id);
  int rc;
  (void)body;
  rc = store_sql(t, "UPDATE organization SET path = path || CAST(id AS TEXT)"
                 " || '/' WHERE id = $1 AND path NOT LIKE '%/' || CAST(id AS"
                 " TEXT) || '/'", &p, 1, NULL, NULL, NULL);
  if (rc)
    return vg_fail(r, rc, "setting the organization path failed");
  return 0;
}

const struct care_resource care_res_organization = {
  "organization", "/api/v1/organizations/%lld", org_fields, 5,
  "INSERT INTO organization (name, level, parent_id, code, path, created_ms,"
  " updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
  "SELECT name, level, parent_id, code, path, id, version, created_ms, "
  "updated_ms FROM organization WHERE id = $1",
  "UPDATE organization SET name = $1, level = $2, parent_id = $3, code = $4,"
  " path = $5, version = version + 1, updated_ms = $6 WHERE id = $7 AND "
  "version = $8",
  org_check, org_after, NULL, NULL};

/* ==== care teams ========================================================= */

static const char *const member_roles[] = {"gp", "nurse", "public_health",
                                           "specialist", NULL};

static const struct care_field team_fields[] = {
  {"name", CF_TEXT, CF_REQUIRED, NULL, NULL, 0, 0, 200},
  {"org", CF_INT, CF_REQUIRED, NULL, NULL, 0, 0, 0},
};

/* Replace the team's members when the body has "members":
 * [{"user": id, "role": "gp|nurse|public_health|specialist", "lead": b}]. */
static int team_after(struct vg_req *r, struct vg_txn *t, json_t *body,
                      int64_t id)
{
  json_t *ms = json_object_get(body, "members"), *m;
  size_t i;
  int rc;
  struct vg_val p[4];
  if (!ms)
    return 0;
  if (!json_is_array(ms) || json_array_size(ms) > 64)
    return vg_fail(r, VG_EINVAL, "\"members\" must be an array of at most 64");
  p[0] = VG_INT(id);
  rc = store_sql(t, "DELETE FROM care_team_member WHERE team_id = $1", p, 1,
                 NULL, NULL, NULL);
  if (rc)
    return vg_fail(r, rc, "replacing members failed");
  json_array_foreach(ms, i, m) {
    json_t *u = json_object_get(m, "user"), *ro = json_object_get(m, "role");
    json_t *lead = json_object_get(m, "lead");
    if (!json_is_object(m) || !json_is_integer(u) || !json_is_string(ro) ||
        !oneof_has(member_roles, json_string_value(ro)) ||
        (lead && !json_is_boolean(lead)))
      return vg_fail(r, VG_EINVAL, "members[%zu] must be {\"user\": id, "
                     "\"role\": gp|nurse|public_health|specialist, "
                     "\"lead\": bool}", i);
    p[1] = VG_INT(json_integer_value(u));
    p[2] = VG_TEXT(json_string_value(ro));
    p[3] = VG_INT(json_is_true(lead) ? 1 : 0);
    rc = store_sql(t, "INSERT INTO care_team_member (team_id, user_id, role,"
                   " lead) VALUES ($1, $2, $3, $4)", p, 4, NULL, NULL, NULL);
    if (rc == -VG_ENOTFOUND)
      return vg_fail(r, VG_EUNPROC, "members[%zu]: no user %lld", i,
                     (long long)json_integer_value(u));
    if (rc == -VG_ECONFLICT)
      return vg_fail(r, VG_EINVAL, "members[%zu]: user listed twice", i);
    if (rc)
      return vg_fail(r, rc, "storing members failed");
  }
  return 0;
}

struct members_ctx {
  struct vg_buf *out;
  size_t n;
};

static int team_member_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct members_ctx *m = ctx;
  if (n < 4)
    return -VG_EINTERNAL;
  buf_puts(m->out, m->n++ ? ",{\"user\":" : "{\"user\":");
  buf_json_int(m->out, c[0].i);
  buf_puts(m->out, ",\"username\":");
  buf_json_str(m->out, c[3].type == VG_VAL_TEXT ? c[3].s : "",
               c[3].type == VG_VAL_TEXT ? c[3].len : 0);
  buf_puts(m->out, ",\"role\":");
  buf_json_str(m->out, c[1].s, c[1].len);
  buf_puts(m->out, c[2].i ? ",\"lead\":true}" : ",\"lead\":false}");
  return 0;
}

static int team_extra(struct vg_txn *t, int64_t id, struct vg_buf *out)
{
  struct members_ctx m = {out, 0};
  struct vg_val p = VG_INT(id);
  int rc;
  buf_puts(out, ",\"members\":[");
  rc = store_sql(t, "SELECT m.user_id, m.role, m.lead, u.username FROM "
                 "care_team_member m LEFT JOIN app_user u ON u.id = m.user_id"
                 " WHERE m.team_id = $1 ORDER BY m.user_id", &p, 1,
                 team_member_row, &m, NULL);
  buf_putc(out, ']');
  return rc;
}

static int team_check(struct vg_req *r, struct vg_txn *t, struct vg_val *vals,
                      int64_t id)
{
  char path[512];
  int rc = care_org_path(t, vals[1].i, path, sizeof path);
  (void)id;
  if (rc == -VG_ENOTFOUND)
    return vg_fail(r, VG_EUNPROC, "no organization %lld", (long long)vals[1].i);
  return rc ? vg_fail(r, rc, "reading the organization failed") : 0;
}

const struct care_resource care_res_team = {
  "team", "/api/v1/teams/%lld", team_fields, 2,
  "INSERT INTO care_team (name, org_id, created_ms, updated_ms) VALUES ($1,"
  " $2, $3, $3) RETURNING id",
  "SELECT name, org_id, id, version, created_ms, updated_ms FROM care_team "
  "WHERE id = $1",
  "UPDATE care_team SET name = $1, org_id = $2, version = version + 1, "
  "updated_ms = $3 WHERE id = $4 AND version = $5",
  team_check, team_after, team_extra, NULL};

/* ==== households ========================================================= */

static const char *const priority_tags[] = {"pregnant", "disability",
  "low_income", "tuberculosis", "severe_mental_illness", "child", NULL};

static const struct care_field household_fields[] = {
  {"name", CF_TEXT, 0, "", NULL, 0, 0, 200},
  {"address", CF_TEXT, 0, "", NULL, 0, 0, 400},
  {"org", CF_INT, CF_REQUIRED, NULL, NULL, 0, 0, 0},
};

static int household_check(struct vg_req *r, struct vg_txn *t,
                           struct vg_val *vals, int64_t id)
{
  char path[512];
  int rc = care_org_path(t, vals[2].i, path, sizeof path);
  (void)id;
  if (rc == -VG_ENOTFOUND)
    return vg_fail(r, VG_EUNPROC, "no organization %lld", (long long)vals[2].i);
  return rc ? vg_fail(r, rc, "reading the organization failed") : 0;
}

/* "members": [{"patient": id, "relation": "head|spouse|...", "priority":
 * ["low_income", ...]}] replaces the household's members. A patient in
 * another household is a conflict (move them out there first). */
static int household_after(struct vg_req *r, struct vg_txn *t, json_t *body,
                           int64_t id)
{
  json_t *ms = json_object_get(body, "members"), *m, *tag;
  struct vg_val p[4];
  size_t i, k;
  int rc;
  if (!ms)
    return 0;
  if (!json_is_array(ms) || json_array_size(ms) > 64)
    return vg_fail(r, VG_EINVAL, "\"members\" must be an array of at most 64");
  p[0] = VG_INT(id);
  rc = store_sql(t, "DELETE FROM household_member WHERE household_id = $1",
                 p, 1, NULL, NULL, NULL);
  if (rc)
    return vg_fail(r, rc, "replacing members failed");
  json_array_foreach(ms, i, m) {
    json_t *pid = json_object_get(m, "patient");
    json_t *rel = json_object_get(m, "relation");
    json_t *pri = json_object_get(m, "priority");
    char tags[256] = "";
    size_t tl = 0;
    if (!json_is_object(m) || !json_is_integer(pid) ||
        (rel && (!json_is_string(rel) || json_string_length(rel) > 32)) ||
        (pri && !json_is_array(pri)))
      return vg_fail(r, VG_EINVAL, "members[%zu] must be {\"patient\": id, "
                     "\"relation\": text, \"priority\": [tags]}", i);
    json_array_foreach(pri, k, tag) {
      if (!json_is_string(tag) ||
          !oneof_has(priority_tags, json_string_value(tag)))
        return vg_fail(r, VG_EINVAL, "members[%zu].priority: tags are "
                       "pregnant, disability, low_income, tuberculosis, "
                       "severe_mental_illness, child", i);
      tl += (size_t)snprintf(tags + tl, sizeof tags - tl, "%s%s",
                             tl ? " " : "", json_string_value(tag));
      if (tl >= sizeof tags)
        return vg_fail(r, VG_EINVAL, "members[%zu].priority too long", i);
    }
    p[1] = VG_INT(json_integer_value(pid));
    p[2] = VG_TEXT(rel ? json_string_value(rel) : "");
    p[3] = VG_TEXT(tags);
    rc = store_sql(t, "INSERT INTO household_member (household_id, "
                   "patient_id, relation, priority) VALUES ($1, $2, $3, $4)",
                   p, 4, NULL, NULL, NULL);
    if (rc == -VG_ENOTFOUND)
      return vg_fail(r, VG_EUNPROC, "members[%zu]: no patient %lld", i,
                     (long long)json_integer_value(pid));
    if (rc == -VG_ECONFLICT)
      return vg_fail(r, VG_ECONFLICT, "members[%zu]: patient %lld already "
                     "belongs to a household", i,
                     (long long)json_integer_value(pid));
    if (rc)
      return vg_fail(r, rc, "storing members failed");
  }
  return 0;
}

static int household_member_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct members_ctx *m = ctx;
  const char *s, *e;
  int first = 1;
  if (n < 3)
    return -VG_EINTERNAL;
  buf_puts(m->out, m->n++ ? ",{\"patient\":" : "{\"patient\":");
  buf_json_int(m->out, c[0].i);
  buf_puts(m->out, ",\"relation\":");
  buf_json_str(m->out, c[1].s, c[1].len);
  buf_puts(m->out, ",\"priority\":[");
  for (s = c[2].s, e = c[2].s + c[2].len; s < e;) {
    const char *sp = memchr(s, ' ', (size_t)(e - s));
    size_t len = sp ? (size_t)(sp - s) : (size_t)(e - s);
    if (len) {
      if (!first)
        buf_putc(m->out, ',');
      buf_json_str(m->out, s, len);
      first = 0;
    }
    s += len + 1;
  }
  buf_puts(m->out, "]}");
  return 0;
}

static int household_extra(struct vg_txn *t, int64_t id, struct vg_buf *out)
{
  struct members_ctx m = {out, 0};
  struct vg_val p = VG_INT(id);
  int rc;
  buf_puts(out, ",\"members\":[");
  rc = store_sql(t, "SELECT patient_id, relation, priority FROM "
                 "household_member WHERE household_id = $1 ORDER BY "
                 "patient_id", &p, 1, household_member_row, &m, NULL);
  buf_putc(out, ']');
  return rc;
}

const struct care_resource care_res_household = {
  "household", "/api/v1/households/%lld", household_fields, 3,
  "INSERT INTO household (name, address, org_id, created_ms, updated_ms) "
  "VALUES ($1, $2, $3, $4, $4) RETURNING id",
  "SELECT name, address, org_id, id, version, created_ms, updated_ms FROM "
  "household WHERE id = $1",
  "UPDATE household SET name = $1, address = $2, org_id = $3, version = "
  "version + 1, updated_ms = $4 WHERE id = $5 AND version = $6",
  household_check, household_after, household_extra, NULL};

/* ==== contracts ========================================================== */

static const char *const contract_status[] = {"active", "terminated", NULL};

static const struct care_field contract_fields[] = {
  {"team", CF_INT, CF_REQUIRED | CF_FIXED, NULL, NULL, 0, 0, 0},
  {"household", CF_INT, CF_FIXED, NULL, NULL, 0, 0, 0},
  {"patient", CF_INT, CF_FIXED, NULL, NULL, 0, 0, 0},
  {"signed_date", CF_DATE, CF_REQUIRED, NULL, NULL, 0, 0, 0},
  {"term_months", CF_INT, 0, "12", NULL, 0, 0, 0},
  {"end_date", CF_DATE, CF_INTERNAL, NULL, NULL, 0, 0, 0},
  {"status", CF_TEXT, 0, "active", contract_status, 0, 0, 0},
};

/* Renewal is due from this many days before the end of the term (the 2016
 * guidance signs for one year, renewable; the lead time is our choice). */
#define CONTRACT_RENEWAL_LEAD_DAYS 30

static int contract_check(struct vg_req *r, struct vg_txn *t,
                          struct vg_val *vals, int64_t id)
{
  char *end = arena_alloc(r->arena, 11), sd[11];
  (void)t;
  (void)id;
  if ((vals[1].type == VG_VAL_NULL) == (vals[2].type == VG_VAL_NULL))
    return vg_fail(r, VG_EINVAL, "a contract names exactly one of "
                   "\"household\" and \"patient\"");
  if (vals[4].i < 1 || vals[4].i > 120)
    return vg_fail(r, VG_EINVAL, "\"term_months\" must be 1..120");
  if (!end || vals[3].len != 10)
    return vg_fail(r, VG_EINVAL, "bad signed_date");
  memcpy(sd, vals[3].s, 10);
  sd[10] = '\0';
  if (care_date_add_months(sd, (int)vals[4].i, end))
    return vg_fail(r, VG_EINVAL, "bad signed_date");
  vals[5] = VG_TEXT(end);
  return 0;
}

static void contract_row_extra(const struct vg_val *cols, struct vg_buf *out)
{
  char due[11], end[11], today[11];
  if (cols[5].type != VG_VAL_TEXT || cols[5].len != 10)
    return;
  memcpy(end, cols[5].s, 10);
  end[10] = '\0';
  if (care_date_add_days(end, -CONTRACT_RENEWAL_LEAD_DAYS, due))
    return;
  care_date_of_ms(vg_now_ms(), today);
  buf_puts(out, ",\"renewal_due_date\":");
  buf_json_str(out, due, 10);
  buf_puts(out, ",\"renewal_due\":");
  buf_puts(out, cols[6].type == VG_VAL_TEXT && cols[6].len == 6 &&
                        memcmp(cols[6].s, "active", 6) == 0 &&
                        strcmp(today, due) >= 0
                    ? "true"
                    : "false");
  buf_puts(out, ",\"expired\":");
  buf_puts(out, strcmp(today, end) >= 0 ? "true" : "false");
}

const struct care_resource care_res_contract = {
  "contract", "/api/v1/contracts/%lld", contract_fields, 7,
  "INSERT INTO contract (team_id, household_id, patient_id, signed_date, "
  "term_months, end_date, status, created_ms, updated_ms) VALUES ($1, $2, "
  "$3, $4, $5, $6, $7, $8, $8) RETURNING id",
  "SELECT team_id, household_id, patient_id, signed_date, term_months, "
  "end_date, status, id, version, created_ms, updated_ms FROM contract "
  "WHERE id = $1",
  "UPDATE contract SET team_id = $1, household_id = $2, patient_id = $3, "
  "signed_date = $4, term_months = $5, end_date = $6, status = $7, version ="
  " version + 1, updated_ms = $8 WHERE id = $9 AND version = $10",
  contract_check, NULL, NULL, contract_row_extra};

/* ==== conditions ========================================================= */

const char *const care_condition_codes[] = {"hypertension", "t2d", "ckd",
  "copd", "af", "heart_failure", NULL};
static const char *const condition_status[] = {"active", "resolved",
  "transferred", "dead", NULL};

static const struct care_field condition_fields[] = {
  {"patient", CF_INT, CF_INTERNAL | CF_FIXED, NULL, NULL, 0, 0, 0},
  {"code", CF_TEXT, CF_REQUIRED | CF_FIXED, NULL, care_condition_codes, 0, 0,
   0},
  {"enrolled_date", CF_DATE, CF_REQUIRED, NULL, NULL, 0, 0, 0},
  {"status", CF_TEXT, 0, "active", condition_status, 0, 0, 0},
  {"status_date", CF_DATE, 0, NULL, NULL, 0, 0, 0},
  {"note", CF_TEXT, 0, "", NULL, 0, 0, 1000},
};

/* A status other than active needs its date (today when not given); an
 * active enrolment has none. */
static int condition_check(struct vg_req *r, struct vg_txn *t,
                           struct vg_val *vals, int64_t id)
{
  char *today;
  (void)t;
  (void)id;
  if (vals[3].len == 6 && memcmp(vals[3].s, "active", 6) == 0) {
    vals[4] = VG_NULLV;
    return 0;
  }
  if (vals[4].type == VG_VAL_NULL) {
    today = arena_alloc(r->arena, 11);
    if (!today)
      return vg_fail(r, VG_ENOMEM, "no memory");
    care_date_of_ms(vg_now_ms(), today);
    vals[4] = VG_TEXT(today);
  }
  if (vals[4].len == 10 && vals[2].len == 10 &&
      memcmp(vals[4].s, vals[2].s, 10) < 0)
    return vg_fail(r, VG_EINVAL, "\"status_date\" is before "
                   "\"enrolled_date\"");
  return 0;
}

const struct care_resource care_res_condition = {
  "condition", "/api/v1/conditions/%lld", condition_fields, 6,
  "INSERT INTO patient_condition (patient_id, code, enrolled_date, status, "
  "status_date, note, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, "
  "$6, $7, $7) RETURNING id",
  "SELECT patient_id, code, enrolled_date, status, status_date, note, id, "
  "version, created_ms, updated_ms FROM patient_condition WHERE id = $1",
  "UPDATE patient_condition SET patient_id = $1, code = $2, enrolled_date = "
  "$3, status = $4, status_date = $5, note = $6, version = version + 1, "
  "updated_ms = $7 WHERE id = $8 AND version = $9",
  condition_check, NULL, NULL, NULL};

/* ==== visits ============================================================= */

static const char *const visit_kinds[] = {"clinic", "home", "phone", "online",
                                          NULL};
static const char *const adherence_levels[] = {"good", "partial", "poor",
                                               "none", "unknown", NULL};

static const struct care_field visit_fields[] = {
  {"patient", CF_INT, CF_REQUIRED | CF_FIXED, NULL, NULL, 0, 0, 0},
  {"time", CF_TIME, CF_REQUIRED, NULL, NULL, 0, 0, 0},
  {"by", CF_INT, 0, "0", NULL, 0, 0, 0},
  {"kind", CF_TEXT, 0, "clinic", visit_kinds, 0, 0, 0},
  /* Plausibility ranges, as ingest's (codes.def) for the same quantities. */
  {"sbp", CF_REAL, 0, NULL, NULL, 40, 300, 0},
  {"dbp", CF_REAL, 0, NULL, NULL, 20, 200, 0},
  {"glucose_mmol", CF_REAL, 0, NULL, NULL, 0.5, 60, 0},
  {"hr", CF_REAL, 0, NULL, NULL, 20, 250, 0},
  {"symptoms", CF_TEXT, 0, "", NULL, 0, 0, 1000},
  {"adherence", CF_TEXT, 0, "unknown", adherence_levels, 0, 0, 0},
  {"next_date", CF_DATE, 0, NULL, NULL, 0, 0, 0},
  {"note", CF_TEXT, 0, "", NULL, 0, 0, 2000},
};

static int visit_check(struct vg_req *r, struct vg_txn *t, struct vg_val *vals,
                       int64_t id)
{
  (void)t;
  (void)id;
  if ((vals[4].type == VG_VAL_NULL) != (vals[5].type == VG_VAL_NULL))
    return vg_fail(r, VG_EINVAL, "\"sbp\" and \"dbp\" go together");
  if (vals[4].type != VG_VAL_NULL && vals[4].d <= vals[5].d)
    return vg_fail(r, VG_EINVAL, "\"sbp\" must exceed \"dbp\"");
  if (vals[2].i == 0 && r->principal)
    vals[2] = VG_INT(r->principal->user_id);
  return 0;
}

const struct care_resource care_res_visit = {
  "visit", "/api/v1/visits/%lld", visit_fields, 12,
  "INSERT INTO visit (patient_id, visit_ms, by_user_id, kind, sbp, dbp, "
  "glucose_mmol, hr, symptoms, adherence, next_date, note, created_ms, "
  "updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
  "$13, $13) RETURNING id",
  "SELECT patient_id, visit_ms, by_user_id, kind, sbp, dbp, glucose_mmol, "
  "hr, symptoms, adherence, next_date, note, id, version, created_ms, "
  "updated_ms FROM visit WHERE id = $1",
  "UPDATE visit SET patient_id = $1, visit_ms = $2, by_user_id = $3, kind = "
  "$4, sbp = $5, dbp = $6, glucose_mmol = $7, hr = $8, symptoms = $9, "
  "adherence = $10, next_date = $11, note = $12, version = version + 1, "
  "updated_ms = $13 WHERE id = $14 AND version = $15",
  visit_check, NULL, NULL, NULL};

/* ==== patient merge ====================================================== */

static int count_row(void *ctx, const struct vg_val *cols, size_t n)
{
  if (n >= 1 && cols[0].type == VG_VAL_INT)
    *(int64_t *)ctx = cols[0].i;
  return 0;
}

int care_patient_merge(struct vg_txn *t, int64_t from, int64_t into,
                       int64_t by_user_id, int64_t *out_moved_readings)
{
  struct vg_patient p;
  struct vg_val v[4];
  int64_t n = 0;
  int rc;
  *out_moved_readings = 0;
  if (from == into)
    return -VG_EINVAL;
  rc = store_patient_get(t, from, &p);
  if (!rc)
    rc = store_patient_get(t, into, &p);
  if (rc)
    return rc;
  v[0] = VG_INT(from);
  v[1] = VG_INT(into);
  rc = store_sql(t, "SELECT count(*) FROM patient_merge WHERE from_id = $1 "
                 "OR from_id = $2", v, 2, count_row, &n, NULL);
  if (rc)
    return rc;
  if (n)
    return -VG_EINVAL; /* either side is already merged away */
  /* Readings: copy under the new id (a key into already has is the same
   * reading from the same source: dropped), then remove the old rows. */
  rc = store_sql(t, "INSERT INTO reading (patient_id, code, ts_ms, source, "
                 "value, unit, tz_offset_min, ingested_ms) SELECT $2, code, "
                 "ts_ms, source, value, unit, tz_offset_min, ingested_ms FROM"
                 " reading WHERE patient_id = $1 ON CONFLICT DO NOTHING", v, 2,
                 NULL, NULL, out_moved_readings);
  if (!rc)
    rc = store_sql(t, "DELETE FROM reading WHERE patient_id = $1", v, 1,
                   NULL, NULL, NULL);
  if (!rc)
    rc = store_sql(t, "UPDATE device SET patient_id = $2 WHERE patient_id = "
                   "$1", v, 2, NULL, NULL, NULL);
  if (!rc)
    rc = store_sql(t, "UPDATE visit SET patient_id = $2 WHERE patient_id = "
                   "$1", v, 2, NULL, NULL, NULL);
  if (!rc)
    rc = store_sql(t, "UPDATE contract SET patient_id = $2 WHERE patient_id "
                   "= $1", v, 2, NULL, NULL, NULL);
  if (!rc)
    rc = store_sql(t, "UPDATE app_user SET patient_id = $2 WHERE patient_id "
                   "= $1", v, 2, NULL, NULL, NULL);
  if (!rc)
    rc = store_sql(t, "UPDATE patient_condition SET patient_id = $2 WHERE "
                   "patient_id = $1 AND code NOT IN (SELECT code FROM "
                   "patient_condition WHERE patient_id = $2)", v, 2, NULL,
                   NULL, NULL);
  if (!rc)
    rc = store_sql(t, "DELETE FROM patient_condition WHERE patient_id = $1",
                   v, 1, NULL, NULL, NULL);
  if (!rc)
    rc = store_sql(t, "UPDATE household_member SET patient_id = $2 WHERE "
                   "patient_id = $1 AND NOT EXISTS (SELECT 1 FROM "
                   "household_member WHERE patient_id = $2)", v, 2, NULL,
                   NULL, NULL);
  if (!rc)
    rc = store_sql(t, "DELETE FROM household_member WHERE patient_id = $1",
                   v, 1, NULL, NULL, NULL);
  if (!rc) {
    v[2] = VG_INT(vg_now_ms());
    v[3] = VG_INT(by_user_id);
    rc = store_sql(t, "INSERT INTO patient_merge (from_id, into_id, "
                   "merged_ms, by_user_id) VALUES ($1, $2, $3, $4)", v, 4,
                   NULL, NULL, NULL);
  }
  return rc;
}

/* ==== demo region ======================================================== */

/* A deterministic region over the demo patients (demo.c). Conditions come
 * from each patient's readings, the way demo.c generated them: glucose or
 * CGM readings -> t2d; mean SpO2 < 94% -> copd; patients with neither are
 * the BP profiles -> hypertension, and 40% of the others have it too. */

#define DEMO_DAY_MS 86400000LL
#define DEMO_CENTRES 3
#define DEMO_VILLAGES 10
#define DEMO_TEAMS 6

struct demo_pat {
  int64_t id;
  char surname[32];
  double sum_sbp, sum_dbp, sum_glu, sum_spo2;
  int64_t n_sbp, n_dbp, n_glu, n_spo2;
  int htn, t2d, copd;
  int team;   /* index into teams */
};

struct demo {
  uint64_t rng;
  int64_t now_ms;
  char today[11];
  int64_t n_orgs_before;
  struct demo_pat *pats;
  size_t n, cap;
  int64_t county, centres[DEMO_CENTRES], villages[DEMO_VILLAGES];
  int64_t teams[DEMO_TEAMS], gp[DEMO_TEAMS];
  int64_t n_households, n_contracts, n_conditions, n_visits;
};

static double demo_u(struct demo *d) /* splitmix64 -> [0, 1) */
{
  uint64_t z = (d->rng += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return (double)(z >> 11) / 9007199254740992.0;
}

static double demo_n(struct demo *d) /* ~N(0, 1): Irwin-Hall of 12 */
{
  double s = 0;
  for (int i = 0; i < 12; i++)
    s += demo_u(d);
  return s - 6.0;
}

static double round10(double x) { return round(x * 10) / 10; }

static int demo_pat_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct demo *d = ctx;
  struct demo_pat *p;
  size_t k;
  if (n < 2)
    return -VG_EINTERNAL;
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 512;
    p = vg_realloc(d->pats, cap * sizeof *p);
    if (!p)
      return -VG_ENOMEM;
    d->pats = p;
    d->cap = cap;
  }
  p = &d->pats[d->n++];
  memset(p, 0, sizeof *p);
  p->id = c[0].i;
  k = c[1].type == VG_VAL_TEXT ? strcspn(c[1].s, " ") : 0;
  if (k == 0 || k >= sizeof p->surname)
    snprintf(p->surname, sizeof p->surname, "Zhang");
  else
    snprintf(p->surname, sizeof p->surname, "%.*s", (int)k, c[1].s);
  return 0;
}

static struct demo_pat *demo_find(struct demo *d, int64_t id)
{
  size_t lo = 0, hi = d->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (d->pats[mid].id < id)
      lo = mid + 1;
    else if (d->pats[mid].id > id)
      hi = mid;
    else
      return &d->pats[mid];
  }
  return NULL;
}

/* patient_id, code, sum(value), count(*) */
static int demo_agg_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct demo *d = ctx;
  struct demo_pat *p;
  double sum;
  if (n < 4)
    return -VG_EINTERNAL;
  p = demo_find(d, c[0].i);
  if (!p)
    return 0;
  sum = c[2].type == VG_VAL_REAL ? c[2].d : (double)c[2].i;
  switch (c[1].i) {
  case 1: p->sum_sbp += sum; p->n_sbp += c[3].i; break;   /* sbp */
  case 2: p->sum_dbp += sum; p->n_dbp += c[3].i; break;   /* dbp */
  case 4: case 5: p->sum_glu += sum; p->n_glu += c[3].i; break;
  case 6: p->sum_spo2 += sum; p->n_spo2 += c[3].i; break; /* spo2 */
  default: break;
  }
  return 0;
}

static int demo_id_row(void *ctx, const struct vg_val *c, size_t n)
{
  if (n >= 1 && c[0].type == VG_VAL_INT)
    *(int64_t *)ctx = c[0].i;
  return 0;
}

static int demo_org(struct vg_txn *t, struct demo *d, const char *name,
                    const char *level, int64_t parent, const char *code,
                    int64_t *out)
{
  char ppath[512], path[600];
  struct vg_val v[6];
  int rc;
  *out = 0;
  v[0] = VG_TEXT(name);
  v[1] = VG_TEXT(level);
  v[2] = parent ? VG_INT(parent) : VG_NULLV;
  v[3] = VG_TEXT(code);
  v[4] = VG_TEXT("/");
  v[5] = VG_INT(d->now_ms);
  rc = store_sql(t, care_res_organization.sql_insert, v, 6, demo_id_row, out,
                 NULL);
  if (rc)
    return rc;
  ppath[0] = '\0';
  if (parent) {
    rc = care_org_path(t, parent, ppath, sizeof ppath);
    if (rc)
      return rc;
  }
  snprintf(path, sizeof path, "%s%s%lld/", parent ? ppath : "",
           parent ? "" : "/", (long long)*out);
  v[0] = VG_TEXT(path);
  v[1] = VG_INT(*out);
  return store_sql(t, "UPDATE organization SET path = $1 WHERE id = $2", v,
                   2, NULL, NULL, NULL);
}

/* The user's id: an existing demo user moved to org, or a new staff member
 * without a password (listed on the team, cannot log in). */
static int demo_user(struct vg_txn *t, struct demo *d, const char *username,
                     const char *role, int64_t org, int64_t *out)
{
  struct vg_val v[4];
  int rc;
  *out = 0;
  v[0] = VG_TEXT(username);
  rc = store_sql(t, "SELECT id FROM app_user WHERE username = $1", v, 1,
                 demo_id_row, out, NULL);
  if (rc)
    return rc;
  v[1] = VG_INT(org);
  if (*out)
    return store_sql(t, "UPDATE app_user SET org_id = $2 WHERE username = "
                     "$1", v, 2, NULL, NULL, NULL);
  v[2] = VG_TEXT(role);
  v[3] = VG_INT(d->now_ms);
  return store_sql(t, "INSERT INTO app_user (username, role, org_id, "
                   "created_ms, updated_ms) VALUES ($1, $3, $2, $4, $4) "
                   "RETURNING id", v, 4, demo_id_row, out, NULL);
}

static int demo_member(struct vg_txn *t, int64_t team, int64_t user,
                       const char *role, int lead)
{
  struct vg_val v[4] = {VG_INT(team), VG_INT(user), VG_TEXT(role),
                        VG_INT(lead)};
  return store_sql(t, "INSERT INTO care_team_member (team_id, user_id, role,"
                   " lead) VALUES ($1, $2, $3, $4)", v, 4, NULL, NULL, NULL);
}

static const char *const demo_centres[DEMO_CENTRES] = {"Dongcheng", "Xihe",
                                                       "Nanping"};
static const char *const demo_villages[DEMO_VILLAGES] = {"Taoyuan",
  "Liushu", "Shiqiao", "Hexi", "Dazhai", "Qingquan", "Baisha", "Huangtu",
  "Yangjia", "Longtan"};
/* Villages per centre: 4, 3, 3. */
static int demo_centre_of(int village) { return village < 4 ? 0 : village <
                                         7 ? 1 : 2; }

static int demo_region(struct vg_txn *t, struct demo *d)
{
  static const char *const staff[] = {"gp", "nurse", "public_health"};
  char name[128], code[32], user[64];
  int64_t uid;
  int rc;
  rc = demo_org(t, d, "Qingshan County People's Hospital", "county_hospital",
                0, "QS-H", &d->county);
  for (int c = 0; !rc && c < DEMO_CENTRES; c++) {
    snprintf(name, sizeof name, "%s Community Health Centre",
             demo_centres[c]);
    snprintf(code, sizeof code, "QS-C%d", c + 1);
    rc = demo_org(t, d, name, "community_health_centre", d->county, code,
                  &d->centres[c]);
  }
  for (int v = 0; !rc && v < DEMO_VILLAGES; v++) {
    snprintf(name, sizeof name, "%s Village Clinic", demo_villages[v]);
    snprintf(code, sizeof code, "QS-V%02d", v + 1);
    rc = demo_org(t, d, name, "village_clinic",
                  d->centres[demo_centre_of(v)], code, &d->villages[v]);
  }
  /* Demo logins: the admin administers the installation (org 0: every
   * patient, README), the researcher belongs to the county, the doctor and
   * the nurse work in team 1, the clinician is the county specialist of
   * the first centre's two teams. */
  if (!rc)
    rc = demo_user(t, d, "demo.admin", "admin", 0, &uid);
  if (!rc)
    rc = demo_user(t, d, "demo.researcher", "researcher", d->county, &uid);
  for (int k = 0; !rc && k < DEMO_TEAMS; k++) {
    struct vg_val v[4];
    int64_t org = d->centres[k / 2];
    snprintf(name, sizeof name, "%s family doctor team %d",
             demo_centres[k / 2], k % 2 + 1);
    v[0] = VG_TEXT(name);
    v[1] = VG_INT(org);
    v[2] = VG_INT(d->now_ms);
    rc = store_sql(t, "INSERT INTO care_team (name, org_id, created_ms, "
                   "updated_ms) VALUES ($1, $2, $3, $3) RETURNING id", v, 3,
                   demo_id_row, &d->teams[k], NULL);
    for (int s = 0; !rc && s < 3; s++) {
      if (k == 0 && s < 2)
        snprintf(user, sizeof user, "demo.%s", s ? "nurse" : "doctor");
      else
        snprintf(user, sizeof user, "staff.t%d.%s", k + 1, staff[s]);
      rc = demo_user(t, d, user, s == 0 ? "doctor" : s == 1 ? "nurse"
                     : "clinician", org, &uid);
      if (!rc)
        rc = demo_member(t, d->teams[k], uid, staff[s], s == 0);
      if (s == 0)
        d->gp[k] = uid;
    }
    if (!rc && k < 2) {
      rc = demo_user(t, d, "demo.clinician", "clinician", d->county, &uid);
      if (!rc)
        rc = demo_member(t, d->teams[k], uid, "specialist", 0);
    }
  }
  return rc;
}

static int demo_household(struct vg_txn *t, struct demo *d, size_t first,
                          size_t n_members, int village, int hh_no)
{
  static const char *const rel[] = {"self", "spouse", "parent", "child"};
  struct vg_val v[7];
  char name[64], addr[96], signed_date[11], end[11];
  int64_t hid = 0;
  int team = demo_centre_of(village) * 2 + village % 2, term = 12, rc;
  double u;
  snprintf(name, sizeof name, "%s household", d->pats[first].surname);
  snprintf(addr, sizeof addr, "%d %s Road, %s", 1 + hh_no % 97,
           demo_villages[village], demo_villages[village]);
  v[0] = VG_TEXT(name);
  v[1] = VG_TEXT(addr);
  v[2] = VG_INT(d->villages[village]);
  v[3] = VG_INT(d->now_ms);
  rc = store_sql(t, "INSERT INTO household (name, address, org_id, "
                 "created_ms, updated_ms) VALUES ($1, $2, $3, $4, $4) "
                 "RETURNING id", v, 4, demo_id_row, &hid, NULL);
  for (size_t i = 0; !rc && i < n_members; i++) {
    struct demo_pat *p = &d->pats[first + i];
    u = demo_u(d);
    p->team = team;
    v[0] = VG_INT(p->id);
    v[1] = VG_INT(hid);
    v[2] = VG_TEXT(rel[i < 4 ? i : 3]);
    v[3] = VG_TEXT(u < 0.05 ? "low_income" : u < 0.07 ? "disability" : "");
    rc = store_sql(t, "INSERT INTO household_member (patient_id, "
                   "household_id, relation, priority) VALUES ($1, $2, $3, "
                   "$4)", v, 4, NULL, NULL, NULL);
  }
  if (rc)
    return rc;
  d->n_households++;
  /* 88% contracted; signed up to 14 months ago for 12 months, so some are
   * due for renewal and some expired; 3% terminated. The first household
   * (demo.patient's) is contracted with team 1 and current. */
  u = demo_u(d);
  if (hh_no > 0 && u >= 0.88)
    return 0;
  rc = care_date_add_days(d->today, hh_no == 0 ? -100 :
                          -(int)(demo_u(d) * 430), signed_date);
  if (!rc)
    rc = care_date_add_months(signed_date, term, end);
  if (rc)
    return rc;
  v[0] = VG_INT(d->teams[team]);
  v[1] = VG_INT(hid);
  v[2] = VG_TEXT(signed_date);
  v[3] = VG_INT(term);
  v[4] = VG_TEXT(end);
  v[5] = VG_TEXT(hh_no > 0 && demo_u(d) < 0.03 ? "terminated" : "active");
  v[6] = VG_INT(d->now_ms);
  rc = store_sql(t, "INSERT INTO contract (team_id, household_id, "
                 "signed_date, term_months, end_date, status, created_ms, "
                 "updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)", v, 7,
                 NULL, NULL, NULL);
  if (!rc)
    d->n_contracts++;
  return rc;
}

static int demo_condition(struct vg_txn *t, struct demo *d, int64_t pid,
                          const char *code)
{
  struct vg_val v[4];
  char enrolled[11];
  /* 8% registered in the last 75 days (outside the HEARTS cohort). */
  int days = demo_u(d) < 0.08 ? 10 + (int)(demo_u(d) * 65)
                              : 120 + (int)(demo_u(d) * 1400);
  int rc = care_date_add_days(d->today, -days, enrolled);
  if (rc)
    return rc;
  v[0] = VG_INT(pid);
  v[1] = VG_TEXT(code);
  v[2] = VG_TEXT(enrolled);
  v[3] = VG_INT(d->now_ms);
  rc = store_sql(t, "INSERT INTO patient_condition (patient_id, code, "
                 "enrolled_date, status, created_ms, updated_ms) VALUES ($1,"
                 " $2, $3, 'active', $4, $4)", v, 4, NULL, NULL, NULL);
  if (!rc)
    d->n_conditions++;
  return rc;
}

/* Quarterly follow-ups over the last year; 20% have none in the last 100
 * days (HEARTS "missed visits"); phone and online visits take no BP. */
static int demo_visits(struct vg_txn *t, struct demo *d, struct demo_pat *p)
{
  static const char *const adh[] = {"good", "good", "partial", "poor"};
  double msbp = p->n_sbp ? p->sum_sbp / (double)p->n_sbp : 135;
  double mdbp = p->n_dbp ? p->sum_dbp / (double)p->n_dbp : 85;
  double fpg = p->n_glu ? p->sum_glu / (double)p->n_glu / 18.0 * 0.85 : 5.4;
  int days = demo_u(d) < 0.2 ? 100 + (int)(demo_u(d) * 80)
                             : 2 + (int)(demo_u(d) * 45);
  int rc = 0;
  for (; !rc && days < 365; days += 75 + (int)(demo_u(d) * 20)) {
    struct vg_val v[14];
    double u = demo_u(d), sbp = msbp + demo_n(d) * 8,
           dbp = mdbp + demo_n(d) * 5;
    const char *kind = u < 0.6 ? "clinic" : u < 0.85 ? "home"
                     : u < 0.97 ? "phone" : "online";
    int bp = u < 0.85;
    char next[11];
    int64_t ms = (d->now_ms / DEMO_DAY_MS - days) * DEMO_DAY_MS +
                 (int64_t)(1 + demo_u(d) * 8) * 3600000LL;
    if (demo_u(d) < 0.06)
      continue; /* an occasional quarter without a follow-up */
    care_date_of_ms(ms, next);
    rc = care_date_add_days(next, bp && (sbp >= 140 || dbp >= 90) ? 14 : 90,
                            next);
    if (rc)
      return rc;
    v[0] = VG_INT(p->id);
    v[1] = VG_INT(ms);
    v[2] = VG_INT(d->gp[p->team]);
    v[3] = VG_TEXT(kind);
    v[4] = bp ? VG_REAL(round10(sbp)) : VG_NULLV;
    v[5] = bp ? VG_REAL(round10(dbp)) : VG_NULLV;
    v[6] = p->t2d && u < 0.55 ? VG_REAL(round10(fpg + demo_n(d) * 0.6))
                              : VG_NULLV;
    v[7] = bp ? VG_REAL(round10(74 + demo_n(d) * 6)) : VG_NULLV;
    v[8] = VG_TEXT(bp && sbp >= 170 ? "headache, dizziness" : "");
    v[9] = VG_TEXT(adh[(int)(demo_u(d) * 4)]);
    v[10] = VG_TEXT(next);
    v[11] = VG_INT(d->now_ms);
    rc = store_sql(t, "INSERT INTO visit (patient_id, visit_ms, by_user_id,"
                   " kind, sbp, dbp, glucose_mmol, hr, symptoms, adherence, "
                   "next_date, note, created_ms, updated_ms) VALUES ($1, $2,"
                   " $3, $4, $5, $6, $7, $8, $9, $10, $11, '', $12, $12)", v,
                   12, NULL, NULL, NULL);
    if (!rc)
      d->n_visits++;
  }
  return rc;
}

static int demo_job(struct vg_txn *t, void *ctx)
{
  struct demo *d = ctx;
  size_t n_h, first = 0;
  int rc = store_sql(t, "SELECT count(*) FROM organization", NULL, 0,
                     demo_id_row, &d->n_orgs_before, NULL);
  if (rc || d->n_orgs_before)
    return rc;
  rc = store_sql(t, "SELECT id, name FROM patient WHERE id NOT IN (SELECT "
                 "from_id FROM patient_merge) ORDER BY id", NULL, 0,
                 demo_pat_row, d, NULL);
  if (!rc)
    rc = store_sql(t, "SELECT patient_id, code, sum(value), count(*) FROM "
                   "reading WHERE code IN (1, 2, 4, 5, 6) GROUP BY "
                   "patient_id, code", NULL, 0, demo_agg_row, d, NULL);
  if (!rc)
    rc = demo_region(t, d);
  if (rc || !d->n)
    return rc;
  /* Households of one or two (3 per 5 patients), in village blocks. */
  n_h = d->n * 3 / 5 ? d->n * 3 / 5 : 1;
  for (size_t h = 0; !rc && h < n_h; h++) {
    size_t end = (h + 1) * d->n / n_h;
    rc = demo_household(t, d, first, end - first, (int)(h * DEMO_VILLAGES /
                        n_h), (int)h);
    first = end;
  }
  for (size_t i = 0; !rc && i < d->n; i++) {
    struct demo_pat *p = &d->pats[i];
    p->t2d = p->n_glu > 0;
    p->copd = p->n_spo2 > 0 && p->sum_spo2 / (double)p->n_spo2 < 94.0;
    p->htn = (!p->t2d && !p->copd) || demo_u(d) < 0.4;
    if (p->htn)
      rc = demo_condition(t, d, p->id, "hypertension");
    if (!rc && p->t2d)
      rc = demo_condition(t, d, p->id, "t2d");
    if (!rc && p->copd)
      rc = demo_condition(t, d, p->id, "copd");
    if (!rc)
      rc = demo_visits(t, d, p);
  }
  return rc;
}

int care_org_demo_seed(struct vg_app *app)
{
  struct demo d;
  int64_t t0 = vg_mono_ns();
  int rc;
  memset(&d, 0, sizeof d);
  d.rng = 0x5EED0C4EULL;
  d.now_ms = vg_now_ms();
  care_date_of_ms(d.now_ms, d.today);
  rc = writer_exec(app->writer, 1000, demo_job, &d);
  if (!rc && !d.n_orgs_before)
    vg_info("demo.region", "orgs=%d teams=%d patients=%zu households=%lld "
            "contracts=%lld conditions=%lld visits=%lld ms=%.0f",
            1 + DEMO_CENTRES + DEMO_VILLAGES, DEMO_TEAMS, d.n,
            (long long)d.n_households, (long long)d.n_contracts,
            (long long)d.n_conditions, (long long)d.n_visits,
            (double)(vg_mono_ns() - t0) / 1e6);
  vg_free(d.pats);
  return rc;
}
