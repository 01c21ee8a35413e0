/* bench_algo.c - throughput of every algorithm behind `vigil analyze` on
 * one patient's data: a year of 5-min CGM, a year of twice-daily home BP,
 * 24 h of RR (hrv, af), 8 h of 1 Hz SpO2, 10 min of 250 Hz ECG; plus the
 * CGM year end to end through analyze_run (CSV text in, JSON out). Each is
 * compared with a baseline measured in the same run: one pass computing
 * the mean of the same array. Target: < 10 ms per data set. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "af.h"
#include "analyze.h"
#include "bp.h"
#include "cgm.h"
#include "core_buf.h"
#include "ecg.h"
#include "hrv.h"
#include "spo2.h"

#define REPS 9
#define TARGET_MS 10.0

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static volatile double sink;

/* Baseline: the mean of x[0..n). */
static void base_mean(const double *x, size_t n)
{
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += x[i];
  sink = s / (double)n;
}

static uint32_t rng = 2463534242u;
static double urand(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng / 4294967296.0;
}

/* ---- data sets ---------------------------------------------------- */

#define N_CGM (365 * 288)
#define N_BP (365 * 2)
#define N_RR 100000
#define N_SPO2 (8 * 3600)
#define N_ECG (10 * 60 * 250)

static int64_t cgm_t[N_CGM], rr_t[N_RR + 1], spo2_t[N_SPO2];
static double cgm_v[N_CGM], rr_ms[N_RR], rr_s[N_RR], spo2_v[N_SPO2];
static double ecg_x[N_ECG], bp_sbp[N_BP];
static struct algo_bp_reading bp_r[N_BP];
static unsigned char af_out[N_RR];
static size_t ecg_pk[N_ECG / 50];
static struct algo_hrv_window hrv_w[4000];
static struct algo_cgm_agp_bin agp[96];
static struct algo_cgm_event ev[2000];
static void *scratch;
static size_t scratch_len;

static void make_data(void)
{
  double t = 0;
  for (size_t i = 0; i < N_CGM; i++) {
    double h = (double)(i % 288) / 12.0;
    cgm_t[i] = 1704067200000LL + (int64_t)i * 300000;
    cgm_v[i] = 140 + 50 * sin(2 * M_PI * h / 24) + 40 * (urand() - 0.5);
  }
  for (size_t i = 0; i < N_BP; i++) {
    bp_r[i].t_utc_s = 1704067200 + (int64_t)(i / 2) * 86400 +
                      (i % 2 ? 19 : 7) * 3600;
    bp_r[i].sbp_mmhg = bp_sbp[i] = 135 + 15 * (urand() - 0.5);
    bp_r[i].dbp_mmhg = 85 + 10 * (urand() - 0.5);
  }
  rr_t[0] = 0;
  for (size_t i = 0; i < N_RR; i++) {
    /* regular with an irregular (AF-like) stretch in the middle third */
    int irr = i > N_RR / 3 && i < 2 * N_RR / 3;
    rr_ms[i] = irr ? 400 + 600 * urand() : 860 + 40 * sin(i / 5.0);
    rr_s[i] = rr_ms[i] / 1000;
    t += rr_ms[i];
    rr_t[i + 1] = (int64_t)llround(t);
  }
  for (size_t i = 0; i < N_SPO2; i++) {
    spo2_t[i] = (int64_t)i * 1000;
    spo2_v[i] = (i % 600) < 30 ? 89 : 96 + urand();
  }
  for (size_t i = 0; i < N_ECG; i++) {
    double ph = fmod(i / 250.0, 0.8) - 0.4;
    ecg_x[i] = exp(-ph * ph / 2e-4) + 0.1 * sin(i / 400.0) +
               0.02 * (urand() - 0.5);
  }
}

static void need(size_t n)
{
  if (n > scratch_len) {
    free(scratch);
    scratch = malloc(n);
    scratch_len = n;
    if (!scratch)
      abort();
  }
}

/* ---- runners ------------------------------------------------------ */

static int r_cgm(void)
{
  struct algo_cgm_result res;
  size_t ss = algo_cgm_scratch_size(NULL, N_CGM), n;
  need(ss);
  return algo_cgm_run(NULL, scratch, ss, cgm_t, cgm_v, N_CGM, &res) ||
         algo_cgm_agp(NULL, scratch, ss, cgm_t, cgm_v, N_CGM, agp, 96) ||
         algo_cgm_hypo_events(NULL, scratch, ss, cgm_t, cgm_v, N_CGM, ev,
                              2000, &n);
}

