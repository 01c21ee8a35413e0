/* cli_simulate.c - `vigil simulate`: realistic home-device traffic against
 * a running server (home BP with a morning surge, glucose, SpO2, weight,
 * CGM every 5 minutes for some patients), paced to a total readings rate,
 * sent as JSON batches by several keep-alive client threads. */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "codes.h"
#include "core_alloc.h"
#include "core_buf.h"
#include "core_time.h"

#ifdef HAVE_MOSQUITTO
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include "ingest_mqtt.h"
#endif

#define SIM_THREADS_MAX 64
#define SIM_BATCH_MAX 100000
#define SIM_TZ_MIN 480 /* simulated devices report local time at UTC+08:00 */
#define SIM_CGM_MS (5 * 60000LL)
#define SIM_CGM_BACKFILL_MS (6 * 3600000LL) /* history a CGM app uploads */
#define SIM_RETRIES 3

enum { K_SBP, K_DBP, K_HR, K_GLU, K_CGM, K_SPO2, K_WT, K_N };
static const char *const k_code[K_N] = {"sbp",  "dbp", "hr", "glucose",
                                        "cgm",  "spo2", "weight"};
static const char *const k_unit[K_N] = {"mm[Hg]", "mm[Hg]", "/min", "mg/dL",
                                        "mg/dL",  "%",      "kg"};
static const char *const k_dev[K_N] = {"bp", "bp", "bp", "gluco",
                                       "cgm", "oxi", "scale"};

struct sim_patient {
  int64_t id;
  int cgm;
  double sbp_mean, hr_mean, glu_mean, weight_kg, cgm_mgdl;
  int64_t cgm_next_ms;
  int64_t last_ms[K_N]; /* keeps (patient, code, time, source) unique */
};

/* "Authorization: Bearer <token>", set once before any thread starts. */
static char sim_authz[256];

struct sim {
  char url[512];
  char mqtt[512];      /* --mqtt URL: publish as devices instead of HTTP */
  atomic_llong acks;   /* MQTT application acks received */
  long n_patients, batch, threads;
  double rate, duration_s;
  struct sim_patient *pats;
  int64_t t0_ns;
  atomic_int stop, running;
  atomic_llong sent, accepted, duplicate, rejected, errors, failed_readings;
};

struct sim_thread {
  struct sim *s;
  size_t first, count; /* this thread's slice of s->pats */
  long long quota;     /* readings this thread sends in total */
  double rate;         /* readings/s for this thread */
  uint64_t rng;
  pthread_t th;
};

/* ==== small helpers ===================================================== */

