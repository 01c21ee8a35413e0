/* test_conformance.c - one store conformance suite, run through the store_*
 * wrappers only, against the backend chosen by the environment:
 *   VG_STORE_BACKEND=sqlite (default)  a fresh database file per case
 *                                      under mkdtemp($TMPDIR/vgstore.XXXXXX)
 *   VG_STORE_BACKEND=pg VG_PG_URL=...  the PostgreSQL database at that URL
 *                                      (skipped when VG_PG_URL is unset)
 * Cases only assert on rows they create (identifiers carry a run tag), so
 * they also hold on a database that already has data in it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "core_alloc.h"
#include "core_errors.h"
#include "core_log.h"
#include "core_time.h"
#include "store.h"
#include "vg_tmpdir.h"

static const char *backend = "sqlite";
static char run_tag[32];

struct env {
  char dir[PATH_MAX];
  struct vg_config cfg;
  struct vg_store *s;
};

/* ==== fixtures ========================================================== */

static void env_config(struct env *e)
{
  config_init(&e->cfg);
  e->cfg.read_conns = 2;
  if (strcmp(backend, "pg") == 0) {
    snprintf(e->cfg.pg, sizeof e->cfg.pg, "%s", getenv("VG_PG_URL"));
    return;
  }
  snprintf(e->cfg.db, sizeof e->cfg.db, "%s/vigil.db", e->dir);
}

static int setup(void **state)
{
  struct env *e = calloc(1, sizeof *e);
  if (!e)
    return -1;
  if (vg_tmpdir_make("vgstore", e->dir, sizeof e->dir)) {
    free(e);
    return -1;
  }
  env_config(e);
  if (store_open(&e->cfg, &e->s) != 0) {
    free(e);
    return -1;
  }
  *state = e;
  return 0;
}

static int teardown(void **state)
{
  struct env *e = *state;
  store_close(e->s);
  vg_tmpdir_remove(e->dir);
  free(e);
  return 0;
}

static void reopen(struct env *e)
{
  store_close(e->s);
  e->s = NULL;
  assert_int_equal(store_open(&e->cfg, &e->s), 0);
}

/* ==== helpers =========================================================== */

static struct vg_txn *begin(struct env *e, enum vg_txn_mode mode)
{
  struct vg_txn *t = NULL;
  assert_int_equal(store_begin(e->s, mode, &t), 0);
  assert_non_null(t);
  return t;
}

static int64_t new_patient(struct vg_txn *t, const char *ident)
{
  struct vg_patient p;
  memset(&p, 0, sizeof p);
  if (ident)
    snprintf(p.identifier, sizeof p.identifier, "%s-%s", run_tag, ident);
  snprintf(p.name, sizeof p.name, "Test Patient");
  p.sex = 'F';
  snprintf(p.birth_date, sizeof p.birth_date, "1956-04-02");
  snprintf(p.tz, sizeof p.tz, "Asia/Shanghai");
  assert_int_equal(store_patient_create(t, &p), 0);
  assert_true(p.id > 0);
  return p.id;
}

static struct vg_reading rd(int64_t pid, int code, int64_t ts,
                            const char *src, double v)
{
  struct vg_reading r;
  memset(&r, 0, sizeof r);
  r.patient_id = pid;
  r.code = code;
  r.ts_ms = ts;
  r.source = src;
  r.value = v;
  r.unit = "";
  r.tz_offset_min = VG_TZ_UNKNOWN;
  return r;
}

/* Collected query rows (sources copied: they are borrowed per callback). */
struct rows {
  size_t n, cap;
  struct vg_reading *r;
  char (*src)[32];
  int stop_after; /* >0: return 7 from the callback at this row count */
};

static int rows_cb(void *ctx, const struct vg_reading *r)
{
  struct rows *x = ctx;
  if (x->n == x->cap) {
    x->cap = x->cap ? 2 * x->cap : 64;
    x->r = realloc(x->r, x->cap * sizeof *x->r);
    x->src = realloc(x->src, x->cap * sizeof *x->src);
    assert_non_null(x->r);
    assert_non_null(x->src);
  }
  x->r[x->n] = *r;
  snprintf(x->src[x->n], sizeof x->src[0], "%s", r->source);
  x->r[x->n].source = NULL;
  x->r[x->n].unit = NULL;
  x->n++;
  return x->stop_after && (int)x->n == x->stop_after ? 7 : 0;
}

static void rows_free(struct rows *x)
{
  free(x->r);
  free(x->src);
  memset(x, 0, sizeof *x);
}

static struct vg_reading_query all_of(int64_t pid)
{
  struct vg_reading_query q;
  memset(&q, 0, sizeof q);
  q.patient_id = pid;
  q.from_ms = INT64_MIN;
  q.to_ms = INT64_MAX;
  return q;
}

static size_t count_readings(struct env *e, int64_t pid)
{
  struct vg_txn *t = begin(e, VG_TXN_READ);
  struct vg_reading_query q = all_of(pid);
  struct rows x;
  size_t n;
  memset(&x, 0, sizeof x);
  assert_int_equal(store_readings_query(t, &q, rows_cb, &x), 0);
  store_rollback(t);
  n = x.n;
  rows_free(&x);
  return n;
}

/* (code, ts_ms, source) order of rows a and b: <0, 0, >0. */
static int key_cmp(const struct rows *x, size_t a, size_t b)
{
  if (x->r[a].code != x->r[b].code)
    return x->r[a].code < x->r[b].code ? -1 : 1;
  if (x->r[a].ts_ms != x->r[b].ts_ms)
    return x->r[a].ts_ms < x->r[b].ts_ms ? -1 : 1;
  return strcmp(x->src[a], x->src[b]);
}

/* ==== migrations, open/close ============================================ */

static void migrations_idempotent(void **state)
{
  struct env *e = *state;
  struct vg_txn *t;
  struct vg_patient p;
  int64_t id;
  assert_string_equal(store_backend_name(e->s), backend);
  t = begin(e, VG_TXN_WRITE);
  id = new_patient(t, "mig");
  assert_int_equal(store_commit(t), 0);
  /* Reopening runs the migrator again: it must apply nothing, fail on
   * nothing, and leave data alone. Twice, to be sure. */
  reopen(e);
  reopen(e);
  t = begin(e, VG_TXN_READ);
  assert_int_equal(store_patient_get(t, id, &p), 0);
  store_rollback(t);
  printf("backend=%s reopened twice, patient %lld intact\n", backend,
         (long long)id);
}

/* ==== patients ========================================================== */

struct idlist {
  int64_t ids[256];
  size_t n;
  int stop_at;
};

