/* ingest_mqtt.h - MQTT gateway (libmosquitto client): subscribes QoS 1 to
 * vigil/in/<device>/readings, runs each payload through the ingest path
 * for the device's bound patient, and after commit publishes the HTTP
 * reply JSON to vigil/out/<device>/ack. */
#ifndef VG_INGEST_MQTT_H
#define VG_INGEST_MQTT_H

#include <stddef.h>
#include <stdint.h>

struct vg_buf;
struct vg_store;
struct vg_writer;

struct vg_mqtt_opts {
  const char *url;       /* mqtt://[user[:pass]@]host[:port] */
  const char *client_id; /* keys the persistent session ("vigil") */
  const char *share;     /* "" or a shared-subscription group name */
  size_t max_len;        /* largest payload (default 1 MiB) */
  int workers;           /* ingest threads (default 4); each takes every
                            queued message (up to 512) and commits them in
                            one writer job, each keeping its own ack */
  int64_t future_ms;     /* as vg_ingest_opts.future_ms */
};

struct vg_mqtt;

/* Parse an mqtt:// URL. OUT: host (NUL-terminated), *out_port (1883 by
 * default), user/pass ("" when absent). Returns 0 or -VG_EINVAL. */
int mqtt_parse_url(const char *url, char *host, size_t host_len,
                   int *out_port, char *user, size_t user_len, char *pass,
                   size_t pass_len);

/* Connect (MQTT 5, clean start off, session expiry 1 day, reconnect with
 * exponential backoff 1..30 s) and serve in background threads. The
 * broker may be down at start: the client keeps retrying. store and
 * writer are borrowed and must outlive mqtt_stop(). Returns 0, -VG_EINVAL
 * (bad URL) or -VG_ENOMEM. */
int mqtt_start(struct vg_store *store, struct vg_writer *writer,
               const struct vg_mqtt_opts *opts, struct vg_mqtt **out);

struct vg_mqtt_stats {
  uint64_t messages, committed, rejected, connects;
  uint64_t jobs;  /* writer jobs (chunks of messages) */
  int connected;
};
void mqtt_stats(struct vg_mqtt *m, struct vg_mqtt_stats *out);

/* Process what was received (up to 2 s, publishing acks), disconnect,
 * commit anything left (its ack is lost: the device's retry then gets a
 * "duplicate" ack), join the threads and free m. NULL is a no-op. Call
 * before writer_stop(). */
void mqtt_stop(struct vg_mqtt *m);

/* Handle one payload for device serial dev (the topic's middle level):
 * device lookup, bound-patient check, bulk parse, ingest, commit. OUT: the
 * ack JSON appended to ack. Returns 0 when committed (ack holds the ingest
 * result), or the -VG_E* that made the whole message fail (ack holds
 * {"error":{"code","message"}}). Exposed for tests and the benchmark. */
int mqtt_handle(struct vg_store *store, struct vg_writer *writer,
                int64_t future_ms, const char *dev, const char *payload,
                size_t len, struct vg_buf *ack);

#endif
