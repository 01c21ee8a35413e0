/* test_analyze.c - every analysis kind on generated inputs whose answers
 * the test computes, then one real file per kind from ../shared/data
 * (printed). Tolerances are stated at each assertion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "analyze.h"
#include "core_alloc.h"
#include "core_buf.h"
#include "core_errors.h"
#include "vg_testdata.h"
#include "wfdb.h"

/* Runs KIND on the text in B; the parsed result (caller decrefs). */
static json_t *run(const char *kind, const struct analyze_opts *o,
                   const struct vg_buf *b)
{
  struct vg_buf out = VG_BUF_INIT;
  char err[512];
  json_error_t je;
  json_t *j;
  int rc = analyze_run(kind, o, b->data, b->len, &out, err, sizeof err);
  if (rc)
    fail_msg("%s: rc %d: %s", kind, rc, err);
  j = json_loadb(out.data, out.len, 0, &je);
  if (!j)
    fail_msg("%s: output is not JSON: %s", kind, je.text);
  buf_free(&out);
  return j;
}

static double num(const json_t *j, const char *path)
{
  char key[64];
  const char *dot = strchr(path, '.');
  json_t *v;
  if (dot) {
    snprintf(key, sizeof key, "%.*s", (int)(dot - path), path);
    return num(json_object_get(j, key), dot + 1);
  }
  v = json_object_get(j, path);
  if (!json_is_number(v))
    fail_msg("field %s missing or not a number", path);
  return json_number_value(v);
}

static int flag(const json_t *j, const char *k)
{
  json_t *v = json_object_get(j, k);
  assert_true(json_is_boolean(v));
  return json_is_true(v);
}

