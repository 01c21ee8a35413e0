/* core_time.c - clocks and a strict RFC 3339 parser and formatter. */
#include "core_time.h"

#include <stdio.h>
#include <time.h>

#include "core_errors.h"

int64_t vg_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t vg_mono_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms". */
int64_t vg_days_from_civil(int64_t y, unsigned m, unsigned d)
{
  int64_t era;
  unsigned yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = (unsigned)(y - era * 400);
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
  int64_t era;
  unsigned doe, yoe, doy, mp;
  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = (unsigned)(z - era * 146097);
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

static int digits(const char *s, size_t n, int *out)
{
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

static int days_in_month(int y, int m)
{
  static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : dim[m - 1];
}

static int parse_date(const char *s, size_t len, int *y, int *mo, int *d)
{
  if (len < 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, y) ||
      digits(s + 5, 2, mo) || digits(s + 8, 2, d))
    return -VG_EINVAL;
  if (*mo < 1 || *mo > 12 || *d < 1 || *d > days_in_month(*y, *mo))
    return -VG_EINVAL;
  return 0;
}

int vg_date_parse(const char *s, size_t len, int64_t *out_ms)
{
  int y, mo, d;
  if (len != 10 || parse_date(s, len, &y, &mo, &d))
    return -VG_EINVAL;
  *out_ms = vg_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400000LL;
  return 0;
}

int vg_time_parse(const char *s, size_t len, int64_t *out_ms,
                  int16_t *out_offset_min)
{
  int y, mo, d, h, mi, sec, oh, om, ms = 0;
  size_t i = 19;
  int sign;
  int64_t t;

  if (len < 20 || parse_date(s, len, &y, &mo, &d))
    return -VG_EINVAL;
  if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
      s[16] != ':' || digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) ||
      digits(s + 17, 2, &sec) || h > 23 || mi > 59 || sec > 60)
    return -VG_EINVAL;
  if (sec == 60) /* leap second: clamp, readings need no sub-second truth */
    sec = 59;
  if (s[i] == '.') {
    int scale = 100, nd = 0;
    for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, nd++) {
      ms += (s[i] - '0') * scale;
      scale /= 10;
    }
    if (nd == 0 || nd > 9)
      return -VG_EINVAL;
  }
  if (i >= len)
    return -VG_EINVAL;
  if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
    oh = om = 0;
    sign = 1;
  } else if ((s[i] == '+' || s[i] == '-') && i + 6 == len && s[i + 3] == ':' &&
             !digits(s + i + 1, 2, &oh) && !digits(s + i + 4, 2, &om) &&
             oh <= 23 && om <= 59) {
    sign = s[i] == '-' ? -1 : 1;
  } else {
    return -VG_EINVAL;
  }
  t = vg_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400LL +
      h * 3600LL + mi * 60LL + sec;
  t -= sign * (oh * 3600LL + om * 60LL);
  *out_ms = t * 1000 + ms;
  *out_offset_min = (int16_t)(sign * (oh * 60 + om));
  return 0;
}

size_t vg_time_format(int64_t ms, int16_t offset_min, char *buf, size_t size)
{
  int64_t local_ms, secs, days;
  int y, off, n;
  unsigned mo, d, sod;
  char tz[8];

  off = offset_min == VG_TZ_UNKNOWN ? 0 : offset_min;
  local_ms = ms + off * 60000LL;
  secs = local_ms >= 0 ? local_ms / 1000 : (local_ms - 999) / 1000;
  days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  sod = (unsigned)(secs - days * 86400);
  civil_from_days(days, &y, &mo, &d);
  if (offset_min == VG_TZ_UNKNOWN || offset_min == 0)
    snprintf(tz, sizeof tz, "Z");
  else
    snprintf(tz, sizeof tz, "%c%02d:%02d", off < 0 ? '-' : '+',
             (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
  n = snprintf(buf, size, "%04d-%02u-%02uT%02u:%02u:%02u.%03dZ", y, mo, d,
               sod / 3600, sod / 60 % 60, sod % 60,
               (int)(local_ms - secs * 1000));
  if (n > 0 && (size_t)n < size) /* swap the placeholder Z for the offset */
    n = snprintf(buf + n - 1, size - (size_t)n + 1, "%s", tz) + n - 1;
  return n > 0 ? (size_t)n : 0;
}
