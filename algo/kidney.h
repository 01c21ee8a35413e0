/* kidney.h - CKD-EPI 2021 eGFR equations and KDIGO 2012 G/A staging. */
#ifndef VG_ALGO_KIDNEY_H
#define VG_ALGO_KIDNEY_H

#include "algo.h"

enum algo_kidney_sex { ALGO_KIDNEY_MALE = 0, ALGO_KIDNEY_FEMALE = 1 };

/* KDIGO GFR categories (mL/min/1.73 m2), lower bound inclusive. */
enum algo_kidney_g {
  ALGO_KIDNEY_G1 = 1, /* >= 90 */
  ALGO_KIDNEY_G2,     /* 60 to < 90 */
  ALGO_KIDNEY_G3A,    /* 45 to < 60 */
  ALGO_KIDNEY_G3B,    /* 30 to < 45 */
  ALGO_KIDNEY_G4,     /* 15 to < 30 */
  ALGO_KIDNEY_G5      /* < 15 */
};

/* KDIGO albuminuria categories by urine albumin/creatinine ratio. */
enum algo_kidney_a {
  ALGO_KIDNEY_A1 = 1, /* < 30 mg/g (< 3 mg/mmol) */
  ALGO_KIDNEY_A2,     /* 30-300 mg/g (3-30 mg/mmol), both ends inclusive */
  ALGO_KIDNEY_A3      /* > 300 mg/g (> 30 mg/mmol) */
};

/* KDIGO heat-map prognosis colour. */
enum algo_kidney_risk {
  ALGO_KIDNEY_RISK_LOW = 0,   /* green */
  ALGO_KIDNEY_RISK_MODERATE,  /* yellow */
  ALGO_KIDNEY_RISK_HIGH,      /* orange */
  ALGO_KIDNEY_RISK_VERY_HIGH  /* red */
};

/* Serum creatinine: umol/L to mg/dL (divide by 88.4).
 * OUT: *out_mg_dl. Returns ALGO_OK, or ALGO_EINVAL if out is NULL or the
 * input is not finite and > 0. Pure; thread-safe. */
int algo_kidney_scr_umol_to_mg_dl(double scr_umol_l, double *out_mg_dl);

/* CKD-EPI 2021 race-free creatinine equation (Inker, NEJM 2021).
 * scr_mg_dl: serum creatinine, mg/dL, > 0. age_y: years, 18..120 (the
 * equation was developed in adults; other ages are rejected, not clamped).
 * sex: enum algo_kidney_sex.
 * OUT: *out_egfr in mL/min/1.73 m2 (unrounded).
 * Returns ALGO_OK or ALGO_EINVAL (NULL out, non-finite or out-of-range
 * input, bad sex, non-finite result). Pure; thread-safe. */
int algo_kidney_egfr_cr(double scr_mg_dl, double age_y, int sex,
                        double *out_egfr);

/* CKD-EPI 2021 creatinine-cystatin C equation.
 * scys_mg_l: serum cystatin C, mg/L, > 0. Other arguments and return codes
 * as algo_kidney_egfr_cr(). Pure; thread-safe. */
int algo_kidney_egfr_cr_cys(double scr_mg_dl, double scys_mg_l,
                            double age_y, int sex, double *out_egfr);

/* KDIGO G category of an eGFR (>= 0, finite).
 * OUT: *out_g (enum algo_kidney_g). Returns ALGO_OK or ALGO_EINVAL. */
int algo_kidney_g_category(double egfr, int *out_g);

/* KDIGO A category of an ACR in mg/g (>= 0, finite); 30 and 300 are A2.
 * OUT: *out_a (enum algo_kidney_a). Returns ALGO_OK or ALGO_EINVAL. */
int algo_kidney_a_category(double acr_mg_g, int *out_a);

/* As algo_kidney_a_category() for an ACR in mg/mmol, using KDIGO's own
 * mg/mmol cut-offs (3 and 30, both A2) rather than converting to mg/g.
 * OUT: *out_a. Returns ALGO_OK or ALGO_EINVAL. */
int algo_kidney_a_category_mg_mmol(double acr_mg_mmol, int *out_a);

/* KDIGO heat-map colour for a (G, A) pair.
 * OUT: *out_risk (enum algo_kidney_risk). Returns ALGO_OK or ALGO_EINVAL
 * for a category outside the enums. */
int algo_kidney_risk(int g, int a, int *out_risk);

/* Suggested number of monitoring visits per year (KDIGO 2012 heat map).
 * OUT: *out_per_year (1..4) and *out_at_least (1 when the figure reads
 * "4+", i.e. 4 is a minimum). For G1/G2 + A1 the figure says "1 if CKD":
 * 1 is returned; whether CKD is present is the caller's judgement.
 * Returns ALGO_OK or ALGO_EINVAL. */
int algo_kidney_monitoring(int g, int a, int *out_per_year,
                           int *out_at_least);

/* Static names ("G3a", "A2", "very high"); never NULL ("?" if unknown). */
const char *algo_kidney_g_name(int g);
const char *algo_kidney_a_name(int a);
const char *algo_kidney_risk_name(int risk);

#endif
