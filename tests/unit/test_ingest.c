/* test_ingest.c - ingest validation (every reject reason), the result JSON,
 * and commits through a real writer over a temporary SQLite store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "codes.h"
#include "config.h"
#include "core_arena.h"
#include "core_buf.h"
#include "core_errors.h"
#include "core_time.h"
#include "ingest.h"
#include "ingest_bulk.h"
#include "store.h"
#include "store_writer.h"
#include "vg_tmpdir.h"

/* 2025-03-01T00:00:00Z: the fixed clock for the future-time check. */
#define NOW_MS 1740787200000LL

static struct vg_raw_reading good(void)
{
  struct vg_raw_reading r;
  memset(&r, 0, sizeof r);
  r.patient = "123";
  r.patient_len = 3;
  r.code = "sbp";
  r.code_len = 3;
  r.has_t = 1;
  r.t_ms = NOW_MS - 60000;
  r.has_value = 1;
  r.value = 120;
  r.tz_offset_min = VG_TZ_UNKNOWN;
  return r;
}

#define STR(field, s) (r.field = (s), r.field##_len = strlen(s))

static const char *reason_for(struct vg_raw_reading r, int64_t only)
{
  static char out[400];
  struct vg_arena *a = arena_new(0);
  struct vg_ingest_opts o = {NOW_MS, 600000, "api", only};
  struct vg_ingest_batch *b = ingest_batch_new(a, &o);
  struct vg_ingest_result res;
  int rc;
  r.index = 7;
  assert_int_equal(ingest_batch_add(b, &r), 0);
  assert_int_equal(ingest_batch_count(b), 1);
  /* No writer: with nothing valid, commit only reports; a valid reading
   * would need the store, so it gives -VG_EUNAVAIL. */
  rc = ingest_batch_commit(b, NULL, 0, &res);
  assert_int_equal(res.accepted + res.duplicate, 0);
  assert_int_equal(rc, res.n_rejected == 1 ? 0 : -VG_EUNAVAIL);
  if (res.n_rejected == 1) {
    assert_int_equal(res.rejected[0].index, 7);
    snprintf(out, sizeof out, "%s", res.rejected[0].reason);
  } else {
    snprintf(out, sizeof out, "(accepted)");
  }
  arena_free(a);
  return out;
}

static void reject_reasons(void **state)
{
  struct vg_raw_reading r;
  char when[40];
  (void)state;

  r = good();
  r.error = "value is null";
  assert_string_equal(reason_for(r, 0), "malformed: value is null");
  r = good();
  r.patient = NULL;
  assert_string_equal(reason_for(r, 0), "missing patient");
  static const char *bad_ids[] = {"abc", "0", "-5", "1.5", "1e3", "",
                                  "99999999999999999999", " 12", "+12"};
  for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
    char want[120];
    r = good();
    STR(patient, bad_ids[i]);
    snprintf(want, sizeof want, "invalid patient id '%s' (a positive integer)",
             bad_ids[i]);
    assert_string_equal(reason_for(r, 0), want);
  }
  r = good();
  assert_string_equal(reason_for(r, 124),
                      "patient 123 not permitted for this credential");
  assert_string_equal(reason_for(r, 123), "(accepted)");
  r = good();
  r.code = NULL;
  assert_string_equal(reason_for(r, 0), "missing code");
  r = good();
  STR(code, "xyz");
  assert_string_equal(reason_for(r, 0), "unknown code 'xyz'");
  r = good();
  r.has_value = 0;
  assert_string_equal(reason_for(r, 0), "missing value");
  r = good();
  r.value = INFINITY;
  assert_string_equal(reason_for(r, 0), "value is not a finite number");
  r = good();
  STR(unit, "furlong");
  assert_string_equal(reason_for(r, 0), "unit 'furlong' not accepted for sbp");
  r = good();
  r.value = 400;
  assert_string_equal(reason_for(r, 0),
                      "value 400 out of range 40..300 mm[Hg] for sbp");
  r = good();
  r.value = 60;
  STR(unit, "kPa");
  printf("%s\n", reason_for(r, 0));
  assert_string_equal(reason_for(r, 0), "value 60 kPa (= 450.037 mm[Hg]) "
                                        "out of range 40..300 mm[Hg] for sbp");
  r = good();
  STR(time, "2025-03-01T00:00:00Z");
  assert_string_equal(reason_for(r, 0), "both time and t given");
  r = good();
  r.has_t = 0;
  STR(time, "2025-03-01 08:00");
  assert_string_equal(reason_for(r, 0),
                      "invalid time '2025-03-01 08:00' (RFC 3339 with "
                      "offset, e.g. 2025-03-01T08:30:00+08:00)");
  r = good();
  r.has_t = 0;
  STR(time, "2025-03-01T08:00:00"); /* no offset */
  assert_non_null(strstr(reason_for(r, 0), "invalid time"));
  r = good();
  r.has_t = 0;
  assert_string_equal(reason_for(r, 0), "missing time");
  /* future: 600 s allowed, 601 s not */
  r = good();
  r.t_ms = NOW_MS + 600000;
  assert_string_equal(reason_for(r, 0), "(accepted)");
  r.t_ms = NOW_MS + 601000;
  vg_time_format(r.t_ms, VG_TZ_UNKNOWN, when, sizeof when);
  {
    char want[120];
    snprintf(want, sizeof want, "time %s is more than 600 s in the future",
             when);
    assert_string_equal(reason_for(r, 0), want);
    printf("%s\n", want);
  }
  r = good();
  r.has_t = 0;
  STR(time, "2031-01-01T00:00:00+08:00");
  assert_string_equal(reason_for(r, 0), "time 2031-01-01T00:00:00+08:00 is "
                                        "more than 600 s in the future");
  /* accepted variants */
  r = good();
  STR(code, "8480-6"); /* LOINC */
  STR(unit, "mm[Hg]");
  assert_string_equal(reason_for(r, 0), "(accepted)");
  r = good();
  STR(code, "glucose");
  STR(unit, "mmol/L");
  r.value = 5.5;
  assert_string_equal(reason_for(r, 0), "(accepted)");
}

