/* test_af.c - validation of algo/af against PhysioNet data: LTAFDB (tune on
 * even records, report on odd), nsr2db specificity, AFDB 03665 burden,
 * LTAFDB-74 ECG excerpt and CPSC 2021 end to end (ECG -> R peaks -> AF),
 * plus robustness properties. Plain main(): prints tables, returns 1 on any
 * failed assertion. Set VG_AF_TUNE=1 for the even-record threshold sweep. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af.h"
#include "ecg.h"
#include "vg_check.h"
#include "vg_testdata.h"
#include "wfdb.h"

/* Achieved on the odd (test) records minus a 1-point margin for beats and
 * 5 points for episodes; even (tuning) records minus 1 point as a
 * regression guard (docs/clinical/af.md). */
#ifndef AF_ODD_SE_MIN
#define AF_ODD_SE_MIN 96.7    /* achieved 97.69 */
#define AF_ODD_SP_MIN 95.1    /* achieved 96.12 */
#define AF_ODD_EPSE_MIN 69.9  /* achieved 74.89 */
#define AF_ODD_EPPPV_MIN 85.3 /* achieved 90.35 */
#define AF_EVEN_SE_MIN 97.5   /* achieved 98.52 */
#define AF_EVEN_SP_MIN 97.6   /* achieved 98.63 */
#define AF_STRIP64_SE_MIN 95.6 /* achieved 96.67 (odd strips) */
#define AF_STRIP64_SP_MIN 95.9 /* achieved 96.96 */
#define AF_STRIP96_SE_MIN 95.0 /* achieved 96.01 */
#define AF_STRIP96_SP_MIN 97.3 /* achieved 98.34 */
#endif

/* LTAFDB record names (08_ltafdb_af_labels/README.md). */
static const char *const ltaf_recs[] = {
  "00", "01", "03", "05", "06", "07", "08", "10", "100", "101", "102",
  "103", "104", "105", "11", "110", "111", "112", "113", "114", "115",
  "116", "117", "118", "119", "12", "120", "121", "122", "13", "15", "16",
  "17", "18", "19", "20", "200", "201", "202", "203", "204", "205", "206",
  "207", "208", "21", "22", "23", "24", "25", "26", "28", "30", "32", "33",
  "34", "35", "37", "38", "39", "42", "43", "44", "45", "47", "48", "49",
  "51", "53", "54", "55", "56", "58", "60", "62", "64", "65", "68", "69",
  "70", "71", "72", "74", "75"};
#define N_LTAF (sizeof ltaf_recs / sizeof ltaf_recs[0])

/* RR series of one record: rr[i] ends at beat i+1; ref[i] = 1 if "(AFIB"
 * is in force at that beat, 0 otherwise, -1 if no rhythm label yet. */
struct series {
  double *rr;
  signed char *ref;
  size_t n;
};

static void series_free(struct series *s)
{
  free(s->rr);
  free(s->ref);
  memset(s, 0, sizeof *s);
}

static int series_from_beats(const struct wfdb_beats *b, double fs,
                             struct series *s)
{
  size_t i, k = 0;
  memset(s, 0, sizeof *s);
  if (b->n < 2)
    return -1;
  s->rr = malloc((b->n - 1) * sizeof *s->rr);
  s->ref = malloc(b->n - 1);
  if (!s->rr || !s->ref)
    return -1;
  for (i = 1; i < b->n; i++) {
    int64_t d = b->sample[i] - b->sample[i - 1];
    if (d <= 0)
      continue; /* duplicate beat time: not an interval */
    s->rr[k] = (double)d / fs;
    s->ref[k] = b->rhythm[i] == WFDB_RHY_NONE
                    ? -1
                    : (signed char)(b->rhythm[i] == WFDB_RHY_AFIB);
    k++;
  }
  s->n = k;
  return 0;
}

static int load_ltaf(const char *root, const char *rec, struct series *s)
{
  char path[1024];
  struct wfdb_beats b;
  int rc;
  snprintf(path, sizeof path, "%s/08_ltafdb_af_labels/%s.atr", root, rec);
  if (wfdb_beats_read(path, &b) != 0)
    return -1;
  rc = series_from_beats(&b, 128.0, s); /* README: all records 128 Hz */
  wfdb_beats_free(&b);
  return rc;
}

