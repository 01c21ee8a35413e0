/* bench_pg.c - PostgreSQL ingest: the same rows (a) loaded by a bare COPY
 * into the reading table, (b) inserted through the pg store backend (the
 * server's batch statement, one transaction per batch), (c) POSTed as JSON
 * batches to one `vigil serve --pg`, (d) to two nodes on the same
 * database. Prints rows/s, HTTP/COPY (target >= 0.5) and two/one nodes
 * (target >= 1.0), and checks every run stored exactly n rows.
 *
 * usage: bench_pg <path-to-vigil> [--pg URL (default $VG_PG_URL)]
 *          [--rows 200000] [--batch 1000] [--clients 4] [--patients 1000]
 *          [--run 100]   (readings per patient in a row: a batch of 1000
 *                         holds 10 patients; --run 1 spreads every batch
 *                         over 1000 patients)
 *          [--only cs12] (runs: c COPY, s store, 1 / 2 HTTP nodes)
 * e.g.   PG_HARNESS_FSYNC=on tests/pg/pg_harness.sh \
 *          build-bench/bench/bench_pg build-bench/vigil
 * The reading table of that database is truncated between runs. */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>

#include "bench_common.h"

#if defined(HAVE_POSTGRES)
#include <libpq-fe.h>

#include "config.h"
#include "core_log.h"
#include "store.h"

#define HR_CODE 3 /* "hr" in codes.def */

struct rows {
  long n, n_pat, batch;
  long run; /* consecutive rows of one patient (a device upload) */
  int64_t *pid; /* patient ids, n_pat */
  int64_t t0_ms;
};

/* Rows come in runs of `run` readings of one patient, patients in turn:
 * row i is patient (i / run) % n_pat at a time unique for that patient. */
static int64_t row_pid(const struct rows *w, long i)
{
  return w->pid[(i / w->run) % w->n_pat];
}

static int64_t row_ts(const struct rows *w, long i)
{
  long lap = i / (w->run * w->n_pat);
  return w->t0_ms + (lap * w->run + i % w->run) * 1000;
}

static double row_val(long i)
{
  return 60.0 + (double)(i % 40);
}

/* ---- CPU accounting: robust to other load on a shared machine -------- */

static long pg_postmaster; /* pid, 0 = unknown */

/* CPU seconds (user + system) of process pid so far; with_ppid: only if
 * its parent is that pid. 0 when gone or not matching. */
