/* fhir_map.c - FHIR R4 JSON <-> Vigil: validation on write (structure,
 * elements per type, cardinality, value types, code systems and UCUM units
 * Vigil interprets) and the mapping of Patient and reading Observations to
 * their tables. Pure: no store, no I/O (fuzzed by tests/fuzz/fuzz_fhir.c). */
#include "fhir.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "core_errors.h"
#include "core_time.h"

#define LOINC "http://loinc.org"
#define UCUM "http://unitsofmeasure.org"
#define BP_PANEL "85354-9"
#define BP_PANEL_OLD "55284-4" /* Synthea's "Blood pressure systolic and
                                * diastolic" panel */

/* ==== types and their elements ========================================= */

/* R4 top-level elements per type (hl7.org/fhir/R4/<type>.html), after the
 * DomainResource ones; '!' marks a required element (min 1), '*' a list
 * (max *). A choice element[x] is listed once as "name[x]". */
struct type_def {
  const char *name;
  const char *elems;
};

static const char common_elems[] =
    " id meta implicitRules language text contained* extension*"
    " modifierExtension* ";

static const struct type_def types[] = {
    {"Patient", " identifier* active name* telecom* gender birthDate"
                " deceased[x] address* maritalStatus multipleBirth[x] photo*"
                " contact* communication* generalPractitioner*"
                " managingOrganization link* "},
    {"Observation", " identifier* basedOn* partOf* !status category* !code"
                    " subject focus* encounter effective[x] issued"
                    " performer* value[x] dataAbsentReason interpretation*"
                    " note* bodySite method specimen device referenceRange*"
                    " hasMember* derivedFrom* component* "},
    {"Device", " identifier* definition udiCarrier* status statusReason*"
               " distinctIdentifier manufacturer manufactureDate"
               " expirationDate lotNumber serialNumber deviceName* modelNumber"
               " partNumber type specialization* version* property* patient"
               " owner contact* location url note* safety* parent "},
    {"Condition", " identifier* clinicalStatus verificationStatus category*"
                  " severity code bodySite* !subject encounter onset[x]"
                  " abatement[x] recordedDate recorder asserter stage*"
                  " evidence* note* "},
    {"Organization", " identifier* active type* name alias* telecom*"
                     " address* partOf contact* endpoint* "},
    {"Practitioner", " identifier* active name* telecom* address* gender"
                     " birthDate photo* qualification* communication* "},
    {"CareTeam", " identifier* status category* name subject encounter"
                 " period participant* reasonCode* reasonReference*"
                 " managingOrganization* telecom* note* "},
    {"Group", " identifier* active !type !actual code name quantity"
              " managingEntity characteristic* member* "},
    {"ServiceRequest", " identifier* instantiatesCanonical* instantiatesUri*"
                       " basedOn* replaces* requisition !status !intent"
                       " category* priority doNotPerform code orderDetail*"
                       " quantity[x] !subject encounter occurrence[x]"
                       " asNeeded[x] authoredOn requester performerType"
                       " performer* locationCode* locationReference*"
                       " reasonCode* reasonReference* insurance*"
                       " supportingInfo* specimen* bodySite* note*"
                       " patientInstruction relevantHistory* "},
    {"Task", " identifier* instantiatesCanonical instantiatesUri basedOn*"
             " groupIdentifier partOf* !status statusReason businessStatus"
             " !intent priority code description focus for encounter"
             " executionPeriod authoredOn lastModified requester"
             " performerType* owner location reasonCode reasonReference"
             " insurance* note* relevantHistory* restriction input* output* "},
    {"Communication", " identifier* instantiatesCanonical* instantiatesUri*"
                      " basedOn* partOf* inResponseTo* !status statusReason"
                      " category* priority medium* subject topic about*"
                      " encounter sent received recipient* sender"
                      " reasonCode* reasonReference* payload* note* "},
    {"Flag", " identifier* !status category* !code !subject period encounter"
             " author "},
};
#define N_TYPES (sizeof types / sizeof types[0])

static const char *type_names[N_TYPES];

const char *const *fhir_types(size_t *out_n)
{
  for (size_t i = 0; i < N_TYPES; i++)
    type_names[i] = types[i].name;
  *out_n = N_TYPES;
  return type_names;
}

static const struct type_def *type_find(const char *t, size_t len)
{
  for (size_t i = 0; i < N_TYPES; i++)
    if (strlen(types[i].name) == len && memcmp(types[i].name, t, len) == 0)
      return &types[i];
  return NULL;
}

const char *fhir_type_known(const char *type, size_t len)
{
  const struct type_def *d = type_find(type, len);
  return d ? d->name : NULL;
}

/* ==== small helpers ===================================================== */

