/* fhir_export.c - FHIR Bulk Data 2.0 export: NDJSON per type written from
 * the tables (one READ transaction, streamed row by row), the kick-off /
 * status / cancel / file handlers, and the de-identified mode (no names or
 * identifiers, dates shifted per patient, ages over 89 grouped, free text
 * dropped). docs/export.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core_alloc.h"
#include "api.h"
#include "auth.h"
#include "codes.h"
#include "config.h"
#include "core_arena.h"
#include "core_errors.h"
#include "core_time.h"
#include "fhir.h"
#include "store.h"
#include "store_writer.h"

#define DAY_MS 86400000LL
#define AGE_GROUP_URL "https://vigil.example/fhir/StructureDefinition/age-group"

/* ==== de-identification ================================================= */

struct deid {
  int on;
  unsigned char key[crypto_generichash_KEYBYTES]; /* per export, random */
};

static uint64_t keyed(const struct deid *d, const char *s)
{
  unsigned char h[8];
  uint64_t v = 0;
  crypto_generichash(h, sizeof h, (const unsigned char *)s, strlen(s),
                     d->key, sizeof d->key);
  for (int i = 0; i < 8; i++)
    v = (v << 8) | h[i];
  return v;
}

/* Per-patient shift of every date by 1..180 days either way, never 0
 * (whole days, so intervals within a patient are kept). */
static int64_t shift_ms(const struct deid *d, int64_t pid)
{
  char s[24];
  int64_t k;
  snprintf(s, sizeof s, "%lld", (long long)pid);
  k = (int64_t)(keyed(d, s) % 360);
  return (k < 180 ? k - 180 : k - 179) * DAY_MS;
}

static void pseudo(const struct deid *d, const char *type, const char *id,
                   char *out, size_t len)
{
  char s[160];
  snprintf(s, sizeof s, "%s/%s", type, id);
  snprintf(out, len, "%016llx", (unsigned long long)keyed(d, s));
}

static void shift_field(json_t *o, const char *key, int64_t by)
{
  const char *v = json_string_value(json_object_get(o, key));
  int64_t lo, hi;
  char buf[40];
  if (!v || fhir_date_range(v, &lo, &hi))
    return;
  if (strlen(v) <= 10) {
    vg_time_format(lo + by, 0, buf, sizeof buf);
    buf[strlen(v)] = '\0';
  } else {
    vg_time_format(lo + by, 0, buf, sizeof buf);
  }
  json_object_set_new(o, key, json_string(buf));
}

static const char *const drop_elems[] = {
    "text", "identifier", "name", "telecom", "address", "photo", "contact",
    "note", "description", "payload", "device", "performer", "generalPractitioner",
    "managingOrganization", "link", "communication", "alias",
    /* free-form: US Core birthPlace, mothersMaidenName, ... */
    "extension", "modifierExtension", NULL};
static const char *const date_elems[] = {
    "effectiveDateTime", "effectiveInstant", "issued", "onsetDateTime",
    "abatementDateTime", "recordedDate", "authoredOn", "sent", "received",
    "lastModified", NULL};

/* Rewrite o in place; pid is its patient (0 = none). */
static void deidentify(const struct deid *d, json_t *o, const char *type,
                       int64_t pid, int64_t now_ms)
{
  const char *id = json_string_value(json_object_get(o, "id"));
  int64_t by = pid ? shift_ms(d, pid) : 0;
  char pid_s[24], ps[40], ref[64];
  json_t *subj;
  if (id) {
    pseudo(d, type, id, ps, sizeof ps);
    json_object_set_new(o, "id", json_string(ps));
  }
  json_object_del(o, "meta");
  for (const char *const *e = drop_elems; *e; e++)
    json_object_del(o, *e);
  for (const char *const *e = date_elems; *e; e++)
    shift_field(o, *e, by);
  shift_field(json_object_get(o, "effectivePeriod"), "start", by);
  shift_field(json_object_get(o, "effectivePeriod"), "end", by);
  if (!strcmp(type, "Patient")) {
    const char *bd = json_string_value(json_object_get(o, "birthDate"));
    int64_t lo, hi;
    if (bd && fhir_date_range(bd, &lo, &hi) == 0 &&
        (now_ms - lo) / (DAY_MS * 36525 / 100) > 89) {
      json_object_del(o, "birthDate");
      json_object_set_new(o, "_birthDate", json_pack(
          "{s:[{s:s,s:s}]}", "extension", "url", AGE_GROUP_URL,
          "valueString", "90+"));
    } else {
      shift_field(o, "birthDate", by);
    }
    json_object_del(o, "deceasedDateTime");
  }
  for (const char *const *k = (const char *const[]){"subject", "patient",
                                                    "for", NULL}; *k; k++) {
    subj = json_object_get(o, *k);
    if (json_is_object(subj) && pid) {
      snprintf(pid_s, sizeof pid_s, "%lld", (long long)pid);
      pseudo(d, "Patient", pid_s, ps, sizeof ps);
      snprintf(ref, sizeof ref, "Patient/%s", ps);
      json_object_clear(subj);
      json_object_set_new(subj, "reference", json_string(ref));
    }
  }
}

