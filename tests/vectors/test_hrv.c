/* test_hrv.c - algo/hrv against the PhysioNet Cardiovascular Signal
 * Toolbox reference windows (nsr2db nsr001/004/009), plus hand-built
 * preprocessing cases and a property test. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hrv.h"
#include "vg_check.h"
#include "vg_testdata.h"
#include "wfdb_ann.h"

/* Relative tolerance per metric for a window to count as matching. */
#define REL_TOL 0.05
/* Fraction of the 693 reference windows that must match, per metric.
 * Measured 1.000 (681 exact to 1e-4; docs/clinical/hrv.md). 0.98 allows
 * ~14 windows of drift; dropping any preprocessing rule or changing the
 * pNN50 denominator falls below it (labels-on mode measures 0.89). */
#define MIN_FRAC 0.98

struct ref_row {
  char pat[16];
  double t_start, sdnn, rmssd, pnn50, nnmean;
};

/* Reads patID,t_start,t_end,NNmean,...,SDNN(11),RMSSD(12),pnn50(13). */
static size_t load_ref(const char *path, struct ref_row *rows, size_t cap)
{
  char line[2048];
  size_t n = 0;
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  if (!fgets(line, sizeof line, f)) {
    fclose(f);
    return 0;
  }
  while (n < cap && fgets(line, sizeof line, f)) {
    char *fld[16];
    char *p = line;
    int k = 0;
    while (k < 16) {
      fld[k++] = p;
      p = strchr(p, ',');
      if (!p)
        break;
      *p++ = 0;
    }
    if (k < 13)
      continue;
    snprintf(rows[n].pat, sizeof rows[n].pat, "%s", fld[0]);
    rows[n].t_start = strtod(fld[1], NULL);
    rows[n].nnmean = strtod(fld[3], NULL);
    rows[n].sdnn = strtod(fld[10], NULL);
    rows[n].rmssd = strtod(fld[11], NULL);
    rows[n].pnn50 = strtod(fld[12], NULL);
    n++;
  }
  fclose(f);
  return n;
}

static int rel_ok(double got, double want)
{
  if (want == 0)
    return fabs(got) <= 1e-9;
  return fabs(got - want) <= REL_TOL * fabs(want);
}

/* Runs one record at sampling rate FS; compares windows with REF rows of
 * that patient. Accumulates matches in ok[3] (sdnn, rmssd, pnn50). */
