/* care_org.h - the care layer's region and people: the organisation tree
 * (materialised paths, subtree queries), care teams, households, family-
 * doctor contracts, enrolled conditions and follow-up visits, stored with
 * store_sql() in the tables of src/sql/common/003_care_org.sql; a small
 * table-driven REST engine (create, read, optimistic-versioned update,
 * keyset lists) the api_<resource>.c files share; patient merge; the demo
 * region. docs/care.md "Region and people". */
#ifndef VG_CARE_ORG_H
#define VG_CARE_ORG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core_buf.h"
#include "store.h"

struct vg_req;
struct vg_app;

/* ---- fields and resources ---------------------------------------------- */

enum care_ftype {
  CF_INT,  /* integer (ids: positive) */
  CF_REAL, /* number within [lo, hi] */
  CF_TEXT, /* string up to max_len bytes, optionally one of oneof[] */
  CF_DATE, /* "YYYY-MM-DD" */
  CF_TIME, /* RFC 3339 or epoch ms in; RFC 3339 UTC out; stored as ms */
  CF_BOOL  /* true/false in and out; stored as 0/1 */
};

#define CF_REQUIRED 0x1u /* must be given on create */
#define CF_FIXED 0x2u    /* set on create only; an update may not change it */
#define CF_INTERNAL 0x4u /* never read from a body (set by code) */

/* One column of a resource, in the order of its SQL placeholders. */
struct care_field {
  const char *name;          /* JSON member and column meaning */
  enum care_ftype type;
  unsigned flags;            /* CF_* */
  const char *def;           /* create default as text ("" allowed); NULL =
                              * SQL NULL; for CF_INT/CF_BOOL "0" etc. */
  const char *const *oneof;  /* CF_TEXT: NULL-terminated allowed values */
  double lo, hi;             /* CF_REAL range (inclusive) */
  size_t max_len;            /* CF_TEXT: bytes (0 = 256) */
};

/* A REST resource over one table. SQL contracts (n = n_fields):
 *   sql_insert: VALUES $1..$n in field order, $n+1 = now ms (created and
 *               updated), RETURNING id;
 *   sql_get:    SELECT the n field columns, then id, version, created_ms,
 *               updated_ms  WHERE id = $1;
 *   sql_update: SET the n columns = $1..$n, version = version + 1,
 *               updated_ms = $n+1  WHERE id = $n+2 AND version = $n+3.
 * Hooks (optional) run in the writer job, after the values are parsed:
 *   check(r, t, vals, id): cross-field rules and computed values (id 0 on
 *     create); vg_fail and return its code to refuse;
 *   after(r, t, body, id): child rows (members) from the body;
 *   extra(t, id, out): appends ,"member":... to the single-row JSON;
 *   row_extra(cols, out): appends computed members to every row's JSON. */
struct care_resource {
  const char *name;  /* "organization": used in messages */
  const char *path;  /* Location format with one %lld */
  const struct care_field *fields;
  size_t n_fields;
  const char *sql_insert, *sql_get, *sql_update;
  int (*check)(struct vg_req *r, struct vg_txn *t, struct vg_val *vals,
               int64_t id);
  int (*after)(struct vg_req *r, struct vg_txn *t, json_t *body, int64_t id);
  int (*extra)(struct vg_txn *t, int64_t id, struct vg_buf *out);
  void (*row_extra)(const struct vg_val *cols, struct vg_buf *out);
};

#define CARE_FIELDS_MAX 24

/* Index of field name in res, or -1. */
int care_field_index(const struct care_resource *res, const char *name);

/* Append one row (columns as sql_get returns them) as a JSON object. */
int care_row_json(const struct care_resource *res, const struct vg_val *cols,
                  size_t n_cols, struct vg_buf *out);

/* POST: parse r->body, insert (defaults, check, after hooks) through the
 * writer, answer 201 + Location + the stored row. preset: values for
 * CF_INTERNAL/path fields as {name, value} via care_preset (may be NULL).
 * OUT: *out_id (may be NULL). Returns 0 or the vg_fail code. */
struct care_preset {
  const char *name;
  struct vg_val v;
};
int care_res_create(struct vg_req *r, const struct care_resource *res,
                    const struct care_preset *preset, size_t n_preset,
                    int64_t *out_id);

/* GET one row into r->out; -VG_ENOTFOUND (vg_fail'd) if absent. guard
 * (may be NULL) sees the row first and returns nonzero (vg_fail'd) to
 * refuse it (visibility, owner). */
int care_res_get(struct vg_req *r, const struct care_resource *res,
                 int64_t id,
                 int (*guard)(struct vg_req *r, const struct vg_val *cols));

/* Load one row's columns (text copied into the request arena). OUT: cols
 * (n_fields + 4 entries). 0 or -VG_ENOTFOUND / store error (not failed). */