static int patient_ids_cb(void *ctx, const struct vg_patient *p)
{
  struct idlist *l = ctx;
  assert_true(l->n < 256);
  l->ids[l->n++] = p->id;
  return l->stop_at && (int)l->n == l->stop_at ? 5 : 0;
}

static int device_ids_cb(void *ctx, const struct vg_device *d)
{
  struct idlist *l = ctx;
  assert_true(l->n < 256);
  l->ids[l->n++] = d->id;
  return 0;
}

static void patient_create_get_conflict(void **state)
{
  struct env *e = *state;
  struct vg_txn *t = begin(e, VG_TXN_WRITE);
  struct vg_patient p, q;
  int64_t t0 = vg_now_ms();
  int64_t id = new_patient(t, "mrn-1");
  int64_t anon1 = new_patient(t, NULL), anon2 = new_patient(t, NULL);
  assert_int_equal(store_commit(t), 0);
  assert_true(anon1 != anon2 && anon1 != id);

  t = begin(e, VG_TXN_READ);
  assert_int_equal(store_patient_get(t, id, &p), 0);
  assert_int_equal(p.id, id);
  assert_true(strstr(p.identifier, "-mrn-1") != NULL);
  assert_string_equal(p.name, "Test Patient");
  assert_int_equal(p.sex, 'F');
  assert_string_equal(p.birth_date, "1956-04-02");
  assert_string_equal(p.tz, "Asia/Shanghai");
  assert_true(p.created_ms >= t0 - 1000 && p.created_ms <= vg_now_ms());
  assert_int_equal(p.updated_ms, p.created_ms);
  assert_int_equal(store_patient_get(t, anon1, &q), 0);
  assert_string_equal(q.identifier, ""); /* "" = none, and not unique */
  assert_int_equal(store_patient_get(t, id + 1000000, &q), -VG_ENOTFOUND);
  /* writes are refused in a READ transaction */
  memset(&q, 0, sizeof q);
  assert_int_equal(store_patient_create(t, &q), -VG_EINVAL);
  store_rollback(t);

  /* Same identifier again: conflict. After an error a transaction may only
   * be rolled back (PostgreSQL aborts it), so roll back. */
  t = begin(e, VG_TXN_WRITE);
  memset(&q, 0, sizeof q);
  snprintf(q.identifier, sizeof q.identifier, "%s", p.identifier);
  q.sex = 'M';
  assert_int_equal(store_patient_create(t, &q), -VG_ECONFLICT);
  store_rollback(t);
}

static void patient_list_paging(void **state)
{
  struct env *e = *state;
  struct vg_txn *t = begin(e, VG_TXN_WRITE);
  int64_t ids[25], after;
  struct idlist l;
  size_t i, pages = 0, seen = 0;
  int rc;
  for (i = 0; i < 25; i++) {
    char ident[16];
    snprintf(ident, sizeof ident, "pl%zu", i);
    ids[i] = new_patient(t, ident);
    assert_true(i == 0 || ids[i] > ids[i - 1]);
  }
  assert_int_equal(store_commit(t), 0);

  t = begin(e, VG_TXN_READ);
  after = ids[0] - 1;
  for (;;) {
    memset(&l, 0, sizeof l);
    assert_int_equal(store_patient_list(t, after, 7, patient_ids_cb, &l), 0);
    assert_true(l.n <= 7);
    for (i = 0; i < l.n; i++) {
      assert_true(l.ids[i] > after); /* ascending, no repeats */
      after = l.ids[i];
      if (seen < 25 && l.ids[i] == ids[seen])
        seen++;
    }
    pages++;
    if (l.n < 7)
      break;
  }
  assert_int_equal(seen, 25);
  assert_true(pages >= 4);
  /* limit 0 = all; a nonzero callback value stops and is returned */
  memset(&l, 0, sizeof l);
  l.stop_at = 3;
  rc = store_patient_list(t, ids[0] - 1, 0, patient_ids_cb, &l);
  assert_int_equal(rc, 5);
  assert_int_equal(l.n, 3);
  store_rollback(t);
  printf("patients: 25 created, walked in %zu pages of 7\n", pages);
}

/* ==== devices =========================================================== */

static void device_create_serial_list_conflict(void **state)
{
  struct env *e = *state;
  struct vg_txn *t = begin(e, VG_TXN_WRITE);
  struct vg_device d, g;
  struct idlist l;
  int64_t pid = new_patient(t, "dev");
  int64_t ids[3];
  size_t i;
  for (i = 0; i < 3; i++) {
    memset(&d, 0, sizeof d);
    snprintf(d.serial, sizeof d.serial, "%s-SN%zu", run_tag, i);
    snprintf(d.kind, sizeof d.kind, "bp_cuff");
    d.patient_id = i == 0 ? 0 : pid;
    assert_int_equal(store_device_create(t, &d), 0);
    assert_true(d.id > 0 && d.created_ms > 0);
    ids[i] = d.id;
  }
  assert_int_equal(store_commit(t), 0);

  t = begin(e, VG_TXN_READ);
  snprintf(d.serial, sizeof d.serial, "%s-SN1", run_tag);
  assert_int_equal(store_device_by_serial(t, d.serial, &g), 0);
  assert_int_equal(g.id, ids[1]);
  assert_int_equal(g.patient_id, pid);
  assert_string_equal(g.kind, "bp_cuff");
  assert_int_equal(store_device_get(t, ids[0], &g), 0);
  assert_int_equal(g.patient_id, 0); /* unbound */
  assert_int_equal(store_device_get(t, ids[2] + 1000000, &g), -VG_ENOTFOUND);
  assert_int_equal(store_device_by_serial(t, "no-such-serial", &g),
                   -VG_ENOTFOUND);
  memset(&l, 0, sizeof l);
  assert_int_equal(store_device_list(t, ids[0] - 1, 2, device_ids_cb, &l), 0);
  assert_int_equal(l.n, 2);
  assert_int_equal(l.ids[0], ids[0]);
  assert_int_equal(l.ids[1], ids[1]);
  memset(&l, 0, sizeof l);
  assert_int_equal(store_device_list(t, ids[1], 0, device_ids_cb, &l), 0);
  assert_true(l.n >= 1);
  assert_int_equal(l.ids[0], ids[2]);
  store_rollback(t);

  t = begin(e, VG_TXN_WRITE);
  memset(&d, 0, sizeof d);
  snprintf(d.serial, sizeof d.serial, "%s-SN0", run_tag);
  snprintf(d.kind, sizeof d.kind, "cgm");
  assert_int_equal(store_device_create(t, &d), -VG_ECONFLICT);
  store_rollback(t);
  /* bound to a patient that does not exist */
  t = begin(e, VG_TXN_WRITE);
  snprintf(d.serial, sizeof d.serial, "%s-SN9", run_tag);
  d.patient_id = pid + 1000000;
  assert_int_equal(store_device_create(t, &d), -VG_ENOTFOUND);
  store_rollback(t);
}