static int bad(char *err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(char *err, int rc, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, FHIR_ERR_MAX, fmt, ap);
  va_end(ap);
  return rc;
}

/* Look up element key in the " a b* !c " list: its flags, or NULL. A
 * choice "value[x]" matches "valueQuantity" and the like. */
static const char *elem_find(const char *list, const char *key,
                             int *out_list, int *out_req)
{
  const char *p = list;
  size_t klen = strlen(key);
  while (*p) {
    const char *s, *e;
    size_t n;
    int req = 0, lst = 0, choice = 0;
    while (*p == ' ')
      p++;
    if (!*p)
      break;
    s = p;
    while (*p && *p != ' ')
      p++;
    e = p;
    if (*s == '!') {
      req = 1;
      s++;
    }
    if (e > s && e[-1] == '*') {
      lst = 1;
      e--;
    }
    if (e - s > 3 && memcmp(e - 3, "[x]", 3) == 0) {
      choice = 1;
      e -= 3;
    }
    n = (size_t)(e - s);
    if ((!choice && n == klen && memcmp(s, key, n) == 0) ||
        (choice && klen > n && memcmp(s, key, n) == 0 && key[n] >= 'A' &&
         key[n] <= 'Z')) {
      *out_list = lst;
      *out_req = req;
      return s;
    }
  }
  return NULL;
}

static int is_id(const char *s)
{
  size_t n = strlen(s);
  if (n == 0 || n > 64)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
          (c >= '0' && c <= '9') || c == '-' || c == '.'))
      return 0;
  }
  return 1;
}

