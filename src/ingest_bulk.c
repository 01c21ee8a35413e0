/* ingest_bulk.c - streaming bulk-readings parser: a byte-driven JSON state
 * machine (full RFC 8259 syntax check, no tree, any chunk boundaries) and a
 * thin layer mapping the batch, NDJSON and series forms onto callbacks. */
#include "ingest_bulk.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_alloc.h"
#include "core_errors.h"
#include "core_time.h"

#define TOK_CAP 1024   /* longest string/number kept; longer is only checked */
#define DEPTH_MAX 64   /* nesting cap: deeper is a syntax error */
#define FIELD_CAP 128  /* longest accepted patient/code/time/unit/source */
#define DEFAULT_MAX_ITEMS 1000000

/* Syntax states. */
enum st {
  S_VALUE,     /* a value is expected */
  S_ARR_FIRST, /* after '[': a value or ']' */
  S_OBJ_FIRST, /* after '{': a key or '}' */
  S_KEY,       /* after ',' in an object */
  S_COLON,
  S_AFTER,     /* after a value inside a container: ',' or the close */
  S_END,       /* the top-level value is complete */
  S_STR,
  S_ESC,       /* after '\' */
  S_U,         /* inside \uXXXX */
  S_LOW_BS,    /* after a high surrogate: expect '\' */
  S_LOW_U,     /* ... then 'u' */
  S_UTF8,      /* inside a multi-byte UTF-8 sequence */
  S_NUM,
  S_LIT,       /* true / false / null */
  S_SKIP_LINE  /* NDJSON: this line is malformed, skip to '\n' */
};

/* RFC 8259 number grammar. */
enum numst { N_MINUS, N_ZERO, N_INT, N_DOT, N_FRAC, N_E, N_ESIGN, N_EXP };

enum kind { K_STR, K_NUM, K_TRUE, K_FALSE, K_NULL, K_CONTAINER };

enum field {
  F_OTHER = 0, F_PATIENT, F_CODE, F_TIME, F_T, F_VALUE, F_UNIT, F_SOURCE,
  F_READINGS, F_VALUES, F_START, F_START_T, F_INTERVAL
};

struct sfield {
  char buf[FIELD_CAP];
  size_t len;
  int set;
};

/* One reading (or the series header) being collected. Fixed buffers: no
 * allocation per item. */
struct item {
  struct sfield patient, code, time, unit, source;
  int has_t;
  int64_t t_ms;
  int has_value;
  double value;
  int has_interval;
  int64_t interval_ms;
  const char *error;
};

struct series_val {
  double v;
  const char *err;
};

struct vg_bulk_parser {
  enum vg_bulk_format fmt;
  size_t max_items;
  vg_bulk_item_cb cb;
  void *ctx;
  int err;
  char msg[192];
  size_t base;  /* bytes fed before the current chunk */
  size_t count; /* items handed to cb */

  /* syntax */
  enum st st;
  int depth;
  unsigned char stack[DEPTH_MAX]; /* '{' or '[' per open container */
  int str_is_key;
  enum numst nst;
  const char *lit;
  size_t lit_pos;
  enum kind lit_kind;
  unsigned u_acc, u_high;
  int u_n;
  int utf8_need;
  unsigned char utf8_lo, utf8_hi;
  char tok[TOK_CAP + 1];
  size_t tok_len;
  int tok_over;

  /* semantics */
  enum field top_key;  /* JSON form: last key of the top object */
  enum field item_key; /* last key of the reading object */
  int in_readings, in_values, seen_readings, seen_values;
  int item_active; /* a readings element is open at item depth */
  int item_open;   /* ... and it is an object */
  struct item it;
  struct item hdr; /* series header */
  struct series_val *vals;
  size_t n_vals, cap_vals;
  int line_pending; /* NDJSON: a complete item waits for its '\n' */
  char line_msg[192];
};

/* ---- errors ------------------------------------------------------------ */

static int fatal(struct vg_bulk_parser *p, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fatal(struct vg_bulk_parser *p, int err, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->msg, sizeof p->msg, fmt, ap);
  va_end(ap);
  p->err = err;
  return err;
}

