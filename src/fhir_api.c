/* fhir_api.c - the REST handlers under /fhir (routes.def): metadata, read,
 * vread, create (conditional), update (If-Match), search with paging,
 * _history, and transaction/batch Bundles. Errors are OperationOutcomes
 * (http.c) with the status from errors.def. */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_alloc.h"
#include "api.h"
#include "auth.h"
#include "care_assess.h"
#include "codes.h"
#include "core_arena.h"
#include "core_errors.h"
#include "core_time.h"
#include "fhir.h"
#include "ingest.h"
#include "store.h"
#include "store_writer.h"

#define CT "application/fhir+json"
#define PAGE_DEFAULT 50
#define PAGE_MAX 1000
#define COLLECT_MAX 200000

/* ==== responses and access ============================================== */

static int send_json(struct vg_req *r, json_t *o, int status)
{
  char *s = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  if (!s)
    return vg_fail(r, VG_ENOMEM, "cannot encode the response");
  buf_puts(&r->out, s);
  free(s); /* allocated by libjansson */
  r->status = status;
  r->content_type = CT;
  return 0;
}

/* An OperationOutcome for an error with a precise diagnostic. */
static int send_outcome(struct vg_req *r, int err, const char *diag)
{
  if (err > 0)
    err = -err;
  return vg_fail(r, err, "%s", diag);
}

static const char *vigil_res(const char *type)
{
  if (!strcmp(type, "Observation"))
    return "reading";
  if (!strcmp(type, "Device"))
    return "device";
  return "patient";
}

/* Route scope "self" for the generic routes: the type's Vigil scope (SMART
 * scopes are mapped by auth_scope_allows). */
static int allowed(struct vg_req *r, const char *type, int write)
{
  char need[32];
  snprintf(need, sizeof need, "%s.%s", vigil_res(type),
           write ? "write" : "read");
  if (!r->principal || !auth_scope_allows(r->principal->scopes, need))
    return vg_fail(r, VG_EFORBIDDEN, "scope '%s' required for %s", need,
                   type);
  return 0;
}

static int visible(struct vg_req *r, int64_t pid)
{
  return pid == 0 || auth_patient_visible(NULL, r->principal, pid);
}

static const char *etag_of(struct vg_req *r, int version)
{
  return arena_printf(r->arena, "W/\"%d\"", version);
}

/* ==== query parameters ================================================== */

struct qparam {
  const char *key, *val;
  int used;
};
struct qlist {
  struct qparam p[48];
  size_t n;
};

static enum MHD_Result q_iter(void *cls, enum MHD_ValueKind kind,
                              const char *key, const char *value)
{
  struct qlist *q = cls;
  (void)kind;
  if (q->n < sizeof q->p / sizeof q->p[0]) {
    q->p[q->n].key = key;
    q->p[q->n].val = value ? value : "";
    q->p[q->n].used = 0;
    q->n++;
  }
  return MHD_YES;
}

static void q_from_req(struct vg_req *r, struct qlist *q)
{
  q->n = 0;
  MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, q_iter, q);
}

/* "a=1&b=2" (If-None-Exist, bundle URLs); s is modified. */
static void q_from_string(char *s, struct qlist *q)
{
  q->n = 0;
  while (s && *s && q->n < sizeof q->p / sizeof q->p[0]) {
    char *amp = strchr(s, '&'), *eq;
    if (amp)
      *amp = '\0';
    eq = strchr(s, '=');
    if (eq) {
      *eq = '\0';
      q->p[q->n].key = s;
      q->p[q->n].val = eq + 1;
      q->p[q->n].used = 0;
      q->n++;
    }
    s = amp ? amp + 1 : NULL;
  }
}

static const char *q_get(struct qlist *q, const char *key)
{
  for (size_t i = 0; i < q->n; i++)
    if (!strcmp(q->p[i].key, key)) {
      q->p[i].used = 1;
      return q->p[i].val;
    }
  return NULL;
}

/* ==== reading a resource ================================================ */

struct meta {
  int found;
  int version;
  int64_t updated_ms;
  char *body;
};

static int meta_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct meta *m = ctx;
  (void)n;
  m->found = 1;
  m->version = (int)c[0].i;
  m->updated_ms = c[1].i;
  m->body = vg_strndup(c[2].s ? c[2].s : "", c[2].len);
  return 0;
}

static int meta_get(struct vg_txn *t, const char *type, const char *id,
                    struct meta *m)
{
  struct vg_val k[] = {VG_TEXT(type), VG_TEXT(id)};
  memset(m, 0, sizeof *m);
  m->version = 1;
  return store_sql(t, "SELECT version, updated_ms, body FROM fhir_resource "
                   "WHERE type = $1 AND id = $2", k, 2, meta_row, m, NULL);
}

/* Reading rows (SQL: the lastUpdated of a reading is its ingested_ms). */
struct obs_row {
  struct vg_reading r;
  int64_t ingested_ms;
  int pair;      /* 1: r is the systolic of a BP pair, dbp below */
  struct vg_reading dbp;
};
struct obs_list {
  struct obs_row *v;
  size_t n, cap;
  uint64_t want_hash; /* read: only this source */
  int64_t since_ms;   /* _lastUpdated lower bound */
  int err;
};

static int obs_row_cb(void *ctx, const struct vg_val *c, size_t n)
{
  struct obs_list *l = ctx;
  struct obs_row *o;
  (void)n;
  if (l->want_hash && fhir_source_hash(c[2].s) != l->want_hash)
    return 0;
  if (c[6].i < l->since_ms)
    return 0;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    struct obs_row *nv;
    if (cap > COLLECT_MAX) {
      l->err = -VG_ETOOBIG;
      return 1;
    }
    nv = vg_realloc(l->v, cap * sizeof *nv);
    if (!nv) {
      l->err = -VG_ENOMEM;
      return 1;
    }
    l->v = nv;
    l->cap = cap;
  }
  o = &l->v[l->n++];
  memset(o, 0, sizeof *o);
  o->r.code = (int)c[0].i;
  o->r.ts_ms = c[1].i;
  o->r.source = vg_strndup(c[2].s ? c[2].s : "", c[2].len);
  o->r.value = c[3].type == VG_VAL_REAL ? c[3].d : (double)c[3].i;
  o->r.tz_offset_min = c[5].type == VG_VAL_NULL ? VG_TZ_UNKNOWN
                                                : (int16_t)c[5].i;
  o->ingested_ms = c[6].i;
  return 0;
}

static void obs_free(struct obs_list *l)
{
  for (size_t i = 0; i < l->n; i++) {
    vg_free((char *)l->v[i].r.source);
    if (l->v[i].pair)
      vg_free((char *)l->v[i].dbp.source);
  }
  vg_free(l->v);
  memset(l, 0, sizeof *l);
}

