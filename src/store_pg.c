/* store_pg.c - the "pg" store backend (PostgreSQL via libpq): one writer
 * connection and a pool of read connections, statements prepared per
 * connection on first use, one retry loop for serialisation failures and
 * deadlocks, reconnect on next use after a lost connection, numbered
 * migrations, and monthly partitions of reading made ahead and on demand. */
#include <libpq-fe.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "core_alloc.h"
#include "core_buf.h"
#include "core_errors.h"
#include "core_log.h"
#include "core_time.h"
#include "store.h"
#include "store_sql.h"

#define PG_READ_CONNS_MAX 64
/* Attempts of a statement that failed with 40001 or 40P01. */
#define PG_RETRY_MAX 5
/* How long partition upkeep waits for a lock before giving up (the rows
 * then stay in the default partition until the next try). */
#define PG_PART_LOCK_TIMEOUT "500ms"
/* On-demand partitions cover months from now - BACK to now + AHEAD; rows
 * outside go to the default partition (bounds the number of partitions a
 * stray timestamp can create). Made ahead at open: now - 1 .. now + 2. */
#define PG_PART_BACK_MONTHS 36
#define PG_PART_AHEAD_MONTHS 3
#define PG_PART_KNOWN_MAX 64
#define PG_PART_RETRY_MS 30000
/* Arrays or COPY text of one readings_insert call, bytes (20000 rows need
 * ~1.5 MiB). */
#define PG_ARRAY_CAP (256u << 20)
/* Batches of at least this many readings try COPY first, smaller ones a
 * plain INSERT (see READING_INSERT_NEW: COPY costs one more round trip). */
#define PG_COPY_MIN 64
/* Fixed advisory lock key of the migrator ("vg" + 0: any constant works). */
#define PG_MIGRATE_LOCK "1986461696"

/* ==== statements ======================================================== */

enum pg_stmt {
  ST_PATIENT_INSERT,
  ST_PATIENT_GET,
  ST_PATIENT_LIST,
  ST_DEVICE_INSERT,
  ST_DEVICE_GET,
  ST_DEVICE_BY_SERIAL,
  ST_DEVICE_LIST,
  ST_READING_INSERT,
  ST_READING_INSERT_NEW,
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
  ST_AUDIT_LOCK,
  ST_AUDIT_TAIL,
  ST_AUDIT_INSERT,
  ST_AUDIT_LIST,
  ST_COUNT /* at most 32: conn.prepared is a bit set */
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
/* Fixed advisory lock key of the audit appenders ("vg" + 2). */
#define PG_AUDIT_LOCK "1986461698"
#define READING_Q \
  "SELECT code, ts_ms, source, value, unit, tz_offset_min FROM reading " \
  "WHERE patient_id = $1 AND ts_ms >= $2 AND ts_ms < $3"
#define READING_ORDER " ORDER BY code, ts_ms, source LIMIT $8"
#define CURSOR " AND (code, ts_ms, source) > ($5, $6, $7)"
/* Epoch-aligned bucket start, floor division also before 1970. */
#define BUCKET_START "(ts_ms - ((ts_ms % $4) + $4) % $4)"
#define BUCKETS_Q(filter) \
  "SELECT code, " BUCKET_START " AS start, min(value), avg(value), " \
  "max(value), count(*) FROM reading WHERE patient_id = $1 AND ts_ms >= $2 " \
  "AND ts_ms < $3" filter " GROUP BY code, start ORDER BY code, start " \
  "LIMIT $6"

/* The batch insert, one round trip: the rows travel as arrays; DISTINCT ON
 * keeps the first of equal keys in the batch (seq order), rows go in key
 * order (so two nodes writing the same keys lock them in the same order),
 * and the seq of every row that went in comes back. Rows not returned were
 * duplicates. Measured against COPY into a staging table in bench_pg.c. */
#define READING_INSERT \
  "WITH src AS (SELECT u.patient_id, u.code, u.ts_ms, " \
  "u.source COLLATE \"C\" AS source, u.value, u.unit, u.tz, u.seq " \
  "FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::text[], " \
  "$5::float8[], $6::text[], $7::smallint[]) WITH ORDINALITY " \
  "AS u(patient_id, code, ts_ms, source, value, unit, tz, seq)), " \
  "ins AS (INSERT INTO reading (patient_id, code, ts_ms, source, value, " \
  "unit, tz_offset_min, ingested_ms) SELECT DISTINCT ON (patient_id, code, " \
  "ts_ms, source) patient_id, code, ts_ms, source, value, unit, tz, $8 " \
  "FROM src ORDER BY patient_id, code, ts_ms, source, seq " \
  "ON CONFLICT DO NOTHING RETURNING patient_id, code, ts_ms, source) " \
  "SELECT min(src.seq) FROM ins JOIN src USING (patient_id, code, ts_ms, " \
  "source) GROUP BY patient_id, code, ts_ms, source"

/* The optimistic forms, tried first: every row accepted. Any existing or
 * repeated key fails them with 23505 (rolled back to their savepoint), and
 * then READING_INSERT runs. New data is the common case, and skipping ON
 * CONFLICT's speculative insertion, the sort and the join roughly halves
 * the server's work (bench_pg.c). Small batches: a plain INSERT of the
 * arrays, one round trip with its savepoint. From PG_COPY_MIN rows: COPY
 * straight into reading (copy_new below), two round trips, but the
 * server fills pages with multi-row inserts and parses no arrays. */
#define READING_INSERT_NEW \
  "INSERT INTO reading (patient_id, code, ts_ms, source, value, unit, " \
  "tz_offset_min, ingested_ms) SELECT u.*, $8 FROM unnest($1::bigint[], " \
  "$2::int[], $3::bigint[], $4::text[], $5::float8[], $6::text[], " \
  "$7::smallint[]) AS u"
#define READING_COPY \
  "SAVEPOINT vg_copy; COPY reading (patient_id, code, ts_ms, source, " \
  "value, unit, tz_offset_min, ingested_ms) FROM STDIN"

struct pg_stmt_def {
  const char *sql;
  const char *types; /* one char per parameter: 8 int8, 4 int4, t text,
                        ? inferred from the SQL */
  int writes;        /* runs inside the retry loop in a WRITE txn */
};

static const struct pg_stmt_def pg_sql[ST_COUNT] = {
  [ST_PATIENT_INSERT] = {
      "INSERT INTO patient (identifier, name, sex, birth_date, tz, "
      "created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $6) "
      "RETURNING id", "ttttt8", 1 },
  [ST_PATIENT_GET] = { "SELECT " PATIENT_COLS " FROM patient WHERE id = $1",
                       "8", 0 },
  [ST_PATIENT_LIST] = { "SELECT " PATIENT_COLS " FROM patient WHERE id > $1 "
                        "ORDER BY id LIMIT $2", "88", 0 },
  [ST_DEVICE_INSERT] = {
      "INSERT INTO device (serial, kind, patient_id, created_ms, "
      "last_seen_ms) VALUES ($1, $2, $3, $4, $5) RETURNING id", "tt888", 1 },
  [ST_DEVICE_GET] = { "SELECT " DEVICE_COLS " FROM device WHERE id = $1", "8",
                      0 },
  [ST_DEVICE_BY_SERIAL] = { "SELECT " DEVICE_COLS
                            " FROM device WHERE serial = $1", "t", 0 },
  [ST_DEVICE_LIST] = { "SELECT " DEVICE_COLS " FROM device WHERE id > $1 "
                       "ORDER BY id LIMIT $2", "88", 0 },
  [ST_READING_INSERT] = { READING_INSERT, "???????8", 1 },
  [ST_READING_INSERT_NEW] = { READING_INSERT_NEW, "???????8", 1 },
  [ST_READING_QUERY] = { READING_Q READING_ORDER, "888448t8", 0 },
  [ST_READING_QUERY_CODE] = { READING_Q " AND code = $4" READING_ORDER,
                              "888448t8", 0 },
  [ST_READING_QUERY_CURSOR] = { READING_Q CURSOR READING_ORDER, "888448t8",
                                0 },
  [ST_READING_QUERY_CODE_CURSOR] = {
      READING_Q " AND code = $4" CURSOR READING_ORDER, "888448t8", 0 },
  [ST_BUCKETS] = { BUCKETS_Q(""), "888848", 0 },
  [ST_BUCKETS_CODE] = { BUCKETS_Q(" AND code = $5"), "888848", 0 },
  [ST_USER_INSERT] = {
      "INSERT INTO app_user (username, role, org_id, patient_id, device_id, "
      "pw_hash, scopes, disabled, failed_logins, locked_until_ms, "
      "created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
      "$10, $11, $11) RETURNING id", "tt888tt4488", 1 },
  [ST_USER_GET] = { "SELECT " USER_COLS " FROM app_user WHERE id = $1", "8",
                    0 },
  [ST_USER_BY_NAME] = { "SELECT " USER_COLS
                        " FROM app_user WHERE username = $1", "t", 0 },
  [ST_USER_UPDATE] = {
      "UPDATE app_user SET role = $2, org_id = $3, patient_id = $4, "
      "device_id = $5, pw_hash = $6, scopes = $7, disabled = $8, "
      "failed_logins = $9, locked_until_ms = $10, updated_ms = $11 "
      "WHERE id = $1 RETURNING id", "8t888tt4488", 1 },
  [ST_TOKEN_INSERT] = {
      "INSERT INTO token (hash, user_id, kind, scopes, created_ms, "
      "expires_ms) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id", "t8tt88",
      1 },
  [ST_TOKEN_BY_HASH] = { "SELECT " TOKEN_COLS " FROM token WHERE hash = $1",
                         "t", 0 },
  [ST_TOKEN_REVOKE] = { "UPDATE token SET revoked_ms = $2 WHERE id = $1 "
                        "AND revoked_ms = 0 RETURNING id", "88", 1 },
  [ST_AUDIT_LOCK] = { "SELECT pg_advisory_xact_lock(" PG_AUDIT_LOCK ")", "",
                      0 },
  [ST_AUDIT_TAIL] = { "SELECT " AUDIT_COLS
                      " FROM audit_event ORDER BY id DESC LIMIT 1", "", 0 },
  [ST_AUDIT_INSERT] = {
      "INSERT INTO audit_event (" AUDIT_COLS ") VALUES ($1, $2, $3, $4, $5, "
      "$6, $7, $8, $9, $10, $11, $12, $13)", "888tttt84tttt", 1 },
  [ST_AUDIT_LIST] = {
      "SELECT " AUDIT_COLS " FROM audit_event WHERE id > $1 "
      "AND ($2 = 0 OR patient_id = $2) AND ($3 = 0 OR user_id = $3) "
      "AND ts_ms >= $4 AND ($5 = 0 OR ts_ms < $5) ORDER BY id LIMIT $6",
      "888888", 0 },
};

/* ==== connections and transactions ====================================== */

/* Statements of store_sql(), prepared as "vq<slot>" and cached by text. */
#define PG_ADHOC_MAX 128

/* Savepoint commands wait in pg_conn.pending and go with the next
 * statement, in its round trip: a writer job's SAVEPOINT, its RELEASE and
 * the RELEASE after a COPY cost no round trip of their own. */
#define PG_PENDING_MAX 8
static const char SQL_SP[] = "SAVEPOINT vg_sp";
static const char SQL_SP_RELEASE[] = "RELEASE SAVEPOINT vg_sp";
static const char SQL_COPY_RELEASE[] = "RELEASE SAVEPOINT vg_copy";

struct pg_conn {
  PGconn *c;
  const char *pending[PG_PENDING_MAX]; /* SQL_* commands not sent yet */
  int n_pending;
  unsigned prepared; /* bit per enum pg_stmt; cleared on reconnect */
  char *adhoc[PG_ADHOC_MAX]; /* statement text per slot (vg_malloc'd) */
  int adhoc_nparams[PG_ADHOC_MAX];
  unsigned adhoc_next;
};

static void adhoc_clear(struct pg_conn *c)
{
  for (int i = 0; i < PG_ADHOC_MAX; i++) {
    vg_free(c->adhoc[i]);
    c->adhoc[i] = NULL;
  }
}

/* One preallocated transaction object per connection, as in the sqlite
 * backend: begin never allocates. */
struct pg_txn {
  struct vg_txn pub; /* first: a vg_txn * is a pg_txn * */
  struct pg_conn *conn;
  int depth;     /* open savepoints */
  int pool_slot; /* read pool index, -1 for the writer */
};

struct pg_store {
  char url[VG_CFG_STR_MAX];
  struct pg_conn wconn;
  struct pg_txn wtxn;
  pthread_mutex_t wlock; /* held from begin(WRITE) to commit/rollback */

