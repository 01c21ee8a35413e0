/* ingest_mqtt.c - MQTT gateway over libmosquitto (ingest_mqtt.h): the
 * network thread queues messages; a few workers each take everything
 * queued, commit those messages' batches in one writer job
 * (ingest_batches_commit) and publish each message's own application-level
 * ack after the commit. */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core_alloc.h"
#include "core_arena.h"
#include "core_buf.h"
#include "core_errors.h"
#include "core_log.h"
#include "core_time.h"
#include "ingest.h"
#include "ingest_mqtt.h"
#include "metrics.h"
#include "store.h"

#ifdef HAVE_MOSQUITTO
#include <mosquitto.h>
#include <mqtt_protocol.h>
#endif

/* ==== URL =============================================================== */

static int copy_part(const char *s, size_t n, char *dst, size_t dst_len)
{
  if (n >= dst_len)
    return -VG_EINVAL;
  memcpy(dst, s, n);
  dst[n] = '\0';
  return 0;
}

int mqtt_parse_url(const char *url, char *host, size_t host_len,
                   int *out_port, char *user, size_t user_len, char *pass,
                   size_t pass_len)
{
  const char *p = url, *at, *end, *colon;
  user[0] = pass[0] = host[0] = '\0';
  *out_port = 1883;
  if (!strncmp(p, "mqtt://", 7))
    p += 7;
  else if (!strncmp(p, "tcp://", 6))
    p += 6;
  else if (strstr(p, "://"))
    return -VG_EINVAL; /* mqtts:// etc.: TLS is the broker's job here */
  end = p + strcspn(p, "/?");
  at = memchr(p, '@', (size_t)(end - p));
  if (at) {
    colon = memchr(p, ':', (size_t)(at - p));
    if (colon) {
      if (copy_part(p, (size_t)(colon - p), user, user_len) ||
          copy_part(colon + 1, (size_t)(at - colon - 1), pass, pass_len))
        return -VG_EINVAL;
    } else if (copy_part(p, (size_t)(at - p), user, user_len)) {
      return -VG_EINVAL;
    }
    p = at + 1;
  }
  colon = memchr(p, ':', (size_t)(end - p));
  if (colon) {
    char *e;
    long v = strtol(colon + 1, &e, 10);
    if (e != end || v < 1 || v > 65535)
      return -VG_EINVAL;
    *out_port = (int)v;
  } else {
    colon = end;
  }
  if (colon == p || copy_part(p, (size_t)(colon - p), host, host_len))
    return -VG_EINVAL;
  return 0;
}

/* ==== one message ======================================================= */

