/* cli_serve.c - `vigil serve` and `vigil migrate`: open the store, start the
 * writer and the HTTP server, seed demo data, drain on SIGTERM. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "care_assess.h"
#include "cli_auth.h"
#include "config.h"
#include "core_errors.h"
#include "core_log.h"
#include "demo.h"
#include "http.h"
#include "ingest_mllp.h"
#include "ingest_mqtt.h"
#include "store.h"
#include "store_writer.h"

#define DRAIN_MS 10000

static int write_port_file(const char *path, int port);

/* Start the device gateways configured (--mllp, --mqtt). */
static int gateways_start(const struct vg_config *cfg, struct vg_store *store,
                          struct vg_writer *writer, struct vg_mllp **out_mllp,
                          struct vg_mqtt **out_mqtt)
{
  int rc;
  if (cfg->mllp[0]) {
    struct vg_mllp_opts o = {0};
    char *end;
    long port = strtol(cfg->mllp, &end, 10);
    if (*end || port < 0 || port > 65535) {
      vg_error("serve.mllp", "error=\"--mllp wants a port, not '%s'\"",
               cfg->mllp);
      return -VG_EINVAL;
    }
    o.bind = cfg->mllp_bind[0] ? cfg->mllp_bind : cfg->bind;
    o.port = (int)port;
    o.max_len = (size_t)cfg->mllp_max;
    o.timeout_ms = (int)(cfg->mllp_timeout * 1000);
    o.max_conns = (int)cfg->mllp_conns;
    o.future_ms = cfg->future_ms;
    rc = mllp_start(store, writer, &o, out_mllp);
    if (rc)
      return rc;
    if (cfg->mllp_port_file[0] &&
        write_port_file(cfg->mllp_port_file, mllp_port(*out_mllp)))
      return -VG_EIO;
    vg_info("serve.mllp", "addr=%s port=%d", o.bind, mllp_port(*out_mllp));
  }
  if (cfg->mqtt[0]) {
    struct vg_mqtt_opts o = {0};
    o.url = cfg->mqtt;
    o.client_id = cfg->mqtt_client_id;
    o.share = cfg->mqtt_share;
    o.max_len = (size_t)cfg->mqtt_max;
    o.future_ms = cfg->future_ms;
    rc = mqtt_start(store, writer, &o, out_mqtt);
    if (rc)
      return rc;
  }
  return 0;
}

static int load_config(struct vg_config *cfg, int argc, char **argv)
{
  enum vg_log_level lvl;
  char err[256];
  if (config_load(cfg, argc, argv, 1, err, sizeof err)) {
    fprintf(stderr, "vigil %s: %s\n", argv[0], err);
    return 2;
  }
  if (log_parse_level(cfg->log_level, &lvl)) {
    fprintf(stderr, "vigil: bad log level '%s'\n", cfg->log_level);
    return 2;
  }
  log_set_level(lvl);
  return 0;
}

static int write_port_file(const char *path, int port)
{
  char tmp[VG_CFG_STR_MAX + 8];
  FILE *f;
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  f = fopen(tmp, "w");
  if (!f)
    return -1;
  fprintf(f, "%d\n", port);
  if (fclose(f) != 0)
    return -1;
  return rename(tmp, path); /* atomic: readers never see a partial file */
}

int cli_serve(int argc, char **argv)
{
  struct vg_config cfg;
  struct vg_app app = {0};
  struct vg_writer_opts wopts;
  struct vg_http *http = NULL;
  struct vg_store *store = NULL;
  struct vg_writer *writer = NULL;
  struct vg_mllp *mllp = NULL;
  struct vg_mqtt *mqtt = NULL;
  struct care_assess *care = NULL;
  sigset_t sigs;
  int sig = 0, rc;

  if (cli_wants_help(argc, argv)) {
    printf("usage: vigil serve [options]\n"
           "Serves the JSON API under /api/v1 and the dashboard at /.\n\n");
    config_print_help(stdout);
    return 0;
  }
  rc = load_config(&cfg, argc, argv);
  if (rc)
    return rc;
  /* Block the stop signals before any thread starts, so only sigwait sees them. */
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);

  rc = store_open(&cfg, &store);
  if (rc) {
    vg_error("serve.store", "error=\"%s\"", vg_strerror(rc));
    return 1;
  }
  wopts.max_rows = (size_t)cfg.commit_rows;
  wopts.max_wait_ms = (int)cfg.commit_ms;
  wopts.queue_rows = (size_t)cfg.queue_rows;
  rc = writer_start(store, &wopts, &writer);
  if (rc)
    goto fail;
  app.cfg = &cfg;
  app.store = store;
  app.writer = writer;
  if (cfg.demo) {
    rc = demo_seed(&app, (int)cfg.demo_patients);
    if (rc)
      goto fail;
  }
  rc = cli_auth_serve_start(&app); /* auditor, bootstrap token, demo users */
  if (rc)
    goto fail;
  if (cfg.demo) { /* after the demo users: it puts them on teams */
    rc = demo_seed_care(&app);
    if (rc)
      goto fail;
  }
  if (cfg.care_worker) { /* after the writer; stopped before it */
    struct care_assess_opts co = {cfg.care_rules, (int)cfg.care_tick_ms};
    rc = care_assess_start(&app, &co, &care);
    if (rc)
      goto fail;
  }
  rc = gateways_start(&cfg, store, writer, &mllp, &mqtt);
  if (rc)
    goto fail;
  rc = http_start(&app, &http);
  if (rc)
    goto fail;
  if (cfg.port_file[0] && write_port_file(cfg.port_file, http_port(http))) {
    vg_error("serve.port_file", "path=%s", cfg.port_file);
    rc = -VG_EIO;
    goto fail;
  }
  vg_info("serve.listening", "url=http://%s:%d/ store=%s version=%s", cfg.bind,
          http_port(http), store_backend_name(store), VG_VERSION);
  sigwait(&sigs, &sig);
  vg_info("serve.stopping", "signal=%d drain_ms=%d", sig, DRAIN_MS);
  rc = 0;
fail:
  http_stop(http, DRAIN_MS); /* in-flight requests finish, */
  mqtt_stop(mqtt);           /* gateway messages in flight commit, */
  mllp_stop(mllp);
  care_assess_stop(care);    /* the care worker's last jobs, */
  cli_auth_serve_stop(&app); /* queued audit events go to the writer, */
  writer_stop(writer);       /* then queued writes commit */
  store_close(store);
  if (rc)
    vg_error("serve.failed", "error=\"%s\"", vg_strerror(rc));
  else
    vg_info("serve.stopped", "clean=1");
  return rc ? 1 : 0;
}

int cli_migrate(int argc, char **argv)
{
  struct vg_config cfg;
  struct vg_store *store;
  int rc;
  if (cli_wants_help(argc, argv)) {
    printf("usage: vigil migrate [--db PATH | --pg URL]\n"
           "Applies pending schema migrations and exits.\n");
    return 0;
  }
  rc = load_config(&cfg, argc, argv);
  if (rc)
    return rc;
  rc = store_open(&cfg, &store); /* opening applies pending migrations */
  if (rc) {
    fprintf(stderr, "vigil migrate: %s\n", vg_strerror(rc));
    return 1;
  }
  printf("schema is current (%s)\n", store_backend_name(store));
  store_close(store);
  return 0;
}