static void describe(char *out, size_t size, unsigned char c)
{
  if (c >= 0x20 && c < 0x7f && c != '\'')
    snprintf(out, size, "'%c'", c);
  else if (c == '\n')
    snprintf(out, size, "end of line");
  else
    snprintf(out, size, "byte 0x%02x", c);
}

/* A syntax error at absolute offset off. JSON: fatal. NDJSON: the line
 * becomes a malformed item; returns 0 and the caller re-reads the byte in
 * S_SKIP_LINE (so a '\n' that caused the error still ends the line). */
static int syntax(struct vg_bulk_parser *p, size_t off, unsigned char c,
                  const char *what)
{
  char d[24];
  describe(d, sizeof d, c);
  if (p->fmt == VG_BULK_NDJSON) {
    snprintf(p->line_msg, sizeof p->line_msg, "%s %s at byte %zu", what, d,
             off);
    p->st = S_SKIP_LINE;
    return 0;
  }
  return fatal(p, -VG_EBADJSON, "%s %s at byte %zu", what, d, off);
}

/* ---- items ------------------------------------------------------------- */

static void item_reset(struct item *it)
{
  it->patient.set = it->code.set = it->time.set = 0;
  it->unit.set = it->source.set = 0;
  it->has_t = it->has_value = it->has_interval = 0;
  it->value = 0;
  it->t_ms = it->interval_ms = 0;
  it->error = NULL;
}

static void item_err(struct item *it, const char *e)
{
  if (!it->error)
    it->error = e;
}

static const char *sf(const struct sfield *f, size_t *len)
{
  *len = f->set ? f->len : 0;
  return f->set ? f->buf : NULL;
}

static int emit(struct vg_bulk_parser *p, const struct item *it, size_t index,
                int16_t tz, int has_t, int64_t t_ms, int has_value, double v,
                const char *error)
{
  struct vg_raw_reading r;
  int rc;
  if (p->count >= p->max_items)
    return fatal(p, -VG_ETOOBIG, "more than %zu readings", p->max_items);
  r.index = index;
  r.patient = sf(&it->patient, &r.patient_len);
  r.code = sf(&it->code, &r.code_len);
  r.time = sf(&it->time, &r.time_len);
  r.unit = sf(&it->unit, &r.unit_len);
  r.source = sf(&it->source, &r.source_len);
  r.has_t = has_t;
  r.t_ms = t_ms;
  r.has_value = has_value;
  r.value = has_value ? v : 0;
  r.tz_offset_min = tz;
  r.error = error;
  p->count++;
  rc = p->cb(p->ctx, &r);
  if (rc < 0)
    return fatal(p, rc, "aborted by the consumer: %s", vg_strerror(rc));
  return 0;
}

static int emit_item(struct vg_bulk_parser *p)
{
  const struct item *it = &p->it;
  return emit(p, it, p->count, VG_TZ_UNKNOWN, it->has_t, it->t_ms,
              it->has_value, it->value, it->error);
}

/* Is tok an integer (no fraction or exponent)? Parse it into *out. */
static int tok_int(const struct vg_bulk_parser *p, int64_t *out)
{
  char *end;
  long long v;
  if (p->tok_over || strpbrk(p->tok, ".eE"))
    return -1;
  errno = 0;
  v = strtoll(p->tok, &end, 10);
  if (errno || *end)
    return -1;
  *out = v;
  return 0;
}

static const char *type_msg(enum field f)
{
  switch (f) {
  case F_PATIENT: return "patient must be a string or an integer";
  case F_CODE: return "code must be a string";
  case F_TIME: return "time must be an RFC 3339 string";
  case F_T: return "t must be an integer (epoch ms)";
  case F_VALUE: return "value is not a number";
  case F_UNIT: return "unit must be a string";
  case F_SOURCE: return "source must be a string";
  case F_START: return "start must be an RFC 3339 string";
  case F_START_T: return "start_t must be an integer (epoch ms)";
  case F_INTERVAL: return "interval_ms must be an integer";
  default: return "bad field";
  }
}

static const char *long_msg(enum field f)
{
  switch (f) {
  case F_PATIENT: return "patient is too long";
  case F_CODE: return "code is too long";
  case F_UNIT: return "unit is too long";
  case F_SOURCE: return "source is too long";
  default: return "time is too long";
  }
}

