/* test_cgm.c - CGM metrics against iglu's published values (03_cgm_iglu),
 * hand-built hypo/AGP/gap cases, a property test of algo/cgm and the
 * equivalence of its selection-based AGP with a sort-based reference. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgm.h"
#include "vg_check.h"
#include "vg_testdata.h"

/* Prints measured vs expected and checks |got - want| <= tol. */
static void near(const char *what, double got, double want, double tol)
{
  int ok = fabs(got - want) <= tol;
  printf("  %-28s measured %10.4f  expected %10.4f  tol %.4f  %s\n", what,
         got, want, tol, ok ? "ok" : "FAIL");
  if (!ok)
    g_fail++;
}

/* days since 1970-01-01 of a proleptic Gregorian date (Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
  int64_t era, yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* Parses "YYYY-MM-DDTHH:MM:SS+HH:MM" to UTC ms. Returns 0 or -1. */
static int parse_iso(const char *s, int64_t *out_ms)
{
  int y, mo, d, h, mi, se, oh, om;
  char sign;
  if (sscanf(s, "%d-%d-%dT%d:%d:%d%c%d:%d", &y, &mo, &d, &h, &mi, &se, &sign,
             &oh, &om) != 9)
    return -1;
  *out_ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) -
             (sign == '-' ? -1 : 1) * (oh * 3600 + om * 60)) *
            1000;
  return 0;
}

struct series {
  char id[64];
  int64_t *t;
  double *v;
  size_t n, cap;
};

/* Reads id,time,gl[,...] rows; returns the number of subjects in S. */
static size_t load_csv(const char *path, struct series *s, size_t max_s)
{
  char line[512];
  size_t ns = 0;
  FILE *f = fopen(path, "r");
  if (!f) {
    printf("FAIL cannot open %s\n", path);
    g_fail++;
    return 0;
  }
  if (!fgets(line, sizeof line, f)) {
    fclose(f);
    return 0;
  }
  while (fgets(line, sizeof line, f)) {
    char *c1 = strchr(line, ','), *c2;
    struct series *cur;
    int64_t t;
    if (!c1)
      continue;
    *c1 = 0;
    c2 = strchr(c1 + 1, ',');
    if (!c2)
      continue;
    *c2 = 0;
    if (ns == 0 || strcmp(s[ns - 1].id, line) != 0) {
      if (ns == max_s)
        break;
      memset(&s[ns], 0, sizeof s[ns]);
      snprintf(s[ns].id, sizeof s[ns].id, "%s", line);
      ns++;
    }
    cur = &s[ns - 1];
    if (parse_iso(c1 + 1, &t) != 0)
      continue;
    if (cur->n == cur->cap) {
      cur->cap = cur->cap ? 2 * cur->cap : 1024;
      cur->t = realloc(cur->t, cur->cap * sizeof *cur->t);
      cur->v = realloc(cur->v, cur->cap * sizeof *cur->v);
      if (!cur->t || !cur->v)
        abort();
    }
    cur->t[cur->n] = t;
    cur->v[cur->n] = strtod(c2 + 1, NULL);
    cur->n++;
  }
  fclose(f);
  return ns;
}

static void free_series(struct series *s, size_t ns)
{
  size_t i;
  for (i = 0; i < ns; i++) {
    free(s[i].t);
    free(s[i].v);
  }
}

static int run(const struct algo_cgm_cfg *cfg, const int64_t *t,
               const double *v, size_t n, struct algo_cgm_result *r)
{
  size_t len = algo_cgm_scratch_size(cfg, n);
  void *sc = malloc(len);
  int rc = algo_cgm_run(cfg, sc, len, t, v, n, r);
  free(sc);
  return rc;
}

/* --------------------------------------------------------------- iglu */

