/* report_indicators.c - population indicators over an organisation
 * subtree: one pass over the subtree's residents, their hypertension and
 * diabetes enrolments, the visits of the last 12 months, the covering
 * contracts and the current tier (each query restricted to the subtree's
 * residents in SQL), giving per-patient numerator/denominator bits that
 * are summed (report_indicators) or listed (report_patients); and the
 * alerts raised in the period with their acknowledgement times. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "care_org.h"
#include "core_alloc.h"
#include "core_errors.h"
#include "core_time.h"
#include "report_indicators.h"
#include "store.h"

static const struct {
  const char *key, *label;
} inds[RI_COUNT] = {
  {"hearts.bp_controlled", "HEARTS: BP controlled (last BP in 3 months "
                           "<140/90) of hypertension patients registered "
                           "before the last 3 months"},
  {"hearts.bp_uncontrolled", "HEARTS: BP uncontrolled (last BP in 3 months "
                             ">=140 or >=90), same denominator"},
  {"hearts.visit_no_bp", "HEARTS: visit but no BP taken in 3 months, same "
                         "denominator"},
  {"hearts.missed_visits", "HEARTS: no visit and no BP in 3 months, same "
                           "denominator"},
  {"hearts.lost_to_follow_up", "HEARTS: no BP in 12 months, of patients "
                               "registered more than 12 months ago"},
  {"china.htn_standard_management", "规范管理率 hypertension: standard "
                                    "face-to-face follow-ups in the last 12 "
                                    "months / patients under management"},
  {"china.htn_bp_control", "血压控制率: latest BP in 12 months <140/90 / "
                           "hypertension patients under management"},
  {"china.t2d_standard_management", "规范管理率 type 2 diabetes: standard "
                                    "follow-ups / patients under management"},
  {"china.t2d_glucose_control", "血糖控制率: latest FPG in 12 months <7.0 "
                                "mmol/L / diabetes patients under management"},
  {"china.contract_coverage", "签约率: residents covered by an active "
                              "family-doctor contract on the last day"},
  {"china.contract_coverage_priority", "签约率 priority groups (>=65, 0-6, "
                                       "hypertension, diabetes, tagged)"},
  {"tier.stable", "Tier stable (current overall assessment) / living "
                  "residents"},
  {"tier.attention", "Tier attention (current overall assessment) / living "
                     "residents"},
  {"tier.urgent", "Tier urgent (current overall assessment) / living "
                  "residents"},
  {"tier.not_assessed", "No assessment yet / living residents"},
};

const char *report_ind_key(enum report_ind i) { return inds[i].key; }
const char *report_ind_label(enum report_ind i) { return inds[i].label; }

int report_ind_find(const char *key)
{
  for (int i = 0; i < RI_COUNT; i++)
    if (strcmp(inds[i].key, key) == 0)
      return i;
  return -1;
}

/* ==== periods ============================================================ */

int report_period_parse(const char *s, struct report_period *out)
{
  char start[40];
  int y, q, m, months;
  char tail;
  memset(out, 0, sizeof *out);
  if (!s || strlen(s) >= sizeof out->label)
    return -VG_EINVAL;
  if (sscanf(s, "%4d-Q%1d%c", &y, &q, &tail) == 2 && strlen(s) == 7 &&
      q >= 1 && q <= 4) {
    m = (q - 1) * 3 + 1;
    months = 3;
  } else if (sscanf(s, "%4d-%2d%c", &y, &m, &tail) == 2 && strlen(s) == 7 &&
             m >= 1 && m <= 12) {
    months = 1;
  } else {
    return -VG_EINVAL;
  }
  if (y < 1970 || y > 9998)
    return -VG_EINVAL;
  snprintf(out->label, sizeof out->label, "%s", s);
  snprintf(start, sizeof start, "%04d-%02d-01", y, m);
  memcpy(out->start, start, 10);
  out->start[10] = '\0';
  if (care_date_add_months(start, months, out->end) ||
      care_date_add_months(out->end, -3, out->end3) ||
      care_date_add_months(out->end, -12, out->end12) ||
      vg_date_parse(out->start, 10, &out->start_ms) ||
      vg_date_parse(out->end, 10, &out->end_ms) ||
      vg_date_parse(out->end3, 10, &out->end3_ms) ||
      vg_date_parse(out->end12, 10, &out->end12_ms))
    return -VG_EINVAL;
  return 0;
}

/* ==== the pass =========================================================== */

#define NO_ENROL 0 /* enrol_ms value: not under management at period end */

