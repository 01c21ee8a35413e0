/* core_time.h - clocks and RFC 3339 timestamps. Times are int64 ms UTC. */
#ifndef VG_CORE_TIME_H
#define VG_CORE_TIME_H

#include <stddef.h>
#include <stdint.h>

/* Marks an unknown UTC offset. */
#define VG_TZ_UNKNOWN INT16_MIN

/* Wall clock, ms since the Unix epoch. */
int64_t vg_now_ms(void);
/* Monotonic clock in ns, for durations. */
int64_t vg_mono_ns(void);

/* Parse an RFC 3339 date-time ("2025-03-01T08:30:00+08:00", "...Z",
 * fractional seconds allowed) from s[0..len). The offset is required.
 * OUT: *out_ms UTC ms; *out_offset_min the given offset in minutes.
 * Returns 0 or -VG_EINVAL. */
int vg_time_parse(const char *s, size_t len, int64_t *out_ms,
                  int16_t *out_offset_min);

/* Parse a calendar date "YYYY-MM-DD" to ms at 00:00 UTC. 0 or -VG_EINVAL. */
int vg_date_parse(const char *s, size_t len, int64_t *out_ms);

/* Format ms as RFC 3339 with the given offset (VG_TZ_UNKNOWN gives "Z")
 * into buf (at least 32 bytes). Returns the length written. */
size_t vg_time_format(int64_t ms, int16_t offset_min, char *buf, size_t size);

/* Days since 1970-01-01 for a proleptic Gregorian date (Hinnant's algorithm). */
int64_t vg_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
