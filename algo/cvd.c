/* cvd.c - 10-year CVD risk: 2013 Pooled Cohort Equations and the WHO 2019
 * lab / non-lab models (continuous, recalibrated, and chart lookup). */
#include "cvd.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "cvd_int.h"

static int is_flag(int v)
{
  return v == 0 || v == 1;
}

static int in_range(double v, double lo, double hi)
{
  return isfinite(v) && v >= lo && v <= hi;
}

/* ======================================================================
 * Pooled Cohort Equations
 * ==================================================================== */

/* Coefficients of one sex/race group, in the order of Goff 2014 Table A. */
struct pce_coef {
  double ln_age, ln_age_sq, ln_tc, ln_age_ln_tc, ln_hdl, ln_age_ln_hdl;
  double ln_tsbp, ln_age_ln_tsbp, ln_usbp, ln_age_ln_usbp;
  double smoker, ln_age_smoker, diabetes, mean_sum, s10;
};

/* Goff DC Jr et al., Circulation 2014;129(Suppl 2):S49-73, App. 7 Table A.
 * Index [sex][race]. */
static const struct pce_coef pce_coefs[2][2] = {
  { /* male */
    { 12.344, 0, 11.853, -2.664, -7.990, 1.769, 1.797, 0, 1.764, 0,
      7.837, -1.795, 0.658, 61.18, 0.9144 },          /* white */
    { 2.469, 0, 0.302, 0, -0.307, 0, 1.916, 0, 1.809, 0, 0.549, 0, 0.645,
      19.54, 0.8954 } },                             /* African American */
  { /* female */
    { -29.799, 4.884, 13.540, -3.114, -13.578, 3.149, 2.019, 0, 1.957, 0,
      7.574, -1.665, 0.661, -29.18, 0.9665 },         /* white */
    { 17.114, 0, 0.940, 0, -18.920, 4.475, 29.291, -6.432, 27.820, -6.087,
      0.691, 0, 0.874, 86.61, 0.9533 } },            /* African American */
};

int algo_cvd_pce(const struct algo_cvd_pce_in *in,
                 struct algo_cvd_pce_out *out)
{
  const struct pce_coef *k;
  double la, lt, lh, ls, sum, risk;
  unsigned range = 0;

  if (!in || !out)
    return ALGO_EINVAL;
  if (!is_flag(in->sex) || !is_flag(in->race) || !is_flag(in->bp_treated) ||
      !is_flag(in->smoker) || !is_flag(in->diabetes))
    return ALGO_EINVAL;
  if (!in_range(in->age_y, 1, 120) || !in_range(in->tc_mg_dl, 20, 1000) ||
      !in_range(in->hdl_mg_dl, 1, 500) || !in_range(in->sbp_mmhg, 40, 350))
    return ALGO_EINVAL;

  /* Validated ranges (ACC/AHA calculator): report, never clamp. */
  if (in->age_y < 40 || in->age_y > 79)
    range |= ALGO_CVD_PCE_RANGE_AGE;
  if (in->tc_mg_dl < 130 || in->tc_mg_dl > 320)
    range |= ALGO_CVD_PCE_RANGE_TC;
  if (in->hdl_mg_dl < 20 || in->hdl_mg_dl > 100)
    range |= ALGO_CVD_PCE_RANGE_HDL;
  if (in->sbp_mmhg < 90 || in->sbp_mmhg > 200)
    range |= ALGO_CVD_PCE_RANGE_SBP;

  k = &pce_coefs[in->sex][in->race];
  la = log(in->age_y);
  lt = log(in->tc_mg_dl);
  lh = log(in->hdl_mg_dl);
  ls = log(in->sbp_mmhg);
  sum = k->ln_age * la + k->ln_age_sq * la * la + k->ln_tc * lt +
        k->ln_age_ln_tc * la * lt + k->ln_hdl * lh +
        k->ln_age_ln_hdl * la * lh + k->diabetes * in->diabetes;
  if (in->bp_treated)
    sum += k->ln_tsbp * ls + k->ln_age_ln_tsbp * la * ls;
  else
    sum += k->ln_usbp * ls + k->ln_age_ln_usbp * la * ls;
  if (in->smoker)
    sum += k->smoker + k->ln_age_smoker * la;