static int r_bp(void)
{
  struct algo_bp_home_cfg cfg;
  struct algo_bp_home_out out;
  struct algo_bp_abpm_cfg ac;
  struct algo_bp_abpm_out ao;
  if (algo_bp_home_default_cfg(ALGO_BP_HOME_ESH, ALGO_BP_ESH_2023, 480,
                               &cfg) ||
      algo_bp_abpm_default_cfg(ALGO_BP_ESH_2023, ALGO_BP_FIXED, 480, &ac))
    return 1;
  cfg.n_days = 366;
  return algo_bp_home_average(&cfg, bp_r, N_BP, &out) ||
         algo_bp_abpm(&ac, bp_r, NULL, N_BP, &ao);
}

static int r_hrv(void)
{
  size_t ss = algo_hrv_scratch_size(NULL, N_RR + 1), n;
  need(ss);
  return algo_hrv_run(NULL, scratch, ss, rr_t, NULL, N_RR + 1, hrv_w, 4000,
                      &n, NULL);
}

static int r_af(void)
{
  size_t ss = algo_af_scratch_size(N_RR);
  double b;
  need(ss);
  return algo_af_detect(NULL, rr_s, N_RR, scratch, ss, af_out, NULL) ||
         algo_af_burden(rr_s, af_out, N_RR, &b);
}

static int r_spo2(void)
{
  struct algo_spo2_result res;
  size_t ss = algo_spo2_scratch_size(NULL, N_SPO2);
  need(ss + 1);
  return algo_spo2_run(NULL, scratch, ss, spo2_t, spo2_v, NULL, N_SPO2,
                       &res);
}

static int r_ecg(void)
{
  size_t ss = algo_ecg_scratch_size(N_ECG), n;
  need(ss);
  return algo_ecg_rpeaks(ecg_x, N_ECG, 250, scratch, ss, ecg_pk,
                         N_ECG / 50, &n);
}

static struct vg_buf cgm_csv = VG_BUF_INIT;

static int r_cgm_e2e(void)
{
  struct vg_buf out = VG_BUF_INIT;
  char err[256];
  int rc = analyze_run("cgm", NULL, cgm_csv.data, cgm_csv.len, &out, err,
                       sizeof err);
  if (rc)
    fprintf(stderr, "analyze cgm: %s\n", err);
  buf_free(&out);
  return rc;
}

struct bench {
  const char *name, *set;
  int (*run)(void);
  const double *x;
  size_t n;
};

static double median_ms(int (*fn)(void), const double *x, size_t n,
                        int *fail)
{
  double t[REPS];
  for (int r = 0; r < REPS; r++) {
    double t0 = now_ms();
    if (fn) {
      if (fn())
        *fail = 1;
    } else {
      base_mean(x, n);
    }
    t[r] = now_ms() - t0;
  }
  qsort(t, REPS, sizeof t[0], cmp_d);
  return t[REPS / 2];
}

int main(void)
{
  static const struct bench b[] = {
      {"cgm", "1 year 5-min CGM", r_cgm, cgm_v, N_CGM},
      {"bp", "1 year home BP 2/day", r_bp, bp_sbp, N_BP},
      {"hrv", "24 h RR", r_hrv, rr_ms, N_RR},
      {"af", "24 h RR", r_af, rr_ms, N_RR},
      {"spo2", "8 h SpO2 1 Hz", r_spo2, spo2_v, N_SPO2},
      {"ecg", "10 min ECG 250 Hz", r_ecg, ecg_x, N_ECG},
      {"cgm e2e", "1 year CSV->JSON", r_cgm_e2e, cgm_v, N_CGM},
  };
  int fail = 0, over = 0;
  make_data();
  buf_init(&cgm_csv, 0);
  buf_puts(&cgm_csv, "time,glucose_mgdl\n");
  for (size_t i = 0; i < N_CGM; i++)
    buf_printf(&cgm_csv, "%lld,%.1f\n", (long long)cgm_t[i], cgm_v[i]);
  printf("%-8s %-22s %9s %9s %14s %10s %9s\n", "algo", "data set", "points",
         "ms", "points/s", "base ms", "ratio");
  for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) {
    double ms = median_ms(b[i].run, NULL, 0, &fail);
    double base = median_ms(NULL, b[i].x, b[i].n, &fail);
    printf("%-8s %-22s %9zu %9.3f %14.0f %10.4f %9.0f%s\n", b[i].name,
           b[i].set, b[i].n, ms, b[i].n / (ms / 1e3), base,
           base > 0 ? ms / base : 0,
           ms < TARGET_MS || i == 6 ? "" : "  (over target)");
    over += ms >= TARGET_MS && i != 6;
  }
  printf("median of %d runs; baseline = one pass computing the mean of the "
         "same array; target < %.0f ms per data set (e2e not targeted)\n",
         REPS, TARGET_MS);
  if (over)
    printf("%d algorithm(s) over the %.0f ms target\n", over, TARGET_MS);
  buf_free(&cgm_csv);
  free(scratch);
  return fail;
}
