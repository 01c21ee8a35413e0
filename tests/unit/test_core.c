/* test_core.c - errors table, allocator, arena, buffer/JSON, time, config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "codes.h"
#include "config.h"
#include "core_alloc.h"
#include "core_arena.h"
#include "core_buf.h"
#include "core_errors.h"
#include "core_time.h"

static void errors_map_to_status(void **state)
{
  (void)state;
  assert_int_equal(vg_http_status(-VG_ENOTFOUND), 404);
  assert_int_equal(vg_http_status(-VG_ETOOBIG), 413);
  assert_int_equal(vg_http_status(-VG_EBUSY), 503);
  assert_int_equal(vg_http_status(0), 200);
  assert_string_equal(vg_errcode(-VG_EMEDIA), "unsupported_media");
  assert_int_equal(vg_http_status(-9999), 500);
}

static void alloc_fault_injection_and_cap(void **state)
{
  void *p;
  size_t before = vg_alloc_used();
  (void)state;
  vg_alloc_fail_nth(2);
  p = vg_malloc(10);
  assert_non_null(p);
  assert_null(vg_malloc(10)); /* the 2nd allocation fails */
  vg_free(p);
  vg_alloc_set_cap(before + 100);
  assert_null(vg_malloc(200));
  p = vg_malloc(50);
  assert_non_null(p);
  vg_free(p);
  vg_alloc_set_cap(0);
  assert_int_equal(vg_alloc_used(), before);
}

static void arena_grows_and_caps(void **state)
{
  struct vg_arena *a = arena_new(10000);
  char *s;
  (void)state;
  assert_non_null(a);
  for (int i = 0; i < 100; i++)
    assert_non_null(arena_alloc(a, 64));
  s = arena_printf(a, "p-%d", 42);
  assert_string_equal(s, "p-42");
  assert_null(arena_alloc(a, 20000)); /* over the cap */
  arena_free(a);
}

static void buf_json_escapes(void **state)
{
  struct vg_buf b = VG_BUF_INIT;
  (void)state;
  buf_json_str(&b, "a\"b\\c\n\x01\xff", 8);
  assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001\\ufffd\"");
  buf_reset(&b);
  buf_json_num(&b, 0.1);
  buf_putc(&b, ' ');
  buf_json_num(&b, 120);
  buf_putc(&b, ' ');
  buf_json_num(&b, 1.0 / 0.0);
  assert_string_equal(b.data, "0.1 120 null");
  buf_free(&b);
  buf_init(&b, 8);
  assert_int_equal(buf_puts(&b, "0123456789"), -VG_ETOOBIG);
  assert_int_equal(b.err, -VG_ETOOBIG);
  buf_free(&b);
}

static void utf8_scrub_drops_cut_characters(void **state)
{
  char s[] = "ab\xe2\x82' ok \xe4\xb8\xad\xff!";
  (void)state;
  /* a 3-byte character cut after 2 bytes, a whole one, a stray 0xff */
  assert_int_equal(utf8_scrub(s), strlen("ab' ok \xe4\xb8\xad!"));
  assert_string_equal(s, "ab' ok \xe4\xb8\xad!");
  assert_int_equal(utf8_seq_len((const unsigned char *)"\xe4\xb8\xad", 3), 3);
  assert_int_equal(utf8_seq_len((const unsigned char *)"\xe4\xb8", 2), 0);
  assert_int_equal(utf8_seq_len((const unsigned char *)"\xc0\xaf", 2), 0);
}

static void time_parse_rfc3339(void **state)
{
  int64_t ms;
  int16_t off;
  char out[40];
  const char *s = "2025-03-01T08:30:00.250+08:00";
  (void)state;
  assert_int_equal(vg_time_parse(s, strlen(s), &ms, &off), 0);
  assert_int_equal(ms, 1740789000250LL); /* 2025-03-01T00:30:00.250Z */
  assert_int_equal(off, 480);
  vg_time_format(ms, off, out, sizeof out);
  assert_string_equal(out, "2025-03-01T08:30:00.250+08:00");
  vg_time_format(0, VG_TZ_UNKNOWN, out, sizeof out);
  assert_string_equal(out, "1970-01-01T00:00:00.000Z");
  s = "2025-02-29T00:00:00Z"; /* not a leap year */
  assert_int_equal(vg_time_parse(s, strlen(s), &ms, &off), -VG_EINVAL);
  s = "2025-03-01T08:30:00"; /* offset required */
  assert_int_equal(vg_time_parse(s, strlen(s), &ms, &off), -VG_EINVAL);
  s = "2024-02-29";
  assert_int_equal(vg_date_parse(s, strlen(s), &ms), 0);
}

static void codes_lookup_and_convert(void **state)
{
  const struct vg_code *c = codes_find("glucose", 7);
  double v;
  (void)state;
  assert_non_null(c);
  assert_ptr_equal(codes_find("2339-0", 6), c);
  assert_ptr_equal(codes_find("15074-8", 7), c);
  assert_null(codes_find("nope", 4));
  assert_int_equal(codes_to_canonical(c, "mmol/L", 6, 5.5, &v), 0);
  assert_true(v > 99.0 && v < 99.2);
  assert_int_equal(codes_to_canonical(c, "furlong", 7, 5.5, &v), -VG_EINVAL);
  assert_int_equal(codes_check_range(c, 5000), -VG_EINVAL);
  c = codes_find("temp", 4);
  assert_int_equal(codes_to_canonical(c, "[degF]", 6, 98.6, &v), 0);
  assert_true(v > 36.99 && v < 37.01);
}

static void config_flags_override_defaults(void **state)
{
  struct vg_config cfg;
  char err[128];
  char *argv[] = {"serve", "--port", "0", "--db=/tmp/x.db", "--demo"};
  char *bad[] = {"serve", "--port", "abc"};
  char *unknown[] = {"serve", "--nope"};
  (void)state;
  assert_int_equal(config_load(&cfg, 5, argv, 1, err, sizeof err), 0);
  assert_int_equal(cfg.port, 0);
  assert_string_equal(cfg.db, "/tmp/x.db");
  assert_int_equal(cfg.demo, 1);
  assert_string_equal(cfg.bind, "127.0.0.1");
  assert_int_equal(config_load(&cfg, 3, bad, 1, err, sizeof err), -VG_EINVAL);
  assert_int_equal(config_load(&cfg, 2, unknown, 1, err, sizeof err),
                   -VG_EINVAL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(errors_map_to_status),
      cmocka_unit_test(alloc_fault_injection_and_cap),
      cmocka_unit_test(arena_grows_and_caps),
      cmocka_unit_test(buf_json_escapes),
      cmocka_unit_test(utf8_scrub_drops_cut_characters),
      cmocka_unit_test(time_parse_rfc3339),
      cmocka_unit_test(codes_lookup_and_convert),
      cmocka_unit_test(config_flags_override_defaults),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
