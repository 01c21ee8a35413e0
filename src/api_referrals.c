/* api_referrals.c - /api/v1/referrals: create (up or down, urgency, reason,
 * assessment snapshot and data window), read with ETag, list, and the state
 * machine suggested -> requested (confirm) | dismissed; requested ->
 * accepted | declined; accepted -> completed; completed -> returned (down,
 * with a care plan whose items become community tasks). Transitions take
 * If-Match (the version); a stale one is 409 (one of two racing updates
 * wins); an illegal transition is 409 naming the allowed ones. */
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

static const char *const ref_cols[] = {
    "id", "patient", "direction", "from_org", "to_org", "urgency", "reason",
    "state", "@snapshot", "window_from_ms", "window_to_ms", "care_plan",
    "note", "created_by", "updated_by", "created_ms", "updated_ms",
    "version", NULL};
#define REF_SELECT                                                          \
  "SELECT id, patient_id, direction, from_org, to_org, urgency, reason, "  \
  "state, snapshot, window_from_ms, window_to_ms, care_plan, note, "       \
  "created_by, updated_by, created_ms, updated_ms, version FROM "          \
  "care_referral "

static const struct api_care_tr ref_tr[] = {
    {"suggested", "confirm", "requested"},
    {"suggested", "dismiss", "dismissed"},
    {"requested", "accept", "accepted"},
    {"requested", "decline", "declined"},
    {"accepted", "complete", "completed"},
    {"completed", "return", "returned"},
};
#define N_TR (sizeof ref_tr / sizeof ref_tr[0])

struct one_ctx {
  struct vg_req *r;
  int64_t pid, version;
  int found;
};

static int one_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct one_ctx *o = ctx;
  o->found = 1;
  o->pid = c[1].i;
  o->version = c[17].i;
  if (o->r->principal &&
      !auth_patient_visible(NULL, o->r->principal, o->pid)) {
    o->found = 0;
    return 1;
  }
  api_care_row(&o->r->out, ref_cols, c, n);
  return 1;
}

static int answer_one(struct vg_req *r, int64_t id)
{
  struct one_ctx o = {r, 0, 0, 0};
  struct vg_val p[1] = {VG_INT(id)};
  struct vg_txn *t;
  int rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc)
    return vg_fail(r, rc, "store unavailable");
  rc = store_sql(t, REF_SELECT "WHERE id = $1", p, 1, one_row, &o, NULL);
  store_rollback(t);
  if (rc < 0)
    return vg_fail(r, rc, "store error");
  if (!o.found) {
    r->out.len = 0;
    return vg_fail(r, VG_ENOTFOUND, "no referral %lld", (long long)id);
  }
  http_set_header(r, "ETag",
                  arena_printf(r->arena, "\"%lld\"", (long long)o.version));
  return 0;
}

int api_referrals_get(struct vg_req *r)
{
  int64_t id;
  if (api_path_id(r, "referral", &id))
    return r->err;
  return answer_one(r, id);
}

int api_referrals_list(struct vg_req *r)
{
  const char *state = http_query(r, "state"), *pat = http_query(r, "patient");
  int64_t pid = 0;
  struct vg_val p[3];
  if (pat && api_parse_id(pat, &pid))
    return vg_fail(r, VG_EINVAL, "patient must be an id");
  p[0] = VG_TEXT(state ? state : "");
  p[1] = VG_INT(pid);
  p[2] = VG_INT(1000);
  return api_care_list(r, "referrals",
                       REF_SELECT "WHERE ($1 = '' OR state = $1) AND ($2 = 0 "
                                  "OR patient_id = $2) ORDER BY id LIMIT $3",
                       p, 3, ref_cols, 1);
}

struct create_job {
  struct vg_val v[11];
  int64_t id, pid, now;
};

static int snap_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct vg_buf *b = ctx;
  (void)n;
  if (b->len)
    buf_putc(b, ',');
  buf_printf(b, "{\"programme\":");
  buf_json_str(b, c[0].s, c[0].len);
  buf_printf(b, ",\"tier\":");
  buf_json_str(b, c[1].s, c[1].len);
  buf_printf(b, ",\"level\":%lld,\"reasons\":", (long long)c[2].i);
  buf_append(b, c[3].s, c[3].len);
  buf_putc(b, '}');
  return 0;
}

