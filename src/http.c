/* http.c - libmicrohttpd glue: request lifecycle, routing from routes.def,
 * body caps, JSON errors, request ids, metrics, logs, static files, drain. */
#include "http.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <zlib.h>

#include <sodium.h>

#include "api.h"
#include "auth.h"
#include "auth_audit.h"
#include "auth_ratelimit.h"
#include "config.h"
#include "core_alloc.h"
#include "core_arena.h"
#include "core_errors.h"
#include "core_inflate.h"
#include "core_log.h"
#include "core_time.h"
#include "metrics.h"

struct vg_http {
  struct MHD_Daemon *daemon;
  struct vg_app *app;
  atomic_int in_flight;
  int port;
  int tls;
  char *tls_cert, *tls_key; /* PEM, kept for the daemon's lifetime */
  struct hdr_watch *watch;  /* header deadlines: one per connection */
};

static int serving_tls;
/* Rate limiters (NULL = off), made by http_start, freed by http_stop. */
static struct vg_ratelimit *rl_addr, *rl_token;
static int rl_exempt_loopback;

static const struct vg_route routes[] = {
#define X(m, p, fn, chunk, scope) {m, p, fn, chunk, scope},
#include "routes.def"
#undef X
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

static atomic_uint_fast64_t request_seq;
static unsigned request_prefix;

const struct vg_route *http_routes(size_t *out_n)
{
  *out_n = N_ROUTES;
  return routes;
}

/* ------------------------------------------------------------------ */
/* Errors and request helpers                                          */

int vg_fail(struct vg_req *r, int err, const char *fmt, ...)
{
  va_list ap;
  if (err > 0)
    err = -err;
  if (!r->err) {
    r->err = err;
    va_start(ap, fmt);
    vsnprintf(r->err_msg, sizeof r->err_msg, fmt, ap);
    va_end(ap);
  }
  return r->err;
}

const char *http_query(struct vg_req *r, const char *key)
{
  return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *http_header(struct vg_req *r, const char *name)
{
  return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* Match path against pattern segment by segment; {x} captures. */
static int route_match(const char *pattern, const char *path, struct vg_req *r)
{
  const char *p = pattern, *s = path;
  int n = 0;
  while (*p && *s) {
    if (*p == '{') {
      const char *seg_end = strchr(s, '/');
      size_t len = seg_end ? (size_t)(seg_end - s) : strlen(s);
      if (len == 0 || n >= VG_MAX_PATH_PARAMS)
        return 0;
      if (r)
        r->params[n] = arena_strndup(r->arena, s, len);
      n++;
      s += len;
      p = strchr(p, '}');
      if (!p)
        return 0;
      p++;
      continue;
    }
    if (*p != *s)
      return 0;
    p++;
    s++;
  }
  return *p == '\0' && *s == '\0';
}

/* Returns the route, or NULL with *path_known set when only the method
 * differs (405). */
static const struct vg_route *route_find(const char *method, const char *path,
                                         struct vg_req *r, int *path_known)
{
  *path_known = 0;
  for (size_t i = 0; i < N_ROUTES; i++) {
    if (!route_match(routes[i].pattern, path, NULL))
      continue;
    if (strcmp(routes[i].method, method) == 0) {
      route_match(routes[i].pattern, path, r);
      return &routes[i];
    }
    *path_known = 1;
  }
  return NULL;
}

/* The router as on_request runs it, for tests and fuzzing (fuzz_http.c):
 * METHOD and PATH, NUL-terminated. Returns the index into http_routes(),
 * -1 when no route has the path (404), -2 when only the method differs
 * (405). OUT: out_params[] (VG_MAX_PATH_PARAMS) gets the captured segments,
 * allocated in A (borrowed; valid until A is freed). Declared here only:
 * not part of the http.h interface. */
int http_route_match_for_test(struct vg_arena *a, const char *method,
                              const char *path, const char **out_params);
int http_route_match_for_test(struct vg_arena *a, const char *method,
                              const char *path, const char **out_params)
{
  struct vg_req r;
  const struct vg_route *rt;
  int known, i;
  memset(&r, 0, sizeof r);
  r.arena = a;
  rt = route_find(method, path, &r, &known);
  for (i = 0; i < VG_MAX_PATH_PARAMS; i++)
    out_params[i] = r.params[i];
  if (!rt)
    return known ? -2 : -1;
  return (int)(rt - routes);
}

/* ------------------------------------------------------------------ */
/* Responses                                                           */

/* Security headers on every response (API and dashboard). */
static void add_security_headers(struct MHD_Response *resp)
{
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(resp, "X-Frame-Options", "DENY");
  MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
  MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
  MHD_add_response_header(resp, "Cross-Origin-Resource-Policy",
                          "same-origin");
  if (serving_tls)
    MHD_add_response_header(resp, "Strict-Transport-Security",
                            "max-age=31536000; includeSubDomains");
}

static void add_common_headers(struct MHD_Response *resp, struct vg_req *r)
{
  int i;
  MHD_add_response_header(resp, "X-Request-Id", r->request_id);
  add_security_headers(resp);
  MHD_add_response_header(resp, "Cache-Control", "no-store");
  MHD_add_response_header(resp, "Content-Security-Policy",
                          "default-src 'none'; frame-ancestors 'none'");
  for (i = 0; i < 2; i++)
    if (r->set_cookie[i])
      MHD_add_response_header(resp, "Set-Cookie", r->set_cookie[i]);
  if (r->err == -VG_EUNAUTH)
    MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"vigil\"");
}

/* Extra response headers a handler set for its request (FHIR: ETag,
 * Last-Modified, Content-Location, X-Progress). A handler runs on the MHD
 * thread that then sends its response, so one slot set per thread does. */
#define EXTRA_MAX 4
static _Thread_local const struct vg_req *extra_req;
static _Thread_local const char *extra_hdr[EXTRA_MAX][2];
static _Thread_local int n_extra;

void http_set_header(struct vg_req *r, const char *name, const char *value)
{
  if (extra_req != r) {
    extra_req = r;
    n_extra = 0;
  }
  if (n_extra < EXTRA_MAX) {
    extra_hdr[n_extra][0] = name;
    extra_hdr[n_extra][1] = value;
    n_extra++;
  }
}

static int has_extra(const struct vg_req *r, const char *name)
{
  if (extra_req != r)
    return 0;
  for (int i = 0; i < n_extra; i++)
    if (strcasecmp(extra_hdr[i][0], name) == 0)
      return 1;
  return 0;
}

static enum MHD_Result send_buf(struct vg_req *r, int status, const char *ctype)
{
  struct MHD_Response *resp;
  enum MHD_Result ret;
  size_t len = r->out.len;
  char *data = buf_take(&r->out, &len);
  resp = MHD_create_response_from_buffer_with_free_callback(
      len, data ? data : (char *)"", data ? vg_free : NULL);
  if (!resp) {
    vg_free(data);
    return MHD_NO;
  }
  add_common_headers(resp, r);
  MHD_add_response_header(resp, "Content-Type", ctype);
  if (r->location)
    MHD_add_response_header(resp, "Location", r->location);
  if (status == 503 || (status == 429 && !has_extra(r, "Retry-After")))
    MHD_add_response_header(resp, "Retry-After", "1");
  if (status == 405 && r->route == NULL)
    MHD_add_response_header(resp, "Allow", "GET, POST");
  if (extra_req == r) {
    for (int i = 0; i < n_extra; i++)
      MHD_add_response_header(resp, extra_hdr[i][0], extra_hdr[i][1]);
    extra_req = NULL;
    n_extra = 0;
  }
  r->status = status;
  ret = MHD_queue_response(r->conn, (unsigned)status, resp);
  MHD_destroy_response(resp);
  return ret;
}

/* FHIR clients expect an OperationOutcome, with the same status. */
static int fhir_path(const char *path)
{
  return strncmp(path, "/fhir", 5) == 0 && (path[5] == '/' || !path[5]);
}

static enum MHD_Result send_fhir_error(struct vg_req *r)
{
  const char *msg = r->err_msg[0] ? r->err_msg : vg_strerror(r->err);
  int st = vg_http_status(r->err);
  buf_reset(&r->out);
  buf_puts(&r->out, "{\"resourceType\":\"OperationOutcome\",\"issue\":"
           "[{\"severity\":\"error\",\"code\":");
  buf_puts(&r->out, st == 401 ? "\"login\"" : st == 403 ? "\"forbidden\""
                  : st == 404 ? "\"not-found\"" : st == 409 || st == 412
                  ? "\"conflict\"" : st == 413 ? "\"too-costly\""
                  : st >= 500 ? "\"exception\"" : "\"invalid\"");
  buf_puts(&r->out, ",\"diagnostics\":");
  buf_json_str(&r->out, msg, strlen(msg));
  buf_puts(&r->out, "}]}");
  return send_buf(r, st, "application/fhir+json");
}

static enum MHD_Result send_error(struct vg_req *r)
{
  if (fhir_path(r->path))
    return send_fhir_error(r);
  buf_reset(&r->out);
  buf_puts(&r->out, "{\"error\":{\"code\":");
  buf_json_str(&r->out, vg_errcode(r->err), strlen(vg_errcode(r->err)));
  buf_puts(&r->out, ",\"message\":");
  if (r->err_msg[0])
    buf_json_str(&r->out, r->err_msg, strlen(r->err_msg));
  else
    buf_json_str(&r->out, vg_strerror(r->err), strlen(vg_strerror(r->err)));
  buf_puts(&r->out, ",\"request_id\":");
  buf_json_str(&r->out, r->request_id, strlen(r->request_id));
  buf_puts(&r->out, "}}");
  return send_buf(r, vg_http_status(r->err), "application/json");
}

static enum MHD_Result send_result(struct vg_req *r)
{
  if (r->err)
    return send_error(r);
  if (r->out.err) {
    vg_fail(r, r->out.err, "response too large");
    return send_error(r);
  }
  return send_buf(r, r->status ? r->status : 200,
                  r->content_type ? r->content_type : "application/json");
}

/* ------------------------------------------------------------------ */
/* Static files (dashboard)                                            */

static const char *mime_type(const char *path)
{
  static const struct { const char *ext, *type; } types[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
  };
  const char *dot = strrchr(path, '.');
  for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
    if (strcmp(dot, types[i].ext) == 0)
      return types[i].type;
  return "application/octet-stream";
}

/* Text files up to this size are gzipped per request when the client
 * accepts it (the dashboard's scripts and styles shrink 3-4x). */
#define STATIC_GZIP_MAX (2 << 20)

static int static_compressible(const char *type)
{
  return strncmp(type, "text/", 5) == 0 ||
         strcmp(type, "image/svg+xml") == 0 ||
         strcmp(type, "application/json") == 0;
}

/* gzip of the first LEN bytes of FD; NULL on any failure (the caller then
 * sends the file as it is). Caller frees with vg_free(). */
static unsigned char *static_gzip(int fd, size_t len, size_t *out_len)
{
  unsigned char *in = vg_malloc(len ? len : 1), *out = NULL;
  size_t got = 0, cap;
  int z_init = 0;
  z_stream z;
  ssize_t n;

  memset(&z, 0, sizeof z);
  if (!in)
    return NULL;
  while (got < len) {
    n = pread(fd, in + got, len - got, (off_t)got);
    if (n <= 0)
      goto fail;
    got += (size_t)n;
  }
  if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    goto fail;
  z_init = 1;
  cap = deflateBound(&z, (uLong)len);
  out = vg_malloc(cap);
  if (!out)
    goto fail;
  z.next_in = in;
  z.avail_in = (uInt)len;
  z.next_out = out;
  z.avail_out = (uInt)cap;
  if (deflate(&z, Z_FINISH) != Z_STREAM_END)
    goto fail;
  *out_len = z.total_out;
  deflateEnd(&z);
  vg_free(in);
  return out;
fail:
  if (z_init)
    deflateEnd(&z);
  vg_free(in);
  vg_free(out);
  return NULL;
}

static enum MHD_Result serve_static(struct vg_req *r)
{
  const char *root = r->app->cfg->web_root;
  const char *rel = strcmp(r->path, "/") == 0 ? "/index.html" : r->path;
  const char *inm, *ae, *type;
  char path[1024], etag[64];
  struct MHD_Response *resp;
  unsigned char *gz = NULL;
  size_t gz_len = 0;
  struct stat st;
  enum MHD_Result ret;
  int fd, want_gz;

  if (strstr(rel, "..") || strlen(root) + strlen(rel) >= sizeof path) {
    vg_fail(r, VG_ENOTFOUND, "no such page");
    return send_error(r);
  }
  snprintf(path, sizeof path, "%s%s", root, rel);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0)
      close(fd);
    vg_fail(r, VG_ENOTFOUND, "no such page");
    return send_error(r);
  }
  type = mime_type(path);
  ae = http_header(r, "Accept-Encoding");
  want_gz = static_compressible(type) && ae && strstr(ae, "gzip") &&
            st.st_size <= STATIC_GZIP_MAX;
  snprintf(etag, sizeof etag, "\"%llx-%llx%s\"",
           (unsigned long long)st.st_size, (unsigned long long)st.st_mtime,
           want_gz ? "-gz" : "");
  inm = http_header(r, "If-None-Match");
  if (inm && strcmp(inm, etag) == 0) {
    close(fd);
    resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    r->status = 304;
  } else {
    if (want_gz)
      gz = static_gzip(fd, (size_t)st.st_size, &gz_len);
    if (gz) {
      close(fd);
      resp = MHD_create_response_from_buffer(gz_len, gz, MHD_RESPMEM_MUST_COPY);
      vg_free(gz);
    } else {
      if (want_gz) /* could not compress: the plain variant's tag */
        snprintf(etag, sizeof etag, "\"%llx-%llx\"",
                 (unsigned long long)st.st_size,
                 (unsigned long long)st.st_mtime);
      want_gz = 0;
      resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    }
    r->status = 200;
  }
  if (!resp)
    return MHD_NO;
  MHD_add_response_header(resp, "X-Request-Id", r->request_id);
  add_security_headers(resp);
  MHD_add_response_header(resp, "Content-Type", type);
  if (static_compressible(type))
    MHD_add_response_header(resp, "Vary", "Accept-Encoding");
  if (want_gz && r->status == 200)
    MHD_add_response_header(resp, "Content-Encoding", "gzip");
  MHD_add_response_header(resp, "ETag", etag);
  MHD_add_response_header(resp, "Cache-Control", "no-cache");
  MHD_add_response_header(resp, "Content-Security-Policy",
                          "default-src 'self'; img-src 'self' data:; "
                          "frame-ancestors 'none'; base-uri 'none'");
  ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
  MHD_destroy_response(resp);
  return ret;
}