/* Readings of patient pid (code 0 = all) in [from, to), ts order per code. */
static int obs_query(struct vg_txn *t, int64_t pid, int code, int64_t from,
                     int64_t to, struct obs_list *l)
{
  struct vg_val p[] = {VG_INT(pid), VG_INT(code), VG_INT(from), VG_INT(to)};
  /* two statements: "code = $2 OR $2 = 0" would keep the planner off the
   * (patient_id, code, ts_ms) key */
  int rc = code ? store_sql(t, "SELECT code, ts_ms, source, value, unit, "
                            "tz_offset_min, ingested_ms FROM reading WHERE "
                            "patient_id = $1 AND code = $2 AND ts_ms >= $3 "
                            "AND ts_ms < $4", p, 4, obs_row_cb, l, NULL)
                : store_sql(t, "SELECT code, ts_ms, source, value, unit, "
                            "tz_offset_min, ingested_ms FROM reading WHERE "
                            "patient_id = $1 AND ts_ms >= $2 AND ts_ms < $3",
                            (struct vg_val[]){p[0], p[2], p[3]}, 3,
                            obs_row_cb, l, NULL);
  for (size_t i = 0; i < l->n; i++)
    l->v[i].r.patient_id = pid;
  return rc < 0 ? rc : l->err;
}

static int cmp_key(const void *x, const void *y)
{
  const struct obs_row *a = x, *b = y;
  int c;
  if (a->r.ts_ms != b->r.ts_ms)
    return a->r.ts_ms < b->r.ts_ms ? -1 : 1;
  c = strcmp(a->r.source, b->r.source);
  if (c)
    return c;
  return a->r.code - b->r.code;
}

/* Sort by time, and pair a systolic with the diastolic of the same time
 * and source into one BP Observation (the diastolic row is dropped). */
static void obs_pair(struct obs_list *l)
{
  size_t w = 0;
  if (l->n > 1)
    qsort(l->v, l->n, sizeof *l->v, cmp_key);
  for (size_t i = 0; i < l->n; i++) {
    struct obs_row *o = &l->v[i];
    if (o->r.code == VG_CODE_SBP && i + 1 < l->n &&
        l->v[i + 1].r.code == VG_CODE_DBP &&
        l->v[i + 1].r.ts_ms == o->r.ts_ms &&
        !strcmp(l->v[i + 1].r.source, o->r.source)) {
      o->pair = 1;
      o->dbp = l->v[i + 1].r;
      if (l->v[i + 1].ingested_ms > o->ingested_ms)
        o->ingested_ms = l->v[i + 1].ingested_ms;
      l->v[w++] = *o;
      i++;
      continue;
    }
    l->v[w++] = *o;
  }
  l->n = w;
}

static json_t *obs_json(struct vg_txn *t, const struct obs_row *o)
{
  struct meta m;
  char id[FHIR_ID_MAX], cp[8];
  json_t *j;
  if (o->pair)
    snprintf(cp, sizeof cp, "bp");
  else
    snprintf(cp, sizeof cp, "%d", o->r.code);
  fhir_reading_id(o->r.patient_id, cp, o->r.ts_ms, o->r.source, id);
  meta_get(t, "Observation", id, &m);
  j = fhir_reading_json(&o->r, o->pair ? &o->dbp : NULL, m.version,
                        m.found ? m.updated_ms : o->ingested_ms);
  vg_free(m.body);
  return j;
}

/* The current JSON of type/id, or NULL with *out_err (-VG_ENOTFOUND). */
static json_t *load(struct vg_txn *t, const char *type, const char *id,
                    int *out_err, int64_t *out_pid, int *out_version)
{
  struct meta m;
  json_t *o = NULL;
  int rc;
  *out_err = -VG_ENOTFOUND;
  *out_pid = 0;
  rc = meta_get(t, type, id, &m);
  if (rc) {
    *out_err = rc;
    return NULL;
  }
  *out_version = m.version;
  if (!strcmp(type, "Patient")) {
    struct vg_patient p;
    char *end;
    int64_t pid = strtoll(id, &end, 10);
    json_t *rest = NULL;
    if (*end || pid <= 0 || store_patient_get(t, pid, &p))
      goto done;
    if (m.body && m.body[0])
      rest = json_loads(m.body, 0, NULL);
    o = fhir_patient_json(&p, rest, m.version,
                          m.found && m.updated_ms > p.updated_ms
                              ? m.updated_ms : p.updated_ms);
    json_decref(rest);
    *out_pid = pid;
  } else if (!strcmp(type, "Observation") && id[0] == 'r') {
    int64_t pid, ts;
    uint64_t h;
    char cp[8];
    struct obs_list l;
    memset(&l, 0, sizeof l);
    if (fhir_reading_id_parse(id, &pid, cp, sizeof cp, &ts, &h))
      goto done;
    l.want_hash = h;
    l.since_ms = INT64_MIN;
    if (!strcmp(cp, "bp")) {
      obs_query(t, pid, VG_CODE_SBP, ts, ts + 1, &l);
      obs_query(t, pid, VG_CODE_DBP, ts, ts + 1, &l);
      obs_pair(&l);
      if (l.n == 1 && l.v[0].pair)
        o = obs_json(t, &l.v[0]);
    } else {
      obs_query(t, pid, (int)strtol(cp, NULL, 10), ts, ts + 1, &l);
      if (l.n >= 1)
        o = obs_json(t, &l.v[0]);
    }
    obs_free(&l);
    *out_pid = pid;
  } else if (m.found && m.body && m.body[0]) {
    o = json_loads(m.body, 0, NULL);
    if (o)
      fhir_set_meta(o, id, m.version, m.updated_ms);
  } else if (fhir_care_mapped(type)) {
    o = fhir_care_read(t, type, id, out_pid, out_version);
  }
done:
  vg_free(m.body);
  if (o)
    *out_err = 0;
  return o;
}

/* ==== metadata ========================================================== */

static const char *const obs_params[] = {
    "patient", "reference", "subject", "reference", "code", "token", "date",
    "date", "category", "token", "_lastUpdated", "date", NULL};
static const char *const pat_params[] = {
    "identifier", "token", "name", "string", "birthdate", "date", "_id",
    "token", NULL};
static const char *const gen_params[] = {
    "patient", "reference", "subject", "reference", "code", "token", "date",
    "date", "_id", "token", NULL};

int fhir_metadata(struct vg_req *r)
{
  size_t n;
  const char *const *t = fhir_types(&n);
  json_t *res = json_array(), *o;
  char now[40];
  vg_time_format(vg_now_ms(), 0, now, sizeof now);
  for (size_t i = 0; i < n; i++) {
    const char *const *sp = !strcmp(t[i], "Observation") ? obs_params
                            : !strcmp(t[i], "Patient") ? pat_params
                                                       : gen_params;
    json_t *params = json_array(), *ia;
    int hist = !strcmp(t[i], "Patient") || !strcmp(t[i], "Observation");
    for (; *sp; sp += 2)
      json_array_append_new(params, json_pack("{s:s,s:s}", "name", sp[0],
                                              "type", sp[1]));
    ia = json_pack("[{s:s},{s:s},{s:s},{s:s},{s:s}]", "code", "read", "code",
                   "vread", "code", "create", "code", "update", "code",
                   "search-type");
    if (hist)
      json_array_append_new(ia, json_pack("{s:s}", "code", "history-instance"));
    o = json_pack("{s:s,s:o,s:s,s:b,s:b,s:o}", "type", t[i], "interaction",
                  ia, "versioning", "versioned-update", "readHistory", hist,
                  "conditionalCreate", 1, "searchParam", params);
    if (fhir_care_mapped(t[i]))
      json_object_set_new(o, "documentation", json_string(
          "Rows of Vigil's care table for this type (numeric ids) are "
          "served by read and search-type (patient/subject, code, date, "
          "_id) and are read-only here (update: 405); create, update and "
          "history apply to resources stored as FHIR (uuid ids)."));
    if (!strcmp(t[i], "Observation"))
      json_object_set_new(o, "searchInclude",
                          json_pack("[s]", "Observation:patient"));
    json_array_append_new(res, o);
  }
  o = json_pack(
      "{s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s},s:[s],s:[{s:s,s:o,s:[{s:s},{s:s}],"
      "s:[{s:s,s:s}]}]}",
      "resourceType", "CapabilityStatement", "status", "active", "date", now,
      "kind", "instance", "fhirVersion", FHIR_VERSION, "publisher", "Vigil",
      "software", "name", "Vigil", "version", "0.1", "format",
      "application/fhir+json", "rest", "mode", "server", "resource", res,
      "interaction", "code", "transaction", "code", "batch", "operation",
      "name", "export", "definition",
      "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export");
  return send_json(r, o, 200);
}