struct resident {
  int64_t pid, household;
  int child;              /* index into children, -1 = the root org itself */
  unsigned char priority; /* tagged, or age >= 65 or <= 6 */
  unsigned char dead;
  int64_t enrol_ms[2];    /* 0: hypertension, 1: t2d; NO_ENROL = not */
  int64_t last_bp_ms, last_visit_ms;
  double last_sbp, last_dbp, last_glu;
  int64_t last_glu_ms;
  int n_f2f[2];           /* face-to-face visits since max(end12, enrol) */
  unsigned char covered;
  signed char tier;       /* -1 not assessed, 0 stable, 1 attention, 2 urgent */
  uint32_t num, den;      /* bit per indicator */
};

struct ack { /* one acknowledged alert */
  int child;
  int64_t ms;
};

struct pass {
  const struct report_period *p;
  struct resident *res;
  size_t n, cap;
  char root_path[512];
  size_t root_len;
  struct report_org *children;
  size_t n_children, cap_children;
  int64_t *households; /* covered by a household contract, sorted */
  size_t n_households, cap_households;
  const struct report_filter *f;
  struct report_alerts alerts;  /* subtree totals (ack times: below) */
  struct ack *acks;
  size_t n_acks, cap_acks;
};

static int cmp_i64(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static struct resident *find(struct pass *ps, int64_t pid)
{
  size_t lo = 0, hi = ps->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ps->res[mid].pid < pid)
      lo = mid + 1;
    else if (ps->res[mid].pid > pid)
      hi = mid;
    else
      return &ps->res[mid];
  }
  return NULL;
}

static int child_of(struct pass *ps, const char *path, size_t len)
{
  int64_t id;
  if (len <= ps->root_len)
    return -1;
  id = strtoll(path + ps->root_len, NULL, 10);
  for (size_t i = 0; i < ps->n_children; i++)
    if (ps->children[i].id == id)
      return (int)i;
  return -1;
}

static int child_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct pass *ps = ctx;
  struct report_org *o;
  if (n < 3)
    return -VG_EINTERNAL;
  if (ps->n_children == ps->cap_children) {
    size_t cap = ps->cap_children ? ps->cap_children * 2 : 16;
    o = vg_realloc(ps->children, cap * sizeof *o);
    if (!o)
      return -VG_ENOMEM;
    ps->children = o;
    ps->cap_children = cap;
  }
  o = &ps->children[ps->n_children++];
  memset(o, 0, sizeof *o);
  o->id = c[0].i;
  snprintf(o->name, sizeof o->name, "%.*s", (int)c[1].len, c[1].s);
  snprintf(o->level, sizeof o->level, "%.*s", (int)c[2].len, c[2].s);
  return 0;
}

/* Age in whole years on date end ("YYYY-MM-DD") of birth date b. */
static int age_on(const char *b, size_t blen, const char *end)
{
  int by, bm, bd, ey, em, ed, age;
  char tmp[11];
  if (blen != 10)
    return -1;
  memcpy(tmp, b, 10);
  tmp[10] = '\0';
  if (sscanf(tmp, "%4d-%2d-%2d", &by, &bm, &bd) != 3 ||
      sscanf(end, "%4d-%2d-%2d", &ey, &em, &ed) != 3)
    return -1;
  age = ey - by;
  if (em < bm || (em == bm && ed < bd))
    age--;
  return age;
}

/* patient_id, household_id, org path, priority tags, birth date */
static int resident_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct pass *ps = ctx;
  struct resident *r;
  int age;
  if (n < 5)
    return -VG_EINTERNAL;
  if (ps->n == ps->cap) {
    size_t cap = ps->cap ? ps->cap * 2 : 1024;
    r = vg_realloc(ps->res, cap * sizeof *r);
    if (!r)
      return -VG_ENOMEM;
    ps->res = r;
    ps->cap = cap;
  }
  if (ps->f && ps->f->restrict_ids &&
      (!ps->f->n_only || !bsearch(&c[0].i, ps->f->only, ps->f->n_only,
                                  sizeof(int64_t), cmp_i64)))
    return 0; /* not the caller's to count */
  r = &ps->res[ps->n++];
  memset(r, 0, sizeof *r);
  r->pid = c[0].i;
  r->tier = -1;
  r->household = c[1].i;
  r->child = child_of(ps, c[2].s, c[2].len);
  age = c[4].type == VG_VAL_TEXT ? age_on(c[4].s, c[4].len, ps->p->end) : -1;
  r->priority = (c[3].type == VG_VAL_TEXT && c[3].len > 0) || age >= 65 ||
                (age >= 0 && age <= 6);
  return 0;
}

