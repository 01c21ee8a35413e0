/* cgm.c - CGM metrics (International Consensus on TIR, Battelino 2019):
 * time in ranges, glucose statistics, AGP percentiles, hypo events. */
#include "cgm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Largest accepted |t_ms|: keeps differences and double casts exact. */
#define CGM_T_LIMIT ((int64_t)1 << 53)
/* Largest accepted n: keeps scratch arithmetic far from overflow. */
#define CGM_N_LIMIT ((size_t)1 << 28)
#define CGM_DAY_MS ((int64_t)86400000)
/* Plausible CGM reading range (mg/dL); outside it a value is a sensor
 * error code or unit mix-up, not glucose. */
#define CGM_MIN_MGDL 0.0
#define CGM_MAX_MGDL 1000.0

/* Resolved settings. */
struct cgm_set {
  int64_t interval_ms, max_gap_ms, win_start, win_end, bin_ms, hypo_ms;
  int32_t off_min;
  double min_active_pct;
};

/* ---------------------------------------------------------------- helpers */

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void swap_d(double *x, size_t i, size_t j)
{
  double t = x[i];
  x[i] = x[j];
  x[j] = t;
}

/* Reorders X[lo..hi) (finite values) so that, for every position in
 * K[0..nk) (ascending, each in [lo, hi)), x[k] is the value a full sort
 * would put there, with everything before it <= x[k] and everything after
 * >= x[k] (C++ nth_element, for several k at once). Expected O(n log nk):
 * quickselect with a median-of-3 pivot and a three-way partition, so runs
 * of equal readings (integer mg/dL) collapse in one step; each partition
 * sends every wanted k to the side that holds it. After ROUNDS partitions
 * down one path (2 log2(n) + 8; adversarial order) that part is sorted
 * with qsort, which bounds the worst case at O(n log n). Only the order
 * of X changes, never a value, so quantiles read from it are
 * bit-identical to those of a full sort. */
static void select_multi(double *x, size_t lo, size_t hi, const size_t *k,
                         size_t nk, unsigned rounds)
{
  while (nk > 0 && hi - lo > 1) {
    size_t a, lt, gt, i, n_left, n_mid;
    double p;
    if (rounds-- == 0) {
      qsort(x + lo, hi - lo, sizeof *x, cmp_double);
      return;
    }
    /* Median of first, middle and last as pivot. */
    a = lo + (hi - lo) / 2;
    if (x[a] < x[lo])
      swap_d(x, a, lo);
    if (x[hi - 1] < x[lo])
      swap_d(x, hi - 1, lo);
    if (x[hi - 1] < x[a])
      swap_d(x, hi - 1, a);
    p = x[a];
    /* Dijkstra partition: [lo,lt) < p, [lt,gt) == p, [gt,hi) > p. */
    lt = lo;
    gt = hi;
    i = lo;
    while (i < gt) {
      if (x[i] < p)
        swap_d(x, lt++, i++);
      else if (x[i] > p)
        swap_d(x, i, --gt);
      else
        i++;
    }
    for (n_left = 0; n_left < nk && k[n_left] < lt; n_left++)
      ;
    for (n_mid = n_left; n_mid < nk && k[n_mid] < gt; n_mid++)
      ;
    /* Positions in [lt, gt) hold p and are final. Recurse into the left
     * part, loop on the right one (depth <= rounds). */
    if (n_left > 0)
      select_multi(x, lo, lt, k, n_left, rounds);
    lo = gt;
    k += n_mid;
    nk -= n_mid;
  }
}

/* Rounds of partitioning before select_multi falls back to qsort. */
static unsigned select_rounds(size_t n)
{
  unsigned r = 8;
  for (; n > 1; n >>= 1)
    r += 2;
  return r;
}

static int valid_mgdl(double v)
{
  return v > CGM_MIN_MGDL && v <= CGM_MAX_MGDL;
}

static double *scratch_doubles(void *scratch)
{
  uintptr_t p = (uintptr_t)scratch;
  p = (p + 15u) & ~(uintptr_t)15u;
  return (double *)p;
}

