/* bp.c - office BP categories, home-BP protocol averaging, ABPM day/night
 * means and dipping, control predicates. */
#include "bp.h"

#include <math.h>

#define BP_MAX_N 1000000u
#define BP_MAX_ABS_T 10000000000000LL /* 1e13 s, ~317,000 years */
#define BP_MAX_OFFSET_MIN 1080        /* +-18 h, the ISO 8601 limit */

static int finite_pos(double v, double hi)
{
  return isfinite(v) && v > 0.0 && v <= hi;
}

/* ======================================================================
 * Office categories
 * ==================================================================== */

/* One guideline: categories in rank order, and for each component the
 * lower bounds (inclusive) at which a rank starts. */
struct bp_scheme {
  int n_cat;
  unsigned char cat[6];
  int n_s;
  double s_lo[5];
  unsigned char s_rank[5];
  int n_d;
  double d_lo[5];
  unsigned char d_rank[5];
};

static const struct bp_scheme bp_schemes[3] = {
  /* ACC/AHA 2017 (Whelton 2018, Table 6): elevated is SBP-only. */
  { 4,
    { ALGO_BP_CAT_NORMAL, ALGO_BP_CAT_ELEVATED, ALGO_BP_CAT_STAGE1,
      ALGO_BP_CAT_STAGE2 },
    3, { 120, 130, 140 }, { 1, 2, 3 },
    2, { 80, 90 }, { 2, 3 } },
  /* ESH 2023 (Mancia 2023, Table 4). */
  { 6,
    { ALGO_BP_CAT_OPTIMAL, ALGO_BP_CAT_NORMAL, ALGO_BP_CAT_HIGH_NORMAL,
      ALGO_BP_CAT_GRADE1, ALGO_BP_CAT_GRADE2, ALGO_BP_CAT_GRADE3 },
    5, { 120, 130, 140, 160, 180 }, { 1, 2, 3, 4, 5 },
    5, { 80, 85, 90, 100, 110 }, { 1, 2, 3, 4, 5 } },
  /* China 2018 revision (Chinese guideline, Table 5). */
  { 5,
    { ALGO_BP_CAT_NORMAL, ALGO_BP_CAT_HIGH_NORMAL, ALGO_BP_CAT_GRADE1,
      ALGO_BP_CAT_GRADE2, ALGO_BP_CAT_GRADE3 },
    4, { 120, 140, 160, 180 }, { 1, 2, 3, 4 },
    4, { 80, 90, 100, 110 }, { 1, 2, 3, 4 } },
};

static int rank_of(double v, const double *lo, const unsigned char *rank,
                   int n)
{
  int i, r = 0;
  for (i = 0; i < n; i++)
    if (v >= lo[i])
      r = rank[i];
  return r;
}

static int guideline_ok(int g)
{
  return g >= ALGO_BP_ACC_AHA_2017 && g <= ALGO_BP_CHINA_2018;
}

int algo_bp_office_category(int guideline, double sbp_mmhg, double dbp_mmhg,
                            struct algo_bp_office_out *out)
{
  const struct bp_scheme *s;
  int rs, rd;

  if (!out || !guideline_ok(guideline) || !finite_pos(sbp_mmhg, 500) ||
      !finite_pos(dbp_mmhg, 500))
    return ALGO_EINVAL;
  s = &bp_schemes[guideline];
  rs = rank_of(sbp_mmhg, s->s_lo, s->s_rank, s->n_s);
  rd = rank_of(dbp_mmhg, s->d_lo, s->d_rank, s->n_d);
  out->sbp_level = rs;
  out->dbp_level = rd;
  out->level = rs > rd ? rs : rd;
  out->category = s->cat[out->level];
  /* ACC/AHA 2017: hypertensive crisis is > 180 and/or > 120. */
  out->crisis = sbp_mmhg > 180.0 || dbp_mmhg > 120.0;
  out->isolated_systolic = sbp_mmhg >= 140.0 && dbp_mmhg < 90.0;
  return ALGO_OK;
}

