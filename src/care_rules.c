/* care_rules.c - the default care rule table, the override-file parser,
 * the rules fingerprint and the follow-up decision table (section 9 of
 * docs/clinical-reference.md). */
#include "care_rules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_alloc.h"
#include "core_errors.h"

enum { F_DBL, F_I64 };

/* One tunable: name (= field name), type, offset, default and source. */
static const struct field {
  const char *name;
  int type;
  size_t off;
  double def;
} fields[] = {
#define D(f, v) {#f, F_DBL, offsetof(struct care_rules, f), v}
#define I(f, v) {#f, F_I64, offsetof(struct care_rules, f), v}
  /* 国家基本公共卫生服务规范 (3rd ed., 2017), hypertension: control < 140/90,
   * emergency referral at SBP >= 180 and/or DBP >= 110. */
  D(bp_ctrl_sbp, 140), D(bp_ctrl_dbp, 90),
  /* China 2018 / ESH 2023 home-BP threshold 135/85 (reference section 1.2). */
  D(bp_home_sbp, 135), D(bp_home_dbp, 85),
  D(bp_danger_sbp, 180), D(bp_danger_dbp, 110),
  /* Same standard, diabetes: control FPG < 7.0 mmol/L (x 18.016 mg/dL per
   * mmol/L), emergency FPG >= 16.7 or <= 3.9 mmol/L. */
  D(fpg_ctrl_mgdl, 126.1), D(fpg_danger_high_mgdl, 300.9),
  D(fpg_danger_low_mgdl, 70.3),
  /* ADA 2025 / China 2020: HbA1c target < 7 %; Battelino 2019: TIR > 70 %. */
  D(hba1c_ctrl_pct, 7.0), D(cgm_tir_target_pct, 70),
  /* Level 2 hypoglycaemia < 54 mg/dL (Battelino 2019); 16.7 mmol/L. */
  D(glucose_alert_low_mgdl, 54), D(glucose_alert_high_mgdl, 300.9),
  /* Resting HR > 100/min is an emergency-referral sign (2017 standard). */
  D(hr_high_bpm, 100), I(hr_sustain_s, 600),
  /* Platform choice: SpO2 < 88 % sustained 5 min (docs/care.md). */
  D(spo2_low_pct, 88), I(spo2_sustain_s, 300),
  /* Platform choice: a > 25 % eGFR fall (KDIGO "certain drop" is >= 25 %). */
  D(egfr_drop_pct, 25), D(af_burden_alert_pct, 0.0),
  I(silence_days, 3),
  /* 2017 standard: controlled 3 months; uncontrolled within 2 weeks;
   * uncontrolled at 2 consecutive follow-ups: refer, contact in 2 weeks. */
  I(fu_controlled_days, 90), I(fu_uncontrolled_days, 14),
  I(fu_refer_after, 2), I(fu_refer_days, 14), I(fu_urgent_contact_days, 14),
  /* 一级/二级/三级 management: intervals vary by province; platform
   * defaults 90 / 60 / 30 days (docs/care.md). */
  I(level1_days, 90), I(level2_days, 60), I(level3_days, 30),
  I(window_days, 90), I(debounce_ms, 500),
  /* Escalation delays: platform defaults (docs/care.md). */
  I(esc_critical_s, 900), I(esc_high_s, 3600), I(esc_medium_s, 14400),
  I(esc_low_s, 86400),
#undef D
#undef I
};

#define N_FIELDS (sizeof fields / sizeof fields[0])

static void set_field(struct care_rules *r, const struct field *f, double v)
{
  char *p = (char *)r + f->off;
  if (f->type == F_DBL)
    memcpy(p, &v, sizeof v);
  else {
    int64_t i = (int64_t)v;
    memcpy(p, &i, sizeof i);
  }
}

void care_rules_default(struct care_rules *r)
{
  memset(r, 0, sizeof *r);
  for (size_t i = 0; i < N_FIELDS; i++)
    set_field(r, &fields[i], fields[i].def);
}

static void trim(const char **s, const char **e)
{
  while (*s < *e && (**s == ' ' || **s == '\t' || **s == '\r'))
    (*s)++;
  while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
    (*e)--;
}

int care_rules_parse(struct care_rules *r, const char *text, size_t len,
                     char *err, size_t err_len)
{
  const char *p = text, *end = text + len;
  int line = 0;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end, *eq, *ks, *ke, *vs, *ve, *hash;
    const struct field *f = NULL;
    char num[64], *stop;
    double v;
    line++;
    hash = memchr(p, '#', (size_t)(le - p));
    ks = p;
    ke = hash ? hash : le;
    p = nl ? nl + 1 : end;
    trim(&ks, &ke);
    if (ks == ke)
      continue;
    eq = memchr(ks, '=', (size_t)(ke - ks));
    if (!eq) {
      snprintf(err, err_len, "line %d: expected key = value", line);
      return -VG_EINVAL;
    }
    vs = eq + 1;
    ve = ke;
    ke = eq;
    trim(&ks, &ke);
    trim(&vs, &ve);
    for (size_t i = 0; i < N_FIELDS; i++)
      if (strlen(fields[i].name) == (size_t)(ke - ks) &&
          memcmp(fields[i].name, ks, (size_t)(ke - ks)) == 0)
        f = &fields[i];
    if (!f) {
      snprintf(err, err_len, "line %d: unknown rule '%.*s'", line,
               (int)(ke - ks), ks);
      return -VG_EINVAL;
    }
    if (ve - vs <= 0 || ve - vs >= (long)sizeof num) {
      snprintf(err, err_len, "line %d: %s needs a number", line, f->name);
      return -VG_EINVAL;
    }
    memcpy(num, vs, (size_t)(ve - vs));
    num[ve - vs] = '\0';
    errno = 0;
    v = strtod(num, &stop);
    if (errno || *stop || v < 0 || v > 1e12 ||
        (f->type == F_I64 && v != (double)(int64_t)v)) {
      snprintf(err, err_len, "line %d: bad value '%s' for %s", line, num,
               f->name);
      return -VG_EINVAL;
    }
    set_field(r, f, v);
  }
  return 0;
}

