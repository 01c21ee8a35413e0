/* care_tasks.c - task generation: one open task of a kind per patient,
 * created by the assessment (follow-up visits, referral follow-up),
 * pulled forward when a tier asks for an earlier contact; the periodic
 * generation from contracts (renewal, yearly check) and silent devices. */
#include <stdio.h>
#include <string.h>

#include "care_assess.h"
#include "core_alloc.h"
#include "core_errors.h"
#include "core_time.h"

static int id_out(void *ctx, const struct vg_val *c, size_t n)
{
  if (n && c[0].type == VG_VAL_INT)
    *(int64_t *)ctx = c[0].i;
  return 0;
}

int care_tasks_upsert(struct vg_txn *t, int64_t pid, const char *kind,
                      int64_t due_ms, int tier_rank, const char *reason,
                      const char *source, int64_t now_ms)
{
  /* Nurses make the calls, home visits and device set-ups; GPs the
   * rest. Without that role in the team, the GP, then anyone (lead
   * first). */
  int nurse_kind = !strcmp(kind, "phone_call") ||
                   !strcmp(kind, "home_visit") || !strcmp(kind, "device_setup");
  struct vg_val p[8] = {VG_INT(pid),       VG_TEXT(kind),  VG_INT(due_ms),
                        VG_INT(tier_rank), VG_TEXT(reason), VG_TEXT(source),
                        VG_INT(now_ms), VG_TEXT(nurse_kind ? "nurse" : "gp")};
  int64_t id = 0, changes = 0;
  char data[96];
  int rc;
  /* Assignee: a member of the patient's contracted team (above). */
  rc = store_sql(
      t,
      "INSERT INTO care_task (patient_id, kind, state, due_ms, tier_rank, "
      "reason, source, created_ms, team_id, assignee_id) VALUES ($1, $2, "
      "'open', $3, $4, $5, $6, $7, COALESCE((SELECT c.team_id FROM contract "
      "c LEFT JOIN household_member m ON m.household_id = c.household_id "
      "WHERE c.status = 'active' AND (c.patient_id = $1 OR m.patient_id = "
      "$1) ORDER BY c.id LIMIT 1), 0), COALESCE((SELECT tm.user_id FROM "
      "contract c LEFT JOIN household_member m ON m.household_id = "
      "c.household_id JOIN care_team_member tm ON tm.team_id = c.team_id "
      "WHERE c.status = 'active' AND (c.patient_id = $1 OR m.patient_id = "
      "$1) ORDER BY CASE WHEN tm.role = $8 THEN 0 WHEN tm.role = 'gp' THEN "
      "1 ELSE 2 END, tm.lead DESC, tm.user_id LIMIT 1), 0)) "
      "ON CONFLICT (patient_id, kind) WHERE state IN ('open', "
      "'in_progress') DO UPDATE SET due_ms = excluded.due_ms, tier_rank = "
      "excluded.tier_rank, reason = excluded.reason, version = "
      "care_task.version + 1 WHERE excluded.due_ms < care_task.due_ms OR "
      "excluded.tier_rank <> care_task.tier_rank RETURNING id",
      p, 8, id_out, &id, &changes);
  if (rc < 0 || id == 0)
    return rc < 0 ? rc : 0;
  snprintf(data, sizeof data, "{\"kind\":\"%s\",\"tier_rank\":%d}", kind,
           tier_rank);
  return care_events_raise(t, "task", pid, id, data, now_ms);
}

/* ==== tasks from contracts and devices (periodic job "tasks") =========== */

#define DAY_MS 86400000LL
#define GEN_MAX 500 /* rows per run: the next tick takes the rest */

struct gen_row {
  int64_t pid, due_ms;
  const char *kind, *reason;
};

struct gen_ctx {
  struct gen_row *rows;
  size_t n;
  const char *kind, *reason;
  int date_col; /* column 1 is a YYYY-MM-DD date (else ms) */
  int64_t add_ms;
};

static int gen_row_cb(void *ctx, const struct vg_val *c, size_t n)
{
  struct gen_ctx *g = ctx;
  int64_t due = 0;
  if (n < 2 || g->n == GEN_MAX || c[0].type != VG_VAL_INT)
    return g->n == GEN_MAX;
  if (g->date_col && c[1].type == VG_VAL_TEXT) {
    if (vg_date_parse(c[1].s, c[1].len, &due))
      return 0;
  } else if (c[1].type == VG_VAL_INT) {
    due = c[1].i;
  }
  /* Never visited (0): due now, not a year after 1970. */
  g->rows[g->n++] = (struct gen_row){c[0].i, due ? due + g->add_ms : 0,
                                     g->kind, g->reason};
  return 0;
}