/* ==== read, vread, history ============================================== */

static int type_param(struct vg_req *r, const char **out)
{
  const char *t = fhir_type_known(r->params[0], strlen(r->params[0]));
  if (!t)
    return vg_fail(r, VG_ENOTFOUND, "resource type '%s' is not supported",
                   r->params[0]);
  *out = t;
  return 0;
}

int fhir_read(struct vg_req *r)
{
  struct vg_txn *t;
  const char *type;
  int64_t pid;
  int err, version = 1, rc;
  json_t *o;
  if (type_param(r, &type) || allowed(r, type, 0))
    return r->err;
  rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc)
    return vg_fail(r, rc, "store unavailable");
  o = load(t, type, r->params[1], &err, &pid, &version);
  store_rollback(t);
  if (!o || !visible(r, pid)) {
    json_decref(o);
    return vg_fail(r, err ? err : VG_ENOTFOUND, "%s/%s not found", type,
                   r->params[1]);
  }
  r->audit_patient = pid;
  http_set_header(r, "ETag", etag_of(r, version));
  return send_json(r, o, 200);
}

struct hist { json_t *arr; const char *type; };

static int hist_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct hist *h = ctx;
  json_t *o = json_loads(c[2].s, 0, NULL);
  (void)n;
  if (!o)
    return 0;
  fhir_set_meta(o, json_string_value(json_object_get(o, "id")) ?
                json_string_value(json_object_get(o, "id")) : "",
                (int)c[0].i, c[1].i);
  json_array_append_new(h->arr, o);
  return 0;
}

/* Bundle of type with the resources of arr (stolen). */
static json_t *bundle(const char *type, json_t *arr, const char *mode)
{
  json_t *b = json_pack("{s:s,s:s,s:I}", "resourceType", "Bundle", "type",
                        type, "total", (json_int_t)json_array_size(arr));
  json_t *entries = json_array(), *v;
  size_t i;
  json_array_foreach(arr, i, v) {
    json_t *e = json_object();
    char url[160];
    snprintf(url, sizeof url, "%s/%s",
             json_string_value(json_object_get(v, "resourceType")),
             json_string_value(json_object_get(v, "id")));
    json_object_set_new(e, "fullUrl", json_string(url));
    json_object_set(e, "resource", v);
    if (mode)
      json_object_set_new(e, "search", json_pack("{s:s}", "mode", mode));
    json_array_append_new(entries, e);
  }
  json_decref(arr);
  json_object_set_new(b, "entry", entries);
  return b;
}

static int history_of(struct vg_req *r, const char *vid)
{
  struct vg_txn *t;
  const char *type;
  struct hist h;
  int64_t pid;
  int err, version = 1, rc;
  json_t *cur;
  if (type_param(r, &type) || allowed(r, type, 0))
    return r->err;
  rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc)
    return vg_fail(r, rc, "store unavailable");
  cur = load(t, type, r->params[1], &err, &pid, &version);
  if (!cur || !visible(r, pid)) {
    store_rollback(t);
    json_decref(cur);
    return vg_fail(r, VG_ENOTFOUND, "%s/%s not found", type, r->params[1]);
  }
  h.arr = json_array();
  h.type = type;
  if (!vid || strtol(vid, NULL, 10) == version)
    json_array_append(h.arr, cur);
  {
    struct vg_val k[] = {VG_TEXT(type), VG_TEXT(r->params[1])};
    rc = store_sql(t, "SELECT version, updated_ms, body FROM fhir_history "
                   "WHERE type = $1 AND id = $2 ORDER BY version DESC", k, 2,
                   hist_row, &h, NULL);
  }
  store_rollback(t);
  json_decref(cur);
  if (rc < 0) {
    json_decref(h.arr);
    return vg_fail(r, rc, "cannot read the history");
  }
  if (vid) {
    json_t *v;
    size_t i;
    json_array_foreach(h.arr, i, v) {
      const char *vv = json_string_value(json_object_get(
          json_object_get(v, "meta"), "versionId"));
      if (vv && !strcmp(vv, vid)) {
        json_incref(v);
        json_decref(h.arr);
        http_set_header(r, "ETag", arena_printf(r->arena, "W/\"%s\"", vid));
        return send_json(r, v, 200);
      }
    }
    json_decref(h.arr);
    return vg_fail(r, VG_ENOTFOUND, "%s/%s has no version %s", type,
                   r->params[1], vid);
  }
  return send_json(r, bundle("history", h.arr, NULL), 200);
}

int fhir_history(struct vg_req *r) { return history_of(r, NULL); }
int fhir_vread(struct vg_req *r) { return history_of(r, r->params[2]); }

/* ==== create and update ================================================= */

static int parse_body(struct vg_req *r, json_t **out)
{
  json_error_t je;
  *out = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
  if (!*out)
    return vg_fail(r, VG_EBADJSON, "body is not JSON: %s at line %d",
                   je.text, je.line);
  if (!json_is_object(*out)) {
    json_decref(*out);
    return vg_fail(r, VG_EINVAL, "body must be a JSON object (a resource)");
  }
  return 0;
}

static int search_ids(struct vg_req *r, const char *type, struct qlist *q,
                      size_t offset, size_t count, int desc, json_t **out,
                      size_t *out_total);

/* Single resource through fhir_apply (Observation readings: through the
 * ingest contract). */
int fhir_create(struct vg_req *r)
{
  const char *type, *ine = http_header(r, "If-None-Exist");
  struct fhir_res fr;
  char err[FHIR_ERR_MAX], id[1][FHIR_ID_MAX];
  int st[1], rc;
  json_t *body = NULL, *cur;
  int64_t pid;
  int e2, version;
  struct vg_txn *t;

  if (type_param(r, &type) || allowed(r, type, 1) || parse_body(r, &body))
    return r->err;
  rc = fhir_map_resource(body, type, &fr, err);
  if (rc)
    goto fail;
  if (ine) {
    struct qlist q;
    json_t *found = NULL;
    char *copy = arena_strndup(r->arena, ine, strlen(ine));
    q_from_string(copy, &q);
    size_t total;
    if (search_ids(r, type, &q, 0, 2, 0, &found, &total)) {
      rc = r->err;
      goto out;
    }
    if (total > 1) {
      json_decref(found);
      rc = vg_fail(r, VG_EPRECOND, "If-None-Exist matches %zu resources",
                   total);
      goto out;
    }
    if (json_array_size(found) == 1) {
      json_t *o = json_incref(json_array_get(found, 0));
      json_decref(found);
      rc = send_json(r, o, 200);
      goto out;
    }
    json_decref(found);
  }
  fr.id[0] = '\0'; /* create: the server assigns ids */
  if (fr.kind == FHIR_K_READING && r->only_patient &&
      (strncmp(fr.subject, "Patient/", 8) ||
       strtoll(fr.subject + 8, NULL, 10) != r->only_patient)) {
    rc = vg_fail(r, VG_EFORBIDDEN, "Observation for %s not permitted",
                 fr.subject);
    goto out;
  }
  if (fr.kind == FHIR_K_PATIENT && r->only_patient) {
    rc = vg_fail(r, VG_EFORBIDDEN, "creating patients is not permitted");
    goto out;
  }
  rc = fhir_apply(r->app->writer, r->app->store, &fr, NULL, 1, id, st, err);
  if (rc)
    goto fail;
  rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc) {
    rc = vg_fail(r, rc, "store unavailable");
    goto out;
  }
  cur = load(t, type, id[0], &e2, &pid, &version);
  store_rollback(t);
  if (!cur) {
    rc = vg_fail(r, VG_EINTERNAL, "created %s/%s cannot be read", type,
                 id[0]);
    goto out;
  }
  r->location = arena_printf(r->arena, "/fhir/%s/%s/_history/%d", type, id[0],
                             version);
  r->audit_patient = pid;
  http_set_header(r, "ETag", etag_of(r, version));
  rc = send_json(r, cur, st[0]);
  goto out;
