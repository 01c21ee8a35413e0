/* cli_auth.c - `vigil user add|passwd|disable|enable`, `vigil token
 * create|revoke`, `vigil audit verify`, and the auth set-up of serve.
 * Passwords come from VIGIL_PASSWORD or stdin (--password-stdin), never
 * from argv (which other users can read in ps). */
#include "cli_auth.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "auth.h"
#include "auth_audit.h"
#include "cli.h"
#include "config.h"
#include "core_errors.h"
#include "core_log.h"
#include "core_time.h"
#include "http.h"
#include "store.h"
#include "store_writer.h"

#define ARGS_MAX 64
#define BOOTSTRAP_USER "bootstrap-admin"
#define BOOTSTRAP_TTL_MS (30LL * 86400 * 1000)

/* ==== shared helpers ==================================================== */

/* Options of the auth subcommands; the rest goes to config_load. */
struct opts {
  const char *role, *scopes, *org, *patient, *device, *ttl_days;
  int password_stdin;
  const char *pos[4]; /* positional arguments */
  int n_pos;
  struct vg_config cfg;
};

/* argv[1..n_pos] are the positional arguments (verb, name); options
 * follow. */
static int parse(int argc, char **argv, int n_pos, struct opts *o)
{
  char *rest[ARGS_MAX];
  char err[256];
  int i, n = 0;
  memset(o, 0, sizeof *o);
  rest[n++] = argv[0];
  for (i = 1; i <= n_pos; i++) {
    if (i >= argc || argv[i][0] == '-')
      return 2;
    o->pos[o->n_pos++] = argv[i];
  }
  for (i = n_pos + 1; i < argc; i++) {
    const char *a = argv[i];
    const char **dst = NULL;
    if (strcmp(a, "--role") == 0)
      dst = &o->role;
    else if (strcmp(a, "--scopes") == 0)
      dst = &o->scopes;
    else if (strcmp(a, "--org") == 0)
      dst = &o->org;
    else if (strcmp(a, "--patient") == 0)
      dst = &o->patient;
    else if (strcmp(a, "--device") == 0)
      dst = &o->device;
    else if (strcmp(a, "--ttl-days") == 0)
      dst = &o->ttl_days;
    if (dst) {
      if (i + 1 >= argc) {
        fprintf(stderr, "vigil: %s needs a value\n", a);
        return 2;
      }
      *dst = argv[++i];
    } else if (strcmp(a, "--password-stdin") == 0) {
      o->password_stdin = 1;
    } else if (n < ARGS_MAX) {
      rest[n++] = argv[i];
    }
  }
  if (config_load(&o->cfg, n, rest, 1, err, sizeof err)) {
    fprintf(stderr, "vigil: %s\n", err);
    return 2;
  }
  log_set_level(VG_LOG_WARN);
  return 0;
}

static int parse_i64(const char *s, int64_t *out)
{
  char *end;
  long long v;
  if (!s || !*s)
    return -1;
  v = strtoll(s, &end, 10);
  if (*end || v < 0)
    return -1;
  *out = v;
  return 0;
}

/* The new password: VIGIL_PASSWORD, or one line of stdin. */
static int read_password(const struct opts *o, char *pw, size_t size)
{
  const char *env = getenv("VIGIL_PASSWORD");
  size_t n;
  if (!o->password_stdin && env) {
    snprintf(pw, size, "%s", env);
    return 0;
  }
  if (!o->password_stdin) {
    fprintf(stderr, "vigil: give the password in VIGIL_PASSWORD or with "
                    "--password-stdin\n");
    return -1;
  }
  if (!fgets(pw, (int)size, stdin))
    return -1;
  n = strcspn(pw, "\r\n");
  pw[n] = '\0';
  return 0;
}

struct session {
  struct vg_store *store;
  struct vg_writer *writer;
};

