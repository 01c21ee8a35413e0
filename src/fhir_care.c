/* fhir_care.c - the care tables (003_care_org.sql, 004_care_flow.sql,
 * device) served as FHIR R4 resources for read and search: one SQL query
 * and one row -> JSON function per type. Ids are the rows' ids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_errors.h"
#include "core_time.h"
#include "fhir.h"
#include "store.h"

#define SNOMED "http://snomed.info/sct"
#define NS "urn:vigil:"

struct rows {
  struct vg_txn *t;
  const char *type;
  json_t *arr;     /* rows appended here */
  const char *tok; /* code filter ("" any) */
  int64_t lo, hi;
  int dated;
  int64_t first_pid; /* of the first row */
  int version;
  int err;
};

static const char *txt(const struct vg_val *v)
{
  return v->type == VG_VAL_NULL || !v->s ? "" : v->s;
}

static json_t *ref(const char *type, int64_t id)
{
  char b[64];
  snprintf(b, sizeof b, "%s/%lld", type, (long long)id);
  return json_pack("{s:s}", "reference", b);
}

static json_t *when(int64_t ms)
{
  char b[40];
  vg_time_format(ms, 0, b, sizeof b);
  return json_string(b);
}

static json_t *coding(const char *sys, const char *code)
{
  return json_pack("{s:[{s:s,s:s}]}", "coding", "system", sys, "code", code);
}

/* Does CodeableConcept cc carry token tok ("[system|]code")? */
static int code_matches(json_t *cc, const char *tok)
{
  const char *bar = strchr(tok, '|');
  json_t *c;
  size_t i;
  if (!tok[0])
    return 1;
  json_array_foreach(json_object_get(cc, "coding"), i, c) {
    const char *s = json_string_value(json_object_get(c, "system"));
    const char *k = json_string_value(json_object_get(c, "code"));
    if (!k || strcmp(k, bar ? bar + 1 : tok))
      continue;
    if (!bar || bar == tok ||
        (s && strlen(s) == (size_t)(bar - tok) && !strncmp(s, tok,
                                                         (size_t)(bar - tok))))
      return 1;
  }
  return 0;
}

/* Members of team / household as JSON arrays. */
static int member_row(void *ctx, const struct vg_val *c, size_t n)
{
  json_t *arr = ctx;
  if (n >= 3) /* team: user, role, lead; household: patient */
    json_array_append_new(arr, json_pack(
        "{s:o,s:[{s:[{s:s,s:s}]}]}", "member", ref("Practitioner", c[0].i),
        "role", "coding", "system", NS "care-role", "code", txt(&c[1])));
  else
    json_array_append_new(arr, json_pack("{s:o}", "entity",
                                         ref("Patient", c[0].i)));
  return 0;
}