static int fail_json(struct vg_buf *ack, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_json(struct vg_buf *ack, int rc, const char *fmt, ...)
{
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  buf_puts(ack, "{\"error\":{\"code\":");
  buf_json_str(ack, vg_errcode(rc), strlen(vg_errcode(rc)));
  buf_puts(ack, ",\"message\":");
  buf_json_str(ack, msg, strlen(msg));
  buf_puts(ack, "}}");
  return rc;
}

/* One message on its way through a chunk: device check and parse
 * (prepare), then a shared commit, then its own ack (finish). */
struct mwork {
  const char *dev, *payload;
  size_t len;
  struct vg_buf *ack;
  struct vg_arena *a;
  struct vg_ingest_batch *b; /* NULL: settled in prepare (rc, ack set) */
  int rc;
};

/* Device lookup (in the chunk's READ transaction t), bound-patient check,
 * bulk parse and validation into w->b; on failure w->rc and the ack. */
static void prepare(struct vg_txn *t, int64_t future_ms, int64_t now_ms,
                    struct mwork *w)
{
  struct vg_ingest_opts opts = {0};
  struct vg_device d;
  struct vg_bulk_parser *p = NULL;
  struct vg_ingest_batch *b = NULL;
  int rc;

  w->b = NULL;
  w->a = NULL;
  rc = store_device_by_serial(t, w->dev, &d);
  if (rc == -VG_ENOTFOUND) {
    w->rc = fail_json(w->ack, -VG_EFORBIDDEN, "unknown device '%.64s'",
                      w->dev);
    return;
  }
  if (rc) {
    w->rc = fail_json(w->ack, rc, "store: %s", vg_strerror(rc));
    return;
  }
  if (d.patient_id <= 0) {
    w->rc = fail_json(w->ack, -VG_EFORBIDDEN,
                      "device '%.64s' is not bound to a patient", w->dev);
    return;
  }
  w->a = arena_new(0);
  opts.now_ms = now_ms;
  opts.future_ms = future_ms;
  opts.default_source = d.serial;
  opts.only_patient = d.patient_id;
  b = w->a ? ingest_batch_new(w->a, &opts) : NULL;
  p = b ? bulk_parser_new(VG_BULK_JSON, 0, ingest_batch_item_cb, b) : NULL;
  if (!p) {
    w->rc = fail_json(w->ack, -VG_ENOMEM, "no memory");
    goto fail;
  }
  rc = bulk_parser_feed(p, w->payload, w->len);
  if (!rc)
    rc = bulk_parser_finish(p);
  if (rc) {
    const char *why = bulk_parser_error(p);
    w->rc = fail_json(w->ack, rc, "%s", why && *why ? why : vg_strerror(rc));
    goto fail;
  }
  bulk_parser_free(p);
  w->b = b;
  w->rc = 0;
  return;
fail:
  bulk_parser_free(p);
  arena_free(w->a);
  w->a = NULL;
}

/* Handle n messages: one READ transaction for the device lookups, one
 * writer job for all their batches (ingest_batches_commit), then each
 * message's own ack. OUT: w[i].rc and w[i].ack. */
static void handle_chunk(struct vg_store *store, struct vg_writer *writer,
                         int64_t future_ms, struct mwork *w, size_t n)
{
  struct vg_ingest_batch **bs = vg_malloc(n * sizeof *bs);
  struct vg_ingest_result *res = vg_malloc(n * sizeof *res);
  int *rcs = vg_malloc(n * sizeof *rcs);
  size_t *which = vg_malloc(n * sizeof *which);
  struct vg_txn *t = NULL;
  int64_t now_ms = vg_now_ms();
  size_t k = 0;
  int rc;

  rc = store_begin(store, VG_TXN_READ, &t);
  for (size_t i = 0; i < n; i++) {
    if (rc) {
      w[i].b = NULL;
      w[i].a = NULL;
      w[i].rc = fail_json(w[i].ack, rc, "store: %s", vg_strerror(rc));
      continue;
    }
    prepare(t, future_ms, now_ms, &w[i]);
    if (w[i].b) {
      bs[k] = w[i].b;
      which[k++] = i;
    }
  }
  if (!rc)
    store_rollback(t);
  ingest_batches_commit(bs, k, writer, res, rcs);
  for (size_t j = 0; j < k; j++) {
    struct mwork *x = &w[which[j]];
    if (rcs[j]) {
      x->rc = fail_json(x->ack, rcs[j], "readings not stored: %s",
                        vg_strerror(rcs[j]));
    } else {
      metrics_add(VG_M_INGEST_BATCHES, 1);
      metrics_add(VG_M_READINGS_ACCEPTED, res[j].accepted);
      metrics_add(VG_M_READINGS_DUPLICATE, res[j].duplicate);
      metrics_add(VG_M_READINGS_REJECTED, res[j].n_rejected);
      x->rc = ingest_result_json(&res[j], x->ack);
    }
    arena_free(x->a); /* res[j] points into it: the ack is written */
    x->a = NULL;
  }
  vg_free(which);
  vg_free(rcs);
  vg_free(res);
  vg_free(bs);
}

int mqtt_handle(struct vg_store *store, struct vg_writer *writer,
                int64_t future_ms, const char *dev, const char *payload,
                size_t len, struct vg_buf *ack)
{
  struct mwork w;
  memset(&w, 0, sizeof w);
  w.dev = dev;
  w.payload = payload;
  w.len = len;
  w.ack = ack;
  handle_chunk(store, writer, future_ms, &w, 1);
  return w.rc;
}

/* ==== gateway =========================================================== */

#ifdef HAVE_MOSQUITTO

#define QUEUE_MAX 65536 /* messages waiting for a worker; the network
                           thread blocks beyond (TCP back-pressure) */
#define TOPIC_IN "vigil/in/+/readings"
#define CHUNK_MAX 512   /* messages one worker commits in one writer job */
#define WORKERS_DEFAULT 4 /* few workers, big chunks: the writer then sees
                             one job per chunk, not one per message */

struct qmsg {
  struct qmsg *next;
  char dev[VG_ID_MAX];
  int64_t t_ns;       /* received (monotonic) */
  void *corr;         /* MQTT 5 correlation data, echoed on the ack */
  uint16_t corr_len;
  size_t len;
  char payload[];
};

struct vg_mqtt {
  struct vg_mqtt_opts opts;
  char host[256], user[128], pass[128], client_id[128], share[64];
  int port;
  struct vg_store *store;
  struct vg_writer *writer;
  struct mosquitto *mosq;
  pthread_mutex_t mu;
  pthread_cond_t nonempty, nonfull, idle;
  struct qmsg *head, *tail;
  size_t n_queued;
  int n_busy;
  uint64_t n_jobs; /* chunks committed (under mu) */
  int stopping;
  pthread_t *workers;
  atomic_int connected;
  atomic_uint_fast64_t n_msg, n_ok, n_rej, n_conn;
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static void lib_init(void) { mosquitto_lib_init(); }

/* Topic vigil/in/<dev>/readings -> dev. */
static int topic_device(const char *topic, char *dev, size_t dev_len)
{
  const char *p, *e;
  if (strncmp(topic, "vigil/in/", 9))
    return -1;
  p = topic + 9;
  e = strchr(p, '/');
  if (!e || e == p || strcmp(e, "/readings") || (size_t)(e - p) >= dev_len)
    return -1;
  memcpy(dev, p, (size_t)(e - p));
  dev[e - p] = '\0';
  return 0;
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
                       const mosquitto_property *props)
{
  struct vg_mqtt *m = obj;
  char sub[160];
  (void)props;
  if (rc) {
    vg_warn("mqtt.connect", "error=\"%s\"", mosquitto_reason_string(rc));
    return;
  }
  m->connected = 1;
  m->n_conn++;
  metrics_add(VG_M_MQTT_CONNECTS, 1);
  if (m->share[0])
    snprintf(sub, sizeof sub, "$share/%s/%s", m->share, TOPIC_IN);
  else
    snprintf(sub, sizeof sub, "%s", TOPIC_IN);
  /* the persistent session keeps the subscription; renewing it is cheap
   * and covers a broker that lost its state */
  rc = mosquitto_subscribe_v5(mosq, NULL, sub, 1, 0, NULL);
  vg_info("mqtt.connected", "session_present=%d sub=%s rc=%d", flags & 1,
          sub, rc);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc,
                          const mosquitto_property *props)
{
  struct vg_mqtt *m = obj;
  (void)mosq;
  (void)props;
  m->connected = 0;
  if (rc)
    vg_warn("mqtt.disconnected", "rc=%d (reconnecting)", rc);
}

static void on_message(struct mosquitto *mosq, void *obj,
                       const struct mosquitto_message *msg,
                       const mosquitto_property *props)
{
  struct vg_mqtt *m = obj;
  struct qmsg *q;
  char dev[VG_ID_MAX];
  void *corr = NULL;
  uint16_t corr_len = 0;
  (void)mosq;
  m->n_msg++;
  if (topic_device(msg->topic, dev, sizeof dev)) {
    m->n_rej++;
    metrics_add(VG_M_MQTT_REJECTED, 1);
    vg_info("mqtt.topic", "topic=\"%.100s\" error=\"not vigil/in/<device>/"
            "readings\"", msg->topic);
    return;
  }
  q = vg_malloc(sizeof *q + (size_t)msg->payloadlen + 1);
  snprintf(q->dev, sizeof q->dev, "%s", dev);
  q->t_ns = vg_mono_ns();
  q->len = (size_t)msg->payloadlen;
  memcpy(q->payload, msg->payload, q->len);
  q->payload[q->len] = '\0';
  if (mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA, &corr,
                                     &corr_len, false) == NULL)
    corr = NULL, corr_len = 0;
  q->corr = corr;
  q->corr_len = corr_len;
  q->next = NULL;
  pthread_mutex_lock(&m->mu);
  while (m->n_queued >= QUEUE_MAX)
    pthread_cond_wait(&m->nonfull, &m->mu);
  if (m->tail)
    m->tail->next = q;
  else
    m->head = q;
  m->tail = q;
  m->n_queued++;
  pthread_cond_signal(&m->nonempty);
  pthread_mutex_unlock(&m->mu);
}

/* Publish q's ack (ack holds the JSON) and count the outcome rc. */
static void publish_ack(struct vg_mqtt *m, struct qmsg *q,
                        const struct vg_buf *ack, int rc)
{
  char topic[VG_ID_MAX + 32];
  mosquitto_property *props = NULL;
  if (rc) {
    m->n_rej++;
    metrics_add(VG_M_MQTT_REJECTED, 1);
  } else {
    m->n_ok++;
    metrics_add(VG_M_MQTT_MESSAGES, 1);
    metrics_observe(VG_H_MQTT_LAG_SECONDS, vg_mono_ns() - q->t_ns);
  }
  if (ack->err)
    return;
  snprintf(topic, sizeof topic, "vigil/out/%s/ack", q->dev);
  if (q->corr)
    mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, q->corr,
                                  q->corr_len);
  mosquitto_publish_v5(m->mosq, NULL, topic, (int)ack->len, ack->data, 1,
                       false, props);
  mosquitto_property_free_all(&props);
}