fail:
  rc = send_outcome(r, rc, err);
out:
  fhir_res_clear(&fr);
  json_decref(body);
  return rc;
}

struct upd_job {
  const char *type, *id;
  struct fhir_res *fr;
  json_t *old;        /* served JSON of the current version */
  int want_version;   /* If-Match, 0 = none */
  int version;        /* OUT: new version */
  char err[FHIR_ERR_MAX];
};

static int upd_fn(struct vg_txn *t, void *ctx)
{
  struct upd_job *j = ctx;
  struct meta m;
  int64_t now = vg_now_ms();
  char *old = NULL, *rest = NULL;
  int rc = meta_get(t, j->type, j->id, &m);
  if (rc)
    return rc;
  vg_free(m.body);
  if (j->want_version && j->want_version != m.version) {
    snprintf(j->err, sizeof j->err, "If-Match version %d is not the current "
             "version %d", j->want_version, m.version);
    return -VG_EPRECOND;
  }
  old = json_dumps(j->old, JSON_COMPACT);
  rest = j->fr->rest && json_object_size(j->fr->rest)
             ? json_dumps(j->fr->rest, JSON_COMPACT) : NULL;
  {
    struct vg_val h[] = {VG_TEXT(j->type), VG_TEXT(j->id), VG_INT(m.version),
                         VG_INT(m.found ? m.updated_ms : now),
                         VG_TEXT(old ? old : "{}")};
    rc = store_sql(t, "INSERT INTO fhir_history (type, id, version, "
                   "updated_ms, body) VALUES ($1, $2, $3, $4, $5)", h, 5,
                   NULL, NULL, NULL);
  }
  if (!rc && !strcmp(j->type, "Patient")) {
    const struct vg_patient *p = &j->fr->patient;
    char sex[2] = {p->sex, 0};
    struct vg_val u[] = {p->identifier[0] ? VG_TEXT(p->identifier) : VG_NULLV,
                         VG_TEXT(p->name), VG_TEXT(sex),
                         p->birth_date[0] ? VG_TEXT(p->birth_date) : VG_NULLV,
                         VG_INT(now), VG_INT(strtoll(j->id, NULL, 10))};
    rc = store_sql(t, "UPDATE patient SET identifier = $1, name = $2, sex = "
                   "$3, birth_date = $4, updated_ms = $5 WHERE id = $6", u, 6,
                   NULL, NULL, NULL);
  } else if (!rc && j->fr->kind == FHIR_K_READING) {
    /* A correction of the value; the key (code, time, source) stays. */
    int64_t pid, ts;
    uint64_t hh;
    char cp[8];
    fhir_reading_id_parse(j->id, &pid, cp, sizeof cp, &ts, &hh);
    for (size_t k = 0; k < j->fr->n_raw && !rc; k++) {
      const struct vg_code *c = codes_find(j->fr->code[k],
                                           strlen(j->fr->code[k]));
      double v;
      if (codes_to_canonical(c, j->fr->unit[k], strlen(j->fr->unit[k]),
                             j->fr->value[k], &v) ||
          codes_check_range(c, v)) {
        snprintf(j->err, sizeof j->err, "value %g %s out of range for %s",
                 j->fr->value[k], j->fr->unit[k], c->name);
        rc = -VG_EUNPROC;
        break;
      }
      {
        struct vg_val u[] = {VG_REAL(v), VG_TEXT(j->fr->unit[k]), VG_INT(pid),
                             VG_INT(c->id), VG_INT(ts),
                             VG_TEXT(j->fr->source)};
        rc = store_sql(t, "UPDATE reading SET value = $1, unit = $2 WHERE "
                       "patient_id = $3 AND code = $4 AND ts_ms = $5 AND "
                       "source = $6", u, 6, NULL, NULL, NULL);
      }
    }
  }
  if (!rc) {
    const char *b = j->fr->kind == FHIR_K_GENERIC || rest ? "" : "";
    char *gen = NULL;
    if (j->fr->kind == FHIR_K_GENERIC) {
      json_object_del(j->fr->rest, "meta");
      json_object_set_new(j->fr->rest, "id", json_string(j->id));
      gen = json_dumps(j->fr->rest, JSON_COMPACT | JSON_SORT_KEYS);
      b = gen ? gen : "";
    } else if (!strcmp(j->type, "Patient") && rest) {
      b = rest;
    }
    {
      struct vg_val u[] = {VG_TEXT(j->type), VG_TEXT(j->id),
                           VG_INT(m.version + 1), VG_INT(now), VG_TEXT(b),
                           VG_TEXT(j->fr->code_token),
                           j->fr->ts_ms == INT64_MIN ? VG_NULLV
                                                     : VG_INT(j->fr->ts_ms)};
      rc = store_sql(t, "INSERT INTO fhir_resource (type, id, version, "
                     "updated_ms, body, code, ts_ms) VALUES ($1, $2, $3, $4, "
                     "$5, $6, $7) ON CONFLICT (type, id) DO UPDATE SET "
                     "version = excluded.version, updated_ms = "
                     "excluded.updated_ms, body = excluded.body, code = "
                     "excluded.code, ts_ms = excluded.ts_ms", u, 7, NULL,
                     NULL, NULL);
    }
    free(gen); /* allocated by libjansson */
    j->version = m.version + 1;
  }
  free(old); /* allocated by libjansson */
  free(rest); /* allocated by libjansson */
  return rc;
}