  risk = 100.0 * (1.0 - pow(k->s10, exp(sum - k->mean_sum)));
  if (!isfinite(risk))
    return ALGO_EINVAL;
  out->risk_pct = risk;
  out->ind_sum = sum;
  out->out_of_range = range;
  /* 2019 ACC/AHA primary prevention: <5, 5-<7.5, 7.5-<20, >=20 %. */
  if (risk < 5.0)
    out->category = ALGO_CVD_PCE_LOW;
  else if (risk < 7.5)
    out->category = ALGO_CVD_PCE_BORDERLINE;
  else if (risk < 20.0)
    out->category = ALGO_CVD_PCE_INTERMEDIATE;
  else
    out->category = ALGO_CVD_PCE_HIGH;
  return ALGO_OK;
}

/* ======================================================================
 * WHO 2019
 * ==================================================================== */

int algo_cvd_who_region_from_code(const char *code, int *out_region)
{
  int i;
  if (!code || !out_region)
    return ALGO_EINVAL;
  for (i = 0; i < ALGO_CVD_WHO_N_REGIONS; i++)
    if (strcmp(code, cvd_who_regions[i].code) == 0) {
      *out_region = i + 1;
      return ALGO_OK;
    }
  return ALGO_EINVAL;
}

const char *algo_cvd_who_region_code(int region)
{
  if (region < 1 || region > ALGO_CVD_WHO_N_REGIONS)
    return "?";
  return cvd_who_regions[region - 1].code;
}

static int cal_from(const struct cvd_who_region *r, int model, int sex,
                    struct algo_cvd_who_cal *out)
{
  const struct cvd_who_cal_row *row;
  if (!out || !is_flag(model) || !is_flag(sex))
    return ALGO_EINVAL;
  row = &r->sex[sex];
  out->chd_cons = row->v[model][0][0];
  out->chd_slope = row->v[model][0][1];
  out->stroke_cons = row->v[model][1][0];
  out->stroke_slope = row->v[model][1][1];
  return ALGO_OK;
}

int algo_cvd_who_region_cal(int model, int region, int sex,
                            struct algo_cvd_who_cal *out)
{
  if (region < 1 || region > ALGO_CVD_WHO_N_REGIONS)
    return ALGO_EINVAL;
  return cal_from(&cvd_who_regions[region - 1], model, sex, out);
}

int algo_cvd_who_country_cal(const char *iso3, int model, int sex,
                             struct algo_cvd_who_cal *out)
{
  if (!iso3 || strcmp(iso3, cvd_who_country_chn.code) != 0)
    return ALGO_EINVAL;
  return cal_from(&cvd_who_country_chn, model, sex, out);
}

static int who_valid(int model, const struct algo_cvd_who_in *in)
{
  if (!in || !is_flag(model) || !is_flag(in->sex) || !is_flag(in->smoker))
    return 0;
  if (!in_range(in->age_y, 1, 120) || !in_range(in->sbp_mmhg, 40, 350))
    return 0;
  if (model == ALGO_CVD_WHO_LAB)
    return in_range(in->tc_mmol_l, 0.5, 30) && is_flag(in->diabetes);
  return in_range(in->bmi_kg_m2, 5, 100);
}

/* Recalibrated risk (fraction) of one endpoint. The uncalibrated risk is
 * p = 1 - S0^exp(lp), so ln(-ln(1 - p)) = lp + ln(-ln S0) exactly; using
 * that form avoids cancellation in 1 - p for small risks. */
static double who_endpoint(const struct cvd_who_coef *k, int model,
                           double age, double sbp, double x, int smk, int dm,
                           double cons, double slope)
{
  double a = age - 60.0;
  double s = sbp - 120.0;
  double c = x - (model == ALGO_CVD_WHO_LAB ? 6.0 : 25.0);
  double lp = k->age * a + k->x * c + k->sbp * s + k->smk * smk +
              k->age_x * a * c + k->age_sbp * a * s + k->age_smk * a * smk;
  if (model == ALGO_CVD_WHO_LAB)
    lp += k->dm * dm + k->age_dm * a * dm;
  return 1.0 - exp(-exp(cons + slope * (lp + log(-log(k->s0)))));
}

static int who_compute(int model, const struct algo_cvd_who_cal *cal,
                       int sex, double age, double sbp, double x, int smk,
                       int dm, double *chd, double *stroke, double *cvd)
{
  *chd = who_endpoint(&cvd_who_coefs[model][0][sex], model, age, sbp, x, smk,
                      dm, cal->chd_cons, cal->chd_slope);
  *stroke = who_endpoint(&cvd_who_coefs[model][1][sex], model, age, sbp, x,
                         smk, dm, cal->stroke_cons, cal->stroke_slope);
  *cvd = 1.0 - (1.0 - *chd) * (1.0 - *stroke);
  return isfinite(*cvd) ? ALGO_OK : ALGO_EINVAL;
}

