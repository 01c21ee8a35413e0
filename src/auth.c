/* auth.c - passwords (argon2id), tokens (libsodium random + BLAKE2b),
 * roles and scopes, the patient-visibility rule, token -> principal,
 * login with lockout, and header parsing for the HTTP layer. */
#include "auth.h"

#include <argon2.h>
#include <ctype.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "core_alloc.h"
#include "core_arena.h"
#include "core_errors.h"
#include "core_log.h"
#include "core_time.h"
#include "http.h"
#include "store_writer.h"

#define SALT_LEN 16
#define HASH_LEN 32
#define PW_MIN 10
#define PW_MAX 128
#define LOCKOUT_CAP_MS (3600LL * 1000)

/* ==== passwords ========================================================= */

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_ok;

static void sodium_init_once(void)
{
  sodium_ok = sodium_init() >= 0;
}

static int sodium_ready(void)
{
  pthread_once(&sodium_once, sodium_init_once);
  return sodium_ok;
}

int auth_password_hash(const struct vg_config *cfg, const char *pw, char *out,
                       size_t out_len)
{
  unsigned char salt[SALT_LEN];
  int rc;
  if (!sodium_ready())
    return -VG_EINTERNAL;
  randombytes_buf(salt, sizeof salt);
  rc = argon2id_hash_encoded((uint32_t)cfg->argon2_t,
                             (uint32_t)cfg->argon2_m_kib,
                             (uint32_t)cfg->argon2_p, pw, strlen(pw), salt,
                             sizeof salt, HASH_LEN, out, out_len);
  if (rc == ARGON2_MEMORY_ALLOCATION_ERROR)
    return -VG_ENOMEM;
  return rc == ARGON2_OK ? 0 : -VG_EINVAL;
}

int auth_password_verify(const char *encoded, const char *pw)
{
  if (!encoded || strncmp(encoded, "$argon2id$", 10) != 0)
    return -VG_EUNAUTH;
  return argon2id_verify(encoded, pw, strlen(pw)) == ARGON2_OK ? 0
                                                               : -VG_EUNAUTH;
}

/* Lower-cased, these are among the most common leaked passwords (NCSC
 * "100k-most-used" list, top entries) that can pass the class rule. */
static const char *const common_pw[] = {
  "password1!", "password123", "qwerty123!", "p@ssw0rd123", "welcome123!",
  "passw0rd!!", "admin12345!", "iloveyou123", "letmein123!", "changeme123",
};

int auth_password_policy(const char *pw, const char *username,
                         const char **out_reason)
{
  size_t n = strlen(pw), i, ulen = username ? strlen(username) : 0;
  int lower = 0, upper = 0, digit = 0, other = 0;
  char low[PW_MAX + 1];
  *out_reason = NULL;
  if (n < PW_MIN) {
    *out_reason = "password must have at least 10 characters";
    return -VG_EINVAL;
  }
  if (n > PW_MAX) {
    *out_reason = "password must have at most 128 characters";
    return -VG_EINVAL;
  }
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)pw[i];
    lower |= islower(c) != 0;
    upper |= isupper(c) != 0;
    digit |= isdigit(c) != 0;
    other |= !isalnum(c);
    low[i] = (char)tolower(c);
  }
  low[n] = '\0';
  if (lower + upper + digit + other < 3) {
    *out_reason = "password needs 3 of: lower case, upper case, digit, other";
    return -VG_EINVAL;
  }
  for (i = 0; ulen >= 3 && i + ulen <= n; i++)
    if (strncasecmp(pw + i, username, ulen) == 0) {
      *out_reason = "password must not contain the username";
      return -VG_EINVAL;
    }
  for (i = 0; i < sizeof common_pw / sizeof common_pw[0]; i++)
    if (strcmp(low, common_pw[i]) == 0) {
      *out_reason = "password is too common";
      return -VG_EINVAL;
    }
  return 0;
}

/* ==== tokens ============================================================ */

static void hex(const unsigned char *in, size_t n, char *out)
{
  static const char digits[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * n] = '\0';
}

void auth_token_hash(const char *token, size_t len, char *hash)
{
  unsigned char h[32];
  crypto_generichash(h, sizeof h, (const unsigned char *)token, len, NULL, 0);
  hex(h, sizeof h, hash);
}

