/* care_tasks.c - task generation: one open task of a kind per patient,
 * created by the assessment (follow-up visits, referral follow-up),
 * pulled forward when a tier asks for an earlier contact. */
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

int care_tasks_upsert(struct vg_txn *t, int64_t pid, const char *kind,
                      int64_t due_ms, int tier_rank, const char *reason,
                      const char *source, int64_t now_ms)
{
  /* Nurses make the calls, home visits and device set-ups; GPs the
   * rest. Without that role in the team, the GP, then anyone (lead
   * first). */
  int nurse_kind = !strcmp(kind, "phone_call") ||
                   !strcmp(kind, "home_visit") || !strcmp(kind, "device_setup");
  struct vg_val p[8] = {VG_INT(pid),       VG_TEXT(kind),  VG_INT(due_ms),
                        VG_INT(tier_rank), VG_TEXT(reason), VG_TEXT(source),
                        VG_INT(now_ms), VG_TEXT(nurse_kind ? "nurse" : "gp")};
  int64_t id = 0, changes = 0;
  char data[96];
  int rc;
  /* Assignee: a member of the patient's contracted team (above). */
  rc = store_sql(
      t,
      "INSERT INTO care_task (patient_id, kind, state, due_ms, tier_rank, "
      "reason, source, created_ms, team_id, assignee_id) VALUES ($1, $2, "
      "'open', $3, $4, $5, $6, $7, COALESCE((SELECT c.team_id FROM contract "
      "c LEFT JOIN household_member m ON m.household_id = c.household_id "
      "WHERE c.status = 'active' AND (c.patient_id = $1 OR m.patient_id = "
      "$1) ORDER BY c.id LIMIT 1), 0), COALESCE((SELECT tm.user_id FROM "
      "contract c LEFT JOIN household_member m ON m.household_id = "
      "c.household_id JOIN care_team_member tm ON tm.team_id = c.team_id "
      "WHERE c.status = 'active' AND (c.patient_id = $1 OR m.patient_id = "
      "$1) ORDER BY CASE WHEN tm.role = $8 THEN 0 WHEN tm.role = 'gp' THEN "
      "1 ELSE 2 END, tm.lead DESC, tm.user_id LIMIT 1), 0)) "
      "ON CONFLICT (patient_id, kind) WHERE state IN ('open', "
      "'in_progress') DO UPDATE SET due_ms = excluded.due_ms, tier_rank = "
      "excluded.tier_rank, reason = excluded.reason, version = "
      "care_task.version + 1 WHERE excluded.due_ms < care_task.due_ms OR "
      "excluded.tier_rank <> care_task.tier_rank RETURNING id",
      p, 8, id_out, &id, &changes);
  if (rc < 0 || id == 0)
    return rc < 0 ? rc : 0;
  snprintf(data, sizeof data, "{\"kind\":\"%s\",\"tier_rank\":%d}", kind,
           tier_rank);
  return care_events_raise(t, "task", pid, id, data, now_ms);
}
