/* spo2.h - overnight oximetry: oxygen desaturation events (ODI3/ODI4),
 * T90 and valid-time sufficiency. Units: % SpO2, ms. */
#ifndef VG_ALGO_SPO2_H
#define VG_ALGO_SPO2_H

#include <stddef.h>
#include <stdint.h>

#include "algo.h"

/* Settings; embeddable value, all fields public. Zero takes the default. */
struct algo_spo2_cfg {
  int64_t baseline_ms;  /* baseline = max valid SpO2 in [t - this, t);
                           0: 120 s */
  int64_t min_event_ms; /* shortest desaturation; 0: 10 s */
  int64_t merge_ms;     /* events closer than this merge; 0: 10 s */
  int64_t max_gap_ms;   /* longest sample spacing still contiguous; 0: 10 s */
  int64_t min_valid_ms; /* sufficiency; 0: 4 h */
};

/* Result; all fields public, read-only. */
struct algo_spo2_result {
  size_t n_valid, n_invalid; /* samples in / outside [50, 100] or flagged */
  int64_t valid_ms;     /* time credited to valid samples */
  int sufficient;       /* valid_ms >= min_valid_ms */
  size_t n_desat3;      /* desaturation events (3 % rule) */
  size_t n_desat4;      /* those of depth >= 4; never above n_desat3 */
  double odi3, odi4;    /* events per hour of valid time (0 if none) */
  double t90_pct;       /* % of valid time with SpO2 < 90 */
  double mean_spo2, min_spo2;
};

/* Bytes of scratch algo_spo2_run needs for N samples: about 8 N (the
 * O(n) sliding-window baseline), 0 for N == 0, SIZE_MAX when no buffer
 * could hold it. Any alignment. Pure; thread-safe. */
size_t algo_spo2_scratch_size(const struct algo_spo2_cfg *cfg, size_t n);

/* Analyses N samples (T_MS strictly increasing, |t| <= 2^53; SPO2 finite;
 * FLAGS may be NULL, nonzero marks a sample invalid). The baseline of a
 * valid sample is the max valid SpO2 over [t - baseline_ms, t); the sample
 * is desaturated when baseline - spo2 >= 3. A run is consecutive
 * desaturated valid samples, unbroken by gaps, lasting >= min_event_ms
 * from its first sample to the sample after its last; shorter runs are
 * ignored. A run starting < merge_ms after the previous run ended joins
 * its event. Events are detected once, by this 3 % rule; an event's depth
 * is the max of baseline - spo2 over its samples (its nadir measured
 * against the baseline in force there). n_desat3 counts every event,
 * n_desat4 those of depth >= 4, so n_desat4 <= n_desat3. A valid sample
 * is credited the time to the next sample (at most max_gap_ms; the last
 * gets the previous spacing capped likewise). CFG may be NULL. SCRATCH of
 * SCRATCH_LEN >= algo_spo2_scratch_size(cfg, n) bytes (may be NULL when
 * that is 0). Runs in O(n) time for any baseline_ms. OUT: *out. Returns
 * ALGO_OK, ALGO_EINVAL (NULL, non-finite, bad cfg), ALGO_ESCRATCH,
 * ALGO_EORDER; on error *out is zeroed. Reentrant; touches only SCRATCH
 * and OUT. */
int algo_spo2_run(const struct algo_spo2_cfg *cfg, void *scratch,
                  size_t scratch_len, const int64_t *t_ms, const double *spo2,
                  const unsigned char *flags, size_t n,
                  struct algo_spo2_result *out);

/* ODIx for any X_PCT >= 3: the events algo_spo2_run detects (3 % rule)
 * whose depth >= X_PCT, and that count per hour of valid time (0 if no
 * valid time). X_PCT 3 gives n_desat3/odi3, 4 gives n_desat4/odi4,
 * bit-identically. Arguments and scratch as for algo_spo2_run. OUT:
 * *out_n, *out_per_h. Returns as algo_spo2_run, and ALGO_EINVAL when
 * X_PCT is not finite or below 3; on error both outputs are zeroed.
 * Reentrant; touches only SCRATCH and the outputs. */
int algo_spo2_odix(const struct algo_spo2_cfg *cfg, void *scratch,
                   size_t scratch_len, const int64_t *t_ms,
                   const double *spo2, const unsigned char *flags, size_t n,
                   double x_pct, size_t *out_n, double *out_per_h);

#endif