/* ------------------------------------------------------------------ */
/* Authentication and authorisation: the one place (routes.def scope)   */

/* The route's patient, for routes under /api/v1/patients/{id}. */
static int route_patient_scoped(const struct vg_route *rt)
{
  return strncmp(rt->pattern, "/api/v1/patients/{id}", 21) == 0;
}

/* Over LIMITER's rate for KEY: records 429 with Retry-After, returns 1. */
static int rate_limited(struct vg_req *r, struct vg_ratelimit *limiter,
                        const void *key, size_t key_len)
{
  int64_t retry_s;
  if (!limiter ||
      ratelimit_take(limiter, key, key_len, vg_mono_ns() / 1000000,
                     &retry_s) == 0)
    return 0;
  http_set_header(r, "Retry-After", arena_printf(r->arena, "%lld",
                                                 (long long)retry_s));
  vg_fail(r, VG_ERATE, "too many requests; retry in %lld s",
          (long long)retry_s);
  return 1;
}

/* The per-address limit: IPv4 by address, IPv6 by /64 (one host usually
 * holds a whole /64). Loopback is exempt when configured (a local reverse
 * proxy would otherwise put every client in one bucket). */
static int addr_rate_limited(struct vg_req *r)
{
  static const unsigned char v4_loop_mapped[12] = {0, 0, 0, 0, 0, 0,
                                                   0, 0, 0, 0, 0xff, 0xff};
  const union MHD_ConnectionInfo *ci;
  const unsigned char *b;
  unsigned char key[9];
  size_t key_len;
  if (!rl_addr)
    return 0;
  ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (!ci || !ci->client_addr)
    return 0;
  if (ci->client_addr->sa_family == AF_INET) {
    b = (const unsigned char *)&((const struct sockaddr_in *)
                                     ci->client_addr)->sin_addr;
    if (rl_exempt_loopback && b[0] == 127)
      return 0;
    key[0] = 4;
    memcpy(key + 1, b, 4);
    key_len = 5;
  } else if (ci->client_addr->sa_family == AF_INET6) {
    b = (const unsigned char *)&((const struct sockaddr_in6 *)
                                     ci->client_addr)->sin6_addr;
    if (memcmp(b, v4_loop_mapped, 12) == 0) { /* ::ffff:a.b.c.d */
      if (rl_exempt_loopback && b[12] == 127)
        return 0;
      key[0] = 4;
      memcpy(key + 1, b + 12, 4);
      key_len = 5;
    } else {
      if (rl_exempt_loopback &&
          IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)b))
        return 0;
      key[0] = 6;
      memcpy(key + 1, b, 8);
      key_len = 9;
    }
  } else {
    return 0;
  }
  return rate_limited(r, rl_addr, key, key_len);
}