  struct pg_conn *rconn;
  struct pg_txn *rtxn;
  unsigned char *rbusy;
  int n_read;
  pthread_mutex_t rlock;
  pthread_cond_t rfree;

  /* Partition upkeep; touched only by the writer (under wlock). Months are
   * counted as year * 12 + (month - 1). */
  int part_known[PG_PART_KNOWN_MAX];
  int n_part_known;
  int part_pending[PG_PART_KNOWN_MAX];
  int n_part_pending;
  int64_t part_retry_ms;      /* no upkeep before this time */
  int64_t part_lo_ms, part_hi_ms; /* a month known to exist (fast path) */
};

static struct pg_store *pg_of(struct vg_store *s)
{
  return s->ctx;
}

static const char *sqlstate(const PGresult *r)
{
  const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  return s ? s : "";
}

/* 40001 serialization_failure, 40P01 deadlock_detected. */
static int retryable(const PGresult *r)
{
  const char *s = sqlstate(r);
  return strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0;
}

/* The -VG_E* for a failed result (or a NULL one: out of memory or a lost
 * connection). Lost connections are -VG_ESTORE; begin reconnects. */
static int pg_err(struct pg_conn *c, const PGresult *r, const char *what)
{
  const char *s = sqlstate(r);
  if (strcmp(s, "23505") == 0)
    return -VG_ECONFLICT; /* unique_violation */
  if (strcmp(s, "23503") == 0)
    return -VG_ENOTFOUND; /* foreign_key_violation */
  if (s[0] == '2' && (s[1] == '2' || s[1] == '3'))
    return -VG_EINVAL; /* data exception, other integrity violations */
  vg_error("store_pg", "op=%s sqlstate=%s lost=%d err=\"%.200s\"", what,
           s[0] ? s : "-", PQstatus(c->c) != CONNECTION_OK,
           r ? PQresultErrorMessage(r) : PQerrorMessage(c->c));
  return -VG_ESTORE;
}

/* PQexec(sql) with the pending commands in front, in one round trip (sql
 * NULL: only them). The result is the first failure, or else the last
 * statement's. */
static PGresult *exec_pending(struct pg_conn *c, const char *sql)
{
  struct vg_buf q;
  PGresult *r;
  int i;
  if (c->n_pending == 0)
    return PQexec(c->c, sql);
  buf_init(&q, 1u << 20);
  for (i = 0; i < c->n_pending; i++) {
    buf_puts(&q, i ? "; " : "");
    buf_puts(&q, c->pending[i]);
  }
  if (sql) {
    buf_puts(&q, "; ");
    buf_puts(&q, sql);
  }
  c->n_pending = 0;
  r = q.err ? NULL : PQexec(c->c, q.data);
  buf_free(&q);
  return r;
}

/* Run SQL without parameters or rows (BEGIN, COMMIT, SAVEPOINT, ...),
 * after the pending commands. */
static int pg_exec(struct pg_conn *c, const char *sql)
{
  PGresult *r = exec_pending(c, sql);
  int rc = 0;
  if (PQresultStatus(r) != PGRES_COMMAND_OK &&
      PQresultStatus(r) != PGRES_TUPLES_OK)
    rc = pg_err(c, r, sql ? sql : "savepoint");
  PQclear(r);
  return rc;
}

/* Send the pending commands now. */
static int pend_flush(struct pg_conn *c)
{
  return c->n_pending ? pg_exec(c, NULL) : 0;
}

/* Queue a savepoint command for the next round trip. */
static int pend(struct pg_conn *c, const char *sql)
{
  int rc;
  if (c->n_pending == PG_PENDING_MAX) {
    rc = pend_flush(c);
    if (rc < 0)
      return rc;
  }
  c->pending[c->n_pending++] = sql;
  return 0;
}

/* libpq prints NOTICEs on stderr by default; Vigil logs only its own. */
static void pg_notice(void *arg, const char *msg)
{
  (void)arg;
  vg_debug("store_pg.notice", "msg=\"%.200s\"", msg);
}

static int conn_open(struct pg_conn *c, const char *url)
{
  /* URL values win except these (expand_dbname parses the URL first). */
  const char *const keys[] = { "dbname", "application_name",
                               "connect_timeout", NULL };
  const char *const vals[] = { url, "vigil", "5", NULL };
  memset(c, 0, sizeof *c);
  c->c = PQconnectdbParams(keys, vals, 1);
  if (!c->c)
    return -VG_ENOMEM;
  PQsetNoticeProcessor(c->c, pg_notice, NULL);
  if (PQstatus(c->c) != CONNECTION_OK) {
    vg_error("store_pg", "op=connect err=\"%.200s\"", PQerrorMessage(c->c));
    return -VG_ESTORE;
  }
  return 0;
}

static void conn_close(struct pg_conn *c)
{
  PQfinish(c->c); /* NULL is a no-op */
  c->c = NULL;
  adhoc_clear(c);
}

/* A usable connection, reconnecting one that was lost (server restart,
 * network). -VG_ESTORE while the server cannot be reached. */
static int conn_ensure(struct pg_conn *c)
{
  if (PQstatus(c->c) == CONNECTION_OK &&
      PQpipelineStatus(c->c) == PQ_PIPELINE_OFF)
    return 0;
  PQreset(c->c);
  c->n_pending = 0;
  c->prepared = 0; /* prepared statements died with the session */
  adhoc_clear(c);
  if (PQstatus(c->c) != CONNECTION_OK) {
    vg_warn("store_pg", "op=reconnect err=\"%.200s\"",
            PQerrorMessage(c->c));
    return -VG_ESTORE;
  }
  vg_info("store_pg", "op=reconnect ok=1");
  return 0;
}

static int conn_prepare(struct pg_conn *c, enum pg_stmt id)
{
  const struct pg_stmt_def *d = &pg_sql[id];
  Oid types[16];
  char name[16];
  int i, n = (int)strlen(d->types), rc = 0;
  PGresult *r;
  if (c->prepared & (1u << id))
    return 0;
  for (i = 0; i < n; i++)
    types[i] = d->types[i] == '8' ? 20 : d->types[i] == '4' ? 23
             : d->types[i] == 't' ? 25 : 0; /* pg_type.h OIDs */
  snprintf(name, sizeof name, "vg%d", (int)id);
  r = PQprepare(c->c, name, d->sql, n, types);
  if (PQresultStatus(r) != PGRES_COMMAND_OK)
    rc = pg_err(c, r, "prepare");
  else
    c->prepared |= 1u << id;
  PQclear(r);
  return rc;
}

/* Collect one pipelined query's result (and the NULL that ends it). */
static PGresult *pipe_result(PGconn *c)
{
  PGresult *r = PQgetResult(c), *extra;
  while (r && (extra = PQgetResult(c)) != NULL)
    PQclear(extra);
  return r;
}

/* One attempt of a writing statement inside its own savepoint, pipelined
 * so it costs one round trip: SAVEPOINT, the statement, RELEASE, sync. On
 * failure the savepoint is rolled back, so the transaction stays usable.
 * OUT: *out is the statement's result (caller PQclear()s it). */
static int run_wrapped(struct pg_conn *c, const char *name, int n,
                       const char *const *vals, PGresult **out)
{
  PGresult *sp, *res, *rel, *sync;
  int ok, i, np = c->n_pending, pend_ok = 1;
  *out = NULL;
  if (PQenterPipelineMode(c->c) != 1)
    return -VG_ESTORE;
  c->n_pending = 0; /* sent first, in this round trip */
  ok = 1;
  for (i = 0; ok && i < np; i++)
    ok = PQsendQueryParams(c->c, c->pending[i], 0, NULL, NULL, NULL, NULL, 0);
  ok = ok &&
       PQsendQueryParams(c->c, "SAVEPOINT vg_retry", 0, NULL, NULL, NULL,
                         NULL, 0) &&
       PQsendQueryPrepared(c->c, name, n, vals, NULL, NULL, 0) &&
       PQsendQueryParams(c->c, "RELEASE vg_retry", 0, NULL, NULL, NULL, NULL,
                         0) &&
       PQpipelineSync(c->c);
  if (!ok) {
    PQexitPipelineMode(c->c);
    return pg_err(c, NULL, "pipeline");
  }
  for (i = 0; i < np; i++) {
    sp = pipe_result(c->c);
    pend_ok = pend_ok && PQresultStatus(sp) == PGRES_COMMAND_OK;
    PQclear(sp);
  }
  sp = pipe_result(c->c);
  res = pipe_result(c->c);
  rel = pipe_result(c->c);
  sync = PQgetResult(c->c);
  ok = PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
  PQclear(sync);
  if (!ok || PQexitPipelineMode(c->c) != 1) {
    /* The session is out of step; drop it and reconnect on next begin. */
    PQclear(sp);
    PQclear(res);
    PQclear(rel);
    return pg_err(c, NULL, "pipeline sync"); /* conn_ensure resets it */
  }
  if (!pend_ok) { /* a savepoint command failed: the txn is broken */
    PQclear(sp);
    PQclear(res);
    PQclear(rel);
    return pg_err(c, NULL, "savepoint");
  }
  ok = PQresultStatus(sp) == PGRES_COMMAND_OK &&
       PQresultStatus(rel) == PGRES_COMMAND_OK;
  PQclear(sp);
  PQclear(rel);
  *out = res;
  return ok ? 0 : 1; /* 1: failed, savepoint still open */
}

/* Run the prepared statement `name` (n text parameters, NULL = SQL NULL).
 * In a WRITE transaction a writing statement is retried on serialisation
 * failure or deadlock: the one retry loop of this backend (STYLE H5).
 * OUT: *out holds the rows; caller PQclear()s it. */
static int pg_run_named(struct pg_txn *t, const char *name, int n,
                        const char *const *vals, int writes, const char *what,
                        PGresult **out)
{
  struct pg_conn *c = t->conn;
  int rc, attempt;
  ExecStatusType st;
  PGresult *r = NULL;

  *out = NULL;
  if (!(writes && t->pub.mode == VG_TXN_WRITE)) {
    rc = pend_flush(c);
    if (rc < 0)
      return rc;
    r = PQexecPrepared(c->c, name, n, vals, NULL, NULL, 0);
    st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      rc = pg_err(c, r, "query");
      PQclear(r);
      return rc;
    }
    *out = r;
    return 0;
  }
  for (attempt = 1;; attempt++) {
    rc = run_wrapped(c, name, n, vals, &r);
    if (rc < 0)
      return rc;
    st = PQresultStatus(r);
    if (rc == 0 && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)) {
      *out = r;
      return 0;
    }
    /* Failed: undo to the statement's savepoint, keep the txn usable. */
    if (pg_exec(c, "ROLLBACK TO SAVEPOINT vg_retry; "
                   "RELEASE SAVEPOINT vg_retry") < 0) {
      PQclear(r);
      return -VG_ESTORE;
    }
    if (!retryable(r) || attempt >= PG_RETRY_MAX) {
      rc = pg_err(c, r, what);
      PQclear(r);
      return rc;
    }
    vg_warn("store_pg", "op=retry sqlstate=%s attempt=%d", sqlstate(r),
            attempt);
    PQclear(r);
    {
      struct timespec ts = { 0, (long)attempt * 2000000L +
                                    (long)(vg_mono_ns() % 1000000) };
      nanosleep(&ts, NULL);
    }
  }
}

