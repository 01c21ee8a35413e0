/* api_readings.c - POST /api/v1/readings (streamed bulk ingest) and
 * GET /api/v1/patients/{id}/readings (keyset pages or time buckets). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "codes.h"
#include "config.h"
#include "core_arena.h"
#include "core_errors.h"
#include "core_time.h"
#include "ingest.h"
#include "metrics.h"
#include "store.h"

/* ------------------------------------------------------------------ */
/* POST: the body streams through the bulk parser into an ingest batch. */

struct post_state {
  struct vg_bulk_parser *parser;
  struct vg_ingest_batch *batch;
};

static void post_state_free(void *p)
{
  struct post_state *s = p;
  bulk_parser_free(s->parser);
}

static int media_format(const char *ct, enum vg_bulk_format *out)
{
  size_t len;
  if (!ct)
    return -1;
  len = strcspn(ct, ";");
  while (len && ct[len - 1] == ' ')
    len--;
  if (len == 16 && !strncmp(ct, "application/json", len))
    *out = VG_BULK_JSON;
  else if ((len == 20 && !strncmp(ct, "application/x-ndjson", len)) ||
           (len == 18 && !strncmp(ct, "application/ndjson", len)))
    *out = VG_BULK_NDJSON;
  else
    return -1;
  return 0;
}

static int post_setup(struct vg_req *r)
{
  const struct vg_config *cfg = r->app->cfg;
  struct vg_ingest_opts opts = {0};
  enum vg_bulk_format fmt;
  struct post_state *s;
  const char *ct = http_header(r, "Content-Type");

  if (media_format(ct, &fmt))
    return vg_fail(r, VG_EMEDIA, "Content-Type must be application/json or "
                   "application/x-ndjson, not '%s'", ct ? ct : "");
  s = arena_alloc(r->arena, sizeof *s);
  if (!s)
    return vg_fail(r, VG_ENOMEM, "no memory");
  opts.now_ms = vg_now_ms();
  opts.future_ms = cfg->future_ms;
  opts.default_source = "api";
  opts.only_patient = r->only_patient; /* device / patient tokens (http.c) */
  s->batch = ingest_batch_new(r->arena, &opts);
  s->parser = s->batch ? bulk_parser_new(fmt, 0, ingest_batch_item_cb, s->batch)
                       : NULL;
  if (!s->parser)
    return vg_fail(r, VG_ENOMEM, "no memory");
  r->stream = s;
  r->stream_free = post_state_free;
  return 0;
}

static int parse_failed(struct vg_req *r, struct post_state *s, int rc)
{
  const char *why = bulk_parser_error(s->parser);
  return vg_fail(r, rc, "%s", why && *why ? why : vg_strerror(rc));
}

int api_readings_chunk(struct vg_req *r, const char *data, size_t len)
{
  struct post_state *s;
  int rc;
  if (!r->stream && post_setup(r))
    return r->err;
  s = r->stream;
  rc = bulk_parser_feed(s->parser, data, len);
  return rc ? parse_failed(r, s, rc) : 0;
}

/* Error body for an atomic batch that had rejects: nothing was stored. */
static void atomic_rejected(struct vg_req *r, const struct vg_ingest_result *res)
{
  struct vg_ingest_result none = *res;
  none.accepted = none.duplicate = 0;
  r->status = 422;
  buf_printf(&r->out, "{\"error\":{\"code\":\"unprocessable\",\"message\":"
             "\"%zu readings rejected; nothing stored (atomic)\","
             "\"request_id\":\"%s\"},\"result\":",
             res->n_rejected, r->request_id);
  ingest_result_json(&none, &r->out);
  buf_putc(&r->out, '}');
}

