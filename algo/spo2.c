/* spo2.c - desaturation events, ODI, T90 from SpO2 samples. */
#include "spo2.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define SPO2_T_LIMIT ((int64_t)1 << 53)
/* Plausible oximeter range; outside it is a dropout code or artefact. */
#define SPO2_MIN 50.0
#define SPO2_MAX 100.0

struct spo2_set {
  int64_t base, min_ev, merge, gap, min_valid;
};

size_t algo_spo2_scratch_size(const struct algo_spo2_cfg *cfg, size_t n)
{
  (void)cfg;
  if (n == 0)
    return 0;
  if (n > SIZE_MAX / sizeof(size_t) - 1)
    return SIZE_MAX; /* no buffer is that large: ALGO_ESCRATCH */
  /* Baseline deque of n indices, plus alignment slack. */
  return (n + 1) * sizeof(size_t);
}

static int ok_sample(const double *v, const unsigned char *fl, size_t i)
{
  return v[i] >= SPO2_MIN && v[i] <= SPO2_MAX && !(fl && fl[i]);
}

/* Time credited to sample I: spacing to the next, or max_gap if wider. */
static int64_t credit(const struct spo2_set *s, const int64_t *t, size_t n,
                      size_t i, int *brk)
{
  int64_t d;
  if (i + 1 >= n) {
    d = i > 0 ? t[i] - t[i - 1] : 1000;
    *brk = 1;
    return d > s->gap ? s->gap : d;
  }
  d = t[i + 1] - t[i];
  *brk = d > s->gap;
  return d > s->gap ? s->gap : d;
}

/* Event detection state (3 % rule). An event stays open after its last
 * run ended, since a run starting < merge later still joins it; it is
 * scored when the next event starts or at the end of the pass. */
struct spo2_det {
  const double *x;      /* depth thresholds scored, any order */
  size_t n_x;
  size_t *count_x;      /* events of depth >= x[k], per k */
  size_t count;         /* all events */
  int in_run, have_ev;
  int64_t run_start, ev_end;
  double run_depth, ev_depth;
};

static void det_close(struct spo2_det *d)
{
  size_t k;
  if (!d->have_ev)
    return;
  d->count++;
  for (k = 0; k < d->n_x; k++)
    if (d->ev_depth >= d->x[k])
      d->count_x[k]++;
  d->have_ev = 0;
}

/* Feeds sample I (DEPTH = baseline - spo2 when DESAT, BRK, credit C). */
static void det_step(const struct spo2_set *s, struct spo2_det *d,
                     int64_t t_i, int desat, double depth, int brk,
                     int64_t c)
{
  if (desat && !d->in_run) {
    d->in_run = 1;
    d->run_start = t_i;
    d->run_depth = depth;
  } else if (desat && depth > d->run_depth) {
    d->run_depth = depth;
  }
  if (d->in_run && (!desat || brk)) {
    int64_t end = desat ? t_i + c : t_i;
    if (end - d->run_start >= s->min_ev) {
      if (d->have_ev && d->run_start - d->ev_end < s->merge) {
        if (d->run_depth > d->ev_depth)
          d->ev_depth = d->run_depth; /* merged: deepest point */
      } else {
        det_close(d);
        d->have_ev = 1;
        d->ev_depth = d->run_depth;
      }
      d->ev_end = end;
    }
    d->in_run = 0;
  }
}

/* Detects events in one pass. The baseline of valid sample i is the max
 * valid SpO2 over [t_i - base, t_i) (-1 if none), kept in a monotone
 * deque of indices Q (values strictly decreasing front to back): each
 * index is pushed and popped at most once, so the pass is O(n) whatever
 * the window length, and the max is exact (same value as a scan of the
 * window). Q has room for n indices. */
static void detect(const struct spo2_set *s, const int64_t *t,
                   const double *v, const unsigned char *fl, size_t n,
                   size_t *q, struct spo2_det *d)
{
  size_t i, head = 0, tail = 0;
  for (i = 0; i < n; i++) {
    int brk = 1, desat = 0, ok = ok_sample(v, fl, i);
    int64_t c = 0;
    double depth = 0;
    if (ok) {
      double b = -1;
      while (head < tail && t[q[head]] < t[i] - s->base)
        head++;
      if (head < tail)
        b = v[q[head]];
      c = credit(s, t, n, i, &brk);
      depth = b - v[i];
      desat = b >= 0 && depth >= 3.0; /* AASM 3 % */
      /* Sample i enters the window of later samples; smaller or equal
       * values before it can never be the max again. */
      while (head < tail && v[q[tail - 1]] <= v[i])
        tail--;
      q[tail++] = i;
    }
    det_step(s, d, t[i], desat, depth, brk, c);
  }
  det_close(d);
}

/* Validates, fills OUT, and counts events of depth >= X[k] in COUNT_X[k]
 * (N_X of them). */
