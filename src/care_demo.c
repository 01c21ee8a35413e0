/* care_demo.c - the demo's care flow (vigil serve --demo): crises, the
 * assessment of every patient, overdue tasks, referrals in every state,
 * consults open and answered, a few acknowledged alerts. */
#include <stdio.h>
#include <string.h>

#include "care_assess.h"
#include "codes.h"
#include "core_alloc.h"
#include "core_errors.h"
#include "core_log.h"
#include "core_time.h"
#include "http.h"
#include "store_writer.h"

#define DAY_MS 86400000LL

struct ids {
  int64_t *v;
  size_t n, cap;
};

static int id_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct ids *s = ctx;
  if (n < 1 || c[0].type != VG_VAL_INT)
    return 0;
  if (s->n == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 512;
    s->v = vg_realloc(s->v, s->cap * sizeof *s->v);
  }
  s->v[s->n++] = c[0].i;
  return 0;
}

static int int_row(void *ctx, const struct vg_val *c, size_t n)
{
  if (n && c[0].type == VG_VAL_INT)
    *(int64_t *)ctx = c[0].i;
  return 1;
}

struct crisis_job {
  const struct ids *p;
  int64_t now;
};

/* About 1 patient in 60 gets a BP crisis today, 1 in 150 a low glucose. */
static int crises(struct vg_txn *t, void *ctx)
{
  struct crisis_job *j = ctx;
  struct vg_reading r[3];
  unsigned char st[3];
  for (size_t i = 7; i < j->p->n; i += 60) {
    int64_t ts = j->now - (int64_t)(2 + i % 5) * 3600000LL;
    r[0] = (struct vg_reading){j->p->v[i], ts, 184 + (double)(i % 12),
                               VG_CODE_SBP, VG_TZ_UNKNOWN, "demo-cuff", ""};
    r[1] = (struct vg_reading){j->p->v[i], ts, 112 + (double)(i % 6),
                               VG_CODE_DBP, VG_TZ_UNKNOWN, "demo-cuff", ""};
    if (store_readings_insert(t, r, 2, st))
      return -VG_ESTORE;
  }
  for (size_t i = 11; i < j->p->n; i += 150) {
    r[0] = (struct vg_reading){j->p->v[i], j->now - 5400000LL, 48,
                               VG_CODE_GLUCOSE, VG_TZ_UNKNOWN, "demo-meter",
                               ""};
    if (store_readings_insert(t, r, 1, st))
      return -VG_ESTORE;
  }
  return 0;
}

struct flow_job {
  int64_t now, hospital;
  struct ids cand; /* patients not stable, most urgent first */
  int64_t n_ref, n_con;
};

/* state, direction, urgency, reason, note, care plan */
static const char *const ref_rows[][6] = {
    {"requested", "up", "urgent", "uncontrolled at two follow-ups", "", ""},
    {"requested", "up", "emergency", "BP 186/114 with headache", "", ""},
    {"accepted", "up", "urgent", "uncontrolled on three drugs",
     "seen in clinic on Tuesday", ""},
    {"declined", "up", "routine", "second opinion on statin",
     "manage in community: add atorvastatin 20 mg", ""},
    {"completed", "up", "urgent", "new AF episode", "anticoagulation started",
     ""},
    {"returned", "down", "routine", "back to community after admission",
     "stable on discharge",
     "{\"tasks\":[{\"kind\":\"phone_call\",\"due_days\":3},"
     "{\"kind\":\"followup_visit\",\"due_days\":14}],"
     "\"targets\":{\"sbp\":130,\"dbp\":80}}"},
    {"dismissed", "up", "urgent", "suggested by the rules", "not needed", ""},
    {"accepted", "down", "routine", "discharged: follow-up in community",
     "", ""},
};