/* Beat-level confusion counts. */
struct conf {
  double tp, fp, tn, fn;
};

static void conf_add(struct conf *c, const signed char *ref,
                     const unsigned char *det, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) {
    if (ref[i] < 0)
      continue; /* unlabelled (record 64 start): excluded */
    if (ref[i])
      det[i] ? c->tp++ : c->fn++;
    else
      det[i] ? c->fp++ : c->tn++;
  }
}

static double pct(double a, double b)
{
  return b > 0 ? 100.0 * a / b : NAN;
}

/* Episode-level scoring, EC57-style (AAMI EC57:2012 section 3 AF episode
 * Se/+P): a reference episode counts as detected if any detected AF beat
 * overlaps it; a detected episode is a true positive if it overlaps any
 * reference AF beat. Episodes are maximal runs of AF beats. */
struct epi {
  size_t ref_n, ref_hit, det_n, det_hit;
};

static void epi_add(struct epi *e, const signed char *ref,
                    const unsigned char *det, size_t n)
{
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    int hit = 0;
    if (ref[i] == 1) {
      while (j < n && ref[j] == 1) {
        hit |= det[j] != 0;
        j++;
      }
      e->ref_n++;
      e->ref_hit += (size_t)hit;
    } else {
      j++;
    }
    i = j;
  }
  i = 0;
  while (i < n) {
    size_t j = i;
    int hit = 0;
    if (det[i]) {
      while (j < n && det[j]) {
        hit |= ref[j] == 1;
        j++;
      }
      e->det_n++;
      e->det_hit += (size_t)hit;
    } else {
      j++;
    }
    i = j;
  }
}

/* Runs the detector with cfg on s. OUT: det (n). Returns rc. */
static int run_af(const struct algo_af_cfg *cfg, const double *rr, size_t n,
                  unsigned char *det, double *score)
{
  size_t sl = algo_af_scratch_size(n);
  void *scr = malloc(sl ? sl : 1);
  int rc = algo_af_detect(cfg, rr, n, scr, sl, det, score);
  free(scr);
  return rc;
}

/* ------------------------------------------------------------- LTAFDB */

static int rec_is_even(const char *rec)
{
  return (rec[strlen(rec) - 1] - '0') % 2 == 0;
}

/* Scores cfg on the loaded records; prints one sweep row. */
static void tune_row(const struct series *all, const struct algo_af_cfg *cfg)
{
  struct conf c = {0, 0, 0, 0};
  double se, sp;
  size_t r;
  for (r = 0; r < N_LTAF; r++) {
    unsigned char *det;
    if (!all[r].n)
      continue;
    det = malloc(all[r].n);
    run_af(cfg, all[r].rr, all[r].n, det, NULL);
    conf_add(&c, all[r].ref, det, all[r].n);
    free(det);
  }
  se = pct(c.tp, c.tp + c.fn);
  sp = pct(c.tn, c.tn + c.fp);
  printf("  W=%3d step=%.2f hyst=%.1f thr=%.2f ent=%.3f Se %.2f Sp %.2f"
         "  (Se+Sp)/2 %.2f\n", cfg->window, cfg->sym_step, cfg->hysteresis,
         cfg->threshold, cfg->entropy_threshold, se, sp, (se + sp) / 2);
}

/* Offline sweep on the EVEN records only (VG_AF_TUNE=1, ~5 min with
 * ASan). Stage 1: window x symbol step x hysteresis x entropy threshold at
 * irregular-fraction threshold 0.55; stage 2: fraction threshold x entropy
 * threshold at the defaults. The defaults in algo/af.c are the best
 * (Se+Sp)/2 rows (docs/clinical/af.md). */
