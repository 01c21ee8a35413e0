/* api_alerts.c - /api/v1/alerts: list with filters, acknowledge and
 * resolve (open -> acknowledged -> resolved, with who and when); an
 * illegal transition is 409 naming the allowed ones. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "care_assess.h"
#include "core_arena.h"
#include "core_errors.h"
#include "core_time.h"
#include "store_writer.h"

/* ---- alerts ------------------------------------------------------------ */

static const char *const alert_cols[] = {
    "id", "patient", "rule", "severity", "state", "message", "value",
    "repeats", "first_ms", "last_ms", "team", "escalation_level",
    "escalated_ms", "ack_by", "ack_ms", "resolved_by", "resolved_ms",
    "version", NULL};
#define ALERT_SELECT                                                         \
  "SELECT id, patient_id, rule, severity, state, message, value, repeats, " \
  "first_ms, last_ms, team_id, escalation_level, escalated_ms, ack_by, "    \
  "ack_ms, resolved_by, resolved_ms, version FROM care_alert "

int api_alerts_list(struct vg_req *r)
{
  const char *state = http_query(r, "state"), *sev = http_query(r, "severity");
  const char *team = http_query(r, "team"), *pat = http_query(r, "patient");
  int64_t team_id = 0, pid = 0;
  struct vg_val p[5];
  if ((team && api_parse_id(team, &team_id)) ||
      (pat && api_parse_id(pat, &pid)))
    return vg_fail(r, VG_EINVAL, "team and patient must be ids");
  p[0] = VG_TEXT(state ? state : "");
  p[1] = VG_TEXT(sev ? sev : "");
  p[2] = VG_INT(team_id);
  p[3] = VG_INT(pid);
  p[4] = VG_INT(1000);
  return api_care_list(
      r, "alerts",
      ALERT_SELECT "WHERE ($1 = '' OR state = $1) AND ($2 = '' OR severity "
                   "= $2) AND ($3 = 0 OR team_id = $3) AND ($4 = 0 OR "
                   "patient_id = $4) ORDER BY CASE severity WHEN 'critical' "
                   "THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 "
                   "END, first_ms LIMIT $5",
      p, 5, alert_cols, 1);
}

static const struct api_care_tr alert_tr[] = {
    {"open", "ack", "acknowledged"},
    {"open", "resolve", "resolved"},
    {"acknowledged", "resolve", "resolved"},
};

struct alert_job {
  const struct vg_principal *pr; /* NULL = no check */
  int64_t id, pid, now;
  const char *action, *who;
  char state[16];
  int found, illegal;
};

static int state_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct alert_job *j = ctx;
  (void)n;
  j->found = 1;
  snprintf(j->state, sizeof j->state, "%s", c[0].s);
  j->pid = c[1].i;
  return 1;
}

/* The alert after a transition (one row by id), unless its patient is not
 * visible to the caller. */
static int read_back(void *ctx, const struct vg_val *c, size_t n)
{
  struct vg_req *r = ctx;
  if (r->principal && !auth_patient_visible(NULL, r->principal, c[1].i))
    return 0;
  api_care_row(&r->out, alert_cols, c, n);
  return 0;
}

static int alert_job_fn(struct vg_txn *t, void *ctx)
{
  struct alert_job *j = ctx;
  struct vg_val p[3] = {VG_INT(j->id), VG_TEXT(j->who), VG_INT(j->now)};
  const char *to = NULL;
  int rc = store_sql(t,
                     "SELECT state, patient_id FROM care_alert WHERE id = $1",
                     p, 1, state_row, j, NULL);
  if (rc < 0)
    return rc;
  if (!j->found)
    return -VG_ENOTFOUND;
  if (j->pr && !auth_patient_visible(t, j->pr, j->pid))
    return -VG_ENOTFOUND; /* invisible: as if missing, nothing done */
  for (size_t i = 0; i < sizeof alert_tr / sizeof alert_tr[0]; i++)
    if (!strcmp(alert_tr[i].from, j->state) &&
        !strcmp(alert_tr[i].action, j->action))
      to = alert_tr[i].to;
  if (!to) {
    j->illegal = 1;
    return -VG_ECONFLICT;
  }
  if (!strcmp(to, "acknowledged"))
    rc = store_sql(t,
                   "UPDATE care_alert SET state = 'acknowledged', ack_by = "
                   "$2, ack_ms = $3, version = version + 1 WHERE id = $1",
                   p, 3, NULL, NULL, NULL);
  else
    rc = store_sql(t,
                   "UPDATE care_alert SET state = 'resolved', resolved_by = "
                   "$2, resolved_ms = $3, ack_by = CASE WHEN ack_ms = 0 THEN "
                   "$2 ELSE ack_by END, ack_ms = CASE WHEN ack_ms = 0 THEN $3 "
                   "ELSE ack_ms END, version = version + 1 WHERE id = $1",
                   p, 3, NULL, NULL, NULL);
  if (rc < 0)
    return rc;
  return care_events_raise(t, "alert", j->pid, j->id,
                           !strcmp(to, "resolved")
                               ? "{\"state\":\"resolved\"}"
                               : "{\"state\":\"acknowledged\"}",
                           j->now);
}

static int alert_transition(struct vg_req *r, const char *action)
{
  struct alert_job j = {0};
  char allowed[128];
  int rc;
  if (api_path_id(r, "alert", &j.id))
    return r->err;
  j.action = action;
  j.who = r->principal ? r->principal->username : "";
  j.now = vg_now_ms();
  j.pr = r->principal;
  rc = writer_exec(r->app->writer, 1, alert_job_fn, &j);
  if (rc == -VG_ENOTFOUND ||
      (j.found && r->principal &&
       !auth_patient_visible(NULL, r->principal, j.pid)))
    return vg_fail(r, VG_ENOTFOUND, "no alert %lld", (long long)j.id);
  if (j.illegal) {
    api_care_allowed(alert_tr, sizeof alert_tr / sizeof alert_tr[0], j.state,
                     allowed, sizeof allowed);
    return vg_fail(r, VG_ECONFLICT,
                   "cannot %s an alert that is %s; allowed: %s", action,
                   j.state, allowed);
  }
  if (rc)
    return vg_fail(r, rc, "alert not updated: %s", vg_strerror(rc));
  care_events_kick();
  {
    struct vg_val p[1] = {VG_INT(j.id)};
    struct vg_txn *t;
    rc = store_begin(r->app->store, VG_TXN_READ, &t);
    if (rc)
      return vg_fail(r, rc, "store unavailable");
    rc = store_sql(t, ALERT_SELECT "WHERE id = $1", p, 1, read_back, r, NULL);
    store_rollback(t);
    return rc < 0 ? vg_fail(r, rc, "read back failed") : 0;
  }
}

int api_alerts_ack(struct vg_req *r)
{
  return alert_transition(r, "ack");
}

int api_alerts_resolve(struct vg_req *r)
{
  return alert_transition(r, "resolve");
}