int care_rules_load(struct care_rules *r, const char *path, char *err,
                    size_t err_len)
{
  FILE *f;
  char *text;
  size_t n = 0, cap = 1 << 16;
  int rc;
  care_rules_default(r);
  if (!path || !path[0])
    return 0;
  f = fopen(path, "rb");
  if (!f) {
    snprintf(err, err_len, "cannot read %s", path);
    return -VG_EIO;
  }
  text = vg_malloc(cap);
  n = fread(text, 1, cap, f);
  fclose(f);
  if (n == cap) {
    vg_free(text);
    snprintf(err, err_len, "%s is larger than 64 KiB", path);
    return -VG_EINVAL;
  }
  rc = care_rules_parse(r, text, n, err, err_len);
  vg_free(text);
  return rc;
}

void care_rules_version(const struct care_rules *r, char out[17])
{
  /* FNV-1a 64 over name=value pairs: stable across builds and layouts. */
  uint64_t h = 0xcbf29ce484222325ull;
  char buf[96];
  for (size_t i = 0; i < N_FIELDS; i++) {
    const char *p = (const char *)r + fields[i].off;
    double d;
    int64_t v;
    int n;
    if (fields[i].type == F_DBL) {
      memcpy(&d, p, sizeof d);
      n = snprintf(buf, sizeof buf, "%s=%.6g;", fields[i].name, d);
    } else {
      memcpy(&v, p, sizeof v);
      n = snprintf(buf, sizeof buf, "%s=%lld;", fields[i].name, (long long)v);
    }
    for (int k = 0; k < n && k < (int)sizeof buf; k++) {
      h ^= (unsigned char)buf[k];
      h *= 0x100000001b3ull;
    }
  }
  snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* ---- follow-up decision table ------------------------------------------ */

enum cond { C_DANGER, C_REFER, C_ADJUST, C_CONTROLLED, C_ALWAYS };

/* Ordered rows: the first whose condition holds decides (2017 standard). */
static const struct row {
  int cond, action, tier;
  const char *rule, *reason;
} table[] = {
  {C_DANGER, CARE_ACT_URGENT_REFER, CARE_TIER_URGENT, "danger_signs",
   "danger sign present: emergency referral, contact within 2 weeks"},
  {C_REFER, CARE_ACT_REFER, CARE_TIER_URGENT, "uncontrolled_twice",
   "uncontrolled at consecutive follow-ups or a new complication: refer, "
   "follow up within 2 weeks"},
  {C_ADJUST, CARE_ACT_ADJUST, CARE_TIER_ATTENTION, "first_uncontrolled",
   "uncontrolled or adverse drug reaction: adjust treatment, follow up "
   "within 2 weeks"},
  {C_CONTROLLED, CARE_ACT_ROUTINE, CARE_TIER_STABLE, "controlled",
   "controlled: next follow-up in 3 months"},
  {C_ALWAYS, CARE_ACT_NONE, CARE_TIER_STABLE, "no_data",
   "not enough data to judge control: routine follow-up"},
};

static int holds(const struct care_rules *r, int cond,
                 const struct care_followup_in *in)
{
  switch (cond) {
  case C_DANGER:
    return in->danger;
  case C_REFER:
    return in->new_complication ||
           (in->controlled == 0 &&
            in->uncontrolled_streak >= (int)r->fu_refer_after);
  case C_ADJUST:
    return in->controlled == 0 || in->adverse_reaction;
  case C_CONTROLLED:
    return in->controlled == 1;
  default:
    return 1;
  }
}

void care_followup_decide(const struct care_rules *r,
                          const struct care_followup_in *in,
                          struct care_followup_out *out)
{
  size_t i;
  for (i = 0; i + 1 < sizeof table / sizeof table[0]; i++)
    if (holds(r, table[i].cond, in))
      break;
  out->action = table[i].action;
  out->tier = table[i].tier;
  out->rule = table[i].rule;
  out->reason = table[i].reason;
  switch (table[i].action) {
  case CARE_ACT_URGENT_REFER:
    out->next_days = r->fu_urgent_contact_days;
    break;
  case CARE_ACT_REFER:
    out->next_days = r->fu_refer_days;
    break;
  case CARE_ACT_ADJUST:
    out->next_days = r->fu_uncontrolled_days;
    break;
  default:
    out->next_days = r->fu_controlled_days;
  }
}

const char *care_action_name(int action)
{
  static const char *const n[] = {"none", "routine", "adjust", "refer",
                                  "urgent_refer"};
  return action >= 0 && action <= CARE_ACT_URGENT_REFER ? n[action] : "?";
}

const char *care_tier_name(int tier)
{
  static const char *const n[] = {"stable", "attention", "urgent"};
  return tier >= 0 && tier <= CARE_TIER_URGENT ? n[tier] : "?";
}

int64_t care_rules_escalation_ms(const struct care_rules *r,
                                 const char *severity)
{
  if (strcmp(severity, "critical") == 0)
    return r->esc_critical_s * 1000;
  if (strcmp(severity, "high") == 0)
    return r->esc_high_s * 1000;
  if (strcmp(severity, "medium") == 0)
    return r->esc_medium_s * 1000;
  return r->esc_low_s * 1000;
}