static void tune_even(const char *root)
{
  static const int windows[] = {64, 128};
  static const double steps[] = {0.06, 0.09, 0.12};
  static const double hyst[] = {0.0, 0.2};
  size_t wi, si, hi, r;
  int ei, fi;
  struct algo_af_cfg cfg;
  struct series all[N_LTAF];
  memset(all, 0, sizeof all);
  for (r = 0; r < N_LTAF; r++)
    if (rec_is_even(ltaf_recs[r]))
      load_ltaf(root, ltaf_recs[r], &all[r]);
  printf("\nTUNING stage 1 (even records only)\n");
  for (wi = 0; wi < sizeof windows / sizeof windows[0]; wi++)
    for (si = 0; si < sizeof steps / sizeof steps[0]; si++)
      for (hi = 0; hi < sizeof hyst / sizeof hyst[0]; hi++)
        for (ei = 0; ei <= 6; ei++) {
          algo_af_cfg_default(&cfg);
          cfg.window = windows[wi];
          cfg.sym_step = steps[si];
          cfg.hysteresis = hyst[hi];
          cfg.threshold = 0.55;
          cfg.entropy_threshold = 0.725 + 0.025 * ei;
          tune_row(all, &cfg);
        }
  printf("TUNING stage 2 (even records only)\n");
  for (fi = 0; fi <= 4; fi++)
    for (ei = 0; ei <= 6; ei++) {
      algo_af_cfg_default(&cfg);
      cfg.threshold = 0.45 + 0.05 * fi;
      cfg.entropy_threshold = 0.725 + 0.025 * ei;
      tune_row(all, &cfg);
    }
  for (r = 0; r < N_LTAF; r++)
    series_free(&all[r]);
}