static void test_iglu_1_subject(const char *root)
{
  char path[4096];
  struct series s[1];
  struct algo_cgm_result r;
  size_t ns;
  snprintf(path, sizeof path, "%s/03_cgm_iglu/example_data_1_subject.csv",
           root);
  ns = load_csv(path, s, 1);
  printf("iglu example_data_1_subject (clinical-reference 2, iglu README)\n");
  CHECK(ns == 1 && s[0].n == 2915, "rows %zu", ns ? s[0].n : 0);
  if (ns != 1)
    return;
  CHECK(run(NULL, s[0].t, s[0].v, s[0].n, &r) == ALGO_OK, "run");
  /* Reference figures are printed with 2-3 decimals: tolerance is half a
   * unit in the last printed place plus float noise. */
  near("n readings", (double)r.n_used, 2915, 0);
  near("mean mg/dL", r.mean_mgdl, 123.67, 0.005);
  near("SD mg/dL", r.sd_mgdl, 33.27, 0.005);
  near("CV %", r.cv_pct, 26.90, 0.005);
  near("GMI %", r.gmi_pct, 6.268, 0.0005);
  near("count <54 %", r.n_below54_pct, 0.00, 0.005);
  near("count <70 %", r.n_below54_pct + r.n_54_69_pct, 0.14, 0.005);
  near("count 70-180 %", r.n_70_180_pct, 91.66, 0.005);
  near("count >180 %", r.n_181_250_pct + r.n_above250_pct, 8.20, 0.005);
  near("count >250 % (README 0.377)", r.n_above250_pct, 0.377, 0.0005);
  printf("  time-weighted: <54 %.3f  54-69 %.3f  70-180 %.3f  181-250 %.3f"
         "  >250 %.3f\n", r.t_below54_pct, r.t_54_69_pct, r.t_70_180_pct,
         r.t_181_250_pct, r.t_above250_pct);
  printf("  interval %lld ms, window %.2f d, covered %.2f d, active %.2f %%,"
         " sufficient %d\n", (long long)r.interval_ms,
         (double)r.window_ms / 864e5, (double)r.covered_ms / 864e5,
         r.active_pct, r.sufficient);
  /* Regular 5-min data: time-weighted and count-based TIR agree within a
   * point (clinical reference 2, "Time-weighting"). */
  near("TIR time vs count", r.t_70_180_pct, r.n_70_180_pct, 1.0);
  CHECK(r.interval_ms == 300000, "interval %lld", (long long)r.interval_ms);
  CHECK(r.sufficient == 1, "sufficient");
  {
    struct algo_cgm_cfg cfg;
    size_t nb, len, i, tot = 0;
    struct algo_cgm_agp_bin *bins;
    void *sc;
    memset(&cfg, 0, sizeof cfg);
    cfg.utc_offset_min = -5 * 60; /* data recorded in EST */
    nb = algo_cgm_agp_bins(&cfg);
    len = algo_cgm_scratch_size(&cfg, s[0].n);
    bins = calloc(nb, sizeof *bins);
    sc = malloc(len);
    CHECK(nb == 96, "bins %zu", nb);
    CHECK(algo_cgm_agp(&cfg, sc, len, s[0].t, s[0].v, s[0].n, bins, nb) ==
              ALGO_OK, "agp");
    for (i = 0; i < nb; i++) {
      tot += bins[i].n;
      CHECK(bins[i].n == 0 || (bins[i].p5 <= bins[i].p25 &&
                               bins[i].p25 <= bins[i].p50 &&
                               bins[i].p50 <= bins[i].p75 &&
                               bins[i].p75 <= bins[i].p95 &&
                               bins[i].p5 >= 66 && bins[i].p95 <= 276),
            "agp bin %zu order", i);
    }
    CHECK(tot == s[0].n, "agp total %zu", tot);
    printf("  AGP 15-min bins: total %zu readings; 03:00 bin n=%zu p50=%.1f;"
           " 18:00 bin n=%zu p50=%.1f\n", tot, bins[12].n, bins[12].p50,
           bins[72].n, bins[72].p50);
    free(bins);
    free(sc);
  }
  free_series(s, ns);
}

