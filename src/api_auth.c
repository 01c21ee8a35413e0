/* api_auth.c - /api/v1/auth/login, /auth/logout, /me, /me/access-log and
 * /audit: sessions for people, and the audit log for admins and patients. */
#include <sodium.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "auth_audit.h"
#include "config.h"
#include "core_arena.h"
#include "core_errors.h"
#include "core_time.h"
#include "store.h"
#include "store_writer.h"

static void user_json(struct vg_buf *b, const struct vg_principal *p)
{
  buf_printf(b, "{\"id\":%lld,\"username\":", (long long)p->user_id);
  buf_json_str(b, p->username, strlen(p->username));
  buf_puts(b, ",\"role\":");
  buf_json_str(b, p->role, strlen(p->role));
  buf_printf(b, ",\"org_id\":%lld", (long long)p->org_id);
  if (p->patient_id)
    buf_printf(b, ",\"patient_id\":%lld", (long long)p->patient_id);
  if (p->device_id)
    buf_printf(b, ",\"device_id\":%lld", (long long)p->device_id);
  buf_puts(b, ",\"scopes\":");
  buf_json_str(b, p->scopes, strlen(p->scopes));
  buf_puts(b, "}");
}

static void iso_time(struct vg_buf *b, int64_t ms)
{
  char ts[40];
  vg_time_format(ms, 0, ts, sizeof ts);
  buf_json_str(b, ts, strlen(ts));
}

int api_auth_login(struct vg_req *r)
{
  const struct vg_config *cfg = r->app->cfg;
  char username[VG_LOGIN_FIELD_MAX], password[VG_LOGIN_FIELD_MAX];
  char token[VG_TOKEN_LEN + 1], csrf[VG_CSRF_LEN + 1];
  const char *reason;
  struct vg_principal *p;
  struct vg_user u;
  struct vg_txn *t;
  int64_t expires = 0, ttl_ms = cfg->session_ttl_s * 1000;
  int rc;

  r->audit_action = "login_failed";
  rc = auth_login_body(r->body, r->body_len, username, password, &reason);
  if (rc)
    return vg_fail(r, rc, "%s", reason);
  r->audit_user = arena_strndup(r->arena, username, strlen(username));
  rc = auth_login_check(r->app, username, password, &u);
  sodium_memzero(password, sizeof password);
  if (rc == -VG_EUNAUTH)
    return vg_fail(r, VG_EUNAUTH,
                   "wrong username or password, or account locked");
  if (rc)
    return vg_fail(r, rc, "cannot check the login");
  p = arena_alloc(r->arena, sizeof *p);
  if (!p)
    return vg_fail(r, VG_ENOMEM, "no memory");
  rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc == 0) {
    rc = auth_principal_of(t, &u, p);
    store_rollback(t);
  }
  if (rc == 0)
    rc = auth_token_issue(r->app, &u, "session", "", ttl_ms, token, &expires,
                          &p->token_id);
  if (rc)
    return vg_fail(r, rc, "cannot start a session");
  r->principal = p;
  r->audit_action = "login";
  auth_csrf_for(token, VG_TOKEN_LEN, csrf);
  r->set_cookie[0] = arena_printf(
      r->arena, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s",
      VG_SESSION_COOKIE, token, (long long)cfg->session_ttl_s,
      cfg->tls_cert[0] ? "; Secure" : "");
  r->set_cookie[1] = arena_printf(
      r->arena, "%s=%s; Path=/; SameSite=Strict; Max-Age=%lld%s",
      VG_CSRF_COOKIE, csrf, (long long)cfg->session_ttl_s,
      cfg->tls_cert[0] ? "; Secure" : "");
  buf_printf(&r->out, "{\"token\":\"%s\",\"expires_at\":", token);
  iso_time(&r->out, expires);
  buf_printf(&r->out, ",\"csrf_token\":\"%s\",\"user\":", csrf);
  user_json(&r->out, p);
  buf_puts(&r->out, "}");
  sodium_memzero(token, sizeof token);
  return 0;
}

static int revoke_fn(struct vg_txn *t, void *ctx)
{
  const struct vg_principal *p = ctx;
  return store_token_revoke(t, p->token_id, vg_now_ms());
}