static size_t run_record(const char *root, const char *rec, double fs,
                         const struct ref_row *ref, size_t nref,
                         size_t ok[3], size_t exact[3], int labels,
                         int verbose)
{
  char path[4096];
  struct wfdb_ann *ann = NULL;
  size_t na = 0, i, nb = 0, nw = 0, cmp = 0, len;
  int64_t *t;
  unsigned char *cls;
  struct algo_hrv_window *w;
  struct algo_hrv_prep prep;
  void *sc;
  snprintf(path, sizeof path, "%s/02_ecg_rr_af/nsr2db/%s.ecg", root, rec);
  if (wfdb_ann_read(path, &ann, &na) != 0) {
    printf("FAIL cannot read %s\n", path);
    g_fail++;
    return 0;
  }
  t = malloc(na * sizeof *t);
  cls = malloc(na);
  for (i = 0; i < na; i++) {
    int c = ann[i].code;
    if (!wfdb_ann_is_beat(c) && c != WFDB_NOISE && c != WFDB_ARFCT)
      continue; /* rhythm/comment marks are not beat times */
    t[nb] = (int64_t)llround((double)ann[i].sample * 1000.0 / fs);
    cls[nb] = c == WFDB_NORMAL ? ALGO_HRV_NORMAL
              : wfdb_ann_is_beat(c) ? ALGO_HRV_ECTOPIC
                                    : ALGO_HRV_ARTEFACT;
    nb++;
  }
  len = algo_hrv_scratch_size(NULL, nb);
  sc = malloc(len);
  w = calloc(4000, sizeof *w);
  CHECK(algo_hrv_run(NULL, sc, len, t, labels ? cls : NULL, nb, w, 4000,
                     &nw, &prep) ==
            ALGO_OK, "run %s", rec);
  if (verbose)
    printf("  %s fs %.0f labels %d: %zu annotations, %zu RR, dropped "
           "artefact %zu gap %zu ectopic %zu spike %zu unphysio %zu, "
           "NN %zu, windows %zu\n",
           rec, fs, labels, na, prep.n_rr, prep.n_artefact, prep.n_gap,
           prep.n_ectopic, prep.n_spike, prep.n_unphysio, prep.n_nn, nw);
  for (i = 0; i < nref; i++) {
    size_t k;
    if (strcmp(ref[i].pat, rec) != 0)
      continue;
    k = (size_t)llround(ref[i].t_start * 1000.0 / 30000.0);
    if (k >= nw || k >= 4000) {
      CHECK(0, "%s window %zu missing", rec, k);
      continue;
    }
    cmp++;
    ok[0] += rel_ok(w[k].sdnn_ms, ref[i].sdnn);
    ok[1] += rel_ok(w[k].rmssd_ms, ref[i].rmssd);
    ok[2] += rel_ok(w[k].pnn50_pct / 100.0, ref[i].pnn50);
    exact[0] += fabs(w[k].sdnn_ms - ref[i].sdnn) <= 1e-4 * ref[i].sdnn;
    exact[1] += fabs(w[k].rmssd_ms - ref[i].rmssd) <= 1e-4 * ref[i].rmssd;
    exact[2] += fabs(w[k].pnn50_pct / 100.0 - ref[i].pnn50) <=
                1e-4 * ref[i].pnn50 + 1e-9;
    if (verbose > 1 && k == 0)
      printf("    first window: SDNN %.4f (ref %.4f) RMSSD %.4f (ref %.4f)"
             " pNN50 %.7f (ref %.7f) meanNN %.4f (ref %.4f)\n",
             w[k].sdnn_ms, ref[i].sdnn, w[k].rmssd_ms, ref[i].rmssd,
             w[k].pnn50_pct / 100.0, ref[i].pnn50, w[k].mean_nn_ms,
             ref[i].nnmean);
  }
  free(w);
  free(sc);
  free(t);
  free(cls);
  free(ann);
  return cmp;
}

static void test_reference(const char *root)
{
  static struct ref_row ref[800];
  static const char *recs[3] = {"nsr001", "nsr004", "nsr009"};
  char path[4096];
  size_t nref, r, tot = 0, ok[3] = {0, 0, 0}, ex[3] = {0, 0, 0};
  size_t ok128[3] = {0, 0, 0}, ex128[3] = {0, 0, 0}, tot128 = 0;
  const char *names[3] = {"SDNN", "RMSSD", "pNN50"};
  double fs_hea;
  snprintf(path, sizeof path,
           "%s/02_ecg_rr_af/reference_outputs/"
           "NSR_HRV_allwindows_allpatients.csv", root);
  nref = load_ref(path, ref, 800);
  printf("toolbox reference windows: %zu rows\n", nref);
  CHECK(nref == 693, "rows %zu", nref);
  snprintf(path, sizeof path, "%s/02_ecg_rr_af/nsr2db/nsr001.hea", root);
  CHECK(wfdb_hea_fs(path, &fs_hea) == 0 && fs_hea == 128.0, "hea fs");
  printf("  header fs %.0f Hz; the reference was computed with Fs = 125 Hz"
         " (toolbox demo setting), so RR are read at 125 Hz to compare\n",
         fs_hea);
  /* The reference run ignored beat labels: every annotation, noise marks
   * included, was a beat time; only gap, spike and physiological rules
   * cleaned the series. Reproduce that (labels off) for the assertion. */
  for (r = 0; r < 3; r++)
    tot += run_record(root, recs[r], 125.0, ref, nref, ok, ex, 0, 2);
  printf("  windows compared: %zu; tolerance %.0f %% relative\n", tot,
         REL_TOL * 100);
  for (r = 0; r < 3; r++) {
    double frac = tot ? (double)ok[r] / (double)tot : 0;
    printf("  %-6s within tol %3zu/%zu = %.4f (exact to 1e-4: %zu)  "
           "threshold %.2f  %s\n", names[r], ok[r], tot, frac, ex[r],
           MIN_FRAC, frac >= MIN_FRAC ? "ok" : "FAIL");
    if (frac < MIN_FRAC)
      g_fail++;
  }
  CHECK(tot == 693, "compared %zu", tot);
  /* Same comparison at the header's true 128 Hz: every RR is 125/128 of
   * the reference's, a systematic -2.3 % - reported, not asserted. */
  for (r = 0; r < 3; r++)
    tot128 += run_record(root, recs[r], fs_hea, ref, nref, ok128, ex128, 0,
                         0);
  printf("  at the true 128 Hz: SDNN %zu/%zu, RMSSD %zu/%zu, pNN50 %zu/%zu "
         "within %.0f %%\n", ok128[0], tot128, ok128[1], tot128, ok128[2],
         tot128, REL_TOL * 100);
  /* With labels (platform default: noise marks and ectopic beats out). */
  memset(ok128, 0, sizeof ok128);
  memset(ex128, 0, sizeof ex128);
  tot128 = 0;
  for (r = 0; r < 3; r++)
    tot128 += run_record(root, recs[r], 125.0, ref, nref, ok128, ex128, 1,
                         1);
  printf("  labels on, 125 Hz: SDNN %zu/%zu, RMSSD %zu/%zu, pNN50 %zu/%zu "
         "within %.0f %% (exact %zu/%zu/%zu)\n", ok128[0], tot128, ok128[1],
         tot128, ok128[2], tot128, REL_TOL * 100, ex128[0], ex128[1],
         ex128[2]);
}

