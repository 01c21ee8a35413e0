/* analyze_csv.h - strict readers for analysis input: CSV (time,value...
 * or one number per line) and the same data as JSON, into column arrays. */
#ifndef VG_ANALYZE_CSV_H
#define VG_ANALYZE_CSV_H

#include <stddef.h>
#include <stdint.h>

/* Most value columns a row may have (time not counted). */
#define ANALYZE_CSV_MAX_COLS 4
/* Default row cap when spec->max_rows is 0. */
#define ANALYZE_CSV_MAX_ROWS ((size_t)4000000)
/* Longest field accepted, in bytes. */
#define ANALYZE_CSV_MAX_FIELD 64

/* Whether rows carry a leading time column. */
enum analyze_time_col {
  ANALYZE_TIME_NONE = 0,     /* values only */
  ANALYZE_TIME_REQUIRED = 1, /* time,value[,value...] */
  ANALYZE_TIME_OPTIONAL = 2  /* the first data row decides */
};

/* Required time order across rows. */
enum analyze_order {
  ANALYZE_ORDER_ANY = 0,
  ANALYZE_ORDER_NONDECREASING = 1,
  ANALYZE_ORDER_INCREASING = 2 /* strictly */
};

/* What a kind of input must look like. Embeddable value, public fields. */
struct analyze_csv_spec {
  size_t n_values;         /* value columns, 1..ANALYZE_CSV_MAX_COLS */
  int time;                /* enum analyze_time_col */
  int order;               /* enum analyze_order (times only) */
  double min_value;        /* every value must lie in [min, max] */
  double max_value;
  size_t max_rows;         /* data rows; 0: ANALYZE_CSV_MAX_ROWS */
  const char *names[ANALYZE_CSV_MAX_COLS]; /* column names for messages
                                              and JSON keys ("values") */
  const char *name2[ANALYZE_CSV_MAX_COLS]; /* alternative JSON key or NULL */
};

/* Parsed input. Public, read-only; release with analyze_input_free(). */
struct analyze_input {
  size_t n;                /* data rows */
  size_t n_values;         /* value columns per row */
  int has_time;            /* t_ms is filled */
  int64_t *t_ms;           /* n times, UTC ms (NULL without time) */
  double *v[ANALYZE_CSV_MAX_COLS]; /* n values per column */
  size_t *line;            /* n source line numbers (1-based; JSON: index
                              + 1) */
  int16_t tz_offset_min;   /* offset of the first RFC 3339 time, else
                              VG_TZ_UNKNOWN */
  double fs_hz;            /* JSON "fs_hz" when given, else 0 */
};

/* Parses CSV text DATA[0..len) against SPEC. Accepted: an optional header
 * (first non-comment line starting with a letter or '"'), comments (lines
 * whose first non-blank byte is '#'), blank lines, LF or CRLF endings,
 * spaces and tabs around fields; fields separated by ','. A time is RFC
 * 3339 with an offset or integer epoch ms (|t| <= 2^53). Numbers are
 * decimal (no nan, inf or hex) and must be finite and inside the range.
 * OUT: *out filled (arrays allocated with vg_malloc; caller frees with
 * analyze_input_free(), also after an error). On error ERR gets a message
 * naming the line and column ("line 5, column 2: ...").
 * Returns 0, -VG_EINVAL (bad input), -VG_ETOOBIG (more than max_rows rows)
 * or -VG_ENOMEM. Reentrant. */
int analyze_csv_parse(const char *data, size_t len,
                      const struct analyze_csv_spec *spec,
                      struct analyze_input *out, char *err, size_t err_size);

/* Parses the same data as a JSON object: optional "t" (array of epoch ms
 * numbers or RFC 3339 strings), one array per value column keyed by
 * spec->names[k] (or name2[k]), optional "fs_hz" number. With one value
 * column and no "t", the array may also be given as "values".
 * Errors name the key and element ("values[12]: ...") or the JSON line and
 * column of a syntax error. Same returns, ownership and OUT as
 * analyze_csv_parse(). */
int analyze_json_parse(const char *data, size_t len,
                       const struct analyze_csv_spec *spec,
                       struct analyze_input *out, char *err,
                       size_t err_size);

/* Frees the arrays of IN and zeroes it. NULL-safe; idempotent. */
void analyze_input_free(struct analyze_input *in);

#endif