int fhir_update(struct vg_req *r)
{
  const char *type, *im = http_header(r, "If-Match");
  struct fhir_res fr;
  struct upd_job j;
  char err[FHIR_ERR_MAX];
  json_t *body = NULL, *old = NULL, *cur;
  struct vg_txn *t;
  int64_t pid, pid2;
  int rc, e2, version;

  memset(&fr, 0, sizeof fr);
  if (type_param(r, &type) || allowed(r, type, 1) || parse_body(r, &body))
    return r->err;
  rc = fhir_map_resource(body, type, &fr, err);
  if (rc)
    goto fail;
  if (!fr.id[0] || strcmp(fr.id, r->params[1])) {
    rc = vg_fail(r, VG_EINVAL, "the resource id '%s' must equal the URL id "
                 "'%s'", fr.id, r->params[1]);
    goto out;
  }
  if (fhir_care_mapped(type) &&
      strspn(r->params[1], "0123456789") == strlen(r->params[1])) {
    /* numeric ids are the care tables' rows: read and search only */
    rc = vg_fail(r, VG_EMETHOD, "%s/%s is a row of Vigil's care tables; "
                 "it is changed through /api/v1, not FHIR update", type,
                 r->params[1]);
    goto out;
  }
  rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc) {
    rc = vg_fail(r, rc, "store unavailable");
    goto out;
  }
  old = load(t, type, r->params[1], &e2, &pid, &version);
  store_rollback(t);
  if (!old || !visible(r, pid)) {
    if (old || fr.kind != FHIR_K_GENERIC || r->only_patient) {
      rc = vg_fail(r, VG_ENOTFOUND, "%s/%s not found (update as create is "
                   "for types without a Vigil table only)", type,
                   r->params[1]);
      goto out;
    }
    { /* update as create with the client's id */
      char id[1][FHIR_ID_MAX];
      int st[1];
      rc = fhir_apply(r->app->writer, r->app->store, &fr, NULL, 1, id, st,
                      err);
      if (rc)
        goto fail;
      version = 1;
      goto reply;
    }
  }
  if (fr.kind == FHIR_K_READING) {
    char want[FHIR_ID_MAX];
    int64_t ts;
    int16_t off;
    vg_time_parse(fr.time, strlen(fr.time), &ts, &off);
    if (strncmp(fr.subject, "Patient/", 8) ||
        (pid2 = strtoll(fr.subject + 8, NULL, 10)) != pid) {
      rc = vg_fail(r, VG_EUNPROC, "the subject of a reading cannot change");
      goto out;
    }
    if (fr.n_raw == 2)
      fhir_reading_id(pid, "bp", ts, fr.source, want);
    else {
      char cp[8];
      const struct vg_code *c = codes_find(fr.code[0], strlen(fr.code[0]));
      snprintf(cp, sizeof cp, "%d", c->id);
      fhir_reading_id(pid, cp, ts, fr.source, want);
    }
    if (strcmp(want, r->params[1])) {
      rc = vg_fail(r, VG_EUNPROC, "code, time and device of a reading "
                   "cannot change (create a new Observation)");
      goto out;
    }
  }
  memset(&j, 0, sizeof j);
  j.type = type;
  j.id = r->params[1];
  j.fr = &fr;
  j.old = old;
  if (im) {
    const char *q = strchr(im, '"');
    j.want_version = (int)strtol(q ? q + 1 : im, NULL, 10);
    if (j.want_version <= 0) {
      rc = vg_fail(r, VG_EINVAL, "If-Match must be W/\"<version>\"");
      goto out;
    }
  }
  rc = writer_exec(r->app->writer, 1, upd_fn, &j);
  if (rc) {
    rc = vg_fail(r, rc, "%s", j.err[0] ? j.err : vg_strerror(rc));
    goto out;
  }
  if (fr.kind == FHIR_K_READING) { /* a corrected value: re-assess */
    int64_t rpid = 0, rts;
    uint64_t hh;
    char cp[8];
    if (!fhir_reading_id_parse(r->params[1], &rpid, cp, sizeof cp, &rts,
                               &hh))
      care_assess_notify(rpid);
  }
  version = j.version;
reply:
  rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc) {
    rc = vg_fail(r, rc, "store unavailable");
    goto out;
  }
  cur = load(t, type, r->params[1], &e2, &pid, &version);
  store_rollback(t);
  if (!cur) {
    rc = vg_fail(r, VG_EINTERNAL, "updated resource cannot be read");
    goto out;
  }
  http_set_header(r, "ETag", etag_of(r, version));
  r->audit_patient = pid;
  rc = send_json(r, cur, version == 1 ? 201 : 200);
  goto out;
fail:
  rc = send_outcome(r, rc, err);
out:
  json_decref(old);
  fhir_res_clear(&fr);
  json_decref(body);
  return rc;
}

/* ==== search ============================================================ */

struct gen_rows { json_t *arr; int err; };

static int gen_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct gen_rows *g = ctx;
  json_t *o = json_loads(c[3].s, 0, NULL);
  (void)n;
  if (!o)
    return 0;
  fhir_set_meta(o, c[0].s, (int)c[1].i, c[2].i);
  json_array_append_new(g->arr, o);
  return 0;
}

static int pat_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct gen_rows *g = ctx;
  struct vg_patient p;
  json_t *rest = NULL;
  (void)n;
  memset(&p, 0, sizeof p);
  p.id = c[0].i;
  if (c[1].s)
    snprintf(p.identifier, sizeof p.identifier, "%s", c[1].s);
  snprintf(p.name, sizeof p.name, "%s", c[2].s ? c[2].s : "");
  p.sex = c[3].s ? c[3].s[0] : 'U';
  if (c[4].s)
    snprintf(p.birth_date, sizeof p.birth_date, "%s", c[4].s);
  p.updated_ms = c[5].i;
  if (c[7].s && c[7].s[0])
    rest = json_loads(c[7].s, 0, NULL);
  json_array_append_new(g->arr, fhir_patient_json(
      &p, rest, c[6].type == VG_VAL_NULL ? 1 : (int)c[6].i, p.updated_ms));
  json_decref(rest);
  return 0;
}

/* date params (repeatable) -> [lo, hi). */
static int date_bounds(struct vg_req *r, struct qlist *q, const char *key,
                       int64_t *lo, int64_t *hi)
{
  for (size_t i = 0; i < q->n; i++) {
    const char *v = q->p[i].val;
    char pre[3] = "eq";
    int64_t a, b;
    if (strcmp(q->p[i].key, key))
      continue;
    q->p[i].used = 1;
    if (strlen(v) > 2 && v[0] >= 'a' && v[0] <= 'z') {
      memcpy(pre, v, 2);
      v += 2;
    }
    if (fhir_date_range(v, &a, &b))
      return vg_fail(r, VG_EINVAL, "%s '%s' is not a FHIR date", key,
                     q->p[i].val);
    if (!strcmp(pre, "eq")) {
      if (a > *lo) *lo = a;
      if (b < *hi) *hi = b;
    } else if (!strcmp(pre, "ge")) {
      if (a > *lo) *lo = a;
    } else if (!strcmp(pre, "gt")) {
      if (b > *lo) *lo = b;
    } else if (!strcmp(pre, "le")) {
      if (b < *hi) *hi = b;
    } else if (!strcmp(pre, "lt")) {
      if (a < *hi) *hi = a;
    } else {
      return vg_fail(r, VG_EINVAL, "%s prefix '%s' is not supported (eq ge "
                     "gt le lt)", key, pre);
    }
  }
  return 0;
}

static int64_t ref_patient(const char *v)
{
  if (!v)
    return 0;
  if (!strncmp(v, "Patient/", 8))
    v += 8;
  return strtoll(v, NULL, 10);
}

/* One match of an Observation search before it is rendered. */
struct item {
  int64_t ts;
  size_t seq;
  struct obs_row *o; /* a reading, or */
  json_t *j;         /* a stored resource (borrowed from the list) */
};