#define NEAR(a, b, tol)                                                      \
  do {                                                                       \
    double a_ = (a), b_ = (b);                                               \
    if (!(fabs(a_ - b_) <= (tol)))                                           \
      fail_msg("%s = %.9g, expected %.9g +- %g", #a, a_, b_, (double)(tol)); \
  } while (0)

/* ---- generated inputs ------------------------------------------------- */

static void test_cgm_generated(void **state)
{
  struct vg_buf b = VG_BUF_INIT;
  double v[576], sum = 0, ss = 0, mean, sd;
  size_t in_range = 0;
  json_t *j;
  (void)state;
  /* 2 days at 5 min: day 1 at 100, day 2 at 200, 30 min at 60 mg/dL. */
  buf_puts(&b, "time,glucose\n");
  for (int i = 0; i < 576; i++) {
    v[i] = i < 288 ? 100 : 200;
    if (i >= 100 && i < 106)
      v[i] = 60;
    buf_printf(&b, "%lld,%g\n", 1735689600000LL + i * 300000LL, v[i]);
    sum += v[i];
    in_range += v[i] >= 70 && v[i] <= 180;
  }
  mean = sum / 576;
  for (int i = 0; i < 576; i++)
    ss += (v[i] - mean) * (v[i] - mean);
  sd = sqrt(ss / 575);
  j = run("cgm", NULL, &b);
  assert_true(flag(j, "sufficient"));
  NEAR(num(j, "n"), 576, 0);
  NEAR(num(j, "mean_mgdl"), mean, 1e-9);
  NEAR(num(j, "sd_mgdl"), sd, 1e-9);
  /* GMI = 3.31 + 0.02392 x mean (Bergenstal, Diabetes Care 2018) */
  NEAR(num(j, "gmi_pct"), 3.31 + 0.02392 * mean, 1e-9);
  NEAR(num(j, "readings_in_ranges.70_180_pct"), 100.0 * in_range / 576,
       1e-9);
  NEAR(num(j, "readings_in_ranges.54_69_pct"), 100.0 * 6 / 576, 1e-9);
  NEAR(num(j, "time_in_ranges.181_250_pct"), 50, 0.2);
  NEAR(num(j, "hypo_events_total"), 1, 0);
  assert_int_equal(json_array_size(json_object_get(j, "agp")), 96);
  printf("  cgm generated: mean %.3f sd %.3f gmi %.3f, 1 hypo event\n",
         mean, sd, num(j, "gmi_pct"));
  json_decref(j);
  /* 13 readings in an hour, then one 10 h later: insufficient, a reason. */
  buf_reset(&b);
  for (int i = 0; i < 13; i++)
    buf_printf(&b, "%d,120\n", i * 300000);
  buf_printf(&b, "%d,120\n", 36000000);
  j = run("cgm", NULL, &b);
  assert_false(flag(j, "sufficient"));
  assert_true(json_is_string(json_object_get(j, "reason")));
  printf("  cgm sparse: %s\n",
         json_string_value(json_object_get(j, "reason")));
  json_decref(j);
  buf_free(&b);
}

static void test_bp_generated(void **state)
{
  static const struct {
    const char *g;
    const char *verdict, *category;
  } cases[] = {{"esh", "high", "Grade 1"},
               {"china", "high", "Grade 1"},
               {"acc_aha", "high", "Stage 2"}};
  struct vg_buf b = VG_BUF_INIT;
  (void)state;
  /* 7 days, 07:00 and 19:00 at +08:00; day 1 (discarded) at 180/110. */
  buf_puts(&b, "time,sbp,dbp\n");
  for (int d = 0; d < 7; d++) {
    const char *sbp = d ? "140" : "180", *dbp = d ? "90" : "110";
    buf_printf(&b, "2025-03-%02dT07:00:00+08:00,%s,%s\n", d + 1, sbp, dbp);
    buf_printf(&b, "2025-03-%02dT19:00:00+08:00,%s,%s\n", d + 1, sbp, dbp);
  }
  for (size_t i = 0; i < 3; i++) {
    struct analyze_opts o;
    json_t *j, *cat;
    analyze_opts_init(&o);
    assert_int_equal(analyze_guideline_parse(cases[i].g, &o.guideline), 0);
    j = run("bp", &o, &b);
    assert_true(flag(j, "sufficient"));
    NEAR(num(j, "home.sbp_mmhg"), 140, 1e-9);
    NEAR(num(j, "home.dbp_mmhg"), 90, 1e-9);
    NEAR(num(j, "home.n_used"), 12, 0);
    NEAR(num(j, "home.n_day1"), 2, 0);
    NEAR(num(j, "utc_offset_min"), 480, 0);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(j, "home"), "verdict")),
                        cases[i].verdict);
    cat = json_object_get(j, "category_of_mean");
    assert_string_equal(json_string_value(json_object_get(cat, "category")),
                        cases[i].category);
    printf("  bp %s: 140/90 -> %s, %s\n", cases[i].g, cases[i].verdict,
           cases[i].category);
    json_decref(j);
  }
  /* 3 readings only: insufficient with a reason. */
  buf_reset(&b);
  buf_puts(&b, "0,120,80\n86400000,121,80\n172800000,122,80\n");
  {
    json_t *j = run("bp", NULL, &b);
    assert_false(flag(j, "sufficient"));
    assert_true(json_is_string(json_object_get(j, "reason")));
    json_decref(j);
  }
  buf_free(&b);
}

static void test_hrv_generated(void **state)
{
  struct vg_buf b = VG_BUF_INIT;
  json_t *j, *rec;
  double rr[800], mean = 0, ss = 0;
  (void)state;
  /* 800 beats alternating 800/900 ms (about 11 min): every successive
   * difference is 100 ms, so RMSSD 100, pNN50 100 %. */
  for (int i = 0; i < 800; i++) {
    rr[i] = i % 2 ? 900 : 800;
    buf_printf(&b, "%g\n", rr[i]);
  }
  /* The record window is [first beat, last beat): the last interval ends
   * on its open end, so the record holds the first 799 intervals. */
  for (int i = 0; i < 799; i++)
    mean += rr[i];
  mean /= 799;
  for (int i = 0; i < 799; i++)
    ss += (rr[i] - mean) * (rr[i] - mean);
  j = run("hrv", NULL, &b);
  assert_true(flag(j, "sufficient"));
  rec = json_object_get(j, "record");
  NEAR(num(rec, "n_nn"), 799, 0);
  NEAR(num(rec, "mean_nn_ms"), mean, 1e-9);
  NEAR(num(rec, "rmssd_ms"), 100, 1e-9);
  NEAR(num(rec, "pnn50_pct"), 100, 1e-9);
  NEAR(num(rec, "sdnn_ms"), sqrt(ss / 798), 1e-9);
  assert_true(num(j, "n_windows") >= 12);
  printf("  hrv generated: %g windows, record SDNN %.4f RMSSD %.1f\n",
         num(j, "n_windows"), num(rec, "sdnn_ms"), num(rec, "rmssd_ms"));
  json_decref(j);
  /* 100 beats (80 s): shorter than a window, insufficient. */
  buf_reset(&b);
  for (int i = 0; i < 100; i++)
    buf_puts(&b, "800\n");
  j = run("hrv", NULL, &b);
  assert_false(flag(j, "sufficient"));
  json_decref(j);
  buf_free(&b);
}