/* patient_id, code, enrolled_date, status, status_date */
static int condition_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct pass *ps = ctx;
  struct resident *r;
  int k;
  int64_t ms;
  char end[11];
  if (n < 5)
    return -VG_EINTERNAL;
  r = find(ps, c[0].i);
  if (!r)
    return 0;
  memcpy(end, ps->p->end, 11);
  /* Left the programme before the period ended: not under management. */
  if (!(c[3].len == 6 && memcmp(c[3].s, "active", 6) == 0) &&
      c[4].type == VG_VAL_TEXT && c[4].len == 10 &&
      memcmp(c[4].s, end, 10) < 0) {
    if (c[3].len == 4 && memcmp(c[3].s, "dead", 4) == 0)
      r->dead = 1;
    return 0;
  }
  if (c[2].len != 10 || memcmp(c[2].s, end, 10) >= 0 ||
      vg_date_parse(c[2].s, 10, &ms))
    return 0; /* enrolled after the period */
  k = c[1].len == 3 && memcmp(c[1].s, "t2d", 3) == 0 ? 1 : 0;
  r->enrol_ms[k] = ms ? ms : 1; /* 1970-01-01 is 0: keep it "enrolled" */
  r->priority = 1;
  return 0;
}

/* patient_id, visit_ms, kind, sbp, dbp, glucose_mmol, ordered by time */
static int visit_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct pass *ps = ctx;
  struct resident *r;
  int f2f;
  if (n < 6)
    return -VG_EINTERNAL;
  r = find(ps, c[0].i);
  if (!r)
    return 0;
  f2f = (c[2].len == 6 && memcmp(c[2].s, "clinic", 6) == 0) ||
        (c[2].len == 4 && memcmp(c[2].s, "home", 4) == 0);
  for (int k = 0; k < 2; k++)
    if (f2f && r->enrol_ms[k] != NO_ENROL && c[1].i >= r->enrol_ms[k])
      r->n_f2f[k]++;
  if (c[1].i >= r->last_visit_ms)
    r->last_visit_ms = c[1].i;
  if (c[3].type != VG_VAL_NULL && c[4].type != VG_VAL_NULL &&
      c[1].i >= r->last_bp_ms) {
    r->last_bp_ms = c[1].i;
    r->last_sbp = c[3].type == VG_VAL_REAL ? c[3].d : (double)c[3].i;
    r->last_dbp = c[4].type == VG_VAL_REAL ? c[4].d : (double)c[4].i;
  }
  if (c[5].type != VG_VAL_NULL && c[1].i >= r->last_glu_ms) {
    r->last_glu_ms = c[1].i;
    r->last_glu = c[5].type == VG_VAL_REAL ? c[5].d : (double)c[5].i;
  }
  return 0;
}

/* household_id, patient_id of contracts active on the period's last day */
static int contract_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct pass *ps = ctx;
  struct resident *r;
  if (n < 2)
    return -VG_EINTERNAL;
  if (c[1].type == VG_VAL_INT) {
    r = find(ps, c[1].i);
    if (r)
      r->covered = 1;
    return 0;
  }
  if (ps->n_households == ps->cap_households) {
    size_t cap = ps->cap_households ? ps->cap_households * 2 : 1024;
    int64_t *h = vg_realloc(ps->households, cap * sizeof *h);
    if (!h)
      return -VG_ENOMEM;
    ps->households = h;
    ps->cap_households = cap;
  }
  ps->households[ps->n_households++] = c[0].i;
  return 0;
}

/* patient_id, tier of the overall assessment */
static int tier_row(void *ctx, const struct vg_val *c, size_t n)
{
  static const char *const tiers[] = {"stable", "attention", "urgent"};
  struct resident *r;
  if (n < 2)
    return -VG_EINTERNAL;
  r = find(ctx, c[0].i);
  if (!r || c[1].type != VG_VAL_TEXT)
    return 0;
  for (int k = 0; k < 3; k++)
    if (c[1].len == strlen(tiers[k]) && memcmp(c[1].s, tiers[k],
                                               c[1].len) == 0)
      r->tier = (signed char)k;
  return 0;
}

static void alert_count(struct report_alerts *a, const struct vg_val *c)
{
  a->raised++;
  if (c[2].i > 0)
    a->acknowledged++;
  if (c[3].i > 0)
    a->escalated++;
  if (c[4].len == 4 && memcmp(c[4].s, "open", 4) == 0)
    a->open++;
}

