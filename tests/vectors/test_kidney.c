/* test_kidney.c - CKD-EPI 2021 vectors from the clinical reference, KDIGO
 * band edges, heat map and monitoring grid, and an extreme-input sweep. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kidney.h"
#include "vg_check.h"

/* Clinical reference s6 vectors; tolerance +-0.1 mL/min/1.73 m2. */
static void test_egfr_vectors(void)
{
  static const struct {
    int sex;
    double age, scr, want;
  } v[] = {
    { ALGO_KIDNEY_MALE, 55, 1.2, 71.4 },
    { ALGO_KIDNEY_FEMALE, 60, 1.0, 64.5 },
    { ALGO_KIDNEY_FEMALE, 50, 0.6, 109.3 },
  };
  size_t i;
  printf("CKD-EPI 2021 creatinine (tolerance +-0.1):\n");
  for (i = 0; i < sizeof v / sizeof v[0]; i++) {
    double e = -1;
    int rc = algo_kidney_egfr_cr(v[i].scr, v[i].age, v[i].sex, &e);
    printf("  %s %2.0f y Scr %.1f -> %.3f (want %.1f) %s\n",
           v[i].sex ? "F" : "M", v[i].age, v[i].scr, e, v[i].want,
           rc == 0 && fabs(e - v[i].want) <= 0.1 ? "ok" : "FAIL");
    check(rc == 0 && fabs(e - v[i].want) <= 0.1, "egfr_cr vector");
  }
}

/* Creatinine-cystatin C: no published vector in the reference, so check the
 * equation's anchor points computed by hand from its constants: at Scr =
 * kappa and Scys = 0.8 every min/max factor is 1, leaving 135 x 0.9961^age
 * (x0.963 female); and the 0.8 knot is continuous. Tolerance 1e-9. */
static void test_cys(void)
{
  double e, lo, hi, want;
  int rc = algo_kidney_egfr_cr_cys(0.9, 0.8, 40, ALGO_KIDNEY_MALE, &e);
  want = 135.0 * pow(0.9961, 40);
  printf("CKD-EPI 2021 cr-cys anchor M 40 y: %.6f (want %.6f)\n", e, want);
  check(rc == 0 && fabs(e - want) < 1e-9, "cr_cys male anchor");
  rc = algo_kidney_egfr_cr_cys(0.7, 0.8, 70, ALGO_KIDNEY_FEMALE, &e);
  want = 135.0 * pow(0.9961, 70) * 0.963;
  printf("CKD-EPI 2021 cr-cys anchor F 70 y: %.6f (want %.6f)\n", e, want);
  check(rc == 0 && fabs(e - want) < 1e-9, "cr_cys female anchor");
  /* Scys 1.6 (twice the knot), male at kappa: 135 x 2^-0.778 x 0.9961^50 */
  rc = algo_kidney_egfr_cr_cys(0.9, 1.6, 50, ALGO_KIDNEY_MALE, &e);
  want = 135.0 * pow(2.0, -0.778) * pow(0.9961, 50);
  printf("CKD-EPI 2021 cr-cys M 50 y Scys 1.6: %.6f (want %.6f)\n", e, want);
  check(rc == 0 && fabs(e - want) < 1e-9, "cr_cys high cys");
  algo_kidney_egfr_cr_cys(0.9, 0.8 - 1e-9, 50, ALGO_KIDNEY_MALE, &lo);
  algo_kidney_egfr_cr_cys(0.9, 0.8 + 1e-9, 50, ALGO_KIDNEY_MALE, &hi);
  check(fabs(lo - hi) < 1e-6, "cr_cys continuous at Scys 0.8");
}

static void test_units(void)
{
  double mg = 0, e = 0;
  int rc = algo_kidney_scr_umol_to_mg_dl(106.08, &mg);
  printf("106.08 umol/L -> %.6f mg/dL (want 1.2)\n", mg);
  check(rc == 0 && fabs(mg - 1.2) < 1e-12, "umol helper");
  algo_kidney_egfr_cr(mg, 55, ALGO_KIDNEY_MALE, &e);
  check(fabs(e - 71.4) <= 0.1, "umol path gives same eGFR");
  check(algo_kidney_scr_umol_to_mg_dl(0, &mg) == ALGO_EINVAL, "umol 0");
  check(algo_kidney_egfr_cr(1.0, 17.9, 0, &e) == ALGO_EINVAL, "age < 18");
  check(algo_kidney_egfr_cr(1.0, 50, 2, &e) == ALGO_EINVAL, "bad sex");
}

/* KDIGO 2012 edges: each band's lower bound is in the band, the value just
 * below is in the next band down. */
