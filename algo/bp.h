/* bp.h - blood pressure: office category (ACC/AHA 2017, ESH 2023, China
 * 2018), home-BP protocol averaging, ABPM day/night means and dipping, and
 * the HEARTS and China control predicates. */
#ifndef VG_ALGO_BP_H
#define VG_ALGO_BP_H

#include <stddef.h>
#include <stdint.h>

#include "algo.h"

enum algo_bp_guideline {
  ALGO_BP_ACC_AHA_2017 = 0, /* Whelton, Hypertension 2018;71:e13 */
  ALGO_BP_ESH_2023 = 1,     /* Mancia, J Hypertens 2023;41:1874 */
  ALGO_BP_CHINA_2018 = 2    /* Chinese hypertension guideline, 2018 rev. */
};

/* Office categories. Each guideline uses an ordered subset:
 * ACC/AHA: NORMAL < ELEVATED < STAGE1 < STAGE2
 * ESH:     OPTIMAL < NORMAL < HIGH_NORMAL < GRADE1 < GRADE2 < GRADE3
 * China:   NORMAL < HIGH_NORMAL < GRADE1 < GRADE2 < GRADE3 */
enum algo_bp_category {
  ALGO_BP_CAT_OPTIMAL = 0,
  ALGO_BP_CAT_NORMAL,
  ALGO_BP_CAT_ELEVATED,
  ALGO_BP_CAT_HIGH_NORMAL,
  ALGO_BP_CAT_STAGE1,
  ALGO_BP_CAT_STAGE2,
  ALGO_BP_CAT_GRADE1,
  ALGO_BP_CAT_GRADE2,
  ALGO_BP_CAT_GRADE3
};

/* Office classification result. Public, read-only. */
struct algo_bp_office_out {
  int category;          /* enum algo_bp_category: the higher of SBP, DBP */
  int level;             /* 0-based rank of category within the guideline */
  int sbp_level;         /* rank the SBP alone would give */
  int dbp_level;         /* rank the DBP alone would give */
  int crisis;            /* 1 if SBP > 180 and/or DBP > 120 (ACC/AHA) */
  int isolated_systolic; /* 1 if SBP >= 140 and DBP < 90 (ESH/China ISH) */
};

/* Office BP category. Bands are read with the lower bound inclusive on the
 * real-valued reading (129.9 is 120-129; 130.0 is 130-139). When SBP and
 * DBP fall in different categories the higher wins.
 * sbp_mmhg, dbp_mmhg: finite, > 0 and <= 500 (else ALGO_EINVAL).
 * OUT: *out. Returns ALGO_OK or ALGO_EINVAL. Pure; thread-safe. */
int algo_bp_office_category(int guideline, double sbp_mmhg, double dbp_mmhg,
                            struct algo_bp_office_out *out);

/* Static name of a category in a guideline's wording ("Stage 1",
 * "Grade 1", "High-normal"); "?" if not part of that guideline. */
const char *algo_bp_category_name(int guideline, int category);

/* WHO HEARTS controlled: SBP < 140 and DBP < 90.
 * OUT: *out_controlled 0/1. Returns ALGO_OK or ALGO_EINVAL (NULL,
 * non-finite or non-positive input). */
int algo_bp_hearts_controlled(double sbp_mmhg, double dbp_mmhg,
                              int *out_controlled);

/* China control targets. */
enum algo_bp_china_target {
  ALGO_BP_CN_STANDARD = 0, /* < 140/90: guideline general target and the
                              public-health programme control indicator */
  ALGO_BP_CN_AGE80 = 1,    /* < 150/90: patients aged >= 80 */
  ALGO_BP_CN_INTENSIVE = 2 /* < 130/80: diabetes, CKD, coronary disease,
                              or when tolerated */
};

/* China 2018 control predicate for the chosen target.
 * OUT: *out_controlled 0/1. Returns ALGO_OK or ALGO_EINVAL. */
int algo_bp_china_controlled(int target, double sbp_mmhg, double dbp_mmhg,
                             int *out_controlled);

/* One timestamped reading. Public fields. */
struct algo_bp_reading {
  int64_t t_utc_s; /* seconds since 1970-01-01T00:00:00Z, |t| <= 1e13 */
  double sbp_mmhg;
  double dbp_mmhg;
};

/* A reading is used only if 50 <= SBP <= 300, 20 <= DBP <= 200 and
 * SBP > DBP; others are counted as invalid and skipped. */

/* ------------------------------------------------------------------------
 * Home BP (HBPM) protocol averaging
 * --------------------------------------------------------------------- */

enum algo_bp_home_protocol {
  /* China 2018 / home-BP guideline 2019: day 1 discarded, days 2..n_days,
   * morning [06:00, 09:00) and evening [18:00, 21:00) local time only. */
  ALGO_BP_HOME_CHINA = 0,
  /* ESH 2021/2023: day 1 discarded, every reading of days 2..n_days. */
  ALGO_BP_HOME_ESH = 1
};

/* Home protocol configuration. Public fields; fill with
 * algo_bp_home_default_cfg() and adjust. */
struct algo_bp_home_cfg {
  int protocol;       /* enum algo_bp_home_protocol */
  int guideline;      /* threshold: ACC/AHA 130/80; ESH, China 135/85 */
  int utc_offset_min; /* local = UTC + offset; -1080..1080 */
  int n_days;         /* protocol length including day 1; 2..366 */
  int min_readings;   /* sufficiency: >= this many used readings ... */
  int min_days;       /* ... over >= this many distinct days after day 1 */
};

