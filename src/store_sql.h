/* store_sql.h - the embedded, numbered SQL migrations (generated table). */
#ifndef VG_STORE_SQL_H
#define VG_STORE_SQL_H

/* One migration file. The table ends with an all-zero entry. Entries are
 * sorted by dialect then number; backends pick "common" plus their own
 * dialect, and a dialect file replaces the common file of the same number. */
struct vg_migration {
  int number;
  const char *dialect; /* "common", "sqlite" or "pg" */
  const char *name;    /* file name without .sql */
  const char *sql;
};

extern const struct vg_migration vg_migrations[];

#endif
