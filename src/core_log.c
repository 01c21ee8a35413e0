/* core_log.c - logfmt lines, one write(2) per event. */
#include "core_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core_errors.h"

static enum vg_log_level min_level = VG_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum vg_log_level level) { min_level = level; }

int log_parse_level(const char *s, enum vg_log_level *out)
{
  for (int i = 0; i < 4; i++) {
    if (strcmp(s, level_names[i]) == 0) {
      *out = (enum vg_log_level)i;
      return 0;
    }
  }
  return -VG_EINVAL;
}

void vg_log(enum vg_log_level level, const char *event, const char *fields, ...)
{
  char line[2048];
  struct timespec ts;
  struct tm tm;
  size_t n;
  int k;
  va_list ap;

  if (level < min_level)
    return;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  k = snprintf(line, sizeof line,
               "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s event=%s",
               tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
               tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, level_names[level],
               event);
  n = k > 0 ? (size_t)k : 0;
  if (fields && *fields && n < sizeof line - 2) {
    line[n++] = ' ';
    va_start(ap, fields);
    k = vsnprintf(line + n, sizeof line - n, fields, ap);
    va_end(ap);
    if (k > 0)
      n += (size_t)k;
  }
  if (n > sizeof line - 2)
    n = sizeof line - 2;
  line[n++] = '\n';
  (void)!write(STDERR_FILENO, line, n);
}