/* patient_id, first_ms, ack_ms, escalation_level, state */
static int alert_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct pass *ps = ctx;
  struct resident *r;
  if (n < 5)
    return -VG_EINTERNAL;
  r = find(ps, c[0].i);
  if (!r)
    return 0;
  alert_count(&ps->alerts, c);
  if (r->child >= 0)
    alert_count(&ps->children[r->child].alerts, c);
  if (c[2].i <= 0)
    return 0;
  if (ps->n_acks == ps->cap_acks) {
    size_t cap = ps->cap_acks ? ps->cap_acks * 2 : 256;
    struct ack *a = vg_realloc(ps->acks, cap * sizeof *a);
    if (!a)
      return -VG_ENOMEM;
    ps->acks = a;
    ps->cap_acks = cap;
  }
  ps->acks[ps->n_acks].child = r->child;
  ps->acks[ps->n_acks++].ms = c[2].i > c[1].i ? c[2].i - c[1].i : 0;
  return 0;
}

static int cmp_ack(const void *a, const void *b)
{
  const struct ack *x = a, *y = b;
  return x->ms < y->ms ? -1 : x->ms > y->ms;
}

/* Nearest-rank quantiles of the acknowledgement times of child (-2 = all),
 * acks sorted by time. */
static void ack_stats(const struct pass *ps, int child,
                      struct report_alerts *a)
{
  size_t n = 0, k50, k90, seen = 0;
  a->median_ack_ms = a->p90_ack_ms = a->max_ack_ms = -1;
  for (size_t i = 0; i < ps->n_acks; i++)
    n += child == -2 || ps->acks[i].child == child;
  if (!n)
    return;
  k50 = (n + 1) / 2; /* ranks 1..n */
  k90 = (n * 9 + 9) / 10;
  for (size_t i = 0; i < ps->n_acks; i++) {
    if (child != -2 && ps->acks[i].child != child)
      continue;
    seen++;
    if (seen == k50)
      a->median_ack_ms = ps->acks[i].ms;
    if (seen == k90)
      a->p90_ack_ms = ps->acks[i].ms;
    a->max_ack_ms = ps->acks[i].ms;
  }
}

#define BIT(i) (1u << (i))

/* The standard number of face-to-face follow-ups for time under management
 * in the 12-month window: 4 a year (Basic Public Health Service Standard
 * 2017, clinical-reference section 9), pro rata one per started quarter. */
static int required_visits(int64_t from_ms, int64_t end_ms)
{
  const double quarter_ms = 365.25 / 4 * 86400000.0;
  int q = (int)((double)(end_ms - from_ms) / quarter_ms + 0.999999);
  return q < 1 ? 1 : q > 4 ? 4 : q;
}