static int cmp_item(const void *x, const void *y)
{
  const struct item *a = x, *b = y;
  if (a->ts != b->ts)
    return a->ts < b->ts ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int64_t json_ts(json_t *o)
{
  const char *d = json_string_value(json_object_get(o, "effectiveDateTime"));
  int64_t lo = INT64_MIN, hi;
  if (d && fhir_date_range(d, &lo, &hi))
    lo = INT64_MIN;
  return lo;
}

static int has_category(json_t *o, const char *c)
{
  char *s = json_dumps(json_object_get(o, "category"), JSON_COMPACT);
  char want[80];
  int yes;
  snprintf(want, sizeof want, "\"code\":\"%s\"", c);
  yes = s && strstr(s, want) != NULL;
  free(s); /* allocated by libjansson */
  return yes;
}

/* The matches of the search: *out_total of them, and the page [offset,
 * offset + count) in date order (desc: newest first; Observations) or id
 * order as a new array in *out. Only the page is rendered. */
static int search_ids(struct vg_req *r, const char *type, struct qlist *q,
                      size_t offset, size_t count, int desc, json_t **out,
                      size_t *out_total)
{
  struct obs_list l;
  struct item *items = NULL;
  size_t n_items = 0;
  int bp_only = 0;
  struct gen_rows g = {json_array(), 0};
  struct vg_txn *t = NULL;
  int64_t lo = INT64_MIN / 2, hi = INT64_MAX / 2, since = INT64_MIN, uh;
  const char *pv = q_get(q, "patient"), *sv = q_get(q, "subject");
  const char *code = q_get(q, "code"), *idv = q_get(q, "_id");
  const char *cat = q_get(q, "category"), *lu = q_get(q, "_lastUpdated");
  int64_t pid = ref_patient(pv ? pv : sv);
  const char *catc = cat ? (strchr(cat, '|') ? strchr(cat, '|') + 1 : cat)
                         : NULL;
  int rc;

  *out = NULL;
  *out_total = 0;
  memset(&l, 0, sizeof l);
  if (date_bounds(r, q, "date", &lo, &hi))
    goto fail;
  if (lu) {
    const char *v = lu + (strncmp(lu, "ge", 2) == 0 || !strncmp(lu, "gt", 2)
                              ? 2 : 0);
    if (fhir_date_range(v, &since, &uh)) {
      vg_fail(r, VG_EINVAL, "_lastUpdated '%s' is not a date", lu);
      goto fail;
    }
  }
  if (!auth_sees_all_patients(r->principal) &&
      (pid == 0 || !visible(r, pid)) &&
      !(strcmp(type, "Patient") == 0 && r->principal &&
        r->principal->patient_id > 0)) {
    vg_fail(r, VG_EFORBIDDEN, "search needs patient=<id> of a patient you "
            "may see");
    goto fail;
  }
  rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc) {
    vg_fail(r, rc, "store unavailable");
    goto fail;
  }
  if (!strcmp(type, "Patient")) {
    const char *ident = q_get(q, "identifier"), *name = q_get(q, "name");
    int64_t blo = INT64_MIN / 2, bhi = INT64_MAX / 2;
    char like[160] = "", bl[16] = "", bh[16] = "9999-99-99", *bar;
    if (date_bounds(r, q, "birthdate", &blo, &bhi))
      goto fail;
    if (blo > INT64_MIN / 2)
      vg_time_format(blo, 0, bl, sizeof bl);
    if (bhi < INT64_MAX / 2)
      vg_time_format(bhi - 1, 0, bh, sizeof bh);
    bl[blo > INT64_MIN / 2 ? 10 : 0] = '\0';
    bh[10] = '\0';
    if (ident && (bar = strchr(ident, '|')))
      ident = bar + 1;
    if (name)
      snprintf(like, sizeof like, "%%%s%%", name);
    if (!auth_sees_all_patients(r->principal) && r->principal &&
        r->principal->patient_id > 0)
      pid = r->principal->patient_id;
    if (idv)
      pid = strtoll(idv, NULL, 10) > 0 ? strtoll(idv, NULL, 10) : -1;
    {
      struct vg_val p[] = {VG_TEXT(ident ? ident : ""), VG_TEXT(like),
                           VG_TEXT(bl), VG_TEXT(bh), VG_INT(pid)};
      rc = store_sql(t, "SELECT p.id, p.identifier, p.name, p.sex, "
                     "p.birth_date, p.updated_ms, f.version, f.body FROM "
                     "patient p LEFT JOIN fhir_resource f ON f.type = "
                     "'Patient' AND f.id = CAST(p.id AS TEXT) WHERE ($1 = '' "
                     "OR p.identifier = $1) AND ($2 = '' OR lower(p.name) "
                     "LIKE lower($2)) AND ($3 = '' OR p.birth_date >= $3) AND "
                     "($4 = '9999-99-99' OR p.birth_date <= $4) AND ($5 = 0 "
                     "OR p.id = $5) ORDER BY p.id", p, 5, pat_row, &g, NULL);
    }
    if (rc < 0) {
      vg_fail(r, rc, "patient search failed");
      goto fail;
    }
  } else {
    int want_code = -1, bp = 0; /* -1: any */
    char tok[160] = "", like[170] = "%";
    if (code) {
      const char *bar = strchr(code, '|'), *c = bar ? bar + 1 : code;
      const struct vg_code *k = codes_find(c, strlen(c));
      snprintf(tok, sizeof tok, "%s", code);
      snprintf(like, sizeof like, "%%|%s", c);
      bp = !strcmp(c, "85354-9") || !strcmp(c, "55284-4");
      bp_only = bp;
      want_code = bp ? 0 : (k ? k->id : -2);
      if (bar && bar != code && strncmp(code, "http://loinc.org|", 17))
        want_code = -2; /* Vigil's codes are LOINC */
    }
    if (!strcmp(type, "Observation") && pid > 0 && want_code != -2) {
      l.since_ms = since;
      if (bp) {
        rc = obs_query(t, pid, VG_CODE_SBP, lo, hi, &l);
        if (!rc)
          rc = obs_query(t, pid, VG_CODE_DBP, lo, hi, &l);
      } else {
        rc = obs_query(t, pid, want_code < 0 ? 0 : want_code, lo, hi, &l);
      }
      if (rc) {
        vg_fail(r, rc, "too many matches; narrow the search (date)");
        goto fail;
      }
      obs_pair(&l);
    }
    if (!(bp && !code)) {
      struct vg_val p[] = {VG_TEXT(type), VG_INT(pid), VG_TEXT(tok),
                           VG_TEXT(like), VG_INT(lo), VG_INT(hi),
                           VG_INT(lo > INT64_MIN / 2 || hi < INT64_MAX / 2),
                           VG_TEXT(idv ? idv : ""), VG_INT(since)};
      /* with a patient, the (patient_id, type, ts_ms) index; each $n
       * first appears next to a column (PostgreSQL infers its type) */
      rc = pid > 0
               ? store_sql(t, "SELECT id, version, updated_ms, body FROM "
                           "fhir_resource WHERE patient_id = $2 AND type = $1"
                           " AND body <> '' AND ($3 = '' OR code = $3 OR code"
                           " LIKE $4) AND ($7 = 0 OR (ts_ms >= $5 AND ts_ms <"
                           " $6)) AND ($8 = '' OR id = $8) AND (updated_ms "
                           ">= $9 OR $9 < 0) ORDER BY ts_ms, id", p, 9,
                           gen_row, &g, NULL)
               : store_sql(t, "SELECT id, version, updated_ms, body FROM "
                           "fhir_resource WHERE type = $1 AND body <> '' AND "
                           "($2 = 0 OR patient_id = $2) AND ($3 = '' OR code "
                           "= $3 OR code LIKE $4) AND ($7 = 0 OR (ts_ms >= $5"
                           " AND ts_ms < $6)) AND ($8 = '' OR id = $8) AND "
                           "updated_ms >= $9 ORDER BY ts_ms, id", p, 9,
                           gen_row, &g, NULL);
      if (rc < 0) {
        vg_fail(r, rc, "search failed");
        goto fail;
      }
      if (fhir_care_mapped(type)) {
        char *end = NULL;
        int64_t cid = idv ? strtoll(idv, &end, 10) : 0;
        if (idv && (*end || cid <= 0))
          cid = -1;
        rc = fhir_care_search(t, type, pid, cid, tok, lo, hi,
                              lo > INT64_MIN / 2 || hi < INT64_MAX / 2,
                              g.arr);
        if (rc < 0) {
          vg_fail(r, rc, "search failed");
          goto fail;
        }
      }
    }
  }
  /* Merge readings and stored resources into one list of matches. */
  items = vg_malloc((l.n + json_array_size(g.arr) + 1) * sizeof *items);
  if (!items) {
    vg_fail(r, VG_ENOMEM, "no memory");
    goto fail;
  }
  for (size_t i = 0; i < l.n; i++) {
    if (bp_only && !l.v[i].pair)
      continue;
    if (catc && strcmp(catc, fhir_reading_category(l.v[i].r.code)))
      continue;
    items[n_items].ts = l.v[i].r.ts_ms;
    items[n_items].seq = n_items;
    items[n_items].o = &l.v[i];
    items[n_items].j = NULL;
    n_items++;
  }
  {
    json_t *v;
    size_t i;
    json_array_foreach(g.arr, i, v) {
      if (catc && !has_category(v, catc))
        continue;
      items[n_items].ts = strcmp(type, "Observation") ? (int64_t)i
                                                      : json_ts(v);
      items[n_items].seq = n_items;
      items[n_items].o = NULL;
      items[n_items].j = v;
      n_items++;
    }
  }
  if (!strcmp(type, "Observation") && n_items > 1)
    qsort(items, n_items, sizeof *items, cmp_item);
  *out_total = n_items;
  *out = json_array();
  for (size_t k = offset; k < n_items && k < offset + count; k++) {
    struct item *it = &items[desc ? n_items - 1 - k : k];
    json_array_append_new(*out, it->o ? obs_json(t, it->o)
                                      : json_incref(it->j));
  }
  store_rollback(t);
  vg_free(items);
  obs_free(&l);
  json_decref(g.arr);
  return 0;
fail:
  if (t)
    store_rollback(t);
  vg_free(items);
  obs_free(&l);
  json_decref(g.arr);
  return r->err;
}

