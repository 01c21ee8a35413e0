/* ingest.c - the ingest contract: validate raw readings (code, unit, range,
 * time, patient), then commit the valid ones in one writer job that checks
 * patients exist and inserts idempotently. */
#include "ingest.h"
#include "care_assess.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codes.h"
#include "core_alloc.h"
#include "core_arena.h"
#include "core_buf.h"
#include "core_errors.h"
#include "core_time.h"
#include "store.h"
#include "store_writer.h"

#define DEFAULT_FUTURE_MS 600000 /* 10 min, as config.def future_ms */
#define BLOCK_MIN 64
#define BLOCK_MAX 65536
#define CACHE_MAX 65536 /* patient-existence cache slots per job */
#define ST_UNKNOWN 2    /* status: patient does not exist (not stored) */
/* Patient ids per existence query: store_pg's parameter cap of store_sql.
 * One statement text for every chunk (a short chunk repeats its last id),
 * so it is prepared once per connection. */
#define EXIST_CHUNK 32
static const char exist_sql[] =
    "SELECT id FROM patient WHERE id IN ($1, $2, $3, $4, $5, $6, $7, $8, "
    "$9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, "
    "$23, $24, $25, $26, $27, $28, $29, $30, $31, $32)";

/* Valid readings, kept in body order in arena blocks (no reallocation). */
struct rblock {
  struct rblock *next;
  size_t n, cap;
  size_t *index;           /* body index of each reading */
  unsigned char *status;   /* filled by the commit job */
  struct vg_reading r[];
};

struct vg_ingest_batch {
  struct vg_arena *a;
  struct vg_ingest_opts opts;
  size_t count;   /* readings added (valid + rejected) */
  size_t n_valid;
  struct rblock *head, *tail;
  struct vg_reject *rej;
  size_t n_rej, cap_rej;
  const char *last_src, *last_unit; /* interned: batches repeat them */
  size_t last_src_len, last_unit_len;
};

struct vg_ingest_batch *ingest_batch_new(struct vg_arena *a,
                                         const struct vg_ingest_opts *opts)
{
  struct vg_ingest_batch *b = arena_alloc(a, sizeof *b);
  const char *src;
  if (!b)
    return NULL;
  memset(b, 0, sizeof *b);
  b->a = a;
  if (opts)
    b->opts = *opts;
  if (b->opts.now_ms == 0)
    b->opts.now_ms = vg_now_ms();
  if (b->opts.future_ms <= 0)
    b->opts.future_ms = DEFAULT_FUTURE_MS;
  src = b->opts.default_source && *b->opts.default_source
            ? b->opts.default_source : "api";
  b->opts.default_source = arena_strndup(a, src, strlen(src));
  if (!b->opts.default_source)
    return NULL;
  return b;
}

size_t ingest_batch_count(const struct vg_ingest_batch *b)
{
  return b->count;
}

/* ---- validation ---------------------------------------------------------- */

static int reject(struct vg_ingest_batch *b, size_t index, const char *fmt,
                  ...) __attribute__((format(printf, 3, 4)));

static int reject(struct vg_ingest_batch *b, size_t index, const char *fmt,
                  ...)
{
  char msg[320];
  va_list ap;
  char *reason;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (b->n_rej == b->cap_rej) {
    size_t nc = b->cap_rej ? b->cap_rej * 2 : 16;
    struct vg_reject *nr = arena_alloc(b->a, nc * sizeof *nr);
    if (!nr)
      return -VG_ETOOBIG;
    if (b->n_rej)
      memcpy(nr, b->rej, b->n_rej * sizeof *nr);
    b->rej = nr;
    b->cap_rej = nc;
  }
  reason = arena_strndup(b->a, msg, strlen(msg));
  if (!reason)
    return -VG_ETOOBIG;
  b->rej[b->n_rej].index = index;
  b->rej[b->n_rej].reason = reason;
  b->n_rej++;
  return 0;
}

/* A positive decimal integer, as text ("123") from a string or a number. */
static int parse_patient(const char *s, size_t len, int64_t *out)
{
  int64_t v = 0;
  if (len == 0 || len > 19)
    return -1;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    if (v > (INT64_MAX - (s[i] - '0')) / 10)
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  if (v <= 0)
    return -1;
  *out = v;
  return 0;
}

