/* bench_query.c - read latency: load N readings (10,000 patients, months of
 * home BP, glucose, SpO2, weight and CGM) through the store API into a
 * temp database, start `vigil serve` on it, then time over loopback
 * (a) 90-day single-patient range queries for sbp and (b) 1-year ranges
 * bucketed by day, against the bare SQLite SELECT of the same query shape
 * measured in the same run. Prints p50/p99 latency, requests/s and the
 * ratios; target: p99 <= 5 ms for (a). Every server answer is checked to
 * hold the same number of rows/buckets as the bare SELECT.
 *
 * usage: bench_query <path-to-vigil> [--readings 10000000]
 *          [--patients 10000] [--requests 3000] [--clients 1] */
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "bench_common.h"
#include "config.h"
#include "core_log.h"
#include "store.h"

#define SEED 0x0DDBA11ULL
#define WARMUP 300

/* Same SQL as store_sqlite.c (READING_Q + code filter, BUCKETS_Q). */
#define SQL_RANGE \
  "SELECT code, ts_ms, source, value, unit, tz_offset_min FROM reading " \
  "WHERE patient_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3 AND code = ?4 " \
  "ORDER BY code, ts_ms, source LIMIT ?8"
#define SQL_BUCKETS \
  "SELECT code, (CASE WHEN ts_ms >= 0 THEN ts_ms / ?4 ELSE " \
  "(ts_ms - ?4 + 1) / ?4 END) * ?4 AS start, min(value), avg(value), " \
  "max(value), count(*) FROM reading WHERE patient_id = ?1 AND ts_ms >= ?2 " \
  "AND ts_ms < ?3 GROUP BY code, start ORDER BY code, start LIMIT ?8"

struct query {
  int64_t patient, from_ms, to_ms;
  long expect; /* rows (a) or buckets (b) from the bare SELECT */
};

struct run {
  const char *base;
  const struct query *q;
  size_t n;
  int bucketed;
  double *lat_ms;
  atomic_size_t next;
  atomic_size_t bad;
};

/* ---- loading ---------------------------------------------------------- */

static int load(const char *path, long n_pat, size_t total, int64_t day0,
                double *out_s)
{
  struct vg_config cfg;
  struct vg_store *s = NULL;
  struct vg_txn *t = NULL;
  struct bc_reading *g = NULL;
  struct vg_reading *r = NULL;
  unsigned char *status = NULL;
  size_t cap = 0, in_txn = 0;
  char srcs[8][32];
  int64_t t0 = bc_now_ns();
  int rc;

  config_init(&cfg);
  snprintf(cfg.db, sizeof cfg.db, "%s", path);
  rc = store_open(&cfg, &s);
  if (rc)
    return rc;
  rc = store_begin(s, VG_TXN_WRITE, &t);
  for (long p = 1; !rc && p <= n_pat; p++) {
    struct vg_patient pt;
    size_t k = bc_budget(p, n_pat, total);
    memset(&pt, 0, sizeof pt);
    snprintf(pt.name, sizeof pt.name, "Bench Patient %ld", p);
    pt.sex = p % 2 ? 'F' : 'M';
    snprintf(pt.tz, sizeof pt.tz, "Asia/Shanghai");
    rc = store_patient_create(t, &pt);
    if (rc || pt.id != p) {
      rc = rc ? rc : -1;
      break;
    }
    if (k > cap) {
      cap = k * 2;
      g = realloc(g, cap * sizeof *g);
      r = realloc(r, cap * sizeof *r);
      status = realloc(status, cap);
      if (!g || !r || !status)
        abort();
    }
    bc_gen_patient(p, SEED, day0, k, g);
    for (int c = 1; c < 8; c++)
      snprintf(srcs[c], sizeof srcs[c], "%s-%ld", bc_source_kind(c), p);
    for (size_t i = 0; i < k; i++) {
      r[i].patient_id = p;
      r[i].ts_ms = g[i].ts_ms;
      r[i].value = g[i].value;
      r[i].code = g[i].code;
      r[i].tz_offset_min = BC_TZ_MIN;
      r[i].source = srcs[g[i].code];
      r[i].unit = "";
    }
    rc = store_readings_insert(t, r, k, status);
    in_txn += k;
    if (!rc && in_txn >= 1000000) { /* large write transactions */
      rc = store_commit(t);
      t = NULL;
      in_txn = 0;
      if (!rc)
        rc = store_begin(s, VG_TXN_WRITE, &t);
    }
  }
  if (t)
    rc = rc ? (store_rollback(t), rc) : store_commit(t);
  store_close(s);
  free(g);
  free(r);
  free(status);
  *out_s = (double)(bc_now_ns() - t0) / 1e9;
  return rc;
}