int care_res_load(struct vg_req *r, struct vg_txn *t,
                  const struct care_resource *res, int64_t id,
                  struct vg_val *cols);

/* PUT: optimistic update. The expected version comes from If-Match
 * ("3", W/"3" or 3) or the body's "version"; neither -> 412. Members of the
 * body overwrite fields (CF_FIXED ones must be unchanged); then check and
 * after hooks; UPDATE ... WHERE version matches. A stale If-Match -> 412, a
 * stale body version -> 409 (both name the current version). Answers the
 * new row. guard(r, cols) (may be NULL) sees the current row first (e.g.
 * visibility) and returns nonzero (vg_fail'd) to refuse. */
int care_res_update(struct vg_req *r, const struct care_resource *res,
                    int64_t id,
                    int (*guard)(struct vg_req *r, const struct vg_val *cols));

/* A keyset list: runs sql (columns as sql_get) with params, writes
 * {"<key>":[rows],"next_cursor":"<last id>"|null}. The SQL must order by id
 * and LIMIT by the last parameter; limit is that value. filter(r, cols)
 * (may be NULL) returning 0 skips a row (visibility). */
int care_res_list(struct vg_req *r, const struct care_resource *res,
                  const char *key, const char *sql,
                  const struct vg_val *params, size_t n_params, size_t limit,
                  int (*filter)(struct vg_req *r, const struct vg_val *cols));

/* Optional integer/text query filters for lists: 0 when absent; vg_fail on
 * a malformed value. */
int care_query_id(struct vg_req *r, const char *key, int64_t *out);
int care_query_oneof(struct vg_req *r, const char *key,
                     const char *const *oneof, const char **out);

/* Visibility of list rows, in SQL: compose parts[0] SET parts[1] SET ...
 * parts[n_parts - 1] where SET is the caller's visible patients as one
 * column (auth_visible_sql: $1 user id, $2 organisation id). The SQL must
 * guard the SET by "$3 = 1 OR": $3 is 1 when the caller sees every patient
 * (SET is then a constant that matches nobody). The statement's own
 * parameters start at $4. OUT: *out_sql (request arena), vals[0..2]. 0, or
 * vg_fail'd -VG_EFORBIDDEN when the caller's rows cannot be listed. */
int care_list_scope(struct vg_req *r, const char *const *parts,
                    size_t n_parts, const char **out_sql,
                    struct vg_val *vals);

/* 1 if the caller sees at least one member of household id (or every
 * patient); 0 otherwise, also for a household without members. */
int care_household_visible(struct vg_req *r, struct vg_txn *t, int64_t id);

/* ---- dates ------------------------------------------------------------- */

/* Add months to a "YYYY-MM-DD" date (day clamped to the month's length).
 * OUT: out (11 bytes). 0 or -VG_EINVAL. */
int care_date_add_months(const char *date, int months, char *out);
/* Add days. OUT: out (11 bytes). 0 or -VG_EINVAL. */
int care_date_add_days(const char *date, int days, char *out);
/* "YYYY-MM-DD" of ms (UTC). OUT: out (11 bytes). */
void care_date_of_ms(int64_t ms, char *out);

/* ---- the organisation tree --------------------------------------------- */

/* The materialised path of org id ("/1/4/12/"). OUT: out (size bytes).
 * 0, -VG_ENOTFOUND or a store error. */
int care_org_path(struct vg_txn *t, int64_t id, char *out, size_t size);

/* ---- resources (definitions in care_org.c) ----------------------------- */

extern const struct care_resource care_res_organization;
extern const struct care_resource care_res_team;
extern const struct care_resource care_res_household;
extern const struct care_resource care_res_contract;
extern const struct care_resource care_res_condition;
extern const struct care_resource care_res_visit;

extern const char *const care_condition_codes[]; /* NULL-terminated */

/* ---- patients ---------------------------------------------------------- */

/* Merge patient from into patient into in a WRITE transaction: readings
 * (duplicates of an existing key are dropped), devices, visits, contracts,
 * household membership (if into has none), conditions (codes into lacks;
 * the others are dropped, keeping into's) and principals move to into;
 * a patient_merge row records it. from stays (its history now empty).
 * OUT: *out_moved_readings. -VG_ENOTFOUND, -VG_EINVAL (same id or already
 * merged), store errors. */
int care_patient_merge(struct vg_txn *t, int64_t from, int64_t into,
                       int64_t by_user_id, int64_t *out_moved_readings);

/* ---- demo -------------------------------------------------------------- */

/* Seed the demo region over the patients already in the store (demo.c):
 * 1 county hospital, 3 community health centres, 10 village clinics,
 * 6 teams, ~300 households, contracts, conditions from each patient's
 * readings (BP -> hypertension, glucose/CGM -> t2d, low SpO2 -> copd) and
 * quarterly visits. Does nothing when organisations exist. 0 or error. */
int care_org_demo_seed(struct vg_app *app);

#endif
