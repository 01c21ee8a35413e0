/* test_care_rules.c - the follow-up decision table, case by case against
 * section 9 of docs/clinical-reference.md (国家基本公共卫生服务规范, 3rd ed.,
 * 2017: hypertension and type 2 diabetes follow-up), the shipped rules
 * file, the override parser and the rules fingerprint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "care_rules.h"
#include "core_errors.h"

static struct care_followup_out decide(int danger, int controlled, int adr,
                                       int compl, int streak)
{
  struct care_rules r;
  struct care_followup_in in = {danger, controlled, adr, compl, streak};
  struct care_followup_out out;
  care_rules_default(&r);
  care_followup_decide(&r, &in, &out);
  printf("  danger=%d controlled=%d adr=%d compl=%d streak=%d -> %s %s "
         "%lld d (%s)\n", danger, controlled, adr, compl, streak,
         care_action_name(out.action), care_tier_name(out.tier),
         (long long)out.next_days, out.rule);
  return out;
}

/* "Controlled (BP < 140/90, no adverse drug reaction, no new
 * complication): next follow-up in 3 months." */
static void controlled_next_in_3_months(void **state)
{
  struct care_followup_out o = decide(0, 1, 0, 0, 0);
  (void)state;
  assert_int_equal(o.action, CARE_ACT_ROUTINE);
  assert_int_equal(o.tier, CARE_TIER_STABLE);
  assert_int_equal(o.next_days, 90);
}

/* "First uncontrolled (SBP >= 140 and/or DBP >= 90) or an adverse drug
 * reaction: adjust treatment and follow up within 2 weeks." */
static void first_uncontrolled_two_weeks(void **state)
{
  struct care_followup_out o = decide(0, 0, 0, 0, 1);
  (void)state;
  assert_int_equal(o.action, CARE_ACT_ADJUST);
  assert_int_equal(o.tier, CARE_TIER_ATTENTION);
  assert_int_equal(o.next_days, 14);
  /* an adverse reaction while controlled takes the same row */
  o = decide(0, 1, 1, 0, 0);
  assert_int_equal(o.action, CARE_ACT_ADJUST);
  assert_int_equal(o.next_days, 14);
}

/* "Uncontrolled at 2 consecutive follow-ups despite adjusted treatment,
 * or a new or worsening complication: refer and follow up within 2
 * weeks." */
static void uncontrolled_twice_refer(void **state)
{
  struct care_followup_out o = decide(0, 0, 0, 0, 2);
  (void)state;
  assert_int_equal(o.action, CARE_ACT_REFER);
  assert_int_equal(o.next_days, 14);
  assert_string_equal(o.rule, "uncontrolled_twice");
  o = decide(0, 0, 0, 0, 5); /* still uncontrolled later: still refer */
  assert_int_equal(o.action, CARE_ACT_REFER);
  o = decide(0, 1, 0, 1, 0); /* new complication even when controlled */
  assert_int_equal(o.action, CARE_ACT_REFER);
  /* controlled again resets: the streak of the past does not refer */
  o = decide(0, 1, 0, 0, 0);
  assert_int_equal(o.action, CARE_ACT_ROUTINE);
}

/* "Emergency referral at any follow-up if any of these holds: SBP >= 180
 * and/or DBP >= 110, ... resting HR > 100/min ...; contact within 2
 * weeks." Danger wins over every other row. */
static void danger_signs_urgent_referral(void **state)
{
  struct care_followup_out o;
  (void)state;
  for (int c = -1; c <= 1; c++)
    for (int s = 0; s <= 3; s++) {
      o = decide(1, c, s & 1, 0, s);
      assert_int_equal(o.action, CARE_ACT_URGENT_REFER);
      assert_int_equal(o.tier, CARE_TIER_URGENT);
      assert_int_equal(o.next_days, 14);
    }
}

/* No reading, no visit: no verdict, routine interval (never "controlled"
 * by default). */
static void no_data_routine(void **state)
{
  struct care_followup_out o = decide(0, -1, 0, 0, 0);
  (void)state;
  assert_int_equal(o.action, CARE_ACT_NONE);
  assert_int_equal(o.next_days, 90);
}

/* The thresholds the decision inputs are computed with (section 9). */
static void default_thresholds(void **state)
{
  struct care_rules r;
  (void)state;
  care_rules_default(&r);
  assert_true(r.bp_ctrl_sbp == 140 && r.bp_ctrl_dbp == 90);
  assert_true(r.bp_danger_sbp == 180 && r.bp_danger_dbp == 110);
  /* FPG 7.0 / 16.7 / 3.9 mmol/L in mg/dL (x 18.016), within 0.1 mg/dL */
  assert_true(r.fpg_ctrl_mgdl > 126.0 && r.fpg_ctrl_mgdl < 126.2);
  assert_true(r.fpg_danger_high_mgdl > 300.8 &&
              r.fpg_danger_high_mgdl < 301.0);
  assert_true(r.fpg_danger_low_mgdl > 70.2 && r.fpg_danger_low_mgdl < 70.4);
  assert_true(r.hr_high_bpm == 100);
  assert_int_equal(r.fu_refer_after, 2);
}

/* Overrides: a province with a 60-day routine interval refers after 3. */
static void override_file(void **state)
{
  struct care_rules r;
  struct care_followup_in in = {0, 0, 0, 0, 2};
  struct care_followup_out out;
  char err[128] = "", v1[17], v2[17];
  const char *txt = "# province X\n fu_controlled_days = 60 \n"
                    "fu_refer_after=3 # third time\n\n";
  (void)state;
  care_rules_default(&r);
  care_rules_version(&r, v1);
  assert_int_equal(care_rules_parse(&r, txt, strlen(txt), err, sizeof err), 0);
  care_rules_version(&r, v2);
  assert_string_not_equal(v1, v2);
  care_followup_decide(&r, &in, &out);
  assert_int_equal(out.action, CARE_ACT_ADJUST);
  in.controlled = 1;
  in.uncontrolled_streak = 0;
  care_followup_decide(&r, &in, &out);
  assert_int_equal(out.next_days, 60);
  assert_int_equal(care_rules_parse(&r, "nope = 1\n", 9, err, sizeof err),
                   -VG_EINVAL);
  assert_non_null(strstr(err, "line 1"));
  assert_int_equal(care_rules_parse(&r, "fu_refer_after = 2.5\n", 21, err,
                                    sizeof err), -VG_EINVAL);
  assert_int_equal(care_rules_parse(&r, "bp_ctrl_sbp\n", 12, err, sizeof err),
                   -VG_EINVAL);
}

/* etc/care_rules.conf ships the defaults: loading it changes nothing. */
static void shipped_file_is_the_defaults(void **state)
{
  struct care_rules a, b;
  char err[256] = "", va[17], vb[17];
  (void)state;
  care_rules_default(&a);
  assert_int_equal(care_rules_load(&b, VG_SOURCE_DIR "/etc/care_rules.conf",
                                   err, sizeof err), 0);
  care_rules_version(&a, va);
  care_rules_version(&b, vb);
  assert_string_equal(va, vb);
  assert_int_equal(care_rules_escalation_ms(&b, "critical"), 900000);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(controlled_next_in_3_months),
      cmocka_unit_test(first_uncontrolled_two_weeks),
      cmocka_unit_test(uncontrolled_twice_refer),
      cmocka_unit_test(danger_signs_urgent_referral),
      cmocka_unit_test(no_data_routine),
      cmocka_unit_test(default_thresholds),
      cmocka_unit_test(override_file),
      cmocka_unit_test(shipped_file_is_the_defaults),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
