/* care_assess.h - per-patient assessment with algo/ (BP control, glucose,
 * eGFR trend and KDIGO stage, AF burden, SpO2 events, CVD risk) into a
 * management tier with reasons, and the background worker that re-assesses
 * patients after their readings commit (debounced, batched, off the ingest
 * path), writes alerts, tasks and suggested referrals, and runs escalation
 * and silence checks. Also declares the care-flow writers shared by
 * care_alerts.c, care_tasks.c, care_referrals.c and care_events.c. */
#ifndef VG_CARE_ASSESS_H
#define VG_CARE_ASSESS_H

#include <stddef.h>
#include <stdint.h>

#include "care_rules.h"
#include "core_buf.h"
#include "store.h"

struct vg_app;
struct care_assess;

/* Programmes (patient_condition codes of 003_care_org.sql). */
enum care_prog {
  CARE_PROG_HTN = 0, CARE_PROG_T2D, CARE_PROG_CKD, CARE_PROG_COPD,
  CARE_PROG_AF, CARE_PROG_HF, CARE_PROG_N
};
const char *care_prog_code(int prog); /* "hypertension", "t2d", ... */
int care_prog_from_code(const char *code); /* -1 if unknown */

/* One code's readings in time order. Borrowed. */
struct care_series {
  const int64_t *t_ms;
  const double *v;
  size_t n;
};

/* Everything one assessment looks at. Public fields, caller-filled. */
struct care_input {
  int64_t patient_id;
  char sex;                  /* 'M', 'F' or other */
  double age_y;              /* 0 = unknown */
  unsigned programmes;       /* 1 << CARE_PROG_* enrolled; 0 = derive from
                                the readings present */
  struct care_series sbp, dbp, hr, glucose, fpg, hba1c, cgm, spo2, creat,
      egfr, uacr, tchol, hdl, rri;
  const unsigned char *bp_office; /* per sbp reading: 1 office/visit, 0
                                     home; NULL = all home */
  int streak[CARE_PROG_N];   /* consecutive uncontrolled follow-ups */
  int visit_danger;          /* danger symptom at the latest visit */
  int visit_adverse, visit_complication;
};

#define CARE_HITS_MAX 8
#define CARE_HIT_TS 64

/* One alert rule that fired on the readings. */
struct care_hit {
  const char *rule;       /* static: "bp_crisis", "glucose_low", ... */
  const char *severity;   /* static: "critical", "high", ... */
  double value;           /* the worst value */
  int64_t last_ms;        /* latest qualifying reading */
  int64_t ts_ms[CARE_HIT_TS]; /* qualifying readings (latest ones) */
  size_t n_ts;
  char message[160];
};

struct care_prog_result {
  int prog;
  int controlled, tier, level, action; /* -1/0/1, enum care_tier, 1..3, enum
                                          care_action */
  int64_t next_due_ms;
  const char *rule;       /* decision-table row */
  struct vg_buf metrics;  /* JSON object (owned; see care_result_free) */
  struct vg_buf reasons;  /* JSON array of sentences (owned) */
};

struct care_result {
  int n_prog;
  struct care_prog_result prog[CARE_PROG_N];
  struct care_prog_result overall; /* prog = -1 */
  int n_hits;
  struct care_hit hits[CARE_HITS_MAX];
};

/* A zeroed care_result is ready for use. Its JSON buffers are kept and
 * reused by later care_assess_compute() calls on the same result; free
 * them with care_result_free() (the struct itself is the caller's). */
void care_result_free(struct care_result *res);

/* Scratch for the algorithms; grows as needed (vg_malloc). Zero-init;
 * free with care_scratch_free(). Not thread-safe: one per thread. */
struct care_scratch {
  void *p;
  size_t len;
};
void care_scratch_free(struct care_scratch *s);

/* Assess one patient as of now_ms. Pure apart from scratch and out's
 * buffers. OUT: *out (zeroed or used before). Returns 0, -VG_ENOMEM, or
 * -VG_ETOOBIG (a JSON text above its 64 KiB cap; never a truncated text). */
int care_assess_compute(const struct care_rules *r,
                        const struct care_input *in, int64_t now_ms,
                        struct care_scratch *scratch, struct care_result *out);

/* Load patient pid's readings and care state in READ transaction t and
 * assess. Buffers come from *buf (grown; caller frees with vg_free). */
struct care_load_buf;
int care_assess_load(struct vg_txn *t, const struct care_rules *r,
                     int64_t pid, int64_t now_ms, struct care_load_buf **buf,
                     struct care_scratch *scratch, struct care_result *out);
void care_load_buf_free(struct care_load_buf *b);

/* Write the result: assessment rows, alerts (dedup), tasks and a suggested
 * referral. WRITE transaction (a writer job). */
