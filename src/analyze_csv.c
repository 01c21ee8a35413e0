/* analyze_csv.c - strict CSV and JSON readers for analysis input. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_csv.h"
#include "core_alloc.h"
#include "core_errors.h"
#include "core_time.h"

/* Epoch ms beyond 2^53 cannot be held exactly by the algorithms. */
#define MAX_ABS_MS 9007199254740992LL

static int errf(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int errf(char *err, size_t size, const char *fmt, ...)
{
  va_list ap;
  if (err && size) {
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
  }
  return -VG_EINVAL;
}

void analyze_input_free(struct analyze_input *in)
{
  if (!in)
    return;
  vg_free(in->t_ms);
  for (size_t k = 0; k < ANALYZE_CSV_MAX_COLS; k++)
    vg_free(in->v[k]);
  vg_free(in->line);
  memset(in, 0, sizeof *in);
  in->tz_offset_min = VG_TZ_UNKNOWN;
}

/* Grows every array of IN to hold CAP rows. */
static int grow(struct analyze_input *in, size_t cap)
{
  void *p;
  if (in->has_time) {
    p = vg_realloc(in->t_ms, cap * sizeof *in->t_ms);
    if (!p)
      return -VG_ENOMEM;
    in->t_ms = p;
  }
  for (size_t k = 0; k < in->n_values; k++) {
    p = vg_realloc(in->v[k], cap * sizeof *in->v[k]);
    if (!p)
      return -VG_ENOMEM;
    in->v[k] = p;
  }
  p = vg_realloc(in->line, cap * sizeof *in->line);
  if (!p)
    return -VG_ENOMEM;
  in->line = p;
  return 0;
}

/* Strict decimal: [+-]? (d+ (. d*)? | . d+) ([eE][+-]? d+)?, whole field.
 * Rejects nan, inf, hex and trailing junk that strtod would take. */
static int parse_number(const char *s, size_t len, double *out)
{
  char tmp[ANALYZE_CSV_MAX_FIELD + 1];
  size_t i = 0, digits = 0;
  char *end;
  if (len == 0 || len > ANALYZE_CSV_MAX_FIELD)
    return -1;
  if (s[i] == '+' || s[i] == '-')
    i++;
  while (i < len && s[i] >= '0' && s[i] <= '9')
    i++, digits++;
  if (i < len && s[i] == '.') {
    i++;
    while (i < len && s[i] >= '0' && s[i] <= '9')
      i++, digits++;
  }
  if (!digits)
    return -1;
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    size_t ed = 0;
    i++;
    if (i < len && (s[i] == '+' || s[i] == '-'))
      i++;
    while (i < len && s[i] >= '0' && s[i] <= '9')
      i++, ed++;
    if (!ed)
      return -1;
  }
  if (i != len)
    return -1;
  memcpy(tmp, s, len);
  tmp[len] = '\0';
  *out = strtod(tmp, &end);
  return 0;
}

/* RFC 3339 with an offset, or integer epoch ms. 0, or -1 if neither; -2 if
 * out of the representable range. */
static int parse_time(const char *s, size_t len, int64_t *out,
                      int16_t *out_off)
{
  size_t i = 0;
  int neg = 0;
  int64_t v = 0;
  *out_off = VG_TZ_UNKNOWN;
  if (len == 0 || len > ANALYZE_CSV_MAX_FIELD)
    return -1;
  if (s[0] == '-')
    neg = 1, i = 1;
  if (i < len && len - i <= 16) {
    size_t j = i;
    while (j < len && s[j] >= '0' && s[j] <= '9')
      v = v * 10 + (s[j++] - '0');
    if (j == len) {
      if (v > MAX_ABS_MS)
        return -2;
      *out = neg ? -v : v;
      return 0;
    }
  }
  if (vg_time_parse(s, len, out, out_off) != 0)
    return -1;
  if (*out > MAX_ABS_MS || *out < -MAX_ABS_MS)
    return -2;
  return 0;
}

static void trim(const char **s, size_t *len)
{
  while (*len && (**s == ' ' || **s == '\t'))
    (*s)++, (*len)--;
  while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
    (*len)--;
}

/* Field text for messages: at most 24 bytes, non-printables as '?'. */
static void show(const char *s, size_t len, char *buf, size_t size)
{
  size_t n = len < 24 ? len : 24, i;
  for (i = 0; i < n && i + 4 < size; i++)
    buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
  if (len > n && i + 4 < size) {
    memcpy(buf + i, "...", 3);
    i += 3;
  }
  buf[i] = '\0';
}