static void test_iglu_5_subject(const char *root)
{
  char path[4096];
  struct series s[5];
  size_t ns, i;
  snprintf(path, sizeof path, "%s/03_cgm_iglu/example_data_5_subject.csv",
           root);
  ns = load_csv(path, s, 5);
  printf("iglu example_data_5_subject (gap handling)\n");
  CHECK(ns == 5, "subjects %zu", ns);
  for (i = 0; i < ns; i++) {
    struct algo_cgm_result r;
    CHECK(run(NULL, s[i].t, s[i].v, s[i].n, &r) == ALGO_OK, "run");
    printf("  %-10s n=%4zu mean %6.2f CV %5.2f GMI %.3f TIR count %6.2f "
           "time %6.2f  active %6.2f%% covered %.2f/%.2f d\n", s[i].id,
           r.n_used, r.mean_mgdl, r.cv_pct, r.gmi_pct, r.n_70_180_pct,
           r.t_70_180_pct, r.active_pct, (double)r.covered_ms / 864e5,
           (double)r.window_ms / 864e5);
    /* Regular 5-min sampling: the two conventions agree within 1 point. */
    CHECK(fabs(r.n_70_180_pct - r.t_70_180_pct) <= 1.0, "tir agree");
    if (i == 1) {
      /* Subject 2 has a > 12 h gap: it must not count as covered time. */
      CHECK((double)(r.window_ms - r.covered_ms) >= 12 * 3600e3,
            "gap excluded: uncovered %.1f h",
            (double)(r.window_ms - r.covered_ms) / 3600e3);
      CHECK(r.active_pct < 100.0, "active %.2f", r.active_pct);
    }
  }
  free_series(s, ns);
}

/* ---------------------------------------------------------- hand-built */

#define MIN_MS ((int64_t)60000)

static void test_hypo_events(void)
{
  /* 5-min readings; times in minutes. */
  static const double v[] = {
      100, 100, 65, 65, 65, 100, 100, 100, 100, /* L1: 15 min low       */
      100, 65, 65, 100, 100, 100, 100,          /* 10 min: no event     */
      60, 50, 50, 50, 80, 60, 100, 100, 100,    /* L1 with 5-min blip,
                                                   L2: 15 min < 54      */
      100, 100};
  size_t n = sizeof v / sizeof v[0], i, len, ne = 0;
  int64_t t[32];
  struct algo_cgm_event ev[8];
  struct algo_cgm_cfg cfg;
  void *sc;
  memset(&cfg, 0, sizeof cfg);
  for (i = 0; i < n; i++)
    t[i] = (int64_t)i * 5 * MIN_MS;
  len = algo_cgm_scratch_size(&cfg, n);
  sc = malloc(len);
  printf("hand-built hypoglycaemia events\n");
  CHECK(algo_cgm_hypo_events(&cfg, sc, len, t, v, n, ev, 8, &ne) == ALGO_OK,
        "events rc");
  printf("  events found %zu (expected 3)\n", ne);
  CHECK(ne == 3, "n events %zu", ne);
  if (ne == 3) {
    CHECK(ev[0].level == 1 && ev[0].start_ms == 10 * MIN_MS &&
              ev[0].end_ms == 25 * MIN_MS && ev[0].nadir_mgdl == 65,
          "ev0 %d %lld %lld", ev[0].level, (long long)ev[0].start_ms,
          (long long)ev[0].end_ms);
    /* 60,50,50,50,80,60 then recovery: one L1 event 80..110 min. */
    CHECK(ev[1].level == 1 && ev[1].start_ms == 80 * MIN_MS &&
              ev[1].end_ms == 110 * MIN_MS && ev[1].nadir_mgdl == 50,
          "ev1 %d %lld %lld", ev[1].level, (long long)ev[1].start_ms,
          (long long)ev[1].end_ms);
    CHECK(ev[2].level == 2 && ev[2].start_ms == 85 * MIN_MS &&
              ev[2].end_ms == 100 * MIN_MS,
          "ev2 %d %lld %lld", ev[2].level, (long long)ev[2].start_ms,
          (long long)ev[2].end_ms);
  }
  /* A gap > max_gap splits a low run: 2 readings, gap, 2 readings. */
  {
    int64_t tg[4] = {0, 5 * MIN_MS, 60 * MIN_MS, 65 * MIN_MS};
    double vg[4] = {60, 60, 60, 60};
    cfg.interval_ms = 5 * MIN_MS;
    CHECK(algo_cgm_hypo_events(&cfg, sc, len, tg, vg, 4, ev, 8, &ne) ==
              ALGO_OK && ne == 0, "gap split: %zu events", ne);
    printf("  10 min low, 55 min gap, 10 min low: %zu events (expected 0)\n",
           ne);
  }
  free(sc);
}

