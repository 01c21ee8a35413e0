/* api_consults.c - /api/v1/consults (telemedicine): a family doctor asks
 * about a patient with selected readings; a specialist answers. Lists of
 * open and answered consults carry their waiting time. open -> answered
 * -> closed; an illegal transition is 409 naming the allowed ones. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "care_assess.h"
#include "core_arena.h"
#include "core_errors.h"
#include "core_time.h"
#include "store_writer.h"

static const char *const cons_cols[] = {
    "id", "patient", "asked_by", "to_org", "specialty", "question",
    "@readings", "state", "answer", "answered_by", "created_ms",
    "answered_ms", "version", "waiting_ms", NULL};

int api_consults_list(struct vg_req *r)
{
  const char *state = http_query(r, "state");
  struct vg_val p[3] = {VG_TEXT(state ? state : ""), VG_INT(vg_now_ms()),
                        VG_INT(1000)};
  /* waiting: until answered, else until now */
  return api_care_list(
      r, "consults",
      "SELECT id, patient_id, asked_by, to_org, specialty, question, "
      "readings, state, answer, answered_by, created_ms, answered_ms, "
      "version, CASE WHEN answered_ms > 0 THEN answered_ms - created_ms ELSE "
      "$2 - created_ms END FROM care_consult WHERE ($1 = '' OR state = $1) "
      "ORDER BY created_ms LIMIT $3",
      p, 3, cons_cols, 1);
}

struct cjob {
  const struct vg_principal *pr; /* NULL = no check */
  struct vg_val v[7];
  int64_t id, pid, now;
  const char *answer, *who, *action;
  char state[16];
  int found, illegal;
};

static int create_fn(struct vg_txn *t, void *ctx)
{
  struct cjob *j = ctx;
  int rc = store_sql(t,
                     "INSERT INTO care_consult (patient_id, asked_by, to_org, "
                     "specialty, question, readings, state, created_ms) "
                     "VALUES ($1, $2, $3, $4, $5, $6, 'open', $7) RETURNING "
                     "id",
                     j->v, 7, api_care_id_out, &j->id, NULL);
  if (rc < 0)
    return rc;
  return care_events_raise(t, "consult", j->pid, j->id,
                           "{\"state\":\"open\"}", j->now);
}

int api_consults_create(struct vg_req *r)
{
  struct cjob j;
  json_t *b, *x;
  const char *q, *spec;
  char *rd;
  int rc;
  if (api_parse_object(r, &b))
    return r->err;
  memset(&j, 0, sizeof j);
  x = json_object_get(b, "patient");
  j.pid = json_is_integer(x) ? json_integer_value(x) : 0;
  q = json_string_value(json_object_get(b, "question"));
  spec = json_string_value(json_object_get(b, "specialty"));
  x = json_object_get(b, "readings");
  if (j.pid <= 0 || !q || !q[0] || (x && !json_is_array(x))) {
    json_decref(b);
    return vg_fail(r, VG_EINVAL,
                   "need patient, question and optionally readings (array)");
  }
  if (r->principal && !auth_patient_visible(NULL, r->principal, j.pid)) {
    json_decref(b);
    return vg_fail(r, VG_ENOTFOUND, "no patient %lld", (long long)j.pid);
  }
  rd = x ? json_dumps(x, JSON_COMPACT) : NULL;
  j.now = vg_now_ms();
  j.v[0] = VG_INT(j.pid);
  j.v[1] = VG_TEXT(r->principal ? r->principal->username : "");
  x = json_object_get(b, "to_org");
  j.v[2] = VG_INT(json_is_integer(x) ? json_integer_value(x) : 0);
  j.v[3] = VG_TEXT(arena_printf(r->arena, "%s", spec ? spec : ""));
  j.v[4] = VG_TEXT(arena_printf(r->arena, "%s", q));
  j.v[5] = VG_TEXT(arena_printf(r->arena, "%s", rd ? rd : "[]"));
  j.v[6] = VG_INT(j.now);
  free(rd); /* allocated by libjansson */
  json_decref(b);
  rc = writer_exec(r->app->writer, 1, create_fn, &j);
  if (rc)
    return vg_fail(r, rc, "consult not stored: %s", vg_strerror(rc));
  care_events_kick();
  api_created(r, "/api/v1/consults/%lld", j.id);
  buf_printf(&r->out, "{\"id\":%lld,\"state\":\"open\",\"patient\":%lld}",
             (long long)j.id, (long long)j.pid);
  return 0;
}

static int st_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct cjob *j = ctx;
  (void)n;
  j->found = 1;
  snprintf(j->state, sizeof j->state, "%s", c[0].s);
  j->pid = c[1].i;
  return 1;
}

static int tr_fn(struct vg_txn *t, void *ctx)
{
  struct cjob *j = ctx;
  struct vg_val p[4] = {VG_INT(j->id), VG_TEXT(j->answer), VG_TEXT(j->who),
                        VG_INT(j->now)};
  int rc = store_sql(t, "SELECT state, patient_id FROM care_consult WHERE "
                        "id = $1", p, 1, st_row, j, NULL);
  if (rc < 0)
    return rc;
  if (!j->found)
    return -VG_ENOTFOUND;
  if (j->pr && !auth_patient_visible(t, j->pr, j->pid))
    return -VG_ENOTFOUND; /* invisible: as if missing, nothing done */
  if (!strcmp(j->action, "answer") && !strcmp(j->state, "open"))
    rc = store_sql(t,
                   "UPDATE care_consult SET state = 'answered', answer = $2, "
                   "answered_by = $3, answered_ms = $4, version = version + "
                   "1 WHERE id = $1",
                   p, 4, NULL, NULL, NULL);
  else if (!strcmp(j->action, "close") && !strcmp(j->state, "answered"))
    rc = store_sql(t,
                   "UPDATE care_consult SET state = 'closed', version = "
                   "version + 1 WHERE id = $1",
                   p, 1, NULL, NULL, NULL);
  else {
    j->illegal = 1;
    return -VG_ECONFLICT;
  }
  if (rc < 0)
    return rc;
  return care_events_raise(t, "consult", j->pid, j->id, "{}", j->now);
}