static void result_json(void **state)
{
  struct vg_arena *a = arena_new(0);
  struct vg_ingest_opts o = {NOW_MS, 0, NULL, 0};
  struct vg_ingest_batch *b = ingest_batch_new(a, &o);
  struct vg_ingest_result res;
  struct vg_buf out = VG_BUF_INIT;
  struct vg_raw_reading r = good();
  (void)state;
  STR(code, "a\"b\\c");
  r.index = 0;
  ingest_batch_add(b, &r);
  r = good();
  STR(code, "nope");
  r.index = 3;
  ingest_batch_add(b, &r);
  assert_int_equal(ingest_batch_commit(b, NULL, 0, &res), 0);
  assert_int_equal(ingest_result_json(&res, &out), 0);
  assert_string_equal(out.data,
                      "{\"accepted\":0,\"duplicate\":0,\"rejected\":["
                      "{\"index\":0,\"reason\":\"unknown code 'a\\\"b\\\\c'\"},"
                      "{\"index\":3,\"reason\":\"unknown code 'nope'\"}]}");
  /* atomic with a reject: -VG_EUNPROC without touching any store */
  assert_int_equal(ingest_batch_commit(b, NULL, 1, &res), -VG_EUNPROC);
  assert_int_equal(res.n_rejected, 2);
  buf_reset(&out);
  res.n_rejected = 0;
  res.accepted = 5;
  res.duplicate = 2;
  ingest_result_json(&res, &out);
  assert_string_equal(out.data,
                      "{\"accepted\":5,\"duplicate\":2,\"rejected\":[]}");
  buf_free(&out);
  arena_free(a);
}

static void arena_cap_is_reported(void **state)
{
  struct vg_arena *a = arena_new(8192);
  struct vg_ingest_opts o = {NOW_MS, 0, "api", 0};
  struct vg_ingest_batch *b = ingest_batch_new(a, &o);
  struct vg_raw_reading r = good();
  int rc = 0;
  size_t i;
  (void)state;
  assert_non_null(b);
  for (i = 0; i < 10000 && rc == 0; i++) {
    r.index = i;
    r.t_ms = NOW_MS - (int64_t)i * 1000;
    rc = ingest_batch_add(b, &r);
  }
  printf("arena of 8 KiB full after %zu readings: %s\n", i, vg_strerror(rc));
  assert_int_equal(rc, -VG_ETOOBIG);
  arena_free(a);
}

/* ---- commits through a real writer -------------------------------------- */

struct env {
  char dir[PATH_MAX];
  struct vg_config cfg;
  struct vg_store *s;
  struct vg_writer *w;
  int64_t p1, p2;
};