/* ==== readings ========================================================== */

static void readings_insert_duplicates(void **state)
{
  struct env *e = *state;
  struct vg_txn *t = begin(e, VG_TXN_WRITE);
  int64_t pid = new_patient(t, "dup");
  struct vg_reading r[6];
  unsigned char st[6];
  struct vg_reading_query q = all_of(pid);
  struct rows x;
  r[0] = rd(pid, 1, 1000, "cuff-a", 120);
  r[1] = rd(pid, 2, 1000, "cuff-a", 80);
  r[2] = rd(pid, 1, 1000, "cuff-b", 121); /* other source: other key */
  r[3] = rd(pid, 1, 1000, "cuff-a", 999); /* same key in one batch */
  r[4] = rd(pid, 1, 2000, "cuff-a", 125);
  r[5] = rd(pid, 1, 2000, "cuff-a", 126); /* again */
  r[0].tz_offset_min = 480;
  r[0].unit = "mm[Hg]";
  memset(st, 0xee, sizeof st);
  assert_int_equal(store_readings_insert(t, r, 6, st), 0);
  assert_int_equal(st[0], VG_INS_ACCEPTED);
  assert_int_equal(st[1], VG_INS_ACCEPTED);
  assert_int_equal(st[2], VG_INS_ACCEPTED);
  assert_int_equal(st[3], VG_INS_DUPLICATE);
  assert_int_equal(st[4], VG_INS_ACCEPTED);
  assert_int_equal(st[5], VG_INS_DUPLICATE);
  assert_int_equal(store_commit(t), 0);

  /* The whole batch again, in a new transaction: all duplicates. */
  t = begin(e, VG_TXN_WRITE);
  memset(st, 0xee, sizeof st);
  assert_int_equal(store_readings_insert(t, r, 6, st), 0);
  for (size_t i = 0; i < 6; i++)
    assert_int_equal(st[i], VG_INS_DUPLICATE);
  assert_int_equal(store_commit(t), 0);

  /* Inserting in a READ transaction is refused. */
  t = begin(e, VG_TXN_READ);
  assert_int_equal(store_readings_insert(t, r, 1, st), -VG_EINVAL);
  memset(&x, 0, sizeof x);
  assert_int_equal(store_readings_query(t, &q, rows_cb, &x), 0);
  store_rollback(t);
  assert_int_equal(x.n, 4);
  /* key order: (1,1000,cuff-a) (1,1000,cuff-b) (1,2000,cuff-a) (2,...) */
  assert_int_equal(x.r[0].code, 1);
  assert_string_equal(x.src[0], "cuff-a");
  assert_true(x.r[0].value == 120.0); /* the first value is kept */
  assert_int_equal(x.r[0].tz_offset_min, 480);
  assert_int_equal(x.r[1].tz_offset_min, VG_TZ_UNKNOWN);
  assert_string_equal(x.src[1], "cuff-b");
  assert_int_equal(x.r[2].ts_ms, 2000);
  assert_true(x.r[2].value == 125.0);
  assert_int_equal(x.r[3].code, 2);
  assert_int_equal(x.r[3].patient_id, pid);
  rows_free(&x);
}

struct unit_seen {
  char unit[16];
  int n;
};

static int unit_cb(void *ctx, const struct vg_reading *r)
{
  struct unit_seen *u = ctx;
  snprintf(u->unit, sizeof u->unit, "%s", r->unit);
  u->n++;
  return 0;
}

static void readings_unit_round_trip(void **state)
{
  struct env *e = *state;
  struct vg_txn *t = begin(e, VG_TXN_WRITE);
  int64_t pid = new_patient(t, "unit");
  struct vg_reading r = rd(pid, 4, 5000, "meter", 99.0);
  struct vg_reading_query q = all_of(pid);
  struct unit_seen u;
  unsigned char st;
  r.unit = "mmol/L"; /* the unit as received is kept beside the value */
  assert_int_equal(store_readings_insert(t, &r, 1, &st), 0);
  assert_int_equal(store_commit(t), 0);
  t = begin(e, VG_TXN_READ);
  memset(&u, 0, sizeof u);
  assert_int_equal(store_readings_query(t, &q, unit_cb, &u), 0);
  store_rollback(t);
  assert_int_equal(u.n, 1);
  assert_string_equal(u.unit, "mmol/L");
}

static void readings_query_bounds_code_limit(void **state)
{
  struct env *e = *state;
  struct vg_txn *t = begin(e, VG_TXN_WRITE);
  int64_t pid = new_patient(t, "range"), other = new_patient(t, "other");
  struct vg_reading r[40];
  unsigned char st[40];
  struct vg_reading_query q;
  struct rows x;
  size_t i;
  for (i = 0; i < 20; i++) {
    r[i] = rd(pid, 1, (int64_t)i * 1000, "s", 100.0 + (double)i);
    r[20 + i] = rd(pid, 3, (int64_t)i * 1000, "s", 60.0 + (double)i);
  }
  r[39] = rd(other, 3, 5000, "s", 70); /* another patient: never returned */
  assert_int_equal(store_readings_insert(t, r, 40, st), 0);
  assert_int_equal(store_commit(t), 0);

  t = begin(e, VG_TXN_READ);
  q = all_of(pid);
  q.from_ms = 5000; /* inclusive */
  q.to_ms = 10000;  /* exclusive */
  memset(&x, 0, sizeof x);
  assert_int_equal(store_readings_query(t, &q, rows_cb, &x), 0);
  assert_int_equal(x.n, 10); /* ts 5000..9000 for both codes */
  assert_int_equal(x.r[0].code, 1);
  assert_int_equal(x.r[0].ts_ms, 5000);
  assert_int_equal(x.r[4].ts_ms, 9000);
  assert_int_equal(x.r[5].code, 3);
  for (i = 0; i < x.n; i++)
    assert_int_equal(x.r[i].patient_id, pid);
  rows_free(&x);

  q.code = 3; /* code filter */
  memset(&x, 0, sizeof x);
  assert_int_equal(store_readings_query(t, &q, rows_cb, &x), 0);
  assert_int_equal(x.n, 5);
  for (i = 0; i < x.n; i++)
    assert_int_equal(x.r[i].code, 3);
  assert_true(x.r[0].value == 65.0);
  rows_free(&x);

  q.limit = 2; /* limit */
  memset(&x, 0, sizeof x);
  assert_int_equal(store_readings_query(t, &q, rows_cb, &x), 0);
  assert_int_equal(x.n, 2);
  assert_int_equal(x.r[1].ts_ms, 6000);
  rows_free(&x);

  q.code = 0; /* callback stop value */
  q.limit = 0;
  memset(&x, 0, sizeof x);
  x.stop_after = 3;
  assert_int_equal(store_readings_query(t, &q, rows_cb, &x), 7);
  assert_int_equal(x.n, 3);
  rows_free(&x);

  q.from_ms = 10000; /* empty range */
  q.to_ms = 10000;
  memset(&x, 0, sizeof x);
  assert_int_equal(store_readings_query(t, &q, rows_cb, &x), 0);
  assert_int_equal(x.n, 0);
  store_rollback(t);
}

