/* core_arena.h - per-request bump arena: many small allocations, one free. */
#ifndef VG_CORE_ARENA_H
#define VG_CORE_ARENA_H

#include <stddef.h>

struct vg_arena;

/* New arena that refuses to grow past cap bytes (0 = 64 MiB default).
 * Returns NULL on allocation failure. Free with arena_free(). */
struct vg_arena *arena_new(size_t cap);
/* n bytes aligned for any type, valid until arena_free(). NULL when the cap
 * is reached or memory is short. */
void *arena_alloc(struct vg_arena *a, size_t n);
/* NUL-terminated copy of s[0..len). */
char *arena_strndup(struct vg_arena *a, const char *s, size_t len);
/* printf into the arena. */
char *arena_printf(struct vg_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Bytes handed out so far. */
size_t arena_used(const struct vg_arena *a);
void arena_free(struct vg_arena *a);

#endif