struct mk {
  int64_t ids[2];
};

static int make_patients(struct vg_txn *t, void *ctx)
{
  struct mk *m = ctx;
  for (int i = 0; i < 2; i++) {
    struct vg_patient p;
    int rc;
    memset(&p, 0, sizeof p);
    snprintf(p.identifier, sizeof p.identifier, "ingest-test-%d", i);
    snprintf(p.name, sizeof p.name, "Test %d", i);
    p.sex = 'U';
    snprintf(p.tz, sizeof p.tz, "UTC");
    rc = store_patient_create(t, &p);
    if (rc)
      return rc;
    m->ids[i] = p.id;
  }
  return 0;
}

static int setup(void **state)
{
  struct env *e = calloc(1, sizeof *e);
  struct mk m;
  if (!e)
    return -1;
  if (vg_tmpdir_make("vgingest", e->dir, sizeof e->dir))
    goto fail;
  config_init(&e->cfg);
  snprintf(e->cfg.db, sizeof e->cfg.db, "%s/vigil.db", e->dir);
  if (store_open(&e->cfg, &e->s))
    goto fail;
  if (writer_start(e->s, NULL, &e->w))
    goto fail;
  if (writer_exec(e->w, 2, make_patients, &m))
    goto fail;
  e->p1 = m.ids[0];
  e->p2 = m.ids[1];
  *state = e;
  return 0;
fail:
  fprintf(stderr, "setup failed in %s\n", e->dir);
  free(e);
  return -1;
}

static int teardown(void **state)
{
  struct env *e = *state;
  writer_stop(e->w);
  store_close(e->s);
  vg_tmpdir_remove(e->dir);
  free(e);
  return 0;
}

/* Parse body (fmt) into a fresh batch and commit it. */
static int ingest_body(struct env *e, enum vg_bulk_format fmt,
                       const char *body, int atomic,
                       struct vg_ingest_result *res, struct vg_buf *json)
{
  struct vg_arena *a = arena_new(0);
  struct vg_ingest_opts o = {NOW_MS, 600000, "api", 0};
  struct vg_ingest_batch *b = ingest_batch_new(a, &o);
  struct vg_bulk_parser *p =
      bulk_parser_new(fmt, 0, ingest_batch_item_cb, b);
  int rc;
  (void)e;
  assert_int_equal(bulk_parser_feed(p, body, strlen(body)), 0);
  assert_int_equal(bulk_parser_finish(p), 0);
  bulk_parser_free(p);
  rc = ingest_batch_commit(b, e->w, atomic, res);
  buf_reset(json);
  ingest_result_json(res, json);
  printf("  -> rc %d %s\n", rc, json->data);
  arena_free(a); /* res points into the arena: callers use json */
  return rc;
}

struct collect {
  size_t n;
  struct vg_reading r[16];
  char src[16][32], unit[16][32];
};

static int collect_cb(void *ctx, const struct vg_reading *r)
{
  struct collect *c = ctx;
  if (c->n < 16) {
    c->r[c->n] = *r;
    snprintf(c->src[c->n], 32, "%s", r->source);
    snprintf(c->unit[c->n], 32, "%s", r->unit);
  }
  c->n++;
  return 0;
}

static size_t stored(struct env *e, int64_t pid, struct collect *c)
{
  struct vg_txn *t;
  struct vg_reading_query q;
  memset(&q, 0, sizeof q);
  memset(c, 0, sizeof *c);
  q.patient_id = pid;
  q.from_ms = INT64_MIN;
  q.to_ms = INT64_MAX;
  assert_int_equal(store_begin(e->s, VG_TXN_READ, &t), 0);
  assert_int_equal(store_readings_query(t, &q, collect_cb, c), 0);
  store_rollback(t);
  return c->n;
}

