/* demo.c - deterministic synthetic population for demos and the dashboard. */
#include "demo.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "care_assess.h"
#include "care_org.h"
#include "codes.h"
#include "core_alloc.h"
#include "core_errors.h"
#include "core_log.h"
#include "core_time.h"
#include "http.h"
#include "store.h"
#include "store_writer.h"

#define DAY_MS 86400000LL
#define DAYS 90
#define TZ_MIN 480 /* demo region: China Standard Time, UTC+8 */
#define CHUNK 20000

/* Small deterministic PRNG (xorshift64*), so demos are reproducible. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static double urand(void)
{
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (double)((rng_state * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}
static double nrand(void) /* standard normal, Box-Muller */
{
  double u = urand(), v = urand();
  return sqrt(-2.0 * log(u > 1e-12 ? u : 1e-12)) * cos(2 * M_PI * v);
}

enum profile { P_CONTROLLED, P_UNCONTROLLED, P_CRISIS, P_DIABETES, P_CGM, P_COPD };

struct seeder {
  struct vg_app *app;
  struct vg_reading *rows;
  unsigned char *status;
  size_t n;
  int64_t total;
};

static int job_insert(struct vg_txn *t, void *ctx)
{
  struct seeder *s = ctx;
  return store_readings_insert(t, s->rows, s->n, s->status);
}

static int flush(struct seeder *s)
{
  int rc;
  if (!s->n)
    return 0;
  rc = writer_exec(s->app->writer, s->n, job_insert, s);
  s->total += (int64_t)s->n;
  s->n = 0;
  return rc;
}

static int add(struct seeder *s, int64_t pid, int code, int64_t ts, double v,
               const char *source)
{
  const struct vg_code *c = codes_by_id(code);
  struct vg_reading *r;
  if (v < c->min)
    v = c->min;
  if (v > c->max)
    v = c->max;
  r = &s->rows[s->n++];
  r->patient_id = pid;
  r->code = code;
  r->ts_ms = ts;
  r->value = round(v * 10) / 10;
  r->tz_offset_min = TZ_MIN;
  r->source = source;
  r->unit = "";
  return s->n == CHUNK ? flush(s) : 0;
}

static const char *const surnames[] = {"Wang", "Li", "Zhang", "Liu", "Chen",
  "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu", "Hu"};
static const char *const given[] = {"Wei", "Fang", "Min", "Jing", "Lei",
  "Jun", "Yan", "Hui", "Qiang", "Xiu", "Ping", "Gang", "Hong", "Lan", "Tao"};

static int job_patient(struct vg_txn *t, void *ctx) { return store_patient_create(t, ctx); }
static int job_device(struct vg_txn *t, void *ctx) { return store_device_create(t, ctx); }