static void set_str(struct vg_bulk_parser *p, struct item *it,
                    struct sfield *s, enum field f)
{
  if (p->tok_over || p->tok_len >= FIELD_CAP) {
    item_err(it, long_msg(f));
    return;
  }
  if (memchr(p->tok, 0, p->tok_len)) {
    item_err(it, "string contains U+0000");
    return;
  }
  memcpy(s->buf, p->tok, p->tok_len);
  s->len = p->tok_len;
  s->set = 1;
}

/* Assign the scalar in tok (or a container, kind K_CONTAINER) to field f of
 * it. Duplicate keys: the last occurrence wins, but a wrong-typed
 * occurrence anywhere marks the item malformed. */
static void assign(struct vg_bulk_parser *p, struct item *it, enum field f,
                   enum kind k)
{
  int64_t iv;
  switch (f) {
  case F_PATIENT:
    if (k == K_STR || k == K_NUM)
      set_str(p, it, &it->patient, f);
    else
      item_err(it, type_msg(f));
    break;
  case F_CODE:
  case F_TIME:
  case F_START:
    if (k == K_STR)
      set_str(p, it, f == F_CODE ? &it->code : &it->time, f);
    else
      item_err(it, type_msg(f));
    break;
  case F_UNIT:
  case F_SOURCE:
    if (k == K_STR)
      set_str(p, it, f == F_UNIT ? &it->unit : &it->source, f);
    else if (k == K_NULL) /* optional: null means absent */
      (f == F_UNIT ? &it->unit : &it->source)->set = 0;
    else
      item_err(it, type_msg(f));
    break;
  case F_T:
  case F_START_T:
  case F_INTERVAL:
    if (k != K_NUM || tok_int(p, &iv)) {
      item_err(it, type_msg(f));
    } else if (f == F_INTERVAL) {
      it->has_interval = 1;
      it->interval_ms = iv;
    } else {
      it->has_t = 1;
      it->t_ms = iv;
    }
    break;
  case F_VALUE:
    if (k == K_NUM && !p->tok_over) {
      it->value = strtod(p->tok, NULL);
      it->has_value = 1;
    } else if (k == K_NULL) {
      item_err(it, "value is null");
    } else {
      item_err(it, k == K_NUM ? "value has too many digits" : type_msg(f));
    }
    break;
  default:
    break;
  }
}

static int tok_is(const struct vg_bulk_parser *p, const char *s)
{
  size_t n = strlen(s);
  return !p->tok_over && p->tok_len == n && memcmp(p->tok, s, n) == 0;
}

static enum field item_field(const struct vg_bulk_parser *p)
{
  if (tok_is(p, "value")) return F_VALUE;
  if (tok_is(p, "t")) return F_T;
  if (tok_is(p, "time")) return F_TIME;
  if (tok_is(p, "code")) return F_CODE;
  if (tok_is(p, "patient")) return F_PATIENT;
  if (tok_is(p, "unit")) return F_UNIT;
  if (tok_is(p, "source")) return F_SOURCE;
  return F_OTHER;
}

static enum field top_field(const struct vg_bulk_parser *p)
{
  if (tok_is(p, "readings")) return F_READINGS;
  if (tok_is(p, "values")) return F_VALUES;
  if (tok_is(p, "patient")) return F_PATIENT;
  if (tok_is(p, "code")) return F_CODE;
  if (tok_is(p, "start")) return F_START;
  if (tok_is(p, "start_t")) return F_START_T;
  if (tok_is(p, "interval_ms")) return F_INTERVAL;
  if (tok_is(p, "unit")) return F_UNIT;
  if (tok_is(p, "source")) return F_SOURCE;
  return F_OTHER;
}

static int push_val(struct vg_bulk_parser *p, double v, const char *err)
{
  if (p->n_vals >= p->max_items)
    return fatal(p, -VG_ETOOBIG, "series has more than %zu values",
                 p->max_items);
  if (p->n_vals == p->cap_vals) {
    size_t nc = p->cap_vals ? p->cap_vals * 2 : 256;
    struct series_val *nv;
    if (nc > p->max_items)
      nc = p->max_items;
    nv = vg_realloc(p->vals, nc * sizeof *nv);
    if (!nv)
      return fatal(p, -VG_ENOMEM, "out of memory for series values");
    p->vals = nv;
    p->cap_vals = nc;
  }
  p->vals[p->n_vals].v = v;
  p->vals[p->n_vals].err = err;
  p->n_vals++;
  return 0;
}

