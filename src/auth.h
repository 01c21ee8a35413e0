/* auth.h - identities and what they may do: argon2id passwords with a
 * policy and lockout, random bearer tokens stored as hashes, role and
 * SMART-style scopes, the one patient-visibility rule (row level), and
 * request authentication from the Authorization header or the session
 * cookie (with a double-submit CSRF check). docs/internals/auth.md. */
#ifndef VG_AUTH_H
#define VG_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct vg_app;
struct vg_config;
struct vg_req;

/* Token text: "vg_" + 64 hex digits (256 random bits, libsodium). */
#define VG_TOKEN_LEN 67
#define VG_CSRF_LEN 32
#define VG_SESSION_COOKIE "vigil_session"
#define VG_CSRF_COOKIE "vigil_csrf"
#define VG_CSRF_HEADER "X-CSRF-Token"

/* Who is calling. Embeddable; all fields public, read-only for handlers. */
struct vg_principal {
  int64_t user_id;
  char username[VG_NAME_MAX];
  char role[VG_ROLE_MAX];
  int64_t org_id;
  int64_t patient_id;        /* role patient: self */
  int64_t device_id;         /* role device */
  int64_t device_patient_id; /* role device: the bound patient, 0 = none */
  char scopes[VG_SCOPES_MAX];/* effective: the token's, else the role's */
  int64_t token_id;
  int via_cookie;            /* authenticated by the session cookie */
  /* Care-rule visibility (clinician, doctor, nurse, organisation admin),
   * loaded once per request by auth_visible_load(): sorted patient ids,
   * borrowed from the request arena. visible_loaded 0 = not loaded (ask
   * the store). */
  const int64_t *visible;
  size_t n_visible;
  int visible_loaded;
};

/* ---- passwords ---------------------------------------------------------- */

/* argon2id-hash pw with cfg's parameters and a random salt. OUT: out (the
 * encoded string, NUL-terminated). Returns 0, -VG_EINVAL (out too small),
 * -VG_ENOMEM. Takes ~argon2 time (about 180 ms with the defaults). */
int auth_password_hash(const struct vg_config *cfg, const char *pw, char *out,
                       size_t out_len);

/* 0 if pw matches encoded (constant-time compare inside libargon2), else
 * -VG_EUNAUTH. An empty or malformed encoded string never matches. */
int auth_password_verify(const char *encoded, const char *pw);

/* The password policy: 10..128 bytes, not containing the username, at
 * least 3 of lower/upper/digit/other classes, and not a well-known
 * password. 0, or -VG_EINVAL with *out_reason (static string). */
int auth_password_policy(const char *pw, const char *username,
                         const char **out_reason);

/* ---- tokens ------------------------------------------------------------- */

/* A new random token. OUT: token (VG_TOKEN_LEN + 1 bytes) and its hash
 * (VG_HASH_HEX bytes). */
void auth_token_new(char *token, char *hash);
/* Hex BLAKE2b-256 of the token text. OUT: hash (VG_HASH_HEX bytes). */
void auth_token_hash(const char *token, size_t len, char *hash);
/* The CSRF value bound to a session token (keyed BLAKE2b, hex, 32 chars).
 * OUT: csrf (VG_CSRF_LEN + 1 bytes). */
void auth_csrf_for(const char *token, size_t len, char *csrf);

/* ---- roles and scopes --------------------------------------------------- */

/* 1 if role is one of the eight known roles. */
int auth_role_valid(const char *role);
/* The scopes a role holds (space separated, static string). */
const char *auth_role_scopes(const char *role);

/* 1 if the space-separated granted scopes allow required: an exact Vigil
 * scope ("patient.read"), "*" (all), "<resource>.*", or a SMART scope
 * "patient|user|system/<Type|*>.<perms>" where perms are v2 letters
 * (c r u d s) or v1 "read"/"write"/"*": Vigil ".read" needs r (or s),
 * ".write" needs c or u, ".run" needs c; Type maps patient -> Patient,
 * reading -> Observation, device -> Device. "public" is always allowed;
 * "self" needs only an authenticated principal. */
int auth_scope_allows(const char *granted, const char *required);

