/* api_organizations.c - /api/v1/organizations: the region tree (create,
 * read, versioned update incl. moving a subtree, list with filters). */
#include <string.h>

#include "api.h"
#include "care_org.h"
#include "core_errors.h"

static const char *const levels[] = {"village_clinic",
  "community_health_centre", "county_hospital", "tertiary_hospital", NULL};

int api_organizations_create(struct vg_req *r)
{
  return care_res_create(r, &care_res_organization, NULL, 0, NULL);
}

int api_organizations_get(struct vg_req *r)
{
  int64_t id;
  if (api_path_id(r, "organization", &id))
    return r->err;
  return care_res_get(r, &care_res_organization, id, NULL);
}

int api_organizations_update(struct vg_req *r)
{
  int64_t id;
  if (api_path_id(r, "organization", &id))
    return r->err;
  return care_res_update(r, &care_res_organization, id, NULL);
}

/* ?parent=ID (children), ?under=ID (the whole subtree, itself included),
 * ?level=, keyset by id. */
int api_organizations_list(struct vg_req *r)
{
  struct vg_val p[5];
  char path[512] = "";
  const char *level;
  int64_t parent, under, after;
  size_t limit;
  if (api_paging(r, 100, 1000, &limit, &after) ||
      care_query_id(r, "parent", &parent) ||
      care_query_id(r, "under", &under) ||
      care_query_oneof(r, "level", levels, &level))
    return r->err;
  if (api_org_path(r, under, path, sizeof path))
    return r->err;
  p[0] = VG_INT(after);
  p[1] = VG_INT(parent);
  p[2] = VG_TEXT(level);
  p[3] = VG_TEXT(path);
  p[4] = VG_INT((int64_t)limit);
  return care_res_list(r, &care_res_organization, "organizations",
                       "SELECT name, level, parent_id, code, path, id, "
                       "version, created_ms, updated_ms FROM organization "
                       "WHERE id > $1 AND ($2 = 0 OR parent_id = $2) AND ($3"
                       " = '' OR level = $3) AND path LIKE $4 || '%' ORDER BY"
                       " id LIMIT $5", p, 5, limit, NULL);
}
