/* care_alerts.c - alert rows: raise with dedup (one unresolved alert per
 * patient and rule, repeats counted by new qualifying readings), the
 * escalation job (family doctor -> team lead -> hospital duty doctor after
 * the rule table's delays), the silence rule, and job leases. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "care_assess.h"
#include "core_errors.h"

struct last_alert {
  int64_t id, last_ms;
  char state[16];
  int found;
};

static int last_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct last_alert *l = ctx;
  if (n < 3)
    return 1;
  l->found = 1;
  l->id = c[0].i;
  snprintf(l->state, sizeof l->state, "%s",
           c[1].type == VG_VAL_TEXT ? c[1].s : "");
  l->last_ms = c[2].i;
  return 1;
}

static int id_out(void *ctx, const struct vg_val *c, size_t n)
{
  if (n && c[0].type == VG_VAL_INT)
    *(int64_t *)ctx = c[0].i;
  return 0;
}

int care_alerts_apply(struct vg_txn *t, int64_t pid, const struct care_hit *h,
                      int64_t now_ms)
{
  struct last_alert l = {0};
  struct vg_val p[8];
  int64_t newer = 0, id = 0;
  char data[256];
  int rc;
  p[0] = VG_INT(pid);
  p[1] = VG_TEXT(h->rule);
  rc = store_sql(t,
                 "SELECT id, state, last_ms FROM care_alert WHERE patient_id "
                 "= $1 AND rule = $2 ORDER BY id DESC LIMIT 1",
                 p, 2, last_row, &l, NULL);
  if (rc < 0)
    return rc;
  /* Only readings after the last alert's latest count: a resolved alert
   * is not re-raised by the same readings. */
  for (size_t i = 0; i < h->n_ts; i++)
    newer += !l.found || h->ts_ms[i] > l.last_ms;
  if (newer == 0)
    return 0;
  if (l.found && strcmp(l.state, "resolved") != 0) {
    p[0] = VG_INT(newer);
    p[1] = VG_INT(h->last_ms);
    p[2] = VG_REAL(h->value);
    p[3] = VG_TEXT(h->message);
    p[4] = VG_INT(l.id);
    rc = store_sql(t,
                   "UPDATE care_alert SET repeats = repeats + $1, last_ms = "
                   "$2, value = $3, message = $4, version = version + 1 "
                   "WHERE id = $5",
                   p, 5, NULL, NULL, NULL);
    id = l.id;
  } else {
    p[2] = VG_TEXT(h->severity);
    p[3] = VG_TEXT(h->message);
    p[4] = VG_REAL(h->value);
    p[5] = VG_INT(newer);
    p[6] = VG_INT(h->ts_ms[0] < now_ms ? h->ts_ms[0] : now_ms);
    p[7] = VG_INT(h->last_ms);
    rc = store_sql(t,
                   "INSERT INTO care_alert (patient_id, rule, severity, "
                   "state, message, value, repeats, first_ms, last_ms, "
                   "team_id) VALUES ($1, $2, $3, 'open', $4, $5, $6, $7, "
                   "$8, COALESCE((SELECT c.team_id FROM contract c LEFT "
                   "JOIN household_member m ON m.household_id = "
                   "c.household_id WHERE c.status = 'active' AND "
                   "(c.patient_id = $1 OR m.patient_id = $1) ORDER BY c.id "
                   "LIMIT 1), 0)) RETURNING id",
                   p, 8, id_out, &id, NULL);
  }
  if (rc < 0)
    return rc;
  snprintf(data, sizeof data,
           "{\"rule\":\"%s\",\"severity\":\"%s\",\"new\":%s,\"repeats\":%lld}",
           h->rule, h->severity, l.found && strcmp(l.state, "resolved")
                                     ? "false" : "true", (long long)newer);
  return care_events_raise(t, "alert", pid, id, data, now_ms);
}

struct esc_ctx {
  struct vg_txn *t;
  int64_t now_ms, n;
  int rc;
};

static int esc_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct esc_ctx *e = ctx;
  (void)n;
  e->n++;
  (void)c;
  return 0;
}

