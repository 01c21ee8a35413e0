/* store_writer.c - the single writer thread and its group commit: queued
 * jobs run one after another, each in a savepoint, inside one WRITE
 * transaction; every waiter is woken after that transaction commits. */
#include "store_writer.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "core_alloc.h"
#include "core_errors.h"
#include "core_log.h"
#include "core_time.h"
#include "store.h"

/* Defaults (store_writer.h; config.def commit_rows, commit_ms, queue_rows). */
#define DEF_MAX_ROWS 20000
#define DEF_MAX_WAIT_MS 4
#define DEF_QUEUE_ROWS 400000

/* A job lives on its caller's stack until done is set. */
struct job {
  vg_write_fn fn;
  void *ctx;
  size_t rows;
  int rc;
  int done;
  struct job *next;
};

struct vg_writer {
  struct vg_store *store;
  struct vg_writer_opts opts;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t work; /* a job was queued, or stop was asked */
  pthread_cond_t done; /* a group finished: waiters check their job */
  struct job *head, *tail;
  size_t queued_rows; /* queued + running, until the caller is woken */
  int stopping;
  int callers;        /* threads inside writer_exec: stop waits for them */
  int64_t commit_ns; /* recent commit duration (moving average) */
  struct vg_writer_stats stats;
};

/* ==== the writer thread ================================================= */

static void deadline_after(struct timespec *ts, int64_t ns)
{
  clock_gettime(CLOCK_MONOTONIC, ts);
  ts->tv_sec += (time_t)(ns / 1000000000);
  ts->tv_nsec += (long)(ns % 1000000000);
  if (ts->tv_nsec >= 1000000000L) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000L;
  }
}

/* Next job for the open group, or NULL when the group should close: none
 * arrived in time (none waited for when stopping). Called with the lock
 * held.
 * How long to wait: waiting delays every job already in the group, and
 * pays off only by saving a commit. So the writer waits at most as long as
 * a commit recently took, and never more than max_wait_ms. With WAL and
 * synchronous=NORMAL a commit costs tens of microseconds and groups form
 * from what queues up while the previous group runs; with FULL (an fsync
 * per commit) the wait grows toward max_wait_ms. A fixed wait would stall
 * producers that are all blocked on the open group. */
static struct job *next_job(struct vg_writer *w)
{
  struct timespec until;
  struct job *j;
  int timed_out = 0;
  int64_t wait_ns = (int64_t)w->opts.max_wait_ms * 1000000;
  if (w->commit_ns < wait_ns)
    wait_ns = w->commit_ns;
  if (!w->head && !w->stopping && wait_ns > 0) {
    deadline_after(&until, wait_ns);
    while (!w->head && !w->stopping && !timed_out)
      timed_out = pthread_cond_timedwait(&w->work, &w->lock, &until) != 0;
  }
  j = w->head;
  if (j) {
    w->head = j->next;
    if (!w->head)
      w->tail = NULL;
    j->next = NULL;
  }
  return j;
}

/* Run one job inside its savepoint. Returns 0 if the group can go on, or
 * -VG_ESTORE if the transaction is no longer usable. */
static int run_job(struct vg_txn *t, struct job *j, int savepoints)
{
  int rc;
  if (!savepoints) { /* one job per transaction; its error rolls it back */
    j->rc = j->fn(t, j->ctx);
    return 0;
  }
  rc = store_savepoint(t);
  if (rc < 0) {
    j->rc = -VG_ESTORE;
    return rc;
  }
  j->rc = j->fn(t, j->ctx);
  if (j->rc != 0) {
    if (j->rc > 0) /* the contract asks for -VG_E*; keep it an error */
      j->rc = -VG_EINTERNAL;
    rc = store_rollback_to(t);
  } else {
    rc = store_release(t);
  }
  return rc;
}

/* Wake the callers of a finished group. commit_rc < 0 overrides every
 * job's result: nothing of the group was kept. */
static void finish_group(struct vg_writer *w, struct job *group, int commit_rc,
                         size_t rows, uint64_t n_jobs)
{
  struct job *j, *next;
  pthread_mutex_lock(&w->lock);
  for (j = group; j; j = next) {
    next = j->next;
    if (commit_rc < 0)
      j->rc = -VG_ESTORE;
    w->queued_rows -= j->rows;
    j->done = 1; /* after this the caller may free j */
  }
  w->stats.groups++;
  w->stats.jobs += n_jobs;
  w->stats.rows += rows;
  if (commit_rc < 0)
    w->stats.failed_groups++;
  pthread_cond_broadcast(&w->done);
  pthread_mutex_unlock(&w->lock);
}

