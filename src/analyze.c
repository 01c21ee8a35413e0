/* analyze.c - the table of analysis kinds: input spec, runner, JSON out. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "af.h"
#include "algo.h"
#include "analyze.h"
#include "analyze_csv.h"
#include "bp.h"
#include "cgm.h"
#include "core_alloc.h"
#include "core_errors.h"
#include "core_time.h"
#include "ecg.h"
#include "hrv.h"
#include "spo2.h"

/* Hypo events listed in full up to this many; the total is always given. */
#define MAX_EVENTS 1000
/* 5-min windows every 30 s over about 35 days. */
#define MAX_HRV_WINDOWS 100000

struct kind {
  const char *name;
  struct analyze_csv_spec spec;
  int (*run)(const struct analyze_input *in, const struct analyze_opts *o,
             struct vg_buf *b, char *err, size_t err_size);
};

static int errf(char *err, size_t size, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int errf(char *err, size_t size, int rc, const char *fmt, ...)
{
  va_list ap;
  if (err && size) {
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
  }
  return rc;
}

void analyze_opts_init(struct analyze_opts *o)
{
  memset(o, 0, sizeof *o);
  o->format = ANALYZE_CSV;
  o->guideline = ALGO_BP_ESH_2023;
}

int analyze_guideline_parse(const char *s, int *out)
{
  if (!s)
    return -VG_EINVAL;
  if (!strcmp(s, "acc_aha"))
    *out = ALGO_BP_ACC_AHA_2017;
  else if (!strcmp(s, "esh"))
    *out = ALGO_BP_ESH_2023;
  else if (!strcmp(s, "china"))
    *out = ALGO_BP_CHINA_2018;
  else
    return -VG_EINVAL;
  return 0;
}

/* Offset used for local-time rules: the option, else the input's. */
static int tz_of(const struct analyze_input *in, const struct analyze_opts *o)
{
  if (o->has_tz)
    return o->tz_offset_min;
  return in->tz_offset_min == VG_TZ_UNKNOWN ? 0 : in->tz_offset_min;
}

/* ---- small JSON writers ------------------------------------------ */

static void kv_num(struct vg_buf *b, const char *k, double v)
{
  buf_printf(b, ",\"%s\":", k);
  buf_json_num(b, v);
}

static void kv_int(struct vg_buf *b, const char *k, int64_t v)
{
  buf_printf(b, ",\"%s\":", k);
  buf_json_int(b, v);
}

static void kv_bool(struct vg_buf *b, const char *k, int v)
{
  buf_printf(b, ",\"%s\":%s", k, v ? "true" : "false");
}

static void kv_str(struct vg_buf *b, const char *k, const char *s)
{
  buf_printf(b, ",\"%s\":", k);
  if (s)
    buf_json_str(b, s, strlen(s));
  else
    buf_puts(b, "null");
}

static void kv_time(struct vg_buf *b, const char *k, int64_t ms, int tz)
{
  char t[40];
  size_t n = vg_time_format(ms, (int16_t)tz, t, sizeof t);
  buf_printf(b, ",\"%s\":", k);
  buf_json_str(b, t, n);
}

static void head(struct vg_buf *b, const char *kind, size_t n)
{
  buf_printf(b, "{\"kind\":\"%s\",\"algo_version\":\"%s\"", kind,
             ALGO_VERSION);
  kv_int(b, "n", (int64_t)n);
}

/* Maps an algo_* failure to a message that names the input line. */
static int algo_fail(const struct analyze_input *in, int rc, char *err,
                     size_t err_size, const char *what)
{
  if (rc == ALGO_EORDER)
    return errf(err, err_size, -VG_EINVAL, "%s: times not increasing",
                what);
  (void)in;
  return errf(err, err_size, -VG_EINVAL, "%s: %s", what, algo_strerror(rc));
}

/* ---- cgm ---------------------------------------------------------- */

static int run_cgm(const struct analyze_input *in, const struct analyze_opts *o,
                   struct vg_buf *b, char *err, size_t err_size)
{
  struct algo_cgm_cfg cfg;
  struct algo_cgm_result r;
  struct algo_cgm_agp_bin *agp = NULL;
  struct algo_cgm_event *ev = NULL;
  void *scratch = NULL;
  size_t ss, n_bins, n_ev = 0;
  int rc, tz = tz_of(in, o);
  memset(&cfg, 0, sizeof cfg);
  memset(&r, 0, sizeof r);
  cfg.utc_offset_min = tz;
  head(b, "cgm", in->n);
  if (in->n < 2) {
    kv_bool(b, "sufficient", 0);
    kv_str(b, "reason", "fewer than 2 readings");
    buf_putc(b, '}');
    return 0;
  }
  ss = algo_cgm_scratch_size(&cfg, in->n);
  n_bins = algo_cgm_agp_bins(&cfg);
  scratch = vg_malloc(ss ? ss : 1);
  agp = vg_calloc(n_bins, sizeof *agp);
  ev = vg_calloc(MAX_EVENTS, sizeof *ev);
  if (!scratch || !agp || !ev) {
    rc = errf(err, err_size, -VG_ENOMEM, "out of memory");
    goto fail;
  }
  rc = algo_cgm_run(&cfg, scratch, ss, in->t_ms, in->v[0], in->n, &r);
  if (!rc)
    rc = algo_cgm_agp(&cfg, scratch, ss, in->t_ms, in->v[0], in->n, agp,
                      n_bins);
  if (!rc)
    rc = algo_cgm_hypo_events(&cfg, scratch, ss, in->t_ms, in->v[0], in->n,
                              ev, MAX_EVENTS, &n_ev);
  if (rc) {
    rc = algo_fail(in, rc, err, err_size, "cgm");
    goto fail;
  }
  kv_bool(b, "sufficient", r.sufficient);
  if (!r.sufficient) {
    char why[96];
    snprintf(why, sizeof why, "CGM active %.1f %% of the window; "
             "at least 70 %% needed", r.active_pct);
    kv_str(b, "reason", why);
  }
  kv_int(b, "n_used", (int64_t)r.n_used);
  kv_int(b, "n_invalid", (int64_t)r.n_invalid);
  kv_int(b, "interval_ms", r.interval_ms);
  kv_int(b, "window_ms", r.window_ms);
  kv_int(b, "covered_ms", r.covered_ms);
  kv_num(b, "active_pct", r.active_pct);
  kv_num(b, "mean_mgdl", r.mean_mgdl);
  kv_num(b, "sd_mgdl", r.sd_mgdl);
  kv_num(b, "cv_pct", r.cv_pct);
  kv_num(b, "gmi_pct", r.gmi_pct);
  buf_puts(b, ",\"time_in_ranges\":{\"below54_pct\":");
  buf_json_num(b, r.t_below54_pct);
  kv_num(b, "54_69_pct", r.t_54_69_pct);
  kv_num(b, "70_180_pct", r.t_70_180_pct);
  kv_num(b, "181_250_pct", r.t_181_250_pct);
  kv_num(b, "above250_pct", r.t_above250_pct);
  buf_puts(b, "},\"readings_in_ranges\":{\"below54_pct\":");
  buf_json_num(b, r.n_below54_pct);
  kv_num(b, "54_69_pct", r.n_54_69_pct);
  kv_num(b, "70_180_pct", r.n_70_180_pct);
  kv_num(b, "181_250_pct", r.n_181_250_pct);
  kv_num(b, "above250_pct", r.n_above250_pct);
  buf_puts(b, "}");
  kv_int(b, "utc_offset_min", tz);
  buf_puts(b, ",\"agp\":[");
  for (size_t i = 0; i < n_bins; i++) {
    buf_printf(b, "%s{\"start_min\":%lld", i ? "," : "",
               (long long)agp[i].start_min_of_day);
    kv_int(b, "n", (int64_t)agp[i].n);
    kv_num(b, "p5", agp[i].p5);
    kv_num(b, "p25", agp[i].p25);
    kv_num(b, "p50", agp[i].p50);
    kv_num(b, "p75", agp[i].p75);
    kv_num(b, "p95", agp[i].p95);
    buf_putc(b, '}');
  }
  buf_puts(b, "]");
  kv_int(b, "hypo_events_total", (int64_t)n_ev);
  buf_puts(b, ",\"hypo_events\":[");
  for (size_t i = 0; i < n_ev && i < MAX_EVENTS; i++) {
    buf_printf(b, "%s{\"level\":%d", i ? "," : "", ev[i].level);
    kv_time(b, "start", ev[i].start_ms, tz);
    kv_time(b, "end", ev[i].end_ms, tz);
    kv_int(b, "duration_ms", ev[i].end_ms - ev[i].start_ms);
    kv_num(b, "nadir_mgdl", ev[i].nadir_mgdl);
    buf_putc(b, '}');
  }
  buf_puts(b, "]}");
  rc = 0;
fail:
  vg_free(scratch);
  vg_free(agp);
  vg_free(ev);
  return rc;
}

/* ---- bp ----------------------------------------------------------- */

static const char *verdict_name(int v)
{
  return v == ALGO_BP_HIGH ? "high" : v == ALGO_BP_BELOW ? "below"
                                                         : "insufficient";
}

static const char *guideline_name(int g)
{
  return g == ALGO_BP_ACC_AHA_2017 ? "acc_aha"
         : g == ALGO_BP_CHINA_2018 ? "china" : "esh";
}

static int run_bp(const struct analyze_input *in, const struct analyze_opts *o,
                  struct vg_buf *b, char *err, size_t err_size)
{
  struct algo_bp_home_cfg cfg;
  struct algo_bp_home_out h;
  struct algo_bp_office_out off;
  struct algo_bp_reading *r = NULL;
  int rc, tz = tz_of(in, o), proto, controlled = 0;
  proto = o->guideline == ALGO_BP_CHINA_2018 ? ALGO_BP_HOME_CHINA
                                              : ALGO_BP_HOME_ESH;
  if (tz < -1080 || tz > 1080)
    return errf(err, err_size, -VG_EINVAL,
                "tz offset %d min outside -1080..1080", tz);
  rc = algo_bp_home_default_cfg(proto, o->guideline, tz, &cfg);
  if (rc)
    return algo_fail(in, rc, err, err_size, "bp");
  if (in->n) {
    r = vg_malloc(in->n * sizeof *r);
    if (!r)
      return errf(err, err_size, -VG_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < in->n; i++) {
    /* floor division: seconds for negative epoch times too */
    int64_t t = in->t_ms[i];
    r[i].t_utc_s = t >= 0 ? t / 1000 : -((-t + 999) / 1000);
    r[i].sbp_mmhg = in->v[0][i];
    r[i].dbp_mmhg = in->v[1][i];
  }
  memset(&h, 0, sizeof h);
  if (in->n) {
    rc = algo_bp_home_average(&cfg, r, in->n, &h);
    if (rc) {
      rc = algo_fail(in, rc, err, err_size, "bp");
      goto fail;
    }
  }
  head(b, "bp", in->n);
  kv_str(b, "guideline", guideline_name(o->guideline));
  kv_str(b, "protocol", proto == ALGO_BP_HOME_CHINA ? "china_home_2019"
                                                    : "esh_home");
  kv_int(b, "utc_offset_min", tz);
  kv_bool(b, "sufficient", in->n && h.verdict != ALGO_BP_INSUFFICIENT);
  if (!in->n || h.verdict == ALGO_BP_INSUFFICIENT) {
    char why[160];
    snprintf(why, sizeof why, "%d readings on %d days after day 1 used; "
             "at least %d readings on %d days needed", h.n_used,
             h.n_days_used, cfg.min_readings, cfg.min_days);
    kv_str(b, "reason", why);
  }
  buf_puts(b, ",\"home\":{\"verdict\":");
  buf_json_str(b, verdict_name(h.verdict), strlen(verdict_name(h.verdict)));
  kv_num(b, "sbp_mmhg", h.sbp_mmhg);
  kv_num(b, "dbp_mmhg", h.dbp_mmhg);
  kv_num(b, "am_sbp_mmhg", h.am_sbp_mmhg);
  kv_num(b, "am_dbp_mmhg", h.am_dbp_mmhg);
  kv_num(b, "pm_sbp_mmhg", h.pm_sbp_mmhg);
  kv_num(b, "pm_dbp_mmhg", h.pm_dbp_mmhg);
  kv_int(b, "n_used", h.n_used);
  kv_int(b, "n_am", h.n_am);
  kv_int(b, "n_pm", h.n_pm);
  kv_int(b, "n_days_used", h.n_days_used);
  kv_int(b, "n_day1", h.n_day1);
  kv_int(b, "n_outside", h.n_outside);
  kv_int(b, "n_after", h.n_after);
  kv_int(b, "n_invalid", h.n_invalid);
  kv_int(b, "threshold_sbp_mmhg", h.thr_sbp_mmhg);
  kv_int(b, "threshold_dbp_mmhg", h.thr_dbp_mmhg);
  buf_puts(b, "}");
  /* The guideline's office scheme applied to the protocol mean. */
  buf_puts(b, ",\"category_of_mean\":");
  if (h.n_used > 0 &&
      algo_bp_office_category(o->guideline, h.sbp_mmhg, h.dbp_mmhg,
                              &off) == ALGO_OK) {
    const char *nm = algo_bp_category_name(o->guideline, off.category);
    buf_puts(b, "{\"category\":");
    buf_json_str(b, nm, strlen(nm));
    kv_int(b, "level", off.level);
    kv_bool(b, "crisis", off.crisis);
    kv_bool(b, "isolated_systolic", off.isolated_systolic);
    if (algo_bp_hearts_controlled(h.sbp_mmhg, h.dbp_mmhg, &controlled) ==
        ALGO_OK)
      kv_bool(b, "hearts_controlled", controlled);
    buf_putc(b, '}');
  } else {
    buf_puts(b, "null");
  }
  buf_putc(b, '}');
  rc = 0;
fail:
  vg_free(r);
  return rc;
}

/* ---- hrv ---------------------------------------------------------- */

/* Beat times from RR: t0 = 0, t_i = round(sum of the first i RR). */
static int64_t *beats_from_rr(const double *rr, size_t n)
{
  int64_t *t = vg_malloc((n + 1) * sizeof *t);
  double sum = 0;
  if (!t)
    return NULL;
  t[0] = 0;
  for (size_t i = 0; i < n; i++) {
    sum += rr[i];
    t[i + 1] = (int64_t)llround(sum);
  }
  return t;
}

static void hrv_window_json(struct vg_buf *b, const struct algo_hrv_window *w)
{
  buf_printf(b, "{\"start_ms\":%lld", (long long)w->start_ms);
  kv_int(b, "n_nn", (int64_t)w->n_nn);
  kv_bool(b, "valid", w->valid);
  kv_num(b, "mean_nn_ms", w->mean_nn_ms);
  kv_num(b, "sdnn_ms", w->sdnn_ms);
  kv_num(b, "rmssd_ms", w->rmssd_ms);
  kv_num(b, "pnn50_pct", w->pnn50_pct);
  buf_putc(b, '}');
}

static int run_hrv(const struct analyze_input *in, const struct analyze_opts *o,
                   struct vg_buf *b, char *err, size_t err_size)
{
  struct algo_hrv_cfg cfg, whole;
  struct algo_hrv_prep prep;
  struct algo_hrv_window *w = NULL, rec;
  int64_t *t = NULL;
  void *scratch = NULL;
  size_t nb = in->n + 1, ss, cap, n_w = 0, n_rec = 0, n_valid = 0;
  int rc;
  double sdnn_idx = 0;
  (void)o;
  memset(&cfg, 0, sizeof cfg);
  memset(&prep, 0, sizeof prep);
  memset(&rec, 0, sizeof rec);
  head(b, "hrv", in->n);
  t = beats_from_rr(in->v[0], in->n);
  if (!t)
    return errf(err, err_size, -VG_ENOMEM, "out of memory");
  cap = algo_hrv_window_count(&cfg, t[in->n] - t[0]);
  if (cap > MAX_HRV_WINDOWS) {
    double days = (double)(t[in->n] - t[0]) / 86400e3;
    vg_free(t);
    return errf(err, err_size, -VG_ETOOBIG, "hrv: record of %.1f days "
                "gives more than %d windows", days, MAX_HRV_WINDOWS);
  }
  ss = algo_hrv_scratch_size(&cfg, nb);
  scratch = vg_malloc(ss ? ss : 1);
  w = vg_calloc(cap ? cap : 1, sizeof *w);
  if (!scratch || !w) {
    rc = errf(err, err_size, -VG_ENOMEM, "out of memory");
    goto fail;
  }
  rc = algo_hrv_run(&cfg, scratch, ss, t, NULL, nb, w, cap, &n_w, &prep);
  if (rc) {
    rc = algo_fail(in, rc, err, err_size, "hrv");
    goto fail;
  }
  /* Whole record: one window spanning first to last beat. */
  whole = cfg;
  whole.window_ms = t[in->n] - t[0];
  whole.step_ms = whole.window_ms;
  if (whole.window_ms > 0) {
    rc = algo_hrv_run(&whole, scratch, ss, t, NULL, nb, &rec, 1, &n_rec,
                      NULL);
    if (rc) {
      rc = algo_fail(in, rc, err, err_size, "hrv");
      goto fail;
    }
  }
  for (size_t i = 0; i < n_w && i < cap; i++)
    if (w[i].valid) {
      n_valid++;
      sdnn_idx += w[i].sdnn_ms;
    }
  kv_bool(b, "sufficient", n_valid > 0);
  if (!n_valid)
    kv_str(b, "reason", n_w ? "no 5-min window with >= 85 % NN coverage"
                            : "record shorter than one 5-min window");
  kv_int(b, "duration_ms", t[in->n] - t[0]);
  buf_puts(b, ",\"prep\":{\"n_rr\":");
  buf_json_int(b, (int64_t)prep.n_rr);
  kv_int(b, "n_nn", (int64_t)prep.n_nn);
  kv_int(b, "n_gap", (int64_t)prep.n_gap);
  kv_int(b, "n_spike", (int64_t)prep.n_spike);
  kv_int(b, "n_unphysio", (int64_t)prep.n_unphysio);
  buf_puts(b, "},\"record\":");
  if (n_rec)
    hrv_window_json(b, &rec);
  else
    buf_puts(b, "null");
  kv_int(b, "n_windows", (int64_t)n_w);
  kv_int(b, "n_windows_valid", (int64_t)n_valid);
  kv_num(b, "sdnn_index_ms", n_valid ? sdnn_idx / (double)n_valid : 0);
  buf_puts(b, ",\"windows\":[");
  for (size_t i = 0; i < n_w && i < cap; i++) {
    if (i)
      buf_putc(b, ',');
    hrv_window_json(b, &w[i]);
  }
  buf_puts(b, "]}");
  rc = 0;
fail:
  vg_free(t);
  vg_free(scratch);
  vg_free(w);
  return rc;
}

/* ---- af ----------------------------------------------------------- */

static int run_af(const struct analyze_input *in, const struct analyze_opts *o,
                  struct vg_buf *b, char *err, size_t err_size)
{
  struct algo_af_cfg cfg;
  struct algo_af_episode *ep = NULL;
  double *rr = NULL, burden = 0, total_s = 0;
  unsigned char *af = NULL;
  void *scratch = NULL;
  size_t n = in->n, ss, n_ep = 0;
  int rc;
  algo_af_cfg_default(&cfg);
  head(b, "af", n);
  if (n > ALGO_AF_MAX_N)
    return errf(err, err_size, -VG_ETOOBIG, "af: more than %zu intervals",
                (size_t)ALGO_AF_MAX_N);
  if (n == 0) {
    kv_bool(b, "sufficient", 0);
    kv_str(b, "reason", "no RR intervals");
    if (o->per_beat)
      buf_puts(b, ",\"per_beat\":[]");
    buf_putc(b, '}');
    return 0;
  }
  ss = algo_af_scratch_size(n);
  rr = vg_malloc(n * sizeof *rr);
  af = vg_malloc(n);
  scratch = vg_malloc(ss ? ss : 1);
  if (!rr || !af || !scratch) {
    rc = errf(err, err_size, -VG_ENOMEM, "out of memory");
    goto fail;
  }
  for (size_t i = 0; i < n; i++) {
    rr[i] = in->v[0][i] / 1000.0;
    total_s += rr[i];
  }
  rc = algo_af_detect(&cfg, rr, n, scratch, ss, af, NULL);
  if (!rc)
    rc = algo_af_episodes(rr, af, n, NULL, 0, &n_ep);
  if (!rc && n_ep) {
    ep = vg_calloc(n_ep, sizeof *ep);
    if (!ep) {
      rc = errf(err, err_size, -VG_ENOMEM, "out of memory");
      goto fail;
    }
    rc = algo_af_episodes(rr, af, n, ep, n_ep, &n_ep);
  }
  if (!rc)
    rc = algo_af_burden(rr, af, n, &burden);
  if (rc) {
    rc = algo_fail(in, rc, err, err_size, "af");
    goto fail;
  }
  kv_bool(b, "sufficient", n >= (size_t)cfg.window);
  if (n < (size_t)cfg.window) {
    char why[80];
    snprintf(why, sizeof why, "fewer than %d RR intervals", cfg.window);
    kv_str(b, "reason", why);
  }
  kv_num(b, "duration_s", total_s);
  kv_num(b, "burden_pct", burden);
  kv_int(b, "n_episodes", (int64_t)n_ep);
  buf_puts(b, ",\"episodes\":[");
  for (size_t i = 0; i < n_ep; i++) {
    buf_printf(b, "%s{\"start_beat\":%zu,\"end_beat\":%zu", i ? "," : "",
               ep[i].start_beat, ep[i].end_beat);
    kv_num(b, "start_s", ep[i].start_s);
    kv_num(b, "end_s", ep[i].end_s);
    kv_num(b, "duration_s", ep[i].duration_s);
    buf_putc(b, '}');
  }
  buf_putc(b, ']');
  if (o->per_beat) {
    buf_puts(b, ",\"per_beat\":[");
    for (size_t i = 0; i < n; i++) {
      if (i)
        buf_putc(b, ',');
      buf_putc(b, af[i] ? '1' : '0');
    }
    buf_putc(b, ']');
  }
  buf_putc(b, '}');
  rc = 0;
fail:
  vg_free(rr);
  vg_free(af);
  vg_free(scratch);
  vg_free(ep);
  return rc;
}

/* ---- ecg ---------------------------------------------------------- */

static int run_ecg(const struct analyze_input *in, const struct analyze_opts *o,
                   struct vg_buf *b, char *err, size_t err_size)
{
  double fs = o->fs_hz > 0 ? o->fs_hz : in->fs_hz, sum = 0, mn = 0, mx = 0;
  size_t n = in->n, ss, max_peaks, n_pk = 0;
  size_t *pk = NULL;
  void *scratch = NULL;
  int rc;
  if (fs <= 0)
    return errf(err, err_size, -VG_EINVAL,
                "ecg needs the sampling rate: --fs HZ (query fs=, or "
                "\"fs_hz\" in JSON)");
  if (!(fs >= ALGO_ECG_FS_MIN && fs <= ALGO_ECG_FS_MAX))
    return errf(err, err_size, -VG_EINVAL, "fs %g Hz outside [%g, %g]", fs,
                ALGO_ECG_FS_MIN, ALGO_ECG_FS_MAX);
  if (n > ALGO_ECG_MAX_N)
    return errf(err, err_size, -VG_ETOOBIG, "ecg: more than %zu samples",
                (size_t)ALGO_ECG_MAX_N);
  head(b, "ecg", n);
  kv_num(b, "fs_hz", fs);
  kv_num(b, "duration_s", (double)n / fs);
  if (n) {
    ss = algo_ecg_scratch_size(n);
    max_peaks = (size_t)((double)n / (0.2 * fs)) + 1;
    scratch = vg_malloc(ss ? ss : 1);
    pk = vg_malloc(max_peaks * sizeof *pk);
    if (!scratch || !pk) {
      rc = errf(err, err_size, -VG_ENOMEM, "out of memory");
      goto fail;
    }
    rc = algo_ecg_rpeaks(in->v[0], n, fs, scratch, ss, pk, max_peaks, &n_pk);
    if (rc) {
      rc = algo_fail(in, rc, err, err_size, "ecg");
      goto fail;
    }
  }
  kv_bool(b, "sufficient", n_pk >= 2);
  if (n_pk < 2)
    kv_str(b, "reason", "fewer than 2 R peaks (record under 1 s, flat or "
                        "no QRS found)");
  kv_int(b, "n_peaks", (int64_t)n_pk);
  buf_puts(b, ",\"peaks\":[");
  for (size_t i = 0; i < n_pk; i++)
    buf_printf(b, "%s%zu", i ? "," : "", pk[i]);
  buf_puts(b, "],\"peak_times_s\":[");
  for (size_t i = 0; i < n_pk; i++) {
    if (i)
      buf_putc(b, ',');
    buf_json_num(b, (double)pk[i] / fs);
  }
  buf_puts(b, "],\"rr_ms\":[");
  for (size_t i = 1; i < n_pk; i++) {
    double rr = 1000.0 * (double)(pk[i] - pk[i - 1]) / fs;
    if (i > 1)
      buf_putc(b, ',');
    buf_json_num(b, rr);
    sum += rr;
    mn = i == 1 || rr < mn ? rr : mn;
    mx = i == 1 || rr > mx ? rr : mx;
  }
  buf_putc(b, ']');
  if (n_pk >= 2) {
    kv_num(b, "hr_mean_bpm", 60000.0 * (double)(n_pk - 1) / sum);
    kv_num(b, "hr_min_bpm", 60000.0 / mx);
    kv_num(b, "hr_max_bpm", 60000.0 / mn);
  } else {
    buf_puts(b, ",\"hr_mean_bpm\":null,\"hr_min_bpm\":null,"
                "\"hr_max_bpm\":null");
  }
  buf_putc(b, '}');
  rc = 0;
fail:
  vg_free(scratch);
  vg_free(pk);
  return rc;
}

/* ---- spo2 --------------------------------------------------------- */

static int run_spo2(const struct analyze_input *in,
                    const struct analyze_opts *o, struct vg_buf *b, char *err,
                    size_t err_size)
{
  struct algo_spo2_result r;
  int64_t *t = NULL;
  const int64_t *tt = in->t_ms;
  double fs = o->fs_hz > 0 ? o->fs_hz : in->fs_hz > 0 ? in->fs_hz : 1.0;
  void *scratch = NULL;
  size_t ss;
  int rc;
  memset(&r, 0, sizeof r);
  if (!in->has_time && !(fs >= 0.01 && fs <= 1000))
    return errf(err, err_size, -VG_EINVAL, "spo2: fs %g Hz outside "
                "[0.01, 1000]", fs);
  if (!in->has_time && in->n) {
    /* Untimed samples: evenly spaced at fs (default 1 Hz). */
    t = vg_malloc(in->n * sizeof *t);
    if (!t)
      return errf(err, err_size, -VG_ENOMEM, "out of memory");
    for (size_t i = 0; i < in->n; i++)
      t[i] = (int64_t)llround((double)i * 1000.0 / fs);
    tt = t;
  }
  head(b, "spo2", in->n);
  ss = algo_spo2_scratch_size(NULL, in->n);
  scratch = vg_malloc(ss ? ss : 1);
  if (!scratch) {
    rc = errf(err, err_size, -VG_ENOMEM, "out of memory");
    goto fail;
  }
  if (in->n) {
    rc = algo_spo2_run(NULL, scratch, ss, tt, in->v[0], NULL, in->n, &r);
    if (rc) {
      rc = algo_fail(in, rc, err, err_size, "spo2");
      goto fail;
    }
  }
  kv_bool(b, "sufficient", r.sufficient);
  if (!r.sufficient) {
    char why[96];
    snprintf(why, sizeof why, "%.2f h of valid oximetry; at least 4 h "
             "needed", (double)r.valid_ms / 3600000.0);
    kv_str(b, "reason", why);
  }
  kv_int(b, "n_valid", (int64_t)r.n_valid);
  kv_int(b, "n_invalid", (int64_t)r.n_invalid);
  kv_int(b, "valid_ms", r.valid_ms);
  kv_int(b, "n_desat3", (int64_t)r.n_desat3);
  kv_int(b, "n_desat4", (int64_t)r.n_desat4);
  kv_num(b, "odi3", r.odi3);
  kv_num(b, "odi4", r.odi4);
  kv_num(b, "t90_pct", r.t90_pct);
  kv_num(b, "mean_spo2", r.mean_spo2);
  kv_num(b, "min_spo2", r.min_spo2);
  buf_putc(b, '}');
  rc = 0;
fail:
  vg_free(t);
  vg_free(scratch);
  return rc;
}

/* ---- the table ---------------------------------------------------- */

/* Input ranges: mg/dL up to the CGM validity limit (cgm.h); mmHg up to
 * 500 (bp.h office limit); RR 1 ms..60 s; SpO2 0..100 %; ECG any unit. */
static const struct kind kinds[] = {
    {"cgm",
     {1, ANALYZE_TIME_REQUIRED, ANALYZE_ORDER_INCREASING, 0, 1000, 0,
      {"glucose_mgdl"}, {"values"}},
     run_cgm},
    {"bp",
     {2, ANALYZE_TIME_REQUIRED, ANALYZE_ORDER_NONDECREASING, 0, 500, 0,
      {"sbp", "dbp"}, {"sbp_mmhg", "dbp_mmhg"}},
     run_bp},
    {"hrv",
     {1, ANALYZE_TIME_NONE, ANALYZE_ORDER_ANY, 1, 60000, 0, {"rr_ms"},
      {"values"}},
     run_hrv},
    {"af",
     {1, ANALYZE_TIME_NONE, ANALYZE_ORDER_ANY, 1, 60000, 0, {"rr_ms"},
      {"values"}},
     run_af},
    {"ecg",
     {1, ANALYZE_TIME_NONE, ANALYZE_ORDER_ANY, -1e9, 1e9, 0, {"samples"},
      {"values"}},
     run_ecg},
    {"spo2",
     {1, ANALYZE_TIME_OPTIONAL, ANALYZE_ORDER_INCREASING, 0, 100, 0,
      {"spo2_pct"}, {"values"}},
     run_spo2},
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

static const struct kind *find(const char *name)
{
  for (size_t i = 0; name && i < N_KINDS; i++)
    if (!strcmp(name, kinds[i].name))
      return &kinds[i];
  return NULL;
}

int analyze_kind_known(const char *kind)
{
  return find(kind) != NULL;
}

const char *analyze_kinds(void)
{
  return "cgm, bp, hrv, af, ecg, spo2";
}

int analyze_run(const char *kind, const struct analyze_opts *o,
                const char *data, size_t len, struct vg_buf *out, char *err,
                size_t err_size)
{
  const struct kind *k = find(kind);
  struct analyze_opts def;
  struct analyze_input in;
  struct analyze_csv_spec spec;
  int rc;
  if (err && err_size)
    err[0] = '\0';
  if (!o) {
    analyze_opts_init(&def);
    o = &def;
  }
  if (!k)
    return errf(err, err_size, -VG_ENOTFOUND,
                "unknown kind '%s'; one of %s", kind ? kind : "",
                analyze_kinds());
  spec = k->spec;
  spec.max_rows = o->max_rows;
  if (o->format == ANALYZE_JSON)
    rc = analyze_json_parse(data, len, &spec, &in, err, err_size);
  else
    rc = analyze_csv_parse(data, len, &spec, &in, err, err_size);
  if (!rc)
    rc = k->run(&in, o, out, err, err_size);
  if (!rc && out->err)
    rc = errf(err, err_size, out->err, "result too large");
  analyze_input_free(&in);
  return rc;
}
