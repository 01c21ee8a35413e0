/* ingest_hl7.c - HL7 v2 parser, ORU^R01 / IHE PCD-01 and ADT mapping onto
 * the ingest path, and ACK building (see ingest_hl7.h, docs/gateways.md). */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "core_alloc.h"
#include "core_arena.h"
#include "core_buf.h"
#include "core_errors.h"
#include "core_time.h"
#include "ingest.h"
#include "ingest_hl7.h"
#include "store.h"
#include "store_writer.h"

/* ==== parser ============================================================ */

static int is_upper_or_digit(char c)
{
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
}

static int is_alnum(char c)
{
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
         (c >= 'a' && c <= 'z');
}

/* RFC 3629 UTF-8 (no overlongs, surrogates or code points > U+10FFFF). */
static int utf8_valid(const unsigned char *s, size_t len)
{
  size_t i = 0;
  while (i < len) {
    unsigned c = s[i];
    size_t n;
    unsigned cp, min;
    if (c < 0x80) {
      i++;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      n = 1; cp = c & 0x1F; min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2; cp = c & 0x0F; min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3; cp = c & 0x07; min = 0x10000;
    } else {
      return 0;
    }
    if (i + n >= len)
      return 0;
    for (size_t k = 1; k <= n; k++) {
      if ((s[i + k] & 0xC0) != 0x80)
        return 0;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return 0;
    i += n + 1;
  }
  return 1;
}

/* MSH-18 (raw) names a charset we accept: "" / ASCII / UNICODE UTF-8. */
static int charset(const char *s, size_t len, int *out_utf8)
{
  if (len == 0) {
    *out_utf8 = 1; /* unspecified: ASCII, and UTF-8 tolerated */
    return 0;
  }
  if (len == 5 && !memcmp(s, "ASCII", 5)) {
    *out_utf8 = 0;
    return 0;
  }
  if ((len == 13 && !memcmp(s, "UNICODE UTF-8", 13)) ||
      (len == 5 && !memcmp(s, "UTF-8", 5))) {
    *out_utf8 = 1;
    return 0;
  }
  return -1;
}

int hl7_parse(const char *msg, size_t len, struct vg_hl7 *m,
              const char **out_why)
{
  const char *why = NULL;
  const char *p = msg, *end = msg + len, *cs;
  size_t cs_len;
  memset(m, 0, offsetof(struct vg_hl7, seg));
  if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
    p += 3;
  if (memchr(p, '\0', (size_t)(end - p))) {
    why = "message contains a NUL byte";
    goto fail;
  }
  while (p < end) {
    const char *e = p;
    while (e < end && *e != '\r' && *e != '\n')
      e++;
    if (e > p) {
      if (m->n_seg == VG_HL7_MAX_SEGS) {
        why = "too many segments";
        goto fail;
      }
      m->seg[m->n_seg].p = p;
      m->seg[m->n_seg].len = (size_t)(e - p);
      m->n_seg++;
    }
    p = e;
    while (p < end && (*p == '\r' || *p == '\n'))
      p++;
  }
  if (m->n_seg == 0 || m->seg[0].len < 8 || memcmp(m->seg[0].p, "MSH", 3)) {
    why = "message does not start with an MSH segment";
    goto fail;
  }
  {
    const char *h = m->seg[0].p;
    char d[5];
    size_t n_enc = 0;
    d[0] = h[3];
    while (n_enc < 4 && 4 + n_enc < m->seg[0].len && h[4 + n_enc] != d[0])
      n_enc++;
    if (n_enc != 4 || 8 >= m->seg[0].len || h[8] != d[0]) {
      why = "MSH-2 must hold four encoding characters";
      goto fail;
    }
    memcpy(d + 1, h + 4, 4);
    for (int i = 0; i < 5; i++) {
      if (is_alnum(d[i]) || (unsigned char)d[i] < 0x21 ||
          (unsigned char)d[i] > 0x7E) {
        why = "MSH delimiters must be printable non-alphanumeric";
        goto fail;
      }
      for (int k = 0; k < i; k++)
        if (d[k] == d[i]) {
          why = "MSH delimiters must be distinct";
          goto fail;
        }
    }
    m->fs = d[0];
    m->cs = d[1];
    m->rs = d[2];
    m->ec = d[3];
    m->ss = d[4];
  }
  for (size_t i = 1; i < m->n_seg; i++) {
    const char *s = m->seg[i].p;
    if (m->seg[i].len < 3 || !is_upper_or_digit(s[0]) ||
        !is_upper_or_digit(s[1]) || !is_upper_or_digit(s[2]) || (m->seg[i].len > 3 && s[3] != m->fs)) {
      why = "segment id must be three letters or digits";
      goto fail;
    }
  }
  hl7_raw(m, 0, 18, 0, 0, 0, &cs, &cs_len);
  if (charset(cs, cs_len, &m->utf8)) {
    why = "MSH-18 charset not supported (ASCII or UNICODE UTF-8)";
    goto fail;
  }
  for (size_t i = 0; i < m->n_seg; i++) {
    const unsigned char *s = (const unsigned char *)m->seg[i].p;
    size_t n = m->seg[i].len;
    if (!m->utf8) {
      for (size_t k = 0; k < n; k++)
        if (s[k] >= 0x80) {
          why = "non-ASCII byte in a message declared ASCII (MSH-18)";
          goto fail;
        }
    } else if (!utf8_valid(s, n)) {
      why = "invalid UTF-8";
      goto fail;
    }
  }
  if (out_why)
    *out_why = NULL;
  return 0;
fail:
  m->n_seg = 0;
  if (out_why)
    *out_why = why;
  return -VG_EINVAL;
}

size_t hl7_find(const struct vg_hl7 *m, const char *id, size_t from)
{
  for (size_t i = from; i < m->n_seg; i++)
    if (!memcmp(m->seg[i].p, id, 3))
      return i;
  return m->n_seg;
}

/* The n-th (0-based) piece of s[0..len) split at sep. */
static void piece(const char *s, size_t len, char sep, int n,
                  const char **out, size_t *out_len)
{
  const char *end = s + len;
  while (n > 0 && s < end) {
    const char *q = memchr(s, sep, (size_t)(end - s));
    if (!q) {
      s = end;
      break;
    }
    s = q + 1;
    n--;
  }
  if (n > 0 || s > end) {
    *out = end;
    *out_len = 0;
    return;
  }
  {
    const char *q = memchr(s, sep, (size_t)(end - s));
    *out = s;
    *out_len = (size_t)((q ? q : end) - s);
  }
}

/* Field f of seg, raw with all repetitions. */
static void field(const struct vg_hl7 *m, size_t seg, int f, const char **out,
                  size_t *out_len)
{
  const struct vg_hl7_seg *s;
  /* MSH numbering only for the header (hl7_parse checked its length); a
   * later segment named MSH is split like any other */
  int is_msh = seg == 0;
  *out = "";
  *out_len = 0;
  if (f < 1 || seg >= m->n_seg)
    return;
  s = &m->seg[seg];
  *out = s->p + s->len;
  if (is_msh && f == 1) {
    *out = s->p + 3;
    *out_len = 1;
    return;
  }
  if (is_msh && f == 2) {
    *out = s->p + 4;
    *out_len = 4;
    return;
  }
  piece(s->p, s->len, m->fs, is_msh ? f - 1 : f, out, out_len);
}

void hl7_raw(const struct vg_hl7 *m, size_t seg, int f, int rep, int c,
             int s, const char **out, size_t *out_len)
{
  const char *p;
  size_t n;
  field(m, seg, f, &p, &n);
  if (seg == 0 && m->n_seg > 0 && f <= 2) {
    *out = p;
    *out_len = rep == 0 && c <= 1 && s <= 1 ? n : 0;
    return;
  }
  piece(p, n, m->rs, rep, &p, &n);
  if (c > 0)
    piece(p, n, m->cs, c - 1, &p, &n);
  if (c > 0 && s > 0)
    piece(p, n, m->ss, s - 1, &p, &n);
  *out = p;
  *out_len = n;
}

int hl7_reps(const struct vg_hl7 *m, size_t seg, int f)
{
  const char *p;
  size_t n;
  int k = 1;
  field(m, seg, f, &p, &n);
  if (n == 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    k += p[i] == m->rs;
  return k;
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

int hl7_get(const struct vg_hl7 *m, size_t seg, int f, int rep, int c,
            int s, char *buf, size_t buf_len)
{
  const char *p;
  size_t n, o = 0;
  hl7_raw(m, seg, f, rep, c, s, &p, &n);
  if (seg == 0 && m->n_seg > 0 && f <= 2) {
    if (n >= buf_len)
      return -VG_ETOOBIG;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return (int)n;
  }
  for (size_t i = 0; i < n; i++) {
    char out[64];
    size_t k = 0;
    if (p[i] == m->ec) {
      const char *q = memchr(p + i + 1, m->ec, n - i - 1);
      size_t el = q ? (size_t)(q - (p + i + 1)) : 0;
      const char *e = p + i + 1;
      if (!q || el == 0) {
        out[k++] = p[i]; /* lone escape character: kept literally */
      } else {
        if (el == 1 && *e == 'F')
          out[k++] = m->fs;
        else if (el == 1 && *e == 'S')
          out[k++] = m->cs;
        else if (el == 1 && *e == 'T')
          out[k++] = m->ss;
        else if (el == 1 && *e == 'R')
          out[k++] = m->rs;
        else if (el == 1 && *e == 'E')
          out[k++] = m->ec;
        else if (*e == 'X' && el % 2 == 1 && el <= 2 * sizeof out) {
          for (size_t h = 1; h + 1 < el + 1; h += 2) {
            int hi = hexval(e[h]), lo = hexval(e[h + 1]);
            if (hi < 0 || lo < 0 || (hi | lo) == 0) { /* no NUL in text */
              k = 0;
              break;
            }
            out[k++] = (char)(hi * 16 + lo);
          }
          /* decoded bytes must keep the text valid in the charset */
          if (!utf8_valid((const unsigned char *)out, k))
            k = 0;
          for (size_t h = 0; h < k && !m->utf8; h++)
            if ((unsigned char)out[h] >= 0x80)
              k = 0;
        }
        /* other escapes (\H\ \N\ \.br\ \Cxxyy\ ...) are formatting: dropped */
        i += el + 1;
      }
    } else {
      out[k++] = p[i];
    }
    if (o + k >= buf_len)
      return -VG_ETOOBIG;
    memcpy(buf + o, out, k);
    o += k;
  }
  if (o >= buf_len)
    return -VG_ETOOBIG;
  buf[o] = '\0';
  return (int)o;
}

static int digits(const char *s, size_t n, int *out)
{
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

int hl7_time(const char *s, size_t len, int64_t *out_ms, int16_t *out_off)
{
  int part[6] = {0, 1, 1, 0, 0, 0};
  static const int width[6] = {4, 2, 2, 2, 2, 2};
  static const int hi[6] = {9999, 12, 31, 23, 59, 60};
  size_t i = 0, n_dig = 0;
  int frac_ms = 0, off = 0, has_off = 0;
  int64_t days;
  while (n_dig < len && s[n_dig] >= '0' && s[n_dig] <= '9')
    n_dig++;
  if (n_dig < 8 || n_dig > 14 || n_dig % 2)
    return -VG_EINVAL;
  for (int k = 0; k < 6 && i < n_dig; k++) {
    if (digits(s + i, (size_t)width[k], &part[k]))
      return -VG_EINVAL;
    if (part[k] > hi[k] || (k > 0 && k < 3 && part[k] < 1) || part[0] < 1800)
      return -VG_EINVAL;
    i += (size_t)width[k];
  }
  if (i < len && s[i] == '.') {
    int scale = 100;
    size_t f0 = ++i;
    if (n_dig != 14)
      return -VG_EINVAL;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
      frac_ms += (s[i] - '0') * scale;
      scale /= 10;
      i++;
    }
    if (i == f0 || i - f0 > 4)
      return -VG_EINVAL;
  }
  if (i < len && (s[i] == '+' || s[i] == '-')) {
    int hh, mm;
    if (len - i != 5 || digits(s + i + 1, 2, &hh) ||
        digits(s + i + 3, 2, &mm) || hh > 14 || mm > 59)
      return -VG_EINVAL;
    off = (hh * 60 + mm) * (s[i] == '-' ? -1 : 1);
    has_off = 1;
    i = len;
  }
  if (i != len)
    return -VG_EINVAL;
  if (part[5] == 60)
    part[5] = 59; /* leap second: clamp */
  {
    static const int mdays[12] = {31, 29, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
    int leap = (part[0] % 4 == 0 && part[0] % 100) || part[0] % 400 == 0;
    if (part[2] > mdays[part[1] - 1] || (part[1] == 2 && part[2] == 29 && !leap))
      return -VG_EINVAL;
  }
  days = vg_days_from_civil(part[0], (unsigned)part[1], (unsigned)part[2]);
  *out_ms = ((days * 24 + part[3]) * 60 + part[4]) * 60000LL +
            part[5] * 1000LL + frac_ms - off * 60000LL;
  *out_off = has_off ? (int16_t)off : VG_TZ_UNKNOWN;
  return 0;
}

/* ==== code and unit tables ============================================== */

/* OBX-3 codes beyond codes_find() (which knows codes.def and its LOINC
 * aliases). MDC numbers are IEEE 11073-10101 term codes (partition 2,
 * 65536 * 2 + term); the reference ids are the standard's names. */
static const struct {
  const char *code, *refid, *name;
} obs_table[] = {
    {"150021", "MDC_PRESS_BLD_NONINV_SYS", "sbp"},
    {"150022", "MDC_PRESS_BLD_NONINV_DIA", "dbp"},
    {"150017", "MDC_PRESS_BLD_SYS", "sbp"},
    {"150018", "MDC_PRESS_BLD_DIA", "dbp"},
    {"147842", "MDC_ECG_HEART_RATE", "hr"},
    {"149530", "MDC_PULS_OXIM_PULS_RATE", "hr"},
    {"149546", "MDC_PULS_RATE_NON_INV", "hr"},
    {"149514", "MDC_PULS_RATE", "hr"},
    {"150456", "MDC_PULS_OXIM_SAT_O2", "spo2"},
    {"151562", "MDC_RESP_RATE", "resp"},
    {"151594", "MDC_CO2_RESP_RATE", "resp"},
    {"150344", "MDC_TEMP", "temp"},
    {"150364", "MDC_TEMP_BODY", "temp"},
    {"188496", "MDC_TEMP_TYMP", "temp"},
    {"188424", "MDC_TEMP_ORAL", "temp"},
    /* LOINC (loinc.org): codes a monitor or lab sends that codes.def lacks */
    {"8889-8", NULL, "hr"},   /* heart rate by pulse oximetry */
    {"2710-2", NULL, "spo2"}, /* O2 saturation in capillary blood, oximetry */
    {"8331-1", NULL, "temp"}, /* oral temperature */
    {"8310-5", NULL, "temp"}, /* body temperature */
    {"1554-5", NULL, "fpg"},  /* glucose serum/plasma, 12 h fasting */
};

/* OBX-6 units: MDC (IEEE 11073-10101 partition 4 codes and names) and the
 * non-UCUM spellings monitors and labs send, to the UCUM units.def takes. */
static const struct {
  const char *code, *refid, *ucum;
} unit_table[] = {
    {"266016", "MDC_DIM_MMHG", "mm[Hg]"},
    {"3872", "MDC_DIM_KILO_PASCAL", "kPa"},
    {"264864", "MDC_DIM_BEAT_PER_MIN", "/min"},
    {"264928", "MDC_DIM_RESP_PER_MIN", "/min"},
    {"262688", "MDC_DIM_PERCENT", "%"},
    {"268192", "MDC_DIM_DEGC", "Cel"},
    {"266560", "MDC_DIM_FAHR", "[degF]"},
    {"2130", "MDC_DIM_MILLI_G_PER_DL", "mg/dL"},
    {"4722", "MDC_DIM_MILLI_MOLE_PER_L", "mmol/L"},
    {"1731", "MDC_DIM_KILO_G", "kg"},
    {"mmHg", NULL, "mm[Hg]"},
    {"mm(hg)", NULL, "mm[Hg]"},
    {"{beat}/min", NULL, "/min"},
    {"{beats}/min", NULL, "/min"},
    {"{breath}/min", NULL, "/min"},
    {"{Breaths}/min", NULL, "/min"},
    {"mg/dl", NULL, "mg/dL"},
    {"mmol/l", NULL, "mmol/L"},
    {"degC", NULL, "Cel"},
};

static int eqn(const char *a, const char *s, size_t n)
{
  return a && strlen(a) == n && !memcmp(a, s, n);
}

/* Vigil short name for an OBX-3 (CWE) value, or NULL. Tries the identifier
 * and the alternate identifier (components 1 and 4), and for MDC the
 * reference id in the text component. */
static const char *map_code(const struct vg_hl7 *m, size_t seg)
{
  for (int c = 1; c <= 5; c += 1) {
    const char *p;
    size_t n;
    const struct vg_code *k;
    if (c == 3)
      continue;
    hl7_raw(m, seg, 3, 0, c, 0, &p, &n);
    if (n == 0)
      continue;
    for (size_t i = 0; i < sizeof obs_table / sizeof obs_table[0]; i++)
      if (eqn(obs_table[i].code, p, n) || eqn(obs_table[i].refid, p, n))
        return obs_table[i].name;
    if (c != 2 && c != 5 && (k = codes_find(p, n)) != NULL)
      return k->name;
  }
  return NULL;
}

/* OBX-6 -> unit text for ingest (UCUM), or the identifier as given. */
static void map_unit(const struct vg_hl7 *m, size_t seg, char *buf,
                     size_t buf_len)
{
  char id[64], text[64];
  buf[0] = '\0';
  if (hl7_get(m, seg, 6, 0, 1, 0, id, sizeof id) < 0)
    id[0] = '\0';
  if (hl7_get(m, seg, 6, 0, 2, 0, text, sizeof text) < 0)
    text[0] = '\0';
  for (size_t i = 0; i < sizeof unit_table / sizeof unit_table[0]; i++) {
    if (!strcmp(unit_table[i].code, id) ||
        (unit_table[i].refid && (!strcmp(unit_table[i].refid, id) ||
                                 !strcmp(unit_table[i].refid, text)))) {
      snprintf(buf, buf_len, "%s", unit_table[i].ucum);
      return;
    }
  }
  snprintf(buf, buf_len, "%s", id);
}

/* ==== ACK building ====================================================== */

#define MAX_ERRS 16

struct hl7_err {
  char seg[4];
  int seq, fld, comp;
  int code;        /* HL7 table 0357 */
  char msg[160];
};

struct ack_state {
  const char *ack; /* "AA", "AE", "AR" */
  size_t n_err;
  struct hl7_err err[MAX_ERRS];
};

static const char *err_text(int code)
{
  switch (code) {
  case 100: return "Segment sequence error";
  case 101: return "Required field missing";
  case 102: return "Data type error";
  case 103: return "Table value not found";
  case 200: return "Unsupported message type";
  case 201: return "Unsupported event code";
  case 203: return "Unsupported version id";
  case 204: return "Unknown key identifier";
  case 206: return "Application record locked";
  default: return "Application internal error";
  }
}

static void add_err(struct ack_state *st, const char *ack, const char *seg,
                    int seq, int fld, int comp, int code, const char *fmt,
                    ...) __attribute__((format(printf, 8, 9)));

static void add_err(struct ack_state *st, const char *ack, const char *seg,
                    int seq, int fld, int comp, int code, const char *fmt, ...)
{
  va_list ap;
  struct hl7_err *e;
  /* AR outranks AE outranks AA */
  if (!strcmp(ack, "AR") || strcmp(st->ack, "AR"))
    st->ack = ack;
  if (st->n_err == MAX_ERRS)
    return;
  e = &st->err[st->n_err++];
  snprintf(e->seg, sizeof e->seg, "%s", seg);
  e->seq = seq;
  e->fld = fld;
  e->comp = comp;
  e->code = code;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
  /* Quoted field values are cut at a byte count (and the message at its
   * size): never let a cut character make the ACK invalid UTF-8. */
  utf8_scrub(e->msg);
}

/* Append s escaped for the ACK's standard delimiters |^~\&. */
static void put_esc(struct vg_buf *b, const char *s)
{
  for (; *s; s++) {
    switch (*s) {
    case '|': buf_puts(b, "\\F\\"); break;
    case '^': buf_puts(b, "\\S\\"); break;
    case '~': buf_puts(b, "\\R\\"); break;
    case '&': buf_puts(b, "\\T\\"); break;
    case '\\': buf_puts(b, "\\E\\"); break;
    case '\r': case '\n': buf_putc(b, ' '); break;
    default: buf_putc(b, *s);
    }
  }
}

/* Components 1..n_comp of MSH field f (first repetition), re-encoded. */
static void put_comps(struct vg_buf *b, const struct vg_hl7 *m, int f,
                      int n_comp)
{
  char v[256];
  int last = 0;
  for (int c = 1; c <= n_comp; c++)
    if (hl7_get(m, 0, f, 0, c, 0, v, sizeof v) > 0)
      last = c;
  for (int c = 1; c <= last; c++) {
    if (c > 1)
      buf_putc(b, '^');
    if (hl7_get(m, 0, f, 0, c, 0, v, sizeof v) > 0)
      put_esc(b, v);
  }
}

static void build_ack(struct vg_buf *b, const struct vg_hl7 *m, int parsed,
                      const struct ack_state *st, int64_t now_ms)
{
  char ctl[200] = "", trig[16] = "", ts[32];
  int64_t s = now_ms / 1000, days = s / 86400, sod = s % 86400;
  int64_t y, mo, d;
  /* civil_from_days (Hinnant), UTC */
  {
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    mo = mp < 10 ? mp + 3 : mp - 9;
    y = yoe + era * 400 + (mo <= 2);
  }
  snprintf(ts, sizeof ts, "%04lld%02lld%02lld%02lld%02lld%02lld+0000",
           (long long)y, (long long)mo, (long long)d, (long long)(sod / 3600),
           (long long)(sod / 60 % 60), (long long)(sod % 60));
  if (parsed) {
    if (hl7_get(m, 0, 10, 0, 0, 0, ctl, sizeof ctl) < 0)
      ctl[0] = '\0';
    if (hl7_get(m, 0, 9, 0, 2, 0, trig, sizeof trig) < 0)
      trig[0] = '\0';
  }
  buf_puts(b, "MSH|^~\\&|");
  if (parsed) {
    put_comps(b, m, 5, 3);
    buf_putc(b, '|');
    put_comps(b, m, 6, 3);
    buf_putc(b, '|');
    put_comps(b, m, 3, 3);
    buf_putc(b, '|');
    put_comps(b, m, 4, 3);
  } else {
    buf_puts(b, "VIGIL|||");
  }
  buf_printf(b, "|%s||ACK^", ts);
  put_esc(b, trig);
  buf_puts(b, "^ACK|ACK");
  put_esc(b, ctl);
  buf_puts(b, "|P|");
  {
    char ver[32] = "2.5.1";
    if (parsed && (hl7_get(m, 0, 12, 0, 1, 0, ver, sizeof ver) <= 0))
      snprintf(ver, sizeof ver, "2.5.1");
    put_esc(b, ver);
  }
  buf_printf(b, "\rMSA|%s|", st->ack);
  put_esc(b, ctl);
  buf_putc(b, '\r');
  for (size_t i = 0; i < st->n_err; i++) {
    const struct hl7_err *e = &st->err[i];
    buf_printf(b, "ERR||%s^%d", e->seg, e->seq);
    if (e->fld > 0)
      buf_printf(b, "^%d", e->fld);
    if (e->comp > 0)
      buf_printf(b, "^1^%d", e->comp);
    buf_printf(b, "|%d^%s^HL70357|E||||", e->code, err_text(e->code));
    put_esc(b, e->msg);
    buf_putc(b, '\r');
  }
}

/* ==== patients ========================================================== */

int hl7_patient_key(const struct vg_hl7 *m, size_t pid_seg, int rep,
                    char *buf, size_t buf_len)
{
  char id[VG_ID_MAX], auth[VG_ID_MAX];
  int n = hl7_get(m, pid_seg, 3, rep, 1, 0, id, sizeof id);
  int a;
  if (n < 0)
    return -VG_ETOOBIG;
  if (n == 0)
    return 0;
  a = hl7_get(m, pid_seg, 3, rep, 4, 1, auth, sizeof auth);
  if (a == 0)
    a = hl7_get(m, pid_seg, 3, rep, 4, 2, auth, sizeof auth);
  if (a < 0)
    return -VG_ETOOBIG;
  n = a > 0 ? snprintf(buf, buf_len, "%s:%s", auth, id)
            : snprintf(buf, buf_len, "%s", id);
  return n < 0 || (size_t)n >= buf_len ? -VG_ETOOBIG : n;
}

/* Patient by external identifier: one indexed lookup (patient.identifier
 * is UNIQUE, so both backends answer it from the index). */
static int id_cb(void *ctx, const struct vg_val *cols, size_t n_cols)
{
  if (n_cols < 1 || cols[0].type != VG_VAL_INT)
    return -VG_ESTORE;
  *(int64_t *)ctx = cols[0].i;
  return 1;
}

static int patient_id_by_identifier(struct vg_txn *t, const char *key,
                                    int64_t *out_id)
{
  struct vg_val k = VG_TEXT(key);
  int64_t id = 0;
  int rc = store_sql(t, "SELECT id FROM patient WHERE identifier = $1", &k,
                     1, id_cb, &id, NULL);
  *out_id = 0;
  if (rc == 0)
    return -VG_ENOTFOUND;
  if (rc != 1)
    return rc;
  *out_id = id;
  return 0;
}

static int patient_by_identifier(struct vg_txn *t, const char *key,
                                 struct vg_patient *out)
{
  int64_t id;
  int rc = patient_id_by_identifier(t, key, &id);
  if (rc)
    return rc;
  return store_patient_get(t, id, out);
}

/* Find the patient named by any PID-3 repetition. OUT: *out_id, key of
 * the first repetition in first_key. Returns 0, -VG_ENOTFOUND, -VG_EINVAL
 * (no identifier) or a store error. */
static int resolve_patient(const struct vg_hl7_ctx *ctx,
                           const struct vg_hl7 *m, size_t pid,
                           int64_t *out_id, char *first_key, size_t key_len)
{
  struct vg_txn *t = NULL;
  int64_t id;
  int reps = hl7_reps(m, pid, 3), rc, any = 0;
  *out_id = 0;
  first_key[0] = '\0';
  rc = store_begin(ctx->store, VG_TXN_READ, &t);
  if (rc)
    return rc;
  rc = -VG_ENOTFOUND;
  for (int r = 0; r < reps; r++) {
    char key[VG_ID_MAX];
    int n = hl7_patient_key(m, pid, r, key, sizeof key);
    int lrc;
    if (n <= 0)
      continue;
    if (!any++)
      snprintf(first_key, key_len, "%s", key);
    lrc = patient_id_by_identifier(t, key, &id);
    if (lrc == 0) {
      *out_id = id;
      rc = 0;
      break;
    }
    if (lrc != -VG_ENOTFOUND) {
      rc = lrc;
      break;
    }
  }
  store_rollback(t);
  if (rc == -VG_ENOTFOUND && !any)
    rc = -VG_EINVAL;
  return rc;
}

/* ==== ORU^R01 =========================================================== */

/* Result statuses (HL7 table 0085) that carry a value to store. */
static int status_storable(const char *s, size_t n)
{
  if (n == 0)
    return 1;
  return n == 1 && strchr("FCURPS", s[0]) != NULL;
}

/* Strict HL7 NM: [+-]digits[.digits] (or .digits). */
static int parse_nm(const char *s, double *out)
{
  const char *p = s;
  char *end;
  int n_dig = 0;
  if (*p == '+' || *p == '-')
    p++;
  while (*p >= '0' && *p <= '9') {
    p++;
    n_dig++;
  }
  if (*p == '.') {
    p++;
    while (*p >= '0' && *p <= '9') {
      p++;
      n_dig++;
    }
  }
  if (*p || n_dig == 0 || n_dig > 30)
    return -1;
  *out = strtod(s, &end);
  return isfinite(*out) ? 0 : -1;
}

struct obx_ref {
  int seq; /* OBX ordinal (1-based) in the message, for ERR */
  int time_fld; /* 14 = OBX-14, 7 = OBR-7 (seg OBR), 0 = MSH-7 */
};

/* Which field a validation reject reason points at. */
static int reject_field(const char *reason, int *out_code)
{
  *out_code = 102;
  if (!strncmp(reason, "unit", 4)) {
    *out_code = 103;
    return 6;
  }
  if (!strncmp(reason, "time", 4) || !strncmp(reason, "invalid time", 12))
    return 14;
  if (!strncmp(reason, "unknown patient", 15) ||
      strstr(reason, "not permitted")) {
    *out_code = 204;
    return 3;
  }
  return 5;
}

static int process_oru(const struct vg_hl7_ctx *ctx, const struct vg_hl7 *m,
                       struct vg_arena *a, struct ack_state *st,
                       struct vg_hl7_outcome *oc)
{
  struct vg_ingest_opts opts = {0};
  struct vg_ingest_batch *b;
  struct vg_ingest_result res;
  struct obx_ref *refs;
  char src_default[VG_ID_MAX] = "hl7";
  size_t pid = hl7_find(m, "PID", 0), obr = m->n_seg, n_obx = 0, n_ref = 0;
  int64_t patient = 0;
  int rc, obx_seq = 0;

  if (pid == m->n_seg) {
    add_err(st, "AE", "PID", 1, 0, 0, 100, "PID segment missing");
    return 0;
  }
  for (size_t i = 0; i < m->n_seg; i++)
    n_obx += !memcmp(m->seg[i].p, "OBX", 3);
  refs = arena_alloc(a, (n_obx + 1) * sizeof *refs);
  opts.now_ms = ctx->now_ms ? ctx->now_ms : vg_now_ms();
  opts.future_ms = ctx->future_ms;
  opts.default_source = "hl7";
  b = refs ? ingest_batch_new(a, &opts) : NULL;
  if (!b)
    return -VG_ENOMEM;
  if (hl7_get(m, 0, 3, 0, 1, 0, src_default, sizeof src_default) <= 0)
    snprintf(src_default, sizeof src_default, "hl7");

  for (size_t i = 0; i < m->n_seg; i++) {
    const char *sid = m->seg[i].p;
    char key[VG_ID_MAX], pbuf[24], vtype[8], val[64], unit[64], src[VG_ID_MAX];
    const char *name, *tp, *stp;
    size_t tn, stn;
    struct vg_raw_reading raw;
    double v;
    int64_t t_ms;
    int16_t off;
    int tfld, tseq = obx_seq + 1;

    if (!memcmp(sid, "PID", 3)) {
      int seq = (int)(i == pid ? 1 : 2);
      rc = resolve_patient(ctx, m, i, &patient, key, sizeof key);
      if (rc == -VG_EINVAL) {
        add_err(st, "AE", "PID", seq, 3, 0, 101,
                "PID-3 patient identifier missing");
      } else if (rc == -VG_ENOTFOUND) {
        add_err(st, "AE", "PID", seq, 3, 0, 204,
                "unknown patient identifier '%.64s'", key);
      } else if (rc) {
        add_err(st, "AR", "PID", seq, 3, 0, 207, "store: %s",
                vg_strerror(rc));
        return 0;
      }
      if (rc)
        patient = 0;
      if (!oc->patient_id)
        oc->patient_id = patient;
      continue;
    }
    if (!memcmp(sid, "OBR", 3)) {
      obr = i;
      continue;
    }
    if (memcmp(sid, "OBX", 3))
      continue;
    obx_seq++;
    name = map_code(m, i);
    hl7_raw(m, i, 11, 0, 0, 0, &stp, &stn);
    if (!name || !status_storable(stp, stn)) {
      oc->ignored++;
      continue;
    }
    if (!patient) {
      oc->ignored++; /* the PID error is already reported */
      continue;
    }
    if (hl7_get(m, i, 2, 0, 0, 0, vtype, sizeof vtype) < 0)
      vtype[0] = '\0';
    if (!strcmp(vtype, "NM")) {
      if (hl7_get(m, i, 5, 0, 0, 0, val, sizeof val) < 0)
        val[0] = 'x', val[1] = '\0';
    } else if (!strcmp(vtype, "SN")) {
      char cmp[8], sep[8];
      if (hl7_get(m, i, 5, 0, 1, 0, cmp, sizeof cmp) < 0 ||
          hl7_get(m, i, 5, 0, 3, 0, sep, sizeof sep) < 0 ||
          (cmp[0] && strcmp(cmp, "=")) || sep[0]) {
        add_err(st, "AE", "OBX", tseq, 5, 0, 102,
                "OBX-5 structured numeric must be an exact value for %s",
                name);
        continue;
      }
      if (hl7_get(m, i, 5, 0, 2, 0, val, sizeof val) < 0)
        val[0] = 'x', val[1] = '\0';
    } else {
      add_err(st, "AE", "OBX", tseq, 2, 0, 102,
              "OBX-2 value type '%s' is not numeric (NM or SN) for %s", vtype,
              name);
      continue;
    }
    if (!val[0]) {
      add_err(st, "AE", "OBX", tseq, 5, 0, 101, "OBX-5 value missing for %s",
              name);
      continue;
    }
    if (parse_nm(val, &v)) {
      add_err(st, "AE", "OBX", tseq, 5, 0, 102,
              "OBX-5 '%.32s' is not a number", val);
      continue;
    }
    map_unit(m, i, unit, sizeof unit);
    /* time: OBX-14, else OBR-7 of the current order, else MSH-7 */
    hl7_raw(m, i, 14, 0, 1, 0, &tp, &tn);
    tfld = 14;
    if (tn == 0 && obr < m->n_seg) {
      hl7_raw(m, obr, 7, 0, 1, 0, &tp, &tn);
      tfld = 7;
    }
    if (tn == 0) {
      hl7_raw(m, 0, 7, 0, 1, 0, &tp, &tn);
      tfld = 0;
    }
    if (hl7_time(tp, tn, &t_ms, &off)) {
      if (tfld == 14)
        add_err(st, "AE", "OBX", tseq, 14, 0, 102,
                "OBX-14 '%.*s' is not an HL7 date/time", (int)(tn > 32 ? 32 : tn), tp);
      else if (tfld == 7)
        add_err(st, "AE", "OBR", 1, 7, 0, 102,
                "OBR-7 '%.*s' is not an HL7 date/time", (int)(tn > 32 ? 32 : tn), tp);
      else
        add_err(st, "AE", "MSH", 1, 7, 0, tn ? 102 : 101,
                "no observation time (OBX-14, OBR-7 or MSH-7)");
      continue;
    }
    if (hl7_get(m, i, 18, 0, 1, 0, src, sizeof src) <= 0)
      snprintf(src, sizeof src, "%s", src_default);
    snprintf(pbuf, sizeof pbuf, "%lld", (long long)patient);
    memset(&raw, 0, sizeof raw);
    raw.index = n_ref;
    raw.patient = pbuf;
    raw.patient_len = strlen(pbuf);
    raw.code = name;
    raw.code_len = strlen(name);
    raw.has_t = 1;
    raw.t_ms = t_ms;
    raw.tz_offset_min = off;
    raw.has_value = 1;
    raw.value = v;
    raw.unit = unit[0] ? unit : NULL;
    raw.unit_len = strlen(unit);
    raw.source = src;
    raw.source_len = strlen(src);
    refs[n_ref].seq = tseq;
    refs[n_ref].time_fld = tfld;
    n_ref++;
    rc = ingest_batch_add(b, &raw);
    if (rc)
      return rc;
  }
  if (n_ref == 0)
    return 0;
  rc = ingest_batch_commit(b, ctx->writer, 0, &res);
  if (rc) {
    add_err(st, "AR", "MSH", 1, 0, 0, 207, "readings not stored: %s",
            vg_strerror(rc));
    return 0;
  }
  oc->accepted = res.accepted;
  oc->duplicate = res.duplicate;
  oc->rejected = res.n_rejected;
  for (size_t k = 0; k < res.n_rejected; k++) {
    const struct vg_reject *r = &res.rejected[k];
    int code, fld = reject_field(r->reason, &code);
    const struct obx_ref *ref = &refs[r->index < n_ref ? r->index : 0];
    if (fld == 14 && ref->time_fld != 14)
      add_err(st, "AE", ref->time_fld == 7 ? "OBR" : "MSH", 1, 7, 0, code,
              "%s", r->reason);
    else if (fld == 3)
      add_err(st, "AE", "PID", 1, 3, 0, code, "%s", r->reason);
    else
      add_err(st, "AE", "OBX", ref->seq, fld, 0, code, "%s", r->reason);
  }
  return 0;
}

/* ==== ADT^A01/A04/A08 =================================================== */

struct adt_job {
  struct vg_patient p;
  int has_name, has_sex, has_birth; /* field present (else keep) */
  int created;
};

/* Write the ADT-owned fields of p (name, sex, birth date) to its row. */
static int patient_update(struct vg_txn *t, struct vg_patient *p)
{
  char sex[2] = {p->sex, '\0'};
  struct vg_val v[5];
  int64_t changes = 0;
  int rc;
  p->updated_ms = vg_now_ms();
  v[0] = VG_TEXT(p->name);
  v[1] = VG_TEXT(sex);
  v[2] = p->birth_date[0] ? VG_TEXT(p->birth_date) : VG_NULLV;
  v[3] = VG_INT(p->updated_ms);
  v[4] = VG_INT(p->id);
  rc = store_sql(t, "UPDATE patient SET name = $1, sex = $2, "
                 "birth_date = $3, updated_ms = $4 WHERE id = $5", v, 5,
                 NULL, NULL, &changes);
  if (rc)
    return rc;
  return changes == 1 ? 0 : -VG_ENOTFOUND;
}

static int adt_job(struct vg_txn *t, void *ctx)
{
  struct adt_job *j = ctx;
  struct vg_patient cur, old;
  int rc = patient_by_identifier(t, j->p.identifier, &cur);
  if (rc == -VG_ENOTFOUND) {
    if (!j->p.name[0])
      snprintf(j->p.name, sizeof j->p.name, "%s", j->p.identifier);
    if (!j->p.sex)
      j->p.sex = 'U';
    if (!j->p.tz[0])
      snprintf(j->p.tz, sizeof j->p.tz, "UTC");
    j->created = 1;
    return store_patient_create(t, &j->p);
  }
  if (rc)
    return rc;
  old = cur;
  if (j->has_name)
    memcpy(cur.name, j->p.name, sizeof cur.name);
  if (j->has_sex)
    cur.sex = j->p.sex;
  if (j->has_birth)
    memcpy(cur.birth_date, j->p.birth_date, sizeof cur.birth_date);
  j->created = 0;
  if (!memcmp(&cur, &old, sizeof cur)) {
    j->p = cur;
    return 0; /* nothing changes */
  }
  j->p = cur;
  return patient_update(t, &cur);
}

/* HL7: an empty field leaves the value unchanged; "" (two quotes) clears. */
static int is_null(const char *s)
{
  return !strcmp(s, "\"\"");
}

static int process_adt(const struct vg_hl7_ctx *ctx, const struct vg_hl7 *m,
                       struct ack_state *st, struct vg_hl7_outcome *oc)
{
  struct adt_job j;
  size_t pid = hl7_find(m, "PID", 0);
  char fam[VG_NAME_MAX], giv[VG_NAME_MAX], birth[32], sex[8];
  int n, rc;
  memset(&j, 0, sizeof j);
  if (pid == m->n_seg) {
    add_err(st, "AE", "PID", 1, 0, 0, 100, "PID segment missing");
    return 0;
  }
  n = 0;
  for (int r = 0; r < hl7_reps(m, pid, 3) && n == 0; r++)
    n = hl7_patient_key(m, pid, r, j.p.identifier, sizeof j.p.identifier);
  if (n < 0) {
    add_err(st, "AE", "PID", 1, 3, 0, 102, "PID-3 identifier too long");
    return 0;
  }
  if (n == 0) {
    add_err(st, "AE", "PID", 1, 3, 0, 101, "PID-3 patient identifier missing");
    return 0;
  }
  if (hl7_get(m, pid, 5, 0, 1, 1, fam, sizeof fam) < 0 ||
      hl7_get(m, pid, 5, 0, 2, 0, giv, sizeof giv) < 0) {
    add_err(st, "AE", "PID", 1, 5, 0, 102, "PID-5 name too long");
    return 0;
  }
  if (fam[0] || giv[0]) {
    j.has_name = 1;
    if (is_null(fam))
      fam[0] = '\0';
    n = snprintf(j.p.name, sizeof j.p.name, "%s%s%s", giv,
                 giv[0] && fam[0] ? " " : "", fam);
    if (n < 0 || (size_t)n >= sizeof j.p.name) {
      add_err(st, "AE", "PID", 1, 5, 0, 102, "PID-5 name too long");
      return 0;
    }
  }
  if (hl7_get(m, pid, 7, 0, 1, 0, birth, sizeof birth) < 0)
    snprintf(birth, sizeof birth, "x");
  if (is_null(birth)) {
    j.has_birth = 1;
  } else if (birth[0]) {
    int64_t ms;
    int16_t off;
    if (strlen(birth) < 8 || hl7_time(birth, 8, &ms, &off)) {
      add_err(st, "AE", "PID", 1, 7, 0, 102,
              "PID-7 '%.32s' is not a date of birth (YYYYMMDD)", birth);
      return 0;
    }
    j.has_birth = 1;
    snprintf(j.p.birth_date, sizeof j.p.birth_date, "%.4s-%.2s-%.2s", birth,
             birth + 4, birth + 6);
  }
  if (hl7_get(m, pid, 8, 0, 1, 0, sex, sizeof sex) < 0)
    sex[0] = '?', sex[1] = '\0';
  if (sex[0]) {
    /* HL7 table 0001 */
    j.has_sex = 1;
    if (is_null(sex) || !strcmp(sex, "U") || !strcmp(sex, "N"))
      j.p.sex = 'U';
    else if (!strcmp(sex, "M") || !strcmp(sex, "F") || !strcmp(sex, "O"))
      j.p.sex = sex[0];
    else if (!strcmp(sex, "A"))
      j.p.sex = 'O';
    else {
      add_err(st, "AE", "PID", 1, 8, 0, 103,
              "PID-8 '%.8s' is not an administrative sex (HL7 table 0001)",
              sex);
      return 0;
    }
  }
  if (!ctx->writer) {
    add_err(st, "AR", "MSH", 1, 0, 0, 207, "store unavailable");
    return 0;
  }
  rc = writer_exec(ctx->writer, 1, adt_job, &j);
  if (rc == -VG_ECONFLICT) {
    add_err(st, "AE", "PID", 1, 3, 0, 205, "identifier conflict");
    return 0;
  }
  if (rc) {
    add_err(st, "AR", "MSH", 1, 0, 0, 207, "patient not stored: %s",
            vg_strerror(rc));
    return 0;
  }
  oc->patient_id = j.p.id;
  oc->created = j.created;
  return 0;
}

/* ==== entry point ======================================================= */

int hl7_process(const struct vg_hl7_ctx *ctx, const char *msg, size_t len,
                struct vg_buf *ack, struct vg_hl7_outcome *out)
{
  struct vg_hl7 *m = vg_malloc(sizeof *m);
  struct vg_arena *a = NULL;
  struct ack_state st;
  struct vg_hl7_outcome oc;
  const char *why = NULL;
  char typ[8] = "", trig[8] = "", ver[16] = "";
  int parsed, rc = 0;

  memset(&oc, 0, sizeof oc);
  memset(&st, 0, sizeof st);
  st.ack = "AA";
  parsed = hl7_parse(msg, len, m, &why) == 0;
  if (!parsed) {
    add_err(&st, "AR", "MSH", 1, 0, 0, 102, "%s", why);
    goto done;
  }
  if (hl7_get(m, 0, 9, 0, 1, 0, typ, sizeof typ) < 0)
    typ[0] = '\0';
  if (hl7_get(m, 0, 9, 0, 2, 0, trig, sizeof trig) < 0)
    trig[0] = '\0';
  if (hl7_get(m, 0, 12, 0, 1, 0, ver, sizeof ver) < 0)
    ver[0] = '\0';
  snprintf(oc.type, sizeof oc.type, "%.3s^%.3s", typ, trig);
  if (strncmp(ver, "2.", 2)) {
    add_err(&st, "AR", "MSH", 1, 12, 0, 203,
            "MSH-12 version '%.15s' not supported (2.x)", ver);
    goto done;
  }
  if (!strcmp(typ, "ORU") && !strcmp(trig, "R01")) {
    a = arena_new(0);
    rc = a ? process_oru(ctx, m, a, &st, &oc) : -VG_ENOMEM;
  } else if (!strcmp(typ, "ADT") &&
             (!strcmp(trig, "A01") || !strcmp(trig, "A04") ||
              !strcmp(trig, "A08"))) {
    rc = process_adt(ctx, m, &st, &oc);
  } else if (!strcmp(typ, "ORU") || !strcmp(typ, "ADT")) {
    add_err(&st, "AR", "MSH", 1, 9, 2, 201,
            "event '%s^%s' not supported", typ, trig);
  } else {
    add_err(&st, "AR", "MSH", 1, 9, 1, 200,
            "message type '%s' not supported (ORU^R01, ADT^A01/A04/A08)",
            typ);
  }
  if (rc) {
    add_err(&st, "AR", "MSH", 1, 0, 0, 207, "%s", vg_strerror(rc));
    rc = 0;
  }
done:
  snprintf(oc.ack, sizeof oc.ack, "%s", st.ack);
  build_ack(ack, m, parsed, &st, ctx && ctx->now_ms ? ctx->now_ms
                                                     : vg_now_ms());
  if (out)
    *out = oc;
  arena_free(a);
  vg_free(m);
  return ack->err ? ack->err : rc;
}