static int create_fn(struct vg_txn *t, void *ctx)
{
  struct create_job *j = ctx;
  struct vg_buf snap;
  struct vg_val p[1] = {VG_INT(j->pid)};
  int rc;
  /* The assessment snapshot at request time. */
  buf_init(&snap, 1 << 20); /* cap, not initial size */
  rc = store_sql(t,
                 "SELECT programme, tier, level, reasons FROM care_assessment "
                 "WHERE patient_id = $1 ORDER BY programme",
                 p, 1, snap_row, &snap, NULL);
  if (rc < 0) {
    buf_free(&snap);
    return rc;
  }
  buf_putc(&snap, ']');
  {
    struct vg_buf full;
    buf_init(&full, snap.len + 16);
    buf_putc(&full, '[');
    buf_append(&full, snap.data, snap.len);
    buf_putc(&full, '\0');
    full.len--;
    j->v[7] = (struct vg_val){VG_VAL_TEXT, 0, 0, full.data, full.len};
    rc = store_sql(t,
                   "INSERT INTO care_referral (patient_id, direction, "
                   "from_org, to_org, urgency, reason, state, snapshot, "
                   "window_from_ms, window_to_ms, created_by, updated_by, "
                   "created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, "
                   "'requested', $8, $9, $10, $7, $7, $11, $11) RETURNING id",
                   j->v, 11, api_care_id_out, &j->id, NULL);
    buf_free(&full);
  }
  buf_free(&snap);
  if (rc < 0)
    return rc;
  return care_events_raise(t, "referral", j->pid, j->id,
                           "{\"state\":\"requested\"}", j->now);
}

int api_referrals_create(struct vg_req *r)
{
  struct create_job j;
  json_t *b, *x;
  const char *dir, *urg, *why;
  int64_t from = 0, to = 0, wf, wt;
  int rc;

  if (api_parse_object(r, &b))
    return r->err;
  memset(&j, 0, sizeof j);
  x = json_object_get(b, "patient");
  j.pid = json_is_integer(x) ? json_integer_value(x) : 0;
  dir = json_string_value(json_object_get(b, "direction"));
  urg = json_string_value(json_object_get(b, "urgency"));
  why = json_string_value(json_object_get(b, "reason"));
  x = json_object_get(b, "from_org");
  from = json_is_integer(x) ? json_integer_value(x) : 0;
  x = json_object_get(b, "to_org");
  to = json_is_integer(x) ? json_integer_value(x) : 0;
  j.now = vg_now_ms();
  x = json_object_get(b, "window_days");
  wt = j.now;
  wf = j.now - (json_is_integer(x) ? json_integer_value(x) : 90) * 86400000LL;
  if (j.pid <= 0 || !dir || (strcmp(dir, "up") && strcmp(dir, "down")) ||
      !urg || (strcmp(urg, "routine") && strcmp(urg, "urgent") &&
               strcmp(urg, "emergency")) || !why || !why[0]) {
    json_decref(b);
    return vg_fail(r, VG_EINVAL,
                   "need patient, direction up|down, urgency "
                   "routine|urgent|emergency and a reason");
  }
  if (r->principal && !auth_patient_visible(NULL, r->principal, j.pid)) {
    json_decref(b);
    return vg_fail(r, VG_ENOTFOUND, "no patient %lld", (long long)j.pid);
  }
  j.v[0] = VG_INT(j.pid);
  j.v[1] = VG_TEXT(dir);
  j.v[2] = VG_INT(from);
  j.v[3] = VG_INT(to);
  j.v[4] = VG_TEXT(urg);
  j.v[5] = VG_TEXT(why);
  j.v[6] = VG_TEXT(r->principal ? r->principal->username : "");
  j.v[8] = VG_INT(wf);
  j.v[9] = VG_INT(wt);
  j.v[10] = VG_INT(j.now);
  rc = writer_exec(r->app->writer, 1, create_fn, &j);
  json_decref(b); /* after the job: the values borrow from b */
  if (rc)
    return vg_fail(r, rc, "referral not stored: %s", vg_strerror(rc));
  care_events_kick();
  api_created(r, "/api/v1/referrals/%lld", j.id);
  rc = answer_one(r, j.id);
  r->status = 201;
  return rc;
}

struct tr_job {
  const struct vg_principal *pr; /* NULL = no check */
  int64_t id, pid, version, now, want_version;
  const char *action, *who, *plan, *note;
  char state[16], direction[8];
  const char *to;
  int found, illegal, stale;
};

static int tr_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct tr_job *j = ctx;
  (void)n;
  j->found = 1;
  snprintf(j->state, sizeof j->state, "%s", c[0].s);
  j->pid = c[1].i;
  j->version = c[2].i;
  snprintf(j->direction, sizeof j->direction, "%s", c[3].s);
  return 1;
}

static int plan_tasks(struct vg_txn *t, struct tr_job *j)
{
  /* A care plan is {"tasks":[{"kind":"followup_visit","due_days":14,
   * "reason":"..."}]}: each item becomes a community task. */
  json_error_t e;
  json_t *plan = json_loads(j->plan, 0, &e), *arr, *it;
  size_t i;
  int rc = 0;
  if (!plan)
    return 0;
  arr = json_object_get(plan, "tasks");
  json_array_foreach(arr, i, it) {
    const char *kind = json_string_value(json_object_get(it, "kind"));
    json_t *d = json_object_get(it, "due_days");
    const char *why = json_string_value(json_object_get(it, "reason"));
    if (!kind)
      continue;
    rc = care_tasks_upsert(t, j->pid, kind,
                           j->now + (json_is_integer(d) ? json_integer_value(d)
                                                        : 14) * 86400000LL,
                           1, why ? why : "care plan of a returned referral",
                           "referral", j->now);
    if (rc)
      break;
  }
  json_decref(plan);
  return rc;
}

