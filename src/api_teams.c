/* api_teams.c - /api/v1/teams: family-doctor teams and their members
 * (create, read, versioned update, list by organisation or member). */
#include <string.h>

#include "api.h"
#include "care_org.h"
#include "core_errors.h"

int api_teams_create(struct vg_req *r)
{
  return care_res_create(r, &care_res_team, NULL, 0, NULL);
}

int api_teams_get(struct vg_req *r)
{
  int64_t id;
  if (api_path_id(r, "team", &id))
    return r->err;
  return care_res_get(r, &care_res_team, id, NULL);
}

int api_teams_update(struct vg_req *r)
{
  int64_t id;
  if (api_path_id(r, "team", &id))
    return r->err;
  return care_res_update(r, &care_res_team, id, NULL);
}

/* ?org=ID, ?under=ID (teams of the subtree), ?member=USER_ID. */
int api_teams_list(struct vg_req *r)
{
  struct vg_val p[5];
  char path[512] = "";
  int64_t org, under, member, after;
  size_t limit;
  if (api_paging(r, 100, 1000, &limit, &after) ||
      care_query_id(r, "org", &org) || care_query_id(r, "under", &under) ||
      care_query_id(r, "member", &member))
    return r->err;
  if (api_org_path(r, under, path, sizeof path))
    return r->err;
  p[0] = VG_INT(after);
  p[1] = VG_INT(org);
  p[2] = VG_TEXT(path);
  p[3] = VG_INT(member);
  p[4] = VG_INT((int64_t)limit);
  return care_res_list(r, &care_res_team, "teams",
                       "SELECT t.name, t.org_id, t.id, t.version, "
                       "t.created_ms, t.updated_ms FROM care_team t JOIN "
                       "organization o ON o.id = t.org_id WHERE t.id > $1 AND"
                       " ($2 = 0 OR t.org_id = $2) AND o.path LIKE $3 || '%'"
                       " AND ($4 = 0 OR EXISTS (SELECT 1 FROM "
                       "care_team_member m WHERE m.team_id = t.id AND "
                       "m.user_id = $4)) ORDER BY t.id LIMIT $5", p, 5, limit,
                       NULL);
}
