/* ingest.h - the ingest contract (DESIGN.md §7), independent of transport:
 * validate raw readings, then commit them through the writer, idempotently.
 * HTTP, MQTT, HL7 v2 and FHIR all come through here. */
#ifndef VG_INGEST_H
#define VG_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "ingest_bulk.h"

struct vg_arena;
struct vg_buf;
struct vg_writer;

struct vg_reject {
  size_t index;       /* position in the body */
  const char *reason; /* arena string, e.g. "unknown code 'xyz'" */
};

struct vg_ingest_result {
  size_t accepted, duplicate;
  size_t n_rejected;
  const struct vg_reject *rejected; /* in index order; arena memory */
};

struct vg_ingest_opts {
  int64_t now_ms;          /* clock for the future-time check */
  int64_t future_ms;       /* allowed skew into the future (default 10 min) */
  const char *default_source; /* used when an item has no "source" ("api") */
  int64_t only_patient;    /* >0: reject readings for any other patient
                              (device tokens, MQTT topic bindings) */
};

struct vg_ingest_batch;

/* New batch; all memory comes from arena a (borrowed, must outlive the
 * batch). Returns NULL when the arena is exhausted. */
struct vg_ingest_batch *ingest_batch_new(struct vg_arena *a,
                                         const struct vg_ingest_opts *opts);

/* Validate one raw reading: code known (name, LOINC or alias), unit
 * accepted, value finite and in range after conversion, time valid and not
 * beyond now + future_ms, patient id well formed. A bad reading is recorded
 * as a reject with its reason; it never fails the call. Returns 0, or
 * -VG_ENOMEM / -VG_ETOOBIG when the arena is full. Suits vg_bulk_item_cb. */
int ingest_batch_add(struct vg_ingest_batch *b, const struct vg_raw_reading *raw);

/* Convenience: a vg_bulk_item_cb that calls ingest_batch_add(ctx, item). */
int ingest_batch_item_cb(void *ctx, const struct vg_raw_reading *item);

/* Number of readings added so far (valid + rejected). */
size_t ingest_batch_count(const struct vg_ingest_batch *b);

/* Commit the valid readings through the writer (w may be NULL when the
 * batch has no valid readings, e.g. in tests and fuzzing). Readings for
 * patients that
 * do not exist become rejects ("unknown patient 123"). With atomic != 0,
 * any reject means nothing is stored and -VG_EUNPROC is returned (out still
 * lists the rejects; validation rejects are found before the store is
 * touched, so patient checks are then skipped). OUT: *out. Returns 0 once durably committed, or the
 * writer's error (-VG_EBUSY, -VG_ESTORE, ...), in which case nothing of
 * this batch was stored. */
int ingest_batch_commit(struct vg_ingest_batch *b, struct vg_writer *w,
                        int atomic, struct vg_ingest_result *out);

/* Commit n batches (non-atomic, as ingest_batch_commit with atomic 0) in
 * ONE writer job, so many small batches (one MQTT message each) cost one
 * job instead of n. Each batch keeps its own result: OUT: out[i] and
 * out_rc[i] (arrays of n, caller memory) are exactly what
 * ingest_batch_commit(b[i], w, 0, &out[i]) would give, batches with no
 * valid readings never touching the writer. The job is all or nothing: a
 * store error in any batch rolls back every batch in it, each then getting
 * that error in out_rc[i]. Returns the writer's result for the shared job
 * (0 when no batch needed it). Batches may not be shared with other
 * threads during the call; their arenas provide the job's memory. */
int ingest_batches_commit(struct vg_ingest_batch *const *b, size_t n,
                          struct vg_writer *w, struct vg_ingest_result *out,
                          int *out_rc);

/* {"accepted":n,"duplicate":n,"rejected":[{"index":i,"reason":"..."}]} */
int ingest_result_json(const struct vg_ingest_result *r, struct vg_buf *out);

#endif
