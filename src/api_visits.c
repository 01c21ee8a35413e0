/* api_visits.c - /api/v1/visits: follow-up records (create, read,
 * versioned update, list by patient, author and time). Each visit is its
 * patient's data: the row-level rule applies and the patient is audited. */
#include <stdint.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "care_org.h"
#include "core_errors.h"

static int guard(struct vg_req *r, const struct vg_val *cols)
{
  r->audit_patient = cols[0].i;
  if (!auth_patient_visible(NULL, r->principal, cols[0].i))
    return vg_fail(r, VG_ENOTFOUND, "no visit");
  return 0;
}

int api_visits_create(struct vg_req *r)
{
  json_t *j;
  json_t *pid;
  if (api_parse_object(r, &j))
    return r->err;
  pid = json_object_get(j, "patient");
  if (json_is_integer(pid)) {
    r->audit_patient = json_integer_value(pid);
    if (!auth_patient_visible(NULL, r->principal, json_integer_value(pid))) {
      json_decref(j);
      return vg_fail(r, VG_EUNPROC, "no patient %lld",
                     (long long)json_integer_value(pid));
    }
  }
  json_decref(j);
  return care_res_create(r, &care_res_visit, NULL, 0, NULL);
}

int api_visits_get(struct vg_req *r)
{
  int64_t id;
  if (api_path_id(r, "visit", &id))
    return r->err;
  return care_res_get(r, &care_res_visit, id, guard);
}

int api_visits_update(struct vg_req *r)
{
  int64_t id;
  if (api_path_id(r, "visit", &id))
    return r->err;
  return care_res_update(r, &care_res_visit, id, guard);
}

/* ?patient=, ?by=USER_ID, ?from=, ?to= (RFC 3339 or epoch ms; visit time);
 * only visits of patients the caller sees (a named patient the caller
 * does not see: 404). */
int api_visits_list(struct vg_req *r)
{
  static const char *const parts[] = {
    ("SELECT patient_id, visit_ms, by_user_id, kind, sbp, dbp, glucose_mmol,"
     " hr, symptoms, adherence, next_date, note, id, version, created_ms, "
     "updated_ms FROM visit WHERE id > $4 AND ($5 = 0 OR patient_id = $5) "
     "AND ($6 = 0 OR by_user_id = $6) AND visit_ms >= $7 AND visit_ms < $8 "
     "AND ($3 = 1 OR patient_id IN ("),
    (")) ORDER BY id LIMIT $9")};
  struct vg_val p[9];
  const char *sql;
  int64_t patient, by, after, from = INT64_MIN, to = INT64_MAX;
  size_t limit;
  if (api_paging(r, 100, 1000, &limit, &after) ||
      care_query_id(r, "patient", &patient) || care_query_id(r, "by", &by) ||
      api_time_param(r, "from", &from) || api_time_param(r, "to", &to))
    return r->err;
  if (patient) {
    r->audit_patient = patient;
    if (!auth_patient_visible(NULL, r->principal, patient))
      return vg_fail(r, VG_ENOTFOUND, "no patient %lld", (long long)patient);
  }
  if (care_list_scope(r, parts, 2, &sql, p))
    return r->err;
  p[3] = VG_INT(after);
  p[4] = VG_INT(patient);
  p[5] = VG_INT(by);
  p[6] = VG_INT(from);
  p[7] = VG_INT(to);
  p[8] = VG_INT((int64_t)limit);
  return care_res_list(r, &care_res_visit, "visits", sql, p, 9, limit,
                       NULL);
}
