/* test_care_assess.c - care_assess_compute on synthetic patients: the
 * metrics and reasons texts are always complete, valid JSON (growable
 * buffers, escaped), whatever the number of programmes and alerts, and a
 * result reused for another patient holds only the new patient's text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "care_assess.h"
#include "core_errors.h"

#define N 240
#define NOW_MS 1767225600000LL /* 2026-01-01T00:00:00Z */

static int64_t ts[N];
static double sbp[N], dbp[N], glu[N], spo2[N], hr[N], egfr[4];
static int64_t egfr_ts[4];

static void fill(void)
{
  /* One reading a minute over the last 4 hours: BP in crisis, glucose low,
   * SpO2 and heart rate out of range for the whole span. */
  for (int i = 0; i < N; i++) {
    ts[i] = NOW_MS - (N - i) * 60000LL;
    sbp[i] = 185 + i % 10;
    dbp[i] = 112 + i % 5;
    glu[i] = 45 + i % 5;
    spo2[i] = 84;
    hr[i] = 118;
  }
  /* eGFR falling by half over a year. */
  for (int i = 0; i < 4; i++) {
    egfr_ts[i] = NOW_MS - (4 - i) * 90LL * 86400000LL;
    egfr[i] = 70 - 12 * i;
  }
}

static json_t *parse(const struct vg_buf *b, json_type want)
{
  json_error_t e;
  json_t *j = json_loadb(b->data, b->len, 0, &e);
  if (!j)
    printf("  invalid JSON (%s): %s\n", e.text, b->data);
  assert_non_null(j);
  assert_int_equal(json_typeof(j), want);
  return j;
}

static void every_text_is_valid_json(void **state)
{
  struct care_rules r;
  struct care_input in;
  struct care_scratch sc = {0};
  struct care_result res;
  json_t *j;
  size_t total = 0;
  (void)state;
  fill();
  care_rules_default(&r);
  memset(&in, 0, sizeof in);
  memset(&res, 0, sizeof res);
  in.patient_id = 1;
  in.sex = 'M';
  in.age_y = 67;
  in.programmes = (1u << CARE_PROG_N) - 1; /* all six */
  in.sbp = (struct care_series){ts, sbp, N};
  in.dbp = (struct care_series){ts, dbp, N};
  in.glucose = (struct care_series){ts, glu, N};
  in.spo2 = (struct care_series){ts, spo2, N};
  in.hr = (struct care_series){ts, hr, N};
  in.egfr = (struct care_series){egfr_ts, egfr, 4};
  in.streak[CARE_PROG_HTN] = 3;
  in.visit_danger = 1;
  assert_int_equal(care_assess_compute(&r, &in, NOW_MS, &sc, &res), 0);
  printf("  programmes %d, alert hits %d\n", res.n_prog, res.n_hits);
  assert_int_equal(res.n_prog, CARE_PROG_N);
  assert_true(res.n_hits >= 4);
  for (int i = -1; i < res.n_prog; i++) {
    const struct care_prog_result *p = i < 0 ? &res.overall : &res.prog[i];
    j = parse(&p->metrics, JSON_OBJECT);
    json_decref(j);
    j = parse(&p->reasons, JSON_ARRAY);
    assert_true(json_array_size(j) >= 1);
    json_decref(j);
    total += p->reasons.len;
    printf("  %-12s reasons %zu bytes, metrics %zu bytes\n",
           i < 0 ? "overall" : care_prog_code(p->prog), p->reasons.len,
           p->metrics.len);
  }
  /* The overall tier of this patient is urgent, for the danger signs. */
  assert_int_equal(res.overall.tier, CARE_TIER_URGENT);
  printf("  reasons total %zu bytes\n", total);

  /* Reuse for a patient with nothing: the old text is gone. */
  memset(&in, 0, sizeof in);
  in.patient_id = 2;
  assert_int_equal(care_assess_compute(&r, &in, NOW_MS, &sc, &res), 0);
  assert_int_equal(res.n_prog, 0);
  assert_int_equal(res.n_hits, 0);
  j = parse(&res.overall.reasons, JSON_ARRAY);
  assert_int_equal(json_array_size(j), 1);
  printf("  empty patient: %s\n", res.overall.reasons.data);
  json_decref(j);
  assert_null(strstr(res.overall.reasons.data, "alert"));
  care_result_free(&res);
  care_scratch_free(&sc);
}

/* Section 9, diabetes programme: SBP >= 180 and/or DBP >= 110 is a danger
 * sign too, so a patient enrolled for diabetes only, with good glucose,
 * is urgent during a BP crisis (as the bp_crisis alert says). */
static void diabetes_only_patient_with_bp_crisis_is_urgent(void **state)
{
  struct care_rules r;
  struct care_input in;
  struct care_scratch sc = {0};
  struct care_result res;
  static double fpg[N];
  (void)state;
  fill();
  for (int i = 0; i < N; i++)
    fpg[i] = 110; /* 6.1 mmol/L: controlled */
  care_rules_default(&r);
  memset(&in, 0, sizeof in);
  memset(&res, 0, sizeof res);
  in.patient_id = 3;
  in.programmes = 1u << CARE_PROG_T2D;
  in.fpg = (struct care_series){ts, fpg, N};
  in.sbp = (struct care_series){ts, sbp, N};
  in.dbp = (struct care_series){ts, dbp, N};
  assert_int_equal(care_assess_compute(&r, &in, NOW_MS, &sc, &res), 0);
  assert_int_equal(res.n_prog, 1);
  printf("  t2d only, BP %.0f/%.0f: tier %d, reasons %s\n", sbp[N - 1],
         dbp[N - 1], res.overall.tier, res.prog[0].reasons.data);
  assert_int_equal(res.overall.tier, CARE_TIER_URGENT);
  assert_non_null(strstr(res.prog[0].reasons.data, "180/110"));
  /* and with BP under the danger line it is not urgent */
  for (int i = 0; i < N; i++) {
    sbp[i] = 132;
    dbp[i] = 82;
  }
  assert_int_equal(care_assess_compute(&r, &in, NOW_MS, &sc, &res), 0);
  assert_int_not_equal(res.overall.tier, CARE_TIER_URGENT);
  care_result_free(&res);
  care_scratch_free(&sc);
}

static void result_json_is_valid(void **state)
{
  struct care_rules r;
  struct care_input in;
  struct care_scratch sc = {0};
  struct care_result res;
  struct vg_buf out = VG_BUF_INIT;
  json_t *j;
  (void)state;
  fill();
  care_rules_default(&r);
  memset(&in, 0, sizeof in);
  memset(&res, 0, sizeof res);
  in.sbp = (struct care_series){ts, sbp, N};
  in.dbp = (struct care_series){ts, dbp, N};
  in.glucose = (struct care_series){ts, glu, N};
  assert_int_equal(care_assess_compute(&r, &in, NOW_MS, &sc, &res), 0);
  assert_int_equal(care_result_json(&res, NOW_MS, "0123456789abcdef", &out),
                   0);
  j = parse(&out, JSON_OBJECT);
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(j, "overall"),
                                        "tier")),
      "urgent");
  assert_true(json_array_size(json_object_get(j, "alerts")) >= 2);
  printf("  assessment JSON %zu bytes\n", out.len);
  json_decref(j);
  buf_free(&out);
  care_result_free(&res);
  care_scratch_free(&sc);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_text_is_valid_json),
      cmocka_unit_test(diabetes_only_patient_with_bp_crisis_is_urgent),
      cmocka_unit_test(result_json_is_valid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
