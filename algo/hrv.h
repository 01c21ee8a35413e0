/* hrv.h - short-term HRV time-domain metrics (Task Force 1996): RR
 * preprocessing to NN intervals, then SDNN, RMSSD, pNN50 and mean NN over
 * sliding windows. Units: ms. */
#ifndef VG_ALGO_HRV_H
#define VG_ALGO_HRV_H

#include <stddef.h>
#include <stdint.h>

#include "algo.h"

/* Beat classes, one per beat time. */
enum algo_hrv_beat {
  ALGO_HRV_NORMAL = 0,   /* normal beat */
  ALGO_HRV_ECTOPIC = 1,  /* any non-normal beat (V, A, ...) */
  ALGO_HRV_ARTEFACT = 2  /* noise/artefact mark, not a heartbeat */
};

/* Settings; embeddable value, all fields public. Zero fields take the
 * documented default (PhysioNet Cardiovascular Signal Toolbox defaults). */
struct algo_hrv_cfg {
  double min_rr_ms;  /* NN below is removed; 0: 375 (60/160 s) */
  double max_rr_ms;  /* NN above is removed; 0: 2000 (60/30 s) */
  double gap_ms;     /* RR >= this is a gap, removed; 0: 2000 */
  double max_change; /* spike rule fraction; 0: 0.20 */
  int64_t window_ms; /* 0: 300000 (5 min) */
  int64_t step_ms;   /* 0: 30000 */
  double max_missing; /* window valid if NN cover >= (1 - this) of it;
                         0: 0.15 */
};

/* One window; all fields public, read-only. Metrics are 0 when n_nn < 2. */
struct algo_hrv_window {
  int64_t start_ms;   /* window [start_ms, start_ms + window_ms) */
  size_t n_nn;        /* NN intervals ending inside the window */
  int valid;          /* n_nn >= 3 and NN sum >= (1 - max_missing) x window */
  double mean_nn_ms, sdnn_ms, rmssd_ms;
  double pnn50_pct;   /* 100 x NN50 / (n_nn - 1) successive differences */
};

/* Preprocessing counts; all fields public, read-only. */
struct algo_hrv_prep {
  size_t n_rr;        /* RR intervals (n - 1) */
  size_t n_artefact;  /* dropped: ending at an artefact mark */
  size_t n_gap;       /* dropped: RR >= gap_ms */
  size_t n_ectopic;   /* dropped: ending at an ectopic beat */
  size_t n_spike;     /* dropped: spike rule */
  size_t n_unphysio;  /* dropped: outside [min_rr_ms, max_rr_ms] */
  size_t n_nn;        /* kept NN intervals */
};

/* Bytes of scratch for N beats. Pure; thread-safe. */
size_t algo_hrv_scratch_size(const struct algo_hrv_cfg *cfg, size_t n);

/* Number of full windows for beats spanning SPAN_MS from the first beat:
 * windows start at first beat + k x step while start + window <= last. */
size_t algo_hrv_window_count(const struct algo_hrv_cfg *cfg, int64_t span_ms);

/* Computes HRV windows from N beat times T_MS (ms, strictly increasing,
 * |t| <= 2^53) with classes CLS (NULL: all normal). RR_i = t_i - t_(i-1)
 * takes the class of beat i. Preprocessing, in order: drop RR ending at an
 * artefact; drop RR >= gap_ms; drop RR ending at an ectopic beat and RR
 * deviating by >= max_change from both the median of the 5 preceding and
 * of the 5 following RR (the first and last 5 RR are exempt);
 * drop NN outside [min_rr_ms, max_rr_ms]. Windows are anchored at t_ms[0];
 * an NN belongs to the window holding its end time; RMSSD and pNN50 use
 * successive kept NN. CFG may be NULL. SCRATCH of SCRATCH_LEN bytes >=
 * algo_hrv_scratch_size(cfg, n). OUT: up to CAP windows in OUT, the total
 * in *out_n; *out_prep (may be NULL) gets the counts. Returns ALGO_OK,
 * ALGO_EINVAL, ALGO_ESCRATCH, ALGO_EORDER; on error *out_n is 0.
 * Reentrant; touches only SCRATCH and the outputs. */
int algo_hrv_run(const struct algo_hrv_cfg *cfg, void *scratch,
                 size_t scratch_len, const int64_t *t_ms,
                 const unsigned char *cls, size_t n,
                 struct algo_hrv_window *out, size_t cap, size_t *out_n,
                 struct algo_hrv_prep *out_prep);

#endif