const char *algo_bp_category_name(int guideline, int category)
{
  static const char *const acc[] = { NULL, "Normal", "Elevated", NULL,
                                     "Stage 1", "Stage 2" };
  static const char *const esh[] = { "Optimal", "Normal", NULL,
                                     "High-normal", NULL, NULL,
                                     "Grade 1", "Grade 2", "Grade 3" };
  static const char *const cn[] = { NULL, "Normal", NULL, "High-normal",
                                    NULL, NULL, "Grade 1", "Grade 2",
                                    "Grade 3" };
  const char *name = NULL;
  if (category < 0 || category > ALGO_BP_CAT_GRADE3)
    return "?";
  if (guideline == ALGO_BP_ACC_AHA_2017 && category <= ALGO_BP_CAT_STAGE2)
    name = acc[category];
  else if (guideline == ALGO_BP_ESH_2023)
    name = esh[category];
  else if (guideline == ALGO_BP_CHINA_2018)
    name = cn[category];
  return name ? name : "?";
}

int algo_bp_hearts_controlled(double sbp_mmhg, double dbp_mmhg,
                              int *out_controlled)
{
  /* WHO HEARTS control indicator: most recent BP < 140 and < 90. */
  if (!out_controlled || !finite_pos(sbp_mmhg, 500) ||
      !finite_pos(dbp_mmhg, 500))
    return ALGO_EINVAL;
  *out_controlled = sbp_mmhg < 140.0 && dbp_mmhg < 90.0;
  return ALGO_OK;
}

int algo_bp_china_controlled(int target, double sbp_mmhg, double dbp_mmhg,
                             int *out_controlled)
{
  /* China 2018: general < 140/90; >= 80 y < 150/90; < 130/80 if
   * tolerated or with diabetes/CKD/CHD. */
  static const double lim[3][2] = { { 140, 90 }, { 150, 90 }, { 130, 80 } };
  if (!out_controlled || target < ALGO_BP_CN_STANDARD ||
      target > ALGO_BP_CN_INTENSIVE || !finite_pos(sbp_mmhg, 500) ||
      !finite_pos(dbp_mmhg, 500))
    return ALGO_EINVAL;
  *out_controlled = sbp_mmhg < lim[target][0] && dbp_mmhg < lim[target][1];
  return ALGO_OK;
}

/* ======================================================================
 * Shared reading helpers
 * ==================================================================== */

static int reading_plausible(const struct algo_bp_reading *r)
{
  return r->sbp_mmhg >= 50.0 && r->sbp_mmhg <= 300.0 &&
         r->dbp_mmhg >= 20.0 && r->dbp_mmhg <= 200.0 &&
         r->sbp_mmhg > r->dbp_mmhg;
}

/* Checks the array: finite values, bounded, non-decreasing timestamps. */
static int readings_check(const struct algo_bp_reading *r, size_t n)
{
  size_t i;
  if (n > BP_MAX_N || (n > 0 && !r))
    return ALGO_EINVAL;
  for (i = 0; i < n; i++) {
    if (!isfinite(r[i].sbp_mmhg) || !isfinite(r[i].dbp_mmhg))
      return ALGO_EINVAL;
    if (r[i].t_utc_s > BP_MAX_ABS_T || r[i].t_utc_s < -BP_MAX_ABS_T)
      return ALGO_EINVAL;
    if (i > 0 && r[i].t_utc_s < r[i - 1].t_utc_s)
      return ALGO_EORDER;
  }
  return ALGO_OK;
}

/* Local day number and minute of day; floor division so that times before
 * 1970 still land on the right day. */
static void local_time(int64_t t_utc_s, int offset_min, int64_t *day,
                       int *minute)
{
  int64_t t = t_utc_s + (int64_t)offset_min * 60;
  int64_t d = t / 86400, rem = t % 86400;
  if (rem < 0) {
    rem += 86400;
    d--;
  }
  *day = d;
  *minute = (int)(rem / 60);
}