void auth_token_new(char *token, char *hash)
{
  unsigned char raw[32];
  if (!sodium_ready())
    vg_error("auth", "error=\"libsodium init failed\"");
  randombytes_buf(raw, sizeof raw);
  memcpy(token, "vg_", 3);
  hex(raw, sizeof raw, token + 3);
  sodium_memzero(raw, sizeof raw);
  auth_token_hash(token, VG_TOKEN_LEN, hash);
}

void auth_csrf_for(const char *token, size_t len, char *csrf)
{
  /* Keyed by a fixed label: the value is as unguessable as the token
   * (which the page cannot read: HttpOnly) and the same on every node. */
  static const unsigned char key[] = "vigil-csrf-v1-double-submit-key";
  unsigned char h[VG_CSRF_LEN / 2];
  crypto_generichash(h, sizeof h, (const unsigned char *)token, len, key,
                     sizeof key - 1);
  hex(h, sizeof h, csrf);
}

/* ==== roles and scopes ================================================== */

/* Region-and-people scopes of the clinical roles (docs/care.md); admin
 * holds them through "*". */
#define CARE_ORG_SCOPES                                                      \
  "org.read org.write team.read team.write household.read household.write " \
  "contract.read contract.write condition.read condition.write visit.read " \
  "visit.write patient.merge report.read report.patients"

/* The care-flow resources (assessment, alerts, tasks, referrals,
 * consults, events) for the clinical roles. */
#define CARE_FLOW_SCOPES                                                     \
  "assessment.read alert.read alert.write task.read task.write "            \
  "referral.read referral.write consult.read consult.write events.read"

static const struct {
  const char *role, *scopes;
} role_table[] = {
  {"admin", "*"},
  {"clinician", "patient.read patient.write device.read device.write "
                "reading.read reading.write analyze.run " CARE_ORG_SCOPES
                " " CARE_FLOW_SCOPES},
  {"doctor", "patient.read patient.write device.read device.write "
             "reading.read reading.write analyze.run " CARE_ORG_SCOPES
                " " CARE_FLOW_SCOPES},
  {"nurse", "patient.read patient.write device.read device.write "
            "reading.read reading.write analyze.run " CARE_ORG_SCOPES
                " " CARE_FLOW_SCOPES},
  {"patient", "patient.read reading.read reading.write analyze.run "
              "condition.read"},
  {"researcher", "analyze.run report.read export.read"}, /* de-identified */
  {"device", "reading.write"},
  {"client", ""}, /* the scopes granted to the client (app_user.scopes) */
};

int auth_role_valid(const char *role)
{
  size_t i;
  for (i = 0; i < sizeof role_table / sizeof role_table[0]; i++)
    if (strcmp(role, role_table[i].role) == 0)
      return 1;
  return 0;
}

const char *auth_role_scopes(const char *role)
{
  size_t i;
  for (i = 0; i < sizeof role_table / sizeof role_table[0]; i++)
    if (strcmp(role, role_table[i].role) == 0)
      return role_table[i].scopes;
  return "";
}

static const char *fhir_type(const char *res, size_t len)
{
  if (len == 7 && memcmp(res, "patient", 7) == 0)
    return "Patient";
  if (len == 7 && memcmp(res, "reading", 7) == 0)
    return "Observation";
  if (len == 6 && memcmp(res, "device", 6) == 0)
    return "Device";
  if (len == 5 && memcmp(res, "audit", 5) == 0)
    return "AuditEvent";
  return NULL;
}

static int has_char(const char *s, size_t n, char c)
{
  return memchr(s, c, n) != NULL;
}

/* One SMART scope g (length n) against Vigil scope res.action. */
static int smart_allows(const char *g, size_t n, const char *res,
                        size_t res_len, const char *action)
{
  const char *slash = memchr(g, '/', n), *dot, *type, *perm;
  const char *want = fhir_type(res, res_len);
  size_t type_len, perm_len;
  int v1;
  if (!slash)
    return 0;
  if (!((slash - g == 7 && memcmp(g, "patient", 7) == 0) ||
        (slash - g == 4 && memcmp(g, "user", 4) == 0) ||
        (slash - g == 6 && memcmp(g, "system", 6) == 0)))
    return 0;
  type = slash + 1;
  dot = memchr(type, '.', (size_t)(g + n - type));
  if (!dot)
    return 0;
  type_len = (size_t)(dot - type);
  perm = dot + 1;
  perm_len = (size_t)(g + n - perm);
  if (!(type_len == 1 && type[0] == '*') &&
      !(want && strlen(want) == type_len && memcmp(type, want, type_len) == 0))
    return 0;
  if (perm_len == 1 && perm[0] == '*')
    return 1;
  v1 = (perm_len == 4 && memcmp(perm, "read", 4) == 0) ||
       (perm_len == 5 && memcmp(perm, "write", 5) == 0);
  if (v1)
    return strcmp(action, "read") == 0 ? perm[0] == 'r' : perm[0] == 'w';
  if (perm_len == 0 || strspn(perm, "cruds") < perm_len)
    return 0;
  if (strcmp(action, "read") == 0)
    return has_char(perm, perm_len, 'r') || has_char(perm, perm_len, 's');
  if (strcmp(action, "write") == 0)
    return has_char(perm, perm_len, 'c') || has_char(perm, perm_len, 'u');
  return has_char(perm, perm_len, 'c');
}

