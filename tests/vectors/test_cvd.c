/* test_cvd.c - PCE worked example, WHO 2019 continuous test vectors, lab and
 * non-lab chart reproduction cell for cell for all 21 regions, East Asia
 * anchors, validity flags and an extreme-input sweep. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvd.h"
#include "vg_check.h"
#include "vg_testdata.h"

/* ---- tiny CSV helpers (test-side only) ---------------------------------- */

/* Split line in place at commas, strip double quotes and CR/LF.
 * Returns the field count (at most max). */
static int split_csv(char *line, char **f, int max)
{
  int n = 0;
  char *p = line, *w;
  while (n < max) {
    f[n++] = p;
    w = p;
    while (*p && *p != ',') {
      if (*p != '"' && *p != '\r' && *p != '\n')
        *w++ = *p;
      p++;
    }
    if (!*p) {
      *w = '\0';
      break;
    }
    *w = '\0';
    p++;
  }
  return n;
}

static double num(const char *s)
{
  return strtod(s, NULL);
}

static int label_index(const char *s, const char *const *labels, int n)
{
  int i;
  for (i = 0; i < n; i++)
    if (strcmp(s, labels[i]) == 0)
      return i;
  return -1;
}

/* ---- Pooled Cohort Equations ----------------------------------------- */

/* Goff 2014 worked example: 55 y, TC 213, HDL 50, untreated SBP 120,
 * non-smoker, no diabetes. Published risk 2.1/3.0/5.3/6.1 % (WF, AAF, WM,
 * AAM) and IndSum -29.67/86.16/60.69/18.97. Tolerance +-0.1 percentage
 * point on risk (the published figures are rounded). */
static void test_pce(void)
{
  static const struct {
    const char *name;
    int sex, race;
    double want_pct, want_sum;
  } g[] = {
    { "white female", ALGO_CVD_FEMALE, ALGO_CVD_RACE_WHITE_OTHER, 2.1,
      -29.67 },
    { "AA female", ALGO_CVD_FEMALE, ALGO_CVD_RACE_AFRICAN_AMERICAN, 3.0,
      86.16 },
    { "white male", ALGO_CVD_MALE, ALGO_CVD_RACE_WHITE_OTHER, 5.3, 60.69 },
    { "AA male", ALGO_CVD_MALE, ALGO_CVD_RACE_AFRICAN_AMERICAN, 6.1, 18.97 },
  };
  struct algo_cvd_pce_in in = { 0, 0, 55, 213, 50, 120, 0, 0, 0 };
  struct algo_cvd_pce_out out;
  size_t i;
  int rc;
  printf("PCE worked example (tolerance +-0.1 pp):\n");
  for (i = 0; i < 4; i++) {
    in.sex = g[i].sex;
    in.race = g[i].race;
    rc = algo_cvd_pce(&in, &out);
    printf("  %-12s IndSum %8.3f (pub %6.2f) risk %.3f%% (pub %.1f%%) %s\n",
           g[i].name, out.ind_sum, g[i].want_sum, out.risk_pct,
           g[i].want_pct,
           rc == 0 && fabs(out.risk_pct - g[i].want_pct) <= 0.1 ? "ok"
                                                               : "FAIL");
    check(rc == 0 && fabs(out.risk_pct - g[i].want_pct) <= 0.1, "PCE");
    check(fabs(out.ind_sum - g[i].want_sum) <= 0.015, "PCE IndSum");
    check(out.out_of_range == 0 && out.category == (i < 2 ? 0 : 1),
          "PCE range/category");
  }
  /* Out-of-range inputs are flagged, not clamped: age 35 must give a
   * different risk than age 40. */
  {
    struct algo_cvd_pce_out o40;
    in.sex = ALGO_CVD_MALE;
    in.race = ALGO_CVD_RACE_WHITE_OTHER;
    in.age_y = 35;
    in.hdl_mg_dl = 110;
    rc = algo_cvd_pce(&in, &out);
    in.age_y = 40;
    algo_cvd_pce(&in, &o40);
    printf("  WM age 35 HDL 110: risk %.3f%% flags 0x%x (age 40: %.3f%% "
           "flags 0x%x)\n", out.risk_pct, out.out_of_range, o40.risk_pct,
           o40.out_of_range);
    check(rc == 0 &&
              out.out_of_range ==
                  (ALGO_CVD_PCE_RANGE_AGE | ALGO_CVD_PCE_RANGE_HDL) &&
              o40.out_of_range == ALGO_CVD_PCE_RANGE_HDL &&
              out.risk_pct < o40.risk_pct,
          "PCE range flags, no clamping");
  }
}

