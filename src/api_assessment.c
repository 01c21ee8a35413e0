/* api_assessment.c - GET /api/v1/patients/{id}/assessment: the patient's
 * assessment computed now with the rules in force (the same function the
 * worker stores), with tier, level, reasons and versions. */
#include "api.h"
#include "care_assess.h"
#include "core_alloc.h"
#include "core_errors.h"
#include "core_time.h"

int api_assessment_get(struct vg_req *r)
{
  struct care_rules rules;
  struct care_result *res = vg_calloc(1, sizeof *res);
  struct care_load_buf *buf = NULL;
  struct care_scratch sc = {0};
  struct vg_txn *t;
  char rv[17];
  int64_t pid, now = vg_now_ms();
  int rc;
  if (api_parse_id(r->params[0], &pid)) {
    vg_free(res); /* nothing computed: no buffers yet */
    return vg_fail(r, VG_ENOTFOUND, "no patient '%s'", r->params[0]);
  }
  care_rules_current(&rules);
  care_rules_version(&rules, rv);
  rc = store_begin(r->app->store, VG_TXN_READ, &t);
  if (rc == 0) {
    rc = care_assess_load(t, &rules, pid, now, &buf, &sc, res);
    store_rollback(t);
  }
  if (rc == 0)
    rc = care_result_json(res, now, rv, &r->out) ? -VG_ENOMEM : 0;
  care_load_buf_free(buf);
  care_scratch_free(&sc);
  care_result_free(res);
  vg_free(res);
  if (rc == -VG_ENOTFOUND)
    return vg_fail(r, rc, "no patient %lld", (long long)pid);
  return rc ? vg_fail(r, rc, "assessment failed: %s", vg_strerror(rc)) : 0;
}