int auth_scope_allows(const char *granted, const char *required)
{
  const char *p = granted, *dot = strchr(required, '.');
  size_t req_len = strlen(required), res_len;
  if (strcmp(required, "public") == 0 || strcmp(required, "self") == 0)
    return 1;
  if (!dot)
    return 0;
  res_len = (size_t)(dot - required);
  while (p && *p) {
    size_t n;
    while (*p == ' ')
      p++;
    n = strcspn(p, " ");
    if (n == 0)
      break;
    if ((n == 1 && p[0] == '*') ||
        (n == req_len && memcmp(p, required, n) == 0) ||
        (n == res_len + 2 && memcmp(p, required, res_len + 1) == 0 &&
         p[res_len + 1] == '*') ||
        smart_allows(p, n, required, res_len, dot + 1))
      return 1;
    p += n;
  }
  return 0;
}

static int role_is(const struct vg_principal *p, const char *role)
{
  return strcmp(p->role, role) == 0;
}

int auth_sees_all_patients(const struct vg_principal *p)
{
  if (!p)
    return 0;
  /* admin without an organisation (org 0): the installation's; with
   * one: its subtree (admin_sql). Clinical roles are narrowed by the care
   * tables (auth_visible_sql). */
  if (role_is(p, "admin"))
    return p->org_id <= 0;
  if (role_is(p, "client"))
    return strstr(p->scopes, "system/") != NULL ||
           auth_scope_allows(p->scopes, "patient.read");
  return 0;
}

/* The care rules, one statement per role: $1 user id, $2 organisation id.
 * UNION removes duplicates; ORDER BY 1 lets the loaded set be searched. */
static const char nurse_sql[] =
    "SELECT DISTINCT patient_id FROM care_task WHERE assignee_id = $1 AND "
    "CAST($2 AS BIGINT) IS NOT NULL ORDER BY 1";
static const char doctor_sql[] =
    "SELECT c.patient_id FROM contract c JOIN care_team_member m ON "
    "m.team_id = c.team_id WHERE m.user_id = $1 AND c.status = 'active' "
    "AND c.patient_id IS NOT NULL "
    "UNION SELECT hm.patient_id FROM contract c JOIN care_team_member m ON "
    "m.team_id = c.team_id JOIN household_member hm ON hm.household_id = "
    "c.household_id WHERE m.user_id = $1 AND c.status = 'active' "
    "UNION SELECT patient_id FROM care_task WHERE assignee_id = $1 AND "
    "CAST($2 AS BIGINT) IS NOT NULL ORDER BY 1";
static const char clinician_sql[] =
    "SELECT patient_id FROM care_referral WHERE to_org = $2 AND "
    "CAST($2 AS BIGINT) > 0 "
    "AND state NOT IN ('suggested', 'dismissed') "
    "UNION SELECT hm.patient_id FROM household_member hm JOIN household h "
    "ON h.id = hm.household_id WHERE h.org_id = $2 "
    "UNION SELECT c.patient_id FROM contract c JOIN care_team ct ON ct.id "
    "= c.team_id WHERE ct.org_id = $2 AND c.status = 'active' AND "
    "c.patient_id IS NOT NULL "
    "UNION SELECT hm.patient_id FROM contract c JOIN care_team ct ON ct.id "
    "= c.team_id JOIN household_member hm ON hm.household_id = "
    "c.household_id WHERE ct.org_id = $2 AND c.status = 'active' AND "
    "CAST($1 AS BIGINT) IS NOT NULL ORDER BY 1";

/* admin of organisation $2: the residents of its subtree (their
 * household's organisation), and patients without a household contracted
 * by a team of the subtree (the team's organisation is their home). */