static void test_ltafdb(const char *root)
{
  struct conf pooled[3]; /* odd, even, odd without record 103 */
  struct epi ep[2];
  size_t r;
  memset(pooled, 0, sizeof pooled);
  memset(ep, 0, sizeof ep);
  printf("\nLTAFDB beat level (AF = \"(AFIB\" in force; all other rhythms "
         "non-AF)\n");
  printf("%-5s %-4s %8s %8s %7s %7s %7s %7s %6s %6s\n", "rec", "set", "beats",
         "AFbeats", "Se", "Sp", "PPV", "Acc", "epSe", "epPPV");
  for (r = 0; r < N_LTAF; r++) {
    struct series s;
    unsigned char *det;
    struct conf c = {0, 0, 0, 0};
    struct epi e = {0, 0, 0, 0};
    int even = rec_is_even(ltaf_recs[r]);
    if (load_ltaf(root, ltaf_recs[r], &s) != 0) {
      CHECK(0, "cannot read LTAFDB %s", ltaf_recs[r]);
      continue;
    }
    det = malloc(s.n);
    CHECK(run_af(NULL, s.rr, s.n, det, NULL) == ALGO_OK, "detect %s",
          ltaf_recs[r]);
    conf_add(&c, s.ref, det, s.n);
    epi_add(&e, s.ref, det, s.n);
    pooled[even].tp += c.tp;
    pooled[even].fp += c.fp;
    pooled[even].tn += c.tn;
    pooled[even].fn += c.fn;
    if (!even && strcmp(ltaf_recs[r], "103") != 0) {
      pooled[2].tp += c.tp;
      pooled[2].fp += c.fp;
      pooled[2].tn += c.tn;
      pooled[2].fn += c.fn;
    }
    ep[even].ref_n += e.ref_n;
    ep[even].ref_hit += e.ref_hit;
    ep[even].det_n += e.det_n;
    ep[even].det_hit += e.det_hit;
    printf("%-5s %-4s %8zu %8.0f %7.2f %7.2f %7.2f %7.2f %6.1f %6.1f\n",
           ltaf_recs[r], even ? "tune" : "test", s.n, c.tp + c.fn,
           pct(c.tp, c.tp + c.fn), pct(c.tn, c.tn + c.fp),
           pct(c.tp, c.tp + c.fp), pct(c.tp + c.tn, c.tp + c.tn + c.fp + c.fn),
           pct((double)e.ref_hit, (double)e.ref_n),
           pct((double)e.det_hit, (double)e.det_n));
    free(det);
    series_free(&s);
  }
  for (r = 0; r < 2; r++) {
    struct conf *c = &pooled[r];
    printf("POOLED %-4s Se %.2f Sp %.2f PPV %.2f Acc %.2f | episodes: ref %zu "
           "Se %.2f det %zu PPV %.2f\n",
           r ? "even" : "odd", pct(c->tp, c->tp + c->fn),
           pct(c->tn, c->tn + c->fp), pct(c->tp, c->tp + c->fp),
           pct(c->tp + c->tn, c->tp + c->tn + c->fp + c->fn), ep[r].ref_n,
           pct((double)ep[r].ref_hit, (double)ep[r].ref_n), ep[r].det_n,
           pct((double)ep[r].det_hit, (double)ep[r].det_n));
  }
  {
    /* Post-hoc, reported only (not used for tuning or asserted): record 103
     * holds 58,574 non-AF beats (N with 824 AB and 1369 SVTA labels) whose
     * RR is as irregular as AF; see docs/clinical/af.md, "Gap". */
    struct conf *c = &pooled[2];
    printf("POOLED odd without record 103: Se %.2f Sp %.2f PPV %.2f "
           "Acc %.2f\n", pct(c->tp, c->tp + c->fn),
           pct(c->tn, c->tn + c->fp), pct(c->tp, c->tp + c->fp),
           pct(c->tp + c->tn, c->tp + c->tn + c->fp + c->fn));
  }
  {
    struct conf *c = &pooled[0];
    double se = pct(c->tp, c->tp + c->fn), sp = pct(c->tn, c->tn + c->fp);
    double ese = pct((double)ep[0].ref_hit, (double)ep[0].ref_n);
    double eppv = pct((double)ep[0].det_hit, (double)ep[0].det_n);
    /* Target Sp >= 98 is not reached on the odd records: assert the
     * achieved level minus 1 point (beats) or 5 points (episodes; a few
     * hundred detected episodes), docs/clinical/af.md "Gap to target". */
    CHECK(se >= AF_ODD_SE_MIN, "odd Se %.2f < %.2f", se, AF_ODD_SE_MIN);
    CHECK(sp >= AF_ODD_SP_MIN, "odd Sp %.2f < %.2f", sp, AF_ODD_SP_MIN);
    CHECK(ese >= AF_ODD_EPSE_MIN, "odd episode Se %.2f < %.2f", ese,
          AF_ODD_EPSE_MIN);
    CHECK(eppv >= AF_ODD_EPPPV_MIN, "odd episode PPV %.2f < %.2f", eppv,
          AF_ODD_EPPPV_MIN);
    /* tuning set: regression guard only (it is not a test result) */
    c = &pooled[1];
    se = pct(c->tp, c->tp + c->fn);
    sp = pct(c->tn, c->tn + c->fp);
    CHECK(se >= AF_EVEN_SE_MIN, "even Se %.2f < %.2f", se, AF_EVEN_SE_MIN);
    CHECK(sp >= AF_EVEN_SP_MIN, "even Sp %.2f < %.2f", sp, AF_EVEN_SP_MIN);
  }
}

/* Short strips (wearable spot checks): every record cut into consecutive
 * strips of L beats, each strip run through the detector on its own
 * (L < W: one window over the strip). Defaults unchanged: nothing here was
 * tuned. */