/* The row-level rule: 1 if principal p may see patient_id. The single
 * place deciding patient visibility (docs/internals/auth.md):
 *   admin without an organisation (org 0), client with system/ or
 *     patient.read scopes: every patient;
 *   admin of an organisation: the residents of its subtree (household's
 *     organisation), and patients without a household contracted by a
 *     team of the subtree;
 *   patient: self; device: its bound patient; researcher: none;
 *   nurse: patients of tasks assigned to them;
 *   doctor: patients contracted (directly or by household) by a care team
 *     they belong to, plus patients of tasks assigned to them;
 *   clinician: patients referred to their organisation (requested or
 *     later), patients of households of their organisation, patients
 *     contracted by their organisation's teams.
 * For the care roles and an organisation's admin the answer comes from
 * p->visible when loaded, else from a query in t (READ or WRITE
 * transaction, borrowed; NULL = no store at hand: they then see nobody).
 * Thread-safe. */
int auth_patient_visible(struct vg_txn *t, const struct vg_principal *p,
                         int64_t patient_id);
/* 1 if p sees every patient (may use unfiltered lists). */
int auth_sees_all_patients(const struct vg_principal *p);
/* Load p's care-rule visible set into p->visible (allocated in arena a;
 * valid until the arena is freed) with one query in t. A no-op (0) for
 * roles not ruled by the care tables. Returns 0, -VG_ENOMEM (p left
 * unloaded: auth_patient_visible then queries per call), or a store
 * error. */
struct vg_arena;
int auth_visible_load(struct vg_txn *t, struct vg_principal *p,
                      struct vg_arena *a);
/* The same set as a SQL text: one column of patient ids, parameters $1 =
 * user id, $2 = organisation id; NULL for roles not ruled by the care
 * tables. Static. For list queries: "... patient_id IN (<this>)" cannot
 * share numbering, so lists filter rows with auth_patient_visible(). */
const char *auth_visible_sql(const struct vg_principal *p);

/* ---- authentication ----------------------------------------------------- */

/* Resolve a bearer token (or cookie value) to a principal: the token must
 * exist, be unrevoked and unexpired, its user enabled. OUT: *out. Returns
 * 0, -VG_EUNAUTH, or a store error. Thread-safe (a READ transaction). */
int auth_token_principal(struct vg_store *s, const char *token, size_t len,
                         int64_t now_ms, struct vg_principal *out);

/* Parse "Bearer <token>" (case-insensitive scheme, one space or more).
 * OUT: *out_tok / *out_len point into header. 0 or -VG_EUNAUTH. */
int auth_parse_bearer(const char *header, const char **out_tok,
                      size_t *out_len);
/* Find cookie name in a Cookie header. OUT: value pointer and length
 * (borrowed from header). 0 or -VG_ENOTFOUND. */
int auth_parse_cookie(const char *header, const char *name,
                      const char **out_val, size_t *out_len);

/* Parse a login body {"username": "...", "password": "..."}: both
 * strings of 1..VG_LOGIN_FIELD_MAX - 1 bytes without NUL; other members
 * are ignored. OUT: user, pw (VG_LOGIN_FIELD_MAX bytes each). 0, or
 * -VG_EBADJSON / -VG_EINVAL with *out_reason (static string). */
#define VG_LOGIN_FIELD_MAX 256
int auth_login_body(const char *body, size_t len, char *user, char *pw,
                    const char **out_reason);

/* Issue a token for user u in a WRITE job through the app's writer.
 * kind "session" or "api"; scopes "" = the role's; ttl_ms > 0.
 * OUT: token text (VG_TOKEN_LEN + 1), *out_expires_ms, *out_id. */
int auth_token_issue(struct vg_app *app, const struct vg_user *u,
                     const char *kind, const char *scopes, int64_t ttl_ms,
                     char *token, int64_t *out_expires_ms, int64_t *out_id);

/* Check username/password with lockout: a locked or disabled account, an
 * unknown user and a wrong password all give -VG_EUNAUTH after the same
 * argon2 work; failures count towards lockout (lockout_after failures lock
 * for lockout_base_s, doubling per further failure, capped at one hour).
 * OUT: *out (on success). */
int auth_login_check(struct vg_app *app, const char *username,
                     const char *password, struct vg_user *out);

/* Fill principal fields of a user (role scopes, bound patient of a device
 * via the store). t is a READ or WRITE transaction. */
int auth_principal_of(struct vg_txn *t, const struct vg_user *u,
                      struct vg_principal *out);

#endif
