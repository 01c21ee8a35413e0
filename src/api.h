/* api.h - the JSON API handlers (one api_<resource>.c each) named in
 * routes.def, and helpers they share. */
#ifndef VG_API_H
#define VG_API_H

#include <jansson.h>
#include <stdint.h>

#include "http.h"

#define X(method, pattern, fn, chunk, scope) int fn(struct vg_req *r);
#include "routes.def"
#undef X
int api_readings_chunk(struct vg_req *r, const char *data, size_t len);

/* Parse r->body as a JSON object. OUT: *out (caller json_decref()s).
 * On failure records a 400 via vg_fail and returns its code. */
int api_parse_object(struct vg_req *r, json_t **out);

/* Parse a positive int64 id from s (decimal). 0 or -VG_EINVAL. */
int api_parse_id(const char *s, int64_t *out);

/* The id in the first path parameter (r->params[0]) of a route naming one
 * `what` ("patient"). OUT: *out. 0, or vg_fail'd 404 "no <what> '<text>'"
 * when it is not a positive id (a malformed id names no record). */
int api_path_id(struct vg_req *r, const char *what, int64_t *out);

/* Query parameter `limit` (default def, capped at max) and `cursor` as an
 * id (0 when absent). vg_fail on a bad value. */
int api_paging(struct vg_req *r, size_t def, size_t max, size_t *out_limit,
               int64_t *out_after);

/* Query time parameter: RFC 3339 or epoch ms. *out untouched if absent. */
int api_time_param(struct vg_req *r, const char *key, int64_t *out);

/* Set r->status = 201 and Location. */
void api_created(struct vg_req *r, const char *fmt, int64_t id);

/* ---- keyset lists -------------------------------------------------------- */

/* A keyset page being written as a JSON array. Fields are read-only for the
 * caller; set out and zero the rest: {&r->out, 0, 0}. */
struct api_page {
  struct vg_buf *out; /* borrowed; valid while the page is written */
  size_t n;           /* items written */
  int64_t last;       /* id of the last item: the next cursor */
};

/* Start the next item of pg, whose id is id: a ',' before all but the first;
 * the caller then writes the item itself. */
void api_page_item(struct api_page *pg, int64_t id);

/* Close a keyset list's object with "next_cursor":"<last>"} when the query
 * returned n_rows == limit rows (a full page: more may follow), else
 * "next_cursor":null}. The caller has written the members before it,
 * ending with ','. */
void api_next_cursor(struct vg_buf *out, size_t n_rows, size_t limit,
                     int64_t last);

/* The materialised path of organisation id (the `under` filter of lists:
 * "path LIKE $n || '%'"), read in its own READ transaction. OUT: path
 * (size bytes), untouched when id is 0. 0, or vg_fail'd: 404 "no
 * organization <id>" or the store error. */
int api_org_path(struct vg_req *r, int64_t id, char *path, size_t size);

/* ---- care-flow lists and state machines (api_alerts.c, api_tasks.c,
 * api_referrals.c, api_consults.c) ---------------------------------------- */

struct vg_val;

/* Write one row as a JSON object: member names[i] (NULL-terminated; at
 * most n) for c[i]. A name starting with '@' marks a column holding stored
 * JSON, written as is under the name without the '@'. */
void api_care_row(struct vg_buf *out, const char *const *names,
                  const struct vg_val *c, size_t n);

/* Run a list query (p[0..n_p-1]) in a READ transaction into
 * {"<key>":[rows],"count":N}, rows as api_care_row with names, keeping only
 * rows whose patient (column pid_col) the caller sees. 0 or vg_fail'd. */
int api_care_list(struct vg_req *r, const char *key, const char *sql,
                  const struct vg_val *p, size_t n_p,
                  const char *const *names, size_t pid_col);

/* A transition: from the current state to `to` by action. */
struct api_care_tr {
  const char *from, *action, *to;
};

/* The actions allowed from state in tab[0..n-1], comma separated, or "none
 * (final state)". OUT: buf (size bytes, always terminated). */
void api_care_allowed(const struct api_care_tr *tab, size_t n,
                      const char *state, char *buf, size_t size);

/* store_sql row callback: the first column, when an integer, into
 * *(int64_t *)ctx (e.g. INSERT ... RETURNING id). Always 0 (keep going). */
int api_care_id_out(void *ctx, const struct vg_val *c, size_t n);

#endif