/* The top object of the JSON form closed: expand a series. */
static int finish_top(struct vg_bulk_parser *p)
{
  struct item *h = &p->hdr;
  const char *herr = h->error;
  int64_t start = 0;
  int16_t tz = VG_TZ_UNKNOWN;
  size_t i;
  int rc;

  if (p->seen_readings)
    return 0; /* "values" etc. beside "readings" are ignored */
  if (!p->seen_values)
    return fatal(p, -VG_EBADJSON,
                 "expected a \"readings\" or \"values\" array");
  if (!herr && h->time.set) {
    if (vg_time_parse(h->time.buf, h->time.len, &start, &tz))
      herr = "series start is not an RFC 3339 time with offset";
  } else if (!herr && h->has_t) {
    start = h->t_ms;
  } else if (!herr) {
    herr = "series needs \"start\" or \"start_t\"";
  }
  h->time.set = 0; /* items carry t = start + i * interval, not the text */
  if (!herr && (!h->has_interval || h->interval_ms <= 0))
    herr = "series needs a positive integer \"interval_ms\"";
  for (i = 0; i < p->n_vals; i++) {
    const struct series_val *sv = &p->vals[i];
    const char *e = herr ? herr : sv->err;
    int64_t off, t = 0;
    if (!e && (__builtin_mul_overflow((int64_t)i, h->interval_ms, &off) ||
               __builtin_add_overflow(start, off, &t)))
      e = "series time overflows";
    rc = emit(p, h, i, tz, !e, t, !sv->err, sv->v, e);
    if (rc)
      return rc;
  }
  return 0;
}

/* ---- syntax events ------------------------------------------------------ */

/* A container opens at depth p->depth (before the push). */
static int on_begin(struct vg_bulk_parser *p, unsigned char c)
{
  int d = p->depth;
  if (p->fmt == VG_BULK_NDJSON) {
    if (d == 0) {
      item_reset(&p->it);
      p->item_open = c == '{';
      if (!p->item_open)
        item_err(&p->it, "reading is not an object");
    } else if (d == 1 && p->item_open) {
      assign(p, &p->it, p->item_key, K_CONTAINER);
    }
    return 0;
  }
  if (d == 0) {
    if (c != '{')
      return fatal(p, -VG_EBADJSON, "body must be a JSON object");
    item_reset(&p->hdr);
  } else if (d == 1) {
    if (p->top_key == F_READINGS || p->top_key == F_VALUES) {
      if (c != '[')
        return fatal(p, -VG_EBADJSON, "\"%s\" must be an array",
                     p->top_key == F_READINGS ? "readings" : "values");
      if (p->top_key == F_READINGS) {
        p->in_readings = p->seen_readings = 1;
      } else {
        p->in_values = p->seen_values = 1;
        p->n_vals = 0; /* duplicate "values": the last wins */
      }
    } else {
      assign(p, &p->hdr, p->top_key, K_CONTAINER);
    }
  } else if (d == 2 && p->in_readings) {
    item_reset(&p->it);
    p->item_active = 1;
    p->item_open = c == '{';
    if (!p->item_open)
      item_err(&p->it, "reading is not an object");
  } else if (d == 2 && p->in_values) {
    return push_val(p, 0, "value is not a number");
  } else if (d == 3 && p->item_open) {
    assign(p, &p->it, p->item_key, K_CONTAINER);
  }
  return 0;
}

/* A container closed; p->depth is the depth it sat at (after the pop). */
static int on_end(struct vg_bulk_parser *p)
{
  int d = p->depth;
  if (p->fmt == VG_BULK_NDJSON) {
    if (d == 0)
      p->line_pending = 1;
    return 0;
  }
  if (d == 0)
    return finish_top(p);
  if (d == 1) {
    p->in_readings = p->in_values = 0;
  } else if (d == 2 && p->in_readings) {
    p->item_active = p->item_open = 0;
    return emit_item(p);
  }
  return 0;
}

