/* core_alloc.c - accounted malloc wrapper with a cap and fault injection. */
#include "core_alloc.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A size header keeps accounting exact without malloc_usable_size(). */
#define HDR sizeof(max_align_t)

static atomic_size_t used;
static atomic_size_t cap;
static atomic_long fail_countdown;

static void oom_abort(size_t n)
{
  fprintf(stderr, "vigil: out of memory allocating %zu bytes\n", n);
  abort();
}

static int should_fail(size_t n)
{
  long c = atomic_load(&fail_countdown);
  size_t lim = atomic_load(&cap);
  if (c > 0 && atomic_fetch_sub(&fail_countdown, 1) == 1)
    return 1;
  return lim && atomic_load(&used) + n > lim;
}

void *vg_malloc(size_t n)
{
  unsigned char *p;
  if (n > (size_t)-1 - HDR || should_fail(n))
    return NULL;
  p = malloc(HDR + n);
  if (!p)
    oom_abort(n);
  memcpy(p, &n, sizeof n);
  atomic_fetch_add(&used, n);
  return p + HDR;
}

void *vg_calloc(size_t count, size_t size)
{
  void *p;
  if (size && count > (size_t)-1 / size)
    return NULL;
  p = vg_malloc(count * size);
  if (p)
    memset(p, 0, count * size);
  return p;
}

void *vg_realloc(void *old, size_t n)
{
  unsigned char *base, *p;
  size_t old_n;
  if (!old)
    return vg_malloc(n);
  base = (unsigned char *)old - HDR;
  memcpy(&old_n, base, sizeof old_n);
  if (n > (size_t)-1 - HDR || (n > old_n && should_fail(n - old_n)))
    return NULL;
  p = realloc(base, HDR + n);
  if (!p)
    oom_abort(n);
  memcpy(p, &n, sizeof n);
  atomic_fetch_add(&used, n);
  atomic_fetch_sub(&used, old_n);
  return p + HDR;
}

void vg_free(void *p)
{
  unsigned char *base;
  size_t n;
  if (!p)
    return;
  base = (unsigned char *)p - HDR;
  memcpy(&n, base, sizeof n);
  atomic_fetch_sub(&used, n);
  free(base);
}

char *vg_strndup(const char *s, size_t len)
{
  char *d = vg_malloc(len + 1);
  if (!d)
    return NULL;
  memcpy(d, s, len);
  d[len] = '\0';
  return d;
}

char *vg_strdup(const char *s) { return vg_strndup(s, strlen(s)); }
size_t vg_alloc_used(void) { return atomic_load(&used); }
void vg_alloc_set_cap(size_t c) { atomic_store(&cap, c); }
void vg_alloc_fail_nth(long n) { atomic_store(&fail_countdown, n); }
