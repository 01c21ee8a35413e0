/* store_sqlite.c - the "sqlite" store backend: WAL, one write connection
 * behind a mutex, a pool of query_only read connections, prepared
 * statements cached per connection, numbered migrations at open. */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "codes.h"
#include "config.h"
#include "core_alloc.h"
#include "core_errors.h"
#include "core_log.h"
#include "core_time.h"
#include "store.h"
#include "store_sql.h"

/* Milliseconds a connection waits on a lock held by another process. */
#define SQ_BUSY_TIMEOUT_MS 5000
/* Page cache per connection, KiB (negative = KiB to PRAGMA cache_size). */
#define SQ_CACHE_KIB 16384
#define SQ_READ_CONNS_MAX 64

/* ==== statements ======================================================== */

enum sq_stmt {
  ST_BEGIN_READ,
  ST_BEGIN_WRITE,
  ST_COMMIT,
  ST_ROLLBACK,
  ST_SAVEPOINT,
  ST_RELEASE,
  ST_ROLLBACK_TO,
  ST_PATIENT_INSERT,
  ST_PATIENT_GET,
  ST_PATIENT_LIST,
  ST_DEVICE_INSERT,
  ST_DEVICE_GET,
  ST_DEVICE_BY_SERIAL,
  ST_DEVICE_LIST,
  ST_READING_INSERT,
  /* readings_query: + 1 with a code filter, + 2 with a cursor */
  ST_READING_QUERY,
  ST_READING_QUERY_CODE,
  ST_READING_QUERY_CURSOR,
  ST_READING_QUERY_CODE_CURSOR,
  ST_BUCKETS,
  ST_BUCKETS_CODE,
  ST_USER_INSERT,
  ST_USER_GET,
  ST_USER_BY_NAME,
  ST_USER_UPDATE,
  ST_TOKEN_INSERT,
  ST_TOKEN_BY_HASH,
  ST_TOKEN_REVOKE,
  ST_AUDIT_TAIL,
  ST_AUDIT_INSERT,
  ST_AUDIT_LIST,
  ST_COUNT
};

#define PATIENT_COLS \
  "id, coalesce(identifier, ''), name, sex, coalesce(birth_date, ''), tz, " \
  "created_ms, updated_ms"
#define DEVICE_COLS \
  "id, serial, kind, coalesce(patient_id, 0), created_ms, last_seen_ms"
#define USER_COLS \
  "id, username, role, org_id, coalesce(patient_id, 0), " \
  "coalesce(device_id, 0), pw_hash, scopes, disabled, failed_logins, " \
  "locked_until_ms, created_ms, updated_ms"
#define TOKEN_COLS \
  "id, hash, user_id, kind, scopes, created_ms, expires_ms, revoked_ms"
#define AUDIT_COLS \
  "id, ts_ms, user_id, username, role, action, resource, patient_id, " \
  "outcome, source, request_id, prev_hash, hash"
#define READING_Q \
  "SELECT code, ts_ms, source, value, unit, tz_offset_min FROM reading " \
  "WHERE patient_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3"
#define READING_ORDER " ORDER BY code, ts_ms, source LIMIT ?8"
#define CURSOR " AND (code, ts_ms, source) > (?5, ?6, ?7)"
/* Epoch-aligned bucket start: floor(ts_ms / ?4) * ?4, also before 1970. */
#define BUCKET_START \
  "(CASE WHEN ts_ms >= 0 THEN ts_ms / ?4 ELSE (ts_ms - ?4 + 1) / ?4 END) * ?4"
#define BUCKETS_Q(filter) \
  "SELECT code, " BUCKET_START " AS start, min(value), avg(value), " \
  "max(value), count(*) FROM reading WHERE patient_id = ?1 AND ts_ms >= ?2 " \
  "AND ts_ms < ?3" filter " GROUP BY code, start ORDER BY code, start " \
  "LIMIT ?8"

static const char *const sq_sql[ST_COUNT] = {
  [ST_BEGIN_READ] = "BEGIN",
  [ST_BEGIN_WRITE] = "BEGIN IMMEDIATE",
  [ST_COMMIT] = "COMMIT",
  [ST_ROLLBACK] = "ROLLBACK",
  [ST_SAVEPOINT] = "SAVEPOINT vg_sp",
  [ST_RELEASE] = "RELEASE vg_sp",
  [ST_ROLLBACK_TO] = "ROLLBACK TO vg_sp",
  [ST_PATIENT_INSERT] =
      "INSERT INTO patient (identifier, name, sex, birth_date, tz, "
      "created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
  [ST_PATIENT_GET] = "SELECT " PATIENT_COLS " FROM patient WHERE id = ?1",
  [ST_PATIENT_LIST] = "SELECT " PATIENT_COLS
                      " FROM patient WHERE id > ?1 ORDER BY id LIMIT ?2",
  [ST_DEVICE_INSERT] =
      "INSERT INTO device (serial, kind, patient_id, created_ms, "
      "last_seen_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
  [ST_DEVICE_GET] = "SELECT " DEVICE_COLS " FROM device WHERE id = ?1",
  [ST_DEVICE_BY_SERIAL] =
      "SELECT " DEVICE_COLS " FROM device WHERE serial = ?1",
  [ST_DEVICE_LIST] = "SELECT " DEVICE_COLS
                     " FROM device WHERE id > ?1 ORDER BY id LIMIT ?2",
  [ST_READING_INSERT] =
      "INSERT OR IGNORE INTO reading (patient_id, code, ts_ms, source, "
      "value, unit, tz_offset_min, ingested_ms) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
  [ST_READING_QUERY] = READING_Q READING_ORDER,
  [ST_READING_QUERY_CODE] = READING_Q " AND code = ?4" READING_ORDER,
  [ST_READING_QUERY_CURSOR] = READING_Q CURSOR READING_ORDER,
  [ST_READING_QUERY_CODE_CURSOR] =
      READING_Q " AND code = ?4" CURSOR READING_ORDER,
  [ST_BUCKETS] = BUCKETS_Q(""),
  [ST_BUCKETS_CODE] = BUCKETS_Q(" AND code = ?5"),
  [ST_USER_INSERT] =
      "INSERT INTO app_user (username, role, org_id, patient_id, device_id, "
      "pw_hash, scopes, disabled, failed_logins, locked_until_ms, "
      "created_ms, updated_ms) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
  [ST_USER_GET] = "SELECT " USER_COLS " FROM app_user WHERE id = ?1",
  [ST_USER_BY_NAME] =
      "SELECT " USER_COLS " FROM app_user WHERE username = ?1",
  [ST_USER_UPDATE] =
      "UPDATE app_user SET role = ?2, org_id = ?3, patient_id = ?4, "
      "device_id = ?5, pw_hash = ?6, scopes = ?7, disabled = ?8, "
      "failed_logins = ?9, locked_until_ms = ?10, updated_ms = ?11 "
      "WHERE id = ?1",
  [ST_TOKEN_INSERT] =
      "INSERT INTO token (hash, user_id, kind, scopes, created_ms, "
      "expires_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
  [ST_TOKEN_BY_HASH] = "SELECT " TOKEN_COLS " FROM token WHERE hash = ?1",
  [ST_TOKEN_REVOKE] =
      "UPDATE token SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms = 0",
  [ST_AUDIT_TAIL] =
      "SELECT " AUDIT_COLS " FROM audit_event ORDER BY id DESC LIMIT 1",
  [ST_AUDIT_INSERT] =
      "INSERT INTO audit_event (" AUDIT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, "
      "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
  [ST_AUDIT_LIST] =
      "SELECT " AUDIT_COLS " FROM audit_event WHERE id > ?1 "
      "AND (?2 = 0 OR patient_id = ?2) AND (?3 = 0 OR user_id = ?3) "
      "AND ts_ms >= ?4 AND (?5 = 0 OR ts_ms < ?5) ORDER BY id LIMIT ?6",
};