/* ---- WHO continuous vectors -------------------------------------------- */

/* WHO_2019_test_vectors.csv gives the risk to 4 decimals, so tolerance is
 * +-0.0001 percentage point (half a unit in the last place is 0.00005). */
static void test_who_vectors(const char *dir)
{
  char path[4096], line[1024];
  char *f[16];
  FILE *fp;
  int n = 0, ok = 0;
  double worst = 0;
  snprintf(path, sizeof path, "%s/WHO_2019_test_vectors.csv", dir);
  fp = fopen(path, "r");
  check(fp != NULL, "open WHO_2019_test_vectors.csv");
  if (!fp)
    return;
  printf("WHO 2019 continuous vectors (tolerance +-0.0001 pp):\n");
  if (!fgets(line, sizeof line, fp))
    line[0] = '\0';
  while (fgets(line, sizeof line, fp)) {
    struct algo_cvd_who_in in;
    struct algo_cvd_who_cal cal;
    struct algo_cvd_who_out out;
    int model, region, rc, nf = split_csv(line, f, 16);
    double want, d;
    if (nf < 10)
      continue;
    memset(&in, 0, sizeof in);
    model = strcmp(f[0], "lab") == 0 ? ALGO_CVD_WHO_LAB : ALGO_CVD_WHO_NONLAB;
    in.sex = strcmp(f[2], "male") == 0 ? ALGO_CVD_MALE : ALGO_CVD_FEMALE;
    in.age_y = num(f[3]);
    in.sbp_mmhg = num(f[4]);
    in.smoker = (int)num(f[5]);
    if (model == ALGO_CVD_WHO_LAB) {
      in.tc_mmol_l = num(f[6]);
      in.diabetes = (int)num(f[7]);
    } else {
      in.bmi_kg_m2 = num(f[8]);
    }
    want = num(f[9]);
    if (strncmp(f[1], "country:", 8) == 0) {
      rc = algo_cvd_who_country_cal(f[1] + 8, model, in.sex, &cal);
    } else {
      rc = algo_cvd_who_region_from_code(f[1], &region);
      if (rc == 0)
        rc = algo_cvd_who_region_cal(model, region, in.sex, &cal);
    }
    if (rc == 0)
      rc = algo_cvd_who_risk(model, &cal, &in, &out);
    d = rc == 0 ? fabs(out.cvd_pct - want) : 1e9;
    if (d > worst)
      worst = d;
    n++;
    ok += d <= 0.0001;
    printf("  %-6s %-12s %-6s %2.0f y SBP %3.0f -> %8.4f%% (want %7.4f) "
           "%s\n", f[0], f[1], f[2], in.age_y, in.sbp_mmhg,
           rc == 0 ? out.cvd_pct : -1.0, want, d <= 0.0001 ? "ok" : "FAIL");
  }
  fclose(fp);
  printf("WHO vectors: %d/%d within tolerance, max |diff| %.2e pp\n", ok, n,
         worst);
  check(n == 13 && ok == n, "WHO continuous vectors");
}

/* The C recalibration table equals WHO_2019_recalibration_gbd2017_regions.csv
 * value for value (exact after strtod: both are the same decimal). */
