/* core_inflate.c - streaming gzip/zlib decoder over zlib, with an output
 * cap (decompression bombs stop at max_out) and vg_malloc accounting. */
#include "core_inflate.h"

#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "core_alloc.h"
#include "core_errors.h"

#define OUT_CHUNK 65536
#define GZIP_MAGIC0 0x1f

struct vg_inflate {
  z_stream zs;
  size_t max_out, total_out;
  int ended; /* a member ended; more input must be another gzip member */
  int err;   /* sticky */
  unsigned char out[OUT_CHUNK];
};

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
  (void)opaque;
  if (size && items > (size_t)-1 / size)
    return Z_NULL;
  return vg_malloc((size_t)items * size);
}

static void z_free(voidpf opaque, voidpf p)
{
  (void)opaque;
  vg_free(p);
}

struct vg_inflate *inflate_new(size_t max_out)
{
  struct vg_inflate *z = vg_malloc(sizeof *z);
  if (!z)
    return NULL;
  memset(&z->zs, 0, sizeof z->zs);
  z->zs.zalloc = z_alloc;
  z->zs.zfree = z_free;
  z->max_out = max_out;
  z->total_out = 0;
  z->ended = 0;
  z->err = 0;
  /* 15 + 32: a 32 KiB window, gzip or zlib header detected automatically */
  if (inflateInit2(&z->zs, 15 + 32) != Z_OK) {
    vg_free(z);
    return NULL;
  }
  return z;
}

static int fail(struct vg_inflate *z, int err)
{
  z->err = err;
  return err;
}

int inflate_feed(struct vg_inflate *z, const char *in, size_t len,
                 vg_inflate_sink sink, void *ctx)
{
  int rc, src;

  if (z->err)
    return z->err;
  while (len > 0) {
    /* zlib counts in uInt: feed very large buffers in slices */
    uInt slice = len > 0x40000000u ? 0x40000000u : (uInt)len;
    z->zs.next_in = (Bytef *)(uintptr_t)in;
    z->zs.avail_in = slice;
    in += slice;
    len -= slice;
    for (;;) {
      size_t produced;
      if (z->ended) {
        if (z->zs.avail_in == 0)
          break;
        /* RFC 1952 allows several members back to back; anything else
         * after the end is not a gzip stream. */
        if (*z->zs.next_in != GZIP_MAGIC0 || inflateReset(&z->zs) != Z_OK)
          return fail(z, -VG_EINVAL);
        z->ended = 0;
      }
      z->zs.next_out = z->out;
      z->zs.avail_out = OUT_CHUNK;
      rc = inflate(&z->zs, Z_NO_FLUSH);
      if (rc == Z_MEM_ERROR)
        return fail(z, -VG_ENOMEM);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
        return fail(z, -VG_EINVAL); /* DATA_ERROR, NEED_DICT, STREAM_ERROR */
      produced = OUT_CHUNK - z->zs.avail_out;
      if (produced) {
        z->total_out += produced;
        if (z->max_out && z->total_out > z->max_out)
          return fail(z, -VG_ETOOBIG);
        src = sink(ctx, (const char *)z->out, produced);
        if (src < 0)
          return fail(z, src);
      }
      if (rc == Z_STREAM_END) {
        z->ended = 1;
        continue;
      }
      /* Go on while input remains or the output buffer came back full
       * (zlib may hold more); stop when no progress is possible. */
      if (z->zs.avail_in == 0 && z->zs.avail_out != 0)
        break;
      if (rc == Z_BUF_ERROR && produced == 0)
        break;
    }
  }
  return 0;
}

int inflate_finish(struct vg_inflate *z)
{
  if (z->err)
    return z->err;
  return z->ended ? 0 : -VG_ETRUNCATED;
}

void inflate_free(struct vg_inflate *z)
{
  if (!z)
    return;
  inflateEnd(&z->zs);
  vg_free(z);
}
