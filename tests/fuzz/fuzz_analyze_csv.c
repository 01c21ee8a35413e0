/* fuzz_analyze_csv.c - the analysis input reader (CSV and JSON) and the
 * whole analyze pipeline: no crash, no leak, errors carry a message,
 * accepted rows obey the spec, every result is valid JSON. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "analyze_csv.h"
#include "core_buf.h"
#include "core_errors.h"

static const char *const kinds[] = {"cgm", "bp", "hrv", "af", "ecg", "spo2"};

static const struct analyze_csv_spec specs[] = {
    {1, ANALYZE_TIME_REQUIRED, ANALYZE_ORDER_INCREASING, 0, 1000, 64,
     {"values"}, {NULL}},
    {2, ANALYZE_TIME_REQUIRED, ANALYZE_ORDER_NONDECREASING, 0, 500, 64,
     {"sbp", "dbp"}, {NULL, NULL}},
    {1, ANALYZE_TIME_NONE, ANALYZE_ORDER_ANY, 1, 60000, 64, {"rr_ms"},
     {"values"}},
    {1, ANALYZE_TIME_OPTIONAL, ANALYZE_ORDER_INCREASING, 0, 100, 64,
     {"spo2_pct"}, {"values"}},
};

static void check_input(const struct analyze_csv_spec *s,
                        const struct analyze_input *in)
{
  if (in->n > s->max_rows)
    abort();
  for (size_t i = 0; i < in->n; i++) {
    for (size_t k = 0; k < s->n_values; k++)
      if (!isfinite(in->v[k][i]) || in->v[k][i] < s->min_value ||
          in->v[k][i] > s->max_value)
        abort();
    if (in->has_time && i && s->order == ANALYZE_ORDER_INCREASING &&
        in->t_ms[i] <= in->t_ms[i - 1])
      abort();
    if (in->has_time && i && s->order == ANALYZE_ORDER_NONDECREASING &&
        in->t_ms[i] < in->t_ms[i - 1])
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const struct analyze_csv_spec *s;
  struct analyze_input in;
  struct analyze_opts o;
  struct vg_buf out = VG_BUF_INIT;
  char err[256];
  const char *text;
  size_t len;
  int rc, json;
  if (size < 1)
    return 0;
  s = &specs[data[0] % 4];
  json = (data[0] >> 2) & 1;
  text = (const char *)data + 1;
  len = size - 1;
  rc = json ? analyze_json_parse(text, len, s, &in, err, sizeof err)
            : analyze_csv_parse(text, len, s, &in, err, sizeof err);
  if (rc == 0)
    check_input(s, &in);
  else if (!err[0])
    abort(); /* every error explains itself */
  analyze_input_free(&in);

  /* Whole pipeline, small caps so each input stays fast. */
  analyze_opts_init(&o);
  o.format = json ? ANALYZE_JSON : ANALYZE_CSV;
  o.per_beat = (data[0] >> 3) & 1;
  o.fs_hz = (data[0] >> 4) & 1 ? 250 : 0;
  o.max_rows = 4096;
  buf_init(&out, 1 << 22);
  rc = analyze_run(kinds[(data[0] >> 5) % 6], &o, text, len, &out, err,
                   sizeof err);
  if (rc == 0) {
    json_error_t je;
    json_t *j = json_loadb(out.data, out.len, 0, &je);
    if (!j)
      abort(); /* the result must be valid JSON */
    json_decref(j);
  } else if (!err[0]) {
    abort();
  }
  buf_free(&out);
  return 0;
}
