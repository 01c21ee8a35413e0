/* core_errors.c - the tables behind core_errors.h, generated from errors.def. */
#include "core_errors.h"

struct err_info {
  int status;
  const char *code;
  const char *msg;
};

static const struct err_info err_table[VG_ERR_COUNT] = {
  [VG_OK] = {200, "ok", "ok"},
#define X(name, st, cd, m) [VG_##name] = {st, cd, m},
#include "errors.def"
#undef X
};

static const struct err_info *lookup(int err)
{
  if (err < 0)
    err = -err;
  if (err >= VG_ERR_COUNT)
    return &err_table[VG_EINTERNAL];
  return &err_table[err];
}

const char *vg_strerror(int err) { return lookup(err)->msg; }
const char *vg_errcode(int err) { return lookup(err)->code; }
int vg_http_status(int err) { return lookup(err)->status; }
