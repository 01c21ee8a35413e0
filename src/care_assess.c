/* care_assess.c - assessment of one patient with algo/ (compute), loading
 * its readings and care state (load), writing the outcome (store), and the
 * background worker: a debounced set of dirty patients fed after ingest
 * commits, assessed in batches (one READ transaction per patient, one
 * writer job per batch), plus periodic escalation and silence checks. */
#include "care_assess.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "af.h"
#include "algo.h"
#include "bp.h"
#include "cgm.h"
#include "cvd.h"
#include "kidney.h"
#include "spo2.h"
#include "codes.h"
#include "core_alloc.h"
#include "core_errors.h"
#include "core_log.h"
#include "core_time.h"
#include "http.h"
#include "store_writer.h"

#define DAY_MS (86400LL * 1000)

static const char *const prog_codes[CARE_PROG_N] = {
    "hypertension", "t2d", "ckd", "copd", "af", "heart_failure"};

const char *care_prog_code(int prog)
{
  return prog >= 0 && prog < CARE_PROG_N ? prog_codes[prog] : "overall";
}

int care_prog_from_code(const char *code)
{
  for (int i = 0; i < CARE_PROG_N; i++)
    if (strcmp(code, prog_codes[i]) == 0)
      return i;
  return -1;
}

void care_scratch_free(struct care_scratch *s)
{
  vg_free(s->p);
  s->p = NULL;
  s->len = 0;
}

static void *scratch_get(struct care_scratch *s, size_t len)
{
  if (len <= s->len)
    return s->p;
  vg_free(s->p);
  s->len = len + len / 2 + 64;
  s->p = vg_malloc(s->len);
  return s->p;
}

/* ==== compute ============================================================ */

/* Cap of each metrics / reasons text: far above any real assessment; a
 * text that would pass it fails the assessment instead of truncating. */
#define JSON_CAP (64 * 1024)

