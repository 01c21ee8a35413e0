/* test_auth_ratelimit.c - the token-bucket limiter: burst then 429 with a
 * Retry-After, refill at the configured rate, keys independent, and the
 * table bounded under a flood of distinct keys (an attacker's own bucket
 * is not reset by it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "auth_ratelimit.h"
#include "core_errors.h"

static void test_burst_then_limited(void **state)
{
  struct vg_ratelimit *rl;
  int64_t retry = -1, t = 1000000;
  int i, ok = 0;
  (void)state;
  assert_int_equal(ratelimit_new(2, 5, &rl), 0);
  for (i = 0; i < 10; i++)
    ok += ratelimit_take(rl, "a", 1, t, NULL) == 0;
  printf("burst 5, 10 requests at one instant: %d allowed\n", ok);
  assert_int_equal(ok, 5);
  assert_int_equal(ratelimit_take(rl, "a", 1, t, &retry), -VG_ERATE);
  /* 2/s: one token in 500 ms, reported as whole seconds. */
  assert_int_equal(retry, 1);
  /* Another key has its own bucket. */
  assert_int_equal(ratelimit_take(rl, "b", 1, t, NULL), 0);
  /* 499 ms later still nothing; at 500 ms one request. */
  assert_int_equal(ratelimit_take(rl, "a", 1, t + 499, NULL), -VG_ERATE);
  assert_int_equal(ratelimit_take(rl, "a", 1, t + 500, NULL), 0);
  assert_int_equal(ratelimit_take(rl, "a", 1, t + 500, NULL), -VG_ERATE);
  /* A long pause refills to the burst, not beyond. */
  ok = 0;
  for (i = 0; i < 10; i++)
    ok += ratelimit_take(rl, "a", 1, t + 3600000, NULL) == 0;
  assert_int_equal(ok, 5);
  ratelimit_free(rl);
}

static void test_sustained_rate(void **state)
{
  struct vg_ratelimit *rl;
  int64_t t;
  int ok = 0;
  (void)state;
  /* 10/s, burst 1, offered 100/s for 10 s: ~100 allowed (+1 burst). */
  assert_int_equal(ratelimit_new(10, 1, &rl), 0);
  for (t = 0; t < 10000; t += 10)
    ok += ratelimit_take(rl, "k", 1, 5000 + t, NULL) == 0;
  printf("10/s limit, 1000 requests over 10 s: %d allowed\n", ok);
  assert_in_range(ok, 99, 101);
  ratelimit_free(rl);
}

static void test_off(void **state)
{
  struct vg_ratelimit *rl = (struct vg_ratelimit *)1;
  (void)state;
  assert_int_equal(ratelimit_new(0, 10, &rl), 0);
  assert_null(rl);
  assert_int_equal(ratelimit_take(NULL, "x", 1, 0, NULL), 0);
}

static void test_bounded_flood(void **state)
{
  struct vg_ratelimit *rl;
  char key[32];
  int i, n, limited = 0;
  (void)state;
  assert_int_equal(ratelimit_new(1, 3, &rl), 0);
  /* The attacker drains its own bucket. */
  for (i = 0; i < 3; i++)
    assert_int_equal(ratelimit_take(rl, "attacker", 8, 0, NULL), 0);
  /* 200,000 fresh keys within the same second: the table stays at its
   * fixed size, and the drained bucket is never the one reused. */
  for (i = 0; i < 200000; i++) {
    n = snprintf(key, sizeof key, "k%d", i);
    (void)ratelimit_take(rl, key, (size_t)n, 10, NULL);
    if (i % 20000 == 0)
      limited += ratelimit_take(rl, "attacker", 8, 10, NULL) == -VG_ERATE;
  }
  printf("200000 distinct keys: %zu slots used (cap %d); attacker still "
         "limited %d/10 times\n", ratelimit_used(rl), VG_RATELIMIT_SLOTS,
         limited);
  assert_true(ratelimit_used(rl) <= VG_RATELIMIT_SLOTS);
  assert_int_equal(limited, 10);
  ratelimit_free(rl);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_burst_then_limited),
      cmocka_unit_test(test_sustained_rate),
      cmocka_unit_test(test_off),
      cmocka_unit_test(test_bounded_flood),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
