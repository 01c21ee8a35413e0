/* bench_fhir.c - the FHIR layer measured in one run on this machine:
 *   (1) `vigil import` of the Synthea set (01_synthea_fhir_r4, 150 bundles,
 *       61,302 resources): resources/s (target >= 20,000);
 *   (2) POST /fhir/Observation, one BP panel per request, 8 keep-alive
 *       connections: creates/s (target >= 5,000);
 *   (3) GET /fhir/Observation?patient&code&date=ge..&date=lt.. (a month of
 *       one patient's BP): searches/s and p99 latency.
 * Peers as published: HAPI FHIR ~190 resources/s on one server (bulk
 * load); Medplum 6,738 req/s mixed on 15 x 4 vCPU.
 * usage: bench_fhir <path to vigil> [--creates N] [--searches N]
 *                   [--data DIR] */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

#define CONNS 8
#define N_PAT 8

struct job {
  char **urls;   /* per request (GET) or NULL */
  char **bodies; /* per request (POST) or NULL */
  const char *url;
  size_t n;
  long want;
  double *lat_ms;
  atomic_size_t next, failed;
};

static void *client(void *arg)
{
  struct job *j = arg;
  struct bc_http h;
  size_t i;
  if (bc_http_init(&h)) {
    atomic_fetch_add(&j->failed, 1);
    return NULL;
  }
  h.hdr = curl_slist_append(h.hdr, "Content-Type: application/fhir+json");
  curl_easy_setopt(h.c, CURLOPT_HTTPHEADER, h.hdr);
  while ((i = atomic_fetch_add(&j->next, 1)) < j->n) {
    int64_t t0 = bc_now_ns();
    long st = bc_http_req(&h, j->urls ? j->urls[i] : j->url,
                          j->bodies ? j->bodies[i] : NULL,
                          j->bodies ? strlen(j->bodies[i]) : 0);
    j->lat_ms[i] = (double)(bc_now_ns() - t0) / 1e6;
    if (st != j->want && atomic_fetch_add(&j->failed, 1) < 3)
      fprintf(stderr, "status %ld %.300s\n", st, h.body ? h.body : "");
  }
  bc_http_free(&h);
  return NULL;
}

static double run(struct job *j)
{
  pthread_t th[CONNS];
  int64_t t0 = bc_now_ns();
  atomic_store(&j->next, 0);
  for (int i = 0; i < CONNS; i++)
    pthread_create(&th[i], NULL, client, j);
  for (int i = 0; i < CONNS; i++)
    pthread_join(th[i], NULL);
  return (double)j->n / ((double)(bc_now_ns() - t0) / 1e9);
}

/* Run `vigil import --db db --json data`; OUT: resources. Seconds or -1. */
static double import(const char *vigil, const char *db, const char *data,
                     long long *out_res)
{
  char cmd[2048], line[1 << 16];
  FILE *p;
  int64_t t0 = bc_now_ns();
  double s;
  snprintf(cmd, sizeof cmd, "'%s' import --db '%s' --json '%s'", vigil, db,
           data);
  p = popen(cmd, "r");
  if (!p)
    return -1;
  line[0] = '\0';
  while (fgets(line, sizeof line, p))
    ;
  pclose(p);
  s = (double)(bc_now_ns() - t0) / 1e9;
  *out_res = bc_json_int(line, "resources");
  return s;
}