static void test_af_generated(void **state)
{
  struct vg_buf b = VG_BUF_INIT;
  struct analyze_opts o;
  uint32_t x = 12345;
  json_t *j, *pb;
  (void)state;
  analyze_opts_init(&o);
  o.per_beat = 1;
  /* 600 regular beats: no AF. */
  for (int i = 0; i < 600; i++)
    buf_printf(&b, "%d\n", 800 + (i % 3));
  j = run("af", &o, &b);
  assert_true(flag(j, "sufficient"));
  NEAR(num(j, "burden_pct"), 0, 0);
  NEAR(num(j, "n_episodes"), 0, 0);
  assert_int_equal(json_array_size(json_object_get(j, "per_beat")), 600);
  json_decref(j);
  /* 300 regular, 600 uniformly random in [400, 1200] ms, 300 regular:
   * the random stretch is AF, the rest not (tolerance: burden within
   * 15 points of the random share of time). */
  buf_reset(&b);
  {
    double t_reg = 0, t_irr = 0;
    for (int i = 0; i < 1200; i++) {
      double rr = 800;
      if (i >= 300 && i < 900) {
        x = x * 1664525u + 1013904223u;
        rr = 400 + 800.0 * (x >> 8) / 16777216.0;
        t_irr += rr;
      } else {
        t_reg += rr;
      }
      buf_printf(&b, "%.1f\n", rr);
    }
    j = run("af", &o, &b);
    pb = json_object_get(j, "per_beat");
    assert_int_equal(json_array_size(pb), 1200);
    NEAR(json_integer_value(json_array_get(pb, 600)), 1, 0);
    NEAR(json_integer_value(json_array_get(pb, 10)), 0, 0);
    NEAR(json_integer_value(json_array_get(pb, 1190)), 0, 0);
    NEAR(num(j, "burden_pct"), 100 * t_irr / (t_irr + t_reg), 15);
    assert_true(num(j, "n_episodes") >= 1);
    printf("  af generated: burden %.1f %% (random share %.1f %%), %g "
           "episode(s)\n", num(j, "burden_pct"),
           100 * t_irr / (t_irr + t_reg), num(j, "n_episodes"));
    json_decref(j);
  }
  /* 5 intervals: insufficient, per_beat still one per input interval. */
  buf_reset(&b);
  buf_puts(&b, "800\n900\n700\n800\n850\n");
  j = run("af", &o, &b);
  assert_false(flag(j, "sufficient"));
  assert_int_equal(json_array_size(json_object_get(j, "per_beat")), 5);
  json_decref(j);
  buf_free(&b);
}

/* 20 s at 250 Hz: a 10 ms Gaussian "QRS" every 800 ms on a 0.3 Hz
 * baseline wander. Peaks are at 100 + 200 k samples. */
static void ecg_synth(struct vg_buf *b, int json)
{
  const double fs = 250;
  if (json)
    buf_puts(b, "{\"fs_hz\":250,\"samples\":[");
  for (int i = 0; i < 5000; i++) {
    double t = i / fs, x = 0.2 * sin(2 * M_PI * 0.3 * t);
    int k = (i - 100 + 100) / 200;
    double c = 100 + 200.0 * k, d = (i - c) / fs;
    x += exp(-d * d / (2 * 0.01 * 0.01));
    if (json)
      buf_printf(b, "%s%.5f", i ? "," : "", x);
    else
      buf_printf(b, "%.5f\n", x);
  }
  if (json)
    buf_puts(b, "]}");
}