static const char admin_sql[] =
    "SELECT hm.patient_id FROM household_member hm JOIN household h ON "
    "h.id = hm.household_id JOIN organization o ON o.id = h.org_id JOIN "
    "organization a ON a.id = $2 WHERE o.path LIKE a.path || '%' "
    "UNION SELECT c.patient_id FROM contract c JOIN care_team ct ON ct.id = "
    "c.team_id JOIN organization o ON o.id = ct.org_id JOIN organization a "
    "ON a.id = $2 WHERE c.patient_id IS NOT NULL AND c.status = 'active' "
    "AND o.path LIKE a.path || '%' AND NOT EXISTS (SELECT 1 FROM "
    "household_member x WHERE x.patient_id = c.patient_id) AND "
    "CAST($1 AS BIGINT) IS NOT NULL ORDER BY 1";

const char *auth_visible_sql(const struct vg_principal *p)
{
  if (!p)
    return NULL;
  if (role_is(p, "admin") && p->org_id > 0)
    return admin_sql;
  if (role_is(p, "nurse"))
    return nurse_sql;
  if (role_is(p, "doctor"))
    return doctor_sql;
  if (role_is(p, "clinician"))
    return clinician_sql;
  return NULL;
}

struct id_set {
  int64_t *ids;
  size_t n, cap;
  int64_t want; /* > 0: only answer whether want is in the set */
  int found;
};

static int set_row(void *ctx, const struct vg_val *c, size_t n)
{
  struct id_set *s = ctx;
  if (n < 1 || c[0].type != VG_VAL_INT || c[0].i <= 0)
    return 0;
  if (s->want > 0) {
    s->found = c[0].i == s->want;
    return s->found; /* stop at the first match */
  }
  if (s->n == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 256;
    s->ids = vg_realloc(s->ids, s->cap * sizeof *s->ids);
  }
  s->ids[s->n++] = c[0].i;
  return 0;
}

int auth_visible_load(struct vg_txn *t, struct vg_principal *p,
                      struct vg_arena *a)
{
  const char *sql = auth_visible_sql(p);
  struct id_set s = {0};
  struct vg_val prm[2];
  int64_t *dst;
  int rc;
  if (!sql)
    return 0;
  prm[0] = VG_INT(p->user_id);
  prm[1] = VG_INT(p->org_id);
  rc = store_sql(t, sql, prm, 2, set_row, &s, NULL);
  if (rc < 0)
    goto fail;
  dst = arena_alloc(a, (s.n ? s.n : 1) * sizeof *dst);
  if (!dst) {
    rc = -VG_ENOMEM;
    goto fail;
  }
  if (s.n)
    memcpy(dst, s.ids, s.n * sizeof *dst);
  p->visible = dst;
  p->n_visible = s.n;
  p->visible_loaded = 1;
  rc = 0;
fail:
  vg_free(s.ids);
  return rc;
}

int auth_patient_visible(struct vg_txn *t, const struct vg_principal *p,
                         int64_t patient_id)
{
  const char *sql;
  if (!p || patient_id <= 0)
    return 0;
  if (auth_sees_all_patients(p))
    return 1;
  if (role_is(p, "patient"))
    return p->patient_id > 0 && p->patient_id == patient_id;
  if (role_is(p, "device"))
    return p->device_patient_id > 0 && p->device_patient_id == patient_id;
  sql = auth_visible_sql(p);
  if (!sql)
    return 0; /* researcher: de-identified exports only, never by id */
  if (p->visible_loaded) {
    size_t lo = 0, hi = p->n_visible;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (p->visible[mid] == patient_id)
        return 1;
      if (p->visible[mid] < patient_id)
        lo = mid + 1;
      else
        hi = mid;
    }
    return 0;
  }
  if (!t)
    return 0;
  {
    struct id_set s = {0};
    struct vg_val prm[2] = {VG_INT(p->user_id), VG_INT(p->org_id)};
    s.want = patient_id;
    if (store_sql(t, sql, prm, 2, set_row, &s, NULL) < 0)
      return 0;
    return s.found;
  }
}

/* ==== principals ======================================================== */

