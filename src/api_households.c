/* api_households.c - /api/v1/households: households and their members
 * (create, read, versioned update, list by organisation or patient).
 * Members name patients, so reads of one household are audited with the
 * first member and lists need a whole-population principal. */
#include <string.h>

#include "api.h"
#include "auth.h"
#include "care_org.h"
#include "core_errors.h"

int api_households_create(struct vg_req *r)
{
  return care_res_create(r, &care_res_household, NULL, 0, NULL);
}

int api_households_get(struct vg_req *r)
{
  int64_t id;
  if (api_parse_id(r->params[0], &id))
    return vg_fail(r, VG_ENOTFOUND, "no household '%s'", r->params[0]);
  if (!auth_sees_all_patients(r->principal))
    return vg_fail(r, VG_ENOTFOUND, "no household %lld", (long long)id);
  return care_res_get(r, &care_res_household, id, NULL);
}

int api_households_update(struct vg_req *r)
{
  int64_t id;
  if (api_parse_id(r->params[0], &id))
    return vg_fail(r, VG_ENOTFOUND, "no household '%s'", r->params[0]);
  if (!auth_sees_all_patients(r->principal))
    return vg_fail(r, VG_ENOTFOUND, "no household %lld", (long long)id);
  return care_res_update(r, &care_res_household, id, NULL);
}

/* ?org=ID, ?under=ID (households of the subtree), ?patient=ID. */
int api_households_list(struct vg_req *r)
{
  struct vg_val p[5];
  struct vg_txn *t;
  char path[512] = "";
  int64_t org, under, patient, after;
  size_t limit;
  int rc;
  if (api_paging(r, 100, 1000, &limit, &after) ||
      care_query_id(r, "org", &org) || care_query_id(r, "under", &under) ||
      care_query_id(r, "patient", &patient))
    return r->err;
  if (!auth_sees_all_patients(r->principal))
    return vg_fail(r, VG_EFORBIDDEN, "listing households is not permitted");
  if (under) {
    rc = store_begin(r->app->store, VG_TXN_READ, &t);
    if (rc)
      return vg_fail(r, rc, "store unavailable");
    rc = care_org_path(t, under, path, sizeof path);
    store_rollback(t);
    if (rc)
      return vg_fail(r, rc, "no organization %lld", (long long)under);
  }
  p[0] = VG_INT(after);
  p[1] = VG_INT(org);
  p[2] = VG_TEXT(path);
  p[3] = VG_INT(patient);
  p[4] = VG_INT((int64_t)limit);
  r->audit_patient = patient;
  return care_res_list(r, &care_res_household, "households",
                       "SELECT h.name, h.address, h.org_id, h.id, h.version,"
                       " h.created_ms, h.updated_ms FROM household h JOIN "
                       "organization o ON o.id = h.org_id WHERE h.id > $1 AND"
                       " ($2 = 0 OR h.org_id = $2) AND o.path LIKE $3 || '%'"
                       " AND ($4 = 0 OR EXISTS (SELECT 1 FROM "
                       "household_member m WHERE m.household_id = h.id AND "
                       "m.patient_id = $4)) ORDER BY h.id LIMIT $5", p, 5,
                       limit, NULL);
}