/* ==== writing NDJSON ==================================================== */

struct sink {
  FILE *f;
  const char *type;
  size_t count;
  int64_t since_ms;
  json_t *members;      /* Group export: object of "<pid>" keys, or NULL */
  const struct deid *d;
  int64_t now_ms;
  struct vg_txn *t;
  volatile int *cancel;
  /* BP pairing of reading rows: the previous row */
  int have_prev;
  struct vg_reading prev;
  char prev_src[256];
  int64_t prev_ingested;
  int err;
};

static int member_ok(struct sink *s, int64_t pid)
{
  char k[24];
  if (!s->members)
    return 1;
  snprintf(k, sizeof k, "%lld", (long long)pid);
  return json_object_get(s->members, k) != NULL;
}

static int emit(struct sink *s, json_t *o, int64_t pid)
{
  char *line;
  if (!o)
    return 0;
  if (s->d->on)
    deidentify(s->d, o, s->type, pid, s->now_ms);
  line = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  if (!line)
    return -VG_ENOMEM;
  if (fputs(line, s->f) == EOF || fputc('\n', s->f) == EOF) {
    free(line); /* allocated by libjansson */
    return -VG_EIO;
  }
  free(line); /* allocated by libjansson */
  s->count++;
  if (s->cancel && *s->cancel)
    return -VG_EUNAVAIL;
  return 0;
}

static int patient_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct sink *s = ctx;
  struct vg_patient p;
  json_t *rest = NULL;
  (void)n;
  if (c[5].i < s->since_ms || !member_ok(s, c[0].i))
    return 0;
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
  s->err = emit(s, fhir_patient_json(&p, rest, c[6].type == VG_VAL_NULL
                                                   ? 1 : (int)c[6].i,
                                     p.updated_ms), p.id);
  json_decref(rest);
  return s->err ? 1 : 0;
}

static int flush_prev(struct sink *s, const struct vg_reading *dbp)
{
  int rc;
  if (!s->have_prev)
    return 0;
  s->have_prev = 0;
  rc = emit(s, fhir_reading_json(&s->prev, dbp, 1, s->prev_ingested),
            s->prev.patient_id);
  return rc;
}

/* Rows in (patient, ts, source, code) order: a systolic directly followed
 * by the diastolic of the same time and source is one BP Observation. */
static int reading_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct sink *s = ctx;
  struct vg_reading r;
  char src[256];
  (void)n;
  if (!member_ok(s, c[0].i))
    return 0;
  memset(&r, 0, sizeof r);
  r.patient_id = c[0].i;
  r.code = (int)c[1].i;
  r.ts_ms = c[2].i;
  snprintf(src, sizeof src, "%.*s", (int)c[3].len, c[3].s);
  r.source = src;
  r.value = c[4].type == VG_VAL_REAL ? c[4].d : (double)c[4].i;
  r.tz_offset_min = c[5].type == VG_VAL_NULL ? VG_TZ_UNKNOWN : (int16_t)c[5].i;
  if (s->have_prev && r.code == VG_CODE_DBP &&
      s->prev.code == VG_CODE_SBP && s->prev.patient_id == r.patient_id &&
      s->prev.ts_ms == r.ts_ms && !strcmp(s->prev_src, src)) {
    s->err = flush_prev(s, &r);
    return s->err ? 1 : 0;
  }
  if ((s->err = flush_prev(s, NULL)))
    return 1;
  s->prev = r;
  snprintf(s->prev_src, sizeof s->prev_src, "%s", src);
  s->prev.source = s->prev_src;
  s->prev_ingested = c[6].i;
  s->have_prev = 1;
  return 0;
}

