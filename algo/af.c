/* af.c - RR-interval AF detector: clamp and 3-point median reference,
 * symbolic dynamics (Shannon entropy of words of quantised successive RR
 * differences, after Zhou et al. 2014/2015) AND a bigeminy-robust
 * irregular-beat fraction over a centred window, then run/gap rules.
 * See docs/clinical/af.md. */
#include "af.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Symbols per word; 3 as in Zhou et al. 2014 (BioMed Eng OnLine 13:18). */
#define WORD_LEN 3
/* Symbol alphabet and word count at the largest sym_levels. */
#define MAX_SYMS (2 * ALGO_AF_MAX_LEVELS + 1)
#define MAX_WORDS (MAX_SYMS * MAX_SYMS * MAX_SYMS)
/* Largest cfg->window. */
#define MAX_WINDOW 1024

void algo_af_cfg_default(struct algo_af_cfg *cfg)
{
  /* window, sym_levels, sym_step, entropy_threshold, threshold: best
   * (Se+Sp)/2 on the EVEN LTAFDB records only (sweep printed by
   * tests/vectors/test_af.c with VG_AF_TUNE=1; docs/clinical/af.md). */
  cfg->window = 128;
  cfg->delta = 0.03;
  cfg->threshold = 0.55;
  cfg->sym_levels = 3;
  cfg->sym_step = 0.09;
  cfg->entropy_threshold = 0.825;
  cfg->hysteresis = 0.2;
  /* 0.25-3.0 s: physiological RR range; beyond is artefact or dropout */
  cfg->rr_min_s = 0.25;
  cfg->rr_max_s = 3.0;
  /* ~30 s at 60-120 bpm: AF episodes shorter than 30 s are not reported
   * (ESC 2020 AF guideline, clinical AF definition) */
  cfg->min_run_beats = 30;
  cfg->max_gap_beats = 16;
}

/* Scratch layout: double m[n], pd[n + 1], clogc[MAX_WINDOW + 1];
 * uint32_t cnt[MAX_WORDS]; uint16_t word[n]. */
size_t algo_af_scratch_size(size_t n)
{
  if (n == 0 || n > ALGO_AF_MAX_N)
    return 0;
  return (2 * n + 1 + MAX_WINDOW + 1) * sizeof(double) +
         MAX_WORDS * sizeof(uint32_t) + n * sizeof(uint16_t);
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
  return c->window >= 2 && c->window <= MAX_WINDOW &&
         isfinite(c->threshold) && c->threshold >= 0 &&
         isfinite(c->delta) && c->delta > 0 && isfinite(c->rr_min_s) &&
         isfinite(c->rr_max_s) && c->rr_min_s > 0 &&
         c->rr_max_s > c->rr_min_s && c->min_run_beats >= 0 &&
         c->max_gap_beats >= 0 && c->sym_levels >= 1 &&
         c->sym_levels <= ALGO_AF_MAX_LEVELS && isfinite(c->sym_step) &&
         c->sym_step > 0 && isfinite(c->entropy_threshold) &&
         c->entropy_threshold >= 0 && isfinite(c->hysteresis) &&
         c->hysteresis >= 0;
}

/* Sets af[a..b) to v. */
static void fill(unsigned char *af, size_t a, size_t b, unsigned char v)
{
  memset(af + a, v, b - a);
}

/* Symbol of successive difference d (seconds) at local RR ref: d / ref
 * quantised in steps of step, clamped to -levels..levels, shifted to
 * 0..2 * levels. */
static unsigned symbol(double d, double ref, double step, int levels)
{
  double q = d / (ref * step);
  long k;
  if (isnan(q)) /* 0 / 0 when ref * step underflows */
    q = 0;
  q = clampd(q, -(double)levels - 1, (double)levels + 1);
  k = lround(q);
  if (k > levels)
    k = levels;
  if (k < -levels)
    k = -levels;
  return (unsigned)(k + levels);
}

