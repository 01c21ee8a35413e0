/* core_log.h - structured logs: one logfmt line per event on stderr. */
#ifndef VG_CORE_LOG_H
#define VG_CORE_LOG_H

enum vg_log_level { VG_LOG_DEBUG, VG_LOG_INFO, VG_LOG_WARN, VG_LOG_ERROR };

/* Minimum level printed (default INFO). */
void log_set_level(enum vg_log_level level);
/* Parse "debug|info|warn|error"; returns 0 or -VG_EINVAL. */
int log_parse_level(const char *s, enum vg_log_level *out);

/* Print `ts=... level=... event=EVENT <fields>` where fields is a printf
 * format producing `key=value` pairs. Never pass a secret (password, token,
 * cookie) in fields. Thread-safe: each line is written with one call. */
void vg_log(enum vg_log_level level, const char *event, const char *fields, ...)
    __attribute__((format(printf, 3, 4)));

#define vg_info(ev, ...) vg_log(VG_LOG_INFO, ev, __VA_ARGS__)
#define vg_warn(ev, ...) vg_log(VG_LOG_WARN, ev, __VA_ARGS__)
#define vg_error(ev, ...) vg_log(VG_LOG_ERROR, ev, __VA_ARGS__)
#define vg_debug(ev, ...) vg_log(VG_LOG_DEBUG, ev, __VA_ARGS__)

#endif