static int seed_patient(struct seeder *s, int i, int64_t start_ms)
{
  struct vg_patient p;
  struct vg_device d;
  enum profile prof;
  char cuff[VG_ID_MAX];
  double base_sbp, base_dbp, base_glu, weight;
  int rc, age = 45 + (int)(urand() * 40);
  double r = urand();
  int64_t day0;

  prof = r < 0.45 ? P_CONTROLLED : r < 0.70 ? P_UNCONTROLLED
       : r < 0.73 ? P_CRISIS : r < 0.88 ? P_DIABETES : r < 0.94 ? P_CGM : P_COPD;
  memset(&p, 0, sizeof p);
  snprintf(p.identifier, sizeof p.identifier, "DEMO-%05d", i + 1);
  snprintf(p.name, sizeof p.name, "%s %s", surnames[(int)(urand() * 15)],
           given[(int)(urand() * 15)]);
  p.sex = urand() < 0.5 ? 'F' : 'M';
  snprintf(p.birth_date, sizeof p.birth_date, "%04u-%02u-%02u",
           (2026u - (unsigned)age) % 10000u, 1u + (unsigned)(urand() * 12) % 12u,
           1u + (unsigned)(urand() * 28) % 28u);
  snprintf(p.tz, sizeof p.tz, "Asia/Shanghai");
  rc = writer_exec(s->app->writer, 1, job_patient, &p);
  if (rc)
    return rc;
  memset(&d, 0, sizeof d);
  snprintf(d.serial, sizeof d.serial, "CUFF-%05d", i + 1);
  snprintf(d.kind, sizeof d.kind, "bp_cuff");
  d.patient_id = p.id;
  rc = writer_exec(s->app->writer, 1, job_device, &d);
  if (rc)
    return rc;
  snprintf(cuff, sizeof cuff, "%s", d.serial);

  base_sbp = prof == P_CONTROLLED ? 126 : prof == P_CRISIS ? 172
           : prof == P_UNCONTROLLED ? 152 : 134;
  base_dbp = base_sbp * 0.6 + nrand() * 3;
  base_glu = prof == P_DIABETES || prof == P_CGM ? 150 + nrand() * 25 : 98;
  weight = 55 + urand() * 35;

  /* Home BP: morning (07:00) and evening (20:00) local, 2 readings 1 min
   * apart; the morning surge adds ~6 mmHg. The crisis profile climbs
   * towards >=180/110 in its last week. */
  for (int day = 0; day < DAYS; day++) {
    day0 = start_ms + day * DAY_MS - TZ_MIN * 60000LL;
    for (int sess = 0; sess < 2; sess++) {
      int64_t t = day0 + (sess ? 20 : 7) * 3600000LL +
                  (int64_t)(urand() * 45 * 60000);
      double surge = sess ? 0 : 6;
      double trend = prof == P_CRISIS && day > DAYS - 8 ? (day - (DAYS - 8)) * 3.0 : 0;
      if (urand() < 0.1) /* missed session */
        continue;
      for (int k = 0; k < 2; k++) {
        double sbp = base_sbp + surge + trend + nrand() * 7;
        rc = add(s, p.id, VG_CODE_SBP, t + k * 60000, sbp, cuff);
        if (!rc) rc = add(s, p.id, VG_CODE_DBP, t + k * 60000,
                          base_dbp + surge * 0.5 + trend * 0.6 + nrand() * 5, cuff);
        if (!rc) rc = add(s, p.id, VG_CODE_HR, t + k * 60000,
                          (prof == P_CRISIS ? 92 : 72) + nrand() * 6, cuff);
        if (rc)
          return rc;
      }
    }
    /* Glucose: fasting and 2 h after lunch for diabetes profiles. */
    if (prof == P_DIABETES) {
      rc = add(s, p.id, VG_CODE_GLUCOSE, day0 + 7 * 3600000LL, base_glu + nrand() * 15, "meter");
      if (!rc) rc = add(s, p.id, VG_CODE_GLUCOSE, day0 + 14 * 3600000LL, base_glu + 60 + nrand() * 25, "meter");
      if (rc)
        return rc;
    }
    /* CGM every 5 min: meal peaks at 08:00, 12:30, 19:00, overnight dip. */
    if (prof == P_CGM) {
      for (int m = 0; m < 288; m++) {
        double h = m / 12.0, g = base_glu - 20;
        g += 70 * exp(-pow(h - 9.0, 2) / 0.8) + 60 * exp(-pow(h - 13.5, 2) / 0.9) +
             75 * exp(-pow(h - 20.0, 2) / 1.0) -
             25 * exp(-pow(h - 3.0, 2) / 3.0) + nrand() * 8; /* night dip */
        rc = add(s, p.id, VG_CODE_CGM, day0 + m * 300000LL, g, "cgm");
        if (rc)
          return rc;
      }
    }
    /* SpO2 every evening; COPD profiles sit lower with night dips. */
    rc = add(s, p.id, VG_CODE_SPO2, day0 + 21 * 3600000LL,
             (prof == P_COPD ? 91 : 97) + nrand() * (prof == P_COPD ? 2.5 : 1), "oximeter");
    if (!rc && day % 7 == 0)
      rc = add(s, p.id, VG_CODE_WEIGHT, day0 + 7 * 3600000LL + 1800000,
               weight + nrand() * 0.5 + day * 0.005, "scale");
    if (rc)
      return rc;
  }
  /* Labs at the start and the middle of the period. */
  for (int k = 0; k < 2; k++) {
    int64_t t = start_ms + k * 45 * DAY_MS + 9 * 3600000LL;
    rc = add(s, p.id, VG_CODE_HBA1C, t, prof == P_DIABETES || prof == P_CGM
             ? 7.4 + nrand() * 0.8 : 5.5 + nrand() * 0.3, "lab");
    if (!rc) rc = add(s, p.id, VG_CODE_CREAT, t, 0.8 + (age - 45) * 0.01 + urand() * 0.4, "lab");
    if (!rc) rc = add(s, p.id, VG_CODE_TCHOL, t, 190 + nrand() * 30, "lab");
    if (!rc) rc = add(s, p.id, VG_CODE_HDL, t, 50 + nrand() * 8, "lab");
    if (rc)
      return rc;
  }
  return flush(s); /* rows borrow `cuff`, which dies with this frame */
}

static int count_one(void *ctx, const struct vg_patient *p)
{
  (void)p;
  ++*(int *)ctx;
  return 0;
}

int demo_seed(struct vg_app *app, int n_patients)
{
  struct seeder s = {app, NULL, NULL, 0, 0};
  struct vg_txn *t;
  int existing = 0, rc;
  int64_t now = vg_now_ms(), t0 = vg_mono_ns();
  int64_t start = (now / DAY_MS - DAYS) * DAY_MS;

  rc = store_begin(app->store, VG_TXN_READ, &t);
  if (rc)
    return rc;
  rc = store_patient_list(t, 0, 1, count_one, &existing);
  store_rollback(t);
  if (rc || existing)
    return rc;
  s.rows = vg_malloc(CHUNK * sizeof *s.rows);
  s.status = vg_malloc(CHUNK);
  if (!s.rows || !s.status) {
    rc = -VG_ENOMEM;
    goto fail;
  }
  for (int i = 0; i < n_patients && !rc; i++)
    rc = seed_patient(&s, i, start);
  if (!rc)
    rc = flush(&s);
  if (!rc)
    vg_info("demo.seeded", "patients=%d readings=%lld ms=%.0f", n_patients,
            (long long)s.total, (double)(vg_mono_ns() - t0) / 1e6);
fail:
  vg_free(s.rows);
  vg_free(s.status);
  return rc;
}

int demo_seed_care(struct vg_app *app)
{
  int rc = care_org_demo_seed(app); /* region and people */
  return rc ? rc : care_flow_demo_seed(app); /* tiers, alerts, tasks, ... */
}
