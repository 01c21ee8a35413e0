/* ingest_mqtt.c - MQTT gateway over libmosquitto (ingest_mqtt.h): the
 * network thread queues messages, a pool of workers runs them through the
 * ingest path (so many group commits are in flight at once) and publishes
 * the application-level ack after commit. */
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

int mqtt_handle(struct vg_store *store, struct vg_writer *writer,
                int64_t future_ms, const char *dev, const char *payload,
                size_t len, struct vg_buf *ack)
{
  struct vg_ingest_opts opts = {0};
  struct vg_ingest_result res;
  struct vg_device d;
  struct vg_txn *t = NULL;
  struct vg_arena *a = NULL;
  struct vg_bulk_parser *p = NULL;
  struct vg_ingest_batch *b;
  int rc;

  rc = store_begin(store, VG_TXN_READ, &t);
  if (rc)
    return fail_json(ack, rc, "store: %s", vg_strerror(rc));
  rc = store_device_by_serial(t, dev, &d);
  store_rollback(t);
  if (rc == -VG_ENOTFOUND)
    return fail_json(ack, -VG_EFORBIDDEN, "unknown device '%.64s'", dev);
  if (rc)
    return fail_json(ack, rc, "store: %s", vg_strerror(rc));
  if (d.patient_id <= 0)
    return fail_json(ack, -VG_EFORBIDDEN,
                     "device '%.64s' is not bound to a patient", dev);
  a = arena_new(0);
  opts.now_ms = vg_now_ms();
  opts.future_ms = future_ms;
  opts.default_source = d.serial;
  opts.only_patient = d.patient_id;
  b = a ? ingest_batch_new(a, &opts) : NULL;
  p = b ? bulk_parser_new(VG_BULK_JSON, 0, ingest_batch_item_cb, b) : NULL;
  if (!p) {
    rc = fail_json(ack, -VG_ENOMEM, "no memory");
    goto fail;
  }
  rc = bulk_parser_feed(p, payload, len);
  if (!rc)
    rc = bulk_parser_finish(p);
  if (rc) {
    const char *why = bulk_parser_error(p);
    rc = fail_json(ack, rc, "%s", why && *why ? why : vg_strerror(rc));
    goto fail;
  }
  rc = ingest_batch_commit(b, writer, 0, &res);
  if (rc) {
    rc = fail_json(ack, rc, "readings not stored: %s", vg_strerror(rc));
    goto fail;
  }
  metrics_add(VG_M_INGEST_BATCHES, 1);
  metrics_add(VG_M_READINGS_ACCEPTED, res.accepted);
  metrics_add(VG_M_READINGS_DUPLICATE, res.duplicate);
  metrics_add(VG_M_READINGS_REJECTED, res.n_rejected);
  rc = ingest_result_json(&res, ack);
fail:
  bulk_parser_free(p);
  arena_free(a);
  return rc;
}

/* ==== gateway =========================================================== */

#ifdef HAVE_MOSQUITTO

#define QUEUE_MAX 65536 /* messages waiting for a worker; the network
                           thread blocks beyond (TCP back-pressure) */
#define TOPIC_IN "vigil/in/+/readings"

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

static void work_one(struct vg_mqtt *m, struct qmsg *q, struct vg_buf *ack)
{
  char topic[VG_ID_MAX + 32];
  mosquitto_property *props = NULL;
  int rc;
  buf_reset(ack);
  if (q->len > m->opts.max_len)
    rc = fail_json(ack, -VG_ETOOBIG, "payload of %zu bytes exceeds %zu",
                   q->len, m->opts.max_len);
  else
    rc = mqtt_handle(m->store, m->writer, m->opts.future_ms, q->dev,
                     q->payload, q->len, ack);
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

static void *worker_main(void *arg)
{
  struct vg_mqtt *m = arg;
  struct vg_buf ack;
  buf_init(&ack, 16u << 20);
  for (;;) {
    struct qmsg *q;
    pthread_mutex_lock(&m->mu);
    while (!m->head && !m->stopping)
      pthread_cond_wait(&m->nonempty, &m->mu);
    q = m->head;
    if (!q) {
      pthread_mutex_unlock(&m->mu);
      break;
    }
    m->head = q->next;
    if (!m->head)
      m->tail = NULL;
    m->n_queued--;
    m->n_busy++;
    pthread_cond_signal(&m->nonfull);
    pthread_mutex_unlock(&m->mu);
    work_one(m, q, &ack);
    free(q->corr); /* allocated by libmosquitto */
    vg_free(q);
    pthread_mutex_lock(&m->mu);
    m->n_busy--;
    if (!m->head && !m->n_busy)
      pthread_cond_broadcast(&m->idle);
    pthread_mutex_unlock(&m->mu);
  }
  buf_free(&ack);
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
    m->opts.workers = 64;
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
