/* test_inflate.c - the streaming gzip/zlib request-body decoder: round
 * trips at many chunk sizes, members, caps, truncation, garbage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <cmocka.h>

#include "core_alloc.h"
#include "core_buf.h"
#include "core_errors.h"
#include "core_inflate.h"

/* Compress with zlib itself: windowBits 31 = gzip, 15 = zlib framing. */
static unsigned char *compress_buf(const char *in, size_t len, int wbits,
                                   size_t *out_len)
{
  z_stream zs;
  size_t cap = compressBound((uLong)len) + 64;
  unsigned char *out = malloc(cap);
  assert_non_null(out);
  memset(&zs, 0, sizeof zs);
  assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, wbits, 8,
                                Z_DEFAULT_STRATEGY), Z_OK);
  zs.next_in = (Bytef *)(uintptr_t)in;
  zs.avail_in = (uInt)len;
  zs.next_out = out;
  zs.avail_out = (uInt)cap;
  assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
  *out_len = cap - zs.avail_out;
  deflateEnd(&zs);
  return out;
}

static int sink_buf(void *ctx, const char *data, size_t len)
{
  return buf_append(ctx, data, len);
}

/* Decode in[0..len) fed in chunks of `chunk` bytes. */
static int decode(const unsigned char *in, size_t len, size_t chunk,
                  size_t max_out, struct vg_buf *out)
{
  struct vg_inflate *z = inflate_new(max_out);
  int rc = 0;
  assert_non_null(z);
  buf_reset(out);
  for (size_t off = 0; off < len && !rc; off += chunk) {
    size_t k = len - off < chunk ? len - off : chunk;
    rc = inflate_feed(z, (const char *)in + off, k, sink_buf, out);
  }
  if (!rc)
    rc = inflate_finish(z);
  inflate_free(z);
  return rc;
}

static char *sample(size_t n)
{
  char *s = malloc(n);
  uint32_t x = 2463534242u;
  assert_non_null(s);
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    /* readings-like text: compressible but not trivial */
    s[i] = "{}\"abcdefghijklmnop:,0123456789 \n"[x % 32];
  }
  return s;
}

static void round_trip_all_chunk_sizes(void **state)
{
  const size_t n = 300000;
  static const size_t chunks[] = {1, 2, 7, 100, 4096, 65536, 1 << 20};
  char *plain = sample(n);
  size_t glen, zlen;
  unsigned char *gz = compress_buf(plain, n, 31, &glen);
  unsigned char *zl = compress_buf(plain, n, 15, &zlen);
  struct vg_buf out = VG_BUF_INIT;
  size_t before = vg_alloc_used();
  (void)state;
  for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
    assert_int_equal(decode(gz, glen, chunks[i], 0, &out), 0);
    assert_int_equal(out.len, n);
    assert_memory_equal(out.data, plain, n);
    assert_int_equal(decode(zl, zlen, chunks[i], 0, &out), 0);
    assert_int_equal(out.len, n);
    assert_memory_equal(out.data, plain, n);
  }
  printf("%zu bytes -> gzip %zu, zlib %zu; identical at %zu chunk sizes\n", n,
         glen, zlen, sizeof chunks / sizeof chunks[0]);
  buf_free(&out);
  assert_int_equal(vg_alloc_used(), before); /* zlib state freed */
  free(plain);
  free(gz);
  free(zl);
}

static void concatenated_members(void **state)
{
  size_t l1, l2;
  unsigned char *a = compress_buf("hello ", 6, 31, &l1);
  unsigned char *b = compress_buf("world", 5, 31, &l2);
  unsigned char *both = malloc(l1 + l2 + 3);
  struct vg_buf out = VG_BUF_INIT;
  (void)state;
  memcpy(both, a, l1);
  memcpy(both + l1, b, l2);
  for (size_t chunk = 1; chunk <= l1 + l2; chunk++) {
    assert_int_equal(decode(both, l1 + l2, chunk, 0, &out), 0);
    assert_int_equal(out.len, 11);
    assert_memory_equal(out.data, "hello world", 11);
  }
  /* trailing bytes that are not another member */
  memcpy(both + l1 + l2, "xyz", 3);
  assert_int_equal(decode(both, l1 + l2 + 3, 4096, 0, &out), -VG_EINVAL);
  buf_free(&out);
  free(a);
  free(b);
  free(both);
}

