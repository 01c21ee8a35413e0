/* bench_auth.c - what authentication costs, measured in one run against a
 * real `vigil serve`:
 *   (1) request rate of GET /healthz (public: no credentials checked) vs
 *       GET /api/v1/me (bearer token checked, trivial handler), same
 *       clients and connections: the difference is the per-request cost of
 *       authentication on the real request path;
 *   (2) authenticated ingest (POST /api/v1/readings, small batches so that
 *       per-request cost weighs the most) and the unauthenticated rate it
 *       would have without that cost: ratio target >= 0.90;
 *   (3) in-process auth_token_principal() cost (the token lookup);
 *   (4) argon2id login work with the default parameters (config.def),
 *       target 100-500 ms.
 * usage: bench_auth <path to vigil> [--requests N] [--clients N]
 *                   [--batch N] */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "bench_common.h"

#include "auth.h"
#include "config.h"
#include "core_log.h"
#include "core_time.h"
#include "store.h"

struct job {
  const char *url;
  const char *auth;   /* header line or NULL */
  char **bodies;      /* NULL: GET */
  size_t *body_len;
  size_t n;
  atomic_size_t next, failed;
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
  if (j->auth)
    h.hdr = curl_slist_append(h.hdr, j->auth);
  curl_easy_setopt(h.c, CURLOPT_HTTPHEADER, h.hdr);
  while ((i = atomic_fetch_add(&j->next, 1)) < j->n) {
    long st = bc_http_req(&h, j->url, j->bodies ? j->bodies[i] : NULL,
                          j->bodies ? j->body_len[i] : 0);
    if (st != 200 && atomic_fetch_add(&j->failed, 1) < 3)
      fprintf(stderr, "%s: status %ld %.200s\n", j->url, st,
              h.body ? h.body : "");
  }
  bc_http_free(&h);
  return NULL;
}

/* Requests per second of job j over `clients` threads. */
static double run(struct job *j, size_t clients)
{
  pthread_t th[64];
  int64_t t0 = bc_now_ns();
  size_t i;
  atomic_store(&j->next, 0);
  for (i = 0; i < clients; i++)
    pthread_create(&th[i], NULL, client_main, j);
  for (i = 0; i < clients; i++)
    pthread_join(th[i], NULL);
  return (double)j->n / ((double)(bc_now_ns() - t0) / 1e9);
}

