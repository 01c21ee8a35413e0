/* core_buf.h - growable byte buffer with a cap, plus JSON output helpers. */
#ifndef VG_CORE_BUF_H
#define VG_CORE_BUF_H

#include <stddef.h>
#include <stdint.h>

/* Embeddable value type. Fields are read-only for users; start with
 * VG_BUF_INIT or buf_init(). Errors are sticky: after the first failure
 * (cap or memory) every append is a no-op and buf.err stays set. */
struct vg_buf {
  char *data;  /* NUL-terminated while data != NULL */
  size_t len;
  size_t size; /* private */
  size_t cap;  /* 0 = 256 MiB */
  int err;     /* 0 or -VG_ETOOBIG / -VG_ENOMEM */
};
#define VG_BUF_INIT {0, 0, 0, 0, 0}

void buf_init(struct vg_buf *b, size_t cap);
void buf_free(struct vg_buf *b);
void buf_reset(struct vg_buf *b);
/* Takes the data out; caller frees with vg_free(). b is reset. */
char *buf_take(struct vg_buf *b, size_t *out_len);

int buf_append(struct vg_buf *b, const void *p, size_t n);
int buf_puts(struct vg_buf *b, const char *s);
int buf_putc(struct vg_buf *b, char c);
int buf_printf(struct vg_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* JSON: a quoted, escaped string (invalid UTF-8 bytes become U+FFFD). */
int buf_json_str(struct vg_buf *b, const char *s, size_t len);
/* JSON number; non-finite values are written as null. Shortest form that
 * round-trips to the same double. */
int buf_json_num(struct vg_buf *b, double v);
int buf_json_int(struct vg_buf *b, int64_t v);

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if the
 * bytes there are not one (invalid, overlong, surrogate, or cut short). */
size_t utf8_seq_len(const unsigned char *s, size_t n);

/* Remove, in place, every byte of s that is not part of a valid UTF-8
 * sequence (e.g. a character cut by a %.Ns format). Returns the new
 * length. */
size_t utf8_scrub(char *s);

#endif