/* Run a chunk of n queued messages through one shared commit and publish
 * every message's own ack. acks and w are the worker's (CHUNK_MAX each). */
static void work_chunk(struct vg_mqtt *m, struct qmsg **qs, size_t n,
                       struct vg_buf *acks, struct mwork *w)
{
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    buf_reset(&acks[i]);
    if (qs[i]->len > m->opts.max_len) {
      int rc = fail_json(&acks[i], -VG_ETOOBIG, "payload of %zu bytes "
                         "exceeds %zu", qs[i]->len, m->opts.max_len);
      publish_ack(m, qs[i], &acks[i], rc);
      continue;
    }
    memset(&w[k], 0, sizeof w[k]);
    w[k].dev = qs[i]->dev;
    w[k].payload = qs[i]->payload;
    w[k].len = qs[i]->len;
    w[k].ack = &acks[i];
    k++;
  }
  if (k)
    handle_chunk(m->store, m->writer, m->opts.future_ms, w, k);
  k = 0;
  for (size_t i = 0; i < n; i++)
    if (qs[i]->len <= m->opts.max_len) {
      publish_ack(m, qs[i], &acks[i], w[k].rc);
      k++;
    }
}

static void *worker_main(void *arg)
{
  struct vg_mqtt *m = arg;
  struct vg_buf *acks = vg_calloc(CHUNK_MAX, sizeof *acks);
  struct mwork *w = vg_calloc(CHUNK_MAX, sizeof *w);
  struct qmsg *qs[CHUNK_MAX];
  for (size_t i = 0; i < CHUNK_MAX; i++)
    buf_init(&acks[i], 16u << 20);
  for (;;) {
    size_t n = 0;
    pthread_mutex_lock(&m->mu);
    while (!m->head && !m->stopping)
      pthread_cond_wait(&m->nonempty, &m->mu);
    if (!m->head) {
      pthread_mutex_unlock(&m->mu);
      break;
    }
    /* take everything queued (up to CHUNK_MAX): what arrived while the
     * other workers were committing goes in one writer job */
    while (m->head && n < CHUNK_MAX) {
      qs[n++] = m->head;
      m->head = m->head->next;
    }
    if (!m->head)
      m->tail = NULL;
    m->n_queued -= n;
    m->n_busy++;
    pthread_cond_broadcast(&m->nonfull);
    pthread_mutex_unlock(&m->mu);
    work_chunk(m, qs, n, acks, w);
    for (size_t i = 0; i < n; i++) {
      free(qs[i]->corr); /* allocated by libmosquitto */
      vg_free(qs[i]);
    }
    metrics_add(VG_M_MQTT_JOBS, 1);
    pthread_mutex_lock(&m->mu);
    m->n_busy--;
    m->n_jobs++;
    if (!m->head && !m->n_busy)
      pthread_cond_broadcast(&m->idle);
    pthread_mutex_unlock(&m->mu);
  }
  for (size_t i = 0; i < CHUNK_MAX; i++)
    buf_free(&acks[i]);
  vg_free(acks);
  vg_free(w);
  return NULL;
}