/* ---------------------------------------------------------- hand-built */

static void test_hand_built(void)
{
  int64_t t[64];
  unsigned char cls[64];
  struct algo_hrv_window w[8];
  struct algo_hrv_prep p;
  struct algo_hrv_cfg cfg;
  size_t n = 0, nw, len, i;
  void *sc;
  /* 40 beats at alternating 800/850 ms, one PVC (short 500 then 1100
   * compensatory), one 3 s gap and one noise mark. */
  t[n++] = 0;
  for (i = 1; i < 40; i++) {
    int64_t rr = (i % 2) ? 800 : 850;
    if (i == 20)
      rr = 500;
    if (i == 21)
      rr = 1100;
    if (i == 30)
      rr = 3000;
    t[n] = t[n - 1] + rr;
    n++;
  }
  memset(cls, ALGO_HRV_NORMAL, sizeof cls);
  cls[20] = ALGO_HRV_ECTOPIC;
  cls[10] = ALGO_HRV_ARTEFACT;
  memset(&cfg, 0, sizeof cfg);
  cfg.window_ms = 20000;
  cfg.step_ms = 10000;
  len = algo_hrv_scratch_size(&cfg, n);
  sc = malloc(len);
  printf("hand-built preprocessing\n");
  CHECK(algo_hrv_run(&cfg, sc, len, t, cls, n, w, 8, &nw, &p) == ALGO_OK,
        "rc");
  printf("  RR %zu: artefact %zu gap %zu ectopic %zu spike %zu unphysio %zu"
         " NN %zu windows %zu\n", p.n_rr, p.n_artefact, p.n_gap,
         p.n_ectopic, p.n_spike, p.n_unphysio, p.n_nn, nw);
  /* Expected: 39 RR; 1 artefact, 1 gap, 1 ectopic (the 500 ms PVC), the
   * 1100 ms compensatory pause is a spike (>20 % from both medians). */
  CHECK(p.n_rr == 39 && p.n_artefact == 1 && p.n_gap == 1 &&
            p.n_ectopic == 1 && p.n_spike == 1 && p.n_unphysio == 0 &&
            p.n_nn == 35, "counts");
  /* Constant 800 ms: SDNN 0, RMSSD 0, pNN50 0, mean 800. */
  for (i = 1; i < 40; i++)
    t[i] = t[i - 1] + 800;
  CHECK(algo_hrv_run(&cfg, sc, len, t, NULL, 40, w, 8, &nw, &p) == ALGO_OK &&
            nw >= 1 && w[0].sdnn_ms == 0 && w[0].rmssd_ms == 0 &&
            w[0].mean_nn_ms == 800 && w[0].valid,
        "constant");
  /* Alternating 800/900: RMSSD 100, pNN50 100 %, SDNN by formula. */
  for (i = 1; i < 40; i++)
    t[i] = t[i - 1] + ((i % 2) ? 800 : 900);
  CHECK(algo_hrv_run(&cfg, sc, len, t, NULL, 40, w, 8, &nw, &p) == ALGO_OK,
        "alt");
  printf("  alternating 800/900: n %zu RMSSD %.3f pNN50 %.1f SDNN %.3f\n",
         w[0].n_nn, w[0].rmssd_ms, w[0].pnn50_pct, w[0].sdnn_ms);
  CHECK(fabs(w[0].rmssd_ms - 100.0) < 1e-9 && w[0].pnn50_pct == 100.0,
        "alt metrics");
  {
    double m = (double)w[0].n_nn, expect;
    /* even count of 800/900 -> SD = 50 * sqrt(m / (m - 1)) */
    expect = 50.0 * sqrt(m / (m - 1));
    CHECK(((size_t)m % 2) == 0 ? fabs(w[0].sdnn_ms - expect) < 1e-9 : 1,
          "sdnn %f vs %f", w[0].sdnn_ms, expect);
  }
  free(sc);
}

