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

/* Run state of one desaturation level. */
struct spo2_run {
  double d;       /* drop in percentage points */
  size_t count;   /* events counted */
  int in_run, have_prev;
  int64_t run_start, prev_end;
};

/* Feeds sample I (DESAT at this level, BRK, credit C) to run state R. */
static void run_step(const struct spo2_set *s, struct spo2_run *r,
                     int64_t t_i, int desat, int brk, int64_t c)
{
  if (desat && !r->in_run) {
    r->in_run = 1;
    r->run_start = t_i;
  }
  if (r->in_run && (!desat || brk)) {
    int64_t end = desat ? t_i + c : t_i;
    if (end - r->run_start >= s->min_ev) {
      if (!(r->have_prev && r->run_start - r->prev_end < s->merge))
        r->count++;
      r->have_prev = 1;
      r->prev_end = end;
    }
    r->in_run = 0;
  }
}

/* Counts 3 % and 4 % events in one pass. The baseline of valid sample i
 * is the max valid SpO2 over [t_i - base, t_i) (-1 if none), kept in a
 * monotone deque of indices Q (values strictly decreasing front to back):
 * each index is pushed and popped at most once, so the pass is O(n)
 * whatever the window length, and the max is exact (same value as a scan
 * of the window). Q has room for n indices. */
static void count_events(const struct spo2_set *s, const int64_t *t,
                         const double *v, const unsigned char *fl, size_t n,
                         size_t *q, struct spo2_run *r3, struct spo2_run *r4)
{
  size_t i, head = 0, tail = 0;
  for (i = 0; i < n; i++) {
    int brk = 1, desat3 = 0, desat4 = 0, ok = ok_sample(v, fl, i);
    int64_t c = 0;
    if (ok) {
      double b = -1;
      while (head < tail && t[q[head]] < t[i] - s->base)
        head++;
      if (head < tail)
        b = v[q[head]];
      c = credit(s, t, n, i, &brk);
      desat3 = b >= 0 && b - v[i] >= r3->d;
      desat4 = b >= 0 && b - v[i] >= r4->d;
      /* Sample i enters the window of later samples; smaller or equal
       * values before it can never be the max again. */
      while (head < tail && v[q[tail - 1]] <= v[i])
        tail--;
      q[tail++] = i;
    }
    run_step(s, r3, t[i], desat3, brk, c);
    run_step(s, r4, t[i], desat4, brk, c);
  }
}

int algo_spo2_run(const struct algo_spo2_cfg *cfg, void *scratch,
                  size_t scratch_len, const int64_t *t_ms, const double *spo2,
                  const unsigned char *flags, size_t n,
                  struct algo_spo2_result *out)
{
  struct algo_spo2_cfg z;
  struct spo2_set s;
  int64_t below90 = 0;
  double sum = 0;
  struct spo2_run r3, r4;
  uintptr_t qp;
  size_t i;
  if (!out)
    return ALGO_EINVAL;
  memset(out, 0, sizeof *out);
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
  out->min_spo2 = 0;
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
  memset(&r3, 0, sizeof r3);
  memset(&r4, 0, sizeof r4);
  r3.d = 3.0; /* AASM 3 % */
  r4.d = 4.0; /* AASM 4 % */
  qp = (uintptr_t)scratch;
  qp = (qp + sizeof(size_t) - 1) & ~(uintptr_t)(sizeof(size_t) - 1);
  count_events(&s, t_ms, spo2, flags, n, (size_t *)qp, &r3, &r4);
  out->n_desat3 = r3.count;
  out->n_desat4 = r4.count;
  if (out->valid_ms > 0) {
    double h = (double)out->valid_ms / 3600000.0;
    out->t90_pct = 100.0 * (double)below90 / (double)out->valid_ms;
    out->odi3 = (double)out->n_desat3 / h;
    out->odi4 = (double)out->n_desat4 / h;
  }
  return ALGO_OK;
}