static int on_key(struct vg_bulk_parser *p)
{
  int d = p->depth;
  if (p->fmt == VG_BULK_NDJSON) {
    if (d == 1)
      p->item_key = item_field(p);
  } else if (d == 1) {
    p->top_key = top_field(p);
  } else if (d == 3 && p->item_open) {
    p->item_key = item_field(p);
  }
  return 0;
}

static int on_scalar(struct vg_bulk_parser *p, enum kind k)
{
  int d = p->depth;
  p->tok[p->tok_len] = '\0';
  if (p->fmt == VG_BULK_NDJSON) {
    if (d == 0) {
      item_reset(&p->it);
      p->item_open = 0;
      item_err(&p->it, "reading is not an object");
      p->line_pending = 1;
    } else if (d == 1 && p->item_open) {
      assign(p, &p->it, p->item_key, k);
    }
    return 0;
  }
  if (d == 1) {
    if (p->top_key == F_READINGS || p->top_key == F_VALUES)
      return fatal(p, -VG_EBADJSON, "\"%s\" must be an array",
                   p->top_key == F_READINGS ? "readings" : "values");
    assign(p, &p->hdr, p->top_key, k);
  } else if (d == 2 && p->in_readings) {
    item_reset(&p->it);
    item_err(&p->it, "reading is not an object");
    return emit_item(p);
  } else if (d == 2 && p->in_values) {
    if (k == K_NUM && !p->tok_over)
      return push_val(p, strtod(p->tok, NULL), NULL);
    return push_val(p, 0, k == K_NULL ? "value is null"
                                      : "value is not a number");
  } else if (d == 3 && p->item_open) {
    assign(p, &p->it, p->item_key, k);
  }
  return 0;
}

/* NDJSON: a line ended (at '\n' or end of body). */
static int line_end(struct vg_bulk_parser *p, size_t off)
{
  int rc = 0;
  if (p->st == S_SKIP_LINE) {
    item_reset(&p->it);
    p->it.error = p->line_msg;
    rc = emit_item(p);
  } else if (p->st == S_END) {
    if (p->line_pending)
      rc = emit_item(p);
  } else if (!(p->st == S_VALUE && p->depth == 0)) {
    snprintf(p->line_msg, sizeof p->line_msg,
             "line ends inside a value at byte %zu", off);
    item_reset(&p->it);
    p->it.error = p->line_msg;
    rc = emit_item(p);
  }
  p->st = S_VALUE;
  p->depth = 0;
  p->line_pending = 0;
  p->item_open = 0;
  p->item_key = F_OTHER;
  return rc;
}

/* ---- the state machine -------------------------------------------------- */

static void tok_put(struct vg_bulk_parser *p, unsigned char c)
{
  if (p->tok_len < TOK_CAP)
    p->tok[p->tok_len++] = (char)c;
  else
    p->tok_over = 1;
}

static void tok_append(struct vg_bulk_parser *p, const char *s, size_t n)
{
  size_t room = TOK_CAP - p->tok_len;
  if (n > room) {
    n = room;
    p->tok_over = 1;
  }
  memcpy(p->tok + p->tok_len, s, n);
  p->tok_len += n;
}

