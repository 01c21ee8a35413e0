/* store.h - Vigil's storage interface: a narrow transactional vtable
 * (struct vg_store_ops) reached only through the store_* wrappers below.
 * Backends: "sqlite" (store_sqlite.c) and, later, "pg" (store_pg.c); one is
 * chosen once at startup from the config. tests/store/ runs one conformance
 * suite against every backend.
 *
 * Threading: a vg_store is shared by all threads. A vg_txn belongs to one
 * thread. Read transactions come from a pool of read-only connections;
 * write transactions are serialised (one writer; see store_writer.h for
 * group commit). */
#ifndef VG_STORE_H
#define VG_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct vg_config;
struct vg_store;
struct vg_txn;

enum vg_txn_mode { VG_TXN_READ = 0, VG_TXN_WRITE = 1 };

/* Backend capabilities (vg_store_ops.caps). */
#define VG_STORE_CAP_SAVEPOINT 0x1u /* nested rollback inside a write txn */
#define VG_STORE_CAP_NOTIFY 0x2u    /* cross-node notifications (pg) */

/* ---- value types (embeddable; all fields public) ---------------------- */

#define VG_ID_MAX 64
#define VG_NAME_MAX 128

struct vg_patient {
  int64_t id;                       /* assigned by the store on create */
  char identifier[VG_ID_MAX];       /* external id (MRN, national id); "" = none; unique */
  char name[VG_NAME_MAX];
  char sex;                         /* 'M', 'F', 'O' or 'U' */
  char birth_date[11];              /* "YYYY-MM-DD" or "" */
  char tz[48];                      /* IANA zone, e.g. "Asia/Shanghai" */
  int64_t created_ms, updated_ms;
};

struct vg_device {
  int64_t id;                       /* assigned by the store on create */
  char serial[VG_ID_MAX];           /* unique */
  char kind[32];                    /* "bp_cuff", "glucometer", "cgm", ... */
  int64_t patient_id;               /* bound patient, 0 = unbound */
  int64_t created_ms, last_seen_ms;
};

/* One reading. Strings are borrowed: valid for the call (insert) or for the
 * callback (query). */
struct vg_reading {
  int64_t patient_id;
  int64_t ts_ms;        /* UTC */
  double value;         /* canonical unit of the code */
  int code;             /* enum vg_code_id */
  int16_t tz_offset_min;/* device's UTC offset, VG_TZ_UNKNOWN if not given */
  const char *source;   /* device serial or client name; part of the key */
  const char *unit;     /* unit as received (may be "" = canonical) */
};

/* Outcome per reading of store_readings_insert. */
enum vg_insert_status { VG_INS_ACCEPTED = 0, VG_INS_DUPLICATE = 1 };

/* Range query over one patient. Rows come in key order (code, ts_ms,
 * source). The keyset cursor continues strictly after (after_code,
 * after_ts_ms, after_source) when has_cursor. */
struct vg_reading_query {
  int64_t patient_id;
  int code;              /* 0 = every code */
  int64_t from_ms;       /* inclusive */
  int64_t to_ms;         /* exclusive */
  size_t limit;          /* 0 = no limit */
  int has_cursor;
  int after_code;
  int64_t after_ts_ms;
  const char *after_source;
};

/* Aggregate over one time bucket [start_ms, start_ms + bucket_ms). */
struct vg_bucket {
  int code;
  int64_t start_ms;
  double min, mean, max;
  int64_t n;
};

/* Callbacks return 0 to continue, nonzero to stop (that value is returned
 * by the query function). */
typedef int (*vg_patient_cb)(void *ctx, const struct vg_patient *p);
typedef int (*vg_device_cb)(void *ctx, const struct vg_device *d);
typedef int (*vg_reading_cb)(void *ctx, const struct vg_reading *r);
typedef int (*vg_bucket_cb)(void *ctx, const struct vg_bucket *b);

/* ---- principals, tokens and audit (version 2) ------------------------- */

#define VG_ROLE_MAX 16
#define VG_SCOPES_MAX 512
#define VG_HASH_HEX 65 /* 64 hex digits + NUL */

/* A principal: person, device or API client. Roles: "admin", "clinician",
 * "doctor", "nurse", "patient", "researcher", "device", "client". */
