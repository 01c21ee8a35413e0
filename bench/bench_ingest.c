/* bench_ingest.c - bulk ingest throughput: the same deterministic readings
 * (a) inserted by a bare SQLite loop (same schema, same PRAGMAs, one
 * prepared INSERT OR IGNORE, one transaction per batch) and (b) POSTed as
 * JSON batches to a real `vigil serve` over loopback by concurrent
 * keep-alive clients. Prints both rates, their ratio (target >= 0.5) and
 * the server's peak RSS (target <= 150 MB), then checks the row count.
 *
 * usage: bench_ingest <path-to-vigil> [--readings 2000000]
 *          [--patients 10000] [--batch 5000] [--clients 4] */
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "bench_common.h"
#include "config.h"
#include "core_log.h"
#include "store.h"

#define SEED 0x5EEDBEEFULL
#define DAY0_MS 1735689600000LL /* 2025-01-01T00:00:00Z, safely in the past */

struct job {
  const char *url;
  char **bodies;
  size_t *body_len;
  size_t *batch_n;
  size_t n_batches;
  atomic_size_t next;
  atomic_size_t accepted, failed;
};

struct sampler {
  pid_t pid;
  atomic_int stop;
  long max_rss_kib;
  size_t samples;
};

static void *client_main(void *arg)
{
  struct job *j = arg;
  struct bc_http h;
  size_t i;
  if (bc_http_init(&h)) {
    atomic_fetch_add(&j->failed, 1);
    return NULL;
  }
  while ((i = atomic_fetch_add(&j->next, 1)) < j->n_batches) {
    long st = bc_http_req(&h, j->url, j->bodies[i], j->body_len[i]);
    long long acc = bc_json_int(h.body, "accepted");
    if (st != 200 || acc != (long long)j->batch_n[i] ||
        bc_json_int(h.body, "duplicate") != 0) {
      if (atomic_fetch_add(&j->failed, 1) < 5)
        fprintf(stderr, "batch %zu: status %ld body %.300s\n", i, st,
                h.body ? h.body : "");
      continue;
    }
    atomic_fetch_add(&j->accepted, (size_t)acc);
  }
  bc_http_free(&h);
  return NULL;
}

static void *sampler_main(void *arg)
{
  struct sampler *s = arg;
  while (!atomic_load(&s->stop)) {
    long v = bc_proc_kib(s->pid, "VmRSS");
    if (v > s->max_rss_kib)
      s->max_rss_kib = v;
    s->samples++;
    bc_sleep_ms(20);
  }
  return NULL;
}

/* Create the schema in path through the store (exactly the server's DDL),
 * and n_pat patients with ids 1..n_pat when n_pat > 0. */
static int prepare_db(const char *path, long n_pat)
{
  struct vg_config cfg;
  struct vg_store *s;
  struct vg_txn *t;
  int rc;
  config_init(&cfg);
  snprintf(cfg.db, sizeof cfg.db, "%s", path);
  rc = store_open(&cfg, &s);
  if (rc)
    return rc;
  rc = store_begin(s, VG_TXN_WRITE, &t);
  for (long i = 1; !rc && i <= n_pat; i++) {
    struct vg_patient p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "Bench Patient %ld", i);
    snprintf(p.identifier, sizeof p.identifier, "bench-%ld", i);
    p.sex = i % 2 ? 'F' : 'M';
    snprintf(p.tz, sizeof p.tz, "Asia/Shanghai");
    rc = store_patient_create(t, &p);
    if (!rc && p.id != i) {
      fprintf(stderr, "patient %ld got id %lld\n", i, (long long)p.id);
      rc = -1;
    }
    if (rc)
      store_rollback(t);
  }
  if (!rc)
    rc = store_commit(t);
  store_close(s);
  return rc;
}

static int exec(sqlite3 *db, const char *sql)
{
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    fprintf(stderr, "sqlite: %s: %s\n", sql, msg ? msg : "?");
    sqlite3_free(msg);
    return -1;
  }
  return 0;
}