static size_t bins_of(int64_t bin_ms)
{
  if (bin_ms < 60000 || bin_ms % 60000 != 0 || CGM_DAY_MS % bin_ms != 0)
    return 0;
  return (size_t)(CGM_DAY_MS / bin_ms);
}

static int64_t cfg_bin_ms(const struct algo_cgm_cfg *cfg)
{
  return cfg && cfg->agp_bin_ms ? cfg->agp_bin_ms : 15 * 60000;
}

size_t algo_cgm_agp_bins(const struct algo_cgm_cfg *cfg)
{
  return bins_of(cfg_bin_ms(cfg));
}

size_t algo_cgm_scratch_size(const struct algo_cgm_cfg *cfg, size_t n)
{
  size_t bins = algo_cgm_agp_bins(cfg);
  if (n > CGM_N_LIMIT)
    n = CGM_N_LIMIT;
  /* 16 bytes alignment slack, n doubles, then bins+1 counters. */
  return 16 + n * sizeof(double) + (bins + 1) * sizeof(size_t);
}

/* Checks pointers, values and order. */
static int check_input(const int64_t *t_ms, const double *mgdl, size_t n)
{
  size_t i;
  if (n == 0)
    return ALGO_OK;
  if (!t_ms || !mgdl || n > CGM_N_LIMIT)
    return ALGO_EINVAL;
  for (i = 0; i < n; i++) {
    if (!isfinite(mgdl[i]) || t_ms[i] > CGM_T_LIMIT ||
        t_ms[i] < -CGM_T_LIMIT)
      return ALGO_EINVAL;
    if (i > 0 && t_ms[i] <= t_ms[i - 1])
      return ALGO_EORDER;
  }
  return ALGO_OK;
}

/* Fills S from CFG and the data; estimates the interval when needed. */
static int resolve(const struct algo_cgm_cfg *cfg, void *scratch,
                   size_t scratch_len, const int64_t *t_ms, size_t n,
                   struct cgm_set *s)
{
  struct algo_cgm_cfg z;
  memset(&z, 0, sizeof z);
  if (!cfg)
    cfg = &z;
  if (cfg->interval_ms < 0 || cfg->max_gap_ms < 0 || cfg->hypo_min_ms < 0 ||
      cfg->agp_bin_ms < 0 || !isfinite(cfg->min_active_pct) ||
      cfg->min_active_pct < 0 || cfg->min_active_pct > 100 ||
      cfg->utc_offset_min < -24 * 60 || cfg->utc_offset_min > 24 * 60 ||
      cfg->interval_ms > CGM_DAY_MS || cfg->max_gap_ms > 30 * CGM_DAY_MS ||
      cfg->hypo_min_ms > CGM_DAY_MS ||
      cfg->window_start_ms < -CGM_T_LIMIT ||
      cfg->window_end_ms > CGM_T_LIMIT || algo_cgm_agp_bins(cfg) == 0)
    return ALGO_EINVAL;
  if (!scratch || scratch_len < algo_cgm_scratch_size(cfg, n))
    return ALGO_ESCRATCH;
  s->interval_ms = cfg->interval_ms;
  if (s->interval_ms == 0 && n >= 2) {
    /* Median successive difference: robust to the odd missed reading. */
    double *d = scratch_doubles(scratch);
    size_t i;
    for (i = 0; i + 1 < n; i++)
      d[i] = (double)(t_ms[i + 1] - t_ms[i]);
    size_t mid = (n - 2) / 2;
    /* O(n) selection: the same value a sort puts there. */
    select_multi(d, 0, n - 1, &mid, 1, select_rounds(n - 1));
    s->interval_ms = (int64_t)d[(n - 2) / 2];
    if (s->interval_ms > CGM_DAY_MS)
      s->interval_ms = CGM_DAY_MS;
  }
  if (s->interval_ms == 0)
    s->interval_ms = 5 * 60000; /* Dexcom/most CGMs sample every 5 min */
  s->max_gap_ms = cfg->max_gap_ms ? cfg->max_gap_ms : 3 * s->interval_ms;
  if (s->max_gap_ms < s->interval_ms)
    s->max_gap_ms = s->interval_ms;
  s->bin_ms = cfg_bin_ms(cfg);
  s->hypo_ms = cfg->hypo_min_ms ? cfg->hypo_min_ms : 15 * 60000;
  s->off_min = cfg->utc_offset_min;
  /* 70 %: Battelino 2019 consensus, "% time CGM active" */
  s->min_active_pct = cfg->min_active_pct > 0 ? cfg->min_active_pct : 70.0;
  if (cfg->window_start_ms || cfg->window_end_ms) {
    s->win_start = cfg->window_start_ms;
    s->win_end = cfg->window_end_ms;
  } else if (n > 0) {
    s->win_start = t_ms[0];
    s->win_end = t_ms[n - 1] + s->interval_ms;
  } else {
    s->win_start = 0;
    s->win_end = s->interval_ms;
  }
  if (s->win_end <= s->win_start)
    return ALGO_EINVAL;
  return ALGO_OK;
}

