/* ingest_bulk.h - streaming parser for the bulk readings body: a JSON batch
 * {"readings":[...]}, NDJSON (one reading object per line), or the series
 * form {"patient","code","start","interval_ms","values":[...]}. Fed in
 * chunks as they arrive; never builds a tree of the whole body. */
#ifndef VG_INGEST_BULK_H
#define VG_INGEST_BULK_H

#include <stddef.h>
#include <stdint.h>

enum vg_bulk_format { VG_BULK_JSON = 0, VG_BULK_NDJSON = 1 };

/* One reading as it appeared in the body, before validation. Strings are
 * borrowed, not NUL-terminated, valid only during the callback. A field
 * that was absent has ptr NULL / has_* 0. */
struct vg_raw_reading {
  size_t index;                 /* 0-based position in the body */
  const char *patient; size_t patient_len; /* string or number text */
  const char *code; size_t code_len;
  const char *time; size_t time_len;       /* RFC 3339 text */
  int has_t; int64_t t_ms;                 /* "t": epoch ms */
  int has_value; double value;             /* 0 when missing or not a number */
  const char *unit; size_t unit_len;
  const char *source; size_t source_len;
  int16_t tz_offset_min;        /* series form: offset of "start"; else VG_TZ_UNKNOWN */
  const char *error;            /* non-NULL: this item is malformed (reason;
                                   static or valid during the callback only);
                                   other fields may be unset */
};

/* Called once per reading, in body order. Return 0 to go on, or a negative
 * -VG_E* to abort parsing (bulk_parser_feed returns it). */
typedef int (*vg_bulk_item_cb)(void *ctx, const struct vg_raw_reading *item);

struct vg_bulk_parser;

/* New parser. max_items bounds the readings in one body (-VG_ETOOBIG past
 * it); 0 = 1,000,000. Returns NULL on allocation failure. Caller frees with
 * bulk_parser_free(). */
struct vg_bulk_parser *bulk_parser_new(enum vg_bulk_format fmt,
                                       size_t max_items, vg_bulk_item_cb cb,
                                       void *ctx);

/* Feed the next len bytes. Returns 0; -VG_EBADJSON on a syntax error that
 * makes the rest unreadable (message from bulk_parser_error); -VG_ETOOBIG;
 * or the callback's error. After an error, further feeds return it again. */
int bulk_parser_feed(struct vg_bulk_parser *p, const char *buf, size_t len);

/* End of body. Returns 0, or -VG_ETRUNCATED if the body stopped inside a
 * value, or the pending error. */
int bulk_parser_finish(struct vg_bulk_parser *p);

/* Human-readable description of the last error with its byte offset
 * ("unexpected '}' at byte 1234"); "" if none. Borrowed from p. */
const char *bulk_parser_error(const struct vg_bulk_parser *p);

/* Readings seen so far. */
size_t bulk_parser_count(const struct vg_bulk_parser *p);

void bulk_parser_free(struct vg_bulk_parser *p);

#endif
