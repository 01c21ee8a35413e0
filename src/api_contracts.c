/* api_contracts.c - /api/v1/contracts: family-doctor contracts of a team
 * with a household or a patient (create, read, versioned update, list with
 * team/household/patient/status/renewal filters). */
#include <string.h>

#include "api.h"
#include "auth.h"
#include "care_org.h"
#include "core_errors.h"
#include "core_time.h"

static const char *const statuses[] = {"active", "terminated", NULL};

/* A contract naming a patient is that patient's data. */
static int visible(struct vg_req *r, const struct vg_val *cols)
{
  if (cols[2].type == VG_VAL_INT) {
    r->audit_patient = cols[2].i;
    return auth_patient_visible(NULL, r->principal, cols[2].i);
  }
  return 1;
}

static int guard(struct vg_req *r, const struct vg_val *cols)
{
  if (!visible(r, cols))
    return vg_fail(r, VG_ENOTFOUND, "no contract");
  return 0;
}

int api_contracts_create(struct vg_req *r)
{
  return care_res_create(r, &care_res_contract, NULL, 0, NULL);
}

int api_contracts_get(struct vg_req *r)
{
  int64_t id;
  if (api_parse_id(r->params[0], &id))
    return vg_fail(r, VG_ENOTFOUND, "no contract '%s'", r->params[0]);
  if (!auth_sees_all_patients(r->principal))
    return vg_fail(r, VG_ENOTFOUND, "no contract %lld", (long long)id);
  return care_res_get(r, &care_res_contract, id, guard);
}

int api_contracts_update(struct vg_req *r)
{
  int64_t id;
  if (api_parse_id(r->params[0], &id))
    return vg_fail(r, VG_ENOTFOUND, "no contract '%s'", r->params[0]);
  return care_res_update(r, &care_res_contract, id, guard);
}

/* ?team=, ?household=, ?patient= (the patient's own contracts and those of
 * their household), ?status=, ?renewal_due_before=YYYY-MM-DD (active
 * contracts whose renewal falls due before that date). */
int api_contracts_list(struct vg_req *r)
{
  struct vg_val p[8];
  const char *status, *due = http_query(r, "renewal_due_before");
  char end_before[11] = "9999-12-31";
  int64_t team, household, patient, after;
  size_t limit;
  if (api_paging(r, 100, 1000, &limit, &after) ||
      care_query_id(r, "team", &team) ||
      care_query_id(r, "household", &household) ||
      care_query_id(r, "patient", &patient) ||
      care_query_oneof(r, "status", statuses, &status))
    return r->err;
  if (due && care_date_add_days(due, 30, end_before))
    return vg_fail(r, VG_EINVAL, "renewal_due_before must be YYYY-MM-DD");
  if (!auth_sees_all_patients(r->principal))
    return vg_fail(r, VG_EFORBIDDEN, "listing contracts is not permitted");
  r->audit_patient = patient;
  p[0] = VG_INT(after);
  p[1] = VG_INT(team);
  p[2] = VG_INT(household);
  p[3] = VG_INT(patient);
  p[4] = VG_TEXT(status);
  p[5] = VG_TEXT(end_before);
  p[6] = VG_INT(due ? 1 : 0);
  p[7] = VG_INT((int64_t)limit);
  return care_res_list(r, &care_res_contract, "contracts",
                       "SELECT team_id, household_id, patient_id, "
                       "signed_date, term_months, end_date, status, id, "
                       "version, created_ms, updated_ms FROM contract WHERE "
                       "id > $1 AND ($2 = 0 OR team_id = $2) AND ($3 = 0 OR "
                       "household_id = $3) AND ($4 = 0 OR patient_id = $4 OR"
                       " household_id IN (SELECT household_id FROM "
                       "household_member WHERE patient_id = $4)) AND ($5 = "
                       "'' OR status = $5) AND ($7 = 0 OR (status = 'active'"
                       " AND end_date < $6)) ORDER BY id LIMIT $8", p, 8,
                       limit, NULL);
}