int care_assess_store(struct vg_txn *t, const struct care_rules *r,
                      int64_t pid, const struct care_result *res,
                      int64_t now_ms);

/* The result as JSON (GET .../assessment, vigil assess). */
int care_result_json(const struct care_result *res, int64_t computed_ms,
                     const char *rules_version, struct vg_buf *out);

/* Assess patients ids[0..n) now and store the results: one READ
 * transaction per patient, one writer job per 64 (the worker's path).
 * Patients that do not exist are skipped. OUT: *out_n stored (may be
 * NULL). Returns 0 or the first store error. Blocking; not on the writer
 * thread. */
int care_assess_ids(struct vg_app *app, const struct care_rules *r,
                    const int64_t *ids, size_t n, int64_t now_ms,
                    int64_t *out_n);

/* The demo's care flow (vigil serve --demo, after the region is seeded):
 * a few BP and glucose crises, the assessment of every patient (tiers,
 * alerts, tasks, suggested referrals), some tasks made overdue, referrals
 * in every state and consults open and answered. Does nothing when
 * assessments exist. Returns 0 or an error. */
int care_flow_demo_seed(struct vg_app *app);

/* ---- the worker -------------------------------------------------------- */

struct care_assess_opts {
  const char *rules_path;  /* "" = defaults */
  int tick_ms;             /* periodic jobs (escalation, silence); 1000 */
};

/* Start the worker (after the writer; stop it before writer_stop). It
 * becomes the process-wide target of care_assess_notify*(). Re-assesses
 * every patient whose stored assessment has another rules version.
 * Returns 0, -VG_EINVAL (bad rules file: message logged), -VG_ENOMEM. */
int care_assess_start(struct vg_app *app, const struct care_assess_opts *o,
                      struct care_assess **out);
void care_assess_stop(struct care_assess *a);

/* Queue patients for re-assessment (debounced). Cheap; thread-safe; a
 * no-op when no worker runs. */
void care_assess_notify(int64_t patient_id);
void care_assess_notify_readings(const struct vg_reading *r, size_t n);

/* The rules in force (the worker's, else the defaults). OUT: *out. */
void care_rules_current(struct care_rules *out);

/* Wait until the queue is empty and idle (tests, bench, CLI); returns 0,
 * or -VG_ETIMEOUT after timeout_ms. */
int care_assess_drain(int timeout_ms);

/* ---- care-flow writers (care_alerts.c, care_tasks.c, care_referrals.c,
 * care_events.c); all take a WRITE transaction ------------------------ */

/* Raise or refresh (dedup: repeats += new readings) the alert for hit. */
int care_alerts_apply(struct vg_txn *t, int64_t pid, const struct care_hit *h,
                      int64_t now_ms);
/* Escalate unacknowledged alerts past their delay (lease "escalate"). */
int care_alerts_escalate(struct vg_txn *t, const struct care_rules *r,
                         int64_t now_ms, int64_t *out_n);
/* Silence rule: patients whose bound device sent nothing for N days. */
int care_alerts_silence(struct vg_txn *t, const struct care_rules *r,
                        int64_t now_ms, int64_t *out_n);
/* Take the lease of periodic job name until now + period (pg: FOR UPDATE
 * SKIP LOCKED). 1 taken, 0 not due / held elsewhere, or an error. */
int care_job_take(struct vg_txn *t, const char *name, int64_t now_ms,
                  int64_t period_ms);
/* Create or pull forward the open task of kind for pid. */
int care_tasks_upsert(struct vg_txn *t, int64_t pid, const char *kind,
                      int64_t due_ms, int tier_rank, const char *reason,
                      const char *source, int64_t now_ms);
/* Periodic job "tasks": contract renewal (ending within 30 days), the
 * yearly check (no visit for 11 months), device set-up (bound a day ago,
 * never heard from); at most 500 per run. OUT: *out_n tasks made. */
int care_tasks_generate(struct vg_txn *t, int64_t now_ms, int64_t *out_n);
/* Suggested referral (one pending per patient). */
int care_referrals_suggest(struct vg_txn *t, int64_t pid, const char *urgency,
                           const char *reason, const char *snapshot,
                           int64_t window_from_ms, int64_t now_ms);
/* Append an event for SSE (kind "alert", "task", ...; data JSON). */
int care_events_raise(struct vg_txn *t, const char *kind, int64_t pid,
                      int64_t ref_id, const char *data, int64_t now_ms);
/* Wake local SSE waiters (call after the writer job committed). */
void care_events_kick(void);
/* Block up to ms until a kick after generation gen; returns the current
 * generation (pass 0 first). */
unsigned long care_events_wait(unsigned long gen, int ms);

#endif