static void cap_and_bomb(void **state)
{
  const size_t n = 64 << 20; /* 64 MiB of zeros compress to ~64 KiB */
  char *zeros = calloc(1, n);
  size_t glen;
  unsigned char *gz;
  struct vg_buf out = VG_BUF_INIT;
  char *plain = sample(1000);
  size_t plen;
  unsigned char *p;
  (void)state;
  gz = compress_buf(zeros, n, 31, &glen);
  free(zeros);
  buf_init(&out, 0);
  assert_int_equal(decode(gz, glen, 65536, 1 << 20, &out), -VG_ETOOBIG);
  printf("bomb: %zu compressed bytes for %zu; stopped at the 1 MiB cap after "
         "%zu bytes out\n", glen, n, out.len);
  assert_true(out.len <= (1u << 20));
  free(gz);
  p = compress_buf(plain, 1000, 31, &plen);
  assert_int_equal(decode(p, plen, 10, 1000, &out), 0); /* exactly at cap */
  assert_int_equal(decode(p, plen, 10, 999, &out), -VG_ETOOBIG);
  buf_free(&out);
  free(p);
  free(plain);
}

static void truncated_and_garbage(void **state)
{
  char *plain = sample(5000);
  size_t glen;
  unsigned char *gz = compress_buf(plain, 5000, 31, &glen);
  struct vg_buf out = VG_BUF_INIT;
  size_t n_trunc = 0;
  (void)state;
  /* every proper prefix is incomplete (or, mid-stream, already invalid) */
  for (size_t k = 0; k < glen; k++) {
    int rc = decode(gz, k, 997, 0, &out);
    assert_int_equal(rc, -VG_ETRUNCATED);
    n_trunc++;
  }
  printf("all %zu proper prefixes of a %zu-byte stream -> truncated\n",
         n_trunc, glen);
  assert_int_equal(decode((const unsigned char *)"hello world", 11, 4, 0,
                          &out), -VG_EINVAL);
  assert_int_equal(decode((const unsigned char *)"{\"readings\":[]}", 15,
                          4096, 0, &out), -VG_EINVAL);
  /* a flipped byte in the CRC-32 trailer */
  gz[glen - 6] ^= 0x55;
  assert_int_equal(decode(gz, glen, 4096, 0, &out), -VG_EINVAL);
  gz[glen - 6] ^= 0x55;
  /* a flipped byte in the deflate data */
  gz[glen / 2] ^= 0xff;
  assert_true(decode(gz, glen, 4096, 0, &out) < 0);
  buf_free(&out);
  free(gz);
  free(plain);
}

static int sink_fail(void *ctx, const char *data, size_t len)
{
  (void)ctx;
  (void)data;
  (void)len;
  return -VG_EBADJSON;
}

static void sink_error_is_sticky(void **state)
{
  size_t glen;
  unsigned char *gz = compress_buf("abc", 3, 31, &glen);
  struct vg_inflate *z = inflate_new(0);
  (void)state;
  assert_int_equal(inflate_feed(z, (const char *)gz, glen, sink_fail, NULL),
                   -VG_EBADJSON);
  assert_int_equal(inflate_feed(z, (const char *)gz, glen, sink_fail, NULL),
                   -VG_EBADJSON);
  assert_int_equal(inflate_finish(z), -VG_EBADJSON);
  inflate_free(z);
  inflate_free(NULL);
  free(gz);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(round_trip_all_chunk_sizes),
      cmocka_unit_test(concatenated_members),
      cmocka_unit_test(cap_and_bomb),
      cmocka_unit_test(truncated_and_garbage),
      cmocka_unit_test(sink_error_is_sticky),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
