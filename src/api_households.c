/* api_households.c - /api/v1/households: households and their members
 * (create, read, versioned update, list by organisation or patient).
 * Members name patients: a household is visible when one of its members
 * is (auth_patient_visible), reads are audited with that member, and lists
 * are filtered by the same rule in SQL. */
#include <string.h>

#include "api.h"
#include "auth.h"
#include "care_org.h"
#include "core_errors.h"

int api_households_create(struct vg_req *r)
{
  return care_res_create(r, &care_res_household, NULL, 0, NULL);
}

/* 404 unless the caller sees one of the members (cols[3] is the id). */
static int guard(struct vg_req *r, const struct vg_val *cols)
{
  struct vg_txn *t;
  int ok, rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc)
    return vg_fail(r, rc, "store unavailable");
  ok = care_household_visible(r, t, cols[3].i);
  store_rollback(t);
  return ok ? 0 : vg_fail(r, VG_ENOTFOUND, "no household");
}

int api_households_get(struct vg_req *r)
{
  int64_t id;
  if (api_path_id(r, "household", &id))
    return r->err;
  return care_res_get(r, &care_res_household, id, guard);
}

int api_households_update(struct vg_req *r)
{
  int64_t id;
  if (api_path_id(r, "household", &id))
    return r->err;
  return care_res_update(r, &care_res_household, id, guard);
}

/* ?org=ID, ?under=ID (households of the subtree), ?patient=ID; only
 * households with a member the caller sees. */
int api_households_list(struct vg_req *r)
{
  static const char *const parts[] = {
    ("SELECT h.name, h.address, h.org_id, h.id, h.version, h.created_ms, "
     "h.updated_ms FROM household h JOIN organization o ON o.id = h.org_id "
     "WHERE h.id > $4 AND ($5 = 0 OR h.org_id = $5) AND o.path LIKE $6 || "
     "'%' AND ($7 = 0 OR EXISTS (SELECT 1 FROM household_member m WHERE "
     "m.household_id = h.id AND m.patient_id = $7)) AND ($3 = 1 OR EXISTS "
     "(SELECT 1 FROM household_member vm WHERE vm.household_id = h.id AND "
     "vm.patient_id IN ("),
    ("))) ORDER BY h.id LIMIT $8")};
  const char *sql;
  struct vg_val p[8];
  char path[512] = "";
  int64_t org, under, patient, after;
  size_t limit;
  if (api_paging(r, 100, 1000, &limit, &after) ||
      care_query_id(r, "org", &org) || care_query_id(r, "under", &under) ||
      care_query_id(r, "patient", &patient))
    return r->err;
  if (care_list_scope(r, parts, 2, &sql, p))
    return r->err;
  if (api_org_path(r, under, path, sizeof path))
    return r->err;
  p[3] = VG_INT(after);
  p[4] = VG_INT(org);
  p[5] = VG_TEXT(path);
  p[6] = VG_INT(patient);
  p[7] = VG_INT((int64_t)limit);
  r->audit_patient = patient;
  return care_res_list(r, &care_res_household, "households", sql, p, 8,
                       limit, NULL);
}