int api_readings_post(struct vg_req *r)
{
  struct vg_ingest_result res;
  struct post_state *s;
  const char *atomic = http_query(r, "atomic");
  int64_t t0;
  int rc;

  if (!r->stream && post_setup(r))
    return r->err;
  s = r->stream;
  rc = bulk_parser_finish(s->parser);
  if (rc)
    return parse_failed(r, s, rc);
  if (atomic && strcmp(atomic, "true") && strcmp(atomic, "false"))
    return vg_fail(r, VG_EINVAL, "atomic must be true or false");
  t0 = vg_mono_ns();
  rc = ingest_batch_commit(s->batch, r->app->writer,
                           atomic && !strcmp(atomic, "true"), &res);
  metrics_observe(VG_H_COMMIT_WAIT_SECONDS, vg_mono_ns() - t0);
  if (rc == -VG_EUNPROC) {
    metrics_add(VG_M_READINGS_REJECTED, res.n_rejected);
    atomic_rejected(r, &res);
    return 0;
  }
  if (rc)
    return vg_fail(r, rc, "readings not stored: %s", vg_strerror(rc));
  metrics_add(VG_M_INGEST_BATCHES, 1);
  metrics_add(VG_M_READINGS_ACCEPTED, res.accepted);
  metrics_add(VG_M_READINGS_DUPLICATE, res.duplicate);
  metrics_add(VG_M_READINGS_REJECTED, res.n_rejected);
  return ingest_result_json(&res, &r->out);
}

/* ------------------------------------------------------------------ */
/* GET: keyset-paged rows, or buckets with ?bucket=.                   */

struct get_ctx {
  struct vg_buf *out;
  size_t n;
  struct vg_reading last;
  char last_source[VG_ID_MAX * 2];
};

static void json_time(struct vg_buf *b, int64_t ms, int16_t off)
{
  char ts[40];
  size_t len = vg_time_format(ms, off, ts, sizeof ts);
  buf_json_str(b, ts, len);
}

static int emit_reading(void *ctx, const struct vg_reading *rd)
{
  struct get_ctx *c = ctx;
  const struct vg_code *code = codes_by_id(rd->code);
  struct vg_buf *b = c->out;
  if (c->n++)
    buf_putc(b, ',');
  buf_puts(b, "{\"code\":");
  buf_json_str(b, code ? code->name : "?", code ? strlen(code->name) : 1);
  buf_puts(b, ",\"time\":");
  json_time(b, rd->ts_ms, rd->tz_offset_min);
  buf_printf(b, ",\"t\":%lld,\"value\":", (long long)rd->ts_ms);
  buf_json_num(b, rd->value);
  buf_puts(b, ",\"unit\":");
  buf_json_str(b, code ? code->unit : "", code ? strlen(code->unit) : 0);
  buf_puts(b, ",\"source\":");
  buf_json_str(b, rd->source, strlen(rd->source));
  c->last = *rd;
  snprintf(c->last_source, sizeof c->last_source, "%s", rd->source);
  return buf_putc(b, '}');
}

static int emit_bucket(void *ctx, const struct vg_bucket *bk)
{
  struct get_ctx *c = ctx;
  const struct vg_code *code = codes_by_id(bk->code);
  struct vg_buf *b = c->out;
  if (c->n++)
    buf_putc(b, ',');
  buf_puts(b, "{\"code\":");
  buf_json_str(b, code ? code->name : "?", code ? strlen(code->name) : 1);
  buf_puts(b, ",\"start\":");
  json_time(b, bk->start_ms, VG_TZ_UNKNOWN);
  buf_printf(b, ",\"t\":%lld,\"min\":", (long long)bk->start_ms);
  buf_json_num(b, bk->min);
  buf_puts(b, ",\"mean\":");
  buf_json_num(b, bk->mean);
  buf_puts(b, ",\"max\":");
  buf_json_num(b, bk->max);
  return buf_printf(b, ",\"n\":%lld}", (long long)bk->n);
}

/* "5m", "1h", "1d" ... -> ms; 0 if invalid. */
static int64_t parse_bucket(const char *s)
{
  char *end;
  long v;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno || v <= 0 || v > 10000 || end[0] == '\0' || end[1] != '\0')
    return 0;
  switch (*end) {
  case 'm': return v * 60000LL;
  case 'h': return v * 3600000LL;
  case 'd': return v * 86400000LL;
  default: return 0;
  }
}

/* Cursor text: "<code>.<ts_ms>.<source as hex>". */
static void write_cursor(struct vg_buf *b, const struct get_ctx *c)
{
  buf_printf(b, "\"%d.%lld.", c->last.code, (long long)c->last.ts_ms);
  for (const char *p = c->last_source; *p; p++)
    buf_printf(b, "%02x", (unsigned char)*p);
  buf_putc(b, '"');
}

