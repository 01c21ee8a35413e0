/* fhir_store.c - writing mapped FHIR resources to Vigil's tables in one
 * writer job (all or nothing), and reading them back: Patient from the
 * patient table, reading Observations from the reading table (validated
 * through the ingest contract first), other types from fhir_resource. */
#include "core_alloc.h"
#include "care_assess.h"
#include "fhir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "codes.h"
#include "core_arena.h"
#include "core_errors.h"
#include "core_time.h"
#include "ingest.h"
#include "store_writer.h"

struct apply_job {
  struct fhir_res *res;
  const char *const *full_urls;
  size_t n;
  char (*ids)[FHIR_ID_MAX];
  int *status;
  char *err;
  struct vg_reading *rd; /* 2 per resource */
};

/* "Patient/12" or a full URL of an earlier entry -> patient id. */
static int resolve_patient(struct apply_job *j, size_t upto, const char *ref,
                           int64_t *out)
{
  char *end;
  if (!ref)
    return -VG_EINVAL;
  if (strncmp(ref, "Patient/", 8) == 0) {
    *out = strtoll(ref + 8, &end, 10);
    return (end != ref + 8 && !*end && *out > 0) ? 0 : -VG_ENOTFOUND;
  }
  for (size_t i = 0; i < upto; i++)
    if (j->full_urls && j->full_urls[i] && strcmp(j->full_urls[i], ref) == 0 &&
        j->res[i].kind == FHIR_K_PATIENT) {
      *out = strtoll(j->ids[i], &end, 10);
      return 0;
    }
  return -VG_ENOTFOUND;
}

static int row_exists(void *ctx, const struct vg_val *c, size_t n)
{
  (void)c;
  (void)n;
  *(int *)ctx = 1;
  return 0;
}

static int first_int(void *ctx, const struct vg_val *c, size_t n)
{
  (void)n;
  *(int64_t *)ctx = c[0].i;
  return 1;
}