static void test_time_weighting(void)
{
  /* 15-min sensor readings then 5-min: count- and time-based differ. */
  int64_t t[6] = {0, 15 * MIN_MS, 30 * MIN_MS, 45 * MIN_MS, 50 * MIN_MS,
                  55 * MIN_MS};
  double v[6] = {200, 200, 200, 100, 100, 100};
  struct algo_cgm_cfg cfg;
  struct algo_cgm_result r;
  memset(&cfg, 0, sizeof cfg);
  cfg.interval_ms = 5 * MIN_MS;
  cfg.max_gap_ms = 15 * MIN_MS;
  printf("hand-built time weighting\n");
  CHECK(run(&cfg, t, v, 6, &r) == ALGO_OK, "rc");
  /* 200 stands for 45 min, 100 for 15 min -> 75 % / 25 % of time;
   * by count 50 % / 50 %. */
  near("time >180 %", r.t_181_250_pct, 75.0, 1e-9);
  near("time 70-180 %", r.t_70_180_pct, 25.0, 1e-9);
  near("count 70-180 %", r.n_70_180_pct, 50.0, 1e-9);
  near("active % (6 x 5 min / 60 min)", r.active_pct, 50.0, 1e-9);
  CHECK(r.sufficient == 0, "insufficient");
  /* max_gap 10 min: the 15-min steps are gaps, each credited 5 min. */
  cfg.max_gap_ms = 10 * MIN_MS;
  CHECK(run(&cfg, t, v, 6, &r) == ALGO_OK, "rc");
  near("covered min, gaps excluded", (double)r.covered_ms / 60e3, 30.0, 0);
  near("time >180 % gaps excluded", r.t_181_250_pct, 50.0, 1e-9);
}

/* ---------------------------------------------------------- properties */

static void test_properties(void)
{
  static const double weird[] = {0.0, -1.0, 1e300, -1e300, DBL_MIN / 4,
                                 5e-324, 1000.0, 1000.0001, 54.0, 70.0,
                                 180.0, 250.0, 39.0, 401.0, DBL_MAX};
  size_t nw = sizeof weird / sizeof weird[0];
  int64_t t[64];
  double v[64];
  struct algo_cgm_result r;
  struct algo_cgm_agp_bin bins[96];
  struct algo_cgm_event ev[16];
  size_t len = algo_cgm_scratch_size(NULL, 64), ne, i, k, n;
  void *sc = malloc(len);
  unsigned seed = 12345u;
  int rc;
  printf("property: arbitrary finite input -> error or finite output\n");
  for (k = 0; k < 2000; k++) {
    n = k % 40;
    for (i = 0; i < n; i++) {
      seed = seed * 1103515245u + 12345u;
      t[i] = (i ? t[i - 1] : -86400000) + 1 +
             (int64_t)((seed >> 8) % 1000000);
      v[i] = (k % 3 == 0) ? weird[(seed >> 4) % nw]
                          : (k % 3 == 1 ? 120.0 : (double)(seed % 500));
    }
    rc = algo_cgm_run(NULL, sc, len, t, v, n, &r);
    CHECK(rc == ALGO_OK, "rc %d", rc);
    CHECK(isfinite(r.mean_mgdl) && isfinite(r.sd_mgdl) &&
              isfinite(r.cv_pct) && isfinite(r.gmi_pct) &&
              isfinite(r.active_pct) && isfinite(r.t_70_180_pct) &&
              isfinite(r.n_70_180_pct) && isfinite(r.t_above250_pct),
          "non-finite output, case %zu", k);
    rc = algo_cgm_agp(NULL, sc, len, t, v, n, bins, 96);
    CHECK(rc == ALGO_OK, "agp rc %d", rc);
    for (i = 0; i < 96; i++)
      CHECK(isfinite(bins[i].p5) && isfinite(bins[i].p95), "agp finite");
    rc = algo_cgm_hypo_events(NULL, sc, len, t, v, n, ev, 16, &ne);
    CHECK(rc == ALGO_OK, "events rc %d", rc);
  }
  /* Errors: NaN, order, scratch, NULL. */
  t[0] = 0;
  t[1] = 0;
  v[0] = v[1] = 100;
  CHECK(algo_cgm_run(NULL, sc, len, t, v, 2, &r) == ALGO_EORDER, "order");
  t[1] = 1;
  v[1] = NAN;
  CHECK(algo_cgm_run(NULL, sc, len, t, v, 2, &r) == ALGO_EINVAL, "nan");
  v[1] = INFINITY;
  CHECK(algo_cgm_run(NULL, sc, len, t, v, 2, &r) == ALGO_EINVAL, "inf");
  v[1] = 100;
  CHECK(algo_cgm_run(NULL, sc, 8, t, v, 2, &r) == ALGO_ESCRATCH, "scratch");
  CHECK(algo_cgm_run(NULL, sc, len, NULL, v, 2, &r) == ALGO_EINVAL, "null");
  t[0] = INT64_MIN;
  CHECK(algo_cgm_run(NULL, sc, len, t, v, 2, &r) == ALGO_EINVAL, "t range");
  free(sc);
}