/* Minute m in [start, end), wrapping past midnight when start > end. */
static int in_window(int m, int start, int end)
{
  if (start <= end)
    return m >= start && m < end;
  return m >= start || m < end;
}

/* ======================================================================
 * Home BP
 * ==================================================================== */

/* Out-of-office thresholds (>=), clinical reference s1.2: index guideline,
 * then {home, day, night, 24 h} x {SBP, DBP}. ACC/AHA 2017 Table 11 (the
 * values corresponding to clinic 130/80); ESH 2023 and China 2018. */
static const int bp_ooo_thr[3][4][2] = {
  { { 130, 80 }, { 130, 80 }, { 110, 65 }, { 125, 75 } },
  { { 135, 85 }, { 135, 85 }, { 120, 70 }, { 130, 80 } },
  { { 135, 85 }, { 135, 85 }, { 120, 70 }, { 130, 80 } },
};

int algo_bp_home_default_cfg(int protocol, int guideline, int utc_offset_min,
                             struct algo_bp_home_cfg *out)
{
  if (!out || (protocol != ALGO_BP_HOME_CHINA &&
               protocol != ALGO_BP_HOME_ESH) ||
      !guideline_ok(guideline) || utc_offset_min < -BP_MAX_OFFSET_MIN ||
      utc_offset_min > BP_MAX_OFFSET_MIN)
    return ALGO_EINVAL;
  out->protocol = protocol;
  out->guideline = guideline;
  out->utc_offset_min = utc_offset_min;
  /* China 2018 and ESH: 7 days, discard day 1 (documented in bp.md). */
  out->n_days = 7;
  /* Platform rule: >= 12 readings on >= 3 days after day 1 (bp.md). */
  out->min_readings = 12;
  out->min_days = 3;
  return ALGO_OK;
}

static int home_cfg_ok(const struct algo_bp_home_cfg *c)
{
  return c && (c->protocol == ALGO_BP_HOME_CHINA ||
               c->protocol == ALGO_BP_HOME_ESH) &&
         guideline_ok(c->guideline) &&
         c->utc_offset_min >= -BP_MAX_OFFSET_MIN &&
         c->utc_offset_min <= BP_MAX_OFFSET_MIN && c->n_days >= 2 &&
         c->n_days <= 366 && c->min_readings >= 1 &&
         c->min_readings <= (int)BP_MAX_N && c->min_days >= 1 &&
         c->min_days <= c->n_days - 1;
}

int algo_bp_home_average(const struct algo_bp_home_cfg *cfg,
                         const struct algo_bp_reading *r, size_t n,
                         struct algo_bp_home_out *out)
{
  /* China home-BP sessions, local time: morning 06:00-09:00, evening
   * 18:00-21:00, end exclusive (bp.md explains the choice). */
  static const int am_win[2] = { 6 * 60, 9 * 60 };
  static const int pm_win[2] = { 18 * 60, 21 * 60 };
  double s = 0, d = 0, as = 0, ad = 0, ps = 0, pd = 0;
  int64_t day, last_day = 0;
  size_t i;
  int rc, minute, have_day = 0;

  if (!out || !home_cfg_ok(cfg))
    return ALGO_EINVAL;
  rc = readings_check(r, n);
  if (rc != ALGO_OK)
    return rc;

  *out = (struct algo_bp_home_out){ 0 };
  out->verdict = ALGO_BP_INSUFFICIENT;
  out->thr_sbp_mmhg = bp_ooo_thr[cfg->guideline][0][0];
  out->thr_dbp_mmhg = bp_ooo_thr[cfg->guideline][0][1];
  if (n == 0)
    return ALGO_OK;
  local_time(r[0].t_utc_s, cfg->utc_offset_min, &out->day1_local, &minute);

