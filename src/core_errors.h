/* core_errors.h - Vigil error codes, messages and HTTP statuses (errors.def). */
#ifndef VG_CORE_ERRORS_H
#define VG_CORE_ERRORS_H

/* Functions return 0 on success or a negative -VG_E* code. */
enum vg_err {
  VG_OK = 0,
#define X(name, status, code, msg) VG_##name,
#include "errors.def"
#undef X
  VG_ERR_COUNT
};

/* Human-readable message for err (negative or positive); never NULL. */
const char *vg_strerror(int err);

/* Stable machine code string ("not_found") for err; never NULL. */
const char *vg_errcode(int err);

/* HTTP status for err; 200 for VG_OK, 500 for anything unknown. */
int vg_http_status(int err);

#endif
