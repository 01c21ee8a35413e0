/* kidney.c - CKD-EPI 2021 eGFR (creatinine; creatinine-cystatin C) and the
 * KDIGO 2012 G/A categories, heat-map colour and monitoring frequency. */
#include "kidney.h"

#include <math.h>
#include <stddef.h>

/* Creatinine conversion: 1 mg/dL = 88.4 umol/L (Inker, NEJM 2021). */
#define SCR_UMOL_PER_MG_DL 88.4

static int valid_common(double scr_mg_dl, double age_y, int sex,
                        const double *out)
{
  if (!out || !isfinite(scr_mg_dl) || !isfinite(age_y))
    return 0;
  if (scr_mg_dl <= 0.0 || age_y < 18.0 || age_y > 120.0)
    return 0;
  return sex == ALGO_KIDNEY_MALE || sex == ALGO_KIDNEY_FEMALE;
}

int algo_kidney_scr_umol_to_mg_dl(double scr_umol_l, double *out_mg_dl)
{
  if (!out_mg_dl || !isfinite(scr_umol_l) || scr_umol_l <= 0.0)
    return ALGO_EINVAL;
  *out_mg_dl = scr_umol_l / SCR_UMOL_PER_MG_DL;
  return ALGO_OK;
}

int algo_kidney_egfr_cr(double scr_mg_dl, double age_y, int sex,
                        double *out_egfr)
{
  /* Inker LA et al., NEJM 2021;385:1737-49: 142, kappa 0.7/0.9,
   * alpha -0.241/-0.302, -1.200, 0.9938^age, x1.012 female. */
  int female = sex == ALGO_KIDNEY_FEMALE;
  double kappa = female ? 0.7 : 0.9;
  double alpha = female ? -0.241 : -0.302;
  double r, e;

  if (!valid_common(scr_mg_dl, age_y, sex, out_egfr))
    return ALGO_EINVAL;
  r = scr_mg_dl / kappa;
  e = 142.0 * pow(fmin(r, 1.0), alpha) * pow(fmax(r, 1.0), -1.200) *
      pow(0.9938, age_y) * (female ? 1.012 : 1.0);
  if (!isfinite(e))
    return ALGO_EINVAL;
  *out_egfr = e;
  return ALGO_OK;
}

int algo_kidney_egfr_cr_cys(double scr_mg_dl, double scys_mg_l,
                            double age_y, int sex, double *out_egfr)
{
  /* Inker 2021 creatinine-cystatin C: 135, alpha -0.219/-0.144, -0.544,
   * cys/0.8 ^ -0.323 / -0.778, 0.9961^age, x0.963 female. */
  int female = sex == ALGO_KIDNEY_FEMALE;
  double kappa = female ? 0.7 : 0.9;
  double alpha = female ? -0.219 : -0.144;
  double r, c, e;

  if (!valid_common(scr_mg_dl, age_y, sex, out_egfr))
    return ALGO_EINVAL;
  if (!isfinite(scys_mg_l) || scys_mg_l <= 0.0)
    return ALGO_EINVAL;
  r = scr_mg_dl / kappa;
  c = scys_mg_l / 0.8;
  e = 135.0 * pow(fmin(r, 1.0), alpha) * pow(fmax(r, 1.0), -0.544) *
      pow(fmin(c, 1.0), -0.323) * pow(fmax(c, 1.0), -0.778) *
      pow(0.9961, age_y) * (female ? 0.963 : 1.0);
  if (!isfinite(e))
    return ALGO_EINVAL;
  *out_egfr = e;
  return ALGO_OK;
}

int algo_kidney_g_category(double egfr, int *out_g)
{
  /* KDIGO 2012 GFR bands; a band's lower bound belongs to it. */
  if (!out_g || !isfinite(egfr) || egfr < 0.0)
    return ALGO_EINVAL;
  if (egfr >= 90.0)
    *out_g = ALGO_KIDNEY_G1;
  else if (egfr >= 60.0)
    *out_g = ALGO_KIDNEY_G2;
  else if (egfr >= 45.0)
    *out_g = ALGO_KIDNEY_G3A;
  else if (egfr >= 30.0)
    *out_g = ALGO_KIDNEY_G3B;
  else if (egfr >= 15.0)
    *out_g = ALGO_KIDNEY_G4;
  else
    *out_g = ALGO_KIDNEY_G5;
  return ALGO_OK;
}