int auth_principal_of(struct vg_txn *t, const struct vg_user *u,
                      struct vg_principal *out)
{
  struct vg_device d;
  int rc;
  memset(out, 0, sizeof *out);
  out->user_id = u->id;
  snprintf(out->username, sizeof out->username, "%s", u->username);
  snprintf(out->role, sizeof out->role, "%s", u->role);
  out->org_id = u->org_id;
  out->patient_id = u->patient_id;
  out->device_id = u->device_id;
  snprintf(out->scopes, sizeof out->scopes, "%s",
           strcmp(u->role, "client") == 0 ? u->scopes
                                          : auth_role_scopes(u->role));
  if (strcmp(u->role, "device") == 0 && u->device_id > 0) {
    rc = store_device_get(t, u->device_id, &d);
    if (rc == 0)
      out->device_patient_id = d.patient_id;
    else if (rc != -VG_ENOTFOUND)
      return rc;
  }
  return 0;
}

int auth_token_principal(struct vg_store *s, const char *token, size_t len,
                         int64_t now_ms, struct vg_principal *out)
{
  char hash[VG_HASH_HEX];
  struct vg_token k;
  struct vg_user u;
  struct vg_txn *t;
  int rc;
  memset(out, 0, sizeof *out);
  if (len != VG_TOKEN_LEN || memcmp(token, "vg_", 3) != 0)
    return -VG_EUNAUTH;
  auth_token_hash(token, len, hash);
  rc = store_begin(s, VG_TXN_READ, &t);
  if (rc)
    return rc;
  /* The lookup is by hash (an index probe); the hash of a guessed token
   * reveals nothing, so no constant-time compare is needed here. */
  rc = store_token_by_hash(t, hash, &k);
  if (rc == 0 && (k.revoked_ms || k.expires_ms <= now_ms))
    rc = -VG_EUNAUTH;
  if (rc == 0)
    rc = store_user_get(t, k.user_id, &u);
  if (rc == 0 && u.disabled)
    rc = -VG_EUNAUTH;
  if (rc == 0)
    rc = auth_principal_of(t, &u, out);
  store_rollback(t);
  if (rc == -VG_ENOTFOUND)
    rc = -VG_EUNAUTH;
  if (rc)
    return rc;
  out->token_id = k.id;
  if (k.scopes[0])
    snprintf(out->scopes, sizeof out->scopes, "%s", k.scopes);
  return 0;
}

/* ==== header parsing ==================================================== */

int auth_parse_bearer(const char *header, const char **out_tok,
                      size_t *out_len)
{
  const char *p;
  size_t n;
  *out_tok = NULL;
  *out_len = 0;
  if (!header || strncasecmp(header, "Bearer ", 7) != 0)
    return -VG_EUNAUTH;
  p = header + 7;
  while (*p == ' ')
    p++;
  n = strcspn(p, " \t");
  if (n == 0 || p[n] != '\0')
    return -VG_EUNAUTH;
  *out_tok = p;
  *out_len = n;
  return 0;
}

int auth_parse_cookie(const char *header, const char *name,
                      const char **out_val, size_t *out_len)
{
  size_t nlen = strlen(name);
  const char *p = header;
  *out_val = NULL;
  *out_len = 0;
  while (p && *p) {
    size_t n;
    while (*p == ' ' || *p == ';')
      p++;
    n = strcspn(p, ";");
    if (n > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=') {
      *out_val = p + nlen + 1;
      *out_len = n - nlen - 1;
      while (*out_len && (*out_val)[*out_len - 1] == ' ')
        --*out_len;
      return 0;
    }
    p += n;
  }
  return -VG_ENOTFOUND;
}

static int login_field(json_t *j, const char *key, char *out)
{
  json_t *v = json_object_get(j, key);
  size_t len;
  if (!json_is_string(v))
    return -VG_EINVAL;
  len = json_string_length(v);
  if (len == 0 || len >= VG_LOGIN_FIELD_MAX ||
      strlen(json_string_value(v)) != len)
    return -VG_EINVAL;
  memcpy(out, json_string_value(v), len + 1);
  return 0;
}

int auth_login_body(const char *body, size_t len, char *user, char *pw,
                    const char **out_reason)
{
  json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
  int rc = 0;
  user[0] = pw[0] = '\0';
  *out_reason = NULL;
  if (!json_is_object(j)) {
    *out_reason = "body must be a JSON object";
    rc = -VG_EBADJSON;
  } else if (login_field(j, "username", user) ||
             login_field(j, "password", pw)) {
    *out_reason = "\"username\" and \"password\" must be strings of "
                  "1..255 bytes";
    rc = -VG_EINVAL;
  }
  json_decref(j);
  if (rc)
    sodium_memzero(pw, VG_LOGIN_FIELD_MAX);
  return rc;
}

/* ==== writes through the writer ========================================= */

struct issue_job {
  struct vg_token k;
};