static const char *intern(struct vg_ingest_batch *b, const char *s,
                          size_t len, const char **last, size_t *last_len)
{
  if (*last && *last_len == len && memcmp(*last, s, len) == 0)
    return *last;
  *last = arena_strndup(b->a, s, len);
  *last_len = len;
  return *last;
}

static struct vg_reading *slot(struct vg_ingest_batch *b, size_t index)
{
  struct rblock *t = b->tail;
  if (!t || t->n == t->cap) {
    size_t cap = t ? t->cap * 2 : BLOCK_MIN;
    if (cap > BLOCK_MAX)
      cap = BLOCK_MAX;
    t = arena_alloc(b->a, sizeof *t + cap * sizeof t->r[0]);
    if (!t)
      return NULL;
    t->index = arena_alloc(b->a, cap * sizeof *t->index);
    t->status = arena_alloc(b->a, cap);
    if (!t->index || !t->status)
      return NULL;
    t->next = NULL;
    t->n = 0;
    t->cap = cap;
    if (b->tail)
      b->tail->next = t;
    else
      b->head = t;
    b->tail = t;
  }
  t->index[t->n] = index;
  return &t->r[t->n++];
}

/* Text for a reason: at most 64 bytes of what the client sent. */
#define SHOW(s, len) (int)((len) > 64 ? 64 : (len)), (s)

int ingest_batch_add(struct vg_ingest_batch *b,
                     const struct vg_raw_reading *raw)
{
  const struct vg_code *c;
  struct vg_reading *r;
  size_t ix = raw->index;
  int64_t pid, ts;
  int16_t tz;
  double v;

  b->count++;
  if (raw->error)
    return reject(b, ix, "malformed: %s", raw->error);
  if (!raw->patient)
    return reject(b, ix, "missing patient");
  if (parse_patient(raw->patient, raw->patient_len, &pid))
    return reject(b, ix, "invalid patient id '%.*s' (a positive integer)",
                  SHOW(raw->patient, raw->patient_len));
  if (b->opts.only_patient > 0 && pid != b->opts.only_patient)
    return reject(b, ix, "patient %" PRId64 " not permitted for this "
                  "credential", pid);
  if (!raw->code)
    return reject(b, ix, "missing code");
  c = codes_find(raw->code, raw->code_len);
  if (!c)
    return reject(b, ix, "unknown code '%.*s'",
                  SHOW(raw->code, raw->code_len));
  if (!raw->has_value)
    return reject(b, ix, "missing value");
  if (!isfinite(raw->value))
    return reject(b, ix, "value is not a finite number");
  if (codes_to_canonical(c, raw->unit, raw->unit_len, raw->value, &v))
    return reject(b, ix, "unit '%.*s' not accepted for %s",
                  SHOW(raw->unit, raw->unit_len), c->name);
  if (codes_check_range(c, v)) {
    if (raw->unit && raw->unit_len && (strlen(c->unit) != raw->unit_len ||
        memcmp(c->unit, raw->unit, raw->unit_len) != 0))
      return reject(b, ix, "value %g %.*s (= %g %s) out of range %g..%g %s "
                    "for %s", raw->value, SHOW(raw->unit, raw->unit_len), v,
                    c->unit, c->min, c->max, c->unit, c->name);
    return reject(b, ix, "value %g out of range %g..%g %s for %s", v, c->min,
                  c->max, c->unit, c->name);
  }
  if (raw->time && raw->has_t)
    return reject(b, ix, "both time and t given");
  if (raw->time) {
    if (vg_time_parse(raw->time, raw->time_len, &ts, &tz))
      return reject(b, ix, "invalid time '%.*s' (RFC 3339 with offset, e.g. "
                    "2025-03-01T08:30:00+08:00)",
                    SHOW(raw->time, raw->time_len));
  } else if (raw->has_t) {
    ts = raw->t_ms;
    tz = raw->tz_offset_min;
  } else {
    return reject(b, ix, "missing time");
  }
  if (ts > b->opts.now_ms + b->opts.future_ms) {
    char when[40];
    if (raw->time) /* quote what the client sent */
      snprintf(when, sizeof when, "%.*s", SHOW(raw->time, raw->time_len));
    else
      vg_time_format(ts, tz, when, sizeof when);
    return reject(b, ix, "time %s is more than %" PRId64 " s in the future",
                  when, b->opts.future_ms / 1000);
  }

  r = slot(b, ix);
  if (!r)
    return -VG_ETOOBIG;
  r->patient_id = pid;
  r->ts_ms = ts;
  r->value = v;
  r->code = c->id;
  r->tz_offset_min = tz;
  if (raw->source && raw->source_len)
    r->source = intern(b, raw->source, raw->source_len, &b->last_src,
                       &b->last_src_len);
  else
    r->source = b->opts.default_source;
  if (raw->unit && raw->unit_len)
    r->unit = intern(b, raw->unit, raw->unit_len, &b->last_unit,
                     &b->last_unit_len);
  else
    r->unit = "";
  if (!r->source || !r->unit)
    return -VG_ETOOBIG;
  b->n_valid++;
  return 0;
}

