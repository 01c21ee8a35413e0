/* codes.c - lookup tables over codes.def and units.def. */
#include "codes.h"

#include <math.h>
#include <string.h>

#include "core_errors.h"

static const struct vg_code code_table[] = {
#define X(ID, num, nm, sys, cd, un, lo, hi, disp) {num, nm, sys, cd, un, lo, hi, disp},
#include "codes.def"
#undef X
};
#define N_CODES (sizeof code_table / sizeof code_table[0])

struct unit_conv {
  int code;
  const char *unit;
  double factor, offset;
};

static const struct unit_conv unit_table[] = {
#define X(ID, u, f, o) {VG_CODE_##ID, u, f, o},
#include "units.def"
#undef X
};

/* Other codes that mean the same kind (the unit decides the conversion).
 * LOINC: 15074-8 glucose mmol/L, 2345-7 glucose serum/plasma, 41653-7
 * capillary glucose by meter, 14743-9 capillary glucose mmol/L, 2708-6 and
 * 20564-1 SpO2, 38483-4 creatinine in blood, 14959-1 microalbumin/creatinine,
 * 33914-3 and 62238-1 older eGFR equations, 17856-6 HbA1c by HPLC,
 * 14771-0 fasting glucose mmol/L. */
static const struct {
  const char *code;
  int id;
} alias_table[] = {
    {"15074-8", VG_CODE_GLUCOSE}, {"2345-7", VG_CODE_GLUCOSE},
    {"41653-7", VG_CODE_GLUCOSE}, {"14743-9", VG_CODE_GLUCOSE},
    {"2708-6", VG_CODE_SPO2},     {"20564-1", VG_CODE_SPO2},
    {"38483-4", VG_CODE_CREAT},   {"14959-1", VG_CODE_UACR},
    {"33914-3", VG_CODE_EGFR},    {"62238-1", VG_CODE_EGFR},
    {"17856-6", VG_CODE_HBA1C},   {"14771-0", VG_CODE_FPG},
};

static int eq(const char *a, const char *s, size_t len)
{
  return strlen(a) == len && memcmp(a, s, len) == 0;
}

const struct vg_code *codes_find(const char *s, size_t len)
{
  size_t i;
  if (!s)
    return NULL;
  for (i = 0; i < N_CODES; i++)
    if (eq(code_table[i].name, s, len) || eq(code_table[i].code, s, len))
      return &code_table[i];
  for (i = 0; i < sizeof alias_table / sizeof alias_table[0]; i++)
    if (eq(alias_table[i].code, s, len))
      return codes_by_id(alias_table[i].id);
  return NULL;
}

const struct vg_code *codes_by_id(int id)
{
  for (size_t i = 0; i < N_CODES; i++)
    if (code_table[i].id == id)
      return &code_table[i];
  return NULL;
}

const struct vg_code *codes_all(size_t *out_n)
{
  *out_n = N_CODES;
  return code_table;
}

int codes_to_canonical(const struct vg_code *c, const char *unit,
                       size_t unit_len, double value, double *out)
{
  if (!unit || unit_len == 0 || eq(c->unit, unit, unit_len)) {
    *out = value;
    return 0;
  }
  for (size_t i = 0; i < sizeof unit_table / sizeof unit_table[0]; i++) {
    if (unit_table[i].code == c->id && eq(unit_table[i].unit, unit, unit_len)) {
      *out = value * unit_table[i].factor + unit_table[i].offset;
      return 0;
    }
  }
  return -VG_EINVAL;
}

int codes_check_range(const struct vg_code *c, double v)
{
  return isfinite(v) && v >= c->min && v <= c->max ? 0 : -VG_EINVAL;
}