int api_consults_transition(struct vg_req *r)
{
  struct cjob j;
  json_t *b = NULL;
  const char *a;
  int rc;
  memset(&j, 0, sizeof j);
  if (api_path_id(r, "consult", &j.id))
    return r->err;
  j.action = r->params[1];
  if (strcmp(j.action, "answer") && strcmp(j.action, "close"))
    return vg_fail(r, VG_ENOTFOUND, "no consult action '%s'", j.action);
  if (r->body_len && api_parse_object(r, &b))
    return r->err;
  a = b ? json_string_value(json_object_get(b, "answer")) : NULL;
  if (!strcmp(j.action, "answer") && (!a || !a[0])) {
    json_decref(b);
    return vg_fail(r, VG_EINVAL, "\"answer\" is required");
  }
  j.answer = a ? arena_printf(r->arena, "%s", a) : "";
  json_decref(b);
  j.who = r->principal ? r->principal->username : "";
  j.now = vg_now_ms();
  j.pr = r->principal;
  rc = writer_exec(r->app->writer, 1, tr_fn, &j);
  if (rc == -VG_ENOTFOUND ||
      (j.found && r->principal &&
       !auth_patient_visible(NULL, r->principal, j.pid)))
    return vg_fail(r, VG_ENOTFOUND, "no consult %lld", (long long)j.id);
  if (j.illegal)
    return vg_fail(r, VG_ECONFLICT,
                   "cannot %s a consult that is %s; allowed: %s", j.action,
                   j.state,
                   !strcmp(j.state, "open")       ? "answer"
                   : !strcmp(j.state, "answered") ? "close"
                                                  : "none (final state)");
  if (rc)
    return vg_fail(r, rc, "consult not updated: %s", vg_strerror(rc));
  care_events_kick();
  buf_printf(&r->out, "{\"id\":%lld,\"state\":\"%s\"}", (long long)j.id,
             !strcmp(j.action, "answer") ? "answered" : "closed");
  return 0;
}

/* ---- GET /api/v1/events: Server-Sent Events --------------------------- */

struct ev_ctx {
  struct vg_req *r;
  int64_t last;
  size_t n;
};

static int ev_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct ev_ctx *e = ctx;
  (void)n;
  e->last = c[0].i;
  if (c[3].i && e->r->principal &&
      !auth_patient_visible(NULL, e->r->principal, c[3].i))
    return 0;
  e->n++;
  buf_printf(&e->r->out,
             "id: %lld\nevent: %s\ndata: {\"ts_ms\":%lld,\"patient\":%lld,"
             "\"ref\":%lld,\"data\":%s}\n\n",
             (long long)c[0].i, c[2].s, (long long)c[1].i, (long long)c[3].i,
             (long long)c[4].i, c[5].s);
  return 0;
}

/* The HTTP layer answers from a buffer, so a stream is a long poll: wait
 * up to `wait` s for events after Last-Event-ID (or ?after=), send them,
 * and end; EventSource reconnects after `retry` with Last-Event-ID. */
int api_events(struct vg_req *r)
{
  const char *lei = http_header(r, "Last-Event-ID");
  const char *after = http_query(r, "after"), *w = http_query(r, "wait");
  struct ev_ctx e = {r, 0, 0};
  int64_t deadline, wait_s = w ? strtoll(w, NULL, 10) : 10;
  unsigned long gen = 0;
  if (wait_s < 0 || wait_s > 25)
    wait_s = 10;
  if (lei)
    e.last = strtoll(lei, NULL, 10);
  else if (after)
    e.last = strtoll(after, NULL, 10);
  else
    e.last = -1; /* only new events */
  r->content_type = "text/event-stream";
  buf_puts(&r->out, "retry: 1000\n\n");
  deadline = vg_now_ms() + wait_s * 1000;
  for (;;) {
    struct vg_txn *t;
    struct vg_val p[1];
    int rc = store_begin(r->app->store, VG_TXN_READ, &t);
    if (rc)
      return vg_fail(r, rc, "store unavailable");
    if (e.last < 0) {
      rc = store_sql(t, "SELECT COALESCE(MAX(id), 0) FROM care_event", NULL,
                     0, api_care_id_out, &e.last, NULL);
    } else {
      p[0] = VG_INT(e.last);
      rc = store_sql(t,
                     "SELECT id, ts_ms, kind, patient_id, ref_id, data FROM "
                     "care_event WHERE id > $1 ORDER BY id LIMIT 500",
                     p, 1, ev_row, &e, NULL);
    }
    store_rollback(t);
    if (rc < 0)
      return vg_fail(r, rc, "events unavailable");
    if (e.n || vg_now_ms() >= deadline)
      break;
    /* woken by a local event, else polls: other nodes' events arrive
     * through the shared table within 500 ms */
    gen = care_events_wait(gen, 500);
  }
  return 0;
}
