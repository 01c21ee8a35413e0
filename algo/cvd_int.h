/* cvd_int.h - internals shared by cvd.c and cvd_who_tables.c: the WHO 2019
 * model coefficients and recalibration tables. Not a public interface. */
#ifndef VG_ALGO_CVD_INT_H
#define VG_ALGO_CVD_INT_H

/* One sex-specific WHO 2019 Cox model for one endpoint. "x" is total
 * cholesterol (lab model, centred at 6 mmol/L) or BMI (non-lab, centred at
 * 25 kg/m2). dm and age_dm are 0 in the non-lab model. */
struct cvd_who_coef {
  double age, x, sbp, dm, smk, age_x, age_sbp, age_dm, age_smk, s0;
};

/* Recalibration (cons, slope) per model, endpoint. Index order:
 * [model: 0 lab, 1 non-lab][endpoint: 0 CHD, 1 stroke][0 cons, 1 slope]. */
struct cvd_who_cal_row {
  double v[2][2][2];
};

/* One GBD region: code and name as in the WHO file, [sex 0 male, 1 female]. */
struct cvd_who_region {
  const char *code;
  const char *name;
  struct cvd_who_cal_row sex[2];
};

/* [model][endpoint][sex], same index meaning as above. */
extern const struct cvd_who_coef cvd_who_coefs[2][2][2];
/* GBD region ids 1..21 at index 0..20. */
extern const struct cvd_who_region cvd_who_regions[21];
/* Country-level recalibration for China (iso3 CHN). */
extern const struct cvd_who_region cvd_who_country_chn;

#endif