static void test_properties(void)
{
  int64_t t[64];
  unsigned char cls[64];
  struct algo_hrv_window w[64];
  struct algo_hrv_prep p;
  size_t len = algo_hrv_scratch_size(NULL, 64), nw, k, i, n;
  void *sc = malloc(len);
  unsigned seed = 99u;
  printf("property: arbitrary input -> error or finite output\n");
  for (k = 0; k < 3000; k++) {
    struct algo_hrv_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.window_ms = 5000;
    cfg.step_ms = 1000;
    n = k % 64;
    for (i = 0; i < n; i++) {
      seed = seed * 1103515245u + 12345u;
      t[i] = (i ? t[i - 1] : (int64_t)seed * 1000) + 1 +
             (int64_t)((k % 4 == 0) ? 800 : (seed >> 8) % 4000);
      cls[i] = (unsigned char)((seed >> 3) % 3);
    }
    CHECK(algo_hrv_run(&cfg, sc, len, t, k % 2 ? cls : NULL, n, w, 64, &nw,
                       &p) == ALGO_OK, "rc");
    for (i = 0; i < nw && i < 64; i++)
      CHECK(isfinite(w[i].sdnn_ms) && isfinite(w[i].rmssd_ms) &&
                isfinite(w[i].pnn50_pct) && isfinite(w[i].mean_nn_ms),
            "finite");
  }
  t[0] = 5;
  t[1] = 5;
  CHECK(algo_hrv_run(NULL, sc, len, t, NULL, 2, w, 64, &nw, &p) ==
            ALGO_EORDER, "order");
  t[1] = INT64_MAX;
  CHECK(algo_hrv_run(NULL, sc, len, t, NULL, 2, w, 64, &nw, &p) ==
            ALGO_EINVAL, "range");
  t[1] = 6;
  CHECK(algo_hrv_run(NULL, sc, 4, t, NULL, 2, w, 64, &nw, &p) ==
            ALGO_ESCRATCH, "scratch");
  CHECK(algo_hrv_run(NULL, sc, len, NULL, NULL, 2, w, 64, &nw, &p) ==
            ALGO_EINVAL, "null");
  CHECK(algo_hrv_run(NULL, sc, len, t, NULL, 0, w, 64, &nw, &p) == ALGO_OK &&
            nw == 0, "n=0");
  CHECK(algo_hrv_run(NULL, sc, len, t, NULL, 1, w, 64, &nw, &p) == ALGO_OK &&
            nw == 0, "n=1");
  free(sc);
}

int main(void)
{
  const char *root;
  test_hand_built();
  test_properties();
  root = vg_testdata_require("02_ecg_rr_af");
  test_reference(root);
  printf("%s: %d failure(s)\n", g_fail ? "FAILED" : "PASSED", g_fail);
  return g_fail ? 1 : 0;
}