static int a_category(double acr, double lo, double hi, int *out_a)
{
  /* KDIGO: A1 < lo, A2 lo..hi inclusive, A3 > hi. */
  if (!out_a || !isfinite(acr) || acr < 0.0)
    return ALGO_EINVAL;
  if (acr < lo)
    *out_a = ALGO_KIDNEY_A1;
  else if (acr <= hi)
    *out_a = ALGO_KIDNEY_A2;
  else
    *out_a = ALGO_KIDNEY_A3;
  return ALGO_OK;
}

int algo_kidney_a_category(double acr_mg_g, int *out_a)
{
  return a_category(acr_mg_g, 30.0, 300.0, out_a);
}

int algo_kidney_a_category_mg_mmol(double acr_mg_mmol, int *out_a)
{
  return a_category(acr_mg_mmol, 3.0, 30.0, out_a);
}

/* KDIGO 2012 heat map, rows G1..G5 (G1 and G2 share a row), cols A1..A3. */
static const unsigned char heat_risk[6][3] = {
  { ALGO_KIDNEY_RISK_LOW, ALGO_KIDNEY_RISK_MODERATE, ALGO_KIDNEY_RISK_HIGH },
  { ALGO_KIDNEY_RISK_LOW, ALGO_KIDNEY_RISK_MODERATE, ALGO_KIDNEY_RISK_HIGH },
  { ALGO_KIDNEY_RISK_MODERATE, ALGO_KIDNEY_RISK_HIGH,
    ALGO_KIDNEY_RISK_VERY_HIGH },
  { ALGO_KIDNEY_RISK_HIGH, ALGO_KIDNEY_RISK_VERY_HIGH,
    ALGO_KIDNEY_RISK_VERY_HIGH },
  { ALGO_KIDNEY_RISK_VERY_HIGH, ALGO_KIDNEY_RISK_VERY_HIGH,
    ALGO_KIDNEY_RISK_VERY_HIGH },
  { ALGO_KIDNEY_RISK_VERY_HIGH, ALGO_KIDNEY_RISK_VERY_HIGH,
    ALGO_KIDNEY_RISK_VERY_HIGH },
};

/* KDIGO 2012 monitoring visits per year; 4 in G4/A3 and G5 means "4+". */
static const unsigned char heat_visits[6][3] = {
  { 1, 1, 2 }, { 1, 1, 2 }, { 1, 2, 3 }, { 2, 3, 3 }, { 3, 3, 4 }, { 4, 4, 4 },
};

static int ga_valid(int g, int a)
{
  return g >= ALGO_KIDNEY_G1 && g <= ALGO_KIDNEY_G5 &&
         a >= ALGO_KIDNEY_A1 && a <= ALGO_KIDNEY_A3;
}

int algo_kidney_risk(int g, int a, int *out_risk)
{
  if (!out_risk || !ga_valid(g, a))
    return ALGO_EINVAL;
  *out_risk = heat_risk[g - 1][a - 1];
  return ALGO_OK;
}

int algo_kidney_monitoring(int g, int a, int *out_per_year,
                           int *out_at_least)
{
  if (!out_per_year || !out_at_least || !ga_valid(g, a))
    return ALGO_EINVAL;
  *out_per_year = heat_visits[g - 1][a - 1];
  *out_at_least = *out_per_year == 4;
  return ALGO_OK;
}

const char *algo_kidney_g_name(int g)
{
  static const char *const names[] = { "G1", "G2", "G3a", "G3b", "G4",
                                       "G5" };
  return g >= ALGO_KIDNEY_G1 && g <= ALGO_KIDNEY_G5 ? names[g - 1] : "?";
}

const char *algo_kidney_a_name(int a)
{
  static const char *const names[] = { "A1", "A2", "A3" };
  return a >= ALGO_KIDNEY_A1 && a <= ALGO_KIDNEY_A3 ? names[a - 1] : "?";
}

const char *algo_kidney_risk_name(int risk)
{
  static const char *const names[] = { "low", "moderate", "high",
                                       "very high" };
  return risk >= ALGO_KIDNEY_RISK_LOW && risk <= ALGO_KIDNEY_RISK_VERY_HIGH
             ? names[risk]
             : "?";
}