static int session_open(const struct vg_config *cfg, struct session *s)
{
  struct vg_writer_opts wo = {0};
  int rc;
  memset(s, 0, sizeof *s);
  rc = store_open(cfg, &s->store);
  if (rc == 0)
    rc = writer_start(s->store, &wo, &s->writer);
  if (rc)
    fprintf(stderr, "vigil: cannot open the store: %s\n", vg_strerror(rc));
  return rc;
}

static void session_close(struct session *s)
{
  writer_stop(s->writer);
  store_close(s->store);
}

/* Record a CLI change in the audit log (operator "cli" on this host). */
static void audit_cli(struct session *s, const char *action,
                      const char *resource, int64_t user_id, int outcome)
{
  struct vg_audit e;
  memset(&e, 0, sizeof e);
  e.ts_ms = vg_now_ms();
  e.user_id = 0;
  snprintf(e.username, sizeof e.username, "cli");
  snprintf(e.role, sizeof e.role, "admin");
  snprintf(e.action, sizeof e.action, "%s", action);
  snprintf(e.resource, sizeof e.resource, "%s user:%lld", resource,
           (long long)user_id);
  e.outcome = outcome;
  snprintf(e.source, sizeof e.source, "local");
  if (audit_append_sync(s->writer, &e, 1))
    fprintf(stderr, "vigil: warning: audit event not written\n");
}

struct user_job {
  struct vg_user u;
  int create;
};

static int user_fn(struct vg_txn *t, void *ctx)
{
  struct user_job *j = ctx;
  return j->create ? store_user_create(t, &j->u) : store_user_update(t, &j->u);
}

static int user_load(struct session *s, const char *name, struct vg_user *u)
{
  struct vg_txn *t;
  int rc = store_begin(s->store, VG_TXN_READ, &t);
  if (rc)
    return rc;
  rc = store_user_by_name(t, name, u);
  store_rollback(t);
  return rc;
}

/* ==== vigil user ======================================================== */

static int user_usage(void)
{
  printf("usage: vigil user add NAME --role ROLE [--org N] [--patient ID]\n"
         "                 [--device ID] [--scopes \"S ...\"] "
         "[--password-stdin]\n"
         "       vigil user passwd NAME [--password-stdin]\n"
         "       vigil user disable|enable NAME\n"
         "Roles: admin clinician doctor nurse patient researcher device "
         "client.\nThe password comes from VIGIL_PASSWORD or stdin; devices "
         "and clients\nneed none (they use tokens). enable also clears a "
         "lockout.\n");
  return 2;
}