static void commit_accepts_and_dedups(void **state)
{
  struct env *e = *state;
  struct vg_ingest_result res;
  struct vg_buf js = VG_BUF_INIT;
  struct collect c;
  char body[1024];
  (void)state;
  snprintf(body, sizeof body,
           "{\"readings\":["
           "{\"patient\":%lld,\"code\":\"glucose\",\"time\":"
           "\"2025-02-28T08:00:00+08:00\",\"value\":5.5,\"unit\":\"mmol/L\"},"
           "{\"patient\":\"%lld\",\"code\":\"sbp\",\"t\":1740700000000,"
           "\"value\":131,\"source\":\"cuff-9\"},"
           "{\"patient\":%lld,\"code\":\"sbp\",\"t\":1740700000000,"
           "\"value\":131,\"source\":\"cuff-9\"},"
           "{\"patient\":%lld,\"code\":\"sbp\",\"t\":1740700000000,"
           "\"value\":999}]}",
           (long long)e->p1, (long long)e->p1, (long long)e->p1,
           (long long)e->p1);
  /* 2 new, 1 duplicate of an earlier item in the same batch, 1 reject */
  assert_int_equal(ingest_body(e, VG_BULK_JSON, body, 0, &res, &js), 0);
  assert_non_null(strstr(js.data, "\"accepted\":2,\"duplicate\":1,"));
  assert_non_null(strstr(js.data, "{\"index\":3,\"reason\":\"value 999 out "
                                  "of range 40..300 mm[Hg] for sbp\"}"));
  assert_int_equal(stored(e, e->p1, &c), 2);
  /* stored canonical: 5.5 mmol/L -> 99.088 mg/dL (x18.016), unit as sent,
   * default source, offset kept */
  assert_int_equal(c.r[0].code, VG_CODE_SBP);
  assert_string_equal(c.src[0], "cuff-9");
  assert_int_equal(c.r[1].code, VG_CODE_GLUCOSE);
  assert_true(fabs(c.r[1].value - 5.5 * 18.016) < 1e-9);
  assert_string_equal(c.unit[1], "mmol/L");
  assert_string_equal(c.src[1], "api");
  assert_int_equal(c.r[1].tz_offset_min, 480);
  assert_int_equal(c.r[1].ts_ms, 1740700800000LL);
  /* the same body again: all duplicates, nothing new */
  assert_int_equal(ingest_body(e, VG_BULK_JSON, body, 0, &res, &js), 0);
  assert_non_null(strstr(js.data, "\"accepted\":0,\"duplicate\":3,"));
  assert_int_equal(stored(e, e->p1, &c), 2);
  buf_free(&js);
}

static void commit_unknown_patient_and_atomic(void **state)
{
  struct env *e = *state;
  struct vg_ingest_result res;
  struct vg_buf js = VG_BUF_INIT;
  struct collect c;
  char body[1024], want[200];
  int64_t ghost = e->p2 + 1000;
  snprintf(body, sizeof body,
           "{\"patient\":%lld,\"code\":\"hr\",\"t\":1740000000000,"
           "\"value\":60}\n"
           "{\"patient\":%lld,\"code\":\"hr\",\"t\":1740000000000,"
           "\"value\":61}\n"
           "{\"patient\":%lld,\"code\":\"hr\",\"t\":1740000000000,"
           "\"value\":6000}\n"
           "{\"patient\":%lld,\"code\":\"hr\",\"t\":1740000001000,"
           "\"value\":62}\n",
           (long long)e->p2, (long long)ghost, (long long)e->p2,
           (long long)ghost);
  /* atomic: the unknown patients make it 422 and nothing is stored */
  assert_int_equal(ingest_body(e, VG_BULK_NDJSON, body, 1, &res, &js),
                   -VG_EUNPROC);
  assert_int_equal(stored(e, e->p2, &c), 0);
  /* not atomic: one stored; rejects in index order, merged */
  assert_int_equal(ingest_body(e, VG_BULK_NDJSON, body, 0, &res, &js), 0);
  snprintf(want, sizeof want,
           "{\"accepted\":1,\"duplicate\":0,\"rejected\":["
           "{\"index\":1,\"reason\":\"unknown patient %lld\"},"
           "{\"index\":2,\"reason\":\"value 6000 out of range 20..300 /min "
           "for hr\"},"
           "{\"index\":3,\"reason\":\"unknown patient %lld\"}]}",
           (long long)ghost, (long long)ghost);
  assert_string_equal(js.data, want);
  assert_int_equal(stored(e, e->p2, &c), 1);
  assert_true(c.r[0].value == 60);
  buf_free(&js);
}

/* Parse body (NDJSON) into a fresh batch in arena a, not committed. */
static struct vg_ingest_batch *parsed(struct vg_arena *a, const char *body)
{
  struct vg_ingest_opts o = {NOW_MS, 600000, "api", 0};
  struct vg_ingest_batch *b = ingest_batch_new(a, &o);
  struct vg_bulk_parser *p = bulk_parser_new(VG_BULK_NDJSON, 0,
                                             ingest_batch_item_cb, b);
  assert_int_equal(bulk_parser_feed(p, body, strlen(body)), 0);
  assert_int_equal(bulk_parser_finish(p), 0);
  bulk_parser_free(p);
  return b;
}