/* (a) The bare SQLite loop. Returns seconds, or < 0 on failure. */
static double baseline(const char *path, const struct bc_reading *r,
                       char **src, size_t n, size_t batch)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  size_t i, changed = 0;
  int64_t t0, now = vg_now_ms();
  double secs = -1;

  if (sqlite3_open(path, &db) != SQLITE_OK)
    goto fail;
  /* The server's writer connection settings (store_sqlite.c conn_open). */
  if (exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
               "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; "
               "PRAGMA cache_size=-16384;"))
    goto fail;
  if (sqlite3_prepare_v2(db,
                         "INSERT OR IGNORE INTO reading (patient_id, code, "
                         "ts_ms, source, value, unit, tz_offset_min, "
                         "ingested_ms) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
                         -1, &st, NULL) != SQLITE_OK)
    goto fail;
  t0 = bc_now_ns();
  for (i = 0; i < n; i++) {
    if (i % batch == 0 && exec(db, "BEGIN IMMEDIATE"))
      goto fail;
    sqlite3_bind_int64(st, 1, r[i].patient);
    sqlite3_bind_int(st, 2, r[i].code);
    sqlite3_bind_int64(st, 3, r[i].ts_ms);
    sqlite3_bind_text(st, 4, src[i], -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 5, r[i].value);
    sqlite3_bind_text(st, 6, bc_unit(r[i].code), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, BC_TZ_MIN);
    sqlite3_bind_int64(st, 8, now);
    if (sqlite3_step(st) != SQLITE_DONE) {
      fprintf(stderr, "baseline insert: %s\n", sqlite3_errmsg(db));
      goto fail;
    }
    sqlite3_reset(st);
    changed += (size_t)sqlite3_changes(db);
    if ((i + 1) % batch == 0 || i + 1 == n)
      if (exec(db, "COMMIT"))
        goto fail;
  }
  secs = (double)(bc_now_ns() - t0) / 1e9;
  if (changed != n) {
    fprintf(stderr, "baseline stored %zu of %zu (duplicate keys?)\n",
            changed, n);
    secs = -1;
  }
fail:
  if (secs < 0 && db)
    fprintf(stderr, "baseline failed: %s\n", sqlite3_errmsg(db));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return secs;
}

