/* cgm.h - CGM glucose metrics: time in ranges (time-weighted and
 * count-based), mean/SD/CV/GMI, CGM-active %, AGP percentiles per
 * time-of-day bin, level 1/2 hypoglycaemia events. Units: mg/dL, ms. */
#ifndef VG_ALGO_CGM_H
#define VG_ALGO_CGM_H

#include <stddef.h>
#include <stdint.h>

#include "algo.h"

/* Settings; embeddable value, all fields public. Zero fields take the
 * documented default, so a zeroed struct is a valid configuration. */
struct algo_cgm_cfg {
  int64_t interval_ms;   /* nominal sampling interval; 0: median of the
                            successive differences of the input */
  int64_t max_gap_ms;    /* longest interval a reading may stand for;
                            0: 3 x interval_ms */
  int64_t window_start_ms; /* analysis window [start, end); both 0: from */
  int64_t window_end_ms;   /* the first reading to last reading + interval */
  double min_active_pct;   /* sufficiency threshold; 0: 70 (Battelino 2019) */
  int64_t agp_bin_ms;      /* AGP bin width, divides 24 h; 0: 15 min */
  int32_t utc_offset_min;  /* local time = UTC + offset, for AGP bins */
  int64_t hypo_min_ms;     /* hypo event minimum / recovery; 0: 15 min */
};

/* Summary metrics; all fields public, read-only. Values outside (0, 1000]
 * mg/dL are invalid readings: counted in n_invalid, otherwise ignored.
 * With no valid reading every metric is 0 and sufficient is 0. */
struct algo_cgm_result {
  size_t n_used;        /* valid readings inside the window */
  size_t n_invalid;     /* readings inside the window outside (0, 1000] */
  int64_t interval_ms;  /* nominal interval used */
  int64_t window_ms;    /* window length */
  int64_t covered_ms;   /* time credited to readings (gaps excluded) */
  double active_pct;    /* n_used * interval / window, capped at 100 */
  int sufficient;       /* active_pct >= min_active_pct */
  double mean_mgdl, sd_mgdl, cv_pct, gmi_pct; /* SD is the sample SD */
  /* Percent of covered time: <54, 54-<70, 70-180, >180-250, >250. */
  double t_below54_pct, t_54_69_pct, t_70_180_pct, t_181_250_pct,
      t_above250_pct;
  /* Percent of readings, same bands (iglu convention). */
  double n_below54_pct, n_54_69_pct, n_70_180_pct, n_181_250_pct,
      n_above250_pct;
};

/* One AGP bin; all fields public. Percentiles are R type 7 (linear
 * interpolation); with n == 0 they are 0 and meaningless. */
struct algo_cgm_agp_bin {
  int64_t start_min_of_day; /* local minutes since midnight */
  size_t n;
  double p5, p25, p50, p75, p95;
};

/* One hypoglycaemia event; all fields public. */
struct algo_cgm_event {
  int level;          /* 1: < 70 mg/dL, 2: < 54 mg/dL */
  int64_t start_ms;   /* first reading below the threshold */
  int64_t end_ms;     /* first reading of the >= 15 min recovery, or end
                         of the last credited interval (gap/data end) */
  double nadir_mgdl;  /* lowest reading in the event */
};

/* Bytes of scratch algo_cgm_run/agp need for N readings under CFG (NULL
 * for defaults). Pure; thread-safe. */
size_t algo_cgm_scratch_size(const struct algo_cgm_cfg *cfg, size_t n);

/* Number of AGP bins for CFG (1440 / bin minutes), 0 if the bin width
 * does not divide 24 h into whole minutes. */
size_t algo_cgm_agp_bins(const struct algo_cgm_cfg *cfg);

/* Computes summary metrics of N readings (T_MS strictly increasing,
 * |t| <= 2^53 ms; MGDL finite). CFG may be NULL (defaults). SCRATCH of
 * SCRATCH_LEN bytes, at least algo_cgm_scratch_size(cfg, n), suitably
 * aligned for double. A reading stands for the time up to the next
 * reading when that is <= max_gap_ms, else for interval_ms only.
 * OUT: *out filled. Returns ALGO_OK, ALGO_EINVAL (NULL pointer with n > 0,
 * non-finite value, bad cfg), ALGO_ESCRATCH, ALGO_EORDER. On error *out
 * is zeroed. Reentrant; touches only SCRATCH and OUT. */
int algo_cgm_run(const struct algo_cgm_cfg *cfg, void *scratch,
                 size_t scratch_len, const int64_t *t_ms,
                 const double *mgdl, size_t n, struct algo_cgm_result *out);

/* Fills N_BINS = algo_cgm_agp_bins(cfg) AGP bins from the valid readings
 * inside the window (same input rules and scratch as algo_cgm_run).
 * OUT: out[0..n_bins). Returns as algo_cgm_run; ALGO_EINVAL also when
 * n_bins differs from algo_cgm_agp_bins(cfg). */
int algo_cgm_agp(const struct algo_cgm_cfg *cfg, void *scratch,
                 size_t scratch_len, const int64_t *t_ms, const double *mgdl,
                 size_t n, struct algo_cgm_agp_bin *out, size_t n_bins);

/* Finds level 1 (< 70) and level 2 (< 54 mg/dL) hypoglycaemia events:
 * an event starts at the first of consecutive readings below the level
 * whose credited time totals >= hypo_min_ms, and ends at the first reading
 * of a run at or above the level lasting >= hypo_min_ms (shorter recoveries
 * stay inside the event), or at a gap > max_gap_ms, an invalid reading or
 * the data end. Level 1 and level 2 are found independently (an L2 event
 * lies inside an L1 event). Order: all L1 events by start, then all L2.
 * Input rules and scratch as algo_cgm_run. OUT: up to CAP events in OUT,
 * the total found in *out_n. Returns as algo_cgm_run. */
int algo_cgm_hypo_events(const struct algo_cgm_cfg *cfg, void *scratch,
                         size_t scratch_len, const int64_t *t_ms,
                         const double *mgdl, size_t n,
                         struct algo_cgm_event *out, size_t cap,
                         size_t *out_n);

#endif