/* Run the backend's own statement id (see pg_run_named). */
static int pg_run(struct pg_txn *t, enum pg_stmt id, const char *const *vals,
                  PGresult **out)
{
  const struct pg_stmt_def *d = &pg_sql[id];
  char name[16];
  int rc = conn_prepare(t->conn, id);
  *out = NULL;
  if (rc < 0)
    return rc;
  snprintf(name, sizeof name, "vg%d", (int)id);
  return pg_run_named(t, name, (int)strlen(d->types), vals, d->writes, d->sql,
                      out);
}

/* ==== open / close ====================================================== */

static void pg_close(struct vg_store *s)
{
  struct pg_store *q = pg_of(s);
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

static int pg_open(struct vg_store *s, const struct vg_config *cfg)
{
  struct pg_store *q;
  int i, n = (int)cfg->read_conns;
  int rc = -VG_ENOMEM;

  if (n < 1)
    n = 1;
  if (n > PG_READ_CONNS_MAX)
    n = PG_READ_CONNS_MAX;
  if (!cfg->pg[0])
    return -VG_EINVAL;
  q = vg_calloc(1, sizeof *q);
  if (!q)
    return -VG_ENOMEM;
  pthread_mutex_init(&q->wlock, NULL);
  pthread_mutex_init(&q->rlock, NULL);
  pthread_cond_init(&q->rfree, NULL);
  s->ctx = q;
  snprintf(q->url, sizeof q->url, "%s", cfg->pg);
  q->rconn = vg_calloc((size_t)n, sizeof *q->rconn);
  q->rtxn = vg_calloc((size_t)n, sizeof *q->rtxn);
  q->rbusy = vg_calloc((size_t)n, 1);
  if (!q->rconn || !q->rtxn || !q->rbusy)
    goto fail;

  rc = conn_open(&q->wconn, q->url);
  if (rc < 0)
    goto fail;
  q->wtxn.pub.store = s;
  q->wtxn.pub.mode = VG_TXN_WRITE;
  q->wtxn.conn = &q->wconn;
  q->wtxn.pool_slot = -1;
  for (i = 0; i < n; i++) {
    q->n_read = i + 1;
    rc = conn_open(&q->rconn[i], q->url);
    if (rc < 0)
      goto fail;
    q->rtxn[i].pub.store = s;
    q->rtxn[i].pub.mode = VG_TXN_READ;
    q->rtxn[i].conn = &q->rconn[i];
    q->rtxn[i].pool_slot = i;
  }
  return 0;
fail:
  pg_close(s);
  return rc;
}

/* ==== partitions of reading ============================================= */

/* Month number (year * 12 + month - 1) of ts_ms, UTC. */
static int month_of(int64_t ts_ms)
{
  int64_t d = ts_ms / 86400000, y;
  unsigned doe, yoe, doy, mp, m;
  if (ts_ms % 86400000 < 0)
    d--;
  /* days -> civil date: H. Hinnant, "chrono-Compatible Low-Level Date
   * Algorithms" (civil_from_days), era of 400 years = 146097 days. */
  d += 719468;
  {
    int64_t era = (d >= 0 ? d : d - 146096) / 146097;
    doe = (unsigned)(d - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = (int64_t)yoe + era * 400;
  }
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2)
    y++;
  return (int)(y * 12 + (int64_t)m - 1);
}

static int64_t month_start_ms(int month)
{
  return vg_days_from_civil(month / 12, (unsigned)(month % 12) + 1, 1) *
         86400000;
}

static int part_is_known(const struct pg_store *q, int month)
{
  int i;
  for (i = 0; i < q->n_part_known; i++)
    if (q->part_known[i] == month)
      return 1;
  return 0;
}

/* Make the month's partition on the writer connection, outside any
 * transaction. Returns 0 when it exists afterwards. */
static int part_make(struct pg_store *q, int month)
{
  char sql[256];
  int rc;
  snprintf(sql, sizeof sql,
           "BEGIN; SET LOCAL lock_timeout = '" PG_PART_LOCK_TIMEOUT "'; "
           "SELECT vg_reading_ensure_month('%04d-%02d-01'); COMMIT",
           month / 12, month % 12 + 1);
  rc = pg_exec(&q->wconn, sql);
  if (PQtransactionStatus(q->wconn.c) != PQTRANS_IDLE)
    pg_exec(&q->wconn, "ROLLBACK");
  if (rc == 0 && q->n_part_known < PG_PART_KNOWN_MAX)
    q->part_known[q->n_part_known++] = month;
  return rc;
}

/* After a write commit: make the partitions inserts asked for. A failure
 * (lock timeout) is retried after PG_PART_RETRY_MS; meanwhile those rows
 * sit in the default partition, which is correct, just not pruned. */
static void part_upkeep(struct pg_store *q)
{
  int i, kept = 0;
  int64_t now = vg_now_ms();
  if (!q->n_part_pending || now < q->part_retry_ms)
    return;
  for (i = 0; i < q->n_part_pending; i++) {
    int m = q->part_pending[i];
    if (part_is_known(q, m))
      continue;
    if (part_make(q, m) == 0) {
      vg_info("store_pg", "op=partition month=%04d-%02d", m / 12,
              m % 12 + 1);
      continue;
    }
    q->part_pending[kept++] = m;
  }
  q->n_part_pending = kept;
  if (kept)
    q->part_retry_ms = now + PG_PART_RETRY_MS;
}

/* Note the months of rows about to be inserted that lack a partition. */
static void part_note(struct pg_store *q, const struct vg_reading *r,
                      size_t n)
{
  int now_m = month_of(vg_now_ms());
  size_t i;
  int j, m, seen;
  for (i = 0; i < n; i++) {
    if (r[i].ts_ms >= q->part_lo_ms && r[i].ts_ms < q->part_hi_ms)
      continue;
    m = month_of(r[i].ts_ms);
    if (m < now_m - PG_PART_BACK_MONTHS || m > now_m + PG_PART_AHEAD_MONTHS)
      continue; /* stays in the default partition */
    if (part_is_known(q, m)) {
      q->part_lo_ms = month_start_ms(m);
      q->part_hi_ms = month_start_ms(m + 1);
      continue;
    }
    for (seen = 0, j = 0; j < q->n_part_pending; j++)
      seen |= q->part_pending[j] == m;
    if (!seen && q->n_part_pending < PG_PART_KNOWN_MAX)
      q->part_pending[q->n_part_pending++] = m;
  }
}

/* ==== migrations ======================================================== */

/* The one textual dialect rule for common migrations on PostgreSQL:
 * "INTEGER PRIMARY KEY" (SQLite's rowid alias, assigned on insert) becomes
 * "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY". Everything else in
 * src/sql/common is SQL both run as written; a file that needs more gets a
 * src/sql/pg/ copy of its number (docs/internals/store.md). Caller frees
 * with vg_free(); NULL when out of memory. */
#define PG_ROWID "INTEGER PRIMARY KEY"
#define PG_IDENTITY "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
static char *pg_dialect_sql(const char *sql)
{
  const size_t from = sizeof PG_ROWID - 1, to = sizeof PG_IDENTITY - 1;
  const char *p, *hit;
  size_t n = 0, len = strlen(sql);
  char *out, *w;
  for (p = sql; (hit = strstr(p, PG_ROWID)) != NULL; p = hit + from)
    n++;
  out = vg_malloc(len + n * (to - from) + 1);
  if (!out)
    return NULL;
  w = out;
  for (p = sql; (hit = strstr(p, PG_ROWID)) != NULL; p = hit + from) {
    memcpy(w, p, (size_t)(hit - p));
    w += hit - p;
    memcpy(w, PG_IDENTITY, to);
    w += to;
  }
  memcpy(w, p, strlen(p) + 1);
  return out;
}

/* All pending migrations in one transaction under an advisory lock, so
 * nodes starting together apply each exactly once (PostgreSQL DDL is
 * transactional). Then the partitions of now - 1 .. now + 2 months. */
static int pg_migrate(struct vg_store *s, int *out_applied)
{
  struct pg_store *q = pg_of(s);
  struct pg_conn *c = &q->wconn;
  const struct vg_migration *m;
  int rc, number = 0, month, i;
  PGresult *r;
  char num[16];
  const char *vals[3];
  char now[24];

  *out_applied = 0;
  rc = pg_exec(c, "BEGIN; SELECT pg_advisory_xact_lock(" PG_MIGRATE_LOCK
                  "); CREATE TABLE IF NOT EXISTS schema_migrations ("
                  "number INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                  "applied_ms BIGINT NOT NULL)");
  if (rc < 0)
    goto fail;
  while ((m = store_migration_next("pg", number)) != NULL) {
    number = m->number;
    snprintf(num, sizeof num, "%d", m->number);
    vals[0] = num;
    r = PQexecParams(c->c, "SELECT 1 FROM schema_migrations WHERE number = $1",
                     1, NULL, vals, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      rc = pg_err(c, r, "migrate");
      PQclear(r);
      goto fail;
    }
    i = PQntuples(r);
    PQclear(r);
    if (i)
      continue;
    if (strcmp(m->dialect, "common") == 0) {
      char *sql = pg_dialect_sql(m->sql);
      rc = sql ? pg_exec(c, sql) : -VG_ENOMEM;
      vg_free(sql);
    } else {
      rc = pg_exec(c, m->sql);
    }
    if (rc < 0) {
      vg_error("store_migrate", "number=%d name=%s", m->number, m->name);
      goto fail;
    }
    snprintf(now, sizeof now, "%lld", (long long)vg_now_ms());
    vals[1] = m->name;
    vals[2] = now;
    r = PQexecParams(c->c, "INSERT INTO schema_migrations (number, name, "
                     "applied_ms) VALUES ($1, $2, $3)", 3, NULL, vals, NULL,
                     NULL, 0);
    rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : pg_err(c, r, "migrate");
    PQclear(r);
    if (rc < 0)
      goto fail;
    ++*out_applied;
  }
  rc = pg_exec(c, "COMMIT");
  if (rc < 0)
    goto fail;
  month = month_of(vg_now_ms());
  for (i = -1; i <= 2; i++)
    if (part_make(q, month + i) < 0)
      vg_warn("store_pg", "op=partition_ahead month=%d", month + i);
  return 0;
fail:
  if (PQtransactionStatus(c->c) != PQTRANS_IDLE)
    pg_exec(c, "ROLLBACK");
  return rc < 0 ? rc : -VG_ESTORE;
}

/* ==== transactions ====================================================== */

static void txn_release(struct pg_txn *t)
{
  struct pg_store *q = pg_of(t->pub.store);
  if (t->pool_slot < 0) {
    pthread_mutex_unlock(&q->wlock);
    return;
  }
  pthread_mutex_lock(&q->rlock);
  q->rbusy[t->pool_slot] = 0;
  pthread_cond_signal(&q->rfree);
  pthread_mutex_unlock(&q->rlock);
}

static int pg_begin(struct vg_store *s, enum vg_txn_mode mode,
                    struct vg_txn **out)
{
  struct pg_store *q = pg_of(s);
  struct pg_txn *t;
  const char *sql;
  int i, rc;

  *out = NULL;
  if (mode == VG_TXN_WRITE) {
    pthread_mutex_lock(&q->wlock);
    t = &q->wtxn;
    sql = "BEGIN"; /* READ COMMITTED: inserts rely on ON CONFLICT */
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
    /* One snapshot for every query of the transaction, as in SQLite. */
    sql = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
  }
  t->depth = 0;
  t->conn->n_pending = 0;
  rc = conn_ensure(t->conn);
  if (rc == 0) {
    rc = pg_exec(t->conn, sql);
    /* A session that died while idle (server restart) shows only now:
     * nothing has run yet, so reconnect and begin once more. */
    if (rc < 0 && PQstatus(t->conn->c) != CONNECTION_OK) {
      rc = conn_ensure(t->conn);
      if (rc == 0)
        rc = pg_exec(t->conn, sql);
    }
  }
  if (rc < 0) {
    txn_release(t);
    return rc;
  }
  *out = &t->pub;
  return 0;
}

static void pg_rollback(struct vg_txn *vt)
{
  struct pg_txn *t = (struct pg_txn *)vt;
  t->conn->n_pending = 0; /* ROLLBACK ends them all */
  if (PQstatus(t->conn->c) == CONNECTION_OK &&
      PQtransactionStatus(t->conn->c) != PQTRANS_IDLE)
    pg_exec(t->conn, "ROLLBACK");
  txn_release(t);
}

static int pg_commit(struct vg_txn *vt)
{
  struct pg_txn *t = (struct pg_txn *)vt;
  PGresult *r;
  int ok;
  if (PQtransactionStatus(t->conn->c) != PQTRANS_INTRANS) {
    pg_rollback(vt); /* aborted by an error, or the connection is gone */
    return -VG_ESTORE;
  }
  r = exec_pending(t->conn, "COMMIT");
  /* COMMIT of an aborted transaction "succeeds" with tag ROLLBACK: only
   * the tag COMMIT means the data is durable. */
  ok = PQresultStatus(r) == PGRES_COMMAND_OK &&
       strcmp(PQcmdStatus(r), "COMMIT") == 0;
  if (!ok)
    pg_err(t->conn, r, "commit");
  PQclear(r);
  if (!ok) {
    pg_rollback(vt);
    return -VG_ESTORE;
  }
  if (t->pool_slot < 0)
    part_upkeep(pg_of(t->pub.store));
  txn_release(t);
  return 0;
}

/* Savepoints of the writer's jobs: queued (pend), sent with the next
 * statement; one that nothing ran in is dropped unsent. */
static int pg_savepoint(struct vg_txn *vt)
{
  struct pg_txn *t = (struct pg_txn *)vt;
  int rc = pend(t->conn, SQL_SP);
  if (rc == 0)
    t->depth++;
  return rc;
}

/* Is the last queued command the innermost savepoint (nothing ran in it)? */
static int sp_unsent(const struct pg_conn *c)
{
  return c->n_pending > 0 && c->pending[c->n_pending - 1] == SQL_SP;
}

static int pg_release(struct vg_txn *vt)
{
  struct pg_txn *t = (struct pg_txn *)vt;
  int rc = 0;
  if (t->depth <= 0)
    return -VG_EINVAL;
  if (sp_unsent(t->conn))
    t->conn->n_pending--;
  else
    rc = pend(t->conn, SQL_SP_RELEASE);
  if (rc == 0)
    t->depth--;
  return rc;
}

/* Undo back to the innermost savepoint and end it (the sqlite backend's
 * semantics: ROLLBACK TO keeps the savepoint, so release it after). */
static int pg_rollback_to(struct vg_txn *vt)
{
  struct pg_txn *t = (struct pg_txn *)vt;
  int rc = 0;
  if (t->depth <= 0)
    return -VG_EINVAL;
  if (sp_unsent(t->conn))
    t->conn->n_pending--;
  else
    rc = pg_exec(t->conn, "ROLLBACK TO SAVEPOINT vg_sp; "
                          "RELEASE SAVEPOINT vg_sp");
  if (rc == 0)
    t->depth--;
  return rc;
}

/* ==== patients and devices ============================================== */

static void col_text(const PGresult *r, int row, int col, char *dst,
                     size_t size)
{
  const char *s = PQgetvalue(r, row, col);
  size_t n = (size_t)PQgetlength(r, row, col);
  if (n >= size)
    n = size - 1;
  if (n)
    memcpy(dst, s, n);
  dst[n] = '\0';
}

static int64_t col_i64(const PGresult *r, int row, int col)
{
  return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static void row_patient(const PGresult *r, int i, struct vg_patient *p)
{
  char sex[2];
  memset(p, 0, sizeof *p);
  p->id = col_i64(r, i, 0);
  col_text(r, i, 1, p->identifier, sizeof p->identifier);
  col_text(r, i, 2, p->name, sizeof p->name);
  col_text(r, i, 3, sex, sizeof sex);
  p->sex = sex[0] ? sex[0] : 'U';
  col_text(r, i, 4, p->birth_date, sizeof p->birth_date);
  col_text(r, i, 5, p->tz, sizeof p->tz);
  p->created_ms = col_i64(r, i, 6);
  p->updated_ms = col_i64(r, i, 7);
}

static void row_device(const PGresult *r, int i, struct vg_device *d)
{
  memset(d, 0, sizeof *d);
  d->id = col_i64(r, i, 0);
  col_text(r, i, 1, d->serial, sizeof d->serial);
  col_text(r, i, 2, d->kind, sizeof d->kind);
  d->patient_id = col_i64(r, i, 3);
  d->created_ms = col_i64(r, i, 4);
  d->last_seen_ms = col_i64(r, i, 5);
}

/* Text parameters: numbers are formatted into fixed slots. */
struct params {
  const char *v[14];
  char num[14][24];
};

static void p_i64(struct params *p, int i, int64_t x)
{
  snprintf(p->num[i], sizeof p->num[i], "%lld", (long long)x);
  p->v[i] = p->num[i];
}

/* A fixed-size string field (may lack its NUL when full); "" is NULL when
 * empty_null. */
static void p_field(struct params *p, int i, const char *s, size_t size,
                    char *copy, int empty_null)
{
  size_t n = strnlen(s, size);
  memcpy(copy, s, n);
  copy[n] = '\0';
  p->v[i] = n == 0 && empty_null ? NULL : copy;
}

/* LIMIT NULL is PostgreSQL's "no limit". */
static void p_limit(struct params *p, int i, size_t limit)
{
  if (limit)
    p_i64(p, i, (int64_t)limit);
  else
    p->v[i] = NULL;
}

static int pg_patient_create(struct vg_txn *vt, struct vg_patient *p)
{
  struct pg_txn *t = (struct pg_txn *)vt;
  struct params a;
  char ident[VG_ID_MAX + 1], name[VG_NAME_MAX + 1], bd[12], tz[49];
  char sex[2] = { p->sex ? p->sex : 'U', '\0' };
  int64_t now = vg_now_ms();
  PGresult *r;
  int rc;
  memset(&a, 0, sizeof a);
  p_field(&a, 0, p->identifier, sizeof p->identifier, ident, 1);
  p_field(&a, 1, p->name, sizeof p->name, name, 0);
  a.v[2] = sex;
  p_field(&a, 3, p->birth_date, sizeof p->birth_date, bd, 1);
  p_field(&a, 4, p->tz, sizeof p->tz, tz, 0);
  p_i64(&a, 5, now);
  rc = pg_run(t, ST_PATIENT_INSERT, a.v, &r);
  if (rc < 0)
    return rc;
  p->id = col_i64(r, 0, 0);
  PQclear(r);
  p->sex = sex[0];
  p->created_ms = p->updated_ms = now;
  return 0;
}

static int pg_patient_get(struct vg_txn *vt, int64_t id,
                          struct vg_patient *out)
{
  struct params a;
  PGresult *r;
  int rc;
  p_i64(&a, 0, id);
  rc = pg_run((struct pg_txn *)vt, ST_PATIENT_GET, a.v, &r);
  if (rc < 0)
    return rc;
  rc = PQntuples(r) ? 0 : -VG_ENOTFOUND;
  if (rc == 0)
    row_patient(r, 0, out);
  PQclear(r);
  return rc;
}

static int pg_patient_list(struct vg_txn *vt, int64_t after_id, size_t limit,
                           vg_patient_cb cb, void *ctx)
{
  struct vg_patient p;
  struct params a;
  PGresult *r;
  int i, n, stop = 0, rc;
  p_i64(&a, 0, after_id);
  p_limit(&a, 1, limit);
  rc = pg_run((struct pg_txn *)vt, ST_PATIENT_LIST, a.v, &r);
  if (rc < 0)
    return rc;
  n = PQntuples(r);
  for (i = 0; i < n && !stop; i++) {
    row_patient(r, i, &p);
    stop = cb(ctx, &p);
  }
  PQclear(r);
  return stop;
}

static int pg_device_create(struct vg_txn *vt, struct vg_device *d)
{
  struct pg_txn *t = (struct pg_txn *)vt;
  struct params a;
  char serial[VG_ID_MAX + 1], kind[33];
  int64_t now = vg_now_ms();
  PGresult *r;
  int rc;
  if (!d->serial[0])
    return -VG_EINVAL;
  memset(&a, 0, sizeof a);
  p_field(&a, 0, d->serial, sizeof d->serial, serial, 0);
  p_field(&a, 1, d->kind, sizeof d->kind, kind, 0);
  if (d->patient_id > 0)
    p_i64(&a, 2, d->patient_id);
  p_i64(&a, 3, now);
  p_i64(&a, 4, d->last_seen_ms);
  rc = pg_run(t, ST_DEVICE_INSERT, a.v, &r);
  if (rc < 0)
    return rc;
  d->id = col_i64(r, 0, 0);
  PQclear(r);
  d->created_ms = now;
  if (d->patient_id < 0)
    d->patient_id = 0;
  return 0;
}

static int device_one(struct pg_txn *t, enum pg_stmt id,
                      const char *const *vals, struct vg_device *out)
{
  PGresult *r;
  int rc = pg_run(t, id, vals, &r);
  if (rc < 0)
    return rc;
  rc = PQntuples(r) ? 0 : -VG_ENOTFOUND;
  if (rc == 0)
    row_device(r, 0, out);
  PQclear(r);
  return rc;
}

static int pg_device_get(struct vg_txn *vt, int64_t id, struct vg_device *out)
{
  struct params a;
  p_i64(&a, 0, id);
  return device_one((struct pg_txn *)vt, ST_DEVICE_GET, a.v, out);
}

static int pg_device_by_serial(struct vg_txn *vt, const char *serial,
                               struct vg_device *out)
{
  const char *v[1] = { serial };
  return device_one((struct pg_txn *)vt, ST_DEVICE_BY_SERIAL, v, out);
}

static int pg_device_list(struct vg_txn *vt, int64_t after_id, size_t limit,
                          vg_device_cb cb, void *ctx)
{
  struct vg_device d;
  struct params a;
  PGresult *r;
  int i, n, stop = 0, rc;
  p_i64(&a, 0, after_id);
  p_limit(&a, 1, limit);
  rc = pg_run((struct pg_txn *)vt, ST_DEVICE_LIST, a.v, &r);
  if (rc < 0)
    return rc;
  n = PQntuples(r);
  for (i = 0; i < n && !stop; i++) {
    row_device(r, i, &d);
    stop = cb(ctx, &d);
  }
  PQclear(r);
  return stop;
}

/* ==== readings ========================================================== */

/* An element of a text[] literal: always quoted, \ and " escaped. */
static void arr_str(struct vg_buf *b, const char *s)
{
  const char *p;
  buf_putc(b, '"');
  for (p = s ? s : ""; *p; p++) {
    if (*p == '"' || *p == '\\')
      buf_putc(b, '\\');
    buf_putc(b, *p);
  }
  buf_putc(b, '"');
}

/* A text field of COPY's text format: \, tab, newline and CR escaped. */
static void copy_str(struct vg_buf *b, const char *s)
{
  const char *p;
  for (p = s ? s : ""; *p; p++) {
    size_t plain = strcspn(p, "\\\t\n\r");
    if (plain) {
      buf_append(b, p, plain);
      p += plain - 1;
      continue;
    }
    switch (*p) {
    case '\\': buf_puts(b, "\\\\"); break;
    case '\t': buf_puts(b, "\\t"); break;
    case '\n': buf_puts(b, "\\n"); break;
    case '\r': buf_puts(b, "\\r"); break;
    default: buf_putc(b, *p); break;
    }
  }
}

/* Decimal v, then the character after. The writer thread builds the COPY
 * text in series with the inserts, and printf was most of its cost. */
static void copy_int(struct vg_buf *b, int64_t v, char after)
{
  char d[24];
  size_t i = sizeof d;
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  d[--i] = after;
  do {
    d[--i] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0)
    d[--i] = '-';
  buf_append(b, d + i, sizeof d - i);
}

/* A value exactly: whole numbers (most vital signs) as integers, others
 * with 17 significant digits. */
static void copy_real(struct vg_buf *b, double v, char after)
{
  char d[40];
  int len;
  if (v >= -1e15 && v <= 1e15 && v == (double)(int64_t)v && !signbit(v)) {
    copy_int(b, (int64_t)v, after);
    return;
  }
  len = snprintf(d, sizeof d, "%.17g%c", v, after);
  if (len > 0 && (size_t)len < sizeof d)
    buf_append(b, d, (size_t)len);
  else
    buf_printf(b, "%.17g%c", v, after);
}

/* The optimistic path: every row of r[0..n) COPYed in, inside savepoint
 * vg_copy, in two round trips (SAVEPOINT + COPY start; data + end); the
 * RELEASE goes with the next statement. Returns 0 (all stored), 1
 * (refused, e.g. an existing or repeated key, or a deadlock with another
 * node: rolled back, the transaction is usable, use the general form) or
 * -VG_E*. */
static int copy_new(struct pg_txn *t, const struct vg_reading *r, size_t n,
                    int64_t now_ms)
{
  struct pg_conn *c = t->conn;
  struct vg_buf b;
  PGresult *res;
  int rc = 0, ok;
  size_t i, off;

  buf_init(&b, PG_ARRAY_CAP);
  for (i = 0; i < n; i++) {
    copy_int(&b, r[i].patient_id, '\t');
    copy_int(&b, r[i].code, '\t');
    copy_int(&b, r[i].ts_ms, '\t');
    copy_str(&b, r[i].source);
    buf_putc(&b, '\t');
    copy_real(&b, r[i].value, '\t');
    copy_str(&b, r[i].unit);
    buf_putc(&b, '\t');
    if (r[i].tz_offset_min == VG_TZ_UNKNOWN)
      buf_puts(&b, "\\N\t");
    else
      copy_int(&b, r[i].tz_offset_min, '\t');
    copy_int(&b, now_ms, '\n');
  }
  if (b.err) {
    rc = b.err;
    goto done;
  }
  res = exec_pending(c, READING_COPY);
  ok = PQresultStatus(res) == PGRES_COPY_IN;
  if (!ok) { /* SAVEPOINT or COPY refused: nothing was sent */
    rc = pg_err(c, res, "copy");
    PQclear(res);
    if (PQstatus(c->c) == CONNECTION_OK &&
        PQtransactionStatus(c->c) == PQTRANS_INERROR &&
        pg_exec(c, "ROLLBACK TO SAVEPOINT vg_copy; "
                   "RELEASE SAVEPOINT vg_copy") == 0)
      rc = 1;
    goto done;
  }
  PQclear(res);
  for (off = 0; ok && off < b.len; off += 1u << 20) {
    size_t k = b.len - off < (1u << 20) ? b.len - off : 1u << 20;
    ok = PQputCopyData(c->c, b.data + off, (int)k) == 1;
  }
  ok = PQputCopyEnd(c->c, ok ? NULL : "vigil: send failed") == 1 && ok;
  res = PQgetResult(c->c);
  if (ok && PQresultStatus(res) == PGRES_COMMAND_OK) {
    PQclear(res);
    while ((res = PQgetResult(c->c)) != NULL)
      PQclear(res);
    rc = pend(c, SQL_COPY_RELEASE);
    goto done;
  }
  /* Refused (23505 on an existing or repeated key, 40P01, ...): undo. */
  if (PQstatus(c->c) != CONNECTION_OK)
    rc = pg_err(c, res, "copy");
  PQclear(res);
  while ((res = PQgetResult(c->c)) != NULL)
    PQclear(res);
  if (rc == 0)
    rc = pg_exec(c, "ROLLBACK TO SAVEPOINT vg_copy; "
                    "RELEASE SAVEPOINT vg_copy") == 0 ? 1 : -VG_ESTORE;
done:
  buf_free(&b);
  return rc;
}

enum { A_PID, A_CODE, A_TS, A_SRC, A_VAL, A_UNIT, A_TZ, A_N };

static int pg_readings_insert(struct vg_txn *vt, const struct vg_reading *r,
                              size_t n, unsigned char *out_status)
{
  struct pg_txn *t = (struct pg_txn *)vt;
  struct vg_buf arr[A_N];
  struct params a;
  PGresult *res = NULL;
  int64_t now = vg_now_ms();
  size_t i;
  int k, rows, rc;

  part_note(pg_of(t->pub.store), r, n);
  if (n >= PG_COPY_MIN) {
    rc = copy_new(t, r, n, now);
    if (rc == 0)
      memset(out_status, VG_INS_ACCEPTED, n);
    if (rc <= 0)
      return rc;
  }
  for (k = 0; k < A_N; k++)
    buf_init(&arr[k], PG_ARRAY_CAP);
  for (k = 0; k < A_N; k++)
    buf_putc(&arr[k], '{');
  for (i = 0; i < n; i++) {
    const struct vg_reading *x = &r[i];
    const char *sep = i ? "," : "";
    buf_printf(&arr[A_PID], "%s%lld", sep, (long long)x->patient_id);
    buf_printf(&arr[A_CODE], "%s%d", sep, x->code);
    buf_printf(&arr[A_TS], "%s%lld", sep, (long long)x->ts_ms);
    buf_puts(&arr[A_SRC], sep);
    arr_str(&arr[A_SRC], x->source);
    buf_printf(&arr[A_VAL], "%s%.17g", sep, x->value);
    buf_puts(&arr[A_UNIT], sep);
    arr_str(&arr[A_UNIT], x->unit);
    if (x->tz_offset_min == VG_TZ_UNKNOWN)
      buf_printf(&arr[A_TZ], "%sNULL", sep);
    else
      buf_printf(&arr[A_TZ], "%s%d", sep, x->tz_offset_min);
    out_status[i] = VG_INS_DUPLICATE;
  }
  rc = 0;
  for (k = 0; k < A_N; k++) {
    buf_putc(&arr[k], '}');
    if (arr[k].err && !rc)
      rc = arr[k].err;
    a.v[k] = arr[k].data;
  }
  if (rc < 0)
    goto done;
  p_i64(&a, A_N, now);
  if (n < PG_COPY_MIN) {
    rc = pg_run(t, ST_READING_INSERT_NEW, a.v, &res);
    if (rc == 0) {
      memset(out_status, VG_INS_ACCEPTED, n);
      goto done;
    }
    if (rc != -VG_ECONFLICT)
      goto done;
  }
  /* The general form: outcome per row. */
  rc = pg_run(t, ST_READING_INSERT, a.v, &res);
  if (rc < 0)
    goto done;
  rows = PQntuples(res);
  for (k = 0; k < rows; k++) {
    int64_t seq = col_i64(res, k, 0);
    if (seq >= 1 && (size_t)seq <= n)
      out_status[seq - 1] = VG_INS_ACCEPTED;
  }
done:
  PQclear(res);
  for (k = 0; k < A_N; k++)
    buf_free(&arr[k]);
  return rc;
}

static int pg_readings_query(struct vg_txn *vt,
                             const struct vg_reading_query *q,
                             vg_reading_cb cb, void *ctx)
{
  struct pg_txn *t = (struct pg_txn *)vt;
  struct vg_reading x;
  struct params a;
  PGresult *r;
  int i, n, stop = 0, rc;
  int id = ST_READING_QUERY + (q->code ? 1 : 0) + (q->has_cursor ? 2 : 0);

  memset(&a, 0, sizeof a);
  p_i64(&a, 0, q->patient_id);
  p_i64(&a, 1, q->from_ms);
  p_i64(&a, 2, q->to_ms);
  p_i64(&a, 3, q->code);
  if (q->has_cursor) {
    p_i64(&a, 4, q->after_code);
    p_i64(&a, 5, q->after_ts_ms);
    a.v[6] = q->after_source;
  }
  p_limit(&a, 7, q->limit);
  rc = pg_run(t, (enum pg_stmt)id, a.v, &r);
  if (rc < 0)
    return rc;
  memset(&x, 0, sizeof x);
  x.patient_id = q->patient_id;
  n = PQntuples(r);
  for (i = 0; i < n && !stop; i++) {
    x.code = (int)col_i64(r, i, 0);
    x.ts_ms = col_i64(r, i, 1);
    x.source = PQgetvalue(r, i, 2);
    x.value = strtod(PQgetvalue(r, i, 3), NULL);
    x.unit = PQgetvalue(r, i, 4);
    x.tz_offset_min = PQgetisnull(r, i, 5) ? VG_TZ_UNKNOWN
                                           : (int16_t)col_i64(r, i, 5);
    stop = cb(ctx, &x);
  }
  PQclear(r);
  return stop;
}

static int pg_readings_buckets(struct vg_txn *vt,
                               const struct vg_reading_query *q,
                               int64_t bucket_ms, vg_bucket_cb cb, void *ctx)
{
  struct vg_bucket b;
  struct params a;
  PGresult *r;
  int i, n, stop = 0, rc;
  memset(&a, 0, sizeof a);
  p_i64(&a, 0, q->patient_id);
  p_i64(&a, 1, q->from_ms);
  p_i64(&a, 2, q->to_ms);
  p_i64(&a, 3, bucket_ms);
  p_i64(&a, 4, q->code);
  p_limit(&a, 5, q->limit);
  rc = pg_run((struct pg_txn *)vt, q->code ? ST_BUCKETS_CODE : ST_BUCKETS,
              a.v, &r);
  if (rc < 0)
    return rc;
  n = PQntuples(r);
  for (i = 0; i < n && !stop; i++) {
    b.code = (int)col_i64(r, i, 0);
    b.start_ms = col_i64(r, i, 1);
    b.min = strtod(PQgetvalue(r, i, 2), NULL);
    b.mean = strtod(PQgetvalue(r, i, 3), NULL);
    b.max = strtod(PQgetvalue(r, i, 4), NULL);
    b.n = col_i64(r, i, 5);
    stop = cb(ctx, &b);
  }
  PQclear(r);
  return stop;
}

/* ==== principals, tokens, audit ========================================= */

static void row_user(const PGresult *r, int i, struct vg_user *u)
{
  memset(u, 0, sizeof *u);
  u->id = col_i64(r, i, 0);
  col_text(r, i, 1, u->username, sizeof u->username);
  col_text(r, i, 2, u->role, sizeof u->role);
  u->org_id = col_i64(r, i, 3);
  u->patient_id = col_i64(r, i, 4);
  u->device_id = col_i64(r, i, 5);
  col_text(r, i, 6, u->pw_hash, sizeof u->pw_hash);
  col_text(r, i, 7, u->scopes, sizeof u->scopes);
  u->disabled = (int)col_i64(r, i, 8);
  u->failed_logins = (int)col_i64(r, i, 9);
  u->locked_until_ms = col_i64(r, i, 10);
  u->created_ms = col_i64(r, i, 11);
  u->updated_ms = col_i64(r, i, 12);
}

static void row_token(const PGresult *r, int i, struct vg_token *k)
{
  memset(k, 0, sizeof *k);
  k->id = col_i64(r, i, 0);
  col_text(r, i, 1, k->hash, sizeof k->hash);
  k->user_id = col_i64(r, i, 2);
  col_text(r, i, 3, k->kind, sizeof k->kind);
  col_text(r, i, 4, k->scopes, sizeof k->scopes);
  k->created_ms = col_i64(r, i, 5);
  k->expires_ms = col_i64(r, i, 6);
  k->revoked_ms = col_i64(r, i, 7);
}

static void row_audit(const PGresult *r, int i, struct vg_audit *e)
{
  memset(e, 0, sizeof *e);
  e->id = col_i64(r, i, 0);
  e->ts_ms = col_i64(r, i, 1);
  e->user_id = col_i64(r, i, 2);
  col_text(r, i, 3, e->username, sizeof e->username);
  col_text(r, i, 4, e->role, sizeof e->role);
  col_text(r, i, 5, e->action, sizeof e->action);
  col_text(r, i, 6, e->resource, sizeof e->resource);
  e->patient_id = col_i64(r, i, 7);
  e->outcome = (int)col_i64(r, i, 8);
  col_text(r, i, 9, e->source, sizeof e->source);
  col_text(r, i, 10, e->request_id, sizeof e->request_id);
  col_text(r, i, 11, e->prev_hash, sizeof e->prev_hash);
  col_text(r, i, 12, e->hash, sizeof e->hash);
}

/* Copies of a user's strings for the parameters of USER_INSERT/UPDATE. */
struct user_copy {
  char name[VG_NAME_MAX + 1], role[VG_ROLE_MAX + 1];
  char pw[sizeof ((struct vg_user *)0)->pw_hash + 1];
  char scopes[VG_SCOPES_MAX + 1];
};

/* Parameters role..locked_until_ms at a.v[first..first + 8]. */
static void p_user(struct params *a, int first, const struct vg_user *u,
                   struct user_copy *c)
{
  p_field(a, first, u->role, sizeof u->role, c->role, 0);
  p_i64(a, first + 1, u->org_id);
  if (u->patient_id > 0)
    p_i64(a, first + 2, u->patient_id);
  if (u->device_id > 0)
    p_i64(a, first + 3, u->device_id);
  p_field(a, first + 4, u->pw_hash, sizeof u->pw_hash, c->pw, 0);
  p_field(a, first + 5, u->scopes, sizeof u->scopes, c->scopes, 0);
  p_i64(a, first + 6, u->disabled ? 1 : 0);
  p_i64(a, first + 7, u->failed_logins);
  p_i64(a, first + 8, u->locked_until_ms);
}

static int pg_user_create(struct vg_txn *vt, struct vg_user *u)
{
  struct user_copy c;
  struct params a;
  int64_t now = vg_now_ms();
  PGresult *r;
  int rc;
  if (!u->username[0])
    return -VG_EINVAL;
  memset(&a, 0, sizeof a);
  p_field(&a, 0, u->username, sizeof u->username, c.name, 0);
  p_user(&a, 1, u, &c);
  p_i64(&a, 10, now);
  rc = pg_run((struct pg_txn *)vt, ST_USER_INSERT, a.v, &r);
  if (rc < 0)
    return rc;
  u->id = col_i64(r, 0, 0);
  PQclear(r);
  u->created_ms = u->updated_ms = now;
  return 0;
}

static int user_one(struct pg_txn *t, enum pg_stmt id,
                    const char *const *vals, struct vg_user *out)
{
  PGresult *r;
  int rc = pg_run(t, id, vals, &r);
  if (rc < 0)
    return rc;
  rc = PQntuples(r) ? 0 : -VG_ENOTFOUND;
  if (rc == 0)
    row_user(r, 0, out);
  PQclear(r);
  return rc;
}

static int pg_user_get(struct vg_txn *vt, int64_t id, struct vg_user *out)
{
  struct params a;
  p_i64(&a, 0, id);
  return user_one((struct pg_txn *)vt, ST_USER_GET, a.v, out);
}

static int pg_user_by_name(struct vg_txn *vt, const char *username,
                           struct vg_user *out)
{
  const char *v[1] = { username };
  return user_one((struct pg_txn *)vt, ST_USER_BY_NAME, v, out);
}

/* Run a writing statement that RETURNs one row per changed row:
 * -VG_ENOTFOUND when it changed none. */
static int run_changed(struct pg_txn *t, enum pg_stmt id,
                       const char *const *vals)
{
  PGresult *r;
  int rc = pg_run(t, id, vals, &r);
  if (rc < 0)
    return rc;
  rc = PQntuples(r) ? 0 : -VG_ENOTFOUND;
  PQclear(r);
  return rc;
}

static int pg_user_update(struct vg_txn *vt, const struct vg_user *u)
{
  struct user_copy c;
  struct params a;
  memset(&a, 0, sizeof a);
  p_i64(&a, 0, u->id);
  p_user(&a, 1, u, &c);
  p_i64(&a, 10, vg_now_ms());
  return run_changed((struct pg_txn *)vt, ST_USER_UPDATE, a.v);
}

static int pg_token_create(struct vg_txn *vt, struct vg_token *k)
{
  char hash[VG_HASH_HEX + 1], kind[17], scopes[VG_SCOPES_MAX + 1];
  struct params a;
  int64_t now = vg_now_ms();
  PGresult *r;
  int rc;
  if (strnlen(k->hash, sizeof k->hash) != VG_HASH_HEX - 1)
    return -VG_EINVAL;
  memset(&a, 0, sizeof a);
  p_field(&a, 0, k->hash, sizeof k->hash, hash, 0);
  p_i64(&a, 1, k->user_id);
  p_field(&a, 2, k->kind, sizeof k->kind, kind, 0);
  p_field(&a, 3, k->scopes, sizeof k->scopes, scopes, 0);
  p_i64(&a, 4, now);
  p_i64(&a, 5, k->expires_ms);
  rc = pg_run((struct pg_txn *)vt, ST_TOKEN_INSERT, a.v, &r);
  if (rc < 0)
    return rc;
  k->id = col_i64(r, 0, 0);
  PQclear(r);
  k->created_ms = now;
  k->revoked_ms = 0;
  return 0;
}

static int pg_token_by_hash(struct vg_txn *vt, const char *hash,
                            struct vg_token *out)
{
  const char *v[1] = { hash };
  PGresult *r;
  int rc = pg_run((struct pg_txn *)vt, ST_TOKEN_BY_HASH, v, &r);
  if (rc < 0)
    return rc;
  rc = PQntuples(r) ? 0 : -VG_ENOTFOUND;
  if (rc == 0)
    row_token(r, 0, out);
  PQclear(r);
  return rc;
}

static int pg_token_revoke(struct vg_txn *vt, int64_t id, int64_t now_ms)
{
  struct params a;
  memset(&a, 0, sizeof a);
  p_i64(&a, 0, id);
  p_i64(&a, 1, now_ms);
  return run_changed((struct pg_txn *)vt, ST_TOKEN_REVOKE, a.v);
}

/* In a WRITE transaction the advisory lock (held to its end) makes the
 * read-tail-then-append of every node one at a time. */
static int pg_audit_tail(struct vg_txn *vt, struct vg_audit *out)
{
  struct pg_txn *t = (struct pg_txn *)vt;
  PGresult *r;
  int rc;
  if (t->pub.mode == VG_TXN_WRITE) {
    rc = pg_run(t, ST_AUDIT_LOCK, NULL, &r);
    if (rc < 0)
      return rc;
    PQclear(r);
  }
  rc = pg_run(t, ST_AUDIT_TAIL, NULL, &r);
  if (rc < 0)
    return rc;
  rc = PQntuples(r) ? 0 : -VG_ENOTFOUND;
  if (rc == 0)
    row_audit(r, 0, out);
  PQclear(r);
  return rc;
}

static int pg_audit_append(struct vg_txn *vt, const struct vg_audit *e)
{
  char user[VG_NAME_MAX + 1], role[VG_ROLE_MAX + 1], action[33];
  char resource[129], source[49], reqid[25];
  char prev[VG_HASH_HEX + 1], hash[VG_HASH_HEX + 1];
  struct params a;
  PGresult *r;
  int rc;
  memset(&a, 0, sizeof a);
  p_i64(&a, 0, e->id);
  p_i64(&a, 1, e->ts_ms);
  p_i64(&a, 2, e->user_id);
  p_field(&a, 3, e->username, sizeof e->username, user, 0);
  p_field(&a, 4, e->role, sizeof e->role, role, 0);
  p_field(&a, 5, e->action, sizeof e->action, action, 0);
  p_field(&a, 6, e->resource, sizeof e->resource, resource, 0);
  p_i64(&a, 7, e->patient_id);
  p_i64(&a, 8, e->outcome);
  p_field(&a, 9, e->source, sizeof e->source, source, 0);
  p_field(&a, 10, e->request_id, sizeof e->request_id, reqid, 0);
  p_field(&a, 11, e->prev_hash, sizeof e->prev_hash, prev, 0);
  p_field(&a, 12, e->hash, sizeof e->hash, hash, 0);
  rc = pg_run((struct pg_txn *)vt, ST_AUDIT_INSERT, a.v, &r);
  if (rc < 0)
    return rc;
  PQclear(r);
  return 0;
}

static int pg_audit_list(struct vg_txn *vt, const struct vg_audit_query *q,
                         vg_audit_cb cb, void *ctx)
{
  struct vg_audit e;
  struct params a;
  PGresult *r;
  int i, n, stop = 0, rc;
  memset(&a, 0, sizeof a);
  p_i64(&a, 0, q->after_id);
  p_i64(&a, 1, q->patient_id);
  p_i64(&a, 2, q->user_id);
  p_i64(&a, 3, q->from_ms);
  p_i64(&a, 4, q->to_ms);
  p_limit(&a, 5, q->limit);
  rc = pg_run((struct pg_txn *)vt, ST_AUDIT_LIST, a.v, &r);
  if (rc < 0)
    return rc;
  n = PQntuples(r);
  for (i = 0; i < n && !stop; i++) {
    row_audit(r, i, &e);
    stop = cb(ctx, &e);
  }
  PQclear(r);
  return stop;
}

/* ==== portable SQL (store_sql) ========================================== */

/* The prepared name of sql on c ("vq<slot>"), preparing it if new. */
static int adhoc_prepare(struct pg_conn *c, const char *sql, char *name,
                         size_t name_size, int *out_nparams)
{
  unsigned slot;
  PGresult *r;
  char dealloc[32];
  for (slot = 0; slot < PG_ADHOC_MAX && c->adhoc[slot]; slot++) {
    if (strcmp(c->adhoc[slot], sql) == 0) {
      snprintf(name, name_size, "vq%u", slot);
      *out_nparams = c->adhoc_nparams[slot];
      return 0;
    }
  }
  if (slot == PG_ADHOC_MAX) { /* full: evict round-robin */
    slot = c->adhoc_next++ % PG_ADHOC_MAX;
    snprintf(dealloc, sizeof dealloc, "DEALLOCATE vq%u", slot);
    PQclear(PQexec(c->c, dealloc));
    vg_free(c->adhoc[slot]);
    c->adhoc[slot] = NULL;
  }
  snprintf(name, name_size, "vq%u", slot);
  r = PQprepare(c->c, name, sql, 0, NULL);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    int rc = pg_err(c, r, "prepare");
    PQclear(r);
    return rc;
  }
  PQclear(r);
  r = PQdescribePrepared(c->c, name);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    int rc = pg_err(c, r, "describe");
    PQclear(r);
    return rc;
  }
  c->adhoc_nparams[slot] = *out_nparams = PQnparams(r);
  PQclear(r);
  c->adhoc[slot] = vg_strdup(sql);
  return c->adhoc[slot] ? 0 : -VG_ENOMEM;
}