/* ---- bare SQLite ------------------------------------------------------ */

/* Runs every query with one prepared statement, stepping all rows and
 * reading every column. Fills q[i].expect when fill, else checks it. */
static int bare(sqlite3 *db, int bucketed, struct query *q, size_t n,
                double *lat_ms, int fill)
{
  sqlite3_stmt *st = NULL;
  double sink = 0;
  int rc = -1;
  if (sqlite3_prepare_v2(db, bucketed ? SQL_BUCKETS : SQL_RANGE, -1, &st,
                         NULL) != SQLITE_OK) {
    fprintf(stderr, "prepare: %s\n", sqlite3_errmsg(db));
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    int64_t t0 = bc_now_ns();
    long rows = 0;
    int s;
    sqlite3_bind_int64(st, 1, q[i].patient);
    sqlite3_bind_int64(st, 2, q[i].from_ms);
    sqlite3_bind_int64(st, 3, q[i].to_ms);
    if (bucketed)
      sqlite3_bind_int64(st, 4, BC_DAY_MS);
    else
      sqlite3_bind_int(st, 4, 1 /* sbp */);
    sqlite3_bind_int64(st, 8, bucketed ? 100000 : 1000);
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
      rows++;
      if (bucketed) {
        sink += sqlite3_column_int(st, 0) + sqlite3_column_int64(st, 1) +
                sqlite3_column_double(st, 2) + sqlite3_column_double(st, 3) +
                sqlite3_column_double(st, 4) + sqlite3_column_int64(st, 5);
      } else {
        const unsigned char *src = sqlite3_column_text(st, 2);
        const unsigned char *unit = sqlite3_column_text(st, 4);
        sink += sqlite3_column_int(st, 0) + sqlite3_column_int64(st, 1) +
                sqlite3_column_double(st, 3) + (src ? src[0] : 0) +
                (unit ? unit[0] : 0) + sqlite3_column_int(st, 5);
      }
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE) {
      fprintf(stderr, "step: %s\n", sqlite3_errmsg(db));
      goto fail;
    }
    if (lat_ms)
      lat_ms[i] = (double)(bc_now_ns() - t0) / 1e6;
    if (fill)
      q[i].expect = rows;
    else if (q[i].expect != rows)
      goto fail;
  }
  rc = sink == -1.0 ? 1 : 0; /* keeps the column reads alive */
fail:
  sqlite3_finalize(st);
  return rc;
}

/* ---- through the server ----------------------------------------------- */

static long count_items(const char *body)
{
  long n = 0;
  for (const char *p = body; (p = strstr(p, "{\"code\":")); p++)
    n++;
  return n;
}

static void *client_main(void *arg)
{
  struct run *rn = arg;
  struct bc_http h;
  char url[256];
  size_t i;
  if (bc_http_init(&h)) {
    atomic_fetch_add(&rn->bad, 1);
    return NULL;
  }
  while ((i = atomic_fetch_add(&rn->next, 1)) < rn->n) {
    const struct query *q = &rn->q[i];
    int64_t t0;
    long st;
    snprintf(url, sizeof url,
             "%s/api/v1/patients/%lld/readings?%sfrom=%lld&to=%lld%s",
             rn->base, (long long)q->patient,
             rn->bucketed ? "" : "code=sbp&", (long long)q->from_ms,
             (long long)q->to_ms, rn->bucketed ? "&bucket=1d" : "");
    t0 = bc_now_ns();
    st = bc_http_req(&h, url, NULL, 0);
    if (rn->lat_ms)
      rn->lat_ms[i] = (double)(bc_now_ns() - t0) / 1e6;
    if (st != 200 || count_items(h.body) != q->expect) {
      if (atomic_fetch_add(&rn->bad, 1) < 5)
        fprintf(stderr, "%s: status %ld, %ld items, expected %ld\n", url, st,
                count_items(h.body ? h.body : ""), q->expect);
    }
  }
  bc_http_free(&h);
  return NULL;
}