static void test_region_table(const char *dir)
{
  char path[4096], line[1024];
  char *f[16];
  FILE *fp;
  int rows = 0, ok = 0;
  snprintf(path, sizeof path, "%s/WHO_2019_recalibration_gbd2017_regions.csv",
           dir);
  fp = fopen(path, "r");
  check(fp != NULL, "open regions csv");
  if (!fp)
    return;
  if (!fgets(line, sizeof line, fp))
    line[0] = '\0';
  while (fgets(line, sizeof line, fp)) {
    struct algo_cvd_who_cal lab, nl;
    int region = -1, sex, nf = split_csv(line, f, 16);
    if (nf != 12)
      continue;
    rows++;
    sex = strcmp(f[3], "male") == 0 ? ALGO_CVD_MALE : ALGO_CVD_FEMALE;
    if (algo_cvd_who_region_from_code(f[1], &region) != 0 ||
        region != (int)num(f[0]))
      continue;
    algo_cvd_who_region_cal(ALGO_CVD_WHO_LAB, region, sex, &lab);
    algo_cvd_who_region_cal(ALGO_CVD_WHO_NONLAB, region, sex, &nl);
    ok += lab.chd_cons == num(f[4]) && lab.chd_slope == num(f[5]) &&
          lab.stroke_cons == num(f[6]) && lab.stroke_slope == num(f[7]) &&
          nl.chd_cons == num(f[8]) && nl.chd_slope == num(f[9]) &&
          nl.stroke_cons == num(f[10]) && nl.stroke_slope == num(f[11]);
  }
  fclose(fp);
  printf("recalibration table vs CSV: %d/%d region x sex rows identical\n",
         ok, rows);
  check(rows == 42 && ok == rows, "region table");
}

/* ---- WHO charts --------------------------------------------------------- */

static const char *const age_lab[] = { "40-44", "45-49", "50-54", "55-59",
                                       "60-64", "65-69", "70-74" };
static const char *const sbp_lab[] = { "<120", "120-139", "140-159",
                                       "160-179", ">=180" };
static const char *const tc_lab[] = { "<4", "4-4.9", "5-5.9", "6-6.9",
                                      ">=7" };
static const char *const bmi_lab[] = { "<20", "20-24", "25-29", "30-35",
                                       ">=35" };
/* Band edges as printed (lower bound inclusive); the test picks two inputs
 * per band: its lower edge (or a value well inside an open-ended first
 * band) and a value just below the next band. */
static const double age_edge[] = { 40, 45, 50, 55, 60, 65, 70, 75 };
static const double sbp_edge[] = { 95, 120, 140, 160, 180, 230 };
static const double tc_edge[] = { 2.5, 4, 5, 6, 7, 10 };
static const double bmi_edge[] = { 15, 20, 25, 30, 35, 50 };

/* One chart file. key columns: lab: dm,gdr,smk,age,sbp,chl,refv;
 * non-lab: gdr,smk,age,sbp,bmi,refv. */
