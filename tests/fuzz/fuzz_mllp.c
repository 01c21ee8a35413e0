/* fuzz_mllp.c - libFuzzer target: bytes through the MLLP framer fed in
 * data-derived pieces; the frames found must not depend on the split. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest_mllp.h"

struct acc {
  size_t n, bytes;
  uint32_t hash;
};

static int on_msg(void *ctx, const char *m, size_t len)
{
  struct acc *a = ctx;
  a->n++;
  a->bytes += len;
  for (size_t i = 0; i < len; i++)
    a->hash = a->hash * 31u + (uint8_t)m[i];
  a->hash = a->hash * 31u + 0x100u; /* frame boundary */
  return 0;
}

/* Feed in pieces of 1 + (seed byte % 17), or whole; return rc. */
static int run(const uint8_t *d, size_t n, int whole, struct acc *a)
{
  struct vg_mllp_framer *f = mllp_framer_new(256, on_msg, a);
  size_t i = 0;
  int rc = 0;
  if (!f)
    abort();
  while (i < n && !rc) {
    size_t k = whole ? n : 1 + d[i] % 17;
    if (k > n - i)
      k = n - i;
    rc = mllp_framer_feed(f, (const char *)d + i, k);
    i += k;
  }
  mllp_framer_free(f);
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct acc a = {0, 0, 0}, b = {0, 0, 0};
  int ra = run(data, size, 1, &a), rb = run(data, size, 0, &b);
  if (ra != rb || a.n != b.n || a.bytes != b.bytes || a.hash != b.hash)
    abort();
  return 0;
}