int mqtt_start(struct vg_store *store, struct vg_writer *writer,
               const struct vg_mqtt_opts *opts, struct vg_mqtt **out)
{
  struct vg_mqtt *m;
  mosquitto_property *props = NULL;
  int rc, i;
  *out = NULL;
  m = vg_calloc(1, sizeof *m);
  if (mqtt_parse_url(opts->url, m->host, sizeof m->host, &m->port, m->user,
                     sizeof m->user, m->pass, sizeof m->pass)) {
    vg_error("mqtt.url", "url=\"%s\" error=\"expected mqtt://[user[:pass]@]"
             "host[:port]\"", opts->url);
    vg_free(m);
    return -VG_EINVAL;
  }
  m->opts = *opts;
  snprintf(m->client_id, sizeof m->client_id, "%s",
           opts->client_id && *opts->client_id ? opts->client_id : "vigil");
  snprintf(m->share, sizeof m->share, "%s", opts->share ? opts->share : "");
  m->opts.url = m->opts.client_id = m->opts.share = NULL;
  if (!m->opts.max_len)
    m->opts.max_len = 1u << 20;
  if (m->opts.workers <= 0)
    m->opts.workers = WORKERS_DEFAULT;
  m->store = store;
  m->writer = writer;
  pthread_mutex_init(&m->mu, NULL);
  pthread_cond_init(&m->nonempty, NULL);
  pthread_cond_init(&m->nonfull, NULL);
  pthread_cond_init(&m->idle, NULL);
  pthread_once(&lib_once, lib_init);
  /* clean_session false: the broker keeps our subscription and queues
   * QoS 1 messages while we are away */
  m->mosq = mosquitto_new(m->client_id, false, m);
  if (!m->mosq)
    goto fail;
  mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
  /* inflight window: QoS 1 messages not yet PUBACKed by us */
  mosquitto_int_option(m->mosq, MOSQ_OPT_RECEIVE_MAXIMUM, 1000);
  mosquitto_connect_v5_callback_set(m->mosq, on_connect);
  mosquitto_disconnect_v5_callback_set(m->mosq, on_disconnect);
  mosquitto_message_v5_callback_set(m->mosq, on_message);
  mosquitto_reconnect_delay_set(m->mosq, 1, 30, true);
  if (m->user[0])
    mosquitto_username_pw_set(m->mosq, m->user, m->pass[0] ? m->pass : NULL);
  m->workers = vg_calloc((size_t)m->opts.workers, sizeof *m->workers);
  for (i = 0; i < m->opts.workers; i++)
    if (pthread_create(&m->workers[i], NULL, worker_main, m))
      goto fail_workers;
  mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
                               86400);
  rc = mosquitto_connect_bind_v5(m->mosq, m->host, m->port, 30, NULL, props);
  mosquitto_property_free_all(&props);
  if (rc != MOSQ_ERR_SUCCESS)
    vg_warn("mqtt.connect", "host=%s port=%d error=\"%s\" (retrying)",
            m->host, m->port, mosquitto_strerror(rc));
  /* the loop thread reconnects with backoff, also after a failed start */
  rc = mosquitto_loop_start(m->mosq);
  if (rc != MOSQ_ERR_SUCCESS)
    goto fail_workers;
  vg_info("mqtt.started", "host=%s port=%d client_id=%s workers=%d",
          m->host, m->port, m->client_id, m->opts.workers);
  *out = m;
  return 0;
