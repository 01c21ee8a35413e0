/* config.c - option table driven defaults, file, environment and flags. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core_errors.h"

enum opt_type { T_STR, T_INT, T_BOOL };

struct opt {
  const char *field, *def, *flag, *env, *help;
  enum opt_type type;
  int reload;
  size_t offset;
};

static const struct opt opts[] = {
#define X(f, type, d, fl, en, rl, h) \
  {#f, d, fl, en, h, T_##type, rl, offsetof(struct vg_config, f)},
#include "config.def"
#undef X
};
#define N_OPTS (sizeof opts / sizeof opts[0])

static int set_opt(struct vg_config *cfg, const struct opt *o, const char *v,
                   char *err, size_t err_len)
{
  char *p = (char *)cfg + o->offset;
  char *end;
  long long n;
  switch (o->type) {
  case T_STR:
    if (strlen(v) >= VG_CFG_STR_MAX)
      goto bad;
    memcpy(p, v, strlen(v) + 1); /* length checked above */
    return 0;
  case T_INT:
    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < 0)
      goto bad;
    *(int64_t *)p = n;
    return 0;
  case T_BOOL:
    if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
      *(int *)p = 1;
    else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
      *(int *)p = 0;
    else
      goto bad;
    return 0;
  }
bad:
  snprintf(err, err_len, "bad value for %s: '%s'", o->flag, v);
  return -VG_EINVAL;
}

void config_init(struct vg_config *cfg)
{
  char err[8];
  memset(cfg, 0, sizeof *cfg);
  for (size_t i = 0; i < N_OPTS; i++)
    (void)set_opt(cfg, &opts[i], opts[i].def, err, sizeof err);
}

static const struct opt *find_field(const char *name, size_t len)
{
  for (size_t i = 0; i < N_OPTS; i++)
    if (strlen(opts[i].field) == len && !memcmp(opts[i].field, name, len))
      return &opts[i];
  return NULL;
}

static const struct opt *find_flag(const char *name, size_t len)
{
  for (size_t i = 0; i < N_OPTS; i++)
    if (strlen(opts[i].flag) == len && !memcmp(opts[i].flag, name, len))
      return &opts[i];
  return NULL;
}

static char *trim(char *s)
{
  char *e;
  while (*s == ' ' || *s == '\t')
    s++;
  e = s + strlen(s);
  while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
    *--e = '\0';
  return s;
}

int config_read_file(struct vg_config *cfg, const char *path, int reload,
                     char *err, size_t err_len)
{
  char line[1024];
  int lineno = 0, rc = 0;
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, err_len, "cannot open config %s: %s", path, strerror(errno));
    return -VG_EIO;
  }
  while (fgets(line, sizeof line, f)) {
    char *s = trim(line), *eq, *key, *val;
    const struct opt *o;
    lineno++;
    if (!*s || *s == '#')
      continue;
    eq = strchr(s, '=');
    if (!eq) {
      snprintf(err, err_len, "%s:%d: expected key = value", path, lineno);
      rc = -VG_EINVAL;
      break;
    }
    *eq = '\0';
    key = trim(s);
    val = trim(eq + 1);
    o = find_field(key, strlen(key));
    if (!o) {
      snprintf(err, err_len, "%s:%d: unknown option '%s'", path, lineno, key);
      rc = -VG_EINVAL;
      break;
    }
    if (reload && !o->reload)
      continue;
    rc = set_opt(cfg, o, val, err, err_len);
    if (rc)
      break;
  }
  fclose(f);
  return rc;
}

int config_read_env(struct vg_config *cfg, char *err, size_t err_len)
{
  for (size_t i = 0; i < N_OPTS; i++) {
    const char *v = getenv(opts[i].env);
    int rc;
    if (!v)
      continue;
    rc = set_opt(cfg, &opts[i], v, err, err_len);
    if (rc)
      return rc;
  }
  return 0;
}

int config_parse_args(struct vg_config *cfg, int argc, char **argv, int *argi,
                      char *err, size_t err_len)
{
  while (*argi < argc) {
    const char *a = argv[*argi], *name, *eq, *val;
    const struct opt *o;
    size_t len;
    int rc;
    if (strncmp(a, "--", 2) != 0)
      return 0;
    name = a + 2;
    eq = strchr(name, '=');
    len = eq ? (size_t)(eq - name) : strlen(name);
    o = find_flag(name, len);
    if (!o)
      return 0;
    if (eq) {
      val = eq + 1;
    } else if (o->type == T_BOOL) {
      val = "1";
    } else if (*argi + 1 < argc) {
      val = argv[++*argi];
    } else {
      snprintf(err, err_len, "--%s needs a value", o->flag);
      return -VG_EINVAL;
    }
    rc = set_opt(cfg, o, val, err, err_len);
    if (rc)
      return rc;
    ++*argi;
  }
  return 0;
}

int config_load(struct vg_config *cfg, int argc, char **argv, int first,
                char *err, size_t err_len)
{
  const char *file = getenv("VIGIL_CONFIG");
  int rc, argi;
  config_init(cfg);
  for (int i = first; i < argc; i++) {
    if (!strcmp(argv[i], "--config") && i + 1 < argc)
      file = argv[i + 1];
    else if (!strncmp(argv[i], "--config=", 9))
      file = argv[i] + 9;
  }
  if (file && *file) {
    rc = config_read_file(cfg, file, 0, err, err_len);
    if (rc)
      return rc;
  }
  rc = config_read_env(cfg, err, err_len);
  if (rc)
    return rc;
  argi = first;
  while (argi < argc) {
    rc = config_parse_args(cfg, argc, argv, &argi, err, err_len);
    if (rc)
      return rc;
    if (argi >= argc)
      break;
    if (!strcmp(argv[argi], "--config") && argi + 1 < argc) {
      argi += 2;
      continue;
    }
    if (!strncmp(argv[argi], "--config=", 9)) {
      argi++;
      continue;
    }
    snprintf(err, err_len, "unknown option '%s'", argv[argi]);
    return -VG_EINVAL;
  }
  return 0;
}

void config_print_help(FILE *out)
{
  fprintf(out, "Options (flag, environment variable, default):\n");
  for (size_t i = 0; i < N_OPTS; i++)
    fprintf(out, "  --%-16s %-22s %-14s %s\n", opts[i].flag, opts[i].env,
            *opts[i].def ? opts[i].def : "\"\"", opts[i].help);
  fprintf(out, "  --config FILE      VIGIL_CONFIG           "
               "               config file of `option = value` lines\n");
}