int main(int argc, char **argv)
{
  const char *data = "../shared/data/01_synthea_fhir_r4";
  size_t n_create = 20000, n_search = 5000, i;
  char dir[256], db[300], url[256];
  struct bc_server srv;
  struct job cj, sj;
  struct stat sb;
  double imp_s = -1, create_rps, search_rps, p50, p99, c99;
  long long resources = 0;
  int64_t pid[N_PAT];
  struct bc_http h;
  int rc = 0;

  if (argc < 2 || argv[1][0] == '-') {
    fprintf(stderr, "usage: bench_fhir <vigil> [--creates N] [--searches N]"
                    " [--data DIR]\n");
    return 2;
  }
  for (int a = 2; a + 1 < argc; a += 2) {
    if (!strcmp(argv[a], "--creates"))
      n_create = (size_t)bc_parse_long(argv[a], argv[a + 1]);
    else if (!strcmp(argv[a], "--searches"))
      n_search = (size_t)bc_parse_long(argv[a], argv[a + 1]);
    else if (!strcmp(argv[a], "--data"))
      data = argv[a + 1];
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  curl_global_init(CURL_GLOBAL_ALL);
  if (bc_tmpdir(dir, sizeof dir, "fhir"))
    return 1;
  snprintf(db, sizeof db, "%s/vigil.db", dir);

  /* (1) import */
  if (stat(data, &sb) == 0) {
    imp_s = import(argv[1], db, data, &resources);
    printf("import: %lld resources in %.2f s = %.0f resources/s "
           "(target >= 20000; HAPI ~190)\n", resources, imp_s,
           (double)resources / imp_s);
  } else {
    printf("import: SKIPPED (%s missing)\n", data);
  }

  /* (2) creates */
  if (bc_server_start(&srv, argv[1], db, NULL))
    return 1;
  bc_http_init(&h);
  h.hdr = curl_slist_append(h.hdr, "Content-Type: application/fhir+json");
  curl_easy_setopt(h.c, CURLOPT_HTTPHEADER, h.hdr);
  snprintf(url, sizeof url, "%s/fhir/Patient", srv.base);
  for (i = 0; i < N_PAT; i++) {
    char body[128];
    int n = snprintf(body, sizeof body, "{\"resourceType\":\"Patient\","
                     "\"name\":[{\"text\":\"Bench %zu\"}]}", i);
    if (bc_http_req(&h, url, body, (size_t)n) != 201)
      return 1;
    pid[i] = bc_json_int(h.body, "id");
    if (pid[i] <= 0) { /* id is a JSON string: "id":"12" */
      const char *q = strstr(h.body, "\"id\":\"");
      pid[i] = q ? strtoll(q + 6, NULL, 10) : 0;
    }
  }
  memset(&cj, 0, sizeof cj);
  cj.n = n_create;
  cj.want = 201;
  snprintf(url, sizeof url, "%s/fhir/Observation", srv.base);
  cj.url = url;
  cj.bodies = malloc(n_create * sizeof *cj.bodies);
  cj.lat_ms = malloc(n_create * sizeof *cj.lat_ms);
  for (i = 0; i < n_create; i++) {
    char t[40];
    /* a reading every 5 minutes per patient from 2024-01-01 */
    vg_time_format(1704067200000LL + (int64_t)(i / N_PAT) * 300000, 480, t,
                   sizeof t);
    cj.bodies[i] = malloc(900);
    snprintf(cj.bodies[i], 900,
             "{\"resourceType\":\"Observation\",\"status\":\"final\","
             "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
             "\"code\":\"85354-9\"}]},\"subject\":{\"reference\":"
             "\"Patient/%lld\"},\"effectiveDateTime\":\"%s\",\"component\":"
             "[{\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
             "\"code\":\"8480-6\"}]},\"valueQuantity\":{\"value\":%d,"
             "\"system\":\"http://unitsofmeasure.org\",\"code\":\"mm[Hg]\"}},"
             "{\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
             "\"code\":\"8462-4\"}]},\"valueQuantity\":{\"value\":%d,"
             "\"system\":\"http://unitsofmeasure.org\",\"code\":\"mm[Hg]\"}}"
             "]}", (long long)pid[i % N_PAT], t, 110 + (int)(i % 40),
             70 + (int)(i % 25));
  }
  create_rps = run(&cj);
  c99 = bc_percentile(cj.lat_ms, n_create, 0.99);
  printf("POST /fhir/Observation: %zu creates over %d connections: %.0f/s, "
         "p99 %.2f ms, failed %zu (target >= 5000/s; Medplum 6738 req/s "
         "mixed on 15 x 4 vCPU)\n", n_create, CONNS, create_rps, c99,
         (size_t)atomic_load(&cj.failed));

  /* (3) searches: one month of one patient's BP */
  memset(&sj, 0, sizeof sj);
  sj.n = n_search;
  sj.want = 200;
  sj.urls = malloc(n_search * sizeof *sj.urls);
  sj.lat_ms = malloc(n_search * sizeof *sj.lat_ms);
  for (i = 0; i < n_search; i++) {
    sj.urls[i] = malloc(300);
    snprintf(sj.urls[i], 300, "%s/fhir/Observation?patient=%lld&code="
             "http://loinc.org%%7C85354-9&date=ge2024-01-%02d&date=lt2024-02-"
             "%02d&_count=50", srv.base, (long long)pid[i % N_PAT],
             1 + (int)(i % 3), 1 + (int)(i % 3));
  }
  search_rps = run(&sj);
  p50 = bc_percentile(sj.lat_ms, n_search, 0.50);
  p99 = bc_percentile(sj.lat_ms, n_search, 0.99);
  printf("search patient+code+date (a month, ~%zu matches): %.0f/s, p50 "
         "%.2f ms, p99 %.2f ms, failed %zu\n", n_create / N_PAT, search_rps,
         p50, p99, (size_t)atomic_load(&sj.failed));
  bc_http_free(&h);
  bc_server_stop(&srv);
  bc_rm_db(dir);
  if (atomic_load(&cj.failed) || atomic_load(&sj.failed))
    rc = 1;
  printf("summary: import %.0f resources/s (target 20000: %s), creates "
         "%.0f/s (target 5000: %s), search %.0f/s p99 %.2f ms\n",
         imp_s > 0 ? (double)resources / imp_s : 0.0,
         imp_s > 0 && resources / imp_s >= 20000 ? "met" : "NOT met",
         create_rps, create_rps >= 5000 ? "met" : "NOT met", search_rps,
         p99);
  return rc;
}