static int read_cursor(struct vg_req *r, const char *s,
                       struct vg_reading_query *q)
{
  char *end, *src;
  long code;
  long long ts;
  size_t hexlen;
  errno = 0;
  code = strtol(s, &end, 10);
  if (errno || *end != '.' || code <= 0)
    goto bad;
  ts = strtoll(end + 1, &end, 10);
  if (errno || *end != '.')
    goto bad;
  end++;
  hexlen = strlen(end);
  if (hexlen % 2 || hexlen > VG_ID_MAX * 2)
    goto bad;
  src = arena_alloc(r->arena, hexlen / 2 + 1);
  if (!src)
    return vg_fail(r, VG_ENOMEM, "no memory");
  for (size_t i = 0; i < hexlen / 2; i++) {
    unsigned v;
    if (sscanf(end + 2 * i, "%2x", &v) != 1)
      goto bad;
    src[i] = (char)v;
  }
  src[hexlen / 2] = '\0';
  q->has_cursor = 1;
  q->after_code = (int)code;
  q->after_ts_ms = ts;
  q->after_source = src;
  return 0;
bad:
  return vg_fail(r, VG_EINVAL, "bad cursor");
}

int api_readings_get(struct vg_req *r)
{
  struct vg_reading_query q = {0};
  struct get_ctx c = {&r->out, 0, {0}, ""};
  struct vg_patient p;
  struct vg_txn *t;
  const char *code = http_query(r, "code");
  const char *bucket = http_query(r, "bucket");
  const char *cursor = http_query(r, "cursor");
  const char *lim = http_query(r, "limit");
  int64_t bucket_ms = 0, v;
  int rc;

  if (api_parse_id(r->params[0], &q.patient_id))
    return vg_fail(r, VG_ENOTFOUND, "no patient '%s'", r->params[0]);
  if (code) {
    const struct vg_code *k = codes_find(code, strlen(code));
    if (!k)
      return vg_fail(r, VG_EINVAL, "unknown code '%s'", code);
    q.code = k->id;
  }
  q.from_ms = INT64_MIN;
  q.to_ms = INT64_MAX;
  if (api_time_param(r, "from", &q.from_ms) || api_time_param(r, "to", &q.to_ms))
    return r->err;
  if (q.from_ms >= q.to_ms)
    return vg_fail(r, VG_EINVAL, "from must be before to");
  q.limit = bucket ? 100000 : 1000;
  if (lim) {
    if (api_parse_id(lim, &v) || v > 100000)
      return vg_fail(r, VG_EINVAL, "limit must be 1..100000");
    q.limit = (size_t)v;
  }
  if (bucket && !(bucket_ms = parse_bucket(bucket)))
    return vg_fail(r, VG_EINVAL, "bucket must look like 5m, 1h or 1d");
  if (cursor && !bucket && read_cursor(r, cursor, &q))
    return r->err;

  rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc)
    return vg_fail(r, rc, "store unavailable");
  rc = store_patient_get(t, q.patient_id, &p);
  if (rc) {
    store_rollback(t);
    return vg_fail(r, rc, "no patient %lld", (long long)q.patient_id);
  }
  buf_printf(&r->out, "{\"patient\":%lld,\"%s\":[", (long long)q.patient_id,
             bucket ? "buckets" : "readings");
  if (bucket)
    rc = store_readings_buckets(t, &q, bucket_ms, emit_bucket, &c);
  else
    rc = store_readings_query(t, &q, emit_reading, &c);
  store_rollback(t);
  if (rc)
    return vg_fail(r, rc, "reading query failed");
  if (bucket) {
    buf_printf(&r->out, "],\"bucket\":\"%s\",\"bucket_ms\":%lld}", bucket,
               (long long)bucket_ms);
    return 0;
  }
  buf_puts(&r->out, "],\"next_cursor\":");
  if (c.n == q.limit)
    write_cursor(&r->out, &c);
  else
    buf_puts(&r->out, "null");
  return buf_putc(&r->out, '}');
}