/* Add one reason sentence to the array, JSON-escaped. */
static void reason(struct care_prog_result *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void reason(struct care_prog_result *p, const char *fmt, ...)
{
  char small[256], *s = small;
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if ((size_t)n >= sizeof small) { /* rare: a long sentence, format again */
    s = vg_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
  }
  if (p->reasons.len > 1)
    buf_putc(&p->reasons, ',');
  buf_json_str(&p->reasons, s, (size_t)n);
  if (s != small)
    vg_free(s);
}

static void metric(struct care_prog_result *p, const char *key, double v)
{
  if (p->metrics.len > 1)
    buf_putc(&p->metrics, ',');
  buf_json_str(&p->metrics, key, strlen(key));
  buf_putc(&p->metrics, ':');
  buf_json_num(&p->metrics, v);
}

static struct care_hit *hit_new(struct care_result *res, const char *rule,
                                const char *severity)
{
  struct care_hit *h;
  if (res->n_hits >= CARE_HITS_MAX)
    return NULL;
  h = &res->hits[res->n_hits++];
  memset(h, 0, sizeof *h);
  h->rule = rule;
  h->severity = severity;
  return h;
}

static void hit_ts(struct care_hit *h, int64_t ts)
{
  if (h->n_ts == CARE_HIT_TS) { /* keep the latest ones */
    memmove(h->ts_ms, h->ts_ms + 1, (CARE_HIT_TS - 1) * sizeof h->ts_ms[0]);
    h->n_ts--;
  }
  h->ts_ms[h->n_ts++] = ts;
  if (ts > h->last_ms)
    h->last_ms = ts;
}

/* Index of the first reading at or after from_ms. */
static size_t first_from(const struct care_series *s, int64_t from_ms)
{
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (s->t_ms[mid] < from_ms)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Threshold alert over readings since from_ms: above (>= thr) or below. */
static void thr_alert(struct care_result *res, const struct care_series *s,
                      int64_t from_ms, double thr, int below,
                      const char *rule, const char *severity,
                      const char *what)
{
  struct care_hit *h = NULL;
  for (size_t i = first_from(s, from_ms); i < s->n; i++) {
    int fire = below ? s->v[i] < thr : s->v[i] >= thr;
    if (!fire)
      continue;
    if (!h && !(h = hit_new(res, rule, severity)))
      return;
    if (h->n_ts == 0 || (below ? s->v[i] < h->value : s->v[i] > h->value))
      h->value = s->v[i];
    hit_ts(h, s->t_ms[i]);
  }
  if (h)
    snprintf(h->message, sizeof h->message, "%s %.1f (%zu readings)", what,
             h->value, h->n_ts);
}

/* Sustained rule: consecutive readings beyond thr spanning >= sustain_ms
 * (gaps over 5 min break a run). */
static void sustained_alert(struct care_result *res,
                            const struct care_series *s, int64_t from_ms,
                            double thr, int below, int64_t sustain_ms,
                            const char *rule, const char *severity,
                            const char *what)
{
  struct care_hit *h = NULL;
  size_t i = first_from(s, from_ms), start = 0;
  int in_run = 0;
  double worst = 0;
  for (; i <= s->n; i++) {
    int fire = i < s->n && (below ? s->v[i] < thr : s->v[i] > thr) &&
               (!in_run || s->t_ms[i] - s->t_ms[i - 1] <= 300000);
    if (fire) {
      if (!in_run) {
        in_run = 1;
        start = i;
        worst = s->v[i];
      }
      if (below ? s->v[i] < worst : s->v[i] > worst)
        worst = s->v[i];
      continue;
    }
    if (in_run && s->t_ms[i - 1] - s->t_ms[start] >= sustain_ms) {
      if (!h && !(h = hit_new(res, rule, severity)))
        return;
      if (h->n_ts == 0 || (below ? worst < h->value : worst > h->value))
        h->value = worst;
      hit_ts(h, s->t_ms[i - 1]);
    }
    in_run = 0;
    if (i < s->n && (below ? s->v[i] < thr : s->v[i] > thr)) {
      in_run = 1; /* a gap broke the run: this reading starts a new one */
      start = i;
      worst = s->v[i];
    }
  }
  if (h)
    snprintf(h->message, sizeof h->message,
             "%s %.0f sustained over %lld min (%zu episodes)", what, h->value,
             (long long)(sustain_ms / 60000), h->n_ts);
}

static int latest(const struct care_series *s, int64_t from_ms, double *v,
                  int64_t *t)
{
  if (s->n == 0 || s->t_ms[s->n - 1] < from_ms)
    return 0;
  *v = s->v[s->n - 1];
  if (t)
    *t = s->t_ms[s->n - 1];
  return 1;
}

/* Reset p for prog, keeping (and emptying) its buffers. */
static void prog_init(struct care_prog_result *p, int prog)
{
  struct vg_buf m = p->metrics, rs = p->reasons;
  memset(p, 0, sizeof *p);
  p->metrics = m;
  p->reasons = rs;
  if (!m.cap)
    buf_init(&p->metrics, JSON_CAP);
  if (!rs.cap)
    buf_init(&p->reasons, JSON_CAP);
  buf_reset(&p->metrics);
  buf_reset(&p->reasons);
  p->prog = prog;
  p->controlled = -1;
  p->level = 1;
  buf_putc(&p->metrics, '{');
  buf_putc(&p->reasons, '[');
}

void care_result_free(struct care_result *res)
{
  if (!res)
    return;
  for (int k = 0; k < CARE_PROG_N; k++) {
    buf_free(&res->prog[k].metrics);
    buf_free(&res->prog[k].reasons);
  }
  buf_free(&res->overall.metrics);
  buf_free(&res->overall.reasons);
}

/* Decide with the follow-up table and finish the strings. */
static void prog_finish(const struct care_rules *r,
                        const struct care_input *in, struct care_prog_result *p,
                        int danger, int64_t now_ms)
{
  struct care_followup_in fi = {0};
  struct care_followup_out fo;
  int64_t level_days;
  fi.danger = danger || in->visit_danger;
  fi.controlled = p->controlled;
  fi.adverse_reaction = in->visit_adverse;
  fi.new_complication = in->visit_complication;
  fi.uncontrolled_streak = in->streak[p->prog];
  if (p->controlled == 0 && fi.uncontrolled_streak < 1)
    fi.uncontrolled_streak = 1; /* this assessment is the first */
  care_followup_decide(r, &fi, &fo);
  p->action = fo.action;
  p->tier = fo.tier;
  p->rule = fo.rule;
  if (fi.danger && in->visit_danger)
    reason(p, "danger sign recorded at the latest visit");
  if (p->controlled == 0)
    reason(p, "uncontrolled follow-ups in a row: %d",
           fi.uncontrolled_streak);
  reason(p, "%s", fo.reason);
  if (p->tier == CARE_TIER_URGENT && p->level < 3)
    p->level = 3;
  level_days = p->level == 3 ? r->level3_days
               : p->level == 2 ? r->level2_days : r->level1_days;
  if (level_days < fo.next_days)
    fo.next_days = level_days;
  p->next_due_ms = now_ms + fo.next_days * DAY_MS;
  buf_putc(&p->metrics, '}');
  buf_putc(&p->reasons, ']');
}

/* Danger sign of both the hypertension and the diabetes programme (basic
 * public-health standard 2017, clinical-reference section 9): any BP at or
 * above 180/110 mmHg in the last 3 days. */
static void bp_danger(const struct care_rules *r, const struct care_input *in,
                      int64_t now_ms, struct care_prog_result *p, int *danger)
{
  int found = 0;
  for (size_t i = 0; i < in->sbp.n && i < in->dbp.n; i++)
    if (in->sbp.t_ms[i] >= now_ms - 3 * DAY_MS &&
        (in->sbp.v[i] >= r->bp_danger_sbp ||
         in->dbp.v[i] >= r->bp_danger_dbp))
      found = 1;
  if (!found)
    return;
  *danger = 1;
  reason(p, "BP at or above %.0f/%.0f mmHg in the last 3 days",
         r->bp_danger_sbp, r->bp_danger_dbp);
}

static void assess_htn(const struct care_rules *r, const struct care_input *in,
                       int64_t now_ms, struct care_result *res,
                       struct care_prog_result *p, int *danger)
{
  int64_t win = now_ms - r->window_days * DAY_MS, t_last = 0;
  size_t n = in->sbp.n < in->dbp.n ? in->sbp.n : in->dbp.n, i, n_home = 0;
  double s = 0, d = 0, ls = 0, ld = 0;
  int have_office = 0, have_home = 0;
  struct algo_bp_office_out cat;
  /* SBP and DBP readings pair by index when their times agree (a cuff
   * reports both); unpaired ones are skipped. */
  double hs[3] = {0}, hd[3] = {0};
  for (i = 0; i < n; i++) {
    if (in->sbp.t_ms[i] != in->dbp.t_ms[i] || in->sbp.t_ms[i] < win)
      continue;
    if (in->bp_office && in->bp_office[i]) {
      have_office = 1;
      ls = in->sbp.v[i];
      ld = in->dbp.v[i];
      t_last = in->sbp.t_ms[i];
    } else {
      hs[n_home % 3] = in->sbp.v[i];
      hd[n_home % 3] = in->dbp.v[i];
      n_home++;
    }
  }
  if (n_home >= 3) {
    for (i = 0; i < 3; i++) {
      s += hs[i] / 3;
      d += hd[i] / 3;
    }
    have_home = 1;
  }
  metric(p, "bp_home_readings", (double)n_home);
  if (have_home) {
    metric(p, "home_sbp_mean3", s);
    metric(p, "home_dbp_mean3", d);
    p->controlled = s < r->bp_home_sbp && d < r->bp_home_dbp;
    reason(p, "mean of the last 3 home BP readings %.0f/%.0f mmHg is %s "
           "%.0f/%.0f", s, d, p->controlled ? "below" : "at or above",
           r->bp_home_sbp, r->bp_home_dbp);
  }
  if (have_office && (!have_home || t_last >= in->sbp.t_ms[n - 1])) {
    /* An office or visit BP is the programme's own measure when it is the
     * latest evidence. */
    metric(p, "office_sbp", ls);
    metric(p, "office_dbp", ld);
    p->controlled = ls < r->bp_ctrl_sbp && ld < r->bp_ctrl_dbp;
    s = ls;
    d = ld;
    reason(p, "office BP %.0f/%.0f mmHg is %s %.0f/%.0f", ls, ld,
           p->controlled ? "below" : "at or above", r->bp_ctrl_sbp,
           r->bp_ctrl_dbp);
  }
  if (p->controlled < 0)
    reason(p, "fewer than 3 home BP readings and no office BP in %lld days",
           (long long)r->window_days);
  else if (algo_bp_office_category(ALGO_BP_CHINA_2018, s, d, &cat) ==
           ALGO_OK) {
    metric(p, "china_grade_level", cat.level);
    p->level = cat.category >= ALGO_BP_CAT_GRADE3   ? 3
               : cat.category >= ALGO_BP_CAT_GRADE2 ? 2 : 1;
  }
  bp_danger(r, in, now_ms, p, danger);
  (void)res;
}

static void assess_t2d(const struct care_rules *r, const struct care_input *in,
                       int64_t now_ms, struct care_scratch *sc,
                       struct care_prog_result *p, int *danger)
{
  int64_t win = now_ms - r->window_days * DAY_MS, t;
  double v;
  /* CGM over the last 14 days (consensus minimum), when sufficient. */
  size_t i0 = first_from(&in->cgm, now_ms - 14 * DAY_MS);
  if (in->cgm.n - i0 >= 2) {
    struct algo_cgm_result cr;
    size_t need = algo_cgm_scratch_size(NULL, in->cgm.n - i0);
    void *mem = scratch_get(sc, need);
    if (mem && algo_cgm_run(NULL, mem, need, in->cgm.t_ms + i0,
                            in->cgm.v + i0, in->cgm.n - i0, &cr) == ALGO_OK &&
        cr.sufficient) {
      metric(p, "cgm_tir_pct", cr.t_70_180_pct);
      metric(p, "cgm_tbr54_pct", cr.t_below54_pct);
      metric(p, "cgm_gmi_pct", cr.gmi_pct);
      p->controlled = cr.t_70_180_pct >= r->cgm_tir_target_pct;
      reason(p, "CGM time in range %.0f %% over 14 days (target >= %.0f %%)",
             cr.t_70_180_pct, r->cgm_tir_target_pct);
      if (cr.gmi_pct >= 9)
        p->level = 3;
    }
  }
  if (p->controlled < 0 && latest(&in->hba1c, win, &v, NULL)) {
    metric(p, "hba1c_pct", v);
    p->controlled = v < r->hba1c_ctrl_pct;
    reason(p, "latest HbA1c %.1f %% (target < %.1f %%)", v, r->hba1c_ctrl_pct);
    p->level = v >= 9 ? 3 : v >= r->hba1c_ctrl_pct ? 2 : 1;
  }
  if (latest(&in->fpg, win, &v, &t)) {
    metric(p, "fpg_mmol", v / 18.016);
    if (p->controlled < 0) {
      p->controlled = v < r->fpg_ctrl_mgdl;
      reason(p, "latest fasting glucose %.1f mmol/L (controlled below %.1f)",
             v / 18.016, r->fpg_ctrl_mgdl / 18.016);
      p->level = p->controlled ? 1 : 2;
    }
    if (t >= now_ms - 3 * DAY_MS &&
        (v >= r->fpg_danger_high_mgdl || v <= r->fpg_danger_low_mgdl)) {
      *danger = 1;
      reason(p, "fasting glucose %.1f mmol/L is an emergency sign",
             v / 18.016);
    }
  }
  if (p->controlled < 0)
    reason(p, "no sufficient CGM, HbA1c or fasting glucose in %lld days",
           (long long)r->window_days);
  bp_danger(r, in, now_ms, p, danger);
}

static void assess_ckd(const struct care_rules *r, const struct care_input *in,
                       int64_t now_ms, struct care_result *res,
                       struct care_prog_result *p)
{
  int64_t year = now_ms - 365 * DAY_MS;
  double first = 0, last = 0, e, acr;
  int have = 0, g, a = 0, risk;
  size_t i;
  /* eGFR: reported values, else CKD-EPI 2021 from creatinine. */
  if (in->egfr.n && in->egfr.t_ms[in->egfr.n - 1] >= year) {
    i = first_from(&in->egfr, year);
    first = in->egfr.v[i];
    last = in->egfr.v[in->egfr.n - 1];
    have = 1;
  } else if (in->creat.n && in->age_y >= 18 &&
             in->creat.t_ms[in->creat.n - 1] >= year &&
             (in->sex == 'M' || in->sex == 'F')) {
    int sex = in->sex == 'F' ? ALGO_KIDNEY_FEMALE : ALGO_KIDNEY_MALE;
    i = first_from(&in->creat, year);
    if (algo_kidney_egfr_cr(in->creat.v[i], in->age_y, sex, &first) ==
            ALGO_OK &&
        algo_kidney_egfr_cr(in->creat.v[in->creat.n - 1], in->age_y, sex,
                            &last) == ALGO_OK)
      have = 1;
  }
  if (!have) {
    reason(p, "no eGFR or creatinine (with age and sex) in 12 months");
    return;
  }
  metric(p, "egfr", last);
  algo_kidney_g_category(last, &g);
  if (latest(&in->uacr, year, &acr, NULL) &&
      algo_kidney_a_category(acr, &a) == ALGO_OK)
    metric(p, "kdigo_a", a);
  metric(p, "kdigo_g", g);
  if (algo_kidney_risk(g, a ? a : ALGO_KIDNEY_A1, &risk) == ALGO_OK)
    reason(p, "eGFR %.0f: KDIGO %s%s%s, %s risk", last, algo_kidney_g_name(g),
           a ? " " : "", a ? algo_kidney_a_name(a) : "",
           algo_kidney_risk_name(risk));
  p->level = g >= ALGO_KIDNEY_G4 ? 3 : g >= ALGO_KIDNEY_G3A ? 2 : 1;
  e = first > 0 ? 100 * (first - last) / first : 0;
  metric(p, "egfr_change_pct", -e);
  p->controlled = e <= r->egfr_drop_pct;
  if (e > r->egfr_drop_pct) {
    struct care_hit *h = hit_new(res, "egfr_drop", "high");
    reason(p, "eGFR fell %.0f %% within 12 months (from %.0f to %.0f)", e,
           first, last);
    if (h) {
      h->value = last;
      hit_ts(h, in->egfr.n ? in->egfr.t_ms[in->egfr.n - 1]
                           : in->creat.t_ms[in->creat.n - 1]);
      snprintf(h->message, sizeof h->message,
               "eGFR fell %.0f %% in 12 months (%.0f -> %.0f)", e, first,
               last);
    }
  }
}

static void assess_af(const struct care_rules *r, const struct care_input *in,
                      int64_t now_ms, struct care_scratch *sc,
                      struct care_result *res, struct care_prog_result *p)
{
  size_t i0 = first_from(&in->rri, now_ms - DAY_MS), n = in->rri.n - i0;
  double *rr, burden = 0;
  unsigned char *af;
  size_t need;
  char *mem;
  if (n < 32) {
    reason(p, "fewer than 32 RR intervals in the last 24 h");
    return;
  }
  need = (algo_af_scratch_size(n) + 15) / 16 * 16;
  mem = scratch_get(sc, need + n * (sizeof(double) + 1));
  if (!mem)
    return;
  /* layout: algorithm scratch, then rr[n], then af[n] */
  rr = (double *)(void *)(mem + need);
  af = (unsigned char *)(mem + need + n * sizeof(double));
  for (size_t i = 0; i < n; i++)
    rr[i] = in->rri.v[i0 + i] / 1000.0;
  if (algo_af_detect(NULL, rr, n, mem, need, af, NULL) != ALGO_OK ||
      algo_af_burden(rr, af, n, &burden) != ALGO_OK)
    return;
  metric(p, "af_burden_pct", burden);
  reason(p, "AF burden %.1f %% over %zu beats in 24 h", burden, n);
  p->controlled = burden <= r->af_burden_alert_pct;
  p->level = burden > r->af_burden_alert_pct ? 3 : 2;
  if (burden > r->af_burden_alert_pct) {
    struct care_hit *h = hit_new(res, "af_episode", "high");
    if (h) {
      h->value = burden;
      for (size_t i = 0; i < n; i++)
        if (af[i] && (i == 0 || !af[i - 1]))
          hit_ts(h, in->rri.t_ms[i0 + i]);
      snprintf(h->message, sizeof h->message, "AF detected: burden %.1f %%",
               burden);
    }
  }
}

static void assess_spo2(const struct care_input *in, int64_t now_ms,
                        struct care_scratch *sc, struct care_prog_result *p)
{
  size_t i0 = first_from(&in->spo2, now_ms - DAY_MS), n = in->spo2.n - i0;
  struct algo_spo2_result sr;
  size_t need;
  void *mem;
  if (n < 2) {
    reason(p, "no SpO2 series in the last 24 h");
    return;
  }
  need = algo_spo2_scratch_size(NULL, n);
  mem = scratch_get(sc, need ? need : 1);
  if (!mem || algo_spo2_run(NULL, mem, need, in->spo2.t_ms + i0,
                            in->spo2.v + i0, NULL, n, &sr) != ALGO_OK)
    return;
  metric(p, "spo2_mean", sr.mean_spo2);
  metric(p, "spo2_min", sr.min_spo2);
  metric(p, "odi3", sr.odi3);
  metric(p, "t90_pct", sr.t90_pct);
  p->controlled = sr.t90_pct < 10 && sr.min_spo2 >= 88;
  reason(p, "SpO2 min %.0f %%, T90 %.1f %%, ODI3 %.1f/h%s", sr.min_spo2,
         sr.t90_pct, sr.odi3, sr.sufficient ? "" : " (under 4 h of data)");
  p->level = sr.t90_pct >= 10 ? 3 : sr.odi3 >= 15 ? 2 : 1;
}

/* CVD risk (2013 PCE) when age, lipids and SBP are known; moves the
 * management level (一级/二级/三级 by low / medium / high risk). */
static void cvd_level(const struct care_input *in, int diabetes,
                      struct care_prog_result *p)
{
  struct algo_cvd_pce_in ci = {0};
  struct algo_cvd_pce_out co;
  double v;
  if (in->age_y < 40 || in->age_y > 79 || !latest(&in->tchol, 0, &v, NULL))
    return;
  ci.tc_mg_dl = v;
  if (!latest(&in->hdl, 0, &ci.hdl_mg_dl, NULL) ||
      !latest(&in->sbp, 0, &ci.sbp_mmhg, NULL))
    return;
  ci.sex = in->sex == 'F' ? ALGO_CVD_FEMALE : ALGO_CVD_MALE;
  ci.age_y = in->age_y;
  ci.bp_treated = 1; /* enrolled in the hypertension programme */
  ci.diabetes = diabetes;
  if (algo_cvd_pce(&ci, &co) != ALGO_OK)
    return;
  metric(p, "cvd_10y_risk_pct", co.risk_pct);
  reason(p, "10-year ASCVD risk %.1f %% (pooled cohort equations)",
         co.risk_pct);
  if (co.risk_pct >= 20 && p->level < 3)
    p->level = 3;
  else if (co.risk_pct >= 10 && p->level < 2)
    p->level = 2;
}

int care_assess_compute(const struct care_rules *r,
                        const struct care_input *in, int64_t now_ms,
                        struct care_scratch *sc, struct care_result *out)
{
  unsigned progs = in->programmes;
  int64_t day = now_ms - DAY_MS;
  struct care_prog_result *o = &out->overall;
  out->n_prog = 0;
  out->n_hits = 0;
  /* Until a patient has enrolled conditions, the programmes follow from
   * the readings present (BP -> hypertension, glucose -> t2d, kidney
   * labs -> ckd, RR intervals -> af, SpO2 -> copd). */
  if (!progs) {
    progs |= (in->sbp.n && in->dbp.n) ? 1u << CARE_PROG_HTN : 0;
    progs |= (in->glucose.n || in->fpg.n || in->hba1c.n || in->cgm.n)
                 ? 1u << CARE_PROG_T2D : 0;
    progs |= (in->egfr.n || in->creat.n) ? 1u << CARE_PROG_CKD : 0;
    progs |= in->rri.n ? 1u << CARE_PROG_AF : 0;
    progs |= in->spo2.n ? 1u << CARE_PROG_COPD : 0;
  }
  /* Alert rules on the last 24 h, for every patient. */
  {
    struct care_series bp = in->sbp;
    thr_alert(out, &bp, day, r->bp_danger_sbp, 0, "bp_crisis", "critical",
              "SBP");
    if (out->n_hits == 0 || strcmp(out->hits[out->n_hits - 1].rule,
                                   "bp_crisis") != 0)
      thr_alert(out, &in->dbp, day, r->bp_danger_dbp, 0, "bp_crisis",
                "critical", "DBP");
  }
  thr_alert(out, &in->glucose, day, r->glucose_alert_low_mgdl, 1,
            "glucose_low", "critical", "glucose mg/dL");
  thr_alert(out, &in->cgm, day, r->glucose_alert_low_mgdl, 1, "glucose_low",
            "critical", "CGM glucose mg/dL");
  thr_alert(out, &in->glucose, day, r->glucose_alert_high_mgdl, 0,
            "glucose_high", "high", "glucose mg/dL");
  thr_alert(out, &in->fpg, day, r->glucose_alert_high_mgdl, 0, "glucose_high",
            "high", "fasting glucose mg/dL");
  sustained_alert(out, &in->spo2, day, r->spo2_low_pct, 1,
                  r->spo2_sustain_s * 1000, "spo2_low", "critical", "SpO2 %");
  sustained_alert(out, &in->hr, day, r->hr_high_bpm, 0, r->hr_sustain_s * 1000,
                  "hr_high", "medium", "heart rate");

  prog_init(o, -1);
  o->action = CARE_ACT_NONE;
  o->next_due_ms = INT64_MAX;
  for (int k = 0; k < CARE_PROG_N; k++) {
    struct care_prog_result *p;
    int danger = 0;
    if (!(progs & (1u << k)))
      continue;
    p = &out->prog[out->n_prog++];
    prog_init(p, k);
    switch (k) {
    case CARE_PROG_HTN:
      assess_htn(r, in, now_ms, out, p, &danger);
      cvd_level(in, (progs >> CARE_PROG_T2D) & 1, p);
      break;
    case CARE_PROG_T2D:
      assess_t2d(r, in, now_ms, sc, p, &danger);
      break;
    case CARE_PROG_CKD:
      assess_ckd(r, in, now_ms, out, p);
      break;
    case CARE_PROG_AF:
      assess_af(r, in, now_ms, sc, out, p);
      break;
    case CARE_PROG_COPD:
      assess_spo2(in, now_ms, sc, p);
      break;
    default:
      reason(p, "no algorithm for this programme yet; routine follow-up");
    }
    /* Resting HR > 100 sustained is an emergency sign for HTN and T2D. */
    for (int h = 0; h < out->n_hits && (k == CARE_PROG_HTN ||
                                        k == CARE_PROG_T2D); h++)
      if (strcmp(out->hits[h].rule, "hr_high") == 0) {
        danger = 1;
        reason(p, "resting heart rate above %.0f/min sustained",
               r->hr_high_bpm);
      }
    prog_finish(r, in, p, danger, now_ms);
    if (p->tier > o->tier)
      o->tier = p->tier;
    if (p->level > o->level)
      o->level = p->level;
    if (p->action > o->action) {
      o->action = p->action;
      o->rule = p->rule;
    }
    if (p->next_due_ms < o->next_due_ms)
      o->next_due_ms = p->next_due_ms;
    if (p->controlled >= 0 && (o->controlled < 0 || !p->controlled))
      o->controlled = p->controlled;
    reason(o, "%s: %s, level %d, %s", prog_codes[k], care_tier_name(p->tier),
           p->level, care_action_name(p->action));
  }
  if (!o->rule)
    o->rule = "no_data";
  if (o->next_due_ms == INT64_MAX)
    o->next_due_ms = now_ms + r->fu_controlled_days * DAY_MS;
  if (out->n_prog == 0)
    reason(o, "no programme and no readings: nothing to assess");
  for (int h = 0; h < out->n_hits; h++)
    reason(o, "alert %s: %s", out->hits[h].rule, out->hits[h].message);
  metric(o, "programmes", out->n_prog);
  buf_putc(&o->metrics, '}');
  buf_putc(&o->reasons, ']');
  for (int i = -1; i < out->n_prog; i++) {
    const struct care_prog_result *p = i < 0 ? o : &out->prog[i];
    if (p->metrics.err || p->reasons.err)
      return p->metrics.err ? p->metrics.err : p->reasons.err;
  }
  return 0;
}

/* ==== load =============================================================== */

enum { S_SBP, S_DBP, S_HR, S_GLU, S_FPG, S_A1C, S_CGM, S_SPO2, S_CREAT,
       S_EGFR, S_UACR, S_TCHOL, S_HDL, S_RRI, S_N };

/* Code and look-back (days) of each series. */
static const struct {
  int code;
  int days;
} series_def[S_N] = {
    {VG_CODE_SBP, 0},    {VG_CODE_DBP, 0},     {VG_CODE_HR, 1},
    {VG_CODE_GLUCOSE, 1}, {VG_CODE_FPG, 0},    {VG_CODE_HBA1C, 0},
    {VG_CODE_CGM, 14},   {VG_CODE_SPO2, 1},    {VG_CODE_CREAT, 365},
    {VG_CODE_EGFR, 365}, {VG_CODE_UACR, 365},  {VG_CODE_TCHOL, 1825},
    {VG_CODE_HDL, 1825}, {VG_CODE_RRI, 1},
};

struct care_load_buf {
  int64_t *t[S_N];
  double *v[S_N];
  size_t n[S_N], cap[S_N];
  unsigned char *office;
  size_t office_cap;
  int k; /* series being filled */
};

void care_load_buf_free(struct care_load_buf *b)
{
  if (!b)
    return;
  for (int k = 0; k < S_N; k++) {
    vg_free(b->t[k]);
    vg_free(b->v[k]);
  }
  vg_free(b->office);
  vg_free(b);
}

static int load_row(void *ctx, const struct vg_reading *r)
{
  struct care_load_buf *b = ctx;
  int k = b->k;
  if (b->n[k] == b->cap[k]) {
    b->cap[k] = b->cap[k] ? 2 * b->cap[k] : 256;
    b->t[k] = vg_realloc(b->t[k], b->cap[k] * sizeof(int64_t));
    b->v[k] = vg_realloc(b->v[k], b->cap[k] * sizeof(double));
    if (k == S_SBP) {
      b->office = vg_realloc(b->office, b->cap[k]);
      b->office_cap = b->cap[k];
    }
  }
  /* Rows come in (ts, source) order; keep time order, one per ts (the
   * first source) so SBP and DBP pair by index. */
  if (b->n[k] && b->t[k][b->n[k] - 1] == r->ts_ms)
    return 0;
  b->t[k][b->n[k]] = r->ts_ms;
  b->v[k][b->n[k]] = r->value;
  if (k == S_SBP)
    b->office[b->n[k]] = strcmp(r->source, "visit") == 0 ||
                         strcmp(r->source, "office") == 0;
  b->n[k]++;
  return 0;
}

struct state_ctx {
  struct care_input *in;
  int64_t now_ms;
};

static int prog_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct care_input *in = ctx;
  int k;
  if (n < 1 || c[0].type != VG_VAL_TEXT)
    return 0;
  k = care_prog_from_code(c[0].s);
  if (k >= 0)
    in->programmes |= 1u << k;
  return 0;
}

static int streak_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct care_input *in = ctx;
  int k;
  if (n < 2 || c[0].type != VG_VAL_TEXT)
    return 0;
  k = care_prog_from_code(c[0].s);
  if (k >= 0)
    in->streak[k] = (int)c[1].i;
  return 0;
}

