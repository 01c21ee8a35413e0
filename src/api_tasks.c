/* api_tasks.c - /api/v1/tasks: the work list (assignee=me, team, overdue,
 * due_before) sorted by tier then days overdue, and completing a task:
 * a follow-up records a visit (visit table, 003) with its measurements as
 * readings, updates the uncontrolled streak, and re-assesses the patient. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "care_assess.h"
#include "codes.h"
#include "core_errors.h"
#include "core_time.h"
#include "store_writer.h"

static const char *const task_cols[] = {
    "id", "patient", "kind", "state", "due_ms", "assignee", "team",
    "tier_rank", "reason", "source", "created_ms", "done_ms", "done_by",
    "visit", "version", "days_overdue", NULL};

int api_tasks_list(struct vg_req *r)
{
  const char *as = http_query(r, "assignee"), *team = http_query(r, "team");
  const char *state = http_query(r, "state");
  const char *overdue = http_query(r, "overdue");
  int64_t assignee = 0, team_id = 0, due_before = INT64_MAX, now = vg_now_ms();
  struct vg_val p[6];
  if (as && !strcmp(as, "me"))
    assignee = r->principal ? r->principal->user_id : -1;
  else if (as && api_parse_id(as, &assignee))
    return vg_fail(r, VG_EINVAL, "assignee must be 'me' or a user id");
  if (team && api_parse_id(team, &team_id))
    return vg_fail(r, VG_EINVAL, "team must be an id");
  if (api_time_param(r, "due_before", &due_before))
    return r->err;
  if (overdue && !strcmp(overdue, "1"))
    due_before = now;
  p[0] = VG_INT(assignee);
  p[1] = VG_INT(team_id);
  p[2] = VG_INT(due_before);
  p[3] = VG_TEXT(state ? state : "");
  p[4] = VG_INT(now);
  p[5] = VG_INT(1000);
  /* The morning list: highest tier first, then the most days overdue. */
  return api_care_list(
      r, "tasks",
      "SELECT id, patient_id, kind, state, due_ms, assignee_id, team_id, "
      "tier_rank, reason, source, created_ms, done_ms, done_by, visit_id, "
      "version, CASE WHEN due_ms < $5 THEN ($5 - due_ms) / 86400000 ELSE 0 "
      "END FROM care_task WHERE ($1 = 0 OR assignee_id = $1) AND ($2 = 0 OR "
      "team_id = $2) AND due_ms < $3 AND (($4 = '' AND state IN ('open', "
      "'in_progress')) OR state = $4) ORDER BY tier_rank DESC, due_ms, id "
      "LIMIT $6",
      p, 6, task_cols, 1);
}

struct done_job {
  const struct vg_principal *pr; /* NULL = no check */
  int64_t id, pid, now, visit_id;
  const char *who;
  int64_t who_id;
  double sbp, dbp, glu_mmol, hr;
  int has_bp, has_glu, has_hr, found, illegal;
  const char *symptoms, *adherence, *note, *kind;
  char state[16], task_kind[24];
};

static int task_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct done_job *j = ctx;
  (void)n;
  j->found = 1;
  snprintf(j->state, sizeof j->state, "%s", c[0].s);
  j->pid = c[1].i;
  snprintf(j->task_kind, sizeof j->task_kind, "%s", c[2].s);
  return 1;
}

