/* core_arena.c - chunked bump allocator over vg_malloc. */
#include "core_arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core_alloc.h"

#define CHUNK_MIN 4096
#define ALIGN sizeof(max_align_t)

struct chunk {
  struct chunk *next;
  size_t size, used;
  max_align_t data[];
};

struct vg_arena {
  struct chunk *head;
  size_t cap, total;
};

struct vg_arena *arena_new(size_t cap)
{
  struct vg_arena *a = vg_calloc(1, sizeof *a);
  if (a)
    a->cap = cap ? cap : (size_t)64 << 20;
  return a;
}

void *arena_alloc(struct vg_arena *a, size_t n)
{
  struct chunk *c = a->head;
  size_t need = (n + ALIGN - 1) & ~(ALIGN - 1);
  void *p;
  if (need < n || a->total + need > a->cap)
    return NULL;
  if (!c || c->size - c->used < need) {
    size_t size = need > CHUNK_MIN ? need : CHUNK_MIN;
    if (c && c->size * 2 > size && c->size < ((size_t)1 << 20))
      size = c->size * 2;
    c = vg_malloc(sizeof *c + size);
    if (!c)
      return NULL;
    c->size = size;
    c->used = 0;
    c->next = a->head;
    a->head = c;
  }
  p = (char *)c->data + c->used;
  c->used += need;
  a->total += need;
  return p;
}

char *arena_strndup(struct vg_arena *a, const char *s, size_t len)
{
  char *d = arena_alloc(a, len + 1);
  if (!d)
    return NULL;
  memcpy(d, s, len);
  d[len] = '\0';
  return d;
}

char *arena_printf(struct vg_arena *a, const char *fmt, ...)
{
  va_list ap;
  int n;
  char *d;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return NULL;
  d = arena_alloc(a, (size_t)n + 1);
  if (!d)
    return NULL;
  va_start(ap, fmt);
  vsnprintf(d, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return d;
}

size_t arena_used(const struct vg_arena *a) { return a->total; }

void arena_free(struct vg_arena *a)
{
  struct chunk *c, *next;
  if (!a)
    return;
  for (c = a->head; c; c = next) {
    next = c->next;
    vg_free(c);
  }
  vg_free(a);
}