static void test_ltafdb_strips(const char *root)
{
  static const size_t lens[] = {64, 96};
  struct conf c[2][2]; /* [len][even] */
  size_t li, r, k;
  memset(c, 0, sizeof c);
  for (r = 0; r < N_LTAF; r++) {
    struct series s;
    unsigned char det[96];
    int even = rec_is_even(ltaf_recs[r]);
    if (load_ltaf(root, ltaf_recs[r], &s) != 0)
      continue; /* reported by test_ltafdb */
    for (li = 0; li < 2; li++)
      for (k = 0; k + lens[li] <= s.n; k += lens[li]) {
        CHECK(run_af(NULL, s.rr + k, lens[li], det, NULL) == ALGO_OK,
              "strip");
        conf_add(&c[li][even], s.ref + k, det, lens[li]);
      }
    series_free(&s);
  }
  printf("\nLTAFDB strips (each strip detected alone, beat level)\n");
  for (li = 0; li < 2; li++)
    for (k = 0; k < 2; k++)
      printf("  L=%zu %-4s Se %.2f Sp %.2f PPV %.2f\n", lens[li],
             k ? "even" : "odd", pct(c[li][k].tp, c[li][k].tp + c[li][k].fn),
             pct(c[li][k].tn, c[li][k].tn + c[li][k].fp),
             pct(c[li][k].tp, c[li][k].tp + c[li][k].fp));
  /* odd strips: achieved minus 1 point (docs/clinical/af.md) */
  CHECK(pct(c[0][0].tp, c[0][0].tp + c[0][0].fn) >= AF_STRIP64_SE_MIN,
        "strip 64 Se");
  CHECK(pct(c[0][0].tn, c[0][0].tn + c[0][0].fp) >= AF_STRIP64_SP_MIN,
        "strip 64 Sp");
  CHECK(pct(c[1][0].tp, c[1][0].tp + c[1][0].fn) >= AF_STRIP96_SE_MIN,
        "strip 96 Se");
  CHECK(pct(c[1][0].tn, c[1][0].tn + c[1][0].fp) >= AF_STRIP96_SP_MIN,
        "strip 96 Sp");
}

/* ----------------------------------------------------------- nsr2db */

static void test_nsr2db(const char *root)
{
  static const char *const recs[] = {"nsr001", "nsr004", "nsr009"};
  size_t r;
  printf("\nnsr2db (no AF anywhere): specificity\n");
  for (r = 0; r < 3; r++) {
    char path[1024];
    struct wfdb_beats b;
    struct series s;
    unsigned char *det;
    size_t i, fp = 0;
    double burden = 0;
    snprintf(path, sizeof path, "%s/02_ecg_rr_af/nsr2db/%s.ecg", root,
             recs[r]);
    if (wfdb_beats_read(path, &b) != 0) {
      CHECK(0, "cannot read %s", path);
      continue;
    }
    series_from_beats(&b, 128.0, &s); /* .hea: 128 Hz */
    wfdb_beats_free(&b);
    det = malloc(s.n);
    CHECK(run_af(NULL, s.rr, s.n, det, NULL) == ALGO_OK, "detect");
    for (i = 0; i < s.n; i++)
      fp += det[i];
    algo_af_burden(s.rr, det, s.n, &burden);
    printf("  %s beats %zu FP beats %zu Sp %.2f%% burden %.2f%%\n", recs[r],
           s.n, fp, pct((double)(s.n - fp), (double)s.n), burden);
    /* no AF in nsr2db: require Sp >= 99.5% (achieved 100% on all three) */
    CHECK(pct((double)(s.n - fp), (double)s.n) >= 99.5, "nsr2db %s Sp",
          recs[r]);
    free(det);
    series_free(&s);
  }
}

static void test_afdb03665(const char *root)
{
  char path[1024];
  struct wfdb_beats b;
  struct series s;
  unsigned char *det;
  double burden = -1;
  size_t n_ep = 0;
  snprintf(path, sizeof path, "%s/02_ecg_rr_af/afdb_03665/03665.qrs", root);
  if (wfdb_beats_read(path, &b) != 0) {
    CHECK(0, "cannot read %s", path);
    return;
  }
  series_from_beats(&b, 250.0, &s); /* AFDB: 250 Hz */
  wfdb_beats_free(&b);
  det = malloc(s.n);
  CHECK(run_af(NULL, s.rr, s.n, det, NULL) == ALGO_OK, "detect 03665");
  algo_af_burden(s.rr, det, s.n, &burden);
  algo_af_episodes(s.rr, det, s.n, NULL, 0, &n_ep);
  printf("\nAFDB 03665 (.qrs, no rhythm labels): %zu RR, AF burden %.1f%%, "
         "%zu episodes\n", s.n, burden, n_ep);
  /* 03665 is an AFDB record with AF; only sanity is asserted */
  CHECK(burden > 0 && burden <= 100, "03665 burden");
  free(det);
  series_free(&s);
}