static int in_window(const struct cgm_set *s, int64_t t)
{
  return t >= s->win_start && t < s->win_end;
}

/* Time reading I stands for: up to the next reading if that is within
 * max_gap_ms, else one nominal interval; clipped to the window end.
 * *brk is set when the reading ends a contiguous stretch. */
static int64_t credit(const struct cgm_set *s, const int64_t *t_ms,
                      const double *mgdl, size_t n, size_t i, int *brk)
{
  int64_t d = s->interval_ms;
  *brk = 1;
  if (i + 1 < n && in_window(s, t_ms[i + 1])) {
    int64_t next = t_ms[i + 1] - t_ms[i];
    if (next <= s->max_gap_ms) {
      d = next;
      *brk = !valid_mgdl(mgdl[i + 1]);
    }
  }
  if (t_ms[i] + d > s->win_end)
    d = s->win_end - t_ms[i];
  return d;
}

/* Band index: 0 <54, 1 54-<70, 2 70-180, 3 >180-250, 4 >250 (mg/dL). */
static int band_of(double v)
{
  if (v < 54.0)
    return 0;
  if (v < 70.0)
    return 1;
  if (v <= 180.0)
    return 2;
  if (v <= 250.0)
    return 3;
  return 4;
}

/* ------------------------------------------------------------- summary */

int algo_cgm_run(const struct algo_cgm_cfg *cfg, void *scratch,
                 size_t scratch_len, const int64_t *t_ms,
                 const double *mgdl, size_t n, struct algo_cgm_result *out)
{
  struct cgm_set s;
  int64_t band_ms[5] = {0, 0, 0, 0, 0};
  size_t band_n[5] = {0, 0, 0, 0, 0};
  double sum = 0, mean, ss = 0;
  size_t i;
  int rc;
  if (!out)
    return ALGO_EINVAL;
  memset(out, 0, sizeof *out);
  rc = check_input(t_ms, mgdl, n);
  if (rc != ALGO_OK)
    return rc;
  rc = resolve(cfg, scratch, scratch_len, t_ms, n, &s);
  if (rc != ALGO_OK)
    return rc;
  out->interval_ms = s.interval_ms;
  out->window_ms = s.win_end - s.win_start;
  for (i = 0; i < n; i++) {
    int brk, b;
    int64_t c;
    if (!in_window(&s, t_ms[i]))
      continue;
    if (!valid_mgdl(mgdl[i])) {
      out->n_invalid++;
      continue;
    }
    c = credit(&s, t_ms, mgdl, n, i, &brk);
    b = band_of(mgdl[i]);
    band_ms[b] += c;
    band_n[b]++;
    out->covered_ms += c;
    out->n_used++;
    sum += mgdl[i];
  }
  out->active_pct = 100.0 * (double)out->n_used * (double)s.interval_ms /
                    (double)out->window_ms;
  if (out->active_pct > 100.0)
    out->active_pct = 100.0;
  out->sufficient = out->n_used > 0 && out->active_pct >= s.min_active_pct;
  if (out->n_used == 0)
    return ALGO_OK;
  mean = sum / (double)out->n_used;
  for (i = 0; i < n; i++)
    if (in_window(&s, t_ms[i]) && valid_mgdl(mgdl[i]))
      ss += (mgdl[i] - mean) * (mgdl[i] - mean);
  out->mean_mgdl = mean;
  out->sd_mgdl = out->n_used > 1 ? sqrt(ss / (double)(out->n_used - 1)) : 0;
  out->cv_pct = 100.0 * out->sd_mgdl / mean;
  /* GMI(%) = 3.31 + 0.02392 x mean mg/dL (Bergenstal, Diabetes Care 2018) */
  out->gmi_pct = 3.31 + 0.02392 * mean;
  {
    double *tp[5] = {&out->t_below54_pct, &out->t_54_69_pct,
                     &out->t_70_180_pct, &out->t_181_250_pct,
                     &out->t_above250_pct};
    double *np[5] = {&out->n_below54_pct, &out->n_54_69_pct,
                     &out->n_70_180_pct, &out->n_181_250_pct,
                     &out->n_above250_pct};
    int b;
    for (b = 0; b < 5; b++) {
      *tp[b] = out->covered_ms > 0
                   ? 100.0 * (double)band_ms[b] / (double)out->covered_ms
                   : 0.0;
      *np[b] = 100.0 * (double)band_n[b] / (double)out->n_used;
    }
  }
  return ALGO_OK;
}

