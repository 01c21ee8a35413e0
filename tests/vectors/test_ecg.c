/* test_ecg.c - validation of algo/ecg R-peak detection against reference
 * beat annotations: MIT-BIH 105 (both leads) and all 18 CPSC 2021 records
 * (lead I and II), +-150 ms one-to-one matching. Plain main(): prints the
 * table, returns 1 on a failed assertion. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecg.h"
#include "vg_check.h"
#include "vg_testdata.h"
#include "wfdb.h"

/* Asserted floors: achieved minus a margin (docs/clinical/ecg.md). */
#define MITDB105_SE_MIN 98.5  /* achieved 99.53 (MLII) */
#define MITDB105_PPV_MIN 97.5 /* achieved 98.69 (MLII) */
/* CPSC pooled, lead I / lead II: achieved 96.67/97.14 and 99.64/99.47 */
static const double cpsc_se_min[2] = {95.5, 99.3};
static const double cpsc_ppv_min[2] = {96.0, 99.2};

/* Greedy one-to-one matching of sorted detections to sorted references
 * within tol samples. OUT: *tp. */
static size_t match(const int64_t *ref, size_t nr, const size_t *det,
                    size_t nd, int64_t tol)
{
  size_t i = 0, j = 0, tp = 0;
  while (i < nr && j < nd) {
    int64_t d = (int64_t)det[j] - ref[i];
    if (d < -tol) {
      j++;
    } else if (d > tol) {
      i++;
    } else {
      tp++;
      i++;
      j++;
    }
  }
  return tp;
}

/* Runs one record/lead; adds to the totals; returns 0 or -1. */
static int run_one(const char *dir, const char *rec, int lead, double *tot,
                   double *se_out, double *ppv_out)
{
  char path[1024];
  struct wfdb_hea h;
  struct wfdb_beats b;
  int32_t *raw;
  double *x;
  size_t n, i, np = 0, sl, maxp, tp, *pk;
  void *scr;
  snprintf(path, sizeof path, "%s/%s.hea", dir, rec);
  if (wfdb_hea_read(path, &h) != 0)
    return -1;
  snprintf(path, sizeof path, "%s/%s.dat", dir, rec);
  raw = wfdb_dat_read(path, &h, lead, &n);
  snprintf(path, sizeof path, "%s/%s.atr", dir, rec);
  if (!raw || wfdb_beats_read(path, &b) != 0) {
    free(raw);
    return -1;
  }
  x = malloc(n * sizeof *x);
  for (i = 0; i < n; i++)
    x[i] = ((double)raw[i] - h.sig[lead].baseline) / h.sig[lead].gain;
  sl = algo_ecg_scratch_size(n);
  maxp = (size_t)(n / (0.2 * h.fs)) + 1;
  scr = malloc(sl);
  pk = malloc(maxp * sizeof *pk);
  CHECK(algo_ecg_rpeaks(x, n, h.fs, scr, sl, pk, maxp, &np) == ALGO_OK,
        "rpeaks %s", rec);
  tp = match(b.sample, b.n, pk, np, (int64_t)(0.150 * h.fs + 0.5));
  tot[0] += (double)tp;
  tot[1] += (double)b.n;
  tot[2] += (double)np;
  *se_out = 100.0 * (double)tp / (double)b.n;
  *ppv_out = np ? 100.0 * (double)tp / (double)np : 0;
  printf("  %-11s %-3s %6zu %6zu %6zu %7.2f %7.2f\n", rec,
         h.sig[lead].desc, b.n, np, tp, *se_out, *ppv_out);
  free(scr);
  free(pk);
  free(x);
  free(raw);
  wfdb_beats_free(&b);
  return 0;
}

static const char *const cpsc_recs[] = {
  "data_101_6", "data_101_8", "data_101_9", "data_21_7", "data_21_8",
  "data_21_9", "data_35_10", "data_35_4", "data_35_6", "data_84_1",
  "data_84_2", "data_84_3", "data_8_2", "data_8_3", "data_8_4",
  "data_92_12", "data_92_19", "data_92_4"};

int main(void)
{
  const char *root = vg_testdata_require("09_cpsc2021_af_sample");
  char dir[1024];
  double tot[2][3] = {{0, 0, 0}, {0, 0, 0}}, se, ppv;
  size_t r;
  int lead;
  printf("R-peak detection, +-150 ms match\n");
  printf("  %-11s %-3s %6s %6s %6s %7s %7s\n", "record", "ld", "ref", "det",
         "TP", "Se", "PPV");
  snprintf(dir, sizeof dir, "%s/02_ecg_rr_af/mitdb_105", root);
  for (lead = 0; lead < 2; lead++) {
    double t105[3] = {0, 0, 0};
    CHECK(run_one(dir, "105", lead, t105, &se, &ppv) == 0, "mitdb 105");
    /* 105 is the noisiest MIT-BIH record: asserted at achieved - 1 */
    if (lead == 0)
      CHECK(se >= MITDB105_SE_MIN && ppv >= MITDB105_PPV_MIN,
            "105 MLII Se %.2f PPV %.2f", se, ppv);
  }
  snprintf(dir, sizeof dir, "%s/09_cpsc2021_af_sample", root);
  for (lead = 0; lead < 2; lead++)
    for (r = 0; r < 18; r++)
      CHECK(run_one(dir, cpsc_recs[r], lead, tot[lead], &se, &ppv) == 0,
            "cpsc %s", cpsc_recs[r]);
  for (lead = 0; lead < 2; lead++) {
    double s = 100.0 * tot[lead][0] / tot[lead][1];
    double p = 100.0 * tot[lead][0] / tot[lead][2];
    printf("CPSC 2021 pooled lead %s: ref %.0f det %.0f Se %.2f PPV %.2f\n",
           lead ? "II" : "I", tot[lead][1], tot[lead][2], s, p);
    CHECK(s >= cpsc_se_min[lead] && p >= cpsc_ppv_min[lead],
          "CPSC lead %d Se %.2f PPV %.2f", lead, s, p);
  }
  printf("%s\n", g_fail ? "FAILED" : "OK");
  return g_fail ? 1 : 0;
}