int algo_af_detect(const struct algo_af_cfg *cfg, const double *rr_s,
                   size_t n, void *scratch, size_t scratch_len,
                   unsigned char *out_af, double *out_score)
{
  struct algo_af_cfg def;
  double *m, *pd, *clogc, csum;
  uint32_t *cnt;
  uint16_t *word;
  unsigned ns, s0, s1, s2;
  size_t i, half, wa, wb;
  int in_af = 0;

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
  clogc = pd + n + 1;
  cnt = (uint32_t *)(void *)(clogc + MAX_WINDOW + 1);
  word = (uint16_t *)(void *)(cnt + MAX_WORDS);

  /* 1. Local reference: clamp each RR (detector dropouts and artefacts on
   * wearables must not dominate), then a 3-point median m[i], robust to an
   * isolated premature beat and its compensatory pause. */
  for (i = 0; i < n; i++) {
    double a = clampd(rr_s[i > 0 ? i - 1 : i], cfg->rr_min_s, cfg->rr_max_s);
    double b = clampd(rr_s[i], cfg->rr_min_s, cfg->rr_max_s);
    double c = clampd(rr_s[i + 1 < n ? i + 1 : i], cfg->rr_min_s,
                      cfg->rr_max_s);
    m[i] = median3(a, b, c);
  }

  /* 2. Per beat: irregular flag and symbolic word.
   * Irregular: the interval differs by more than delta * m[i] both from
   * the previous interval and from the one before it (lag 2 ignores
   * bigeminy). Symbol: (r[i] - r[i-1]) / m[i] quantised to -L..L; word =
   * symbols of beats i-2, i-1, i. Patterned ectopy (bigeminy, trigeminy,
   * isolated PACs/PVCs in sinus rhythm) and sinus rhythm use few distinct
   * words; AF spreads over many, so their entropy separates the two. */
  ns = 2u * (unsigned)cfg->sym_levels + 1u;
  pd[0] = 0;
  s1 = s2 = (unsigned)cfg->sym_levels; /* "no change" before the start */
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
    s0 = i > 0 ? symbol(r0 - clampd(rr_s[i - 1], cfg->rr_min_s,
                                    cfg->rr_max_s),
                        m[i], cfg->sym_step, cfg->sym_levels)
               : (unsigned)cfg->sym_levels;
    if (i == 0)
      s1 = s2 = s0;
    else if (i == 1)
      s2 = s1;
    word[i] = (uint16_t)((s0 * ns + s1) * ns + s2);
    s2 = s1;
    s1 = s0;
  }

  /* 3. Centred window of W beats: irregular fraction and normalised word
   * entropy H = (ln N - sum c ln c / N) / ln N, kept in O(1) per beat by
   * updating word counts c and csum = sum c ln c as the window slides.
   * Decision with hysteresis: entering AF needs both features above their
   * thresholds, staying needs both above threshold - hysteresis. */
  /* Series shorter than W but at least W/2 long: one window over the whole
   * series (checked on LTAFDB 64- and 96-beat strips, docs/clinical/af.md);
   * shorter series get no verdict. */
  half = n >= (size_t)cfg->window ? (size_t)cfg->window / 2 : n;
  for (i = 0; i <= (size_t)cfg->window; i++)
    clogc[i] = i > 1 ? (double)i * log((double)i) : 0.0;
  memset(cnt, 0, (size_t)ns * ns * ns * sizeof *cnt);
  csum = 0;
  wa = wb = 0;
  for (i = 0; i < n; i++) {
    size_t a = i >= half ? i - half : 0;
    size_t b = i + half < n ? i + half : n;
    double frac = 0, ent = 0;
    while (wb < b) {
      csum += clogc[cnt[word[wb]] + 1] - clogc[cnt[word[wb]]];
      cnt[word[wb++]]++;
    }
    while (wa < a) {
      csum += clogc[cnt[word[wa]] - 1] - clogc[cnt[word[wa]]];
      cnt[word[wa++]]--;
    }
    if (n >= (size_t)cfg->window / 2 && b - a >= 2) {
      double nw = (double)(b - a), h = in_af ? cfg->hysteresis : 0;
      frac = (pd[b] - pd[a]) / nw;
      ent = clampd((log(nw) - csum / nw) / log(nw), 0, 1);
      in_af = ent > cfg->entropy_threshold - h && frac > cfg->threshold - h;
    }
    if (out_score)
      out_score[i] = ent;
    out_af[i] = (unsigned char)in_af;
  }

  /* 4. Run rules: merge AF runs separated by short non-AF gaps, then drop
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
  if (tot > 0) /* in <= tot, but rounding of the two sums can exceed 100 */
    *out_pct = fmin(100.0, 100.0 * in / tot);
  return ALGO_OK;
}