struct vg_user {
  int64_t id;                  /* assigned by the store on create */
  char username[VG_NAME_MAX];  /* unique */
  char role[VG_ROLE_MAX];
  int64_t org_id;              /* organisation (0 = none yet) */
  int64_t patient_id;          /* role patient: own record; 0 = none */
  int64_t device_id;           /* role device: the device; 0 = none */
  char pw_hash[128];           /* argon2id encoded; "" = no password login */
  char scopes[VG_SCOPES_MAX];  /* granted scopes (clients), space separated */
  int disabled;
  int failed_logins;           /* consecutive; reset on success */
  int64_t locked_until_ms;
  int64_t created_ms, updated_ms;
};

/* A bearer token, known to the store only by its hash. */
struct vg_token {
  int64_t id;                  /* assigned by the store on create */
  char hash[VG_HASH_HEX];      /* hex BLAKE2b-256 of the token; unique */
  int64_t user_id;
  char kind[16];               /* "session" (login) or "api" */
  char scopes[VG_SCOPES_MAX];  /* "" = the role's scopes */
  int64_t created_ms, expires_ms;
  int64_t revoked_ms;          /* 0 = live */
};

/* One audit event; id is the position in the hash chain (1, 2, ...). */
struct vg_audit {
  int64_t id;
  int64_t ts_ms;
  int64_t user_id;             /* 0 = anonymous */
  char username[VG_NAME_MAX];
  char role[VG_ROLE_MAX];
  char action[32];             /* "read", "create", "login", ... */
  char resource[128];          /* "GET /api/v1/patients/{id}", ... */
  int64_t patient_id;          /* 0 = none */
  int outcome;                 /* HTTP status */
  char source[48];             /* client address */
  char request_id[24];
  char prev_hash[VG_HASH_HEX];
  char hash[VG_HASH_HEX];
};

/* Filters of store_audit_list; 0 = no filter. Rows come in id order. */
struct vg_audit_query {
  int64_t after_id;
  int64_t patient_id, user_id;
  int64_t from_ms, to_ms;      /* to_ms 0 = no upper bound */
  size_t limit;                /* 0 = no limit */
};

typedef int (*vg_audit_cb)(void *ctx, const struct vg_audit *e);

/* ---- portable parameterised SQL (store_sql) ---------------------------- */

enum vg_val_type { VG_VAL_NULL = 0, VG_VAL_INT, VG_VAL_REAL, VG_VAL_TEXT };

/* A bound parameter or a result column. Text is borrowed: for parameters,
 * for the call; for columns, for the callback. len counts bytes. */
struct vg_val {
  enum vg_val_type type;
  int64_t i;
  double d;
  const char *s;
  size_t len;
};

/* Parameter constructors; functions, so each argument is evaluated once. */
static inline struct vg_val vg_val_int(int64_t v)
{
  return (struct vg_val){VG_VAL_INT, v, 0, NULL, 0};
}
static inline struct vg_val vg_val_real(double v)
{
  return (struct vg_val){VG_VAL_REAL, 0, v, NULL, 0};
}
/* s must be NUL-terminated; NULL gives SQL NULL. */
static inline struct vg_val vg_val_text(const char *s)
{
  if (!s)
    return (struct vg_val){VG_VAL_NULL, 0, 0, NULL, 0};
  return (struct vg_val){VG_VAL_TEXT, 0, 0, s, strlen(s)};
}
#define VG_INT(v) vg_val_int(v)
#define VG_REAL(v) vg_val_real(v)
#define VG_TEXT(str) vg_val_text(str)
#define VG_NULLV ((struct vg_val){VG_VAL_NULL, 0, 0, NULL, 0})

/* One result row; return 0 to go on, nonzero to stop. */
typedef int (*vg_row_cb)(void *ctx, const struct vg_val *cols, size_t n_cols);

/* ---- the backend vtable ------------------------------------------------ */

struct vg_store_ops {
  const char *name;
  int version;   /* append-only; store.c checks it */
  unsigned caps; /* VG_STORE_CAP_* */
  int (*open)(struct vg_store *s, const struct vg_config *cfg);
  void (*close)(struct vg_store *s);
  int (*migrate)(struct vg_store *s, int *out_applied);
  int (*begin)(struct vg_store *s, enum vg_txn_mode mode, struct vg_txn **out);
  int (*commit)(struct vg_txn *t);
  void (*rollback)(struct vg_txn *t);
  int (*savepoint)(struct vg_txn *t);   /* optional (CAP_SAVEPOINT) */
  int (*release)(struct vg_txn *t);     /* optional */
  int (*rollback_to)(struct vg_txn *t); /* optional */