/* ----------------------------------------------------------------- AGP */

/* The AGP percentiles, ascending. */
static const double agp_p[5] = {0.05, 0.25, 0.50, 0.75, 0.95};

/* R type 7 quantile of X[0..n), n >= 1, whose order statistics at
 * floor(h) and floor(h) + 1 (h = (n - 1) p) are in their sorted places:
 * x(lo) + (h - lo) (x(lo+1) - x(lo)), as on a sorted array. */
static double quantile7(const double *x, size_t n, double p)
{
  double h = (double)(n - 1) * p;
  size_t lo = (size_t)floor(h);
  if (lo + 1 >= n)
    return x[n - 1];
  return x[lo] + (h - (double)lo) * (x[lo + 1] - x[lo]);
}

/* Fills the five AGP percentiles of X[0..n), n >= 1, reordering X: the
 * (up to 10) order statistics quantile7 reads are selected in one
 * multi-selection instead of sorting the bin. */
static void agp_percentiles(double *x, size_t n, double out_p[5])
{
  size_t k[10], nk = 0, j;
  for (j = 0; j < 5; j++) {
    size_t lo = (size_t)floor((double)(n - 1) * agp_p[j]);
    if (lo + 1 >= n) {
      k[nk++] = n - 1;
    } else {
      k[nk++] = lo;
      k[nk++] = lo + 1;
    }
  }
  select_multi(x, 0, n, k, nk, select_rounds(n));
  for (j = 0; j < 5; j++)
    out_p[j] = quantile7(x, n, agp_p[j]);
}

static size_t bin_index(const struct cgm_set *s, int64_t t)
{
  int64_t local = t + (int64_t)s->off_min * 60000;
  int64_t m = local % CGM_DAY_MS;
  if (m < 0)
    m += CGM_DAY_MS;
  return (size_t)(m / s->bin_ms);
}

