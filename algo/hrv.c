/* hrv.c - RR preprocessing and windowed time-domain HRV (Task Force 1996;
 * preprocessing after the PhysioNet Cardiovascular Signal Toolbox). */
#include "hrv.h"

#include <math.h>
#include <string.h>

#define HRV_T_LIMIT ((int64_t)1 << 53)
#define HRV_N_LIMIT ((size_t)1 << 28)
/* Spike rule neighbourhood: median of 5 RR (Vest et al. 2018 toolbox). */
#define HRV_NB 5

#define F_DROP 1u  /* removed before the spike rule */
#define F_FWD 2u
#define F_BWD 4u

struct hrv_set {
  double min_rr, max_rr, gap, change, max_missing;
  int64_t window, step;
};

static int resolve(const struct algo_hrv_cfg *cfg, struct hrv_set *s)
{
  struct algo_hrv_cfg z;
  memset(&z, 0, sizeof z);
  if (!cfg)
    cfg = &z;
  /* 60/160 s and 60/30 s: toolbox physiological limits */
  s->min_rr = cfg->min_rr_ms > 0 ? cfg->min_rr_ms : 375.0;
  s->max_rr = cfg->max_rr_ms > 0 ? cfg->max_rr_ms : 2000.0;
  s->gap = cfg->gap_ms > 0 ? cfg->gap_ms : 2000.0;      /* toolbox gaplimit */
  s->change = cfg->max_change > 0 ? cfg->max_change : 0.20; /* per_limit */
  s->max_missing = cfg->max_missing > 0 ? cfg->max_missing : 0.15;
  s->window = cfg->window_ms > 0 ? cfg->window_ms : 300000; /* 5 min */
  s->step = cfg->step_ms > 0 ? cfg->step_ms : 30000;
  if (!(s->min_rr < s->max_rr) || !(s->max_rr <= 60000.0) ||
      !(s->gap <= 60000.0) || !(s->change < 10.0) ||
      !(s->max_missing <= 1.0) || s->window > ((int64_t)1 << 40) ||
      s->step > ((int64_t)1 << 40))
    return ALGO_EINVAL;
  return ALGO_OK;
}

size_t algo_hrv_scratch_size(const struct algo_hrv_cfg *cfg, size_t n)
{
  (void)cfg;
  if (n > HRV_N_LIMIT)
    n = HRV_N_LIMIT;
  return 16 + n * (sizeof(double) + sizeof(int64_t) + 1);
}

size_t algo_hrv_window_count(const struct algo_hrv_cfg *cfg, int64_t span_ms)
{
  struct hrv_set s;
  if (resolve(cfg, &s) != ALGO_OK || span_ms < s.window)
    return 0;
  return (size_t)((span_ms - s.window) / s.step) + 1;
}

/* Median of 5 values. */
static double median5(const double *x)
{
  double a[HRV_NB];
  int i, j;
  for (i = 0; i < HRV_NB; i++) {
    double v = x[i];
    for (j = i; j > 0 && a[j - 1] > v; j--)
      a[j] = a[j - 1];
    a[j] = v;
  }
  return a[HRV_NB / 2];
}

static void window_metrics(const struct hrv_set *s, const double *nn,
                           size_t m, struct algo_hrv_window *w)
{
  double sum = 0, mean, ss = 0, sd2 = 0;
  size_t i, nn50 = 0;
  w->n_nn = m;
  if (m < 2) {
    w->valid = 0;
    return;
  }
  for (i = 0; i < m; i++)
    sum += nn[i];
  mean = sum / (double)m;
  for (i = 0; i < m; i++) {
    ss += (nn[i] - mean) * (nn[i] - mean);
    if (i > 0) {
      double d = nn[i] - nn[i - 1];
      sd2 += d * d;
      nn50 += fabs(d) > 50.0; /* NN50: |dNN| > 50 ms (Task Force) */
    }
  }
  w->mean_nn_ms = mean;
  w->sdnn_ms = sqrt(ss / (double)(m - 1));
  w->rmssd_ms = sqrt(sd2 / (double)(m - 1));
  /* Denominator: m - 1 differences, as the toolbox reference does. */
  w->pnn50_pct = 100.0 * (double)nn50 / (double)(m - 1);
  w->valid = m >= 3 && sum >= (1.0 - s->max_missing) * (double)s->window;
}