static int done_fn(struct vg_txn *t, void *ctx)
{
  struct done_job *j = ctx;
  struct vg_val p[10];
  struct vg_reading rd[3];
  unsigned char st[3];
  size_t nr = 0;
  int rc;
  p[0] = VG_INT(j->id);
  rc = store_sql(t,
                 "SELECT state, patient_id, kind FROM care_task WHERE id = $1",
                 p, 1, task_row, j, NULL);
  if (rc < 0)
    return rc;
  if (!j->found)
    return -VG_ENOTFOUND;
  if (j->pr && !auth_patient_visible(t, j->pr, j->pid))
    return -VG_ENOTFOUND; /* invisible: as if missing, nothing done */
  if (strcmp(j->state, "open") && strcmp(j->state, "in_progress")) {
    j->illegal = 1;
    return -VG_ECONFLICT;
  }
  p[0] = VG_INT(j->pid);
  p[1] = VG_INT(j->now);
  p[2] = VG_INT(j->who_id);
  p[3] = VG_TEXT(j->kind);
  p[4] = j->has_bp ? VG_REAL(j->sbp) : VG_NULLV;
  p[5] = j->has_bp ? VG_REAL(j->dbp) : VG_NULLV;
  p[6] = j->has_glu ? VG_REAL(j->glu_mmol) : VG_NULLV;
  p[7] = VG_TEXT(j->symptoms);
  p[8] = VG_TEXT(j->adherence);
  p[9] = VG_TEXT(j->note);
  rc = store_sql(t,
                 "INSERT INTO visit (patient_id, visit_ms, by_user_id, kind, "
                 "sbp, dbp, glucose_mmol, symptoms, adherence, note, "
                 "created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                 "$8, $9, $10, $2, $2) RETURNING id",
                 p, 10, api_care_id_out, &j->visit_id, NULL);
  if (rc < 0)
    return rc;
  /* Measurements become readings (source "visit" = office BP), so the
   * visit feeds the assessment like any other data. */
  memset(rd, 0, sizeof rd);
  if (j->has_bp) {
    rd[nr++] = (struct vg_reading){j->pid, j->now, j->sbp, VG_CODE_SBP, 0,
                                   "visit", ""};
    rd[nr++] = (struct vg_reading){j->pid, j->now, j->dbp, VG_CODE_DBP, 0,
                                   "visit", ""};
  }
  if (j->has_glu)
    rd[nr++] = (struct vg_reading){j->pid, j->now, j->glu_mmol * 18.016,
                                   VG_CODE_FPG, 0, "visit", ""};
  if (nr && (rc = store_readings_insert(t, rd, nr, st)) != 0)
    return rc;
  /* Uncontrolled streak per programme measured at this follow-up. */
  if (j->has_bp || j->has_glu) {
    struct care_rules rules;
    int ctl;
    care_rules_current(&rules);
    ctl = j->has_bp ? j->sbp < rules.bp_ctrl_sbp && j->dbp < rules.bp_ctrl_dbp
                    : j->glu_mmol * 18.016 < rules.fpg_ctrl_mgdl;
    p[1] = VG_TEXT(j->has_bp ? "hypertension" : "t2d");
    p[2] = VG_INT(ctl ? 0 : 1);
    p[3] = VG_INT(j->now);
    rc = store_sql(t,
                   "INSERT INTO care_followup_state (patient_id, programme, "
                   "uncontrolled_streak, last_visit_ms) VALUES ($1, $2, $3, "
                   "$4) ON CONFLICT (patient_id, programme) DO UPDATE SET "
                   "uncontrolled_streak = CASE WHEN excluded."
                   "uncontrolled_streak = 0 THEN 0 ELSE care_followup_state."
                   "uncontrolled_streak + 1 END, last_visit_ms = $4",
                   p, 4, NULL, NULL, NULL);
    if (rc < 0)
      return rc;
  }
  p[0] = VG_INT(j->id);
  p[1] = VG_INT(j->now);
  p[2] = VG_TEXT(j->who);
  p[3] = VG_INT(j->visit_id);
  rc = store_sql(t,
                 "UPDATE care_task SET state = 'done', done_ms = $2, done_by "
                 "= $3, visit_id = $4, version = version + 1 WHERE id = $1",
                 p, 4, NULL, NULL, NULL);
  if (rc < 0)
    return rc;
  return care_events_raise(t, "task", j->pid, j->id, "{\"state\":\"done\"}",
                           j->now);
}

static int num(json_t *o, const char *k, double *v)
{
  json_t *x = json_object_get(o, k);
  if (!x || !json_is_number(x))
    return 0;
  *v = json_number_value(x);
  return 1;
}

static const char *str(json_t *o, const char *k, const char *def)
{
  json_t *x = json_object_get(o, k);
  return x && json_is_string(x) ? json_string_value(x) : def;
}

int api_tasks_complete(struct vg_req *r)
{
  struct done_job j = {0};
  json_t *b = NULL;
  int rc;
  if (api_path_id(r, "task", &j.id))
    return r->err;
  if (r->body_len && api_parse_object(r, &b))
    return r->err;
  j.now = vg_now_ms();
  j.who = r->principal ? r->principal->username : "";
  j.who_id = r->principal ? r->principal->user_id : 0;
  j.has_bp = b && num(b, "sbp", &j.sbp) && num(b, "dbp", &j.dbp);
  j.has_glu = b && num(b, "glucose_mmol", &j.glu_mmol);
  j.symptoms = str(b, "symptoms", "");
  j.adherence = str(b, "adherence", "unknown");
  j.note = str(b, "note", "");
  j.kind = str(b, "kind", "clinic");
  if ((j.has_bp && (j.sbp < 40 || j.sbp > 300 || j.dbp < 20 || j.dbp > 200)) ||
      (j.has_glu && (j.glu_mmol < 0.5 || j.glu_mmol > 60))) {
    json_decref(b);
    return vg_fail(r, VG_EINVAL, "measurement out of range");
  }
  j.pr = r->principal;
  rc = writer_exec(r->app->writer, 4, done_fn, &j);
  json_decref(b);
  if (rc == -VG_ENOTFOUND)
    return vg_fail(r, rc, "no task %lld", (long long)j.id);
  if (j.illegal)
    return vg_fail(r, VG_ECONFLICT,
                   "cannot complete a task that is %s; allowed: none (final "
                   "state)", j.state);
  if (rc)
    return vg_fail(r, rc, "task not completed: %s", vg_strerror(rc));
  care_assess_notify(j.pid);
  care_events_kick();
  buf_printf(&r->out, "{\"id\":%lld,\"state\":\"done\",\"visit\":%lld,"
             "\"patient\":%lld}", (long long)j.id, (long long)j.visit_id,
             (long long)j.pid);
  return 0;
}
