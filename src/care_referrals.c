/* care_referrals.c - suggested referrals from the rules (one pending per
 * patient, confirmed or dismissed by a doctor) and the referral state
 * machine table shared with api_referrals.c. */
#include <stdio.h>
#include <string.h>

#include "care_assess.h"
#include "core_errors.h"

static int id_out(void *ctx, const struct vg_val *c, size_t n)
{
  if (n && c[0].type == VG_VAL_INT)
    *(int64_t *)ctx = c[0].i;
  return 0;
}

int care_referrals_suggest(struct vg_txn *t, int64_t pid, const char *urgency,
                           const char *reason, const char *snapshot,
                           int64_t window_from_ms, int64_t now_ms)
{
  struct vg_val p[6] = {VG_INT(pid),   VG_TEXT(urgency),
                        VG_TEXT(reason), VG_TEXT(snapshot),
                        VG_INT(window_from_ms), VG_INT(now_ms)};
  int64_t id = 0;
  int rc;
  /* Not while one is suggested or in flight for this patient. */
  rc = store_sql(t,
                 "INSERT INTO care_referral (patient_id, direction, urgency, "
                 "reason, state, snapshot, window_from_ms, window_to_ms, "
                 "created_by, created_ms, updated_ms) SELECT $1, 'up', $2, "
                 "$3, 'suggested', $4, $5, $6, 'rules', $6, $6 WHERE NOT "
                 "EXISTS (SELECT 1 FROM care_referral WHERE patient_id = $1 "
                 "AND state IN ('suggested', 'requested', 'accepted')) "
                 "RETURNING id",
                 p, 6, id_out, &id, NULL);
  if (rc < 0 || id == 0)
    return rc < 0 ? rc : 0;
  return care_events_raise(t, "referral", pid, id,
                           "{\"state\":\"suggested\"}", now_ms);
}
