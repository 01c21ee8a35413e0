/* spo2.c - desaturation events, ODI, T90 from SpO2 samples. */
#include "spo2.h"

#include <math.h>
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
  (void)n;
  return 0;
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

/* Max valid SpO2 in [t_i - base, t_i); -1 if none. *lo is a moving start. */
static double baseline(const struct spo2_set *s, const int64_t *t,
                       const double *v, const unsigned char *fl, size_t i,
                       size_t *lo)
{
  double m = -1;
  size_t j;
  while (*lo < i && t[*lo] < t[i] - s->base)
    (*lo)++;
  for (j = *lo; j < i; j++)
    if (ok_sample(v, fl, j) && v[j] > m)
      m = v[j];
  return m;
}

/* Counts events for drop D (percentage points). */
static size_t count_events(const struct spo2_set *s, const int64_t *t,
                           const double *v, const unsigned char *fl, size_t n,
                           double d)
{
  size_t i, lo = 0, count = 0;
  int in_run = 0, have_prev = 0;
  int64_t run_start = 0, prev_end = 0;
  for (i = 0; i < n; i++) {
    int brk = 1, desat = 0;
    int64_t c = 0;
    if (ok_sample(v, fl, i)) {
      double b = baseline(s, t, v, fl, i, &lo);
      c = credit(s, t, n, i, &brk);
      desat = b >= 0 && b - v[i] >= d;
    }
    if (desat && !in_run) {
      in_run = 1;
      run_start = t[i];
    }
    if (in_run && (!desat || brk)) {
      int64_t end = desat ? t[i] + c : t[i];
      if (end - run_start >= s->min_ev) {
        if (!(have_prev && run_start - prev_end < s->merge))
          count++;
        have_prev = 1;
        prev_end = end;
      }
      in_run = 0;
    }
  }
  return count;
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
  size_t i;
  (void)scratch;
  (void)scratch_len;
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
  out->n_desat3 = count_events(&s, t_ms, spo2, flags, n, 3.0);
  out->n_desat4 = count_events(&s, t_ms, spo2, flags, n, 4.0);
  if (out->valid_ms > 0) {
    double h = (double)out->valid_ms / 3600000.0;
    out->t90_pct = 100.0 * (double)below90 / (double)out->valid_ms;
    out->odi3 = (double)out->n_desat3 / h;
    out->odi4 = (double)out->n_desat4 / h;
  }
  return ALGO_OK;
}