  for (i = 0; i < n; i++) {
    int64_t k;
    int am;
    if (!reading_plausible(&r[i])) {
      out->n_invalid++;
      continue;
    }
    local_time(r[i].t_utc_s, cfg->utc_offset_min, &day, &minute);
    k = day - out->day1_local; /* 0 = day 1 */
    if (k == 0) {
      out->n_day1++;
      continue;
    }
    if (k >= cfg->n_days) {
      out->n_after++;
      continue;
    }
    if (cfg->protocol == ALGO_BP_HOME_CHINA &&
        !in_window(minute, am_win[0], am_win[1]) &&
        !in_window(minute, pm_win[0], pm_win[1])) {
      out->n_outside++;
      continue;
    }
    am = minute < 12 * 60;
    s += r[i].sbp_mmhg;
    d += r[i].dbp_mmhg;
    if (am) {
      as += r[i].sbp_mmhg;
      ad += r[i].dbp_mmhg;
      out->n_am++;
    } else {
      ps += r[i].sbp_mmhg;
      pd += r[i].dbp_mmhg;
      out->n_pm++;
    }
    out->n_used++;
    /* Timestamps are sorted, so days arrive in order. */
    if (!have_day || day != last_day)
      out->n_days_used++;
    have_day = 1;
    last_day = day;
  }

  if (out->n_used > 0) {
    out->sbp_mmhg = s / out->n_used;
    out->dbp_mmhg = d / out->n_used;
  }
  if (out->n_am > 0) {
    out->am_sbp_mmhg = as / out->n_am;
    out->am_dbp_mmhg = ad / out->n_am;
  }
  if (out->n_pm > 0) {
    out->pm_sbp_mmhg = ps / out->n_pm;
    out->pm_dbp_mmhg = pd / out->n_pm;
  }
  if (out->n_used >= cfg->min_readings && out->n_days_used >= cfg->min_days)
    out->verdict = out->sbp_mmhg >= out->thr_sbp_mmhg ||
                           out->dbp_mmhg >= out->thr_dbp_mmhg
                       ? ALGO_BP_HIGH
                       : ALGO_BP_BELOW;
  return ALGO_OK;
}

/* ======================================================================
 * ABPM
 * ==================================================================== */

int algo_bp_abpm_default_cfg(int guideline, int daynight, int utc_offset_min,
                             struct algo_bp_abpm_cfg *out)
{
  if (!out || !guideline_ok(guideline) ||
      (daynight != ALGO_BP_FIXED && daynight != ALGO_BP_DIARY) ||
      utc_offset_min < -BP_MAX_OFFSET_MIN ||
      utc_offset_min > BP_MAX_OFFSET_MIN)
    return ALGO_EINVAL;
  out->guideline = guideline;
  out->daynight = daynight;
  out->utc_offset_min = utc_offset_min;
  /* ESH ABPM position paper (O'Brien 2013): narrow fixed windows. */
  out->day_start_min = 9 * 60;
  out->day_end_min = 21 * 60;
  out->night_start_min = 1 * 60;
  out->night_end_min = 6 * 60;
  /* ESH 2013: >= 20 valid daytime and >= 7 night-time readings. */
  out->min_day = 20;
  out->min_night = 7;
  return ALGO_OK;
}

static int minute_ok(int m)
{
  return m >= 0 && m <= 1440;
}

static int abpm_cfg_ok(const struct algo_bp_abpm_cfg *c)
{
  return c && guideline_ok(c->guideline) &&
         (c->daynight == ALGO_BP_FIXED || c->daynight == ALGO_BP_DIARY) &&
         c->utc_offset_min >= -BP_MAX_OFFSET_MIN &&
         c->utc_offset_min <= BP_MAX_OFFSET_MIN &&
         minute_ok(c->day_start_min) && minute_ok(c->day_end_min) &&
         minute_ok(c->night_start_min) && minute_ok(c->night_end_min) &&
         c->min_day >= 0 && c->min_night >= 0;
}