/* One row -> JSON of the type; *ts the row's date (INT64_MIN: none). */
static json_t *row_json(struct rows *q, const struct vg_val *c, int64_t *ts,
                        int64_t *pid)
{
  const char *type = q->type;
  json_t *o;
  *ts = INT64_MIN;
  *pid = 0;
  if (!strcmp(type, "Organization")) {
    /* id, name, level, parent_id, code, version, updated_ms */
    o = json_pack("{s:s,s:b,s:s,s:[o]}", "resourceType", "Organization",
                  "active", 1, "name", txt(&c[1]), "type",
                  coding(NS "org-level", txt(&c[2])));
    if (c[3].type == VG_VAL_INT && c[3].i > 0)
      json_object_set_new(o, "partOf", ref("Organization", c[3].i));
    if (txt(&c[4])[0])
      json_object_set_new(o, "identifier", json_pack(
          "[{s:s,s:s}]", "system", NS "org-code", "value", txt(&c[4])));
  } else if (!strcmp(type, "CareTeam")) {
    /* id, name, org_id, version, updated_ms */
    json_t *m = json_array();
    struct vg_val k[] = {VG_INT(c[0].i)};
    store_sql(q->t, "SELECT user_id, role, lead FROM care_team_member WHERE "
              "team_id = $1 ORDER BY lead DESC, user_id", k, 1, member_row,
              m, NULL);
    o = json_pack("{s:s,s:s,s:s,s:[o],s:o}", "resourceType", "CareTeam",
                  "status", "active", "name", txt(&c[1]),
                  "managingOrganization", ref("Organization", c[2].i),
                  "participant", m);
  } else if (!strcmp(type, "Group")) {
    /* id, name, org_id, version, updated_ms */
    json_t *m = json_array();
    struct vg_val k[] = {VG_INT(c[0].i)};
    store_sql(q->t, "SELECT patient_id FROM household_member WHERE "
              "household_id = $1 ORDER BY patient_id", k, 1, member_row, m,
              NULL);
    {
      const char *r0 = json_string_value(json_object_get(json_object_get(
          json_array_get(m, 0), "entity"), "reference"));
      *pid = r0 ? strtoll(r0 + 8, NULL, 10) : 0;
    }
    o = json_pack("{s:s,s:s,s:b,s:s,s:o,s:I,s:o}", "resourceType", "Group",
                  "type", "person", "actual", 1, "name", txt(&c[1]),
                  "managingEntity", ref("Organization", c[2].i), "quantity",
                  (json_int_t)json_array_size(m), "member", m);
    json_object_set_new(o, "code", coding(NS "group", "household"));
  } else if (!strcmp(type, "Condition")) {
    /* id, patient_id, code, enrolled_date, status, status_date, version,
     * updated_ms */
    const char *sn = fhir_programme_snomed(txt(&c[2]));
    const char *st = txt(&c[4]);
    json_t *cc = json_pack("{s:[{s:s,s:s}],s:s}", "coding", "system", SNOMED,
                           "code", sn ? sn : "", "text", txt(&c[2]));
    *pid = c[1].i;
    o = json_pack("{s:s,s:o,s:o,s:o,s:s}", "resourceType", "Condition",
                  "clinicalStatus", coding("http://terminology.hl7.org/"
                                           "CodeSystem/condition-clinical",
                                           !strcmp(st, "active") ? "active"
                                                                 : "resolved"),
                  "code", cc, "subject", ref("Patient", c[1].i),
                  "recordedDate", txt(&c[3]));
    if (strcmp(st, "active") && txt(&c[5])[0])
      json_object_set_new(o, "abatementDateTime", json_string(txt(&c[5])));
    {
      int64_t lo, hi;
      if (!fhir_date_range(txt(&c[3]), &lo, &hi))
        *ts = lo;
    }
  } else if (!strcmp(type, "Flag")) {
    /* id, patient_id, rule, severity, state, message, first_ms,
     * resolved_ms, version, last_ms */
    json_t *per = json_pack("{s:o}", "start", when(c[6].i));
    *pid = c[1].i;
    if (!strcmp(txt(&c[4]), "resolved"))
      json_object_set_new(per, "end", when(c[7].i));
    o = json_pack("{s:s,s:s,s:[o,o],s:{s:[{s:s,s:s}],s:s},s:o,s:o}",
                  "resourceType", "Flag", "status",
                  strcmp(txt(&c[4]), "resolved") ? "active" : "inactive",
                  "category", coding("http://terminology.hl7.org/CodeSystem/"
                                     "flag-category", "clinical"),
                  coding(NS "alert-severity", txt(&c[3])), "code", "coding",
                  "system", NS "care-rule", "code", txt(&c[2]), "text",
                  txt(&c[5]), "subject", ref("Patient", c[1].i), "period",
                  per);
    *ts = c[6].i;
  } else if (!strcmp(type, "Task")) {
    /* id, patient_id, kind, state, due_ms, assignee_id, tier_rank, reason,
     * created_ms, version, updated */
    const char *s = txt(&c[3]);
    *pid = c[1].i;
    o = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:s,s:{s:{s:o}}}",
                  "resourceType", "Task", "status",
                  !strcmp(s, "open") ? "requested"
                  : !strcmp(s, "in_progress") ? "in-progress"
                  : !strcmp(s, "done") ? "completed" : "cancelled",
                  "intent", "order", "priority",
                  c[6].i >= 2 ? "urgent" : "routine", "code",
                  coding(NS "task-kind", txt(&c[2])), "for",
                  ref("Patient", c[1].i), "authoredOn", when(c[8].i),
                  "description", txt(&c[7]), "restriction", "period", "end",
                  when(c[4].i));
    if (c[5].i > 0)
      json_object_set_new(o, "owner", ref("Practitioner", c[5].i));
    *ts = c[8].i;
  } else if (!strcmp(type, "ServiceRequest")) {
    /* id, patient_id, direction, from_org, to_org, urgency, reason, state,
     * note, created_ms, version, updated_ms */
    const char *s = txt(&c[7]), *u = txt(&c[5]);
    *pid = c[1].i;
    o = json_pack(
        "{s:s,s:s,s:s,s:s,s:[o],s:{s:[{s:s,s:s,s:s}]},s:o,s:o,s:[{s:s}]}",
        "resourceType", "ServiceRequest", "status",
        !strcmp(s, "suggested") ? "draft"
        : !strcmp(s, "requested") || !strcmp(s, "accepted") ? "active"
        : !strcmp(s, "completed") || !strcmp(s, "returned") ? "completed"
                                                              : "revoked",
        "intent", !strcmp(s, "suggested") ? "proposal" : "order", "priority",
        !strcmp(u, "emergency") ? "stat" : u, "category",
        coding(NS "referral-direction", txt(&c[2])), "code", "coding",
        "system", SNOMED, "code", "3457005", "display", "Patient referral",
        "subject", ref("Patient", c[1].i), "authoredOn", when(c[9].i),
        "reasonCode", "text", txt(&c[6]));
    json_object_set_new(o, "extension", json_pack(
        "[{s:s,s:s}]", "url", NS "referral-state", "valueCode", s));
    if (c[3].i > 0)
      json_object_set_new(o, "requester", ref("Organization", c[3].i));
    if (c[4].i > 0)
      json_object_set_new(o, "performer", json_pack(
          "[o]", ref("Organization", c[4].i)));
    if (txt(&c[8])[0])
      json_object_set_new(o, "note", json_pack("[{s:s}]", "text",
                                               txt(&c[8])));
    *ts = c[9].i;
  } else if (!strcmp(type, "Communication")) {
    /* id, patient_id, to_org, specialty, question, state, answer,
     * created_ms, answered_ms, version, updated */
    json_t *pl = json_pack("[{s:s}]", "contentString", txt(&c[4]));
    *pid = c[1].i;
    if (txt(&c[6])[0])
      json_array_append_new(pl, json_pack("{s:s}", "contentString",
                                          txt(&c[6])));
    o = json_pack("{s:s,s:s,s:o,s:o,s:o}", "resourceType", "Communication",
                  "status", strcmp(txt(&c[5]), "open") ? "completed"
                                                       : "in-progress",
                  "subject", ref("Patient", c[1].i), "sent", when(c[7].i),
                  "payload", pl);
    if (c[2].i > 0)
      json_object_set_new(o, "recipient", json_pack(
          "[o]", ref("Organization", c[2].i)));
    if (txt(&c[3])[0])
      json_object_set_new(o, "topic", json_pack("{s:s}", "text",
                                                txt(&c[3])));
    if (c[8].i > 0)
      json_object_set_new(o, "received", when(c[8].i));
    *ts = c[7].i;
  } else { /* Device: id, serial, kind, patient_id, version, created_ms */
    o = json_pack("{s:s,s:s,s:[{s:s,s:s}],s:{s:s}}", "resourceType",
                  "Device", "status", "active", "identifier", "system",
                  NS "device-serial", "value", txt(&c[1]), "type", "text",
                  txt(&c[2]));
    if (c[3].type == VG_VAL_INT && c[3].i > 0) {
      *pid = c[3].i;
      json_object_set_new(o, "patient", ref("Patient", c[3].i));
    }
  }
  return o;
}

