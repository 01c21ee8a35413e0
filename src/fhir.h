/* fhir.h - the FHIR R4 (4.0.1) layer: JSON <-> Vigil tables (fhir_map.c),
 * storage of what Vigil has no table for and versions (fhir_store.c), the
 * REST handlers under /fhir (fhir_api.c, named in routes.def) and bulk
 * export (fhir_export.c). docs/fhir.md. */
#ifndef VG_FHIR_H
#define VG_FHIR_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct vg_app;
struct vg_req;
struct vg_writer;
struct vg_buf;

#define FHIR_VERSION "4.0.1"
#define FHIR_ID_MAX 65
#define FHIR_ERR_MAX 256

/* ---- mapping (fhir_map.c; pure: no store, no I/O) ---------------------- */

enum fhir_kind {
  FHIR_K_PATIENT = 1, /* patient table (+ unmodelled elements) */
  FHIR_K_READING,     /* reading table: one row, or two for a BP panel */
  FHIR_K_GENERIC      /* fhir_resource body */
};

/* One resource mapped for writing. Strings point into json (borrowed) or
 * into the struct. */
struct fhir_res {
  enum fhir_kind kind;
  const char *type;                /* static type name */
  char id[FHIR_ID_MAX];            /* given id ("" = none) */
  struct vg_patient patient;       /* FHIR_K_PATIENT */
  json_t *rest;                    /* PATIENT: unmodelled elements; GENERIC:
                                    * the body. Owned; fhir_res_clear() */
  /* FHIR_K_READING: n_raw raw readings in ingest form (value as given) */
  size_t n_raw;
  const char *code[2];             /* LOINC code text */
  double value[2];
  const char *unit[2];
  char time[40];                   /* RFC 3339 with offset */
  const char *source;              /* dedup key part ("fhir" by default) */
  /* Patient compartment: subject reference text ("Patient/12" or
   * "urn:uuid:..."), "" = none. */
  const char *subject;
  /* GENERIC search index */
  char code_token[160];            /* "system|code" of the first coding */
  int64_t ts_ms;                   /* clinical time, INT64_MIN = none */
  /* PATIENT: an existing patient of the same identifier is this one
   * (idempotent import) instead of a conflict. Set by the caller. */
  int reuse_identifier;
  /* READING: with lenient set by the caller, fhir_apply skips a reading
   * the ingest contract rejects and leaves the reason here (the rest is
   * applied); without it the whole call fails. */
  int lenient;
  char reject[FHIR_ERR_MAX];
};

/* The resource types served (static list, in CapabilityStatement order). */
const char *const *fhir_types(size_t *out_n);
/* The static name if type (len bytes) is served, else NULL. */
const char *fhir_type_known(const char *type, size_t len);

/* Validate resource res (structure, required elements, cardinality, value
 * types, code systems Vigil interprets, UCUM units of vital signs) and map
 * it. want_type: the type the URL names (NULL = any served type). OUT:
 * *out (caller fhir_res_clear()s, also on failure), err (FHIR_ERR_MAX
 * bytes: the precise diagnostic). Returns 0, -VG_EINVAL (invalid),
 * -VG_EUNPROC (valid FHIR Vigil cannot take), -VG_ENOTFOUND (type not
 * served). References are checked later, against the store. */
int fhir_map_resource(json_t *res, const char *want_type,
                      struct fhir_res *out, char *err);
void fhir_res_clear(struct fhir_res *r);

/* The reading id of an Observation: "r<patient>.<code>.<ts_ms>.<hash of
 * source>", code "bp" for the panel. OUT: id (FHIR_ID_MAX bytes). */
void fhir_reading_id(int64_t patient_id, const char *code_part, int64_t ts_ms,
                     const char *source, char *id);
/* Parse a reading id. OUT: fields; code_part is "bp" or the code id.
 * 0 or -VG_EINVAL. */
int fhir_reading_id_parse(const char *id, int64_t *out_patient,
                          char *out_code_part, size_t code_len,
                          int64_t *out_ts_ms, uint64_t *out_src_hash);
uint64_t fhir_source_hash(const char *source);