int cli_user(int argc, char **argv)
{
  struct user_job j;
  struct session s;
  struct opts o;
  const char *reason, *verb, *name;
  char pw[256];
  int rc;

  if (cli_wants_help(argc, argv) || argc < 3)
    return user_usage();
  if (parse(argc, argv, 2, &o))
    return user_usage();
  verb = o.pos[0];
  name = o.pos[1];
  memset(&j, 0, sizeof j);
  if (strcmp(verb, "add") == 0) {
    j.create = 1;
    if (!o.role || !auth_role_valid(o.role)) {
      fprintf(stderr, "vigil user add: --role must be a known role\n");
      return 2;
    }
    if (strlen(name) >= sizeof j.u.username || !name[0]) {
      fprintf(stderr, "vigil user add: bad username\n");
      return 2;
    }
    snprintf(j.u.username, sizeof j.u.username, "%s", name);
    snprintf(j.u.role, sizeof j.u.role, "%s", o.role);
    if ((o.org && parse_i64(o.org, &j.u.org_id)) ||
        (o.patient && parse_i64(o.patient, &j.u.patient_id)) ||
        (o.device && parse_i64(o.device, &j.u.device_id))) {
      fprintf(stderr, "vigil user add: --org/--patient/--device take ids\n");
      return 2;
    }
    if (o.scopes)
      snprintf(j.u.scopes, sizeof j.u.scopes, "%s", o.scopes);
  }
  if (session_open(&o.cfg, &s))
    return 1;
  if (!j.create) {
    rc = user_load(&s, name, &j.u);
    if (rc) {
      fprintf(stderr, "vigil user %s: %s: %s\n", verb, name,
              vg_strerror(rc));
      goto done;
    }
  }
  if (strcmp(verb, "add") == 0 || strcmp(verb, "passwd") == 0) {
    int needs = strcmp(j.u.role, "device") != 0 &&
                strcmp(j.u.role, "client") != 0;
    if (needs || o.password_stdin || getenv("VIGIL_PASSWORD")) {
      rc = -VG_EINVAL;
      if (read_password(&o, pw, sizeof pw))
        goto done;
      if (auth_password_policy(pw, j.u.username, &reason)) {
        fprintf(stderr, "vigil user %s: %s\n", verb, reason);
        goto done;
      }
      rc = auth_password_hash(&o.cfg, pw, j.u.pw_hash, sizeof j.u.pw_hash);
      sodium_memzero(pw, sizeof pw);
      if (rc)
        goto done;
    }
  } else if (strcmp(verb, "disable") == 0) {
    j.u.disabled = 1;
  } else if (strcmp(verb, "enable") == 0) {
    j.u.disabled = 0;
    j.u.failed_logins = 0;
    j.u.locked_until_ms = 0;
  } else {
    session_close(&s);
    return user_usage();
  }
  rc = writer_exec(s.writer, 1, user_fn, &j);
  audit_cli(&s, strcmp(verb, "add") == 0 ? "user_add"
                : strcmp(verb, "passwd") == 0 ? "user_passwd"
                : strcmp(verb, "disable") == 0 ? "user_disable"
                                               : "user_enable",
            "cli user", j.u.id, rc ? vg_http_status(rc) : 200);
  if (rc)
    fprintf(stderr, "vigil user %s: %s\n", verb, vg_strerror(rc));
  else
    printf("user %s: %s (id %lld, role %s)\n", verb, j.u.username,
           (long long)j.u.id, j.u.role);
done:
  session_close(&s);
  return rc ? 1 : 0;
}

/* ==== vigil token ======================================================= */

struct revoke_job {
  int64_t id;
};

static int revoke_fn(struct vg_txn *t, void *ctx)
{
  struct revoke_job *j = ctx;
  return store_token_revoke(t, j->id, vg_now_ms());
}

int cli_token(int argc, char **argv)
{
  struct vg_app app = {0};
  struct session s;
  struct opts o;
  struct vg_user u;
  char token[VG_TOKEN_LEN + 1];
  int64_t days = 90, expires, id;
  int rc;

  if (cli_wants_help(argc, argv) || argc < 3) {
    printf("usage: vigil token create USER [--ttl-days N] [--scopes \"S ...\"]\n"
           "       vigil token revoke TOKEN_ID\n"
           "create prints the token once; only its hash is stored.\n");
    return 2;
  }
  if (parse(argc, argv, 2, &o))
    return 2;
  if (o.ttl_days && (parse_i64(o.ttl_days, &days) || days < 1 ||
                     days > 3650)) {
    fprintf(stderr, "vigil token: --ttl-days must be 1..3650\n");
    return 2;
  }
  if (session_open(&o.cfg, &s))
    return 1;
  if (strcmp(o.pos[0], "create") == 0) {
    rc = user_load(&s, o.pos[1], &u);
    if (rc == 0 && u.disabled)
      rc = -VG_EFORBIDDEN;
    if (rc == 0 && o.scopes) {
      /* A token never holds more than its owner. */
      const char *base = strcmp(u.role, "client") == 0
                             ? u.scopes : auth_role_scopes(u.role);
      const char *sc = o.scopes;
      char one[VG_SCOPES_MAX];
      while (*sc && rc == 0) {
        size_t n = strcspn(sc, " ");
        if (n && n < sizeof one) {
          memcpy(one, sc, n);
          one[n] = '\0';
          if (!strchr(one, '/') && !auth_scope_allows(base, one))
            rc = -VG_EFORBIDDEN;
        }
        sc += n;
        while (*sc == ' ')
          sc++;
      }
    }
    app.cfg = &o.cfg;
    app.store = s.store;
    app.writer = s.writer;
    if (rc == 0)
      rc = auth_token_issue(&app, &u, "api", o.scopes ? o.scopes : "",
                            days * 86400 * 1000, token, &expires, &id);
    audit_cli(&s, "token_create", "cli token", rc ? 0 : u.id,
              rc ? vg_http_status(rc) : 200);
    if (rc == 0) {
      printf("%s\n", token);
      fprintf(stderr, "token id %lld for %s expires in %lld days; it is "
              "shown only now\n", (long long)id, u.username,
              (long long)days);
      sodium_memzero(token, sizeof token);
    }
  } else if (strcmp(o.pos[0], "revoke") == 0) {
    struct revoke_job j;
    rc = parse_i64(o.pos[1], &j.id) ? -VG_EINVAL
                                    : writer_exec(s.writer, 1, revoke_fn, &j);
    audit_cli(&s, "token_revoke", "cli token", 0,
              rc ? vg_http_status(rc) : 200);
    if (rc == 0)
      printf("token %s revoked\n", o.pos[1]);
  } else {
    rc = -VG_EINVAL;
  }
  if (rc)
    fprintf(stderr, "vigil token %s: %s\n", o.pos[0], vg_strerror(rc));
  session_close(&s);
  return rc ? 1 : 0;
}

