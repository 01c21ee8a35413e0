/* af.c - RR-interval AF detector: ectopic (median) filtering, normalised
 * successive-difference irregularity over a short centred window, a fixed
 * threshold, then run/gap rules. Structure after Petrenas, Marozas and
 * Sornmo 2015 (Comput Biol Med 65:184-191); see docs/clinical/af.md. */
#include "af.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

void algo_af_cfg_default(struct algo_af_cfg *cfg)
{
  /* window, delta, threshold: best (Se+Sp)/2 on the EVEN LTAFDB records
   * only (sweep W 16/32/64, delta 0.02-0.10, threshold 0.30-0.80 printed by
   * tests/vectors/test_af.c with VG_AF_TUNE=1): even Se 96.8, Sp 93.0. */
  cfg->window = 64;
  cfg->delta = 0.03;
  cfg->threshold = 0.65;
  /* 0.25-3.0 s: physiological RR range; beyond is artefact or dropout */
  cfg->rr_min_s = 0.25;
  cfg->rr_max_s = 3.0;
  /* ~30 s at 60-120 bpm: AF episodes shorter than 30 s are not reported
   * (ESC 2020 AF guideline, clinical AF definition) */
  cfg->min_run_beats = 30;
  cfg->max_gap_beats = 16;
}

size_t algo_af_scratch_size(size_t n)
{
  if (n == 0 || n > ALGO_AF_MAX_N)
    return 0;
  return (3 * n + 2) * sizeof(double);
}

static double clampd(double x, double lo, double hi)
{
  return x < lo ? lo : (x > hi ? hi : x);
}

static double median3(double a, double b, double c)
{
  if (a > b) {
    double t = a;
    a = b;
    b = t;
  }
  /* now a <= b */
  if (c <= a)
    return a;
  if (c >= b)
    return b;
  return c;
}

static int cfg_ok(const struct algo_af_cfg *c)
{
  return c->window >= 2 && c->window <= 1024 && isfinite(c->threshold) &&
         c->threshold >= 0 && isfinite(c->delta) && c->delta > 0 &&
         isfinite(c->rr_min_s) &&
         isfinite(c->rr_max_s) && c->rr_min_s > 0 &&
         c->rr_max_s > c->rr_min_s && c->min_run_beats >= 0 &&
         c->max_gap_beats >= 0;
}

/* Sets af[a..b) to v. */
static void fill(unsigned char *af, size_t a, size_t b, unsigned char v)
{
  memset(af + a, v, b - a);
}

