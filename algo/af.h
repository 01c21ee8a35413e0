/* af.h - atrial fibrillation detection from RR (or pulse-to-pulse)
 * intervals: per-beat decisions, episodes and AF burden. Pure C11, no
 * allocation: size scratch with algo_af_scratch_size(). See
 * docs/clinical/af.md for the method, its tuning and its validation. */
#ifndef VG_ALGO_AF_H
#define VG_ALGO_AF_H

#include <stddef.h>

#include "algo.h"

/* Longest RR series accepted (about 46 days at 200 bpm). */
#define ALGO_AF_MAX_N ((size_t)1 << 24)

/* Detector settings; public value type. algo_af_cfg_default() fills the
 * validated defaults; callers should not change them for clinical use. */
struct algo_af_cfg {
  int window;            /* beats in the centred feature window */
  double threshold;      /* AF needs irregular fraction > threshold */
  double delta;          /* |dRR| / mean RR above which a beat is new */
  double rr_min_s;       /* intervals below are clamped (artefact) */
  double rr_max_s;       /* intervals above are clamped (pause/dropout) */
  int min_run_beats;     /* AF runs shorter than this are dropped */
  int max_gap_beats;     /* non-AF gaps up to this between AF runs merge */
  /* Symbolic dynamics (added in 1.1; zero-initialised configs are
   * rejected, so always start from algo_af_cfg_default()). */
  int sym_levels;        /* dRR symbols are -L..L, 1 <= L <= 7 */
  double sym_step;       /* dRR / local RR per symbol step */
  double entropy_threshold; /* AF needs word entropy > this, in [0, 1] */
  double hysteresis;     /* once in AF, both thresholds drop by this */
};

/* One AF episode: beats [start_beat, end_beat] inclusive (indices into the
 * RR array; RR i ends at beat i). Times are seconds from the start of the
 * series (sum of RR before the episode's first interval). */
struct algo_af_episode {
  size_t start_beat;
  size_t end_beat;
  double start_s;
  double end_s;
  double duration_s;
};

/* Fills *cfg with the defaults tuned on the even LTAFDB records. */
void algo_af_cfg_default(struct algo_af_cfg *cfg);

/* Bytes of scratch algo_af_detect() needs for n intervals (0 if n is 0 or
 * above ALGO_AF_MAX_N). */
size_t algo_af_scratch_size(size_t n);

/* Largest cfg->sym_levels accepted. */
#define ALGO_AF_MAX_LEVELS 7

/* Classifies every RR interval as AF (1) or not (0): AF when, over the
 * centred window, both the normalised Shannon entropy of 3-symbol words of
 * quantised successive RR differences exceeds cfg->entropy_threshold and
 * the irregular-beat fraction exceeds cfg->threshold; while in AF both
 * thresholds are lowered by cfg->hysteresis (docs/clinical/af.md).
 * cfg: NULL for defaults. rr_s: n intervals in seconds, each finite and
 * > 0. scratch: scratch_len >= algo_af_scratch_size(n) bytes, any
 * alignment suitable for double (borrowed for the call).
 * OUT: out_af[n] 0/1 per interval (after the run rules); out_score[n]
 * (may be NULL) the window's word entropy, compared with
 * cfg->entropy_threshold (finite, in [0, 1]; 0 when n < window / 2).
 * Returns ALGO_OK, ALGO_EINVAL (NULL, n == 0 or too large, rr not finite
 * or <= 0, bad cfg) or ALGO_ESCRATCH. A series shorter than cfg->window
 * but at least cfg->window / 2 long is scored as one window; shorter ones
 * give all-zero decisions and scores (too short for a verdict).
 * Reentrant. */
int algo_af_detect(const struct algo_af_cfg *cfg, const double *rr_s,
                   size_t n, void *scratch, size_t scratch_len,
                   unsigned char *out_af, double *out_score);

/* Groups per-beat decisions af[n] into maximal runs of 1s (after
 * algo_af_detect() has applied its run/gap rules). rr_s as above.
 * OUT: up to max_out episodes in out (may be NULL if max_out is 0);
 * *out_n = total number of episodes (may exceed max_out).
 * Returns ALGO_OK or ALGO_EINVAL. */
int algo_af_episodes(const double *rr_s, const unsigned char *af, size_t n,
                     struct algo_af_episode *out, size_t max_out,
                     size_t *out_n);

/* AF burden: percent of total time (sum of RR) spent in intervals with
 * af[i] == 1. OUT: *out_pct in [0, 100]. Returns ALGO_OK or ALGO_EINVAL. */
int algo_af_burden(const double *rr_s, const unsigned char *af, size_t n,
                   double *out_pct);

#endif
