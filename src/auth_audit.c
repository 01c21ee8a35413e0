/* auth_audit.c - audit queue, batch writer thread and hash chain. */
#include "auth_audit.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

#include "core_alloc.h"
#include "core_errors.h"
#include "core_log.h"
#include "core_time.h"
#include "store_writer.h"

/* Events per writer job: bounds the job's size, not the queue. */
#define AUDIT_BATCH_MAX 4096
#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

struct vg_auditor {
  struct vg_writer *w;
  int flush_ms;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t more;  /* events queued or stopping */
  pthread_cond_t room;  /* queue shrank */
  pthread_cond_t done;  /* a batch was written */
  struct vg_audit *q;   /* ring of cap events */
  size_t cap, head, n;
  uint64_t queued, written; /* totals, for audit_flush */
  int stopping;
};

/* ==== the chain ========================================================= */

static void h_i64(crypto_generichash_state *st, int64_t v)
{
  unsigned char b[8];
  int i;
  for (i = 0; i < 8; i++)
    b[i] = (unsigned char)((uint64_t)v >> (8 * i));
  crypto_generichash_update(st, b, sizeof b);
}

/* Length-prefixed, so that no two field lists hash the same bytes. */
static void h_str(crypto_generichash_state *st, const char *s, size_t size)
{
  size_t n = strnlen(s, size);
  h_i64(st, (int64_t)n);
  crypto_generichash_update(st, (const unsigned char *)s, n);
}

void audit_hash(const char *prev, const struct vg_audit *e, char *out)
{
  static const char digits[] = "0123456789abcdef";
  crypto_generichash_state st;
  unsigned char h[32];
  size_t i;
  crypto_generichash_init(&st, NULL, 0, sizeof h);
  h_str(&st, prev, VG_HASH_HEX);
  h_i64(&st, e->id);
  h_i64(&st, e->ts_ms);
  h_i64(&st, e->user_id);
  h_str(&st, e->username, sizeof e->username);
  h_str(&st, e->role, sizeof e->role);
  h_str(&st, e->action, sizeof e->action);
  h_str(&st, e->resource, sizeof e->resource);
  h_i64(&st, e->patient_id);
  h_i64(&st, e->outcome);
  h_str(&st, e->source, sizeof e->source);
  h_str(&st, e->request_id, sizeof e->request_id);
  crypto_generichash_final(&st, h, sizeof h);
  for (i = 0; i < sizeof h; i++) {
    out[2 * i] = digits[h[i] >> 4];
    out[2 * i + 1] = digits[h[i] & 15];
  }
  out[2 * sizeof h] = '\0';
}

struct append_job {
  struct vg_audit *e;
  size_t n;
};

/* Runs on the writer thread: the tail read and the appends are in one
 * transaction, and store_audit_tail serialises appenders across nodes. */
static int append_fn(struct vg_txn *t, void *ctx)
{
  struct append_job *j = ctx;
  struct vg_audit tail;
  char prev[VG_HASH_HEX];
  int64_t id = 0;
  size_t i;
  int rc = store_audit_tail(t, &tail);
  if (rc == 0) {
    id = tail.id;
    memcpy(prev, tail.hash, sizeof prev);
  } else if (rc == -VG_ENOTFOUND) {
    memcpy(prev, GENESIS, sizeof prev);
  } else {
    return rc;
  }
  for (i = 0; i < j->n; i++) {
    struct vg_audit *e = &j->e[i];
    e->id = ++id;
    memcpy(e->prev_hash, prev, sizeof prev);
    audit_hash(prev, e, e->hash);
    memcpy(prev, e->hash, sizeof prev);
    rc = store_audit_append(t, e);
    if (rc)
      return rc;
  }
  return 0;
}

int audit_append_sync(struct vg_writer *w, struct vg_audit *e, size_t n)
{
  struct append_job j = {e, n};
  if (n == 0)
    return 0;
  return writer_exec(w, n, append_fn, &j);
}

/* ==== the queue and its thread ========================================== */