#define PG_SQL_PARAMS_MAX 32
#define PG_COLS_MAX 64

static int pg_sql_run(struct vg_txn *vt, const char *sql,
                      const struct vg_val *params, size_t n_params,
                      vg_row_cb cb, void *ctx, int64_t *out_changes)
{
  struct pg_txn *t = (struct pg_txn *)vt;
  char numbuf[PG_SQL_PARAMS_MAX][32], name[16];
  const char *vals[PG_SQL_PARAMS_MAX];
  char *texts[PG_SQL_PARAMS_MAX] = {0};
  struct vg_val cols[PG_COLS_MAX];
  PGresult *r = NULL;
  int rc, stop = 0, nrows, ncols, nparams = 0;
  size_t i;

  if (n_params > PG_SQL_PARAMS_MAX)
    return -VG_EINVAL;
  for (i = 0; i < n_params; i++) {
    switch (params[i].type) {
    case VG_VAL_NULL: vals[i] = NULL; break;
    case VG_VAL_INT:
      snprintf(numbuf[i], sizeof numbuf[i], "%lld", (long long)params[i].i);
      vals[i] = numbuf[i];
      break;
    case VG_VAL_REAL:
      snprintf(numbuf[i], sizeof numbuf[i], "%.17g", params[i].d);
      vals[i] = numbuf[i];
      break;
    case VG_VAL_TEXT: /* libpq wants NUL-terminated text */
      texts[i] = vg_strndup(params[i].s ? params[i].s : "", params[i].len);
      if (!texts[i]) {
        rc = -VG_ENOMEM;
        goto done;
      }
      vals[i] = texts[i];
      break;
    }
  }
  rc = adhoc_prepare(t->conn, sql, name, sizeof name, &nparams);
  if (rc < 0)
    goto done;
  if ((size_t)nparams != n_params) { /* as the sqlite backend: refused */
    rc = -VG_EINVAL;
    goto done;
  }
  rc = pg_run_named(t, name, (int)n_params, vals, 1, sql, &r);
  if (rc < 0)
    goto done;
  ncols = PQnfields(r);
  nrows = PQntuples(r);
  if (ncols > PG_COLS_MAX) {
    rc = -VG_EINVAL;
    goto done;
  }
  for (int row = 0; row < nrows && !stop && cb; row++) {
    for (int k = 0; k < ncols; k++) {
      const char *v = PQgetvalue(r, row, k);
      Oid type = PQftype(r, k);
      memset(&cols[k], 0, sizeof cols[k]);
      if (PQgetisnull(r, row, k)) {
        cols[k].type = VG_VAL_NULL;
      } else if (type == 20 || type == 21 || type == 23) { /* int8/2/4 */
        cols[k].type = VG_VAL_INT;
        cols[k].i = strtoll(v, NULL, 10);
      } else if (type == 700 || type == 701 || type == 1700) {
        /* float4, float8, numeric */
        cols[k].type = VG_VAL_REAL;
        cols[k].d = strtod(v, NULL);
      } else if (type == 16) { /* bool */
        cols[k].type = VG_VAL_INT;
        cols[k].i = v[0] == 't';
      } else {
        cols[k].type = VG_VAL_TEXT;
        cols[k].s = v;
        cols[k].len = (size_t)PQgetlength(r, row, k);
      }
    }
    stop = cb(ctx, cols, (size_t)ncols);
  }
  rc = stop;
  if (out_changes && rc == 0) {
    const char *tuples = PQcmdTuples(r);
    *out_changes = *tuples ? strtoll(tuples, NULL, 10) : 0;
  }
done:
  PQclear(r);
  for (i = 0; i < n_params; i++)
    vg_free(texts[i]);
  return rc;
}