/* Credentials of the request: a bearer token, else the session cookie
 * (whose writes need the CSRF header). 0 with *out set, 1 when there are
 * none, or a negative error (recorded). */
static int authenticate(struct vg_req *r, struct vg_principal *out)
{
  const char *authz = http_header(r, "Authorization");
  const char *cookie = http_header(r, "Cookie");
  const char *tok = NULL, *csrf;
  size_t len = 0;
  int rc, via_cookie = 0;
  char want[VG_CSRF_LEN + 1];

  if (authz) {
    if (auth_parse_bearer(authz, &tok, &len))
      return vg_fail(r, VG_EUNAUTH, "malformed Authorization header");
  } else if (cookie &&
             auth_parse_cookie(cookie, VG_SESSION_COOKIE, &tok, &len) == 0) {
    via_cookie = 1;
  } else {
    return 1;
  }
  rc = auth_token_principal(r->app->store, tok, len, vg_now_ms(), out);
  if (rc == -VG_EUNAUTH)
    return vg_fail(r, VG_EUNAUTH, "invalid, expired or revoked token");
  if (rc)
    return vg_fail(r, rc, "cannot check credentials");
  out->via_cookie = via_cookie;
  if (rate_limited(r, rl_token, tok, len))
    return r->err;
  if (via_cookie && strcmp(r->method, "GET") != 0 &&
      strcmp(r->method, "HEAD") != 0) {
    csrf = http_header(r, VG_CSRF_HEADER);
    auth_csrf_for(tok, len, want);
    if (!csrf || strlen(csrf) != VG_CSRF_LEN ||
        sodium_memcmp(csrf, want, VG_CSRF_LEN) != 0)
      return vg_fail(r, VG_EFORBIDDEN, "missing or wrong %s header",
                     VG_CSRF_HEADER);
  }
  return 0;
}