/* JSON of a Patient from its row and unmodelled elements (rest may be
 * NULL). New reference. */
json_t *fhir_patient_json(const struct vg_patient *p, json_t *rest,
                          int version, int64_t updated_ms);
/* JSON of a reading Observation; dbp NULL unless a BP pair (then r is the
 * systolic row). New reference. */
json_t *fhir_reading_json(const struct vg_reading *r,
                          const struct vg_reading *dbp, int version,
                          int64_t updated_ms);
/* The observation-category code of a reading kind ("vital-signs",
 * "laboratory" or "activity"). Static string. */
const char *fhir_reading_category(int code);
/* meta.versionId/lastUpdated and id on a generic body (modifies body). */
void fhir_set_meta(json_t *body, const char *id, int version,
                   int64_t updated_ms);

/* The programme (patient_condition.code) a SNOMED CT concept enrols in, or
 * NULL; and the first concept of a programme (static strings). */
const char *fhir_programme_of(const char *snomed);
const char *fhir_programme_snomed(const char *programme);

/* Care tables served as FHIR types (fhir_care.c): Organization, CareTeam,
 * Group (household), Condition (patient_condition), Flag (care_alert),
 * Task (care_task), ServiceRequest (care_referral), Communication
 * (care_consult), Device (device). Ids are the rows' numeric ids. */
int fhir_care_mapped(const char *type);
/* The JSON of row id of a mapped type, or NULL (not a row id, not found).
 * OUT: *out_pid the patient it belongs to (0: none; Group: its first
 * member), *out_version. New reference. */
json_t *fhir_care_read(struct vg_txn *t, const char *type, const char *id,
                       int64_t *out_pid, int *out_version);
/* Append to arr the JSON of the rows of a mapped type with patient pid (0:
 * any; types without a patient match none when pid > 0), id (0: any),
 * code token tok ("" any; "[system|]code") and, when dated, a date in
 * [lo, hi) (undated rows never match a date range). Condition rows whose
 * programme a Condition already in arr enrolled are left out (a Condition
 * created through FHIR is served once). Returns 0 or -VG_E*. */
int fhir_care_search(struct vg_txn *t, const char *type, int64_t pid,
                     int64_t id, const char *tok, int64_t lo, int64_t hi,
                     int dated, json_t *arr);

/* An OperationOutcome with one issue. New reference. */
json_t *fhir_outcome(const char *severity, const char *code,
                     const char *diagnostics);

/* Parse a FHIR date/dateTime/instant (partial dates allowed) to the range
 * [*out_lo, *out_hi) in UTC ms. 0 or -VG_EINVAL. */
int fhir_date_range(const char *s, int64_t *out_lo, int64_t *out_hi);

/* ---- storing and reading (fhir_store.c) -------------------------------- */

/* Apply n mapped resources as one writer job (all or nothing): creates
 * (or, when ids[i] names an existing Patient/generic resource with
 * update != 0, updates), resolving full_urls ("urn:uuid:..." of earlier
 * entries) in subject references. Readings are validated by the ingest
 * contract (ingest_batch_add) before the job. OUT: out_ids[i]
 * (FHIR_ID_MAX each), out_status[i] (201 created, 200 updated or
 * duplicate reading), err. Returns 0 or -VG_E*. */
int fhir_apply(struct vg_writer *w, struct vg_store *s, struct fhir_res *res,
               const char *const *full_urls, size_t n, char (*out_ids)[FHIR_ID_MAX],
               int *out_status, char *err);

/* ---- CLI helpers -------------------------------------------------------- */

/* Export every served resource (or those of type list types, comma
 * separated, NULL = all) changed at or after since_ms, one NDJSON file per
 * type into dir; de-identified when deid. group_id non-empty: only the
 * members of that Group. OUT: out_manifest (new reference: the Bulk Data
 * manifest "output" array with type, url (file name) and count). Progress
 * 0..100 goes to *progress when not NULL. Returns 0 or -VG_E*. */
int fhir_export_run(struct vg_store *s, const char *dir, const char *types,
                    int64_t since_ms, const char *group_id, int deid,
                    volatile int *progress, volatile int *cancel,
                    json_t **out_manifest);

#endif