static void readings_keyset_walk(void **state)
{
  struct env *e = *state;
  struct vg_txn *t = begin(e, VG_TXN_WRITE);
  int64_t pid = new_patient(t, "walk");
  static const char *const srcs[] = { "a", "b", "meter-2" };
  static const int codes[] = { 1, 2, 5 };
  struct vg_reading r[3 * 3 * 60];
  unsigned char st[3 * 3 * 60];
  struct vg_reading_query q;
  struct rows all, page;
  char cursor_src[32];
  size_t i, n = 0, pages = 0, walked = 0;
  for (size_t c = 0; c < 3; c++)
    for (size_t k = 0; k < 60; k++)
      for (size_t s = 0; s < 3; s++)
        if ((c + k + s) % 7 != 0) /* holes, so sources differ per ts */
          r[n++] = rd(pid, codes[c], 1700000000000 + (int64_t)k * 60000,
                      srcs[s], (double)(k + s));
  assert_int_equal(store_readings_insert(t, r, n, st), 0);
  assert_int_equal(store_commit(t), 0);

  t = begin(e, VG_TXN_READ);
  q = all_of(pid);
  memset(&all, 0, sizeof all);
  assert_int_equal(store_readings_query(t, &q, rows_cb, &all), 0);
  assert_int_equal(all.n, n);
  for (i = 1; i < all.n; i++)
    assert_true(key_cmp(&all, i - 1, i) < 0);

  q.limit = 37;
  for (;;) {
    memset(&page, 0, sizeof page);
    assert_int_equal(store_readings_query(t, &q, rows_cb, &page), 0);
    for (i = 0; i < page.n; i++, walked++) {
      assert_true(walked < all.n);
      assert_int_equal(page.r[i].code, all.r[walked].code);
      assert_int_equal(page.r[i].ts_ms, all.r[walked].ts_ms);
      assert_string_equal(page.src[i], all.src[walked]);
    }
    pages++;
    if (page.n < q.limit) {
      rows_free(&page);
      break;
    }
    q.has_cursor = 1;
    q.after_code = page.r[page.n - 1].code;
    q.after_ts_ms = page.r[page.n - 1].ts_ms;
    snprintf(cursor_src, sizeof cursor_src, "%s", page.src[page.n - 1]);
    q.after_source = cursor_src;
    rows_free(&page);
  }
  assert_int_equal(walked, n); /* no gaps, no repeats */

  /* the cursor combines with a code filter */
  q = all_of(pid);
  q.code = 2;
  q.has_cursor = 1;
  q.after_code = 2;
  q.after_ts_ms = 1700000000000 + 30 * 60000;
  q.after_source = "a";
  memset(&page, 0, sizeof page);
  assert_int_equal(store_readings_query(t, &q, rows_cb, &page), 0);
  assert_true(page.n > 0);
  for (i = 0; i < page.n; i++) {
    assert_int_equal(page.r[i].code, 2);
    assert_true(page.r[i].ts_ms > q.after_ts_ms ||
                (page.r[i].ts_ms == q.after_ts_ms &&
                 strcmp(page.src[i], "a") > 0));
  }
  rows_free(&page);
  store_rollback(t);
  rows_free(&all);
  printf("keyset: %zu rows walked in %zu pages of 37\n", n, pages);
}

struct bucket_list {
  struct vg_bucket b[256];
  size_t n;
};

static int bucket_cb(void *ctx, const struct vg_bucket *b)
{
  struct bucket_list *l = ctx;
  assert_true(l->n < 256);
  l->b[l->n++] = *b;
  return 0;
}

static void readings_buckets_match(void **state)
{
  struct env *e = *state;
  struct vg_txn *t = begin(e, VG_TXN_WRITE);
  int64_t pid = new_patient(t, "bkt");
  const int64_t hour = 3600000;
  struct vg_reading r[300];
  unsigned char st[300];
  struct vg_reading_query q;
  struct bucket_list l;
  /* expected, per code (1, 2) and bucket index -3..8 */
  double mn[2][12], mx[2][12], sum[2][12];
  int64_t cnt[2][12];
  uint32_t seed = 12345;
  size_t i, n = 0, nb = 0;
  memset(cnt, 0, sizeof cnt);
  for (i = 0; i < 300; i++) {
    int c = (int)(i % 2);
    int64_t ts;
    double v;
    int bi;
    seed = seed * 1103515245u + 12345u; /* LCG (glibc constants) */
    ts = -3 * hour + (int64_t)(seed % (uint32_t)(11 * hour));
    seed = seed * 1103515245u + 12345u;
    v = 50.0 + (double)(seed % 10000) / 100.0;
    r[n++] = rd(pid, c + 1, ts, i % 3 ? "x" : "y", v);
    /* floor division: bucket of a negative time is the one before 0 */
    bi = (int)((ts >= 0 ? ts / hour : (ts - hour + 1) / hour) + 3);
    if (!cnt[c][bi]) {
      mn[c][bi] = mx[c][bi] = v;
      sum[c][bi] = 0;
    }
    mn[c][bi] = v < mn[c][bi] ? v : mn[c][bi];
    mx[c][bi] = v > mx[c][bi] ? v : mx[c][bi];
    sum[c][bi] += v;
    cnt[c][bi]++;
  }
  assert_int_equal(store_readings_insert(t, r, n, st), 0);
  assert_int_equal(store_commit(t), 0);

  t = begin(e, VG_TXN_READ);
  q = all_of(pid);
  memset(&l, 0, sizeof l);
  assert_int_equal(store_readings_buckets(t, &q, hour, bucket_cb, &l), 0);
  for (int c = 0; c < 2; c++)
    for (int b = 0; b < 12; b++)
      if (cnt[c][b])
        nb++;
  assert_int_equal(l.n, nb);
  {
    double worst = 0;
    int64_t total = 0;
    for (i = 0; i < l.n; i++) {
      const struct vg_bucket *b = &l.b[i];
      int c = b->code - 1;
      int bi = (int)(b->start_ms / hour + 3);
      assert_true(c == 0 || c == 1);
      assert_int_equal(b->start_ms % hour, 0); /* epoch-aligned */
      assert_true(bi >= 0 && bi < 12);
      if (i > 0)
        assert_true(b->code > l.b[i - 1].code ||
                    (b->code == l.b[i - 1].code &&
                     b->start_ms > l.b[i - 1].start_ms));
      assert_int_equal(b->n, cnt[c][bi]);
      assert_true(b->min == mn[c][bi]);
      assert_true(b->max == mx[c][bi]);
      /* mean: summation order differs, so allow rounding (1e-9 relative) */
      assert_true(fabs(b->mean - sum[c][bi] / (double)cnt[c][bi]) <=
                  1e-9 * fabs(b->mean));
      worst = fmax(worst, fabs(b->mean - sum[c][bi] / (double)cnt[c][bi]));
      total += b->n;
    }
    assert_int_equal(total, 300);
    printf("buckets: %zu buckets over 300 readings, worst mean error %.3g\n",
           l.n, worst);
  }
  /* code filter and limit on the number of buckets */
  q.code = 2;
  q.limit = 3;
  memset(&l, 0, sizeof l);
  assert_int_equal(store_readings_buckets(t, &q, hour, bucket_cb, &l), 0);
  assert_int_equal(l.n, 3);
  for (i = 0; i < l.n; i++)
    assert_int_equal(l.b[i].code, 2);
  assert_int_equal(store_readings_buckets(t, &q, 0, bucket_cb, &l),
                   -VG_EINVAL);
  store_rollback(t);
}