/* Route scope, then the row-level patient rule. 0 to go on. */
static int authorize(struct vg_req *r)
{
  const struct vg_route *rt = r->route;
  struct vg_principal *p = arena_alloc(r->arena, sizeof *p);
  int64_t pid;
  int rc;
  if (!p)
    return vg_fail(r, VG_ENOMEM, "no memory");
  rc = authenticate(r, p);
  if (rc < 0)
    return rc;
  if (rc == 1) {
    if (strcmp(rt->scope, "public") == 0)
      return 0;
    return vg_fail(r, VG_EUNAUTH, "credentials required");
  }
  r->principal = p;
  if (!auth_scope_allows(p->scopes, rt->scope))
    return vg_fail(r, VG_EFORBIDDEN, "scope '%s' required", rt->scope);
  if (auth_visible_sql(p)) {
    /* Care roles: their visible patients, once per request (one query);
     * handlers then check rows against it without a store round trip. */
    struct vg_txn *t;
    rc = store_begin(r->app->store, VG_TXN_READ, &t);
    if (rc == 0) {
      rc = auth_visible_load(t, p, r->arena);
      store_rollback(t);
    }
    if (rc < 0 && rc != -VG_ENOMEM)
      return vg_fail(r, rc, "visibility unavailable");
  }
  if (route_patient_scoped(rt)) {
    /* Another patient's record: 404, as if it did not exist. */
    if (api_parse_id(r->params[0], &pid) ||
        !auth_patient_visible(NULL, p, pid))
      return vg_fail(r, VG_ENOTFOUND, "no patient '%s'", r->params[0]);
    r->audit_patient = pid;
  } else if (strcmp(rt->pattern, "/api/v1/patients") == 0 &&
             strcmp(rt->method, "GET") == 0 && !auth_sees_all_patients(p) &&
             !p->visible_loaded && strcmp(p->role, "patient") != 0) {
    /* The list shows the caller's visible set (api_patients_list); a role
     * without one (researcher, device, client) may not list patients. */
    return vg_fail(r, VG_EFORBIDDEN, "listing patients is not permitted");
  }
  if (!auth_sees_all_patients(p)) {
    /* Writes of readings: only for the patients this principal sees. */
    if (strcmp(p->role, "device") == 0)
      r->only_patient =
          p->device_patient_id > 0 ? p->device_patient_id : INT64_MAX;
    else if (strcmp(p->role, "patient") == 0)
      r->only_patient = p->patient_id > 0 ? p->patient_id : INT64_MAX;
    else if (!auth_visible_sql(p))
      r->only_patient = INT64_MAX; /* no patient exists with this id */
    /* Care roles keep writing readings for any patient: ingest has one
     * only_patient, not a set (docs/care.md, what is left). */
  }
  return 0;
}