/* splitmix64 (Steele, Lea, Flood 2014). */
static uint64_t sim_rand(uint64_t *s)
{
  uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static double sim_unif(uint64_t *s)
{
  return (double)(sim_rand(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* Roughly standard normal: sum of four uniforms, variance-scaled. */
static double sim_norm(uint64_t *s)
{
  double x = sim_unif(s) + sim_unif(s) + sim_unif(s) + sim_unif(s) - 2.0;
  return x * 1.7320508075688772;
}

static void sim_sleep_ns(int64_t ns)
{
  struct timespec ts;
  if (ns <= 0)
    return;
  ts.tv_sec = (time_t)(ns / 1000000000LL);
  ts.tv_nsec = (long)(ns % 1000000000LL);
  while (nanosleep(&ts, &ts) && errno == EINTR)
    ;
}

static size_t sim_write_cb(char *p, size_t sz, size_t nm, void *ud)
{
  struct vg_buf *b = ud;
  return buf_append(b, p, sz * nm) ? 0 : sz * nm;
}

/* One request on a keep-alive handle. body NULL = GET. OUT: *out_status
 * (0 on a transport error); the answer in *resp. Returns 0 or -1. */
static int sim_http(CURL *c, const char *url, const char *body, size_t len,
                    struct vg_buf *resp, long *out_status,
                    long *out_retry_s)
{
  struct curl_slist *h = NULL;
  CURLcode rc;
  curl_off_t retry = 0;
  buf_reset(resp);
  *out_status = 0;
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sim_write_cb);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
  if (sim_authz[0])
    h = curl_slist_append(h, sim_authz);
  if (body) {
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  } else {
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  }
  rc = curl_easy_perform(c);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all(h);
  if (rc != CURLE_OK) {
    fprintf(stderr, "vigil simulate: %s: %s\n", url, curl_easy_strerror(rc));
    return -1;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, out_status);
  if (out_retry_s) {
    curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry);
    *out_retry_s = retry > 0 && retry < 30 ? (long)retry : 1;
  }
  return 0;
}

/* ==== patients ========================================================== */

static void sim_profile(struct sim_patient *p, uint64_t *rng, int64_t now)
{
  int k;
  p->cgm = p->id % 5 == 0; /* one in five wears a CGM */
  p->sbp_mean = 118 + 40 * sim_unif(rng);
  p->hr_mean = 62 + 20 * sim_unif(rng);
  p->glu_mean = 95 + 80 * sim_unif(rng);
  p->weight_kg = 50 + 50 * sim_unif(rng);
  p->cgm_mgdl = p->glu_mean;
  /* Start the CGM stream with a backfill on the 5-minute grid. */
  p->cgm_next_ms = now - SIM_CGM_BACKFILL_MS;
  p->cgm_next_ms -= p->cgm_next_ms % SIM_CGM_MS;
  for (k = 0; k < K_N; k++)
    p->last_ms[k] = 0;
}

/* Fill s->pats with up to n ids from GET /api/v1/patients. OUT: *out_n. */
static int sim_list_patients(struct sim *s, CURL *c, struct vg_buf *resp,
                             long *out_n)
{
  char url[700], cursor[32] = "";
  long n = 0, status;
  for (;;) {
    json_t *j, *arr, *next;
    json_error_t err;
    size_t i;
    snprintf(url, sizeof url, "%s/api/v1/patients?limit=1000%s%s", s->url,
             cursor[0] ? "&cursor=" : "", cursor);
    if (sim_http(c, url, NULL, 0, resp, &status, NULL))
      return -1;
    if (status != 200) {
      fprintf(stderr, "vigil simulate: GET %s: HTTP %ld %s\n", url, status,
              resp->data ? resp->data : "");
      return -1;
    }
    j = json_loadb(resp->data, resp->len, 0, &err);
    arr = j ? json_object_get(j, "patients") : NULL;
    if (!json_is_array(arr)) {
      fprintf(stderr, "vigil simulate: bad patient list from %s\n", url);
      json_decref(j);
      return -1;
    }
    for (i = 0; i < json_array_size(arr) && n < s->n_patients; i++) {
      json_t *id = json_object_get(json_array_get(arr, i), "id");
      if (json_is_integer(id))
        s->pats[n++].id = json_integer_value(id);
    }
    next = json_object_get(j, "next_cursor");
    if (n >= s->n_patients || !json_is_string(next)) {
      json_decref(j);
      break;
    }
    snprintf(cursor, sizeof cursor, "%s", json_string_value(next));
    json_decref(j);
  }
  *out_n = n;
  return 0;
}

static int sim_create_patient(struct sim *s, CURL *c, struct vg_buf *resp,
                              long k, uint64_t *rng, int64_t *out_id)
{
  char url[600], body[256];
  long status;
  json_t *j, *id;
  json_error_t err;
  int len = snprintf(body, sizeof body,
                     "{\"name\":\"Simulated patient %ld\",\"sex\":\"%s\","
                     "\"birth_date\":\"%d-%02d-%02d\","
                     "\"tz\":\"Asia/Shanghai\"}",
                     k, k % 2 ? "female" : "male",
                     1940 + (int)(sim_rand(rng) % 50),
                     1 + (int)(sim_rand(rng) % 12),
                     1 + (int)(sim_rand(rng) % 28));
  snprintf(url, sizeof url, "%s/api/v1/patients", s->url);
  if (sim_http(c, url, body, (size_t)len, resp, &status, NULL))
    return -1;
  j = status == 201 ? json_loadb(resp->data, resp->len, 0, &err) : NULL;
  id = j ? json_object_get(j, "id") : NULL;
  if (!json_is_integer(id)) {
    fprintf(stderr, "vigil simulate: POST %s: HTTP %ld %s\n", url, status,
            resp->data ? resp->data : "");
    json_decref(j);
    return -1;
  }
  *out_id = json_integer_value(id);
  json_decref(j);
  return 0;
}

/* ==== readings ========================================================== */

/* Time for a new reading of kind k: now, but strictly after the last one
 * of that kind for the patient. */
static int64_t sim_ts(struct sim_patient *p, int k, int64_t now)
{
  int64_t t = now > p->last_ms[k] ? now : p->last_ms[k] + 1;
  p->last_ms[k] = t;
  return t;
}

static void sim_item(struct vg_buf *b, size_t *n, const struct sim_patient *p,
                     int k, int64_t ts, double value)
{
  char t[40];
  size_t tl = vg_time_format(ts, SIM_TZ_MIN, t, sizeof t);
  if ((*n)++)
    buf_putc(b, ',');
  buf_printf(b, "{\"patient\":%lld,\"code\":\"%s\",\"time\":",
             (long long)p->id, k_code[k]);
  buf_json_str(b, t, tl);
  buf_puts(b, ",\"value\":");
  buf_json_num(b, value);
  buf_printf(b, ",\"unit\":\"%s\",\"source\":\"sim-%s-%lld\"}", k_unit[k],
             k_dev[k], (long long)p->id);
}

/* Append readings for one device event of patient p; returns how many.
 * room is how many more readings the batch may take (>= 1). */
static size_t sim_event(struct vg_buf *b, size_t *n, struct sim_patient *p,
                        uint64_t *rng, int64_t now, size_t room)
{
  int hour = (int)(((now + SIM_TZ_MIN * 60000LL) / 3600000LL) % 24);
  double u = sim_unif(rng), v;
  int64_t t;
  if (p->cgm && p->cgm_next_ms <= now && u < 0.7) {
    p->cgm_mgdl += 0.08 * (p->glu_mean - p->cgm_mgdl) + 6 * sim_norm(rng);
    if (p->cgm_mgdl < 45)
      p->cgm_mgdl = 45;
    if (p->cgm_mgdl > 400)
      p->cgm_mgdl = 400;
    t = p->cgm_next_ms > p->last_ms[K_CGM] ? p->cgm_next_ms
                                           : p->last_ms[K_CGM] + 1;
    p->last_ms[K_CGM] = t;
    p->cgm_next_ms += SIM_CGM_MS;
    sim_item(b, n, p, K_CGM, t, round(p->cgm_mgdl));
    return 1;
  }
  u = sim_unif(rng);
  if (u < 0.6 && room >= 3) { /* home BP: sbp, dbp and pulse together */
    /* Morning surge, evening plateau, nocturnal dip. */
    double shift = hour >= 4 && hour < 11 ? 8 : hour >= 23 || hour < 4 ? -6
                                                                        : 0;
    double sbp = round(p->sbp_mean + shift + 10 * sim_norm(rng));
    int64_t a = p->last_ms[K_SBP], c = p->last_ms[K_DBP];
    t = now;
    if (t <= a)
      t = a + 1;
    if (t <= c)
      t = c + 1;
    if (t <= p->last_ms[K_HR])
      t = p->last_ms[K_HR] + 1;
    p->last_ms[K_SBP] = p->last_ms[K_DBP] = p->last_ms[K_HR] = t;
    sim_item(b, n, p, K_SBP, t, fmax(60, sbp));
    sim_item(b, n, p, K_DBP, t,
             fmax(35, round(sbp * 0.62 + 6 * sim_norm(rng))));
    sim_item(b, n, p, K_HR, t,
             fmax(35, round(p->hr_mean + 7 * sim_norm(rng))));
    return 3;
  }
  if (u < 0.8) { /* fasting in the morning, after meals otherwise */
    v = p->glu_mean + (hour >= 5 && hour < 9 ? 0 : 35) + 15 * sim_norm(rng);
    sim_item(b, n, p, K_GLU, sim_ts(p, K_GLU, now), round(fmax(40, v)));
  } else if (u < 0.92) {
    v = round(97 + 1.5 * sim_norm(rng));
    sim_item(b, n, p, K_SPO2, sim_ts(p, K_SPO2, now), fmin(100, v));
  } else {
    p->weight_kg += 0.1 * sim_norm(rng);
    sim_item(b, n, p, K_WT, sim_ts(p, K_WT, now),
             round(p->weight_kg * 10) / 10);
  }
  return 1;
}

/* Parse {"accepted":n,"duplicate":n,"rejected":[...]}; 0 or -1. */
static int sim_tally(struct sim *s, const struct vg_buf *resp)
{
  json_error_t err;
  json_t *j = json_loadb(resp->data, resp->len, 0, &err);
  json_t *a = j ? json_object_get(j, "accepted") : NULL;
  json_t *d = j ? json_object_get(j, "duplicate") : NULL;
  json_t *r = j ? json_object_get(j, "rejected") : NULL;
  if (!json_is_integer(a) || !json_is_integer(d) || !json_is_array(r)) {
    json_decref(j);
    return -1;
  }
  atomic_fetch_add(&s->accepted, json_integer_value(a));
  atomic_fetch_add(&s->duplicate, json_integer_value(d));
  atomic_fetch_add(&s->rejected, (long long)json_array_size(r));
  if (json_array_size(r) && atomic_load(&s->rejected) < 5)
    fprintf(stderr, "vigil simulate: rejected: %.200s\n", resp->data);
  json_decref(j);
  return 0;
}

static void *sim_thread_main(void *arg)
{
  struct sim_thread *th = arg;
  struct sim *s = th->s;
  struct vg_buf body = VG_BUF_INIT, resp = VG_BUF_INIT;
  char url[600];
  long long done = 0;
  CURL *c = curl_easy_init();

  snprintf(url, sizeof url, "%s/api/v1/readings", s->url);
  while (c && done < th->quota && !atomic_load(&s->stop)) {
    size_t want = (size_t)(th->quota - done < s->batch ? th->quota - done
                                                       : s->batch);
    /* Pacing: a batch is due once the thread has earned its readings, so
     * the last one goes out at S seconds. A server too slow to keep up
     * gets no catch-up burst beyond that: the run ends at S + 1 s. */
    int64_t due =
        s->t0_ns + (int64_t)((double)(done + (long long)want) / th->rate * 1e9);
    int64_t now_ms;
    size_t n = 0;
    long status = 0, retry_s = 1;
    int attempt;
    sim_sleep_ns(due - vg_mono_ns());
    if ((double)(vg_mono_ns() - s->t0_ns) > (s->duration_s + 1) * 1e9)
      break;
    now_ms = vg_now_ms();
    buf_reset(&body);
    buf_puts(&body, "{\"readings\":[");
    while (n < want) {
      struct sim_patient *p =
          &s->pats[th->first + sim_rand(&th->rng) % th->count];
      sim_event(&body, &n, p, &th->rng, now_ms, want - n);
    }
    buf_puts(&body, "]}");
    if (body.err) {
      fprintf(stderr, "vigil simulate: out of memory\n");
      break;
    }
    for (attempt = 0; attempt <= SIM_RETRIES; attempt++) {
      if (sim_http(c, url, body.data, body.len, &resp, &status, &retry_s))
        status = 0;
      if (status != 503)
        break;
      sim_sleep_ns((int64_t)retry_s * 1000000000LL); /* back-pressure */
    }
    done += (long long)n;
    atomic_fetch_add(&s->sent, (long long)n);
    if (status != 200 || sim_tally(s, &resp)) {
      if (atomic_fetch_add(&s->errors, 1) < 5 && status)
        fprintf(stderr, "vigil simulate: POST %s: HTTP %ld %.300s\n", url,
                status, resp.data ? resp.data : "");
      atomic_fetch_add(&s->failed_readings, (long long)n);
    }
  }
  if (!c)
    atomic_fetch_add(&s->errors, 1);
  atomic_fetch_sub(&s->running, 1);
  curl_easy_cleanup(c);
  buf_free(&body);
  buf_free(&resp);
  return NULL;
}

/* ==== command line ====================================================== */

static void sim_usage(FILE *out)
{
  fprintf(out,
          "usage: vigil simulate --url URL --patients N --rate R "
          "--duration S\n"
          "                      [--batch B] [--threads T] [--seed X]\n"
          "                      [--token-file F] [--mqtt URL]\n"
          "Sends realistic home-device readings to a running server:\n"
          "finds N patients (GET /api/v1/patients, creating the missing\n"
          "ones), then T threads POST JSON batches of B readings to\n"
          "/api/v1/readings, paced to R readings/s in total for S seconds.\n"
          "Readings are stamped \"now\" at UTC+08:00: home BP triples\n"
          "(sbp, dbp, hr; higher in the morning), glucose, SpO2, weight,\n"
          "and CGM points every 5 minutes (with a 6 h backfill) for one\n"
          "patient in five.\n\n"
          "  --url URL       server base, e.g. http://127.0.0.1:8080\n"
          "  --patients N    patients to simulate (1..1000000)\n"
          "  --rate R        readings per second, all threads together\n"
          "  --duration S    seconds to run\n"
          "  --batch B       readings per request (default 100)\n"
          "  --threads T     client threads (default 2, at most %d)\n"
          "  --seed X        random seed (default: from the clock)\n"
          "  --token-file F  file holding an API token with patient.read,\n"
          "                  patient.write and reading.write (or set\n"
          "                  VIGIL_TOKEN); e.g. from `vigil token create`\n"
          "  --mqtt URL      publish as devices over MQTT instead: each\n"
          "                  patient gets a device sim-<id> (POST\n"
          "                  /api/v1/devices, bound), whose events go QoS 1\n"
          "                  to vigil/in/sim-<id>/readings; the\n"
          "                  application acks on vigil/out/+/ack are\n"
          "                  counted (needs device.write too)\n\n"
          "A progress line goes to stderr every second; a summary with the\n"
          "achieved rate at the end. Exit status: 0 ok, 1 if the server\n"
          "could not be used or any request failed, 2 on bad arguments.\n",
          SIM_THREADS_MAX);
}

static int sim_num(const char *flag, const char *v, double lo, double hi,
                   double *out)
{
  char *end;
  double d;
  errno = 0;
  d = v ? strtod(v, &end) : 0;
  if (!v || !*v || errno || *end || !(d >= lo && d <= hi)) {
    fprintf(stderr, "vigil simulate: %s needs a number in %g..%g, not '%s'\n",
            flag, lo, hi, v ? v : "");
    return -1;
  }
  *out = d;
  return 0;
}

static void sim_set_token(const char *tok)
{
  size_t len = strcspn(tok, "\r\n");
  snprintf(sim_authz, sizeof sim_authz, "Authorization: Bearer %.*s",
           (int)len, tok);
}

/* Read the API token from path (first line). 0 or -1 with a message. */
static int sim_token_file(const char *path)
{
  char tok[200];
  FILE *f = path ? fopen(path, "r") : NULL;
  int ok = f && fgets(tok, sizeof tok, f);
  if (f)
    fclose(f);
  if (!ok) {
    fprintf(stderr, "vigil simulate: cannot read a token from '%s'\n",
            path ? path : "");
    return -1;
  }
  sim_set_token(tok);
  return 0;
}

static int sim_parse(struct sim *s, uint64_t *seed, int argc, char **argv)
{
  if (getenv("VIGIL_TOKEN") && *getenv("VIGIL_TOKEN"))
    sim_set_token(getenv("VIGIL_TOKEN"));
  int have_url = 0, have_n = 0, have_rate = 0, have_dur = 0, i;
  double v;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i], *val, *eq = strchr(a, '=');
    char flag[32];
    size_t fl = eq ? (size_t)(eq - a) : strlen(a);
    if (fl >= sizeof flag)
      goto bad;
    memcpy(flag, a, fl);
    flag[fl] = '\0';
    val = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
    if (!strcmp(flag, "--url")) {
      size_t len = val ? strlen(val) : 0;
      if (!len || len >= sizeof s->url)
        goto bad;
      memcpy(s->url, val, len + 1);
      while (len && s->url[len - 1] == '/')
        s->url[--len] = '\0';
      have_url = 1;
    } else if (!strcmp(flag, "--patients")) {
      if (sim_num(flag, val, 1, 1000000, &v))
        return -1;
      s->n_patients = (long)v;
      have_n = 1;
    } else if (!strcmp(flag, "--rate")) {
      if (sim_num(flag, val, 0.001, 1e7, &v))
        return -1;
      s->rate = v;
      have_rate = 1;
    } else if (!strcmp(flag, "--duration")) {
      if (sim_num(flag, val, 0.001, 1e7, &v))
        return -1;
      s->duration_s = v;
      have_dur = 1;
    } else if (!strcmp(flag, "--batch")) {
      if (sim_num(flag, val, 1, SIM_BATCH_MAX, &v))
        return -1;
      s->batch = (long)v;
    } else if (!strcmp(flag, "--threads")) {
      if (sim_num(flag, val, 1, SIM_THREADS_MAX, &v))
        return -1;
      s->threads = (long)v;
    } else if (!strcmp(flag, "--mqtt")) {
      if (!val || strlen(val) >= sizeof s->mqtt)
        goto bad;
      snprintf(s->mqtt, sizeof s->mqtt, "%s", val);
    } else if (!strcmp(flag, "--token-file")) {
      if (sim_token_file(val))
        return -1;
    } else if (!strcmp(flag, "--seed")) {
      if (sim_num(flag, val, 0, 1e15, &v))
        return -1;
      *seed = (uint64_t)v;
    } else {
      goto bad;
    }
  }
  if (have_url && have_n && have_rate && have_dur)
    return 0;
  fprintf(stderr, "vigil simulate: --url, --patients, --rate and "
                  "--duration are required\n");
  return -1;
bad:
  fprintf(stderr, "vigil simulate: bad argument '%s'\n", argv[i]);
  return -1;
}