/* ==== connections and transactions ====================================== */

struct sq_txn;

/* Statements of store_sql(), cached by their text (round-robin eviction). */
#define SQ_ADHOC_MAX 128

struct sq_conn {
  sqlite3 *db;
  sqlite3_stmt *st[ST_COUNT]; /* prepared on first use, kept until close */
  sqlite3_stmt *adhoc[SQ_ADHOC_MAX];
  unsigned adhoc_next;
};

/* One preallocated transaction object per connection: a connection runs at
 * most one transaction, so begin never allocates. */
struct sq_txn {
  struct vg_txn pub; /* first: a vg_txn * is an sq_txn * */
  struct sq_conn *conn;
  int depth;     /* open savepoints */
  int pool_slot; /* read pool index, -1 for the writer */
};

struct sq_store {
  struct sq_conn wconn;
  struct sq_txn wtxn;
  pthread_mutex_t wlock; /* held from begin(WRITE) to commit/rollback */

  struct sq_conn *rconn;
  struct sq_txn *rtxn;
  unsigned char *rbusy;
  int n_read;
  pthread_mutex_t rlock;
  pthread_cond_t rfree;
};

static struct sq_store *sq_of(struct vg_store *s)
{
  return s->ctx;
}

static int sq_err(struct sq_conn *c, int rc, const char *what)
{
  int ext = sqlite3_extended_errcode(c->db);
  if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
    return -VG_ECONFLICT;
  if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
    return -VG_ENOTFOUND;
  if ((rc & 0xff) == SQLITE_CONSTRAINT) /* CHECK, NOT NULL (extended) */
    return -VG_EINVAL;
  if (rc == SQLITE_NOMEM)
    return -VG_ENOMEM;
  vg_error("store_sqlite", "op=%s rc=%d err=\"%s\"", what, ext,
           sqlite3_errmsg(c->db));
  return -VG_ESTORE;
}

/* The cached statement id, reset and unbound from its previous use. */
static int sq_stmt(struct sq_conn *c, enum sq_stmt id, sqlite3_stmt **out)
{
  int rc;
  *out = NULL;
  if (!c->st[id]) {
    rc = sqlite3_prepare_v3(c->db, sq_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                            &c->st[id], NULL);
    if (rc != SQLITE_OK)
      return sq_err(c, rc, "prepare");
  }
  *out = c->st[id];
  return 0;
}

/* Run a statement without results (BEGIN, COMMIT, SAVEPOINT, ...). */
static int sq_exec(struct sq_conn *c, enum sq_stmt id)
{
  sqlite3_stmt *st;
  int rc = sq_stmt(c, id, &st);
  if (rc < 0)
    return rc;
  rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE)
    return sq_err(c, rc, sq_sql[id]);
  return 0;
}

static void conn_close(struct sq_conn *c)
{
  int i;
  for (i = 0; i < ST_COUNT; i++)
    sqlite3_finalize(c->st[i]);
  memset(c->st, 0, sizeof c->st);
  for (i = 0; i < SQ_ADHOC_MAX; i++)
    sqlite3_finalize(c->adhoc[i]);
  memset(c->adhoc, 0, sizeof c->adhoc);
  sqlite3_close(c->db);
  c->db = NULL;
}

static int conn_pragmas(struct sq_conn *c, const char *sql)
{
  char *msg = NULL;
  int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK) {
    vg_error("store_sqlite", "op=pragma err=\"%s\"", msg ? msg : "?");
    sqlite3_free(msg);
    return -VG_ESTORE;
  }
  return 0;
}

static int conn_open(struct sq_conn *c, const char *path, int writer,
                     const struct vg_config *cfg)
{
  char sql[256];
  int rc;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
              (writer ? SQLITE_OPEN_CREATE : 0);

  memset(c, 0, sizeof *c);
  rc = sqlite3_open_v2(path, &c->db, flags, NULL);
  if (rc != SQLITE_OK) {
    vg_error("store_sqlite", "op=open path=\"%s\" err=\"%s\"", path,
             c->db ? sqlite3_errmsg(c->db) : "out of memory");
    goto fail;
  }
  sqlite3_extended_result_codes(c->db, 1);
  sqlite3_busy_timeout(c->db, SQ_BUSY_TIMEOUT_MS);
  /* synchronous=NORMAL in WAL mode is durable against a process crash
   * (the ingest contract); FULL also survives power loss. */
  snprintf(sql, sizeof sql,
           "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; "
           "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; "
           "PRAGMA cache_size=-%d; PRAGMA query_only=%d;",
           strcmp(cfg->sync, "full") == 0 ? "FULL" : "NORMAL", SQ_CACHE_KIB,
           writer ? 0 : 1);
  if (!writer) /* readers must not try to switch the journal mode */
    snprintf(sql, sizeof sql,
             "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; "
             "PRAGMA cache_size=-%d; PRAGMA query_only=1;",
             SQ_CACHE_KIB / 4);
  if (conn_pragmas(c, sql) < 0)
    goto fail;
  return 0;
fail:
  sqlite3_close(c->db);
  c->db = NULL;
  return -VG_ESTORE;
}