static void test_chart(const char *dir, int model)
{
  char path[4096], line[4096];
  char *f[64], *h[64];
  char header[4096];
  FILE *fp;
  int lab = model == ALGO_CVD_WHO_LAB;
  int first = lab ? 7 : 6, nh, i, region_of[64];
  long cells = 0, matched = 0, evals = 0, evals_ok = 0;
  long per_region[ALGO_CVD_WHO_N_REGIONS + 1] = { 0 };
  int rows = 0, shown = 0;

  snprintf(path, sizeof path, "%s/%s", dir,
           lab ? "WHO_2019_Scores.csv" : "WHO_2019_NonLab_Scores_computed.csv");
  fp = fopen(path, "r");
  check(fp != NULL, path);
  if (!fp)
    return;
  if (!fgets(header, sizeof header, fp))
    header[0] = '\0';
  nh = split_csv(header, h, 64);
  for (i = first; i < nh; i++) {
    region_of[i] = -1;
    algo_cvd_who_region_from_code(h[i], &region_of[i]);
    check(region_of[i] == i - first + 1, "region column order");
  }
  while (fgets(line, sizeof line, fp)) {
    int nf = split_csv(line, f, 64), dm, gdr, smk, ab, sb, xb, e;
    const double *xedge = lab ? tc_edge : bmi_edge;
    if (nf != nh)
      continue;
    rows++;
    dm = lab ? (int)num(f[0]) : 0;
    gdr = (int)num(f[lab ? 1 : 0]);
    smk = (int)num(f[lab ? 2 : 1]);
    ab = label_index(f[lab ? 3 : 2], age_lab, 7);
    sb = label_index(f[lab ? 4 : 3], sbp_lab, 5);
    xb = label_index(f[lab ? 5 : 4], lab ? tc_lab : bmi_lab, 5);
    check(ab >= 0 && sb >= 0 && xb >= 0, "chart labels");
    if (ab < 0 || sb < 0 || xb < 0)
      continue;
    for (i = first; i < nh; i++) {
      int want = (int)num(f[i]), all = 1;
      cells++;
      /* 2 x 2 x 2 corner inputs of the cell; every one must hit it. */
      for (e = 0; e < 8; e++) {
        struct algo_cvd_who_in in;
        struct algo_cvd_who_chart_out out;
        int rc, up = 0;
        memset(&in, 0, sizeof in);
        in.sex = gdr == 1 ? ALGO_CVD_MALE : ALGO_CVD_FEMALE;
        in.smoker = smk;
        in.diabetes = dm;
        in.age_y = (e & 1) ? age_edge[ab + 1] - 1e-6 : age_edge[ab];
        up = (e & 2) != 0;
        in.sbp_mmhg = up ? sbp_edge[sb + 1] - 1e-6 : sbp_edge[sb];
        up = (e & 4) != 0;
        if (lab)
          in.tc_mmol_l = up ? xedge[xb + 1] - 1e-6 : xedge[xb];
        else
          in.bmi_kg_m2 = up ? xedge[xb + 1] - 1e-6 : xedge[xb];
        rc = algo_cvd_who_chart(model, region_of[i], &in, &out);
        evals++;
        if (rc == 0 && out.risk_pct == want && out.age_band == ab &&
            out.sbp_band == sb && out.x_band == xb && !out.out_of_range)
          evals_ok++;
        else
          all = 0;
      }
      if (all) {
        matched++;
        per_region[region_of[i]]++;
      } else if (shown++ < 5) {
        printf("  mismatch %s region %s want %d\n", f[first - 1], h[i],
               want);
      }
    }
  }
  fclose(fp);
  printf("%s chart: %d rows, cells matched %ld/%ld (each cell probed at its "
         "8 band corners: %ld/%ld lookups)\n", lab ? "lab" : "non-lab", rows,
         matched, cells, evals_ok, evals);
  printf("  per region:");
  for (i = 1; i <= ALGO_CVD_WHO_N_REGIONS; i++)
    printf(" %s %ld%s", algo_cvd_who_region_code(i), per_region[i],
           i % 7 == 0 && i < ALGO_CVD_WHO_N_REGIONS ? "\n             "
                                                             : "");
  printf("\n");
  check(rows == (lab ? 1400 : 700) && matched == cells, "chart reproduced");
}

/* Clinical reference s7.3 anchors, EAS_ASI, man, non-smoker, no diabetes,
 * using ordinary inputs inside each band. Exact match required. */
