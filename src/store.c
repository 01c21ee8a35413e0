/* store.c - the backend table and the store_* wrappers: version check,
 * default methods, mode checks and the fault-injection hook (store.h). */
#include "store.h"

#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "core_alloc.h"
#include "core_errors.h"
#include "core_log.h"
#include "store_sql.h"

/* Backends, chosen once by name at open (like sqlite3_vfs_find). Each is
 * defined in its store_<name>.c; there is no per-backend header because
 * nothing but this table may reach a backend. */
extern const struct vg_store_ops store_sqlite_ops;
#ifdef HAVE_POSTGRES
extern const struct vg_store_ops store_pg_ops;
#endif

static const struct vg_store_ops *const backends[] = {
  &store_sqlite_ops,
#ifdef HAVE_POSTGRES
  &store_pg_ops,
#endif
};

/* The public vg_store plus a resolved copy of the backend's ops, in which
 * the optional methods a backend leaves NULL are filled with defaults. */
struct store_handle {
  struct vg_store pub; /* first: a vg_store * is a store_handle * */
  struct vg_store_ops ops;
};

/* ==== fault injection =================================================== */

static atomic_long fail_countdown;

void store_fail_nth(long n)
{
  atomic_store(&fail_countdown, n > 0 ? n : 0);
}

/* Counts one wrapper call; nonzero when this call must fail. */
static int fault(void)
{
  if (atomic_load(&fail_countdown) <= 0)
    return 0;
  return atomic_fetch_sub(&fail_countdown, 1) == 1;
}

/* ==== default methods =================================================== */

static int def_migrate(struct vg_store *s, int *out_applied)
{
  (void)s;
  *out_applied = 0;
  return 0;
}

static int def_unsupported(struct vg_txn *t)
{
  (void)t;
  return -VG_EINVAL;
}

/* Buckets from an ordered readings_query: rows arrive in (code, ts_ms)
 * order, so each bucket is complete when the next one starts. */
struct bucket_acc {
  struct vg_bucket b;
  int open;
  int64_t bucket_ms;
  size_t limit, emitted;
  vg_bucket_cb cb;
  void *ctx;
  int stopped; /* the caller's callback asked to stop (its value) */
};