static void sleep_ms(int ms)
{
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void *audit_main(void *arg)
{
  struct vg_auditor *a = arg;
  struct vg_audit *batch = vg_malloc(AUDIT_BATCH_MAX * sizeof *batch);
  pthread_mutex_lock(&a->lock);
  for (;;) {
    size_t n, i;
    int rc;
    while (a->n == 0 && !a->stopping)
      pthread_cond_wait(&a->more, &a->lock);
    if (a->n == 0 && a->stopping)
      break;
    if (!a->stopping && a->n < AUDIT_BATCH_MAX && a->flush_ms > 0) {
      /* Let a batch form; a read never waits for this. */
      pthread_mutex_unlock(&a->lock);
      sleep_ms(a->flush_ms);
      pthread_mutex_lock(&a->lock);
    }
    n = a->n < AUDIT_BATCH_MAX ? a->n : AUDIT_BATCH_MAX;
    for (i = 0; i < n; i++)
      batch[i] = a->q[(a->head + i) % a->cap];
    pthread_mutex_unlock(&a->lock);
    for (;;) {
      rc = audit_append_sync(a->w, batch, n);
      if (rc != -VG_EBUSY && rc != -VG_ESTORE)
        break;
      /* Never drop: back off and retry while the store recovers. */
      vg_warn("audit.retry", "events=%zu error=\"%s\"", n, vg_strerror(rc));
      sleep_ms(100);
    }
    if (rc)
      vg_error("audit.lost", "events=%zu error=\"%s\"", n, vg_strerror(rc));
    pthread_mutex_lock(&a->lock);
    a->head = (a->head + n) % a->cap;
    a->n -= n;
    a->written += n;
    pthread_cond_broadcast(&a->room);
    pthread_cond_broadcast(&a->done);
  }
  pthread_mutex_unlock(&a->lock);
  vg_free(batch);
  return NULL;
}

int audit_start(struct vg_writer *w, int flush_ms, struct vg_auditor **out)
{
  struct vg_auditor *a;
  *out = NULL;
  if (sodium_init() < 0)
    return -VG_EINTERNAL;
  a = vg_calloc(1, sizeof *a);
  if (!a)
    return -VG_ENOMEM;
  a->w = w;
  a->flush_ms = flush_ms;
  a->cap = 1024;
  a->q = vg_malloc(a->cap * sizeof *a->q);
  pthread_mutex_init(&a->lock, NULL);
  pthread_cond_init(&a->more, NULL);
  pthread_cond_init(&a->room, NULL);
  pthread_cond_init(&a->done, NULL);
  if (pthread_create(&a->thread, NULL, audit_main, a) != 0) {
    vg_free(a->q);
    vg_free(a);
    return -VG_ENOMEM;
  }
  *out = a;
  return 0;
}

/* Double the ring (lock held), keeping the order of queued events. */
static void grow(struct vg_auditor *a)
{
  size_t i, cap = a->cap * 2;
  struct vg_audit *q = vg_malloc(cap * sizeof *q);
  for (i = 0; i < a->n; i++)
    q[i] = a->q[(a->head + i) % a->cap];
  vg_free(a->q);
  a->q = q;
  a->cap = cap;
  a->head = 0;
}

void audit_log(struct vg_auditor *a, const struct vg_audit *e)
{
  if (!a)
    return;
  pthread_mutex_lock(&a->lock);
  while (a->n >= VG_AUDIT_QUEUE_MAX)
    pthread_cond_wait(&a->room, &a->lock);
  if (a->n == a->cap)
    grow(a);
  a->q[(a->head + a->n) % a->cap] = *e;
  a->n++;
  a->queued++;
  pthread_cond_signal(&a->more);
  pthread_mutex_unlock(&a->lock);
}

int audit_flush(struct vg_auditor *a)
{
  uint64_t target;
  if (!a)
    return 0;
  pthread_mutex_lock(&a->lock);
  target = a->queued;
  pthread_cond_signal(&a->more);
  while (a->written < target)
    pthread_cond_wait(&a->done, &a->lock);
  pthread_mutex_unlock(&a->lock);
  return 0;
}

void audit_stop(struct vg_auditor *a)
{
  if (!a)
    return;
  pthread_mutex_lock(&a->lock);
  a->stopping = 1;
  pthread_cond_signal(&a->more);
  pthread_mutex_unlock(&a->lock);
  pthread_join(a->thread, NULL);
  pthread_mutex_destroy(&a->lock);
  pthread_cond_destroy(&a->more);
  pthread_cond_destroy(&a->room);
  pthread_cond_destroy(&a->done);
  vg_free(a->q);
  vg_free(a);
}

/* ==== verification ====================================================== */

struct verify_ctx {
  int64_t n, bad_id, expect_id;
  char prev[VG_HASH_HEX];
};

static int verify_cb(void *ctx, const struct vg_audit *e)
{
  struct verify_ctx *v = ctx;
  char h[VG_HASH_HEX];
  v->n++;
  audit_hash(e->prev_hash, e, h);
  if (e->id != v->expect_id || strcmp(e->prev_hash, v->prev) != 0 ||
      sodium_memcmp(h, e->hash, VG_HASH_HEX - 1) != 0) {
    v->bad_id = e->id;
    return 1;
  }
  memcpy(v->prev, e->hash, sizeof v->prev);
  v->expect_id++;
  return 0;
}

int audit_verify(struct vg_store *s, int64_t *out_n, int64_t *out_bad_id)
{
  struct vg_audit_query q;
  struct verify_ctx v;
  struct vg_txn *t;
  int rc;
  *out_n = 0;
  *out_bad_id = 0;
  if (sodium_init() < 0)
    return -VG_EINTERNAL;
  memset(&q, 0, sizeof q);
  memset(&v, 0, sizeof v);
  v.expect_id = 1;
  memcpy(v.prev, GENESIS, sizeof v.prev);
  rc = store_begin(s, VG_TXN_READ, &t);
  if (rc)
    return rc;
  rc = store_audit_list(t, &q, verify_cb, &v);
  store_rollback(t);
  *out_n = v.n;
  *out_bad_id = v.bad_id;
  if (rc < 0)
    return rc;
  return v.bad_id ? -VG_ECONFLICT : 0;
}