/* Create the database's directory if it is missing (one level, like
 * "var/" of the default path), so a first start needs no set-up. */
static void ensure_dir(const char *path)
{
  char dir[VG_CFG_STR_MAX];
  char *slash;
  size_t len = strlen(path);
  if (len >= sizeof dir)
    return;
  memcpy(dir, path, len + 1);
  slash = strrchr(dir, '/');
  if (!slash || slash == dir)
    return;
  *slash = '\0';
  if (mkdir(dir, 0750) != 0 && errno != EEXIST)
    vg_warn("store_sqlite", "op=mkdir dir=\"%s\" errno=%d", dir, errno);
}

static void sq_close(struct vg_store *s)
{
  struct sq_store *q = sq_of(s);
  int i;
  if (!q)
    return;
  for (i = 0; i < q->n_read; i++)
    conn_close(&q->rconn[i]);
  conn_close(&q->wconn);
  pthread_mutex_destroy(&q->wlock);
  pthread_mutex_destroy(&q->rlock);
  pthread_cond_destroy(&q->rfree);
  vg_free(q->rconn);
  vg_free(q->rtxn);
  vg_free(q->rbusy);
  vg_free(q);
  s->ctx = NULL;
}

static int sq_open(struct vg_store *s, const struct vg_config *cfg)
{
  struct sq_store *q;
  int i, n = (int)cfg->read_conns;
  int rc = -VG_ENOMEM;

  if (n < 1)
    n = 1;
  if (n > SQ_READ_CONNS_MAX)
    n = SQ_READ_CONNS_MAX;
  if (!cfg->db[0] || strcmp(cfg->db, ":memory:") == 0)
    return -VG_EINVAL; /* read connections need a shared file */
  q = vg_calloc(1, sizeof *q);
  if (!q)
    return -VG_ENOMEM;
  pthread_mutex_init(&q->wlock, NULL);
  pthread_mutex_init(&q->rlock, NULL);
  pthread_cond_init(&q->rfree, NULL);
  s->ctx = q;
  q->rconn = vg_calloc((size_t)n, sizeof *q->rconn);
  q->rtxn = vg_calloc((size_t)n, sizeof *q->rtxn);
  q->rbusy = vg_calloc((size_t)n, 1);
  if (!q->rconn || !q->rtxn || !q->rbusy)
    goto fail;

  ensure_dir(cfg->db);
  rc = conn_open(&q->wconn, cfg->db, 1, cfg);
  if (rc < 0)
    goto fail;
  q->wtxn.pub.store = s;
  q->wtxn.pub.mode = VG_TXN_WRITE;
  q->wtxn.conn = &q->wconn;
  q->wtxn.pool_slot = -1;
  for (i = 0; i < n; i++) {
    rc = conn_open(&q->rconn[i], cfg->db, 0, cfg);
    if (rc < 0)
      goto fail;
    q->n_read = i + 1;
    q->rtxn[i].pub.store = s;
    q->rtxn[i].pub.mode = VG_TXN_READ;
    q->rtxn[i].conn = &q->rconn[i];
    q->rtxn[i].pool_slot = i;
  }
  return 0;
fail:
  sq_close(s);
  return rc;
}

/* ==== migrations ======================================================== */

static int sq_applied(struct sq_conn *c, int number, int *out)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(
      c->db, "SELECT 1 FROM schema_migrations WHERE number = ?1", -1, &st,
      NULL);
  if (rc != SQLITE_OK)
    return sq_err(c, rc, "migrate");
  sqlite3_bind_int(st, 1, number);
  rc = sqlite3_step(st);
  *out = rc == SQLITE_ROW;
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return sq_err(c, rc, "migrate");
  return 0;
}

static int sq_migrate_one(struct sq_conn *c, const struct vg_migration *m)
{
  sqlite3_stmt *st = NULL;
  char *msg = NULL;
  int rc;

  if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    return sq_err(c, SQLITE_ERROR, "migrate begin");
  rc = sqlite3_exec(c->db, m->sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK) {
    vg_error("store_migrate", "number=%d name=%s err=\"%s\"", m->number,
             m->name, msg ? msg : "?");
    sqlite3_free(msg);
    goto fail;
  }
  rc = sqlite3_prepare_v2(c->db,
                          "INSERT INTO schema_migrations (number, name, "
                          "applied_ms) VALUES (?1, ?2, ?3)",
                          -1, &st, NULL);
  if (rc != SQLITE_OK)
    goto fail;
  sqlite3_bind_int(st, 1, m->number);
  sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, vg_now_ms());
  rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE)
    goto fail;
  if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    goto fail;
  return 0;
fail:
  sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
  return -VG_ESTORE;
}

/* Keep the code reference table equal to codes.def (ids are append-only,
 * names and units may be corrected), in one transaction at every open. */
