/* fuzz_fhir.c - FHIR JSON -> internal mapping (fhir_map_resource) on any
 * bytes: no crash, and the invariants of a successful mapping hold (abort()
 * otherwise): a Patient maps to a row that renders back to a Patient; a
 * reading has one or two raw values with units and a parsable time; a
 * generic resource keeps its body. Also the date and reading-id parsers. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core_time.h"
#include "fhir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct fhir_res r;
  char err[FHIR_ERR_MAX], s[128], code[8];
  json_t *j;
  int64_t lo, hi, pid, ts;
  uint64_t h;
  int rc;

  /* the small parsers on the raw bytes as a string */
  if (size < sizeof s) {
    memcpy(s, data, size);
    s[size] = '\0';
    if (fhir_date_range(s, &lo, &hi) == 0 && hi <= lo)
      abort();
    fhir_reading_id_parse(s, &pid, code, sizeof code, &ts, &h);
  }
  j = json_loadb((const char *)data, size, 0, NULL);
  if (!j)
    return 0;
  rc = fhir_map_resource(j, NULL, &r, err);
  if (rc == 0) {
    if (!r.type)
      abort();
    if (r.kind == FHIR_K_PATIENT) {
      json_t *o = fhir_patient_json(&r.patient, r.rest, 1, 0);
      if (!o || strcmp(json_string_value(json_object_get(o, "resourceType")),
                       "Patient"))
        abort();
      json_decref(o);
    } else if (r.kind == FHIR_K_READING) {
      int16_t off;
      if (r.n_raw < 1 || r.n_raw > 2 || !r.subject || !r.source)
        abort();
      for (size_t k = 0; k < r.n_raw; k++)
        if (!r.code[k] || !r.unit[k])
          abort();
      if (vg_time_parse(r.time, strlen(r.time), &ts, &off))
        abort();
    } else if (r.kind == FHIR_K_GENERIC) {
      if (!json_is_object(r.rest))
        abort();
    } else {
      abort();
    }
  } else if (!err[0]) {
    abort(); /* every failure has a diagnostic */
  }
  fhir_res_clear(&r);
  json_decref(j);
  return 0;
}