/* ==== transactions ====================================================== */

static void rollback_discards(void **state)
{
  struct env *e = *state;
  struct vg_txn *t = begin(e, VG_TXN_WRITE);
  int64_t pid = new_patient(t, "rb");
  struct vg_reading r = rd(pid, 1, 1, "s", 120);
  struct vg_patient p;
  unsigned char st;
  assert_int_equal(store_readings_insert(t, &r, 1, &st), 0);
  store_rollback(t);
  t = begin(e, VG_TXN_READ);
  assert_int_equal(store_patient_get(t, pid, &p), -VG_ENOTFOUND);
  store_rollback(t);
  assert_int_equal(count_readings(e, pid), 0);
}

static void savepoint_rollback_keeps_rest(void **state)
{
  struct env *e = *state;
  struct vg_txn *t;
  struct vg_patient p;
  int64_t a, b, c, d;
  if (!(store_caps(e->s) & VG_STORE_CAP_SAVEPOINT)) {
    printf("backend %s has no savepoints; case not applicable\n", backend);
    return;
  }
  t = begin(e, VG_TXN_WRITE);
  a = new_patient(t, "sp-a");
  assert_int_equal(store_savepoint(t), 0);
  b = new_patient(t, "sp-b");
  assert_int_equal(store_rollback_to(t), 0); /* b is undone */
  assert_int_equal(store_savepoint(t), 0);
  c = new_patient(t, "sp-c");
  assert_int_equal(store_release(t), 0); /* c is kept */
  /* a failing statement inside a savepoint leaves the txn usable */
  assert_int_equal(store_savepoint(t), 0);
  memset(&p, 0, sizeof p);
  snprintf(p.identifier, sizeof p.identifier, "%s-sp-a", run_tag);
  assert_int_equal(store_patient_create(t, &p), -VG_ECONFLICT);
  assert_int_equal(store_rollback_to(t), 0);
  d = new_patient(t, "sp-d");
  assert_int_equal(store_release(t), -VG_EINVAL); /* none open */
  assert_int_equal(store_commit(t), 0);

  t = begin(e, VG_TXN_READ);
  assert_int_equal(store_patient_get(t, a, &p), 0);
  assert_int_equal(store_patient_get(t, c, &p), 0);
  assert_int_equal(store_patient_get(t, d, &p), 0);
  /* b's id may be reused by c, so look b up by its identifier's absence */
  assert_true(b == c || store_patient_get(t, b, &p) == -VG_ENOTFOUND);
  store_rollback(t);
  {
    struct idlist l;
    size_t i;
    int found_b = 0;
    t = begin(e, VG_TXN_READ);
    memset(&l, 0, sizeof l);
    assert_int_equal(store_patient_list(t, a - 1, 0, patient_ids_cb, &l), 0);
    for (i = 0; i < l.n; i++) {
      assert_int_equal(store_patient_get(t, l.ids[i], &p), 0);
      if (strstr(p.identifier, "-sp-b"))
        found_b = 1;
    }
    store_rollback(t);
    assert_false(found_b);
  }
}

static void durable_after_reopen(void **state)
{
  struct env *e = *state;
  struct vg_txn *t = begin(e, VG_TXN_WRITE);
  int64_t pid = new_patient(t, "dur");
  struct vg_reading r[100];
  unsigned char st[100];
  size_t i;
  for (i = 0; i < 100; i++)
    r[i] = rd(pid, 5, (int64_t)i * 300000, "cgm-1", 90 + (double)i);
  assert_int_equal(store_readings_insert(t, r, 100, st), 0);
  assert_int_equal(store_commit(t), 0);
  reopen(e);
  assert_int_equal(count_readings(e, pid), 100);
}

static void concurrent_read_txns(void **state)
{
  struct env *e = *state;
  struct vg_txn *r1 = begin(e, VG_TXN_READ), *r2 = begin(e, VG_TXN_READ);
  struct vg_txn *w = begin(e, VG_TXN_WRITE);
  struct vg_patient p;
  int64_t id = new_patient(w, "conc");
  /* Reads run beside an open write; uncommitted rows stay invisible. */
  assert_int_equal(store_patient_get(r1, id, &p), -VG_ENOTFOUND);
  assert_int_equal(store_commit(w), 0);
  store_rollback(r1);
  store_rollback(r2);
  r1 = begin(e, VG_TXN_READ);
  assert_int_equal(store_patient_get(r1, id, &p), 0);
  store_rollback(r1);
}

/* ==== fault injection =================================================== */

/* One pass of open, write, read, close. Every call either succeeds or fails
 * with -VG_ESTORE (injected); returns the number of failures seen. */