/* ==== vigil audit ======================================================= */

int cli_audit(int argc, char **argv)
{
  struct vg_store *store;
  struct opts o;
  int64_t n, bad;
  int rc;
  if (cli_wants_help(argc, argv) || argc < 2) {
    printf("usage: vigil audit verify [--db PATH | --pg URL]\n"
           "Checks the hash chain of the audit log; exit 1 if broken.\n");
    return 2;
  }
  if (parse(argc, argv, 1, &o) || strcmp(o.pos[0], "verify") != 0)
    return 2;
  rc = store_open(&o.cfg, &store);
  if (rc) {
    fprintf(stderr, "vigil audit: %s\n", vg_strerror(rc));
    return 1;
  }
  rc = audit_verify(store, &n, &bad);
  store_close(store);
  if (rc == -VG_ECONFLICT) {
    printf("audit chain BROKEN at event %lld (%lld events read)\n",
           (long long)bad, (long long)n);
    return 1;
  }
  if (rc) {
    fprintf(stderr, "vigil audit verify: %s\n", vg_strerror(rc));
    return 1;
  }
  printf("audit chain intact: %lld events\n", (long long)n);
  return 0;
}

/* ==== serve ============================================================= */

static int ensure_user(struct vg_app *app, struct vg_user *u, const char *pw)
{
  struct user_job j;
  struct vg_txn *t;
  int rc = store_begin(app->store, VG_TXN_READ, &t);
  if (rc)
    return rc;
  rc = store_user_by_name(t, u->username, &j.u);
  store_rollback(t);
  if (rc == 0) {
    *u = j.u;
    return 0;
  }
  if (rc != -VG_ENOTFOUND)
    return rc;
  if (pw) {
    rc = auth_password_hash(app->cfg, pw, u->pw_hash, sizeof u->pw_hash);
    if (rc)
      return rc;
  }
  j.u = *u;
  j.create = 1;
  rc = writer_exec(app->writer, 1, user_fn, &j);
  if (rc == 0)
    *u = j.u;
  return rc;
}