int algo_cgm_agp(const struct algo_cgm_cfg *cfg, void *scratch,
                 size_t scratch_len, const int64_t *t_ms, const double *mgdl,
                 size_t n, struct algo_cgm_agp_bin *out, size_t n_bins)
{
  struct cgm_set s;
  double *vals;
  size_t *start;
  size_t i, b;
  int rc;
  if (!out || n_bins != algo_cgm_agp_bins(cfg))
    return ALGO_EINVAL;
  memset(out, 0, n_bins * sizeof *out);
  rc = check_input(t_ms, mgdl, n);
  if (rc != ALGO_OK)
    return rc;
  rc = resolve(cfg, scratch, scratch_len, t_ms, n, &s);
  if (rc != ALGO_OK)
    return rc;
  vals = scratch_doubles(scratch);
  start = (size_t *)(vals + n);
  /* Counting sort by bin, then select each bin's order statistics. */
  memset(start, 0, (n_bins + 1) * sizeof *start);
  for (i = 0; i < n; i++)
    if (in_window(&s, t_ms[i]) && valid_mgdl(mgdl[i]))
      start[bin_index(&s, t_ms[i]) + 1]++;
  for (b = 0; b < n_bins; b++) {
    out[b].n = start[b + 1];
    start[b + 1] += start[b];
  }
  for (i = 0; i < n; i++)
    if (in_window(&s, t_ms[i]) && valid_mgdl(mgdl[i]))
      vals[start[bin_index(&s, t_ms[i])]++] = mgdl[i];
  /* start[b] now holds the end of bin b. */
  for (b = 0; b < n_bins; b++) {
    size_t nb = out[b].n;
    double *x = vals + start[b] - nb, q[5];
    out[b].start_min_of_day = (int64_t)b * (s.bin_ms / 60000);
    if (nb == 0)
      continue;
    agp_percentiles(x, nb, q);
    out[b].p5 = q[0];
    out[b].p25 = q[1];
    out[b].p50 = q[2];
    out[b].p75 = q[3];
    out[b].p95 = q[4];
  }
  return ALGO_OK;
}

/* ---------------------------------------------------------- hypo events */

/* Emits one event if room; always counts it. */
static void emit(struct algo_cgm_event *out, size_t cap, size_t *k,
                 int level, int64_t start, int64_t end, double nadir)
{
  if (*k < cap) {
    out[*k].level = level;
    out[*k].start_ms = start;
    out[*k].end_ms = end;
    out[*k].nadir_mgdl = nadir;
  }
  (*k)++;
}

static void scan_level(const struct cgm_set *s, const int64_t *t_ms,
                       const double *mgdl, size_t n, int level,
                       struct algo_cgm_event *out, size_t cap, size_t *k)
{
  double thr = level == 2 ? 54.0 : 70.0;
  int in_event = 0;
  int64_t run_start = 0, run_ms = 0, up_start = 0, up_ms = 0;
  double nadir = 0;
  size_t i;
  for (i = 0; i < n; i++) {
    int brk;
    int64_t c;
    double v = mgdl[i];
    if (!in_window(s, t_ms[i]) || !valid_mgdl(v))
      continue;
    c = credit(s, t_ms, mgdl, n, i, &brk);
    if (v < thr) {
      if (!in_event && run_ms == 0) {
        run_start = t_ms[i];
        nadir = v;
      }
      run_ms += c;
      up_ms = 0;
      if (v < nadir)
        nadir = v;
      if (!in_event && run_ms >= s->hypo_ms)
        in_event = 1;
    } else if (in_event) {
      if (up_ms == 0)
        up_start = t_ms[i];
      up_ms += c;
      if (up_ms >= s->hypo_ms) {
        emit(out, cap, k, level, run_start, up_start, nadir);
        in_event = 0;
        run_ms = 0;
        up_ms = 0;
      }
    } else {
      run_ms = 0;
    }
    if (brk) {
      if (in_event)
        emit(out, cap, k, level, run_start,
             up_ms > 0 ? up_start : t_ms[i] + c, nadir);
      in_event = 0;
      run_ms = 0;
      up_ms = 0;
    }
  }
}

int algo_cgm_hypo_events(const struct algo_cgm_cfg *cfg, void *scratch,
                         size_t scratch_len, const int64_t *t_ms,
                         const double *mgdl, size_t n,
                         struct algo_cgm_event *out, size_t cap,
                         size_t *out_n)
{
  struct cgm_set s;
  size_t k = 0;
  int rc;
  if (!out_n || (cap > 0 && !out))
    return ALGO_EINVAL;
  *out_n = 0;
  rc = check_input(t_ms, mgdl, n);
  if (rc != ALGO_OK)
    return rc;
  rc = resolve(cfg, scratch, scratch_len, t_ms, n, &s);
  if (rc != ALGO_OK)
    return rc;
  scan_level(&s, t_ms, mgdl, n, 1, out, cap, &k);
  scan_level(&s, t_ms, mgdl, n, 2, out, cap, &k);
  *out_n = k;
  return ALGO_OK;
}