static double proc_cpu_s(long pid, long with_ppid)
{
  char path[64], line[1024], *p;
  long ppid = 0;
  unsigned long long ut = 0, st = 0;
  FILE *f;
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  f = fopen(path, "r");
  if (!f)
    return 0;
  p = fgets(line, sizeof line, f) ? strrchr(line, ')') : NULL;
  fclose(f);
  /* after "pid (comm)": state ppid ... field 14 utime, 15 stime */
  if (!p || sscanf(p + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                   "%llu %llu", &ppid, &ut, &st) != 3)
    return 0;
  if (with_ppid && ppid != with_ppid)
    return 0;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds of every child of the postmaster (backends, WAL writer,
 * checkpointer, ...) still running. */
static double pg_cpu_s(void)
{
  DIR *d;
  struct dirent *e;
  double sum = 0;
  if (!pg_postmaster)
    return 0;
  d = opendir("/proc");
  if (!d)
    return 0;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
      sum += proc_cpu_s(strtol(e->d_name, NULL, 10), pg_postmaster);
  closedir(d);
  return sum;
}

/* The postmaster's pid from postmaster.pid in the data directory (needs
 * a superuser connection and a local server; else CPU is not shown). */
static void find_postmaster(PGconn *c)
{
  PGresult *r = PQexec(c, "SHOW data_directory");
  char path[1200];
  FILE *f;
  if (PQresultStatus(r) == PGRES_TUPLES_OK) {
    snprintf(path, sizeof path, "%s/postmaster.pid", PQgetvalue(r, 0, 0));
    f = fopen(path, "r");
    if (f) {
      if (fscanf(f, "%ld", &pg_postmaster) != 1)
        pg_postmaster = 0;
      fclose(f);
    }
  }
  PQclear(r);
}

/* CPU per row of a run: PostgreSQL, and vigil (0 when not measured). */
static void cpu_report(const char *label, double pg_s, double vigil_s, long n)
{
  if (!pg_postmaster)
    return;
  printf("  %-34s cpu/row: postgres %.2f us, vigil %.2f us, sum %.2f us\n",
         label, pg_s * 1e6 / (double)n, vigil_s * 1e6 / (double)n,
         (pg_s + vigil_s) * 1e6 / (double)n);
}

static PGconn *db_connect(const char *url)
{
  PGconn *c = PQconnectdb(url);
  if (PQstatus(c) != CONNECTION_OK) {
    fprintf(stderr, "connect: %s", PQerrorMessage(c));
    PQfinish(c);
    return NULL;
  }
  return c;
}

static int db_exec(PGconn *c, const char *sql)
{
  PGresult *r = PQexec(c, sql);
  int ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
           PQresultStatus(r) == PGRES_TUPLES_OK;
  if (!ok)
    fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
  PQclear(r);
  return ok ? 0 : -1;
}

static long db_count(PGconn *c)
{
  PGresult *r = PQexec(c, "SELECT count(*) FROM reading");
  long n = PQresultStatus(r) == PGRES_TUPLES_OK
               ? strtol(PQgetvalue(r, 0, 0), NULL, 10)
               : -1;
  PQclear(r);
  return n;
}

/* Schema through the store (the server's own migrations), and patients. */
static int prepare(const char *url, struct rows *w)
{
  struct vg_config cfg;
  struct vg_store *s;
  struct vg_txn *t;
  int rc;
  config_init(&cfg);
  snprintf(cfg.pg, sizeof cfg.pg, "%s", url);
  rc = store_open(&cfg, &s);
  if (rc)
    return rc;
  rc = store_begin(s, VG_TXN_WRITE, &t);
  for (long i = 0; !rc && i < w->n_pat; i++) {
    struct vg_patient p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "PG Bench %ld", i);
    p.sex = 'F';
    snprintf(p.tz, sizeof p.tz, "Asia/Shanghai");
    rc = store_patient_create(t, &p);
    w->pid[i] = p.id;
    if (rc)
      store_rollback(t);
  }
  if (!rc)
    rc = store_commit(t);
  store_close(s);
  return rc;
}

/* (a) bare COPY of the rows into reading, sent in 256 KiB chunks; the
 * text is made before the clock starts. */
static double run_copy(PGconn *c, const struct rows *w)
{
  size_t cap = (size_t)w->n * 96 + 1, len = 0, off;
  char *buf = malloc(cap);
  int64_t now = vg_now_ms(), t0;
  double cpu0;
  PGresult *r;
  int ok;
  if (!buf)
    abort();
  for (long i = 0; i < w->n; i++)
    len += (size_t)snprintf(buf + len, cap - len, "%lld\t%d\t%lld\tbench\t"
                            "%.17g\t/min\t480\t%lld\n",
                            (long long)row_pid(w, i), HR_CODE,
                            (long long)row_ts(w, i), row_val(i),
                            (long long)now);
  cpu0 = pg_cpu_s();
  t0 = bc_now_ns();
  r = PQexec(c, "COPY reading (patient_id, code, ts_ms, source, value, "
                "unit, tz_offset_min, ingested_ms) FROM STDIN");
  ok = PQresultStatus(r) == PGRES_COPY_IN;
  PQclear(r);
  for (off = 0; ok && off < len; off += 1 << 18) {
    size_t k = len - off < (1u << 18) ? len - off : 1u << 18;
    ok = PQputCopyData(c, buf + off, (int)k) == 1;
  }
  ok = PQputCopyEnd(c, ok ? NULL : "aborted") == 1 && ok;
  r = PQgetResult(c);
  ok = ok && PQresultStatus(r) == PGRES_COMMAND_OK;
  if (!ok)
    fprintf(stderr, "copy: %s", PQresultErrorMessage(r));
  PQclear(r);
  while ((r = PQgetResult(c)) != NULL)
    PQclear(r);
  t0 = bc_now_ns() - t0;
  cpu_report("(COPY)", pg_cpu_s() - cpu0, 0, w->n);
  free(buf);
  return ok ? (double)w->n / ((double)t0 / 1e9) : -1;
}