int ingest_batch_item_cb(void *ctx, const struct vg_raw_reading *item)
{
  return ingest_batch_add(ctx, item);
}

/* ---- commit -------------------------------------------------------------- */

struct pcache_slot {
  int64_t id; /* 0 = empty */
  int exists;
};

struct job {
  struct vg_ingest_batch *b;
  int atomic;
  struct pcache_slot *cache;
  size_t cache_mask;
  size_t cache_used;
  struct vg_reading *scratch; /* compacted block when some are unknown */
  unsigned char *scratch_st;
  size_t accepted, duplicate, n_unknown;
};

/* The cache slot of id: its entry (slot->id == id) or the free slot where
 * it goes, or NULL when the cache is full (one slot always stays free, so
 * probing ends). */
static struct pcache_slot *cache_slot(struct job *j, int64_t id)
{
  size_t h = (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ull) & j->cache_mask;
  while (j->cache[h].id != 0) {
    if (j->cache[h].id == id)
      return &j->cache[h];
    h = (h + 1) & j->cache_mask;
  }
  return j->cache_used + 1 < j->cache_mask + 1 ? &j->cache[h] : NULL;
}

static void cache_put(struct job *j, struct pcache_slot *s, int64_t id,
                      int exists)
{
  if (s->id == 0)
    j->cache_used++;
  s->id = id;
  s->exists = exists;
}

static int exist_row(void *ctx, const struct vg_val *cols, size_t n_cols)
{
  struct job *j = ctx;
  struct pcache_slot *s;
  if (n_cols == 1 && cols[0].type == VG_VAL_INT) {
    s = cache_slot(j, cols[0].i);
    if (s && s->id == cols[0].i)
      s->exists = 1;
  }
  return 0;
}

/* Ask the store which of ids[0..n) exist, n <= EXIST_CHUNK; they are in
 * the cache as not existing, and the rows found turn them to existing. */
static int exist_chunk(struct job *j, struct vg_txn *t, struct vg_val *ids,
                       size_t n)
{
  for (size_t i = n; i < EXIST_CHUNK; i++)
    ids[i] = ids[n - 1];
  return store_sql(t, exist_sql, ids, EXIST_CHUNK, exist_row, j, NULL);
}

/* Fill the cache with every distinct patient of the batch, EXIST_CHUNK
 * ids per store round trip instead of one. Ids that find the cache full
 * are left to patient_exists, one by one. */
static int patients_prefetch(struct job *j, struct vg_txn *t)
{
  struct vg_val ids[EXIST_CHUNK];
  size_t n = 0;
  int rc;
  for (struct rblock *blk = j->b->head; blk; blk = blk->next) {
    for (size_t i = 0; i < blk->n; i++) {
      int64_t id = blk->r[i].patient_id;
      struct pcache_slot *s = cache_slot(j, id);
      if (!s || s->id == id)
        continue;
      cache_put(j, s, id, 0);
      ids[n++] = VG_INT(id);
      if (n == EXIST_CHUNK) {
        rc = exist_chunk(j, t, ids, n);
        if (rc)
          return rc < 0 ? rc : -VG_ESTORE;
        n = 0;
      }
    }
  }
  if (n) {
    rc = exist_chunk(j, t, ids, n);
    if (rc)
      return rc < 0 ? rc : -VG_ESTORE;
  }
  return 0;
}

