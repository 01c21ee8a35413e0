/* config.h - the option table (config.def) and its lifecycle:
 * config_init -> config_read_file -> config_read_env -> config_parse_args. */
#ifndef VG_CONFIG_H
#define VG_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#define VG_CFG_STR_MAX 512

struct vg_config {
#define CFG_FIELD_STR(f) char f[VG_CFG_STR_MAX];
#define CFG_FIELD_INT(f) int64_t f;
#define CFG_FIELD_BOOL(f) int f;
#define X(f, type, def, flag, env, reload, help) CFG_FIELD_##type(f)
#include "config.def"
#undef X
#undef CFG_FIELD_STR
#undef CFG_FIELD_INT
#undef CFG_FIELD_BOOL
};

/* Every option at its default. */
void config_init(struct vg_config *cfg);

/* Read `field = value` lines from path. reload != 0 applies only options
 * marked reloadable. Returns 0, -VG_EIO or -VG_EINVAL (message in err). */
int config_read_file(struct vg_config *cfg, const char *path, int reload,
                     char *err, size_t err_len);

/* Apply VIGIL_* environment variables. Returns 0 or -VG_EINVAL. */
int config_read_env(struct vg_config *cfg, char *err, size_t err_len);

/* Parse --flag VALUE / --flag=VALUE (BOOL flags take no value) starting at
 * argv[*argi]. Stops at the first argument that is not a config flag and
 * leaves *argi there. Returns 0 or -VG_EINVAL (bad value, message in err). */
int config_parse_args(struct vg_config *cfg, int argc, char **argv, int *argi,
                      char *err, size_t err_len);

/* Defaults, then --config FILE / VIGIL_CONFIG, env, then every argument from
 * argv[first]. Unknown flags are an error. Returns 0 or -VG_EINVAL. */
int config_load(struct vg_config *cfg, int argc, char **argv, int first,
                char *err, size_t err_len);

/* One line per option: flag, env, default, help. */
void config_print_help(FILE *out);

#endif