static int sq_sync_codes(struct sq_conn *c)
{
  sqlite3_stmt *st = NULL;
  const struct vg_code *all;
  size_t i, n;
  int rc;
  all = codes_all(&n);
  if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    return sq_err(c, SQLITE_ERROR, "codes begin");
  rc = sqlite3_prepare_v2(
      c->db,
      "INSERT INTO code (id, name, system, code, unit) "
      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO UPDATE SET "
      "name = excluded.name, system = excluded.system, "
      "code = excluded.code, unit = excluded.unit",
      -1, &st, NULL);
  for (i = 0; rc == SQLITE_OK && i < n; i++) {
    sqlite3_bind_int(st, 1, all[i].id);
    sqlite3_bind_text(st, 2, all[i].name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, all[i].system, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, all[i].code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, all[i].unit, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  if (rc == SQLITE_OK &&
      sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
    return 0;
  rc = sq_err(c, SQLITE_ERROR, "codes");
  sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

static int sq_migrate(struct vg_store *s, int *out_applied)
{
  struct sq_store *q = sq_of(s);
  const struct vg_migration *m;
  int rc, done, number = 0;

  *out_applied = 0;
  rc = conn_pragmas(&q->wconn,
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    "number INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                    "applied_ms BIGINT NOT NULL)");
  if (rc < 0)
    return rc;
  while ((m = store_migration_next("sqlite", number)) != NULL) {
    number = m->number;
    rc = sq_applied(&q->wconn, m->number, &done);
    if (rc < 0)
      return rc;
    if (done)
      continue;
    rc = sq_migrate_one(&q->wconn, m);
    if (rc < 0)
      return rc;
    ++*out_applied;
  }
  return sq_sync_codes(&q->wconn);
}

/* ==== transactions ====================================================== */

static int sq_begin(struct vg_store *s, enum vg_txn_mode mode,
                    struct vg_txn **out)
{
  struct sq_store *q = sq_of(s);
  struct sq_txn *t;
  int i, rc;

  *out = NULL;
  if (mode == VG_TXN_WRITE) {
    pthread_mutex_lock(&q->wlock);
    t = &q->wtxn;
  } else {
    pthread_mutex_lock(&q->rlock);
    for (;;) {
      for (i = 0; i < q->n_read && q->rbusy[i]; i++)
        ;
      if (i < q->n_read)
        break;
      pthread_cond_wait(&q->rfree, &q->rlock);
    }
    q->rbusy[i] = 1;
    pthread_mutex_unlock(&q->rlock);
    t = &q->rtxn[i];
  }
  t->depth = 0;
  rc = sq_exec(t->conn, mode == VG_TXN_WRITE ? ST_BEGIN_WRITE : ST_BEGIN_READ);
  if (rc < 0)
    goto fail;
  *out = &t->pub;
  return 0;
fail:
  if (mode == VG_TXN_WRITE) {
    pthread_mutex_unlock(&q->wlock);
  } else {
    pthread_mutex_lock(&q->rlock);
    q->rbusy[t->pool_slot] = 0;
    pthread_cond_signal(&q->rfree);
    pthread_mutex_unlock(&q->rlock);
  }
  return rc;
}

/* Hand the connection back: unlock the writer or free the read slot. */
static void sq_txn_end(struct sq_txn *t)
{
  struct sq_store *q = sq_of(t->pub.store);
  if (t->pool_slot < 0) {
    pthread_mutex_unlock(&q->wlock);
    return;
  }
  pthread_mutex_lock(&q->rlock);
  q->rbusy[t->pool_slot] = 0;
  pthread_cond_signal(&q->rfree);
  pthread_mutex_unlock(&q->rlock);
}

static void sq_rollback(struct vg_txn *vt)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  /* Fails only when no transaction is open (SQLite already rolled back,
   * e.g. after SQLITE_FULL); either way none is open afterwards. */
  if (!sqlite3_get_autocommit(t->conn->db))
    sq_exec(t->conn, ST_ROLLBACK);
  sq_txn_end(t);
}

static int sq_commit(struct vg_txn *vt)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  int rc = sq_exec(t->conn, ST_COMMIT);
  if (rc < 0) {
    sq_rollback(vt);
    return -VG_ESTORE;
  }
  sq_txn_end(t);
  return 0;
}

static int sq_savepoint(struct vg_txn *vt)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  int rc = sq_exec(t->conn, ST_SAVEPOINT);
  if (rc == 0)
    t->depth++;
  return rc;
}

static int sq_release(struct vg_txn *vt)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  int rc;
  if (t->depth <= 0)
    return -VG_EINVAL;
  rc = sq_exec(t->conn, ST_RELEASE);
  if (rc == 0)
    t->depth--;
  return rc;
}

/* Undo back to the innermost savepoint and end it. SQLite's ROLLBACK TO
 * keeps the savepoint open, so it is released after. */
static int sq_rollback_to(struct vg_txn *vt)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  int rc;
  if (t->depth <= 0)
    return -VG_EINVAL;
  rc = sq_exec(t->conn, ST_ROLLBACK_TO);
  if (rc < 0)
    return rc;
  return sq_release(vt);
}

/* ==== patients and devices ============================================== */

static void col_text(sqlite3_stmt *st, int col, char *dst, size_t size)
{
  const unsigned char *s = sqlite3_column_text(st, col);
  size_t n = s ? (size_t)sqlite3_column_bytes(st, col) : 0;
  if (n >= size)
    n = size - 1;
  if (n)
    memcpy(dst, s, n);
  dst[n] = '\0';
}

/* End a one-row lookup after rc = sqlite3_step(st); the caller has read
 * the row when rc is SQLITE_ROW. Resets and unbinds st (borrowed text never
 * outlives the call). 0 for a row, -VG_ENOTFOUND for none, else the SQLite
 * error as a store error tagged what. */
static int sq_one_end(struct sq_txn *t, sqlite3_stmt *st, int rc,
                      const char *what)
{
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (rc == SQLITE_ROW)
    return 0;
  if (rc == SQLITE_DONE)
    return -VG_ENOTFOUND;
  return sq_err(t->conn, rc, what);
}

/* End a list after its row loop: rc is the last sqlite3_step() result
 * (or an error the loop set), stop what the row callback returned when it
 * stopped the loop. Resets and unbinds st. stop if nonzero, else 0 when the
 * rows ran out (SQLITE_DONE), else the store error tagged what. */
static int sq_list_end(struct sq_txn *t, sqlite3_stmt *st, int rc, int stop,
                       const char *what)
{
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (stop)
    return stop;
  return rc == SQLITE_DONE ? 0 : sq_err(t->conn, rc, what);
}

static void row_patient(sqlite3_stmt *st, struct vg_patient *p)
{
  char sex[2];
  memset(p, 0, sizeof *p);
  p->id = sqlite3_column_int64(st, 0);
  col_text(st, 1, p->identifier, sizeof p->identifier);
  col_text(st, 2, p->name, sizeof p->name);
  col_text(st, 3, sex, sizeof sex);
  p->sex = sex[0] ? sex[0] : 'U';
  col_text(st, 4, p->birth_date, sizeof p->birth_date);
  col_text(st, 5, p->tz, sizeof p->tz);
  p->created_ms = sqlite3_column_int64(st, 6);
  p->updated_ms = sqlite3_column_int64(st, 7);
}

static void row_device(sqlite3_stmt *st, struct vg_device *d)
{
  memset(d, 0, sizeof *d);
  d->id = sqlite3_column_int64(st, 0);
  col_text(st, 1, d->serial, sizeof d->serial);
  col_text(st, 2, d->kind, sizeof d->kind);
  d->patient_id = sqlite3_column_int64(st, 3);
  d->created_ms = sqlite3_column_int64(st, 4);
  d->last_seen_ms = sqlite3_column_int64(st, 5);
}

