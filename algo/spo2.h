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
  int64_t merge_ms;     /* events of one threshold closer than this merge;
                           0: 10 s */
  int64_t max_gap_ms;   /* longest sample spacing still contiguous; 0: 10 s */
  int64_t min_valid_ms; /* sufficiency; 0: 4 h */
};

/* Result; all fields public, read-only. */
struct algo_spo2_result {
  size_t n_valid, n_invalid; /* samples in / outside [50, 100] or flagged */
  int64_t valid_ms;     /* time credited to valid samples */
  int sufficient;       /* valid_ms >= min_valid_ms */
  size_t n_desat3, n_desat4; /* events >= 3 % and >= 4 % below baseline */
  double odi3, odi4;    /* events per hour of valid time (0 if none) */
  double t90_pct;       /* % of valid time with SpO2 < 90 */
  double mean_spo2, min_spo2;
};

/* Bytes of scratch algo_spo2_run needs for N samples: about 8 N (the
 * O(n) sliding-window baseline), 0 for N == 0, SIZE_MAX when no buffer
 * could hold it. Any alignment. Pure; thread-safe. */
size_t algo_spo2_scratch_size(const struct algo_spo2_cfg *cfg, size_t n);

/* Analyses N samples (T_MS strictly increasing, |t| <= 2^53; SPO2 finite;
 * FLAGS may be NULL, nonzero marks a sample invalid). A valid sample is
 * desaturated at level D when baseline - spo2 >= D; an event is a run of
 * consecutive desaturated valid samples, unbroken by gaps, lasting
 * >= min_event_ms from its first sample to the sample after its last.
 * Events starting < merge_ms after the previous one ended are merged.
 * A valid sample is credited the time to the next sample (at most
 * max_gap_ms; the last gets the previous spacing capped likewise). CFG
 * may be NULL. SCRATCH of SCRATCH_LEN >= algo_spo2_scratch_size(cfg, n) bytes
 * (may be NULL when that is 0). Runs in O(n) time for any baseline_ms.
 * OUT: *out. Returns ALGO_OK, ALGO_EINVAL (NULL, non-finite, bad cfg),
 * ALGO_ESCRATCH, ALGO_EORDER; on error *out is zeroed. Reentrant;
 * touches only SCRATCH and OUT. */
int algo_spo2_run(const struct algo_spo2_cfg *cfg, void *scratch,
                  size_t scratch_len, const int64_t *t_ms, const double *spo2,
                  const unsigned char *flags, size_t n,
                  struct algo_spo2_result *out);

#endif