static void classify(const struct pass *ps, struct resident *r)
{
  const struct report_period *p = ps->p;
  int64_t e = p->end_ms, e3 = p->end3_ms, e12 = p->end12_ms;
  int bp3 = r->last_bp_ms >= e3 && r->last_bp_ms > 0;
  int bp12 = r->last_bp_ms >= e12 && r->last_bp_ms > 0;
  int ctrl = r->last_sbp < 140 && r->last_dbp < 90;
  r->num = r->den = 0;
  if (r->enrol_ms[0] != NO_ENROL) {
    int64_t en = r->enrol_ms[0] == 1 ? 0 : r->enrol_ms[0];
    if (en < e3) { /* HEARTS cohort: registered before the last 3 months */
      r->den |= BIT(RI_HEARTS_CONTROLLED) | BIT(RI_HEARTS_UNCONTROLLED) |
                BIT(RI_HEARTS_VISIT_NO_BP) | BIT(RI_HEARTS_MISSED);
      if (bp3)
        r->num |= ctrl ? BIT(RI_HEARTS_CONTROLLED)
                       : BIT(RI_HEARTS_UNCONTROLLED);
      else if (r->last_visit_ms >= e3)
        r->num |= BIT(RI_HEARTS_VISIT_NO_BP);
      else
        r->num |= BIT(RI_HEARTS_MISSED);
    }
    if (en < e12) {
      r->den |= BIT(RI_HEARTS_LTFU);
      if (!bp12)
        r->num |= BIT(RI_HEARTS_LTFU);
    }
    r->den |= BIT(RI_CN_HTN_STANDARD) | BIT(RI_CN_HTN_BP_CONTROL);
    if (r->n_f2f[0] >= required_visits(en > e12 ? en : e12, e))
      r->num |= BIT(RI_CN_HTN_STANDARD);
    if (bp12 && ctrl)
      r->num |= BIT(RI_CN_HTN_BP_CONTROL);
  }
  if (r->enrol_ms[1] != NO_ENROL) {
    int64_t en = r->enrol_ms[1] == 1 ? 0 : r->enrol_ms[1];
    r->den |= BIT(RI_CN_T2D_STANDARD) | BIT(RI_CN_T2D_GLUCOSE_CONTROL);
    if (r->n_f2f[1] >= required_visits(en > e12 ? en : e12, e))
      r->num |= BIT(RI_CN_T2D_STANDARD);
    /* China 2020 guideline: FPG target 4.4-7.0 mmol/L (section 8). */
    if (r->last_glu_ms >= e12 && r->last_glu_ms > 0 && r->last_glu < 7.0)
      r->num |= BIT(RI_CN_T2D_GLUCOSE_CONTROL);
  }
  if (!r->dead) {
    int cov = r->covered ||
              (r->household && ps->n_households &&
               bsearch(&r->household, ps->households,
                                       ps->n_households, sizeof(int64_t),
                                       cmp_i64) != NULL);
    r->den |= BIT(RI_CN_CONTRACT) | BIT(RI_TIER_STABLE) |
              BIT(RI_TIER_ATTENTION) | BIT(RI_TIER_URGENT) | BIT(RI_TIER_NONE);
    r->num |= r->tier < 0 ? BIT(RI_TIER_NONE) : BIT(RI_TIER_STABLE + r->tier);
    if (cov)
      r->num |= BIT(RI_CN_CONTRACT);
    if (r->priority) {
      r->den |= BIT(RI_CN_CONTRACT_PRIORITY);
      if (cov)
        r->num |= BIT(RI_CN_CONTRACT_PRIORITY);
    }
  }
}

static void pass_free(struct pass *ps)
{
  vg_free(ps->res);
  vg_free(ps->children);
  vg_free(ps->households);
  vg_free(ps->acks);
}

/* Load everything for org's subtree and classify every resident. */
/* The subtree's residents ($1: the root's path), for IN (...). */
#define RESIDENTS "SELECT m.patient_id FROM household_member m JOIN " \
  "household h ON h.id = m.household_id JOIN organization o ON o.id = " \
  "h.org_id WHERE o.path LIKE $1 || '%'"