/* Defaults: n_days 7, min_readings 12, min_days 3.
 * OUT: *out. Returns ALGO_OK or ALGO_EINVAL (bad enum, offset, NULL). */
int algo_bp_home_default_cfg(int protocol, int guideline, int utc_offset_min,
                             struct algo_bp_home_cfg *out);

enum algo_bp_verdict {
  ALGO_BP_INSUFFICIENT = 0, /* not enough data for a verdict (valid result) */
  ALGO_BP_BELOW = 1,        /* mean below the out-of-office threshold */
  ALGO_BP_HIGH = 2          /* mean SBP or DBP at or above the threshold */
};

/* Home protocol result. Public, read-only. Means are 0 when no reading
 * was used; they are filled even when the verdict is INSUFFICIENT. */
struct algo_bp_home_out {
  int verdict;               /* enum algo_bp_verdict */
  double sbp_mmhg, dbp_mmhg; /* mean of every used reading */
  double am_sbp_mmhg, am_dbp_mmhg; /* morning readings (local < 12:00) */
  double pm_sbp_mmhg, pm_dbp_mmhg; /* evening readings (local >= 12:00) */
  int n_used, n_am, n_pm;
  int n_days_used;     /* distinct local days among used readings */
  int n_day1;          /* readings on day 1 (discarded) */
  int n_outside;       /* days 2..n_days but outside the session windows */
  int n_after;         /* after day n_days (ignored) */
  int n_invalid;       /* implausible readings (skipped) */
  int64_t day1_local;  /* local day number (days since 1970-01-01) */
  int thr_sbp_mmhg, thr_dbp_mmhg; /* threshold that was applied */
};

/* Averages one home-BP protocol period. Day 1 is the local calendar day of
 * r[0]. r: n readings, borrowed, t_utc_s non-decreasing (equal timestamps
 * are allowed: repeat readings within the same second/minute).
 * n <= 1000000. OUT: *out.
 * Returns ALGO_OK (including for INSUFFICIENT), ALGO_EINVAL (NULL, bad cfg,
 * n too large, non-finite value, |t| > 1e13) or ALGO_EORDER. Pure;
 * thread-safe. */
int algo_bp_home_average(const struct algo_bp_home_cfg *cfg,
                         const struct algo_bp_reading *r, size_t n,
                         struct algo_bp_home_out *out);

/* ------------------------------------------------------------------------
 * ABPM
 * --------------------------------------------------------------------- */

enum algo_bp_daynight {
  ALGO_BP_FIXED = 0, /* fixed local clock windows (cfg) */
  ALGO_BP_DIARY = 1  /* per-reading awake flag from the patient's diary */
};

/* ABPM configuration. Public fields; fill with algo_bp_abpm_default_cfg().
 * Windows are minutes after local midnight, [start, end), may wrap. */
struct algo_bp_abpm_cfg {
  int guideline;      /* thresholds */
  int daynight;       /* enum algo_bp_daynight */
  int utc_offset_min; /* -1080..1080 */
  int day_start_min, day_end_min;     /* default 09:00-21:00 */
  int night_start_min, night_end_min; /* default 01:00-06:00 */
  int min_day, min_night; /* sufficiency, default 20 and 7 */
};

/* Defaults: ESH narrow fixed windows (day 09:00-21:00, night
 * 01:00-06:00), min 20 day and 7 night readings.
 * OUT: *out. Returns ALGO_OK or ALGO_EINVAL. */
int algo_bp_abpm_default_cfg(int guideline, int daynight, int utc_offset_min,
                             struct algo_bp_abpm_cfg *out);

enum algo_bp_dipping {
  ALGO_BP_DIP_UNKNOWN = 0, /* no day or no night reading */
  ALGO_BP_DIP_REVERSE,     /* fall < 0 % (riser) */
  ALGO_BP_DIP_NON_DIPPER,  /* 0 <= fall < 10 % */
  ALGO_BP_DIP_DIPPER,      /* 10 <= fall <= 20 % */
  ALGO_BP_DIP_EXTREME      /* fall > 20 % */
};

/* ABPM result. Public, read-only. Means are 0 when their count is 0. */
struct algo_bp_abpm_out {
  double day_sbp_mmhg, day_dbp_mmhg;
  double night_sbp_mmhg, night_dbp_mmhg;
  double all_sbp_mmhg, all_dbp_mmhg; /* 24 h: every valid reading */
  int n_day, n_night, n_all, n_invalid;
  double sbp_fall_pct; /* 100 (day - night) / day, systolic */
  double dbp_fall_pct; /* same for diastolic (informative) */
  int dipping;         /* enum algo_bp_dipping, from sbp_fall_pct */
  int sufficient;      /* n_day >= min_day and n_night >= min_night */
  int day_high, night_high, all_high; /* mean >= guideline threshold */
};

/* ABPM means, thresholds and dipping status for one recording.
 * r: n readings, borrowed, non-decreasing t_utc_s. awake: n flags (1 awake,
 * 0 asleep), required for ALGO_BP_DIARY, ignored (may be NULL) for
 * ALGO_BP_FIXED. In DIARY mode every reading is day or night; in FIXED
 * mode readings outside both windows count only in the 24 h mean.
 * OUT: *out. Returns ALGO_OK, ALGO_EINVAL or ALGO_EORDER. Pure;
 * thread-safe. */
int algo_bp_abpm(const struct algo_bp_abpm_cfg *cfg,
                 const struct algo_bp_reading *r, const unsigned char *awake,
                 size_t n, struct algo_bp_abpm_out *out);

/* Static name of a dipping class ("dipper", ...). */
const char *algo_bp_dipping_name(int dipping);

#endif