/* Danger signs of the 2017 standard as visit symptom words. */
static const char *const danger_words[] = {
    "consciousness", "severe_headache", "dizziness", "vomiting", "nausea",
    "blurred_vision", "chest_pain", "chest_tightness", "ketotic_breath",
    "palpitations", "sweating", "fever", "pregnan", NULL};

static int visit_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct care_input *in = ctx;
  const char *sym = n > 0 && c[0].type == VG_VAL_TEXT ? c[0].s : "";
  const char *note = n > 1 && c[1].type == VG_VAL_TEXT ? c[1].s : "";
  for (int i = 0; danger_words[i]; i++)
    if (strstr(sym, danger_words[i]))
      in->visit_danger = 1;
  in->visit_adverse = strstr(sym, "adverse") || strstr(note, "adverse");
  in->visit_complication =
      strstr(sym, "complication") != NULL || strstr(note, "complication");
  return 1; /* latest visit only */
}

int care_assess_load(struct vg_txn *t, const struct care_rules *r,
                     int64_t pid, int64_t now_ms, struct care_load_buf **bufp,
                     struct care_scratch *scratch, struct care_result *out)
{
  struct care_input in;
  struct care_load_buf *b = *bufp;
  struct vg_patient p;
  struct vg_val prm[2];
  int rc;
  if (!b) {
    b = vg_calloc(1, sizeof *b);
    *bufp = b;
  }
  memset(&in, 0, sizeof in);
  in.patient_id = pid;
  rc = store_patient_get(t, pid, &p);
  if (rc)
    return rc;
  in.sex = p.sex;
  if (p.birth_date[0]) {
    int64_t born;
    if (vg_date_parse(p.birth_date, strlen(p.birth_date), &born) == 0)
      in.age_y = (double)(now_ms - born) / (365.2425 * DAY_MS);
  }
  for (int k = 0; k < S_N; k++) {
    struct vg_reading_query q = {0};
    int days = series_def[k].days ? series_def[k].days : (int)r->window_days;
    b->n[k] = 0;
    b->k = k;
    q.patient_id = pid;
    q.code = series_def[k].code;
    q.from_ms = now_ms - (int64_t)days * DAY_MS;
    q.to_ms = now_ms + DAY_MS;
    rc = store_readings_query(t, &q, load_row, b);
    if (rc)
      return rc;
  }
#define SER(f, k) in.f = (struct care_series){b->t[k], b->v[k], b->n[k]}
  SER(sbp, S_SBP); SER(dbp, S_DBP); SER(hr, S_HR); SER(glucose, S_GLU);
  SER(fpg, S_FPG); SER(hba1c, S_A1C); SER(cgm, S_CGM); SER(spo2, S_SPO2);
  SER(creat, S_CREAT); SER(egfr, S_EGFR); SER(uacr, S_UACR);
  SER(tchol, S_TCHOL); SER(hdl, S_HDL); SER(rri, S_RRI);
#undef SER
  in.bp_office = b->office;
  prm[0] = VG_INT(pid);
  rc = store_sql(t,
                 "SELECT code FROM patient_condition WHERE patient_id = $1 "
                 "AND status = 'active'",
                 prm, 1, prog_row, &in, NULL);
  if (rc)
    return rc;
  rc = store_sql(t,
                 "SELECT programme, uncontrolled_streak FROM "
                 "care_followup_state WHERE patient_id = $1",
                 prm, 1, streak_row, &in, NULL);
  if (rc)
    return rc;
  prm[1] = VG_INT(now_ms - r->fu_uncontrolled_days * DAY_MS);
  rc = store_sql(t,
                 "SELECT symptoms, note FROM visit WHERE patient_id = $1 AND "
                 "visit_ms >= $2 ORDER BY visit_ms DESC LIMIT 1",
                 prm, 2, visit_row, &in, NULL);
  if (rc < 0)
    return rc;
  return care_assess_compute(r, &in, now_ms, scratch, out);
}