static int flow(struct vg_txn *t, void *ctx)
{
  struct flow_job *j = ctx;
  struct vg_val p[12];
  size_t k = 0;
  int rc;
  /* Overdue: a third of the open tasks were due 1..20 days ago. */
  p[0] = VG_INT(j->now);
  p[1] = VG_INT(DAY_MS);
  rc = store_sql(t,
                 "UPDATE care_task SET due_ms = $1 - (id % 20 + 1) * $2, "
                 "created_ms = $1 - (id % 20 + 15) * $2 WHERE state = "
                 "'open' AND id % 3 = 0",
                 p, 2, NULL, NULL, NULL);
  if (rc < 0)
    return rc;
  /* Referrals in every state, for the patients most in need. */
  for (size_t r = 0; r < sizeof ref_rows / sizeof ref_rows[0]; r++) {
    for (int rep = 0; rep < 2 && k < j->cand.n; rep++, k++) {
      int64_t created = j->now - (int64_t)(k + 1) * DAY_MS;
      p[0] = VG_INT(j->cand.v[k]);
      p[1] = VG_TEXT(ref_rows[r][1]);
      p[2] = VG_INT(j->hospital);
      p[3] = VG_TEXT(ref_rows[r][2]);
      p[4] = VG_TEXT(ref_rows[r][3]);
      p[5] = VG_TEXT(ref_rows[r][0]);
      p[6] = VG_INT(created - 90 * DAY_MS);
      p[7] = VG_INT(created);
      p[8] = VG_TEXT(ref_rows[r][5]);
      p[9] = VG_TEXT(ref_rows[r][4]);
      p[10] = VG_INT(created + (r ? 3600000LL * (int64_t)r : 0));
      rc = store_sql(
          t,
          "INSERT INTO care_referral (patient_id, direction, from_org, "
          "to_org, urgency, reason, state, snapshot, window_from_ms, "
          "window_to_ms, care_plan, note, created_by, updated_by, "
          "created_ms, updated_ms) SELECT $1, $2, CASE WHEN $2 = 'up' THEN "
          "COALESCE((SELECT h.org_id FROM household_member m JOIN household "
          "h ON h.id = m.household_id WHERE m.patient_id = $1), 0) ELSE $3 "
          "END, CASE WHEN $2 = 'up' THEN $3 ELSE COALESCE((SELECT h.org_id "
          "FROM household_member m JOIN household h ON h.id = "
          "m.household_id WHERE m.patient_id = $1), 0) END, $4, $5, $6, "
          "COALESCE((SELECT reasons FROM care_assessment WHERE patient_id = "
          "$1 AND programme = 'overall'), '[]'), $7, $8, $9, $10, "
          "'demo.doctor', 'demo.clinician', $8, $11",
          p, 11, NULL, NULL, NULL);
      if (rc < 0)
        return rc;
      j->n_ref++;
    }
  }
  /* Consults: two open, two answered (waiting times of hours). */
  for (int c = 0; c < 4 && k < j->cand.n; c++, k++) {
    int64_t asked = j->now - (int64_t)(c + 1) * 5 * 3600000LL;
    p[0] = VG_INT(j->cand.v[k]);
    p[1] = VG_INT(j->hospital);
    p[2] = VG_TEXT(c & 1 ? "endocrinology" : "cardiology");
    p[3] = VG_TEXT(c & 1 ? "HbA1c 8.9 % on metformin: add an SGLT2 "
                           "inhibitor or basal insulin?"
                         : "Home BP 152/94 on amlodipine and losartan: "
                           "which third drug?");
    p[4] = VG_TEXT(c < 2 ? "open" : "answered");
    p[5] = VG_TEXT(c < 2 ? ""
                   : c & 1 ? "Add empagliflozin 10 mg; recheck eGFR in "
                             "4 weeks."
                           : "Add indapamide 1.5 mg; recheck potassium in "
                             "2 weeks.");
    p[6] = VG_TEXT(c < 2 ? "" : "demo.clinician");
    p[7] = VG_INT(asked);
    p[8] = VG_INT(c < 2 ? 0 : asked + 2 * 3600000LL);
    rc = store_sql(t,
                   "INSERT INTO care_consult (patient_id, asked_by, to_org, "
                   "specialty, question, readings, state, answer, "
                   "answered_by, created_ms, answered_ms) VALUES ($1, "
                   "'demo.doctor', $2, $3, $4, '[]', $5, $6, $7, $8, $9)",
                   p, 9, NULL, NULL, NULL);
    if (rc < 0)
      return rc;
    j->n_con++;
  }
  /* A few alerts already acknowledged by the family doctor. */
  p[0] = VG_INT(j->now - 1800000LL);
  rc = store_sql(t,
                 "UPDATE care_alert SET state = 'acknowledged', ack_by = "
                 "'demo.doctor', ack_ms = $1, version = version + 1 WHERE "
                 "state = 'open' AND id % 4 = 1",
                 p, 1, NULL, NULL, NULL);
  return rc < 0 ? rc : 0;
}

int care_flow_demo_seed(struct vg_app *app)
{
  struct care_rules rules;
  struct ids all = {0};
  struct flow_job fj;
  struct crisis_job cj;
  struct vg_txn *t;
  int64_t done = 0, have = 0, t0 = vg_mono_ns();
  int rc;
  memset(&fj, 0, sizeof fj);
  fj.now = vg_now_ms();
  rc = store_begin(app->store, VG_TXN_READ, &t);
  if (rc)
    return rc;
  rc = store_sql(t, "SELECT COUNT(*) FROM care_assessment", NULL, 0, int_row,
                 &have, NULL);
  if (rc >= 0 && have == 0)
    rc = store_sql(t, "SELECT id FROM patient ORDER BY id", NULL, 0, id_row,
                   &all, NULL);
  if (rc >= 0 && have == 0)
    rc = store_sql(t,
                   "SELECT id FROM organization WHERE level IN "
                   "('county_hospital', 'tertiary_hospital') ORDER BY id "
                   "LIMIT 1",
                   NULL, 0, int_row, &fj.hospital, NULL);
  store_rollback(t);
  if (rc < 0 || have > 0 || all.n == 0)
    goto fail;
  cj.p = &all;
  cj.now = fj.now;
  rc = writer_exec(app->writer, all.n / 40 + 1, crises, &cj);
  if (rc)
    goto fail;
  care_rules_current(&rules);
  rc = care_assess_ids(app, &rules, all.v, all.n, fj.now, &done);
  if (rc)
    goto fail;
  rc = store_begin(app->store, VG_TXN_READ, &t);
  if (rc)
    goto fail;
  rc = store_sql(t,
                 "SELECT patient_id FROM care_assessment WHERE programme = "
                 "'overall' AND tier <> 'stable' ORDER BY CASE tier WHEN "
                 "'urgent' THEN 0 ELSE 1 END, patient_id LIMIT 40",
                 NULL, 0, id_row, &fj.cand, NULL);
  store_rollback(t);
  if (rc < 0)
    goto fail;
  rc = writer_exec(app->writer, 64, flow, &fj);
  if (rc)
    goto fail;
  care_events_kick();
  vg_info("demo.care_flow",
          "assessed=%lld referrals=%lld consults=%lld ms=%.0f",
          (long long)done, (long long)fj.n_ref, (long long)fj.n_con,
          (double)(vg_mono_ns() - t0) / 1e6);
  rc = 0;
fail:
  vg_free(all.v);
  vg_free(fj.cand.v);
  return rc < 0 ? rc : 0;
}