int api_auth_logout(struct vg_req *r)
{
  int rc = writer_exec(r->app->writer, 1, revoke_fn, (void *)r->principal);
  if (rc && rc != -VG_ENOTFOUND)
    return vg_fail(r, rc, "cannot revoke the token");
  r->audit_action = "logout";
  r->set_cookie[0] = VG_SESSION_COOKIE "=; Path=/; HttpOnly; "
                     "SameSite=Strict; Max-Age=0";
  r->set_cookie[1] = VG_CSRF_COOKIE "=; Path=/; SameSite=Strict; Max-Age=0";
  buf_puts(&r->out, "{\"revoked\":true}");
  return 0;
}

int api_auth_me(struct vg_req *r)
{
  user_json(&r->out, r->principal);
  return 0;
}

/* ---- audit listings ----------------------------------------------------- */

struct list_ctx {
  struct vg_buf *out;
  size_t n;
  int64_t last;
  int full; /* admins see every field */
};

static int audit_row(void *ctx, const struct vg_audit *e)
{
  struct list_ctx *c = ctx;
  struct vg_buf *b = c->out;
  if (c->n++)
    buf_putc(b, ',');
  c->last = e->id;
  buf_printf(b, "{\"id\":%lld,\"time\":", (long long)e->id);
  iso_time(b, e->ts_ms);
  buf_puts(b, ",\"user\":");
  buf_json_str(b, e->username, strlen(e->username));
  buf_puts(b, ",\"role\":");
  buf_json_str(b, e->role, strlen(e->role));
  buf_puts(b, ",\"action\":");
  buf_json_str(b, e->action, strlen(e->action));
  buf_puts(b, ",\"resource\":");
  buf_json_str(b, e->resource, strlen(e->resource));
  buf_printf(b, ",\"outcome\":%d", e->outcome);
  if (e->patient_id)
    buf_printf(b, ",\"patient\":%lld", (long long)e->patient_id);
  if (c->full) {
    buf_printf(b, ",\"user_id\":%lld,\"source\":", (long long)e->user_id);
    buf_json_str(b, e->source, strlen(e->source));
    buf_puts(b, ",\"request_id\":");
    buf_json_str(b, e->request_id, strlen(e->request_id));
    buf_printf(b, ",\"hash\":\"%s\"", e->hash);
  }
  buf_putc(b, '}');
  return 0;
}

static int audit_query(struct vg_req *r, struct vg_audit_query *q, int full)
{
  struct list_ctx c = {&r->out, 0, 0, full};
  struct vg_txn *t;
  int rc;
  /* Reads just made are queued; write them so the answer includes them. */
  audit_flush(r->app->audit);
  rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc)
    return vg_fail(r, rc, "store unavailable");
  buf_puts(&r->out, "{\"events\":[");
  rc = store_audit_list(t, q, audit_row, &c);
  store_rollback(t);
  if (rc)
    return vg_fail(r, rc, "listing audit events failed");
  buf_puts(&r->out, "],\"next_cursor\":");
  if (q->limit && c.n == q->limit)
    buf_printf(&r->out, "\"%lld\"}", (long long)c.last);
  else
    buf_puts(&r->out, "null}");
  return 0;
}

int api_auth_access_log(struct vg_req *r)
{
  const struct vg_principal *p = r->principal;
  struct vg_audit_query q;
  memset(&q, 0, sizeof q);
  if (api_paging(r, 100, 1000, &q.limit, &q.after_id))
    return r->err;
  /* A patient sees who touched their record; anyone else their own
   * actions. */
  if (strcmp(p->role, "patient") == 0) {
    if (p->patient_id <= 0) {
      buf_puts(&r->out, "{\"events\":[],\"next_cursor\":null}");
      return 0;
    }
    q.patient_id = p->patient_id;
  } else {
    q.user_id = p->user_id;
  }
  return audit_query(r, &q, 0);
}

int api_audit_list(struct vg_req *r)
{
  struct vg_audit_query q;
  const char *s;
  memset(&q, 0, sizeof q);
  if (api_paging(r, 100, 1000, &q.limit, &q.after_id))
    return r->err;
  s = http_query(r, "patient");
  if (s && api_parse_id(s, &q.patient_id))
    return vg_fail(r, VG_EINVAL, "\"patient\" must be an id");
  s = http_query(r, "user");
  if (s && api_parse_id(s, &q.user_id))
    return vg_fail(r, VG_EINVAL, "\"user\" must be an id");
  if (api_time_param(r, "from", &q.from_ms) ||
      api_time_param(r, "to", &q.to_ms))
    return r->err;
  return audit_query(r, &q, 1);
}