static const char *str_of(json_t *o, const char *key)
{
  json_t *v = json_object_get(o, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

static int in_list(const char *v, const char *const *list)
{
  for (; *list; list++)
    if (strcmp(v, *list) == 0)
      return 1;
  return 0;
}

/* A code element (string) from a value set; absent is fine unless req. */
static int check_code(json_t *res, const char *key,
                      const char *const *allowed, char *err)
{
  json_t *v = json_object_get(res, key);
  if (!v)
    return 0;
  if (!json_is_string(v))
    return bad(err, -VG_EINVAL, "%s must be a code (string)", key);
  if (!in_list(json_string_value(v), allowed))
    return bad(err, -VG_EINVAL, "%s '%s' is not in the required value set",
               key, json_string_value(v));
  return 0;
}

/* "YYYY", "YYYY-MM", "YYYY-MM-DD" or a full date-time with an offset. */
int fhir_date_range(const char *s, int64_t *out_lo, int64_t *out_hi)
{
  size_t n = strlen(s);
  int16_t off;
  char buf[16];
  int64_t y, m = 1, d = 1;
  char *end;
  if (n > 10) {
    if (vg_time_parse(s, n, out_lo, &off))
      return -VG_EINVAL;
    /* the precision of the given time: whole seconds unless a fraction */
    *out_hi = *out_lo + (strchr(s, '.') ? 1 : 1000);
    return 0;
  }
  if (!(n == 4 || n == 7 || n == 10))
    return -VG_EINVAL;
  memcpy(buf, s, n);
  buf[n] = '\0';
  for (size_t i = 0; i < n; i++)
    if (!((i == 4 || i == 7) ? buf[i] == '-' : buf[i] >= '0' && buf[i] <= '9'))
      return -VG_EINVAL;
  y = strtoll(buf, &end, 10);
  if (n >= 7)
    m = strtoll(buf + 5, &end, 10);
  if (n == 10)
    d = strtoll(buf + 8, &end, 10);
  if (m < 1 || m > 12 || d < 1 || d > 31)
    return -VG_EINVAL;
  *out_lo = vg_days_from_civil(y, (unsigned)m, (unsigned)d) * 86400000LL;
  if (n == 4)
    *out_hi = vg_days_from_civil(y + 1, 1, 1) * 86400000LL;
  else if (n == 7)
    *out_hi = (m == 12 ? vg_days_from_civil(y + 1, 1, 1)
                       : vg_days_from_civil(y, (unsigned)m + 1, 1)) *
              86400000LL;
  else
    *out_hi = *out_lo + 86400000LL;
  return 0;
}

/* dateTime element: partial dates, or a time with an offset. */
static int check_datetime(json_t *v, const char *what, char *err)
{
  int64_t lo, hi;
  if (!json_is_string(v) || fhir_date_range(json_string_value(v), &lo, &hi))
    return bad(err, -VG_EINVAL, "%s must be a FHIR dateTime (a time needs "
               "a time zone)", what);
  return 0;
}

/* Reference element: an object with a string reference (or identifier /
 * display only). */
static int check_reference(json_t *v, const char *what, char *err)
{
  json_t *ref;
  if (!json_is_object(v))
    return bad(err, -VG_EINVAL, "%s must be a Reference (object)", what);
  ref = json_object_get(v, "reference");
  if (ref && !json_is_string(ref))
    return bad(err, -VG_EINVAL, "%s.reference must be a string", what);
  return 0;
}

static int check_codeable(json_t *v, const char *what, char *err)
{
  json_t *coding, *c;
  size_t i;
  if (!json_is_object(v))
    return bad(err, -VG_EINVAL, "%s must be a CodeableConcept", what);
  coding = json_object_get(v, "coding");
  if (coding && !json_is_array(coding))
    return bad(err, -VG_EINVAL, "%s.coding must be an array", what);
  json_array_foreach(coding, i, c) {
    json_t *sys = json_object_get(c, "system"), *code = json_object_get(c,
                                                                  "code");
    if (!json_is_object(c) || (sys && !json_is_string(sys)) ||
        (code && !json_is_string(code)))
      return bad(err, -VG_EINVAL, "%s.coding[%zu] must have string system "
                 "and code", what, i);
  }
  return 0;
}

/* Structure: resourceType, id, known elements with the right cardinality,
 * required ones present, primitive extensions (_x) only for known x. */
static int check_structure(json_t *res, const struct type_def *d, char *err)
{
  const char *key;
  json_t *v;
  const char *p;
  json_object_foreach(res, key, v) {
    const char *k = key;
    int lst = 0, req = 0;
    if (strcmp(key, "resourceType") == 0)
      continue;
    if (k[0] == '_')
      k++;
    if (!elem_find(common_elems, k, &lst, &req) &&
        !elem_find(d->elems, k, &lst, &req))
      return bad(err, -VG_EINVAL, "unknown element '%s' in %s", key,
                 d->name);
    if (key[0] == '_')
      continue;
    if (json_is_null(v))
      return bad(err, -VG_EINVAL, "%s.%s is null (omit empty elements)",
                 d->name, key);
    if (lst && (!json_is_array(v) || json_array_size(v) == 0))
      return bad(err, -VG_EINVAL, "%s.%s must be a non-empty array",
                 d->name, key);
    if (!lst && json_is_array(v))
      return bad(err, -VG_EINVAL, "%s.%s has cardinality 0..1, not a list",
                 d->name, key);
  }
  /* "text" is Narrative: an object */
  v = json_object_get(res, "text");
  if (v && !json_is_object(v))
    return bad(err, -VG_EINVAL, "%s.text must be a Narrative (object)",
               d->name);
  v = json_object_get(res, "meta");
  if (v && !json_is_object(v))
    return bad(err, -VG_EINVAL, "%s.meta must be an object", d->name);
  v = json_object_get(res, "id");
  if (v && (!json_is_string(v) || !is_id(json_string_value(v))))
    return bad(err, -VG_EINVAL, "%s.id must match [A-Za-z0-9-.]{1,64}",
               d->name);
  for (p = d->elems; (p = strchr(p, '!')) != NULL; p++) {
    char name[48];
    size_t n = strcspn(p + 1, " *[");
    int found = 0;
    if (n >= sizeof name)
      continue;
    memcpy(name, p + 1, n);
    name[n] = '\0';
    if (strstr(p + 1, "[x]") == p + 1 + n) {
      json_object_foreach(res, key, v)
        if (strncmp(key, name, n) == 0 && key[n] >= 'A' && key[n] <= 'Z')
          found = 1;
    } else {
      found = json_object_get(res, name) != NULL;
    }
    if (!found)
      return bad(err, -VG_EINVAL, "%s.%s is required", d->name, name);
  }
  return 0;
}

/* ==== Patient ============================================================= */

static int map_patient(json_t *res, struct fhir_res *out, char *err)
{
  static const char *const genders[] = {"male", "female", "other", "unknown",
                                        NULL};
  struct vg_patient *p = &out->patient;
  json_t *ids = json_object_get(res, "identifier");
  json_t *names = json_object_get(res, "name");
  const char *g = str_of(res, "gender"), *bd;
  json_t *v;
  size_t i;
  int64_t lo, hi;
  int rc = check_code(res, "gender", genders, err);
  if (rc)
    return rc;
  json_array_foreach(ids, i, v) {
    json_t *val = json_object_get(v, "value");
    if (!json_is_object(v) || (val && !json_is_string(val)))
      return bad(err, -VG_EINVAL, "Patient.identifier[%zu] must be an "
                 "Identifier with a string value", i);
    if (i == 0 && val) {
      if (json_string_length(val) >= sizeof p->identifier)
        return bad(err, -VG_EUNPROC, "identifier over %zu bytes",
                   sizeof p->identifier - 1);
      snprintf(p->identifier, sizeof p->identifier, "%s",
               json_string_value(val));
    }
  }
  json_array_foreach(names, i, v) {
    json_t *given = json_object_get(v, "given"), *gv;
    const char *family = str_of(v, "family"), *text = str_of(v, "text");
    size_t k;
    if (!json_is_object(v) || (given && !json_is_array(given)) ||
        (json_object_get(v, "family") && !family))
      return bad(err, -VG_EINVAL, "Patient.name[%zu] must be a HumanName "
                 "(given: array of strings, family: string)", i);
    json_array_foreach(given, k, gv)
      if (!json_is_string(gv))
        return bad(err, -VG_EINVAL, "Patient.name[%zu].given[%zu] must be "
                   "a string", i, k);
    if (i != 0)
      continue;
    if (text) {
      snprintf(p->name, sizeof p->name, "%s", text);
    } else {
      size_t len = 0;
      json_array_foreach(given, k, gv)
        len += (size_t)snprintf(p->name + len, sizeof p->name - len, "%s%s",
                                len ? " " : "", json_string_value(gv)) ;
      if (family && len < sizeof p->name)
        snprintf(p->name + len, sizeof p->name - len, "%s%s", len ? " " : "",
                 family);
    }
  }
  p->sex = !g ? 'U' : g[0] == 'm' ? 'M' : g[0] == 'f' ? 'F' : g[0] == 'o'
                                                              ? 'O' : 'U';
  v = json_object_get(res, "birthDate");
  if (v) {
    bd = json_string_value(v);
    if (!bd || strlen(bd) > 10 || fhir_date_range(bd, &lo, &hi))
      return bad(err, -VG_EINVAL, "Patient.birthDate must be a FHIR date");
    snprintf(p->birth_date, sizeof p->birth_date, "%s", bd);
    if (strlen(bd) != 10) /* Vigil keeps full dates; keep it unmodelled */
      p->birth_date[0] = '\0';
  }
  v = json_object_get(res, "active");
  if (v && !json_is_boolean(v))
    return bad(err, -VG_EINVAL, "Patient.active must be a boolean");
  /* the elements Vigil does not model stay with the resource */
  out->rest = json_deep_copy(res);
  json_object_del(out->rest, "id");
  json_object_del(out->rest, "meta");
  json_object_del(out->rest, "gender");
  if (p->birth_date[0])
    json_object_del(out->rest, "birthDate");
  json_object_del(out->rest, "resourceType");
  return 0;
}

json_t *fhir_patient_json(const struct vg_patient *p, json_t *rest,
                          int version, int64_t updated_ms)
{
  json_t *o = json_object(), *names, *ids;
  char id[24];
  snprintf(id, sizeof id, "%lld", (long long)p->id);
  json_object_set_new(o, "resourceType", json_string("Patient"));
  fhir_set_meta(o, id, version, updated_ms);
  if (rest) {
    const char *k;
    json_t *v;
    json_object_foreach(rest, k, v)
      json_object_set(o, k, v);
  }
  /* the table is the truth for what Vigil models */
  ids = json_object_get(o, "identifier");
  if (p->identifier[0]) {
    if (json_is_array(ids) && json_is_object(json_array_get(ids, 0)))
      json_object_set_new(json_array_get(ids, 0), "value",
                          json_string(p->identifier));
    else
      json_object_set_new(o, "identifier",
                          json_pack("[{s:s}]", "value", p->identifier));
  }
  names = json_object_get(o, "name");
  if (p->name[0]) {
    struct fhir_res tmp;
    char e[FHIR_ERR_MAX];
    int same = 0;
    if (json_is_array(names)) {
      json_t *probe = json_pack("{s:s,s:O}", "resourceType", "Patient",
                                "name", names);
      memset(&tmp, 0, sizeof tmp);
      if (probe && map_patient(probe, &tmp, e) == 0)
        same = strcmp(tmp.patient.name, p->name) == 0;
      json_decref(tmp.rest);
      json_decref(probe);
    }
    if (!same)
      json_object_set_new(o, "name", json_pack("[{s:s}]", "text", p->name));
  }
  if (p->sex != 'U' || json_object_get(o, "gender") == NULL)
    json_object_set_new(o, "gender", json_string(p->sex == 'M' ? "male"
                                                 : p->sex == 'F' ? "female"
                                                 : p->sex == 'O' ? "other"
                                                                 : "unknown"));
  if (p->birth_date[0])
    json_object_set_new(o, "birthDate", json_string(p->birth_date));
  return o;
}

/* ==== Observation ======================================================= */

static const char *const obs_status[] = {
    "registered", "preliminary", "final", "amended", "corrected",
    "cancelled", "entered-in-error", "unknown", NULL};

/* The LOINC coding of cc Vigil interprets: a codes.def kind or the BP
 * panel. OUT: *out_code (borrowed). 1 found, 0 not. */
static int interpreted_code(json_t *cc, const char **out_code)
{
  json_t *coding = json_object_get(cc, "coding"), *c;
  size_t i;
  json_array_foreach(coding, i, c) {
    const char *sys = str_of(c, "system"), *code = str_of(c, "code");
    const struct vg_code *k;
    if (!sys || !code || strcmp(sys, LOINC) != 0)
      continue;
    if (!strcmp(code, BP_PANEL) || !strcmp(code, BP_PANEL_OLD)) {
      *out_code = code;
      return 1;
    }
    k = codes_find(code, strlen(code));
    if (k && strcmp(k->system, "loinc") == 0) {
      *out_code = code;
      return 1;
    }
  }
  return 0;
}

static void first_token(json_t *cc, char *out, size_t len)
{
  json_t *c = json_array_get(json_object_get(cc, "coding"), 0);
  const char *sys = str_of(c, "system"), *code = str_of(c, "code");
  snprintf(out, len, "%s|%s", sys ? sys : "", code ? code : "");
}

/* valueQuantity of a vital sign: a number and a UCUM unit the kind takes. */
static int take_quantity(json_t *q, const char *code, const char *what,
                         double *out_v, const char **out_unit, char *err)
{
  json_t *val = json_object_get(q, "value");
  const char *sys = str_of(q, "system"), *unit = str_of(q, "code");
  const struct vg_code *k = codes_find(code, strlen(code));
  double canon;
  if (!json_is_object(q))
    return bad(err, -VG_EINVAL, "%s must be a Quantity", what);
  if (!json_is_number(val))
    return bad(err, -VG_EINVAL, "%s.value must be a decimal number", what);
  if (sys && strcmp(sys, UCUM) != 0)
    return bad(err, -VG_EINVAL, "%s.system must be %s for LOINC %s", what,
               UCUM, code);
  if (!unit)
    unit = str_of(q, "unit");
  /* Documented leniency (docs/fhir.md): a Quantity of a code Vigil reads
   * with no unit at all (system UCUM or absent) is in the canonical unit
   * of codes.def, as /api/v1/readings treats an absent unit. A unit that
   * is given must still be right. */
  if (!unit && k)
    unit = k->unit;
  if (!unit)
    return bad(err, -VG_EINVAL, "%s needs a UCUM unit (code)", what);
  if (k && codes_to_canonical(k, unit, strlen(unit), json_number_value(val),
                              &canon))
    return bad(err, -VG_EINVAL, "unit '%s' is not a UCUM unit of LOINC %s "
               "(%s)", unit, code, k->unit);
  *out_v = json_number_value(val);
  *out_unit = unit;
  return 0;
}

/* The effective time as RFC 3339 with an offset (dates: 00:00 UTC). */
static int take_time(json_t *res, char *out, size_t len, int64_t *out_ms,
                     char *err)
{
  json_t *v = json_object_get(res, "effectiveDateTime");
  const char *s;
  int64_t lo, hi;
  if (!v)
    v = json_object_get(res, "effectiveInstant");
  if (!v)
    v = json_object_get(json_object_get(res, "effectivePeriod"), "start");
  if (!v)
    v = json_object_get(res, "issued");
  if (!v) {
    *out_ms = INT64_MIN;
    return 1;
  }
  s = json_string_value(v);
  if (!s || fhir_date_range(s, &lo, &hi))
    return bad(err, -VG_EINVAL, "effective time must be a FHIR dateTime "
               "(a time needs a time zone)");
  *out_ms = lo;
  if (strlen(s) > 10)
    snprintf(out, len, "%s", s);
  else
    vg_time_format(lo, 0, out, len);
  return 0;
}

/* LOINC codes of the FHIR vital-signs profile that Vigil reads. */
static int vital_sign(const char *code)
{
  const struct vg_code *k = codes_find(code, strlen(code));
  if (!k)
    return 0;
  switch (k->id) {
  case VG_CODE_SBP: case VG_CODE_DBP: case VG_CODE_HR: case VG_CODE_SPO2:
  case VG_CODE_WEIGHT: case VG_CODE_TEMP: case VG_CODE_RESP:
  case VG_CODE_HEIGHT: case VG_CODE_BMI:
    return 1;
  default:
    return 0;
  }
}

static int map_observation(json_t *res, struct fhir_res *out, char *err)
{
  json_t *cc = json_object_get(res, "code"), *v, *c;
  const char *code = NULL;
  size_t i;
  int rc;
  if ((rc = check_code(res, "status", obs_status, err)))
    return rc;
  if ((rc = check_codeable(cc, "Observation.code", err)))
    return rc;
  json_array_foreach(json_object_get(res, "category"), i, v)
    if ((rc = check_codeable(v, "Observation.category", err)))
      return rc;
  v = json_object_get(res, "valueQuantity");
  if (v && (!json_is_object(v) ||
            (json_object_get(v, "value") &&
             !json_is_number(json_object_get(v, "value")))))
    return bad(err, -VG_EINVAL, "Observation.valueQuantity.value must be a "
               "decimal number");
  json_array_foreach(json_object_get(res, "component"), i, c) {
    json_t *q = json_object_get(c, "valueQuantity");
    if (!json_is_object(c) || !json_object_get(c, "code"))
      return bad(err, -VG_EINVAL, "Observation.component[%zu].code is "
                 "required", i);
    if ((rc = check_codeable(json_object_get(c, "code"),
                             "Observation.component.code", err)))
      return rc;
    if (q && (!json_is_object(q) || (json_object_get(q, "value") &&
                                     !json_is_number(json_object_get(q,
                                                                 "value")))))
      return bad(err, -VG_EINVAL, "Observation.component[%zu].valueQuantity"
                 ".value must be a decimal number", i);
  }
  v = json_object_get(res, "subject");
  if (v && (rc = check_reference(v, "Observation.subject", err)))
    return rc;
  out->subject = str_of(v, "reference");
  first_token(cc, out->code_token, sizeof out->code_token);
  rc = take_time(res, out->time, sizeof out->time, &out->ts_ms, err);
  if (rc < 0)
    return rc;
  out->source = "fhir";
  v = json_object_get(res, "device");
  if (str_of(v, "display"))
    out->source = str_of(v, "display");
  else if (str_of(v, "reference"))
    out->source = str_of(v, "reference");
  if (!interpreted_code(cc, &code) ||
      (strcmp(str_of(res, "status"), "final") &&
       strcmp(str_of(res, "status"), "amended") &&
       strcmp(str_of(res, "status"), "corrected") &&
       strcmp(str_of(res, "status"), "preliminary"))) {
    out->kind = FHIR_K_GENERIC;
    out->rest = json_deep_copy(res);
    return 0;
  }
  /* A Vigil reading: one value, or the BP panel's two components. */
  if (!out->subject || strncmp(out->subject, "Patient/", 8) != 0) {
    if (!out->subject || strncmp(out->subject, "urn:uuid:", 9) != 0)
      return bad(err, -VG_EUNPROC, "an Observation of LOINC %s needs "
                 "subject Patient/<id>", code);
  }
  if (out->ts_ms == INT64_MIN)
    return bad(err, -VG_EINVAL, "an Observation of LOINC %s needs "
               "effectiveDateTime", code);
  if (!strcmp(code, BP_PANEL) || !strcmp(code, BP_PANEL_OLD)) {
    const char *want[2] = {"8480-6", "8462-4"};
    for (int k = 0; k < 2; k++) {
      int found = 0;
      json_array_foreach(json_object_get(res, "component"), i, c) {
        const char *cv = NULL;
        if (!interpreted_code(json_object_get(c, "code"), &cv) ||
            strcmp(cv, want[k]) != 0)
          continue;
        rc = take_quantity(json_object_get(c, "valueQuantity"), want[k],
                           "component.valueQuantity", &out->value[k],
                           &out->unit[k], err);
        if (rc)
          return rc;
        out->code[k] = want[k];
        found = 1;
        break;
      }
      if (!found)
        return bad(err, -VG_EINVAL, "blood pressure panel %s needs a "
                   "component %s with a valueQuantity", code, want[k]);
    }
    out->n_raw = 2;
  } else {
    v = json_object_get(res, "valueQuantity");
    if (!v)
      return bad(err, -VG_EINVAL, "an Observation of LOINC %s needs "
                 "valueQuantity", code);
    rc = take_quantity(v, code, "Observation.valueQuantity", &out->value[0],
                       &out->unit[0], err);
    if (rc && !vital_sign(code) && json_is_number(json_object_get(v,
                                                                 "value"))) {
      /* a lab value in a unit Vigil does not convert: kept as FHIR data,
       * not interpreted (vital signs must use their UCUM units) */
      out->kind = FHIR_K_GENERIC;
      out->rest = json_deep_copy(res);
      err[0] = '\0';
      return 0;
    }
    if (rc)
      return rc;
    out->code[0] = code;
    out->n_raw = 1;
  }
  out->kind = FHIR_K_READING;
  return 0;
}

/* ==== reading ids and JSON ============================================== */

uint64_t fhir_source_hash(const char *s)
{
  /* FNV-1a 64 (http://www.isthe.com/chongo/tech/comp/fnv/) */
  uint64_t h = 14695981039346656037ULL;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ULL;
  }
  return h & 0xffffffffffULL; /* 40 bits keep the id short */
}

void fhir_reading_id(int64_t patient_id, const char *code_part, int64_t ts_ms,
                     const char *source, char *id)
{
  snprintf(id, FHIR_ID_MAX, "r%lld.%s.%lld.%llx", (long long)patient_id,
           code_part, (long long)ts_ms,
           (unsigned long long)fhir_source_hash(source));
}

int fhir_reading_id_parse(const char *id, int64_t *out_patient,
                          char *out_code_part, size_t code_len,
                          int64_t *out_ts_ms, uint64_t *out_src_hash)
{
  const char *p = id, *dot;
  char *end;
  size_t n;
  if (*p++ != 'r')
    return -VG_EINVAL;
  *out_patient = strtoll(p, &end, 10);
  if (end == p || *end != '.' || *out_patient <= 0)
    return -VG_EINVAL;
  p = end + 1;
  dot = strchr(p, '.');
  if (!dot || (n = (size_t)(dot - p)) == 0 || n >= code_len)
    return -VG_EINVAL;
  memcpy(out_code_part, p, n);
  out_code_part[n] = '\0';
  p = dot + 1;
  *out_ts_ms = strtoll(p, &end, 10);
  if (end == p || *end != '.')
    return -VG_EINVAL;
  p = end + 1;
  *out_src_hash = strtoull(p, &end, 16);
  if (end == p || *end)
    return -VG_EINVAL;
  return 0;
}

void fhir_set_meta(json_t *body, const char *id, int version,
                   int64_t updated_ms)
{
  char v[16], ts[40];
  snprintf(v, sizeof v, "%d", version);
  vg_time_format(updated_ms, 0, ts, sizeof ts);
  json_object_set_new(body, "id", json_string(id));
  json_object_set_new(body, "meta", json_pack("{s:s,s:s}", "versionId", v,
                                              "lastUpdated", ts));
}

static json_t *quantity(const struct vg_code *k, double v)
{
  return json_pack("{s:f,s:s,s:s,s:s}", "value", v, "unit", k->unit,
                   "system", UCUM, "code", k->unit);
}

static json_t *coding(const struct vg_code *k)
{
  return json_pack("{s:[{s:s,s:s,s:s}]}", "coding", "system",
                   strcmp(k->system, "loinc") == 0
                       ? LOINC : "urn:iso:std:iso:11073:10101",
                   "code", k->code, "display", k->display);
}

const char *fhir_reading_category(int code)
{
  switch (code) {
  case VG_CODE_HBA1C: case VG_CODE_CREAT: case VG_CODE_TCHOL:
  case VG_CODE_HDL: case VG_CODE_LDL: case VG_CODE_UACR: case VG_CODE_FPG:
  case VG_CODE_EGFR: case VG_CODE_CYSC:
    return "laboratory";
  case VG_CODE_STEPS:
    return "activity";
  default:
    return "vital-signs";
  }
}

json_t *fhir_reading_json(const struct vg_reading *r,
                          const struct vg_reading *dbp, int version,
                          int64_t updated_ms)
{
  const struct vg_code *k = codes_by_id(r->code);
  json_t *o = json_object();
  char id[FHIR_ID_MAX], ref[40], ts[40], code_part[8];
  if (!k)
    return o;
  if (dbp)
    snprintf(code_part, sizeof code_part, "bp");
  else
    snprintf(code_part, sizeof code_part, "%d", r->code);
  fhir_reading_id(r->patient_id, code_part, r->ts_ms, r->source, id);
  json_object_set_new(o, "resourceType", json_string("Observation"));
  fhir_set_meta(o, id, version, updated_ms);
  json_object_set_new(o, "status", json_string("final"));
  json_object_set_new(o, "category", json_pack(
      "[{s:[{s:s,s:s}]}]", "coding", "system",
      "http://terminology.hl7.org/CodeSystem/observation-category", "code",
      fhir_reading_category(r->code)));
  if (dbp) {
    const struct vg_code *kd = codes_by_id(dbp->code);
    json_object_set_new(o, "code", json_pack(
        "{s:[{s:s,s:s,s:s}]}", "coding", "system", LOINC, "code", BP_PANEL,
        "display", "Blood pressure panel with all children optional"));
    json_object_set_new(o, "component", json_pack(
        "[{s:o,s:o},{s:o,s:o}]", "code", coding(k), "valueQuantity",
        quantity(k, r->value), "code", coding(kd), "valueQuantity",
        quantity(kd, dbp->value)));
  } else {
    json_object_set_new(o, "code", coding(k));
  }
  snprintf(ref, sizeof ref, "Patient/%lld", (long long)r->patient_id);
  json_object_set_new(o, "subject", json_pack("{s:s}", "reference", ref));
  vg_time_format(r->ts_ms, r->tz_offset_min, ts, sizeof ts);
  json_object_set_new(o, "effectiveDateTime", json_string(ts));
  if (!dbp)
    json_object_set_new(o, "valueQuantity", quantity(k, r->value));
  if (r->source && strcmp(r->source, "fhir") != 0)
    json_object_set_new(o, "device", json_pack("{s:s}", "display",
                                               r->source));
  return o;
}

json_t *fhir_outcome(const char *severity, const char *code,
                     const char *diagnostics)
{
  return json_pack("{s:s,s:[{s:s,s:s,s:s}]}", "resourceType",
                   "OperationOutcome", "issue", "severity", severity, "code",
                   code, "diagnostics", diagnostics);
}

/* ==== generic types ===================================================== */

static int map_generic(json_t *res, const struct type_def *d,
                       struct fhir_res *out, char *err)
{
  static const char *const req_status[] = {
      "draft", "requested", "received", "accepted", "rejected", "ready",
      "cancelled", "in-progress", "on-hold", "failed", "completed",
      "entered-in-error", "active", "revoked", "unknown", "inactive",
      "proposed", "suspended", "preparation", "not-done", "stopped",
      "available", "not-available", "proposal", "plan", "directive", "order",
      "original-order", "reflex-order", "filler-order", "instance-order",
      "option", NULL};
  const char *refkey = !strcmp(d->name, "Task") ? "for"
                       : !strcmp(d->name, "Device") ? "patient" : "subject";
  json_t *subj = json_object_get(res, refkey), *v;
  const char *key;
  int rc;
  if ((rc = check_code(res, "status", req_status, err)) ||
      (rc = check_code(res, "intent", req_status, err)))
    return rc;
  if (subj && (rc = check_reference(subj, refkey, err)))
    return rc;
  json_object_foreach(res, key, v) {
    if (!strcmp(key, "code") || !strcmp(key, "type") ||
        !strcmp(key, "clinicalStatus") || !strcmp(key, "verificationStatus"))
      if (json_is_object(v) && (rc = check_codeable(v, key, err)))
        return rc;
    if ((!strcmp(key, "recordedDate") || !strcmp(key, "authoredOn") ||
         !strcmp(key, "onsetDateTime") || !strcmp(key, "sent")) &&
        (rc = check_datetime(v, key, err)))
      return rc;
  }
  v = json_object_get(res, "actual");
  if (v && !json_is_boolean(v))
    return bad(err, -VG_EINVAL, "Group.actual must be a boolean");
  out->subject = str_of(subj, "reference");
  if (json_object_get(res, "code"))
    first_token(json_object_get(res, "code"), out->code_token,
                sizeof out->code_token);
  v = json_object_get(res, "onsetDateTime");
  if (!v)
    v = json_object_get(res, "authoredOn");
  if (!v)
    v = json_object_get(res, "recordedDate");
  if (!v)
    v = json_object_get(res, "sent");
  out->ts_ms = INT64_MIN;
  if (json_is_string(v)) {
    int64_t lo, hi;
    if (fhir_date_range(json_string_value(v), &lo, &hi) == 0)
      out->ts_ms = lo;
  }
  out->kind = FHIR_K_GENERIC;
  out->rest = json_deep_copy(res);
  return 0;
}

/* ==== entry point ======================================================= */

int fhir_map_resource(json_t *res, const char *want_type,
                      struct fhir_res *out, char *err)
{
  const char *rt = str_of(res, "resourceType"), *id;
  const struct type_def *d;
  int rc;
  memset(out, 0, sizeof *out);
  out->ts_ms = INT64_MIN;
  err[0] = '\0';
  if (!json_is_object(res))
    return bad(err, -VG_EINVAL, "a resource must be a JSON object");
  if (!rt || !rt[0])
    return bad(err, -VG_EINVAL, "resourceType is missing or empty");
  if (want_type && strcmp(rt, want_type) != 0)
    return bad(err, -VG_EINVAL, "resourceType '%s' does not match the "
               "URL's type '%s'", rt, want_type);
  d = type_find(rt, strlen(rt));
  if (!d)
    return bad(err, -VG_ENOTFOUND, "resource type '%s' is not supported",
               rt);
  out->type = d->name;
  if ((rc = check_structure(res, d, err)))
    return rc;
  id = str_of(res, "id");
  if (id)
    snprintf(out->id, sizeof out->id, "%s", id);
  if (!strcmp(d->name, "Patient")) {
    out->kind = FHIR_K_PATIENT;
    return map_patient(res, out, err);
  }
  if (!strcmp(d->name, "Observation"))
    return map_observation(res, out, err);
  return map_generic(res, d, out, err);
}

void fhir_res_clear(struct fhir_res *r)
{
  json_decref(r->rest);
  r->rest = NULL;
}