static void *writer_main(void *arg)
{
  struct vg_writer *w = arg;
  int savepoints = (store_caps(w->store) & VG_STORE_CAP_SAVEPOINT) != 0;

  pthread_mutex_lock(&w->lock);
  for (;;) {
    struct vg_txn *t = NULL;
    struct job *j, *group = NULL, *last = NULL;
    size_t rows = 0;
    uint64_t n_jobs = 0;
    int rc;

    while (!w->head && !w->stopping)
      pthread_cond_wait(&w->work, &w->lock);
    if (!w->head)
      break; /* stopping and drained */
    pthread_mutex_unlock(&w->lock);

    rc = store_begin(w->store, VG_TXN_WRITE, &t);
    pthread_mutex_lock(&w->lock);
    j = next_job(w);
    while (j) {
      pthread_mutex_unlock(&w->lock);
      if (last)
        last->next = j;
      else
        group = j;
      last = j;
      rows += j->rows;
      n_jobs++;
      if (rc == 0)
        rc = run_job(t, j, savepoints);
      pthread_mutex_lock(&w->lock);
      /* Close the group at max_rows, on a broken transaction, or after each
       * job when the backend cannot roll back one job alone. */
      if (rc < 0 || rows >= w->opts.max_rows || !savepoints)
        break;
      j = next_job(w);
    }
    pthread_mutex_unlock(&w->lock);

    if (rc == 0 && !savepoints && group->rc != 0) {
      store_rollback(t); /* the only job failed: its error stands */
      t = NULL;
    } else if (rc == 0) {
      int64_t t0 = vg_mono_ns();
      rc = store_commit(t); /* rolls back and frees t on failure */
      t = NULL;
      t0 = vg_mono_ns() - t0;
      pthread_mutex_lock(&w->lock);
      w->commit_ns += (t0 - w->commit_ns) / 4;
      pthread_mutex_unlock(&w->lock);
    }
    if (rc < 0) {
      store_rollback(t);
      vg_error("writer_group", "jobs=%llu rows=%zu err=\"%s\"",
               (unsigned long long)n_jobs, rows, vg_strerror(rc));
    }
    finish_group(w, group, rc, rows, n_jobs);
    pthread_mutex_lock(&w->lock);
  }
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

/* ==== public API ======================================================== */

int writer_start(struct vg_store *s, const struct vg_writer_opts *opts,
                 struct vg_writer **out)
{
  struct vg_writer *w;
  pthread_condattr_t ca;

  *out = NULL;
  w = vg_calloc(1, sizeof *w);
  if (!w)
    return -VG_ENOMEM;
  w->store = s;
  if (opts)
    w->opts = *opts;
  if (!w->opts.max_rows)
    w->opts.max_rows = DEF_MAX_ROWS;
  /* 0 takes the default like the other fields; < 0 never waits. */
  if (w->opts.max_wait_ms == 0)
    w->opts.max_wait_ms = DEF_MAX_WAIT_MS;
  else if (w->opts.max_wait_ms < 0)
    w->opts.max_wait_ms = 0;
  if (!w->opts.queue_rows)
    w->opts.queue_rows = DEF_QUEUE_ROWS;

  pthread_mutex_init(&w->lock, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&w->work, &ca);
  pthread_condattr_destroy(&ca);
  pthread_cond_init(&w->done, NULL);
  if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->done);
    pthread_mutex_destroy(&w->lock);
    vg_free(w);
    return -VG_ENOMEM;
  }
  *out = w;
  return 0;
}

/* Leave writer_exec: the last caller out lets a waiting writer_stop free
 * the lock and condition variables. Called with the lock held; drops it. */
static int exec_leave(struct vg_writer *w, int rc)
{
  w->callers--;
  if (w->stopping && w->callers == 0)
    pthread_cond_broadcast(&w->done);
  pthread_mutex_unlock(&w->lock);
  return rc;
}

int writer_exec(struct vg_writer *w, size_t rows, vg_write_fn fn, void *ctx)
{
  struct job j;

  memset(&j, 0, sizeof j);
  j.fn = fn;
  j.ctx = ctx;
  j.rows = rows;
  pthread_mutex_lock(&w->lock);
  w->callers++;
  if (w->stopping)
    return exec_leave(w, -VG_EUNAVAIL);
  /* Back-pressure: refuse rather than queue without bound. A job larger
   * than the whole queue is still taken when the queue is empty, or it
   * could never run. */
  if (w->queued_rows > 0 && w->queued_rows + rows > w->opts.queue_rows)
    return exec_leave(w, -VG_EBUSY);
  w->queued_rows += rows;
  if (w->tail)
    w->tail->next = &j;
  else
    w->head = &j;
  w->tail = &j;
  pthread_cond_signal(&w->work);
  while (!j.done)
    pthread_cond_wait(&w->done, &w->lock);
  return exec_leave(w, j.rc);
}

void writer_stats(struct vg_writer *w, struct vg_writer_stats *out)
{
  pthread_mutex_lock(&w->lock);
  *out = w->stats;
  out->queued_rows = w->queued_rows;
  pthread_mutex_unlock(&w->lock);
}

void writer_stop(struct vg_writer *w)
{
  if (!w)
    return;
  pthread_mutex_lock(&w->lock);
  w->stopping = 1;
  pthread_cond_signal(&w->work);
  pthread_mutex_unlock(&w->lock);
  pthread_join(w->thread, NULL);
  /* Woken callers may still be returning from pthread_cond_wait. */
  pthread_mutex_lock(&w->lock);
  while (w->callers > 0)
    pthread_cond_wait(&w->done, &w->lock);
  pthread_mutex_unlock(&w->lock);
  pthread_cond_destroy(&w->work);
  pthread_cond_destroy(&w->done);
  pthread_mutex_destroy(&w->lock);
  vg_free(w);
}