/* One audit event for the finished request, when it concerns protected
 * data or the handler named an action (login). */
static void audit_request(struct vg_req *r)
{
  const struct vg_route *rt = r->route;
  const union MHD_ConnectionInfo *ci;
  const struct vg_principal *p = r->principal;
  struct vg_audit e;
  if (!r->app->audit || !rt)
    return;
  if (!r->audit_action && (strcmp(rt->scope, "public") == 0 ||
                           strcmp(rt->scope, "metrics.read") == 0))
    return;
  memset(&e, 0, sizeof e);
  e.ts_ms = vg_now_ms();
  if (p) {
    e.user_id = p->user_id;
    snprintf(e.username, sizeof e.username, "%s", p->username);
    snprintf(e.role, sizeof e.role, "%s", p->role);
  } else if (r->audit_user) {
    snprintf(e.username, sizeof e.username, "%s", r->audit_user);
  }
  snprintf(e.action, sizeof e.action, "%s",
           r->audit_action ? r->audit_action
           : strcmp(r->method, "GET") == 0 ? "read"
           : strcmp(r->method, "POST") == 0 ? "write" : "other");
  snprintf(e.resource, sizeof e.resource, "%s %s", r->method, rt->pattern);
  e.patient_id = r->audit_patient;
  if (!e.patient_id && r->location &&
      strncmp(r->location, "/api/v1/patients/", 17) == 0)
    api_parse_id(r->location + 17, &e.patient_id);
  e.outcome = r->status;
  ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (ci && ci->client_addr) {
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
      inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
                e.source, sizeof e.source);
    else if (sa->sa_family == AF_INET6)
      inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
                e.source, sizeof e.source);
  }
  snprintf(e.request_id, sizeof e.request_id, "%s", r->request_id);
  audit_log(r->app->audit, &e);
}

/* ------------------------------------------------------------------ */
/* Header deadline (slowloris)                                         */

/* libmicrohttpd's connection timeout is an idle timeout: a client that
 * trickles one header byte now and then keeps its connection forever. So
 * each connection also gets a deadline for its request line and headers
 * (header_timeout s from connect, and again from the end of each request
 * on a kept-alive connection); a reaper thread shuts down the sockets past
 * it, and libmicrohttpd then closes them. The table has one slot per
 * allowed connection (conn_max) and never grows. */
#define DEADLINE_NONE INT64_MAX

struct hdr_slot {
  int fd;                 /* -1 = free */
  int64_t deadline_ns;    /* DEADLINE_NONE while a request is in progress */
};

struct hdr_watch {
  pthread_mutex_t mu;
  pthread_t reaper;
  int stop;
  int64_t timeout_ns;
  size_t n;
  size_t n_free;
  size_t *free_idx;       /* stack of free slot indexes */
  struct hdr_slot *slots;
  atomic_uint_fast64_t cut; /* connections cut at their deadline */
};

static void *hdr_reaper(void *arg)
{
  struct hdr_watch *w = arg;
  struct timespec ts = {0, 200 * 1000 * 1000};
  for (;;) {
    int64_t now;
    pthread_mutex_lock(&w->mu);
    if (w->stop) {
      pthread_mutex_unlock(&w->mu);
      return NULL;
    }
    now = vg_mono_ns();
    for (size_t i = 0; i < w->n; i++) {
      struct hdr_slot *s = &w->slots[i];
      if (s->fd >= 0 && s->deadline_ns < now) {
        /* The fd stays open until the CLOSED notification frees the slot
         * under this lock, so it cannot be a reused descriptor. */
        shutdown(s->fd, SHUT_RDWR);
        s->deadline_ns = DEADLINE_NONE;
        atomic_fetch_add(&w->cut, 1);
      }
    }
    pthread_mutex_unlock(&w->mu);
    nanosleep(&ts, NULL);
  }
}

static void hdr_watch_free(struct hdr_watch *w)
{
  if (!w)
    return;
  pthread_mutex_lock(&w->mu);
  w->stop = 1;
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->reaper, NULL);
  pthread_mutex_destroy(&w->mu);
  vg_free(w->free_idx);
  vg_free(w->slots);
  vg_free(w);
}