/* Returns wall seconds; latencies in lat_ms (may be NULL for warm-up). */
static double server_run(const char *base, const struct query *q, size_t n,
                         int bucketed, size_t clients, double *lat_ms,
                         size_t *out_bad)
{
  struct run rn;
  pthread_t th[64];
  int64_t t0;
  memset(&rn, 0, sizeof rn);
  rn.base = base;
  rn.q = q;
  rn.n = n;
  rn.bucketed = bucketed;
  rn.lat_ms = lat_ms;
  t0 = bc_now_ns();
  for (size_t i = 0; i < clients; i++)
    pthread_create(&th[i], NULL, client_main, &rn);
  for (size_t i = 0; i < clients; i++)
    pthread_join(th[i], NULL);
  *out_bad += atomic_load(&rn.bad);
  return (double)(bc_now_ns() - t0) / 1e9;
}

static void report(const char *what, double *lat, size_t n, double wall_s)
{
  double p50 = bc_percentile(lat, n, 0.50), p99 = bc_percentile(lat, n, 0.99);
  printf("  %-22s p50 %7.3f ms  p99 %7.3f ms  max %7.3f ms  %8.0f req/s\n",
         what, p50, p99, lat[n - 1], (double)n / wall_s);
}

int main(int argc, char **argv)
{
  size_t total = 10000000, n_req = 3000, clients = 1, i;
  long n_pat = 10000;
  char dir[256], dbpath[300];
  struct query *qa, *qb, *wa, *wb;
  double *lat_srv, *lat_bare, load_s, wall, p99a = 0;
  int64_t day0;
  uint64_t rs = SEED;
  struct bc_server srv;
  size_t bad = 0;
  sqlite3 *db = NULL;
  long hwm;
  int exit_rc;

  if (argc < 2 || argv[1][0] == '-') {
    fprintf(stderr, "usage: bench_query <path-to-vigil> [--readings N] "
                    "[--patients N] [--requests N] [--clients N]\n");
    return 2;
  }
  for (int a = 2; a < argc; a += 2) {
    const char *v = a + 1 < argc ? argv[a + 1] : NULL;
    if (!strcmp(argv[a], "--readings"))
      total = (size_t)bc_parse_long(argv[a], v);
    else if (!strcmp(argv[a], "--patients"))
      n_pat = bc_parse_long(argv[a], v);
    else if (!strcmp(argv[a], "--requests"))
      n_req = (size_t)bc_parse_long(argv[a], v);
    else if (!strcmp(argv[a], "--clients"))
      clients = (size_t)bc_parse_long(argv[a], v);
    else {
      fprintf(stderr, "bench_query: unknown option '%s'\n", argv[a]);
      return 2;
    }
  }
  if (clients > 64)
    clients = 64;
  setvbuf(stdout, NULL, _IOLBF, 0);
  log_set_level(VG_LOG_WARN);
  curl_global_init(CURL_GLOBAL_ALL);
  /* Data ends before today: start 400 days ago, at a UTC midnight. */
  day0 = vg_now_ms() - 400 * BC_DAY_MS;
  day0 -= day0 % BC_DAY_MS;

  if (bc_tmpdir(dir, sizeof dir, "query")) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(dbpath, sizeof dbpath, "%s/vigil.db", dir);
  printf("bench_query: %zu readings, %ld patients, %zu requests per test, "
         "%zu client(s)\n", total, n_pat, n_req, clients);
  if (load(dbpath, n_pat, total, day0, &load_s)) {
    fprintf(stderr, "loading failed\n");
    return 1;
  }
  printf("  load through store API: %.1f s (%.0f rows/s)\n", load_s,
         (double)total / load_s);

  /* Queries: random patients; (a) a 90-day window starting in the first
   * 200 days of data; (b) the whole year from day0. */
  qa = calloc(n_req, sizeof *qa);
  qb = calloc(n_req, sizeof *qb);
  wa = calloc(WARMUP, sizeof *wa);
  wb = calloc(WARMUP, sizeof *wb);
  lat_srv = calloc(n_req, sizeof *lat_srv);
  lat_bare = calloc(n_req, sizeof *lat_bare);
  for (i = 0; i < n_req + WARMUP; i++) {
    struct query *a = i < WARMUP ? &wa[i] : &qa[i - WARMUP];
    struct query *b = i < WARMUP ? &wb[i] : &qb[i - WARMUP];
    a->patient = 1 + (int64_t)(bc_rand(&rs) % (uint64_t)n_pat);
    a->from_ms = day0 + (int64_t)(bc_rand(&rs) % 200) * BC_DAY_MS;
    a->to_ms = a->from_ms + 90 * BC_DAY_MS;
    b->patient = 1 + (int64_t)(bc_rand(&rs) % (uint64_t)n_pat);
    b->from_ms = day0;
    b->to_ms = day0 + 365 * BC_DAY_MS;
  }

  if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
      sqlite3_exec(db, "PRAGMA cache_size=-4096; PRAGMA query_only=1;", NULL,
                   NULL, NULL) != SQLITE_OK) {
    fprintf(stderr, "open %s failed\n", dbpath);
    return 1;
  }
  {
    sqlite3_stmt *st = NULL;
    long long rows = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM reading", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
      rows = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    printf("  rows in database: %lld (%s)\n", rows,
           rows == (long long)total ? "ok" : "MISMATCH");
    if (rows != (long long)total)
      return 1;
  }
  /* Expected answers (and a warm page cache for both sides). */
  if (bare(db, 0, wa, WARMUP, NULL, 1) || bare(db, 1, wb, WARMUP, NULL, 1) ||
      bare(db, 0, qa, n_req, NULL, 1) || bare(db, 1, qb, n_req, NULL, 1))
    return 1;
  {
    long rows_a = 0, rows_b = 0;
    for (i = 0; i < n_req; i++) {
      rows_a += qa[i].expect;
      rows_b += qb[i].expect;
    }
    printf("  mean rows per answer: (a) %.1f sbp readings, (b) %.1f day "
           "buckets\n", (double)rows_a / (double)n_req,
           (double)rows_b / (double)n_req);
  }

  if (bc_server_start(&srv, argv[1], dbpath, NULL))
    return 1;
  server_run(srv.base, wa, WARMUP, 0, clients, NULL, &bad);
  server_run(srv.base, wb, WARMUP, 1, clients, NULL, &bad);

  printf("  (a) 90-day sbp range, GET .../readings?code=sbp&from=&to=\n");
  wall = server_run(srv.base, qa, n_req, 0, clients, lat_srv, &bad);
  report("vigil over loopback", lat_srv, n_req, wall);
  p99a = bc_percentile(lat_srv, n_req, 0.99);
  {
    double p50s = bc_percentile(lat_srv, n_req, 0.5), p50b, p99b;
    int64_t t0 = bc_now_ns();
    if (bare(db, 0, qa, n_req, lat_bare, 0)) {
      fprintf(stderr, "bare (a) answers changed\n");
      return 1;
    }
    report("bare SQLite SELECT", lat_bare, n_req,
           (double)(bc_now_ns() - t0) / 1e9);
    p50b = bc_percentile(lat_bare, n_req, 0.5);
    p99b = bc_percentile(lat_bare, n_req, 0.99);
    printf("  ratio vigil/bare: p50 %.1fx  p99 %.1fx   target p99 <= 5 ms: "
           "%s\n", p50s / p50b, p99a / p99b, p99a <= 5.0 ? "met" : "MISSED");
  }

  printf("  (b) 1-year range bucketed by day, all codes, &bucket=1d\n");
  wall = server_run(srv.base, qb, n_req, 1, clients, lat_srv, &bad);
  report("vigil over loopback", lat_srv, n_req, wall);
  {
    double p50s = bc_percentile(lat_srv, n_req, 0.5);
    double p99s = bc_percentile(lat_srv, n_req, 0.99);
    int64_t t0 = bc_now_ns();
    if (bare(db, 1, qb, n_req, lat_bare, 0)) {
      fprintf(stderr, "bare (b) answers changed\n");
      return 1;
    }
    report("bare SQLite SELECT", lat_bare, n_req,
           (double)(bc_now_ns() - t0) / 1e9);
    printf("  ratio vigil/bare: p50 %.1fx  p99 %.1fx\n",
           p50s / bc_percentile(lat_bare, n_req, 0.5),
           p99s / bc_percentile(lat_bare, n_req, 0.99));
  }
  sqlite3_close(db);
  hwm = bc_proc_kib(srv.pid, "VmHWM");
  exit_rc = bc_server_stop(&srv);
  printf("  server peak RSS %.1f MB; exit on SIGTERM %d (%s); "
         "%zu answers wrong or failed\n", (double)hwm / 1024.0, exit_rc,
         exit_rc == 0 ? "ok" : "FAILED", bad);
  free(qa);
  free(qb);
  free(wa);
  free(wb);
  free(lat_srv);
  free(lat_bare);
  bc_rm_db(dir);
  curl_global_cleanup();
  return bad || exit_rc ? 1 : 0;
}
