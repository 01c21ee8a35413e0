/* api_contracts.c - /api/v1/contracts: family-doctor contracts of a team
 * with a household or a patient (create, read, versioned update, list with
 * team/household/patient/status/renewal filters). A contract is its
 * patient's data, or its household's (visible when one member is): reads
 * and lists apply auth_patient_visible()'s rule. */
#include <string.h>

#include "api.h"
#include "auth.h"
#include "care_org.h"
#include "core_errors.h"
#include "core_time.h"

static const char *const statuses[] = {"active", "terminated", NULL};

/* cols: team_id, household_id, patient_id, ... */
static int visible(struct vg_req *r, const struct vg_val *cols)
{
  struct vg_txn *t;
  int ok;
  if (cols[2].type == VG_VAL_INT) {
    r->audit_patient = cols[2].i;
    return auth_patient_visible(NULL, r->principal, cols[2].i);
  }
  if (auth_sees_all_patients(r->principal))
    return 1;
  if (store_begin(r->app->store, VG_TXN_READ, &t))
    return 0;
  ok = care_household_visible(r, t, cols[1].i);
  store_rollback(t);
  return ok;
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
  if (api_path_id(r, "contract", &id))
    return r->err;
  return care_res_get(r, &care_res_contract, id, guard);
}

int api_contracts_update(struct vg_req *r)
{
  int64_t id;
  if (api_path_id(r, "contract", &id))
    return r->err;
  return care_res_update(r, &care_res_contract, id, guard);
}

/* ?team=, ?household=, ?patient= (the patient's own contracts and those of
 * their household), ?status=, ?renewal_due_before=YYYY-MM-DD (active
 * contracts whose renewal falls due before that date); only contracts of
 * patients or households (by a member) the caller sees. */
int api_contracts_list(struct vg_req *r)
{
  static const char *const parts[] = {
    ("SELECT team_id, household_id, patient_id, signed_date, term_months, "
     "end_date, status, id, version, created_ms, updated_ms FROM contract "
     "WHERE id > $4 AND ($5 = 0 OR team_id = $5) AND ($6 = 0 OR "
     "household_id = $6) AND ($7 = 0 OR patient_id = $7 OR household_id IN "
     "(SELECT household_id FROM household_member WHERE patient_id = $7)) "
     "AND ($8 = '' OR status = $8) AND ($10 = 0 OR (status = 'active' AND "
     "end_date < $9)) AND ($3 = 1 OR patient_id IN ("),
    (") OR household_id IN (SELECT household_id FROM household_member "
     "WHERE patient_id IN ("),
    ("))) ORDER BY id LIMIT $11")};
  struct vg_val p[11];
  const char *status, *sql, *due = http_query(r, "renewal_due_before");
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
  if (care_list_scope(r, parts, 3, &sql, p))
    return r->err;
  r->audit_patient = patient;
  p[3] = VG_INT(after);
  p[4] = VG_INT(team);
  p[5] = VG_INT(household);
  p[6] = VG_INT(patient);
  p[7] = VG_TEXT(status);
  p[8] = VG_TEXT(end_before);
  p[9] = VG_INT(due ? 1 : 0);
  p[10] = VG_INT((int64_t)limit);
  return care_res_list(r, &care_res_contract, "contracts", sql, p, 11,
                       limit, NULL);
}
