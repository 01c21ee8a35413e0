/* http.h - the HTTP layer: libmicrohttpd with a thread pool, one route
 * table (routes.def), per-request arena and sticky error, JSON errors with
 * the status from errors.def, body caps (413), request ids, drain on stop. */
#ifndef VG_HTTP_H
#define VG_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "core_buf.h"

struct vg_arena;
struct vg_config;
struct vg_store;
struct vg_writer;
struct vg_http;
struct vg_auditor;
struct vg_principal;

/* What handlers may reach. Borrowed by the server; outlives every request. */
struct vg_app {
  const struct vg_config *cfg;
  struct vg_store *store;
  struct vg_writer *writer;
  struct vg_auditor *audit;   /* NULL: nothing is audited (tests) */
};

#define VG_MAX_PATH_PARAMS 4

/* One request. Fields marked public are read-only for handlers. */
struct vg_req {
  struct vg_app *app;         /* public */
  struct vg_arena *arena;     /* public: freed when the request ends */
  const char *method;         /* public */
  const char *path;           /* public */
  const char *params[VG_MAX_PATH_PARAMS]; /* public: {name} path segments */
  char request_id[24];        /* public */
  const char *body;           /* public: buffered body (non-stream routes) */
  size_t body_len;            /* public */
  void *stream;               /* handler-owned state for stream routes */
  void (*stream_free)(void *stream); /* called when the request ends */
  struct vg_buf out;          /* handler writes the response body here */
  int status;                 /* handler may set (default 200) */
  const char *content_type;   /* default application/json */
  const char *location;       /* optional Location header */
  int err;                    /* private: sticky first error */
  char err_msg[256];          /* private */
  void *conn;                 /* private: MHD connection */
  const struct vg_route *route; /* private */
  int64_t start_ns;           /* private */
  size_t body_seen;           /* private: raw bytes received */
  void *inflate;              /* private: gzip decoder when Content-Encoding */
  struct vg_buf in;           /* private: buffered body */
  int body_done;              /* private */
  /* Authentication (http.c fills these before the handler runs). */
  const struct vg_principal *principal; /* public: NULL on public routes
                                         * called without credentials */
  int64_t only_patient;       /* public: >0 readings may only be for this
                               * patient (INT64_MAX: for none); 0: any */
  const char *set_cookie[2];  /* handler may set (arena strings) */
  /* Audit: http.c records one event per audited request when it ends;
   * handlers may refine it. */
  const char *audit_action;   /* handler may set, e.g. "login_failed" */
  const char *audit_user;     /* handler may set: username tried */
  int64_t audit_patient;      /* handler may set: patient touched */
};

/* Handlers return 0 after filling r->out, or the value of vg_fail(). */
typedef int (*vg_handler)(struct vg_req *r);
/* Stream routes get each body chunk as it arrives (already decompressed). */
typedef int (*vg_chunk_handler)(struct vg_req *r, const char *data, size_t len);

struct vg_route {
  const char *method;
  const char *pattern;   /* "/api/v1/patients/{id}/readings" */
  vg_handler handler;
  vg_chunk_handler on_chunk; /* NULL: body is buffered into r->body */
  const char *scope;     /* required scope; "public" for unauthenticated */
};

/* The route table, from routes.def; *out_n gets the count. */
const struct vg_route *http_routes(size_t *out_n);

/* Record the first error of the request and return -err (negative).
 * Later calls keep the first error. */
int vg_fail(struct vg_req *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Query-string argument, or NULL. Borrowed, valid for the request. */
const char *http_query(struct vg_req *r, const char *key);
/* Request header, or NULL. */
const char *http_header(struct vg_req *r, const char *name);
/* Add a response header (ETag, Content-Location, Retry-After, ...) to r's
 * response. name and value are borrowed: keep them valid until the handler
 * returns (string constants or r->arena). At most 4 per request; later
 * ones are dropped. Call on the thread running the handler. */
void http_set_header(struct vg_req *r, const char *name, const char *value);

/* Start serving on cfg->bind:cfg->port. Returns 0 or -VG_EIO (message
 * logged). OUT: *out; the bound port via http_port(). */
int http_start(struct vg_app *app, struct vg_http **out);
int http_port(const struct vg_http *h);
/* Stop accepting, wait up to drain_ms for in-flight requests, stop. */
void http_stop(struct vg_http *h, int drain_ms);

#endif