  int (*patient_create)(struct vg_txn *t, struct vg_patient *p);
  int (*patient_get)(struct vg_txn *t, int64_t id, struct vg_patient *out);
  int (*patient_list)(struct vg_txn *t, int64_t after_id, size_t limit,
                      vg_patient_cb cb, void *ctx);
  int (*device_create)(struct vg_txn *t, struct vg_device *d);
  int (*device_get)(struct vg_txn *t, int64_t id, struct vg_device *out);
  int (*device_by_serial)(struct vg_txn *t, const char *serial,
                          struct vg_device *out);
  int (*device_list)(struct vg_txn *t, int64_t after_id, size_t limit,
                     vg_device_cb cb, void *ctx);
  int (*readings_insert)(struct vg_txn *t, const struct vg_reading *r,
                         size_t n, unsigned char *out_status);
  int (*readings_query)(struct vg_txn *t, const struct vg_reading_query *q,
                        vg_reading_cb cb, void *ctx);
  int (*readings_buckets)(struct vg_txn *t, const struct vg_reading_query *q,
                          int64_t bucket_ms, vg_bucket_cb cb, void *ctx);
  /* version 2 */
  int (*user_create)(struct vg_txn *t, struct vg_user *u);
  int (*user_get)(struct vg_txn *t, int64_t id, struct vg_user *out);
  int (*user_by_name)(struct vg_txn *t, const char *username,
                      struct vg_user *out);
  int (*user_update)(struct vg_txn *t, const struct vg_user *u);
  int (*token_create)(struct vg_txn *t, struct vg_token *k);
  int (*token_by_hash)(struct vg_txn *t, const char *hash,
                       struct vg_token *out);
  int (*token_revoke)(struct vg_txn *t, int64_t id, int64_t now_ms);
  int (*audit_tail)(struct vg_txn *t, struct vg_audit *out);
  int (*audit_append)(struct vg_txn *t, const struct vg_audit *e);
  int (*audit_list)(struct vg_txn *t, const struct vg_audit_query *q,
                    vg_audit_cb cb, void *ctx);
  /* version 3 */
  int (*sql)(struct vg_txn *t, const char *sql, const struct vg_val *params,
             size_t n_params, vg_row_cb cb, void *ctx, int64_t *out_changes);
};

/* Every backend handle starts with this. */
struct vg_store {
  const struct vg_store_ops *ops;
  void *ctx; /* backend private */
};

/* Every backend transaction starts with this. */
struct vg_txn {
  struct vg_store *store;
  enum vg_txn_mode mode;
};

/* ---- wrappers: the only way callers reach a backend ------------------- */

/* Open the backend named by cfg (pg if cfg->pg is set, else sqlite at
 * cfg->db), and run pending migrations. Caller closes with store_close().
 * Returns 0, -VG_ESTORE or -VG_EINVAL. */
int store_open(const struct vg_config *cfg, struct vg_store **out);
void store_close(struct vg_store *s);
const char *store_backend_name(const struct vg_store *s);

/* Begin a transaction. READ may run concurrently; WRITE blocks until the
 * single writer slot is free. Ends with exactly one of commit/rollback,
 * which also frees t. */
int store_begin(struct vg_store *s, enum vg_txn_mode mode, struct vg_txn **out);
int store_commit(struct vg_txn *t);     /* on failure t is rolled back and freed */
void store_rollback(struct vg_txn *t);
int store_savepoint(struct vg_txn *t);
int store_release(struct vg_txn *t);
int store_rollback_to(struct vg_txn *t);

/* Create: p->id and timestamps are set on success. -VG_ECONFLICT if the
 * identifier (patient) or serial (device) exists. Get: -VG_ENOTFOUND. */
int store_patient_create(struct vg_txn *t, struct vg_patient *p);
int store_patient_get(struct vg_txn *t, int64_t id, struct vg_patient *out);
/* Patients with id > after_id, ascending, at most limit (0 = all). */
int store_patient_list(struct vg_txn *t, int64_t after_id, size_t limit,
                       vg_patient_cb cb, void *ctx);
int store_device_create(struct vg_txn *t, struct vg_device *d);
int store_device_get(struct vg_txn *t, int64_t id, struct vg_device *out);
int store_device_by_serial(struct vg_txn *t, const char *serial,
                           struct vg_device *out);
int store_device_list(struct vg_txn *t, int64_t after_id, size_t limit,
                      vg_device_cb cb, void *ctx);

/* Insert n readings in a WRITE transaction; existing keys (patient, code,
 * ts_ms, source) are left unchanged. OUT: out_status[i] is
 * VG_INS_ACCEPTED or VG_INS_DUPLICATE. Readings must be valid already:
 * the store does not check ranges or that the patient exists. */