static int pass_run(struct vg_txn *t, int64_t org,
                    const struct report_period *p,
                    const struct report_filter *f, struct pass *ps,
                    struct report_org *root)
{
  struct vg_val v[4];
  char last_day[11];
  int rc;
  memset(ps, 0, sizeof *ps);
  ps->p = p;
  ps->f = f;
  rc = care_org_path(t, org, ps->root_path, sizeof ps->root_path);
  if (rc)
    return rc;
  ps->root_len = strlen(ps->root_path);
  v[0] = VG_INT(org);
  if (root) {
    struct pass tmp = {0};
    rc = store_sql(t, "SELECT id, name, level FROM organization WHERE id = "
                   "$1", v, 1, child_row, &tmp, NULL);
    if (rc == 0 && tmp.n_children == 1)
      *root = tmp.children[0];
    vg_free(tmp.children);
    if (rc)
      return rc;
  }
  rc = store_sql(t, "SELECT id, name, level FROM organization WHERE "
                 "parent_id = $1 ORDER BY id", v, 1, child_row, ps, NULL);
  if (rc)
    return rc;
  v[0] = VG_TEXT(ps->root_path);
  rc = store_sql(t, "SELECT m.patient_id, m.household_id, o.path, "
                 "m.priority, p.birth_date FROM household_member m JOIN "
                 "household h ON h.id = m.household_id JOIN organization o "
                 "ON o.id = h.org_id JOIN patient p ON p.id = m.patient_id "
                 "WHERE o.path LIKE $1 || '%' ORDER BY m.patient_id", v, 1,
                 resident_row, ps, NULL);
  if (rc)
    return rc;
  if (ps->n == 0)
    return 0; /* nobody lives there (or nobody the caller may count) */
  rc = store_sql(t, "SELECT patient_id, code, enrolled_date, status, "
                 "status_date FROM patient_condition WHERE code IN "
                 "('hypertension', 't2d') AND patient_id IN (" RESIDENTS ")",
                 v, 1, condition_row, ps, NULL);
  if (rc)
    return rc;
  v[1] = VG_INT(p->end12_ms);
  v[2] = VG_INT(p->end_ms);
  rc = store_sql(t, "SELECT patient_id, visit_ms, kind, sbp, dbp, "
                 "glucose_mmol FROM visit WHERE visit_ms >= $2 AND visit_ms <"
                 " $3 AND patient_id IN (" RESIDENTS ")", v, 3, visit_row, ps,
                 NULL);
  if (rc)
    return rc;
  care_date_add_days(p->end, -1, last_day);
  v[1] = VG_TEXT(last_day);
  rc = store_sql(t, "SELECT household_id, patient_id FROM contract WHERE "
                 "status = 'active' AND signed_date <= $2 AND end_date > $2 "
                 "AND (household_id IN (SELECT h.id FROM household h JOIN "
                 "organization o ON o.id = h.org_id WHERE o.path LIKE $1 || "
                 "'%') OR patient_id IN (" RESIDENTS "))", v, 2, contract_row,
                 ps, NULL);
  if (rc)
    return rc;
  rc = store_sql(t, "SELECT patient_id, tier FROM care_assessment WHERE "
                 "programme = 'overall' AND patient_id IN (" RESIDENTS ")", v,
                 1, tier_row, ps, NULL);
  if (rc)
    return rc;
  v[1] = VG_INT(p->start_ms);
  v[2] = VG_INT(p->end_ms);
  rc = store_sql(t, "SELECT patient_id, first_ms, ack_ms, escalation_level, "
                 "state FROM care_alert WHERE first_ms >= $2 AND first_ms < "
                 "$3 AND patient_id IN (" RESIDENTS ")", v, 3, alert_row, ps,
                 NULL);
  if (rc)
    return rc;
  if (ps->n_acks) /* qsort wants a non-NULL base even for 0 items */
    qsort(ps->acks, ps->n_acks, sizeof *ps->acks, cmp_ack);
  if (ps->n_households)
    qsort(ps->households, ps->n_households, sizeof(int64_t), cmp_i64);
  for (size_t i = 0; i < ps->n; i++)
    classify(ps, &ps->res[i]);
  return 0;
}

static void add_counts(struct report_counts *c, const struct resident *r)
{
  for (int i = 0; i < RI_COUNT; i++) {
    c->num[i] += (r->num >> i) & 1u;
    c->den[i] += (r->den >> i) & 1u;
  }
}

int report_indicators(struct vg_txn *t, int64_t org,
                      const struct report_period *p,
                      const struct report_filter *f,
                      struct report_result **out)
{
  struct report_result *res;
  struct pass ps;
  int rc;
  *out = NULL;
  res = vg_malloc(sizeof *res);
  if (!res)
    return -VG_ENOMEM;
  memset(res, 0, sizeof *res);
  rc = pass_run(t, org, p, f, &ps, &res->total);
  if (rc) {
    pass_free(&ps);
    vg_free(res);
    return rc;
  }
  for (size_t i = 0; i < ps.n; i++) {
    add_counts(&res->total.c, &ps.res[i]);
    if (ps.res[i].child >= 0)
      add_counts(&ps.children[ps.res[i].child].c, &ps.res[i]);
  }
  res->total.alerts = ps.alerts;
  ack_stats(&ps, -2, &res->total.alerts);
  for (size_t i = 0; i < ps.n_children; i++)
    ack_stats(&ps, (int)i, &ps.children[i].alerts);
  res->children = ps.children;
  res->n_children = ps.n_children;
  res->n_residents = ps.n;
  ps.children = NULL;
  pass_free(&ps);
  *out = res;
  return 0;
}

void report_result_free(struct report_result *res)
{
  if (!res)
    return;
  vg_free(res->children);
  vg_free(res);
}

int report_patients(struct vg_txn *t, int64_t org,
                    const struct report_period *p,
                    const struct report_filter *f, enum report_ind ind,
                    int part, int64_t after_id, size_t limit,
                    report_patient_cb cb, void *ctx)
{
  struct pass ps;
  size_t sent = 0;
  int rc = pass_run(t, org, p, f, &ps, NULL);
  for (size_t i = 0; rc == 0 && i < ps.n; i++) {
    const struct resident *r = &ps.res[i];
    uint32_t bits = part ? r->den : r->num;
    if (r->pid <= after_id || !((bits >> ind) & 1u))
      continue;
    if (limit && sent == limit)
      break;
    rc = cb(ctx, r->pid);
    sent++;
  }
  pass_free(&ps);
  return rc;
}