/* ------------------------------------------------- ECG -> R peaks -> AF */

/* Runs the R-peak detector. OUT: *out_n peaks (malloc'd, caller frees). */
static size_t *detect_peaks(const double *x, size_t n, double fs,
                            size_t *out_n)
{
  size_t sl = algo_ecg_scratch_size(n), maxp = (size_t)(n / (0.2 * fs)) + 1;
  void *scr = malloc(sl ? sl : 1);
  size_t *pk = malloc(maxp * sizeof *pk);
  int rc = algo_ecg_rpeaks(x, n, fs, scr, sl, pk, maxp, out_n);
  free(scr);
  CHECK(rc == ALGO_OK, "rpeaks rc %d", rc);
  return pk;
}

static void test_ltaf74_ecg(const char *root)
{
  char path[1024];
  size_t rows, cols, np = 0, i;
  double *m, *rr, burden = 0;
  size_t *pk;
  unsigned char *det;
  snprintf(path, sizeof path, "%s/02_ecg_rr_af/ltafdb_74_ecg/TestAFdata.mat",
           root);
  m = wfdb_mat_read(path, "signal", &rows, &cols); /* 38400 x 2, mV */
  if (!m) {
    CHECK(0, "cannot read %s", path);
    return;
  }
  pk = detect_peaks(m, rows, 128.0, &np); /* channel 1, 128 Hz */
  rr = malloc((np ? np : 1) * sizeof *rr);
  det = malloc(np ? np : 1);
  for (i = 1; i < np; i++)
    rr[i - 1] = (double)(pk[i] - pk[i - 1]) / 128.0;
  CHECK(np > 100, "too few peaks %zu", np);
  if (np > 100) {
    CHECK(run_af(NULL, rr, np - 1, det, NULL) == ALGO_OK, "af");
    algo_af_burden(rr, det, np - 1, &burden);
  }
  printf("\nLTAFDB 74 ECG excerpt (5 min, 128 Hz): %zu R peaks, mean HR %.0f "
         "bpm, AF burden %.1f%%\n", np,
         np > 1 ? 60.0 * (double)(np - 1) /
                      ((double)(pk[np - 1] - pk[0]) / 128.0) : 0.0, burden);
  CHECK(burden >= 50, "AF must be detected in LTAFDB 74 (burden %.1f)",
        burden);
  free(m);
  free(pk);
  free(rr);
  free(det);
}

static const char *const cpsc_recs[] = {
  "data_101_6", "data_101_8", "data_101_9", "data_21_7", "data_21_8",
  "data_21_9", "data_35_10", "data_35_4", "data_35_6", "data_84_1",
  "data_84_2", "data_84_3", "data_8_2", "data_8_3", "data_8_4",
  "data_92_12", "data_92_19", "data_92_4"};