/* A watch for N connections, or NULL when timeout_s is 0 (off) or on
 * failure (logged; the server runs without header deadlines). */
static struct hdr_watch *hdr_watch_new(size_t n, int64_t timeout_s)
{
  struct hdr_watch *w;
  if (timeout_s <= 0 || n == 0)
    return NULL;
  w = vg_calloc(1, sizeof *w);
  if (!w)
    return NULL;
  w->slots = vg_calloc(n, sizeof *w->slots);
  w->free_idx = vg_calloc(n, sizeof *w->free_idx);
  if (!w->slots || !w->free_idx)
    goto fail;
  w->n = w->n_free = n;
  for (size_t i = 0; i < n; i++) {
    w->slots[i].fd = -1;
    w->free_idx[i] = n - 1 - i;
  }
  w->timeout_ns = timeout_s * 1000000000LL;
  pthread_mutex_init(&w->mu, NULL);
  if (pthread_create(&w->reaper, NULL, hdr_reaper, w) != 0) {
    pthread_mutex_destroy(&w->mu);
    goto fail;
  }
  return w;
fail:
  vg_error("http.start", "error=\"no header deadline watch\"");
  vg_free(w->slots);
  vg_free(w->free_idx);
  vg_free(w);
  return NULL;
}

/* Set the deadline of CONN's slot: DEADLINE_NONE, or now + timeout. */
static void hdr_deadline(struct vg_http *h, struct MHD_Connection *conn,
                         int arm)
{
  const union MHD_ConnectionInfo *ci;
  struct hdr_slot *s;
  if (!h->watch)
    return;
  ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  if (!ci || !ci->socket_context)
    return;
  s = ci->socket_context;
  pthread_mutex_lock(&h->watch->mu);
  if (s->fd >= 0)
    s->deadline_ns = arm ? vg_mono_ns() + h->watch->timeout_ns : DEADLINE_NONE;
  pthread_mutex_unlock(&h->watch->mu);
}

static void on_connection(void *cls, struct MHD_Connection *conn,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
  struct vg_http *h = cls;
  struct hdr_watch *w = h->watch;
  const union MHD_ConnectionInfo *ci;
  struct hdr_slot *s;
  if (!w)
    return;
  pthread_mutex_lock(&w->mu);
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    *socket_context = NULL;
    if (ci && w->n_free > 0) {
      s = &w->slots[w->free_idx[--w->n_free]];
      s->fd = ci->connect_fd;
      s->deadline_ns = vg_mono_ns() + w->timeout_ns;
      *socket_context = s;
    }
  } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
    s = *socket_context;
    s->fd = -1;
    s->deadline_ns = DEADLINE_NONE;
    w->free_idx[w->n_free++] = (size_t)(s - w->slots);
    *socket_context = NULL;
  }
  pthread_mutex_unlock(&w->mu);
}

/* ------------------------------------------------------------------ */
/* Request lifecycle                                                   */

static struct vg_req *req_new(struct vg_http *h, struct MHD_Connection *conn,
                              const char *url, const char *method)
{
  struct vg_arena *a = arena_new(0);
  struct vg_req *r;
  if (!a)
    return NULL;
  r = arena_alloc(a, sizeof *r);
  if (!r) {
    arena_free(a);
    return NULL;
  }
  memset(r, 0, sizeof *r);
  r->arena = a;
  r->app = h->app;
  r->conn = conn;
  r->method = arena_strndup(a, method, strlen(method));
  r->path = arena_strndup(a, url, strlen(url));
  r->start_ns = vg_mono_ns();
  extra_req = NULL; /* a new request may reuse a freed one's address */
  snprintf(r->request_id, sizeof r->request_id, "%08x-%06llx",
           request_prefix,
           (unsigned long long)atomic_fetch_add(&request_seq, 1) & 0xffffffULL);
  return r;
}

/* Decoded body bytes: to the route's chunk handler, or into r->in. */
static int body_sink(void *ctx, const char *data, size_t len)
{
  struct vg_req *r = ctx;
  int rc;
  if (r->route->on_chunk)
    return r->route->on_chunk(r, data, len);
  rc = buf_append(&r->in, data, len);
  return rc == -VG_ETOOBIG ? vg_fail(r, VG_ETOOBIG, "body over %lld bytes",
                                     (long long)r->app->cfg->body_max)
                           : rc;
}

static void body_chunk(struct vg_req *r, const char *data, size_t len)
{
  int rc;
  r->body_seen += len;
  metrics_add(VG_M_BODY_BYTES, len);
  if ((int64_t)r->body_seen > r->app->cfg->body_max) {
    vg_fail(r, VG_ETOOBIG, "body over %lld bytes",
            (long long)r->app->cfg->body_max);
    return;
  }
  rc = r->inflate ? inflate_feed(r->inflate, data, len, body_sink, r)
                  : body_sink(r, data, len);
  if (rc == -VG_EINVAL && r->inflate && !r->err)
    vg_fail(r, VG_EBADJSON, "body is not valid gzip");
  else if (rc && !r->err)
    vg_fail(r, rc, "%s", vg_strerror(rc));
}

