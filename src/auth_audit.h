/* auth_audit.h - the append-only, hash-chained audit log: events are
 * queued without blocking the request path (reads included) and written
 * in batches by one thread through the store writer; stopping writes
 * everything queued. Verification walks the chain. */
#ifndef VG_AUTH_AUDIT_H
#define VG_AUTH_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct vg_writer;
struct vg_auditor;

/* Start the audit thread writing through w (borrowed; must outlive the
 * auditor). flush_ms: longest wait before queued events are written.
 * Returns 0 or -VG_ENOMEM. Stop with audit_stop() BEFORE writer_stop(). */
int audit_start(struct vg_writer *w, int flush_ms, struct vg_auditor **out);

/* Queue one event (copied; id and hashes are assigned when written).
 * Returns at once unless the queue holds VG_AUDIT_QUEUE_MAX events, in
 * which case the caller waits for room: events are never dropped.
 * Thread-safe. NULL a is a no-op. */
#define VG_AUDIT_QUEUE_MAX 100000
void audit_log(struct vg_auditor *a, const struct vg_audit *e);

/* Write every queued event now and wait for the commit. 0 or the writer's
 * error. Thread-safe. */
int audit_flush(struct vg_auditor *a);

/* Write the queue, join the thread, free a. NULL is a no-op. */
void audit_stop(struct vg_auditor *a);

/* Append n events directly in one writer job (CLI use). The events'
 * id/prev_hash/hash are filled in. 0 or the writer's error. */
int audit_append_sync(struct vg_writer *w, struct vg_audit *e, size_t n);

/* The chain hash of e (all fields but id-independent hash itself) after
 * prev (VG_HASH_HEX - 1 hex digits). OUT: out (VG_HASH_HEX bytes). */
void audit_hash(const char *prev, const struct vg_audit *e, char *out);

/* Walk the whole log: ids consecutive from 1, each prev_hash equal to the
 * previous hash, each hash recomputed equal. OUT: *out_n events checked,
 * *out_bad_id the first bad event (0 when intact). Returns 0 when intact,
 * -VG_ECONFLICT when broken, or a store error. */
int audit_verify(struct vg_store *s, int64_t *out_n, int64_t *out_bad_id);

#endif
