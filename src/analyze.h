/* analyze.h - one table of analysis kinds (cgm, bp, hrv, af, ecg, ...):
 * parse CSV/JSON input, run the algo/ module(s), write metrics as JSON.
 * Shared by `vigil analyze` and POST /api/v1/analyze/{kind}. */
#ifndef VG_ANALYZE_H
#define VG_ANALYZE_H

#include <stddef.h>

#include "core_buf.h"

enum analyze_format { ANALYZE_CSV = 0, ANALYZE_JSON = 1 };

/* BP guideline names accepted by analyze_guideline_parse(). */
#define ANALYZE_GUIDELINES "acc_aha, esh, china"

/* Options; embeddable value, all fields public. analyze_opts_init() sets
 * the defaults. */
struct analyze_opts {
  int format;         /* enum analyze_format */
  int per_beat;       /* af: add "per_beat" (one 0/1 per RR interval) */
  double fs_hz;       /* ecg: sampling rate; 0 = take "fs_hz" from JSON */
  int guideline;      /* bp: enum algo_bp_guideline */
  int has_tz;         /* tz_offset_min is set; else the offset of the first
                         RFC 3339 time in the input, else 0 */
  int tz_offset_min;  /* local = UTC + offset, -1080..1080 */
  size_t max_rows;    /* row cap; 0 = ANALYZE_CSV_MAX_ROWS */
};

/* Defaults: CSV, no per-beat output, fs unset, ESH 2023, offset unset. */
void analyze_opts_init(struct analyze_opts *o);

/* Parse "acc_aha" | "esh" | "china". OUT: *out. 0 or -VG_EINVAL. */
int analyze_guideline_parse(const char *s, int *out);

/* True if KIND names an analysis in the table. */
int analyze_kind_known(const char *kind);

/* Comma-separated list of the kinds in the table ("cgm, bp, ..."), static. */
const char *analyze_kinds(void);

/* Runs analysis KIND on DATA[0..len) (CSV or JSON per o->format) and
 * appends one JSON object to OUT. "Not enough data" is a result
 * ("sufficient": false, "reason"), not an error. O may be NULL (defaults).
 * On error ERR gets a message naming the line/column or JSON element
 * ("line 5, column 2: 'x' is not a number") and OUT may hold a partial
 * object (callers reset it).
 * Returns 0, -VG_ENOTFOUND (unknown kind), -VG_EINVAL (bad input or
 * option), -VG_ETOOBIG (row cap or output cap) or -VG_ENOMEM.
 * Reentrant: no globals; allocates with vg_malloc and frees before
 * returning. */
int analyze_run(const char *kind, const struct analyze_opts *o,
                const char *data, size_t len, struct vg_buf *out, char *err,
                size_t err_size);

#endif
