/* core_buf.c - growable buffer and JSON escaping. */
#include "core_buf.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_alloc.h"
#include "core_errors.h"

#define DEFAULT_CAP ((size_t)256 << 20)

void buf_init(struct vg_buf *b, size_t cap)
{
  memset(b, 0, sizeof *b);
  b->cap = cap;
}

void buf_free(struct vg_buf *b)
{
  vg_free(b->data);
  b->data = NULL;
  b->len = b->size = 0;
  b->err = 0;
}

void buf_reset(struct vg_buf *b)
{
  b->len = 0;
  b->err = 0;
  if (b->data)
    b->data[0] = '\0';
}

char *buf_take(struct vg_buf *b, size_t *out_len)
{
  char *d = b->data;
  if (out_len)
    *out_len = b->len;
  b->data = NULL;
  b->len = b->size = 0;
  return d;
}

static int grow(struct vg_buf *b, size_t extra)
{
  size_t cap = b->cap ? b->cap : DEFAULT_CAP;
  size_t need, size;
  char *d;
  if (b->err)
    return b->err;
  if (extra > cap || b->len + extra > cap)
    return b->err = -VG_ETOOBIG;
  need = b->len + extra + 1;
  if (need <= b->size)
    return 0;
  size = b->size ? b->size : 256;
  while (size < need)
    size *= 2;
  d = vg_realloc(b->data, size);
  if (!d)
    return b->err = -VG_ENOMEM;
  b->data = d;
  b->size = size;
  return 0;
}

int buf_append(struct vg_buf *b, const void *p, size_t n)
{
  int rc = grow(b, n);
  if (rc)
    return rc;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int buf_puts(struct vg_buf *b, const char *s) { return buf_append(b, s, strlen(s)); }
int buf_putc(struct vg_buf *b, char c) { return buf_append(b, &c, 1); }

int buf_printf(struct vg_buf *b, const char *fmt, ...)
{
  va_list ap;
  int n, rc;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return b->err = -VG_EINTERNAL;
  rc = grow(b, (size_t)n);
  if (rc)
    return rc;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return 0;
}

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
  size_t len;
  uint32_t cp;
  if (s[0] < 0x80)
    return 1;
  if ((s[0] & 0xE0) == 0xC0) { len = 2; cp = s[0] & 0x1F; }
  else if ((s[0] & 0xF0) == 0xE0) { len = 3; cp = s[0] & 0x0F; }
  else if ((s[0] & 0xF8) == 0xF0) { len = 4; cp = s[0] & 0x07; }
  else return 0;
  if (len > n)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
      (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

int buf_json_str(struct vg_buf *b, const char *s, size_t len)
{
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0, run = 0;
  buf_putc(b, '"');
  while (i < len) {
    unsigned char c = u[i];
    size_t ul;
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      run++;
      i++;
      continue;
    }
    buf_append(b, s + i - run, run);
    run = 0;
    if (c >= 0x80) {
      ul = utf8_seq_len(u + i, len - i);
      if (ul) {
        buf_append(b, s + i, ul);
        i += ul;
      } else {
        buf_puts(b, "\\ufffd");
        i++;
      }
      continue;
    }
    switch (c) {
    case '"': buf_puts(b, "\\\""); break;
    case '\\': buf_puts(b, "\\\\"); break;
    case '\n': buf_puts(b, "\\n"); break;
    case '\r': buf_puts(b, "\\r"); break;
    case '\t': buf_puts(b, "\\t"); break;
    default: buf_printf(b, "\\u%04x", c); break;
    }
    i++;
  }
  buf_append(b, s + i - run, run);
  return buf_putc(b, '"');
}

size_t utf8_scrub(char *s)
{
  unsigned char *u = (unsigned char *)s;
  size_t len = strlen(s), i = 0, o = 0;
  while (i < len) {
    size_t n = utf8_seq_len(u + i, len - i);
    if (n == 0) { /* drop the byte: invalid or cut sequence */
      i++;
      continue;
    }
    memmove(u + o, u + i, n);
    o += n;
    i += n;
  }
  s[o] = '\0';
  return o;
}

int buf_json_num(struct vg_buf *b, double v)
{
  char tmp[32];
  if (!isfinite(v))
    return buf_puts(b, "null");
  if (v == (double)(int64_t)v && fabs(v) < 1e15)
    return buf_printf(b, "%" PRId64, (int64_t)v);
  /* %.15g is exact for most readings; fall back to 17 digits if not. */
  snprintf(tmp, sizeof tmp, "%.15g", v);
  if (strtod(tmp, NULL) != v)
    snprintf(tmp, sizeof tmp, "%.17g", v);
  return buf_puts(b, tmp);
}

int buf_json_int(struct vg_buf *b, int64_t v) { return buf_printf(b, "%" PRId64, v); }