/* Is there a Condition in arr for patient pid in programme prog? */
static int condition_in(json_t *arr, int64_t pid, const char *prog)
{
  char want[40];
  json_t *o, *c;
  size_t i, k;
  snprintf(want, sizeof want, "Patient/%lld", (long long)pid);
  json_array_foreach(arr, i, o) {
    const char *s = json_string_value(json_object_get(json_object_get(
        o, "subject"), "reference"));
    if (!s || strcmp(s, want))
      continue;
    json_array_foreach(json_object_get(json_object_get(o, "code"),
                                       "coding"), k, c) {
      const char *p = fhir_programme_of(json_string_value(
          json_object_get(c, "code")));
      if (p && !strcmp(p, prog))
        return 1;
    }
  }
  return 0;
}

static int row_cb(void *ctx, const struct vg_val *c, size_t n)
{
  struct rows *q = ctx;
  int64_t ts, pid;
  char id[32];
  json_t *o;
  if (!strcmp(q->type, "Condition") &&
      condition_in(q->arr, c[1].i, txt(&c[2])))
    return 0;
  o = row_json(q, c, &ts, &pid);
  if (!o) {
    q->err = -VG_ENOMEM;
    return 1;
  }
  if (!code_matches(json_object_get(o, "code"), q->tok) ||
      (q->dated && (ts == INT64_MIN || ts < q->lo || ts >= q->hi))) {
    json_decref(o);
    return 0;
  }
  snprintf(id, sizeof id, "%lld", (long long)c[0].i);
  /* the last two columns: version, updated_ms */
  fhir_set_meta(o, id, (int)c[n - 2].i, c[n - 1].i);
  if (!json_array_size(q->arr))
    q->first_pid = pid;
  q->version = (int)c[n - 2].i;
  json_array_append_new(q->arr, o);
  return 0;
}

