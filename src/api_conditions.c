/* api_conditions.c - patient-scoped care routes: /api/v1/patients/{id}/
 * conditions (programme enrolments: create, read, versioned update, list)
 * and POST /api/v1/patients/{id}/merge (merge a duplicate patient). The
 * row-level rule on {id} is applied by http.c before these run. */
#include <string.h>

#include "api.h"
#include "auth.h"
#include "care_org.h"
#include "core_arena.h"
#include "core_errors.h"
#include "store_writer.h"

static const char *const statuses[] = {"active", "resolved", "transferred",
                                       "dead", NULL};

static int path_ids(struct vg_req *r, int64_t *pid, int64_t *cid)
{
  if (api_path_id(r, "patient", pid))
    return r->err;
  if (cid && api_parse_id(r->params[1], cid))
    return vg_fail(r, VG_ENOTFOUND, "no condition '%s'", r->params[1]);
  return 0;
}

int api_conditions_create(struct vg_req *r)
{
  struct care_preset pre[1];
  int64_t pid, id;
  int rc;
  if (path_ids(r, &pid, NULL))
    return r->err;
  pre[0].name = "patient";
  pre[0].v = VG_INT(pid);
  rc = care_res_create(r, &care_res_condition, pre, 1, &id);
  if (rc == 0)
    r->location = arena_printf(r->arena, "/api/v1/patients/%lld/conditions/"
                               "%lld", (long long)pid, (long long)id);
  return rc;
}

/* The condition must belong to the patient of the path. */
static int owner_guard(struct vg_req *r, const struct vg_val *cols)
{
  int64_t pid;
  if (api_parse_id(r->params[0], &pid) || cols[0].i != pid)
    return vg_fail(r, VG_ENOTFOUND, "no condition '%s' for patient '%s'",
                   r->params[1], r->params[0]);
  return 0;
}

int api_conditions_get(struct vg_req *r)
{
  int64_t pid, cid;
  if (path_ids(r, &pid, &cid))
    return r->err;
  return care_res_get(r, &care_res_condition, cid, owner_guard);
}

int api_conditions_update(struct vg_req *r)
{
  int64_t pid, cid;
  if (path_ids(r, &pid, &cid))
    return r->err;
  return care_res_update(r, &care_res_condition, cid, owner_guard);
}

/* ?status=, ?code=. */
int api_conditions_list(struct vg_req *r)
{
  struct vg_val p[5];
  const char *status, *code;
  int64_t pid, after;
  size_t limit;
  if (path_ids(r, &pid, NULL) || api_paging(r, 100, 1000, &limit, &after) ||
      care_query_oneof(r, "status", statuses, &status) ||
      care_query_oneof(r, "code", care_condition_codes, &code))
    return r->err;
  p[0] = VG_INT(pid);
  p[1] = VG_INT(after);
  p[2] = VG_TEXT(status);
  p[3] = VG_TEXT(code);
  p[4] = VG_INT((int64_t)limit);
  return care_res_list(r, &care_res_condition, "conditions",
                       "SELECT patient_id, code, enrolled_date, status, "
                       "status_date, note, id, version, created_ms, "
                       "updated_ms FROM patient_condition WHERE patient_id = "
                       "$1 AND id > $2 AND ($3 = '' OR status = $3) AND ($4 "
                       "= '' OR code = $4) ORDER BY id LIMIT $5", p, 5, limit,
                       NULL);
}

/* ==== merge ============================================================== */

struct merge_job {
  int64_t from, into, by, moved;
};

static int job_merge(struct vg_txn *t, void *ctx)
{
  struct merge_job *m = ctx;
  return care_patient_merge(t, m->from, m->into, m->by, &m->moved);
}

int api_patients_merge(struct vg_req *r)
{
  struct merge_job m = {0};
  json_t *j, *into;
  int rc;
  if (api_path_id(r, "patient", &m.from))
    return r->err;
  if (api_parse_object(r, &j))
    return r->err;
  into = json_object_get(j, "into");
  if (!json_is_integer(into) || json_integer_value(into) <= 0) {
    json_decref(j);
    return vg_fail(r, VG_EINVAL, "\"into\" must be a patient id");
  }
  m.into = json_integer_value(into);
  json_decref(j);
  if (!auth_patient_visible(NULL, r->principal, m.into))
    return vg_fail(r, VG_EUNPROC, "no patient %lld", (long long)m.into);
  if (m.into == m.from)
    return vg_fail(r, VG_EINVAL, "a patient cannot be merged into itself");
  m.by = r->principal ? r->principal->user_id : 0;
  rc = writer_exec(r->app->writer, 1, job_merge, &m);
  if (rc == -VG_ENOTFOUND)
    return vg_fail(r, VG_EUNPROC, "no patient %lld", (long long)m.into);
  if (rc == -VG_EINVAL)
    return vg_fail(r, VG_ECONFLICT, "patient %lld or %lld was already merged",
                   (long long)m.from, (long long)m.into);
  if (rc)
    return vg_fail(r, rc, "merge failed: %s", vg_strerror(rc));
  buf_printf(&r->out, "{\"from\":%lld,\"into\":%lld,\"moved_readings\":%lld}",
             (long long)m.from, (long long)m.into, (long long)m.moved);
  return 0;
}