/* ingest_batches_commit: four batches, one writer job, each its own
 * result; then a store fault inside the shared job fails every batch that
 * needed the store and stores nothing. */
static void commit_several_batches(void **state)
{
  struct env *e = *state;
  struct vg_arena *a[4];
  struct vg_ingest_batch *b[4];
  struct vg_ingest_result res[4];
  struct vg_writer_stats before, after;
  struct vg_buf js = VG_BUF_INIT;
  struct collect c;
  char body[4][400];
  int rcs[4], rc;
  int64_t ghost = e->p2 + 1000;
  size_t n1, n2;

  n1 = stored(e, e->p1, &c);
  n2 = stored(e, e->p2, &c);
  /* 0: new for p1; 1: only a validation reject; 2: p2 + unknown patient;
   * 3: the same reading as 0 (committed earlier in the same job) */
  snprintf(body[0], sizeof body[0], "{\"patient\":%lld,\"code\":\"hr\","
           "\"t\":1740100000000,\"value\":70,\"source\":\"m-1\"}",
           (long long)e->p1);
  snprintf(body[1], sizeof body[1], "{\"patient\":%lld,\"code\":\"hr\","
           "\"t\":1740100000000,\"value\":7000}", (long long)e->p1);
  snprintf(body[2], sizeof body[2], "{\"patient\":%lld,\"code\":\"hr\","
           "\"t\":1740100000000,\"value\":71}\n{\"patient\":%lld,\"code\":"
           "\"hr\",\"t\":1740100000000,\"value\":72}\n", (long long)ghost,
           (long long)e->p2);
  snprintf(body[3], sizeof body[3], "%s", body[0]);
  for (int i = 0; i < 4; i++) {
    a[i] = arena_new(0);
    b[i] = parsed(a[i], body[i]);
  }
  writer_stats(e->w, &before);
  rc = ingest_batches_commit(b, 4, e->w, res, rcs);
  writer_stats(e->w, &after);
  printf("  4 batches: rc %d, writer jobs +%llu\n", rc,
         (unsigned long long)(after.jobs - before.jobs));
  assert_int_equal(rc, 0);
  assert_int_equal(after.jobs - before.jobs, 1);
  for (int i = 0; i < 4; i++) {
    buf_reset(&js);
    ingest_result_json(&res[i], &js);
    printf("  batch %d: rc %d %s\n", i, rcs[i], js.data);
    assert_int_equal(rcs[i], 0);
  }
  assert_int_equal(res[0].accepted, 1);
  assert_int_equal(res[0].n_rejected, 0);
  assert_int_equal(res[1].accepted + res[1].duplicate, 0);
  assert_int_equal(res[1].n_rejected, 1);
  assert_int_equal(res[2].accepted, 1);
  assert_int_equal(res[2].n_rejected, 1);
  assert_int_equal(res[2].rejected[0].index, 0);
  assert_non_null(strstr(res[2].rejected[0].reason, "unknown patient"));
  assert_int_equal(res[3].accepted, 0);
  assert_int_equal(res[3].duplicate, 1);
  assert_int_equal(stored(e, e->p1, &c), n1 + 1);
  assert_int_equal(stored(e, e->p2, &c), n2 + 1);
  for (int i = 0; i < 4; i++)
    arena_free(a[i]);

  /* a store fault in the shared job: all or nothing */
  snprintf(body[0], sizeof body[0], "{\"patient\":%lld,\"code\":\"hr\","
           "\"t\":1740200000000,\"value\":70}", (long long)e->p1);
  snprintf(body[2], sizeof body[2], "{\"patient\":%lld,\"code\":\"hr\","
           "\"t\":1740200000000,\"value\":70}", (long long)e->p2);
  snprintf(body[3], sizeof body[3], "{\"patient\":%lld,\"code\":\"hr\","
           "\"t\":1740200001000,\"value\":70}", (long long)e->p2);
  for (int i = 0; i < 4; i++) {
    a[i] = arena_new(0);
    b[i] = parsed(a[i], body[i]);
  }
  store_fail_nth(4);
  rc = ingest_batches_commit(b, 4, e->w, res, rcs);
  store_fail_nth(0);
  printf("  with a store fault: rc %d (%s), per batch %d %d %d %d\n", rc,
         vg_strerror(rc), rcs[0], rcs[1], rcs[2], rcs[3]);
  assert_true(rc < 0);
  assert_int_equal(rcs[0], rc);
  assert_int_equal(rcs[1], 0); /* never needed the store */
  assert_int_equal(res[1].n_rejected, 1);
  assert_int_equal(rcs[2], rc);
  assert_int_equal(rcs[3], rc);
  assert_int_equal(stored(e, e->p1, &c), n1 + 1);
  assert_int_equal(stored(e, e->p2, &c), n2 + 1);
  for (int i = 0; i < 4; i++)
    arena_free(a[i]);
  /* zero batches: nothing to do */
  assert_int_equal(ingest_batches_commit(b, 0, e->w, res, rcs), 0);
  buf_free(&js);
}

