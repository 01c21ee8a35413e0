/* api_health.c - liveness, readiness and Prometheus metrics. */
#include "api.h"
#include "core_errors.h"
#include "metrics.h"
#include "store.h"
#include "store_writer.h"

int api_health_live(struct vg_req *r)
{
  buf_puts(&r->out, "{\"status\":\"ok\"}");
  return 0;
}

/* Ready when the store answers a read transaction. */
int api_health_ready(struct vg_req *r)
{
  struct vg_txn *t;
  int rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc)
    return vg_fail(r, VG_EUNAVAIL, "store not ready");
  store_rollback(t);
  buf_printf(&r->out, "{\"status\":\"ready\",\"store\":\"%s\"}",
             store_backend_name(r->app->store));
  return 0;
}

int api_metrics(struct vg_req *r)
{
  struct vg_writer_stats ws;
  metrics_render(&r->out);
  writer_stats(r->app->writer, &ws);
  buf_printf(&r->out,
             "# HELP vigil_writer_groups_total Group commits\n"
             "# TYPE vigil_writer_groups_total counter\n"
             "vigil_writer_groups_total %llu\n"
             "# HELP vigil_writer_failed_groups_total Group commits that failed\n"
             "# TYPE vigil_writer_failed_groups_total counter\n"
             "vigil_writer_failed_groups_total %llu\n"
             "# HELP vigil_writer_rows_total Rows written by the writer\n"
             "# TYPE vigil_writer_rows_total counter\n"
             "vigil_writer_rows_total %llu\n"
             "# HELP vigil_writer_queued_rows Rows waiting for commit\n"
             "# TYPE vigil_writer_queued_rows gauge\n"
             "vigil_writer_queued_rows %zu\n",
             (unsigned long long)ws.groups, (unsigned long long)ws.failed_groups,
             (unsigned long long)ws.rows, ws.queued_rows);
  r->content_type = "text/plain; version=0.0.4; charset=utf-8";
  return 0;
}
