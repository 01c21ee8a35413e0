/* bench_common.h - header-only helpers shared by the benchmarks: clocks,
 * percentiles, a deterministic reading generator, spawning `vigil serve`
 * on an ephemeral port, reading a process's RSS from /proc, and a libcurl
 * keep-alive client (one per thread). Benchmarks are not part of src/, so
 * plain malloc is used here. */
#ifndef VG_BENCH_COMMON_H
#define VG_BENCH_COMMON_H

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "codes.h"
#include "core_time.h"

/* ==== clocks, numbers, percentiles ====================================== */

static inline int64_t bc_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline void bc_sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) && errno == EINTR)
    ;
}

/* Parse a positive integer flag value; exits 2 on a bad value. */
static inline long bc_parse_long(const char *flag, const char *s)
{
  char *end;
  long v;
  errno = 0;
  v = strtol(s ? s : "", &end, 10);
  if (!s || errno || *end || v <= 0) {
    fprintf(stderr, "bad value for %s: '%s'\n", flag, s ? s : "");
    exit(2);
  }
  return v;
}

static int bc_cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Sorts v in place; q in [0,1]; nearest-rank percentile. */
static inline double bc_percentile(double *v, size_t n, double q)
{
  size_t k;
  if (!n)
    return 0;
  qsort(v, n, sizeof *v, bc_cmp_double);
  k = (size_t)(q * (double)n + 0.999999);
  if (k < 1)
    k = 1;
  if (k > n)
    k = n;
  return v[k - 1];
}

/* ==== deterministic generator =========================================== */

