/* store_writer.h - the single writer thread: every write to the store runs
 * here, batched into group commits (many jobs, one transaction, one fsync).
 * A job's caller blocks until its group is durably committed. */
#ifndef VG_STORE_WRITER_H
#define VG_STORE_WRITER_H

#include <stddef.h>
#include <stdint.h>

struct vg_store;
struct vg_txn;
struct vg_writer;

struct vg_writer_opts {
  size_t max_rows;    /* close a group at this many rows (default 20000) */
  int max_wait_ms;    /* or after waiting this long for more (default 4) */
  size_t queue_rows;  /* rows queued beyond this: writer_exec gives -VG_EBUSY */
};

/* A job: runs on the writer thread inside a savepoint of the group's WRITE
 * transaction. Return 0 to keep its changes, or a negative -VG_E* to roll
 * back just this job (the rest of the group still commits). */
typedef int (*vg_write_fn)(struct vg_txn *t, void *ctx);

/* Start the writer thread over s (borrowed; must outlive the writer).
 * Caller stops it with writer_stop(). Returns 0 or -VG_ENOMEM. */
int writer_start(struct vg_store *s, const struct vg_writer_opts *opts,
                 struct vg_writer **out);

/* Run fn(t, ctx) in the next group and wait until that group commits.
 * rows is the job's size, for batching and back-pressure. Returns:
 *   0            fn succeeded and its changes are committed (durable);
 *   fn's error   fn failed; its changes were rolled back;
 *   -VG_EBUSY    the queue is full (caller answers 503 + Retry-After);
 *   -VG_ESTORE   the group's commit failed; nothing of fn was kept;
 *   -VG_EUNAVAIL the writer is stopping.
 * Thread-safe; ctx is borrowed until writer_exec returns. */
int writer_exec(struct vg_writer *w, size_t rows, vg_write_fn fn, void *ctx);

struct vg_writer_stats {
  uint64_t groups, jobs, rows, failed_groups;
  size_t queued_rows; /* now */
};
void writer_stats(struct vg_writer *w, struct vg_writer_stats *out);

/* Finish queued jobs, commit, join the thread and free w. NULL is a no-op. */
void writer_stop(struct vg_writer *w);

#endif
