/* cli_export.c - `vigil export --out DIR [--deidentify] [--type T,..]
 * [--since INSTANT]`: the Bulk Data export (fhir_export_run) written
 * straight from the store to DIR, with the manifest as manifest.json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "core_errors.h"
#include "core_log.h"
#include "core_time.h"
#include "fhir.h"
#include "store.h"

int cli_export(int argc, char **argv)
{
  struct vg_config cfg;
  struct vg_store *st = NULL;
  const char *out = NULL, *types = NULL, *since = NULL;
  char err[256], path[4096], ts[40];
  int deid = 0, rc;
  int64_t since_ms = 0, hi;
  json_t *man = NULL, *doc;
  FILE *f;

  if (cli_wants_help(argc, argv)) {
    printf("usage: vigil export [--db PATH | --pg URL] --out DIR "
           "[--deidentify] [--type T,...] [--since INSTANT]\n"
           "Writes one NDJSON file per FHIR type and manifest.json to DIR."
           "\n");
    return 0;
  }
  config_init(&cfg);
  if (config_read_env(&cfg, err, sizeof err)) {
    fprintf(stderr, "vigil export: %s\n", err);
    return 2;
  }
  log_set_level(VG_LOG_WARN);
  for (int i = 1; i < argc;) {
    if (!strcmp(argv[i], "--deidentify")) {
      deid = 1;
      i++;
    } else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
      out = argv[i + 1];
      i += 2;
    } else if (!strcmp(argv[i], "--type") && i + 1 < argc) {
      types = argv[i + 1];
      i += 2;
    } else if (!strcmp(argv[i], "--since") && i + 1 < argc) {
      since = argv[i + 1];
      i += 2;
    } else {
      int before = i;
      err[0] = '\0';
      if (!config_parse_args(&cfg, argc, argv, &i, err, sizeof err) &&
          i != before)
        continue;
      fprintf(stderr, "vigil export: %s\n", err[0] ? err : argv[i]);
      return 2;
    }
  }
  if (!out) {
    fprintf(stderr, "vigil export: --out DIR is required\n");
    return 2;
  }
  if (since && fhir_date_range(since, &since_ms, &hi)) {
    fprintf(stderr, "vigil export: --since '%s' is not a FHIR instant\n",
            since);
    return 2;
  }
  rc = store_open(&cfg, &st);
  if (rc) {
    fprintf(stderr, "vigil export: cannot open the store: %s\n",
            vg_strerror(rc));
    return 1;
  }
  rc = fhir_export_run(st, out, types, since_ms, NULL, deid, NULL, NULL,
                       &man);
  store_close(st);
  if (rc) {
    fprintf(stderr, "vigil export: %s\n", vg_strerror(rc));
    return 1;
  }
  vg_time_format(vg_now_ms(), 0, ts, sizeof ts);
  doc = json_pack("{s:s,s:s,s:b,s:o,s:[]}", "transactionTime", ts,
                  "request", "vigil export", "requiresAccessToken", 0,
                  "output", man, "error");
  snprintf(path, sizeof path, "%s/manifest.json", out);
  f = fopen(path, "w");
  if (!f || json_dumpf(doc, f, JSON_INDENT(2)) || fclose(f)) {
    fprintf(stderr, "vigil export: cannot write %s\n", path);
    json_decref(doc);
    return 1;
  }
  {
    size_t i;
    json_t *o;
    json_array_foreach(man, i, o)
      printf("%-16s %8lld  %s/%s\n",
             json_string_value(json_object_get(o, "type")),
             (long long)json_integer_value(json_object_get(o, "count")), out,
             json_string_value(json_object_get(o, "url")));
  }
  json_decref(doc);
  return 0;
}
