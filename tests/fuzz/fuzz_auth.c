/* fuzz_auth.c - libFuzzer target for everything reachable before
 * authentication succeeds: the Authorization header (Bearer), the Cookie
 * header (session and CSRF cookies), the login body, scope matching and
 * the password policy. Byte 0 picks the split of the rest into two parts
 * (header/body and scope/username). No store, no argon2 work. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "core_errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char user[VG_LOGIN_FIELD_MAX], pw[VG_LOGIN_FIELD_MAX];
  char hash[VG_HASH_HEX], csrf[VG_CSRF_LEN + 1];
  const char *tok, *val, *reason;
  size_t len, cut;
  char *a, *b;

  if (size < 1)
    return 0;
  cut = (size_t)data[0] * (size - 1) / 256;
  /* NUL-terminated copies, as headers arrive from libmicrohttpd. */
  a = malloc(cut + 1);
  b = malloc(size - 1 - cut + 1);
  memcpy(a, data + 1, cut);
  a[cut] = '\0';
  memcpy(b, data + 1 + cut, size - 1 - cut);
  b[size - 1 - cut] = '\0';

  if (auth_parse_bearer(a, &tok, &len) == 0) {
    if (tok < a || tok + len > a + cut || len == 0)
      abort();
    auth_token_hash(tok, len, hash);
    auth_csrf_for(tok, len, csrf);
    if (strlen(hash) != VG_HASH_HEX - 1 || strlen(csrf) != VG_CSRF_LEN)
      abort();
  }
  if (auth_parse_cookie(a, VG_SESSION_COOKIE, &val, &len) == 0 &&
      (val < a || val + len > a + cut))
    abort();
  if (auth_parse_cookie(b, VG_CSRF_COOKIE, &val, &len) == 0 &&
      (val < b || val + len > b + strlen(b)))
    abort();
  if (auth_login_body((const char *)data + 1, size - 1, user, pw,
                      &reason) == 0) {
    if (!user[0] || !pw[0] || strlen(user) >= VG_LOGIN_FIELD_MAX)
      abort();
  } else if (!reason) {
    abort();
  }
  (void)auth_scope_allows(a, b);
  (void)auth_scope_allows(b, "patient.read");
  (void)auth_scope_allows("user/*.cruds patient/Observation.rs", b);
  if (auth_password_policy(a, b, &reason) != 0 && !reason)
    abort();
  free(a);
  free(b);
  return 0;
}