int care_tasks_generate(struct vg_txn *t, int64_t now_ms, int64_t *out_n)
{
  struct gen_row *rows = vg_malloc(GEN_MAX * sizeof *rows);
  struct gen_ctx g = {rows, 0, NULL, NULL, 0, 0};
  struct vg_val p[2];
  char soon[16];
  int rc;
  *out_n = 0;
  /* Contract renewal: active contracts ending within 30 days (the renewal
   * window of 003_care_org.sql); due on the end date. */
  vg_time_format(now_ms + 30 * DAY_MS, 0, soon, sizeof soon);
  soon[10] = '\0'; /* YYYY-MM-DD */
  p[0] = VG_TEXT(soon);
  g.kind = "contract_renewal";
  g.reason = "family-doctor contract ends within 30 days";
  g.date_col = 1;
  rc = store_sql(t,
                 "SELECT COALESCE(c.patient_id, m.patient_id), c.end_date "
                 "FROM contract c LEFT JOIN household_member m ON "
                 "m.household_id = c.household_id WHERE c.status = 'active' "
                 "AND c.end_date <= $1 AND NOT EXISTS (SELECT 1 FROM "
                 "care_task k WHERE k.patient_id = COALESCE(c.patient_id, "
                 "m.patient_id) AND k.kind = 'contract_renewal' AND "
                 "k.state IN ('open', 'in_progress')) ORDER BY c.end_date",
                 p, 1, gen_row_cb, &g, NULL);
  /* Yearly check: enrolled patients whose last visit (or enrolment-less
   * start) is 11 months old or more; due a year after the last visit. */
  if (rc >= 0 && g.n < GEN_MAX) {
    g.kind = "yearly_check";
    g.reason = "yearly health check of the enrolled programmes";
    g.date_col = 0;
    g.add_ms = 365 * DAY_MS;
    p[0] = VG_INT(now_ms - 335 * DAY_MS);
    rc = store_sql(t,
                   "SELECT pc.patient_id, COALESCE(MAX(v.visit_ms), 0) FROM "
                   "patient_condition pc LEFT JOIN visit v ON v.patient_id "
                   "= pc.patient_id WHERE pc.status = 'active' AND NOT "
                   "EXISTS (SELECT 1 FROM care_task k WHERE k.patient_id = "
                   "pc.patient_id AND k.kind = 'yearly_check' AND k.state "
                   "IN ('open', 'in_progress')) GROUP BY pc.patient_id "
                   "HAVING COALESCE(MAX(v.visit_ms), 0) < $1 ORDER BY 2",
                   p, 1, gen_row_cb, &g, NULL);
  }
  /* Device set-up: bound to a patient for a day and never heard from;
   * due 3 days after registration. */
  if (rc >= 0 && g.n < GEN_MAX) {
    g.kind = "device_setup";
    g.reason = "device registered but silent: help the patient set it up";
    g.add_ms = 3 * DAY_MS;
    p[0] = VG_INT(now_ms - DAY_MS);
    rc = store_sql(t,
                   "SELECT d.patient_id, MIN(d.created_ms) FROM device d "
                   "WHERE d.patient_id IS NOT NULL AND d.last_seen_ms = 0 "
                   "AND d.created_ms < $1 AND NOT EXISTS (SELECT 1 FROM "
                   "care_task k WHERE k.patient_id = d.patient_id AND "
                   "k.kind = 'device_setup' AND k.state IN ('open', "
                   "'in_progress')) GROUP BY d.patient_id ORDER BY 2",
                   p, 1, gen_row_cb, &g, NULL);
  }
  if (rc < 0)
    goto fail;
  /* The callback stops at GEN_MAX (returns 1): rows beyond wait. */
  rc = 0;
  for (size_t i = 0; i < g.n && rc == 0; i++) {
    int64_t due = g.rows[i].due_ms > 0 ? g.rows[i].due_ms : now_ms;
    rc = care_tasks_upsert(t, g.rows[i].pid, g.rows[i].kind, due, 0,
                           g.rows[i].reason, "schedule", now_ms);
  }
  if (rc == 0)
    *out_n = (int64_t)g.n;
fail:
  vg_free(rows);
  return rc < 0 ? rc : 0;
}
