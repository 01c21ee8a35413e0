/* api_patients.c - /api/v1/patients: create, read, list (keyset paging). */
#include <string.h>

#include "api.h"
#include "api_json.h"
#include "auth.h"
#include "core_errors.h"
#include "core_time.h"
#include "store.h"
#include "store_writer.h"

/* Copy an optional string member into dst (size dst_size). */
static int copy_str(struct vg_req *r, json_t *obj, const char *key, char *dst,
                    size_t dst_size, int required)
{
  json_t *v = json_object_get(obj, key);
  size_t len;
  if (!v || json_is_null(v)) {
    if (required)
      return vg_fail(r, VG_EINVAL, "\"%s\" is required", key);
    return 0;
  }
  if (!json_is_string(v))
    return vg_fail(r, VG_EINVAL, "\"%s\" must be a string", key);
  len = json_string_length(v);
  if (len >= dst_size)
    return vg_fail(r, VG_EINVAL, "\"%s\" is longer than %zu bytes", key,
                   dst_size - 1);
  memcpy(dst, json_string_value(v), len + 1);
  return 0;
}

/* Fill p from a JSON body; vg_fail on the first bad field. */
static int patient_from_json(struct vg_req *r, json_t *j, struct vg_patient *p)
{
  char sex[8] = "";
  int64_t ms;
  memset(p, 0, sizeof *p);
  if (copy_str(r, j, "name", p->name, sizeof p->name, 1) ||
      copy_str(r, j, "identifier", p->identifier, sizeof p->identifier, 0) ||
      copy_str(r, j, "birth_date", p->birth_date, sizeof p->birth_date, 0) ||
      copy_str(r, j, "tz", p->tz, sizeof p->tz, 0) ||
      copy_str(r, j, "sex", sex, sizeof sex, 0))
    return r->err;
  if (!p->name[0])
    return vg_fail(r, VG_EINVAL, "\"name\" must not be empty");
  if (p->birth_date[0] &&
      vg_date_parse(p->birth_date, strlen(p->birth_date), &ms))
    return vg_fail(r, VG_EINVAL, "\"birth_date\" must be YYYY-MM-DD");
  if (!sex[0] || !strcmp(sex, "U") || !strcmp(sex, "unknown"))
    p->sex = 'U';
  else if (!strcmp(sex, "F") || !strcmp(sex, "female"))
    p->sex = 'F';
  else if (!strcmp(sex, "M") || !strcmp(sex, "male"))
    p->sex = 'M';
  else if (!strcmp(sex, "O") || !strcmp(sex, "other"))
    p->sex = 'O';
  else
    return vg_fail(r, VG_EINVAL,
                   "\"sex\" must be female, male, other or unknown");
  return 0;
}

static int job_create(struct vg_txn *t, void *ctx)
{
  return store_patient_create(t, ctx);
}

int api_patients_create(struct vg_req *r)
{
  struct vg_patient p;
  json_t *j;
  int rc;
  if (api_parse_object(r, &j))
    return r->err;
  rc = patient_from_json(r, j, &p);
  json_decref(j);
  if (rc)
    return rc;
  rc = writer_exec(r->app->writer, 1, job_create, &p);
  if (rc == -VG_ECONFLICT)
    return vg_fail(r, rc, "a patient with identifier '%s' exists",
                   p.identifier);
  if (rc)
    return vg_fail(r, rc, "patient not stored: %s", vg_strerror(rc));
  api_created(r, "/api/v1/patients/%lld", p.id);
  return api_json_patient(&r->out, &p);
}

int api_patients_get(struct vg_req *r)
{
  struct vg_patient p;
  struct vg_txn *t;
  int64_t id;
  int rc;
  if (api_path_id(r, "patient", &id))
    return r->err;
  rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc)
    return vg_fail(r, rc, "store unavailable");
  rc = store_patient_get(t, id, &p);
  store_rollback(t);
  if (rc)
    return vg_fail(r, rc, "no patient %lld", (long long)id);
  return api_json_patient(&r->out, &p);
}

static int list_one(void *ctx, const struct vg_patient *p)
{
  struct api_page *pg = ctx;
  api_page_item(pg, p->id);
  return api_json_patient(pg->out, p);
}

/* Patients of a restricted principal: its sorted visible set (care roles)
 * or itself (a patient), paged by id like the full list. */
static int list_visible(struct vg_req *r, struct vg_txn *t, int64_t after,
                        size_t limit, struct api_page *c)
{
  const struct vg_principal *pr = r->principal;
  const int64_t *ids = pr->visible;
  size_t n = pr->n_visible;
  struct vg_patient p;
  int rc;
  if (!pr->visible_loaded) { /* the patient role: itself */
    ids = &pr->patient_id;
    n = pr->patient_id > 0 ? 1 : 0;
  }
  for (size_t i = 0; i < n && c->n < limit; i++) {
    if (ids[i] <= after)
      continue;
    rc = store_patient_get(t, ids[i], &p);
    if (rc == -VG_ENOTFOUND) /* merged or removed since the set was read */
      continue;
    if (rc)
      return rc;
    list_one(c, &p);
  }
  return 0;
}

int api_patients_list(struct vg_req *r)
{
  struct api_page c = {&r->out, 0, 0};
  struct vg_txn *t;
  size_t limit;
  int64_t after;
  int rc;
  if (api_paging(r, 100, 1000, &limit, &after))
    return r->err;
  rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc)
    return vg_fail(r, rc, "store unavailable");
  buf_puts(&r->out, "{\"patients\":[");
  if (r->principal && !auth_sees_all_patients(r->principal))
    rc = list_visible(r, t, after, limit, &c);
  else
    rc = store_patient_list(t, after, limit, list_one, &c);
  store_rollback(t);
  if (rc)
    return vg_fail(r, rc, "listing patients failed");
  buf_puts(&r->out, "],");
  api_next_cursor(&r->out, c.n, limit, c.last);
  return 0;
}
