/* fuzz_bulk.c - libFuzzer target: body bytes through the bulk parser (JSON
 * or NDJSON, split at a data-derived point, optionally gunzipped first)
 * into an ingest batch, then the result JSON. No store. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core_arena.h"
#include "core_buf.h"
#include "core_errors.h"
#include "core_inflate.h"
#include "ingest.h"
#include "ingest_bulk.h"

static int to_parser(void *ctx, const char *data, size_t len)
{
  return bulk_parser_feed(ctx, data, len);
}

/* Byte 0: bit 0 format, bit 1 gzip; byte 1: where to split the body. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct vg_arena *a;
  struct vg_ingest_batch *b;
  struct vg_bulk_parser *p;
  struct vg_inflate *z = NULL;
  struct vg_ingest_opts o = {1740787200000LL, 600000, "fuzz", 0};
  struct vg_ingest_result res;
  struct vg_buf out = VG_BUF_INIT;
  const char *body;
  size_t len, cut;
  int rc;

  if (size < 2)
    return 0;
  body = (const char *)data + 2;
  len = size - 2;
  cut = (size_t)data[1] * len / 256;
  a = arena_new(16 << 20);
  b = a ? ingest_batch_new(a, &o) : NULL;
  p = b ? bulk_parser_new(data[0] & 1 ? VG_BULK_NDJSON : VG_BULK_JSON, 10000,
                          ingest_batch_item_cb, b)
        : NULL;
  if (!p)
    goto done;
  if (data[0] & 2) {
    z = inflate_new(1 << 20);
    if (!z)
      goto done;
    rc = inflate_feed(z, body, cut, to_parser, p);
    if (!rc)
      rc = inflate_feed(z, body + cut, len - cut, to_parser, p);
    if (!rc)
      rc = inflate_finish(z);
  } else {
    rc = bulk_parser_feed(p, body, cut);
    if (!rc)
      rc = bulk_parser_feed(p, body + cut, len - cut);
  }
  if (!rc)
    rc = bulk_parser_finish(p);
  /* a parser error always comes with a message */
  if (rc && !(data[0] & 2) && !*bulk_parser_error(p))
    __builtin_trap();
  if (!rc) {
    rc = ingest_batch_commit(b, NULL, data[0] & 4, &res);
    if (rc == 0 || rc == -VG_EUNPROC || rc == -VG_EUNAVAIL) {
      ingest_result_json(&res, &out);
      if (res.n_rejected > ingest_batch_count(b))
        __builtin_trap();
    }
  }
done:
  buf_free(&out);
  inflate_free(z);
  bulk_parser_free(p);
  if (a)
    arena_free(a);
  return 0;
}