int algo_cvd_who_risk(int model, const struct algo_cvd_who_cal *cal,
                      const struct algo_cvd_who_in *in,
                      struct algo_cvd_who_out *out)
{
  double chd, stroke, cvd, x;
  int dm, rc;

  if (!cal || !out || !who_valid(model, in))
    return ALGO_EINVAL;
  if (!isfinite(cal->chd_cons) || !isfinite(cal->chd_slope) ||
      !isfinite(cal->stroke_cons) || !isfinite(cal->stroke_slope))
    return ALGO_EINVAL;
  x = model == ALGO_CVD_WHO_LAB ? in->tc_mmol_l : in->bmi_kg_m2;
  dm = model == ALGO_CVD_WHO_LAB ? in->diabetes : 0;
  rc = who_compute(model, cal, in->sex, in->age_y, in->sbp_mmhg, x,
                   in->smoker, dm, &chd, &stroke, &cvd);
  if (rc != ALGO_OK)
    return rc;
  out->chd_pct = 100.0 * chd;
  out->stroke_pct = 100.0 * stroke;
  out->cvd_pct = 100.0 * cvd;
  out->out_of_range = in->age_y < 40 || in->age_y >= 75
                          ? ALGO_CVD_WHO_RANGE_AGE
                          : 0;
  return ALGO_OK;
}

/* Band index of v against ascending lower bounds lo[0..n-1]: the count of
 * bounds <= v (lower bound inclusive, as the printed chart reads). */
static int band_of(double v, const double *lo, int n)
{
  int i = 0;
  while (i < n && v >= lo[i])
    i++;
  return i;
}

int algo_cvd_who_chart(int model, int region,
                       const struct algo_cvd_who_in *in,
                       struct algo_cvd_who_chart_out *out)
{
  /* Chart grid and mid-points: shared/data/07 README (WHO 2019 charts). */
  static const double age_lo[] = { 45, 50, 55, 60, 65, 70 };
  static const double sbp_lo[] = { 120, 140, 160, 180 };
  static const double tc_lo[] = { 4, 5, 6, 7 };
  static const double bmi_lo[] = { 20, 25, 30, 35 };
  static const double sbp_mid[] = { 110, 130, 150, 170, 190 };
  static const double tc_mid[] = { 3.5, 4.5, 5.5, 6.5, 7.5 };
  static const double bmi_mid[] = { 17.5, 22.5, 27.5, 32.5, 37.5 };
  struct algo_cvd_who_cal cal;
  double chd, stroke, cvd, x, pct;
  int rc, ab, sb, xb, lab = model == ALGO_CVD_WHO_LAB;

  if (!out || !who_valid(model, in))
    return ALGO_EINVAL;
  rc = algo_cvd_who_region_cal(model, region, in->sex, &cal);
  if (rc != ALGO_OK)
    return rc;
  ab = band_of(in->age_y, age_lo, 6);
  sb = band_of(in->sbp_mmhg, sbp_lo, 4);
  xb = lab ? band_of(in->tc_mmol_l, tc_lo, 4)
           : band_of(in->bmi_kg_m2, bmi_lo, 4);
  x = lab ? tc_mid[xb] : bmi_mid[xb];
  rc = who_compute(model, &cal, in->sex, 42.5 + 5.0 * ab, sbp_mid[sb], x,
                   in->smoker, lab ? in->diabetes : 0, &chd, &stroke, &cvd);
  if (rc != ALGO_OK)
    return rc;
  /* Printed cells are integers rounded half-up. */
  pct = floor(100.0 * cvd + 0.5);
  out->risk_pct = (int)pct;
  out->band = out->risk_pct < 5    ? ALGO_CVD_WHO_BAND_LT5
              : out->risk_pct < 10 ? ALGO_CVD_WHO_BAND_5_10
              : out->risk_pct < 20 ? ALGO_CVD_WHO_BAND_10_20
              : out->risk_pct < 30 ? ALGO_CVD_WHO_BAND_20_30
                                   : ALGO_CVD_WHO_BAND_GE30;
  out->age_band = ab;
  out->sbp_band = sb;
  out->x_band = xb;
  out->out_of_range = in->age_y < 40 || in->age_y >= 75
                          ? ALGO_CVD_WHO_RANGE_AGE
                          : 0;
  return ALGO_OK;
}