/* Bind a fixed-size string field; "" binds NULL when empty_null. */
static void bind_field(sqlite3_stmt *st, int i, const char *s, size_t size,
                       int empty_null)
{
  size_t n = strnlen(s, size);
  if (n == 0 && empty_null)
    sqlite3_bind_null(st, i);
  else
    sqlite3_bind_text(st, i, s, (int)n, SQLITE_TRANSIENT);
}

static int sq_patient_create(struct vg_txn *vt, struct vg_patient *p)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  sqlite3_stmt *st;
  char sex[2] = { p->sex ? p->sex : 'U', '\0' };
  int64_t now = vg_now_ms();
  int rc = sq_stmt(t->conn, ST_PATIENT_INSERT, &st);
  if (rc < 0)
    return rc;
  bind_field(st, 1, p->identifier, sizeof p->identifier, 1);
  bind_field(st, 2, p->name, sizeof p->name, 0);
  sqlite3_bind_text(st, 3, sex, 1, SQLITE_TRANSIENT);
  bind_field(st, 4, p->birth_date, sizeof p->birth_date, 1);
  bind_field(st, 5, p->tz, sizeof p->tz, 0);
  sqlite3_bind_int64(st, 6, now);
  rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE)
    return sq_err(t->conn, rc, "patient_create");
  p->id = sqlite3_last_insert_rowid(t->conn->db);
  p->sex = sex[0];
  p->created_ms = p->updated_ms = now;
  return 0;
}

static int sq_patient_get(struct vg_txn *vt, int64_t id,
                          struct vg_patient *out)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  sqlite3_stmt *st;
  int rc = sq_stmt(t->conn, ST_PATIENT_GET, &st);
  if (rc < 0)
    return rc;
  sqlite3_bind_int64(st, 1, id);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    row_patient(st, out);
  return sq_one_end(t, st, rc, "patient_get");
}

/* LIMIT -1 is SQLite's "no limit". */
static int64_t sq_limit(size_t limit)
{
  return limit ? (int64_t)limit : -1;
}

static int sq_patient_list(struct vg_txn *vt, int64_t after_id, size_t limit,
                           vg_patient_cb cb, void *ctx)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  struct vg_patient p;
  sqlite3_stmt *st;
  int stop = 0, rc = sq_stmt(t->conn, ST_PATIENT_LIST, &st);
  if (rc < 0)
    return rc;
  sqlite3_bind_int64(st, 1, after_id);
  sqlite3_bind_int64(st, 2, sq_limit(limit));
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    row_patient(st, &p);
    stop = cb(ctx, &p);
    if (stop)
      break;
  }
  return sq_list_end(t, st, rc, stop, "patient_list");
}

static int sq_device_create(struct vg_txn *vt, struct vg_device *d)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  sqlite3_stmt *st;
  int64_t now = vg_now_ms();
  int rc = sq_stmt(t->conn, ST_DEVICE_INSERT, &st);
  if (rc < 0)
    return rc;
  if (!d->serial[0])
    return -VG_EINVAL;
  bind_field(st, 1, d->serial, sizeof d->serial, 0);
  bind_field(st, 2, d->kind, sizeof d->kind, 0);
  if (d->patient_id > 0)
    sqlite3_bind_int64(st, 3, d->patient_id);
  else
    sqlite3_bind_null(st, 3);
  sqlite3_bind_int64(st, 4, now);
  sqlite3_bind_int64(st, 5, d->last_seen_ms);
  rc = sqlite3_step(st);
  sqlite3_clear_bindings(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE)
    return sq_err(t->conn, rc, "device_create");
  d->id = sqlite3_last_insert_rowid(t->conn->db);
  d->created_ms = now;
  if (d->patient_id < 0)
    d->patient_id = 0;
  return 0;
}

static int device_one(struct sq_txn *t, sqlite3_stmt *st,
                      struct vg_device *out)
{
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    row_device(st, out);
  return sq_one_end(t, st, rc, "device_get");
}

static int sq_device_get(struct vg_txn *vt, int64_t id, struct vg_device *out)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  sqlite3_stmt *st;
  int rc = sq_stmt(t->conn, ST_DEVICE_GET, &st);
  if (rc < 0)
    return rc;
  sqlite3_bind_int64(st, 1, id);
  return device_one(t, st, out);
}

static int sq_device_by_serial(struct vg_txn *vt, const char *serial,
                               struct vg_device *out)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  sqlite3_stmt *st;
  int rc = sq_stmt(t->conn, ST_DEVICE_BY_SERIAL, &st);
  if (rc < 0)
    return rc;
  sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
  return device_one(t, st, out); /* unbinds the borrowed serial */
}

static int sq_device_list(struct vg_txn *vt, int64_t after_id, size_t limit,
                          vg_device_cb cb, void *ctx)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  struct vg_device d;
  sqlite3_stmt *st;
  int stop = 0, rc = sq_stmt(t->conn, ST_DEVICE_LIST, &st);
  if (rc < 0)
    return rc;
  sqlite3_bind_int64(st, 1, after_id);
  sqlite3_bind_int64(st, 2, sq_limit(limit));
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    row_device(st, &d);
    stop = cb(ctx, &d);
    if (stop)
      break;
  }
  return sq_list_end(t, st, rc, stop, "device_list");
}

/* ==== readings ========================================================== */

/* The hot path: one cached INSERT OR IGNORE per row; a duplicate key
 * changes nothing, so sqlite3_changes() tells accepted from duplicate. */
static int sq_readings_insert(struct vg_txn *vt, const struct vg_reading *r,
                              size_t n, unsigned char *out_status)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  sqlite3 *db = t->conn->db;
  sqlite3_stmt *st;
  int64_t now = vg_now_ms();
  size_t i;
  int rc = sq_stmt(t->conn, ST_READING_INSERT, &st);
  if (rc < 0)
    return rc;
  sqlite3_bind_int64(st, 8, now);
  for (i = 0; i < n; i++) {
    const struct vg_reading *x = &r[i];
    sqlite3_bind_int64(st, 1, x->patient_id);
    sqlite3_bind_int(st, 2, x->code);
    sqlite3_bind_int64(st, 3, x->ts_ms);
    sqlite3_bind_text(st, 4, x->source ? x->source : "", -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 5, x->value);
    sqlite3_bind_text(st, 6, x->unit ? x->unit : "", -1, SQLITE_STATIC);
    if (x->tz_offset_min == VG_TZ_UNKNOWN)
      sqlite3_bind_null(st, 7);
    else
      sqlite3_bind_int(st, 7, x->tz_offset_min);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
      rc = sq_err(t->conn, rc, "readings_insert");
      sqlite3_clear_bindings(st);
      return rc;
    }
    out_status[i] =
        sqlite3_changes(db) ? VG_INS_ACCEPTED : VG_INS_DUPLICATE;
  }
  sqlite3_clear_bindings(st); /* the strings were borrowed */
  return 0;
}