/* (b) the backend's batch insert, single thread, one txn per batch. */
static double run_store(const char *url, const struct rows *w)
{
  struct vg_config cfg;
  struct vg_store *s;
  struct vg_reading *r = calloc((size_t)w->batch, sizeof *r);
  unsigned char *st = calloc((size_t)w->batch, 1);
  int64_t t0;
  double cpu0, vg0;
  int rc;
  if (!r || !st)
    abort();
  config_init(&cfg);
  snprintf(cfg.pg, sizeof cfg.pg, "%s", url);
  rc = store_open(&cfg, &s);
  if (rc)
    return -1;
  cpu0 = pg_cpu_s();
  vg0 = proc_cpu_s(getpid(), 0);
  t0 = bc_now_ns();
  for (long i = 0; !rc && i < w->n; i += w->batch) {
    long k, m = w->n - i < w->batch ? w->n - i : w->batch;
    struct vg_txn *t;
    for (k = 0; k < m; k++) {
      r[k].patient_id = row_pid(w, i + k);
      r[k].code = HR_CODE;
      r[k].ts_ms = row_ts(w, i + k);
      r[k].value = row_val(i + k);
      r[k].source = "bench";
      r[k].unit = "/min";
      r[k].tz_offset_min = 480;
    }
    rc = store_begin(s, VG_TXN_WRITE, &t);
    if (!rc)
      rc = store_readings_insert(t, r, (size_t)m, st);
    if (!rc)
      rc = store_commit(t);
    else if (t)
      store_rollback(t);
  }
  t0 = bc_now_ns() - t0;
  cpu_report("(store)", pg_cpu_s() - cpu0, proc_cpu_s(getpid(), 0) - vg0,
             w->n);
  store_close(s);
  free(r);
  free(st);
  return rc ? -1 : (double)w->n / ((double)t0 / 1e9);
}

/* (c), (d): JSON batches over keep-alive HTTP, clients spread on nodes.
 * The bodies are made before the clock starts, as the COPY text is: both
 * time the server side of the same rows, not the client's formatting. */
struct http_job {
  const struct rows *w;
  char urls[2][96];
  char metrics[2][96];
  int n_nodes;
  char **body; /* per batch */
  size_t *body_len;
  atomic_long next;
  atomic_long accepted, failed;
};

/* JSON body of batch b. OUT: *out_len. Caller frees. */
static char *http_body(const struct rows *w, long b, size_t *out_len)
{
  size_t cap = (size_t)w->batch * 128 + 64;
  char *body = malloc(cap);
  long i0 = b * w->batch, m = w->n - i0 < w->batch ? w->n - i0 : w->batch;
  size_t len;
  if (!body)
    abort();
  len = (size_t)snprintf(body, cap, "{\"readings\":[");
  for (long k = 0; k < m; k++)
    len += (size_t)snprintf(body + len, cap - len,
                            "%s{\"patient\":%lld,\"code\":\"hr\","
                            "\"t\":%lld,\"value\":%.17g,"
                            "\"source\":\"bench\",\"unit\":\"/min\"}",
                            k ? "," : "", (long long)row_pid(w, i0 + k),
                            (long long)row_ts(w, i0 + k), row_val(i0 + k));
  len += (size_t)snprintf(body + len, cap - len, "]}");
  *out_len = len;
  return body;
}

struct http_arg {
  struct http_job *j;
  int node;
};

static void *http_client(void *arg)
{
  struct http_arg *a = arg;
  struct http_job *j = a->j;
  const struct rows *w = j->w;
  struct bc_http h;
  long b;
  if (bc_http_init(&h))
    abort();
  while ((b = atomic_fetch_add(&j->next, 1)) * w->batch < w->n) {
    long i0 = b * w->batch, m = w->n - i0 < w->batch ? w->n - i0 : w->batch;
    long st, acc;
    st = bc_http_req(&h, j->urls[a->node], j->body[b], j->body_len[b]);
    acc = (long)bc_json_int(h.body, "accepted");
    if (st != 200 || acc != m) {
      if (atomic_fetch_add(&j->failed, 1) < 5)
        fprintf(stderr, "batch %ld: status %ld body %.200s\n", b, st,
                h.body ? h.body : "");
      continue;
    }
    atomic_fetch_add(&j->accepted, acc);
  }
  bc_http_free(&h);
  return NULL;
}