static void new_id(char *id)
{
  unsigned char b[16];
  randombytes_buf(b, sizeof b);
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(id, FHIR_ID_MAX,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x"
           "%02x", b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
           b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* SNOMED CT codes of a Condition -> the care programme it enrols in
 * (patient_condition, 003_care_org.sql). Codes: the concepts the Synthea
 * set uses (its README) and their parents in SNOMED CT. */
static const struct {
  const char *snomed, *programme;
} programmes[] = {
    {"38341003", "hypertension"},   /* hypertensive disorder */
    {"59621000", "hypertension"},   /* essential hypertension */
    {"44054006", "t2d"},            /* diabetes mellitus type 2 */
    {"431855005", "ckd"},           /* CKD stage 1 */
    {"431856006", "ckd"},           /* CKD stage 2 */
    {"433144002", "ckd"},           /* CKD stage 3 */
    {"127013003", "ckd"},           /* diabetic renal disease */
    {"709044004", "ckd"},           /* chronic kidney disease */
    {"13645005", "copd"},           /* chronic obstructive lung disease */
    {"185086009", "copd"},          /* chronic obstructive bronchitis */
    {"87433001", "copd"},           /* pulmonary emphysema */
    {"49436004", "af"},             /* atrial fibrillation */
    {"88805009", "heart_failure"},  /* chronic congestive heart failure */
    {"84114007", "heart_failure"},  /* heart failure */
};

const char *fhir_programme_of(const char *snomed)
{
  for (size_t i = 0; snomed && i < sizeof programmes / sizeof *programmes;
       i++)
    if (!strcmp(programmes[i].snomed, snomed))
      return programmes[i].programme;
  return NULL;
}

const char *fhir_programme_snomed(const char *programme)
{
  for (size_t i = 0; i < sizeof programmes / sizeof *programmes; i++)
    if (!strcmp(programmes[i].programme, programme))
      return programmes[i].snomed;
  return NULL;
}

/* Enrol the patient of a Condition in its programme (once per patient and
 * programme; a resolved Condition records the programme as resolved). */
static int enrol(struct vg_txn *t, json_t *cond, int64_t pid, int64_t now)
{
  json_t *coding = json_object_get(json_object_get(cond, "code"), "coding");
  json_t *c;
  size_t i;
  json_array_foreach(coding, i, c) {
    const char *sys = json_string_value(json_object_get(c, "system"));
    const char *code = json_string_value(json_object_get(c, "code"));
    const char *onset = json_string_value(json_object_get(cond,
                                                          "onsetDateTime"));
    const char *abate = json_string_value(json_object_get(
        cond, "abatementDateTime"));
    char day[11], aday[11];
    if (!sys || !code || strcmp(sys, "http://snomed.info/sct"))
      continue;
    for (size_t k = 0; k < sizeof programmes / sizeof programmes[0]; k++) {
      if (strcmp(code, programmes[k].snomed))
        continue;
      if (onset && strlen(onset) >= 10)
        snprintf(day, sizeof day, "%.10s", onset);
      else
        vg_time_format(now, 0, day, sizeof day);
      snprintf(aday, sizeof aday, "%.10s", abate ? abate : "");
      {
        struct vg_val p[] = {VG_INT(pid), VG_TEXT(programmes[k].programme),
                             VG_TEXT(day),
                             VG_TEXT(abate ? "resolved" : "active"),
                             abate ? VG_TEXT(aday) : VG_NULLV, VG_INT(now)};
        int rc = store_sql(t, "INSERT INTO patient_condition (patient_id, "
                           "code, enrolled_date, status, status_date, "
                           "created_ms, updated_ms) VALUES ($1, $2, $3, $4, "
                           "$5, $6, $6) ON CONFLICT (patient_id, code) DO "
                           "NOTHING", p, 6, NULL, NULL, NULL);
        return rc < 0 ? rc : 0;
      }
    }
  }
  return 0;
}

static int apply_one(struct vg_txn *t, struct apply_job *j, size_t i)
{
  struct fhir_res *r = &j->res[i];
  int64_t now = vg_now_ms(), pid = 0;
  char *body = NULL;
  int rc = 0, exists = 0;

  if (r->subject && r->subject[0] && r->kind != FHIR_K_READING &&
      strncmp(r->subject, "Patient/", 8) != 0 &&
      strncmp(r->subject, "urn:uuid:", 9) != 0) {
    /* another served type: it must exist; anything else is refused */
    const char *slash = strchr(r->subject, '/');
    const char *type = slash ? fhir_type_known(r->subject,
                                               (size_t)(slash - r->subject))
                             : NULL;
    int found = 0;
    if (type) {
      struct vg_val k[] = {VG_TEXT(type), VG_TEXT(slash + 1)};
      rc = store_sql(t, "SELECT 1 FROM fhir_resource WHERE type = $1 AND "
                     "id = $2 AND body <> ''", k, 2, row_exists, &found,
                     NULL);
      if (rc < 0)
        return rc;
    }
    if (!found) {
      snprintf(j->err, FHIR_ERR_MAX, "entry %zu: reference '%s' does not "
               "point to an existing resource", i, r->subject);
      return -VG_EUNPROC;
    }
  } else if (r->subject && r->subject[0]) {
    struct vg_patient p;
    if (resolve_patient(j, i, r->subject, &pid) ||
        store_patient_get(t, pid, &p)) {
      snprintf(j->err, FHIR_ERR_MAX, "entry %zu: reference '%s' does not "
               "point to an existing Patient", i, r->subject);
      return -VG_EUNPROC;
    }
  }
  switch (r->kind) {
  case FHIR_K_PATIENT:
    rc = store_patient_create(t, &r->patient);
    if (rc == -VG_ECONFLICT && r->reuse_identifier) {
      struct vg_val k[] = {VG_TEXT(r->patient.identifier)};
      int64_t id = 0;
      rc = store_sql(t, "SELECT id FROM patient WHERE identifier = $1", k, 1,
                     first_int, &id, NULL);
      if (rc < 0 || id <= 0)
        return rc < 0 ? rc : -VG_ECONFLICT;
      snprintf(j->ids[i], FHIR_ID_MAX, "%lld", (long long)id);
      j->status[i] = 200;
      return 0;
    }
    if (rc == -VG_ECONFLICT)
      snprintf(j->err, FHIR_ERR_MAX, "entry %zu: a Patient with identifier "
               "'%s' exists", i, r->patient.identifier);
    if (rc)
      return rc;
    snprintf(j->ids[i], FHIR_ID_MAX, "%lld", (long long)r->patient.id);
    if (r->rest && json_object_size(r->rest)) {
      body = json_dumps(r->rest, JSON_COMPACT);
      struct vg_val pv[] = {VG_TEXT(j->ids[i]), VG_INT(now),
                            VG_TEXT(body ? body : "")};
      rc = store_sql(t, "INSERT INTO fhir_resource (type, id, updated_ms, "
                     "body) VALUES ('Patient', $1, $2, $3)", pv, 3, NULL,
                     NULL, NULL);
      free(body); /* allocated by libjansson */
    }
    j->status[i] = 201;
    return rc;
  case FHIR_K_READING: {
    unsigned char st[2];
    struct vg_reading *rd = &j->rd[2 * i];
    int16_t off;
    int64_t ts;
    for (size_t k = 0; k < r->n_raw; k++) {
      const struct vg_code *c = codes_find(r->code[k], strlen(r->code[k]));
      vg_time_parse(r->time, strlen(r->time), &ts, &off);
      memset(&rd[k], 0, sizeof rd[k]);
      rd[k].patient_id = pid;
      rd[k].ts_ms = ts;
      rd[k].code = c->id;
      rd[k].tz_offset_min = off;
      rd[k].source = r->source;
      rd[k].unit = r->unit[k];
      codes_to_canonical(c, r->unit[k], strlen(r->unit[k]), r->value[k],
                         &rd[k].value);
    }
    rc = store_readings_insert(t, rd, r->n_raw, st);
    if (rc)
      return rc;
    if (r->n_raw == 2)
      fhir_reading_id(pid, "bp", rd[0].ts_ms, r->source, j->ids[i]);
    else {
      char cp[8];
      snprintf(cp, sizeof cp, "%d", rd[0].code);
      fhir_reading_id(pid, cp, rd[0].ts_ms, r->source, j->ids[i]);
    }
    j->status[i] = st[0] == VG_INS_ACCEPTED ? 201 : 200;
    return 0;
  }
  case FHIR_K_GENERIC: {
    int version = 1;
    if (r->id[0]) { /* update (PUT) or create with a client id (import) */
      struct vg_val k[] = {VG_TEXT(r->type), VG_TEXT(r->id)};
      rc = store_sql(t, "SELECT version FROM fhir_resource WHERE type = $1 "
                     "AND id = $2", k, 2, row_exists, &exists, NULL);
      if (rc)
        return rc;
      snprintf(j->ids[i], FHIR_ID_MAX, "%s", r->id);
    } else {
      new_id(j->ids[i]);
    }
    if (exists) {
      rc = store_sql(t, "INSERT INTO fhir_history (type, id, version, "
                     "updated_ms, body) SELECT type, id, version, updated_ms,"
                     " body FROM fhir_resource WHERE type = $1 AND id = $2",
                     (struct vg_val[]){VG_TEXT(r->type), VG_TEXT(j->ids[i])},
                     2, NULL, NULL, NULL);
      if (rc)
        return rc;
    }
    json_object_del(r->rest, "meta");
    json_object_set_new(r->rest, "id", json_string(j->ids[i]));
    if (pid && r->subject) {
      char ref[32];
      const char *rk = !strcmp(r->type, "Task") ? "for"
                       : !strcmp(r->type, "Device") ? "patient" : "subject";
      snprintf(ref, sizeof ref, "Patient/%lld", (long long)pid);
      json_object_set_new(json_object_get(r->rest, rk), "reference",
                          json_string(ref));
    }
    body = json_dumps(r->rest, JSON_COMPACT | JSON_SORT_KEYS);
    {
      struct vg_val pv[] = {VG_TEXT(r->type), VG_TEXT(j->ids[i]), VG_INT(pid),
                            VG_TEXT(r->code_token),
                            r->ts_ms == INT64_MIN ? VG_NULLV
                                                  : VG_INT(r->ts_ms),
                            VG_INT(version), VG_INT(now),
                            VG_TEXT(body ? body : "")};
      rc = store_sql(t, "INSERT INTO fhir_resource (type, id, patient_id, "
                     "code, ts_ms, version, updated_ms, body) VALUES ($1, $2,"
                     " $3, $4, $5, $6, $7, $8) ON CONFLICT (type, id) DO "
                     "UPDATE SET patient_id = excluded.patient_id, code = "
                     "excluded.code, ts_ms = excluded.ts_ms, version = "
                     "fhir_resource.version + 1, updated_ms = "
                     "excluded.updated_ms, body = excluded.body", pv, 8, NULL,
                     NULL, NULL);
    }
    free(body); /* allocated by libjansson */
    if (!rc && pid && !strcmp(r->type, "Condition")) {
      rc = enrol(t, r->rest, pid, now);
      j->rd[2 * i].patient_id = pid; /* notified after the commit */
    }
    j->status[i] = exists ? 200 : 201;
    return rc;
  }
  }
  return -VG_EINVAL;
}

static int apply_job_fn(struct vg_txn *t, void *ctx)
{
  struct apply_job *j = ctx;
  for (size_t i = 0; i < j->n; i++) {
    int rc;
    if (j->res[i].reject[0])
      continue;
    rc = apply_one(t, j, i);
    if (rc) {
      if (!j->err[0])
        snprintf(j->err, FHIR_ERR_MAX, "entry %zu (%s): %s", i,
                 j->res[i].type, vg_strerror(rc));
      return rc;
    }
  }
  return 0;
}

int fhir_apply(struct vg_writer *w, struct vg_store *s, struct fhir_res *res,
               const char *const *full_urls, size_t n,
               char (*out_ids)[FHIR_ID_MAX], int *out_status, char *err)
{
  struct apply_job j;
  struct vg_arena *a = arena_new(0);
  struct vg_ingest_batch *b;
  struct vg_ingest_opts o;
  struct vg_ingest_result ir;
  int rc = 0;
  (void)s;
  err[0] = '\0';
  if (!a)
    return -VG_ENOMEM;
  memset(&o, 0, sizeof o);
  b = ingest_batch_new(a, &o);
  /* The ingest contract validates every reading (code, unit, range, time)
   * before anything is written. The patient is checked in the job. */
  for (size_t i = 0; b && i < n; i++) {
    for (size_t k = 0; res[i].kind == FHIR_K_READING && k < res[i].n_raw;
         k++) {
      struct vg_raw_reading raw;
      memset(&raw, 0, sizeof raw);
      raw.index = i;
      raw.patient = "1";
      raw.patient_len = 1;
      raw.code = res[i].code[k];
      raw.code_len = strlen(raw.code);
      raw.time = res[i].time;
      raw.time_len = strlen(res[i].time);
      raw.has_value = 1;
      raw.value = res[i].value[k];
      raw.unit = res[i].unit[k];
      raw.unit_len = strlen(raw.unit);
      raw.source = res[i].source;
      raw.source_len = strlen(raw.source);
      raw.tz_offset_min = VG_TZ_UNKNOWN;
      if ((rc = ingest_batch_add(b, &raw)))
        goto fail;
    }
  }
  if (!b) {
    rc = -VG_ENOMEM;
    goto fail;
  }
  /* Without a writer this only reports the validation rejects. */
  if (ingest_batch_commit(b, NULL, 1, &ir) == -VG_EUNPROC) {
    for (size_t k = 0; k < ir.n_rejected; k++) {
      size_t ix = ir.rejected[k].index;
      if (!res[ix].lenient) {
        snprintf(err, FHIR_ERR_MAX, "entry %zu (Observation): %s", ix,
                 ir.rejected[k].reason);
        rc = -VG_EUNPROC;
        goto fail;
      }
      if (!res[ix].reject[0])
        snprintf(res[ix].reject, sizeof res[ix].reject, "%s",
                 ir.rejected[k].reason);
    }
  }
  memset(&j, 0, sizeof j);
  j.res = res;
  j.full_urls = full_urls;
  j.n = n;
  j.ids = out_ids;
  j.status = out_status;
  j.err = err;
  j.rd = arena_alloc(a, (2 * n + 1) * sizeof *j.rd);
  if (!j.rd) {
    rc = -VG_ENOMEM;
    goto fail;
  }
  memset(j.rd, 0, (2 * n + 1) * sizeof *j.rd);
  rc = writer_exec(w, n, apply_job_fn, &j);
  if (rc == 0) {
    /* committed: queue the patients for re-assessment, as the ingest
     * commit does (care_assess.h; a no-op without a worker) */
    for (size_t i = 0; i < n; i++) {
      if (res[i].reject[0])
        continue;
      if (res[i].kind == FHIR_K_READING)
        care_assess_notify_readings(&j.rd[2 * i], res[i].n_raw);
      else if (res[i].kind == FHIR_K_GENERIC &&
               !strcmp(res[i].type, "Condition") && j.rd[2 * i].patient_id)
        care_assess_notify(j.rd[2 * i].patient_id);
    }
  }
fail:
  arena_free(a);
  return rc;
}