static int generic_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct sink *s = ctx;
  json_t *o;
  (void)n;
  if (!member_ok(s, c[3].i) && !(s->members && c[3].i == 0))
    return 0;
  o = json_loads(c[4].s, 0, NULL);
  if (!o)
    return 0;
  fhir_set_meta(o, c[0].s, (int)c[1].i, c[2].i);
  s->err = emit(s, o, c[3].i);
  return s->err ? 1 : 0;
}

static int grab(void *c, const struct vg_val *v, size_t n)
{
  char **b = c;
  (void)n;
  *b = vg_strndup(v[0].s ? v[0].s : "", v[0].len);
  return 1;
}

static int group_members(struct vg_txn *t, const char *gid, json_t **out)
{
  struct vg_val k[] = {VG_TEXT(gid)};
  json_t *m = json_object(), *g = NULL, *e;
  char *body = NULL;
  size_t i;
  int rc;
  rc = store_sql(t, "SELECT body FROM fhir_resource WHERE type = 'Group' "
                 "AND id = $1", k, 1, grab, &body, NULL);
  if (rc < 0 || !body) {
    json_decref(m);
    vg_free(body);
    return rc < 0 ? rc : -VG_ENOTFOUND;
  }
  g = json_loads(body, 0, NULL);
  vg_free(body);
  json_array_foreach(json_object_get(g, "member"), i, e) {
    const char *ref = json_string_value(json_object_get(
        json_object_get(e, "entity"), "reference"));
    if (ref && !strncmp(ref, "Patient/", 8))
      json_object_set_new(m, ref + 8, json_true());
  }
  json_decref(g);
  *out = m;
  return 0;
}