/* ==== store ============================================================== */

static int text_col(void *ctx, const struct vg_val *c, size_t n)
{
  char *dst = ctx;
  if (n && c[0].type == VG_VAL_TEXT)
    snprintf(dst, 16, "%s", c[0].s);
  return 1;
}

static int put_assessment(struct vg_txn *t, int64_t pid,
                          const struct care_prog_result *p,
                          const char *rules_v, int64_t now_ms)
{
  struct vg_val v[11] = {
      VG_INT(pid), VG_TEXT(care_prog_code(p->prog)),
      VG_TEXT(care_tier_name(p->tier)), VG_INT(p->level),
      VG_INT(p->controlled), VG_TEXT(care_action_name(p->action)),
      VG_INT(p->next_due_ms), VG_TEXT(p->metrics.data),
      VG_TEXT(p->reasons.data),
      VG_TEXT(rules_v), VG_INT(now_ms)};
  return store_sql(
      t,
      "INSERT INTO care_assessment (patient_id, programme, tier, level, "
      "controlled, action, next_due_ms, metrics, reasons, algo_version, "
      "rules_version, computed_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
      "$9, '" ALGO_VERSION "', $10, $11) ON CONFLICT (patient_id, programme) "
      "DO UPDATE SET tier = excluded.tier, level = excluded.level, "
      "controlled = excluded.controlled, action = excluded.action, "
      "next_due_ms = excluded.next_due_ms, metrics = excluded.metrics, "
      "reasons = excluded.reasons, algo_version = excluded.algo_version, "
      "rules_version = excluded.rules_version, computed_ms = "
      "excluded.computed_ms",
      v, 11, NULL, NULL, NULL);
}