/* First call: route, check headers (size, type, encoding). 0 to go on. */
static int req_start(struct vg_req *r)
{
  const char *cl = http_header(r, "Content-Length");
  const char *enc = http_header(r, "Content-Encoding");
  int64_t max = r->app->cfg->body_max;
  if (cl && strtoll(cl, NULL, 10) > max)
    return vg_fail(r, VG_ETOOBIG, "body of %s bytes is over the %lld limit",
                   cl, (long long)max);
  if (enc && strcmp(enc, "identity") != 0) {
    if (strcmp(enc, "gzip") != 0)
      return vg_fail(r, VG_EMEDIA, "Content-Encoding '%s' not supported", enc);
    r->inflate = inflate_new((size_t)max);
    if (!r->inflate)
      return vg_fail(r, VG_ENOMEM, "no memory");
  }
  buf_init(&r->in, (size_t)max);
  return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_len, void **con_cls)
{
  struct vg_http *h = cls;
  struct vg_req *r = *con_cls;
  int path_known, rc;
  (void)version;

  if (!r) {
    r = req_new(h, conn, url, method);
    if (!r)
      return MHD_NO;
    *con_cls = r;
    atomic_fetch_add(&h->in_flight, 1);
    hdr_deadline(h, conn, 0); /* headers are complete */
    /* Probes stay answerable under any load; everything else is limited
     * per address before any other work. */
    if (strcmp(r->path, "/healthz") != 0 && strcmp(r->path, "/readyz") != 0 &&
        addr_rate_limited(r))
      return send_error(r);
    r->route = route_find(method, r->path, r, &path_known);
    if (!r->route) {
      if (strcmp(method, "GET") == 0 && !path_known &&
          strncmp(r->path, "/api/", 5) != 0 && !fhir_path(r->path))
        return serve_static(r);
      vg_fail(r, path_known ? VG_EMETHOD : VG_ENOTFOUND, "%s %s",
              path_known ? "method not allowed for" : "no route for", r->path);
      return send_error(r);
    }
    if (authorize(r) || req_start(r))
      return send_error(r);
    return MHD_YES;
  }
  if (*upload_len) {
    if (!r->err)
      body_chunk(r, upload, *upload_len);
    *upload_len = 0;
    return MHD_YES;
  }
  if (!r->err && r->inflate) {
    rc = inflate_finish(r->inflate);
    if (rc)
      vg_fail(r, rc, "gzip body is truncated or corrupt");
  }
  if (!r->err) {
    r->body = r->in.data ? r->in.data : "";
    r->body_len = r->in.len;
    r->body_done = 1;
    r->route->handler(r);
  }
  return send_result(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
                         void **con_cls, enum MHD_RequestTerminationCode toe)
{
  struct vg_http *h = cls;
  struct vg_req *r = *con_cls;
  int64_t ns;
  if (!r)
    return;
  hdr_deadline(h, conn, 1); /* the next request on this connection */
  ns = vg_mono_ns() - r->start_ns;
  audit_request(r);
  metrics_observe(VG_H_REQUEST_SECONDS, ns);
  metrics_add(r->status >= 500 ? VG_M_REQUESTS_5XX
              : r->status >= 400 ? VG_M_REQUESTS_4XX
                                 : VG_M_REQUESTS_2XX, 1);
  if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
    vg_info("http.aborted", "id=%s method=%s path=%s reason=%d body_bytes=%zu",
            r->request_id, r->method, r->path, (int)toe, r->body_seen);
  else
    vg_info("http.request", "id=%s method=%s path=%s status=%d ms=%.3f "
            "body_bytes=%zu", r->request_id, r->method, r->path, r->status,
            (double)ns / 1e6, r->body_seen);
  if (r->stream_free && r->stream)
    r->stream_free(r->stream);
  if (r->inflate)
    inflate_free(r->inflate);
  buf_free(&r->in);
  buf_free(&r->out);
  arena_free(r->arena);
  *con_cls = NULL;
  atomic_fetch_sub(&h->in_flight, 1);
}

/* ------------------------------------------------------------------ */
/* Server                                                              */

static int is_loopback(const char *bind)
{
  return strncmp(bind, "127.", 4) == 0 || strcmp(bind, "::1") == 0;
}

/* A whole PEM file, NUL-terminated, or NULL (logged). Caller vg_free()s. */
static char *read_pem(const char *path)
{
  FILE *f = fopen(path, "rb");
  char *data = NULL;
  long len;
  if (!f)
    goto fail;
  if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) <= 0 || len > (1 << 20))
    goto fail;
  rewind(f);
  data = vg_malloc((size_t)len + 1);
  if (fread(data, 1, (size_t)len, f) != (size_t)len)
    goto fail;
  data[len] = '\0';
  fclose(f);
  return data;
fail:
  vg_error("http.tls", "error=\"cannot read\" path=%s errno=%d", path, errno);
  vg_free(data);
  if (f)
    fclose(f);
  return NULL;
}