/* Does patient id exist? From the cache; a full cache asks the store. */
static int patient_exists(struct job *j, struct vg_txn *t, int64_t id,
                          int *out)
{
  struct vg_patient p;
  struct pcache_slot *s = cache_slot(j, id);
  int rc;
  if (s && s->id == id) {
    *out = s->exists;
    return 0;
  }
  rc = store_patient_get(t, id, &p);
  if (rc && rc != -VG_ENOTFOUND)
    return rc;
  *out = rc == 0;
  if (s)
    cache_put(j, s, id, *out);
  return 0;
}

static int commit_job(struct vg_txn *t, void *ctx)
{
  struct job *j = ctx;
  struct rblock *blk;
  int rc, ex;

  j->accepted = j->duplicate = j->n_unknown = 0;
  rc = patients_prefetch(j, t);
  if (rc)
    return rc;
  for (blk = j->b->head; blk; blk = blk->next) {
    size_t unknown = 0;
    for (size_t i = 0; i < blk->n; i++) {
      rc = patient_exists(j, t, blk->r[i].patient_id, &ex);
      if (rc)
        return rc;
      blk->status[i] = ex ? VG_INS_ACCEPTED : ST_UNKNOWN;
      unknown += !ex;
    }
    j->n_unknown += unknown;
    if (j->atomic && j->n_unknown)
      return -VG_EUNPROC;
    if (unknown == 0) {
      rc = store_readings_insert(t, blk->r, blk->n, blk->status);
      if (rc)
        return rc;
    } else if (unknown < blk->n) {
      size_t k = 0;
      for (size_t i = 0; i < blk->n; i++)
        if (blk->status[i] != ST_UNKNOWN)
          j->scratch[k++] = blk->r[i];
      rc = store_readings_insert(t, j->scratch, k, j->scratch_st);
      if (rc)
        return rc;
      k = 0;
      for (size_t i = 0; i < blk->n; i++)
        if (blk->status[i] != ST_UNKNOWN)
          blk->status[i] = j->scratch_st[k++];
    }
    for (size_t i = 0; i < blk->n; i++) {
      j->accepted += blk->status[i] == VG_INS_ACCEPTED;
      j->duplicate += blk->status[i] == VG_INS_DUPLICATE;
    }
  }
  return 0;
}

/* Final reject list in index order: validation rejects merged with the
 * unknown-patient ones found by the job (with_unknown). */
static int build_result(struct vg_ingest_batch *b, size_t n_unknown,
                        struct vg_ingest_result *out)
{
  struct vg_reject *unk, *all;
  size_t u = 0, i = 0, k = 0;

  out->n_rejected = b->n_rej;
  out->rejected = b->rej;
  if (n_unknown == 0)
    return 0;
  unk = arena_alloc(b->a, n_unknown * sizeof *unk);
  all = arena_alloc(b->a, (b->n_rej + n_unknown) * sizeof *all);
  if (!unk || !all)
    return -VG_ETOOBIG;
  for (struct rblock *blk = b->head; blk; blk = blk->next)
    for (size_t x = 0; x < blk->n && u < n_unknown; x++) {
      if (blk->status[x] != ST_UNKNOWN)
        continue;
      unk[u].index = blk->index[x];
      unk[u].reason = arena_printf(b->a, "unknown patient %" PRId64,
                                   blk->r[x].patient_id);
      if (!unk[u++].reason)
        return -VG_ETOOBIG;
    }
  while (i < b->n_rej || k < u) {
    if (k < u && (i >= b->n_rej || unk[k].index < b->rej[i].index)) {
      all[i + k] = unk[k];
      k++;
    } else {
      all[i + k] = b->rej[i];
      i++;
    }
  }
  out->n_rejected = i + k;
  out->rejected = all;
  return 0;
}

/* Before the job: early outcomes (0 with *out filled = nothing to store;
 * -VG_EUNPROC, -VG_EUNAVAIL) or 1 = j prepared, run commit_job. Everything
 * the job needs is allocated here, on the caller's thread. */
static int commit_prepare(struct vg_ingest_batch *b, struct vg_writer *w,
                          int atomic, struct job *j,
                          struct vg_ingest_result *out)
{
  size_t slots = 16, max_blk = 0;

  memset(out, 0, sizeof *out);
  out->n_rejected = b->n_rej;
  out->rejected = b->rej;
  if (atomic && b->n_rej)
    return -VG_EUNPROC;
  if (b->n_valid == 0)
    return 0;
  if (!w)
    return -VG_EUNAVAIL;