int care_assess_store(struct vg_txn *t, const struct care_rules *r,
                      int64_t pid, const struct care_result *res,
                      int64_t now_ms)
{
  const struct care_prog_result *o = &res->overall;
  char rv[17], old_tier[16] = "", data[160];
  struct vg_val prm[1] = {VG_INT(pid)};
  int rc;
  care_rules_version(r, rv);
  rc = store_sql(t,
                 "SELECT tier FROM care_assessment WHERE patient_id = $1 AND "
                 "programme = 'overall'",
                 prm, 1, text_col, old_tier, NULL);
  if (rc < 0)
    return rc;
  rc = put_assessment(t, pid, o, rv, now_ms);
  for (int i = 0; rc == 0 && i < res->n_prog; i++)
    rc = put_assessment(t, pid, &res->prog[i], rv, now_ms);
  for (int i = 0; rc == 0 && i < res->n_hits; i++)
    rc = care_alerts_apply(t, pid, &res->hits[i], now_ms);
  if (rc)
    return rc;
  if (res->n_prog > 0) {
    const char *kind = o->action == CARE_ACT_URGENT_REFER ? "referral_followup"
                                                          : "followup_visit";
    rc = care_tasks_upsert(t, pid, kind, o->next_due_ms, o->tier, o->rule,
                           "rules", now_ms);
    if (rc)
      return rc;
  }
  if (o->action == CARE_ACT_REFER || o->action == CARE_ACT_URGENT_REFER) {
    rc = care_referrals_suggest(
        t, pid, o->action == CARE_ACT_URGENT_REFER ? "emergency" : "urgent",
        o->action == CARE_ACT_URGENT_REFER
            ? "danger signs (basic public-health standard 2017)"
            : "uncontrolled at consecutive follow-ups",
        o->reasons.data, now_ms - r->window_days * DAY_MS, now_ms);
    if (rc)
      return rc;
  }
  snprintf(data, sizeof data, "{\"tier\":\"%s\",\"previous\":\"%s\"}",
           care_tier_name(o->tier), old_tier);
  return care_events_raise(t, strcmp(old_tier, care_tier_name(o->tier))
                                  ? "assessment" : "readings",
                           pid, 0, data, now_ms);
}