/* ---------------------------------------------------------- equivalence */

static int cmp_dbl(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

struct ref_pt {
  size_t bin;
  double v;
};

static int cmp_pt(const void *a, const void *b)
{
  const struct ref_pt *x = a, *y = b;
  if (x->bin != y->bin)
    return (x->bin > y->bin) - (x->bin < y->bin);
  return (x->v > y->v) - (x->v < y->v);
}

/* Reference AGP: tag each valid reading (default window: all of them)
 * with its local time-of-day bin, qsort by (bin, value), read type 7
 * percentiles off each bin's sorted run. Also the reference nominal
 * interval: the lower median of the sorted successive differences. */
static void ref_agp(const struct algo_cgm_cfg *cfg, const int64_t *t,
                    const double *v, size_t n, struct ref_pt *pt,
                    struct algo_cgm_agp_bin *out, size_t nb,
                    int64_t *out_interval)
{
  int64_t bin_ms = 86400000 / (int64_t)nb;
  size_t b, i, m = 0, j;
  static const double p[5] = {0.05, 0.25, 0.50, 0.75, 0.95};
  double *d = (double *)pt; /* reused before the points are written */
  for (i = 0; i + 1 < n; i++)
    d[i] = (double)(t[i + 1] - t[i]);
  qsort(d, n > 0 ? n - 1 : 0, sizeof *d, cmp_dbl);
  *out_interval = n >= 2 ? (int64_t)d[(n - 2) / 2] : 300000;
  for (i = 0; i < n; i++) {
    int64_t loc = (t[i] + (int64_t)cfg->utc_offset_min * 60000) % 86400000;
    if (loc < 0)
      loc += 86400000;
    if (v[i] > 0 && v[i] <= 1000) {
      pt[m].bin = (size_t)(loc / bin_ms);
      pt[m++].v = v[i];
    }
  }
  qsort(pt, m, sizeof *pt, cmp_pt);
  for (b = 0, i = 0; b < nb; b++) {
    double x[5];
    size_t k0 = i, cnt;
    while (i < m && pt[i].bin == b)
      i++;
    cnt = i - k0;
    memset(&out[b], 0, sizeof out[b]);
    out[b].start_min_of_day = (int64_t)b * (bin_ms / 60000);
    out[b].n = cnt;
    if (cnt == 0)
      continue;
    for (j = 0; j < 5; j++) {
      double h = (double)(cnt - 1) * p[j];
      size_t lo = (size_t)floor(h);
      x[j] = lo + 1 >= cnt ? pt[i - 1].v
                           : pt[k0 + lo].v + (h - (double)lo) *
                                                 (pt[k0 + lo + 1].v -
                                                  pt[k0 + lo].v);
    }
    out[b].p5 = x[0];
    out[b].p25 = x[1];
    out[b].p50 = x[2];
    out[b].p75 = x[3];
    out[b].p95 = x[4];
  }
}

/* Fills V[0..n) with one of several value patterns, including ones that
 * stress a quickselect: sorted, reversed, all equal, organ pipe, few
 * distinct integers, continuous. */
static void fill_values(double *v, size_t n, int pattern, unsigned *seed)
{
  size_t i;
  for (i = 0; i < n; i++) {
    *seed = *seed * 1103515245u + 12345u;
    switch (pattern) {
    case 0: v[i] = (double)(40 + (*seed >> 8) % 300); break;
    case 1: v[i] = 40.0 + (double)(*seed >> 4) / 268435456.0 * 300.0; break;
    case 2: v[i] = 50.0 + (double)i * 0.01; break;
    case 3: v[i] = 400.0 - (double)i * 0.01; break;
    case 4: v[i] = 120; break;
    case 5: v[i] = (double)(100 + (i < n / 2 ? i : n - i) % 500); break;
    case 6: v[i] = (double)(100 + (*seed >> 8) % 3); break;
    default: /* invalid readings mixed in */
      v[i] = (*seed >> 8) % 9 == 0 ? ((*seed >> 4) % 2 ? 0.0 : 1e6)
                                   : (double)(*seed % 1000) + 0.5;
    }
  }
}

static void test_equivalence(void)
{
  static const int64_t bin_min[] = {15, 5, 60, 1, 1440};
  enum { MAXN = 365 * 288 };
  int64_t *t = malloc(MAXN * sizeof *t), ref_int = 0;
  double *v = malloc(MAXN * sizeof *v);
  struct ref_pt *tmp = malloc(MAXN * sizeof *tmp);
  struct algo_cgm_agp_bin *got = calloc(1440, sizeof *got);
  struct algo_cgm_agp_bin *want = calloc(1440, sizeof *want);
  size_t len = algo_cgm_scratch_size(NULL, MAXN) + 1440 * sizeof(size_t);
  void *sc = malloc(len);
  unsigned seed = 4242u;
  size_t k, i, bad = 0, bins_cmp = 0, vals_cmp = 0;
  printf("equivalence: AGP (selection) and interval vs sort-based "
         "reference\n");
  if (!t || !v || !tmp || !got || !want || !sc)
    abort();
  for (k = 0; k < 400; k++) {
    struct algo_cgm_cfg cfg;
    struct algo_cgm_result r;
    size_t n, nb;
    int rc;
    memset(&cfg, 0, sizeof cfg);
    cfg.agp_bin_ms = bin_min[(k % 50 == 49 ? k / 50 : k) % 5] * 60000;
    cfg.utc_offset_min = (int32_t)(k % 7) * 60 - 180;
    seed = seed * 1103515245u + 12345u;
    /* Mostly small series; every 50th case is a year of 5-min data. */
    n = k % 50 == 49 ? MAXN : (size_t)(seed >> 8) % 6000;
    for (i = 0; i < n; i++) {
      seed = seed * 1103515245u + 12345u;
      t[i] = (i ? t[i - 1] : 1704067200000LL) +
             ((seed >> 24) < 250 ? 300000 + (int64_t)((seed >> 4) % 5) *
                                               (k % 3 ? 1000 : 0)
                                 : 1 + (int64_t)((seed >> 6) % 7200000));
    }
    fill_values(v, n, (int)(k % 8), &seed);
    nb = algo_cgm_agp_bins(&cfg);
    rc = algo_cgm_agp(&cfg, sc, algo_cgm_scratch_size(&cfg, n), t, v, n,
                      got, nb);
    ref_agp(&cfg, t, v, n, tmp, want, nb, &ref_int);
    CHECK(rc == ALGO_OK, "agp rc %d", rc);
    for (i = 0; i < nb; i++) {
      /* Exact: the same order statistics and the same arithmetic. */
      if (memcmp(&got[i], &want[i], sizeof got[i]) != 0) {
        if (bad++ < 5)
          printf("  case %zu bin %zu n %zu: p5 %.17g/%.17g p50 "
                 "%.17g/%.17g p95 %.17g/%.17g\n", k, i, got[i].n,
                 got[i].p5, want[i].p5, got[i].p50, want[i].p50,
                 got[i].p95, want[i].p95);
      }
      bins_cmp++;
      vals_cmp += got[i].n;
    }
    rc = algo_cgm_run(&cfg, sc, algo_cgm_scratch_size(&cfg, n), t, v, n,
                      &r);
    if (rc != ALGO_OK || r.interval_ms != ref_int) {
      if (bad++ < 5)
        printf("  case %zu: interval %lld, reference %lld, rc %d\n", k,
               (long long)r.interval_ms, (long long)ref_int, rc);
    }
  }
  printf("  %zu mismatches (expected 0) over %zu bins holding %zu "
         "readings\n", bad, bins_cmp, vals_cmp);
  CHECK(bad == 0, "equivalence mismatches %zu", bad);
  free(t);
  free(v);
  free(tmp);
  free(got);
  free(want);
  free(sc);
}

int main(void)
{
  const char *root;
  test_hypo_events();
  test_time_weighting();
  test_properties();
  test_equivalence();
  root = vg_testdata_require("03_cgm_iglu");
  test_iglu_1_subject(root);
  test_iglu_5_subject(root);
  printf("%s: %d failure(s)\n", g_fail ? "FAILED" : "PASSED", g_fail);
  return g_fail ? 1 : 0;
}
