/* codes.h - reading kinds (codes.def), their units and plausible ranges. */
#ifndef VG_CODES_H
#define VG_CODES_H

#include <stddef.h>

enum vg_code_id {
  VG_CODE_NONE = 0,
#define X(ID, num, name, sys, code, unit, lo, hi, disp) VG_CODE_##ID = num,
#include "codes.def"
#undef X
  VG_CODE_MAX
};

/* Public, read-only. */
struct vg_code {
  int id;              /* enum vg_code_id, stored in the database */
  const char *name;    /* short API name, e.g. "sbp" */
  const char *system;  /* "loinc" or "mdc" */
  const char *code;    /* LOINC or MDC code */
  const char *unit;    /* canonical UCUM unit */
  double min, max;     /* plausible range, canonical unit, inclusive */
  const char *display;
};

/* Look up by short name, primary code or alias code (e.g. LOINC 15074-8
 * glucose in mmol/L maps to "glucose"). Returns NULL if unknown. */
const struct vg_code *codes_find(const char *s, size_t len);
/* By stored id; NULL if unknown. */
const struct vg_code *codes_by_id(int id);
/* All kinds, in id order; *out_n gets the count. */
const struct vg_code *codes_all(size_t *out_n);

/* Convert value given in unit (NULL or "" = canonical) to the canonical
 * unit. OUT: *out. Returns 0, or -VG_EINVAL if the unit is not accepted
 * for this kind. */
int codes_to_canonical(const struct vg_code *c, const char *unit,
                       size_t unit_len, double value, double *out);

/* 0 if finite and within the plausible range, else -VG_EINVAL. */
int codes_check_range(const struct vg_code *c, double canonical_value);

#endif