static void test_cpsc(const char *root)
{
  size_t r;
  double subj_ref[6] = {0}, subj_det[6] = {0}, subj_t[6] = {0};
  const char *subj_name[6] = {"101", "21", "35", "84", "8", "92"};
  printf("\nCPSC 2021: lead II -> algo_ecg_rpeaks -> algo_af_detect\n");
  printf("  %-11s %6s %6s %9s %9s\n", "record", "refRR", "detRR", "refAF%",
         "detAF%");
  for (r = 0; r < 18; r++) {
    char path[1024];
    struct wfdb_hea h;
    struct wfdb_beats b;
    int32_t *raw;
    double *x, *rr, ref_af = 0, ref_t = 0, det_burden = 0;
    size_t n, i, np = 0, *pk, s;
    unsigned char *det;
    snprintf(path, sizeof path, "%s/09_cpsc2021_af_sample/%s.hea", root,
             cpsc_recs[r]);
    if (wfdb_hea_read(path, &h) != 0) {
      CHECK(0, "hea %s", path);
      continue;
    }
    snprintf(path, sizeof path, "%s/09_cpsc2021_af_sample/%s.dat", root,
             cpsc_recs[r]);
    raw = wfdb_dat_read(path, &h, 1, &n); /* lead II: the rhythm lead */
    snprintf(path, sizeof path, "%s/09_cpsc2021_af_sample/%s.atr", root,
             cpsc_recs[r]);
    if (!raw || wfdb_beats_read(path, &b) != 0) {
      CHECK(0, "read %s", cpsc_recs[r]);
      free(raw);
      continue;
    }
    x = malloc(n * sizeof *x);
    for (i = 0; i < n; i++)
      x[i] = raw[i];
    pk = detect_peaks(x, n, h.fs, &np);
    for (i = 1; i < b.n; i++) {
      double d = (double)(b.sample[i] - b.sample[i - 1]) / h.fs;
      ref_t += d;
      if (b.rhythm[i] == WFDB_RHY_AFIB)
        ref_af += d;
    }
    rr = malloc((np ? np : 1) * sizeof *rr);
    det = malloc(np ? np : 1);
    for (i = 1; i < np; i++)
      rr[i - 1] = (double)(pk[i] - pk[i - 1]) / h.fs;
    if (np > 1 && run_af(NULL, rr, np - 1, det, NULL) == ALGO_OK)
      algo_af_burden(rr, det, np - 1, &det_burden);
    printf("  %-11s %6zu %6zu %8.1f%% %8.1f%%\n", cpsc_recs[r], b.n - 1,
           np ? np - 1 : 0, pct(ref_af, ref_t), det_burden);
    for (s = 0; s < 6; s++) {
      char pre[16];
      snprintf(pre, sizeof pre, "data_%s_", subj_name[s]);
      if (strncmp(cpsc_recs[r], pre, strlen(pre)) == 0) {
        subj_ref[s] += ref_af;
        subj_det[s] += det_burden / 100.0 * ref_t;
        subj_t[s] += ref_t;
      }
    }
    free(x);
    free(raw);
    free(pk);
    free(rr);
    free(det);
    wfdb_beats_free(&b);
  }
  printf("  by subject (3 records each): reference vs detected AF burden\n");
  for (r = 0; r < 6; r++) {
    double rb = pct(subj_ref[r], subj_t[r]), db = pct(subj_det[r], subj_t[r]);
    printf("  subject %-4s ref %5.1f%% det %5.1f%% |err| %.1f points\n",
           subj_name[r], rb, db, fabs(rb - db));
    /* persistent-AF subjects must be found; non-AF subjects must not be
     * called AF (burden classes, not exact burden) */
    if (rb > 90)
      CHECK(db > 50, "subject %s AF missed (%.1f%%)", subj_name[r], db);
    /* non-AF subjects (21, 35): 0% measured for both, every record with a
     * verdict; subject 35 has an irregular non-AF rhythm (16.3% with the
     * 1.0 detector); ceiling 5% */
    if (rb == 0)
      CHECK(db < 5, "subject %s false AF (%.1f%%)", subj_name[r], db);
  }
}

/* ------------------------------------------------------- properties */