static void tok_utf8(struct vg_bulk_parser *p, unsigned cp)
{
  if (cp < 0x80) {
    tok_put(p, (unsigned char)cp);
  } else if (cp < 0x800) {
    tok_put(p, (unsigned char)(0xc0 | (cp >> 6)));
    tok_put(p, (unsigned char)(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    tok_put(p, (unsigned char)(0xe0 | (cp >> 12)));
    tok_put(p, (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
    tok_put(p, (unsigned char)(0x80 | (cp & 0x3f)));
  } else {
    tok_put(p, (unsigned char)(0xf0 | (cp >> 18)));
    tok_put(p, (unsigned char)(0x80 | ((cp >> 12) & 0x3f)));
    tok_put(p, (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
    tok_put(p, (unsigned char)(0x80 | (cp & 0x3f)));
  }
}

static int hexval(unsigned char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int is_ws(unsigned char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void after_value(struct vg_bulk_parser *p)
{
  p->st = p->depth == 0 ? S_END : S_AFTER;
}

static int close_container(struct vg_bulk_parser *p, size_t off,
                           unsigned char c)
{
  unsigned char want = c == '}' ? '{' : '[';
  if (p->depth == 0 || p->stack[p->depth - 1] != want)
    return syntax(p, off, c, "unexpected");
  p->depth--;
  after_value(p);
  return on_end(p);
}

/* Lead byte of a UTF-8 sequence: set how many continuation bytes follow
 * and the range of the first one (RFC 3629 table: no overlongs, no
 * surrogates, nothing past U+10FFFF). */
static int utf8_lead(struct vg_bulk_parser *p, unsigned char c)
{
  p->utf8_lo = 0x80;
  p->utf8_hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) {
    p->utf8_need = 1;
  } else if (c >= 0xe0 && c <= 0xef) {
    p->utf8_need = 2;
    if (c == 0xe0) p->utf8_lo = 0xa0;
    if (c == 0xed) p->utf8_hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    p->utf8_need = 3;
    if (c == 0xf0) p->utf8_lo = 0x90;
    if (c == 0xf4) p->utf8_hi = 0x8f;
  } else {
    return -1;
  }
  return 0;
}

static int num_char_ok(struct vg_bulk_parser *p, unsigned char c)
{
  int dig = c >= '0' && c <= '9';
  switch (p->nst) {
  case N_MINUS:
    if (c == '0') { p->nst = N_ZERO; return 1; }
    if (dig) { p->nst = N_INT; return 1; }
    return 0;
  case N_ZERO:
  case N_INT:
    if (dig && p->nst == N_INT) return 1;
    if (c == '.') { p->nst = N_DOT; return 1; }
    if (c == 'e' || c == 'E') { p->nst = N_E; return 1; }
    return 0;
  case N_DOT:
  case N_FRAC:
    if (dig) { p->nst = N_FRAC; return 1; }
    if (p->nst == N_FRAC && (c == 'e' || c == 'E')) { p->nst = N_E; return 1; }
    return 0;
  case N_E:
    if (c == '+' || c == '-') { p->nst = N_ESIGN; return 1; }
    if (dig) { p->nst = N_EXP; return 1; }
    return 0;
  case N_ESIGN:
  case N_EXP:
    if (dig) { p->nst = N_EXP; return 1; }
    return 0;
  }
  return 0;
}

static int num_complete(const struct vg_bulk_parser *p)
{
  return p->nst == N_ZERO || p->nst == N_INT || p->nst == N_FRAC ||
         p->nst == N_EXP;
}

static int begin_value(struct vg_bulk_parser *p, size_t off, unsigned char c)
{
  int rc;
  if (p->fmt == VG_BULK_JSON && p->depth == 0 && c != '{')
    return syntax(p, off, c, "body must be a JSON object, found");
  switch (c) {
  case '{':
  case '[':
    if (p->depth >= DEPTH_MAX)
      return syntax(p, off, c, "nesting deeper than 64 levels:");
    rc = on_begin(p, c);
    if (rc)
      return rc;
    p->stack[p->depth++] = c;
    p->st = c == '{' ? S_OBJ_FIRST : S_ARR_FIRST;
    return 0;
  case '"':
    p->tok_len = 0;
    p->tok_over = 0;
    p->str_is_key = 0;
    p->st = S_STR;
    return 0;
  case 't':
  case 'f':
  case 'n':
    p->lit = c == 't' ? "true" : c == 'f' ? "false" : "null";
    p->lit_kind = c == 't' ? K_TRUE : c == 'f' ? K_FALSE : K_NULL;
    p->lit_pos = 1;
    p->tok_len = 0;
    p->tok_over = 0;
    p->st = S_LIT;
    return 0;
  default:
    if (c == '-' || (c >= '0' && c <= '9')) {
      p->tok_len = 0;
      p->tok_over = 0;
      p->nst = c == '-' ? N_MINUS : c == '0' ? N_ZERO : N_INT;
      tok_put(p, c);
      p->st = S_NUM;
      return 0;
    }
    return syntax(p, off, c, "unexpected");
  }
}

int bulk_parser_feed(struct vg_bulk_parser *p, const char *buf, size_t len)
{
  const unsigned char *u = (const unsigned char *)buf;
  size_t i = 0;
  int rc = 0;

  if (p->err)
    return p->err;
  while (i < len) {
    unsigned char c = u[i];
    size_t off = p->base + i;

    /* Whitespace between tokens; in NDJSON a '\n' ends the line. */
    if (p->st <= S_END && is_ws(c)) {
      if (c == '\n' && p->fmt == VG_BULK_NDJSON) {
        rc = line_end(p, off);
        if (rc)
          return rc;
      }
      i++;
      continue;
    }
    switch (p->st) {
    case S_VALUE:
      rc = begin_value(p, off, c);
      break;
    case S_ARR_FIRST:
      if (c == ']')
        rc = close_container(p, off, c);
      else
        rc = begin_value(p, off, c);
      break;
    case S_OBJ_FIRST:
    case S_KEY:
      if (c == '"') {
        p->tok_len = 0;
        p->tok_over = 0;
        p->str_is_key = 1;
        p->st = S_STR;
      } else if (c == '}' && p->st == S_OBJ_FIRST) {
        rc = close_container(p, off, c);
      } else {
        rc = syntax(p, off, c, "expected a key, found");
      }
      break;
    case S_COLON:
      if (c == ':')
        p->st = S_VALUE;
      else
        rc = syntax(p, off, c, "expected ':', found");
      break;
    case S_AFTER:
      if (c == ',')
        p->st = p->stack[p->depth - 1] == '{' ? S_KEY : S_VALUE;
      else if (c == '}' || c == ']')
        rc = close_container(p, off, c);
      else
        rc = syntax(p, off, c, "expected ',' or a close, found");
      break;
    case S_END:
      rc = syntax(p, off, c, "unexpected data after the value:");
      break;
    case S_STR: {
      /* Fast path: copy a run of plain ASCII in one go. */
      size_t j = i;
      while (j < len && u[j] >= 0x20 && u[j] < 0x80 && u[j] != '"' &&
             u[j] != '\\')
        j++;
      if (j > i) {
        tok_append(p, buf + i, j - i);
        i = j;
        continue;
      }
      if (c == '"') {
        if (p->str_is_key) {
          p->st = S_COLON;
          rc = on_key(p);
        } else {
          after_value(p);
          rc = on_scalar(p, K_STR);
        }
      } else if (c == '\\') {
        p->st = S_ESC;
      } else if (c < 0x20) {
        rc = syntax(p, off, c, "control character");
      } else if (utf8_lead(p, c)) {
        rc = syntax(p, off, c, "invalid UTF-8");
      } else {
        tok_put(p, c);
        p->st = S_UTF8;
      }
      break;
    }
    case S_UTF8:
      if (c < p->utf8_lo || c > p->utf8_hi) {
        rc = syntax(p, off, c, "invalid UTF-8");
        break;
      }
      tok_put(p, c);
      p->utf8_lo = 0x80;
      p->utf8_hi = 0xbf;
      if (--p->utf8_need == 0)
        p->st = S_STR;
      break;
    case S_ESC: {
      static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
      const char *q = c ? strchr(from, c) : NULL;
      if (q) {
        tok_put(p, (unsigned char)to[q - from]);
        p->st = S_STR;
      } else if (c == 'u') {
        p->u_acc = 0;
        p->u_n = 0;
        p->u_high = 0;
        p->st = S_U;
      } else {
        rc = syntax(p, off, c, "bad escape");
      }
      break;
    }
    case S_U: {
      int h = hexval(c);
      if (h < 0) {
        rc = syntax(p, off, c, "bad \\u escape:");
        break;
      }
      p->u_acc = p->u_acc * 16 + (unsigned)h;
      if (++p->u_n < 4)
        break;
      if (p->u_high) {
        if (p->u_acc < 0xdc00 || p->u_acc > 0xdfff) {
          rc = syntax(p, off, c, "unpaired UTF-16 surrogate before");
          break;
        }
        tok_utf8(p, 0x10000 + ((p->u_high - 0xd800) << 10) +
                        (p->u_acc - 0xdc00));
        p->st = S_STR;
      } else if (p->u_acc >= 0xd800 && p->u_acc <= 0xdbff) {
        p->u_high = p->u_acc;
        p->st = S_LOW_BS;
      } else if (p->u_acc >= 0xdc00 && p->u_acc <= 0xdfff) {
        rc = syntax(p, off, c, "unpaired UTF-16 surrogate before");
      } else {
        tok_utf8(p, p->u_acc);
        p->st = S_STR;
      }
      break;
    }
    case S_LOW_BS:
    case S_LOW_U:
      if (p->st == S_LOW_BS && c == '\\') {
        p->st = S_LOW_U;
      } else if (p->st == S_LOW_U && c == 'u') {
        p->u_acc = 0;
        p->u_n = 0;
        p->st = S_U;
      } else {
        rc = syntax(p, off, c, "unpaired UTF-16 surrogate before");
      }
      break;
    case S_NUM: {
      size_t j = i;
      while (j < len && num_char_ok(p, u[j]))
        j++;
      if (j > i) {
        tok_append(p, buf + i, j - i);
        i = j;
        continue;
      }
      /* c ends the number: check it, then read c again as a token. */
      if (!num_complete(p)) {
        rc = syntax(p, off, c, "bad number before");
        break;
      }
      after_value(p);
      rc = on_scalar(p, K_NUM);
      if (rc)
        return rc;
      continue;
    }
    case S_LIT:
      if (c != (unsigned char)p->lit[p->lit_pos]) {
        rc = syntax(p, off, c, "bad literal at");
        break;
      }
      if (p->lit[++p->lit_pos] == '\0') {
        after_value(p);
        rc = on_scalar(p, p->lit_kind);
      }
      break;
    case S_SKIP_LINE:
      if (c == '\n') {
        rc = line_end(p, off);
      } else {
        const void *nl = memchr(buf + i, '\n', len - i);
        i = nl ? (size_t)((const char *)nl - buf) : len;
        continue;
      }
      break;
    }
    if (rc)
      return rc;
    /* A syntax error in NDJSON moved us to S_SKIP_LINE: read this byte
     * again there, so an offending '\n' still ends the line. */
    if (p->st == S_SKIP_LINE && c == '\n')
      continue;
    i++;
  }
  p->base += len;
  return 0;
}

int bulk_parser_finish(struct vg_bulk_parser *p)
{
  if (p->err)
    return p->err;
  if (p->st == S_NUM && p->depth == 0 && num_complete(p)) {
    int rc;
    p->st = S_END;
    rc = on_scalar(p, K_NUM);
    if (rc)
      return rc;
  }
  if (p->fmt == VG_BULK_NDJSON) {
    if (p->st == S_SKIP_LINE || p->st == S_END ||
        (p->st == S_VALUE && p->depth == 0))
      return line_end(p, p->base);
  } else {
    if (p->st == S_END)
      return 0;
    if (p->st == S_VALUE && p->depth == 0)
      return fatal(p, -VG_EBADJSON, "empty body");
  }
  return fatal(p, -VG_ETRUNCATED, "body ends inside a value at byte %zu",
               p->base);
}

/* ---- lifecycle ---------------------------------------------------------- */

struct vg_bulk_parser *bulk_parser_new(enum vg_bulk_format fmt,
                                       size_t max_items, vg_bulk_item_cb cb,
                                       void *ctx)
{
  struct vg_bulk_parser *p = vg_malloc(sizeof *p);
  if (!p)
    return NULL;
  memset(p, 0, sizeof *p);
  item_reset(&p->it);
  item_reset(&p->hdr);
  p->fmt = fmt;
  p->max_items = max_items ? max_items : DEFAULT_MAX_ITEMS;
  p->cb = cb;
  p->ctx = ctx;
  p->st = S_VALUE;
  return p;
}

const char *bulk_parser_error(const struct vg_bulk_parser *p)
{
  return p->err ? p->msg : "";
}

size_t bulk_parser_count(const struct vg_bulk_parser *p)
{
  return p->count;
}

void bulk_parser_free(struct vg_bulk_parser *p)
{
  if (!p)
    return;
  vg_free(p->vals);
  vg_free(p);
}
