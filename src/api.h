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

/* Query parameter `limit` (default def, capped at max) and `cursor` as an
 * id (0 when absent). vg_fail on a bad value. */
int api_paging(struct vg_req *r, size_t def, size_t max, size_t *out_limit,
               int64_t *out_after);

/* Query time parameter: RFC 3339 or epoch ms. *out untouched if absent. */
int api_time_param(struct vg_req *r, const char *key, int64_t *out);

/* Set r->status = 201 and Location. */
void api_created(struct vg_req *r, const char *fmt, int64_t id);

#endif