static int sq_readings_query(struct vg_txn *vt,
                             const struct vg_reading_query *q,
                             vg_reading_cb cb, void *ctx)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  struct vg_reading r;
  sqlite3_stmt *st;
  int stop = 0, rc;
  int id = ST_READING_QUERY + (q->code ? 1 : 0) + (q->has_cursor ? 2 : 0);

  rc = sq_stmt(t->conn, (enum sq_stmt)id, &st);
  if (rc < 0)
    return rc;
  sqlite3_bind_int64(st, 1, q->patient_id);
  sqlite3_bind_int64(st, 2, q->from_ms);
  sqlite3_bind_int64(st, 3, q->to_ms);
  if (q->code)
    sqlite3_bind_int(st, 4, q->code);
  if (q->has_cursor) {
    sqlite3_bind_int(st, 5, q->after_code);
    sqlite3_bind_int64(st, 6, q->after_ts_ms);
    sqlite3_bind_text(st, 7, q->after_source, -1, SQLITE_STATIC);
  }
  sqlite3_bind_int64(st, 8, sq_limit(q->limit));
  memset(&r, 0, sizeof r);
  r.patient_id = q->patient_id;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    r.code = sqlite3_column_int(st, 0);
    r.ts_ms = sqlite3_column_int64(st, 1);
    r.source = (const char *)sqlite3_column_text(st, 2);
    r.value = sqlite3_column_double(st, 3);
    r.unit = (const char *)sqlite3_column_text(st, 4);
    if (!r.source || !r.unit) {
      rc = SQLITE_NOMEM;
      break;
    }
    r.tz_offset_min = sqlite3_column_type(st, 5) == SQLITE_NULL
                          ? VG_TZ_UNKNOWN
                          : (int16_t)sqlite3_column_int(st, 5);
    stop = cb(ctx, &r);
    if (stop)
      break;
  }
  return sq_list_end(t, st, rc, stop, "readings_query");
}

static int sq_readings_buckets(struct vg_txn *vt,
                               const struct vg_reading_query *q,
                               int64_t bucket_ms, vg_bucket_cb cb, void *ctx)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  struct vg_bucket b;
  sqlite3_stmt *st;
  int stop = 0, rc = sq_stmt(t->conn, q->code ? ST_BUCKETS_CODE : ST_BUCKETS,
                             &st);
  if (rc < 0)
    return rc;
  sqlite3_bind_int64(st, 1, q->patient_id);
  sqlite3_bind_int64(st, 2, q->from_ms);
  sqlite3_bind_int64(st, 3, q->to_ms);
  sqlite3_bind_int64(st, 4, bucket_ms);
  if (q->code)
    sqlite3_bind_int(st, 5, q->code);
  sqlite3_bind_int64(st, 8, sq_limit(q->limit));
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    b.code = sqlite3_column_int(st, 0);
    b.start_ms = sqlite3_column_int64(st, 1);
    b.min = sqlite3_column_double(st, 2);
    b.mean = sqlite3_column_double(st, 3);
    b.max = sqlite3_column_double(st, 4);
    b.n = sqlite3_column_int64(st, 5);
    stop = cb(ctx, &b);
    if (stop)
      break;
  }
  return sq_list_end(t, st, rc, stop, "readings_buckets");
}

/* ==== principals, tokens, audit ========================================= */

static void row_user(sqlite3_stmt *st, struct vg_user *u)
{
  memset(u, 0, sizeof *u);
  u->id = sqlite3_column_int64(st, 0);
  col_text(st, 1, u->username, sizeof u->username);
  col_text(st, 2, u->role, sizeof u->role);
  u->org_id = sqlite3_column_int64(st, 3);
  u->patient_id = sqlite3_column_int64(st, 4);
  u->device_id = sqlite3_column_int64(st, 5);
  col_text(st, 6, u->pw_hash, sizeof u->pw_hash);
  col_text(st, 7, u->scopes, sizeof u->scopes);
  u->disabled = sqlite3_column_int(st, 8);
  u->failed_logins = sqlite3_column_int(st, 9);
  u->locked_until_ms = sqlite3_column_int64(st, 10);
  u->created_ms = sqlite3_column_int64(st, 11);
  u->updated_ms = sqlite3_column_int64(st, 12);
}

static void row_token(sqlite3_stmt *st, struct vg_token *k)
{
  memset(k, 0, sizeof *k);
  k->id = sqlite3_column_int64(st, 0);
  col_text(st, 1, k->hash, sizeof k->hash);
  k->user_id = sqlite3_column_int64(st, 2);
  col_text(st, 3, k->kind, sizeof k->kind);
  col_text(st, 4, k->scopes, sizeof k->scopes);
  k->created_ms = sqlite3_column_int64(st, 5);
  k->expires_ms = sqlite3_column_int64(st, 6);
  k->revoked_ms = sqlite3_column_int64(st, 7);
}

static void row_audit(sqlite3_stmt *st, struct vg_audit *e)
{
  memset(e, 0, sizeof *e);
  e->id = sqlite3_column_int64(st, 0);
  e->ts_ms = sqlite3_column_int64(st, 1);
  e->user_id = sqlite3_column_int64(st, 2);
  col_text(st, 3, e->username, sizeof e->username);
  col_text(st, 4, e->role, sizeof e->role);
  col_text(st, 5, e->action, sizeof e->action);
  col_text(st, 6, e->resource, sizeof e->resource);
  e->patient_id = sqlite3_column_int64(st, 7);
  e->outcome = sqlite3_column_int(st, 8);
  col_text(st, 9, e->source, sizeof e->source);
  col_text(st, 10, e->request_id, sizeof e->request_id);
  col_text(st, 11, e->prev_hash, sizeof e->prev_hash);
  col_text(st, 12, e->hash, sizeof e->hash);
}

static void bind_id_or_null(sqlite3_stmt *st, int i, int64_t id)
{
  if (id > 0)
    sqlite3_bind_int64(st, i, id);
  else
    sqlite3_bind_null(st, i);
}