int care_alerts_escalate(struct vg_txn *t, const struct care_rules *r,
                         int64_t now_ms, int64_t *out_n)
{
  struct esc_ctx e = {t, now_ms, 0, 0};
  struct vg_val p[5] = {VG_INT(now_ms), VG_INT(r->esc_critical_s * 1000),
                        VG_INT(r->esc_high_s * 1000),
                        VG_INT(r->esc_medium_s * 1000),
                        VG_INT(r->esc_low_s * 1000)};
  int rc;
  /* One level per delay: the clock restarts at each escalation. */
  rc = store_sql(
      t,
      "UPDATE care_alert SET escalation_level = escalation_level + 1, "
      "escalated_ms = $1, version = version + 1 WHERE state = 'open' AND "
      "escalation_level < 2 AND CAST($1 AS BIGINT) - (CASE WHEN "
      "escalated_ms > 0 THEN escalated_ms ELSE first_ms END) >= (CASE "
      "severity WHEN 'critical' THEN CAST($2 AS BIGINT) WHEN 'high' THEN "
      "CAST($3 AS BIGINT) WHEN 'medium' THEN CAST($4 AS BIGINT) ELSE "
      "CAST($5 AS BIGINT) END) "
      "RETURNING id, patient_id, escalation_level",
      p, 5, esc_row, &e, NULL);
  if (rc < 0)
    return rc;
  *out_n = e.n;
  if (e.n) {
    char data[64];
    snprintf(data, sizeof data, "{\"escalated\":%lld}", (long long)e.n);
    rc = care_events_raise(t, "escalation", 0, 0, data, now_ms);
  }
  return rc;
}

struct sil_ctx {
  struct care_hit hits[64];
  int64_t pid[64];
  size_t n;
};

static int sil_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct sil_ctx *s = ctx;
  struct care_hit *h;
  if (n < 3 || s->n == 64)
    return 1;
  h = &s->hits[s->n];
  memset(h, 0, sizeof *h);
  s->pid[s->n++] = c[0].i;
  h->rule = "device_silent";
  h->severity = "low";
  h->value = (double)c[2].i;
  h->ts_ms[0] = c[2].i; /* the device's last contact */
  h->last_ms = c[2].i;
  h->n_ts = 1;
  snprintf(h->message, sizeof h->message, "no data from device %s since %lld",
           c[1].type == VG_VAL_TEXT ? c[1].s : "?", (long long)c[2].i);
  return 0;
}

int care_alerts_silence(struct vg_txn *t, const struct care_rules *r,
                        int64_t now_ms, int64_t *out_n)
{
  struct sil_ctx s;
  struct vg_val p[1] = {VG_INT(now_ms - r->silence_days * 86400000LL)};
  int rc;
  s.n = 0;
  /* Active device = bound and seen at least once; one alert per silence
   * (dedup by its last contact). */
  rc = store_sql(t,
                 "SELECT patient_id, serial, last_seen_ms FROM device WHERE "
                 "patient_id IS NOT NULL AND last_seen_ms > 0 AND "
                 "last_seen_ms < $1 ORDER BY last_seen_ms LIMIT 64",
                 p, 1, sil_row, &s, NULL);
  if (rc < 0)
    return rc;
  for (size_t i = 0; i < s.n; i++) {
    rc = care_alerts_apply(t, s.pid[i], &s.hits[i], now_ms);
    if (rc)
      return rc;
  }
  *out_n = (int64_t)s.n;
  return 0;
}

static int got_row(void *ctx, const struct vg_val *c, size_t n)
{
  (void)c;
  (void)n;
  *(int *)ctx = 1;
  return 0;
}

/* "host:pid", recorded with each lease so operators (and the multi-node
 * test) see which node ran a job last. */
static char g_node[96];

static void node_name_init(void)
{
  char host[64] = "";
  if (gethostname(host, sizeof host - 1) != 0)
    host[0] = '\0';
  snprintf(g_node, sizeof g_node, "%s:%ld", host, (long)getpid());
}

static const char *node_name(void)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, node_name_init);
  return g_node;
}

int care_job_take(struct vg_txn *t, const char *name, int64_t now_ms,
                  int64_t period_ms)
{
  struct vg_val p[3] = {VG_TEXT(name), VG_INT(now_ms)};
  int got = 0, rc;
  /* Jobs added after 004 get their row on first use. */
  rc = store_sql(t,
                 "INSERT INTO care_job (name, next_ms) VALUES ($1, 0) ON "
                 "CONFLICT (name) DO NOTHING",
                 p, 1, NULL, NULL, NULL);
  if (rc < 0)
    return rc;
  /* PostgreSQL: several nodes; the row lock is held to the group commit and
   * other nodes skip it. SQLite: one node is the only writer. */
  if (strcmp(store_backend_name(t->store), "pg") == 0)
    rc = store_sql(t,
                   "SELECT name FROM care_job WHERE name = $1 AND next_ms <= "
                   "$2 FOR UPDATE SKIP LOCKED",
                   p, 2, got_row, &got, NULL);
  else
    rc = store_sql(t,
                   "SELECT name FROM care_job WHERE name = $1 AND next_ms <= "
                   "$2",
                   p, 2, got_row, &got, NULL);
  if (rc < 0 || !got)
    return rc < 0 ? rc : 0;
  p[1] = VG_INT(now_ms + period_ms);
  p[2] = VG_TEXT(node_name());
  rc = store_sql(t,
                 "UPDATE care_job SET next_ms = $2, node = $3 WHERE name = "
                 "$1",
                 p, 3, NULL, NULL, NULL);
  return rc < 0 ? rc : 1;
}