/* Group commits of a node so far (vigil_writer_groups_total), or -1. */
static long node_groups(const char *metrics_url)
{
  struct bc_http h;
  const char *p;
  long n = -1;
  if (bc_http_init(&h))
    return -1;
  curl_easy_setopt(h.c, CURLOPT_HTTPHEADER, h.hdr); /* the bearer token */
  static const char key[] = "\nvigil_writer_groups_total ";
  if (bc_http_req(&h, metrics_url, NULL, 0) == 200 && h.body &&
      (p = strstr(h.body, key)) != NULL)
    n = strtol(p + sizeof key - 1, NULL, 10);
  bc_http_free(&h);
  return n;
}

static double run_http(const char *vigil, const char *url,
                       const struct rows *w, int n_nodes, int clients)
{
  struct bc_server srv[2];
  struct http_job j;
  struct http_arg args[64];
  pthread_t th[64];
  char dir[256], db[2][300];
  const char *extra[] = { "--pg", url, NULL };
  int64_t t0;
  long n_batches, groups = 0;
  double pg0, vg0 = 0, vg1 = 0;
  int i, ok = 1;
  memset(&j, 0, sizeof j);
  j.w = w;
  j.n_nodes = n_nodes;
  if (bc_tmpdir(dir, sizeof dir, "benchpg"))
    return -1;
  for (i = 0; i < n_nodes; i++) {
    snprintf(db[i], sizeof db[i], "%s/node%d", dir, i);
    if (bc_server_start(&srv[i], vigil, db[i], extra))
      return -1;
    snprintf(j.urls[i], sizeof j.urls[i], "%s/api/v1/readings", srv[i].base);
    snprintf(j.metrics[i], sizeof j.metrics[i], "%s/metrics", srv[i].base);
  }
  n_batches = (w->n + w->batch - 1) / w->batch;
  j.body = calloc((size_t)n_batches, sizeof *j.body);
  j.body_len = calloc((size_t)n_batches, sizeof *j.body_len);
  if (!j.body || !j.body_len)
    abort();
  for (long b = 0; b < n_batches; b++)
    j.body[b] = http_body(w, b, &j.body_len[b]);
  pg0 = pg_cpu_s();
  for (i = 0; i < n_nodes; i++)
    vg0 += proc_cpu_s(srv[i].pid, 0);
  t0 = bc_now_ns();
  for (i = 0; i < clients; i++) {
    args[i].j = &j;
    args[i].node = i % n_nodes;
    pthread_create(&th[i], NULL, http_client, &args[i]);
  }
  for (i = 0; i < clients; i++)
    pthread_join(th[i], NULL);
  t0 = bc_now_ns() - t0;
  pg0 = pg_cpu_s() - pg0;
  for (i = 0; i < n_nodes; i++)
    vg1 += proc_cpu_s(srv[i].pid, 0);
  cpu_report(n_nodes > 1 ? "(HTTP, 2 nodes)" : "(HTTP, 1 node)", pg0,
             vg1 - vg0, w->n);
  for (i = 0; i < n_nodes; i++)
    groups += node_groups(j.metrics[i]);
  printf("  (%d node%s: %ld group commits, %.0f rows per commit)\n", n_nodes,
         n_nodes > 1 ? "s" : "", groups,
         groups > 0 ? (double)w->n / (double)groups : 0.0);
  for (i = 0; i < n_nodes; i++)
    ok &= bc_server_stop(&srv[i]) == 0;
  for (long b = 0; b < n_batches; b++)
    free(j.body[b]);
  free(j.body);
  free(j.body_len);
  rmdir(dir);
  if (!ok || atomic_load(&j.failed) || atomic_load(&j.accepted) != w->n) {
    fprintf(stderr, "http: %ld accepted of %ld, %ld batches failed\n",
            atomic_load(&j.accepted), w->n, atomic_load(&j.failed));
    return -1;
  }
  return (double)w->n / ((double)t0 / 1e9);
}