static int fault_scenario(struct env *e)
{
  struct vg_store *s = NULL;
  struct vg_txn *t = NULL;
  struct vg_patient p;
  struct vg_reading r[3];
  unsigned char st[3];
  struct vg_reading_query q;
  struct rows x;
  struct bucket_list l;
  int rc;

  rc = store_open(&e->cfg, &s);
  if (rc) {
    assert_int_equal(rc, -VG_ESTORE);
    assert_null(s);
    return 1;
  }
  rc = store_begin(s, VG_TXN_WRITE, &t);
  if (rc) {
    assert_int_equal(rc, -VG_ESTORE);
    assert_null(t);
    goto fail;
  }
  memset(&p, 0, sizeof p);
  rc = store_patient_create(t, &p);
  if (rc)
    goto fail_txn;
  r[0] = rd(p.id, 1, 1, "f", 120);
  r[1] = rd(p.id, 2, 1, "f", 80);
  r[2] = rd(p.id, 1, 1, "f", 121);
  rc = store_readings_insert(t, r, 3, st);
  if (rc)
    goto fail_txn;
  assert_int_equal(st[2], VG_INS_DUPLICATE);
  rc = store_savepoint(t);
  if (rc)
    goto fail_txn;
  rc = store_rollback_to(t);
  if (rc)
    goto fail_txn;
  rc = store_commit(t); /* on failure t is already rolled back */
  t = NULL;
  if (rc)
    goto fail;
  rc = store_begin(s, VG_TXN_READ, &t);
  if (rc)
    goto fail;
  q = all_of(p.id);
  memset(&x, 0, sizeof x);
  rc = store_readings_query(t, &q, rows_cb, &x);
  assert_true(rc != 0 || x.n == 2);
  rows_free(&x);
  if (rc)
    goto fail_txn;
  memset(&l, 0, sizeof l);
  rc = store_readings_buckets(t, &q, 1000, bucket_cb, &l);
  if (rc)
    goto fail_txn;
  assert_int_equal(l.n, 2);
  rc = store_patient_get(t, p.id, &p);
  if (rc)
    goto fail_txn;
  store_rollback(t);
  store_close(s);
  return 0;
fail_txn:
  store_rollback(t);
fail:
  assert_int_equal(rc, -VG_ESTORE);
  store_close(s);
  return 1;
}

/* ==== principals, tokens, audit ========================================= */

static void user_create_get_update_conflict(void **state)
{
  struct env *e = *state;
  struct vg_txn *t = begin(e, VG_TXN_WRITE);
  struct vg_user u, v;
  int64_t pid = new_patient(t, "usr");
  memset(&u, 0, sizeof u);
  snprintf(u.username, sizeof u.username, "%s-nurse", run_tag);
  snprintf(u.role, sizeof u.role, "patient");
  snprintf(u.pw_hash, sizeof u.pw_hash, "$argon2id$v=19$m=8,t=1,p=1$x$y");
  u.org_id = 7;
  u.patient_id = pid;
  assert_int_equal(store_user_create(t, &u), 0);
  assert_true(u.id > 0);
  assert_true(u.created_ms > 0);
  memset(&v, 0, sizeof v);
  snprintf(v.username, sizeof v.username, "%s-nurse", run_tag);
  snprintf(v.role, sizeof v.role, "nurse");
  assert_int_equal(store_user_create(t, &v), -VG_ECONFLICT);
  snprintf(v.username, sizeof v.username, "%s-bad", run_tag);
  snprintf(v.role, sizeof v.role, "wizard");
  assert_int_equal(store_user_create(t, &v), -VG_EINVAL);
  assert_int_equal(store_commit(t), 0);

  t = begin(e, VG_TXN_READ);
  assert_int_equal(store_user_get(t, u.id, &v), 0);
  assert_string_equal(v.username, u.username);
  assert_string_equal(v.role, "patient");
  assert_string_equal(v.pw_hash, u.pw_hash);
  assert_int_equal(v.org_id, 7);
  assert_int_equal(v.patient_id, pid);
  assert_int_equal(v.device_id, 0);
  assert_int_equal(v.disabled, 0);
  memset(&v, 0, sizeof v);
  assert_int_equal(store_user_by_name(t, u.username, &v), 0);
  assert_int_equal(v.id, u.id);
  assert_int_equal(store_user_by_name(t, "' OR 1=1 --", &v), -VG_ENOTFOUND);
  assert_int_equal(store_user_get(t, INT64_MAX, &v), -VG_ENOTFOUND);
  /* Writes are refused in a READ transaction. */
  assert_int_equal(store_user_update(t, &u), -VG_EINVAL);
  store_rollback(t);

  t = begin(e, VG_TXN_WRITE);
  u.failed_logins = 3;
  u.locked_until_ms = 123456789;
  u.disabled = 1;
  snprintf(u.scopes, sizeof u.scopes, "patient.read reading.write");
  assert_int_equal(store_user_update(t, &u), 0);
  v = u;
  v.id = INT64_MAX;
  assert_int_equal(store_user_update(t, &v), -VG_ENOTFOUND);
  assert_int_equal(store_commit(t), 0);
  t = begin(e, VG_TXN_READ);
  assert_int_equal(store_user_get(t, u.id, &v), 0);
  assert_int_equal(v.failed_logins, 3);
  assert_int_equal(v.locked_until_ms, 123456789);
  assert_int_equal(v.disabled, 1);
  assert_string_equal(v.scopes, "patient.read reading.write");
  store_rollback(t);
}