int store_readings_insert(struct vg_txn *t, const struct vg_reading *r,
                          size_t n, unsigned char *out_status);
int store_readings_query(struct vg_txn *t, const struct vg_reading_query *q,
                         vg_reading_cb cb, void *ctx);
/* Buckets of bucket_ms aligned to the epoch, per code, in (code, start)
 * order; q->limit bounds the number of buckets, cursor fields ignored. */
int store_readings_buckets(struct vg_txn *t, const struct vg_reading_query *q,
                           int64_t bucket_ms, vg_bucket_cb cb, void *ctx);

/* Test hook: make the nth wrapper call from now fail with -VG_ESTORE. */
void store_fail_nth(long n);

/* ---- additions (appended; existing declarations above are unchanged) -- */

/* vg_store_ops.version this build knows. store_open() refuses a backend
 * with a newer version, and the wrappers give defaults for the methods a
 * backend of an older version lacks. */
#define VG_STORE_OPS_VERSION 3

/* The backend's VG_STORE_CAP_* bits (e.g. test VG_STORE_CAP_SAVEPOINT
 * before relying on store_savepoint()). */
unsigned store_caps(const struct vg_store *s);

struct vg_migration;
/* For backends: the migration to apply after number `after` (0 = first)
 * for dialect ("sqlite", "pg"): the lowest number > after among "common"
 * and dialect files, the dialect file winning on equal numbers. Returns a
 * pointer into vg_migrations[] (static), or NULL when none is left. */
const struct vg_migration *store_migration_next(const char *dialect,
                                                int after);

/* ---- principals, tokens, audit (version 2) ---------------------------- */

/* Create a principal: u->id and timestamps set on success. -VG_ECONFLICT
 * if the username exists, -VG_EINVAL for an unknown role. */
int store_user_create(struct vg_txn *t, struct vg_user *u);
/* By id or by username; -VG_ENOTFOUND. */
int store_user_get(struct vg_txn *t, int64_t id, struct vg_user *out);
int store_user_by_name(struct vg_txn *t, const char *username,
                       struct vg_user *out);
/* Write every mutable field of u (matched by u->id): role, org_id,
 * patient_id, device_id, pw_hash, scopes, disabled, failed_logins,
 * locked_until_ms; updated_ms becomes now. -VG_ENOTFOUND. */
int store_user_update(struct vg_txn *t, const struct vg_user *u);
/* Create a token row (k->hash, user_id, kind, scopes, expires_ms set by the
 * caller): k->id and created_ms set on success. -VG_ECONFLICT on a
 * duplicate hash, -VG_ENOTFOUND for an unknown user. */
int store_token_create(struct vg_txn *t, struct vg_token *k);
/* The token with this hex hash (revoked or expired ones too: the caller
 * checks). -VG_ENOTFOUND. */
int store_token_by_hash(struct vg_txn *t, const char *hash,
                        struct vg_token *out);
/* Mark token id revoked at now_ms; -VG_ENOTFOUND if no live token has it. */
int store_token_revoke(struct vg_txn *t, int64_t id, int64_t now_ms);
/* The last audit event (highest id), or -VG_ENOTFOUND when the log is
 * empty. In a WRITE transaction it also serialises appenders across nodes
 * (pg: an advisory transaction lock) until the transaction ends. */
int store_audit_tail(struct vg_txn *t, struct vg_audit *out);
/* Append e as given (id, hashes computed by the caller, auth_audit.c);
 * -VG_ECONFLICT if e->id exists. WRITE only. */
int store_audit_append(struct vg_txn *t, const struct vg_audit *e);
/* Events matching q in id order (callback protocol as above). */
int store_audit_list(struct vg_txn *t, const struct vg_audit_query *q,
                     vg_audit_cb cb, void *ctx);

/* Run one statement of portable SQL (the subset SQLite and PostgreSQL
 * share) with $1..$N placeholders bound to params; never build SQL from
 * values. Rows go to cb (may be NULL). Integers come back as VG_VAL_INT,
 * floating point as VG_VAL_REAL, everything else as text. OUT:
 * *out_changes (may be NULL) the rows a write changed. A write needs a
 * WRITE transaction. Returns 0, the callback's nonzero value, or
 * -VG_ECONFLICT (unique key), -VG_EINVAL (check / not null), -VG_ENOTFOUND
 * (foreign key), -VG_ESTORE. Statements are prepared once per connection
 * and cached by their text: pass string constants. */
int store_sql(struct vg_txn *t, const char *sql, const struct vg_val *params,
              size_t n_params, vg_row_cb cb, void *ctx, int64_t *out_changes);

#endif
