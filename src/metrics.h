/* metrics.h - process-wide counters and latency histograms, rendered in
 * Prometheus text format for GET /metrics. All functions thread-safe. */
#ifndef VG_METRICS_H
#define VG_METRICS_H

#include <stdint.h>

struct vg_buf;

enum vg_counter {
  VG_M_REQUESTS_2XX, VG_M_REQUESTS_4XX, VG_M_REQUESTS_5XX,
  VG_M_READINGS_ACCEPTED, VG_M_READINGS_DUPLICATE, VG_M_READINGS_REJECTED,
  VG_M_INGEST_BATCHES, VG_M_BODY_BYTES,
  VG_M_MQTT_MESSAGES, VG_M_MQTT_REJECTED, VG_M_MQTT_CONNECTS,
  VG_M_HL7_AA, VG_M_HL7_AE, VG_M_HL7_AR,
  VG_M_MQTT_JOBS, /* writer jobs the MQTT workers ran (one per chunk) */
  VG_M_COUNTER_MAX
};

/* Histogram families. */
enum vg_hist {
  VG_H_REQUEST_SECONDS, VG_H_COMMIT_WAIT_SECONDS,
  VG_H_MQTT_LAG_SECONDS, /* MQTT message received -> committed */
  VG_H_MAX
};

void metrics_add(enum vg_counter c, uint64_t n);
/* Record one observation of ns nanoseconds. */
void metrics_observe(enum vg_hist h, int64_t ns);
/* Append the Prometheus exposition of every counter and histogram. */
void metrics_render(struct vg_buf *out);

#endif