fail_workers:
  pthread_mutex_lock(&m->mu);
  m->stopping = 1;
  pthread_cond_broadcast(&m->nonempty);
  pthread_mutex_unlock(&m->mu);
  for (int k = 0; k < i; k++)
    pthread_join(m->workers[k], NULL);
  vg_free(m->workers);
fail:
  if (m->mosq)
    mosquitto_destroy(m->mosq);
  vg_free(m);
  return -VG_ENOMEM;
}

void mqtt_stats(struct vg_mqtt *m, struct vg_mqtt_stats *out)
{
  out->messages = m->n_msg;
  out->committed = m->n_ok;
  out->rejected = m->n_rej;
  out->connects = m->n_conn;
  out->connected = m->connected;
  pthread_mutex_lock(&m->mu);
  out->jobs = m->n_jobs;
  pthread_mutex_unlock(&m->mu);
}

void mqtt_stop(struct vg_mqtt *m)
{
  struct timespec ts;
  if (!m)
    return;
  /* 1. let queued messages commit and their acks go out (bounded) */
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += 2;
  pthread_mutex_lock(&m->mu);
  while ((m->head || m->n_busy) &&
         pthread_cond_timedwait(&m->idle, &m->mu, &ts) == 0)
    ;
  pthread_mutex_unlock(&m->mu);
  /* 2. no more messages; unacknowledged ones stay with the broker */
  mosquitto_disconnect_v5(m->mosq, 0, NULL);
  mosquitto_loop_stop(m->mosq, false);
  /* 3. commit what is left, join */
  pthread_mutex_lock(&m->mu);
  m->stopping = 1;
  pthread_cond_broadcast(&m->nonempty);
  pthread_cond_broadcast(&m->nonfull);
  pthread_mutex_unlock(&m->mu);
  for (int i = 0; i < m->opts.workers; i++)
    pthread_join(m->workers[i], NULL);
  vg_free(m->workers);
  mosquitto_destroy(m->mosq);
  pthread_cond_destroy(&m->nonempty);
  pthread_cond_destroy(&m->nonfull);
  pthread_cond_destroy(&m->idle);
  pthread_mutex_destroy(&m->mu);
  vg_info("mqtt.stopped", "messages=%llu committed=%llu rejected=%llu",
          (unsigned long long)m->n_msg, (unsigned long long)m->n_ok,
          (unsigned long long)m->n_rej);
  vg_free(m);
}

#else /* !HAVE_MOSQUITTO */

struct vg_mqtt {
  int unused;
};

int mqtt_start(struct vg_store *store, struct vg_writer *writer,
               const struct vg_mqtt_opts *opts, struct vg_mqtt **out)
{
  (void)store;
  (void)writer;
  (void)opts;
  *out = NULL;
  vg_error("mqtt.start", "error=\"built without libmosquitto\"");
  return -VG_EUNAVAIL;
}

void mqtt_stats(struct vg_mqtt *m, struct vg_mqtt_stats *out)
{
  (void)m;
  memset(out, 0, sizeof *out);
}

void mqtt_stop(struct vg_mqtt *m)
{
  (void)m;
}

#endif