static void token_create_lookup_revoke(void **state)
{
  struct env *e = *state;
  struct vg_txn *t = begin(e, VG_TXN_WRITE);
  struct vg_user u;
  struct vg_token k, x;
  int64_t now = vg_now_ms();
  memset(&u, 0, sizeof u);
  snprintf(u.username, sizeof u.username, "%s-api", run_tag);
  snprintf(u.role, sizeof u.role, "client");
  assert_int_equal(store_user_create(t, &u), 0);
  memset(&k, 0, sizeof k);
  /* 64 hex digits, unique per run. */
  snprintf(k.hash, sizeof k.hash, "%.32s%032llx", run_tag,
           (unsigned long long)now);
  memset(k.hash + strlen(k.hash), 'a', sizeof k.hash - 1 - strlen(k.hash));
  k.hash[sizeof k.hash - 1] = '\0';
  k.user_id = u.id;
  snprintf(k.kind, sizeof k.kind, "api");
  snprintf(k.scopes, sizeof k.scopes, "system/*.rs");
  k.expires_ms = now + 3600000;
  assert_int_equal(store_token_create(t, &k), 0);
  assert_true(k.id > 0);
  x = k;
  assert_int_equal(store_token_create(t, &x), -VG_ECONFLICT);
  x.hash[0] = x.hash[0] == 'b' ? 'c' : 'b';
  x.user_id = INT64_MAX;
  assert_int_equal(store_token_create(t, &x), -VG_ENOTFOUND);
  snprintf(x.hash, sizeof x.hash, "short");
  assert_int_equal(store_token_create(t, &x), -VG_EINVAL);
  assert_int_equal(store_commit(t), 0);

  t = begin(e, VG_TXN_READ);
  memset(&x, 0, sizeof x);
  assert_int_equal(store_token_by_hash(t, k.hash, &x), 0);
  assert_int_equal(x.id, k.id);
  assert_int_equal(x.user_id, u.id);
  assert_string_equal(x.kind, "api");
  assert_string_equal(x.scopes, "system/*.rs");
  assert_int_equal(x.expires_ms, k.expires_ms);
  assert_int_equal(x.revoked_ms, 0);
  assert_int_equal(store_token_by_hash(t, "nope", &x), -VG_ENOTFOUND);
  store_rollback(t);

  t = begin(e, VG_TXN_WRITE);
  assert_int_equal(store_token_revoke(t, k.id, now + 5), 0);
  /* Revoking twice: no live token has that id any more. */
  assert_int_equal(store_token_revoke(t, k.id, now + 6), -VG_ENOTFOUND);
  assert_int_equal(store_commit(t), 0);
  t = begin(e, VG_TXN_READ);
  assert_int_equal(store_token_by_hash(t, k.hash, &x), 0);
  assert_int_equal(x.revoked_ms, now + 5);
  store_rollback(t);
}

struct audit_rows {
  struct vg_audit ev[8];
  size_t n;
};

static int audit_rows_cb(void *ctx, const struct vg_audit *ev)
{
  struct audit_rows *x = ctx;
  assert_true(x->n < 8);
  x->ev[x->n++] = *ev;
  return 0;
}

static void audit_append_tail_list(void **state)
{
  struct env *e = *state;
  struct vg_txn *t = begin(e, VG_TXN_WRITE);
  struct vg_audit a, tail;
  struct vg_audit_query q;
  struct audit_rows x;
  int64_t base = 0;
  int i;
  if (store_audit_tail(t, &tail) == 0)
    base = tail.id;
  for (i = 1; i <= 3; i++) {
    memset(&a, 0, sizeof a);
    a.id = base + i;
    a.ts_ms = 1000 * i;
    a.user_id = i == 2 ? 99 : 42;
    snprintf(a.username, sizeof a.username, "%s-doc", run_tag);
    snprintf(a.role, sizeof a.role, "doctor");
    snprintf(a.action, sizeof a.action, "read");
    snprintf(a.resource, sizeof a.resource, "GET /api/v1/patients/{id}");
    a.patient_id = 5000 + i;
    a.outcome = 200;
    snprintf(a.source, sizeof a.source, "127.0.0.1");
    snprintf(a.request_id, sizeof a.request_id, "r-%d", i);
    memset(a.prev_hash, '0' + i - 1, VG_HASH_HEX - 1);
    memset(a.hash, '0' + i, VG_HASH_HEX - 1);
    assert_int_equal(store_audit_append(t, &a), 0);
  }
  assert_int_equal(store_audit_append(t, &a), -VG_ECONFLICT);
  assert_int_equal(store_audit_tail(t, &tail), 0);
  assert_int_equal(tail.id, base + 3);
  assert_int_equal(store_commit(t), 0);

  t = begin(e, VG_TXN_READ);
  memset(&q, 0, sizeof q);
  q.after_id = base;
  memset(&x, 0, sizeof x);
  assert_int_equal(store_audit_list(t, &q, audit_rows_cb, &x), 0);
  assert_int_equal(x.n, 3);
  assert_int_equal(x.ev[0].id, base + 1);
  assert_string_equal(x.ev[1].request_id, "r-2");
  assert_string_equal(x.ev[2].resource, "GET /api/v1/patients/{id}");
  assert_int_equal(x.ev[2].outcome, 200);
  assert_int_equal(x.ev[2].hash[0], '3');
  assert_int_equal(strlen(x.ev[2].prev_hash), VG_HASH_HEX - 1);
  q.user_id = 99;
  memset(&x, 0, sizeof x);
  assert_int_equal(store_audit_list(t, &q, audit_rows_cb, &x), 0);
  assert_int_equal(x.n, 1);
  assert_int_equal(x.ev[0].patient_id, 5002);
  q.user_id = 0;
  q.patient_id = 5003;
  memset(&x, 0, sizeof x);
  assert_int_equal(store_audit_list(t, &q, audit_rows_cb, &x), 0);
  assert_int_equal(x.n, 1);
  q.patient_id = 0;
  q.from_ms = 1500;
  q.to_ms = 3000;
  memset(&x, 0, sizeof x);
  assert_int_equal(store_audit_list(t, &q, audit_rows_cb, &x), 0);
  assert_int_equal(x.n, 1);
  assert_int_equal(x.ev[0].ts_ms, 2000);
  store_rollback(t);
  printf("backend=%s audit events %lld..%lld appended and filtered\n",
         backend, (long long)base + 1, (long long)base + 3);
}

/* store_sql: portable $N SQL with typed columns, out-of-order placeholders,
 * NULLs, change counts, constraint mapping, stop, and the write guard. */
struct sql_rows {
  int n;
  struct vg_val v[4];
  char text[64];
};

static int sql_row(void *ctx, const struct vg_val *cols, size_t n_cols)
{
  struct sql_rows *r = ctx;
  assert_int_equal(n_cols, 4);
  for (size_t i = 0; i < 4; i++)
    r->v[i] = cols[i];
  if (cols[1].type == VG_VAL_TEXT)
    snprintf(r->text, sizeof r->text, "%.*s", (int)cols[1].len, cols[1].s);
  r->v[1].s = r->text;
  return ++r->n >= 2; /* stop after the second row */
}