  memset(j, 0, sizeof *j);
  j->b = b;
  j->atomic = atomic;
  while (slots < 2 * b->n_valid && slots < CACHE_MAX)
    slots *= 2;
  j->cache = arena_alloc(b->a, slots * sizeof *j->cache);
  for (struct rblock *blk = b->head; blk; blk = blk->next)
    if (blk->n > max_blk)
      max_blk = blk->n;
  j->scratch = arena_alloc(b->a, max_blk * sizeof *j->scratch);
  j->scratch_st = arena_alloc(b->a, max_blk);
  if (!j->cache || !j->scratch || !j->scratch_st)
    return -VG_ETOOBIG;
  memset(j->cache, 0, slots * sizeof *j->cache);
  j->cache_mask = slots - 1;
  return 1;
}

/* After the job returned rc: the result of batch j->b. */
static int commit_finish(struct job *j, int rc, struct vg_ingest_result *out)
{
  int rc2;
  if (rc == 0 || rc == -VG_EUNPROC) {
    rc2 = build_result(j->b, j->n_unknown, out);
    if (rc2)
      return rc2;
    if (rc == 0) {
      out->accepted = j->accepted;
      out->duplicate = j->duplicate;
      /* committed: queue the patients for re-assessment (care_assess.h) */
      for (struct rblock *blk = j->b->head; blk; blk = blk->next)
        care_assess_notify_readings(blk->r, blk->n);
    }
  }
  return rc;
}

int ingest_batch_commit(struct vg_ingest_batch *b, struct vg_writer *w,
                        int atomic, struct vg_ingest_result *out)
{
  struct job j;
  int rc = commit_prepare(b, w, atomic, &j, out);
  if (rc != 1)
    return rc;
  rc = writer_exec(w, b->n_valid, commit_job, &j);
  return commit_finish(&j, rc, out);
}

/* ---- several batches in one writer job ----------------------------------- */

struct multi_job {
  struct job *jobs; /* only the batches that have readings to store */
  size_t n;
};

static int multi_commit_job(struct vg_txn *t, void *ctx)
{
  struct multi_job *mj = ctx;
  for (size_t i = 0; i < mj->n; i++) {
    int rc = commit_job(t, &mj->jobs[i]);
    if (rc)
      return rc;
  }
  return 0;
}

int ingest_batches_commit(struct vg_ingest_batch *const *b, size_t n,
                          struct vg_writer *w, struct vg_ingest_result *out,
                          int *out_rc)
{
  struct multi_job mj = {NULL, 0};
  size_t *which = NULL, rows = 0;
  int rc = 0;

  if (n == 0)
    return 0;
  mj.jobs = vg_malloc(n * sizeof *mj.jobs);
  which = vg_malloc(n * sizeof *which);
  for (size_t i = 0; i < n; i++) {
    out_rc[i] = commit_prepare(b[i], w, 0, &mj.jobs[mj.n], &out[i]);
    if (out_rc[i] != 1)
      continue; /* settled without the store (or failed on its own) */
    which[mj.n++] = i;
    rows += b[i]->n_valid;
  }
  if (mj.n)
    rc = writer_exec(w, rows, multi_commit_job, &mj);
  for (size_t k = 0; k < mj.n; k++)
    out_rc[which[k]] = commit_finish(&mj.jobs[k], rc, &out[which[k]]);
  vg_free(which);
  vg_free(mj.jobs);
  return rc;
}

int ingest_result_json(const struct vg_ingest_result *r, struct vg_buf *out)
{
  buf_puts(out, "{\"accepted\":");
  buf_json_int(out, (int64_t)r->accepted);
  buf_puts(out, ",\"duplicate\":");
  buf_json_int(out, (int64_t)r->duplicate);
  buf_puts(out, ",\"rejected\":[");
  for (size_t i = 0; i < r->n_rejected; i++) {
    const char *why = r->rejected[i].reason ? r->rejected[i].reason : "";
    buf_puts(out, i ? ",{\"index\":" : "{\"index\":");
    buf_json_int(out, (int64_t)r->rejected[i].index);
    buf_puts(out, ",\"reason\":");
    buf_json_str(out, why, strlen(why));
    buf_putc(out, '}');
  }
  buf_puts(out, "]}");
  return out->err;
}