static void test_properties(void)
{
  static const double vals[] = {0.0, -1.0, 1e300, -1e300, 1e-300, 0.8,
                                1e6, 5e-324};
  double rr[300], score[300], pct_b = 0;
  unsigned char af[300];
  static double scr_d[8 * 1024]; /* 64 KiB; checked against the size */
  char *scr = (char *)scr_d;
  size_t v, i, n_ep = 0;
  struct algo_af_episode ep[4];
  int checked = 0;
  CHECK(algo_af_scratch_size(300) <= sizeof scr_d, "scratch %zu",
        algo_af_scratch_size(300));
  CHECK(algo_af_detect(NULL, rr, 0, scr, sizeof scr_d, af, score) ==
            ALGO_EINVAL, "n=0");
  CHECK(algo_af_detect(NULL, NULL, 1, scr, sizeof scr_d, af, score) ==
            ALGO_EINVAL, "NULL");
  CHECK(algo_af_detect(NULL, rr, 300, scr, 10, af, score) == ALGO_ESCRATCH,
        "scratch");
  for (v = 0; v < sizeof vals / sizeof vals[0]; v++) {
    size_t n;
    for (n = 1; n <= 300; n += 299) {
      int rc;
      for (i = 0; i < n; i++)
        rr[i] = (i % 3 == 0) ? vals[v] : vals[(v + i) % 8];
      rc = algo_af_detect(NULL, rr, n, scr, sizeof scr_d, af, score);
      if (rc == ALGO_OK) {
        for (i = 0; i < n; i++)
          CHECK(isfinite(score[i]) && af[i] <= 1, "finite score");
        CHECK(algo_af_episodes(rr, af, n, ep, 4, &n_ep) == ALGO_OK, "ep");
        rc = algo_af_burden(rr, af, n, &pct_b);
        CHECK(rc != ALGO_OK || (isfinite(pct_b) && pct_b >= 0 &&
                                pct_b <= 100), "burden");
      } else {
        CHECK(rc == ALGO_EINVAL, "rc %d", rc);
      }
      checked++;
    }
  }
  /* extreme but valid settings: outputs stay finite and 0/1 */
  {
    struct algo_af_cfg cfg;
    int k;
    for (k = 0; k < 3; k++) {
      algo_af_cfg_default(&cfg);
      cfg.window = k == 0 ? 2 : 1024;
      cfg.sym_step = k == 1 ? 1e-300 : 1e300;
      cfg.sym_levels = k == 2 ? 1 : ALGO_AF_MAX_LEVELS;
      cfg.hysteresis = 1e9;
      cfg.entropy_threshold = 0;
      cfg.threshold = 0;
      for (i = 0; i < 300; i++)
        rr[i] = (i % 7 == 0) ? 1e-300 : (i % 5 == 0 ? 1e300 : 0.8);
      CHECK(algo_af_detect(&cfg, rr, 300, scr, sizeof scr_d, af, score) ==
                ALGO_OK, "extreme cfg %d", k);
      for (i = 0; i < 300; i++)
        CHECK(isfinite(score[i]) && score[i] >= 0 && score[i] <= 1 &&
                  af[i] <= 1, "extreme cfg %d beat %zu", k, i);
      checked++;
    }
  }
  {
    double nanv = NAN;
    rr[0] = nanv;
    CHECK(algo_af_detect(NULL, rr, 1, scr, sizeof scr_d, af, score) ==
              ALGO_EINVAL, "NaN rejected");
  }
  /* ECG: constant, huge, tiny, n = 0/1, wrong fs */
  {
    static double x[2000];
    size_t pk[64], np = 99;
    static char escr[2000 * 24];
    for (v = 0; v < sizeof vals / sizeof vals[0]; v++) {
      int rc;
      for (i = 0; i < 2000; i++)
        x[i] = (i % 250 < 5) ? vals[v] : vals[(v + 1) % 8];
      rc = algo_ecg_rpeaks(x, 2000, 250, escr, sizeof escr, pk, 64, &np);
      CHECK(rc == ALGO_OK && np <= 64, "ecg rc %d np %zu", rc, np);
      for (i = 1; i < np; i++)
        CHECK(pk[i] > pk[i - 1] && pk[i] < 2000, "ecg peaks order");
      checked++;
    }
    CHECK(algo_ecg_rpeaks(x, 0, 250, escr, sizeof escr, pk, 64, &np) ==
              ALGO_EINVAL, "ecg n=0");
    CHECK(algo_ecg_rpeaks(x, 1, 250, escr, sizeof escr, pk, 64, &np) ==
              ALGO_OK && np == 0, "ecg n=1");
    CHECK(algo_ecg_rpeaks(x, 2000, 50, escr, sizeof escr, pk, 64, &np) ==
              ALGO_EINVAL, "ecg fs");
  }
  printf("\nproperties: %d input families checked\n", checked);
}

int main(void)
{
  const char *root = vg_testdata_require("08_ltafdb_af_labels");
  if (getenv("VG_AF_TUNE"))
    tune_even(root);
  test_properties();
  test_ltafdb(root);
  test_ltafdb_strips(root);
  test_nsr2db(root);
  test_afdb03665(root);
  test_ltaf74_ecg(root);
  test_cpsc(root);
  printf("%s\n", g_fail ? "FAILED" : "OK");
  return g_fail ? 1 : 0;
}