/* splitmix64 (Steele, Lea, Flood 2014): tiny, fast, good enough here. */
static inline uint64_t bc_rand(uint64_t *s)
{
  uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static inline double bc_unif(uint64_t *s)
{
  return (double)(bc_rand(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* Approximately normal (sum of 4 uniforms, variance-scaled). */
static inline double bc_norm(uint64_t *s)
{
  double x = bc_unif(s) + bc_unif(s) + bc_unif(s) + bc_unif(s) - 2.0;
  return x * 1.7320508075688772; /* sqrt(12/4) */
}

/* One generated reading; source is "<kind>-<patient>" built on output. */
struct bc_reading {
  int64_t patient;
  int64_t ts_ms; /* UTC */
  double value;
  int code;      /* VG_CODE_* id from codes.def */
};

#define BC_TZ_MIN 480 /* every generated patient lives at UTC+08:00 */
#define BC_DAY_MS 86400000LL
#define BC_MIN_MS 60000LL

/* 2% of patients wear a CGM and send about 10x the readings of the rest. */
static inline int bc_is_cgm(int64_t patient) { return patient % 50 == 0; }

static inline const char *bc_source_kind(int code)
{
  switch (code) {
  case 1: case 2: case 3: return "bp";
  case 4: return "gluco";
  case 5: return "cgm";
  case 6: return "oxi";
  case 7: return "scale";
  default: return "dev";
  }
}

/* Unit sent on the wire for a code (the canonical unit of codes.def). */
static inline const char *bc_unit(int code)
{
  switch (code) {
  case 1: case 2: return "mm[Hg]";
  case 3: return "/min";
  case 4: case 5: return "mg/dL";
  case 6: return "%";
  case 7: return "kg";
  default: return "";
  }
}

static int bc_cmp_reading_ts(const void *a, const void *b)
{
  const struct bc_reading *x = a, *y = b;
  if (x->ts_ms != y->ts_ms)
    return x->ts_ms < y->ts_ms ? -1 : 1;
  if (x->code != y->code)
    return x->code < y->code ? -1 : 1;
  return 0;
}

/* Readings for patient p from day0_ms (UTC midnight) on, in time order,
 * exactly k of them (stops mid-day when k is reached). Home BP triples
 * (sbp, dbp, hr) in the morning (~07:00 local, higher) and evening
 * (~21:00 local), fasting glucose, SpO2, weight; CGM every 5 minutes for
 * CGM wearers. Values from a per-patient profile; fully determined by
 * (p, seed). out must hold k readings. */
static inline void bc_gen_patient(int64_t p, uint64_t seed, int64_t day0_ms,
                                  size_t k, struct bc_reading *out)
{
  uint64_t rs = seed ^ ((uint64_t)p * 0x2545F4914F6CDD1DULL);
  struct bc_reading day[400];
  double sbp_mean = 118 + 40 * bc_unif(&rs), hr_mean = 62 + 20 * bc_unif(&rs);
  double glu_mean = 95 + 80 * bc_unif(&rs), wt = 50 + 50 * bc_unif(&rs);
  double cgm = glu_mean;
  int is_cgm = bc_is_cgm(p);
  size_t n = 0;
  int64_t d;
  const int64_t local = -(int64_t)BC_TZ_MIN * BC_MIN_MS; /* local -> UTC */

  for (d = 0; n < k; d++) {
    int64_t base = day0_ms + d * BC_DAY_MS + local;
    size_t m = 0, i;
    double morning = is_cgm ? 0.3 : 0.6, evening = is_cgm ? 0.0 : 0.5;
    for (int ev = 0; ev < 2; ev++) {
      double sbp;
      int64_t t;
      if (bc_unif(&rs) >= (ev ? evening : morning))
        continue;
      t = base + (ev ? 21 : 7) * 60 * BC_MIN_MS +
          (int64_t)((bc_unif(&rs) - 0.5) * 90 * BC_MIN_MS);
      t -= t % 1000;
      sbp = sbp_mean + (ev ? 0 : 8) + 10 * bc_norm(&rs);
      day[m++] = (struct bc_reading){p, t, (double)(long)sbp, 1};
      day[m++] = (struct bc_reading){
          p, t, (double)(long)(sbp * 0.62 + 6 * bc_norm(&rs)), 2};
      day[m++] = (struct bc_reading){
          p, t, (double)(long)(hr_mean + 7 * bc_norm(&rs)), 3};
    }
    if (bc_unif(&rs) < (is_cgm ? 0.5 : 0.25)) /* fasting, ~06:30 */
      day[m++] = (struct bc_reading){
          p, base + 390 * BC_MIN_MS + (int64_t)(bc_unif(&rs) * 40) * BC_MIN_MS,
          (double)(long)(glu_mean + 15 * bc_norm(&rs)), 4};
    if (bc_unif(&rs) < 0.08)
      day[m++] = (struct bc_reading){
          p, base + 600 * BC_MIN_MS + (int64_t)(bc_unif(&rs) * 600) * BC_MIN_MS,
          (double)(long)(97 + 1.5 * bc_norm(&rs)), 6};
    if (bc_unif(&rs) < 0.15) {
      wt += 0.2 * bc_norm(&rs);
      day[m++] = (struct bc_reading){
          p, base + 420 * BC_MIN_MS + (int64_t)(bc_unif(&rs) * 30) * BC_MIN_MS,
          (double)(long)(wt * 10) / 10, 7};
    }
    if (is_cgm)
      for (i = 0; i < 288; i++) { /* mean-reverting random walk */
        cgm += 0.08 * (glu_mean - cgm) + 6 * bc_norm(&rs);
        if (cgm < 45)
          cgm = 45;
        day[m++] = (struct bc_reading){p, base + (int64_t)i * 5 * BC_MIN_MS,
                                       (double)(long)cgm, 5};
      }
    for (i = 0; i < m; i++) { /* clamp to the plausible ranges */
      double *v = &day[i].value;
      if (day[i].code == 6 && *v > 100)
        *v = 100;
      if (*v < 25 && day[i].code <= 3)
        *v = 25;
    }
    qsort(day, m, sizeof day[0], bc_cmp_reading_ts);
    for (i = 0; i < m && n < k; i++)
      out[n++] = day[i];
  }
}

/* Budget of patient p (1-based ids) so that all n_pat patients together
 * give exactly total readings: CGM wearers weigh 10, the others 1. */
static inline size_t bc_budget(int64_t p, int64_t n_pat, size_t total)
{
  int64_t n_cgm = n_pat / 50, w_all = n_pat - n_cgm + 10 * n_cgm;
  int64_t before = 0, i;
  size_t lo, hi;
  /* patients with id < p, weighted: ids 50, 100, ... are CGM wearers */
  before = (p - 1) + 9 * ((p - 1) / 50);
  lo = (size_t)((double)total * (double)before / (double)w_all);
  i = before + (bc_is_cgm(p) ? 10 : 1);
  hi = i >= w_all ? total
                  : (size_t)((double)total * (double)i / (double)w_all);
  return hi - lo;
}

/* Append reading r as one JSON object (RFC 3339 time at UTC+08:00). */
static inline size_t bc_reading_json(const struct bc_reading *r, char *buf,
                                     size_t size)
{
  char ts[40];
  const struct vg_code *c = codes_by_id(r->code);
  vg_time_format(r->ts_ms, BC_TZ_MIN, ts, sizeof ts);
  return (size_t)snprintf(
      buf, size,
      "{\"patient\":%lld,\"code\":\"%s\",\"time\":\"%s\",\"value\":%g,"
      "\"unit\":\"%s\",\"source\":\"%s-%lld\"}",
      (long long)r->patient, c ? c->name : "?", ts, r->value,
      bc_unit(r->code), bc_source_kind(r->code), (long long)r->patient);
}

/* ==== processes ========================================================= */

/* Peak (VmHWM) or current (VmRSS) resident set of pid in KiB; -1 if gone. */
static inline long bc_proc_kib(pid_t pid, const char *field)
{
  char path[64], line[256];
  size_t flen = strlen(field);
  long v = -1;
  FILE *f;
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  f = fopen(path, "r");
  if (!f)
    return -1;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, field, flen) && line[flen] == ':') {
      v = strtol(line + flen + 1, NULL, 10);
      break;
    }
  fclose(f);
  return v;
}

struct bc_server {
  pid_t pid;
  int port;
  char base[64];         /* "http://127.0.0.1:<port>" */
  char port_file[512];
  char token_file[512];  /* admin token written by the server, "" if none */
};

/* "Authorization: Bearer <admin token>" of the last server started without
 * its own --bootstrap-admin-token-file; bc_http_init() sends it. */
static char bc_bearer[160];

/* Read the bootstrap admin token into bc_bearer. 0 or -1. */
static inline int bc_read_token(const char *path)
{
  char tok[128];
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  if (!fgets(tok, sizeof tok, f)) {
    fclose(f);
    return -1;
  }
  fclose(f);
  tok[strcspn(tok, "\r\n")] = '\0';
  snprintf(bc_bearer, sizeof bc_bearer, "Authorization: Bearer %s", tok);
  return 0;
}

/* Start `<vigil> serve --db <db> --port 0 --port-file <tmp>` plus extra
 * args (NULL-terminated list, may be NULL), wait up to 60 s for the port.
 * Returns 0 or -1 (message on stderr). */
static inline int bc_server_start(struct bc_server *s, const char *vigil,
                                  const char *db, const char *const *extra)
{
  const char *argv[32];
  int argc = 0;
  int64_t t0 = bc_now_ns();
  memset(s, 0, sizeof *s);
  snprintf(s->port_file, sizeof s->port_file, "%s.port", db);
  unlink(s->port_file);
  argv[argc++] = vigil;
  argv[argc++] = "serve";
  argv[argc++] = "--db";
  argv[argc++] = db;
  argv[argc++] = "--port";
  argv[argc++] = "0";
  argv[argc++] = "--port-file";
  argv[argc++] = s->port_file;
  argv[argc++] = "--log-level";
  argv[argc++] = "warn";
  int own_token = 1;
  for (int i = 0; extra && extra[i] && argc < 29; i++) {
    if (!strcmp(extra[i], "--bootstrap-admin-token-file"))
      own_token = 0;
    argv[argc++] = extra[i];
  }
  if (own_token) { /* every API route needs credentials */
    snprintf(s->token_file, sizeof s->token_file, "%s.token", db);
    unlink(s->token_file);
    argv[argc++] = "--bootstrap-admin-token-file";
    argv[argc++] = s->token_file;
  }
  argv[argc] = NULL;
  s->pid = fork();
  if (s->pid < 0)
    return -1;
  if (s->pid == 0) {
    execv(vigil, (char *const *)argv);
    fprintf(stderr, "exec %s: %s\n", vigil, strerror(errno));
    _exit(127);
  }
  while (bc_now_ns() - t0 < 60000000000LL) {
    int st;
    FILE *f = fopen(s->port_file, "r");
    if (f) {
      int ok = fscanf(f, "%d", &s->port) == 1;
      fclose(f);
      if (ok && s->port > 0) {
        snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", s->port);
        if (s->token_file[0] && bc_read_token(s->token_file)) {
          fprintf(stderr, "no admin token in %s\n", s->token_file);
          return -1;
        }
        return 0;
      }
    }
    if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
      fprintf(stderr, "server exited before listening (status %d)\n", st);
      s->pid = 0;
      return -1;
    }
    bc_sleep_ms(10);
  }
  fprintf(stderr, "server did not write %s within 60 s\n", s->port_file);
  kill(s->pid, SIGKILL);
  waitpid(s->pid, NULL, 0);
  s->pid = 0;
  return -1;
}

/* SIGTERM, wait up to 60 s. Returns the exit code, or -1 if it was killed
 * by a signal or had to be killed. */
static inline int bc_server_stop(struct bc_server *s)
{
  int st = 0;
  int64_t t0 = bc_now_ns();
  if (s->pid <= 0)
    return -1;
  kill(s->pid, SIGTERM);
  while (waitpid(s->pid, &st, WNOHANG) == 0) {
    if (bc_now_ns() - t0 > 60000000000LL) {
      fprintf(stderr, "server ignored SIGTERM for 60 s; killing\n");
      kill(s->pid, SIGKILL);
      waitpid(s->pid, &st, 0);
      s->pid = 0;
      return -1;
    }
    bc_sleep_ms(5);
  }
  s->pid = 0;
  unlink(s->port_file);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ==== HTTP client (one per thread; keep-alive) ========================== */

struct bc_http {
  CURL *c;
  struct curl_slist *hdr;
  char *body; /* last response body, NUL-terminated */
  size_t len, size;
};

static size_t bc_http_write(char *p, size_t sz, size_t nm, void *ud)
{
  struct bc_http *h = ud;
  size_t n = sz * nm;
  if (h->len + n + 1 > h->size) {
    size_t ns = h->size ? h->size : 4096;
    while (ns < h->len + n + 1)
      ns *= 2;
    h->body = realloc(h->body, ns);
    if (!h->body)
      abort();
    h->size = ns;
  }
  memcpy(h->body + h->len, p, n);
  h->len += n;
  h->body[h->len] = '\0';
  return n;
}

static inline int bc_http_init(struct bc_http *h)
{
  memset(h, 0, sizeof *h);
  h->c = curl_easy_init();
  if (!h->c)
    return -1;
  h->hdr = curl_slist_append(NULL, "Content-Type: application/json");
  h->hdr = curl_slist_append(h->hdr, "Expect:");
  if (bc_bearer[0])
    h->hdr = curl_slist_append(h->hdr, bc_bearer);
  curl_easy_setopt(h->c, CURLOPT_WRITEFUNCTION, bc_http_write);
  curl_easy_setopt(h->c, CURLOPT_WRITEDATA, h);
  curl_easy_setopt(h->c, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(h->c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h->c, CURLOPT_TIMEOUT, 120L);
  return 0;
}

static inline void bc_http_free(struct bc_http *h)
{
  curl_slist_free_all(h->hdr);
  curl_easy_cleanup(h->c);
  free(h->body);
  memset(h, 0, sizeof *h);
}

/* GET (body NULL) or POST (body, len). Returns the HTTP status, or -1 on
 * a transport error. The answer is in h->body / h->len. */
static inline long bc_http_req(struct bc_http *h, const char *url,
                               const char *body, size_t len)
{
  long status = -1;
  CURLcode rc;
  h->len = 0;
  if (h->body)
    h->body[0] = '\0';
  curl_easy_setopt(h->c, CURLOPT_URL, url);
  if (body) {
    curl_easy_setopt(h->c, CURLOPT_HTTPHEADER, h->hdr);
    curl_easy_setopt(h->c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h->c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  } else {
    curl_easy_setopt(h->c, CURLOPT_HTTPGET, 1L);
  }
  rc = curl_easy_perform(h->c);
  if (rc != CURLE_OK) {
    fprintf(stderr, "%s: %s\n", url, curl_easy_strerror(rc));
    return -1;
  }
  curl_easy_getinfo(h->c, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

/* Value of integer member "key" in a flat JSON answer, or -1. */
static inline long long bc_json_int(const char *body, const char *key)
{
  char pat[64];
  const char *p;
  snprintf(pat, sizeof pat, "\"%s\":", key);
  p = body ? strstr(body, pat) : NULL;
  return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

/* Make a fresh temp directory; OUT: dir. Returns 0 or -1. */
static inline int bc_tmpdir(char *dir, size_t size, const char *tag)
{
  const char *base = getenv("TMPDIR");
  snprintf(dir, size, "%s/vigil-%s-XXXXXX", base && *base ? base : "/tmp",
           tag);
  return mkdtemp(dir) ? 0 : -1;
}

/* Remove <dir>/<name> for the sqlite files, the port file, then dir. */
static inline void bc_rm_db(const char *dir)
{
  static const char *const names[] = {"vigil.db", "vigil.db-wal",
                                      "vigil.db-shm", "vigil.db.port",
                                      "baseline.db", "baseline.db-wal",
                                      "baseline.db-shm"};
  char p[512];
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    snprintf(p, sizeof p, "%s/%s", dir, names[i]);
    unlink(p);
  }
  rmdir(dir);
}

#endif