static void sim_progress(struct sim *s, double elapsed_s, long long *last,
                         double *last_s, const char *tag)
{
  long long sent = atomic_load(&s->sent);
  double dt = elapsed_s - *last_s;
  fprintf(stderr,
          "%s %6.1fs sent %lld accepted %lld duplicate %lld rejected %lld "
          "errors %lld rate %.0f/s\n",
          tag, elapsed_s, sent, atomic_load(&s->accepted),
          atomic_load(&s->duplicate), atomic_load(&s->rejected),
          atomic_load(&s->errors),
          dt > 0 ? (double)(sent - *last) / dt : 0.0);
  *last = sent;
  *last_s = elapsed_s;
}

/* ==== MQTT mode ========================================================= */

#ifdef HAVE_MOSQUITTO
/* Create device sim-<id> bound to patient id (409: it exists already). */
static int sim_bind_device(struct sim *s, CURL *c, struct vg_buf *resp,
                           int64_t id)
{
  char url[600], body[160];
  long status;
  int len = snprintf(body, sizeof body, "{\"serial\":\"sim-%lld\",\"kind\":"
                     "\"bp_cuff\",\"patient\":%lld}", (long long)id,
                     (long long)id);
  snprintf(url, sizeof url, "%s/api/v1/devices", s->url);
  if (sim_http(c, url, body, (size_t)len, resp, &status, NULL))
    return -1;
  if (status == 201 || status == 409)
    return 0;
  fprintf(stderr, "vigil simulate: POST %s: HTTP %ld %s\n", url, status,
          resp->data ? resp->data : "");
  return -1;
}

