/* core_inflate.h - streaming gzip/zlib decoder for request bodies
 * (Content-Encoding: gzip), with a cap on the decompressed size. */
#ifndef VG_CORE_INFLATE_H
#define VG_CORE_INFLATE_H

#include <stddef.h>

struct vg_inflate;

/* Receives decompressed bytes in order. Return 0 to go on, or a negative
 * -VG_E* to stop (inflate_feed returns it). */
typedef int (*vg_inflate_sink)(void *ctx, const char *data, size_t len);

/* New decoder accepting gzip (and zlib) framing; max_out caps the total
 * decompressed bytes (0 = no cap). NULL on allocation failure. Caller frees
 * with inflate_free(). */
struct vg_inflate *inflate_new(size_t max_out);

/* Decompress the next len bytes, passing output to sink(ctx, ...).
 * Returns 0, -VG_ETOOBIG past max_out, -VG_EINVAL for data that is not a
 * valid gzip stream, or the sink's error. */
int inflate_feed(struct vg_inflate *z, const char *in, size_t len,
                 vg_inflate_sink sink, void *ctx);

/* End of input: 0 if the stream was complete, -VG_ETRUNCATED if not. */
int inflate_finish(struct vg_inflate *z);

void inflate_free(struct vg_inflate *z);

#endif