static void prog_json(const struct care_prog_result *p, struct vg_buf *out)
{
  char due[40];
  vg_time_format(p->next_due_ms, 0, due, sizeof due);
  buf_printf(out,
             "{\"programme\":\"%s\",\"tier\":\"%s\",\"level\":%d,"
             "\"level_name\":\"%s\",\"controlled\":%s,\"action\":\"%s\","
             "\"rule\":\"%s\",\"next_due\":\"%s\",\"metrics\":%s,"
             "\"reasons\":%s}",
             care_prog_code(p->prog), care_tier_name(p->tier), p->level,
             p->level == 3 ? "三级" : p->level == 2 ? "二级" : "一级",
             p->controlled < 0 ? "null" : p->controlled ? "true" : "false",
             care_action_name(p->action), p->rule ? p->rule : "",
             due, p->metrics.data, p->reasons.data);
}

int care_result_json(const struct care_result *res, int64_t computed_ms,
                     const char *rules_version, struct vg_buf *out)
{
  char at[40];
  vg_time_format(computed_ms, 0, at, sizeof at);
  buf_printf(out,
             "{\"computed_at\":\"%s\",\"algo_version\":\"%s\","
             "\"rules_version\":\"%s\",\"overall\":",
             at, ALGO_VERSION, rules_version);
  prog_json(&res->overall, out);
  buf_puts(out, ",\"programmes\":[");
  for (int i = 0; i < res->n_prog; i++) {
    if (i)
      buf_putc(out, ',');
    prog_json(&res->prog[i], out);
  }
  buf_puts(out, "],\"alerts\":[");
  for (int i = 0; i < res->n_hits; i++) {
    const struct care_hit *h = &res->hits[i];
    buf_printf(out, "%s{\"rule\":\"%s\",\"severity\":\"%s\",\"message\":",
               i ? "," : "", h->rule, h->severity);
    buf_json_str(out, h->message, strlen(h->message));
    buf_putc(out, '}');
  }
  buf_puts(out, "]}");
  return out->err;
}