int fhir_search(struct vg_req *r)
{
  struct qlist q;
  const char *type, *cnt, *off, *sort, *summ, *inc, *prefer;
  json_t *page = NULL, *b, *links;
  size_t count = PAGE_DEFAULT, offset = 0, n = 0;
  struct vg_buf self;
  char *unknown = NULL;

  if (type_param(r, &type) || allowed(r, type, 0))
    return r->err;
  q_from_req(r, &q);
  cnt = q_get(&q, "_count");
  off = q_get(&q, "_offset");
  sort = q_get(&q, "_sort");
  summ = q_get(&q, "_summary");
  inc = q_get(&q, "_include");
  q_get(&q, "_format");
  if (cnt) {
    long c = strtol(cnt, NULL, 10);
    if (c < 0)
      return vg_fail(r, VG_EINVAL, "_count must be >= 0");
    count = c > PAGE_MAX ? PAGE_MAX : (size_t)c;
  }
  if (off)
    offset = (size_t)strtoull(off, NULL, 10);
  if (sort && strcmp(sort, "date") && strcmp(sort, "-date"))
    return vg_fail(r, VG_EINVAL, "_sort '%s' is not supported (date, -date)",
                   sort);
  if (inc && strcmp(inc, "Observation:patient"))
    return vg_fail(r, VG_EINVAL, "_include '%s' is not supported", inc);
  if (search_ids(r, type, &q, offset, summ && !strcmp(summ, "count") ? 0
                 : count, sort && sort[0] == '-', &page, &n))
    return r->err;
  for (size_t i = 0; i < q.n; i++)
    if (!q.p[i].used)
      unknown = arena_printf(r->arena, "%s%s%s", unknown ? unknown : "",
                             unknown ? ", " : "", q.p[i].key);
  prefer = http_header(r, "Prefer");
  if (unknown && prefer && strstr(prefer, "handling=strict")) {
    json_decref(page);
    return vg_fail(r, VG_EINVAL, "unknown search parameter(s): %s", unknown);
  }
  b = bundle("searchset", page, "match");
  json_object_set_new(b, "total", json_integer((json_int_t)n));
  if (inc && json_array_size(json_object_get(b, "entry"))) {
    json_t *e, *entries = json_object_get(b, "entry");
    json_t *seen = json_object();
    struct vg_txn *t;
    size_t i, ne = json_array_size(entries);
    if (store_begin(r->app->store, VG_TXN_READ, &t) == 0) {
      for (i = 0; i < ne; i++) {
        const char *ref = json_string_value(json_object_get(json_object_get(
            json_object_get(json_array_get(entries, i), "resource"),
            "subject"), "reference"));
        int64_t pid;
        int err, ver;
        json_t *p;
        if (!ref || strncmp(ref, "Patient/", 8) || json_object_get(seen, ref))
          continue;
        json_object_set_new(seen, ref, json_true());
        p = load(t, "Patient", ref + 8, &err, &pid, &ver);
        if (!p)
          continue;
        e = json_pack("{s:s,s:o,s:{s:s}}", "fullUrl", ref, "resource", p,
                      "search", "mode", "include");
        json_array_append_new(entries, e);
      }
      store_rollback(t);
    }
    json_decref(seen);
  }
  if (unknown) {
    char d[300];
    snprintf(d, sizeof d, "unknown search parameter(s) ignored: %s",
             unknown);
    json_array_append_new(json_object_get(b, "entry"), json_pack(
        "{s:o,s:{s:s}}", "resource", fhir_outcome("warning", "not-supported",
                                                  d), "search", "mode",
        "outcome"));
  }
  /* self and next links keep every parameter but _offset */
  buf_init(&self, 8192);
  {
    const char *host = http_header(r, "Host");
    buf_printf(&self, "%s%s/fhir/%s?", host ? "http://" : "",
               host ? host : "", type);
  }
  for (size_t i = 0; i < q.n; i++) {
    if (!strcmp(q.p[i].key, "_offset"))
      continue;
    buf_printf(&self, "%s=", q.p[i].key);
    for (const char *c = q.p[i].val; *c; c++)
      if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
          (*c >= '0' && *c <= '9') || strchr("-._~:/", *c))
        buf_putc(&self, *c);
      else
        buf_printf(&self, "%%%02X", (unsigned char)*c);
    buf_putc(&self, '&');
  }
  links = json_array();
  json_array_append_new(links, json_pack("{s:s,s:s+}", "relation", "self",
                        "url", self.data, arena_printf(r->arena, "_offset=%zu",
                                                       offset)));
  if (!(summ && !strcmp(summ, "count")) && offset + count < n && count > 0)
    json_array_append_new(links, json_pack(
        "{s:s,s:s+}", "relation", "next", "url", self.data,
        arena_printf(r->arena, "_offset=%zu", offset + count)));
  buf_free(&self);
  json_object_set_new(b, "link", links);
  return send_json(r, b, 200);
}