static void sim_on_ack(struct mosquitto *m, void *obj,
                       const struct mosquitto_message *msg)
{
  struct sim *s = obj;
  struct vg_buf b = VG_BUF_INIT;
  (void)m;
  if (strncmp(msg->topic, "vigil/out/sim-", 14))
    return;
  b.data = msg->payload;
  b.len = (size_t)msg->payloadlen;
  atomic_fetch_add(&s->acks, 1);
  if (sim_tally(s, &b)) {
    atomic_fetch_add(&s->errors, 1);
    if (atomic_load(&s->errors) < 5)
      fprintf(stderr, "vigil simulate: ack %.200s\n",
              (const char *)msg->payload);
  }
}

/* One connection publishes every patient's device events, paced to
 * s->rate readings/s for s->duration_s, then waits (<= 10 s) for the acks.
 * Returns 0 when every message was acked without error. */
static int sim_mqtt(struct sim *s, uint64_t *rng)
{
  char host[256], user[128], pass[128], topic[96];
  struct vg_buf b = VG_BUF_INIT;
  struct mosquitto *m = NULL;
  long long last = 0;
  double last_s = 0, elapsed;
  int port, rc = 1;
  int64_t end, due;
  long k = 0;
  if (mqtt_parse_url(s->mqtt, host, sizeof host, &port, user, sizeof user,
                     pass, sizeof pass)) {
    fprintf(stderr, "vigil simulate: bad --mqtt URL '%s'\n", s->mqtt);
    return 1;
  }
  mosquitto_lib_init();
  m = mosquitto_new(NULL, true, s);
  if (!m)
    goto fail;
  mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
  if (user[0])
    mosquitto_username_pw_set(m, user, pass[0] ? pass : NULL);
  mosquitto_message_callback_set(m, sim_on_ack);
  if (mosquitto_connect(m, host, port, 30) != MOSQ_ERR_SUCCESS) {
    fprintf(stderr, "vigil simulate: cannot connect to %s:%d\n", host, port);
    goto fail;
  }
  mosquitto_subscribe(m, NULL, "vigil/out/+/ack", 1);
  mosquitto_loop_start(m);
  sim_sleep_ns(300000000LL); /* let the subscription settle */
  s->t0_ns = vg_mono_ns();
  end = s->t0_ns + (int64_t)(s->duration_s * 1e9);
  due = s->t0_ns;
  while (vg_mono_ns() < end) {
    struct sim_patient *p = &s->pats[k++ % s->n_patients];
    size_t n = 0;
    int64_t now = vg_now_ms();
    buf_reset(&b);
    buf_puts(&b, "{\"readings\":[");
    sim_event(&b, &n, p, rng, now, 3);
    buf_puts(&b, "]}");
    snprintf(topic, sizeof topic, "vigil/in/sim-%lld/readings",
             (long long)p->id);
    if (b.err || mosquitto_publish(m, NULL, topic, (int)b.len, b.data, 1,
                                   false) != MOSQ_ERR_SUCCESS) {
      atomic_fetch_add(&s->errors, 1);
      continue;
    }
    atomic_fetch_add(&s->sent, 1);
    due += (int64_t)((double)n / s->rate * 1e9);
    if (due > vg_mono_ns())
      sim_sleep_ns(due - vg_mono_ns());
    elapsed = (double)(vg_mono_ns() - s->t0_ns) / 1e9;
    if (elapsed >= last_s + 1)
      sim_progress(s, elapsed, &last, &last_s, "simulate(mqtt):");
  }
  for (int i = 0; i < 1000 && atomic_load(&s->acks) < atomic_load(&s->sent);
       i++)
    sim_sleep_ns(10000000LL);
  elapsed = (double)(vg_mono_ns() - s->t0_ns) / 1e9;
  fprintf(stderr,
          "simulate(mqtt): done in %.1fs: messages %lld, acks %lld; "
          "readings accepted %lld duplicate %lld rejected %lld; errors %lld;"
          " %.1f acked messages/s\n", elapsed, atomic_load(&s->sent),
          atomic_load(&s->acks), atomic_load(&s->accepted),
          atomic_load(&s->duplicate), atomic_load(&s->rejected),
          atomic_load(&s->errors),
          elapsed > 0 ? (double)atomic_load(&s->acks) / elapsed : 0.0);
  rc = atomic_load(&s->errors) ||
       atomic_load(&s->acks) != atomic_load(&s->sent);
  mosquitto_disconnect(m);
  mosquitto_loop_stop(m, false);
fail:
  if (m)
    mosquitto_destroy(m);
  mosquitto_lib_cleanup();
  buf_free(&b);
  return rc;
}
#endif

