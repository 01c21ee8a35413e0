/* care_events.c - the care event log (care_event rows, written in the same
 * transaction as the change) and the local wake-up for SSE waiters. Every
 * node reads the shared table, so events raised on one node reach clients
 * on every node; the wake-up only shortens the wait on the raising node. */
#include <pthread.h>

#include "care_assess.h"
#include "core_errors.h"

static pthread_mutex_t ev_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ev_cv = PTHREAD_COND_INITIALIZER;
static unsigned long ev_gen;

int care_events_raise(struct vg_txn *t, const char *kind, int64_t pid,
                      int64_t ref_id, const char *data, int64_t now_ms)
{
  struct vg_val p[5] = {VG_INT(now_ms), VG_TEXT(kind), VG_INT(pid),
                        VG_INT(ref_id), VG_TEXT(data)};
  int rc = store_sql(t,
                     "INSERT INTO care_event (ts_ms, kind, patient_id, ref_id, "
                     "data) VALUES ($1, $2, $3, $4, $5)",
                     p, 5, NULL, NULL, NULL);
  return rc < 0 ? rc : 0;
}

void care_events_kick(void)
{
  pthread_mutex_lock(&ev_mu);
  ev_gen++;
  pthread_cond_broadcast(&ev_cv);
  pthread_mutex_unlock(&ev_mu);
}

unsigned long care_events_wait(unsigned long gen, int ms)
{
  struct timespec ts;
  unsigned long g;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&ev_mu);
  if (ev_gen == gen)
    pthread_cond_timedwait(&ev_cv, &ev_mu, &ts);
  g = ev_gen;
  pthread_mutex_unlock(&ev_mu);
  return g;
}