static void test_ecg_generated(void **state)
{
  struct vg_buf b = VG_BUF_INIT;
  struct analyze_opts o;
  json_t *j, *pk;
  char err[256];
  struct vg_buf out = VG_BUF_INIT;
  (void)state;
  ecg_synth(&b, 0);
  analyze_opts_init(&o);
  /* no fs: an error that says so */
  assert_int_equal(analyze_run("ecg", &o, b.data, b.len, &out, err,
                               sizeof err), -VG_EINVAL);
  assert_non_null(strstr(err, "--fs"));
  buf_free(&out);
  o.fs_hz = 250;
  j = run("ecg", &o, &b);
  pk = json_object_get(j, "peaks");
  /* 25 true beats; the detector may miss the first/last partial second */
  assert_true(json_array_size(pk) >= 23 && json_array_size(pk) <= 25);
  for (size_t i = 0; i < json_array_size(pk); i++) {
    long p = (long)json_integer_value(json_array_get(pk, i));
    long nearest = 100 + 200 * ((p - 100 + 100) / 200);
    if (labs(p - nearest) > 3) /* 12 ms at 250 Hz */
      fail_msg("peak %zu at %ld, true beat at %ld", i, p, nearest);
  }
  NEAR(num(j, "hr_mean_bpm"), 75, 0.5);
  printf("  ecg generated: %zu peaks, HR %.2f bpm\n", json_array_size(pk),
         num(j, "hr_mean_bpm"));
  json_decref(j);
  /* the same as JSON, fs taken from the body */
  buf_reset(&b);
  ecg_synth(&b, 1);
  analyze_opts_init(&o);
  o.format = ANALYZE_JSON;
  j = run("ecg", &o, &b);
  NEAR(num(j, "fs_hz"), 250, 0);
  assert_true(num(j, "n_peaks") >= 23);
  json_decref(j);
  buf_free(&b);
}

static void test_spo2_generated(void **state)
{
  struct vg_buf b = VG_BUF_INIT;
  int n_dips = 0, below = 0;
  json_t *j;
  (void)state;
  /* 5 h at 1 Hz, 97 %, with a 30 s dip to 88 % every 10 min. */
  for (int i = 0; i < 18000; i++) {
    int in_dip = i >= 300 && (i - 300) % 600 < 30;
    n_dips += in_dip && (i - 300) % 600 == 0;
    below += in_dip;
    buf_puts(&b, in_dip ? "88\n" : "97\n");
  }
  j = run("spo2", NULL, &b);
  assert_true(flag(j, "sufficient"));
  NEAR(num(j, "n_desat4"), n_dips, 0);
  NEAR(num(j, "n_desat3"), n_dips, 0);
  NEAR(num(j, "odi4"), n_dips / 5.0, 0.01);
  NEAR(num(j, "t90_pct"), 100.0 * below / 18000, 0.01);
  printf("  spo2 generated: %d dips, ODI4 %.2f/h, T90 %.2f %%\n", n_dips,
         num(j, "odi4"), num(j, "t90_pct"));
  json_decref(j);
  buf_free(&b);
}

static void test_unknown_kind(void **state)
{
  struct vg_buf out = VG_BUF_INIT;
  char err[256];
  (void)state;
  assert_int_equal(analyze_run("mage", NULL, "1\n", 2, &out, err,
                               sizeof err), -VG_ENOTFOUND);
  assert_non_null(strstr(err, "unknown kind 'mage'"));
  assert_false(analyze_kind_known("mage"));
  assert_true(analyze_kind_known("spo2"));
  buf_free(&out);
}

/* ---- real files ------------------------------------------------------- */

static char *slurp(const char *root, const char *rel, size_t *len)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", root, rel);
  return (char *)wfdb_slurp(path, len);
}

static void print_head(const char *kind, const json_t *j)
{
  char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
  printf("  %s real: %.700s%s\n", kind, s, strlen(s) > 700 ? "..." : "");
  free(s);
}

/* iglu example_data_1_subject: id,time,gl -> time,gl. The iglu README
 * gives mean 123.7, 91.7 % in 70-180 and 0.377 % above 250 (counts). */