/* SELECT ... WHERE ($1 = 0 OR patient) AND ($2 = 0 OR id = $2). */
static const struct {
  const char *type, *sql;
} queries[] = {
    {"Organization", "SELECT id, name, level, parent_id, code, version, "
                     "updated_ms FROM organization WHERE $1 = 0 AND ($2 = 0 "
                     "OR id = $2) ORDER BY id"},
    {"CareTeam", "SELECT id, name, org_id, version, updated_ms FROM "
                 "care_team WHERE $1 = 0 AND ($2 = 0 OR id = $2) ORDER BY "
                 "id"},
    {"Group", "SELECT id, name, org_id, version, updated_ms FROM household "
              "h WHERE ($1 = 0 OR EXISTS (SELECT 1 FROM household_member m "
              "WHERE m.household_id = h.id AND m.patient_id = $1)) AND ($2 "
              "= 0 OR id = $2) ORDER BY id"},
    {"Condition", "SELECT id, patient_id, code, enrolled_date, status, "
                  "status_date, version, updated_ms FROM patient_condition "
                  "WHERE ($1 = 0 OR patient_id = $1) AND ($2 = 0 OR id = "
                  "$2) ORDER BY id"},
    {"Flag", "SELECT id, patient_id, rule, severity, state, message, "
             "first_ms, resolved_ms, version, last_ms FROM care_alert WHERE "
             "($1 = 0 OR patient_id = $1) AND ($2 = 0 OR id = $2) ORDER BY "
             "id"},
    {"Task", "SELECT id, patient_id, kind, state, due_ms, assignee_id, "
             "tier_rank, reason, created_ms, version, created_ms + done_ms "
             "FROM care_task WHERE ($1 = 0 OR patient_id = $1) AND ($2 = 0 "
             "OR id = $2) ORDER BY id"},
    {"ServiceRequest", "SELECT id, patient_id, direction, from_org, to_org, "
                       "urgency, reason, state, note, created_ms, version, "
                       "updated_ms FROM care_referral WHERE ($1 = 0 OR "
                       "patient_id = $1) AND ($2 = 0 OR id = $2) ORDER BY "
                       "id"},
    {"Communication", "SELECT id, patient_id, to_org, specialty, question, "
                      "state, answer, created_ms, answered_ms, version, "
                      "created_ms + answered_ms FROM care_consult WHERE ($1 "
                      "= 0 OR patient_id = $1) AND ($2 = 0 OR id = $2) "
                      "ORDER BY id"},
    {"Device", "SELECT id, serial, kind, patient_id, 1, created_ms + "
               "last_seen_ms FROM device WHERE ($1 = 0 OR patient_id = $1) "
               "AND ($2 = 0 OR id = $2) ORDER BY id"},
};

static const char *query_of(const char *type)
{
  for (size_t i = 0; i < sizeof queries / sizeof *queries; i++)
    if (!strcmp(queries[i].type, type))
      return queries[i].sql;
  return NULL;
}

int fhir_care_mapped(const char *type) { return query_of(type) != NULL; }

int fhir_care_search(struct vg_txn *t, const char *type, int64_t pid,
                     int64_t id, const char *tok, int64_t lo, int64_t hi,
                     int dated, json_t *arr)
{
  const char *sql = query_of(type);
  struct rows q;
  struct vg_val p[] = {VG_INT(pid), VG_INT(id)};
  int rc;
  if (!sql)
    return -VG_ENOTFOUND;
  memset(&q, 0, sizeof q);
  q.t = t;
  q.type = type;
  q.arr = arr;
  q.tok = tok ? tok : "";
  q.lo = lo;
  q.hi = hi;
  q.dated = dated;
  /* ids of care rows are positive integers; types without a patient
   * have none to match */
  rc = store_sql(t, sql, p, 2, row_cb, &q, NULL);
  if (rc < 0)
    return rc;
  return q.err;
}

json_t *fhir_care_read(struct vg_txn *t, const char *type, const char *id,
                       int64_t *out_pid, int *out_version)
{
  char *end;
  long long n = strtoll(id, &end, 10);
  const char *sql = query_of(type);
  struct rows q;
  json_t *arr, *o = NULL;
  struct vg_val p[] = {VG_INT(0), VG_INT(n)};
  *out_pid = 0;
  if (!sql || *end || n <= 0 || id[0] < '1' || id[0] > '9')
    return NULL;
  arr = json_array();
  memset(&q, 0, sizeof q);
  q.t = t;
  q.type = type;
  q.arr = arr;
  q.tok = "";
  if (store_sql(t, sql, p, 2, row_cb, &q, NULL) >= 0 && !q.err &&
      json_array_size(arr) == 1) {
    o = json_incref(json_array_get(arr, 0));
    *out_pid = q.first_pid;
    *out_version = q.version;
  }
  json_decref(arr);
  return o;
}