static int issue_fn(struct vg_txn *t, void *ctx)
{
  struct issue_job *j = ctx;
  return store_token_create(t, &j->k);
}

int auth_token_issue(struct vg_app *app, const struct vg_user *u,
                     const char *kind, const char *scopes, int64_t ttl_ms,
                     char *token, int64_t *out_expires_ms, int64_t *out_id)
{
  struct issue_job j;
  int rc;
  memset(&j, 0, sizeof j);
  auth_token_new(token, j.k.hash);
  j.k.user_id = u->id;
  snprintf(j.k.kind, sizeof j.k.kind, "%s", kind);
  snprintf(j.k.scopes, sizeof j.k.scopes, "%s", scopes ? scopes : "");
  j.k.expires_ms = vg_now_ms() + ttl_ms;
  rc = writer_exec(app->writer, 1, issue_fn, &j);
  if (rc) {
    sodium_memzero(token, VG_TOKEN_LEN + 1);
    return rc;
  }
  *out_expires_ms = j.k.expires_ms;
  if (out_id)
    *out_id = j.k.id;
  return 0;
}

struct login_job {
  int64_t user_id;
  int success;
  int lockout_after;
  int64_t lockout_base_ms;
  int64_t now_ms;
};

/* Re-reads the user inside the write so that concurrent failures count
 * one by one. */
static int login_fn(struct vg_txn *t, void *ctx)
{
  struct login_job *j = ctx;
  struct vg_user u;
  int rc = store_user_get(t, j->user_id, &u);
  if (rc)
    return rc;
  if (j->success) {
    if (u.failed_logins == 0 && u.locked_until_ms == 0)
      return 0;
    u.failed_logins = 0;
    u.locked_until_ms = 0;
  } else {
    u.failed_logins++;
    if (j->lockout_after > 0 && u.failed_logins >= j->lockout_after) {
      int extra = u.failed_logins - j->lockout_after;
      int64_t ms = j->lockout_base_ms;
      while (extra-- > 0 && ms < LOCKOUT_CAP_MS)
        ms *= 2;
      if (ms > LOCKOUT_CAP_MS)
        ms = LOCKOUT_CAP_MS;
      u.locked_until_ms = j->now_ms + ms;
    }
  }
  return store_user_update(t, &u);
}

/* A hash to verify against when the user does not exist, so that unknown
 * and known usernames cost the same argon2 work. */
static char dummy_hash[128];
static pthread_mutex_t dummy_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *dummy_for(const struct vg_config *cfg)
{
  pthread_mutex_lock(&dummy_lock);
  if (!dummy_hash[0] &&
      auth_password_hash(cfg, "vigil-dummy-password", dummy_hash,
                         sizeof dummy_hash) != 0)
    dummy_hash[0] = '\0';
  pthread_mutex_unlock(&dummy_lock);
  return dummy_hash;
}

int auth_login_check(struct vg_app *app, const char *username,
                     const char *password, struct vg_user *out)
{
  const struct vg_config *cfg = app->cfg;
  struct login_job j;
  struct vg_txn *t;
  struct vg_user u;
  int64_t now = vg_now_ms();
  int rc, found, ok, usable;

  memset(out, 0, sizeof *out);
  rc = store_begin(app->store, VG_TXN_READ, &t);
  if (rc)
    return rc;
  rc = store_user_by_name(t, username, &u);
  store_rollback(t);
  if (rc && rc != -VG_ENOTFOUND)
    return rc;
  found = rc == 0;
  ok = auth_password_verify(found && u.pw_hash[0] ? u.pw_hash
                                                  : dummy_for(cfg),
                            password) == 0;
  if (!found)
    return -VG_EUNAUTH;
  usable = !u.disabled && u.locked_until_ms <= now && u.pw_hash[0];
  if (!usable)
    return -VG_EUNAUTH; /* locked attempts do not extend the lock */
  memset(&j, 0, sizeof j);
  j.user_id = u.id;
  j.success = ok;
  j.lockout_after = (int)cfg->lockout_after;
  j.lockout_base_ms = cfg->lockout_base_s * 1000;
  j.now_ms = now;
  if (!ok || u.failed_logins || u.locked_until_ms) {
    rc = writer_exec(app->writer, 1, login_fn, &j);
    if (rc)
      return rc;
  }
  if (!ok)
    return -VG_EUNAUTH;
  u.failed_logins = 0;
  u.locked_until_ms = 0;
  *out = u;
  return 0;
}