/* ==== the worker ========================================================= */

#define BATCH 64

struct care_assess {
  struct vg_app *app;
  struct care_rules rules;
  char rules_path[512];
  int64_t rules_mtime;
  int tick_ms;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int64_t *ids;        /* dirty patients (unique) */
  size_t n_ids, cap_ids;
  int64_t first_ms;    /* when the oldest dirty id arrived */
  int busy, stop;
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct care_assess *g_assess;

static void add_id_locked(struct care_assess *a, int64_t id)
{
  /* Linear dedup over the tail is enough: ingest batches are grouped by
   * patient, and the worker drains the list within the debounce delay. */
  size_t from = a->n_ids > 64 ? a->n_ids - 64 : 0;
  for (size_t i = from; i < a->n_ids; i++)
    if (a->ids[i] == id)
      return;
  if (a->n_ids == a->cap_ids) {
    a->cap_ids = a->cap_ids ? 2 * a->cap_ids : 1024;
    a->ids = vg_realloc(a->ids, a->cap_ids * sizeof *a->ids);
  }
  if (a->n_ids == 0)
    a->first_ms = vg_now_ms();
  a->ids[a->n_ids++] = id;
}

void care_assess_notify(int64_t patient_id)
{
  pthread_mutex_lock(&g_mu);
  if (g_assess) {
    pthread_mutex_lock(&g_assess->mu);
    add_id_locked(g_assess, patient_id);
    pthread_cond_signal(&g_assess->cv);
    pthread_mutex_unlock(&g_assess->mu);
  }
  pthread_mutex_unlock(&g_mu);
}

void care_assess_notify_readings(const struct vg_reading *r, size_t n)
{
  int64_t prev = 0;
  pthread_mutex_lock(&g_mu);
  if (g_assess && n) {
    pthread_mutex_lock(&g_assess->mu);
    for (size_t i = 0; i < n; i++)
      if (r[i].patient_id != prev)
        add_id_locked(g_assess, prev = r[i].patient_id);
    pthread_cond_signal(&g_assess->cv);
    pthread_mutex_unlock(&g_assess->mu);
  }
  pthread_mutex_unlock(&g_mu);
}

void care_rules_current(struct care_rules *out)
{
  pthread_mutex_lock(&g_mu);
  if (g_assess)
    *out = g_assess->rules;
  else
    care_rules_default(out);
  pthread_mutex_unlock(&g_mu);
}

static void sleep_ms(int ms)
{
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int care_assess_drain(int timeout_ms)
{
  int64_t until = vg_now_ms() + timeout_ms;
  struct care_assess *a;
  int rc = 0, pending = 1;
  /* Not against a concurrent stop: callers drain a running worker. */
  pthread_mutex_lock(&g_mu);
  a = g_assess;
  pthread_mutex_unlock(&g_mu);
  while (a && pending && rc == 0) {
    pthread_mutex_lock(&a->mu);
    pending = a->n_ids || a->busy;
    pthread_mutex_unlock(&a->mu);
    if (pending && vg_now_ms() > until)
      rc = -VG_ETIMEOUT;
    else if (pending)
      sleep_ms(5);
  }
  return rc;
}

struct store_job {
  const struct care_rules *rules;
  const int64_t *ids;
  const struct care_result *res;
  const int *ok;
  size_t n;
  int64_t now_ms;
};

static int store_batch(struct vg_txn *t, void *ctx)
{
  struct store_job *j = ctx;
  for (size_t i = 0; i < j->n; i++) {
    int rc;
    if (!j->ok[i])
      continue;
    rc = care_assess_store(t, j->rules, j->ids[i], &j->res[i], j->now_ms);
    if (rc)
      return rc;
  }
  return 0;
}

struct periodic_job {
  const struct care_rules *rules;
  int64_t now_ms, tick_ms, n_esc, n_sil, n_task;
};

static int periodic(struct vg_txn *t, void *ctx)
{
  struct periodic_job *j = ctx;
  int rc = care_job_take(t, "escalate", j->now_ms, j->tick_ms);
  if (rc == 1)
    rc = care_alerts_escalate(t, j->rules, j->now_ms, &j->n_esc);
  if (rc < 0)
    return rc;
  rc = care_job_take(t, "silence", j->now_ms, 60000);
  if (rc == 1)
    rc = care_alerts_silence(t, j->rules, j->now_ms, &j->n_sil);
  if (rc < 0)
    return rc;
  rc = care_job_take(t, "tasks", j->now_ms, 10 * j->tick_ms);
  if (rc == 1)
    rc = care_tasks_generate(t, j->now_ms, &j->n_task);
  return rc < 0 ? rc : 0;
}

static int64_t file_mtime(const char *path)
{
  struct stat st;
  if (!path[0] || stat(path, &st) != 0)
    return 0;
  return (int64_t)st.st_mtime;
}

static int id_row(void *ctx, const struct vg_val *c, size_t n)
{
  (void)ctx;
  if (n && c[0].type == VG_VAL_INT)
    care_assess_notify(c[0].i);
  return 0;
}

/* Queue every patient whose assessment is of other rules (or all). */
static void requeue_stale(struct care_assess *a, int all)
{
  char rv[17];
  struct vg_val p[1];
  struct vg_txn *t;
  care_rules_version(&a->rules, rv);
  p[0] = VG_TEXT(rv);
  if (store_begin(a->app->store, VG_TXN_READ, &t))
    return;
  if (all)
    store_sql(t, "SELECT id FROM patient", NULL, 0, id_row, NULL, NULL);
  else
    store_sql(t,
              "SELECT DISTINCT patient_id FROM care_assessment WHERE "
              "rules_version <> $1",
              p, 1, id_row, NULL, NULL);
  store_rollback(t);
}

static void process(struct care_assess *a, const int64_t *ids, size_t n,
                    struct care_load_buf **buf, struct care_scratch *sc,
                    struct care_result *res)
{
  int ok[BATCH];
  int64_t now = vg_now_ms();
  struct store_job j = {&a->rules, ids, res, ok, n, now};
  int rc;
  for (size_t i = 0; i < n; i++) {
    struct vg_txn *t;
    ok[i] = 0;
    rc = store_begin(a->app->store, VG_TXN_READ, &t);
    if (rc == 0) {
      rc = care_assess_load(t, &a->rules, ids[i], now, buf, sc, &res[i]);
      store_rollback(t);
    }
    ok[i] = rc == 0;
    if (rc && rc != -VG_ENOTFOUND)
      vg_warn("care.assess_failed", "patient=%lld error=\"%s\"",
              (long long)ids[i], vg_strerror(rc));
  }
  rc = writer_exec(a->app->writer, n, store_batch, &j);
  if (rc == 0)
    care_events_kick();
  else
    vg_warn("care.store_failed", "patients=%zu error=\"%s\"", n,
            vg_strerror(rc));
}

int care_assess_ids(struct vg_app *app, const struct care_rules *r,
                    const int64_t *ids, size_t n, int64_t now_ms,
                    int64_t *out_n)
{
  struct care_result *res = vg_calloc(BATCH, sizeof *res);
  struct care_load_buf *lb = NULL;
  struct care_scratch sc = {0};
  int ok[BATCH];
  int64_t stored = 0;
  int rc = 0;
  for (size_t off = 0; off < n && rc == 0; off += BATCH) {
    size_t m = n - off < BATCH ? n - off : BATCH;
    struct store_job j = {r, ids + off, res, ok, m, now_ms};
    for (size_t i = 0; i < m && rc == 0; i++) {
      struct vg_txn *t;
      rc = store_begin(app->store, VG_TXN_READ, &t);
      if (rc)
        break;
      rc = care_assess_load(t, r, ids[off + i], now_ms, &lb, &sc, &res[i]);
      store_rollback(t);
      ok[i] = rc == 0;
      stored += rc == 0;
      if (rc == -VG_ENOTFOUND)
        rc = 0;
    }
    if (rc == 0)
      rc = writer_exec(app->writer, m, store_batch, &j);
  }
  for (size_t i = 0; i < BATCH; i++)
    care_result_free(&res[i]);
  vg_free(res);
  care_load_buf_free(lb);
  care_scratch_free(&sc);
  if (out_n)
    *out_n = rc ? 0 : stored;
  if (rc == 0)
    care_events_kick();
  return rc;
}

static void *worker(void *arg)
{
  struct care_assess *a = arg;
  struct care_load_buf *buf = NULL;
  struct care_scratch sc = {0};
  struct care_result *res = vg_calloc(BATCH, sizeof *res);
  int64_t *mine = NULL, next_tick = 0;
  size_t cap = 0;
  pthread_mutex_lock(&a->mu);
  while (!a->stop) {
    int64_t now = vg_now_ms();
    if (now >= next_tick) {
      struct periodic_job pj = {&a->rules, now, a->tick_ms, 0, 0, 0};
      int64_t mt = file_mtime(a->rules_path);
      a->busy = 1;
      pthread_mutex_unlock(&a->mu);
      if (mt && mt != a->rules_mtime) {
        struct care_rules nr;
        char err[256];
        if (care_rules_load(&nr, a->rules_path, err, sizeof err) == 0) {
          pthread_mutex_lock(&g_mu);
          a->rules = nr;
          pthread_mutex_unlock(&g_mu);
          vg_info("care.rules_reloaded", "path=%s", a->rules_path);
          requeue_stale(a, 1);
        } else {
          vg_warn("care.rules_rejected", "error=\"%s\"", err);
        }
        a->rules_mtime = mt;
      }
      if (writer_exec(a->app->writer, 1, periodic, &pj) == 0 &&
          (pj.n_esc || pj.n_sil || pj.n_task))
        care_events_kick();
      pthread_mutex_lock(&a->mu);
      a->busy = 0;
      next_tick = now + a->tick_ms;
      continue;
    }
    if (a->n_ids && now - a->first_ms >= a->rules.debounce_ms) {
      size_t n = a->n_ids;
      if (n > cap) {
        cap = n;
        mine = vg_realloc(mine, cap * sizeof *mine);
      }
      memcpy(mine, a->ids, n * sizeof *mine);
      a->n_ids = 0;
      a->busy = 1;
      pthread_mutex_unlock(&a->mu);
      for (size_t i = 0; i < n; i += BATCH)
        process(a, mine + i, n - i < BATCH ? n - i : BATCH, &buf, &sc, res);
      pthread_mutex_lock(&a->mu);
      a->busy = 0;
      continue;
    }
    {
      struct timespec ts;
      int64_t wake = next_tick;
      if (a->n_ids && a->first_ms + a->rules.debounce_ms < wake)
        wake = a->first_ms + a->rules.debounce_ms;
      clock_gettime(CLOCK_REALTIME, &ts);
      {
        int64_t wait_ms = wake - now, ns;
        if (wait_ms < 1)
          wait_ms = 1;
        ns = ts.tv_nsec + (wait_ms % 1000) * 1000000;
        ts.tv_sec += wait_ms / 1000 + ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
      }
      pthread_cond_timedwait(&a->cv, &a->mu, &ts);
    }
  }
  pthread_mutex_unlock(&a->mu);
  vg_free(mine);
  for (size_t i = 0; i < BATCH; i++)
    care_result_free(&res[i]);
  vg_free(res);
  care_load_buf_free(buf);
  care_scratch_free(&sc);
  return NULL;
}

int care_assess_start(struct vg_app *app, const struct care_assess_opts *o,
                      struct care_assess **out)
{
  struct care_assess *a;
  char err[256] = "";
  int rc;
  *out = NULL;
  a = vg_calloc(1, sizeof *a);
  a->app = app;
  snprintf(a->rules_path, sizeof a->rules_path, "%s",
           o && o->rules_path ? o->rules_path : "");
  rc = care_rules_load(&a->rules, a->rules_path, err, sizeof err);
  if (rc) {
    vg_error("care.rules", "path=%s error=\"%s\"", a->rules_path, err);
    vg_free(a);
    return rc;
  }
  a->rules_mtime = file_mtime(a->rules_path);
  a->tick_ms = o && o->tick_ms > 0 ? o->tick_ms : 1000;
  pthread_mutex_init(&a->mu, NULL);
  pthread_cond_init(&a->cv, NULL);
  pthread_mutex_lock(&g_mu);
  g_assess = a;
  pthread_mutex_unlock(&g_mu);
  requeue_stale(a, 0);
  if (pthread_create(&a->thread, NULL, worker, a) != 0) {
    pthread_mutex_lock(&g_mu);
    g_assess = NULL;
    pthread_mutex_unlock(&g_mu);
    vg_free(a->ids);
    vg_free(a);
    return -VG_ENOMEM;
  }
  *out = a;
  return 0;
}

void care_assess_stop(struct care_assess *a)
{
  if (!a)
    return;
  pthread_mutex_lock(&g_mu);
  g_assess = NULL;
  pthread_mutex_unlock(&g_mu);
  pthread_mutex_lock(&a->mu);
  a->stop = 1;
  pthread_cond_signal(&a->cv);
  pthread_mutex_unlock(&a->mu);
  pthread_join(a->thread, NULL);
  pthread_mutex_destroy(&a->mu);
  pthread_cond_destroy(&a->cv);
  vg_free(a->ids);
  vg_free(a);
}