static int spo2_core(const struct algo_spo2_cfg *cfg, void *scratch,
                     size_t scratch_len, const int64_t *t_ms,
                     const double *spo2, const unsigned char *flags,
                     size_t n, const double *x, size_t n_x, size_t *count_x,
                     struct algo_spo2_result *out)
{
  struct algo_spo2_cfg z;
  struct spo2_set s;
  struct spo2_det d;
  int64_t below90 = 0;
  double sum = 0;
  uintptr_t qp;
  size_t i;
  memset(out, 0, sizeof *out);
  memset(count_x, 0, n_x * sizeof *count_x);
  memset(&z, 0, sizeof z);
  if (!cfg)
    cfg = &z;
  if (cfg->baseline_ms < 0 || cfg->min_event_ms < 0 || cfg->merge_ms < 0 ||
      cfg->max_gap_ms < 0 || cfg->min_valid_ms < 0 ||
      cfg->baseline_ms > SPO2_T_LIMIT || cfg->max_gap_ms > SPO2_T_LIMIT)
    return ALGO_EINVAL;
  s.base = cfg->baseline_ms ? cfg->baseline_ms : 120000;
  s.min_ev = cfg->min_event_ms ? cfg->min_event_ms : 10000; /* AASM 10 s */
  s.merge = cfg->merge_ms ? cfg->merge_ms : 10000;
  s.gap = cfg->max_gap_ms ? cfg->max_gap_ms : 10000;
  s.min_valid = cfg->min_valid_ms ? cfg->min_valid_ms : 4 * 3600000;
  if (n > 0 && (!t_ms || !spo2))
    return ALGO_EINVAL;
  if (n > 0 && (!scratch || scratch_len < algo_spo2_scratch_size(cfg, n)))
    return ALGO_ESCRATCH;
  for (i = 0; i < n; i++) {
    if (!isfinite(spo2[i]) || t_ms[i] > SPO2_T_LIMIT ||
        t_ms[i] < -SPO2_T_LIMIT)
      return ALGO_EINVAL;
    if (i > 0 && t_ms[i] <= t_ms[i - 1])
      return ALGO_EORDER;
  }
  for (i = 0; i < n; i++) {
    int brk;
    int64_t c;
    if (!ok_sample(spo2, flags, i)) {
      out->n_invalid++;
      continue;
    }
    c = credit(&s, t_ms, n, i, &brk);
    out->n_valid++;
    out->valid_ms += c;
    sum += spo2[i];
    if (spo2[i] < 90.0) /* T90: time below 90 % */
      below90 += c;
    if (out->n_valid == 1 || spo2[i] < out->min_spo2)
      out->min_spo2 = spo2[i];
  }
  out->sufficient = out->valid_ms >= s.min_valid;
  if (out->n_valid == 0)
    return ALGO_OK;
  out->mean_spo2 = sum / (double)out->n_valid;
  memset(&d, 0, sizeof d);
  d.x = x;
  d.n_x = n_x;
  d.count_x = count_x;
  qp = (uintptr_t)scratch;
  qp = (qp + sizeof(size_t) - 1) & ~(uintptr_t)(sizeof(size_t) - 1);
  detect(&s, t_ms, spo2, flags, n, (size_t *)qp, &d);
  out->n_desat3 = d.count;
  if (out->valid_ms > 0)
    out->t90_pct = 100.0 * (double)below90 / (double)out->valid_ms;
  return ALGO_OK;
}

/* Events per hour of valid time. */
static double per_hour(size_t count, int64_t valid_ms)
{
  return valid_ms > 0 ? (double)count / ((double)valid_ms / 3600000.0) : 0;
}

int algo_spo2_run(const struct algo_spo2_cfg *cfg, void *scratch,
                  size_t scratch_len, const int64_t *t_ms, const double *spo2,
                  const unsigned char *flags, size_t n,
                  struct algo_spo2_result *out)
{
  static const double x4 = 4.0; /* AASM 4 % */
  size_t n4;
  int rc;
  if (!out)
    return ALGO_EINVAL;
  rc = spo2_core(cfg, scratch, scratch_len, t_ms, spo2, flags, n, &x4, 1,
                 &n4, out);
  if (rc != ALGO_OK) {
    memset(out, 0, sizeof *out);
    return rc;
  }
  out->n_desat4 = n4;
  out->odi3 = per_hour(out->n_desat3, out->valid_ms);
  out->odi4 = per_hour(n4, out->valid_ms);
  return ALGO_OK;
}

int algo_spo2_odix(const struct algo_spo2_cfg *cfg, void *scratch,
                   size_t scratch_len, const int64_t *t_ms,
                   const double *spo2, const unsigned char *flags, size_t n,
                   double x_pct, size_t *out_n, double *out_per_h)
{
  struct algo_spo2_result r;
  size_t nx;
  int rc;
  if (!out_n || !out_per_h)
    return ALGO_EINVAL;
  *out_n = 0;
  *out_per_h = 0;
  if (!isfinite(x_pct) || x_pct < 3.0) /* below 3: not detected */
    return ALGO_EINVAL;
  rc = spo2_core(cfg, scratch, scratch_len, t_ms, spo2, flags, n, &x_pct,
                 1, &nx, &r);
  if (rc != ALGO_OK)
    return rc;
  *out_n = nx;
  *out_per_h = per_hour(nx, r.valid_ms);
  return ALGO_OK;
}