static int count_cols(const char *s, size_t len)
{
  int n = 1;
  for (size_t i = 0; i < len; i++)
    n += s[i] == ',';
  return n;
}

static int is_header(const char *s, size_t len)
{
  size_t i = 0;
  while (i < len && (s[i] == ' ' || s[i] == '\t'))
    i++;
  if (i == len)
    return 0;
  return (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
         s[i] == '"' || s[i] == '_';
}

/* Checks V (from row LINE, column COL) against the spec. */
static int check_value(const struct analyze_csv_spec *spec, double v,
                       size_t line, size_t col, size_t k, char *err,
                       size_t err_size)
{
  if (!isfinite(v))
    return errf(err, err_size, "line %zu, column %zu: %s is not finite",
                line, col, spec->names[k] ? spec->names[k] : "value");
  if (v < spec->min_value || v > spec->max_value)
    return errf(err, err_size,
                "line %zu, column %zu: %s %g is out of range [%g, %g]", line,
                col, spec->names[k] ? spec->names[k] : "value", v,
                spec->min_value, spec->max_value);
  return 0;
}

static int check_order(const struct analyze_csv_spec *spec,
                       const struct analyze_input *in, int64_t t,
                       int json, const char *what, char *err,
                       size_t err_size)
{
  size_t pl;
  int64_t prev;
  if (in->n == 0 || spec->order == ANALYZE_ORDER_ANY)
    return 0;
  prev = in->t_ms[in->n - 1];
  pl = in->line[in->n - 1];
  if (t < prev || (spec->order == ANALYZE_ORDER_INCREASING && t == prev))
    return errf(err, err_size,
                "%s: time is %s the previous row's (%s %zu); rows must be "
                "sorted by increasing time",
                what, t == prev ? "equal to" : "before",
                json ? "element" : "line", json ? pl - 1 : pl);
  return 0;
}

static int spec_ok(const struct analyze_csv_spec *spec)
{
  return spec && spec->n_values >= 1 &&
         spec->n_values <= ANALYZE_CSV_MAX_COLS &&
         spec->min_value <= spec->max_value;
}

static void input_init(struct analyze_input *out)
{
  memset(out, 0, sizeof *out);
  out->tz_offset_min = VG_TZ_UNKNOWN;
}

/* ------------------------------------------------------------------ */
/* CSV                                                                 */

/* Parses the fields of one data row into the next slot of OUT. */
static int csv_row(const struct analyze_csv_spec *spec, const char *s,
                   size_t len, size_t line, struct analyze_input *out,
                   char *err, size_t err_size)
{
  size_t col = 0, k = 0, pos = 0;
  char where[48], txt[32];
  int64_t t = 0;
  while (pos <= len) {
    const char *f = s + pos;
    const char *comma = memchr(f, ',', len - pos);
    size_t flen = comma ? (size_t)(comma - f) : len - pos;
    pos += flen + 1;
    col++;
    trim(&f, &flen);
    show(f, flen, txt, sizeof txt);
    if (col == 1 && out->has_time) {
      int16_t off;
      int rc = parse_time(f, flen, &t, &off);
      if (rc == -2)
        return errf(err, err_size, "line %zu, column 1: time '%s' is out "
                    "of range", line, txt);
      if (rc)
        return errf(err, err_size,
                    "line %zu, column 1: '%s' is not an RFC 3339 time with "
                    "an offset or epoch milliseconds", line, txt);
      if (out->tz_offset_min == VG_TZ_UNKNOWN)
        out->tz_offset_min = off;
      snprintf(where, sizeof where, "line %zu, column 1", line);
      if (check_order(spec, out, t, 0, where, err, err_size))
        return -VG_EINVAL;
      out->t_ms[out->n] = t;
    } else {
      double v;
      int rc;
      if (flen == 0)
        return errf(err, err_size, "line %zu, column %zu: empty %s", line,
                    col, spec->names[k] ? spec->names[k] : "value");
      if (parse_number(f, flen, &v))
        return errf(err, err_size, "line %zu, column %zu: '%s' is not a "
                    "number", line, col, txt);
      rc = check_value(spec, v, line, col, k, err, err_size);
      if (rc)
        return rc;
      out->v[k++][out->n] = v;
    }
  }
  out->line[out->n] = line;
  out->n++;
  return 0;
}

int analyze_csv_parse(const char *data, size_t len,
                      const struct analyze_csv_spec *spec,
                      struct analyze_input *out, char *err, size_t err_size)
{
  size_t max_rows, cap = 0, line = 0, pos = 0;
  int seen_first = 0, want_cols = 0, rc;
  input_init(out);
  if (err && err_size)
    err[0] = '\0';
  if (!spec_ok(spec) || (!data && len))
    return errf(err, err_size, "bad analysis spec");
  max_rows = spec->max_rows ? spec->max_rows : ANALYZE_CSV_MAX_ROWS;
  out->n_values = spec->n_values;
  while (pos < len) {
    const char *s = data + pos;
    const char *nl = memchr(s, '\n', len - pos);
    size_t l = nl ? (size_t)(nl - s) : len - pos;
    int cols;
    pos += l + (nl ? 1 : 0);
    line++;
    if (l && s[l - 1] == '\r')
      l--;
    if (memchr(s, '\0', l) || memchr(s, '\r', l))
      return errf(err, err_size, "line %zu: control character in line",
                  line);
    {
      const char *p = s;
      size_t pl = l;
      trim(&p, &pl);
      if (pl == 0 || p[0] == '#')
        continue;
    }
    cols = count_cols(s, l);
    if (!seen_first) {
      int n_val = (int)spec->n_values;
      seen_first = 1;
      if (spec->time == ANALYZE_TIME_NONE)
        want_cols = n_val;
      else if (spec->time == ANALYZE_TIME_REQUIRED)
        want_cols = n_val + 1;
      else
        want_cols = cols == n_val + 1 ? n_val + 1 : n_val;
      out->has_time = want_cols == n_val + 1;
      if (is_header(s, l)) {
        if (cols != want_cols)
          return errf(err, err_size, "line %zu: header has %d columns; "
                      "expected %d", line, cols, want_cols);
        continue;
      }
    }
    if (cols != want_cols)
      return errf(err, err_size, "line %zu: %d column%s; expected %d (%s%s)",
                  line, cols, cols == 1 ? "" : "s", want_cols,
                  out->has_time ? "time," : "",
                  spec->n_values == 1 ? (spec->names[0] ? spec->names[0]
                                                          : "value")
                                      : "values");
    if (out->n == max_rows) {
      if (err && err_size)
        snprintf(err, err_size, "line %zu: more than %zu data rows (the cap)",
                 line, max_rows);
      return -VG_ETOOBIG;
    }
    if (out->n == cap) {
      cap = cap ? cap * 2 : 1024;
      if (cap > max_rows)
        cap = max_rows;
      rc = grow(out, cap);
      if (rc) {
        if (err && err_size)
          snprintf(err, err_size, "line %zu: out of memory", line);
        return rc;
      }
    }
    rc = csv_row(spec, s, l, line, out, err, err_size);
    if (rc)
      return rc;
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */

static json_t *get_key(const json_t *o, const char *a, const char *b,
                       const char **used)
{
  json_t *v = a ? json_object_get(o, a) : NULL;
  *used = a;
  if (!v && b) {
    v = json_object_get(o, b);
    *used = b;
  }
  return v;
}

int analyze_json_parse(const char *data, size_t len,
                       const struct analyze_csv_spec *spec,
                       struct analyze_input *out, char *err, size_t err_size)
{
  json_error_t jerr;
  json_t *root = NULL, *tj, *fs, *cols[ANALYZE_CSV_MAX_COLS];
  const char *keys[ANALYZE_CSV_MAX_COLS], *tkey = "t";
  size_t n = 0, max_rows;
  int rc = 0;
  input_init(out);
  if (err && err_size)
    err[0] = '\0';
  if (!spec_ok(spec) || (!data && len))
    return errf(err, err_size, "bad analysis spec");
  max_rows = spec->max_rows ? spec->max_rows : ANALYZE_CSV_MAX_ROWS;
  out->n_values = spec->n_values;
  root = json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES, &jerr);
  if (!root)
    return errf(err, err_size, "line %d, column %d: malformed JSON: %s",
                jerr.line, jerr.column, jerr.text);
  if (!json_is_object(root)) {
    rc = errf(err, err_size, "line 1: expected a JSON object");
    goto fail;
  }
  tj = json_object_get(root, "t");
  if (!tj)
    tj = json_object_get(root, "time");
  if (tj && !json_object_get(root, "t"))
    tkey = "time";
  fs = json_object_get(root, "fs_hz");
  if (fs) {
    if (!json_is_number(fs) || !isfinite(json_number_value(fs)) ||
        json_number_value(fs) <= 0) {
      rc = errf(err, err_size, "fs_hz: must be a positive number");
      goto fail;
    }
    out->fs_hz = json_number_value(fs);
  }
  if (spec->time == ANALYZE_TIME_REQUIRED && !tj) {
    rc = errf(err, err_size, "\"t\": missing (array of times)");
    goto fail;
  }
  if (spec->time == ANALYZE_TIME_NONE && tj) {
    rc = errf(err, err_size, "\"%s\": this analysis takes no times", tkey);
    goto fail;
  }
  out->has_time = tj != NULL;
  if (tj && !json_is_array(tj)) {
    rc = errf(err, err_size, "\"%s\": must be an array", tkey);
    goto fail;
  }
  for (size_t k = 0; k < spec->n_values; k++) {
    cols[k] = get_key(root, spec->names[k], spec->name2[k], &keys[k]);
    if (!cols[k] && spec->n_values == 1) {
      cols[k] = json_object_get(root, "values");
      keys[k] = "values";
    }
    if (!cols[k] || !json_is_array(cols[k])) {
      rc = errf(err, err_size, "\"%s\": %s (array of numbers)",
                spec->names[k] ? spec->names[k] : "values",
                cols[k] ? "must be an array" : "missing");
      goto fail;
    }
    if (k == 0)
      n = json_array_size(cols[k]);
    else if (json_array_size(cols[k]) != n) {
      rc = errf(err, err_size, "\"%s\": %zu elements; \"%s\" has %zu",
                keys[k], json_array_size(cols[k]), keys[0], n);
      goto fail;
    }
  }
  if (tj && json_array_size(tj) != n) {
    rc = errf(err, err_size, "\"%s\": %zu elements; \"%s\" has %zu", tkey,
              json_array_size(tj), keys[0], n);
    goto fail;
  }
  if (n > max_rows) {
    if (err && err_size)
      snprintf(err, err_size, "\"%s\": %zu elements; more than %zu (the cap)",
               keys[0], n, max_rows);
    rc = -VG_ETOOBIG;
    goto fail;
  }
  if (n) {
    rc = grow(out, n);
    if (rc) {
      if (err && err_size)
        snprintf(err, err_size, "out of memory");
      goto fail;
    }
  }
  for (size_t i = 0; i < n; i++) {
    char where[64];
    if (tj) {
      json_t *e = json_array_get(tj, i);
      int64_t t;
      int16_t off = VG_TZ_UNKNOWN;
      if (json_is_integer(e)) {
        t = json_integer_value(e);
        if (t > MAX_ABS_MS || t < -MAX_ABS_MS) {
          rc = errf(err, err_size, "%s[%zu]: time out of range", tkey, i);
          goto fail;
        }
      } else if (!json_is_string(e) ||
                 parse_time(json_string_value(e), json_string_length(e), &t,
                            &off)) {
        rc = errf(err, err_size, "%s[%zu]: not an RFC 3339 time with an "
                  "offset or integer epoch milliseconds", tkey, i);
        goto fail;
      }
      if (out->tz_offset_min == VG_TZ_UNKNOWN)
        out->tz_offset_min = off;
      snprintf(where, sizeof where, "%s[%zu]", tkey, i);
      rc = check_order(spec, out, t, 1, where, err, err_size);
      if (rc)
        goto fail;
      out->t_ms[i] = t;
    }
    for (size_t k = 0; k < spec->n_values; k++) {
      json_t *e = json_array_get(cols[k], i);
      double v;
      if (!json_is_number(e)) {
        rc = errf(err, err_size, "%s[%zu]: not a number", keys[k], i);
        goto fail;
      }
      v = json_number_value(e);
      if (!isfinite(v) || v < spec->min_value || v > spec->max_value) {
        rc = errf(err, err_size, "%s[%zu]: %g is out of range [%g, %g]",
                  keys[k], i, v, spec->min_value, spec->max_value);
        goto fail;
      }
      out->v[k][i] = v;
    }
    out->line[i] = i + 1;
    out->n = i + 1;
  }
  rc = 0;
fail:
  json_decref(root);
  return rc;
}