static void sql_portable_statements(void **state)
{
  struct env *e = *state;
  struct vg_txn *t = begin(e, VG_TXN_WRITE);
  struct sql_rows rows;
  char ident[64];
  int64_t changes = -1, pid;
  const char *ins = "INSERT INTO patient (identifier, name, sex, birth_date, "
                    "tz, created_ms, updated_ms) VALUES ($2, $1, 'F', $3, "
                    "'UTC', $4, $4)";
  const char *sel = "SELECT id, name, birth_date, created_ms FROM patient "
                    "WHERE identifier = $1 OR identifier = $2 ORDER BY id";
  struct vg_val p[4];

  pid = new_patient(t, "sql");
  assert_true(pid > 0);
  snprintf(ident, sizeof ident, "%s-sql1", run_tag);
  p[0] = VG_TEXT("Li Na");
  p[1] = VG_TEXT(ident);
  p[2] = VG_NULLV;
  p[3] = VG_INT(1700000000123LL);
  assert_int_equal(store_sql(t, ins, p, 4, NULL, NULL, &changes), 0);
  assert_int_equal(changes, 1);
  /* the same identifier again: a unique key, mapped to a conflict */
  assert_int_equal(store_sql(t, ins, p, 4, NULL, NULL, NULL), -VG_ECONFLICT);
  /* a parameter the statement does not use is refused */
  assert_int_equal(store_sql(t, sel, p, 3, NULL, NULL, NULL), -VG_EINVAL);

  memset(&rows, 0, sizeof rows);
  p[0] = VG_TEXT(ident);
  p[1] = VG_TEXT("no-such-identifier");
  assert_int_equal(store_sql(t, sel, p, 2, sql_row, &rows, NULL), 0);
  assert_int_equal(rows.n, 1);
  assert_int_equal(rows.v[0].type, VG_VAL_INT);
  assert_true(rows.v[0].i > pid);
  assert_int_equal(rows.v[1].type, VG_VAL_TEXT);
  assert_string_equal(rows.text, "Li Na");
  assert_int_equal(rows.v[2].type, VG_VAL_NULL);
  assert_int_equal(rows.v[3].type, VG_VAL_INT);
  assert_true(rows.v[3].i == 1700000000123LL);

  /* REAL round trip and the callback's stop value */
  {
    const char *rsel = "SELECT patient_id, source, value, ts_ms FROM reading "
                       "WHERE patient_id = $1 ORDER BY ts_ms";
    struct vg_reading r[3];
    unsigned char st[3];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 3; i++) {
      r[i].patient_id = pid;
      r[i].code = 1;
      r[i].ts_ms = 1000 + i;
      r[i].value = 120.25 + i;
      r[i].source = "sql";
      r[i].unit = "";
      r[i].tz_offset_min = 0;
    }
    assert_int_equal(store_readings_insert(t, r, 3, st), 0);
    memset(&rows, 0, sizeof rows);
    p[0] = VG_INT(pid);
    assert_int_equal(store_sql(t, rsel, p, 1, sql_row, &rows, NULL), 1);
    assert_int_equal(rows.n, 2);
    assert_int_equal(rows.v[2].type, VG_VAL_REAL);
    assert_true(rows.v[2].d == 121.25);
  }
  /* an update reports its change count */
  p[0] = VG_TEXT("Li Na 2");
  p[1] = VG_TEXT(ident);
  assert_int_equal(store_sql(t, "UPDATE patient SET name = $1 WHERE "
                             "identifier = $2", p, 2, NULL, NULL, &changes), 0);
  assert_int_equal(changes, 1);
  assert_int_equal(store_commit(t), 0);

  /* a write in a READ transaction is refused before the backend runs it */
  t = begin(e, VG_TXN_READ);
  assert_int_equal(store_sql(t, "DELETE FROM patient WHERE id = $1", p, 1,
                             NULL, NULL, NULL), -VG_EINVAL);
  store_rollback(t);
  printf("backend=%s store_sql: typed columns, $N order, NULL, conflict, "
         "changes, stop: ok\n", backend);
}

static void fault_injection_walk(void **state)
{
  struct env *e = *state;
  size_t base;
  long n;
  int failures = 0;
  store_close(e->s); /* the scenario opens its own */
  e->s = NULL;
  base = vg_alloc_used();
  for (n = 1; n < 200; n++) {
    int f;
    store_fail_nth(n);
    f = fault_scenario(e);
    store_fail_nth(0);
    assert_int_equal(vg_alloc_used(), base); /* nothing leaked */
    if (!f)
      break; /* the nth call was past the scenario's end */
    failures += f;
  }
  assert_true(n < 200);
  assert_int_equal(failures, n - 1);
  /* allocation failures inside store_open are clean too */
  for (n = 1; n < 50; n++) {
    struct vg_store *s = NULL;
    int rc;
    vg_alloc_fail_nth(n);
    rc = store_open(&e->cfg, &s);
    vg_alloc_fail_nth(0);
    if (rc == 0) {
      store_close(s);
      break;
    }
    assert_int_equal(rc, -VG_ENOMEM);
    assert_null(s);
    assert_int_equal(vg_alloc_used(), base);
  }
  assert_int_equal(vg_alloc_used(), base);
  printf("fault injection: %d wrapper calls failed in turn, each cleanly; "
         "%ld allocation points in store_open\n", failures, n - 1);
  assert_int_equal(store_open(&e->cfg, &e->s), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(migrations_idempotent, setup, teardown),
    cmocka_unit_test_setup_teardown(patient_create_get_conflict, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(patient_list_paging, setup, teardown),
    cmocka_unit_test_setup_teardown(device_create_serial_list_conflict, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(readings_insert_duplicates, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(readings_unit_round_trip, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(readings_query_bounds_code_limit, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(readings_keyset_walk, setup, teardown),
    cmocka_unit_test_setup_teardown(readings_buckets_match, setup, teardown),
    cmocka_unit_test_setup_teardown(rollback_discards, setup, teardown),
    cmocka_unit_test_setup_teardown(savepoint_rollback_keeps_rest, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(durable_after_reopen, setup, teardown),
    cmocka_unit_test_setup_teardown(concurrent_read_txns, setup, teardown),
    cmocka_unit_test_setup_teardown(fault_injection_walk, setup, teardown),
    cmocka_unit_test_setup_teardown(user_create_get_update_conflict, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(token_create_lookup_revoke, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(audit_append_tail_list, setup, teardown),
    cmocka_unit_test_setup_teardown(sql_portable_statements, setup, teardown),
  };
  const char *b = getenv("VG_STORE_BACKEND");
  if (b && *b)
    backend = b;
  if (strcmp(backend, "pg") == 0 && !(getenv("VG_PG_URL") &&
                                      *getenv("VG_PG_URL"))) {
    printf("SKIPPED: VG_STORE_BACKEND=pg needs VG_PG_URL\n");
    return 77;
  }
  log_set_level(VG_LOG_ERROR);
  snprintf(run_tag, sizeof run_tag, "t%lld", (long long)vg_now_ms());
  printf("store conformance: backend=%s\n", backend);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