/* ==== the vtable ======================================================== */

const struct vg_store_ops store_pg_ops = {
  .name = "pg",
  .version = 3,
  .caps = VG_STORE_CAP_SAVEPOINT,
  .open = pg_open,
  .close = pg_close,
  .migrate = pg_migrate,
  .begin = pg_begin,
  .commit = pg_commit,
  .rollback = pg_rollback,
  .savepoint = pg_savepoint,
  .release = pg_release,
  .rollback_to = pg_rollback_to,
  .patient_create = pg_patient_create,
  .patient_get = pg_patient_get,
  .patient_list = pg_patient_list,
  .device_create = pg_device_create,
  .device_get = pg_device_get,
  .device_by_serial = pg_device_by_serial,
  .device_list = pg_device_list,
  .readings_insert = pg_readings_insert,
  .readings_query = pg_readings_query,
  .readings_buckets = pg_readings_buckets,
  .user_create = pg_user_create,
  .user_get = pg_user_get,
  .user_by_name = pg_user_by_name,
  .user_update = pg_user_update,
  .token_create = pg_token_create,
  .token_by_hash = pg_token_by_hash,
  .token_revoke = pg_token_revoke,
  .audit_tail = pg_audit_tail,
  .audit_append = pg_audit_append,
  .audit_list = pg_audit_list,
  .sql = pg_sql_run,
};
