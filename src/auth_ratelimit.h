/* auth_ratelimit.h - per-address and per-token request rate limits: token
 * buckets in one fixed-size table, so memory never grows with the number
 * of distinct (attacker-chosen) keys. */
#ifndef VG_AUTH_RATELIMIT_H
#define VG_AUTH_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

struct vg_ratelimit;

/* Slots in a limiter's table (fixed; the table is allocated once). */
#define VG_RATELIMIT_SLOTS 4096

/* A limiter allowing RATE_PER_S requests per second per key with bursts of
 * up to BURST (BURST < 1 counts as 1). RATE_PER_S 0 turns it off (every
 * request allowed, no table). Returns 0 with *out set, or -VG_ENOMEM.
 * Caller frees with ratelimit_free(). Thread-safe once made. */
int ratelimit_new(int64_t rate_per_s, int64_t burst,
                  struct vg_ratelimit **out);
void ratelimit_free(struct vg_ratelimit *rl);

/* Take one request for KEY (KEY_LEN bytes, any content) at NOW_MS
 * (monotonic). 0 when allowed; -VG_ERATE when over the limit, with
 * *out_retry_s (may be NULL) set to the whole seconds until one request is
 * allowed again (>= 1). Keys are hashed with a per-limiter random key
 * (SipHash), so collisions cannot be aimed. When the probed slots are all
 * held, the slot whose bucket is fullest (closest to an unseen key) is
 * reused: a flood of fresh keys can evict only keys that are not being
 * limited. Thread-safe. */
int ratelimit_take(struct vg_ratelimit *rl, const void *key, size_t key_len,
                   int64_t now_ms, int64_t *out_retry_s);

/* Slots in use (tests, metrics). */
size_t ratelimit_used(struct vg_ratelimit *rl);

#endif