static void test_bands(void)
{
  static const struct {
    double egfr;
    int g;
  } gv[] = {
    { 200, ALGO_KIDNEY_G1 },   { 90, ALGO_KIDNEY_G1 },
    { 89.999, ALGO_KIDNEY_G2 }, { 60, ALGO_KIDNEY_G2 },
    { 59.999, ALGO_KIDNEY_G3A }, { 45, ALGO_KIDNEY_G3A },
    { 44.999, ALGO_KIDNEY_G3B }, { 30, ALGO_KIDNEY_G3B },
    { 29.999, ALGO_KIDNEY_G4 }, { 15, ALGO_KIDNEY_G4 },
    { 14.999, ALGO_KIDNEY_G5 }, { 0, ALGO_KIDNEY_G5 },
  };
  static const struct {
    double acr;
    int a_mg_g, a_mg_mmol;
  } av[] = {
    { 0, 1, 1 },      { 2.999, 1, 1 }, { 3, 1, 2 },   { 29.999, 1, 2 },
    { 30, 2, 2 },     { 30.001, 2, 3 }, { 300, 2, 3 }, { 300.001, 3, 3 },
  };
  size_t i;
  int g, a, n_ok = 0, n = 0;
  for (i = 0; i < sizeof gv / sizeof gv[0]; i++) {
    n++;
    if (algo_kidney_g_category(gv[i].egfr, &g) == 0 && g == gv[i].g)
      n_ok++;
    else
      printf("FAIL: eGFR %.3f -> %s\n", gv[i].egfr, algo_kidney_g_name(g));
  }
  for (i = 0; i < sizeof av / sizeof av[0]; i++) {
    n += 2;
    if (algo_kidney_a_category(av[i].acr, &a) == 0 && a == av[i].a_mg_g)
      n_ok++;
    if (algo_kidney_a_category_mg_mmol(av[i].acr, &a) == 0 &&
        a == av[i].a_mg_mmol)
      n_ok++;
  }
  printf("KDIGO band edges: %d/%d\n", n_ok, n);
  check(n_ok == n, "KDIGO band edges");
  check(algo_kidney_g_category(-1, &g) == ALGO_EINVAL, "negative eGFR");
}

/* Heat map and visit grid as printed in the clinical reference s6. */
static void test_heat_map(void)
{
  static const char *const colour[5][3] = {
    { "low", "moderate", "high" },
    { "moderate", "high", "very high" },
    { "high", "very high", "very high" },
    { "very high", "very high", "very high" },
    { "very high", "very high", "very high" },
  };
  static const int visits[5][3] = {
    { 1, 1, 2 }, { 1, 2, 3 }, { 2, 3, 3 }, { 3, 3, 4 }, { 4, 4, 4 },
  };
  int g, a, n_ok = 0, n = 0;
  for (g = ALGO_KIDNEY_G1; g <= ALGO_KIDNEY_G5; g++) {
    int row = g <= ALGO_KIDNEY_G2 ? 0 : g - 2;
    for (a = ALGO_KIDNEY_A1; a <= ALGO_KIDNEY_A3; a++) {
      int r = -1, v = -1, plus = -1, ok;
      algo_kidney_risk(g, a, &r);
      algo_kidney_monitoring(g, a, &v, &plus);
      ok = r >= 0 && !strcmp(algo_kidney_risk_name(r),
                                 colour[row][a - 1]) &&
           v == visits[row][a - 1] && plus == (v == 4);
      n++;
      n_ok += ok;
      printf("  %-3s %s: %-9s %d%s/yr %s\n", algo_kidney_g_name(g),
             algo_kidney_a_name(a), algo_kidney_risk_name(r), v,
             plus ? "+" : "", ok ? "" : "FAIL");
    }
  }
  printf("KDIGO heat map + monitoring cells: %d/%d\n", n_ok, n);
  check(n_ok == n, "heat map");
  check(algo_kidney_risk(0, 1, &g) == ALGO_EINVAL, "bad G");
}

/* Fuzz-safety: every public function, given extreme finite doubles, returns
 * an error code or a finite result; never NaN/inf with ALGO_OK. */
static void test_extremes(void)
{
  static const double x[] = { 0.0, -0.0, -1.0, -1e300, 1e300, DBL_MIN,
                              DBL_MIN / 4, 4.9e-324, DBL_MAX, 1.0, 18.0,
                              120.0, 55.0 };
  size_t nx = sizeof x / sizeof x[0], i, j, k;
  int s, n = 0, bad = 0;
  for (i = 0; i < nx; i++) {
    double o = 0;
    int iv;
    if (algo_kidney_scr_umol_to_mg_dl(x[i], &o) == 0 && !isfinite(o))
      bad++;
    if (algo_kidney_g_category(x[i], &iv) == 0 && (iv < 1 || iv > 6))
      bad++;
    if (algo_kidney_a_category(x[i], &iv) == 0 && (iv < 1 || iv > 3))
      bad++;
    n += 3;
    for (j = 0; j < nx; j++)
      for (s = 0; s < 2; s++) {
        n++;
        if (algo_kidney_egfr_cr(x[i], x[j], s, &o) == 0 && !isfinite(o))
          bad++;
        for (k = 0; k < nx; k++) {
          n++;
          if (algo_kidney_egfr_cr_cys(x[i], x[k], x[j], s, &o) == 0 &&
              !isfinite(o))
            bad++;
        }
      }
  }
  printf("extreme-input sweep: %d calls, %d non-finite results\n", n, bad);
  check(bad == 0, "extreme inputs");
}

int main(void)
{
  test_egfr_vectors();
  test_cys();
  test_units();
  test_bands();
  test_heat_map();
  test_extremes();
  printf("%d checks, %d failed\n", g_checks, g_fail);
  return g_fail != 0;
}