int algo_af_detect(const struct algo_af_cfg *cfg, const double *rr_s,
                   size_t n, void *scratch, size_t scratch_len,
                   unsigned char *out_af, double *out_score)
{
  struct algo_af_cfg def;
  double *m, *pd, *pm;
  size_t i, half;

  if (!cfg) {
    algo_af_cfg_default(&def);
    cfg = &def;
  }
  if (!rr_s || !out_af || !scratch || n == 0 || n > ALGO_AF_MAX_N ||
      !cfg_ok(cfg))
    return ALGO_EINVAL;
  if (scratch_len < algo_af_scratch_size(n))
    return ALGO_ESCRATCH;
  for (i = 0; i < n; i++)
    if (!isfinite(rr_s[i]) || rr_s[i] <= 0)
      return ALGO_EINVAL;

  m = scratch;
  pd = m + n;
  pm = pd + n + 1;

  /* 1. Ectopic filtering: a 3-point median removes an isolated premature
   * beat and its compensatory pause (short-long pair) while leaving the
   * sustained irregularity of AF. Clamping first keeps detector dropouts
   * (missed pulses on wearables) from dominating the window. */
  for (i = 0; i < n; i++) {
    double a = clampd(rr_s[i > 0 ? i - 1 : i], cfg->rr_min_s, cfg->rr_max_s);
    double b = clampd(rr_s[i], cfg->rr_min_s, cfg->rr_max_s);
    double c = clampd(rr_s[i + 1 < n ? i + 1 : i], cfg->rr_min_s,
                      cfg->rr_max_s);
    m[i] = median3(a, b, c);
  }

  /* 2. Irregularity: fraction of beats in the centred window whose interval
   * differs by more than delta * (local mean RR) both from the previous
   * interval and from the one before it. AF makes nearly every interval
   * "new"; an isolated ectopic beat flags at most three; bigeminy and
   * trigeminy repeat with lag 2 or 3 and are suppressed by the lag-2 test
   * (the role of Petrenas' bigeminy suppression). m[] (median-filtered RR)
   * only provides the local mean, robust to the ectopic beats themselves. */
  pd[0] = 0;
  pm[0] = 0;
  for (i = 0; i < n; i++) {
    double r0 = clampd(rr_s[i], cfg->rr_min_s, cfg->rr_max_s);
    double tol = cfg->delta * m[i];
    int irr = 0;
    if (i >= 2) {
      double r1 = clampd(rr_s[i - 1], cfg->rr_min_s, cfg->rr_max_s);
      double r2 = clampd(rr_s[i - 2], cfg->rr_min_s, cfg->rr_max_s);
      irr = fabs(r0 - r1) > tol && fabs(r0 - r2) > tol;
    }
    pd[i + 1] = pd[i] + irr;
    pm[i + 1] = pm[i] + m[i];
  }
  half = (size_t)cfg->window / 2;
  for (i = 0; i < n; i++) {
    size_t a = i >= half ? i - half : 0;
    size_t b = i + half < n ? i + half : n;
    double s = 0;
    if (n >= (size_t)cfg->window && b > a)
      s = (pd[b] - pd[a]) / (double)(b - a);
    if (out_score)
      out_score[i] = s;
    out_af[i] = (unsigned char)(s > cfg->threshold);
  }

  /* 3. Run rules: merge AF runs separated by short non-AF gaps, then drop
   * AF runs too short to report as an episode. */
  i = 0;
  while (i < n) {
    size_t j = i;
    while (j < n && out_af[j] == out_af[i])
      j++;
    if (!out_af[i] && i > 0 && j < n && j - i <= (size_t)cfg->max_gap_beats)
      fill(out_af, i, j, 1);
    i = j;
  }
  i = 0;
  while (i < n) {
    size_t j = i;
    while (j < n && out_af[j] == out_af[i])
      j++;
    if (out_af[i] && j - i < (size_t)cfg->min_run_beats)
      fill(out_af, i, j, 0);
    i = j;
  }
  return ALGO_OK;
}

int algo_af_episodes(const double *rr_s, const unsigned char *af, size_t n,
                     struct algo_af_episode *out, size_t max_out,
                     size_t *out_n)
{
  size_t i = 0, k = 0;
  double t = 0;
  if (!rr_s || !af || !out_n || (max_out > 0 && !out))
    return ALGO_EINVAL;
  *out_n = 0;
  while (i < n) {
    size_t j = i;
    double t0 = t;
    while (j < n && (af[j] != 0) == (af[i] != 0)) {
      t += isfinite(rr_s[j]) ? rr_s[j] : 0;
      j++;
    }
    if (af[i]) {
      if (k < max_out) {
        out[k].start_beat = i;
        out[k].end_beat = j - 1;
        out[k].start_s = t0;
        out[k].end_s = t;
        out[k].duration_s = t - t0;
      }
      k++;
    }
    i = j;
  }
  *out_n = k;
  return ALGO_OK;
}

int algo_af_burden(const double *rr_s, const unsigned char *af, size_t n,
                   double *out_pct)
{
  double tot = 0, in = 0;
  size_t i;
  if (!rr_s || !af || !out_pct)
    return ALGO_EINVAL;
  *out_pct = 0;
  for (i = 0; i < n; i++) {
    if (!isfinite(rr_s[i]) || rr_s[i] < 0)
      return ALGO_EINVAL;
    tot += rr_s[i];
    if (af[i])
      in += rr_s[i];
  }
  if (!isfinite(tot))
    return ALGO_EINVAL;
  if (tot > 0)
    *out_pct = 100.0 * in / tot;
  return ALGO_OK;
}