static void commit_series(void **state)
{
  struct env *e = *state;
  struct vg_ingest_result res;
  struct vg_buf js = VG_BUF_INIT;
  struct collect c;
  char body[512];
  snprintf(body, sizeof body,
           "{\"values\":[110,112,null,2000,115],\"patient\":%lld,"
           "\"code\":\"cgm\",\"start\":\"2025-02-20T00:00:00+01:00\","
           "\"interval_ms\":300000,\"source\":\"cgm-7\"}",
           (long long)e->p2);
  assert_int_equal(ingest_body(e, VG_BULK_JSON, body, 0, &res, &js), 0);
  assert_non_null(strstr(js.data, "\"accepted\":3,\"duplicate\":0,"));
  assert_non_null(strstr(js.data, "\"index\":2,\"reason\":\"malformed: "
                                  "value is null\""));
  assert_non_null(strstr(js.data, "\"index\":3,\"reason\":\"value 2000 out"));
  stored(e, e->p2, &c);
  {
    size_t k = 0;
    for (size_t i = 0; i < c.n && i < 16; i++) {
      if (c.r[i].code != VG_CODE_CGM)
        continue;
      assert_string_equal(c.src[i], "cgm-7");
      assert_int_equal(c.r[i].tz_offset_min, 60);
      k++;
    }
    assert_int_equal(k, 3);
  }
  buf_free(&js);
}

static void commit_throughput(void **state)
{
  struct env *e = *state;
  const size_t n = 50000;
  struct vg_buf body = VG_BUF_INIT, js = VG_BUF_INIT;
  struct vg_ingest_result res;
  int64_t t0, t1;
  (void)state;
  buf_puts(&body, "{\"readings\":[");
  for (size_t i = 0; i < n; i++)
    buf_printf(&body,
               "%s{\"patient\":%lld,\"code\":\"rri\",\"t\":%lld,"
               "\"value\":%zu}",
               i ? "," : "", (long long)(i % 2 ? e->p1 : e->p2),
               1730000000000LL + (long long)i * 1000, 600 + i % 400);
  buf_puts(&body, "]}");
  t0 = vg_mono_ns();
  assert_int_equal(ingest_body(e, VG_BULK_JSON, body.data, 0, &res, &js), 0);
  t1 = vg_mono_ns();
  assert_non_null(strstr(js.data, "\"accepted\":50000,\"duplicate\":0,"));
  printf("parse+validate+commit of %zu readings: %.1f ms = %.0f readings/s "
         "(sanitizer build)\n",
         n, (double)(t1 - t0) / 1e6, (double)n / ((double)(t1 - t0) / 1e9));
  buf_free(&body);
  buf_free(&js);
}

int main(void)
{
  const struct CMUnitTest pure[] = {
      cmocka_unit_test(reject_reasons),
      cmocka_unit_test(result_json),
      cmocka_unit_test(arena_cap_is_reported),
  };
  const struct CMUnitTest store[] = {
      cmocka_unit_test(commit_accepts_and_dedups),
      cmocka_unit_test(commit_unknown_patient_and_atomic),
      cmocka_unit_test(commit_series),
      cmocka_unit_test(commit_several_batches),
      cmocka_unit_test(commit_throughput),
  };
  int rc = cmocka_run_group_tests_name("ingest", pure, NULL, NULL);
  rc += cmocka_run_group_tests_name("ingest_commit", store, setup, teardown);
  return rc;
}