static int tr_fn(struct vg_txn *t, void *ctx)
{
  struct tr_job *j = ctx;
  struct vg_val p[7];
  int64_t changes = 0;
  int rc;
  p[0] = VG_INT(j->id);
  rc = store_sql(t,
                 "SELECT state, patient_id, version, direction FROM "
                 "care_referral WHERE id = $1",
                 p, 1, tr_row, j, NULL);
  if (rc < 0)
    return rc;
  if (!j->found)
    return -VG_ENOTFOUND;
  if (j->pr && !auth_patient_visible(t, j->pr, j->pid))
    return -VG_ENOTFOUND; /* invisible: as if missing, nothing done */
  for (size_t i = 0; i < N_TR; i++)
    if (!strcmp(ref_tr[i].from, j->state) &&
        !strcmp(ref_tr[i].action, j->action))
      j->to = ref_tr[i].to;
  if (j->want_version && j->want_version != j->version) {
    j->stale = 1;
    return -VG_ECONFLICT;
  }
  if (!j->to) {
    j->illegal = 1;
    return -VG_ECONFLICT;
  }
  p[1] = VG_TEXT(j->to);
  p[2] = VG_TEXT(j->who);
  p[3] = VG_INT(j->now);
  p[4] = VG_INT(j->version);
  p[5] = VG_TEXT(j->plan);
  p[6] = VG_TEXT(j->note);
  /* The version in the WHERE makes the update atomic against other nodes. */
  rc = store_sql(t,
                 "UPDATE care_referral SET state = $2, updated_by = $3, "
                 "updated_ms = $4, version = version + 1, care_plan = CASE "
                 "WHEN $6 = '' THEN care_plan ELSE $6 END, note = CASE WHEN "
                 "$7 = '' THEN note ELSE $7 END, direction = CASE WHEN $2 = "
                 "'returned' THEN 'down' ELSE direction END WHERE id = $1 AND "
                 "version = $5",
                 p, 7, NULL, NULL, &changes);
  if (rc < 0)
    return rc;
  if (changes != 1) {
    j->stale = 1;
    return -VG_ECONFLICT;
  }
  if (!strcmp(j->to, "returned") && j->plan[0] && (rc = plan_tasks(t, j)))
    return rc;
  return care_events_raise(t, "referral", j->pid, j->id, "{}", j->now);
}

int api_referrals_transition(struct vg_req *r)
{
  struct tr_job j;
  const char *im = http_header(r, "If-Match");
  json_t *b = NULL;
  char allowed[160];
  int known = 0, rc;
  memset(&j, 0, sizeof j);
  if (api_path_id(r, "referral", &j.id))
    return r->err;
  j.action = r->params[1];
  for (size_t i = 0; i < N_TR; i++)
    known |= !strcmp(ref_tr[i].action, j.action);
  if (!known)
    return vg_fail(r, VG_ENOTFOUND, "no referral action '%s'", j.action);
  if (im) {
    while (*im == 'W' || *im == '/' || *im == '"')
      im++;
    j.want_version = strtoll(im, NULL, 10);
    if (j.want_version <= 0)
      return vg_fail(r, VG_EINVAL, "If-Match must be a version");
  }
  if (r->body_len && api_parse_object(r, &b))
    return r->err;
  j.plan = "";
  j.note = "";
  if (b) {
    json_t *pl = json_object_get(b, "care_plan");
    const char *n = json_string_value(json_object_get(b, "note"));
    if (pl && json_is_object(pl)) {
      char *d = json_dumps(pl, JSON_COMPACT);
      j.plan = d ? arena_strndup(r->arena, d, strlen(d)) : "";
      free(d); /* allocated by libjansson */
    }
    if (n)
      j.note = arena_strndup(r->arena, n, strlen(n));
    json_decref(b);
  }
  j.who = r->principal ? r->principal->username : "";
  j.now = vg_now_ms();
  j.pr = r->principal;
  rc = writer_exec(r->app->writer, 2, tr_fn, &j);
  if (rc == -VG_ENOTFOUND ||
      (j.found && r->principal &&
       !auth_patient_visible(NULL, r->principal, j.pid)))
    return vg_fail(r, VG_ENOTFOUND, "no referral %lld", (long long)j.id);
  if (j.stale)
    return vg_fail(r, VG_ECONFLICT,
                   "referral %lld changed: version is %lld, not %lld",
                   (long long)j.id, (long long)j.version,
                   (long long)j.want_version);
  if (j.illegal) {
    api_care_allowed(ref_tr, N_TR, j.state, allowed, sizeof allowed);
    return vg_fail(r, VG_ECONFLICT,
                   "cannot %s a referral that is %s; allowed: %s", j.action,
                   j.state, allowed);
  }
  if (rc)
    return vg_fail(r, rc, "referral not updated: %s", vg_strerror(rc));
  care_events_kick();
  return answer_one(r, j.id);
}