static int dipping_class(double fall_pct)
{
  /* Dipper 10-20 % inclusive, non-dipper 0 to < 10, extreme > 20,
   * reverse < 0 (clinical reference / brief). */
  if (fall_pct < 0.0)
    return ALGO_BP_DIP_REVERSE;
  if (fall_pct < 10.0)
    return ALGO_BP_DIP_NON_DIPPER;
  if (fall_pct <= 20.0)
    return ALGO_BP_DIP_DIPPER;
  return ALGO_BP_DIP_EXTREME;
}

int algo_bp_abpm(const struct algo_bp_abpm_cfg *cfg,
                 const struct algo_bp_reading *r, const unsigned char *awake,
                 size_t n, struct algo_bp_abpm_out *out)
{
  double ds = 0, dd = 0, ns = 0, nd = 0, as = 0, ad = 0;
  const int *thr;
  size_t i;
  int rc;

  if (!out || !abpm_cfg_ok(cfg))
    return ALGO_EINVAL;
  if (cfg->daynight == ALGO_BP_DIARY && n > 0 && !awake)
    return ALGO_EINVAL;
  rc = readings_check(r, n);
  if (rc != ALGO_OK)
    return rc;

  *out = (struct algo_bp_abpm_out){ 0 };
  for (i = 0; i < n; i++) {
    int is_day, is_night;
    if (!reading_plausible(&r[i])) {
      out->n_invalid++;
      continue;
    }
    if (cfg->daynight == ALGO_BP_DIARY) {
      is_day = awake[i] != 0;
      is_night = !is_day;
    } else {
      int64_t day;
      int m;
      local_time(r[i].t_utc_s, cfg->utc_offset_min, &day, &m);
      is_day = in_window(m, cfg->day_start_min, cfg->day_end_min);
      is_night = !is_day &&
                 in_window(m, cfg->night_start_min, cfg->night_end_min);
    }
    as += r[i].sbp_mmhg;
    ad += r[i].dbp_mmhg;
    out->n_all++;
    if (is_day) {
      ds += r[i].sbp_mmhg;
      dd += r[i].dbp_mmhg;
      out->n_day++;
    } else if (is_night) {
      ns += r[i].sbp_mmhg;
      nd += r[i].dbp_mmhg;
      out->n_night++;
    }
  }

  thr = &bp_ooo_thr[cfg->guideline][0][0];
  if (out->n_all > 0) {
    out->all_sbp_mmhg = as / out->n_all;
    out->all_dbp_mmhg = ad / out->n_all;
    out->all_high = out->all_sbp_mmhg >= thr[6] || out->all_dbp_mmhg >= thr[7];
  }
  if (out->n_day > 0) {
    out->day_sbp_mmhg = ds / out->n_day;
    out->day_dbp_mmhg = dd / out->n_day;
    out->day_high = out->day_sbp_mmhg >= thr[2] || out->day_dbp_mmhg >= thr[3];
  }
  if (out->n_night > 0) {
    out->night_sbp_mmhg = ns / out->n_night;
    out->night_dbp_mmhg = nd / out->n_night;
    out->night_high =
        out->night_sbp_mmhg >= thr[4] || out->night_dbp_mmhg >= thr[5];
  }
  if (out->n_day > 0 && out->n_night > 0) {
    out->sbp_fall_pct = 100.0 * (out->day_sbp_mmhg - out->night_sbp_mmhg) /
                        out->day_sbp_mmhg;
    out->dbp_fall_pct = 100.0 * (out->day_dbp_mmhg - out->night_dbp_mmhg) /
                        out->day_dbp_mmhg;
    out->dipping = dipping_class(out->sbp_fall_pct);
  }
  out->sufficient = out->n_day >= cfg->min_day &&
                    out->n_night >= cfg->min_night;
  return ALGO_OK;
}

const char *algo_bp_dipping_name(int dipping)
{
  static const char *const names[] = { "unknown", "reverse", "non-dipper",
                                       "dipper", "extreme" };
  if (dipping < ALGO_BP_DIP_UNKNOWN || dipping > ALGO_BP_DIP_EXTREME)
    return "?";
  return names[dipping];
}
