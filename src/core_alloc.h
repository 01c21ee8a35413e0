/* core_alloc.h - the one allocator: accounting, an optional cap, and fault
 * injection for tests. Every allocation in src/ goes through here. */
#ifndef VG_CORE_ALLOC_H
#define VG_CORE_ALLOC_H

#include <stddef.h>

/* Allocate n bytes. Returns NULL only when the cap would be exceeded or a
 * fault is injected; if the system allocator fails the process aborts.
 * Caller frees with vg_free(). Thread-safe. */
void *vg_malloc(size_t n);
void *vg_calloc(size_t count, size_t size);
/* Like realloc(); on NULL return the old block is untouched. */
void *vg_realloc(void *p, size_t n);
void vg_free(void *p);
/* Copy of s (len bytes, NUL added); caller frees with vg_free(). */
char *vg_strndup(const char *s, size_t len);
char *vg_strdup(const char *s);

/* Bytes currently allocated through vg_malloc. */
size_t vg_alloc_used(void);
/* Cap total allocation at cap bytes (0 = no cap). */
void vg_alloc_set_cap(size_t cap);
/* Test hook: make the nth allocation from now fail (n >= 1); 0 disables. */
void vg_alloc_fail_nth(long n);

#endif