int cli_simulate(int argc, char **argv)
{
  struct sim s;
  struct sim_thread th[SIM_THREADS_MAX];
  struct vg_buf resp = VG_BUF_INIT;
  uint64_t seed = (uint64_t)vg_now_ms(), rng;
  long have = 0, k, i, n_threads;
  long long total, last = 0, assigned = 0;
  double last_s = 0, elapsed;
  CURL *c = NULL;
  int rc = 1;

  if (cli_wants_help(argc, argv)) {
    sim_usage(stdout);
    return 0;
  }
  memset(&s, 0, sizeof s);
  s.batch = 100;
  s.threads = 2;
  if (sim_parse(&s, &seed, argc, argv)) {
    sim_usage(stderr);
    return 2;
  }
  rng = seed;
  if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
    return 1;
  s.pats = vg_calloc((size_t)s.n_patients, sizeof *s.pats);
  c = curl_easy_init();
  if (!s.pats || !c) {
    fprintf(stderr, "vigil simulate: out of memory\n");
    goto fail;
  }

  /* Patients: reuse what the server has, create the rest. */
  if (sim_list_patients(&s, c, &resp, &have))
    goto fail;
  for (k = have; k < s.n_patients; k++)
    if (sim_create_patient(&s, c, &resp, k + 1, &rng, &s.pats[k].id))
      goto fail;
  fprintf(stderr, "vigil simulate: %ld patients (%ld existing, %ld created) "
          "at %s\n", s.n_patients, have, s.n_patients - have, s.url);
  for (k = 0; k < s.n_patients; k++)
    sim_profile(&s.pats[k], &rng, vg_now_ms());
  if (s.mqtt[0]) {
#ifdef HAVE_MOSQUITTO
    for (k = 0; k < s.n_patients; k++)
      if (sim_bind_device(&s, c, &resp, s.pats[k].id))
        goto fail;
    fprintf(stderr, "vigil simulate: %ld devices sim-<patient> bound; "
            "publishing to %s\n", s.n_patients, s.mqtt);
    rc = sim_mqtt(&s, &rng);
#else
    fprintf(stderr, "vigil simulate: built without libmosquitto\n");
#endif
    goto fail;
  }

  /* Threads: each owns a slice of patients and a share of the readings. */
  n_threads = s.threads < s.n_patients ? s.threads : s.n_patients;
  total = (long long)llround(s.rate * s.duration_s);
  s.t0_ns = vg_mono_ns();
  for (i = 0; i < n_threads; i++) {
    long long q = total * (i + 1) / n_threads - assigned;
    assigned += q;
    th[i].s = &s;
    th[i].first = (size_t)(s.n_patients * i / n_threads);
    th[i].count = (size_t)(s.n_patients * (i + 1) / n_threads) - th[i].first;
    th[i].quota = q;
    th[i].rate = s.rate / (double)n_threads;
    th[i].rng = seed ^ (0xA5A5A5A5ULL * (uint64_t)(i + 1));
    atomic_fetch_add(&s.running, 1);
    if (pthread_create(&th[i].th, NULL, sim_thread_main, &th[i])) {
      atomic_fetch_sub(&s.running, 1);
      atomic_store(&s.stop, 1);
      n_threads = i;
      break;
    }
  }
  while (atomic_load(&s.running) > 0) { /* progress once a second */
    int64_t next = s.t0_ns + (int64_t)((last_s + 1) * 1e9);
    while (atomic_load(&s.running) > 0 && vg_mono_ns() < next)
      sim_sleep_ns(10000000LL);
    if (atomic_load(&s.running) > 0)
      sim_progress(&s, (double)(vg_mono_ns() - s.t0_ns) / 1e9, &last,
                   &last_s, "simulate:");
  }
  for (i = 0; i < n_threads; i++)
    pthread_join(th[i].th, NULL);
  elapsed = (double)(vg_mono_ns() - s.t0_ns) / 1e9;
  fprintf(stderr,
          "simulate: done in %.1fs: sent %lld accepted %lld duplicate %lld "
          "rejected %lld errors %lld (requests; %lld readings lost); "
          "achieved %.1f readings/s of %.1f target\n",
          elapsed, atomic_load(&s.sent), atomic_load(&s.accepted),
          atomic_load(&s.duplicate), atomic_load(&s.rejected),
          atomic_load(&s.errors), atomic_load(&s.failed_readings),
          elapsed > 0 ? (double)atomic_load(&s.sent) / elapsed : 0.0,
          s.rate);
  rc = atomic_load(&s.errors) || n_threads == 0 ? 1 : 0;
fail:
  curl_easy_cleanup(c);
  buf_free(&resp);
  vg_free(s.pats);
  curl_global_cleanup();
  return rc;
}