int main(int argc, char **argv)
{
  const char *vigil = NULL, *url = getenv("VG_PG_URL");
  struct rows w;
  long clients = 4;
  double copy = 0, store = 0, http1 = 0, http2 = 0;
  const char *only = "cs12";
  PGconn *c;
  int fails = 0;

  memset(&w, 0, sizeof w);
  w.n = 200000;
  w.batch = 1000;
  w.n_pat = 1000;
  w.run = 100;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--pg") && i + 1 < argc)
      url = argv[++i];
    else if (!strcmp(argv[i], "--rows"))
      w.n = bc_parse_long("--rows", argv[++i]);
    else if (!strcmp(argv[i], "--batch"))
      w.batch = bc_parse_long("--batch", argv[++i]);
    else if (!strcmp(argv[i], "--clients"))
      clients = bc_parse_long("--clients", argv[++i]);
    else if (!strcmp(argv[i], "--run"))
      w.run = bc_parse_long("--run", argv[++i]);
    else if (!strcmp(argv[i], "--only") && i + 1 < argc)
      only = argv[++i];
    else if (!strcmp(argv[i], "--patients"))
      w.n_pat = bc_parse_long("--patients", argv[++i]);
    else if (!vigil)
      vigil = argv[i];
  }
  if (!vigil) {
    fprintf(stderr, "usage: bench_pg <vigil> [--pg URL] [--rows N] "
                    "[--batch N] [--clients N] [--patients N] [--run N] "
                    "[--only cs12]\n");
    return 2;
  }
  if (!url || !*url) {
    printf("bench_pg: SKIPPED (no --pg URL or VG_PG_URL; run it under "
           "tests/pg/pg_harness.sh)\n");
    return 0;
  }
  if (clients > 64)
    clients = 64;
  log_set_level(VG_LOG_WARN);
  curl_global_init(CURL_GLOBAL_ALL);
  w.pid = calloc((size_t)w.n_pat, sizeof *w.pid);
  /* Yesterday, so every row falls in a partition made ahead at open. */
  w.t0_ms = (vg_now_ms() / 86400000 - 1) * 86400000;
  if (!w.pid || prepare(url, &w)) {
    fprintf(stderr, "bench_pg: cannot prepare the database\n");
    return 1;
  }
  c = db_connect(url);
  if (!c)
    return 1;
  find_postmaster(c);
  printf("bench_pg: %ld rows (hr, %ld patients, runs of %ld), batch %ld, "
         "%ld clients\n", w.n, w.n_pat, w.run, w.batch, clients);

#define CHECK(label, rate)                                                   \
  do {                                                                       \
    long got = db_count(c);                                                  \
    printf("  %-34s %10.0f rows/s  (stored %ld)\n", label, rate, got);       \
    if (rate <= 0 || got != w.n)                                             \
      fails++;                                                               \
    db_exec(c, "TRUNCATE reading");                                          \
  } while (0)

  db_exec(c, "TRUNCATE reading");
  if (strchr(only, 'c')) {
    copy = run_copy(c, &w);
    CHECK("bare COPY into reading", copy);
  }
  if (strchr(only, 's')) {
    store = run_store(url, &w);
    CHECK("store_pg batch insert (1 thread)", store);
  }
  if (strchr(only, '1')) {
    http1 = run_http(vigil, url, &w, 1, (int)clients);
    CHECK("HTTP ingest, 1 node", http1);
  }
  if (strchr(only, '2')) {
    http2 = run_http(vigil, url, &w, 2, (int)clients);
    CHECK("HTTP ingest, 2 nodes", http2);
  }
  if (copy > 0 && store > 0)
    printf("  store/COPY   %.2f\n", store / copy);
  if (copy > 0 && http1 > 0)
    printf("  HTTP/COPY    %.2f   (target >= 0.50)\n", http1 / copy);
  if (copy > 0 && http2 > 0)
    printf("  2 nodes/COPY %.2f\n", http2 / copy);
  if (http1 > 0 && http2 > 0)
    printf("  2 nodes/1    %.2f   (target >= 1.00)\n", http2 / http1);
  PQfinish(c);
  free(w.pid);
  curl_global_cleanup();
  return fails ? 1 : 0;
}

#else /* built without libpq */

int main(void)
{
  printf("bench_pg: SKIPPED (built without the PostgreSQL backend)\n");
  return 0;
}

#endif