static void test_anchors(void)
{
  static const struct {
    double age, sbp, tc;
    int want;
  } a[] = {
    { 72, 185, 3.8, 33 }, { 72, 185, 7.4, 43 },
    { 62, 150, 5.5, 14 }, { 42, 112, 3.6, 2 },
  };
  size_t i;
  printf("East Asia chart anchors (exact):\n");
  for (i = 0; i < 4; i++) {
    struct algo_cvd_who_in in = { ALGO_CVD_MALE, a[i].age, a[i].sbp, 0,
                                  a[i].tc, 0, 0 };
    struct algo_cvd_who_chart_out out;
    int rc = algo_cvd_who_chart(ALGO_CVD_WHO_LAB, ALGO_CVD_WHO_EAS_ASI, &in,
                                &out);
    printf("  age %.0f SBP %.0f TC %.1f -> %d%% (want %d%%) band %d\n",
           a[i].age, a[i].sbp, a[i].tc, out.risk_pct, a[i].want, out.band);
    check(rc == 0 && out.risk_pct == a[i].want, "EAS_ASI anchor");
  }
  /* Out-of-chart ages are put in the end band and flagged. */
  {
    struct algo_cvd_who_in in = { ALGO_CVD_MALE, 80, 185, 0, 3.8, 0, 0 };
    struct algo_cvd_who_chart_out out;
    int rc = algo_cvd_who_chart(ALGO_CVD_WHO_LAB, ALGO_CVD_WHO_EAS_ASI, &in,
                                &out);
    printf("  age 80 -> band %d, %d%%, flags 0x%x\n", out.age_band,
           out.risk_pct, out.out_of_range);
    check(rc == 0 && out.age_band == 6 && out.risk_pct == 33 &&
              out.out_of_range == ALGO_CVD_WHO_RANGE_AGE,
          "age 80 flagged");
  }
}

/* ---- fuzz-safety -------------------------------------------------------- */

static const double xs[] = { 0.0, -0.0, -1.0, -1e300, 1e300, DBL_MIN,
                             DBL_MIN / 4, 4.9e-324, DBL_MAX, 1.0, 55.0,
                             120.0, 5.0 };
#define NX (sizeof xs / sizeof xs[0])

static void test_extremes(void)
{
  size_t i, j, k, l;
  long n = 0, bad = 0;
  int m, r;
  for (i = 0; i < NX; i++)
    for (j = 0; j < NX; j++)
      for (k = 0; k < NX; k++)
        for (l = 0; l < NX; l++) {
          struct algo_cvd_pce_in p = { (int)(l & 1), (int)(k & 1), xs[i],
                                       xs[j], xs[k], xs[l], (int)(i & 1),
                                       (int)(j & 1), 1 };
          struct algo_cvd_pce_out po;
          struct algo_cvd_who_in w = { (int)(i & 1), xs[i], xs[j],
                                       (int)(k & 1), xs[k], 1, xs[l] };
          struct algo_cvd_who_out wo;
          struct algo_cvd_who_chart_out co;
          struct algo_cvd_who_cal cal = { xs[k], xs[l], xs[i], xs[j] };
          n++;
          if (algo_cvd_pce(&p, &po) == 0 &&
              (!isfinite(po.risk_pct) || !isfinite(po.ind_sum)))
            bad++;
          for (m = 0; m < 2; m++) {
            n += 2;
            if (algo_cvd_who_risk(m, &cal, &w, &wo) == 0 &&
                (!isfinite(wo.cvd_pct) || !isfinite(wo.chd_pct) ||
                 !isfinite(wo.stroke_pct)))
              bad++;
            r = (int)(l % 23);
            if (algo_cvd_who_chart(m, r, &w, &co) == 0 &&
                (co.risk_pct < 0 || co.risk_pct > 100))
              bad++;
          }
        }
  printf("extreme-input sweep: %ld calls, %ld non-finite/out-of-range "
         "results\n", n, bad);
  check(bad == 0, "extreme inputs");
  check(algo_cvd_pce(NULL, NULL) == ALGO_EINVAL, "NULL pce");
  check(algo_cvd_who_region_from_code("XX", &r) == ALGO_EINVAL, "bad code");
}

int main(void)
{
  const char *root = vg_testdata_require("07_who_ish_cvd_risk_chart");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/07_who_ish_cvd_risk_chart", root);
  test_pce();
  test_region_table(dir);
  test_who_vectors(dir);
  test_chart(dir, ALGO_CVD_WHO_LAB);
  test_chart(dir, ALGO_CVD_WHO_NONLAB);
  test_anchors();
  test_extremes();
  printf("%d checks, %d failed\n", g_checks, g_fail);
  return g_fail != 0;
}