static long long count_rows(const char *path)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  long long n = -1;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(db, "SELECT count(*) FROM reading", -1, &st,
                         NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

static void usage(void)
{
  fprintf(stderr, "usage: bench_ingest <path-to-vigil> [--readings N] "
                  "[--patients N] [--batch N] [--clients N]\n");
}

int main(int argc, char **argv)
{
  size_t n = 2000000, batch = 5000, clients = 4, i;
  long n_pat = 10000;
  struct bc_reading *r;
  char **src, *srcbuf, dir[256], dbpath[300], basepath[300], url[128];
  struct job job;
  struct sampler smp;
  struct bc_server srv;
  pthread_t *th, sth;
  double base_s, srv_s, base_rate, srv_rate, ratio;
  size_t body_bytes = 0;
  long hwm;
  long long rows;
  int exit_rc, failed = 0;
  int64_t t0;

  if (argc < 2 || argv[1][0] == '-') {
    usage();
    return 2;
  }
  for (int a = 2; a < argc; a += 2) {
    const char *v = a + 1 < argc ? argv[a + 1] : NULL;
    if (!strcmp(argv[a], "--readings"))
      n = (size_t)bc_parse_long(argv[a], v);
    else if (!strcmp(argv[a], "--patients"))
      n_pat = bc_parse_long(argv[a], v);
    else if (!strcmp(argv[a], "--batch"))
      batch = (size_t)bc_parse_long(argv[a], v);
    else if (!strcmp(argv[a], "--clients"))
      clients = (size_t)bc_parse_long(argv[a], v);
    else {
      usage();
      return 2;
    }
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  log_set_level(VG_LOG_WARN);
  curl_global_init(CURL_GLOBAL_ALL);

  /* ---- data, generated before any clock starts ---- */
  r = malloc(n * sizeof *r);
  src = malloc(n * sizeof *src);
  srcbuf = malloc(n * 24);
  if (!r || !src || !srcbuf)
    return 1;
  for (long p = 1, o = 0; p <= n_pat; p++) {
    size_t k = bc_budget(p, n_pat, n);
    bc_gen_patient(p, SEED, DAY0_MS, k, r + o);
    o += (long)k;
  }
  /* Arrival order: by time across all patients, as gateways upload. */
  qsort(r, n, sizeof *r, bc_cmp_reading_ts);
  for (i = 0; i < n; i++) {
    src[i] = srcbuf + i * 24;
    snprintf(src[i], 24, "%s-%lld", bc_source_kind(r[i].code),
             (long long)r[i].patient);
  }
  printf("bench_ingest: %zu readings, %ld patients, batch %zu, %zu clients\n",
         n, n_pat, batch, clients);

  if (bc_tmpdir(dir, sizeof dir, "ingest")) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(dbpath, sizeof dbpath, "%s/vigil.db", dir);
  snprintf(basepath, sizeof basepath, "%s/baseline.db", dir);

  /* ---- (a) bare SQLite ---- */
  if (prepare_db(basepath, 0)) {
    fprintf(stderr, "baseline schema failed\n");
    return 1;
  }
  base_s = baseline(basepath, r, src, n, batch);
  if (base_s <= 0)
    return 1;
  base_rate = (double)n / base_s;
  printf("  sqlite baseline : %10.0f rows/s  (%.2f s)\n", base_rate, base_s);

  /* ---- (b) through the server ---- */
  if (prepare_db(dbpath, n_pat)) {
    fprintf(stderr, "creating %ld patients failed\n", n_pat);
    return 1;
  }
  memset(&job, 0, sizeof job);
  job.n_batches = (n + batch - 1) / batch;
  job.bodies = malloc(job.n_batches * sizeof *job.bodies);
  job.body_len = malloc(job.n_batches * sizeof *job.body_len);
  job.batch_n = malloc(job.n_batches * sizeof *job.batch_n);
  for (size_t b = 0; b < job.n_batches; b++) {
    size_t cnt = n - b * batch < batch ? n - b * batch : batch;
    size_t cap = cnt * 200 + 32, len;
    char *s = malloc(cap);
    len = (size_t)snprintf(s, cap, "{\"readings\":[");
    for (i = 0; i < cnt; i++) {
      if (i)
        s[len++] = ',';
      len += bc_reading_json(&r[b * batch + i], s + len, cap - len);
    }
    len += (size_t)snprintf(s + len, cap - len, "]}");
    job.bodies[b] = s;
    job.body_len[b] = len;
    job.batch_n[b] = cnt;
    body_bytes += len;
  }
  printf("  %zu request bodies, %.1f MB of JSON (%.0f B/reading)\n",
         job.n_batches, (double)body_bytes / 1e6,
         (double)body_bytes / (double)n);

  if (bc_server_start(&srv, argv[1], dbpath, NULL))
    return 1;
  snprintf(url, sizeof url, "%s/api/v1/readings", srv.base);
  job.url = url;
  memset(&smp, 0, sizeof smp);
  smp.pid = srv.pid;
  pthread_create(&sth, NULL, sampler_main, &smp);
  th = malloc(clients * sizeof *th);
  t0 = bc_now_ns();
  for (i = 0; i < clients; i++)
    pthread_create(&th[i], NULL, client_main, &job);
  for (i = 0; i < clients; i++)
    pthread_join(th[i], NULL);
  srv_s = (double)(bc_now_ns() - t0) / 1e9;
  hwm = bc_proc_kib(srv.pid, "VmHWM");
  atomic_store(&smp.stop, 1);
  pthread_join(sth, NULL);
  exit_rc = bc_server_stop(&srv);
  rows = count_rows(dbpath);

  srv_rate = (double)atomic_load(&job.accepted) / srv_s;
  ratio = srv_rate / base_rate;
  printf("  vigil server    : %10.0f rows/s  (%.2f s, %zu accepted, "
         "%zu failed requests)\n",
         srv_rate, srv_s, atomic_load(&job.accepted),
         atomic_load(&job.failed));
  printf("  ratio server/sqlite: %.2f  (target >= 0.50: %s)\n", ratio,
         ratio >= 0.5 ? "met" : "MISSED");
  printf("  server peak RSS : %.1f MB VmHWM, %.1f MB max sampled VmRSS "
         "(%zu samples)  (target <= 150 MB: %s)\n",
         (double)hwm / 1024.0, (double)smp.max_rss_kib / 1024.0, smp.samples,
         hwm >= 0 && hwm <= 150 * 1024 ? "met" : "MISSED");
  printf("  server exit on SIGTERM: %d (%s)\n", exit_rc,
         exit_rc == 0 ? "ok" : "FAILED");
  printf("  rows in server db: %lld of %zu sent (%s)\n", rows, n,
         rows == (long long)n ? "ok" : "MISMATCH");

  failed = atomic_load(&job.failed) != 0 || exit_rc != 0 ||
           rows != (long long)n || atomic_load(&job.accepted) != n;
  for (size_t b = 0; b < job.n_batches; b++)
    free(job.bodies[b]);
  free(job.bodies);
  free(job.body_len);
  free(job.batch_n);
  free(th);
  free(r);
  free(src);
  free(srcbuf);
  bc_rm_db(dir);
  curl_global_cleanup();
  return failed ? 1 : 0;
}