int http_start(struct vg_app *app, struct vg_http **out)
{
  const struct vg_config *cfg = app->cfg;
  struct vg_http *h;
  struct sockaddr_in6 sa6;
  struct sockaddr_in sa4;
  struct sockaddr *sa;
  const union MHD_DaemonInfo *info;
  unsigned threads = (unsigned)cfg->threads;
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                   MHD_USE_ERROR_LOG | MHD_USE_ITC;

  *out = NULL;
  memset(&sa4, 0, sizeof sa4);
  memset(&sa6, 0, sizeof sa6);
  if (inet_pton(AF_INET, cfg->bind, &sa4.sin_addr) == 1) {
    sa4.sin_family = AF_INET;
    sa4.sin_port = htons((uint16_t)cfg->port);
    sa = (struct sockaddr *)&sa4;
  } else if (inet_pton(AF_INET6, cfg->bind, &sa6.sin6_addr) == 1) {
    sa6.sin6_family = AF_INET6;
    sa6.sin6_port = htons((uint16_t)cfg->port);
    sa = (struct sockaddr *)&sa6;
    flags |= MHD_USE_IPv6;
  } else {
    vg_error("http.start", "error=\"bad bind address\" bind=%s", cfg->bind);
    return -VG_EINVAL;
  }
  if (threads == 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    /* Handlers block on group commit, so more threads than cores. */
    threads = (unsigned)(n > 0 ? n : 2) * 8;
  }
  if (!!cfg->tls_cert[0] != !!cfg->tls_key[0]) {
    vg_error("http.start", "error=\"--tls-cert and --tls-key go together\"");
    return -VG_EINVAL;
  }
  /* With authentication on, credentials must not cross a network in
   * clear text: plain HTTP only on loopback unless explicitly allowed. */
  if (!cfg->tls_cert[0] && !is_loopback(cfg->bind) && !cfg->insecure_http) {
    vg_error("http.start", "error=\"refusing plain HTTP on a non-loopback "
             "address; give --tls-cert/--tls-key or --insecure-http\" "
             "bind=%s", cfg->bind);
    return -VG_EINVAL;
  }
  h = vg_calloc(1, sizeof *h);
  if (!h)
    return -VG_ENOMEM;
  h->app = app;
  if (cfg->tls_cert[0]) {
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
      vg_error("http.start", "error=\"libmicrohttpd built without TLS\"");
      vg_free(h);
      return -VG_EINVAL;
    }
    h->tls_cert = read_pem(cfg->tls_cert);
    h->tls_key = read_pem(cfg->tls_key);
    if (!h->tls_cert || !h->tls_key) {
      vg_free(h->tls_cert);
      vg_free(h->tls_key);
      vg_free(h);
      return -VG_EIO;
    }
    h->tls = 1;
    flags |= MHD_USE_TLS;
  }
  request_prefix = (unsigned)(vg_now_ms() ^ ((int64_t)getpid() << 16));
  if (ratelimit_new(cfg->rate_addr_rps, cfg->rate_addr_burst, &rl_addr) ||
      ratelimit_new(cfg->rate_token_rps, cfg->rate_token_burst, &rl_token)) {
    ratelimit_free(rl_addr);
    rl_addr = NULL;
    vg_free(h->tls_cert);
    vg_free(h->tls_key);
    vg_free(h);
    return -VG_ENOMEM;
  }
  rl_exempt_loopback = cfg->rate_exempt_loopback;
  h->watch = hdr_watch_new((size_t)cfg->conn_max, cfg->header_timeout);
  h->daemon = MHD_start_daemon(
      flags, (uint16_t)cfg->port, NULL, NULL, on_request, h,
      MHD_OPTION_SOCK_ADDR, sa,
      MHD_OPTION_THREAD_POOL_SIZE, threads,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->request_timeout,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->conn_max,
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->conn_per_addr,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)cfg->conn_mem_max,
      MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
      MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
      /* Unused without MHD_USE_TLS; NULL ends the list early there. */
      h->tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, h->tls_cert,
      MHD_OPTION_HTTPS_MEM_KEY, h->tls_key,
      MHD_OPTION_END);
  if (!h->daemon) {
    vg_error("http.start", "error=\"cannot listen\" bind=%s port=%lld errno=%d",
             cfg->bind, (long long)cfg->port, errno);
    ratelimit_free(rl_addr);
    ratelimit_free(rl_token);
    rl_addr = rl_token = NULL;
    hdr_watch_free(h->watch);
    vg_free(h->tls_cert);
    vg_free(h->tls_key);
    vg_free(h);
    return -VG_EIO;
  }
  serving_tls = h->tls;
  info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
  h->port = info ? info->port : (int)cfg->port;
  *out = h;
  return 0;
}

int http_port(const struct vg_http *h) { return h->port; }

void http_stop(struct vg_http *h, int drain_ms)
{
  int64_t deadline = vg_mono_ns() + (int64_t)drain_ms * 1000000;
  MHD_socket fd;
  if (!h)
    return;
  fd = MHD_quiesce_daemon(h->daemon);
  if (fd != MHD_INVALID_SOCKET)
    close(fd);
  while (atomic_load(&h->in_flight) > 0 && vg_mono_ns() < deadline) {
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  MHD_stop_daemon(h->daemon);
  if (h->watch)
    vg_info("http.stop", "header_deadline_cuts=%llu",
            (unsigned long long)atomic_load(&h->watch->cut));
  hdr_watch_free(h->watch);
  ratelimit_free(rl_addr);
  ratelimit_free(rl_token);
  rl_addr = rl_token = NULL;
  if (h->tls_key)
    sodium_memzero(h->tls_key, strlen(h->tls_key));
  vg_free(h->tls_cert);
  vg_free(h->tls_key);
  vg_free(h);
}