/* Columns 2..10 of app_user in the order of ST_USER_INSERT/UPDATE. */
static void bind_user(sqlite3_stmt *st, const struct vg_user *u)
{
  bind_field(st, 2, u->role, sizeof u->role, 0);
  sqlite3_bind_int64(st, 3, u->org_id);
  bind_id_or_null(st, 4, u->patient_id);
  bind_id_or_null(st, 5, u->device_id);
  bind_field(st, 6, u->pw_hash, sizeof u->pw_hash, 0);
  bind_field(st, 7, u->scopes, sizeof u->scopes, 0);
  sqlite3_bind_int(st, 8, u->disabled ? 1 : 0);
  sqlite3_bind_int(st, 9, u->failed_logins);
  sqlite3_bind_int64(st, 10, u->locked_until_ms);
}

/* Step a statement without rows; reset and unbind it. */
static int sq_step_done(struct sq_txn *t, sqlite3_stmt *st, const char *what)
{
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (rc != SQLITE_DONE)
    return sq_err(t->conn, rc, what);
  return 0;
}

static int sq_user_create(struct vg_txn *vt, struct vg_user *u)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  sqlite3_stmt *st;
  int64_t now = vg_now_ms();
  int rc = sq_stmt(t->conn, ST_USER_INSERT, &st);
  if (rc < 0)
    return rc;
  if (!u->username[0])
    return -VG_EINVAL;
  bind_field(st, 1, u->username, sizeof u->username, 0);
  bind_user(st, u);
  sqlite3_bind_int64(st, 11, now);
  rc = sq_step_done(t, st, "user_create");
  if (rc < 0)
    return rc;
  u->id = sqlite3_last_insert_rowid(t->conn->db);
  u->created_ms = u->updated_ms = now;
  return 0;
}

static int user_one(struct sq_txn *t, sqlite3_stmt *st, struct vg_user *out)
{
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    row_user(st, out);
  return sq_one_end(t, st, rc, "user_get");
}

static int sq_user_get(struct vg_txn *vt, int64_t id, struct vg_user *out)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  sqlite3_stmt *st;
  int rc = sq_stmt(t->conn, ST_USER_GET, &st);
  if (rc < 0)
    return rc;
  sqlite3_bind_int64(st, 1, id);
  return user_one(t, st, out);
}

static int sq_user_by_name(struct vg_txn *vt, const char *username,
                           struct vg_user *out)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  sqlite3_stmt *st;
  int rc = sq_stmt(t->conn, ST_USER_BY_NAME, &st);
  if (rc < 0)
    return rc;
  sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
  return user_one(t, st, out);
}

static int sq_user_update(struct vg_txn *vt, const struct vg_user *u)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  sqlite3_stmt *st;
  int rc = sq_stmt(t->conn, ST_USER_UPDATE, &st);
  if (rc < 0)
    return rc;
  sqlite3_bind_int64(st, 1, u->id);
  bind_user(st, u);
  sqlite3_bind_int64(st, 11, vg_now_ms());
  rc = sq_step_done(t, st, "user_update");
  if (rc < 0)
    return rc;
  return sqlite3_changes(t->conn->db) ? 0 : -VG_ENOTFOUND;
}

static int sq_token_create(struct vg_txn *vt, struct vg_token *k)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  sqlite3_stmt *st;
  int64_t now = vg_now_ms();
  int rc = sq_stmt(t->conn, ST_TOKEN_INSERT, &st);
  if (rc < 0)
    return rc;
  if (strnlen(k->hash, sizeof k->hash) != VG_HASH_HEX - 1)
    return -VG_EINVAL;
  bind_field(st, 1, k->hash, sizeof k->hash, 0);
  sqlite3_bind_int64(st, 2, k->user_id);
  bind_field(st, 3, k->kind, sizeof k->kind, 0);
  bind_field(st, 4, k->scopes, sizeof k->scopes, 0);
  sqlite3_bind_int64(st, 5, now);
  sqlite3_bind_int64(st, 6, k->expires_ms);
  rc = sq_step_done(t, st, "token_create");
  if (rc < 0)
    return rc;
  k->id = sqlite3_last_insert_rowid(t->conn->db);
  k->created_ms = now;
  k->revoked_ms = 0;
  return 0;
}

static int sq_token_by_hash(struct vg_txn *vt, const char *hash,
                            struct vg_token *out)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  sqlite3_stmt *st;
  int rc = sq_stmt(t->conn, ST_TOKEN_BY_HASH, &st);
  if (rc < 0)
    return rc;
  sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    row_token(st, out);
  return sq_one_end(t, st, rc, "token_by_hash");
}

static int sq_token_revoke(struct vg_txn *vt, int64_t id, int64_t now_ms)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  sqlite3_stmt *st;
  int rc = sq_stmt(t->conn, ST_TOKEN_REVOKE, &st);
  if (rc < 0)
    return rc;
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int64(st, 2, now_ms);
  rc = sq_step_done(t, st, "token_revoke");
  if (rc < 0)
    return rc;
  return sqlite3_changes(t->conn->db) ? 0 : -VG_ENOTFOUND;
}

/* The one-writer mutex already serialises appenders on this node, and a
 * SQLite file has one writer. */
static int sq_audit_tail(struct vg_txn *vt, struct vg_audit *out)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  sqlite3_stmt *st;
  int rc = sq_stmt(t->conn, ST_AUDIT_TAIL, &st);
  if (rc < 0)
    return rc;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    row_audit(st, out);
  return sq_one_end(t, st, rc, "audit_tail");
}

static int sq_audit_append(struct vg_txn *vt, const struct vg_audit *e)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  sqlite3_stmt *st;
  int rc = sq_stmt(t->conn, ST_AUDIT_INSERT, &st);
  if (rc < 0)
    return rc;
  sqlite3_bind_int64(st, 1, e->id);
  sqlite3_bind_int64(st, 2, e->ts_ms);
  sqlite3_bind_int64(st, 3, e->user_id);
  bind_field(st, 4, e->username, sizeof e->username, 0);
  bind_field(st, 5, e->role, sizeof e->role, 0);
  bind_field(st, 6, e->action, sizeof e->action, 0);
  bind_field(st, 7, e->resource, sizeof e->resource, 0);
  sqlite3_bind_int64(st, 8, e->patient_id);
  sqlite3_bind_int(st, 9, e->outcome);
  bind_field(st, 10, e->source, sizeof e->source, 0);
  bind_field(st, 11, e->request_id, sizeof e->request_id, 0);
  bind_field(st, 12, e->prev_hash, sizeof e->prev_hash, 0);
  bind_field(st, 13, e->hash, sizeof e->hash, 0);
  return sq_step_done(t, st, "audit_append");
}

