/* api_alerts.c - /api/v1/alerts: list with filters, acknowledge and
 * resolve (open -> acknowledged -> resolved, with who and when); an
 * illegal transition is 409 naming the allowed ones. Also the shared
 * row-to-JSON and transition helpers of the care-flow API files. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "care_assess.h"
#include "core_arena.h"
#include "core_errors.h"
#include "core_time.h"
#include "store_writer.h"

/* ---- shared by api_tasks.c, api_referrals.c, api_consults.c ----------- */

/* Write one row as a JSON object with the given column names. */
void api_care_row(struct vg_buf *out, const char *const *names,
                  const struct vg_val *c, size_t n);
void api_care_row(struct vg_buf *out, const char *const *names,
                  const struct vg_val *c, size_t n)
{
  buf_putc(out, '{');
  for (size_t i = 0; i < n && names[i]; i++) {
    const char *nm = names[i];
    if (i)
      buf_putc(out, ',');
    buf_json_str(out, nm + (nm[0] == '@'), strlen(nm + (nm[0] == '@')));
    buf_putc(out, ':');
    if (c[i].type == VG_VAL_INT)
      buf_json_int(out, c[i].i);
    else if (c[i].type == VG_VAL_REAL)
      buf_json_num(out, c[i].d);
    else if (c[i].type == VG_VAL_TEXT && nm[0] == '@') /* stored JSON */
      buf_append(out, c[i].s, c[i].len);
    else if (c[i].type == VG_VAL_TEXT)
      buf_json_str(out, c[i].s, c[i].len);
    else
      buf_puts(out, "null");
  }
  buf_putc(out, '}');
}

struct rows_ctx {
  struct vg_req *r;
  const char *const *names;
  size_t n, pid_col;
};

static int rows_cb(void *ctx, const struct vg_val *c, size_t n)
{
  struct rows_ctx *x = ctx;
  if (x->r->principal && !auth_patient_visible(NULL, x->r->principal,
                                               c[x->pid_col].i))
    return 0;
  if (x->n++)
    buf_putc(&x->r->out, ',');
  api_care_row(&x->r->out, x->names, c, n);
  return 0;
}

/* Run a list query into {"key":[...]} filtering by patient visibility. */
int api_care_list(struct vg_req *r, const char *key, const char *sql,
                  const struct vg_val *p, size_t n_p,
                  const char *const *names, size_t pid_col);
int api_care_list(struct vg_req *r, const char *key, const char *sql,
                  const struct vg_val *p, size_t n_p,
                  const char *const *names, size_t pid_col)
{
  struct rows_ctx x = {r, names, 0, pid_col};
  struct vg_txn *t;
  int rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc)
    return vg_fail(r, rc, "store unavailable");
  buf_printf(&r->out, "{\"%s\":[", key);
  rc = store_sql(t, sql, p, n_p, rows_cb, &x, NULL);
  store_rollback(t);
  if (rc < 0)
    return vg_fail(r, rc, "listing %s failed", key);
  buf_printf(&r->out, "],\"count\":%zu}", x.n);
  return 0;
}

/* A transition: from the current state to `to` when allowed. */
struct api_care_tr {
  const char *from, *action, *to;
};

/* Allowed actions from state, comma separated, into buf. */
void api_care_allowed(const struct api_care_tr *tab, size_t n,
                      const char *state, char *buf, size_t size);
void api_care_allowed(const struct api_care_tr *tab, size_t n,
                      const char *state, char *buf, size_t size)
{
  buf[0] = '\0';
  for (size_t i = 0; i < n; i++)
    if (strcmp(tab[i].from, state) == 0) {
      size_t l = strlen(buf);
      snprintf(buf + l, size - l, "%s%s", l ? ", " : "", tab[i].action);
    }
  if (!buf[0])
    snprintf(buf, size, "none (final state)");
}

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

static int alert_job_fn(struct vg_txn *t, void *ctx)
{
  struct alert_job *j = ctx;
  struct vg_val p[3] = {VG_INT(j->id), VG_TEXT(j->who), VG_INT(j->now)};
  const char *to = NULL;
  int rc = store_sql(t, "SELECT state, patient_id FROM care_alert WHERE id = $1",
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
                           !strcmp(to, "resolved") ? "{\"state\":\"resolved\"}"
                                                   : "{\"state\":\"acknowledged\"}",
                           j->now);
}

static int alert_transition(struct vg_req *r, const char *action)
{
  struct alert_job j = {0};
  char allowed[128];
  int rc;
  if (api_parse_id(r->params[0], &j.id))
    return vg_fail(r, VG_ENOTFOUND, "no alert '%s'", r->params[0]);
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
    struct rows_ctx x = {r, alert_cols, 0, 1};
    struct vg_txn *t;
    rc = store_begin(r->app->store, VG_TXN_READ, &t);
    if (rc)
      return vg_fail(r, rc, "store unavailable");
    rc = store_sql(t, ALERT_SELECT "WHERE id = $1", p, 1, rows_cb, &x, NULL);
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