static int64_t floor_div(int64_t a, int64_t b)
{
  int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

static int bucket_flush(struct bucket_acc *a)
{
  int rc;
  if (!a->open)
    return 0;
  a->open = 0;
  a->b.mean /= (double)a->b.n;
  rc = a->cb(a->ctx, &a->b);
  a->emitted++;
  if (rc) {
    a->stopped = rc;
    return rc;
  }
  if (a->limit && a->emitted >= a->limit)
    return 1;
  return 0;
}

static int bucket_row(void *ctx, const struct vg_reading *r)
{
  struct bucket_acc *a = ctx;
  int64_t start = floor_div(r->ts_ms, a->bucket_ms) * a->bucket_ms;
  int rc;
  if (a->open && (a->b.code != r->code || a->b.start_ms != start)) {
    rc = bucket_flush(a);
    if (rc)
      return rc;
  }
  if (!a->open) {
    memset(&a->b, 0, sizeof a->b);
    a->b.code = r->code;
    a->b.start_ms = start;
    a->b.min = a->b.max = r->value;
    a->open = 1;
  }
  if (r->value < a->b.min)
    a->b.min = r->value;
  if (r->value > a->b.max)
    a->b.max = r->value;
  a->b.mean += r->value; /* the sum until bucket_flush */
  a->b.n++;
  return 0;
}

static int def_buckets(struct vg_txn *t, const struct vg_reading_query *q,
                       int64_t bucket_ms, vg_bucket_cb cb, void *ctx)
{
  struct vg_reading_query rq = *q;
  struct bucket_acc a;
  int rc;
  memset(&a, 0, sizeof a);
  a.bucket_ms = bucket_ms;
  a.limit = q->limit;
  a.cb = cb;
  a.ctx = ctx;
  rq.limit = 0;
  rq.has_cursor = 0;
  rc = t->store->ops->readings_query(t, &rq, bucket_row, &a);
  if (rc < 0)
    return rc;
  if (a.stopped)
    return a.stopped;
  if (rc == 0)
    bucket_flush(&a);
  return a.stopped;
}

/* Version-2 methods of an older backend: principals, tokens and audit
 * are unavailable (the server then cannot authenticate anyone). */
static int def_v2(struct vg_txn *t)
{
  (void)t;
  return -VG_EUNAVAIL;
}

/* ==== open / close ====================================================== */

static const struct vg_store_ops *backend_find(const char *name)
{
  size_t i;
  for (i = 0; i < sizeof backends / sizeof backends[0]; i++)
    if (strcmp(backends[i]->name, name) == 0)
      return backends[i];
  return NULL;
}

int store_open(const struct vg_config *cfg, struct vg_store **out)
{
  const char *name = cfg->pg[0] ? "pg" : "sqlite";
  const struct vg_store_ops *ops = backend_find(name);
  struct store_handle *h = NULL;
  int rc, applied = 0;

  *out = NULL;
  if (!ops) {
    vg_error("store_open", "backend=%s err=\"not built in\"", name);
    return -VG_EINVAL;
  }
  if (ops->version < 1 || ops->version > VG_STORE_OPS_VERSION) {
    vg_error("store_open", "backend=%s version=%d err=\"unsupported\"",
             name, ops->version);
    return -VG_EINVAL;
  }
  if (fault())
    return -VG_ESTORE;
  h = vg_calloc(1, sizeof *h);
  if (!h)
    return -VG_ENOMEM;
  h->ops = *ops;
  if (!h->ops.migrate)
    h->ops.migrate = def_migrate;
  if (!(h->ops.caps & VG_STORE_CAP_SAVEPOINT) || !h->ops.savepoint ||
      !h->ops.release || !h->ops.rollback_to) {
    h->ops.caps &= ~VG_STORE_CAP_SAVEPOINT;
    h->ops.savepoint = def_unsupported;
    h->ops.release = def_unsupported;
    h->ops.rollback_to = def_unsupported;
  }
  if (!h->ops.readings_buckets)
    h->ops.readings_buckets = def_buckets;
  if (h->ops.version < 2) {
    /* The v2 slots lie past the end of an older backend's ops: clear
     * them; the wrappers answer def_v2 for a NULL slot. */
    h->ops.user_create = NULL;
    h->ops.user_get = NULL;
    h->ops.user_by_name = NULL;
    h->ops.user_update = NULL;
    h->ops.token_create = NULL;
    h->ops.token_by_hash = NULL;
    h->ops.token_revoke = NULL;
    h->ops.audit_tail = NULL;
    h->ops.audit_append = NULL;
    h->ops.audit_list = NULL;
  }
  if (h->ops.version < 3)
    h->ops.sql = NULL;
  h->pub.ops = &h->ops;

  rc = h->ops.open(&h->pub, cfg);
  if (rc < 0)
    goto fail;
  rc = h->ops.migrate(&h->pub, &applied);
  if (rc < 0) {
    h->ops.close(&h->pub);
    goto fail;
  }
  if (applied)
    vg_info("store_migrate", "backend=%s applied=%d", name, applied);
  *out = &h->pub;
  return 0;
fail:
  vg_free(h);
  return rc;
}

void store_close(struct vg_store *s)
{
  if (!s)
    return;
  s->ops->close(s);
  vg_free(s); /* the store_handle, whose first member is s */
}

const char *store_backend_name(const struct vg_store *s)
{
  return s->ops->name;
}

unsigned store_caps(const struct vg_store *s)
{
  return s->ops->caps;
}

/* ==== transactions ====================================================== */

int store_begin(struct vg_store *s, enum vg_txn_mode mode, struct vg_txn **out)
{
  *out = NULL;
  if (mode != VG_TXN_READ && mode != VG_TXN_WRITE)
    return -VG_EINVAL;
  if (fault())
    return -VG_ESTORE;
  return s->ops->begin(s, mode, out);
}

int store_commit(struct vg_txn *t)
{
  if (fault()) {
    t->store->ops->rollback(t);
    return -VG_ESTORE;
  }
  return t->store->ops->commit(t);
}

void store_rollback(struct vg_txn *t)
{
  if (t)
    t->store->ops->rollback(t);
}

int store_savepoint(struct vg_txn *t)
{
  if (t->mode != VG_TXN_WRITE)
    return -VG_EINVAL;
  if (fault())
    return -VG_ESTORE;
  return t->store->ops->savepoint(t);
}

int store_release(struct vg_txn *t)
{
  if (fault())
    return -VG_ESTORE;
  return t->store->ops->release(t);
}

int store_rollback_to(struct vg_txn *t)
{
  if (fault())
    return -VG_ESTORE;
  return t->store->ops->rollback_to(t);
}

/* ==== resources ========================================================= */

int store_patient_create(struct vg_txn *t, struct vg_patient *p)
{
  if (t->mode != VG_TXN_WRITE)
    return -VG_EINVAL;
  if (fault())
    return -VG_ESTORE;
  return t->store->ops->patient_create(t, p);
}

int store_patient_get(struct vg_txn *t, int64_t id, struct vg_patient *out)
{
  if (fault())
    return -VG_ESTORE;
  return t->store->ops->patient_get(t, id, out);
}

int store_patient_list(struct vg_txn *t, int64_t after_id, size_t limit,
                       vg_patient_cb cb, void *ctx)
{
  if (fault())
    return -VG_ESTORE;
  return t->store->ops->patient_list(t, after_id, limit, cb, ctx);
}

int store_device_create(struct vg_txn *t, struct vg_device *d)
{
  if (t->mode != VG_TXN_WRITE)
    return -VG_EINVAL;
  if (fault())
    return -VG_ESTORE;
  return t->store->ops->device_create(t, d);
}

int store_device_get(struct vg_txn *t, int64_t id, struct vg_device *out)
{
  if (fault())
    return -VG_ESTORE;
  return t->store->ops->device_get(t, id, out);
}

int store_device_by_serial(struct vg_txn *t, const char *serial,
                           struct vg_device *out)
{
  if (fault())
    return -VG_ESTORE;
  return t->store->ops->device_by_serial(t, serial, out);
}

int store_device_list(struct vg_txn *t, int64_t after_id, size_t limit,
                      vg_device_cb cb, void *ctx)
{
  if (fault())
    return -VG_ESTORE;
  return t->store->ops->device_list(t, after_id, limit, cb, ctx);
}

int store_readings_insert(struct vg_txn *t, const struct vg_reading *r,
                          size_t n, unsigned char *out_status)
{
  if (t->mode != VG_TXN_WRITE)
    return -VG_EINVAL;
  if (fault())
    return -VG_ESTORE;
  if (n == 0)
    return 0;
  return t->store->ops->readings_insert(t, r, n, out_status);
}

int store_readings_query(struct vg_txn *t, const struct vg_reading_query *q,
                         vg_reading_cb cb, void *ctx)
{
  if (fault())
    return -VG_ESTORE;
  if (q->has_cursor && !q->after_source)
    return -VG_EINVAL;
  return t->store->ops->readings_query(t, q, cb, ctx);
}

int store_readings_buckets(struct vg_txn *t, const struct vg_reading_query *q,
                           int64_t bucket_ms, vg_bucket_cb cb, void *ctx)
{
  if (bucket_ms <= 0)
    return -VG_EINVAL;
  if (fault())
    return -VG_ESTORE;
  return t->store->ops->readings_buckets(t, q, bucket_ms, cb, ctx);
}

/* ==== principals, tokens, audit ========================================= */

/* Common prologue of the v2 wrappers: fault hook, write-mode check and
 * the default for a backend without the method. */
#define V2_CALL(t, write, fn, ...)                                   \
  do {                                                               \
    if ((write) && (t)->mode != VG_TXN_WRITE)                        \
      return -VG_EINVAL;                                             \
    if (fault())                                                     \
      return -VG_ESTORE;                                             \
    if (!(t)->store->ops->fn)                                        \
      return def_v2(t);                                              \
    return (t)->store->ops->fn((t), __VA_ARGS__);                    \
  } while (0)

int store_user_create(struct vg_txn *t, struct vg_user *u)
{
  V2_CALL(t, 1, user_create, u);
}

int store_user_get(struct vg_txn *t, int64_t id, struct vg_user *out)
{
  V2_CALL(t, 0, user_get, id, out);
}

int store_user_by_name(struct vg_txn *t, const char *username,
                       struct vg_user *out)
{
  V2_CALL(t, 0, user_by_name, username, out);
}

int store_user_update(struct vg_txn *t, const struct vg_user *u)
{
  V2_CALL(t, 1, user_update, u);
}

int store_token_create(struct vg_txn *t, struct vg_token *k)
{
  V2_CALL(t, 1, token_create, k);
}

int store_token_by_hash(struct vg_txn *t, const char *hash,
                        struct vg_token *out)
{
  V2_CALL(t, 0, token_by_hash, hash, out);
}

int store_token_revoke(struct vg_txn *t, int64_t id, int64_t now_ms)
{
  V2_CALL(t, 1, token_revoke, id, now_ms);
}

int store_audit_tail(struct vg_txn *t, struct vg_audit *out)
{
  V2_CALL(t, 0, audit_tail, out);
}

int store_audit_append(struct vg_txn *t, const struct vg_audit *e)
{
  V2_CALL(t, 1, audit_append, e);
}

int store_audit_list(struct vg_txn *t, const struct vg_audit_query *q,
                     vg_audit_cb cb, void *ctx)
{
  V2_CALL(t, 0, audit_list, q, cb, ctx);
}

/* A statement that is not a SELECT (or WITH ... SELECT) writes. */
static int sql_writes(const char *sql)
{
  while (*sql == ' ' || *sql == '\n' || *sql == '\t')
    sql++;
  return strncasecmp(sql, "SELECT", 6) != 0 && strncasecmp(sql, "WITH", 4) != 0;
}

int store_sql(struct vg_txn *t, const char *sql, const struct vg_val *params,
              size_t n_params, vg_row_cb cb, void *ctx, int64_t *out_changes)
{
  if (out_changes)
    *out_changes = 0;
  if (!sql || (n_params && !params))
    return -VG_EINVAL;
  V2_CALL(t, sql_writes(sql), sql, sql, params, n_params, cb, ctx,
          out_changes);
}

/* ==== migrations ======================================================== */

const struct vg_migration *store_migration_next(const char *dialect,
                                                int after)
{
  const struct vg_migration *m, *best = NULL;
  for (m = vg_migrations; m->sql; m++) {
    int common = strcmp(m->dialect, "common") == 0;
    if (m->number <= after || (!common && strcmp(m->dialect, dialect) != 0))
      continue;
    if (!best || m->number < best->number ||
        (m->number == best->number && !common))
      best = m;
  }
  return best;
}
