/* auth_ratelimit.c - token-bucket rate limiter over a fixed table of
 * VG_RATELIMIT_SLOTS slots (open addressing, short probe, bounded). */
#include "auth_ratelimit.h"

#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "core_alloc.h"
#include "core_errors.h"

/* Probe length: a key lives in one of PROBE consecutive slots. */
#define PROBE 8
/* Tokens are kept in millitokens so refill needs no floating point. */
#define MILLI 1000

struct slot {
  uint64_t h;        /* key hash; 0 = free */
  int64_t milli;     /* tokens x MILLI at last_ms */
  int64_t last_ms;
};

struct vg_ratelimit {
  int64_t rate_per_s, burst;
  pthread_mutex_t mu;
  unsigned char key[crypto_shorthash_KEYBYTES];
  size_t used;
  struct slot slots[VG_RATELIMIT_SLOTS];
};

int ratelimit_new(int64_t rate_per_s, int64_t burst, struct vg_ratelimit **out)
{
  struct vg_ratelimit *rl;
  *out = NULL;
  if (rate_per_s <= 0)
    return 0;
  rl = vg_calloc(1, sizeof *rl);
  if (!rl)
    return -VG_ENOMEM;
  rl->rate_per_s = rate_per_s;
  rl->burst = burst < 1 ? 1 : burst;
  pthread_mutex_init(&rl->mu, NULL);
  randombytes_buf(rl->key, sizeof rl->key);
  *out = rl;
  return 0;
}

void ratelimit_free(struct vg_ratelimit *rl)
{
  if (!rl)
    return;
  pthread_mutex_destroy(&rl->mu);
  vg_free(rl);
}

/* Bring a slot's bucket up to NOW_MS. */
static void refill(const struct vg_ratelimit *rl, struct slot *s,
                   int64_t now_ms)
{
  int64_t dt = now_ms - s->last_ms, cap = rl->burst * MILLI;
  if (dt <= 0)
    return;
  /* dt ms x rate/s = dt x rate millitokens; clamp before it can overflow. */
  if (dt > cap / rl->rate_per_s + 1)
    s->milli = cap;
  else
    s->milli += dt * rl->rate_per_s;
  if (s->milli > cap)
    s->milli = cap;
  s->last_ms = now_ms;
}

int ratelimit_take(struct vg_ratelimit *rl, const void *key, size_t key_len,
                   int64_t now_ms, int64_t *out_retry_s)
{
  unsigned char hb[crypto_shorthash_BYTES];
  uint64_t h;
  struct slot *s = NULL, *victim = NULL;
  size_t base, i;
  int rc = 0;

  if (out_retry_s)
    *out_retry_s = 0;
  if (!rl)
    return 0;
  crypto_shorthash(hb, key, key_len, rl->key);
  memcpy(&h, hb, sizeof h);
  if (h == 0)
    h = 1;
  base = (size_t)(h % VG_RATELIMIT_SLOTS);

  pthread_mutex_lock(&rl->mu);
  for (i = 0; i < PROBE; i++) {
    struct slot *c = &rl->slots[(base + i) % VG_RATELIMIT_SLOTS];
    if (c->h == h) {
      s = c;
      break;
    }
    if (c->h == 0) {
      if (!victim || victim->h != 0)
        victim = c;
      continue;
    }
    refill(rl, c, now_ms);
    /* Prefer a free slot; else the fullest bucket (least limited). */
    if (!victim || (victim->h != 0 && c->milli > victim->milli))
      victim = c;
  }
  if (!s) {
    s = victim;
    if (s->h == 0)
      rl->used++;
    s->h = h;
    s->milli = rl->burst * MILLI;
    s->last_ms = now_ms;
  }
  refill(rl, s, now_ms);
  if (s->milli >= MILLI) {
    s->milli -= MILLI;
  } else {
    rc = -VG_ERATE;
    if (out_retry_s) {
      int64_t ms = ((MILLI - s->milli) + rl->rate_per_s - 1) / rl->rate_per_s;
      *out_retry_s = (ms + 999) / 1000;
      if (*out_retry_s < 1)
        *out_retry_s = 1;
    }
  }
  pthread_mutex_unlock(&rl->mu);
  return rc;
}

size_t ratelimit_used(struct vg_ratelimit *rl)
{
  size_t n;
  if (!rl)
    return 0;
  pthread_mutex_lock(&rl->mu);
  n = rl->used;
  pthread_mutex_unlock(&rl->mu);
  return n;
}
