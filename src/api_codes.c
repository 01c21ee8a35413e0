/* api_codes.c - GET /api/v1/codes: the reading kinds the API accepts. */
#include <string.h>

#include "api.h"
#include "codes.h"

int api_codes_list(struct vg_req *r)
{
  size_t n;
  const struct vg_code *c = codes_all(&n);
  buf_puts(&r->out, "{\"codes\":[");
  for (size_t i = 0; i < n; i++) {
    buf_puts(&r->out, i ? ",{\"name\":" : "{\"name\":");
    buf_json_str(&r->out, c[i].name, strlen(c[i].name));
    buf_puts(&r->out, ",\"system\":");
    buf_json_str(&r->out, c[i].system, strlen(c[i].system));
    buf_puts(&r->out, ",\"code\":");
    buf_json_str(&r->out, c[i].code, strlen(c[i].code));
    buf_puts(&r->out, ",\"unit\":");
    buf_json_str(&r->out, c[i].unit, strlen(c[i].unit));
    buf_puts(&r->out, ",\"min\":");
    buf_json_num(&r->out, c[i].min);
    buf_puts(&r->out, ",\"max\":");
    buf_json_num(&r->out, c[i].max);
    buf_puts(&r->out, ",\"display\":");
    buf_json_str(&r->out, c[i].display, strlen(c[i].display));
    buf_putc(&r->out, '}');
  }
  buf_puts(&r->out, "]}");
  return 0;
}
