/* api_devices.c - /api/v1/devices: register a device and bind it to a
 * patient; read and list. */
#include <string.h>

#include "api.h"
#include "api_json.h"
#include "core_errors.h"
#include "store.h"
#include "store_writer.h"

/* Device kinds Vigil knows how to interpret. */
static const char *const kinds[] = {"bp_cuff",   "glucometer", "cgm",
                                    "oximeter",  "scale",      "thermometer",
                                    "wearable",  "ecg_patch",  "monitor",
                                    "gateway"};

static int known_kind(const char *k)
{
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (!strcmp(k, kinds[i]))
      return 1;
  return 0;
}

static int job_create(struct vg_txn *t, void *ctx)
{
  struct vg_device *d = ctx;
  struct vg_patient p;
  int rc;
  if (d->patient_id) {
    rc = store_patient_get(t, d->patient_id, &p);
    if (rc)
      return rc == -VG_ENOTFOUND ? -VG_EUNPROC : rc;
  }
  return store_device_create(t, d);
}

int api_devices_create(struct vg_req *r)
{
  struct vg_device d;
  json_t *j, *serial, *kind, *patient;
  int rc;
  if (api_parse_object(r, &j))
    return r->err;
  memset(&d, 0, sizeof d);
  serial = json_object_get(j, "serial");
  kind = json_object_get(j, "kind");
  patient = json_object_get(j, "patient");
  if (!json_is_string(serial) || json_string_length(serial) == 0 ||
      json_string_length(serial) >= sizeof d.serial)
    rc = vg_fail(r, VG_EINVAL, "\"serial\" must be a string of 1..%zu bytes",
                 sizeof d.serial - 1);
  else if (!json_is_string(kind) || !known_kind(json_string_value(kind)))
    rc = vg_fail(r, VG_EINVAL, "\"kind\" must be one of bp_cuff, glucometer, "
                 "cgm, oximeter, scale, thermometer, wearable, ecg_patch, "
                 "monitor, gateway");
  else if (patient && !json_is_null(patient) &&
           (!json_is_integer(patient) || json_integer_value(patient) <= 0))
    rc = vg_fail(r, VG_EINVAL, "\"patient\" must be a patient id");
  else
    rc = 0;
  if (!rc) {
    memcpy(d.serial, json_string_value(serial), json_string_length(serial) + 1);
    memcpy(d.kind, json_string_value(kind), json_string_length(kind) + 1);
    d.patient_id = json_is_integer(patient) ? json_integer_value(patient) : 0;
  }
  json_decref(j);
  if (rc)
    return rc;
  rc = writer_exec(r->app->writer, 1, job_create, &d);
  if (rc == -VG_ECONFLICT)
    return vg_fail(r, rc, "a device with serial '%s' exists", d.serial);
  if (rc == -VG_EUNPROC)
    return vg_fail(r, rc, "unknown patient %lld", (long long)d.patient_id);
  if (rc)
    return vg_fail(r, rc, "device not stored: %s", vg_strerror(rc));
  api_created(r, "/api/v1/devices/%lld", d.id);
  return api_json_device(&r->out, &d);
}

int api_devices_get(struct vg_req *r)
{
  struct vg_device d;
  struct vg_txn *t;
  int64_t id;
  int rc;
  if (api_path_id(r, "device", &id))
    return r->err;
  rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc)
    return vg_fail(r, rc, "store unavailable");
  rc = store_device_get(t, id, &d);
  store_rollback(t);
  if (rc)
    return vg_fail(r, rc, "no device %lld", (long long)id);
  return api_json_device(&r->out, &d);
}

static int list_one(void *ctx, const struct vg_device *d)
{
  struct api_page *pg = ctx;
  api_page_item(pg, d->id);
  return api_json_device(pg->out, d);
}

int api_devices_list(struct vg_req *r)
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
  buf_puts(&r->out, "{\"devices\":[");
  rc = store_device_list(t, after, limit, list_one, &c);
  store_rollback(t);
  if (rc)
    return vg_fail(r, rc, "listing devices failed");
  buf_puts(&r->out, "],");
  api_next_cursor(&r->out, c.n, limit, c.last);
  return 0;
}
