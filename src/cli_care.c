/* cli_care.c - `vigil assess PATIENT`: the patient's assessment JSON, the
 * same document as GET /api/v1/patients/{id}/assessment, computed now with
 * the rules of --care-rules (or the defaults). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "care_assess.h"
#include "cli.h"
#include "config.h"
#include "core_alloc.h"
#include "core_errors.h"
#include "core_log.h"
#include "core_time.h"
#include "store.h"

static void usage(FILE *f)
{
  fprintf(f,
          "usage: vigil assess PATIENT [--db PATH | --pg URL] "
          "[--care-rules FILE]\n"
          "Prints the assessment of patient id PATIENT as JSON (tier, "
          "level, reasons,\nper programme, alerts that fire, versions), "
          "as GET /api/v1/patients/{id}/assessment.\n"
          "Exit codes: 0 printed, 1 no such patient or store error, 2 "
          "usage or rules error.\n");
}

int cli_assess(int argc, char **argv)
{
  struct vg_config cfg;
  struct vg_store *st = NULL;
  struct vg_txn *t = NULL;
  struct care_rules rules;
  struct care_result *res = NULL;
  struct care_load_buf *lb = NULL;
  struct care_scratch sc = {0};
  struct vg_buf out = VG_BUF_INIT;
  const char *patient = NULL;
  char err[256], rv[17];
  int64_t pid = 0, now = vg_now_ms();
  int rc, code = 1;

  if (cli_wants_help(argc, argv)) {
    usage(stdout);
    return 0;
  }
  config_init(&cfg);
  if (config_read_env(&cfg, err, sizeof err)) {
    fprintf(stderr, "vigil assess: %s\n", err);
    return 2;
  }
  log_set_level(VG_LOG_WARN);
  for (int i = 1; i < argc;) {
    int before = i;
    if (argv[i][0] != '-' && !patient) {
      patient = argv[i++];
      continue;
    }
    err[0] = '\0';
    if (!config_parse_args(&cfg, argc, argv, &i, err, sizeof err) &&
        i != before)
      continue;
    fprintf(stderr, "vigil assess: %s\n", err[0] ? err : argv[i]);
    usage(stderr);
    return 2;
  }
  if (!patient) {
    usage(stderr);
    return 2;
  }
  {
    char *end = NULL;
    long long v = strtoll(patient, &end, 10);
    if (!end || *end || v <= 0) {
      fprintf(stderr, "vigil assess: PATIENT must be a patient id, not "
                      "'%s'\n", patient);
      return 2;
    }
    pid = v;
  }
  rc = care_rules_load(&rules, cfg.care_rules, err, sizeof err);
  if (rc) {
    fprintf(stderr, "vigil assess: rules %s: %s\n", cfg.care_rules, err);
    return 2;
  }
  care_rules_version(&rules, rv);
  rc = store_open(&cfg, &st);
  if (rc) {
    fprintf(stderr, "vigil assess: cannot open the store: %s\n",
            vg_strerror(rc));
    return 1;
  }
  res = vg_calloc(1, sizeof *res);
  rc = store_begin(st, VG_TXN_READ, &t);
  if (rc == 0) {
    rc = care_assess_load(t, &rules, pid, now, &lb, &sc, res);
    store_rollback(t);
  }
  if (rc == 0)
    rc = care_result_json(res, now, rv, &out);
  if (rc == -VG_ENOTFOUND)
    fprintf(stderr, "vigil assess: no patient %lld\n", (long long)pid);
  else if (rc)
    fprintf(stderr, "vigil assess: %s\n", vg_strerror(rc));
  else {
    printf("%s\n", out.data);
    code = 0;
  }
  buf_free(&out);
  care_load_buf_free(lb);
  care_scratch_free(&sc);
  care_result_free(res);
  vg_free(res);
  store_close(st);
  return code;
}
