/* cvd.h - 10-year cardiovascular risk: 2013 ACC/AHA Pooled Cohort Equations
 * and the WHO 2019 laboratory / non-laboratory models with GBD-region
 * recalibration and chart lookup. (China-PAR deliberately absent: its
 * coefficients are unverified, see docs/clinical/cvd.md.) */
#ifndef VG_ALGO_CVD_H
#define VG_ALGO_CVD_H

#include "algo.h"

enum algo_cvd_sex { ALGO_CVD_MALE = 0, ALGO_CVD_FEMALE = 1 };

/* ------------------------------------------------------------------------
 * Pooled Cohort Equations (Goff DC et al., Circulation 2014;129:S49-73)
 * --------------------------------------------------------------------- */

/* PCE race groups. "White or other" uses the white equations, as the ACC
 * calculator does for other races. */
enum algo_cvd_race {
  ALGO_CVD_RACE_WHITE_OTHER = 0,
  ALGO_CVD_RACE_AFRICAN_AMERICAN = 1
};

/* Bits of algo_cvd_pce_out.out_of_range: the input lies outside the range
 * the equations were validated on. The risk is still computed from the
 * actual value, never clamped; callers must show the flag. */
#define ALGO_CVD_PCE_RANGE_AGE 0x1u /* age outside 40-79 y */
#define ALGO_CVD_PCE_RANGE_TC 0x2u  /* total cholesterol outside 130-320 */
#define ALGO_CVD_PCE_RANGE_HDL 0x4u /* HDL outside 20-100 mg/dL */
#define ALGO_CVD_PCE_RANGE_SBP 0x8u /* SBP outside 90-200 mmHg */

/* 2019 ACC/AHA primary-prevention risk categories. */
enum algo_cvd_pce_category {
  ALGO_CVD_PCE_LOW = 0,       /* < 5 % */
  ALGO_CVD_PCE_BORDERLINE,    /* 5 to < 7.5 % */
  ALGO_CVD_PCE_INTERMEDIATE,  /* 7.5 to < 20 % */
  ALGO_CVD_PCE_HIGH           /* >= 20 % */
};

/* PCE input. Public fields, caller-filled. */
struct algo_cvd_pce_in {
  int sex;           /* enum algo_cvd_sex */
  int race;          /* enum algo_cvd_race */
  double age_y;      /* years */
  double tc_mg_dl;   /* total cholesterol */
  double hdl_mg_dl;  /* HDL cholesterol */
  double sbp_mmhg;   /* systolic BP */
  int bp_treated;    /* 1 if on antihypertensive treatment */
  int smoker;        /* 1 current smoker */
  int diabetes;      /* 1 diabetes */
};

/* PCE result. Public, read-only. */
struct algo_cvd_pce_out {
  double risk_pct;       /* 10-year ASCVD risk, percent, unrounded */
  double ind_sum;        /* individual sum of coefficient x value */
  unsigned out_of_range; /* ALGO_CVD_PCE_RANGE_* bits */
  int category;          /* enum algo_cvd_pce_category */
};

/* 10-year hard-ASCVD risk by the 2013 Pooled Cohort Equations.
 * in: borrowed. Plausibility limits (rejected, not flagged): age 1-120 y,
 * TC 20-1000 mg/dL, HDL 1-500 mg/dL, SBP 40-350 mmHg, flags 0/1.
 * OUT: *out on ALGO_OK (untouched otherwise).
 * Returns ALGO_OK or ALGO_EINVAL (NULL, non-finite, implausible, bad enum).
 * Pure; thread-safe. */
int algo_cvd_pce(const struct algo_cvd_pce_in *in,
                 struct algo_cvd_pce_out *out);

/* ------------------------------------------------------------------------
 * WHO 2019 CVD risk (WHO CVD Risk Chart Working Group, Lancet Glob Health
 * 2019;7:e1332-45)
 * --------------------------------------------------------------------- */

enum algo_cvd_who_model {
  ALGO_CVD_WHO_LAB = 0,   /* age, sex, smoking, SBP, diabetes, TC */
  ALGO_CVD_WHO_NONLAB = 1 /* age, sex, smoking, SBP, BMI */
};

/* GBD regions are numbered 1..21 in the WHO file's order (1 N_AFR_ME ...
 * 12 EAS_ASI (China) ... 21 AUS). */
#define ALGO_CVD_WHO_N_REGIONS 21
#define ALGO_CVD_WHO_EAS_ASI 12

/* Bits of out_of_range in the WHO results. */
#define ALGO_CVD_WHO_RANGE_AGE 0x1u /* age outside 40-74 y (chart range) */

/* WHO model input. Public fields, caller-filled; tc/diabetes are read only
 * by the lab model, bmi only by the non-lab model. */