/* Keep a live token in the file, or make a new one (mode 0600). */
static int bootstrap_token(struct vg_app *app, const char *path)
{
  struct vg_principal p;
  struct vg_user u;
  char token[VG_TOKEN_LEN + 2], tmp[VG_CFG_STR_MAX + 8];
  int64_t expires;
  FILE *f = fopen(path, "r");
  int fd, rc;
  if (f) {
    size_t n = fread(token, 1, sizeof token - 1, f);
    fclose(f);
    token[n] = '\0';
    token[strcspn(token, "\r\n")] = '\0';
    if (auth_token_principal(app->store, token, strlen(token), vg_now_ms(),
                             &p) == 0 && strcmp(p.role, "admin") == 0)
      return 0;
  }
  memset(&u, 0, sizeof u);
  snprintf(u.username, sizeof u.username, BOOTSTRAP_USER);
  snprintf(u.role, sizeof u.role, "admin");
  rc = ensure_user(app, &u, NULL);
  if (rc == 0)
    rc = auth_token_issue(app, &u, "api", "", BOOTSTRAP_TTL_MS, token,
                          &expires, NULL);
  if (rc)
    return rc;
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  rc = fd < 0 ? -VG_EIO : 0;
  if (rc == 0 && (write(fd, token, VG_TOKEN_LEN) != VG_TOKEN_LEN ||
                  write(fd, "\n", 1) != 1))
    rc = -VG_EIO;
  if (fd >= 0 && close(fd) != 0)
    rc = -VG_EIO;
  if (rc == 0 && rename(tmp, path) != 0)
    rc = -VG_EIO;
  sodium_memzero(token, sizeof token);
  if (rc == 0)
    vg_info("serve.bootstrap", "user=%s token_file=%s", BOOTSTRAP_USER, path);
  return rc;
}

static int first_bound_device(void *ctx, const struct vg_device *d)
{
  struct vg_device *out = ctx;
  if (d->patient_id <= 0)
    return 0;
  *out = *d;
  return 1;
}

/* One user per role: username demo.<role>, password Vigil-demo-<role>-1
 * (README). The patient is patient 1, the device the first bound one. */
static int demo_users(struct vg_app *app)
{
  static const char *const roles[] = { "admin", "clinician", "doctor",
                                       "nurse", "patient", "researcher",
                                       "device" };
  struct vg_device dev;
  struct vg_txn *t;
  size_t i;
  int rc;
  memset(&dev, 0, sizeof dev);
  rc = store_begin(app->store, VG_TXN_READ, &t);
  if (rc)
    return rc;
  rc = store_device_list(t, 0, 0, first_bound_device, &dev);
  store_rollback(t);
  if (rc < 0)
    return rc;
  for (i = 0; i < sizeof roles / sizeof roles[0]; i++) {
    struct vg_user u;
    char pw[64];
    memset(&u, 0, sizeof u);
    snprintf(u.username, sizeof u.username, "demo.%s", roles[i]);
    snprintf(u.role, sizeof u.role, "%s", roles[i]);
    snprintf(pw, sizeof pw, "Vigil-demo-%s-1", roles[i]);
    u.org_id = 1;
    if (strcmp(roles[i], "patient") == 0)
      u.patient_id = 1;
    if (strcmp(roles[i], "device") == 0)
      u.device_id = dev.id;
    rc = ensure_user(app, &u, pw);
    if (rc)
      return rc;
  }
  vg_info("serve.demo_users", "n=%zu password=README", i);
  return 0;
}

int cli_auth_serve_start(struct vg_app *app)
{
  const struct vg_config *cfg = app->cfg;
  int rc = audit_start(app->writer, (int)cfg->audit_flush_ms, &app->audit);
  if (rc)
    return rc;
  if (cfg->bootstrap_admin_token_file[0]) {
    rc = bootstrap_token(app, cfg->bootstrap_admin_token_file);
    if (rc) {
      vg_error("serve.bootstrap", "error=\"%s\"", vg_strerror(rc));
      return rc;
    }
  }
  if (cfg->demo) {
    rc = demo_users(app);
    if (rc)
      return rc;
  }
  return 0;
}

void cli_auth_serve_stop(struct vg_app *app)
{
  audit_stop(app->audit);
  app->audit = NULL;
}
