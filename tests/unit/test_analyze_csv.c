/* test_analyze_csv.c - the analysis input reader: header, comments, CRLF,
 * every error path names the right line and column, order, range, caps,
 * and the JSON form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "analyze_csv.h"
#include "core_alloc.h"
#include "core_errors.h"
#include "core_time.h"

static const struct analyze_csv_spec tv = {
    1, ANALYZE_TIME_REQUIRED, ANALYZE_ORDER_INCREASING, 0, 1000, 0,
    {"glucose_mgdl"}, {"values"}};
static const struct analyze_csv_spec rr = {
    1, ANALYZE_TIME_NONE, ANALYZE_ORDER_ANY, 1, 60000, 0, {"rr_ms"},
    {"values"}};
static const struct analyze_csv_spec bp = {
    2, ANALYZE_TIME_REQUIRED, ANALYZE_ORDER_NONDECREASING, 0, 500, 0,
    {"sbp", "dbp"}, {NULL, NULL}};
static const struct analyze_csv_spec opt = {
    1, ANALYZE_TIME_OPTIONAL, ANALYZE_ORDER_INCREASING, 0, 100, 0,
    {"spo2_pct"}, {"values"}};

/* Parses S as CSV under SPEC; returns rc, the message in ERR. */
static int csv(const struct analyze_csv_spec *spec, const char *s,
               struct analyze_input *in, char *err)
{
  int rc = analyze_csv_parse(s, strlen(s), spec, in, err, 256);
  if (rc)
    printf("  rc %d: %s\n", rc, err);
  return rc;
}

/* Expects S to fail with RC and a message containing WANT. */
static void expect_err(const struct analyze_csv_spec *spec, const char *s,
                       int rc, const char *want)
{
  struct analyze_input in;
  char err[256];
  size_t before = vg_alloc_used();
  assert_int_equal(csv(spec, s, &in, err), rc);
  if (!strstr(err, want))
    fail_msg("message '%s' lacks '%s'", err, want);
  analyze_input_free(&in);
  assert_int_equal(vg_alloc_used(), before);
}

static void test_header_comments_crlf(void **state)
{
  struct analyze_input in;
  char err[256];
  const char *s = "# exported by a meter\r\n"
                  "time,value\r\n"
                  "\r\n"
                  "2025-01-01T00:00:00+08:00, 100\r\n"
                  "  # a comment inside\r\n"
                  "1735660860000,110.5\r\n"
                  "2025-01-01T00:02:00+08:00,\t120"; /* no final newline */
  (void)state;
  assert_int_equal(csv(&tv, s, &in, err), 0);
  assert_int_equal(in.n, 3);
  assert_true(in.has_time);
  assert_int_equal(in.tz_offset_min, 480);
  assert_int_equal(in.t_ms[0], 1735660800000LL);
  assert_int_equal(in.t_ms[1], 1735660860000LL);
  assert_int_equal(in.t_ms[2], 1735660920000LL);
  assert_true(in.v[0][1] == 110.5);
  assert_int_equal(in.line[0], 4);
  assert_int_equal(in.line[1], 6);
  assert_int_equal(in.line[2], 7);
  analyze_input_free(&in);
}

static void test_values_only(void **state)
{
  struct analyze_input in;
  char err[256];
  (void)state;
  assert_int_equal(csv(&rr, "800\n812.5\n\n790\n", &in, err), 0);
  assert_int_equal(in.n, 3);
  assert_false(in.has_time);
  assert_null(in.t_ms);
  assert_true(in.v[0][2] == 790);
  analyze_input_free(&in);
  assert_int_equal(csv(&rr, "rr_ms\n1e3\n+5.\n.5e1\n", &in, err), 0);
  assert_int_equal(in.n, 3);
  assert_true(in.v[0][0] == 1000 && in.v[0][1] == 5 && in.v[0][2] == 5);
  analyze_input_free(&in);
  /* empty input and header-only input are zero rows, not errors */
  assert_int_equal(csv(&rr, "", &in, err), 0);
  assert_int_equal(in.n, 0);
  analyze_input_free(&in);
  assert_int_equal(csv(&rr, "# nothing\nrr_ms\n", &in, err), 0);
  assert_int_equal(in.n, 0);
  analyze_input_free(&in);
}

static void test_optional_time(void **state)
{
  struct analyze_input in;
  char err[256];
  (void)state;
  assert_int_equal(csv(&opt, "97\n96\n", &in, err), 0);
  assert_false(in.has_time);
  analyze_input_free(&in);
  assert_int_equal(csv(&opt, "t,spo2\n0,97\n1000,96\n", &in, err), 0);
  assert_true(in.has_time);
  assert_int_equal(in.n, 2);
  analyze_input_free(&in);
  expect_err(&opt, "0,97\n96\n", -VG_EINVAL, "line 2: 1 column; expected 2");
}