static int type_wanted(const char *types, const char *t)
{
  size_t n = strlen(t);
  const char *p = types;
  if (!types || !types[0])
    return 1;
  while ((p = strstr(p, t)) != NULL) {
    if ((p == types || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
      return 1;
    p += n;
  }
  return 0;
}

int fhir_export_run(struct vg_store *st, const char *dir, const char *types,
                    int64_t since_ms, const char *group_id, int deid,
                    volatile int *progress, volatile int *cancel,
                    json_t **out_manifest)
{
  size_t n_types;
  const char *const *tl = fhir_types(&n_types);
  struct vg_txn *t = NULL;
  struct deid d;
  json_t *out = json_array(), *members = NULL;
  int rc = 0;

  *out_manifest = NULL;
  memset(&d, 0, sizeof d);
  d.on = deid;
  randombytes_buf(d.key, sizeof d.key);
  if (mkdir(dir, 0700) && errno != EEXIST) {
    json_decref(out);
    return -VG_EIO;
  }
  rc = store_begin(st, VG_TXN_READ, &t);
  if (rc)
    goto fail;
  if (group_id && group_id[0] && (rc = group_members(t, group_id, &members)))
    goto fail;
  for (size_t i = 0; i < n_types; i++) {
    struct sink s;
    char path[1024];
    struct vg_val since[] = {VG_INT(since_ms)};
    if (!type_wanted(types, tl[i]))
      continue;
    memset(&s, 0, sizeof s);
    snprintf(path, sizeof path, "%s/%s.ndjson", dir, tl[i]);
    s.f = fopen(path, "w");
    if (!s.f) {
      rc = -VG_EIO;
      goto fail;
    }
    s.type = tl[i];
    s.since_ms = since_ms;
    s.members = members;
    s.d = &d;
    s.now_ms = vg_now_ms();
    s.t = t;
    s.cancel = cancel;
    if (!strcmp(tl[i], "Patient")) {
      rc = store_sql(t, "SELECT p.id, p.identifier, p.name, p.sex, "
                     "p.birth_date, p.updated_ms, f.version, f.body FROM "
                     "patient p LEFT JOIN fhir_resource f ON f.type = "
                     "'Patient' AND f.id = CAST(p.id AS TEXT) ORDER BY p.id",
                     NULL, 0, patient_row, &s, NULL);
    } else {
      if (!strcmp(tl[i], "Observation")) {
        rc = store_sql(t, "SELECT patient_id, code, ts_ms, source, value, "
                       "tz_offset_min, ingested_ms FROM reading WHERE "
                       "ingested_ms >= $1 ORDER BY patient_id, ts_ms, "
                       "source, code", since, 1, reading_row, &s, NULL);
        if (rc >= 0 && !s.err)
          s.err = flush_prev(&s, NULL);
      }
      if (rc >= 0 && !s.err) {
        struct vg_val p[] = {VG_TEXT(tl[i]), VG_INT(since_ms)};
        rc = store_sql(t, "SELECT id, version, updated_ms, patient_id, body "
                       "FROM fhir_resource WHERE type = $1 AND body <> '' "
                       "AND updated_ms >= $2 ORDER BY id", p, 2,
                       generic_row, &s, NULL);
      }
    }
    if (fclose(s.f) && !rc)
      rc = -VG_EIO;
    if (s.err)
      rc = s.err;
    if (rc < 0)
      goto fail;
    rc = 0;
    if (s.count)
      json_array_append_new(out, json_pack("{s:s,s:s+,s:I}", "type", tl[i],
                                           "url", tl[i], ".ndjson", "count",
                                           (json_int_t)s.count));
    else
      unlink(path);
    if (progress)
      *progress = (int)(100 * (i + 1) / n_types);
  }
  store_rollback(t);
  json_decref(members);
  *out_manifest = out;
  return 0;
fail:
  if (t)
    store_rollback(t);
  json_decref(members);
  json_decref(out);
  return rc;
}

/* ==== HTTP: kick-off, status, cancel, files ============================= */

/* Export files live next to the SQLite file (or under var/ with pg). */
static void export_dir(struct vg_req *r, const char *id, char *out,
                       size_t len)
{
  const char *db = r->app->cfg->db, *slash = strrchr(db, '/');
  char base[768];
  if (slash)
    snprintf(base, sizeof base, "%.*s/exports", (int)(slash - db), db);
  else
    snprintf(base, sizeof base, "exports");
  /* mkdir -p: with --pg the default db path's directory (var/) may not
   * exist in the server's working directory. */
  for (char *p = base + 1; *p; p++) {
    if (*p == '/') {
      *p = '\0';
      mkdir(base, 0700);
      *p = '/';
    }
  }
  mkdir(base, 0700);
  snprintf(out, len, "%s%s%s", base, id ? "/" : "", id ? id : "");
}

static const char *base_url(struct vg_req *r)
{
  const char *host = http_header(r, "Host");
  return arena_printf(r->arena, "http://%s", host ? host : "localhost");
}

static int valid_job_id(const char *id)
{
  return strlen(id) == 32 && strspn(id, "0123456789abcdef") == 32;
}

struct kick_job {
  const char *id, *request, *types, *group;
  int64_t since_ms, user_id;
  int deid, progress;
  const char *manifest, *status, *error;
};

static int kick_fn(struct vg_txn *t, void *ctx)
{
  struct kick_job *k = ctx;
  struct vg_val p[] = {VG_TEXT(k->id), VG_TEXT(k->status),
                       VG_TEXT(k->request), VG_TEXT(k->types),
                       VG_INT(k->since_ms), VG_TEXT(k->group),
                       VG_INT(k->deid), VG_INT(k->user_id),
                       VG_INT(k->progress), VG_INT(vg_now_ms()),
                       VG_TEXT(k->manifest), VG_TEXT(k->error)};
  return store_sql(t, "INSERT INTO fhir_export (id, status, request, params,"
                   " since_ms, group_id, deidentify, user_id, progress, "
                   "created_ms, done_ms, manifest, error) VALUES ($1, $2, $3,"
                   " $4, $5, $6, $7, $8, $9, $10, $10, $11, $12)", p, 12,
                   NULL, NULL, NULL);
}

int fhir_export_kickoff(struct vg_req *r)
{
  const char *types = http_query(r, "_type"), *since = http_query(r, "_since");
  const char *deid_q = http_query(r, "_deidentify");
  const char *fmt = http_query(r, "_outputFormat");
  struct kick_job k;
  unsigned char rb[16];
  char id[33], dir[1024];
  json_t *man = NULL, *doc;
  int64_t since_ms = 0, hi;
  int rc;
  char *ms;

  if (fmt && strcmp(fmt, "application/fhir+ndjson") &&
      strcmp(fmt, "application/ndjson") && strcmp(fmt, "ndjson"))
    return vg_fail(r, VG_EINVAL, "_outputFormat '%s' is not supported "
                   "(application/fhir+ndjson)", fmt);
  if (since && fhir_date_range(since, &since_ms, &hi))
    return vg_fail(r, VG_EINVAL, "_since '%s' is not a FHIR instant", since);
  if (types) {
    const char *p = types;
    while (*p) {
      size_t n = strcspn(p, ",");
      if (!fhir_type_known(p, n))
        return vg_fail(r, VG_EINVAL, "_type '%.*s' is not exported", (int)n,
                       p);
      p += n + (p[n] == ',');
    }
  }
  randombytes_buf(rb, sizeof rb);
  for (int i = 0; i < 16; i++)
    snprintf(id + 2 * i, 3, "%02x", rb[i]);
  memset(&k, 0, sizeof k);
  k.id = id;
  k.request = arena_printf(r->arena, "%s%s", base_url(r), r->path);
  k.types = types ? types : "";
  k.group = r->params[0] ? r->params[0] : "";
  k.since_ms = since_ms;
  k.user_id = r->principal ? r->principal->user_id : 0;
  /* a researcher only ever gets de-identified data */
  k.deid = (deid_q && !strcmp(deid_q, "true")) ||
           (r->principal && !strcmp(r->principal->role, "researcher"));
  export_dir(r, id, dir, sizeof dir);
  rc = fhir_export_run(r->app->store, dir, types,
                       since_ms, k.group, k.deid, &k.progress, NULL, &man);
  if (rc == -VG_ENOTFOUND)
    return vg_fail(r, rc, "Group/%s not found", k.group);
  if (rc)
    return vg_fail(r, rc, "export failed");
  {
    size_t i;
    json_t *o;
    json_array_foreach(man, i, o) {
      const char *f = json_string_value(json_object_get(o, "url"));
      json_object_set_new(o, "url", json_string(arena_printf(
          r->arena, "%s/fhir/_export/%s/%s", base_url(r), id, f)));
    }
  }
  doc = json_pack("{s:s,s:s,s:b,s:o,s:[]}", "transactionTime",
                  arena_printf(r->arena, "%lld", 0LL), "request", k.request,
                  "requiresAccessToken", 1, "output", man, "error");
  {
    char ts[40];
    vg_time_format(vg_now_ms(), 0, ts, sizeof ts);
    json_object_set_new(doc, "transactionTime", json_string(ts));
  }
  ms = json_dumps(doc, JSON_COMPACT);
  json_decref(doc);
  k.manifest = ms ? ms : "";
  k.status = "done";
  k.error = "";
  rc = writer_exec(r->app->writer, 1, kick_fn, &k);
  free(ms); /* allocated by libjansson */
  if (rc)
    return vg_fail(r, rc, "cannot record the export job");
  r->status = 202;
  http_set_header(r, "Content-Location", arena_printf(
      r->arena, "%s/fhir/_export/%s", base_url(r), id));
  r->content_type = "application/fhir+json";
  buf_puts(&r->out, "{\"resourceType\":\"OperationOutcome\",\"issue\":[{"
           "\"severity\":\"information\",\"code\":\"informational\","
           "\"diagnostics\":\"export accepted; poll Content-Location\"}]}");
  return 0;
}

struct job_row {
  int found;
  char status[16];
  int progress;
  int64_t user_id;
  char *manifest;
};

static int job_row_cb(void *ctx, const struct vg_val *c, size_t n)
{
  struct job_row *j = ctx;
  (void)n;
  j->found = 1;
  snprintf(j->status, sizeof j->status, "%s", c[0].s);
  j->progress = (int)c[1].i;
  j->user_id = c[2].i;
  j->manifest = vg_strndup(c[3].s ? c[3].s : "", c[3].len);
  return 0;
}

static int job_get(struct vg_req *r, struct job_row *j)
{
  struct vg_txn *t;
  struct vg_val k[] = {VG_TEXT(r->params[0])};
  int rc;
  memset(j, 0, sizeof *j);
  if (!valid_job_id(r->params[0]))
    return vg_fail(r, VG_ENOTFOUND, "no export job '%s'", r->params[0]);
  rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc)
    return vg_fail(r, rc, "store unavailable");
  rc = store_sql(t, "SELECT status, progress, user_id, manifest FROM "
                 "fhir_export WHERE id = $1", k, 1, job_row_cb, j, NULL);
  store_rollback(t);
  if (rc < 0)
    return vg_fail(r, rc, "store unavailable");
  /* only its owner (or an admin) may see a job */
  if (!j->found || !strcmp(j->status, "cancelled") ||
      (r->principal && j->user_id != r->principal->user_id &&
       strcmp(r->principal->role, "admin"))) {
    vg_free(j->manifest);
    return vg_fail(r, VG_ENOTFOUND, "no export job '%s'", r->params[0]);
  }
  return 0;
}

int fhir_export_status(struct vg_req *r)
{
  struct job_row j;
  if (job_get(r, &j))
    return r->err;
  if (strcmp(j.status, "done")) {
    r->status = 202;
    http_set_header(r, "X-Progress", arena_printf(r->arena, "%d%%",
                                                  j.progress));
    vg_free(j.manifest);
    return 0;
  }
  buf_puts(&r->out, j.manifest);
  vg_free(j.manifest);
  r->content_type = "application/json";
  return 0;
}

static int cancel_fn(struct vg_txn *t, void *ctx)
{
  struct vg_val k[] = {VG_TEXT(ctx)};
  return store_sql(t, "UPDATE fhir_export SET status = 'cancelled' WHERE id "
                   "= $1", k, 1, NULL, NULL, NULL);
}

int fhir_export_cancel(struct vg_req *r)
{
  struct job_row j;
  char dir[1024], path[1200];
  size_t n;
  const char *const *tl = fhir_types(&n);
  int rc;
  if (job_get(r, &j))
    return r->err;
  vg_free(j.manifest);
  rc = writer_exec(r->app->writer, 1, cancel_fn, (void *)r->params[0]);
  if (rc)
    return vg_fail(r, rc, "cannot cancel");
  export_dir(r, r->params[0], dir, sizeof dir);
  for (size_t i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/%s.ndjson", dir, tl[i]);
    unlink(path);
  }
  rmdir(dir);
  r->status = 202;
  return 0;
}

int fhir_export_file(struct vg_req *r)
{
  struct job_row j;
  char dir[1024], path[1200];
  const char *f = r->params[1];
  size_t n = strlen(f);
  FILE *fp;
  char chunk[65536];
  size_t got;
  if (job_get(r, &j))
    return r->err;
  vg_free(j.manifest);
  if (n < 8 || strcmp(f + n - 7, ".ndjson") ||
      !fhir_type_known(f, n - 7))
    return vg_fail(r, VG_ENOTFOUND, "no file '%s'", f);
  export_dir(r, r->params[0], dir, sizeof dir);
  snprintf(path, sizeof path, "%s/%s", dir, f);
  fp = fopen(path, "r");
  if (!fp)
    return vg_fail(r, VG_ENOTFOUND, "no file '%s'", f);
  while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0)
    if (buf_append(&r->out, chunk, got)) {
      fclose(fp);
      return vg_fail(r, VG_ETOOBIG, "file too large to serve");
    }
  fclose(fp);
  r->content_type = "application/fhir+ndjson";
  return 0;
}