struct algo_cvd_who_in {
  int sex;          /* enum algo_cvd_sex */
  double age_y;     /* years */
  double sbp_mmhg;  /* systolic BP */
  int smoker;       /* 1 current smoker */
  double tc_mmol_l; /* total cholesterol (lab) */
  int diabetes;     /* 1 diabetes (lab) */
  double bmi_kg_m2; /* body-mass index (non-lab) */
};

/* One sex's recalibration pairs for one model. Public fields. */
struct algo_cvd_who_cal {
  double chd_cons, chd_slope, stroke_cons, stroke_slope;
};

/* WHO continuous result. Public, read-only. Percentages are unrounded. */
struct algo_cvd_who_out {
  double chd_pct;        /* recalibrated 10-year CHD risk */
  double stroke_pct;     /* recalibrated 10-year stroke risk */
  double cvd_pct;        /* 1 - (1 - CHD)(1 - stroke), in percent */
  unsigned out_of_range; /* ALGO_CVD_WHO_RANGE_* bits */
};

/* WHO chart risk bands (colours of the printed chart). */
enum algo_cvd_who_band {
  ALGO_CVD_WHO_BAND_LT5 = 0, /* < 5 % */
  ALGO_CVD_WHO_BAND_5_10,    /* 5 to < 10 % */
  ALGO_CVD_WHO_BAND_10_20,   /* 10 to < 20 % */
  ALGO_CVD_WHO_BAND_20_30,   /* 20 to < 30 % */
  ALGO_CVD_WHO_BAND_GE30     /* >= 30 % */
};

/* WHO chart cell. Public, read-only. */
struct algo_cvd_who_chart_out {
  int risk_pct;          /* cell value, integer percent (half-up) */
  int band;              /* enum algo_cvd_who_band of risk_pct */
  int age_band;          /* 0 = 40-44 ... 6 = 70-74 */
  int sbp_band;          /* 0 <120, 1 120-139, 2 140-159, 3 160-179, 4 >=180 */
  int x_band;            /* TC: 0 <4, 1 4-4.9, ... 4 >=7 mmol/L;
                            BMI: 0 <20, 1 20-24, 2 25-29, 3 30-34, 4 >=35 */
  unsigned out_of_range; /* ALGO_CVD_WHO_RANGE_AGE if the age was outside
                            40-74 and was put in the nearest end band */
};

/* Region id (1..21) of a WHO region code such as "EAS_ASI".
 * OUT: *out_region. Returns ALGO_OK or ALGO_EINVAL (NULL, unknown code). */
int algo_cvd_who_region_from_code(const char *code, int *out_region);

/* Static code ("EAS_ASI") of region 1..21; "?" if out of range. */
const char *algo_cvd_who_region_code(int region);

/* Recalibration pairs for a region (1..21), model and sex.
 * OUT: *out. Returns ALGO_OK or ALGO_EINVAL. */
int algo_cvd_who_region_cal(int model, int region, int sex,
                            struct algo_cvd_who_cal *out);

/* Country-level recalibration. Only "CHN" (China, GBD 2017) is carried.
 * OUT: *out. Returns ALGO_OK or ALGO_EINVAL (NULL, other country). */
int algo_cvd_who_country_cal(const char *iso3, int model, int sex,
                             struct algo_cvd_who_cal *out);

/* Continuous 10-year CVD risk (CHD + stroke) with the given recalibration.
 * in, cal: borrowed. Plausibility limits (rejected): age 1-120 y, SBP 40-350
 * mmHg, TC 0.5-30 mmol/L (lab), BMI 5-100 kg/m2 (non-lab), flags 0/1.
 * Ages outside 40-74 are computed and flagged, not clamped.
 * OUT: *out on ALGO_OK. Returns ALGO_OK or ALGO_EINVAL. Pure; thread-safe. */
int algo_cvd_who_risk(int model, const struct algo_cvd_who_cal *cal,
                      const struct algo_cvd_who_in *in,
                      struct algo_cvd_who_out *out);

/* Chart lookup: bands the inputs as the printed WHO 2019 chart does (lower
 * bound inclusive: SBP 120 is "120-139", TC 5.0 is "5-5.9"), evaluates the
 * model at the band mid-points (age 42.5..72.5, SBP 110..190, TC 3.5..7.5,
 * BMI 17.5..37.5) with the region's calibration and rounds half-up, which
 * reproduces the published chart. Ages < 40 / >= 75 use the end band and
 * set ALGO_CVD_WHO_RANGE_AGE. Same plausibility limits as
 * algo_cvd_who_risk(). OUT: *out on ALGO_OK. Returns ALGO_OK or
 * ALGO_EINVAL. Pure; thread-safe. */
int algo_cvd_who_chart(int model, int region,
                       const struct algo_cvd_who_in *in,
                       struct algo_cvd_who_chart_out *out);

#endif