static void test_three_columns(void **state)
{
  struct analyze_input in;
  char err[256];
  (void)state;
  assert_int_equal(csv(&bp, "time,sbp,dbp\n"
                            "2025-01-01T07:00:00Z,130,85\n"
                            "2025-01-01T07:00:00Z,128,84\n", &in, err), 0);
  assert_int_equal(in.n, 2);
  assert_true(in.v[0][1] == 128 && in.v[1][1] == 84);
  analyze_input_free(&in);
  expect_err(&bp, "time,sbp,dbp\n2025-01-01T07:00:00Z,130\n", -VG_EINVAL,
             "line 2: 2 columns; expected 3");
  expect_err(&bp, "time,sbp\n", -VG_EINVAL,
             "line 1: header has 2 columns; expected 3");
  expect_err(&bp, "time,sbp,dbp\n0,130,85\n1000,130,abc\n", -VG_EINVAL,
             "line 3, column 3: 'abc' is not a number");
}

static void test_errors_name_line_and_column(void **state)
{
  (void)state;
  expect_err(&tv, "time,value\n0,100\n60000,1O0\n", -VG_EINVAL,
             "line 3, column 2: '1O0' is not a number");
  expect_err(&tv, "# c\n\n0,100\n2025-01-01 00:00:00,100\n", -VG_EINVAL,
             "line 4, column 1: '2025-01-01 00:00:00' is not an RFC 3339");
  expect_err(&tv, "0,100\n2025-01-01T00:00:00,100\n", -VG_EINVAL,
             "line 2, column 1"); /* no offset */
  expect_err(&tv, "0,100\n60000,\n", -VG_EINVAL,
             "line 2, column 2: empty glucose_mgdl");
  expect_err(&tv, "0,100\n60000,nan\n", -VG_EINVAL,
             "line 2, column 2: 'nan' is not a number");
  expect_err(&tv, "0,inf\n", -VG_EINVAL, "line 1, column 2");
  expect_err(&tv, "0,0x10\n", -VG_EINVAL, "line 1, column 2");
  expect_err(&tv, "0,1e999\n", -VG_EINVAL,
             "line 1, column 2: glucose_mgdl is not finite");
  expect_err(&tv, "0,100\n1,1001\n", -VG_EINVAL,
             "line 2, column 2: glucose_mgdl 1001 is out of range [0, 1000]");
  expect_err(&tv, "0,-1\n", -VG_EINVAL, "out of range");
  expect_err(&rr, "800\n800,1\n", -VG_EINVAL, "line 2: 2 columns; expected 1");
  expect_err(&rr, "800\n0.5\n", -VG_EINVAL, "line 2, column 1: rr_ms 0.5");
  expect_err(&tv, "9007199254740993,100\n", -VG_EINVAL,
             "line 1, column 1: time '9007199254740993' is out of range");
  {
    static const char nul[] = "800\n8\0001\n";
    struct analyze_input in;
    char err[256];
    assert_int_equal(analyze_csv_parse(nul, sizeof nul - 1, &rr, &in, err,
                                       sizeof err), -VG_EINVAL);
    assert_non_null(strstr(err, "line 2: control character"));
    analyze_input_free(&in);
  }
  expect_err(&rr, "800\n8\r00\n", -VG_EINVAL, "line 2: control character");
  expect_err(&rr, "800\n1111111111111111111111111111111111111111111111111111"
                  "111111111111111\n", -VG_EINVAL,
             "line 2, column 1");
}

static void test_order(void **state)
{
  struct analyze_input in;
  char err[256];
  (void)state;
  expect_err(&tv, "time,value\n0,100\n300000,100\n# c\n200000,100\n",
             -VG_EINVAL, "line 5, column 1: time is before the previous "
             "row's (line 3)");
  expect_err(&tv, "0,100\n0,101\n", -VG_EINVAL,
             "line 2, column 1: time is equal to the previous row's (line 1)");
  /* bp allows repeat readings at one time, not going back */
  assert_int_equal(csv(&bp, "5,120,80\n5,121,80\n", &in, err), 0);
  analyze_input_free(&in);
  expect_err(&bp, "5,120,80\n4,121,80\n", -VG_EINVAL, "line 2, column 1");
}

static void test_cap(void **state)
{
  struct analyze_csv_spec capped = rr;
  struct analyze_input in;
  char err[256];
  (void)state;
  capped.max_rows = 3;
  assert_int_equal(csv(&capped, "# x\n1\n2\n3\n", &in, err), 0);
  analyze_input_free(&in);
  expect_err(&capped, "# x\n1\n2\n3\n4\n", -VG_ETOOBIG,
             "line 5: more than 3 data rows");
}

static void test_many_rows(void **state)
{
  struct analyze_input in;
  char err[256], *s = vg_malloc(200000 * 8 + 1);
  size_t len = 0;
  (void)state;
  for (int i = 0; i < 200000; i++)
    len += (size_t)snprintf(s + len, 9, "%d\n", 500 + i % 1000);
  assert_int_equal(analyze_csv_parse(s, len, &rr, &in, err, sizeof err), 0);
  assert_int_equal(in.n, 200000);
  assert_true(in.v[0][199999] == 500 + 199999 % 1000);
  assert_int_equal(in.line[199999], 200000);
  analyze_input_free(&in);
  vg_free(s);
}