int algo_hrv_run(const struct algo_hrv_cfg *cfg, void *scratch,
                 size_t scratch_len, const int64_t *t_ms,
                 const unsigned char *cls, size_t n,
                 struct algo_hrv_window *out, size_t cap, size_t *out_n,
                 struct algo_hrv_prep *out_prep)
{
  struct hrv_set s;
  struct algo_hrv_prep prep;
  double *rr;
  int64_t *tt;
  unsigned char *fl;
  size_t i, m = 0, k, nw, lo = 0;
  int rc;
  if (!out_n || (cap > 0 && !out))
    return ALGO_EINVAL;
  *out_n = 0;
  memset(&prep, 0, sizeof prep);
  if (out_prep)
    *out_prep = prep;
  rc = resolve(cfg, &s);
  if (rc != ALGO_OK)
    return rc;
  if (n > 0 && (!t_ms || n > HRV_N_LIMIT))
    return ALGO_EINVAL;
  for (i = 0; i < n; i++) {
    if (t_ms[i] > HRV_T_LIMIT || t_ms[i] < -HRV_T_LIMIT ||
        (cls && cls[i] > ALGO_HRV_ARTEFACT))
      return ALGO_EINVAL;
    if (i > 0 && t_ms[i] <= t_ms[i - 1])
      return ALGO_EORDER;
  }
  if (!scratch || scratch_len < algo_hrv_scratch_size(cfg, n))
    return ALGO_ESCRATCH;
  if (n < 2)
    return ALGO_OK;
  rr = (double *)(((uintptr_t)scratch + 15u) & ~(uintptr_t)15u);
  tt = (int64_t *)(rr + n);
  fl = (unsigned char *)(tt + n);
  prep.n_rr = n - 1;
  /* 1-2. Artefact marks and gaps leave the series (not outliers). */
  for (i = 1; i < n; i++) {
    double d = (double)(t_ms[i] - t_ms[i - 1]);
    unsigned c = cls ? cls[i] : ALGO_HRV_NORMAL;
    if (c == ALGO_HRV_ARTEFACT) {
      prep.n_artefact++;
      continue;
    }
    if (d >= s.gap) {
      prep.n_gap++;
      continue;
    }
    rr[m] = d;
    tt[m] = t_ms[i];
    fl[m] = c == ALGO_HRV_ECTOPIC ? F_DROP : 0;
    m++;
  }
  /* 3. Spike rule against the 5 RR before and the 5 after. */
  for (i = HRV_NB; i < m; i++) {
    double med = median5(rr + i - HRV_NB);
    if (fabs(rr[i] - med) >= s.change * med)
      fl[i] |= F_FWD;
  }
  for (i = 0; i + HRV_NB < m; i++) {
    double med = median5(rr + i + 1);
    if (fabs(rr[i] - med) >= s.change * med)
      fl[i] |= F_BWD;
  }
  /* 4. Remove flagged and unphysiological intervals, compacting. */
  k = 0;
  for (i = 0; i < m; i++) {
    if (fl[i] & F_DROP) {
      prep.n_ectopic++;
      continue;
    }
    if ((fl[i] & F_FWD) && (fl[i] & F_BWD)) {
      prep.n_spike++;
      continue;
    }
    if (rr[i] < s.min_rr || rr[i] > s.max_rr) {
      prep.n_unphysio++;
      continue;
    }
    rr[k] = rr[i];
    tt[k] = tt[i];
    k++;
  }
  m = k;
  prep.n_nn = m;
  if (out_prep)
    *out_prep = prep;
  /* 5. Windows anchored at the first beat; NN sorted by end time. */
  nw = algo_hrv_window_count(cfg, t_ms[n - 1] - t_ms[0]);
  for (k = 0; k < nw; k++) {
    struct algo_hrv_window w;
    int64_t a = t_ms[0] + (int64_t)k * s.step, b = a + s.window;
    size_t hi;
    memset(&w, 0, sizeof w);
    w.start_ms = a;
    while (lo < m && tt[lo] < a)
      lo++;
    hi = lo;
    while (hi < m && tt[hi] < b)
      hi++;
    window_metrics(&s, rr + lo, hi - lo, &w);
    if (k < cap)
      out[k] = w;
  }
  *out_n = nw;
  return ALGO_OK;
}
