/* fuzz_inflate.c - libFuzzer target for the gzip request-body decoder
 * (core_inflate), reachable without authentication through the public
 * login route with Content-Encoding: gzip. Byte 0 sets the output cap and
 * byte 1 the chunk size the body arrives in; the decoder must never pass
 * the cap to its sink, and any split of the same input must give the same
 * bytes and the same verdict. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core_errors.h"
#include "core_inflate.h"

struct sink {
  size_t total, cap;
  uLong crc;
};

static int sink_fn(void *ctx, const char *data, size_t len)
{
  struct sink *s = ctx;
  s->total += len;
  if (s->cap && s->total > s->cap)
    abort(); /* past max_out */
  s->crc = crc32(s->crc, (const Bytef *)data, (uInt)len);
  return 0;
}

/* Feed in chunks of CHUNK bytes; the verdict (first error, else finish). */
static int run(const uint8_t *in, size_t len, size_t cap, size_t chunk,
               struct sink *s)
{
  struct vg_inflate *z = inflate_new(cap);
  size_t off = 0;
  int rc = 0;
  if (!z)
    abort();
  memset(s, 0, sizeof *s);
  s->cap = cap;
  s->crc = crc32(0L, Z_NULL, 0);
  while (off < len && !rc) {
    size_t n = len - off < chunk ? len - off : chunk;
    rc = inflate_feed(z, (const char *)in + off, n, sink_fn, s);
    off += n;
  }
  if (!rc)
    rc = inflate_finish(z);
  inflate_free(z);
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct sink a, b;
  size_t cap, chunk;
  int ra, rb;
  if (size < 2)
    return 0;
  cap = data[0] ? (size_t)data[0] * 64 : 0; /* 0 = no cap */
  chunk = (size_t)data[1] + 1;
  ra = run(data + 2, size - 2, cap, chunk, &a);
  rb = run(data + 2, size - 2, cap, size, &b); /* all at once */
  if ((ra == 0) != (rb == 0))
    abort();
  /* Errors stop the stream where they are found, so bytes agree only
   * for complete streams. */
  if (ra == 0 && (a.total != b.total || a.crc != b.crc))
    abort();
  return 0;
}
