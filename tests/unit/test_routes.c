/* test_routes.c - the route table: every route declares a scope and a
 * handler, patterns are well formed and unique, and matching is exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "http.h"

static const char *const scopes[] = {
    "public", "metrics.read", "patient.read", "patient.write", "device.read",
    "device.write", "reading.read", "reading.write", "analyze.run",
    "self", "audit.read",
    /* care layer: region and people, population reports */
    "org.read", "org.write", "team.read", "team.write", "household.read",
    "household.write", "contract.read", "contract.write", "condition.read",
    "condition.write", "visit.read", "visit.write", "patient.merge",
    "report.read", "report.patients",
    /* FHIR Bulk Data export */
    "export.read",
    /* care layer: assessment, alerts, tasks, referrals, consults, events */
    "assessment.read", "alert.read", "alert.write", "task.read",
    "task.write", "referral.read", "referral.write", "consult.read",
    "consult.write", "events.read"};

static int known_scope(const char *s)
{
  for (size_t i = 0; i < sizeof scopes / sizeof scopes[0]; i++)
    if (!strcmp(s, scopes[i]))
      return 1;
  return 0;
}

static void every_route_declares_scope_and_handler(void **state)
{
  size_t n;
  const struct vg_route *r = http_routes(&n);
  (void)state;
  assert_true(n >= 10);
  for (size_t i = 0; i < n; i++) {
    assert_non_null(r[i].handler);
    assert_non_null(r[i].scope);
    if (!known_scope(r[i].scope))
      fail_msg("route %s %s has unknown scope '%s'", r[i].method,
               r[i].pattern, r[i].scope);
    assert_true(!strcmp(r[i].method, "GET") || !strcmp(r[i].method, "POST") ||
                !strcmp(r[i].method, "PUT") || !strcmp(r[i].method, "DELETE"));
    assert_int_equal(r[i].pattern[0], '/');
    /* patient data is never public */
    if (strstr(r[i].pattern, "patients") || strstr(r[i].pattern, "readings"))
      assert_string_not_equal(r[i].scope, "public");
  }
}

static void patterns_are_unique(void **state)
{
  size_t n;
  const struct vg_route *r = http_routes(&n);
  (void)state;
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      if (!strcmp(r[i].method, r[j].method) &&
          !strcmp(r[i].pattern, r[j].pattern))
        fail_msg("duplicate route %s %s", r[i].method, r[i].pattern);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_route_declares_scope_and_handler),
      cmocka_unit_test(patterns_are_unique),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