static void test_oom(void **state)
{
  struct analyze_input in;
  char err[256];
  size_t before = vg_alloc_used();
  (void)state;
  vg_alloc_fail_nth(1);
  assert_int_equal(analyze_csv_parse("0,1\n", 4, &tv, &in, err, sizeof err),
                   -VG_ENOMEM);
  vg_alloc_fail_nth(0);
  analyze_input_free(&in);
  assert_int_equal(vg_alloc_used(), before);
}

/* ---- JSON --------------------------------------------------------- */

static int js(const struct analyze_csv_spec *spec, const char *s,
              struct analyze_input *in, char *err)
{
  int rc = analyze_json_parse(s, strlen(s), spec, in, err, 256);
  if (rc)
    printf("  rc %d: %s\n", rc, err);
  return rc;
}

static void expect_json_err(const struct analyze_csv_spec *spec,
                            const char *s, int rc, const char *want)
{
  struct analyze_input in;
  char err[256];
  size_t before = vg_alloc_used();
  assert_int_equal(js(spec, s, &in, err), rc);
  if (!strstr(err, want))
    fail_msg("message '%s' lacks '%s'", err, want);
  analyze_input_free(&in);
  assert_int_equal(vg_alloc_used(), before);
}

static void test_json(void **state)
{
  struct analyze_input in;
  char err[256];
  (void)state;
  assert_int_equal(js(&tv, "{\"t\":[0,\"1970-01-01T01:00:01+01:00\"],"
                          "\"values\":[100,101.5]}", &in, err), 0);
  assert_int_equal(in.n, 2);
  assert_int_equal(in.t_ms[1], 1000);
  assert_int_equal(in.tz_offset_min, 60); /* first RFC 3339 time's */
  assert_true(in.v[0][1] == 101.5);
  analyze_input_free(&in);
  assert_int_equal(js(&rr, "{\"rr_ms\":[800,810]}", &in, err), 0);
  assert_int_equal(in.n, 2);
  analyze_input_free(&in);
  assert_int_equal(js(&bp, "{\"t\":[1,2],\"sbp\":[120,121],\"dbp\":[80,81]}",
                      &in, err), 0);
  assert_true(in.v[1][1] == 81);
  analyze_input_free(&in);
  assert_int_equal(js(&rr, "{\"fs_hz\":250,\"values\":[1,2]}", &in, err), 0);
  assert_true(in.fs_hz == 250);
  analyze_input_free(&in);
  expect_json_err(&rr, "{\"rr_ms\":[800,\"x\"]}", -VG_EINVAL,
                  "rr_ms[1]: not a number");
  expect_json_err(&rr, "{\"rr_ms\":[800,\n0]}", -VG_EINVAL,
                  "rr_ms[1]: 0 is out of range");
  expect_json_err(&rr, "{\"rr_ms\":[800,\n", -VG_EINVAL, "line 2");
  expect_json_err(&rr, "[1,2]", -VG_EINVAL, "expected a JSON object");
  expect_json_err(&rr, "{\"x\":[1]}", -VG_EINVAL, "\"rr_ms\": missing");
  expect_json_err(&tv, "{\"values\":[1]}", -VG_EINVAL, "\"t\": missing");
  expect_json_err(&tv, "{\"t\":[0,1,2],\"values\":[1,2]}", -VG_EINVAL,
                  "\"t\": 3 elements; \"values\" has 2");
  expect_json_err(&tv, "{\"t\":[0,5,4],\"values\":[1,2,3]}", -VG_EINVAL,
                  "t[2]: time is before the previous row's (element 1)");
  expect_json_err(&tv, "{\"t\":[0,\"noon\"],\"values\":[1,2]}", -VG_EINVAL,
                  "t[1]: not an RFC 3339 time");
  expect_json_err(&bp, "{\"t\":[1],\"sbp\":[120],\"dbp\":[80,81]}",
                  -VG_EINVAL, "\"dbp\": 2 elements; \"sbp\" has 1");
  expect_json_err(&rr, "{\"fs_hz\":-1,\"values\":[1]}", -VG_EINVAL,
                  "fs_hz");
  {
    struct analyze_csv_spec capped = rr;
    capped.max_rows = 2;
    expect_json_err(&capped, "{\"rr_ms\":[1,2,3]}", -VG_ETOOBIG,
                    "more than 2");
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_header_comments_crlf),
      cmocka_unit_test(test_values_only),
      cmocka_unit_test(test_optional_time),
      cmocka_unit_test(test_three_columns),
      cmocka_unit_test(test_errors_name_line_and_column),
      cmocka_unit_test(test_order),
      cmocka_unit_test(test_cap),
      cmocka_unit_test(test_many_rows),
      cmocka_unit_test(test_oom),
      cmocka_unit_test(test_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