static void test_cgm_real(void **state)
{
  const char *root = vg_testdata_require("03_cgm_iglu");
  struct vg_buf b = VG_BUF_INIT;
  size_t len;
  char *s = slurp(root, "03_cgm_iglu/example_data_1_subject.csv", &len);
  char *line, *save = NULL;
  json_t *j;
  (void)state;
  assert_non_null(s);
  for (line = strtok_r(s, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    char *c = strchr(line, ',');
    if (c)
      buf_printf(&b, "%s\n", c + 1);
  }
  free(s);
  j = run("cgm", NULL, &b);
  NEAR(num(j, "n"), 2915, 0);
  NEAR(num(j, "mean_mgdl"), 123.7, 0.05);
  NEAR(num(j, "readings_in_ranges.70_180_pct"), 91.7, 0.05);
  NEAR(num(j, "readings_in_ranges.above250_pct"), 0.377, 0.001);
  json_object_del(j, "agp");
  print_head("cgm", j);
  json_decref(j);
  buf_free(&b);
}

struct bp_row {
  char t[32];
  int sbp, dbp;
};

static int bp_cmp(const void *a, const void *b)
{
  return strcmp(((const struct bp_row *)a)->t, ((const struct bp_row *)b)->t);
}

/* bp_jhs: one subject's home readings, UTC; sorted by time here. */
static void test_bp_real(void **state)
{
  const char *root = vg_testdata_require("04_bp_home_abpm");
  struct vg_buf b = VG_BUF_INIT;
  struct bp_row *rows = calloc(1000, sizeof *rows);
  size_t len, n = 0;
  char *s = slurp(root, "04_bp_home_abpm/converted_from_rda/bp_jhs.csv",
                  &len);
  char *line, *save = NULL;
  struct analyze_opts o;
  json_t *j;
  double lo = 1e9, hi = 0;
  (void)state;
  assert_non_null(s);
  for (line = strtok_r(s, "\n", &save); line && n < 1000;
       line = strtok_r(NULL, "\n", &save)) {
    char *f[12];
    int k = 0;
    for (char *p = line; k < 12 && p; k++) {
      f[k] = p;
      p = strchr(p, ',');
      if (p)
        *p++ = '\0';
    }
    if (k < 9 || line[0] < '0' || line[0] > '9')
      continue;
    snprintf(rows[n].t, sizeof rows[n].t, "%s", f[0]);
    rows[n].sbp = (int)strtol(f[7], NULL, 10);
    rows[n].dbp = (int)strtol(f[8], NULL, 10);
    n++;
  }
  free(s);
  qsort(rows, n, sizeof *rows, bp_cmp);
  buf_puts(&b, "time,sbp,dbp\n");
  for (size_t i = 0; i < n; i++)
    buf_printf(&b, "%s,%d,%d\n", rows[i].t, rows[i].sbp, rows[i].dbp);
  analyze_opts_init(&o);
  j = run("bp", &o, &b);
  NEAR(num(j, "n"), (double)n, 0);
  /* the protocol mean lies inside the range of days 2..7 readings */
  for (size_t i = 0; i < n; i++) {
    lo = rows[i].sbp < lo ? rows[i].sbp : lo;
    hi = rows[i].sbp > hi ? rows[i].sbp : hi;
  }
  if (num(j, "home.n_used") > 0)
    assert_true(num(j, "home.sbp_mmhg") >= lo &&
                num(j, "home.sbp_mmhg") <= hi);
  print_head("bp", j);
  json_decref(j);
  free(rows);
  buf_free(&b);
}

/* codi overnight R times (s) -> RR ms. */
static void codi_rr(const char *root, int subject, struct vg_buf *b,
                    size_t *out_n)
{
  char rel[128];
  size_t len;
  char *s, *line, *save = NULL;
  double prev = -1;
  snprintf(rel, sizeof rel, "02_ecg_rr_af/codi_rtimes_spo2/%d/rtimes.csv",
           subject);
  s = slurp(root, rel, &len);
  assert_non_null(s);
  *out_n = 0;
  for (line = strtok_r(s, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    double t = strtod(line, NULL);
    if (prev >= 0) {
      buf_printf(b, "%.0f\n", (t - prev) * 1000);
      (*out_n)++;
    }
    prev = t;
  }
  free(s);
}

static void test_hrv_af_real(void **state)
{
  const char *root = vg_testdata_require("02_ecg_rr_af");
  struct vg_buf b = VG_BUF_INIT;
  struct analyze_opts o;
  size_t n;
  json_t *j;
  (void)state;
  codi_rr(root, 1, &b, &n);
  j = run("hrv", NULL, &b);
  assert_true(flag(j, "sufficient"));
  /* 10,000 R times over about 2.65 h: mean NN near 9549 s / 9999 */
  NEAR(num(j, "record.mean_nn_ms"), 955, 10);
  json_object_del(j, "windows");
  print_head("hrv", j);
  json_decref(j);
  buf_reset(&b);
  codi_rr(root, 2, &b, &n);
  analyze_opts_init(&o);
  o.per_beat = 1;
  j = run("af", &o, &b);
  assert_int_equal(json_array_size(json_object_get(j, "per_beat")), n);
  json_object_del(j, "per_beat");
  print_head("af", j);
  json_decref(j);
  buf_free(&b);
}

/* CPSC 2021 data_101_6 lead I at 200 Hz against its reference beats:
 * sensitivity and PPV within 150 ms must each be >= 0.95. */
static void test_ecg_real(void **state)
{
  const char *root = vg_testdata_require("09_cpsc2021_af_sample");
  char path[4096];
  struct wfdb_hea h;
  struct wfdb_beats ref;
  struct vg_buf b = VG_BUF_INIT;
  struct analyze_opts o;
  int32_t *x;
  size_t n, tp = 0;
  json_t *j, *pk;
  (void)state;
  snprintf(path, sizeof path, "%s/09_cpsc2021_af_sample/data_101_6.hea",
           root);
  assert_int_equal(wfdb_hea_read(path, &h), 0);
  snprintf(path, sizeof path, "%s/09_cpsc2021_af_sample/data_101_6.dat",
           root);
  x = wfdb_dat_read(path, &h, 0, &n);
  assert_non_null(x);
  snprintf(path, sizeof path, "%s/09_cpsc2021_af_sample/data_101_6.atr",
           root);
  assert_int_equal(wfdb_beats_read(path, &ref), 0);
  for (size_t i = 0; i < n; i++)
    buf_printf(&b, "%d\n", x[i]);
  free(x);
  analyze_opts_init(&o);
  o.fs_hz = h.fs;
  j = run("ecg", &o, &b);
  pk = json_object_get(j, "peaks");
  for (size_t i = 0, k = 0; i < ref.n; i++) {
    while (k < json_array_size(pk) &&
           json_integer_value(json_array_get(pk, k)) < ref.sample[i] - 30)
      k++;
    if (k < json_array_size(pk) &&
        json_integer_value(json_array_get(pk, k)) <= ref.sample[i] + 30)
      tp++, k++;
  }
  printf("  ecg real: %zu samples at %g Hz, %zu reference beats, %zu "
         "detected, %zu matched (Se %.3f, PPV %.3f), HR %.1f\n",
         n, h.fs, ref.n, json_array_size(pk), tp, (double)tp / ref.n,
         (double)tp / json_array_size(pk), num(j, "hr_mean_bpm"));
  assert_true((double)tp / ref.n >= 0.95);
  assert_true((double)tp / json_array_size(pk) >= 0.95);
  json_decref(j);
  wfdb_beats_free(&ref);
  buf_free(&b);
}

/* codi subject 1 oximetry: 9,556 s at 1 Hz, under the 4 h sufficiency. */
static void test_spo2_real(void **state)
{
  const char *root = vg_testdata_require("02_ecg_rr_af");
  struct vg_buf b = VG_BUF_INIT;
  size_t len;
  char *s = slurp(root, "02_ecg_rr_af/codi_rtimes_spo2/1/sao.csv", &len);
  json_t *j;
  (void)state;
  assert_non_null(s);
  buf_append(&b, s, len);
  free(s);
  j = run("spo2", NULL, &b);
  NEAR(num(j, "n"), 9556, 0);
  NEAR(num(j, "valid_ms") + num(j, "n_invalid") * 1000, 9556000, 1000);
  assert_false(flag(j, "sufficient"));
  print_head("spo2", j);
  json_decref(j);
  buf_free(&b);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cgm_generated),
      cmocka_unit_test(test_bp_generated),
      cmocka_unit_test(test_hrv_generated),
      cmocka_unit_test(test_af_generated),
      cmocka_unit_test(test_ecg_generated),
      cmocka_unit_test(test_spo2_generated),
      cmocka_unit_test(test_unknown_kind),
      cmocka_unit_test(test_cgm_real),
      cmocka_unit_test(test_bp_real),
      cmocka_unit_test(test_hrv_af_real),
      cmocka_unit_test(test_ecg_real),
      cmocka_unit_test(test_spo2_real),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