static int sq_audit_list(struct vg_txn *vt, const struct vg_audit_query *q,
                         vg_audit_cb cb, void *ctx)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  struct vg_audit e;
  sqlite3_stmt *st;
  int stop = 0, rc = sq_stmt(t->conn, ST_AUDIT_LIST, &st);
  if (rc < 0)
    return rc;
  sqlite3_bind_int64(st, 1, q->after_id);
  sqlite3_bind_int64(st, 2, q->patient_id);
  sqlite3_bind_int64(st, 3, q->user_id);
  sqlite3_bind_int64(st, 4, q->from_ms);
  sqlite3_bind_int64(st, 5, q->to_ms);
  sqlite3_bind_int64(st, 6, sq_limit(q->limit));
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    row_audit(st, &e);
    stop = cb(ctx, &e);
    if (stop)
      break;
  }
  return sq_list_end(t, st, rc, stop, "audit_list");
}

/* ==== portable SQL (store_sql) ========================================== */

static int sq_adhoc(struct sq_conn *c, const char *sql, sqlite3_stmt **out)
{
  unsigned slot;
  int rc;
  for (slot = 0; slot < SQ_ADHOC_MAX && c->adhoc[slot]; slot++) {
    if (strcmp(sqlite3_sql(c->adhoc[slot]), sql) == 0) {
      *out = c->adhoc[slot];
      return 0;
    }
  }
  if (slot == SQ_ADHOC_MAX) { /* full: evict round-robin */
    slot = c->adhoc_next++ % SQ_ADHOC_MAX;
    sqlite3_finalize(c->adhoc[slot]);
    c->adhoc[slot] = NULL;
  }
  rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                          &c->adhoc[slot], NULL);
  if (rc != SQLITE_OK)
    return sq_err(c, rc, "prepare");
  *out = c->adhoc[slot];
  return 0;
}

/* Bind $1..$N by name: SQLite numbers parameters by first appearance. */
static int sq_bind_vals(sqlite3_stmt *st, const struct vg_val *p, size_t n)
{
  char name[16];
  for (size_t i = 0; i < n; i++) {
    int idx;
    snprintf(name, sizeof name, "$%zu", i + 1);
    idx = sqlite3_bind_parameter_index(st, name);
    if (idx == 0)
      return -VG_EINVAL; /* a parameter the statement does not use */
    switch (p[i].type) {
    case VG_VAL_NULL: sqlite3_bind_null(st, idx); break;
    case VG_VAL_INT: sqlite3_bind_int64(st, idx, p[i].i); break;
    case VG_VAL_REAL: sqlite3_bind_double(st, idx, p[i].d); break;
    case VG_VAL_TEXT:
      sqlite3_bind_text(st, idx, p[i].s ? p[i].s : "", (int)p[i].len,
                        SQLITE_STATIC);
      break;
    }
  }
  return sqlite3_bind_parameter_count(st) == (int)n ? 0 : -VG_EINVAL;
}

#define SQ_COLS_MAX 64

static int sq_sql_run(struct vg_txn *vt, const char *sql,
                      const struct vg_val *params, size_t n_params,
                      vg_row_cb cb, void *ctx, int64_t *out_changes)
{
  struct sq_txn *t = (struct sq_txn *)vt;
  struct vg_val cols[SQ_COLS_MAX];
  sqlite3_stmt *st;
  int rc, stop = 0, n_cols;
  rc = sq_adhoc(t->conn, sql, &st);
  if (rc < 0)
    return rc;
  n_cols = sqlite3_column_count(st);
  if (n_cols > SQ_COLS_MAX)
    return -VG_EINVAL;
  rc = sq_bind_vals(st, params, n_params);
  if (rc < 0) {
    sqlite3_clear_bindings(st);
    return rc;
  }
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    for (int i = 0; i < n_cols; i++) {
      memset(&cols[i], 0, sizeof cols[i]);
      switch (sqlite3_column_type(st, i)) {
      case SQLITE_NULL: cols[i].type = VG_VAL_NULL; break;
      case SQLITE_INTEGER:
        cols[i].type = VG_VAL_INT;
        cols[i].i = sqlite3_column_int64(st, i);
        break;
      case SQLITE_FLOAT:
        cols[i].type = VG_VAL_REAL;
        cols[i].d = sqlite3_column_double(st, i);
        break;
      default:
        cols[i].type = VG_VAL_TEXT;
        cols[i].s = (const char *)sqlite3_column_text(st, i);
        cols[i].len = (size_t)sqlite3_column_bytes(st, i);
        break;
      }
    }
    stop = cb ? cb(ctx, cols, (size_t)n_cols) : 0;
    if (stop)
      break;
  }
  if (!stop && rc != SQLITE_DONE)
    rc = sq_err(t->conn, rc, "sql");
  else
    rc = stop;
  if (out_changes && rc == 0)
    *out_changes = sqlite3_changes64(t->conn->db);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc;
}

/* ==== the vtable ======================================================== */

const struct vg_store_ops store_sqlite_ops = {
  .name = "sqlite",
  .version = 3,
  .caps = VG_STORE_CAP_SAVEPOINT,
  .open = sq_open,
  .close = sq_close,
  .migrate = sq_migrate,
  .begin = sq_begin,
  .commit = sq_commit,
  .rollback = sq_rollback,
  .savepoint = sq_savepoint,
  .release = sq_release,
  .rollback_to = sq_rollback_to,
  .patient_create = sq_patient_create,
  .patient_get = sq_patient_get,
  .patient_list = sq_patient_list,
  .device_create = sq_device_create,
  .device_get = sq_device_get,
  .device_by_serial = sq_device_by_serial,
  .device_list = sq_device_list,
  .readings_insert = sq_readings_insert,
  .readings_query = sq_readings_query,
  .readings_buckets = sq_readings_buckets,
  .user_create = sq_user_create,
  .user_get = sq_user_get,
  .user_by_name = sq_user_by_name,
  .user_update = sq_user_update,
  .token_create = sq_token_create,
  .token_by_hash = sq_token_by_hash,
  .token_revoke = sq_token_revoke,
  .audit_tail = sq_audit_tail,
  .audit_append = sq_audit_append,
  .audit_list = sq_audit_list,
  .sql = sq_sql_run,
};
