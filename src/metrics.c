/* metrics.c - lock-free counters and fixed-bucket histograms. */
#include "metrics.h"

#include <stdatomic.h>

#include "core_buf.h"

static const struct {
  const char *name, *help, *label;
} counter_info[VG_M_COUNTER_MAX] = {
    [VG_M_REQUESTS_2XX] = {"vigil_http_requests_total", "HTTP requests by status class", "class=\"2xx\""},
    [VG_M_REQUESTS_4XX] = {"vigil_http_requests_total", NULL, "class=\"4xx\""},
    [VG_M_REQUESTS_5XX] = {"vigil_http_requests_total", NULL, "class=\"5xx\""},
    [VG_M_READINGS_ACCEPTED] = {"vigil_readings_total", "Readings by ingest outcome", "outcome=\"accepted\""},
    [VG_M_READINGS_DUPLICATE] = {"vigil_readings_total", NULL, "outcome=\"duplicate\""},
    [VG_M_READINGS_REJECTED] = {"vigil_readings_total", NULL, "outcome=\"rejected\""},
    [VG_M_INGEST_BATCHES] = {"vigil_ingest_batches_total", "Ingest requests committed", NULL},
    [VG_M_BODY_BYTES] = {"vigil_http_body_bytes_total", "Request body bytes received", NULL},
    [VG_M_MQTT_MESSAGES] = {"vigil_mqtt_messages_total", "MQTT messages by outcome", "outcome=\"committed\""},
    [VG_M_MQTT_REJECTED] = {"vigil_mqtt_messages_total", NULL, "outcome=\"rejected\""},
    [VG_M_MQTT_CONNECTS] = {"vigil_mqtt_connects_total", "MQTT broker (re)connections", NULL},
    [VG_M_HL7_AA] = {"vigil_hl7_messages_total", "HL7 v2 messages by ACK code", "ack=\"AA\""},
    [VG_M_HL7_AE] = {"vigil_hl7_messages_total", NULL, "ack=\"AE\""},
    [VG_M_HL7_AR] = {"vigil_hl7_messages_total", NULL, "ack=\"AR\""},
    [VG_M_MQTT_JOBS] = {"vigil_mqtt_commit_jobs_total", "MQTT chunks of messages committed in one writer job", NULL},
};

static const struct {
  const char *name, *help;
} hist_info[VG_H_MAX] = {
    [VG_H_REQUEST_SECONDS] = {"vigil_http_request_duration_seconds", "Time from request start to response"},
    [VG_H_COMMIT_WAIT_SECONDS] = {"vigil_ingest_commit_wait_seconds", "Time an ingest waits for its group commit"},
    [VG_H_MQTT_LAG_SECONDS] = {"vigil_mqtt_lag_seconds", "MQTT message received to committed"},
};

/* Upper bounds in seconds; the last bucket is +Inf. */
static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define N_BOUNDS (sizeof bounds / sizeof bounds[0])

static atomic_uint_fast64_t counters[VG_M_COUNTER_MAX];
static atomic_uint_fast64_t hist_buckets[VG_H_MAX][N_BOUNDS + 1];
static atomic_uint_fast64_t hist_sum_ns[VG_H_MAX];

void metrics_add(enum vg_counter c, uint64_t n) { atomic_fetch_add(&counters[c], n); }

void metrics_observe(enum vg_hist h, int64_t ns)
{
  double s = (double)ns / 1e9;
  size_t i = 0;
  while (i < N_BOUNDS && s > bounds[i])
    i++;
  atomic_fetch_add(&hist_buckets[h][i], 1);
  atomic_fetch_add(&hist_sum_ns[h], (uint64_t)(ns > 0 ? ns : 0));
}

void metrics_render(struct vg_buf *out)
{
  for (int c = 0; c < VG_M_COUNTER_MAX; c++) {
    uint64_t v = atomic_load(&counters[c]);
    if (counter_info[c].help)
      buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", counter_info[c].name,
                 counter_info[c].help, counter_info[c].name);
    if (counter_info[c].label)
      buf_printf(out, "%s{%s} %llu\n", counter_info[c].name,
                 counter_info[c].label, (unsigned long long)v);
    else
      buf_printf(out, "%s %llu\n", counter_info[c].name, (unsigned long long)v);
  }
  for (int h = 0; h < VG_H_MAX; h++) {
    uint64_t cum = 0;
    buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", hist_info[h].name,
               hist_info[h].help, hist_info[h].name);
    for (size_t i = 0; i <= N_BOUNDS; i++) {
      cum += atomic_load(&hist_buckets[h][i]);
      if (i < N_BOUNDS)
        buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", hist_info[h].name,
                   bounds[i], (unsigned long long)cum);
      else
        buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n", hist_info[h].name,
                   (unsigned long long)cum);
    }
    buf_printf(out, "%s_sum %.6f\n%s_count %llu\n", hist_info[h].name,
               (double)atomic_load(&hist_sum_ns[h]) / 1e9, hist_info[h].name,
               (unsigned long long)cum);
  }
}
