/* api_json.c - JSON renderings of patients and devices. */
#include "api_json.h"

#include <string.h>

#include "core_buf.h"
#include "core_time.h"
#include "store.h"

static void str_field(struct vg_buf *b, const char *key, const char *v)
{
  buf_printf(b, ",\"%s\":", key);
  if (v && *v)
    buf_json_str(b, v, strlen(v));
  else
    buf_puts(b, "null");
}

static void time_field(struct vg_buf *b, const char *key, int64_t ms)
{
  char ts[40];
  buf_printf(b, ",\"%s\":", key);
  if (!ms) {
    buf_puts(b, "null");
    return;
  }
  vg_time_format(ms, VG_TZ_UNKNOWN, ts, sizeof ts);
  buf_json_str(b, ts, strlen(ts));
}

int api_json_patient(struct vg_buf *b, const struct vg_patient *p)
{
  static const char *const sexes[] = {"female", "male", "other", "unknown"};
  const char *sex = p->sex == 'F' ? sexes[0] : p->sex == 'M' ? sexes[1]
                  : p->sex == 'O' ? sexes[2] : sexes[3];
  buf_printf(b, "{\"id\":%lld", (long long)p->id);
  str_field(b, "identifier", p->identifier);
  str_field(b, "name", p->name);
  str_field(b, "sex", sex);
  str_field(b, "birth_date", p->birth_date);
  str_field(b, "tz", p->tz);
  time_field(b, "created", p->created_ms);
  time_field(b, "updated", p->updated_ms);
  return buf_putc(b, '}');
}

int api_json_device(struct vg_buf *b, const struct vg_device *d)
{
  buf_printf(b, "{\"id\":%lld", (long long)d->id);
  str_field(b, "serial", d->serial);
  str_field(b, "kind", d->kind);
  if (d->patient_id)
    buf_printf(b, ",\"patient\":%lld", (long long)d->patient_id);
  else
    buf_puts(b, ",\"patient\":null");
  time_field(b, "created", d->created_ms);
  time_field(b, "last_seen", d->last_seen_ms);
  return buf_putc(b, '}');
}