/* ==== transaction and batch Bundles ===================================== */

static const char *entry_type(json_t *e, const char **out_method)
{
  json_t *req = json_object_get(e, "request");
  const char *m = json_string_value(json_object_get(req, "method"));
  const char *url = json_string_value(json_object_get(req, "url"));
  const char *rt = json_string_value(json_object_get(
      json_object_get(e, "resource"), "resourceType"));
  *out_method = m;
  if (!url)
    return NULL;
  (void)rt;
  return url;
}

static json_t *entry_response(const char *status, const char *loc,
                              json_t *outcome)
{
  json_t *e = json_pack("{s:{s:s}}", "response", "status", status);
  if (loc)
    json_object_set_new(json_object_get(e, "response"), "location",
                        json_string(loc));
  if (outcome)
    json_object_set_new(json_object_get(e, "response"), "outcome", outcome);
  return e;
}

int fhir_bundle(struct vg_req *r)
{
  json_t *body = NULL, *entries, *e, *out_entries;
  const char *btype;
  struct fhir_res *res = NULL;
  const char **urls = NULL;
  char (*ids)[FHIR_ID_MAX] = NULL;
  int *st = NULL, rc = 0, tx;
  char err[FHIR_ERR_MAX];
  size_t n, i;

  if (parse_body(r, &body))
    return r->err;
  if (strcmp(json_string_value(json_object_get(body, "resourceType")) ?
             json_string_value(json_object_get(body, "resourceType")) : "",
             "Bundle")) {
    rc = vg_fail(r, VG_EINVAL, "POST /fhir takes a Bundle");
    goto out;
  }
  btype = json_string_value(json_object_get(body, "type"));
  if (!btype || (strcmp(btype, "transaction") && strcmp(btype, "batch"))) {
    rc = vg_fail(r, VG_EINVAL, "Bundle.type must be transaction or batch, "
                 "not '%s'", btype ? btype : "(missing)");
    goto out;
  }
  tx = !strcmp(btype, "transaction");
  entries = json_object_get(body, "entry");
  if (entries && !json_is_array(entries)) {
    rc = vg_fail(r, VG_EINVAL, "Bundle.entry must be an array");
    goto out;
  }
  n = json_array_size(entries);
  res = vg_calloc(n + 1, sizeof *res);
  urls = vg_calloc(n + 1, sizeof *urls);
  ids = vg_calloc(n + 1, sizeof *ids);
  st = vg_calloc(n + 1, sizeof *st);
  out_entries = json_array();
  /* Validate every entry first: a transaction fails as a whole. */
  json_array_foreach(entries, i, e) {
    const char *method, *url = entry_type(e, &method);
    json_t *resource = json_object_get(e, "resource");
    const char *full = json_string_value(json_object_get(e, "fullUrl"));
    const char *want;
    char why[FHIR_ERR_MAX + 64] = "";
    int erc = 0;
    res[i].ts_ms = INT64_MIN;
    if (!method || !url || (strcmp(method, "POST") && strcmp(method, "PUT"))) {
      snprintf(why, sizeof why, "entry %zu: request.method must be POST or "
               "PUT with a request.url (got %s)", i,
               method ? method : "none");
      erc = -VG_EINVAL;
    } else if (!resource) {
      snprintf(why, sizeof why, "entry %zu: resource is required", i);
      erc = -VG_EINVAL;
    } else {
      size_t tl = strcspn(url, "/?");
      want = fhir_type_known(url, tl);
      if (!want) {
        snprintf(why, sizeof why, "entry %zu: type in url '%s' is not "
                 "supported", i, url);
        erc = -VG_ENOTFOUND;
      } else if (allowed(r, want, 1)) {
        snprintf(why, sizeof why, "entry %zu: %s", i, r->err_msg);
        erc = -VG_EFORBIDDEN;
        r->err = 0;
        r->err_msg[0] = '\0';
      } else if ((erc = fhir_map_resource(resource, want, &res[i], err))) {
        snprintf(why, sizeof why, "entry %zu: %s", i, err);
      } else if (!strcmp(method, "PUT") && res[i].kind != FHIR_K_GENERIC) {
        snprintf(why, sizeof why, "entry %zu: PUT of %s in a Bundle is not "
                 "supported (use PUT /fhir/%s/{id})", i, want, want);
        erc = -VG_EUNPROC;
      } else if (!strcmp(method, "POST")) {
        res[i].id[0] = '\0';
      } else if (url[tl] == '/') {
        snprintf(res[i].id, sizeof res[i].id, "%s", url + tl + 1);
      }
      if (full && strncmp(full, "urn:uuid:", 9) == 0 && strlen(full) <= 9) {
        snprintf(why, sizeof why, "entry %zu: fullUrl '%s' is not a uuid", i,
                 full);
        erc = -VG_EINVAL;
      }
      for (size_t k = 0; !erc && full && k < i; k++)
        if (urls[k] && !strcmp(urls[k], full)) {
          snprintf(why, sizeof why, "entry %zu: fullUrl '%s' appears twice",
                   i, full);
          erc = -VG_EINVAL;
        }
    }
    urls[i] = full;
    if (erc) {
      if (tx) {
        rc = vg_fail(r, erc, "%s", why);
        goto out_free;
      }
      st[i] = -erc;
      json_array_append_new(out_entries, entry_response(
          arena_printf(r->arena, "%d", vg_http_status(erc)), NULL,
          fhir_outcome("error", "invalid", why)));
      res[i].kind = 0;
      continue;
    }
    json_array_append_new(out_entries, json_null());
  }
  if (tx) {
    rc = fhir_apply(r->app->writer, r->app->store, res, urls, n, ids, st,
                    err);
    if (rc) {
      rc = vg_fail(r, rc, "transaction rolled back: %s", err);
      goto out_free;
    }
  } else {
    for (i = 0; i < n; i++) {
      if (res[i].kind == 0)
        continue;
      rc = fhir_apply(r->app->writer, r->app->store, &res[i], NULL, 1,
                      &ids[i], &st[i], err);
      if (rc) {
        json_array_set_new(out_entries, i, entry_response(
            arena_printf(r->arena, "%d", vg_http_status(rc)), NULL,
            fhir_outcome("error", "processing", err)));
        res[i].kind = 0;
      }
    }
    rc = 0;
  }
  for (i = 0; i < n; i++) {
    if (res[i].kind == 0)
      continue;
    json_array_set_new(out_entries, i, entry_response(
        st[i] == 201 ? "201 Created" : "200 OK",
        arena_printf(r->arena, "%s/%s/_history/1", res[i].type, ids[i]),
        NULL));
  }
  rc = send_json(r, json_pack("{s:s,s:s,s:o}", "resourceType", "Bundle",
                              "type", tx ? "transaction-response"
                                         : "batch-response", "entry",
                              out_entries), 200);
  out_entries = NULL;
out_free:
  json_decref(out_entries);
  for (i = 0; i < n; i++)
    fhir_res_clear(&res[i]);
  vg_free(res);
  vg_free(urls);
  vg_free(ids);
  vg_free(st);
out:
  json_decref(body);
  return rc;
}