static int cmp_d(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
  size_t n_req = 6000, clients = 4, batch = 20, i, k;
  char dir[256], db[300], tokfile[300], url[160], authz[128], token[128];
  char **bodies;
  size_t *lens;
  struct bc_server srv;
  struct job pub, me, ing;
  double r_pub[3], r_me[3], r_ing, d_auth_s, ratio, lookup_us, t_hash,
      t_ver[5];
  struct vg_config cfg;
  struct vg_store *s;
  struct vg_principal p;
  struct bc_http h;
  int64_t t0, now;
  FILE *f;
  int rc = 0;

  if (argc < 2 || argv[1][0] == '-') {
    fprintf(stderr, "usage: bench_auth <vigil> [--requests N] "
                    "[--clients N] [--batch N]\n");
    return 2;
  }
  for (int a = 2; a + 1 < argc; a += 2) {
    if (!strcmp(argv[a], "--requests"))
      n_req = (size_t)bc_parse_long(argv[a], argv[a + 1]);
    else if (!strcmp(argv[a], "--clients"))
      clients = (size_t)bc_parse_long(argv[a], argv[a + 1]);
    else if (!strcmp(argv[a], "--batch"))
      batch = (size_t)bc_parse_long(argv[a], argv[a + 1]);
  }
  if (clients > 64)
    clients = 64;
  setvbuf(stdout, NULL, _IOLBF, 0);
  log_set_level(VG_LOG_WARN);
  curl_global_init(CURL_GLOBAL_ALL);
  if (bc_tmpdir(dir, sizeof dir, "auth"))
    return 1;
  snprintf(db, sizeof db, "%s/vigil.db", dir);
  snprintf(tokfile, sizeof tokfile, "%s/tok", dir);
  {
    const char *extra[] = {"--bootstrap-admin-token-file", tokfile, NULL};
    if (bc_server_start(&srv, argv[1], db, extra))
      return 1;
  }
  f = fopen(tokfile, "r");
  if (!f || !fgets(token, sizeof token, f))
    return 1;
  fclose(f);
  token[strcspn(token, "\r\n")] = '\0';
  snprintf(authz, sizeof authz, "Authorization: Bearer %s", token);

  /* 50 patients, then ingest bodies of `batch` readings each. */
  bc_http_init(&h);
  h.hdr = curl_slist_append(h.hdr, authz);
  snprintf(url, sizeof url, "%s/api/v1/patients", srv.base);
  for (i = 0; i < 50; i++)
    if (bc_http_req(&h, url, "{\"name\":\"B\"}", 12) != 201)
      return 1;
  bc_http_free(&h);
  bodies = calloc(n_req, sizeof *bodies);
  lens = calloc(n_req, sizeof *lens);
  now = vg_now_ms() - 86400000LL;
  for (i = 0; i < n_req; i++) {
    size_t cap = 64 + batch * 96, len;
    bodies[i] = malloc(cap);
    len = (size_t)snprintf(bodies[i], cap, "{\"readings\":[");
    for (k = 0; k < batch; k++)
      len += (size_t)snprintf(bodies[i] + len, cap - len,
                              "%s{\"patient\":%zu,\"code\":\"hr\",\"t\":%lld,"
                              "\"value\":%zu,\"source\":\"b\"}",
                              k ? "," : "", 1 + i % 50,
                              (long long)(now + (int64_t)(i * batch + k)),
                              60 + k % 40);
    len += (size_t)snprintf(bodies[i] + len, cap - len, "]}");
    lens[i] = len;
  }

  printf("bench_auth: %zu requests x %zu clients, ingest batches of %zu\n",
         n_req, clients, batch);
  memset(&pub, 0, sizeof pub);
  pub.n = n_req;
  memset(&me, 0, sizeof me);
  me.n = n_req;
  me.auth = authz;
  {
    static char u1[160], u2[160];
    snprintf(u1, sizeof u1, "%s/healthz", srv.base);
    snprintf(u2, sizeof u2, "%s/api/v1/me", srv.base);
    pub.url = u1;
    me.url = u2;
  }
  /* Interleaved, best of three each: the machine is shared. */
  for (i = 0; i < 3; i++) {
    r_pub[i] = run(&pub, clients);
    r_me[i] = run(&me, clients);
  }
  qsort(r_pub, 3, sizeof r_pub[0], cmp_d);
  qsort(r_me, 3, sizeof r_me[0], cmp_d);
  d_auth_s = 1.0 / r_me[2] - 1.0 / r_pub[2];
  if (d_auth_s < 0)
    d_auth_s = 0;
  printf("  GET /healthz (no auth)   : %8.0f req/s (best of 3)\n", r_pub[2]);
  printf("  GET /api/v1/me (token)   : %8.0f req/s (best of 3)\n", r_me[2]);
  printf("  auth cost per request    : %8.1f us of wall time at this "
         "concurrency\n", d_auth_s * 1e6);

  memset(&ing, 0, sizeof ing);
  snprintf(url, sizeof url, "%s/api/v1/readings", srv.base);
  ing.url = url;
  ing.auth = authz;
  ing.bodies = bodies;
  ing.body_len = lens;
  ing.n = n_req;
  r_ing = run(&ing, clients);
  ratio = (1.0 / r_ing - d_auth_s) > 0 ? (1.0 / r_ing - d_auth_s) * r_ing
                                       : 1.0;
  printf("  ingest, authenticated    : %8.0f req/s = %8.0f readings/s\n",
         r_ing, r_ing * (double)batch);
  printf("  ingest without auth cost : %8.0f req/s (same run, minus the "
         "measured auth cost)\n", r_ing / ratio);
  printf("  ratio auth/unauth ingest : %8.3f (target >= 0.90: %s)\n", ratio,
         ratio >= 0.90 ? "met" : "MISSED");
  if (pub.failed || me.failed || ing.failed) {
    fprintf(stderr, "failed requests: %zu %zu %zu\n", pub.failed, me.failed,
            ing.failed);
    rc = 1;
  }
  if (bc_server_stop(&srv) != 0)
    rc = 1;

  /* In-process: token -> principal through the store (one READ txn). */
  config_init(&cfg);
  snprintf(cfg.db, sizeof cfg.db, "%s", db);
  if (store_open(&cfg, &s))
    return 1;
  t0 = bc_now_ns();
  for (i = 0; i < 20000; i++)
    if (auth_token_principal(s, token, strlen(token), vg_now_ms(), &p)) {
      rc = 1;
      break;
    }
  lookup_us = (double)(bc_now_ns() - t0) / 1e3 / 20000.0;
  store_close(s);
  printf("  auth_token_principal     : %8.1f us per call (in process, 1 "
         "thread)\n", lookup_us);

  /* argon2id with the shipped defaults. */
  {
    char enc[160];
    t0 = bc_now_ns();
    if (auth_password_hash(&cfg, "Bench-passw0rd-1", enc, sizeof enc))
      return 1;
    t_hash = (double)(bc_now_ns() - t0) / 1e6;
    for (i = 0; i < 5; i++) {
      t0 = bc_now_ns();
      if (auth_password_verify(enc, "Bench-passw0rd-1"))
        rc = 1;
      t_ver[i] = (double)(bc_now_ns() - t0) / 1e6;
    }
    qsort(t_ver, 5, sizeof t_ver[0], cmp_d);
    printf("  argon2id m=%lld KiB t=%lld p=%lld: hash %.0f ms, verify "
           "median %.0f ms (min %.0f, max %.0f); target 100-500 ms: %s\n",
           (long long)cfg.argon2_m_kib, (long long)cfg.argon2_t,
           (long long)cfg.argon2_p, t_hash, t_ver[2], t_ver[0], t_ver[4],
           t_ver[2] >= 100 && t_ver[2] <= 500 ? "met" : "MISSED");
  }
  for (i = 0; i < n_req; i++)
    free(bodies[i]);
  free(bodies);
  free(lens);
  bc_rm_db(dir);
  unlink(tokfile);
  rmdir(dir);
  curl_global_cleanup();
  return rc;
}
